#!/usr/bin/env bash
# build-rootfs.sh NAME "PKG PKG ..." -- debootstrap a Debian (DEBIAN_SUITE)
# minbase rootfs with the given packages into $LAB_CACHE/rootfs/NAME-KEY.tar and
# print that path. KEY hashes the suite, package list and RECIPE_REV, so the
# tarball is reused until one of them changes. Optional: a customisation hook
# given as ROOTFS_HOOK=path/to/script, run as `script ROOTFS_DIR` before packing
# (its content is part of the key too).
#
# The Debian mirror is read from this machine's apt sources at run time, never
# hard-coded: we only talk to the package mirror the machine is set up for.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

name="$1"; pkgs="$2"; hook="${ROOTFS_HOOK:-}"
key=$( { echo "$DEBIAN_SUITE|$pkgs|$RECIPE_REV|${ROOTFS_KEY_EXTRA:-}"; [ -n "$hook" ] && cat "$hook"; } | sha256sum | cut -c1-12)
out="$LAB_CACHE/rootfs/$name-$key.tar"
if [ -s "$out" ]; then log "rootfs $name cached: $out"; echo "$out"; exit 0; fi

debian_mirror() {
  local f uri
  # deb822 sources first: the URIs of a stanza whose Suites has the plain suite.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk -v s="$DEBIAN_SUITE" '
      /^[[:space:]]*$/ { if (u != "" && ok) { print u; exit } u=""; ok=0; next }
      /^URIs:/ { u=$2 }
      /^Suites:/ { for (i=2;i<=NF;i++) if ($i==s) ok=1 }
      END { if (u != "" && ok) print u }' "$f" | head -1)
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk -v s="$DEBIAN_SUITE" '$1=="deb" { for (i=2;i<=NF;i++) if ($i !~ /^\[/ && $i ~ /:\/\//) { if ($(i+1)==s) print $i; break } }' "$f" | head -1)
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  return 1
}
mirror=$(debian_mirror) || die "no Debian mirror for $DEBIAN_SUITE found in /etc/apt/sources*"
command -v debootstrap >/dev/null || die "debootstrap missing (run docker-up.sh, which installs it)"

work="$LAB_CACHE/rootfs/work-$name-$key"
rm -rf "$work"; mkdir -p "$work" "$LAB_CACHE/debs"
log "debootstrap $name ($DEBIAN_SUITE, $(echo "$pkgs" | wc -w) extra packages)"
debootstrap --variant=minbase --cache-dir="$LAB_CACHE/debs" \
  --include="$(echo "$pkgs" | tr ' ' ',' | sed 's/,,*/,/g; s/^,//; s/,$//')" \
  "$DEBIAN_SUITE" "$work" "$mirror" >&2 || { tail -30 "$work/debootstrap/debootstrap.log" >&2 2>/dev/null; die "debootstrap failed"; }
# Keep images small and free of host-specific state.
rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/* "$work"/tmp/*
: > "$work/etc/resolv.conf"
[ -n "$hook" ] && "$hook" "$work" >&2
tar -C "$work" --numeric-owner -cf "$out.tmp" . && mv "$out.tmp" "$out"
rm -rf "$work"
echo "$out"
