#!/usr/bin/env python3
"""Two versions of kubectl inject and istioctl kube-inject, interleaved, on the lab's Pod: what a
change cost or saved (a benchmark, not a test: it reports, it does not pass or fail on speed).

The older version is a git worktree of BASE in a temporary directory; both versions run from
source with this venv's Python (PYTHONPATH), so only the code differs. Runs are interleaved
(base, this checkout, istioctl, then the reverse order) on the shared, noisy machine, and every
output is compared: versions or tools that disagree stop the run.

  cluster (default)   config read from the cluster of the kubeconfig in effect (the hermetic one:
                      KUBECONFIG=$(make -s cluster-kubeconfig))
  --offline           the built-in config of istioctl's release, as files

usage: bench/bench_versions.py --istioctl PATH --base REV [--runs 40] [--offline]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NGINX_POD = ("apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    run: mywebserver\n  name: mywebserver\n"
             "spec:\n  containers:\n  - image: nginx\n    name: mywebserver\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--istioctl", required=True)
    parser.add_argument("--base", required=True, help="the git revision to compare this checkout with")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--offline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-versions-") as tmp:
        tmp = Path(tmp)
        base = tmp / "base"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(base), args.base],
                       check=True, capture_output=True)
        try:
            return compare(args, base, tmp)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)], capture_output=True)


def compare(args, base: Path, tmp: Path) -> int:
    pod = tmp / "nginx-pod.yaml"
    pod.write_text(NGINX_POD)
    extra = []
    if args.offline:
        release = subprocess.run([args.istioctl, "version", "--remote=false", "--short"], capture_output=True,
                                 text=True, check=True).stdout.split()[-1]
        builtin = REPO / "plugin" / "kubectl_inject" / "builtin" / release
        if not builtin.is_dir():
            sys.exit(f"no built-in config for istioctl {release} ({builtin})")
        extra = ["--injectConfigFile", str(builtin / "template.yaml"), "--valuesFile", str(builtin / "values.yaml"),
                 "--meshConfigFile", str(builtin / "mesh.yaml")]
    env = dict(os.environ, ENABLE_NATIVE_SIDECARS="false")
    if args.offline:   # nothing may reach a cluster
        env.update(KUBECONFIG="/nonexistent", HOME=str(tmp))
    ours = [sys.executable, "-m", "kubectl_inject", "-f", str(pod), *extra]
    runs = {
        f"kubectl inject {args.base}": (ours, dict(env, PYTHONPATH=str(base / "plugin"))),
        "kubectl inject (this checkout)": (ours, dict(env, PYTHONPATH=str(REPO / "plugin"))),
        # (-r default offline: istioctl 1.28+ would otherwise wait for a cluster's default revision)
        "istioctl": ([args.istioctl, "kube-inject", "-f", str(pod), *extra, *(["-r", "default"] if args.offline else [])],
                     env),
    }
    for root in (base, REPO):   # bytecode first, as `make bench` does
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "plugin" / "kubectl_inject")], check=True)
    outputs = {name: run(argv, run_env)[1] for name, (argv, run_env) in runs.items() for _ in range(2)}
    if len(set(outputs.values())) != 1:
        sys.exit("the outputs differ: " + ", ".join(outputs))
    times = {name: [] for name in runs}
    order = list(runs)
    for i in range(args.runs):
        for name in (order if i % 2 == 0 else order[::-1]):
            seconds, out = run(*runs[name])
            if out != outputs[name]:
                sys.exit(f"{name}: output changed between runs")
            times[name].append(seconds)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"one Pod, config {'files (offline)' if args.offline else 'from the cluster'}, {args.runs} interleaved runs each")
    for name, median in medians.items():
        ratio = "" if name == "istioctl" else f"  ratio {median / medians['istioctl']:.2f}x"
        print(f"  {name:32} median {median * 1e3:6.1f} ms (min {min(times[name]) * 1e3:.1f}){ratio}")
    return 0


def run(argv, env) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{argv[0]} failed: {proc.stderr.strip()[:500]}")
    return seconds, proc.stdout


if __name__ == "__main__":
    sys.exit(main())
