"""What the gesture traces (`groups_trace.py`, `mass_trace.py`) share: held-out starter phrases, a simulated
patient on the real speller and language layer, and the loop that types the phrases. Training text only: the
phrases a trace types are held out of the phrase memory and the n-gram, and never comm_dev or MacKenzie."""
from __future__ import annotations

import argparse

import numpy as np

#: Fixed timing for traces: a burst of 0.82 s and a reaction of 0.35 s (`--measured-timing` where offered).
FIXED_TIMING = ((0.82,), (0.35,), 0.25, 0.25, "fixed (trace)")


def add_trace_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--llm", action="store_true")
    ap.add_argument("--offsets", default="0,40,80")
    ap.add_argument("--step", type=int, default=7)
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--perfect", action="store_true")


def load_backend(llm: bool):
    """The default LLM (one thread), or None for the n-gram alone."""
    if not llm:
        return None
    from myovox.language.backend import LanguageBackend

    backend = LanguageBackend(None, n_threads=1)
    backend.load_now()
    if backend.generator is None:
        raise SystemExit(f"the LLM did not load: {backend.message}")
    return backend


def held_out_runs(args):
    """(offset, seed, test phrases, training phrases) for every offset and seed of the arguments."""
    from myovox.language.memory import load_starter_phrases

    phrases = load_starter_phrases()
    for off in [int(x) for x in args.offsets.split(",")]:
        idx = set(list(range(off, len(phrases), args.step))[: args.count])
        test = [phrases[i] for i in sorted(idx)]
        train = [p for i, p in enumerate(phrases) if i not in idx]
        for seed in [int(x) for x in args.seeds.split(",")]:
            yield off, seed, test, train


def patient_for(train, llm_backend, machine_for, accuracy: float, no_action: float, seed: int, timing=None):
    """A simulated patient typing on `machine_for(prediction)` with a suggester trained on `train` only."""
    from myovox.language.memory import PhraseMemory
    from myovox.language.ngram import NGramModel
    from myovox.language.suggester import LanguageSuggester
    from myovox.language.wordlist import english_word_frequencies
    from myovox.simulate.patient import CachingSuggester, Confusion, Patient
    from myovox.simulate.timing import GestureTiming

    ngram = NGramModel(prior=english_word_frequencies()).train(train)
    sugg = LanguageSuggester(PhraseMemory(train, None), ngram, llm_backend, deadline_s=60.0)
    if llm_backend is None:
        sugg.use_llm_for_words = False
    machine = machine_for("phrases" if llm_backend else "words")
    timing = timing or GestureTiming(*FIXED_TIMING)
    conf = Confusion.from_accuracy(tuple(machine.config.roles), accuracy, no_action)
    return Patient(machine, conf, timing, np.random.default_rng(seed), CachingSuggester(sugg))


def follow_goals(patient) -> None:
    """Keep the patient's current goal on `patient._current_goal`, so a counted gesture can name what it was for."""
    orig_plan = patient._plan

    def plan(goal):
        patient._current_goal = goal
        return orig_plan(goal)

    patient._plan = plan


def type_all(patient, phrases) -> tuple[int, float, int, int]:
    """Type every phrase: (characters, seconds, words, characters spoken wrong)."""
    from myovox.simulate.patient import normalise

    chars = words = wrong = 0
    seconds = 0.0
    for p in phrases:
        r = patient.type_phrase(p)
        chars += r.chars
        seconds += r.seconds
        words += len(normalise(p).split())
        wrong += r.errors
    return chars, seconds, words, wrong
