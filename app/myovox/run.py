"""`myovox run`: until the bedside app lands, replay the embedded real clip over LSL and monitor bursts.

With `--profile`/`--stream` it monitors real hardware instead of the replay.
"""
from __future__ import annotations

from .data.recordings import read_recording
from .profiles import find_profile


def add_arguments(parser) -> None:
    parser.add_argument("--profile", default=None, help="device profile of real hardware (default: replay the demo clip)")
    parser.add_argument("--stream", default=None, help="LSL predicate pinning the hardware stream")
    parser.add_argument("--speed", type=float, default=1.0, help="demo replay speed")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")


def run(args) -> int:
    from .stream.monitor import monitor
    from .stream.replay import DEMO_CLIP, ReplayOutlet

    if args.profile or args.stream:
        return monitor(args.profile or "myo", args.stream, args.seconds)
    rec = read_recording(DEMO_CLIP)
    profile = find_profile("myo")
    outlet = ReplayOutlet(rec, profile, speed=args.speed, loop=True, name="myovox-demo", source_id="myovox-demo")
    print(f"demo: replaying the bundled real Myo recording ({rec.duration_s:.0f} s, looped: 5 s rest / 5 s fist) "
          f"as LSL stream 'myovox-demo'. Ctrl+C stops.")
    outlet.start()
    try:
        return monitor("myo", "name='myovox-demo'", args.seconds)
    finally:
        outlet.stop()
