"""`kubectl inject`: the command line, compatible with `istioctl kube-inject`.

Only YAML goes to stdout; warnings and errors go to stderr. Any failure is one line,
"Error: ...", with exit code 1 and no partial output.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

from .errors import InjectError

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


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 1, like every other error of ours
        raise InjectError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kubectl inject",
        description="Inject the Istio sidecar into Kubernetes workloads, exactly as "
                    "`istioctl kube-inject` does. Unsupported resources are passed through "
                    "unchanged, so a whole application manifest can be injected at once.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-f", "--filename", help="input Kubernetes resource file, or - for stdin")
    parser.add_argument("-o", "--output", help="write the injected resources to this file (atomically) instead of stdout")
    parser.add_argument("--injectConfigFile", help="injection configuration file (the `config` key of the istio-sidecar-injector ConfigMap)")
    parser.add_argument("--valuesFile", help="injection values file (the `values` key of the istio-sidecar-injector ConfigMap)")
    parser.add_argument("--meshConfigFile", help="mesh configuration file (the `mesh` key of the istio ConfigMap)")
    parser.add_argument("-r", "--revision", default="", help="Istio control plane revision to inject for")
    return parser


def _read(path: str, what: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as err:
        raise InjectError(f"cannot read {what} {path!r}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise InjectError(f"cannot read {what} {path!r}: not UTF-8 text") from None


def write_atomically(path: str, text: str) -> None:
    """Write via a temporary file in the same directory and rename it over the target, so a
    reader never sees half a file and the input may be the output (istioctl would empty it)."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".kubectl-inject-", dir=directory)
    except OSError as err:
        raise InjectError(f"cannot write {path!r}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as err:
        os.unlink(tmp)
        raise InjectError(f"cannot write {path!r}: {err.strerror}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def run(argv) -> int:
    args = build_parser().parse_args(argv)
    if not args.filename:
        raise InjectError("filename not specified (see --filename or -f)")
    from .inject import Settings, inject_text
    from .load_config import parse_injector_config, parse_values
    from .meshconfig import MeshConfigError, load_mesh_config

    missing = [flag for flag, value in (("--injectConfigFile", args.injectConfigFile),
                                         ("--valuesFile", args.valuesFile),
                                         ("--meshConfigFile", args.meshConfigFile)) if not value]
    if missing:
        raise InjectError("no injector configuration: give --injectConfigFile, --valuesFile and "
                          "--meshConfigFile (missing: " + ", ".join(missing) + ")")
    manifest = _read(args.filename, "input file")
    try:
        mesh = load_mesh_config(_read(args.meshConfigFile, "mesh config file"))
    except MeshConfigError as err:
        raise InjectError(f"invalid mesh config {args.meshConfigFile!r}: {err}") from None
    injector = parse_injector_config(_read(args.injectConfigFile, "injection config file"),
                                     source=args.injectConfigFile)
    values = parse_values(_read(args.valuesFile, "values file"), source=args.valuesFile)
    revision = "" if args.revision == "default" else args.revision
    settings = Settings(injector=injector, values=values, mesh=mesh, revision=revision)

    warnings = []
    output = inject_text(manifest, settings, warn=warnings.append)
    if args.output:
        write_atomically(args.output, output)
    else:
        sys.stdout.write(output)
        sys.stdout.flush()
    if warnings:
        print(file=sys.stderr)
        for warning in warnings:
            print(warning, file=sys.stderr)
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return run(argv)
    except InjectError as err:
        print(f"Error: {err.one_line()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
