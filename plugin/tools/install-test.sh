#!/usr/bin/env bash
# make install-test: the project installed as users install it, outside this checkout.
#
#   1. pip: the wheel from `make dist` with its [lab] extra, in a new virtualenv in a temporary
#      directory, run from there (nothing of the checkout on sys.path or PATH):
#      kubectl inject --version, lab-grade --version and --help, the lab's Pod transformed offline (byte for byte what the checkout's command gives),
#      completion through the real kubectl (kubectl_complete-inject on PATH), a grade of an
#      unreachable target (0 points, exit 0), the lab suite collected from the installed package
#      (the 9 steps) and, when LAB_KUBECONFIG names a cluster with Istio, run against it.
#   2. pipx: the same wheel as an application (PIPX_HOME in the temporary directory):
#      kubectl-inject --version and an offline transform through `kubectl inject`.
#
# Every command is echoed with its output; the first failure stops the script (exit 1).
# Python: PYTHON3 (the Makefile's choice). Network: PyPI only (pip resolves the dependencies).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON3="${PYTHON3:-python3}"
WHEEL="$(ls "$ROOT"/dist/kubectl_inject-*-py3-none-any.whl 2>/dev/null | tail -1)"
[ -n "$WHEEL" ] || { echo "install-test: no wheel in $ROOT/dist: run make dist" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-inject-install.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
# pip's download cache stays the user's (its wheels are keyed by their hashes); nothing else of
# HOME is seen: no ~/.kube/config, no kubectl inject disk cache.
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}"
export HOME="$WORK/home" KUBECONFIG="$WORK/no-kubeconfig" PIP_DISABLE_PIP_VERSION_CHECK=1
mkdir -p "$HOME"

say() { echo "+ $*" >&2; }
fail() { echo "install-test: FAILED: $*" >&2; exit 1; }
# Runs a command, shows its output, keeps it in $OUT.
run() { say "$@"; OUT="$("$@" 2>&1)" || { echo "$OUT" >&2; fail "$* (exit $?)"; }; echo "$OUT" | sed 's/^/  /' >&2; }

echo "== pip: $(basename "$WHEEL")[lab] in a new venv ($WORK/venv)" >&2
"$PYTHON3" -m venv venv
run venv/bin/pip install -q "$WHEEL[lab]"
export PATH="$WORK/venv/bin:$PATH"
unset PYTHONPATH

run kubectl-inject --version
[[ "$OUT" == "kubectl inject "*"Istio 1.22 to"* ]] || fail "kubectl-inject --version: $OUT"
[[ "$OUT" != *"git "* ]] || fail "an installed package named a git commit: $OUT"
run kubectl inject version
run lab-grade --version
[[ "$OUT" == "lab-grade "* ]] || fail "lab-grade --version: $OUT"
run lab-grade --help
[[ "$OUT" == *"--roster"* ]] || fail "lab-grade --help"

# No generic top-level names: only the two packages.
say "top-level modules of the wheel"
venv/bin/python - <<'EOF' || fail "top-level modules"
import importlib.metadata as m
top = sorted(m.distribution("kubectl-inject").read_text("top_level.txt").split())
print("  ", top)
assert top == ["kubectl_inject", "lab_checks"], top
for generic in ("steps", "expectations", "labkit", "lab_grading"):
    try:
        __import__(generic)
    except ImportError:
        continue
    raise SystemExit(f"{generic} is importable")
EOF

# The lab's Pod as `kubectl run mywebserver --image nginx --dry-run=client -oyaml` prints it (kubectl
# asks an API server even for that; there is none here), from the installed lab suite's own text.
say "nginx-pod.yaml from lab_checks.lab_text"
venv/bin/python -c 'from lab_checks.lab_text import GENERATED_POD_YAML as y; print(y, end="")' > nginx-pod.yaml
run kubectl inject --offline -f nginx-pod.yaml -o transformed.yaml
"$ROOT/.venv/bin/kubectl-inject" --offline -f nginx-pod.yaml -o from-checkout.yaml 2>/dev/null
cmp transformed.yaml from-checkout.yaml || fail "the installed command's output differs from the checkout's"
grep -q "name: istio-proxy" transformed.yaml || fail "no istio-proxy in transformed.yaml"
echo "  transformed.yaml: $(wc -l < transformed.yaml) lines, identical to the checkout's" >&2

run command -v kubectl_complete-inject
run kubectl __complete inject --istio-v
[[ "$OUT" == *"--istio-version"* ]] || fail "kubectl did not complete --istio-version through kubectl_complete-inject"

# A grade of a cluster that is not there: 0 points with its reason, exit 0.
port="$(venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat > unreachable.yaml <<EOF
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:$port"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
EOF
run lab-grade --kubeconfig unreachable.yaml --budget 10 --quiet
[[ "$OUT" == *"0/10"* && "$OUT" == *"not graded"* ]] || fail "the unreachable target was not reported with 0 points"

# The lab suite from the installed package (pytest11 entry point: options, markers).
run venv/bin/python -m pytest --pyargs lab_checks --collect-only -q -m lab -p no:cacheprovider
[ "$(echo "$OUT" | grep -c 'lab_checks/test_lab_steps.py::test_[1-9]_')" = 9 ] || fail "the 9 lab steps were not collected"
if [ -n "${LAB_KUBECONFIG:-}" ]; then
  run venv/bin/python -m pytest --pyargs lab_checks --kubeconfig "$LAB_KUBECONFIG" -p no:cacheprovider \
    --lab-namespace "install-test-$$" --lab-report-json "$WORK/lab-report.json"
  [[ "$OUT" == *"9 passed"* ]] || fail "the installed lab suite did not pass its 9 steps"
fi

echo "== pipx: $(basename "$WHEEL") as an application" >&2
run venv/bin/pip install -q pipx
export PIPX_HOME="$WORK/pipx" PIPX_BIN_DIR="$WORK/pipx-bin"
run venv/bin/pipx install "$WHEEL"
run "$PIPX_BIN_DIR/kubectl-inject" --version
PATH="$PIPX_BIN_DIR:$PATH" run kubectl inject --offline -f nginx-pod.yaml -o from-pipx.yaml
cmp from-pipx.yaml from-checkout.yaml || fail "pipx's command's output differs from the checkout's"
run "$PIPX_BIN_DIR/lab-grade" --version

echo "install-test: passed (pip and pipx, outside the checkout)" >&2
