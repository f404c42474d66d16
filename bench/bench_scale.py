#!/usr/bin/env python3
"""How kubectl inject's time and peak memory grow with the input (issue 14, item 8), side by side
with a real istioctl kube-inject. A benchmark, not a test: it reports numbers, it passes or fails
on nothing but identical outputs.

Inputs, each generated at 1, 10 and 100 MiB (--sizes):

  Deployments        a stream of Deployments, each inject_testkit's deployment(i) with an `env`
                     list in its app container that brings it to about 64 KiB (--doc-kib), so
                     that 100 MiB (about 1,600 Deployments) takes minutes, not hours
  small Deployments  a stream of inject_testkit's deployment(i) as they are (about 0.7 KiB:
                     1 MiB is about 1,500 of them); 1 and 10 MiB by default (--small-sizes),
                     100 MiB would take about ten minutes per tool here
  single Pod         one Pod whose container has an `env` list of the size asked for; 1, 10 and
                     30 MiB (--pod-sizes), as kubectl inject refuses a document over 32 MiB;
                     a 100 MiB Pod is run too, to show that it is refused at once

Each tool runs once per input (--repeat for more; the medians are reported), in a fresh process
with the project's built-in config files of the istioctl's release (as bench_inject.py passes
them; istioctl gets `-r default`, without which 1.29+ waits for a cluster), stdout to a file.
Both stdouts are compared byte for byte; a difference stops the run. Peak RSS is the process's
ru_maxrss (os.wait4).

Reported per input: wall time, CPU time (user+sys: on a shared machine it moves far less than
wall time), CPU seconds per MiB of input, peak RSS, peak RSS / input size, and the slopes between
consecutive sizes (Δ CPU s/ΔMiB, ΔRSS/ΔMiB): linear growth shows as slopes that stay the same
from 1→10 to 10→100 MiB. Writes docs/benchmarks-scale.md (--markdown).

  --baseline DIR  also run the kubectl_inject package found in DIR (say, an older commit's
                  plugin/ from `git archive`) on inputs up to --baseline-max-mib, for a "before"

usage: bench/bench_scale.py --istioctl PATH [--sizes 1,10,100] [--small-sizes 1,10]
                            [--pod-sizes 1,10,30] [--repeat 1] [--no-istioctl] [--baseline DIR]
"""
from __future__ import annotations

import argparse
import datetime
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "plugin", "tests"))
from inject_testkit import deployment  # noqa: E402  (the bulk input of make bench)

KUBECTL_INJECT = os.path.join(ROOT, ".venv", "bin", "kubectl-inject")
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
BUILTIN = os.path.join(ROOT, "plugin", "kubectl_inject", "builtin")
MIB = 2**20


# ---------------------------------------------------------------- inputs

def env_entries(start: int, count: int, indent: str) -> str:
    return "".join(f'{indent}- name: SETTING_{j:07d}\n{indent}  value: "value {j}: abcdefghijklmnopqrstuvwxyz"\n'
                   for j in range(start, start + count))


def small_deployment(i: int) -> str:
    """deployment(i) as a document of a stream."""
    return deployment(i) + "---\n"


def big_deployment(i: int, doc_bytes: int) -> str:
    """deployment(i) with an env list in its app container bringing it to about doc_bytes."""
    text = small_deployment(i)
    anchor = "        ports:\n"
    one = len(env_entries(0, 1, "        "))
    count = max(1, (doc_bytes - len(text)) // one)
    head, tail = text.split(anchor, 1)
    return head + "        env:\n" + env_entries(i * count, count, "        ") + anchor + tail


def write_stream(path: str, size: int, make) -> int:
    """make(i) for i = 0, 1, ... until the file holds `size` bytes; the number of documents."""
    written = n = 0
    with open(path, "w") as f:
        while written < size:
            text = make(n)
            f.write(text)
            written += len(text)
            n += 1
    return n


POD_HEAD = """\
apiVersion: v1
kind: Pod
metadata:
  name: big
  labels:
    app: big
spec:
  containers:
  - name: app
    image: registry.example/app:1
    ports:
    - containerPort: 8080
    env:
"""


def write_pod(path: str, size: int) -> int:
    """One Pod of `size` bytes (its env list); the number of env entries."""
    with open(path, "w") as f:
        f.write(POD_HEAD)
        written, j, block = len(POD_HEAD), 0, 1000
        one = len(env_entries(0, 1, "    "))
        while written < size:
            count = min(block, max(1, (size - written) // one))
            text = env_entries(j, count, "    ")
            f.write(text)
            written += len(text)
            j += count
    return j


# ---------------------------------------------------------------- runs

@dataclass
class Sample:
    wall: float
    cpu: float  # user + system seconds
    rss_mib: float
    code: int
    out: str  # path of its stdout
    err: str


def run(argv: list, env: dict, out: str) -> Sample:
    with open(out, "wb") as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        stderr.seek(0)
        err = stderr.read().decode(errors="replace").strip()
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                  os.waitstatus_to_exitcode(status), out, err)


@dataclass
class Result:
    tool: str
    wall: float
    cpu: float
    rss_mib: float
    code: int
    err: str


def measure(tools: dict, path: str, env: dict, repeat: int, tmp: str, refused: bool = False) -> dict:
    """Each tool `repeat` times on path, interleaved; the median wall and RSS per tool. Stops
    the run if the outputs differ (or one tool fails where another succeeds), unless the input
    is one kubectl inject is meant to refuse (`refused`: then it must fail)."""
    samples = {name: [] for name in tools}
    for r in range(repeat):
        for name, argv in tools.items():
            samples[name].append(run([*argv, "-f", path], env, os.path.join(tmp, f"out-{name}-{r}")))
        codes = {name: s[-1].code for name, s in samples.items()}
        if refused:
            if codes.get("kubectl inject", 1) == 0:
                sys.exit(f"bench: kubectl inject accepted {path}, which it should refuse")
        elif len(set(c == 0 for c in codes.values())) > 1:
            sys.exit(f"bench: exit codes differ on {path}: {codes}; "
                     + "; ".join(f"{n}: {s[-1].err[-300:]}" for n, s in samples.items()))
        if not refused and all(c == 0 for c in codes.values()):
            first, *others = (s[-1].out for s in samples.values())
            for other in others:
                if not filecmp.cmp(first, other, shallow=False):
                    sys.exit(f"bench: outputs differ on {path} ({first} vs {other})")
        for s in samples.values():
            os.unlink(s[-1].out)
    return {name: Result(name, statistics.median(x.wall for x in s), statistics.median(x.cpu for x in s),
                         statistics.median(x.rss_mib for x in s), s[-1].code, s[-1].err)
            for name, s in samples.items()}


# ---------------------------------------------------------------- report

def table(title: str, unit: str, rows: list, tools: list) -> str:
    """rows: (input MiB, description, {tool: Result})."""
    lines = [f"### {title}", "",
             "| input | tool | wall time | CPU time | CPU s / MiB | Δ CPU s / ΔMiB | peak RSS | RSS / input | ΔRSS / ΔMiB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for tool in tools:
        previous = None
        for mib, what, results in rows:
            r = results.get(tool)
            if r is None:
                continue
            if r.code != 0:
                lines.append(f"| {what} | {tool} | {r.wall:.2f} s | {r.cpu:.2f} s | | | {r.rss_mib:.0f} MiB | | "
                             f"exit {r.code}: {r.err.splitlines()[-1][:60] if r.err else ''}... |")
                continue
            cpu_slope = rss_slope = ""
            if previous is not None:
                pm, pr = previous
                cpu_slope = f"{(r.cpu - pr.cpu) / (mib - pm):.2f}"
                rss_slope = f"{(r.rss_mib - pr.rss_mib) / (mib - pm):.2f}"
            lines.append(f"| {what} | {tool} | {r.wall:.2f} s | {r.cpu:.2f} s | {r.cpu / mib:.2f} | {cpu_slope} | "
                         f"{r.rss_mib:.0f} MiB | {r.rss_mib / mib:.1f}× | {rss_slope} |")
            previous = (mib, r)
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--istioctl", help="the istioctl to compare with (make istioctl-path)")
    ap.add_argument("--no-istioctl", action="store_true", help="kubectl inject alone")
    ap.add_argument("--sizes", default="1,10,100", help="MiB of the Deployments stream")
    ap.add_argument("--doc-kib", type=int, default=64, help="size of one Deployment of that stream")
    ap.add_argument("--small-sizes", default="1,10", help="MiB of the small-Deployments stream ('' for none)")
    ap.add_argument("--pod-sizes", default="1,10,30", help="MiB of the single Pod ('' for none)")
    ap.add_argument("--refused-pod-mib", type=int, default=100, help="an oversized Pod, refused (0: skip)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--baseline", help="a plugin/ directory holding another kubectl_inject to run too")
    ap.add_argument("--baseline-max-mib", type=float, default=10)
    ap.add_argument("--version", default=None, help="the built-in config release (default: the istioctl's)")
    ap.add_argument("--markdown", default=os.path.join(ROOT, "docs", "benchmarks-scale.md"))
    ap.add_argument("--tmp", default=None, help="where inputs and outputs go (they take a few hundred MiB)")
    args = ap.parse_args()
    if not os.path.exists(KUBECTL_INJECT):
        print(f"bench: need {KUBECTL_INJECT} (make install)", file=sys.stderr)
        return 2
    use_istioctl = not args.no_istioctl
    if use_istioctl and not (args.istioctl and os.access(args.istioctl, os.X_OK)):
        print("bench: need --istioctl PATH (make istioctl-path), or --no-istioctl", file=sys.stderr)
        return 2
    version = args.version
    if version is None and use_istioctl:
        version = subprocess.run([args.istioctl, "version", "--remote=false"], capture_output=True,
                                 text=True).stdout.strip().split()[-1]
    version = version or "1.30.4"
    config_dir = os.path.join(BUILTIN, version)
    files = ["--injectConfigFile", os.path.join(config_dir, "template.yaml"),
             "--valuesFile", os.path.join(config_dir, "values.yaml"),
             "--meshConfigFile", os.path.join(config_dir, "mesh.yaml")]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir(),
           "KUBECONFIG": "/nonexistent", "ENABLE_NATIVE_SIDECARS": "false"}
    tools = {"kubectl inject": [KUBECTL_INJECT, *files]}
    if use_istioctl:
        tools["istioctl"] = [args.istioctl, "kube-inject", "-r", "default", *files]
    baseline_env = None
    if args.baseline:
        baseline_env = dict(env, PYTHONPATH=os.path.abspath(args.baseline))

    def sizes(text):
        return [float(s) for s in text.split(",") if s.strip()]

    sections = []
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        def series(title, unit, inputs, refused_from=float("inf")):
            rows = []
            for mib, make in inputs:
                refused = mib >= refused_from
                path = os.path.join(tmp, "input.yaml")
                what = make(path, int(mib * MIB))
                size = os.path.getsize(path) / MIB
                # istioctl reads a document of any size (a 33 MiB Pod took it 76 s and 2.1 GB
                # here): not run on the refused one
                run_tools = {"kubectl inject": tools["kubectl inject"]} if refused else tools
                results = measure(run_tools, path, env, args.repeat, tmp, refused)
                if baseline_env is not None and (mib <= args.baseline_max_mib or refused):
                    base = measure({"before": [PYTHON, "-m", "kubectl_inject", *files]}, path, baseline_env,
                                   args.repeat, tmp, refused)
                    results.update(base)
                rows.append((size, f"{size:.3g} MiB ({what}{'; refused by kubectl inject' if refused else ''})",
                             results))
                for r in results.values():
                    print(f"{title}, {size:.3g} MiB: {r.tool}: {r.wall:.2f} s, CPU {r.cpu:.2f} s, {r.rss_mib:.0f} MiB"
                          + (f", exit {r.code}" if r.code else ""), flush=True)
                os.unlink(path)
            names = [*tools, *(["before"] if baseline_env is not None else [])]
            sections.append(table(title, unit, rows, names))

        doc_bytes = args.doc_kib * 1024
        series(f"Deployments of about {args.doc_kib} KiB each",
               "Deployments",
               [(mib, lambda p, n: f"{write_stream(p, n, lambda i: big_deployment(i, doc_bytes)):,} Deployments")
                for mib in sizes(args.sizes)])
        if sizes(args.small_sizes):
            series("small Deployments (bench_inject.py's, about 0.7 KiB each)", "Deployments",
                   [(mib, lambda p, n: f"{write_stream(p, n, small_deployment):,} Deployments")
                    for mib in sizes(args.small_sizes)])
        pods = [(mib, lambda p, n: f"one Pod, {write_pod(p, n):,} env entries") for mib in sizes(args.pod_sizes)]
        if args.refused_pod_mib:
            pods.append((float(args.refused_pod_mib), lambda p, n: f"one Pod, {write_pod(p, n):,} env entries"))
        if pods:
            series("a single Pod", "Pod", pods, refused_from=args.refused_pod_mib or float("inf"))

    today = datetime.date.today().isoformat()
    istioctl_words = f"istioctl {version} built here (`make istioctl-path`)" if use_istioctl else "no istioctl"
    text = f"""# Scale: time and peak memory against input size

Measured on {today} on the project's 2-core machine (shared with other jobs: read the slopes and
ratios, not the absolute times) by `make bench-scale` (bench/bench_scale.py): kubectl inject and
{istioctl_words}, the project's built-in {version} config files for both, one fresh process per run
({args.repeat} run{'s' if args.repeat > 1 else ''} per tool and input, median), stdout to a file
and compared byte for byte (identical wherever both succeed). Peak RSS: the process's ru_maxrss.
CPU time is user+sys (wall time on this shared machine varies with the other jobs; CPU time
far less). Δ CPU s/ΔMiB and ΔRSS/ΔMiB are the slopes from the size above: linear growth shows as
a slope that stays the same from one size to the next. Issue 14, item 8 asked for this; the design is in
docs/hardening.md ("Limits", document size).

""" + "\n".join(sections) + kept_notes(args.markdown)
    with open(args.markdown, "w") as f:
        f.write(text)
    print(f"bench: wrote {args.markdown}")
    return 0


NOTES_MARKER = "<!-- Notes by hand: make bench-scale keeps everything from this line on; update them with the tables. -->"


def kept_notes(path: str) -> str:
    """The hand-written reading of the tables at the end of the existing file (from
    NOTES_MARKER on), so that regenerating the tables does not delete it."""
    try:
        with open(path, encoding="utf-8") as f:
            old = f.read()
    except OSError:
        return ""
    at = old.find(NOTES_MARKER)
    return "" if at < 0 else "\n" + old[at:]


if __name__ == "__main__":
    sys.exit(main())
