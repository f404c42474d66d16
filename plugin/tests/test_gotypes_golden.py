"""Typed normalisation over Istio 1.22.0's kube-inject golden files.

The *.injected files are istioctl's own output (Go's typed round trip), so
normalising them must change nothing; normalising an input must give exactly
what istioctl printed for every field injection does not touch.
"""
import copy
import glob
import os

import pytest
import yaml

from kubectl_inject.gotypes.typed import normalize, object_type

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(os.path.dirname(REPO), "shared", "istio-golden", "1.22.0")
INJECT = os.path.join(GOLDEN, "inject")
SKIP = f"Istio golden data not found at {GOLDEN} (expected in ../shared beside the repository)"

pytestmark = pytest.mark.skipif(not os.path.isdir(INJECT), reason=SKIP)


def _load_all(path):
    text = open(path, encoding="utf-8").read()
    try:
        from kubectl_inject import goyaml
        return [d for d in goyaml.load_all(text) if d is not None]
    except ImportError:  # the project's YAML reader is optional here
        return [d for d in yaml.safe_load_all(text) if d is not None]


def _typed_docs(path):
    out = []
    for doc in _load_all(path):
        if isinstance(doc, dict):
            t = object_type(doc.get("apiVersion", ""), doc.get("kind", ""))
            if t is not None:
                out.append((doc, t))
    return out


def _files(pattern):
    return sorted(glob.glob(os.path.join(INJECT, pattern))) if os.path.isdir(INJECT) else []


@pytest.mark.parametrize("path", _files("*.injected"), ids=os.path.basename)
def test_expected_outputs_are_fixed_points(path):
    docs = _typed_docs(path)
    for doc, t in docs:
        assert normalize(copy.deepcopy(doc), t) == doc


def _untouched(doc):
    """The parts of a typed object injection leaves alone."""
    doc = copy.deepcopy(doc)
    if doc.get("kind") == "List":
        return {k: v for k, v in doc.items() if k != "items"}
    if doc.get("kind") == "Pod":
        return {k: v for k, v in doc.items() if k not in ("metadata", "spec")}
    spec = doc.get("spec") or {}
    if doc.get("kind") == "CronJob":
        spec.get("jobTemplate", {}).get("spec", {}).pop("template", None)
        spec.get("jobTemplate", {}).pop("metadata", None)
    else:
        spec.pop("template", None)
    return doc


def _cases():
    path = os.path.join(GOLDEN, "cases.yaml")
    if not os.path.isfile(path):
        return []
    cases = yaml.safe_load(open(path, encoding="utf-8"))["cases"]
    return [c for c in cases if c.get("want") and not c.get("skipInjection")]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['index']:02d}-{c['want']}")
def test_inputs_normalise_to_istioctl_output_outside_injection(case):
    inputs = _typed_docs(os.path.join(INJECT, case["in"]))
    wants = _typed_docs(os.path.join(INJECT, case["want"]))
    assert len(inputs) == len(wants)
    for (doc, t), (want, _) in zip(inputs, wants):
        got = normalize(copy.deepcopy(doc), t)
        assert _untouched(got) == _untouched(want)


def test_every_typed_input_normalises():
    n = 0
    for path in _files("*.yaml"):
        for doc, t in _typed_docs(path):
            normalize(copy.deepcopy(doc), t)
            n += 1
    assert n >= 80
