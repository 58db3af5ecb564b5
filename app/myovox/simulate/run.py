"""`myovox simulate`: words per minute, actions per character, gesture savings and final error rate
for every interaction mode x (prediction off / word prediction / LLM phrases), in one deterministic run.

Definitions (GUIDE section 3): wpm = (characters / 5) / minutes, characters = the target phrase as the
letter board types it (lower case, letters, apostrophes, spaces); gesture savings = 1 - gestures used /
gestures that plain row-column scanning needs for the same phrases (letter by letter, no prediction, no
errors: two selections a letter), as the issue defines it; "mode savings" uses the same mode's plain
letter-by-letter entry as the yardstick instead (in step and direct mode every step is a gesture); the
final error rate = edit distance between what was spoken and the target, over target characters.
"""
from __future__ import annotations

import argparse
import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..interact.machine import DIRECT, GROUPS, LIKELY, SCAN, SPLIT, STEP, ScanTiming, Speller, SpellerConfig, default_roles
from .patient import CachingSuggester, Confusion, Patient, PhraseResult, normalise
from .timing import BURST_MODELS, GestureTiming, measure_timing

#: The modes a report can run, with their gesture counts; "split3" is the split mode with three gestures.
MODE_GESTURES = {SCAN: 1, STEP: 2, DIRECT: 4, GROUPS: 4, LIKELY: 1, SPLIT: 2, "split3": 3}  # order seeds the runs
MACHINE_MODE = {"split3": SPLIT}  # report name -> the speller's mode (the same name elsewhere)
PHRASE_SETS = {"comm_dev": "phrases/comm_dev/comm_case_dev.txt",
               "mackenzie": "phrases/mackenzie_soukoreff_2003/phrases2.txt"}
CONDITIONS = ("off", "words", "phrases")
CONDITION_NAMES = {"off": "prediction off", "words": "word prediction (retrieval + n-gram)", "phrases": "LLM phrases"}


@dataclass
class Summary:
    mode: str
    condition: str
    phrases: int
    completed: int
    chars: int
    seconds: float
    gestures: int
    baseline_gestures: int  # the same mode, letter by letter, no prediction, no errors
    scan_baseline_gestures: int  # plain row-column scanning, letter by letter, no prediction, no errors
    errors: int
    misdecoded: int
    unintended_speech: int
    false_alarms: int
    suggester_calls: int = 0
    latency_median_s: float | None = None
    latency_p95_s: float | None = None
    selections: int = 0  # cells activated (every Selected, wrong ones and undos included)
    phrase_set: str = ""
    notice: float = 1.0  # the patient's chance per gesture of noticing an error (1.0: at once)
    unnoticed_gestures: int = 0  # gestures made while an error was on screen unnoticed

    @property
    def selections_per_char(self) -> float:
        return self.selections / self.chars

    @property
    def ceiling_wpm(self) -> float:
        """Words per minute if only the cell activations cost a gesture (navigation free), each at this
        run's mean time per gesture: the most any navigation scheme could give this language layer."""
        if not self.selections or not self.gestures:
            return 0.0
        return (self.chars / 5) / (self.selections * (self.seconds / self.gestures) / 60)

    @property
    def wpm(self) -> float:
        return (self.chars / 5) / (self.seconds / 60) if self.seconds > 0 else 0.0

    @property
    def actions_per_char(self) -> float:
        return self.gestures / self.chars

    @property
    def savings(self) -> float:
        """Against plain row-column scanning without prediction (the issue's yardstick)."""
        return 1 - self.gestures / self.scan_baseline_gestures

    @property
    def mode_savings(self) -> float:
        """Against the same mode's plain letter-by-letter entry."""
        return 1 - self.gestures / self.baseline_gestures

    @property
    def error_rate(self) -> float:
        return self.errors / self.chars


def load_phrases(path: Path, count: int | None, seed: int) -> list[str]:
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    phrases = [ln for ln in lines if normalise(ln)]
    if count is not None and count < len(phrases):
        idx = np.random.default_rng(seed).choice(len(phrases), size=count, replace=False)
        phrases = [phrases[i] for i in sorted(idx)]
    return phrases


def make_speller(mode: str, prediction: str, timing: ScanTiming) -> Speller:
    gestures = [f"gesture{i + 1}" for i in range(MODE_GESTURES[mode])]
    mode = MACHINE_MODE.get(mode, mode)
    return Speller(SpellerConfig(mode, default_roles(gestures, mode), prediction=prediction, timing=timing))


def simulate_condition(phrases: list[str], mode: str, condition: str, confusion_for, timing: GestureTiming,
                       scan: ScanTiming, seed: int, suggester: CachingSuggester | None,
                       notice: float = 1.0) -> tuple[Summary, list[PhraseResult]]:
    """One mode x condition over all phrases; the same seed gives the same gestures and errors.
    (The groups mode cannot type without its language layer: its yardstick is direct mode's.)"""
    rng = np.random.default_rng([seed, list(MODE_GESTURES).index(mode) + 1, CONDITIONS.index(condition)])
    machine = make_speller(mode, condition, scan)
    labels = tuple(machine.config.roles)
    patient = Patient(machine, confusion_for(labels), timing, rng, suggester, notice=notice)
    results = [patient.type_phrase(p) for p in phrases]
    baseline = _perfect_gestures(tuple(phrases), DIRECT if mode == GROUPS else mode, scan, timing, seed)
    scan_baseline = _perfect_gestures(tuple(phrases), SCAN, scan, timing, seed)
    lat = suggester.latencies if suggester is not None else []
    s = Summary(mode, condition, len(results), sum(r.completed for r in results), sum(r.chars for r in results),
                sum(r.seconds for r in results), sum(r.gestures for r in results), baseline, scan_baseline,
                sum(r.errors for r in results), sum(r.misdecoded for r in results),
                sum(r.unintended_speech for r in results), sum(r.false_alarms for r in results),
                suggester.calls if suggester is not None else 0,
                float(np.median(lat)) if lat else None, float(np.percentile(lat, 95)) if lat else None,
                sum(r.selections for r in results), notice=notice, unnoticed_gestures=patient.unnoticed_gestures)
    return s, results


@functools.lru_cache(maxsize=16)
def _perfect_gestures(phrases: tuple[str, ...], mode: str, scan: ScanTiming, timing: GestureTiming, seed: int) -> int:
    """The yardstick: the same phrases letter by letter, no prediction, no errors (once per run and mode:
    every condition shares it, and the scan one serves every mode)."""
    machine = make_speller(mode, "off", scan)
    perfect = Patient(machine, Confusion.from_accuracy(tuple(machine.config.roles), 1.0), timing,
                      np.random.default_rng(seed))
    return sum(perfect.type_phrase(p).gestures for p in phrases)


def real_suggester(condition: str, targets: list[str], n_threads: int, deadline_s: float):
    """The language layer itself (issue 3): retrieval + n-gram, plus the default LLM for "phrases".
    The phrase memory never holds a target phrase, and nothing is written to the patient's memory file."""
    from ..language.backend import LanguageBackend
    from ..language.memory import PhraseMemory, load_starter_phrases
    from ..language.suggester import LanguageSuggester

    held_out = {normalise(t) for t in targets}
    starter = [p for p in load_starter_phrases() if normalise(p) not in held_out]
    backend = None
    if condition == "phrases":
        backend = LanguageBackend(None, n_threads=n_threads)
        backend.load_now()
        if backend.generator is None:
            raise RuntimeError(f"the LLM did not load: {backend.message}")
    from ..language.ngram import NGramModel
    from ..language.wordlist import english_word_frequencies

    # As the app builds it (`default_ngram`): the starter phrases plus the English word prior, targets held out.
    ngram = NGramModel(prior=english_word_frequencies()).train(starter)
    sugg = LanguageSuggester(PhraseMemory(starter, None), ngram, backend, deadline_s=deadline_s)
    if condition == "words":
        sugg.use_llm_for_words = False
    return sugg, len(load_phrases_overlap(starter, held_out))


def load_phrases_overlap(starter: list[str], held_out: set[str]) -> list[str]:
    return [p for p in starter if normalise(p) in held_out]


def plot(summaries: list[Summary], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = [m for m in MODE_GESTURES if any(s.mode == m for s in summaries)]
    conds = [c for c in CONDITIONS if any(s.condition == c for s in summaries)]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(1, len(conds))
    for k, cond in enumerate(conds):
        xs, ys = [], []
        for i, m in enumerate(modes):
            s = next((s for s in summaries if s.mode == m and s.condition == cond), None)
            if s is not None:
                xs.append(i + k * width)
                ys.append(s.wpm)
        bars = ax.bar(xs, ys, width, label=f"{CONDITION_NAMES[cond]}")
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.set_xticks([i + width * (len(conds) - 1) / 2 for i in range(len(modes))])
    ax.set_xticklabels([f"{m} ({MODE_GESTURES[m]} gesture{'s' if MODE_GESTURES[m] > 1 else ''})" for m in modes])
    ax.set_ylabel("words per minute")
    import textwrap  # noqa: PLC0415

    ax.set_title("\n".join(textwrap.wrap(title, 110)), fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--phrases", default="comm_dev,mackenzie",
                   help="comma list of comm_dev, mackenzie, or text files (one phrase a line); each is reported")
    p.add_argument("--count", type=int, default=20, help="how many phrases of each set (drawn with the seed); 0 = all")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--accuracy", type=float, default=0.95,
                   help="share of the decided attempts that are right, when no confusion matrix is given")
    p.add_argument("--no-action", type=float, default=0.05,
                   help="share of attempts that end with no decision (the decoder unsure), beside --accuracy")
    p.add_argument("--confusion", type=Path,
                   help="decoder report JSON with 'labels' and 'matrix' (rows = true; an extra last column = no action)")
    p.add_argument("--notice", default="1,0.5",
                   help="comma list: the patient's chance per gesture of noticing an error (1 = at once); each is run")
    p.add_argument("--modes", default="scan,step,direct,groups")
    p.add_argument("--conditions", default="off,words,phrases")
    p.add_argument("--scan-period", type=float, default=ScanTiming.period_s)
    p.add_argument("--burst-s", type=float, help="fix the burst duration (default: the measured distribution)")
    p.add_argument("--burst-model", choices=BURST_MODELS, default="brief",
                   help="brief: decision window + measured release lag (default); recorded: the recordings' 5 s holds")
    p.add_argument("--timing-files", type=int, help="measure timing on only the first N recordings")
    p.add_argument("--llm-threads", type=int, default=1)
    p.add_argument("--deadline", type=float, default=60.0,
                   help="suggester deadline in the simulation (long, so results do not depend on CPU load)")
    p.add_argument("--plot", type=Path, default=Path("bench/results/simulate_wpm.png"))
    p.add_argument("--json", type=Path, help="also write the figures as JSON")


def run(args: argparse.Namespace) -> int:
    from ..data.recordings import shared_data_dir

    shared = shared_data_dir()
    if shared is None:
        print("myovox simulate needs ../shared/data (phrases and the recordings the gesture timing is measured on)")
        return 2
    sets = [x.strip() for x in args.phrases.split(",") if x.strip()]
    timing = measure_timing(shared, files=args.timing_files, burst_model=args.burst_model)
    if args.burst_s is not None:
        timing = timing.with_burst(args.burst_s)
    scan = ScanTiming.from_settings({"period_s": args.scan_period})
    if args.confusion:
        rep = json.loads(args.confusion.read_text())
        confusion_for = lambda labels: Confusion.from_report(labels, rep["labels"], rep["matrix"])  # noqa: E731
        err_src = f"confusion matrix {args.confusion}"
        for mode in MODE_GESTURES:
            try:
                c = confusion_for(tuple(f"g{i}" for i in range(MODE_GESTURES[mode])))
            except ValueError as exc:
                print(f"{mode}: {exc}")
                continue
            acc = ", ".join(f"{name} {100 * c.matrix[i, i]:.1f} %" for i, name in enumerate(c.movements))
            print(f"{mode}: the decoder's {MODE_GESTURES[mode]} most reliable movements: {acc} "
                  f"(no action {100 * c.matrix[:, -1].mean():.1f} % on average)")
    else:
        confusion_for = lambda labels: Confusion.from_accuracy(labels, args.accuracy, args.no_action)  # noqa: E731
        err_src = (f"{args.no_action:.0%} of attempts no action, {args.accuracy:.0%} of the rest right "
                   f"({args.accuracy * (1 - args.no_action):.2%} of attempts right)")
    notices = [float(x) for x in args.notice.split(",") if x.strip()]
    print(f"errors: {err_src}")
    print(f"timing: {timing.describe()}")
    print(f"scan period {scan.period_s:.2f} s (first item x{scan.first_dwell}); patient model: corrects with undo, "
          f"notices an error with chance {', '.join(f'{p:g}' for p in notices)} per gesture (1 = at once; always before speaking)")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    conds = [c.strip() for c in args.conditions.split(",") if c.strip()]
    summaries: list[Summary] = []
    for set_name in sets:
        src = (shared / PHRASE_SETS[set_name]) if set_name in PHRASE_SETS else Path(set_name)
        phrases = load_phrases(src, args.count or None, args.seed)
        print(f"== phrases: {len(phrases)} from {src.name} (seed {args.seed})", flush=True)
        for notice in notices:
            for cond in conds:
                for mode in modes:
                    if mode == GROUPS and cond == "off":
                        print(f"{mode:6s} {CONDITION_NAMES[cond]:40s} not run: the groups mode reads its keys with "
                              "the language layer (direct mode with prediction off is the baseline)")
                        continue
                    sugg = None
                    if cond != "off":
                        try:
                            inner, overlap = real_suggester(cond, phrases, args.llm_threads, args.deadline)
                        except Exception as exc:  # the language layer or its model is missing: say so, keep going
                            print(f"{mode:6s} {CONDITION_NAMES[cond]:40s} NOT RUN: {type(exc).__name__}: {exc}")
                            continue
                        sugg = CachingSuggester(inner)
                    s, _ = simulate_condition(phrases, mode, cond, confusion_for, timing, scan, args.seed, sugg, notice)
                    s.phrase_set = src.stem
                    summaries.append(s)
                    lat = (f"; suggester {s.suggester_calls} requests, {len(sugg.latencies)} computed, median "
                           f"{s.latency_median_s:.3f} s, p95 {s.latency_p95_s:.3f} s") if sugg and sugg.latencies else ""
                    print(f"{src.stem[:10]:10s} notice {notice:<4g} {mode:6s} {CONDITION_NAMES[cond]:40s} {s.wpm:5.2f} wpm  "
                          f"{s.actions_per_char:5.2f} gestures/char  savings {s.savings:6.1%} (mode {s.mode_savings:6.1%})  "
                          f"final error {s.error_rate:5.2%}  ({s.completed}/{s.phrases} phrases, {s.chars} chars, "
                          f"{s.misdecoded} misdecoded, {s.unintended_speech} unintended speech, {s.false_alarms} false "
                          f"help calls, {s.unnoticed_gestures} gestures on unnoticed errors); {s.selections_per_char:.2f} "
                          f"cells selected/char (ceiling {s.ceiling_wpm:.1f} wpm if only selections cost a gesture){lat}",
                          flush=True)
    for s in summaries:
        off = next((o for o in summaries if o.phrase_set == s.phrase_set and o.notice == s.notice
                    and o.condition == "off" and o.mode in (s.mode, DIRECT if s.mode == GROUPS else s.mode)), None)
        if s.condition != "off" and off is not None and off.wpm > 0:
            print(f"{s.phrase_set[:10]:10s} notice {s.notice:<4g} {s.mode:6s} {CONDITION_NAMES[s.condition]} vs "
                  f"{off.mode} with prediction off: x{s.wpm / off.wpm:.2f} wpm")
    first = [s for s in summaries if s.notice == notices[0]]
    for set_name in {s.phrase_set for s in first}:
        path = args.plot.with_name(f"{args.plot.stem}_{set_name}{args.plot.suffix}")
        part = [s for s in first if s.phrase_set == set_name]
        plot(part, path, f"myovox simulate: {part[0].phrases} phrases ({set_name}), {err_src}, notice {notices[0]:g}")
        print(f"plot: {path}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([dict(s.__dict__, wpm=s.wpm, actions_per_char=s.actions_per_char,
                                              savings=s.savings, mode_savings=s.mode_savings,
                                              error_rate=s.error_rate, selections_per_char=s.selections_per_char,
                                              ceiling_wpm=s.ceiling_wpm) for s in summaries], indent=1))
    return 0
