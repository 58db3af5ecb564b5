"""The ambiguous keyboard in the patient view: digit keys stand in for the four gestures and type a phrase."""
from __future__ import annotations

from PySide6.QtCore import Qt

from myovox.events import GestureDecision
from myovox.interact import RequestSuggestions, Speak, Speller, SpellerConfig, SuggestionsReady, default_roles
from myovox.interact.machine import GROUPS
from myovox.language.suggester import LanguageSuggester

from .helpers import shown_patient_view

GESTURES = ["fist", "open", "flex", "extend"]


def test_a_phrase_typed_with_keys_through_the_groups_mode(qtbot):
    speller = Speller(SpellerConfig(GROUPS, default_roles(GESTURES, GROUPS)))
    lang = LanguageSuggester()  # word list + n-gram: the same reading the bedside gets without the model
    view = shown_patient_view(qtbot)
    spoken: list[str] = []
    clock = [0.0]

    def gesture(number: int) -> None:
        clock[0] += 1.0
        out = speller.handle(GestureDecision(GESTURES[number - 1], 0.95, clock[0]))
        for req in [o for o in out if isinstance(o, RequestSuggestions)]:
            cands = lang.read_groups(*req.query, speller.layout, req.context)
            out += speller.handle(SuggestionsReady(req.request_id, tuple(cands), clock[0]))
        spoken.extend(o.text for o in out if isinstance(o, Speak))
        view.render(speller)

    view.digit_pressed.connect(gesture)
    view.render(speller)
    keys_row = view._cells[1]
    assert [lab.text().split("\n")[1] for lab in keys_row] == ["(fist)", "(open)", "(flex)", "(extend)"]
    assert keys_row[0].text().split("\n")[0] == speller.layout.caption(0)  # the letters, large, on the key
    for word in ("i", "want", "water"):
        for ch in word:
            qtbot.keyClick(view, Qt.Key_1 + speller.layout.key_of(ch))
        assert view.message.text().split()[-1] == word
        assert keys_row_text(view)[3] == "space"  # the control gesture ends the word
        qtbot.keyClick(view, Qt.Key_4)
    assert view.message.text() == "i want water "
    qtbot.keyClick(view, Qt.Key_4)  # the controls
    assert keys_row_text(view)[:3] == ["speak", "other word", "undo"]
    qtbot.keyClick(view, Qt.Key_1)  # speak: asks again
    assert spoken == [] and keys_row_text(view)[0] == "SAY IT"
    qtbot.keyClick(view, Qt.Key_1)
    assert spoken == ["i want water"] and view.message.text() == "…"


def keys_row_text(view) -> list[str]:
    return [lab.text().split("\n")[0] for lab in view._cells[1]]
