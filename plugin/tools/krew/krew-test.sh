#!/usr/bin/env bash
# make krew-test: kubectl inject installed by a real krew, as a user installs it, and checked
# against the venv's command.
#
#   1. krew v0.4.3 (and its manifest validator), built from the Go module proxy once and kept
#      in ~/.cache/kubectl-inject-lab/krew/v0.4.3/
#   2. the archive and inject.yaml from build.py, or those in --dist DIR (make dist's)
#   3. validate-krew-manifest -skip-install (the krew index's structural checks), then
#      `krew install --manifest --archive` into temporary KREW_ROOTs, for linux/amd64 and for
#      linux/arm64 (KREW_ARCH: the same archive, so the same installed tree), and refused for
#      darwin; where qemu-aarch64 is installed, the arm64 install also runs, on an arm64 build
#      of Debian's python3 (cached in ~/.cache/kubectl-inject-lab/krew/arm64-python/)
#   4. through krew's link ($KREW_ROOT/bin/kubectl-inject) and through kubectl (`kubectl
#      inject`, $KREW_ROOT/bin first on PATH): `--offline -f <the lab's nginx Pod>` gives the
#      venv's stdout and stderr byte for byte; `kubectl inject --version` names the manifest's
#      version and the venv's Istio lines
#
# Nothing but step 1 (the module proxy) and the first build (PyPI, for the PyYAML wheels) may
# use the network. krew, the validator and the plugin run in a network namespace of their own
# (unshare -n: only a loopback, down) and under strace, which must record no connect() to an
# internet address and no exec of git (krew's index). What krew v0.4.3 would otherwise do (read
# in its source, cmd/krew/cmd/root.go and install.go):
#   - an upgrade check, a GitHub API request from 40% of runs: off with KREW_NO_UPGRADE_CHECK
#     (a build without a version tag, as `go install` makes, skips it anyway);
#   - `install NAME` clones or pulls the index with git first: `--manifest` skips that
#     (install.go's PreRunE) and needs no index;
#   - the archive's download from the manifest's uri: `--archive` reads the local file instead.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
KREW_VERSION=v0.4.3
CACHE=${KREW_TEST_CACHE:-$HOME/.cache/kubectl-inject-lab/krew/$KREW_VERSION}
VENV=$ROOT/.venv
PYTHON=$VENV/bin/python
KUBECTL=$VENV/bin/kubectl

fail() { echo "krew-test: FAIL: $*" >&2; exit 1; }
step() { echo "krew-test: $*"; }

[ -x "$VENV/bin/kubectl-inject" ] && [ -x "$KUBECTL" ] || fail "no $VENV/bin/kubectl-inject or kubectl: make install first"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/krew-test.XXXXXX")
trap '[ -n "${KREW_TEST_KEEP:-}" ] || rm -rf "$WORK"' EXIT

# ---- 1. krew ------------------------------------------------------------------------------------
build_krew() {
    if [ -x "$CACHE/krew" ] && [ -x "$CACHE/validate-krew-manifest" ]; then
        return
    fi
    command -v go >/dev/null || fail "go is needed once, to build krew $KREW_VERSION"
    step "building krew $KREW_VERSION from the Go module proxy into $CACHE"
    mkdir -p "$CACHE"
    local bin
    bin=$(mktemp -d "$CACHE/build.XXXXXX")
    # GOTOOLCHAIN=local: build with this Go, never fetch another toolchain
    GOTOOLCHAIN=local GOFLAGS=-mod=mod GOBIN="$bin" go install \
        "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION" "sigs.k8s.io/krew/cmd/validate-krew-manifest@$KREW_VERSION"
    mv "$bin/krew" "$bin/validate-krew-manifest" "$CACHE/"   # complete binaries only, for the next run
    rmdir "$bin"
}

# ---- the network check --------------------------------------------------------------------------
# traced NAME CMD...: CMD in a network namespace without a route anywhere (UNSHARE), and under
# strace when there is one, its connect()s, sends and execs logged to $WORK/trace-NAME.log;
# check_trace NAME then fails if it tried an internet connection (DNS included: a connect() or
# send on an AF_INET/AF_INET6 socket) or ran git (krew's index).
traced() {
    local name=$1
    shift
    if command -v strace >/dev/null; then
        "${UNSHARE[@]}" strace -f -qq -o "$WORK/trace-$name.log" -e trace=connect,sendto,sendmsg,execve "$@"
    else
        "${UNSHARE[@]}" "$@"
    fi
}

check_trace() {
    local trace="$WORK/trace-$1.log"
    [ -f "$trace" ] || return 0
    if grep -E '(connect|sendto|sendmsg)\(' "$trace" | grep -qE 'AF_INET6?'; then
        grep -E 'AF_INET6?' "$trace" >&2
        fail "$1 tried to reach the network"
    fi
    if grep -qE 'execve\("[^"]*/git"' "$trace"; then
        fail "$1 ran git (krew's index)"
    fi
    TRACED=$((TRACED + 1))
}

choose_isolation() {
    if unshare -n true 2>/dev/null; then
        UNSHARE=(unshare -n)
    elif unshare -rn true 2>/dev/null; then  # without root: a user namespace mapping us to root
        UNSHARE=(unshare -rn)
    elif command -v strace >/dev/null; then
        UNSHARE=()
        echo "krew-test: no network namespace here (unshare -n); relying on strace alone" >&2
    else
        fail "neither unshare -n nor strace: cannot check that krew stays off the network"
    fi
    TRACED=0
}

# ---- 3. install ---------------------------------------------------------------------------------
# krew_install OS ARCH ROOT LOG: install the plugin from the local manifest and archive
# As the README tells users: `kubectl krew install ...`, kubectl finding krew as the plugin
# kubectl-krew (krew's own install names it so) in a directory of its own.
krew_install() {
    local os=$1 arch=$2 root=$3 log=$4 rc=0
    mkdir -p "$WORK/krew-bin" && ln -sf "$CACHE/krew" "$WORK/krew-bin/kubectl-krew"
    traced "install-$os-$arch" env KREW_ROOT="$root" KREW_OS="$os" KREW_ARCH="$arch" KREW_NO_UPGRADE_CHECK=1 \
        PATH="$WORK/krew-bin:$root/bin:$PATH" HOME="$WORK/home" TMPDIR="$WORK" \
        "$KUBECTL" krew install --manifest="$MANIFEST" --archive="$ARCHIVE" -v=4 >"$log" 2>&1 || rc=$?
    check_trace "install-$os-$arch"
    return $rc
}

# ---- linux/arm64, run -----------------------------------------------------------------------------
# An arm64 build of Debian's python3 (of the release this machine's apt sources name), unpacked
# into a directory of its own and run by qemu-aarch64 in user mode: krew's arm64 install then
# runs as on an arm64 machine with that Python, bundled aarch64 libyaml and all. The packages
# come through apt from the Debian sources configured here (only those: other sources may be
# out of reach), with lists and downloads kept out of the system's apt state. Cached.
ARM64_ROOT=${KREW_TEST_ARM64_ROOT:-$HOME/.cache/kubectl-inject-lab/krew/arm64-python}

arm64_python() {
    [ -x "$ARM64_ROOT/python3" ] || make_arm64_root >"$WORK/arm64-root.log" 2>&1 \
        || { echo "krew-test: could not unpack an arm64 python3 (see below); linux/arm64 not run" >&2
             tail -n 5 "$WORK/arm64-root.log" >&2; return 1; }
    echo "$ARM64_ROOT/python3"
}

make_arm64_root() {
    local apt=$WORK/arm64-apt tmp=$ARM64_ROOT.tmp minimal stdlib deb
    mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        cp /etc/apt/sources.list.d/debian.sources "$apt/parts/"
    else
        grep -hE '^deb .*/debian(-security)?/? ' /etc/apt/sources.list >"$apt/parts/debian.list"
    fi
    local opts=(-o APT::Architecture=arm64 -o "APT::Architectures::=arm64" -o Dir::Etc::SourceList=/dev/null
                -o Dir::Etc::SourceParts="$apt/parts" -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache"
                -o Dir::State::Status=/dev/null -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)")
    apt-get "${opts[@]}" -qq update
    minimal=$(apt-cache "${opts[@]}" depends python3-minimal | sed -n 's/^ *\(Pre\)\{0,1\}Depends: \(python3\.[0-9]*-minimal\)$/\2/p' | head -n 1)
    [ -n "$minimal" ] || { echo "no python3.N-minimal for arm64 in these sources"; return 1; }
    stdlib=lib${minimal%-minimal}-stdlib
    # the interpreter, its standard library and the shared libraries under them (no perl, dpkg...)
    apt-cache "${opts[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
        --no-replaces --no-enhances "$minimal" "$stdlib" | grep -E '^(lib|zlib|python3)' | grep -v '^libperl' \
        | sort -u >"$apt/packages"
    (cd "$apt/debs" && xargs apt-get "${opts[@]}" -qq download <"$apt/packages")
    rm -rf "$tmp"
    mkdir -p "$tmp/root"
    for deb in "$apt"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
    printf '#!/bin/sh\n# %s for arm64 (Debian), run by qemu-aarch64\nexec %s -L %s %s "$@"\n' "${minimal%-minimal}" \
        "$(command -v qemu-aarch64)" "$ARM64_ROOT/root" "$ARM64_ROOT/root/usr/bin/${minimal%-minimal}" >"$tmp/python3"
    chmod +x "$tmp/python3"
    rm -rf "$ARM64_ROOT"
    mv "$tmp" "$ARM64_ROOT"
    # kept only if it runs what the plugin imports
    "$ARM64_ROOT/python3" -S -c 'import json, zlib, hashlib, ssl, platform' || { rm -rf "$ARM64_ROOT"; return 1; }
}

# run_arm64 POD ENV...: krew's arm64 install run with that Python, against the venv's output
run_arm64() {
    local pod=$1 py lib
    shift
    if ! command -v qemu-aarch64 >/dev/null; then
        step "linux/arm64: installed, not run (no qemu-aarch64 here; Debian's qemu-user package has it)"
        return
    fi
    py=$(arm64_python) || return 0
    lib=$WORK/krew-arm64/store/inject/$(sed -n 's/^  version: //p' "$MANIFEST")/lib
    run_to "$WORK/arm64" traced run-arm64 "$@" KUBECTL_INJECT_PYTHON="$py" "$WORK/krew-arm64/bin/kubectl-inject" --offline -f "$pod"
    check_trace run-arm64
    same_output "linux/arm64 install, on $("$py" -c 'import platform; print("Python", platform.python_version(), platform.machine())') (qemu-aarch64)" \
        "$WORK/arm64" "$WORK/venv"
    "$py" -S -c 'import sys; sys.path[0:0] = sys.argv[1:]; import yaml._yaml as y; print(y.__file__)' "$lib" "$lib/pyyaml" \
        | grep -q 'aarch64-linux-gnu\.so$' || fail "the arm64 run did not load the bundled aarch64 libyaml"
    step "linux/arm64: the bundled aarch64 libyaml parsed it"
}

# ---- 4. run -------------------------------------------------------------------------------------
# The caller's PATH without this checkout (its kubectl-inject launcher) and the venv (its
# kubectl-inject): kubectl must find krew's and nothing else.
user_path() {
    local dir out=""
    local IFS=:
    for dir in $PATH; do
        case "$dir" in
            "$ROOT" | "$ROOT/" | "$VENV/bin" | "$VENV/bin/" | "") ;;
            *) out=${out:+$out:}$dir ;;
        esac
    done
    echo "$out"
}

# same_output WHAT A B: A's stdout/stderr/exit code files equal B's
same_output() {
    local what=$1 a=$2 b=$3 part
    for part in out err rc; do
        cmp -s "$a.$part" "$b.$part" || { diff "$b.$part" "$a.$part" | head -20 >&2; fail "$what: $part differs from the venv's"; }
    done
    step "$what: stdout ($(wc -c <"$a.out") bytes), stderr and exit code equal the venv's"
}

# run_to PREFIX CMD...: stdout, stderr and exit code into PREFIX.{out,err,rc}
run_to() {
    local prefix=$1 rc=0
    shift
    "$@" >"$prefix.out" 2>"$prefix.err" || rc=$?
    echo "$rc" >"$prefix.rc"
}

check_version() {
    local krew_out=$1 venv_out=$2 want
    want=$(sed -n 's/^  version: v//p' "$MANIFEST")
    head -n 1 "$krew_out" | grep -qE "^kubectl inject $want \\(Python [0-9.]+\\)\$" \
        || fail "kubectl inject --version through krew says '$(head -n 1 "$krew_out")', not 'kubectl inject $want (Python ...)'"
    diff <(tail -n +2 "$venv_out") <(tail -n +2 "$krew_out") >&2 || fail "--version: the Istio lines differ from the venv's"
    step "kubectl inject --version through krew: $(head -n 1 "$krew_out")"
}

main() {
    build_krew
    choose_isolation
    step "krew: $("$CACHE/krew" version 2>/dev/null | awk '/GitTag/ {print $2}') (a build without a version tag: no upgrade check either way)"

    local dist=$WORK/dist
    if [ -n "$DIST" ]; then
        dist=$DIST
        step "the archive and manifest of $dist"
    else
        step "building the archive and manifest (build.py)"
        "$PYTHON" "$ROOT/plugin/tools/krew/build.py" --out "$dist"
    fi
    MANIFEST=$dist/inject.yaml
    # the archive the manifest names (its uri's file name)
    ARCHIVE=$dist/$(sed -n 's/^    uri: //p' "$MANIFEST" | head -n 1 | sed 's|.*/||')
    [ -f "$MANIFEST" ] && [ -f "$ARCHIVE" ] || fail "no $MANIFEST or $ARCHIVE (build.py --out $dist makes them)"
    mkdir -p "$WORK/home"

    traced validate "$CACHE/validate-krew-manifest" -manifest "$MANIFEST" -skip-install 2>"$WORK/validate.log" \
        || { cat "$WORK/validate.log" >&2; fail "validate-krew-manifest refused inject.yaml"; }
    check_trace validate
    step "validate-krew-manifest: $(grep -c 'OK\|used\|no overlapping' "$WORK/validate.log") structural checks passed"

    local amd64=$WORK/krew-amd64 arm64=$WORK/krew-arm64
    local arch
    for arch in amd64 arm64; do
        krew_install linux "$arch" "$WORK/krew-$arch" "$WORK/install-$arch.log" \
            || { tail -n 30 "$WORK/install-$arch.log" >&2; fail "krew install for linux/$arch failed"; }
    done
    diff -r "$amd64/store" "$arm64/store" >/dev/null || fail "the arm64 install differs from the amd64 one"
    step "installed for linux/amd64 and linux/arm64: the same tree"
    if krew_install darwin amd64 "$WORK/krew-darwin" "$WORK/install-darwin.log"; then
        fail "krew installed the plugin for darwin, which the manifest does not offer"
    fi
    grep -q 'does not offer installation for this platform' "$WORK/install-darwin.log" \
        || { cat "$WORK/install-darwin.log" >&2; fail "krew refused darwin for another reason than its platform"; }
    step "darwin refused: the manifest does not offer it"

    # The lab's nginx Pod (what `kubectl run mywebserver --image nginx --dry-run=client -oyaml` writes)
    local pod=$WORK/nginx-pod.yaml
    "$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); from inject_testkit import NGINX_POD; print(NGINX_POD, end="")' \
        "$ROOT/plugin/tests" >"$pod"
    mkdir -p "$WORK/kubectl-bin"
    ln -s "$KUBECTL" "$WORK/kubectl-bin/kubectl"
    local path env
    path="$amd64/bin:$WORK/kubectl-bin:$(user_path)"
    env=(env -i PATH="$path" HOME="$WORK/home" KUBECONFIG=/nonexistent)
    [ "$(env PATH="$path" sh -c 'command -v kubectl-inject')" = "$amd64/bin/kubectl-inject" ] || fail "kubectl-inject on PATH is not krew's"
    [ -L "$amd64/bin/kubectl-inject" ] || fail "krew made no link $amd64/bin/kubectl-inject"
    PATH="$path" "$KUBECTL" plugin list 2>/dev/null | grep -qx "$amd64/bin/kubectl-inject" || fail "kubectl does not list krew's kubectl-inject"

    run_to "$WORK/venv" "${env[@]}" "$VENV/bin/kubectl-inject" --offline -f "$pod"
    [ "$(cat "$WORK/venv.rc")" = 0 ] || fail "the venv's kubectl-inject failed: $(cat "$WORK/venv.err")"
    run_to "$WORK/link" traced run-link "${env[@]}" "$amd64/bin/kubectl-inject" --offline -f "$pod"
    check_trace run-link
    same_output "\$KREW_ROOT/bin/kubectl-inject --offline -f nginx-pod.yaml" "$WORK/link" "$WORK/venv"
    run_to "$WORK/kubectl" traced run-kubectl "${env[@]}" kubectl inject --offline -f "$pod"
    check_trace run-kubectl
    same_output "kubectl inject --offline -f nginx-pod.yaml (\$KREW_ROOT/bin first on PATH)" "$WORK/kubectl" "$WORK/venv"

    run_arm64 "$pod" "${env[@]}"

    run_to "$WORK/venv-version" "${env[@]}" "$VENV/bin/kubectl-inject" --version
    run_to "$WORK/krew-version" traced run-version "${env[@]}" kubectl inject --version
    check_trace run-version
    [ "$(cat "$WORK/krew-version.rc")" = 0 ] || fail "kubectl inject --version through krew: exit $(cat "$WORK/krew-version.rc"): $(tail -n 3 "$WORK/krew-version.err")"
    check_version "$WORK/krew-version.out" "$WORK/venv-version.out"

    step "no network: krew, the validator and the plugin ran in '${UNSHARE[*]:-no namespace}'$( ((TRACED)) && echo "; $TRACED runs traced by strace: no connect() or send to an internet address, no git")"
    step "krew install log (linux/amd64), last lines:"
    tail -n 20 "$WORK/install-amd64.log" | sed 's/^/    /'
    step "PASS"
}

DIST=""
case "${1:-}" in
    --dist) DIST=$(cd "${2:?--dist DIR}" && pwd) ;;
    "") ;;
    *) echo "usage: krew-test.sh [--dist DIR]   (DIR: build.py's output, inject.yaml and its archive; default: built here)" >&2
       exit 2 ;;
esac
main
