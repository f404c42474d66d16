"""lab-grade at its edges (issue 22, classes 10-14), without a cluster: hostile fake API servers on
127.0.0.1, real `lab-grade` processes, signals.

10 unusable input: exit 2 and one line, never a traceback
11 a reachable cluster is not reported unreachable (--budget bounds, tokenFile as client-go reads it)
12 an endless API answer costs that student, not the grader's memory
13 reports: FIFOs, devices and symlinks written through, files atomically; cluster text escaped
   for the terminal and valid in XML
14 SIGTERM/SIGINT mid-grade leave no private key in $TMPDIR (credentials live in memory files)
"""
from __future__ import annotations

import base64
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import pytest
import yaml

from classroom import LAB_GRADE, REPO, lab_grade
from hostile import FakeApi, Stalled, client_certificate, kubeconfig, with_key

from lab_checks.grading import children, kubeclient, reports
from lab_checks.grading.roster import RosterError, load_roster
from lab_checks.grading.rubric import CheckResult
from lab_checks.grading.runner import StudentGrade


def one_line_exit_2(proc, starts: str = "lab-grade: "):
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout == ""
    assert proc.stderr.startswith(starts) and proc.stderr.count("\n") == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------------------ 14

def _grade_then_signal(tmp_path, signum):
    cert, key = client_certificate(tmp_path)
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    with Stalled() as stalled:
        kubeconfig(tmp_path / "kc.yaml", stalled.url, user=with_key(cert, key))
        env = {**os.environ, "TMPDIR": str(tmpdir)}
        proc = subprocess.Popen([*LAB_GRADE, "--kubeconfig", str(tmp_path / "kc.yaml"), "--budget", "60"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
        try:
            # The client connects only after it has loaded the credentials: now it is mid-grade.
            assert stalled.connected.wait(60), "lab-grade never connected"
            time.sleep(0.3)
            proc.send_signal(signum)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    left = sorted(p.name for p in tmpdir.rglob("*"))
    holding_key = [p for p in tmpdir.rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]
    return proc.returncode, err, left, holding_key


@pytest.mark.parametrize("signum, code, line", [(signal.SIGTERM, 143, "lab-grade: terminated"),
                                                (signal.SIGINT, 130, "lab-grade: interrupted")])
def test_a_signal_mid_grade_leaves_no_private_key_in_tmpdir(tmp_path, signum, code, line):
    returncode, err, left, holding_key = _grade_then_signal(tmp_path, signum)
    assert holding_key == [] and left == [], left
    assert (returncode, err) == (code, line + "\n")


def test_inline_certificates_and_keys_go_to_memory_files(tmp_path, monkeypatch):
    import tempfile
    cert, key = client_certificate(tmp_path)
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    path = kubeconfig(tmp_path / "kc.yaml", "https://127.0.0.1:1", user={
        **with_key(cert, key), "token": "t"})
    raw = yaml.safe_load(path.read_text())
    raw["clusters"][0]["cluster"] = {"server": "https://127.0.0.1:1",
                                     "certificate-authority-data": base64.b64encode(cert).decode()}
    path.write_text(yaml.safe_dump(raw))
    with kubeclient.credential_scope():
        api, _ = kubeclient.new_client(path, None)
        c = api.configuration
        files = [c.cert_file, c.key_file, c.ssl_ca_cert]
        assert all(f.startswith("/proc/self/fd/") for f in files), files
        with open(c.key_file, "rb") as f:
            assert f.read() == key
        fds = [int(f.rsplit("/", 1)[1]) for f in files]
    assert list(tmpdir.iterdir()) == []
    for fd in fds:   # released with the scope
        with pytest.raises(OSError):
            os.fstat(fd)


def test_without_memfd_the_credential_files_are_private_and_removed(tmp_path, monkeypatch):
    import tempfile
    monkeypatch.delattr(os, "memfd_create")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with kubeclient.credential_scope():
        name = kubeclient._memory_file(b"-----BEGIN PRIVATE KEY-----")
        folder = os.path.dirname(name)
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700 and stat.S_IMODE(os.stat(name).st_mode) == 0o600
    assert not os.path.exists(name)
    kubeclient.remove_all()   # what cli does on every exit
    assert not os.path.exists(folder)


# ------------------------------------------------------------------------------------------ 12

def _limited_memory():
    # Should the cap fail, the grader dies of MemoryError at 2 GiB instead of taking the machine.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def test_an_endless_api_answer_costs_that_student_only(tmp_path):
    with FakeApi(endless=("/api/",)) as endless, FakeApi() as calm:
        kubeconfig(tmp_path / "endless.yaml", endless.url)
        kubeconfig(tmp_path / "calm.yaml", calm.url)
        (tmp_path / "class.yaml").write_text(yaml.safe_dump([
            {"student": "endless", "kubeconfig": "endless.yaml"}, {"student": "calm", "kubeconfig": "calm.yaml"}]))
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        proc = subprocess.run([*LAB_GRADE, "--roster", str(tmp_path / "class.yaml"), "--budget", "20",
                               "--json", str(tmp_path / "g.json")], capture_output=True, text=True, cwd=REPO,
                              timeout=120, preexec_fn=_limited_memory)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert proc.returncode == 0, proc.stderr
    students = {s["student"]: s for s in json.loads((tmp_path / "g.json").read_text())["students"]}
    reason = students["endless"]["checks"][0]["reason"]
    # (the Pod is read first: its istio.io/rev label says which control plane's ConfigMaps to read)
    assert reason == (f"API server at {endless.url} answered Pod default/mywebserver "
                      "with more than 4 MiB (the grader reads at most that)"), reason
    assert students["endless"]["seconds"] < 10
    assert students["calm"]["graded"], students["calm"]
    # The whole grader (Python, the Kubernetes client, both students) stays far below a GiB.
    assert max(before, peak_kib) < 400 * 1024, peak_kib


def test_a_child_that_prints_without_end_is_stopped():
    t0 = time.monotonic()
    result = children.run([sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('x' * 65536)"],
                          timeout=30, limit=1 << 20)
    assert result.too_long and result.returncode is None and len(result.stdout) <= 1 << 20
    assert time.monotonic() - t0 < 10


def test_a_child_past_its_deadline_is_killed_with_its_own_children():
    t0 = time.monotonic()
    result = children.run(["sh", "-c", "sleep 60 & sleep 60"], timeout=1)
    assert result.timed_out and time.monotonic() - t0 < 5
    assert children._running == set()


# ------------------------------------------------------------------------------------------ 10

KC = "kc.yaml"


@pytest.mark.parametrize("content, message", [
    ("- [alice, kc.yaml]\n", "expected a list of students"),
    ("- alice\n- bob\n", "expected a list of students"),
    ("[1, 2, 3]\n", "expected a list of students"),
    ("students: {alice: kc.yaml}\n", "expected a list of students"),
    ("- {student: alice, kubeconfig: [kc.yaml]}\n", "entry 1 (alice): kubeconfig must be text, not a list"),
    ("- {student: alice, kubeconfig: {path: kc.yaml}}\n", "entry 1 (alice): kubeconfig must be text, not a mapping"),
    ("- {student: {name: alice}, kubeconfig: kc.yaml}\n", "entry 1: student must be text, not a mapping"),
    ("- {student: true, kubeconfig: kc.yaml}\n", "entry 1: student must be text, not true/false"),
    ("- {student: alice, kubeconfig: kc.yaml, namespace: 2024-01-01}\n",
     "entry 1 (alice): namespace must be text, not a date (quote it in YAML)"),
    ("- {student: alice, kubeconfig: kc.yaml, context: 1.5}\n", "entry 1 (alice): context must be text, not a decimal number"),
    ("- {1: alice, kubeconfig: kc.yaml}\n", "entry 1: unknown field(s) 1 (fields:"),
    ("- {student: " + "9" * 5000 + ", kubeconfig: kc.yaml}\n", "not valid YAML (ValueError: Exceeds the limit"),
    ("- {student: alice, kubeconfig: kc.yaml, namespace: 2024-13-45}\n", "not valid YAML (ValueError: month must be"),
    ("[" * 5000 + "]" * 5000 + "\n", "not a roster (nested too deeply)"),
    ("- {student: alice, kubeconfig: \"a\\0b\"}\n", "entry 1 (alice): kubeconfig holds a NUL character"),
    ("- {student: alice, kubeconfig: ~nosuchuser-lab-grade/kc.yaml}\n",
     "entry 1 (alice): kubeconfig ~nosuchuser-lab-grade/kc.yaml: cannot expand '~nosuchuser-lab-grade'"),
])
def test_a_roster_of_the_wrong_shape_is_one_line(tmp_path, content, message):
    # Python's own int/str limit, as in a lab-grade process (kubectl inject's tests, in the same
    # process, lift it as kubectl inject does).
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(4300)
    try:
        _roster_is_one_line(tmp_path, content, message)
    finally:
        sys.set_int_max_str_digits(limit)


def _roster_is_one_line(tmp_path, content, message):
    kubeconfig(tmp_path / KC, "https://127.0.0.1:1")
    roster = tmp_path / "class.yaml"
    roster.write_text(content)
    with pytest.raises(RosterError) as exc:
        load_roster(str(roster))
    assert message in str(exc.value), str(exc.value)
    assert str(exc.value).startswith(f"roster {roster}")


def test_a_csv_cell_beyond_the_field_limit_is_one_line(tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_text("student,kubeconfig\n\"" + "x" * 200_000 + "\",kc.yaml\n")
    with pytest.raises(RosterError) as exc:
        load_roster(str(roster))
    assert str(exc.value) == f"roster {roster}: not valid CSV (field larger than field limit (131072))"


@pytest.mark.parametrize("suffix", ["csv", "yaml"])
def test_a_roster_saved_with_a_byte_order_mark_is_read(tmp_path, suffix):
    kubeconfig(tmp_path / KC, "https://127.0.0.1:1")
    roster = tmp_path / f"class.{suffix}"
    text = "student,kubeconfig\nalice,kc.yaml\n" if suffix == "csv" else "- {student: alice, kubeconfig: kc.yaml}\n"
    roster.write_bytes(b"\xef\xbb\xbf" + text.encode())
    [alice] = load_roster(str(roster))
    assert (alice.student, alice.kubeconfig) == ("alice", tmp_path / KC)


def test_a_roster_larger_than_its_limit_is_refused_unread(tmp_path):
    roster = tmp_path / "class.yaml"
    with roster.open("wb") as f:
        f.truncate(64 << 20)   # sparse: 64 MiB of NUL, read only up to the limit
    with pytest.raises(RosterError) as exc:
        load_roster(str(roster))
    assert str(exc.value) == f"roster {roster}: larger than 4 MiB"


@pytest.mark.parametrize("args, message", [
    (["--budget", "nan"], "lab-grade: --budget nan: expected seconds from 1 to 3600"),
    (["--budget", "inf"], "lab-grade: --budget inf: expected seconds from 1 to 3600"),
    (["--budget", "1e12"], "lab-grade: --budget 1e+12: expected seconds from 1 to 3600"),
    (["--budget", "-5"], "lab-grade: --budget -5: expected seconds from 1 to 3600"),
    (["--budget", "0"], "lab-grade: --budget 0: expected seconds from 1 to 3600"),
    (["--jobs", "0"], "lab-grade: --jobs 0: expected a whole number from 1 to 64"),
    (["--jobs", "100000000000000000000"], "lab-grade: --jobs 100000000000000000000: expected a whole number from 1 to 64"),
    (["--csv", "{d}/"], "lab-grade: --csv {d}/: a directory, not a file name"),
    (["--json", "{d}"], "lab-grade: --json {d}: a directory"),
    (["--junit", ""], "lab-grade: --junit : an empty file name"),
    (["--csv", "{d}/kc.yaml/g.csv"], "lab-grade: --csv {d}/kc.yaml/g.csv: {d}/kc.yaml is not a directory"),
    (["--csv", "{d}/g", "--json", "{d}/g"], "lab-grade: --json {d}/g: the same file as --csv"),
])
def test_unusable_options_are_one_line_and_exit_2(tmp_path, args, message):
    kubeconfig(tmp_path / KC, "https://127.0.0.1:1")
    args = [a.format(d=tmp_path) for a in args]
    proc = lab_grade("--kubeconfig", str(tmp_path / KC), *args, timeout=60)
    one_line_exit_2(proc)
    assert proc.stderr == message.format(d=tmp_path) + "\n"


@pytest.mark.parametrize("name, content", [
    ("deep.yaml", "[" * 100_000 + "]" * 100_000 + "\n"),
    ("typed.yaml", "- [1, 2]\n"),
    ("cell.csv", "student,kubeconfig\n" + "y" * 300_000 + ",kc.yaml\n"),
    ("tilde.yaml", "- {student: a, kubeconfig: ~nosuchuser-lab-grade/x}\n"),
    ("controls.yaml", "- {student: \"a\\e]0;owned\\a\\nforged line\", kubeconfig: missing.yaml}\n"),
])
def test_a_hostile_roster_is_one_line_and_exit_2_from_the_command(tmp_path, name, content):
    kubeconfig(tmp_path / KC, "https://127.0.0.1:1")
    (tmp_path / name).write_text(content)
    proc = lab_grade("--roster", str(tmp_path / name), timeout=60)
    one_line_exit_2(proc, f"lab-grade: roster {tmp_path / name}")
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr


def test_an_unknown_home_in_kubeconfig_is_one_line():
    proc = lab_grade("--kubeconfig", "~nosuchuser-lab-grade/kc.yaml", timeout=60)
    one_line_exit_2(proc)
    assert proc.stderr == ("lab-grade: --kubeconfig ~nosuchuser-lab-grade/kc.yaml: cannot expand "
                           "'~nosuchuser-lab-grade' (no such user or no home directory)\n")


# ------------------------------------------------------------------------------------------ 11

def _authenticated(token: str):
    def answer(path, headers):
        if headers.get("Authorization") != f"Bearer {token}":
            return 401, {"kind": "Status", "code": 401, "reason": "Unauthorized"}
        return 404, {"kind": "Status", "code": 404, "reason": "NotFound"}
    return answer


@pytest.mark.parametrize("content", ["s3cret\n", "  s3cret\r\n\n", "s3cret"])
def test_a_token_file_is_read_as_client_go_reads_it(tmp_path, content):
    (tmp_path / "token").write_text(content)
    with FakeApi(_authenticated("s3cret")) as api:
        kubeconfig(tmp_path / KC, api.url, user={"tokenFile": "token"})   # relative to the kubeconfig
        proc = lab_grade("--kubeconfig", str(tmp_path / KC), "--json", str(tmp_path / "g.json"), timeout=60)
    assert proc.returncode == 0, proc.stderr
    [student] = json.loads((tmp_path / "g.json").read_text())["students"]
    assert student["graded"], student["checks"][0]["reason"]
    assert student["checks"][0]["reason"].startswith("Istio is not installed"), student


def test_the_largest_budget_grades_a_reachable_cluster(tmp_path):
    with FakeApi() as api:
        kubeconfig(tmp_path / KC, api.url)
        proc = lab_grade("--kubeconfig", str(tmp_path / KC), "--budget", "3600", "--json", str(tmp_path / "g.json"),
                         timeout=60)
    assert proc.returncode == 0, proc.stderr
    [student] = json.loads((tmp_path / "g.json").read_text())["students"]
    assert student["graded"], student


def test_an_unreadable_token_file_is_the_students_reason(tmp_path):
    kubeconfig(tmp_path / KC, "http://127.0.0.1:1", user={"tokenFile": "/nonexistent/token"})
    proc = lab_grade("--kubeconfig", str(tmp_path / KC), "--json", str(tmp_path / "g.json"), timeout=60)
    assert proc.returncode == 0, proc.stderr
    [student] = json.loads((tmp_path / "g.json").read_text())["students"]
    assert student["checks"][0]["reason"] == f"kubeconfig {KC}: its tokenFile cannot be read (No such file or directory)"


# ------------------------------------------------------------------------------------------ 13

HOSTILE = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil\x00\x0b\ud800\uffff\nforged: 10/10"


def _grades() -> list[StudentGrade]:
    results = [CheckResult("pod", "Pod", 0, 2, reason=f"Pod mywebserver is {HOSTILE}"),
               CheckResult("sidecar", "Sidecar", 3, 3, note=HOSTILE)]
    return [StudentGrade(f"stu{HOSTILE}", "ns\x1b", None, results, 1.0),
            StudentGrade("plain", "ns", None, [CheckResult("pod", "Pod", 2, 2), CheckResult("sidecar", "Sidecar", 3, 3)]),
            StudentGrade("gone", None, None, [CheckResult("pod", "Pod", 0, 2, reason=HOSTILE, error=True),
                                              CheckResult("sidecar", "Sidecar", 0, 3, reason=HOSTILE, error=True)])]


def test_the_table_shows_control_characters_escaped():
    text = reports.table(_grades(), "applied", 1.0)
    unsafe = [c for c in text if (ord(c) < 32 and c != "\n") or 0x7f <= ord(c) <= 0x9f or c in "\u202e\ufeff"
              or 0xd800 <= ord(c) <= 0xdfff]
    assert unsafe == []
    assert "\\x1b]0;owned\\x07" in text and "\\u202eevil\\x00" in text and "\\ud800" in text
    assert "\nforged" not in text   # a line break in a reason cannot forge a row
    text.encode("utf-8")


def validate_junit(text: str) -> ET.Element:
    """XML 1.0 well-formed (expat refuses characters XML does not allow, even as references),
    and the JUnit structure CI servers read (Jenkins' junit-10.xsd, plus per-case properties as
    pytest's xunit1 writes them): testsuites > testsuite(name, tests, failures, errors, time) >
    testcase(classname, name, time) > properties?, (failure | error)?, counts that add up."""
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites" and set(root.attrib) <= {"name", "time", "tests", "failures", "errors"}
    for suite in root:
        assert suite.tag == "testsuite"
        assert {"name", "tests", "failures", "errors"} <= set(suite.attrib) <= {"name", "tests", "failures", "errors",
                                                                                "time", "skipped", "timestamp"}
        float(suite.get("time", "0"))
        cases = list(suite)
        assert all(c.tag == "testcase" for c in cases)
        failures = errors = 0
        for case in cases:
            assert set(case.attrib) == {"classname", "name", "time"}
            float(case.get("time"))
            tags = [child.tag for child in case]
            assert tags in ([], ["properties"], ["properties", "failure"], ["properties", "error"],
                            ["failure"], ["error"]), tags
            for prop in case.iter("property"):
                assert set(prop.attrib) == {"name", "value"}
            failures += tags[-1:] == ["failure"]
            errors += tags[-1:] == ["error"]
            for outcome in case:
                if outcome.tag in ("failure", "error"):
                    assert set(outcome.attrib) == {"message", "type"}
        assert (int(suite.get("tests")), int(suite.get("failures")), int(suite.get("errors"))) == (
            len(cases), failures, errors)
    return root


def test_the_junit_report_is_valid_xml_with_the_text_kept_visible():
    root = validate_junit(reports.to_junit(_grades(), "applied", 1.0))
    messages = [e.get("message") for e in root.iter() if e.tag in ("failure", "error")]
    assert messages[0] == "Pod mywebserver is \\x1b]0;owned\\x07\\x1b[2J\x9b31m\u202eevil\\x00\\x0b\\ud800\\uffff\nforged: 10/10"
    assert root.find("testsuite/testcase").get("classname").startswith("stu\\x1b]0;owned")


def test_the_csv_and_json_reports_can_be_written():
    for text in (reports.to_csv(_grades(), "applied"), reports.to_json(_grades(), "applied", 1.0)):
        text.encode("utf-8")
    json.loads(reports.to_json(_grades(), "applied", 1.0))


def _fifo_read_in_background(fifo):
    """Makes the FIFO and starts a thread reading it whole: (what it read, as a one-item list once
    done; the thread)."""
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    return got, reader


def test_a_report_is_written_through_a_fifo(tmp_path):
    fifo = tmp_path / "grades.csv"
    got, reader = _fifo_read_in_background(fifo)
    reports.write(fifo, "student,total\n")
    reader.join(10)
    assert got == ["student,total\n"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def _private_null(tmp_path):
    """A null device of the test's own: a grader that replaces what it writes to (the bug) must
    not get the chance to replace the system's /dev/null (as root it can)."""
    node = tmp_path / "null"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        if os.access("/dev", os.W_OK):
            pytest.skip("cannot make a device node, and /dev is writable: not risking /dev/null")
        return "/dev/null"
    return str(node)


def test_a_report_to_a_device_leaves_the_device(tmp_path):
    null = _private_null(tmp_path)
    reports.write(null, "x\n")
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["null"] if null != "/dev/null" else [])


def test_a_report_through_a_symlink_keeps_the_link(tmp_path):
    (tmp_path / "reports").mkdir()
    real = tmp_path / "reports" / "g.json"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "g.json"
    link.symlink_to(real)
    reports.write(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new\n" and stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["g.json", "g.json", "reports"]


def test_a_report_replaces_a_regular_file_atomically(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("old")
    inode = path.stat().st_ino
    reports.write(path, "new\n")
    assert path.read_text() == "new\n" and path.stat().st_ino != inode
    assert [p.name for p in tmp_path.iterdir()] == ["g.csv"]


def test_reports_to_a_fifo_and_stdout_from_the_command(tmp_path):
    fifo = tmp_path / "junit.xml"
    got, reader = _fifo_read_in_background(fifo)
    proc = lab_grade("--kubeconfig", str(tmp_path / "missing.yaml"), timeout=60)   # exit 2, nothing written
    assert proc.returncode == 2
    with FakeApi() as api:
        kubeconfig(tmp_path / KC, api.url)
        # What /dev/stdout is (a link to /proc/self/fd/1), made here: never hand the real one to a grader
        # that might replace it.
        (tmp_path / "stdout").symlink_to("/proc/self/fd/1")
        proc = lab_grade("--kubeconfig", str(tmp_path / KC), "--junit", str(fifo), "--csv", str(tmp_path / "stdout"),
                         timeout=60)
    reader.join(10)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and got, got
    validate_junit(got[0])
    assert "student,namespace,checkpoint," in proc.stdout   # the CSV after the table, on stdout
    assert os.readlink(tmp_path / "stdout") == "/proc/self/fd/1"


def _hostile_pod(path, headers):
    if path.endswith("/pods/mywebserver"):
        return 200, {"kind": "Pod", "apiVersion": "v1",
                     "metadata": {"name": "mywebserver", "namespace": "default"},
                     "spec": {"containers": [{"name": "mywebserver", "image": "nginx"}]},
                     "status": {"phase": f"Pending{HOSTILE}", "containerStatuses": [
                         {"name": "mywebserver", "ready": False, "restartCount": 0, "image": "nginx",
                          "state": {"waiting": {"reason": f"ErrImagePull{HOSTILE}", "message": HOSTILE}}}]}}
    if path.endswith("/events"):
        return 200, {"kind": "EventList", "items": [{"reason": HOSTILE, "message": HOSTILE,
                                                      "involvedObject": {"kind": "Pod", "name": "mywebserver"}}]}
    return 404, {"kind": "Status", "code": 404}


def test_cluster_text_with_control_characters_reaches_no_report_raw(tmp_path):
    with FakeApi(_hostile_pod) as api:
        kubeconfig(tmp_path / KC, api.url)
        proc = subprocess.run([*LAB_GRADE, "--kubeconfig", str(tmp_path / KC), "--junit", str(tmp_path / "g.xml"),
                               "--csv", str(tmp_path / "g.csv"), "--json", str(tmp_path / "g.json")],
                              capture_output=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode("utf-8")
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, out
    assert "\\x1b" in out, out   # it was there, and is shown escaped
    validate_junit((tmp_path / "g.xml").read_text())
