"""`myovox monitor`: connect to a matching LSL stream and print bursts and stream state as they happen."""
from __future__ import annotations

import time

from ..events import Burst, BurstEnd, RateCheck, SignalFault, StreamStatus, Threshold
from ..profiles import ProfileError, find_profile


def add_arguments(parser) -> None:
    parser.add_argument("--profile", default="myo", help="device profile (see `myovox profiles`)")
    parser.add_argument("--stream", default=None, help="LSL predicate to pin a stream, e.g. \"name='MyoEMG'\"")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")


def describe(event) -> str | None:
    """One line for the caregiver's terminal; None for events not worth a line."""
    if isinstance(event, StreamStatus):
        extra = f", {event.rate_measured:.0f} samples/s, {event.dropouts} dropouts" if event.state == "disconnected" else ""
        return f"[stream] {event.state}: {event.message}{extra}"
    if isinstance(event, RateCheck):
        if event.ok:
            return f"[stream] the measured rate matches the declared {event.declared_hz:g} Hz again"
        return (f"[stream] WARNING: the stream declares {event.declared_hz:g} Hz but sends {event.measured_hz:.0f} "
                f"samples/s: check the amplifier's rate setting")
    if isinstance(event, Threshold):
        if not event.steady:
            return (f"[rest] WARNING: the rest capture was not quiet (movement during it); bursts may be missed. "
                    f"Restart the monitor with the muscles relaxed.")
        return f"[rest] threshold set from {event.samples} rest samples (k = {event.k:g}); bursts will be reported"
    if isinstance(event, Burst):
        return (f"[burst] onset t={event.onset_time:.3f}  confirmed +{1000 * (event.confirmed_time - event.onset_time):.0f} ms"
                f"  channels {','.join(str(c + 1) for c in event.channels)}  peak {event.peak:.0f}")
    if isinstance(event, BurstEnd):
        return f"[burst] end   t={event.offset_time:.3f}  lasted {1000 * event.duration_s:.0f} ms  peak {event.peak:.0f}"
    if isinstance(event, SignalFault):
        return (f"[signal] repaired {event.nonfinite} non-finite and {event.out_of_range} out-of-range samples "
                f"on channels {','.join(str(c + 1) for c in event.channels)}")
    return None


class FaultSummary:
    """Repaired-sample reports summed over `every_s` seconds of the terminal's time: one line per period."""

    def __init__(self, every_s: float = 1.0):
        self.every_s = every_s
        self._due: float | None = None
        self._pending: list[SignalFault] = []

    def add(self, fault: SignalFault) -> None:
        self._pending.append(fault)

    def flush(self, now: float) -> str | None:
        if not self._pending or (self._due is not None and now < self._due):
            return None
        self._due = now + self.every_s
        faults, self._pending = self._pending, []
        chans = sorted({c for f in faults for c in f.channels})
        merged = SignalFault(faults[0].first_index, faults[0].time, sum(f.nonfinite for f in faults),
                             sum(f.out_of_range for f in faults), tuple(chans))
        line = describe(merged)
        return f"{line} ({len(faults)} reports in the last {self.every_s:g} s)" if len(faults) > 1 else line


def monitor(profile_name: str, predicate: str | None, seconds: float | None, print_fn=print) -> int:
    from .acquisition import Acquisition  # imports pylsl

    try:
        profile = find_profile(profile_name)
    except ProfileError as exc:
        print_fn(f"myovox monitor: {exc}")
        return 2
    acq = Acquisition(profile, predicate=predicate)
    print_fn(f"monitor: profile '{profile.key}' ({profile.channels} ch, {profile.rate_hz:g} Hz). "
             f"Keep the muscles relaxed for the first {profile.detector.rest_seconds:g} s after connecting (rest capture).")
    acq.start()
    started = time.monotonic()
    last_state = 0.0
    faults = FaultSummary()
    try:
        while seconds is None or time.monotonic() - started < seconds:
            for ev in acq.drain():
                if isinstance(ev, SignalFault):
                    faults.add(ev)  # a fault on every chunk would print ~40 lines a second: summed instead
                    continue
                line = describe(ev)
                if line:
                    print_fn(line)
            now = time.monotonic()
            line = faults.flush(now)
            if line:
                print_fn(line)
            if now - last_state >= 5.0 and acq.source.connected:
                last_state = now
                src = acq.source
                print_fn(f"[stream] connected, {src.rate_measured:.1f} samples/s measured, "
                         f"{src.dropouts} dropouts, {src.ring.total} samples")
            time.sleep(0.02)
    except KeyboardInterrupt:
        pass
    finally:
        acq.stop()
    return 0


def run(args) -> int:
    return monitor(args.profile, args.stream, args.seconds)
