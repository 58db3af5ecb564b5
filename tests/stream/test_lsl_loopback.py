"""Real LSL on loopback: replay outlet -> LslSource -> SignalChain, and the faults a bedside meets.

Waits below are liveness guards (a broken build must not hang CI), not speed requirements: how fast
a disconnect is reported is measured by `myovox bench latency`, never asserted here.
"""
import time

import numpy as np
import pylsl
import pytest

from myovox.data.recordings import read_recording
from myovox.events import Burst, OnsetWindow, SignalFault, StreamStatus
from myovox.profiles import find_profile
from myovox.stream.acquisition import Acquisition
from myovox.stream.replay import DEMO_CLIP, ReplayOutlet

GUARD_S = 60.0


def wait_for(predicate, guard=GUARD_S, step=0.02):
    end = time.monotonic() + guard
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False


class Collector:
    def __init__(self, acq):
        self.acq = acq
        self.events = []

    def pump(self):
        self.events.extend(self.acq.drain())
        return self.events

    def of(self, kind):
        self.pump()
        return [e for e in self.events if isinstance(e, kind)]

    def states(self):
        return [e.state for e in self.of(StreamStatus)]


def outlet(name, channels=8, rate=200.0, fmt=pylsl.cf_float32, source_id=None):
    info = pylsl.StreamInfo(name, "EMG", channels, rate, fmt, source_id or name)
    return pylsl.StreamOutlet(info)


@pytest.fixture
def myo():
    return find_profile("myo")


def test_replayed_real_clip_reaches_bursts_and_windows(myo, stream_name):
    rec = read_recording(DEMO_CLIP)
    # The clock starts when the inlet is connected: samples pushed before it are not delivered, and a
    # slow resolve on a loaded machine would otherwise cut the opening rest (and the ring count short).
    replay = ReplayOutlet(rec, myo, speed=8.0, name=stream_name, source_id=stream_name, wait_for_listener=True)
    acq = Acquisition(myo, predicate=f"name='{stream_name}'")
    col = Collector(acq)
    acq.start()
    try:
        replay.start()
        assert wait_for(lambda: replay.finished, guard=120)
        assert wait_for(lambda: acq.source.ring.total >= rec.signal.shape[0] - 1)
        time.sleep(0.3)
        bursts, windows = col.of(Burst), col.of(OnsetWindow)
        # The clip alternates 5 s rest / 5 s fist; the first rest holds the rest capture: 6 fists follow.
        assert len(bursts) == 6, [b.onset_time for b in bursts]
        assert sum(w.seq == 0 for w in windows) == 6  # each fist: one attempt, its windows from the onset
        assert all(w.filtered.shape == (myo.window_samples, 8) for w in windows)
        # The ring holds what was sent, sample for sample.
        held, _ = acq.source.ring.latest(500)
        np.testing.assert_allclose(held, rec.signal[-500:], rtol=0, atol=1e-4)
        assert acq.source.dropouts == 0
    finally:
        replay.stop()
        acq.stop()


def test_outlet_killed_and_restarted_reconnects_keeping_the_buffer(myo, stream_name):
    acq = Acquisition(myo, predicate=f"name='{stream_name}'")
    col = Collector(acq)
    acq.start()
    rng = np.random.default_rng(0)
    try:
        out = outlet(stream_name)
        assert wait_for(lambda: "connected" in col.states())
        for _ in range(10):
            out.push_chunk(rng.normal(0, 3, (40, 8)).astype(np.float32))
            time.sleep(0.01)
        assert wait_for(lambda: acq.source.ring.total == 400)
        before, _ = acq.source.ring.latest(400)
        del out  # the amplifier's program dies
        assert wait_for(lambda: col.states()[-1] == "disconnected")
        assert acq.source.ring.total == 400
        np.testing.assert_array_equal(acq.source.ring.latest(400)[0], before)
        out = outlet(stream_name)  # ... and comes back
        assert wait_for(lambda: col.states()[-1] == "connected")
        for _ in range(5):
            out.push_chunk(rng.normal(0, 3, (40, 8)).astype(np.float32))
            time.sleep(0.01)
        assert wait_for(lambda: acq.source.ring.total == 600)
        np.testing.assert_array_equal(acq.source.ring.read(0, 400)[0], before)
        assert acq.source._thread.is_alive()
    finally:
        acq.stop()


def test_nan_inf_and_out_of_range_samples_over_lsl_are_repaired_and_reported(myo, stream_name):
    acq = Acquisition(myo, predicate=f"name='{stream_name}'")
    col = Collector(acq)
    acq.start()
    try:
        out = outlet(stream_name)
        assert wait_for(lambda: "connected" in col.states())
        x = np.random.default_rng(1).normal(0, 3, (200, 8)).astype(np.float32)
        x[50:60, 3] = np.nan
        x[70, 0] = np.inf
        x[80, 7] = 1e6
        out.push_chunk(x)
        assert wait_for(lambda: acq.source.ring.total == 200)
        faults = col.of(SignalFault)
        assert sum(f.nonfinite for f in faults) == 11 and sum(f.out_of_range for f in faults) == 1
        held, _ = acq.source.ring.latest(200)
        assert np.isfinite(held).all() and held.max() <= 127
        filt, _ = acq.chain.filtered.latest(200)
        assert np.isfinite(filt).all()
    finally:
        acq.stop()


@pytest.mark.parametrize("channels, rate, words", [(16, 200.0, "16 channels"), (8, 2000.0, "2000 Hz")])
def test_a_stream_of_another_device_is_refused_with_a_clear_message(myo, stream_name, channels, rate, words):
    out = outlet(stream_name, channels=channels, rate=rate)
    acq = Acquisition(myo, predicate=f"name='{stream_name}'")
    col = Collector(acq)
    acq.start()
    try:
        assert wait_for(lambda: "wrong device" in col.states())
        status = [e for e in col.of(StreamStatus) if e.state == "wrong device"][-1]
        assert words in status.message and "myo" in status.message and stream_name in status.message
        out.push_chunk(np.zeros((50, channels), dtype=np.float32))
        time.sleep(0.2)
        assert acq.source.ring.total == 0  # nothing from the wrong device was read
        assert "connected" not in col.states()
    finally:
        acq.stop()
        del out


def test_switching_profile_while_streaming(stream_name):
    myo, grid = find_profile("myo"), find_profile("trigno_maize_grid")
    out8 = outlet(stream_name + "-8", 8, 200.0)
    out16 = outlet(stream_name + "-16", 16, 1000.0)
    acq = Acquisition(myo, predicate=f"name='{stream_name}-8'")
    col = Collector(acq)
    acq.start()
    try:
        assert wait_for(lambda: "connected" in col.states())
        acq.switch_profile(grid, predicate=f"name='{stream_name}-16'")
        assert wait_for(lambda: col.states()[-1] == "connected" and acq.profile.key == "trigno_maize_grid")
        out16.push_chunk(np.zeros((100, 16), dtype=np.float32))
        assert wait_for(lambda: acq.source.ring.total == 100)
        assert acq.source.ring.channels == 16 and acq.chain.profile.channels == 16
    finally:
        acq.stop()
        del out8, out16
