"""RingBuffer: fixed memory for the newest samples, written in place at a moving index."""
from __future__ import annotations

import threading

import numpy as np


class RingBuffer:
    """Keeps the last `capacity` samples of a (samples x channels) stream with their timestamps.

    Memory is allocated once; a write copies the chunk into place (at most two slices), so a push
    costs O(chunk), not O(capacity) as shifting with `np.roll` would. Samples are addressed by their
    absolute index since the stream started (`total` counts every sample ever written), so a reader
    can ask for "everything since index i" without racing the writer. Thread-safe for one writer and
    any number of readers.
    """

    def __init__(self, capacity: int, channels: int, dtype=np.float32):
        if capacity < 1 or channels < 1:
            raise ValueError(f"capacity and channels must be positive, got {capacity} and {channels}")
        self.capacity = int(capacity)
        self.channels = int(channels)
        self._data = np.zeros((self.capacity, self.channels), dtype=dtype)
        self._times = np.zeros(self.capacity, dtype=np.float64)
        self._total = 0
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        """Samples written since creation (the absolute index of the next sample)."""
        return self._total

    def __len__(self) -> int:
        return min(self._total, self.capacity)

    @property
    def nbytes(self) -> int:
        return self._data.nbytes + self._times.nbytes

    def write(self, chunk: np.ndarray, times: np.ndarray) -> None:
        n = len(chunk)
        if chunk.ndim != 2 or chunk.shape[1] != self.channels:
            raise ValueError(f"chunk must be (n, {self.channels}), got {chunk.shape}")
        if len(times) != n:
            raise ValueError(f"{n} samples but {len(times)} timestamps")
        if n == 0:
            return
        skipped = 0
        if n > self.capacity:  # only the newest samples fit
            skipped = n - self.capacity
            chunk, times = chunk[skipped:], times[skipped:]
        cap = self.capacity
        with self._lock:
            start = (self._total + skipped) % cap
            m = n - skipped
            first = min(m, cap - start)
            self._data[start : start + first] = chunk[:first]
            self._times[start : start + first] = times[:first]
            if first < m:
                self._data[: m - first] = chunk[first:]
                self._times[: m - first] = times[first:]
            self._total += n

    def write_through(self, n: int, fill, *args):
        """Let `fill(*args, data, times, start)` write `n` new samples straight into the storage, from row
        `start` on and wrapping at `capacity`, under the writers' lock; returns what `fill` returns. A negative
        number from `fill` means it wrote nothing: the ring then stays as it was.

        For a compiled producer (the signal kernel) that would otherwise fill a temporary for `write` to copy.
        """
        if not 0 <= n <= self.capacity:
            raise ValueError(f"{n} samples do not fit a ring of {self.capacity}")
        with self._lock:
            result = fill(*args, self._data, self._times, self._total % self.capacity)
            if not result < 0:
                self._total += n
        return result

    def write_through_pair(self, other: "RingBuffer", n: int, fill, *args):
        """`write_through` into this ring and `other` at once (both locks held): `fill(*args, data, times, start,
        other_data, other_times, other_start)`; both advance by `n` unless `fill` returns a negative number."""
        if not 0 <= n <= min(self.capacity, other.capacity):
            raise ValueError(f"{n} samples do not fit rings of {self.capacity} and {other.capacity}")
        with self._lock, other._lock:
            result = fill(*args, self._data, self._times, self._total % self.capacity,
                          other._data, other._times, other._total % other.capacity)
            if not result < 0:
                self._total += n
                other._total += n
        return result

    def read(self, start: int, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Copies of samples [start, stop) by absolute index; raises if they were overwritten."""
        with self._lock:
            total = self._total
            stop = total if stop is None else stop
            oldest = total - len(self)
            if start < oldest or stop > total or start > stop:
                raise IndexError(f"samples [{start}, {stop}) not held (holding [{oldest}, {total}))")
            idx = np.arange(start, stop) % self.capacity
            return self._data[idx], self._times[idx]

    def latest(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The newest min(n, held) samples, oldest first."""
        with self._lock:
            total = self._total
        n = min(n, len(self))
        return self.read(total - n, total)
