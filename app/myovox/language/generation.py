"""What a text generator returns, and the protocol both backends (in-process GGUF, ward server) share."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence


@dataclass(frozen=True)
class Generation:
    text: str
    mean_logprob: float  # the model's own per-token log likelihood of `text` (0.0 when unknown)
    complete: bool  # False when cut short by the deadline or an error
    tokens: int = 0
    reason: str = ""  # why it stopped early or failed, for the status line


class TextGenerator(Protocol):
    name: str

    def generate(self, prompt: str, *, max_tokens: int, stop: Sequence[str] = (), temperature: float = 0.0,
                 grammar: str | None = None, deadline: float | None = None, seed: int = 0) -> Generation: ...
