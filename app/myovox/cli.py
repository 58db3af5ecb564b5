"""`myovox` command line: one subcommand per job, each living in the stage that does the work.

Each entry names a module with `add_arguments(parser)` and `run(args) -> int`; modules are imported
only when their command runs, so `myovox monitor` never loads Qt, torch or llama.cpp.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("myovox.run", "the bedside app (on the embedded demo recording replayed over LSL unless --profile names hardware)"),
    "profiles": ("myovox.profiles.cli", "list the device profiles and check they load"),
    "replay": ("myovox.stream.replay", "publish a recording as a live LSL stream, paced in real time"),
    "monitor": ("myovox.stream.monitor", "connect to an LSL EMG stream and print bursts and stream state"),
    "eval-bursts": ("myovox.signal.evaluate", "burst detection on the real recordings: detected reps, lag, false bursts"),
    "train": ("myovox.training.train", "pre-train a gesture encoder on the shared data and export ONNX + model card"),
    "evaluate": ("myovox.decode.evaluate", "gesture accuracy protocols: encoder vs LDA baseline (JSON, Markdown, PNG)"),
    "bench": ("myovox.bench", "benchmarks: throughput, latency, memory (prints figures)"),
    "eval-language": ("myovox.language.evaluate", "language layer on the phrase sets: top-1/5, WER, keystroke savings, latency; LLM vs retrieval vs n-gram"),
    "report": ("myovox.report.render", "the clinician's progression report of a patient: HTML + PNG plots from calibrations and session logs"),
    "install-autostart": ("myovox.kiosk.install", "start the bedside app full-screen at login and restart it after a crash (systemd user unit or XDG autostart)"),
    "uninstall-autostart": ("myovox.kiosk.uninstall", "remove what install-autostart wrote"),
    "self-check": ("myovox.selfcheck", "load the encoder, the language model and the voice, and say what works"),
    "simulate": ("myovox.simulate.run", "communication-rate simulator: wpm, gestures/char, savings, errors per mode"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="myovox", description="sEMG bursts to speech, offline, at the bedside")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        # Arguments are added lazily in main() for the chosen command only.
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser.print_help() if not argv or argv[0] in ("-h", "--help") else parser.error(f"unknown command {argv[0]!r}")
        return 0
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    sub = argparse.ArgumentParser(prog=f"myovox {name}", description=COMMANDS[name][1])
    module.add_arguments(sub)
    args = sub.parse_args(argv[1:])
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
