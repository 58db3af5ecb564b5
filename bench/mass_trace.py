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

import numpy as np

CATEGORIES = ("candidate", "letter", "space", "speak", "undo", "help", "misread")


def trace(phrases, train, llm_backend, mode: str, accuracy: float, no_action: float, seed: int, model_changes: dict,
          timing=None):
    from myovox.interact.machine import ScanTiming
    from myovox.interact.mass import MassModel, MassSpeller
    from myovox.language.memory import PhraseMemory
    from myovox.language.ngram import NGramModel
    from myovox.language.suggester import LanguageSuggester
    from myovox.language.wordlist import english_word_frequencies
    from myovox.simulate.patient import CachingSuggester, Confusion, Patient, normalise
    from myovox.simulate.run import make_speller
    from myovox.simulate.timing import GestureTiming

    ngram = NGramModel(prior=english_word_frequencies()).train(train)
    sugg = LanguageSuggester(PhraseMemory(train, None), ngram, llm_backend, deadline_s=60.0)
    if llm_backend is None:
        sugg.use_llm_for_words = False
    machine = make_speller(mode, "phrases" if llm_backend else "words", ScanTiming())
    if model_changes:
        machine = MassSpeller(machine.config, None, replace(MassModel(), **model_changes))
    timing = timing or GestureTiming((0.82,), (0.35,), 0.25, 0.25, "fixed (trace)")
    conf = Confusion.from_accuracy(tuple(machine.config.roles), accuracy, no_action)
    patient = Patient(machine, conf, timing, np.random.default_rng(seed), CachingSuggester(sugg))
    gestures: Counter = Counter()
    seconds: Counter = Counter()
    words = chars = spoken_wrong = 0
    total_s = 0.0
    orig_gesture, orig_plan, orig_wait = patient._gesture, patient._plan, patient._advance_scan

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

    def plan(goal):
        patient._current_goal = goal
        return orig_plan(goal)

    patient._gesture, patient._plan, patient._advance_scan = counted, plan, waited
    for p in phrases:
        r = patient.type_phrase(p)
        chars += r.chars
        total_s += r.seconds
        words += len(normalise(p).split())
        spoken_wrong += r.errors
    return gestures, seconds, chars, total_s, words, spoken_wrong


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", default="likely", choices=("likely", "split", "split3"))
    ap.add_argument("--llm", action="store_true")
    ap.add_argument("--offsets", default="0,40,80")
    ap.add_argument("--step", type=int, default=7)
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--perfect", action="store_true")
    ap.add_argument("--measured-timing", action="store_true",
                    help="burst and reaction times drawn from the recordings, as `myovox simulate` does (default: fixed)")
    ap.add_argument("--set", action="append", default=[], help="MassModel field=value (a float)")
    args = ap.parse_args()
    from myovox.language.memory import load_starter_phrases

    changes = {k: float(v) for k, v in (s.split("=", 1) for s in args.set)}
    backend = None
    if args.llm:
        from myovox.language.backend import LanguageBackend

        backend = LanguageBackend(None, n_threads=1)
        backend.load_now()
        if backend.generator is None:
            raise SystemExit(f"the LLM did not load: {backend.message}")
    phrases = load_starter_phrases()
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
    for off in [int(x) for x in args.offsets.split(",")]:
        idx = list(range(off, len(phrases), args.step))[: args.count]
        test = [phrases[i] for i in idx]
        train = [p for i, p in enumerate(phrases) if i not in set(idx)]
        for seed in [int(x) for x in args.seeds.split(",")]:
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
