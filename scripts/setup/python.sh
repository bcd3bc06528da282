#!/usr/bin/env bash
# The Python SDK's tools (sdk/python): a virtual environment at ~/.cache/maestro/python-tools
# made with the system's Python (Debian python3, which the local runner's sandbox can see under
# /usr), holding the pinned python-tools.txt (pypiserver, twine, build, hatchling, jsonschema,
# pytest, mypy), and ~/.cache/maestro/python-wheels: the wheels of the SDK's runtime dependencies
# (jsonschema and what it needs), which the publish test's local index serves beside the SDK so a
# fresh environment installs from that index alone. Packages come from PyPI through the machine's
# pip configuration (its proxy or mirror). Idempotent: returns at once when the environment was
# made from this very python-tools.txt (its sha256 is stamped in the environment last).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
requirements="$here/python-tools.txt"
cache="$HOME/.cache/maestro"
venv="$cache/python-tools"
wheels="$cache/python-wheels"
python=/usr/bin/python3
stamp="$venv/.maestro-requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -d "$wheels" ]; then
  echo "python.sh: tools already at $venv ($("$venv/bin/python" --version))"
  exit 0
fi
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  echo "python.sh: $python with venv is required (Debian python3 and python3-venv; system-packages.sh installs them)" >&2
  exit 1
fi
echo "python.sh: making $venv from $requirements" >&2
rm -rf "$venv" "$wheels"
"$python" -m venv "$venv"
nice -n 10 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
mkdir -p "$wheels.tmp"
jsonschema="$(grep -E '^jsonschema==' "$requirements")"
nice -n 10 "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --only-binary :all: \
  --dest "$wheels.tmp" "$jsonschema"
mv "$wheels.tmp" "$wheels"
echo "$want" >"$stamp"
echo "python.sh: $("$venv/bin/python" --version), $(ls "$wheels" | wc -l) dependency wheels in $wheels"
