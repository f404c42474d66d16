"""Outputs of `kubectl inject` over the shared real-world manifests, as digests.

The refactoring guard: a refactor must not change what the tool prints for any of the 285 public
manifests in ../shared/real-world-manifests, under each built-in configuration. `record` writes the
digests of the current outputs to data/real_world_digests.tsv (run it when an output change is
intended, and say why in the commit); test_real_world.py recomputes them and compares. Only digests
are stored: the manifests stay in ../shared.

    python plugin/tests/real_world.py record
"""
from __future__ import annotations

import hashlib
import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(os.path.dirname(os.path.dirname(HERE)), "..", "shared")
MANIFESTS = os.path.normpath(os.path.join(SHARED, "real-world-manifests", "manifests"))
DIGESTS = os.path.join(HERE, "data", "real_world_digests.tsv")
SKIP_REASON = f"the shared real-world manifests are absent ({MANIFESTS})"

# Each configuration the tool ships, with both native-sidecar settings where the release has them.
CONFIGS = {
    "1.22.0": (["--offline", "--istio-version", "1.22.0"], {}),
    "1.30.4": (["--offline", "--istio-version", "1.30.4"], {"ENABLE_NATIVE_SIDECARS": "false"}),
    "1.30.4-native": (["--offline", "--istio-version", "1.30.4"], {"ENABLE_NATIVE_SIDECARS": "true"}),
}


def available() -> bool:
    return os.path.isdir(MANIFESTS)


def manifests() -> list:
    return sorted(os.listdir(MANIFESTS))


def digest(config: str, name: str) -> str:
    """sha256 over exit code, stdout and stderr of one in-process run."""
    from kubectl_inject import cli
    flags, env = CONFIGS[config]
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.main(flags + ["-f", os.path.join(MANIFESTS, name)])
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    blob = f"{code}\n{out.getvalue()}\n--stderr--\n{err.getvalue()}".encode()
    return hashlib.sha256(blob).hexdigest()


def recorded() -> dict:
    table = {}
    with open(DIGESTS, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            config, name, sha = line.rstrip("\n").split("\t")
            table[(config, name)] = sha
    return table


def record() -> None:
    os.environ.pop("KUBECONFIG", None)
    os.environ["HOME"] = "/nonexistent"     # never a developer's cluster
    rows = [f"{c}\t{n}\t{digest(c, n)}" for c in CONFIGS for n in manifests()]
    with open(DIGESTS, "w", encoding="utf-8") as f:
        f.write("# config\tmanifest\tsha256(exit code, stdout, stderr): written by real_world.py record\n")
        f.write("\n".join(rows) + "\n")
    print(f"recorded {len(rows)} digests in {DIGESTS}")


if __name__ == "__main__":
    if sys.argv[1:] != ["record"]:
        sys.exit("usage: real_world.py record")
    record()
