#!/bin/sh
# Generate the Kubernetes type schema of one k8s.io/api version:
#   ./gen-k8s.sh v0.31.0        -> ../../kubectl_inject/gotypes/schema/k8s-v0.31.json
# The program is main.go unchanged, built against that k8s.io/api and k8s.io/apimachinery: the
# module file versions/k8s-vMAJOR.MINOR.mod (+ .sum) is go.mod with those two raised, tidied
# through the Go module proxy, and committed so the schema can be regenerated as it was.
set -eu
version=${1:?usage: gen-k8s.sh vX.Y.Z (a k8s.io/api version)}
cd "$(dirname "$0")"
. ./modfile.sh
line=$(version_line "$version")
pinned_modfile "k8s-$line" "k8s.io/api $version" k8s.io/api@"$version" k8s.io/apimachinery@"$version"
go run -modfile="$mod" . -k8s "k8s-$line.json" -mesh ""
