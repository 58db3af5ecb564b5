"""English word frequencies from `wordfreq` (an adapter: the core only sees a plain dict).

A few hundred starter phrases know too few words for a letter speller; a general word list gives
the n-gram model its unigram prior (so "sweater" can be predicted after "swe") and gives the safety
filter a dictionary for spotting garbled model output. Missing wordfreq never stops the speller.
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=2)
def english_word_frequencies(n: int = 40000) -> dict[str, float]:
    """The n most frequent English words -> frequency (empty when wordfreq is not installed)."""
    try:
        import wordfreq  # noqa: PLC0415
    except ImportError:
        return {}
    out: dict[str, float] = {}
    for w in wordfreq.top_n_list("en", n):
        if w.replace("'", "").isalpha():
            out[w] = wordfreq.word_frequency(w, "en")
    return out
