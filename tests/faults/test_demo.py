"""`myovox run --demo-user`: the replayed clip's real fists type a word (not CALL FOR HELP), and long
candidates fit their cells."""
from __future__ import annotations

from myovox.bedside.demo import DemoTypist
from myovox.bedside.setup import demo_calibration
from myovox.data.recordings import read_recording
from myovox.interact.machine import DIRECT
from myovox.profiles import find_profile
from myovox.stream.replay import DEMO_CLIP, ReplayOutlet

from .conftest import GUARD_MS, open_app


def test_the_demo_types_a_word_with_the_clips_fists(qtbot, tmp_path, stream_name):
    replay = ReplayOutlet(read_recording(DEMO_CLIP), find_profile("myo"), speed=3.0, loop=True, name=stream_name,
                          source_id=stream_name, wait_for_listener=True)
    replay.start()
    bedside, window = open_app(qtbot, tmp_path, f"name='{stream_name}'", speech=False)
    try:
        cal = demo_calibration(bedside.session.decoder, find_profile("myo"), DEMO_CLIP)
        bedside.apply_calibration(cal, DIRECT, {"fist": "select"})
        typist = DemoTypist(("hi",))
        from PySide6.QtCore import QTimer

        timer = QTimer(window)
        timer.timeout.connect(lambda: typist.press(window))
        timer.start(100)
        qtbot.waitUntil(lambda: len(bedside.session.speller.state.conversation) >= 1, timeout=4 * GUARD_MS)
        assert bedside.session.speller.state.conversation[-1] == "hi"
        assert bedside.session.help_calls == 0
        timer.stop()
    finally:
        replay.stop()
        window.close()


def test_a_long_candidate_gets_a_smaller_font(qtbot, tmp_path):
    from dataclasses import replace

    bedside, window = open_app(qtbot, tmp_path, start=False)
    sp = bedside.session.speller
    from myovox.interact.machine import Choice

    long = "room raphael please come quickly"
    sp.state = replace(sp.state, choices=(Choice(long, "phrases"),))
    window.patient.render(sp)
    cells = [lab for row in window.patient._cells for lab in row if lab.text() == long]
    assert cells and cells[0].property("textlen") == "longer"
    window.close()
