"""The session log is content-free by default: counts and timings on disk, never the words."""
from __future__ import annotations

import json

import pytest

from myovox.session import SessionLog

MESSAGES = ["Turn off the light please", "Call Margaret tomorrow morning"]


def _compose(log: SessionLog, t0: float) -> float:
    """Two messages letter by letter on the stream clock; returns the end time."""
    t = t0
    for msg in MESSAGES:
        typed = ""
        for ch in msg:
            t += 2.0
            log.gesture(t, onset_t=t - 0.25, confidence=0.93, accepted=True, label="fist")
            typed += ch
            log.selection(t, kind="letter", inserted_chars=1, text=typed)
        log.gesture(t + 0.5, onset_t=t + 0.2, confidence=0.41, accepted=False, label="pinch")
        log.undo(t + 1.0)
        t += 2.0
        log.spoken(t, msg, speech_ok=False)
    return t


def _words():
    return {w.lower() for m in MESSAGES for w in m.split()}


def test_default_log_holds_no_composed_word(tmp_path):
    with SessionLog(tmp_path / "s.jsonl") as log:
        _compose(log, 100.0)
    text = (tmp_path / "s.jsonl").read_text().lower()
    leaked = [w for w in _words() | {"fist", "pinch"} if w in text]
    assert leaked == []
    records = [json.loads(line) for line in text.splitlines()]
    assert {r["event"] for r in records} >= {"session-start", "gesture", "selection", "undo", "spoken", "session-end"}
    spoken = [r for r in records if r["event"] == "spoken"]
    assert [(r["chars"], r["words"]) for r in spoken] == [(len(m), len(m.split())) for m in MESSAGES]


def test_content_is_logged_only_when_switched_on(tmp_path):
    with SessionLog(tmp_path / "s.jsonl", log_content=True) as log:
        _compose(log, 0.0)
    text = (tmp_path / "s.jsonl").read_text().lower()
    assert all(w in text for w in _words())
    assert '"content_logged": true' in text


def test_summary_figures(tmp_path):
    with SessionLog(tmp_path / "s.jsonl") as log:
        end = _compose(log, 0.0)
        s = log.summary()
    chars = sum(map(len, MESSAGES))
    assert (s.gestures, s.rejected, s.selections, s.undos) == (chars, 2, chars, 2)
    assert (s.messages_spoken, s.characters_spoken) == (2, chars)
    # each message: first selection 2 s after the previous speak, then 2 s per letter, spoken 2 s later
    assert s.composition_s == pytest.approx(sum(2.0 * len(m) for m in MESSAGES))
    assert s.words_per_minute == pytest.approx((chars / 5) / (s.composition_s / 60))
    assert s.latency_median_s == pytest.approx(0.25) and s.latency_p95_s == pytest.approx(0.25)
    last = json.loads((tmp_path / "s.jsonl").read_text().splitlines()[-1])
    assert last["event"] == "session-end" and last["characters_spoken"] == chars


def test_nothing_spoken_gives_no_words_per_minute(tmp_path):
    with SessionLog(tmp_path / "s.jsonl") as log:
        log.undo(1.0)
        assert log.summary().words_per_minute is None


def test_default_location_honours_myovox_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MYOVOX_HOME", str(tmp_path))
    with SessionLog.open_default() as log:
        assert log.path.parent == tmp_path / "logs"
    assert (log.path.stat().st_mode & 0o777) == 0o600


def test_signal_figures_for_the_report_are_logged_without_labels(tmp_path):
    """Rest noise, per-burst amplitude per channel and the end-of-session aggregate: numbers only by default."""
    path = tmp_path / "s.jsonl"
    with SessionLog(path, patient="P01", profile="myo") as log:
        log.rest(10.0, [1.5, 2.0], samples=600)
        log.burst(12.0, 0.8, 140.0, (0, 1), [30.0, 40.0])
        log.gesture(12.3, onset_t=12.0, confidence=0.95, accepted=True, label="fist")
        log.burst(20.0, 0.6, 90.0, (1,), [10.0, 20.0])
        log.gesture(20.2, onset_t=20.0, confidence=0.5, accepted=False, label="pinch")
    text = path.read_text()
    assert "fist" not in text and "pinch" not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert records[0]["patient"] == "P01" and records[0]["profile"] == "myo"
    assert [r["noise"] for r in records if r["event"] == "rest"] == [[1.5, 2.0]]
    assert [r["amplitude"] for r in records if r["event"] == "burst"] == [[30.0, 40.0], [10.0, 20.0]]
    agg = next(r for r in records if r["event"] == "gesture-summary")["gestures"]
    assert agg == {"acted": {"attempts": 1, "confidence_median": 0.95, "amplitude_median": [30.0, 40.0]},
                   "no action": {"attempts": 1, "confidence_median": 0.5, "amplitude_median": [10.0, 20.0]}}


def test_with_content_on_the_aggregate_is_per_gesture(tmp_path):
    path = tmp_path / "s.jsonl"
    with SessionLog(path, log_content=True) as log:
        log.burst(1.0, 0.5, 100.0, (0,), [5.0])
        log.gesture(1.2, onset_t=1.0, confidence=0.9, accepted=True, label="fist")
    agg = next(json.loads(line) for line in path.read_text().splitlines() if '"gesture-summary"' in line)["gestures"]
    assert agg == {"fist": {"attempts": 1, "confidence_median": 0.9, "amplitude_median": [5.0]}}
