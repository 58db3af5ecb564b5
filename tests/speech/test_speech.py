"""Speech with the real espeak-ng: WAVs are written by it and reopened with `wave`."""
from __future__ import annotations

import os
import sys
import threading
import wave

import pytest

from myovox.speech import (EspeakNgProcessVoice, Pyttsx3Voice, SavedToFile, SpeechFailed, SpeechWorker, Spoken,
                           check_wav)

MESSAGE = "Please turn me onto my left side"


@pytest.fixture
def worker():
    w = SpeechWorker()
    yield w
    w.close()
    w.join()


def _frames(path):
    with wave.open(str(path), "rb") as f:
        assert f.getnchannels() == 1 and f.getsampwidth() == 2 and f.getframerate() > 0
        return f.getnframes()


def test_espeak_ng_is_installed_and_the_default_backend(worker):
    assert worker.backend == "espeak-ng"
    assert worker.status.available, worker.status.message


def test_save_to_file_writes_a_valid_wav_with_the_text(worker, tmp_path):
    wav = tmp_path / "msg.wav"
    rid = worker.save_to_file(MESSAGE, wav)
    ev = worker.events.get()
    assert isinstance(ev, SavedToFile), ev
    assert (ev.request_id, ev.text, ev.wav_path) == (rid, MESSAGE, wav)
    assert _frames(wav) == ev.frames > 0
    assert 0.5 < ev.audio_s < 10.0  # a seven-word sentence, not a click and not a runaway


def test_longer_text_gives_longer_audio(worker, tmp_path):
    worker.save_to_file("yes", tmp_path / "a.wav")
    worker.save_to_file("yes, and please call my daughter this evening", tmp_path / "b.wav")
    a, b = worker.events.get(), worker.events.get()
    assert b.frames > 2 * a.frames


def test_rate_setting_changes_the_speed(worker, tmp_path):
    worker.set_rate(100)
    worker.save_to_file(MESSAGE, tmp_path / "slow.wav")
    worker.set_rate(300)
    worker.save_to_file(MESSAGE, tmp_path / "fast.wav")
    slow, fast = worker.events.get(), worker.events.get()
    assert slow.frames > 1.8 * fast.frames


def test_rate_out_of_bounds_is_refused(worker):
    for bad in (10, 1000, 150.5, True, "fast"):
        with pytest.raises(ValueError):
            worker.set_rate(bad)


def test_voice_setting_is_used_and_an_unknown_voice_fails_keeping_the_text(worker, tmp_path):
    worker.set_voice("fr")
    worker.save_to_file("bonjour", tmp_path / "fr.wav")
    assert isinstance(worker.events.get(), SavedToFile)
    worker.set_voice("nosuchvoice")  # ("no-such-voice" resolves to Norwegian!)
    rid = worker.save_to_file(MESSAGE, tmp_path / "x.wav")
    ev = worker.events.get()
    assert isinstance(ev, SpeechFailed) and ev.request_id == rid and ev.text == MESSAGE
    assert "voice does not exist" in ev.message and ev.message.endswith("the message stays on screen")


def test_unwritable_path_fails_keeping_the_text_and_the_worker_goes_on(worker, tmp_path):
    # espeak-ng 1.51 exits 0 here; the failure is read from stderr and the missing file.
    rid = worker.save_to_file(MESSAGE, tmp_path / "no-such-dir" / "x.wav")
    ev = worker.events.get()
    assert isinstance(ev, SpeechFailed) and ev.request_id == rid and ev.text == MESSAGE
    worker.save_to_file(MESSAGE, tmp_path / "ok.wav")
    assert isinstance(worker.events.get(), SavedToFile)


def test_text_starting_with_dashes_is_spoken_not_parsed_as_options(worker, tmp_path):
    worker.save_to_file("--help me please", tmp_path / "dash.wav")
    ev = worker.events.get()
    assert isinstance(ev, SavedToFile) and ev.frames > 0


def test_missing_espeak_ng_says_speech_is_off_and_keeps_the_text(tmp_path):
    w = SpeechWorker(EspeakNgProcessVoice(binary=str(tmp_path / "espeak-ng")))  # not there
    try:
        assert not w.status.available
        assert "espeak-ng is not installed" in w.status.message
        rid = w.say(MESSAGE)
        ev = w.events.get()
        assert ev == SpeechFailed(rid, MESSAGE, "not-installed", w.status.message)
        assert ev.message.startswith("speech is off") and ev.message.endswith("the message stays on screen")
    finally:
        w.close()
        w.join()


@pytest.mark.skipif(os.path.exists("/dev/snd") or "PULSE_SERVER" in os.environ,
                    reason="this machine has an audio device; saying aloud can succeed here")
def test_saying_aloud_without_an_audio_device_is_reported_as_a_failure(worker):
    rid = worker.say(MESSAGE)
    ev = worker.events.get()
    assert isinstance(ev, SpeechFailed), ev
    assert ev.text == MESSAGE and ev.request_id == rid and "espeak-ng says" in ev.message


def test_enqueueing_never_waits_for_the_voice(tmp_path):
    """While the worker is busy (held inside its event callback), the caller can still queue work."""
    release, busy = threading.Event(), threading.Event()

    def listener(ev):
        busy.set()
        release.wait()

    w = SpeechWorker(on_event=listener)
    try:
        w.save_to_file("first", tmp_path / "1.wav")
        busy.wait()  # the worker is now stuck in the listener
        rid = w.save_to_file("second", tmp_path / "2.wav")  # must return although the worker is stuck
        assert rid == 2 and w.events.qsize() == 1
        release.set()
        assert [type(w.events.get()) for _ in range(2)] == [SavedToFile, SavedToFile]
    finally:
        release.set()
        w.close()
        w.join()


def test_a_failing_listener_does_not_stop_speech(tmp_path):
    def listener(ev):
        raise RuntimeError("UI bug")

    w = SpeechWorker(on_event=listener)
    try:
        w.save_to_file("one", tmp_path / "1.wav")
        w.save_to_file("two", tmp_path / "2.wav")
        assert [type(w.events.get()) for _ in range(2)] == [SavedToFile, SavedToFile]
    finally:
        w.close()
        w.join()


def test_after_close_requests_fail_with_their_text():
    w = SpeechWorker()
    w.close()
    w.join()
    rid = w.say(MESSAGE)
    ev = w.events.get()
    assert isinstance(ev, SpeechFailed) and ev.reason == "closed" and ev.text == MESSAGE and ev.request_id == rid


def test_empty_message_is_not_sent_to_the_voice(worker):
    worker.say("   ")
    ev = worker.events.get()
    assert isinstance(ev, SpeechFailed) and ev.reason == "empty"


def test_check_wav_rejects_a_truncated_file(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00")
    with pytest.raises(Exception) as e:
        check_wav(bad)
    assert "not a valid WAV" in str(e.value)


# --- pyttsx3 (not the default backend; kept usable and checked) ----------------------------------

def test_pyttsx3_backend_writes_a_valid_wav_from_the_worker_thread(tmp_path):
    w = SpeechWorker(Pyttsx3Voice(rate_wpm=160))
    try:
        assert w.status.available, w.status.message
        w.save_to_file(MESSAGE, tmp_path / "p.wav")
        ev = w.events.get()
        assert isinstance(ev, SavedToFile), ev
        assert _frames(tmp_path / "p.wav") == ev.frames > 0
        # pyttsx3 2.99 swallows this error in a ctypes callback; the reopened-WAV check catches it.
        w.save_to_file(MESSAGE, tmp_path / "no-such-dir" / "p.wav")
        ev = w.events.get()
        assert isinstance(ev, SpeechFailed) and ev.text == MESSAGE
    finally:
        w.close()
        w.join()


def test_pyttsx3_missing_says_speech_is_off(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyttsx3", None)  # makes `import pyttsx3` raise ImportError
    w = SpeechWorker(Pyttsx3Voice())
    try:
        assert not w.status.available and "pyttsx3 is not installed" in w.status.message
        w.say(MESSAGE)
        ev = w.events.get()
        assert isinstance(ev, SpeechFailed) and ev.text == MESSAGE and ev.reason == "not-installed"
    finally:
        w.close()
        w.join()
