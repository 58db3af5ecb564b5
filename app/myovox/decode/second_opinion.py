"""A second, classical opinion that an action must agree with.

Pure numpy. The head's wrong actions are confident ones: on myo_readings' 2-s clips (3 repetitions per gesture,
all sessions) 13 of 315 tries acted wrong, 9 of them "decisive" at 0.95-1.0, most of them towards pronation or
supination, the movements the encoder never saw; no threshold on the head's own confidence separates them. A
textbook LDA on LibEMG's LS4 features of the same windows (what a LibEMG user writes) makes other mistakes: its
majority over the attempt disagreed with 11 of those 13 and with 12 of the 298 right ones. So an action needs its
agreement: while it disagrees the attempt is watched on, and at the attempt's end it means "no action" (a retry
costs less than a wrong action: `decode.attempt`).

The check learns from exactly the windows the head learns from (the calibration's), and keeps their features so a
returning patient's quick check can refit it with today's repetitions, as the head is refitted.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from ..events import REST_LABEL
from .features import ls4_features
from .lda import LinearDiscriminant

#: Willison amplitude counts the steps larger than this many times rest's median step (per channel): LibEMG's
#: fixed threshold assumes volts; a multiple of the patient's own rest is the same idea in any amplifier's unit.
WAMP_REST_STEPS = 3.0


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def _unb64(s: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s, validate=True), dtype="<f4").reshape(tuple(int(v) for v in shape))


@dataclass(frozen=True, eq=False)
class SecondOpinion:
    """LDA (no shrinkage, equal priors) on the LS4 features of prepared windows; one vote per window."""

    labels: tuple[str, ...]
    wamp_threshold: np.ndarray  # per channel, in the prepared signal's unit
    lda: LinearDiscriminant
    x: np.ndarray  # the features it was fitted on (float32), for a quick check's refit
    y: np.ndarray  # their label indices

    @classmethod
    def fit(cls, prepared: np.ndarray, y: np.ndarray, labels: tuple[str, ...]) -> "SecondOpinion":
        """From the calibration's prepared windows (windows x samples x channels) and their label indices. The
        Willison threshold comes from the rest windows, or from the quietest tenth of all windows without rest."""
        prepared = np.asarray(prepared, dtype=np.float64)
        y = np.asarray(y, dtype=np.int64)
        steps = np.median(np.abs(np.diff(prepared, axis=1)), axis=1)  # windows x channels
        rest = labels.index(REST_LABEL) if REST_LABEL in labels else -1
        quiet = steps[y == rest] if np.any(y == rest) else steps[steps.sum(axis=1) <= np.quantile(steps.sum(axis=1), 0.1)]
        thr = np.maximum(WAMP_REST_STEPS * np.median(quiet, axis=0), 1e-9)
        x = ls4_features(prepared, thr).astype(np.float32)
        return cls(tuple(labels), thr, LinearDiscriminant(0.0).fit(x, y), x, y)

    def features(self, prepared: np.ndarray) -> np.ndarray:
        return ls4_features(np.asarray(prepared, dtype=np.float64), self.wamp_threshold)

    def votes(self, prepared: np.ndarray) -> np.ndarray:
        """The label index each prepared window votes for."""
        return self.lda.predict(self.features(prepared)).astype(np.int64)

    def refit(self, prepared: np.ndarray, y: np.ndarray, weight: int = 1, kept: int | None = None) -> "SecondOpinion":
        """Refitted on its own windows plus new ones (each counted `weight` times), as the quick check refits the
        head; the stored windows keep the newest `kept`."""
        x_new = self.features(prepared).astype(np.float32)
        y_new = np.asarray(y, dtype=np.int64)
        lda = LinearDiscriminant(0.0).fit(np.concatenate([self.x, np.repeat(x_new, weight, axis=0)]),
                                          np.concatenate([self.y, np.repeat(y_new, weight)]))
        x, yy = np.concatenate([self.x, x_new]), np.concatenate([self.y, y_new])
        if kept is not None:
            x, yy = x[-kept:], yy[-kept:]
        return SecondOpinion(self.labels, self.wamp_threshold, lda, x, yy)

    def to_dict(self) -> dict:
        return {"features": "ls4", "labels": list(self.labels), "wamp_threshold": self.wamp_threshold.tolist(),
                "lda": self.lda.to_dict(), "shape": list(self.x.shape), "x_float32_le": _b64(self.x),
                "y": self.y.astype(int).tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "SecondOpinion":
        if d.get("features") != "ls4":
            raise ValueError(f"unknown second-opinion features {d.get('features')!r}")
        x = _unb64(d["x_float32_le"], d["shape"])
        y = np.asarray(d["y"], dtype=np.int64)
        thr = np.asarray(d["wamp_threshold"], dtype=np.float64)
        lda = LinearDiscriminant.from_dict(d["lda"])
        labels = tuple(d["labels"])
        if (y.shape != (x.shape[0],) or x.ndim != 2 or x.shape[1] != 4 * thr.shape[0] or lda.coef_.shape[1] != x.shape[1]
                or not set(lda.classes_.tolist()) <= set(range(len(labels)))):
            raise ValueError("second opinion: features, labels and classifier disagree")
        return cls(labels, thr, lda, x, y)
