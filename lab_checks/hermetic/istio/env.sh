# Common environment of the Istio lab scripts (sourced, not run): the cluster part's lib.sh (LAB_CACHE,
# registry name/port, log/die/timed, lab_offline), this directory's pinned versions, and the Istio cache
# layout under $LAB_CACHE/istio/$ISTIO_VERSION.
_istio_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
. "$_istio_here/../lib.sh"
set -a
# shellcheck source=versions.env
. "$_istio_here/versions.env"
set +a
ISTIO_DIR="$_istio_here"
# Everything Istio-specific is keyed by the Istio version so two pins never share build outputs; the Go
# caches too (lib.sh's shared ones serve the Kubernetes build).
export ISTIO_CACHE="$LAB_CACHE/istio/$ISTIO_VERSION"
export GOMODCACHE="$ISTIO_CACHE/gomodcache"
export GOCACHE="$ISTIO_CACHE/gocache"
# Hub compiled into the binaries: what `istioctl install` and kube-inject default to without --set hub.
export ISTIO_BUILD_HUB="${ISTIO_BUILD_HUB:-$ISTIO_PUBLIC_HUB}"
# Where the built images are served from (the lab registry; the kind node mirrors this host name to it).
export ISTIO_LOCAL_HUB="localhost:$LAB_REGISTRY_PORT/istio"
ISTIOCTL_BUILT="$ISTIO_CACHE/bin/istioctl"
