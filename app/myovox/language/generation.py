"""What a text generator returns, and the protocol both backends (in-process GGUF, ward server) share."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence


@dataclass(frozen=True)
class Generation:
    text: str
    mean_logprob: float  # the model's own per-token log likelihood of `text` (0.0 when unknown)
    complete: bool  # False when cut short by the deadline or an error
    tokens: int = 0
    reason: str = ""  # why it stopped early or failed, for the status line


@dataclass(frozen=True)
class NextWords:
    words: list[tuple[str, float]] = field(default_factory=list)  # (word, log probability), best first
    complete: bool = True
    reason: str = ""


class TextGenerator(Protocol):
    name: str

    def generate(self, prompt: str, *, max_tokens: int, stop: Sequence[str] = ("\n",), temperature: float = 0.0,
                 initials: str | None = None, deadline: float | None = None, seed: int = 0) -> Generation:
        """One continuation. `initials`: every word must start with these letters, in order (abbreviation)."""

    def next_words(self, prompt: str, prefix: str = "", k: int = 5, deadline: float | None = None) -> NextWords:
        """The k likeliest next words after `prompt` that start with `prefix` (one forward pass)."""
