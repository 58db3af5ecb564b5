"""`myovox run`: the bedside app. By default it replays the bundled real Myo clip over LSL, so it runs on
a machine with no amplifier; `--profile`/`--stream` select real hardware. `--demo-user` lets the
replayed clip drive the speller (calibrated on the clip itself) so a newcomer sees the whole chain."""
from __future__ import annotations

import os
import sys


def add_arguments(parser) -> None:
    parser.add_argument("--profile", default=None, help="device profile of real hardware (default: replay the demo clip)")
    parser.add_argument("--stream", default=None, help="LSL predicate pinning the hardware stream, e.g. \"name='MyoEMG'\"")
    parser.add_argument("--demo-user", action="store_true", help="let the replayed clip's fists drive the speller")
    parser.add_argument("--speed", type=float, default=1.0, help="demo replay speed")
    parser.add_argument("--no-llm", action="store_true", help="suggestions from phrase memory and word list only")
    parser.add_argument("--home", default=None, help="folder for settings, journal, logs (default: the user's folders)")
    parser.add_argument("--seconds", type=float, default=None, help="quit after this many seconds (demos, screenshots)")
    parser.add_argument("--fullscreen", action="store_true", help="full screen (the kiosk start uses it)")
    parser.add_argument("--screenshot", default=None, help="with --seconds: save PNGs of each tab to this folder first")


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal", "vnc", "eglfs", "linuxfb")):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def run(args) -> int:
    if not has_display():
        print("myovox run: there is no display here (no DISPLAY or WAYLAND_DISPLAY), so the bedside window cannot open.\n"
              "  - On the bedside computer, start it from the desktop session.\n"
              "  - To watch the stream and bursts in a terminal instead: myovox monitor --profile myo\n"
              "  - To try the window without a screen: QT_QPA_PLATFORM=offscreen myovox run --seconds 10 --screenshot out/")
        return 2
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .bedside.app import Bedside
    from .profiles import ProfileError, find_profile
    from .ui.main_window import MainWindow

    replay = None
    predicate = args.stream
    profile = None
    if args.profile:
        try:
            profile = find_profile(args.profile)
        except ProfileError as exc:
            print(f"myovox run: {exc}")
            return 2
    elif args.stream:
        profile = None  # real hardware without --profile: the saved device profile (Bedside falls back to myo)
    else:
        from .data.recordings import read_recording
        from .stream.replay import DEMO_CLIP, ReplayOutlet

        try:
            profile = find_profile("myo")
        except ProfileError as exc:  # e.g. a clinic's broken $MYOVOX_PROFILES/myo.toml
            print(f"myovox run: the demo needs the Myo profile, which cannot be used: {exc}")
            return 2
        rec = read_recording(DEMO_CLIP)
        replay = ReplayOutlet(rec, profile, speed=args.speed, loop=True, name="myovox-demo", source_id="myovox-demo",
                              wait_for_listener=True)
        predicate = "name='myovox-demo'"
        print("myovox: replaying the bundled real Myo recording (5 s rest / 5 s fist, looped) as LSL stream 'myovox-demo'")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    stop = _quit_on_sigterm(app)
    bedside = Bedside(profile, predicate=predicate, home=args.home, use_llm=not args.no_llm)
    print(f"myovox: device profile '{bedside.session.profile.key}'", flush=True)
    typist = _demo_user(bedside, bedside.session.profile) if args.demo_user else None
    window = MainWindow(bedside)
    if typist is not None:
        _drive(window, typist)
    if replay is not None:
        replay.start()
    bedside.start()
    window.showFullScreen() if args.fullscreen else window.show()
    if args.seconds:
        def finish():
            if args.screenshot:
                save_screenshots(window, args.screenshot)
            window.close()
            app.quit()
        QTimer.singleShot(int(args.seconds * 1000), finish)
    try:
        code = 0 if stop["requested"] else app.exec()
    finally:
        if replay is not None:
            replay.stop()
        bedside.close()  # journal and log are closed (every record was already fsync'd)
    # Qt bindings can crash while the interpreter tears down their objects (pyqtgraph's documented
    # workaround is to skip that teardown): everything that matters is closed above.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))


def _quit_on_sigterm(app) -> dict:
    """SIGTERM (a service stop, a logout) closes the app the normal way: the journal and the session log are
    closed and the log gets its session-end record. The window's 30 ms timer lets Python see the signal;
    one that arrives before the event loop runs is remembered and the loop is not entered."""
    import signal

    stop = {"requested": False}

    def handler(*_):
        stop["requested"] = True
        app.quit()

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (embedded use): nothing to install
        pass
    return stop


def _demo_user(bedside, profile) -> None:
    from .bedside.calibration import recommend
    from .bedside.setup import demo_calibration
    from .bedside.demo import DemoTypist
    from .interact.machine import DIRECT
    from .stream.replay import DEMO_CLIP

    decoder = bedside.session.decoder
    if decoder is None:
        print(f"--demo-user needs the encoder: {bedside.decoder_message}")
        return
    cal = demo_calibration(decoder, profile, DEMO_CLIP)
    decoder.use(cal)
    if recommend(cal.labels, cal.reliable) is None:
        print("--demo-user: the clip's fists were not reliable enough to drive the speller")
        return None
    # Direct mode: the demo typist moves the highlight with the caregiver's keys, each real fist selects.
    bedside.apply_calibration(cal, DIRECT, {"fist": "select"})
    typist = DemoTypist()
    print(f"demo user: calibrated on the clip's own fists ({', '.join(f'{k} {100 * v:.0f} %' for k, v in cal.per_gesture_accuracy.items())}); "
          f"the caregiver's keys move the highlight to each letter of {' / '.join(typist.phrases)!r} and each "
          f"replayed fist selects it")
    return typist


def _drive(window, typist) -> None:
    """Press the typist's keys on a timer (a phrase is done when the conversation grows by one line)."""
    from PySide6.QtCore import QTimer

    window.demo_timer = QTimer(window)
    window.demo_timer.timeout.connect(lambda: typist.press(window))
    window.demo_timer.start(250)


def save_screenshots(window, folder: str) -> list[str]:
    from pathlib import Path

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    for i, name in enumerate(("patient", "caregiver", "settings")):
        window.tabs.setCurrentIndex(i)
        window.tick()
        path = out / f"{name}.png"
        window.grab().save(str(path))
        saved.append(str(path))
    return saved
