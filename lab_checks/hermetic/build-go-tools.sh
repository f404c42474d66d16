#!/usr/bin/env bash
# build-go-tools.sh [NAME...] -- build the Go/C pieces other than Kubernetes
# into $LAB_CACHE/bin/NAME-VERSION/NAME, each skipped when already built:
#   kind      sigs.k8s.io/kind@KIND_VERSION            (go install)
#   crictl    sigs.k8s.io/cri-tools/cmd/crictl          (go install)
#   containerd  containerd, ctr, containerd-shim-runc-v2 of github.com/containerd/containerd/v2
#   coredns   github.com/coredns/coredns                (go install)
#   local-path-provisioner  github.com/rancher/local-path-provisioner
#   etcd      go.etcd.io/etcd/server/v3 (its go.mod has replace directives, so
#             it is built from a generated module that requires it)
#   lab-kindnet  our node-network agent (src/lab-kindnet)
#   pause     our sandbox program (src/pause, static C)
# With no NAME, builds all. Prints nothing; use tool_path NAME from lib.sh.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out_of() {
  case "$1" in
    kind) echo "$LAB_CACHE/bin/kind-$KIND_VERSION" ;;
    crictl) echo "$LAB_CACHE/bin/crictl-$CRICTL_VERSION" ;;
    containerd) echo "$LAB_CACHE/bin/containerd-$CONTAINERD_VERSION" ;;
    coredns) echo "$LAB_CACHE/bin/coredns-$COREDNS_VERSION" ;;
    local-path-provisioner) echo "$LAB_CACHE/bin/local-path-provisioner-$LOCAL_PATH_PROVISIONER_VERSION" ;;
    etcd) echo "$LAB_CACHE/bin/etcd-$ETCD_VERSION" ;;
    lab-kindnet|pause) echo "$LAB_CACHE/bin/$1-r$LAB_TOOLS_REV-$(cat "$HERMETIC_DIR"/src/"$1"/* | sha256sum | cut -c1-8)" ;;
    *) die "unknown tool $1" ;;
  esac
}

goinstall() { # dir module@version
  GOBIN="$1" nice -n 10 go install -trimpath -p "$LAB_GO_PARALLEL" -ldflags "-s -w" "$2" >&2
}

build_one() {
  local name="$1" dir
  dir=$(out_of "$name")
  if [ -x "$dir/$name" ]; then return 0; fi
  log "building $name -> $dir"
  mkdir -p "$dir"
  case "$name" in
    kind) goinstall "$dir" "sigs.k8s.io/kind@$KIND_VERSION" ;;
    crictl) goinstall "$dir" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" ;;
    coredns) goinstall "$dir" "github.com/coredns/coredns@$COREDNS_VERSION" ;;
    local-path-provisioner) goinstall "$dir" "github.com/rancher/local-path-provisioner@$LOCAL_PATH_PROVISIONER_VERSION" ;;
    etcd)
      # etcd's server module has replace directives: build it from a generated module.
      local mod="$dir/mod"
      mkdir -p "$mod"
      printf 'module hermetic.invalid/etcdbuild\n\ngo 1.24\n' > "$mod/go.mod"
      (cd "$mod" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2 &&
        nice -n 10 go build -trimpath -p "$LAB_GO_PARALLEL" -ldflags "-s -w" -o "$dir/etcd" go.etcd.io/etcd/server/v3 >&2)
      ;;
    containerd)
      # Its go.mod has exclude directives, so (like etcd) it is built from a
      # generated module that requires it and carries the same excludes.
      # Same optional snapshotters left out as kind's base image; static build.
      local mod="$dir/mod" m=github.com/containerd/containerd/v2 gomod
      mkdir -p "$mod"
      gomod=$(go mod download -json "$m@$CONTAINERD_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
      { printf 'module hermetic.invalid/containerdbuild\n\ngo 1.23.0\n\n'
        sed -n '/^exclude (/,/^)/p' "$gomod"; } > "$mod/go.mod"
      (cd "$mod" && go get "$m/cmd/containerd@$CONTAINERD_VERSION" "$m/cmd/ctr@$CONTAINERD_VERSION" "$m/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" >&2 &&
        nice -n 10 go build -trimpath -p "$LAB_GO_PARALLEL" -tags "no_aufs no_zfs no_btrfs no_devmapper" \
          -ldflags "-s -w -X $m/version.Version=$CONTAINERD_VERSION -X $m/version.Package=$m" \
          -o "$dir/" "$m/cmd/containerd" "$m/cmd/ctr" "$m/cmd/containerd-shim-runc-v2" >&2)
      ;;
    lab-kindnet)
      (cd "$HERMETIC_DIR/src/lab-kindnet" && go build -trimpath -ldflags "-s -w" -o "$dir/lab-kindnet" . >&2) ;;
    pause)
      CGO_ENABLED=1 cc -Os -static -Wall -o "$dir/pause" "$HERMETIC_DIR/src/pause/pause.c" >&2
      strip "$dir/pause" ;;
  esac
  [ -x "$dir/$name" ] || die "$name was not built"
}

names="${*:-kind crictl containerd pause lab-kindnet coredns local-path-provisioner etcd}"
for n in $names; do build_one "$n"; done
