#!/usr/bin/env bash
# Regenerates go.mod/go.sum of the cluster wrapper module for one Kubernetes release.
# k8s.io/kubernetes requires its staging modules at v0.0.0 and maps them with
# `=> ./staging/src/...` replaces, which Go ignores in a dependency; so we copy that
# list from the release's own go.mod and pin each staging module to v0.<minor>.<patch>.
# Usage: ./update-gomod.sh v1.35.4
set -euo pipefail
version="${1:?usage: update-gomod.sh v1.X.Y}"
if [[ ! "$version" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]]; then
  echo "version must look like v1.35.4, got: $version" >&2
  exit 2
fi
staging_version="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
cd "$(dirname "$0")"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

mod_file="$(go mod download -json "k8s.io/kubernetes@${version}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
[[ -f "$mod_file" ]] || { echo "could not download k8s.io/kubernetes@${version}" >&2; exit 1; }

mapfile -t staging < <(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#\1#p' "$mod_file" | sort -u)
echo "k8s.io/kubernetes ${version}: ${#staging[@]} staging modules -> ${staging_version}"

# Start from a clean module so no stale replace survives a version change.
cat > go.mod <<MOD
module adci.local/testcluster

go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$mod_file")
MOD
rm -f go.sum
go mod edit -require="k8s.io/kubernetes@${version}"
for module in "${staging[@]}"; do
  go mod edit -replace="${module}=${module}@${staging_version}"
done
for tool in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  go mod edit -tool="k8s.io/kubernetes/cmd/${tool}"
done
# etcd's server module is already in Kubernetes' module graph; building it here keeps
# etcd at exactly the client version the API server was tested with.
etcd_version="$(sed -n 's#^[[:space:]]*go\.etcd\.io/etcd/server/v3 \(v[0-9.]*\).*#\1#p' "$mod_file")"
go mod edit -require="go.etcd.io/etcd/server/v3@${etcd_version}" -tool=go.etcd.io/etcd/server/v3
go mod tidy
echo "go.mod regenerated for ${version} (etcd ${etcd_version})"
