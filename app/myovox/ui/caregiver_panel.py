"""The caregiver's panel: live signal and envelope per channel, burst markers, channel quality, stream
state and the last decision. It reads the acquisition's rings; it never drives the amplifier."""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QPushButton, QVBoxLayout, QWidget

from ..events import NOT_CONFIRMED, REST_LABEL, UNCONFIRMED_START

FAULT_MARK_S = 2.0  # a channel's red "artefacts" mark clears after this many stream seconds without a fault

STATE_COLOURS = {"connected": "#1e8449", "searching": "#b9770e", "disconnected": "#c0392b",
                 "wrong device": "#c0392b", "stopped": "#7f8c8d"}


class CaregiverPanel(QWidget):
    def __init__(self, seconds: float = 5.0, parent=None):
        super().__init__(parent)
        self.seconds = seconds
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.state = QLabel("stream: not started")
        self.state.setWordWrap(True)
        self.state.setStyleSheet("font-size:14pt; padding:6px; color:white; background:#7f8c8d;")
        top.addWidget(self.state, 3)
        self.decision = QLabel("decision: -")
        self.decision.setStyleSheet("font-size:14pt; padding:6px;")
        top.addWidget(self.decision, 2)
        lay.addLayout(top)
        # Every unresolved notice with the time it was first raised; acknowledged ones that need a fix stay.
        notes = QHBoxLayout()
        self.notice_list = QListWidget()
        self.notice_list.setMaximumHeight(130)
        self.notice_list.setWordWrap(True)
        notes.addWidget(self.notice_list, 1)
        acks = QVBoxLayout()
        self.ack_button = QPushButton("Acknowledge")
        self.ack_all_button = QPushButton("Acknowledge all")
        for b in (self.ack_button, self.ack_all_button):
            b.setMinimumHeight(36)
            acks.addWidget(b)
        notes.addLayout(acks)
        lay.addLayout(notes)
        self._notice_keys: list[str] = []
        self.model = QLabel("")
        self.model.setWordWrap(True)
        lay.addWidget(self.model)
        self.partner = QLineEdit()  # what the partner just said: conditions the suggestions (Enter to apply)
        self.partner.setPlaceholderText("They just said… (optional: the suggestions take it into account)")
        lay.addWidget(self.partner)
        pg.setConfigOptions(antialias=False, exitCleanup=False)
        self.plots = pg.GraphicsLayoutWidget()
        self.signal_plot = self.plots.addPlot(row=0, col=0, title="filtered signal per channel")
        self.signal_plot.hideAxis("left")
        self.env_plot = self.plots.addPlot(row=1, col=0, title="TKEO envelope / rest spread (bursts above the line)")
        self.env_plot.setLogMode(y=True)
        self.signal_plot.setXLink(self.env_plot)
        lay.addWidget(self.plots, 1)
        self.quality = QGridLayout()
        lay.addLayout(self.quality)
        buttons = QHBoxLayout()
        self.calibrate_button = QPushButton("Calibrate gestures…")
        self.rest_button = QPushButton("Recapture rest")
        for b in (self.calibrate_button, self.rest_button):
            b.setMinimumHeight(44)
            buttons.addWidget(b)
        lay.addLayout(buttons)
        self._curves: list = []
        self._env_curves: list = []
        self._markers: list = []
        self._quality_labels: list[QLabel] = []
        self._channels = 0
        self._fault_channels: dict[int, float] = {}  # channel -> stream time of its last repaired sample
        self._thr_line = None

    def show_notices(self, notices) -> None:
        """The board's active notices: time first raised, the words, and whether it was seen."""
        self.notice_list.clear()
        self._notice_keys = []
        for n in notices:
            stamp = time.strftime("%H:%M:%S", time.localtime(n.since))
            extra = f" (x{n.count})" if n.count > 1 else ""
            seen = "  [seen; stays until fixed]" if n.acknowledged else ""
            self.notice_list.addItem(f"{stamp}  {n.text}{extra}{seen}")
            self._notice_keys.append(n.key)

    def selected_notice(self) -> str | None:
        row = self.notice_list.currentRow()
        return self._notice_keys[row] if 0 <= row < len(self._notice_keys) else None

    def _setup_channels(self, n: int) -> None:
        self.signal_plot.clear()
        self.env_plot.clear()
        self._curves = [self.signal_plot.plot(pen=pg.intColor(i, n)) for i in range(n)]
        self._env_curves = [self.env_plot.plot(pen=pg.intColor(i, n)) for i in range(n)]
        self._markers = []
        while self.quality.count():
            w = self.quality.takeAt(0).widget()
            if w:
                w.deleteLater()
        self._quality_labels = []
        for i in range(n):
            lab = QLabel(f"ch{i + 1}")
            lab.setStyleSheet("padding:3px; border:1px solid #999;")
            self.quality.addWidget(lab, i // 8, i % 8)
            self._quality_labels.append(lab)
        self._channels = n
        self._fault_channels = {}
        self._thr_line = None

    def show_status(self, status) -> None:
        colour = STATE_COLOURS.get(status.state, "#7f8c8d")
        self.state.setText(f"stream: {status.state} — {status.message}")
        self.state.setStyleSheet(f"font-size:14pt; padding:6px; color:white; background:{colour};")

    def show_decision(self, decision) -> None:
        """The last attempt's decision, how sure, and how long after the burst's onset it came (stream clock)."""
        when = f"{1000 * decision.latency_s:.0f} ms after onset, {decision.windows} window{'s' * (decision.windows != 1)}"
        if decision.began_rest_like:
            when += "; the burst began rest-like, so it was watched longer"
        elif decision.reason.endswith(UNCONFIRMED_START):
            when += "; the classical check disagreed at first, so it was watched longer"
        elif decision.watched_longer:
            when += "; the burst began unsure, so it was watched longer"
        if decision.is_action:
            self.decision.setText(f"decision: {decision.label} ({decision.confidence:.2f}), {when}")
        elif NOT_CONFIRMED in decision.reason:
            self.decision.setText(f"decision: no action ({decision.top} at {decision.confidence:.2f}, but the classical "
                                  f"check disagreed), {when}")
        elif decision.top == REST_LABEL or decision.label == REST_LABEL:
            self.decision.setText(f"decision: no action (looked like rest), {when}")
        else:
            self.decision.setText(f"decision: no action (unsure: {decision.top or '?'} at {decision.confidence:.2f}), {when}")

    def mark_faults(self, faults) -> None:
        for f in faults:
            for c in f.channels:
                self._fault_channels[c] = max(f.time, self._fault_channels.get(c, f.time))

    def faulty_channels(self, now: float) -> set[int]:
        """Channels with a repaired sample in the last FAULT_MARK_S stream seconds (older marks are dropped)."""
        self._fault_channels = {c: t for c, t in self._fault_channels.items() if now - t <= FAULT_MARK_S}
        return set(self._fault_channels)

    def update_plots(self, chain, bursts) -> None:
        """Redraw from the chain's filtered ring (newest `seconds`), with burst onsets as vertical lines."""
        if chain is None:
            return
        n_ch = chain.profile.channels
        if n_ch != self._channels:
            self._setup_channels(n_ch)
        n = int(self.seconds * chain.profile.rate_hz)
        data, times = chain.filtered.latest(n)
        if len(times) < 2:
            return
        t = times - times[-1]
        spread = np.std(data, axis=0) + 1e-12
        step = 3.0
        for i, curve in enumerate(self._curves):
            curve.setData(t, data[:, i] / spread[i] + step * i)
        det = chain.detector
        ring = chain.envelope_ring
        if det is not None and ring is not None and len(ring) >= 2:
            e, _ = ring.latest(n)
            z = np.maximum(det.scores(e), 1e-3)
            tt = t[-len(z):]
            for i, curve in enumerate(self._env_curves):
                curve.setData(tt, z[:, i])
            if self._thr_line is None:
                self._thr_line = pg.InfiniteLine(pos=np.log10(det.threshold.k), angle=0, pen=pg.mkPen("r", style=Qt.DashLine))
                self.env_plot.addItem(self._thr_line)
        for b in bursts:
            if hasattr(b, "confirmed_index"):
                line = pg.InfiniteLine(pos=0.0, angle=90, pen=pg.mkPen("y", width=2))
                line.onset_time = b.onset_time
                self.signal_plot.addItem(line)
                self._markers.append(line)
        keep = []
        for m in self._markers:
            x = m.onset_time - times[-1]
            if x < -self.seconds:
                self.signal_plot.removeItem(m)
            else:
                m.setPos(x)
                keep.append(m)
        self._markers = keep
        rms = np.sqrt(np.mean(data[-int(chain.profile.rate_hz):] ** 2, axis=0))
        faulty = self.faulty_channels(float(times[-1]))
        for i, lab in enumerate(self._quality_labels):
            flat = rms[i] < 1e-9
            bad = flat or i in faulty
            colour = "#c0392b" if bad else "#1e8449"
            why = "flat" if flat else ("artefacts" if i in faulty else f"{rms[i]:.3g}")
            lab.setText(f"ch{i + 1}: {why}")
            lab.setStyleSheet(f"padding:3px; border:1px solid #999; color:white; background:{colour};")
