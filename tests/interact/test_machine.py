"""The speller's behaviour: modes, no-action decisions, onset-locked scanning, candidates, undo, speak."""
from __future__ import annotations

from collections import deque

import pytest

from myovox.events import GestureDecision
from myovox.interact import (
    CallForHelp, ScanTiming, Selected, Speak, Speller, SpellerConfig, Tick, default_roles, mode_for,
)
from myovox.interact import boards as B
from myovox.interact.machine import CELLS, DIRECT, GROUPS, SCAN, STEP

from .helpers import ROLE_ACTIONS, act, make


def activate(m, kind, value="", suggester=None):
    """Reach and activate one cell by the fewest actions (breadth-first on copies); returns the outputs."""
    queue = deque([(m.clone(), [])])
    seen = set()
    while queue:
        cur, path = queue.popleft()
        for action in ROLE_ACTIONS[m.config.mode]:
            c = cur.clone()
            out = act(c, action)
            sel = [o for o in out if isinstance(o, Selected)]
            if sel:
                if sel[0].kind == kind and (not value or sel[0].value == value):
                    outs = []
                    for a in path + [action]:
                        outs += act(m, a, suggester)
                    return outs
                continue
            h = c.state.highlight
            k = (h.level, h.row, h.col, h.cycles, h.rank)
            if k not in seen:
                seen.add(k)
                queue.append((c, path + [action]))
    raise AssertionError(f"cannot reach {kind} {value!r}")


def test_mode_from_reliable_gestures():
    assert [mode_for(n) for n in (1, 2, 3, 4, 6)] == [SCAN, STEP, STEP, GROUPS, GROUPS]
    with pytest.raises(ValueError):
        mode_for(0)


def test_caregiver_names_gestures_and_missing_roles_are_refused():
    m = Speller(SpellerConfig(DIRECT, {"eyebrow": "next", "jaw": "select", "thumb": "previous", "toe": "back"}))
    assert m.config.roles["jaw"] == "select"
    with pytest.raises(ValueError, match="needs a gesture"):
        SpellerConfig(STEP, {"jaw": "select"})
    with pytest.raises(ValueError, match="unknown gesture roles"):
        SpellerConfig(SCAN, {"jaw": "shout"})


def test_scan_timing_out_of_bounds_falls_back_to_defaults():
    t = ScanTiming.from_settings({"period_s": 0.01, "first_dwell": "x", "cycles_before_exit": 3})
    assert t.period_s == ScanTiming.period_s and t.first_dwell == ScanTiming.first_dwell and t.cycles_before_exit == 3


@pytest.mark.parametrize("mode", [SCAN, STEP, DIRECT])
def test_no_action_and_unknown_gestures_change_nothing(mode):
    m = make(mode)
    before = m.state
    assert m.handle(GestureDecision(None, 0.3, 0.0)) == []
    assert m.handle(GestureDecision("sneeze", 0.99, 0.0)) == []
    assert m.state.highlight == before.highlight and m.state.content == before.content


def test_scan_selects_what_was_lit_when_the_burst_began():
    m = Speller(SpellerConfig(SCAN, {"pinch": "select"}, prediction="off", timing=ScanTiming(period_s=1.0, first_dwell=1.0)))
    m.handle(Tick(0.0))
    m.handle(Tick(1.0))  # row 0 (HELP) -> row 1 (the control row) at t = 1.0
    assert m.state.highlight.row == 1
    m.handle(Tick(2.05))  # moves on to row 2 at t = 2.0 while the decoder was still deciding
    assert m.state.highlight.row == 2
    m.handle(GestureDecision("pinch", 0.9, 1.9))  # ... about a burst that began at 1.9, on row 1
    assert m.state.highlight == m.state.highlight.__class__(CELLS, 1, 0)


def test_scan_leaves_an_unanswered_row_and_restarts_at_help():
    m = Speller(SpellerConfig(SCAN, {"pinch": "select"}, prediction="off",
                              timing=ScanTiming(period_s=1.0, first_dwell=1.0, cycles_before_exit=1)))
    m.handle(Tick(0.0))
    m.handle(Tick(1.0))
    m.handle(GestureDecision("pinch", 0.9, 1.2))  # into row 1
    n = len(m.row_cells(1))
    m.handle(Tick(1.2 + n + 0.01))
    assert m.state.highlight.level == "rows" and m.state.highlight.row == 0
    out = m.handle(GestureDecision("pinch", 0.9, m.state.now))
    assert any(isinstance(o, CallForHelp) for o in out)


@pytest.mark.parametrize("mode", [SCAN, STEP, DIRECT])
def test_letters_word_candidate_and_explicit_speak(mode, suggester):
    m = make(mode)
    activate(m, B.LETTER, "t", suggester)
    assert m.message == "t"
    assert [c.text for c in m.state.choices] == ["the", "to", "water"]
    activate(m, B.CANDIDATE, "the", suggester)
    assert m.message == "the "
    spoken = [o for o in activate(m, B.SPEAK, "", suggester) if isinstance(o, Speak)]
    if mode == STEP:  # stepping asks for a second selection in a row
        assert spoken == [] and m.state.speak_armed and m.highlighted().caption == "say it? select again"
        spoken = [o for o in act(m, "select", suggester) if isinstance(o, Speak)]
    assert [s.text for s in spoken] == ["the"]
    assert m.message == "" and m.state.conversation == ("the",) and not m.state.speak_armed


def test_tiles_are_labels_for_the_language_layer_and_a_phrase_goes_into_the_message(suggester):
    m = make(DIRECT)
    activate(m, B.TO_PHRASES, "", suggester)
    activate(m, B.TILE, "water", suggester)
    activate(m, B.TILE, "cold", suggester)
    assert m.state.content.labels == ("water", "cold") and m.message == ""
    assert ("phrases", ("water", "cold")) in suggester.asked
    activate(m, B.CANDIDATE, "I want water cold", suggester)
    assert m.message == "I want water cold " and m.state.content.labels == ()


def test_abbreviation_is_asked_when_llm_phrases_are_on(suggester):
    m = make(DIRECT, prediction="phrases")
    for ch in "iws":
        activate(m, B.LETTER, ch, suggester)
    assert ("abbreviation", "iws") in suggester.asked
    activate(m, B.CANDIDATE, "i want some water", suggester)
    assert m.message == "i want some water "


def test_stale_suggestions_are_ignored(suggester):
    from myovox.interact import RequestSuggestions, SuggestionsReady
    from myovox.language.api import Candidate

    m = make(DIRECT)
    first = [o for o in activate(m, B.LETTER, "a") if isinstance(o, RequestSuggestions)]
    activate(m, B.LETTER, "b")
    m.handle(SuggestionsReady(first[0].request_id, (Candidate("apple", 1.0, "ngram"),)))
    assert m.state.choices == ()


@pytest.mark.parametrize("mode", [SCAN, STEP, DIRECT])
def test_undo_restores_the_previous_message_exactly(mode, suggester):
    m = make(mode)
    script = [(B.LETTER, "t"), (B.CANDIDATE, "the"), (B.SPACE, ""), (B.LETTER, "e"), (B.DELETE, ""),
              (B.TO_PHRASES, ""), (B.TILE, "water"), (B.CANDIDATE, "I want water"), (B.CLEAR, ""),
              (B.TO_LETTERS, ""), (B.LETTER, "o"), (B.SPEAK, "")]
    contents = [m.state.content]
    for kind, value in script:
        activate(m, kind, value, suggester)
        if m.state.speak_armed:
            act(m, "select", suggester)  # step mode: the confirming selection
        contents.append(m.state.content)
    assert contents[-2].message == "o" and contents[-1].message == ""
    while len(contents) > 1:
        contents.pop()
        activate(m, B.UNDO, "", suggester)
        assert m.state.content == contents[-1]  # message, labels and board, exactly
    assert m.state.content.message == "" and not m.state.history
    activate(m, B.UNDO, "", suggester)  # nothing left to undo: harmless
    assert m.state.content == contents[0]


def test_default_roles_give_extra_gestures_shortcuts():
    assert default_roles(["a"]) == {"a": "select"}
    assert default_roles(["a", "b", "c"]) == {"a": "next", "b": "select", "c": "undo"}
    assert set(default_roles(list("abcdef"), DIRECT).values()) == {"next", "select", "previous", "back", "undo", "speak"}
    assert list(default_roles(list("abcdef")).values()) == ["key1", "key2", "key3", "control", "undo", "speak"]


@pytest.mark.parametrize("mode", [STEP, DIRECT])
def test_a_stray_select_right_after_a_selection_never_calls_for_help(mode, suggester):
    """With two or four gestures a step misread as "select" is the commonest error: where the highlight
    rests after every selection, that misreading must not call for help (it may only enter a row)."""
    m = make(mode)
    for kind, value in ((B.LETTER, "t"), (B.LETTER, "e"), (B.SPACE, ""), (B.DELETE, "")):
        activate(m, kind, value, suggester)
        assert m.state.highlight.row != 0  # not on HELP
        stray = m.clone()
        out = act(stray, "select", suggester)
        assert not any(isinstance(o, CallForHelp) for o in out)


def test_in_step_mode_a_single_misread_select_on_speak_does_not_speak(suggester):
    m = make(STEP)
    activate(m, B.LETTER, "t", suggester)
    activate(m, B.SPEAK, "", suggester)  # e.g. a "next" misread as "select" while passing SPEAK
    assert m.state.speak_armed and m.message == "t"
    assert act(m, "next", suggester) == []  # the patient's next step cancels: nothing was said
    assert not m.state.speak_armed and m.message == "t"
    assert m.highlighted().caption != "say it? select again"
