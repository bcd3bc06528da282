#!/usr/bin/env bash
# Builds the real Kubernetes test control plane from the Go module proxy and caches the binaries:
#   kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes, via the wrapper module in
#   scripts/setup/k8s-build whose replace directives map the staging modules to their published
#   versions), etcd (go.etcd.io/etcd/server/v3, the version Kubernetes itself pins) and kwok
#   (sigs.k8s.io/kwok, which simulates nodes and pod execution; there is no kubelet here).
#   The scheduler is the real one too: kwok only plays the kubelet, binding is the scheduler's job.
# Cold build on a shared 2-core machine: ~27 min (docs/runners.md); warm Go caches: seconds.
# Idempotent: a second run finds the binaries in ~/.cache/maestro/k8s/<version>/ and exits at once.
# Tests find the binaries through MAESTRO_K8S_BIN (default: that cache directory).
set -euo pipefail

K8S_VERSION="v1.34.4"
KWOK_VERSION="v0.7.0"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${MAESTRO_K8S_BIN:-$HOME/.cache/maestro/k8s/$K8S_VERSION}"
mkdir -p "$out"

# The test harness makes kwok's kubelet serving certificate with openssl.
command -v openssl >/dev/null || apt-get install -y -o DPkg::Lock::Timeout=600 openssl

have_all=1
for b in kube-apiserver kube-controller-manager kube-scheduler etcd kwok; do
  [ -x "$out/$b" ] || have_all=0
done
if [ "$have_all" = 1 ]; then
  echo "kubernetes.sh: binaries cached in $out"
  exit 0
fi

command -v go >/dev/null || { echo "kubernetes.sh: Go is required (https://go.dev/dl)" >&2; exit 1; }
export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0
start=$(date +%s)

# Version stamps so the apiserver reports (and emulates) the real release instead of v0.0.0.
major="${K8S_VERSION#v}"; major="${major%%.*}"
minor="${K8S_VERSION#v*.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

build() { # <output name> <package>
  [ -x "$out/$1" ] && return 0
  echo "kubernetes.sh: building $1 ($2)"
  (cd "$here/k8s-build" && nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$out/$1.tmp" "$2")
  mv "$out/$1.tmp" "$out/$1"
}

build etcd go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler
if [ ! -x "$out/kwok" ]; then
  echo "kubernetes.sh: building kwok $KWOK_VERSION"
  GOBIN="$out" nice -n 10 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
fi

echo "kubernetes.sh: built in $(($(date +%s) - start))s into $out"
