"""The cluster as the suite's own tests see it (self-tests, revisions): kubectl with the suite's
kubeconfig, not the lab's private one, and the waits that restoring Istio needs."""
from __future__ import annotations

import json
import subprocess
import time
import uuid

from lab_checks.labkit import kubectl_binary


class Cluster:
    """kubectl against the suite's cluster (not the lab's private kubeconfig)."""

    def __init__(self, info):
        self.info = info
        self.base = [kubectl_binary(), "--kubeconfig", info["kubeconfig"]] + (
            ["--context", info["context"]] if info.get("context") and info["mode"] == "existing" else [])

    def run(self, *args, check=True, timeout=120):
        proc = subprocess.run(self.base + list(args), capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr.strip()}")
        return proc

    def json(self, *args):
        proc = self.run("get", *args, "-o", "json", check=False)
        if proc.returncode != 0:
            if "NotFound" in proc.stderr:
                return None
            raise AssertionError(f"kubectl get {' '.join(args)}: {proc.stderr.strip()}")
        return json.loads(proc.stdout)

    def suite_args(self):
        if self.info["mode"] == "kind":
            return ["--lab-cluster", self.info["name"], "--lab-no-install"]
        return ["--kubeconfig", self.info["kubeconfig"]] + (
            ["--context", self.info["context"]] if self.info.get("context") else [])


def wait_until_istiod_serves_new_namespaces(cluster, timeout=180):
    """A restarted istiod is Ready before it leads again: its namespace controller (which gives
    every namespace the istio-ca-root-cert ConfigMap injected Pods mount) waits for the old
    leader lease. Restoring istiod means waiting until a new namespace gets that ConfigMap."""
    probe = f"lab-probe-{uuid.uuid4().hex[:6]}"
    cluster.run("create", "namespace", probe)
    try:
        deadline = time.monotonic() + timeout
        while cluster.json("configmap", "istio-ca-root-cert", "-n", probe) is None:
            assert time.monotonic() < deadline, f"istiod did not publish its root cert to {probe} in {timeout}s"
            time.sleep(2)
    finally:
        cluster.run("delete", "namespace", probe, "--wait=false", check=False)
