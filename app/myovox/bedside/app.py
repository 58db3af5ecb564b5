"""Bedside: builds the running chain from the settings and keeps it alive through profile switches,
calibrations and bad files. Everything a window needs to do is a method here, so the window stays a view.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from ..interact.machine import DIRECT, GROUPS, LIKELY, SCAN, SPLIT, STEP, Content, Speller, SpellerState, default_roles
from ..profiles import DeviceProfile, ProfileError, find_profile
from .calibration import CalibrationRunner, recommend
from .notices import NoticeBoard
from .session import BedsideSession
from .setup import load_decoder_for, speller_config


#: Measured next session on myo_readings (session-1 calibration, today's rest only): 4.0-12.0 % of attempts acted
#: wrong; with the quick check's one repetition per gesture 1.1-2.9 % (docs/notes/issue-12.md, session 8).
def calibrated_before_today(created: str, today: date | None = None) -> bool:
    """Whether a calibration's `created` stamp (ISO date or date-time) lies on an earlier day than today. A stamp
    that cannot be read counts as earlier: the caregiver is asked to check rather than told nothing."""
    try:
        made = datetime.fromisoformat(str(created)).date()
    except ValueError:
        return True
    return made < (today or date.today())


class Bedside:
    def __init__(self, profile: DeviceProfile | None = None, predicate: str | None = None, home: str | Path | None = None,
                 use_llm: bool = True, speech=True, acquisition=True, suggester=None):
        from ..session.files import UserDirs
        from ..session.settings import SettingsStore

        self.notices: list[str] = []  # every start-up notice, in order (also on the board below)
        self.board = NoticeBoard()
        self.dirs = UserDirs.locate(home)
        self.dirs.make_private()  # 0700 folders; one that cannot be made is reported by the journal/log below
        self.dirs_home = home
        self.store = SettingsStore(home)
        loaded = self.store.load()
        self.settings = loaded.settings
        if loaded.notice:
            self._notice("settings", loaded.notice, "Some settings were reset to safe values.")
        if profile is None:
            try:
                profile = find_profile(self.settings.device_profile)
            except ProfileError as exc:
                profile = _shipped_myo()
                self._notice("profile", f"{exc}; using the shipped Myo profile", "The sensor set-up was reset.")
        self.predicate = predicate
        self.mode: str | None = None
        self.roles: dict[str, str] | None = None
        self.journal = self._open_journal()
        self._profile_key = profile.key
        self.log = self._open_log()
        decoder, self.decoder_message = load_decoder_for(profile)
        self._encoder_notice(profile, decoder)
        if suggester is None:
            suggester = self._open_suggester(use_llm)
        self.suggester = suggester
        self.speech = self._open_speech() if speech else None
        acq = self._open_acquisition(profile) if acquisition else None
        state = self._restored_state()
        self.markers = self._open_markers(profile) if self.settings.lsl_markers else None
        self.session = BedsideSession(profile, self._speller_config(), acquisition=acq, decoder=decoder,
                                      suggester=suggester, speech=self.speech, journal=self.journal, log=self.log,
                                      speller_state=state, markers=self.markers, notices=self.board)
        self._load_saved_calibration()

    def _notice(self, key: str, text: str, patient: str | None = None, until_fixed: bool = False) -> None:
        self.notices.append(text)
        self.board.raise_(key, text, patient, until_fixed=until_fixed)

    def _encoder_notice(self, profile: DeviceProfile, decoder) -> None:
        """A profile whose encoder cannot be loaded (missing, corrupt, mismatched) is a failure until fixed."""
        if decoder is None and profile.model:
            self._notice("encoder", self.decoder_message, "Gestures cannot be read now. The caregiver can use the keys.",
                         until_fixed=True)
        else:
            self.board.resolve("encoder")

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
            self._notice("suggestions", f"suggestions are off: {exc}", "Suggestions are off. You can still spell.",
                         until_fixed=True)
            return None

    def _open_speech(self):
        try:
            from ..speech.worker import SpeechWorker

            worker = SpeechWorker()
            try:
                why = worker.check_voice(self.settings.voice)
                if why:
                    raise ValueError(f"{why}; speaking with {worker.status.backend}'s default voice")
                worker.set_voice(self.settings.voice)
                worker.set_rate(self.settings.speech_rate_wpm)
            except ValueError as exc:
                self._notice("voice", f"voice settings: {exc}", "The voice setting was not accepted.")
            if not worker.status.available:
                self._notice("speech", worker.status.message, "The voice is off. Your messages stay on the screen.",
                             until_fixed=True)
            return worker
        except Exception as exc:
            self._notice("speech", f"speech is off ({exc}); messages stay on screen",
                         "The voice is off. Your messages stay on the screen.", until_fixed=True)
            return None

    def _open_markers(self, profile: DeviceProfile):
        try:
            from ..stream.markers import MarkerOutlets

            return MarkerOutlets(profile, patient_id=self.settings.patient_id, log_content=self.settings.log_content)
        except Exception as exc:
            self.notices.append(f"LSL markers are off ({exc})")
            return None

    def _open_journal(self):
        try:
            from ..session.journal import MessageJournal

            journal = MessageJournal(self.dirs.data / "journal.log")
            if journal.restored.notice:
                self._notice("journal-damaged", journal.restored.notice, "Part of your saved words could not be read.")
            return journal
        except Exception as exc:
            self._notice("journal", f"the message journal could not be opened ({exc}): your words are not saved, so a "
                                    f"crash could lose the message; fix the data folder {self.dirs.data}",
                         "Your words are not being saved. Please tell your caregiver.", until_fixed=True)
            return None

    def _open_log(self):
        try:
            from ..session.session_log import SessionLog

            return SessionLog.open_default(self.dirs_home, log_content=self.settings.log_content,
                                           patient=self.settings.patient_id, profile=self._profile_key)
        except Exception as exc:
            self._notice("session-log", f"session log is off ({exc})")
            return None

    def _restored_state(self) -> SpellerState | None:
        if self.journal is None:
            return None
        r = self.journal.restored
        if not (r.message or r.conversation):
            return None
        if r.message:
            self._notice("restored", "Your unfinished message was restored.", "Your unfinished message was restored.")
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
            self._notice("calibration", f"saved calibration not used ({exc}); please calibrate",
                         "Gestures need a new calibration.")
            return
        rec = recommend(cal.labels, cal.reliable)
        if rec is not None:
            self.apply_calibration(cal, *rec)
            text = f"calibration of {cal.created} loaded: {', '.join(rec[1])}"
            if calibrated_before_today(cal.created):
                text += ("; it is from an earlier day: run the quick check in the calibration wizard (rest, then one "
                         "of each gesture) before relying on it")
            self._notice("calibration", text, "Your gesture calibration was loaded.")

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
        if self.markers is not None:
            self.markers.close()

    def settings_value(self, key: str, default=None):
        return getattr(self.settings, key, default)

    def status_line(self) -> str:
        parts = [f"profile {self.session.profile.key}", self.decoder_message]
        if self.session.decoder is not None and self.session.decoder.calibration is not None:
            parts[1] = self.decoder_message.replace(": calibrate to use gestures", "")
            parts.append(f"calibrated: {self.mode} mode, gestures {', '.join(self.roles or {})}")
        if self.suggester is not None:
            parts.append(self.suggester.status)
        if self.speech is not None:
            parts.append(self.speech.status.message)
        return " · ".join(p for p in parts if p)

    def calibration_runner(self) -> CalibrationRunner | None:
        if self.session.decoder is None or self.session.acquisition is None:
            return None
        runner = CalibrationRunner(self.session, self.dirs.data / "calibrations", self.settings.patient_id)
        try:  # the patient's calibration folder is 0700 before the runner writes into it
            from ..session.files import private_dir

            private_dir(runner.path().parent)
        except OSError as exc:
            self._notice("calibration-folder", f"calibrations cannot be saved: {exc}")
        return runner

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
        few = {SCAN: self.settings.one_gesture_mode, LIKELY: self.settings.one_gesture_mode,
               STEP: self.settings.few_gesture_mode, SPLIT: self.settings.few_gesture_mode}
        if mode in few and mode != few[mode] and len(roles) <= 3:  # the clinician's choice for 1 and for 2-3
            self.mode, self.roles = few[mode], default_roles(list(roles), few[mode])
        if self._reconfigure_speller() and isinstance(self.session.speller.state, SpellerState):
            self.session.speller.state = replace(self.session.speller.state, highlight=type(self.session.speller.state.highlight)())

    def _reconfigure_speller(self) -> bool:
        """The speller follows the mode and settings; between the board modes and the keyboard (groups) it
        is another kind of speller, built afresh with the message carried over. True if it was kept."""
        config = self._speller_config()
        old = self.session.speller
        def kind(mode):  # the board modes share a state; the keyboard and the mass modes each have their own
            return GROUPS if mode == GROUPS else "mass" if mode in (LIKELY, SPLIT) else "board"

        same = (config.mode, dict(config.roles)) == (old.config.mode, dict(old.config.roles))
        if kind(config.mode) != kind(old.config.mode) or (kind(config.mode) == "mass" and not same):
            from ..interact.keyboard import state_with_message  # noqa: PLC0415
            from ..interact.mass import mass_state_with_message  # noqa: PLC0415

            if kind(config.mode) == "mass":
                state = mass_state_with_message(config, old.message)
            else:
                state = state_with_message(config.mode, old.message)
            self.session.speller = Speller(config, state)
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
        voice = changes.get("voice")
        if voice is not None and self.speech is not None and voice != self.settings.voice:
            why = self.speech.check_voice(voice)
            if why:
                messages.append(f"voice not changed: {why}")
                changes.pop("voice")
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
        if self.markers is not None:
            self.markers.log_content = new.log_content
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

    def start_report(self):
        """Build the patient's progression report (`myovox report`) in a worker thread, so the screen keeps
        painting; returns a Future of the page's path (<data>/reports/<patient>/index.html)."""
        import threading
        from concurrent.futures import Future

        future: Future = Future()
        patient, data, logs = self.settings.patient_id, self.dirs.data, self.dirs.logs

        def work() -> None:
            try:
                from ..report.render import build_report

                future.set_result(build_report(patient, data, logs, data / "reports" / (patient or "patient")))
            except Exception as exc:  # shown in the settings tab, never lost
                future.set_exception(exc)

        threading.Thread(target=work, name="progression-report", daemon=True).start()
        return future

    def switch_profile(self, profile: DeviceProfile) -> str:
        """Another amplifier while running: new stream, new encoder; the message and conversation stay."""
        s = self.session
        if s.acquisition is not None:
            s.acquisition.switch_profile(self._with_detector_k(profile), predicate=self.predicate)
        decoder, self.decoder_message = load_decoder_for(profile)
        self._encoder_notice(profile, decoder)
        s.use_decoder(decoder, profile)
        if self.markers is not None:
            self.markers.profile_switched(profile)
        self.mode = self.roles = None  # a calibration belongs to one profile: back to one-key scanning
        self._reconfigure_speller()
        try:  # kept in the live settings too, or the next settings change would save the old profile back
            self.settings = self.settings.with_changes(device_profile=profile.key)
            self.store.save(self.settings)
        except (OSError, ValueError) as exc:
            self._notice("profile", f"profile switched for this session only: {exc}")
        self._load_saved_calibration()
        return f"switched to {profile.key}: {self.decoder_message}"


def _shipped_myo() -> DeviceProfile:
    """The Myo profile as shipped, when the saved or clinic one cannot be used."""
    from ..profiles.profile import PROFILE_DIR, load_profile

    return load_profile(PROFILE_DIR / "myo.toml")
