"""Pure decode maths: window preparation equals the streaming filter, Hudgins features, LDA, head, voting."""
from __future__ import annotations

import numpy as np
import pytest

from myovox.decode.calibration import confusion_matrix
from myovox.decode.features import (
    hudgins_features, prepare_windows, rich_features, rotate_ring, sliding_windows, spatial_features,
)
from myovox.decode.head import EmbeddingHead, MajorityVote, fit_temperature, reject, softmax
from myovox.decode.lda import LinearDiscriminant
from myovox.profiles import find_profile
from myovox.signal.filters import CausalFilter, design_emg_sos


def test_sliding_windows_stay_inside_one_recording():
    sig = np.arange(100 * 3, dtype=np.float32).reshape(100, 3)
    w = sliding_windows(sig, 40, 10)
    assert w.shape == (7, 40, 3)
    np.testing.assert_array_equal(w[2], sig[20:60])
    assert sliding_windows(sig[:30], 40, 10).shape == (0, 40, 3)


def test_prepare_windows_equals_causal_filter_per_window():
    prof = find_profile("myo")
    sos = design_emg_sos(prof.filter, prof.rate_hz)
    rng = np.random.default_rng(1)
    windows = rng.normal(5.0, 20.0, size=(4, 40, 8))
    batch = prepare_windows(windows, sos)
    for i in range(4):
        one = CausalFilter(sos, 8).process(windows[i] - windows[i].mean(axis=0))
        np.testing.assert_allclose(batch[i], one, rtol=1e-10, atol=1e-10)


def test_spatial_features_are_the_log_covariance():
    from scipy.linalg import logm

    rng = np.random.default_rng(3)
    w = rng.normal(size=(3, 40, 8)) @ rng.normal(size=(8, 8))  # correlated channels
    f = spatial_features(w)
    assert f.shape == (3, 36)
    for i in range(3):
        c = w[i].T @ w[i] / 40
        c += 1e-3 * np.trace(c) / 8 * np.eye(8)
        ref = logm(c).real
        iu = np.triu_indices(8)
        np.testing.assert_allclose(f[i], ref[iu] * np.where(iu[0] == iu[1], 1.0, np.sqrt(2.0)), atol=1e-8)
    # one live window (the LAPACK path) equals the batch
    np.testing.assert_allclose(spatial_features(w[1:2]), f[1:2], atol=1e-10)
    # a gain on every channel only moves the diagonal (log of the variances)
    g = spatial_features(2.0 * w) - f
    iu = np.triu_indices(8)
    np.testing.assert_allclose(g[:, iu[0] != iu[1]], 0.0, atol=1e-8)
    np.testing.assert_allclose(g[:, iu[0] == iu[1]], np.log(4.0), atol=1e-8)
    # a silent channel stays finite
    w[:, :, 3] = 0.0
    assert np.all(np.isfinite(spatial_features(w)))


def test_hudgins_features_by_hand():
    x = np.array([1.0, -2.0, 3.0, 3.0, -1.0])[None, :, None]
    mav, zc, ssc, wl = hudgins_features(x)[0]
    assert mav == pytest.approx(2.0)
    assert zc == 3  # +-, -+, +-
    # SSC (LibEMG, threshold 0): (x1-x0)(x1-x2) >= 0 at samples 1, 2, 3 -> (-3)(-5)=15, (5)(0)=0, (0)(4)=0
    assert ssc == 3
    assert wl == pytest.approx(3 + 5 + 0 + 4)


def test_rich_features_shape_and_scale():
    rng = np.random.default_rng(0)
    small, big = rng.normal(0, 1, (1, 40, 2)), rng.normal(0, 10, (1, 40, 2))
    fs, fb = rich_features(small), rich_features(big)
    assert fs.shape == (1, 14)
    assert np.all(fb[0, :2] > fs[0, :2])  # log RMS grows with amplitude
    assert np.all((fs[0, 6:8] >= 0) & (fs[0, 6:8] <= 1))  # spectral entropy in [0, 1]


def _blobs(seed=0, n=60, d=6, k=3, sep=4.0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, sep, (k, d))
    y = np.repeat(np.arange(k), n)
    return centres[y] + rng.normal(0, 1, (k * n, d)), y


def test_lda_separates_and_round_trips():
    x, y = _blobs()
    m = LinearDiscriminant(0.1).fit(x, y)
    assert np.mean(m.predict(x) == y) > 0.95
    m2 = LinearDiscriminant.from_dict(m.to_dict())
    np.testing.assert_allclose(m2.predict_proba(x), m.predict_proba(x))


def test_head_round_trip_and_temperature_softens():
    x, y = _blobs(sep=1.0)
    head = EmbeddingHead(("a", "b", "c")).fit(x, y)
    again = EmbeddingHead.from_dict(head.to_dict())
    np.testing.assert_allclose(again.probabilities(x), head.probabilities(x))
    t = fit_temperature(head.logits(x) * 20, y)  # over-confident logits need a large temperature
    assert t > 1.0
    warm = EmbeddingHead(("a", "b", "c"), temperature=2.5).fit(x, y)  # folded affine map = softmax(logits / T)
    np.testing.assert_allclose(warm.probabilities(x), softmax(warm.logits(x) / 2.5), rtol=1e-9, atol=1e-12)


def test_rich_features_spectrum_equals_the_fft_definition():
    w = np.random.default_rng(3).normal(0, 2, (4, 40, 3))
    w -= w.mean(axis=1, keepdims=True)
    p = (np.abs(np.fft.rfft(w, axis=1)) ** 2)[:, 1:]
    p = p / (p.sum(axis=1, keepdims=True) + 1e-6)
    entropy = -np.sum(p * np.log(p + 1e-12), axis=1) / np.log(p.shape[1])
    mnf = np.sum(p * (np.arange(1, p.shape[1] + 1) / p.shape[1])[None, :, None], axis=1)
    r = rich_features(w)
    np.testing.assert_allclose(r[:, 9:12], entropy, rtol=1e-9)
    np.testing.assert_allclose(r[:, 18:21], mnf, rtol=1e-9)


def test_reject_below_threshold_is_no_action():
    p = np.array([[0.9, 0.1], [0.55, 0.45], [0.2, 0.8]])
    np.testing.assert_array_equal(reject(p, 0.7), [0, -1, 1])
    assert reject(softmax(np.zeros((1, 4))), 0.3)[0] == -1


def test_majority_vote_needs_agreement():
    v = MajorityVote(3)
    assert v.push("yes") is None  # not enough windows yet
    assert v.push(None) is None
    assert v.push("yes") == "yes"
    assert v.push(None) is None  # yes, None, None
    assert v.push("no") is None


def test_rotate_ring_undoes_a_turn_and_confusion_counts_no_action():
    rng = np.random.default_rng(3)
    ref = rng.normal(0, 1, (1, 5, 8))
    turned = np.roll(ref, 3, axis=-1)  # the band moved three electrodes round
    np.testing.assert_allclose(rotate_ring(turned, 3), ref)
    m = confusion_matrix(np.array([0, 0, 1]), np.array([0, -1, 0]), 2)
    assert m.tolist() == [[1, 0, 1], [1, 0, 0]]


def test_window_operator_equals_prepare_windows():
    from myovox.decode.features import window_operator

    for key in ("myo", "trigno_maize_grid"):
        prof = find_profile(key)
        sos = design_emg_sos(prof.filter, prof.rate_hz)
        n = prof.window_samples
        raw = np.random.default_rng(2).normal(100.0, 30.0, (5, n, prof.channels))
        ref = prepare_windows(raw, sos)
        np.testing.assert_allclose(np.matmul(window_operator(sos, n), raw), ref, rtol=1e-7, atol=1e-7 * np.abs(ref).max())


def test_fast_features_match_their_definitions():
    rng = np.random.default_rng(5)
    w = rng.normal(0, 3, (6, 40, 4))
    w[0, 10:20, 1] = 0.0  # exact zeros: sign() is 0 there and does not count as a crossing
    h = hudgins_features(w)
    sgn = np.diff(np.sign(w), axis=1)
    np.testing.assert_array_equal(h[:, 4:8], np.sum(sgn == -2, axis=1) + np.sum(sgn == 2, axis=1))
    np.testing.assert_array_equal(h[:, 8:12], np.sum((w[:, 1:-1] - w[:, :-2]) * (w[:, 1:-1] - w[:, 2:]) >= 0, axis=1))
    np.testing.assert_allclose(h[:, 12:16], np.sum(np.abs(np.diff(w, axis=1)), axis=1))
    r = rich_features(w)
    np.testing.assert_allclose(r[:, 4:8], np.log(np.var(w, axis=1) + 1e-6), rtol=1e-9)
