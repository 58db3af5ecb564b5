"""The speech worker: one thread owns the voice, the UI only enqueues and never waits.

`say()` and `save_to_file()` return a request id at once. Results arrive as events (`Spoken`,
`SavedToFile`, `SpeechFailed`) on `events` (a queue the UI drains) and, if given, through
`on_event` (called on the worker thread: a Qt app re-emits it as a signal). A failure event always
carries the original text, so nothing the patient composed is lost because the voice failed.
"""
from __future__ import annotations

import itertools
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

from .events import SavedToFile, SpeechFailed, SpeechStatus, Spoken
from .voices import OFF_SUFFIX, EspeakNgProcessVoice, SpeechError, SpeechUnavailable, check_rate

SpeechEvent = Union[Spoken, SavedToFile, SpeechFailed]


@dataclass(frozen=True)
class _Utterance:
    request_id: int
    text: str
    wav_path: Path | None


@dataclass(frozen=True)
class _SetVoice:
    voice: str | None
    rate_wpm: int | None


_STOP = object()


class SpeechWorker:
    """Owns one voice backend on a daemon thread; all methods are safe to call from the UI thread."""

    def __init__(self, voice_backend=None, on_event: Callable[[SpeechEvent], None] | None = None):
        self._voice = voice_backend if voice_backend is not None else EspeakNgProcessVoice()
        self._on_event = on_event
        self.events: "queue.SimpleQueue[SpeechEvent]" = queue.SimpleQueue()
        self._requests: "queue.SimpleQueue[object]" = queue.SimpleQueue()
        self._ids = itertools.count(1)
        self._closed = False
        self._lock = threading.Lock()
        self._known: list[str] | None = None
        self._status = self._probe()
        self._thread = threading.Thread(target=self._run, name="myovox-speech", daemon=True)
        self._thread.start()

    # --- called from the UI thread -------------------------------------------------------------
    @property
    def status(self) -> SpeechStatus:
        return self._status

    @property
    def backend(self) -> str:
        return self._voice.backend

    def say(self, text: str) -> int:
        """Queue `text` to be spoken aloud; returns the request id its event will carry."""
        return self._enqueue(text, None)

    def save_to_file(self, text: str, wav_path: str | Path) -> int:
        """Queue `text` to be written as a WAV at `wav_path` (checked after writing)."""
        return self._enqueue(text, Path(wav_path))

    def set_voice(self, voice: str) -> None:
        """Applies to requests queued after this call (see `check_voice` to refuse an unknown name first)."""
        if not isinstance(voice, str) or not voice.strip():
            raise ValueError(f"voice must be a non-empty name such as 'en-us', got {voice!r}")
        self._requests.put(_SetVoice(voice.strip(), None))

    def check_voice(self, voice: str) -> str | None:
        """None if the backend knows `voice`, else why not (espeak-ng itself quietly falls back from a near
        miss such as 'en-uss' to another voice, so its own list decides)."""
        voice = voice.strip() if isinstance(voice, str) else ""
        if not voice or ".." in voice.split("/") or voice.startswith("/"):
            return f"{voice!r} is not a voice name"
        known = self.known_voices()
        if known and voice.lower() not in {k.lower() for k in known}:
            close = [v for v in known if v.lower().startswith(voice[:2].lower())][:6]
            return f"{self.backend} has no voice {voice!r}" + (f" (try {', '.join(close)})" if close else "")
        return None

    def known_voices(self) -> list[str]:
        """The backend's voice names (asked once); empty if it cannot say, and then any name is tried."""
        if self._known is None:
            try:
                self._known = list(self._voice.voices())
            except Exception:  # noqa: BLE001 - not installed, cannot start: the status already says so
                self._known = []
        return self._known

    def set_rate(self, rate_wpm: int) -> None:
        """Words per minute; applies to requests queued after this call."""
        self._requests.put(_SetVoice(None, check_rate(rate_wpm)))

    def close(self) -> None:
        """Finish what is queued, then stop the thread (does not wait; see `join`)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._requests.put(_STOP)

    def join(self) -> None:
        self._thread.join()

    # --- internals -----------------------------------------------------------------------------
    def _probe(self) -> SpeechStatus:
        try:
            self._voice.check()
        except SpeechUnavailable as e:
            return SpeechStatus(False, self._voice.backend, e.message)
        return SpeechStatus(True, self._voice.backend, f"speech is on ({self._voice.backend}, voice "
                                                       f"{self._voice.voice}, {self._voice.rate_wpm} words/min)")

    def _enqueue(self, text: str, wav_path: Path | None) -> int:
        request_id = next(self._ids)
        with self._lock:
            closed = self._closed
            if not closed:
                self._requests.put(_Utterance(request_id, str(text), wav_path))
        if closed:
            self._emit(SpeechFailed(request_id, str(text), "closed",
                                    f"speech is off: the speech worker was stopped; {OFF_SUFFIX}"))
        return request_id

    def _emit(self, event: SpeechEvent) -> None:
        self.events.put(event)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # a faulty listener must not stop the voice; the queue still has it
                pass

    def _run(self) -> None:
        while True:
            item = self._requests.get()
            if item is _STOP:
                return
            if isinstance(item, _SetVoice):
                if item.voice is not None:
                    self._voice.voice = item.voice
                if item.rate_wpm is not None:
                    self._voice.rate_wpm = item.rate_wpm
                continue
            self._emit(self._perform(item))

    def _perform(self, u: _Utterance) -> SpeechEvent:
        if not u.text.strip():
            return SpeechFailed(u.request_id, u.text, "empty", f"nothing to say: the message is empty")
        if not self._status.available:
            # Try again: espeak-ng may have been installed since start-up.
            self._status = self._probe()
            if not self._status.available:
                return SpeechFailed(u.request_id, u.text, "not-installed", self._status.message)
        start = time.monotonic()
        try:
            if u.wav_path is None:
                self._voice.speak(u.text)
                return Spoken(u.request_id, u.text, time.monotonic() - start)
            info = self._voice.save(u.text, u.wav_path)
            return SavedToFile(u.request_id, u.text, u.wav_path, info.frames, info.rate_hz)
        except (SpeechError, SpeechUnavailable) as e:
            return SpeechFailed(u.request_id, u.text, e.reason, e.message)
        except Exception as e:  # never let the thread die with the patient's text in it
            return SpeechFailed(u.request_id, u.text, "backend-error",
                                f"speech failed: {type(e).__name__}: {e}; {OFF_SUFFIX}")
