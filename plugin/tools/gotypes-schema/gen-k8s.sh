#!/bin/sh
# Generate the Kubernetes type schema of one k8s.io/api version:
#   ./gen-k8s.sh v0.31.0        -> ../../kubectl_inject/gotypes/schema/k8s-v0.31.json
# The program is main.go unchanged, built against that k8s.io/api and k8s.io/apimachinery: the
# module file versions/k8s-vMAJOR.MINOR.mod (+ .sum) is go.mod with those two raised, tidied
# through the Go module proxy, and committed so the schema can be regenerated as it was.
set -eu
version=${1:?usage: gen-k8s.sh vX.Y.Z (a k8s.io/api version)}
cd "$(dirname "$0")"
line=$(echo "$version" | sed -E 's/^(v[0-9]+\.[0-9]+)\..*$/\1/')
mod=versions/k8s-$line.mod
mkdir -p versions
if [ ! -f "$mod" ] || ! grep -q "k8s.io/api $version\$" "$mod"; then
    cp go.mod "$mod"
    cp go.sum "versions/k8s-$line.sum"
    go mod edit -modfile="$mod" -require=k8s.io/api@"$version" -require=k8s.io/apimachinery@"$version"
    GOFLAGS=-mod=mod go mod tidy -modfile="$mod"
fi
go run -modfile="$mod" . -k8s "k8s-$line.json" -mesh ""
