"""The message journal against real files, real fsync and a real SIGKILL."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from myovox.session import MessageJournal, read_journal

APP = str(Path(__file__).resolve().parents[2] / "app")

CHILD_PAUSES = r"""
import sys
from myovox.session import MessageJournal
j = MessageJournal(sys.argv[1])
j.set_message("HELLO")
j.spoken("HELLO")
j.set_message("")
typed = ""
for ch in "I NEED WATER, ÄND THE NURSE":
    typed += ch
    j.set_message(typed)
    if typed == "I NEED WATER, ÄN":
        print("composing", flush=True)
        sys.stdin.readline()  # wait here, mid-composition, until killed
"""

CHILD_RUNS = r"""
import sys
from myovox.session import MessageJournal
j = MessageJournal(sys.argv[1], compact_after=50)
i = 0
while True:  # edits without end; killed at an arbitrary moment
    i += 1
    j.set_message(f"EDIT NUMBER {i}")
    print(i, flush=True)  # only after set_message returned: this edit is acknowledged
"""

RESTORE = r"""
import json, sys
from myovox.session import MessageJournal
j = MessageJournal(sys.argv[1])
print(json.dumps({"message": j.message, "spoken": [c.text for c in j.conversation], "skipped": j.restored.skipped}))
"""


def _python(code, *args, **kw):
    env = dict(os.environ, PYTHONPATH=APP + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], env=env, text=True, **kw)


def _restore_in_new_process(path):
    p = _python(RESTORE, path, stdout=subprocess.PIPE)
    out, _ = p.communicate()
    assert p.returncode == 0
    return json.loads(out)


def test_kill_9_mid_composition_restores_the_exact_message(tmp_path):
    path = tmp_path / "journal.log"
    child = _python(CHILD_PAUSES, path, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdout.readline() == "composing\n"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    restored = _restore_in_new_process(path)
    assert restored == {"message": "I NEED WATER, ÄN", "spoken": ["HELLO"], "skipped": 0}


def test_kill_9_at_an_arbitrary_moment_loses_no_acknowledged_edit(tmp_path):
    path = tmp_path / "journal.log"
    child = _python(CHILD_RUNS, path, stdout=subprocess.PIPE)
    for _ in range(400):  # many edits, through several compactions
        acknowledged = int(child.stdout.readline())
    child.send_signal(signal.SIGKILL)
    child.wait()
    restored = _restore_in_new_process(path)
    # The child may have made more edits after the last one we read; it may never have fewer.
    assert restored["skipped"] <= 1  # at most the one record being written at the kill
    number = int(restored["message"].removeprefix("EDIT NUMBER "))
    assert number >= acknowledged >= 400


def test_a_torn_last_record_does_not_prevent_restoring_the_rest(tmp_path):
    path = tmp_path / "journal.log"
    with MessageJournal(path) as j:
        j.spoken("GOOD MORNING", at=datetime(2025, 3, 1, 8, 30, tzinfo=timezone.utc))
        j.set_message("WATER")
        j.set_message("WATER PLEASE")
    whole = path.read_bytes()
    path.write_bytes(whole[:-7])  # the last record torn mid-write
    r = read_journal(path)
    assert (r.message, [c.text for c in r.conversation], r.skipped) == ("WATER", ["GOOD MORNING"], 1)
    assert r.conversation[0].at == "2025-03-01T08:30:00+00:00"
    assert "1 damaged journal record" in r.notice
    with MessageJournal(path) as j:  # opening compacts: the torn tail cannot swallow the next record
        assert j.message == "WATER"
        j.set_message("WATER NOW")
    assert read_journal(path).message == "WATER NOW" and read_journal(path).skipped == 0


def test_a_damaged_record_in_the_middle_is_skipped_and_counted(tmp_path):
    path = tmp_path / "journal.log"
    with MessageJournal(path) as j:
        j.spoken("YES")
        j.spoken("NO")
        j.set_message("MAYBE")
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b"YES", b"YEZ")  # a flipped byte: the checksum no longer matches
    path.write_bytes(b"\n".join(lines))
    r = read_journal(path)
    assert ([c.text for c in r.conversation], r.message, r.skipped) == (["NO"], "MAYBE", 1)


def test_garbage_file_restores_nothing_but_does_not_crash(tmp_path):
    path = tmp_path / "journal.log"
    path.write_bytes(os.urandom(3000))
    with MessageJournal(path) as j:
        assert j.message == "" and j.conversation == () and j.restored.skipped > 0
        j.set_message("HI")
    assert read_journal(path).message == "HI"


def test_journal_compacts_and_keeps_the_state(tmp_path):
    path = tmp_path / "journal.log"
    with MessageJournal(path, compact_after=20, keep_spoken=5) as j:
        for i in range(12):
            j.spoken(f"LINE {i}")
        for i in range(100):
            j.set_message("A" * (i % 30))
        final = j.message
    r = read_journal(path)
    assert r.message == final
    assert [c.text for c in r.conversation] == [f"LINE {i}" for i in range(7, 12)]
    assert r.records <= 20 + 6


def test_journal_file_is_private_and_the_default_location_honours_myovox_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MYOVOX_HOME", str(tmp_path))
    with MessageJournal.open_default(patient_id="p07") as j:
        j.set_message("SECRET")
        assert j.path == tmp_path / "data" / "journal-p07.log"
    assert (j.path.stat().st_mode & 0o777) == 0o600


def test_the_edit_that_triggers_compaction_is_kept(tmp_path):
    path = tmp_path / "journal.log"
    j = MessageJournal(path, compact_after=3)
    for text in ("A", "AB", "ABC"):  # the third append compacts
        j.set_message(text)
    j.spoken("ABC")  # (never closed: as after a crash)
    r = read_journal(path)
    assert (r.message, [c.text for c in r.conversation]) == ("ABC", ["ABC"])
