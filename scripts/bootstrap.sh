#!/usr/bin/env bash
# Everything a fresh clone needs: the .venv with Redline and its dev tools, pinned by
# constraints.txt, and the local services' software (scripts/services.sh install).
# `bootstrap.sh --venv` stops after the venv (what `make replay`, `make bench` and `make lint` need).
# Quiet and quick when nothing changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3.11}
STAMP=.venv/.redline-installed   # hash of the inputs of the last successful pip install

if [ ! -x .venv/bin/python ]; then
  command -v "$PYTHON" >/dev/null || { echo "bootstrap: $PYTHON not found" >&2; exit 1; }
  echo "bootstrap: creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi

inputs=$(cat pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$inputs" ]; then
  echo "bootstrap: installing Redline and its dev dependencies into .venv"
  if [ -f constraints.txt ]; then
    .venv/bin/python -m pip install -q -c constraints.txt -e '.[dev]'
  else
    # First install without a lock: record what was resolved (`make lock` refreshes it).
    .venv/bin/python -m pip install -q -e '.[dev]'
    .venv/bin/python -m pip freeze --exclude-editable >constraints.txt
    inputs=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
  fi
  echo "$inputs" >"$STAMP"
fi

[ "${1:-}" = "--venv" ] && exit 0
scripts/services.sh install
