"""The chain's per-chunk work in one compiled call (numba): band-pass + notch, TKEO, envelope, burst bookkeeping.

At 2 kHz an amplifier sends ~20 samples every 10 ms, and the reference stages (`CausalFilter`, `Envelope`,
`BurstDetector`) spend most of such a chunk in Python and numpy call overhead, not in arithmetic. Here the
same arithmetic runs in the same order per channel, so the outputs equal theirs bit for bit
(tests/signal/test_kernel.py); those classes stay the reference implementation and the fallback.

This is the only module of the core that imports numba. When numba is missing or cannot compile,
`fused_available()` logs why once and says False, and the chain runs the reference path: slower, never down.
Compiled code is cached on disk (`cache=True`); `warm_up()` compiles or loads it once per process, at chain
construction, so the first live chunk does not pay for it.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from ..events import Burst, BurstEnd, Threshold
from ..stream.ring import RingBuffer
from .detector import BurstDetector
from .filters import CausalFilter

if TYPE_CHECKING:
    from .guard import SampleGuard

log = logging.getLogger(__name__)

try:
    import numba
except Exception as exc:  # ImportError, or an llvmlite that does not load on this machine
    numba = None
    _import_error: str | None = f"{type(exc).__name__}: {exc}"
else:
    _import_error = None

_IDLE, _CANDIDATE, _ACTIVE = BurstDetector.IDLE, BurstDetector.CANDIDATE, BurstDetector.ACTIVE
_BURST, _BURST_END = 1, 2
# Detector state in two flat arrays, so a call passes few arguments (numba checks each one's type per call).
# ints: header, then the channels that crossed the on-threshold (0/1) in the current burst
(_I_STATE, _I_ONSET, _I_REFRACTORY_UNTIL, _I_ARMED, _I_MIN_SAMPLES, _I_REFRACTORY, _I_MIN_CHANNELS, _I_QUIET_SINCE,
 _I_BRIDGE, _I_BRIDGE_WITHIN) = range(10)
_I_HEADER = 10
# floats: header, then baseline, spread and off-level per channel
_F_ONSET_TIME, _F_PEAK, _F_K, _F_QUIET_TIME = range(4)
_F_HEADER = 4
# one row per event: kind, onset index, confirmed/offset index, then the channel flags;
# its floats: onset time, peak, the event's own time (an offset may lie in an earlier chunk)
_E_HEADER = 3

if numba is not None:
    _jit = numba.njit(cache=True, nogil=True)

    @_jit
    def _biquads(coef, first, last, zs, row):
        """Run the channels of `row` through sections [first, last) in place: `_sosfilt`'s arithmetic, same order.

        Section by section across channels (not channel by channel) so the compiler can vectorise over channels;
        each channel still sees exactly the operations `_sosfilt` does.
        """
        ch = row.shape[0]
        for s in range(first, last):
            b0, b1, b2, a1, a2 = coef[s, 0], coef[s, 1], coef[s, 2], coef[s, 4], coef[s, 5]
            r0 = 2 * s * ch
            r1 = r0 + ch
            for c in range(ch):
                v = row[c]
                x_new = b0 * v + zs[r0 + c]
                zs[r0 + c] = b1 * v - a1 * x_new + zs[r1 + c]
                zs[r1 + c] = b2 * v - a2 * x_new
                row[c] = x_new

    @_jit
    def _filter_envelope(n, coef, n_bp, zs, out):
        """Band-pass out[0, :n] in place, its smoothed |TKEO| into out[1]; advances the state `zs` in place.

        `zs` is flat: 2 rows (z0, z1) per section, band-pass then low-pass, then the TKEO's last two inputs
        (older, newer), each row one value per channel.
        """
        ch = out.shape[2]
        n_sec = coef.shape[0]
        h = 2 * n_sec * ch
        for i in range(n):
            filt = out[0, i]
            env = out[1, i]
            _biquads(coef, 0, n_bp, zs, filt)
            for c in range(ch):
                y = filt[c]
                older = zs[h + c]
                newer = zs[h + ch + c]
                env[c] = abs(newer * newer - older * y)  # Tkeo: mid * mid - before * after
                zs[h + c] = newer
                zs[h + ch + c] = y
            _biquads(coef, n_bp, n_sec, zs, env)
            for c in range(ch):
                e = env[c]
                env[c] = e if not e < 0.0 else 0.0  # np.maximum(e, 0): keeps NaN and -0.0 as it does

    @_jit
    def copy_checked(x, out, low, high, last):
        """out = x as float64; if every value is finite and within [low, high], last = the final row and True.

        `SampleGuard`'s common case in one pass; a False sends the chunk down its reference repair path.
        """
        n, ch = x.shape
        ok = True
        for i in range(n):
            for c in range(ch):
                v = np.float64(x[i, c])
                out[i, c] = v
                ok &= (low <= v) & (v <= high)  # NaN fails both
        if ok and n:
            for c in range(ch):
                last[c] = out[n - 1, c]
        return ok

    @_jit
    def _above(env, i, fs, ch, min_channels):
        """At least `min_channels` channels above their off-level at sample i."""
        count = 0
        off = _F_HEADER + 2 * ch
        for c in range(ch):
            if env[i, c] > fs[off + c]:
                count += 1
        return count >= min_channels

    @_jit
    def _on(env, i, fs, ch, min_channels, k):
        """At least `min_channels` channels with a score above k at sample i."""
        count = 0
        for c in range(ch):
            if (env[i, c] - fs[_F_HEADER + c]) / fs[_F_HEADER + ch + c] > k:
                count += 1
        return count >= min_channels

    @_jit
    def _emit(ev, evf, m, kind, index, when, ist, fs, ch):
        ev[m, 0] = kind
        ev[m, 1] = ist[_I_ONSET]
        ev[m, 2] = index
        for c in range(ch):
            ev[m, _E_HEADER + c] = ist[_I_HEADER + c]
        evf[m, 0] = fs[_F_ONSET_TIME]
        evf[m, 1] = fs[_F_PEAK]
        evf[m, 2] = when
        return m + 1

    @_jit
    def _detect(env, n, times, first_index, ist, fs, ev, evf):
        """`BurstDetector.process`, step for step, over env[:n]; events go to ev/evf, their count is returned."""
        ch = env.shape[1]
        min_channels = ist[_I_MIN_CHANNELS]
        if ist[_I_STATE] == _IDLE and ist[_I_ARMED] != 0:
            quiet = True
            for i in range(n):
                if _above(env, i, fs, ch, min_channels):
                    quiet = False
                    break
            if quiet:
                return 0  # the common case at rest
        k = fs[_F_K]
        off = _F_HEADER
        sp = _F_HEADER + ch
        m = 0
        pos = 0
        while pos < n:
            if ist[_I_STATE] == _IDLE:
                start = max(pos, ist[_I_REFRACTORY_UNTIL] - first_index)
                if start >= n:
                    break
                if ist[_I_ARMED] == 0:
                    while start < n and _above(env, start, fs, ch, min_channels):
                        start += 1
                    if start == n:
                        break
                    ist[_I_ARMED] = 1
                while start < n and not (_on(env, start, fs, ch, min_channels, k)
                                         and _above(env, start, fs, ch, min_channels)):
                    start += 1  # "on" implies above the off-level (see BurstDetector.process)
                if start == n:
                    break
                ist[_I_STATE] = _CANDIDATE
                ist[_I_ONSET] = first_index + start
                fs[_F_ONSET_TIME] = times[start]
                fs[_F_PEAK] = -np.inf
                for c in range(ch):
                    ist[_I_HEADER + c] = 0
                pos = start
                continue
            if ist[_I_QUIET_SINCE] >= 0:  # inside a dip of an active burst: bridged, or the burst's end
                limit = ist[_I_QUIET_SINCE] + ist[_I_BRIDGE] - first_index
                up = pos
                while up < min(limit, n) and not _above(env, up, fs, ch, min_channels):
                    up += 1
                if up < min(limit, n):
                    ist[_I_QUIET_SINCE] = -1
                    pos = up
                elif limit <= n:
                    m = _end(ev, evf, m, ist[_I_QUIET_SINCE], fs[_F_QUIET_TIME], ist, fs, ch)
                    pos = max(pos, limit)
                    continue
                else:
                    break
            # CANDIDATE or ACTIVE: run until the envelope drops below the off-threshold
            end = pos
            while end < n and _above(env, end, fs, ch, min_channels):
                end += 1
            if end > pos:
                top = -np.inf
                for i in range(pos, end):
                    for c in range(ch):
                        z = (env[i, c] - fs[off + c]) / fs[sp + c]
                        if z > top or z != z:  # numpy's max over the run: a NaN wins and stays
                            top = z
                        if z > k:
                            ist[_I_HEADER + c] = 1
                if top > fs[_F_PEAK]:  # Python's max(peak, top)
                    fs[_F_PEAK] = top
            if ist[_I_STATE] == _CANDIDATE:
                confirm = ist[_I_ONSET] + ist[_I_MIN_SAMPLES] - first_index
                if confirm < end:
                    c0 = max(confirm, 0)
                    m = _emit(ev, evf, m, _BURST, first_index + c0, times[c0], ist, fs, ch)
                    ist[_I_STATE] = _ACTIVE
            if end >= n:
                break
            pos = end
            if ist[_I_STATE] == _ACTIVE:
                if ist[_I_BRIDGE] > 0 and first_index + end - ist[_I_ONSET] < ist[_I_BRIDGE_WITHIN]:
                    ist[_I_QUIET_SINCE] = first_index + end
                    fs[_F_QUIET_TIME] = times[end]
                    continue  # a young burst's dip: bridged if the envelope rises again in time
                m = _end(ev, evf, m, first_index + end, times[end], ist, fs, ch)
            ist[_I_STATE] = _IDLE
        return m

    @_jit
    def _end(ev, evf, m, index, when, ist, fs, ch):
        """`BurstDetector._end`: the burst's end event at `index`, then the refractory period, disarmed, idle."""
        m = _emit(ev, evf, m, _BURST_END, index, when, ist, fs, ch)
        ist[_I_REFRACTORY_UNTIL] = index + ist[_I_REFRACTORY]
        ist[_I_ARMED] = 0
        ist[_I_QUIET_SINCE] = -1
        ist[_I_STATE] = _IDLE
        return m

    @_jit
    def _to_ring(src, n, times, ring, ring_times, start):
        """src[:n] and their times into a ring's storage from row `start`, wrapping (nothing if it is empty)."""
        cap = ring.shape[0]
        if cap == 0:
            return
        r = start
        for i in range(n):
            for c in range(src.shape[1]):
                ring[r, c] = src[i, c]  # to the ring's dtype, as numpy's assignment casts
            ring_times[r] = times[i]
            r += 1
            if r == cap:
                r = 0

    @_jit
    def _chunk(x, times, first_index, coef, n_bp, zs, out, detect, ist, fs, ev, evf, check, low, high, scale, last,
               raw, raw_times, raw_start, ring, ring_times, start):
        """One chunk, as pulled: (if `check`) the guard's test, then the samples x `scale` into the raw ring,
        filters and envelope, the filtered samples into their ring, and (if `detect`) the detector.

        With `check`, a chunk with a value that is not finite or outside [low, high] is left untouched and -1
        is returned (the guard's reference path repairs it; then it comes back unchecked); a good one updates
        the guard's last row `last`, as `copy_checked` does. An empty ring is skipped. The rings come last so
        that nested `RingBuffer.write_through` calls can append their storage.
        """
        n = x.shape[0]
        ch = x.shape[1]
        if check:
            ok = True
            for i in range(n):
                for c in range(ch):
                    v = np.float64(x[i, c])
                    ok &= (low <= v) & (v <= high)  # NaN fails both
            if not ok:
                return -1
            for c in range(ch):
                last[c] = np.float64(x[n - 1, c])
        filt = out[0]
        for i in range(n):  # out[0] holds the scaled input until the filters run over it in place
            for c in range(ch):
                filt[i, c] = np.float64(x[i, c]) * scale  # x 1.0 is exact: the reference skips it
        _to_ring(filt, n, times, raw, raw_times, raw_start)
        _filter_envelope(n, coef, n_bp, zs, out)
        _to_ring(filt, n, times, ring, ring_times, start)
        if not detect:
            return 0
        return _detect(out[1], n, times, first_index, ist, fs, ev, evf)

    @_jit
    def _detect_only(env, times, first_index, ist, fs, ev, evf):
        return _detect(env, env.shape[0], times, first_index, ist, fs, ev, evf)


def _events(ev: np.ndarray, evf: np.ndarray, m: int) -> list:
    """Burst / BurstEnd objects from the kernel's event rows (Python ints and floats, as the reference makes)."""
    out = []
    for row, (onset_time, peak, when) in zip(ev[:m].tolist(), evf[:m].tolist()):
        kind, onset, index = row[:_E_HEADER]
        channels = tuple(c for c, hit in enumerate(row[_E_HEADER:]) if hit)
        cls = Burst if kind == _BURST else BurstEnd
        out.append(cls(onset, onset_time, index, when, peak, channels))
    return out


GUARD_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # the ones `copy_checked` is compiled for up front
_status: bool | None = None  # None until warm_up() has tried
warm_up_seconds: float | None = None


def fused_available() -> bool:
    """True once the kernel is compiled (or loaded from the cache); False, logged once, if it cannot be."""
    if _status is None:
        warm_up()
    return bool(_status)


def warm_up() -> bool:
    """Compile (first run) or load from numba's cache (later runs) every kernel specialisation the chain uses."""
    global _status, warm_up_seconds
    if _status is not None:
        return _status
    if numba is None:
        log.warning("numba could not be imported (%s); the signal chain runs the numpy/scipy reference path "
                    "(same results, lower throughput)", _import_error)
        _status = False
        return False
    t0 = time.perf_counter()
    try:
        for dtype in GUARD_DTYPES:  # amplifiers stream float32; recordings and tests pass float64
            copy_checked(np.zeros((2, 2), dtype=dtype), np.empty((2, 2)), -1.0, 1.0, np.zeros(2))
        ch, sos_bp = 2, np.array([[1.0, 0.0, 0.0, 1.0, 0.1, 0.0]])
        stages = FusedStages(sos_bp, sos_bp, ch, max_chunk=8, _check=False)
        x = np.ones((4, ch))
        stages.process(x)
        det = KernelBurstDetector(Threshold((0.0,) * ch, (1.0,) * ch, 1.0, 0.5, 10), 1, 0, 1, _check=False)
        det.process(np.ones((4, ch)), 0, np.arange(4.0))
        stages.process(x, np.arange(4.0), 4, det, RingBuffer(8, ch))
        guard = _WarmUpGuard(np.zeros(ch))
        for dtype in GUARD_DTYPES:  # the live path: chunks as pulled, checked in the call
            stages.run_into(RingBuffer(8, ch), x.astype(dtype), np.arange(4.0), 8, det, RingBuffer(8, ch), guard)
    except Exception:  # a broken llvmlite or compiler: log it, keep the bedside app running on the reference path
        log.exception("the numba signal kernel failed to compile; the signal chain runs the numpy/scipy reference path")
        _status = False
        return False
    warm_up_seconds = time.perf_counter() - t0
    log.info("numba signal kernel ready in %.2f s", warm_up_seconds)
    _status = True
    return True


class _WarmUpGuard:
    low, high = -1.0, 1.0

    def __init__(self, last):
        self._last = last


class FusedStages:
    """Band-pass (+ notch), TKEO and envelope low-pass with their state, one kernel call per chunk.

    Equals `CausalFilter(sos_bp).process` followed by `Envelope.process` (whose low-pass is `sos_lp`),
    including the steady-state start on the first sample. With a `KernelBurstDetector` the same call also
    runs the detector.
    """

    def __init__(self, sos_bp: np.ndarray, sos_lp: np.ndarray, channels: int, max_chunk: int, _check: bool = True):
        if _check and not fused_available():
            raise RuntimeError("the numba signal kernel is not available")
        self._bp = CausalFilter(sos_bp, channels)  # its design and initial state only
        self._lp = CausalFilter(sos_lp, channels, settle_on_first=False)
        self.channels = channels
        self._coef = np.ascontiguousarray(np.vstack([self._bp.sos, self._lp.sos]))
        self._n_bp = self._bp.sos.shape[0]
        self._zs: np.ndarray | None = None
        self._out = np.empty((2, max(1, max_chunk), channels))
        # `_tail`: the kernel's arguments after the chunk's own, kept between calls; `_key`: what they were made
        # for (detector, guard, scale, the detector's event buffer), None when the state arrays were replaced
        self._key: tuple | None = None
        self._tail: tuple = ()

    def reset(self) -> None:
        self._zs = self._key = None

    def _prime(self, first: np.ndarray) -> np.ndarray:
        def rows(zi):  # (channels, sections, 2) -> (2 * sections, channels)
            return zi.transpose(1, 2, 0).reshape(-1, self.channels)

        y0 = self._bp.process(first[None, :])[0]  # the first filtered sample (the reference filter, then reset)
        self._bp.reset()
        hist = np.vstack([y0, y0])  # Tkeo's flat past: zero energy at the start
        return np.vstack([rows(self._bp.initial_state(first)), rows(self._lp.initial_state(first)), hist]).ravel()

    def process(self, x: np.ndarray, times: np.ndarray | None = None, first_index: int = 0,
                detector: KernelBurstDetector | None = None, ring: RingBuffer | None = None) -> tuple[np.ndarray, np.ndarray, list]:
        """(filtered, envelope, events) for a float64 C-ordered (samples x channels) chunk.

        The two arrays are views of a buffer the next call overwrites. With a `detector` the same call detects;
        with a float32 `ring` it also writes the filtered samples there (as `ring.write(filtered, times)`
        would, without the copy). `times` (float64, C-ordered) are needed for either.
        """
        n = x.shape[0]
        if x.shape[1] != self.channels:  # the kernel does not check bounds
            raise ValueError(f"chunk has {x.shape[1]} channels, the filters {self.channels}")
        if (detector is not None or ring is not None) and len(times) < n:
            raise ValueError(f"{n} samples but {len(times)} timestamps")
        if ring is not None and ring.channels != self.channels:
            raise ValueError(f"ring has {ring.channels} channels, the filters {self.channels}")
        if n > self._out.shape[1]:
            self._out, self._key = np.empty((2, n, self.channels)), None
        if n == 0:
            return self._out[0, :0], self._out[1, :0], []
        if self._zs is None:
            self._zs, self._key = self._prime(x[0]), None
        tail = self._fixed_arguments(n, detector, None, 1.0)
        if times is None:
            times = _NO_TIMES
        if ring is None:
            m = _chunk(x, times, first_index, *tail, _NO_RING, _NO_TIMES, 0, _NO_RING, _NO_TIMES, 0)
        else:
            m = ring.write_through(n, _chunk, x, times, first_index, *tail, _NO_RING, _NO_TIMES, 0)
        out = self._out
        if not m:
            return out[0, :n], out[1, :n], []
        return out[0, :n], out[1, :n], _events(detector._ev, detector._evf, m)

    def run_into(self, ring: RingBuffer, x: np.ndarray, times: np.ndarray, first_index: int,
                 detector: KernelBurstDetector | None, raw: RingBuffer | None = None, guard: SampleGuard | None = None,
                 scale: float = 1.0) -> list | None:
        """The chain's lean entry, for a chunk as pulled; returns the events, or None when `guard` must repair it.

        The caller has checked the chunk: non-empty, the filters' channels, C-ordered float32 or float64, one
        float64 time per sample, no longer than either ring. The samples x `scale` go to `raw` (if given, as
        `raw.write` would), the filtered ones to `ring`, both under their locks. With a `guard`, the same call
        checks the chunk; one that fails is left untouched (None): repair it with `guard.process` and pass the
        result again without the guard. The envelope is then `envelope(n)`.
        """
        n = x.shape[0]
        if n > self._out.shape[1]:
            self._out, self._key = np.empty((2, n, self.channels)), None
        if self._zs is None:
            if guard is not None:
                return None  # the filters start from the first sample: it must be a repaired one
            self._zs, self._key = self._prime(x[0].astype(np.float64) * scale), None
        if detector is not None and detector._ev.shape[0] < 2 * n + 4:
            detector._buffers(n)
        made_for = self._key
        if (made_for is None or made_for[0] is not detector or made_for[1] is not guard or made_for[2] != scale
                or (detector is not None and made_for[3] is not detector._ev)):
            self._tail = self._fixed_arguments(n, detector, guard, scale)
            self._key = (detector, guard, scale, None if detector is None else detector._ev)
        if raw is None:
            m = ring.write_through(n, _chunk, x, times, first_index, *self._tail, _NO_RING, _NO_TIMES, 0)
        else:  # the rings' storage is appended to the arguments
            m = raw.write_through_pair(ring, n, _chunk, x, times, first_index, *self._tail)
        if m < 0:
            return None
        return _events(detector._ev, detector._evf, m) if m else []

    def envelope(self, n: int) -> np.ndarray:
        """The last chunk's envelope (a view the next call overwrites)."""
        return self._out[1, :n]

    def _fixed_arguments(self, n, detector, guard, scale) -> tuple:
        """`_chunk`'s arguments between the chunk's own (samples, times, first index) and the rings."""
        head = (self._coef, self._n_bp, self._zs, self._out)
        if detector is None:
            head += (False, _NO_DET_I, _NO_DET_F, _NO_EV, _NO_EVF)
        else:
            if detector._ev.shape[0] < 2 * n + 4:
                detector._buffers(n)
            head += (True, detector._ist, detector._fs, detector._ev, detector._evf)
        if guard is None:
            return head + (False, 0.0, 0.0, float(scale), _NO_LAST)
        return head + (True, guard.low, guard.high, float(scale), guard._last)


_NO_RING = np.zeros((0, 1), dtype=np.float32)
_NO_TIMES = np.zeros(1)
_NO_DET_I = np.zeros(_I_HEADER, dtype=np.int64)
_NO_DET_F = np.zeros(_F_HEADER)
_NO_EV = np.zeros((1, _E_HEADER), dtype=np.int64)
_NO_EVF = np.zeros((1, 3))
_NO_LAST = np.zeros(1)


def _state_field(array: str, i: int, cast):
    def get(self):
        return cast(getattr(self, array)[i])

    def set_(self, value):
        getattr(self, array)[i] = value

    return property(get, set_)


class KernelBurstDetector(BurstDetector):
    """`BurstDetector` whose state lives in two flat arrays that the kernel advances.

    The reference `BurstDetector.process` still works on it (the attributes are views of those arrays), so
    the two paths can be compared or even mixed on one stream.
    """

    state = _state_field("_ist", _I_STATE, int)
    _onset = _state_field("_ist", _I_ONSET, int)
    _refractory_until = _state_field("_ist", _I_REFRACTORY_UNTIL, int)
    _armed = _state_field("_ist", _I_ARMED, bool)
    _quiet_since = _state_field("_ist", _I_QUIET_SINCE, int)
    _quiet_time = _state_field("_fs", _F_QUIET_TIME, float)
    _onset_time = _state_field("_fs", _F_ONSET_TIME, float)
    _peak = _state_field("_fs", _F_PEAK, float)

    def __init__(self, threshold: Threshold, min_samples: int, refractory_samples: int, min_channels: int = 1,
                 bridge_samples: int = 0, bridge_within_samples: int = 0, _check: bool = True):
        if _check and not fused_available():
            raise RuntimeError("the numba signal kernel is not available")
        ch = len(threshold.baseline)
        self._ist = np.zeros(_I_HEADER + ch, dtype=np.int64)
        self._fs = np.zeros(_F_HEADER + 3 * ch)
        super().__init__(threshold, min_samples, refractory_samples, min_channels, bridge_samples, bridge_within_samples)
        self._ist[_I_MIN_SAMPLES] = self.min_samples
        self._ist[_I_BRIDGE] = self.bridge_samples
        self._ist[_I_BRIDGE_WITHIN] = self.bridge_within_samples
        self._ist[_I_REFRACTORY] = self.refractory_samples
        self._ist[_I_MIN_CHANNELS] = self.min_channels
        self._fs[_F_K] = threshold.k
        self._fs[_F_HEADER:] = np.concatenate([self._base, self._spread, self._off_level])
        self._ev = np.zeros((0, _E_HEADER + ch), dtype=np.int64)
        self._evf = np.zeros((0, 3))

    @property
    def _channels(self) -> np.ndarray:
        return self._ist[_I_HEADER:]

    @_channels.setter
    def _channels(self, value) -> None:
        self._ist[_I_HEADER:] = value

    def _buffers(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        need = 2 * n + 4  # each burst holds at least one sample and makes at most two events
        if self._ev.shape[0] < need:
            self._ev = np.zeros((need, self._ev.shape[1]), dtype=np.int64)
            self._evf = np.zeros((need, 3))
        return self._ev, self._evf

    def process(self, env: np.ndarray, first_index: int, times: np.ndarray) -> list:
        env = np.ascontiguousarray(env, dtype=np.float64)
        times = np.ascontiguousarray(times, dtype=np.float64)
        if env.ndim != 2 or env.shape[1] != len(self._base) or len(times) < env.shape[0]:  # no bounds checks inside
            raise ValueError(f"envelope {env.shape} with {len(times)} times; the detector has {len(self._base)} channels")
        if env.shape[0] == 0:
            return []
        ev, evf = self._buffers(env.shape[0])
        m = _detect_only(env, times, int(first_index), self._ist, self._fs, ev, evf)
        events = _events(ev, evf, m) if m else []
        for e in events:
            if isinstance(e, Burst):
                self._burst = e
        return events
