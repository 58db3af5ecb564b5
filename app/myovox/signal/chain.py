"""SignalChain: guard -> band-pass -> TKEO envelope -> rest threshold -> bursts -> each attempt's windows.

One object, one method: `process(chunk, times)` takes raw samples as they arrive and returns the
events they complete. It holds no thread, clock or device, so a recording, a live amplifier and a
test feed it the same way.

Filters, envelope and detector run as one compiled kernel per chunk (`kernel.py`, numba) when it is
available, else as the numpy/scipy reference stages; both give the same numbers (tests/signal/test_kernel.py).
"""
from __future__ import annotations

import numpy as np

from ..events import AttemptEnd, Burst, BurstEnd, OnsetWindow, Threshold
from ..profiles import DeviceProfile
from ..stream.ring import RingBuffer
from . import kernel
from .detector import BurstDetector, estimate_threshold
from .filters import CausalFilter, Envelope, design_emg_sos, design_envelope_sos
from .guard import SampleGuard


class SignalChain:
    def __init__(
        self, profile: DeviceProfile, threshold: Threshold | None = None, history_s: float = 3.0, repair: bool = True,
        raw_ring: RingBuffer | None = None, keep_envelope: bool = False, fused: bool = True,
    ):
        """Raw windows are cut from `raw_ring` (an acquisition source's ring, same sample indices) or, without
        one, from a ring of the chain's own. With `repair=True` the chain guards every chunk and writes the
        raw ring itself (in the same compiled call as the filters: the live source hands its chunks over
        untouched); `repair=False` means the caller has already guarded the samples and written `raw_ring`.
        `fused=False` runs the reference stages even when the compiled kernel is available (it compiles, or
        loads from its cache, here and not on the first chunk)."""
        self.profile = profile
        ch = profile.channels
        self.guard = SampleGuard(ch, profile.valid_range, fused=fused) if repair else None
        det = profile.detector
        sos_bp = design_emg_sos(profile.filter, profile.rate_hz)
        self.fused = fused and kernel.fused_available()
        if self.fused:
            self.stages = kernel.FusedStages(sos_bp, design_envelope_sos(profile.rate_hz, det.envelope_hz), ch,
                                             max_chunk=self._max_chunk_for(profile, history_s))
            self.bandpass = self.envelope = None
        else:
            self.stages = None
            self.bandpass = CausalFilter(sos_bp, ch)
            self.envelope = Envelope(ch, profile.rate_hz, det.envelope_hz)
        self._warmup = profile.samples(det.warmup_ms) if det.warmup_ms else 0
        self._rest_len = profile.samples(det.rest_seconds * 1000.0)
        self._rest = np.zeros((self._rest_len, ch))
        self._rest_filled = 0
        self.detector: BurstDetector | None = None
        self.index = 0  # absolute index of the next sample
        self.window_len = profile.window_samples
        self.pre = profile.samples(profile.pre_onset_ms) if profile.pre_onset_ms else 0
        hist = self._history_samples(profile, history_s)
        self.filtered = RingBuffer(hist, ch)
        self.raw = RingBuffer(hist, ch) if raw_ring is None else raw_ring
        self._writes_raw = raw_ring is None or repair
        self._max_chunk = min(self._max_chunk_for(profile, history_s), self.raw.capacity)
        self.attempt_step = profile.attempt_step_samples
        self.attempt_windows = profile.hold_windows  # the decoder decides within them (decode.attempt)
        self._pending: list[_OpenAttempt] = []
        # The caregiver's panel plots the envelope; the detector alone does not need it kept.
        self.envelope_ring = RingBuffer(hist, ch) if keep_envelope else None
        if threshold is not None:
            self.set_threshold(threshold)

    @staticmethod
    def _history_samples(profile: DeviceProfile, history_s: float) -> int:
        pre = profile.samples(profile.pre_onset_ms) if profile.pre_onset_ms else 0
        span = max(profile.window_samples, profile.samples(max(profile.attempt_ms, profile.attempt_hold_ms)))  # an attempt's windows
        return max(int(history_s * profile.rate_hz), 4 * (span + pre))

    @classmethod
    def _max_chunk_for(cls, profile: DeviceProfile, history_s: float) -> int:
        return max(1, cls._history_samples(profile, history_s) // 2)

    # -- threshold -----------------------------------------------------------------------------
    @property
    def calibrating(self) -> bool:
        return self.detector is None

    @property
    def rest_progress(self) -> float:
        """0..1 while the rest capture fills; 1 once a threshold is set."""
        return 1.0 if self.detector is not None else self._rest_filled / self._rest_len

    def set_threshold(self, threshold: Threshold) -> None:
        if len(threshold.baseline) != self.profile.channels:
            raise ValueError(
                f"threshold is for {len(threshold.baseline)} channels, profile {self.profile.key!r} has {self.profile.channels}"
            )
        det = self.profile.detector
        self.detector = (kernel.KernelBurstDetector if self.fused else BurstDetector)(
            threshold,
            self.profile.samples(det.min_duration_ms),
            self.profile.samples(det.refractory_ms) if det.refractory_ms else 0,
            det.min_channels,
            self.profile.samples(det.bridge_ms) if det.bridge_ms else 0,
            self.profile.samples(det.bridge_within_ms) if det.bridge_within_ms else 0,
        )

    def recapture_rest(self) -> None:
        """Forget the threshold and take the next `rest_seconds` (after warm-up) as rest."""
        self.detector = None
        self._rest_filled = 0
        self._warmup = 0  # the filters have long settled

    def _collect_rest(self, env: np.ndarray) -> tuple[np.ndarray, int, Threshold | None]:
        """Feed rest samples; returns the envelope left over after the capture, its offset, and the new threshold."""
        skip = min(self._warmup, env.shape[0])
        self._warmup -= skip
        take = min(self._rest_len - self._rest_filled, env.shape[0] - skip)
        self._rest[self._rest_filled : self._rest_filled + take] = env[skip : skip + take]
        self._rest_filled += take
        used = skip + take
        if self._rest_filled < self._rest_len:
            return env[used:], used, None
        det = self.profile.detector
        thr = estimate_threshold(self._rest, det.k, det.hysteresis)
        self.set_threshold(thr)
        return env[used:], used, thr

    # -- processing ----------------------------------------------------------------------------
    def process(self, chunk: np.ndarray, times: np.ndarray) -> list:
        chunk = np.asarray(chunk)
        if chunk.ndim != 2 or chunk.shape[1] != self.profile.channels:
            raise ValueError(
                f"chunk has shape {chunk.shape}; profile {self.profile.key!r} expects (n, {self.profile.channels})"
            )
        n = chunk.shape[0]
        if n == 0:
            return []
        times = np.ascontiguousarray(times, dtype=np.float64)
        if len(times) != n:
            raise ValueError(f"{n} samples but {len(times)} timestamps")
        if n > self._max_chunk:
            # A chunk longer than the window history (a whole file at once) would overwrite the samples of
            # its own early bursts before their windows are cut: take it in pieces.
            events = []
            for s in range(0, n, self._max_chunk):
                events.extend(self.process(chunk[s : s + self._max_chunk], times[s : s + self._max_chunk]))
            return events
        first = self.index
        events: list = []
        detector = self.detector
        if self.stages is not None and chunk.dtype in kernel.GUARD_DTYPES and chunk.flags.c_contiguous:
            # The common live case in one compiled call: guard test, raw ring, filters, filtered ring, detector.
            detected = self.stages.run_into(self.filtered, chunk, times, first, detector,
                                            self.raw if self._writes_raw else None, self.guard, self.profile.scale)
            if detected is not None:
                return self._after_kernel(n, times, first, detector, detected, events)
        if self.guard is not None:
            clean, fault = self.guard.process(chunk, first, float(times[0]))
            if fault is not None:
                events.append(fault)
        else:
            clean = np.asarray(chunk, dtype=np.float64)
        if self.stages is not None:
            # repaired (or from a dtype the kernel is not compiled for): the same call, scaled in it, unchecked
            detected = self.stages.run_into(self.filtered, np.ascontiguousarray(clean, dtype=np.float64), times, first,
                                            detector, self.raw if self._writes_raw else None, None, self.profile.scale)
            return self._after_kernel(n, times, first, detector, detected, events)
        if self.profile.scale != 1.0:
            clean = clean * self.profile.scale
        filt = self.bandpass.process(clean)
        env = self.envelope.process(filt)
        self.filtered.write(filt, times)
        if self._writes_raw:
            self.raw.write(clean, times)
        return self._after_stages(n, times, first, detector, env, None, events)

    def _after_kernel(self, n, times, first, detector, detected, events) -> list:
        env = self.stages.envelope(n) if detector is None or self.envelope_ring is not None else None
        return self._after_stages(n, times, first, detector, env, detected, events)

    def _after_stages(self, n, times, first, detector, env, detected, events) -> list:
        """The envelope ring, the rest capture (until a threshold is set), bursts and their windows."""
        if self.envelope_ring is not None:
            self.envelope_ring.write(env, times)
        self.index += n

        if detector is None:
            env, offset, thr = self._collect_rest(env)
            if thr is not None:
                events.append(thr)
            if self.detector is not None and env.shape[0]:  # the capture ended inside this chunk
                detected = self.detector.process(env, first + offset, times[offset:])
        elif detected is None:
            detected = detector.process(env, first, times)
        if detected:
            events.extend(detected)
            for ev in detected:
                if isinstance(ev, Burst):
                    self._pending.append(_OpenAttempt(ev))
                elif isinstance(ev, BurstEnd):
                    for a in self._pending:
                        if a.burst.onset_index == ev.onset_index:
                            a.offset, a.offset_time = ev.offset_index, ev.offset_time
        if self._pending:
            events.extend(self._ready_windows())
        return events

    def attempt_window_start(self, onset_index: int, seq: int) -> int:
        """Where window `seq` of the attempt that began at `onset_index` starts (the one definition)."""
        return onset_index - self.pre + seq * self.attempt_step

    def _ready_windows(self) -> list:
        """Every window of every open attempt that is complete now, then `AttemptEnd` for the ones that are over.

        Window `seq` belongs to the attempt when it is among the first `hold_windows` and at least half of
        it lies before the burst's offset (the onset window always does): a window of mostly relaxation
        says nothing about the gesture.
        """
        out: list = []
        keep = []
        oldest = self.filtered.total - len(self.filtered)
        half = self.window_len // 2
        for a in self._pending:
            while True:
                # An attempt is over at its last window's end, or (burst end) when the offset was detected.
                if a.seq >= self.attempt_windows:
                    out.append(AttemptEnd(a.burst, a.seq, a.last_end, "max length"))
                    break
                start = self.attempt_window_start(a.burst.onset_index, a.seq)
                if a.seq > 0 and a.offset is not None and start + half > a.offset:
                    out.append(AttemptEnd(a.burst, a.seq, max(a.last_end, a.offset_time), "burst end"))
                    break
                stop = start + self.window_len
                if stop > self.filtered.total:
                    keep.append(a)
                    break
                if start < oldest:  # cannot happen with the history sized from the window; never crash on it
                    out.append(AttemptEnd(a.burst, a.seq, a.last_end, "burst end"))
                    break
                filt, t = self.filtered.read(start, stop)
                raw, _ = self.raw.read(start, stop)
                out.append(OnsetWindow(a.burst, start, float(t[0]), filt.astype(np.float32), raw.astype(np.float32),
                                       self.profile.rate_hz, seq=a.seq, end_time=float(t[-1])))
                a.seq += 1
                a.last_end = float(t[-1])
        self._pending = keep
        return out

    def finish(self) -> list:
        """The recording is over (offline): every attempt still open ends here, with the windows it got.

        A cued clip or a file may stop while its movement still goes on; its attempt is decided on what was seen.
        """
        out = [AttemptEnd(a.burst, a.seq, a.last_end, "recording end") for a in self._pending if a.seq > 0]
        self._pending = []
        return out


class _OpenAttempt:
    """A burst whose windows are still being cut (mutable, private to the chain)."""

    __slots__ = ("burst", "seq", "offset", "offset_time", "last_end")

    def __init__(self, burst: Burst):
        self.burst = burst
        self.seq = 0
        self.offset: int | None = None
        self.offset_time = burst.onset_time
        self.last_end = burst.onset_time


def detect_offline(signal: np.ndarray, profile: DeviceProfile, chunk: int = 0, threshold: Threshold | None = None) -> list:
    """Run the streaming chain over a whole recording (optionally in chunks) and return every event; attempts still
    open when the recording stops end there ("recording end")."""
    times = np.arange(signal.shape[0]) / profile.rate_hz
    chain = SignalChain(profile, threshold)
    if chunk <= 0:
        return chain.process(signal, times) + chain.finish()
    events = []
    for s in range(0, signal.shape[0], chunk):
        events.extend(chain.process(signal[s : s + chunk], times[s : s + chunk]))
    return events + chain.finish()
