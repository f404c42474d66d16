"""The grader on revision-based Istio installs (issue 24), without a cluster: a loopback API server
(hostile.FakeApi) serving a control plane `canary`, the default revision tag and a student's Pod
injected by `kubectl inject -r canary`; and `lab-grade rbac --revision`.

Which control plane a student is graded against: the Pod's istio.io/rev label, else the revision
the default tag (MutatingWebhookConfiguration istio-revision-tag-default) points at, else the
unrevisioned one.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from classroom import lab_grade
from hostile import NOT_FOUND, FakeApi, kubeconfig

from lab_checks.grading.cluster_reads import control_plane

BUILTIN = Path(__file__).resolve().parents[3] / "plugin" / "kubectl_inject" / "builtin" / "1.30.4"
HUB = "localhost:5001/istio"
NGINX = ("apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    run: mywebserver\n  name: mywebserver\n"
         "spec:\n  containers:\n  - image: nginx\n    name: mywebserver\n")
TAG_PATH = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-revision-tag-default"
KC = "student.kubeconfig"


def _texts(revision: str) -> dict:
    """The built-in 1.30.4 config as a cluster holds it (values as JSON), hub and revision set."""
    values = yaml.safe_load((BUILTIN / "values.yaml").read_text())
    values["global"]["hub"], values["revision"] = HUB, revision
    values = json.dumps(values)
    return {"config": (BUILTIN / "template.yaml").read_text(), "values": values,
            "mesh": (BUILTIN / "mesh.yaml").read_text()}


def control_plane_objects(revision: str) -> dict:
    suffix = f"-{revision}" if revision else ""
    texts = _texts(revision)
    return {
        f"/api/v1/namespaces/istio-system/configmaps/istio-sidecar-injector{suffix}":
            {"kind": "ConfigMap", "data": {"config": texts["config"], "values": texts["values"]}},
        f"/api/v1/namespaces/istio-system/configmaps/istio{suffix}": {"kind": "ConfigMap", "data": {"mesh": texts["mesh"]}},
        f"/apis/apps/v1/namespaces/istio-system/deployments/istiod{suffix}":
            {"kind": "Deployment", "spec": {"replicas": 1}, "status": {"readyReplicas": 1}},
    }


def default_tag(revision: str) -> dict:
    return {TAG_PATH: {"kind": "MutatingWebhookConfiguration", "metadata": {
        "name": "istio-revision-tag-default", "labels": {"istio.io/tag": "default", "istio.io/rev": revision}}}}


def injected_pod(tmp_path: Path, revision: str) -> dict:
    """The lab's Pod as `kubectl inject -r REV` makes it from that control plane's config, applied
    (last-applied-configuration) and Running 2/2."""
    files = []
    for name, text in _texts(revision).items():
        (tmp_path / name).write_text(text)
        files.append(str(tmp_path / name))
    env = dict(os.environ, ENABLE_NATIVE_SIDECARS="false", HOME="/nonexistent")
    env.pop("KUBECONFIG", None)
    out = subprocess.run([sys.executable, "-m", "kubectl_inject", "-f", "-", "--injectConfigFile", files[0],
                          "--valuesFile", files[1], "--meshConfigFile", files[2],
                          *(["-r", revision] if revision else [])],
                         input=NGINX, capture_output=True, text=True, timeout=120, env=env, check=True).stdout
    applied = next(d for d in yaml.safe_load_all(out) if d)
    pod = json.loads(json.dumps(applied))
    pod["metadata"]["namespace"] = "default"
    pod["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = \
        json.dumps(applied)
    pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                     "containerStatuses": [{"name": c["name"], "ready": True, "state": {"running": {}}}
                                           for c in pod["spec"]["containers"]]}
    return pod


def grade(tmp_path: Path, objects: dict, forbidden=(), checkpoint="applied") -> tuple[dict, list]:
    def answer(path, headers):
        if path in forbidden:
            return 403, {"kind": "Status", "code": 403, "reason": "Forbidden"}
        if path in objects:
            return 200, objects[path]
        if path.endswith("/events"):
            return 200, {"kind": "EventList", "items": []}
        return NOT_FOUND

    with FakeApi(answer) as api:
        kubeconfig(tmp_path / KC, api.url)
        proc = lab_grade("--kubeconfig", str(tmp_path / KC), "--checkpoint", checkpoint,
                         "--json", str(tmp_path / "g.json"), timeout=120)
        asked = [path.split("?")[0] for path, _ in api.requests]
    assert proc.returncode == 0, proc.stderr
    [student] = json.loads((tmp_path / "g.json").read_text())["students"]
    return {c["id"]: c for c in student["checks"]}, asked


POD_PATH = "/api/v1/namespaces/default/pods/mywebserver"


def test_the_pods_revision_label_chooses_the_control_plane(tmp_path):
    """The issue's cluster: canary only, default tag -> canary; the student did the lab right."""
    pod = injected_pod(tmp_path, "canary")
    assert pod["metadata"]["annotations"]["istio.io/rev"] == "canary"
    checks, asked = grade(tmp_path, {**control_plane_objects("canary"), **default_tag("canary"), POD_PATH: pod})
    assert (checks["istio"]["points"], checks["istio"]["reason"]) == (1, "")
    assert checks["istio"]["note"] == "control plane revision canary, from the Pod's annotation istio.io/rev=canary"
    assert (checks["sidecar"]["points"], checks["sidecar"]["reason"]) == (3, "")
    assert (checks["by-hand"]["points"], checks["pod"]["points"]) == (2, 2)
    assert TAG_PATH not in asked   # the Pod said which one
    assert "/api/v1/namespaces/istio-system/configmaps/istio-sidecar-injector" not in asked


def test_an_unrevisioned_student_is_graded_as_before(tmp_path):
    pod = injected_pod(tmp_path, "")
    assert pod["metadata"]["annotations"]["istio.io/rev"] == "default"
    checks, asked = grade(tmp_path, {**control_plane_objects(""), POD_PATH: pod})
    assert (checks["istio"]["points"], checks["istio"]["note"]) == (1, "")
    assert checks["sidecar"]["points"] == 3


def test_without_a_pod_the_default_tag_decides(tmp_path):
    checks, asked = grade(tmp_path, {**control_plane_objects("canary"), **default_tag("canary")}, checkpoint="finished")
    assert checks["istio"]["points"] == 1, checks["istio"]
    assert checks["istio"]["note"] == "control plane revision canary, from the default revision tag (istio.io/rev=canary)"
    assert TAG_PATH in asked


def test_a_tag_the_rbac_refuses_means_the_unrevisioned_control_plane(tmp_path):
    checks, _ = grade(tmp_path, {**control_plane_objects("canary"), **default_tag("canary")},
                      forbidden={TAG_PATH}, checkpoint="finished")
    assert checks["istio"]["reason"] == ("Istio is not installed: no ConfigMap istio-sidecar-injector and no istio "
                                         "in istio-system")


def test_a_revision_the_rbac_does_not_name_says_which_command_grants_it(tmp_path):
    pod = injected_pod(tmp_path, "canary")
    objects = {**control_plane_objects("canary"), POD_PATH: pod}
    checks, _ = grade(tmp_path, objects,
                      forbidden={"/api/v1/namespaces/istio-system/configmaps/istio-sidecar-injector-canary"})
    assert checks["istio"]["reason"] == (
        "the grader may not read ConfigMap istio-system/istio-sidecar-injector-canary (403 Forbidden): apply the "
        "grading RBAC (lab-grade rbac --revision canary)")
    assert checks["sidecar"]["reason"] == "not checked: Istio's injector configuration is missing or unreadable"


def test_a_missing_revision_names_it_and_why(tmp_path):
    pod = injected_pod(tmp_path, "canary")
    checks, _ = grade(tmp_path, {**control_plane_objects(""), POD_PATH: pod})
    assert checks["istio"]["reason"] == (
        "Istio is not installed: no ConfigMap istio-sidecar-injector-canary and no istio-canary in istio-system "
        "(revision canary, from the Pod's annotation istio.io/rev=canary)")


def test_injector_values_that_are_not_json_make_a_reason_not_a_crash(tmp_path):
    """The injector ConfigMap of the Pod's revision holds values that are not JSON (hand-edited):
    the sidecar check says so in one line, the grade of everything else stands."""
    pod = injected_pod(tmp_path, "canary")
    objects = {**control_plane_objects("canary"), POD_PATH: pod}
    path = "/api/v1/namespaces/istio-system/configmaps/istio-sidecar-injector-canary"
    objects[path] = {"kind": "ConfigMap", "metadata": {"name": "istio-sidecar-injector-canary"},
                     "data": {**objects[path]["data"], "values": "{not: json"}}
    checks, _ = grade(tmp_path, objects)
    assert checks["sidecar"]["points"] == 0
    assert checks["sidecar"]["reason"].startswith(
        "not checked: ConfigMap istio-sidecar-injector-canary key 'values' is not readable: Expecting property name")
    assert "\n" not in checks["sidecar"]["reason"]
    assert (checks["istio"]["points"], checks["pod"]["points"], checks["by-hand"]["points"]) == (1, 2, 2)


class _Conn:
    def __init__(self, tag=None, refused=False):
        self.tag, self.refused, self.asked = tag, refused, []

    def get(self, path, what, query=None):
        self.asked.append(path)
        if self.refused:
            raise PermissionError("403")
        return self.tag


@pytest.mark.parametrize("label, expected", [
    ("canary", "canary"), ("default", ""), ("1-30-4", "1-30-4"),
    ("../secrets", ""), ("Canary", ""), ("a" * 64, ""), (7, ""), ("", "")])
def test_only_a_revision_name_reaches_a_path(label, expected):
    """A label that is no revision name (an odd or hostile answer) is not put into a URL."""
    for kind in ("annotations", "labels"):
        revision, _ = control_plane(_Conn(), {"metadata": {kind: {"istio.io/rev": label}}})
        assert revision == expected
    revision, _ = control_plane(_Conn(tag={"metadata": {"labels": {"istio.io/rev": label}}}), None)
    assert revision == expected


def test_odd_shapes_are_no_revision():
    for pod in (None, {}, {"metadata": None}, {"metadata": {"labels": ["x"]}}, [1]):
        assert control_plane(_Conn(tag={"metadata": "x"}), pod)[0] == ""
    assert control_plane(_Conn(refused=True), None) == (
        "", "no revision on the Pod; the default revision tag not readable (lab-grade rbac --revision grants it)")


# --- lab-grade rbac --revision ------------------------------------------------------------------------

def _rbac(*args):
    proc = lab_grade("rbac", *args, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, [d for d in yaml.safe_load_all(proc.stdout) if d]


def test_rbac_with_revisions_names_each_ones_objects_and_reads_the_default_tag():
    text, docs = _rbac("--namespace", "bob", "--revision", "canary", "--revision", "default", "--revision", "canary")
    assert text.startswith("# lab-grade RBAC for namespace bob (Istio in istio-system; the unrevisioned control "
                           "plane, revision canary, the default revision tag)")
    [istio_role] = [d for d in docs if d["kind"] == "Role" and d["metadata"]["namespace"] == "istio-system"]
    assert istio_role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"],
         "resourceNames": ["istio-sidecar-injector", "istio", "istio-sidecar-injector-canary", "istio-canary"],
         "verbs": ["get", "watch"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["istiod", "istiod-canary"],
         "verbs": ["get", "watch"]}]
    [cluster_role] = [d for d in docs if d["kind"] == "ClusterRole"]
    assert cluster_role["rules"] == [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]},
        {"apiGroups": ["admissionregistration.k8s.io"], "resources": ["mutatingwebhookconfigurations"],
         "resourceNames": ["istio-revision-tag-default"], "verbs": ["get"]}]
    for doc in docs:   # still read-only but for exec into the lab Pod
        for rule in doc.get("rules", []):
            if set(rule["verbs"]) - {"get", "list", "watch"}:
                assert rule["resources"] == ["pods/exec"] and rule["resourceNames"] == ["mywebserver"]


def test_rbac_without_revision_is_the_shipped_file():
    text, _ = _rbac()
    assert text == (Path(__file__).resolve().parents[1] / "rbac.yaml").read_text()


@pytest.mark.parametrize("bad", ["Canary", "a/b", "-x", "", "x" * 64])
def test_rbac_refuses_what_is_no_revision_name(bad):
    proc = lab_grade("rbac", f"--revision={bad}", timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"lab-grade: --revision {bad!r} is not a revision name (lowercase letters, digits and '-')\n"
