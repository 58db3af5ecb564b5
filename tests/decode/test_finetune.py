"""Refitting the encoder's top at calibration: the maths (numpy) and its place in the shipped model."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from myovox.decode import CalibrationError, ModelCardError, load_decoder
from myovox.decode.calibration import Calibration
from myovox.decode.finetune import ONNX_NAMES, FineTuning, TopWeights, fine_tune, loss_and_grads

MODELS = Path(__file__).resolve().parents[2] / "models"
CARD = MODELS / "myo8_200hz.card.json"


def small_params(rng) -> dict:
    return {"f0_w": rng.normal(0, 0.3, (6, 5)), "f0_b": rng.normal(0, 0.1, 6), "f1_w": rng.normal(0, 0.3, (6, 6)),
            "f1_b": rng.normal(0, 0.1, 6), "e_w": rng.normal(0, 0.3, (4, 9)), "e_b": rng.normal(0, 0.1, 4),
            "cls_w": rng.normal(0, 0.5, (3, 4)), "cls_b": rng.normal(0, 0.1, 3)}


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    params = small_params(rng)
    conv, feats, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 5)), rng.integers(0, 3, 7)
    keep = (rng.random((7, 9)) > 0.2) / 0.8
    _, grads = loss_and_grads(params, conv, feats, y, keep)
    assert set(grads) == set(params)
    for k, v in params.items():
        for idx in np.ndindex(v.shape):
            old = v[idx]
            v[idx] = old + 1e-6
            up, _ = loss_and_grads(params, conv, feats, y, keep)
            v[idx] = old - 1e-6
            down, _ = loss_and_grads(params, conv, feats, y, keep)
            v[idx] = old
            assert abs((up - down) / 2e-6 - grads[k][idx]) < 1e-7, (k, idx)


def test_fine_tuning_learns_a_class_the_features_carry_and_is_repeatable():
    rng = np.random.default_rng(1)
    p = small_params(rng)
    start = TopWeights(**{k: p[k] for k in ONNX_NAMES})
    y = rng.integers(0, 3, 300)
    feats = rng.normal(size=(300, 5))
    feats[:, 0] += 6.0 * y  # only the features tell the classes apart; the frozen conv part is noise
    conv = rng.normal(size=(300, 3))
    settings = FineTuning(epochs=30, learning_rate=1e-2, batch=32, dropout=0.0)

    def loss_of(top: TopWeights) -> float:
        # how well the embedding separates the classes: errors of an LDA fitted on it
        from myovox.decode.lda import LinearDiscriminant

        e = top.embed(conv, feats).astype(np.float64)
        return float(np.mean(LinearDiscriminant(0.01).fit(e, y).predict(e) != y))

    tuned = fine_tune(start, conv, feats, y, 3, settings)
    assert loss_of(tuned) < loss_of(start)
    assert loss_of(tuned) < 0.1
    again = fine_tune(start, conv, feats, y, 3, settings)
    other = fine_tune(start, conv, feats, y, 3, FineTuning(30, 1e-2, 32, 0.0, seed=5))
    assert all(np.array_equal(getattr(tuned, k), getattr(again, k)) for k in ONNX_NAMES)
    assert not all(np.array_equal(getattr(tuned, k), getattr(other, k)) for k in ONNX_NAMES)
    with pytest.raises(ValueError, match="rows"):
        fine_tune(start, conv[:, :2], feats, y, 3, settings)
    with pytest.raises(ValueError, match="labels"):
        fine_tune(start, conv, feats, y + 1, 3, settings)


def test_top_weights_round_trip_and_refuse_bad_shapes():
    rng = np.random.default_rng(2)
    p = small_params(rng)
    top = TopWeights(**{k: p[k] for k in ONNX_NAMES})
    again = TopWeights.from_dict(json.loads(json.dumps(top.to_dict())))
    assert all(np.array_equal(getattr(top, k), getattr(again, k)) for k in ONNX_NAMES)
    with pytest.raises(ValueError, match="shape"):
        TopWeights(**{**{k: p[k] for k in ONNX_NAMES}, "f1_b": np.zeros(5)})
    d = top.to_dict()
    d["e_w"]["shape"] = [5, 9]
    with pytest.raises(ValueError):
        TopWeights.from_dict(d)
    with pytest.raises(ValueError, match="out of range"):
        FineTuning.from_dict({"epochs": 0})


@pytest.fixture(scope="module")
def decoder():
    return load_decoder(CARD)


def test_the_shipped_card_refits_the_top_and_numpy_reproduces_the_graph(decoder, shared_data):
    from myovox.data.recordings import read_cote_allard_session

    assert decoder.card.fine_tune is not None and decoder.encoder.top is not None
    rec = read_cote_allard_session(shared_data, "EvaluationDataset", "Male2", "Test0")[5]
    parts = decoder._parts(decoder.windows(rec.signal, 200.0), rotation=0)
    # the split is right: the shipped top in numpy gives the graph's own embedding
    np.testing.assert_allclose(decoder.encoder.top.embed(parts["conv"], parts["features"]), parts["embedding"],
                               rtol=1e-4, atol=1e-4)


@pytest.fixture(scope="module")
def calibrated(decoder, shared_data):
    from myovox.data.recordings import read_cote_allard_session

    examples: dict[str, list[np.ndarray]] = {}
    for r in read_cote_allard_session(shared_data, "EvaluationDataset", "Male4", "training0"):
        if r.repetition < 2 and int(r.labels[0]) < 4:
            examples.setdefault(r.label_names[int(r.labels[0])], []).append(r.signal)
    cal = decoder.calibrate(examples, 200.0, patient="ft", created="2026-01-01T00:00:00", cut="windows")
    return decoder, cal, examples


def test_calibration_stores_the_refitted_top_and_uses_it(calibrated, tmp_path):
    dec, cal, examples = calibrated
    assert cal.encoder_top is not None
    assert not np.array_equal(cal.encoder_top.f0_w, dec.encoder.top.f0_w)
    w = dec.windows(examples["wrist flexion"][1], 200.0)
    refitted = dec.embed(w)
    shipped = dec._parts(w, rotation=0)["embedding"]
    assert not np.allclose(refitted, shipped, atol=1e-3)
    before = dec.probabilities(w)
    path = cal.save(tmp_path / "ft.calibration.json")
    fresh = load_decoder(CARD)
    fresh.load_calibration(path)
    np.testing.assert_allclose(fresh.probabilities(w), before, rtol=1e-6, atol=1e-9)


def test_a_damaged_or_foreign_refitted_top_is_refused(calibrated, tmp_path):
    _, cal, _ = calibrated
    path = cal.save(tmp_path / "ft.calibration.json")
    d = json.loads(path.read_text())
    d["encoder_top"]["e_w"]["float32_le"] = d["encoder_top"]["e_w"]["float32_le"][:-8] + "!!!!!!!!"
    (tmp_path / "damaged.json").write_text(json.dumps(d))
    with pytest.raises(CalibrationError, match="damaged"):
        Calibration.load(tmp_path / "damaged.json")
    # the same model file under a card without fine_tune: the refitted top has nowhere to go
    card = json.loads(CARD.read_text())
    del card["fine_tune"]
    shutil.copy(MODELS / card["onnx"], tmp_path / card["onnx"])
    (tmp_path / "plain.card.json").write_text(json.dumps(card))
    plain = load_decoder(tmp_path / "plain.card.json")
    assert plain.encoder.top is None
    with pytest.raises(CalibrationError, match="fine_tune"):
        plain.load_calibration(path)


def test_fine_tune_on_a_graph_without_a_refittable_top_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from myovox.decode.card import sha256_of

    card = json.loads(CARD.read_text())
    d, f = card["outputs"]["embedding"], len(card["normalisation"]["feature_mean"])
    w = helper.make_tensor("w", TensorProto.FLOAT, [d, f], np.zeros(d * f, np.float32))
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["features", "w"], ["embedding"], transB=1), helper.make_node("Identity", ["embedding"], ["scores"])],
        "flat",
        [helper.make_tensor_value_info("window", TensorProto.FLOAT, ["n", card["channels"], card["window_samples"]]),
         helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", f])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["n", d]),
         helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["n", d])],
        initializer=[w],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), tmp_path / "flat.onnx")
    (tmp_path / "flat.card.json").write_text(json.dumps(dict(card, onnx="flat.onnx", sha256=sha256_of(tmp_path / "flat.onnx"))))
    with pytest.raises(ModelCardError, match="no feature branch"):
        load_decoder(tmp_path / "flat.card.json")
    del card["fine_tune"]
    (tmp_path / "flat2.card.json").write_text(json.dumps(dict(card, onnx="flat.onnx", sha256=sha256_of(tmp_path / "flat.onnx"))))
    assert load_decoder(tmp_path / "flat2.card.json").encoder.top is None  # without fine_tune it loads as before


def test_a_graph_whose_top_is_wired_differently_is_refused(tmp_path):
    """Same layers and weights, but the embedding layer reads its inputs in another order: the top as
    read no longer reproduces the graph's embedding, so refitting it would start from the wrong place."""
    import onnx

    from myovox.decode.card import sha256_of

    card = json.loads(CARD.read_text())
    model = onnx.load(MODELS / card["onnx"])
    concat = next(n for n in model.graph.node if n.op_type == "Concat")
    mean, mx, branch = list(concat.input)
    del concat.input[:]
    concat.input.extend([branch, mean, mx])
    onnx.save(model, tmp_path / "rewired.onnx")
    (tmp_path / "rewired.card.json").write_text(json.dumps(dict(card, onnx="rewired.onnx", sha256=sha256_of(tmp_path / "rewired.onnx"))))
    with pytest.raises(ModelCardError, match="do not reproduce"):
        load_decoder(tmp_path / "rewired.card.json")
