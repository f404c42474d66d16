"""The command line's flags, each declared once (a Flag in a table), and how a command line
becomes their values.

argparse is the parser of record: `--help`, usage text, abbreviated flags and every usage error
are its own (argparser.py). But importing argparse (with gettext and locale) and building the
parser is about 6% of a one-Pod run's instructions, for a command line that is nearly always
plain. So `parse` reads the plain forms itself: each flag spelt exactly as declared, as
`--flag value`, `--flag=value` or `-f value`, and values that do not look like flags. Anything
else (help, an abbreviation, a value that starts with "-", a bad number, an unknown word) goes
to argparse, which then gives the answer or the error. Both read the same tables, and the tests
check that the two agree on generated command lines (test_flags.py).

Also here: the cluster flags (those of istioctl plus --offline and --istio-version) and the
ClusterTarget they describe.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

from .cluster_config import ClusterTarget


class Flag:
    """One flag as argparse's add_argument takes it: store (a value), append (a value, each time
    given) or switch (store_true)."""

    __slots__ = ("names", "dest", "action", "default", "type", "help", "required")

    def __init__(self, *names: str, action: str = "store", default=None, type=None, help: str = "",
                 required: bool = False):
        self.names = names
        self.dest = next((n for n in names if n.startswith("--")), names[0]).lstrip("-").replace("-", "_")
        self.action = action
        self.default = default
        self.type = type
        self.help = help
        self.required = required

    def initial(self):
        """The value before the command line is read (a new list for each parse of an append)."""
        if self.action == "append":
            return list(self.default or ())
        return False if self.action == "switch" else self.default


# kubectl inject's own flags (the cluster flags are CLUSTER_FLAGS, below).
INJECT_FLAGS = (
    Flag("-f", "--filename", action="append", default=[],
         help="input file, directory, or - for stdin (repeatable)"),
    Flag("-R", "--recursive", action="switch", help="recurse into directories given with -f"),
    Flag("-o", "--output", help="write the injected resources to this file (atomically) instead of stdout"),
    Flag("--in-place", action="switch", help="rewrite each input file with its injected version (atomically; on any error no file changes)"),
    Flag("--explain", action="switch", help="instead of YAML, explain what injection adds and why"),
    Flag("--injectConfigFile", help="injection templates file (the `config` key of the istio-sidecar-injector ConfigMap)"),
    Flag("--valuesFile", help="injection values file (the `values` key of the istio-sidecar-injector ConfigMap)"),
    Flag("--meshConfigFile", help="mesh configuration file (the `mesh` key of the istio ConfigMap)"),
    Flag("--version", action="switch", help="print the version, the git commit of a checkout and the Istio "
                                            "releases reproduced, then exit (also: kubectl inject version)"),
)

# What -f reads in a directory, as kubectl does.
INPUT_SUFFIXES = (".yaml", ".yml", ".json")

# `kubectl inject config <action>`: each action's help, and its flags besides the cluster flags.
CONFIG_ACTIONS = {
    "pull": "save the cluster's templates, values and mesh config to a directory",
    "show": "say where the config in effect comes from",
}
CONFIG_PULL_FLAGS = (Flag("-o", "--output", required=True, help="directory to write the three files into"),)
CONFIG_SHOW_FLAGS = tuple(f for f in INJECT_FLAGS if f.dest in ("injectConfigFile", "valuesFile", "meshConfigFile"))


def add_flags(parser, flags) -> None:
    """Declare the flags to an argparse parser (or argument group)."""
    for flag in flags:
        options = {"help": flag.help, "default": flag.initial()}
        if flag.required:
            options["required"] = True
        if flag.action == "switch":
            options["action"] = "store_true"
        else:
            options["action"] = flag.action
            if flag.type is not None:
                options["type"] = flag.type
        parser.add_argument(*flag.names, **options)


def parse(argv, flags, full_parser):
    """The flags' values (attributes named by dest), read from argv; full_parser() (an argparse
    parser declaring the same flags) reads any command line that is not plain."""
    values = _parse_plain(argv, flags)
    return values if values is not None else full_parser().parse_args(argv)


def _parse_plain(argv, flags):
    """The values of a plain command line, or None for argparse to read it. Only what argparse
    reads the same way is accepted here."""
    by_name = {name: flag for flag in flags for name in flag.names}
    values = {flag.dest: flag.initial() for flag in flags}
    args = iter(argv)
    for arg in args:
        name, explicit = arg, None
        if arg.startswith("--") and "=" in arg:
            name, explicit = arg.split("=", 1)
        flag = by_name.get(name)
        if flag is None or (explicit is not None and flag.action == "switch"):
            return None  # a word, "--", help, an abbreviation, an unknown flag, a switch with a value
        if flag.action == "switch":
            values[flag.dest] = True
            continue
        value = explicit
        if value is None:
            value = next(args, None)
            # (a value that looks like a flag is argparse's to judge; "-" alone is stdin's name)
            if value is None or (value.startswith("-") and value != "-"):
                return None
        if flag.type is not None:
            try:
                value = flag.type(value)
            except Exception:  # argparse words the error
                return None
        if flag.action == "append":
            values[flag.dest].append(value)
        else:
            values[flag.dest] = value
    return SimpleNamespace(**values)


def seconds(text: str) -> float:
    """--timeout: a positive, finite number of seconds (float() alone takes nan, inf and -1,
    which the thread and socket waits cannot use)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        import argparse  # lazy: only a bad value needs it, and argparse then reports it
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds (such as 10 or 2.5)")
    return value


CLUSTER_GROUP = "cluster (where the injector config is read from)"
CLUSTER_FLAGS = (
    Flag("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)"),
    Flag("--context", help="kubeconfig context to use"),
    Flag("-i", "--istioNamespace", default="istio-system", help="Istio system namespace (default istio-system)"),
    Flag("-r", "--revision", default="", help="Istio control plane revision (reads istio-sidecar-injector-REV and istio-REV)"),
    Flag("--timeout", type=seconds, default=10.0, help="seconds to wait for the API server (default 10)"),
    Flag("--offline", action="switch", help="use the built-in injector config, never a cluster"),
    Flag("--istio-version", help="Istio release to reproduce (default: the injector config's image tag); without config files also the built-in config used (implies --offline)"),
)


def add_cluster_flags(parser) -> None:
    add_flags(parser.add_argument_group(CLUSTER_GROUP), CLUSTER_FLAGS)


def cluster_target(args) -> ClusterTarget:
    """The cluster and control plane the cluster flags name."""
    revision = "" if args.revision == "default" else args.revision
    return ClusterTarget(kubeconfig=args.kubeconfig, context=args.context,
                         namespace=args.istioNamespace, revision=revision, timeout=args.timeout,
                         revision_flag=args.revision)
