"""Stream faults over real LSL on loopback, against the bedside window offscreen."""
from __future__ import annotations

import time

import numpy as np
import pylsl

from myovox.profiles import find_profile
from myovox.stream.lsl_source import pinned_predicate

from .conftest import GUARD_MS, Pusher, assert_kept, compose, no_exception_text, open_app, visible, wait_visible


def connected(bedside):
    st = bedside.session.status
    return st is not None and st.state == "connected"


def test_disconnect_then_return(qtbot, tmp_path, stream_name):
    p = Pusher(stream_name)
    bedside, window = open_app(qtbot, tmp_path, f"name='{stream_name}'")
    try:
        qtbot.waitUntil(lambda: connected(bedside), timeout=GUARD_MS)
        text = compose(bedside, window)
        t0 = time.monotonic()
        p.close()
        wait_visible(qtbot, window, "stream", "disconnected", "stream disconnected", t0)
        assert_kept(bedside, window, text)
        p = Pusher(stream_name)
        qtbot.waitUntil(lambda: connected(bedside) and "stream" not in bedside.session.notices, timeout=GUARD_MS)
        assert_kept(bedside, window, text)
    finally:
        p.close()
        window.close()


def test_silent_outlet(qtbot, tmp_path, stream_name):
    p = Pusher(stream_name)
    p.silent = True  # the program is there, the samples never come
    bedside, window = open_app(qtbot, tmp_path, f"name='{stream_name}'")
    try:
        text = compose(bedside, window)
        wait_visible(qtbot, window, "stream", "no samples", "silent outlet")
        assert_kept(bedside, window, text)
        p.silent = False  # fallback: samples come, the notice goes
        qtbot.waitUntil(lambda: "stream" not in bedside.session.notices, timeout=GUARD_MS)
    finally:
        p.close()
        window.close()


def _refused(qtbot, tmp_path, stream_name, words, scenario, **outlet):
    p = Pusher(stream_name, **outlet)
    p.silent = True
    bedside, window = open_app(qtbot, tmp_path, f"name='{stream_name}'")
    try:
        text = compose(bedside, window)
        wait_visible(qtbot, window, "stream", words, scenario)
        assert bedside.session.status.state == "wrong device"
        assert "wrong sensor" in window.patient.notice.text().lower()
        assert ".." not in bedside.session.notices.get("stream").text  # the old "in use.." wording
        assert_kept(bedside, window, text)
    finally:
        p.close()
        window.close()


def test_wrong_channel_count(qtbot, tmp_path, stream_name):
    _refused(qtbot, tmp_path, stream_name, "it has 4 channels", "wrong channel count", channels=4)


def test_wrong_declared_rate(qtbot, tmp_path, stream_name):
    _refused(qtbot, tmp_path, stream_name, "samples at 500 Hz", "wrong declared rate", rate=500.0)


def test_wrong_format(qtbot, tmp_path, stream_name):
    _refused(qtbot, tmp_path, stream_name, "not numbers", "wrong channel format", fmt=pylsl.cf_string)


def test_measured_rate_differs_from_declared(qtbot, tmp_path, stream_name):
    """Declares 200 Hz, sends 100 samples per second: every window would span twice the time."""
    p = Pusher(stream_name, rate=100.0, declared=200.0)
    bedside, window = open_app(qtbot, tmp_path, f"name='{stream_name}'")
    try:
        qtbot.waitUntil(lambda: connected(bedside), timeout=GUARD_MS)
        text = compose(bedside, window)
        wait_visible(qtbot, window, "rate", "declares 200 Hz but sends", "measured rate 100 vs declared 200")
        n = bedside.session.notices.get("rate")
        assert "sends 9" in n.text or "sends 10" in n.text, n.text  # ~100 samples/s measured
        assert_kept(bedside, window, text)
    finally:
        p.close()
        window.close()


def _faulty(bad_value):
    state = {"bad": True}
    rng = np.random.default_rng(1)

    def make(n, i):
        x = rng.normal(0, 3, (n, 8)).astype(np.float32)
        if state["bad"]:
            x[:, 1] = bad_value
            x[::2, 2] = bad_value
        return x

    return state, make


def _signal_fault(qtbot, tmp_path, stream_name, bad_value, words, scenario):
    state, make = _faulty(bad_value)
    state["bad"] = False
    p = Pusher(stream_name, make=make)
    bedside, window = open_app(qtbot, tmp_path, f"name='{stream_name}'")
    window.tabs.setCurrentWidget(window.caregiver)  # the channel marks are drawn while the panel shows
    try:
        qtbot.waitUntil(lambda: connected(bedside), timeout=GUARD_MS)
        text = compose(bedside, window)
        t0 = time.monotonic()
        state["bad"] = True
        wait_visible(qtbot, window, "signal", words, scenario, t0)
        assert "channel(s) 2,3" in bedside.session.notices.get("signal").text
        qtbot.waitUntil(lambda: "artefacts" in window.caregiver._quality_labels[1].text(), timeout=GUARD_MS)
        state["bad"] = False  # the electrode is fixed: the notice and the red marks clear
        qtbot.waitUntil(lambda: "signal" not in bedside.session.notices, timeout=GUARD_MS)
        qtbot.waitUntil(lambda: "artefacts" not in window.caregiver._quality_labels[1].text(), timeout=GUARD_MS)
        assert_kept(bedside, window, text)
        assert no_exception_text(window)
    finally:
        p.close()
        window.close()


def test_nan_and_inf_samples(qtbot, tmp_path, stream_name):
    _signal_fault(qtbot, tmp_path, stream_name, np.nan, "not-a-number", "NaN samples")


def test_infinite_samples(qtbot, tmp_path, stream_name):
    _signal_fault(qtbot, tmp_path, stream_name, np.inf, "not-a-number/infinite", "Inf samples")


def test_out_of_range_samples(qtbot, tmp_path, stream_name):
    _signal_fault(qtbot, tmp_path, stream_name, 1000.0, "out-of-range", "out-of-range samples")


def pinned_profile(tmp_path, source_id):
    from myovox.profiles.profile import list_profiles

    body = list_profiles()["myo"].read_text().replace('source_id = ""', f'source_id = "{source_id}"')
    path = tmp_path / "myo_pinned.toml"
    path.write_text(body)
    return find_profile(str(path))


def test_pinned_profile_and_a_rogue_stream_of_the_same_name(qtbot, tmp_path, stream_name):
    """`--stream name=...` with a profile pinned to one band: when the band's stream dies, another outlet
    of the same name (another patient's band, a test replay) is never read as this patient's."""
    profile = pinned_profile(tmp_path, f"{stream_name}-band")
    assert pinned_predicate(profile, f"name='{stream_name}'").endswith(f"source_id='{stream_name}-band'")
    band = Pusher(stream_name, source_id=f"{stream_name}-band")
    bedside, window = open_app(qtbot, tmp_path / "home", f"name='{stream_name}'", profile=profile)
    rogue = None
    try:
        qtbot.waitUntil(lambda: connected(bedside), timeout=GUARD_MS)
        assert bedside.session.status.source_id == f"{stream_name}-band"
        text = compose(bedside, window)
        rogue = Pusher(stream_name, source_id=f"{stream_name}-rogue")
        band.close()
        wait_visible(qtbot, window, "stream", "disconnected", "pinned band lost, rogue present")
        qtbot.wait(3000)  # the source looks for a replacement once a second: give it three chances
        st = bedside.session.status
        assert not (st.state == "connected" and st.source_id.endswith("-rogue")), st
        assert visible(window, "stream", "disconnected")
        assert_kept(bedside, window, text)
        band = Pusher(stream_name, source_id=f"{stream_name}-band")  # the band comes back: read again
        qtbot.waitUntil(lambda: connected(bedside) and bedside.session.status.source_id.endswith("-band"),
                        timeout=GUARD_MS)
    finally:
        band.close()
        if rogue is not None:
            rogue.close()
        window.close()


def test_monitor_prints_signal_faults_once_a_second(stream_name):
    """`myovox monitor` against a stream with NaN on every chunk: one summed line a second, not one a chunk."""
    from myovox.stream.monitor import monitor

    state, make = _faulty(np.nan)
    p = Pusher(stream_name, make=make)
    lines = []
    try:
        assert monitor("myo", f"name='{stream_name}'", 4.0, print_fn=lines.append) == 0
    finally:
        p.close()
    signal_lines = [ln for ln in lines if ln.startswith("[signal]")]
    assert signal_lines, lines
    assert len(signal_lines) <= 5, len(signal_lines)  # 4 s of faults: at most one line per second (+ the first)
    assert "reports in the last 1 s" in signal_lines[-1] or len(signal_lines) == 1
