"""False activations at rest: bursts in the all-rest myo_readings recordings that the calibrated decoder
turns into a gesture (not "rest", not "no action"). A burst alone is only a candidate; this is what
would act for the patient.

    myovox bench false_activations

Per person: calibrate on session 1 (each cued burst of files 1-7 as its gesture, 0.txt cut into rest
pieces), then run sessions 2 and 3's rest files (never seen in calibration) through the streaming chain
and the decoder, at its default rejection threshold.
"""
from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from myovox.data.recordings import read_myo_readings, shared_data_dir
from myovox.events import BurstEnd, OnsetWindow
from myovox.profiles import find_profile
from myovox.signal.chain import detect_offline


def calibration_examples(session_dir: Path, profile):
    examples = defaultdict(list)
    for k in range(1, 8):
        rec = read_myo_readings(session_dir / f"{k}.txt")
        name = rec.label_names[k]
        for e in detect_offline(rec.signal, profile):
            if isinstance(e, BurstEnd) and rec.labels[min(e.onset_index + 20, len(rec.labels) - 1)] == k:
                stop = min(e.offset_index, e.onset_index + int(2 * rec.rate_hz))
                if stop - e.onset_index >= profile.window_samples:
                    examples[name].append(rec.signal[e.onset_index:stop])
    rest = read_myo_readings(session_dir / "0.txt").signal
    piece = int(1.0 * profile.rate_hz)
    examples["rest"] = [rest[i:i + piece] for i in range(0, len(rest) - piece + 1, piece)]
    return dict(examples)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="myovox bench false_activations")
    ap.add_argument("--threshold", type=float, default=0.8, help="rejection threshold (confidence to act)")
    args = ap.parse_args(argv)
    from myovox.bedside.session import model_card_for
    from myovox.decode import load_decoder

    root = shared_data_dir()
    if root is None:
        print("needs ../shared/data")
        return 2
    profile = find_profile("myo")
    base = root / "myo_readings" / "_readings_right_hand"
    people = sorted({p.name.split("-")[0] for p in base.iterdir()})
    total_bursts = total_acts = 0
    cued = cued_acted = cued_right = 0
    minutes = 0.0
    for person in people:
        decoder = load_decoder(model_card_for(profile))
        decoder.calibrate(calibration_examples(base / f"{person}-1", profile), rate_hz=200.0, patient=person,
                          rejection_threshold=args.threshold)
        for session in (2, 3):
            for k in range(1, 8):  # the same decoder on real, cued gestures of the held-out sessions
                g = read_myo_readings(base / f"{person}-{session}" / f"{k}.txt")
                for w in (e for e in detect_offline(g.signal, profile) if isinstance(e, OnsetWindow)):
                    if g.labels[min(w.burst.onset_index + 20, len(g.labels) - 1)] != k:
                        continue
                    d = decoder.decide(w.raw)
                    cued += 1
                    cued_acted += d.label not in (None, "rest")
                    cued_right += d.label == g.label_names[k]
            rec = read_myo_readings(base / f"{person}-{session}" / "0.txt")
            windows = [e for e in detect_offline(rec.signal, profile) if isinstance(e, OnsetWindow)]
            acts = [d for d in (decoder.decide(w.raw) for w in windows) if d.label not in (None, "rest")]
            total_bursts += len(windows)
            total_acts += len(acts)
            minutes += rec.duration_s / 60
            print(f"{person}-{session}: {len(windows)} bursts at rest -> {len(acts)} acted "
                  f"({', '.join(d.label for d in acts) or '-'})")
    print(f"all: {total_bursts} bursts in {minutes:.1f} min of rest -> {total_acts} false activations "
          f"= {10 * total_acts / minutes:.1f} per 10 min (bursts alone: {10 * total_bursts / minutes:.1f} per 10 min), "
          f"rejection threshold {args.threshold}")
    print(f"same decoders on {cued} cued gesture bursts of sessions 2-3: acted on {100 * cued_acted / cued:.1f} %, "
          f"right gesture {100 * cued_right / cued:.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
