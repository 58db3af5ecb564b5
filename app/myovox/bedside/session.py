"""BedsideSession: one patient's running chain, from the LSL stream to speech.

    Acquisition (LSL worker) --OnsetWindow--> decoder worker --GestureDecision--\\
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

from ..events import Burst, BurstEnd, GestureDecision, OnsetWindow, SignalFault, StreamStatus, Threshold
from ..interact.events import CallForHelp, MessageChanged, RequestSuggestions, Selected, Speak, SuggestionsReady, Tick
from ..interact.machine import Speller, SpellerConfig, SpellerState
from ..language.api import next_letters
from ..profiles import DeviceProfile
from .workers import Worker

MODELS_DIR = Path(__file__).resolve().parents[3] / "models"


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
                 clock=None):
        self.profile = profile
        self.acquisition = acquisition
        self.decoder = decoder
        self.suggester = suggester
        self.speech = speech
        self.journal = journal
        self.log = log
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

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        for w in (self.decode_worker, self.language_worker):
            if w:
                w.start()
        if self.acquisition is not None:
            self.acquisition.window_sink = self._on_window
            self.acquisition.start()

    def use_decoder(self, decoder, profile: DeviceProfile) -> None:
        """Another amplifier's encoder (or none): the old decoder thread ends, a new one starts."""
        if self.decode_worker is not None:
            self.decode_worker.stop()
        self.decoder, self.profile = decoder, profile
        self.decode_worker = Worker("decoder", self._decode, self._deliver, self._failed) if decoder else None
        if self.decode_worker is not None:
            self.decode_worker.start()

    def stop(self) -> None:
        if self.acquisition is not None:
            self.acquisition.stop()
        for w in (self.decode_worker, self.language_worker):
            if w:
                w.stop()

    # -- worker jobs (run off the UI thread) ---------------------------------------------------
    def _on_window(self, window: OnsetWindow) -> None:
        if self.decode_worker is not None and self.decoder.calibration is not None:
            self.decode_worker.submit(window)

    def _decode(self, window: OnsetWindow) -> GestureDecision:
        return self.decoder.decide(window.raw, time=window.burst.onset_time)

    def _suggest(self, req: RequestSuggestions) -> SuggestionsReady:
        s = self.suggester
        if req.task == "phrases":
            cands = s.phrases_from_labels(list(req.query), context=list(req.context))
        elif req.task == "abbreviation":
            cands = s.expand_abbreviation(str(req.query), context=list(req.context))
        elif req.task == "groups":  # the ambiguous keyboard: (text before the word, the word's keys)
            cands = s.read_groups(req.query[0], req.query[1], context=list(req.context))
        else:
            cands = s.predict_words(str(req.query))
        letters = next_letters(s, str(req.query), cands) if req.task == "words" else ""
        return SuggestionsReady(req.request_id, tuple(cands), time=self.clock(), letters=letters)

    def _deliver(self, result) -> None:
        self._results.put(result)
        notify = self.notify
        if notify is not None:
            notify()

    def _failed(self, item, exc: BaseException) -> None:
        self._deliver(_Notice(f"{type(item).__name__} failed ({type(exc).__name__}: {exc}); carrying on without it"))

    # -- the UI thread's one call ---------------------------------------------------------------
    def pump(self, now: float | None = None) -> SessionView:
        now = self.clock() if now is None else now
        view = SessionView()
        if self.acquisition is not None:
            for ev in self.acquisition.drain():
                if isinstance(ev, StreamStatus):
                    self.status = view.status = ev
                elif isinstance(ev, (Burst, BurstEnd)):
                    view.bursts.append(ev)
                elif isinstance(ev, SignalFault):
                    view.faults.append(ev)
                elif isinstance(ev, Threshold):
                    view.threshold = ev
        while True:
            try:
                item = self._results.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, GestureDecision):
                self.last_decision = item
                view.decisions.append(item)
                if self.log is not None:
                    try:
                        self.log.gesture(now, item.time, item.confidence, item.label is not None, item.label)
                    except Exception as exc:
                        view.notices.append(f"session log: {exc}")
                if self.calibration is None:
                    self._feed(item, view)
            elif isinstance(item, SuggestionsReady):
                self._feed(item, view)
            elif isinstance(item, _Notice):
                view.notices.append(item.text)
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
            elif isinstance(out, MessageChanged) and self.journal is not None:
                self._journal_message(out.message, view)
            if self.log is not None and isinstance(out, (Selected, CallForHelp)):
                self._log(out, view)

    def _speak(self, out: Speak, view: SessionView) -> None:
        if self.suggester is not None:
            try:
                self.suggester.learn(out.text)
            except Exception as exc:
                view.notices.append(f"phrase memory could not learn this phrase: {exc}")
        if self.journal is not None:
            try:
                self.journal.spoken(out.text)
            except Exception as exc:
                view.notices.append(f"journal: {exc}")
        ok = self.speech is not None and self.speech.status.available
        if self.log is not None:
            try:
                self.log.spoken(out.time, out.text, ok)
            except Exception as exc:
                view.notices.append(f"session log: {exc}")
        if self.speech is None:
            view.notices.append("speech is off: the message stays on screen")
            return
        self.speech.say(out.text)

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
            view.notices.append(f"session log: {exc}")

    def _journal_message(self, message: str, view: SessionView) -> None:
        try:
            self.journal.set_message(message)
        except Exception as exc:
            view.notices.append(f"journal: could not save the message ({exc}); it is still on screen")


@dataclass(frozen=True)
class _Notice:
    text: str


def _lsl_clock():
    try:
        from pylsl import local_clock
        return local_clock
    except Exception:  # pragma: no cover - pylsl ships with its library
        return time.monotonic
