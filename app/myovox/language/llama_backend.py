"""The one module that imports llama_cpp: a GGUF file run in-process, token by token, under a deadline.

Generation goes token by token (not one blocking call) so a deadline can stop it between tokens and
the speller is never left waiting. The prompt's KV cache is reused between calls that share a prefix
(llama.cpp's prefix match), so sampling several candidates for one prompt pays the prompt only once.
"""
from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from .generation import Generation


class LlamaCppGenerator:
    """A loaded GGUF model. One generation at a time (llama.cpp contexts are not thread-safe)."""

    def __init__(self, model_path: str | Path, n_threads: int = 2, n_ctx: int = 1024, seed: int = 7):
        import llama_cpp  # noqa: PLC0415 (only here: the adapter owns llama_cpp)

        self._llama_cpp = llama_cpp
        self.model_path = Path(model_path)
        self.name = self.model_path.name
        self._llm = llama_cpp.Llama(
            model_path=str(self.model_path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
            n_batch=256, seed=seed, verbose=False,
        )
        self._lock = threading.Lock()
        self._grammars: dict[str, object] = {}

    def _grammar(self, gbnf: str | None):
        if not gbnf:
            return None
        g = self._grammars.get(gbnf)
        if g is None:
            g = self._llama_cpp.LlamaGrammar.from_string(gbnf, verbose=False)
            if len(self._grammars) > 64:
                self._grammars.clear()
            self._grammars[gbnf] = g
        return g

    def generate(self, prompt: str, *, max_tokens: int, stop: Sequence[str] = (), temperature: float = 0.0,
                 grammar: str | None = None, deadline: float | None = None, seed: int = 0) -> Generation:
        """Sample one continuation; stops at a stop string, end of text, max_tokens or the deadline."""
        if not self._lock.acquire(timeout=max(0.0, (deadline - time.monotonic())) if deadline else -1):
            return Generation("", 0.0, complete=False, tokens=0, reason="model busy past the deadline")
        try:
            llm = self._llm
            tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
            if len(tokens) + max_tokens > llm.n_ctx():
                tokens = tokens[-(llm.n_ctx() - max_tokens - 1):]
            llm.set_seed(seed)
            out = bytearray()
            logprob_sum, n, complete, reason = 0.0, 0, False, ""
            eos = llm.token_eos()
            if deadline is not None and time.monotonic() >= deadline:
                return Generation("", 0.0, complete=False, tokens=0, reason="deadline")
            gen = llm.generate(tokens, top_k=40, top_p=0.95, temp=temperature, repeat_penalty=1.0,
                               grammar=self._grammar(grammar))
            for tok in gen:
                if tok == eos:
                    complete = True
                    break
                logits = np.asarray(llm.scores[-1], dtype=np.float64)
                m = logits.max()
                logprob_sum += float(logits[tok] - m - math.log(np.exp(logits - m).sum()))
                n += 1
                out += llm.detokenize([tok])
                text = out.decode("utf-8", errors="ignore")
                if any(s in text for s in stop):
                    complete = True
                    break
                if n >= max_tokens:
                    complete = True
                    reason = "max_tokens"
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    reason = "deadline"
                    break
            gen.close()
            text = out.decode("utf-8", errors="ignore")
            for s in stop:
                if s in text:
                    text = text[: text.index(s)]
            return Generation(text, logprob_sum / n if n else 0.0, complete=complete, tokens=n, reason=reason)
        finally:
            self._lock.release()
