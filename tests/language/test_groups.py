"""The ambiguous keyboard's language task: layouts, codes, readings in context, the layout measurement."""
from __future__ import annotations

import pytest

from myovox.language.groups import (
    GroupDecoder, GroupLayout, alphabetical_layouts, collision_error, layout_for, local_search, read_keys,
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
    # words spelled by the same keys are all offered, each a reading of these keys
    assert all(LAY.code(r.text.strip()[:4]) == LAY.code("some") for r in dec.decode(LAY.code("some")) if not r.completion)
    # keys no known word spells read as each key's likeliest letter
    assert dec.decode(LAY.code("zzz"))[0].text == "ttt"  # t: the commonest letter on that key
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
