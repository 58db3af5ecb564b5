"""The clinician's four-gesture mode setting reaches the bedside speller, and the message survives the switch."""
from __future__ import annotations

from myovox.bedside.app import Bedside
from myovox.bedside.setup import demo_calibration
from myovox.events import GestureDecision
from myovox.interact.keyboard import GroupSpeller, state_with_message
from myovox.interact.machine import DIRECT, GROUPS
from myovox.profiles import find_profile
from myovox.stream.replay import DEMO_CLIP

ROLES = {"fist": "next", "open": "select", "flex": "previous", "extend": "back"}


def test_groups_setting_turns_a_four_gesture_calibration_into_the_keyboard(tmp_path):
    bedside = Bedside(find_profile("myo"), home=tmp_path, use_llm=False, speech=False, acquisition=False)
    try:
        cal = demo_calibration(bedside.session.decoder, find_profile("myo"), DEMO_CLIP)
        bedside.apply_calibration(cal, DIRECT, ROLES)
        assert bedside.mode == DIRECT and not isinstance(bedside.session.speller, GroupSpeller)
        bedside.session.speller.state = state_with_message(DIRECT, "hi")  # composed on the board
        typed = bedside.session.speller.message
        assert typed == "hi "
        assert "settings saved" in bedside.update_settings({"four_gesture_mode": "groups"})
        bedside.apply_calibration(cal, DIRECT, ROLES)
        sp = bedside.session.speller
        assert bedside.mode == GROUPS and isinstance(sp, GroupSpeller)
        assert sp.config.roles["fist"] == "key1" and sp.config.roles["extend"] == "control"
        assert sp.message == "hi "  # nothing composed is lost
        out = sp.handle(GestureDecision("fist", 0.99, 2.0))  # a key: asks the language layer for readings
        assert [o.task for o in out if hasattr(o, "task")] == ["groups"]
        assert bedside.update_settings({"four_gesture_mode": "letters"})[0].startswith("not changed")
    finally:
        bedside.close()
