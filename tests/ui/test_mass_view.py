"""The probability-mass modes in the patient view: digit keys stand in for the gestures and type a phrase.

The test reads the screen as a patient would: it looks for the word it wants (else the next letter)
in the rows drawn, presses the digit of that row (split) or, in the likely scan, presses when that row
is lit and lets the clock run otherwise; then it says the phrase through the confirmation."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from myovox.events import GestureDecision
from myovox.interact import RequestSuggestions, Speak, Speller, SpellerConfig, SuggestionsReady, Tick, default_roles
from myovox.interact.machine import LIKELY, SPLIT
from myovox.language.api import next_letters
from myovox.language.suggester import LanguageSuggester

from .helpers import shown_patient_view

TARGET = "i am cold"


def wanted(view, message: str) -> tuple[str, str]:
    """(what to look for, how): the next word if a cell offers it whole, else its next letter; then speak."""
    if message == TARGET + " ":
        return "speak", "cell"
    cells = [lab.text() for row in view._cells for lab in row]
    done = message.rsplit(" ", 1)[0] + " " if " " in message else ""
    rest = TARGET[len(done):]
    word = rest.split(" ")[0]
    if word in cells and word != message[len(done):]:
        return word, "cell"
    nxt = TARGET[len(message)] if len(message) < len(TARGET) else " "
    return ("_" if nxt == " " else nxt), "letter"


def row_of(view, what: str, how: str) -> int:
    for r, row in enumerate(view._cells):
        for lab in row:
            text = lab.text()
            if how == "cell" and (text == what or text.split("\n")[0] == what):
                return r
            if how == "letter" and lab.property("kind") == "letter" and what in text.split(" "):
                return r
    raise AssertionError(f"{what!r} is on no row: {[[lab.text() for lab in row] for row in view._cells]}")


@pytest.mark.parametrize("mode,gestures", [(SPLIT, ["brow", "jaw"]), (SPLIT, ["brow", "jaw", "foot"]), (LIKELY, ["pinch"])],
                         ids=["split, 2 gestures", "split, 3 gestures", "likely scan, 1 gesture"])
def test_a_phrase_typed_with_keys_through_each_mass_mode(qtbot, mode, gestures):
    speller = Speller(SpellerConfig(mode, default_roles(gestures, mode)))
    lang = LanguageSuggester()  # word list + n-gram: what the bedside has without the model
    view = shown_patient_view(qtbot)
    spoken: list[str] = []
    clock = [0.0]

    def answer(out):
        for req in [o for o in out if isinstance(o, RequestSuggestions)]:
            cands = lang.predict_words(req.query)
            out += speller.handle(SuggestionsReady(req.request_id, tuple(cands), clock[0],
                                                   next_letters(lang, req.query, cands)))
        spoken.extend(o.text for o in out if isinstance(o, Speak))
        view.render(speller)

    def gesture(number: int) -> None:
        clock[0] += 0.1
        answer(speller.handle(GestureDecision(gestures[number - 1], 0.95, clock[0])))

    view.digit_pressed.connect(gesture)
    answer(speller.handle(Tick(0.0)))
    if mode == SPLIT:
        assert [lab.text() for lab in (row[0] for row in view._cells)] == [f"{i + 1}\n({g})" for i, g in enumerate(gestures)]
    presses = 0
    asked = False  # the confirmation was on screen before anything was said
    while not spoken:
        asked = asked or speller.state.confirm == "speak"
        what, how = ((wanted(view, speller.message) if not speller.state.confirm else
                      ({"speak": "SAY IT", "speak_again": "YES, SAY IT NOW"}[speller.state.confirm], "cell")))
        r = row_of(view, what, how)
        if mode == LIKELY and view._lit[0] != r:
            clock[0] = speller.advance_due
            answer(speller.handle(Tick(clock[0])))  # not lit yet: wait for it
            continue
        qtbot.keyClick(view, Qt.Key_1 + (r if mode == SPLIT else 0))
        presses += 1
        assert presses < 120, speller.message
    assert asked and spoken == [TARGET] and view.message.text() == "…"
    assert presses < 3 * len(TARGET)  # the words offered whole saved presses
