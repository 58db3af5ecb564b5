"""A content-free session log: counts and timings, never the words, unless a clinician turns content on.

One JSON object per line in <logs>/session-<start>.jsonl. Times `t` are the caller's clock (the
stream clock, seconds), so replayed and live sessions log alike. Without `log_content`, a record holds
lengths and counts only; `summary()` gives the figures of the guide:

- words per minute = (characters spoken / 5) / minutes of composition, where a message's composition
  time runs from its first selection to the moment it is spoken;
- latency = decision time - burst onset time, per accepted gesture.

For the clinician's progression report (`myovox report`), also content-free: the rest noise per channel
when a rest is captured, each burst's per-channel amplitude (no label), and at the end one aggregate of
the acted and the no-action decisions (attempts, median confidence and amplitude); per gesture label only
with content on (labels are content: they can spell words).
"""
from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .files import UserDirs, private_dir


@dataclass(frozen=True)
class SessionSummary:
    gestures: int  # gesture decisions acted on
    rejected: int  # gestures below the confidence threshold (not acted on)
    selections: int
    undos: int
    messages_spoken: int
    characters_spoken: int
    composition_s: float
    words_per_minute: float | None  # None until something was spoken after a selection
    latency_median_s: float | None
    latency_p95_s: float | None


def _p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(0.95 * (len(s) - 1)))))]


def _column_medians(rows: list[list[float]]) -> list[float]:
    if not rows:
        return []
    return [statistics.median(col) for col in zip(*rows)]


class SessionLog:
    """Append-only; each record is flushed at once (a crash loses at most the record being written)."""

    def __init__(self, path: Path, log_content: bool = False, patient: str = "", profile: str = ""):
        self.path = Path(path)
        self.log_content = bool(log_content)
        private_dir(self.path.parent)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._file = os.fdopen(fd, "a", encoding="utf-8", buffering=1)
        self._gestures = self._rejected = self._selections = self._undos = 0
        self._spoken_messages = self._spoken_chars = 0
        self._composition_s = 0.0
        self._message_started: float | None = None
        self._latencies: list[float] = []
        self._burst_amp: dict[float, list[float]] = {}  # onset time -> per-channel amplitude
        self._decided: list[tuple[float, str | None, float]] = []  # (onset time, label, confidence)
        self._write({"event": "session-start", "wall": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "content_logged": self.log_content, "patient": patient, "profile": profile})

    @classmethod
    def open_default(cls, home: str | Path | None = None, log_content: bool = False, patient: str = "",
                     profile: str = "") -> "SessionLog":
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return cls(UserDirs.locate(home).logs / f"session-{stamp}-{os.getpid()}.jsonl", log_content, patient, profile)

    def rest(self, t: float, noise: list[float], samples: int) -> None:
        """A rest capture: per-channel noise (standard deviation, in the profile's units) over `samples`."""
        self._write({"event": "rest", "t": t, "noise": [round(float(x), 4) for x in noise], "samples": int(samples)})

    def burst(self, onset_t: float, duration_s: float, peak: float, channels, amplitude: list[float]) -> None:
        """A finished burst: per-channel amplitude (standard deviation over the burst, profile units), no label."""
        amp = [round(float(x), 4) for x in amplitude]
        self._burst_amp[round(onset_t, 4)] = amp
        self._write({"event": "burst", "t": onset_t, "duration_s": round(float(duration_s), 4),
                     "peak": round(float(peak), 2), "channels": list(channels), "amplitude": amp})

    def gesture(self, t: float, onset_t: float, confidence: float, accepted: bool, label: str | None = None) -> None:
        """A gesture decision. The gesture label is logged only with content on (it can spell words)."""
        rec = {"event": "gesture", "t": t, "latency_s": round(t - onset_t, 4),
               "confidence": round(float(confidence), 3), "accepted": bool(accepted)}
        if self.log_content and label is not None:
            rec["label"] = label
        self._decided.append((round(onset_t, 4), label if accepted else None, float(confidence)))
        if accepted:
            self._gestures += 1
            self._latencies.append(t - onset_t)
        else:
            self._rejected += 1
        self._write(rec)

    def selection(self, t: float, kind: str, inserted_chars: int, text: str | None = None) -> None:
        """A selection on the board; `kind` is structural ("letter", "word", "phrase", "space"), not content."""
        if self._message_started is None:
            self._message_started = t
        self._selections += 1
        rec = {"event": "selection", "t": t, "kind": kind, "chars": int(inserted_chars)}
        if self.log_content and text is not None:
            rec["text"] = text
        self._write(rec)

    def undo(self, t: float) -> None:
        self._undos += 1
        self._write({"event": "undo", "t": t})

    def spoken(self, t: float, text: str, speech_ok: bool) -> None:
        """A message was spoken (or only shown, if the voice failed). Logs its length and word count."""
        chars = len(text)
        if self._message_started is not None:
            self._composition_s += max(0.0, t - self._message_started)
            self._spoken_chars += chars
            self._spoken_messages += 1
        self._message_started = None
        rec = {"event": "spoken", "t": t, "chars": chars, "words": len(text.split()), "speech_ok": bool(speech_ok)}
        if self.log_content:
            rec["text"] = text
        self._write(rec)

    def note(self, t: float, what: str, **counts: float) -> None:
        """A structural event (stream lost, profile switched) with numbers only; `what` must not be content."""
        rec = {"event": what, "t": t}
        rec.update({k: v for k, v in counts.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
        self._write(rec)

    def summary(self) -> SessionSummary:
        minutes = self._composition_s / 60.0
        wpm = (self._spoken_chars / 5.0) / minutes if minutes > 0 else None
        lat = self._latencies
        return SessionSummary(self._gestures, self._rejected, self._selections, self._undos, self._spoken_messages,
                              self._spoken_chars, self._composition_s, wpm,
                              statistics.median(lat) if lat else None, _p95(lat) if lat else None)

    def gesture_summary(self) -> dict:
        """Per label (with content on; else "acted" for all labels together) and "no action": attempts,
        median confidence, median per-channel burst amplitude."""
        out: dict = {}
        for onset, label, conf in self._decided:
            key = "no action" if label is None else (label if self.log_content else "acted")
            g = out.setdefault(key, {"attempts": 0, "conf": [], "amp": []})
            g["attempts"] += 1
            g["conf"].append(conf)
            if onset in self._burst_amp:
                g["amp"].append(self._burst_amp[onset])
        return {k: {"attempts": v["attempts"], "confidence_median": round(statistics.median(v["conf"]), 3),
                    "amplitude_median": [round(float(x), 4) for x in _column_medians(v["amp"])]}
                for k, v in out.items()}

    def close(self) -> None:
        if not self._file.closed:
            self._write({"event": "gesture-summary", "gestures": self.gesture_summary()})
            s = self.summary()
            self._write({"event": "session-end", **{k: v for k, v in s.__dict__.items()}})
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _write(self, rec: dict) -> None:
        self._file.write(json.dumps(rec, ensure_ascii=False) + "\n")
