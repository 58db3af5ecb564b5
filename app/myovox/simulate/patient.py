"""A simulated patient typing target phrases through the real speller state machine.

The patient plans the shortest gesture path to the cell it wants (searching copies of the machine,
so it sees exactly what a person sees), makes each gesture at the pace of real bursts, is
misunderstood with the probabilities of a confusion matrix, and notices its own mistakes and undoes
them. Deterministic for a seed. How the patient notices its mistakes is a parameter, stated in every
report: `notice=1.0` notices every error on screen at once; below 1 an error goes unnoticed with that
chance per gesture (a geometric delay: mean (1 - p) / p gestures), during which the patient types on
as if the screen showed what it meant; it always reads the message before speaking.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..events import GestureDecision
from ..interact import boards as B
from ..interact.events import RequestSuggestions, Selected, Speak, SuggestionsReady, Tick
from ..interact import keyboard as KB
from ..interact.machine import CELLS, DIRECT, GROUP_ROLES, GROUPS, LIKELY, SCAN, SPLIT, STEP, Speller
from ..language.api import Candidate, next_letters
from .timing import GestureTiming

NONE = None  # the decoder's "no action"
REST_NAMES = {"neutral", "rest", "no action"}


def normalise(text: str) -> str:
    """Lower case, letters, apostrophes and single spaces: what the letter board can type."""
    text = re.sub(r"[^a-z' ]+", " ", text.lower())
    return " ".join(text.split())


def abbreviation(text: str) -> str:
    return "".join(w[0] for w in normalise(text).split())


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@dataclass(frozen=True)
class Confusion:
    """P(decoded | intended) over the gesture labels, plus a last column for "no action"."""

    labels: tuple[str, ...]
    matrix: np.ndarray  # (n, n + 1), rows sum to 1
    movements: tuple[str, ...] = ()  # the decoder classes standing for the labels, when from a report

    @classmethod
    def from_accuracy(cls, labels: tuple[str, ...], accuracy: float, no_action: float = 0.0) -> "Confusion":
        """`no_action` of the attempts end with no decision; of the rest, `accuracy` are right and the
        others spread evenly over the other gestures (one gesture: the only error is a missed burst)."""
        if not (0.0 <= no_action < 1.0 and 0.0 <= accuracy <= 1.0):
            raise ValueError(f"accuracy must be in 0..1 and the no-action rate in 0..1, not {accuracy}, {no_action}")
        n = len(labels)
        m = np.zeros((n, n + 1))
        decided = 1.0 - no_action
        for i in range(n):
            m[i, i] = accuracy * decided
            if n == 1:
                m[i, n] = 1 - m[i, i]
            else:
                m[i, [j for j in range(n) if j != i]] = (1 - accuracy) * decided / (n - 1)
                m[i, n] = no_action
        return cls(tuple(labels), m)

    @classmethod
    def from_report(cls, labels: tuple[str, ...], report_labels: list[str], matrix: list[list[float]]) -> "Confusion":
        """The patient's n gestures are the report's n most reliable movement classes (rest excluded), in
        that order; a decision for any class the mode does not use, rest included, does nothing on the
        speller, so it counts as "no action". Rows are counts or rates; a last extra column is "no action"."""
        n = len(labels)
        full = np.asarray(matrix, dtype=float)
        k = len(report_labels)
        if full.ndim != 2 or full.shape[0] != k or full.shape[1] not in (k, k + 1):
            raise ValueError(f"the confusion matrix must be {k} x {k} (or {k + 1} with 'no action'), not {full.shape}")
        rates = full / np.maximum(full.sum(axis=1, keepdims=True), 1e-12)
        movements = [i for i, name in enumerate(report_labels) if name.lower() not in REST_NAMES and full[i].sum() > 0]
        if len(movements) < n:
            raise ValueError(f"the confusion matrix has {len(movements)} movement classes; this mode needs {n}")
        chosen = sorted(movements, key=lambda i: -rates[i, i])[:n]
        m = np.zeros((n, n + 1))
        m[:, :n] = rates[np.ix_(chosen, chosen)]
        m[:, n] = 1.0 - m[:, :n].sum(axis=1)
        return cls(tuple(labels), m, tuple(report_labels[i] for i in chosen))

    def decode(self, intended: str, rng: np.random.Generator) -> str | None:
        i = self.labels.index(intended)
        j = int(rng.choice(self.matrix.shape[1], p=self.matrix[i]))
        return self.labels[j] if j < len(self.labels) else NONE


class CachingSuggester:
    """Answers each (task, input) once per run: the LLM is slow on two cores and deterministic anyway."""

    def __init__(self, inner, n: int = 5):
        self.inner = inner
        self.n = n
        self.cache: dict[tuple, tuple[Candidate, ...]] = {}
        self.letter_cache: dict[tuple, str] = {}
        self.latencies: list[float] = []  # wall time of the calls that were not cached (report only)
        self.calls = 0

    def answer(self, req: RequestSuggestions) -> tuple[Candidate, ...]:
        import time as _time  # measuring the suggester, not driving the state machine

        query = tuple(req.query) if isinstance(req.query, tuple) else req.query
        key = self._key(req)
        self.calls += 1
        if key not in self.cache:
            t0 = _time.perf_counter()
            if req.task == "groups":
                out = self.inner.read_groups(query[0], query[1], context=req.context, n=self.n)
            elif req.task == "words":
                out = self.inner.predict_words(query, n=self.n)
            elif req.task == "abbreviation":
                out = self.inner.expand_abbreviation(query, context=req.context, n=self.n)
            else:
                out = self.inner.phrases_from_labels(list(query), context=req.context, n=self.n)
            self.latencies.append(_time.perf_counter() - t0)
            self.cache[key] = tuple(out)
        return self.cache[key]

    @staticmethod
    def _key(req: RequestSuggestions) -> tuple:
        query = tuple(req.query) if isinstance(req.query, tuple) else req.query
        return (req.task, query, tuple(req.context))

    def letters(self, req: RequestSuggestions) -> str:
        """The next-letter order that comes with a "words" answer (the n-gram's, for the words the answer
        does not offer; cached like the answers)."""
        if req.task != "words":
            return ""
        key = ("letters",) + self._key(req)
        if key not in self.letter_cache:
            cands = self.cache[self._key(req)] if self._key(req) in self.cache else self.answer(req)
            self.letter_cache[key] = next_letters(self.inner, str(req.query), cands)
        return self.letter_cache[key]


@dataclass
class PhraseResult:
    target: str
    chars: int
    seconds: float
    gestures: int  # bursts the patient made (every one counts, misunderstood or not)
    final: str
    errors: int  # edit distance between what was finally spoken and the target
    misdecoded: int
    unintended_speech: int
    false_alarms: int
    completed: bool
    selections: int = 0  # cells activated (wrong ones and undos included): what a gesture must cost at least


@dataclass
class Goal:
    kind: str
    value: str = ""


@dataclass
class Patient:
    machine: Speller
    confusion: Confusion
    timing: GestureTiming
    rng: np.random.Generator
    suggester: CachingSuggester | None = None
    role_label: dict[str, str] = field(default_factory=dict)
    clock: float = 0.0
    ready_at: float = 0.0  # the next burst cannot begin before this (burst + refractory of the last one)
    notice: float = 1.0  # chance per gesture of noticing an error on screen (1.0: at once)

    def __post_init__(self) -> None:
        self.role_label = {role: label for label, role in self.machine.config.roles.items()}
        self.mode = self.machine.config.mode
        self.scanning = self.mode in (SCAN, LIKELY)  # the highlight moves by itself; a burst picks what is lit
        self.prediction = self.machine.config.prediction
        self.machine.handle(Tick(self.clock))
        self.ideal: Speller | None = None  # while an error goes unnoticed: the machine as the patient believes it
        self.unnoticed_gestures = 0  # gestures made while an error was on screen unnoticed (a report figure)

    # -- one phrase -------------------------------------------------------------------------------
    def type_phrase(self, target: str, max_gestures: int | None = None) -> PhraseResult:
        goal_text = normalise(target)
        max_gestures = max_gestures or 40 * len(goal_text) + 200
        start = self.clock
        gestures = misdecoded = unintended = false_alarms = selections = 0
        self.abbr_given_up = (self.prediction != "phrases" or len(goal_text.split()) < 2
                              or self.mode in (LIKELY, SPLIT))  # the mass modes offer words, not abbreviations
        spoken: str | None = None
        self.ideal = None
        while gestures < max_gestures:
            goal = self._believed_goal(goal_text)
            path = self._plan(goal)
            if not path and self.ideal is not None:  # what it meant to do is not on screen: it notices
                self.ideal = None
                goal = self._goal(goal_text)
                path = self._plan(goal)
            if not path and self.mode == GROUPS and goal.kind != B.UNDO:
                goal = Goal(B.UNDO)  # e.g. the controls opened by a misread: every way out is a selection
                path = self._plan(goal)
            if not path and self.mode == GROUPS:
                goal = Goal(B.SPACE)  # in a word the way to undo is the space first (then undo takes it back)
                path = self._plan(goal)
            if not path:
                raise RuntimeError(f"no path to {goal} in {self.mode} mode: the boards are broken")
            role = path[0]
            if role == "wait":
                self._advance_scan()
                continue
            outputs, made, wrong = self._gesture(role, path)
            gestures += made
            misdecoded += wrong
            selections += sum(isinstance(o, Selected) for o in outputs)
            for o in outputs:
                if isinstance(o, Speak):
                    if normalise(o.text) == goal_text:
                        spoken = o.text
                    else:
                        unintended += 1
                if isinstance(o, Selected) and o.kind == B.HELP and goal.kind != B.HELP:
                    false_alarms += 1
            if spoken is not None:
                break
        final = normalise(spoken if spoken is not None else self.machine.message)
        if spoken is not None and self.suggester is not None:
            self.suggester.inner.learn(spoken)
        return PhraseResult(goal_text, len(goal_text), self.clock - start, gestures, final,
                            edit_distance(final, goal_text), misdecoded, unintended, false_alarms, spoken is not None,
                            selections)

    # -- what to select next ----------------------------------------------------------------------
    def _believed_goal(self, target: str) -> Goal:
        """The goal from what the patient believes is on screen: the machine itself, or while an error goes
        unnoticed the machine it meant to drive (it notices with chance `notice` per gesture, and always
        before speaking)."""
        if self.ideal is not None:
            goal = self._goal(target, self.ideal)
            if goal.kind == B.SPEAK or self.rng.random() < self.notice:
                self.ideal = None  # noticed: from now on the screen as it is
            else:
                return goal
        return self._goal(target, self.machine)

    def _goal(self, target: str, m: Speller | None = None) -> Goal:
        """The cell a careful patient selects next: speak when done, undo a mistake, take a candidate
        that saves more than one letter, else the next letter (of the abbreviation while trying one)."""
        m = m if m is not None else self.machine
        if self.mode == GROUPS:
            return self._group_goal(target, m)
        content = m.state.content
        msg = content.message
        fix = Goal(B.UNDO) if m.state.history or self.mode in (LIKELY, SPLIT) else Goal(B.CLEAR)
        if content.board != B.LETTERS_BOARD or content.labels:
            return fix
        typed = normalise(msg) + (" " if msg.endswith(" ") and msg.strip() else "")
        token = msg.strip()
        if not self.abbr_given_up and " " not in token and msg == token:
            abbr = abbreviation(target)
            if not abbr.startswith(token):
                return fix
            cand = self._best_candidate(target, len(token), m)
            if cand is not None:
                return cand
            if len(token) < len(abbr):
                return Goal(B.LETTER, abbr[len(token)])
            self.abbr_given_up = True  # every first letter typed and nothing fits: clear and spell it out
            return Goal(B.CLEAR)
        if not (target + " ").startswith(typed):
            return fix
        if typed.strip() == target:
            return Goal(B.SPEAK)
        # a candidate is worth more than one letter on a board; in the mass modes every item is one selection,
        # so a word shown whole beats typing its letters and the space (the tree prices it by its mass)
        cand = self._best_candidate(target, len(typed.strip()) + (self.mode not in (LIKELY, SPLIT)), m)
        if cand is not None:
            return cand
        return self._next_char(target, typed)

    def _group_goal(self, target: str, m) -> Goal:
        """The ambiguous keyboard: the next key of the word; when its keys are all typed, the space (the
        control gesture) if the word shown is right, else the space and then the next reading of the word
        fixed, else spell it; the space and a walk to a completion when that saves more letters than the
        walk costs; undo anything that is not the target."""
        st = m.state
        t = st.typed
        fix = Goal(B.UNDO)
        if not (target + " ").startswith(t.fixed):
            return self._group_fix_last(target, m)
        rest = target[len(t.fixed):]
        word = rest.split(" ")[0]
        if t.spelling is not None:
            if not word.startswith(t.spelling):
                return fix
            return Goal(KB.DONE) if t.spelling == word else Goal(B.LETTER, word[len(t.spelling)])
        if not word and not t.keys:
            return Goal(B.SPEAK) if t.fixed.strip() == target else fix
        code = m.layout.code(word)
        if tuple(t.keys) != code[: len(t.keys)] or len(t.keys) > len(code):
            return fix
        if st.layer == KB.CONFIRM:
            return fix  # asked to say it while not done: "no, back" is the way (undo plans through it)
        shown = t.shown.strip()
        if shown == word:  # every key typed and read right, or a completion shown: take it
            return Goal(B.SPACE, word)
        if st.choices and t.pick == 0:
            walk = [c.strip() for c in st.choices]
            if word in walk[1:]:  # the space, then "other word" (control, other) per reading walked
                j = walk.index(word, 1)
                if len(t.keys) == len(code) or len(word) - len(t.keys) > 2 * j:
                    return Goal(B.SPACE)
        if len(t.keys) < len(code):
            return Goal(KB.KEY, str(code[len(t.keys)] + 1))
        if not st.choices and KB.PENDING in t.shown:
            return Goal(KB.KEY, "wait")  # cannot happen with answers at once; listed for completeness
        return Goal(B.SPACE) if st.choices else Goal(KB.SPELL_START)

    def _group_fix_last(self, target: str, m) -> Goal:
        """The message is not the target's start: the word fixed last is a wrong reading of the right keys
        (walk on to the right one, or spell it past the last), or anything else (undo)."""
        t = m.state.typed
        if t.last and not t.keys and t.spelling is None and m.state.layer != KB.CONFIRM:
            before = t.before_last
            if (target + " ").startswith(before):
                word = target[len(before):].split(" ")[0]
                walk = [c.strip() for c in t.last]
                if word and word in walk[t.last_pick + 1:]:
                    steps = walk.index(word, t.last_pick + 1) - t.last_pick  # control, other word: 2 gestures each
                    short = len(m.layout.code(word)) - len(t.last_keys)  # keys still to type (a space misread)
                    if short <= 0 or 2 * steps <= 4 + short:  # vs control, undo, the last key again, the rest, space
                        return Goal(KB.OTHER)
                if word and tuple(t.last_keys) == m.layout.code(word):  # not among them: spell it past the last
                    return Goal(KB.OTHER) if t.last_pick + 1 < len(t.last) else Goal(KB.SPELL_START)
        return Goal(B.UNDO)

    def _best_candidate(self, target: str, must_beat: int, m: Speller | None = None) -> Goal | None:
        m = m if m is not None else self.machine
        best, best_len = None, must_beat
        for ch in m.state.choices:
            after = normalise(_preview(m.message, ch))
            if after and (target + " ").startswith(after + " ") and len(after) > best_len:
                best, best_len = ch, len(after)
        return Goal(B.CANDIDATE, best.text) if best is not None else None

    def _next_char(self, target: str, typed: str) -> Goal:
        nxt = target[len(typed)] if len(typed) < len(target) else " "
        return Goal(B.SPACE) if nxt == " " else Goal(B.LETTER, nxt)

    # -- how to get there -------------------------------------------------------------------------
    def _actions(self) -> tuple[str, ...]:
        if self.mode == SPLIT:
            return tuple(r for r in GROUP_ROLES if r in self.role_label)
        return {SCAN: ("wait", "select"), LIKELY: ("wait", "select"), STEP: ("next", "select"),
                DIRECT: ("next", "previous", "back", "select"), GROUPS: ("key1", "key2", "key3", "control")}[self.mode]

    def _plan(self, goal: Goal) -> list[str]:
        """Fewest events (gestures, or scan steps) that activate the goal cell, found on copies of the machine."""
        start = self.machine.clone()
        seen = {_nav_key(start)}
        queue = deque([(start, [])])
        while queue:
            m, path = queue.popleft()
            for action in self._actions():
                c = m.clone()
                outs = self._apply(c, action)
                sel = [o for o in outs if isinstance(o, Selected)]
                if sel:
                    if sel[0].kind == goal.kind and (sel[0].value == goal.value or not goal.value):
                        return path + [action]
                    continue
                key = _nav_key(c)
                if key not in seen:
                    seen.add(key)
                    queue.append((c, path + [action]))
        return []

    def _apply(self, m: Speller, action: str) -> list:
        if action == "wait":
            due = m.advance_due
            return m.handle(Tick(due if due is not None else m.state.now))
        # planned as the next real burst will be: begun now, after every answer on screen has arrived
        return m.handle(GestureDecision(self.role_label[action], 1.0, max(m.state.now, self.clock)))

    # -- acting -----------------------------------------------------------------------------------
    def _burst_s(self) -> float:
        return float(self.rng.choice(self.timing.burst_s))

    def _reaction_s(self) -> float:
        return float(self.rng.choice(self.timing.reaction_s))

    def _advance_scan(self) -> None:
        due = self.machine.advance_due
        self.clock = max(self.clock, due)
        self.machine.handle(Tick(self.clock))

    def _gesture(self, role: str, path: list[str]) -> tuple[list, int, int]:
        """Make one burst for `role`; returns (outputs, bursts made, bursts misunderstood)."""
        m = self.machine
        if self.scanning:
            lit_since = m.state.highlight_since
            onset = max(lit_since + self._reaction_s(), self.ready_at, self.clock)
            if m.advance_due is not None and onset >= m.advance_due:  # too late for this item: it moves on
                self._advance_scan()
                return [], 0, 0
        else:
            onset = max(self.clock + self._reaction_s(), self.ready_at)
        intended = self.role_label[role]
        decoded = self.confusion.decode(intended, self.rng)
        if self.notice < 1.0:
            self._believe(intended, decoded, onset)
        self.ready_at = onset + self._burst_s() + self.timing.refractory_s
        arrival = onset + self.timing.decision_s
        if self.scanning:
            m.handle(Tick(arrival))  # the scan keeps moving while the decoder decides
        self.clock = arrival
        outs = m.handle(GestureDecision(decoded, 1.0 if decoded else 0.0, onset))
        self._answer(outs)
        return outs, 1, int(decoded != intended)

    def _believe(self, intended: str, decoded: str | None, onset: float) -> None:
        """Keep the machine the patient believes in: a misread starts a belief (the intended gesture applied
        to a copy), and while unnoticed every gesture is applied to it as meant."""
        if self.ideal is None and decoded == intended:
            return
        if self.ideal is None:
            before = self.machine.clone()
            trial = self.machine.clone()
            self._answer(trial.handle(GestureDecision(decoded, 1.0, onset)) if decoded else [], trial)
            ideal = before
            self._answer(ideal.handle(GestureDecision(intended, 1.0, onset)), ideal)
            if trial.message == ideal.message:
                return  # the misread changed nothing the patient reads (a step, a no action)
            self.ideal = ideal
        else:
            self._answer(self.ideal.handle(GestureDecision(intended, 1.0, onset)), self.ideal)
        self.unnoticed_gestures += 1

    def _answer(self, outputs: list, machine: Speller | None = None) -> None:
        machine = machine if machine is not None else self.machine
        pending = [o for o in outputs if isinstance(o, RequestSuggestions)]
        for req in pending:
            cands = self.suggester.answer(req) if self.suggester is not None else ()
            letters = self.suggester.letters(req) if self.suggester is not None else ""
            more = machine.handle(SuggestionsReady(req.request_id, cands, self.clock, letters))
            self._answer(more, machine)


def _preview(message: str, choice) -> str:
    from ..interact.machine import Content, _apply_choice

    return _apply_choice(Content(message=message), choice).message


def _nav_key(m: Speller) -> tuple:
    if hasattr(m, "nav_key"):
        return m.nav_key()
    s = m.state
    h = s.highlight
    return (s.content.board, h.level, h.row, h.col if h.level == CELLS else -1, h.cycles, h.rank, len(s.choices))
