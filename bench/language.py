"""Language layer latency on 2 cores with the default model: time to the first candidate and to five.

`myovox bench language [--threads 2] [--repeats 3]`. Three configurations over the same queries,
measured in this one run so the baseline shares the machine's load:
  product     starter memory + model + n-gram, deadline 1.5 s (what the speller gets)
  llm only    empty memory, 60 s deadline, beam width 5: when the model alone has its 1st and 5th candidate
  retrieval   starter memory + n-gram, no model (the baseline)
plus per-keystroke word prediction (model vs n-gram). Queries are written here, not taken from the
evaluation sets. Prints medians and p95 in milliseconds.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from myovox.language.backend import LanguageBackend  # noqa: E402
from myovox.language.memory import PhraseMemory, load_starter_phrases  # noqa: E402
from myovox.language.suggester import LanguageSuggester, default_ngram  # noqa: E402
from myovox.language.text import abbreviation, content_words  # noqa: E402

QUERIES = (
    "Can you open the window a little",
    "I would like to watch the news",
    "Please put some lotion on my hands",
    "Is my brother coming this weekend",
    "I want to listen to the football game",
    "Could you read me the newspaper",
    "My mouth is very dry",
    "Thank you for coming to visit me",
)
TYPING = ("Could you turn the music down", "I would like a cup of tea", "Tell my sister I said hello")


def _stats(xs: list[float]) -> str:
    if not xs:
        return "n=0"
    s = sorted(xs)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]
    return f"median {statistics.median(s) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  (n={len(s)})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="myovox bench language")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--model", default="")
    args = p.parse_args(argv or [])

    t0 = time.monotonic()
    backend = LanguageBackend(args.model or None, n_threads=args.threads).load_now()
    print(f"model: {backend.message}; load + warm-up {time.monotonic() - t0:.1f} s; {args.threads} threads")
    if backend.state != "ready":
        return 1
    starter = load_starter_phrases()
    product = LanguageSuggester(PhraseMemory(starter), default_ngram(PhraseMemory([])), backend, deadline_s=1.5)
    retrieval = LanguageSuggester(PhraseMemory(starter), default_ngram(PhraseMemory([])), None)
    llm_only = LanguageSuggester(PhraseMemory([]), default_ngram(PhraseMemory([])), backend, deadline_s=60.0)
    llm_only.beam_width = 5  # five beams, so the model alone can fill all five slots

    for task in ("abbreviation", "labels"):
        rows: dict[str, dict[str, list[float]]] = {}
        llm_counts: dict[str, list[int]] = {"product": [], "llm only": []}
        for _ in range(args.repeats):
            for q in QUERIES:
                for name, s in (("product", product), ("retrieval", retrieval)):
                    t = time.monotonic()
                    out = s.expand_abbreviation(abbreviation(q)) if task == "abbreviation" else \
                        s.phrases_from_labels(content_words(q))
                    total = time.monotonic() - t
                    r = rows.setdefault(name, {"first": [], "five": []})
                    r["first"].append(s.last.first_candidate_s or total)
                    if task == "labels":  # keywords: the answer grows by updates, as the speller sees it
                        if s.last.five_candidates_s is not None:
                            r["five"].append(s.last.five_candidates_s)
                        if s.last.first_sentence_s is not None:
                            r.setdefault("first sentence", []).append(s.last.first_sentence_s)
                    elif len(out) >= 5:
                        r["five"].append(total)
                    if name == "product":
                        llm_counts["product"].append(sum(c.source == "llm" for c in out))
                if task == "abbreviation":
                    llm_only.expand_abbreviation(abbreviation(q), n=5)
                else:
                    llm_only.phrases_from_labels(content_words(q), n=5)
                stamps = llm_only.last.llm_candidate_s  # when each model candidate was ready
                r = rows.setdefault("llm only", {"first": [], "five": []})
                if stamps:
                    r["first"].append(stamps[0])
                if len(stamps) >= 5:
                    r["five"].append(stamps[4])
                llm_counts["llm only"].append(len(stamps))
        print(f"\n{task}: time to first candidate / to 5 candidates")
        for name, r in rows.items():
            extra = f"  model candidates per answer: median {statistics.median(llm_counts[name])}" if name in llm_counts else ""
            print(f"  {name:10s} first: {_stats(r['first'])}")
            if "first sentence" in r:  # keywords: the first candidate may be the keywords as chosen
                print(f"  {'':10s} first sentence: {_stats(r['first sentence'])}")
            print(f"  {'':10s} five:  {_stats(r['five'])}{extra}")

    # The fixed prompt's KV cache kept between calls (only what differs from the last prompt is evaluated) vs
    # every prompt evaluated from its first token (the same process, alternating query by query).
    gen = backend.generator
    if hasattr(gen, "reuse_prompt_cache"):
        cache: dict[bool, dict[str, list[float]]] = {True: {"passes": [], "word": [], "width": []},
                                                    False: {"passes": [], "word": [], "width": []}}
        for _ in range(args.repeats):
            for q, typed in zip(QUERIES, TYPING * 3):
                for reuse in (True, False):
                    gen.reuse_prompt_cache = reuse
                    product.expand_abbreviation(abbreviation(q))
                    cache[reuse]["passes"].append(product.last.llm_attempts)
                    note = next((x for x in product.last.notes if x.startswith("beam width")), "beam width 0,")
                    cache[reuse]["width"].append(int(note.split()[2].rstrip(",")))
                    t = time.monotonic()
                    product.predict_words(typed[: len(typed) // 2])
                    cache[reuse]["word"].append(time.monotonic() - t)
        gen.reuse_prompt_cache = True
        on, off = cache[True], cache[False]
        print("\nprompt KV cache kept across calls vs evaluated afresh (same process, alternating):")
        for name, r in (("kept", on), ("afresh", off)):
            print(f"  {name:10s} abbreviation model passes per call: median {statistics.median(r['passes'])}, "
                  f"beam width median {statistics.median(r['width'])}; word prediction {_stats(r['word'])}")
        print(f"  ratio kept/afresh: model passes per call x{statistics.mean(on['passes']) / max(1e-9, statistics.mean(off['passes'])):.2f}, "
              f"word prediction latency x{statistics.median(on['word']) / statistics.median(off['word']):.3f}")

    # Conditioning on the conversation: the patient's last turn and the partner's line change the prompt once
    # per turn; the first call after a turn evaluates them, the next calls reuse them.
    rows_ctx: dict[str, list[float]] = {"no context": [], "context, first call": [], "context, next call": []}
    for _ in range(args.repeats):
        for i, q in enumerate(QUERIES):
            product.partner_line = ""
            t = time.monotonic()
            product.expand_abbreviation(abbreviation(q))
            rows_ctx["no context"].append(product.last.first_candidate_s or time.monotonic() - t)
            product.partner_line = f"Is there anything else, {i}?"
            for key in ("context, first call", "context, next call"):
                t = time.monotonic()
                out = product.expand_abbreviation(abbreviation(q), context=[QUERIES[i - 1]])
                rows_ctx[key].append(time.monotonic() - t if len(out) >= 5 else float("inf"))
    product.partner_line = ""
    print("\nabbreviation with the conversation as context (5 candidates; no context: time to the first):")
    for name, xs in rows_ctx.items():
        print(f"  {name:20s} {_stats(xs)}")

    print("\nword prediction, one call per keystroke:")
    for name, s in (("product", product), ("retrieval", retrieval)):
        lat: list[float] = []
        for phrase in TYPING:
            for i in range(1, len(phrase) + 1):
                t = time.monotonic()
                s.predict_words(phrase[:i])
                lat.append(time.monotonic() - t)
        print(f"  {name:10s} {_stats(lat)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
