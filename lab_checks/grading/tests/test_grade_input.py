"""lab-grade's input and its bounds, without a cluster: rosters (YAML and CSV), bad input as one
line and exit code 2 with no traceback, the RBAC it prints, and a stalled API server that costs
one target its budget and never the class.
"""
from __future__ import annotations

import json
import socket
import time

import pytest
import yaml

from classroom import closed_port, lab_grade

from lab_checks.grading.roster import RosterError, load_roster


def kubeconfig(path, server, namespace="default"):
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": namespace}},
                     {"name": "other", "context": {"cluster": "c", "user": "u"}}]}))
    return path


def test_yaml_and_csv_rosters_give_the_same_targets(tmp_path):
    (tmp_path / "kc").mkdir()
    kubeconfig(tmp_path / "kc" / "alice.yaml", "https://127.0.0.1:1")
    (tmp_path / "alice-files").mkdir()
    (tmp_path / "class.yaml").write_text(yaml.safe_dump({"students": [
        {"student": "alice", "kubeconfig": "kc/alice.yaml", "context": "other", "namespace": "lab-a",
         "files": "alice-files"},
        {"student": "bob", "kubeconfig": str(tmp_path / "kc" / "alice.yaml")}]}))
    (tmp_path / "class.csv").write_text("# the class of Monday\nstudent,kubeconfig,context,namespace,files\n"
                                        "alice,kc/alice.yaml,other,lab-a,alice-files\n"
                                        f"bob,{tmp_path / 'kc' / 'alice.yaml'},,,\n")
    from_yaml, from_csv = load_roster(str(tmp_path / "class.yaml")), load_roster(str(tmp_path / "class.csv"))
    assert from_yaml == from_csv
    alice, bob = from_yaml
    assert (alice.student, alice.kubeconfig, alice.context, alice.namespace, alice.files) == (
        "alice", tmp_path / "kc" / "alice.yaml", "other", "lab-a", tmp_path / "alice-files")
    assert (bob.context, bob.namespace, bob.files) == (None, None, None)


FIELDS = "student, kubeconfig, context, namespace, files"


@pytest.mark.parametrize("content, message", [
    ("- student: a\n  kubeconfig: missing.yaml\n", "roster {r}, entry 1 (a): kubeconfig {d}/missing.yaml: no such file"),
    ("- {student: a, kubeconfig: kc.yaml}\n- {student: a, kubeconfig: kc.yaml}\n",
     "roster {r}, entry 2: student 'a' is listed twice"),
    ("- {student: a, kubeconfig: kc.yaml, cluster: x}\n", f"roster {{r}}, entry 1: unknown field(s) cluster (fields: {FIELDS})"),
    ("- {kubeconfig: kc.yaml}\n", "roster {r}, entry 1: no student id"),
    ("- {student: a}\n", "roster {r}, entry 1 (a): no kubeconfig"),
    ("students: [\n", "roster {r}: not valid YAML at line 2"),
    ("[]\n", "roster {r}: lists no student"),
    ("just text\n", f"roster {{r}}: expected a list of students (mappings with {FIELDS})"),
])
def test_a_bad_roster_is_one_line_naming_the_problem(tmp_path, content, message):
    kubeconfig(tmp_path / "kc.yaml", "https://127.0.0.1:1")
    roster = tmp_path / "class.yaml"
    roster.write_text(content)
    with pytest.raises(RosterError) as exc:
        load_roster(str(roster))
    assert str(exc.value) == message.format(r=roster, d=tmp_path)


@pytest.mark.parametrize("args, message", [
    (["--roster", "/nonexistent/class.yaml"], "lab-grade: roster /nonexistent/class.yaml: no such file"),
    (["--kubeconfig", "/nonexistent/kc"], "lab-grade: --kubeconfig /nonexistent/kc: no such file"),
    ([], "lab-grade: give either --roster FILE or --kubeconfig FILE"),
    (["--roster", "x", "--kubeconfig", "y"], "lab-grade: give either --roster FILE or --kubeconfig FILE"),
    (["--kubeconfig", "/dev/null", "--jobs", "0"], "lab-grade: --jobs 0: expected a whole number from 1 to 64"),
    (["--checkpoint", "done"], "lab-grade: argument --checkpoint: invalid choice: 'done' (choose from 'applied', 'finished')"),
    (["kubeconfig", "--kubeconfig", "/nonexistent/admin"], "lab-grade: admin kubeconfig /nonexistent/admin: no such file"),
    (["kubeconfig", "--duration", "soon"], "lab-grade: --duration 'soon': expected a positive number of seconds, "
                                           "or e.g. 90m, 24h, 7d"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    proc = lab_grade(*args, timeout=60)
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, message + "\n", "")


def test_an_unusable_kubeconfig_costs_that_student_only(tmp_path):
    (tmp_path / "garbage.yaml").write_text(": not a kubeconfig [")
    kubeconfig(tmp_path / "nocontext.yaml", "https://127.0.0.1:1")
    port = closed_port()
    kubeconfig(tmp_path / "refused.yaml", f"https://127.0.0.1:{port}")
    (tmp_path / "class.csv").write_text("student,kubeconfig,context\ngarbage,garbage.yaml,\n"
                                        "nocontext,nocontext.yaml,elsewhere\nrefused,refused.yaml,\n")
    proc = lab_grade("--roster", str(tmp_path / "class.csv"), "--json", str(tmp_path / "g.json"), timeout=60)
    assert proc.returncode == 0, proc.stderr
    students = {s["student"]: s for s in json.loads((tmp_path / "g.json").read_text())["students"]}
    reasons = {name: {c["reason"] for c in s["checks"]} for name, s in students.items()}
    assert reasons == {
        "garbage": {"kubeconfig garbage.yaml is not usable (not valid YAML)"},
        "nocontext": {"kubeconfig nocontext.yaml has no context 'elsewhere'"},
        "refused": {f"cluster unreachable at https://127.0.0.1:{port}: connection refused"},
    }
    assert all(s["points"] == 0 and not s["graded"] for s in students.values())
    assert "Traceback" not in proc.stderr
    assert "garbage: not graded: kubeconfig garbage.yaml is not usable (not valid YAML)" in proc.stdout


def test_a_stalled_api_server_costs_its_budget_not_the_class(tmp_path):
    # A port that accepts connections (the kernel's backlog) and never answers: TLS never starts.
    with socket.socket() as stalled:
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(16)
        server = f"https://127.0.0.1:{stalled.getsockname()[1]}"
        for i in range(4):
            kubeconfig(tmp_path / f"s{i}.yaml", server)
        kubeconfig(tmp_path / "refused.yaml", f"https://127.0.0.1:{closed_port()}")
        roster = tmp_path / "class.yaml"
        roster.write_text(yaml.safe_dump([{"student": f"stalled{i}", "kubeconfig": f"s{i}.yaml"} for i in range(4)]
                                         + [{"student": "refused", "kubeconfig": "refused.yaml"}]))
        t0 = time.monotonic()
        proc = lab_grade("--roster", str(roster), "--budget", "3", "--jobs", "4", "--json", str(tmp_path / "g.json"),
                         timeout=60)
        took = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    students = json.loads((tmp_path / "g.json").read_text())["students"]
    # Four stalled targets in parallel, then the refused one: about one budget, not four.
    assert took < 3 * 2 + 3, took
    for s in students[:4]:
        assert s["points"] == 0 and not s["graded"]
        assert 2.5 <= s["seconds"] <= 6.5, s
        assert s["checks"][0]["reason"] in (f"cluster unreachable at {server}: no answer in time",
                                            f"cluster unreachable at {server}: connection timed out",
                                            "time budget of 3s exceeded"), s
    assert students[4]["seconds"] < 2, students[4]


def test_rbac_is_read_only_but_for_exec_into_the_lab_pod():
    proc = lab_grade("rbac", "--namespace", "student-7", timeout=60)
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    kinds = sorted((d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]) for d in docs)
    assert kinds == [("ClusterRole", "", "lab-grader-nodes"), ("ClusterRoleBinding", "", "lab-grader-student-7"),
                     ("Role", "istio-system", "lab-grader"), ("Role", "student-7", "lab-grader"),
                     ("RoleBinding", "istio-system", "lab-grader-student-7"), ("RoleBinding", "student-7", "lab-grader"),
                     ("ServiceAccount", "student-7", "lab-grader")]
    for doc in docs:
        for subject in doc.get("subjects", []):
            assert (subject["kind"], subject["name"], subject["namespace"]) == ("ServiceAccount", "lab-grader", "student-7")
        for rule in doc.get("rules", []):
            if doc["kind"] == "ClusterRole":
                assert rule == {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}
            writes = set(rule["verbs"]) - {"get", "list", "watch"}
            if writes:
                assert (rule["resources"], rule.get("resourceNames"), writes) == (["pods/exec"], ["mywebserver"], {"create"})
    shipped = lab_grade("rbac", timeout=60)
    assert "namespace: default" in shipped.stdout and shipped.stdout.startswith("# RBAC for lab-grade")


def test_version_is_one_line_with_the_package_version():
    from importlib import metadata
    result = lab_grade("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"lab-grade {metadata.version('kubectl-inject')} (Python ")
    assert len(result.stdout.splitlines()) == 1
