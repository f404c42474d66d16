#!/usr/bin/env bash
# node-base-hook.sh ROOTFS -- turn a debootstrapped Debian rootfs into a kind
# node *base* (what kind's images/base/Dockerfile produces), offline.
# Static files (entrypoint, systemd units, containerd config, kubelet drop-ins,
# sysctls) are taken unchanged from kind's own source, from the
# sigs.k8s.io/kind@KIND_VERSION module in the Go module cache (KIND_SRC), so
# the node behaves like an upstream kind node. runc and the CNI plugins are
# Debian's; containerd (CONTAINERD_DIR: containerd, ctr, shim) and crictl
# (CRICTL_BIN) are built from the Go module proxy.
set -euo pipefail
R="$1"
: "${KIND_SRC:?}" "${CRICTL_BIN:?}" "${CONTAINERD_DIR:?}"
F="$KIND_SRC/images/base/files"

install -d -m 0755 "$R/usr/local/bin" "$R/kind" "$R/LICENSES" "$R/etc/containerd" \
  "$R/etc/default" "$R/etc/sysctl.d" "$R/etc/systemd/system/kubelet.service.d" \
  "$R/etc/kubernetes/manifests" "$R/opt/cni/bin"
install -m 0755 "$F"/usr/local/bin/* "$R/usr/local/bin/"
cp -r "$F/kind/." "$R/kind/"; find "$R/kind" -type f -exec chmod 0644 {} +
chmod 0755 "$R/kind/bin" "$R"/kind/bin/*
install -m 0644 "$F"/LICENSES/* "$R/LICENSES/"
install -m 0644 "$F/etc/crictl.yaml" "$R/etc/"
install -m 0644 "$F"/etc/containerd/* "$R/etc/containerd/"
install -m 0644 "$F"/etc/default/* "$R/etc/default/"
install -m 0644 "$F"/etc/sysctl.d/* "$R/etc/sysctl.d/"
for u in "$F"/etc/systemd/system/*; do [ -f "$u" ] && install -m 0644 "$u" "$R/etc/systemd/system/"; done
install -m 0644 "$F"/etc/systemd/system/kubelet.service.d/* "$R/etc/systemd/system/kubelet.service.d/"

# Where kind's units and build expect them.
for b in containerd containerd-shim-runc-v2 ctr; do install -m 0755 "$CONTAINERD_DIR/$b" "$R/usr/local/bin/$b"; done
install -m 0755 "$CRICTL_BIN" "$R/usr/local/bin/crictl"
# Debian's reference CNI plugins live in /usr/lib/cni; kind's expect /opt/cni/bin.
cp -a "$R"/usr/lib/cni/. "$R/opt/cni/bin/"

# Same clean-up as kind's base: no services but ours, no kmsg in journald.
rm -f "$R"/lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service
rm -f "$R"/lib/systemd/system/multi-user.target.wants/* "$R"/etc/systemd/system/*.wants/* \
      "$R"/lib/systemd/system/local-fs.target.wants/* \
      "$R"/lib/systemd/system/sockets.target.wants/*udev* \
      "$R"/lib/systemd/system/sockets.target.wants/*initctl* \
      "$R"/lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >> "$R/etc/systemd/journald.conf"
ln -sf /lib/systemd/systemd "$R/sbin/init"
chroot "$R" systemctl enable kubelet.service containerd.service undo-mount-hacks.service
chroot "$R" systemctl mask systemd-binfmt.service

# containerd base runtime spec, as kind makes it: default spec + kind's
# product-uuid hook, without rlimits.
chroot "$R" ctr oci spec \
  | chroot "$R" jq '.hooks.createContainer[.hooks.createContainer|length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | chroot "$R" jq 'del(.process.rlimits)' > "$R/etc/containerd/cri-base.json"
test -s "$R/etc/containerd/cri-base.json"
