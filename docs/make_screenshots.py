"""Screenshots for the README, taken from a real X screen (run under Xvfb):

    xvfb-run -s "-screen 0 1280x900x24" .venv/bin/python docs/make_screenshots.py

The bundled clip is replayed over LSL and the demo user (calibrated on the clip's own fists) drives the
speller, so the patient view shows a real highlight and message, the caregiver panel real signal.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py --groups

draws the ambiguous keyboard (groups mode) alone: four named gestures type "i want water" through the real
speller and the word list + n-gram reading of the keys (the keys), and the controls opened after
"i want " (no X screen needed).

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py --mass

draws the probability-mass modes (split with two and three gestures, the likely scan with one) after
"i want " was typed through the real speller and the word list + n-gram.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "screenshots"


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from myovox.bedside.app import Bedside
    from myovox.bedside.setup import demo_calibration
    from myovox.data.recordings import read_recording
    from myovox.profiles import find_profile
    from myovox.stream.replay import DEMO_CLIP, ReplayOutlet
    from myovox.ui.main_window import MainWindow

    if not os.environ.get("DISPLAY"):
        print("run under Xvfb: xvfb-run -s '-screen 0 1280x900x24' .venv/bin/python docs/make_screenshots.py")
        return 2
    app = QApplication(sys.argv[:1])
    profile = find_profile("myo")
    replay = ReplayOutlet(read_recording(DEMO_CLIP), profile, speed=1.0, loop=True, name="myovox-shots",
                          source_id="myovox-shots", wait_for_listener=True)
    bedside = Bedside(profile, predicate="name='myovox-shots'", home=tempfile.mkdtemp(), use_llm=True)
    cal = demo_calibration(bedside.session.decoder, profile, DEMO_CLIP)
    bedside.session.decoder.use(cal)
    bedside.apply_calibration(cal, "scan", {"fist": "select"})
    window = MainWindow(bedside)
    window.resize(1280, 860)
    window.show()
    replay.start()
    bedside.start()
    OUT.mkdir(parents=True, exist_ok=True)

    def wait(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def shoot(widget, name):
        app.processEvents()
        pix = app.primaryScreen().grabWindow(widget.winId())
        pix.save(str(OUT / name))
        print("saved", OUT / name)

    wait(32)  # three fists: rest capture, then selections by the replayed bursts
    window.tabs.setCurrentIndex(0)
    wait(1)
    shoot(window, "patient_view.png")
    window.tabs.setCurrentIndex(1)
    wait(6)
    shoot(window, "caregiver_panel.png")
    window.tabs.setCurrentIndex(2)
    wait(0.5)
    shoot(window, "clinician_settings.png")
    window.tabs.setCurrentIndex(1)
    window.open_wizard()
    wiz = window.wizard
    wiz.names.setText("eyebrow, thumb, jaw, foot")
    wiz.move(260, 120)
    wait(0.5)
    shoot(wiz, "wizard_names.png")
    wiz.start()
    wait(12)
    shoot(wiz, "wizard_capture.png")
    wiz.close()
    window.close()
    replay.stop()
    bedside.close()
    sys.stdout.flush()
    os._exit(0)


def groups() -> int:
    from PySide6.QtWidgets import QApplication

    from myovox.events import GestureDecision
    from myovox.interact import RequestSuggestions, Speller, SpellerConfig, SuggestionsReady, default_roles
    from myovox.interact.machine import GROUPS
    from myovox.language.suggester import LanguageSuggester
    from myovox.ui.patient_view import PatientView

    app = QApplication(sys.argv[:1])
    names = ["eyebrow", "thumb", "jaw", "foot"]
    speller = Speller(SpellerConfig(GROUPS, default_roles(names, GROUPS)))
    lang = LanguageSuggester()
    t = 0.0
    between = None
    for i, ch in enumerate("i want water"):
        t += 1.0
        if i == len("i want "):
            between = speller.clone()  # "i want ": the word just fixed, its readings on screen
        g = "foot" if ch == " " else names[speller.layout.key_of(ch)]  # the space is the control gesture
        out = speller.handle(GestureDecision(g, 0.95, t))
        for req in [o for o in out if isinstance(o, RequestSuggestions)]:
            speller.handle(SuggestionsReady(req.request_id, tuple(lang.read_groups(*req.query, speller.layout)), t))
    view = PatientView(font_pt=26)
    view.resize(1280, 760)
    view.render(speller)
    view.show()
    app.processEvents()
    OUT.mkdir(parents=True, exist_ok=True)
    between.handle(GestureDecision("foot", 0.95, t + 1))  # the controls, between words
    for name, shown in (("groups_keys.png", speller), ("groups_controls.png", between)):
        view.render(shown)
        app.processEvents()
        view.grab().save(str(OUT / name))
        print("saved", OUT / name)
    return 0


def mass() -> int:
    from PySide6.QtWidgets import QApplication

    from myovox.events import GestureDecision
    from myovox.interact import RequestSuggestions, Speller, SpellerConfig, SuggestionsReady, Tick, default_roles
    from myovox.interact import boards as B
    from myovox.interact.machine import LIKELY, SPLIT
    from myovox.language.api import next_letters
    from myovox.language.suggester import LanguageSuggester

    from myovox.ui.patient_view import PatientView

    app = QApplication(sys.argv[:1])
    lang = LanguageSuggester()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, mode, names in (("split_2_gestures.png", SPLIT, ["eyebrow", "jaw"]),
                              ("split_3_gestures.png", SPLIT, ["eyebrow", "jaw", "foot"]),
                              ("likely_scan.png", LIKELY, ["eyebrow"])):
        speller = Speller(SpellerConfig(mode, default_roles(names, mode)))
        t = [0.0]

        def handle(event):
            out = speller.handle(event)
            for req in [o for o in out if isinstance(o, RequestSuggestions)]:
                cands = lang.predict_words(req.query)
                speller.handle(SuggestionsReady(req.request_id, tuple(cands), t[0], next_letters(lang, req.query, cands)))

        handle(Tick(0.0))
        for ch in "i want ":
            want = B.Cell(B.SPACE) if ch == " " else B.Cell(B.LETTER, ch)
            while True:  # pick the group holding the letter until it is typed (the scan: wait until it is lit)
                groups = speller.current_groups()
                g = next(i for i, grp in enumerate(groups) if any(c == want for c, _ in grp))
                before = speller.message
                t[0] += 1.0
                if mode == LIKELY:
                    while speller.state.lit != g:
                        t[0] = speller.advance_due
                        handle(Tick(t[0]))
                    handle(GestureDecision(names[0], 0.95, t[0]))
                else:
                    handle(GestureDecision(names[g], 0.95, t[0]))
                if speller.message != before:
                    break
        view = PatientView(font_pt=24)
        view.resize(1280, 760)
        view.render(speller)
        view.show()
        app.processEvents()
        view.grab().save(str(OUT / name))
        print("saved", OUT / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(groups() if "--groups" in sys.argv else mass() if "--mass" in sys.argv else main())
