"""Direct navigation rests on the most likely next choice (the likely ring), not on a row."""
from __future__ import annotations

from myovox.events import GestureDecision
from myovox.interact import CallForHelp, RequestSuggestions, Selected, SuggestionsReady
from myovox.interact import boards as B
from myovox.interact.machine import CELLS, DIRECT, ROWS
from myovox.language.api import Candidate

from .helpers import act, make


def press(m, role):
    label = next(lab for lab, r in m.config.roles.items() if r == role)
    return m.handle(GestureDecision(label, 0.9, m.state.now))


def answer(m, outputs, words=(), letters=""):
    """Answer every request: `words` as the candidates of the "words" task, `letters` as its letter order."""
    for req in [o for o in outputs if isinstance(o, RequestSuggestions)]:
        cands = tuple(Candidate(w, 1.0 / (i + 1), "ngram") for i, w in enumerate(words)) if req.task == "words" else ()
        m.handle(SuggestionsReady(req.request_id, cands, m.state.now, letters if req.task == "words" else ""))


def test_at_the_start_the_highlight_rests_on_the_likeliest_letter():
    m = make(DIRECT)
    h = m.state.highlight
    assert h.level == CELLS and h.rank is not None
    # nothing typed yet: no space first, English frequency otherwise
    assert m.highlighted() == B.Cell(B.LETTER, "e")
    out = press(m, "select")
    assert [(o.kind, o.value) for o in out if isinstance(o, Selected)] == [(B.LETTER, "e")]


def test_a_right_guess_costs_one_select_and_previous_walks_the_letters_in_the_given_order():
    m = make(DIRECT)
    out = press(m, "select")  # "e"
    answer(m, out, words=(), letters="xnq")
    assert m.highlighted() == B.Cell(B.LETTER, "x")  # the language layer's first letter, wherever it sits
    press(m, "previous")
    assert m.highlighted() == B.Cell(B.LETTER, "n")
    press(m, "previous")
    assert m.highlighted() == B.Cell(B.LETTER, "q")
    press(m, "previous")  # then the board's frequency order, skipping what was already offered
    assert m.highlighted() == B.Cell(B.SPACE)
    press(m, "select")
    assert m.message == "e "


def test_after_a_selection_the_top_candidate_is_one_select_away_and_next_walks_the_candidates():
    m = make(DIRECT)
    out = press(m, "select")  # "e"
    answer(m, out, words=("every", "eat", "end"), letters="v")
    assert m.highlighted() == B.Cell(B.CANDIDATE, "every")
    press(m, "next")
    assert m.highlighted() == B.Cell(B.CANDIDATE, "eat")
    press(m, "previous")
    press(m, "previous")  # from the top candidate, "previous" goes to the likeliest letter
    assert m.highlighted() == B.Cell(B.LETTER, "v")
    press(m, "next")
    out = press(m, "select")
    assert m.message == "every "
    answer(m, out, words=("day",), letters="t")
    assert m.highlighted() == B.Cell(B.CANDIDATE, "day")


def test_late_candidates_move_a_resting_highlight_but_not_one_the_patient_has_walked():
    m = make(DIRECT)
    out = press(m, "select")
    requests = [o for o in out if isinstance(o, RequestSuggestions)]
    press(m, "previous")  # walked on to the second letter before the answer came
    walked = m.highlighted()
    m.handle(SuggestionsReady(requests[0].request_id, (Candidate("eat", 1.0, "ngram"),), m.state.now))
    assert m.highlighted() == walked  # the same letter, one row lower now
    m2 = make(DIRECT)
    out = press(m2, "select")
    answer(m2, out, words=("eat",))
    assert m2.highlighted() == B.Cell(B.CANDIDATE, "eat")


def test_back_goes_up_to_the_first_letter_row_and_help_is_one_select_away():
    m = make(DIRECT)
    out = press(m, "select")
    answer(m, out, words=("every",))
    press(m, "back")
    h = m.state.highlight
    assert h.level == ROWS and h.rank is None and h.row == 3  # below HELP, controls and candidates
    assert m.rows()[h.row][0].kind in (B.LETTER, B.SPACE)
    press(m, "previous")
    press(m, "previous")
    press(m, "select")
    assert m.highlighted() == B.Cell(B.UNDO)  # the controls, undo first
    press(m, "select")
    assert m.message == ""
    m2 = make(DIRECT)
    press(m2, "back")
    for _ in range(2):
        press(m2, "previous")
    assert any(isinstance(o, CallForHelp) for o in press(m2, "select"))


def test_without_prediction_the_highlight_rests_on_the_first_letter_row():
    m = make(DIRECT, prediction="off")
    assert m.state.highlight == type(m.state.highlight)(ROWS, 2)
    press(m, "select")
    press(m, "select")
    assert m.message and m.state.highlight == type(m.state.highlight)(ROWS, 2)


def test_a_row_entered_by_hand_is_walked_in_its_own_order(suggester):
    m = make(DIRECT)
    press(m, "back")
    press(m, "select")  # the first letter row
    h = m.state.highlight
    assert h.level == CELLS and h.rank is None and h.col == 0
    first = m.highlighted()
    press(m, "next")
    assert m.state.highlight.col == 1 and m.highlighted() == m.rows()[h.row][1] != first
    press(m, "back")
    assert m.state.highlight == type(h)(ROWS, h.row)


def test_real_language_layer_orders_the_letters(suggester):
    """With the language layer's order the next letter of a common word is near the rest."""
    from myovox.language.suggester import LanguageSuggester

    lang = LanguageSuggester()
    m = make(DIRECT)
    for ch in "th":
        while m.highlighted() != B.Cell(B.LETTER, ch):
            press(m, "previous")
        out = press(m, "select")
        for req in [o for o in out if isinstance(o, RequestSuggestions)]:
            m.handle(SuggestionsReady(req.request_id, (), m.state.now, lang.next_letters(req.query)))
    assert m.message == "th"
    order = m.letter_order()
    assert order.index("e") <= 2 and order.index("z") > 10


def test_a_select_that_began_before_a_late_answer_moved_the_highlight_means_what_was_lit():
    """The language layer answers while the patient is already contracting: the burst's onset decides."""
    sel = next(lab for lab, r in make(DIRECT).config.roles.items() if r == "select")

    def typed_e_then(words_late):
        m = make(DIRECT)
        out = m.handle(GestureDecision(sel, 0.9, 1.0))  # "e"
        req = [o for o in out if isinstance(o, RequestSuggestions) and o.task == "words"][0]
        m.handle(SuggestionsReady(req.request_id, (Candidate("every", 1.0, "ngram"),), 1.2))
        assert m.highlighted() == B.Cell(B.CANDIDATE, "every")
        m.handle(SuggestionsReady(req.request_id, tuple(Candidate(w, 1.0 - i / 10, "llm") for i, w in enumerate(words_late)), 2.0))
        return m

    m = typed_e_then(("eat", "every"))
    assert m.highlighted() == B.Cell(B.CANDIDATE, "eat")  # the late answer moved the rest
    m.handle(GestureDecision(sel, 0.9, 1.8))  # began while "every" was lit
    assert m.message == "every "
    m = typed_e_then(("eat",))
    assert m.handle(GestureDecision(sel, 0.9, 1.8)) == [] and m.message == "e"  # "every" is gone: nothing
    assert m.highlighted() == B.Cell(B.CANDIDATE, "eat")
    m.handle(GestureDecision(sel, 0.9, 2.5))  # after the move: what is lit now
    assert m.message == "eat "
