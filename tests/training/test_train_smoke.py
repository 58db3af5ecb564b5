"""A tiny end-to-end training run: fit a few steps on synthetic windows, export ONNX, load it through the API."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from myovox.decode import load_decoder  # noqa: E402
from myovox.decode.card import CARD_SCHEMA, sha256_of  # noqa: E402
from myovox.decode.features import prepare_windows, rich_features  # noqa: E402
from myovox.profiles import find_profile  # noqa: E402
from myovox.signal.filters import design_emg_sos  # noqa: E402
from myovox.training.models import ARCHITECTURES  # noqa: E402
from myovox.training.train import Normaliser, export_onnx, fit_encoder  # noqa: E402


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_encoder_shapes_and_size(arch):
    model = ARCHITECTURES[arch](8, 56, 7)
    emb, scores = model(torch.zeros(3, 8, 40), torch.zeros(3, 56))
    assert emb.shape == (3, 64) and scores.shape == (3, 7)
    assert sum(p.numel() for p in model.parameters()) * 4 < 1_000_000


def test_train_export_and_decide(tmp_path):
    prof = find_profile("myo")
    sos = design_emg_sos(prof.filter, prof.rate_hz)
    rng = np.random.default_rng(0)
    # two synthetic "gestures": activity on channels 0-3 or on channels 4-7
    y = np.repeat([0, 1], 64)
    gain = np.where((np.arange(8) < 4)[None, :] == (y == 0)[:, None], 30.0, 3.0)
    raw = rng.normal(0, 1, (128, 40, 8)) * gain[:, None, :]
    prepared = prepare_windows(raw, sos)
    feats = rich_features(prepared)
    norm = Normaliser.fit(prepared, feats)
    w, f = norm.apply(prepared, feats)
    model = fit_encoder("cnn", w, f, y, 2, epochs=3, seed=0, log=lambda *_: None)
    onnx_path = tmp_path / "tiny.onnx"
    export_onnx(model, 8, 40, f.shape[1], onnx_path)
    card = {
        "schema": CARD_SCHEMA, "name": "tiny", "onnx": "tiny.onnx", "sha256": sha256_of(onnx_path), "profile": "myo",
        "rate_hz": 200.0, "channels": 8, "layout": "ring", "window_samples": 40,
        "preprocessing": {"filter": {"highpass_hz": prof.filter.highpass_hz, "lowpass_hz": prof.filter.lowpass_hz, "order": prof.filter.order}},
        "normalisation": {"window_scale": norm.window_scale.tolist(), "feature_mean": norm.feature_mean.tolist(), "feature_std": norm.feature_std.tolist()},
        "outputs": {"embedding": 64, "scores": 2}, "labels": ["left", "right"],
    }
    (tmp_path / "tiny.card.json").write_text(json.dumps(card))
    dec = load_decoder(tmp_path / "tiny.card.json")
    # the ONNX graph computes what the torch model computes
    with torch.no_grad():
        ref, _ = model(torch.from_numpy(w[:5]), torch.from_numpy(f[:5]))
    np.testing.assert_allclose(dec.embed(raw[:5].astype(np.float32)), ref.numpy(), rtol=1e-3, atol=1e-4)
    cal = dec.calibrate({"left": [r for r in raw[:64:16]], "right": [r for r in raw[64::16]]}, 200.0, cut="windows")
    assert set(cal.labels) == {"left", "right"}
    labels, _ = dec.decide_many(raw[[1, 2, 70, 71]].astype(np.float32))
    assert labels[0] in ("left", None) and labels[2] in ("right", None)
    assert labels.count("left") + labels.count("right") >= 2


def test_fewshot_augment_and_episodes():
    from myovox.training.fewshot import Augment, episode_batches

    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (6, 40, 8))
    same = Augment(rotate_p=0.0, gain_sigma=0.0, contact_sigma=0.0, noise=0.0).apply(x, np.ones(8), True, rng)
    np.testing.assert_allclose(same, x)
    rolled = Augment(rotate_p=1.0, gain_sigma=0.0, contact_sigma=0.0, noise=0.0).apply(x, np.ones(8), True, rng)
    for a, b in zip(rolled, x):  # every window turned by exactly one electrode, one way or the other
        assert np.allclose(a, np.roll(b, 1, axis=1)) or np.allclose(a, np.roll(b, -1, axis=1))
    person = np.repeat(np.array(["p", "q"], dtype=object), 24)
    labels = np.tile(np.repeat([0, 1, 2], 8), 2)
    rep = np.tile(np.arange(8) % 2, 6)
    for idx in episode_batches(person, labels, rep, 1, 2, rng):
        assert len(set(person[idx])) == 1 and len(idx) == 3 * 2 * 2  # one person, every (gesture, rep) cell, 2 each


def two_people_windows(rng):
    """Prepared windows of two people x two classes x two repetitions; class 0 is loud on channels 0-3."""
    prof = find_profile("myo")
    sos = design_emg_sos(prof.filter, prof.rate_hz)
    y = np.tile(np.repeat([0, 1], 16), 2)
    person = np.repeat(np.array(["a", "b"], dtype=object), 32)
    rep = np.tile(np.arange(16) % 2, 4)
    gain = np.where((np.arange(8) < 4)[None, :] == (y == 0)[:, None], 30.0, 3.0)
    prepared = prepare_windows(rng.normal(0, 1, (64, 40, 8)) * gain[:, None, :], sos)
    return prepared, Normaliser.fit(prepared, rich_features(prepared)), y, person, rep


def test_fewshot_fit_and_ensemble_export(tmp_path):
    from myovox.training.fewshot import Augment, fit_encoder_fewshot
    from myovox.training.models import Ensemble, embedding_dim

    prepared, norm, y, person, rep = two_people_windows(np.random.default_rng(0))
    members = [fit_encoder_fewshot("cnn", prepared, norm, y, person, rep, 2, epochs=1, seed=s, augment=Augment(),
                                   proto_weight=1.0, embed=16, log=lambda *a, **k: None) for s in (0, 1)]
    model = Ensemble(members).eval()
    assert embedding_dim(model) == 32
    w, f = norm.apply(prepared[:3], rich_features(prepared[:3]))
    with torch.no_grad():
        emb, scores = model(torch.from_numpy(w), torch.from_numpy(f))
    assert emb.shape == (3, 32) and scores.shape == (3, 2)
    export_onnx(model, 8, 40, f.shape[1], tmp_path / "ens.onnx")
    assert (tmp_path / "ens.onnx").stat().st_size > 0


def test_cross_session_episodes_and_fit():
    """--readings-weight: episodes pair two different sessions of one person, and training runs with them."""
    from myovox.training.fewshot import Augment, CrossSessionSet, fit_encoder_fewshot

    prof = find_profile("myo")
    sos = design_emg_sos(prof.filter, prof.rate_hz)
    rng = np.random.default_rng(2)
    n = 36
    lab = np.tile([0, 1, 2], n // 3)
    per = np.repeat(np.array(["u", "v"]), n // 2)
    ses = np.tile(np.repeat(["1", "2", "3"], 6), 2)
    gain = np.where((np.arange(8) < 4)[None, :] == (lab == 0)[:, None], 30.0, 3.0)
    cross = CrossSessionSet(prepare_windows(rng.normal(0, 1, (n, 40, 8)) * gain[:, None, :], sos), lab, per, ses,
                            weight=1.0, people_per_batch=2)
    for sup, qry in cross.episodes(rng):
        assert len(set(per[sup]) | set(per[qry])) == 1  # one person
        assert len(set(ses[sup])) == 1 and len(set(ses[qry])) == 1 and ses[sup][0] != ses[qry][0]  # two sessions
    prepared, norm, y, person, rep = two_people_windows(rng)
    lines = []
    model = fit_encoder_fewshot("cnn", prepared, norm, y, person, rep, 2, epochs=1, seed=0, augment=Augment(),
                                proto_weight=1.0, embed=16, cross=cross, log=lambda *a, **k: lines.append(a[0]))
    assert model is not None and "cross-session" in lines[0] and "cross-session 0.000" not in lines[0]


def test_a_trained_card_names_its_code_and_libraries(tmp_path):
    import subprocess

    from myovox.training.train import PROJECT, code_provenance

    prov = code_provenance()
    assert prov["torch"] == torch.__version__ and prov["numpy"] == np.__version__
    if prov["commit"] is not None:  # a git checkout (CI clones one): the exact commit and whether the tree differs
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=PROJECT).stdout.strip()
        assert prov["commit"] == head and isinstance(prov["dirty"], bool)
        assert ("diff_sha256" in prov) == prov["dirty"]
    # outside a checkout the card says the code cannot be named, instead of failing the training run
    none = code_provenance(tmp_path)
    assert none["commit"] is None and "not a git checkout" in none["commit_note"]
