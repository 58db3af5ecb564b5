"""Detector sensitivity fitted at calibration: every cued repetition detected, the rest capture quiet.

Pure numpy. The profile's k (threshold = rest baseline + k x rest spread) was chosen on other people; a
patient whose rest capture is noisy, or whose movements are weak, can sit below it, and then no burst
ever starts. At calibration we know both sides: the rest capture (must stay quiet) and the cued
repetitions (must all be detected). `fit_sensitivity` lowers k just enough for the weakest repetition,
never below what the rest capture itself would cross, and names the repetitions no k can reach.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..events import Threshold

#: k is set to this fraction of the weakest repetition's sustained peak (a margin for the next, weaker try).
REP_MARGIN = 0.5
#: ... and never below this multiple of the rest capture's own sustained peak (rest must stay quiet).
REST_MARGIN = 2.0
#: A rest capture whose sustained peak over its own spread exceeds this moved or is noisy: the caregiver is told.
REST_PEAK_LIMIT = 12.0


def sustained_score(env: np.ndarray, threshold: Threshold, min_channels: int, min_samples: int) -> np.ndarray:
    """Per sample, the score (multiples of rest spread above baseline) that `min_channels` channels exceed
    together for `min_samples` in a row: a burst starts at k only where this reaches k."""
    z = (np.asarray(env, dtype=np.float64) - np.asarray(threshold.baseline)) / np.asarray(threshold.spread)
    m = min(max(1, int(min_channels)), z.shape[1])
    together = np.sort(z, axis=1)[:, -m]  # the m-th largest channel
    n = max(1, int(min_samples))
    if together.shape[0] < n:
        return np.full(0, -np.inf)
    view = np.lib.stride_tricks.sliding_window_view(together, n)
    return view.min(axis=1)


def sustained_peak(env: np.ndarray, threshold: Threshold, min_channels: int, min_samples: int) -> float:
    s = sustained_score(env, threshold, min_channels, min_samples)
    return float(s.max()) if s.size else 0.0


@dataclass(frozen=True)
class SensitivityFit:
    k: float  # the detector's k for this session
    rest_peak: float  # the rest capture's own sustained peak (in its spread)
    rep_peaks: tuple[float, ...]  # each repetition's sustained peak
    weak: tuple[int, ...]  # repetitions that no safe k detects
    rest_noisy: bool  # the rest capture moved or is noisy: recapture it

    @property
    def lowest_safe_k(self) -> float:
        return REST_MARGIN * max(self.rest_peak, 1.0)


def fit_sensitivity(rest_env: np.ndarray, rep_envs: list[np.ndarray], threshold: Threshold, default_k: float,
                    min_channels: int, min_samples: int) -> SensitivityFit:
    """k for the session: the profile's k, lowered to REP_MARGIN x the weakest repetition's peak when that is
    below it (a margin for weaker tries later), but never below REST_MARGIN x the rest capture's own peak."""
    rest_peak = sustained_peak(rest_env, threshold, min_channels, min_samples)
    peaks = tuple(sustained_peak(e, threshold, min_channels, min_samples) for e in rep_envs)
    floor = REST_MARGIN * max(rest_peak, 1.0)
    k = float(default_k)
    if peaks:
        k = min(k, REP_MARGIN * min(peaks))
    k = max(k, floor)
    weak = tuple(i for i, p in enumerate(peaks) if p <= k)
    return SensitivityFit(k=k, rest_peak=rest_peak, rep_peaks=peaks, weak=weak, rest_noisy=rest_peak > REST_PEAK_LIMIT)


def with_sensitivity(threshold: Threshold, k: float) -> Threshold:
    """The threshold at another k with the same off-level: a lower on-level finds weaker onsets, but a burst
    still has to fall as far as before to end (and the detector to re-arm), so the patient's low activity
    between movements does not hold one burst open for ever."""
    off = threshold.k * threshold.hysteresis
    return Threshold(threshold.baseline, threshold.spread, float(k), float(min(1.0, off / k)), threshold.samples, threshold.steady)
