"""Causal processing must not depend on how the stream happens to be chunked: the numpy/scipy reference
stages and the compiled kernel (signal/kernel.py) alike."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myovox.events import AttemptEnd, Burst, BurstEnd, OnsetWindow
from myovox.profiles import find_profile
from myovox.signal.chain import SignalChain
from myovox.signal.filters import CausalFilter, Envelope, Tkeo, design_emg_sos, design_envelope_sos
from myovox.signal.kernel import FusedStages


def synthetic_emg(rate, channels, seconds=6.0, seed=0, offset=0.0):
    """Noise with three bursts of stronger noise, plus an optional DC offset like a real amplifier."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    x = rng.normal(0, 1.0, (n, channels))
    for start in (3.5, 4.4, 5.2):
        a, b = int(start * rate), int((start + 0.4) * rate)
        x[a:b] *= 12
    return x + offset


def splits(n):
    return st.lists(st.integers(1, n), min_size=0, max_size=12).map(lambda cuts: sorted(set(cuts)))


def run_chunked(process, x, cuts):
    bounds = [0, *[c for c in cuts if 0 < c < len(x)], len(x)]
    return np.vstack([process(x[a:b]) for a, b in zip(bounds, bounds[1:]) if b > a])


@settings(max_examples=40, deadline=None)
@given(cuts=splits(1200), profile_key=st.sampled_from(["myo", "trigno_maize_grid"]))
def test_chunked_filtering_equals_whole_signal_filtering(cuts, profile_key):
    p = find_profile(profile_key)
    x = synthetic_emg(p.rate_hz, p.channels, seconds=1200 / p.rate_hz, offset=8000.0)
    sos = design_emg_sos(p.filter, p.rate_hz)
    whole = CausalFilter(sos, p.channels).process(x)
    f = CausalFilter(sos, p.channels)
    chunked = run_chunked(f.process, x, cuts)
    np.testing.assert_allclose(chunked, whole, rtol=1e-9, atol=1e-9)
    fused = fused_stages(p)
    np.testing.assert_array_equal(run_chunked(lambda c: fused.process(c)[0].copy(), x, cuts), whole)


def fused_stages(p):
    return FusedStages(design_emg_sos(p.filter, p.rate_hz), design_envelope_sos(p.rate_hz, p.detector.envelope_hz),
                       p.channels, max_chunk=64)  # smaller than many chunks: its buffer must grow


@settings(max_examples=40, deadline=None)
@given(cuts=splits(1200), profile_key=st.sampled_from(["myo", "delsys_trigno"]))
def test_the_kernel_chunked_equals_the_reference_on_the_whole_signal(cuts, profile_key):
    p = find_profile(profile_key)
    x = synthetic_emg(p.rate_hz, p.channels, seconds=1200 / p.rate_hz, offset=-300.0)
    filt = CausalFilter(design_emg_sos(p.filter, p.rate_hz), p.channels).process(x)
    env = Envelope(p.channels, p.rate_hz, p.detector.envelope_hz).process(filt)
    fused = fused_stages(p)
    both = run_chunked(lambda c: np.hstack([a.copy() for a in fused.process(np.ascontiguousarray(c))[:2]]), x, cuts)
    np.testing.assert_array_equal(both[:, : p.channels], filt)
    np.testing.assert_array_equal(both[:, p.channels :], env)


@settings(max_examples=40, deadline=None)
@given(cuts=splits(600))
def test_chunked_tkeo_and_envelope_equal_whole(cuts):
    x = synthetic_emg(200.0, 8, seconds=3.0)
    np.testing.assert_allclose(run_chunked(Tkeo(8).process, x, cuts), Tkeo(8).process(x), atol=1e-9)
    env_whole = Envelope(8, 200.0, 5.0).process(x)
    np.testing.assert_allclose(run_chunked(Envelope(8, 200.0, 5.0).process, x, cuts), env_whole, rtol=1e-9, atol=1e-9)
    assert (env_whole >= 0).all()


def test_tkeo_is_the_teager_kaiser_operator_delayed_by_one_sample():
    x = np.sin(np.linspace(0, 20, 500))[:, None] * np.linspace(1, 3, 500)[:, None]
    psi = Tkeo(1).process(x)[:, 0]
    expected = x[1:-1, 0] ** 2 - x[:-2, 0] * x[2:, 0]
    np.testing.assert_allclose(psi[2:], expected)


def events_signature(events):
    out = []
    for e in events:
        if isinstance(e, (Burst, BurstEnd)):
            out.append((type(e).__name__, e.onset_index, getattr(e, "confirmed_index", None),
                        getattr(e, "offset_index", None), e.channels))
        elif isinstance(e, OnsetWindow):
            out.append(("window", e.seq, e.start_index, e.filtered.shape, float(e.filtered.sum())))
        elif isinstance(e, AttemptEnd):
            out.append(("attempt end", e.burst.onset_index, e.windows, e.time, e.reason))
    return out


@pytest.mark.parametrize("fused", [False, True], ids=["reference", "kernel"])
@settings(max_examples=25, deadline=None)
@given(cuts=splits(1200))
def test_bursts_and_windows_do_not_depend_on_chunking(cuts, fused):
    p = find_profile("myo")
    x = synthetic_emg(p.rate_hz, p.channels)
    t = np.arange(len(x)) / p.rate_hz
    whole = SignalChain(p, fused=fused).process(x, t)
    chain = SignalChain(p, fused=fused)
    assert chain.fused == fused
    bounds = [0, *[c for c in cuts if 0 < c < len(x)], len(x)]
    chunked = []
    for a, b in zip(bounds, bounds[1:]):
        chunked.extend(chain.process(x[a:b], t[a:b]))
    sig_whole = events_signature(whole)
    assert sum(1 for s in sig_whole if s[0] == "Burst") == 3  # the three synthetic bursts
    # Within one chunk a window may come out before or after a burst's end; the events themselves may not differ.
    assert sorted(events_signature(chunked), key=repr) == sorted(sig_whole, key=repr)


def test_the_fast_filter_path_matches_scipy_sosfilt_exactly():
    from scipy import signal as sps

    p = find_profile("delsys_trigno")
    x = synthetic_emg(p.rate_hz, p.channels, seconds=1.0, offset=3.0)
    sos = design_emg_sos(p.filter, p.rate_hz)
    zi = sps.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
    expected, _ = sps.sosfilt(sos, x, axis=0, zi=zi)
    f = CausalFilter(sos, p.channels)
    got = np.vstack([f.process(x[:333]), f.process(x[333:])])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
