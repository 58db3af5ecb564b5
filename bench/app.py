"""Bedside app benchmarks, offscreen: burst onset -> highlight on screen, and the longest UI-thread stall.

    myovox bench app [--seconds 120] [--no-llm]

The real clip is replayed over LSL in real time; the demo calibration (the clip's own fists, one gesture,
scan mode) turns bursts into selections, so every fist changes the screen; the language model runs on the
phrases those selections ask for (full load: acquisition, encoder, LLM and speech threads all busy).
Latency is on the stream clock: from the detected burst onset (the decision's time) to the attempt's decision
(the sample that made it possible, and its arrival on the UI thread), and to the moment the window has
repainted the new highlight. The stall is how late a 10 ms UI timer ran, worst case.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="myovox bench app")
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--no-llm", action="store_true")
    args = ap.parse_args(argv)

    import numpy as np
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from myovox.bedside.app import Bedside
    from myovox.bedside.setup import demo_calibration
    from myovox.data.recordings import read_recording
    from myovox.profiles import find_profile
    from myovox.stream.replay import DEMO_CLIP, ReplayOutlet
    from myovox.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    profile = find_profile("myo")
    name = f"bench-app-{os.getpid()}"
    replay = ReplayOutlet(read_recording(DEMO_CLIP), profile, speed=1.0, loop=True, name=name, source_id=name,
                          wait_for_listener=True)
    home = tempfile.mkdtemp(prefix="myovox-bench-")
    bedside = Bedside(profile, predicate=f"name='{name}'", home=home, use_llm=not args.no_llm)
    cal = demo_calibration(bedside.session.decoder, profile, DEMO_CLIP)
    bedside.session.decoder.use(cal)
    bedside.apply_calibration(cal, "scan", {"fist": "select"})
    window = MainWindow(bedside)
    window.measure_paint = True
    import time as _time

    slow = []
    inner = window._tick

    def timed_tick():
        t0 = _time.perf_counter()
        inner()
        dt = (_time.perf_counter() - t0) * 1000
        if dt > 20:
            slow.append(dt)

    window._tick = timed_tick
    from pylsl import local_clock

    decided = []  # (stream time the UI thread received it, decision)
    pump = bedside.session.pump

    def collecting_pump(now=None):
        view = pump(now)
        decided.extend((local_clock(), d) for d in view.decisions)
        return view

    bedside.session.pump = collecting_pump
    window.show()
    replay.start()
    bedside.start()
    window.stall.reset()
    QTimer.singleShot(int(args.seconds * 1000), app.quit)
    app.exec()
    replay.stop()
    lat = [1000 * (t - d.time) for t, d in window.highlight_changes if d.label is not None]
    stalls = np.array(window.stall.samples) * 1000
    if decided:
        rule = np.array([1000 * d.latency_s for _, d in decided])
        got = np.array([1000 * (t - d.time) for t, d in decided])
        print(f"attempt decisions: {len(decided)} ({sum(d.is_action for _, d in decided)} acted); onset -> the sample that "
              f"decided: median {np.median(rule):.0f} ms, p95 {np.percentile(rule, 95):.0f} ms; onset -> decision on the UI "
              f"thread: median {np.median(got):.0f} ms, p95 {np.percentile(got, 95):.0f} ms (target median <= 300, p95 <= 500)")
    llm = bedside.suggester.status if bedside.suggester else "off"
    print(f"== bedside app, {args.seconds:g} s of the real clip replayed in real time ({llm})")
    if lat:
        print(f"burst onset -> highlight painted: {len(lat)} selections, median {statistics.median(lat):.0f} ms, "
              f"p95 {np.percentile(lat, 95):.0f} ms, max {max(lat):.0f} ms "
              f"(target p95 <= decision window {profile.decision_ms:g} ms + 50 ms)")
    else:
        print("no selections were made: no burst became a decision")
    print(f"UI-thread stall (lateness of a 10 ms timer): median {np.median(stalls):.1f} ms, "
          f"p95 {np.percentile(stalls, 95):.1f} ms, max {stalls.max():.1f} ms over {len(stalls)} beats (target max <= 50 ms)")
    elapsed = np.cumsum(stalls + 10) / 1000
    steady = stalls[elapsed > 5.0]
    print(f"after the first 5 s (model loading, first layout): max stall {steady.max():.1f} ms, p95 {np.percentile(steady, 95):.1f} ms")
    worst = np.argsort(stalls)[-5:]
    print("worst stalls at (s after start: ms): " + ", ".join(f"{elapsed[i]:.1f}: {stalls[i]:.0f}" for i in worst))
    print(f"UI ticks over 20 ms: {len(slow)} ({', '.join(f'{x:.0f}' for x in sorted(slow)[-5:])} ms)")
    print(f"language requests served: {bedside.session.language_worker.failures if bedside.session.language_worker else 0} failures; "
          f"UI faults {window.ui_faults}")
    bedside.close()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
