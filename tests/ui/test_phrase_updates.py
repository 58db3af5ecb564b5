"""Keywords -> phrases at the bedside: the answers on the way reach the speller as updates of the same request,
off the UI thread, and a newer request makes the language worker give up on an older search."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import replace

from myovox.bedside.session import BedsideSession
from myovox.bedside.setup import speller_config
from myovox.interact import boards as B
from myovox.language.api import Candidate
from myovox.profiles import find_profile


class _StreamingSuggester:
    """Answers keywords in two steps, as `LanguageSuggester` does: an update through `on_partial`, then the
    final answer; it waits between them until the test has seen the update, and records `should_stop`."""

    status = "fake"

    def __init__(self):
        self.on_partial = None
        self.should_stop = None
        self.go_on = threading.Event()
        self.asked_to_stop: list[bool] = []

    def phrases_from_labels(self, labels, context=(), n=5, deadline_s=None):
        first = Candidate("My leg hurts.", 1.5, "llm")
        self.on_partial("labels", [first])
        self.go_on.wait(30)
        self.asked_to_stop.append(bool(self.should_stop and self.should_stop()))
        return [first, Candidate("I have pain in my leg.", 1.4, "llm")]

    def learn(self, text):
        pass


def _pump_until(session, cond, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        session.pump()
        if cond():
            return True
        time.sleep(0.01)
    return False


@contextmanager
def _running(sug):
    """A bedside session on the streaming suggester, stopped (and the suggester let go) whatever the test does."""
    s = BedsideSession(find_profile("myo"), speller_config(None, None, prediction="phrases"), suggester=sug)
    s.start()
    try:
        yield s
    finally:
        sug.go_on.set()
        s.stop()


def _ask(session, labels):
    st = session.speller.state
    session.speller.state = replace(st, content=replace(st.content, board=B.PHRASES_BOARD, labels=labels))
    session._ask_for_suggestions()


def test_a_keyword_answer_reaches_the_speller_as_it_grows():
    sug = _StreamingSuggester()
    with _running(sug) as s:
        _ask(s, ("pain", "leg"))
        texts = lambda: [c.text for c in s.speller.state.choices]  # noqa: E731
        assert _pump_until(s, lambda: texts() == ["My leg hurts."])  # the update, before the search returned
        sug.go_on.set()
        assert _pump_until(s, lambda: texts() == ["My leg hurts.", "I have pain in my leg."])
        assert sug.asked_to_stop == [False]
        assert sug.on_partial is None and sug.should_stop is None  # nothing left wired after the request


def test_a_newer_request_tells_the_older_search_to_stop_and_its_answer_is_dropped():
    sug = _StreamingSuggester()
    with _running(sug) as s:
        _ask(s, ("pain",))
        assert _pump_until(s, lambda: bool(s.speller.state.choices))
        _ask(s, ("pain", "leg"))  # the patient picked another keyword while the first search ran
        sug.go_on.set()
        assert _pump_until(s, lambda: len(sug.asked_to_stop) == 2 and len(s.speller.state.choices) == 2)
        assert sug.asked_to_stop == [True, False]  # the first search heard a newer request was waiting
