#!/bin/sh
# Generate the mesh type schema of one istio.io/api version (the one an Istio release's go.mod names):
#   ./gen-mesh.sh v1.30.8 v0.35.3   -> ../../kubectl_inject/gotypes/schema/mesh-v1.30.json
# The second argument is the k8s.io/api version built beside it (istio.io/api's descriptors name
# apimachinery's types: take the release's own). The program is main.go unchanged; the module file
# versions/mesh-vMAJOR.MINOR.mod (+ .sum) is go.mod with those raised, tidied through the Go module
# proxy, and committed. The Kubernetes schema it also writes goes to a temporary directory.
set -eu
version=${1:?usage: gen-mesh.sh vX.Y.Z (istio.io/api) vA.B.C (k8s.io/api)}
k8s=${2:?usage: gen-mesh.sh vX.Y.Z (istio.io/api) vA.B.C (k8s.io/api)}
cd "$(dirname "$0")"
line=$(echo "$version" | sed -E 's/^(v[0-9]+\.[0-9]+)\..*$/\1/')
mod=versions/mesh-$line.mod
mkdir -p versions
if [ ! -f "$mod" ] || ! grep -q "istio.io/api $version\$" "$mod"; then
    cp go.mod "$mod"
    cp go.sum "versions/mesh-$line.sum"
    go mod edit -modfile="$mod" -require=istio.io/api@"$version" \
        -require=k8s.io/api@"$k8s" -require=k8s.io/apimachinery@"$k8s"
    GOFLAGS=-mod=mod go mod tidy -modfile="$mod"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go run -modfile="$mod" . -k8s k8s.json -mesh "mesh-$line.json" "$tmp"
cp "$tmp/mesh-$line.json" ../../kubectl_inject/gotypes/schema/
