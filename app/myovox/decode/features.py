"""Per-window preparation and hand-crafted features, shared by training, the runtime and the LDA baseline.

Pure numpy/scipy. Windows are arrays (windows x samples x channels), the same orientation as a
`Recording.signal`, so a caller never transposes by hand.

One definition of "the window the model sees" lives here (`prepare_windows`): the raw window minus
its per-channel mean, then the profile's causal band-pass started from steady state. It depends on
the window alone, not on stream history, so a window cut from a file, a calibration rep or a live
`OnsetWindow.raw` all reach the encoder the same way.
"""
from __future__ import annotations

import numpy as np
from scipy import signal as sps
from scipy.linalg.lapack import dsyev as _dsyev

#: Order of the per-channel rich features (the seed work's set); the model card lists it.
RICH_FEATURES = ("log_rms", "log_var", "log_ssi", "spectral_entropy", "log_wl", "zc_rate", "mean_freq_norm")
HUDGINS_FEATURES = ("MAV", "ZC", "SSC", "WL")


def sliding_windows(signal: np.ndarray, length: int, step: int) -> np.ndarray:
    """All full windows of `length` samples every `step` samples of one recording (a view, no copy).

    Windows never cross the end of the array: cut each recording file on its own (GUIDE section 3).
    """
    signal = np.asarray(signal)
    if signal.ndim != 2:
        raise ValueError(f"signal must be (samples x channels), got shape {signal.shape}")
    if length <= 0 or step <= 0:
        raise ValueError(f"window length and step must be positive, got {length}, {step}")
    n = signal.shape[0]
    if n < length:
        return np.empty((0, length, signal.shape[1]), dtype=signal.dtype)
    view = np.lib.stride_tricks.sliding_window_view(signal, length, axis=0)  # (n-length+1, ch, length)
    return view[::step].transpose(0, 2, 1)


def prepare_windows(raw: np.ndarray, sos: np.ndarray, zi: np.ndarray | None = None) -> np.ndarray:
    """Remove each window's mean and band-pass it causally, window by window, from steady state.

    Equals `signal.filters.CausalFilter(sos, channels).process(w - w.mean(0))` on each window `w`
    (a test holds this), computed for a whole batch at once. `zi` = `sosfilt_zi(sos)` if the caller
    has it cached.
    """
    w = np.asarray(raw, dtype=np.float64)
    if w.ndim == 2:
        return prepare_windows(w[None], sos, zi)[0]
    if w.ndim != 3:
        raise ValueError(f"windows must be (windows x samples x channels), got shape {w.shape}")
    x = w - w.mean(axis=1, keepdims=True)
    zi0 = sps.sosfilt_zi(sos) if zi is None else zi  # (sections, 2)
    zi = zi0[:, None, :, None] * x[None, :, 0:1, :]  # (sections, windows, 2, channels)
    y, _ = sps.sosfilt(sos, x, axis=1, zi=zi)
    return y


def window_operator(sos: np.ndarray, length: int) -> np.ndarray:
    """`prepare_windows` as one (length x length) matrix P: prepared = P @ raw for every channel.

    Mean removal and a filter started from the steady state of its first (linear) input are both
    linear in the window, so their product is a fixed matrix per window length. One matmul replaces
    a Python-level filter call per decision.
    """
    basis = np.eye(length)[:, :, None]  # window j = unit impulse at sample j, one channel
    return prepare_windows(basis, sos)[:, :, 0].T


def hudgins_features(windows: np.ndarray) -> np.ndarray:
    """MAV, ZC, SSC, WL per channel, as LibEMG computes them (thresholds 0), grouped feature-major.

    Returns (windows x 4*channels): [MAV ch0..chN, ZC ch0..chN, SSC ..., WL ...].
    """
    w = np.asarray(windows, dtype=np.float64)
    mav = np.abs(w).mean(axis=1)
    sg = np.sign(w)
    zc = (np.abs(sg[:, 1:] - sg[:, :-1]) == 2).sum(axis=1)  # a sign change from + to - or - to +
    d = w[:, 1:] - w[:, :-1]
    ssc = (d[:, :-1] * -d[:, 1:] >= 0).sum(axis=1)  # (x1-x0)(x1-x2) >= 0
    wl = np.abs(d).sum(axis=1)
    return np.concatenate([mav, zc, ssc, wl], axis=1)


def ls4_features(windows: np.ndarray, wamp_threshold: float | np.ndarray = 2e-3) -> np.ndarray:
    """LibEMG's LS4 set per channel: L-scale (second L-moment), maximum fractal length, mean square root
    and Willison amplitude, grouped feature-major (windows x 4*channels), as LibEMG computes them.
    `wamp_threshold` (LibEMG's default 2e-3 assumes volts; pass one in the signal's own unit)."""
    w = np.asarray(windows, dtype=np.float64)
    n = w.shape[1]
    x = np.sort(w, axis=1)
    i = np.arange(n, dtype=np.float64)[None, :, None]
    b0 = x.mean(axis=1)
    b1 = (i / max(n - 1, 1) * x).mean(axis=1)
    ls = 2 * b1 - b0
    d = np.diff(w, axis=1)
    mfl = np.log10(np.sqrt((d * d).sum(axis=1)) + 1e-12)
    msr = np.abs(np.mean(np.sqrt(w.astype(np.complex128)), axis=1))
    wamp = (np.abs(d) > np.asarray(wamp_threshold)).sum(axis=1).astype(np.float64)
    return np.concatenate([ls, mfl, msr, wamp], axis=1)


def rich_features(windows: np.ndarray) -> np.ndarray:
    """RMS, variance, simple square integral, spectral entropy, waveform length, zero-crossing rate
    and mean frequency per channel, on scales a network digests (logs of energies, rates in 0..1).

    Returns (windows x 7*channels), feature-major in the order of `RICH_FEATURES`.
    """
    w = np.asarray(windows, dtype=np.float64)
    n = w.shape[1]
    eps = 1e-6
    ssi = (w * w).sum(axis=1)
    rms = np.sqrt(ssi / n)
    mean = w.mean(axis=1)
    var = np.maximum(ssi / n - mean * mean, 0.0)
    wl = np.abs(w[:, 1:] - w[:, :-1]).sum(axis=1)
    neg = np.signbit(w)
    zc_rate = (neg[:, 1:] != neg[:, :-1]).sum(axis=1) / max(n - 1, 1)
    spec = np.abs(np.fft.rfft(w, axis=1)) ** 2  # (windows, bins, channels)
    spec = spec[:, 1:]  # drop DC (the window mean is already removed)
    total = spec.sum(axis=1) + eps
    p = spec / total[:, None, :]
    entropy = -np.sum(p * np.log(p + 1e-12), axis=1) / np.log(max(spec.shape[1], 2))
    bins = np.arange(1, spec.shape[1] + 1, dtype=np.float64) / spec.shape[1]  # fraction of Nyquist
    mnf = np.sum(p * bins[None, :, None], axis=1)
    return np.concatenate(
        [np.log(rms + eps), np.log(var + eps), np.log(ssi + eps), entropy, np.log(wl + eps), zc_rate, mnf], axis=1
    )


def spatial_features(windows: np.ndarray) -> np.ndarray:
    """How the electrodes co-activate: the matrix logarithm of each window's channel covariance
    (log-Euclidean tangent space), upper triangle with off-diagonals times sqrt(2).

    `windows` are prepared windows (windows x samples x channels), divided by the card's
    per-channel scale. A ridge of 1e-3 x the mean variance keeps a silent channel finite.
    Returns (windows x channels*(channels+1)/2).
    """
    w = np.asarray(windows, dtype=np.float64)
    n = w.shape[2]
    c = np.matmul(w.transpose(0, 2, 1), w) / max(w.shape[1], 1)  # (windows, channels, channels)
    diag = np.arange(n)
    ridge = 1e-3 * c[:, diag, diag].mean(axis=1) + 1e-12
    c[:, diag, diag] += ridge[:, None]
    iu, weight = _triu(n)
    if c.shape[0] == 1:  # one live decision: LAPACK directly is ~30 us cheaper than numpy's batched eigh
        vals, vecs, info = _dsyev(c[0])
        if info == 0:
            return ((vecs * np.log(vals)) @ vecs.T)[iu][None] * weight
    vals, vecs = np.linalg.eigh(c)
    logc = np.matmul(vecs * np.log(vals)[:, None, :], vecs.transpose(0, 2, 1))
    return logc[:, iu[0], iu[1]] * weight


_TRIU: dict = {}


def _triu(n: int):
    if n not in _TRIU:
        iu = np.triu_indices(n)
        _TRIU[n] = (iu, np.where(iu[0] == iu[1], 1.0, np.sqrt(2.0)))
    return _TRIU[n]


def rotate_ring(windows: np.ndarray, shift: int) -> np.ndarray:
    """Channels of a ring armband moved by `shift` positions: new channel c = old channel (c + shift) mod N."""
    return np.roll(np.asarray(windows), -int(shift), axis=-1)
