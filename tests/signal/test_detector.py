import dataclasses

import numpy as np
import pytest

from myovox.events import AttemptEnd, Burst, BurstEnd, OnsetWindow, SignalFault, Threshold
from myovox.profiles import find_profile
from myovox.signal.chain import SignalChain, detect_offline
from myovox.signal.detector import BurstDetector, estimate_threshold


def square_envelope(n, spans, level=100.0, channels=2):
    env = np.ones((n, channels))
    for a, b in spans:
        env[a:b] = level
    return env


def make_detector(min_samples=10, refractory=30, k=5.0, hysteresis=0.5, min_channels=1):
    thr = Threshold(baseline=(1.0, 1.0), spread=(1.0, 1.0), k=k, hysteresis=hysteresis, samples=100)
    return BurstDetector(thr, min_samples, refractory, min_channels)


def run(det, env):
    return det.process(env, 0, np.arange(len(env)) / 100.0)


def test_a_burst_is_confirmed_after_the_minimum_duration_and_ended_below_the_off_threshold():
    ev = run(make_detector(), square_envelope(300, [(100, 150)]))
    burst, end = ev
    assert isinstance(burst, Burst) and isinstance(end, BurstEnd)
    assert burst.onset_index == 100 and burst.confirmed_index == 110
    assert end.offset_index == 150
    assert burst.channels == (0, 1)


def test_a_blip_shorter_than_the_minimum_is_ignored():
    assert run(make_detector(min_samples=10), square_envelope(300, [(100, 105)])) == []


def test_refractory_period_suppresses_an_immediate_second_burst():
    env = square_envelope(400, [(100, 150), (160, 200), (260, 300)])
    onsets = [e.onset_index for e in run(make_detector(refractory=30), env) if isinstance(e, Burst)]
    assert onsets == [100, 260]  # 160 falls within 150 + 30


def test_hysteresis_keeps_a_burst_alive_through_a_dip():
    env = square_envelope(300, [(100, 200)])
    env[140:150] = 4.0  # below on (1 + 5) but above off (1 + 2.5)
    ends = [e for e in run(make_detector(), env) if isinstance(e, BurstEnd)]
    assert [(e.onset_index, e.offset_index) for e in ends] == [(100, 200)]


def test_a_short_dip_early_in_a_burst_is_bridged_and_the_movement_after_it_kept():
    """A twitch, a pause, then the movement: ended at the pause, the movement would be lost (it outlasts the
    refractory period without relaxing, so it is no new onset either)."""
    env = square_envelope(400, [(100, 130), (135, 250)])  # a 5-sample dip 30 samples into the burst
    plain = [(e.onset_index, e.offset_index) for e in run(make_detector(), env) if isinstance(e, BurstEnd)]
    assert plain == [(100, 130)]  # without bridging the movement at 135-250 makes no burst at all
    thr = Threshold(baseline=(1.0, 1.0), spread=(1.0, 1.0), k=5.0, hysteresis=0.5, samples=100)
    bridged = BurstDetector(thr, 10, 30, bridge_samples=10, bridge_within_samples=50)
    ev = run(bridged, env)
    assert [(e.onset_index, e.offset_index) for e in ev if isinstance(e, BurstEnd)] == [(100, 250)]
    (burst,) = [e for e in ev if isinstance(e, Burst)]
    assert burst.onset_index == 100


@pytest.mark.parametrize("spans, why", [
    ([(100, 130), (145, 250)], "a dip longer than bridge_samples ends the burst"),
    ([(100, 170), (175, 250)], "a dip after bridge_within_samples ends the burst"),
])
def test_a_long_or_late_dip_ends_the_burst_where_it_began(spans, why):
    thr = Threshold(baseline=(1.0, 1.0), spread=(1.0, 1.0), k=5.0, hysteresis=0.5, samples=100)
    ev = run(BurstDetector(thr, 10, 30, bridge_samples=10, bridge_within_samples=50), square_envelope(400, spans))
    assert [(e.onset_index, e.offset_index) for e in ev if isinstance(e, BurstEnd)][0] == (100, spans[0][1]), why


def test_a_bridged_dip_is_the_same_in_any_chunking():
    """The dip may straddle chunks (live chunks are a few samples): its end is decided when the dip has lasted."""
    env = square_envelope(400, [(100, 130), (135, 250), (300, 320)])
    thr = Threshold(baseline=(1.0, 1.0), spread=(1.0, 1.0), k=5.0, hysteresis=0.5, samples=100)
    times = np.arange(len(env)) / 100.0
    whole = BurstDetector(thr, 10, 30, bridge_samples=10, bridge_within_samples=50).process(env, 0, times)
    for chunk in (1, 3, 7):
        det = BurstDetector(thr, 10, 30, bridge_samples=10, bridge_within_samples=50)
        got = [e for s in range(0, len(env), chunk) for e in det.process(env[s : s + chunk], s, times[s : s + chunk])]
        assert got == whole
    assert [(e.onset_index, e.offset_index, e.offset_time) for e in whole if isinstance(e, BurstEnd)] == [
        (100, 250, 2.5), (300, 320, 3.2)]


def test_min_channels_requires_several_channels_at_once():
    env = np.ones((300, 4))
    env[100:150, 0] = 100.0  # one channel only
    thr = Threshold((1.0,) * 4, (1.0,) * 4, 5.0, 0.5, 100)
    assert BurstDetector(thr, 10, 0, min_channels=2).process(env, 0, np.arange(300.0)) == []
    env[100:150, 2] = 100.0
    assert len(BurstDetector(thr, 10, 0, min_channels=2).process(env, 0, np.arange(300.0))) == 2


def test_threshold_from_rest_is_robust_and_never_zero():
    rng = np.random.default_rng(1)
    rest = np.abs(rng.normal(0, 1, (1000, 3)))
    rest[:, 2] = 0.0  # a dead channel
    thr = estimate_threshold(rest, k=8, hysteresis=0.5)
    assert thr.spread[2] > 0
    assert thr.baseline[0] == pytest.approx(np.median(rest[:, 0]))
    with pytest.raises(ValueError):
        estimate_threshold(rest[:5], 8, 0.5)


def test_chain_captures_rest_then_emits_bursts_and_each_attempts_windows():
    p = find_profile("myo")
    rng = np.random.default_rng(2)
    x = rng.normal(0, 2, (int(10 * p.rate_hz), 8))
    onset = int(6 * p.rate_hz)
    x[onset : onset + 500] *= 12  # a 2.5 s contraction: longer than the attempt's 2 s hold
    events = detect_offline(x, p, chunk=17)
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "Threshold"
    assert kinds.count("Burst") == 1 and kinds.count("AttemptEnd") == 1
    wins = [e for e in events if isinstance(e, OnsetWindow)]
    assert p.attempt_windows == 7  # the evidence's span (decode.attempt); the chain cuts the hold's windows
    assert [w.seq for w in wins] == list(range(p.hold_windows)) == list(range(37))
    end = next(e for e in events if isinstance(e, AttemptEnd))
    assert end.reason == "max length" and end.windows == 37 and kinds.index("AttemptEnd") > kinds.index("OnsetWindow")
    win = wins[0]
    assert win.filtered.shape == (p.window_samples, 8) and win.raw.shape == (p.window_samples, 8)
    assert abs(win.burst.onset_index - onset) <= p.samples(100)
    for w in wins:  # window k starts k attempt steps after the onset; the last one ends attempt_hold_ms after it
        assert w.start_index == win.burst.onset_index + w.seq * p.attempt_step_samples
        np.testing.assert_allclose(w.raw, x[w.start_index : w.start_index + p.window_samples], rtol=1e-6)
        assert w.end_time == pytest.approx((w.start_index + p.window_samples - 1) / p.rate_hz)
    assert wins[-1].start_index + p.window_samples - win.burst.onset_index == p.samples(p.attempt_hold_ms)
    assert end.time == wins[-1].end_time


def test_a_short_burst_closes_its_attempt_at_the_burst_end():
    p = find_profile("myo")
    rng = np.random.default_rng(4)
    x = rng.normal(0, 2, (int(8 * p.rate_hz), 8))
    onset = int(6 * p.rate_hz)
    x[onset : onset + 50] *= 20  # 250 ms
    events = detect_offline(x, p, chunk=13)
    wins = [e for e in events if isinstance(e, OnsetWindow)]
    end = next(e for e in events if isinstance(e, AttemptEnd))
    burst_end = next(e for e in events if isinstance(e, BurstEnd))
    assert end.reason == "burst end" and 1 <= end.windows == len(wins) < p.attempt_windows < p.hold_windows
    for w in wins[1:]:  # every later window lies at least half inside the burst
        assert w.start_index + p.window_samples // 2 <= burst_end.offset_index
    assert end.time >= burst_end.offset_time


def test_a_bad_chunk_is_repaired_and_reported_never_propagated():
    p = find_profile("myo")
    rng = np.random.default_rng(3)
    x = rng.normal(0, 2, (int(6 * p.rate_hz), 8))
    x[900:950, 2] = np.nan
    x[1000, 5] = np.inf
    x[1001, 6] = -np.inf
    x[1100:1105, 1] = 5000.0  # far beyond the Myo's int8 range
    chain = SignalChain(p)
    t = np.arange(len(x)) / p.rate_hz
    events = []
    for s in range(0, len(x), 50):
        events.extend(chain.process(x[s : s + 50], t[s : s + 50]))
    faults = [e for e in events if isinstance(e, SignalFault)]
    assert sum(f.nonfinite for f in faults) == 52
    assert sum(f.out_of_range for f in faults) == 5
    assert {c for f in faults for c in f.channels} == {1, 2, 5, 6}
    filt, _ = chain.filtered.latest(len(chain.filtered))
    assert np.isfinite(filt).all()
    raw, _ = chain.raw.latest(len(chain.raw))
    assert raw.max() <= p.valid_range[1] and raw.min() >= p.valid_range[0]


def test_the_chain_refuses_a_chunk_of_the_wrong_width():
    chain = SignalChain(find_profile("myo"))
    with pytest.raises(ValueError, match="expects \\(n, 8\\)"):
        chain.process(np.zeros((10, 16)), np.arange(10.0))


def test_a_saved_threshold_skips_the_rest_capture_and_must_match_the_channels():
    p = find_profile("myo")
    thr = Threshold((1.0,) * 8, (1.0,) * 8, 60.0, 0.15, 600)
    assert not SignalChain(p, thr).calibrating
    with pytest.raises(ValueError, match="8"):
        SignalChain(p, Threshold((1.0,) * 16, (1.0,) * 16, 60.0, 0.15, 600))


@pytest.mark.realdata
def test_real_myo_readings_held_out_sessions_meet_the_detection_target(shared_data):
    """Detector settings were chosen on session 1; sessions 2 and 3 are held out."""
    from myovox.data.recordings import read_myo_readings
    from myovox.signal.evaluate import BurstReport, score_recording

    report = BurstReport("myo_readings", "myo")
    profile = find_profile("myo")
    files = sorted((shared_data / "myo_readings" / "_readings_right_hand").glob("*-[23]/[1-7].txt"))
    assert len(files) == 70
    for f in files:
        score_recording(read_myo_readings(f), profile, report)
    s = report.summary()
    assert s["detected"] >= 0.95
    assert s["extra_bursts_per_rep"] <= 0.15
    assert 0.1 <= s["median_lag_s"] <= 0.6  # a muscle answers a visual cue after a reaction time


@pytest.mark.realdata
def test_real_flexemg_grid_onsets_are_detected(shared_data):
    from myovox.data.recordings import read_flexemg
    from myovox.signal.evaluate import BurstReport, score_recording

    report = BurstReport("flexemg", "trigno_maize_grid")
    profile = find_profile("trigno_maize_grid")
    for f in sorted((shared_data / "flexemg_64ch" / "data").glob("*Session2Test/*.mat")):
        score_recording(read_flexemg(f), profile, report)
    s = report.summary()
    assert s["reps"] == 30
    assert s["detected"] >= 0.95
    assert dataclasses.asdict(profile.detector)["min_channels"] == 6


def test_a_whole_recording_in_one_chunk_keeps_every_window():
    """A file processed at once must not lose the windows of bursts older than the chain's history."""
    p = find_profile("myo")
    rng = np.random.default_rng(5)
    x = rng.normal(0, 2, (int(40 * p.rate_hz), 8))
    for s in range(6, 40, 6):
        a = int(s * p.rate_hz)
        x[a : a + 150] *= 20
    whole = detect_offline(x, p)
    chunked = detect_offline(x, p, chunk=7)
    n_bursts = sum(isinstance(e, Burst) for e in whole)
    assert n_bursts == 6
    assert sum(isinstance(e, OnsetWindow) and e.seq == 0 for e in whole) == n_bursts
    assert sum(isinstance(e, AttemptEnd) for e in whole) == n_bursts
    assert [e.start_index for e in whole if isinstance(e, OnsetWindow)] == \
        [e.start_index for e in chunked if isinstance(e, OnsetWindow)]
