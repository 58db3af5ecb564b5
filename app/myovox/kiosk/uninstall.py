"""`myovox uninstall-autostart`: remove the user unit and the autostart entry install-autostart wrote."""
from __future__ import annotations

from . import uninstall


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    removed = uninstall()
    print("removed: " + ", ".join(removed) if removed else "nothing to remove: no autostart was installed")
    return 0
