"""The ambiguous keyboard's candidate search against its deadline, and the measurement that chose its layout.

`myovox bench groups [--threads 2] [--deadline 1.5] [--layout]`. Every key press of a few phrases
written here (not from the evaluation sets) asks for the readings of the word's keys after the words
before it, as the speller does: once with the model re-ranking (the product, deadline 1.5 s) and once
with the n-gram alone (the baseline), in the same run. Prints median and p95 per request and how
often the model finished before the deadline. `--layout` also reruns the layout measurement
(`language.groups.measure_layouts`: starter phrases + word-list frequencies, training text only).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from myovox.language import groups  # noqa: E402
from myovox.language.backend import LanguageBackend  # noqa: E402
from myovox.language.memory import PhraseMemory, load_starter_phrases  # noqa: E402
from myovox.language.suggester import LanguageSuggester, default_ngram  # noqa: E402
from myovox.language.text import words  # noqa: E402

TYPING = ("Could you turn the music down", "I would like a cup of tea", "Tell my sister I said hello",
          "Please move my left leg", "When is the doctor coming back")


def _stats(xs: list[float]) -> str:
    s = sorted(xs)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]
    return f"median {statistics.median(s) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  max {s[-1] * 1000:7.1f} ms  (n={len(s)})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="myovox bench groups")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--deadline", type=float, default=1.5)
    p.add_argument("--layout", action="store_true", help="also rerun the layout measurement (minutes)")
    args = p.parse_args(argv or [])
    layout = groups.layout_for(3)
    memory = PhraseMemory(load_starter_phrases())
    backend = LanguageBackend(None, n_threads=args.threads)
    t0 = time.monotonic()
    backend.load_now()
    print(f"model: {backend.message} (load {time.monotonic() - t0:.1f} s, {args.threads} threads); layout {layout.spec()}")
    product = LanguageSuggester(memory, default_ngram(memory), backend, deadline_s=args.deadline)
    baseline = LanguageSuggester(memory, default_ngram(memory), None, deadline_s=args.deadline)
    for sug in (product, baseline):
        sug.read_groups("", "0", layout)  # the word index is built once at start-up, not per call
    for name, sug in (("model + n-gram", product), ("n-gram only", baseline)):
        lat, hits, ran = [], 0, 0
        for phrase in TYPING:
            ws = words(phrase)
            for i, w in enumerate(ws):
                before = " ".join(ws[:i]) + (" " if i else "")
                code = layout.code(w)
                for k in range(1, len(code) + 1):
                    t = time.monotonic()
                    sug.read_groups(before, code[:k], layout, deadline_s=args.deadline)
                    lat.append(time.monotonic() - t)
                    hits += sug.last.deadline_hit
                    ran += sug.last.llm_used
        print(f"{name:15s} readings per key press: {_stats(lat)}; model ran {ran}, deadline hit {hits} "
              f"(deadline {args.deadline} s)")
    if args.layout:
        from myovox.language.wordlist import english_word_frequencies  # noqa: PLC0415

        freqs = groups.training_frequencies(load_starter_phrases(), english_word_frequencies())
        for keys in (3, 4):
            print(groups.measure_layouts(freqs, keys))
    return 0
