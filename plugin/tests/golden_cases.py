"""Istio's kube-inject golden cases (../shared/istio-golden), read where they live.

The data is Istio's (Apache-2.0) and stays beside the checkout; nothing is copied here.
"""
from __future__ import annotations

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("KUBECTL_INJECT_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
GOLDEN = os.path.join(SHARED, "istio-golden", "1.22.0")
SKIP_REASON = f"Istio golden data not found at {GOLDEN} (it lives in ../shared beside the checkout)"

_STATUS_VERSION = re.compile(r"sidecar.istio.io/status: '\{\"version\":\"([0-9a-f]+)\",")


def available() -> bool:
    return os.path.isfile(os.path.join(GOLDEN, "cases.yaml"))


def load_cases() -> list:
    if not available():
        return []
    with open(os.path.join(GOLDEN, "cases.yaml")) as handle:
        cases = yaml.safe_load(handle)["cases"]
    return [c for c in cases if not c.get("skipInjection")]


def case_id(case: dict) -> str:
    return f"{case['index']:02d}-{case.get('want') or case['in']}"


def merge(base: dict, over: dict) -> dict:
    """The README's merge rule: recursive, a value that is not a non-empty map replaces."""
    for key, value in over.items():
        if isinstance(value, dict) and value and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def config_files(case: dict, tmp_path) -> dict:
    """The three config files for a case, with its meshOverrides applied to the mesh file."""
    settings = case["settings"]
    inputs = os.path.join(GOLDEN, "inputs")
    files = {kind: os.path.join(inputs, f"{settings}.{kind}.gen.yaml") for kind in ("template", "values", "mesh")}
    if case.get("meshOverrides"):
        with open(files["mesh"]) as handle:
            mesh = yaml.safe_load(handle) or {}
        path = tmp_path / f"mesh-{case['index']}.yaml"
        path.write_text(yaml.safe_dump(merge(mesh, case["meshOverrides"])))
        files["mesh"] = str(path)
    return files


def expected_output(case: dict) -> str:
    with open(os.path.join(GOLDEN, "inject", case["want"])) as handle:
        return handle.read()


def comparable(text: str) -> str:
    """Istio's comparison: surrounding whitespace trimmed, the status 'version' hash blanked."""
    return _STATUS_VERSION.sub("sidecar.istio.io/status: '{\"version\":\"\",", text).strip()
