"""A small word n-gram model: the fallback that always answers, in microseconds, with no model file.

Stupid backoff (Brants et al. 2007) over word trigrams: cheap to train on a few hundred phrases,
good enough to rank next words, complete a partial word and expand an abbreviation by beam search.
An optional unigram prior (word -> count from a larger word list) widens the vocabulary beyond the
training phrases. Pure stdlib.
"""
from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from typing import Iterable, Mapping, Sequence

from .text import words

BOS = "<s>"
EOS = "</s>"
BACKOFF = 0.4


def next_char_mass(weighted_words: Iterable[tuple[str, float]], prefix: str) -> dict[str, float]:
    """The weights of words that continue `prefix`, summed by the character after it (" " when the word is
    the prefix itself); words that do not start with `prefix` are left out."""
    mass: dict[str, float] = defaultdict(float)
    for w, weight in weighted_words:
        if w.startswith(prefix):
            mass[w[len(prefix)] if len(w) > len(prefix) else " "] += weight
    return mass


class NGramModel:
    """Word trigram counts with stupid-backoff scores; `prior` adds vocabulary from a word list."""

    def __init__(self, order: int = 3, prior: Mapping[str, float] | None = None, prior_weight: float = 0.5):
        if order < 1:
            raise ValueError("order must be >= 1")
        self.order = order
        self.counts: dict[tuple[str, ...], Counter] = defaultdict(Counter)  # history -> next-word counts
        self.unigrams: Counter = Counter()
        self.prior: dict[str, float] = {}
        self.prior_weight = prior_weight if prior else 0.0
        if prior:
            total = float(sum(prior.values())) or 1.0
            self.prior = {w: c / total for w, c in prior.items() if w}
        self._total = 0
        self._by_prefix_cache: dict[str, list[str]] = {}
        self._history_totals: dict[tuple[str, ...], float] = {}  # sum of counts after a history, cached
        self._vocabulary: set[str] | None = None

    # ---- training -------------------------------------------------------------------------
    def train(self, phrases: Iterable[str]) -> "NGramModel":
        for phrase in phrases:
            self.add(phrase)
        return self

    def add(self, phrase: str, weight: int = 1) -> None:
        """Count one phrase (the patient's own phrases are added as they are spoken)."""
        toks = words(phrase)
        if not toks:
            return
        seq = [BOS] * (self.order - 1) + toks + [EOS]
        for i in range(self.order - 1, len(seq)):
            w = seq[i]
            for k in range(self.order):
                hist = tuple(seq[i - k:i]) if k else ()
                self.counts[hist][w] += weight
            if w != EOS:
                self.unigrams[w] += weight
            self._total += weight
        self._by_prefix_cache.clear()
        self._history_totals.clear()
        self._vocabulary = None

    # ---- scoring --------------------------------------------------------------------------
    @property
    def vocabulary(self) -> set[str]:
        if self._vocabulary is None:
            self._vocabulary = set(self.unigrams) | set(self.prior)
        return self._vocabulary

    def _unigram(self, w: str) -> float:
        total = self._total
        p_corpus = self.counts[()][w] / total if total else 0.0
        p_prior = self.prior.get(w, 0.0)
        p = (1 - self.prior_weight) * p_corpus + self.prior_weight * p_prior
        return p if p > 0 else 1e-9

    def score(self, word: str, history: Sequence[str]) -> float:
        """Stupid-backoff score of `word` after `history` (lower-case words; BOS padded)."""
        hist = ([BOS] * (self.order - 1) + list(history))[-(self.order - 1):] if self.order > 1 else []
        factor = 1.0
        for k in range(len(hist), 0, -1):
            h = tuple(hist[-k:])
            c = self.counts.get(h)
            if c and c[word]:
                tot = self._history_totals.get(h)
                if tot is None:
                    tot = self._history_totals[h] = sum(c.values())
                return factor * c[word] / tot
            factor *= BACKOFF
        return factor * self._unigram(word)

    def log_score(self, word: str, history: Sequence[str]) -> float:
        return math.log(self.score(word, history))

    # ---- tasks ----------------------------------------------------------------------------
    def words_with_prefix(self, prefix: str) -> list[str]:
        """Vocabulary words starting with `prefix`, most frequent first (cached per prefix)."""
        if prefix in self._by_prefix_cache:
            return self._by_prefix_cache[prefix]
        vocab = self.vocabulary
        out = sorted((w for w in vocab if w.startswith(prefix)), key=lambda w: (-self._unigram(w), w))  # ties by spelling
        if len(self._by_prefix_cache) > 4096:
            self._by_prefix_cache.clear()
        self._by_prefix_cache[prefix] = out
        return out

    def next_words(self, history: Sequence[str], prefix: str = "", n: int = 5, pool: int = 400) -> list[tuple[str, float]]:
        """Top-n words that start with `prefix` after `history`, with log scores, best first."""
        hist = list(history)
        cands: set[str] = set()
        # Words seen after this history (at every backoff level) plus the most frequent words overall.
        padded = ([BOS] * (self.order - 1) + hist)
        for k in range(self.order - 1, 0, -1):
            c = self.counts.get(tuple(padded[-k:]))
            if c:
                cands.update(w for w in c if w != EOS and w.startswith(prefix))
        cands.update(self.words_with_prefix(prefix)[:pool])
        scored = [(w, self.log_score(w, hist)) for w in sorted(cands)]  # ties in a fixed order, not the hash order
        return heapq.nlargest(n, scored, key=lambda t: t[1])

    def next_chars(self, history: Sequence[str], prefix: str = "", pool: int = 2000,
                   initials_weight: float = 0.05, exclude: Iterable[str] = ()) -> list[tuple[str, float]]:
        """The character that comes after `prefix` (the partial last word) following `history`, likeliest
        first with its probability; " " ends the word. Two readings of the prefix are mixed: a word being
        spelled (the words that continue it, the `pool` most frequent plus every word seen after this
        history, their scores summed by their next letter, weighted by how common words with this prefix
        are) and initials being typed for abbreviation expansion (the first letters of words, weighted by
        `initials_weight` times the chance of these initials), so "th" reads as a word and "iw" as initials.
        Words in `exclude` (those already offered whole as candidates) are left out: the letters are for
        the words the candidates do not offer."""
        prefix = prefix.lower()
        skip = {w.lower() for w in exclude} - {prefix}  # the typed word itself still ends with a space
        hist = list(history)
        cands = set(self.words_with_prefix(prefix)[:pool])
        padded = [BOS] * (self.order - 1) + hist
        for k in range(self.order - 1, 0, -1):
            c = self.counts.get(tuple(padded[-k:]))
            if c:
                cands.update(w for w in c if w != EOS and w.startswith(prefix))
        # a fixed order: the sums, and so the ranking, do not depend on hashing
        spelled = next_char_mass(((w, self.score(w, hist)) for w in sorted(cands - skip)), prefix)
        total = sum(spelled.values())
        out: dict[str, float] = defaultdict(float)
        if total > 0:
            word_weight = sum(self._unigram(w) for w in self.words_with_prefix(prefix)) if prefix else 1.0
            for ch, m in spelled.items():
                out[ch] += word_weight * m / total
        else:
            word_weight = 0.0
        if prefix:
            initials = self._next_initials(prefix)
            abbr_weight = initials_weight
            for ch in prefix:
                abbr_weight *= initials.get(ch, 0.0)
            for ch, p in initials.items():
                out[ch] += abbr_weight * p
            norm = word_weight + abbr_weight
        else:
            norm = word_weight
        norm = norm or 1.0
        return sorted(((ch, m / norm) for ch, m in out.items()), key=lambda t: (-t[1], t[0]))

    def _next_initials(self, initials: str, readings: int = 8, pool: int = 300, smoothing: float = 0.3) -> dict[str, float]:
        """P(first letter of the next word) when `initials` are the first letters of the words so far: the
        next words after the likeliest readings of those initials (the abbreviation beam), weighted by the
        readings' scores, smoothed with the first letters of words in general."""
        general = self._initials()
        found = self.expand_abbreviation(initials, (), n=readings, beam=readings)
        if not found:
            return general
        best = max(lp for _, lp in found)
        mass: dict[str, float] = defaultdict(float)
        for phrase, lp in found:
            weight = math.exp(lp - best)
            for w, wlp in self.next_words(phrase.split(), "", n=pool, pool=pool):
                mass[w[0]] += weight * math.exp(wlp)
        total = sum(mass.values()) or 1.0
        out = {ch: smoothing * p for ch, p in general.items()}
        for ch, m in mass.items():
            out[ch] = out.get(ch, 0.0) + (1 - smoothing) * m / total
        return out

    def _initials(self) -> dict[str, float]:
        """P(first letter of a word), from the unigram scores (cached until the model learns a phrase)."""
        key = "\0initials"
        cached = self._by_prefix_cache.get(key)
        if cached is None:
            mass: dict[str, float] = defaultdict(float)
            for w in self.words_with_prefix(""):
                mass[w[0]] += self._unigram(w)
            total = sum(mass.values()) or 1.0
            cached = [(ch, m / total) for ch, m in mass.items()]
            self._by_prefix_cache[key] = cached
        return dict(cached)

    def expand_abbreviation(self, letters: str, history: Sequence[str] = (), n: int = 5, beam: int = 16,
                            per_letter: int = 60) -> list[tuple[str, float]]:
        """Beam search for word sequences whose initials are `letters`; log scores include the end of phrase."""
        letters = "".join(ch for ch in letters.lower() if ch.isalnum())
        if not letters:
            return []
        beams: list[tuple[float, list[str]]] = [(0.0, list(history))]
        start = len(history)
        for ch in letters:
            common = self.words_with_prefix(ch)[:per_letter] or [ch]  # "9", "x": the letter itself as a word
            grown: list[tuple[float, list[str]]] = []
            for lp, seq in beams:
                # Frequent words with this initial plus every word seen after this history with it.
                pool = set(common)
                padded = [BOS] * (self.order - 1) + seq
                for k in range(self.order - 1, 0, -1):
                    c = self.counts.get(tuple(padded[-k:]))
                    if c:
                        pool.update(w for w in c if w != EOS and w.startswith(ch))
                for w in sorted(pool):
                    grown.append((lp + self.log_score(w, seq), seq + [w]))
            beams = heapq.nlargest(beam, grown, key=lambda t: t[0])
        finished = [(lp + self.log_score(EOS, seq), seq[start:]) for lp, seq in beams]
        finished.sort(key=lambda t: -t[0])
        return [(" ".join(seq), lp) for lp, seq in finished[:n]]

    def phrase_log_score(self, phrase: str) -> float:
        """Mean per-word log score of a whole phrase (with its end), for re-ranking candidates."""
        toks = words(phrase)
        if not toks:
            return -1e9
        total, hist = 0.0, []
        for w in toks + [EOS]:
            total += self.log_score(w, hist)
            hist.append(w)
        return total / (len(toks) + 1)
