"""The clinician's progression report, built by the CLI from sessions the replayed real clip produced through
the whole bedside chain (three sessions, the clip's fists at 100 / 85 / 70 %: a weakening muscle)."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from myovox.cli import main
from myovox.report.demo import record_demo_sessions
from myovox.report.progression import (
    calibration_point, load_calibrations, load_sessions, session_point, span_words, summary,
)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("report-home")
    made = record_demo_sessions(home, patient="P01", strengths=(1.0, 0.85, 0.7), decisions=3)
    assert made == [3, 3, 3]
    return home


def test_report_from_three_replayed_sessions(home, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", "--patient", "P01", "--home", str(home), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    page = (out / "index.html").read_text()
    for png in ("calibration_trend.png", "channels.png", "calibration_outcomes.png", "sessions.png"):
        assert (out / png).stat().st_size > 10_000 and f'src="{png}"' in page
    cals = load_calibrations(home / "data", "P01")
    sessions = load_sessions(home / "logs", "P01")
    assert len(cals) == 3 and len(sessions) == 3
    # the clip's fists were scaled to 100 / 85 / 70 %: the calibrations and the sessions both see it
    fist = [sum(c.amplitude["fist"]) / len(c.amplitude["fist"]) for c in cals]
    assert fist[0] > fist[1] > fist[2] and fist[2] / fist[0] == pytest.approx(0.7, abs=0.05)
    amp = [sum(s.burst_amplitude) / len(s.burst_amplitude) for s in sessions]
    assert amp[0] > amp[1] > amp[2]
    rest = [sum(s.rest_noise) / len(s.rest_noise) for s in sessions]
    assert max(rest) / min(rest) < 1.1  # rest was not scaled
    assert all(s.attempts == s.acted + s.no_action and s.attempts >= 3 for s in sessions)
    assert all(c.accuracy["fist"] >= 0.9 and c.false_activation is not None for c in cals)
    assert "fist weakened 30 %" in page and "consider re-assigning &#x27;select&#x27;" in page
    assert "fist weakened 30 %" in printed
    assert page.count("<tr>") == 1 + 3 + 1 + 3  # a header and three rows in each table


def test_sessions_of_other_patients_are_left_out(home):
    assert load_sessions(home / "logs", "P02") == []
    assert load_calibrations(home / "data", "P02") == []
    assert summary([], []) == ["No calibration and no session of this patient were found."]


def _cal(created, amp, acc, rest_row):
    return calibration_point({
        "created": created, "profile": "myo", "labels": ["wrist extension", "rest"],
        "per_gesture_accuracy": {"wrist extension": acc, "rest": 1.0},
        "confusion": [[8, 0, 2], rest_row], "reliable": ["wrist extension"] if acc >= 0.9 else [],
        "channel_patterns": {"wrist extension": [float(__import__("math").log(amp))] * 2, "rest": [0.0, 0.0]},
    })


def test_summary_words_name_the_weakened_gesture_its_role_and_the_span():
    first = _cal("2026-10-01T10:00:00", 10.0, 0.95, [0, 9, 1])
    last = _cal("2026-10-29T10:00:00", 7.0, 0.8, [1, 9, 0])
    assert first.outcomes["wrist extension"] == pytest.approx((0.8, 0.2, 0.0))
    assert last.false_activation == pytest.approx(0.1)
    words = summary([first, last], [])
    assert words[0] == "wrist extension weakened 30 % over 4 weeks; consider re-assigning 'select'."
    assert any("80 %" in w and "'select'" in w for w in words)
    assert span_words(datetime(2026, 1, 1), datetime(2026, 1, 3)) == "2 days"


def test_a_session_log_cut_by_a_crash_still_counts(tmp_path):
    recs = [{"event": "session-start", "wall": "2026-11-01T10:00:00+00:00", "patient": "P01", "profile": "myo"},
            {"event": "gesture", "t": 10.0, "latency_s": 0.2, "confidence": 0.9, "accepted": True},
            {"event": "undo", "t": 20.0},
            {"event": "gesture", "t": 70.0, "latency_s": 0.3, "confidence": 0.5, "accepted": False}]
    p = session_point(recs)
    assert (p.attempts, p.acted, p.no_action, p.undone, p.correct) == (2, 1, 1, 1, 0)
    assert p.minutes == pytest.approx(1.0) and p.attempts_per_minute == pytest.approx(2.0)
    assert p.words_per_minute is None and p.rest_noise is None
    path = tmp_path / "logs" / "session-1.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(json.dumps(r) for r in recs) + '\n{"event": "gest')  # the last record half-written
    assert len(load_sessions(tmp_path / "logs", "P01")) == 1
