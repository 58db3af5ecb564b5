"""Where the shipped folders (`models/`, `device_profiles/`) are: beside the package in a checkout, or under
the environment's `share/myovox/` when myovox was installed from its wheel (the clinic bundle)."""
from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def shipped_dir(name: str) -> Path:
    """The checkout's folder if it exists, else `<prefix>/share/myovox/<name>` (the wheel's data files)."""
    here = CHECKOUT / name
    if here.is_dir():
        return here
    for prefix in (sys.prefix, sys.base_prefix):
        installed = Path(prefix) / "share" / "myovox" / name
        if installed.is_dir():
            return installed
    return here  # the error messages then name the checkout's path, as before
