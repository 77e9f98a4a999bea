#!/usr/bin/env bash
# Regenerates requirements.lock and requirements-dev.lock (hashes included) from the .in files
# with pip-tools, installed in a throwaway venv so nothing lands in the global site-packages.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
"${PYTHON:-python3}" -m venv "$tools"
"$tools/bin/python" -m pip install --quiet pip-tools==7.6.2
cd "$here"
for name in requirements requirements-dev; do
  "$tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-find-links \
    --output-file "$name.lock" "$name.in"
done
