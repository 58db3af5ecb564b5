"""The shipped encoder and the public API on real windows; clear refusals of bad models and calibrations."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from myovox.data.recordings import read_cote_allard_session
from myovox.decode import CalibrationError, ModelCardError, load_decoder
from myovox.decode.calibration import Calibration
from myovox.events import GestureDecision

MODELS = Path(__file__).resolve().parents[2] / "models"
CARD = MODELS / "myo8_200hz.card.json"


@pytest.fixture(scope="module")
def decoder():
    return load_decoder(CARD)


@pytest.fixture(scope="module")
def person(shared_data):
    """One evaluation person: calibration from training0, held-out windows from Test0."""
    train = read_cote_allard_session(shared_data, "EvaluationDataset", "Male1", "training0")
    test = read_cote_allard_session(shared_data, "EvaluationDataset", "Male1", "Test0")
    examples: dict[str, list[np.ndarray]] = {}
    for r in train:
        examples.setdefault(r.label_names[int(r.labels[0])], []).append(r.signal)
    return examples, test


@pytest.fixture(scope="module")
def calibrated(decoder, person):
    examples, _ = person
    cal = decoder.calibrate(examples, 200.0, patient="test-patient", rest=examples["neutral"][0], created="2026-01-01T00:00:00", cut="windows")
    return decoder, cal


def test_shipped_card_describes_the_myo_profile():
    card = json.loads(CARD.read_text())
    assert card["profile"] == "myo" and card["channels"] == 8 and card["rate_hz"] == 200.0
    assert card["window_samples"] == 40
    assert (MODELS / card["onnx"]).stat().st_size <= 1_000_000
    assert card["outputs"]["embedding"] <= 128
    assert "Female7" in " ".join(card["training_data"]["left_out"])
    assert "Female7" not in card["training_data"]["people"]


def test_decides_real_windows_of_a_new_person(calibrated, person):
    dec, cal = calibrated
    _, test = person
    correct = total = 0
    for r in test:
        truth = r.label_names[int(r.labels[0])]
        w = dec.windows(r.signal, 200.0)
        labels, conf = dec.decide_many(w)
        acted = [lab for lab in labels if lab is not None]
        correct += sum(lab == truth for lab in acted)
        total += len(acted)
        assert np.all((conf >= 0) & (conf <= 1))
    # a real, held-out session of a person the encoder never saw: acted-on decisions are mostly right
    assert total > 0 and correct / total > 0.8
    d = dec.decide(test[5].signal[:40], time=12.5)
    assert isinstance(d, GestureDecision) and d.time == 12.5
    assert dict(d.scores).keys() == set(cal.labels)


def test_calibration_report_and_rest_threshold(calibrated):
    _, cal = calibrated
    assert set(cal.per_gesture_accuracy) == set(cal.labels) and len(cal.labels) == 7
    assert cal.cv_method == "leave one repetition out (per attempt)"
    assert all(0.0 <= a <= 1.0 for a in cal.per_gesture_accuracy.values())
    assert set(cal.reliable) <= set(cal.labels)
    assert np.asarray(cal.confusion).shape == (7, 8)  # last column: no action
    assert cal.detector_threshold is not None and len(cal.detector_threshold.baseline) == 8


def test_below_threshold_is_no_action(decoder, person):
    examples, test = person
    dec = load_decoder(CARD)
    dec.calibrate(examples, 200.0, rejection_threshold=1.01, cut="windows")  # nothing can reach it
    d = dec.decide(test[3].signal[:40])
    assert d.label is None and not d.is_action and d.confidence <= 1.0
    labels, _ = dec.decide_many(dec.windows(test[3].signal, 200.0))
    assert all(lab is None for lab in labels)


def test_single_repetition_calibration_uses_halves(decoder, person):
    examples, _ = person
    dec = load_decoder(CARD)
    cal = dec.calibrate({k: v[:1] for k, v in list(examples.items())[:4]}, 200.0, cut="windows")
    assert cal.cv_method.startswith("first half")
    assert len(cal.labels) == 4


def test_calibration_file_round_trip_and_refusals(calibrated, tmp_path):
    dec, cal = calibrated
    path = cal.save(tmp_path / "p.calibration.json")
    again = Calibration.load(path)
    assert again.labels == cal.labels and again.patient == "test-patient"
    w = np.zeros((40, 8), np.float32) + np.random.default_rng(0).normal(0, 5, (40, 8)).astype(np.float32)
    before = dec.decide(w).scores
    dec.load_calibration(path)
    np.testing.assert_allclose([s for _, s in dec.decide(w).scores], [s for _, s in before], rtol=1e-6)

    d = json.loads(path.read_text())
    d["profile"] = "trigno_maize_grid"
    (tmp_path / "other.json").write_text(json.dumps(d))
    with pytest.raises(CalibrationError, match="profile 'trigno_maize_grid'"):
        dec.load_calibration(tmp_path / "other.json")
    d = json.loads(path.read_text())
    d["model_sha256"] = "0" * 64
    (tmp_path / "model.json").write_text(json.dumps(d))
    with pytest.raises(CalibrationError, match="Calibrate again"):
        dec.load_calibration(tmp_path / "model.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CalibrationError, match="not a readable calibration"):
        Calibration.load(tmp_path / "bad.json")
    with pytest.raises(CalibrationError, match="no such calibration"):
        Calibration.load(tmp_path / "missing.json")
    d = json.loads(path.read_text())
    del d["head"]
    (tmp_path / "damaged.json").write_text(json.dumps(d))
    with pytest.raises(CalibrationError, match="damaged"):
        Calibration.load(tmp_path / "damaged.json")


def test_mismatched_windows_are_refused(calibrated):
    dec, _ = calibrated
    with pytest.raises(ModelCardError, match="40 samples x 8 channels"):
        dec.decide(np.zeros((40, 16), np.float32))
    with pytest.raises(ModelCardError, match="40 samples x 8 channels"):
        dec.decide(np.zeros((200, 8), np.float32))
    with pytest.raises(ModelCardError, match="1000 Hz"):
        dec.decide(np.zeros((40, 8), np.float32), rate_hz=1000.0)
    with pytest.raises(ModelCardError, match="NaN"):
        dec.decide(np.full((40, 8), np.nan, np.float32))
    with pytest.raises(ModelCardError, match="200 Hz"):
        dec.calibrate({"a": [np.zeros((400, 8))], "b": [np.zeros((400, 8))]}, rate_hz=1000.0)


def test_uncalibrated_decoder_refuses_to_decide():
    dec = load_decoder(CARD)
    with pytest.raises(CalibrationError, match="no calibration"):
        dec.decide(np.zeros((40, 8), np.float32))


def test_missing_corrupt_and_mismatched_model_files(tmp_path):
    with pytest.raises(ModelCardError, match="no such model card"):
        load_decoder(tmp_path / "nope.card.json")
    card = json.loads(CARD.read_text())
    shutil.copy(MODELS / card["onnx"], tmp_path / card["onnx"])
    (tmp_path / "ok.card.json").write_text(json.dumps(card))
    assert load_decoder(tmp_path / "ok.card.json").card.name == card["name"]
    # corrupt weights: the sha256 no longer matches
    blob = bytearray((tmp_path / card["onnx"]).read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (tmp_path / card["onnx"]).write_bytes(bytes(blob))
    with pytest.raises(ModelCardError, match="corrupt"):
        load_decoder(tmp_path / "ok.card.json")
    # a garbage file whose sha256 the card agrees with: onnxruntime cannot load it
    (tmp_path / "junk.onnx").write_bytes(b"not an onnx graph")
    from myovox.decode.card import sha256_of

    junk = dict(card, onnx="junk.onnx", sha256=sha256_of(tmp_path / "junk.onnx"))
    (tmp_path / "junk.card.json").write_text(json.dumps(junk))
    with pytest.raises(ModelCardError, match="cannot load"):
        load_decoder(tmp_path / "junk.card.json")
    # a card that claims another window length than the graph takes
    shutil.copy(MODELS / card["onnx"], tmp_path / card["onnx"])
    wrong = dict(card, window_samples=200)
    (tmp_path / "wrong.card.json").write_text(json.dumps(wrong))
    with pytest.raises(ModelCardError, match="input 'window'"):
        load_decoder(tmp_path / "wrong.card.json")
    # head inputs the runtime does not know
    odd = dict(card, head_inputs=["embedding", "wavelets"])
    (tmp_path / "odd.card.json").write_text(json.dumps(odd))
    with pytest.raises(ModelCardError, match="head_inputs"):
        load_decoder(tmp_path / "odd.card.json")
    (tmp_path / "notjson.card.json").write_text("]")
    with pytest.raises(ModelCardError, match="not a readable JSON"):
        load_decoder(tmp_path / "notjson.card.json")


def test_realign_undoes_a_turned_band(calibrated, person):
    from myovox.decode.features import rotate_ring

    dec, cal = calibrated
    _, test = person
    ext = [r.signal for r in test if r.label_names[int(r.labels[0])] == "wrist extension"]
    windows = dec.windows(ext[1], 200.0)
    straight = dec.probabilities(windows)
    turned = rotate_ring(ext[0], 2)  # the band sits two electrodes round from where it was calibrated
    shift, gain = dec.realign({"wrist extension": [turned]}, 200.0, cut="windows")
    try:
        assert shift == 6 and gain >= 0.3  # rolling the turned channels 6 more positions closes the ring
        np.testing.assert_allclose(dec.probabilities(rotate_ring(windows, 2)), straight, rtol=1e-5, atol=1e-6)
    finally:
        dec.use(cal)


def test_realign_keeps_the_band_where_it_is_unless_a_turn_is_clearly_likelier(calibrated, person):
    dec, cal = calibrated
    _, test = person
    same = {lab: [r.signal for r in test if r.label_names[int(r.labels[0])] == lab][:1] for lab in ("wrist extension", "hand close")}
    try:
        shift, gain = dec.realign(same, 200.0, cut="windows")
        assert shift == 0 and gain == 0.0 and dec.calibration.rotation == 0
        with pytest.raises(CalibrationError, match="not in this calibration"):
            dec.realign({"wave": same["hand close"]}, 200.0, cut="windows")
    finally:
        dec.use(cal)
