"""Linear discriminant analysis: the classical baseline and the calibration head's classifier.

A tiny own implementation (pooled covariance, optional shrinkage towards a scaled identity) so the
runtime needs no scikit-learn. With `shrinkage=0` it matches the textbook LDA LibEMG uses
(scikit-learn's default), up to a ridge of 1e-9 x the mean variance that keeps it invertible.
"""
from __future__ import annotations

import numpy as np


class LinearDiscriminant:
    def __init__(self, shrinkage: float = 0.0):
        if not 0.0 <= shrinkage <= 1.0:
            raise ValueError(f"shrinkage must be in [0, 1], got {shrinkage}")
        self.shrinkage = float(shrinkage)
        self.classes_: np.ndarray | None = None
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None

    def fit(self, x: np.ndarray, y: np.ndarray) -> "LinearDiscriminant":
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y)
        if x.ndim != 2 or x.shape[0] != y.shape[0]:
            raise ValueError(f"x must be (n, features) with one label each; got {x.shape} and {y.shape}")
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError("LDA needs at least two classes")
        means = np.stack([x[y == c].mean(axis=0) for c in classes])
        centred = x - means[np.searchsorted(classes, y)]
        dof = max(x.shape[0] - classes.size, 1)
        cov = centred.T @ centred / dof
        mu = float(np.trace(cov)) / cov.shape[0]
        if mu <= 0:
            mu = 1.0
        cov = (1 - self.shrinkage) * cov + self.shrinkage * mu * np.eye(cov.shape[0])
        cov += 1e-9 * mu * np.eye(cov.shape[0])
        priors = np.full(classes.size, 1.0 / classes.size)  # equal priors: no gesture is favoured by its count
        sol = np.linalg.solve(cov, means.T)  # (features, classes)
        self.classes_ = classes
        self.coef_ = sol.T
        self.intercept_ = -0.5 * np.sum(means * sol.T, axis=1) + np.log(priors)
        return self

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        if self.coef_ is None:
            raise RuntimeError("LDA is not fitted")
        return np.asarray(x, dtype=np.float64) @ self.coef_.T + self.intercept_

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        s = self.decision_function(x)
        s -= s.max(axis=1, keepdims=True)
        e = np.exp(s)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self.decision_function(x), axis=1)]

    def to_dict(self) -> dict:
        return {
            "shrinkage": self.shrinkage,
            "classes": self.classes_.tolist(),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "LinearDiscriminant":
        m = cls(float(d["shrinkage"]))
        m.classes_ = np.asarray(d["classes"])
        m.coef_ = np.asarray(d["coef"], dtype=np.float64)
        m.intercept_ = np.asarray(d["intercept"], dtype=np.float64)
        if m.coef_.shape[0] != m.classes_.size or m.intercept_.shape != (m.classes_.size,):
            raise ValueError("LDA parameters do not agree in shape")
        return m
