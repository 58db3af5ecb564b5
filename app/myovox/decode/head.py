"""The per-session head: embeddings -> caregiver-named labels with calibrated confidence, and rejection.

Pure numpy. The head is a shrinkage LDA on standardised embeddings (fits in milliseconds, learns
from a handful of repetitions) with a temperature fitted on held-out repetitions, so "confidence
0.9" means roughly nine in ten right on this patient's own data. Below the rejection threshold the
answer is "no action": a false activation speaks for the patient, a missed one only costs a retry.
"""
from __future__ import annotations

from collections import Counter, deque

import numpy as np

from .lda import LinearDiscriminant


class EmbeddingHead:
    def __init__(self, labels: tuple[str, ...], shrinkage: float = 0.3, temperature: float = 1.0):
        self.labels = tuple(labels)
        self.shrinkage = float(shrinkage)
        self.temperature = float(temperature)
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.lda: LinearDiscriminant | None = None
        self._affine: tuple[np.ndarray, np.ndarray] | None = None  # (weights, bias) of probabilities(), built on first use

    def fit(self, embeddings: np.ndarray, label_index: np.ndarray) -> "EmbeddingHead":
        x = np.asarray(embeddings, dtype=np.float64)
        self.mean = x.mean(axis=0)
        self.std = x.std(axis=0) + 1e-6
        self.lda = LinearDiscriminant(self.shrinkage).fit((x - self.mean) / self.std, np.asarray(label_index))
        self._affine = None
        if self.lda.classes_.size != len(self.labels):
            raise ValueError(f"calibration has examples of {self.lda.classes_.size} labels, expected {len(self.labels)}")
        return self

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        if self.lda is None:
            raise RuntimeError("the head is not calibrated")
        return self.lda.decision_function((np.asarray(embeddings, dtype=np.float64) - self.mean) / self.std)

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """softmax(logits / temperature), with standardisation and temperature folded into one affine map."""
        if self.lda is None:
            raise RuntimeError("the head is not calibrated")
        if self._affine is None:
            coef = self.lda.coef_ / self.std[None, :] / self.temperature
            self._affine = (np.ascontiguousarray(coef.T), (self.lda.intercept_ - coef @ self.mean * self.temperature) / self.temperature)
        w, b = self._affine
        return softmax(np.asarray(embeddings, dtype=np.float64) @ w + b)

    def to_dict(self) -> dict:
        return {
            "labels": list(self.labels), "shrinkage": self.shrinkage, "temperature": self.temperature,
            "mean": self.mean.tolist(), "std": self.std.tolist(), "lda": self.lda.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "EmbeddingHead":
        h = cls(tuple(d["labels"]), float(d["shrinkage"]), float(d["temperature"]))
        h.mean = np.asarray(d["mean"], dtype=np.float64)
        h.std = np.asarray(d["std"], dtype=np.float64)
        h.lda = LinearDiscriminant.from_dict(d["lda"])
        if h.mean.shape != h.std.shape or h.lda.coef_.shape != (len(h.labels), h.mean.shape[0]):
            raise ValueError("head parameters do not agree in shape")
        return h


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The temperature that minimises the held-out negative log-likelihood (grid search, log scale)."""
    logits = np.asarray(logits, dtype=np.float64)
    best_t, best = 1.0, np.inf
    for t in np.geomspace(0.05, 50.0, 61):
        p = softmax(logits / t)[np.arange(len(truth)), truth]
        nll = -np.mean(np.log(p + 1e-12))
        if nll < best:
            best_t, best = float(t), nll
    return best_t


def reject(probabilities: np.ndarray, threshold: float) -> np.ndarray:
    """Index of the chosen class per row, or -1 ("no action") where the top probability is below threshold."""
    p = np.asarray(probabilities)
    top = np.argmax(p, axis=1)
    return np.where(p[np.arange(len(p)), top] >= threshold, top, -1)


class MajorityVote:
    """Act only when the last `length` windows mostly agree on one label (None = no action counts too)."""

    def __init__(self, length: int = 3, needed: int | None = None):
        if length < 1:
            raise ValueError("majority length must be at least 1")
        self.length = length
        self.needed = needed if needed is not None else length // 2 + 1
        self._recent: deque = deque(maxlen=length)

    def reset(self) -> None:
        self._recent.clear()

    def push(self, label: str | None) -> str | None:
        self._recent.append(label)
        if len(self._recent) < self.length:
            return None
        winner, count = Counter(self._recent).most_common(1)[0]
        return winner if winner is not None and count >= self.needed else None
