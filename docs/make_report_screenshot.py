"""The progression report's screenshot for the README, rendered by headless Chromium:

    .venv/bin/python docs/make_report_screenshot.py          (needs Debian's chromium)

Three sessions of the bundled real clip replayed over LSL through the whole bedside chain, each calibrated
and saved as a patient's would be, the clip's fists scaled to 100 / 85 / 70 % (myovox.report.demo): a
muscle weakening over minutes instead of weeks. Then `myovox report`, then a screenshot of its page.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "screenshots" / "progression_report.png"


def main() -> int:
    from myovox.cli import main as myovox
    from myovox.report.demo import record_demo_sessions

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("needs chromium (apt-get install chromium)")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        home, report = Path(tmp) / "home", Path(tmp) / "report"
        print("decisions per session:", record_demo_sessions(home, patient="P01"))
        myovox(["report", "--patient", "P01", "--home", str(home), "--out", str(report)])
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={Path(tmp) / 'chromium'}", "--hide-scrollbars", "--window-size=1400,2050",
                        f"--screenshot={OUT}", (report / "index.html").as_uri()], check=True, capture_output=True)
    print(f"saved {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
