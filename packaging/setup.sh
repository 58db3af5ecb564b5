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

# Speech: espeak-ng is the voice pyttsx3 drives on Linux.
if ! command -v espeak-ng >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing espeak-ng (the offline voice)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null
    else
        echo "!! espeak-ng is not installed and this is not root: speech will be off." >&2
        echo "!! Install it with: sudo apt-get install espeak-ng" >&2
    fi
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
echo "== set-up complete"
