"""A later answer to the same request (keywords -> phrases sends its sentences as they finish) must not throw a
scanning patient out of the candidate row while the candidate they are on stays where it is."""
from __future__ import annotations

from dataclasses import replace

from myovox.events import GestureDecision
from myovox.interact import SuggestionsReady
from myovox.interact import boards as B
from myovox.interact.machine import CELLS, ROWS, SCAN, Highlight
from myovox.language.api import Candidate

from .helpers import make


def _on_phrases_board(m):
    st = m.state
    m.state = replace(st, content=replace(st.content, board=B.PHRASES_BOARD, labels=("pain", "leg")))
    return m._refresh(m.state, m.state.now)[0]


def _answer(m, req, *texts):
    m.handle(SuggestionsReady(req.request_id, tuple(Candidate(t, 2.0 - i / 10, "llm") for i, t in enumerate(texts)),
                              m.state.now))


def test_a_row_that_grows_keeps_the_scan_on_its_candidate_and_one_that_changes_it_does_not():
    m = make(SCAN, prediction="phrases")
    req = _on_phrases_board(m)
    _answer(m, req, "My leg hurts.", "pain, leg")
    row = next(i for i, r in enumerate(m.rows(m.state)) if r and r[0].kind == B.CANDIDATE)
    m.state = replace(m.state, highlight=Highlight(CELLS, row, 0))  # the patient entered the row: on "My leg hurts."
    _answer(m, req, "My leg hurts.", "My leg is in pain.", "pain, leg")  # a sentence more, after it
    assert m.state.highlight == Highlight(CELLS, row, 0)
    assert [c.text for c in m.state.choices][:2] == ["My leg hurts.", "My leg is in pain."]
    _answer(m, req, "I have pain in my leg.", "My leg hurts.", "pain, leg")  # a better one in its place
    assert m.state.highlight == Highlight(ROWS, row)  # back to the rows, as before


def test_the_patients_own_keywords_are_labelled_and_picked_without_the_label():
    """The keywords line ("typed") reads "your words: pain, leg" on the board, so nobody takes it for a sentence the
    model wrote; picking it puts only the words into the message. A model sentence carries no label."""
    from myovox.interact import Selected
    m = make(SCAN, prediction="phrases")
    req = _on_phrases_board(m)
    m.handle(SuggestionsReady(req.request_id, (Candidate("My leg hurts.", 2.0, "llm"), Candidate("pain, leg", 0.0, "typed")),
                              m.state.now))
    row = next(r for r in m.rows(m.state) if r and r[0].kind == B.CANDIDATE)
    assert [c.caption for c in row] == ["My leg hurts.", "your words: pain, leg"]
    assert [c.value for c in row] == ["My leg hurts.", "pain, leg"]
    ri = next(i for i, r in enumerate(m.rows(m.state)) if r and r[0].kind == B.CANDIDATE)
    m.state = replace(m.state, highlight=Highlight(CELLS, ri, 1))
    select = next(label for label, role in m.config.roles.items() if role == "select")
    out = m.handle(GestureDecision(select, 1.0, m.state.now))
    assert any(isinstance(e, Selected) for e in out)
    assert "your words" not in m.state.content.message
    assert "pain, leg" in m.state.content.message
