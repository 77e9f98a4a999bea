#!/usr/bin/env bash
# Prints the quality gate's thresholds for `adci gate --thresholds-file`: quality-gate.yml, plus, when
# PIP_AUDIT_ALLOW_UNAUDITED=true (only for runners that no vulnerability service answers), a line that
# accepts exactly the number of dependencies pip-audit could not audit in this run, which are otherwise
# scan errors the gate fails on. Run after scripts/quality.py; used by .gitlab-ci.yml and the Jenkinsfile.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cat "$here/quality-gate.yml"
if [ "${PIP_AUDIT_ALLOW_UNAUDITED:-false}" = true ] && [ -f "$here/reports/pip-audit.json" ]; then
  count='import json, sys; print(sum(1 for d in json.load(sys.stdin).get("dependencies", []) if d.get("skip_reason")))'
  unaudited="$("$here/.venv/bin/python" -c "$count" <"$here/reports/pip-audit.json")"
  if [ "$unaudited" -gt 0 ]; then
    echo "gate-thresholds: PIP_AUDIT_ALLOW_UNAUDITED accepts $unaudited dependencies pip-audit could not audit" >&2
    echo "findings.scan-errors: $unaudited"
  fi
fi
