"""The recipe protocol: score an encoder + head on the evaluation people's `training0` only.

This is how training recipes, encoder sizes and head settings are chosen (the model card's
`selection.recipe`); Test0/Test1 are never read here. For each of the 18 evaluation people the head
is calibrated on some repetitions of `training0` and tested on the others, per window (200 ms, step
50 ms, cut within one file):

- w3: reps 0-2 -> rep 3;
- r1: one rep -> the other three (rep 0 -> 1-3 and rep 3 -> 0-2, averaged);
- r2: two reps -> the other two (0,1 -> 2,3 and 2,3 -> 0,1, averaged);
- mean of the three.

The encoder is reached through the public decoder (`load_decoder`, its head inputs); several cards
can be given to score an ensemble (their embeddings side by side, the hand-crafted features once),
which is what `myovox train --members N` ships. Heads are named variants (`HEADS`), so a choice
made here can be re-run by anyone:

    python -m myovox.training.recipe --model models/myo8_200hz.card.json --heads lda0.2,lda_reps
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..data.recordings import cote_allard_people, read_cote_allard_session, shared_data_dir
from ..decode.api import GestureDecoder
from ..decode.features import hudgins_features, rotate_ring, spatial_features
from ..decode.card import load_card
from ..decode.finetune import FineTuning, fine_tune
from ..decode.head import EmbeddingHead

PROJECT = Path(__file__).resolve().parents[3]

SPLITS = {
    "w3": [((0, 1, 2), (3,))],
    "r1": [((0,), (1, 2, 3)), ((3,), (0, 1, 2))],
    "r2": [((0, 1), (2, 3)), ((2, 3), (0, 1))],
}


class PersonData:
    """One person's training0: per (label, rep) the raw windows and the head inputs of the decoders."""

    def __init__(self, decoders, recs, step_ms: float = 50.0, cal_step_ms: float | None = None):
        self.decoders = decoders
        dec = decoders[0]
        self.raw: dict[tuple[int, int], np.ndarray] = {}
        self.raw_cal: dict[tuple[int, int], np.ndarray] = {}
        for r in recs:
            k = (int(r.labels[0]), int(r.repetition))
            self.raw[k] = dec.windows(r.signal, dec.card.rate_hz, step_ms)
            if cal_step_ms and cal_step_ms != step_ms:
                self.raw_cal[k] = dec.windows(r.signal, dec.card.rate_hz, cal_step_ms)
        self.x = {k: self.head_inputs(w) for k, w in self.raw.items()}
        # the refittable top's inputs (conv, features) and the other blocks, when the card has fine_tune
        self.parts = {k: dec._parts(w, rotation=0) for k, w in self.raw.items()} if dec.encoder.top is not None else {}
        # calibration windows may be cut more densely than the 50 ms test step (calibrate(step_ms=...))
        self.x_cal = {k: self.head_inputs(w) for k, w in self.raw_cal.items()} if self.raw_cal else self.x

    def head_inputs(self, windows: np.ndarray) -> np.ndarray:
        """Embeddings of every decoder side by side, then the hand-crafted features (from the first)."""
        parts = [d._head_inputs(windows, rotation=0) for d in self.decoders]
        dims = [d.card.embedding_dim for d in self.decoders]
        return np.hstack([p[:, :k] for p, k in zip(parts, dims)] + [parts[0][:, dims[0]:]])

    def take(self, reps, calibration: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = self.x_cal if calibration else self.x
        keys = sorted(k for k in src if k[1] in reps)
        x = np.concatenate([src[k] for k in keys])
        y = np.concatenate([np.full(len(src[k]), k[0]) for k in keys])
        rep = np.concatenate([np.full(len(src[k]), k[1]) for k in keys])
        return x, y, rep


# -- heads: fit(person, calibration reps) -> predict(x) ----------------------------------------------
def lda_head(shrinkage: float) -> Callable:
    def fit(pd: PersonData, reps):
        x, y, _ = pd.take(reps, calibration=True)
        h = EmbeddingHead(tuple(str(c) for c in np.unique(y)), shrinkage=shrinkage).fit(x, y)
        return lambda q: h.lda.predict((q - h.mean) / h.std)
    return fit


def lda_members(shrinkage: float) -> Callable:
    """An ensemble head: one LDA per encoder (its embedding + the hand-crafted features), logits averaged."""
    def fit(pd: PersonData, reps):
        x, y, _ = pd.take(reps, calibration=True)
        dims = [d.card.embedding_dim for d in pd.decoders]
        starts = np.cumsum([0] + dims)
        shared = np.arange(starts[-1], x.shape[1])
        cols = [np.concatenate([np.arange(starts[i], starts[i + 1]), shared]) for i in range(len(dims))]
        heads = [EmbeddingHead(tuple(str(c) for c in np.unique(y)), shrinkage=shrinkage).fit(x[:, c], y) for c in cols]
        return lambda q: heads[0].lda.classes_[np.argmax(sum(h.logits(q[:, c]) for h, c in zip(heads, cols)), axis=1)]
    return fit


def rda_head(shrinkage: float, alpha: float) -> Callable:
    """Regularised QDA (Friedman): class covariance blended with the pooled one (alpha = pooled share)."""
    def fit(pd: PersonData, reps):
        x, y, _ = pd.take(reps, calibration=True)
        mean, std = x.mean(0), x.std(0) + 1e-6
        z = (x - mean) / std
        classes = np.unique(y)
        means = np.stack([z[y == c].mean(0) for c in classes])
        cen = z - means[np.searchsorted(classes, y)]
        pooled = cen.T @ cen / max(len(z) - len(classes), 1)
        params = []
        for i, c in enumerate(classes):
            r = cen[y == c]
            ck = r.T @ r / max(len(r) - 1, 1)
            cov = alpha * pooled + (1 - alpha) * ck
            mu = np.trace(cov) / cov.shape[0]
            cov = (1 - shrinkage) * cov + shrinkage * mu * np.eye(cov.shape[0])
            sign, logdet = np.linalg.slogdet(cov)
            params.append((means[i], np.linalg.inv(cov), logdet))

        def predict(q):
            zq = (q - mean) / std
            s = np.stack([-0.5 * np.einsum("ni,ij,nj->n", zq - m, inv, zq - m) - 0.5 * ld for m, inv, ld in params], 1)
            return classes[np.argmax(s, 1)]
        return predict
    return fit


def fine_tuned_lda(shrinkage: float) -> Callable:
    """The runtime's calibration: refit the encoder's top on the calibration reps (decode.finetune, the
    card's fine_tune settings), then LDA on the head inputs with the refitted embedding."""
    def fit(pd: PersonData, reps):
        dec = pd.decoders[0]
        if not pd.parts:
            raise SystemExit("this head needs a card with fine_tune (or --fine-tune EPOCHS,LR)")
        keys = sorted(k for k in pd.parts if k[1] in reps)
        y = np.concatenate([np.full(len(pd.parts[k]["conv"]), k[0]) for k in keys])
        classes = np.unique(y)
        top = fine_tune(dec.encoder.top, np.concatenate([pd.parts[k]["conv"] for k in keys]),
                        np.concatenate([pd.parts[k]["features"] for k in keys]), np.searchsorted(classes, y),
                        len(classes), dec.card.fine_tune)

        def inputs(keys):
            return np.concatenate([dec._assemble(pd.parts[k], top) for k in keys])
        h = EmbeddingHead(tuple(str(c) for c in classes), shrinkage=shrinkage).fit(inputs(keys), y)

        def predict(test_reps):
            return h.lda.predict((inputs(sorted(k for k in pd.parts if k[1] in test_reps)) - h.mean) / h.std)
        predict.by_reps = True
        return predict
    return fit


def lda_by_reps(table: dict[int, float]) -> Callable:
    """Shrinkage chosen by how many repetitions per gesture the calibration has."""
    def fit(pd: PersonData, reps):
        return lda_head(table[min(len(reps), max(table))])(pd, reps)
    return fit


def lda_augmented(shrinkage: float, shifts=(-1, 1), gains=()) -> Callable:
    """LDA on the calibration windows plus copies rolled around the ring / scaled in gain."""
    def fit(pd: PersonData, reps):
        x, y, _ = pd.take(reps)
        xs, ys = [x], [y]
        keys = sorted(k for k in pd.raw if k[1] in reps)
        raw = np.concatenate([pd.raw[k] for k in keys])
        yr = np.concatenate([np.full(len(pd.raw[k]), k[0]) for k in keys])
        for s in shifts:
            xs.append(pd.head_inputs(rotate_ring(raw, s)))
            ys.append(yr)
        for g in gains:
            xs.append(pd.head_inputs(raw * g))
            ys.append(yr)
        h = EmbeddingHead(tuple(str(c) for c in np.unique(y)), shrinkage=shrinkage)
        xa, ya = np.concatenate(xs), np.concatenate(ys)
        h.fit(xa, ya)
        return lambda q: h.lda.predict((q - h.mean) / h.std)
    return fit


def ar_features(card, windows: np.ndarray, order: int = 4) -> np.ndarray:
    """Autoregressive coefficients per channel (least squares on the prepared window), channel-major."""
    w = _scaled(card, windows)
    n, t, ch = w.shape
    lag = np.stack([w[:, order - k - 1 : t - k - 1] for k in range(order)], axis=-1)  # (n, t-order, ch, order)
    tgt = w[:, order:]
    a = np.einsum("ntcp,ntcq->ncpq", lag, lag) + 1e-6 * np.eye(order)
    b = np.einsum("ntcp,ntc->ncp", lag, tgt)
    out = np.linalg.solve(a, b[..., None])[..., 0]
    return out.reshape(n, ch * order)


def corr_features(card, windows: np.ndarray) -> np.ndarray:
    """Off-diagonal channel correlations of the prepared window (Fisher z)."""
    w = card.prepare(windows)
    c = np.einsum("nti,ntj->nij", w, w)
    d = np.sqrt(np.einsum("nii->ni", c)) + 1e-9
    r = c / d[:, :, None] / d[:, None, :]
    iu = np.triu_indices(c.shape[1], 1)
    return np.arctanh(np.clip(r[:, iu[0], iu[1]], -0.999, 0.999))


def _scaled(card, windows: np.ndarray) -> np.ndarray:
    return card.prepare(windows) / card.window_scale[None, None, :]


def spatial_lag_features(card, windows: np.ndarray, lag: int = 2) -> np.ndarray:
    """Log covariance of the prepared window stacked with itself delayed by `lag` samples (16 x 16)."""
    w = _scaled(card, windows)
    return spatial_features(np.concatenate([w[:, lag:], w[:, :-lag]], axis=2))


def spatial_band_features(card, windows: np.ndarray) -> np.ndarray:
    """Log covariance of the prepared window in two halves of the band (difference / sum of neighbours)."""
    w = _scaled(card, windows)
    lo = 0.5 * (w[:, 1:] + w[:, :-1])
    hi = 0.5 * (w[:, 1:] - w[:, :-1])
    return np.hstack([spatial_features(lo), spatial_features(hi)])


def log_hudgins_features(card, windows: np.ndarray) -> np.ndarray:
    """Hudgins features with MAV and WL on a log scale (closer to Gaussian, as LDA assumes)."""
    h = hudgins_features(card.prepare(windows))
    ch = card.channels
    h[:, :ch] = np.log(h[:, :ch] + 1e-6)
    h[:, 3 * ch:] = np.log(h[:, 3 * ch:] + 1e-6)
    return h


#: Per-window features tried beside the card's head inputs ("spatial" is what the runtime's head input of that name computes).
EXTRAS = {
    "spatial": lambda card, w: spatial_features(_scaled(card, w)), "spatial_lag": spatial_lag_features,
    "spatial_band": spatial_band_features, "ar": ar_features, "corr": corr_features,
    "log_hudgins": log_hudgins_features,
}


def lda_extra(shrinkage: float, extras: tuple[str, ...], reps_table: dict | None = None) -> Callable:
    """LDA on the head inputs plus extra per-window features computed from the raw windows."""
    def fit(pd: PersonData, reps):
        card = pd.decoders[0].card
        cache = pd.__dict__.setdefault("extra", {})
        for e in extras:
            if e not in cache:
                cache[e] = {k: EXTRAS[e](card, w) for k, w in pd.raw.items()}

        def inputs(keys):
            return np.concatenate([np.hstack([pd.x[k]] + [cache[e][k] for e in extras]) for k in keys])
        keys = sorted(k for k in pd.x if k[1] in reps)
        y = np.concatenate([np.full(len(pd.x[k]), k[0]) for k in keys])
        s = shrinkage if reps_table is None else reps_table[min(len(reps), max(reps_table))]
        h = EmbeddingHead(tuple(str(c) for c in np.unique(y)), shrinkage=s).fit(inputs(keys), y)

        def predict(test_reps):
            keys = sorted(k for k in pd.x if k[1] in test_reps)
            return h.lda.predict((inputs(keys) - h.mean) / h.std)
        predict.by_reps = True
        return predict
    return fit


HEADS: dict[str, Callable] = {
    **{f"lda{s:g}": lda_head(s) for s in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)},
    **{f"members{s:g}": lda_members(s) for s in (0.2, 0.3)},
    **{f"rda{s:g}_{a:g}": rda_head(s, a) for s in (0.2,) for a in (0.5, 0.8, 0.9)},
    "lda_reps": lda_by_reps({1: 0.4, 2: 0.3, 3: 0.2}),
    **{f"ft{s:g}": fine_tuned_lda(s) for s in (0.2, 0.3)},
    "aug_roll": lda_augmented(0.2, shifts=(-1, 1)),
    "aug_gain": lda_augmented(0.2, shifts=(), gains=(0.8, 1.25)),
    **{f"spatial{s:g}": lda_extra(s, ("spatial",)) for s in (0.1, 0.2, 0.3, 0.4)},
    **{f"spatial_lag{s:g}": lda_extra(s, ("spatial_lag",)) for s in (0.2, 0.3)},
    **{f"spatial_band{s:g}": lda_extra(s, ("spatial_band",)) for s in (0.2, 0.3)},
    **{f"corr{s:g}": lda_extra(s, ("corr",)) for s in (0.2,)},
    **{f"ar{s:g}": lda_extra(s, ("ar",)) for s in (0.2,)},
    "log_hudgins0.2": lda_extra(0.2, ("log_hudgins",)),
    **{f"spatial_ar{s:g}": lda_extra(s, ("spatial", "ar")) for s in (0.2, 0.3)},
}


def load_people(cards: list[str], root: Path, people: list[str] | None = None, log=print,
                head_inputs: tuple[str, ...] | None = None, cal_step_ms: float | None = None,
                fine_tuning: FineTuning | None = None) -> list[PersonData]:
    """`head_inputs` and `fine_tuning` try other settings than the card's (the card's are what ships)."""
    loaded = [load_card(c) for c in cards]
    if head_inputs:
        loaded = [replace(c, head_inputs=tuple(head_inputs)) for c in loaded]
    if fine_tuning:
        loaded = [replace(c, fine_tune=fine_tuning) for c in loaded]
    decoders = [GestureDecoder(c) for c in loaded]
    people = people or cote_allard_people(root, "EvaluationDataset")
    out = []
    for p in people:
        out.append(PersonData(decoders, read_cote_allard_session(root, "EvaluationDataset", p, "training0"), cal_step_ms=cal_step_ms))
    log(f"  head inputs of {len(out)} people ({out[0].x[(0, 0)].shape[1]} per window)")
    return out


def score(data: list[PersonData], head: Callable) -> dict:
    """Per split: mean over people of the per-window accuracy (averaged over the split's sub-splits)."""
    res = {}
    for name, subs in SPLITS.items():
        per_person = []
        for pd in data:
            accs = []
            for cal, test in subs:
                predict = head(pd, cal)
                x, y, _ = pd.take(test)
                pred = predict(test) if getattr(predict, "by_reps", False) else predict(x)
                accs.append(float(np.mean(pred == y)))
            per_person.append(float(np.mean(accs)))
        res[name] = 100 * float(np.mean(per_person))
    res["mean"] = float(np.mean([res[k] for k in SPLITS]))
    return {k: round(v, 2) for k, v in res.items()}


def _fine_tuning(spec: str) -> FineTuning | None:
    if not spec:
        return None
    v = spec.split(",")
    return FineTuning(epochs=int(v[0]), learning_rate=float(v[1]), seed=int(v[2]) if len(v) > 2 else 0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", action="append", default=[], help="model card (repeat for an ensemble)")
    p.add_argument("--heads", default="lda0.2", help=f"comma list of {', '.join(HEADS)}")
    p.add_argument("--head-inputs", default="", help="override the card's head_inputs, e.g. embedding,hudgins,rich,spatial")
    p.add_argument("--cal-step-ms", type=float, default=0.0, help="cut calibration windows this densely (test windows stay at 50 ms)")
    p.add_argument("--fine-tune", default="", help="override the card's fine_tune: EPOCHS,LEARNING_RATE[,SEED] (for the ft heads)")
    p.add_argument("--data", default="")
    p.add_argument("--json", default="", help="append the results as one JSON line to this file")
    args = p.parse_args(argv)
    cards = args.model or [str(PROJECT / "models" / "myo8_200hz.card.json")]
    root = Path(args.data) if args.data else shared_data_dir()
    t0 = time.process_time()
    data = load_people(cards, root, head_inputs=tuple(args.head_inputs.split(",")) if args.head_inputs else None,
                       cal_step_ms=args.cal_step_ms or None, fine_tuning=_fine_tuning(args.fine_tune))
    for h in args.heads.split(","):
        r = score(data, HEADS[h])
        print(f"{'+'.join(Path(c).name for c in cards)} head {h}: w3 {r['w3']:.2f} r1 {r['r1']:.2f} r2 {r['r2']:.2f} "
              f"mean {r['mean']:.2f}  ({time.process_time() - t0:.0f} s CPU)", flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps({"cards": cards, "cal_step_ms": args.cal_step_ms or 50.0, "fine_tune": args.fine_tune, "head_inputs": list(data[0].decoders[0].card.head_inputs), "head": h, **r}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
