#!/usr/bin/env bash
# docker-up.sh -- make sure a Docker engine answers; idempotent.
#
# * A Docker engine already answers: do nothing.
# * Offline (CI=true, LAB_OFFLINE=1, or the public registry unreachable), root,
#   Debian: apt-get install docker.io (and debootstrap and curl, which the
#   offline image build needs, even when Docker already runs), then start
#   dockerd in the background with
#   our OCI runtime shim (oci-runtime-wrapper, see why there) as the default
#   runtime, and wait until it answers. Log: $LAB_CACHE/dockerd.log.
# * Anywhere else: tell the user to start Docker and fail.
# Callable by other scripts (e.g. the istio helper's): `lab_checks/hermetic/docker-up.sh`.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
can_setup() { lab_offline && [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ]; }

# apt_need PKG...: install those of the Debian packages that are missing.
apt_need() {
  local p need=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
  done
  [ -z "$need" ] && return 0
  log "installing Debian packages:$need"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $need >&2
}

# The offline image build needs these even where a Docker engine already runs.
if can_setup; then apt_need debootstrap curl; fi

if docker_answers; then
  log "docker engine answers ($(docker version --format '{{.Server.Version}}'))"
  # kind's privileged nodes need the shim where capabilities are missing.
  if [ "$(awk '/^CapBnd:/ {print $2}' /proc/self/status)" != 000001ffffffffff ] &&
     [ "$(docker info --format '{{.DefaultRuntime}}' 2>/dev/null)" != lab-runc ]; then
    log "WARNING: this machine's capability bounding set is reduced and dockerd does not use"
    log "  lab_checks/hermetic/oci-runtime-wrapper; kind nodes (docker run --privileged) may fail."
  fi
  exit 0
fi

if ! can_setup; then
  die "no Docker engine answers. Start Docker (e.g. 'sudo systemctl start docker') and retry.
  (Automatic setup is only done as root on Debian in offline mode: CI=true or LAB_OFFLINE=1.)"
fi
apt_need docker.io iptables

# The runtime shim lives outside the checkout so a running dockerd keeps
# working when a checkout (e.g. CI's fresh clone) goes away.
SHIM="$LAB_CACHE/bin/lab-oci-runtime"
mkdir -p "$(dirname "$SHIM")"
install -m 0755 "$HERMETIC_DIR/oci-runtime-wrapper" "$SHIM"

log "starting dockerd (runtime: $SHIM)"
# setsid: dockerd must outlive this script and the make process.
setsid dockerd \
  --host unix:///var/run/docker.sock \
  --add-runtime "lab-runc=$SHIM" --default-runtime lab-runc \
  >>"$LAB_CACHE/dockerd.log" 2>&1 </dev/null &

for _ in $(seq 1 60); do
  if docker_answers; then
    log "docker engine answers ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
tail -20 "$LAB_CACHE/dockerd.log" >&2
die "dockerd did not answer within 60s (log: $LAB_CACHE/dockerd.log)"
