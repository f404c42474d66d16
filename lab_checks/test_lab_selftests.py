"""Self-tests of the lab suite: run it against deliberately broken states of the real cluster and
check that it fails at the right step with the right reason, marks what depends on that step as
not run, and leaves nothing behind (Pod, namespace, istiod replicas, injector ConfigMap).

Each case runs test_lab_steps.py in a child pytest, in a namespace of its own, and reads the child's
JSON report. Whatever a case breaks it restores in a `finally`, and checks that it did.
Run: make verify-lab-selftest (after, or instead of, make verify-lab: the cluster is created or
reused and Istio installed as for the suite).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from labkit import REPO, kubectl_binary

pytestmark = pytest.mark.lab_selftest

HERE = Path(__file__).resolve().parent
# Short enough to keep the self-tests quick, long enough for a healthy sidecar on a busy 2-core node.
READY_TIMEOUT = "60"


class Cluster:
    """kubectl against the suite's cluster (not the lab's private kubeconfig)."""

    def __init__(self, info):
        self.info = info
        self.base = [kubectl_binary(), "--kubeconfig", info["kubeconfig"]] + (
            ["--context", info["context"]] if info.get("context") and info["mode"] == "existing" else [])

    def run(self, *args, check=True, timeout=120):
        proc = subprocess.run(self.base + list(args), capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr.strip()}")
        return proc

    def json(self, *args):
        proc = self.run("get", *args, "-o", "json", check=False)
        if proc.returncode != 0:
            if "NotFound" in proc.stderr:
                return None
            raise AssertionError(f"kubectl get {' '.join(args)}: {proc.stderr.strip()}")
        return json.loads(proc.stdout)

    def suite_args(self):
        if self.info["mode"] == "kind":
            return ["--lab-cluster", self.info["name"], "--lab-no-install"]
        return ["--kubeconfig", self.info["kubeconfig"]] + (
            ["--context", self.info["context"]] if self.info.get("context") else [])


@pytest.fixture(scope="session")
def cluster(lab_cluster):
    c = Cluster(lab_cluster)
    if c.json("deployment", "istiod", "-n", "istio-system") is None:
        # lab_cluster installs it on the kind cluster (make cluster-up), unless --lab-no-install.
        pytest.fail("Istio is not installed on the cluster"
                    + (" (make istio-up)" if lab_cluster["mode"] == "kind" else ""))
    c.run("-n", "istio-system", "rollout", "status", "deployment/istiod", "--timeout=180s", timeout=200)
    return c


def run_suite(cluster, tmp_path, name, *extra, env=None):
    """Runs the lab suite in a fresh namespace; returns (exit code, report, namespace, output)."""
    namespace = f"lab-selftest-{name}-{uuid.uuid4().hex[:5]}"
    report = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "pytest", str(HERE / "test_lab_steps.py"), "-p", "no:cacheprovider",
           "-q", "-rN", "--lab-namespace", namespace, "--lab-workdir", str(tmp_path / "work"),
           "--lab-report-json", str(report), "--lab-ready-timeout", READY_TIMEOUT,
           *cluster.suite_args(), *extra]
    child_env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
                     **(env or {}))
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=child_env, timeout=900)
    output = proc.stdout + proc.stderr
    assert report.exists(), f"the suite wrote no JSON report:\n{output}"
    data = json.loads(report.read_text())
    return proc.returncode, data, namespace, output


def outcomes(report):
    return {s["number"]: s["outcome"] for s in report["steps"]}


def reason(report, number):
    return next(s for s in report["steps"] if s["number"] == number)["reason"]


def assert_left_nothing(cluster, namespace, report):
    assert cluster.json("namespace", namespace) is None or \
        cluster.json("namespace", namespace)["status"].get("phase") == "Terminating", \
        f"namespace {namespace} left behind"
    # The namespace goes with everything in it; wait for it so the next case starts clean.
    deadline = time.monotonic() + 120
    while cluster.json("namespace", namespace) is not None and time.monotonic() < deadline:
        time.sleep(2)
    assert cluster.json("namespace", namespace) is None, f"namespace {namespace} still terminating"
    assert report.get("cleanup") is not None, "the suite's cleanup did not run"


def wait_until_istiod_serves_new_namespaces(cluster, timeout=180):
    """A restarted istiod is Ready before it leads again: its namespace controller (which gives
    every namespace the istio-ca-root-cert ConfigMap injected Pods mount) waits for the old
    leader lease. Restoring istiod means waiting until a new namespace gets that ConfigMap."""
    probe = f"lab-selftest-probe-{uuid.uuid4().hex[:6]}"
    cluster.run("create", "namespace", probe)
    try:
        deadline = time.monotonic() + timeout
        while cluster.json("configmap", "istio-ca-root-cert", "-n", probe) is None:
            assert time.monotonic() < deadline, f"istiod did not publish its root cert to {probe} in {timeout}s"
            time.sleep(2)
    finally:
        cluster.run("delete", "namespace", probe, "--wait=false", check=False)


def assert_steps(report, expected, output):
    got = outcomes(report)
    assert got == expected, f"step outcomes {got}, expected {expected}\n{output[-6000:]}"


def test_istiod_scaled_to_zero_fails_at_ready_and_names_istiod(cluster, tmp_path):
    dep = cluster.json("deployment", "istiod", "-n", "istio-system")
    replicas = dep["spec"].get("replicas", 1)
    cluster.run("-n", "istio-system", "scale", "deployment/istiod", "--replicas=0")
    try:
        cluster.run("-n", "istio-system", "wait", "--for=delete", "pod", "-l", "app=istiod", "--timeout=120s",
                    timeout=150, check=False)
        code, report, ns, output = run_suite(cluster, tmp_path, "istiod")
    finally:
        cluster.run("-n", "istio-system", "scale", "deployment/istiod", f"--replicas={replicas}")
        cluster.run("-n", "istio-system", "rollout", "status", "deployment/istiod", "--timeout=180s", timeout=200)
        wait_until_istiod_serves_new_namespaces(cluster)
    assert code != 0
    assert_steps(report, {1: "passed", 2: "passed", 3: "passed", 4: "passed", 5: "passed", 6: "failed",
                          7: "not run", 8: "not run", 9: "passed"}, output)
    why = reason(report, 6)
    assert "istiod 0/0 replicas ready (scaled to zero)" in why, why
    # Without istiod the sidecar gets no configuration (default namespace: istio-proxy runs, never
    # ready) or, in a namespace istiod never saw, not even its root certificate ConfigMap to mount.
    assert "istio-proxy running not ready" in why or 'configmap "istio-ca-root-cert" not found' in why, why
    assert "depends on step 6" in reason(report, 7)
    assert_left_nothing(cluster, ns, report)
    assert cluster.json("deployment", "istiod", "-n", "istio-system")["status"].get("readyReplicas") == replicas


def test_missing_sidecar_image_fails_at_entrypoint_and_ready_with_pull_errors(cluster, tmp_path):
    cm = cluster.json("configmap", "istio-sidecar-injector", "-n", "istio-system")
    original = cm["data"]["values"]
    values = json.loads(original)
    values["global"]["tag"] = f"{values['global'].get('tag')}-selftest-missing"
    patch = json.dumps({"data": {"values": json.dumps(values)}})
    cluster.run("-n", "istio-system", "patch", "configmap", "istio-sidecar-injector", "--type=merge", "-p", patch)
    try:
        code, report, ns, output = run_suite(cluster, tmp_path, "image")
    finally:
        cluster.run("-n", "istio-system", "patch", "configmap", "istio-sidecar-injector", "--type=merge",
                    "-p", json.dumps({"data": {"values": original}}))
    assert code != 0
    assert_steps(report, {1: "passed", 2: "passed", 3: "passed", 4: "failed", 5: "passed", 6: "failed",
                          7: "not run", 8: "not run", 9: "passed"}, output)
    why4 = reason(report, 4)
    assert "selftest-missing" in why4 and "cannot pull" in why4, why4
    why6 = reason(report, 6)
    assert any(r in why6 for r in ("ErrImagePull", "ImagePullBackOff")), why6
    assert "image pull:" in why6, why6
    assert_left_nothing(cluster, ns, report)
    now = cluster.json("configmap", "istio-sidecar-injector", "-n", "istio-system")["data"]["values"]
    assert now == original, "the injector values were not restored"


def stand_in_kubectl_inject(tmp_path, what: str, body) -> Path:
    """A directory with a broken kubectl-inject for the suite's PATH: `--help` as the real one,
    the rest the bash `body(real)` gives (real: the path of the real command)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    real = REPO / ".venv" / "bin" / "kubectl-inject"
    if not real.exists():
        real = REPO / "kubectl-inject"
    script = fake / "kubectl-inject"
    script.write_text(f"#!/bin/bash\n# self-test stand-in for kubectl inject: {what}\n"
                      f'for a in "$@"; do [ "$a" = --help ] && exec {real} --help; done\n' + body(real))
    script.chmod(0o755)
    return fake


def test_transformed_yaml_without_sidecar_fails_at_transform(cluster, tmp_path):
    # A broken injector on PATH as kubectl-inject: usage as the real one, but it returns its input unchanged.
    fake = stand_in_kubectl_inject(tmp_path, "injects nothing", lambda real: """\
while [ $# -gt 0 ]; do
  case "$1" in -f|--filename) cat "$2"; shift 2;; --filename=*) cat "${1#--filename=}"; shift;; *) shift;; esac
done
""")
    code, report, ns, output = run_suite(cluster, tmp_path, "nosidecar", "--lab-plugin-dir", str(fake))
    assert code != 0
    assert_steps(report, {1: "passed", 2: "passed", 3: "failed", 4: "not run", 5: "not run", 6: "not run",
                          7: "not run", 8: "not run", 9: "not run"}, output)
    why = reason(report, 3)
    assert "containers are ['mywebserver'], not [mywebserver, istio-proxy]: no sidecar was injected" in why, why
    assert "depends on step 3" in reason(report, 5)
    assert_left_nothing(cluster, ns, report)


def test_pod_deleted_before_processes_fails_at_processes(cluster, tmp_path):
    code, report, ns, output = run_suite(cluster, tmp_path, "deleted", "-p", "lab_sabotage",
                                         env={"LAB_SABOTAGE": "delete-pod-before:7"})
    assert code != 0
    assert_steps(report, {1: "passed", 2: "passed", 3: "passed", 4: "passed", 5: "passed", 6: "passed",
                          7: "failed", 8: "not run", 9: "passed"}, output)
    why = reason(report, 7)
    assert 'pods "mywebserver" not found' in why and "Pod mywebserver does not exist" in why, why
    assert "already gone" in reason(report, 9)
    assert_left_nothing(cluster, ns, report)


def statements(report):
    """{key: (status, seen)} of every lab text statement the suite judged (lab_drift.py)."""
    return {v["key"]: (v["status"], v["seen"]) for s in report["steps"] for v in s["statements"]}


def istiod_env(cluster, name):
    dep = cluster.json("deployment", "istiod", "-n", "istio-system")
    env = dep["spec"]["template"]["spec"]["containers"][0].get("env") or []
    return next((e.get("value") for e in env if e["name"] == name), None)


def set_istiod_env(cluster, name, value):
    cluster.run("-n", "istio-system", "set", "env", "deployment/istiod", f"{name}={value}")
    cluster.run("-n", "istio-system", "rollout", "status", "deployment/istiod", "--timeout=180s", timeout=200)


def test_native_sidecars_on_pass_with_the_container_layout_drifted(cluster, tmp_path):
    # kubectl inject in cluster mode follows istiod's ENABLE_NATIVE_SIDECARS (the hermetic install
    # sets it to false so the cluster behaves as the lab text); switched on, the lab still works.
    before = istiod_env(cluster, "ENABLE_NATIVE_SIDECARS")
    set_istiod_env(cluster, "ENABLE_NATIVE_SIDECARS", "true")
    try:
        wait_until_istiod_serves_new_namespaces(cluster)
        code, report, ns, output = run_suite(cluster, tmp_path, "native")
    finally:
        if before is None:
            cluster.run("-n", "istio-system", "set", "env", "deployment/istiod", "ENABLE_NATIVE_SIDECARS-")
            cluster.run("-n", "istio-system", "rollout", "status", "deployment/istiod", "--timeout=180s", timeout=200)
        else:
            set_istiod_env(cluster, "ENABLE_NATIVE_SIDECARS", before)
        wait_until_istiod_serves_new_namespaces(cluster)
    assert istiod_env(cluster, "ENABLE_NATIVE_SIDECARS") == before, "istiod's env was not restored"
    assert code == 0, output[-6000:]
    assert set(outcomes(report).values()) == {"passed"}, output[-6000:]
    got = statements(report)
    assert got["sidecar-container"][0] == "drifted" and "native sidecar" in got["sidecar-container"][1], got
    assert got["proxy-concurrency"][0] == "drifted", got
    holding = {k for k, (status, _) in got.items() if status == "holds"}
    assert holding == set(got) - {"sidecar-container", "proxy-concurrency"}, got
    assert "lab text drift: sidecar-container" in reason(report, 3)
    assert report["drift"]["drifted"] == ["sidecar-container", "proxy-concurrency"]
    assert "| **drifted** | istio-proxy is a native sidecar" in (tmp_path / "lab-drift.md").read_text()
    assert_left_nothing(cluster, ns, report)


def test_injector_without_istio_init_is_broken_and_fails_transform(cluster, tmp_path):
    # The real kubectl inject, its output stripped of istio-init: a statement of the lab text broken.
    fake = stand_in_kubectl_inject(tmp_path, "the real one, then istio-init removed from the Pod", lambda real: f"""\
set -o pipefail
{real} "$@" | {sys.executable} -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
for d in docs:
    spec = d.get("spec") or {{}}
    spec["initContainers"] = [c for c in spec.get("initContainers") or [] if c.get("name") != "istio-init"]
yaml.safe_dump_all(docs, sys.stdout)
'
""")
    code, report, ns, output = run_suite(cluster, tmp_path, "noinit", "--lab-plugin-dir", str(fake))
    assert code != 0
    assert_steps(report, {1: "passed", 2: "passed", 3: "failed", 4: "not run", 5: "not run", 6: "not run",
                          7: "not run", 8: "not run", 9: "not run"}, output)
    assert "no init container istio-init" in reason(report, 3)
    got = statements(report)
    assert got["init-container"] == ("broken", "no init container istio-init (init containers: [])"), got
    assert got["iptables-args"][0] == "broken", got
    assert got["sidecar-container"][0] == "holds" and got["proxy-concurrency"][0] == "drifted", got
    assert got["ready"][0] == "not checked", got
    assert report["drift"]["broken"] == ["init-container", "iptables-args"]
    assert_left_nothing(cluster, ns, report)
