"""Building a session from a profile and settings: the decisions the window must not make itself."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..interact.machine import SCAN, ScanTiming, SpellerConfig
from ..profiles import DeviceProfile
from .session import model_card_for

#: The caregiver's keys are gestures too (before calibration they are the only ones): space selects;
#: arrows and Escape navigate where the mode allows it.
KEYBOARD_GESTURE = "key-select"
KEY_GESTURES = {"key-select": "select", "key-next": "next", "key-previous": "previous", "key-back": "back"}


def load_decoder_for(profile: DeviceProfile):
    """(decoder or None, a sentence for the caregiver). Never raises: no model means no decisions, not a crash."""
    card = model_card_for(profile)
    if card is None:
        return None, f"profile '{profile.key}' names no encoder: signals are shown, gestures are not decoded"
    try:
        from ..decode import load_decoder

        return load_decoder(card), f"encoder {profile.model} loaded: calibrate to use gestures"
    except Exception as exc:  # a missing or corrupt model file is a message, not a crash
        return None, f"encoder {profile.model} could not be loaded: {exc}"


def speller_config(mode: str | None, roles: dict[str, str] | None, prediction: str = "phrases",
                   scan_period_s: float = 1.0) -> SpellerConfig:
    """The speller for a calibration's mode and roles; before any calibration, one-key scanning."""
    timing = ScanTiming.from_settings({"period_s": scan_period_s})
    merged = dict(KEY_GESTURES)
    if not mode or not roles:
        return SpellerConfig(SCAN, merged, prediction=prediction, timing=timing)
    merged.update(roles)
    return SpellerConfig(mode, merged, prediction=prediction, timing=timing)


def demo_calibration(decoder, profile: DeviceProfile, clip_path, reps: int = 3, created: str | None = None):
    """Calibrate on the bundled clip itself (its first fists as one 'fist' gesture, its rest as rest), so
    `--demo-user` shows the whole chain: replayed bursts -> decisions -> selections -> speech. The fists are
    cut as the wizard's are: the attempts the live chain finds with the rest capture's threshold.
    `clip_path` may also be a `Recording` already read (e.g. the clip with its fists scaled down)."""
    from ..data.recordings import Recording, read_recording

    rec = clip_path if isinstance(clip_path, Recording) else read_recording(clip_path)
    rest_len = int(3 * rec.rate_hz)
    start = int(0.5 * rec.rate_hz)
    rest = np.asarray(rec.signal[start : start + rest_len])
    found = decoder.attempts(rec.signal, rec.rate_hz, decoder.rest_threshold(rest, rec.rate_hz))[:reps]
    if not found:
        raise ValueError(f"no bursts found in {clip_path}")
    n = profile.window_samples
    examples = {"fist": found, "rest": [rest[i : i + n * 4] for i in range(0, rest_len - n * 4 + 1, n * 4)]}
    return decoder.calibrate(examples, rate_hz=rec.rate_hz, patient="demo", rest=rest, created=created)
