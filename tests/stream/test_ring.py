import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myovox.stream.ring import RingBuffer


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 45), min_size=1, max_size=30), capacity=st.integers(1, 40))
def test_the_ring_holds_exactly_the_newest_samples_in_order(sizes, capacity):
    ring = RingBuffer(capacity, 3)
    data_id = id(ring._data)
    written = []
    counter = 0
    for n in sizes:
        chunk = np.arange(counter, counter + n, dtype=np.float32)[:, None].repeat(3, axis=1)
        ring.write(chunk, np.arange(counter, counter + n, dtype=np.float64))
        written.extend(range(counter, counter + n))
        counter += n
    assert ring.total == len(written)
    expect = written[-capacity:]
    data, times = ring.latest(capacity)
    assert data[:, 0].tolist() == expect and times.tolist() == expect
    assert id(ring._data) == data_id  # never reallocated


def test_reading_overwritten_samples_is_refused_not_garbage():
    ring = RingBuffer(10, 1)
    ring.write(np.arange(25, dtype=np.float32)[:, None], np.arange(25.0))
    data, _ = ring.read(15, 25)
    assert data[:, 0].tolist() == list(range(15, 25))
    with pytest.raises(IndexError, match="not held"):
        ring.read(14, 20)
    with pytest.raises(IndexError):
        ring.read(20, 26)


def test_a_chunk_of_the_wrong_width_is_refused():
    ring = RingBuffer(10, 8)
    with pytest.raises(ValueError, match="\\(n, 8\\)"):
        ring.write(np.zeros((4, 16)), np.zeros(4))
    with pytest.raises(ValueError, match="timestamps"):
        ring.write(np.zeros((4, 8)), np.zeros(3))
