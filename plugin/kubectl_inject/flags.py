"""Flags shared by `kubectl inject` and `kubectl inject config`: the parser whose usage errors
are one line, the cluster flags (those of istioctl plus --offline and --istio-version), and the
ClusterTarget they describe."""
from __future__ import annotations

import argparse
import math

from .cluster_config import ClusterTarget
from .errors import InjectError


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is an InjectError: one line, exit 1."""

    # argparse makes a help formatter for every add_argument (to check the action's nargs), and
    # each one asks for the terminal's width, importing shutil (with bz2 and lzma): milliseconds
    # of every run. The width matters only for help and usage text: it is looked up for those.
    _width = 80

    def _get_formatter(self):
        return self.formatter_class(prog=self.prog, width=self._width)

    def format_usage(self):
        self._width = None  # argparse's own default: the terminal's width
        return super().format_usage()

    def format_help(self):
        self._width = None
        return super().format_help()

    def error(self, message):  # one line, exit 1, like every other error of ours
        raise InjectError(message)


def seconds(text: str) -> float:
    """--timeout: a positive, finite number of seconds (float() alone takes nan, inf and -1,
    which the thread and socket waits cannot use)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds (such as 10 or 2.5)")
    return value


def add_cluster_flags(parser) -> None:
    group = parser.add_argument_group("cluster (where the injector config is read from)")
    group.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    group.add_argument("--context", help="kubeconfig context to use")
    group.add_argument("-i", "--istioNamespace", default="istio-system", help="Istio system namespace (default istio-system)")
    group.add_argument("-r", "--revision", default="", help="Istio control plane revision (reads istio-sidecar-injector-REV and istio-REV)")
    group.add_argument("--timeout", type=seconds, default=10.0, help="seconds to wait for the API server (default 10)")
    group.add_argument("--offline", action="store_true", help="use the built-in injector config, never a cluster")
    group.add_argument("--istio-version", help="Istio release to reproduce (default: the injector config's image tag); without config files also the built-in config used (implies --offline)")


def cluster_target(args) -> ClusterTarget:
    """The cluster and control plane the cluster flags name."""
    revision = "" if args.revision == "default" else args.revision
    return ClusterTarget(kubeconfig=args.kubeconfig, context=args.context,
                         namespace=args.istioNamespace, revision=revision, timeout=args.timeout)
