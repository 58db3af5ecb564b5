"""The public gesture-decoding API (documented in docs/api.md): load, calibrate, decide.

    decoder = load_decoder("models/myo8_200hz.card.json")
    calibration = decoder.calibrate({"yes": [rep, rep, rep], "rest": [...]}, rate_hz=200.0, patient="P01")
    decision = decoder.decide(raw_window)          # GestureDecision; label None = no action

The maths lives in pure modules (features, head, calibration); this facade only wires them to the
onnxruntime adapter and checks every input against the model card.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

from ..events import REST_LABEL, GestureDecision, Threshold
from ..profiles import find_profile
from ..signal.chain import detect_offline
from ..signal.detector import estimate_threshold
from ..signal.filters import CausalFilter, Envelope, design_emg_sos
from ..signal.sensitivity import fit_sensitivity, with_sensitivity
from .attempt import (Attempt, AttemptEvidence, AttemptRule, attempt_posterior, collect_attempts,
                      attempt_cost, decide_sequence, movement_windows)
from .calibration import Calibration, CalibrationError, HeadTraining, WeakGestureError, confusion_matrix
from .card import ModelCard, ModelCardError, load_card
from .features import hudgins_features, rotate_ring, sliding_windows, spatial_features
from .finetune import ONNX_NAMES, TopWeights, fine_tune
from .head import EmbeddingHead, MajorityVote, fit_temperature, reject
from .second_opinion import SecondOpinion

__all__ = [
    "GestureDecoder", "load_decoder", "Calibration", "CalibrationError", "ModelCardError", "GestureDecision",
]

DEFAULT_REJECTION = 0.8
DEFAULT_RELIABLE = 0.9
#: Chosen on the evaluation people's training0 only (mean of reps 0-2 -> rep 3, one rep -> the other three,
#: two reps -> the other two; never Test0/Test1), embedding + Hudgins + rich features: 0.01 96.89 %,
#: 0.05 96.98 %, 0.1 97.05 %, 0.2 97.08 %, 0.3 97.04 % per window; with the spatial head input
#: (log channel covariance) 0.1 97.38 %, 0.2 97.42 %, 0.3 97.42 %, 0.4 97.40 % (myovox.training.recipe).
HEAD_SHRINKAGE = 0.2
#: A band turn is accepted only when the repetitions lie this much nearer (squared distance) to the calibration's
#: own windows than at the current rotation, and than at the runner-up turn. On the evaluation people's training0
#: (reps 0-2 -> rep 3 turned by 0, +1, +2, -1; Female0, Female1, Male0, Male1): a true turn gave 0.08-0.47 of the
#: current distance and 0.21-0.47 of the runner-up, with one rep of wrist extension or of every gesture.
REALIGN_RATIO = 0.7
#: A calibration keeps at most this many of its newest training windows (quick checks add to them).
TRAINING_KEPT = 6000
#: Rest between movements ends this long before a movement's onset (people anticipate a cue).
#: 250 -> 2.7, 500 -> 2.2 false activations per 10 min on myo_readings session 1 (80.0 vs 79.0 % correct).
REST_GUARD_MS = 500.0


class GestureDecoder:
    """One encoder (checked against its card) plus, once calibrated, one patient's head."""

    def __init__(self, card: ModelCard, majority: int = 1):
        from .encoder import OnnxEncoder  # the only path to onnxruntime

        self.card = card
        self.encoder = OnnxEncoder(card)
        self.calibration: Calibration | None = None
        self.vote = MajorityVote(majority) if majority > 1 else None

    # -- windows --------------------------------------------------------------------------------
    @property
    def window_samples(self) -> int:
        return self.card.window_samples

    def windows(self, recording: np.ndarray, rate_hz: float, step_ms: float = 50.0) -> np.ndarray:
        """Cut one continuous raw recording (samples x channels) into decision windows."""
        arr = np.asarray(recording, dtype=np.float32)
        self._check_stream(arr, rate_hz)
        step = max(1, int(round(step_ms * self.card.rate_hz / 1000.0)))
        return sliding_windows(arr, self.card.window_samples, step)

    def _check_stream(self, arr: np.ndarray, rate_hz: float) -> None:
        if arr.ndim != 2 or arr.shape[1] != self.card.channels:
            raise ModelCardError(
                f"model {self.card.name!r} needs {self.card.channels} channels (samples x channels); got shape {arr.shape}"
            )
        if abs(float(rate_hz) - self.card.rate_hz) > 0.05 * self.card.rate_hz:
            raise ModelCardError(f"model {self.card.name!r} was trained at {self.card.rate_hz:g} Hz; this signal is {float(rate_hz):g} Hz")

    def embed(self, raw_windows: np.ndarray, rotation: int | None = None) -> np.ndarray:
        """The encoder's embeddings of raw windows (n x samples x channels), after undoing the band's rotation."""
        w = np.asarray(raw_windows, dtype=np.float32)
        self.card.check_window(w)
        return self._head_inputs(w[None] if w.ndim == 2 else w, rotation)[:, : self.card.embedding_dim]

    @property
    def head_dim(self) -> int:
        ch = self.card.channels
        sizes = {"embedding": self.card.embedding_dim, "hudgins": 4 * ch, "rich": int(self.card.feature_mean.shape[0]),
                 "spatial": ch * (ch + 1) // 2}
        return sum(sizes[k] for k in self.card.head_inputs)

    def _head_inputs(self, w: np.ndarray, rotation: int | None = None) -> np.ndarray:
        """What the head classifies: the encoder embedding beside the window's Hudgins features and
        the normalised rich features the encoder itself is fed (computed once, used twice).

        The hand-crafted features add what the patient's own amplitudes say directly. Chosen on the
        evaluation people's training0 only (never Test0/Test1), mean of reps 0-2 -> rep 3, one rep ->
        the other three and two reps -> the other two: embedding alone 95.8 %, + Hudgins 96.7 %,
        + Hudgins + rich features 97.1 % per window (the shipped few-shot encoder, shrinkage 0.2).
        A card may add "spatial" (its "head_inputs"): the log channel covariance of the window
        (`features.spatial_features`), +0.3 points on the same protocol (myovox.training.recipe).
        With a calibration whose encoder top was refitted (`decode.finetune`), the embedding is the
        refitted top's, computed from the frozen convolutions' pooled output.
        """
        cal = self.calibration
        return self._assemble(self._parts(w, rotation), cal.encoder_top if cal is not None else None)

    def _parts(self, w: np.ndarray, rotation: int | None = None, extra: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
        """Every block the head inputs are made of; with a refittable top also its inputs, the frozen
        convolutions' pooled output ("conv") and the normalised rich features ("features"); `extra` may ask for
        the prepared windows themselves ("prepared", for the second opinion)."""
        shift = self.calibration.rotation if rotation is None and self.calibration else (rotation or 0)
        if shift:
            w = rotate_ring(w, shift)
        refittable = self.encoder.top is not None
        names = list(dict.fromkeys(list(self.card.head_inputs) + (["conv", "features"] if refittable else []) + list(extra)))
        parts: dict[str, list[np.ndarray]] = {k: [] for k in names}
        for s in range(0, len(w), 4096):
            prepared = self.card.prepare(w[s : s + 4096])
            inputs = self.card.inputs_from_prepared(prepared)
            e, conv = self.encoder.run_with_conv(inputs) if refittable else (self.encoder.run_inputs(inputs)[0], None)
            blocks = {"embedding": lambda: e, "hudgins": lambda: hudgins_features(prepared), "rich": lambda: inputs["features"],
                      "spatial": lambda: spatial_features(prepared / self.card.window_scale), "conv": lambda: conv,
                      "features": lambda: inputs["features"], "prepared": lambda: prepared}
            for k in names:
                parts[k].append(blocks[k]())
        return {k: v[0] if len(v) == 1 else np.concatenate(v) for k, v in parts.items() if v}  # one chunk: no copy

    def _assemble(self, parts: dict[str, np.ndarray], top: TopWeights | None) -> np.ndarray:
        """The head inputs from `_parts`, with the embedding from a refitted top when one is given."""
        if "embedding" not in parts:  # no windows
            return np.empty((0, self.head_dim), np.float32)
        blocks = dict(parts)
        if top is not None:
            blocks["embedding"] = top.embed(parts["conv"], parts["features"])
        return np.hstack([blocks[k] for k in self.card.head_inputs])

    # -- calibration ----------------------------------------------------------------------------
    def calibrate(
        self,
        examples: dict[str, list],
        rate_hz: float,
        patient: str = "",
        rest: np.ndarray | None = None,
        step_ms: float = 50.0,
        rejection_threshold: float = DEFAULT_REJECTION,
        reliable_accuracy: float = DEFAULT_RELIABLE,
        created: str | None = None,
        use: bool = True,
        cut: str = "attempts",
    ) -> Calibration:
        """Fit the head on the caregiver's own gestures: {label: [repetitions]}.

        A repetition is an `Attempt` (what the live chain cut: the wizard's capture) or a raw recording
        (samples x channels) with the movement inside, started from rest: the attempt is cut from it by the
        same detector and the same window rule the live app uses, with the threshold from `rest` and the
        detector's sensitivity fitted so that every repetition is detected (`signal.sensitivity`). The
        label "rest" holds raw rest, cut into windows. `cut="windows"` instead cuts each raw repetition into
        windows from its first sample (a gesture held for the whole recording, as in the Côté-Allard files).

        Accuracy, confusion and the confidence of the per-attempt rule are estimated by leaving one
        repetition out at a time (with a single repetition: its first windows against its last), so they
        are held-out figures on the patient's own data. `rejection_threshold` is the attempt rule's confidence to
        act, 1 - 1/wrong_cost: 0.8 when a wrong action costs five retries (`decode.attempt`).
        """
        if len(examples) < 2:
            raise CalibrationError("calibration needs at least two gestures (one may be rest)")
        if cut not in ("attempts", "windows"):
            raise CalibrationError(f"cut must be 'attempts' or 'windows', not {cut!r}")
        labels = tuple(examples)
        for label in labels:
            if not examples[label]:
                raise CalibrationError(f"gesture {label!r} has no repetitions")
            for rep in examples[label]:
                if not isinstance(rep, Attempt):
                    self._check_stream(np.asarray(rep), rate_hz)  # channels and rate first: the clearest refusal
        threshold = self.rest_threshold(rest, rate_hz) if rest is not None else None
        notes: list[str] = []
        raw_reps = [(label, ri, rep) for label in labels if label != REST_LABEL for ri, rep in enumerate(examples[label])
                    if not isinstance(rep, Attempt)]
        cut_attempts: dict[tuple[str, int], Attempt] = {}
        if cut == "attempts" and raw_reps:
            if threshold is None:
                raise CalibrationError("cutting attempts from raw repetitions needs the rest capture (rest=...) for the "
                                       "burst detector's threshold; or pass the wizard's Attempts, or cut='windows'")
            threshold, cut_attempts, fit_notes = self._cut_calibration_attempts(raw_reps, rest, threshold, rate_hz)
            notes += fit_notes
        # The head learns from the windows the live rule decides on: an attempt's own windows (window 0 at the
        # onset, one every attempt step), rest's every step. (Windows five times denser were tried on
        # myo_readings session 1: 83.8 % of attempts right against 87.6 %; not kept.)
        per_rep: list[tuple[int, int, np.ndarray]] = []  # (label index, repetition, windows)
        for li, label in enumerate(labels):
            for ri, rep in enumerate(examples[label]):
                if isinstance(rep, Attempt) or (label != REST_LABEL and cut == "attempts"):
                    att = rep if isinstance(rep, Attempt) else cut_attempts.get((label, ri))
                    if att is None:
                        continue  # too weak to detect: left out, and said so in the notes
                    w = np.asarray(self.movement(att), dtype=np.float32)
                    self.card.check_window(w)
                else:
                    w = self.windows(rep, rate_hz, step_ms)
                if len(w) == 0:
                    raise CalibrationError(
                        f"repetition {ri + 1} of {label!r} is shorter than one window ({self.card.window_ms:g} ms)"
                    )
                per_rep.append((li, ri, w))
        if REST_LABEL in labels:
            # The quiet before each cued movement is rest too: rest as it is between movements, not only as it was
            # in the capture. Myo_readings session 1 (the only one it was chosen on): false activations 15.4 -> 2.2
            # per 10 min of rest, wrong 3.8 -> 1.9 %, no action 8.6 -> 15.2 % (stated cost 27.6 -> 24.7 per 100).
            guard = self.profile.samples(REST_GUARD_MS)
            for li, label in enumerate(labels):
                for ri, rep in enumerate(examples[label]):
                    att = rep if isinstance(rep, Attempt) else cut_attempts.get((label, ri))
                    before = None if att is None or att.before is None else att.before[: max(0, len(att.before) - guard)]
                    if before is not None and len(before) >= self.window_samples:
                        per_rep.append((labels.index(REST_LABEL), ri, self.windows(before, rate_hz, step_ms)))
        used = {k: len({ri for li, ri, _ in per_rep if labels[li] == k}) if k != REST_LABEL else len(examples[k])
                for k in labels}
        min_reps = min(used.values())
        if min_reps >= 2:
            groups = list(per_rep)
            cv_method = "leave one repetition out"
        else:  # a single repetition: hold out its second half (time-ordered, never interleaved)
            groups = []
            for li, ri, w in per_rep:
                half = max(1, len(w) // 2)
                groups += [(li, 2 * ri, w[:half]), (li, 2 * ri + 1, w[half:])]
            groups = [g for g in groups if len(g[2])]
            cv_method = "first half of each repetition against its second half"
        windows = np.concatenate([g[2] for g in groups])
        y = np.concatenate([np.full(len(g[2]), g[0]) for g in groups])
        fold = np.concatenate([np.full(len(g[2]), g[1]) for g in groups])
        group_of = np.concatenate([np.full(len(g[2]), gi) for gi, g in enumerate(groups)])
        parts = self._parts(windows, rotation=0, extra=("prepared",))
        fixed = None if self.encoder.top is not None else self._assemble(parts, None)  # no refit: one set for all folds

        def head_inputs(rows: np.ndarray) -> tuple[np.ndarray, TopWeights | None]:
            """Head inputs of every window, with the top refitted on `rows` only (so held-out folds stay unseen)."""
            if fixed is not None:
                return fixed, None
            top = fine_tune(self.encoder.top, parts["conv"][rows], parts["features"][rows], y[rows], len(labels), self.card.fine_tune)
            return self._assemble(parts, top), top

        # cross-validation over repetitions -> per-window temperature, then per-attempt evidence scale and accuracy
        folds = np.unique(fold)
        logits = np.zeros((len(y), len(labels)))
        for f in folds:
            te = fold == f
            tr = ~te
            if len(np.unique(y[tr])) < len(labels):
                logits[te] = 0.0  # a gesture with a single example left: no estimate possible
                continue
            emb, _ = head_inputs(tr)
            logits[te] = EmbeddingHead(labels, shrinkage=HEAD_SHRINKAGE).fit(emb[tr], y[tr]).logits(emb[te])
        temperature = fit_temperature(logits, y)
        probs = np.exp(logits / temperature - (logits / temperature).max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        # each group of windows is one held-out attempt (rest: runs of an attempt's length)
        span = self.profile.attempt_windows
        att_lp, att_y = [], []
        for gi, (li, _, w) in enumerate(groups):
            lp = np.log(np.clip(probs[group_of == gi], 1e-12, 1.0))
            for s0 in range(0, len(lp), span if labels[li] == REST_LABEL or cut == "windows" else len(lp)):
                att_lp.append(lp[s0 : s0 + span])
                att_y.append(li)
        rule = AttemptRule(wrong_cost=wrong_cost_for(rejection_threshold))
        decided = [decide_sequence(labels, rule, np.exp(lp), span=span) for lp in att_lp]
        att_pred = np.array([labels.index(d.top) for d in decided])
        att_act = np.array([labels.index(d.label) if d.label is not None else -1 for d in decided])
        att_y = np.asarray(att_y)
        acc = {lab: float(np.mean(att_pred[att_y == i] == i)) for i, lab in enumerate(labels)}
        notes.append(f"held-out cost of the attempt rule: {attempt_cost(labels, rule, att_lp, att_y, span):.2f} retries per attempt "
                     f"(a wrong action counts {rule.wrong_cost:g})")
        conf = confusion_matrix(att_y, att_act, len(labels))
        emb, top = head_inputs(np.ones(len(y), dtype=bool))
        head = EmbeddingHead(labels, shrinkage=HEAD_SHRINKAGE, temperature=temperature).fit(emb, y)
        patterns = {}
        prepared = parts["prepared"]
        for i, lab in enumerate(labels):
            patterns[lab] = np.log(np.sqrt(np.mean(prepared[y == i] ** 2, axis=(0, 1))) + 1e-6).tolist()
        second = SecondOpinion.fit(prepared, y, labels)
        cal = Calibration(
            patient=patient, profile=self.card.profile, model=self.card.name, model_sha256=self.card.sha256,
            created=created or datetime.now().isoformat(timespec="seconds"), labels=labels, head=head,
            rejection_threshold=float(rejection_threshold), per_gesture_accuracy=acc,
            confusion=conf.tolist(), reliable=tuple(k for k, a in acc.items() if a >= reliable_accuracy),
            cv_method=cv_method + " (per attempt)", repetitions=used,
            channel_patterns=patterns, detector_threshold=threshold, encoder_top=top, notes=tuple(notes),
            attempt_rule=rule, training=HeadTraining(emb.astype(np.float32), y.astype(np.int64)), second_opinion=second,
        )
        if use:
            self.use(cal)
        return cal

    @property
    def profile(self):
        """The device profile this decoder's card was made for (the one definition of the attempt's windows)."""
        if getattr(self, "_profile", None) is None:
            self._profile = find_profile(self.card.profile)
        return self._profile

    def _cut_calibration_attempts(self, raw_reps, rest, threshold: Threshold, rate_hz: float):
        """Each raw repetition's attempt, cut by the live chain with a sensitivity every repetition reaches."""
        prof = self.profile
        det = prof.detector
        envs = [self._envelope(np.asarray(rep, dtype=np.float64), rate_hz) for _, _, rep in raw_reps]
        skip = prof.samples(det.warmup_ms) if det.warmup_ms else 0
        rest_env = self._envelope(np.asarray(rest, dtype=np.float64), rate_hz)[skip:]
        fit = fit_sensitivity(rest_env, envs, threshold, threshold.k, det.min_channels, prof.samples(det.min_duration_ms))
        notes = []
        if fit.rest_noisy:
            notes.append(f"the rest capture was not quiet (peak {fit.rest_peak:.0f} x its own spread): recapture rest with "
                         "the patient relaxed")
        if fit.k < threshold.k:
            notes.append(f"detector sensitivity raised (k {threshold.k:g} -> {fit.k:.1f}) so that every repetition is detected")
        threshold = with_sensitivity(threshold, fit.k)
        if fit.rest_noisy:
            threshold = replace(threshold, steady=False)
        out: dict[tuple[str, int], Attempt] = {}
        weak: list[str] = []
        for (label, ri, rep), peak in zip(raw_reps, fit.rep_peaks):
            att = self.cued_attempt(rep, rate_hz, threshold)
            if att is None:
                weak.append(f"{label!r} repetition {ri + 1} (peak {peak:.1f} x rest spread; the rest needs k >= {fit.lowest_safe_k:.1f})")
                continue
            out[(label, ri)] = att
        missing = sorted({label for label, _, _ in raw_reps} - {label for label, _ in out})
        if weak and not missing and not fit.rest_noisy:
            # every gesture still has a repetition the detector finds: calibrate on those, and say which to redo
            notes.append("left out, too weak to detect above rest: " + "; ".join(weak) + ". Redo them (a little "
                         "stronger) for a surer calibration.")
        elif weak:
            first = ("The rest capture was not quiet (the patient moved, or an electrode is loose): recapture rest. "
                     if fit.rest_noisy else "")
            raise WeakGestureError(
                first + "Too weak to detect above rest: " + "; ".join(weak) + ". Ask for a stronger or another movement, "
                "check the electrodes, or recapture rest if the patient moved during it.", tuple(weak))
        return threshold, out, notes

    def _envelope(self, arr: np.ndarray, rate_hz: float) -> np.ndarray:
        self._check_stream(arr, rate_hz)
        prof = self.profile
        filt = CausalFilter(design_emg_sos(prof.filter, self.card.rate_hz), self.card.channels).process(arr * prof.scale)
        return Envelope(self.card.channels, self.card.rate_hz, prof.detector.envelope_hz).process(filt)

    # -- attempts --------------------------------------------------------------------------------
    def attempts(self, recording: np.ndarray, rate_hz: float, threshold: Threshold | None = None) -> list[Attempt]:
        """The attempts the live chain finds in a raw recording (samples x channels): its detector with
        `threshold` (default: the calibration's), its window rule. The one definition of an attempt."""
        arr = np.asarray(recording)
        self._check_stream(arr, rate_hz)
        thr = threshold if threshold is not None else (self.calibration.detector_threshold if self.calibration else None)
        if thr is None:
            raise CalibrationError("finding attempts needs the burst detector's threshold: calibrate with rest, or pass one")
        return collect_attempts(detect_offline(arr, self.profile, threshold=thr))

    def cued_attempt(self, recording: np.ndarray, rate_hz: float, threshold: Threshold) -> Attempt | None:
        """The attempt of a cued repetition (a raw clip with the movement inside): its strongest burst, the cued
        movement rather than a twitch before it, with the clip's samples before the onset (rest between
        movements). None when no burst rises above the threshold."""
        found = self.attempts(recording, rate_hz, threshold)
        if not found:
            return None
        att = max(found, key=lambda a: a.burst.peak)
        return replace(att, before=np.asarray(recording, dtype=np.float32)[: max(0, att.burst.onset_index)])

    def decide_attempt(self, attempt: Attempt) -> GestureDecision:
        """The live rule over one whole attempt (offline): the same decision the app makes."""
        cal = self._calibrated()
        p, votes = self.window_evidence(attempt.windows)
        return decide_sequence(cal.labels, self.rule, p, attempt.burst.onset_time, np.asarray(attempt.window_times),
                               attempt.end_time, attempt.reason, span=self.profile.attempt_windows, votes=votes)

    def decide_recording(self, recording: np.ndarray, rate_hz: float) -> list[GestureDecision]:
        """One decision per attempt in a raw recording, through the live chain (detector, windows, rule)."""
        return [self.decide_attempt(a) for a in self.attempts(recording, rate_hz)]

    @property
    def rule(self) -> AttemptRule:
        """The calibration's attempt rule at its confidence to act (the clinician's setting may have moved it)."""
        cal = self._calibrated()
        return replace(cal.attempt_rule or AttemptRule(), wrong_cost=wrong_cost_for(cal.rejection_threshold))

    def open_attempt(self, burst) -> AttemptEvidence:
        """A live attempt for `burst`: feed it `probabilities(window.raw)` per window, then close it."""
        cal = self._calibrated()
        return AttemptEvidence(cal.labels, self.rule, burst.onset_time, span=self.profile.attempt_windows)

    def movement(self, attempt: Attempt) -> np.ndarray:
        """The windows of an attempt the head learns its gesture from (`decode.attempt.movement_windows`)."""
        return movement_windows(attempt.windows, self.profile.attempt_windows)

    def rest_threshold(self, rest: np.ndarray, rate_hz: float):
        """The burst detector's threshold from a raw rest capture, as the signal stage computes it."""
        det = self.profile.detector
        env = self._envelope(np.asarray(rest, dtype=np.float64), rate_hz)
        skip = int(round(det.warmup_ms * self.card.rate_hz / 1000.0))
        if env.shape[0] - skip < 10:
            raise CalibrationError(f"rest capture too short: {env.shape[0]} samples, need the {det.warmup_ms:g} ms warm-up and more")
        return estimate_threshold(env[skip:], det.k, det.hysteresis)

    def use(self, calibration: Calibration) -> None:
        """Adopt a calibration after checking it was made for this profile and this exact model."""
        if calibration.profile != self.card.profile:
            raise CalibrationError(
                f"this calibration is for profile {calibration.profile!r}; the decoder serves {self.card.profile!r}. "
                "Calibrate again with this amplifier."
            )
        if calibration.model != self.card.name or calibration.model_sha256 != self.card.sha256:
            raise CalibrationError(
                f"this calibration was made with model {calibration.model!r} ({calibration.model_sha256[:12]}...); "
                f"the decoder runs {self.card.name!r} ({self.card.sha256[:12]}...). Calibrate again."
            )
        if calibration.head.mean is None or calibration.head.mean.shape[0] != self.head_dim:
            raise CalibrationError("the calibration's head does not fit this model's embedding; calibrate again")
        top, base = calibration.encoder_top, self.encoder.top
        if top is not None and (base is None or any(getattr(top, k).shape != getattr(base, k).shape for k in ONNX_NAMES)):
            raise CalibrationError("the calibration refitted an encoder top this model card does not offer "
                                   "(its fine_tune setting or layer sizes differ); calibrate again")
        second = calibration.second_opinion
        if second is not None and (second.labels != calibration.labels or second.wamp_threshold.shape != (self.card.channels,)):
            raise CalibrationError("the calibration's second opinion does not fit its gestures or this amplifier's "
                                   "channels; calibrate again")
        self.calibration = calibration
        if self.vote:
            self.vote.reset()

    def load_calibration(self, path: str | Path) -> Calibration:
        cal = Calibration.load(path)
        self.use(cal)
        return cal

    def realign(self, reference: dict[str, list], rate_hz: float, cut: str = "attempts") -> tuple[int, float]:
        """A returning patient: find how far the ring band has turned since calibration and undo it for every
        later decision. `reference`: {calibrated label: [repetitions]} (attempts, or raw recordings cut as
        `calibrate` cuts them; `cut="windows"` for held gestures). Every gesture given counts, and more
        than one makes the answer safer.

        The decoder's own representation decides (`_likeliest_rotation`): the shift that brings the repetitions
        nearest to the calibration's windows of the same gestures, when clearly nearer than now and than any
        other shift; otherwise it keeps the current rotation (a wrong turn is worse than none). Returns
        (shift, how much nearer: 1 - distance at the shift / distance now).
        Only for ring layouts.
        """
        cal = self._calibrated()
        if self.card.layout != "ring":
            raise CalibrationError(f"model {self.card.name!r} is for a {self.card.layout} layout; rotation applies to ring bands only")
        reps = self._labelled_windows(reference, rate_hz, cut, cal.detector_threshold)
        shift, gain = self._likeliest_rotation(cal, reps)
        self.use(cal.with_rotation(shift))
        return shift, gain

    def _labelled_windows(self, examples: dict, rate_hz: float, cut: str, threshold,
                          cal: Calibration | None = None) -> list[tuple[int, np.ndarray]]:
        """(label index, windows) per repetition, cut as `calibrate` cuts them."""
        cal = cal or self._calibrated()
        unknown = [k for k in examples if k not in cal.labels]
        if unknown:
            raise CalibrationError(f"gestures {unknown} are not in this calibration ({', '.join(cal.labels)})")
        out = []
        for label, reps in examples.items():
            for ri, rep in enumerate(reps):
                if isinstance(rep, Attempt):
                    w = np.asarray(self.movement(rep), dtype=np.float32)
                elif cut == "windows" or label == REST_LABEL:
                    w = self.windows(rep, rate_hz)
                else:
                    if threshold is None:
                        raise CalibrationError("cutting attempts needs the detector threshold (a rest capture)")
                    att = self.cued_attempt(rep, rate_hz, threshold)
                    if att is None:
                        raise WeakGestureError(f"no burst in repetition {ri + 1} of {label!r}: make the movement again, "
                                               "a little stronger", (label,))
                    w = self.movement(att)
                if not len(w):
                    raise CalibrationError(f"repetition {ri + 1} of {label!r} is shorter than one window")
                out.append((cal.labels.index(label), w))
        return out

    def _likeliest_rotation(self, cal: Calibration, reps: list[tuple[int, np.ndarray]]) -> tuple[int, float]:
        """The band's turn that makes the new repetitions look most like the calibration's own windows of the
        same gestures: mean squared distance, in the head's standardised inputs, to each gesture's mean over
        its training windows. The posterior alone cannot tell neighbouring shifts apart (both still name the
        gesture right); the distance to the template can. Accepted only when it is clearly nearer than the
        current rotation (`REALIGN_RATIO`), unambiguous against the runner-up, and names at least as many
        repetitions right."""
        if cal.training is None:
            raise CalibrationError("this calibration was saved before realignment used its training windows; calibrate again")
        gestures = [(li, w) for li, w in reps if cal.labels[li] != REST_LABEL] or reps
        tx, ty = cal.training.x.astype(np.float64), cal.training.y
        z_train = (tx - cal.head.mean) / cal.head.std
        centre = {li: z_train[ty == li].mean(axis=0) for li, _ in gestures if np.any(ty == li)}
        allw = np.concatenate([w for _, w in gestures])
        bounds = np.cumsum([0] + [len(w) for _, w in gestures])
        shifts = range(self.card.channels) if self.card.layout == "ring" else [cal.rotation]
        dist, right = {}, {}
        for s in shifts:
            x = self._assemble(self._parts(allw, rotation=s), cal.encoder_top)
            z = (x - cal.head.mean) / cal.head.std
            p = cal.head.probabilities(x)
            d, ok = [], 0
            for k, (li, _) in enumerate(gestures):
                rows = slice(int(bounds[k]), int(bounds[k + 1]))
                if li in centre:
                    d.append(float(np.mean((z[rows] - centre[li]) ** 2)))
                ok += int(np.argmax(np.log(np.clip(p[rows], 1e-12, 1)).sum(0)) == li)
            dist[s], right[s] = float(np.mean(d)) if d else 0.0, ok
        order = sorted(dist, key=dist.get)
        best, cur = order[0], cal.rotation
        runner_up = dist[order[1]] if len(order) > 1 else np.inf
        if best == cur or dist[cur] <= 0:
            return cur, 0.0
        if (dist[best] > REALIGN_RATIO * dist[cur] or dist[best] > REALIGN_RATIO * runner_up
                or right[best] < right[cur]):
            return cur, 0.0
        return best, float(1.0 - dist[best] / dist[cur])

    def with_threshold_from(self, rest: np.ndarray, rate_hz: float) -> Calibration:
        """The current calibration with the detector threshold of today's rest capture (yesterday's sensitivity k)."""
        cal = self._calibrated()
        thr = self.rest_threshold(rest, rate_hz)
        if cal.detector_threshold is not None:
            thr = with_sensitivity(thr, cal.detector_threshold.k)
        return replace(cal, detector_threshold=thr)

    def returning(self, examples: dict[str, list], rate_hz: float, rest: np.ndarray, patient: str = "",
                  created: str | None = None, use: bool = True, weight: int = 3) -> Calibration:
        """A returning patient's quick check: the current (yesterday's) calibration plus today's rest capture and
        at most a repetition or two per gesture (`examples`, cut as `calibrate` cuts them).

        Today's rest sets today's threshold; the band's turn is found by the decoder's likelihood over shifts
        (`realign`'s rule); the head is refitted on yesterday's windows plus today's (each of today's windows
        counted `weight` times, so one new repetition weighs like yesterday's three). Yesterday's temperature
        and attempt rule are kept: today's repetitions are too few to re-estimate a confidence, and a held-out
        estimate across the two days would flatten it for the windows the refit has now seen.
        """
        cal = self._calibrated()
        if cal.training is None:
            raise CalibrationError("this calibration was saved before quick checks existed; calibrate afresh")
        base = self.with_threshold_from(rest, rate_hz)
        thr, notes = base.detector_threshold, []
        raw = [(label, ri, rep) for label, reps in examples.items() if label != REST_LABEL
               for ri, rep in enumerate(reps) if not isinstance(rep, Attempt)]
        if raw:
            thr, cut_att, notes = self._cut_calibration_attempts(raw, rest, thr, rate_hz)
            examples = {k: [cut_att.get((k, i), r) for i, r in enumerate(v)] for k, v in examples.items()}
        reps = self._labelled_windows({k: v for k, v in examples.items() if k != REST_LABEL}, rate_hz, "attempts", thr, cal)
        shift, gain = self._likeliest_rotation(cal, reps)
        if shift != cal.rotation:
            notes.append(f"the band has turned by {(shift - cal.rotation) % self.card.channels} electrode(s) since the "
                         f"calibration (its windows {100 * gain:.0f} % nearer so); undone")
        # the check the caregiver reads: does yesterday's calibration (turned back) still name today's movements?
        check = {}
        for li, w in reps:
            p = cal.head.probabilities(self._assemble(self._parts(w, rotation=shift), cal.encoder_top))
            d = decide_sequence(cal.labels, cal.attempt_rule or AttemptRule(), p, span=self.profile.attempt_windows)
            check[cal.labels[li]] = d.top == cal.labels[li]
        missed = [k for k, ok in check.items() if not ok]
        notes.append("quick check: yesterday's calibration named " + (
            "every movement right" if not missed else f"{len(check) - len(missed)} of {len(check)} right "
            f"(not {', '.join(missed)}: refitted with today's repetition; calibrate afresh if it keeps failing)"))
        if REST_LABEL in cal.labels:
            reps.append((cal.labels.index(REST_LABEL), self.windows(rest, rate_hz)))
        x_new = np.concatenate([self._assemble(self._parts(w, rotation=shift), cal.encoder_top) for _, w in reps])
        y_new = np.concatenate([np.full(len(w), li) for li, w in reps])
        x = np.concatenate([cal.training.x, np.repeat(x_new, weight, axis=0)])
        y = np.concatenate([cal.training.y, np.repeat(y_new, weight)])
        head = EmbeddingHead(cal.labels, shrinkage=HEAD_SHRINKAGE, temperature=cal.head.temperature).fit(x, y)
        second = cal.second_opinion
        if second is not None:
            w_new = np.concatenate([w for _, w in reps]).astype(np.float32)
            second = second.refit(self.card.prepare(rotate_ring(w_new, shift) if shift else w_new), y_new, weight,
                                  kept=TRAINING_KEPT)
        new = replace(cal, head=head, detector_threshold=thr, second_opinion=second, rotation=int(shift), patient=patient or cal.patient,
                      created=created or datetime.now().isoformat(timespec="seconds"), notes=tuple(notes),
                      training=HeadTraining(np.concatenate([cal.training.x, x_new])[-TRAINING_KEPT:].astype(np.float32),
                                            np.concatenate([cal.training.y, y_new])[-TRAINING_KEPT:]),
                      repetitions={k: cal.repetitions.get(k, 0) + len(examples.get(k, ())) for k in cal.labels})
        if use:
            self.use(new)
        return new

    def _calibrated(self) -> Calibration:
        if self.calibration is None:
            raise CalibrationError("the decoder has no calibration: call calibrate() or load_calibration() first")
        return self.calibration

    # -- decisions ------------------------------------------------------------------------------
    def probabilities(self, raw_windows: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (n x calibrated labels) of raw windows."""
        cal = self._calibrated()
        w = np.asarray(raw_windows, dtype=np.float32)
        self.card.check_window(w)
        return cal.head.probabilities(self._head_inputs(w[None] if w.ndim == 2 else w))

    def window_evidence(self, raw_windows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """What the attempt rule takes per window: the calibrated probabilities (`probabilities`) and the second
        opinion's votes (`second_votes`), from one preparation of the windows."""
        cal = self._calibrated()
        w = np.asarray(raw_windows, dtype=np.float32)
        self.card.check_window(w)
        parts = self._parts(w[None] if w.ndim == 2 else w, extra=("prepared",))
        p = cal.head.probabilities(self._assemble(parts, cal.encoder_top))
        second = cal.second_opinion
        return p, None if second is None else second.votes(parts["prepared"])

    def second_votes(self, raw_windows: np.ndarray) -> np.ndarray | None:
        """The second opinion's label index for each raw window (n x samples x channels, the band's turn undone),
        or None when the calibration has none (made before it existed)."""
        return self.window_evidence(raw_windows)[1]

    def decide_many(self, raw_windows: np.ndarray) -> tuple[list[str | None], np.ndarray]:
        """Labels (None = no action) and confidences of many windows, without voting."""
        cal = self._calibrated()
        p = self.probabilities(raw_windows)
        idx = reject(p, cal.rejection_threshold)
        return [cal.labels[i] if i >= 0 else None for i in idx], p.max(axis=1)

    def decide(self, raw_window: np.ndarray, time: float = 0.0, rate_hz: float | None = None) -> GestureDecision:
        """One raw window (samples x channels) -> a decision; below the threshold, no action."""
        cal = self._calibrated()
        w = np.asarray(raw_window, dtype=np.float32)
        if w.ndim != 2:
            raise ModelCardError(f"decide() takes one window (samples x channels); got shape {w.shape}")
        self.card.check_window(w, rate_hz)
        p = cal.head.probabilities(self._head_inputs(w[None]))[0]
        top = int(np.argmax(p))
        label = cal.labels[top] if p[top] >= cal.rejection_threshold else None
        if self.vote is not None:
            label = self.vote.push(label)
        return GestureDecision(label, float(p[top]), float(time), tuple((k, float(v)) for k, v in zip(cal.labels, p)))

    def pretrained_scores(self, raw_windows: np.ndarray) -> np.ndarray:
        """The encoder's own pre-training class probabilities (labels = card.labels). For evaluation of
        an uncalibrated encoder only: the app always decides through a patient's calibration."""
        w = np.asarray(raw_windows, dtype=np.float32)
        self.card.check_window(w)
        out = [self.encoder.run(w[s : s + 4096])[1] for s in range(0, len(w), 4096)]
        s = np.concatenate(out)
        e = np.exp(s - s.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)


def wrong_cost_for(confidence_to_act: float) -> float:
    """The stated criterion behind a confidence to act: acting at c pays off when (1 - c) x wrong_cost < 1."""
    return 1.0 / max(1.0 - float(confidence_to_act), 1e-6)


def load_decoder(card_path: str | Path, majority: int = 1) -> GestureDecoder:
    """A decoder for the model a card describes; refuses a missing, corrupt or mismatched model clearly."""
    return GestureDecoder(load_card(card_path), majority=majority)
