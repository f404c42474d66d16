# lib.sh -- shared helpers for the hermetic lab cluster scripts (sourced, not run).
#
# Provides: HERMETIC_DIR, LAB_CACHE (one cache dir for everything heavy),
# the pinned versions from versions.env, Go cache settings, log/die/stage
# helpers and a timing log ($LAB_CACHE/timings.log) used for the docs.
# Other scripts (including the istio helper's) may source it:
#   . lab_checks/hermetic/lib.sh
set -euo pipefail

HERMETIC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$HERMETIC_DIR/versions.env"

: "${LAB_CACHE:=$HOME/.cache/kubectl-inject-lab}"
: "${LAB_CLUSTER:=istio-lab}"
: "${LAB_REGISTRY_NAME:=lab-registry}"
: "${LAB_REGISTRY_PORT:=5001}"
export LAB_CACHE LAB_CLUSTER LAB_REGISTRY_NAME LAB_REGISTRY_PORT
mkdir -p "$LAB_CACHE"

# Go: all module downloads and build artefacts stay in the cache dir, so a fresh
# clone (CI) reuses them. GOTOOLCHAIN=local: use the installed Go, never fetch one.
export GOMODCACHE="$LAB_CACHE/go/mod"
export GOCACHE="$LAB_CACHE/go/build"
export GOFLAGS="-modcacherw -buildvcs=false"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
# 2 cores shared with other work: keep builds polite.
: "${LAB_GO_PARALLEL:=2}"

KIND_BIN="$LAB_CACHE/bin/kind-$KIND_VERSION/kind"
KUBECONFIG_PATH="$LAB_CACHE/kubeconfig-$LAB_CLUSTER"
TIMINGS_LOG="$LAB_CACHE/timings.log"

log()  { printf '[hermetic %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { log "ERROR: $*"; exit 1; }

# timed NAME CMD...: run CMD and append its wall time to the timings log, so
# cold/warm build times can be reported from real runs.
timed() {
  local name="$1"; shift
  local t0 t1 rc
  t0=$(date +%s)
  # Not `"$@" || rc=$?`: inside || bash ignores errexit, so a failing step of
  # a shell function would go unnoticed. The subshell keeps errexit on.
  set +e; ( set -e; "$@" ); rc=$?; set -e
  t1=$(date +%s)
  printf '%s %s %ss rc=%s\n' "$(date -u +%FT%TZ)" "$name" "$((t1 - t0))" "$rc" >> "$TIMINGS_LOG"
  log "$name took $((t1 - t0))s (rc=$rc)"
  return "$rc"
}

# Is LAB_OFFLINE in force? 1 = offline (build everything locally), 0 = online
# (kind's public node image and public images). Unset: CI machines reach only
# package registries, so CI is offline without probing; elsewhere a bounded
# probe decides (DNS lookup of registry.k8s.io, then one HTTPS request only if
# it resolves), and the answer is exported.
lab_offline() {
  if [ -z "${LAB_OFFLINE:-}" ]; then
    if [ "${CI:-}" = true ]; then
      LAB_OFFLINE=1
    elif ! timeout 5 getent hosts registry.k8s.io >/dev/null 2>&1; then
      # The name does not even resolve: offline, without sending it a packet.
      LAB_OFFLINE=1
    else
      local code
      code=$(curl -sS -o /dev/null --max-time 5 -w '%{http_code}' https://registry.k8s.io/v2/ 2>/dev/null || true)
      case "$code" in 2??|3??|401) LAB_OFFLINE=0 ;; *) LAB_OFFLINE=1 ;; esac
    fi
    export LAB_OFFLINE
  fi
  [ "$LAB_OFFLINE" = 1 ]
}

# tool_path NAME: where build-go-tools.sh puts NAME (the file may not exist yet).
tool_path() {
  case "$1" in
    kind) echo "$KIND_BIN" ;;
    crictl) echo "$LAB_CACHE/bin/crictl-$CRICTL_VERSION/crictl" ;;
    containerd) echo "$LAB_CACHE/bin/containerd-$CONTAINERD_VERSION/containerd" ;;
    coredns) echo "$LAB_CACHE/bin/coredns-$COREDNS_VERSION/coredns" ;;
    local-path-provisioner) echo "$LAB_CACHE/bin/local-path-provisioner-$LOCAL_PATH_PROVISIONER_VERSION/local-path-provisioner" ;;
    etcd) echo "$LAB_CACHE/bin/etcd-$ETCD_VERSION/etcd" ;;
    lab-kindnet|pause) echo "$LAB_CACHE/bin/$1-r$LAB_TOOLS_REV-$(cat "$HERMETIC_DIR"/src/"$1"/* | sha256sum | cut -c1-8)/$1" ;;
  esac
}

# Images built here are saved under $LAB_CACHE/images, so a wiped Docker data dir is refilled
# without a rebuild. restore_or IMAGE BUILD-FUNCTION...: present, else loaded, else built+saved.
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
archive_of() { echo "$LAB_CACHE/images/$(echo "$1" | tr '/:@' '___').tar"; }
restore_or() {
  local img="$1"; shift
  have_image "$img" && return 0
  if [ -s "$(archive_of "$img")" ]; then docker load -i "$(archive_of "$img")" >&2; have_image "$img" && return 0; fi
  "$@"
  have_image "$img" || die "image $img was not built"
  mkdir -p "$LAB_CACHE/images"
  docker save "$img" -o "$(archive_of "$img").tmp" && mv "$(archive_of "$img").tmp" "$(archive_of "$img")"
}
