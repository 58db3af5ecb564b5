#!/usr/bin/env python3
"""Build the offline clinic bundle: one archive a bedside machine of the same kind installs with no network.

    python3 packaging/build_bundle.py [--out dist/] [--python .venv/bin/python]

The archive `myovox-clinic-<version>-<platform>.tar` holds
    wheels/           every wheel myovox needs at the bedside (its runtime dependencies, the default language
                      model's packages, a prebuilt llama-cpp-python) and myovox's own wheel
    device_profiles/  models/   the shipped profiles and encoders (also inside myovox's wheel)
    install.sh        makes a venv, checks SHA256SUMS, installs with `pip --no-index --find-links wheels`,
                      ends with `myovox self-check` (encoder, language model, voice)
    SHA256SUMS        of every file above

llama.cpp is never compiled here: the llama-cpp-python wheel comes from pip's wheel cache (the one pip built
for the set-up's venv), from $MYOVOX_LLAMA_WHEEL, or is repacked from the dist installed in --python's venv.
Everything else is fetched by `pip wheel` (from pip's cache when the set-up already downloaded it).
espeak-ng is a system package and is not in the bundle: the install script says if it is missing.
"""
from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LLAMA = "llama_cpp_python"

INSTALL_SH = r"""#!/usr/bin/env bash
# Installs myovox from this bundle with no network: checks the bundle, makes a venv, installs only from
# ./wheels (pip --no-index), then runs the self-check (encoder, language model, voice).
#   bash install.sh [VENV]      (default: ~/.local/share/myovox/venv; PYTHON=python3.11 to choose the Python)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${1:-${VENV:-$HOME/.local/share/myovox/venv}}"
PYTHON="${PYTHON:-python3}"
cd "$HERE"
# Only this bundle is looked at: no pip configuration file, no PIP_* variable (an index, find-links) from outside.
for v in $(compgen -e | grep '^PIP_' || true); do unset "$v"; done
echo "== checking the bundle (sha256 of every file)"
sha256sum --check --quiet --strict SHA256SUMS
echo "== creating $VENV"
"$PYTHON" -m venv "$VENV"
echo "== installing from the bundle only (no network)"
PIP_CONFIG_FILE=/dev/null "$VENV/bin/python" -m pip install --quiet --no-index --find-links "$HERE/wheels" \
    --disable-pip-version-check "myovox==@VERSION@"
if ! command -v espeak-ng >/dev/null 2>&1; then
    echo "!! espeak-ng is not installed: speech stays off until it is (Debian/Ubuntu: apt-get install espeak-ng)" >&2
fi
echo "== self-check"
"$VENV/bin/myovox" self-check
echo "== installed: start it with $VENV/bin/myovox run, or at every login: $VENV/bin/myovox install-autostart"
"""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def project_version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def cached_llama_wheels() -> list[Path]:
    """Wheels of llama-cpp-python that pip built before and kept in its wheel cache."""
    try:
        cache = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True).stdout.strip()
    except OSError:
        cache = ""
    roots = [Path(cache)] if cache else []
    roots.append(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pip")
    found = []
    for root in roots:
        if (root / "wheels").is_dir():
            found += sorted((root / "wheels").rglob(f"{LLAMA}-*.whl"), key=lambda p: p.stat().st_mtime)
    return found


def repack_installed(python: str, dist: str, out_dir: Path) -> Path:
    """A wheel made from an installed distribution's files (its RECORD), for a dist pip did not cache."""
    code = ("import importlib.metadata as m, json, sys; d = m.distribution(sys.argv[1]); "
            "print(json.dumps({'version': d.version, 'base': str(d.locate_file('')), "
            "'files': [str(f) for f in d.files or []], 'meta': d.read_text('WHEEL') or ''}))")
    import json

    info = json.loads(subprocess.run([python, "-c", code, dist], check=True, capture_output=True, text=True).stdout)
    base = Path(info["base"])
    tag = next((line.split(":", 1)[1].strip() for line in info["meta"].splitlines() if line.startswith("Tag:")), None)
    if tag is None:
        raise RuntimeError(f"{dist}: its WHEEL file names no tag; cannot repack")
    name = dist.replace("-", "_")
    out = out_dir / f"{name}-{info['version']}-{tag}.whl"
    records = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        record_name = None
        for rel in info["files"]:
            if rel.startswith("..") or "__pycache__" in rel or rel.endswith(".pyc"):
                continue  # scripts outside site-packages and byte code are made again by pip
            if rel.endswith(".dist-info/RECORD"):
                record_name = rel
                continue
            if rel.endswith((".dist-info/INSTALLER", ".dist-info/REQUESTED", ".dist-info/direct_url.json")):
                continue
            data = (base / rel).read_bytes()
            z.writestr(rel, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append((rel, f"sha256={digest}", str(len(data))))
        if record_name is None:
            raise RuntimeError(f"{dist}: no RECORD; cannot repack")
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(records + [(record_name, "", "")])
        z.writestr(record_name, buf.getvalue())
    return out


def llama_wheel(python: str, work: Path) -> Path:
    env = os.environ.get("MYOVOX_LLAMA_WHEEL")
    if env:
        return Path(env)
    cached = cached_llama_wheels()
    if cached:
        return cached[-1]
    print("   no llama-cpp-python wheel in pip's cache: repacking the one installed in", python)
    return repack_installed(python, "llama-cpp-python", work)


def build(out_dir: Path, python: str) -> Path:
    version = project_version()
    pyver = subprocess.run([python, "-c", "import sys; print(f'{sys.version_info[0]}{sys.version_info[1]}')"],
                           check=True, capture_output=True, text=True).stdout.strip()
    plat = f"{platform.system().lower()}-{platform.machine()}-py{pyver}"  # the wheels fit this platform and Python
    name = f"myovox-clinic-{version}-{plat}"
    work = Path(tempfile.mkdtemp(prefix="myovox-bundle-"))
    stage = work / name
    wheels = stage / "wheels"
    wheels.mkdir(parents=True)
    t0 = time.monotonic()
    llama = llama_wheel(python, work)
    shutil.copy2(llama, wheels / llama.name)
    print(f"== llama-cpp-python: {llama.name} (prebuilt, {llama.stat().st_size / 1e6:.0f} MB)")
    print("== collecting every wheel the bedside needs (pip wheel)")
    subprocess.run([python, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--prefer-binary",
                    "--wheel-dir", str(wheels), "--find-links", str(wheels), "--only-binary", "llama-cpp-python",
                    str(ROOT)], check=True)
    for folder in ("device_profiles", "models"):
        shutil.copytree(ROOT / folder, stage / folder, ignore=shutil.ignore_patterns("experiments", "provenance"))
    (stage / "install.sh").write_text(INSTALL_SH.replace("@VERSION@", version))
    (stage / "install.sh").chmod(0o755)
    files = sorted(p for p in stage.rglob("*") if p.is_file())
    (stage / "SHA256SUMS").write_text("".join(f"{sha256(p)}  {p.relative_to(stage)}\n" for p in files))
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / f"{name}.tar"
    with tarfile.open(archive, "w") as tar:  # wheels are zips already: compressing again buys nothing
        tar.add(stage, arcname=name)
    shutil.rmtree(work)
    n_wheels = sum(1 for p in files if p.suffix == ".whl")
    print(f"== bundle: {archive} ({archive.stat().st_size / 1e6:.0f} MB, {n_wheels} wheels) "
          f"in {time.monotonic() - t0:.0f} s; sha256 {sha256(archive)}")
    print(f"   install with: tar xf {archive.name} && bash {name}/install.sh")
    return archive


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "dist"), help="folder for the archive (default: dist/)")
    default_py = ROOT / ".venv" / "bin" / "python"
    ap.add_argument("--python", default=str(default_py) if default_py.exists() else sys.executable,
                    help="the Python (and venv) whose pip collects the wheels (default: the project's .venv)")
    args = ap.parse_args(argv)
    build(Path(args.out), args.python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
