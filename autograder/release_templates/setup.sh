#!/usr/bin/env bash
# Gradescope runs this once while building the autograder image, from /autograder/source.
# It makes a Python >= 3.11 virtual environment at /autograder/venv with the pinned
# runtime dependencies (requirements.txt: torch==2.13.0 CPU wheels and the rest of
# pyproject.toml's dependencies).  The engine itself runs from /autograder/source.
# Choose Gradescope's Ubuntu 24.04 base image (Python 3.12); on 22.04 Python 3.11 is
# installed from the deadsnakes PPA.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"

find_python() {
    for py in python3.13 python3.12 python3.11 python3; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "$py"; return 0
        fi
    done
    return 1
}

PY="$(find_python || true)"
if [ -z "$PY" ]; then
    apt-get update
    apt-get install -y software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y python3.11 python3.11-venv
    PY=python3.11
fi
if ! "$PY" -m venv "$ROOT/venv"; then
    apt-get update
    apt-get install -y "$(basename "$PY")-venv" || apt-get install -y python3-venv
    "$PY" -m venv "$ROOT/venv"
fi
"$ROOT/venv/bin/python" -m pip install --upgrade pip
"$ROOT/venv/bin/python" -m pip install --no-cache-dir -r "$SOURCE/requirements.txt"
# smoke test: the engine imports with the installed dependencies
PYTHONPATH="$SOURCE" "$ROOT/venv/bin/python" -c "import torch, autograder.engine; print('torch', torch.__version__)"
