"""Per-session fine-tuning of the encoder's top: the feature branch and the embedding layer.

Pure numpy (torch is not a runtime dependency). The convolutions stay frozen and run in
onnxruntime; only the small layers that turn their pooled output and the hand-crafted features
into the embedding are refitted, with cross-entropy on the caregiver's own gestures, before the
usual LDA head is fitted on the new embeddings. On the recipe protocol, refitting these layers
alone did as well as refitting the whole encoder in torch, and they are small enough (about 20,000
weights) to refit in a fraction of a second on one CPU thread.

Settings chosen on the evaluation people's training0 only (myovox.training.recipe): the model
card's `selection.recipe` and `fine_tune`; the card's metrics show what it does on held-out sessions.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
from scipy.special import erf

_SQRT2 = np.sqrt(2.0)
_INV_SQRT2PI = 1.0 / np.sqrt(2.0 * np.pi)

#: Graph initialiser names of the top layers, as `myovox train` exports them (torch module paths).
ONNX_NAMES = {
    "f0_w": "m.features.net.0.weight", "f0_b": "m.features.net.0.bias",
    "f1_w": "m.features.net.3.weight", "f1_b": "m.features.net.3.bias",
    "e_w": "m.embed.1.weight", "e_b": "m.embed.1.bias",
}


def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / _SQRT2))


def gelu_grad(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + erf(x / _SQRT2)) + x * _INV_SQRT2PI * np.exp(-0.5 * x * x)


@dataclass(frozen=True)
class TopWeights:
    """features (f) -> gelu(f0) -> gelu(f1) = branch; [frozen conv pooling, branch] -> e = embedding."""

    f0_w: np.ndarray
    f0_b: np.ndarray
    f1_w: np.ndarray
    f1_b: np.ndarray
    e_w: np.ndarray
    e_b: np.ndarray

    def __post_init__(self):
        for k in ONNX_NAMES:
            object.__setattr__(self, k, np.ascontiguousarray(getattr(self, k), dtype=np.float32))
        width = self.f0_w.shape[0]
        embed, pooled = self.e_w.shape
        if (self.f0_b.shape != (width,) or self.f1_w.shape != (width, width) or self.f1_b.shape != (width,)
                or self.e_b.shape != (embed,) or pooled <= width):
            raise ValueError("encoder top weights do not agree in shape")

    @property
    def conv_dim(self) -> int:
        """How many pooled convolution values precede the feature branch in the embedding layer's input."""
        return self.e_w.shape[1] - self.f0_w.shape[0]

    def embed(self, conv: np.ndarray, features: np.ndarray) -> np.ndarray:
        """Frozen pooled conv outputs (n x conv_dim) + normalised features (n x f) -> embeddings (n x d)."""
        h1 = gelu(features @ self.f0_w.T + self.f0_b)
        h2 = gelu(h1 @ self.f1_w.T + self.f1_b)
        return np.hstack([conv, h2]).astype(np.float32) @ self.e_w.T + self.e_b

    def to_dict(self) -> dict:
        return {k: {"shape": list(getattr(self, k).shape), "float32_le": base64.b64encode(getattr(self, k).astype("<f4").tobytes()).decode("ascii")}
                for k in ONNX_NAMES}

    @classmethod
    def from_dict(cls, d: dict) -> "TopWeights":
        arrays = {}
        for k in ONNX_NAMES:
            raw = base64.b64decode(d[k]["float32_le"], validate=True)
            arrays[k] = np.frombuffer(raw, dtype="<f4").reshape(tuple(int(s) for s in d[k]["shape"]))
        return cls(**arrays)


@dataclass(frozen=True)
class FineTuning:
    """How the top is refitted at calibration (the model card's `fine_tune`)."""

    epochs: int = 10
    learning_rate: float = 1e-3
    batch: int = 64
    dropout: float = 0.2  # on the embedding layer's input, as in pre-training
    seed: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> "FineTuning":
        f = cls(int(d.get("epochs", 10)), float(d.get("learning_rate", 1e-3)), int(d.get("batch", 64)),
                float(d.get("dropout", 0.2)), int(d.get("seed", 0)))
        if f.epochs < 1 or f.batch < 1 or not 0 < f.learning_rate < 1 or not 0 <= f.dropout < 1:
            raise ValueError(f"fine_tune settings out of range: {d}")
        return f

    def to_dict(self) -> dict:
        return {"epochs": self.epochs, "learning_rate": self.learning_rate, "batch": self.batch,
                "dropout": self.dropout, "seed": self.seed}


def loss_and_grads(params: dict, conv: np.ndarray, features: np.ndarray, labels: np.ndarray,
                   keep: np.ndarray | None = None) -> tuple[float, dict]:
    """Mean cross-entropy of gelu(embedding) @ cls_w.T + cls_b, and its gradient for every entry of `params`
    (the `ONNX_NAMES` keys plus "cls_w", "cls_b"; float64). `keep` is the dropout mask already scaled by
    1 / (1 - p), or None at evaluation."""
    f = features
    a1 = f @ params["f0_w"].T + params["f0_b"]
    h1 = gelu(a1)
    a2 = h1 @ params["f1_w"].T + params["f1_b"]
    h2 = gelu(a2)
    p = np.hstack([conv, h2])
    pd = p * keep if keep is not None else p
    e = pd @ params["e_w"].T + params["e_b"]
    g = gelu(e)
    z = g @ params["cls_w"].T + params["cls_b"]
    z = z - z.max(axis=1, keepdims=True)
    prob = np.exp(z)
    prob /= prob.sum(axis=1, keepdims=True)
    n = len(labels)
    loss = float(-np.mean(np.log(prob[np.arange(n), labels] + 1e-300)))
    dz = prob
    dz[np.arange(n), labels] -= 1.0
    dz /= n
    grads = {"cls_w": dz.T @ g, "cls_b": dz.sum(0)}
    de = (dz @ params["cls_w"]) * gelu_grad(e)
    grads["e_w"], grads["e_b"] = de.T @ pd, de.sum(0)
    dp = de @ params["e_w"]
    if keep is not None:
        dp = dp * keep
    da2 = dp[:, conv.shape[1]:] * gelu_grad(a2)
    grads["f1_w"], grads["f1_b"] = da2.T @ h1, da2.sum(0)
    da1 = (da2 @ params["f1_w"]) * gelu_grad(a1)
    grads["f0_w"], grads["f0_b"] = da1.T @ f, da1.sum(0)
    return loss, grads


def fine_tune(start: TopWeights, conv: np.ndarray, features: np.ndarray, labels: np.ndarray, n_classes: int,
              settings: FineTuning = FineTuning()) -> TopWeights:
    """Refit the top on one patient's windows with a fresh classifier (Adam, minibatches, dropout).

    Deterministic for a given seed, so the same calibration data always gives the same head.
    """
    rng = np.random.default_rng(settings.seed)
    y = np.asarray(labels, dtype=np.int64)
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError("labels must be indices below n_classes")
    params = {k: getattr(start, k).astype(np.float64) for k in ONNX_NAMES}
    # the classifier starts at zero, not at random: a random start moved the recipe score by +-0.3 points
    # from seed to seed (1 rep -> 3), a zero start by +-0.07, at the same mean
    params["cls_w"] = np.zeros((n_classes, start.e_w.shape[0]))
    params["cls_b"] = np.zeros(n_classes)
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(v) for k, v in params.items()}
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, settings.learning_rate
    step = 0
    n = len(y)
    conv = np.asarray(conv, dtype=np.float64)
    if conv.shape != (n, start.conv_dim) or len(features) != n:
        raise ValueError(f"fine-tuning needs {n} rows of {start.conv_dim} pooled conv values and features")
    features = np.asarray(features, dtype=np.float64)
    for _ in range(settings.epochs):
        order = rng.permutation(n)
        for s in range(0, n, settings.batch):
            i = order[s : s + settings.batch]
            keep = None
            if settings.dropout > 0:
                keep = (rng.random((len(i), start.e_w.shape[1])) >= settings.dropout) / (1.0 - settings.dropout)
            _, grads = loss_and_grads(params, conv[i], features[i], y[i], keep)
            step += 1
            for k, g in grads.items():
                m[k] = b1 * m[k] + (1 - b1) * g
                v[k] = b2 * v[k] + (1 - b2) * g * g
                params[k] -= lr * (m[k] / (1 - b1**step)) / (np.sqrt(v[k] / (1 - b2**step)) + eps)
    return TopWeights(**{k: params[k] for k in ONNX_NAMES})
