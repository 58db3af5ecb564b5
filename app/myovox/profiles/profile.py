"""DeviceProfile: the single source of channel count, sample rate and timing for one amplifier.

A profile is a TOML file in `device_profiles/`. It is validated once, on load, and every problem is
reported with the file, the key and the allowed range, so a clinician can fix it without reading code.
"""
from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..shipped import shipped_dir

#: Shipped profiles; `$MYOVOX_PROFILES` may add a folder of a clinic's own.
PROFILE_DIR = shipped_dir("device_profiles")  # the checkout's, or the installed wheel's share/myovox/

NUMERIC_FORMATS = ("float32", "double64", "int8", "int16", "int32", "int64")


class ProfileError(ValueError):
    """A profile that cannot be used; the message names file, key and allowed range."""


@dataclass(frozen=True)
class StreamMatch:
    """How to find the amplifier's LSL stream; `source_id`/`hostname` pin it to one device."""

    name: str = ""
    type: str = "EMG"
    source_id: str = ""
    hostname: str = ""

    def predicate(self) -> str:
        """An LSL XPath predicate for `resolve_bypred`."""
        parts = []
        for key in ("name", "type", "source_id", "hostname"):
            value = getattr(self, key)
            if value:
                parts.append(f"{key}='{value}'")
        return " and ".join(parts)


@dataclass(frozen=True)
class FilterSettings:
    highpass_hz: float = 20.0
    lowpass_hz: float = 450.0
    order: int = 4
    notch_hz: float = 0.0  # 0 = off; 50 or 60 where mains hum reaches the electrodes
    notch_q: float = 30.0


@dataclass(frozen=True)
class DetectorSettings:
    envelope_hz: float = 5.0  # low-pass corner of the TKEO envelope
    k: float = 8.0  # on-threshold = baseline + k x spread of the rest envelope
    hysteresis: float = 0.5  # off-threshold = baseline + hysteresis x k x spread
    min_duration_ms: float = 60.0
    refractory_ms: float = 250.0
    rest_seconds: float = 3.0
    warmup_ms: float = 500.0  # skipped at the start of the rest capture while the filters settle
    min_channels: int = 1
    # a dip shorter than bridge_ms inside a burst's first bridge_within_ms does not end it (signal.detector)
    bridge_ms: float = 0.0
    bridge_within_ms: float = 0.0


@dataclass(frozen=True)
class DeviceProfile:
    key: str  # file stem: "myo", "delsys_trigno", ...
    name: str
    channels: int
    rate_hz: float
    stream: StreamMatch
    unit: str
    scale: float  # raw stream value x scale = value in `unit`
    valid_range: tuple[float, float]  # raw values outside are artefacts (saturation, spikes)
    filter: FilterSettings
    detector: DetectorSettings
    decision_ms: float
    pre_onset_ms: float
    model: str
    # An attempt (one burst from rest) is seen through successive decision windows every `attempt_step_ms`
    # from the onset, for at most `attempt_ms` after it (the last window ends there): the decoder decides
    # once per attempt within that span (decode.attempt). A burst whose first `attempt_ms` still look like rest
    # (a slow start, a twitch before the movement) is watched for up to `attempt_hold_ms` after its onset: the
    # evidence then slides over its latest `attempt_ms` until the movement shows or the burst ends.
    attempt_step_ms: float = 50.0
    attempt_ms: float = 500.0
    attempt_hold_ms: float = 2000.0
    layout: str = "strip"  # ring | grid | strip
    grid: tuple[int, int] | None = None
    rate_tolerance: float = 0.05
    source: str = ""
    description: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def nyquist_hz(self) -> float:
        return self.rate_hz / 2

    def samples(self, ms: float) -> int:
        """Milliseconds -> whole samples at this profile's rate (at least 1)."""
        return max(1, int(round(ms * self.rate_hz / 1000.0)))

    @property
    def window_samples(self) -> int:
        return self.samples(self.decision_ms)

    @property
    def attempt_step_samples(self) -> int:
        return self.samples(self.attempt_step_ms)

    @property
    def attempt_windows(self) -> int:
        """How many windows an attempt may hold: the last one ends `attempt_ms` after the onset."""
        span = max(self.samples(self.attempt_ms) - self.window_samples, 0)
        return 1 + span // self.attempt_step_samples

    @property
    def hold_windows(self) -> int:
        """How many windows the chain cuts of one burst at most: the last one ends `attempt_hold_ms` after the onset."""
        span = max(self.samples(max(self.attempt_hold_ms, self.attempt_ms)) - self.window_samples, 0)
        return 1 + span // self.attempt_step_samples

    def with_rate(self, rate_hz: float) -> DeviceProfile:
        return replace(self, rate_hz=rate_hz)

    def stream_problems(self, channels: int, rate_hz: float, channel_format: str) -> list[str]:
        """Why a stream with these properties cannot feed this profile (empty if it can)."""
        problems = []
        if channels != self.channels:
            problems.append(f"it has {channels} channels, the profile expects {self.channels}")
        if rate_hz <= 0:
            problems.append("it has an irregular rate; EMG needs a fixed sample rate")
        elif abs(rate_hz - self.rate_hz) > self.rate_tolerance * self.rate_hz:
            problems.append(
                f"it samples at {rate_hz:g} Hz, the profile expects {self.rate_hz:g} Hz (+-{100 * self.rate_tolerance:g} %)"
            )
        if channel_format not in NUMERIC_FORMATS:
            problems.append(f"its values are {channel_format}, not numbers")
        return problems


# Bounds: (min, max) for every number a profile may set; a value outside is refused with this range.
_BOUNDS = {
    ("device", "channels"): (1, 256),
    ("device", "rate_hz"): (50.0, 20000.0),
    ("device", "rate_tolerance"): (0.0, 0.5),
    ("units", "scale"): (1e-12, 1e12),
    ("filter", "highpass_hz"): (0.5, 1000.0),
    ("filter", "lowpass_hz"): (5.0, 10000.0),
    ("filter", "order"): (1, 8),
    ("filter", "notch_hz"): (0.0, 1000.0),
    ("filter", "notch_q"): (1.0, 200.0),
    ("detector", "envelope_hz"): (0.5, 50.0),
    ("detector", "k"): (1.0, 1000.0),
    ("detector", "hysteresis"): (0.05, 1.0),
    ("detector", "min_duration_ms"): (5.0, 2000.0),
    ("detector", "refractory_ms"): (0.0, 5000.0),
    ("detector", "rest_seconds"): (0.5, 60.0),
    ("detector", "warmup_ms"): (0.0, 5000.0),
    ("detector", "min_channels"): (1, 256),
    ("detector", "bridge_ms"): (0.0, 1000.0),
    ("detector", "bridge_within_ms"): (0.0, 10000.0),
    ("window", "decision_ms"): (50.0, 2000.0),
    ("window", "pre_onset_ms"): (0.0, 1000.0),
    ("window", "attempt_step_ms"): (5.0, 1000.0),
    ("window", "attempt_ms"): (50.0, 5000.0),
    ("window", "attempt_hold_ms"): (50.0, 10000.0),
}


_REQUIRED = object()


class _Reader:
    """Pulls typed, range-checked values out of the parsed TOML, naming file and key on failure."""

    def __init__(self, data: dict, where: str):
        self.data = data
        self.where = where

    def error(self, section: str, key: str, why: str) -> ProfileError:
        return ProfileError(f"{self.where}: [{section}] {key}: {why}")

    def section(self, section: str, required: bool = True) -> dict:
        value = self.data.get(section)
        if value is None:
            if required:
                raise ProfileError(f"{self.where}: missing section [{section}]")
            return {}
        if not isinstance(value, dict):
            raise ProfileError(f"{self.where}: [{section}] must be a table")
        return value

    def get(self, section: str, key: str, kind, default=_REQUIRED):
        table = self.section(section, required=default is _REQUIRED)
        if key not in table:
            if default is _REQUIRED:
                raise self.error(section, key, "is missing")
            return default
        value = table[key]
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.error(section, key, f"must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise self.error(section, key, f"must be finite, got {value!r}")
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.error(section, key, f"must be a whole number, got {value!r}")
        elif kind is str:
            if not isinstance(value, str):
                raise self.error(section, key, f"must be text, got {value!r}")
        bounds = _BOUNDS.get((section, key))
        if bounds and not bounds[0] <= value <= bounds[1]:
            raise self.error(section, key, f"{value!r} is out of range: allowed {bounds[0]} to {bounds[1]}")
        return value


def parse_profile(data: dict, key: str, where: str) -> DeviceProfile:
    """Validate parsed TOML into a DeviceProfile; raises ProfileError naming the offending key."""
    r = _Reader(data, where)
    channels = r.get("device", "channels", int)
    rate = r.get("device", "rate_hz", float)
    nyq = rate / 2

    hp = r.get("filter", "highpass_hz", float, 20.0)
    lp = r.get("filter", "lowpass_hz", float, 450.0)
    notes = []
    # The band-pass must end below Nyquist; a profile written for a faster amplifier is clipped, with a note.
    lp_max = 0.95 * nyq
    if lp > lp_max:
        notes.append(f"lowpass_hz {lp:g} clipped to {lp_max:g} (below Nyquist {nyq:g} Hz)")
        lp = lp_max
    if hp >= lp:
        raise r.error("filter", "highpass_hz", f"{hp:g} must be below lowpass_hz ({lp:g} after clipping to Nyquist)")
    notch = r.get("filter", "notch_hz", float, 0.0)
    if notch and not hp < notch < nyq:
        raise r.error("filter", "notch_hz", f"{notch:g} must be 0 (off) or between highpass_hz {hp:g} and Nyquist {nyq:g} Hz")
    filt = FilterSettings(
        highpass_hz=hp, lowpass_hz=lp, order=r.get("filter", "order", int, 4),
        notch_hz=notch, notch_q=r.get("filter", "notch_q", float, 30.0),
    )

    det = DetectorSettings(
        envelope_hz=r.get("detector", "envelope_hz", float, 5.0),
        k=r.get("detector", "k", float, 8.0),
        hysteresis=r.get("detector", "hysteresis", float, 0.5),
        min_duration_ms=r.get("detector", "min_duration_ms", float, 60.0),
        refractory_ms=r.get("detector", "refractory_ms", float, 250.0),
        rest_seconds=r.get("detector", "rest_seconds", float, 3.0),
        warmup_ms=r.get("detector", "warmup_ms", float, 500.0),
        min_channels=r.get("detector", "min_channels", int, 1),
        bridge_ms=r.get("detector", "bridge_ms", float, 0.0),
        bridge_within_ms=r.get("detector", "bridge_within_ms", float, 0.0),
    )
    if det.min_channels > channels:
        raise r.error("detector", "min_channels", f"{det.min_channels} exceeds the {channels} channels of this device")
    if det.envelope_hz >= nyq:
        raise r.error("detector", "envelope_hz", f"{det.envelope_hz:g} must be below Nyquist {nyq:g} Hz")

    vr = r.section("units", required=False).get("range", [-math.inf, math.inf])
    if not (isinstance(vr, list) and len(vr) == 2 and all(isinstance(v, (int, float)) for v in vr) and vr[0] < vr[1]):
        raise r.error("units", "range", f"must be [low, high] with low < high, got {vr!r}")

    layout = r.get("device", "layout", str, "strip")
    if layout not in ("ring", "grid", "strip"):
        raise r.error("device", "layout", f"{layout!r} must be one of ring, grid, strip")
    grid = r.section("device").get("grid")
    if grid is not None:
        if not (isinstance(grid, list) and len(grid) == 2 and all(isinstance(g, int) and g > 0 for g in grid)):
            raise r.error("device", "grid", f"must be [rows, cols], got {grid!r}")
        if grid[0] * grid[1] != channels:
            raise r.error("device", "grid", f"{grid[0]} x {grid[1]} does not equal the {channels} channels")
        grid = (grid[0], grid[1])
    elif layout == "grid":
        raise r.error("device", "grid", "is required when layout = 'grid'")

    fmt_ok = r.section("stream", required=False).get("channel_format")
    if fmt_ok is not None and fmt_ok not in NUMERIC_FORMATS:
        raise r.error("stream", "channel_format", f"{fmt_ok!r} must be one of {', '.join(NUMERIC_FORMATS)}")

    decision = r.get("window", "decision_ms", float, 200.0)
    pre = r.get("window", "pre_onset_ms", float, 0.0)
    if pre >= decision:
        raise r.error("window", "pre_onset_ms", f"{pre:g} must be shorter than decision_ms {decision:g}")
    attempt_step = r.get("window", "attempt_step_ms", float, 50.0)
    attempt = r.get("window", "attempt_ms", float, 500.0)
    if attempt < decision:
        raise r.error("window", "attempt_ms", f"{attempt:g} must be at least decision_ms {decision:g}")
    hold = r.get("window", "attempt_hold_ms", float, 2000.0)
    if hold < attempt:
        raise r.error("window", "attempt_hold_ms", f"{hold:g} must be at least attempt_ms {attempt:g}")

    model = r.get("model", "encoder", str, "")
    return DeviceProfile(
        key=key,
        name=r.get("device", "name", str, key),
        description=r.get("device", "description", str, ""),
        channels=channels,
        rate_hz=rate,
        rate_tolerance=r.get("device", "rate_tolerance", float, 0.05),
        layout=layout,
        grid=grid,
        stream=StreamMatch(
            name=r.get("stream", "name", str, ""),
            type=r.get("stream", "type", str, "EMG"),
            source_id=r.get("stream", "source_id", str, ""),
            hostname=r.get("stream", "hostname", str, ""),
        ),
        unit=r.get("units", "unit", str, "counts"),
        scale=r.get("units", "scale", float, 1.0),
        valid_range=(float(vr[0]), float(vr[1])),
        filter=filt,
        detector=det,
        decision_ms=decision,
        pre_onset_ms=pre,
        attempt_step_ms=attempt_step,
        attempt_ms=attempt,
        attempt_hold_ms=hold,
        model=model,
        source=where,
        notes=tuple(notes),
    )


def load_profile(path: str | Path) -> DeviceProfile:
    """Load and validate one profile file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot be read ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML ({exc})") from exc
    return parse_profile(data, path.stem, str(path))


def profile_dirs() -> list[Path]:
    dirs = [PROFILE_DIR]
    extra = os.environ.get("MYOVOX_PROFILES")
    if extra:
        dirs.insert(0, Path(extra))
    return [d for d in dirs if d.is_dir()]


def list_profiles() -> dict[str, Path]:
    """Profile key -> file, clinic folder first so a clinic can override a shipped profile."""
    found: dict[str, Path] = {}
    for d in profile_dirs():
        for f in sorted(d.glob("*.toml")):
            found.setdefault(f.stem, f)
    return found


def find_profile(name_or_path: str) -> DeviceProfile:
    """A profile by key (`myo`) or by path to a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.is_file():
        return load_profile(candidate)
    known = list_profiles()
    if name_or_path not in known:
        raise ProfileError(
            f"no device profile named {name_or_path!r}; known profiles: {', '.join(sorted(known)) or 'none'}"
        )
    return load_profile(known[name_or_path])
