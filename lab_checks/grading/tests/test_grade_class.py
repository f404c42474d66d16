"""lab-grade on a simulated class in the hermetic cluster: seven students, each graded through
its own least-privilege ServiceAccount kubeconfig, with exact points and reasons at both
checkpoints; the grader's kubeconfig cannot write; reports hold no credentials.

The class (classroom.py) is built once for the module and its namespaces removed at the end; the
cluster is brought up with `make cluster-up` when needed and left up.
"""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
import yaml

from classroom import MISSING_TAG_SUFFIX, STATES, Classroom, cluster_kubeconfig, lab_grade

pytestmark = pytest.mark.cluster

CHECK_POINTS = {"applied": {"istio": 1, "pod": 2, "sidecar": 3, "by-hand": 2, "processes": 2},
                "finished": {"istio": 1, "ran": 2, "deleted": 2}}


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    room = Classroom(cluster_kubeconfig(), tmp_path_factory.mktemp("class"))
    try:
        students = [room.add(state) for state in STATES]
        for s in students:       # everyone works at once, as in class
            room.start(s)
        for s in students:
            room.settle(s)
        room.unreachable()
        yield room
    finally:
        room.cleanup()
        assert room.leftovers() == [], "the test left namespaces or bindings behind"


@pytest.fixture(scope="module")
def proxy_image(classroom):
    cm = classroom.get_json("configmap", "istio-sidecar-injector", "-n", "istio-system")
    g = json.loads(cm["data"]["values"])["global"]
    return f"{g['hub']}/{g['proxy']['image']}:{g['tag']}"


def expected(room: Classroom, checkpoint: str, good_image: str) -> dict:
    """student -> check -> (points, reason): what a grader that agrees with the lab must say."""
    ns = {s.name: s.namespace for s in room.students}
    bad_image = good_image + MISSING_TAG_SUFFIX
    no_pod = "not checked: no Pod mywebserver"
    still = "Pod mywebserver still exists ({}): delete it with kubectl delete -f transformed.yaml"
    unreachable = f"cluster unreachable at {room.students[-1].server}: connection refused"
    if checkpoint == "applied":
        table = {
            "complete": {},
            "plain": {
                "pod": "Pod mywebserver is Running with 1/1 containers ready, not Running 2/2: it has no istio-proxy sidecar",
                "sidecar": "Pod containers are ['mywebserver'], not [mywebserver, istio-proxy]: no sidecar was injected: "
                           "apply transformed.yaml, not nginx-pod.yaml",
                "by-hand": "kubectl apply was given a Pod without a sidecar (nginx-pod.yaml?): apply transformed.yaml",
                "processes": "not checked: the Pod has no istio-proxy sidecar"},
            "transformed": {
                "pod": f"no Pod mywebserver in namespace {ns['transformed']}: apply transformed.yaml",
                "sidecar": no_pod, "by-hand": no_pod, "processes": no_pod},
            "not-ready": {
                "pod": f"Pod mywebserver is Pending with 0/2 containers ready, not Running 2/2: istio-init cannot "
                       f"pull its image {bad_image}",
                "sidecar": f"istio-proxy image is {bad_image}, the cluster's proxyv2 image is {good_image}; "
                           f"istio-init image is {bad_image}, not {good_image}",
                "processes": "not checked: the Pod is not Running 2/2"},
            "webhook": {
                "by-hand": "the sidecar was added by Istio's webhook (namespace label istio-injection=enabled), "
                           "not by kubectl inject: apply transformed.yaml"},
            "cleaned-up": {
                "pod": f"no Pod mywebserver in namespace {ns['cleaned-up']}: its events show it ran and was deleted "
                       "(grade checkpoint finished?)",
                "sidecar": no_pod, "by-hand": no_pod, "processes": no_pod},
        }
    else:
        table = {
            "complete": {"deleted": still.format("Running, 2/2 ready")},
            "plain": {"ran": "the events of Pod mywebserver show no istio-proxy container started",
                      "deleted": still.format("Running, 1/1 ready")},
            "transformed": {
                "ran": f"no events of Pod mywebserver in namespace {ns['transformed']}: it did not run here "
                       "(or more than an hour ago: events expire)",
                "deleted": "no Pod mywebserver and no trace of one: nothing was cleaned up"},
            "not-ready": {"ran": "the events of Pod mywebserver show no mywebserver and no istio-proxy container started",
                          "deleted": still.format("Pending, 0/2 ready")},
            "webhook": {"deleted": still.format("Running, 2/2 ready")},
            "cleaned-up": {},
        }
    out = {}
    for student, lost in table.items():
        out[student] = {check: (0, lost[check]) if check in lost else (points, "")
                        for check, points in CHECK_POINTS[checkpoint].items()}
    out["unreachable"] = {check: (0, unreachable) for check in CHECK_POINTS[checkpoint]}
    return out


def grade(room, tmp_path, checkpoint, files=False, *options):
    roster = room.roster(tmp_path / "class.yaml", files=files)
    paths = {kind: tmp_path / f"grades.{kind}" for kind in ("csv", "json", "xml")}
    proc = lab_grade("--roster", str(roster), "--checkpoint", checkpoint, "--csv", str(paths["csv"]),
                     "--json", str(paths["json"]), "--junit", str(paths["xml"]), *options)
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads(paths["json"].read_text()), paths


@pytest.mark.parametrize("checkpoint", ["applied", "finished"])
def test_each_student_gets_exactly_the_expected_points_and_reasons(classroom, proxy_image, tmp_path, checkpoint):
    proc, report, paths = grade(classroom, tmp_path, checkpoint)
    got = {s["student"]: {c["id"]: (c["points"], c["reason"]) for c in s["checks"]} for s in report["students"]}
    want = expected(classroom, checkpoint, proxy_image)
    for student in want:   # one student at a time: a failure names who and what differs
        assert got[student] == want[student], f"{student} at {checkpoint}:\n{proc.stdout}"
    assert list(got) == [s.name for s in classroom.students]   # roster order
    unreachable = report["students"][-1]
    assert unreachable["graded"] is False and unreachable["seconds"] < 3, unreachable
    assert all(s["graded"] for s in report["students"][:-1])
    totals = {s["student"]: s["points"] for s in report["students"]}
    assert totals == {"applied": {"complete": 10, "plain": 1, "transformed": 1, "not-ready": 3, "webhook": 8,
                                  "cleaned-up": 1, "unreachable": 0},
                      "finished": {"complete": 3, "plain": 1, "transformed": 1, "not-ready": 1, "webhook": 3,
                                   "cleaned-up": 5, "unreachable": 0}}[checkpoint]

    # The terminal table: one row per student with each check's points and the total.
    table_lines = proc.stdout.split("\n\n")[0].splitlines()[3:]   # title, header, rule, then the rows
    rows = {line.split()[0]: line.split()[1:] for line in table_lines}
    assert list(rows) == list(got), proc.stdout
    for s in report["students"]:
        assert rows[s["student"]] == [f"{c['points']}/{c['max_points']}" for c in s["checks"]] + \
            [f"{s['points']}/{s['max_points']}"], proc.stdout
    # Progress went to stderr, one line per student.
    assert sum(1 for line in proc.stderr.splitlines() if line.startswith("[")) == len(got), proc.stderr

    # CSV: one row per student, the same points.
    table = list(csv.DictReader(io.StringIO(paths["csv"].read_text())))
    assert [(r["student"], int(r["total"])) for r in table] == list(totals.items())
    # JUnit: one test case per student and check; lost points fail, the unreachable cluster errs.
    suite = ET.parse(paths["xml"]).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(got) * len(CHECK_POINTS[checkpoint])
    for case in cases:
        points, reason = want[case.get("classname")][case.get("name").split(":")[0]]
        failure, error = case.find("failure"), case.find("error")
        if case.get("classname") == "unreachable":
            assert error is not None and error.get("message") == reason
        elif reason:
            assert failure is not None and failure.get("message") == reason
        else:
            assert failure is None and error is None


def test_the_graders_kubeconfig_cannot_write(classroom):
    from kubernetes import client
    from kubernetes import config as kconfig

    student = next(s for s in classroom.students if s.state == "complete")
    ns = student.namespace
    api = kconfig.new_client_from_config(config_file=str(student.kubeconfig), persist_config=False)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    pod = {"metadata": {"name": "intruder"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    attempts = {
        "create a ConfigMap": lambda: core.create_namespaced_config_map(ns, {"metadata": {"name": "grader-was-here"}}),
        "create a Pod": lambda: core.create_namespaced_pod(ns, pod),
        "label the lab Pod": lambda: core.patch_namespaced_pod("mywebserver", ns, {"metadata": {"labels": {"g": "1"}}}),
        "delete the lab Pod": lambda: core.delete_namespaced_pod("mywebserver", ns),
        "label the namespace": lambda: core.patch_namespace(ns, {"metadata": {"labels": {"istio-injection": "enabled"}}}),
        "edit the injector ConfigMap": lambda: core.patch_namespaced_config_map(
            "istio-sidecar-injector", "istio-system", {"data": {"graded": "yes"}}),
        "scale istiod": lambda: apps.patch_namespaced_deployment_scale("istiod", "istio-system", {"spec": {"replicas": 0}}),
        "read the namespace's Secrets": lambda: core.list_namespaced_secret(ns),
        "read kube-system's Pods": lambda: core.list_namespaced_pod("kube-system"),
    }
    statuses = {}
    for what, attempt in attempts.items():
        try:
            attempt()
            statuses[what] = "allowed"
        except client.exceptions.ApiException as exc:
            statuses[what] = exc.status
    assert statuses == {what: 403 for what in attempts}
    # Nothing changed: the Pod still runs as it was, nothing was created, istiod still runs.
    pod_now = classroom.get_json("pod", "mywebserver", "-n", ns)
    assert pod_now["status"]["phase"] == "Running" and "g" not in pod_now["metadata"].get("labels", {})
    assert classroom.get_json("configmap", "grader-was-here", "-n", ns) is None
    assert classroom.get_json("deployment", "istiod", "-n", "istio-system")["spec"]["replicas"] >= 1


def test_reports_and_output_hold_no_credentials(classroom, tmp_path):
    proc, report, paths = grade(classroom, tmp_path, "applied")
    secrets = []
    for s in classroom.students:
        user = yaml.safe_load(s.kubeconfig.read_text())["users"][0]["user"]
        secrets += [v for v in user.values() if isinstance(v, str) and len(v) > 20]
    assert len(secrets) == len(STATES)   # one token per graded student
    texts = [proc.stdout, proc.stderr] + [p.read_text() for p in paths.values()]
    for text in texts:
        assert not any(token in text for token in secrets)
        assert "grader.kubeconfig" not in text and "certificate-authority-data" not in text
    assert all(oct(s.kubeconfig.stat().st_mode & 0o777) == "0o600" for s in classroom.students
               if s.state != "unreachable")


def test_submitted_files_are_compared_with_kubectl_inject_on_the_students_cluster(classroom, proxy_image, tmp_path):
    """Each student's work directory is their submission: the files the lab's commands left there."""
    # kubectl inject in cluster mode is the slow part of this check: 6-8 s alone on this machine,
    # about 36 s when four run at once (2026-11-30: mostly importing the Kubernetes client's typed
    # models), so the budget here is generous; what is asserted is the comparison, not its speed.
    proc, report, _ = grade(classroom, tmp_path, "applied", True, "--budget", "120")
    got = {s["student"]: {c["id"]: (c["points"], c["reason"]) for c in s["checks"]} for s in report["students"]}
    edited = (next(s for s in classroom.students if s.state == "not-ready").workdir / "transformed.yaml").read_text()
    line = next(n for n, text in enumerate(edited.splitlines(), 1) if MISSING_TAG_SUFFIX in text)
    no_transformed = (0, "no transformed.yaml among the submitted files")
    assert {student: checks.pop("files") for student, checks in got.items()} == {
        "complete": (1, ""), "transformed": (1, ""), "cleaned-up": (1, ""),
        "plain": no_transformed, "webhook": no_transformed,
        "not-ready": (0, "transformed.yaml is not what kubectl inject makes of the submitted nginx-pod.yaml with "
                         f"this cluster's configuration (first difference at line {line})"),
        "unreachable": (0, f"cluster unreachable at {classroom.students[-1].server}: connection refused"),
    }, proc.stdout
    assert got == expected(classroom, "applied", proxy_image)   # the other checks are unchanged
