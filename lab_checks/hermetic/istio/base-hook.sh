#!/usr/bin/env bash
# base-hook.sh ROOTFS -- ROOTFS_HOOK for ../build-rootfs.sh: turns the Debian rootfs into the equivalent
# of Istio's docker/Dockerfile.base (the base of its pilot and proxyv2 images).
set -euo pipefail
root="$1"
# Istio's base selects the legacy iptables backend; istio-iptables still finds nft on its own when the
# node uses it (both variants are installed).
chroot "$root" update-alternatives --set iptables /usr/sbin/iptables-legacy
chroot "$root" update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy
# The sidecar runs as istio-proxy (uid 1337), which the iptables rules exempt from redirection.
chroot "$root" useradd -m --uid 1337 istio-proxy
echo "istio-proxy ALL=NOPASSWD: ALL" >> "$root/etc/sudoers"
