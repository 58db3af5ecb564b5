"""The speller's state machine: gesture decisions and clock ticks in, selections and intents out.

Pure: no Qt, no device, no clock of its own (time arrives with the events), no call into the language
layer (it emits `RequestSuggestions` and accepts `SuggestionsReady`). The state is one immutable value,
so the UI, the simulator and the exhaustive tests can copy it, replay it and compare it freely.

Modes follow how many gestures the patient's calibration found reliable:
- SCAN (1 gesture): the highlight moves by itself (row, then cell); a burst selects what was highlighted
  when the burst *began*, so a decision that arrives a window later never selects the next item.
- STEP (2-3 gestures): one gesture steps the highlight, one selects (a third may be a shortcut). After
  each selection the highlight rests on the control row (undo first), not on HELP: with two gestures
  a "step" misread as "select" is the commonest error (5 % at 95 % accuracy), and resting on HELP
  turned it into a false call for help every few phrases in the simulator. HELP stays one selection
  away: the steps round to it (one pass down the rows) cost no selection. For the same reason SPEAK asks
  for a second selection in a row (the cell then reads "say it? select again"; any other gesture
  cancels): leaving the control row passes SPEAK, and a misread step there spoke for the patient
  (7 times in 30 simulated phrases at 95 %).
- DIRECT (4+ gestures): next, previous, select, back, plus optional shortcut gestures. After each
  selection the highlight rests on a cell, not a row: the most likely next choice (the top candidate, or
  while there is none the letter the language layer rates likeliest), so a right guess costs one select.
  From there "next" walks the candidates best first and "previous" the letters likeliest first (the
  "likely ring", see `_ring`; the letter order arrives as data with `SuggestionsReady.letters`, the
  machine never asks the language layer itself); "back" leaves the ring up to the rows, on the first
  letter row (a letter the ring ranks low is then reached by row and column), from where the controls
  and HELP are a few "previous" and one select away. Inside a row, next/previous walk that row's cells
  as before. With prediction off there is nothing to rank: the highlight rests on the rows, on the first
  letter row (`_home_row`). Measured with `myovox simulate` (30 comm_dev phrases, 95 %, LLM): 2.36 ->
  1.92 gestures a character; "back" onto the SPEAK cell instead cost 2.09 (speak and undo cheaper, the
  letters the ring ranks low dearer).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from ..events import GestureDecision
from . import boards as B
from .events import CallForHelp, MessageChanged, RequestSuggestions, Selected, Speak, SuggestionsReady, TakesEvents

SCAN, STEP, DIRECT, GROUPS = "scan", "step", "direct", "groups"
LIKELY, SPLIT = "likely", "split"  # selection by probability mass (1 gesture; 2-3), see `interact.mass`
MODES = (SCAN, STEP, DIRECT, GROUPS, LIKELY, SPLIT)  # GROUPS: the ambiguous keyboard, see `interact.keyboard`

#: What a gesture can mean. The caregiver names gestures freely; a mapping label -> role says what each does.
NAV_ROLES = ("select", "next", "previous", "back")
SHORTCUT_ROLES = ("undo", "speak", "help", "delete")
KEY_ROLES = ("key1", "key2", "key3", "key4", "control")  # the ambiguous keyboard's letter-group keys and its control
GROUP_ROLES = ("group1", "group2", "group3")  # split mode: each gesture picks its group of the probability mass
ROLES = NAV_ROLES + SHORTCUT_ROLES + KEY_ROLES + GROUP_ROLES
REQUIRED_ROLES = {SCAN: ("select",), STEP: ("next", "select"), DIRECT: ("next", "previous", "select", "back"),
                  GROUPS: ("key1", "key2", "key3", "control"), LIKELY: ("select",), SPLIT: ("group1", "group2")}

PREDICTION = ("off", "words", "phrases")
ROWS, CELLS = "rows", "cells"
UNDO_DEPTH = 64


def mode_for(reliable_gestures: int) -> str:
    """The interaction mode a calibration with this many reliable gestures supports by default. Four or
    more: the ambiguous keyboard (GROUPS), which `myovox simulate` measured faster than direct navigation
    at equal or better safety (see the README's "Ambiguous keyboard"); DIRECT stays a clinician option."""
    if reliable_gestures < 1:
        raise ValueError("at least one reliable gesture is needed to use the speller")
    if reliable_gestures == 1:
        return SCAN
    if reliable_gestures < 4:
        return STEP
    return GROUPS


@dataclass(frozen=True)
class ScanTiming:
    """Automatic-scan timing. Bounded: a corrupt or extreme setting falls back to the safe default."""

    period_s: float = 1.0  # how long each row or cell stays highlighted
    first_dwell: float = 1.5  # the first item of a scan stays this many periods (time to get ready)
    cycles_before_exit: int = 2  # unanswered passes along a row before the scan returns to the rows

    BOUNDS = {"period_s": (0.3, 5.0), "first_dwell": (1.0, 3.0), "cycles_before_exit": (1, 5)}

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> "ScanTiming":
        """Values out of bounds or of the wrong type keep their default (never brick the speller)."""
        values = {}
        for name, (lo, hi) in cls.BOUNDS.items():
            v = settings.get(name)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v <= hi:
                values[name] = type(getattr(cls, name))(v)
        return cls(**values)


@dataclass(frozen=True)
class Choice:
    """A candidate on screen and how picking it edits the message."""

    text: str
    task: str  # "words" replaces the partial last word; "abbreviation" the typed letters; "phrases" appends
    source: str = ""


@dataclass(frozen=True)
class Content:
    """What undo restores: the message, the selected tile labels and the board on screen."""

    message: str = ""
    labels: tuple[str, ...] = ()
    board: str = B.LETTERS_BOARD


@dataclass(frozen=True)
class Highlight:
    level: str = ROWS
    row: int = 0
    col: int = 0
    cycles: int = 0  # completed passes along the current row (scan mode)
    rank: int | None = None  # direct mode: position in the likely ring (row and col name that cell); None elsewhere


@dataclass(frozen=True)
class SpellerState:
    content: Content = Content()
    highlight: Highlight = Highlight()
    choices: tuple[Choice, ...] = ()
    history: tuple[Content, ...] = ()  # undo stack, most recent last
    conversation: tuple[str, ...] = ()  # what was spoken, as context for the language layer
    latest_request: tuple[tuple[str, int], ...] = ()  # task -> id of the answer still wanted
    answers: tuple[tuple[str, tuple[Choice, ...]], ...] = ()
    next_request_id: int = 1
    now: float = 0.0
    highlight_since: float = 0.0
    previous_highlight: Highlight | None = None  # before the last automatic advance (scan)
    previous_since: float = 0.0
    advance_due: float | None = None  # scan mode: when the highlight moves next
    speak_armed: bool = False  # step mode: SPEAK was selected once and waits for the confirming selection
    letter_order: str = ""  # the language layer's next characters, most likely first (from a "words" answer)
    moved_from: B.Cell | None = None  # direct: the cell lit before an answer moved the highlight (at highlight_since)


@dataclass(frozen=True)
class SpellerConfig:
    mode: str
    roles: Mapping[str, str]  # gesture label -> role
    prediction: str = "words"
    timing: ScanTiming = ScanTiming()
    max_candidates: int = 5
    context_turns: int = 3

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.prediction not in PREDICTION:
            raise ValueError(f"prediction must be one of {PREDICTION}, not {self.prediction!r}")
        bad = {r for r in self.roles.values() if r not in ROLES}
        if bad:
            raise ValueError(f"unknown gesture roles {sorted(bad)}; roles are {ROLES}")
        missing = [r for r in REQUIRED_ROLES[self.mode] if r not in self.roles.values()]
        if missing:
            raise ValueError(f"{self.mode} mode needs a gesture for {missing}; mapping is {dict(self.roles)}")
        if self.mode == GROUPS and self.prediction == "off":
            raise ValueError("the groups mode reads its keys with the language layer: prediction cannot be off")


class Speller(TakesEvents):
    """Drive with `handle(event)`; read `state`, `rows()` and `highlighted()` to draw the screen.

    `Speller(config)` for the groups mode builds the ambiguous keyboard (`keyboard.GroupSpeller`, the same
    interface), so the bedside session and the simulator need not know which mode they drive."""

    def __new__(cls, config: "SpellerConfig", state=None):
        if cls is Speller and config.mode == GROUPS:
            from .keyboard import GroupSpeller  # noqa: PLC0415 (it imports this module)

            return GroupSpeller(config, state)
        if cls is Speller and config.mode in (LIKELY, SPLIT):
            from .mass import MassSpeller  # noqa: PLC0415 (it imports this module)

            return MassSpeller(config, state)
        return super().__new__(cls)

    def __init__(self, config: SpellerConfig, state: SpellerState | None = None):
        self.config = config
        if state is None:
            state = SpellerState(highlight=Highlight(ROWS, self._home_row()))
            if self._likely_ring:
                state = replace(state, highlight=self._rest(state))
        self.state = state

    def _home_row(self) -> int:
        """The row the highlight goes to after a selection: HELP for scanning, the controls for stepping, and
        for direct navigation without prediction the first letter row (with prediction direct navigation
        rests on a cell of the likely ring instead, see `_rest`)."""
        return {SCAN: 0, STEP: 1, DIRECT: 2}[self.config.mode]

    # -- direct mode: the likely ring -------------------------------------------------------------
    @property
    def _likely_ring(self) -> bool:
        """Direct navigation with a language layer rests on the likely ring; with prediction off there is
        nothing to rank (a fixed frequency walk cost more than the rows: 4.8 -> 5.8 gestures a character in
        `myovox simulate`), so the highlight rests on the rows as before."""
        return self.config.mode == DIRECT and self.config.prediction != "off"

    def letter_order(self, state: SpellerState | None = None) -> str:
        """Every symbol of the letter board, most likely next first: the language layer's order, then the
        rest by English frequency (space last at the start of a word, where it cannot be wanted)."""
        s = state or self.state
        fallback = B.FREQUENCY_ORDER
        if not s.content.message or s.content.message.endswith(" "):
            fallback = fallback.replace(" ", "") + " "
        order = []
        for ch in s.letter_order + fallback:
            if ch in B.FREQUENCY_ORDER and ch not in order:
                order.append(ch)
        return "".join(order)

    def _ring(self, s: SpellerState) -> tuple[tuple[int, int], ...]:
        """Direct mode's likely ring over the cells on screen, as (row, col): the candidates best first, then
        the board's symbols from the least to the most likely. Resting on the top candidate (`_rest_rank`),
        "next" walks the candidates and "previous" the letters, likeliest first; with no candidate the rest
        is the likeliest letter and "previous" walks on down the letters."""
        rows = self.rows(s)
        first = 2 + bool(s.choices)  # below HELP, the controls and the candidates
        cands = tuple((2, c) for c in range(len(s.choices)))
        where = {cell: (r, c) for r in range(first, len(rows)) for c, cell in enumerate(rows[r])}
        if s.content.board == B.LETTERS_BOARD:
            cells = [B.Cell(B.SPACE) if ch == " " else B.Cell(B.LETTER, ch) for ch in self.letter_order(s)]
            symbols = [where[c] for c in cells if c in where]
        else:
            symbols = [(r, c) for r in range(first, len(rows)) for c in range(len(rows[r]))]
        return cands + tuple(reversed(symbols))

    def _rest_rank(self, s: SpellerState, ring: tuple) -> int:
        return 0 if s.choices else len(ring) - 1

    def _at_rank(self, s: SpellerState, rank: int, ring: tuple | None = None) -> Highlight:
        ring = ring if ring is not None else self._ring(s)
        rank %= len(ring)
        r, c = ring[rank]
        return Highlight(CELLS, r, c, rank=rank)

    def _rest(self, s: SpellerState) -> Highlight:
        """Where direct navigation rests after a selection: on the most likely next choice."""
        ring = self._ring(s)
        return self._at_rank(s, self._rest_rank(s, ring), ring)

    def clone(self) -> "Speller":
        return Speller(self.config, self.state)

    # -- what is on screen ------------------------------------------------------------------------
    def rows(self, state: SpellerState | None = None) -> tuple[B.Row, ...]:
        s = state or self.state
        return B.screen_rows(s.content.board, tuple(c.text for c in s.choices), s.speak_armed,
                             tuple(B.YOUR_WORDS if c.source == "typed" else "" for c in s.choices))

    def row_cells(self, row: int, state: SpellerState | None = None) -> B.Row:
        """The cells scanned inside a row; scanning modes end each row with an exit back to the rows."""
        cells = self.rows(state)[row]
        return cells + ((B.Cell(B.EXIT_ROW),) if self.config.mode != DIRECT else ())

    def highlighted(self) -> B.Cell | B.Row:
        return self.highlighted_in(self.state)

    def highlighted_in(self, s: SpellerState) -> B.Cell | B.Row:
        h = s.highlight
        return self.rows(s)[h.row] if h.level == ROWS else self.row_cells(h.row, s)[h.col]

    @property
    def message(self) -> str:
        return self.state.content.message

    @property
    def advance_due(self) -> float | None:
        return self.state.advance_due

    # -- input (`handle`, from TakesEvents) --------------------------------------------------------
    def _tick(self, t: float) -> list:
        s = self.state
        s = replace(s, now=max(s.now, t))
        if self.config.mode != SCAN:
            self.state = s
            return []
        if s.advance_due is None:
            s = replace(s, highlight_since=t, advance_due=t + self._dwell(s.highlight))
        while s.advance_due is not None and t >= s.advance_due:
            since = s.advance_due
            moved = self._step(s, +1, auto=True)
            s = replace(moved, previous_highlight=s.highlight, previous_since=s.highlight_since,
                        highlight_since=since, advance_due=since + self._dwell(moved.highlight))
        self.state = s
        return []

    def _dwell(self, h: Highlight) -> float:
        first = (h.level == ROWS and h.row == 0) or (h.level == CELLS and h.col == 0)
        p = self.config.timing.period_s
        return p * self.config.timing.first_dwell if first else p

    def _decision(self, d: GestureDecision) -> list:
        if not d.is_action:  # "no action" (unsure, or rest): doing nothing is safe
            return []
        role = self.config.roles.get(d.label)
        if role is None:
            return []
        s = replace(self.state, now=max(self.state.now, d.time), speak_armed=False)  # only the next gesture confirms
        mode = self.config.mode
        if mode == SCAN:
            if role == "select":
                if s.previous_highlight is not None and s.previous_since <= d.time < s.highlight_since:
                    s = replace(s, highlight=s.previous_highlight)  # the item lit when the burst began
                return self._select(s)
            return self._shortcut(s, role)
        if role == "select":
            if mode == DIRECT and s.moved_from is not None and d.time < s.highlight_since:
                return self._select_moved(s)
            return self._select(replace(s, moved_from=None))
        s = replace(s, moved_from=None)
        if role == "next":
            self.state = self._step(s, +1)
            return []
        if role == "previous" and mode == DIRECT:
            self.state = self._step(s, -1)
            return []
        if role == "back" and mode == DIRECT:
            h = s.highlight
            if h.rank is not None:  # out of the likely ring: up to the rows, on the first letter row
                self.state = replace(s, highlight=Highlight(ROWS, 2 + bool(s.choices)))
            else:
                self.state = replace(s, highlight=Highlight(ROWS, h.row if h.level == CELLS else 0))
            return []
        return self._shortcut(s, role)

    def _select_moved(self, s: SpellerState) -> list:
        """A select whose burst began before a late answer moved the highlight means the cell lit then
        (the rule scanning follows too): that cell if it is still on screen, else nothing (the patient
        sees the new screen and chooses again)."""
        cell, s = s.moved_from, replace(s, moved_from=None)
        ring = self._ring(s) if self._likely_ring else ()
        rows = self.rows(s)
        for k, (r, c) in enumerate(ring):
            if rows[r][c] == cell:
                return self._select(replace(s, highlight=Highlight(CELLS, r, c, rank=k)))
        for r, row in enumerate(rows):
            if cell in row:
                return self._select(replace(s, highlight=Highlight(CELLS, r, row.index(cell))))
        self.state = s
        return []

    def _shortcut(self, s: SpellerState, role: str) -> list:
        kind = {"undo": B.UNDO, "speak": B.SPEAK, "help": B.HELP, "delete": B.DELETE}.get(role)
        if kind is None:
            self.state = s
            return []
        return self._activate(s, B.Cell(kind), reset=False)

    # -- navigation -------------------------------------------------------------------------------
    def _step(self, s: SpellerState, direction: int, auto: bool = False) -> SpellerState:
        h = s.highlight
        if h.rank is not None:
            return replace(s, highlight=self._at_rank(s, h.rank + direction))
        if h.level == ROWS:
            n = len(self.rows(s))
            return replace(s, highlight=Highlight(ROWS, (h.row + direction) % n))
        n = len(self.row_cells(h.row, s))
        col = (h.col + direction) % n
        cycles = h.cycles + (1 if auto and col == 0 else 0)
        if auto and cycles >= self.config.timing.cycles_before_exit:
            return replace(s, highlight=Highlight(ROWS, 0))  # nobody chose: back to the top (HELP first)
        return replace(s, highlight=Highlight(CELLS, h.row, col, cycles))

    def _restart(self, s: SpellerState) -> SpellerState:
        """After a selection the highlight goes back to the mode's home row (direct: the likely rest)."""
        if self._likely_ring:
            return replace(s, highlight=self._rest(s), highlight_since=s.now, previous_highlight=None, advance_due=None)
        h = Highlight(ROWS, min(self._home_row(), len(self.rows(s)) - 1))
        since = s.now
        due = since + self._dwell(h) if self.config.mode == SCAN else None
        return replace(s, highlight=h, highlight_since=since, previous_highlight=None, advance_due=due)

    def _select(self, s: SpellerState) -> list:
        h = s.highlight
        if h.level == ROWS:
            row = self.rows(s)[h.row]
            if len(row) == 1:
                return self._activate(s, row[0])
            entered = replace(s, highlight=Highlight(CELLS, h.row, 0), previous_highlight=None,
                              highlight_since=s.now)
            if self.config.mode == SCAN:
                entered = replace(entered, advance_due=s.now + self._dwell(entered.highlight))
            self.state = entered
            return []
        cell = self.row_cells(h.row, s)[h.col]
        if cell.kind == B.EXIT_ROW:
            self.state = self._restart(s)
            return []
        return self._activate(s, cell)

    # -- what a selection does --------------------------------------------------------------------
    def _activate(self, s: SpellerState, cell: B.Cell, reset: bool = True) -> list:
        t = s.now
        out: list = [Selected(cell.kind, cell.value, t)]
        c = s.content
        new: Content | None = None
        if cell.kind == B.HELP:
            out.append(CallForHelp(t))
        elif cell.kind in (B.LETTER, B.SPACE):
            new = replace(c, message=c.message + (" " if cell.kind == B.SPACE else cell.value))
        elif cell.kind == B.TILE:
            if self.config.prediction == "off":  # no language layer: the tile's word goes in as typed
                sep = " " if c.message and not c.message.endswith(" ") else ""
                new = replace(c, message=c.message + sep + cell.value + " ")
            else:
                new = replace(c, labels=c.labels + (cell.value,))
        elif cell.kind == B.CANDIDATE:
            choice = next((ch for ch in s.choices if ch.text == cell.value), None)
            if choice is not None:
                new = _apply_choice(c, choice)
        elif cell.kind == B.SPEAK:
            text = " ".join(c.message.split())
            # self.state is still the state before this decision: was SPEAK waiting for its confirmation?
            if text and self.config.mode == STEP and not self.state.speak_armed:
                self.state = replace(s, speak_armed=True)  # the highlight stays on SPEAK for the confirmation
                return out
            if text:
                out.append(Speak(text, t))
                s = replace(s, conversation=(s.conversation + (text,))[-self.config.context_turns:])
                new = Content(board=c.board)
        elif cell.kind == B.UNDO:
            if s.history:
                s = replace(s, content=s.history[-1], history=s.history[:-1])
                out.append(MessageChanged(s.content.message, s.content.labels, t))
                out.extend(self._refresh(s, t))
                s = self.state
        elif cell.kind == B.DELETE:
            if c.message:
                new = replace(c, message=c.message[:-1])
            elif c.labels:
                new = replace(c, labels=c.labels[:-1])
        elif cell.kind == B.CLEAR:
            if c.message or c.labels:
                new = replace(c, message="", labels=())
        elif cell.kind == B.TO_LETTERS:
            new = replace(c, board=B.LETTERS_BOARD)
        elif cell.kind == B.TO_PHRASES:
            new = replace(c, board=B.PHRASES_BOARD)
        if new is not None and new != c:
            s = replace(s, content=new, history=(s.history + (c,))[-UNDO_DEPTH:])
            out.append(MessageChanged(new.message, new.labels, t))
            out.extend(self._refresh(s, t))
            s = self.state
        self.state = self._restart(s) if reset else s
        return out

    def _refresh(self, s: SpellerState, t: float) -> list:
        """The content changed: drop the old candidates and ask for new ones."""
        c = s.content
        requests: list[tuple[str, object]] = []
        pred = self.config.prediction
        if pred != "off":
            if c.board == B.PHRASES_BOARD:
                if c.labels:
                    requests.append(("phrases", c.labels))
            else:
                token = c.message.strip()
                if pred == "phrases" and len(token) >= 2 and " " not in token and not c.message.endswith(" "):
                    requests.append(("abbreviation", token))
                requests.append(("words", c.message))
        out = []
        rid = s.next_request_id
        latest = []
        for task, query in requests:
            out.append(RequestSuggestions(rid, task, query, s.conversation, t))
            latest.append((task, rid))
            rid += 1
        cleared = replace(s, choices=(), answers=(), letter_order="", latest_request=tuple(latest), next_request_id=rid)
        self.state = replace(cleared, highlight=self._shifted(s, cleared))
        return out

    def _suggestions(self, ev: SuggestionsReady) -> list:
        s = self.state
        task = next((tk for tk, rid in s.latest_request if rid == ev.request_id), None)
        if task is None:
            return []  # stale: the message changed since it was asked
        seen = {ch.text for tk, chs in s.answers if tk != task for ch in chs}  # a task may answer again
        fresh = []
        for cand in sorted(ev.candidates, key=lambda c: -c.score):
            text = " ".join(str(cand.text).split())
            if text and text not in seen:
                seen.add(text)
                fresh.append(Choice(text, task, cand.source))
        answers = tuple(a for a in s.answers if a[0] != task) + ((task, tuple(fresh)),)
        order = {"phrases": 0, "abbreviation": 1, "words": 2}
        merged: list[Choice] = []
        for _, chs in sorted(answers, key=lambda a: order.get(a[0], 9)):
            merged.extend(chs)
        choices = tuple(merged[: self.config.max_candidates])
        letters = ev.letters if task == "words" and ev.letters else s.letter_order
        updated = replace(s, answers=answers, choices=choices, letter_order=letters)
        h = self._shifted(s, updated)
        updated = replace(updated, highlight=h)
        if self.config.mode == DIRECT and s.highlight.level == CELLS and self.highlighted_in(updated) != self.highlighted_in(s):
            # the answer moved the highlight under the patient: remember what was lit, and since when it is not
            updated = replace(updated, moved_from=self.highlighted_in(s), highlight_since=max(s.highlight_since, ev.time))
        self.state = updated
        return []

    def _shifted(self, before: SpellerState, after: SpellerState) -> Highlight:
        """Keep the highlight on the same row when the candidate row appears or disappears above it;
        a highlight inside the candidate row goes back to the rows, since those candidates are gone. On the
        likely ring (direct mode) a highlight still at rest moves to the new rest (the new top candidate);
        one the patient has walked stays on its cell, or rests again when that cell is gone."""
        h = before.highlight
        if h.rank is not None:
            ring = self._ring(after)
            if h.rank != self._rest_rank(before, self._ring(before)):
                cell = self.rows(before)[h.row][h.col]
                rows = self.rows(after)
                for k, (r, c) in enumerate(ring):
                    if rows[r][c] == cell:
                        return self._at_rank(after, k, ring)
            return self._at_rank(after, self._rest_rank(after, ring), ring)
        had, has = bool(before.choices), bool(after.choices)
        cand_row = 2  # below HELP and the controls
        if h.row < cand_row:
            return h
        if had and h.row == cand_row and (not has or before.choices != after.choices):
            if (h.level == CELLS and h.col < len(after.choices)
                    and after.choices[h.col].text == before.choices[h.col].text):
                return h  # the lit candidate is still where it was (an answer that grew): the scan goes on
            return Highlight(ROWS, cand_row)
        delta = int(has) - int(had)
        return replace(h, row=max(0, min(h.row + delta, len(self.rows(after)) - 1)))


def _apply_choice(c: Content, choice: Choice) -> Content:
    msg = c.message
    if choice.task == "words":
        cut = len(msg) - len(msg.split(" ")[-1])
        return replace(c, message=msg[:cut] + choice.text + " ")
    if choice.task == "abbreviation":
        return replace(c, message=choice.text + " ")
    sep = " " if msg and not msg.endswith(" ") else ""
    return replace(c, message=msg + sep + choice.text + " ", labels=())


def speller(mode: str, roles: Mapping[str, str], **kw) -> Speller:
    """Convenience: a fresh speller for this mode and gesture mapping."""
    return Speller(SpellerConfig(mode, dict(roles), **kw))


def default_roles(gestures: list[str] | tuple[str, ...], mode: str | None = None) -> dict[str, str]:
    """Assign roles to the calibrated gestures in order: enough for the mode, extras become shortcuts.
    The groups mode: three letter-group keys, the control gesture, then undo, speak and help shortcuts."""
    mode = mode or mode_for(len(gestures))
    if mode == GROUPS and len(gestures) < 4:
        raise ValueError("the groups mode needs four gestures")
    order = {SCAN: ("select",), STEP: ("next", "select", "undo"),
             DIRECT: ("next", "select", "previous", "back", "undo", "speak", "help", "delete"),
             GROUPS: ("key1", "key2", "key3", "control", "undo", "speak", "help"),
             LIKELY: ("select",), SPLIT: ("group1", "group2", "group3", "undo")}[mode]
    return {g: r for g, r in zip(gestures, order)}


__all__ = [
    "SCAN", "STEP", "DIRECT", "GROUPS", "LIKELY", "SPLIT", "MODES", "ROLES", "PREDICTION", "ScanTiming", "Choice", "Content", "Highlight",
    "SpellerState", "SpellerConfig", "Speller", "mode_for", "speller", "default_roles",
]
