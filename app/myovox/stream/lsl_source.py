"""LslSource: finds the profile's LSL stream, pulls it in a worker thread into a RingBuffer, survives loss.

The worker never raises: every failure becomes a `StreamStatus` the caregiver can read, the samples
already received stay in the ring, and the source keeps looking for the stream until stopped.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

import numpy as np
import pylsl
from pylsl.util import LostError

from ..events import RateCheck, StreamStatus
from ..profiles import DeviceProfile
from ..signal.guard import SampleGuard
from .ring import RingBuffer

_FORMATS = {
    pylsl.cf_float32: "float32", pylsl.cf_double64: "double64", pylsl.cf_int8: "int8",
    pylsl.cf_int16: "int16", pylsl.cf_int32: "int32", pylsl.cf_int64: "int64", pylsl.cf_string: "string",
}
_DTYPES = {"float32": np.float32, "double64": np.float64, "int8": np.int8, "int16": np.int16,
           "int32": np.int32, "int64": np.int64}


def stream_label(info: pylsl.StreamInfo) -> str:
    return f"'{info.name()}' ({info.type()}, {info.channel_count()} ch, {info.nominal_srate():g} Hz, on {info.hostname()})"


def default_predicate(profile: DeviceProfile) -> str:
    return profile.stream.predicate() or "type='EMG'"


def pinned_predicate(profile: DeviceProfile, predicate: str | None) -> str:
    """The caller's predicate (e.g. `--stream`) narrowed by the profile's `source_id`/`hostname` pin, which is
    never dropped: a pinned profile must not read another device's outlet of the same name."""
    if not predicate:
        return default_predicate(profile)
    pins = [f"{k}='{v}'" for k in ("source_id", "hostname") if (v := getattr(profile.stream, k))]
    pins = [p for p in pins if p not in predicate]
    return " and ".join([f"({predicate})", *pins]) if pins else predicate


RATE_CHECK_SPAN_S = 1.0  # stream seconds of samples per measured-rate check
RATE_CHECK_TOLERANCE = 0.1  # at least this fraction, or the profile's own tolerance if larger


class LslSource:
    """Acquisition from one LSL stream that matches a DeviceProfile.

    `on_chunk(samples, timestamps)` receives every repaired chunk (float64, samples x channels) in the
    worker thread; `on_event(event)` receives `StreamStatus` changes and `SignalFault` reports.
    With `consumer_guards=True` it receives the chunks as pulled instead, and the consumer repairs them and
    writes `ring` (a `SignalChain` built with `raw_ring=source.ring` does both in the compiled pass that
    filters them; one copy of the samples fewer per chunk).
    A stream that does not match the profile (channels, rate, format) is refused, never read.
    """

    def __init__(
        self,
        profile: DeviceProfile,
        on_chunk: Callable[[np.ndarray, np.ndarray], None] | None = None,
        on_event: Callable[[object], None] | None = None,
        predicate: str | None = None,
        buffer_seconds: float = 30.0,
        stall_after_s: float = 0.5,
        resolve_timeout_s: float = 0.5,
        pull_timeout_s: float = 0.02,
        consumer_guards: bool = False,
    ):
        self.profile = profile
        self.predicate = pinned_predicate(profile, predicate)
        self.on_chunk = on_chunk
        self.consumer_guards = consumer_guards and on_chunk is not None
        self.on_event = on_event
        self.ring = RingBuffer(max(1, int(buffer_seconds * profile.rate_hz)), profile.channels)
        self.guard = SampleGuard(profile.channels, profile.valid_range)
        self.stall_after_s = stall_after_s
        self.resolve_timeout_s = resolve_timeout_s
        self.pull_timeout_s = pull_timeout_s
        self._max_chunk = max(64, int(profile.rate_hz))  # at most ~1 s per pull
        self._inlet: pylsl.StreamInlet | None = None
        self._info: pylsl.StreamInfo | None = None
        self._buf: np.ndarray | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = StreamStatus("stopped", "not started", pylsl.local_clock())
        self._last_sample_local = 0.0
        self._last_ts: float | None = None
        self._interval = 1.0 / profile.rate_hz
        self._rate_hist: deque[tuple[float, int]] = deque(maxlen=64)
        self.dropouts = 0
        self._last_uid = ""
        self._last_resolve = 0.0
        self._rate_anchor: tuple[float, int] | None = None  # (stream time, ring total) the current span began
        self.rate_ok = True

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._set_status("searching", f"looking for an LSL stream matching {self.predicate}")
        self._thread = threading.Thread(target=self._run, name=f"lsl-source-{self.profile.key}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
        self._close_inlet()
        self._set_status("stopped", "acquisition stopped")

    @property
    def status(self) -> StreamStatus:
        return self._status

    @property
    def connected(self) -> bool:
        return self._status.state == "connected"

    # -- worker --------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._inlet is None:
                    if not self._connect():
                        self._stop.wait(0.2)
                else:
                    self._pull()
            except LostError:
                self._close_inlet()
                self._set_status("disconnected", "the stream was lost; waiting for it to come back")
            except Exception as exc:  # the bedside app must outlive any amplifier fault
                self._close_inlet()
                self._set_status("disconnected", f"acquisition error ({type(exc).__name__}: {exc}); retrying")
                self._stop.wait(0.5)

    def _connect(self) -> bool:
        self._last_resolve = time.monotonic()
        infos = pylsl.resolve_bypred(self.predicate, minimum=1, timeout=self.resolve_timeout_s)
        if not infos:
            if self._status.state not in ("disconnected", "wrong device"):
                self._set_status("searching", f"no LSL stream matching {self.predicate} yet")
            return False
        good, refused = [], []
        for info in infos:
            fmt = _FORMATS.get(info.channel_format(), "unknown")
            problems = self.profile.stream_problems(info.channel_count(), info.nominal_srate(), fmt)
            (refused if problems else good).append((info, problems))
        if not good:
            info, problems = refused[0]
            self._set_status(
                "wrong device",
                f"refusing stream {stream_label(info)} for profile '{self.profile.key}': {'; '.join(problems)}. "
                f"Choose the profile of the amplifier in use.",
                name=info.name(), source_id=info.source_id(),
            )
            self._stop.wait(1.0)
            return False
        # Prefer the stream we had (same source_id) so a restarted amplifier comes back as itself.
        info = next((i for i, _ in good if self._last_uid and i.source_id() == self._last_uid), good[0][0])
        self._open(info)
        note = f" ({len(good)} matching streams: pin one with source_id in the profile)" if len(good) > 1 else ""
        self._set_status("connected", f"receiving {stream_label(info)}{note}", name=info.name(), source_id=info.source_id())
        return True

    def _open(self, info: pylsl.StreamInfo) -> None:
        flags = pylsl.proc_clocksync | pylsl.proc_dejitter | pylsl.proc_monotonize
        inlet = pylsl.StreamInlet(info, max_buflen=60, max_chunklen=0, recover=False, processing_flags=flags)
        inlet.open_stream(timeout=2.0)
        dtype = _DTYPES[_FORMATS[info.channel_format()]]
        self._buf = np.zeros((self._max_chunk, self.profile.channels), dtype=dtype)
        self._inlet, self._info = inlet, info
        self._last_uid = info.source_id() or self._last_uid
        self._last_sample_local = pylsl.local_clock()
        self._last_ts = None
        self._rate_anchor = None

    def _close_inlet(self) -> None:
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            try:
                inlet.close_stream()
            except Exception:
                pass

    def _pull(self) -> None:
        data, ts = self._inlet.pull_chunk(
            timeout=self.pull_timeout_s, max_samples=self._max_chunk, dest_obj=self._buf, min_samples=1, as_numpy=True
        )
        now = pylsl.local_clock()
        n = len(ts)
        if n == 0:
            if now - self._last_sample_local > self.stall_after_s:
                if self._status.state == "connected":
                    self._set_status("disconnected", f"no samples for {self.stall_after_s:g} s; waiting for the stream")
                self._maybe_switch_stream()
            return
        ts = np.asarray(ts, dtype=np.float64)
        self._last_sample_local = now
        self._count_dropouts(ts)
        if self.consumer_guards:
            fault = None
            self.on_chunk(data[:n], ts)  # repairs and writes self.ring
        else:
            clean, fault = self.guard.process(data[:n], self.ring.total, float(ts[0]))
            self.ring.write(clean, ts)
        self._rate_hist.append((now, self.ring.total))
        self._check_rate(float(ts[-1]))
        if self._status.state != "connected":
            self._set_status("connected", f"receiving {stream_label(self._info)}",
                             name=self._info.name(), source_id=self._info.source_id())
        if fault is not None and self.on_event:
            self.on_event(fault)
        if self.on_chunk and not self.consumer_guards:
            self.on_chunk(clean, ts)

    def _maybe_switch_stream(self) -> None:
        """While stalled, look (once a second) for a new outlet of the same device and move to it."""
        if time.monotonic() - self._last_resolve < 1.0:
            return
        self._last_resolve = time.monotonic()
        for info in pylsl.resolve_bypred(self.predicate, minimum=1, timeout=0.2):
            if info.uid() != self._info.uid():
                fmt = _FORMATS.get(info.channel_format(), "unknown")
                if not self.profile.stream_problems(info.channel_count(), info.nominal_srate(), fmt):
                    self._close_inlet()
                    return  # the next loop connects afresh

    def _check_rate(self, t_last: float) -> None:
        """Samples per second of the stream's own timestamps against its declared rate, per RATE_CHECK_SPAN_S."""
        total = self.ring.total
        if self._rate_anchor is None:
            self._rate_anchor = (t_last, total)
            return
        t0, n0 = self._rate_anchor
        span = t_last - t0
        if span < RATE_CHECK_SPAN_S:
            return
        self._rate_anchor = (t_last, total)
        declared = float(self._info.nominal_srate()) if self._info is not None else self.profile.rate_hz
        measured = (total - n0) / span
        ok = abs(measured - declared) <= max(RATE_CHECK_TOLERANCE, self.profile.rate_tolerance) * declared
        if ok != self.rate_ok:
            self.rate_ok = ok
            if self.on_event:
                self.on_event(RateCheck(declared, measured, span, ok, t_last))

    def _count_dropouts(self, ts: np.ndarray) -> None:
        """A gap of more than five sample intervals between consecutive timestamps is a dropout."""
        prev = self._last_ts
        self._last_ts = float(ts[-1])
        if len(ts) > 2:
            d = np.diff(ts)
            self._interval = 0.9 * self._interval + 0.1 * float(np.median(d))
        if prev is not None:
            d = np.diff(np.concatenate([[prev], ts]))
            self.dropouts += int((d > 5 * self._interval).sum())

    @property
    def rate_measured(self) -> float:
        """Samples per second of local time over the last pulls (a replay at 20x shows 20x)."""
        if len(self._rate_hist) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self._rate_hist[0], self._rate_hist[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def _set_status(self, state: str, message: str, name: str = "", source_id: str = "") -> None:
        if state == self._status.state and message == self._status.message:
            return
        self._status = StreamStatus(
            state, message, pylsl.local_clock(), name or self._status.stream_name,
            source_id or self._status.source_id, self.rate_measured, self.dropouts, self.ring.total,
        )
        if self.on_event:
            try:
                self.on_event(self._status)
            except Exception:
                pass
