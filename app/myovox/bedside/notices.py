"""Notices: every problem the bedside app meets, kept until it is resolved or a caregiver acknowledges it.

A notice has a `key` naming what it is about ("speech", "journal", "stream", "signal", "language",
"worker:decoder", ...). Raising a key again updates its words and keeps its first time; `resolve(key)`
removes it when the cause is gone (the voice spoke again, the stream came back). A notice raised with
`until_fixed` (speech, journal, model failures) survives an acknowledgement: it stays until resolved.

Two texts per notice: `text` for the caregiver (what failed and what to do) and `patient` in plain
words for the patient's screen. Times are wall-clock seconds (shown to people, never used to decide).
Pure Python: the window renders `active()` whenever `version` changes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable


@dataclass(frozen=True)
class Notice:
    key: str
    text: str  # for the caregiver
    patient: str  # plain words for the patient view
    since: float  # wall clock, first raised
    updated: float  # wall clock, last raised
    until_fixed: bool = False  # acknowledging does not remove it; only resolve() does
    acknowledged: bool = False
    count: int = 1  # how many times it was raised


class NoticeBoard:
    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self._notices: dict[str, Notice] = {}
        self.version = 0  # bumped on every change, so a view redraws only when needed
        self.history: list[tuple[float, str, str]] = []  # (time, key, text) of every raise, for tests and logs

    def raise_(self, key: str, text: str, patient: str | None = None, until_fixed: bool = False) -> Notice:
        now = self.clock()
        old = self._notices.get(key)
        patient = patient if patient is not None else text
        if old is not None and old.text == text and old.patient == patient:
            # The same problem again (a watcher re-raises it every pump): counted, and a caregiver's
            # acknowledgement of it stands; new words about it make it new again.
            self._notices[key] = replace(old, updated=now, count=old.count + 1)
            return self._notices[key]
        note = Notice(key, text, patient, old.since if old else now, now, until_fixed or bool(old and old.until_fixed),
                      False, (old.count + 1) if old else 1)
        self._notices[key] = note
        self.history.append((now, key, text))
        self.version += 1
        return note

    def resolve(self, key: str) -> bool:
        if self._notices.pop(key, None) is None:
            return False
        self.version += 1
        return True

    def acknowledge(self, key: str | None = None) -> None:
        """The caregiver has seen it (None: all). Notices that need a fix stay, marked as seen."""
        for k in [key] if key is not None else list(self._notices):
            n = self._notices.get(k)
            if n is None:
                continue
            if n.until_fixed:
                if not n.acknowledged:
                    self._notices[k] = replace(n, acknowledged=True)
                    self.version += 1
            else:
                del self._notices[k]
                self.version += 1

    def get(self, key: str) -> Notice | None:
        return self._notices.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self._notices

    def active(self) -> list[Notice]:
        """Unresolved notices, oldest first."""
        return sorted(self._notices.values(), key=lambda n: n.since)

    def for_patient(self) -> list[str]:
        """Plain words for the patient's screen: every unresolved notice not yet acknowledged, and every
        failure that needs a fix (those stay in view until fixed)."""
        return [n.patient for n in self.active() if n.until_fixed or not n.acknowledged]
