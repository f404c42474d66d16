"""Revision-based Istio on the hermetic cluster (issue 24): a second control plane `canary` (the
same images, installed with the istioctl built here) and the default revision tag pointing at it.

It changes the cluster, so it runs only when asked: LAB_REVISION_TESTS=1 and `-m cluster`
(.ci/run). The module's fixture records what it changes (the default tag's and the default
validator's webhook configurations and the tag's Service, the grader's shared RBAC), restores them, uninstalls
`canary`, and checks that istio-system and the webhook configurations are as they were. The
unrevisioned control plane is kept: without -r, kubectl inject must follow the tag to `canary`
(its output differs from the unrevisioned one's: `"revision":"canary"` in the status annotation,
istiod-canary's address), and removing and re-installing it would cost minutes and the lab's
cluster for the rest of the run. (The cluster without it is tested against a loopback API server,
test_revisions.py.)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from inject_testkit import NGINX_POD, kubectl_inject_command

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
NS = "istio-system"
TAG = "istio-revision-tag-default"
VALIDATOR = "istiod-default-validator"
TAG_SERVICE = "istiod-revision-tag-default"   # `istioctl tag set` re-labels it; uninstall deletes it then

if os.environ.get("LAB_REVISION_TESTS") != "1":
    pytest.skip("changes the cluster (installs a control plane): LAB_REVISION_TESTS=1 runs it", allow_module_level=True)


def _kubectl(kubectl, kubeconfig, *args, stdin=None, check=True):
    proc = subprocess.run([kubectl, "--kubeconfig", kubeconfig, *args], input=stdin, capture_output=True, text=True,
                          timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def _get(kubectl, kubeconfig, *args):
    proc = _kubectl(kubectl, kubeconfig, "get", *args, "-o", "json", check=False)
    if proc.returncode != 0:
        assert "NotFound" in proc.stderr, proc.stderr
        return None
    return json.loads(proc.stdout)


def _state(kubectl, kubeconfig) -> dict:
    """What the test may change: in istio-system the objects of a revision (names with `canary`
    or an istio.io/rev label: leader-election ConfigMaps and the like, shared by revisions, are
    not compared), every webhook configuration with its istio.io/rev label, the grader's shared
    RBAC."""
    state = {}
    for kind, namespaced in (("deployments", True), ("configmaps", True), ("services", True),
                             ("mutatingwebhookconfigurations", False), ("validatingwebhookconfigurations", False)):
        items = _get(kubectl, kubeconfig, kind, *(["-n", NS] if namespaced else []))["items"]
        state[kind] = sorted((i["metadata"]["name"], (i["metadata"].get("labels") or {}).get("istio.io/rev", ""))
                             for i in items if not namespaced or "canary" in i["metadata"]["name"]
                             or "istio.io/rev" in (i["metadata"].get("labels") or {}))
    role = _get(kubectl, kubeconfig, "role", "lab-grader", "-n", NS)
    clusterrole = _get(kubectl, kubeconfig, "clusterrole", "lab-grader-nodes")
    state["grader-rbac"] = (role and role["rules"], clusterrole and clusterrole["rules"])
    return state


def _clean(obj: dict) -> dict:
    meta = obj["metadata"]
    for key in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
        meta.pop(key, None)
    obj.pop("status", None)
    for key in ("clusterIP", "clusterIPs"):   # a Service's: allocated again
        (obj.get("spec") or {}).pop(key, None)
    return obj


def _istioctl() -> str:
    out = subprocess.run(["make", "-s", "istioctl-path"], capture_output=True, text=True, cwd=REPO, timeout=1800)
    path = out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else ""
    if not path or not os.path.exists(path):
        pytest.skip("the built istioctl is not available (make istio-images)")
    return path


@pytest.fixture(scope="module")
def canary():
    """`canary` installed beside the unrevisioned control plane, the default tag -> canary; then
    everything restored and checked."""
    kubectl = str(REPO / ".venv" / "bin" / "kubectl")
    out = subprocess.run(["make", "-s", "cluster-kubeconfig"], capture_output=True, text=True, cwd=REPO, timeout=120)
    kc = out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else ""
    if not kc or not os.path.exists(kc) or subprocess.run(
            [kubectl, "--kubeconfig", kc, "version", "--request-timeout=5s"], capture_output=True).returncode != 0:
        pytest.skip("no reachable lab cluster (run `make cluster-up`)")
    if _get(kubectl, kc, "configmap", "istio-sidecar-injector", "-n", NS) is None:
        pytest.skip("Istio is not installed in the lab cluster (run `make cluster-up`)")
    if _get(kubectl, kc, "deployment", "istiod-canary", "-n", NS) is not None:
        pytest.fail("istiod-canary exists already: an earlier run did not restore the cluster")
    istioctl = _istioctl()
    before = _state(kubectl, kc)
    saved = {name: _get(kubectl, kc, kind, name) for kind, name in
             (("mutatingwebhookconfiguration", TAG), ("validatingwebhookconfiguration", VALIDATOR))}
    saved_service = _get(kubectl, kc, "service", TAG_SERVICE, "-n", NS)
    saved_role = _get(kubectl, kc, "role", "lab-grader", "-n", NS)
    saved_clusterrole = _get(kubectl, kc, "clusterrole", "lab-grader-nodes")
    values = json.loads(_get(kubectl, kc, "configmap", "istio-sidecar-injector", "-n", NS)["data"]["values"])
    hub, tag = values["global"]["hub"], values["global"]["tag"]
    # The settings of lab_checks/hermetic/istio/istio-up.sh (same images, same small requests).
    settings = ["--set", "profile=minimal", "--set", f"hub={hub}", "--set", f"tag={tag}",
                "--set", "values.pilot.resources.requests.cpu=100m", "--set", "values.pilot.resources.requests.memory=256Mi",
                "--set", "values.pilot.env.ENABLE_NATIVE_SIDECARS=false", "--set", "values.telemetry.enabled=false",
                "--set", "values.pilot.env.PILOT_ENABLE_METADATA_EXCHANGE=false",
                "--set", "values.pilot.env.PILOT_ENABLE_ALPN_FILTER=false"]
    run = lambda *args: subprocess.run([istioctl, "--kubeconfig", kc, *args], capture_output=True, text=True,  # noqa: E731
                                       timeout=900)
    try:
        done = run("install", "--revision", "canary", *settings, "-y")
        assert done.returncode == 0, done.stderr[-3000:]
        done = run("tag", "set", "default", "--revision", "canary", "--overwrite", "-y")
        assert done.returncode == 0, done.stderr[-3000:]
        _kubectl(kubectl, kc, "-n", NS, "rollout", "status", "deployment/istiod-canary", "--timeout=300s")
        yield {"kubeconfig": kc, "istioctl": istioctl}
    finally:
        for kind, name in (("mutatingwebhookconfiguration", TAG), ("validatingwebhookconfiguration", VALIDATOR)):
            _kubectl(kubectl, kc, "delete", kind, name, "--ignore-not-found", check=False)
            if saved[name] is not None:
                _kubectl(kubectl, kc, "create", "-f", "-", stdin=json.dumps(_clean(saved[name])), check=False)
        gone = run("uninstall", "--revision", "canary", "-y")
        _kubectl(kubectl, kc, "delete", "service", TAG_SERVICE, "-n", NS, "--ignore-not-found", check=False)
        if saved_service is not None:
            _kubectl(kubectl, kc, "create", "-f", "-", stdin=json.dumps(_clean(saved_service)), check=False)
        for kind, obj, name in (("role", saved_role, "lab-grader"), ("clusterrole", saved_clusterrole, "lab-grader-nodes")):
            if obj is None:
                _kubectl(kubectl, kc, "delete", kind, name, *(["-n", NS] if kind == "role" else []), "--ignore-not-found",
                         check=False)
            else:
                _kubectl(kubectl, kc, "replace", "-f", "-", stdin=json.dumps(_clean(obj)), check=False)
        deadline = time.monotonic() + 180
        while _get(kubectl, kc, "deployment", "istiod-canary", "-n", NS) is not None and time.monotonic() < deadline:
            time.sleep(2)
        after = _state(kubectl, kc)
        assert gone.returncode == 0, gone.stderr[-3000:]
        assert after == before, "the cluster was not restored"
        service = _get(kubectl, kc, "service", TAG_SERVICE, "-n", NS)
        assert (service and service["spec"]["selector"]) == (saved_service and saved_service["spec"]["selector"])
        for name in (TAG, VALIDATOR):
            now = _get(kubectl, kc, "mutatingwebhookconfiguration" if name == TAG else "validatingwebhookconfiguration",
                       name)
            assert (now is None) == (saved[name] is None)
            if now is not None:
                assert now["metadata"].get("labels") == saved[name]["metadata"].get("labels")


def _inject(kubeconfig, *args, env=None):
    return subprocess.run(kubectl_inject_command() + ["--kubeconfig", kubeconfig, "-f", "-", *args], input=NGINX_POD,
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("flags", [(), ("-r", "canary"), ("-r", "default")], ids=["no-r", "r-canary", "r-default"])
def test_kubectl_inject_equals_istioctl_with_the_default_tag_on_canary(canary, flags):
    ours = _inject(canary["kubeconfig"], *flags)
    theirs = subprocess.run([canary["istioctl"], "kube-inject", "--kubeconfig", canary["kubeconfig"], "-f", "-", *flags],
                            input=NGINX_POD, capture_output=True, text=True, timeout=120)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout
    revision = "default" if flags[1:] == ("default",) else "canary"
    pod = next(d for d in yaml.safe_load_all(ours.stdout) if d)
    assert json.loads(pod["metadata"]["annotations"]["sidecar.istio.io/status"])["revision"] == revision


def test_a_right_student_on_canary_gets_full_marks_through_the_grader_rbac(canary, tmp_path):
    sys.path.insert(0, str(REPO / "lab_checks" / "grading" / "tests"))
    try:
        from classroom import Classroom, lab_grade
    finally:
        sys.path.pop(0)
    room = Classroom(Path(canary["kubeconfig"]), tmp_path, prefix="grade-rev")
    try:
        student = room.add("complete", "canary-student")
        rbac = lab_grade("rbac", "--namespace", student.namespace, "--revision", "canary")
        assert rbac.returncode == 0, rbac.stderr
        room.kubectl("apply", "-f", "-", stdin=rbac.stdout)
        room.start(student)
        room.settle(student)
        graded = lab_grade("--kubeconfig", str(student.kubeconfig), "--json", str(tmp_path / "g.json"))
        assert graded.returncode == 0, graded.stderr
        [result] = json.loads((tmp_path / "g.json").read_text())["students"]
        checks = {c["id"]: c for c in result["checks"]}
        assert sum(c["points"] for c in checks.values()) == 10, checks
        assert checks["istio"]["note"] == "control plane revision canary, from the Pod's annotation istio.io/rev=canary"
    finally:
        room.cleanup()
        assert room.leftovers() == []
