"""BedsideSession: one patient's running chain, from the LSL stream to speech.

    Acquisition (LSL worker) --OnsetWindow, AttemptEnd--> decoder worker --GestureDecision (one per attempt)--\\
                                                                              pump() on the UI thread:
    language worker <--RequestSuggestions-- Speller <---------------------------/  speller, journal, view
    speech worker   <--Speak--

`pump(now)` is the only thing the UI thread calls; it drains queues and feeds the pure speller, so it
returns in microseconds and never waits on the amplifier, the model or the voice.
"""
from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..events import (AttemptEnd, Burst, BurstEnd, GestureDecision, OnsetWindow, RateCheck, SignalFault, StreamStatus,
                      Threshold)
from ..interact.events import CallForHelp, MessageChanged, RequestSuggestions, Selected, Speak, SuggestionsReady, Tick
from ..interact.machine import Speller, SpellerConfig, SpellerState
from ..language.api import next_letters
from ..profiles import DeviceProfile
from ..shipped import shipped_dir
from .notices import NoticeBoard
from .workers import Worker

SIGNAL_QUIET_S = 2.0  # stream seconds without a repaired sample before the signal notice clears

MODELS_DIR = shipped_dir("models")  # the checkout's models/, or the installed wheel's share/myovox/models


def model_card_for(profile: DeviceProfile) -> Path | None:
    if not profile.model:
        return None
    card = MODELS_DIR / f"{profile.model}.card.json"
    return card


@dataclass
class SessionView:
    """Everything the window draws, collected by one pump. Plain data, no Qt."""

    status: StreamStatus | None = None
    bursts: list = field(default_factory=list)  # Burst / BurstEnd since the last pump
    decisions: list = field(default_factory=list)  # GestureDecision since the last pump
    windows: list = field(default_factory=list)  # OnsetWindow / AttemptEnd while a calibration captures them
    faults: list = field(default_factory=list)
    outputs: list = field(default_factory=list)  # speller outputs since the last pump
    notices: list = field(default_factory=list)  # human-readable messages for the caregiver
    threshold: Threshold | None = None
    changed: bool = False  # the speller's screen changed


class BedsideSession:
    """Owns the workers; `pump()` moves events one step along. Any stage may be missing and the rest works:
    no decoder -> the signal panel still runs; no language model -> retrieval and n-gram; no voice -> text stays."""

    def __init__(self, profile: DeviceProfile, speller_config: SpellerConfig, acquisition=None, decoder=None,
                 suggester=None, speech=None, journal=None, log=None, speller_state: SpellerState | None = None,
                 clock=None, markers=None, notices: NoticeBoard | None = None):
        self.profile = profile
        self.notices = notices if notices is not None else NoticeBoard()
        self._speaking: dict[int, Speak] = {}  # speech request id -> what was asked, until its result arrives
        self._last_fault_time: float | None = None
        self.acquisition = acquisition
        self.decoder = decoder
        self.suggester = suggester
        self.speech = speech
        self.journal = journal
        self.log = log
        self.markers = markers  # LSL marker outlets (stream/markers.py), or None
        self.speller = Speller(speller_config, speller_state)
        self.clock = clock or _lsl_clock()
        self._results: queue.Queue = queue.Queue()
        # Called (from a worker thread) when a result is waiting, so the UI can pump at once instead of
        # at its next timer tick; the window connects it to a queued Qt signal.
        self.notify = None
        self.decode_worker = Worker("decoder", self._decode, self._deliver, self._failed) if decoder else None
        self.language_worker = (
            Worker("language", self._suggest, self._deliver, self._failed, latest_only=True, key=lambda r: r.task)
            if suggester else None
        )
        self.status: StreamStatus | None = None
        self.calibration = None  # a running CalibrationRunner: decisions then never reach the speller
        self.help_calls = 0
        self.last_decision: GestureDecision | None = None
        self._attempts: dict = {}  # onset index -> AttemptEvidence, owned by the decoder worker's thread

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        for w in (self.decode_worker, self.language_worker):
            if w:
                w.start()
        if self.acquisition is not None:
            self.acquisition.window_sink = self._on_window
            self.acquisition.start()
        if self.speller.state.content.message or self.speller.state.content.labels:
            self._ask_for_suggestions()  # a restored message gets its candidates now, not at the next selection

    def _ask_for_suggestions(self) -> None:
        """The speller's own request for candidates for its current content (as after an edit)."""
        for out in self.speller._refresh(self.speller.state, self.clock()):
            if isinstance(out, RequestSuggestions) and self.language_worker is not None:
                self.language_worker.submit(out)

    def use_decoder(self, decoder, profile: DeviceProfile) -> None:
        """Another amplifier's encoder (or none): the old decoder thread ends, a new one starts."""
        if self.decode_worker is not None:
            self.decode_worker.stop()
        self.decoder, self.profile = decoder, profile
        self._attempts = {}
        self.decode_worker = Worker("decoder", self._decode, self._deliver, self._failed) if decoder else None
        if self.decode_worker is not None:
            self.decode_worker.start()

    def set_partner_line(self, text: str) -> None:
        """What the conversation partner just said (typed by a caregiver): it conditions every suggestion
        from the next request on; "" clears it. Only the language layer sees it (never logged)."""
        if self.suggester is not None and hasattr(self.suggester, "partner_line"):
            self.suggester.partner_line = " ".join(str(text).split())[:200]

    def stop(self) -> None:
        if self.acquisition is not None:
            self.acquisition.stop()
        for w in (self.decode_worker, self.language_worker):
            if w:
                w.stop()

    # -- worker jobs (run off the UI thread) ---------------------------------------------------
    def _on_window(self, item) -> None:
        """An attempt's window or its end, from the acquisition thread: to the calibration while one captures
        (a calibration movement must never type), else to the decoder worker once there is a calibration."""
        if self.calibration is not None:
            self._deliver(_ForCalibration(item))
        elif self.decode_worker is not None and self.decoder.calibration is not None:
            self.decode_worker.submit(item)

    def _decode(self, item) -> GestureDecision | None:
        """One attempt's evidence, window by window; a decision as soon as the attempt's rule makes one."""
        key = item.burst.onset_index
        if isinstance(item, AttemptEnd):
            ev = self._attempts.pop(key, None)
            return ev.close(item.time, item.reason) if ev is not None else None
        ev = self._attempts.get(key)
        if ev is None:
            if item.seq != 0:
                return None  # the attempt began before this decoder (a calibration, a profile switch)
            if len(self._attempts) > 8:  # attempts whose end never came (a stream that vanished mid-burst)
                self._attempts.clear()
            ev = self._attempts[key] = self.decoder.open_attempt(item.burst)
        if ev.decided is not None:
            return None  # decided already: the rest of the burst needs no encoder
        p, votes = self.decoder.window_evidence(item.raw)
        return ev.add(p[0], item.end_time, None if votes is None else int(votes[0]))

    def _suggest(self, req: RequestSuggestions) -> SuggestionsReady:
        s = self.suggester
        if req.task == "phrases":
            cands = self._phrases(req)
        elif req.task == "abbreviation":
            cands = s.expand_abbreviation(str(req.query), context=list(req.context))
        elif req.task == "groups":  # the ambiguous keyboard: (text before the word, the word's keys)
            cands = s.read_groups(req.query[0], req.query[1], context=list(req.context))
        else:
            cands = s.predict_words(str(req.query), context=list(req.context))
        letters = next_letters(s, str(req.query), cands) if req.task == "words" else ""
        return SuggestionsReady(req.request_id, tuple(cands), time=self.clock(), letters=letters)

    def _phrases(self, req: RequestSuggestions) -> list:
        """Keywords -> phrases, with the answers on the way: the instant one (the patient's phrases that keep
        every keyword) and each model sentence as it finishes reach the speller as updates of this request, and
        the search gives up as soon as a newer request waits (it would be stale). On the language worker's thread."""
        s = self.suggester
        worker = self.language_worker
        streams = hasattr(s, "on_partial") and hasattr(s, "should_stop")
        if streams:
            s.on_partial = lambda task, cands: self._deliver(
                SuggestionsReady(req.request_id, tuple(cands), time=self.clock()))
            s.should_stop = worker.pending if worker is not None else None
        try:
            return s.phrases_from_labels(list(req.query), context=list(req.context))
        finally:
            if streams:
                s.on_partial = s.should_stop = None

    def _deliver(self, result) -> None:
        self._results.put(result)
        notify = self.notify
        if notify is not None:
            notify()

    def _failed(self, item, exc: BaseException) -> None:
        # Every worker's failure reaches the notice board; the patient sees plain words, never the exception.
        names = {"RequestSuggestions": "suggestions", "OnsetWindow": "gesture decoding", "AttemptEnd": "gesture decoding"}
        what = names.get(type(item).__name__, type(item).__name__)
        plain = ("Suggestions are limited for now. You can still spell." if what == "suggestions"
                 else "A gesture could not be read. Please try again.")
        self._deliver(_Notice(f"{what} failed ({type(exc).__name__}: {exc}); carrying on without it",
                              key=f"worker:{what}", patient=plain))

    # -- the UI thread's one call ---------------------------------------------------------------
    def pump(self, now: float | None = None) -> SessionView:
        now = self.clock() if now is None else now
        view = SessionView()
        if self.acquisition is not None:
            for ev in self.acquisition.drain():
                if isinstance(ev, StreamStatus):
                    self.status = view.status = ev
                    self._mark("state", ev)
                    self._stream_notice(ev)
                elif isinstance(ev, (Burst, BurstEnd)):
                    view.bursts.append(ev)
                    self._mark("burst", ev)
                    if isinstance(ev, BurstEnd):
                        self._log_signal(ev, view)
                elif isinstance(ev, SignalFault):
                    view.faults.append(ev)
                    self._signal_notice(ev)
                elif isinstance(ev, Threshold):
                    view.threshold = ev
                    self._log_signal(ev, view)
                elif isinstance(ev, RateCheck):
                    self._rate_notice(ev)
        while True:
            try:
                item = self._results.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, GestureDecision):
                self.last_decision = item
                view.decisions.append(item)
                self._mark("decision", item, now)
                if self.log is not None:
                    try:
                        self.log.gesture(now, item.time, item.confidence, item.is_action, item.label)
                    except Exception as exc:
                        self._problem(view, "session-log", f"session log: {exc}")
                if self.calibration is None:
                    self._feed(item, view)
            elif isinstance(item, SuggestionsReady):
                self._feed(item, view)
            elif isinstance(item, _Notice):
                view.notices.append(item.text)
                self.notices.raise_(item.key, item.text, item.patient, until_fixed=item.until_fixed)
            elif isinstance(item, _ForCalibration):
                view.windows.append(item.event)
        self._speech_results(now, view)
        self._watch_language()
        if self._last_fault_time is not None and self.status is not None and \
                self.status.state == "connected" and self._stream_time() - self._last_fault_time > SIGNAL_QUIET_S:
            self._last_fault_time = None
            self.notices.resolve("signal")
        if self.calibration is not None:
            self.calibration.feed(view)
        self._feed(Tick(now), view)
        return view

    def handle(self, event, view: SessionView | None = None) -> SessionView:
        """Feed one event directly (a key press in the caregiver's hands, a test, the simulator)."""
        view = view or SessionView()
        self._feed(event, view)
        return view

    def _feed(self, event, view: SessionView) -> None:
        before = (self.speller.state.highlight, self.speller.state.content, self.speller.state.choices)
        outputs = self.speller.handle(event)
        after = (self.speller.state.highlight, self.speller.state.content, self.speller.state.choices)
        view.changed |= before != after
        for out in outputs:
            view.outputs.append(out)
            if isinstance(out, RequestSuggestions) and self.language_worker is not None:
                self.language_worker.submit(out)
            elif isinstance(out, Speak):
                self._speak(out, view)
            elif isinstance(out, CallForHelp):
                self.help_calls += 1
                view.notices.append("CALL FOR HELP")
                self.notices.raise_("help", "The patient called for help.", "Help is being called.")
            elif isinstance(out, MessageChanged) and self.journal is not None:
                self._journal_message(out.message, view)
            if self.log is not None and isinstance(out, (Selected, CallForHelp)):
                self._log(out, view)
            if isinstance(out, Selected):
                self._mark("selection", out.kind, out.value)
            elif isinstance(out, CallForHelp):
                self._mark("selection", "call_for_help", "")

    def _speak(self, out: Speak, view: SessionView) -> None:
        if self.suggester is not None:
            try:
                self.suggester.learn(out.text)
            except Exception as exc:
                self._problem(view, "memory", f"phrase memory could not learn this phrase: {exc}")
        if self.journal is not None:
            try:
                self.journal.spoken(out.text)
            except Exception as exc:
                self._problem(view, "journal", f"journal: {exc}", "Your words are not being saved. Please tell your "
                                                                     "caregiver.", until_fixed=True)
        if self.speech is None:
            self._log_spoken(out, False, view)
            view.notices.append("speech is off: the message stays on screen")
            self.notices.raise_("speech", "speech is off: the message stays on screen",
                                "The voice is off. Your message is on the screen.", until_fixed=True)
            return
        # The session log records the outcome when the voice reports it (speech_ok true only if it spoke).
        self._speaking[self.speech.say(out.text)] = out

    def _log_spoken(self, out: Speak, ok: bool, view: SessionView) -> None:
        if self.log is not None:
            try:
                self.log.spoken(out.time, out.text, ok)
            except Exception as exc:
                self._problem(view, "session-log", f"session log: {exc}")

    def _problem(self, view: SessionView, key: str, text: str, patient: str | None = None,
                 until_fixed: bool = False) -> None:
        """A failure: in this pump's view and on the notice board, where it stays until resolved or seen."""
        view.notices.append(text)
        self.notices.raise_(key, text, patient if patient is not None else "Something needs the caregiver's attention.",
                            until_fixed=until_fixed)

    def _speech_results(self, now: float, view: SessionView) -> None:
        """The voice's results: a failure is a notice until the voice works again, and the words come back."""
        events = getattr(self.speech, "events", None)
        if events is None:
            return
        from ..speech.events import SpeechFailed

        while True:
            try:
                ev = events.get_nowait()
            except queue.Empty:
                break
            asked = self._speaking.pop(getattr(ev, "request_id", None), None)
            failed = isinstance(ev, SpeechFailed)
            if asked is not None:
                self._log_spoken(asked, not failed, view)
            if not failed:
                self.notices.resolve("speech")
                continue
            view.notices.append(ev.message)
            self.notices.raise_("speech", f"{ev.message} (not spoken: {len(ev.text)} characters)",
                                "The voice did not work. Your message is back on the screen.", until_fixed=True)
            self._restore_unspoken(ev.text, view)

    def _restore_unspoken(self, text: str, view: SessionView) -> None:
        """Put words the voice failed to say back in the message, if the patient has not started another."""
        from dataclasses import replace as _replace

        state = self.speller.state
        if not text.strip() or state.content.message.strip():
            return
        self.speller.state = _replace(state, content=_replace(state.content, message=text))
        view.changed = True
        if self.journal is not None:
            self._journal_message(text, view)
        self._ask_for_suggestions()

    def _log(self, out, view: SessionView) -> None:
        try:
            if isinstance(out, Selected):
                if out.kind == "undo":
                    self.log.undo(out.time)
                else:
                    self.log.selection(out.time, out.kind, len(out.value), out.value)
            else:
                self.log.note(out.time, "call_for_help")
        except Exception as exc:  # a log must never cost the patient a selection
            self._problem(view, "session-log", f"session log: {exc}")

    def _log_signal(self, ev, view: SessionView) -> None:
        """Content-free signal figures for the progression report: rest noise when a rest was captured,
        a burst's per-channel amplitude when it ended (standard deviation of the raw samples, profile units)."""
        if self.log is None or self.acquisition is None:
            return
        try:
            ring = self.acquisition.source.ring
            oldest = ring.total - len(ring)
            scale = self.acquisition.profile.scale
            if isinstance(ev, Threshold):
                n = min(int(ev.samples), len(ring))
                if n > 1:
                    data, ts = ring.latest(n)
                    self.log.rest(float(ts[-1]), (data.std(axis=0) * scale).tolist(), n)
            elif ev.onset_index >= oldest and ev.offset_index > ev.onset_index:
                data, _ = ring.read(ev.onset_index, min(ev.offset_index, ring.total))
                self.log.burst(ev.onset_time, ev.duration_s, ev.peak, ev.channels, (data.std(axis=0) * scale).tolist())
        except Exception as exc:  # a log must never cost the patient anything
            view.notices.append(f"session log: {exc}")

    def _mark(self, what: str, *args) -> None:
        """Hand an event to the LSL marker outlets; they never raise, and a missing sink is nothing."""
        if self.markers is not None:
            getattr(self.markers, what)(*args)

    def _journal_message(self, message: str, view: SessionView) -> None:
        try:
            self.journal.set_message(message)
        except Exception as exc:
            self._problem(view, "journal", f"journal: could not save the message ({exc}); it is still on screen",
                          "Your words are not being saved. Please tell your caregiver.", until_fixed=True)
        else:
            if "journal" in self.notices and getattr(self.journal, "path", None) is not None:
                self.notices.resolve("journal")

    # -- notices from the stream, the signal and the language model -----------------------------
    def _stream_notice(self, status: StreamStatus) -> None:
        if status.state in ("disconnected", "wrong device"):
            plain = ("The sensor is disconnected. Your message is kept." if status.state == "disconnected"
                     else "The wrong sensor is connected. Your message is kept.")
            what = "Amplifier disconnected" if status.state == "disconnected" else "Wrong amplifier"
            self.notices.raise_("stream", f"{what}: {status.message.rstrip('. ')}. Your message is kept.", plain)
        elif status.state == "connected":
            self.notices.resolve("stream")

    def _rate_notice(self, check: RateCheck) -> None:
        if check.ok:
            self.notices.resolve("rate")
            return
        self.notices.raise_("rate", f"The stream declares {check.declared_hz:g} Hz but sends {check.measured_hz:.0f} "
                                    f"samples per second (over {check.span_s:.1f} s of its timestamps): gesture "
                                    f"windows cover the wrong time. Check the amplifier's rate setting.",
                            "The sensor is not working properly. Gestures may be wrong.")

    def _signal_notice(self, fault: SignalFault) -> None:
        """One notice while faults keep coming (channels and kinds merged), not one per chunk."""
        if "signal" not in self.notices:
            self._fault_channels, self._fault_kinds = set(), set()
        self._last_fault_time = fault.time
        self._fault_channels.update(fault.channels)
        self._fault_kinds.update(k for n, k in ((fault.nonfinite, "not-a-number/infinite"),
                                                (fault.out_of_range, "out-of-range")) if n)
        chans = ",".join(str(c + 1) for c in sorted(self._fault_channels))
        self.notices.raise_("signal", f"Signal faults on channel(s) {chans}: {' and '.join(sorted(self._fault_kinds))} "
                                      f"samples are being repaired; check the electrodes and cable.",
                            "The sensor signal is noisy. Gestures may be missed.")

    def _stream_time(self) -> float:
        acq = self.acquisition
        try:
            _, times = acq.chain.filtered.latest(1)
            return float(times[-1]) if len(times) else -1e18
        except Exception:
            return -1e18

    def _watch_language(self) -> None:
        backend = getattr(self.suggester, "backend", None)
        state = getattr(backend, "state", None)
        if state == "failed":
            self.notices.raise_("language", f"language model: {backend.message}; suggestions come from phrase "
                                            f"memory and the word list", "Suggestions are limited for now.",
                                until_fixed=True)
            return
        problem = getattr(getattr(backend, "generator", None), "problem", "")
        if problem:
            self.notices.raise_("language", f"language model: {problem}; suggestions come from phrase memory and "
                                            f"the word list", "Suggestions are limited for now.", until_fixed=True)
        elif "language" in self.notices:
            self.notices.resolve("language")


@dataclass(frozen=True)
class _Notice:
    text: str
    key: str = "worker"
    patient: str | None = None
    until_fixed: bool = False


@dataclass(frozen=True)
class _ForCalibration:
    event: object  # OnsetWindow | AttemptEnd


def _lsl_clock():
    try:
        from pylsl import local_clock
        return local_clock
    except Exception:  # pragma: no cover - pylsl ships with its library
        return time.monotonic
