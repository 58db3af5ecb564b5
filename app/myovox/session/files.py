"""Where myovox keeps per-user files, and how it writes them so a crash never leaves half a file."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

HOME_ENV = "MYOVOX_HOME"


@dataclass(frozen=True)
class UserDirs:
    """Settings, journal and logs. With $MYOVOX_HOME (or an explicit home) all three live under it."""

    config: Path
    data: Path
    logs: Path

    @classmethod
    def locate(cls, home: str | Path | None = None) -> "UserDirs":
        home = home if home is not None else os.environ.get(HOME_ENV) or None
        if home is not None:
            h = Path(home)
            return cls(config=h / "config", data=h / "data", logs=h / "logs")
        return cls(config=Path(platformdirs.user_config_dir("myovox", appauthor=False)),
                   data=Path(platformdirs.user_data_dir("myovox", appauthor=False)),
                   logs=Path(platformdirs.user_log_dir("myovox", appauthor=False)))

    def make_private(self) -> list[str]:
        """Create (or tighten) the three folders as 0700; returns a problem per folder that could not be."""
        problems = []
        for d in (self.config, self.data, self.logs):
            try:
                private_dir(d)
                if d.stat().st_mode & 0o077:
                    os.chmod(d, 0o700)
            except OSError as exc:
                problems.append(f"{d}: {exc}")
        return problems


def private_dir(path: Path) -> Path:
    """`path` as a folder, creating every missing level 0700 (only the owner can list or read the patient's
    files). mkdir's mode is masked by the umask, so each new level is chmod'ed too."""
    path = Path(path)
    missing, p = [], path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(d, 0o700)
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a folder")
    return path


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in `directory` survive power loss (best effort where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write to a temp file beside `path`, fsync it, then os.replace: readers see old or new, never half."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
