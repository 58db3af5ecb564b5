"""Selection by probability mass (modes "likely", 1 gesture, and "split", 2-3 gestures): what the tree
offers, what a pick does, and the safety rules over every reachable state.

The walk applies every input (each gesture; the scan's clock for "likely") to every state reached (the
node of the turn, a confirmation, the group lit and the passes made, with and without the language
layer's answer, message and undo history), then checks from each state: CALL FOR HELP within 2
selections (a selection is an input that activates an item: picking a group, BACK and "no" only
navigate), nothing spoken except by "say it" in the confirmation that only SPEAK opens, no gesture
outside a confirmation speaks or calls for help (so one misread never does), and the worst cases in
gestures for help and undo, which the README quotes (undo is never one gesture: every gesture picks a
group).
"""
from __future__ import annotations

from collections import deque

import pytest

from myovox.events import GestureDecision
from myovox.interact import CallForHelp, RequestSuggestions, Selected, Speak, Speller, SpellerConfig, SuggestionsReady, Tick
from myovox.interact import boards as B
from myovox.interact import mass as M
from myovox.interact.machine import LIKELY, SPLIT, default_roles
from myovox.language.api import Candidate

from .helpers import act, make, reachable_states

SPLIT3 = ["brow", "jaw", "foot"]
CASES = {"likely": (LIKELY, None, ("tick", "select", "unsure")), "split2": (SPLIT, None, ("group1", "group2")),
         "split3": (SPLIT, SPLIT3, ("group1", "group2", "group3"))}


def build(case, prediction="words"):
    mode, gestures, actions = CASES[case]
    return make(mode, prediction, gestures), actions


def key(m):
    s = m.state
    msg = s.content.message
    return (s.path, s.confirm, s.lit, s.cycles, s.held, len(s.items), len(s.choices), bool(msg), msg.endswith(" "),
            bool(s.history), s.request_id != 0)


def reachable(case, suggester, prediction="words", answer=True):
    start, actions = build(case, prediction)
    return reachable_states(start, actions, key, suggester if answer else None), actions


def fewest(m, actions, wanted, cost_of, limit):
    """Cheapest cost (0-1 costs per input, via `cost_of(outputs, action)`) until an output satisfies `wanted`."""
    best = {key(m): 0}
    dq = deque([(m, 0)])
    while dq:
        cur, cost = dq.popleft()
        if cost > best.get(key(cur), cost):
            continue
        for action in actions:
            c = cur.clone()
            out = act(c, action)
            step = cost_of(out, action)
            if cost + step > limit:
                continue
            if any(wanted(o) for o in out):
                return cost + step
            k = key(c)
            if cost + step < best.get(k, limit + 1):
                best[k] = cost + step
                (dq.appendleft if step == 0 else dq.append)((c, cost + step))
    return None


def selections(out, action):
    return int(any(isinstance(o, Selected) for o in out))


def bursts(out, action):
    return int(action != "tick")


def is_help(o):
    return isinstance(o, CallForHelp)


def is_undo(o):
    return isinstance(o, Selected) and o.kind == B.UNDO


# worst cases over every reachable state, quoted in the README (selections: tight; gestures: bounds)
WORST = {"likely": {"help_sel": 1, "help_bursts": 1, "undo": 3},
         "split2": {"help_sel": 2, "help_bursts": 12, "undo": 10},
         "split3": {"help_sel": 2, "help_bursts": 8, "undo": 8}}


@pytest.mark.parametrize("answered", [True, False], ids=["answers arrive", "no answer yet"])
@pytest.mark.parametrize("prediction", ["off", "words"])
@pytest.mark.parametrize("case", list(CASES))
def test_safety_rules_hold_in_every_reachable_state(case, prediction, answered, suggester):
    states, actions = reachable(case, suggester, prediction, answered)
    assert any(k[0] for k in states) and any(k[1] == "speak" for k in states)  # inside the tree; asked to speak
    if prediction != "off" and answered:
        assert any(k[5] > 0 for k in states)  # the words were on offer
    worst = {"help_sel": 0, "help_bursts": 0, "undo": 0}
    for k, m in states.items():
        n = fewest(m, actions, is_help, selections, 3)
        assert n is not None and n <= 2, f"{case}: state {k} needs {n} selections to call for help"
        worst["help_sel"] = max(worst["help_sel"], n)
        worst["help_bursts"] = max(worst["help_bursts"], fewest(m, actions, is_help, bursts, 20))
        if m.state.history:
            worst["undo"] = max(worst["undo"], fewest(m, actions, is_undo, bursts, 20))
        for action in actions:
            out = act(m.clone(), action)
            spoke = [o for o in out if isinstance(o, Speak)]
            called = [o for o in out if isinstance(o, CallForHelp)]
            if spoke:  # only "say it" in the confirmation SPEAK opened, and what is on screen
                assert m.state.confirm == ("speak" if case == "likely" else "speak_again")
                assert spoke[0].text == " ".join(m.message.split())
            if called and case != "likely":  # split asks once: one misread never calls for help
                assert m.state.confirm == "help"
            if called and case == "likely":  # the help group, lit at the root (one gesture: nothing to misread)
                assert not m.state.path and not m.state.confirm
    print(case, prediction, answered, worst)
    assert worst["help_sel"] == WORST[case]["help_sel"], worst
    assert worst["help_bursts"] <= WORST[case]["help_bursts"] and worst["undo"] <= WORST[case]["undo"], worst


@pytest.mark.parametrize("case", list(CASES))
def test_every_symbol_and_word_is_an_item_of_the_root(case, suggester):
    m, actions = build(case)
    for a in pick(m, B.LETTER, "t"):  # something typed: the words answer has arrived
        act(m, a, suggester)
    cells = [c for c, _ in m.state.items]
    letters = {c.value for c in cells if c.kind == B.LETTER}
    assert letters == set(M.ALPHABET) - {" "}
    assert [c.value for c in cells if c.kind == B.CANDIDATE] == ["the", "to", "water"]
    assert cells[-1].kind == B.HELP
    assert abs(sum(mass for _, mass in m.state.items) - 1.0 - m.model.undo_mass - m.model.help_mass
               - sum(mass for c, mass in m.state.items if c.kind == B.SPEAK)) < 1e-9
    masses = [mass for _, mass in m.state.items[:-1]]
    assert masses == sorted(masses, reverse=True)  # likeliest first


def pick(m, cell_kind, value=""):
    """Inputs (breadth first over the tree, as a patient plans) until the item is activated."""
    actions = ("tick", "select") if m.scanning else tuple(r for r in M.GROUP_ROLES[: m.k])
    start = m.clone()
    queue = deque([(start, [])])
    seen = {key(start)}
    while queue:
        cur, path = queue.popleft()
        for a in actions:
            c = cur.clone()
            out = act(c, a)
            sel = [o for o in out if isinstance(o, Selected)]
            if sel:
                if sel[0].kind == cell_kind and (not value or sel[0].value == value):
                    return path + [a]
                continue
            if key(c) not in seen:
                seen.add(key(c))
                queue.append((c, path + [a]))
    raise AssertionError(f"{cell_kind} {value} not reachable")


@pytest.mark.parametrize("case", list(CASES))
def test_type_a_word_a_letter_undo_and_speak(case, suggester):
    m, _ = build(case)
    outs = []
    for kind, value in ((B.LETTER, "i"), (B.SPACE, ""), (B.CANDIDATE, "water"), (B.LETTER, "z"), (B.UNDO, "")):
        for a in pick(m, kind, value):
            outs += act(m, a, suggester)
    assert m.message == "i water "
    assert not [o for o in outs if isinstance(o, Speak)]
    for a in pick(m, B.SPEAK):
        act(m, a, suggester)
    assert m.state.confirm == "speak" and m.message == "i water "  # asked, nothing said yet
    if case != "likely":  # split asks twice
        assert not [o for o in act(m, "group1", suggester) if isinstance(o, Speak)]  # "say it" on group 1
        assert m.state.confirm == "speak_again"
    said = []
    for a in pick(m, B.SPEAK):
        said += [o.text for o in act(m, a, suggester) if isinstance(o, Speak)]
    assert said == ["i water"] and m.message == "" and m.state.conversation == ("i water",)


def test_split_picks_groups_of_near_equal_mass_and_back_returns_to_the_root(suggester):
    m, _ = build("split2")
    for a in pick(m, B.LETTER, "t"):
        act(m, a, suggester)
    groups = m.current_groups()
    assert len(groups) == 2
    masses = [sum(x for _, x in g) for g in groups]
    assert max(masses) < 0.75 * sum(masses)
    act(m, "group2", suggester)  # into the second half: a node below the root holds BACK
    assert m.state.path == (1,)
    cells = [c for g in m.current_groups() for c, _ in g]
    assert cells[-1].kind == M.BACK
    while m.state.path:  # walk to BACK: always the last group's last item
        out = act(m, "group2", suggester)
        assert not [o for o in out if isinstance(o, Selected)]
    assert m.state.path == () and m.message != ""  # back at the root, the message unchanged


def test_back_returns_to_the_node_where_the_misread_pick_was_made(suggester):
    """A wrong group costs the walk to BACK and one pick again, not the whole path from the root: BACK leads
    to the node before the pick that preceded the walk (the walk is the run of last-group picks)."""
    m, _ = build("split2", prediction="off")  # letters only: a deep tree
    for a in pick(m, B.LETTER, "t"):
        act(m, a, suggester)
    act(m, "group1", suggester)
    act(m, "group1", suggester)  # say this second pick was a misread
    assert m.state.path == (0, 0)
    while True:  # walk to BACK: the last gesture again and again
        before = m.state.path
        act(m, "group2", suggester)
        if len(m.state.path) <= len(before):
            break
    assert m.state.path == (0,) and m.message == "t"  # where the misread pick was made, nothing changed
    assert M._back_from((1, 1, 1), 2) == () and M._back_from((0, 1, 0, 2, 2), 3) == (0, 1)


def test_likely_holds_the_group_lit_once_for_a_burst_the_decoder_could_not_read(suggester):
    """A missed burst would cost a whole pass of the scan; an unsure one (no action, not rest) keeps the group it
    began on lit for another first dwell, once, and selects nothing."""
    m, _ = build("likely")
    due, since = m.state.advance_due, m.state.highlight_since
    late = due - 0.1
    assert m.handle(Tick(late)) == [] and m.state.lit == 0
    assert m.handle(GestureDecision(None, 0.0, late - 0.2)) == []  # began on the lit group, not understood
    held = m.state.advance_due
    assert held == late + m.config.timing.period_s * m.config.timing.first_dwell and m.state.lit == 0
    assert m.handle(GestureDecision(None, 0.0, late)) == [] and m.state.advance_due == held  # once per lighting
    m.handle(Tick(held))
    assert m.state.lit == 1 and not m.state.held
    due = m.state.advance_due
    m.handle(GestureDecision("rest", 0.9, due - 0.5))  # looked like rest: not an attempt, the scan goes on
    m.handle(GestureDecision(None, 0.0, since))  # began before this group was lit: nothing to hold
    assert m.state.advance_due == due and m.message == ""


def test_stale_answers_are_ignored_and_an_answer_mid_turn_waits_for_the_root(suggester):
    m = Speller(SpellerConfig(SPLIT, default_roles(["a", "b"], SPLIT)))
    out = m.handle(GestureDecision("a", 0.9, 1.0))  # group 1
    while not [o for o in out if isinstance(o, RequestSuggestions)]:
        out = m.handle(GestureDecision("a", 0.9, 2.0))
    req = [o for o in out if isinstance(o, RequestSuggestions)][0]
    assert req.task == "words"
    m.handle(SuggestionsReady(req.request_id + 5, (Candidate("nope", 1.0, "llm"),), 2.0))
    assert m.state.choices == ()
    root = m.state.items
    m.handle(GestureDecision("a", 0.9, 3.0))  # into the tree before the answer
    m.handle(SuggestionsReady(req.request_id, (Candidate("hello", 1.0, "llm"),), 3.5))
    assert m.state.items == root and m.state.choices[0].text == "hello"  # the tree did not move under the patient
    while m.state.path:
        m.handle(GestureDecision("b", 0.9, 4.0))
    assert m.state.items != root and m.state.items[0][0] == B.Cell(B.CANDIDATE, "hello")


def test_a_burst_begun_before_an_answer_means_the_root_that_was_on_screen(suggester):
    m = Speller(SpellerConfig(SPLIT, default_roles(["a", "b"], SPLIT)))
    old = m.state.items
    m.handle(GestureDecision("b", 0.9, 1.0))
    while m.state.path:
        m.handle(GestureDecision("a", 0.9, 1.5))
    req = m.state.request_id
    m.handle(SuggestionsReady(req, (Candidate("zebra", 1.0, "llm"),), 3.0))
    new_first = m.current_groups()[0]
    early = m.clone()
    early.handle(GestureDecision("a", 0.9, 2.9))  # began before the answer: the old root's first group
    late = m.clone()
    late.handle(GestureDecision("a", 0.9, 3.1))
    assert late.current_groups() != early.current_groups() or new_first != early.current_groups()[0]
    assert old  # the old root was a full root


def test_no_action_and_unknown_gestures_do_nothing(suggester):
    m, _ = build("split3")
    before = m.state
    assert m.handle(GestureDecision(None, 0.0, 1.0)) == []
    assert m.handle(GestureDecision("nobody", 0.9, 1.0)) == []
    assert m.state.path == before.path and m.message == before.content.message


def test_a_fourth_gesture_in_split_is_an_undo_shortcut(suggester):
    m = make(SPLIT, "words", ["a", "b", "c", "d"])
    assert m.config.roles["d"] == "undo" and m.k == 3
    for a in pick(m, B.LETTER, "t"):
        act(m, a, suggester)
    assert m.message == "t"
    out = m.handle(GestureDecision("d", 0.9, m.state.now + 1))
    assert any(isinstance(o, Selected) and o.kind == B.UNDO for o in out) and m.message == ""


def test_the_rows_show_each_gesture_and_its_group():
    m = make(SPLIT, "words", ["eyebrow", "jaw"])
    rows = m.rows()
    assert [r[0].caption for r in rows] == ["1\n(eyebrow)", "2\n(jaw)"]
    assert any(c.kind == B.HELP for r in rows for c in r)
    shown = "".join(c.caption for r in rows for c in r if c.kind == B.LETTER).replace(" ", "")
    assert set(shown) == set(M.ALPHABET) - {" "}


def test_a_restored_message_asks_for_its_words_when_the_session_starts():
    from myovox.interact.mass import mass_state_with_message

    config = SpellerConfig(SPLIT, default_roles(["a", "b"], SPLIT))
    m = Speller(config, mass_state_with_message(config, "i want"))
    assert m.message == "i want "
    out = m._refresh(m.state, 12.0)  # what the bedside session calls for a restored message
    assert [(o.task, o.query) for o in out if isinstance(o, RequestSuggestions)] == [("words", "i want ")]
    assert m.state.now == 12.0 and m.message == "i want "
