"""Who is graded: a target is a kubeconfig, optionally a context and a namespace, under a student id.

A roster lists a class, as YAML (a list of mappings, or {students: [...]}) or CSV (a header row),
with the fields student, kubeconfig, context, namespace and files (a folder of the student's
submitted nginx-pod.yaml and transformed.yaml). Relative paths are relative to the roster file.
Every problem is a RosterError with one line that names the file and the entry.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

FIELDS = ("student", "kubeconfig", "context", "namespace", "files")


class RosterError(ValueError):
    """The roster or a target cannot be used as given (one line, for the user)."""


@dataclass(frozen=True)
class Target:
    student: str
    kubeconfig: Path
    context: str | None = None
    namespace: str | None = None     # None: the context's namespace, else "default"
    files: Path | None = None


def single_target(kubeconfig: str, context: str | None, namespace: str | None, student: str | None,
                  files: str | None = None) -> Target:
    path = _existing(Path(kubeconfig).expanduser(), "--kubeconfig")
    folder = _folder(Path(files).expanduser(), "--files") if files else None
    return Target(student or path.stem, path, context or None, namespace or None, folder)


def load_roster(path: str) -> list[Target]:
    roster = Path(path).expanduser()
    if not roster.is_file():
        raise RosterError(f"roster {roster}: no such file")
    try:
        text = roster.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"roster {roster}: cannot read it ({exc.__class__.__name__})") from None
    rows = _csv_rows(text, roster) if roster.suffix.lower() == ".csv" else _yaml_rows(text, roster)
    if not rows:
        raise RosterError(f"roster {roster}: lists no student")
    targets, seen = [], set()
    for number, row in enumerate(rows, 1):
        where = f"roster {roster}, entry {number}"
        unknown = sorted(set(row) - set(FIELDS))
        if unknown:
            raise RosterError(f"{where}: unknown field(s) {', '.join(unknown)} (fields: {', '.join(FIELDS)})")
        student = str(row.get("student") or "").strip()
        if not student:
            raise RosterError(f"{where}: no student id")
        if student in seen:
            raise RosterError(f"{where}: student {student!r} is listed twice")
        seen.add(student)
        if not row.get("kubeconfig"):
            raise RosterError(f"{where} ({student}): no kubeconfig")
        kubeconfig = _existing(_relative(roster, row["kubeconfig"]), f"{where} ({student}): kubeconfig")
        files = _folder(_relative(roster, row["files"]), f"{where} ({student}): files") if row.get("files") else None
        targets.append(Target(student, kubeconfig, _text(row.get("context")), _text(row.get("namespace")), files))
    return targets


def _yaml_rows(text: str, roster: Path) -> list[dict]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise RosterError(f"roster {roster}: not valid YAML{at}") from None
    if isinstance(data, dict) and "students" in data:
        data = data["students"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise RosterError(f"roster {roster}: expected a list of students (mappings with {', '.join(FIELDS)})")
    return data


def _csv_rows(text: str, roster: Path) -> list[dict]:
    reader = csv.DictReader(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
    if not reader.fieldnames or "student" not in [f.strip() for f in reader.fieldnames]:
        raise RosterError(f"roster {roster}: the CSV needs a header row naming {', '.join(FIELDS)}")
    rows = []
    for row in reader:
        if None in row:
            raise RosterError(f"roster {roster}, line {reader.line_num}: more cells than header fields")
        rows.append({k.strip(): (v or "").strip() for k, v in row.items()})
    return rows


def _relative(roster: Path, value) -> Path:
    path = Path(os.path.expandvars(str(value))).expanduser()
    return path if path.is_absolute() else roster.parent / path


def _existing(path: Path, what: str) -> Path:
    if not path.is_file():
        raise RosterError(f"{what} {path}: no such file")
    return path.resolve()


def _folder(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise RosterError(f"{what} {path}: no such directory")
    return path.resolve()


def _text(value) -> str | None:
    value = "" if value is None else str(value).strip()
    return value or None
