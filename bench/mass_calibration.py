"""How often the word the patient wants is the language layer's word candidate of rank i, and how often
the next letter is its letter of rank j (for the words not offered): the masses the "likely" and "split"
modes cut their trees by (`interact.mass.MassModel`). Measured on training text only: the starter
phrases, each fold's quarter held out of the phrase memory and the n-gram (never comm_dev or MacKenzie).

    PYTHONPATH=app python bench/mass_calibration.py            # retrieval + n-gram ("words")
    PYTHONPATH=app python bench/mass_calibration.py --llm 48   # with the default LLM, 48 phrases ("phrases")
    ... --n 20: the ranks of 20 word candidates instead of 5
"""
from __future__ import annotations

from collections import Counter, defaultdict


def main() -> int:
    import sys

    llm = "--llm" in sys.argv
    limit = int(sys.argv[sys.argv.index("--llm") + 1]) if llm else None
    n = int(sys.argv[sys.argv.index("--n") + 1]) if "--n" in sys.argv else 5  # word candidates asked for
    from myovox.language.memory import PhraseMemory, load_starter_phrases
    from myovox.language.ngram import NGramModel
    from myovox.language.suggester import LanguageSuggester
    from myovox.language.wordlist import english_word_frequencies
    from myovox.simulate.patient import normalise

    phrases = load_starter_phrases()
    backend = None
    if llm:
        from myovox.language.backend import LanguageBackend

        backend = LanguageBackend(None, n_threads=1)
        backend.load_now()
        if backend.generator is None:
            raise SystemExit(f"the LLM did not load: {backend.message}")
    prior = english_word_frequencies()
    word_hits: dict[int, Counter] = defaultdict(Counter)  # prefix length (capped at 3) -> rank -> count
    word_n: Counter = Counter()
    letter_hits: Counter = Counter()
    letter_n = 0
    for fold in range(4):
        test = [p for i, p in enumerate(phrases) if i % 4 == fold][: (limit // 4) if limit else None]
        train = [p for i, p in enumerate(phrases) if i % 4 != fold]
        sugg = LanguageSuggester(PhraseMemory(train, None), NGramModel(prior=prior).train(train), backend,
                                  deadline_s=60.0)
        if "--llm-slots" in sys.argv:
            sugg.llm_word_slots = int(sys.argv[sys.argv.index("--llm-slots") + 1])
        for phrase in test:
            target = normalise(phrase)
            typed = ""
            for w in target.split():
                for L in range(len(w)):
                    text = typed + w[:L]
                    cands = [c.text.lower() for c in sugg.predict_words(text, n=n)]
                    bucket = min(L, 3)
                    word_n[bucket] += 1
                    if w in cands:
                        word_hits[bucket][cands.index(w)] += 1
                        continue
                    order = sugg.next_letters(text, exclude=tuple(cands))
                    letter_n += 1
                    if w[L] in order:
                        letter_hits[order.index(w[L])] += 1
                typed += w + " "
    for b in sorted(word_n):
        ranks = " ".join(f"{word_hits[b][r] / word_n[b]:.3f}" for r in range(n))
        print(f"word candidates, {b}{'+' if b == 3 else ''} letters typed (n={word_n[b]}): rank 0-{n - 1} {ranks}")
    print(f"next letter when no candidate fits (n={letter_n}): rank 0-9 "
          + " ".join(f"{letter_hits[r] / letter_n:.3f}" for r in range(10)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
