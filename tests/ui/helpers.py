"""Shared set-up of the patient-view tests."""
from __future__ import annotations

from myovox.ui.patient_view import PatientView


def shown_patient_view(qtbot) -> PatientView:
    """A patient view at bedside size, shown offscreen, cleaned up with the test."""
    view = PatientView(font_pt=20)
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    return view
