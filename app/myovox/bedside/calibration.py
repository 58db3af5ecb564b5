"""CalibrationFlow: the caregiver's few minutes, as a state machine with no Qt and no device.

Rest capture, then N cued repetitions of each gesture the caregiver named (progress "rep 2 of 3",
redo the last one), then the decoder fits its head and reports per-gesture accuracy, the confusion
matrix and which gestures are reliable enough to use; the interaction mode follows from that.
A repetition is the `Attempt` the live chain cut for the burst (`decode.attempt.AttemptCollector`): the
decoder is calibrated on exactly the windows it will later decide on.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import numpy as np

from ..decode.attempt import Attempt, AttemptCollector
from ..events import REST_LABEL
from ..interact.machine import default_roles, mode_for
from ..signal.sensitivity import REP_MARGIN, REST_MARGIN, sustained_peak, with_sensitivity

BEFORE_S = 2.0  # how much of the stream before each captured movement is kept as rest between movements
WAIT_S = 8.0  # a cued movement not seen for this long: the caregiver is told why, and a weak one is helped


def recommend(gestures, reliable) -> tuple[str, dict[str, str]] | None:
    """The interaction mode and gesture roles for the reliable gestures, in the caregiver's order
    (rest never acts); None when no gesture is reliable enough to use."""
    usable = [g for g in gestures if g in set(reliable) and g != REST_LABEL]
    return (mode_for(len(usable)), default_roles(usable)) if usable else None


@dataclass(frozen=True)
class Step:
    kind: str  # "rest" | "gesture" | "fit" | "done"
    gesture: str = ""
    rep: int = 0  # 1-based repetition being asked for
    reps: int = 0
    prompt: str = ""


class CalibrationFlow:
    """`returning=True`: a returning patient's quick check (rest, then one repetition of each gesture of the
    saved calibration), fitted with `GestureDecoder.returning` over the calibration the decoder holds."""

    def __init__(self, gestures: list[str], reps: int = 3, returning: bool = False):
        names = [g.strip() for g in gestures if g.strip()]
        if not names:
            raise ValueError("name at least one gesture to calibrate")
        if len(set(n.lower() for n in names)) != len(names):
            raise ValueError("each gesture needs its own name")
        if any(n.lower() == REST_LABEL for n in names):
            raise ValueError(f"'{REST_LABEL}' is captured separately; choose another name")
        if not 1 <= reps <= 10:
            raise ValueError("repetitions per gesture must be between 1 and 10")
        self.gestures = names
        self.reps = reps
        self.returning = returning
        self.rest: np.ndarray | None = None
        self.captured: dict[str, list[Attempt]] = {g: [] for g in names}
        self._order: list[str] = []  # labels in capture order, for redo
        self.result = None

    @property
    def step(self) -> Step:
        if self.rest is None:
            return Step("rest", prompt="Stay relaxed: capturing rest")
        for g in self.gestures:
            n = len(self.captured[g])
            if n < self.reps:
                return Step("gesture", g, n + 1, self.reps, f"{g}: rep {n + 1} of {self.reps}")
        if self.result is None:
            return Step("fit", prompt="Checking yesterday's calibration against today's movements" if self.returning
                        else "Fitting the decoder to these repetitions")
        return Step("done", prompt="Quick check done" if self.returning else "Calibration ready")

    @property
    def progress(self) -> tuple[int, int]:
        """(captures done, captures needed), rest included."""
        done = (self.rest is not None) + sum(len(v) for v in self.captured.values())
        return done, 1 + self.reps * len(self.gestures)

    def rest_captured(self, raw: np.ndarray) -> None:
        if self.step.kind != "rest":
            raise RuntimeError("rest is not being captured now")
        self.rest = np.asarray(raw, dtype=np.float32)
        self._order.append(REST_LABEL)

    def rep_captured(self, attempt: Attempt) -> Step:
        step = self.step
        if step.kind != "gesture":
            raise RuntimeError("no repetition is being asked for now")
        self.captured[step.gesture].append(attempt)
        self._order.append(step.gesture)
        return self.step

    def redo_last(self) -> Step:
        """Forget the last capture (a cough, a missed cue); the flow asks for it again."""
        if self.result is not None:
            self.result = None
        if not self._order:
            return self.step
        last = self._order.pop()
        if last == REST_LABEL:
            self.rest = None
        else:
            self.captured[last].pop()
        return self.step

    def examples(self, rest_window_samples: int) -> dict[str, list]:
        """What the decoder calibrates on: every gesture's reps, and rest cut into rep-sized pieces."""
        ex = {g: list(v) for g, v in self.captured.items()}
        if self.rest is not None:
            n = max(rest_window_samples, 1)
            pieces = [self.rest[i : i + n] for i in range(0, len(self.rest) - n + 1, n)]
            if pieces:
                ex[REST_LABEL] = pieces
        return ex

    def fit(self, decoder, rate_hz: float, patient: str = "", use: bool = True):
        """Fit the decoder's head (seconds on the CPU); returns its Calibration (`use`: adopt it at once)."""
        if self.step.kind != "fit":
            raise RuntimeError(f"not ready to fit: {self.step.prompt}")
        if self.returning:
            ex = {g: list(v) for g, v in self.captured.items()}
            self.result = decoder.returning(ex, rate_hz, rest=self.rest, patient=patient, use=use)
        else:
            self.result = decoder.calibrate(self.examples(int(rate_hz)), rate_hz=rate_hz, patient=patient, rest=self.rest, use=use)
        return self.result

    def recommendation(self) -> tuple[str, dict[str, str]] | None:
        """The interaction mode and gesture roles the reliable gestures support (None: no gesture is)."""
        if self.result is None:
            return None
        return recommend(self.gestures, self.result.reliable)


class RepetitionRecorder:
    """The repetition of a cued movement: the `Attempt` the live chain cut for its burst (its windows from the
    onset, as the decoder will see them), handed out when the attempt ends."""

    def __init__(self):
        self._collector = AttemptCollector()

    def feed(self, event) -> Attempt | None:
        return self._collector.feed(event)


class CalibrationRunner:
    """Binds a `CalibrationFlow` to a live `BedsideSession`: captures rest from the stream, cuts each
    repetition at the end of its burst, fits the decoder and saves the result per patient and profile.
    While it runs, decisions do not reach the speller (a calibration movement must never type)."""

    def __init__(self, session, calibrations_dir, patient: str = ""):
        from pathlib import Path

        self.session = session
        self.dir = Path(calibrations_dir)
        self.patient = patient or "patient"
        self.flow: CalibrationFlow | None = None
        self._rest_start: int | None = None
        self._recorder: RepetitionRecorder | None = None
        self._fit_thread: threading.Thread | None = None
        self._fit_outcome = None
        self.hint = ""  # what the caregiver should know while a cued movement is awaited (weak, none seen)
        self._asked: tuple | None = None  # (gesture, rep, stream sample) the current cue began at
        self._rest_peak = 0.0
        self._peak = 0.0  # the highest sustained envelope since the cue (the live threshold's units)
        self._seen = 0  # the stream sample up to which `_peak` has looked

    @property
    def _acq(self):
        return self.session.acquisition

    def begin(self, flow: CalibrationFlow) -> None:
        self.flow = flow
        self.session.calibration = self
        acq = self._acq
        self._recorder = RepetitionRecorder()
        self._start_rest()

    def _start_rest(self) -> None:
        self._acq.recapture_rest()  # the detector's threshold comes from this same rest
        self._rest_start = self._acq.source.ring.total

    def rest_progress_text(self) -> str:
        if self._rest_start is None:
            return ""
        prof = self._acq.profile
        need = prof.samples(prof.detector.rest_seconds * 1000)
        got = self._acq.source.ring.total - self._rest_start
        if not self._acq.source.connected:
            return "Waiting for the amplifier's stream..."
        return f"{min(got, need) / prof.rate_hz:.1f} of {need / prof.rate_hz:.1f} s"

    def feed(self, view) -> None:
        """Called from `BedsideSession.pump` with what the stream produced."""
        if self.flow is None:
            return
        step = self.flow.step
        acq = self._acq
        if step.kind == "rest" and self._rest_start is not None:
            prof = acq.profile
            need = prof.samples(prof.detector.rest_seconds * 1000)
            if acq.source.ring.total - self._rest_start >= need:
                data, _ = acq.source.ring.read(self._rest_start, self._rest_start + need)
                self.flow.rest_captured(data)
                self._rest_start = None
                self._rest_peak = self._sustained_peak(need)
            return
        if step.kind == "gesture":
            for ev in view.windows:
                rep = self._recorder.feed(ev)
                if rep is not None and self.flow.step.kind == "gesture":
                    self.flow.rep_captured(self._with_rest_before(rep))
            self._watch_for_a_weak_movement()

    def _sustained_peak(self, samples: int) -> float:
        """The envelope's sustained peak over the last `samples`, in the live threshold's units (0 without one)."""
        chain = self._acq.chain
        if chain.envelope_ring is None or chain.detector is None or len(chain.envelope_ring) == 0:
            return 0.0
        det = self._acq.profile.detector
        env, _ = chain.envelope_ring.latest(min(samples, len(chain.envelope_ring)))
        return sustained_peak(env, chain.detector.threshold, det.min_channels, self._acq.profile.samples(det.min_duration_ms))

    def _watch_for_a_weak_movement(self) -> None:
        """A cued movement not detected for `WAIT_S`: if the stream rose above rest but stayed under the detector's
        threshold, lower the live sensitivity just enough (never below twice rest's own peak) and ask once more;
        if nothing rose, say so. The fit keeps the lowered sensitivity."""
        step, ring, rate = self.flow.step, self._acq.source.ring, self._acq.profile.rate_hz
        key = (step.gesture, step.rep)
        if self._asked is None or self._asked[:2] != key:
            self._asked, self.hint, self._peak, self._seen = (*key, ring.total), "", 0.0, ring.total
            return
        det = self._acq.profile.detector
        new = ring.total - self._seen
        if new > 0:
            self._peak = max(self._peak, self._sustained_peak(new + self._acq.profile.samples(det.min_duration_ms)))
            self._seen = ring.total
        if ring.total - self._asked[2] < WAIT_S * rate:
            return
        chain = self._acq.chain
        peak, self._peak = self._peak, 0.0
        self._asked = (*key, ring.total)  # look again after another WAIT_S
        floor = REST_MARGIN * max(self._rest_peak, 1.0)
        thr = chain.detector.threshold if chain.detector is not None else None
        if thr is not None and floor < peak <= thr.k:
            k = max(floor, REP_MARGIN * peak)
            self._acq.set_threshold(with_sensitivity(thr, k))
            self.hint = (f"The '{step.gesture}' movement was weaker than the detector's threshold: sensitivity raised "
                         f"(k {thr.k:.0f} -> {k:.0f}). Ask for it once more.")
        else:
            self.hint = (f"No movement above rest for {WAIT_S:.0f} s: check the electrodes, ask for a stronger "
                         f"'{step.gesture}', or choose another movement.")

    def _with_rest_before(self, attempt):
        """The attempt with the stream's last `BEFORE_S` before its onset (rest between movements, for the fit)."""
        ring = self._acq.source.ring
        onset = attempt.burst.onset_index
        start = max(onset - int(BEFORE_S * self._acq.profile.rate_hz), ring.total - len(ring))
        if onset - start <= 0:
            return attempt
        data, _ = ring.read(start, onset)
        return replace(attempt, before=np.asarray(data, dtype=np.float32))

    def redo(self) -> None:
        if self.flow is not None and self.flow.rest is None and self._rest_start is None:
            self._start_rest()

    def start_fit(self) -> None:
        """Fit in a worker thread, so the screen keeps painting and the stream keeps flowing while the
        encoder's top is refitted (about a second or two on one core). `finish_fit` collects it."""
        decoder = self.session.decoder
        if decoder is None:
            raise RuntimeError("no encoder model is loaded for this profile")
        flow, rate, patient = self.flow, self._acq.profile.rate_hz, self.patient
        self._fit_outcome = None

        def work() -> None:
            try:
                self._fit_outcome = (decoder, flow.fit(decoder, rate, patient=patient, use=False), None)
            except Exception as exc:  # handed to the UI thread by finish_fit, never lost in the worker
                self._fit_outcome = (decoder, None, exc)

        self._fit_thread = threading.Thread(target=work, name="calibration-fit", daemon=True)
        self._fit_thread.start()

    @property
    def fitting(self) -> bool:
        return self._fit_thread is not None

    def finish_fit(self):
        """None while the worker still fits; then, on the caller's (UI) thread, the calibration is adopted
        by the decoder and the detector and returned, or the worker's error is raised."""
        if self._fit_thread is None or self._fit_thread.is_alive():
            return None
        self._fit_thread = None
        decoder, cal, error = self._fit_outcome
        if error is not None:
            raise error
        live = self._acq.chain.detector.threshold if self._acq.chain.detector is not None else None
        if cal.detector_threshold is not None and live is not None and live.k < cal.detector_threshold.k:
            cal = replace(cal, detector_threshold=with_sensitivity(cal.detector_threshold, live.k))  # kept from capture
        decoder.use(cal)
        if cal.detector_threshold is not None:
            self._acq.set_threshold(cal.detector_threshold)
        self.hint = ""
        return cal

    def fit(self):
        """The same fit, waited for (scripts and tests)."""
        self.start_fit()
        self._fit_thread.join()
        return self.finish_fit()

    def path(self):
        return self.dir / self.patient / f"{self._acq.profile.key}.json"

    def save(self, calibration) -> None:
        """The patient's current calibration, and a dated copy in `history/` for the progression report."""
        p = self.path()
        p.parent.mkdir(parents=True, exist_ok=True)
        calibration.save(p)
        stamp = "".join(c for c in str(calibration.created) if c.isalnum()) or "undated"
        calibration.save(p.parent / "history" / f"{p.stem}-{stamp}.json")

    def end(self) -> None:
        self.session.calibration = None
        self.flow = None
