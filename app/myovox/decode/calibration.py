"""A patient's session calibration: the head, the rest threshold, and how far to trust each gesture.

Pure numpy/stdlib. The file is versioned JSON naming the patient, the profile and the model (by
sha256): a calibration made for another amplifier or another model is refused, never silently used.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..events import Threshold
from .attempt import AttemptRule
from .finetune import TopWeights
from .head import EmbeddingHead
from .second_opinion import SecondOpinion

CALIBRATION_SCHEMA = "myovox.calibration/1"


class CalibrationError(ValueError):
    """A calibration that cannot be used here; the message says why and what to do."""


class WeakGestureError(CalibrationError):
    """Some cued repetitions never rise above rest: the caregiver is asked for a stronger or another movement."""

    def __init__(self, message: str, repetitions: tuple[str, ...] = ()):
        super().__init__(message)
        self.repetitions = repetitions


@dataclass(frozen=True, eq=False)
class HeadTraining:
    """What the head was fitted on (its inputs per window and their labels), kept so that a returning patient's
    quick check can refit the head on yesterday's windows plus today's instead of starting over."""

    x: np.ndarray  # (windows x head inputs), float32
    y: np.ndarray  # label index per window

    def to_dict(self) -> dict:
        return {"shape": list(self.x.shape), "x_float32_le": base64.b64encode(self.x.astype("<f4").tobytes()).decode("ascii"),
                "y": self.y.astype(int).tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "HeadTraining":
        x = np.frombuffer(base64.b64decode(d["x_float32_le"], validate=True), dtype="<f4").reshape(tuple(int(v) for v in d["shape"]))
        y = np.asarray(d["y"], dtype=np.int64)
        if y.shape != (x.shape[0],):
            raise ValueError("head training windows and labels disagree")
        return cls(x, y)


@dataclass(frozen=True)
class Calibration:
    patient: str
    profile: str
    model: str
    model_sha256: str
    created: str  # ISO date-time, from the caller (the core has no clock)
    labels: tuple[str, ...]
    head: EmbeddingHead
    rejection_threshold: float
    per_gesture_accuracy: dict  # label -> cross-validated accuracy over repetitions
    confusion: list  # rows = true label, columns = predicted label, counts of windows
    reliable: tuple[str, ...]  # gestures accurate enough to use
    cv_method: str
    repetitions: dict  # label -> how many repetitions it was fitted on
    channel_patterns: dict  # label -> mean log RMS per channel of its windows (how strong each gesture is, per electrode)
    detector_threshold: Threshold | None = None
    rotation: int = 0  # ring positions the band has moved since the patterns were taken
    notes: tuple[str, ...] = field(default_factory=tuple)
    encoder_top: TopWeights | None = None  # the encoder's top layers as refitted on this patient (decode.finetune)
    attempt_rule: AttemptRule | None = None  # how an attempt's windows become one decision; None: the defaults
    training: HeadTraining | None = None  # the head's own training windows (for a returning patient's quick check)
    second_opinion: SecondOpinion | None = None  # the classical check an action must agree with (decode.second_opinion)

    def with_rotation(self, shift: int) -> "Calibration":
        return replace(self, rotation=int(shift))

    def to_dict(self) -> dict:
        thr = self.detector_threshold
        return {
            "schema": CALIBRATION_SCHEMA,
            "patient": self.patient,
            "profile": self.profile,
            "model": self.model,
            "model_sha256": self.model_sha256,
            "created": self.created,
            "labels": list(self.labels),
            "rejection_threshold": self.rejection_threshold,
            "per_gesture_accuracy": self.per_gesture_accuracy,
            "confusion": self.confusion,
            "reliable": list(self.reliable),
            "cv_method": self.cv_method,
            "repetitions": self.repetitions,
            "rotation": self.rotation,
            "channel_patterns": self.channel_patterns,
            "detector_threshold": None if thr is None else {
                "baseline": list(thr.baseline), "spread": list(thr.spread), "k": thr.k,
                "hysteresis": thr.hysteresis, "samples": thr.samples,
            },
            "head": self.head.to_dict(),
            "encoder_top": None if self.encoder_top is None else self.encoder_top.to_dict(),
            "attempt_rule": None if self.attempt_rule is None else self.attempt_rule.to_dict(),
            "training": None if self.training is None else self.training.to_dict(),
            "second_opinion": None if self.second_opinion is None else self.second_opinion.to_dict(),
            "notes": list(self.notes),
        }

    def save(self, path: str | Path) -> Path:
        from ..session.files import atomic_write_bytes  # fsync'd temp file + replace: old or new, never half

        path = Path(path)
        atomic_write_bytes(path, json.dumps(self.to_dict(), indent=1).encode("utf-8"))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Calibration":
        from .card import read_schema_json

        path = Path(path)
        d = read_schema_json(path, CALIBRATION_SCHEMA, CalibrationError,
                             "no such calibration file; calibrate the patient first",
                             "not a readable calibration file ({}); calibrate again", "not a myovox calibration")
        try:
            thr = d.get("detector_threshold")
            return cls(
                patient=str(d["patient"]), profile=str(d["profile"]), model=str(d["model"]),
                model_sha256=str(d["model_sha256"]), created=str(d["created"]), labels=tuple(d["labels"]),
                head=EmbeddingHead.from_dict(d["head"]), rejection_threshold=float(d["rejection_threshold"]),
                per_gesture_accuracy=dict(d["per_gesture_accuracy"]), confusion=list(d["confusion"]),
                reliable=tuple(d["reliable"]), cv_method=str(d["cv_method"]), repetitions=dict(d["repetitions"]),
                channel_patterns={k: list(v) for k, v in d["channel_patterns"].items()},
                detector_threshold=None if thr is None else Threshold(
                    tuple(thr["baseline"]), tuple(thr["spread"]), float(thr["k"]), float(thr["hysteresis"]), int(thr["samples"])),
                rotation=int(d.get("rotation", 0)), notes=tuple(d.get("notes", ())),
                encoder_top=TopWeights.from_dict(d["encoder_top"]) if d.get("encoder_top") else None,
                attempt_rule=AttemptRule.from_dict(d["attempt_rule"]) if d.get("attempt_rule") else None,
                training=HeadTraining.from_dict(d["training"]) if d.get("training") else None,
                second_opinion=SecondOpinion.from_dict(d["second_opinion"]) if d.get("second_opinion") else None,
            )
        except (KeyError, TypeError, ValueError) as exc:  # binascii.Error (bad base64) is a ValueError
            raise CalibrationError(f"{path}: calibration file is damaged ({exc!r}); calibrate again") from exc


def confusion_matrix(truth: np.ndarray, pred: np.ndarray, n: int) -> np.ndarray:
    """Counts; a prediction of -1 ("no action") is counted in an extra last column."""
    m = np.zeros((n, n + 1), dtype=np.int64)
    for t, p in zip(np.asarray(truth), np.asarray(pred)):
        m[int(t), int(p) if p >= 0 else n] += 1
    return m
