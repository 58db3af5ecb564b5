"""`myovox evaluate`: the gesture accuracy protocols of issue 6, encoder against the LDA baseline in one run.

The encoder is reached only through the public API (`load_decoder`, `calibrate`, `probabilities`,
`realign`, `pretrained_scores`); the baseline is LDA on the Hudgins features, fitted on exactly the
same calibration data. Windows: 200 ms (the card's), step 50 ms, cut inside one recording file.
Test0/Test1 and later sessions are only ever tested on, never used to choose anything.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..data.recordings import (
    COTE_ALLARD_LABELS, cote_allard_people, flexemg_sessions, myo_readings_sessions, read_cote_allard_session,
    read_flexemg, read_myo_readings, shared_data_dir,
)
from ..events import OnsetWindow
from ..profiles import find_profile
from ..signal.chain import detect_offline
from ..signal.detector import estimate_threshold
from ..signal.filters import CausalFilter, Envelope, design_emg_sos
from .api import CalibrationError, load_decoder
from .baseline import HudginsLda
from .features import rotate_ring, sliding_windows
from .head import MajorityVote  # noqa: F401  (documented post-processing; per-recording votes below are per file)

PROJECT = Path(__file__).resolve().parents[3]
REFERENCE_GESTURE = "wrist extension"  # chosen on training0 only (see api.REALIGN_RATIO)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=str(PROJECT / "models" / "myo8_200hz.card.json"), help="model card of the Myo encoder")
    p.add_argument("--unseen-model", default="", help="card of an encoder pre-trained without two gestures")
    p.add_argument("--grid-model", default=str(PROJECT / "models" / "grid16_1khz.card.json"), help="card of the 16-ch grid encoder")
    p.add_argument("--out", default=str(PROJECT / "bench" / "results" / "evaluate"), help="folder for the JSON, Markdown and PNG")
    p.add_argument("--people", type=int, default=0, help="evaluate only the first N evaluation people (0 = all)")
    p.add_argument("--protocols", "--protocol", default="all",
                   help="comma list: within,cross,size,rotation,cross_person,unseen,readings,flexemg,attempts "
                        "(attempts: one decision per attempt through the live chain, with the classical peer)")
    p.add_argument("--data", default="")
    p.add_argument("--update-card", action="store_true", help="store the summary in the model card's metrics")


# -- helpers ------------------------------------------------------------------------------------------
def examples_of(recs, reps=None) -> dict[str, list[np.ndarray]]:
    out: dict[str, list[np.ndarray]] = {}
    for r in sorted(recs, key=lambda r: (int(r.labels[0]), r.repetition)):
        if reps is None or r.repetition in reps:
            out.setdefault(r.label_names[int(r.labels[0])], []).append(r.signal)
    return out


NO_ACTION = "no action"


class Scorer:
    """Per-window and per-recording (majority) accuracy of one classifier over test files."""

    def __init__(self):
        self.correct = 0
        self.total = 0
        self.files_ok = 0
        self.files = 0
        self.acted = 0
        self.acted_ok = 0
        self.confusion: dict = defaultdict(int)
        self.decisions: dict = defaultdict(int)  # (truth, label or NO_ACTION) after the rejection threshold

    def add(self, truth: str, predicted: list[str], confidence: np.ndarray | None = None, threshold: float = 0.0):
        pred = np.asarray(predicted, dtype=object)
        ok = pred == truth
        self.correct += int(ok.sum())
        self.total += len(pred)
        if len(pred):
            vals, counts = np.unique(pred.astype(str), return_counts=True)
            self.files_ok += int(vals[np.argmax(counts)] == truth)
            self.files += 1
        for p in pred:
            self.confusion[(truth, str(p))] += 1
        if confidence is not None:
            act = confidence >= threshold
            self.acted += int(act.sum())
            self.acted_ok += int((ok & act).sum())
            for p, a in zip(pred, act):
                self.decisions[(truth, str(p) if a else NO_ACTION)] += 1

    def result(self) -> dict:
        r = {"window_acc": self.correct / max(self.total, 1), "recording_acc": self.files_ok / max(self.files, 1), "windows": self.total}
        if self.acted:
            r["acted_fraction"] = self.acted / max(self.total, 1)
            r["acted_acc"] = self.acted_ok / self.acted
        return r


def encoder_scores(dec, tests: list[tuple[str, np.ndarray]], rate: float, step_ms: float = 50.0, rotate: int = 0) -> Scorer:
    sc = Scorer()
    for truth, sig in tests:
        sig = rotate_ring(sig, rotate) if rotate else sig
        w = dec.windows(sig, rate, step_ms)
        if not len(w):
            continue
        p = dec.probabilities(w)
        labels = dec.calibration.labels
        sc.add(truth, [labels[i] for i in np.argmax(p, 1)], p.max(1), dec.calibration.rejection_threshold)
    return sc


def lda_scores(lda: HudginsLda, tests: list[tuple[str, np.ndarray]], rotate: int = 0) -> Scorer:
    sc = Scorer()
    for truth, sig in tests:
        sig = rotate_ring(sig, rotate) if rotate else sig
        w = sliding_windows(np.asarray(sig, np.float32), lda.window_samples, lda.step)
        if not len(w):
            continue
        sc.add(truth, [lda.labels[i] for i in lda.predict(w)])
    return sc


def test_files(recs, reps=None) -> list[tuple[str, np.ndarray]]:
    return [(r.label_names[int(r.labels[0])], r.signal) for r in recs if reps is None or r.repetition in reps]


def summarise(per_person: dict) -> dict:
    """{person: {method: result}} -> {method: mean/std of window and recording accuracy over people}."""
    methods = sorted({m for v in per_person.values() for m in v})
    out = {}
    for m in methods:
        res = [v[m] for v in per_person.values() if m in v]
        out[m] = {
            "window_acc_mean": float(np.mean([r["window_acc"] for r in res])),
            "window_acc_std": float(np.std([r["window_acc"] for r in res])),
            "recording_acc_mean": float(np.mean([r["recording_acc"] for r in res])),
            "recording_acc_std": float(np.std([r["recording_acc"] for r in res])),
            "people": len(res),
        }
        if all("acted_acc" in r for r in res):
            out[m]["acted_fraction_mean"] = float(np.mean([r["acted_fraction"] for r in res]))
            out[m]["acted_acc_mean"] = float(np.mean([r["acted_acc"] for r in res]))
    return out


# -- protocols --------------------------------------------------------------------------------------
def cote_allard_protocols(args, root, card_path, wanted, log) -> tuple[dict, dict]:
    dec = load_decoder(card_path)
    rate = dec.card.rate_hz
    sos = dec.card.sos()
    length = dec.window_samples
    step = int(round(0.05 * rate))
    people = cote_allard_people(root, "EvaluationDataset")
    if args.people:
        people = people[: args.people]
    results: dict = defaultdict(dict)
    confusions = {"encoder": Scorer(), "lda": Scorer()}

    def lda_fit(ex):
        return HudginsLda(sos, length, step).fit(ex)

    for person in people:
        t0 = time.process_time()
        tr = read_cote_allard_session(root, "EvaluationDataset", person, "training0")
        tests = {s: read_cote_allard_session(root, "EvaluationDataset", person, s) for s in ("Test0", "Test1")}
        if "within" in wanted:
            ex = examples_of(tr, {0, 1, 2})
            dec.calibrate(ex, rate, patient=person, cut="windows")
            tf = test_files(tr, {3})
            results["within_session"].setdefault(person, {})["encoder"] = encoder_scores(dec, tf, rate).result()
            results["within_session"][person]["lda"] = lda_scores(lda_fit(ex), tf).result()
        ex_all = examples_of(tr)
        prev = dec.calibrate(ex_all, rate, patient=person, cut="windows")
        prev_lda = lda_fit(ex_all)
        if "cross" in wanted:
            for s, recs in tests.items():
                tf = test_files(recs)
                enc = encoder_scores(dec, tf, rate)
                lda = lda_scores(prev_lda, tf)
                results["cross_session"].setdefault(person, {})[f"encoder {s}"] = enc.result()
                results["cross_session"][person][f"lda {s}"] = lda.result()
                for key, sc in (("encoder", enc), ("lda", lda)):
                    for k, v in sc.confusion.items():
                        confusions[key].confusion[k] += v
                    for k, v in sc.decisions.items():
                        confusions[key].decisions[k] += v
                # returning patient, tested on reps 1-3: previous calibration / realigned / fresh 1-rep calibration
                rest_files = test_files(recs, {1, 2, 3})
                dec.use(prev)
                r = results["cross_session_returning"].setdefault(person, {})
                r[f"encoder previous {s}"] = encoder_scores(dec, rest_files, rate).result()
                ref = {REFERENCE_GESTURE: examples_of(recs, {0})[REFERENCE_GESTURE]}
                shift = _realign_or_keep(dec, ref, rate, r, f"realign refused {s}")
                r[f"encoder realigned {s}"] = encoder_scores(dec, rest_files, rate).result()
                r[f"shift found {s}"] = {"window_acc": float(shift), "recording_acc": float(shift)}
                prev_lda.rotation = shift
                r[f"lda realigned {s}"] = lda_scores(prev_lda, rest_files).result()
                prev_lda.rotation = 0
                r[f"lda previous {s}"] = lda_scores(prev_lda, rest_files).result()
                fresh = examples_of(recs, {0})
                dec.calibrate(fresh, rate, patient=person, cut="windows")
                r[f"encoder fresh 1 rep {s}"] = encoder_scores(dec, rest_files, rate).result()
                r[f"lda fresh 1 rep {s}"] = lda_scores(lda_fit(fresh), rest_files).result()
                dec.use(prev)
        if "rotation" in wanted:
            # the band turned by one electrode between days (simulated on Test0 by rolling the ring)
            recs = tests["Test0"]
            rest_files = test_files(recs, {1, 2, 3})
            dec.use(prev)
            r = results["rotation_one_electrode_Test0"].setdefault(person, {})
            r["encoder previous"] = encoder_scores(dec, rest_files, rate, rotate=1).result()
            r["lda previous"] = lda_scores(prev_lda, rest_files, rotate=1).result()
            ref = {REFERENCE_GESTURE: [rotate_ring(x, 1) for x in examples_of(recs, {0})[REFERENCE_GESTURE]]}
            shift = _realign_or_keep(dec, ref, rate, r, "realign refused")
            r["encoder realigned (1 rep of wrist extension)"] = encoder_scores(dec, rest_files, rate, rotate=1).result()
            prev_lda.rotation = shift
            r["lda realigned (1 rep of wrist extension)"] = lda_scores(prev_lda, rest_files, rotate=1).result()
            prev_lda.rotation = 0
            r["shift found (expected 7 = -1 mod 8, undoing the +1 roll, if the session itself is not rotated)"] = {"window_acc": float(shift), "recording_acc": float(shift)}
            dec.use(prev)
        if "size" in wanted:
            for n in (1, 2, 4):
                ex = examples_of(tr, set(range(n)))
                dec.calibrate(ex, rate, patient=person, cut="windows")
                tf = test_files(tests["Test0"])
                results["calibration_size_Test0"].setdefault(person, {})[f"encoder {n} rep"] = encoder_scores(dec, tf, rate).result()
                results["calibration_size_Test0"][person][f"lda {n} rep"] = lda_scores(lda_fit(ex), tf).result()
        if "cross_person" in wanted and tuple(dec.card.labels) == COTE_ALLARD_LABELS:
            sc = Scorer()
            for truth, sig in test_files(tests["Test0"]):
                w = dec.windows(sig, rate)
                p = dec.pretrained_scores(w)
                sc.add(truth, [dec.card.labels[i] for i in np.argmax(p, 1)])
            results["cross_person_no_calibration_Test0"].setdefault(person, {})["encoder"] = sc.result()
        log(f"  {person}: {time.process_time() - t0:.1f} s CPU")
    if "cross_person" in wanted and tuple(dec.card.labels) == COTE_ALLARD_LABELS:
        pre = [r for p in cote_allard_people(root, "PreTrainingDataset") for r in read_cote_allard_session(root, "PreTrainingDataset", p, "training0")]
        pooled = lda_fit(examples_of(pre))
        for person in people:
            tf = test_files(read_cote_allard_session(root, "EvaluationDataset", person, "Test0"))
            results["cross_person_no_calibration_Test0"][person]["lda (pre-training people pooled)"] = lda_scores(pooled, tf).result()
    return results, confusions


def _realign_or_keep(dec, ref, rate, record: dict, key: str) -> int:
    """Realign; when the decoder refuses (ambiguous), keep the previous calibration and count it."""
    try:
        shift, _ = dec.realign(ref, rate, cut="windows")
        record[key] = {"window_acc": 0.0, "recording_acc": 0.0}
        return shift
    except CalibrationError:
        record[key] = {"window_acc": 1.0, "recording_acc": 1.0}
        return dec.calibration.rotation


def unseen_protocol(args, root, card_path, log) -> dict:
    dec = load_decoder(card_path)
    unseen = set(dec.card.raw.get("excluded_gestures", []))
    rate, step = dec.card.rate_hz, int(round(0.05 * dec.card.rate_hz))
    people = cote_allard_people(root, "EvaluationDataset")[: args.people or None]
    out = {}
    for person in people:
        tr = read_cote_allard_session(root, "EvaluationDataset", person, "training0")
        t0 = read_cote_allard_session(root, "EvaluationDataset", person, "Test0")
        ex = examples_of(tr)
        dec.calibrate(ex, rate, patient=person, cut="windows")
        lda = HudginsLda(dec.card.sos(), dec.window_samples, step).fit(ex)
        tf = [t for t in test_files(t0) if t[0] in unseen]
        out[person] = {"encoder (unseen gestures)": encoder_scores(dec, tf, rate).result(),
                       "lda (unseen gestures)": lda_scores(lda, tf).result(),
                       "encoder (all 7)": encoder_scores(dec, test_files(t0), rate).result()}
    log(f"  unseen gestures {sorted(unseen)}: {len(out)} people")
    return out


def readings_windows(files, profile, rate):
    """Onset-locked windows of one myo_readings session: {label: [raw windows in time order]}.

    The rest capture (0.txt) sets the detector threshold as a caregiver's rest capture would, and
    gives the rest class (one window every 5 s). Bursts whose onset falls in a rest cue (releases)
    are dropped and counted.
    """
    rest = read_myo_readings(files[0])
    det = profile.detector
    filt = CausalFilter(design_emg_sos(profile.filter, rate), profile.channels).process(rest.signal)
    env = Envelope(profile.channels, rate, det.envelope_hz).process(filt)
    thr = estimate_threshold(env[profile.samples(det.warmup_ms):], det.k, det.hysteresis)
    length = profile.window_samples
    out: dict[str, list[np.ndarray]] = {"rest": [rest.signal[s : s + length] for s in range(200, rest.signal.shape[0] - length, 1000)]}
    dropped = 0
    for f in files[1:]:
        r = read_myo_readings(f)
        for ev in detect_offline(r.signal, profile, chunk=10, threshold=thr):
            if isinstance(ev, OnsetWindow) and ev.seq == 0:  # the onset-locked window of each burst
                lab = int(r.labels[ev.burst.onset_index])
                if lab == 0:
                    dropped += 1
                    continue
                out.setdefault(r.label_names[lab], []).append(ev.raw)
    return out, dropped


def readings_protocol(root, card_path, log) -> dict:
    dec = load_decoder(card_path)
    profile = find_profile(dec.card.profile)
    rate = dec.card.rate_hz
    sessions = myo_readings_sessions(root)
    people = sorted({k.split("-")[0] for k in sessions})
    out = {}
    for person in people:
        data = {s: readings_windows(sessions[f"{person}-{s}"], profile, rate) for s in ("1", "2", "3") if f"{person}-{s}" in sessions}
        if "1" not in data:
            continue
        calib, dropped1 = data["1"]
        calib = {k: v for k, v in calib.items() if len(v) >= 2}
        prev = dec.calibrate(calib, rate, patient=person, cut="windows")
        lda = HudginsLda(dec.card.sos(), dec.window_samples, 1).fit(calib)
        res = {"session 1 windows per class": {k: len(v) for k, v in calib.items()}, "release bursts dropped s1": dropped1}
        for s in ("2", "3"):
            if s not in data:
                continue
            windows, _ = data[s]
            # every onset window is one decision; the first 2 per class are held back for the fresh calibration
            tests = [(k, w) for k, ws in windows.items() if k in calib for w in ws[2:]]
            fresh = {k: ws[:2] for k, ws in windows.items() if k in calib and len(ws) >= 3}
            dec.use(prev)
            res[f"encoder previous s{s}"] = _onset_scores(lambda w: _enc_pred(dec, w), tests)
            res[f"lda previous s{s}"] = _onset_scores(lambda w: lda.labels[lda.predict(w[None])[0]], tests)
            if "extension" in windows:
                try:
                    dec.realign({"extension": windows["extension"][:2]}, rate, cut="windows")
                    res[f"realign refused s{s}"] = {"window_acc": 0.0, "recording_acc": 0.0}
                except CalibrationError:
                    res[f"realign refused s{s}"] = {"window_acc": 1.0, "recording_acc": 1.0}
                res[f"encoder realigned s{s}"] = _onset_scores(lambda w: _enc_pred(dec, w), tests)
                dec.use(prev)
            if len(fresh) == len(calib):
                dec.calibrate(fresh, rate, patient=person, cut="windows")
                res[f"encoder fresh 2 reps s{s}"] = _onset_scores(lambda w: _enc_pred(dec, w), tests)
                lf = HudginsLda(dec.card.sos(), dec.window_samples, 1).fit(fresh)
                res[f"lda fresh 2 reps s{s}"] = _onset_scores(lambda w: lf.labels[lf.predict(w[None])[0]], tests)
                dec.use(prev)
        out[person] = res
    log(f"  myo_readings: {len(out)} people")
    return out


def _enc_pred(dec, w):
    p = dec.probabilities(w[None])[0]
    return dec.calibration.labels[int(np.argmax(p))]


def _onset_scores(predict, tests) -> dict:
    """Per-window accuracy; the per-recording majority groups the windows of one class in the session."""
    sc = Scorer()
    by = defaultdict(list)
    for truth, w in tests:
        by[truth].append(predict(w))
    for truth, preds in by.items():
        sc.add(truth, preds)
    return sc.result()


def flexemg_protocol(root, grid_card: str, log) -> dict:
    profile = find_profile("trigno_maize_grid")
    rate = profile.rate_hz
    length, step = profile.window_samples, profile.samples(50.0)
    sos = design_emg_sos(profile.filter, rate)
    sessions = flexemg_sessions(root)
    dec = load_decoder(grid_card) if grid_card and Path(grid_card).is_file() else None
    out = {}

    def segments(files):
        ex: dict[str, list[np.ndarray]] = {}
        for f in files:
            r = read_flexemg(f)
            lab = r.labels
            cuts = np.flatnonzero(np.diff(lab) != 0) + 1
            for a, b in zip([0, *cuts], [*cuts, len(lab)]):
                ex.setdefault(r.label_names[int(lab[a])], []).append(r.signal[a:b])
        return ex

    for person in sorted({k.split("-")[0] for k in sessions}):
        train = segments(sessions[f"{person}-Session1Train"])
        test = [(k, s) for k, ss in segments(sessions[f"{person}-Session2Test"]).items() for s in ss]
        lda = HudginsLda(sos, length, step).fit(train)
        res = {"lda": lda_scores(lda, test).result()}
        if dec is not None:
            dec.calibrate(train, rate, patient=person, cut="windows")
            res["encoder"] = encoder_scores(dec, test, rate).result()
        out[person] = res
    log(f"  flexemg: {len(out)} people, encoder {'present' if dec else 'absent (no grid16_1khz model card)'}")
    return out


# -- output -----------------------------------------------------------------------------------------
def write_confusion_png(confusions: dict, labels: tuple[str, ...], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(confusions), figsize=(6 * len(confusions), 5.5))
    for ax, (name, sc) in zip(np.atleast_1d(axes), confusions.items()):
        m = np.array([[sc.confusion.get((t, p), 0) for p in labels] for t in labels], dtype=float)
        m /= np.maximum(m.sum(1, keepdims=True), 1)
        ax.imshow(m, vmin=0, vmax=1, cmap="Blues")
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(j, i, f"{100 * m[i, j]:.0f}", ha="center", va="center", fontsize=7, color="white" if m[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_title(f"{name}: Côté-Allard training0 -> Test0+Test1 (% of true)", fontsize=9)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def decision_confusion(scorer: Scorer, labels: tuple[str, ...]) -> dict:
    """What the speller receives, per true gesture: window counts per decided label, last column "no action"
    (below the rejection threshold). `myovox simulate --confusion` reads this file."""
    cols = (*labels, NO_ACTION)
    return {"source": "myovox evaluate: Côté-Allard cross-session (training0 -> Test0 + Test1), encoder decisions per window",
            "labels": list(labels), "columns": list(cols),
            "matrix": [[scorer.decisions.get((t, c), 0) for c in cols] for t in labels]}


def markdown(summary: dict, meta: dict) -> str:
    lines = ["# Gesture encoder evaluation", "", f"Model: `{meta['model']}` (sha256 {meta['sha256'][:12]}...). "
             "Windows 200 ms, step 50 ms, cut within one file. Mean ± std over people. "
             "`window` = per-window accuracy; `recording` = majority over the windows of one file "
             "(myo_readings: of one class in the session).", ""]
    for proto, methods in summary.items():
        lines += [f"## {proto}", "", "| method | window acc | recording acc | people | acted (conf >= threshold) | acc when acted |", "|---|---|---|---|---|---|"]
        for m, s in methods.items():
            if m.startswith("realign refused"):
                lines.append(f"| {m} | {100 * s['window_acc_mean']:.0f} % of people (previous calibration kept) | | {s['people']} | | |")
                continue
            if m.startswith("shift found"):
                lines.append(f"| {m} | mean shift {s['window_acc_mean']:.2f} ± {s['window_acc_std']:.2f} | | {s['people']} | | |")
                continue
            acted = f"{100 * s['acted_fraction_mean']:.1f} %" if "acted_fraction_mean" in s else ""
            aacc = f"{100 * s['acted_acc_mean']:.2f} %" if "acted_acc_mean" in s else ""
            lines.append(
                f"| {m} | {100 * s['window_acc_mean']:.2f} ± {100 * s['window_acc_std']:.2f} % | "
                f"{100 * s['recording_acc_mean']:.2f} ± {100 * s['recording_acc_std']:.2f} % | {s['people']} | {acted} | {aacc} |"
            )
        lines.append("")
    return "\n".join(lines)


def run(args) -> int:
    root = Path(args.data) if args.data else shared_data_dir()
    if root is None:
        print("no shared data folder (../shared/data or $MYOVOX_SHARED_DATA); nothing to evaluate")
        return 2
    wanted = ({"within", "cross", "size", "rotation", "cross_person", "unseen", "readings", "flexemg", "attempts"}
              if args.protocols == "all" else set(args.protocols.split(",")))
    if wanted == {"attempts"}:
        from .attempts_eval import run as run_attempts

        run_attempts(root, args)
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.process_time()
    dec = load_decoder(args.model)
    meta = {"model": dec.card.name, "sha256": dec.card.sha256, "card": str(args.model), "windows_ms": dec.card.window_ms, "step_ms": 50.0}
    results: dict = {}
    confusions = None
    if wanted & {"within", "cross", "size", "rotation", "cross_person"}:
        cote, confusions = cote_allard_protocols(args, root, args.model, wanted, print)
        results.update(cote)
    if "unseen" in wanted and args.unseen_model:
        results["unseen_gestures_Test0"] = unseen_protocol(args, root, args.unseen_model, print)
    if "readings" in wanted:
        results["myo_readings_session1_to_2_3"] = readings_protocol(root, args.model, print)
    if "flexemg" in wanted:
        results["flexemg16_session1_to_2"] = flexemg_protocol(root, args.grid_model, print)
    if "attempts" in wanted:
        from .attempts_eval import run as run_attempts

        run_attempts(root, args)
    summary = {}
    for proto, per_person in results.items():
        numeric = {p: {m: r for m, r in v.items() if isinstance(r, dict) and "window_acc" in r} for p, v in per_person.items()}
        summary[proto] = summarise(numeric)
    meta["cpu_seconds"] = round(time.process_time() - t0, 1)
    (out / "evaluation.json").write_text(json.dumps({"meta": meta, "summary": summary, "per_person": results}, indent=1, default=str), encoding="utf-8")
    (out / "evaluation.md").write_text(markdown(summary, meta), encoding="utf-8")
    png = bool(confusions) and sum(confusions["encoder"].confusion.values()) > 0
    if png:
        write_confusion_png(confusions, COTE_ALLARD_LABELS, out / "confusion_cross_session.png")
        (out / "decisions_cross_session.json").write_text(
            json.dumps(decision_confusion(confusions["encoder"], COTE_ALLARD_LABELS), indent=1), encoding="utf-8")
    if args.update_card:
        card_path = Path(args.model)
        card = json.loads(card_path.read_text(encoding="utf-8"))
        card["metrics"] = {"source": "myovox evaluate (windows 200 ms, step 50 ms; mean/std over people)",
                           "people_limit": args.people or "all", "summary": summary}
        card_path.write_text(json.dumps(card, indent=1), encoding="utf-8")
    print(markdown(summary, meta))
    print(f"wrote {out}/evaluation.json, evaluation.md{', confusion_cross_session.png' if png else ''}")
    return 0
