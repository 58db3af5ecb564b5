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

import numpy as np

CATEGORIES = ("key", "space", "walk", "spell", "speak", "undo", "misread", "help")


def trace(phrases, train, llm_backend, accuracy: float, no_action: float, seed: int):
    from myovox.interact import boards as B
    from myovox.interact import keyboard as KB
    from myovox.interact.events import Selected
    from myovox.interact.machine import ScanTiming
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
    machine = make_speller("groups", "phrases" if llm_backend else "words", ScanTiming())
    timing = GestureTiming((0.82,), (0.35,), 0.25, 0.25, "fixed (trace)")
    conf = Confusion.from_accuracy(tuple(machine.config.roles), accuracy, no_action)
    patient = Patient(machine, conf, timing, np.random.default_rng(seed), CachingSuggester(sugg))
    counts: Counter = Counter()
    lengths: Counter = Counter()
    words = 0
    chars = 0
    seconds = 0.0
    spoken_wrong = 0
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

    orig_plan = patient._plan

    def plan(goal):
        patient._current_goal = goal
        return orig_plan(goal)

    patient._gesture = counted
    patient._plan = plan
    for p in phrases:
        r = patient.type_phrase(p)
        chars += r.chars
        seconds += r.seconds
        words += len(normalise(p).split())
        spoken_wrong += r.errors
    return counts, chars, seconds, words, spoken_wrong, lengths


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llm", action="store_true")
    ap.add_argument("--offsets", default="0,40,80")
    ap.add_argument("--step", type=int, default=7)
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--perfect", action="store_true")
    args = ap.parse_args()
    from myovox.language.memory import load_starter_phrases

    backend = None
    if args.llm:
        from myovox.language.backend import LanguageBackend

        backend = LanguageBackend(None, n_threads=1)
        backend.load_now()
        if backend.generator is None:
            raise SystemExit(f"the LLM did not load: {backend.message}")
    phrases = load_starter_phrases()
    acc, na = (1.0, 0.0) if args.perfect else (0.95, 0.05)
    total: Counter = Counter()
    walks: Counter = Counter()
    chars = words = err = 0
    seconds = 0.0
    for off in [int(x) for x in args.offsets.split(",")]:
        idx = list(range(off, len(phrases), args.step))[: args.count]
        test = [phrases[i] for i in idx]
        train = [p for i, p in enumerate(phrases) if i not in set(idx)]
        for seed in [int(x) for x in args.seeds.split(",")]:
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
