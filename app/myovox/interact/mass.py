"""Selection by probability mass (modes "likely" for 1 gesture and "split" for 2-3): a code over the
language model's distribution instead of a cursor walking a grid.

Each turn (one activated item: a word, a letter, a space, undo, speak or help) is a tree over the
root's items, ordered likeliest first: the word candidates and the next letters as the language layer
ranks them (`SuggestionsReady.candidates` and `.letters`), undo and speak with the chance that they are
wanted (`MassModel`), CALL FOR HELP last. A node's items are cut into contiguous groups:

- split (2-3 gestures, roles group1..group3): as many groups as gestures, of near-equal mass; each
  gesture picks its group ("this half / the other half", or a third). A likely word is one or two
  gestures, a letter the language layer ranks low a few more: about one bit a gesture with two.
  Below the root every node also holds BACK (nothing changed) as the last item of its last group, so a
  wrong pick costs a few gestures (the last gesture, repeated) and never a selection. BACK leads to the
  node where the pick before that run of last gestures was made (the pick that may have been misread),
  not to the root, so the picks before it are not made again (`_back_from`).
- likely (1 gesture, role select): the groups are lit in turn, the first one holding about half the
  mass, the next half of the rest and so on (the code that is optimal when waiting one scan period
  costs as much as a burst), so the likeliest word is lit first, for `first_dwell` periods; a burst
  picks the group that was lit when the burst began (as in `scan`). CALL FOR HELP is a group of its
  own, the last one of the root; a node nobody picks from in `cycles_before_exit` passes returns to the
  root by itself. A burst the decoder could not read (no action, not rest) keeps the group it began on lit
  for another `first_dwell`, once, so the patient tries again at once instead of waiting a whole pass
  (it selects nothing).

Safety (proved over every reachable state by the exhaustive walks in tests/interact/test_mass.py):
- CALL FOR HELP within 2 selections from every state (a selection = a gesture that activates an item;
  group picks, BACK and "no" only navigate). likely: 1 (wait for the root, pick the help group); split:
  2 (the help item, then "yes, call for help"): with two or three gestures one misread could otherwise
  call for help, so it asks once.
- Nothing is spoken without a confirming selection: SPEAK opens "say it? / no", and only "say it" speaks;
  split asks a second time ("yes, say it now"): with one confirmation a SPEAK reached by a misread and
  a "no" misread as "say it" spoke once in 30 simulated phrases (2 gestures, prediction off).
- Undo: an item of the root with the chance of a misread (`MassModel.undo_mass`), so a few gestures; a
  wrong pick inside the tree is undone by BACK before anything changed. Not one gesture away: every
  gesture of these modes picks a group (a 4th gesture in split becomes an undo shortcut).

Pure: no Qt, no clock of its own, no call into the language layer; the same interface as
`machine.Speller` (handle, state, rows, highlighted, message, clone, advance_due).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..events import GestureDecision
from . import boards as B
from .machine import ROWS, Choice, Content, Highlight, _apply_choice
from .events import CallForHelp, MessageChanged, RequestSuggestions, Selected, Speak, SuggestionsReady, TakesEvents

LIKELY, SPLIT = "likely", "split"
GROUP_ROLES = ("group1", "group2", "group3")
BACK = "back"  # Cell kind: back to the root of the turn (navigation, not a selection)
NO = "no"  # Cell kind: a confirmation declined (navigation)
SAY_IT = "say_it"
CALL = "call"  # Cell kind of "yes, call for help" (split)
ASK_HELP = "ask_help"  # Selected.kind of the help item in split mode (it asks once)
UNDO_DEPTH = 64
ALPHABET = B.FREQUENCY_ORDER  # " etaoin...": every symbol the letter board types

Entry = tuple[B.Cell, float]


@dataclass(frozen=True)
class MassModel:
    """How the ranks the language layer gives become the masses the tree is cut by (it answers with
    orders, not calibrated probabilities). Chosen with `myovox simulate` (see the README)."""

    #: the word candidates, best first, by how many letters of the word are typed (0, 1, 2, 3+): how often
    #: the wanted word had that rank, measured on the starter phrases by `bench/mass_calibration.py`
    word_mass: tuple[tuple[float, ...], ...] = ((0.225, 0.124, 0.060, 0.040, 0.038), (0.431, 0.138, 0.056, 0.035, 0.010),
                                                (0.546, 0.101, 0.067, 0.021, 0.032), (0.798, 0.087, 0.029, 0.012, 0.012))
    #: the same with the LLM ranking the words (prediction "phrases"; `--llm 40`: 40 of the phrases; a rank
    #: never right there keeps 0.005, so its word stays within reach). Five words, not more: with 20 (ranks
    #: measured with `--n 20`) the LLM's likely scan and split were slower on starter phrases (the session 7 note)
    word_mass_model: tuple[tuple[float, ...], ...] = ((0.331, 0.129, 0.202, 0.028, 0.028), (0.742, 0.129, 0.032, 0.005, 0.006),
                                                      (0.872, 0.040, 0.024, 0.005, 0.016), (0.914, 0.038, 0.005, 0.005, 0.005))
    letter_ratio: float = 0.85  # each next letter has this share of the one before it (measured likewise)...
    letter_floor: float = 0.05  # ...mixed with this much of an even spread (no letter is ever far out of reach)
    undo_mass: float = 0.06  # after an edit: the chance it was a mistake
    speak_mass: float = 0.15  # after a whole word (message ends with a space)
    help_mass: float = 0.03  # split: the help item (likely: its own group whatever its mass)
    back_mass: float = 0.05  # split, below the root: a misread one level up
    scan_share: float = 0.5  # likely: the share of the remaining mass each lit group holds


def _group_end(entries: tuple[Entry, ...], i: int, stop: int, target: float) -> int:
    """Where the group that starts at `i` ends: entries join while its mass comes nearer `target` (at least one
    entry, never past `stop`, so the groups after it keep one each)."""
    acc, j = 0.0, i
    while j < stop:
        m = entries[j][1]
        if j > i and abs(acc + m - target) > abs(acc - target):
            break
        acc += m
        j += 1
    return j


def split_even(entries: tuple[Entry, ...], k: int) -> list[tuple[Entry, ...]]:
    """Contiguous groups, at most `k`, of mass as near equal as the order allows."""
    n = len(entries)
    if n <= k:
        return [(e,) for e in entries]
    out, i = [], 0
    for g in range(k - 1):
        left = k - g
        target = sum(m for _, m in entries[i:]) / left
        j = _group_end(entries, i, n - (left - 1), target)
        out.append(entries[i:j])
        i = j
    out.append(entries[i:])
    return out


def split_scan(entries: tuple[Entry, ...], share: float) -> list[tuple[Entry, ...]]:
    """Groups lit in turn: each holds about `share` of the mass not yet lit."""
    out, i, n = [], 0, len(entries)
    while i < n:
        if n - i <= 2:
            out.extend((e,) for e in entries[i:])
            break
        target = share * sum(m for _, m in entries[i:])
        j = _group_end(entries, i, n - 1, target)
        out.append(entries[i:j])
        i = j
    return out


@dataclass(frozen=True)
class MassState:
    content: Content = Content()
    history: tuple = ()
    conversation: tuple[str, ...] = ()
    choices: tuple = ()  # machine.Choice: the word candidates of the latest answer
    letter_order: str = ""
    items: tuple[Entry, ...] = ()  # the root of this turn, in order
    path: tuple[int, ...] = ()  # the groups picked so far this turn
    confirm: str = ""  # "speak", "speak_again" (split) or "help": the confirmation is up
    request_id: int = 0
    next_request_id: int = 1
    now: float = 0.0
    scanning: bool = False
    lit: int = 0  # likely: the group lit
    cycles: int = 0
    highlight_since: float = 0.0
    advance_due: float | None = None
    previous: tuple | None = None  # likely: (items, path, confirm, lit) lit before the last move
    previous_since: float = 0.0
    held: bool = False  # likely: the group lit was held once for a burst the decoder could not read

    @property
    def speak_armed(self) -> bool:
        return self.confirm in ("speak", "speak_again")

    @property
    def highlight(self) -> Highlight:
        return Highlight(ROWS, self.lit if self.scanning else -1)


class MassSpeller(TakesEvents):
    def __init__(self, config, state: MassState | None = None, model: MassModel | None = None):
        self.config = config
        self.model = model or MassModel()
        self.scanning = config.mode == LIKELY
        self.k = 1 if self.scanning else sum(1 for r in config.roles.values() if r in GROUP_ROLES)
        if state is None:
            state = MassState(content=Content(), scanning=self.scanning)
            state = replace(state, items=self.root_items(state))
        self.state = state

    def clone(self) -> "MassSpeller":
        return MassSpeller(self.config, self.state, self.model)

    # -- the tree ---------------------------------------------------------------------------------
    def root_items(self, s: MassState) -> tuple[Entry, ...]:
        """The items of a turn with their masses, likeliest first; CALL FOR HELP last."""
        md = self.model
        msg = s.content.message
        at_word_start = not msg or msg.endswith(" ")
        entries: list[Entry] = []
        words = [c.text for c in s.choices] if self.config.prediction != "off" else []
        typed = len(msg) - len(msg.rsplit(" ", 1)[-1]) if msg else 0
        table = md.word_mass_model if self.config.prediction == "phrases" else md.word_mass
        bucket = table[min(len(msg) - typed, len(table) - 1)]
        partial = msg[typed:].lower()
        space_word = 0.0  # a candidate that is the word as typed means "space": its mass goes to SPACE
        for w, m in zip(words, bucket):
            if partial and w.lower() == partial:
                space_word += m
            else:
                entries.append((B.Cell(B.CANDIDATE, w), m))
        letter_share = 1.0 - sum(m for _, m in entries) - space_word
        order = []
        for ch in s.letter_order + ALPHABET.replace(" ", "") + " ":
            if ch in ALPHABET and ch not in order and not (ch == " " and at_word_start):
                order.append(ch)
        weights = [md.letter_ratio ** r for r in range(len(order))]
        total = sum(weights)
        for ch, wt in zip(order, weights):
            cell = B.Cell(B.SPACE) if ch == " " else B.Cell(B.LETTER, ch)
            share = (1 - md.letter_floor) * wt / total + md.letter_floor / len(order)
            entries.append((cell, letter_share * share + (space_word if ch == " " else 0.0)))
        if s.history:
            entries.append((B.Cell(B.UNDO), md.undo_mass))
        if msg.strip():
            entries.append((B.Cell(B.SPEAK), md.speak_mass if msg.endswith(" ") else md.undo_mass / 6))
        entries.sort(key=lambda e: -e[1])  # stable: the words before letters of equal mass
        entries.append((B.Cell(B.HELP), md.help_mass))
        return tuple(entries)

    def groups_at(self, items: tuple[Entry, ...], path: tuple[int, ...], confirm: str = "") -> list[tuple[Entry, ...]]:
        """The groups on screen at this node of the turn."""
        if confirm:
            yes = {"speak": B.Cell(SAY_IT, "SAY IT"), "speak_again": B.Cell(SAY_IT, "YES, SAY IT NOW"),
                   "help": B.Cell(CALL, "YES, CALL FOR HELP")}[confirm]
            no = B.Cell(NO, "no, back")
            return [((yes, 1.0),)] + [((no, 1.0),)] * max(1, self.k - 1)
        cur = items
        for depth in range(len(path) + 1):
            groups = self._cut(cur, depth)
            if depth == len(path):
                return groups
            if path[depth] >= len(groups):
                return groups
            cur = groups[path[depth]]
        return []

    def _cut(self, entries: tuple[Entry, ...], depth: int) -> list[tuple[Entry, ...]]:
        if self.scanning:
            if depth == 0:  # help is a group of its own, the root's last
                return split_scan(entries[:-1], self.model.scan_share) + [entries[-1:]]
            return split_scan(entries, self.model.scan_share)
        if depth == 0:
            return split_even(entries, self.k)
        # below the root BACK is the last item of the last group, whatever the masses: the last gesture
        # again and again always leads back (and every group is smaller than its node: no endless descent)
        back = (B.Cell(BACK), self.model.back_mass)
        groups = split_even(tuple(e for e in entries if e[0].kind != BACK), self.k)
        if len(groups) < self.k:
            return groups + [(back,)]
        return groups[:-1] + [groups[-1] + (back,)]

    def current_groups(self, s: MassState | None = None) -> list[tuple[Entry, ...]]:
        s = s or self.state
        return self.groups_at(s.items, s.path, s.confirm)

    # -- what is on screen ------------------------------------------------------------------------
    @property
    def message(self) -> str:
        return self.state.content.message

    @property
    def advance_due(self) -> float | None:
        return self.state.advance_due

    def gesture_names(self) -> tuple[str, ...]:
        by_role = {role: label for label, role in self.config.roles.items()}
        roles = ("select",) if self.scanning else GROUP_ROLES[: self.k]
        return tuple(by_role.get(r, r) for r in roles)

    def rows(self, state: MassState | None = None) -> tuple[B.Row, ...]:
        """One row per group: (split) the gesture that picks it, then its words, its letters in one cell,
        its controls; the likely scan lights the row of the group lit."""
        s = state or self.state
        names = self.gesture_names()
        out = []
        for g, group in enumerate(self.groups_at(s.items, s.path, s.confirm)):
            cells: list[B.Cell] = []
            if not self.scanning:
                cells.append(B.Cell("key", f"{g + 1}\n({names[g]})"))
            letters = "".join(c.value if c.kind == B.LETTER else "_" for c, _ in group if c.kind in (B.LETTER, B.SPACE))
            for c, _ in group:
                if c.kind in (B.LETTER, B.SPACE):
                    continue
                cells.append(c)
            if letters:
                cells.append(B.Cell(B.LETTER, " ".join(letters)))
            out.append(tuple(cells))
        return tuple(out)

    def row_cells(self, row: int, state: MassState | None = None) -> B.Row:
        return self.rows(state)[row]

    def highlighted(self) -> B.Row:
        rows = self.rows()
        return rows[min(self.state.lit, len(rows) - 1)]

    def nav_key(self) -> tuple:
        s = self.state
        return (s.path, s.confirm, s.lit, s.cycles, len(s.items), s.items[:1])

    # -- input (`handle`, from TakesEvents) --------------------------------------------------------
    def _dwell(self, lit: int) -> float:
        t = self.config.timing
        return t.period_s * (t.first_dwell if lit == 0 else 1.0)

    def _tick(self, t: float) -> list:
        s = replace(self.state, now=max(self.state.now, t))
        if not self.scanning:
            self.state = s
            return []
        if s.advance_due is None:
            s = replace(s, highlight_since=t, advance_due=t + self._dwell(s.lit))
        while s.advance_due is not None and t >= s.advance_due:
            since = s.advance_due
            n = len(self.current_groups(s))
            lit, cycles, path, confirm = s.lit + 1, s.cycles, s.path, s.confirm
            if lit >= n:
                lit = 0
                if path or confirm:
                    cycles += 1
                    if cycles >= self.config.timing.cycles_before_exit:
                        path, confirm, cycles = (), "", 0  # nobody chose: back to the root
            moved = self._at_root_if(replace(s, lit=lit, cycles=cycles, path=path, confirm=confirm))
            s = replace(moved, held=False, previous=(s.items, s.path, s.confirm, s.lit), previous_since=s.highlight_since,
                        highlight_since=since, advance_due=since + self._dwell(moved.lit))
        self.state = s
        return []

    def _at_root_if(self, s: MassState) -> MassState:
        """Back at the root of a turn: the root holds the latest answer."""
        if s.path or s.confirm:
            return s
        items = self.root_items(s)
        return s if items == s.items else replace(s, items=items)

    def _decision(self, d: GestureDecision) -> list:
        if not d.is_action:
            if self.scanning and d.label is None:
                return self._hold(d)
            return []
        role = self.config.roles.get(d.label)
        s = replace(self.state, now=max(self.state.now, d.time))
        if s.previous is not None and s.previous_since <= d.time < s.highlight_since:
            items, path, confirm, lit = s.previous  # what was on screen (and lit) when the burst began
            s = replace(s, items=items, path=path, confirm=confirm, lit=lit)
        if self.scanning:
            if role != "select":
                return self._stay(s)
            return self._pick(s, s.lit)
        if role == "undo":
            return self._activate(s, B.Cell(B.UNDO))
        if role not in GROUP_ROLES[: self.k]:
            return self._stay(s)
        return self._pick(s, GROUP_ROLES.index(role))

    def _hold(self, d: GestureDecision) -> list:
        """likely: a burst the decoder could not read (no action, not rest) that began on the group lit keeps
        that group lit for one more first dwell, once per lighting, so the patient tries again at once instead of
        waiting a whole pass for it to come round (nothing is selected: the burst is not read as anything)."""
        s = replace(self.state, now=max(self.state.now, d.time))
        if s.held or s.advance_due is None or d.time < s.highlight_since:
            return self._stay(s)  # held once already, or the burst began on a group no longer lit
        return self._stay(replace(s, held=True, advance_due=max(s.advance_due, s.now + self._dwell(0))))

    def _stay(self, s: MassState) -> list:
        self.state = s
        return []

    def _pick(self, s: MassState, g: int) -> list:
        groups = self.groups_at(s.items, s.path, s.confirm)
        if g >= len(groups):
            return self._stay(s)
        group = groups[g]
        if len(group) > 1:
            return self._stay(self._restart(replace(s, path=s.path + (g,)), root=False))
        return self._activate(s, group[0][0])

    def _restart(self, s: MassState, root: bool = True) -> MassState:
        """A new node is on screen: scanning starts on its first group."""
        if root:
            s = self._at_root_if(replace(s, path=(), confirm=""))
        due = s.now + self._dwell(0) if self.scanning else None
        return replace(s, lit=0, cycles=0, highlight_since=s.now, advance_due=due, previous=None, held=False)

    # -- what an item does ------------------------------------------------------------------------
    def _activate(self, s: MassState, cell: B.Cell) -> list:
        t = s.now
        c = s.content
        kind = cell.kind
        if kind == BACK:  # up to where the pick that may have been misread was made (the root: its latest answer)
            up = _back_from(s.path, self.k)
            return self._stay(self._restart(replace(s, path=up), root=not up))
        if kind == NO:
            return self._stay(self._restart(s))
        if kind == B.HELP and not self.scanning:
            return self._open(s, "help", [Selected(ASK_HELP, "", t)])
        if kind in (B.HELP, CALL):
            self.state = self._restart(s)
            return [Selected(B.HELP, "", t), CallForHelp(t)]
        if kind == B.SPEAK:
            if not " ".join(c.message.split()):
                return self._stay(self._restart(s))
            return self._open(s, "speak", [Selected(B.SPEAK, B.SPEAK_CONFIRM, t)])
        if kind == SAY_IT and not self.scanning and s.confirm == "speak":
            return self._open(s, "speak_again", [])  # split asks twice: two misreads in a row spoke once
        if kind == SAY_IT:
            text = " ".join(c.message.split())
            out = [Selected(B.SPEAK, "", t), Speak(text, t)]
            s = replace(s, conversation=(s.conversation + (text,))[-self.config.context_turns:])
            return out + self._edit(s, Content())
        out = [Selected(kind, cell.value, t)]
        if kind == B.UNDO:
            if not s.history:
                return out + self._stay(self._restart(s))
            prev = s.history[-1]
            s = replace(s, content=prev, history=s.history[:-1])
            return out + [MessageChanged(prev.message, (), t)] + self._refresh(s)
        if kind == B.LETTER:
            new = replace(c, message=c.message + cell.value)
        elif kind == B.SPACE:
            new = replace(c, message=c.message + " ")
        elif kind == B.CANDIDATE:
            new = _apply_choice(c, Choice(cell.value, "words"))
        else:
            return out + self._stay(self._restart(s))
        return out + self._edit(s, new)

    def _open(self, s: MassState, what: str, out: list) -> list:
        self.state = self._restart(replace(s, path=(), confirm=what), root=False)
        return out

    def _edit(self, s: MassState, new) -> list:
        c = s.content
        if new == c:
            return self._stay(self._restart(s))
        s = replace(s, content=new, history=(s.history + (c,))[-UNDO_DEPTH:])
        return [MessageChanged(new.message, (), s.now)] + self._refresh(s)

    def _refresh(self, s: MassState, t: float | None = None) -> list:
        """The message changed (or, from the bedside session, was restored at time `t`): a new turn, and a
        question to the language layer."""
        s = replace(s, choices=(), letter_order="", path=(), confirm="", now=max(s.now, t if t is not None else s.now))
        out = []
        if self.config.prediction != "off":
            rid = s.next_request_id
            out.append(RequestSuggestions(rid, "words", s.content.message, s.conversation, s.now))
            s = replace(s, request_id=rid, next_request_id=rid + 1)
        self.state = self._restart(s)
        return out

    def _suggestions(self, ev: SuggestionsReady) -> list:
        s = self.state
        if not s.request_id or ev.request_id != s.request_id:
            return []  # stale: the message changed since it was asked
        seen, fresh = set(), []
        for cand in sorted(ev.candidates, key=lambda c: -c.score):
            text = " ".join(str(cand.text).split())
            if text and " " not in text and text.lower() not in seen:
                seen.add(text.lower())
                fresh.append(Choice(text, "words", cand.source))
        s = replace(s, choices=tuple(fresh[: self.config.max_candidates]), letter_order=ev.letters or s.letter_order,
                    request_id=0, now=max(s.now, ev.time))
        if s.path or s.confirm:
            return self._stay(s)  # the patient is inside the tree: the answer waits for the root
        items = self.root_items(s)
        if items != s.items:
            # the root changes under the patient: a burst begun before this means what was lit then
            s = replace(s, items=items, previous=(s.items, s.path, s.confirm, s.lit), previous_since=s.highlight_since,
                        lit=0, cycles=0, held=False, highlight_since=max(s.highlight_since, ev.time),
                        advance_due=(max(s.highlight_since, ev.time) + self._dwell(0)) if self.scanning else None)
        self.state = s
        return []


def _back_from(path: tuple[int, ...], k: int) -> tuple[int, ...]:
    """Where BACK leads: BACK is the last item of the last group, so the picks that walked to it are the
    trailing run of last-group picks; the pick before that run is the one that may have been misread.
    Back to the node where that pick was made (never below the root)."""
    i = len(path)
    while i > 0 and path[i - 1] == k - 1:
        i -= 1
    return path[: max(0, i - 1)]


def mass_state_with_message(config, message: str) -> MassState:
    text = " ".join(message.split())
    sp = MassSpeller(config)
    s = replace(sp.state, content=Content(message=text + " " if text else ""))
    return replace(s, items=sp.root_items(s))
