"""One decision per attempt: a burst's successive windows -> evidence -> act early, at the end, or not at all.

Pure numpy. An attempt is one burst from rest, seen through the windows the signal chain cuts for it
(`SignalChain`: window 0 at the onset, then one every `attempt_step_ms`, while at least half of the
window lies inside the burst, for at most `attempt_ms` after the onset). Each window gets the head's
probabilities (their temperature fitted on the patient's own held-out repetitions); the attempt's
evidence for a label is the sum of its windows' log probabilities times `evidence_scale`.

The rule acts as soon as a gesture's confidence reaches `act_early` (a clear gesture is not kept waiting
for its release), otherwise once, when the attempt closes, if the confidence reaches `act_at`; else "no
action". `attempt_cost` scores a rule on held-out attempts by the criterion below (calibration
reports that cost; the scale itself is the one chosen on first sessions, `EVIDENCE_SCALE`). Both thresholds follow from one stated criterion: a wrong action costs `wrong_cost` retries
(the patient must undo it and try again, and it may have spoken for them), a "no action" costs one
retry. Acting on confidence c costs (1 - c) x wrong_cost in expectation, not acting costs 1, so the rule
acts when c >= 1 - 1 / wrong_cost. Acting early gives up the remaining windows' evidence, so it asks for
the same criterion at `early_cost` x wrong_cost. Rest never acts and never closes an attempt early.

A burst often starts before the movement shows: a slow start, a twitch of anticipation, the arm settling.
Its first windows then look like rest, or like a passing mixture of gestures. With a `span` (the windows of
`attempt_ms`, `DeviceProfile.attempt_windows`) the evidence is the sum over the attempt's latest `span` windows:
when the first full span leads with a gesture at `act_at` or more the rule decides there as above; when it leads
with rest, or with a gesture too unsure to act on, the attempt keeps watching the burst (the chain cuts windows
for up to `attempt_hold_ms`), acting as soon as the sliding evidence is decisive, else once at the burst's end at
`act_at`. On myo_readings session 1 (the only one it was chosen on) watching a rest-like start turned 6 of 105
cued attempts from "no action" into the right action; watching an unsure start too, 1 more of 105 in the stream
and 2 of 105 on 2-s clips, with no more wrong actions (`docs/notes/issue-12.md`).

With a second opinion (`decode.second_opinion`: a classical LDA's vote per window) an action also needs the
opinion's majority over the same windows (the latest `span`) to name the same gesture (a tie counts as agreement):
while it names another, an early or first-span decision waits (watched on, `UNCONFIRMED_START`), and at the
attempt's end it is "no action".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..events import (NOT_CONFIRMED, REST_LABEL, REST_LIKE_START, UNCONFIRMED_START, UNSURE_START, AttemptEnd, Burst,
                      GestureDecision, OnsetWindow)

#: A wrong action costs this many retries (undo + retry, and it may have spoken for the patient).
#: Chosen as a safety stance, not tuned: it sets act_at = 1 - 1/5 = 0.8 on the per-attempt confidence.
WRONG_COST = 5.0
#: Acting before the attempt's end must be surer: as if a wrong early action cost this many times more
#: (act_early = 0.95). Chosen on myo_readings session 1 only: 2 -> 5.7 % wrong, 4 -> 3.8 %, 10 -> 3.8 % (latency
#: median 245 ms for 4 and 10).
EARLY_COST = 4.0


#: alpha, chosen on myo_readings session 1 only (sessions 2-3 held out) by the stated cost (wrong x 5 + no action)
#: of the test attempts: 0.3 -> 26 % cost, 0.5 -> 31, 0.7 -> 29, 1.0 -> 27 (85.7 % correct, 3.8 % wrong), 1.5 -> 45.
#: Fitting alpha per patient on their own held-out repetitions (by likelihood, or by the same cost) was tried and
#: lost: 59 % and 66 % correct on session 1, because 2-of-3-repetition folds are far more pessimistic than the
#: 3-repetition head the patient then uses. The per-window temperature stays fitted per patient.
#: Retried 2026-12-07 (with the early-dip bridge and the unsure watch), session 1 only, stream and 2-s clips together:
#: alpha 0.25 (= step / window: each sample of the overlapping windows counted once) gave the lowest stated cost
#: (wrong 4.8 -> 1.0 %, same correct), but moved the median latency from 245 to 345 ms (target 300), and on the
#: sessions seen after it the next-session quick check fell from 92.0 / 86.8 to 78.3 / 72.3 % correct (most became
#: "no action": yesterday's rule with flattened evidence). Not kept (docs/notes/issue-12.md, session 7).
EVIDENCE_SCALE = 1.0


@dataclass(frozen=True)
class AttemptRule:
    # alpha_n: after n windows the attempt's log-score is alpha_n x the sum of their log probabilities; one per
    # n (the last one serves longer attempts), fitted on the patient's held-out attempts
    evidence_scales: tuple[float, ...] = (EVIDENCE_SCALE,)
    wrong_cost: float = WRONG_COST
    early_cost: float = EARLY_COST

    def scale(self, windows: int) -> float:
        return self.evidence_scales[min(max(windows, 1), len(self.evidence_scales)) - 1]

    @property
    def act_at(self) -> float:
        return 1.0 - 1.0 / self.wrong_cost

    @property
    def act_early(self) -> float:
        return 1.0 - 1.0 / (self.wrong_cost * self.early_cost)

    def to_dict(self) -> dict:
        return {"evidence_scales": list(self.evidence_scales), "wrong_cost": self.wrong_cost, "early_cost": self.early_cost}

    @classmethod
    def from_dict(cls, d: dict) -> "AttemptRule":
        rule = cls(tuple(float(v) for v in d["evidence_scales"]), float(d["wrong_cost"]), float(d["early_cost"]))
        if not (rule.evidence_scales and all(0 < v <= 10 for v in rule.evidence_scales) and rule.wrong_cost > 1
                and rule.early_cost >= 1):
            raise ValueError(f"attempt rule out of range: {d}")
        return rule


def attempt_posterior(log_prob_sum: np.ndarray, scale: float) -> np.ndarray:
    z = scale * np.asarray(log_prob_sum, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class AttemptEvidence:
    """The open attempt of one burst: windows' probabilities in, at most one `GestureDecision` out."""

    def __init__(self, labels: tuple[str, ...], rule: AttemptRule, onset_time: float, span: int | None = None):
        self.labels = tuple(labels)
        self.rule = rule
        self.onset_time = float(onset_time)
        self.span = span if span is None else max(1, int(span))
        self._recent: list[np.ndarray] = []  # the latest `span` windows' log probabilities (all of them without a span)
        self._votes: list[int] = []  # the second opinion's votes over the same windows (empty: no second opinion)
        self._sum = np.zeros(len(self.labels))
        self.windows = 0
        self.watching = ""  # why the burst is watched past its first span (REST_LIKE_START / UNSURE_START /
        # UNCONFIRMED_START), or ""
        self.decided: GestureDecision | None = None
        self._rest = self.labels.index(REST_LABEL) if REST_LABEL in self.labels else -1

    def posterior(self) -> np.ndarray:
        return attempt_posterior(self._sum, self.rule.scale(min(self.windows, self.span or self.windows)))

    def add(self, probabilities: np.ndarray, time: float, vote: int | None = None) -> GestureDecision | None:
        """One more window (its calibrated probabilities, the stream time of its last sample, and the second
        opinion's vote for it as a label index, when there is a second opinion)."""
        if self.decided is not None:
            return None
        lp = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1.0))
        self._sum += lp
        self._recent.append(lp)
        if vote is not None:
            self._votes.append(int(vote))
        if self.span is not None and len(self._recent) > self.span:
            self._sum -= self._recent.pop(0)
            if len(self._votes) > self.span:
                self._votes.pop(0)
        self.windows += 1
        p = self.posterior()
        top = int(np.argmax(p))
        confirmed = self.confirmed(top)
        if top != self._rest and p[top] >= self.rule.act_early and confirmed:
            return self._decide(p, top, time, "decisive", act=True)
        if self.span is not None and self.windows == self.span:
            if top != self._rest and p[top] >= self.rule.act_at:  # a gesture leads the first full span: act now
                if confirmed:
                    return self._decide(p, top, time, "max length", act=True)
                self.watching = UNCONFIRMED_START
            else:
                self.watching = REST_LIKE_START if top == self._rest else UNSURE_START
        return None

    def confirmed(self, label_index: int) -> bool:
        """Does the second opinion's majority over the latest windows name this label (ties agree)? True
        without a second opinion."""
        if not self._votes:
            return True
        counts = np.bincount(np.asarray(self._votes), minlength=len(self.labels))
        return bool(label_index < len(counts) and counts[label_index] >= counts.max())

    def close(self, time: float, reason: str = "burst end") -> GestureDecision | None:
        """The attempt is over: decide now if it was not decided early (None if it was, or saw no window)."""
        if self.decided is not None or self.windows == 0:
            return None
        p = self.posterior()
        top = int(np.argmax(p))
        sure = p[top] >= self.rule.act_at
        if sure and top != self._rest and not self.confirmed(top):
            return self._decide(p, top, time, reason + NOT_CONFIRMED, act=False)
        return self._decide(p, top, time, reason, act=sure)

    def _decide(self, p: np.ndarray, top: int, time: float, reason: str, act: bool) -> GestureDecision:
        reason += self.watching
        self.decided = GestureDecision(
            self.labels[top] if act else None, float(p[top]), self.onset_time,
            tuple((k, float(v)) for k, v in zip(self.labels, p)), latency_s=max(0.0, float(time) - self.onset_time),
            windows=self.windows, reason=reason, top=self.labels[top])
        return self.decided


def decide_sequence(labels, rule: AttemptRule, probabilities: np.ndarray, onset_time: float = 0.0,
                    window_times: np.ndarray | None = None, end_time: float | None = None,
                    reason: str = "burst end", span: int | None = None,
                    votes: np.ndarray | None = None) -> GestureDecision | None:
    """The live rule over an attempt's windows (rows of `probabilities`, in order; `votes`: the second opinion's
    label index per window, if any), offline."""
    p = np.asarray(probabilities, dtype=np.float64)
    times = np.asarray(window_times) if window_times is not None else np.arange(1, len(p) + 1, dtype=np.float64)
    ev = AttemptEvidence(labels, rule, onset_time, span)
    vs = [None] * len(p) if votes is None else [int(v) for v in votes]
    for row, t, v in zip(p, times, vs):
        d = ev.add(row, float(t), v)
        if d is not None:
            return d
    end = end_time if end_time is not None else (float(times[-1]) if len(times) else onset_time)
    return ev.close(end, reason)


def attempt_cost(labels, rule: "AttemptRule", attempts: list[np.ndarray], truth, span: int | None = None) -> float:
    """The stated criterion on held-out attempts: wrong actions x wrong_cost + no actions (retries), per
    attempt. A rest attempt that acts is a wrong action; one that does not costs nothing."""
    rest = labels.index(REST_LABEL) if REST_LABEL in labels else -1
    cost = 0.0
    for lp, t in zip(attempts, truth):
        d = decide_sequence(labels, rule, np.exp(lp), span=span)
        acted = d is not None and d.is_action
        if acted and d.label != labels[t]:
            cost += rule.wrong_cost
        elif not acted and t != rest:
            cost += 1.0
    return cost / max(len(attempts), 1)


def movement_windows(windows: np.ndarray, span: int) -> np.ndarray:
    """An attempt's movement as the head learns it: its `span` consecutive windows of most energy.

    A burst's first windows are often not yet the movement (a slow start, a twitch of anticipation): labelled as
    the gesture they teach the head that rest-like windows are that gesture. The most active stretch is what the
    rule decides on once the movement shows (`AttemptEvidence` slides past a rest-like start), and what a LibEMG
    user votes over. Myo_readings session 1 (the only one it was chosen on), against the first `span` windows:
    false activations on rest bursts 11 -> 3, correct 82.9 % both (`docs/notes/issue-12.md`).
    """
    w = np.asarray(windows)
    if len(w) <= span:
        return w
    energy = np.log(w.astype(np.float64).var(axis=1).sum(axis=1) + 1e-12)
    start = int(np.argmax(np.convolve(energy, np.ones(span), "valid")))
    return w[start : start + span]


@dataclass(frozen=True, eq=False)
class Attempt:
    """One attempt as the live chain cut it: its burst and its windows (raw, windows x samples x channels)."""

    burst: Burst
    windows: np.ndarray
    window_times: tuple[float, ...]  # stream time of each window's last sample
    end_time: float
    reason: str
    before: np.ndarray | None = None  # raw samples up to the onset, when the capture kept them (rest between movements)

    def __len__(self) -> int:
        return len(self.windows)


class AttemptCollector:
    """Gathers the chain's `OnsetWindow`s of each burst until its `AttemptEnd`, then hands out the `Attempt`."""

    def __init__(self):
        self._open: dict[int, list[OnsetWindow]] = {}

    def feed(self, event) -> Attempt | None:
        if isinstance(event, OnsetWindow):
            if event.seq == 0:
                self._open[event.burst.onset_index] = [event]
            elif event.burst.onset_index in self._open:  # an attempt seen from its onset only
                self._open[event.burst.onset_index].append(event)
        elif isinstance(event, AttemptEnd):
            ws = self._open.pop(event.burst.onset_index, [])
            if ws:
                return Attempt(event.burst, np.stack([w.raw for w in ws]), tuple(w.end_time for w in ws),
                               float(event.time), event.reason)
        return None


def collect_attempts(events) -> list[Attempt]:
    """Every attempt in a list of chain events (`detect_offline`), in order."""
    col = AttemptCollector()
    return [a for a in (col.feed(e) for e in events) if a is not None]
