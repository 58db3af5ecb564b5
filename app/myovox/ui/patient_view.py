"""The patient's screen: the message, the board, the highlight. Large, high-contrast, readable from a bed.

It draws the speller's state and nothing else; every decision lives in `interact.machine`.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

BG = "#000000"
FG = "#ffffff"
ROW_HI = "#1f3a93"  # the highlighted row: deep blue band
CELL_HI = "#ffd400"  # the highlighted cell: yellow, black text (highest contrast)
HELP = "#c0392b"


def _sheet(font_pt: int) -> str:
    """One stylesheet for the whole view; cells and rows pick their look from dynamic properties, so a
    highlight change flips two properties instead of re-parsing a stylesheet per cell."""
    return f"""
    QWidget#patient {{ background:{BG}; }}
    QFrame[role="row"] {{ background:{BG}; border-radius:12px; }}
    QFrame[role="row"][lit="true"] {{ background:{ROW_HI}; }}
    QLabel[role="cell"] {{ background:#222; color:{FG}; border:2px solid #555; border-radius:10px; font-size:{font_pt}pt; }}
    QLabel[role="cell"][kind="help"], QLabel[role="cell"][kind="call"] {{ background:{HELP}; color:#fff; font-weight:bold; }}
    QLabel[role="cell"][kind="key"] {{ background:#0d2a4a; font-size:{int(font_pt * 1.25)}pt; font-weight:bold; }}
    QLabel[role="cell"][kind="control"] {{ background:#3a2a00; font-size:{int(font_pt * 1.1)}pt; }}
    QLabel[role="cell"][kind="confirm"], QLabel[role="cell"][kind="say_it"], QLabel[role="cell"][kind="no"] {{ background:#3a2a00; font-size:{int(font_pt * 1.1)}pt; }}
    QLabel[role="cell"][lit="true"] {{ background:{CELL_HI}; color:#000; border:6px solid #fff; font-weight:bold; }}
    QLabel[role="cell"][textlen="long"] {{ font-size:{max(12, int(font_pt * 0.62))}pt; }}
    QLabel[role="cell"][textlen="longer"] {{ font-size:{max(11, int(font_pt * 0.48))}pt; }}
    """


def _set_lit(widget, on: bool) -> None:
    if widget.property("lit") != on:
        widget.setProperty("lit", on)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


class PatientView(QWidget):
    #: A digit key pressed on the view (1-9): a keyboard standing in for the gesture of that number, in the
    #: order the speller's gestures are listed (the caregiver's keys; in tests, the patient's gestures).
    digit_pressed = Signal(int)

    def __init__(self, font_pt: int = 28, parent=None):
        super().__init__(parent)
        self.font_pt = font_pt
        self.setObjectName("patient")
        self.setStyleSheet(_sheet(font_pt))
        self.setAutoFillBackground(True)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 16, 16, 16)
        self.message = QLabel("")
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(int(font_pt * 3.2))
        self.message.setStyleSheet(
            f"background:#111; color:{FG}; border:3px solid #888; padding:12px; font-size:{int(font_pt * 1.3)}pt;")
        outer.addWidget(self.message)
        # Every unresolved notice, in plain words, large enough to read from the bed (one line each).
        self.notice = QLabel("")
        self.notice.setStyleSheet(f"color:{CELL_HI}; font-size:{max(16, int(font_pt * 0.8))}pt; font-weight:bold;")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        outer.addWidget(self.notice)
        self.board = QVBoxLayout()
        self.board.setSpacing(8)
        outer.addLayout(self.board, 1)
        self._rows: list[QFrame] = []
        self._cells: list[list[QLabel]] = []
        self._shape: tuple = ()
        self._shape_styled: tuple | None = None
        self._lit: tuple = (None, None)
        self.last_render = None  # (highlight, message) of the last paint, for tests and the latency bench

    def render(self, speller) -> None:
        state = speller.state
        rows = [speller.row_cells(i) for i in range(len(speller.rows()))]
        shape = tuple(tuple(c.caption for c in r) for r in rows)
        if shape != self._shape:
            self._rebuild(rows)
            self._shape = shape
        msg = state.content.message
        text = msg if msg else "…"
        if self.message.text() != text:
            self.message.setText(text)
        h = state.highlight
        lit = (h.row, h.col if h.level == "cells" else -1) if h.row >= 0 else (None, -1)  # -1: no row lit (split)
        if shape != self._shape_styled or lit != self._lit:
            rows = range(len(self._rows)) if shape != self._shape_styled else {self._lit[0], lit[0]}
            for r in rows:
                if r is None or r >= len(self._rows):
                    continue
                _set_lit(self._rows[r], r == lit[0])
                for c, label in enumerate(self._cells[r]):
                    _set_lit(label, r == lit[0] and c == lit[1])
            self._lit = lit
            self._shape_styled = shape
        self.last_render = (h, msg)

    def _rebuild(self, rows) -> None:
        while self.board.count():
            item = self.board.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self._rows, self._cells = [], []
        for r in rows:
            frame = QFrame()
            frame.setProperty("role", "row")
            frame.setProperty("lit", False)
            lay = QHBoxLayout(frame)
            lay.setContentsMargins(6, 6, 6, 6)
            lay.setSpacing(8)
            labels = []
            for cell in r:
                lab = QLabel(cell.caption)
                lab.setProperty("kind", cell.kind)
                lab.setProperty("role", "cell")
                lab.setProperty("lit", False)
                # A long candidate gets a smaller font so it is read whole, never cut off in its cell.
                n = len(cell.caption)
                lab.setProperty("textlen", "longer" if n > 22 else "long" if n > 11 else "normal")
                lab.setAlignment(Qt.AlignCenter)
                lab.setWordWrap(True)
                lab.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
                lab.setMinimumHeight(int(self.font_pt * 2.2))
                lay.addWidget(lab)
                labels.append(lab)
            self.board.addWidget(frame)
            self._rows.append(frame)
            self._cells.append(labels)

    def show_notices(self, lines) -> None:
        text = "\n".join(dict.fromkeys(lines))  # the same plain words once
        if self.notice.text() != text:
            self.notice.setText(text)
            self.notice.setVisible(bool(text))

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if Qt.Key_1 <= event.key() <= Qt.Key_9:
            self.digit_pressed.emit(int(event.key() - Qt.Key_1) + 1)
            return
        super().keyPressEvent(event)

    def show_notice(self, text: str) -> None:
        self.show_notices([text] if text else [])
