#!/usr/bin/env bash
# Builds the small OpenTelemetry Collector the tracing tests send OTLP to (otelcol-maestro: the core
# collector with the OTLP receiver and the contrib file exporter, nothing else; the module is
# scripts/setup/otelcol-build) from the Go module proxy into ~/.cache/maestro/bin (or $GOBIN).
# Why not the core distribution (otelcol): it has no file exporter, and its debug exporter writes
# text the test would have to scrape. Why not Jaeger: a far larger build on every fresh machine.
# Cold build on two cores: ~3 min (190 s at load 2). Idempotent: a binary of the pinned version is
# reused. Prints the binary's path on the last line. Tests find it with MAESTRO_OTELCOL (default:
# that path).
set -euo pipefail

VERSION="0.161.0"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="${GOBIN:-$HOME/.cache/maestro/bin}"
out="$bin_dir/otelcol-maestro"
mkdir -p "$bin_dir"

has_version() {
  local got
  [ -x "$1" ] && got="$("$1" --version 2>/dev/null)" && [ "$got" = "otelcol-maestro version $VERSION" ]
}

if has_version "$out"; then
  echo "otel-collector.sh: otelcol-maestro $VERSION already at $out" >&2
  echo "$out"
  exit 0
fi
command -v go >/dev/null || { echo "otel-collector.sh: Go is required (https://go.dev/dl)" >&2; exit 1; }
echo "otel-collector.sh: building otelcol-maestro $VERSION (go build)" >&2
(
  cd "$here/otelcol-build"
  CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly" nice -n 10 \
    go build -trimpath -ldflags "-s -w" -o "$out.tmp" .
)
mv "$out.tmp" "$out"
has_version "$out" || { echo "otel-collector.sh: the build does not report version $VERSION" >&2; exit 1; }
echo "$out"
