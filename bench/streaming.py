"""Streaming-core benchmarks: throughput (real-time factor), LSL-to-Burst latency, disconnect detection,
replay pacing and memory over a long replay.

    myovox bench streaming [throughput|latency|memory|all] [--minutes 30] [--speed 20]

Real-time factor = seconds of signal processed per CPU second, on one thread. The baseline in the same
run is the pipeline this project refuses to write: a buffer shifted with np.roll on every chunk and a
per-chunk scipy.signal.lfilter band-pass, TKEO and envelope.
"""
from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy import signal as sps  # noqa: E402

from myovox.data.recordings import read_recording  # noqa: E402
from myovox.events import Burst, StreamStatus  # noqa: E402
from myovox.profiles import find_profile  # noqa: E402
from myovox.signal.chain import SignalChain  # noqa: E402
from myovox.stream.ring import RingBuffer  # noqa: E402


def pct(values, q):
    return float(np.percentile(values, q)) if len(values) else float("nan")


def synthetic(rate, channels, seconds, seed=0, rest_level=0.05):
    """Rest noise (0.05 units: mV on a Trigno) with 15x bursts, inside every profile's valid range."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, rest_level, (int(rate * seconds), channels)).astype(np.float32)
    period = int(rate)  # one 300 ms burst a second after the first 4 s
    for s in range(int(4 * rate), x.shape[0] - period, period):
        x[s : s + int(0.3 * rate)] *= 15
    return x


class RollBaseline:
    """np.roll ring buffer + per-chunk lfilter band-pass, TKEO, envelope and a threshold test."""

    def __init__(self, profile, capacity):
        self.buf = np.zeros((capacity, profile.channels), dtype=np.float32)
        f = profile.filter
        self.b, self.a = sps.butter(f.order, [f.highpass_hz, min(f.lowpass_hz, 0.95 * profile.rate_hz / 2)],
                                    btype="bandpass", fs=profile.rate_hz)
        self.zi = np.zeros((max(len(self.a), len(self.b)) - 1, profile.channels))
        self.be, self.ae = sps.butter(2, profile.detector.envelope_hz, fs=profile.rate_hz)
        self.ze = np.zeros((2, profile.channels))
        self.prev = np.zeros((2, profile.channels))

    def process(self, chunk, times):
        n = chunk.shape[0]
        self.buf = np.roll(self.buf, -n, axis=0)
        self.buf[-n:] = chunk
        y, self.zi = sps.lfilter(self.b, self.a, chunk, axis=0, zi=self.zi)
        ext = np.vstack([self.prev, y])
        self.prev = ext[-2:]
        psi = np.abs(ext[1:-1] ** 2 - ext[:-2] * ext[2:])
        env, self.ze = sps.lfilter(self.be, self.ae, psi, axis=0, zi=self.ze)
        return (env > 1e-3).any(axis=1)


class OursWithRing:
    """What the live source does per chunk (`Acquisition`): the chain guards the chunk, writes it into the
    source's raw ring, filters and detects.

    `fused=False`: the numpy/scipy reference stages instead of the compiled kernel (same results)."""

    def __init__(self, profile, capacity, fused=True):
        self.ring = RingBuffer(capacity, profile.channels)
        self.chain = SignalChain(profile, raw_ring=self.ring, fused=fused)

    def process(self, chunk, times):
        return self.chain.process(chunk, times)


def rtf(make, x, rate, chunk, repeats=5):
    """Median and p95 over repeats of signal seconds per CPU second (process time, one thread)."""
    times = np.arange(x.shape[0]) / rate
    out = []
    for _ in range(repeats):
        proc = make()
        t0 = time.process_time()
        for s in range(0, x.shape[0], chunk):
            proc.process(x[s : s + chunk], times[s : s + chunk])
        cpu = time.process_time() - t0
        out.append((x.shape[0] / rate) / cpu)
    return statistics.median(out), pct(out, 5)  # p95 of the time = 5th percentile of the speed


def bench_throughput(buffer_s=30.0):
    from myovox.signal import kernel

    print("== throughput: real-time factor on one thread (median over 5 runs; worst-case 5th pct in brackets)")
    t0 = time.perf_counter()
    fused = kernel.fused_available()
    print(f"signal kernel: {'numba ' + kernel.numba.__version__ if fused else 'not available, reference path only'}; "
          f"compiled or loaded from cache in {time.perf_counter() - t0:.2f} s at the first chain")
    cases = []
    delsys = find_profile("delsys_trigno")
    cases.append(("16 ch @ 2 kHz (delsys_trigno profile, synthetic at 2000 Hz)", delsys.with_rate(2000.0),
                  synthetic(2000.0, 16, 60.0)))
    myo = find_profile("myo")
    clip = read_recording(os.path.join(os.path.dirname(__file__), "..", "app", "myovox", "demo", "myo_readings_12345-1_7.txt"))
    cases.append(("8 ch @ 200 Hz (myo profile, the real demo clip x5)", myo, np.tile(clip.signal, (5, 1))))
    for label, prof, x in cases:
        cap = int(buffer_s * prof.rate_hz)
        for chunk_ms in (10, 50):
            chunk = max(1, int(prof.rate_hz * chunk_ms / 1000))
            ours = rtf(lambda: OursWithRing(prof, cap, fused), x, prof.rate_hz, chunk)
            ref = rtf(lambda: OursWithRing(prof, cap, fused=False), x, prof.rate_hz, chunk)
            base = rtf(lambda: RollBaseline(prof, cap), x, prof.rate_hz, chunk)
            print(f"{label}, {chunk}-sample chunks ({chunk_ms} ms): ours {ours[0]:,.0f}x [{ours[1]:,.0f}x]  "
                  f"ours without the kernel {ref[0]:,.0f}x [{ref[1]:,.0f}x]  "
                  f"np.roll+lfilter baseline {base[0]:,.0f}x [{base[1]:,.0f}x]  "
                  f"ratio {ours[0] / base[0]:.2f} (without the kernel {ref[0] / base[0]:.2f})")


def _timestamped_acquisition(profile, predicate):
    from pylsl import local_clock

    from myovox.stream.acquisition import Acquisition

    class Timed(Acquisition):
        def _emit(self, event):
            super()._emit((local_clock(), event))

    return Timed(profile, predicate=predicate)


def bench_latency(n_bursts=30):
    import pylsl

    print("== latency: push_chunk on a loopback outlet -> Burst emitted (beyond the detector's minimum duration)")
    for key, rate in (("myo", None), ("delsys_trigno", None)):
        prof = find_profile(key)
        rate = prof.rate_hz
        name = f"bench-latency-{key}-{os.getpid()}"
        info = pylsl.StreamInfo(name, "EMG", prof.channels, rate, pylsl.cf_float32, name)
        outlet = pylsl.StreamOutlet(info)
        acq = _timestamped_acquisition(prof, f"name='{name}'")
        acq.start()
        while not acq.source.connected:
            time.sleep(0.01)
        x = synthetic(rate, prof.channels, 4.0 + n_bursts, seed=1)
        chunk = max(1, int(rate * 0.01))  # amplifiers push every ~10 ms
        push_time = np.zeros(x.shape[0])
        t0 = pylsl.local_clock()
        for i, s in enumerate(range(0, x.shape[0], chunk)):
            due = t0 + (s + chunk) / rate
            while pylsl.local_clock() < due:
                time.sleep(0.0005)
            now = pylsl.local_clock()
            outlet.push_chunk(x[s : s + chunk])
            push_time[s : s + chunk] = now
        time.sleep(0.5)
        lat = []
        for t_emit, ev in acq.drain(100000):
            if isinstance(ev, Burst):
                lat.append(1000 * (t_emit - push_time[ev.confirmed_index]))
        acq.stop()
        del outlet
        print(f"{key} ({prof.channels} ch @ {rate:g} Hz, {chunk}-sample chunks every {1000 * chunk / rate:.0f} ms): "
              f"{len(lat)} bursts, latency median {statistics.median(lat):.2f} ms, p95 {pct(lat, 95):.2f} ms, max {max(lat):.2f} ms "
              f"(detector minimum duration {prof.detector.min_duration_ms:g} ms is on top)")

    for mode in ("destroyed", "silent"):
        _bench_disconnect(mode)


def _bench_disconnect(mode):
    """'destroyed': the amplifier program closes its outlet; 'silent': it stops sending but stays open."""
    import pylsl

    print(f"== disconnect detection: outlet {mode} -> 'disconnected' status")
    prof = find_profile("myo")
    delays = []
    keep = []
    for i in range(5):
        name = f"bench-disc-{os.getpid()}-{i}"
        outlet = pylsl.StreamOutlet(pylsl.StreamInfo(name, "EMG", 8, 200.0, pylsl.cf_float32, name))
        acq = _timestamped_acquisition(prof, f"name='{name}'")
        acq.start()
        while not acq.source.connected:
            outlet.push_chunk(np.zeros((2, 8), dtype=np.float32))
            time.sleep(0.005)
        for _ in range(50):
            outlet.push_chunk(np.zeros((2, 8), dtype=np.float32))
            time.sleep(0.005)
        killed = pylsl.local_clock()
        if mode == "destroyed":
            del outlet
        else:
            keep.append(outlet)
        seen = None
        deadline = time.monotonic() + 10
        while seen is None and time.monotonic() < deadline:
            for t, ev in acq.drain():
                if isinstance(ev, StreamStatus) and ev.state == "disconnected":
                    seen = t
            time.sleep(0.005)
        acq.stop()
        delays.append(1000 * (seen - killed) if seen else float("inf"))
    print(f"{mode}: disconnected reported after median {statistics.median(delays):.0f} ms, max {max(delays):.0f} ms "
          f"(target <= 1000 ms)")


def bench_memory(minutes=30.0, speed=20.0):
    import pylsl

    from myovox.stream.acquisition import Acquisition
    from myovox.stream.replay import DEMO_CLIP, ReplayOutlet

    print(f"== memory and pacing: {minutes:g} min of the demo clip replayed at {speed:g}x through the acquisition")
    prof = find_profile("myo")
    rec = read_recording(DEMO_CLIP)
    name = f"bench-memory-{os.getpid()}"
    replay = ReplayOutlet(rec, prof, speed=speed, loop=True, name=name, source_id=name)
    acq = Acquisition(prof, predicate=f"name='{name}'")
    acq.start()
    page = os.sysconf("SC_PAGE_SIZE")

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page / 2**20

    wall = minutes * 60 / speed
    samples = []
    stop = threading.Event()

    def drain():
        while not stop.is_set():
            acq.drain(100000)
            time.sleep(0.05)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    t0 = pylsl.local_clock()
    replay.start(duration_s=wall)
    while pylsl.local_clock() - t0 < wall:
        time.sleep(min(5.0, wall / 20))
        samples.append((pylsl.local_clock() - t0, rss_mb(), acq.source.ring.total))
    replay.stop()
    elapsed = pylsl.local_clock() - t0
    time.sleep(0.5)
    stop.set()
    acq.stop()
    expected = elapsed * rec.rate_hz * speed
    rate_err = 100 * (replay.sent - expected) / expected
    warm = [s for s in samples if s[0] >= wall * 0.1]
    first, last = warm[0][1], warm[-1][1]
    print(f"replay sent {replay.sent} samples in {elapsed:.1f} s wall: rate error {rate_err:+.3f} % (target |err| < 1 %)")
    print(f"acquisition received {acq.source.ring.total} samples, {acq.source.dropouts} dropouts")
    print(f"RSS after warm-up {first:.1f} MB, at the end {last:.1f} MB, max {max(s[1] for s in warm):.1f} MB "
          f"(change {last - first:+.1f} MB over {minutes * 0.9:g} stream-minutes)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="myovox bench streaming")
    ap.add_argument("what", nargs="?", default="all", choices=["throughput", "latency", "memory", "all"])
    ap.add_argument("--minutes", type=float, default=30.0, help="stream minutes for the memory run")
    ap.add_argument("--speed", type=float, default=20.0, help="replay speed for the memory run")
    args = ap.parse_args(argv)
    if args.what in ("throughput", "all"):
        bench_throughput()
    if args.what in ("latency", "all"):
        bench_latency()
    if args.what in ("memory", "all"):
        bench_memory(args.minutes, args.speed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
