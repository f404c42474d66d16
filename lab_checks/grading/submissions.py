"""A student's submitted files (optional): their nginx-pod.yaml and transformed.yaml, and what
`kubectl inject` makes of that nginx-pod.yaml with the student's own cluster configuration
(the injector ConfigMaps, read through the grader's kubeconfig). The rubric compares the two.
"""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from lab_checks.grading import children
from lab_checks.grading.cluster_reads import Connection, TargetUnusable
from lab_checks.grading.kubeclient import KubeconfigProblem, read_capped

SUBMITTED = ("nginx-pod.yaml", "transformed.yaml")
SUBMITTED_LIMIT = 1 << 20    # bytes per submitted file (the lab's are under 4 KB)
INJECTED_LIMIT = 16 << 20    # kubectl inject's output (an injected Pod is about ten times its input)


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
    texts, problems = {}, []
    for name in SUBMITTED:
        texts[name] = None
        try:
            texts[name] = read_capped(folder / name, SUBMITTED_LIMIT, name).decode("utf-8")
        except KubeconfigProblem as exc:   # too large, not a regular file: say so (absent: rubric says it)
            if (folder / name).exists():
                problems.append(str(exc))
        except UnicodeDecodeError:
            problems.append(f"{name} is not UTF-8 text")
    sub = Submission(texts["nginx-pod.yaml"], texts["transformed.yaml"])
    if problems:
        sub.inject_error = "; ".join(problems)
        return sub
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
        proc = children.run(argv, timeout=left, limit=INJECTED_LIMIT)
    except OSError as exc:
        sub.inject_error = f"cannot run kubectl inject: {exc.strerror or exc}"
        return sub
    if proc.timed_out:
        sub.inject_error = f"it did not finish in the {left:.0f}s left of the time budget"
        return sub
    if proc.too_long:
        sub.inject_error = f"it printed more than {INJECTED_LIMIT >> 20} MiB (stopped)"
        return sub
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        sub.inject_error = (lines[-1] if lines else f"exit {proc.returncode}")[:200]
    else:
        sub.injected = proc.stdout
    return sub
