"""Readers for the real sEMG recordings myovox trains, tests and replays on.

Every reader returns the same `Recording`, so replay, the burst evaluation and training never care
which amplifier or lab a file came from. Pure numpy/scipy: no LSL, no torch.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Where the project expects the shared real data (relative to the project root).
SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"

MYO_READINGS_LABELS = (
    "rest", "flexion", "extension", "radial deviation", "ulnar deviation",
    "pronation", "supination", "fist",
)
COTE_ALLARD_LABELS = (
    "neutral", "radial deviation", "wrist flexion", "ulnar deviation", "wrist extension",
    "hand close", "hand open",
)
FLEXEMG_LABELS = ("rest", "fist", "raise", "lower", "open")

# Rows 0-3 of flexemg's arraymap: one 4 x 4 block of the 64-electrode array (1-based channel numbers),
# read row by row so channel k of the block sits at grid position (k // 4, k % 4).
FLEXEMG_BLOCK_CHANNELS = (29, 30, 31, 32, 25, 26, 27, 28, 21, 22, 23, 24, 17, 18, 19, 20)


class RecordingError(ValueError):
    """A recording file that cannot be read; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Recording:
    """One continuous multi-channel recording with its labels.

    `signal` is (samples x channels) float32 in the unit named by `unit`. `labels` holds one class
    index per sample (-1 where unknown); `label_names[i]` names class i.
    """

    signal: np.ndarray
    rate_hz: float
    labels: np.ndarray
    label_names: tuple[str, ...]
    unit: str
    source: str
    dataset: str
    person: str = ""
    session: str = ""
    repetition: int = -1
    meta: dict = field(default_factory=dict)

    @property
    def channels(self) -> int:
        return int(self.signal.shape[1])

    @property
    def duration_s(self) -> float:
        return self.signal.shape[0] / self.rate_hz

    def cues(self) -> list[tuple[int, int]]:
        """(sample index, class) of every change of the label to a non-rest class."""
        lab = self.labels
        change = np.flatnonzero(np.diff(lab) != 0) + 1
        starts = [0, *change.tolist()] if lab.size else []
        return [(int(i), int(lab[i])) for i in starts if lab[i] > 0]


def _fail(path: Path, why: str) -> RecordingError:
    return RecordingError(f"{path}: {why}")


def read_myo_readings(path: str | Path, rate_hz: float = 200.0) -> Recording:
    """A myo_readings `.txt` file: 8 comma-separated int8 values and a label per line."""
    path = Path(path)
    try:
        arr = np.loadtxt(path, delimiter=",", dtype=np.int16, ndmin=2)
    except (OSError, ValueError) as exc:
        raise _fail(path, f"not a myo_readings text file ({exc})") from exc
    if arr.shape[1] != 9:
        raise _fail(path, f"expected 9 columns (8 EMG + label) per line, found {arr.shape[1]}")
    session_dir = path.parent.name
    person, _, session = session_dir.partition("-")
    return Recording(
        signal=arr[:, :8].astype(np.float32),
        rate_hz=rate_hz,
        labels=arr[:, 8].astype(np.int16),
        label_names=MYO_READINGS_LABELS,
        unit="counts",
        source=str(path),
        dataset="myo_readings",
        person=person,
        session=session,
    )


_CLASSE = re.compile(r"classe_(\d+)\.dat$")


def read_cote_allard(path: str | Path, rate_hz: float = 200.0) -> Recording:
    """A Côté-Allard `classe_<i>.dat`: int16 little-endian, 8 channels interleaved; one gesture held."""
    path = Path(path)
    m = _CLASSE.search(path.name)
    if not m:
        raise _fail(path, "expected a file named classe_<i>.dat")
    i = int(m.group(1))
    raw = np.fromfile(path, "<i2")
    if raw.size == 0 or raw.size % 8:
        raise _fail(path, f"{raw.size} int16 values is not a whole number of 8-channel samples")
    sig = raw.reshape(-1, 8).astype(np.float32)
    gesture = i % 7
    return Recording(
        signal=sig,
        rate_hz=rate_hz,
        labels=np.full(sig.shape[0], gesture, dtype=np.int16),
        label_names=COTE_ALLARD_LABELS,
        unit="counts",
        source=str(path),
        dataset="myo_cote_allard",
        person=path.parent.parent.name,
        session=path.parent.name,
        repetition=i // 7,
    )


def read_flexemg(path: str | Path, channels: tuple[int, ...] = FLEXEMG_BLOCK_CHANNELS) -> Recording:
    """A flexemg `.mat` trial, cut to a 4 x 4 block, DC removed per channel, in millivolts.

    Labels follow the published timeline: 5 s rest, the four gestures of `sequence` for 5 s each,
    then rest to the end.
    """
    import scipy.io  # local: only this reader needs it

    path = Path(path)
    try:
        m = scipy.io.loadmat(path, squeeze_me=True)
        raw = np.asarray(m["raw"])
        p = m["p"]
        field_ = lambda name: np.asarray(p[name]).item()  # noqa: E731  (0-d struct fields hold objects)
        lsb = float(field_("lsbmV"))
        seq = [int(s) for s in np.atleast_1d(field_("sequence"))]
        tgest = int(field_("timegest")) if "timegest" in p.dtype.names else 5000
    except (OSError, ValueError, KeyError, TypeError, NotImplementedError) as exc:
        raise _fail(path, f"not a flexemg .mat trial ({exc})") from exc
    if raw.ndim != 2 or raw.shape[1] < 64:
        raise _fail(path, f"'raw' should be samples x 96, found {raw.shape}")
    cols = [c - 1 for c in channels]
    sig = raw[:, cols].astype(np.float64)
    sig -= np.median(sig[: min(len(sig), 5000)], axis=0)  # the amplifier's DC offset, from the rest lead-in
    sig *= lsb
    labels = np.zeros(raw.shape[0], dtype=np.int16)
    start = 5000
    for g in seq:
        labels[start : start + tgest] = g
        start += tgest
    person, _, trial = path.stem.partition("-")
    return Recording(
        signal=sig.astype(np.float32),
        rate_hz=1000.0,
        labels=labels,
        label_names=FLEXEMG_LABELS,
        unit="mV",
        source=str(path),
        dataset="flexemg_64ch",
        person=person,
        session=path.parent.name.partition("-")[2],
        repetition=int(trial) if trial.isdigit() else -1,
        meta={"sequence": seq},
    )


def read_recording(path: str | Path) -> Recording:
    """Pick the reader by the file's form: `.txt` myo_readings, `.dat` Côté-Allard, `.mat` flexemg."""
    path = Path(path)
    if not path.is_file():
        raise RecordingError(f"{path}: no such recording file")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return read_myo_readings(path)
    if suffix == ".dat":
        return read_cote_allard(path)
    if suffix == ".mat":
        return read_flexemg(path)
    raise _fail(path, "unknown recording format (expected .txt, .dat or .mat)")


def shared_data_dir() -> Path | None:
    """The shared real-data folder ($MYOVOX_SHARED_DATA, else ../shared/data beside the checkout)."""
    root = Path(os.environ.get("MYOVOX_SHARED_DATA", SHARED_DATA))
    return root if root.is_dir() else None


# -- dataset listing (added for the gesture encoder, issue 6) ------------------------------------

#: PreTrainingDataset folders that hold EvaluationDataset/Female0's recordings byte for byte.
COTE_ALLARD_LEAKED = ("Female7", "Female8", "Female9")


def cote_allard_people(root: str | Path, group: str) -> list[str]:
    """People of `group` ("PreTrainingDataset" or "EvaluationDataset"), leaked copies left out."""
    folder = Path(root) / "myo_cote_allard" / group
    if not folder.is_dir():
        raise RecordingError(f"{folder}: no such Côté-Allard folder")
    people = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if group == "PreTrainingDataset":
        people = [p for p in people if p not in COTE_ALLARD_LEAKED]
    return people


def read_cote_allard_session(root: str | Path, group: str, person: str, session: str) -> list[Recording]:
    """The 28 files of one Côté-Allard session (7 gestures x 4 repetitions), ordered by file index."""
    folder = Path(root) / "myo_cote_allard" / group / person / session
    files = sorted(folder.glob("classe_*.dat"), key=lambda p: int(_CLASSE.search(p.name).group(1)))
    if not files:
        raise RecordingError(f"{folder}: no classe_<i>.dat files")
    return [read_cote_allard(f) for f in files]


def myo_readings_sessions(root: str | Path) -> dict[str, list[Path]]:
    """{"<person>-<session>": [files 0.txt..7.txt]} of the curated myo_readings sessions."""
    folder = Path(root) / "myo_readings" / "_readings_right_hand"
    if not folder.is_dir():
        raise RecordingError(f"{folder}: no such myo_readings folder")
    out = {}
    for d in sorted(p for p in folder.iterdir() if p.is_dir()):
        out[d.name] = sorted(d.glob("*.txt"), key=lambda p: int(p.stem) if p.stem.isdigit() else 99)
    return out


def flexemg_sessions(root: str | Path) -> dict[str, list[Path]]:
    """{"<person>-Session<n><Train|Test>": [trial .mat files]} of flexemg."""
    folder = Path(root) / "flexemg_64ch" / "data"
    if not folder.is_dir():
        raise RecordingError(f"{folder}: no such flexemg folder")
    return {
        d.name: sorted(f for f in d.glob("*.mat") if f.name != "arraymap.mat")
        for d in sorted(p for p in folder.iterdir() if p.is_dir())
    }
