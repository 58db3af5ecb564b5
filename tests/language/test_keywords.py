"""Keywords -> sentences, the batched token beam search (pure) against a tiny fake model: every keyword kept,
no end before them, the deadline honoured by counting the passes it starts (no wall clock)."""
from __future__ import annotations

import numpy as np

from myovox.language.initials import PassTimer
from myovox.language.keywords import KeywordSettings, TokenVocab, combine_keywords
from myovox.language.text import keeps_keywords, stem

VOCAB = [" I", " have", " pain", " in", " my", " leg", " arm", " hurts", ",", ".", "?", "\n", "<eos>", "<0x0A>", "<s>"]
TOK = {t: i for i, t in enumerate(VOCAB)}


class FakeLM:
    """A bigram model over tokens (uniform unless set); counts the passes it runs."""

    def __init__(self, likes: dict[str, dict[str, float]], abort_after: int | None = None):
        n = len(VOCAB)
        self.table = np.full((n, n), -8.0, dtype=np.float32)
        for prev, nxt in likes.items():
            for tok, lp in nxt.items():
                self.table[TOK[prev], TOK[tok]] = lp
        self.table -= np.log(np.exp(self.table).sum(axis=1, keepdims=True))
        self.end_ids = np.array([TOK["."], TOK["\n"]])
        self.last_tok = {0: TOK["<s>"]}
        self.passes = 0
        self.abort_after = abort_after

    def start(self, prompt, deadline):
        return self.table[TOK["<s>"]].copy()

    def extend(self, items, deadline):
        if self.abort_after is not None and self.passes >= self.abort_after:
            return None  # the backend abandoned the pass at the deadline
        self.passes += 1
        out = []
        for parent, toks in items:
            h = len(self.last_tok)
            self.last_tok[h] = toks[-1]
            out.append((h, 0.0, self.table[toks[-1]].copy()))
        return out

    def keep(self, handles):
        pass


def vocab() -> TokenVocab:
    text_ok = np.array([not p.startswith("<") and p not in ".?\n" for p in VOCAB])
    first_ok = np.array([p.startswith(" ") for p in VOCAB])

    def word_ids(w):
        return np.array([i for i, p in enumerate(VOCAB) if p.startswith(" ") and p[1:].lower().startswith(stem(w))],
                        dtype=np.int64)

    return TokenVocab(VOCAB, text_ok, first_ok, np.array([TOK["."], TOK["?"]]), np.array([TOK["\n"], TOK["<eos>"]]),
                      word_ids)


# Left alone the model says "I have pain." or "I have pain in my arm."; "leg" is its second choice.
LIKES = {"<s>": {" I": -0.1}, " I": {" have": -0.1}, " have": {" pain": -0.1},
         " pain": {".": -0.1, " in": -1.0}, " in": {" my": -0.1}, " my": {" arm": -0.2, " leg": -0.9},
         " leg": {".": -0.1}, " arm": {".": -0.1}}


def test_every_sentence_keeps_every_keyword_and_none_ends_before_them():
    lm = FakeLM(LIKES)
    res = combine_keywords(lm, vocab(), ["pain", "leg"], "p", settings=KeywordSettings(width=4),
                           timer=PassTimer(0.0, 0.0), deadline=float("inf"), n=3)
    texts = [t for t, _ in res.sentences]
    assert "I have pain in my leg." in texts, texts
    assert all(keeps_keywords(t, ["pain", "leg"]) for t in texts)
    assert "I have pain." not in texts and "I have pain in my arm." not in texts
    assert all(not t.startswith(("<", ",")) for t in texts)
    # The reported score is the model's own mean log-prob: the keyword bonus does not inflate it.
    assert all(lp < 0 for _, lp in res.sentences)


def test_a_single_keyword_ends_where_the_model_would():
    res = combine_keywords(FakeLM(LIKES), vocab(), ["pain"], "p", settings=KeywordSettings(width=4),
                           timer=PassTimer(0.0, 0.0), deadline=float("inf"), n=1)
    assert [t for t, _ in res.sentences] == ["I have pain."]


def test_a_pass_that_would_not_fit_before_the_deadline_is_never_started():
    lm = FakeLM(LIKES)
    # The timer says a pass takes 10 s and the deadline is far closer: only the (cached) prompt is read.
    import time

    res = combine_keywords(lm, vocab(), ["pain", "leg"], "p", settings=KeywordSettings(),
                           timer=PassTimer(10.0, 1.0), deadline=time.monotonic() + 1.0)
    assert lm.passes == 0 and res.passes == 1 and not res.complete and res.sentences == []


def test_a_pass_abandoned_at_the_deadline_returns_only_finished_sentences():
    lm = FakeLM(LIKES, abort_after=3)  # three tokens a beam at most, then the backend gives up
    res = combine_keywords(lm, vocab(), ["pain", "leg"], "p", settings=KeywordSettings(width=4),
                           timer=PassTimer(0.0, 0.0), deadline=float("inf"))
    assert not res.complete and lm.passes == 3 and res.passes == 4
    texts = [t for t, _ in res.sentences]
    assert all(t[-1] in ".?" and len(t.split()) <= 3 and keeps_keywords(t, ["pain", "leg"]) for t in texts), texts


def test_the_search_never_lists_keywords_or_repeats_itself():
    from myovox.language.keywords import _repeats_or_lists

    needed = [stem("run"), stem("risk"), stem("failure")]
    assert _repeats_or_lists(" run, risk", ",", needed)  # the prompt's keyword line copied
    assert not _repeats_or_lists(" I run a risk", ",", needed)  # a part that says something may end in a comma
    assert _repeats_or_lists(" run, fail", " fail", needed)
    assert not _repeats_or_lists(" Thank you for helping me, help me", " please", needed)
    assert _repeats_or_lists(" Thank you for helping me, help me", " help", needed)  # "me, help" again
    assert _repeats_or_lists(" help me, help", " me", needed)  # "help me" said again


def test_a_sentence_never_ends_on_an_unfinished_word():
    likes = {**LIKES, " pain": {" in": -0.1, ".": -3.0}, " in": {".": -0.05, " my": -2.0}}
    res = combine_keywords(FakeLM(likes), vocab(), ["pain"], "p", settings=KeywordSettings(width=4),
                           timer=PassTimer(0.0, 0.0), deadline=float("inf"), n=5)
    texts = [t for t, _ in res.sentences]
    assert texts and not any(t.endswith(" in.") for t in texts), texts


def test_an_ending_the_caller_rejects_does_not_stop_the_search():
    # After "I have pain" the two likeliest tokens both end the sentence; the caller wants more than that.
    likes = {**LIKES, " pain": {".": -0.01, "?": -0.5, " in": -4.0}}
    res = combine_keywords(FakeLM(likes), vocab(), ["pain"], "p", settings=KeywordSettings(width=2, per_beam=2),
                           timer=PassTimer(0.0, 0.0), deadline=float("inf"), n=1, accept=lambda t: "leg" in t)
    assert [t for t, _ in res.sentences] == ["I have pain in my leg."]


def test_each_sentence_is_handed_over_as_it_finishes():
    heard = []
    res = combine_keywords(FakeLM(LIKES), vocab(), ["pain"], "p", settings=KeywordSettings(width=4),
                           timer=PassTimer(0.0, 0.0), deadline=float("inf"), n=3,
                           on_found=lambda t, lp: heard.append((t, lp)))
    assert res.sentences and set(res.sentences) <= set(heard), (heard, res.sentences)
    assert len({t for t, _ in heard}) == len(heard)  # each once (a likelier ending of the same words aside)


def test_nothing_finished_at_the_deadline_the_search_goes_on_until_the_late_deadline():
    import time

    lm = FakeLM(LIKES)
    # The timer says a pass takes 10 s: nothing fits before the deadline, everything before the late one.
    res = combine_keywords(lm, vocab(), ["pain", "leg"], "p", settings=KeywordSettings(width=4),
                           timer=PassTimer(10.0, 1.0), deadline=time.monotonic() + 1.0,
                           late_deadline=time.monotonic() + 1e6, late_n=1)
    assert res.late and lm.passes > 0
    assert len(res.sentences) == 1 and keeps_keywords(res.sentences[0][0], ["pain", "leg"])  # stops at `late_n`
    # Without a late deadline: nothing, as before.
    lm = FakeLM(LIKES)
    res = combine_keywords(lm, vocab(), ["pain", "leg"], "p", settings=KeywordSettings(width=4),
                           timer=PassTimer(10.0, 1.0), deadline=time.monotonic() + 1.0)
    assert not res.late and lm.passes == 0 and res.sentences == []


def test_a_sentence_found_before_the_deadline_never_takes_the_search_late():
    import time

    lm = FakeLM(LIKES, abort_after=3)  # "I have pain." finishes; the pass after three tokens is abandoned
    res = combine_keywords(lm, vocab(), ["pain"], "p", settings=KeywordSettings(width=4),
                           timer=PassTimer(0.0, 0.0), deadline=time.monotonic() + 1e6,
                           late_deadline=time.monotonic() + 2e6)
    assert not res.late and not res.complete and "I have pain." in [t for t, _ in res.sentences]


def test_a_newer_request_stops_the_search_between_passes():
    lm = FakeLM(LIKES)
    res = combine_keywords(lm, vocab(), ["pain", "leg"], "p", settings=KeywordSettings(width=4),
                           timer=PassTimer(0.0, 0.0), deadline=float("inf"), late_deadline=float("inf"),
                           stop=lambda: lm.passes >= 2)
    assert res.stopped and not res.complete and lm.passes == 2
