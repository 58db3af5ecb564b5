"""The suggester without a model, and every way the model can be missing, broken, slow or unreachable."""
from __future__ import annotations

import socket
import threading

import pytest

from myovox.language.api import Suggester
from myovox.language.backend import LanguageBackend, ServerGenerator
from myovox.language.memory import PhraseMemory, load_starter_phrases
from myovox.language.suggester import LanguageSuggester, open_suggester
from myovox.language.safety import is_keyword_salad
from myovox.language.text import abbreviation, keeps_keywords


def _is_suggester(s: Suggester) -> Suggester:  # static check of the protocol the speller codes against
    return s


@pytest.fixture(scope="module")
def plain() -> LanguageSuggester:
    return _is_suggester(LanguageSuggester())


def test_no_model_still_answers_every_task_and_says_why(plain):
    assert "no language model" in plain.status
    labels = plain.phrases_from_labels(["water", "cold"])
    assert labels and labels[0].source == "memory" and all(keeps_keywords(c.text, ["water", "cold"]) for c in labels)
    assert [c.score for c in labels] == sorted((c.score for c in labels), reverse=True)
    out = plain.phrases_from_labels(["daughter", "visit"], deadline_s=0.0)
    assert not any(is_keyword_salad(c.text, ["daughter", "visit"]) for c in out if c.source != "typed")
    # The keywords as the patient chose them always keep a slot (last): they can be said even with no sentence.
    assert [c.text for c in out if c.source == "typed"] == ["daughter, visit"] and out[-1].source == "typed"
    assert plain.last.first_candidate_s is not None
    abbr = plain.expand_abbreviation("pctn")
    assert abbr[0].text == "Please call the nurse." and all(abbreviation(c.text) == "pctn" for c in abbr)
    words = plain.predict_words("Please call my d")
    assert len(words) == 5 and words[0].text == "daughter"
    assert all(c.text.lower().startswith("d") for c in words)
    assert plain.predict_words("I am ")  # next words after a space
    assert "no language model" in plain.last.fallback_reason


def test_unknown_keywords_still_get_phrases_built_around_them(plain):
    out = plain.phrases_from_labels(["harmonica"])
    assert len(out) == 5 and all("harmonica" in c.text.lower() for c in out)
    assert {c.source for c in out} == {"ngram"}


def test_learned_phrases_come_back_first_and_survive_restart(tmp_path):
    path = tmp_path / "memory.json"
    s = open_suggester(use_model=False, memory_path=path)
    assert "switched off" in s.status
    s.learn("Put the Red Sox game on")
    assert s.expand_abbreviation("ptrsgo")[0].text == "Put the Red Sox game on"
    again = open_suggester(use_model=False, memory_path=path)
    assert again.phrases_from_labels(["sox"])[0].text == "Put the Red Sox game on"
    assert again.predict_words("Put the Red S")[0].text == "sox"


def test_missing_gguf_gives_a_clear_message_and_candidates(tmp_path):
    backend = LanguageBackend(str(tmp_path / "absent.gguf")).load_now()
    assert backend.state == "failed" and "does not exist" in backend.message
    s = LanguageSuggester(backend=backend)
    assert "does not exist" in s.status
    assert len(s.expand_abbreviation("iwsw")) == 5


def test_corrupt_gguf_gives_a_clear_message_and_candidates(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00garbage" * 1000)
    backend = LanguageBackend(str(bad)).load_now()
    assert backend.state == "failed" and "could not be loaded" in backend.message
    s = LanguageSuggester(backend=backend)
    assert "could not be loaded" in s.status
    assert len(s.phrases_from_labels(["pain"])) == 5


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_server_that_refuses_connections_falls_back_with_the_reason():
    s = LanguageSuggester(backend=ServerGenerator(f"http://127.0.0.1:{_closed_port()}"))
    out = s.expand_abbreviation("iwsw", deadline_s=2.0)
    assert len(out) == 5 and all(c.source != "llm" for c in out)
    assert "did not answer" in s.last.fallback_reason
    assert s.predict_words("I want some w")


def test_server_that_never_answers_is_cut_off_by_the_deadline():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_stay_silent():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept_and_stay_silent, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        s = LanguageSuggester(backend=ServerGenerator(url))
        out = s.phrases_from_labels(["guitar"], deadline_s=0.3)
        assert len(out) == 5 and all(c.source != "llm" for c in out)
        assert s.last.deadline_hit and s.last.llm_used
        assert s.predict_words("I want a g", deadline_s=0.2)
        assert s.last.deadline_hit
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        listener.close()


def test_memory_problem_is_reported_in_the_status(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("[broken")
    s = LanguageSuggester(memory=PhraseMemory(load_starter_phrases(), path))
    assert "could not be read" in s.status


def test_instant_answer_is_handed_over_before_the_model_runs():
    seen = []
    s = LanguageSuggester(backend=ServerGenerator(f"http://127.0.0.1:{_closed_port()}"))
    s.on_partial = lambda task, cands: seen.append((task, [c.source for c in cands]))
    final = s.phrases_from_labels(["harmonica"])
    assert seen and seen[0][0] == "labels" and set(seen[0][1]) == {"ngram"}
    assert len(final) == 5
    s.expand_abbreviation("pctn")
    assert seen[-1][0] == "abbreviation" and "memory" in seen[-1][1]


def test_next_letters_leave_out_the_words_on_screen_and_follow_the_model_when_it_ran():
    from myovox.language.generation import NextWords

    class Gen:
        name = "fake"

        def next_words(self, prompt, prefix="", k=5, deadline=None):
            assert k >= 100  # one pass ranks the vocabulary: the letters get more than the 5 candidates
            ws = [("zebra", -0.1), ("zoo", -0.5), ("yak", -3.0), ("the", -6.0), ("to", -6.5), ("and", -7.0)]
            return NextWords([(w, lp) for w, lp in ws if w.startswith(prefix)][:k])

        def generate(self, *a, **kw):
            raise AssertionError("not needed")

    plain = LanguageSuggester()
    start = plain.next_letters("i want ")
    assert " " not in start[:10] and start[0] in "tsa"
    shown = [c.text for c in plain.predict_words("i want ")]
    rest = plain.next_letters("i want ", exclude=shown)
    assert rest != start  # the words already offered no longer pull their letters up
    s = LanguageSuggester(backend=Gen())
    s.predict_words("i want ")
    assert s.next_letters("i want ")[0] == "z"  # the model's next words lead half the ranking
    assert s.next_letters("i want ", exclude=["zebra", "zoo"])[0] != "z"
