#!/usr/bin/env python3
"""Start-up of kubectl inject as the krew archive runs it, against the venv's command: the
measurements behind build.py's and the launcher's choices (README.md beside this file has the
numbers).

    .venv/bin/python plugin/tools/krew/measure.py [--repeat 51] [--instructions 3]
                                                  [--python /usr/bin/python3]

The input and the method are those of the single-Pod row of bench/bench_inject.py (its run()
is used as is): the lab's nginx Pod, the built-in config files of Istio 1.30.4 given as
--injectConfigFile/--valuesFile/--meshConfigFile, an environment of PATH, HOME (a temporary
directory), KUBECONFIG=/nonexistent and ENABLE_NATIVE_SIDECARS=false, a fresh process per run,
every variant run once per round, round after round (interleaved), medians of the wall time and
CPU time. Every run's output must equal the venv's. --instructions N adds the median of N runs'
instruction counts under valgrind's callgrind, which the machine's noise does not move (for a
launcher run through the shell, the count starts at the exec of Python: the shell's own part,
about 0.2 M instructions, is not in it).

Variants, each on its own copy of the archive's tree (build.stage), all on the same interpreter
as the venv's (--python) unless said, all but the venv's with PYTHONDONTWRITEBYTECODE=1 as on the
project's machines:
  venv                   .venv/bin/kubectl-inject (bytecode compiled by make install, and
                         written at the warm-up for any module changed since)
  archive                the launcher as shipped: its shell part runs `python3 -S`, bytecode
                         is written into the tree on the first run (as into krew's install
                         directory) whatever PYTHONDONTWRITEBYTECODE says; the rounds use it
  python3 -S FILE        the same without the shell part: what the shell costs
  python3 FILE           ... and without -S: what the interpreter's site-packages cost
  no bytecode written    the launcher without its bytecode override (those lines taken out
                         here): every run compiles the package, as it would in an install
                         directory the user cannot write
  shipped .pyc           bytecode compiled into the tree beforehand (unchecked-hash, since krew
                         does not keep the files' times), none written
  the user's PyYAML      the tree without lib/pyyaml: the interpreter's own PyYAML (it must have
                         libyaml), which brings its site-packages back
  python3 from PATH      the launcher choosing python3 from PATH, as a user's would
A zipapp is not a variant: the package reads its built-in configs and type schemas from files
beside its modules, which a zip does not have (and an extension module cannot load from one).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import build  # noqa: E402

sys.path.insert(0, os.path.join(build.ROOT, "bench"))
from bench_inject import BUILTIN, KUBECTL_INJECT, NGINX_POD, RunFailed, run  # noqa: E402

RELEASE = "1.30.4"
# The launcher's lines that write bytecode whatever PYTHONDONTWRITEBYTECODE says: (file in the
# tree, the line, what it becomes in the "no bytecode written" variant)
BYTECODE_OVERRIDES = (
    ("kubectl-inject", "sys.dont_write_bytecode = sys.version_info < (3, 10)\n", ""),
)


def config_files() -> list:
    directory = os.path.join(BUILTIN, RELEASE)
    return ["--injectConfigFile", os.path.join(directory, "template.yaml"),
            "--valuesFile", os.path.join(directory, "values.yaml"),
            "--meshConfigFile", os.path.join(directory, "mesh.yaml")]


def make_tree(tmp: str, name: str, wheel_paths: dict) -> str:
    tree = os.path.join(tmp, name)
    build.stage(tree, build.project_version(), wheel_paths)
    return tree


def launcher(tree: str) -> str:
    return os.path.join(tree, "kubectl-inject")


def ship_bytecode(tree: str, python: str) -> None:
    subprocess.run([python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
                    os.path.join(tree, "lib")], check=True)


def keep_flag(tree: str) -> None:
    """The tree's launcher without its bytecode override, so that PYTHONDONTWRITEBYTECODE holds."""
    for name, line, replacement in BYTECODE_OVERRIDES:
        path = os.path.join(tree, name)
        with open(path) as handle:
            text = handle.read()
        if line not in text:
            sys.exit(f"measure: {name} no longer has the line {line.strip()!r}")
        with open(path, "w") as handle:
            handle.write(text.replace(line, replacement))


def variants(tmp: str, python: str, wheel_paths: dict, base_env: dict) -> dict:
    """{name: (argv prefix, env)}"""
    env = dict(base_env, PYTHONDONTWRITEBYTECODE="1")
    chosen = dict(env, KUBECTL_INJECT_PYTHON=python)
    shipped_tree = make_tree(tmp, "archive", wheel_paths)
    compiling = make_tree(tmp, "compiling", wheel_paths)
    keep_flag(compiling)
    precompiled = make_tree(tmp, "precompiled", wheel_paths)
    ship_bytecode(precompiled, python)
    keep_flag(precompiled)
    user_yaml = make_tree(tmp, "user-yaml", wheel_paths)
    shutil.rmtree(os.path.join(user_yaml, "lib", "pyyaml"))
    on_path = make_tree(tmp, "on-path", wheel_paths)
    return {
        # as bench_inject.py runs it: bytecode written, so that a module changed since `make
        # install` is compiled once (at the warm-up) and not by every run
        "venv": ([KUBECTL_INJECT], base_env),
        "archive (as shipped)": ([launcher(shipped_tree)], chosen),
        "python3 -S FILE (no shell part)": ([python, "-S", launcher(shipped_tree)], chosen),
        "python3 FILE (no shell part, site-packages loaded)": ([python, launcher(shipped_tree)], chosen),
        "archive, no bytecode written (compiles every run)": ([launcher(compiling)], chosen),
        "archive, shipped unchecked-hash .pyc": ([launcher(precompiled)], chosen),
        "archive without PyYAML (the interpreter's own)": ([launcher(user_yaml)], chosen),
        f"archive, python3 from PATH ({shutil.which('python3', path=base_env['PATH'])})":
            ([launcher(on_path)], env),
    }


def first_runs(tmp: str, python: str, wheel_paths: dict, env: dict, tail: list, count: int):
    """Wall time of the first run on a fresh tree (writing its bytecode) and of the second."""
    firsts, seconds = [], []
    env = dict(env, KUBECTL_INJECT_PYTHON=python, PYTHONDONTWRITEBYTECODE="1")
    for i in range(count):
        tree = make_tree(tmp, f"fresh-{i}", wheel_paths)
        firsts.append(run([launcher(tree), *tail], env)[0].wall)
        seconds.append(run([launcher(tree), *tail], env)[0].wall)
    return statistics.median(firsts), statistics.median(seconds)


def instructions(argv: list, env: dict) -> int:
    """Instructions of one run under callgrind, summed over the processes it follows."""
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           "--trace-children=yes", *argv], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RunFailed(f"valgrind {argv[0]} failed: {proc.stderr.strip()[-300:]}")
    return sum(int(n) for n in re.findall(r"Collected : (\d+)", proc.stderr))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=51, help="rounds (each runs every variant once)")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="interpreter for the archive's variants (default: the venv's base, %(default)s)")
    ap.add_argument("--first-runs", type=int, default=5, help="fresh trees for the first-run row")
    ap.add_argument("--instructions", type=int, default=0, help="runs of each variant under callgrind (0: none)")
    args = ap.parse_args()
    if args.instructions and not shutil.which("valgrind"):
        sys.exit("measure: --instructions needs valgrind")
    wheel_paths = build.wheels()
    with tempfile.TemporaryDirectory() as tmp:
        pod = os.path.join(tmp, "nginx-pod.yaml")
        with open(pod, "w") as handle:
            handle.write(NGINX_POD)
        home = os.path.join(tmp, "home")
        os.mkdir(home)
        base_env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "KUBECONFIG": "/nonexistent",
                    "ENABLE_NATIVE_SIDECARS": "false"}
        tail = [*config_files(), "-f", pod]
        table = variants(tmp, args.python, wheel_paths, base_env)
        expected = run([KUBECTL_INJECT, *tail], base_env)[1]
        for name, (argv, env) in table.items():  # warm-up: bytecode written, disk caches filled
            if run([*argv, *tail], env)[1] != expected:
                sys.exit(f"measure: {name}: output differs from the venv's")
        walls = {name: [] for name in table}
        cpus = {name: [] for name in table}
        started = time.time()
        for _ in range(args.repeat):
            for name, (argv, env) in table.items():
                sample, out = run([*argv, *tail], env)
                if out != expected:
                    sys.exit(f"measure: {name}: output differs from the venv's")
                walls[name].append(sample.wall)
                cpus[name].append(sample.cpu)
        elapsed = time.time() - started
        counts = {name: statistics.median(instructions([*argv, *tail], env) for _ in range(args.instructions))
                  for name, (argv, env) in table.items()} if args.instructions else {}
        first, second = first_runs(tmp, args.python, wheel_paths, base_env, tail, args.first_runs)
    report(walls, cpus, counts, args, elapsed, first, second)
    return 0


def report(walls, cpus, counts, args, seconds, first, second) -> None:
    base = statistics.median(walls["venv"])
    version = subprocess.run([args.python, "-V"], capture_output=True, text=True).stdout.strip()
    print(f"{args.repeat} interleaved rounds in {seconds:.0f} s; archive variants on {args.python} ({version})"
          + (f"; instructions: median of {args.instructions} callgrind runs" if counts else ""))
    print("| variant | median wall (min-max) | vs venv | median CPU |" + (" instructions | vs venv |" if counts else ""))
    print("| --- | --- | --- | --- |" + (" --- | --- |" if counts else ""))
    for name, values in walls.items():
        med = statistics.median(values)
        line = (f"| {name} | {med * 1000:.1f} ms ({min(values) * 1000:.1f}-{max(values) * 1000:.1f}) | "
                f"{med / base:.3f}x | {statistics.median(cpus[name]) * 1000:.1f} ms |")
        if counts:
            line += f" {counts[name] / 1e6:.1f} M | {counts[name] / counts['venv']:.3f}x |"
        print(line)
    print(f"| first run on a fresh tree (writes the bytecode), median of {args.first_runs} | "
          f"{first * 1000:.1f} ms | {first / base:.3f}x | |" + (" | |" if counts else ""))
    print(f"| second run on that tree | {second * 1000:.1f} ms | {second / base:.3f}x | |" + (" | |" if counts else ""))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RunFailed as err:
        sys.exit(f"measure: {err}")
