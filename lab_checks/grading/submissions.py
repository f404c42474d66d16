"""A student's submitted files (optional): their nginx-pod.yaml and transformed.yaml, and what
`kubectl inject` makes of that nginx-pod.yaml with the student's own cluster configuration
(the injector ConfigMaps, read through the grader's kubeconfig). The rubric compares the two.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lab_checks.grading.cluster_reads import Connection, TargetUnusable

SUBMITTED = ("nginx-pod.yaml", "transformed.yaml")


@dataclass
class Submission:
    nginx_pod: str | None          # None: not submitted
    transformed: str | None
    injected: str | None = None    # kubectl inject's output for nginx_pod
    inject_error: str = ""


def find_kubectl_inject() -> str:
    """This project's plugin: beside this Python (make install), else on PATH."""
    beside = Path(sys.executable).parent / "kubectl-inject"
    return str(beside) if beside.exists() else (shutil.which("kubectl-inject") or "kubectl-inject")


def read_submission(conn: Connection, folder: Path, istio_namespace: str, kubectl_inject: str) -> Submission:
    texts = {}
    for name in SUBMITTED:
        path = folder / name
        try:
            texts[name] = path.read_text() if path.is_file() else None
        except (OSError, UnicodeDecodeError):
            texts[name] = None
    sub = Submission(texts["nginx-pod.yaml"], texts["transformed.yaml"])
    if sub.nginx_pod is None or sub.transformed is None:   # nothing to compare
        return sub
    t = conn.target
    try:
        left = conn.deadline.remaining("kubectl inject")
    except TargetUnusable as exc:   # an optional check: it costs its own point, not the others
        sub.inject_error = str(exc)
        return sub
    argv = [kubectl_inject, "--kubeconfig", str(t.kubeconfig), *(["--context", t.context] if t.context else []),
            "-i", istio_namespace, "--timeout", str(max(1, int(left))), "-f", str(folder / "nginx-pod.yaml")]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=left, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        sub.inject_error = f"it did not finish in the {left:.0f}s left of the time budget"
        return sub
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        sub.inject_error = (lines[-1] if lines else f"exit {proc.returncode}")[:200]
    else:
        sub.injected = proc.stdout
    return sub
