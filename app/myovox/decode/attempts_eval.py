"""`myovox evaluate --protocols attempts`: one decision per attempt through the live chain (issue 12).

A try is one cued movement from rest. It is calibrated and tested as the bedside does it: a rest capture
sets the detector's threshold, the first repetitions of each gesture are cut by that detector into the
attempt windows the app decides on (`GestureDecoder.calibrate`), and every later recording of the session
is run through the live chain (`GestureDecoder.attempts`: `detect_offline` with the session threshold,
the chain's attempt windows) and the attempt rule. Per cue one outcome: right, wrong, no action, no burst
(what the app did during the try: the first of its attempts that acted, or "no action" when none did; the
try's first burst alone is reported beside it as "myovox, first burst only"; acts after the first count as extra
activations). Acts on attempts that start in rest are false activations, per 10 minutes of rest.

Beside it, in the same run and on the same detected attempts, the classical peer a LibEMG user writes:
LDA (no shrinkage) on LS4 and on Hudgins features, trained on the same calibration windows, majority vote
over the attempt's most active `attempt_ms` (`movement_windows`, the stretch the head learns from), acting on
every non-rest vote once the attempt is over.
"""
from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.recordings import flexemg_sessions, myo_readings_sessions, read_flexemg, read_myo_readings
from ..events import REST_LABEL
from ..profiles import find_profile
from .api import CalibrationError, load_decoder
from .features import hudgins_features, ls4_features, prepare_windows, sliding_windows
from .lda import LinearDiscriminant

OUTCOMES = ("correct", "wrong", "no action", "no burst")
NO_ACTION, NO_BURST = "no action", "no burst"
RELEASE_S = 1.0  # a burst this soon after a cue's end is the release of that movement (reported apart)
#: The cue comes every 10 s: people anticipate it. A burst this soon before the cue is that cue's attempt
#: (the burst evaluation's own window, `myovox eval-bursts`).
EARLY_S = 1.0


@dataclass
class Cue:
    label: str
    start: int
    stop: int


def cues_of(rec) -> list[Cue]:
    lab = np.asarray(rec.labels)
    cuts = np.flatnonzero(np.diff(lab) != 0) + 1
    out = []
    for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), len(lab)]):
        if lab[a] > 0 and (a == 0 or lab[a - 1] <= 0):  # from rest only
            out.append(Cue(rec.label_names[int(lab[a])], int(a), int(b)))
    return out


class PeerLda:
    """LDA on one feature set over the calibration windows; per attempt, the majority vote of its windows."""

    def __init__(self, sos, features):
        self.sos, self.features = sos, features
        self.lda = LinearDiscriminant(0.0)
        self.labels: tuple[str, ...] = ()

    def fit(self, windows_by_label: dict[str, np.ndarray]) -> "PeerLda":
        self.labels = tuple(windows_by_label)
        if self.features is ls4_features and REST_LABEL in windows_by_label:
            # Willison amplitude counts steps above a threshold in the signal's own unit: 3 x rest's median step
            rest = prepare_windows(windows_by_label[REST_LABEL], self.sos)
            thr = 3 * np.median(np.abs(np.diff(rest, axis=1)), axis=(0, 1))
            self.features = lambda w, thr=thr: ls4_features(w, thr)
        x = np.concatenate([self.features(prepare_windows(w, self.sos)) for w in windows_by_label.values()])
        y = np.concatenate([np.full(len(w), i) for i, w in enumerate(windows_by_label.values())])
        self.lda.fit(x, y)
        return self

    def vote(self, windows: np.ndarray) -> str:
        pred = self.lda.predict(self.features(prepare_windows(windows, self.sos)))
        return self.labels[Counter(pred.tolist()).most_common(1)[0][0]]


@dataclass
class Tally:
    outcomes: Counter = field(default_factory=Counter)
    by_gesture: dict = field(default_factory=lambda: defaultdict(Counter))
    confusion: dict = field(default_factory=lambda: defaultdict(Counter))  # truth -> decided label / no action / no burst
    latencies: list = field(default_factory=list)
    watched: list = field(default_factory=list)  # per latency: decided after a rest-like or unsure start (decode.attempt)
    extra_acts: int = 0
    rest_acts: int = 0
    release_acts: int = 0
    rest_s: float = 0.0

    def add(self, truth: str, decided: str | None, attempted: bool, latency: float | None = None,
            watched: bool = False) -> None:
        if not attempted:
            out, col = NO_BURST, NO_BURST
        elif decided is None or decided == REST_LABEL:
            out, col = NO_ACTION, NO_ACTION
        else:
            out, col = ("correct" if decided == truth else "wrong"), decided
        self.outcomes[out] += 1
        self.by_gesture[truth][out] += 1
        self.confusion[truth][col] += 1
        if latency is not None and attempted:
            self.latencies.append(latency)
            self.watched.append(bool(watched))

    def result(self) -> dict:
        n = max(sum(self.outcomes.values()), 1)
        r = {k: self.outcomes[k] / n for k in OUTCOMES}
        r["attempts"] = sum(self.outcomes.values())
        r["false_per_10min"] = 600.0 * self.rest_acts / self.rest_s if self.rest_s else None
        r["rest_acts"] = self.rest_acts
        r["release_acts"] = self.release_acts
        r["extra_acts"] = self.extra_acts
        r["rest_minutes"] = self.rest_s / 60.0
        if self.latencies:
            r["latency_median_ms"] = 1000 * float(np.median(self.latencies))
            r["latency_p95_ms"] = 1000 * float(np.percentile(self.latencies, 95))
            prompt = [v for v, w in zip(self.latencies, self.watched) if not w]
            r["watched_share"] = 1.0 - len(prompt) / len(self.latencies)
            if prompt:  # the decisions made within the attempt's first span (not watched longer)
                r["prompt_latency_median_ms"] = 1000 * float(np.median(prompt))
                r["prompt_latency_p95_ms"] = 1000 * float(np.percentile(prompt, 95))
        r["by_gesture"] = {g: {k: c[k] / max(sum(c.values()), 1) for k in OUTCOMES} for g, c in self.by_gesture.items()}
        return r


FIRST_ONLY = "myovox, first burst only"
#: What the patient gets with the set-up the wizard recommends: only the gestures calibration calls reliable drive the
#: speller (`bedside.calibration.recommend`), a decision for another gesture does nothing, and only their tries count.
RELIABLE_ONLY = "myovox, reliable gestures only"


def _methods():
    return {"myovox": Tally(), FIRST_ONLY: Tally(), RELIABLE_ONLY: Tally(), "lda ls4 vote": Tally(),
            "lda hudgins vote": Tally()}


class AttemptBench:
    """One decoder and its peers, calibrated on a session's first cues and run over recordings."""

    def __init__(self, decoder, rate: float):
        self.dec = decoder
        self.rate = rate
        self.profile = find_profile(decoder.card.profile)
        self.peers: dict[str, PeerLda] = {}

    def calibrate(self, examples: dict, rest: np.ndarray, patient: str):
        cal = self.dec.calibrate(examples, self.rate, patient=patient, rest=rest)
        self.fit_peers(examples, cal)
        return cal

    def fit_peers(self, examples: dict, cal) -> None:
        """The peers learn from the same windows the decoder did: each repetition's attempt, rest's windows."""
        thr = cal.detector_threshold
        by_label: dict[str, list[np.ndarray]] = defaultdict(list)
        for label, reps in examples.items():
            for rep in reps:
                if label == REST_LABEL:
                    by_label[label].append(self.dec.windows(rep, self.rate))
                else:
                    att = self.dec.cued_attempt(rep, self.rate, thr)
                    if att is not None:
                        by_label[label].append(self.dec.movement(att))
        windows = {k: np.concatenate(v) for k, v in by_label.items() if v}
        sos = self.dec.card.sos()
        self.peers = {"lda ls4 vote": PeerLda(sos, ls4_features).fit(windows),
                      "lda hudgins vote": PeerLda(sos, hudgins_features).fit(windows)}

    def run_file(self, rec, tallies: dict, skip: set[int] = frozenset(), rest_file: bool = False, rest_from: int = 0) -> None:
        """Decide every attempt of one recording and judge it against the file's cues. Each file is replayed
        as a stream of its own, so its first `warmup_ms` (the filters settling, which a running stream has long
        done) counts neither as rest nor as an attempt."""
        rest_from = max(rest_from, self.profile.samples(self.profile.detector.warmup_ms))
        attempts = self.dec.attempts(rec.signal, self.rate)
        hold = self.profile.samples(self.profile.attempt_hold_ms)
        reliable = set(self.dec.calibration.reliable)
        decided = []
        for a in attempts:
            d = self.dec.decide_attempt(a)
            row = {"myovox": (d.label if d.is_action else None, d.latency_s, d.watched_longer)}
            row[FIRST_ONLY] = row["myovox"]
            row[RELIABLE_ONLY] = (d.label if d.is_action and d.label in reliable else None, d.latency_s,
                                  d.watched_longer)
            for name, peer in self.peers.items():
                v = peer.vote(self.dec.movement(a))  # known once the attempt is over
                row[name] = (None if v == REST_LABEL else v, a.window_times[-1] - a.burst.onset_time, False)
            # an attempt that outlasted the hold was still going `hold` after its onset
            lasted = a.burst.onset_index + (hold if a.reason == "max length" else 0)
            decided.append((a.burst.onset_index, row, lasted))
        cues = [] if rest_file else cues_of(rec)
        early = int(EARLY_S * self.rate)
        # an attempt is the cue's when it starts in the cue or up to EARLY_S before it, or when it started earlier
        # still and lasted into the cue (the movement begun in anticipation: the label lags the muscle)
        spans = [(max(0, c.start - early), c.start, c.stop) for c in cues]

        def belongs(on: int, lasted: int, span) -> bool:
            early_start, start, stop = span
            return early_start <= on < stop or (on < early_start and lasted >= start and on >= start - hold)
        claimed = set()
        for ci, cue in enumerate(cues):
            if ci in skip:
                claimed |= {i for i, (on, _, lasted) in enumerate(decided) if belongs(on, lasted, spans[ci])}
                continue
            inside = [i for i, (on, _, lasted) in enumerate(decided) if belongs(on, lasted, spans[ci])]
            claimed |= set(inside)
            for name, t in tallies.items():
                if name == RELIABLE_ONLY and cue.label not in reliable:
                    continue  # the speller does not use this gesture: no try of it
                if inside:
                    tried = inside[:1] if name == FIRST_ONLY else inside
                    acted = [i for i in tried if decided[i][1][name][0] is not None]
                    first = acted[0] if acted else tried[0]
                    label, lat, watched = decided[first][1][name]
                    t.add(cue.label, label, True, lat, watched)
                    t.extra_acts += max(0, sum(decided[i][1][name][0] is not None for i in inside) - 1)
                else:
                    t.add(cue.label, None, False)
        # rest: every act on an attempt that started outside the cues
        ends = [c.stop for c in cues]
        rest_samples = len(rec.signal) - sum(stop - early_start for early_start, _, stop in spans) - rest_from
        for name, t in tallies.items():
            t.rest_s += rest_samples / self.rate
            for i, (on, row, _) in enumerate(decided):
                if i in claimed or on < rest_from or row[name][0] is None:
                    continue
                if any(0 <= on - e < RELEASE_S * self.rate for e in ends):
                    t.release_acts += 1
                t.rest_acts += 1


def _readings_examples(files_recs, n_first: int, rate: float, lead_s: float = 1.5):
    """The first `n_first` cues of each gesture file, each a raw stretch from `lead_s` of rest before it to its end."""
    ex: dict[str, list[np.ndarray]] = {}
    lead = int(lead_s * rate)
    for rec in files_recs:
        for cue in cues_of(rec)[:n_first]:
            ex.setdefault(cue.label, []).append(rec.signal[max(0, cue.start - lead) : cue.stop])
    return ex


def _rest_capture(rest_rec, rate: float, seconds: float = 3.0) -> np.ndarray:
    return rest_rec.signal[: int(seconds * rate)]


def _rest_pieces(rest: np.ndarray, rate: float) -> list[np.ndarray]:
    n = int(rate)  # the wizard's rest examples: the capture in one-second pieces
    return [rest[i : i + n] for i in range(0, len(rest) - n + 1, n)]


def readings_attempts(root, card_path: str, log, n_cal: int = 3) -> dict:
    dec = load_decoder(card_path)
    rate = dec.card.rate_hz
    sessions = myo_readings_sessions(root)
    people = sorted({k.split("-")[0] for k in sessions})
    out: dict = {}
    pooled: dict = defaultdict(_methods)
    for person in people:
        t0 = time.process_time()
        recs = {s: [read_myo_readings(f) for f in sessions[f"{person}-{s}"]] for s in ("1", "2", "3") if f"{person}-{s}" in sessions}
        res = {}
        bench = AttemptBench(dec, rate)
        cals = {}
        for s, files in recs.items():  # same session: the first n_cal cues of each gesture, tested on the rest
            rest = _rest_capture(files[0], rate)
            ex = _readings_examples(files[1:], n_cal, rate)
            ex[REST_LABEL] = _rest_pieces(rest, rate)
            try:
                cals[s] = (bench.calibrate(ex, rest, person), ex)
            except CalibrationError as exc:
                res[f"same session s{s}"] = {"error": str(exc)}
                continue
            tallies = _methods()
            for rec in files[1:]:
                bench.run_file(rec, tallies, skip=set(range(n_cal)))
            bench.run_file(files[0], tallies, rest_file=True, rest_from=len(rest))
            res[f"same session s{s}"] = {k: t.result() for k, t in tallies.items()}
            for k, t in tallies.items():
                _merge(pooled[f"same session s{s}"][k], t)
        if "1" in cals:
            cal1, ex1 = cals["1"]
            for s in ("2", "3"):
                if s not in recs:
                    continue
                files = recs[s]
                rest = _rest_capture(files[0], rate)
                for variant in ("previous", "previous + 1 new attempt"):
                    dec.use(cal1)
                    bench.fit_peers(ex1, cal1)
                    if variant == "previous":
                        dec.use(dec.with_threshold_from(rest, rate))  # today's rest capture, yesterday's head
                    else:
                        new = _readings_examples(files[1:], 1, rate)
                        try:
                            cal = dec.returning(new, rate, rest=rest, patient=person)
                        except CalibrationError as exc:
                            res[f"s1 -> s{s} {variant}"] = {"error": str(exc)}
                            continue
                        peer_ex = {k: list(ex1.get(k, [])) + new.get(k, []) for k in ex1}
                        bench.fit_peers(peer_ex, cal)
                    tallies = _methods()
                    for rec in files[1:]:
                        bench.run_file(rec, tallies, skip={0})  # cue 0 is today's quick check in both variants
                    bench.run_file(files[0], tallies, rest_file=True, rest_from=len(rest))
                    res[f"s1 -> s{s} {variant}"] = {k: t.result() for k, t in tallies.items()}
                    res[f"s1 -> s{s} {variant}"]["myovox"]["rotation"] = dec.calibration.rotation
                    for k, t in tallies.items():
                        _merge(pooled[f"s1 -> s{s} {variant}"][k], t)
        out[person] = res
        log(f"  {person}: {time.process_time() - t0:.1f} s CPU")
    return {"per_person": out, "pooled": {p: {k: t.result() for k, t in m.items()} for p, m in pooled.items()},
            "confusion": {p: {k: _confusion(t) for k, t in m.items()} for p, m in pooled.items()}}


#: The held-out set's shape: each repetition a 2-s file with the movement inside, started from rest.
CLIP_S, CLIP_LEAD_S = 2.0, 0.3


def readings_clips(root, card_path: str, log, n_cal: int = 3) -> dict:
    """myo_readings cut into the held-out set's shape: every cue becomes a 2-s clip (0.3 s before the cue, then the
    movement, held past the clip's end), each replayed as a stream of its own with the session's threshold.
    Calibrated on the first `n_cal` clips of each gesture (raw clips + the rest capture, as `docs/api.md` shows),
    every later clip of the session is one try. "myovox" is what the app did during the clip (the first of its
    attempts that acted); "first burst only" decides the clip's first onset alone. The rest file's later 2-s clips
    are tries that must not act (rest clips acted on, beside)."""
    dec = load_decoder(card_path)
    rate = dec.card.rate_hz
    sessions = myo_readings_sessions(root)
    clip, lead = int(CLIP_S * rate), int(CLIP_LEAD_S * rate)
    out: dict = {}
    for key in sorted(sessions):
        person, s = key.split("-")
        files = [read_myo_readings(f) for f in sessions[key]]
        rest = _rest_capture(files[0], rate)
        clips: dict[str, list[np.ndarray]] = {}
        for rec in files[1:]:
            for cue in cues_of(rec):
                a = max(0, cue.start - lead)
                if a + clip <= len(rec.signal):
                    clips.setdefault(cue.label, []).append(rec.signal[a : a + clip])
        ex = {g: c[:n_cal] for g, c in clips.items()}
        ex[REST_LABEL] = _rest_pieces(rest, rate)
        bench = AttemptBench(dec, rate)
        try:
            bench.calibrate(ex, rest, person)
        except CalibrationError as exc:
            out.setdefault(f"same session s{s}", {})[person] = {"error": str(exc)}
            continue
        tallies = {"myovox": Tally(), FIRST_ONLY: Tally(), "lda ls4 vote": Tally(), "lda hudgins vote": Tally()}
        for g, cs in clips.items():
            for c in cs[n_cal:]:
                atts = dec.attempts(c, rate)
                if not atts:
                    for t in tallies.values():
                        t.add(g, None, False)
                    continue
                ds = [dec.decide_attempt(a) for a in atts]
                acted = [d for d in ds if d.is_action]
                d = acted[0] if acted else ds[0]
                tallies["myovox"].add(g, d.label if d.is_action else None, True, d.latency_s, d.watched_longer)
                tallies[FIRST_ONLY].add(g, ds[0].label if ds[0].is_action else None, True, ds[0].latency_s,
                                        ds[0].watched_longer)
                strongest = max(atts, key=lambda a: a.burst.peak)
                for name, peer in bench.peers.items():
                    v = peer.vote(dec.movement(strongest))
                    tallies[name].add(g, None if v == REST_LABEL else v, True)
        quiet = files[0].signal[len(rest) + int(rate):]  # the rest file after the capture, a second's margin
        for a in range(0, len(quiet) - clip + 1, clip):
            atts = dec.attempts(quiet[a : a + clip], rate)
            acted = any(dec.decide_attempt(x).is_action for x in atts)
            votes = [bench.peers[n].vote(dec.movement(max(atts, key=lambda x: x.burst.peak))) if atts else REST_LABEL
                     for n in ("lda ls4 vote", "lda hudgins vote")]
            for name, t in tallies.items():
                t.rest_s += CLIP_S
                if (acted if name in ("myovox", FIRST_ONLY) else votes[name == "lda hudgins vote"] != REST_LABEL):
                    t.rest_acts += 1
        out.setdefault(f"same session s{s}", {})[person] = {k: t.result() for k, t in tallies.items()}
    log(f"  clips: {sum(len(v) for v in out.values())} person-sessions")
    return out


def flexemg_attempts(root, card_path: str, log, n_cal: int = 3) -> dict:
    """flexemg: each trial file holds one movement from rest (its first gesture; the others follow without rest).
    Calibrate on Session 1's first cues per gesture (at most n_cal), test every first cue of Session 2."""
    if not card_path or not Path(card_path).is_file():
        return {"error": f"no grid model card at {card_path}"}
    dec = load_decoder(card_path)
    rate = dec.card.rate_hz
    sessions = flexemg_sessions(root)
    out, pooled = {}, _methods()
    for person in sorted({k.split("-")[0] for k in sessions}):
        train = [read_flexemg(f) for f in sessions[f"{person}-Session1Train"]]
        test = [read_flexemg(f) for f in sessions[f"{person}-Session2Test"]]
        bench = AttemptBench(dec, rate)
        rest = train[0].signal[: int(3 * rate)]
        ex: dict[str, list[np.ndarray]] = {}
        for rec in train:
            cue = cues_of(rec)[0]
            if len(ex.get(cue.label, [])) < n_cal:
                ex.setdefault(cue.label, []).append(rec.signal[max(0, cue.start - int(1.5 * rate)) : cue.stop])
        ex[REST_LABEL] = _rest_pieces(rest, rate)
        try:
            bench.calibrate(ex, rest, person)
        except CalibrationError as exc:
            out[person] = {"error": str(exc)}
            continue
        tallies = _methods()
        for rec in test:
            first = cues_of(rec)[:1]
            cut = first[0].stop if first else len(rec.signal)
            # only the movement from rest is an attempt; what follows without rest is not tried here
            sub = type(rec)(**{**rec.__dict__, "signal": rec.signal[:cut], "labels": rec.labels[:cut]})
            bench.run_file(sub, tallies)
        out[person] = {k: t.result() for k, t in tallies.items()}
        out[person]["calibration attempts"] = {k: len(v) for k, v in ex.items()}
        for k, t in tallies.items():
            _merge(pooled[k], t)
    log(f"  flexemg attempts: {len(out)} people")
    return {"per_person": out, "pooled": {k: t.result() for k, t in pooled.items()}}


def _merge(into: Tally, t: Tally) -> None:
    into.outcomes.update(t.outcomes)
    for g, c in t.by_gesture.items():
        into.by_gesture[g].update(c)
    for g, c in t.confusion.items():
        into.confusion[g].update(c)
    into.latencies += t.latencies
    into.watched += t.watched
    for k in ("extra_acts", "rest_acts", "release_acts", "rest_s"):
        setattr(into, k, getattr(into, k) + getattr(t, k))


def _confusion(t: Tally) -> dict:
    labels = sorted(t.confusion)
    cols = [*labels, NO_ACTION, NO_BURST]
    return {"labels": labels, "columns": cols, "matrix": [[t.confusion[g][c] for c in cols] for g in labels]}


def simulator_confusion(confs: list[dict]) -> dict:
    """Pooled per-attempt confusions in the form `myovox simulate --confusion` reads: rows = true gesture,
    columns = decided gesture, last column "no action" (a missed burst does nothing either, so it counts there)."""
    labels = sorted({g for c in confs for g in c["labels"]})
    m = np.zeros((len(labels), len(labels) + 1), dtype=int)
    for c in confs:
        for g, row in zip(c["labels"], c["matrix"]):
            for col, v in zip(c["columns"], row):
                j = labels.index(col) if col in labels else len(labels)
                m[labels.index(g), j] += v
    return {"source": "myovox evaluate --protocols attempts: myo_readings, same session (3 calibration attempts per "
                      "gesture), one decision per attempt through the live chain; no burst counted as no action",
            "labels": labels, "columns": [*labels, NO_ACTION], "matrix": m.tolist()}


def per_person_means(per_person: dict) -> dict:
    """{protocol: {method: mean and std over people of each outcome}}."""
    acc: dict = defaultdict(lambda: defaultdict(list))
    for res in per_person.values():
        for proto, methods in res.items():
            if not isinstance(methods, dict) or "myovox" not in methods:
                continue
            for m, r in methods.items():
                if isinstance(r, dict) and "correct" in r and r.get("attempts", 1) > 0:
                    acc[proto][m].append(r)
    out = {}
    for proto, methods in acc.items():
        out[proto] = {}
        for m, rs in methods.items():
            row = {k: (float(np.mean([r[k] for r in rs])), float(np.std([r[k] for r in rs]))) for k in OUTCOMES}
            row["people"] = len(rs)
            out[proto][m] = row
    return out


def markdown(report: dict) -> str:
    lines = ["# Per-attempt decisions through the live chain", "",
             "One cued movement from rest = one attempt = one outcome. Mean ± std over people; pooled rows for "
             "false activations and latency.", ""]
    r = report.get("myo_readings")
    if r:
        means = per_person_means(r["per_person"])
        for proto in sorted(means):
            lines += [f"## myo_readings: {proto}", "",
                      "| method | correct | wrong | no action | no burst | false acts / 10 min rest (release) | latency median / p95 |",
                      "|---|---|---|---|---|---|---|"]
            for m, row in means[proto].items():
                pooled = r["pooled"].get(proto, {}).get(m, {})
                fa = pooled.get("false_per_10min")
                lat = (f"{pooled['latency_median_ms']:.0f} / {pooled['latency_p95_ms']:.0f} ms"
                       if "latency_median_ms" in pooled else "")
                if pooled.get("watched_share") and "prompt_latency_median_ms" in pooled:
                    lat += (f" (first span: {pooled['prompt_latency_median_ms']:.0f} / {pooled['prompt_latency_p95_ms']:.0f}; "
                            f"{100 * pooled['watched_share']:.0f} % watched past a rest-like or unsure start)")
                fa_text = f"{fa:.2f} ({pooled.get('release_acts', 0)} release)" if fa is not None else ""
                name = f"{m} ({pooled.get('attempts', 0)} tries, {row['people']} people)" if m == RELIABLE_ONLY else m
                lines.append(f"| {name} | " + " | ".join(f"{100 * row[k][0]:.1f} ± {100 * row[k][1]:.1f} %" for k in OUTCOMES)
                             + f" | {fa_text} | {lat} |")
            byg = r["pooled"].get(proto, {}).get("myovox", {}).get("by_gesture", {})
            if byg:
                lines.append("")
                lines.append("myovox per gesture (pooled): " + "; ".join(
                    f"{g} {100 * v['correct']:.0f} % correct" for g, v in sorted(byg.items())))
            lines.append("")
    c = report.get("clips")
    for proto in sorted(c or {}):
        people = {k: v for k, v in c[proto].items() if "myovox" in v}
        lines += [f"## myo_readings as 2-s clips (the held-out set's shape): {proto}", "",
                  f"Calibrated on 3 clips per gesture + the rest capture; every later clip one try ({len(people)} people; "
                  f"{', '.join(k + ': ' + v['error'] for k, v in c[proto].items() if 'error' in v) or 'none refused'}). "
                  "Rest clips acted on: 2-s clips of the rest file after the capture.", "",
                  "| method | correct | wrong | no action | no burst | rest clips acted on |", "|---|---|---|---|---|---|"]
        for m in ("myovox", FIRST_ONLY, "lda ls4 vote", "lda hudgins vote"):
            rs = [v[m] for v in people.values()]
            if not rs:
                continue
            acts = sum(r["rest_acts"] for r in rs)
            clips = sum(r["rest_minutes"] * 60 / CLIP_S for r in rs)
            lines.append(f"| {m} | " + " | ".join(f"{100 * np.mean([r[k] for r in rs]):.1f} ± {100 * np.std([r[k] for r in rs]):.1f} %"
                                                 for k in OUTCOMES) + f" | {acts} of {clips:.0f} |")
        lines.append("")
    f = report.get("flexemg")
    if f and "pooled" in f:
        lines += ["## flexemg 16 ch (4 x 4 block): Session 1 -> Session 2, first movement of each trial", "",
                  "| method | correct | wrong | no action | no burst | attempts |", "|---|---|---|---|---|---|"]
        for m, row in f["pooled"].items():
            lines.append(f"| {m} | " + " | ".join(f"{100 * row[k]:.1f} %" for k in OUTCOMES) + f" | {row['attempts']} |")
        lines.append("")
    return "\n".join(lines)


def run(root, args, log=print) -> dict:
    report = {"myo_readings": readings_attempts(root, args.model, log)}
    report["clips"] = readings_clips(root, args.model, log)
    report["flexemg"] = flexemg_attempts(root, args.grid_model, log)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "attempts.json").write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    (out / "attempts.md").write_text(markdown(report), encoding="utf-8")
    confs = [c["myovox"] for p, c in report["myo_readings"]["confusion"].items() if p.startswith("same session")]
    if confs:
        (out / "attempt_confusion.json").write_text(json.dumps(simulator_confusion(confs), indent=1), encoding="utf-8")
    log(markdown(report))
    return report
