#!/usr/bin/env python3
"""Benchmarks of `kubectl inject` (not tests: they report numbers, they do not pass or fail).

1. Cold single-Pod latency: a fresh process injecting the lab's nginx Pod, repeated; the
   median and best wall time of the whole command (interpreter start-up included).
2. Throughput: one process injecting a generated manifest of N Deployments (default 1,000);
   Pods per second, plus the peak resident memory of that process.

Config: the Istio 1.22.0 default injector config from ../shared/istio-golden when present,
else the built-in default (`--offline`).

usage: bench/bench_inject.py [--deployments N] [--repeat R] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "plugin", "tests"))
from inject_testkit import NGINX_POD  # noqa: E402  (the lab's Pod, shared with the tests)

GOLDEN_INPUTS = os.path.join(os.path.dirname(ROOT), "shared", "istio-golden", "1.22.0", "inputs")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: bench
spec:
  replicas: 2
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
        version: v1
    spec:
      containers:
      - name: app
        image: registry.example/app:{i}
        ports:
        - containerPort: 8080
          name: http
        readinessProbe:
          httpGet:
            path: /ready
            port: 8080
---
"""


def command() -> list:
    exe = os.path.join(ROOT, ".venv", "bin", "kubectl-inject")
    if not os.path.exists(exe):
        exe = os.path.join(ROOT, "kubectl-inject")
    if os.path.isdir(GOLDEN_INPUTS):
        return [exe, "--injectConfigFile", os.path.join(GOLDEN_INPUTS, "default.template.gen.yaml"),
                "--valuesFile", os.path.join(GOLDEN_INPUTS, "default.values.gen.yaml"),
                "--meshConfigFile", os.path.join(GOLDEN_INPUTS, "default.mesh.gen.yaml")]
    return [exe, "--offline"]


def timed_run(argv: list) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"benchmark command failed: {proc.stderr.strip()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, max(after.ru_maxrss, before.ru_maxrss)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    base = command()
    with tempfile.TemporaryDirectory() as tmp:
        pod = os.path.join(tmp, "nginx-pod.yaml")
        with open(pod, "w") as handle:
            handle.write(NGINX_POD)
        latencies = [timed_run(base + ["-f", pod])[0] for _ in range(args.repeat)]

        manifest = os.path.join(tmp, "deployments.yaml")
        with open(manifest, "w") as handle:
            for i in range(args.deployments):
                handle.write(DEPLOYMENT.format(i=i))
        elapsed, peak_kib = timed_run(base + ["-f", manifest])

    results = {
        "config": "istio-1.22.0 golden default" if "--offline" not in base else "built-in default",
        "single_pod_latency_s": {"median": round(statistics.median(latencies), 3),
                                 "best": round(min(latencies), 3), "runs": args.repeat},
        "throughput": {"deployments": args.deployments, "seconds": round(elapsed, 2),
                       "pods_per_second": round(args.deployments / elapsed, 1),
                       "peak_rss_mib": round(peak_kib / 1024, 1)},
    }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        lat = results["single_pod_latency_s"]
        thr = results["throughput"]
        print(f"config: {results['config']}")
        print(f"cold single-Pod latency: median {lat['median']} s, best {lat['best']} s over {lat['runs']} runs")
        print(f"throughput: {thr['deployments']} Deployments in {thr['seconds']} s = "
              f"{thr['pods_per_second']} Pods/s, peak RSS {thr['peak_rss_mib']} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
