#!/usr/bin/env bash
# Installs everything myovox needs into a project-local virtual environment.
# Safe to run again: pip skips what is already there. Called by `make run` / `make test`.
set -euo pipefail
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "myovox needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1)." >&2
    exit 1
fi

# System packages: espeak-ng is the offline voice; the libxcb/xkb libraries are what Qt's X11 plugin needs
# to open the bedside window on a desktop (a minimal Debian lacks libxcb-cursor0 in particular).
SYSTEM_PACKAGES="espeak-ng libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1 libfontconfig1 libdbus-1-3"
if command -v dpkg-query >/dev/null 2>&1; then
    missing=""
    for p in $SYSTEM_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
            echo "== installing system packages:$missing"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
        else
            echo "!! missing system packages:$missing" >&2
            echo "!! speech and the window need them: sudo apt-get install$missing" >&2
        fi
    fi
elif ! command -v espeak-ng >/dev/null 2>&1; then
    echo "!! espeak-ng is not installed: speech will be off until it is." >&2
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip

# llama-cpp-python compiles llama.cpp (several minutes on 2 cores); it is installed once per venv.
# GGML_NATIVE=OFF keeps the build portable to the other bedside machines of the same kind.
echo "== installing myovox and its dependencies (first run compiles llama.cpp: ~5 min)"
CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" \
    "$VENV/bin/python" -m pip install -q -e ".[dev,train]"
# The signal chain's numba kernel compiles once (~15 s) into numba's cache; doing it here keeps the
# first bedside start as quick as the later ones. A failure only means the reference path is used.
echo "== compiling the signal kernel (once)"
"$VENV/bin/python" -c "from myovox.signal import kernel; raise SystemExit(0 if kernel.warm_up() else 1)" \
    || echo "!! the signal kernel did not compile: the slower reference path will be used" >&2
echo "== set-up complete"
