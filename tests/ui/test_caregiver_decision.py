"""The caregiver reads each attempt's decision: what, how sure, how long after the onset, and why it took longer."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from myovox.events import NOT_CONFIRMED, REST_LABEL, UNCONFIRMED_START, GestureDecision  # noqa: E402
from myovox.ui.caregiver_panel import CaregiverPanel  # noqa: E402


def test_the_panel_names_the_decision_its_latency_and_a_rest_like_start(qtbot):
    panel = CaregiverPanel()
    qtbot.addWidget(panel)
    panel.show_decision(GestureDecision("fist", 0.97, 1.0, latency_s=0.245, windows=2, reason="decisive", top="fist"))
    assert panel.decision.text() == "decision: fist (0.97), 245 ms after onset, 2 windows"
    late = GestureDecision("fist", 0.96, 1.0, latency_s=1.12, windows=19, reason="decisive, after a rest-like start",
                           top="fist")
    panel.show_decision(late)
    assert "1120 ms after onset, 19 windows; the burst began rest-like" in panel.decision.text()
    panel.show_decision(GestureDecision(None, 0.9, 1.0, latency_s=0.6, windows=9, reason="burst end, after a rest-like start",
                                        top=REST_LABEL))
    assert panel.decision.text().startswith("decision: no action (looked like rest), 600 ms after onset")
    panel.show_decision(GestureDecision(None, 0.62, 1.0, latency_s=0.495, windows=7, reason="max length", top="open"))
    assert panel.decision.text() == "decision: no action (unsure: open at 0.62), 495 ms after onset, 7 windows"


def test_the_panel_says_when_the_classical_check_held_a_decision_back(qtbot):
    panel = CaregiverPanel()
    qtbot.addWidget(panel)
    panel.show_decision(GestureDecision(None, 0.98, 1.0, latency_s=0.6, windows=12,
                                        reason="burst end" + NOT_CONFIRMED + UNCONFIRMED_START, top="pronation"))
    text = panel.decision.text()
    assert text.startswith("decision: no action (pronation at 0.98, but the classical check disagreed)")
    assert "the classical check disagreed at first, so it was watched longer" in text
    panel.show_decision(GestureDecision("fist", 0.97, 1.0, latency_s=0.4, windows=8,
                                        reason="decisive" + UNCONFIRMED_START, top="fist"))
    assert panel.decision.text().startswith("decision: fist (0.97), 400 ms after onset, 8 windows; the classical check")
