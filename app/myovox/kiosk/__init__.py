"""Kiosk start: the bedside app full-screen at login, restarted after a crash.

Where a systemd user manager runs, a user unit (`Restart=on-failure`, output to the journal); otherwise an
XDG autostart entry whose command restarts the app the same way (a shell loop: again after a failure,
done after a clean quit). After a restart the message journal restores what the patient was composing.
The texts are built by pure functions; `install`/`uninstall` only write, remove and call systemctl.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

UNIT_NAME = "myovox.service"
DESKTOP_NAME = "myovox.desktop"
RESTART_DELAY_S = 2


def app_command(python: str | None = None, extra: list[str] | None = None) -> list[str]:
    """The command both the unit and the autostart entry run."""
    return [python or sys.executable, "-m", "myovox", "run", "--fullscreen", *(extra or [])]


def _systemd_quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "-_./=:,+@" for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unit_text(command: list[str], environment: dict[str, str] | None = None) -> str:
    env = "".join(f"Environment={_systemd_quote(f'{k}={v}')}\n" for k, v in sorted((environment or {}).items()))
    return f"""[Unit]
Description=myovox bedside communication (full-screen, restarted after a crash)
After=graphical-session.target
PartOf=graphical-session.target
StartLimitIntervalSec=0

[Service]
Type=simple
ExecStart={' '.join(_systemd_quote(a) for a in command)}
{env}Restart=on-failure
RestartSec={RESTART_DELAY_S}
StandardOutput=journal
StandardError=journal

[Install]
WantedBy=graphical-session.target
"""


def restart_loop(command: list[str]) -> str:
    """A POSIX shell line that runs `command` again after a failure and stops after a clean exit."""
    cmd = " ".join(shlex.quote(a) for a in command)
    return f"while :; do {cmd} && break; sleep {RESTART_DELAY_S}; done"


def desktop_text(command: list[str]) -> str:
    exec_line = "sh -c " + shlex.quote(restart_loop(command))
    # The Desktop Entry spec reserves %, and Exec is unquoted by its own rules: escape what it escapes.
    exec_line = exec_line.replace("%", "%%")
    return f"""[Desktop Entry]
Type=Application
Name=myovox
Comment=Bedside communication (full-screen, restarted after a crash)
Exec={exec_line}
Terminal=false
X-GNOME-Autostart-enabled=true
"""


def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def unit_path() -> Path:
    return config_home() / "systemd" / "user" / UNIT_NAME


def desktop_path() -> Path:
    return config_home() / "autostart" / DESKTOP_NAME


def systemd_user_available() -> bool:
    """A systemd user manager is running (not merely installed)."""
    if not shutil.which("systemctl") or not Path("/run/systemd/system").exists():
        return False
    try:
        r = subprocess.run(["systemctl", "--user", "is-system-running"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.stdout.strip() in ("running", "degraded", "starting")


@dataclass(frozen=True)
class Installed:
    kind: str  # "systemd" | "xdg"
    path: Path
    messages: tuple[str, ...]


def install(command: list[str], mode: str = "auto", environment: dict[str, str] | None = None) -> Installed:
    use_systemd = systemd_user_available() if mode == "auto" else mode == "systemd"
    msgs = []
    if use_systemd:
        path = unit_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(unit_text(command, environment))
        for step in (["daemon-reload"], ["enable", UNIT_NAME]):
            r = subprocess.run(["systemctl", "--user", *step], capture_output=True, text=True)
            msgs.append(f"systemctl --user {' '.join(step)}: {'ok' if r.returncode == 0 else r.stderr.strip()}")
        return Installed("systemd", path, tuple(msgs))
    path = desktop_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    env_prefix = [f"{k}={v}" for k, v in sorted((environment or {}).items())]
    path.write_text(desktop_text((["env", *env_prefix] if env_prefix else []) + command))
    return Installed("xdg", path, ("no systemd user manager here: an XDG autostart entry starts it at login",))


def uninstall() -> list[str]:
    removed = []
    if unit_path().exists():
        if systemd_user_available():
            subprocess.run(["systemctl", "--user", "disable", "--now", UNIT_NAME], capture_output=True)
        unit_path().unlink()
        removed.append(str(unit_path()))
        if systemd_user_available():
            subprocess.run(["systemctl", "--user", "daemon-reload"], capture_output=True)
    if desktop_path().exists():
        desktop_path().unlink()
        removed.append(str(desktop_path()))
    return removed
