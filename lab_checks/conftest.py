"""Fixtures of the sidecar-injection lab suite (test_lab_steps.py, test_lab_selftests.py).

The cluster (the kind cluster --lab-cluster, brought up with Istio by lab_checks/hermetic through
`make cluster-up`; or an existing cluster with --kubeconfig/--context), Istio's injector
configuration, the namespace, a work directory for the lab's files and the shell that runs the
lab's commands there.

Ordering, dependencies, progress and reports are the lab plugin's (lab_plugin.py, registered
here); options are registered in the root conftest.py (pytest's rule for command-line options).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

import lab_plugin
from expectations import istio_config
from lab_plugin import SetupFailed, lab_run, step_of
from labkit import REPO, VENV_BIN, Lab, istiod_status, kind_cluster, kubectl_binary, last_line, wait_for
from steps import POD, Step

LAB_FILES = ("nginx-pod.yaml", "transformed.yaml")


def pytest_configure(config):
    # Registered here rather than with `pytest_plugins`, which pytest accepts only in a conftest it
    # loads before configuring (`pytest lab_checks/...`, not `pytest .`).
    config.pluginmanager.register(lab_plugin, "lab_plugin")


@pytest.fixture(scope="session")
def lab_progress(pytestconfig):
    return lab_run(pytestconfig).progress


@pytest.fixture
def lab_step(request) -> Step:
    """The step (steps.STEPS) of the test asking: its name, commands and prerequisites."""
    return step_of(request.node)


@pytest.fixture(scope="session")
def lab_workdir(pytestconfig) -> Path:
    """The lab's current directory; lab files from an earlier run are removed so none is reused."""
    opt = pytestconfig.getoption("lab_workdir")
    path = Path(opt) if opt else REPO / "build" / "lab-work"
    path.mkdir(parents=True, exist_ok=True)
    for name in LAB_FILES + ("kubeconfig",):
        (path / name).unlink(missing_ok=True)
    return path.resolve()


def _plugin_dir(pytestconfig) -> Path:
    opt = pytestconfig.getoption("lab_plugin_dir")
    if opt:
        return Path(opt).resolve()
    if (VENV_BIN / "kubectl-inject").exists():
        return VENV_BIN
    return REPO  # the checkout's kubectl-inject launcher


@pytest.fixture(scope="session")
def lab_shell(pytestconfig, lab_workdir, lab_progress) -> Lab:
    """Runs the lab's commands: in the work directory, with our plugin and the real kubectl on PATH.
    The cluster fixtures fill in the kubeconfig; `kubectl inject --help` needs none."""
    kubectl = Path(kubectl_binary())
    path = os.pathsep.join(dict.fromkeys([str(_plugin_dir(pytestconfig)), str(kubectl.parent),
                                          os.environ.get("PATH", "")]))
    lab = Lab(workdir=lab_workdir, kubeconfig=lab_workdir / "kubeconfig",
              namespace=pytestconfig.getoption("lab_namespace"),
              istio_namespace=pytestconfig.getoption("lab_istio_namespace"),
              path=path, progress=lab_progress)
    lab_run(pytestconfig).shell = lab
    return lab


@pytest.fixture(scope="session")
def lab_cluster(pytestconfig, lab_progress) -> dict:
    """The cluster: the kind cluster --lab-cluster with Istio, unless --kubeconfig/--context name an
    existing one (which must have Istio already).

    Returns {mode, name, kubeconfig, context, node_container, server_version}; the report shows it.
    """
    kubeconfig = pytestconfig.getoption("kubeconfig")
    context = pytestconfig.getoption("context")
    if kubeconfig or context:
        kubeconfig = str(Path(kubeconfig).resolve()) if kubeconfig else (
            os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config"))
        info = {"mode": "existing", "name": context or "(current context)", "kubeconfig": kubeconfig,
                "context": context}
    else:
        name = pytestconfig.getoption("lab_cluster")
        path = kind_cluster(name, install=not pytestconfig.getoption("lab_no_install"), progress=lab_progress)
        info = {"mode": "kind", "name": name, "kubeconfig": str(path), "context": f"kind-{name}"}
    base = [kubectl_binary(), "--kubeconfig", info["kubeconfig"]] + (
        ["--context", info["context"]] if info["context"] else [])
    # kubectl's own retries make an unreachable API server slow to report; bound it.
    ver = subprocess.run(base + ["version", "-o", "json", "--request-timeout=15s"],
                         capture_output=True, text=True, timeout=60)
    if ver.returncode != 0:
        raise SetupFailed(f"API server of {info['name']} unreachable: {last_line(ver.stderr)}")
    info["server_version"] = json.loads(ver.stdout).get("serverVersion", {}).get("gitVersion")
    # A kind node is a local container named as the node (step 4 inspects the image there); any
    # cluster whose first node is such a container is treated alike, whichever way it was named.
    node = subprocess.run(base + ["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"],
                          capture_output=True, text=True, timeout=60).stdout.strip()
    info["node_container"] = node if node and shutil.which("docker") and subprocess.run(
        ["docker", "inspect", node], capture_output=True).returncode == 0 else None
    lab_run(pytestconfig).cluster = info
    return info


@pytest.fixture(scope="session")
def lab(pytestconfig, lab_shell, lab_cluster):
    """The lab shell connected to the cluster, in the lab namespace.

    The lab's commands carry no -n/--context: they run verbatim, as in the lab, against a private
    kubeconfig (work directory) whose current context is the chosen one with the lab namespace.
    Cleanup (the Pod, a namespace the suite created) runs at the end however the run ends:
    failures, Ctrl-C (pytest tears fixtures down on KeyboardInterrupt) or SIGTERM (turned into one).
    """
    lab = lab_shell
    kubectl = kubectl_binary()
    view = [kubectl, "--kubeconfig", lab_cluster["kubeconfig"], "config", "view", "--raw", "--flatten", "--minify"]
    if lab_cluster.get("context"):
        view += ["--context", lab_cluster["context"]]
    out = subprocess.run(view, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise SetupFailed(f"cannot read kubeconfig {lab_cluster['kubeconfig']}: {last_line(out.stderr)}")
    lab.kubeconfig.write_text(out.stdout)
    lab.kubeconfig.chmod(0o600)
    set_ns = lab.run("kubectl", "config", "set-context", "--current", f"--namespace={lab.namespace}")
    if not set_ns.ok:
        raise SetupFailed(f"cannot set the lab namespace: {last_line(set_ns.stderr)}")
    lab.node_container = lab_cluster.get("node_container")

    created_ns = False
    if lab.get_json("namespace", lab.namespace) is None:
        res = lab.kubectl("create", "namespace", lab.namespace)
        if not res.ok:
            raise SetupFailed(f"cannot create namespace {lab.namespace}: {last_line(res.stderr)}")
        created_ns = True
    # A Pod left by an earlier, killed run would make `kubectl apply` report "configured" and the
    # lab would not start from scratch.
    if lab.get_json("pod", POD) is not None:
        lab.kubectl("delete", "pod", POD, "--wait=true", "--timeout=90s", timeout=120)
    lab.log.clear()

    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)
    try:
        yield lab
    finally:
        signal.signal(signal.SIGTERM, previous)
        cleanup(lab, created_ns, pytestconfig)


def cleanup(lab: Lab, created_ns: bool, config):
    """Leaves the cluster as the lab found it; records what it did in the report."""
    done = []
    # A second Ctrl-C must not leave the Pod behind: ignore SIGINT until cleanup is over (kubectl
    # children inherit the ignore, so they finish too).
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if lab.get_json("pod", POD) is not None:
            res = lab.kubectl("delete", "pod", POD, "--ignore-not-found", "--wait=true", "--timeout=90s",
                              timeout=120)
            done.append(f"deleted leftover Pod {POD}" if res.ok else f"could not delete Pod {POD}: {last_line(res.stderr)}")
        if created_ns:
            res = lab.kubectl("delete", "namespace", lab.namespace, "--wait=true", "--timeout=120s", timeout=150)
            done.append(f"deleted namespace {lab.namespace}" if res.ok
                        else f"could not delete namespace {lab.namespace}: {last_line(res.stderr)}")
    except Exception as exc:  # cleanup must not hide the run's result; it reports instead
        done.append(f"cleanup error: {exc}")
    finally:
        signal.signal(signal.SIGINT, previous_int)
    lab_run(config).cleanup = done


@pytest.fixture(scope="session")
def istio(lab, lab_cluster) -> dict:
    """Istio's injector configuration as the cluster holds it (Istio installed; istiod's readiness is step 6's concern).

    Installed by lab_cluster on the kind cluster (make cluster-up); required on an existing one.
    Returns {values, templates, mesh, injector_config, istiod, istiod_image}.
    """
    dep = lab.get_json("deployment", "istiod", "-n", lab.istio_namespace)
    if dep is None:
        raise SetupFailed(f"Istio is not installed: no Deployment istiod in {lab.istio_namespace}"
                          + (" (make istio-up)" if lab_cluster["mode"] == "kind" else ""))
    # Installed is what the lab needs up to the Apply step (kubectl inject reads ConfigMaps). An istiod
    # that is not Ready is not a set-up error but the lab's problem: the Ready step diagnoses it. Only a
    # rollout in progress is given a moment.
    wanted = dep.get("spec", {}).get("replicas", 1)
    ready, state, waited = wait_for("istiod to be Ready", lambda: (*istiod_status(lab), False),
                                    timeout=60 if wanted else 0, progress=lab.progress, interval=3)
    cm = lab.get_json("configmap", "istio-sidecar-injector", "-n", lab.istio_namespace)
    mesh_cm = lab.get_json("configmap", "istio", "-n", lab.istio_namespace)
    if cm is None or mesh_cm is None:
        raise SetupFailed(f"injector ConfigMaps missing in {lab.istio_namespace}: "
                          f"istio-sidecar-injector {'ok' if cm else 'missing'}, istio {'ok' if mesh_cm else 'missing'}")
    image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
    lab_cluster["istiod_image"] = image   # for the report
    lab.log.clear()
    return {**istio_config(cm, mesh_cm), "istiod": state, "istiod_image": image}


@pytest.fixture(scope="session")
def lab_state() -> dict:
    """What one step hands to the next (parsed files, the proxy image)."""
    return {}
