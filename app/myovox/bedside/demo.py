"""The demo typist: in `myovox run --demo-user`, the caregiver's keys (driven by this) put the highlight on
the next cell a phrase needs, and the replayed clip's real fists, through the shipped encoder, select it.
So the first thing a newcomer sees is the chain typing words, not the scan landing on HELP.

Pure: `next_key(speller)` says which caregiver key to press now (or None: wait for the next fist).
"""
from __future__ import annotations

from ..interact import boards as B

DEMO_PHRASES = ("water", "yes please")


class DemoTypist:
    def __init__(self, phrases=DEMO_PHRASES):
        self.phrases = tuple(phrases)
        self.index = 0
        self._lines = None  # conversation length last seen

    def press(self, window) -> str | None:
        """One step for the window's timer: press the keys `next_key` names until the highlight is on the
        target (or its row); returns the last key pressed."""
        speller = window.bedside.session.speller
        lines = len(speller.state.conversation)
        if self._lines is not None and lines > self._lines:
            self.spoken()
        self._lines = lines
        # All the moves at once, so the highlight is never between cells when a fist comes.
        pressed = None
        for _ in range(40):
            key = self.next_key(speller)
            if key is None:
                break
            window.key_gesture(key)
            pressed = key
        return pressed

    @property
    def phrase(self) -> str:
        return self.phrases[self.index % len(self.phrases)]

    def target(self, message: str) -> tuple[str, str | None]:
        """(cell kind, value) the message needs next: the next letter, SPEAK when done, DELETE after a slip, CLEAR otherwise."""
        goal = self.phrase
        if message == goal:
            return B.SPEAK, None
        if not goal.startswith(message):
            # one slip: delete it; anything else (e.g. words the voice failed to say, put back): clear
            return (B.DELETE, None) if goal.startswith(message[:-1]) else (B.CLEAR, None)
        ch = goal[len(message)]
        return (B.SPACE, None) if ch == " " else (B.LETTER, ch)

    def spoken(self) -> None:
        self.index += 1

    def next_key(self, speller) -> str | None:
        kind, value = self.target(speller.message)
        cur = speller.highlighted()
        if isinstance(cur, B.Cell) and cur.kind == kind and (value is None or cur.value == value):
            return None  # on it: the next fist selects it
        rows = speller.rows()
        where = next(((r, c) for r, row in enumerate(rows) for c, cell in enumerate(row)
                      if cell.kind == kind and (value is None or cell.value == value)), None)
        if where is None:
            return None
        r, c = where
        h = speller.state.highlight
        if h.rank is not None:
            return "key-back"  # off the likely-letter ring, onto the rows
        if h.level == "cells":
            if h.row != r:
                return "key-back"
            return "key-next" if h.col < c else "key-previous"
        if h.row != r:
            return "key-next" if h.row < r else "key-previous"
        return None  # on the row: the next fist enters it
