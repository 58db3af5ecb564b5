"""The clinician's progression report: calibrations and session logs over weeks, as an HTML page."""
