"""kubectl inject against the real istioctl kube-inject that the hermetic build makes (built from
Istio's Go module; `make istioctl-path`), through the differential harness plugin/tools/parity.py.

Here only the `fields` corpus (plugin/tests/data/parity: one manifest per release-dependent
behaviour, the Pod fields of newer Kubernetes releases among them), both native-sidecar settings,
and the harness's own verdicts; `make parity` runs every corpus. Skipped, with the reason, where
that istioctl has not been built (the lab cache is empty)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inject_testkit import LAB_CACHE, ROOT
from hermetic_env import read_versions  # on sys.path through inject_testkit

ISTIO_VERSION = read_versions(Path(ROOT) / "lab_checks" / "hermetic" / "istio" / "versions.env")["ISTIO_VERSION"]
ISTIOCTL = os.path.join(LAB_CACHE, "istio", ISTIO_VERSION, "bin", "istioctl")
PARITY = os.path.join(ROOT, "plugin", "tools", "parity.py")
KUBECTL_INJECT = os.path.join(ROOT, ".venv", "bin", "kubectl-inject")

pytestmark = pytest.mark.skipif(
    not (os.access(ISTIOCTL, os.X_OK) and os.path.exists(KUBECTL_INJECT)),
    reason=f"no istioctl {ISTIO_VERSION} built here ({ISTIOCTL}; make istioctl-path) or no .venv")


def _parity(tmp_path, *args):
    report = tmp_path / "parity.json"
    proc = subprocess.run([sys.executable, PARITY, "--istioctl", ISTIOCTL, "--release", ISTIO_VERSION,
                           "--json", str(report), *args], capture_output=True, text=True, timeout=600)
    return proc, json.loads(report.read_text()) if report.exists() else []


def test_every_release_dependent_behaviour_matches_istioctl(tmp_path):
    proc, outcomes = _parity(tmp_path, "--corpus", "fields")
    differ = [o for o in outcomes if o["verdict"] == "differ"]
    assert proc.returncode == 0 and not differ, proc.stdout[-3000:]
    files = len(os.listdir(os.path.join(ROOT, "plugin", "tests", "data", "parity")))
    # each file with native sidecars off and on, with the release's config and with one that
    # states no release (fields-untagged: the newest release inferred, one notice: parity.py)
    assert len(outcomes) == 2 * 2 * files
    assert {o["corpus"] for o in outcomes} == {"fields", "fields-untagged"}
    # the invalid proxy.istio.io/config annotation fails in both, the rest is byte-identical
    assert {o["file"] for o in outcomes if o["verdict"] == "both-fail"} == \
        {"pod-invalid-proxy-config-not-injected.yaml"}


def test_the_harness_reports_a_difference_field_by_field(tmp_path):
    # the harness must be able to fail: a manifest with a field that only istioctl keeps
    # (`--release 1.22.0` makes kubectl inject reproduce istioctl 1.22, whose types lack it,
    # while the istioctl here is 1.30)
    proc = subprocess.run([sys.executable, PARITY, "--istioctl", ISTIOCTL, "--release", "1.22.0",
                           "--corpus", "fields", "--native", "false", "--show", "500"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1
    block = proc.stdout.split("DIFFER fields/pod-k8s-1.31-1.35-fields.yaml (ENABLE_NATIVE_SIDECARS=false)\n")[1]
    block = block.split("\n\n")[0]
    assert "    0/spec/hostnameOverride: istioctl has \"custom-host\", kubectl inject has nothing" in block
    files = len(os.listdir(os.path.join(ROOT, "plugin", "tests", "data", "parity")))
    assert f"parity 1.22.0 fields     native=false: {files} files, 0 equal, 1 both-fail, {files - 1} differ" \
        in proc.stdout
