#!/usr/bin/env python3
"""kubectl inject side by side with a real istioctl kube-inject (benchmarks, not tests: they report
numbers and ratios, they do not pass or fail on speed).

Both tools get the same inputs and the same config files (the project's built-in config of the
istioctl's release), and their runs are interleaved (ours, theirs, ours, ...) so that the shared,
noisy machine slows both alike. Every timed run's stdout is compared: a benchmark over different
outputs would measure nothing, so any difference stops the run.

  single Pod, offline   the lab's nginx Pod, config files, a fresh process each run
  single Pod, cluster   the same Pod with the config read from the hermetic cluster (skipped when
                        that cluster does not answer)
  bulk                  N Deployments with varied annotations, probes and containers, one process

Reported: median and spread (min-max) of the wall time, the ratio kubectl inject / istioctl of the
medians, CPU time (user+sys) and peak RSS of each process (os.wait4). Writes docs/benchmarks.md
and, when matplotlib is installed, docs/benchmarks.png (time against input size).

usage: bench/bench_inject.py --istioctl PATH [--repeat 15] [--sizes 10,100,1000,10000] [--jobs N]
                             [--kubeconfig F] [--markdown docs/benchmarks.md] [--chart docs/benchmarks.png]
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "plugin", "tests"))
from inject_testkit import LAB_CACHE, NGINX_POD, deployment  # noqa: E402  (the lab's Pod, the lab cache, the bulk input)

KUBECTL_INJECT = os.path.join(ROOT, ".venv", "bin", "kubectl-inject")
BUILTIN = os.path.join(ROOT, "plugin", "kubectl_inject", "builtin")


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mib: float


@dataclass
class Series:
    samples: list = field(default_factory=list)

    def median(self, attr="wall"):
        return statistics.median(getattr(s, attr) for s in self.samples)

    def spread(self):
        walls = [s.wall for s in self.samples]
        return min(walls), max(walls)

    def peak_rss(self):
        return max(s.rss_mib for s in self.samples)


class RunFailed(Exception):
    """A timed run failed or outlasted its limit (in cluster mode: the cluster being changed)."""


def run(argv: list, env: dict, limit: float | None = None) -> tuple[Sample, str]:
    """One child process: its wall time, CPU time and peak RSS, and its stdout. RunFailed when it
    fails or runs longer than `limit` seconds (then it is killed)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        timer = threading.Timer(limit, proc.kill) if limit else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if proc.returncode != 0:
            why = "killed after %g s" % limit if limit and wall >= limit else err.read().decode().strip()[-300:]
            raise RunFailed(f"{' '.join(argv[:2])} failed: {why}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024), text


def side_by_side(ours: list, theirs: list, env: dict, repeat: int, what: str, limit: float | None = None):
    a, b = Series(), Series()
    for _ in range(repeat):
        sa, out_a = run(ours, env, limit)
        sb, out_b = run(theirs, env, limit)
        if out_a != out_b:
            sys.exit(f"bench: outputs differ on {what}; `make parity` shows where")
        a.samples.append(sa)
        b.samples.append(sb)
    return a, b


def cluster_side_by_side(ours, theirs, env, repeat, kubeconfig, attempts=4):
    """The cluster-mode pair; a run that fails or hangs (the shared cluster being changed: istiod
    scaled down, the API server cut off) starts the pair's series again once the cluster answers,
    at most `attempts` times. (Series, Series) or the last failure as text."""
    failure = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(30)
            if not cluster_answers(kubeconfig):
                failure = "the hermetic cluster stopped answering"
                continue
        try:
            return side_by_side(ours, theirs, env, repeat, "the single Pod in cluster mode", limit=60)
        except RunFailed as err:
            failure = str(err)
            print(f"bench: cluster mode, attempt {attempt + 1}: {failure}", file=sys.stderr, flush=True)
    return failure


def cluster_answers(kubeconfig: str) -> bool:
    kubectl = os.path.join(ROOT, ".venv", "bin", "kubectl")
    if not (os.path.exists(kubeconfig) and os.path.exists(kubectl)):
        return False
    proc = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "--request-timeout", "5s", "get", "--raw",
                           "/readyz"], capture_output=True, text=True)
    return proc.returncode == 0


def row(name, a: Series, b: Series) -> str:
    ratio = a.median() / b.median()
    fmt = lambda s: f"{s.median():.3f} s ({s.spread()[0]:.3f}–{s.spread()[1]:.3f})"
    return (f"| {name} | {fmt(a)} | {fmt(b)} | **{ratio:.2f}×** | {a.median('cpu') / b.median('cpu'):.2f}× | "
            f"{a.peak_rss():.0f} / {b.peak_rss():.0f} MiB |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--istioctl", required=True)
    ap.add_argument("--repeat", type=int, default=15, help="runs of each tool for a single Pod")
    ap.add_argument("--bulk-repeat", type=int, default=3, help="runs of each tool per bulk size")
    ap.add_argument("--jobs", help="KUBECTL_INJECT_JOBS for kubectl inject (1: one process; default: "
                    "its own choice, two processes for 8 documents or more on a 2-core machine)")
    ap.add_argument("--sizes", default="10,100,1000,10000")
    ap.add_argument("--kubeconfig", default=os.path.join(LAB_CACHE, "kubeconfig-istio-lab"))
    ap.add_argument("--markdown", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    ap.add_argument("--chart", default=os.path.join(ROOT, "docs", "benchmarks.png"))
    args = ap.parse_args()
    if not os.access(args.istioctl, os.X_OK) or not os.path.exists(KUBECTL_INJECT):
        print(f"bench: need {args.istioctl} (make istioctl-path) and {KUBECTL_INJECT} (make install)", file=sys.stderr)
        return 2

    version = subprocess.run([args.istioctl, "version", "--remote=false"], capture_output=True,
                             text=True).stdout.strip().split()[-1]
    config_dir = os.path.join(BUILTIN, version)
    files = ["--injectConfigFile", os.path.join(config_dir, "template.yaml"),
             "--valuesFile", os.path.join(config_dir, "values.yaml"),
             "--meshConfigFile", os.path.join(config_dir, "mesh.yaml")]
    offline_env = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir(),
                   "KUBECONFIG": "/nonexistent", "ENABLE_NATIVE_SIDECARS": "false"}
    if args.jobs:
        offline_env["KUBECTL_INJECT_JOBS"] = args.jobs  # (istioctl ignores it)
    # istioctl 1.28+ asks the cluster for its default revision unless told (-r default changes
    # nothing in its output; without it, and without a cluster, it waits forever: releases.py,
    # resolves_default_revision).
    istioctl = [args.istioctl, "kube-inject", "-r", "default"]
    lines, chart = [], {"kubectl inject": [], "istioctl": []}

    with tempfile.TemporaryDirectory() as tmp:
        pod = os.path.join(tmp, "nginx-pod.yaml")
        with open(pod, "w") as f:
            f.write(NGINX_POD)
        try:
            a, b = side_by_side([KUBECTL_INJECT, *files, "-f", pod], [*istioctl, *files, "-f", pod],
                                offline_env, args.repeat, "the single Pod")
        except RunFailed as err:
            sys.exit(f"bench: {err}")
        lines.append(row(f"single Pod, offline config files ({args.repeat} runs each)", a, b))
        print(lines[-1], flush=True)
        # The same with kubectl inject's disk cache off (parse trees and type schema computed
        # again by every run): what a first run ever costs, and what the cache is worth.
        try:
            a, b = side_by_side([KUBECTL_INJECT, *files, "-f", pod], [*istioctl, *files, "-f", pod],
                                dict(offline_env, KUBECTL_INJECT_CACHE_DIR="off"), args.repeat,
                                "the single Pod, cache off")
        except RunFailed as err:
            sys.exit(f"bench: {err}")
        lines.append(row(f"single Pod, offline config files, kubectl inject's disk cache off "
                         f"({args.repeat} runs each)", a, b))
        print(lines[-1], flush=True)

        # Cluster mode second, while this process is small: a child's peak RSS (ru_maxrss) starts
        # at its parent's size when it is forked, so after the bulk runs it would show this
        # process's size. The hermetic cluster is shared (the lab's self-tests break and restore
        # it): a pair that fails or hangs is retried once the cluster answers again.
        name = f"single Pod, config from the hermetic cluster ({args.repeat} runs each)"
        if cluster_answers(args.kubeconfig):
            cluster_env = dict(offline_env, KUBECONFIG=args.kubeconfig)
            cluster_env.pop("ENABLE_NATIVE_SIDECARS")
            result = cluster_side_by_side([KUBECTL_INJECT, "-f", pod], [args.istioctl, "kube-inject", "-f", pod],
                                          cluster_env, args.repeat, args.kubeconfig)
            if isinstance(result, str):
                lines.append(f"| {name} | not measured: {result[:120]} | | | | |")
            else:
                lines.append(row(name, *result))
        else:
            lines.append("| single Pod, cluster mode | not measured: the hermetic cluster does not answer | | | | |")
        print(lines[-1], flush=True)

        for n in (int(s) for s in args.sizes.split(",")):
            manifest = os.path.join(tmp, f"deployments-{n}.yaml")
            with open(manifest, "w") as f:
                f.writelines(deployment(i) + "---\n" for i in range(n))
            repeat = args.bulk_repeat if n <= 1000 else 1
            try:
                a, b = side_by_side([KUBECTL_INJECT, *files, "-f", manifest], [*istioctl, *files, "-f", manifest],
                                    offline_env, repeat, f"{n} Deployments")
            except RunFailed as err:
                sys.exit(f"bench: {err}")
            mib = os.path.getsize(manifest) / 2**20
            lines.append(row(f"{n:,} Deployments ({mib:.1f} MiB; {repeat} run{'s' if repeat > 1 else ''} each; "
                             f"{n / a.median():.0f} vs {n / b.median():.0f} Pods/s)", a, b))
            chart["kubectl inject"].append((n, a.median()))
            chart["istioctl"].append((n, b.median()))
            print(lines[-1], flush=True)

    today = datetime.date.today().isoformat()
    text = f"""# Benchmarks: kubectl inject and istioctl kube-inject, side by side

Measured on {today} on the project's 2-core machine by `make bench` (bench/bench_inject.py): istioctl
{version} built here from Istio's Go module (`make istioctl-path`), the project's built-in config files
of that release for both tools, runs interleaved, outputs compared on every run (all identical).
kubectl inject ran on the venv's {interpreter()}; the Makefile's PYTHON3 says why that one.
Ratio = kubectl inject / istioctl (below 1: kubectl inject is faster). CPU ratio: user+sys time.
The machine is shared and noisy: read the ratios, not the absolute times.
kubectl inject keeps parsed templates and the type schema in its disk cache between runs (the first
run of a series fills it; one row has the cache off); bulk inputs of 8 documents or more use two
processes on this 2-core machine (CPU ratio: both processes' time).
How time and peak memory grow with the input, 1 to 100 MiB: [benchmarks-scale.md](benchmarks-scale.md)
(`make bench-scale`). Where a one-Pod run's time goes: [startup-profile.md](startup-profile.md).

| input | kubectl inject: median (min–max) | istioctl: median (min–max) | ratio | CPU ratio | peak RSS ours / istioctl |
| --- | --- | --- | --- | --- | --- |
""" + "\n".join(lines) + "\n"
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, points in chart.items():
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("Deployments in one manifest")
        ax.set_ylabel("wall time, s (median)")
        ax.set_title(f"kubectl inject vs istioctl {version} kube-inject")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.chart, dpi=100)
        text += f"\n![time against input size]({os.path.basename(args.chart)})\n"
    except ImportError:
        text += "\n(no chart: matplotlib is not installed)\n"
    with open(args.markdown, "w") as f:
        f.write(text)
    print(f"bench: wrote {args.markdown}")
    return 0


def interpreter() -> str:
    """The Python that ran kubectl inject: the one this script runs on, the venv's (its shebang)."""
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    return f"Python {sys.version.split()[0]} at {base}"


if __name__ == "__main__":
    sys.exit(main())
