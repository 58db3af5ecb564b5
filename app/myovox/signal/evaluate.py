"""`myovox eval-bursts`: how well the burst detector finds cued movements in real recordings.

For every cued repetition (a change of the label from rest to a gesture) a burst counts as detecting
it when its onset falls between `early_s` before the cue and the end of the cued period. Reported per
gesture: the fraction detected and the median onset lag after the cue; per file set: extra bursts
within cued periods (a held gesture that splits in two would act twice) and false bursts in rest.
The rest threshold is taken from the start of each recording, as the streaming chain does.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.recordings import Recording, read_flexemg, read_myo_readings, shared_data_dir
from ..events import Burst
from ..profiles import DeviceProfile, find_profile
from .chain import detect_offline


@dataclass
class BurstReport:
    dataset: str
    profile: str
    reps: dict = field(default_factory=lambda: defaultdict(int))
    detected: dict = field(default_factory=lambda: defaultdict(int))
    lags: dict = field(default_factory=lambda: defaultdict(list))
    extra: int = 0
    rest_minutes: float = 0.0
    rest_false: int = 0
    rest_false_by_file: dict = field(default_factory=dict)
    cued_rest_minutes: float = 0.0  # rest stretches between cues inside gesture files
    cued_rest_false: int = 0
    transitions: int = 0  # gesture -> gesture changes with no rest between
    transition_bursts: int = 0

    def summary(self) -> dict:
        per = {}
        for g in sorted(self.reps):
            lags = self.lags[g]
            per[g] = {
                "reps": self.reps[g],
                "detected": self.detected[g] / self.reps[g],
                "median_lag_s": float(np.median(lags)) if lags else None,
            }
        total = sum(self.reps.values())
        det = sum(self.detected.values())
        all_lags = [x for v in self.lags.values() for x in v]
        return {
            "dataset": self.dataset,
            "profile": self.profile,
            "per_gesture": per,
            "reps": total,
            "detected": det / total if total else None,
            "median_lag_s": float(np.median(all_lags)) if all_lags else None,
            "extra_bursts_per_rep": self.extra / total if total else None,
            "rest_minutes": self.rest_minutes,
            "rest_false_bursts": self.rest_false,
            "rest_false_per_10min": 10 * self.rest_false / self.rest_minutes if self.rest_minutes else None,
            "rest_files_with_false_bursts": sum(1 for v in self.rest_false_by_file.values() if v),
            "rest_files": len(self.rest_false_by_file),
            "gesture_changes": self.transitions,
            "bursts_at_gesture_changes": self.transition_bursts,
            "between_cue_rest_minutes": self.cued_rest_minutes,
            "between_cue_false_per_10min": 10 * self.cued_rest_false / self.cued_rest_minutes if self.cued_rest_minutes else None,
        }


def score_recording(rec: Recording, profile: DeviceProfile, report: BurstReport, early_s: float = 0.5) -> None:
    """Add one recording's bursts to the report.

    A cue counts as a repetition only when it follows rest: a change from one held gesture straight
    into another (flexemg holds its four gestures back to back) is not an onset from rest, and one
    continuous burst across it is the right answer; such changes are counted apart. A burst whose
    onset lies in rest (not within `early_s` before a cue), after the rest capture, is false.
    """
    bursts = [e for e in detect_offline(rec.signal, profile) if isinstance(e, Burst)]
    onsets = np.array([b.onset_index for b in bursts], dtype=np.int64)
    rate = rec.rate_hz
    lab = rec.labels
    det = profile.detector
    capture_end = int((det.warmup_ms / 1000 + det.rest_seconds) * rate)
    early = int(early_s * rate)
    # where each labelled period starts and ends
    bounds = np.flatnonzero(np.diff(lab) != 0) + 1
    starts = np.concatenate([[0], bounds])
    stops = np.concatenate([bounds, [len(lab)]])
    assigned = np.zeros(len(onsets), dtype=bool)
    for start, stop in zip(starts, stops):
        gesture = int(lab[start])
        if gesture <= 0:
            continue
        inside = np.flatnonzero((onsets >= start - early) & (onsets < stop) & ~assigned)
        assigned[inside] = True
        from_rest = start == 0 or lab[start - 1] == 0
        if not from_rest:
            report.transitions += 1
            report.transition_bursts += inside.size
            continue
        name = rec.label_names[gesture]
        report.reps[name] += 1
        if inside.size:
            report.detected[name] += 1
            report.lags[name].append((onsets[inside[0]] - start) / rate)
            report.extra += inside.size - 1
    rest_samples = int(((lab == 0)[capture_end:]).sum())
    false = int((~assigned & (onsets >= capture_end)).sum())
    if (lab > 0).any():
        report.cued_rest_minutes += rest_samples / rate / 60
        report.cued_rest_false += false
    else:
        report.rest_minutes += rest_samples / rate / 60
        report.rest_false += false
        report.rest_false_by_file[rec.source] = false


def evaluate_myo_readings(root: Path, profile: DeviceProfile) -> BurstReport:
    report = BurstReport("myo_readings", profile.key)
    for f in sorted((root / "myo_readings" / "_readings_right_hand").glob("*/*.txt")):
        score_recording(read_myo_readings(f), profile, report)
    return report


def evaluate_flexemg(root: Path, profile: DeviceProfile) -> BurstReport:
    report = BurstReport("flexemg_64ch (4x4 block)", profile.key)
    for f in sorted((root / "flexemg_64ch" / "data").glob("*/*.mat")):
        score_recording(read_flexemg(f), profile, report)
    return report


def format_report(s: dict) -> str:
    lines = [f"## {s['dataset']} (profile {s['profile']})", "", "| gesture | reps | detected | median onset lag |",
             "|---|---:|---:|---:|"]
    for g, v in s["per_gesture"].items():
        lag = f"{1000 * v['median_lag_s']:.0f} ms" if v["median_lag_s"] is not None else "-"
        lines.append(f"| {g} | {v['reps']} | {100 * v['detected']:.1f} % | {lag} |")
    lines.append(f"| **all** | {s['reps']} | {100 * s['detected']:.1f} % | {1000 * s['median_lag_s']:.0f} ms |")
    lines.append("")
    lines.append(f"- extra bursts within a cued movement: {s['extra_bursts_per_rep']:.2f} per repetition")
    if s["rest_minutes"]:
        lines.append(f"- all-rest recordings: {s['rest_false_bursts']} false bursts in {s['rest_minutes']:.1f} min = "
                     f"{s['rest_false_per_10min']:.1f} per 10 min ({s['rest_files_with_false_bursts']} of {s['rest_files']} files have any)")
    if s["between_cue_rest_minutes"]:
        lines.append(f"- rest stretches of cued recordings (incl. relaxing after a gesture): "
                     f"{s['between_cue_false_per_10min']:.1f} bursts per 10 min over {s['between_cue_rest_minutes']:.1f} min")
    if s["gesture_changes"]:
        lines.append(f"- gesture-to-gesture changes with no rest between: {s['gesture_changes']}, "
                     f"{s['bursts_at_gesture_changes']} new bursts there (one continuous burst is expected)")
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--data", default=None, help="the shared data folder (default: ../shared/data)")
    parser.add_argument("--json", default=None, help="also write the figures as JSON here")


def run(args) -> int:
    root = Path(args.data) if args.data else shared_data_dir()
    if root is None or not root.is_dir():
        print("myovox eval-bursts: no shared data folder found (expected ../shared/data or --data)")
        return 2
    out = []
    for fn, prof in ((evaluate_myo_readings, "myo"), (evaluate_flexemg, "trigno_maize_grid")):
        s = fn(root, find_profile(prof)).summary()
        out.append(s)
        print(format_report(s))
        print()
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0
