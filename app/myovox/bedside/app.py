"""Bedside: builds the running chain from the settings and keeps it alive through profile switches,
calibrations and bad files. Everything a window needs to do is a method here, so the window stays a view.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..interact.machine import DIRECT, GROUPS, Content, Speller, SpellerState, default_roles
from ..profiles import DeviceProfile, ProfileError, find_profile
from .calibration import CalibrationRunner, recommend
from .session import BedsideSession
from .setup import load_decoder_for, speller_config


class Bedside:
    def __init__(self, profile: DeviceProfile | None = None, predicate: str | None = None, home: str | Path | None = None,
                 use_llm: bool = True, speech=True, acquisition=True, suggester=None):
        from ..session.files import UserDirs
        from ..session.settings import SettingsStore

        self.notices: list[str] = []
        self.dirs = UserDirs.locate(home)
        self.dirs_home = home
        self.store = SettingsStore(home)
        loaded = self.store.load()
        self.settings = loaded.settings
        if loaded.notice:
            self.notices.append(loaded.notice)
        if profile is None:
            try:
                profile = find_profile(self.settings.device_profile)
            except ProfileError as exc:
                self.notices.append(f"{exc}; using the Myo profile")
                profile = find_profile("myo")
        self.predicate = predicate
        self.mode: str | None = None
        self.roles: dict[str, str] | None = None
        self.journal = self._open_journal()
        self.log = self._open_log()
        decoder, self.decoder_message = load_decoder_for(profile)
        if suggester is None:
            suggester = self._open_suggester(use_llm)
        self.suggester = suggester
        self.speech = self._open_speech() if speech else None
        acq = self._open_acquisition(profile) if acquisition else None
        state = self._restored_state()
        self.session = BedsideSession(profile, self._speller_config(), acquisition=acq, decoder=decoder,
                                      suggester=suggester, speech=self.speech, journal=self.journal, log=self.log,
                                      speller_state=state)
        self._load_saved_calibration()

    # -- building blocks (each failure is a notice, never a crash) ---------------------------------
    def _with_detector_k(self, profile: DeviceProfile) -> DeviceProfile:
        """The clinician's burst-threshold override (settings.detector_k), if any, on top of the profile."""
        k = self.settings.detector_k
        return profile if k is None else replace(profile, detector=replace(profile.detector, k=float(k)))

    def _open_acquisition(self, profile: DeviceProfile):
        from ..stream.acquisition import Acquisition

        return Acquisition(self._with_detector_k(profile), predicate=self.predicate, keep_envelope=True)

    def _open_suggester(self, use_llm: bool):
        try:
            from ..language.suggester import open_suggester

            setting = self.settings.llm_server_url or self.settings.llm_model_path
            return open_suggester(setting, use_model=use_llm, deadline_s=self.settings.llm_deadline_s,
                                  memory_path=self.dirs.data / "phrase_memory.json")
        except Exception as exc:
            self.notices.append(f"suggestions are off: {exc}")
            return None

    def _open_speech(self):
        try:
            from ..speech.worker import SpeechWorker

            worker = SpeechWorker()
            try:
                worker.set_voice(self.settings.voice)
                worker.set_rate(self.settings.speech_rate_wpm)
            except ValueError as exc:
                self.notices.append(f"voice settings: {exc}")
            if not worker.status.available:
                self.notices.append(worker.status.message)
            return worker
        except Exception as exc:
            self.notices.append(f"speech is off ({exc}); messages stay on screen")
            return None

    def _open_journal(self):
        try:
            from ..session.journal import MessageJournal

            journal = MessageJournal(self.dirs.data / "journal.log")
            if journal.restored.notice:
                self.notices.append(journal.restored.notice)
            return journal
        except Exception as exc:
            self.notices.append(f"the message journal could not be opened ({exc}): a crash could lose the message")
            return None

    def _open_log(self):
        try:
            from ..session.session_log import SessionLog

            return SessionLog.open_default(self.dirs_home, log_content=self.settings.log_content)
        except Exception as exc:
            self.notices.append(f"session log is off ({exc})")
            return None

    def _restored_state(self) -> SpellerState | None:
        if self.journal is None:
            return None
        r = self.journal.restored
        if not (r.message or r.conversation):
            return None
        if r.message:
            self.notices.append("Your unfinished message was restored.")
        return SpellerState(content=Content(message=r.message), conversation=tuple(line.text for line in r.conversation))

    def _speller_config(self):
        s = self.settings
        return speller_config(self.mode, self.roles, prediction="phrases", scan_period_s=s.scan_period_s)

    def _load_saved_calibration(self) -> None:
        s = self.session
        if s.decoder is None:
            return
        runner = CalibrationRunner(s, self.dirs.data / "calibrations", self.settings.patient_id)
        path = runner.path() if s.acquisition is not None else None
        if path is None or not path.exists():
            return
        try:
            cal = s.decoder.load_calibration(path)
        except Exception as exc:
            self.notices.append(f"saved calibration not used ({exc}); please calibrate")
            return
        rec = recommend(cal.labels, cal.reliable)
        if rec is not None:
            self.apply_calibration(cal, *rec)
            self.notices.append(f"calibration of {cal.created} loaded: {', '.join(rec[1])}")

    # -- what the window calls -------------------------------------------------------------------
    def start(self) -> None:
        self.session.start()

    def close(self) -> None:
        if getattr(self, "_closed", False):
            return
        self._closed = True
        self.session.stop()
        if self.speech is not None:
            self.speech.close()
        if self.journal is not None:
            self.journal.close()
        if self.log is not None:
            self.log.close()

    def settings_value(self, key: str, default=None):
        return getattr(self.settings, key, default)

    def status_line(self) -> str:
        parts = [f"profile {self.session.profile.key}", self.decoder_message]
        if self.session.decoder is not None and self.session.decoder.calibration is not None:
            parts.append(f"calibrated: {self.mode} mode, gestures {', '.join(self.roles or {})}")
        if self.suggester is not None:
            parts.append(self.suggester.status)
        if self.speech is not None:
            parts.append(self.speech.status.message)
        return " · ".join(p for p in parts if p)

    def calibration_runner(self) -> CalibrationRunner | None:
        if self.session.decoder is None or self.session.acquisition is None:
            return None
        return CalibrationRunner(self.session, self.dirs.data / "calibrations", self.settings.patient_id)

    def apply_calibration(self, calibration, mode: str, roles: dict[str, str]) -> None:
        """Use a new calibration: the speller's mode and roles change, the message stays. The clinician's
        confidence setting decides when a decision acts, whatever the calibration was fitted with."""
        decoder = self.session.decoder
        if decoder is not None:
            decoder.use(replace(calibration, rejection_threshold=self.settings.rejection_threshold))
        self.mode, self.roles = mode, dict(roles)
        chosen = self.settings.four_gesture_mode
        if mode in (DIRECT, GROUPS) and mode != chosen and len(roles) >= 4:  # the clinician's choice for 4+ gestures
            self.mode, self.roles = chosen, default_roles(list(roles), chosen)
        if self._reconfigure_speller() and self.mode != GROUPS:
            self.session.speller.state = replace(self.session.speller.state, highlight=type(self.session.speller.state.highlight)())

    def _reconfigure_speller(self) -> bool:
        """The speller follows the mode and settings; between the board modes and the keyboard (groups) it
        is another kind of speller, built afresh with the message carried over. True if it was kept."""
        config = self._speller_config()
        old = self.session.speller
        if (config.mode == GROUPS) != (old.config.mode == GROUPS):
            from ..interact.keyboard import state_with_message  # noqa: PLC0415

            self.session.speller = Speller(config, state_with_message(config.mode, old.message))
            return False
        old.config = config
        return True

    def update_settings(self, changes: dict) -> list[str]:
        """Apply the clinician's changes; a value out of range is refused with its reason, the rest applies."""
        messages = []
        llm = changes.pop("llm_model", None)
        if llm is not None:
            changes["llm_server_url"] = llm if llm.startswith(("http://", "https://")) else None
            changes["llm_model_path"] = llm if llm and not llm.startswith(("http://", "https://")) else None
        new = self.settings
        for key, value in changes.items():
            try:
                new = new.with_changes(**{key: value})
            except ValueError as exc:
                messages.append(f"not changed: {exc}")
        if new == self.settings:
            return messages or ["nothing changed"]
        old, self.settings = self.settings, new
        try:
            self.store.save(new)
            messages.append("settings saved")
        except OSError as exc:
            messages.append(f"settings apply now but could not be saved: {exc}")
        self._reconfigure_speller()
        decoder = self.session.decoder
        if decoder is not None and decoder.calibration is not None and \
                decoder.calibration.rejection_threshold != new.rejection_threshold:
            decoder.use(replace(decoder.calibration, rejection_threshold=new.rejection_threshold))
            messages.append(f"gestures act from confidence {new.rejection_threshold:.2f}")
        if old.detector_k != new.detector_k and self.session.acquisition is not None:
            acq = self.session.acquisition
            acq.switch_profile(self._with_detector_k(find_profile(acq.profile.key)), predicate=self.predicate)
            messages.append("burst threshold changed: rest is captured again (keep the patient relaxed)")
        if self.speech is not None:
            try:
                self.speech.set_voice(new.voice)
                self.speech.set_rate(new.speech_rate_wpm)
            except ValueError as exc:
                messages.append(f"voice: {exc}")
        if (old.llm_model_path, old.llm_server_url) != (new.llm_model_path, new.llm_server_url):
            messages.append("the language model changes at the next start")
        return messages

    def switch_profile(self, profile: DeviceProfile) -> str:
        """Another amplifier while running: new stream, new encoder; the message and conversation stay."""
        s = self.session
        if s.acquisition is not None:
            s.acquisition.switch_profile(self._with_detector_k(profile), predicate=self.predicate)
        decoder, self.decoder_message = load_decoder_for(profile)
        s.use_decoder(decoder, profile)
        self.mode = self.roles = None  # a calibration belongs to one profile: back to one-key scanning
        self._reconfigure_speller()
        try:  # kept in the live settings too, or the next settings change would save the old profile back
            self.settings = self.settings.with_changes(device_profile=profile.key)
            self.store.save(self.settings)
        except (OSError, ValueError) as exc:
            self.notices.append(f"profile switched for this session only: {exc}")
        self._load_saved_calibration()
        return f"switched to {profile.key}: {self.decoder_message}"
