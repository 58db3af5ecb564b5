"""Small immutable events that stages hand forward. Times are on the stream (LSL) clock."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Threshold:
    """Per-channel rest statistics of the TKEO envelope: on = baseline + k x spread."""

    baseline: tuple[float, ...]
    spread: tuple[float, ...]
    k: float
    hysteresis: float
    samples: int  # how much rest it was estimated from
    steady: bool = True  # False: the two halves of the rest capture differ wildly (someone moved)


@dataclass(frozen=True)
class Burst:
    """A muscle burst confirmed after the minimum duration; the offset comes later as `BurstEnd`."""

    onset_index: int
    onset_time: float
    confirmed_index: int
    confirmed_time: float
    peak: float  # highest envelope so far, in multiples of the channel's rest spread above baseline
    channels: tuple[int, ...]  # channels that crossed the on-threshold


@dataclass(frozen=True)
class BurstEnd:
    onset_index: int
    onset_time: float
    offset_index: int
    offset_time: float
    peak: float
    channels: tuple[int, ...]

    @property
    def duration_s(self) -> float:
        return self.offset_time - self.onset_time


@dataclass(frozen=True, eq=False)
class OnsetWindow:
    """The decision window locked to a burst onset: what the decoder classifies."""

    burst: Burst
    start_index: int
    start_time: float
    filtered: np.ndarray  # (window samples x channels), float32, causally filtered
    raw: np.ndarray  # the same samples as they came from the amplifier (after repair)
    rate_hz: float


@dataclass(frozen=True)
class SignalFault:
    """Samples that were not EMG (NaN, Inf, beyond the amplifier's range) and were repaired."""

    first_index: int
    time: float
    nonfinite: int
    out_of_range: int
    channels: tuple[int, ...]


@dataclass(frozen=True)
class GestureDecision:
    """The decoder's verdict on one onset window. `label` None means "no action": the patient was
    not understood well enough to act, and doing nothing is the safe choice."""

    label: str | None
    confidence: float
    time: float  # stream time of the burst onset the window was locked to
    scores: tuple[tuple[str, float], ...] = ()  # every calibrated label with its probability

    @property
    def is_action(self) -> bool:
        return self.label is not None


@dataclass(frozen=True)
class StreamStatus:
    """What the acquisition is doing, for the caregiver panel and the monitor.

    state: "searching" | "connected" | "disconnected" | "wrong device" | "stopped".
    """

    state: str
    message: str
    local_time: float  # LSL local_clock() when the state was entered
    stream_name: str = ""
    source_id: str = ""
    rate_measured: float = 0.0
    dropouts: int = 0
    samples: int = 0


@dataclass(frozen=True)
class RateCheck:
    """The stream's measured sample rate (samples per second of its own timestamps, over `span_s`) against
    the rate it declares. `ok` False: every window would cover the wrong stretch of time."""

    declared_hz: float
    measured_hz: float
    span_s: float
    ok: bool
    time: float  # stream time at the end of the span
