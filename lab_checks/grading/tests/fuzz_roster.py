"""Roster fuzzer for lab-grade (issue 22, class 10), in-process.

Random YAML and CSV rosters, well-formed and mangled, go through the command's own path
(cli.main with --roster, which loads the roster and, for an unusable one, prints one line and
returns 2) and through roster.load_roster directly. The property, for every input:

  * either a valid target list: every student a non-empty str, unique; every kubeconfig an
    existing file; every files entry an existing directory; context and namespace str or None;
  * or exit code 2 with exactly one line on stderr, starting "lab-grade: roster ", no control
    character in it;
  * never another exception (a traceback), and within MAX_SECONDS per input.

A valid roster is never graded (cli.main is only called for the ones load_roster refuses).

  .venv/bin/python lab_checks/grading/tests/fuzz_roster.py --count 300000 [--seed 1]
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

from lab_checks.grading import cli
from lab_checks.grading.roster import FIELDS, RosterError, load_roster

MAX_SECONDS = 2.0
NASTY = ["", " ", "\ufeff", "\x00", "\x1b[31m", "\x07", "\n", "\r\n", "\t", "\u202e", "\x9b", "~", "~nosuchuser-fz/",
         "$HOME", "${NOPE}", "..", "/", "kc.yaml", "sub/kc.yaml", "files", "missing.yaml", "a,b", '"', "'", "#", ":",
         "- ", "[", "{", "&a", "*a", "!!binary", "!!python/object:os.system", "é", "\U0001f600", "2024-13-45", "9" * 5000]


def rand_text(r: random.Random) -> str:
    parts = [r.choice(NASTY) if r.random() < 0.5 else "".join(r.choice("abcxyz019-_./~") for _ in range(r.randint(0, 12)))
             for _ in range(r.randint(0, 4))]
    text = "".join(parts)
    if r.random() < 0.01:
        text += "x" * r.choice([1000, 140_000, 300_000])
    return text


def rand_scalar(r: random.Random):
    kind = r.randint(0, 9)
    if kind <= 3:
        return rand_text(r)
    # (a 5,000-digit int cannot even be dumped: mangle() puts one in the text as NASTY's last item)
    return [lambda: r.randint(-10**6, 10**6), lambda: 10 ** r.choice([49, 99, 100, 101]) - 1,
            lambda: r.choice([r.random() * 10.0 ** r.randint(-5, 300), float("inf"), float("nan")]),
            lambda: r.choice([True, False, None]),
            lambda: datetime.date(2024, 1, 1), lambda: r.choice(["kc.yaml", "sub/kc.yaml", "alice"])][kind - 4]()


def rand_value(r: random.Random, depth: int = 0):
    if depth > 3 or r.random() < 0.7:
        return rand_scalar(r)
    if r.random() < 0.5:
        return [rand_value(r, depth + 1) for _ in range(r.randint(0, 3))]
    return {rand_key(r): rand_value(r, depth + 1) for _ in range(r.randint(0, 3))}


def rand_key(r: random.Random):
    if r.random() < 0.8:
        return r.choice(FIELDS)
    return r.choice([rand_text(r), 1, None, True, "students", "cluster", " student"])


def rand_entry(r: random.Random):
    if r.random() < 0.1:
        return rand_value(r)
    entry = {"student": r.choice([f"s{r.randint(0, 20)}", rand_scalar(r)]) if r.random() < 0.95 else None,
             "kubeconfig": r.choice(["kc.yaml", "sub/kc.yaml", "missing.yaml", rand_scalar(r)])}
    for key in r.sample(FIELDS[2:], r.randint(0, 3)):
        entry[key] = r.choice(["files", rand_scalar(r), None]) if key == "files" else rand_scalar(r)
    if r.random() < 0.1:
        entry[rand_key(r)] = rand_value(r)
    return entry


def yaml_roster(r: random.Random) -> str:
    entries = [rand_entry(r) for _ in range(r.randint(0, 6))]
    data = {"students": entries} if r.random() < 0.3 else entries
    try:
        text = yaml.safe_dump(data, allow_unicode=r.random() < 0.5, default_flow_style=r.choice([None, True, False]))
    except (yaml.YAMLError, ValueError):
        text = str(data)
    return mangle(r, text)


def csv_roster(r: random.Random) -> str:
    header = r.sample(list(FIELDS) + ["cluster", "", " student "], r.randint(0, 6))
    if r.random() < 0.8 and "student" not in header:
        header.insert(0, "student")
    lines = [",".join(header)]
    for _ in range(r.randint(0, 6)):
        cells = []
        for _ in range(r.randint(0, len(header) + 2)):
            cell = r.choice(["kc.yaml", "sub/kc.yaml", f"s{r.randint(0, 9)}", "files", "", rand_text(r)])
            if r.random() < 0.2:
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        lines.append(",".join(cells))
    if r.random() < 0.2:
        lines.insert(r.randint(0, len(lines)), "# comment " + rand_text(r))
    return mangle(r, "\n".join(lines) + "\n")


def mangle(r: random.Random, text: str) -> str:
    roll = r.random()
    if roll < 0.05:
        return "\ufeff" + text
    if roll < 0.10 and text:
        i = r.randrange(len(text))
        return text[:i] + r.choice(NASTY) + text[i + 1:]
    if roll < 0.13 and text:
        return text[:r.randrange(len(text))]
    if roll < 0.15:
        depth = r.choice([10, 900, 5000, 50_000])
        return r.choice(["[", "{a: ", "- "]) * depth + text
    if roll < 0.17:
        return "a: &x [" + "*x, " * r.randint(1, 50) + "1]\nstudents: *x\n"
    return text


def check(result, folder: Path) -> str | None:
    """None if `result` (a target list) is valid, else what is wrong."""
    seen = set()
    for t in result:
        if not isinstance(t.student, str) or not t.student or t.student in seen:
            return f"bad student {t.student!r}"
        seen.add(t.student)
        if not t.kubeconfig.is_file():
            return f"kubeconfig not a file: {t.kubeconfig}"
        if t.files is not None and not t.files.is_dir():
            return f"files not a directory: {t.files}"
        for v in (t.context, t.namespace):
            if v is not None and (not isinstance(v, str) or not v):
                return f"bad context/namespace {v!r}"
    return None


def run_cli(path: Path) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["--roster", str(path)])
    return code, err.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    r = random.Random(args.seed)
    violations, valid, refused, slowest = 0, 0, 0, 0.0
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fuzz-roster-") as tmp:
        folder = Path(tmp)
        (folder / "sub").mkdir()
        (folder / "files").mkdir()
        (folder / "kc.yaml").write_text("apiVersion: v1\n")
        (folder / "sub" / "kc.yaml").write_text("apiVersion: v1\n")
        paths = {"yaml": folder / "class.yaml", "csv": folder / "class.csv"}
        for i in range(args.count):
            kind = "csv" if r.random() < 0.4 else "yaml"
            text = csv_roster(r) if kind == "csv" else yaml_roster(r)
            paths[kind].write_bytes(text.encode("utf-8", "surrogatepass"))
            start = time.monotonic()
            problem = None
            try:
                targets = load_roster(str(paths[kind]))
                problem = check(targets, folder)
                valid += 1
            except RosterError:
                refused += 1
                code, err = run_cli(paths[kind])
                if code != 2 or err.count("\n") != 1 or not err.startswith("lab-grade: roster ") \
                        or any(ord(c) < 32 and c != "\n" or 0x7f <= ord(c) <= 0x9f for c in err):
                    problem = f"cli: exit {code}, stderr {err[:300]!r}"
            except BaseException as exc:   # noqa: BLE001 - any other exception is what we hunt
                problem = f"{type(exc).__name__}: {str(exc)[:200]}"
            took = time.monotonic() - start
            slowest = max(slowest, took)
            if took > MAX_SECONDS:
                problem = problem or f"took {took:.1f}s"
            if problem:
                violations += 1
                if violations <= 20:
                    print(f"VIOLATION #{i} ({kind}): {problem}\n  input: {text[:300]!r}", file=sys.stderr)
            if (i + 1) % 50_000 == 0:
                print(f"{i + 1} inputs, {violations} violations, {time.monotonic() - t0:.0f}s", file=sys.stderr)
    print(f"roster fuzzer: {args.count} inputs (seed {args.seed}): {valid} valid target lists, {refused} refused "
          f"with one line and exit 2, {violations} violations; slowest input {slowest:.2f}s; "
          f"{time.monotonic() - t0:.0f}s in all")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
