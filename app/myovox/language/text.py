"""Word-level text helpers shared by memory, n-gram, safety and evaluation. Pure stdlib.

One definition of "word", "abbreviation" and "content word" so the speller, the suggester and the
evaluation all agree on what the patient typed and what a candidate means.
"""
from __future__ import annotations

import re
from typing import Sequence

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z0-9]+)*")

#: Function words: left out when deriving keywords from a phrase (what a tile label would not say).
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can can't could couldn't did didn't do does doesn't doing don't down
    during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her
    here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it
    it's its itself let's me more most mustn't my myself no nor not of off on once only or other
    ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some
    such than that that's the their theirs them themselves then there there's these they they'd
    they'll they're they've this those through to too under until up very was wasn't we we'd we'll
    we're we've were weren't what what's when when's where where's which while who who's whom why
    why's will with won't would wouldn't you you'd you'll you're you've your yours yourself
    yourselves just will shall may might must also u""".split()
)


def words(text: str) -> list[str]:
    """Lower-case words, apostrophes kept inside a word ("can't" is one word), punctuation dropped."""
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


def normalize(text: str) -> str:
    """The comparison form of a phrase: lower-case words joined by single spaces."""
    return " ".join(words(text))


def abbreviation(text: str) -> str:
    """First letter of every word, as a patient types it for abbreviation expansion ("I want some water" -> "iwsw")."""
    return "".join(w[0] for w in words(text))


def content_words(text: str) -> list[str]:
    """Keywords of a phrase: the words that are not function words, in order, without repeats."""
    seen: list[str] = []
    for w in words(text):
        if w not in STOPWORDS and w not in seen:
            seen.append(w)
    return seen


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over words divided by the reference length (0.0 is perfect)."""
    ref, hyp = words(reference), words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / len(ref)


def same_phrase(a: str, b: str) -> bool:
    """Two phrases say the same words (case and punctuation ignored)."""
    return normalize(a) == normalize(b)


def read_phrase_file(path, encoding: str = "utf-8") -> list[str]:
    """One phrase per line; blank lines and '#' comments skipped; CRLF tolerated."""
    out: list[str] = []
    with open(path, encoding=encoding, errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


def dedupe(phrases: Sequence[str]) -> list[str]:
    """Keep the first of phrases that say the same words."""
    seen: set[str] = set()
    out = []
    for p in phrases:
        k = normalize(p)
        if k and k not in seen:
            seen.add(k)
            out.append(p)
    return out
