"""Keywords -> sentences: a token-level beam search that the language model scores in batches.

The patient picks a few keywords ("daughter", "visit"); the model writes sentences around all of them.
Every beam is its own sequence in the model's KV cache sharing the cached prompt, so one pass per token
extends all beams at once (the width costs rows in a batch, not passes), where sampling one sentence after
another paid a whole pass per token per sentence and finished two at most in 1.5 s.

Constraints (never relaxed): a sentence may not end before it uses every keyword word (or an inflection of
it, by `text.stem`); only tokens of plain text may be written; no comma after a part that is nothing but
keywords and no word or pair of words said again (the model otherwise copies the prompt's keyword line: "run,
risk, failure", and repeats itself: "Thank you for helping me, help me, help me"). Guidance (the model's score stays its own):
while a keyword is missing, the tokens that begin it get `bonus` nats in the choice and in the beam's rank,
so a fluent sentence without the keyword does not push out one that places it.

The deadline is honoured by planning: a pass starts only if its estimated time (the `PassTimer` the
abbreviation search also teaches) fits before the deadline; the pass itself is abandoned by the backend at
the deadline. Ending a sentence costs no pass (the end token's probability is in the logits the beam has),
so whatever finished before the deadline is returned; an unfinished beam never is.

Streaming and the late answer: `on_found` hears of each sentence the moment it finishes, so the caller can
show it at once instead of waiting for all of them. If nothing has finished at the deadline, a `late_deadline`
lets the same beams go on (bounded) until `late_n` sentences have finished; `stop` (a newer request is
waiting) ends the search between passes at any time.

Pure: numpy and the standard library; the model is reached through `initials.BatchLM`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .initials import BatchLM, PassTimer
from .text import stem, words


# A sentence does not end on these ("I changed my fax number to.").
UNFINISHED = frozenset("to the a an my your our their his her of and or but for with at in on from by".split())


@dataclass(frozen=True)
class TokenVocab:
    """What the search needs to know about the model's tokens (built by the backend adapter)."""

    pieces: Sequence[str]  # token id -> its text (a leading space where the token starts a word)
    text_ok: np.ndarray  # bool per token: plain text a sentence may contain (letters, space, ,'-)
    first_ok: np.ndarray  # bool per token: may begin the sentence (a word after a space)
    end_ids: np.ndarray  # tokens that end the sentence (".", "?", "!")
    stop_ids: np.ndarray  # tokens that end the answer without a mark (newline, end of text)
    word_ids: Callable[[str], np.ndarray]  # tokens that begin a word or an inflection of it


@dataclass
class KeywordSettings:
    width: int = 6  # most beams kept per token (the deadline may allow fewer)
    min_width: int = 2
    per_beam: int = 3  # next tokens (besides ending) taken from each beam to the pool
    # Nats for a token that begins a missing keyword (choice and rank; not the reported score). On MacKenzie
    # (interleaved, 30 phrases with 3+ keywords from 0 and 30 with 2+ from 100) 3 beat 2 on both slices: answers
    # with 2+ model sentences 22 vs 20 and 27 vs 21 of 30; 1 lost keywords, 4 and 6 wrote salads ("Much hand handle").
    bonus: float = 3.0
    max_tokens: int = 24
    max_words: int = 15
    # Passes a sentence usually needs, for planning the width. Planning for 4 + 3 per keyword instead (narrower
    # beams for more keywords) and a width of 3 made no difference on MacKenzie's 30 first phrases with 3+ keywords.
    expected_tokens: int = 12
    safety: float = 1.1  # a pass starts only if safety x its estimated time fits
    margin_s: float = 0.05  # kept free before the deadline (the caller's filtering and ranking; as the abbreviation search)


@dataclass
class KeywordResult:
    sentences: list[tuple[str, float]] = field(default_factory=list)  # (text, mean token log-prob), best first
    passes: int = 0
    width: int = 0
    complete: bool = True  # False: the deadline (or `stop`) stopped the search
    late: bool = False  # nothing had finished at the deadline: the search went on towards `late_deadline`
    stopped: bool = False  # `stop` ended it (a newer request was waiting)


@dataclass
class _Beam:
    handle: int
    text: str
    lp: float  # the model's own log likelihood of the tokens
    rank: float  # lp + the keyword bonuses earned
    tokens: int
    next_lp: np.ndarray


def _missing(text: str, needed: Sequence[str]) -> list[str]:
    have = {stem(w) for w in words(text)}
    return [st for st in needed if st not in have]


def _repeats_or_lists(text: str, piece: str, needed: Sequence[str]) -> bool:
    """Would `piece` list the keywords instead of saying them? A comma after a part of the sentence that is
    nothing but keywords ("run, risk, failure"; the model copies the prompt's keyword line), a word said
    twice in a row ("fail, fail") or a pair of words said again ("help me, help me"). A piece that only begins
    a longer word is judged as that word's start (close enough: the check is a guide, `safety` the filter)."""
    if piece.strip() == ",":
        part = words(text.rsplit(",", 1)[-1])
        return bool(part) and all(stem(w) in needed for w in part)
    if piece.startswith(" ") and piece[1:2].isalpha():
        said = words(text)
        if not said:
            return False
        new = piece[1:].lower()
        # The same word again, or a pair of words said again ("help me, help me", "fax number ... fax number").
        return new == said[-1] or any(said[i] == said[-1] and said[i + 1] == new for i in range(len(said) - 1))
    return False


def combine_keywords(lm: BatchLM, vocab: TokenVocab, keywords: Sequence[str], prompt: str, *,
                     settings: KeywordSettings, timer: PassTimer, deadline: float, n: int = 5,
                     accept: Callable[[str], bool] = lambda t: True,
                     on_found: Callable[[str, float], None] | None = None, late_deadline: float | None = None,
                     late_n: int = 2, stop: Callable[[], bool] | None = None) -> KeywordResult:
    """Up to `n` sentences that use every keyword word, best (mean token log-prob) first; `accept` drops a
    finished sentence (and it does not count towards `n`); `on_found(text, mean token log-prob)` hears of each
    as it finishes (again if a likelier ending of the same words comes: "X?" after "X."). The search stops at
    the deadline, when every beam has ended, once `n` have finished and no live beam is as likely per token as
    the n-th of them, or when `stop()` says so. If none has finished at the deadline and `late_deadline` is
    later, it goes on until then or until `late_n` have finished (`late` is set)."""
    s = settings
    res = KeywordResult()
    kw_words = list(dict.fromkeys(w for k in keywords for w in words(k)))
    needed = list(dict.fromkeys(stem(w) for w in kw_words))
    ids_of = {stem(w): vocab.word_ids(w) for w in kw_words}
    budget = deadline - time.monotonic() - s.margin_s
    per_pass = budget / max(1, s.expected_tokens)
    width = timer.rows_within(per_pass, s.safety, default=s.width)
    res.width = width = max(s.min_width, min(s.width, width))
    limit = deadline  # the time the search must end by; moves to `late_deadline` if nothing finished by then
    can_go_late = late_deadline is not None and late_deadline > deadline
    start = lm.start(prompt, (late_deadline if can_go_late else deadline) - s.margin_s)
    if start is None:
        res.complete = False
        return res
    res.passes = 1
    live = [_Beam(0, "", 0.0, 0.0, 0, start)]
    finished: dict[str, tuple[str, float]] = {}  # the sentence's words -> (text as written, mean log-prob)
    end_set = set(vocab.end_ids.tolist())
    end_or_stop = np.concatenate([vocab.end_ids, vocab.stop_ids]).astype(np.int64)
    end_or_stop_set = set(end_or_stop.tolist())
    not_first, not_text = ~vocab.first_ok, ~vocab.text_ok

    def finish(text: str, lp: float, tokens: int) -> None:
        text = " ".join(text.split())
        key = " ".join(words(text))
        if key and len(words(text)) <= s.max_words and accept(text):
            mean = lp / max(1, tokens)
            if key not in finished or mean > finished[key][1]:  # "X." and "X?" are one sentence: the likelier
                finished[key] = (text, mean)
                if on_found is not None:
                    on_found(text, mean)

    step_s = 0.0  # the longest choosing step of this call (numpy over every beam's logits), measured

    def fits(rows: int) -> bool:
        """The pass and the choosing step after it fit before the deadline (less the margin)."""
        return time.monotonic() + s.safety * (timer.estimate(rows) + step_s) <= limit - s.margin_s

    def enough(cont) -> bool:
        """`n` sentences finished and no live beam as likely per token as the n-th of them: stop early. Late
        (nothing was there at the deadline), `late_n` finished are enough."""
        if res.late and len(finished) >= min(n, late_n):
            return True
        if len(finished) < n:
            return False
        nth = sorted((m for _, m in finished.values()), reverse=True)[n - 1]
        return max((b.lp + lp) / (b.tokens + 1) for b, _, lp, _ in cont) <= nth

    while live:
        t_step = time.monotonic()
        pool: list[tuple[float, _Beam, int, float, float]] = []  # (rank, beam, token, lp, bonus)
        for b in live:
            missing = _missing(b.text, needed)
            choice = b.next_lp.astype(np.float32, copy=True)
            choice[not_first if b.tokens == 0 else not_text] = -np.inf
            bonus = np.zeros_like(choice)
            for st in missing:
                bonus[ids_of[st]] = s.bonus
            choice += bonus
            said = words(b.text)
            if missing or not said or said[-1] in UNFINISHED:
                choice[end_or_stop] = -np.inf  # no end before every keyword, nor on "to", "the"... (nor empty)
            else:
                choice[end_or_stop] = b.next_lp[end_or_stop]
            if b.tokens + 1 >= s.max_tokens:  # the last token allowed must end it
                keep = choice[end_or_stop].copy()
                choice[:] = -np.inf
                choice[end_or_stop] = keep
            # An end token among the beam's `per_beam` likeliest ends a sentence (no pass needed); the beam still
            # continues with its `per_beam` likeliest other tokens, so a rejected ending does not stop the search.
            k = min(2 * s.per_beam + 4 + len(end_or_stop), int(np.isfinite(choice).sum()))
            if k <= 0:
                continue
            top = np.argpartition(-choice, k - 1)[:k]
            taken = 0
            for place, t in enumerate(sorted(top.tolist(), key=lambda t: -choice[t])):
                if taken >= s.per_beam:
                    break
                if t in end_or_stop_set:
                    if place < s.per_beam:
                        pool.append((b.rank + float(choice[t]), b, t, float(b.next_lp[t]), 0.0))
                    continue
                if _repeats_or_lists(b.text, vocab.pieces[t], needed):
                    continue
                taken += 1
                pool.append((b.rank + float(choice[t]), b, t, float(b.next_lp[t]), float(bonus[t])))
        if not pool:
            break
        pool.sort(key=lambda x: -x[0])
        cont: list[tuple[_Beam, int, float, float]] = []
        for rank, b, t, lp, bon in pool:
            if t in end_or_stop_set:
                mark = vocab.pieces[t].strip() if t in end_set else "."  # a newline ends it as a statement
                finish(b.text + mark, b.lp + lp, b.tokens + 1)
            elif len(cont) < width:
                cont.append((b, t, lp, bon))
        if not cont or enough(cont):
            break
        if stop is not None and stop():
            res.complete, res.stopped = False, True
            break
        step_s = max(step_s, time.monotonic() - t_step)
        if not fits(len(cont)) and can_go_late and not finished and limit == deadline:
            limit, res.late = late_deadline, True  # nothing to show yet: the same beams go on, bounded
        if not fits(len(cont)):
            res.complete = False
            break
        t0 = time.monotonic()
        got = lm.extend([(b.handle, (t,)) for b, t, _, _ in cont], limit - s.margin_s)
        if got is None and can_go_late and not finished and limit == deadline:  # abandoned at the deadline
            lm.keep([b.handle for b in live])  # free what the abandoned pass took, then the same pass again
            limit, res.late = late_deadline, True
            t0 = time.monotonic()
            got = lm.extend([(b.handle, (t,)) for b, t, _, _ in cont], limit - s.margin_s)
        if got is None:
            res.complete = False
            break
        timer.observe(len(cont), time.monotonic() - t0)
        res.passes += 1
        live = [_Beam(h, b.text + vocab.pieces[t], b.lp + lp, b.rank + lp + bon, b.tokens + 1, nxt)
                for (b, t, lp, bon), (h, _, nxt) in zip(cont, got)]
        lm.keep([b.handle for b in live])
    res.sentences = sorted(finished.values(), key=lambda x: -x[1])[:n]
    return res
