"""The concrete `Suggester` the speller and the simulator use: retrieval first, the LLM fills, n-gram always answers.

Order of every answer: phrases from the patient's memory (instant, their own words), then model
generations while the deadline allows, then the n-gram fallback so there is always something to
choose. Scores are put on one scale so they are comparable within an answer: memory in (2, 3),
LLM in (1, 2), n-gram and templates in (0, 1). Nothing here speaks: these are suggestions only.

Constructible cheaply with no model at all (`LanguageSuggester(memory, ngram)`), then `status` says
why the model is absent; `open_suggester()` wires the user's memory file and the model setting.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from . import prompts
from .api import Candidate
from .backend import LanguageBackend
from .generation import TextGenerator
from .keywords import KeywordSettings, combine_keywords
from .initials import FormIndex, PassTimer, SearchSettings, display_form, expand_initials, sentence_score
from .memory import PhraseMemory, load_starter_phrases
from .ngram import NGramModel, next_char_mass
from .safety import filter_candidates, is_keyword_salad, judge
from .text import abbreviation_readings, keeps_keywords, keyword_words, normalize, words

DEFAULT_DEADLINE_S = 1.5
# Fallback phrases built around the patient's keywords when neither memory nor model has one; ranked by the n-gram.
LABEL_TEMPLATES = ("I want {k}.", "I need {k}.", "Please {k}.", "I am {k}.", "My {k}.", "Can I have {k}?", "{K}.")


def _display_word(w: str) -> str:
    """'i' and its contractions are written capitalised; other words as the model spelled them."""
    return "I" + w[1:] if w == "i" or w.startswith("i'") else w


def _squash(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


@dataclass
class CallReport:
    """What the last call did, for the status line, benchmarks and tests (content-free)."""

    task: str = ""
    sources: tuple[str, ...] = ()
    llm_used: bool = False
    llm_attempts: int = 0
    deadline_hit: bool = False
    fallback_reason: str = ""
    first_candidate_s: float | None = None
    elapsed_s: float = 0.0
    llm_candidate_s: list[float] = field(default_factory=list)  # when each model candidate was ready
    # Keywords -> phrases: when five candidates were first on hand (the instant answer or an update; None: never).
    five_candidates_s: float | None = None
    first_sentence_s: float | None = None  # keywords -> phrases: the first candidate other than the keywords as chosen
    late: bool = False  # keywords -> phrases: nothing to show at the deadline, so the search went on (bounded)
    notes: list[str] = field(default_factory=list)
    # Abbreviation only: the beam search's candidates with its own score of each (summed over the sentence, best
    # first), comparable with `LanguageSuggester.abbreviation_score` (batched passes differ by ~0.1 from one row).
    search_candidates: list[tuple[str, float]] = field(default_factory=list)


class LanguageSuggester:
    """Implements `myovox.language.api.Suggester`."""

    def __init__(self, memory: PhraseMemory | None = None, ngram: NGramModel | None = None,
                 backend: LanguageBackend | TextGenerator | None = None, deadline_s: float = DEFAULT_DEADLINE_S,
                 no_model_reason: str = "no language model configured"):
        self.memory = memory if memory is not None else PhraseMemory(load_starter_phrases())
        if ngram is None:
            ngram = default_ngram(self.memory)
        self.ngram = ngram
        # Dictionary for spotting garbled model output (None: no word list, only the shape checks apply).
        self.known_words: set[str] | None = set(ngram.vocabulary) if ngram.prior else None
        self.backend = backend
        self.deadline_s = deadline_s
        self.no_model_reason = no_model_reason
        self.last = CallReport()
        self.use_llm_for_words = True
        self.abbreviation_strategy = "beam"  # or "sample": constrained sampling, greedy first
        self.beam_width = 3
        self._pass_s = 0.1  # running estimate of one model pass, seconds
        # Called with (task, candidates) as soon as memory + n-gram have answered, before the model runs,
        # so a speller can show something at once and replace it when the full answer returns.
        # Keywords -> phrases also hand each model sentence over this way as it finishes.
        self.on_partial: Callable[[str, list[Candidate]], None] | None = None
        # Asked between the model's passes: True when a newer request is waiting (the answer would be stale).
        self.should_stop: Callable[[], bool] | None = None
        # Keywords -> phrases with nothing to show at the deadline (no phrase of the patient's keeps every keyword
        # and the model finished none): the search goes on for at most this long, and its sentences come late.
        self.keyword_late_s = 3.0
        self.keyword_line = True  # several keywords: the keywords as chosen ("pain, leg") are offered last, if room
        self.llm_word_slots = 3  # at most this many word slots from the model; the n-gram fills the rest
        self.llm_label_slots = 2  # keywords -> phrases: slots kept for the model's sentences while it is ready
        # What the conversation partner just said (typed by a caregiver), conditioning every task; "" = none.
        self.partner_line = ""
        self.letter_words = 200  # the model's top next words kept for `next_letters` (same forward pass)
        self.llm_letter_weight = 0.5  # the model's share of the next-letter ranking when it ran (not tuned)
        self._llm_words: dict[str, tuple[str, list[tuple[str, float]]]] = {}
        # Keywords -> sentences: "beam" (one batched pass per token for every beam, `keywords`) where the model
        # scores in batches, else "sample" (one sentence after another, `_llm_fill`).
        self.keyword_strategy = "beam"
        self.keyword_search = KeywordSettings()
        self.search = SearchSettings()  # abbreviation beam search over words, scored in batches by the model
        # The abbreviation prompt does not spell out the letters: the prompt is then the same for every call
        # and served from the model's cache (a pass saved); exact matches on MacKenzie were the same either way.
        self.prompt_shows_letters = False
        # Words the abbreviation search may write: the most frequent of the word list, plus every word of the
        # phrases the n-gram knows (starter phrases, the patient's own). Rarer words were mostly noise.
        # Chosen on MacKenzie (top-5 exact of 60): 0-59: 40000 words 1, 15000 4, 6000 5; 60-119: 40000 4, 8000 6, 4000 4.
        self.form_vocabulary = 8000
        self._timer = PassTimer()
        self._forms: FormIndex | None = None

    # ---- model state ----------------------------------------------------------------------
    @property
    def generator(self) -> TextGenerator | None:
        b = self.backend
        if b is None:
            return None
        if isinstance(b, LanguageBackend):
            return b.generator if b.state == "ready" else None
        return b

    @property
    def status(self) -> str:
        """One line for the speller: which model serves suggestions, or why none does."""
        b = self.backend
        if b is None:
            why = self.no_model_reason
        elif isinstance(b, LanguageBackend):
            if b.state == "ready":
                return b.message
            why = b.message
        else:
            return f"language model ready: {getattr(b, 'name', 'generator')}"
        extra = f"; {self.memory.problem}" if self.memory.problem else ""
        return f"suggestions from phrase memory and word list only: {why}{extra}"

    # ---- helpers --------------------------------------------------------------------------
    def _allowed_words(self, *typed: str) -> set[str]:
        allowed = {w for t in typed for w in words(t)}
        for p in self.memory.learned_phrases():
            allowed.update(words(p))
        return allowed

    def _begin(self, task: str, deadline_s: float | None) -> tuple[float, float]:
        now = self._t0 = time.monotonic()
        self.last = CallReport(task=task)
        return now, now + (self.deadline_s if deadline_s is None else deadline_s)

    def _finish(self, out: list[Candidate], t0: float, first: float | None) -> list[Candidate]:
        self.last.elapsed_s = time.monotonic() - t0
        self.last.first_candidate_s = first
        self.last.sources = tuple(c.source for c in out)
        return out

    def _llm_fill(self, out: list[Candidate], n: int, prompt: str, deadline: float, allowed: set[str], *,
                  initials: str | None, max_tokens: int, accept, keywords: Sequence[str] = ()) -> None:
        """Sample the model (greedy first, then varied) until n candidates or the deadline."""
        gen = self.generator
        if gen is None:
            self.last.fallback_reason = self.status
            return
        attempts = 0
        # Sentences that must use every keyword are rejected more often: they get more tries within the deadline.
        while len(out) < n and attempts < (3 if keywords else 2) * n:
            if time.monotonic() >= deadline:
                self.last.deadline_hit = True
                self.last.fallback_reason = "deadline reached: filled from the n-gram"
                return
            extra = {"require": keywords} if keywords and getattr(gen, "accepts_required_words", False) else {}
            g = gen.generate(prompt, max_tokens=max_tokens, stop=("\n",), temperature=0.0 if attempts == 0 else 0.9,
                             initials=initials, deadline=deadline, seed=attempts, **extra)
            attempts += 1
            self.last.llm_attempts = attempts
            self.last.llm_used = True
            if not g.complete and g.reason == "max_tokens":
                continue  # rambled past the length limit: try another sample
            if not g.complete:
                if g.reason == "deadline" or time.monotonic() >= deadline:
                    self.last.deadline_hit = True
                    self.last.fallback_reason = "deadline reached: filled from the n-gram"
                else:
                    self.last.fallback_reason = g.reason or "model gave no answer"
                return
            text = " ".join(g.text.strip().split())
            if not text or not accept(text):
                continue
            cand = Candidate(text, 1.0 + _squash(g.mean_logprob + 3.0), "llm")
            kept = filter_candidates([cand], allowed, already=out, known_words=self.known_words, keywords=keywords)
            if kept:
                out.extend(kept)
                self.last.llm_candidate_s.append(time.monotonic() - self._t0)
        # Within the model's tier, its own likelihood decides the order.
        head = [c for c in out if c.source != "llm"]
        out[:] = head + sorted((c for c in out if c.source == "llm"), key=lambda c: -c.score)

    # ---- the Suggester protocol -------------------------------------------------------------
    def phrases_from_labels(self, labels: Sequence[str], context: Sequence[str] = (), n: int = 5,
                            deadline_s: float | None = None) -> list[Candidate]:
        """Phrases that keep every chosen keyword (or an inflection of it). The patient's own phrases first;
        while a model is ready at least `llm_label_slots` of the slots are kept for the sentences it builds
        around all the keywords (memory refills them if the model has none in time). A single keyword also
        gets the instant templates ("I want water."); several never do: "I need daughter visit." says nothing.
        Several keywords get the keywords as chosen instead ("daughter, visit", last, where there is room), so an
        answer is never empty. `on_partial` hears the instant answer and each model sentence as it finishes; with
        no sentence to show at the deadline the search goes on for up to `keyword_late_s` (the call returns then)."""
        t0, deadline = self._begin("labels", deadline_s)
        labels = [lab.strip() for lab in labels if lab and lab.strip()]
        if not labels:
            return self._finish([], t0, None)
        allowed = self._allowed_words(*labels)
        found = [Candidate(c.text, 2.0 + _squash(c.score - 1.0), "memory")
                 for c in filter_candidates(self.memory.search_labels(labels, 4 * n), allowed)]
        whole = [c for c in found if keeps_keywords(c.text, labels)]
        partial = [c for c in found if not keeps_keywords(c.text, labels)]  # without a model, if nothing else answers
        model_ready = self.generator is not None
        keep = max(0, n - self.llm_label_slots) if model_ready else n
        out, spare = whole[:keep], whole[keep:n]
        fill: list[Candidate] = []
        if len(keyword_words(labels)) == 1 or len(labels) == 1:
            k = " ".join(labels)
            tmpl = [t.format(k=k, K=k[:1].upper() + k[1:]) for t in LABEL_TEMPLATES]
            ranked = sorted(tmpl, key=lambda p: -self.ngram.phrase_log_score(p))
            fill = filter_candidates([Candidate(p, _squash(self.ngram.phrase_log_score(p) + 5.0) * 0.99, "ngram")
                                      for p in ranked], allowed, already=out + spare, keywords=labels)
        if model_ready:
            partial = []
        # The patient's keywords as they chose them ("pain, leg": lower case, no sentence), last of all and only
        # where there is room: something that keeps every keyword at once, and never an empty answer. Their own
        # words, so the filter leaves them alone ("typed"); a single keyword has its sentence templates instead.
        own = [Candidate(", ".join(labels), 0.0, "typed")] if self.keyword_line and not fill else []

        def answer() -> list[Candidate]:
            """What the speller should show now: the same rule as the final answer."""
            now = list(out)
            now.extend(filter_candidates(spare, allowed, already=now))  # memory refills what the model left
            now.extend(filter_candidates(fill, allowed, already=now, keywords=labels))
            if not now:
                # The speller without a model can never combine keywords: the patient's phrases with some of them
                # beat nothing (with a model, a chosen keyword is never dropped); the keywords alone keep a slot.
                now = list(partial[: max(0, n - len(own))])
            now.extend(filter_candidates(own, allowed, already=now))
            return now[:n]

        first = time.monotonic() - t0 if (out or spare or fill or partial or own) else None
        if len(out) < n:
            preview = answer()
            self._show_labels(preview)
            prompt = prompts.labels_prompt(labels, context, self.partner_line)

            def accept(t: str) -> bool:
                return (len(words(t)) <= 15 and keeps_keywords(t, labels) and not prompts.echoes_examples(t)
                        and not is_keyword_salad(t, labels))

            gen = self.generator
            if self.keyword_strategy == "beam" and hasattr(gen, "beam_session") and hasattr(gen, "keyword_vocab"):
                # No sentence to show (no phrase of the patient's keeps every keyword, only their keywords as
                # chosen): the search may go on past the deadline, bounded; its sentences come as a later update.
                late = self.keyword_late_s if not (out or spare or fill) else 0.0
                self._llm_keyword_beam(gen, out, n, labels, prompt, deadline, allowed, accept,
                                       late_s=late, show=lambda: self._show_labels(answer()))
            else:
                self._llm_fill(out, n, prompt, deadline, allowed, initials=None, max_tokens=24, keywords=labels,
                               accept=accept)
        out = answer()
        self._show_labels(out, publish=False)
        first = self.last.first_candidate_s if self.last.first_candidate_s is not None else first
        return self._finish(out, t0, first if first is not None else time.monotonic() - t0)

    def _show_labels(self, cands: list[Candidate], publish: bool = True) -> None:
        """Keywords -> phrases: hand what the speller should show now to `on_partial` (the instant answer, then
        each model sentence as it finishes), and note when the first and the fifth candidate were on hand."""
        if not cands:
            return
        now = time.monotonic() - self._t0
        if self.last.first_candidate_s is None:
            self.last.first_candidate_s = now
        if self.last.first_sentence_s is None and any(c.source != "typed" for c in cands):
            self.last.first_sentence_s = now
        if len(cands) >= 5 and self.last.five_candidates_s is None:
            self.last.five_candidates_s = now
        if publish:
            self._partial("labels", cands)

    def _llm_keyword_beam(self, gen, out: list[Candidate], n: int, labels: Sequence[str], prompt: str,
                          deadline: float, allowed: set[str], accept, late_s: float = 0.0,
                          show: Callable[[], None] | None = None) -> None:
        """Sentences around every keyword from one batched token-level beam search (see `keywords`). Each one is
        shown (`show`) as soon as it finishes, among those found so far best first; the search keeps looking
        for better ones until its usual stop, and the final answer is the best of them, as before."""
        self.last.llm_used = True
        head = list(out)
        want = n - len(head)
        if want <= 0:
            return
        found: dict[str, tuple[str, float]] = {}  # the sentence's words -> (text, mean token log-prob)

        def best(sentences) -> list[Candidate]:
            cands = [Candidate(t, 1.0 + _squash(lp + 3.0), "llm") for t, lp in sorted(sentences, key=lambda x: -x[1])]
            return filter_candidates(cands, allowed, already=head, known_words=self.known_words,
                                     keywords=labels)[:want]

        def heard(text: str, mean: float) -> None:
            found[" ".join(words(text))] = (text, mean)
            now = best(found.values())
            if [c.text for c in now] != [c.text for c in out[len(head):]]:
                out[len(head):] = now
                if len(self.last.llm_candidate_s) < len(now):
                    self.last.llm_candidate_s.append(time.monotonic() - self._t0)
                if show is not None:
                    show()

        late_deadline = deadline + late_s if late_s > 0 else None
        with gen.beam_session(late_deadline or deadline) as lm:
            if lm is None:
                self.last.deadline_hit = True
                self.last.fallback_reason = "deadline reached: the model was busy"
                return
            res = combine_keywords(lm, gen.keyword_vocab(), labels, prompt, settings=self.keyword_search,
                                   timer=self._timer, deadline=deadline, n=want + 2, accept=accept, on_found=heard,
                                   late_deadline=late_deadline, stop=self.should_stop)
        self.last.llm_attempts = res.passes
        self.last.late = res.late
        self.last.notes.append(f"keyword beam width {res.width}, {res.passes} passes" + (", late" if res.late else ""))
        if res.stopped:
            self.last.fallback_reason = "a newer request was waiting: the search stopped"
        elif not res.complete:
            self.last.deadline_hit = True
            self.last.fallback_reason = "deadline reached: the model's finished sentences only"
        final = best(res.sentences)
        if [c.text for c in final] != [c.text for c in out[len(head):]]:
            out[len(head):] = final
            if show is not None:
                show()
        del self.last.llm_candidate_s[len(final):]

    def expand_abbreviation(self, abbreviation: str, context: Sequence[str] = (), n: int = 5,
                            deadline_s: float | None = None) -> list[Candidate]:
        t0, deadline = self._begin("abbreviation", deadline_s)
        letters = "".join(ch for ch in abbreviation.lower() if ch.isalnum())
        if not letters:
            return self._finish([], t0, None)
        allowed = self._allowed_words(*context)
        out = [Candidate(c.text, 2.0 + _squash(c.score - 1.0), "memory")
               for c in filter_candidates(self.memory.search_abbreviation(letters, n), allowed)]
        # Only exact-initial matches count as expansions; prefix matches (still typing) stay only if room.
        first = time.monotonic() - t0 if out else None

        def matches(t: str) -> bool:  # "I'm cold" answers "ic", "imc" and "iac"
            return letters in abbreviation_readings(t)

        if sum(1 for c in out if matches(c.text)) < n:
            exact = [c for c in out if matches(c.text)]
            partial = [c for c in out if not matches(c.text)]
            out = exact
            # The n-gram answer first (tens of ms): it exists before the model starts.
            history = words(context[-1]) if context else []
            ngram_fill = filter_candidates(
                [Candidate(p[:1].upper() + p[1:], _squash(lp / (len(letters) + 1) + 5.0) * 0.99, "ngram")
                 for p, lp in self.ngram.expand_abbreviation(letters, history[-2:], n=n)], allowed, already=out)
            if first is None and (out or ngram_fill):
                first = time.monotonic() - t0
            self._partial("abbreviation", out + ngram_fill[: n - len(out)])
            gen = self.generator
            if self.abbreviation_strategy == "beam" and hasattr(gen, "beam_session"):
                self._llm_batched_beam(gen, out, n, letters, context, deadline, allowed)
            elif self.abbreviation_strategy in ("beam", "token-beam"):
                self._llm_initials_beam(out, n, letters, context, deadline, allowed)
            else:
                self._llm_fill(out, n, prompts.abbreviation_prompt(letters, context, partner=self.partner_line), deadline, allowed,
                               initials=letters, max_tokens=4 * len(letters) + 4, accept=matches)
            out.extend(filter_candidates(ngram_fill, allowed, already=out))
            out.extend(filter_candidates(partial, allowed, already=out))
        return self._finish(out[:n], t0, first if first is not None else time.monotonic() - t0)

    def _partial(self, task: str, candidates: list[Candidate]) -> None:
        """Hand the instant (memory + n-gram) answer to `on_partial` before the model runs, if anyone listens."""
        if self.on_partial is not None and candidates:
            self.on_partial(task, list(candidates))

    def warm_up(self) -> None:
        """Tokenise the word list for the abbreviation search once (seconds), so no call pays for it.

        `open_suggester` runs it in the background as soon as the model is ready."""
        gen = self.generator
        if gen is None or not hasattr(gen, "word_tokens"):
            return
        forms = self._form_index(gen)
        for ch in "abcdefghijklmnopqrstuvwxyz":
            forms.forms(ch, initial=True)
            forms.forms(ch, initial=False)

    def _form_index(self, gen) -> FormIndex:
        if self._forms is None:
            top = sorted(self.ngram.prior.items(), key=lambda t: (-t[1], t[0]))[: self.form_vocabulary]
            self._forms = FormIndex(dict(top), gen.word_tokens, extra_words=sorted(self.ngram.unigrams))
        return self._forms

    def _llm_batched_beam(self, gen, out: list[Candidate], n: int, letters: str, context: Sequence[str],
                          deadline: float, allowed: set[str]) -> None:
        """Word-level beam search, every beam scored in one model pass per letter (see `initials`)."""
        forms = self._form_index(gen)
        ngram = self.ngram

        def complete(history, rest):  # runs after the deadline has stopped the model: a narrow, quick beam
            got = ngram.expand_abbreviation(rest, list(history)[-2:], n=1, beam=4, per_letter=20)
            return (got[0][0].split(), got[0][1]) if got else None

        self.last.llm_used = True
        with gen.beam_session(deadline) as lm:
            if lm is None:
                self.last.deadline_hit = True
                self.last.fallback_reason = "deadline reached: filled from the n-gram"
                return
            prompt = prompts.abbreviation_prompt(letters, context, self.prompt_shows_letters, self.partner_line)
            res = expand_initials(lm, forms, letters, prompt,
                                  prior=lambda h, w: ngram.log_score(w, h), complete=complete,
                                  settings=self.search, timer=self._timer, deadline=deadline, n=n)
        self.last.llm_attempts = res.passes
        self.last.notes.append(f"beam width {res.width}, {res.passes} passes")
        if not res.complete:
            self.last.deadline_hit = res.reason == "deadline"
            self.last.fallback_reason = ("deadline reached: the n-gram finished the model's beams"
                                         if res.reason == "deadline" else res.reason)
        self.last.search_candidates = [(t, sc * (len(letters) + 1)) for t, sc in res.candidates]
        found = [Candidate(t[:1].upper() + t[1:], 1.0 + _squash(sc + 3.0), "llm") for t, sc in res.candidates]
        kept = filter_candidates(found, allowed, already=out, known_words=self.known_words)
        out.extend(kept[: max(0, n - len(out))])
        self.last.llm_candidate_s.extend([time.monotonic() - self._t0] * len(kept))

    def abbreviation_score(self, text: str, context: Sequence[str] = ()) -> float | None:
        """The beam search's score of `text` typed one letter per word, with no deadline (None without a model
        that scores in batches). For the evaluation's account of misses; never on the speller's path."""
        gen = self.generator
        if gen is None or not hasattr(gen, "beam_session"):
            return None
        ws = words(text)
        if not ws:
            return None
        toks = gen.word_tokens([" " + display_form(w, i == 0) for i, w in enumerate(ws)])
        letters = "".join(w[0] for w in ws)
        prompt = prompts.abbreviation_prompt(letters, context, self.prompt_shows_letters, self.partner_line)
        with gen.beam_session(None) as lm:
            return sentence_score(lm, prompt, toks, self.search) if lm is not None else None

    def writes_words_of(self, text: str) -> bool:
        """Could the abbreviation search write every word of `text` (are they all in its word list)?"""
        gen = self.generator
        if gen is None or not hasattr(gen, "word_tokens"):
            return True
        forms = self._form_index(gen)
        return all(w in forms.freq for w in words(text))

    def _llm_initials_beam(self, out: list[Candidate], n: int, letters: str, context: Sequence[str],
                           deadline: float, allowed: set[str]) -> None:
        """Word-level beam search: at each letter, the model's likeliest words with that initial.

        One forward pass per beam per letter (the shared prompt stays cached), so the width is what we
        pay for; exact match needs the most likely sentences, which sampling found far less often.
        """
        gen = self.generator
        if gen is None:
            self.last.fallback_reason = self.status
            return
        base = prompts.abbreviation_prompt(letters, context, partner=self.partner_line)
        beams: list[tuple[float, list[str]]] = [(0.0, [])]
        # As wide as the deadline allows at the model's measured speed (one pass per beam per letter).
        affordable = (deadline - time.monotonic()) / (self._pass_s * len(letters))
        width = max(1, min(self.beam_width, int(affordable)))
        self.last.notes.append(f"beam width {width}")
        self.last.llm_used = True
        for ch in letters:
            grown: list[tuple[float, list[str]]] = []
            for lp, ws in beams:
                if time.monotonic() >= deadline:
                    self.last.deadline_hit = True
                    self.last.fallback_reason = "deadline reached: filled from the n-gram"
                    return
                shown = [_display_word(w) for w in ws]
                if shown:
                    shown[0] = shown[0][:1].upper() + shown[0][1:]
                t_pass = time.monotonic()
                nw = gen.next_words(base + ("" if not shown else " " + " ".join(shown)), prefix=ch, k=width,
                                    deadline=deadline)
                self._pass_s = 0.8 * self._pass_s + 0.2 * (time.monotonic() - t_pass)
                self.last.llm_attempts += 1
                if not nw.complete:
                    self.last.deadline_hit = nw.reason == "deadline" or time.monotonic() >= deadline
                    self.last.fallback_reason = nw.reason or "model gave no answer"
                    return
                grown.extend((lp + l, ws + [w]) for w, l in nw.words)
            if not grown:
                self.last.fallback_reason = f"the model has no word starting with {ch!r}"
                return
            beams = sorted(grown, key=lambda t: -t[0])[:width]
        found = []
        for lp, ws in beams:
            shown = [_display_word(w) for w in ws]
            text = " ".join(shown)
            text = text[:1].upper() + text[1:]
            found.append(Candidate(text, 1.0 + _squash(lp / len(ws) + 3.0), "llm"))
        kept = filter_candidates(found, allowed, already=out, known_words=self.known_words)
        out.extend(kept[: max(0, n - len(out))])
        self.last.llm_candidate_s.extend([time.monotonic() - self._t0] * len(kept))

    @staticmethod
    def _split_partial(text: str) -> tuple[str, str]:
        """(the text before the partial last word, that partial word in lower case; "" after a space)."""
        if text and not text[-1].isspace() and words(text[-1:]):
            cut = len(text.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'"))
            return text[:cut], text[cut:].lower()
        return text, ""

    def _remember_llm_words(self, text: str, partial: str, found: list[tuple[str, float]]) -> None:
        if len(self._llm_words) > 256:
            self._llm_words.clear()
        self._llm_words[text] = (partial, list(found))

    def next_letters(self, text: str, exclude: Sequence[str] = ()) -> str:
        """The next characters of `text`, most likely first (" " = the word ends here): what direct
        navigation on the letter board walks first, for the words other than `exclude` (the word
        candidates already on screen). The n-gram's letters (a few ms, no model, there whatever the
        deadline), mixed half and half with the model's when `predict_words` just ran it for this text
        (its top `letter_words` next words, from the same forward pass)."""
        before, partial = self._split_partial(text)
        dist = dict(self.ngram.next_chars(words(before), partial, exclude=exclude))
        got = self._llm_words.get(text)
        if got is not None and got[0] == partial:
            skip = {w.lower() for w in exclude} - {partial}
            llm = next_char_mass(((w.lower(), math.exp(lp)) for w, lp in got[1] if w.lower() not in skip), partial)
            total = sum(llm.values())
            if total > 0:
                keys = sorted(set(dist) | set(llm))
                dist = {ch: (1 - self.llm_letter_weight) * dist.get(ch, 0.0) + self.llm_letter_weight * llm.get(ch, 0.0) / total
                        for ch in keys}
        ranked = sorted(dist.items(), key=lambda t: (-t[1], t[0]))
        return "".join(ch for ch, _ in ranked if ch == " " or ch == "'" or "a" <= ch <= "z")

    def predict_words(self, text: str, n: int = 5, deadline_s: float | None = None,
                      context: Sequence[str] = ()) -> list[Candidate]:
        """Candidate.text is the whole word that replaces the partial last word (or the next word).
        `context`: the patient's last turns, as for the other tasks (with `partner_line`, the model's prompt)."""
        t0, deadline = self._begin("words", deadline_s)
        before, partial = self._split_partial(text)
        history = words(before)
        allowed = self._allowed_words(text)
        out: list[Candidate] = []
        # Memory: the next word of a remembered phrase that begins with what has been typed.
        for c in self.memory.search_prefix(before, n=50) if history else []:
            ws = words(c.text)
            if len(ws) > len(history) and ws[len(history)].startswith(partial):
                out.extend(filter_candidates([Candidate(_display_word(ws[len(history)]), 2.0 + _squash(c.score - 1.0), "memory")],
                                             allowed, already=out))
            if len(out) >= 2:
                break
        first = time.monotonic() - t0 if out else None
        gen = self.generator if self.use_llm_for_words else None
        if gen is not None and len(out) < n:
            if time.monotonic() >= deadline:
                self.last.deadline_hit = True
                self.last.fallback_reason = "deadline reached: filled from the n-gram"
            else:
                # One forward pass ranks the whole vocabulary: keep the top words for the next letters too.
                nw = gen.next_words(prompts.word_prompt(before, context, self.partner_line), partial, k=max(n, self.letter_words), deadline=deadline)
                self._remember_llm_words(text, partial, nw.words)
                nw = replace(nw, words=nw.words[:n])
                self.last.llm_used, self.last.llm_attempts = True, 1
                if not nw.complete:
                    self.last.deadline_hit = nw.reason == "deadline" or time.monotonic() >= deadline
                    self.last.fallback_reason = nw.reason
                fill = [Candidate(_display_word(w), 1.0 + _squash(lp + 3.0), "llm") for w, lp in nw.words]
                out.extend(filter_candidates(fill, allowed, already=out, known_words=self.known_words)
                           [: max(0, self.llm_word_slots - len(out))])
                if first is None and out:
                    first = time.monotonic() - t0
        elif gen is None:
            self.last.fallback_reason = self.status
        if len(out) < n:
            fill = [Candidate(_display_word(w), _squash(lp + 5.0) * 0.99, "ngram")
                    for w, lp in self.ngram.next_words(history, partial, n=n + len(out))]
            out.extend(filter_candidates(fill, allowed, already=out))
        return self._finish(out[:n], t0, first if first is not None else time.monotonic() - t0)

    def read_groups(self, before: str, keys: str | Sequence[int], layout=None, context: Sequence[str] = (), n: int = 5,
                    deadline_s: float | None = None) -> list[Candidate]:
        """The ambiguous keyboard: the words a word's letter-group `keys` (e.g. "0120") can spell after
        `before`, best first, then completions (see `groups`); the model re-ranks them within the deadline."""
        from . import groups  # noqa: PLC0415

        t0, deadline = self._begin("groups", deadline_s)
        lay = layout or groups.layout_for(3)
        decoders = self.__dict__.setdefault("_group_decoders", {})
        if lay not in decoders:
            decoders[lay] = groups.GroupDecoder(lay, self.ngram)
        gen = self.generator if self.use_llm_for_words else None
        out, rep = groups.read_keys(decoders[lay], before, [int(k) for k in keys], gen=gen, deadline=deadline, n=n,
                                    prompt_for=lambda prefix: prompts.word_prompt(prefix, context))
        self.last.llm_used, self.last.llm_attempts, self.last.deadline_hit = rep["llm_used"], rep["llm_passes"], rep["deadline_hit"]
        if gen is None:
            self.last.fallback_reason = self.status
        return self._finish(out, t0, time.monotonic() - t0)

    def learn(self, phrase: str) -> None:
        if not normalize(phrase):
            return
        self.memory.learn(phrase)
        self.ngram.add(phrase)
        if self._forms is not None:
            for w in words(phrase):
                self._forms.add(w)
        if self.known_words is not None:
            self.known_words.update(words(phrase))


def default_ngram(memory: PhraseMemory, extra_training: Sequence[str] = ()) -> NGramModel:
    """Trigram over the starter phrases, the patient's phrases and `extra_training`, with the English word prior."""
    from .wordlist import english_word_frequencies  # noqa: PLC0415 (adapter; {} without wordfreq)

    ngram = NGramModel(prior=english_word_frequencies())
    ngram.train(load_starter_phrases())
    ngram.train(memory.learned_phrases())
    ngram.train(extra_training)
    return ngram


def user_memory_path() -> Path:
    import platformdirs  # noqa: PLC0415

    return Path(platformdirs.user_data_dir("myovox", appauthor=False)) / "language" / "phrase_memory.json"


def open_suggester(model_setting: str | None = None, *, use_model: bool = True, load_in_background: bool = True,
                   deadline_s: float = DEFAULT_DEADLINE_S, memory_path: Path | None = None,
                   n_threads: int = 2, progress=None) -> LanguageSuggester:
    """The bedside suggester: the patient's memory file, starter phrases, n-gram, and (optionally) the model."""
    starter = load_starter_phrases()
    memory = PhraseMemory(starter, memory_path or user_memory_path())
    ngram = default_ngram(memory)
    backend = None
    reason = "the language model is switched off in the settings"
    if use_model:
        backend = LanguageBackend(model_setting, n_threads=n_threads, progress=progress)
        backend.start() if load_in_background else backend.load_now()
    suggester = LanguageSuggester(memory, ngram, backend, deadline_s=deadline_s, no_model_reason=reason)
    if backend is not None:
        if load_in_background:
            import threading  # noqa: PLC0415

            def warm() -> None:
                backend.wait()
                suggester.warm_up()

            threading.Thread(target=warm, name="myovox-llm-words", daemon=True).start()
        else:
            suggester.warm_up()
    return suggester
