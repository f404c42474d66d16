#!/usr/bin/env bash
# Builds istioctl, pilot-discovery and pilot-agent from the pinned istio.io/istio module version.
# GOMODCACHE and GOCACHE live under the lab cache, keyed by the Istio version, so a warm rebuild needs
# neither the network nor a recompile. The binaries land in "$ISTIO_CACHE/bin".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null
. "$here/env.sh"

bin="$ISTIO_CACHE/bin"
stamp="$bin/.built-$ISTIO_MODULE_VERSION"
if [[ -f "$stamp" && -x "$bin/istioctl" && -x "$bin/pilot-discovery" && -x "$bin/pilot-agent" && "${FORCE:-}" != 1 ]]; then
  echo "istio binaries up to date in $bin" >&2
  exit 0
fi
mkdir -p "$bin" "$GOMODCACHE" "$GOCACHE"
start=$(date +%s)

go mod download -json "$ISTIO_MODULE@$ISTIO_MODULE_VERSION" >"$ISTIO_CACHE/module.json"
modsrc="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$ISTIO_CACHE/module.json")"
[[ -d "$modsrc" ]] || { echo "module source not found: $modsrc" >&2; exit 1; }

# Build as the main module, in a writable copy of the module source, so that Istio's own go.mod fixes
# every dependency (as a dependency of a wrapper module, MVS could pick other versions). The copy is
# where the few unserved requirements get their stand-ins (versions.env says which and why).
src="$ISTIO_CACHE/src"
if [[ ! -f "$src/.copied-$ISTIO_MODULE_VERSION" ]]; then
  rm -rf "$src"
  cp -r "$modsrc" "$src"
  chmod -R u+w "$src"
  touch "$src/.copied-$ISTIO_MODULE_VERSION"
fi
cd "$src"
cp "$modsrc/go.mod" go.mod
cp "$modsrc/go.sum" go.sum
for req in $ISTIO_GO_REQUIRE_OVERRIDES; do
  go mod edit -require="$req"
done

ldflags="-s -w"
for kv in \
  "buildVersion=$ISTIO_VERSION" \
  "buildGitRevision=$ISTIO_GIT_REVISION" \
  "buildStatus=Clean" \
  "buildTag=$ISTIO_VERSION" \
  "buildHub=$ISTIO_BUILD_HUB" \
  "buildOS=linux" \
  "buildArch=amd64"; do
  ldflags+=" -X istio.io/istio/pkg/version.$kv"
done

# Static binaries (CGO_ENABLED=0) as in Istio's release build, so they run on any base image.
# -mod=mod records the stand-ins' checksums in the copy's go.sum (verified against the checksum database).
# -p: the machine has two cores shared with other work.
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -mod=mod -p "${GO_BUILD_PARALLEL:-2}" -trimpath \
  -ldflags "$ldflags" -o "$bin/" \
  ./istioctl/cmd/istioctl ./pilot/cmd/pilot-discovery ./pilot/cmd/pilot-agent
touch "$stamp"
echo "built istioctl, pilot-discovery, pilot-agent in $(( $(date +%s) - start ))s into $bin" >&2
