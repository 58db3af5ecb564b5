"""Which language model serves the suggester, loaded once in the background and shared.

One setting chooses the model: empty = the default Gemma 3 270M from its package (assembled into the
user cache on first start), a path = any other GGUF file, an http(s) URL = an OpenAI-compatible
llama.cpp server on the ward network. All three give a `TextGenerator`, so the suggester has one code
path. Loading happens in a worker thread: the speller works from the first second (retrieval and
n-gram), and the status line says what the model is doing and, if it failed, why.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Sequence

from .generation import Generation, NextWords, TextGenerator
from .prompts import SHARED_PREFIX, abbreviation_grammar
from .model_files import ModelFileError, Progress, default_model_path


class ServerGenerator:
    """An OpenAI-compatible llama.cpp server (`/v1/completions`, with llama.cpp's `grammar` extension)."""

    def __init__(self, url: str, connect_timeout_s: float = 2.0):
        self.url = url.rstrip("/")
        self.name = f"server {self.url}"
        self.connect_timeout_s = connect_timeout_s
        self.endpoint = self.url if self.url.endswith("/completions") else self.url + "/v1/completions"

    def _post(self, body: dict, deadline: float | None) -> tuple[dict | None, str]:
        timeout = self.connect_timeout_s if deadline is None else max(0.01, deadline - time.monotonic())
        req = urllib.request.Request(self.endpoint, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read().decode("utf-8")), ""
        except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            late = deadline is not None and time.monotonic() >= deadline
            return None, "deadline" if late else f"server {self.url} did not answer ({reason})"

    def generate(self, prompt: str, *, max_tokens: int, stop: Sequence[str] = ("\n",), temperature: float = 0.0,
                 initials: str | None = None, deadline: float | None = None, seed: int = 0) -> Generation:
        body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": temperature, "seed": seed,
                "stop": list(stop), "logprobs": 1}
        if initials:
            body["grammar"] = abbreviation_grammar(initials)
        data, why = self._post(body, deadline)
        if data is None:
            return Generation("", 0.0, complete=False, reason=why)
        try:
            choice = data["choices"][0]
            text = str(choice.get("text", ""))
            lps = [x for x in ((choice.get("logprobs") or {}).get("token_logprobs") or []) if x is not None]
        except (KeyError, IndexError, TypeError, AttributeError):
            return Generation("", 0.0, complete=False, reason=f"server {self.url} gave an unexpected answer")
        return Generation(text.strip("\n"), sum(lps) / len(lps) if lps else 0.0, complete=True, tokens=len(lps))

    def next_words(self, prompt: str, prefix: str = "", k: int = 5, deadline: float | None = None) -> NextWords:
        body = {"prompt": prompt, "max_tokens": 1, "temperature": 0.0, "logprobs": 20}
        data, why = self._post(body, deadline)
        if data is None:
            return NextWords([], complete=False, reason=why)
        try:
            top = (data["choices"][0].get("logprobs") or {}).get("top_logprobs") or [{}]
            pairs = top[0].items()
        except (KeyError, IndexError, TypeError, AttributeError):
            return NextWords([], complete=False, reason=f"server {self.url} gave an unexpected answer")
        best: dict[str, float] = {}
        for tok, lp in sorted(pairs, key=lambda t: -t[1]):
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

    def _load(self) -> None:
        try:
            s = self.model_setting
            if s.startswith(("http://", "https://")):
                self.generator = ServerGenerator(s)
            else:
                if s:
                    path = Path(s).expanduser()
                    if not path.is_file():
                        raise ModelFileError(f"model file {path} does not exist")
                else:
                    path = default_model_path(self.cache_dir, self._progress)
                self._progress(f"loading {path.name}", 0.0)
                from .llama_backend import LlamaCppGenerator  # noqa: PLC0415 (llama_cpp only when needed)

                try:
                    self.generator = LlamaCppGenerator(path, n_threads=self.n_threads, n_ctx=self.n_ctx)
                except (ValueError, RuntimeError, OSError) as exc:
                    raise ModelFileError(f"model file {path} could not be loaded ({exc}); is it a valid GGUF?") from exc
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
