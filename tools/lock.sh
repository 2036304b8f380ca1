#!/usr/bin/env bash
# `make lock`: the lock files from pyproject.toml's pins, every transitive dependency pinned with
# the hashes of all its files, for every platform (one lock serves Linux, macOS and the image):
# requirements.txt (what the services run: the image), requirements-dev.txt (and the tools:
# `make install`, CI). tools/requirements-uv.txt pins uv itself.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=$(command -v uv || echo .venv/bin/uv)
compile() { "$uv" pip compile --quiet --universal --python-version 3.11 --generate-hashes "$@"; }
compile pyproject.toml -o requirements.txt
compile pyproject.toml --extra dev -o requirements-dev.txt
