"""Phrase memory: starter phrases plus everything the patient has said, ranked by fit, frequency, recency.

Retrieval comes first because a remembered phrase is instant, already proven to be the patient's own
words, and cannot be a hallucination. Recency is counted in utterances (the order phrases were
learned), not wall-clock time, so ranking is deterministic and the same in replay and at the bedside.
Persistence is a small JSON file written atomically; a corrupt file is set aside, never fatal. Pure stdlib.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .api import Candidate
from .text import abbreviation_readings, normalize, words

FIT_WEIGHT = 1.0
FREQUENCY_WEIGHT = 0.15
RECENCY_WEIGHT = 0.2
RECENCY_SCALE = 50.0  # utterances after which a phrase's recency bonus has fallen to 1/e
LENGTH_PENALTY = 0.01
STARTER_PHRASES = Path(__file__).with_name("data") / "starter_phrases.txt"


@dataclass
class PhraseEntry:
    text: str
    count: int = 0  # times the patient said it (0 = starter phrase never used)
    last_said: int = -1  # utterance number when last said (-1 = never)
    starter: bool = False


def _stem(w: str) -> str:
    """Crude stem so 'hurts' finds 'hurt' and 'blankets' finds 'blanket'."""
    return w[:5] if len(w) > 5 else w.rstrip("s") if len(w) > 3 else w


def load_starter_phrases(path: Path = STARTER_PHRASES) -> list[str]:
    from .text import read_phrase_file

    return read_phrase_file(path)


class PhraseMemory:
    """In-memory phrase index; `path` (optional) is where the patient's own phrases persist."""

    def __init__(self, starter: Iterable[str] = (), path: str | os.PathLike | None = None):
        self.entries: dict[str, PhraseEntry] = {}
        self.utterances = 0
        self.path = Path(path) if path else None
        self.problem: str | None = None  # why learned phrases could not be loaded, if so
        self._readings: dict[str, set[str]] = {}  # phrase -> its abbreviation readings (computed once)
        for phrase in starter:
            key = normalize(phrase)
            if key and key not in self.entries:
                self.entries[key] = PhraseEntry(phrase.strip(), starter=True)
        if self.path:
            self._load()

    # ---- learning and persistence ----------------------------------------------------------
    def learn(self, phrase: str) -> None:
        """The patient said `phrase`: count it, mark it recent, persist."""
        key = normalize(phrase)
        if not key:
            return
        self.utterances += 1
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = PhraseEntry(phrase.strip())
        entry.count += 1
        entry.last_said = self.utterances
        if self.path:
            self._save()

    def learned_phrases(self) -> list[str]:
        return [e.text for e in self.entries.values() if e.count > 0]

    def _load(self) -> None:
        if not self.path or not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.utterances = int(data.get("utterances", 0))
            for item in data.get("phrases", []):
                text = str(item["text"])
                key = normalize(text)
                if not key:
                    continue
                entry = self.entries.get(key) or PhraseEntry(text)
                entry.count = int(item.get("count", 1))
                entry.last_said = int(item.get("last_said", -1))
                self.entries[key] = entry
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            aside = self.path.with_suffix(self.path.suffix + ".corrupt")
            try:
                os.replace(self.path, aside)
            except OSError:
                aside = self.path
            self.problem = f"phrase memory file {self.path} could not be read ({exc}); kept aside as {aside}, starting fresh"

    def _save(self) -> None:
        assert self.path is not None
        data = {
            "version": 1,
            "utterances": self.utterances,
            "phrases": [
                {"text": e.text, "count": e.count, "last_said": e.last_said}
                for e in self.entries.values() if e.count > 0
            ],
        }
        from ..session.files import atomic_write_bytes  # noqa: PLC0415 (0600 file in a 0700 folder, fsync'd)

        atomic_write_bytes(self.path, json.dumps(data, ensure_ascii=False, indent=0).encode("utf-8"))

    # ---- ranking --------------------------------------------------------------------------
    def _use_bonus(self, e: PhraseEntry) -> float:
        freq = FREQUENCY_WEIGHT * math.log1p(e.count)
        rec = RECENCY_WEIGHT * math.exp(-(self.utterances - e.last_said) / RECENCY_SCALE) if e.last_said >= 0 else 0.0
        return freq + rec - LENGTH_PENALTY * len(words(e.text))

    def _ranked(self, fits: Iterable[tuple[float, PhraseEntry]], n: int) -> list[Candidate]:
        scored = [(FIT_WEIGHT * fit + self._use_bonus(e), e.text) for fit, e in fits if fit > 0]
        scored.sort(key=lambda t: -t[0])
        return [Candidate(text, score, "memory") for score, text in scored[:n]]

    def search_labels(self, labels: Sequence[str], n: int = 5) -> list[Candidate]:
        """Phrases containing the label words; fit = share of labels found (stem match)."""
        wanted = [_stem(w) for lab in labels for w in words(lab)]
        if not wanted:
            return []

        def fit(e: PhraseEntry) -> float:
            have = {_stem(w) for w in words(e.text)}
            return sum(1 for w in wanted if w in have) / len(wanted)

        return self._ranked(((fit(e), e) for e in self.entries.values()), n)

    def search_abbreviation(self, letters: str, n: int = 5) -> list[Candidate]:
        """Phrases whose initials equal `letters` (fit 1) or start with them (fit 0.5: still typing), in any
        reading of their contractions ("I am cold" answers "iac", "ic" and "imc")."""
        q = "".join(ch for ch in letters.lower() if ch.isalnum())
        if not q:
            return []

        def fit(e: PhraseEntry) -> float:
            readings = self._readings.get(e.text)
            if readings is None:
                readings = self._readings[e.text] = abbreviation_readings(e.text)
            return 1.0 if q in readings else 0.5 if any(a.startswith(q) for a in readings) else 0.0

        return self._ranked(((fit(e), e) for e in self.entries.values()), n)

    def search_prefix(self, text: str, n: int = 5) -> list[Candidate]:
        """Whole phrases that continue what has been typed so far (word-prefix match)."""
        typed = normalize(text)
        if not typed:
            return []
        return self._ranked(((1.0 if normalize(e.text).startswith(typed) and normalize(e.text) != typed else 0.0, e)
                             for e in self.entries.values()), n)
