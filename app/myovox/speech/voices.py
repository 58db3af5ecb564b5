"""Backends that turn text into sound. Each is used from one worker thread only.

Default: `EspeakNgProcessVoice`, which runs the `espeak-ng` program once per utterance. Chosen over
pyttsx3 2.99 after probing it on Linux (see `Pyttsx3Voice`): pyttsx3's espeak driver swallows write
errors inside a ctypes callback (runAndWait returns normally, no file), plays `say()` through `aplay`
via os.system and ignores its failure, keeps the last save_to_file path so a later `say()` silently
writes to that file instead of speaking, accepts unknown voices without an error, and can only
initialise libespeak-ng once per process. A subprocess can be timed out and killed, and a fault in
it cannot take the app down.

espeak-ng 1.51 itself exits 0 when it cannot open the audio device or the output file; it does say so
on stderr, so stderr is read as well as the exit code, and every WAV is opened again and checked.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

RATE_BOUNDS_WPM = (80, 450)  # what espeak-ng accepts with -s
DEFAULT_VOICE = "en-us"
DEFAULT_RATE_WPM = 150
OFF_SUFFIX = "the message stays on screen"


class SpeechUnavailable(Exception):
    """The voice cannot work at all (not installed, cannot start); `reason` is machine-readable."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


class SpeechError(Exception):
    """One utterance failed; the next one may work."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class WavInfo:
    frames: int
    rate_hz: int


def check_wav(path: Path) -> WavInfo:
    """Open a WAV file again and insist it holds audio: mono or stereo 16-bit PCM with frames in it."""
    try:
        with wave.open(str(path), "rb") as w:
            frames, rate, width, channels = w.getnframes(), w.getframerate(), w.getsampwidth(), w.getnchannels()
    except FileNotFoundError:
        raise SpeechError("bad-wav", f"speech failed: no audio file was written at {path}; {OFF_SUFFIX}")
    except (wave.Error, EOFError) as e:
        raise SpeechError("bad-wav", f"speech failed: {path} is not a valid WAV file ({e}); {OFF_SUFFIX}")
    if frames <= 0 or rate <= 0 or width != 2 or channels not in (1, 2):
        raise SpeechError("bad-wav", f"speech failed: {path} holds no usable audio "
                                     f"({frames} frames, {rate} Hz, {width * 8}-bit, {channels} ch); {OFF_SUFFIX}")
    return WavInfo(frames=frames, rate_hz=rate)


def check_rate(rate_wpm: int) -> int:
    lo, hi = RATE_BOUNDS_WPM
    if isinstance(rate_wpm, bool) or not isinstance(rate_wpm, int) or not lo <= rate_wpm <= hi:
        raise ValueError(f"speech rate must be a whole number of words per minute in [{lo}, {hi}], got {rate_wpm!r}")
    return rate_wpm


def _stderr_error(stderr: str) -> str | None:
    """espeak-ng reports audio-device and file failures on stderr while exiting 0."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    bad = [ln for ln in lines if "error" in ln.lower() or "can't" in ln.lower() or "cannot" in ln.lower()]
    return bad[-1] if bad else None


class EspeakNgProcessVoice:
    """Runs the espeak-ng program per utterance: `-v voice -s rate [-w file.wav] -- text` (text on stdin)."""

    backend = "espeak-ng"

    def __init__(self, voice: str = DEFAULT_VOICE, rate_wpm: int = DEFAULT_RATE_WPM, binary: str = "espeak-ng",
                 timeout_per_char_s: float = 0.5, min_timeout_s: float = 20.0):
        self.binary = binary
        self.voice = voice
        self.rate_wpm = check_rate(rate_wpm)
        self._timeout_per_char_s = timeout_per_char_s
        self._min_timeout_s = min_timeout_s

    def _exe(self) -> str:
        exe = shutil.which(self.binary)
        if exe is None:
            raise SpeechUnavailable("not-installed", f"speech is off: espeak-ng is not installed ('{self.binary}' "
                                                     f"not found; install it with apt-get install espeak-ng); {OFF_SUFFIX}")
        return exe

    def check(self) -> None:
        """Raises SpeechUnavailable if the program is missing or will not run."""
        exe = self._exe()
        try:
            r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SpeechUnavailable("backend-error", f"speech is off: espeak-ng does not start ({e}); {OFF_SUFFIX}")
        if r.returncode != 0:
            raise SpeechUnavailable("backend-error", f"speech is off: espeak-ng does not start "
                                                     f"({r.stderr.strip() or r.returncode}); {OFF_SUFFIX}")

    def voices(self) -> list[str]:
        """Voice names espeak-ng knows (the 'File' column of `espeak-ng --voices`)."""
        r = subprocess.run([self._exe(), "--voices"], capture_output=True, text=True, timeout=30)
        names = []
        for line in r.stdout.splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 5:
                # language code, voice file (and its last part), and the other languages it serves: "(fr 8)"
                names.extend({parts[1], parts[4], parts[4].rsplit("/", 1)[-1]})
                names.extend(p.strip("()") for p in parts[5::2] if p.startswith("("))
        return sorted(set(names))

    def _run(self, text: str, wav_path: Path | None) -> None:
        cmd = [self._exe(), "-v", self.voice, "-s", str(self.rate_wpm)]
        if wav_path is not None:
            cmd += ["-w", str(wav_path)]
        timeout = max(self._min_timeout_s, self._timeout_per_char_s * len(text))
        try:
            # Text goes on stdin so a message starting with "-" is never read as an option.
            r = subprocess.run(cmd, input=text, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SpeechError("timeout", f"speech failed: espeak-ng did not finish within {timeout:.0f} s; {OFF_SUFFIX}")
        except OSError as e:
            raise SpeechError("backend-error", f"speech failed: espeak-ng could not run ({e}); {OFF_SUFFIX}")
        problem = _stderr_error(r.stderr)
        if r.returncode != 0 or problem:
            why = problem or r.stderr.strip() or f"exit code {r.returncode}"
            raise SpeechError("backend-error", f"speech failed: espeak-ng says '{why}'; {OFF_SUFFIX}")

    def speak(self, text: str) -> None:
        self._run(text, None)

    def save(self, text: str, wav_path: Path) -> WavInfo:
        self._run(text, wav_path)
        return check_wav(wav_path)


class Pyttsx3Voice:
    """pyttsx3 driving libespeak-ng in this process. Not the default; see the module docstring for why.

    Everything it does is checked afterwards (the WAV is reopened; `say` needs `aplay`, which pyttsx3
    calls without looking at the result), so its silent failures become `SpeechError`s.
    """

    backend = "pyttsx3"

    def __init__(self, voice: str = DEFAULT_VOICE, rate_wpm: int = DEFAULT_RATE_WPM, finish_timeout_s: float = 20.0):
        self.voice = voice
        self.rate_wpm = check_rate(rate_wpm)
        self.finish_timeout_s = finish_timeout_s
        self._engine = None

    def _get_engine(self):
        if self._engine is None:
            try:
                import pyttsx3
            except ImportError as e:
                raise SpeechUnavailable("not-installed", f"speech is off: pyttsx3 is not installed ({e}); {OFF_SUFFIX}")
            try:
                self._engine = pyttsx3.init("espeak")
            except Exception as e:  # libespeak-ng missing or failing to initialise
                raise SpeechUnavailable("backend-error", f"speech is off: pyttsx3 cannot start espeak-ng ({e}); "
                                                         f"{OFF_SUFFIX}")
        self._engine.setProperty("voice", self.voice)
        self._engine.setProperty("rate", self.rate_wpm)
        return self._engine

    def check(self) -> None:
        self._get_engine()

    def voices(self) -> list[str]:
        return sorted(v.id for v in self._get_engine().getProperty("voices"))

    def _forget_save_path(self, engine) -> None:
        # pyttsx3 2.99 keeps the last save_to_file path in the driver; without this a later say()
        # writes over that file instead of speaking. Private attribute: checked, never assumed.
        driver = getattr(getattr(engine, "proxy", None), "_driver", None)
        if driver is not None and hasattr(driver, "_save_file"):
            driver._save_file = None

    def speak(self, text: str) -> None:
        if shutil.which("aplay") is None:
            raise SpeechError("backend-error", f"speech failed: pyttsx3 plays sound with 'aplay', which is not "
                                               f"installed; {OFF_SUFFIX}")
        engine = self._get_engine()
        self._forget_save_path(engine)
        engine.say(text)
        engine.runAndWait()

    def save(self, text: str, wav_path: Path) -> WavInfo:
        engine = self._get_engine()
        wav_path = Path(wav_path)
        # Write to a fresh temp name first: an old file at wav_path must not pass for new audio.
        fd, tmp = tempfile.mkstemp(suffix=".wav", dir=wav_path.parent if wav_path.parent.is_dir() else None)
        os.close(fd)
        os.unlink(tmp)
        finished = threading.Event()
        token = engine.connect("finished-utterance", lambda name=None, completed=True: finished.set())
        try:
            engine.save_to_file(text, tmp)
            engine.runAndWait()
            # Seen once in ~10 pytest runs: runAndWait returned before the WAV existed and the audio
            # was later "played" instead. Wait for pyttsx3's own end-of-utterance notice (bounded).
            if not finished.wait(self.finish_timeout_s):
                raise SpeechError("timeout", f"speech failed: pyttsx3 did not finish the WAV within "
                                             f"{self.finish_timeout_s:.0f} s; {OFF_SUFFIX}")
            info = check_wav(Path(tmp))
            os.replace(tmp, wav_path)
        finally:
            engine.disconnect(token)
            self._forget_save_path(engine)
            if os.path.exists(tmp):
                os.unlink(tmp)
        return info
