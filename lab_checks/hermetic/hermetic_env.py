"""Where the hermetic cluster lives, for the tests here and under istio/ (one definition)."""
from __future__ import annotations

import os
from pathlib import Path

CACHE = Path(os.environ.get("LAB_CACHE", Path.home() / ".cache" / "kubectl-inject-lab"))
CLUSTER = os.environ.get("LAB_CLUSTER", "istio-lab")
KUBECONFIG = CACHE / f"kubeconfig-{CLUSTER}"


def read_versions(path: Path) -> dict:
    """KEY=VALUE lines of a versions.env file (comments and blanks skipped, quotes removed)."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key] = value.strip('"')
    return out
