#!/bin/sh
# Makes the `shop` catalog (a bare git repository) from ./catalog, at the path given (default
# /tmp/maestro-end-to-end-catalog.git, what .maestro/catalogs.yaml names), tagged v1. The commit
# is made with a fixed author, committer, date and message, so the same files give the same
# commit on every machine: the one .maestro/tasks.lock pins. Prints the commit.
set -eu
dest=${1:-/tmp/maestro-end-to-end-catalog.git}
here=$(cd "$(dirname "$0")" && pwd)
index=$(mktemp)
trap 'rm -f "$index"' EXIT
git init -q --bare "$dest"
export GIT_DIR="$dest" GIT_WORK_TREE="$here/catalog" GIT_INDEX_FILE="$index"
export GIT_AUTHOR_NAME='Summit Maestro examples' GIT_AUTHOR_EMAIL='examples@summit-maestro.dev'
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'
rm -f "$index"
# --force: the files of ./catalog whatever a global excludes file says.
(cd "$here/catalog" && git add --all --force .)
commit=$(echo 'shop catalog v1' | git commit-tree "$(git write-tree)")
git update-ref refs/heads/main "$commit"
git tag --force v1 "$commit" >/dev/null
echo "$commit"
