"""The most words per minute any speller could give, from what the language model knows and what a gesture carries.

    myovox bench information_floor [--phrases comm_dev,mackenzie] [--count 30] [--seed 0]
                                   [--confusion bench/results/evaluate/attempt_confusion.json]

Why: issue 13's targets (4 gestures >= 10 wpm, 2 gestures >= 5 wpm at 95 % + 5 % no action) say nothing of
whether they can be met. Shannon's bound can: a phrase the language model gives H bits a character cannot be
chosen with fewer than H / C gestures a character when each gesture carries at most C bits (the capacity of
the decoder's per-attempt confusion, "no action" an output of its own), and gestures come no faster than the
simulated patient makes them with nothing to wait for: the next burst begins a reaction time after the last
decision arrived, and not before the last burst and the detector's refractory period are over (the measured
timing). So wpm <= 60 C / (5 H t) for any speller whose knowledge of the message is this model's, whatever its
layout or code (groups, direct, split); a real one also pays for speaking, confirmations and repair.

H is the default model's (Gemma 3 270M) cross-entropy of each phrase as the letter board types it (lower case,
letters, apostrophes, spaces; or with a capital first letter and "I", whichever the model finds likelier) after
the word-prediction prompt, with no conversation context, over the phrases `myovox simulate` draws with the
same --count and --seed; the phrase's end is counted in bits, not in characters. It is this model's figure, not
English's: a better model, a mixture with the n-gram, the patient's own phrases or context lower it.

One gesture (scanning) has no bound here: a scan's information lies in when the burst comes, not in which
gesture it is.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from myovox.data.recordings import shared_data_dir
from myovox.simulate.patient import Confusion, normalise
from myovox.simulate.run import PHRASE_SETS, load_phrases
from myovox.simulate.timing import measure_timing


def capacity_bits(channel: np.ndarray, iterations: int = 2000, tol: float = 1e-10) -> float:
    """Blahut-Arimoto: the capacity of a discrete memoryless channel (rows P(output | input), each summing to 1)."""
    w = np.asarray(channel, dtype=np.float64)
    w = w / w.sum(axis=1, keepdims=True)
    p = np.full(len(w), 1.0 / len(w))
    logw = np.log(np.where(w > 0, w, 1.0))
    for _ in range(iterations):
        q = p @ w
        d = (w * (logw - np.log(np.where(q > 0, q, 1.0)))).sum(axis=1)  # KL(W(.|x) || q) per input, nats
        new = p * np.exp(d)
        new /= new.sum()
        if np.abs(new - p).max() < tol:
            p = new
            break
        p = new
    q = p @ w
    d = (w * (logw - np.log(np.where(q > 0, q, 1.0)))).sum(axis=1)
    return float(p @ d) / math.log(2)


def phrase_bits(model, prompt: str, text: str) -> float:
    """-log2 P(text, then the end of the message | prompt) under a llama.cpp model with all logits kept."""
    head = model.tokenize(prompt.encode(), add_bos=True, special=True)
    full = model.tokenize((prompt + " " + text + "\n").encode(), add_bos=True, special=True)
    if full[: len(head)] != head:
        raise ValueError("the prompt tokenises differently inside the phrase")
    model.reset()
    model.eval(full)
    logits = np.asarray(model.scores[: len(full)], dtype=np.float64)
    total = 0.0
    for i in range(len(head), len(full)):
        row = logits[i - 1] - logits[i - 1].max()
        total += row[full[i]] - math.log(np.exp(row).sum())
    return -total / math.log(2)


def cased(text: str) -> str:
    """The phrase as people write it: a capital first letter and "I" (the board types lower case only)."""
    words = [("I" + w[1:]) if w == "i" or w.startswith("i'") else w for w in text.split()]
    out = " ".join(words)
    return out[:1].upper() + out[1:]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="myovox bench information_floor")
    ap.add_argument("--phrases", default="comm_dev,mackenzie")
    ap.add_argument("--count", type=int, default=30, help="as `myovox simulate --count` (0 = all)")
    ap.add_argument("--seed", type=int, default=0, help="as `myovox simulate --seed`")
    ap.add_argument("--confusion", type=Path, default=Path("bench/results/evaluate/attempt_confusion.json"))
    ap.add_argument("--accuracy", type=float, default=0.95)
    ap.add_argument("--no-action", type=float, default=0.05)
    args = ap.parse_args(argv)
    shared = shared_data_dir()
    if shared is None:
        print("needs ../shared/data")
        return 2
    import json

    import llama_cpp

    from myovox.language.model_files import default_model_path
    from myovox.language.prompts import word_prompt

    timing = measure_timing(shared)
    rng = np.random.default_rng(args.seed)
    draws = 100_000
    t = float(np.mean(np.maximum(timing.decision_s + rng.choice(timing.reaction_s, draws),
                                 rng.choice(timing.burst_s, draws) + timing.refractory_s)))
    print(f"fastest pace: {t:.2f} s a gesture, the mean of max(decision + reaction, burst + refractory) "
          f"({timing.describe()})")

    channels: list[tuple[str, int, float]] = []
    for n in (2, 3, 4):
        labels = tuple(f"g{i}" for i in range(n))
        c = Confusion.from_accuracy(labels, args.accuracy, args.no_action)
        channels.append((f"{args.accuracy:.0%} + {args.no_action:.0%} no action", n, capacity_bits(c.matrix)))
    if args.confusion.is_file():
        rep = json.loads(args.confusion.read_text(encoding="utf-8"))
        for n in (2, 3, 4):
            c = Confusion.from_report(tuple(f"g{i}" for i in range(n)), rep["labels"], rep["matrix"])
            channels.append((f"per-attempt confusion ({', '.join(c.movements)})", n, capacity_bits(c.matrix)))

    model = llama_cpp.Llama(str(default_model_path()), n_ctx=512, logits_all=True, verbose=False, n_threads=2)
    prompt = word_prompt("")
    for name in args.phrases.split(","):
        phrases = [normalise(p) for p in load_phrases(shared / PHRASE_SETS[name], args.count or None, args.seed)]
        # the letters are the message, not their case: the likelier of the two spellings (a lower bound on
        # P(letters) either way, so H stays an upper estimate of this model's information per character)
        bits = sum(min(phrase_bits(model, prompt, p), phrase_bits(model, prompt, cased(p))) for p in phrases)
        chars = sum(len(p) for p in phrases)
        h = bits / chars
        print(f"\n{name}: {len(phrases)} phrases, {chars} characters, {h:.2f} bits a character (the default model, "
              f"no context)")
        for what, n, cap in channels:
            g = h / cap
            print(f"  {n} gestures, {what}: {cap:.2f} bits a gesture -> at least {g:.2f} gestures a character, "
                  f"at most {60 / (5 * g * t):.1f} wpm")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
