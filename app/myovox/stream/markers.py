"""LSL marker outlets: what myovox saw and did, as marker streams a lab's LabRecorder records beside the EMG.

Four streams, each one string channel at an irregular rate, one JSON object per marker:

    myovox-bursts      burst onsets (stamped at the onset sample's stream time) and offsets
    myovox-decisions   gesture decisions: label (None = no action), confidence, onset time, latency
    myovox-selections  what the speller did with them: the cell's kind and how many characters it
                       inserted; the words themselves only when the clinician turned content logging on
    myovox-state       stream-state changes (connected, disconnected, wrong device, ...), profile switches

Timestamps are the stream clock myovox runs on (the EMG inlet's timestamps, mapped to this machine's
LSL clock), so a marker lines up with the EMG samples in the same XDF file. `source_id`s are stable
(kind, host and the patient id's hash), so LabRecorder picks the streams up again after a restart.
The patient id itself never leaves the machine: the metadata carries the first 12 hex digits of its
sha256 (a pseudonym for matching files, not an anonymisation of a guessable id).

The payloads are built by pure functions (`*_payload`), the pylsl outlets live in `MarkerOutlets`.
"""
from __future__ import annotations

import hashlib
import json
import socket

from ..events import Burst, BurstEnd, GestureDecision, StreamStatus
from ..profiles import DeviceProfile

KINDS = ("bursts", "decisions", "selections", "state")
MARKER_TYPE = "Markers"
PAYLOAD_FORMAT = "json"


def patient_hash(patient_id: str) -> str:
    return hashlib.sha256((patient_id or "").encode("utf-8")).hexdigest()[:12]


def source_id(kind: str, patient_id: str, hostname: str | None = None) -> str:
    host = hostname or socket.gethostname()
    return f"myovox-{kind}@{host}/{patient_hash(patient_id)}"


# -- payloads (pure) -------------------------------------------------------------------------------
def burst_payload(ev: Burst | BurstEnd) -> tuple[dict, float]:
    """(payload, timestamp): an onset is stamped at its onset sample, an offset at its offset sample."""
    if isinstance(ev, Burst):
        return ({"event": "onset", "onset_index": ev.onset_index, "confirmed_time": round(ev.confirmed_time, 6),
                 "peak": round(float(ev.peak), 3), "channels": list(ev.channels)}, ev.onset_time)
    return ({"event": "offset", "onset_index": ev.onset_index, "onset_time": round(ev.onset_time, 6),
             "duration_s": round(ev.duration_s, 4), "peak": round(float(ev.peak), 3), "channels": list(ev.channels)},
            ev.offset_time)


def decision_payload(d: GestureDecision, now: float) -> tuple[dict, float]:
    """(payload, timestamp): stamped when the attempt's decision became possible (onset + its latency on the
    stream clock); `delivered_s` is how long after the onset it reached the UI thread (`now`)."""
    latency = float(d.latency_s)
    return ({"event": "decision", "label": d.label, "acted": d.is_action,
             "confidence": round(float(d.confidence), 4), "onset_time": round(float(d.time), 6),
             "latency_s": round(latency, 4), "delivered_s": round(float(now - d.time), 4), "windows": d.windows,
             "reason": d.reason}, d.time + latency)


def selection_payload(kind: str, value: str, log_content: bool) -> dict:
    """A selection's structure (kind, characters inserted); its text only with content logging on."""
    p = {"event": "selection", "kind": kind, "chars": len(value or "")}
    if log_content:
        p["text"] = value
    return p


def state_payload(status: StreamStatus, profile: str) -> tuple[dict, float]:
    return ({"event": "state", "state": status.state, "message": status.message, "stream_name": status.stream_name,
             "stream_source_id": status.source_id, "profile": profile, "dropouts": status.dropouts,
             "samples": status.samples}, status.local_time)


def encode(payload: dict) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


# -- the pylsl edge --------------------------------------------------------------------------------
class MarkerOutlets:
    """The four marker outlets of one bedside session. Every method is safe to call on the UI thread
    (a push is microseconds) and never raises into the caller's chain: a failed push is counted."""

    def __init__(self, profile: DeviceProfile, patient_id: str = "", log_content: bool = False,
                 hostname: str | None = None, clock=None):
        import pylsl

        from .. import __version__ as version

        self._pylsl = pylsl
        self.clock = clock or pylsl.local_clock
        self.profile = profile.key
        self.log_content = bool(log_content)
        self.failed = 0
        self.sent = {k: 0 for k in KINDS}
        self.source_ids = {k: source_id(k, patient_id, hostname) for k in KINDS}
        self.outlets = {}
        for kind in KINDS:
            info = pylsl.StreamInfo(f"myovox-{kind}", MARKER_TYPE, 1, pylsl.IRREGULAR_RATE, pylsl.cf_string,
                                    self.source_ids[kind])
            desc = info.desc()
            desc.append_child_value("manufacturer", "myovox")
            desc.append_child_value("version", str(version))
            desc.append_child_value("payload_format", PAYLOAD_FORMAT)
            desc.append_child_value("profile", profile.key)
            desc.append_child_value("emg_channels", str(profile.channels))
            desc.append_child_value("emg_rate_hz", f"{profile.rate_hz:g}")
            desc.append_child_value("patient_id_sha256", patient_hash(patient_id))
            desc.append_child_value("content_logged", "true" if self.log_content else "false")
            desc.append_child_value("clock", "LSL local_clock of the EMG inlet (clock-synced, dejittered)")
            ch = desc.append_child("channels").append_child("channel")
            ch.append_child_value("label", kind)
            ch.append_child_value("type", "Marker")
            ch.append_child_value("format", PAYLOAD_FORMAT)
            self.outlets[kind] = pylsl.StreamOutlet(info)

    def _push(self, kind: str, payload: dict, timestamp: float | None) -> None:
        try:
            self.outlets[kind].push_sample([encode(payload)], self.clock() if timestamp is None else float(timestamp))
            self.sent[kind] += 1
        except Exception:  # a lab's recording must never cost the patient a selection
            self.failed += 1

    def burst(self, ev: Burst | BurstEnd) -> None:
        self._push("bursts", *burst_payload(ev))

    def decision(self, d: GestureDecision, now: float) -> None:
        self._push("decisions", *decision_payload(d, now))

    def selection(self, kind: str, value: str) -> None:
        self._push("selections", selection_payload(kind, value, self.log_content), None)

    def state(self, status: StreamStatus) -> None:
        self._push("state", *state_payload(status, self.profile))

    def profile_switched(self, profile: DeviceProfile) -> None:
        self.profile = profile.key
        self._push("state", {"event": "profile", "profile": profile.key, "emg_channels": profile.channels,
                             "emg_rate_hz": profile.rate_hz}, None)

    def close(self) -> None:
        self.outlets.clear()  # pylsl destroys an outlet with its last reference: inlets see the streams go
