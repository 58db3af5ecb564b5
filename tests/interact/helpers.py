"""Driving a speller in tests: gestures by role, and answering its suggestion requests."""
from __future__ import annotations

from myovox.events import GestureDecision
from myovox.interact import RequestSuggestions, Speller, SpellerConfig, SuggestionsReady, Tick, default_roles
from myovox.interact.machine import DIRECT, GROUPS, LIKELY, SCAN, SPLIT, STEP
from myovox.language.api import next_letters

GESTURES = {SCAN: ["pinch"], STEP: ["brow", "jaw"], DIRECT: ["flex", "extend", "fist", "open"],
            GROUPS: ["flex", "extend", "fist", "open"], LIKELY: ["pinch"], SPLIT: ["brow", "jaw"]}
ROLE_ACTIONS = {SCAN: ("tick", "select"), STEP: ("next", "select"), DIRECT: ("next", "previous", "back", "select"),
                GROUPS: ("key1", "key2", "key3", "control"), LIKELY: ("tick", "select"), SPLIT: ("group1", "group2")}


def make(mode: str, prediction: str = "words", gestures: list[str] | None = None) -> Speller:
    m = Speller(SpellerConfig(mode, default_roles(gestures or GESTURES[mode], mode), prediction=prediction))
    m.handle(Tick(0.0))
    return m


def label_for(m: Speller, role: str) -> str:
    return next(label for label, r in m.config.roles.items() if r == role)


def act(m: Speller, action: str, suggester=None) -> list:
    """One action: 'tick' (the scan advances), 'unsure' (a burst the decoder could not read: no action) or a
    gesture with this role; answers suggestion requests."""
    if action == "tick":
        due = m.advance_due
        out = m.handle(Tick(due if due is not None else m.state.now + 1.0))
    elif action == "unsure":
        out = m.handle(GestureDecision(None, 0.0, m.state.now))
    else:
        out = m.handle(GestureDecision(label_for(m, action), 0.9, m.state.now))
    if suggester is not None:
        out = out + answer(m, out, suggester)
    return out


def answer(m: Speller, outputs: list, suggester) -> list:
    more = []
    for req in [o for o in outputs if isinstance(o, RequestSuggestions)]:
        if req.task == "groups":
            cands = suggester.read_groups(req.query[0], req.query[1], m.layout, req.context)
        elif req.task == "words":
            cands = suggester.predict_words(req.query)
        elif req.task == "abbreviation":
            cands = suggester.expand_abbreviation(req.query, req.context)
        else:
            cands = suggester.phrases_from_labels(list(req.query), req.context)
        letters = next_letters(suggester, req.query, cands) if req.task == "words" else ""
        more += m.handle(SuggestionsReady(req.request_id, tuple(cands), m.state.now, letters))
    return more


def reachable_states(start: Speller, actions, key, suggester=None) -> dict:
    """Every state reachable from `start` by `actions` (breadth first), one speller per distinct `key(speller)`;
    with a suggester every request is answered at once, without one never (the exhaustive safety walks)."""
    from collections import deque

    seen = {key(start): start}
    queue = deque([start])
    while queue:
        m = queue.popleft()
        for action in actions:
            c = m.clone()
            act(c, action, suggester)
            k = key(c)
            if k not in seen:
                seen[k] = c
                queue.append(c)
    return seen
