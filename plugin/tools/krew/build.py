#!/usr/bin/env python3
"""Build kubectl inject's krew archive and plugin manifest (standard library only).

    python plugin/tools/krew/build.py --out dist [--version X] [--base-url URL]

writes dist/kubectl-inject-<version>.tar.gz and dist/inject.yaml, the manifest with that
archive's sha256 (the version: pyproject.toml's [project] version unless --version says).

What the archive holds, and why (plugin/tools/krew/README.md has the measurements):
  kubectl-inject              the launcher: finds python3 >= 3.10, else one `Error:` line
  lib/kubectl_inject_krew.py  the launcher's Python part (a module: its bytecode is cached)
  lib/kubectl_inject/         the package, as in plugin/ (no __pycache__)
  lib/kubectl_inject-<v>.dist-info/METADATA
                              so that `kubectl inject --version` finds its version
                              (importlib.metadata), as it does in a pip install
  lib/pyyaml/yaml/            PyYAML with its libyaml extension for CPython 3.10 to 3.15 on
                              Linux x86_64 and aarch64: extension file names carry the ABI and
                              platform tags, so twelve of them sit side by side and the
                              interpreter picks its own; the package parses with libyaml's
                              CParser, which a user's PyYAML may lack
  LICENSE                     kubectl inject's licence, then PyYAML's
So one archive serves linux/amd64 and linux/arm64, and the user needs only a python3 (3.10+).
Nothing is compiled into the archive: the launcher has Python write the bytecode into krew's
install directory ($KREW_ROOT/store/inject/<version>/, the user's) on the first run, as pip
compiles a package when it installs it.

The PyYAML wheels come from PyPI through pip (`pip download --only-binary=:all:`), once: they
are kept in ~/.cache/kubectl-inject-lab/krew/pyyaml-<version>/ and checked against the sha256
sums pinned below, since their contents are shipped to users.

The archive is reproducible: sorted entries, fixed owners, modes and times, gzip without a time
stamp, so the same sources give the same sha256. (krew does not keep a file's time when it
unpacks; nothing here depends on it.)
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
PACKAGE = os.path.join(ROOT, "plugin", "kubectl_inject")
PYPROJECT = os.path.join(ROOT, "pyproject.toml")
LAUNCHER = os.path.join(HERE, "kubectl-inject")
LAUNCHER_MODULE = os.path.join(HERE, "kubectl_inject_krew.py")
APACHE_LICENSE = os.path.join(HERE, "LICENSE-Apache-2.0")

PLUGIN = "inject"
DISTRIBUTION = "kubectl-inject"
MINIMUM_PYTHON = "3.10"
PYYAML_VERSION = "6.0.4"
# krew's arch names and the platform tags of the wheels and extension file names
ARCHES = {"amd64": "x86_64", "arm64": "aarch64"}
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "kubectl-inject-lab", "krew")

# The wheels as PyPI served them when this was written (pip checks them against the index's own
# sums as it downloads; these catch a changed or damaged file in the cache). A new PyYAML
# version means new sums here: a mismatch names the sum found.
WHEEL_SHA256 = {
    ("cp310", "aarch64"): "54c23934cf166bb2090d73d82b1388aadb1cead5e73885223dcfa4a459a22d43",
    ("cp310", "x86_64"): "88a089e6424a8a256321270620d5a4328ad5227fb2061b07d33f596894336914",
    ("cp311", "aarch64"): "71bb5b87465d88d1dfc577115af6d435bff9b26f2512936f610c26aa55966028",
    ("cp311", "x86_64"): "622aa875fa6533f25fedcffe23079357d65a690d462200afed5d8e9d0e01ebee",
    ("cp312", "aarch64"): "45e37dd647db9d67b757444c74060c064ace5fdaa08f42bf4fda3812275d423e",
    ("cp312", "x86_64"): "93bfb2459195406a518e2f487a9bbf01df240175f31e06f5a252ac6734c7bbf0",
    ("cp313", "aarch64"): "41b4669c3a8fd5750e594dff59d3e62d40e321fec467b50449603710ed0a68f3",
    ("cp313", "x86_64"): "50588147ab2c6a59b5f990a4905db80899a6c2bd197e046a6201f1e67587e794",
    ("cp314", "aarch64"): "ed9b957abb12f6ffcd92d5db32fa3ffd4e4a8423d80ddd51b4efa63b42f6a76b",
    ("cp314", "x86_64"): "c604dc2613c417130479cdd6e55c2faa691b6365aa82b3dafddfcecc2eaf1ac7",
    ("cp315", "aarch64"): "872d2a592289061c1b987e335b3568a2616b474be02bd0608d8f551a385441cd",
    ("cp315", "x86_64"): "c57e40928738c4a202852759f9e1ee2c7063429a9469ee1ac15651bbf7d69963",
}

# A fixed time for every archive entry (2020-01-01): the same input gives the same bytes.
EPOCH = 1577836800


class BuildError(Exception):
    """A one-line reason the build cannot go on."""


# ---- inputs ----------------------------------------------------------------------------------

def project_version(pyproject: str = PYPROJECT) -> str:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise BuildError("reading pyproject.toml needs Python 3.11+ (tomllib); or pass --version") from None
    with open(pyproject, "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def krew_version(version: str) -> str:
    """krew wants a semantic version with a leading v (its semver.Parse)."""
    return version if version.startswith("v") else "v" + version


def wheel_cache(cache: str = CACHE) -> str:
    return os.path.join(cache, f"pyyaml-{PYYAML_VERSION}")


def find_wheel(directory: str, tag: str, arch: str) -> str | None:
    prefix = f"pyyaml-{PYYAML_VERSION}-{tag}-{tag}-"
    for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else ():
        if name.startswith(prefix) and name.endswith(".whl") and f"_{arch}" in name:
            return os.path.join(directory, name)
    return None


def download_wheel(directory: str, tag: str, arch: str) -> None:
    """pip download into a directory of its own, then moved into the cache: an interrupted
    download never leaves half a wheel where the next build would take it."""
    os.makedirs(directory, exist_ok=True)
    python = f"{tag[2]}.{tag[3:]}"
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        command = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                   "--only-binary=:all:", "--platform", f"manylinux2014_{arch}", "--python-version",
                   python, "--no-deps", "-d", tmp, f"pyyaml=={PYYAML_VERSION}"]
        proc = subprocess.run(command, capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
            raise BuildError(f"pip download of PyYAML {PYYAML_VERSION} for {tag} {arch} failed: {last}")
        for name in os.listdir(tmp):
            os.replace(os.path.join(tmp, name), os.path.join(directory, name))


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheels(cache: str = CACHE, download: bool = True) -> dict:
    """{(tag, arch): path} of every pinned wheel, downloaded on first use (unless not to) and
    checked."""
    directory = wheel_cache(cache)
    found = {}
    for (tag, arch), expected in sorted(WHEEL_SHA256.items()):
        path = find_wheel(directory, tag, arch)
        if path is None and download:
            download_wheel(directory, tag, arch)
            path = find_wheel(directory, tag, arch)
        if path is None:
            raise BuildError(f"no PyYAML {PYYAML_VERSION} wheel for {tag} {arch} in {directory}"
                             + (" after pip download" if download else ""))
        actual = sha256_file(path)
        if actual != expected:
            raise BuildError(f"{path}: sha256 {actual}, pinned {expected} (delete it to download again, "
                             f"or update WHEEL_SHA256 for a new PyYAML)")
        found[tag, arch] = path
    return found


# ---- the tree the archive holds ---------------------------------------------------------------

def copy_package(lib: str) -> None:
    """The package as it is in plugin/, less what Python makes of it (bytecode, caches)."""
    shutil.copytree(PACKAGE, os.path.join(lib, "kubectl_inject"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"))


def write_metadata(lib: str, version: str) -> None:
    """The smallest dist-info importlib.metadata reads a version from (core metadata 2.1)."""
    info = os.path.join(lib, f"{DISTRIBUTION.replace('-', '_')}-{version}.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w", encoding="utf-8") as handle:
        handle.write(f"Metadata-Version: 2.1\nName: {DISTRIBUTION}\nVersion: {version}\n"
                     f"Requires-Python: >={MINIMUM_PYTHON}\n")
    with open(os.path.join(info, "INSTALLER"), "w", encoding="utf-8") as handle:
        handle.write("krew\n")


def unpack_pyyaml(bundle: str, wheel_paths: dict) -> str:
    """PyYAML's yaml/ from every wheel into bundle/yaml: the pure-Python files are the same in
    all of them (checked), the extensions differ by name. Returns PyYAML's licence text."""
    licence = None
    for path in wheel_paths.values():
        with zipfile.ZipFile(path) as wheel:
            for name in wheel.namelist():
                if name.startswith("yaml/") and not name.endswith("/"):
                    place_file(bundle, name, wheel.read(name))
                elif name.endswith("/licenses/LICENSE"):
                    licence = wheel.read(name).decode("utf-8")
    if licence is None:
        raise BuildError(f"the PyYAML {PYYAML_VERSION} wheels hold no licenses/LICENSE")
    return licence


def place_file(bundle: str, name: str, data: bytes) -> None:
    target = os.path.join(bundle, *name.split("/"))
    if os.path.exists(target):
        with open(target, "rb") as handle:
            if handle.read() != data:
                raise BuildError(f"PyYAML's {name} differs between its wheels; cannot share one yaml/")
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as handle:
        handle.write(data)


def licence_text(version: str, pyyaml_licence: str) -> str:
    with open(APACHE_LICENSE, encoding="utf-8") as handle:
        apache = handle.read()
    return (f"kubectl inject {version} is licensed under the Apache License, Version 2.0, whose text\n"
            f"follows. It bundles PyYAML {PYYAML_VERSION} with libyaml (lib/pyyaml/yaml), under the MIT\n"
            f"licence at the end of this file.\n\n{apache.rstrip()}\n\n"
            f"---- PyYAML {PYYAML_VERSION} (lib/pyyaml) ----\n\n{pyyaml_licence.rstrip()}\n")


def stage(tree: str, version: str, wheel_paths: dict) -> None:
    """The archive's contents, laid out in the empty directory tree."""
    lib = os.path.join(tree, "lib")
    os.makedirs(lib)
    shutil.copyfile(LAUNCHER, os.path.join(tree, "kubectl-inject"))
    os.chmod(os.path.join(tree, "kubectl-inject"), 0o755)
    shutil.copyfile(LAUNCHER_MODULE, os.path.join(lib, "kubectl_inject_krew.py"))
    copy_package(lib)
    write_metadata(lib, version)
    bundle = os.path.join(lib, "pyyaml")
    pyyaml_licence = unpack_pyyaml(bundle, wheel_paths)
    with open(os.path.join(bundle, "LICENSE"), "w", encoding="utf-8") as handle:
        handle.write(pyyaml_licence)
    with open(os.path.join(tree, "LICENSE"), "w", encoding="utf-8") as handle:
        handle.write(licence_text(version, pyyaml_licence))


# ---- the archive and the manifest -------------------------------------------------------------

def tar_entries(tree: str):
    """Every directory and file under tree, relative, sorted (parents before children)."""
    for parent, dirs, files in os.walk(tree):
        dirs.sort()
        rel = os.path.relpath(parent, tree)
        if rel != ".":
            yield rel.replace(os.sep, "/"), True
        for name in sorted(files):
            yield os.path.join(rel, name).replace(os.sep, "/").removeprefix("./"), False


def tar_info(tree: str, name: str, is_dir: bool) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = EPOCH
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    path = os.path.join(tree, *name.split("/"))
    if is_dir:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    else:
        info.size = os.path.getsize(path)
        # the launcher and the extensions executable, as pip installs extensions; the rest read-only data
        info.mode = 0o755 if os.access(path, os.X_OK) or name.endswith(".so") else 0o644
    return info


def write_archive(tree: str, path: str) -> None:
    """A reproducible tar.gz of tree. USTAR: plain headers that any tar and krew's Go reader
    take (krew unpacks only directories and regular files)."""
    with open(path + ".tmp", "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar:
                for name, is_dir in tar_entries(tree):
                    info = tar_info(tree, name, is_dir)
                    if is_dir:
                        tar.addfile(info)
                    else:
                        with open(os.path.join(tree, *name.split("/")), "rb") as handle:
                            tar.addfile(info, handle)
    os.replace(path + ".tmp", path)


SHORT_DESCRIPTION = "Add Istio sidecars to manifests, exactly as istioctl kube-inject does"

DESCRIPTION = """\
Transforms Kubernetes manifests as `istioctl kube-inject` does, byte for byte: the
Istio sidecar (and init container) added from the cluster's injector configuration,
from the three config files istioctl takes, or with --offline from a built-in
configuration of a known Istio release. --explain tells what was added, and why.
`kubectl inject config pull -o DIR` saves the cluster's injector configuration.

Requirements: Python 3.10 or newer as python3 on PATH (or KUBECTL_INJECT_PYTHON).
Everything else ships in the archive: the plugin (pure Python) and PyYAML with its
libyaml parser for CPython 3.10-3.15 on Linux x86_64 and arm64 (glibc 2.17+).
Only kubeconfigs whose user has an auth-provider (gcp, oidc, azure) need more: the
`kubernetes` Python package installed for that python3.
"""

CAVEATS = """\
This plugin runs on Python: it needs python3 (3.10 or newer) on PATH, or
KUBECTL_INJECT_PYTHON set to such an interpreter. It says so in one line if
there is none.
Its bundled PyYAML/libyaml covers CPython 3.10-3.15 on glibc Linux; another
Python (a newer one, musl/Alpine) needs its own: python3 -m pip install pyyaml.
A kubeconfig user with an auth-provider (gcp, oidc, azure) also needs:
  python3 -m pip install kubernetes
The first run of each version compiles the plugin's Python code into krew's
install directory (a fraction of a second, once).
"""


def block(text: str, indent: str) -> str:
    """text as a YAML literal block scalar's lines (|, the final line break kept)."""
    return "".join(indent + line if line.strip() else "\n" for line in text.splitlines(keepends=True))


def manifest_text(version: str, archive_name: str, sha256: str, base_url: str | None,
                  homepage: str | None = None) -> str:
    """The krew Plugin manifest: one platform entry per arch, all naming the same archive."""
    uri = f"{base_url.rstrip('/')}/{archive_name}" if base_url else archive_name
    platforms = "".join(
        f"  - selector:\n      matchLabels:\n        os: linux\n        arch: {arch}\n"
        f"    uri: {uri}\n    sha256: {sha256}\n    bin: kubectl-inject\n"
        for arch in ARCHES)
    home = f"  homepage: {homepage}\n" if homepage else ""
    return (f"apiVersion: krew.googlecontainertools.github.com/v1alpha2\n"
            f"kind: Plugin\nmetadata:\n  name: {PLUGIN}\nspec:\n  version: {krew_version(version)}\n"
            f"{home}  shortDescription: {SHORT_DESCRIPTION}\n"
            f"  description: |\n{block(DESCRIPTION, '    ')}"
            f"  caveats: |\n{block(CAVEATS, '    ')}"
            f"  platforms:\n{platforms}")


def build(out: str, version: str, base_url: str | None = None, homepage: str | None = None,
          cache: str = CACHE, wheel_paths: dict | None = None) -> tuple[str, str]:
    """Writes the archive and the manifest into out; returns their paths. wheel_paths: the
    PyYAML wheels to bundle, {key: path} (tests); by default the pinned ones (wheels())."""
    wheel_paths = wheels(cache) if wheel_paths is None else wheel_paths
    os.makedirs(out, exist_ok=True)
    archive_name = f"{DISTRIBUTION}-{version.removeprefix('v')}.tar.gz"
    archive = os.path.join(out, archive_name)
    with tempfile.TemporaryDirectory() as tmp:
        stage(os.path.join(tmp, "tree"), version.removeprefix("v"), wheel_paths)
        write_archive(os.path.join(tmp, "tree"), archive)
    manifest = os.path.join(out, f"{PLUGIN}.yaml")
    with open(manifest, "w", encoding="utf-8") as handle:
        handle.write(manifest_text(version, archive_name, sha256_file(archive), base_url, homepage))
    return archive, manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="directory for the archive and inject.yaml")
    parser.add_argument("--version", help="the plugin's version (default: pyproject.toml's)")
    parser.add_argument("--base-url", help="where the archive will be published: the manifest's uri is "
                        "BASE_URL/<archive>. Without it the uri is the bare file name, enough for "
                        "`kubectl krew install --manifest=inject.yaml --archive=<archive>`")
    parser.add_argument("--homepage", help="the manifest's homepage")
    parser.add_argument("--cache", default=CACHE, help="where the PyYAML wheels are kept (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        version = args.version or project_version()
        archive, manifest = build(args.out, version, args.base_url, args.homepage, args.cache)
    except (BuildError, OSError) as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    print(f"{archive} ({os.path.getsize(archive) / 2**20:.1f} MiB, sha256 {sha256_file(archive)})")
    print(manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
