"""The abbreviation beam search (pure) against a tiny fake model: initials kept, model likelihood wins,
multi-token words and contractions scored exactly, the deadline degrades to an n-gram tail."""
from __future__ import annotations

import time

import numpy as np

from myovox.language.initials import FormIndex, PassTimer, SearchSettings, display_form, expand_initials
from myovox.language.ngram import NGramModel
from myovox.language.text import abbreviation, words

# A toy tokenizer: every form is one token except "saturday"/"Saturday", which are two (" sat" + "urday").
FORMS = [" I", " i", " want", " Want", " some", " Some", " water", " Water", " wine", " Wine", " soup", " Soup",
         " sat", " Sat", " don't", " Don't", " do", " Do", " is", " Is", " we", " We", " see", " See",
         " I'm", " cold", " Cold", " to", " To", " tea", " Tea", " u", " U", " 9"]
VOCAB = FORMS + ["urday", ".", "\n", "<s>"]
TOK = {t: i for i, t in enumerate(VOCAB)}


def tokenize(texts):
    out = []
    for t in texts:
        if t.lower() == " saturday":
            out.append((TOK[t[:4]], TOK["urday"]))
        elif t in TOK:
            out.append((TOK[t],))
        else:
            out.append(())
    return out


class FakeLM:
    """A bigram model over tokens: `table[prev][next]` log-probabilities (uniform unless set)."""

    def __init__(self, likes: dict[str, dict[str, float]], pass_s: float = 0.0):
        n = len(VOCAB)
        self.table = np.full((n, n), -8.0)
        for prev, nxt in likes.items():
            for tok, lp in nxt.items():
                self.table[TOK[prev], TOK[tok]] = lp
        self.table -= np.log(np.exp(self.table).sum(axis=1, keepdims=True))
        self.end_ids = np.array([TOK["."], TOK["\n"]])
        self.handles = {0: TOK["<s>"]}
        self.passes = 0
        self.pass_s = pass_s

    def start(self, prompt, deadline):
        return self.table[TOK["<s>"]].copy()

    def extend(self, items, deadline):
        if self.pass_s:
            time.sleep(self.pass_s)
        self.passes += 1
        out = []
        for parent, toks in items:
            inner = sum(float(self.table[a, b]) for a, b in zip(toks, toks[1:]))
            h = len(self.handles)
            self.handles[h] = toks[-1]
            out.append((h, inner, self.table[toks[-1]].copy()))
        return out

    def keep(self, handles):
        pass


FREQ = {"i": 0.02, "want": 0.01, "some": 0.01, "water": 0.005, "wine": 0.002, "soup": 0.002, "saturday": 0.001,
        "sat": 0.001, "don't": 0.003, "do": 0.01, "is": 0.02, "we": 0.01, "see": 0.005, "i'm": 0.005,
        "cold": 0.002, "to": 0.03, "tea": 0.001}


def _search(lm, letters, prior=lambda h, w: 0.0, deadline_s=10.0, **kw):
    ngram = NGramModel(prior=FREQ).train(["I want some water", "we see water", "do see saturday"])

    def complete(history, rest):
        got = ngram.expand_abbreviation(rest, list(history)[-2:], n=1)
        return (got[0][0].split(), got[0][1]) if got else None

    settings = SearchSettings(**{"width": 4, "prior_weight": 0.0, "final_pass": True, **kw})
    return expand_initials(lm, FormIndex(FREQ, tokenize), letters, "prompt", prior=prior, complete=complete,
                           settings=settings, timer=PassTimer(0.0, 0.0), deadline=time.monotonic() + deadline_s)


def test_every_candidate_keeps_the_initials_and_the_models_favourite_comes_first():
    lm = FakeLM({"<s>": {" I": -0.1}, " I": {" want": -0.1}, " want": {" some": -0.1, " see": -1.0},
                 " some": {" wine": -0.2, " water": -1.0}, " wine": {".": -0.1}, " water": {".": -0.5}})
    res = _search(lm, "iwsw")
    texts = [t for t, _ in res.candidates]
    assert res.complete and texts[0] == "I want some wine"
    assert all(abbreviation(t) == "iwsw" for t in texts)
    assert "I want some water" in texts
    assert lm.passes == 4  # one batched pass per letter, however many beams (the last one scores the end)


def test_the_prior_can_overrule_a_weak_model_preference():
    lm = FakeLM({"<s>": {" I": -0.1}, " I": {" want": -0.1}, " want": {" some": -0.1},
                 " some": {" wine": -0.5, " water": -0.6}})
    prior = lambda h, w: 0.0 if w == "water" else -3.0  # noqa: E731
    res = _search(lm, "iwsw", prior=prior, prior_weight=1.0)
    assert res.candidates[0][0] == "I want some water"


def test_multi_token_words_are_scored_exactly_and_names_keep_their_capital():
    lm = FakeLM({"<s>": {" We": -0.1}, " We": {" see": -0.1}, " see": {" Sat": -0.1, " sat": -3.0, " some": -0.5},
                 " Sat": {"urday": -0.05}, "urday": {".": -0.1}})
    res = _search(lm, "wss")
    assert res.candidates[0][0] == "We see Saturday"


def test_contractions_are_words():
    lm = FakeLM({"<s>": {" Don't": -0.1}, " Don't": {" see": -0.1}, " see": {" water": -0.1}})
    assert _search(lm, "dsw").candidates[0][0] == "Don't see water"
    assert display_form("i'm", initial=False) == "I'm" and display_form("saturday", initial=True) == "Saturday"


def test_the_deadline_leaves_model_prefixes_finished_by_the_ngram():
    lm = FakeLM({"<s>": {" I": -0.1}, " I": {" want": -0.1}}, pass_s=0.2)
    res = _search(lm, "iwsw", deadline_s=0.3, margin_s=0.0, safety=1.0)
    assert not res.complete and res.reason == "deadline"
    assert res.candidates and all(abbreviation(t) == "iwsw" for t, _ in res.candidates)
    assert all(len(words(t)) == 4 for t, _ in res.candidates)


def test_without_the_final_pass_the_last_word_comes_from_the_first_token_score():
    lm = FakeLM({"<s>": {" I": -0.1}, " I": {" want": -0.1}, " want": {" some": -0.1},
                 " some": {" wine": -0.2, " water": -1.0}})
    res = _search(lm, "iwsw", final_pass=False)
    assert res.candidates[0][0] == "I want some wine" and lm.passes == 3


def test_a_pass_that_would_run_past_the_deadline_is_abandoned():
    import pytest

    pytest.importorskip("llama_cpp")
    from myovox.language.backend import LanguageBackend

    backend = LanguageBackend(n_threads=2).load_now()
    assert backend.state == "ready", backend.message
    gen = backend.generator
    toks = gen.word_tokens([f" word{i}" for i in range(40)])
    with gen.beam_session() as lm:
        assert lm.start("Sentence:", None) is not None
        assert lm.extend([(0, t) for t in toks], time.monotonic() + 0.02) is None  # abandoned inside llama.cpp
        got = lm.extend([(0, toks[0])], None)  # the context is still usable
        assert got and np.isfinite(got[0][2]).all()


def test_a_contraction_typed_one_letter_per_part_uses_both_letters():
    lm = FakeLM({"<s>": {" I'm": -0.1}, " I'm": {" cold": -0.1}, " cold": {".": -0.1}})
    res = _search(lm, "imc")
    assert res.candidates[0][0] == "I'm cold"
    assert all(len(words(t)) in (2, 3) for t, _ in res.candidates)
    assert _search(FakeLM({"<s>": {" I'm": -0.1}, " I'm": {" cold": -0.1}}), "ic").candidates[0][0] == "I'm cold"


def test_the_sentence_end_decides_the_last_word():
    likes = {"<s>": {" I": -0.1}, " I": {" want": -0.1}, " want": {" to": -0.1, " tea": -1.5},
             " to": {".": -9.0}, " tea": {".": -0.05}}
    assert _search(FakeLM(likes), "iwt").candidates[0][0] == "I want tea"
    assert _search(FakeLM(likes), "iwt", final_pass=False).candidates[0][0] == "I want to"


def test_single_letters_and_digits_never_leave_the_search_empty():
    res = _search(FakeLM({}), "u9")
    assert [t for t, _ in res.candidates][:1] == ["U 9"]
    assert _search(FakeLM({}), "wdu").candidates


def test_the_beam_is_as_wide_as_the_measured_pass_time_allows():
    lm = FakeLM({"<s>": {" I": -0.1}})

    def width(**kw):
        res = expand_initials(lm, FormIndex(FREQ, tokenize), "iwsw", "prompt", prior=lambda h, w: 0.0,
                              complete=lambda h, r: None, settings=SearchSettings(width=40, **kw),
                              timer=PassTimer(0.05, 0.1), deadline=time.monotonic() + 10.0)
        return res.width

    # (10 s - 0.05 s margin) / 5 passes (4 letters and the final one) = 1.99 s a pass of 0.05 s + 0.1 s a row:
    # 17 rows at 1.1/1.0 (the default), 11 at 1.3/1.3.
    assert width() == 17 and width(safety=1.3, width_safety=1.3) == 11


def test_a_sentence_is_scored_as_the_search_scores_its_candidates():
    from myovox.language.initials import sentence_score

    lm = FakeLM({"<s>": {" I": -0.1}, " I": {" want": -0.1}, " want": {" some": -0.1}, " some": {" water": -0.3},
                 " water": {".": -0.2}})
    res = _search(lm, "iwsw")
    text, per_word = res.candidates[0]
    assert text == "I want some water"
    got = sentence_score(lm, "prompt", tokenize([" I", " want", " some", " water"]), SearchSettings())
    assert abs(got - per_word * 5) < 1e-9  # candidates carry the score per letter and the end
