#!/usr/bin/env bash
# Builds the pinned Helm (the chart test renders deploy/helm/maestro with `helm template`) from the
# Go module proxy into ~/.cache/maestro/bin (or $GOBIN when set). Helm is built inside the Kubernetes
# wrapper module (scripts/setup/k8s-build), whose go.mod pins its version: Helm v3.19 and the test
# control plane share client-go, apimachinery and the rest of k8s.io at v0.34, so those packages
# compile once for both (the same flags as kubernetes.sh, so Go's build cache is shared).
# Idempotent: a helm reporting the pinned version is reused. Prints the binary's path on the last line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module="$here/k8s-build"
HELM_VERSION="$(awk '$1 == "helm.sh/helm/v3" { print $2 }' "$module/go.mod")"
[ -n "$HELM_VERSION" ] || { echo "helm.sh: helm.sh/helm/v3 is not required in $module/go.mod" >&2; exit 1; }
bin_dir="${GOBIN:-$HOME/.cache/maestro/bin}"
mkdir -p "$bin_dir"

has_version() {
  local out
  [ -x "$1" ] && out="$("$1" version --template '{{.Version}}' 2>/dev/null)" && [ "$out" = "$HELM_VERSION" ]
}

if has_version "$bin_dir/helm"; then
  echo "helm.sh: helm $HELM_VERSION already at $bin_dir/helm" >&2
  echo "$bin_dir/helm"
  exit 0
fi
command -v go >/dev/null || { echo "helm.sh: Go is required (https://go.dev/dl)" >&2; exit 1; }
echo "helm.sh: building helm $HELM_VERSION (in $module)" >&2
start=$(date +%s)
# What Helm's own Makefile stamps: its version, and the Kubernetes version `helm template` assumes
# (.Capabilities.KubeVersion) and lints against, here the test control plane's 1.34.
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=34"
done
(cd "$module" && GOFLAGS="-buildvcs=false -mod=mod" CGO_ENABLED=0 \
  nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$bin_dir/helm.tmp" helm.sh/helm/v3/cmd/helm)
mv "$bin_dir/helm.tmp" "$bin_dir/helm"
has_version "$bin_dir/helm" || { echo "helm.sh: the built helm does not report $HELM_VERSION" >&2; exit 1; }
echo "helm.sh: built in $(($(date +%s) - start))s" >&2
echo "$bin_dir/helm"
