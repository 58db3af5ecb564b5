"""False activations at rest: attempts in the all-rest myo_readings recordings that the calibrated decoder
turns into an action (not "rest", not "no action"). A burst alone is only a candidate; this is what would
act for the patient.

    myovox bench false_activations

Per person: calibrate on session 1 as the bedside does (3 s of rest from 0.txt, the first three cued
movements of each gesture, cut into attempts by the live chain), then run sessions 2 and 3's rest files
(never seen in calibration) through the live chain and the attempt rule, with that day's own 3 s rest
capture for the threshold (yesterday's sensitivity). `myovox evaluate --protocols attempts` reports the
same for the rest stretches between cues.
"""
from __future__ import annotations

import argparse

from myovox.data.recordings import myo_readings_sessions, read_myo_readings, shared_data_dir
from myovox.events import REST_LABEL


def main(argv=None) -> int:
    argparse.ArgumentParser(prog="myovox bench false_activations").parse_args(argv)
    from myovox.decode import load_decoder
    from myovox.bedside.session import MODELS_DIR
    from myovox.decode.attempts_eval import _readings_examples, _rest_pieces

    root = shared_data_dir()
    if root is None:
        print("needs ../shared/data")
        return 2
    sessions = myo_readings_sessions(root)
    people = sorted({k.split("-")[0] for k in sessions})
    decoder = load_decoder(MODELS_DIR / "myo8_200hz.card.json")
    bursts = acts = 0
    minutes = 0.0
    for person in people:
        files = [read_myo_readings(f) for f in sessions[f"{person}-1"]]
        rest = files[0].signal[:600]
        ex = _readings_examples(files[1:], 3, 200.0)
        ex[REST_LABEL] = _rest_pieces(rest, 200.0)
        cal = decoder.calibrate(ex, 200.0, patient=person, rest=rest)
        for s in ("2", "3"):
            rec = read_myo_readings(sessions[f"{person}-{s}"][0])
            decoder.use(cal)
            decoder.use(decoder.with_threshold_from(rec.signal[:600], 200.0))
            later = [a for a in decoder.attempts(rec.signal, 200.0) if a.burst.onset_index >= 600]
            acted = [d for d in (decoder.decide_attempt(a) for a in later) if d.is_action]
            bursts += len(later)
            acts += len(acted)
            minutes += (len(rec.signal) - 600) / 200.0 / 60
            print(f"{person}-{s}: {len(later)} attempts at rest -> {len(acted)} acted "
                  f"({', '.join(f'{d.label} {d.confidence:.2f}' for d in acted) or '-'})")
    print(f"all: {bursts} attempts in {minutes:.1f} min of rest -> {acts} false activations "
          f"= {10 * acts / minutes:.2f} per 10 min (attempts alone: {10 * bursts / minutes:.1f} per 10 min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
