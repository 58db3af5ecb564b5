"""The fault-injection suite: the bedside app against the faults a ward meets, each as a scenario.

Every scenario asserts the same four things: no crash, nothing the patient composed lost, the notice
visible (on the patient view and in the caregiver's list), the fallback working. Faults are real: LSL
outlets on loopback, espeak-ng without a sound device, a local HTTP server, real files and permissions.
Waits are liveness guards; how long each notice took to appear is recorded and printed at the end
(never asserted: no wall-clock limits in tests).
"""
from __future__ import annotations

import http.server
import json
import threading
import time
from dataclasses import replace

import numpy as np
import pylsl
import pytest

pytest.importorskip("pytestqt")

from myovox.bedside.app import Bedside  # noqa: E402
from myovox.interact.machine import Content  # noqa: E402
from myovox.profiles import find_profile  # noqa: E402

GUARD_MS = 60_000
SEEN: list[tuple[str, float]] = []  # (scenario, seconds from the fault to the notice on screen)


def pytest_terminal_summary(terminalreporter):
    if SEEN:
        terminalreporter.section("fault suite: fault -> notice on screen (wall seconds, not asserted)")
        for name, s in SEEN:
            terminalreporter.write_line(f"{s:7.3f}  {name}")
        terminalreporter.write_line(f"worst {max(s for _, s in SEEN):.3f} s over {len(SEEN)} faults")


def open_app(qtbot, home, predicate=None, profile="myo", start=True, **kw):
    from myovox.ui.main_window import MainWindow

    kw.setdefault("use_llm", False)
    bedside = Bedside(find_profile(profile) if isinstance(profile, str) else profile, predicate=predicate,
                      home=home, **kw)
    window = MainWindow(bedside)
    qtbot.addWidget(window)
    if start:
        bedside.start()
    window.show()
    return bedside, window


def compose(bedside, window, text="i need wat"):
    """The patient's unfinished message (as if typed) on screen and in the journal."""
    s = bedside.session
    s.speller.state = replace(s.speller.state, content=Content(message=text))
    if s.journal is not None:
        s.journal.set_message(text)
    window.patient.render(s.speller)
    return text


def visible(window, key, words):
    """True when the notice `key` is on the board, its plain words on the patient view and its text in the
    caregiver's list."""
    board = window.bedside.session.notices
    n = board.get(key)
    if n is None:
        return False
    items = [window.caregiver.notice_list.item(i).text() for i in range(window.caregiver.notice_list.count())]
    return (n.patient in window.patient.notice.text() and not window.patient.notice.isHidden()
            and any(words.lower() in t.lower() for t in items) and words.lower() in n.text.lower())


def wait_visible(qtbot, window, key, words, scenario, since=None):
    t0 = since if since is not None else time.monotonic()
    qtbot.waitUntil(lambda: visible(window, key, words), timeout=GUARD_MS)
    SEEN.append((scenario, time.monotonic() - t0))


def assert_kept(bedside, window, text):
    assert bedside.session.speller.message == text
    assert window.patient.message.text() == text
    if bedside.journal is not None:
        assert bedside.journal.message == text


def no_exception_text(window):
    """No Python exception name on the patient's screen."""
    shown = window.patient.notice.text() + window.patient.message.text()
    return not any(w in shown for w in ("Error", "Exception", "Traceback"))


class Pusher:
    """A real LSL outlet fed from a thread: `rate` samples per second of wall time in 20 ms chunks, as
    `make(n, start_index)` returns them. The outlet declares `declared` Hz (default: `rate`)."""

    def __init__(self, name, channels=8, rate=200.0, declared=None, fmt=pylsl.cf_float32, source_id=None, make=None):
        self.info = pylsl.StreamInfo(name, "EMG", channels, declared if declared is not None else rate, fmt,
                                     source_id or name)
        self.outlet = pylsl.StreamOutlet(self.info)
        self.rate, self.channels = rate, channels
        rng = np.random.default_rng(0)
        self.make = make or (lambda n, i: rng.normal(0, 3, (n, channels)).astype(np.float32))
        self.sent = 0
        self.silent = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        t0 = time.monotonic()
        while not self._stop.is_set():
            due = int((time.monotonic() - t0) * self.rate)
            n = due - self.sent
            if n > 0 and not self.silent:
                self.outlet.push_chunk(self.make(n, self.sent))
            if n > 0:
                self.sent = due
            self._stop.wait(0.02)

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.outlet = None


class Server:
    """A real HTTP server on 127.0.0.1 in a thread, answering /v1/completions as `mode` says."""

    GOOD = {"choices": [{"text": " water please\n", "logprobs": {"token_logprobs": [-0.5, -0.7],
                                                                  "top_logprobs": [{" water": -0.5, " help": -1.2}]}}]}
    WRONG_TYPES = {"choices": [{"text": ["water"], "logprobs": {"token_logprobs": "bad",
                                                               "top_logprobs": [{" water": "high"}]}}]}

    def __init__(self, mode="good"):
        self.mode = mode
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):  # noqa: N802
                outer.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                mode = outer.mode
                try:
                    if mode == "500":
                        self.send_response(500)
                        self.end_headers()
                        self.wfile.write(b"internal error")
                        return
                    if mode == "slow":
                        time.sleep(4.0)
                        mode = "good"
                    body = {"good": json.dumps(outer.GOOD).encode(), "garbage": b"\x00\xffnot json at all",
                            "wrong-types": json.dumps(outer.WRONG_TYPES).encode(),
                            "empty": b"", "trickle": json.dumps(outer.GOOD).encode()}[mode]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if mode == "trickle":  # one byte every 0.1 s: each read is quick, the whole is not
                        for i in range(len(body)):
                            self.wfile.write(body[i:i + 1])
                            self.wfile.flush()
                            time.sleep(0.1)
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    made = []

    def make(mode="good"):
        s = Server(mode)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def no_sound_device(monkeypatch, tmp_path):
    """espeak-ng (real) with no audio device to play on: ALSA without a configuration, no PulseAudio."""
    empty = tmp_path / "asound.conf"
    empty.write_text("")
    monkeypatch.setenv("ALSA_CONFIG_PATH", str(empty))
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/no-pulse")
    monkeypatch.setenv("AUDIODEV", "null-does-not-exist")
