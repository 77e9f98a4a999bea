#!/usr/bin/env bash
# Regenerates go.mod/go.sum of the module that builds Prometheus (prometheus and promtool) for
# the tests, for one release of its Go module (github.com/prometheus/prometheus v0.3XX.Y is
# Prometheus 3.XX.Y). test/cluster/monitoring.ts builds it once per machine into
# ~/.cache/adci/prometheus-<version>-<hash of go.mod, go.sum and the build flags>/.
# Usage: ./update-gomod.sh v0.316.0
set -euo pipefail
version="${1:?usage: update-gomod.sh v0.3XX.Y}"
if [[ ! "$version" =~ ^v0\.3[0-9]{2}\.[0-9]+$ ]]; then
  echo "version must look like v0.316.0 (Prometheus 3.16.0), got: $version" >&2
  exit 2
fi
cd "$(dirname "$0")"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

mod_file="$(go mod download -json "github.com/prometheus/prometheus@${version}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
[[ -f "$mod_file" ]] || { echo "could not download github.com/prometheus/prometheus@${version}" >&2; exit 1; }
# Start from a clean module at the Go version Prometheus asks for.
cat > go.mod <<MOD
module adci.local/prometheus

go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$mod_file")
MOD
rm -f go.sum
go mod edit -require="github.com/prometheus/prometheus@${version}" \
  -tool=github.com/prometheus/prometheus/cmd/prometheus \
  -tool=github.com/prometheus/prometheus/cmd/promtool
go mod tidy
echo "go.mod regenerated for github.com/prometheus/prometheus ${version}"
