"""Faults that could cost the patient's words: the voice, the journal, kill -9, SIGTERM, unreadable files,
and the privacy of what is kept (0600 files in 0700 folders)."""
from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from myovox.bedside.app import Bedside
from myovox.interact import boards as B
from myovox.profiles import find_profile

from .conftest import (GUARD_MS, Pusher, SEEN, assert_kept, compose, no_exception_text, open_app, visible,
                       wait_visible)

import myovox  # noqa: E402

APP = str(Path(myovox.__file__).resolve().parents[1])  # the children run the same tree as this test


def direct(bedside):
    s = bedside.session
    s.speller.config = replace(s.speller.config, mode="direct")


def activate(window, kind):
    """Caregiver keys (direct mode) move to the first cell of `kind` and select it (and its confirmation)."""
    sp = window.bedside.session.speller
    for _ in range(3):
        rows = sp.rows()
        r = next(i for i, row in enumerate(rows) if any(c.kind == kind for c in row))
        while sp.state.highlight.level == "cells":
            window.key_gesture("key-back")
        while sp.state.highlight.row != r:
            window.key_gesture("key-next")
        window.key_gesture("key-select")
        col = next(j for j, c in enumerate(sp.row_cells(r)) if c.kind == kind)
        for _ in range(col):
            window.key_gesture("key-next")
        window.key_gesture("key-select")
        if not any(c.kind == kind and c.value == B.SPEAK_CONFIRM for row in sp.rows() for c in row):
            return


def session_records(home):
    out = []
    for f in sorted((Path(home) / "logs").glob("session-*.jsonl")):
        out.extend(json.loads(line) for line in f.read_text().splitlines() if line.strip())
    return out


def test_speech_without_a_sound_device(qtbot, tmp_path, no_sound_device):
    """Real espeak-ng with no audio device: the failure is a notice until the voice works, the session log
    says speech_ok false, and the words come back into the message instead of vanishing."""
    bedside, window = open_app(qtbot, tmp_path, start=False)
    direct(bedside)
    assert bedside.speech is not None and bedside.speech.status.available  # installed; it is the device that fails
    text = compose(bedside, window, "call my wife")
    t0 = time.monotonic()
    activate(window, B.SPEAK)
    wait_visible(qtbot, window, "speech", "speech failed", "speech: no sound device", t0)
    assert_kept(bedside, window, "call my wife")  # back in the message, on screen and in the journal
    window.caregiver.ack_all_button.click()  # seen by the caregiver: a failure that needs a fix stays
    assert visible(window, "speech", "speech failed")
    bedside.close()
    spoken = [r for r in session_records(tmp_path) if r["event"] == "spoken"]
    assert spoken and spoken[-1]["speech_ok"] is False and "text" not in spoken[-1]
    assert text == "call my wife"


def test_speech_works_again_and_the_notice_goes(qtbot, tmp_path, no_sound_device):
    bedside, window = open_app(qtbot, tmp_path, start=False)
    direct(bedside)
    compose(bedside, window, "yes")
    activate(window, B.SPEAK)
    qtbot.waitUntil(lambda: visible(window, "speech", "speech failed"), timeout=GUARD_MS)
    bedside.speech.save_to_file("yes", tmp_path / "yes.wav")  # the voice itself works: a real success event
    qtbot.waitUntil(lambda: "speech" not in bedside.session.notices, timeout=GUARD_MS)
    assert bedside.session.speller.message == "yes"
    window.close()


def test_espeak_ng_missing(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    bedside, window = open_app(qtbot, tmp_path, start=False)
    direct(bedside)
    wait_visible(qtbot, window, "speech", "not installed", "speech: espeak-ng missing")
    compose(bedside, window, "water")
    activate(window, B.SPEAK)
    qtbot.waitUntil(lambda: bedside.session.speller.message == "water", timeout=GUARD_MS)
    assert visible(window, "speech", "not installed")
    window.close()


def test_no_journal_is_a_warning_that_stays(qtbot, tmp_path, monkeypatch):
    """The data folder cannot be made (a file stands where it should be): the app runs, says so, and the
    warning stays until it is fixed, whatever else happens (the stream connecting, an acknowledgement)."""
    scratch = tmp_path / "x"
    scratch.mkdir()
    (scratch / "myovox").write_text("not a folder")
    for var, sub in (("XDG_DATA_HOME", "x"), ("XDG_CONFIG_HOME", "c"), ("XDG_STATE_HOME", "s"),
                     ("XDG_CACHE_HOME", "k")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.delenv("MYOVOX_HOME", raising=False)
    stream = f"myovox-fault-{os.getpid()}-journal"
    p = Pusher(stream)
    bedside, window = open_app(qtbot, None, f"name='{stream}'")
    try:
        assert bedside.journal is None
        wait_visible(qtbot, window, "journal", "could not be opened", "journal: data folder unusable")
        qtbot.waitUntil(lambda: bedside.session.status is not None and bedside.session.status.state == "connected",
                        timeout=GUARD_MS)
        window.caregiver.ack_all_button.click()
        window.tick()
        assert visible(window, "journal", "could not be opened")
        assert "not being saved" in window.patient.notice.text()
        direct(bedside)
        compose(bedside, window, "hello")
        assert bedside.session.speller.message == "hello"
    finally:
        p.close()
        window.close()


def test_corrupt_settings_notice_survives_the_stream_connecting(qtbot, tmp_path, stream_name):
    cfg = tmp_path / "config"
    cfg.mkdir(parents=True)
    (cfg / "settings.json").write_text('{"scan_period_s": 1.2, "voice": "en-us", "speech_rate_wpm": ')
    p = Pusher(stream_name)
    bedside, window = open_app(qtbot, tmp_path, f"name='{stream_name}'")
    try:
        wait_visible(qtbot, window, "settings", "could not be read", "corrupt settings.json")
        qtbot.waitUntil(lambda: bedside.session.status is not None and bedside.session.status.state == "connected",
                        timeout=GUARD_MS)
        window.tick()
        assert visible(window, "settings", "could not be read")  # "connected" no longer wipes it
        assert bedside.settings.scan_period_s == 1.0
        window.caregiver.notice_list.setCurrentRow(0)
        window.caregiver.ack_button.click()  # acknowledged: gone
        assert "settings" not in bedside.session.notices
    finally:
        p.close()
        window.close()


def test_start_up_notices_are_all_kept(qtbot, tmp_path):
    """Several problems at once at start: every one is listed, none replaces another."""
    cfg = tmp_path / "config"
    cfg.mkdir(parents=True)
    (cfg / "settings.json").write_text('{"voice": "en-uss"}')
    data = tmp_path / "data"
    data.mkdir()
    from myovox.session.journal import _encode

    (data / "journal.log").write_bytes(_encode({"m": "i want tea"}) + b"deadbeef {broken\n")
    bedside, window = open_app(qtbot, tmp_path, start=False)
    keys = {n.key for n in bedside.session.notices.active()}
    assert {"settings", "journal-damaged", "restored"} <= keys, keys
    assert window.caregiver.notice_list.count() == len(keys)
    assert "restored" in window.patient.notice.text()
    assert bedside.session.speller.message == "i want tea"
    window.close()


def test_unknown_voice_is_refused(qtbot, tmp_path):
    cfg = tmp_path / "config"
    cfg.mkdir(parents=True)
    from myovox.session.settings import Settings

    (cfg / "settings.json").write_text(json.dumps(replace(Settings(), voice="en-uss").to_dict()))
    bedside, window = open_app(qtbot, tmp_path, start=False)
    wait_visible(qtbot, window, "voice", "no voice 'en-uss'", "voice 'en-uss' saved")
    window.voice.setText("../../etc/passwd")
    window.apply_settings()
    assert "voice not changed" in window.settings_message.text()
    assert bedside.settings.voice == "en-uss"  # not replaced by the path; the notice says what is used
    window.close()


def test_restored_message_gets_candidates_without_a_selection(qtbot, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    from myovox.session.journal import _encode

    (data / "journal.log").write_bytes(_encode({"m": "i need wat"}))
    bedside, window = open_app(qtbot, tmp_path)
    assert bedside.session.speller.message == "i need wat"
    qtbot.waitUntil(lambda: bool(bedside.session.speller.state.choices), timeout=GUARD_MS)
    window.close()


def test_clinician_apply_keeps_the_language_model_settings(qtbot, tmp_path):
    cfg = tmp_path / "config"
    cfg.mkdir(parents=True)
    from myovox.session.settings import Settings

    (cfg / "settings.json").write_text(json.dumps(replace(Settings(), llm_server_url="http://10.0.0.5:8080").to_dict()))
    bedside, window = open_app(qtbot, tmp_path, start=False)
    window.apply_settings()  # nothing edited
    assert bedside.settings.llm_server_url == "http://10.0.0.5:8080"
    again = json.loads((cfg / "settings.json").read_text())
    assert again["llm_server_url"] == "http://10.0.0.5:8080"
    window.close()


def test_patient_files_are_private(qtbot, tmp_path):
    """Journal, phrase memory, calibration, settings and session log: 0600 files in 0700 folders, checked on disk."""
    from myovox.bedside.setup import demo_calibration
    from myovox.stream.replay import DEMO_CLIP

    home = tmp_path / "home"
    old = os.umask(0o022)
    try:
        bedside, window = open_app(qtbot, home, start=False, speech=False)
        direct(bedside)
        compose(bedside, window, "thank you")
        activate(window, B.SPEAK)  # the phrase memory learns (and saves) it
        cal = demo_calibration(bedside.session.decoder, find_profile("myo"), DEMO_CLIP)
        runner = bedside.calibration_runner()  # the app's own runner: it makes the patient's folder 0700
        runner.save(cal)
        bedside.update_settings({"scan_period_s": 1.2})  # settings.json written
        window.close()
    finally:
        os.umask(old)
    files = {"journal": home / "data" / "journal.log", "phrase memory": home / "data" / "phrase_memory.json",
             "calibration": runner.path(), "settings": home / "config" / "settings.json"}
    files.update({f"log {p.name}": p for p in (home / "logs").glob("session-*.jsonl")})
    assert len(files) >= 4
    for what, f in files.items():
        assert f.is_file(), what
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, (what, oct(f.stat().st_mode))
        d = f.parent
        while d != home:
            assert stat.S_IMODE(d.stat().st_mode) == 0o700, (what, d, oct(d.stat().st_mode))
            d = d.parent


CHILD = textwrap.dedent("""
    import sys
    from dataclasses import replace
    from myovox.bedside.app import Bedside
    from myovox.profiles import find_profile
    bedside = Bedside(find_profile("myo"), home=sys.argv[1], use_llm=False, speech=False, acquisition=False)
    s = bedside.session
    from myovox.interact.machine import Content
    for text in ("h", "he", "hel", "help me"):
        s.speller.state = replace(s.speller.state, content=Content(message=text))
        s.journal.set_message(text)
    print("composed:", s.speller.message, flush=True)
    import time
    time.sleep(600)
""")


def test_kill_9_restores_the_message(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=APP)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().startswith("composed: help me")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    bedside = Bedside(find_profile("myo"), home=tmp_path, use_llm=False, speech=False, acquisition=False)
    try:
        assert bedside.session.speller.message == "help me"
        assert "restored" in bedside.session.notices
    finally:
        bedside.close()


def _run_app(tmp_path, *args, env_extra=None):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=APP, **(env_extra or {}))
    return subprocess.Popen([sys.executable, "-m", "myovox", "run", "--no-llm", "--home", str(tmp_path), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_sigterm_closes_the_session_log(tmp_path):
    """A service stop: the app quits the normal way, exit 0, and the session log gets its session-end."""
    child = _run_app(tmp_path)
    try:
        guard = time.monotonic() + 120  # liveness guard only
        while not list((tmp_path / "logs").glob("session-*.jsonl")) and child.poll() is None \
                and time.monotonic() < guard:
            time.sleep(0.1)  # the session log opens as the window is built
        time.sleep(1.5)  # into the event loop (a signal before it is handled too)
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err[-2000:]
    events = [r["event"] for r in session_records(tmp_path)]
    assert events[0] == "session-start" and events[-1] == "session-end", events
    assert "Traceback" not in err


def test_broken_clinic_profile_gives_a_message_not_a_traceback(tmp_path):
    clinic = tmp_path / "profiles"
    clinic.mkdir()
    (clinic / "myo.toml").write_text("[device\nchannels = 8\n")
    child = _run_app(tmp_path / "home", env_extra={"MYOVOX_PROFILES": str(clinic)})
    out, err = child.communicate(timeout=120)
    assert child.returncode == 2, (out, err)
    assert "Traceback" not in err and "myo.toml" in out + err


def test_saved_device_profile_is_used_with_stream(tmp_path):
    """`myovox run --stream ...` without --profile starts with the saved device profile, not Myo."""
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    from myovox.session.settings import Settings

    (home / "config" / "settings.json").write_text(
        json.dumps(replace(Settings(), device_profile="trigno_maize_grid").to_dict()))
    child = _run_app(home, "--stream", f"name='myovox-none-{os.getpid()}'", "--seconds", "2")
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err[-2000:]
    assert "device profile 'trigno_maize_grid'" in out, out
