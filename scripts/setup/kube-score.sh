#!/usr/bin/env bash
# Installs the pinned kube-score (a static checker of Kubernetes objects against security and
# reliability best practice, CIS-style; offline) from the Go module proxy into ~/.cache/maestro/bin
# (or $GOBIN). The hardening check (scripts/hardening.ts, test/hardening.test.ts) scores the Helm
# chart and the Kubernetes runner's Job specs with it. Chosen over Trivy (about as large to build as
# Kubernetes) and kubesec (not served by the module proxy): about two minutes cold on two cores,
# mostly k8s.io/api, which the test control plane's build has usually compiled already.
# Idempotent: a kube-score built from the pinned module version is reused. Prints its path last.
set -euo pipefail
source "$(dirname "$0")/lib/go-tool.sh"

KUBE_SCORE_VERSION="1.20.0"

# A `go install` build reports "version: development"; the module version is in its build information.
has_version() {
  local out
  [ -x "$1" ] && command -v go >/dev/null && out="$(go version -m "$1" 2>/dev/null)" &&
    grep -qE "^[[:space:]]+mod[[:space:]]+github.com/zegl/kube-score[[:space:]]+v$KUBE_SCORE_VERSION([[:space:]]|$)" <<<"$out"
}

install_go_tool kube-score "$KUBE_SCORE_VERSION" "github.com/zegl/kube-score/cmd/kube-score@v$KUBE_SCORE_VERSION" has_version
