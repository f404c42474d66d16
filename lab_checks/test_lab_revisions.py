"""Revision-based Istio on the hermetic cluster (issue 24): kubectl inject, `make verify-lab` and
lab-grade when Istio runs by revision, as Istio's canary upgrades leave a cluster.

Two phases, each a fixture that does one thing and undoes it:
  canary_is_default   a second control plane `canary` (the same images and settings, installed by
                      istio-up.sh with ISTIO_REVISION=canary) and the default revision tag pointing
                      at it (`istioctl tag set default --revision canary`); the unrevisioned control
                      plane is kept. Without -r, kubectl inject must follow the tag to canary, as
                      the istioctl built here does (the unrevisioned config is there to be wrongly used).
  unrevisioned_gone   then the unrevisioned control plane uninstalled (`istioctl uninstall --revision
                      default`): the cluster of the issue. kubectl inject equals istioctl again, `make
                      verify-lab LAB_ARGS='--kubeconfig K'` passes, and a student who did the lab
                      right gets 10/10 through the grader's RBAC (`lab-grade rbac --revision canary`).
Restoring: the unrevisioned control plane installed again (istio-up.sh, which also points the
default tag back at it), canary uninstalled, the grader's shared RBAC put back; then the test checks
that istio-system's control planes, the webhook configurations, the injector's configuration and
the grader's RBAC are as before, and that istiod serves new namespaces again (the next tests need it).

Run: make verify-lab-revisions (.ci/run). It needs the kind cluster: the istioctl and the images
built here install `canary`.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

from lab_checks.cluster_kit import Cluster, wait_until_istiod_serves_new_namespaces
from lab_checks.labkit import kubectl_binary
from lab_checks.where import CHECKOUT, HERMETIC, SCRIPTS_DIR

pytestmark = pytest.mark.lab_revisions

NS = "istio-system"
REVISION = "canary"
TAG = "istio-revision-tag-default"
ISTIO_UP = HERMETIC / "istio" / "istio-up.sh" if HERMETIC else None
GRADER_RBAC = (("role", "lab-grader", NS), ("clusterrole", "lab-grader-nodes", None))
NGINX_POD = ("apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    run: mywebserver\n  name: mywebserver\n"
             "spec:\n  containers:\n  - image: nginx\n    name: mywebserver\n")
FLAGS = [(), ("-r", REVISION), ("-r", "default")]
FLAG_IDS = ["no-r", "r-canary", "r-default"]


# --------------------------------------------------------------------------------------------
# What the fixtures do to the cluster, and how they check it was undone
# --------------------------------------------------------------------------------------------

def istio_up(cluster: Cluster, revision: str = "") -> None:
    """`make istio-up` of that revision ("" the unrevisioned control plane), as the lab installs it."""
    env = dict(os.environ, LAB_CLUSTER=cluster.info["name"], ISTIO_REVISION=revision)
    done = subprocess.run([str(ISTIO_UP), "up"], capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, f"istio-up.sh (revision {revision or 'default'}):\n{done.stderr[-3000:]}"


def istioctl(cluster: Cluster, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([cluster.istioctl, "--kubeconfig", cluster.info["kubeconfig"], *args],
                          capture_output=True, text=True, timeout=900)


def wait_gone(cluster: Cluster, *what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while cluster.json(*what) is not None:
        assert time.monotonic() < deadline, f"{' '.join(what)} still there after {timeout:.0f}s"
        time.sleep(2)


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def state(cluster: Cluster) -> dict:
    """What the module may change: istio-system's Deployments and Services, the injector's and the
    mesh's ConfigMaps with their data, every webhook configuration with its revision and tag, the
    default tag's Service selector, the grader's shared RBAC. (Leader-election ConfigMaps and the
    like, shared by revisions and rewritten as istiod runs, are not compared.)"""
    def names(kind, namespaced=True):
        items = cluster.json(kind, *(["-n", NS] if namespaced else []))["items"]
        return sorted((i["metadata"]["name"], (i["metadata"].get("labels") or {}).get("istio.io/rev", ""),
                       (i["metadata"].get("labels") or {}).get("istio.io/tag", "")) for i in items)
    configmaps = {i["metadata"]["name"]: digest(i.get("data")) for i in cluster.json("configmaps", "-n", NS)["items"]
                  if i["metadata"]["name"].startswith(("istio-sidecar-injector", "values"))
                  or i["metadata"]["name"] in ("istio", f"istio-{REVISION}")}
    tag_service = cluster.json("service", "istiod-revision-tag-default", "-n", NS)
    return {"deployments": names("deployments"), "services": names("services"), "configmaps": configmaps,
            "mutating": names("mutatingwebhookconfigurations", False),
            "validating": names("validatingwebhookconfigurations", False),
            "tag-service": tag_service and tag_service["spec"].get("selector"),
            "grader-rbac": {name: (obj and obj.get("rules")) for name, obj in grader_rbac(cluster).items()}}


def grader_rbac(cluster: Cluster) -> dict:
    return {name: cluster.json(kind, name, *(["-n", ns] if ns else [])) for kind, name, ns in GRADER_RBAC}


def restore_grader_rbac(cluster: Cluster, saved: dict) -> None:
    for kind, name, ns in GRADER_RBAC:
        where = ["-n", ns] if ns else []
        if saved[name] is None:
            cluster.run("delete", kind, name, *where, "--ignore-not-found", check=False)
            continue
        obj = {k: v for k, v in saved[name].items() if k != "status"}
        obj["metadata"] = {k: v for k, v in obj["metadata"].items()
                           if k not in ("resourceVersion", "uid", "creationTimestamp", "managedFields")}
        subprocess.run(cluster.base + ["apply", "-f", "-"], input=json.dumps(obj), capture_output=True, text=True,
                       timeout=120)


# --------------------------------------------------------------------------------------------
# Fixtures: each phase written once, undone in its finally
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster(lab_cluster) -> Cluster:
    if lab_cluster["mode"] != "kind" or not CHECKOUT:
        pytest.skip("installs a control plane with the istioctl and images built here: needs the kind "
                    "cluster of a checkout (make cluster-up)")
    c = Cluster(lab_cluster)
    if c.json("deployment", "istiod", "-n", NS) is None:
        pytest.fail("Istio is not installed on the cluster (make istio-up)")
    if c.json("deployment", f"istiod-{REVISION}", "-n", NS) is not None:
        pytest.fail(f"istiod-{REVISION} exists already: an earlier run did not restore the cluster")
    path = subprocess.run([str(ISTIO_UP), "istioctl-path"], capture_output=True, text=True, timeout=1800)
    c.istioctl = path.stdout.strip().splitlines()[-1] if path.stdout.strip() else ""
    assert c.istioctl and os.access(c.istioctl, os.X_OK), f"no istioctl built here: {path.stderr[-2000:]}"
    return c


@pytest.fixture(scope="module")
def canary_is_default(cluster):
    before = state(cluster)
    saved_rbac = grader_rbac(cluster)
    try:
        istio_up(cluster, REVISION)
        tagged = istioctl(cluster, "tag", "set", "default", "--revision", REVISION, "--overwrite", "-y")
        assert tagged.returncode == 0, tagged.stderr[-3000:]
        tag = cluster.json("mutatingwebhookconfiguration", TAG)
        assert tag["metadata"]["labels"]["istio.io/rev"] == REVISION
        yield cluster
    finally:
        # The unrevisioned control plane (re-)installed points the default tag back at itself.
        if cluster.json("deployment", "istiod", "-n", NS) is None or \
                (cluster.json("mutatingwebhookconfiguration", TAG) or {}).get("metadata", {}).get(
                    "labels", {}).get("istio.io/rev") != "default":
            istio_up(cluster)
        gone = istioctl(cluster, "uninstall", "--revision", REVISION, "-y")
        wait_gone(cluster, "deployment", f"istiod-{REVISION}", "-n", NS)
        restore_grader_rbac(cluster, saved_rbac)
        wait_until_istiod_serves_new_namespaces(cluster)
        assert gone.returncode == 0, gone.stderr[-3000:]
        after = state(cluster)
        assert after == before, "the cluster was not restored: " + json.dumps(
            {k: (before[k], after[k]) for k in before if before[k] != after[k]}, indent=1)[:4000]


@pytest.fixture(scope="module")
def unrevisioned_gone(canary_is_default):
    cluster = canary_is_default
    try:
        gone = istioctl(cluster, "uninstall", "--revision", "default", "-y")
        assert gone.returncode == 0, gone.stderr[-3000:]
        wait_gone(cluster, "deployment", "istiod", "-n", NS)
        assert cluster.json("configmap", "istio-sidecar-injector", "-n", NS) is None
        yield cluster
    finally:
        istio_up(cluster)


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------

def kubectl_inject(cluster: Cluster, *flags: str) -> subprocess.CompletedProcess:
    """`kubectl inject -f -` through the real kubectl's plugin mechanism, as the lab runs it."""
    env = dict(os.environ, PATH=f"{SCRIPTS_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
    # (kubectl takes no flags before a plugin's name: --kubeconfig goes to the plugin)
    return subprocess.run([kubectl_binary(), "inject", "--kubeconfig", cluster.info["kubeconfig"], "-f", "-", *flags],
                          input=NGINX_POD, capture_output=True, text=True, timeout=120, env=env)


def istioctl_kube_inject(cluster: Cluster, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([cluster.istioctl, "kube-inject", "--kubeconfig", cluster.info["kubeconfig"], "-f", "-",
                           *flags], input=NGINX_POD, capture_output=True, text=True, timeout=120)


def injected_revision(output: str) -> str:
    pod = next(d for d in yaml.safe_load_all(output) if d)
    return json.loads(pod["metadata"]["annotations"]["sidecar.istio.io/status"])["revision"]


@pytest.mark.parametrize("flags", FLAGS, ids=FLAG_IDS)
def test_kubectl_inject_follows_the_default_tag_as_istioctl(canary_is_default, flags):
    ours, theirs = kubectl_inject(canary_is_default, *flags), istioctl_kube_inject(canary_is_default, *flags)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout
    assert injected_revision(ours.stdout) == ("default" if flags == ("-r", "default") else REVISION)


@pytest.mark.parametrize("flags", FLAGS, ids=FLAG_IDS)
def test_without_the_unrevisioned_control_plane_kubectl_inject_equals_istioctl(unrevisioned_gone, flags):
    ours, theirs = kubectl_inject(unrevisioned_gone, *flags), istioctl_kube_inject(unrevisioned_gone, *flags)
    if flags == ("-r", "default"):   # nothing to read: both refuse, ours in one line naming the ConfigMap
        assert theirs.returncode != 0 and ours.returncode == 1, (theirs.stderr, ours.stderr)
        assert ours.stdout == "" and ours.stderr.count("\n") == 1, ours.stderr
        assert ours.stderr.startswith("Error: Istio is not installed for this request: ConfigMap "
                                      "'istio-sidecar-injector' not found in namespace 'istio-system'"), ours.stderr
        return
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout
    assert injected_revision(ours.stdout) == REVISION


def test_make_verify_lab_passes_on_the_revisioned_cluster(unrevisioned_gone, tmp_path):
    cluster = unrevisioned_gone
    namespace = f"lab-rev-{uuid.uuid4().hex[:5]}"
    args = f"--kubeconfig {cluster.info['kubeconfig']} --lab-namespace {namespace} --lab-workdir {tmp_path / 'work'}"
    done = subprocess.run(["make", "-s", "verify-lab", f"LAB_REPORT_DIR={tmp_path}", f"LAB_ARGS={args}"],
                          cwd=CHECKOUT, capture_output=True, text=True, timeout=1200)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    report = json.loads((tmp_path / "lab-report.json").read_text())
    assert {s["outcome"] for s in report["steps"]} == {"passed"}, output[-6000:]
    assert report["cluster"]["istio_revision"].startswith(f"{REVISION} (no -r/--revision; the default revision tag")
    assert report["cluster"]["istiod_image"] == cluster.json("deployment", f"istiod-{REVISION}", "-n", NS)[
        "spec"]["template"]["spec"]["containers"][0]["image"]
    assert f"Istio revision {REVISION}" in output
    wait_gone(cluster, "namespace", namespace)


def test_a_right_student_gets_full_marks_through_the_grader_rbac(unrevisioned_gone, tmp_path):
    sys.path.insert(0, str(CHECKOUT / "lab_checks" / "grading" / "tests"))
    try:
        from classroom import Classroom, lab_grade
    finally:
        sys.path.pop(0)
    room = Classroom(Path(unrevisioned_gone.info["kubeconfig"]), tmp_path, prefix="grade-rev")
    try:
        student = room.add("complete", "canary-student")
        rbac = lab_grade("rbac", "--namespace", student.namespace, "--revision", REVISION)
        assert rbac.returncode == 0, rbac.stderr
        room.kubectl("apply", "-f", "-", stdin=rbac.stdout)
        room.start(student)
        room.settle(student)
        graded = lab_grade("--kubeconfig", str(student.kubeconfig), "--json", str(tmp_path / "g.json"))
        assert graded.returncode == 0, graded.stderr
        [result] = json.loads((tmp_path / "g.json").read_text())["students"]
        checks = {c["id"]: c for c in result["checks"]}
        assert sum(c["points"] for c in checks.values()) == 10, checks
        assert checks["istio"]["note"] == f"control plane revision {REVISION}, from the Pod's annotation istio.io/rev={REVISION}"
    finally:
        room.cleanup()
        assert room.leftovers() == []
