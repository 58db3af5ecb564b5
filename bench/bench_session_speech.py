"""How long the UI thread would wait on the journal (fsync per edit), and espeak-ng synthesis time per message.

Run: .venv/bin/python bench/bench_session_speech.py   (prints medians and p95; not part of the tests)
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from myovox.session import MessageJournal
from myovox.speech import SavedToFile, SpeechWorker


def pct(v, q):
    s = sorted(v)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main():
    with tempfile.TemporaryDirectory() as d:
        j = MessageJournal(Path(d) / "journal.log")
        text, lat = "", []
        for i in range(500):
            text = text + "x" if len(text) < 80 else ""
            t = time.perf_counter()
            j.set_message(text)
            lat.append(time.perf_counter() - t)
        j.close()
        print(f"journal set_message (fsync'd), 500 edits: median {statistics.median(lat) * 1e3:.2f} ms, "
              f"p95 {pct(lat, 0.95) * 1e3:.2f} ms, max {max(lat) * 1e3:.2f} ms")

        w = SpeechWorker()
        msg = "I would like some water and then please call my daughter"
        enq, synth = [], []
        for i in range(10):
            t = time.perf_counter()
            w.save_to_file(msg, Path(d) / f"{i}.wav")
            enq.append(time.perf_counter() - t)
            ev = w.events.get()
            assert isinstance(ev, SavedToFile), ev
            synth.append(time.perf_counter() - t)
        w.close()
        print(f"speech enqueue (UI thread): median {statistics.median(enq) * 1e6:.0f} us, max {max(enq) * 1e6:.0f} us")
        print(f"espeak-ng WAV for a {len(msg)}-char message ({ev.audio_s:.1f} s audio): "
              f"median {statistics.median(synth) * 1e3:.0f} ms, p95 {pct(synth, 0.95) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
