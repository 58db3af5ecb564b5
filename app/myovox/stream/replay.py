"""ReplayOutlet: a recording published as a live LSL stream, paced in real time (or X times faster).

Pacing follows an absolute schedule (start + n / rate), so timing errors never accumulate: the
long-run rate is the recording's rate times the speed, however late any single push is.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pylsl

from ..data.recordings import Recording, read_recording
from ..profiles import DeviceProfile, find_profile

DEMO_CLIP = Path(__file__).resolve().parents[1] / "demo" / "myo_readings_12345-1_7.txt"


class ReplayOutlet:
    def __init__(
        self,
        recording: Recording,
        profile: DeviceProfile,
        speed: float = 1.0,
        loop: bool = False,
        name: str = "myovox-replay",
        source_id: str | None = None,
        chunk_ms: float = 20.0,
        wait_for_listener: bool = False,
    ):
        if recording.channels != profile.channels:
            raise ValueError(
                f"{recording.source} has {recording.channels} channels; profile '{profile.key}' expects {profile.channels}"
            )
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.recording = recording
        self.profile = profile
        self.speed = float(speed)
        self.loop = loop
        self.rate = recording.rate_hz
        self.chunk_s = chunk_ms / 1000.0
        self.wait_for_listener = wait_for_listener
        info = pylsl.StreamInfo(
            name, profile.stream.type or "EMG", profile.channels, self.rate, pylsl.cf_float32,
            source_id or f"myovox-replay-{Path(recording.source).name}",
        )
        info.set_channel_labels([f"EMG{i + 1}" for i in range(profile.channels)])
        info.set_channel_units([profile.unit] * profile.channels)
        info.desc().append_child_value("manufacturer", "myovox replay")
        info.desc().append_child_value("recording", Path(recording.source).name)
        # Raw stream values are in the profile's raw units: undo the recording's unit scale if any.
        self._data = np.ascontiguousarray(recording.signal / profile.scale, dtype=np.float32)
        self.outlet = pylsl.StreamOutlet(info, chunk_size=0, max_buffered=60)
        self.sent = 0
        self.push_log: list[tuple[int, float]] | None = None  # (sample index, local time) for latency benches
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def finished(self) -> bool:
        return not self.loop and self.sent >= self._data.shape[0]

    def run(self, duration_s: float | None = None) -> int:
        """Publish until the recording ends (or forever with loop), `duration_s` wall seconds, or stop().

        With `wait_for_listener`, the clip's clock starts only when an inlet is connected, so a listener
        sees the recording from its first sample (its rest capture falls on the clip's opening rest)."""
        if self.wait_for_listener:
            while not self._stop.is_set() and not self.outlet.have_consumers():
                self._stop.wait(0.02)
        n_total = self._data.shape[0]
        eff_rate = self.rate * self.speed
        t0 = pylsl.local_clock()
        start_index = self.sent
        while not self._stop.is_set():
            now = pylsl.local_clock()
            if duration_s is not None and now - t0 >= duration_s:
                break
            due = start_index + int((now - t0) * eff_rate)
            if not self.loop:
                due = min(due, n_total)
            if due > self.sent:
                idx = np.arange(self.sent, due)
                chunk = self._data[idx % n_total]
                stamps = t0 + (idx - start_index + 1) / eff_rate
                self.outlet.push_chunk(chunk, stamps.tolist() if self.speed != 1.0 else float(stamps[-1]))
                if self.push_log is not None:
                    self.push_log.append((due, pylsl.local_clock()))
                self.sent = due
            if self.finished:
                break
            next_due = t0 + (self.sent - start_index + max(1, int(self.chunk_s * eff_rate))) / eff_rate
            self._stop.wait(max(0.0, min(self.chunk_s, next_due - pylsl.local_clock())))
        return self.sent

    def start(self, duration_s: float | None = None) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, args=(duration_s,), name="lsl-replay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2.0)

    def close(self) -> None:
        """Stop and destroy the outlet: inlets see the stream vanish."""
        self.stop()
        del self.outlet


def add_arguments(parser) -> None:
    parser.add_argument("file", nargs="?", default=str(DEMO_CLIP),
                        help="recording (.txt myo_readings, .dat Côté-Allard, .mat flexemg); default: the bundled demo clip")
    parser.add_argument("--profile", default=None, help="device profile (default: myo for 8 ch, trigno_maize_grid for 16 ch)")
    parser.add_argument("--speed", type=float, default=1.0, help="replay speed (1 = real time)")
    parser.add_argument("--loop", action="store_true", help="start again at the end, until stopped")
    parser.add_argument("--name", default="myovox-replay", help="LSL stream name")
    parser.add_argument("--source-id", default=None, help="LSL source_id (default: derived from the file name)")
    parser.add_argument("--wait", action="store_true", help="start the clip only when a listener connects")


def profile_for(recording: Recording, name: str | None) -> DeviceProfile:
    if name:
        return find_profile(name)
    return find_profile("myo" if recording.channels == 8 else "trigno_maize_grid")


def run(args) -> int:
    from ..data.recordings import RecordingError
    from ..profiles import ProfileError

    try:
        rec = read_recording(args.file)
        profile = profile_for(rec, args.profile)
        outlet = ReplayOutlet(rec, profile, speed=args.speed, loop=args.loop, name=args.name, source_id=args.source_id,
                              wait_for_listener=args.wait)
    except (RecordingError, ProfileError, ValueError) as exc:
        print(f"myovox replay: {exc}")
        return 2
    print(f"replaying {args.file}: {rec.channels} ch at {rec.rate_hz:g} Hz, {rec.duration_s:.1f} s, "
          f"speed {args.speed:g}x{', looping' if args.loop else ''}, as LSL stream '{args.name}' (Ctrl+C stops)")
    started = time.monotonic()
    try:
        sent = outlet.run()
    except KeyboardInterrupt:
        sent = outlet.sent
    wall = time.monotonic() - started
    print(f"sent {sent} samples in {wall:.1f} s ({sent / wall if wall else 0:.1f} samples/s)")
    return 0
