"""Where the gestures and the seconds of the probability-mass modes ("likely", "split") go, measured on
training text only.

The simulated patient (`simulate.patient.Patient`, the real speller and language layer) types starter
phrases held out of the phrase memory and the n-gram (every `--step`-th phrase from each offset; never
comm_dev or MacKenzie), 95 % + 5 % no action, fixed timing (burst 0.82 s, reaction 0.35 s). Every gesture
and every second is counted under the item the patient was after: a word, a letter, the space, speak
(with its confirmations), undo, help; gestures the decoder misread, and (likely) seconds spent waiting for
the scan.

    PYTHONPATH=app python bench/mass_trace.py --mode likely                  # n-gram
    PYTHONPATH=app python bench/mass_trace.py --mode split --llm --offsets 3,50
    ... --perfect: no misreads; --set name=value: a MassModel field changed (e.g. scan_share=0.4)
    ... --measured-timing: the recordings' burst and reaction times instead of fixed ones (likely needs it: a
        change that wins with fixed timing can lose with the measured spread, see the session 8b note)
"""
from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import replace

from trace_common import add_trace_arguments, follow_goals, held_out_runs, load_backend, patient_for, type_all

CATEGORIES = ("candidate", "letter", "space", "speak", "undo", "help", "misread")


def trace(phrases, train, llm_backend, mode: str, accuracy: float, no_action: float, seed: int, model_changes: dict,
          timing=None):
    from myovox.interact.machine import ScanTiming
    from myovox.interact.mass import MassModel, MassSpeller
    from myovox.simulate.run import make_speller

    def machine_for(prediction):
        machine = make_speller(mode, prediction, ScanTiming())
        return MassSpeller(machine.config, None, replace(MassModel(), **model_changes)) if model_changes else machine

    patient = patient_for(train, llm_backend, machine_for, accuracy, no_action, seed, timing)
    gestures: Counter = Counter()
    seconds: Counter = Counter()
    orig_gesture, orig_wait = patient._gesture, patient._advance_scan

    def kind():
        return getattr(patient, "_current_goal").kind

    def counted(role, path):
        t0 = patient.clock
        outs, made, wrong = orig_gesture(role, path)
        k = "misread" if wrong else kind()
        gestures[k] += made
        seconds[k] += patient.clock - t0
        return outs, made, wrong

    def waited():
        t0 = patient.clock
        orig_wait()
        seconds["wait:" + kind()] += patient.clock - t0

    patient._gesture, patient._advance_scan = counted, waited
    follow_goals(patient)
    chars, total_s, words, spoken_wrong = type_all(patient, phrases)
    return gestures, seconds, chars, total_s, words, spoken_wrong


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", default="likely", choices=("likely", "split", "split3"))
    add_trace_arguments(ap)
    ap.add_argument("--measured-timing", action="store_true",
                    help="burst and reaction times drawn from the recordings, as `myovox simulate` does (default: fixed)")
    ap.add_argument("--set", action="append", default=[], help="MassModel field=value (a float)")
    args = ap.parse_args()
    changes = {k: float(v) for k, v in (s.split("=", 1) for s in args.set)}
    backend = load_backend(args.llm)
    timing = None
    if args.measured_timing:
        from myovox.data.recordings import shared_data_dir
        from myovox.simulate.timing import measure_timing

        timing = measure_timing(shared_data_dir())
    acc, na = (1.0, 0.0) if args.perfect else (0.95, 0.05)
    g_all: Counter = Counter()
    s_all: Counter = Counter()
    chars = words = err = 0
    seconds = 0.0
    for off, seed, test, train in held_out_runs(args):
        g, s, n, secs, w, e = trace(test, train, backend, args.mode, acc, na, seed, changes, timing)
        print(f"offset {off} seed {seed}: {(n / 5) / (secs / 60):.2f} wpm, {sum(g.values()) / n:.3f} gestures/char",
              flush=True)
        g_all.update(g)
        s_all.update(s)
        chars, seconds, words, err = chars + n, seconds + secs, words + w, err + e
    g = sum(g_all.values())
    print(f"ALL {args.mode} {changes or ''}: {(chars / 5) / (seconds / 60):.2f} wpm, {g / chars:.3f} gestures/char, "
          f"{seconds / words:.2f} s a word ({chars / words:.2f} chars a word with its space), final error {err / chars:.2%}")
    keys = sorted(set(s_all) | set(g_all), key=lambda k: -s_all[k])
    for k in keys:
        print(f"  {k:16s} {g_all[k] / words:5.2f} gestures a word  {s_all[k] / words:6.2f} s a word  {s_all[k] / seconds:6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
