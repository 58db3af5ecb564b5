"""The simulator: deterministic for a seed, measured timing, and figures that follow their definitions."""
from __future__ import annotations


import numpy as np
import pytest

from myovox.interact.machine import DIRECT, SCAN, STEP, ScanTiming
from myovox.simulate.patient import Confusion, abbreviation, normalise
from myovox.simulate.run import simulate_condition
from myovox.simulate.timing import GestureTiming, measure_timing

TIMING = GestureTiming((0.6, 0.9), (0.3, 0.5), 0.25, 0.2, "test")
PHRASES = ["Do you know the time?", "I'm cold."]


def run(mode, accuracy, seed=1, condition="off", suggester=None):
    return simulate_condition(PHRASES, mode, condition, lambda labels: Confusion.from_accuracy(labels, accuracy),
                              TIMING, ScanTiming(), seed, suggester)


def test_text_helpers():
    assert normalise("What did u do on Saturday night? ") == "what did u do on saturday night"
    assert abbreviation("I'm cold, thanks.") == "ict"


@pytest.mark.parametrize("mode", [SCAN, STEP, DIRECT])
def test_perfect_patient_without_prediction_is_the_baseline(mode):
    s, results = run(mode, 1.0)
    assert s.gestures == s.baseline_gestures and s.mode_savings == 0.0
    assert (s.savings == 0.0) == (mode == SCAN)  # the yardstick is plain row-column scanning
    if mode != SCAN:  # stepping and direct navigation count every step as a gesture: more than scanning's selects
        assert s.scan_baseline_gestures < s.baseline_gestures
    assert s.errors == 0 and s.misdecoded == 0 and all(r.completed for r in results)
    assert [r.final for r in results] == [normalise(p) for p in PHRASES]


def test_deterministic_for_a_seed_and_errors_cost_gestures():
    a, ra = run(STEP, 0.9, seed=3)
    b, rb = run(STEP, 0.9, seed=3)
    assert a == b and ra == rb
    assert a.misdecoded > 0 and a.gestures > a.baseline_gestures  # mistakes were made and undone
    assert a.errors == 0 and a.completed == len(PHRASES)
    assert a.wpm == pytest.approx((a.chars / 5) / (a.seconds / 60))


def test_one_gesture_errors_are_missed_bursts():
    c = Confusion.from_accuracy(("pinch",), 0.9)
    assert c.matrix.tolist() == [[0.9, pytest.approx(0.1)]]
    rng = np.random.default_rng(0)
    out = [c.decode("pinch", rng) for _ in range(2000)]
    assert 0.07 < out.count(None) / 2000 < 0.13


def test_confusion_from_a_decoder_report_uses_the_most_reliable_movements_and_folds_the_rest_into_no_action():
    report = ["neutral", "x", "y", "z"]
    counts = [[9, 1, 0, 0, 0], [0, 8, 1, 1, 0], [0, 0, 9, 0, 1], [2, 2, 2, 4, 0]]  # last column: no action
    c = Confusion.from_report(("a", "b"), report, counts)
    assert c.movements == ("y", "x")  # rest is never a speller gesture; most reliable first
    assert np.allclose(c.matrix, [[0.9, 0.0, 0.1], [0.1, 0.8, 0.1]])
    with pytest.raises(ValueError, match="needs 4"):
        Confusion.from_report(("a", "b", "c", "d"), report, counts)


def test_timing_is_measured_on_the_real_recordings(shared_data):
    shared = shared_data
    t = measure_timing(shared, files=3)
    assert len(t.burst_s) >= 3 and all(d > 0 for d in t.burst_s)
    assert min(t.burst_s) >= t.decision_s  # a brief burst fills the decision window, then is released
    held = measure_timing(shared, files=3, burst_model="recorded")
    assert np.median(held.burst_s) > 2.0 > np.median(t.burst_s)  # the protocol's holds, not a switch press
    assert all(0 <= r <= 2.0 for r in t.reaction_s)
    # from device_profiles/myo.toml: the refractory period, and the attempt decided as its second window ends
    assert t.refractory_s == pytest.approx(0.25) and t.decision_s == pytest.approx(0.2 + 0.05)


def test_no_action_rate_beside_accuracy():
    c = Confusion.from_accuracy(("a", "b", "c", "d"), 0.95, 0.05)
    assert np.allclose(c.matrix.sum(axis=1), 1.0)
    assert c.matrix[0, 0] == pytest.approx(0.95 * 0.95) and c.matrix[0, 4] == pytest.approx(0.05)
    assert c.matrix[0, 1] == pytest.approx(0.05 * 0.95 / 3)
    one = Confusion.from_accuracy(("pinch",), 0.95, 0.05)
    assert one.matrix[0, 1] == pytest.approx(1 - 0.95 * 0.95)  # one gesture: every failure is a missed burst
    with pytest.raises(ValueError):
        Confusion.from_accuracy(("a",), 0.9, 1.0)


@pytest.mark.parametrize("mode", [STEP, DIRECT])
def test_a_patient_who_notices_late_types_on_then_undoes(mode):
    quick, _ = run(mode, 0.85, seed=2)
    late, results = simulate_condition(PHRASES, mode, "off", lambda labels: Confusion.from_accuracy(labels, 0.85),
                                       TIMING, ScanTiming(), 2, None, notice=0.3)
    assert quick.unnoticed_gestures == 0 and late.unnoticed_gestures > 0
    assert late.errors == 0 and late.completed == len(PHRASES)  # it always reads the message before speaking


@pytest.mark.parametrize("mode", ["likely", "split", "split3"])
def test_the_mass_modes_type_every_phrase_through_errors(mode):
    s, results = run(mode, 1.0)
    assert s.gestures == s.baseline_gestures and s.errors == 0 and all(r.completed for r in results)
    a, ra = run(mode, 0.85, seed=2)
    b, _ = run(mode, 0.85, seed=2)
    assert a == b  # deterministic for a seed
    assert a.misdecoded > 0 and a.gestures > s.gestures  # mistakes were made and undone
    assert a.errors == 0 and a.completed == len(PHRASES) and a.unintended_speech == 0
    assert [r.final for r in ra] == [normalise(p) for p in PHRASES]


def test_the_patient_in_groups_mode_takes_a_shown_word_equal_to_its_target():
    """Regression: walked to a completion that is its word (fewer keys typed than the word has letters), the
    simulated patient takes it with the space; it used to type on and undo in a loop ("Classes are going very
    well this semester." hit the gesture cap even with perfect decoding)."""
    from dataclasses import replace

    from myovox.interact import Speller, SpellerConfig, default_roles
    from myovox.interact import boards as B
    from myovox.interact import keyboard as KB
    from myovox.interact.machine import GROUPS
    from myovox.simulate.patient import Goal, Patient

    m = Speller(SpellerConfig(GROUPS, default_roles(["a", "b", "c", "d"], GROUPS), prediction="words"))
    code = m.layout.code("semester")
    reading = "".join(sorted(m.layout.groups[k])[0] for k in code[:3])
    typed = KB.Typed("classes are going very well this ", code[:3], "semester ", 1)
    m.state = replace(m.state, typed=typed, choices=(reading, "semester "), layer=KB.CONTROL)
    target = "classes are going very well this semester"
    p = Patient(m, Confusion.from_accuracy(tuple(m.config.roles), 1.0), TIMING, np.random.default_rng(0))
    assert p._goal(target) == Goal(B.SPACE, "semester")
    r = p.type_phrase(target)
    assert r.completed and r.final == target and r.gestures <= 6  # type on, space, the controls, speak, say it


def test_the_patient_in_groups_mode_walks_a_word_fixed_too_early_only_when_that_is_cheaper():
    """A misread space fixed "a" (one key of "am"): the patient walks the readings to "am " when it is close,
    and undoes (space and key back: control, undo, then the key again, the rest and the space) when it is far
    (it once walked five readings, ten gestures, for "am ")."""
    from dataclasses import replace

    from myovox.interact import Speller, SpellerConfig, default_roles
    from myovox.interact import boards as B
    from myovox.interact import keyboard as KB
    from myovox.interact.machine import GROUPS
    from myovox.simulate.patient import Goal, Patient

    m = Speller(SpellerConfig(GROUPS, default_roles(["a", "b", "c", "d"], GROUPS), prediction="words"))
    p = Patient(m, Confusion.from_accuracy(tuple(m.config.roles), 1.0), TIMING, np.random.default_rng(0))
    code = m.layout.code("a")
    far = KB.Typed("i a ", last=("a", "w", "d", "g", "f", "am ", "want "), last_pick=0, last_keys=code)
    near = KB.Typed("i a ", last=("a", "am ", "w"), last_pick=0, last_keys=code)
    m.state = replace(m.state, typed=far)
    assert p._goal("i am cold") == Goal(B.UNDO)
    m.state = replace(m.state, typed=near)
    assert p._goal("i am cold") == Goal(KB.OTHER)
