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


def test_four_gesture_mode_setting_picks_the_keyboard_or_direct_navigation(tmp_path):
    bedside = Bedside(find_profile("myo"), home=tmp_path, use_llm=False, speech=False, acquisition=False)
    try:
        assert bedside.settings.four_gesture_mode == GROUPS  # the default, chosen by the simulator
        assert "settings saved" in bedside.update_settings({"four_gesture_mode": "direct"})
        cal = demo_calibration(bedside.session.decoder, find_profile("myo"), DEMO_CLIP)
        bedside.apply_calibration(cal, DIRECT, ROLES)
        assert bedside.mode == DIRECT and not isinstance(bedside.session.speller, GroupSpeller)
        bedside.session.speller.state = state_with_message(DIRECT, "hi")  # composed on the board
        typed = bedside.session.speller.message
        assert typed == "hi "
        assert "settings saved" in bedside.update_settings({"four_gesture_mode": "groups"})
        bedside.apply_calibration(cal, DIRECT, ROLES)  # as the wizard recommends or a saved calibration says
        sp = bedside.session.speller
        assert bedside.mode == GROUPS and isinstance(sp, GroupSpeller)
        assert sp.config.roles["fist"] == "key1" and sp.config.roles["extend"] == "control"
        assert sp.message == "hi "  # nothing composed is lost
        out = sp.handle(GestureDecision("fist", 0.99, 2.0))  # a key: asks the language layer for readings
        assert [o.task for o in out if hasattr(o, "task")] == ["groups"]
        assert bedside.update_settings({"four_gesture_mode": "letters"})[0].startswith("not changed")
    finally:
        bedside.close()


def test_one_and_few_gesture_mode_settings_pick_the_mass_modes_or_the_boards(tmp_path):
    from myovox.interact.machine import LIKELY, SCAN, SPLIT, STEP
    from myovox.interact.mass import MassSpeller

    bedside = Bedside(find_profile("myo"), home=tmp_path, use_llm=False, speech=False, acquisition=False)
    try:
        assert (bedside.settings.one_gesture_mode, bedside.settings.few_gesture_mode) == (LIKELY, SPLIT)  # simulator's choice
        cal = demo_calibration(bedside.session.decoder, find_profile("myo"), DEMO_CLIP)
        bedside.apply_calibration(cal, STEP, {"fist": "next", "open": "select"})  # what the wizard recommends for 2
        sp = bedside.session.speller
        assert bedside.mode == SPLIT and isinstance(sp, MassSpeller) and (sp.config.roles["fist"], sp.config.roles["open"]) == ("group1", "group2")
        sp.state = type(sp.state)(content=type(sp.state.content)(message="hi "), items=sp.state.items)
        assert "settings saved" in bedside.update_settings({"few_gesture_mode": "step"})
        bedside.apply_calibration(cal, STEP, {"fist": "next", "open": "select"})
        assert bedside.mode == STEP and not isinstance(bedside.session.speller, MassSpeller)
        assert bedside.session.speller.message == "hi "  # nothing composed is lost
        bedside.apply_calibration(cal, SCAN, {"fist": "select"})
        assert bedside.mode == LIKELY and isinstance(bedside.session.speller, MassSpeller)
        assert bedside.session.speller.message == "hi "
        assert bedside.update_settings({"one_gesture_mode": "dasher"})[0].startswith("not changed")
    finally:
        bedside.close()
