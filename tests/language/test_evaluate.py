"""The evaluation on the shared phrase sets: leak rules and keystroke savings (n-gram only: fast)."""
from __future__ import annotations


import pytest

from myovox.language.evaluate import PHRASE_SETS, build_suggester, keystroke_savings
from myovox.language.memory import load_starter_phrases
from myovox.language.text import normalize, read_phrase_file


@pytest.fixture(scope="module")
def phrase_sets(shared_data):
    return {k: read_phrase_file(shared_data / v) for k, v in PHRASE_SETS.items()}


def test_phrase_sets_are_read_whole(phrase_sets):
    assert len(phrase_sets["comm_dev"]) == 128 and len(phrase_sets["mackenzie"]) == 500


def test_retrieval_memory_never_holds_the_evaluation_phrases(phrase_sets):
    comm = phrase_sets["comm_dev"]
    keys = {normalize(p) for p in comm}
    starter = [p for p in load_starter_phrases() if normalize(p) not in keys]
    sug = build_suggester("retrieval", starter, phrase_sets["mackenzie"], None, 1.5)
    assert not keys & {normalize(e.text) for e in sug.memory.entries.values()}


def test_word_prediction_saves_keystrokes_on_comm_dev(phrase_sets):
    sug = build_suggester("ngram", [], phrase_sets["mackenzie"], None, 1.5)
    ks = keystroke_savings(sug, phrase_sets["comm_dev"][:10])
    assert ks["actions"] < ks["baseline_actions"]
    assert 0.2 < ks["keystroke_savings"] < 0.9
