"""`kubectl inject config pull|show`: save the cluster's injector config, or say where the
config in effect comes from."""
from __future__ import annotations

import contextlib
import os
import sys

from .cluster_config import native_sidecars
from .config_source import builtin_versions, cluster_texts, evidence_for, resolve
from .errors import InjectError
from .argparser import ArgumentParser
from .flags import CONFIG_ACTIONS, CONFIG_PULL_FLAGS, CONFIG_SHOW_FLAGS, add_cluster_flags, add_flags, cluster_target
from .load_config import parse_values, sidecar_template
from .output import signals_held, write_all_atomically, write_atomically
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
    """All or nothing: the cluster is read first (the ConfigMaps and the native-sidecar hint,
    within one --timeout), then the three files are written (into a new temporary directory
    renamed to the output directory, or, when it exists, staged beside the old files and renamed
    together), and only then is anything printed. A failure at any step leaves no file behind and
    prints only its error line."""
    target = cluster_target(args)
    texts = cluster_texts(target)   # the default tag, then the release decides, as for injection
    # Native sidecars are decided by istiod's environment and the nodes, not by these files.
    native = native_sidecars(target, profile_for(istio_release_of(parse_values(texts["values"]))))
    _write_pulled(args.output, {filename: texts[piece] for piece, filename, _ in PULL_FILES})
    flags = " ".join(f"{flag} {os.path.join(args.output, filename)}" for _, filename, flag in PULL_FILES)
    if target.revision:  # the revision shows in the output (sidecar.istio.io/status, .Revision)
        flags += f" -r {target.revision}"
    print(f"saved {target.injector_configmap()} and {target.mesh_configmap()} from namespace "
          f"{target.namespace} to {args.output} (revision {target.revision_name}: {target.revision_source}); "
          f"use them with: kubectl inject -f FILE {flags}\n"
          f"note: this control plane injects {'native' if native else 'classic'} sidecars; to get the "
          f"same output from the files, run with ENABLE_NATIVE_SIDECARS={'true' if native else 'false'}")
    return 0


def _write_pulled(output: str, files: dict) -> None:
    """files (name -> text) into the directory output, all or none."""
    if os.path.isdir(output):
        write_all_atomically([(os.path.join(output, name), text) for name, text in files.items()])
        return
    import shutil  # lazy: only config pull needs them
    import tempfile
    parent = os.path.dirname(os.path.abspath(output))
    created = []  # missing parents, made here, removed again on failure
    try:
        missing = parent
        while not os.path.isdir(missing):
            if os.path.lexists(missing):  # a file in the way
                raise NotADirectoryError(20, "Not a directory")
            created.append(missing)
            missing = os.path.dirname(missing)
        for directory in reversed(created):
            os.mkdir(directory)
        with signals_held():
            staging = tempfile.mkdtemp(prefix=".kubectl-inject-pull-", dir=parent)
        try:
            for name, text in files.items():
                write_atomically(os.path.join(staging, name), text)
            os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's 0700 is for the staging only
            with signals_held():
                os.rename(staging, output)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    except OSError as err:  # a file in the way, no permission: the user's to fix, one line
        for directory in created:
            with contextlib.suppress(OSError):
                os.rmdir(directory)
        raise InjectError(f"cannot create directory {output!r}: {err.strerror or err}") from None
    except BaseException:
        for directory in created:
            with contextlib.suppress(OSError):
                os.rmdir(directory)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _show(args) -> int:
    files = {"config": args.injectConfigFile, "values": args.valuesFile, "mesh": args.meshConfigFile}
    target = cluster_target(args)
    resolved = resolve(files, target, offline=args.offline, istio_version=args.istio_version)
    values = parse_values(resolved.texts["values"], source=resolved.origins["values"])
    evidence = evidence_for(resolved, target, args.istio_version, values, sidecar_template(resolved.texts["config"]))
    for piece, _, flag in PULL_FILES:
        print(f"{piece:7} {resolved.origins[piece]}")
    if resolved.from_cluster:
        print(f"revision {target.revision_name}, from {target.revision_source}")
    else:
        print(f"revision {target.revision_name} (-r/--revision; nothing read from a cluster)")
    print(f"release istioctl {evidence.name}, from {evidence.source}"
          + ("" if evidence.stated else " (the configuration states no release; --istio-version chooses)"))
    print(f"built-in defaults available: {', '.join(builtin_versions())}")
    if resolved.notice:
        print(resolved.notice, file=sys.stderr)
    return 0
