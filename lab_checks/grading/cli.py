"""The `lab-grade` command.

  lab-grade --roster class.yaml [--checkpoint applied|finished] [--jobs 8] [--budget 30] [reports]
  lab-grade --kubeconfig F [--context C] [--namespace N] [--student ID]      (one target)
  lab-grade rbac [--namespace N] [--revision REV]   print the RBAC to apply to a student's cluster
  lab-grade kubeconfig [--kubeconfig ADMIN] [--context C] [--namespace N] -o FILE

Exit codes: 0 when the class was graded (whatever the points), 2 for unusable input (one line on
stderr, no traceback), 130 when interrupted.
"""
from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time

from lab_checks.grading import signals
from lab_checks.grading.access import AccessError, grader_kubeconfig, rbac_manifest, write_private
from lab_checks.grading.roster import RosterError, load_roster, single_target
from lab_checks.grading.rubric import CHECKPOINTS

USAGE_ERROR = 2
# --jobs: each job is a thread with its connections (and, for the exec, a kubectl process); the
# machine's cores and the API servers' patience run out long before 64.
MAX_JOBS = 64
# --budget, seconds per target: below 1 s no cluster can answer; above an hour is a mistake (and
# inf or 1e12 overflowed the socket timeouts, reporting a reachable cluster unreachable).
MIN_BUDGET, MAX_BUDGET = 1.0, 3600.0
# Report paths that may be given twice (both write through to the terminal or nowhere).
SPECIAL_STREAMS = ("/dev/stdout", "/dev/stderr", "/dev/null")


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    # argparse prints usage and exits itself; one line and our exit code instead.
    def error(self, message):
        raise UsageError(message)


class _Version(argparse.Action):
    """--version: the version line is made only when asked for (it may ask git for the commit)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="print the version (and the git commit of a checkout)")

    def __call__(self, parser, namespace, values, option_string=None):
        from pathlib import Path

        from kubectl_inject.version import version_line
        print(version_line("lab-grade", str(Path(__file__).resolve().parent), "lab_checks/grading"))
        parser.exit(0)


def grade_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="lab-grade", description="Grade the sidecar-injection lab on students' clusters, read-only. "
                "Other commands: `lab-grade rbac`, `lab-grade kubeconfig` (see their --help).")
    who = p.add_argument_group("who is graded (a roster, or one kubeconfig)")
    who.add_argument("--roster", help="YAML or CSV: student, kubeconfig, context, namespace, files")
    who.add_argument("--kubeconfig", help="grade one target with this kubeconfig")
    who.add_argument("--context", help="its context (default: its current context)")
    who.add_argument("--namespace", help="the student's namespace (default: the context's, else default)")
    who.add_argument("--student", help="the student id shown in reports (default: the kubeconfig's file name)")
    who.add_argument("--files", metavar="DIR", help="the student's submitted nginx-pod.yaml and transformed.yaml")
    how = p.add_argument_group("how")
    how.add_argument("--checkpoint", choices=sorted(CHECKPOINTS), default="applied",
                     help="applied: the Pod is up; finished: the lab was done and cleaned up (default applied)")
    how.add_argument("--jobs", type=int, default=8, help="targets graded at once (default 8)")
    how.add_argument("--budget", type=float, default=30.0, help="seconds per target (default 30)")
    how.add_argument("--istio-namespace", default="istio-system", help="where istiod runs (default istio-system)")
    out = p.add_argument_group("reports (the table always goes to stdout)")
    out.add_argument("--csv", metavar="FILE")
    out.add_argument("--json", metavar="FILE")
    out.add_argument("--junit", metavar="FILE", help="JUnit XML: one test case per student and check")
    out.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--version", action=_Version)
    return p


def rbac_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="lab-grade rbac", description="Print the grader's RBAC for a student namespace; apply it "
                "with `lab-grade rbac --namespace NS | kubectl apply -f -`.")
    p.add_argument("--namespace", default="default", help="the student's namespace (default: default)")
    p.add_argument("--istio-namespace", default="istio-system")
    p.add_argument("--revision", action="append", default=[], metavar="REV",
                   help="also grant reading the control plane REV (istio-sidecar-injector-REV, istio-REV, "
                        "istiod-REV) and the default revision tag; repeatable (default: the unrevisioned one only)")
    return p


def kubeconfig_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="lab-grade kubeconfig", description="Make a kubeconfig for the grader's ServiceAccount "
                "(after the RBAC is applied), with the admin kubeconfig.")
    p.add_argument("--kubeconfig", help="admin kubeconfig (default: $KUBECONFIG, else ~/.kube/config)")
    p.add_argument("--context", help="its context (default: its current context)")
    p.add_argument("--namespace", default="default", help="the student's namespace, where the ServiceAccount is")
    p.add_argument("--duration", default="24h", help="token lifetime: 3600, 90m, 24h (default 24h)")
    p.add_argument("-o", "--output", help="write here, mode 0600 (default: stdout)")
    return p


def parse_duration(text: str) -> int:
    match = re.fullmatch(r"(\d+)([smhd]?)", text.strip())
    if not match or int(match.group(1)) <= 0:
        raise UsageError(f"--duration {text!r}: expected a positive number of seconds, or e.g. 90m, 24h, 7d")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def run_grade(argv: list[str]) -> int:
    args = grade_parser().parse_args(argv)
    if bool(args.roster) == bool(args.kubeconfig):
        raise UsageError("give either --roster FILE or --kubeconfig FILE")
    if args.roster and (args.context or args.namespace or args.student or args.files):
        raise UsageError("--context, --namespace, --student and --files go with --kubeconfig; a roster has its own columns")
    if not 1 <= args.jobs <= MAX_JOBS:
        raise UsageError(f"--jobs {args.jobs}: expected a whole number from 1 to {MAX_JOBS}")
    # nan compares false with everything, so `not (a <= x <= b)` refuses it as well.
    if not MIN_BUDGET <= args.budget <= MAX_BUDGET:
        raise UsageError(f"--budget {args.budget:g}: expected seconds from {MIN_BUDGET:g} to {MAX_BUDGET:g}")
    named = {}
    for option in ("csv", "json", "junit"):
        path = getattr(args, option)
        if path is None:
            continue
        problem = _report_path_problem(path)
        if problem:
            raise UsageError(f"--{option} {path}: {problem}")
        if path in named and path not in SPECIAL_STREAMS:
            raise UsageError(f"--{option} {path}: the same file as --{named[path]}")
        named[path] = option
    targets = load_roster(args.roster) if args.roster else [
        single_target(args.kubeconfig, args.context, args.namespace, args.student, args.files)]

    # Imported once the input is known to be good: the Kubernetes client takes a moment to load.
    from lab_checks.grading import reports
    from lab_checks.grading.runner import Progress, Settings, find_kubectl, grade_class
    from lab_checks.grading.submissions import find_kubectl_inject

    settings = Settings(checkpoint=args.checkpoint, jobs=args.jobs, budget=args.budget,
                        istio_namespace=args.istio_namespace, kubectl=find_kubectl(),
                        kubectl_inject=find_kubectl_inject(), with_files=any(t.files for t in targets))
    t0 = time.monotonic()
    progress = Progress(len(targets), stream=io.StringIO() if args.quiet else None)
    grades = grade_class(targets, settings, progress)
    seconds = time.monotonic() - t0
    sys.stdout.write(reports.table(grades, args.checkpoint, seconds))
    for path, text in ((args.csv, lambda: reports.to_csv(grades, args.checkpoint)),
                       (args.json, lambda: reports.to_json(grades, args.checkpoint, seconds)),
                       (args.junit, lambda: reports.to_junit(grades, args.checkpoint, seconds))):
        if path is not None:
            reports.write(path, text())
            print(f"wrote {path}", file=sys.stderr)
    return 0


def _report_path_problem(path: str) -> str | None:
    """Why `path` cannot take a report, found before the class is graded (None: it can)."""
    if not path:
        return "an empty file name"
    if path.endswith(("/", os.sep)) or os.path.basename(path) in (".", ".."):
        return "a directory, not a file name"
    if os.path.isdir(path):
        return "a directory"
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.lexists(parent) and os.path.dirname(parent) != parent:   # folders still to be made
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        return f"{parent} is not a directory"
    return None


def run_rbac(argv: list[str]) -> int:
    args = rbac_parser().parse_args(argv)
    sys.stdout.write(rbac_manifest(args.namespace, args.istio_namespace, tuple(args.revision)))
    return 0


def run_kubeconfig(argv: list[str]) -> int:
    args = kubeconfig_parser().parse_args(argv)
    text = grader_kubeconfig(args.kubeconfig, args.context, args.namespace, parse_duration(args.duration))
    if args.output:
        write_private(args.output, text)
        print(f"wrote {args.output} (ServiceAccount {args.namespace}/lab-grader)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


COMMANDS = {"rbac": run_rbac, "kubeconfig": run_kubeconfig}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = COMMANDS.get(argv[0]) if argv else None
    signals.install()
    try:
        return command(argv[1:]) if command else run_grade(argv)
    except (UsageError, RosterError, AccessError) as exc:
        _say(f"lab-grade: {exc}")
        return USAGE_ERROR
    except KeyboardInterrupt:
        _say("lab-grade: interrupted")
        return 130
    except signals.Terminated:
        _say("lab-grade: terminated")
        return 143
    except OSError as exc:   # an unwritable report path, say
        _say(f"lab-grade: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return 1
    finally:
        # Whatever ended the run: no child left running, no credential file left (only where the
        # system has no memfd; see kubeclient).
        from lab_checks.grading import children, kubeclient
        children.kill_all()
        kubeclient.remove_all()


def _say(line: str):
    """One line on stderr, whatever the input put in it (control characters, line breaks)."""
    from lab_checks.grading.safe_text import terminal
    print(terminal(line), file=sys.stderr)


def entry():
    sys.exit(main())


if __name__ == "__main__":
    entry()
