#!/usr/bin/env bash
# Builds the Debian root filesystem that both Istio images start from, in the spirit of Istio's own
# docker/Dockerfile.base (Ubuntu there, Debian here: only Debian's archive is reachable), and saves it as
# a tarball under the lab cache, keyed by suite and package list. No container image is pulled.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null
source "$here/env.sh"

suite="${ISTIO_BASE_SUITE:-bookworm}"
mirror="${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}"
mirror="${mirror:-http://deb.debian.org/debian}"
# What istio-init and the lab need: iptables and nftables (istio-iptables drives either backend), ps
# (procps), ip (iproute2); the rest mirrors the debugging tools of Istio's base image.
pkgs="ca-certificates,curl,iptables,nftables,iproute2,iputils-ping,netcat-openbsd,conntrack,net-tools,lsof,sudo,procps"
key="$(printf '%s %s' "$suite" "$pkgs" | sha256sum | cut -c1-12)"
out="$ISTIO_CACHE/base-rootfs-$suite-$key.tar"
if [[ -f "$out" && "${FORCE:-}" != 1 ]]; then
  echo "$out"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
mkdir -p "$ISTIO_CACHE"
work="$(mktemp -d "$ISTIO_CACHE/rootfs.XXXXXX")"
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase --include="$pkgs" "$suite" "$work/rootfs" "$mirror" >&2
chroot "$work/rootfs" /bin/sh -euc '
  # Istio base images run iptables in legacy mode by default; istio-iptables detects nft itself.
  update-alternatives --set iptables /usr/sbin/iptables-legacy
  update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy
  useradd -m --uid 1337 istio-proxy
  echo "istio-proxy ALL=NOPASSWD: ALL" >> /etc/sudoers
  apt-get clean
' >&2
rm -rf "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/var/cache/apt/*.bin "$work/rootfs"/var/log/*.log \
  "$work/rootfs"/var/log/apt/*
# Device nodes and mounts do not belong in an image layer.
tar --numeric-owner --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* -C "$work/rootfs" -cf "$out.tmp" .
mv "$out.tmp" "$out"
echo "$out"
