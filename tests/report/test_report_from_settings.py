"""The clinician opens the progression report from the settings tab: built off the UI thread, then shown."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from myovox.bedside.app import Bedside  # noqa: E402
from myovox.profiles import find_profile  # noqa: E402
from myovox.ui.main_window import MainWindow  # noqa: E402


def test_report_button_builds_the_page_and_opens_it(qtbot, tmp_path, stream_name):
    bedside = Bedside(find_profile("myo"), predicate=f"name='{stream_name}'", home=tmp_path, use_llm=False,
                      speech=False)
    window = MainWindow(bedside)
    qtbot.addWidget(window)
    opened = []
    window.open_url = opened.append  # the desktop's browser is not started by a test
    bedside.start()
    window.show()
    window.open_report()
    qtbot.waitUntil(lambda: bool(opened), timeout=60_000)
    index = tmp_path / "data" / "reports" / "patient" / "index.html"
    assert opened[0].toLocalFile() == str(index) and index.exists()
    assert "No calibration and no session" in index.read_text()  # a new patient: said, not a crash
    assert str(index) in window.settings_message.text()
    window.close()
