"""What the speech worker reports back. Small and immutable: the UI renders them, nothing mutates them.

Every event carries the text it is about, so a failure can never lose the patient's message.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SpeechStatus:
    """Whether the voice works, said in words a caregiver can act on."""

    available: bool
    backend: str  # "espeak-ng" (subprocess) or "pyttsx3"
    message: str  # e.g. "speech is off: espeak-ng is not installed; the message stays on screen"


@dataclass(frozen=True)
class Spoken:
    """The text was synthesised and handed to the audio output without an error being reported."""

    request_id: int
    text: str
    duration_s: float  # wall time the backend took


@dataclass(frozen=True)
class SavedToFile:
    """The text was written as a WAV file that was opened again and checked (mono/PCM, non-empty)."""

    request_id: int
    text: str
    wav_path: Path
    frames: int
    rate_hz: int

    @property
    def audio_s(self) -> float:
        return self.frames / self.rate_hz


@dataclass(frozen=True)
class SpeechFailed:
    """Speech did not happen. `text` is the message, intact, to keep on screen; `message` says why."""

    request_id: int
    text: str
    reason: str  # short machine-readable cause: "not-installed", "backend-error", "bad-wav", "timeout", "closed"
    message: str  # human-readable, ends with "the message stays on screen"
