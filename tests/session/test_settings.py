"""Settings on real files: bounds, per-key fallback, the bad file kept aside, atomic writes."""
from __future__ import annotations

import json
from pathlib import Path

import platformdirs
import pytest

from myovox.session import Settings, SettingsStore


def _write(store, data):
    store.path.parent.mkdir(parents=True, exist_ok=True)
    store.path.write_text(json.dumps(data) if not isinstance(data, str) else data)


def test_no_file_gives_defaults_without_a_notice(tmp_path):
    loaded = SettingsStore(tmp_path).load()
    assert loaded.settings == Settings() and loaded.clean
    assert Settings().log_content is False


def test_save_then_load_round_trips(tmp_path):
    store = SettingsStore(tmp_path)
    s = Settings().with_changes(voice="fr", speech_rate_wpm=120, detector_k=45.0, patient_id="p07",
                                llm_server_url="http://127.0.0.1:8080", log_content=True)
    store.save(s)
    assert SettingsStore(tmp_path).load().settings == s
    assert (store.path.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in store.path.parent.iterdir()] == ["settings.json"]  # no temp file left behind


def test_location_follows_myovox_home_then_platformdirs(tmp_path, monkeypatch):
    monkeypatch.setenv("MYOVOX_HOME", str(tmp_path))
    assert SettingsStore().path == tmp_path / "config" / "settings.json"
    monkeypatch.delenv("MYOVOX_HOME")
    assert SettingsStore().path == Path(platformdirs.user_config_dir("myovox", appauthor=False)) / "settings.json"


def test_out_of_range_and_wrong_type_keys_reset_the_rest_kept(tmp_path):
    store = SettingsStore(tmp_path)
    data = Settings().with_changes(voice="de", scan_period_s=2.0).to_dict()
    data.update(speech_rate_wpm=9000, rejection_threshold="high", log_content="yes", extra_key=1)
    original = json.dumps(data)
    _write(store, original)
    loaded = store.load()
    s = loaded.settings
    assert (s.voice, s.scan_period_s) == ("de", 2.0)  # valid keys kept
    assert (s.speech_rate_wpm, s.rejection_threshold, s.log_content) == (150, 0.8, False)  # back to defaults
    for key in ("speech_rate_wpm", "rejection_threshold", "log_content", "extra_key"):
        assert key in loaded.notice
    assert "voice" not in loaded.notice and "scan_period_s" not in loaded.notice
    assert loaded.set_aside.name.startswith("settings.json.corrupt-")
    assert loaded.set_aside.read_text() == original  # kept, not destroyed
    again = SettingsStore(tmp_path).load()  # the repaired file is clean now
    assert again.clean and again.settings == s


def test_unreadable_file_resets_everything_and_is_kept_aside(tmp_path):
    store = SettingsStore(tmp_path)
    _write(store, '{"voice": "fr", "speech_rate')  # torn write
    loaded = store.load()
    assert loaded.settings == Settings()
    assert "could not be read" in loaded.notice and loaded.set_aside.name in loaded.notice
    assert loaded.set_aside.read_text() == '{"voice": "fr", "speech_rate'
    assert SettingsStore(tmp_path).load().clean


def test_binary_garbage_and_non_table_json_fall_back(tmp_path):
    store = SettingsStore(tmp_path)
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(b"\xff\xfe\x00garbage")
    assert store.load().settings == Settings()
    _write(store, "[1, 2, 3]")
    loaded = store.load()
    assert loaded.settings == Settings() and loaded.notice
    assert len(list(store.path.parent.glob("settings.json.corrupt-*"))) == 2  # neither overwrote the other


def test_partial_file_keeps_what_it_has(tmp_path):
    store = SettingsStore(tmp_path)
    _write(store, {"voice": "es", "speech_rate_wpm": 110})
    loaded = store.load()
    assert (loaded.settings.voice, loaded.settings.speech_rate_wpm) == ("es", 110)
    assert "scan_period_s (missing)" in loaded.notice


@pytest.mark.parametrize("key,bad", [
    ("scan_period_s", 0.05), ("scan_period_s", float("nan")), ("scan_cycles_before_exit", 2.5),
    ("rejection_threshold", 1.5), ("detector_k", -3.0), ("voice", "en us; rm -rf"), ("speech_rate_wpm", True),
    ("llm_server_url", "ftp://x"), ("llm_deadline_s", 0.0), ("patient_id", "../../etc"), ("device_profile", ""),
])
def test_values_out_of_bounds_are_refused_when_set(key, bad):
    with pytest.raises(ValueError) as e:
        Settings().with_changes(**{key: bad})
    assert key in str(e.value)


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError):
        Settings().with_changes(scan_speed=3)


def test_bounds_and_defaults_agree_with_the_stages_that_use_them():
    """One place knows each fact: these settings feed interact, decode, language and speech."""
    from myovox.decode.api import DEFAULT_REJECTION
    from myovox.interact.machine import ScanTiming
    from myovox.language.suggester import DEFAULT_DEADLINE_S
    from myovox.profiles.profile import list_profiles
    from myovox.speech import DEFAULT_RATE_WPM, DEFAULT_VOICE, RATE_BOUNDS_WPM

    s, b = Settings(), Settings.BOUNDS
    for ours, theirs in (("scan_period_s", "period_s"), ("scan_first_dwell", "first_dwell"),
                         ("scan_cycles_before_exit", "cycles_before_exit")):
        assert getattr(s, ours) == getattr(ScanTiming(), theirs)
        assert (b[ours].lo, b[ours].hi) == ScanTiming.BOUNDS[theirs]
    assert s.rejection_threshold == DEFAULT_REJECTION
    assert s.llm_deadline_s == DEFAULT_DEADLINE_S
    assert (s.voice, s.speech_rate_wpm) == (DEFAULT_VOICE, DEFAULT_RATE_WPM)
    assert (b["speech_rate_wpm"].lo, b["speech_rate_wpm"].hi) == RATE_BOUNDS_WPM
    assert s.device_profile in list_profiles()
