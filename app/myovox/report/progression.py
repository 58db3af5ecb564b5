"""A patient's progression, from the files myovox already keeps: the figures, and the words that sum them up.

Sources (no network, no content):
- calibrations: `<data>/calibrations/<patient>/<profile>.json` and the dated copies in `history/`;
  each holds per-gesture cross-validated accuracy, the confusion matrix (attempts; last column = no
  action) and the mean log RMS per channel of every gesture and of rest (`channel_patterns`);
- session logs: `<logs>/session-*.jsonl` whose `session-start` names the patient; they hold rest noise
  and per-burst amplitude per channel, decisions (acted or not), selections, undos, what was spoken
  (lengths) and a per-gesture aggregate at the end.

Everything here is pure (json, numpy, the standard library); `render.py` draws it.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

REST = "rest"
DEFAULT_PATIENT = "patient"  # the calibration folder of a session with no patient id (bedside.calibration)
WEAKENED = 0.20  # a gesture's amplitude down by this much (first -> last calibration) is worth a sentence
UNRELIABLE = 0.90  # the decoder's own "reliable" bar (decode.api.DEFAULT_RELIABLE)
NOISIER = 0.50  # rest noise up by this much: electrodes or skin, not the muscle


@dataclass(frozen=True)
class CalibrationPoint:
    created: datetime
    profile: str
    labels: tuple[str, ...]
    accuracy: dict  # label -> cross-validated accuracy
    amplitude: dict  # label (rest included) -> per-channel RMS (the encoder's prepared units)
    outcomes: dict  # label -> (correct, no action, wrong) fractions of its held-out attempts
    false_activation: float | None  # share of held-out rest attempts decided as a gesture
    reliable: tuple[str, ...]

    @property
    def gestures(self) -> tuple[str, ...]:
        return tuple(label for label in self.labels if label != REST)

    @property
    def rest_noise(self) -> list[float] | None:
        return self.amplitude.get(REST)


@dataclass(frozen=True)
class SessionPoint:
    started: datetime
    profile: str
    minutes: float  # first to last record, on the stream clock
    attempts: int  # bursts that reached the decoder (one decision each)
    acted: int
    no_action: int
    undone: int  # undos: the patient (or caregiver) took an action back
    selections: int
    characters_spoken: int
    words_per_minute: float | None
    latency_median_s: float | None
    rest_noise: list | None  # per channel, profile units (median over the session's rest captures)
    burst_amplitude: list | None  # per channel, profile units (median over its bursts)
    bursts: int
    gestures: dict = field(default_factory=dict)  # label -> {"attempts", "confidence_median", "amplitude_median"}

    @property
    def attempts_per_minute(self) -> float | None:
        return self.attempts / self.minutes if self.minutes > 0 else None

    @property
    def correct(self) -> int:
        """Acted on and not taken back (the live stand-in for "right": the app cannot know the intent)."""
        return max(0, self.acted - self.undone)


def _parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(str(text))
    return t.replace(tzinfo=None) if t.tzinfo is None else t.astimezone().replace(tzinfo=None)


def calibration_point(d: dict) -> CalibrationPoint:
    labels = tuple(d["labels"])
    conf = np.asarray(d.get("confusion") or np.zeros((len(labels), len(labels) + 1)), dtype=float)
    outcomes, false_activation = {}, None
    for i, label in enumerate(labels):
        row = conf[i] if i < len(conf) else np.zeros(len(labels) + 1)
        total = row.sum()
        if total <= 0:
            continue
        correct, no_action = row[i] / total, row[-1] / total
        outcomes[label] = (float(correct), float(no_action), float(1.0 - correct - no_action))
        if label == REST:
            gesture_cols = [j for j, other in enumerate(labels) if other != REST]
            false_activation = float(row[gesture_cols].sum() / total)
    patterns = d.get("channel_patterns") or {}
    return CalibrationPoint(
        created=_parse_time(d["created"]), profile=str(d.get("profile", "")), labels=labels,
        accuracy={k: float(v) for k, v in (d.get("per_gesture_accuracy") or {}).items()},
        amplitude={k: [math.exp(x) for x in v] for k, v in patterns.items()},
        outcomes=outcomes, false_activation=false_activation, reliable=tuple(d.get("reliable") or ()),
    )


def load_calibrations(data_dir: Path, patient: str) -> list[CalibrationPoint]:
    """Every saved calibration of the patient, oldest first (a current file and its dated copy count once)."""
    folder = Path(data_dir) / "calibrations" / (patient or DEFAULT_PATIENT)
    seen, points = set(), []
    for path in sorted(folder.glob("*.json")) + sorted((folder / "history").glob("*.json")):
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            key = (d["created"], d.get("profile"), d.get("model_sha256"))
            if key in seen:
                continue
            seen.add(key)
            points.append(calibration_point(d))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an unreadable file is left out, never fatal; the report lists what it used
    return sorted(points, key=lambda p: p.created)


def _median_rows(rows: list[list[float]]) -> list[float] | None:
    rows = [r for r in rows if r]
    if not rows or len({len(r) for r in rows}) != 1:
        return None
    return np.median(np.asarray(rows, dtype=float), axis=0).tolist()


def session_point(records: list[dict]) -> SessionPoint | None:
    """One session log's records -> its figures; None for a log with no session-start."""
    start = next((r for r in records if r.get("event") == "session-start"), None)
    if start is None:
        return None
    times = [r["t"] for r in records if isinstance(r.get("t"), (int, float))]
    gestures = [r for r in records if r.get("event") == "gesture"]
    end = next((r for r in records if r.get("event") == "session-end"), {})
    summary = next((r for r in records if r.get("event") == "gesture-summary"), {})
    bursts = [r for r in records if r.get("event") == "burst"]
    acted = sum(1 for r in gestures if r.get("accepted"))
    latencies = sorted(r["latency_s"] for r in gestures if r.get("accepted") and "latency_s" in r)
    return SessionPoint(
        started=_parse_time(start["wall"]), profile=str(start.get("profile", "")),
        minutes=(max(times) - min(times)) / 60.0 if len(times) > 1 else 0.0,
        attempts=len(gestures), acted=acted, no_action=len(gestures) - acted,
        undone=sum(1 for r in records if r.get("event") == "undo"),
        selections=sum(1 for r in records if r.get("event") == "selection"),
        characters_spoken=sum(int(r.get("chars", 0)) for r in records if r.get("event") == "spoken"),
        words_per_minute=end.get("words_per_minute"),
        latency_median_s=latencies[len(latencies) // 2] if latencies else None,
        rest_noise=_median_rows([r.get("noise") for r in records if r.get("event") == "rest"]),
        burst_amplitude=_median_rows([r.get("amplitude") for r in bursts]),
        bursts=len(bursts), gestures=dict(summary.get("gestures") or {}),
    )


def read_jsonl(path: Path) -> list[dict]:
    out = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a record cut by a crash
        if isinstance(rec, dict):
            out.append(rec)
    return out


def load_sessions(logs_dir: Path, patient: str) -> list[SessionPoint]:
    points = []
    for path in sorted(Path(logs_dir).glob("session-*.jsonl")):
        try:
            records = read_jsonl(path)
        except OSError:
            continue
        start = next((r for r in records if r.get("event") == "session-start"), None)
        if start is None or (start.get("patient") or DEFAULT_PATIENT) != (patient or DEFAULT_PATIENT):
            continue
        p = session_point(records)
        if p is not None and (p.attempts or p.bursts or p.rest_noise):
            points.append(p)
    return sorted(points, key=lambda p: p.started)


# -- words ---------------------------------------------------------------------------------------
def span_words(first: datetime, last: datetime) -> str:
    s = max(0.0, (last - first).total_seconds())
    for unit, size in (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if s >= size:
            n = round(s / size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "less than a minute"


def _mean(xs) -> float:
    return float(np.mean(xs)) if xs else float("nan")


def roles_of(point: CalibrationPoint) -> dict[str, str]:
    """The roles the speller gave this calibration's reliable gestures (the same rule the app applies)."""
    from ..bedside.calibration import recommend

    rec = recommend(point.labels, point.reliable)
    return dict(rec[1]) if rec else {}


def summary(cals: list[CalibrationPoint], sessions: list[SessionPoint]) -> list[str]:
    """Plain sentences for the clinician, most important first."""
    lines: list[str] = []
    if not cals and not sessions:
        return ["No calibration and no session of this patient were found."]
    if len(cals) >= 2:
        first, last = cals[0], cals[-1]
        span = span_words(first.created, last.created)
        roles = roles_of(first)
        for g in first.gestures:
            if g not in last.amplitude or g not in first.amplitude:
                continue
            change = _mean(last.amplitude[g]) / _mean(first.amplitude[g]) - 1.0
            role = roles.get(g)
            if change <= -WEAKENED:
                advice = f"; consider re-assigning '{role}'" if role else ""
                lines.append(f"{g} weakened {100 * -change:.0f} % over {span}{advice}.")
            elif change >= WEAKENED:
                lines.append(f"{g} is {100 * change:.0f} % stronger than {span} ago.")
            else:
                lines.append(f"{g} is steady ({100 * change:+.0f} % over {span}).")
        for g in last.gestures:
            acc = last.accuracy.get(g)
            if acc is not None and acc < UNRELIABLE:
                role = roles_of(first).get(g)
                what = f" (it was '{role}')" if role else ""
                lines.append(f"{g} is decoded reliably only {100 * acc:.0f} % of the time at the last calibration{what}: "
                             f"below the {100 * UNRELIABLE:.0f} % the speller needs.")
        if first.rest_noise and last.rest_noise:
            change = _mean(last.rest_noise) / _mean(first.rest_noise) - 1.0
            if change >= NOISIER:
                lines.append(f"Rest noise rose {100 * change:.0f} %: check electrode contact and skin before blaming the muscle.")
    elif cals:
        c = cals[-1]
        lines.append(f"One calibration ({c.created:%Y-%m-%d}): "
                     + ", ".join(f"{g} {100 * c.accuracy.get(g, 0):.0f} %" for g in c.gestures)
                     + "; a trend needs a second one.")
    if len(sessions) >= 2:
        a, b = sessions[0], sessions[-1]
        span = span_words(a.started, b.started)
        amp_a, amp_b = a.burst_amplitude, b.burst_amplitude
        if amp_a and amp_b:
            change = _mean(amp_b) / _mean(amp_a) - 1.0
            lines.append(f"Burst amplitude in use {'fell' if change < 0 else 'rose'} {100 * abs(change):.0f} % "
                         f"over {span} of sessions ({len(sessions)} sessions).")
        share = [s.no_action / s.attempts for s in (a, b) if s.attempts]
        if len(share) == 2 and share[1] - share[0] >= 0.15:
            lines.append(f"No-action decisions went from {100 * share[0]:.0f} % to {100 * share[1]:.0f} % of attempts: "
                         f"the patient is understood less often.")
        wpm = [s.words_per_minute for s in (a, b)]
        if all(w is not None for w in wpm):
            lines.append(f"Words per minute: {wpm[0]:.1f} then {wpm[1]:.1f}.")
    if sessions:
        total_undo = sum(s.undone for s in sessions)
        total_acted = sum(s.acted for s in sessions)
        if total_acted:
            lines.append(f"{total_undo} of {total_acted} actions were taken back (undo) across the sessions.")
    return lines
