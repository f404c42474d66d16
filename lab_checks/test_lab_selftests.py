"""Self-tests of the lab suite: run it against deliberately broken states of the real cluster and
check that it fails at the right step with the right reason, marks what depends on that step as
not run, and leaves nothing behind (Pod, namespace, istiod replicas, injector ConfigMap).

Faults in the middle of a run (docs/hardening.md, "The lab suite under faults"): the child run
pauses at a chosen point (lab_sabotage.py, LAB_SABOTAGE=pause-before:N / pause-in:N), the test
breaks something there (the API server cut off from this host; SIGINT to the child's process group,
as a terminal's Ctrl-C) and lets it go on.

Each case runs test_lab_steps.py in a child pytest, in a namespace of its own, and reads the child's
JSON report. Whatever a case breaks it restores in a `finally`, and checks that it did.
Run: make verify-lab-selftest (after, or instead of, make verify-lab: the cluster is created or
reused and Istio installed as for the suite).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from lab_checks.cluster_kit import Cluster, wait_until_istiod_serves_new_namespaces
from lab_checks.where import CHECKOUT as REPO

pytestmark = pytest.mark.lab_selftest

HERE = Path(__file__).resolve().parent
# Short enough to keep the self-tests quick, long enough for a healthy sidecar on a busy 2-core node.
READY_TIMEOUT = "60"


@pytest.fixture(scope="session")
def cluster(lab_cluster):
    c = Cluster(lab_cluster)
    if c.json("deployment", "istiod", "-n", "istio-system") is None:
        # lab_cluster installs it on the kind cluster (make cluster-up), unless --lab-no-install.
        pytest.fail("Istio is not installed on the cluster"
                    + (" (make istio-up)" if lab_cluster["mode"] == "kind" else ""))
    c.run("-n", "istio-system", "rollout", "status", "deployment/istiod", "--timeout=180s", timeout=200)
    return c


def new_namespace(name):
    return f"lab-selftest-{name}-{uuid.uuid4().hex[:5]}"


def suite_command(cluster, tmp_path, namespace, *extra, env=None):
    """(argv, environment) of a child run of the lab suite with its files under tmp_path."""
    cmd = [sys.executable, "-m", "pytest", str(HERE / "test_lab_steps.py"), "-p", "no:cacheprovider",
           "-q", "-rN", "--lab-namespace", namespace, "--lab-workdir", str(tmp_path / "work"),
           "--lab-report-json", str(tmp_path / "report.json"), "--lab-ready-timeout", READY_TIMEOUT,
           *cluster.suite_args(), *extra]
    child_env = dict(os.environ, **(env or {}))
    return cmd, child_env


def read_report(tmp_path, output):
    report = tmp_path / "report.json"
    assert report.exists(), f"the suite wrote no JSON report:\n{output}"
    return json.loads(report.read_text())


def run_suite(cluster, tmp_path, name, *extra, env=None, namespace=None):
    """Runs the lab suite in a fresh namespace (or `namespace`); returns (exit code, report, namespace, output)."""
    namespace = namespace or new_namespace(name)
    cmd, child_env = suite_command(cluster, tmp_path, namespace, *extra, env=env)
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=child_env, timeout=900)
    output = proc.stdout + proc.stderr
    return proc.returncode, read_report(tmp_path, output), namespace, output


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
    code, report, ns, output = run_suite(cluster, tmp_path, "deleted", "-p", "lab_checks.lab_sabotage",
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


# --------------------------------------------------------------------------------------------
# Faults in the middle of a run: the API server cut off, Ctrl-C at each step
# --------------------------------------------------------------------------------------------

class PausedRun:
    """A child run of the lab suite, in its own process group (as a terminal's foreground job) and
    with a TMPDIR of its own, that pauses where LAB_SABOTAGE says (lab_sabotage.py) so the test can
    break something at that point, then resumes it."""

    def __init__(self, cluster, tmp_path, namespace, sabotage):
        self.tmp_path = tmp_path
        self.namespace = namespace
        self.control = tmp_path / "control"
        self.tmpdir = tmp_path / "tmp"
        for d in (self.control, self.tmpdir):
            d.mkdir(parents=True)
        self.log = tmp_path / "output.txt"
        cmd, env = suite_command(cluster, tmp_path, namespace, "-p", "lab_checks.lab_sabotage", env={
            "LAB_SABOTAGE": sabotage, "LAB_SABOTAGE_DIR": str(self.control), "TMPDIR": str(self.tmpdir)})
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    def output(self):
        return self.log.read_text(errors="replace")

    def wait_paused(self, timeout=420) -> int:
        marker = self.control / "paused"
        deadline = time.monotonic() + timeout
        while not marker.exists():
            if self.proc.poll() is not None:
                raise AssertionError(f"the run ended (exit {self.proc.returncode}) before its pause:\n"
                                     f"{self.output()[-6000:]}")
            assert time.monotonic() < deadline, f"no pause within {timeout}s:\n{self.output()[-6000:]}"
            time.sleep(0.1)
        return int(marker.read_text())

    def resume(self):
        (self.control / "resume").touch()

    def signal(self, signum):
        """Like a terminal: to the whole process group (pytest and any kubectl it runs)."""
        os.killpg(self.proc.pid, signum)

    def finish(self, timeout=600, repeat_signal=None):
        """Waits for the end; with repeat_signal, sends it again every half second meanwhile (an
        impatient user pressing Ctrl-C again and again)."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"the run did not end within {timeout}s:\n{self.output()[-6000:]}")
            if repeat_signal is not None:
                try:
                    self.signal(repeat_signal)
                except ProcessLookupError:
                    pass
            time.sleep(0.5)
        output = self.output()
        return self.proc.returncode, read_report(self.tmp_path, output), output

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(30)


def live_processes_in_group(pgid):
    """Processes of process group pgid still alive (zombies not counted: an orphan's parent may be
    slow to reap it); (pid, command) pairs."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        comm_end = text.rindex(")")
        fields = text[comm_end + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append((int(text.split(" ", 1)[0]), text[text.index("(") + 1:comm_end]))
    return alive


def assert_nothing_left_on_disk(run: PausedRun, lab_files):
    work = run.tmp_path / "work"
    assert sorted(p.name for p in work.iterdir()) == sorted(lab_files), \
        f"work directory holds {sorted(p.name for p in work.iterdir())}, expected only the lab's files {lab_files}"
    assert list(run.tmpdir.iterdir()) == [], f"the run left temporary files: {list(run.tmpdir.iterdir())}"
    stray = [p for p in run.tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert stray == [], f"temporary files left: {stray}"
    assert live_processes_in_group(run.proc.pid) == [], \
        f"processes of the run still alive: {live_processes_in_group(run.proc.pid)}"


class ApiServerCut:
    """Cuts this host off the kind node's API server: an iptables rule in the node's own network
    namespace refuses (TCP reset) connections to port 6443 that come from the kind network's
    gateway, i.e. from this host through the loopback port kind publishes (127.0.0.1). The cluster
    itself runs on (kubelet, istiod and Pods reach the API server from inside), so restoring it is
    deleting the rule. Only the project's own node container is touched."""

    COMMENT = "lab-selftest-api-cut"

    def __init__(self, cluster):
        self.cluster = cluster
        self.node = cluster.info.get("node_container")
        if cluster.info["mode"] != "kind" or not self.node:
            pytest.skip("cutting the API server off needs the kind cluster's node container")
        inspect = subprocess.run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.Gateway}} {{end}}",
                                  self.node], capture_output=True, text=True, timeout=30)
        self.gateways = inspect.stdout.split()
        assert inspect.returncode == 0 and self.gateways, f"no gateway for {self.node}: {inspect.stderr}"
        # The port kind publishes on the loopback address must be the API server's 6443 in the node.
        port = subprocess.run(["docker", "port", self.node, "6443/tcp"], capture_output=True, text=True, timeout=30)
        server = cluster.run("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}").stdout
        published = [ln.strip() for ln in port.stdout.splitlines() if ln.strip()]
        assert any(server.endswith(p.rsplit(":", 1)[-1]) and p.startswith("127.0.0.1:") for p in published), \
            f"the kubeconfig's server {server} is not the node's 6443 published on 127.0.0.1 ({published})"
        self.server = server

    def _rule(self, gateway):
        return ["INPUT", "-s", gateway, "-p", "tcp", "--dport", "6443", "-m", "comment", "--comment",
                self.COMMENT, "-j", "REJECT", "--reject-with", "tcp-reset"]

    def _iptables(self, *args):
        return subprocess.run(["docker", "exec", self.node, "iptables", *args], capture_output=True, text=True,
                              timeout=30)

    def reachable(self):
        proc = self.cluster.run("get", "--raw", "/version", "--request-timeout=5s", check=False, timeout=30)
        return proc.returncode == 0, proc.stderr.strip()

    def cut(self):
        for gw in self.gateways:
            res = self._iptables("-I", *self._rule(gw)[:1], "1", *self._rule(gw)[1:])
            assert res.returncode == 0, f"iptables in {self.node}: {res.stderr}"
        ok, err = self.reachable()
        assert not ok, "the API server still answers this host after the cut"
        return err

    def restore(self):
        """Deletes every rule of ours (also one a crashed earlier run left) and waits until the API
        server answers this host again."""
        for gw in self.gateways:
            for _ in range(10):
                if self._iptables("-D", *self._rule(gw)).returncode != 0:
                    break
        listing = self._iptables("-S", "INPUT").stdout
        assert self.COMMENT not in listing, f"rule still there:\n{listing}"
        deadline = time.monotonic() + 60
        while not self.reachable()[0]:
            assert time.monotonic() < deadline, f"the API server does not answer again: {self.reachable()[1]}"
            time.sleep(1)


@pytest.fixture
def fault_namespace(cluster):
    """Names namespaces for a fault test's child runs. The test asserts they are gone; when an
    assertion fails first, this removes what is left, so a failing case leaves nothing either."""
    names = []

    def make(name):
        names.append(new_namespace(name))
        return names[-1]
    yield make
    for ns in names:
        if cluster.json("namespace", ns) is not None:
            cluster.run("delete", "namespace", ns, "--wait=false", check=False)


def finish_cut_off(run, cut, step):
    """The run paused before `step`: cut the API server off from this host, let the run go on to
    its end, then stop it if it is still going and restore the API server, whatever happened.
    Returns (exit code, report, output, what this host saw of the API server once cut)."""
    try:
        assert run.wait_paused() == step
        host_sees = cut.cut()
        run.resume()
        return (*run.finish(), host_sees)
    finally:
        run.kill()
        cut.restore()


def test_api_server_unreachable_from_step_6_fails_it_names_what_is_left_and_a_rerun_removes_it(cluster, tmp_path,
                                                                                              fault_namespace):
    cut = ApiServerCut(cluster)
    namespace = fault_namespace("apidown")
    run = PausedRun(cluster, tmp_path / "run1", namespace, "pause-before:6")
    code, report, output, host_sees = finish_cut_off(run, cut, 6)
    assert code == 1, output[-6000:]
    assert "Traceback (most recent call last)" not in output, output[-6000:]
    assert_steps(report, {1: "passed", 2: "passed", 3: "passed", 4: "passed", 5: "passed", 6: "failed",
                          7: "not run", 8: "not run", 9: "not run"}, output)
    server = cut.server
    why6 = reason(report, 6)
    assert why6.startswith(f"the Kubernetes API server {server} is unreachable (connection "), (why6, host_sees)
    assert "`kubectl get pod mywebserver -o json" in why6, why6
    assert "depends on step 6" in reason(report, 7)
    why9 = reason(report, 9)
    assert why9.startswith(f"not run: the Kubernetes API server {server} is unreachable (") and \
        "since step 6, Ready" in why9, why9
    # Cleanup says exactly what it could not remove, and that is what is there.
    assert report["left_behind"] == [{
        "what": f"namespace {namespace} (created by this run) with Pod mywebserver (applied at step 5) in it",
        "why": report["left_behind"][0]["why"],
        "remove_with": f"kubectl delete namespace {namespace}, or run the suite again with --lab-namespace {namespace}",
    }], report["left_behind"]
    assert report["left_behind"][0]["why"].startswith(f"the Kubernetes API server {server} is unreachable (")
    assert report["cleanup"] == [f"could not remove {report['left_behind'][0]['what']}: {report['left_behind'][0]['why']}"]
    assert f"cleanup: could not remove namespace {namespace}" in output
    assert cluster.json("pod", "mywebserver", "-n", namespace) is not None
    assert_nothing_left_on_disk(run, ["nginx-pod.yaml", "transformed.yaml"])

    # The API server is back: running the suite again in that namespace removes the Pod first,
    # passes, and removes the namespace it finds labelled as the suite's.
    code, report, _, output = run_suite(cluster, tmp_path / "run2", "apidown", namespace=namespace)
    assert code == 0, output[-6000:]
    assert report["cleanup"] == [f"deleted namespace {namespace} (left by an earlier run)"], report["cleanup"]
    assert report["left_behind"] == []
    assert_left_nothing(cluster, namespace, report)
    assert not (tmp_path / "run2" / "work" / "kubeconfig").exists()


def test_api_server_unreachable_from_step_3_fails_transform_and_its_remove_command_works(cluster, tmp_path,
                                                                                       fault_namespace):
    cut = ApiServerCut(cluster)
    namespace = fault_namespace("apidown3")
    run = PausedRun(cluster, tmp_path, namespace, "pause-before:3")
    code, report, output, _ = finish_cut_off(run, cut, 3)
    assert code == 1, output[-6000:]
    assert "Traceback (most recent call last)" not in output, output[-6000:]
    assert_steps(report, {1: "passed", 2: "passed", 3: "failed", 4: "not run", 5: "not run", 6: "not run",
                          7: "not run", 8: "not run", 9: "not run"}, output)
    why3 = reason(report, 3)
    # kubectl inject itself says it: its config comes from the cluster.
    assert why3.startswith(f"the Kubernetes API server {cut.server} is unreachable (") and \
        "`kubectl inject --filename ./nginx-pod.yaml > transformed.yaml` failed" in why3, why3
    assert "cannot reach the Kubernetes API server" in next(
        s for s in report["steps"] if s["number"] == 3)["details"]
    [left] = report["left_behind"]
    assert left["what"] == f"namespace {namespace} (created by this run)", left
    assert cluster.json("namespace", namespace) is not None
    assert cluster.json("pod", "mywebserver", "-n", namespace) is None
    # The lab's `> transformed.yaml` made the file; kubectl inject wrote nothing into it.
    assert_nothing_left_on_disk(run, ["nginx-pod.yaml", "transformed.yaml"])
    assert (tmp_path / "work" / "transformed.yaml").read_bytes() == b""
    # The command the report gives removes it.
    command = left["remove_with"].split(",")[0]
    assert command == f"kubectl delete namespace {namespace}", left
    cluster.run(*command.split()[1:], timeout=200)
    assert_left_nothing(cluster, namespace, report)


# (step, files the lab has written by then, whether the Pod exists at the interrupt, signal again
# and again while it stops, signal): Ctrl-C is SIGINT to the process group, as a terminal sends it;
# the last case is SIGTERM to the pytest process alone, as `kill PID` or a CI runner's timeout.
CTRL_C_AT = [
    (1, ["nginx-pod.yaml"], False, False, signal.SIGINT),
    (2, ["nginx-pod.yaml"], False, False, signal.SIGINT),
    (3, ["nginx-pod.yaml", "transformed.yaml"], False, False, signal.SIGINT),
    (4, ["nginx-pod.yaml", "transformed.yaml"], False, False, signal.SIGINT),
    (5, ["nginx-pod.yaml", "transformed.yaml"], True, True, signal.SIGINT),
    (6, ["nginx-pod.yaml", "transformed.yaml"], True, True, signal.SIGINT),
    (7, ["nginx-pod.yaml", "transformed.yaml"], True, False, signal.SIGINT),
    (8, ["nginx-pod.yaml", "transformed.yaml"], True, False, signal.SIGINT),
    (9, ["nginx-pod.yaml", "transformed.yaml"], False, True, signal.SIGINT),
    (2, ["nginx-pod.yaml"], False, False, signal.SIGTERM),
]
SIGNAL_NAME = {signal.SIGINT: "SIGINT (Ctrl-C)", signal.SIGTERM: "SIGTERM"}


@pytest.mark.parametrize("step,lab_files,pod_exists,impatient,signum", CTRL_C_AT,
                         ids=[f"step{c[0]}" + ("" if c[4] == signal.SIGINT else "-SIGTERM") for c in CTRL_C_AT])
def test_ctrl_c_at_each_step_stops_cleans_up_and_leaves_nothing(cluster, tmp_path, fault_namespace, step, lab_files,
                                                              pod_exists, impatient, signum):
    # The pause is inside the step, right after its first command (step 5: the Pod was just applied).
    namespace = fault_namespace(f"int{step}")
    run = PausedRun(cluster, tmp_path, namespace, f"pause-in:{step}")
    try:
        assert run.wait_paused() == step
        if pod_exists:
            assert cluster.json("pod", "mywebserver", "-n", namespace) is not None
        if signum == signal.SIGINT:
            run.signal(signum)
        else:
            run.proc.send_signal(signum)
        code, report, output = run.finish(repeat_signal=signum if impatient else None)
    finally:
        run.kill()
    name = SIGNAL_NAME[signum]
    assert code == int(pytest.ExitCode.INTERRUPTED), output[-6000:]
    assert "Traceback (most recent call last)" not in output, output[-6000:]
    expected = {n: "passed" if n < step else "interrupted" if n == step else "not run" for n in range(1, 10)}
    assert_steps(report, expected, output)
    assert report["interrupted"] and report["interrupted_by"] == name, report
    assert report["interrupted_at_step"] == step
    assert reason(report, step) == f"interrupted by {name} during this step"
    for later in range(step + 1, 10):
        assert re.fullmatch(rf"not run: the run was interrupted by {re.escape(name)} at step {step} \(\w+\)",
                            reason(report, later)), reason(report, later)
    assert report["left_behind"] == [], report
    assert report["cleanup"][-1] == f"deleted namespace {namespace}", report["cleanup"]
    assert ("deleted leftover Pod mywebserver" in report["cleanup"]) == pod_exists, report["cleanup"]
    assert f"interrupted by {name}" in output
    assert_left_nothing(cluster, namespace, report)
    assert_nothing_left_on_disk(run, lab_files)
