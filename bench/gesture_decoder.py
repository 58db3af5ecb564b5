"""Gesture decoder: latency per window (encoder + head) against the LDA baseline, model size, calibration time.

Run: `myovox bench gesture_decoder [-- --card models/myo8_200hz.card.json --windows 2000]`.
One thread (onnxruntime intra/inter-op 1, OMP_NUM_THREADS=1). Timings are perf_counter per call;
the machine is shared, so read the medians, and the p95 as an upper bound.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from myovox.data.recordings import read_cote_allard_session, shared_data_dir  # noqa: E402
from myovox.decode import load_decoder  # noqa: E402
from myovox.decode.baseline import HudginsLda  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]


def stats(times_s: list[float]) -> str:
    a = np.asarray(times_s) * 1000.0
    return f"median {np.median(a):.3f} ms, p95 {np.percentile(a, 95):.3f} ms (n={a.size})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench gesture_decoder")
    p.add_argument("--card", default=str(PROJECT / "models" / "myo8_200hz.card.json"))
    p.add_argument("--windows", type=int, default=2000)
    p.add_argument("--person", default="Male0")
    args = p.parse_args(argv or [])
    root = shared_data_dir()
    if root is None:
        print("needs ../shared/data for real windows")
        return 2
    dec = load_decoder(args.card)
    onnx = dec.card.onnx_path
    print(f"model {dec.card.name}: {onnx.stat().st_size} bytes ({onnx.stat().st_size / 1e6:.3f} MB, target <= 1 MB), "
          f"{dec.card.raw.get('parameters', '?')} parameters, {dec.card.raw.get('architecture', '?')}")
    recs = read_cote_allard_session(root, "EvaluationDataset", args.person, "training0")
    four = ("neutral", "wrist flexion", "wrist extension", "hand close")
    ex = {}
    for r in recs:
        name = r.label_names[int(r.labels[0])]
        if name in four and r.repetition < 3:
            ex.setdefault(name, []).append(r.signal)
    step = int(round(0.05 * dec.card.rate_hz))

    fit_enc, fit_lda = [], []
    for _ in range(5):
        t = time.perf_counter()
        dec.calibrate(ex, dec.card.rate_hz, patient="bench", cut="windows")
        fit_enc.append(time.perf_counter() - t)
        t = time.perf_counter()
        lda = HudginsLda(dec.card.sos(), dec.window_samples, step).fit(ex)
        fit_lda.append(time.perf_counter() - t)
    n_win = sum(len(dec.windows(x, dec.card.rate_hz)) for v in ex.values() for x in v)
    print(f"calibration fit, 4 gestures x 3 reps ({n_win} windows, incl. embedding + leave-one-rep-out CV):")
    print(f"  encoder head: {stats(fit_enc)}  (target <= 5 s)")
    print(f"  LDA baseline: {stats(fit_lda)}")

    windows = np.concatenate([dec.windows(r.signal, dec.card.rate_hz) for r in recs])
    windows = windows[np.random.default_rng(0).permutation(len(windows))[: args.windows]]
    for w in windows[:50]:  # warm-up
        dec.decide(w)
    enc_t, lda_t, enc_c, lda_c = [], [], [], []
    for w in windows:
        t, c = time.perf_counter(), time.thread_time()
        dec.decide(w)
        enc_t.append(time.perf_counter() - t)
        enc_c.append(time.thread_time() - c)
        t, c = time.perf_counter(), time.thread_time()
        lda.predict(w[None])
        lda_t.append(time.perf_counter() - t)
        lda_c.append(time.thread_time() - c)
    print("decision latency per 200 ms window, one thread (raw window -> label/no action), wall clock:")
    print(f"  encoder + head: {stats(enc_t)}  (target p95 <= 1 ms)")
    print(f"  LDA baseline:   {stats(lda_t)}")
    print("the same calls in CPU time of this thread (insensitive to other processes on a shared machine):")
    print(f"  encoder + head: {stats(enc_c)}")
    print(f"  LDA baseline:   {stats(lda_c)}")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
