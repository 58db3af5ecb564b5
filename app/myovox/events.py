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


#: Appended to a decision's reason when its attempt began rest-like and was watched past its first span.
REST_LIKE_START = ", after a rest-like start"
#: Appended when its first span led with a gesture too unsure to act on, and it was watched past that span.
UNSURE_START = ", after an unsure start"
#: Appended when its first span led with a gesture the second opinion (`decode.second_opinion`) did not confirm.
UNCONFIRMED_START = ", after an unconfirmed start"
#: Part of the reason of a "no action" whose gesture was sure enough but not confirmed by the second opinion.
NOT_CONFIRMED = ", not confirmed"

#: The calibration label of "the patient is not moving": a decision for it never acts.
REST_LABEL = "rest"


@dataclass(frozen=True, eq=False)
class OnsetWindow:
    """One decision window of an attempt: `seq` 0 starts at the burst onset, each next one a step later.
    What the decoder classifies; the attempt's windows end with an `AttemptEnd`."""

    burst: Burst
    start_index: int
    start_time: float
    filtered: np.ndarray  # (window samples x channels), float32, causally filtered
    raw: np.ndarray  # the same samples as they came from the amplifier (after repair)
    rate_hz: float
    seq: int = 0  # position in the attempt: 0 = onset-locked
    end_time: float = 0.0  # stream time of the window's last sample: when it could first be decided


@dataclass(frozen=True)
class AttemptEnd:
    """No more windows come for this burst's attempt: it ended, or reached the attempt's maximum length."""

    burst: Burst
    windows: int  # how many windows the attempt held
    time: float  # stream time at which that became known
    reason: str  # "burst end" | "max length" | "recording end" (offline: the recording stopped inside the attempt)


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
    """The decoder's verdict on one attempt (or, for `decide`, one window). `label` None means "no action":
    the patient was not understood well enough to act, and doing nothing is the safe choice. A decision
    for rest is no action either."""

    label: str | None
    confidence: float
    time: float  # stream time of the burst onset the attempt began with
    scores: tuple[tuple[str, float], ...] = ()  # every calibrated label with its probability
    latency_s: float = 0.0  # stream time from the onset to the sample that made the decision possible
    windows: int = 1  # how many of the attempt's windows were seen
    reason: str = ""  # "decisive" | "burst end" | "max length" (+ NOT_CONFIRMED) (+ a *_START suffix) | "" (one window)
    top: str = ""  # the likeliest label even when below the rule (for the caregiver panel and the log)

    @property
    def is_action(self) -> bool:
        return self.label is not None and self.label != REST_LABEL

    @property
    def began_rest_like(self) -> bool:
        """Decided after its burst's first span looked like rest (watched longer: `decode.attempt`)."""
        return self.reason.endswith(REST_LIKE_START)

    @property
    def watched_longer(self) -> bool:
        """Decided after its first span, which looked like rest or was too unsure to act on (`decode.attempt`)."""
        return self.began_rest_like or self.reason.endswith((UNSURE_START, UNCONFIRMED_START))


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
