"""Random gesture streams never crash the speller and never make it speak without a speak selection."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myovox.events import GestureDecision
from myovox.interact import Selected, Speak, SuggestionsReady, Tick
from myovox.interact import boards as B
from myovox.interact.machine import DIRECT, GROUPS, LIKELY, SCAN, SPLIT, STEP
from myovox.language.api import Candidate

from .helpers import GESTURES, make

MODES = {SCAN: ["pinch"], STEP: ["brow", "jaw", "blink"], DIRECT: ["a", "b", "c", "d", "e", "f", "g"],
         GROUPS: ["a", "b", "c", "d", "e", "f", "g"], LIKELY: ["pinch"], SPLIT: ["a", "b", "c", "d"]}

event = st.one_of(
    st.tuples(st.just("gesture"), st.integers(0, 8), st.floats(0, 3)),  # index past the labels: None / unknown
    st.tuples(st.just("tick"), st.floats(0, 3), st.just(0.0)),
    st.tuples(st.just("answer"), st.integers(0, 40), st.lists(st.text(max_size=12), max_size=6)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mode=st.sampled_from([SCAN, STEP, DIRECT, GROUPS, LIKELY, SPLIT]), prediction=st.sampled_from(["off", "words", "phrases"]),
       events=st.lists(event, max_size=120))
def test_random_streams_never_crash_nor_speak_unasked(mode, prediction, events):
    if mode == GROUPS and prediction == "off":
        prediction = "words"  # the keyboard needs its language layer
    m = make(mode, prediction, MODES[mode])
    labels = MODES[mode] + [None, "unknown gesture"]
    roles = m.config.roles
    t = 0.0
    speak_selections = speeches = 0
    for kind, a, b in events:
        before = m.message
        if kind == "gesture":
            t += b
            label = labels[a % len(labels)]
            out = m.handle(GestureDecision(label, 0.5, t))
        elif kind == "tick":
            t += a
            out = m.handle(Tick(t))
        else:
            out = m.handle(SuggestionsReady(a, tuple(Candidate(x, 1.0, "llm") for x in b), t))
        spoken = [o for o in out if isinstance(o, Speak)]
        asked = [o for o in out if isinstance(o, Selected) and o.kind == B.SPEAK]
        if spoken:
            assert kind == "gesture" and asked, "spoke without a speak selection"
            assert roles.get(label) in {GROUPS: ("key1",), SPLIT: ("group1",)}.get(mode, ("select", "speak"))
            assert len(spoken) == 1 and spoken[0].text == " ".join(before.split()) and spoken[0].text
        speak_selections += len(asked)
        speeches += len(spoken)
        assert 0 <= m.state.highlight.row < len(m.rows()) or (mode == SPLIT and m.state.highlight.row == -1)
        if m.state.highlight.level == "cells":
            assert 0 <= m.state.highlight.col < len(m.row_cells(m.state.highlight.row))
        m.highlighted()  # always something on screen to draw
    assert speeches <= speak_selections
