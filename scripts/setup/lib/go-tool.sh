# Sourced by the setup scripts that install one pinned Go tool (opa.sh, cosign.sh); not run by
# setup.sh itself (it runs only scripts/setup/*.sh). One copy of the install-or-reuse steps, so the
# tools agree on where they live and how a cached one is recognised.
#
# install_go_tool <name> <version> <package@version> <has-version-function>
#   Reuses <bin-dir>/<name> (bin-dir: $GOBIN, else ~/.cache/maestro/bin) or ~/go/bin/<name> (where
#   a plain `go install` puts it) when <has-version-function> <path> succeeds; else builds it with
#   `go install`. Prints the binary's path on the last line of stdout; progress goes to stderr.
install_go_tool() {
  local name="$1" version="$2" package="$3" has_version="$4"
  local bin_dir="${GOBIN:-$HOME/.cache/maestro/bin}"
  mkdir -p "$bin_dir"
  if "$has_version" "$bin_dir/$name"; then
    echo "$name.sh: $name $version already at $bin_dir/$name" >&2
    echo "$bin_dir/$name"
    return 0
  fi
  if "$has_version" "$HOME/go/bin/$name"; then
    ln -sf "$HOME/go/bin/$name" "$bin_dir/$name"
    echo "$name.sh: linked existing $name $version from ~/go/bin" >&2
    echo "$bin_dir/$name"
    return 0
  fi
  command -v go >/dev/null || { echo "$name.sh: Go is required (https://go.dev/dl)" >&2; return 1; }
  echo "$name.sh: building $name $version (go install)" >&2
  GOBIN="$bin_dir" GOFLAGS="-buildvcs=false" nice -n 10 go install "$package"
  "$has_version" "$bin_dir/$name" || {
    echo "$name.sh: installed $name does not report version $version" >&2
    return 1
  }
  echo "$bin_dir/$name"
}
