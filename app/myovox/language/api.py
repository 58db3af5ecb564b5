"""What the language layer promises the speller and the simulator. Pure: no llama import here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence


@dataclass(frozen=True)
class Candidate:
    """One suggestion. Only a suggestion: nothing is spoken until the patient selects it."""

    text: str
    score: float  # higher is better; comparable within one answer
    source: str  # "memory" (retrieval), "llm", "ngram", "typed" (the patient's own letters)


class Suggester(Protocol):
    def phrases_from_labels(
        self, labels: Sequence[str], context: Sequence[str] = (), n: int = 5, deadline_s: float | None = None
    ) -> list[Candidate]:
        """Tile labels or keywords (e.g. ["water", "cold"]) -> short first-person phrases."""

    def expand_abbreviation(
        self, abbreviation: str, context: Sequence[str] = (), n: int = 5, deadline_s: float | None = None
    ) -> list[Candidate]:
        """First letters of words (e.g. "iwsw") plus recent conversation -> phrases."""

    def predict_words(self, text: str, n: int = 5, deadline_s: float | None = None,
                      context: Sequence[str] = ()) -> list[Candidate]:
        """Completions of the partial last word of `text`, or next words when it ends in a space
        (`context`: the conversation so far, as for the other tasks)."""

    def learn(self, phrase: str) -> None:
        """The patient said this: remember it (locally) for retrieval."""


def next_letters(suggester: object, text: str, candidates: Sequence[Candidate] = ()) -> str:
    """The suggester's next characters of `text`, most likely first, for the words other than the
    `candidates` just offered for it, if it offers them (an optional `next_letters(text, exclude)`,
    as `LanguageSuggester` does); "" otherwise."""
    fn = getattr(suggester, "next_letters", None)
    if not callable(fn):
        return ""
    return str(fn(text, exclude=tuple(c.text.lower() for c in candidates if " " not in c.text.strip())))
