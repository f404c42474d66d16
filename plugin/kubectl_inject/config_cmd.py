"""`kubectl inject config pull|show`: save the cluster's injector config, or say where the
config in effect comes from."""
from __future__ import annotations

import os
import sys

from .cluster_config import native_sidecars, read_cluster_config
from .config_source import builtin_versions, resolve
from .errors import InjectError
from .argparser import ArgumentParser
from .flags import CONFIG_ACTIONS, CONFIG_PULL_FLAGS, CONFIG_SHOW_FLAGS, add_cluster_flags, add_flags, cluster_target
from .load_config import parse_values
from .output import write_atomically
from .releases import istio_release_of, profile_for

PULL_FILES = (("config", "inject-config.yaml", "--injectConfigFile"),
              ("values", "values.yaml", "--valuesFile"),
              ("mesh", "mesh.yaml", "--meshConfigFile"))


def _parser():
    parser = ArgumentParser(prog="kubectl inject config",
                     description="Inspect or save the injector configuration.")
    sub = parser.add_subparsers(dest="action", required=True, parser_class=ArgumentParser)
    for action, flags in (("pull", CONFIG_PULL_FLAGS), ("show", CONFIG_SHOW_FLAGS)):
        command = sub.add_parser(action, help=CONFIG_ACTIONS[action])
        add_flags(command, flags)
        add_cluster_flags(command)
    return parser


def run_config(argv) -> int:
    args = _parser().parse_args(argv)
    if args.action == "pull":
        return _pull(args)
    return _show(args)


def _pull(args) -> int:
    target = cluster_target(args)
    texts = read_cluster_config(target)
    try:
        os.makedirs(args.output, exist_ok=True)
    except OSError as err:  # a file in the way, no permission: the user's to fix, one line
        raise InjectError(f"cannot create directory {args.output!r}: {err.strerror or err}") from None
    for piece, filename, _ in PULL_FILES:
        write_atomically(os.path.join(args.output, filename), texts[piece])
    flags = " ".join(f"{flag} {os.path.join(args.output, filename)}" for _, filename, flag in PULL_FILES)
    print(f"saved {target.injector_configmap()} and {target.mesh_configmap()} from namespace "
          f"{target.namespace} to {args.output}; use them with: kubectl inject -f FILE {flags}")
    # Native sidecars are decided by istiod's environment and the nodes, not by these files.
    native = native_sidecars(target, profile_for(istio_release_of(parse_values(texts["values"]))))
    print(f"note: this control plane injects {'native' if native else 'classic'} sidecars; to get the "
          f"same output from the files, run with ENABLE_NATIVE_SIDECARS={'true' if native else 'false'}")
    return 0


def _show(args) -> int:
    files = {"config": args.injectConfigFile, "values": args.valuesFile, "mesh": args.meshConfigFile}
    resolved = resolve(files, cluster_target(args), offline=args.offline, istio_version=args.istio_version)
    for piece, _, flag in PULL_FILES:
        print(f"{piece:7} {resolved.origins[piece]}")
    print(f"built-in defaults available: {', '.join(builtin_versions())}")
    if resolved.notice:
        print(resolved.notice, file=sys.stderr)
    return 0
