"""What `kubectl inject --version` (and `kubectl inject version`) prints, and `lab-grade --version`:
the package's version, the git commit when it runs from a checkout, and for kubectl inject the
Istio releases it reproduces. A bug report needs all three.

Only the --version path imports this module (importlib.metadata and subprocess cost start-up time).
"""
from __future__ import annotations

import os
import platform
import subprocess

from .config_source import builtin_versions
from .releases import DEFAULT_RELEASE, PROFILES

DISTRIBUTION = "kubectl-inject"
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def package_version() -> str:
    from importlib import metadata  # lazy: a few milliseconds, for --version only
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # the checkout's launcher, not installed
        return "(not installed)"


def checkout_commit(package_dir: str, relative: str) -> str | None:
    """The commit of the checkout a package runs from (`git describe --always --dirty`), or None.

    package_dir is the package's directory, relative where it sits in a checkout ("plugin/
    kubectl_inject"). Only that layout counts: an installed copy inside some other git work tree
    (a venv in a user's project) must not report that project's commit."""
    root = os.path.normpath(os.path.join(package_dir, *[os.pardir] * len(relative.split("/"))))
    if os.path.normpath(os.path.join(root, relative)) != os.path.normpath(package_dir):
        return None
    if not (os.path.exists(os.path.join(root, ".git")) and os.path.isfile(os.path.join(root, "pyproject.toml"))):
        return None
    try:
        out = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty", "--abbrev=12"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def version_line(program: str, package_dir: str, relative: str) -> str:
    """`<program> <version>`, with the commit when run from a checkout, and the Python it runs on."""
    commit = checkout_commit(package_dir, relative)
    where = f", git {commit}" if commit else ""
    return f"{program} {package_version()} (Python {platform.python_version()}{where})"


def _dotted(release: tuple) -> str:
    return ".".join(str(part) for part in release)


def describe() -> str:
    """kubectl inject's --version text: its version line, then the Istio releases it reproduces."""
    lines = sorted(PROFILES)
    return "\n".join((
        version_line("kubectl inject", _PACKAGE_DIR, "plugin/kubectl_inject"),
        f"reproduces istioctl kube-inject of Istio {_dotted(lines[0])} to {_dotted(lines[-1])} "
        f"(release profiles: {', '.join(_dotted(r) for r in lines)}; default {_dotted(DEFAULT_RELEASE)})",
        f"built-in injector configurations (--offline, --istio-version): {', '.join(builtin_versions())}",
    )) + "\n"
