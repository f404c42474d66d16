#!/usr/bin/env bash
# build-images.sh -- offline build of everything the lab cluster needs
# (`make cluster-images`). Each step is skipped when its keyed result exists.
#   1. Docker engine (docker-up.sh)
#   2. Go pieces: Kubernetes (build-k8s.sh), kind/crictl/etcd/coredns/... (build-go-tools.sh)
#   3. Debian rootfs: kind node base and a slim base for component images (build-rootfs.sh)
#   4. Component images under their usual names (registry.k8s.io/kube-apiserver:K8S_VERSION, ...)
#   5. The kind node image, by `kind build node-image --type file` from a
#      kubernetes-server style tarball we assemble, on our base image
#   6. The local registry (registry-up.sh) filled with the images Pods pull
# Prints the node image name on stdout. In online mode it does nothing: kind's
# public node image and public images are used instead.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! lab_offline; then
  log "online mode (LAB_OFFLINE=0): public kind node image and images are used; nothing to build"
  exit 0
fi

T0=$(date +%s)
timed docker-up "$HERMETIC_DIR/docker-up.sh"
K8S_BIN=$(timed build-k8s "$HERMETIC_DIR/build-k8s.sh")
timed build-go-tools "$HERMETIC_DIR/build-go-tools.sh"

KIND_SRC=$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$KIND_SRC" ] || die "kind source module not found"
export KIND_SRC CRICTL_BIN CONTAINERD_DIR; CRICTL_BIN=$(tool_path crictl)
CONTAINERD_DIR=$(dirname "$(tool_path containerd)")

NODE_BASE_PKGS="systemd dbus conntrack iptables nftables iproute2 ethtool util-linux mount kmod libseccomp2 pigz fuse-overlayfs bash ca-certificates curl jq procps runc containernetworking-plugins socat"
SLIM_PKGS="iptables iproute2 conntrack ca-certificates procps curl nginx-light docker-registry"
BASE_TAR=$(ROOTFS_KEY_EXTRA="kind $KIND_VERSION containerd $CONTAINERD_VERSION crictl $CRICTL_VERSION" ROOTFS_HOOK="$HERMETIC_DIR/node-base-hook.sh" timed rootfs-node-base "$HERMETIC_DIR/build-rootfs.sh" node-base "$NODE_BASE_PKGS")
SLIM_TAR=$(ROOTFS_HOOK="$HERMETIC_DIR/slim-hook.sh" timed rootfs-slim "$HERMETIC_DIR/build-rootfs.sh" slim "$SLIM_PKGS")

key_of() { basename "$1" .tar | sed 's/.*-//'; }
BASE_IMAGE="localhost:$LAB_REGISTRY_PORT/hermetic/kind-base:$(key_of "$BASE_TAR")"
SLIM_IMAGE="localhost:$LAB_REGISTRY_PORT/hermetic/debian-slim:$(key_of "$SLIM_TAR")"


import_base() {
  # docker import cannot set STOPSIGNAL, so the metadata comes from a
  # one-line build on top of the imported rootfs.
  docker import "$BASE_TAR" "$BASE_IMAGE-rootfs" >&2
  local ctx; ctx=$(mktemp -d)
  printf '%s\n' "FROM $BASE_IMAGE-rootfs" 'ENV container=docker' 'STOPSIGNAL SIGRTMIN+3' \
    'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' > "$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$BASE_IMAGE" "$ctx" >&2
  rm -rf "$ctx"; docker rmi "$BASE_IMAGE-rootfs" >/dev/null
}
import_slim() { docker import "$SLIM_TAR" "$SLIM_IMAGE" >&2; }
restore_or "$BASE_IMAGE" import_base
restore_or "$SLIM_IMAGE" import_slim

# component_image IMAGE FROM BINARY DEST ENTRYPOINT_JSON [CMD_JSON]
component_image() {
  local img="$1" from="$2" bin="$3" dest="$4" ep="$5" cmd="${6:-}"
  local ctx; ctx=$(mktemp -d)
  [ -n "$bin" ] && cp "$bin" "$ctx/$(basename "$dest")"
  {
    echo "FROM $from"
    [ -n "$bin" ] && echo "COPY $(basename "$dest") $dest"
    [ -n "$ep" ] && echo "ENTRYPOINT $ep"
    [ -n "$cmd" ] && echo "CMD $cmd"
    echo "LABEL org.opencontainers.image.description=\"kubectl-inject-lab hermetic build\""
  } > "$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$img" "$ctx" >&2
  rm -rf "$ctx"
}

R=registry.k8s.io
REGISTRY_IMAGE="localhost:$LAB_REGISTRY_PORT/hermetic/registry:$(key_of "$SLIM_TAR")-$(sha256sum "$HERMETIC_DIR/registry-config.yml" | cut -c1-8)"
build_components() {
  local c
  for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
    restore_or "$R/$c:$K8S_VERSION" component_image "$R/$c:$K8S_VERSION" "$SLIM_IMAGE" "$K8S_BIN/$c" "/usr/local/bin/$c" "[\"/usr/local/bin/$c\"]"
  done
  restore_or "$R/etcd:$ETCD_IMAGE_TAG" component_image "$R/etcd:$ETCD_IMAGE_TAG" "$SLIM_IMAGE" "$(tool_path etcd)" /usr/local/bin/etcd "" '["/usr/local/bin/etcd"]'
  restore_or "$R/coredns/coredns:$COREDNS_VERSION" component_image "$R/coredns/coredns:$COREDNS_VERSION" "$SLIM_IMAGE" "$(tool_path coredns)" /coredns '["/coredns"]'
  restore_or "$R/pause:$PAUSE_IMAGE_TAG" component_image "$R/pause:$PAUSE_IMAGE_TAG" scratch "$(tool_path pause)" /pause '["/pause"]'
  # The images kind asks for by name (versions.env, KIND_*_IMAGE): the pod sandbox, CNI and storage.
  docker tag "$R/pause:$PAUSE_IMAGE_TAG" "$KIND_SANDBOX_IMAGE"
  restore_or "$KIND_KINDNETD_IMAGE" component_image "$KIND_KINDNETD_IMAGE" "$SLIM_IMAGE" "$(tool_path lab-kindnet)" /bin/kindnetd '["/bin/kindnetd"]'
  restore_or "$KIND_LOCAL_PATH_PROVISIONER_IMAGE" component_image "$KIND_LOCAL_PATH_PROVISIONER_IMAGE" "$SLIM_IMAGE" "$(tool_path local-path-provisioner)" /usr/bin/local-path-provisioner "" '["local-path-provisioner"]'
  restore_or "$KIND_LOCAL_PATH_HELPER_IMAGE" component_image "$KIND_LOCAL_PATH_HELPER_IMAGE" "$SLIM_IMAGE" "" "" "" '["/bin/sh"]'
  restore_or docker.io/library/nginx:latest component_image docker.io/library/nginx:latest "$SLIM_IMAGE" "" "" "" '["nginx", "-g", "daemon off;"]'
  restore_or "$REGISTRY_IMAGE" component_image \
    "$REGISTRY_IMAGE" \
    "$SLIM_IMAGE" "$HERMETIC_DIR/registry-config.yml" /etc/docker/registry/config.yml \
    '["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]'
}
timed component-images build_components
echo "$REGISTRY_IMAGE" > "$LAB_CACHE/registry-image"

# --- kind node image -------------------------------------------------------
# Key: everything that goes into it.
NODE_KEY=$( { echo "$KIND_VERSION $K8S_VERSION $BASE_IMAGE"
  for i in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do docker image inspect -f '{{.Id}}' "$R/$i:$K8S_VERSION"; done
  for i in "$R/etcd:$ETCD_IMAGE_TAG" "$R/coredns/coredns:$COREDNS_VERSION" "$R/pause:$PAUSE_IMAGE_TAG" "$KIND_KINDNETD_IMAGE" "$KIND_LOCAL_PATH_PROVISIONER_IMAGE" "$KIND_LOCAL_PATH_HELPER_IMAGE"; do docker image inspect -f '{{.Id}}' "$i"; done
  sha256sum "$K8S_BIN/kubeadm" "$K8S_BIN/kubelet" "$K8S_BIN/kubectl" | cut -c1-64; } | sha256sum | cut -c1-12)
NODE_IMAGE="localhost:$LAB_REGISTRY_PORT/hermetic/kind-node:$K8S_VERSION-$NODE_KEY"
echo "$NODE_IMAGE" > "$LAB_CACHE/node-image"

build_node_image() {
  local work="$LAB_CACHE/node-build"; rm -rf "$work"; mkdir -p "$work/kubernetes/server/bin"
  local b="$work/kubernetes/server/bin"
  echo "$K8S_VERSION" > "$work/kubernetes/version"
  cp "$K8S_BIN/kubeadm" "$K8S_BIN/kubelet" "$K8S_BIN/kubectl" "$b/"
  local c
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    docker save "$R/$c:$K8S_VERSION" -o "$b/$c.tar"
  done
  # kind only loads the four control-plane archives, and fetches every other
  # image it needs from registries. To stay offline, kube-proxy.tar carries
  # the other images too, with a 'repositories' index (read first by kind)
  # naming all of them, fully qualified.
  docker save -o "$work/extra.tar" "$R/kube-proxy:$K8S_VERSION" "$R/etcd:$ETCD_IMAGE_TAG" \
    "$R/coredns/coredns:$COREDNS_VERSION" "$R/pause:$PAUSE_IMAGE_TAG" "$KIND_SANDBOX_IMAGE" \
    "$KIND_KINDNETD_IMAGE" "$KIND_LOCAL_PATH_PROVISIONER_IMAGE" "$KIND_LOCAL_PATH_HELPER_IMAGE"
  python3 "$HERMETIC_DIR/archive-index.py" "$work/extra.tar" "$b/kube-proxy.tar"
  rm -f "$work/extra.tar"
  tar -C "$work" -czf "$work/kubernetes-server-linux-amd64.tar.gz" kubernetes
  rm -rf "$work/kubernetes"
  "$KIND_BIN" build node-image --type file --base-image "$BASE_IMAGE" --image "$NODE_IMAGE" \
    "$work/kubernetes-server-linux-amd64.tar.gz" >&2
  rm -rf "$work"
}
restore_or "$NODE_IMAGE" timed node-image build_node_image

timed registry-fill "$HERMETIC_DIR/registry-up.sh" push \
  docker.io/library/nginx:latest "$KIND_KINDNETD_IMAGE" "$KIND_LOCAL_PATH_PROVISIONER_IMAGE" "$KIND_LOCAL_PATH_HELPER_IMAGE" \
  "$R/pause:$PAUSE_IMAGE_TAG" "$KIND_SANDBOX_IMAGE" "$R/etcd:$ETCD_IMAGE_TAG" "$R/coredns/coredns:$COREDNS_VERSION" \
  "$R/kube-apiserver:$K8S_VERSION" "$R/kube-controller-manager:$K8S_VERSION" \
  "$R/kube-scheduler:$K8S_VERSION" "$R/kube-proxy:$K8S_VERSION"

log "cluster images ready in $(( $(date +%s) - T0 ))s; node image $NODE_IMAGE"
printf '%s cluster-images total %ss\n' "$(date -u +%FT%TZ)" "$(( $(date +%s) - T0 ))" >> "$TIMINGS_LOG"
echo "$NODE_IMAGE"
