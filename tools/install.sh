#!/usr/bin/env bash
# `make install`: the virtual environment .venv with exactly the locked dependencies, every file
# checked against the hashes in the lock (requirements-dev.txt by default, or the file given),
# then fivetype itself in editable mode. With uv when it can be had (on PATH, else installed into
# .venv from its own hash-locked pin in tools/requirements-uv.txt): seconds instead of minutes.
# With pip otherwise. Bytecode is compiled at install, so the first start does not pay for it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
LOCK=${1:-requirements-dev.txt}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"

uv=$(command -v uv || true)
if [ -z "$uv" ] && [ -z "${FIVETYPE_INSTALL_WITH_PIP:-}" ]; then
  if "$VENV/bin/pip" install --quiet --require-hashes --no-deps -r tools/requirements-uv.txt; then
    uv=$VENV/bin/uv
  else
    echo "uv could not be installed; installing with pip (slower)" >&2
  fi
fi

if [ -n "$uv" ] && [ -z "${FIVETYPE_INSTALL_WITH_PIP:-}" ]; then
  uv_pip() { "$uv" pip "$@" --python "$VENV/bin/python" --quiet --compile-bytecode; }
  uv_pip install --require-hashes -r "$LOCK"
  uv_pip install --no-deps --editable .
else
  "$VENV/bin/pip" install --quiet --require-hashes -r "$LOCK"
  "$VENV/bin/pip" install --quiet --no-deps --editable .
fi
# The project's own modules too: four services importing them at once on the first start would
# each compile them.
"$VENV/bin/python" -m compileall -q -j 0 contracts services fivetype
