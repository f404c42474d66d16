#!/usr/bin/env bash
# registry-up.sh -- the lab's local image registry (Debian's docker-registry in
# a container named $LAB_REGISTRY_NAME, published on 127.0.0.1:$LAB_REGISTRY_PORT
# only, data in $LAB_CACHE/registry-data, attached to kind's `kind` network
# when that exists so nodes reach it as http://$LAB_REGISTRY_NAME:5000).
#
#   registry-up.sh              start it (idempotent), connect it to `kind`
#   registry-up.sh push IMG...  push local images under their usual names: a
#                               name's registry host is dropped, so
#                               docker.io/library/nginx:latest is served as
#                               library/nginx:latest and the node's containerd
#                               mirror for docker.io finds it there
#   registry-up.sh hosts-dir    write containerd hosts.toml files mirroring the
#                               public registries to it; print the directory
#   registry-up.sh down         remove the container (data is kept)
# The istio helper can push its images with `registry-up.sh push IMAGE...`.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MIRRORED="docker.io registry.k8s.io quay.io gcr.io ghcr.io localhost:$LAB_REGISTRY_PORT"
IMAGE_FILE="$LAB_CACHE/registry-image"

running() { [ "$(docker inspect -f '{{.State.Running}}' "$LAB_REGISTRY_NAME" 2>/dev/null)" = true ]; }

up() {
  [ -s "$IMAGE_FILE" ] || die "no registry image recorded in $IMAGE_FILE (run make cluster-images)"
  # A registry from an older build is replaced; its data dir is kept.
  if running && [ "$(docker inspect -f '{{.Config.Image}}' "$LAB_REGISTRY_NAME")" != "$(cat "$IMAGE_FILE")" ]; then
    log "replacing $LAB_REGISTRY_NAME with $(cat "$IMAGE_FILE")"
    docker rm -f "$LAB_REGISTRY_NAME" >/dev/null
  fi
  if ! running; then
    docker rm -f "$LAB_REGISTRY_NAME" >/dev/null 2>&1 || true
    mkdir -p "$LAB_CACHE/registry-data"
    docker run -d --restart=always --name "$LAB_REGISTRY_NAME" \
      -p "127.0.0.1:$LAB_REGISTRY_PORT:5000" \
      -v "$LAB_CACHE/registry-data:/var/lib/docker-registry" \
      "$(cat "$IMAGE_FILE")" >/dev/null
  fi
  if docker network inspect kind >/dev/null 2>&1 &&
     ! docker inspect -f '{{json .NetworkSettings.Networks}}' "$LAB_REGISTRY_NAME" | grep -q '"kind"'; then
    docker network connect kind "$LAB_REGISTRY_NAME"
  fi
  for _ in $(seq 1 30); do
    curl -fsS -o /dev/null "http://127.0.0.1:$LAB_REGISTRY_PORT/v2/" 2>/dev/null && return 0
    sleep 1
  done
  die "registry did not answer on 127.0.0.1:$LAB_REGISTRY_PORT"
}

strip_host() { # usual name without its registry host
  local n="$1" first="${1%%/*}" host=docker.io
  if [ "$n" != "$first" ] && { [[ "$first" == *.* ]] || [[ "$first" == *:* ]] || [ "$first" = localhost ]; }; then
    host="$first"; n="${n#*/}"
  fi
  # Only Docker Hub has the implicit library/ namespace.
  if [ "$host" = docker.io ] && [[ "$n" != */* ]]; then n="library/$n"; fi
  echo "$n"
}

push() {
  up
  local img path
  for img in "$@"; do
    path=$(strip_host "$img")
    docker tag "$img" "localhost:$LAB_REGISTRY_PORT/$path"
    docker push -q "localhost:$LAB_REGISTRY_PORT/$path" >/dev/null || die "push of $img failed"
    log "registry serves $path (from $img)"
  done
}

hosts_dir() {
  local d="$LAB_CACHE/containerd-certs.d" r
  for r in $MIRRORED; do
    mkdir -p "$d/$r"
    cat > "$d/$r/hosts.toml" <<TOML
# written by lab_checks/hermetic/registry-up.sh: pull $r images from the lab registry
[host."http://$LAB_REGISTRY_NAME:5000"]
  capabilities = ["pull", "resolve"]
TOML
  done
  echo "$d"
}

case "${1:-up}" in
  up) up ;;
  push) shift; push "$@" ;;
  hosts-dir) hosts_dir ;;
  down) docker rm -f "$LAB_REGISTRY_NAME" >/dev/null 2>&1 || true ;;
  *) die "usage: $0 [up|push IMAGE...|hosts-dir|down]" ;;
esac
