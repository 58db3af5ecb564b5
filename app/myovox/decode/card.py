"""The model card: what an encoder expects (profile, rate, channels, window, normalisation) and how it was made.

The runtime trusts nothing it cannot check against the card: the ONNX file's sha256, the stream's
rate and channel count, the window length. Pure stdlib/numpy, so the card can be read and checked
without onnxruntime.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy import signal as sps

from ..profiles import FilterSettings
from ..signal.filters import design_emg_sos
from .features import rich_features, window_operator
from .finetune import FineTuning

CARD_SCHEMA = "myovox.model_card/1"


#: The blocks a calibration head can be fitted on, named in a card's optional "head_inputs".
HEAD_INPUTS = ("embedding", "hudgins", "rich", "spatial")


class ModelCardError(ValueError):
    """A model card or model file that cannot be used; the message says which file and what is wrong."""


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class ModelCard:
    path: Path  # the card file itself
    name: str
    onnx_path: Path
    sha256: str
    profile: str
    rate_hz: float
    channels: int
    layout: str
    window_samples: int
    filter: FilterSettings
    window_scale: np.ndarray  # (channels,) divide the prepared window by this
    feature_mean: np.ndarray  # (features,)
    feature_std: np.ndarray
    labels: tuple[str, ...]  # the pre-training classes (the head learns the caregiver's own)
    embedding_dim: int
    raw: dict  # everything else (training data, licences, metrics, why)
    #: what the calibration head classifies, in order (see GestureDecoder._head_inputs)
    head_inputs: tuple[str, ...] = ("embedding", "hudgins", "rich")
    #: if set, calibration refits the encoder's top layers on the patient's windows (decode.finetune)
    fine_tune: FineTuning | None = None

    @property
    def window_ms(self) -> float:
        return 1000.0 * self.window_samples / self.rate_hz

    def sos(self) -> np.ndarray:
        return self._filter_design[0]

    @cached_property
    def _filter_design(self) -> tuple[np.ndarray, np.ndarray]:
        """(sos, steady-state zi) designed once: designing a Butterworth costs ms, a window must not."""
        sos = design_emg_sos(self.filter, self.rate_hz)
        return sos, sps.sosfilt_zi(sos)

    def check_window(self, window: np.ndarray, rate_hz: float | None = None) -> None:
        """Refuse a window that is not what the model was trained on, saying what differs."""
        w = np.asarray(window)
        if rate_hz is not None and abs(float(rate_hz) - self.rate_hz) > 0.05 * self.rate_hz:
            raise ModelCardError(
                f"model {self.name!r} was trained at {self.rate_hz:g} Hz; this signal is {float(rate_hz):g} Hz"
            )
        shape = w.shape[-2:] if w.ndim >= 2 else w.shape
        if w.ndim not in (2, 3) or shape != (self.window_samples, self.channels):
            raise ModelCardError(
                f"model {self.name!r} takes windows of {self.window_samples} samples x {self.channels} channels "
                f"({self.window_ms:g} ms at {self.rate_hz:g} Hz); got an array of shape {w.shape}"
            )
        if not np.all(np.isfinite(w)):
            raise ModelCardError("window holds NaN or infinite samples; repair the stream before deciding")

    def prepare(self, raw_windows: np.ndarray) -> np.ndarray:
        """Raw windows -> the prepared (mean removed, band-passed) windows both the encoder and the head see.

        Computed as one matrix product (`window_operator`), equal to `prepare_windows` up to rounding.
        """
        w = np.asarray(raw_windows, dtype=np.float64)
        return np.matmul(self._operator, w)

    @cached_property
    def _operator(self) -> np.ndarray:
        return window_operator(self._filter_design[0], self.window_samples)

    def model_inputs(self, raw_windows: np.ndarray) -> dict[str, np.ndarray]:
        """Raw windows (n x samples x channels) -> the ONNX inputs, normalised as in training."""
        return self.inputs_from_prepared(self.prepare(raw_windows))

    def inputs_from_prepared(self, prepared: np.ndarray) -> dict[str, np.ndarray]:
        feats = (rich_features(prepared) - self.feature_mean) / self.feature_std
        win = (prepared / self.window_scale).transpose(0, 2, 1)  # (n, channels, samples)
        return {"window": np.ascontiguousarray(win, dtype=np.float32), "features": feats.astype(np.float32)}


def read_schema_json(path: Path, schema: str, error: type[Exception], missing: str, unreadable: str,
                     wrong: str) -> dict:
    """A versioned JSON file (model card, calibration): present, readable, and of the expected schema,
    or `error` with a message naming the file; `missing`, `unreadable` and `wrong` say what to do."""
    if not path.is_file():
        raise error(f"{path}: {missing}")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path}: {unreadable.format(exc)}") from exc
    if not isinstance(d, dict) or d.get("schema") != schema:
        raise error(f"{path}: {wrong} (schema should be {schema!r})")
    return d


def load_card(path: str | Path, verify_weights: bool = True) -> ModelCard:
    """Read and check a model card; the ONNX file sits beside it (or where `onnx` says)."""
    path = Path(path)
    d = read_schema_json(path, CARD_SCHEMA, ModelCardError,
                         "no such model card (expected e.g. models/myo8_200hz.card.json)",
                         "not a readable JSON model card ({})", "not a myovox model card")
    try:
        norm = d["normalisation"]
        filt = d["preprocessing"]["filter"]
        card = ModelCard(
            path=path,
            name=str(d["name"]),
            onnx_path=(path.parent / d["onnx"]).resolve(),
            sha256=str(d["sha256"]),
            profile=str(d["profile"]),
            rate_hz=float(d["rate_hz"]),
            channels=int(d["channels"]),
            layout=str(d.get("layout", "strip")),
            window_samples=int(d["window_samples"]),
            filter=FilterSettings(**{k: filt[k] for k in ("highpass_hz", "lowpass_hz", "order", "notch_hz", "notch_q") if k in filt}),
            window_scale=np.asarray(norm["window_scale"], dtype=np.float64),
            feature_mean=np.asarray(norm["feature_mean"], dtype=np.float64),
            feature_std=np.asarray(norm["feature_std"], dtype=np.float64),
            labels=tuple(d["labels"]),
            embedding_dim=int(d["outputs"]["embedding"]),
            raw=d,
            head_inputs=tuple(d.get("head_inputs", ModelCard.head_inputs)),
            fine_tune=FineTuning.from_dict(dict(d["fine_tune"])) if d.get("fine_tune") else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelCardError(f"{path}: model card is missing or has a bad field ({exc!r})") from exc
    unknown = [k for k in card.head_inputs if k not in HEAD_INPUTS]
    if unknown or card.head_inputs[:1] != ("embedding",):
        raise ModelCardError(f"{path}: head_inputs must start with 'embedding' and use only {HEAD_INPUTS}; got {list(card.head_inputs)}")
    if card.window_scale.shape != (card.channels,) or card.feature_std.shape != card.feature_mean.shape:
        raise ModelCardError(f"{path}: normalisation does not match {card.channels} channels")
    if np.any(card.window_scale <= 0) or np.any(card.feature_std <= 0):
        raise ModelCardError(f"{path}: normalisation scales must be positive")
    if verify_weights:
        if not card.onnx_path.is_file():
            raise ModelCardError(f"{path}: the model file {card.onnx_path} is missing")
        actual = sha256_of(card.onnx_path)
        if actual != card.sha256:
            raise ModelCardError(
                f"{card.onnx_path}: sha256 {actual[:12]}... does not match the card's {card.sha256[:12]}...; "
                "the model file is corrupt or not the one this card describes"
            )
    return card
