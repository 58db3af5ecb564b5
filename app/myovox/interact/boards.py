"""The boards the patient selects from: fixed rows of cells, laid out so frequent choices cost least.

Every screen starts with a row holding only HELP (one selection calls for help from the row scan),
then the control row (undo first: with error-prone gestures a far-away undo makes mistakes compound),
then the candidate row from the language layer (hidden while empty), then the board's own rows. Row-column scanning reaches cell (r, c) after
r row steps and c cell steps, so the letter grid is filled along anti-diagonals in order of English
letter frequency: the commonest letters sit nearest the top-left corner.
"""
from __future__ import annotations

from dataclasses import dataclass

HELP = "help"
LETTER = "letter"
SPACE = "space"
TILE = "tile"
CANDIDATE = "candidate"
SPEAK = "speak"
UNDO = "undo"
DELETE = "delete"
CLEAR = "clear"
TO_LETTERS = "to_letters"
TO_PHRASES = "to_phrases"
EXIT_ROW = "exit_row"

SPEAK_CONFIRM = "confirm"  # value of the SPEAK cell while it waits for the confirming selection

LETTERS_BOARD = "letters"
PHRASES_BOARD = "phrases"


@dataclass(frozen=True)
class Cell:
    kind: str
    value: str = ""
    note: str = ""  # read before the caption, never typed or spoken: what kind of candidate this is (YOUR_WORDS)

    @property
    def caption(self) -> str:
        return f"{self.note}: {self._text()}" if self.note else self._text()

    def _text(self) -> str:
        if self.kind in (LETTER, TILE, CANDIDATE) or (self.value and self.kind in ("key", "control", "confirm", HELP, "say_it", "no", "call")):
            return self.value
        if self.kind == SPEAK and self.value == SPEAK_CONFIRM:
            return "say it? select again"
        return {SPACE: "space", HELP: "CALL FOR HELP", EXIT_ROW: "back"}.get(self.kind, self.kind.replace("_", " "))


#: The note on a candidate that is the patient's own keywords as chosen ("pain, leg"), offered when no sentence
#: came in time: without it a patient may take the line for a sentence the model wrote.
YOUR_WORDS = "your words"


Row = tuple[Cell, ...]

#: Letters (plus space and apostrophe) from the most to the least frequent in English text; space first
#: because about one character in six is a space.
FREQUENCY_ORDER = " etaoinsrhldcumfpgwybvk'xjqz"


def diagonal_grid(symbols: str, columns: int) -> tuple[Row, ...]:
    """Place symbols along anti-diagonals (r + c = 0, 1, 2, ...) so that scan cost r + c grows with rank."""
    rows_needed = -(-len(symbols) // columns)
    slots = sorted(((r, c) for r in range(rows_needed) for c in range(columns)), key=lambda rc: (rc[0] + rc[1], rc[0]))
    grid: list[list[Cell | None]] = [[None] * columns for _ in range(rows_needed)]
    for sym, (r, c) in zip(symbols, slots):
        grid[r][c] = Cell(SPACE) if sym == " " else Cell(LETTER, sym)
    return tuple(tuple(cell for cell in row if cell is not None) for row in grid if any(row))


LETTER_ROWS: tuple[Row, ...] = diagonal_grid(FREQUENCY_ORDER, 6)

#: Intent tiles: the labels a selection hands to the language layer ("water" -> "I would like some water").
PHRASE_TILES: tuple[tuple[str, ...], ...] = (
    ("yes", "no", "thank you", "please", "wait"),
    ("water", "pain", "toilet", "suction", "position", "cold", "hot"),
    ("tired", "sleep", "pillow", "blanket", "light", "tv", "music"),
    ("happy", "sad", "scared", "frustrated", "love", "okay"),
    ("nurse", "doctor", "family", "wife", "husband", "friend"),
    ("medicine", "breathing", "itch", "mouth", "eyes", "glasses"),
)
PHRASE_ROWS: tuple[Row, ...] = tuple(tuple(Cell(TILE, t) for t in row) for row in PHRASE_TILES)

HELP_ROW: Row = (Cell(HELP),)
LETTER_CONTROLS: Row = (Cell(UNDO), Cell(SPEAK), Cell(DELETE), Cell(CLEAR), Cell(TO_PHRASES))
PHRASE_CONTROLS: Row = (Cell(UNDO), Cell(SPEAK), Cell(CLEAR), Cell(TO_LETTERS))


def screen_rows(board: str, candidates: tuple[str, ...], speak_armed: bool = False,
                notes: tuple[str, ...] = ()) -> tuple[Row, ...]:
    """The rows shown for `board` with these candidate texts (the candidate row is omitted while empty) and
    their notes (`Cell.note`, by position; "" or missing: none); while a speak waits for its confirmation the
    SPEAK cell says so."""
    if board not in (LETTERS_BOARD, PHRASES_BOARD):
        raise ValueError(f"unknown board {board!r}")
    rows: list[Row] = [HELP_ROW]
    controls = LETTER_CONTROLS if board == LETTERS_BOARD else PHRASE_CONTROLS
    if speak_armed:
        controls = tuple(Cell(SPEAK, SPEAK_CONFIRM) if c.kind == SPEAK else c for c in controls)
    rows.append(controls)
    if candidates:
        rows.append(tuple(Cell(CANDIDATE, text, notes[i] if i < len(notes) else "") for i, text in enumerate(candidates)))
    rows.extend(LETTER_ROWS if board == LETTERS_BOARD else PHRASE_ROWS)
    return tuple(rows)
