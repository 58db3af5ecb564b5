"""Windows for training and evaluation, cut from the shared recordings with the decode stage's own helpers.

No torch here: the evaluation reuses these, and they must run where torch is not installed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.recordings import Recording, cote_allard_people, read_cote_allard_session
from ..decode.features import sliding_windows


@dataclass(frozen=True)
class WindowSet:
    """Raw windows (n x samples x channels) with the label, person, session and repetition of each."""

    windows: np.ndarray
    labels: np.ndarray
    person: np.ndarray
    session: np.ndarray
    repetition: np.ndarray
    recording: np.ndarray  # index of the source file: majority votes never mix files

    def select(self, mask: np.ndarray) -> "WindowSet":
        return WindowSet(*(getattr(self, f)[mask] for f in ("windows", "labels", "person", "session", "repetition", "recording")))

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def windows_from_recordings(recs: list[Recording], length: int, step: int, first_recording: int = 0) -> WindowSet:
    """Cut every recording on its own; a window takes the label of its last sample (what a causal decoder sees)."""
    ws, ys, ps, ss, rs, ids = [], [], [], [], [], []
    for i, r in enumerate(recs):
        w = sliding_windows(r.signal, length, step)
        if not len(w):
            continue
        ends = np.arange(len(w)) * step + length - 1
        ws.append(np.ascontiguousarray(w, dtype=np.float32))
        ys.append(r.labels[ends].astype(np.int64))
        ps.append(np.full(len(w), r.person, dtype=object))
        ss.append(np.full(len(w), r.session, dtype=object))
        rs.append(np.full(len(w), r.repetition, dtype=np.int64))
        ids.append(np.full(len(w), first_recording + i, dtype=np.int64))
    if not ws:
        ch = recs[0].channels if recs else 0
        return WindowSet(np.empty((0, length, ch), np.float32), *(np.empty(0, t) for t in (np.int64, object, object, np.int64, np.int64)))
    return WindowSet(*(np.concatenate(a) for a in (ws, ys, ps, ss, rs, ids)))


def cote_allard_windows(
    root: str | Path, group: str, people: list[str] | None, sessions: tuple[str, ...], length: int, step: int
) -> WindowSet:
    """Windows of the given Côté-Allard people and sessions (pre-training: leaked copies already left out)."""
    people = cote_allard_people(root, group) if people is None else people
    recs = []
    for p in people:
        for s in sessions:
            recs.extend(read_cote_allard_session(root, group, p, s))
    return windows_from_recordings(recs, length, step)
