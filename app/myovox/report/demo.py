"""Sessions for a report without a patient: the bundled real clip replayed over LSL through the whole bedside
chain, calibrated and saved as a patient's would be. `strengths` scales the clip's fists (1.0, 0.85, 0.7:
a muscle weakening), so the report has a trend to show; everything else is the real clip and the real chain.
Used by the report's test and by docs/make_report_screenshot.py."""
from __future__ import annotations

import time
import uuid
from dataclasses import replace
from pathlib import Path

from ..data.recordings import Recording, read_recording
from ..events import BurstEnd
from ..profiles import DeviceProfile, find_profile


def weakened(rec: Recording, profile: DeviceProfile, strength: float) -> Recording:
    """The recording with every burst (and 0.3 s around it) scaled by `strength`; rest untouched."""
    from ..signal.chain import detect_offline

    sig = rec.signal.copy()
    margin = int(0.3 * rec.rate_hz)
    for e in detect_offline(rec.signal, profile):
        if isinstance(e, BurstEnd):
            sig[max(0, e.onset_index - margin): e.offset_index + margin] *= strength
    return replace(rec, signal=sig)


def record_session(home: Path, patient: str, rec: Recording, profile: DeviceProfile, decisions: int = 3,
                   speed: float = 4.0, guard_s: float = 120.0) -> int:
    """One bedside session on the replayed recording until `decisions` gesture decisions were made
    (or `guard_s` wall seconds passed); returns how many were made."""
    from ..bedside.app import Bedside
    from ..bedside.calibration import CalibrationRunner, recommend
    from ..bedside.setup import demo_calibration
    from ..session.settings import SettingsStore
    from ..stream.replay import ReplayOutlet

    store = SettingsStore(home)
    store.save(store.load().settings.with_changes(patient_id=patient))
    name = f"myovox-report-demo-{uuid.uuid4().hex[:8]}"
    replay = ReplayOutlet(rec, profile, speed=speed, loop=True, name=name, source_id=name, wait_for_listener=True)
    bedside = Bedside(profile, predicate=f"name='{name}'", home=home, use_llm=False, speech=False)
    made = 0
    try:
        decoder = bedside.session.decoder
        if decoder is None:
            raise RuntimeError(bedside.decoder_message)
        cal = replace(demo_calibration(decoder, profile, rec), patient=patient)
        CalibrationRunner(bedside.session, bedside.dirs.data / "calibrations", patient).save(cal)
        bedside.apply_calibration(cal, *(recommend(cal.labels, cal.reliable) or ("scan", {"fist": "select"})))
        bedside.start()
        deadline = time.monotonic() + guard_s
        while not (bedside.session.status and bedside.session.status.state == "connected") and time.monotonic() < deadline:
            bedside.session.pump()
            time.sleep(0.02)
        replay.start()
        while made < decisions and time.monotonic() < deadline:
            made += len(bedside.session.pump().decisions)
            time.sleep(0.02)
    finally:
        bedside.close()
        replay.stop()
    return made


def record_demo_sessions(home: Path, patient: str = "P01", strengths=(1.0, 0.85, 0.7), decisions: int = 3,
                         speed: float = 4.0) -> list[int]:
    from ..stream.replay import DEMO_CLIP

    profile = find_profile("myo")
    rec = read_recording(DEMO_CLIP)
    made = []
    for s in strengths:
        made.append(record_session(Path(home), patient, weakened(rec, profile, s), profile, decisions, speed))
        time.sleep(1.1)  # calibrations are dated to the second: each session gets its own
    return made
