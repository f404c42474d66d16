"""The class's grades as a terminal table, CSV, JSON and JUnit XML.

Reports name students, namespaces and contexts, never a kubeconfig's path or content (they hold
credentials). Files are written whole or not at all (a temporary file renamed into place); FIFOs,
devices and symbolic links are written through (write()). Text from students' clusters is
escaped for the terminal in the table and made valid XML 1.0 in the JUnit report (safe_text).
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import stat
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from lab_checks.grading import signals
from lab_checks.grading.runner import StudentGrade
from lab_checks.grading.safe_text import encodable, terminal, xml


def _checks(grades: list[StudentGrade]) -> list:
    return grades[0].results if grades else []


def table(grades: list[StudentGrade], checkpoint: str, seconds: float) -> str:
    """Student × check points, the total, then one line per lost point's reason."""
    checks = _checks(grades)
    head = ["student", *[c.id for c in checks], "total"]
    rows = [[terminal(g.student), *[f"{r.points}/{r.max_points}" for r in g.results], f"{g.points}/{g.max_points}"]
            for g in grades]
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]

    def line(cells):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    graded = sum(1 for g in grades if g.graded)
    student = {id(g): terminal(g.student) for g in grades}
    out = [f"lab-grade, checkpoint {checkpoint}: {len(grades)} students, {graded} graded, "
           f"{len(grades) - graded} not reachable or not usable, {seconds:.1f}s",
           line(head), "  ".join("-" * w for w in widths), *[line(r) for r in rows]]
    reasons = []
    for g in grades:
        if not g.graded:
            reasons.append(f"{student[id(g)]}: not graded: {terminal(g.results[0].reason)}")
            continue
        for r in g.results:
            if r.reason:
                reasons.append(f"{student[id(g)]} {r.id} ({r.points}/{r.max_points}): {terminal(r.reason)}")
            if r.note:
                reasons.append(f"{student[id(g)]} {r.id}: note: {terminal(r.note)}")
    if reasons:
        out += ["", "reasons:", *["  " + r for r in reasons]]
    out += ["", "checks: " + "; ".join(f"{c.id} = {c.title} ({c.max_points})" for c in checks)]
    return "\n".join(out) + "\n"


def to_json(grades: list[StudentGrade], checkpoint: str, seconds: float) -> str:
    return json.dumps({
        "checkpoint": checkpoint,
        "seconds": round(seconds, 2),
        "checks": [{"id": c.id, "title": c.title, "points": c.max_points} for c in _checks(grades)],
        "students": [{
            "student": g.student, "namespace": g.namespace, "context": g.context, "graded": g.graded,
            "points": g.points, "max_points": g.max_points, "seconds": round(g.seconds, 2),
            "checks": [{"id": r.id, "points": r.points, "max_points": r.max_points, "passed": r.passed,
                        "reason": r.reason, "note": r.note} for r in g.results],
        } for g in grades],
    }, indent=2) + "\n"


def to_csv(grades: list[StudentGrade], checkpoint: str) -> str:
    """One row per student: points per check, total, and the reasons in one cell."""
    checks = _checks(grades)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", "namespace", "checkpoint", *[c.id for c in checks], "total", "max", "graded", "reasons"])
    for g in grades:
        reasons = "; ".join(f"{r.id}: {r.reason}" for r in g.results if r.reason)
        writer.writerow([encodable(g.student), encodable(g.namespace or ""), checkpoint, *[r.points for r in g.results],
                         g.points, g.max_points, "yes" if g.graded else "no", encodable(reasons)])
    return buf.getvalue()


def to_junit(grades: list[StudentGrade], checkpoint: str, seconds: float) -> str:
    """One test case per student and check (classname: the student); lost points are failures,
    an ungradable cluster is an error on each of its checks."""
    cases = [(g, r) for g in grades for r in g.results]
    suite = ET.Element("testsuite", name=f"lab-grade {checkpoint}", tests=str(len(cases)),
                       failures=str(sum(1 for _, r in cases if not r.passed and not r.error)),
                       errors=str(sum(1 for _, r in cases if r.error)), time=f"{seconds:.2f}")
    for g, r in cases:
        case = ET.SubElement(suite, "testcase", classname=xml(g.student), name=f"{r.id}: {r.title}",
                             time=f"{g.seconds / max(1, len(g.results)):.3f}")
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", name="points", value=str(r.points))
        ET.SubElement(props, "property", name="max_points", value=str(r.max_points))
        if r.note:
            ET.SubElement(props, "property", name="note", value=xml(r.note))
        if r.error:
            ET.SubElement(case, "error", message=xml(r.reason), type="not graded")
        elif not r.passed:
            ET.SubElement(case, "failure", message=xml(r.reason), type=f"{r.points}/{r.max_points} points")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write(path: str | Path, text: str):
    """Write a report as `kubectl inject -o` writes (plugin/kubectl_inject/output.py):

    * standard output itself (`/dev/stdout`, or a path to the file stdout goes to): to stdout;
    * a FIFO, a device (`/dev/null`), a socket: written through, never replaced by a regular file;
    * a symbolic link: at the file it points to, so the link stays a link;
    * a regular file, or none yet: a temporary file beside it, fsync, rename (a reader never sees
      half a report, a failure or signal leaves the old one), keeping the old file's mode.
    A regular file with other hard links is replaced too (its other names keep the old report).
    """
    path = os.fspath(path)
    data = text.encode("utf-8")
    try:
        st = os.stat(path)     # follows symbolic links
    except FileNotFoundError:
        st = None
    if st is not None and _is_stdout(st):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    if st is not None and not stat.S_ISREG(st.st_mode):
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))   # no O_TRUNC, no O_CREAT: it is there
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return
    real = os.path.realpath(path) if os.path.islink(path) else path
    directory = os.path.dirname(os.path.abspath(real))
    os.makedirs(directory, exist_ok=True)
    staged = []
    try:
        with signals.held():   # the name is recorded before a signal can end the run
            fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(real)}.", suffix=".tmp", dir=directory)
            staged.append(tmp)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, (st.st_mode & 0o7777) if st is not None else 0o666 & ~_umask())
        with signals.held():
            os.replace(tmp, real)
            staged.clear()
    finally:
        for tmp in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _is_stdout(st) -> bool:
    try:
        out = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
