"""The composed message and the conversation, on disk as they change, so a crash or `kill -9` loses nothing.

Format: an append-only file of one record per line, `<crc32 hex> <json>\n`, fsync'd after every
record. A record is either the whole current message (`{"m": text}`; messages are short, so the whole
text is cheaper to trust than a chain of edits) or a spoken line (`{"s": text, "at": ISO time}`).
On restore, a line whose checksum does not match (a torn last write, a flipped bit) is skipped and
counted; everything else is kept. Opening compacts the file: the restored state is written to a new
file (temp + fsync + replace), so a torn tail never glues itself to the next record.

This file holds the patient's words by necessity; it is created 0600. The session log does not.
"""
from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .files import UserDirs, atomic_write_bytes, fsync_dir

JOURNAL_FILE = "journal.log"


@dataclass(frozen=True)
class SpokenLine:
    text: str
    at: str  # ISO 8601 wall-clock time with zone: shown to caregivers, so local time of the bedside


@dataclass(frozen=True)
class RestoredSession:
    message: str
    conversation: tuple[SpokenLine, ...]
    records: int  # readable records found
    skipped: int  # damaged records that were left out

    @property
    def notice(self) -> str:
        if not self.skipped:
            return ""
        return (f"{self.skipped} damaged journal record(s) could not be read and were left out; "
                f"everything else was restored.")


def _encode(record: dict) -> bytes:
    body = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def _decode(line: bytes) -> dict | None:
    if len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        rec = json.loads(body.decode("utf-8"))
    except ValueError:
        return None
    if isinstance(rec, dict) and (isinstance(rec.get("m"), str)
                                  or (isinstance(rec.get("s"), str) and isinstance(rec.get("at"), str))):
        return rec
    return None


def read_journal(path: Path) -> RestoredSession:
    """Everything readable in the journal at `path` (an absent file is an empty session)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return RestoredSession("", (), 0, 0)
    message, conversation, good, bad = "", [], 0, 0
    lines = raw.split(b"\n")
    torn_tail = lines.pop()  # after the last "\n": empty if the last write completed
    if torn_tail:
        bad += 1
    for line in lines:
        if not line:
            continue
        rec = _decode(line)
        if rec is None:
            bad += 1
            continue
        good += 1
        if "m" in rec:
            message = rec["m"]
        else:
            conversation.append(SpokenLine(rec["s"], rec["at"]))
    return RestoredSession(message, tuple(conversation), good, bad)


class MessageJournal:
    """Open (which restores and compacts), then call `set_message` on every edit and `spoken` on speech.

    `restored` holds what was found at open. Each call returns only after the record is fsync'd.
    """

    def __init__(self, path: Path, compact_after: int = 5000, keep_spoken: int = 1000):
        self.path = Path(path)
        self._compact_after = compact_after
        self._keep_spoken = keep_spoken
        self.restored = read_journal(self.path)
        self._message = self.restored.message
        self._conversation = list(self.restored.conversation)
        self._appended = 0
        self._file = None
        self._compact()

    @classmethod
    def open_default(cls, home: str | Path | None = None, patient_id: str = "") -> "MessageJournal":
        """<data>/journal.log (or journal-<patient>.log), under $MYOVOX_HOME or the platformdirs data folder."""
        name = f"journal-{patient_id}.log" if patient_id else JOURNAL_FILE
        return cls(UserDirs.locate(home).data / name)

    @property
    def message(self) -> str:
        return self._message

    @property
    def conversation(self) -> tuple[SpokenLine, ...]:
        return tuple(self._conversation)

    def set_message(self, text: str) -> None:
        """The whole composed message after an edit (selection, undo, phrase pick, clear)."""
        if text == self._message:
            return
        self._append({"m": text})
        self._message = text
        self._maybe_compact()

    def spoken(self, text: str, at: datetime | None = None) -> SpokenLine:
        """A line was spoken (or shown, if the voice failed): add it to the conversation."""
        at = at or datetime.now(timezone.utc).astimezone()
        line = SpokenLine(text, at.isoformat(timespec="seconds"))
        self._append({"s": line.text, "at": line.at})
        self._conversation.append(line)
        self._maybe_compact()
        return line

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _append(self, record: dict) -> None:
        if self._file is None:
            raise ValueError("the journal is closed")
        self._file.write(_encode(record))
        self._file.flush()
        os.fsync(self._file.fileno())
        self._appended += 1

    def _maybe_compact(self) -> None:
        # Only after the in-memory state includes the record just appended: compacting in between
        # would write the state without it (found by the SIGKILL test: edit 400 of 400 was lost).
        if self._appended >= self._compact_after:
            self._compact()

    def _compact(self) -> None:
        """Rewrite the journal as just the current state (atomic), then keep appending to it."""
        self.close()
        if len(self._conversation) > self._keep_spoken:
            self._conversation = self._conversation[-self._keep_spoken:]
        data = b"".join(_encode({"s": c.text, "at": c.at}) for c in self._conversation) + _encode({"m": self._message})
        atomic_write_bytes(self.path, data)
        self._file = open(self.path, "ab", buffering=0)
        self._appended = 0
        fsync_dir(self.path.parent)
