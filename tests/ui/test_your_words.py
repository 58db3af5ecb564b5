"""The keywords line in the patient view: the patient reads "your words: pain, leg", not a bare line that looks
like a sentence the model wrote."""
from __future__ import annotations

from dataclasses import replace

from myovox.interact import Speller, SpellerConfig, SuggestionsReady, Tick, default_roles
from myovox.interact import boards as B
from myovox.interact.machine import DIRECT
from myovox.language.api import Candidate

from .helpers import shown_patient_view


def test_the_keywords_line_is_labelled_on_screen(qtbot):
    m = Speller(SpellerConfig(DIRECT, default_roles(["flex", "extend", "fist", "open"], DIRECT), prediction="phrases"))
    m.handle(Tick(0.0))
    st = m.state
    m.state = replace(st, content=replace(st.content, board=B.PHRASES_BOARD, labels=("pain", "leg")))
    req = m._refresh(m.state, m.state.now)[0]
    m.handle(SuggestionsReady(req.request_id, (Candidate("My leg hurts.", 2.0, "llm"), Candidate("pain, leg", 0.0, "typed")),
                              m.state.now))
    view = shown_patient_view(qtbot)
    view.render(m)
    shown = [lab.text() for row in view._cells for lab in row]
    assert "your words: pain, leg" in shown
    assert "My leg hurts." in shown
    assert not any(t.startswith("your words") and "hurts" in t for t in shown)
