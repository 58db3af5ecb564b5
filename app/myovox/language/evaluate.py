"""`myovox eval-language`: labels -> phrases, abbreviation expansion and word prediction on real phrase sets.

For each target phrase we derive what a patient would select (its content words; its first letters)
and score the suggestions: top-1 / top-5 exact match (case and punctuation ignored), word error rate
of the top candidate and of the best of the five, keystroke savings of word prediction with five
suggestions for a letter-by-letter typist, and latency. Three configurations run in one go:
  ngram      - no memory, no model: the n-gram fallback alone
  retrieval  - starter phrase memory + n-gram (what the speller does with no model)
  llm        - starter phrase memory + default model + n-gram (the product)
Every task also runs with context: the previous phrase of the set passed as the patient's last turn.
Neither set is a dialogue (comm_dev's sentences answer separate situations, MacKenzie's are unrelated),
so this measures what a neighbouring sentence does, not one turn of a real conversation.
Rows: top-5 by phrase length (words), keywords -> phrase with "every keyword kept" (share of answers whose
candidates all keep every keyword), contraction targets typed one letter per part ("imc" for "I'm cold"),
first candidates ending in an unfinished word ("to", "the", "a", "my"...), and garbled candidates (what
the safety filter would drop, counted over everything offered: must be 0; the patient's keywords as chosen,
"pain, leg", are their own words, which the filter never judges either, and are counted apart: "only the keywords").
Keywords rows also give empty and late answers (the search went on past the deadline because nothing else was
there) and when the first and the fifth candidate were on hand (the instant answer or an update, as the speller
sees them).
Leak rules: the phrase memory holds only the starter phrases, minus any that equal an evaluation
phrase; the n-gram is trained on the starter phrases plus the *other* phrase set (MacKenzie when
evaluating comm_dev and vice versa), minus any evaluation phrase; plus wordfreq unigram frequencies.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from .memory import PhraseMemory, load_starter_phrases
from .ngram import NGramModel
from .safety import judge
from .suggester import LanguageSuggester
from .text import (abbreviation, content_words, keeps_keywords, normalize, part_initials, read_phrase_file,
                   word_error_rate, words)
from .wordlist import english_word_frequencies

PHRASE_SETS = {
    "comm_dev": "phrases/comm_dev/comm_case_dev.txt",
    "mackenzie": "phrases/mackenzie_soukoreff_2003/phrases2.txt",
}
OTHER = {"comm_dev": "mackenzie", "mackenzie": "comm_dev"}
LENGTH_BANDS = ((2, 4), (5, 7), (8, 12), (13, 99))
# A sentence a person would say seldom stops on these (6 % of comm_dev's targets do).
UNFINISHED = frozenset("to the a an my your of and or for with at in on from".split())


def length_band(text: str) -> str:
    k = len(words(text))
    for lo, hi in LENGTH_BANDS:
        if lo <= k <= hi:
            return f"{lo}-{hi}"
    return "1"


def spelled_abbreviation(text: str) -> str:
    """Initials with each contraction typed one letter per part ("I'm cold" -> "imc")."""
    return "".join(part_initials(w) for w in words(text))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sets", default="comm_dev,mackenzie", help="phrase sets: comm_dev, mackenzie")
    p.add_argument("--modes", default="ngram,retrieval,llm", help="configurations to compare")
    p.add_argument("--limit", type=int, default=0, help="first N phrases of each set for every mode (0 = all)")
    p.add_argument("--llm-limit", type=int, default=128,
                   help="first N phrases of each set for the llm mode (it costs ~1.5 s a call on 2 busy cores)")
    p.add_argument("--ks-limit", type=int, default=0, help="first N phrases for keystroke savings (0 = same as the task limit)")
    p.add_argument("--tasks", default="labels,abbreviation,words,groups",
                   help="tasks to run: labels (labels -> phrases), abbreviation, words (keystroke savings), "
                        "groups (each word from its letter-group keys and the words before it)")
    p.add_argument("--offset", type=int, default=0, help="skip the first N phrases of each set (a fixed split)")
    p.add_argument("--deadline", type=float, default=1.5, help="seconds per call (the product default is 1.5)")
    p.add_argument("--model", default="", help="GGUF path or server URL (default: the packaged Gemma 3 270M)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--context", default="none,previous",
                   help="none, previous (the previous phrase of the set as the patient's last turn), or both")
    p.add_argument("--json", type=Path, help="also write all figures to this file")


@dataclass
class TaskScore:
    n: int = 0
    top1: int = 0
    top5: int = 0
    wer_top1: list[float] = field(default_factory=list)
    wer_best5: list[float] = field(default_factory=list)
    latency_s: list[float] = field(default_factory=list)
    first_s: list[float] = field(default_factory=list)
    five_s: list[float] = field(default_factory=list)  # when five candidates were on hand (answers that had five)
    sentence_s: list[float] = field(default_factory=list)  # when the first sentence (not the keywords alone) was
    empty: int = 0  # answers with no candidate at all
    keywords_only: int = 0  # answers with nothing but the patient's keywords as chosen ("typed"): no sentence
    late: int = 0  # answers whose model search went on past the deadline because nothing else was there
    late_found: int = 0  # ... and found a sentence in the extra time
    deadline_hits: int = 0
    llm_candidates: int = 0
    skipped: int = 0
    by_length: dict = field(default_factory=dict)  # band -> [n, top5]
    unfinished_top1: int = 0
    garbled: int = 0
    offered: int = 0
    all_kept: int = 0  # answers whose every candidate keeps every keyword (labels task)
    kept_candidates: int = 0
    two_model: int = 0  # answers with at least two of the model's sentences among the five
    garbled_examples: list = field(default_factory=list)
    misses: dict = field(default_factory=dict)  # abbreviation with the model: why the target was not in the top 5

    def account_miss(self, suggester: LanguageSuggester, target: str, cands, context=()) -> None:
        """Why an abbreviation's target is not among the five: a word outside the search's word list; the
        search (its own score of the target beats the fifth model candidate's, or fewer than five: the beam
        lost it, mostly to the deadline's width); the model (it scores five other sentences higher); or the
        search found it but it lost its slot (the patient's phrases, the filter). Costs one pass per word, after
        the timed call."""
        if any(normalize(c.text) == normalize(target) for c in cands[:5]):
            return
        found = suggester.last.search_candidates
        scores = [sc for _, sc in found]
        if not suggester.writes_words_of(target):
            why = "outside_word_list"
        elif any(normalize(t) == normalize(target) for t, _ in found):
            why = "slots"  # the search found it; the patient's phrases, the filter or the n-gram took its place
        else:
            got = suggester.abbreviation_score(target, context)
            if got is None:
                return
            why = "model" if len(scores) >= 5 and got <= scores[4] else "search"
        self.misses[why] = self.misses.get(why, 0) + 1

    def add(self, target: str, cands, latency: float, first: float | None, deadline_hit: bool,
            keywords=(), known_words=None, report=None) -> None:
        """`report`: the suggester's `last` (its stream times: when five were on hand, a late answer)."""
        texts = [c.text for c in cands]
        self.empty += not texts
        self.keywords_only += bool(texts) and all(c.source == "typed" for c in cands[:5])
        self.late += bool(getattr(report, "late", False))
        self.late_found += bool(getattr(report, "late", False)) and any(c.source == "llm" for c in cands)
        five = getattr(report, "five_candidates_s", None)
        if report is not None and not hasattr(report, "five_candidates_s") and len(texts) >= 5:
            five = latency  # a suggester that hands its answer over only when it returns
        if five is not None:
            self.five_s.append(five)
        sentence = getattr(report, "first_sentence_s", None)
        if report is not None and not hasattr(report, "first_sentence_s") and texts:
            sentence = first  # a suggester without the keywords line: its first candidate is a sentence
        if sentence is not None:
            self.sentence_s.append(sentence)
        band = self.by_length.setdefault(length_band(target), [0, 0])
        band[0] += 1
        band[1] += any(normalize(t) == normalize(target) for t in texts[:5])
        self.unfinished_top1 += bool(texts) and bool(words(texts[0])) and words(texts[0])[-1] in UNFINISHED
        for c in cands[:5]:
            self.offered += 1
            if c.source == "typed":  # the patient's own words: the filter never judges them either
                continue
            v = judge(c.text, [w for k in keywords for w in words(k)], known_words if c.source == "llm" else None, keywords if c.source != "memory" else ())
            if not v.ok:
                self.garbled += 1
                if len(self.garbled_examples) < 5:
                    self.garbled_examples.append(f"{c.text} ({v.reason})")
        if keywords:
            kept = [keeps_keywords(t, keywords) for t in texts[:5]]
            self.kept_candidates += sum(kept)
            self.all_kept += bool(texts) and all(kept)
        self.n += 1
        self.top1 += bool(texts) and normalize(texts[0]) == normalize(target)
        self.top5 += any(normalize(t) == normalize(target) for t in texts[:5])
        self.wer_top1.append(word_error_rate(target, texts[0]) if texts else 1.0)
        self.wer_best5.append(min((word_error_rate(target, t) for t in texts[:5]), default=1.0))
        self.latency_s.append(latency)
        if first is not None and texts:  # nothing offered: no first candidate to time
            self.first_s.append(first)
        self.deadline_hits += deadline_hit
        self.llm_candidates += sum(c.source == "llm" for c in cands)
        self.two_model += sum(c.source == "llm" for c in cands[:5]) >= 2

    def summary(self) -> dict:
        def pct(xs, q):
            xs = sorted(xs)
            return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")

        return {
            "phrases": self.n, "skipped_no_keywords": self.skipped,
            "top1": self.top1 / self.n if self.n else float("nan"),
            "top5": self.top5 / self.n if self.n else float("nan"),
            "wer_top1": statistics.fmean(self.wer_top1) if self.wer_top1 else float("nan"),
            "wer_best_of_5": statistics.fmean(self.wer_best5) if self.wer_best5 else float("nan"),
            "latency_median_s": statistics.median(self.latency_s) if self.latency_s else float("nan"),
            "latency_p95_s": pct(self.latency_s, 0.95),
            "first_candidate_median_s": statistics.median(self.first_s) if self.first_s else float("nan"),
            "first_candidate_p95_s": pct(self.first_s, 0.95),
            "five_candidates_median_s": statistics.median(self.five_s) if self.five_s else float("nan"),
            "five_candidates_p95_s": pct(self.five_s, 0.95), "answers_with_five": len(self.five_s),
            "first_sentence_median_s": statistics.median(self.sentence_s) if self.sentence_s else float("nan"),
            "first_sentence_p95_s": pct(self.sentence_s, 0.95), "answers_with_a_sentence": len(self.sentence_s),
            "empty_answers": self.empty / self.n if self.n else float("nan"),
            "keywords_only_answers": self.keywords_only / self.n if self.n else float("nan"),
            "late_answers": self.late / self.n if self.n else float("nan"),
            "late_answers_with_a_model_sentence": self.late_found / self.n if self.n else float("nan"),
            "deadline_hits": self.deadline_hits, "llm_candidates": self.llm_candidates,
            "top5_by_length": {k: {"phrases": v[0], "top5": v[1] / v[0]}
                               for k, v in sorted(self.by_length.items(), key=lambda kv: int(kv[0].split("-")[0]))},
            "first_ends_unfinished": self.unfinished_top1 / self.n if self.n else float("nan"),
            "garbled_candidates": self.garbled, "candidates_offered": self.offered,
            "garbled_examples": self.garbled_examples,
            "answers_keeping_every_keyword": self.all_kept / self.n if self.n else float("nan"),
            "candidates_keeping_every_keyword": self.kept_candidates / self.offered if self.offered else float("nan"),
            "answers_with_two_model_sentences": self.two_model / self.n if self.n else float("nan"),
            "misses": dict(sorted(self.misses.items())),
        }


def keystroke_savings(suggester: LanguageSuggester, phrases: list[str], n: int = 5,
                      deadline_s: float | None = None) -> dict:
    """Letter-by-letter typist with n word suggestions; choosing one costs 1 action and adds the space.

    Baseline actions = characters of the phrase (lower-case words joined by single spaces).
    """
    actions = baseline = 0
    lat: list[float] = []
    for phrase in phrases:
        ws = words(phrase)
        if not ws:
            continue
        baseline += len(" ".join(ws))
        typed = ""
        for i, w in enumerate(ws):
            partial = ""
            while True:
                t0 = time.monotonic()
                cands = suggester.predict_words(typed + partial, n=n, deadline_s=deadline_s)
                lat.append(time.monotonic() - t0)
                if any(c.text.lower() == w for c in cands[:n]):
                    actions += 1  # select: the word and its space
                    break
                if partial == w:  # typed it all; the space costs one more (not after the last word)
                    actions += 1 if i < len(ws) - 1 else 0
                    break
                partial += w[len(partial)]
                actions += 1
            typed += w + " "
    return {
        "phrases": len(phrases), "baseline_actions": baseline, "actions": actions,
        "keystroke_savings": 1 - actions / baseline if baseline else float("nan"),
        "latency_median_s": statistics.median(lat) if lat else float("nan"),
        "latency_p95_s": sorted(lat)[int(0.95 * (len(lat) - 1))] if lat else float("nan"),
        "calls": len(lat),
    }


def group_accuracy(suggester: LanguageSuggester, phrases: list[str], keys: int = 3, deadline_s: float | None = None) -> dict:
    """The ambiguous keyboard's task: every word of every phrase from its letter-group keys, the phrase's
    words before it as context (what the patient has typed). Top-1 = the first reading shown is the word
    (T9's disambiguation rate, in context); top-5 = the word is among the first five readings."""
    from .groups import SYMBOLS, layout_for  # noqa: PLC0415

    layout = layout_for(keys)
    n = top1 = top5 = llm = 0
    lat: list[float] = []
    for phrase in phrases:
        ws = words(phrase)
        for i, w in enumerate(ws):
            if not all(ch in SYMBOLS for ch in w):
                continue
            before = " ".join(ws[:i]) + (" " if i else "")
            t0 = time.monotonic()
            cands = suggester.read_groups(before, layout.code(w), layout, n=5, deadline_s=deadline_s)
            lat.append(time.monotonic() - t0)
            texts = [c.text.strip() for c in cands if not c.text.endswith(" ")]
            n += 1
            top1 += bool(texts) and texts[0] == w
            top5 += w in texts[:5]
            llm += suggester.last.llm_used and not suggester.last.deadline_hit
    return {"words": n, "top1": top1 / n if n else float("nan"), "top5": top5 / n if n else float("nan"),
            "llm_reranked": llm, "layout": layout.spec(),
            "latency_median_s": statistics.median(lat) if lat else float("nan"),
            "latency_p95_s": sorted(lat)[int(0.95 * (len(lat) - 1))] if lat else float("nan")}


def build_suggester(mode: str, starter: list[str], train: list[str], backend, deadline: float) -> LanguageSuggester:
    ngram = NGramModel(prior=english_word_frequencies()).train(starter).train(train)
    memory = PhraseMemory([] if mode == "ngram" else starter)
    return LanguageSuggester(memory, ngram, backend if mode == "llm" else None, deadline_s=deadline,
                             no_model_reason=f"evaluation mode {mode!r}")


def evaluate_set(name: str, phrases: list[str], other: list[str], modes: list[str], args, backend) -> dict:
    eval_keys = {normalize(p) for p in phrases}
    starter_all = load_starter_phrases()
    starter = [p for p in starter_all if normalize(p) not in eval_keys]
    train = [p for p in other if normalize(p) not in eval_keys]
    result = {"phrases": len(phrases), "starter_removed_as_eval_phrases": len(starter_all) - len(starter),
              "ngram_training": f"starter phrases + {OTHER[name]} ({len(train)} phrases) + wordfreq unigrams",
              "modes": {}}
    for mode in modes:
        limit = args.llm_limit if mode == "llm" else (args.limit or len(phrases))
        if args.limit:
            limit = min(limit, args.limit)
        subset = phrases[args.offset:args.offset + limit]
        sug = build_suggester(mode, starter, train, backend, args.deadline)
        sug.warm_up()  # the word list is tokenised once at start-up (in the background in the app), not per call
        assert not any(normalize(p) in eval_keys for p in sug.memory.learned_phrases() + [e.text for e in sug.memory.entries.values()])
        tasks = {t.strip() for t in args.tasks.split(",")}
        contexts = [c.strip() for c in args.context.replace("both", "none,previous").split(",") if c.strip()]
        known = sug.known_words
        result["modes"][mode] = {"phrases": len(subset)}
        for ctx_name in contexts:
            labels_s, abbr_s, parts_s = TaskScore(), TaskScore(), TaskScore()
            for i, target in enumerate(subset):
                at = args.offset + i
                ctx = [phrases[at - 1]] if ctx_name == "previous" and at > 0 else []
                kws = content_words(target) if "labels" in tasks else []
                if kws:
                    t0 = time.monotonic()
                    c = sug.phrases_from_labels(kws, context=ctx, n=5)
                    labels_s.add(target, c, time.monotonic() - t0, sug.last.first_candidate_s, sug.last.deadline_hit,
                                 keywords=kws, known_words=known, report=sug.last)
                elif "labels" in tasks:
                    labels_s.skipped += 1
                if "abbreviation" in tasks:
                    t0 = time.monotonic()
                    c = sug.expand_abbreviation(abbreviation(target), context=ctx, n=5)
                    abbr_s.add(target, c, time.monotonic() - t0, sug.last.first_candidate_s, sug.last.deadline_hit,
                               known_words=known)
                    if mode == "llm":
                        abbr_s.account_miss(sug, target, c, ctx)
                    spelled = spelled_abbreviation(target)
                    if spelled != abbreviation(target):  # a contraction, typed one letter per part
                        t0 = time.monotonic()
                        c = sug.expand_abbreviation(spelled, context=ctx, n=5)
                        parts_s.add(target, c, time.monotonic() - t0, sug.last.first_candidate_s,
                                    sug.last.deadline_hit, known_words=known)
            key = "" if ctx_name == "none" else "_with_context"
            result["modes"][mode].update({f"labels_to_phrases{key}": labels_s.summary(),
                                          f"abbreviation{key}": abbr_s.summary(),
                                          f"abbreviation_contractions_by_part{key}": parts_s.summary()})
        ks_subset = subset[: args.ks_limit] if args.ks_limit else subset
        result["modes"][mode]["word_prediction"] = keystroke_savings(sug, ks_subset if "words" in tasks else [], n=5)
        if "groups" in tasks:
            result["modes"][mode]["groups"] = group_accuracy(sug, subset)
        _print_mode(name, mode, result["modes"][mode])
    return result


def _print_mode(name: str, mode: str, r: dict) -> None:
    for task, s in r.items():
        if task == "groups" or not isinstance(s, dict) or "top5" not in s or not s["phrases"]:
            continue
        print(f"{name:10s} {mode:9s} {task:18s} n={s['phrases']:3d} top1={s['top1']:6.1%} top5={s['top5']:6.1%} "
              f"WER(top1)={s['wer_top1']:.3f} WER(best of 5)={s['wer_best_of_5']:.3f} "
              f"latency median={s['latency_median_s'] * 1000:7.1f} ms p95={s['latency_p95_s'] * 1000:7.1f} ms "
              f"first={s['first_candidate_median_s'] * 1000:7.1f} ms deadline hits={s['deadline_hits']} "
              f"llm cands={s['llm_candidates']}", flush=True)
        bands = " ".join(f"{k} words {v['top5']:.1%} (n={v['phrases']})" for k, v in s["top5_by_length"].items())
        extra = (f" every keyword kept: {s['answers_keeping_every_keyword']:.1%} of answers, "
                 f"{s['candidates_keeping_every_keyword']:.1%} of candidates; two or more model sentences: "
                 f"{s['answers_with_two_model_sentences']:.1%} of answers; empty: {s['empty_answers']:.1%}, only the "
                 f"keywords as chosen: {s['keywords_only_answers']:.1%}, late (searched past the deadline): "
                 f"{s['late_answers']:.1%} ({s['late_answers_with_a_model_sentence']:.1%} found a sentence then); "
                 f"first candidate median "
                 f"{s['first_candidate_median_s'] * 1000:.0f} ms p95 {s['first_candidate_p95_s'] * 1000:.0f} ms; first "
                 f"sentence median {s['first_sentence_median_s'] * 1000:.0f} ms p95 {s['first_sentence_p95_s'] * 1000:.0f}"
                 f" ms (n={s['answers_with_a_sentence']}); five "
                 f"median {s['five_candidates_median_s'] * 1000:.0f} ms p95 {s['five_candidates_p95_s'] * 1000:.0f} ms "
                 f"(n={s['answers_with_five']});" if task.startswith("labels") else "")
        print(f"{'':21s} top5 by length: {bands};{extra} first candidate ends unfinished: "
              f"{s['first_ends_unfinished']:.1%}; garbled candidates: {s['garbled_candidates']} of "
              f"{s['candidates_offered']}" + (f" e.g. {s['garbled_examples']}" if s["garbled_examples"] else ""),
              flush=True)
        if s.get("misses"):
            print(f"{'':21s} misses: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in s["misses"].items()) +
                  " (search: the model scores the target above its 5th candidate but the beam lost it; model: it"
                  " prefers five others; outside word list: a word the search cannot write)", flush=True)
    g = r.get("groups")
    if g and g["words"]:
        print(f"{name:10s} {mode:9s} {'groups':18s} n={g['words']:3d} words top1={g['top1']:6.1%} top5={g['top5']:6.1%} "
              f"(layout {g['layout']}, {g['llm_reranked']} re-ranked by the model) latency median="
              f"{g['latency_median_s'] * 1000:7.1f} ms p95={g['latency_p95_s'] * 1000:7.1f} ms", flush=True)
    k = r["word_prediction"]
    if not k["phrases"]:
        return
    print(f"{name:10s} {mode:9s} {'word_prediction':18s} n={k['phrases']:3d} keystroke savings={k['keystroke_savings']:6.1%} "
          f"({k['actions']} of {k['baseline_actions']} actions) latency median={k['latency_median_s'] * 1000:7.1f} ms "
          f"p95={k['latency_p95_s'] * 1000:7.1f} ms calls={k['calls']}", flush=True)


def run(args) -> int:
    from myovox.data.recordings import shared_data_dir  # noqa: PLC0415

    shared = shared_data_dir()
    if shared is None:
        print("eval-language: the shared phrase sets (../shared/data/phrases) are not here; nothing to evaluate")
        return 2
    sets = {k: read_phrase_file(shared / v) for k, v in PHRASE_SETS.items()}
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    backend = None
    if "llm" in modes:
        from .backend import LanguageBackend  # noqa: PLC0415

        t0 = time.monotonic()
        b = LanguageBackend(args.model or None, n_threads=args.threads,
                            progress=lambda m, f: print(f"  {m}: {f:.0%}", flush=True) if f in (0.0, 1.0) else None)
        b.load_now()
        print(f"model: {b.message} (load {time.monotonic() - t0:.1f} s, {args.threads} threads)", flush=True)
        if b.state != "ready":
            print("eval-language: the llm mode is skipped because the model is not available")
            modes.remove("llm")
        backend = b
    print(f"deadline {args.deadline} s per call; 5 suggestions; modes {modes}", flush=True)
    out = {}
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        print(f"== {name}: {len(sets[name])} phrases; n-gram trained on starter phrases + {OTHER[name]}; "
              "memory = starter phrases only", flush=True)
        out[name] = evaluate_set(name, sets[name], sets[OTHER[name]], modes, args, backend)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0
