"""What goes into the speller and what comes out of it: small immutable events, stream-clock times.

In: `GestureDecision` (from the decoder), `Tick` (the clock, for automatic scanning), `SuggestionsReady`
(the language layer's answer to a `RequestSuggestions`). Out: `Selected` (a cell was activated),
`MessageChanged`, `RequestSuggestions`, `Speak` (only ever after the patient selected SPEAK) and
`CallForHelp`. The machine never calls the language layer or a speaker itself, so a slow LLM can never
stall it and a simulator drives it exactly as the app does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..events import GestureDecision
from ..language.api import Candidate


@dataclass(frozen=True)
class Tick:
    """Time passes (stream clock). Drives the highlight in automatic scanning; ignored otherwise."""

    time: float


@dataclass(frozen=True)
class SuggestionsReady:
    """The language layer's answer to the request with `request_id`; stale answers are ignored.

    `letters` (a "words" answer may carry it): the next characters of the message, most likely first
    (" " is space); direct navigation walks the letters in this order. Empty: the board's own order."""

    request_id: int
    candidates: tuple[Candidate, ...]
    time: float = 0.0
    letters: str = ""


@dataclass(frozen=True)
class Selected:
    """A cell was activated (what the patient chose, for the UI, the log and the simulator)."""

    kind: str
    value: str
    time: float


@dataclass(frozen=True)
class MessageChanged:
    message: str
    labels: tuple[str, ...]
    time: float


@dataclass(frozen=True)
class RequestSuggestions:
    """Ask the language layer. `task` is "phrases" (tile labels), "abbreviation" or "words"."""

    request_id: int
    task: str
    query: tuple[str, ...] | str
    context: tuple[str, ...]
    time: float


@dataclass(frozen=True)
class Speak:
    """Say this aloud. Emitted only when the patient selected SPEAK."""

    text: str
    time: float


@dataclass(frozen=True)
class CallForHelp:
    """Alert the caregiver. Reachable in at most two selections from every state."""

    time: float


Output = Selected | MessageChanged | RequestSuggestions | Speak | CallForHelp


def only(outputs: Sequence[object], kind: type) -> list:
    """The outputs of one kind (e.g. every `Speak`)."""
    return [o for o in outputs if isinstance(o, kind)]


class TakesEvents:
    """How every speller takes its input: a `Tick`, a `GestureDecision` or a `SuggestionsReady` goes to the
    speller's own `_tick(time)`, `_decision(d)` or `_suggestions(ev)`, so the session and the simulator drive
    every mode the same way."""

    def handle(self, event) -> list:
        """Apply one event; returns what it caused (possibly nothing)."""
        if isinstance(event, Tick):
            return self._tick(event.time)
        if isinstance(event, GestureDecision):
            return self._decision(event)
        if isinstance(event, SuggestionsReady):
            return self._suggestions(event)
        raise TypeError(f"the speller does not handle {type(event).__name__}")
