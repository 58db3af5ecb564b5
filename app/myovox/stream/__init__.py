"""Acquisition: ring buffer (pure) and the LSL adapters (`lsl_source`, `replay`), imported on demand."""
from .ring import RingBuffer

__all__ = ["RingBuffer"]
