"""SampleGuard: nothing that is not EMG (NaN, Inf, saturated spikes) gets past the first stage."""
from __future__ import annotations

import numpy as np

from ..events import SignalFault
from . import kernel


class SampleGuard:
    """Repairs bad samples in place of propagating them, and reports what it repaired.

    Non-finite samples take the channel's last good value (0 before any); values beyond the
    amplifier's range are clipped to it. Repair keeps the sample clock intact, which the detector,
    the windows and the replay all rely on.
    """

    def __init__(self, channels: int, valid_range: tuple[float, float], fused: bool = True):
        """`fused=False` checks with numpy even when the compiled kernel is available (same results)."""
        self.channels = channels
        self.low, self.high = float(valid_range[0]), float(valid_range[1])
        self.fused = fused and kernel.fused_available()
        self._last = np.zeros(channels, dtype=np.float64)
        self.total_nonfinite = 0
        self.total_out_of_range = 0

    def process(self, x: np.ndarray, first_index: int = 0, time: float = 0.0) -> tuple[np.ndarray, SignalFault | None]:
        if (self.fused and type(x) is np.ndarray and x.ndim == 2 and x.shape[1] == self.channels
                and x.dtype in kernel.GUARD_DTYPES and x.flags.c_contiguous):
            out = np.empty(x.shape)  # one compiled pass copies, checks and keeps the last row
            if kernel.copy_checked(x, out, self.low, self.high, self._last):
                return out, None
        x = np.array(x, dtype=np.float64)  # a copy: the caller's chunk is left as it was
        if x.size == 0 or (self.low <= x.min() and x.max() <= self.high):  # NaN fails both tests
            if x.shape[0]:
                self._last = x[-1].copy()
            return x, None
        bad = ~np.isfinite(x)
        n_bad = int(bad.sum())
        if n_bad:
            # forward-fill each channel from its last good sample
            idx = np.where(bad, 0, np.arange(x.shape[0])[:, None])
            np.maximum.accumulate(idx, axis=0, out=idx)
            good_before = ~bad[idx, np.arange(self.channels)]
            filled = x[idx, np.arange(self.channels)]
            x = np.where(bad, np.where(good_before, filled, self._last[None, :]), x)
        over = (x < self.low) | (x > self.high)
        n_over = int(over.sum())
        if n_over:
            np.clip(x, self.low, self.high, out=x)
        if x.shape[0]:
            self._last = x[-1].copy()
        if not (n_bad or n_over):
            return x, None
        self.total_nonfinite += n_bad
        self.total_out_of_range += n_over
        chans = tuple(int(c) for c in np.flatnonzero((bad | over).any(axis=0)))
        return x, SignalFault(first_index, time, n_bad, n_over, chans)
