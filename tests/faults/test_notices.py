"""The notice board's rules, and the rule that every worker's failure reaches it."""
from __future__ import annotations

import ast
from pathlib import Path

from myovox.bedside.notices import NoticeBoard
from myovox.bedside.session import BedsideSession
from myovox.bedside.setup import speller_config
from myovox.interact.events import RequestSuggestions
from myovox.profiles import find_profile

APP = Path(__file__).resolve().parents[2] / "app" / "myovox"


def test_a_notice_stays_until_resolved_or_acknowledged():
    t = [100.0]
    board = NoticeBoard(clock=lambda: t[0])
    board.raise_("settings", "settings reset")
    t[0] = 101.0
    board.raise_("stream", "amplifier disconnected")
    board.raise_("speech", "speech failed", "The voice did not work.", until_fixed=True)
    assert [n.key for n in board.active()] == ["settings", "stream", "speech"]
    board.resolve("stream")  # the amplifier is back: only its own notice goes
    assert [n.key for n in board.active()] == ["settings", "speech"]
    board.acknowledge()
    assert [n.key for n in board.active()] == ["speech"]  # needs a fix: stays, marked as seen
    assert board.get("speech").acknowledged and board.for_patient() == ["The voice did not work."]
    t[0] = 105.0
    board.raise_("speech", "speech failed", "The voice did not work.")  # the same failure, re-raised
    assert board.get("speech").acknowledged and board.get("speech").count == 2
    board.raise_("speech", "speech failed again: timeout")  # new words: shown as new, first time kept
    assert not board.get("speech").acknowledged and board.get("speech").since == 101.0
    board.resolve("speech")
    assert board.active() == []


def test_every_worker_has_a_failure_handler():
    """Static rule: each `Worker(...)` in the app passes an error handler, so its failures become notices."""
    missing = []
    for f in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Worker":
                if len(node.args) < 4 and not any(k.arg == "on_error" for k in node.keywords):
                    missing.append(f"{f.relative_to(APP)}:{node.lineno}")
    assert not missing, missing


class _BrokenSuggester:
    """A fake for a fault the real suggester cannot produce on demand: it raises on every request."""

    status = "broken"

    def phrases_from_labels(self, *a, **k):
        raise TypeError("bad operand type for unary -: 'str'")

    expand_abbreviation = predict_words = phrases_from_labels

    def learn(self, text):
        pass


def test_a_failing_worker_reaches_the_board_in_plain_words(qtbot):
    s = BedsideSession(find_profile("myo"), speller_config(None, None, prediction="phrases"),
                       suggester=_BrokenSuggester())
    s.start()
    try:
        s.language_worker.submit(RequestSuggestions(1, "words", "i ne", (), 0.0))
        qtbot.waitUntil(lambda: (s.pump(), "worker:suggestions" in s.notices)[1], timeout=30_000)
        n = s.notices.get("worker:suggestions")
        assert "TypeError" in n.text  # the caregiver sees what failed
        assert "Error" not in n.patient and "limited" in n.patient  # the patient sees plain words
    finally:
        s.stop()


def test_a_journal_failure_mid_session_is_a_notice_until_it_works(tmp_path):
    from myovox.session.journal import MessageJournal

    journal = MessageJournal(tmp_path / "journal.log")
    s = BedsideSession(find_profile("myo"), speller_config(None, None, prediction="off"), journal=journal)
    journal.close()  # the fault: the journal's file is closed under the session
    view = s.pump()
    s._journal_message("hello", view)
    n = s.notices.get("journal")
    assert n.until_fixed and "could not save" in n.text and "not being saved" in n.patient
    s.journal = MessageJournal(tmp_path / "journal.log")  # the caregiver fixed it: the next edit is saved
    s._journal_message("hello there", view)
    assert "journal" not in s.notices and s.journal.message == "hello there"
