"""LSL marker outlets, read by a real pylsl inlet on loopback as LabRecorder would, while the replayed
real clip drives the bedside chain. Waits are liveness guards, never speed assertions."""
from __future__ import annotations

import json
import time

import numpy as np
import pylsl
import pytest

from myovox.bedside.app import Bedside
from myovox.bedside.setup import demo_calibration
from myovox.data.recordings import read_recording
from myovox.events import Burst, BurstEnd, GestureDecision, StreamStatus
from myovox.profiles import find_profile
from myovox.signal.chain import detect_offline
from myovox.stream.markers import KINDS, MarkerOutlets, patient_hash, source_id
from myovox.stream.replay import DEMO_CLIP, ReplayOutlet

GUARD_S = 120.0


def inlet_for(sid: str) -> pylsl.StreamInlet:
    infos = pylsl.resolve_bypred(f"source_id='{sid}'", minimum=1, timeout=10.0)
    assert infos, f"no marker stream with source_id {sid}"
    inlet = pylsl.StreamInlet(infos[0], max_buflen=360, processing_flags=pylsl.proc_clocksync)
    inlet.open_stream(timeout=5.0)
    return inlet


def pull_all(inlet: pylsl.StreamInlet, timeout: float = 0.0) -> list[tuple[dict, float]]:
    out = []
    while True:
        sample, ts = inlet.pull_sample(timeout=timeout)
        if sample is None:
            return out
        out.append((json.loads(sample[0]), ts))
        timeout = 0.0


def test_marker_streams_carry_metadata_and_stay_content_free_by_default(stream_name):
    profile = find_profile("myo")
    host = stream_name  # a unique host part keeps this test's streams apart from other runs
    markers = MarkerOutlets(profile, patient_id="P07", hostname=host)
    try:
        assert markers.source_ids == {k: source_id(k, "P07", host) for k in KINDS}
        assert source_id("bursts", "P07", host) == markers.source_ids["bursts"]  # stable across restarts
        inlet = inlet_for(markers.source_ids["selections"])
        info = inlet.info(timeout=5.0)
        assert info.type() == "Markers" and info.nominal_srate() == pylsl.IRREGULAR_RATE
        assert info.channel_format() == pylsl.cf_string and info.channel_count() == 1
        desc = info.desc()
        assert desc.child_value("profile") == "myo"
        assert desc.child_value("payload_format") == "json"
        assert desc.child_value("patient_id_sha256") == patient_hash("P07") and "P07" not in info.as_xml()
        assert desc.child_value("content_logged") == "false"
        time.sleep(0.5)  # the inlet's connection is up before the first push
        markers.selection("letter", "h")
        markers.log_content = True  # the clinician turned content logging on
        markers.selection("word", "hello")
        got = []
        deadline = time.monotonic() + GUARD_S
        while len(got) < 2 and time.monotonic() < deadline:
            got += pull_all(inlet, timeout=1.0)
        assert [p for p, _ in got] == [{"event": "selection", "kind": "letter", "chars": 1},
                                       {"event": "selection", "kind": "word", "chars": 5, "text": "hello"}]
        assert markers.failed == 0
    finally:
        markers.close()


def test_decision_marker_is_stamped_at_onset_plus_latency():
    from myovox.stream.markers import decision_payload

    d = GestureDecision("fist", 0.93, 100.0, latency_s=0.25, windows=2, reason="decisive")
    p, ts = decision_payload(d, now=100.27)
    assert p == {"event": "decision", "label": "fist", "acted": True, "confidence": 0.93, "onset_time": 100.0,
                 "latency_s": 0.25, "delivered_s": 0.27, "windows": 2, "reason": "decisive"}
    assert ts == pytest.approx(100.25)  # when the attempt's evidence sufficed, on the stream clock
    p, _ = decision_payload(GestureDecision(None, 0.4, 5.0), now=5.1)
    assert p["label"] is None and p["acted"] is False
    assert decision_payload(GestureDecision("rest", 0.99, 5.0), now=5.5)[0]["acted"] is False


def test_markers_line_up_with_the_emg_stream_while_the_replayed_clip_drives_the_app(tmp_path, stream_name):
    """A recorder (as LabRecorder) opens the EMG stream and the four marker streams; the bedside chain runs
    on the replayed real clip with the demo calibration. Every burst-onset marker falls on a sample the
    recorder received (same clock), and within one replay chunk of the onset the offline chain finds in
    the recorder's own copy of the signal."""
    profile = find_profile("myo")
    rec = read_recording(DEMO_CLIP)
    replay = ReplayOutlet(rec, profile, speed=1.0, loop=True, name=stream_name, source_id=stream_name,
                          wait_for_listener=True)
    emg_info = pylsl.resolve_bypred(f"source_id='{stream_name}'", minimum=1, timeout=10.0)[0]
    emg = pylsl.StreamInlet(emg_info, max_buflen=360, processing_flags=pylsl.proc_clocksync | pylsl.proc_dejitter)
    emg.open_stream(timeout=5.0)
    (tmp_path / "config").mkdir()
    # a patient id of this test's own keeps its marker streams' source_ids apart from any other session here
    (tmp_path / "config" / "settings.json").write_text(json.dumps({"patient_id": stream_name, "one_gesture_mode": "scan"}))
    bedside = Bedside(profile, predicate=f"name='{stream_name}'", home=tmp_path, use_llm=False, speech=False)
    assert bedside.markers is not None, bedside.notices
    assert bedside.markers.source_ids["bursts"] == source_id("bursts", stream_name)
    inlets = {k: inlet_for(bedside.markers.source_ids[k]) for k in KINDS}
    decoder = bedside.session.decoder
    assert decoder is not None, bedside.decoder_message
    bedside.apply_calibration(demo_calibration(decoder, profile, DEMO_CLIP), "scan", {"fist": "select"})
    samples, stamps = [], []
    got = {k: [] for k in KINDS}
    bedside.start()
    try:
        # both listeners are connected before the clip starts, so both see its opening rest from the first sample
        deadline = time.monotonic() + GUARD_S
        while not (bedside.session.status and bedside.session.status.state == "connected") and time.monotonic() < deadline:
            bedside.session.pump()
            time.sleep(0.02)
        replay.start()
        while time.monotonic() < deadline:
            bedside.session.pump()
            data, ts = emg.pull_chunk(timeout=0.02, max_samples=4096)
            if ts:
                samples.append(np.asarray(data, np.float32))
                stamps.extend(ts)
            for k, inlet in inlets.items():
                got[k] += pull_all(inlet)
            onsets = [m for m in got["bursts"] if m[0]["event"] == "onset"]
            if len(onsets) >= 3 and got["decisions"] and got["selections"]:
                break
            time.sleep(0.01)
        # a little more EMG, so the last onset's samples are in the recorder's copy
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            data, ts = emg.pull_chunk(timeout=0.05, max_samples=4096)
            if ts:
                samples.append(np.asarray(data, np.float32))
                stamps.extend(ts)
    finally:
        bedside.close()
        replay.stop()
    onsets = [(p, ts) for p, ts in got["bursts"] if p["event"] == "onset"]
    assert len(onsets) >= 3, (len(stamps), got)
    states = [p["state"] for p, _ in got["state"]]
    assert "connected" in states
    decisions = [p for p, _ in got["decisions"]]
    assert any(p["label"] == "fist" and p["acted"] for p in decisions), decisions
    assert all(0.0 <= p["latency_s"] < 5.0 and 0.0 <= p["confidence"] <= 1.0 for p in decisions)
    assert all("text" not in p for p, _ in got["selections"])  # content-free by default

    signal = np.concatenate(samples)
    stamps = np.asarray(stamps)
    interval = float(np.median(np.diff(stamps)))
    offline = [e for e in detect_offline(signal, profile) if isinstance(e, Burst)]
    offline_t = stamps[[e.onset_index for e in offline]]
    chunk_s = replay.chunk_s * replay.speed  # one replay chunk, in stream seconds
    nearest_sample, vs_offline = [], []
    for _, ts in onsets:
        nearest_sample.append(float(np.min(np.abs(stamps - ts))))
        vs_offline.append(float(ts - offline_t[np.argmin(np.abs(offline_t - ts))]))
    print(f"\nmarker streams: {sorted(bedside.markers.source_ids.values())}"
          f"\nburst onset marker - nearest recorded sample: {[f'{1000 * x:.2f} ms' for x in nearest_sample]}"
          f"\nburst onset marker - offline onset in the recording: {[f'{1000 * x:+.1f} ms' for x in vs_offline]}"
          f" (sample interval {1000 * interval:.1f} ms, chunk {1000 * chunk_s:.0f} ms)")
    assert max(nearest_sample) <= interval  # the marker sits on one of the EMG stream's own samples
    assert max(abs(x) for x in vs_offline) <= chunk_s  # and on the onset the recording itself shows
