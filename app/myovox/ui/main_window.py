"""The bedside window: patient view, caregiver panel, clinician settings.

A 30 ms timer calls `BedsideSession.pump()` and draws what it returns; that is all the UI thread does,
so it never waits on the amplifier, the encoder, the language model or the voice. A second timer
measures the longest stall of the UI thread (how late it ran), for the caregiver and the benchmark.
"""
from __future__ import annotations

import time
import traceback

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QMainWindow, QPushButton,
                               QSpinBox, QTabWidget, QVBoxLayout, QWidget)

from ..events import GestureDecision
from ..profiles import ProfileError, find_profile, list_profiles
from .caregiver_panel import CaregiverPanel
from .patient_view import PatientView


class StallMeter:
    """How late the UI thread serves a 10 ms timer: the worst lateness is the longest stall."""

    def __init__(self, parent, period_ms: int = 10):
        self.period = period_ms / 1000
        self.worst = 0.0
        self.samples: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer(parent)
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.timeout.connect(self._beat)
        self.timer.start(period_ms)

    def _beat(self) -> None:
        now = time.perf_counter()
        late = max(0.0, now - self._last - self.period)
        self._last = now
        self.worst = max(self.worst, late)
        if len(self.samples) < 200000:
            self.samples.append(late)

    def reset(self) -> None:
        self.worst = 0.0
        self.samples.clear()
        self._last = time.perf_counter()


class MainWindow(QMainWindow):
    wake = Signal()  # emitted from worker threads; delivered on the UI thread (queued)
    open_url = staticmethod(QDesktopServices.openUrl)  # how a built report is shown (the desktop's browser)

    def __init__(self, bedside, parent=None):
        """`bedside` is a `bedside.app.Bedside`: the session, settings and the actions on them."""
        super().__init__(parent)
        self.bedside = bedside
        self.setWindowTitle("myovox")
        self.resize(1280, 860)
        self.tabs = QTabWidget()
        self.setCentralWidget(self.tabs)
        self.patient = PatientView(font_pt=bedside.settings_value("font_pt", 28))
        self.caregiver = CaregiverPanel()
        self.tabs.addTab(self.patient, "Patient")
        self.tabs.addTab(self.caregiver, "Caregiver")
        self.tabs.addTab(self._settings_tab(), "Clinician settings")
        self.caregiver.calibrate_button.clicked.connect(self.open_wizard)
        self.caregiver.rest_button.clicked.connect(self.recapture_rest)
        self.caregiver.partner.editingFinished.connect(
            lambda: bedside.session.set_partner_line(self.caregiver.partner.text()))
        self.caregiver.ack_button.clicked.connect(lambda: self.acknowledge(self.caregiver.selected_notice() or ""))
        self.caregiver.ack_all_button.clicked.connect(lambda: self.acknowledge(None))
        self._board_version = -1
        self.wizard = None
        self.ui_faults = 0
        self._plot_due = 0.0
        self._status_due = 0.0
        # (stream-clock time the new highlight was painted, decision), kept only when a benchmark asks
        self.measure_paint = False
        self.highlight_changes: list[tuple[float, object]] = []
        # The caregiver's keyboard drives the speller too, e.g. before calibration: space selects, arrows move.
        for key, gesture in ((Qt.Key_Space, "key-select"), (Qt.Key_Right, "key-next"), (Qt.Key_Down, "key-next"),
                             (Qt.Key_Left, "key-previous"), (Qt.Key_Up, "key-previous"), (Qt.Key_Escape, "key-back")):
            QShortcut(QKeySequence(key), self, activated=lambda g=gesture: self.key_gesture(g))
        self.stall = StallMeter(self)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.timer.start(30)
        self.wake.connect(self.tick, Qt.QueuedConnection)
        bedside.session.notify = self.wake.emit
        self.render_notices()
        self.patient.render(bedside.session.speller)
        self.caregiver.model.setText(bedside.status_line())

    # -- the one periodic job --------------------------------------------------------------------
    def tick(self) -> None:
        """Pump and draw. A drawing fault is shown and counted; the speller and the message carry on."""
        try:
            self._tick()
        except Exception as exc:  # never let a view bug stop the bedside app
            self.ui_faults += 1
            self.statusBar().showMessage(f"display problem ({type(exc).__name__}: {exc}); the message is safe")
            if self.ui_faults <= 3:
                traceback.print_exc()

    def _tick(self) -> None:
        s = self.bedside.session
        view = s.pump()
        if view.status is not None:
            self.caregiver.show_status(view.status)
        for d in view.decisions:
            self.caregiver.show_decision(d)
        if view.faults:
            self.caregiver.mark_faults(view.faults)
        if view.threshold is not None:
            if not view.threshold.steady:
                s.notices.raise_("rest", "The rest capture was not quiet: ask the patient to relax, then press "
                                         "'Recapture rest'.", "Please relax for a moment.")
            else:
                s.notices.resolve("rest")
        self.render_notices()
        if view.changed:
            self.patient.render(s.speller)
            if view.decisions and self.measure_paint:
                self.patient.repaint()  # paint now, so the time below is when it is on screen
                now = s.clock()
                for d in view.decisions:
                    self.highlight_changes.append((now, d))
        now = time.monotonic()
        if now >= self._status_due:  # model loading, speech state: the line changes on its own
            self._status_due = now + 1.0
            self.caregiver.model.setText(self.bedside.status_line())
        if self.tabs.currentWidget() is self.caregiver and now >= self._plot_due:
            self._plot_due = now + 0.1  # 10 Hz is plenty for eyes; the signal chain is not slowed by it
            self.caregiver.update_plots(s.acquisition.chain if s.acquisition else None, view.bursts)
        if self.wizard is not None:
            self.wizard.refresh()
        if getattr(self, "_report", None) is not None and self._report.done():
            self._report_ready()

    def key_gesture(self, gesture: str) -> None:
        s = self.bedside.session
        view = s.handle(GestureDecision(gesture, 1.0, s.speller.state.now))
        if view.changed:
            self.patient.render(s.speller)
        self.render_notices()

    def show_notice(self, text: str, key: str = "ui") -> None:
        """A notice from the window itself; it stays on the board until acknowledged."""
        self.bedside.session.notices.raise_(key, text)
        self.render_notices()

    def acknowledge(self, key: str | None) -> None:
        if key != "":
            self.bedside.session.notices.acknowledge(key)
        self.render_notices()

    def recapture_rest(self) -> None:
        acq = self.bedside.session.acquisition
        if acq is None:
            self.show_notice("There is no stream: rest cannot be captured.")
            return
        acq.recapture_rest()

    def render_notices(self) -> None:
        """Draw the notice board when it changed: plain words on the patient view, the list with times for the
        caregiver, the newest in the status bar."""
        board = self.bedside.session.notices
        if board.version == self._board_version:
            return
        self._board_version = board.version
        active = board.active()
        self.patient.show_notices(board.for_patient())
        self.caregiver.show_notices(active)
        newest = max(active, key=lambda n: n.updated, default=None)
        self.statusBar().showMessage(newest.text if newest else "")

    # -- calibration -----------------------------------------------------------------------------
    def open_wizard(self) -> None:
        from .wizard import CalibrationWizard

        runner = self.bedside.calibration_runner()
        if runner is None:
            self.show_notice("No encoder is loaded for this profile: calibration needs one.")
            return
        self.wizard = CalibrationWizard(runner, self)
        self.wizard.finished_calibration.connect(self._calibrated)
        self.wizard.finished.connect(self._wizard_closed)
        self.wizard.show()

    def _calibrated(self, calibration, mode, roles) -> None:
        self.bedside.apply_calibration(calibration, mode, roles)
        self.patient.render(self.bedside.session.speller)
        self.caregiver.model.setText(self.bedside.status_line())

    def _wizard_closed(self, _result) -> None:
        if self.wizard is not None:
            self.wizard.runner.end()
        self.wizard = None

    # -- clinician settings ----------------------------------------------------------------------
    def _settings_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout()
        self.profile_box = QComboBox()
        for key in list_profiles():
            self.profile_box.addItem(key)
        self.profile_box.setCurrentText(self.bedside.session.profile.key)
        form.addRow("Device profile", self.profile_box)
        self.scan_period = QDoubleSpinBox()
        self.scan_period.setRange(0.3, 5.0)
        self.scan_period.setSingleStep(0.1)
        self.scan_period.setSuffix(" s per item")
        self.scan_period.setValue(float(self.bedside.settings_value("scan_period_s", 1.0)))
        form.addRow("Scan speed", self.scan_period)
        self.rejection = QDoubleSpinBox()
        self.rejection.setRange(0.5, 0.99)
        self.rejection.setSingleStep(0.01)
        self.rejection.setValue(float(self.bedside.settings_value("rejection_threshold", 0.8)))
        form.addRow("Act only above confidence", self.rejection)
        self.burst_k = QDoubleSpinBox()
        self.burst_k.setRange(0.0, 500.0)
        self.burst_k.setSpecialValueText("profile's own")
        self.burst_k.setValue(float(self.bedside.settings_value("detector_k", None) or 0.0))
        form.addRow("Burst threshold k (x rest spread)", self.burst_k)
        self.voice = QLineEdit(str(self.bedside.settings_value("voice", "en")))
        form.addRow("Voice", self.voice)
        self.rate = QSpinBox()
        self.rate.setRange(80, 400)
        self.rate.setValue(int(self.bedside.settings_value("speech_rate_wpm", 160)))
        form.addRow("Speech rate (words/min)", self.rate)
        self.llm = QLineEdit(str(self.bedside.settings_value("llm_server_url", None)
                                 or self.bedside.settings_value("llm_model_path", None) or ""))
        self.llm.setPlaceholderText("default: Gemma 3 270M; or a .gguf path, or http://server:8080")
        form.addRow("Language model", self.llm)
        apply = QPushButton("Apply")
        apply.setMinimumHeight(44)
        apply.clicked.connect(self.apply_settings)
        self.settings_message = QLabel("")
        self.settings_message.setWordWrap(True)
        report = QPushButton("Progression report")
        report.setMinimumHeight(44)
        report.clicked.connect(self.open_report)
        lay = QVBoxLayout(page)
        lay.addLayout(form)
        lay.addWidget(apply)
        lay.addWidget(report)
        lay.addWidget(self.settings_message)
        lay.addStretch(1)
        return page

    def apply_settings(self) -> None:
        messages = self.bedside.update_settings({
            "scan_period_s": self.scan_period.value(),
            "rejection_threshold": self.rejection.value(),
            "detector_k": self.burst_k.value() if self.burst_k.value() >= 1.0 else None,
            "voice": self.voice.text().strip(),
            "speech_rate_wpm": self.rate.value(),
            "llm_model": self.llm.text().strip(),
        })
        key = self.profile_box.currentText()
        if key != self.bedside.session.profile.key:
            try:
                messages.append(self.bedside.switch_profile(find_profile(key)))
            except ProfileError as exc:
                messages.append(f"profile not switched: {exc}")
        self.settings_message.setText("\n".join(messages))
        self.patient.render(self.bedside.session.speller)
        self.caregiver.model.setText(self.bedside.status_line())

    def open_report(self) -> None:
        """Build the patient's progression report off the UI thread; `_tick` opens it when it is ready."""
        self._report = self.bedside.start_report()
        self.settings_message.setText("Building the progression report...")

    def _report_ready(self) -> None:
        future, self._report = self._report, None
        try:
            path = future.result()
        except Exception as exc:
            self.settings_message.setText(f"The report could not be built: {type(exc).__name__}: {exc}")
            return
        self.settings_message.setText(f"Progression report: {path}")
        self.open_url(QUrl.fromLocalFile(str(path)))

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.timer.stop()
        self.bedside.session.notify = None
        self.bedside.close()
        super().closeEvent(event)
