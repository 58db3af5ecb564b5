import math

import pytest

from myovox.profiles import ProfileError, find_profile, list_profiles, load_profile

GOOD = """
[device]
channels = 8
rate_hz = 200.0
[filter]
highpass_hz = 10.0
lowpass_hz = 95.0
"""


def write(tmp_path, text, name="clinic.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_every_shipped_profile_loads_with_its_promised_shape():
    shapes = {k: (p.channels, p.rate_hz) for k, p in ((k, load_profile(f)) for k, f in list_profiles().items())}
    assert shapes["myo"] == (8, 200.0)
    assert shapes["delsys_trigno"] == (16, 1925.926)
    assert shapes["trigno_maize_grid"] == (16, 1000.0)
    assert shapes["openbci_cyton"] == (8, 250.0)
    assert "generic" in shapes
    grid = find_profile("trigno_maize_grid")
    assert grid.grid == (4, 4) and grid.layout == "grid"


@pytest.mark.parametrize("key", ["myo", "delsys_trigno", "trigno_maize_grid", "openbci_cyton", "generic"])
def test_band_pass_ends_below_nyquist(key):
    p = find_profile(key)
    assert p.filter.highpass_hz < p.filter.lowpass_hz < p.nyquist_hz
    assert p.filter.notch_hz == 0 or p.filter.notch_hz < p.nyquist_hz


def test_a_low_pass_above_nyquist_is_clipped_with_a_note(tmp_path):
    p = load_profile(write(tmp_path, GOOD.replace("lowpass_hz = 95.0", "lowpass_hz = 450.0")))
    assert p.filter.lowpass_hz == pytest.approx(95.0)
    assert any("Nyquist" in n for n in p.notes)


@pytest.mark.parametrize(
    "text, words",
    [
        ("[device\nchannels = 8", ["not valid TOML"]),
        ("[device]\nrate_hz = 200.0\n", ["[device] channels", "missing"]),
        (GOOD.replace("channels = 8", "channels = 0"), ["[device] channels", "out of range", "1 to 256"]),
        (GOOD.replace("channels = 8", 'channels = "eight"'), ["[device] channels", "whole number"]),
        (GOOD.replace("rate_hz = 200.0", "rate_hz = nan"), ["[device] rate_hz", "finite"]),
        (GOOD.replace("highpass_hz = 10.0", "highpass_hz = 99.0"), ["[filter] highpass_hz", "below lowpass_hz"]),
        (GOOD + "notch_hz = 150.0\n", ["[filter] notch_hz", "Nyquist"]),
        (GOOD + "[detector]\nmin_channels = 9\n", ["[detector] min_channels", "exceeds the 8 channels"]),
        (GOOD + "[detector]\nbridge_ms = -5.0\n", ["[detector] bridge_ms", "out of range"]),
        (GOOD + "[detector]\nbridge_within_ms = 20000.0\n", ["[detector] bridge_within_ms", "out of range"]),
        (GOOD.replace("rate_hz = 200.0", 'rate_hz = 200.0\nlayout = "grid"'), ["[device] grid", "required"]),
        (GOOD.replace("rate_hz = 200.0", "rate_hz = 200.0\ngrid = [3, 3]"), ["[device] grid", "does not equal"]),
        (GOOD + "[window]\ndecision_ms = 100.0\npre_onset_ms = 150.0\n", ["[window] pre_onset_ms"]),
        (GOOD + "[window]\nattempt_ms = 500.0\nattempt_hold_ms = 300.0\n", ["[window] attempt_hold_ms", "at least attempt_ms"]),
        (GOOD + "[window]\nattempt_hold_ms = 60000.0\n", ["[window] attempt_hold_ms", "out of range"]),
        (GOOD + '[units]\nrange = [5, 1]\n', ["[units] range"]),
        (GOOD + '[stream]\nchannel_format = "string"\n', ["[stream] channel_format"]),
    ],
)
def test_a_broken_profile_is_refused_naming_file_key_and_range(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    msg = str(err.value)
    assert str(path) in msg
    for w in words:
        assert w in msg


def test_unreadable_and_missing_files_give_messages(tmp_path):
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile(tmp_path / "absent.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ProfileError, match="binary.toml"):
        load_profile(binary)
    with pytest.raises(ProfileError, match="known profiles: .*myo"):
        find_profile("no-such-amplifier")


def test_a_clinic_folder_overrides_and_adds_profiles(tmp_path, monkeypatch):
    write(tmp_path, GOOD.replace("rate_hz = 200.0", "rate_hz = 210.0"), "myo.toml")
    write(tmp_path, GOOD, "ward7.toml")
    monkeypatch.setenv("MYOVOX_PROFILES", str(tmp_path))
    assert find_profile("myo").rate_hz == 210.0
    assert find_profile("ward7").channels == 8


def test_stream_problems_name_what_does_not_match():
    myo = find_profile("myo")
    assert myo.stream_problems(8, 200.0, "float32") == []
    assert myo.stream_problems(8, 206.0, "int8") == []  # within the Myo's 5 % jitter
    problems = myo.stream_problems(16, 2000.0, "string")
    assert any("16 channels" in p for p in problems)
    assert any("2000 Hz" in p for p in problems)
    assert any("not numbers" in p for p in problems)
    assert myo.stream_problems(8, 0.0, "float32")  # irregular rate


def test_timing_comes_from_the_profile():
    myo, grid = find_profile("myo"), find_profile("trigno_maize_grid")
    assert myo.window_samples == round(myo.decision_ms * myo.rate_hz / 1000)
    assert grid.window_samples == round(grid.decision_ms * grid.rate_hz / 1000)
    assert math.isfinite(myo.valid_range[0])
