"""The public gesture-decoding API (documented in docs/api.md): load, calibrate, decide.

    decoder = load_decoder("models/myo8_200hz.card.json")
    calibration = decoder.calibrate({"yes": [rep, rep, rep], "rest": [...]}, rate_hz=200.0, patient="P01")
    decision = decoder.decide(raw_window)          # GestureDecision; label None = no action

The maths lives in pure modules (features, head, calibration); this facade only wires them to the
onnxruntime adapter and checks every input against the model card.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from ..events import GestureDecision
from ..profiles import find_profile
from ..signal.detector import estimate_threshold
from ..signal.filters import CausalFilter, Envelope, design_emg_sos
from .calibration import Calibration, CalibrationError, confusion_matrix, ring_shift_scores
from .card import ModelCard, ModelCardError, load_card
from .features import hudgins_features, rotate_ring, sliding_windows, spatial_features
from .finetune import ONNX_NAMES, TopWeights, fine_tune
from .head import EmbeddingHead, MajorityVote, fit_temperature, reject

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
#: A band-rotation guess must beat the runner-up shift by this much correlation, else realign refuses.
#: On the evaluation people's training0 (reps 0-2 vs rep 3, rotations of 0, +-1, +-2), "wrist extension"
#: separated the true shift by >= 0.23 for all 18 people; "hand close" was ambiguous for 2 of 18.
REALIGN_MARGIN = 0.1


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

    def _parts(self, w: np.ndarray, rotation: int | None = None) -> dict[str, np.ndarray]:
        """Every block the head inputs are made of; with a refittable top also its inputs, the frozen
        convolutions' pooled output ("conv") and the normalised rich features ("features")."""
        shift = self.calibration.rotation if rotation is None and self.calibration else (rotation or 0)
        if shift:
            w = rotate_ring(w, shift)
        refittable = self.encoder.top is not None
        names = list(dict.fromkeys(list(self.card.head_inputs) + (["conv", "features"] if refittable else [])))
        parts: dict[str, list[np.ndarray]] = {k: [] for k in names}
        for s in range(0, len(w), 4096):
            prepared = self.card.prepare(w[s : s + 4096])
            inputs = self.card.inputs_from_prepared(prepared)
            e, conv = self.encoder.run_with_conv(inputs) if refittable else (self.encoder.run_inputs(inputs)[0], None)
            blocks = {"embedding": lambda: e, "hudgins": lambda: hudgins_features(prepared), "rich": lambda: inputs["features"],
                      "spatial": lambda: spatial_features(prepared / self.card.window_scale), "conv": lambda: conv,
                      "features": lambda: inputs["features"]}
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
        examples: dict[str, list[np.ndarray]],
        rate_hz: float,
        patient: str = "",
        rest: np.ndarray | None = None,
        step_ms: float = 50.0,
        rejection_threshold: float = DEFAULT_REJECTION,
        reliable_accuracy: float = DEFAULT_RELIABLE,
        created: str | None = None,
        use: bool = True,
    ) -> Calibration:
        """Fit the head on the caregiver's own gestures: {label: [raw repetitions (samples x channels)]}.

        Each repetition is cut into decision windows; the per-gesture accuracy is estimated by leaving
        one repetition out at a time (with a single repetition: its first half against its second).
        `rest`, a raw rest capture, sets the burst detector's threshold for this session.
        """
        if len(examples) < 2:
            raise CalibrationError("calibration needs at least two gestures (one may be rest)")
        labels = tuple(examples)
        per_rep: list[tuple[int, int, np.ndarray]] = []  # (label index, repetition, windows)
        for li, label in enumerate(labels):
            reps = examples[label]
            if not reps:
                raise CalibrationError(f"gesture {label!r} has no repetitions")
            for ri, rep in enumerate(reps):
                w = self.windows(rep, rate_hz, step_ms)
                if len(w) == 0:
                    raise CalibrationError(
                        f"repetition {ri + 1} of {label!r} is shorter than one window ({self.card.window_ms:g} ms)"
                    )
                per_rep.append((li, ri, w))
        min_reps = min(len(examples[k]) for k in labels)
        if min_reps >= 2:
            groups = [(li, ri, w) for li, ri, w in per_rep]
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
        parts = self._parts(windows, rotation=0)
        fixed = None if self.encoder.top is not None else self._assemble(parts, None)  # no refit: one set for all folds

        def head_inputs(rows: np.ndarray) -> tuple[np.ndarray, TopWeights | None]:
            """Head inputs of every window, with the top refitted on `rows` only (so held-out folds stay unseen)."""
            if fixed is not None:
                return fixed, None
            top = fine_tune(self.encoder.top, parts["conv"][rows], parts["features"][rows], y[rows], len(labels), self.card.fine_tune)
            return self._assemble(parts, top), top

        # cross-validation over repetitions -> per-gesture accuracy, confusion, temperature
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
        pred = np.argmax(probs, axis=1)
        acc = {lab: float(np.mean(pred[y == i] == i)) for i, lab in enumerate(labels)}
        conf = confusion_matrix(y, reject(probs, rejection_threshold), len(labels))
        emb, top = head_inputs(np.ones(len(y), dtype=bool))
        head = EmbeddingHead(labels, shrinkage=HEAD_SHRINKAGE, temperature=temperature).fit(emb, y)
        patterns = {}
        for i, lab in enumerate(labels):
            prep = self.card.prepare(windows[y == i])
            patterns[lab] = np.log(np.sqrt(np.mean(prep**2, axis=(0, 1))) + 1e-6).tolist()
        threshold = self.rest_threshold(rest, rate_hz) if rest is not None else None
        cal = Calibration(
            patient=patient, profile=self.card.profile, model=self.card.name, model_sha256=self.card.sha256,
            created=created or datetime.now().isoformat(timespec="seconds"), labels=labels, head=head,
            rejection_threshold=float(rejection_threshold), per_gesture_accuracy=acc,
            confusion=conf.tolist(), reliable=tuple(k for k, a in acc.items() if a >= reliable_accuracy),
            cv_method=cv_method, repetitions={k: len(v) for k, v in examples.items()},
            channel_patterns=patterns, detector_threshold=threshold, encoder_top=top,
        )
        if use:
            self.use(cal)
        return cal

    def rest_threshold(self, rest: np.ndarray, rate_hz: float):
        """The burst detector's threshold from a raw rest capture, as the signal stage computes it."""
        arr = np.asarray(rest, dtype=np.float64)
        self._check_stream(arr, rate_hz)
        profile = find_profile(self.card.profile)
        det = profile.detector
        filt = CausalFilter(design_emg_sos(profile.filter, self.card.rate_hz), self.card.channels).process(arr)
        env = Envelope(self.card.channels, self.card.rate_hz, det.envelope_hz).process(filt)
        skip = int(round(det.warmup_ms * self.card.rate_hz / 1000.0))
        if env.shape[0] - skip < 10:
            raise CalibrationError(f"rest capture too short: {arr.shape[0]} samples, need the {det.warmup_ms:g} ms warm-up and more")
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
        self.calibration = calibration
        if self.vote:
            self.vote.reset()

    def load_calibration(self, path: str | Path) -> Calibration:
        cal = Calibration.load(path)
        self.use(cal)
        return cal

    def realign(self, reference: dict[str, list[np.ndarray]], rate_hz: float) -> tuple[int, float]:
        """A returning patient: find how far the ring band has turned since calibration, from a few
        repetitions of one or more calibrated gestures, and undo it for every later decision.

        Compares the per-channel RMS pattern of the new repetitions with the calibration's for every
        cyclic shift. When the best shift does not beat the runner-up by `REALIGN_MARGIN`, it refuses
        (CalibrationError) rather than guess: a wrong turn is worse than none. Returns (shift in
        electrode positions, margin over the runner-up). Only for ring layouts.
        """
        cal = self._calibrated()
        if self.card.layout != "ring":
            raise CalibrationError(f"model {self.card.name!r} is for a {self.card.layout} layout; rotation applies to ring bands only")
        unknown = [k for k in reference if k not in cal.labels]
        if unknown:
            raise CalibrationError(f"gestures {unknown} are not in this calibration ({', '.join(cal.labels)})")
        observed = {}
        for label, reps in reference.items():
            w = np.concatenate([self.windows(r, rate_hz) for r in reps])
            if not len(w):
                raise CalibrationError(f"the reference repetitions of {label!r} are shorter than one window")
            prep = self.card.prepare(w)
            observed[label] = np.log(np.sqrt(np.mean(prep**2, axis=(0, 1))) + 1e-6).tolist()
        scores = ring_shift_scores(cal.channel_patterns, observed)
        order = np.argsort(scores)[::-1]
        best, margin = int(order[0]), float(scores[order[0]] - scores[order[1]])
        if margin < REALIGN_MARGIN:
            raise CalibrationError(
                f"cannot tell how the band has turned from {', '.join(reference)} (best shift {best} beats the next by only "
                f"{margin:.2f}); record another gesture (wrist extension works best) or calibrate again"
            )
        self.use(cal.with_rotation(best))
        return best, margin

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


def load_decoder(card_path: str | Path, majority: int = 1) -> GestureDecoder:
    """A decoder for the model a card describes; refuses a missing, corrupt or mismatched model clearly."""
    return GestureDecoder(load_card(card_path), majority=majority)
