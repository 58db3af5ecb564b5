"""Causal IIR filters that carry their state across chunks, so chunked output equals whole-signal output."""
from __future__ import annotations

import numpy as np
from scipy import signal as sps

from ..profiles import FilterSettings

try:  # scipy's compiled kernel behind sosfilt; its Python wrapper costs ~0.3 ms per call in argument checks
    from scipy.signal._sosfilt import _sosfilt as _sosfilt_kernel
except ImportError:  # a scipy that moved it: the public function gives the same numbers, only slower
    _sosfilt_kernel = None


def design_emg_sos(settings: FilterSettings, rate_hz: float) -> np.ndarray:
    """Butterworth band-pass (and an optional mains notch) as second-order sections."""
    nyq = rate_hz / 2
    hi = min(settings.lowpass_hz, 0.95 * nyq)
    sos = sps.butter(settings.order, [settings.highpass_hz, hi], btype="bandpass", fs=rate_hz, output="sos")
    if settings.notch_hz and settings.notch_hz < nyq:
        b, a = sps.iirnotch(settings.notch_hz, settings.notch_q, fs=rate_hz)
        sos = np.vstack([sos, sps.tf2sos(b, a)])
    return sos


def design_envelope_sos(rate_hz: float, corner_hz: float) -> np.ndarray:
    """The envelope's smoothing low-pass: 2nd-order Butterworth at `corner_hz`."""
    return sps.butter(2, corner_hz, btype="lowpass", fs=rate_hz, output="sos")


class CausalFilter:
    """`sosfilt` over (samples x channels) chunks with per-channel state.

    The state starts at the steady state for the first sample seen, so an amplifier's DC offset
    (thousands of counts on some) does not ring through the first second of a session. State is
    kept as (channels, sections, 2), the layout scipy's kernel works in, so a chunk costs one copy
    and one kernel call: at 2 kHz an amplifier's chunks are small and per-call overhead dominates.
    """

    def __init__(self, sos: np.ndarray, channels: int, settle_on_first: bool = True):
        self.sos = np.ascontiguousarray(sos, dtype=np.float64)
        self.channels = channels
        self.settle_on_first = settle_on_first
        self._zi: np.ndarray | None = None  # (channels, sections, 2)

    def reset(self) -> None:
        self._zi = None

    def initial_state(self, first: np.ndarray) -> np.ndarray:
        """State (channels, sections, 2) for a stream whose first sample is `first` (zeros unless settling)."""
        zi = sps.sosfilt_zi(self.sos)  # (sections, 2), steady state for a unit step
        first = np.asarray(first, dtype=np.float64) if self.settle_on_first else np.zeros(self.channels)
        return np.ascontiguousarray(first[:, None, None] * zi[None, :, :])

    def process(self, x: np.ndarray) -> np.ndarray:
        """Filter a (samples x channels) chunk; returns float64 of the same shape (a transposed view)."""
        xt = np.array(np.asarray(x).T, dtype=np.float64, order="C")  # (channels, samples), a private copy
        if xt.shape[1] == 0:
            return xt.T
        if self._zi is None:
            self._zi = self.initial_state(xt[:, 0])
        if _sosfilt_kernel is not None:
            _sosfilt_kernel(self.sos, xt, self._zi)  # filters xt and advances zi in place
            return xt.T
        y, zi = sps.sosfilt(self.sos, xt, axis=1, zi=np.moveaxis(self._zi, 0, 1))
        self._zi = np.ascontiguousarray(np.moveaxis(zi, 1, 0))
        return y.T


class Tkeo:
    """Teager-Kaiser energy, made causal by a one-sample delay: psi[n-1] = x[n-1]^2 - x[n-2] x[n].

    Output sample n is the energy centred on input sample n-1; the first two outputs of a stream are 0.
    """

    def __init__(self, channels: int):
        self._hist: np.ndarray | None = None  # the last two input samples
        self.channels = channels

    def reset(self) -> None:
        self._hist = None

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[0]
        if n == 0:
            return x.copy()
        ext = np.empty((n + 2, x.shape[1]))
        ext[:2] = x[:1] if self._hist is None else self._hist  # a flat past: zero energy at the start
        ext[2:] = x
        self._hist = ext[-2:].copy()
        mid = ext[1:-1]
        return mid * mid - ext[:-2] * ext[2:]


class Envelope:
    """Smoothed non-negative TKEO energy: |psi| through a 2nd-order Butterworth low-pass."""

    def __init__(self, channels: int, rate_hz: float, corner_hz: float):
        sos = design_envelope_sos(rate_hz, corner_hz)
        self._tkeo = Tkeo(channels)
        self._lp = CausalFilter(sos, channels, settle_on_first=False)

    def reset(self) -> None:
        self._tkeo.reset()
        self._lp.reset()

    def process(self, filtered: np.ndarray) -> np.ndarray:
        env = self._lp.process(np.abs(self._tkeo.process(filtered)))
        np.maximum(env, 0.0, out=env)  # the low-pass can undershoot just below zero
        return env
