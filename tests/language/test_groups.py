"""The ambiguous keyboard's language task: layouts, codes, readings in context, the layout measurement."""
from __future__ import annotations

import pytest

from myovox.language.groups import (
    GroupDecoder, GroupLayout, alphabetical_layouts, collision_error, layout_for, local_search, misreads, read_keys,
    training_frequencies,
)
from myovox.language.ngram import NGramModel

LAY = GroupLayout.parse("abcdefghi'|jklmnopqr|stuvwxyz")


def test_a_layout_places_every_letter_once():
    assert LAY.code("hi") == (0, 0) and LAY.code("you") == (2, 1, 2) and LAY.caption(1) == "j k l m n o p q r"
    with pytest.raises(ValueError, match="exactly once"):
        GroupLayout.parse("abc|def")
    assert layout_for(3).keys == 3 and layout_for(4).keys == 4
    with pytest.raises(ValueError):
        layout_for(7)


def test_readings_follow_the_context_then_other_words_then_completions():
    ngram = NGramModel().train(["i want some water", "i want some tea", "i want to sleep", "i feel cold",
                                "some people", "come here", "water please"])
    dec = GroupDecoder(LAY, ngram)
    after_want = [r.text for r in dec.decode(LAY.code("some"), "i want ")]
    assert after_want[0] == "some"
    plain = dec.decode(LAY.code("wat"), "i want some ")
    assert plain[0].text == "wat"  # no whole word: the start of the likeliest longer one
    assert any(r.completion and r.text == "water " for r in plain)
    # words spelled by the same keys are all offered, each a reading of these keys or of keys one misread away
    # (the keys are evidence), the exact ones first
    readings = [r.text.strip() for r in dec.decode(LAY.code("some")) if not r.completion]
    miss = [misreads(LAY, w, LAY.code("some")) for w in readings]
    assert all(m in (0, 1) for m in miss) and miss == sorted(miss) and miss[0] == 0
    # keys that no known word spells, nor any one misread away, read as each key's likeliest letter
    assert dec.decode(LAY.code("zzzzzz"))[0].text == "tttttt"  # t: the commonest letter on that key
    cands, report = read_keys(dec, "i want ", LAY.code("some"))
    assert cands[0].text == "some" and cands[0].source == "ngram" and not report["llm_used"]


def test_the_measurement_prefers_layouts_that_tell_common_words_apart():
    freqs = {"he": 5.0, "if": 4.0, "in": 3.0, "go": 1.0}
    assert collision_error(GroupLayout.parse("abcdefghi'|jklmnopqr|stuvwxyz"), freqs) == pytest.approx(5 / 13)  # "if" loses to "he", "go" to "in"
    assert sum(1 for _ in alphabetical_layouts(3)) == 300
    better = local_search(GroupLayout.parse("abcdefghi'|jklmnopqr|stuvwxyz"), freqs, iterations=400)
    assert collision_error(better, freqs) < 5 / 13
    tf = training_frequencies(["I want water", "water please"], {"the": 0.05, "water": 0.001})
    assert tf["water"] > tf["want"] > 0 and "the" in tf


def test_a_word_one_misread_key_away_is_read_when_the_context_favours_it():
    ngram = NGramModel().train(["i want some water"] * 5 + ["i want some tea", "come here", "some people"])
    dec = GroupDecoder(LAY, ngram)
    keys = list(LAY.code("water"))
    keys[2] = (keys[2] + 1) % 3  # the third key misread
    readings = dec.decode(keys, "i want some ")
    assert readings[0].text == "water" and misreads(LAY, "water", keys) == 1
    # as a hard constraint (no misread allowed) the keys read as nothing the patient meant
    assert all(r.text.strip() != "water" for r in GroupDecoder(LAY, ngram, max_misreads=0).decode(keys, "i want some "))
    # typed right, an exactly matching likely word is never displaced by one a misread away
    for w in ("some", "want", "water"):
        assert dec.decode(LAY.code(w), "i want " if w == "some" else "i " if w == "want" else "i want some ")[0].text == w
    cands, _ = read_keys(dec, "i want some ", keys)
    assert cands[0].text == "water"


def test_a_guess_needs_to_beat_the_keys_as_typed_by_the_lead():
    from myovox.language.groups import MISREAD_LEAD, Reading, exact_first

    keys = LAY.code("he")
    exact, near = Reading("he", -5.0), Reading("if", -5.0 + MISREAD_LEAD + 0.5)  # i is on key 0, f on key 0: exact too
    assert misreads(LAY, "if", keys) == 0
    near = Reading("hu", -5.0 + MISREAD_LEAD + 0.5)  # u on key 2: one misread
    assert [r.text for r in exact_first([exact, near], keys, LAY)] == ["hu", "he"]
    near = Reading("hu", -5.0 + MISREAD_LEAD - 0.5)
    assert [r.text for r in exact_first([exact, near], keys, LAY)] == ["he", "hu"]
    # the keys as typed also count the longer words they begin
    assert [r.text for r in exact_first([exact, near], keys, LAY, base=-5.0 + 1.0)] == ["he", "hu"]
