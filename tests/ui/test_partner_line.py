"""The caregiver types what the partner just said; the suggestions are conditioned on it."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from myovox.bedside.app import Bedside  # noqa: E402
from myovox.profiles import find_profile  # noqa: E402
from myovox.ui.main_window import MainWindow  # noqa: E402


def test_the_partner_line_typed_in_the_caregiver_panel_reaches_the_suggester(qtbot, tmp_path):
    bedside = Bedside(find_profile("myo"), home=tmp_path, use_llm=False, speech=False, acquisition=False)
    try:
        window = MainWindow(bedside)
        qtbot.addWidget(window)
        field = window.caregiver.partner
        field.setText("  Do you want   some tea?  ")
        field.editingFinished.emit()
        assert bedside.session.suggester.partner_line == "Do you want some tea?"
        field.setText("")
        field.editingFinished.emit()
        assert bedside.session.suggester.partner_line == ""
    finally:
        bedside.close()
