"""Acquisition: LslSource -> SignalChain in the source's worker thread; events leave through a queue.

The consumer (the monitor, the app's UI thread) only ever drains the queue, so it never waits on
the amplifier. Switching profile rebuilds source and chain; the queue and its reader stay.
"""
from __future__ import annotations

import queue
import threading

import numpy as np

from ..events import AttemptEnd, OnsetWindow, Threshold
from ..profiles import DeviceProfile
from ..signal.chain import SignalChain
from .lsl_source import LslSource


class Acquisition:
    def __init__(self, profile: DeviceProfile, threshold: Threshold | None = None, predicate: str | None = None,
                 max_events: int = 10000, keep_envelope: bool = False, **source_options):
        self.events: queue.Queue = queue.Queue(maxsize=max_events)
        self._lock = threading.Lock()
        self._source_options = source_options
        self._predicate = predicate
        self._keep_envelope = keep_envelope
        self.dropped_events = 0
        # An attempt's windows and its end can go straight to the decoder's thread, skipping the UI thread's queue.
        self.window_sink = None
        self._build(profile, threshold)

    def _build(self, profile: DeviceProfile, threshold: Threshold | None) -> None:
        self.profile = profile
        self.source = LslSource(profile, on_chunk=self._on_chunk, on_event=self._emit,
                                predicate=self._predicate, consumer_guards=True, **self._source_options)
        # The source pulls and keeps the raw ring; the chain repairs each chunk, writes it into that ring,
        # filters and detects, in one compiled call per chunk.
        self.chain = SignalChain(profile, threshold, raw_ring=self.source.ring, keep_envelope=self._keep_envelope)

    def _emit(self, event) -> None:
        try:
            self.events.put_nowait(event)
        except queue.Full:  # a stalled consumer must not stall acquisition
            self.dropped_events += 1

    def _on_chunk(self, samples: np.ndarray, times: np.ndarray) -> None:
        with self._lock:
            events = self.chain.process(samples, times)
        sink = self.window_sink
        for ev in events:
            if sink is not None and isinstance(ev, (OnsetWindow, AttemptEnd)):
                sink(ev)
            else:
                self._emit(ev)

    def start(self) -> None:
        self.source.start()

    def stop(self) -> None:
        self.source.stop()

    def switch_profile(self, profile: DeviceProfile, threshold: Threshold | None = None, predicate: str | None = None) -> None:
        """Move to another amplifier while running: the old stream is released first."""
        self.source.stop()
        with self._lock:
            self._predicate = predicate
            self._build(profile, threshold)
        self.source.start()

    def set_threshold(self, threshold: Threshold) -> None:
        """A new detector threshold (a calibration's, a lowered sensitivity), between two chunks."""
        with self._lock:
            self.chain.set_threshold(threshold)

    def recapture_rest(self) -> None:
        with self._lock:
            self.chain.recapture_rest()

    def drain(self, limit: int = 1000) -> list:
        out = []
        for _ in range(limit):
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                break
        return out
