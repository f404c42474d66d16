"""Simulated students on the hermetic cluster, for the grader's tests and its benchmark.

Each student is a namespace of the real cluster with the grader's RBAC (`lab-grade rbac`) and its
own ServiceAccount kubeconfig (`lab-grade kubeconfig`), left in one of the states the grader must
tell apart. The student's side runs the lab's own commands (steps.STEPS) verbatim, with an admin
kubeconfig whose current namespace is the student's, in a work directory of its own.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = REPO / ".venv" / "bin"
KUBECTL = str(VENV_BIN / "kubectl")
# The installed console script (make install); the module itself when the checkout is not installed.
LAB_GRADE = [str(VENV_BIN / "lab-grade")] if (VENV_BIN / "lab-grade").exists() else [sys.executable, "-m",
                                                                                      "lab_checks.grading"]

from lab_checks.grading.access import SERVICE_ACCOUNT
from lab_checks.pod_status import pod_is_ready, unpullable_images
from lab_checks.steps import POD, STEPS

STATES = ("complete", "plain", "transformed", "not-ready", "webhook", "cleaned-up")
MISSING_TAG_SUFFIX = "-grading-missing"


def cluster_kubeconfig() -> Path:
    """The hermetic cluster's admin kubeconfig, the cluster brought up (idempotent) when needed."""
    up = subprocess.run(["make", "-s", "-C", str(REPO), "cluster-up"], capture_output=True, text=True, timeout=3600)
    if up.returncode != 0:
        raise RuntimeError(f"make cluster-up failed: {up.stdout[-2000:]}{up.stderr[-2000:]}")
    out = subprocess.run(["make", "-s", "-C", str(REPO), "cluster-kubeconfig"], capture_output=True, text=True,
                         timeout=120)
    return Path(out.stdout.strip())


def lab_grade(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The grader as an instructor runs it (python -m lab_checks.grading is the console script's entry)."""
    return subprocess.run([*LAB_GRADE, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Student:
    name: str
    state: str
    namespace: str
    workdir: Path
    kubeconfig: Path          # the grader's (ServiceAccount) kubeconfig
    admin_kubeconfig: Path    # the student's own, admin, current namespace = theirs
    server: str = ""          # the unreachable student's API server address


class Classroom:
    def __init__(self, admin_kubeconfig: Path, root: Path, prefix: str = "grade"):
        self.admin = admin_kubeconfig
        self.root = root
        self.prefix = f"{prefix}-{uuid.uuid4().hex[:5]}"
        self.students: list[Student] = []
        self.shared_rbac_created: list | None = None

    # ---------------------------------------------------------------- cluster helpers (admin)
    def kubectl(self, *args: str, kubeconfig: Path | None = None, check: bool = True, timeout: float = 120,
                cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig or self.admin), *args], capture_output=True,
                              text=True, timeout=timeout, cwd=cwd, input=stdin)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr.strip()}")
        return proc

    def get_json(self, *args: str, kubeconfig: Path | None = None):
        proc = self.kubectl("get", *args, "-o", "json", kubeconfig=kubeconfig, check=False)
        if proc.returncode != 0:
            if "NotFound" in proc.stderr:
                return None
            raise AssertionError(f"kubectl get {' '.join(args)}: {proc.stderr.strip()}")
        return json.loads(proc.stdout)

    def student_sh(self, student: Student, command: str, check: bool = True, attempts: int = 3) -> subprocess.CompletedProcess:
        """A lab command line, verbatim, as the student types it (the plugin and kubectl on PATH).
        Tried again, as a student would, when the API server was too busy to answer in time (a
        2-core machine setting up many students while other work runs)."""
        env = dict(os.environ, KUBECONFIG=str(student.admin_kubeconfig),
                   PATH=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]))
        for attempt in range(attempts):
            proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=student.workdir, env=env,
                                  capture_output=True, text=True, timeout=120)
            busy = "did not answer" in proc.stderr or "timeout" in proc.stderr.lower()
            if proc.returncode == 0 or not busy:
                break
            time.sleep(2 * (attempt + 1))
        if check and proc.returncode != 0:
            raise AssertionError(f"{student.name}: {command}: {proc.stderr.strip()}")
        return proc

    # ---------------------------------------------------------------- students
    def add(self, state: str, name: str | None = None) -> Student:
        name = name or state
        namespace = f"{self.prefix}-{name}"
        workdir = self.root / name
        workdir.mkdir(parents=True, exist_ok=True)
        if self.shared_rbac_created is None:
            # The Role in istio-system and the ClusterRole all students share: ours to remove if new.
            self.shared_rbac_created = [
                args for args in (("role", SERVICE_ACCOUNT, "-n", "istio-system"), ("clusterrole", f"{SERVICE_ACCOUNT}-nodes"))
                if self.get_json(*args) is None]
        self.kubectl("create", "namespace", namespace)
        rbac = lab_grade("rbac", "--namespace", namespace)
        assert rbac.returncode == 0, rbac.stderr
        self.kubectl("apply", "-f", "-", stdin=rbac.stdout)
        grader = workdir / "grader.kubeconfig"
        made = lab_grade("kubeconfig", "--kubeconfig", str(self.admin), "--namespace", namespace,
                         "--duration", "2h", "-o", str(grader))
        assert made.returncode == 0, made.stderr
        admin = workdir / "admin.kubeconfig"
        view = self.kubectl("config", "view", "--raw", "--flatten", "--minify")
        admin.write_text(view.stdout)
        admin.chmod(0o600)
        self.kubectl("config", "set-context", "--current", f"--namespace={namespace}", kubeconfig=admin)
        student = Student(name, state, namespace, workdir, grader, admin)
        self.students.append(student)
        return student

    def start(self, student: Student, cheap_sidecar: bool = False):
        """Do the lab up to the student's state (the waiting is settle()'s)."""
        st = student.state
        self.student_sh(student, STEPS[1].command)
        if cheap_sidecar:
            # Many Pods on a 2-CPU node: a sidecar requesting 10m CPU instead of 100m.
            pod = yaml.safe_load((student.workdir / "nginx-pod.yaml").read_text())
            pod["metadata"]["annotations"] = {"sidecar.istio.io/proxyCPU": "10m"}
            (student.workdir / "nginx-pod.yaml").write_text(yaml.safe_dump(pod))
        if st in ("plain", "webhook"):
            if st == "webhook":
                self.kubectl("label", "namespace", student.namespace, "istio-injection=enabled")
            self.student_sh(student, "kubectl apply -f nginx-pod.yaml")
            return
        self.student_sh(student, STEPS[3].command)
        if st == "transformed":
            return
        if st == "not-ready":
            # As if transformed with a values file naming a proxy tag no registry has.
            text = (student.workdir / "transformed.yaml").read_text()
            pod = next(d for d in yaml.safe_load_all(text) if d)   # kubectl inject ends with "---"
            image = next(c["image"] for c in pod["spec"]["containers"] if c["name"] == "istio-proxy")
            (student.workdir / "transformed.yaml").write_text(text.replace(image, image + MISSING_TAG_SUFFIX))
        self.student_sh(student, STEPS[5].command)

    def settle(self, student: Student, timeout: float = 180):
        """Wait until the student's state is steady, then finish it (cleaned-up: delete the Pod)."""
        st = student.state
        if st == "transformed":
            return
        deadline = time.monotonic() + timeout
        while True:
            pod = self.get_json("pod", POD, "-n", student.namespace)
            if st == "not-ready" and pod and unpullable_images(pod):
                return
            if st != "not-ready" and pod and pod_is_ready(pod):
                break
            assert time.monotonic() < deadline, f"{student.name}: Pod not settled in {timeout}s: {pod and pod['status']}"
            time.sleep(1)
        if st == "cleaned-up":
            self.student_sh(student, STEPS[9].command)

    def unreachable(self, name: str = "unreachable") -> Student:
        """A kubeconfig whose API server is a closed loopback port (no credentials in it)."""
        workdir = self.root / name
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / "grader.kubeconfig"
        server = f"https://127.0.0.1:{closed_port()}"
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "gone",
            "clusters": [{"name": "gone", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
            "users": [{"name": "nobody", "user": {}}],
            "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "nobody", "namespace": "default"}}]}))
        student = Student(name, "unreachable", "default", workdir, path, path, server)
        self.students.append(student)
        return student

    def roster(self, path: Path, files: bool = False) -> Path:
        """The class as a YAML roster; files: each student's work directory is their submission."""
        path.write_text(yaml.safe_dump([{"student": s.name, "kubeconfig": str(s.kubeconfig),
                                         **({"files": str(s.workdir)} if files else {})} for s in self.students],
                                       sort_keys=False))
        return path

    def cleanup(self):
        """Delete every student namespace and the grader's bindings in istio-system; wait for it."""
        for s in self.students:
            if s.state == "unreachable":
                continue
            self.kubectl("delete", "namespace", s.namespace, "--wait=false", "--ignore-not-found", check=False)
            self.kubectl("delete", "rolebinding", f"{SERVICE_ACCOUNT}-{s.namespace}", "-n", "istio-system",
                         "--ignore-not-found", check=False)
            self.kubectl("delete", "clusterrolebinding", f"{SERVICE_ACCOUNT}-{s.namespace}", "--ignore-not-found",
                         check=False)
        for args in self.shared_rbac_created or []:
            self.kubectl("delete", *args, "--ignore-not-found", check=False)
        deadline = time.monotonic() + 180
        for s in self.students:
            if s.state == "unreachable":
                continue
            while self.get_json("namespace", s.namespace) is not None and time.monotonic() < deadline:
                time.sleep(2)

    def leftovers(self) -> list[str]:
        names = self.kubectl("get", "namespaces", "-o", "name").stdout.split()
        left = [n for n in names if n.startswith(f"namespace/{self.prefix}-")]
        left += [b for b in self.kubectl("get", "rolebindings", "-n", "istio-system", "-o", "name").stdout.split()
                 if self.prefix in b]
        left += [b for b in self.kubectl("get", "clusterrolebindings", "-o", "name").stdout.split() if self.prefix in b]
        return left
