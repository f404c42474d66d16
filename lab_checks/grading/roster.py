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


# A roster is a class list: 4 MiB is some 40,000 students. Read at most that (a roster on
# /dev/zero or a huge file would fill memory before anything could be said about it).
ROSTER_LIMIT = 4 << 20


def single_target(kubeconfig: str, context: str | None, namespace: str | None, student: str | None,
                  files: str | None = None) -> Target:
    path = _existing(_expand(kubeconfig, "--kubeconfig"), "--kubeconfig")
    folder = _folder(_expand(files, "--files"), "--files") if files else None
    return Target(student or path.stem, path, context or None, namespace or None, folder)


def load_roster(path: str) -> list[Target]:
    roster = _expand(path, "roster")
    if not _is_file(roster):
        raise RosterError(f"roster {roster}: no such file")
    try:
        with roster.open("rb") as f:
            data = f.read(ROSTER_LIMIT + 1)
        if len(data) > ROSTER_LIMIT:
            raise RosterError(f"roster {roster}: larger than {ROSTER_LIMIT >> 20} MiB")
        # utf-8-sig: a roster saved by a spreadsheet or Notepad starts with a byte order mark
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"roster {roster}: cannot read it ({exc.__class__.__name__})") from None
    rows = _csv_rows(text, roster) if roster.suffix.lower() == ".csv" else _yaml_rows(text, roster)
    if not rows:
        raise RosterError(f"roster {roster}: lists no student")
    targets, seen = [], set()
    for number, row in enumerate(rows, 1):
        where = f"roster {roster}, entry {number}"
        unknown = sorted(repr(k) if not isinstance(k, str) else k for k in set(row) - set(FIELDS))
        if unknown:
            raise RosterError(f"{where}: unknown field(s) {', '.join(unknown)} (fields: {', '.join(FIELDS)})")
        student = _field(row.get("student"), "student", where)
        if not student:
            raise RosterError(f"{where}: no student id")
        if student in seen:
            raise RosterError(f"{where}: student {student!r} is listed twice")
        seen.add(student)
        where = f"{where} ({student})"
        values = {name: _field(row.get(name), name, where) for name in FIELDS[1:]}
        if not values["kubeconfig"]:
            raise RosterError(f"{where}: no kubeconfig")
        kubeconfig = _existing(_relative(roster, values["kubeconfig"], f"{where}: kubeconfig"),
                               f"{where}: kubeconfig")
        files = (_folder(_relative(roster, values["files"], f"{where}: files"), f"{where}: files")
                 if values["files"] else None)
        targets.append(Target(student, kubeconfig, values["context"], values["namespace"], files))
    return targets


def _field(value, name: str, where: str) -> str | None:
    """A roster value as text: a string, or a whole number (student numbers, numeric namespaces:
    YAML reads `42` as one); missing or empty is None. Anything else is a mistake worth naming
    (a list, a mapping, true, 1.5 or a date that YAML typed on its own), not str() of it."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10 ** 100:   # str() of a 4,300-digit int raises; no id is that long
            raise RosterError(f"{where}: {name} is a number with more than 100 digits")
        value = str(value)
    if not isinstance(value, str):
        kind = {dict: "a mapping", list: "a list", bool: "true/false", float: "a decimal number"}.get(
            type(value), f"a {type(value).__name__}")
        raise RosterError(f"{where}: {name} must be text, not {kind} (quote it in YAML)")
    value = value.strip()
    if "\0" in value:
        raise RosterError(f"{where}: {name} holds a NUL character")
    return value or None


def _yaml_rows(text: str, roster: Path) -> list[dict]:
    try:
        # libyaml's parser where PyYAML has it: it refuses nesting beyond 1000 levels at once, where
        # the pure-Python one recurses into a RecursionError after a second or more of work.
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loaders
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        if "nesting depth" in str(getattr(exc, "problem", "")):
            raise RosterError(f"roster {roster}: not a roster (nested too deeply){at}") from None
        raise RosterError(f"roster {roster}: not valid YAML{at}") from None
    except RecursionError:   # the parser recurses once per level: [[[[... thousands deep
        raise RosterError(f"roster {roster}: not a roster (nested too deeply)") from None
    except Exception as exc:  # a YAML constructor's own error: a 5,000-digit int, the date 2024-13-45
        raise RosterError(f"roster {roster}: not valid YAML ({type(exc).__name__}: {_first_line(exc)})") from None
    if isinstance(data, dict) and "students" in data:
        data = data["students"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise RosterError(f"roster {roster}: expected a list of students (mappings with {', '.join(FIELDS)})")
    return data


def _csv_rows(text: str, roster: Path) -> list[dict]:
    reader = csv.DictReader(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
    rows = []
    try:
        if not reader.fieldnames or "student" not in [f.strip() for f in reader.fieldnames]:
            raise RosterError(f"roster {roster}: the CSV needs a header row naming {', '.join(FIELDS)}")
        for row in reader:
            if None in row:
                raise RosterError(f"roster {roster}, line {reader.line_num}: more cells than header fields")
            rows.append({k.strip(): (v or "").strip() for k, v in row.items()})
    except csv.Error as exc:   # a cell beyond csv.field_size_limit() (128 KiB), a NUL byte, ...
        raise RosterError(f"roster {roster}: not valid CSV ({_first_line(exc)})") from None
    return rows


def _expand(value: str, what: str) -> Path:
    """~ and ~user expanded; an unknown user (or no home directory) is the user's mistake."""
    try:
        return Path(value).expanduser()
    except RuntimeError:
        raise RosterError(f"{what} {value}: cannot expand {value.split('/')[0]!r} (no such user or no home directory)") \
            from None


def _relative(roster: Path, value: str, what: str) -> Path:
    path = _expand(os.path.expandvars(value), what)
    return path if path.is_absolute() else roster.parent / path


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:   # a name too long, say: not a file we can use
        return False


def _existing(path: Path, what: str) -> Path:
    if not _is_file(path):
        raise RosterError(f"{what} {path}: no such file")
    return path.resolve()


def _folder(path: Path, what: str) -> Path:
    try:
        ok = path.is_dir()
    except OSError:
        ok = False
    if not ok:
        raise RosterError(f"{what} {path}: no such directory")
    return path.resolve()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:160]
