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


# Contractions and what they stand for. A patient abbreviates as they think: "I'm cold" may be typed "ic"
# (one letter per written word), "imc" (one per part) or "iac" (one per word of "I am cold").
CONTRACTIONS = {
    "i'm": "i am", "i'll": "i will", "i've": "i have", "i'd": "i would", "you're": "you are", "you'll": "you will",
    "you've": "you have", "you'd": "you would", "we're": "we are", "we'll": "we will", "we've": "we have",
    "they're": "they are", "they'll": "they will", "they've": "they have", "he's": "he is", "she's": "she is",
    "it's": "it is", "that's": "that is", "what's": "what is", "where's": "where is", "there's": "there is",
    "here's": "here is", "who's": "who is", "let's": "let us", "don't": "do not", "doesn't": "does not",
    "didn't": "did not", "can't": "can not", "couldn't": "could not", "won't": "will not", "wouldn't": "would not",
    "shouldn't": "should not", "isn't": "is not", "aren't": "are not", "wasn't": "was not", "weren't": "were not",
    "haven't": "have not", "hasn't": "has not", "hadn't": "had not", "he'll": "he will", "she'll": "she will",
    "it'll": "it will",
}
_CONTRACTED = {tuple(v.split()): k for k, v in CONTRACTIONS.items() if k not in ("i'd", "you'd")}


def part_initials(word: str) -> str:
    """The letter of each part of a contraction ("i'm" -> "im", "don't" -> "dt"); a plain word's first letter."""
    return "".join(p[0] for p in word.replace("’", "'").split("'") if p)


def phrase_variants(ws: Sequence[str]) -> list[list[str]]:
    """The phrase as written, with its contractions spelled out, and with "i am"-style pairs contracted."""
    out = [list(ws)]
    expanded = [x for w in ws for x in CONTRACTIONS.get(w, w).split()]
    if expanded != out[0]:
        out.append(expanded)
    contracted, i = [], 0
    while i < len(expanded):
        pair = tuple(expanded[i:i + 2])
        if pair in _CONTRACTED:
            contracted.append(_CONTRACTED[pair])
            i += 2
        else:
            contracted.append(expanded[i])
            i += 1
    if contracted not in out:
        out.append(contracted)
    return out


def abbreviation_readings(text: str) -> set[str]:
    """Every way a patient may abbreviate `text`: one letter per written word ("ic" for "I'm cold"), one per
    part of a contraction ("imc"), one per word with the contractions spelled out or made ("iac"), mixed."""
    out: set[str] = set()
    for ws in phrase_variants(words(text)):
        got = {""}
        for w in ws:
            opts = {w[0], part_initials(w)}
            got = {g + o for g in got for o in opts}
            if len(got) > 64:  # a phrase full of contractions: the plain readings suffice
                got = set(list(got)[:64])
        out |= got
    return out


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


def stem(w: str) -> str:
    """Crude stem so an inflection keeps a keyword: "legs" and "leg", "visiting" and "visit", "daughter's"."""
    w = w.replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    return w[:5] if len(w) > 5 else w.rstrip("s") if len(w) > 3 else w


def keyword_words(keywords: Sequence[str]) -> list[str]:
    """The words of the chosen keywords, each once ("cold water" is two)."""
    out: list[str] = []
    for k in keywords:
        for w in words(k):
            if w not in out:
                out.append(w)
    return out


def keeps_keywords(text: str, keywords: Sequence[str]) -> bool:
    """Does `text` use every word of every chosen keyword (or an inflection of it)?"""
    have = {stem(w) for w in words(text)}
    return all(stem(w) in have for w in keyword_words(keywords))


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
