"""`kubectl inject`: the command line, compatible with `istioctl kube-inject`.

Only YAML goes to stdout; warnings and errors go to stderr. Any failure is one line,
"Error: ...", with exit code 1 and no partial output.
"""
from __future__ import annotations

import atexit  # (built into the interpreter: importing it costs nothing)
import os
# _signal, the signal module's C part: `signal` itself builds its enums at import (start-up time)
import _signal as signal
import sys

from .cluster_config import native_sidecars, stop_children
from .config_source import InputBudget, evidence_for, read_file, read_stdin, resolve
from .errors import InjectError, terminal_safe
from .flags import CLUSTER_FLAGS, INJECT_FLAGS, INPUT_SUFFIXES, add_cluster_flags, add_flags, cluster_target, parse
from .gotypes import schema as gotypes_schema
from .inject import Settings, inject_stream
from .load_config import SIDECAR_TEMPLATE, parse_injector_config, parse_values
from .meshconfig import MeshConfigError, load_mesh_config
from .output import Spool, write_all_atomically, write_atomically, write_to_stdout
from .releases import parse_release, profile_for, unknown_release_notice

# config_cmd and explain are imported where they are used (lazy): a plain run needs neither, and a
# one-Pod run is mostly start-up time.

EXAMPLES = """\
examples:
  # Study what injection adds to the lab's Pod
  kubectl run mywebserver --image nginx --dry-run=client -oyaml > nginx-pod.yaml
  kubectl inject -f nginx-pod.yaml

  # Update resources on the fly before applying
  kubectl apply -f <(kubectl inject -f resource.yaml)

  # Write the injected manifest to a file (written atomically)
  kubectl inject -f deployment.yaml -o deployment-injected.yaml

  # Update an existing deployment
  kubectl get deployment -o yaml | kubectl inject -f - | kubectl apply -f -

  # Use captured injector configuration instead of the cluster's
  kubectl -n istio-system get cm istio-sidecar-injector -o jsonpath="{.data.config}" > inject-config.yaml
  kubectl -n istio-system get cm istio-sidecar-injector -o jsonpath="{.data.values}" > values.json
  kubectl -n istio-system get cm istio -o jsonpath="{.data.mesh}" > mesh.yaml
  kubectl inject -f deployment.yaml --injectConfigFile inject-config.yaml \\
      --valuesFile values.json --meshConfigFile mesh.yaml
"""


def build_parser():
    """The command's argparse parser: help, usage and the errors of a command line that
    flags.parse does not read itself."""
    from .argparser import ArgumentParser, RawDescriptionHelpFormatter  # lazy: start-up time; flags.parse
    parser = ArgumentParser(
        prog="kubectl inject",
        description="Inject the Istio sidecar into Kubernetes workloads, exactly as "
                    "`istioctl kube-inject` does. Unsupported resources are passed through "
                    "unchanged, so a whole application manifest can be injected at once.\n\n"
                    "Config: each of --injectConfigFile, --valuesFile, --meshConfigFile replaces "
                    "that piece; the others come from the cluster's Istio ConfigMaps, or, with no "
                    "cluster, from a built-in default (announced on stderr).\n"
                    "Also: `kubectl inject config pull -o DIR`, `kubectl inject config show`, "
                    "`kubectl inject version`.",
        epilog=EXAMPLES, formatter_class=RawDescriptionHelpFormatter)
    add_flags(parser, INJECT_FLAGS)
    add_cluster_flags(parser)
    return parser


def parse_args(argv):
    """The command's flags from argv (flags.parse: plain command lines without argparse)."""
    return parse(argv, INJECT_FLAGS + CLUSTER_FLAGS, build_parser)


def load_settings(args):
    """Resolve the config pieces (files / cluster / built-in) and parse them; also the notices
    about the release (inferred rather than stated, or without a profile of its own).

    The release reproduced: releases.release_evidence's order (--istio-version; the cluster's
    labels and istiod's image; the values' image tag; a known sidecar template; the newest)."""
    target = cluster_target(args)
    files = {"config": args.injectConfigFile, "values": args.valuesFile, "mesh": args.meshConfigFile}
    if args.istio_version and parse_release(args.istio_version) is None:
        raise InjectError(f"--istio-version {args.istio_version!r} is not an Istio release (such as 1.30.4)")
    resolved = resolve(files, target, offline=args.offline, istio_version=args.istio_version)
    injector = parse_injector_config(resolved.texts["config"], source=resolved.origins["config"])
    values = parse_values(resolved.texts["values"], source=resolved.origins["values"])
    evidence = evidence_for(resolved, target, args.istio_version, values,
                            injector.raw_templates.get(SIDECAR_TEMPLATE))
    profile = profile_for(evidence.release)
    try:
        # under the release's own types, which the injection uses next anyway (mesh.json is
        # shared by all of them): the default schema is then never read
        with gotypes_schema.using(gotypes_schema.for_k8s_api(profile.k8s_api)):
            mesh = load_mesh_config(resolved.texts["mesh"], profile.mesh_defaults)
    except MeshConfigError as err:
        raise InjectError(f"invalid mesh config ({resolved.origins['mesh']}): {err}") from None
    native = None
    if resolved.from_cluster:
        native = native_sidecars(target, profile)
    notices = [evidence.notice(values.get("global", "tag", default="")),
               unknown_release_notice(evidence.release)]
    return Settings(injector=injector, values=values, mesh=mesh, revision=target.revision,
                    release=profile, native_sidecars_setting=native, evidence=evidence), resolved, \
        [notice for notice in notices if notice]


def _read(path: str, what: str, budget: InputBudget) -> str:
    if path == "-":
        return read_stdin(budget)
    return read_file(path, what, budget)


def expand_inputs(sources, recursive: bool) -> list:
    """Files named by -f, with directories expanded as kubectl does (-R to recurse)."""
    paths = []
    for source in sources:
        if source != "-" and os.path.isdir(source):
            found = []
            # a directory that cannot be read is an error, as kubectl apply -R makes it (os.walk
            # would skip it and the run would leave its files out with exit 0)
            for directory, subdirs, names in os.walk(source, onerror=_unreadable_directory):
                subdirs.sort()
                found.extend(os.path.join(directory, n) for n in sorted(names) if n.endswith(INPUT_SUFFIXES))
                if not recursive:
                    break
            if not found:
                raise InjectError(f"no .yaml, .yml or .json files in directory {source!r}")
            paths.extend(found)
        else:
            paths.append(source)
    if paths.count("-") > 1:
        raise InjectError("standard input (-f -) can be given only once")
    return paths


def _unreadable_directory(err: OSError) -> None:
    raise InjectError(f"cannot read directory {err.filename!r}: {err.strerror or err}")


def run(argv) -> int:
    if argv and argv[0] == "config":
        from .config_cmd import run_config  # lazy: start-up time of the common command
        return run_config(argv[1:])
    if argv[:1] == ["version"]:
        parse(argv[1:], (), build_parser)  # nothing may follow, as with istioctl version's own flags
        return print_version()
    args = parse_args(argv)
    if args.version:
        return print_version()
    if not args.filename:
        raise InjectError("filename not specified (see --filename or -f)")
    paths = expand_inputs(args.filename, args.recursive)
    if args.in_place and ("-" in paths or args.output):
        raise InjectError("--in-place rewrites input files: it cannot be used with -f - or -o")
    budget = InputBudget()
    inputs = [(path, _read(path, "input file", budget)) for path in paths]

    settings, resolved, release_notices = load_settings(args)
    # Notices (where the config comes from, fields the release drops) are held back until the run
    # succeeds: a failure is its one error line and nothing else.
    notices = [notice for notice in (resolved.notice, *release_notices) if notice]

    warnings = []
    if args.explain:
        from .explain import explain  # lazy: start-up time of the common command
        _print_lines(notices)
        report = "".join(explain(text, settings, source=path) for path, text in inputs)
        write_stdout(report)
        return 0

    # The output waits in a Spool (memory, then an anonymous temporary file) until every input
    # has succeeded: one per file rewritten in place, else one for everything.
    outputs = []
    try:
        for path, text in inputs:
            if args.in_place or not outputs:
                outputs.append((path, Spool()))
            try:
                inject_stream(text, settings, outputs[-1][1].write, warn=warnings.append,
                              notice=notices.append)
            except InjectError as err:
                if len(inputs) > 1:
                    raise InjectError(f"{path}: {err.one_line()}") from None
                raise
        if args.in_place:
            write_all_atomically(outputs)
        elif args.output:
            write_atomically(args.output, outputs[0][1])
        else:
            write_stdout(outputs[0][1])
    finally:
        for _, spool in outputs:
            spool.close()
    if isinstance(sys.stdout, _ClosedStdout):
        return 0  # entry fails the run with its one line: no notices or warnings before it
    _print_lines(notices)
    if warnings:
        print(file=sys.stderr)
        for warning in warnings:
            print(terminal_safe(warning), file=sys.stderr)
    return 0


def print_version() -> int:
    from .version import describe  # lazy: importlib.metadata and subprocess, for this path only
    write_stdout(describe())
    return 0


def write_stdout(text) -> None:
    """The result (a str or an output.Spool) on stdout; a write error (a full disk, say) is an
    InjectError. A closed pipe (BrokenPipeError) passes to main, which leaves quietly as other
    command-line tools do."""
    try:
        write_to_stdout(text)
    except BrokenPipeError:
        raise
    except StdoutClosed:
        raise InjectError(STDOUT_CLOSED) from None
    except OSError as err:
        raise InjectError(f"cannot write to standard output: {err.strerror or err}") from None


STDOUT_CLOSED = "cannot write to standard output: it is closed (file descriptor 1 was closed when the command started)"


class StdoutClosed(OSError):
    """A write to the stand-in for a stdout that was closed when the process started."""


class _ClosedStdout:
    """sys.stdout when fd 1 was closed at start (`>&-`): every write fails, as a write to a closed
    descriptor does (Python leaves sys.stdout None, and print() or help would fail with
    AttributeError, an internal error)."""

    encoding = "utf-8"

    def write(self, text):
        raise StdoutClosed(9, "Bad file descriptor")

    def flush(self):
        pass

    def isatty(self):
        return False


def _standard_streams() -> set:
    """Which of fds 0, 1, 2 were closed when the process started (`<&-`, `>&-`, `2>&-`).

    Each closed one gets /dev/null in its place, so that no file this run opens takes its number
    (a temporary file opened as fd 1 would get what is printed; Go's runtime does the same for
    istioctl). sys.stdout then fails every write (STDOUT_CLOSED), sys.stdin stays None (-f - says
    it is closed), sys.stderr writes to /dev/null (print(file=None) would go to stdout).
    stdout and stderr are made UTF-8 whatever the locale or PYTHONIOENCODING say: kubectl and
    istioctl write bytes, and a manifest is UTF-8."""
    closed = set()
    for fd, stream in ((0, sys.stdin), (1, sys.stdout), (2, sys.stderr)):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(fd)
        else:
            if stream is None:  # closed at start; something has taken the number since
                closed.add(fd)
    for fd in sorted(closed):
        try:
            os.fstat(fd)
        except OSError:
            spare = os.open(os.devnull, os.O_RDWR)
            if spare != fd:
                os.dup2(spare, fd)
                os.close(spare)
    if 1 in closed:
        sys.stdout = _ClosedStdout()
    if 2 in closed:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    for stream, errors in ((sys.stdout, "surrogatepass"), (sys.stderr, "backslashreplace")):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (stream.encoding or "").lower().replace("-", "") != "utf8":
            reconfigure(encoding="utf-8", errors=errors)
    return closed


def _silence_stdout() -> None:
    """After a failed write, point fd 1 at /dev/null: the interpreter's last flush of what is
    still buffered would otherwise print its own complaint on stderr."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so that what is under way is cleaned up (like
    KeyboardInterrupt for SIGINT)."""


def _terminate(signum, frame):
    raise Terminated()


def _leave(signum, frame):  # the answer is complete: nothing left to clean up
    os._exit(128 + signum)


def _print_lines(lines) -> None:
    for line in lines:  # they quote input values: escaped for the terminal
        print(terminal_safe(line), file=sys.stderr)


def entry() -> None:
    """The program's entry point (console script, launcher, python -m): main, then exit.

    SIGINT and SIGTERM raise KeyboardInterrupt and Terminated while main runs (main cleans up and
    returns 130 or 143); after it, they end the process at once.

    Once the answer is out (stdout and stderr flushed, every file main wrote closed), the process
    leaves with os._exit, without the interpreter's teardown, when nothing is left for that
    teardown to run: no atexit callbacks and no thread it would wait for. The teardown frees every
    module and object one by one just before the process ends anyway: 10 M instructions, 5% of a
    one-Pod run. A run that started worker processes (multiprocessing registers atexit work)
    ends the usual way. So does a run with a thread still running, except a daemon thread: a
    cluster look-up that outlasted --timeout leaves its worker thread blocked in the network
    library, and a normal shutdown with such a thread can abort the process (SIGABRT after the
    error was printed), so that run leaves at once too."""
    closed = _standard_streams()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    code = main()
    if 1 in closed and code == 0:
        # the run needed no stdout (-o, --in-place) and did its work, but a closed stdout is
        # still a broken environment for a command whose product is stdout: say so, exit 1
        print("Error: standard output is closed (file descriptor 1 was closed when the command started); "
              "the files were written", file=sys.stderr)
        code = 1
    signal.signal(signal.SIGINT, _leave)
    signal.signal(signal.SIGTERM, _leave)
    try:
        sys.stdout.flush()
    except OSError:
        _silence_stdout()
    try:
        sys.stderr.flush()
    except OSError:
        pass
    if _daemon_thread_alive() or _teardown_has_nothing_to_run():
        os._exit(code)
    sys.exit(code)


def _daemon_thread_alive() -> bool:
    threading = sys.modules.get("threading")  # no thread can have been started without it
    return threading is not None and any(t.daemon and t.is_alive() for t in threading.enumerate())


def _teardown_has_nothing_to_run() -> bool:
    """No atexit callbacks (CPython counts them) and no thread but this one."""
    count = getattr(atexit, "_ncallbacks", None)
    if count is None or count():
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def _run_and_stop_children(argv) -> int:
    """run, then kill what it started and left running (a credential plugin that hangs), on
    every way out: success, error, SIGINT, SIGTERM."""
    try:
        return run(argv)
    finally:
        stop_children()


# The YAML parser refuses nesting deeper than 1000 levels; the stages after it walk a document
# recursively, a few Python frames per level, so allow for that many (Python's default, 1000,
# would turn a deep but valid document into an internal error).
RECURSION_LIMIT = 20000


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    # Go has no limit on the digits of an integer text; Python refuses int()/str() beyond 4,300
    # (an "internal error" for a manifest istioctl injects). Every place that reads an integer
    # into a 64-bit range (YAML's resolver, strconv.ParseInt/ParseUint, durations, JSON into
    # integer fields, port and count annotations) checks the length first and never converts a
    # longer text; what Python still converts whole is what Go keeps whole too (a resource
    # quantity, inf.Dec), so the limit can go.
    sys.set_int_max_str_digits(0)
    try:
        return _run_and_stop_children(argv)
    except InjectError as err:
        print(f"Error: {err.one_line()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("Error: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:  # the reader went away: quiet, as other command-line tools are
        _silence_stdout()
        return 1
    except StdoutClosed:  # help or usage text for a stdout closed at start
        print(f"Error: {STDOUT_CLOSED}", file=sys.stderr)
        return 1
    except Exception as err:  # a bug of ours: still one line, never a traceback
        print(f"Error: internal error ({type(err).__name__}: {terminal_safe(' '.join(str(err).split()))}); "
              "please report it with the input that caused it", file=sys.stderr)
        return 1
