"""Candidate filtering: drop what should never be offered as the patient's voice.

Empty, repeated, garbled and offensive candidates are dropped. Words the patient typed or said
themselves are always allowed: we must never censor the patient, only the machine. Pure stdlib.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Container, Iterable, Sequence

from .api import Candidate
from .text import normalize, stem, words

# A short list of slurs and strong profanity that a model must not put in the patient's mouth.
# (Matched as whole words; the patient may still type any of them.)
OFFENSIVE = frozenset(
    """fuck fucking fucked fucker motherfucker shit shitty bullshit bitch bitches cunt asshole
    bastard dick cock pussy slut whore retard retarded nigger nigga faggot fag dyke kike spic
    chink tranny wanker twat prick""".split()
)

_ALLOWED_CHARS = re.compile(r"^[A-Za-z0-9 ,.'’?!:;\-()\"/&%$]+$")
_VOWEL = re.compile(r"[aeiouy]")
MAX_WORDS = 20
MAX_WORD_LEN = 20


# The words a filler frame is made of ("I am ...", "I need ...", "Please ...", "Can I have ...").
_FRAME_WORDS = frozenset("i i'm am need want please my can have the a some is to".split())


def is_keyword_salad(text: str, keywords: Sequence[str]) -> bool:
    """Two or more keywords dropped side by side into a filler frame: "I am daughter visit.", "Daughter visit."

    Nothing but frame words besides the keywords (or their inflections), and the keywords in one run: no verb
    or preposition joins them, so the sentence does not say how they relate. Keywords listed between commas
    are a salad too (`_lists_keywords`)."""
    toks = words(text)
    kws = [w for k in keywords for w in words(k)]
    if sum(1 for k in keywords if words(k)) < 2:  # one label ("cold water") is the patient's own words
        return False
    if _lists_keywords(text, kws):
        return True
    stems = {stem(w) for w in kws}
    at = [i for i, w in enumerate(toks) if stem(w) in stems]
    if len(at) < 2 or at[-1] - at[0] + 1 != len(at):
        return False
    rest = [w for i, w in enumerate(toks) if i not in at]
    if all(w in _FRAME_WORDS for w in rest):
        return True
    # Tacked on after a comma at the end: "I am tired and want to sleep, pain leg."
    tail = " ".join(toks[at[0]:])
    return at[-1] == len(toks) - 1 and re.search(r",\s*" + r"\W+".join(map(re.escape, tail.split())) + r"\W*$",
                                                 text.lower()) is not None


def _lists_keywords(text: str, kws: Sequence[str]) -> bool:
    """Keywords listed between commas rather than said: two parts of the sentence that are nothing but
    keywords ("See, rings, saturn, I am tired."), or one that ends it ("Physics is hard, chemistry is hard,
    hard"; "I am watching the water, fell, water."). One keyword part first is a way of speaking
    ("Daughter, please visit me.")."""
    stems = {stem(w) for w in kws}
    parts = [words(p) for p in re.split(r"[,;:]", text)]
    parts = [p for p in parts if p]
    only = [i for i, p in enumerate(parts) if all(stem(w) in stems for w in p)]
    return len(parts) > 1 and (len(only) >= 2 or any(i > 0 for i in only))


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def judge(text: str, allowed_words: Iterable[str] = (), known_words: Container[str] | None = None,
          keywords: Sequence[str] = ()) -> Verdict:
    """Is `text` fit to offer? `allowed_words` are the patient's own words (never dropped as offensive);
    with `known_words` (a dictionary) any other word outside it marks the candidate as garbled; with the
    chosen `keywords`, a keyword salad ("I am daughter visit.") is garbled too."""
    stripped = text.strip()
    if not stripped or not words(stripped):
        return Verdict(False, "empty")
    allowed = {w for w in allowed_words}
    toks = words(stripped)
    if not _ALLOWED_CHARS.match(stripped):
        return Verdict(False, "garbled: unusual characters")
    if len(toks) > MAX_WORDS:
        return Verdict(False, "garbled: too long")
    for w in toks:
        if w in allowed:
            continue
        if len(w) > MAX_WORD_LEN:
            return Verdict(False, "garbled: overlong word")
        if len(w) > 4 and w.isalpha() and not _VOWEL.search(w):
            return Verdict(False, "garbled: unpronounceable word")
        if w in OFFENSIVE:
            return Verdict(False, "offensive")
        if known_words is not None and w not in known_words and not w.isdigit():
            return Verdict(False, f"garbled: unknown word")
    for i in range(2, len(toks)):
        if toks[i] == toks[i - 1] == toks[i - 2]:
            return Verdict(False, "garbled: stutter")
    if len(toks) >= 6 and len(set(toks)) <= len(toks) // 2:
        return Verdict(False, "garbled: repetitive")
    if keywords and is_keyword_salad(stripped, keywords):
        return Verdict(False, "garbled: keyword salad")
    return Verdict(True)


def filter_candidates(candidates: Sequence[Candidate], allowed_words: Iterable[str] = (),
                      already: Iterable[Candidate] = (), known_words: Container[str] | None = None,
                      keywords: Sequence[str] = ()) -> list[Candidate]:
    """Keep fit candidates, drop repeats of each other and of `already` (same words = same candidate).
    With `keywords`, salads of them are dropped whatever their source (the patient's own phrases excepted)."""
    allowed = set(allowed_words)
    seen = {normalize(c.text) for c in already}
    out = []
    for c in candidates:
        key = normalize(c.text)
        if key in seen:
            continue
        kws = keywords if c.source not in ("memory", "typed") else ()
        if c.source != "typed" and not judge(c.text, allowed, known_words if c.source == "llm" else None, kws).ok:
            continue
        seen.add(key)
        out.append(c)
    return out
