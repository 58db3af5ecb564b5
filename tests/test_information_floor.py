"""The information floor's arithmetic (bench/information_floor.py): channel capacities with known closed forms."""
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

spec = importlib.util.spec_from_file_location("information_floor", Path(__file__).parents[1] / "bench" / "information_floor.py")
floor = importlib.util.module_from_spec(spec)
spec.loader.exec_module(floor)


def h2(p):
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def test_binary_symmetric_channel():
    assert floor.capacity_bits(np.array([[0.95, 0.05], [0.05, 0.95]])) == pytest.approx(1 - h2(0.05), abs=1e-6)


def test_erasure_channel_no_action_is_an_output():
    e = 0.2  # "no action" a fifth of the time, never a wrong gesture
    assert floor.capacity_bits(np.array([[1 - e, 0, e], [0, 1 - e, e]])) == pytest.approx(1 - e, abs=1e-6)


def test_four_gestures_at_95_percent_plus_5_percent_no_action():
    from myovox.simulate.patient import Confusion
    m = Confusion.from_accuracy(("a", "b", "c", "d"), 0.95, 0.05).matrix
    # symmetric: uniform inputs; I = H(Y) - H(Y|X), Y over 4 gestures + no action
    row = m[0]
    hy_x = -sum(p * math.log2(p) for p in row if p > 0)
    q = m.mean(axis=0)
    hy = -sum(p * math.log2(p) for p in q if p > 0)
    assert floor.capacity_bits(m) == pytest.approx(hy - hy_x, abs=1e-6)
    assert floor.capacity_bits(m) < 2.0


def test_useless_channel_carries_nothing():
    assert floor.capacity_bits(np.array([[0.5, 0.5], [0.5, 0.5]])) == pytest.approx(0.0, abs=1e-9)


def test_cased_spelling():
    assert floor.cased("i'm cold and i want tea") == "I'm cold and I want tea"
    assert floor.cased("it is") == "It is"
