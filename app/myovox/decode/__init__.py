"""Gesture decoding: encoder runtime (onnxruntime), per-session calibration head, rejection.

Public API (docs/api.md): `load_decoder(card_path)` -> `GestureDecoder` with `calibrate`, `decide`,
`load_calibration`, `realign`. onnxruntime is imported only when a decoder is created.
"""
from .api import Calibration, CalibrationError, GestureDecoder, ModelCardError, load_decoder

__all__ = ["Calibration", "CalibrationError", "GestureDecoder", "ModelCardError", "load_decoder"]
