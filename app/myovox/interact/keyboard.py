"""The ambiguous keyboard (mode "groups", 4+ gestures): one gesture per letter, naming its letter group.

Three gestures are keys, each carrying a group of letters; the fourth opens the control layer. The
language layer reads a word's keys (`RequestSuggestions` task "groups", answered with the likeliest
readings best first, then whole-word completions); the message shows the best reading. Layers, each
gesture doing what the screen names for it:

    keys            key 1-3: type a letter of that group        control: the controls
    controls        key 1: SPACE (the word as shown is done)    key 2: OTHER WORD (the next reading;
     (in a word)    key 3: UNDO                                  past the last one: spell the word)
                    control: CALL FOR HELP
    controls        key 1: SPEAK (asks again)   key 2: SPELL a word   key 3: UNDO
     (between words) control: CALL FOR HELP
    confirm         key 1: say it               key 2-3: no, back to typing     control: the controls
    spell           key 1-3: narrow down to a letter (three choices a step: a letter is three gestures)
                    control: the spelling controls (word done, back, undo, help)

Walking the readings stays in the controls, so the third reading of a word is control, other, other,
space. Safety (the exhaustive walks in tests/interact/test_keyboard.py prove them): CALL FOR HELP is one
selection from every state and at most three gestures (control, control, control; two from the
controls), and a single misread never calls it: the controls are open for every space, and with
help on one gesture there a key misread as "control" called for help 4 and 9 times in 30 simulated
phrases (comm_dev, MacKenzie; 95 % + 5 % no action, LLM); nothing is spoken but by key 1 in the confirm
layer, which only key 1 in the between-words controls opens, so one misread can never speak; UNDO is
one gesture in the controls and two from everywhere else. With four gestures no layout of three letter
keys can also give a one-gesture undo (the keys and the control gesture are all taken); a fifth gesture
becomes an undo shortcut (`default_roles`). The space has its own gesture pair (control, key 1) rather
than a place on a letter key: see `language.groups` for what that measured.

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
HELP_ARMED_CAPTION = "CALL FOR HELP? again: yes"


@dataclass(frozen=True)
class Typed:
    """What undo restores: the fixed text (whole words, each with its space), the keys of the word being
    typed and the reading shown for them (`pick`: which one), and the letters of a word being spelled
    (None when not spelling)."""

    fixed: str = ""
    keys: tuple[int, ...] = ()
    shown: str = ""
    pick: int = 0
    spelling: str | None = None

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
    def highlight(self):
        from .machine import CELLS, Highlight  # noqa: PLC0415 (machine imports this module)

        return Highlight(CELLS, 0, min(self.typed.pick, max(0, len(self.choices) - 1)))


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
            return tuple(self.layout.caption(k) for k in range(n)) + ("controls",)
        if s.layer == SPELL:
            parts = spell_split(s.narrow or SYMBOLS, n)
            return tuple(" ".join(p) for p in parts + [""] * (n - len(parts))) + ("controls",)
        if s.layer == CONFIRM:
            return tuple(["SAY IT", "no, back", "no, back"] + back) + ("controls",)
        help_cell = HELP_ARMED_CAPTION if s.help_armed else HELP_CAPTION
        if s.layer == SPELL_CONTROL:
            return tuple(["word done", "back to spelling", "undo"] + back) + (help_cell,)
        if s.typed.keys:
            other = "other word" if s.typed.pick + 1 < len(s.choices) else "spell it"
            return tuple(["space", other, "undo"] + back) + (help_cell,)
        return tuple(["speak", "spell a word", "undo"] + back) + (help_cell,)

    def rows(self, state: GroupState | None = None) -> tuple[B.Row, ...]:
        """Row 0: the readings of the word being typed (the one shown is lit); row 1: one cell per
        gesture, saying what it does now."""
        s = state or self.state
        readings = tuple(B.Cell(B.CANDIDATE, t.strip()) for t in s.choices)
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
        return row[min(s.typed.pick, len(row) - 1)]

    def nav_key(self) -> tuple:
        """What tells screens apart for a planner (the message aside)."""
        s = self.state
        return (s.layer, s.narrow, s.typed.pick, len(s.choices), bool(s.typed.keys), s.typed.spelling is not None,
                s.help_armed)

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
        if s.typed.keys:
            return self._space(s) if k == 0 else self._other(s)
        return self._arm_speak(s) if k == 0 else self._start_spelling(s)

    # -- what the gestures do ---------------------------------------------------------------------
    def _type(self, s: GroupState, k: int) -> list:
        t = s.typed
        new = Typed(t.fixed, t.keys + (k,), t.shown[: len(t.keys)] + PENDING)
        return self._change(s, new, [Selected(KEY, str(k + 1), s.now)])

    def _space(self, s: GroupState) -> list:
        """The word as shown is done: it joins the fixed text with its space."""
        t = s.typed
        word = t.shown.replace(PENDING, "").strip()
        if not word:
            return self._stay(replace(s, layer=KEYS))
        new = Typed(t.fixed + word + SPACE)
        return self._change(replace(s, layer=KEYS), new, [Selected(B.SPACE, word, s.now)], request=False)

    def _other(self, s: GroupState) -> list:
        """Show the next reading (the controls stay up, so "other" again walks on and "space" takes it);
        past the last one, spell the word out."""
        t = s.typed
        if t.pick + 1 < len(s.choices):
            pick = t.pick + 1
            new = replace(t, shown=s.choices[pick], pick=pick)
            return self._change(s, new, [Selected(OTHER, s.choices[pick], s.now)], keep_choices=True)
        return self._start_spelling(s)

    def _start_spelling(self, s: GroupState) -> list:
        """Spell a word letter by letter (it replaces the word being typed, if any)."""
        new = Typed(s.typed.fixed, spelling="")
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

    def _change(self, s: GroupState, new: Typed, out: list, request: bool = True, keep_choices: bool = False) -> list:
        if new != s.typed:
            s = replace(s, typed=new, history=(s.history + (s.typed,))[-UNDO_DEPTH:])
            out = out + [MessageChanged(new.message, (), s.now)]
        if keep_choices:
            return out + self._stay(s)
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
        for cand in sorted(ev.candidates, key=lambda c: -c.score):
            text = str(cand.text).lower()
            body = text[:-1] if text.endswith(SPACE) else text
            ok = len(body) >= n and body and all(ch in SYMBOLS for ch in body)
            ok = ok and (len(body) == n) == (not text.endswith(SPACE))  # a reading has a letter a key; a completion ends its word
            if ok and self.layout.code(body[:n]) != s.typed.keys:
                ok = False  # not a reading of these keys
            if ok and text not in texts:
                texts.append(text)
        texts = [t for t in texts if not t.endswith(SPACE)] + [t for t in texts if t.endswith(SPACE)]
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
