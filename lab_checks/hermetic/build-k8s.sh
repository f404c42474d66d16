#!/usr/bin/env bash
# build-k8s.sh -- build the Kubernetes binaries of K8S_VERSION from the Go module
# proxy into $LAB_CACHE/k8s-$K8S_VERSION/bin (skipped when already there).
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces every k8s.io
# staging module with ./staging/... . So we generate a tiny module that
# requires k8s.io/kubernetes@K8S_VERSION and replaces each staging module with
# its published release K8S_STAGING_VERSION, then `go build` the commands.
# Version ldflags make kubeadm/kubelet report K8S_VERSION (kubeadm checks it).
# Usage: build-k8s.sh            (prints the bin dir on stdout)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CMDS="kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy"
OUT="$LAB_CACHE/k8s-$K8S_VERSION/bin"

have_all() { for c in $CMDS; do [ -x "$OUT/$c" ] || return 1; done; }
if have_all; then log "kubernetes $K8S_VERSION binaries cached in $OUT"; echo "$OUT"; exit 0; fi

MOD="$LAB_CACHE/k8s-$K8S_VERSION/mod"
mkdir -p "$MOD" "$OUT"
cd "$MOD"

info=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION")
gomod=$(printf '%s' "$info" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
commit=$(printf '%s' "$info" | sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{40\}\)".*/\1/p' | head -1)
mtime=$(printf '%s' "$info" | sed -n 's/^[[:space:]]*"Time": "\(.*\)",\{0,1\}$/\1/p' | head -1)
[ -n "$gomod" ] || die "could not download k8s.io/kubernetes@$K8S_VERSION"

{
  echo "module hermetic.invalid/k8sbuild"
  echo
  echo "go 1.24.0"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  # Every "k8s.io/X => ./staging/src/k8s.io/X" becomes the published module.
  sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*#replace \1 => \1 '"$K8S_STAGING_VERSION"'#p' "$gomod"
} > go.mod
log "generated $(grep -c '^replace' go.mod) staging replaces"

PKGS=""
for c in $CMDS; do PKGS="$PKGS k8s.io/kubernetes/cmd/$c"; done
# Each package pinned at K8S_VERSION: a bare `go get` would move to the newest release.
GETS=""
for c in $CMDS; do GETS="$GETS k8s.io/kubernetes/cmd/$c@$K8S_VERSION"; done
# shellcheck disable=SC2086
go get $GETS >&2
grep -q "k8s.io/kubernetes $K8S_VERSION\$" go.mod || die "go get moved k8s.io/kubernetes off $K8S_VERSION"

X=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  X="$X -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  X="$X -X $p.gitCommit=${commit:-0000000000000000000000000000000000000000}"
  X="$X -X $p.gitTreeState=clean -X $p.buildDate=${mtime:-1970-01-01T00:00:00Z}"
done

log "building $CMDS (kubernetes $K8S_VERSION, -p $LAB_GO_PARALLEL)"
# shellcheck disable=SC2086
nice -n 10 go build -trimpath -p "$LAB_GO_PARALLEL" -ldflags "-s -w $X" -o "$OUT/" $PKGS >&2
have_all || die "kubernetes build incomplete in $OUT"
"$OUT/kubeadm" version -o short >&2
echo "$OUT"
