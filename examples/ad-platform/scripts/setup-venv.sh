#!/usr/bin/env bash
# Creates examples/ad-platform/.venv from the hash-pinned lock files, never touching the global
# site-packages. Re-running is cheap: a stamp holding the locks' checksum skips an up-to-date venv.
# Usage: scripts/setup-venv.sh [--runtime-only]   (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
venv="$here/.venv"

# The dev lock holds the runtime pins too (it is compiled with -c requirements.lock).
locks=("$here/requirements-dev.lock")
if [ "${1:-}" = "--runtime-only" ]; then locks=("$here/requirements.lock"); fi

if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "setup-venv: $python is missing or older than Python 3.11 (set PYTHON to another interpreter)" >&2
  exit 1
fi

stamp="$venv/.adci-lock-stamp"
want="$("$python" --version 2>&1) $(cat "${locks[@]}" | sha256sum | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup-venv: $venv is up to date"
  exit 0
fi

rm -rf "$venv"
"$python" -m venv "$venv"
args=()
for lock in "${locks[@]}"; do args+=(-r "$lock"); done
# --require-hashes: every package, transitive ones included, must match the lock's hashes.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --no-deps "${args[@]}"
"$venv/bin/python" -m pip check
echo "$want" >"$stamp"
echo "setup-venv: installed $(cat "${locks[@]}" | grep -c '^[a-z]') pinned packages into $venv"
