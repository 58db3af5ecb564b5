"""Text to speech in a worker thread; failures come back as events that keep the text."""
from .events import SavedToFile, SpeechFailed, SpeechStatus, Spoken
from .voices import (DEFAULT_RATE_WPM, DEFAULT_VOICE, RATE_BOUNDS_WPM, EspeakNgProcessVoice, Pyttsx3Voice,
                     SpeechError, SpeechUnavailable, check_wav)
from .worker import SpeechEvent, SpeechWorker

__all__ = ["SavedToFile", "SpeechFailed", "SpeechStatus", "Spoken", "SpeechEvent", "SpeechWorker",
           "EspeakNgProcessVoice", "Pyttsx3Voice", "SpeechError", "SpeechUnavailable", "check_wav",
           "DEFAULT_RATE_WPM", "DEFAULT_VOICE", "RATE_BOUNDS_WPM"]
