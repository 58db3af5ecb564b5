"""Every user-facing setting, with bounds and a safe default, stored as JSON in the user's config folder.

A bad file must never brick the speller: each key is checked on its own, a bad key falls back to its
default and the good keys are kept, the bad file is set aside as `settings.json.corrupt-<time>` (not
deleted: a clinician may want it), and `LoadedSettings.notice` says in words what was reset.
"""
from __future__ import annotations

import json
import math
import re
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .files import UserDirs, atomic_write_bytes, fsync_dir

SETTINGS_FILE = "settings.json"
_NAME = re.compile(r"^[A-Za-z0-9_.+/-]{1,64}$")  # voice names, profile keys
_PATIENT = re.compile(r"^[A-Za-z0-9_.-]{0,64}$")  # also used in file names: no spaces or slashes


@dataclass(frozen=True)
class Bound:
    """What a setting may hold. `lo`/`hi` for numbers; `pattern` or `url` for text; `optional` allows None."""

    kind: type
    lo: float | None = None
    hi: float | None = None
    optional: bool = False
    pattern: re.Pattern | None = None
    url: bool = False
    help: str = ""

    def check(self, value: Any) -> str | None:
        """None if `value` is acceptable, else a short reason."""
        if value is None:
            return None if self.optional else "missing"
        if self.kind is bool:
            return None if isinstance(value, bool) else "not true/false"
        if self.kind in (int, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return "not a number"
            if self.kind is int and not float(value).is_integer():
                return "not a whole number"
            if not math.isfinite(value) or not self.lo <= value <= self.hi:
                return f"outside {self.lo:g}..{self.hi:g}"
            return None
        if not isinstance(value, str):
            return "not text"
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return "not an allowed name"
        if self.url and not re.fullmatch(r"https?://[^\s]+", value):
            return "not an http(s) URL"
        if len(value) > 4096:
            return "too long"
        return None


@dataclass(frozen=True)
class Settings:
    """Defaults are the safe choice. Timing units match `interact.ScanTiming`, thresholds `decode`."""

    scan_period_s: float = 1.0  # how long each row/cell stays highlighted (interact.ScanTiming.period_s)
    scan_first_dwell: float = 1.5  # first item of a scan stays this many periods (ScanTiming.first_dwell)
    scan_cycles_before_exit: int = 2  # unanswered passes before the scan returns (ScanTiming)
    rejection_threshold: float = 0.8  # below this confidence a gesture is not acted on (decode.api.DEFAULT_REJECTION)
    detector_k: float | None = None  # burst on-threshold multiplier; None = the device profile's value
    voice: str = "en-us"
    speech_rate_wpm: int = 150
    llm_model_path: str | None = None  # None = the bundled model
    llm_server_url: str | None = None  # None = run the model in-process
    llm_deadline_s: float = 1.5  # phrases not ready by then are left out (language.suggester.DEFAULT_DEADLINE_S)
    device_profile: str = "myo"
    patient_id: str = ""
    log_content: bool = False  # session log records the words only if a clinician turns this on
    lsl_markers: bool = True  # publish bursts, decisions, selections, stream state as LSL markers (stream/markers.py)
    four_gesture_mode: str = "groups"  # with 4+ reliable gestures: "groups" (the ambiguous keyboard) or "direct"
    one_gesture_mode: str = "likely"  # with 1 reliable gesture: "likely" (scan ordered by the language model) or "scan"
    few_gesture_mode: str = "split"  # with 2-3: "split" (each gesture picks a group of the probability mass) or "step"

    BOUNDS = {
        "scan_period_s": Bound(float, 0.3, 5.0, help="seconds per highlighted item"),
        "scan_first_dwell": Bound(float, 1.0, 3.0, help="multiple of the scan period"),
        "scan_cycles_before_exit": Bound(int, 1, 5),
        "rejection_threshold": Bound(float, 0.0, 0.99, help="confidence 0..0.99"),
        "detector_k": Bound(float, 1.0, 500.0, optional=True),
        "voice": Bound(str, pattern=_NAME),
        "speech_rate_wpm": Bound(int, 80, 450, help="espeak-ng words per minute"),
        "llm_model_path": Bound(str, optional=True),
        "llm_server_url": Bound(str, optional=True, url=True),
        "llm_deadline_s": Bound(float, 0.2, 30.0),
        "device_profile": Bound(str, pattern=_NAME),
        "patient_id": Bound(str, pattern=_PATIENT),
        "log_content": Bound(bool),
        "lsl_markers": Bound(bool),
        "four_gesture_mode": Bound(str, pattern=re.compile(r"^(direct|groups)$"), help="groups or direct"),
        "one_gesture_mode": Bound(str, pattern=re.compile(r"^(likely|scan)$"), help="likely or scan"),
        "few_gesture_mode": Bound(str, pattern=re.compile(r"^(split|step)$"), help="split or step"),
    }

    def __post_init__(self):
        problems = {k: r for k in self.BOUNDS if (r := self.BOUNDS[k].check(getattr(self, k)))}
        if problems:
            raise ValueError("; ".join(f"{k}={getattr(self, k)!r} is {r}" for k, r in problems.items()))

    def with_changes(self, **changes) -> "Settings":
        """A new Settings; raises ValueError naming any value out of bounds (the UI shows it)."""
        unknown = set(changes) - set(self.BOUNDS)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


assert set(Settings.BOUNDS) == {f.name for f in fields(Settings)}, "every setting needs a bound"


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    reset: tuple[str, ...]  # keys that fell back to their default, with why: "voice (not an allowed name)"
    ignored: tuple[str, ...]  # keys in the file that myovox does not know
    set_aside: Path | None  # where the bad file was moved, if it was
    notice: str  # "" when the file was fine

    @property
    def clean(self) -> bool:
        return not self.notice


class SettingsStore:
    """Loads and saves `Settings` at <config>/settings.json; `home` (or $MYOVOX_HOME) overrides the folder."""

    def __init__(self, home: str | Path | None = None):
        self.path = UserDirs.locate(home).config / SETTINGS_FILE

    def load(self) -> LoadedSettings:
        """Never raises for a bad file: falls back per key and says so. A missing file means defaults."""
        if not self.path.exists():
            return LoadedSettings(Settings(), (), (), None, "")
        raw = self.path.read_bytes()
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("the file does not hold a table of settings")
        except (UnicodeDecodeError, ValueError) as e:
            aside = self._set_aside()
            defaults = Settings()
            self.save(defaults)
            notice = (f"The settings file could not be read ({_short(e)}); all settings were reset to their safe "
                      f"defaults. The unreadable file was kept as {aside.name}.")
            return LoadedSettings(defaults, tuple(self._all_keys()), (), aside, notice)

        defaults = Settings()
        values, reset = {}, []
        for key, bound in Settings.BOUNDS.items():
            if key not in data:
                reset.append(f"{key} (missing)")
                continue
            value = data[key]
            if bound.kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            why = bound.check(value)
            if why:
                reset.append(f"{key} ({why}: {value!r} -> default {getattr(defaults, key)!r})")
            else:
                values[key] = value
        ignored = tuple(sorted(set(data) - set(Settings.BOUNDS)))
        settings = Settings(**values)
        if not reset and not ignored:
            return LoadedSettings(settings, (), (), None, "")
        aside = self._set_aside()
        self.save(settings)
        parts = []
        if reset:
            parts.append("these settings were reset to their safe defaults: " + "; ".join(reset))
        if ignored:
            parts.append("unknown entries were dropped: " + ", ".join(ignored))
        notice = ("Settings file problem: " + "; and ".join(parts) + f". The other settings were kept. "
                  f"The original file was kept as {aside.name}.")
        return LoadedSettings(settings, tuple(reset), ignored, aside, notice)

    def save(self, settings: Settings) -> None:
        data = json.dumps(settings.to_dict(), indent=2, sort_keys=True) + "\n"
        atomic_write_bytes(self.path, data.encode("utf-8"))

    def _set_aside(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        self.path.rename(aside)
        fsync_dir(self.path.parent)
        return aside

    @staticmethod
    def _all_keys():
        return list(Settings.BOUNDS)


def _short(e: Exception) -> str:
    s = str(e)
    return s if len(s) <= 120 else s[:117] + "..."
