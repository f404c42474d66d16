"""Benchmark of lab-grade on the hermetic cluster: the time to grade one target and a class of 30.

Not a test: it prints wall-clock times (median of --repeat runs of the installed `lab-grade`, a
fresh process each time, as an instructor runs it). The class is --students namespaces of the
kind cluster, each a student who completed the lab (the most work for the grader: every read
plus `kubectl exec ... ps -ef`), each graded through its own ServiceAccount kubeconfig.
Goals (issue 11): one target <= 5 s, 30 targets <= 60 s on the 2-core machine.

  make grade-bench                  # or: .venv/bin/python bench/bench_grade.py --students 30 --repeat 3
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab_checks" / "grading" / "tests"))

from classroom import Classroom, cluster_kubeconfig, lab_grade  # noqa: E402


def timed_grade(*args: str) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "grades.json"
        t0 = time.monotonic()
        proc = lab_grade(*args, "--json", str(report), "--quiet")
        seconds = time.monotonic() - t0
        if proc.returncode != 0:
            raise SystemExit(f"lab-grade failed: {proc.stderr.strip()}")
        return seconds, json.loads(report.read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=8, help="lab-grade --jobs (default 8, lab-grade's default)")
    args = ap.parse_args()

    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        room = Classroom(cluster_kubeconfig(), Path(tmp), prefix="gbench")
        try:
            first = room.add("complete", "student-01")
            with ThreadPoolExecutor(2) as pool:   # set-up only; gentle on the 2-core machine
                students = [first] + list(pool.map(lambda i: room.add("complete", f"student-{i:02d}"),
                                                   range(2, args.students + 1)))
                # Thirty sidecars on a 2-CPU node: each requests 10m CPU instead of the default 100m.
                list(pool.map(lambda s: room.start(s, cheap_sidecar=True), students))
                list(pool.map(lambda s: room.settle(s, timeout=600), students))
            print(f"set-up: {len(students)} students with the lab done in {time.monotonic() - t0:.0f}s", flush=True)
            roster = room.roster(Path(tmp) / "class.yaml")

            one, many = [], []
            for _ in range(args.repeat):
                seconds, report = timed_grade("--kubeconfig", str(first.kubeconfig), "--student", first.name)
                assert report["students"][0]["points"] == 10, report
                one.append(seconds)
                seconds, report = timed_grade("--roster", str(roster), "--jobs", str(args.jobs))
                wrong = [s["student"] for s in report["students"] if s["points"] != s["max_points"]]
                assert not wrong, f"not 10/10 although the lab was done: {wrong}"
                many.append(seconds)
            print(f"1 target:  median {statistics.median(one):.2f}s  (runs: {', '.join(f'{s:.2f}' for s in one)}); "
                  "goal <= 5 s")
            print(f"{len(students)} targets: median {statistics.median(many):.2f}s  "
                  f"(runs: {', '.join(f'{s:.2f}' for s in many)}; --jobs {args.jobs}); goal <= 60 s")
        finally:
            room.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
