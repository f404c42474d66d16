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
. ./modfile.sh
line=$(version_line "$version")
pinned_modfile "mesh-$line" "istio.io/api $version" istio.io/api@"$version" k8s.io/api@"$k8s" k8s.io/apimachinery@"$k8s"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go run -modfile="$mod" . -k8s k8s.json -mesh "mesh-$line.json" "$tmp"
cp "$tmp/mesh-$line.json" ../../kubectl_inject/gotypes/schema/
