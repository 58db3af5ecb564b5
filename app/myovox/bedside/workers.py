"""Worker threads that keep slow stages (the encoder, the language model) off the UI thread."""
from __future__ import annotations

import queue
import threading
import traceback
from typing import Callable


class Worker:
    """One thread, one inbox, one job. Failures become events; the thread never dies of them.

    `latest_only` keeps just the newest request per key, so a patient who moves on never waits for
    the answer to a question they no longer ask.
    """

    def __init__(self, name: str, job: Callable[[object], object], on_result: Callable[[object], None],
                 on_error: Callable[[object, BaseException], None] | None = None, latest_only: bool = False,
                 key: Callable[[object], object] | None = None):
        self.name = name
        self.job = job
        self.on_result = on_result
        self.on_error = on_error
        self.latest_only = latest_only
        self.key = key or (lambda item: None)
        self._inbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.busy = False
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, item) -> None:
        self._inbox.put(item)

    def pending(self) -> bool:
        """Is a request waiting behind the one being worked on? (Its answer would then be stale: see the session.)"""
        return not self._inbox.empty()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._inbox.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _next(self):
        item = self._inbox.get()
        if not self.latest_only:
            return item
        pending = [item]
        while True:
            try:
                pending.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        newest = {}
        for it in pending:
            if it is None:
                return None
            newest[self.key(it)] = it  # later requests replace earlier ones with the same key
        for extra in list(newest.values())[1:]:
            self._inbox.put(extra)
        return next(iter(newest.values()))

    def _run(self) -> None:
        while not self._stop.is_set():
            item = self._next()
            if item is None:
                break
            self.busy = True
            try:
                result = self.job(item)
                if result is not None:
                    self.on_result(result)
            except Exception as exc:  # a failing stage must not take the bedside app with it
                self.failures += 1
                if self.on_error:
                    self.on_error(item, exc)
                else:
                    traceback.print_exc()
            finally:
                self.busy = False
