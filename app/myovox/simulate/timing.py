"""How long one gesture takes a real person, measured from the real recordings (not assumed).

A gesture costs the burst's duration plus the detector's refractory period before the next burst can
count; the attempt's decision arrives one window and one step after the onset; and a person needs a reaction time
to respond to what the screen shows.

The recordings ask for 5 s holds, so their burst durations (median 5.2 s) are the protocol's, not a
switch user's. A speller gesture is a brief contraction: held until the onset-locked decision window
is full, then released; the burst ends when the detector sees the release, which takes as long as it
took in the recordings from the "relax" cue to the detected offset (the person's reaction to the cue
plus the envelope's decay: deliberately on the slow side). So a brief burst lasts the decision window
plus one measured release lag. The reaction time is the lag from the on-screen cue (the label change)
to the detected onset. All lags come from `detect_offline` over the myo_readings files with the Myo
profile; the recorded hold durations stay available (`burst_model="recorded"`) for comparison.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class GestureTiming:
    burst_s: tuple[float, ...]  # burst durations (onset to offset) the patient draws from
    reaction_s: tuple[float, ...]  # measured cue-to-onset lags
    refractory_s: float
    decision_s: float  # decision window: the verdict arrives this long after the onset
    source: str  # where the numbers came from, for the report

    def describe(self) -> str:
        b, r = np.asarray(self.burst_s), np.asarray(self.reaction_s)
        return (f"burst duration median {np.median(b):.2f} s (p5 {np.percentile(b, 5):.2f}, p95 {np.percentile(b, 95):.2f}, "
                f"n={b.size}); reaction median {np.median(r):.2f} s (p95 {np.percentile(r, 95):.2f}, n={r.size}); "
                f"refractory {self.refractory_s * 1000:.0f} ms; decision window {self.decision_s * 1000:.0f} ms; {self.source}")

    def with_burst(self, seconds: float) -> "GestureTiming":
        """The same timing with a fixed burst duration (a brief contraction instead of the recorded holds)."""
        return GestureTiming((float(seconds),), self.reaction_s, self.refractory_s, self.decision_s,
                             f"{self.source}; burst duration fixed at {seconds:.2f} s")


BURST_MODELS = ("brief", "recorded")


def measure_timing(shared: Path, profile_name: str = "myo", max_reaction_s: float = 2.0,
                   files: int | None = None, burst_model: str = "brief") -> GestureTiming:
    """Run the real burst detector over the myo_readings gesture files (k = 1..7 of every session).

    burst_model "brief": decision window + measured release lag (a switch user's contraction);
    "recorded": the recordings' own burst durations (the protocol's 5 s holds)."""
    if burst_model not in BURST_MODELS:
        raise ValueError(f"burst_model must be one of {BURST_MODELS}, not {burst_model!r}")
    from ..data.recordings import read_myo_readings
    from ..events import BurstEnd
    from ..profiles import find_profile
    from ..signal.chain import detect_offline

    profile = find_profile(profile_name)
    paths = sorted(p for p in (shared / "myo_readings" / "_readings_right_hand").glob("*/*.txt") if p.stem != "0")
    if files is not None:
        paths = paths[:files]
    if not paths:
        raise FileNotFoundError(f"no myo_readings gesture files under {shared}")
    durations: list[float] = []
    reactions: list[float] = []
    releases: list[float] = []
    for path in paths:
        rec = read_myo_readings(path, rate_hz=profile.rate_hz)
        ends = [e for e in detect_offline(rec.signal, profile) if isinstance(e, BurstEnd)]
        cues = np.array([i / rec.rate_hz for i, _ in rec.cues()])
        lab = rec.labels
        change = np.flatnonzero(np.diff(lab) != 0) + 1
        relax = np.array([i / rec.rate_hz for i in change if lab[i] == 0 and lab[i - 1] > 0])
        for e in ends:
            durations.append(e.duration_s)
            before = cues[cues <= e.onset_time]
            if before.size and e.onset_time - before[-1] <= max_reaction_s:
                reactions.append(e.onset_time - before[-1])
            after = relax[relax >= e.onset_time]  # the relax cue that ended this burst's gesture
            if after.size and 0.0 <= e.offset_time - after[0] <= max_reaction_s:
                releases.append(e.offset_time - after[0])
    if not durations or not reactions or not releases:
        raise ValueError(f"no cued bursts found in {len(paths)} myo_readings files")
    # The attempt's decision: a clear one as its second window ends (one window and one attempt step after the
    # onset; `myovox evaluate --protocols attempts` measured median 195-245 ms, p95 395-495 ms).
    decision_s = (profile.window_samples + profile.attempt_step_samples) / profile.rate_hz
    where = f"measured on {len(paths)} myo_readings files with profile {profile_name!r}"
    if burst_model == "brief":
        bursts = tuple(decision_s + r for r in releases)
        where += (f"; brief bursts = decision window + release lag (relax cue to detected offset, median "
                  f"{np.median(releases):.2f} s, n={len(releases)}); recorded holds median {np.median(durations):.2f} s, not used")
    else:
        bursts = tuple(durations)
        where += "; burst durations as recorded (the protocol's holds)"
    return GestureTiming(bursts, tuple(reactions), profile.detector.refractory_ms / 1000.0, decision_s, where)
