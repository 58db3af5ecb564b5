"""The classical baseline every encoder report carries: LDA on the Hudgins time-domain features.

Same input contract as the encoder's calibration ({label: [raw arrays]}), same window preparation,
so the comparison measures the classifier and nothing else.
"""
from __future__ import annotations

import numpy as np

from .features import hudgins_features, prepare_windows, rotate_ring, sliding_windows
from .lda import LinearDiscriminant


class HudginsLda:
    def __init__(self, sos: np.ndarray, window_samples: int, step: int):
        self.sos, self.window_samples, self.step = sos, window_samples, step
        self.lda = LinearDiscriminant(shrinkage=0.0)  # textbook LDA as LibEMG uses it
        self.labels: tuple[str, ...] = ()
        self.rotation = 0

    def features(self, raw_windows: np.ndarray) -> np.ndarray:
        w = rotate_ring(raw_windows, self.rotation) if self.rotation else raw_windows
        return hudgins_features(prepare_windows(w, self.sos))

    def fit(self, examples: dict[str, list[np.ndarray]]) -> "HudginsLda":
        self.labels = tuple(examples)
        xs, ys = [], []
        for i, lab in enumerate(self.labels):
            for rep in examples[lab]:
                w = sliding_windows(np.asarray(rep, dtype=np.float32), self.window_samples, self.step)
                xs.append(self.features(w))
                ys.append(np.full(len(w), i))
        self.lda.fit(np.concatenate(xs), np.concatenate(ys))
        return self

    def predict(self, raw_windows: np.ndarray) -> np.ndarray:
        """Index into `labels` for each raw window."""
        return self.lda.predict(self.features(raw_windows))
