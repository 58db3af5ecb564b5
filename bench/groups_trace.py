"""Where the gestures of the ambiguous keyboard (mode "groups") go, measured on training text only.

The simulated patient (`simulate.patient.Patient`, the real speller and language layer) types starter
phrases held out of the phrase memory and the n-gram (every `--step`-th phrase from `--offset`; never
comm_dev or MacKenzie), and every gesture is counted under what the patient was doing when it made it:
a letter key, ending a word (the space), walking the readings, spelling, speaking, or recovering (the
undo and the way to it after a misread, and the misread gestures themselves).

    PYTHONPATH=app python bench/groups_trace.py                       # n-gram, 95 % + 5 % no action
    PYTHONPATH=app python bench/groups_trace.py --llm --offsets 3,50  # with the default LLM
    ... --perfect: no misreads (the keyboard's own cost)
"""
from __future__ import annotations

import argparse
from collections import Counter

from trace_common import add_trace_arguments, follow_goals, held_out_runs, load_backend, patient_for, type_all

CATEGORIES = ("key", "space", "walk", "spell", "speak", "undo", "misread", "help")


def trace(phrases, train, llm_backend, accuracy: float, no_action: float, seed: int):
    from myovox.interact import boards as B
    from myovox.interact import keyboard as KB
    from myovox.interact.events import Selected
    from myovox.interact.machine import ScanTiming
    from myovox.simulate.run import make_speller

    patient = patient_for(train, llm_backend, lambda prediction: make_speller("groups", prediction, ScanTiming()),
                          accuracy, no_action, seed)
    counts: Counter = Counter()
    lengths: Counter = Counter()
    kinds = {KB.KEY: "key", B.SPACE: "space", KB.OTHER: "walk", KB.SPELL_START: "spell", B.LETTER: "spell",
             KB.DONE: "spell", B.SPEAK: "speak", B.UNDO: "undo", B.HELP: "help"}
    orig = patient._gesture

    run = [0]  # readings walked since the last word began

    def counted(role, path):
        goal = patient._current_goal
        outs, made, wrong = orig(role, path)
        counts["misread" if wrong else kinds.get(goal.kind, goal.kind)] += made
        for o in outs:
            if isinstance(o, Selected) and o.kind == KB.OTHER:
                run[0] += 1
            elif isinstance(o, Selected) and o.kind in (KB.KEY, B.SPEAK) and run[0]:
                lengths[min(run[0], 4)] += 1
                run[0] = 0
            elif isinstance(o, Selected) and o.kind == KB.SPELL_START:
                run[0] = 0
        return outs, made, wrong

    patient._gesture = counted
    follow_goals(patient)
    chars, seconds, words, spoken_wrong = type_all(patient, phrases)
    return counts, chars, seconds, words, spoken_wrong, lengths


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_trace_arguments(ap)
    args = ap.parse_args()
    backend = load_backend(args.llm)
    acc, na = (1.0, 0.0) if args.perfect else (0.95, 0.05)
    total: Counter = Counter()
    walks: Counter = Counter()
    chars = words = err = 0
    seconds = 0.0
    for off, seed, test, train in held_out_runs(args):
        c, n, s, w, e, lens = trace(test, train, backend, acc, na, seed)
        walks.update(lens)
        g = sum(c.values())
        print(f"offset {off} seed {seed}: {(n / 5) / (s / 60):.2f} wpm, {g / n:.3f} gestures/char, "
              f"{g / w:.2f} a word; " + ", ".join(f"{k} {c[k] / w:.2f}" for k in CATEGORIES) + " (per word)",
              flush=True)
        total.update(c)
        chars, seconds, words, err = chars + n, seconds + s, words + w, err + e
    g = sum(total.values())
    print(f"ALL: {(chars / 5) / (seconds / 60):.2f} wpm, {g / chars:.3f} gestures/char, {g / words:.2f} gestures a word "
          f"({chars / words:.2f} chars a word with its space), final error {err / chars:.2%}")
    for k in CATEGORIES:
        print(f"  {k:8s} {total[k] / words:5.2f} a word  {total[k] / chars:5.3f} a char  {total[k] / g:6.1%}")
    print("  readings walked per walked word (4 = 4 or more, spelled words not counted): "
          + ", ".join(f"{k}: {walks[k]}" for k in sorted(walks)) + f" (of {words} words)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
