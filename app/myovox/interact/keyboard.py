"""The ambiguous keyboard (mode "groups", 4+ gestures): one gesture per letter, naming its letter group.

Three gestures are keys, each carrying a group of letters; the fourth ends the word or opens the
control layer. The language layer reads a word's keys (`RequestSuggestions` task "groups", answered
with the likeliest readings best first, then whole-word completions); the message shows the best
reading. Layers, each gesture doing what the screen names for it:

    keys            key 1-3: type a letter of that group
                    control: SPACE when a word is being typed (the word as shown is done, with its
                             space: one gesture), else the controls
    controls        key 1: SPEAK (asks again)   key 2: OTHER WORD (the last word becomes its next
     (between words)        reading; past the last one: spell it; no word yet: spell a word)
                    key 3: UNDO                 control: CALL FOR HELP
    controls        key 1: TYPE ON (back to the keys)   key 2: SPELL IT   key 3: UNDO
     (in a word whose reading has not arrived yet)                        control: CALL FOR HELP
    confirm         key 1: say it               key 2-3: no, back to typing     control: the controls
    spell           key 1-3: narrow down to a letter (three choices a step: a letter is three gestures)
                    control: the spelling controls (word done, back, undo, help)

While a word is being typed, a longer word the language layer finds likelier than every word the keys
spell so far is shown first (`COMPLETION_LEAD`), so the space takes it before its last keys: on
held-out starter phrases with the LLM that left 2.5 key gestures a word instead of 3.6.

The space costs one gesture (it was two, control then space, until 2026-12-07: `bench/groups_trace.py`
counted 24 % of the gestures there on held-out starter phrases with the LLM). The word is fixed with
its space at once and its readings stay on screen: "other word" replaces it by the next one and goes
back to the keys (so the second reading costs control, other word). The space and the word's last key
are one step for undo: control, undo takes both back, which is the whole repair when the space was a
misread, when the last key was wrong (the way to undo in a word is the space first) and when the space
was misread as a key (an undo that took the space back alone, leaving the controls open for a second
undo, costs one gesture more in each of those cases: on held-out starter phrases with the LLM 0.81 undo
gestures a word against 0.55).

Safety (the exhaustive walks in tests/interact/test_keyboard.py prove them): CALL FOR HELP is at most
the second selection from every state (the space, when a word is being typed, is the first) and four
gestures (control x4; two from the controls), and a single misread never calls it: help asks again,
because a key misread as "control" opens the controls for every word; nothing is spoken but by key 1
in the confirm layer, which only key 1 in the between-words controls opens, so one misread can never
speak; UNDO is one gesture in the controls and at most three from everywhere else (space, controls,
undo: the space goes with the last key). With four gestures no layout of three letter keys can also
give a one-gesture undo (the keys and the control gesture are all taken); a fifth gesture becomes an
undo shortcut (`default_roles`). The space has its own gesture rather than a place on a letter key: see
`language.groups` for what that measured.

Pure: no Qt, no clock, no call into the language layer, like `machine.Speller`, whose interface this
class shares (handle, state, rows, highlighted, message, clone), so the UI, the bedside session and the
simulator drive either the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..events import GestureDecision
from ..language.groups import SPACE, SYMBOLS, GroupLayout, layout_for
from . import boards as B
from .events import CallForHelp, MessageChanged, RequestSuggestions, Selected, Speak, SuggestionsReady, TakesEvents

KEYS, CONTROL, CONFIRM, SPELL, SPELL_CONTROL = "keys", "control", "confirm", "spell", "spell_control"
LAYERS = (KEYS, CONTROL, CONFIRM, SPELL, SPELL_CONTROL)
KEY = "key"  # Selected.kind of a typed key (value: the key's number, from 1)
OTHER = "other"  # Selected.kind of "the next reading"
SPELL_START = "spell"  # Selected.kind of entering the spell-out path
DONE = "done"  # Selected.kind of finishing a spelled word
KEY_ROLES = ("key1", "key2", "key3", "key4")
CONTROL_ROLE = "control"
UNDO_DEPTH = 64
PENDING = "•"  # shown for a key whose reading has not arrived yet
HELP_CAPTION = "CALL FOR HELP"
HELP_ARMED_CAPTION = "CALL FOR HELP? again: yes"#: A longer word (a completion) is shown first when its score beats every whole reading of the keys by this
#: much (log): then the space takes it before its last keys are typed. None: whole readings always first.
#: Measured with `bench/groups_trace.py --llm --offsets 3,50 --seeds 0,1,2` (held-out starter phrases,
#: 95 % + 5 % no action): never 6.70 wpm, lead 2 7.90, 0 8.38, -1 8.31, -2.5 8.06; n-gram 5.60 -> 6.21 at 0.
COMPLETION_LEAD: float | None = 0.0


@dataclass(frozen=True)
class Typed:
    """What undo restores: the fixed text (whole words, each with its space), the keys of the word being
    typed and the reading shown for them (`pick`: which one), and the letters of a word being spelled
    (None when not spelling). Until the next key, the word fixed last keeps its readings (`last`, the one
    shown `last_pick`, typed with `last_keys`): "other word" walks them."""

    fixed: str = ""
    keys: tuple[int, ...] = ()
    shown: str = ""
    pick: int = 0
    spelling: str | None = None
    last: tuple[str, ...] = ()
    last_pick: int = 0
    last_keys: tuple[int, ...] = ()

    @property
    def last_word(self) -> str:
        return self.last[self.last_pick].strip() if self.last else ""

    @property
    def before_last(self) -> str:
        """The fixed text without the word fixed last (and its space)."""
        return self.fixed[: len(self.fixed) - len(self.last_word) - 1] if self.last else self.fixed

    @property
    def message(self) -> str:
        return self.fixed + self.shown + (self.spelling or "")


@dataclass(frozen=True)
class GroupState:
    typed: Typed = Typed()
    layer: str = KEYS
    narrow: str = ""  # spell layer: the letters still in play ("" = all of SYMBOLS)
    choices: tuple[str, ...] = ()  # readings of typed.keys, best first (completions are longer than the keys)
    history: tuple[Typed, ...] = ()
    conversation: tuple[str, ...] = ()
    request_id: int = 0  # the answer still wanted (0: none)
    next_request_id: int = 1
    now: float = 0.0
    help_armed: bool = False  # the controls' "call for help" was chosen once: the control gesture again calls

    @property
    def content(self):  # the name the UI and the bedside session read (`content.message`)
        return self

    @property
    def message(self) -> str:
        return self.typed.message

    @property
    def labels(self) -> tuple[str, ...]:
        return ()

    @property
    def board(self) -> str:
        return "groups"

    @property
    def pick(self) -> int:
        return self.typed.pick

    @property
    def speak_armed(self) -> bool:
        return self.layer == CONFIRM

    @property
    def readings(self) -> tuple[tuple[str, ...], int]:
        """The readings on screen and which one the message shows: the word being typed's, else (until
        the next key) the word fixed last's."""
        t = self.typed
        if self.choices or t.keys or t.spelling is not None or not t.last:
            return self.choices, t.pick
        return t.last, t.last_pick

    @property
    def committable(self) -> bool:
        """A word is being typed and its reading is on screen: the control gesture fixes it with its space."""
        t = self.typed
        return (self.layer == KEYS and bool(t.keys) and t.spelling is None and PENDING not in t.shown
                and bool(t.shown.strip()))

    @property
    def highlight(self):
        from .machine import CELLS, Highlight  # noqa: PLC0415 (machine imports this module)

        readings, pick = self.readings
        return Highlight(CELLS, 0, min(pick, max(0, len(readings) - 1)))


def spell_split(symbols: str, parts: int) -> list[str]:
    """Split the letters in play into `parts` runs as even as possible (the spell path's choices)."""
    size = -(-len(symbols) // parts)
    return [symbols[i:i + size] for i in range(0, len(symbols), size)][:parts]


class GroupSpeller(TakesEvents):
    """Drive with `handle(event)`; `rows()`, `gesture_captions()` and `highlighted()` say what to draw."""

    def __init__(self, config, state: GroupState | None = None, layout: GroupLayout | None = None):
        self.config = config
        keys = sum(1 for r in config.roles.values() if r in KEY_ROLES)
        self.layout = layout or layout_for(keys)
        if self.layout.keys != keys:
            raise ValueError(f"the layout has {self.layout.keys} keys but {keys} gestures are keys")
        self.state = state or GroupState()

    def clone(self) -> "GroupSpeller":
        return GroupSpeller(self.config, self.state, self.layout)

    # -- what is on screen ------------------------------------------------------------------------
    @property
    def message(self) -> str:
        return self.state.message

    @property
    def advance_due(self) -> float | None:
        return None

    def gesture_captions(self, state: GroupState | None = None) -> tuple[str, ...]:
        """What each gesture does now, in gesture order (the keys, then the control gesture)."""
        s = state or self.state
        n = self.layout.keys
        back = ["back"] * (n - 3)
        if s.layer == KEYS:
            return tuple(self.layout.caption(k) for k in range(n)) + ("space" if s.committable else "controls",)
        if s.layer == SPELL:
            parts = spell_split(s.narrow or SYMBOLS, n)
            return tuple(" ".join(p) for p in parts + [""] * (n - len(parts))) + ("controls",)
        if s.layer == CONFIRM:
            return tuple(["SAY IT", "no, back", "no, back"] + back) + ("controls",)
        help_cell = HELP_ARMED_CAPTION if s.help_armed else HELP_CAPTION
        if s.layer == SPELL_CONTROL:
            return tuple(["word done", "back to spelling", "undo"] + back) + (help_cell,)
        t = s.typed
        if t.keys:
            return tuple(["type on", "spell it", "undo"] + back) + (help_cell,)
        other = ("other word" if t.last_pick + 1 < len(t.last) else "spell it") if t.last else "spell a word"
        return tuple(["speak", other, "undo"] + back) + (help_cell,)

    def rows(self, state: GroupState | None = None) -> tuple[B.Row, ...]:
        """Row 0: the readings of the word being typed (the one shown is lit); row 1: one cell per
        gesture, saying what it does now."""
        s = state or self.state
        readings = tuple(B.Cell(B.CANDIDATE, t.strip()) for t in s.readings[0])
        if not readings:
            readings = (B.Cell(B.CANDIDATE, (s.typed.shown or s.typed.spelling or "").strip() or "…"),)
        kind = {KEYS: KEY, SPELL: KEY, CONFIRM: "confirm"}.get(s.layer, "control")
        names = self.gesture_names()
        cells = tuple(B.Cell(B.HELP if cap in (HELP_CAPTION, HELP_ARMED_CAPTION) else kind, f"{cap}\n({name})" if cap else "")
                      for cap, name in zip(self.gesture_captions(s), names))
        return (readings, cells)

    def gesture_names(self) -> tuple[str, ...]:
        """The caregiver's names of the gestures, in the order of `gesture_captions`."""
        by_role = {role: label for label, role in self.config.roles.items()}
        roles = KEY_ROLES[: self.layout.keys] + (CONTROL_ROLE,)
        return tuple(by_role.get(r, r) for r in roles)

    def row_cells(self, row: int, state: GroupState | None = None) -> B.Row:
        return self.rows(state)[row]

    def highlighted(self) -> B.Cell:
        return self.highlighted_in(self.state)

    def highlighted_in(self, s: GroupState) -> B.Cell:
        row = self.rows(s)[0]
        return row[min(s.readings[1], len(row) - 1)]

    def nav_key(self) -> tuple:
        """What tells screens apart for a planner (the message aside)."""
        s = self.state
        return (s.layer, s.narrow, s.typed.pick, len(s.choices), bool(s.typed.keys), s.typed.spelling is not None,
                s.help_armed, s.committable, s.typed.last_pick, len(s.typed.last))

    # -- input (`handle`, from TakesEvents) --------------------------------------------------------
    def _tick(self, t: float) -> list:
        self.state = replace(self.state, now=max(self.state.now, t))
        return []

    def _decision(self, d: GestureDecision) -> list:
        if d.label is None:  # "no action": the decoder was not sure; doing nothing is safe
            return []
        role = self.config.roles.get(d.label)
        if role is None:
            return []
        s = replace(self.state, now=max(self.state.now, d.time))
        if role == "undo":  # shortcut gestures (a fifth gesture and beyond)
            return self._undo(s)
        if role == "help":
            return self._help(s)
        if role == "speak":
            return self._arm_speak(s) if not s.typed.keys and s.typed.spelling is None else self._stay(s)
        armed, s = s.help_armed, replace(s, help_armed=False)  # only the very next gesture confirms
        if role == CONTROL_ROLE:
            if s.layer in (CONTROL, SPELL_CONTROL):
                if armed:
                    return self._help(s)
                return self._stay(replace(s, help_armed=True))
            if s.committable:
                return self._space(s)
            self.state = replace(s, layer=SPELL_CONTROL if s.typed.spelling is not None else CONTROL, narrow="")
            return []
        if role not in KEY_ROLES or KEY_ROLES.index(role) >= self.layout.keys:
            return self._stay(s)
        return self._key(s, KEY_ROLES.index(role))

    def _stay(self, s: GroupState) -> list:
        self.state = s
        return []

    @staticmethod
    def _home(s: GroupState) -> str:
        """The layer typing goes on in: the keys, or the spell path while a word is being spelled."""
        return SPELL if s.typed.spelling is not None else KEYS

    def _key(self, s: GroupState, k: int) -> list:
        layer = s.layer
        if layer == KEYS:
            return self._type(s, k)
        if layer == SPELL:
            return self._narrow(s, k)
        if layer == CONFIRM:
            if k == 0:
                return self._speak(s)
            return self._stay(replace(s, layer=self._home(s)))  # no: back to typing, nothing said
        if k >= 3:  # a fourth key in the controls: back
            return self._stay(replace(s, layer=self._home(s)))
        if k == 2:
            return self._undo(s)
        if layer == SPELL_CONTROL:
            return self._done_spelling(s) if k == 0 else self._stay(replace(s, layer=SPELL))
        if s.typed.keys:  # in a word: type on, or spell it instead
            return self._stay(replace(s, layer=KEYS)) if k == 0 else self._start_spelling(s)
        if k == 0:
            return self._arm_speak(s)
        return self._other(s) if s.typed.last else self._start_spelling(s)

    # -- what the gestures do ---------------------------------------------------------------------
    def _type(self, s: GroupState, k: int) -> list:
        t = s.typed
        new = Typed(t.fixed, t.keys + (k,), t.shown[: len(t.keys)] + PENDING)
        return self._change(s, new, [Selected(KEY, str(k + 1), s.now)])

    def _space(self, s: GroupState) -> list:
        """The word as shown is done: it joins the fixed text with its space; its readings stay walkable."""
        t = s.typed
        word = t.shown.replace(PENDING, "").strip()
        new = Typed(t.fixed + word + SPACE, last=s.choices or (t.shown,), last_pick=t.pick if s.choices else 0,
                    last_keys=t.keys)
        # one step with the word's last key: undo takes both back (a misread space, a wrong last key and a key
        # misread for the space each cost control, undo), to where that key was typed
        h = s.history[-1] if s.history else None
        merge = h is not None and h.fixed == t.fixed and h.keys == t.keys[:-1] and h.spelling is None
        history = s.history if merge else (s.history + (t,))[-UNDO_DEPTH:]
        s = replace(s, layer=KEYS, typed=new, history=history, choices=(), request_id=0)
        return [Selected(B.SPACE, word, s.now), MessageChanged(new.message, (), s.now)] + self._stay(s)

    def _other(self, s: GroupState) -> list:
        """The word fixed last becomes its next reading, and typing goes on (control, other word again walks
        on); past the last one, spell the word out instead."""
        t = s.typed
        if t.last_pick + 1 < len(t.last):
            pick = t.last_pick + 1
            word = t.last[pick].strip()
            new = replace(t, fixed=t.before_last + word + SPACE, last_pick=pick)
            return self._change(replace(s, layer=KEYS), new, [Selected(OTHER, word, s.now)], request=False)
        return self._start_spelling(s)

    def _start_spelling(self, s: GroupState) -> list:
        """Spell a word letter by letter (it replaces the word being typed, or the word fixed last when no
        key has been typed since)."""
        new = Typed(s.typed.before_last if not s.typed.keys else s.typed.fixed, spelling="")
        return self._change(replace(s, layer=SPELL, narrow=""), new, [Selected(SPELL_START, "", s.now)], request=False)

    def _narrow(self, s: GroupState, k: int) -> list:
        parts = spell_split(s.narrow or SYMBOLS, self.layout.keys)
        if k >= len(parts):
            return self._stay(s)
        part = parts[k]
        if len(part) > 1:
            return self._stay(replace(s, narrow=part))
        t = s.typed
        return self._change(replace(s, narrow=""), replace(t, spelling=(t.spelling or "") + part),
                            [Selected(B.LETTER, part, s.now)], request=False)

    def _done_spelling(self, s: GroupState) -> list:
        t = s.typed
        word = t.spelling or ""
        new = Typed(t.fixed + word + (SPACE if word else ""))
        return self._change(replace(s, layer=KEYS), new, [Selected(DONE, word, s.now)], request=False)

    def _arm_speak(self, s: GroupState) -> list:
        if not " ".join(s.message.replace(PENDING, "").split()):
            return self._stay(replace(s, layer=self._home(s)))  # nothing to say: back to typing
        self.state = replace(s, layer=CONFIRM)
        return [Selected(B.SPEAK, B.SPEAK_CONFIRM, s.now)]

    def _speak(self, s: GroupState) -> list:
        text = " ".join(s.message.replace(PENDING, "").split())
        out = [Selected(B.SPEAK, "", s.now), Speak(text, s.now)]
        conv = (s.conversation + (text,))[-self.config.context_turns:]
        return out + self._change(replace(s, layer=KEYS, conversation=conv), Typed(), [], request=False)

    def _help(self, s: GroupState) -> list:
        self.state = replace(s, layer=self._home(s), narrow="")
        return [Selected(B.HELP, "", s.now), CallForHelp(s.now)]

    def _undo(self, s: GroupState) -> list:
        out = [Selected(B.UNDO, "", s.now)]
        if not s.history:
            return out + self._stay(replace(s, layer=self._home(s), narrow=""))
        prev = s.history[-1]
        s = replace(s, typed=prev, history=s.history[:-1], narrow="", choices=(),
                    layer=SPELL if prev.spelling is not None else KEYS)
        out.append(MessageChanged(prev.message, (), s.now))
        return out + self._request(s)

    def _change(self, s: GroupState, new: Typed, out: list, request: bool = True) -> list:
        if new != s.typed:
            s = replace(s, typed=new, history=(s.history + (s.typed,))[-UNDO_DEPTH:])
            out = out + [MessageChanged(new.message, (), s.now)]
        s = replace(s, choices=())
        return out + (self._request(s) if request else self._stay(replace(s, request_id=0)))

    def _request(self, s: GroupState) -> list:
        t = s.typed
        if not t.keys or t.spelling is not None or self.config.prediction == "off":
            return self._stay(replace(s, request_id=0))
        rid = s.next_request_id
        self.state = replace(s, request_id=rid, next_request_id=rid + 1)
        query = (t.fixed, "".join(str(k) for k in t.keys))
        return [RequestSuggestions(rid, "groups", query, s.conversation, s.now)]

    def _suggestions(self, ev: SuggestionsReady) -> list:
        s = self.state
        if not s.request_id or ev.request_id != s.request_id:
            return []  # stale: the keys changed since it was asked
        n = len(s.typed.keys)
        texts: list[str] = []
        scores: dict[str, float] = {}
        for cand in sorted(ev.candidates, key=lambda c: -c.score):
            text = str(cand.text).lower()
            body = text[:-1] if text.endswith(SPACE) else text
            ok = len(body) >= n and body and all(ch in SYMBOLS for ch in body)
            ok = ok and (len(body) == n) == (not text.endswith(SPACE))  # a reading has a letter a key; a completion ends its word
            if ok and self.layout.code(body[:n]) != s.typed.keys:
                ok = False  # not a reading of these keys
            if ok and text not in texts:
                texts.append(text)
                scores[text] = float(cand.score)
        whole = [t for t in texts if not t.endswith(SPACE)]
        longer = [t for t in texts if t.endswith(SPACE)]
        lead = COMPLETION_LEAD
        if lead is not None and longer and (not whole or scores[longer[0]] > scores[whole[0]] + lead):
            whole = longer[:1] + whole  # a longer word far likelier than any these keys spell: shown first
            longer = longer[1:]
        texts = whole + longer
        texts = texts[: self.config.max_candidates + 2]
        if not texts:  # nothing reads these keys: the placeholder stays, spelling is one step away
            return self._stay(replace(s, choices=()))
        pick = s.typed.pick if s.typed.pick < len(texts) else 0
        typed = replace(s.typed, shown=texts[pick], pick=pick)
        self.state = replace(s, choices=tuple(texts), typed=typed)  # an answer is not an edit: nothing to undo
        return [MessageChanged(typed.message, (), ev.time)] if typed != s.typed else []


def state_with_message(mode: str, message: str):
    """A fresh speller state for `mode` holding `message` (when the bedside switches between the board
    modes and the keyboard, nothing the patient composed is lost)."""
    from .machine import GROUPS, Content, SpellerState  # noqa: PLC0415

    text = " ".join(message.replace(PENDING, "").split())
    if mode == GROUPS:
        return GroupState(typed=Typed(fixed=text + SPACE if text else ""))
    return SpellerState(content=Content(message=text + SPACE if text else ""))
