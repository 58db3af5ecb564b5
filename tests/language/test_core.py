"""Pure core: text helpers, n-gram, phrase memory, safety filter (no model, no shared data)."""
from __future__ import annotations

import json

from myovox.language.api import Candidate
from myovox.language.memory import PhraseMemory, load_starter_phrases
from myovox.language.ngram import NGramModel
from myovox.language.safety import filter_candidates, judge
from myovox.language.text import abbreviation, content_words, normalize, word_error_rate


def test_abbreviation_and_keywords_follow_the_patients_view_of_a_phrase():
    assert abbreviation("I want some water.") == "iwsw"
    assert abbreviation("I can't believe it!") == "icbi"
    assert content_words("Would you do me a favor?") == ["favor"]
    assert content_words("I would like a glass of cold water") == ["like", "glass", "cold", "water"]
    assert normalize("  Hello,   World! ") == "hello world"


def test_word_error_rate_counts_substitutions_insertions_deletions():
    assert word_error_rate("i want water", "I want water.") == 0.0
    assert word_error_rate("i want water", "i want cold water") == 1 / 3
    assert word_error_rate("i want water", "water") == 2 / 3
    assert word_error_rate("a b", "c d") == 1.0


def test_ngram_ranks_seen_continuations_and_completes_partial_words():
    lm = NGramModel().train(["I want some water", "I want some tea", "I want to sleep", "please call the nurse"])
    top = [w for w, _ in lm.next_words(["i", "want"], n=2)]
    assert top[0] == "some"
    assert [w for w, _ in lm.next_words(["i", "want", "some"], prefix="w")] == ["water", "want"]
    assert lm.score("some", ["i", "want"]) > lm.score("sleep", ["i", "want"])


def test_ngram_abbreviation_beam_respects_every_initial():
    lm = NGramModel().train(load_starter_phrases())
    out = lm.expand_abbreviation("pctn", n=5)
    assert out and out[0][0] == "please call the nurse"
    assert all(abbreviation(p) == "pctn" for p, _ in out)


def test_prior_widens_the_vocabulary_beyond_training_phrases():
    lm = NGramModel(prior={"sweater": 5.0, "sweet": 10.0}).train(["I am cold"])
    words = [w for w, _ in lm.next_words(["i", "want", "a"], prefix="swe")]
    assert set(words) == {"sweater", "sweet"}


def test_memory_ranks_by_fit_then_frequency_and_recency(tmp_path):
    mem = PhraseMemory(["I need water.", "I need a blanket.", "My back hurts."], tmp_path / "m.json")
    assert mem.search_labels(["water"])[0].text == "I need water."
    # Both fit "need" equally: the one the patient said (twice) comes first.
    mem.learn("I need a blanket.")
    mem.learn("I need a blanket.")
    assert mem.search_labels(["need"])[0].text == "I need a blanket."
    # A phrase said more recently outranks one said as often but long ago.
    mem.learn("I need water.")
    mem.learn("I need water.")
    for i in range(30):
        mem.learn(f"filler {i}")
    mem.learn("I need a blanket.")  # now 3x and recent
    mem.learn("I need water.")  # 3x and most recent
    assert mem.search_labels(["need"])[0].text == "I need water."
    assert mem.search_abbreviation("mbh")[0].text == "My back hurts."
    assert mem.search_abbreviation("mb")[0].score < 1.5  # a prefix of the initials fits only half


def test_patients_phrases_survive_a_restart_and_a_corrupt_file_is_set_aside(tmp_path):
    path = tmp_path / "lang" / "phrase_memory.json"
    mem = PhraseMemory(["Yes."], path)
    mem.learn("Please tune the guitar")
    mem.learn("Please tune the guitar")
    again = PhraseMemory(["Yes."], path)
    assert "Please tune the guitar" in again.learned_phrases()
    assert again.entries[normalize("Please tune the guitar")].count == 2
    assert again.search_labels(["guitar"])[0].text == "Please tune the guitar"
    path.write_text("{not json")
    broken = PhraseMemory(["Yes."], path)
    assert broken.problem and "could not be read" in broken.problem
    assert (tmp_path / "lang" / "phrase_memory.json.corrupt").exists()
    broken.learn("hello there")
    assert json.loads(path.read_text())["phrases"][0]["text"] == "hello there"


def test_safety_drops_empty_repeated_garbled_offensive_but_never_the_patients_words():
    assert not judge("").ok
    assert not judge("  ...  ").ok
    assert not judge("I I I want").ok
    assert not judge("xkcdzqrt bnmpl").ok
    assert not judge("you are a bitch").ok
    assert not judge("I want 水").ok
    assert judge("you are a bitch", allowed_words={"bitch"}).ok  # the patient typed it
    assert not judge("I want zorblax", known_words={"i", "want"}).ok
    assert judge("I want water.", known_words={"i", "want", "water"}).ok
    cands = [Candidate("I want water.", 1, "llm"), Candidate("i want WATER", 0.9, "llm"),
             Candidate("shit", 0.8, "llm"), Candidate("shit", 0.8, "typed"), Candidate("", 0.5, "ngram")]
    kept = filter_candidates(cands)
    assert [c.text for c in kept] == ["I want water.", "shit"] and kept[1].source == "typed"


def test_next_chars_continue_a_word_or_read_initials():
    lm = NGramModel(prior={"the": 50.0, "they": 10.0, "then": 8.0, "this": 20.0, "water": 5.0, "want": 9.0,
                           "i": 30.0, "some": 7.0}).train(["I want some water", "I want to sleep"])
    first = [ch for ch, _ in lm.next_chars([], "th")]
    assert first[:2] == ["e", "i"]
    assert [ch for ch, _ in lm.next_chars([], "the")][0] == " "  # "the" is itself a word
    after = [ch for ch, _ in lm.next_chars(["i"], "")]
    assert after[0] == "w" and " " not in after  # the word to come: no space first
    initials = [ch for ch, _ in lm.next_chars([], "iw")]  # no word starts with "iw": initials being typed
    assert initials[0] == "t" and " " not in initials[:3]
    assert abs(sum(p for _, p in lm.next_chars([], "w")) - 1.0) < 1e-9


def test_ties_are_broken_by_spelling_so_runs_do_not_depend_on_string_hashing():
    lm = NGramModel(prior={w: 1.0 for w in ("wall", "walk", "wait", "want", "was", "water")})
    assert lm.words_with_prefix("wa") == sorted(["wall", "walk", "wait", "want", "was", "water"])
    assert [w for w, _ in lm.next_words([], "wa", n=3)] == ["wait", "walk", "wall"]


def test_a_contraction_is_read_one_letter_per_word_per_part_or_spelled_out():
    from myovox.language.text import abbreviation_readings, keeps_keywords

    assert {"ic", "imc", "iac"} <= abbreviation_readings("I'm cold.")
    assert {"iac", "ic", "imc"} <= abbreviation_readings("I am cold")  # a stored "I am cold" answers "imc"
    assert {"dtg", "dng", "dg"} <= abbreviation_readings("Don't go")
    assert abbreviation_readings("What did u do") == {"wdud"}
    assert keeps_keywords("My legs are in pain", ["pain", "leg"]) and keeps_keywords("Is my daughter visiting?",
                                                                                 ["daughter", "visit"])
    assert not keeps_keywords("I am going to visit my mother today", ["daughter", "visit"])


def test_memory_finds_a_stored_phrase_in_every_reading_of_its_contractions():
    mem = PhraseMemory(["I am cold.", "Don't go."])
    for typed in ("iac", "ic", "imc"):
        assert [c.text for c in mem.search_abbreviation(typed)][:1] == ["I am cold."], typed
    assert [c.text for c in mem.search_abbreviation("dng")][:1] == ["Don't go."]


def test_keyword_salads_and_fillers_are_garbled_but_a_sentence_about_them_is_not():
    from myovox.language.safety import is_keyword_salad

    for salad in ("I am daughter visit.", "I need daughter visit.", "Daughter visit.", "Please daughter visit."):
        assert is_keyword_salad(salad, ["daughter", "visit"]) and not judge(salad, keywords=["daughter", "visit"]).ok
    for fine in ("Is my daughter coming to visit?", "My daughter will visit today.", "Daughter, please visit me."):
        assert judge(fine, keywords=["daughter", "visit"]).ok, fine
    # Keywords listed between commas, as the model wrote them when made to use every keyword.
    for listed, kws in (("I am watching the water, fell, water.", ["watch", "fell", "water"]),
                        ("See, rings, saturn, I am tired.", ["see", "rings", "saturn"]),
                        ("Physics is hard, chemistry is hard, hard", ["physics", "chemistry", "hard"]),
                        ("I am running, risk, failure to run.", ["run", "risk", "failure"]),
                        ("I am daughters visit.", ["daughter", "visit"])):
        assert is_keyword_salad(listed, kws), listed
    assert not is_keyword_salad("Physics is hard, chemistry is hard.", ["physics", "chemistry", "hard"])
    assert judge("I want cold water.", keywords=["cold water"]).ok  # one label: the patient's own words
    kept = filter_candidates([Candidate("I am daughter visit.", 1, "ngram"), Candidate("Please visit, daughter.", 1, "memory")],
                             keywords=["daughter", "visit"])
    assert [c.text for c in kept] == ["Please visit, daughter."]  # the patient's own phrase is never dropped


def test_the_conversation_and_the_partner_line_come_after_the_cached_preamble():
    from myovox.language import prompts

    p = prompts.abbreviation_prompt("ywt", ["I am cold."], show_letters=False, partner="Do you want tea?")
    assert p.startswith(prompts.SHARED_PREFIX)
    assert p[len(prompts.SHARED_PREFIX):] == "I said: I am cold.\nThey said: Do you want tea?\nSentence:"
    assert prompts.word_prompt("I", [], "Hello").endswith("They said: Hello\nMessage: I")
    assert prompts.labels_prompt(["tea"]) == prompts.SHARED_PREFIX + "Keywords: tea\nSentence:"


def test_ngram_scores_and_vocabulary_follow_phrases_added_after_a_query():
    m = NGramModel().train(["i want water"])
    assert m.score("water", ["i", "want"]) == 1.0 and "tea" not in m.vocabulary
    m.add("i want tea")  # the cached totals and vocabulary must not hide the new phrase
    assert m.score("water", ["i", "want"]) == 0.5 and m.score("tea", ["i", "want"]) == 0.5
    assert "tea" in m.vocabulary


def test_word_pieces_of_both_tokenizer_kinds_read_as_text():
    from myovox.language.llama_backend import piece_text

    assert piece_text("\u2581want", bpe=False) == " want"  # SentencePiece (Gemma)
    assert piece_text("\u0120want", bpe=True) == " want"  # byte-level BPE (SmolLM2, Llama 3)
    assert piece_text("\u010a", bpe=True) == "\n" and piece_text("ing", bpe=True) == "ing"
