"""Pre-training aimed at the bedside use: a few repetitions of one person must be enough for a head.

Two additions to the plain cross-entropy pre-training of `train.fit_encoder`:

- **Augmentation that imitates a new session** on the prepared (band-passed) windows, before the
  hand-crafted features are computed, so window and features always agree: the band turned by one
  electrode (a ring roll of +-1), the whole band's gain and each electrode's contact changed
  (log-normal amplitude factors), and a little sensor noise.
- **Prototypical episodes** over the pre-training people: every batch holds a few people, each with
  every gesture in every repetition; within one person the windows of one repetition are the
  support (class means of the embedding) and the other repetitions are classified by their distance
  to those means. That is the calibration at the bedside in miniature (fit on one repetition, be
  right on the next), so the embedding learns to be right in that regime, not only on pooled classes.

Torch is imported inside the functions: this module is part of the optional `[train]` extra.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..decode.features import rich_features


@dataclass(frozen=True)
class Augment:
    rotate_p: float = 0.3  # probability of a ring roll by one electrode (either way, equally likely)
    gain_sigma: float = 0.25  # log-normal sigma of the whole window's gain
    contact_sigma: float = 0.15  # log-normal sigma per electrode
    noise: float = 0.02  # white noise, in units of each channel's normalisation scale

    def apply(self, prepared: np.ndarray, scale: np.ndarray, ring: bool, rng: np.random.Generator) -> np.ndarray:
        """Prepared windows (n x samples x channels) -> augmented copies (float64)."""
        n, t, ch = prepared.shape
        x = np.asarray(prepared, dtype=np.float64)
        if ring and self.rotate_p > 0:
            u = rng.random(n)
            shift = np.where(u < self.rotate_p / 2, -1, np.where(u < self.rotate_p, 1, 0))
            idx = (np.arange(ch)[None, :] + shift[:, None]) % ch
            x = np.take_along_axis(x, np.broadcast_to(idx[:, None, :], x.shape), axis=2)
        gain = np.exp(self.gain_sigma * rng.standard_normal((n, 1, 1)) + self.contact_sigma * rng.standard_normal((n, 1, ch)))
        x = x * gain
        if self.noise > 0:
            x = x + self.noise * scale[None, None, :] * rng.standard_normal(x.shape)
        return x

    def describe(self) -> str:
        return (f"on prepared windows before the features: ring roll +-1 electrode with p={self.rotate_p}, "
                f"log-normal gain sigma {self.gain_sigma} per window and {self.contact_sigma} per electrode, "
                f"white noise {self.noise} x channel scale")


def episode_batches(person: np.ndarray, labels: np.ndarray, rep: np.ndarray, people_per_batch: int, per_cell: int,
                    rng: np.random.Generator):
    """Index batches for one epoch: each batch = `people_per_batch` people x every (gesture, repetition) cell
    x `per_cell` windows (drawn with replacement when a cell is short)."""
    cells: dict = {}
    for i, key in enumerate(zip(person, labels, rep)):
        cells.setdefault(key, []).append(i)
    by_person: dict = {}
    for (p, c, r), idx in cells.items():
        by_person.setdefault(p, []).append(np.asarray(idx))
    people = sorted(by_person)
    per_batch = people_per_batch * np.mean([len(v) for v in by_person.values()]) * per_cell
    n_batches = int(np.ceil(len(labels) / per_batch))
    for _ in range(n_batches):
        chosen = rng.choice(len(people), size=min(people_per_batch, len(people)), replace=False)
        out = []
        for pi in chosen:
            for idx in by_person[people[pi]]:
                out.append(rng.choice(idx, size=per_cell, replace=len(idx) < per_cell))
        yield np.concatenate(out)


def prototype_loss(torch, emb, labels, person, rep, log_scale, rng: np.random.Generator):
    """Mean over the batch's people: one random repetition is the support, the rest the queries;
    logits = -scale x squared distance to the support's class means (per-feature standardised in the person)."""
    losses = []
    for p in np.unique(person):
        m = person == p
        e = emb[torch.from_numpy(np.flatnonzero(m))]
        y, r = labels[m], rep[m]
        e = (e - e.mean(0, keepdim=True)) / (e.std(0, keepdim=True) + 1e-3)
        k = rng.choice(np.unique(r))
        sup, qry = r == k, r != k
        classes = np.unique(y[sup])
        if classes.size < 2 or not qry.any():
            continue
        keep = np.isin(y, classes) & qry
        protos = torch.stack([e[torch.from_numpy(np.flatnonzero(sup & (y == c)))].mean(0) for c in classes])
        q = e[torch.from_numpy(np.flatnonzero(keep))]
        d = ((q[:, None, :] - protos[None]) ** 2).mean(-1)
        target = torch.from_numpy(np.searchsorted(classes, y[keep]))
        losses.append(torch.nn.functional.cross_entropy(-torch.exp(log_scale) * d, target))
    return torch.stack(losses).mean() if losses else emb.sum() * 0.0


@dataclass(frozen=True)
class CrossSessionSet:
    """Extra pre-training people with several sessions (e.g. myo_readings' onset-locked windows), used in
    cross-session prototypical episodes (and, with `ce_weight`, a cross-entropy through a head of their own):
    their labels never reach the encoder's exported class scores."""

    prepared: np.ndarray  # prepared windows (n x samples x channels)
    labels: np.ndarray  # the set's own class indices
    person: np.ndarray
    session: np.ndarray
    weight: float = 1.0
    people_per_batch: int = 1
    ce_weight: float = 0.0  # > 0: also a cross-entropy over the set's own classes, through a separate head (not exported)

    def episodes(self, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
        """One batch's episodes: per chosen person two different sessions -> (support indices, query indices)."""
        people = np.unique(self.person)
        out = []
        for p in rng.choice(people, size=min(self.people_per_batch, len(people)), replace=False):
            sessions = np.unique(self.session[self.person == p])
            if len(sessions) < 2:
                continue
            s_sup, s_qry = rng.choice(sessions, size=2, replace=False)
            out.append((np.flatnonzero((self.person == p) & (self.session == s_sup)),
                        np.flatnonzero((self.person == p) & (self.session == s_qry))))
        return out


def cross_session_loss(torch, emb_sup, y_sup, emb_qry, y_qry, log_scale):
    """Prototypes from one session's windows, queries from another session of the same person; each session's
    embedding standardised on its own (as a head standardises on its own calibration data)."""
    classes = np.intersect1d(np.unique(y_sup), np.unique(y_qry))
    if classes.size < 2:
        return None
    es = (emb_sup - emb_sup.mean(0, keepdim=True)) / (emb_sup.std(0, keepdim=True) + 1e-3)
    eq = (emb_qry - emb_sup.mean(0, keepdim=True)) / (emb_sup.std(0, keepdim=True) + 1e-3)
    protos = torch.stack([es[torch.from_numpy(np.flatnonzero(y_sup == c))].mean(0) for c in classes])
    keep = np.isin(y_qry, classes)
    q = eq[torch.from_numpy(np.flatnonzero(keep))]
    d = ((q[:, None, :] - protos[None]) ** 2).mean(-1)
    target = torch.from_numpy(np.searchsorted(classes, y_qry[keep]))
    return torch.nn.functional.cross_entropy(-torch.exp(log_scale) * d, target)


def fit_encoder_fewshot(arch: str, prepared: np.ndarray, norm, labels: np.ndarray, person: np.ndarray, rep: np.ndarray,
                        n_classes: int, epochs: int, seed: int, augment: Augment | None, proto_weight: float,
                        ring: bool = True, width: int = 32, embed: int = 64, people_per_batch: int = 4, per_cell: int = 3,
                        cross: CrossSessionSet | None = None, log=print):
    """Cross-entropy over the pooled classes + `proto_weight` x prototypical episodes, on augmented windows;
    with `cross`, + `cross.weight` x cross-session episodes of its people (support one session, queries another)."""
    import torch

    from .models import ARCHITECTURES

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    f0 = rich_features(prepared[:2])
    model = ARCHITECTURES[arch](prepared.shape[2], f0.shape[1], n_classes, width=width, embed=embed)
    log_scale = torch.nn.Parameter(torch.tensor(0.0))
    params = list(model.parameters()) + [log_scale]
    aux = None
    if cross is not None and cross.ce_weight > 0:  # the extra set's own classes: a head of their own, dropped after training
        aux = torch.nn.Sequential(torch.nn.GELU(), torch.nn.Linear(embed, int(cross.labels.max()) + 1))
        params += list(aux.parameters())
    opt = torch.optim.AdamW(params, lr=3e-3, weight_decay=1e-3)
    batches_per_epoch = sum(1 for _ in episode_batches(person, labels, rep, people_per_batch, per_cell, np.random.default_rng(0)))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * batches_per_epoch)
    ce = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    for ep in range(epochs):
        model.train()
        t0, tot_ce, tot_pr, tot_cs, n_seen, correct = time.process_time(), 0.0, 0.0, 0.0, 0, 0
        for idx in episode_batches(person, labels, rep, people_per_batch, per_cell, rng):
            x = prepared[idx]
            eps = cross.episodes(rng) if cross is not None else []
            if eps:  # one forward pass for both sets, so the batch norm sees them together
                x = np.concatenate([x] + [cross.prepared[i] for pair in eps for i in pair])
            if augment is not None:
                x = augment.apply(x, norm.window_scale, ring, rng)
            w, f = norm.apply(x, rich_features(x))
            y = torch.from_numpy(labels[idx])
            emb_all, scores_all = model(torch.from_numpy(w), torch.from_numpy(f))
            emb, scores = emb_all[: len(idx)], scores_all[: len(idx)]
            loss_ce = ce(scores, y)
            loss = loss_ce
            if proto_weight > 0:
                loss_pr = prototype_loss(torch, emb, labels[idx], person[idx], rep[idx], log_scale, rng)
                loss = loss + proto_weight * loss_pr
                tot_pr += float(loss_pr.detach()) * len(idx)
            start, cs = len(idx), []
            for sup, qry in eps:
                e_s, e_q = emb_all[start : start + len(sup)], emb_all[start + len(sup) : start + len(sup) + len(qry)]
                start += len(sup) + len(qry)
                li = cross_session_loss(torch, e_s, cross.labels[sup], e_q, cross.labels[qry], log_scale)
                if li is not None:
                    cs.append(li)
            if aux is not None and eps:
                sel = np.concatenate([i for pair in eps for i in pair])
                loss = loss + cross.ce_weight * ce(aux(emb_all[len(idx):]), torch.from_numpy(cross.labels[sel]))
            if cs:
                loss_cs = torch.stack(cs).mean()
                loss = loss + cross.weight * loss_cs
                tot_cs += float(loss_cs.detach()) * len(idx)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot_ce += float(loss_ce.detach()) * len(idx)
            n_seen += len(idx)
            correct += int((scores.argmax(1) == y).sum())
        log(f"  {arch} epoch {ep + 1}/{epochs}: ce {tot_ce / n_seen:.3f}, proto {tot_pr / n_seen:.3f}, "
            f"cross-session {tot_cs / n_seen:.3f}, train acc {correct / n_seen:.3f}, {time.process_time() - t0:.0f} s CPU", flush=True)
    model.eval()
    return model
