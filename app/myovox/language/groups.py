"""The ambiguous keyboard's language task: a word's letter-group keys -> the words they can spell.

The letters (and the apostrophe) are split into a few groups; the patient makes one gesture per letter,
naming only its group, and a separate gesture ends the word. `GroupDecoder.decode` ranks the words whose
letters fit the keys typed so far, given the words before them (word list prior + trigrams of the
n-gram model), as readings of the keys ("wat" for the start of "water"), then whole-word completions.
`rescore_with_model` lets the LLM re-rank them where it fits the deadline. Pure: standard library only
(the LLM arrives as an object with `next_words`).

The space is not on a letter key: tried first (the space on one of three keys, so a word's end costs no
gesture), whole phrases decoded with a beam over word boundaries got 20 % of MacKenzie's words right
(60 phrases, n-gram): three keys carry 1.6 bits a character, below what the n-gram can read
English with; with its own gesture the word boundary is certain and only the letters are ambiguous.

The layout is chosen by measurement (`measure_layouts`, `myovox bench group-layout`) on training text
only (the starter phrases and the word list's frequencies), never on the evaluation phrases.
"""
from __future__ import annotations

import heapq
import itertools
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from .text import words

SPACE = " "
SYMBOLS = "abcdefghijklmnopqrstuvwxyz'"
UNKNOWN_PENALTY = -12.0  # log score per letter of keys no known word spells (shown as their likeliest letters)
LETTER_ORDER = "etaoinsrhldcumfpgwybvk'xjqz"  # English letter frequency: a key's fallback reading


@dataclass(frozen=True)
class GroupLayout:
    """Which letters each key carries (every letter and the apostrophe exactly once)."""

    groups: tuple[str, ...]

    def __post_init__(self) -> None:
        joined = "".join(self.groups)
        if sorted(joined) != sorted(SYMBOLS) or len(set(joined)) != len(joined):
            raise ValueError(f"a layout must place every one of {SYMBOLS!r} exactly once, not {self.groups}")
        if len(self.groups) < 2 or not all(self.groups):
            raise ValueError("a layout needs at least two non-empty keys")

    @property
    def keys(self) -> int:
        return len(self.groups)

    def key_of(self, ch: str) -> int:
        for i, g in enumerate(self.groups):
            if ch in g:
                return i
        raise ValueError(f"{ch!r} is on no key")

    def code(self, word: str) -> tuple[int, ...]:
        """The keys that type `word` (lower-case letters and apostrophes)."""
        return tuple(self.key_of(ch) for ch in word)

    def caption(self, key: int) -> str:
        """How a key is drawn: its letters in alphabetical order."""
        return " ".join(sorted(self.groups[key]))

    @classmethod
    def parse(cls, spec: str) -> "GroupLayout":
        """'abc|def|...' one run of letters per key."""
        return cls(tuple(spec.split("|")))

    def spec(self) -> str:
        return "|".join(self.groups)


#: Measured with `myovox bench group-layout` (see `measure_layouts` and the README's "Ambiguous keyboard"):
#: on the starter phrases and the word list's frequencies (training text), the best split found by local
#: search from the best alphabetical split, by the frequency share of words that are not the commonest
#: word of their keys.
DEFAULT_LAYOUTS: dict[int, GroupLayout] = {
    3: GroupLayout.parse("abdefgjwy|'hikmnqsuvx|cloprtz"),
    4: GroupLayout.parse("acdevw|fhikps|jlmno|'bgqrtuxyz"),
}


def layout_for(keys: int) -> GroupLayout:
    if keys not in DEFAULT_LAYOUTS:
        raise ValueError(f"no ambiguous-keyboard layout for {keys} keys (have {sorted(DEFAULT_LAYOUTS)})")
    return DEFAULT_LAYOUTS[keys]


@dataclass(frozen=True)
class Reading:
    """One reading of the keys: the text they spell (after the fixed text), its log score, and whether
    it completes the last word beyond the keys typed (a completion ends with a space)."""

    text: str
    score: float
    completion: bool = False


class GroupDecoder:
    """Readings of group keys against a vocabulary scored by an n-gram model (`NGramModel`-like:
    `vocabulary`, `unigrams`, `score(word, history)`, `counts`, `order`)."""

    def __init__(self, layout: GroupLayout, ngram, max_word: int = 18, prefix_keep: int = 12):
        self.layout = layout
        self.ngram = ngram
        self.max_word = max_word
        self.prefix_keep = prefix_keep
        self._built_for = -1
        self._exact: dict[tuple[int, ...], list[str]] = {}
        self._prefix: dict[tuple[int, ...], list[str]] = {}

    # ---- the vocabulary by code -----------------------------------------------------------
    def _index(self) -> None:
        vocab_size = len(self.ngram.unigrams) + len(self.ngram.prior)
        if self._built_for == vocab_size:
            return
        exact: dict[tuple[int, ...], list[tuple[float, str]]] = defaultdict(list)
        prefix: dict[tuple[int, ...], list[tuple[float, str]]] = defaultdict(list)
        layout = self.layout
        for w in self.ngram.vocabulary:
            if not w or len(w) > self.max_word or any(ch not in SYMBOLS for ch in w):
                continue
            c = layout.code(w)
            u = self.ngram._unigram(w)
            exact[c].append((u, w))
            for k in range(1, len(c)):
                prefix[c[:k]].append((u, w))
        self._exact = {c: [w for _, w in sorted(v, key=lambda t: (-t[0], t[1]))] for c, v in exact.items()}
        self._prefix = {c: [w for _, w in heapq.nsmallest(self.prefix_keep, v, key=lambda t: (-t[0], t[1]))]
                        for c, v in prefix.items()}
        self._built_for = vocab_size

    def words_for(self, code: tuple[int, ...], history: Sequence[str] = ()) -> list[str]:
        """Words spelled exactly by `code` (the 40 commonest), plus those seen after `history`."""
        self._index()
        out = list(self._exact.get(code, ()))[:40]
        for w in self._seen_after(history):
            if len(w) == len(code) and self._fits(w, code) and w not in out:
                out.append(w)
        return out

    def completions_for(self, code: tuple[int, ...], history: Sequence[str] = ()) -> list[str]:
        """Longer words whose first keys are `code` (the commonest, plus those seen after `history`)."""
        self._index()
        out = list(self._prefix.get(code, ()))
        n = len(code)
        for w in self._seen_after(history):
            if len(w) > n and self._fits(w[:n], code) and w not in out:
                out.append(w)
        return out

    def _fits(self, w: str, code: tuple[int, ...]) -> bool:
        return all(ch in SYMBOLS for ch in w) and self.layout.code(w) == code

    def _seen_after(self, history: Sequence[str]) -> list[str]:
        ng = self.ngram
        padded = ["<s>"] * (ng.order - 1) + list(history)
        seen: list[str] = []
        for k in range(ng.order - 1, 0, -1):
            c = ng.counts.get(tuple(padded[-k:]))
            if c:
                seen.extend(w for w in c if w != "</s>" and w not in seen)
        return seen

    def _score(self, w: str, hist: Sequence[str]) -> float:
        return math.log(self.ngram.score(w, list(hist)[-(self.ngram.order - 1):]))

    def _unknown(self, code: tuple[int, ...]) -> str:
        """A segment no word spells: each key's likeliest letter (the patient then spells the word)."""
        return "".join(next(ch for ch in LETTER_ORDER if self.layout.key_of(ch) == k) for k in code)

    # ---- decoding -----------------------------------------------------------------------
    def decode(self, keys: Sequence[int], before: str = "", n: int = 5, completions: int = 2) -> list[Reading]:
        """The readings of a word's `keys` typed after the text `before`, in the order the patient meets
        them: first the likeliest whole word these keys spell (while none does, the likeliest start of longer
        words, their chances summed), then the other whole words, best first (what "other word" walks once
        the word is typed), then up to `completions` longer words (ending with a space). Measured on
        `myovox eval-language --tasks groups` (60 phrases, n-gram): the summed starts first gave top-1 62 %
        on comm_dev and 56 % on MacKenzie, a whole word first 73 % and 67 % (see the README)."""
        keys = tuple(int(k) for k in keys)
        if not keys:
            return []
        hist = words(before)[-(self.ngram.order - 1):]
        n_keys = len(keys)
        exact = {w: self.ngram.score(w, hist) for w in self.words_for(keys, hist)}
        mass: dict[str, float] = defaultdict(float, exact)
        comps: dict[str, float] = {}
        for w in self.completions_for(keys, hist):
            p = self.ngram.score(w, hist)
            mass[w[:n_keys]] += p
            comps[w + SPACE] = p
        if not mass:
            mass[self._unknown(keys)] = math.exp(UNKNOWN_PENALTY * n_keys)
        # a whole word first when the keys spell one (as T9 does): the patient judges the word once it is typed
        pool = exact if exact else mass
        top, top_mass = min(pool.items(), key=lambda t: (-t[1], t[0]))
        out = [Reading(top, math.log(top_mass))]
        for w, p in sorted(exact.items(), key=lambda t: (-t[1], t[0])):
            if w != top and len(out) < n:
                out.append(Reading(w, math.log(p)))
        extra = sorted(comps.items(), key=lambda t: (-t[1], t[0]))[:completions]
        return out + [Reading(t, math.log(p), True) for t, p in extra]


def rescore_with_model(readings: list[Reading], before: str, gen, prompt_for, deadline: float,
                       weight: float = 0.5, k: int = 200) -> tuple[list[Reading], int, bool]:
    """Re-rank readings by the model's opinion of their last whole word, where the deadline allows.

    For each distinct text before a reading's last word (usually one or two) one forward pass gives the
    model's top-k next words; a reading's score moves by `weight` x (model log p - n-gram log p) of that
    word (a floor when the model does not rank it). Returns (readings, passes, finished in time)."""
    if not readings or gen is None:
        return readings, 0, True
    groups: dict[str, list[int]] = defaultdict(list)
    lasts: list[tuple[str, str]] = []
    for idx, r in enumerate(readings):
        full = before + r.text
        body = full.rstrip(" ")
        cut = body.rfind(" ") + 1
        prefix, last = body[:cut], body[cut:]
        lasts.append((prefix, last))
        groups[prefix].append(idx)
    model_lp: dict[int, float] = {}
    passes = 0
    for prefix, idxs in sorted(groups.items(), key=lambda kv: min(kv[1])):
        if time.monotonic() >= deadline:
            return readings, passes, False
        nw = gen.next_words(prompt_for(prefix), "", k=k, deadline=deadline)
        passes += 1
        if not nw.complete:
            return readings, passes, False
        table = {w.lower(): lp for w, lp in nw.words}
        floor = (min(table.values()) - 1.0) if table else -20.0
        for i in idxs:
            last = lasts[i][1]
            whole = readings[i].text.endswith(" ") or readings[i].completion
            # an unfinished word: the model's best word starting with it
            lp = table.get(last) if whole else max((v for w, v in table.items() if w.startswith(last)), default=None)
            model_lp[i] = lp if lp is not None else floor
    out = []
    for i, r in enumerate(readings):
        out.append(Reading(r.text, r.score + weight * model_lp.get(i, 0.0), r.completion))
    main = sorted((r for r in out if not r.completion), key=lambda r: -r.score)
    comp = sorted((r for r in out if r.completion), key=lambda r: -r.score)
    return main + comp, passes, True


# ---- choosing the layout by measurement ---------------------------------------------------------
def collision_error(layout: GroupLayout, freqs: Mapping[str, float]) -> float:
    """T9's disambiguation error without context: the share of word tokens (weighted by frequency) that
    are not the commonest word of their key sequence."""
    best: dict[tuple[int, ...], float] = {}
    total = 0.0
    for w, f in freqs.items():
        c = layout.code(w)
        total += f
        if f > best.get(c, 0.0):
            best[c] = f
    return 1.0 - sum(best.values()) / total if total else 0.0


def training_frequencies(phrases: Iterable[str], prior: Mapping[str, float], top: int = 8000) -> dict[str, float]:
    """Word frequencies of the training text: the word list's commonest words mixed half and half with
    the phrases' own counts (which carry conversational words: "i", "you", "please")."""
    counts: dict[str, float] = defaultdict(float)
    for p in phrases:
        for w in words(p):
            counts[w] += 1.0
    total_c = sum(counts.values()) or 1.0
    ranked = sorted(((f, w) for w, f in prior.items() if all(ch in SYMBOLS for ch in w)), reverse=True)[:top]
    total_p = sum(f for f, _ in ranked) or 1.0
    out: dict[str, float] = defaultdict(float)
    for f, w in ranked:
        out[w] += 0.5 * f / total_p
    for w, c in counts.items():
        if all(ch in SYMBOLS for ch in w):
            out[w] += 0.5 * c / total_c
    return dict(out)


def alphabetical_layouts(keys: int) -> Iterable[GroupLayout]:
    """Every split of a..z into `keys` runs in alphabetical order (the apostrophe on the first key): easy
    to learn, like a phone keypad."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    for cuts in itertools.combinations(range(1, 26), keys - 1):
        bounds = (0,) + cuts + (26,)
        runs = [letters[bounds[i]:bounds[i + 1]] for i in range(keys)]
        runs[0] += "'"
        yield GroupLayout(tuple(runs))


def local_search(start: GroupLayout, freqs: Mapping[str, float], iterations: int = 3000, seed: int = 0) -> GroupLayout:
    """Move or swap single letters between keys while the collision error falls (first improvement)."""
    rng = random.Random(seed)
    best, best_cost = start, collision_error(start, freqs)
    groups = [list(g) for g in start.groups]
    for _ in range(iterations):
        a, b = rng.sample(range(len(groups)), 2)
        x = rng.choice(groups[a])
        trial = [list(g) for g in groups]
        if rng.random() < 0.5:
            y = rng.choice(groups[b])
            trial[a][trial[a].index(x)] = y
            trial[b][trial[b].index(y)] = x
        else:
            if len(trial[a]) <= 2:
                continue
            trial[a].remove(x)
            trial[b].append(x)
        lay = GroupLayout(tuple("".join(sorted(g)) for g in trial))
        cost = collision_error(lay, freqs)
        if cost < best_cost:
            best, best_cost, groups = lay, cost, trial
    return best


def measure_layouts(freqs: Mapping[str, float], keys: int, search_iterations: int = 2000) -> dict:
    """The best alphabetical split and the best free split found from it, with their collision errors."""
    alpha = sorted(alphabetical_layouts(keys), key=lambda lay: collision_error(lay, freqs))
    best_alpha = alpha[0]
    free = local_search(best_alpha, freqs, iterations=search_iterations)
    return {"keys": keys, "words": len(freqs),
            "alphabetical": {"layout": best_alpha.spec(), "collision": collision_error(best_alpha, freqs), "tried": len(alpha)},
            "free": {"layout": free.spec(), "collision": collision_error(free, freqs), "iterations": search_iterations}}


def read_keys(decoder: GroupDecoder, before: str, keys: Sequence[int], *, gen=None, prompt_for=None,
              deadline: float | None = None, n: int = 5, completions: int = 2) -> tuple[list, dict]:
    """The suggester's answer to a "groups" request: `Candidate`s (readings best first, then completions)
    and a content-free report (passes, whether the model ran and finished before the deadline)."""
    from .api import Candidate  # noqa: PLC0415

    readings = decoder.decode(keys, before, n=n + 3 if gen is not None else n, completions=completions)
    report = {"llm_used": False, "llm_passes": 0, "deadline_hit": False}
    if gen is not None and prompt_for is not None and readings:
        rescored, passes, done = rescore_with_model(readings, before, gen, prompt_for,
                                                    deadline if deadline is not None else time.monotonic() + 1.5)
        report.update(llm_used=passes > 0, llm_passes=passes, deadline_hit=not done)
        if done:
            readings = rescored
    main = [r for r in readings if not r.completion][:n]
    comp = [r for r in readings if r.completion][:completions]
    src = "llm" if report["llm_used"] and not report["deadline_hit"] else "ngram"
    return [Candidate(r.text, r.score, src) for r in main + comp], report
