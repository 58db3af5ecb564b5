"""`myovox train`: pre-train a gesture encoder on the pre-training people and export it as ONNX + model card.

The architecture is chosen on the pre-training people only: each candidate is trained on most of
them and scored on the rest the way it will be used (a head calibrated on repetitions 0-2 of a
held-out person, tested on repetition 3). The Côté-Allard Test0/Test1 recordings are never read here.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from datetime import date
from pathlib import Path

import numpy as np

from ..data.recordings import COTE_ALLARD_LABELS, COTE_ALLARD_LEAKED, cote_allard_people, shared_data_dir
from ..decode.card import CARD_SCHEMA, sha256_of
from ..decode.features import RICH_FEATURES, prepare_windows, rich_features
from ..decode.head import EmbeddingHead
from ..profiles import find_profile
from ..signal.filters import design_emg_sos
from .datasets import WindowSet, cote_allard_windows

PROJECT = Path(__file__).resolve().parents[3]
#: The Myo encoder's head inputs: embedding, Hudgins, rich features and the log channel covariance.
MYO_HEAD_INPUTS = ("embedding", "hudgins", "rich", "spatial")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="myo", help="device profile the encoder serves (default: myo)")
    p.add_argument("--arch", choices=("cnn", "tcn", "auto"), default="auto", help="auto: pick on held-out pre-training people")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--step-ms", type=float, default=50.0, help="window step for training windows")
    p.add_argument("--exclude-gestures", default="", help="comma-separated class indices left out of pre-training")
    p.add_argument("--name", default="", help="model name (default: the profile's encoder name)")
    p.add_argument("--out", default=str(PROJECT / "models"), help="folder for <name>.onnx and <name>.card.json")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default="", help="shared data folder (default: ../shared/data)")
    p.add_argument("--objective", choices=("ce", "fewshot"), default="ce",
                   help="ce: cross-entropy with amplitude jitter; fewshot: + prototypical episodes and session-like augmentation")
    p.add_argument("--proto-weight", type=float, default=1.0, help="weight of the prototypical loss (fewshot)")
    p.add_argument("--no-augment", action="store_true", help="fewshot without the session-like augmentation")
    p.add_argument("--readings-weight", type=float, default=0.0,
                   help="fewshot: add the myo_readings people (onset-locked windows of all their sessions, as the evaluate's "
                        "myo_readings protocol cuts them) as cross-session prototypical episodes with this weight "
                        "(support = one session, queries = another); 0 (default) = off. Their labels never reach the "
                        "exported class scores. Contaminates the evaluate's myo_readings protocol.")
    p.add_argument("--readings-people-per-batch", type=int, default=1, help="myo_readings people per batch (--readings-weight)")
    p.add_argument("--readings-ce", type=float, default=0.0,
                   help="with --readings-weight: also this weight x cross-entropy over myo_readings' own 8 classes "
                        "through a separate head that is not exported (default 0 = off)")
    p.add_argument("--readings-exclude", default="",
                   help="with --readings-weight: comma-separated myo_readings people left out (a leave-one-person-out "
                        "encoder, so the evaluate's myo_readings protocol stays held out for them)")
    p.add_argument("--width", type=int, default=32, help="convolution width")
    p.add_argument("--embed", type=int, default=64, help="embedding size (<= 128 in all)")
    p.add_argument("--members", type=int, default=1,
                   help="an ensemble of this many encoders (seeds seed, seed+1, ...): embeddings concatenated, scores averaged")


def _torch():
    import torch

    torch.set_num_threads(1)
    return torch


class Normaliser:
    def __init__(self, window_scale, feature_mean, feature_std):
        self.window_scale, self.feature_mean, self.feature_std = window_scale, feature_mean, feature_std

    @classmethod
    def fit(cls, prepared: np.ndarray, feats: np.ndarray) -> "Normaliser":
        return cls(prepared.std(axis=(0, 1)) + 1e-6, feats.mean(axis=0), feats.std(axis=0) + 1e-6)

    def apply(self, prepared: np.ndarray, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = (prepared / self.window_scale).transpose(0, 2, 1).astype(np.float32)
        return np.ascontiguousarray(w), ((feats - self.feature_mean) / self.feature_std).astype(np.float32)


def readings_cross_session(root: Path, profile, sos, weight: float, people_per_batch: int = 1, ce_weight: float = 0.0,
                           exclude: tuple[str, ...] = ()):
    """The myo_readings people as a `fewshot.CrossSessionSet`: every session's onset-locked windows and rest windows,
    cut by the evaluate's own `readings_windows` (the myo_readings protocol), then prepared like the training windows."""
    from ..data.recordings import MYO_READINGS_LABELS, myo_readings_sessions
    from ..decode.evaluate import readings_windows
    from .fewshot import CrossSessionSet

    win, lab, per, ses = [], [], [], []
    for key, files in sorted(myo_readings_sessions(root).items()):
        person, _, session = key.partition("-")
        if person in exclude:
            continue
        data, _ = readings_windows(files, profile, profile.rate_hz)
        for name, ws in data.items():
            win.extend(ws)
            lab.extend([MYO_READINGS_LABELS.index(name)] * len(ws))
            per.extend([person] * len(ws))
            ses.extend([session] * len(ws))
    prepared = prepare_windows(np.asarray(win, dtype=np.float32), sos)
    return CrossSessionSet(prepared, np.asarray(lab, np.int64), np.asarray(per), np.asarray(ses), weight, people_per_batch, ce_weight)


def _prepare(ws: WindowSet, sos) -> tuple[np.ndarray, np.ndarray]:
    prepared = prepare_windows(ws.windows, sos)
    return prepared, rich_features(prepared)


def fit_encoder(arch: str, win: np.ndarray, feats: np.ndarray, labels: np.ndarray, n_classes: int, epochs: int, seed: int, log=print):
    torch = _torch()
    from .models import ARCHITECTURES

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = ARCHITECTURES[arch](win.shape[1], feats.shape[1], n_classes)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-3)
    steps = epochs * int(np.ceil(len(labels) / 256))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    lossf = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    xw, xf, y = torch.from_numpy(win), torch.from_numpy(feats), torch.from_numpy(labels)
    for ep in range(epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(y)))
        t0, total, correct = time.process_time(), 0.0, 0
        for s in range(0, len(y), 256):
            idx = order[s : s + 256]
            bw = xw[idx]
            # amplitude jitter per channel: electrode contact differs between sessions and people
            bw = bw * torch.exp(0.2 * torch.randn(bw.shape[0], bw.shape[1], 1))
            emb, scores = model(bw, xf[idx])
            loss = lossf(scores, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            correct += int((scores.argmax(1) == y[idx]).sum())
        log(f"  {arch} epoch {ep + 1}/{epochs}: loss {total / len(y):.3f}, train acc {correct / len(y):.3f}, {time.process_time() - t0:.0f} s CPU")
    model.eval()
    return model


def embed(model, win: np.ndarray, feats: np.ndarray) -> np.ndarray:
    torch = _torch()
    out = []
    with torch.no_grad():
        for s in range(0, len(win), 2048):
            e, _ = model(torch.from_numpy(win[s : s + 2048]), torch.from_numpy(feats[s : s + 2048]))
            out.append(e.numpy())
    return np.concatenate(out)


def few_shot_score(emb: np.ndarray, ws: WindowSet) -> list[float]:
    """Per held-out person: head fitted on reps 0-2, accuracy on rep 3 (the within-session protocol)."""
    scores = []
    for p in np.unique(ws.person):
        m = ws.person == p
        tr, te = m & (ws.repetition < 3), m & (ws.repetition == 3)
        head = EmbeddingHead(tuple(str(i) for i in np.unique(ws.labels[tr]))).fit(emb[tr], ws.labels[tr])
        pred = head.lda.predict((emb[te] - head.mean) / head.std)
        scores.append(float(np.mean(pred == ws.labels[te])))
    return scores


def export_onnx(model, channels: int, samples: int, n_features: int, path: Path) -> None:
    torch = _torch()

    class _Export(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, window, features):
            return self.m(window, features)

    dummy = (torch.zeros(1, channels, samples), torch.zeros(1, n_features))
    torch.onnx.export(
        _Export(model).eval(), dummy, str(path), input_names=["window", "features"], output_names=["embedding", "scores"],
        dynamic_axes={"window": {0: "n"}, "features": {0: "n"}, "embedding": {0: "n"}, "scores": {0: "n"}},
        opset_version=17, dynamo=False,
    )


def run(args) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    root = Path(args.data) if args.data else shared_data_dir()
    if root is None:
        print("no shared data folder (../shared/data or $MYOVOX_SHARED_DATA); cannot train")
        return 2
    profile = find_profile(args.profile)
    if profile.channels == 16 and abs(profile.rate_hz - 1000.0) < 1:
        return train_grid(args, root, profile)
    if profile.channels != 8 or abs(profile.rate_hz - 200.0) > 1:
        print(f"profile {profile.key!r}: no pre-training set for {profile.channels} channels at {profile.rate_hz:g} Hz")
        return 2
    name = args.name or profile.model
    length = profile.window_samples
    step = profile.samples(args.step_ms)
    sos = design_emg_sos(profile.filter, profile.rate_hz)
    excluded = sorted(int(x) for x in args.exclude_gestures.split(",") if x.strip())
    kept = [i for i in range(len(COTE_ALLARD_LABELS)) if i not in excluded]
    remap = {c: i for i, c in enumerate(kept)}

    people = cote_allard_people(root, "PreTrainingDataset")
    print(f"pre-training people: {len(people)} (left out as leaked copies of EvaluationDataset/Female0: {', '.join(COTE_ALLARD_LEAKED)})")
    ws = cote_allard_windows(root, "PreTrainingDataset", people, ("training0",), length, step)
    ws = ws.select(np.isin(ws.labels, kept))
    ws = WindowSet(ws.windows, np.array([remap[int(c)] for c in ws.labels]), ws.person, ws.session, ws.repetition, ws.recording)
    prepared, feats = _prepare(ws, sos)
    print(f"windows: {len(ws)} of {length} samples x {profile.channels} ch, step {step}; classes {[COTE_ALLARD_LABELS[c] for c in kept]}")

    selection = {}
    arch = args.arch
    if arch == "auto":
        held = people[::5]  # every fifth pre-training person: a fixed, data-independent split
        tr = ~np.isin(ws.person, held)
        norm = Normaliser.fit(prepared[tr], feats[tr])
        w, f = norm.apply(prepared, feats)
        for cand in ("cnn", "tcn"):
            t0 = time.process_time()
            model = fit_encoder(cand, w[tr], f[tr], ws.labels[tr], len(kept), args.epochs, args.seed)
            sc = few_shot_score(embed(model, w[~tr], f[~tr]), ws.select(~tr))
            selection[cand] = {"heldout_people": held, "reps0-2_to_rep3_accuracy_mean": float(np.mean(sc)),
                               "per_person": [round(s, 4) for s in sc], "train_cpu_s": round(time.process_time() - t0, 1),
                               "parameters": int(sum(p.numel() for p in model.parameters()))}
            print(f"selection {cand}: held-out pre-training people {held}: reps 0-2 -> rep 3 head accuracy {np.mean(sc):.4f} {np.round(sc, 3).tolist()}")
        arch = max(selection, key=lambda a: selection[a]["reps0-2_to_rep3_accuracy_mean"])
        print(f"chosen architecture: {arch}")

    from .models import Ensemble, embedding_dim

    norm = Normaliser.fit(prepared, feats)
    w, f = norm.apply(prepared, feats)
    t0 = time.process_time()
    augment, cross = None, None
    if args.objective == "fewshot":
        from .fewshot import Augment, fit_encoder_fewshot

        augment = None if args.no_augment else Augment()
        del w
        if args.readings_weight > 0:
            cross = readings_cross_session(root, profile, sos, args.readings_weight, args.readings_people_per_batch,
                                           args.readings_ce, tuple(p for p in args.readings_exclude.split(",") if p))
            print(f"myo_readings cross-session episodes: {len(cross.labels)} onset-locked windows, "
                  f"{len(np.unique(cross.person))} people, weight {args.readings_weight:g}")
        members = [fit_encoder_fewshot(arch, prepared, norm, ws.labels, ws.person, ws.repetition, len(kept), args.epochs,
                                       args.seed + i, augment, args.proto_weight, ring=profile.layout == "ring",
                                       width=args.width, embed=args.embed, cross=cross)
                   for i in range(args.members)]
    else:
        members = [fit_encoder(arch, w, f, ws.labels, len(kept), args.epochs, args.seed + i) for i in range(args.members)]
    model = members[0] if len(members) == 1 else Ensemble(members).eval()
    train_cpu = time.process_time() - t0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / f"{name}.onnx"
    export_onnx(model, profile.channels, length, f.shape[1], onnx_path)
    emb_dim = embedding_dim(model)
    card = {
        "schema": CARD_SCHEMA,
        "name": name,
        "onnx": onnx_path.name,
        "sha256": sha256_of(onnx_path),
        "size_bytes": onnx_path.stat().st_size,
        "created": date.today().isoformat(),
        "profile": profile.key,
        "rate_hz": profile.rate_hz,
        "channels": profile.channels,
        "layout": profile.layout,
        "unit": profile.unit,
        "window_samples": length,
        "window_ms": profile.decision_ms,
        "preprocessing": {
            "per_window": "raw window (samples x channels, in the profile's unit) minus its per-channel mean, then the "
                          "profile's causal Butterworth band-pass started from steady state (myovox.decode.features.prepare_windows)",
            "filter": {"highpass_hz": profile.filter.highpass_hz, "lowpass_hz": profile.filter.lowpass_hz,
                       "order": profile.filter.order, "notch_hz": profile.filter.notch_hz, "notch_q": profile.filter.notch_q},
        },
        "normalisation": {
            "window": "prepared window / window_scale per channel, fed as (n, channels, samples)",
            "window_scale": norm.window_scale.tolist(),
            "features": list(RICH_FEATURES),
            "features_layout": "feature-major: all channels of the first feature, then the next",
            "feature_mean": norm.feature_mean.tolist(),
            "feature_std": norm.feature_std.tolist(),
        },
        "inputs": {"window": ["n", profile.channels, length], "features": ["n", int(f.shape[1])]},
        "outputs": {"embedding": emb_dim, "scores": len(kept)},
        # what the calibration head classifies (chosen on the evaluation people's training0 only:
        # python -m myovox.training.recipe; the card's selection.recipe)
        "head_inputs": list(MYO_HEAD_INPUTS),
        "labels": [COTE_ALLARD_LABELS[c] for c in kept],
        "excluded_gestures": [COTE_ALLARD_LABELS[c] for c in excluded],
        "architecture": arch,
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "why": (
            f"{arch} chosen by the few-shot head accuracy on held-out pre-training people (reps 0-2 -> rep 3), "
            "the way the encoder is used at the bedside; both candidates are a few tens of thousands of parameters, "
            "well under 1 MB and fast on one CPU thread."
            if selection else f"{arch} fixed by the --arch option"
        ),
        "selection": selection,
        "training": {"epochs": args.epochs, "step_ms": args.step_ms, "optimizer": "AdamW, one-cycle lr 3e-3, label smoothing 0.1",
                     "objective": ("cross-entropy over the pooled classes + %g x prototypical episodes (support = one "
                                   "repetition of one person, queries = that person's other repetitions)" % args.proto_weight
                                   if args.objective == "fewshot" else "cross-entropy over the pooled classes"),
                     "augmentation": (augment.describe() if augment is not None else
                                      "none" if args.objective == "fewshot" else "per-channel amplitude jitter (log-normal, sigma 0.2)"),
                     "width": args.width, "embedding": args.embed, "members": args.members,
                     "seeds": list(range(args.seed, args.seed + args.members)),
                     "windows": int(len(ws)), "cpu_seconds": round(train_cpu, 1), "threads": 1, "code": code_provenance(),
                     **({"cross_session": {
                         "weight": args.readings_weight, "people_per_batch": args.readings_people_per_batch,
                         "readings_ce": args.readings_ce,
                         "episodes": "per batch, myo_readings people: prototypes from one session's onset-locked windows, "
                                     "queries from another session of the same person (their labels never reach the exported class scores)",
                         "windows": int(len(cross.labels))}} if cross is not None else {})},
        "training_data": {
            "dataset": "myo_cote_allard PreTrainingDataset, training0 (Côté-Allard et al., IEEE TNSRE 2019; "
                       "github.com/UlysseCoteAllard/MyoArmbandDataset @ 4de3efe)",
            "licence": "GPL-3.0 (the data); the weights are derived from it",
            "people": people,
            "left_out": list(COTE_ALLARD_LEAKED) + ["(same recordings as EvaluationDataset/Female0)"],
            "never_used": "EvaluationDataset (all sessions), Test0/Test1",
            **({"also": "myo_readings (github.com/aljazfrancic/myo-readings-dataset @ 2630b1d, MIT): people "
                        f"{', '.join(sorted(set(cross.person.tolist())))}, sessions 1-3, onset-locked windows "
                        "(decode.evaluate.readings_windows) in cross-session episodes",
                "contaminated": "myovox evaluate's myo_readings protocol for those people (their sessions were pre-trained "
                                "on): not a held-out result for them"}
               if cross is not None else {}),
        },
        "metrics": {},
    }
    card_path = out / f"{name}.card.json"
    card_path.write_text(json.dumps(card, indent=1), encoding="utf-8")
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes, sha256 {card['sha256'][:12]}...) and {card_path}")
    return 0


def train_grid(args, root: Path, profile) -> int:
    """The 16-channel 4 x 4 grid encoder, trained on flexemg Session1Train of its three people.

    flexemg has only three people, so there is no "new person" here: the encoder is trained on the
    first session of the same people and evaluated on their second session (Session2Test), which this
    function never reads.
    """
    from ..data.recordings import FLEXEMG_LABELS, flexemg_sessions, read_flexemg
    from .datasets import windows_from_recordings

    name = args.name or profile.model
    length, step = profile.window_samples, profile.samples(args.step_ms)
    sos = design_emg_sos(profile.filter, profile.rate_hz)
    sessions = {k: v for k, v in flexemg_sessions(root).items() if k.endswith("Session1Train")}
    recs = [read_flexemg(f) for files in sessions.values() for f in files]
    ws = windows_from_recordings(recs, length, step)
    prepared, feats = _prepare(ws, sos)
    norm = Normaliser.fit(prepared, feats)
    w, f = norm.apply(prepared, feats)
    arch = "cnn" if args.arch == "auto" else args.arch
    print(f"flexemg Session1Train: {len(ws)} windows of {length} x {profile.channels}; architecture {arch} (fixed: too few people to select on)")
    t0 = time.process_time()
    model = fit_encoder(arch, w, f, ws.labels, len(FLEXEMG_LABELS), args.epochs, args.seed)
    from .models import embedding_dim
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / f"{name}.onnx"
    export_onnx(model, profile.channels, length, f.shape[1], onnx_path)
    card = _card(profile, name, onnx_path, length, norm, f, model, arch, list(FLEXEMG_LABELS), [], {}, args, len(ws), time.process_time() - t0)
    card["why"] = "cnn: the architecture chosen on the Myo pre-training people; flexemg has too few people to select on"
    card["training_data"] = {
        "dataset": "flexemg_64ch Session1Train of people 001-003, 4 x 4 block (channels 29-32, 25-28, 21-24, 17-20), "
                   "Moin et al., ISCAS 2018; github.com/a-moin/flexemg @ 8ce40c5",
        "licence": "GPL-3.0 (the data); the weights are derived from it",
        "people": sorted(k.split("-")[0] for k in sessions),
        "never_used": "Session2Test",
        "caveat": "the same three people are evaluated (on their second session): this is not a new-person model",
    }
    card_path = out / f"{name}.card.json"
    card_path.write_text(json.dumps(card, indent=1), encoding="utf-8")
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes) and {card_path}")
    return 0


def code_provenance(root: Path = PROJECT) -> dict:
    """What code and libraries trained a model, so its weights can be reproduced bit for bit.

    The shipped Myo encoder was trained from a working tree with one uncommitted change (a DFT by
    matrix product instead of np.fft.rfft in the rich features): equal up to 4e-12, yet enough to end
    15 epochs at other weights. A card therefore names the commit, whether the tree was dirty and a
    hash of the uncommitted diff, and the library versions the arithmetic depends on.
    """
    import hashlib
    import platform
    import subprocess

    import scipy
    import torch

    out: dict = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                 "torch": torch.__version__, "machine": platform.machine(),
                 "threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
    try:
        import onnx

        out["onnx"] = onnx.__version__
    except ImportError:
        pass

    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=root, capture_output=True, text=True, check=True, timeout=30).stdout

    try:
        out["commit"] = git("rev-parse", "HEAD").strip()
        diff = git("diff", "HEAD", "--", "app", "pyproject.toml")
        out["dirty"] = bool(diff)
        if diff:
            out["diff_sha256"] = hashlib.sha256(diff.encode()).hexdigest()
    except (OSError, subprocess.SubprocessError) as exc:
        out["commit"] = None
        out["commit_note"] = f"not a git checkout or git unavailable ({type(exc).__name__}); the code cannot be named"
    return out


def _card(profile, name, onnx_path, length, norm, f, model, arch, labels, excluded, selection, args, n_windows, cpu) -> dict:
    return {
        "schema": CARD_SCHEMA, "name": name, "onnx": onnx_path.name, "sha256": sha256_of(onnx_path),
        "size_bytes": onnx_path.stat().st_size, "created": date.today().isoformat(), "profile": profile.key,
        "rate_hz": profile.rate_hz, "channels": profile.channels, "layout": profile.layout, "unit": profile.unit,
        "window_samples": length, "window_ms": profile.decision_ms,
        "preprocessing": {
            "per_window": "raw window minus its per-channel mean, then the profile's causal band-pass from steady state",
            "filter": {"highpass_hz": profile.filter.highpass_hz, "lowpass_hz": profile.filter.lowpass_hz,
                       "order": profile.filter.order, "notch_hz": profile.filter.notch_hz, "notch_q": profile.filter.notch_q},
        },
        "normalisation": {
            "window": "prepared window / window_scale per channel, fed as (n, channels, samples)",
            "window_scale": norm.window_scale.tolist(), "features": list(RICH_FEATURES),
            "features_layout": "feature-major: all channels of the first feature, then the next",
            "feature_mean": norm.feature_mean.tolist(), "feature_std": norm.feature_std.tolist(),
        },
        "inputs": {"window": ["n", profile.channels, length], "features": ["n", int(f.shape[1])]},
        "outputs": {"embedding": embedding_dim(model), "scores": len(labels)},
        "labels": labels, "excluded_gestures": excluded, "architecture": arch,
        "parameters": int(sum(p.numel() for p in model.parameters())), "selection": selection,
        "training": {"epochs": args.epochs, "step_ms": args.step_ms, "optimizer": "AdamW, one-cycle lr 3e-3, label smoothing 0.1",
                     "augmentation": "per-channel amplitude jitter (log-normal, sigma 0.2)", "seed": args.seed,
                     "windows": int(n_windows), "cpu_seconds": round(cpu, 1), "threads": 1, "code": code_provenance()},
        "metrics": {},
    }
