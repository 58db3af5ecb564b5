"""The caregiver's calibration wizard: a view over `bedside.calibration.CalibrationFlow`.

Page 1 names the gestures (the patient's own movements, in the caregiver's words) and the number of
repetitions; page 2 captures rest and then each cued repetition as the detector sees it, with a redo
button; page 3 shows the quality report and saves it.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox,
                               QStackedWidget, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ..bedside.calibration import CalibrationFlow
from ..events import REST_LABEL


class CalibrationWizard(QDialog):
    """Emits `finished_calibration(calibration, mode, roles)` when the caregiver accepts the result."""

    finished_calibration = Signal(object, str, object)

    def __init__(self, runner, parent=None):
        """`runner` is a `bedside.calibration.CalibrationRunner` bound to the live session."""
        super().__init__(parent)
        self.runner = runner
        self.setWindowTitle("Calibrate gestures")
        self.resize(760, 520)
        self.stack = QStackedWidget()
        lay = QVBoxLayout(self)
        lay.addWidget(self.stack)
        self.stack.addWidget(self._names_page())
        self.stack.addWidget(self._capture_page())
        self.stack.addWidget(self._report_page())
        self.flow: CalibrationFlow | None = None
        self.result = None
        self._fit_failed = False

    # -- page 1: names ---------------------------------------------------------------------------
    def _names_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.addWidget(QLabel("<h2>Gestures</h2>Name the movements this patient can make, separated by commas "
                             "(for example: <i>eyebrow, thumb, jaw, foot</i>). One gesture is enough for scanning."))
        self.names = QLineEdit("select")
        self.names.setMinimumHeight(40)
        lay.addWidget(self.names)
        row = QHBoxLayout()
        row.addWidget(QLabel("Repetitions of each:"))
        self.reps = QSpinBox()
        self.reps.setRange(1, 10)
        self.reps.setValue(3)
        row.addWidget(self.reps)
        row.addStretch(1)
        lay.addLayout(row)
        self.names_error = QLabel("")
        self.names_error.setStyleSheet("color:#c0392b;")
        lay.addWidget(self.names_error)
        lay.addStretch(1)
        start = QPushButton("Start: capture rest")
        start.setMinimumHeight(48)
        start.clicked.connect(self.start)
        lay.addWidget(start)
        self.quick = QPushButton("Returning patient: quick check (rest, then one of each saved gesture)")
        self.quick.setMinimumHeight(48)
        self.quick.clicked.connect(self.start_quick_check)
        lay.addWidget(self.quick)
        return page

    def saved_gestures(self) -> list[str]:
        """The gestures of the calibration in use, if it can take a quick check (else empty)."""
        decoder = self.runner.session.decoder
        cal = decoder.calibration if decoder is not None else None
        if cal is None or cal.training is None:
            return []
        return [g for g in cal.labels if g != REST_LABEL]

    def start_quick_check(self) -> None:
        gestures = self.saved_gestures()
        if not gestures:
            self.names_error.setText("No saved calibration with a quick check for this patient and amplifier: "
                                     "calibrate afresh (name the gestures above).")
            return
        self.flow = CalibrationFlow(gestures, 1, returning=True)
        self._begin()

    def start(self) -> None:
        try:
            self.flow = CalibrationFlow(self.names.text().split(","), self.reps.value())
        except ValueError as exc:
            self.names_error.setText(str(exc))
            return
        self._begin()

    def _begin(self) -> None:
        self._fit_failed = False
        self.runner.begin(self.flow)
        self.stack.setCurrentIndex(1)
        self.refresh()

    # -- page 2: capture -------------------------------------------------------------------------
    def _capture_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        self.prompt = QLabel("")
        self.prompt.setAlignment(Qt.AlignCenter)
        self.prompt.setStyleSheet("font-size:26pt; font-weight:bold; padding:20px;")
        lay.addWidget(self.prompt)
        self.detail = QLabel("")
        self.detail.setAlignment(Qt.AlignCenter)
        self.detail.setWordWrap(True)
        lay.addWidget(self.detail)
        self.bar = QProgressBar()
        lay.addWidget(self.bar)
        lay.addStretch(1)
        row = QHBoxLayout()
        self.redo = QPushButton("Redo the last one")
        self.redo.clicked.connect(self.redo_last)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.reject)
        for b in (self.redo, self.cancel):
            b.setMinimumHeight(44)
            row.addWidget(b)
        lay.addLayout(row)
        return page

    def redo_last(self) -> None:
        if self.flow is not None and not self.runner.fitting:
            self._fit_failed = False
            self.flow.redo_last()
            self.runner.redo()
            self.refresh()

    def refresh(self) -> None:
        """Called by the main window's timer after each pump: shows the flow's step and fits at the end."""
        if self.flow is None:
            return
        step = self.flow.step
        done, total = self.flow.progress
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.prompt.setText(step.prompt)
        if step.kind == "rest":
            self.detail.setText(f"Keep still. {self.runner.rest_progress_text()}")
        elif step.kind == "gesture":
            hint = f"<br><b>{self.runner.hint}</b>" if self.runner.hint else ""
            self.detail.setText(f"Ask the patient to make the '{step.gesture}' movement once, then relax. "
                                f"The repetition is taken when the burst ends.{hint}")
        elif self.stack.currentIndex() == 1 and (step.kind == "fit" or self.runner.fitting):
            self._fit()  # the flow says "done" as soon as the worker has fitted; the result is collected here

    def _fit(self) -> None:
        """Starts the fit in the runner's worker, then collects it on a later refresh: never blocks the screen."""
        try:
            if not self.runner.fitting:
                if self._fit_failed:
                    return  # the caregiver reads the error; Redo starts over
                self.detail.setText("Fitting the patient's gestures...")
                self.redo.setEnabled(False)  # the repetitions are being fitted; redo once the fit is back
                self.runner.start_fit()
                return
            result = self.runner.finish_fit()
        except Exception as exc:  # shown, never raised at the bedside
            self.redo.setEnabled(True)
            self._fit_failed = True
            self.detail.setText(f"Calibration failed: {str(exc).rstrip('.')}. Redo the last repetition or cancel.")
            return
        if result is None:
            return
        self.redo.setEnabled(True)
        self.result = result
        self._show_report()
        self.stack.setCurrentIndex(2)

    # -- page 3: report --------------------------------------------------------------------------
    def _report_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-size:13pt;")
        lay.addWidget(self.summary)
        self.table = QTableWidget()
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        again = QPushButton("Redo the last repetition")
        again.clicked.connect(self._back_to_capture)
        save = QPushButton("Save and use")
        save.setMinimumHeight(48)
        save.clicked.connect(self._accept)
        row.addWidget(again)
        row.addWidget(save)
        lay.addLayout(row)
        return page

    def _show_report(self) -> None:
        cal = self.result
        rec = self.flow.recommendation()
        acc = ", ".join(f"{k}: {100 * v:.0f} %" for k, v in cal.per_gesture_accuracy.items())
        if rec is None:
            mode_text = "<b>No gesture is reliable enough yet.</b> Redo repetitions or choose other movements."
        else:
            mode_text = f"Recommended mode: <b>{rec[0]}</b> with {', '.join(f'{g} = {r}' for g, r in rec[1].items())}."
        notes = "".join(f"<br>{n}" for n in cal.notes)
        head = "Quick check" if self.flow.returning else "Quality"
        self.summary.setText(f"<h3>{head}</h3>Estimated accuracy per gesture, per attempt (cross-validated over the "
                             f"repetitions): {acc}.<br>Reliable: {', '.join(cal.reliable) or 'none'}.<br>{mode_text}{notes}")
        labels = list(cal.labels)
        cols = labels + ["no action"]
        conf = cal.confusion
        self.table.setRowCount(len(labels))
        self.table.setColumnCount(len(cols))
        self.table.setHorizontalHeaderLabels(cols)
        self.table.setVerticalHeaderLabels(labels)
        for i in range(len(labels)):
            for j in range(len(cols)):
                v = conf[i][j] if i < len(conf) and j < len(conf[i]) else 0
                self.table.setItem(i, j, QTableWidgetItem(str(v)))

    def _back_to_capture(self) -> None:
        self.redo_last()
        self.stack.setCurrentIndex(1)

    def _accept(self) -> None:
        rec = self.flow.recommendation()
        if rec is None:
            self.summary.setText(self.summary.text() + "<br><b>Nothing to use: no reliable gesture.</b>")
            return
        try:
            self.runner.save(self.result)
        except OSError as exc:
            self.summary.setText(self.summary.text() + f"<br><b>Could not save: {exc}</b> (in use for this session only)")
        self.finished_calibration.emit(self.result, rec[0], rec[1])
        self.accept()
