#!/usr/bin/env bash
# slim-hook.sh ROOTFS -- finish the small Debian rootfs shared by the
# component images (kube-*, etcd, coredns, lab-kindnet, local-path-*, nginx,
# registry): an iptables mode selector for kube-proxy, nginx logging to the
# container's stdout/stderr.
set -euo pipefail
R="$1"

# kube-proxy must program the same iptables backend (legacy or nft) as the
# node's kubelet. The first call of iptables* runs this selector: it looks for
# the kubelet's marker chains in each backend, points the alternatives at the
# backend in use, then re-runs the original command.
cat > "$R/usr/sbin/iptables-mode-select" <<'SEL'
#!/bin/sh
set -e
mode=nft
if iptables-legacy-save -t mangle 2>/dev/null | grep -q 'KUBE-IPTABLES-HINT\|KUBE-KUBELET-CANARY'; then
  mode=legacy
elif ! iptables-nft-save -t mangle 2>/dev/null | grep -q 'KUBE-IPTABLES-HINT\|KUBE-KUBELET-CANARY'; then
  # No marker yet: take the backend holding more rules.
  l=$(iptables-legacy-save 2>/dev/null | grep -c '^-' || true)
  n=$(iptables-nft-save 2>/dev/null | grep -c '^-' || true)
  [ "${l:-0}" -gt "${n:-0}" ] && mode=legacy
fi
update-alternatives --set iptables "/usr/sbin/iptables-$mode" >/dev/null
update-alternatives --set ip6tables "/usr/sbin/ip6tables-$mode" >/dev/null
exec "$0" "$@"
SEL
chmod 0755 "$R/usr/sbin/iptables-mode-select"
chroot "$R" update-alternatives --install /usr/sbin/iptables iptables /usr/sbin/iptables-mode-select 200 \
  --slave /usr/sbin/iptables-restore iptables-restore /usr/sbin/iptables-mode-select \
  --slave /usr/sbin/iptables-save iptables-save /usr/sbin/iptables-mode-select
chroot "$R" update-alternatives --install /usr/sbin/ip6tables ip6tables /usr/sbin/iptables-mode-select 200 \
  --slave /usr/sbin/ip6tables-restore ip6tables-restore /usr/sbin/iptables-mode-select \
  --slave /usr/sbin/ip6tables-save ip6tables-save /usr/sbin/iptables-mode-select
chroot "$R" update-alternatives --set iptables /usr/sbin/iptables-mode-select
chroot "$R" update-alternatives --set ip6tables /usr/sbin/iptables-mode-select

# nginx: logs to the container output, like the public image.
if [ -d "$R/var/log/nginx" ]; then
  ln -sf /dev/stdout "$R/var/log/nginx/access.log"
  ln -sf /dev/stderr "$R/var/log/nginx/error.log"
fi
