"""The one module that imports llama_cpp: a GGUF file run in-process, token by token, under a deadline.

We run our own decode loop over llama.cpp's logits instead of one blocking call: the deadline is
checked between tokens; constraints are numpy masks over precomputed token classes (llama.cpp's
GBNF grammar walks all 262k Gemma tokens per step and cost ~0.4 s a token here); and the model's
own log likelihood of every candidate comes for free. The KV cache of the previous prompt is reused
up to the longest common prefix, so keystrokes within a word cost no model work at all.
"""
from __future__ import annotations

import ctypes
import os
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .generation import Generation, NextWords
from .text import stem, words

_ALPHA = re.compile(r"^[A-Za-z']+$")
_SPACE_WORD = re.compile(r"^ [A-Za-z][A-Za-z']*$")
EVAL_CHUNK = 64  # prompt tokens evaluated between deadline checks
MAX_BEAMS = 48  # parallel sequences in the KV cache (beams of the abbreviation search, two generations of them)


def piece_text(raw: str, bpe: bool) -> str:
    """A vocabulary entry as text. SentencePiece (Gemma) writes a leading space as "\u2581"; byte-level BPE
    (SmolLM2, Llama 3, Qwen) writes it as "\u0120" and a newline as "\u010a". Without this a BPE model had no
    word tokens at all and failed to load."""
    if bpe:
        return raw.replace("\u0120", " ").replace("\u010a", "\n")
    return raw.replace("\u2581", " ")


def _log_softmax(x: np.ndarray) -> np.ndarray:
    m = float(x.max())
    return x - (m + np.log(np.exp(x - m).sum()))


class LlamaCppGenerator:
    """A loaded GGUF model. One generation at a time (llama.cpp contexts are not thread-safe)."""

    def __init__(self, model_path: str | Path, n_threads: int = 2, n_ctx: int = 1024, seed: int = 7):
        # Idle OpenMP workers must sleep, not spin: on a shared 2-core bedside machine (EMG decoding runs
        # beside us) spinning threads made prompt evaluation 3-6x slower in our measurements.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import llama_cpp  # noqa: PLC0415 (only here: the adapter owns llama_cpp)

        self.model_path = Path(model_path)
        self.name = self.model_path.name
        # verbose=False would make llama-cpp-python silence the load by redirecting file descriptors 1 and 2
        # for the whole process: while the model loads in its background thread, everything the app prints
        # (an error included) vanished. Load verbosely and let our own log callback pass only problems on.
        _quiet_llama_log(llama_cpp)
        self._llm = llama_cpp.Llama(
            model_path=str(self.model_path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
            n_batch=EVAL_CHUNK, seed=seed, verbose=True,
        )
        self._llm.verbose = False  # no per-call timing prints from here on
        self._use_multi_sequence_context(llama_cpp)
        self._lock = threading.Lock()
        self._n_vocab = self._llm.n_vocab()
        self._eos = self._llm.token_eos()
        self._build_token_classes()
        self._cached_logits: tuple[tuple[int, ...], np.ndarray] | None = None
        # Keep the prompt's KV cells between calls and evaluate only what differs from the last prompt (the
        # fixed few-shot prefix, the conversation once per turn); False evaluates every prompt from scratch.
        self.reuse_prompt_cache = True

    def _use_multi_sequence_context(self, llama_cpp) -> None:
        """Swap in a context whose KV cache holds many sequences in one unified pool.

        The abbreviation search keeps each beam as its own sequence: they share the prompt's cache cells
        (a copy only tags cells) and are scored together in one batch. Sequence 0 stays what the
        single-sequence decode loop uses, so that path is unchanged."""
        from llama_cpp import _internals  # noqa: PLC0415

        params = self._llm.context_params
        params.n_seq_max = MAX_BEAMS + 1
        params.kv_unified = True
        old = self._llm._ctx
        self._llm._ctx = _internals.LlamaContext(model=self._llm._model, params=params, verbose=False)
        old.close()
        self._llama_cpp = llama_cpp
        # A batched pass takes a few hundred ms on two busy cores; llama.cpp polls this between graph nodes,
        # so a pass that would run past the beam search's deadline is abandoned instead of overrunning it.
        self._abort_at: float | None = None

        def should_abort(_data) -> bool:
            return self._abort_at is not None and time.monotonic() >= self._abort_at

        self._abort_cb = llama_cpp.ggml_abort_callback(should_abort)  # kept referenced while C holds it
        llama_cpp.llama_set_abort_callback(self._llm._ctx.ctx, self._abort_cb, None)
        self._batch = llama_cpp.llama_batch_init(EVAL_CHUNK, 0, 1)
        self._vocab_ptr = llama_cpp.llama_model_get_vocab(self._llm._model.model)
        self._word_tokens: dict[str, tuple[int, ...]] = {}

    # ---- token classes ------------------------------------------------------------------
    def _build_token_classes(self) -> None:
        model = self._llm._model
        bpe = self._llama_cpp.llama_vocab_type(self._vocab_ptr) == self._llama_cpp.LLAMA_VOCAB_TYPE_BPE
        pieces = []
        for i in range(self._n_vocab):
            try:
                pieces.append(piece_text(model.token_get_text(i), bpe))
            except Exception:  # noqa: BLE001 (control tokens without text)
                pieces.append("")
        self.pieces = pieces
        n = self._n_vocab
        self.alpha = np.zeros(n, bool)  # letters continuing the current word
        self.end = np.zeros(n, bool)  # sentence end
        self.newline = np.zeros(n, bool)
        self.word_start: dict[str, np.ndarray] = {}
        space_ids, space_text = [], []
        for i, p in enumerate(pieces):
            if _ALPHA.match(p):
                self.alpha[i] = True
            elif _SPACE_WORD.match(p):
                space_ids.append(i)
                space_text.append(p[1:])
            elif p in (".", "?", "!"):
                self.end[i] = True
            elif p == "\n":
                self.newline[i] = True
        self.end_ids = np.flatnonzero(self.end | self.newline)
        self._piece_id = {p: i for i, p in enumerate(pieces) if p.startswith(" ")}
        self.space_word_ids = np.array(space_ids, dtype=np.int64)
        self.space_word_text = np.array(space_text)
        self.space_word_lower = np.char.lower(self.space_word_text)
        initials = np.array([t[0].lower() for t in space_text])
        for ch in set(initials.tolist()):
            mask = np.zeros(n, bool)
            mask[self.space_word_ids[initials == ch]] = True
            self.word_start[ch] = mask

    # ---- model state --------------------------------------------------------------------
    def _prepare(self, tokens: list[int], deadline: float | None) -> np.ndarray | None:
        """Evaluate `tokens`, reusing the cached prefix; the logits for the next token, or None at the deadline."""
        llm = self._llm
        key = tuple(tokens)
        if not self.reuse_prompt_cache:  # the comparison path of `myovox bench language`: every prompt afresh
            self._cached_logits = None
        if self._cached_logits is not None and self._cached_logits[0] == key:
            return self._cached_logits[1]
        have = list(llm._input_ids[: llm.n_tokens]) if self.reuse_prompt_cache else []
        common = 0
        for a, b in zip(have, tokens):
            if a != b:
                break
            common += 1
        common = min(common, len(tokens) - 1)
        llm.n_tokens = common
        rest = tokens[common:]
        for i in range(0, len(rest), EVAL_CHUNK):
            if deadline is not None and time.monotonic() >= deadline:
                self._cached_logits = None
                return None
            llm.eval(rest[i:i + EVAL_CHUNK])
        logits = self._logits()
        self._cached_logits = (key, logits)
        return logits

    def _logits(self) -> np.ndarray:
        return np.ctypeslib.as_array(self._llm._ctx.get_logits(), shape=(self._n_vocab,)).astype(np.float32)

    def _tokens(self, prompt: str) -> list[int]:
        toks = self._llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
        limit = self._llm.n_ctx() - 48
        return toks if len(toks) <= limit else toks[:1] + toks[-(limit - 1):]

    # ---- the TextGenerator protocol ------------------------------------------------------
    accepts_required_words = True  # `generate(require=...)`: see there

    def _word_ids(self, word: str) -> np.ndarray:
        """Tokens that begin `word` or an inflection of it (" pain", " Pain", " pains"; " daugh" if it is split)."""
        st = stem(word.lower())
        cache = self.__dict__.setdefault("_word_ids_cache", {})
        if st not in cache:
            low = self.space_word_lower
            by_text = self.__dict__.get("_space_by_text")
            if by_text is None:  # lower-cased word piece -> its positions in space_word_ids (built once)
                by_text = self._space_by_text = {}
                for i, t in enumerate(low.tolist()):
                    by_text.setdefault(t, []).append(i)
            split = [i for k in range(3, len(st)) for i in by_text.get(st[:k], ())]
            sel = np.char.startswith(low, st)
            sel[split] = True
            cache[st] = self.space_word_ids[sel]
        return cache[st]

    def generate(self, prompt: str, *, max_tokens: int, stop: Sequence[str] = ("\n",), temperature: float = 0.0,
                 initials: str | None = None, deadline: float | None = None, seed: int = 0,
                 require: Sequence[str] = (), require_bonus: float = 2.0) -> Generation:
        """`require`: words the sentence must use (the patient's keywords): it may not end before each is in it
        (or an inflection), and until then their first tokens get `require_bonus` nats for the choice (the
        score stays the model's own)."""
        wait = -1 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._lock.acquire(timeout=wait):
            return Generation("", 0.0, complete=False, reason="deadline")
        try:
            logits = self._prepare(self._tokens(prompt), deadline)
            if logits is None:
                return Generation("", 0.0, complete=False, reason="deadline")
            letters = [c for c in (initials or "").lower() if c.isalnum()]
            required = [(stem(w), self._word_ids(w)) for w in dict.fromkeys(x for r in require for x in words(r))]
            rng = np.random.default_rng(seed)
            out, lp_sum, n, started = "", 0.0, 0, 0
            while True:
                lp = _log_softmax(logits.astype(np.float64))
                choice = lp.copy()
                if letters:
                    if started == 0:
                        mask = self.word_start.get(letters[0])
                    else:
                        mask = self.alpha.copy()
                        if started < len(letters):
                            ws = self.word_start.get(letters[started])
                            if ws is not None:
                                mask |= ws
                        else:
                            mask |= self.end | self.newline
                    if mask is None or not mask.any():
                        return Generation("", 0.0, complete=False, reason=f"no token starts with {letters[started]!r}")
                    choice[~mask] = -np.inf
                if required:
                    used = {stem(w) for w in words(out)}
                    pending = [ids for st, ids in required if st not in used]
                    if pending:
                        choice[self.end | self.newline] = -np.inf
                        choice[self._eos] = -np.inf
                        for ids in pending:
                            choice[ids] += require_bonus
                if temperature <= 0:
                    tok = int(np.argmax(choice))
                else:
                    top = np.argpartition(choice, -40)[-40:]
                    w = choice[top] / temperature
                    w = np.exp(w - w.max())
                    tok = int(rng.choice(top, p=w / w.sum()))
                if tok == self._eos:
                    return Generation(out, lp_sum / n if n else 0.0, complete=True, tokens=n)
                lp_sum += float(lp[tok])
                n += 1
                piece = self._llm.detokenize([tok]).decode("utf-8", errors="ignore")
                out += piece
                if letters and started < len(letters) and tok in self.space_word_ids_set:
                    started += 1
                hit = next((s for s in stop if s in out), None)
                if hit is not None:
                    return Generation(out[: out.index(hit)], lp_sum / n, complete=True, tokens=n)
                if letters and started == len(letters) and (self.end[tok] or self.newline[tok]):
                    return Generation(out.strip("\n"), lp_sum / n, complete=True, tokens=n)
                if n >= max_tokens:
                    return Generation(out, lp_sum / n, complete=not letters, tokens=n, reason="max_tokens")
                if deadline is not None and time.monotonic() >= deadline:
                    return Generation(out, lp_sum / n, complete=False, tokens=n, reason="deadline")
                self._llm.eval([tok])
                logits = self._logits()
                self._cached_logits = None
        finally:
            self._lock.release()

    def keyword_vocab(self):
        """The token classes `keywords.combine_keywords` needs (built once)."""
        got = self.__dict__.get("_keyword_vocab")
        if got is None:
            from .keywords import TokenVocab  # noqa: PLC0415

            plain = re.compile(r"^ ?[A-Za-z,'-]+$")  # no digits ("My world is stage 2."), no bare spaces
            text_ok = np.array([bool(plain.match(p)) for p in self.pieces], dtype=bool)
            stop = np.append(np.flatnonzero(self.newline), self._eos).astype(np.int64)
            first_ok = np.zeros(self._n_vocab, dtype=bool)
            first_ok[self.space_word_ids] = True
            got = self._keyword_vocab = TokenVocab(self.pieces, text_ok, first_ok, np.flatnonzero(self.end).astype(np.int64),
                                                   stop, self._word_ids)
        return got

    def next_words(self, prompt: str, prefix: str = "", k: int = 5, deadline: float | None = None) -> NextWords:
        wait = -1 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._lock.acquire(timeout=wait):
            return NextWords([], complete=False, reason="deadline")
        try:
            logits = self._prepare(self._tokens(prompt), deadline)
            if logits is None:
                return NextWords([], complete=False, reason="deadline")
            lp = _log_softmax(logits.astype(np.float64))
            prefix = prefix.lower()
            sel = np.char.startswith(self.space_word_lower, prefix) if prefix else np.ones(len(self.space_word_ids), bool)
            ids, texts = self.space_word_ids[sel], self.space_word_lower[sel]
            if not len(ids):
                return NextWords([])
            scores = lp[ids]
            order = np.argsort(-scores)
            best: dict[str, float] = {}
            for j in order:
                w = str(texts[j])
                if w not in best:
                    best[w] = float(scores[j])
                if len(best) >= k:
                    break
            return NextWords(sorted(best.items(), key=lambda t: -t[1]))
        finally:
            self._lock.release()

    # ---- batched scoring of many continuations (abbreviation beam search) -------------------
    def word_tokens(self, texts: Sequence[str]) -> list[tuple[int, ...]]:
        """Tokens of each text (e.g. " Saturday"), cached; a text that is one vocabulary piece needs no tokenizer."""
        out = []
        lc, buf = self._llama_cpp, (self._llama_cpp.llama_token * 64)()
        for t in texts:
            got = self._word_tokens.get(t)
            if got is None:
                i = self._piece_id.get(t)
                if i is not None:
                    got = (i,)
                else:
                    b = t.encode("utf-8")
                    k = lc.llama_tokenize(self._vocab_ptr, b, len(b), buf, len(buf), False, False)
                    got = tuple(buf[:k]) if 0 < k <= len(buf) else ()
                self._word_tokens[t] = got
            out.append(got)
        return out

    @contextmanager
    def beam_session(self, deadline: float | None = None) -> Iterator["_BeamSession | None"]:
        """Exclusive use of the model for one beam search (None if it stayed busy past the deadline)."""
        wait = -1 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._lock.acquire(timeout=wait):
            yield None
            return
        session = _BeamSession(self)
        try:
            yield session
        finally:
            session.close()
            self._lock.release()

    @property
    def space_word_ids_set(self) -> set[int]:
        s = getattr(self, "_space_set", None)
        if s is None:
            s = self._space_set = set(self.space_word_ids.tolist())
        return s


class _BeamSession:
    """Implements `initials.BatchLM` over llama.cpp sequences: handle 0 is the prompt (sequence 0)."""

    def __init__(self, gen: LlamaCppGenerator):
        self.gen = gen
        self.end_ids = gen.end_ids
        self._mem = gen._llama_cpp.llama_get_memory(gen._llm._ctx.ctx)
        self._seq: dict[int, tuple[int, int]] = {}  # handle -> (sequence id, next position)
        self._free = list(range(MAX_BEAMS, 0, -1))
        self._next_handle = 1

    def start(self, prompt: str, deadline: float | None) -> np.ndarray | None:
        logits = self.gen._prepare(self.gen._tokens(prompt), deadline)
        if logits is None:
            return None
        self._seq = {0: (0, self.gen._llm.n_tokens)}
        return _log_softmax32(logits)

    def extend(self, items, deadline):
        lc, gen = self.gen._llama_cpp, self.gen
        if len(items) > len(self._free):
            items = items[: len(self._free)]
        rows: list[tuple[int, int, int]] = []  # (token, position, sequence)
        spans, handles = [], []
        for parent, toks in items:
            pseq, pos = self._seq[parent]
            seq = self._free.pop()
            lc.llama_memory_seq_rm(self._mem, seq, -1, -1)
            lc.llama_memory_seq_cp(self._mem, pseq, seq, -1, -1)
            spans.append((len(rows), len(toks)))
            rows.extend((t, pos + i, seq) for i, t in enumerate(toks))
            h = self._next_handle
            self._next_handle += 1
            self._seq[h] = (seq, pos + len(toks))
            handles.append(h)
        out_rows: list[np.ndarray] = []
        batch, nv, ctx = gen._batch, gen._n_vocab, gen._llm._ctx.ctx
        for c in range(0, len(rows), EVAL_CHUNK):
            if deadline is not None and time.monotonic() >= deadline:
                return None
            chunk = rows[c:c + EVAL_CHUNK]
            batch.n_tokens = len(chunk)
            for i, (t, p, seq) in enumerate(chunk):
                batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = t, p, 1, True
                batch.seq_id[i][0] = seq
            gen._abort_at = deadline
            try:
                rc = lc.llama_decode(ctx, batch)
            finally:
                gen._abort_at = None
            if rc != 0:  # 2: aborted at the deadline; the failed batch's cache cells are dropped by llama.cpp
                return None
            logits = np.ctypeslib.as_array(lc.llama_get_logits(ctx), shape=(len(chunk), nv))
            out_rows.extend(_log_softmax32(logits[i]) for i in range(len(chunk)))
        result = []
        for h, (start, k), (_, toks) in zip(handles, spans, items):
            inner = sum(float(out_rows[start + i - 1][toks[i]]) for i in range(1, k))
            result.append((h, inner, out_rows[start + k - 1]))
        return result

    def keep(self, handles) -> None:
        keep = set(handles) | {0}
        for h in [h for h in self._seq if h not in keep]:
            seq, _ = self._seq.pop(h)
            self.gen._llama_cpp.llama_memory_seq_rm(self._mem, seq, -1, -1)
            self._free.append(seq)

    def close(self) -> None:
        self.keep([])


def _log_softmax32(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    m = float(x.max())
    return x - np.float32(m + np.log(np.exp(x - m).sum()))


_ABORT_MESSAGES = (b"decode: removing memory module entries", b"compute_async failed with error 1",
                   b"failed to compute graph, compute status: 1", b"failed to decode, ret = 2")
_LOG_CALLBACK = None  # kept referenced: llama.cpp calls it from C for the life of the process


def _quiet_llama_log(llama_cpp) -> None:
    """Route llama.cpp's own log through a callback that writes warnings and errors only.

    ggml's levels: 1 debug, 2 info, 3 warn, 4 error, 5 continues the previous line."""
    global _LOG_CALLBACK
    if _LOG_CALLBACK is not None:
        return
    import sys  # noqa: PLC0415

    shown = [False]

    @llama_cpp.llama_log_callback
    def callback(level, text, user_data):  # noqa: ARG001
        if level != 5:
            # A pass abandoned at the deadline (our abort callback; ggml status 1 = aborted) is expected.
            shown[0] = level in (3, 4) and not any(m in text for m in _ABORT_MESSAGES)
        if shown[0]:
            sys.stderr.write(text.decode("utf-8", "replace"))

    _LOG_CALLBACK = callback
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
