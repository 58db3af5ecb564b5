"""The ambiguous keyboard (groups mode): what it types, and its safety rules over every reachable state.

The walk applies every gesture to every state reached (layers, spelling, readings on screen, the reading
walked to, the word fixed last and its reading, help asked once, message and undo history), with the
language layer answering at once or not at all, then checks from each state: CALL FOR HELP within two
selections (a gesture that activates something, as the other modes' walks count: opening the controls
and asking "call for help?" are not selections; the one before help is the space of a word being typed)
and within four gestures in all; UNDO within three gestures (one from the controls); no gesture speaks
unless the state is the confirm layer that only a deliberate "speak" opens, and no single misread calls
for help or speaks.
"""
from __future__ import annotations

import pytest

from myovox.events import GestureDecision
from myovox.interact import CallForHelp, RequestSuggestions, Selected, Speak, Speller, SpellerConfig, SuggestionsReady
from myovox.interact import boards as B
from myovox.interact import keyboard as K
from myovox.interact.machine import GROUPS, default_roles

from .helpers import ROLE_ACTIONS, act, make, reachable_states

ACTIONS = ROLE_ACTIONS[GROUPS]


def key(m):
    s = m.state
    t = s.typed
    return (s.layer, s.narrow, t.pick, len(s.choices), min(len(t.keys), 2), t.spelling is None,
            min(len(t.spelling or ""), 1), bool(t.fixed), bool(s.history), s.request_id != 0, s.help_armed,
            len(t.last), t.last_pick, s.committable)


def reachable(suggester, answer=True):
    return reachable_states(make(GROUPS), ACTIONS, key, suggester if answer else None)


def gestures_until(m, wanted, limit=5):
    """Fewest gestures (breadth first) until an output satisfies `wanted`, and the fewest selections
    (gestures that emit a `Selected`) on such a shortest-in-selections path; (None, None) beyond `limit`."""
    frontier = [(m, 0)]
    best = None
    for depth in range(1, limit + 1):
        nxt = []
        for cur, sel in frontier:
            for action in ACTIONS:
                c = cur.clone()
                out = act(c, action)
                if any(wanted(o) for o in out):
                    best = (depth, sel) if best is None else (best[0], min(best[1], sel))
                    continue
                nxt.append((c, sel + any(isinstance(o, Selected) for o in out)))
        if best is not None and depth > best[0] + 1:
            return best
        frontier = nxt
    return best or (None, None)


@pytest.mark.parametrize("answered", [True, False], ids=["answers arrive", "no answer yet"])
def test_safety_rules_hold_in_every_reachable_state(suggester, answered):
    states = reachable(suggester, answered)
    layers = {k[0] for k in states}
    assert layers == set(K.LAYERS)  # the walk covers every layer, spelling included
    if answered:
        assert any(k[11] > 1 and k[12] > 0 for k in states)  # a reading other than the first one was walked to
        assert any(k[13] for k in states)  # a word ready for its space
    help_worst = undo_worst = 0
    for k, m in states.items():
        n_help, sel_help = gestures_until(m, lambda o: isinstance(o, CallForHelp))
        assert n_help is not None and n_help <= 4, f"state {k}: help needs {n_help} gestures"
        # help itself is a selection; the only one before it is the space of a word being typed
        assert sel_help == (1 if m.state.committable else 0), f"state {k}: help needs {sel_help} selections before it"
        n_undo, _ = gestures_until(m, lambda o: isinstance(o, Selected) and o.kind == B.UNDO)
        assert n_undo is not None and n_undo <= 3, f"state {k}: undo needs {n_undo} gestures"
        if m.state.layer in (K.CONTROL, K.SPELL_CONTROL):
            assert n_help == (1 if m.state.help_armed else 2) and n_undo == 1
        help_worst, undo_worst = max(help_worst, n_help), max(undo_worst, n_undo)
        for action in ACTIONS:  # nothing is said but by the confirming gesture in the confirm layer
            c = m.clone()
            spoken = [o for o in act(c, action) if isinstance(o, Speak)]
            if spoken:
                assert m.state.layer == K.CONFIRM and action == "key1", f"state {k}: {action} spoke"
                assert spoken[0].text == " ".join(m.message.replace(K.PENDING, "").split())
    assert help_worst == (4 if answered else 3) and undo_worst == (3 if answered else 2)  # the bounds are tight


def test_one_misread_never_speaks_nor_calls_for_help(suggester):
    """From every state outside the confirm layer no gesture speaks, and outside "call for help?" none
    calls; the confirm layer opens only from the controls and "call for help?" only by the control
    gesture there: speaking or calling takes two gestures in a row that mean it."""
    for k, m in reachable(suggester).items():
        for a in ACTIONS:
            c = m.clone()
            out = act(c, a, suggester)
            if any(isinstance(o, CallForHelp) for o in out):
                assert m.state.help_armed and a == "control", f"{k}: {a} called for help"
            if m.state.layer == K.CONFIRM or m.state.help_armed:
                continue
            for b in ACTIONS:
                c2 = c.clone()
                out = act(c2, b, suggester)
                if any(isinstance(o, Speak) for o in out):
                    assert m.state.layer == K.CONTROL and a == "key1" and b == "key1", f"{k}: {a}, {b} spoke"
                if any(isinstance(o, CallForHelp) for o in out):
                    assert m.state.layer in (K.CONTROL, K.SPELL_CONTROL) and a == b == "control", f"{k}: {a}, {b} called"


def press(m, role, suggester):
    return act(m, role, suggester)


def type_word(m, word, suggester):
    for ch in word:
        press(m, f"key{m.layout.key_of(ch) + 1}", suggester)


def test_keys_read_as_words_space_and_speak(suggester):
    m = make(GROUPS)
    lay = m.layout
    word = "".join(sorted(lay.groups[k])[0] for k in (0, 1, 2))  # what the fixed suggester reads first
    type_word(m, word, suggester)
    assert m.message == word and m.state.choices[0] == word
    assert ("groups", ("", "012")) in suggester.asked
    assert m.gesture_captions()[3] == "space"
    out = press(m, "control", suggester)  # the space: one gesture
    assert [(o.kind, o.value) for o in out if isinstance(o, Selected)] == [(B.SPACE, word)]
    assert m.message == word + " " and m.state.layer == K.KEYS and m.gesture_captions()[3] == "controls"
    assert m.highlighted() == B.Cell(B.CANDIDATE, word)  # its readings stay on screen, the one taken lit
    press(m, "control", suggester)
    assert m.gesture_captions()[:3] == ("speak", "other word", "undo")
    out = press(m, "key1", suggester)
    assert not any(isinstance(o, Speak) for o in out) and m.state.speak_armed
    out = press(m, "key1", suggester)
    assert [o.text for o in out if isinstance(o, Speak)] == [word]
    assert m.message == "" and m.state.conversation == (word,)


def test_other_word_walks_the_readings_of_the_word_just_fixed_then_spells(suggester):
    m = make(GROUPS)
    type_word(m, "".join(sorted(m.layout.groups[k])[0] for k in (2, 1)), suggester)
    first, second, completion = m.state.choices
    assert completion.endswith(" ")
    press(m, "control", suggester)  # space: the first reading is fixed
    assert m.message == first + " "
    press(m, "control", suggester)
    out = press(m, "key2", suggester)  # other word: it replaces the word, and typing goes on
    assert [(o.kind, o.value) for o in out if isinstance(o, Selected)] == [(K.OTHER, second)]
    assert m.message == second + " " and m.state.layer == K.KEYS
    assert m.highlighted() == B.Cell(B.CANDIDATE, second)
    press(m, "control", suggester)
    press(m, "key2", suggester)
    assert m.message == completion  # the completion, with its one space
    press(m, "control", suggester)
    assert m.gesture_captions()[1] == "spell it"  # past the last reading
    press(m, "key2", suggester)
    assert m.state.layer == K.SPELL and m.message == ""  # the word is spelled instead
    # spell "q": narrow three times, each step shows what every key now holds
    while True:
        caps = m.gesture_captions()
        k = next(i for i, c in enumerate(caps[:3]) if "q" in c.split())
        out = press(m, f"key{k + 1}", suggester)
        if any(isinstance(o, Selected) and o.kind == B.LETTER for o in out):
            break
    assert m.message == "q"
    press(m, "control", suggester)
    press(m, "key1", suggester)  # word done
    assert m.message == "q " and m.state.layer == K.KEYS
    press(m, "control", suggester)
    assert m.gesture_captions()[1] == "spell a word"  # a spelled word has no other readings


def test_undo_takes_the_space_back_with_the_last_key(suggester):
    m = make(GROUPS)
    type_word(m, "".join(sorted(m.layout.groups[k])[0] for k in (0,)), suggester)
    one_key = m.state.typed
    type_word(m, "".join(sorted(m.layout.groups[k])[0] for k in (2,)), suggester)
    press(m, "control", suggester)  # space (say the last key was wrong, or this was a misread)
    press(m, "control", suggester)
    press(m, "key3", suggester)  # undo: the space and the last key, back to the keys
    assert m.state.typed.keys == one_key.keys and m.message == one_key.message and m.state.layer == K.KEYS
    press(m, "control", suggester)  # a one-key word's space taken back leaves the word before as it was
    press(m, "control", suggester)
    press(m, "key3", suggester)
    assert m.message == "" and m.state.typed == K.Typed()


def test_before_the_reading_arrives_the_controls_offer_type_on():
    m = make(GROUPS)
    act(m, "key1")  # no answer
    assert K.PENDING in m.message and m.gesture_captions()[3] == "controls"
    act(m, "control")
    assert m.gesture_captions()[:3] == ("type on", "spell it", "undo")
    out = act(m, "key1")
    assert not any(isinstance(o, Selected) for o in out) and m.state.layer == K.KEYS


def test_undo_restores_every_step_exactly(suggester):
    m = make(GROUPS, gestures=["a", "b", "c", "d", "e"])  # a fifth gesture: the undo shortcut
    contents = [m.state.typed]
    script = [("key1",), ("key3",), ("control",), ("control", "key2"), ("key2",), ("control",), ("control", "key2"),
              ("control", "key2"), ("control", "key2"), ("key1",), ("control", "key1"), ("control",)]
    for step in script:
        for a in step:
            before, typed = m.state.history, m.state.typed
            out = press(m, a, suggester)
            if m.state.history != before:  # an edit (an answer arriving is not one)
                contents.append(m.state.typed)
            elif any(isinstance(o, Selected) and o.kind == B.SPACE for o in out):
                assert m.state.typed != typed and typed.keys
                contents[-1] = m.state.typed  # the space is one step with its word's last key
    assert len(contents) > 8 and any(t.spelling is not None for t in contents)
    while len(contents) > 1:
        contents.pop()
        press(m, "undo", suggester)
        assert m.state.typed == contents[-1]


def test_stale_and_foreign_answers_are_ignored(suggester):
    from myovox.language.api import Candidate

    m = make(GROUPS)
    out = act(m, "key1")
    first = [o for o in out if isinstance(o, RequestSuggestions)][0]
    act(m, "key2")
    assert m.handle(SuggestionsReady(first.request_id, (Candidate("a", 1.0, "ngram"),))) == []
    req = m.state.request_id
    # a reading that does not spell these keys, or has the wrong length, is dropped
    m.handle(SuggestionsReady(req, (Candidate("zz", 1.0, "llm"), Candidate("a b", 0.9, "llm"))))
    assert m.state.choices == () and K.PENDING in m.message


def test_no_action_unknown_gestures_and_shortcuts(suggester):
    m = Speller(SpellerConfig(GROUPS, default_roles(list("abcdefg"), GROUPS)))
    assert m.config.roles == {"a": "key1", "b": "key2", "c": "key3", "d": "control", "e": "undo", "f": "speak", "g": "help"}
    before = m.state
    assert m.handle(GestureDecision(None, 0.2, 0.0)) == [] and m.handle(GestureDecision("sneeze", 0.9, 0.0)) == []
    assert m.state == before
    out = m.handle(GestureDecision("a", 0.9, 1.0))
    m.handle(SuggestionsReady(out[-1].request_id, tuple(suggester.read_groups("", "0", m.layout)), 1.0))
    assert m.message
    out = m.handle(GestureDecision("e", 0.9, 2.0))  # the undo shortcut: one gesture
    assert m.message == "" and any(isinstance(o, Selected) and o.kind == B.UNDO for o in out)
    assert any(isinstance(o, CallForHelp) for o in m.handle(GestureDecision("g", 0.9, 3.0)))
    with pytest.raises(ValueError, match="prediction cannot be off"):
        SpellerConfig(GROUPS, default_roles(list("abcd"), GROUPS), prediction="off")
    with pytest.raises(ValueError, match="four gestures"):
        default_roles(list("abc"), GROUPS)


def test_real_language_layer_reads_a_phrase():
    from myovox.language.suggester import LanguageSuggester

    lang = LanguageSuggester()
    m = make(GROUPS)
    walked = 0
    for w in "i want some water".split():
        for ch in w:
            out = act(m, f"key{m.layout.key_of(ch) + 1}")
            for r in [o for o in out if isinstance(o, RequestSuggestions)]:
                m.handle(SuggestionsReady(r.request_id, tuple(lang.read_groups(*r.query, m.layout, r.context)), m.state.now))
        assert w in [c.strip() for c in m.state.choices[:3]], (m.message, m.state.choices)
        act(m, "control")  # space
        while m.message.split()[-1] != w:
            act(m, "control")
            act(m, "key2")  # other word
            walked += 1
    assert m.message == "i want some water " and walked <= 2


def test_switching_between_the_board_and_the_keyboard_keeps_the_message():
    from myovox.interact.keyboard import state_with_message
    from myovox.interact.machine import DIRECT

    g = Speller(SpellerConfig(GROUPS, default_roles(list("abcd"), GROUPS)), state_with_message(GROUPS, "i want "))
    assert g.message == "i want " and g.state.typed.keys == ()
    d = Speller(SpellerConfig(DIRECT, default_roles(list("abcd"), DIRECT)), state_with_message(DIRECT, g.message + "wa" + K.PENDING))
    assert d.message == "i want wa "


def test_a_longer_word_likelier_than_every_reading_is_shown_first():
    from myovox.language.api import Candidate

    m = make(GROUPS)
    lay = m.layout
    out = act(m, "key1")
    out += act(m, "key3")
    req = [o for o in out if isinstance(o, RequestSuggestions)][-1]
    first = "".join(sorted(lay.groups[k])[0] for k in (0, 2))
    last = "".join(sorted(lay.groups[k])[-1] for k in (0, 2))
    longer = first + "e "
    m.handle(SuggestionsReady(req.request_id, (Candidate(first, -3.0, "llm"), Candidate(last, -4.0, "llm"),
                                               Candidate(longer, -2.0, "llm")), 1.0))
    assert m.state.choices == (longer, first, last) and m.message == longer
    assert m.gesture_captions()[3] == "space"
    out = act(m, "control")  # the space takes the longer word, one gesture, its last key untyped
    assert [(o.kind, o.value) for o in out if isinstance(o, Selected)] == [(B.SPACE, longer.strip())]
    assert m.message == longer
    # less likely than the best reading: after the readings, as before
    m2 = make(GROUPS)
    act(m2, "key1")
    out = act(m2, "key3")
    req = [o for o in out if isinstance(o, RequestSuggestions)][-1]
    m2.handle(SuggestionsReady(req.request_id, (Candidate(first, -3.0, "llm"), Candidate(last, -4.0, "llm"),
                                                Candidate(longer, -3.5, "llm")), 1.0))
    assert m2.state.choices == (first, last, longer)
