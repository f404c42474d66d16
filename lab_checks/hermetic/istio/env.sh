# Common environment of the Istio lab scripts: pinned versions and the cache layout.
# Sourced, not executed.
_istio_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
set -a
# shellcheck source=/dev/null
source "$_istio_here/versions.env"
set +a
export LAB_CACHE="${LAB_CACHE:-$HOME/.cache/kubectl-inject-lab}"
# Everything Istio-specific is keyed by the Istio version so two pins never share build outputs.
export ISTIO_CACHE="$LAB_CACHE/istio/$ISTIO_VERSION"
export GOMODCACHE="$ISTIO_CACHE/gomodcache"
export GOCACHE="$ISTIO_CACHE/gocache"
# Module cache files stay writable so that `rm -rf` of the cache works without chmod.
export GOFLAGS="-modcacherw -buildvcs=false"
# Never fetch another Go toolchain: the machine's go builds Istio's go.mod (go 1.25.x).
export GOTOOLCHAIN=local
# Hub compiled into the binaries (what `istioctl install` uses when no hub is given).
export ISTIO_BUILD_HUB="${ISTIO_BUILD_HUB:-$ISTIO_PUBLIC_HUB}"
