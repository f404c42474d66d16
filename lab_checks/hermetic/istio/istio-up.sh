#!/usr/bin/env bash
# istio-up.sh -- `make istio-up`: installs Istio (minimal profile: istiod only) into the kind cluster
# $LAB_CLUSTER (bringing the cluster up first if it is not) and waits until istiod is Ready.
#   offline (lab_offline, see ../lib.sh): the istioctl built here, hub/tag of the images that
#     build-images.sh serves from the lab registry, plus the settings upstream Envoy needs (below);
#   online: public images -- an istioctl found on PATH with its own default hub and tag, or else the
#     one built here with hub docker.io/istio and tag $ISTIO_VERSION.
# `istio-up.sh istioctl-path` prints the path of the istioctl built here (building it if needed).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"

KUBECTL="$LAB_CACHE/k8s-$K8S_VERSION/bin/kubectl"
[ -x "$KUBECTL" ] || KUBECTL="$(cd "$here/../../.." && pwd)/.venv/bin/kubectl"
[ -x "$KUBECTL" ] || KUBECTL=$(command -v kubectl || true)
[ -n "$KUBECTL" ] || die "no kubectl found"
kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

# Upstream Envoy lacks the extensions that only Istio's proxy build compiles in. istiod would otherwise
# send them and Envoy would reject the listeners/clusters that carry them (docs/hermetic-cluster.md,
# section Istio, explains each):
#   telemetry.enabled=false           no default Prometheus provider -> no istio.stats filters
#   PILOT_ENABLE_METADATA_EXCHANGE    no istio.metadata_exchange / io.istio.http.peer_metadata filters
#   PILOT_ENABLE_ALPN_FILTER          no istio.alpn HTTP filter on outbound listeners
# Also for the kind node (2 CPUs): istiod's default request of 500m CPU/2Gi leaves room for only a few
# injected Pods (100m each) and can stall a rolling update of istiod itself; 100m/256Mi is ample here.
SMALL_NODE_SETTINGS=(
  --set values.pilot.resources.requests.cpu=100m
  --set values.pilot.resources.requests.memory=256Mi
)
# The lab (written for Istio 1.22) has istio-proxy as the Pod's second container. Istio 1.27+ on
# Kubernetes 1.33+ would inject it as a native sidecar (an init container with restartPolicy
# Always); istiod's ENABLE_NATIVE_SIDECARS=false keeps the layout the lab teaches. kubectl inject
# and istioctl kube-inject both follow istiod's setting in cluster mode.
LAB_SETTINGS=(
  --set values.pilot.env.ENABLE_NATIVE_SIDECARS=false
)
UPSTREAM_ENVOY_SETTINGS=(
  --set values.telemetry.enabled=false
  --set values.pilot.env.PILOT_ENABLE_METADATA_EXCHANGE=false
  --set values.pilot.env.PILOT_ENABLE_ALPN_FILTER=false
)

# ISTIO_REVISION=REV installs a control plane with that revision (istiod-REV, istio-sidecar-injector-REV)
# beside the others, with the same images and settings (plugin/tests/test_revisions_cluster.py).
ISTIO_REVISION="${ISTIO_REVISION:-}"
ISTIOD="istiod${ISTIO_REVISION:+-$ISTIO_REVISION}"
choose_istioctl() { # sets ISTIOCTL and INSTALL_ARGS
  INSTALL_ARGS=(--set profile=minimal ${ISTIO_REVISION:+--revision "$ISTIO_REVISION"}
                "${SMALL_NODE_SETTINGS[@]}" "${LAB_SETTINGS[@]}")
  if lab_offline; then
    "$here/build-binaries.sh"
    ISTIOCTL="$ISTIOCTL_BUILT"
    local tag; tag=$(cat "$ISTIO_CACHE/image-tag" 2>/dev/null) || die "no image tag: run 'make istio-images' first"
    INSTALL_ARGS+=(--set "hub=$ISTIO_LOCAL_HUB" --set "tag=$tag" "${UPSTREAM_ENVOY_SETTINGS[@]}")
  elif command -v istioctl >/dev/null 2>&1; then
    ISTIOCTL=$(command -v istioctl)
  else
    "$here/build-binaries.sh"
    ISTIOCTL="$ISTIOCTL_BUILT"
    INSTALL_ARGS+=(--set "hub=$ISTIO_PUBLIC_HUB" --set "tag=$ISTIO_VERSION")
  fi
}

up() {
  local t0; t0=$(date +%s)
  # Works as a prerequisite of cluster-up as well as after it: cluster.sh up is a no-op when the
  # cluster is already up.
  if ! kc get nodes >/dev/null 2>&1; then "$HERMETIC_DIR/cluster.sh" up; fi
  kc get nodes >/dev/null 2>&1 || die "cluster $LAB_CLUSTER is not reachable via $KUBECONFIG_PATH"
  choose_istioctl
  if lab_offline; then "$HERMETIC_DIR/registry-up.sh" up; fi
  log "installing Istio with $ISTIOCTL ${INSTALL_ARGS[*]}"
  "$ISTIOCTL" --kubeconfig "$KUBECONFIG_PATH" install "${INSTALL_ARGS[@]}" -y >&2
  # istioctl install already waits for its resources; this makes "istiod Ready" explicit.
  kc -n istio-system rollout status "deployment/$ISTIOD" --timeout="${ISTIO_READY_TIMEOUT:-300}s" >&2 ||
    { kc -n istio-system get pods -o wide >&2; kc -n istio-system describe pods >&2 || true; die "$ISTIOD not Ready"; }
  # (not `wait pod -l app=istiod`: after a re-install the old Pod may vanish mid-wait -> NotFound)
  kc -n istio-system wait --for=condition=Available "deployment/$ISTIOD" --timeout=60s >&2
  echo "$ISTIOCTL" > "$LAB_CACHE/istioctl-$LAB_CLUSTER"
  log "Istio${ISTIO_REVISION:+ revision $ISTIO_REVISION} ready in $(( $(date +%s) - t0 ))s"
  printf '%s istio-up %ss\n' "$(date -u +%FT%TZ)" "$(( $(date +%s) - t0 ))" >> "$TIMINGS_LOG"
}

case "${1:-up}" in
  up) up ;;
  istioctl-path) "$here/build-binaries.sh" >/dev/null 2>&1 || true; echo "$ISTIOCTL_BUILT" ;;
  *) die "usage: $0 [up|istioctl-path]" ;;
esac
