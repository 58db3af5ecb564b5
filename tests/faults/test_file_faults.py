"""Damaged files at start: calibration, encoder (ONNX), model card, device profile. The app starts, says what
is wrong until it is fixed, and the caregiver's keys still drive the speller."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

import myovox.bedside.session as session_module
from myovox.session.settings import Settings

from .conftest import compose, open_app, visible, wait_visible


def keys_still_work(bedside, window):
    sp = bedside.session.speller
    sp.config = replace(sp.config, mode="direct")  # the caregiver's keys move the highlight
    before = sp.state.highlight
    window.key_gesture("key-next")
    return sp.state.highlight != before


def test_corrupt_saved_calibration(qtbot, tmp_path, stream_name):
    cal = tmp_path / "data" / "calibrations" / "patient" / "myo.json"
    cal.parent.mkdir(parents=True)
    cal.write_text('{"labels": ["fist", "rest"], "weights": [[1, 2], ')
    bedside, window = open_app(qtbot, tmp_path, f"name='{stream_name}'")
    wait_visible(qtbot, window, "calibration", "saved calibration not used", "corrupt calibration file")
    text = compose(bedside, window)
    assert bedside.session.decoder is not None and bedside.session.decoder.calibration is None
    assert bedside.session.speller.message == text
    window.close()


@pytest.mark.parametrize("damage", ["onnx", "card"])
def test_corrupt_encoder_or_card(qtbot, tmp_path, monkeypatch, stream_name, damage):
    models = tmp_path / "models"
    models.mkdir()
    for f in session_module.MODELS_DIR.glob("myo8_200hz.*"):
        shutil.copy(f, models / f.name)
    if damage == "onnx":
        raw = bytearray((models / "myo8_200hz.onnx").read_bytes())
        raw[len(raw) // 2: len(raw) // 2 + 64] = b"\0" * 64
        (models / "myo8_200hz.onnx").write_bytes(bytes(raw))
    else:
        (models / "myo8_200hz.card.json").write_text('{"labels": ["fist", ')
    monkeypatch.setattr(session_module, "MODELS_DIR", models)
    bedside, window = open_app(qtbot, tmp_path / "home", f"name='{stream_name}'")
    wait_visible(qtbot, window, "encoder", "could not be loaded", f"corrupt {damage}")
    assert bedside.session.decoder is None
    window.caregiver.ack_all_button.click()
    assert visible(window, "encoder", "could not be loaded")  # stays until fixed
    assert keys_still_work(bedside, window)
    window.close()


def test_saved_profile_unknown(qtbot, tmp_path, stream_name):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.json").write_text(
        json.dumps(replace(Settings(), device_profile="no_such_band").to_dict()))
    bedside, window = open_app(qtbot, tmp_path, f"name='{stream_name}'", profile=None)
    wait_visible(qtbot, window, "profile", "no_such_band", "saved profile unknown")
    assert bedside.session.profile.key == "myo"
    window.close()


def test_broken_clinic_profile_of_the_saved_name(qtbot, tmp_path, monkeypatch, stream_name):
    """$MYOVOX_PROFILES/myo.toml is broken and the saved profile is myo: the shipped Myo profile is used."""
    clinic = tmp_path / "profiles"
    clinic.mkdir()
    (clinic / "myo.toml").write_text("[device]\nchannels = 'eight'\n")
    monkeypatch.setenv("MYOVOX_PROFILES", str(clinic))
    bedside, window = open_app(qtbot, tmp_path / "home", f"name='{stream_name}'", profile=None)
    wait_visible(qtbot, window, "profile", "myo.toml", "broken clinic myo.toml")
    assert bedside.session.profile.key == "myo" and bedside.session.profile.channels == 8
    window.close()
