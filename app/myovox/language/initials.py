"""Abbreviation expansion as a word-level beam search that the language model scores in batches.

Every word must start with the next letter the patient chose. Candidate words come from the word
list (wordfreq plus the phrases the n-gram knows, contractions such as "don't" and "I'm" included),
written in the casings a sentence uses. One model pass per letter scores *all* beams at once: each
beam is its own sequence in llama.cpp's KV cache, sharing the cached prompt, so the width costs
rows in a batch rather than extra passes. A word's first token is scored from the logits the beam
already has (with the word list splitting that token's mass among the words that begin with it);
the pass that adds the chosen word then gives its exact log likelihood, so beams are re-ranked on
the model's own numbers. The final pass's logits also give the probability that the sentence ends
there. The score mixes the model with the n-gram/wordfreq prior: `llm + prior_weight * prior`.

When the next pass would miss the deadline the search stops and the n-gram finishes the remaining
letters of each beam, so a slow machine degrades to "model prefix + n-gram tail", never to nothing.

Pure: numpy and the standard library; the model is reached through the small `BatchLM` protocol
(`llama_backend.LlamaCppGenerator.beam_session` implements it).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol, Sequence

import numpy as np

from .text import part_initials

SINGLE_LETTER_WORDS = frozenset({"a", "i", "u"})


class BatchLM(Protocol):
    """Next-token log-probabilities for many continuations of one prompt, one pass per `extend`."""

    end_ids: np.ndarray  # tokens that end a sentence (".", "?", "!", newline)

    def start(self, prompt: str, deadline: float | None) -> np.ndarray | None:
        """Evaluate the prompt (cached prefix reused); log-probs of its next token, or None at the deadline."""

    def extend(self, items: Sequence[tuple[int, Sequence[int]]], deadline: float | None
               ) -> list[tuple[int, float, np.ndarray]] | None:
        """Append tokens to beams (0 = the prompt); per item (new handle, log-prob of tokens 2.. of
        the item given token 1, log-probs of the next token). None when the deadline stopped it."""

    def keep(self, handles: Sequence[int]) -> None:
        """Forget every beam except these (frees their cache cells)."""


def display_form(word: str, initial: bool) -> str:
    """How a word is written: 'i' and its contractions as 'I...', the first word of a sentence capitalised."""
    if word == "i" or word.startswith("i'"):
        return "I" + word[1:]
    return word[:1].upper() + word[1:] if initial else word


@dataclass
class LetterForms:
    """Surface forms of the words starting with one letter, ready for vectorised scoring."""

    texts: list[str]
    words: list[str]
    tokens: list[tuple[int, ...]]
    first: np.ndarray  # first token of each form
    group_lp: np.ndarray  # log P(word | its first token), from word frequencies


class FormIndex:
    """Word list -> per-letter forms with their tokens (tokenised once, cached).

    A key is one letter (the words starting with it, contractions included: "I'm" for "i") or two letters
    (the contractions typed one letter per part: "I'm" for "im", "don't" for "dt"). A letter or digit no
    word starts with still has itself as a form, so no abbreviation leaves the search with nothing."""

    def __init__(self, frequencies: Mapping[str, float], tokenize: Callable[[list[str]], list[tuple[int, ...]]],
                 extra_words: Sequence[str] = ()):
        self.freq: dict[str, float] = {}
        floor = self.floor = min(frequencies.values(), default=1e-6)
        for w, f in frequencies.items():
            if self._usable(w):
                self.freq[w] = float(f)
        for w in extra_words:
            if self._usable(w) and w not in self.freq:
                self.freq[w] = floor
        for w in SINGLE_LETTER_WORDS:
            self.freq.setdefault(w, floor)
        self.tokenize = tokenize
        self._cache: dict[tuple[str, bool], LetterForms] = {}

    @staticmethod
    def _usable(w: str) -> bool:
        if w.isdigit():
            return len(w) <= 4
        return bool(w) and w[0].isalpha() and w.replace("'", "").isalpha() and (len(w) > 1 or w in SINGLE_LETTER_WORDS)

    def add(self, word: str) -> None:
        if self._usable(word) and word not in self.freq:
            self.freq[word] = min(self.freq.values(), default=1e-6)
            self._cache = {k: v for k, v in self._cache.items() if k[0][0] != word[0]}

    def forms(self, letter: str, initial: bool) -> LetterForms:
        key = (letter, initial)
        got = self._cache.get(key)
        if got is not None:
            return got
        texts, ws, fs = [], [], []
        if len(letter) == 1:
            chosen = [(w, f) for w, f in self.freq.items() if w[0] == letter]
            if not any(w == letter for w, _ in chosen) and (letter.isdigit() or not chosen):
                chosen.append((letter, self.floor))  # "9", "x": the letter itself is always a form
        else:
            chosen = [(w, f) for w, f in self.freq.items() if "'" in w and part_initials(w) == letter]
        for w, f in chosen:
            shown = {display_form(w, initial)}
            if not initial:
                shown.add(display_form(w, True))  # names and places ("Saturday", "Chicago") mid-sentence
            for t in sorted(shown):
                texts.append(t)
                ws.append(w)
                fs.append(f)
        toks = self.tokenize([" " + t for t in texts]) if texts else []
        keep = [i for i, t in enumerate(toks) if t]
        texts, ws, toks = [texts[i] for i in keep], [ws[i] for i in keep], [tuple(toks[i]) for i in keep]
        freq = np.array([fs[i] for i in keep], dtype=np.float64)
        first = np.array([t[0] for t in toks], dtype=np.int64)
        group_lp = np.zeros(len(first))
        if len(first):
            # Share each first token's probability among the words that start with it, by word frequency.
            uniq, inv = np.unique(first, return_inverse=True)
            tot = np.zeros(len(uniq))
            np.add.at(tot, inv, freq)
            group_lp = np.log(freq) - np.log(tot[inv])
        got = LetterForms(texts, ws, toks, first, group_lp)
        self._cache[key] = got
        return got


@dataclass
class Beam:
    words: tuple[str, ...]
    texts: tuple[str, ...]
    handle: int
    llm: float  # exact log likelihood of the tokens so far
    prior: float  # n-gram log score of the words so far
    next_lp: np.ndarray | None
    tokens: int = 0
    tail: tuple[str, ...] = ()  # words the n-gram added after the deadline stopped the model
    pos: int = 0  # letters used so far (a contraction typed one letter per part uses two)
    penalty: float = 0.0  # what the words that used two letters cost, beside the model's score


@dataclass
class PassTimer:
    """Seconds per model pass as `fixed + per_row * rows`, learned from the passes this process made."""

    fixed: float = 0.06
    per_row: float = 0.012

    def estimate(self, rows: int) -> float:
        return self.fixed + self.per_row * rows

    def rows_within(self, seconds: float, safety: float = 1.0, row_safety: float = 1.0, default: int = 0) -> int:
        """How many rows one pass may hold to take at most `seconds` with `safety` x its estimated time
        (rows planned `row_safety` x as slow as measured); `default` when no row cost is known yet."""
        if self.per_row <= 0:
            return default
        return int((seconds / safety - self.fixed) / (self.per_row * row_safety))

    def observe(self, rows: int, seconds: float) -> None:
        # Attribute the error to both terms in proportion; slow drift, robust to one noisy pass.
        est = self.estimate(rows)
        ratio = max(0.3, min(3.0, seconds / est)) if est > 0 else 1.0
        self.fixed *= ratio ** 0.2
        self.per_row *= ratio ** 0.2


@dataclass
class Expansion:
    candidates: list[tuple[str, float]] = field(default_factory=list)  # (text, score), best first
    complete: bool = True  # False: the deadline stopped the model and the n-gram finished the beams
    reason: str = ""
    passes: int = 0
    width: int = 0


@dataclass
class SearchSettings:
    """Defaults chosen on the MacKenzie phrase set (never on comm_dev, the test set); see the issue notes."""

    width: int = 12  # most beams kept per letter (the deadline usually allows fewer)
    min_width: int = 2
    per_beam: int = 40  # candidate words per beam taken to the combined score
    # Weight of the n-gram/wordfreq log score beside the model's. 0.3 and 0.7 lost exact matches to 0 on
    # MacKenzie (the trigram is trained on too few phrases to judge the model's choices); word frequencies
    # still split a first token's probability among the words that begin with it.
    prior_weight: float = 0.0
    length_alpha: float = 0.0  # model score divided by (tokens + 1) ** alpha (0: plain sum)
    margin_s: float = 0.05  # kept free before the deadline
    # A pass is started only if `safety` x its estimated time still fits (shared CPUs vary), and the width is
    # planned for rows `width_safety` x as slow as measured so far. 1.3 and 1.3 planned widths of 4 on a loaded
    # machine; on MacKenzie 60-179 (interleaved, same load) 1.3/1.3 found 9 of 120 in the top 5, 1.1/1.0 13
    # (width 7), and 1.0/0.8 on 120-179 lost to deadline hits (3 of 60 against 5): see the issue 14 note.
    safety: float = 1.1
    width_safety: float = 1.0
    # Score the last word exactly and the sentence's end with one more pass, when it fits before the deadline
    # (otherwise the n-gram's end of sentence stands in). Without it 21 % of first candidates ended in "to",
    # "the", "a" or "my"; on MacKenzie it cost no exact matches (see the issue 14 note).
    final_pass: bool = True
    end_weight: float = 1.0  # weight of log P(sentence ends here) from the model's last pass
    ngram_end_weight: float = 1.0  # weight of the n-gram's log P(end | last words) when that pass did not fit
    # A contraction read from two letters ("im" -> "I'm") is one word fewer than the sentence the other beams
    # spell: it pays about one word's log likelihood, so "But I'd" does not beat three-word readings of "bid".
    part_reading_cost: float = 3.0
    # Log likelihood of a word the n-gram added after the deadline (it has no model score of its own).
    word_estimate: float = -3.0


def _logsumexp(x: np.ndarray) -> float:
    m = float(np.max(x))
    return m + math.log(float(np.exp(x - m).sum()))


def expand_initials(lm: BatchLM, index: FormIndex, letters: str, prompt: str,
                    prior: Callable[[Sequence[str], str], float],
                    complete: Callable[[Sequence[str], str], tuple[list[str], float] | None],
                    settings: SearchSettings, timer: PassTimer, deadline: float, n: int = 5,
                    end_word: str = "</s>") -> Expansion:
    """Beam search over words with the given initials; scores mix the model and `prior`.

    A word uses one letter, or two when it is a contraction typed one letter per part ("im" -> "I'm").
    `prior(history, word)` is the n-gram log score; `complete(history, letters)` is the n-gram's best
    continuation for the letters the model had no time for ((words, log score) or None)."""
    res = Expansion()
    letters = "".join(ch for ch in letters.lower() if ch.isalnum())
    if not letters:
        return res
    s = settings
    n_letters = len(letters)
    # Passes still needed: the prompt's own tail (free when cached), then one per letter (one less without
    # the final pass).
    budget = deadline - time.monotonic() - s.margin_s
    per_pass = budget / (n_letters + (1 if s.final_pass else 0))
    width = timer.rows_within(per_pass, s.safety, s.width_safety, default=s.width)
    width = max(s.min_width, min(s.width, width))
    res.width = width
    start_lp = lm.start(prompt, deadline)
    if start_lp is None:
        return Expansion(complete=False, reason="deadline", width=width)
    res.passes = 1
    live = [Beam((), (), 0, 0.0, 0.0, start_lp)]
    finished: list[tuple[float, str]] = []

    def fits(rows: int) -> bool:
        return time.monotonic() + s.safety * timer.estimate(rows) <= deadline - s.margin_s

    while live:
        pool: list[tuple[float, Beam, LetterForms, int, int]] = []
        for b in live:
            for size in (1, 2):
                if b.pos + size > n_letters:
                    continue
                forms = index.forms(letters[b.pos:b.pos + size], initial=b.pos == 0)
                if not len(forms.first):
                    continue
                new_pos = b.pos + size
                approx = b.next_lp[forms.first] + forms.group_lp
                k = min(s.per_beam, len(approx))
                top = np.argpartition(-approx, k - 1)[:k]
                cost = b.penalty - (s.part_reading_cost if size == 2 else 0.0)
                for j in top:
                    p = s.prior_weight * (b.prior + prior(b.words, forms.words[j])) if s.prior_weight else 0.0
                    pool.append((b.llm + float(approx[j]) + p + cost, b, forms, int(j), new_pos))
        if not pool:
            if not finished:
                return Expansion(complete=False, reason=f"no word starts with {letters[live[0].pos]!r}", width=width)
            break
        pool.sort(key=lambda x: -x[0])
        cont: list[tuple[Beam, LetterForms, int, int]] = []
        ending: list[tuple[Beam, LetterForms, int, int]] = []
        seen: set[tuple] = set()
        # A beam that ends the sentence costs at most the final pass, so more of them may be drawn than `width`.
        take_end = max(width, 2 * n)
        for _, b, forms, j, new_pos in pool:
            key = (b.words + (forms.words[j],), new_pos)
            if key in seen:
                continue
            seen.add(key)
            if new_pos == n_letters:
                if len(ending) < take_end:
                    ending.append((b, forms, j, new_pos))
            elif len(cont) < width:
                cont.append((b, forms, j, new_pos))
            if len(ending) >= take_end and len(cont) >= width:
                break
        rows_cont = sum(len(f.tokens[j]) for _, f, j, _ in cont)
        rows_end = sum(len(f.tokens[j]) for _, f, j, _ in ending)
        exact_end = s.final_pass and bool(ending) and fits(rows_cont + rows_end)
        if not exact_end:
            # The last word from its first-token score, the n-gram saying whether the sentence may end there.
            for b, f, j, _ in ending:
                w = f.words[j]
                nb = Beam(b.words + (w,), b.texts + (f.texts[j],), 0,
                          b.llm + float(b.next_lp[f.first[j]] + f.group_lp[j]), b.prior + prior(b.words, w),
                          None, b.tokens + len(f.tokens[j]), pos=n_letters, penalty=_penalty(b, n_letters, s))
                end = s.ngram_end_weight * prior(nb.words, end_word) if s.final_pass else 0.0
                finished.append((_score(nb, 0.0, s) + end + s.prior_weight * prior(nb.words, end_word), _text(nb)))
        items = cont + (ending if exact_end else [])
        if not items:
            break
        if cont and not fits(rows_cont + (rows_end if exact_end else 0)):
            return _finish_with_ngram(res, live, letters, prior, complete, s, n, end_word, finished)
        t = time.monotonic()
        got = lm.extend([(b.handle, f.tokens[j]) for b, f, j, _ in items], deadline)
        if got is None:
            return _finish_with_ngram(res, live, letters, prior, complete, s, n, end_word, finished)
        timer.observe(rows_cont + (rows_end if exact_end else 0), time.monotonic() - t)
        res.passes += 1
        new = []
        for (b, f, j, new_pos), (handle, inner, next_lp) in zip(items, got):
            w = f.words[j]
            tok = f.tokens[j]
            nb = Beam(b.words + (w,), b.texts + (f.texts[j],), handle, b.llm + float(b.next_lp[tok[0]]) + inner,
                      b.prior + prior(b.words, w), next_lp, b.tokens + len(tok), pos=new_pos,
                      penalty=_penalty(b, new_pos, s))
            if new_pos == n_letters:
                end = _logsumexp(next_lp[lm.end_ids]) if len(lm.end_ids) else 0.0
                finished.append((_score(nb, s.end_weight * end, s) + s.prior_weight * prior(nb.words, end_word),
                                 _text(nb)))
            else:
                new.append(nb)
        new.sort(key=lambda b: -_score(b, 0.0, s))
        lm.keep([b.handle for b in new])
        live = new
    res.candidates = _best(finished, n, n_letters + 1)
    return res


def _best(scored: list[tuple[float, str]], n: int, per: int) -> list[tuple[str, float]]:
    scored = sorted(scored, key=lambda x: -x[0])
    out, seen = [], set()
    for sc, text in scored:
        if text not in seen:
            seen.add(text)
            out.append((text, sc / per))
        if len(out) >= n:
            break
    return out


def _penalty(parent: Beam, new_pos: int, s: SearchSettings) -> float:
    return parent.penalty - (s.part_reading_cost if new_pos - parent.pos == 2 else 0.0)


def _score(b: Beam, end: float, s: SearchSettings) -> float:
    llm = b.llm + end
    if s.length_alpha:
        llm = llm / (b.tokens + 1) ** s.length_alpha * (len(b.words) + 1)
    return llm + s.prior_weight * b.prior + b.penalty


def _text(b: Beam) -> str:
    return " ".join(b.texts + b.tail)


def _finish_with_ngram(res: Expansion, beams: list[Beam], letters: str, prior, complete, s: SearchSettings,
                       n: int, end_word: str, finished: Sequence[tuple[float, str]] = ()) -> Expansion:
    """The deadline came first: the n-gram finishes each beam's remaining letters."""
    res.complete = False
    res.reason = "deadline"
    scored = list(finished)
    for b in beams[:n]:  # the best beams only: this runs on the deadline's margin
        got = complete(b.words, letters[b.pos:])
        if got is None:
            continue
        tail, lp = got
        tb = Beam(b.words, b.texts, b.handle, b.llm, b.prior, None, b.tokens,
                  tuple(display_form(w, not b.words and i == 0) for i, w in enumerate(tail)), b.pos, b.penalty)
        # The tail's words have no model score: each counts as an average word, so they rank beside finished beams.
        scored.append((_score(tb, 0.0, s) + s.prior_weight * lp + s.word_estimate * len(tail), _text(tb)))
    res.candidates = _best(scored, n, len(letters) + 1)
    return res


def sentence_score(lm: BatchLM, prompt: str, tokens: Sequence[Sequence[int]], settings: SearchSettings) -> float | None:
    """The score `expand_initials` gives a sentence that uses one letter per word (`tokens`: each word's tokens,
    as the search writes them): the model's log likelihood plus the weighted log P(sentence ends), as the final
    pass computes it. Comparing it with the search's candidates tells a search error (the target scores higher
    but was not found) from a model error (the model prefers the others). None at the deadline."""
    lp = lm.start(prompt, None)
    if lp is None:
        return None
    handle, total = 0, 0.0
    for tok in tokens:
        if not tok:
            return None
        got = lm.extend([(handle, tuple(tok))], None)
        if not got:
            return None
        (handle, inner, next_lp), = got
        total += float(lp[tok[0]]) + inner
        lp = next_lp
    end = _logsumexp(lp[lm.end_ids]) if len(lm.end_ids) else 0.0
    return total + settings.end_weight * end
