"""Fixtures of the sidecar-injection lab suite (test_lab_steps.py, test_lab_selftests.py).

The cluster (the kind cluster --lab-cluster, brought up with Istio by lab_checks/hermetic through
`make cluster-up`; or an existing cluster with --kubeconfig/--context), Istio's injector
configuration, the namespace, a work directory for the lab's files and the shell that runs the
lab's commands there.

Ordering, dependencies, progress and reports are the lab plugin's (lab_plugin.py, registered
here); options are the package's pytest plugin's (options.py, its `pytest11` entry point).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import sys
import subprocess
from pathlib import Path

import pytest
import yaml

from lab_checks import lab_plugin
from lab_checks.expectations import REVISION_LABEL, UnreadableConfig, control_plane_names, istio_config
from lab_checks.lab_plugin import SetupFailed, StepFailed, lab_run, step_of
from lab_checks.labkit import Lab, istiod_status, kind_cluster, kubectl_binary, last_line, wait_for
from lab_checks.steps import POD, Step
from lab_checks.where import CHECKOUT, SCRIPTS_DIR, build_dir

# An installed package runs the nine steps only: the self-tests need the checkout's make targets
# and kind cluster, the drift tests its test kit (plugin/tests).
collect_ignore = [] if CHECKOUT else ["test_lab_selftests.py", "test_lab_drift.py", "test_lab_revisions.py"]

LAB_FILES = ("nginx-pod.yaml", "transformed.yaml")
# On a namespace the suite created, so that a later run knows it may remove it (when a run could not,
# the API server being unreachable, the next run does).
CREATED_LABEL = "lab-checks.kubectl-inject.io/created-by"
CREATED_VALUE = "lab-suite"


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
    path = Path(opt) if opt else build_dir() / "lab-work"
    path.mkdir(parents=True, exist_ok=True)
    for name in LAB_FILES + ("kubeconfig",):
        (path / name).unlink(missing_ok=True)
    return path.resolve()


def _plugin_dir(pytestconfig) -> Path:
    opt = pytestconfig.getoption("lab_plugin_dir")
    if opt:
        return Path(opt).resolve()
    if (SCRIPTS_DIR / "kubectl-inject").exists():
        return SCRIPTS_DIR
    if CHECKOUT:
        return CHECKOUT  # the checkout's kubectl-inject launcher
    raise SetupFailed(f"no kubectl-inject in {SCRIPTS_DIR}: install the package (pip install kubectl-inject[lab]) "
                      "or give --lab-plugin-dir")


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
    existing one (which must have Istio already). An installed package has no kind cluster to bring
    up: it uses the kubeconfig in effect, as kubectl does.

    Returns {mode, name, kubeconfig, context, node_container, server_version}; the report shows it.
    """
    kubeconfig = pytestconfig.getoption("kubeconfig")
    context = pytestconfig.getoption("context")
    if kubeconfig or context or not CHECKOUT:
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
    Cleanup (the Pod, a namespace the suite created, the private kubeconfig) runs at the end however
    the run ends: failures, Ctrl-C or SIGTERM (lab_plugin turns both into KeyboardInterrupt, on which
    pytest tears fixtures down), and an interrupt during this set-up too. What it cannot remove (the
    API server unreachable) it names in the report, with the command that removes it.
    """
    lab = lab_shell
    state = {"created_ns": False}
    try:
        _connect(lab, lab_cluster, state)
        yield lab
    finally:
        cleanup(lab, state["created_ns"], pytestconfig)


def _connect(lab: Lab, lab_cluster: dict, state: dict):
    kubectl = kubectl_binary()
    view = [kubectl, "--kubeconfig", lab_cluster["kubeconfig"], "config", "view", "--raw", "--flatten", "--minify"]
    if lab_cluster.get("context"):
        view += ["--context", lab_cluster["context"]]
    out = subprocess.run(view, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise SetupFailed(f"cannot read kubeconfig {lab_cluster['kubeconfig']}: {last_line(out.stderr)}")
    # It holds the cluster's credentials: readable by us only, and removed by cleanup.
    lab.kubeconfig.unlink(missing_ok=True)
    fd = os.open(lab.kubeconfig, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(out.stdout)
    try:
        lab.server = (yaml.safe_load(out.stdout)["clusters"][0]["cluster"]["server"])
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        lab.server = ""
    set_ns = lab.run("kubectl", "config", "set-context", "--current", f"--namespace={lab.namespace}")
    if not set_ns.ok:
        raise SetupFailed(f"cannot set the lab namespace: {last_line(set_ns.stderr)}")
    lab.node_container = lab_cluster.get("node_container")

    ns = lab.get_json("namespace", lab.namespace, check_api=False)
    if ns is None:
        # Set first: an interrupt while kubectl creates it must not leave it behind.
        state["created_ns"] = True
        manifest = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": lab.namespace, "labels": {CREATED_LABEL: CREATED_VALUE}}})
        res = lab.sh(f"kubectl create -f - <<'EOF'\n{manifest}\nEOF")
        if not res.ok:
            raise SetupFailed(f"cannot create namespace {lab.namespace}: {last_line(res.stderr)}")
    elif (ns.get("metadata", {}).get("labels") or {}).get(CREATED_LABEL) == CREATED_VALUE:
        # Created by an earlier run that could not remove it: this run removes it.
        state["created_ns"] = "earlier run"
    # A Pod left by an earlier, killed run would make `kubectl apply` report "configured" and the
    # lab would not start from scratch.
    if lab.get_json("pod", POD, check_api=False) is not None:
        lab.kubectl("delete", "pod", POD, "--wait=true", "--timeout=90s", timeout=120)
    lab.connected = True
    lab.log.clear()


def cleanup(lab: Lab, created_ns, config):
    """Leaves the cluster as the lab found it and removes the private kubeconfig; records what it did
    in the report, and what it could not remove (and why, and how to) in `left_behind`."""
    run = lab_run(config)
    done, left = [], []
    # A second Ctrl-C, or a SIGTERM, must not leave the Pod behind: both are ignored until cleanup
    # is over, and the kubectl commands it runs are in sessions of their own, so a terminal's
    # Ctrl-C, which reaches the whole foreground process group, does not reach them. Every command
    # here is bounded.
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGTERM)}
    lab.own_session = True
    try:
        ns = lab.namespace
        remove_ns = shlex.join(["kubectl", "delete", "namespace", ns])
        remove_pod = shlex.join(["kubectl", "delete", "pod", POD, "-n", ns])

        def could_not(what, why, remove_with):
            done.append(f"could not remove {what}: {why}")
            left.append({"what": what, "why": why, "remove_with": remove_with})

        if lab.kubeconfig.is_file():
            unreachable = lab.api_unreachable()
            if unreachable:
                why = (f"the Kubernetes API server {lab.server or '(kubeconfig server)'} is unreachable "
                       f"({unreachable})")
                again = f"or run the suite again with --lab-namespace {ns}"
                pod = f"Pod {POD} (applied at step 5)" if lab.pod_applied else None
                if created_ns:
                    by = "an earlier run" if created_ns == "earlier run" else "this run"
                    could_not(f"namespace {ns} (created by {by})" + (f" with {pod} in it" if pod else ""),
                              why, f"{remove_ns}, {again}")
                elif pod:
                    could_not(f"{pod} in namespace {ns}", why, f"{remove_pod}, {again}")
                else:
                    done.append(f"nothing to remove: this run created nothing in the cluster ({why})")
            else:
                try:
                    pod = lab.get_json("pod", POD, check_api=False)
                except StepFailed as exc:
                    could_not(f"Pod {POD} in namespace {ns}", f"cannot look it up: {exc.reason}", remove_pod)
                    pod = None
                if pod is not None:
                    res = lab.kubectl("delete", "pod", POD, "--ignore-not-found", "--wait=true", "--timeout=90s",
                                      timeout=120)
                    if res.ok:
                        done.append(f"deleted leftover Pod {POD}")
                    else:
                        could_not(f"Pod {POD} in namespace {ns}", _failure(res), remove_pod)
                if created_ns:
                    res = lab.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true",
                                      "--timeout=120s", timeout=150)
                    if res.ok:
                        done.append(f"deleted namespace {ns}" + (" (left by an earlier run)"
                                                                 if created_ns == "earlier run" else ""))
                    else:
                        could_not(f"namespace {ns}", _failure(res), remove_ns)
    except Exception as exc:  # cleanup must not hide the run's result; it reports instead
        done.append(f"could not finish cleanup: {type(exc).__name__}: {exc}")
        left.append({"what": "(unknown: cleanup stopped)", "why": str(exc), "remove_with": ""})
    finally:
        # The private kubeconfig holds the cluster's credentials; the lab's own files stay.
        try:
            lab.kubeconfig.unlink(missing_ok=True)
        except OSError as exc:
            done.append(f"could not remove {lab.kubeconfig}: {exc}")
            left.append({"what": str(lab.kubeconfig), "why": str(exc), "remove_with": f"rm {lab.kubeconfig}"})
        lab.own_session = False
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    run.cleanup = done
    run.left_behind = left


def _failure(res) -> str:
    return f"`{res.command}` failed (exit {res.returncode})" + (f": {last_line(res.stderr)}" if res.stderr.strip() else
                                                               ", printing nothing")


@pytest.fixture(scope="session")
def istio(lab, lab_cluster) -> dict:
    """Istio's injector configuration as the cluster holds it (Istio installed; istiod's readiness is step 6's concern).

    Installed by lab_cluster on the kind cluster (make cluster-up); required on an existing one.
    Returns {values, templates, mesh, injector_config, istiod, istiod_image}.
    """
    lab.revision, why = _revision(lab)
    lab_cluster["istio_revision"] = f"{lab.revision or 'default'} ({why})"   # for the report
    injector, mesh, istiod = control_plane_names(lab.revision)
    dep = lab.get_json("deployment", istiod, "-n", lab.istio_namespace)
    if dep is None:
        raise SetupFailed(f"Istio is not installed: no Deployment {istiod} in {lab.istio_namespace}"
                          + (f" (revision {lab.revision}: {why})" if lab.revision else "")
                          + (" (make istio-up)" if lab_cluster["mode"] == "kind" else ""))
    # Installed is what the lab needs up to the Apply step (kubectl inject reads ConfigMaps). An istiod
    # that is not Ready is not a set-up error but the lab's problem: the Ready step diagnoses it. Only a
    # rollout in progress is given a moment.
    wanted = dep.get("spec", {}).get("replicas", 1)
    ready, state, waited = wait_for("istiod to be Ready", lambda: (*istiod_status(lab), False),
                                    timeout=60 if wanted else 0, progress=lab.progress, interval=3)
    cm = lab.get_json("configmap", injector, "-n", lab.istio_namespace)
    mesh_cm = lab.get_json("configmap", mesh, "-n", lab.istio_namespace)
    if cm is None or mesh_cm is None:
        raise SetupFailed(f"injector ConfigMaps missing in {lab.istio_namespace}: "
                          f"{injector} {'ok' if cm else 'missing'}, {mesh} {'ok' if mesh_cm else 'missing'}")
    image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
    lab_cluster["istiod_image"] = image   # for the report
    lab.log.clear()
    try:
        config = istio_config(cm, mesh_cm)
    except UnreadableConfig as err:   # the plugin would stop at Transform with the same complaint
        raise SetupFailed(f"Istio's injector configuration is unreadable: {err}") from None
    return {**config, "istiod": state, "istiod_image": image}


# `kubectl inject config show`: "revision REV, from WHY" (cluster mode) or "revision REV (WHY)".
REVISION_LINE = re.compile(r"revision ([^\s,]+)(?:, from (.*)| \((.*)\))$")


def _revision(lab: Lab) -> tuple[str, str]:
    """(revision, why) of the control plane the lab's `kubectl inject -f nginx-pod.yaml` reads
    ("" the unrevisioned one): the plugin's own answer (`kubectl inject config show`), so that the
    expectations use the configuration Transform used whatever the release does with the default
    revision tag. The lab namespace's istio.io/rev label (a revision or a tag: which webhook would
    inject there) is named beside it; kubectl inject, as istioctl kube-inject, does not read it.

    Asked of this package (python -m kubectl_inject), not of whatever `kubectl inject` is on the
    lab's PATH: that one is under test (--lab-plugin-dir, the self-tests' stand-ins), and a broken
    one must fail Transform, not decide where the expectations come from."""
    res = lab.run(sys.executable, "-m", "kubectl_inject", "config", "show")
    if not res.ok:
        raise SetupFailed(f"kubectl inject config show failed: {last_line(res.stderr)}")
    match = next((REVISION_LINE.match(line) for line in res.stdout.splitlines() if line.startswith("revision ")), None)
    revision, why = (match.group(1), match.group(2) or match.group(3)) if match else ("default", "no revision line")
    try:
        ns = lab.get_json("namespace", lab.namespace, check_api=False) or {}
        label = ((ns.get("metadata") or {}).get("labels") or {}).get(REVISION_LABEL)
        tag = label and lab.get_json("mutatingwebhookconfiguration", f"istio-revision-tag-{label}", check_api=False)
    except StepFailed:   # a name only, for the report: not readable is not a set-up failure
        label = tag = None
    if label:
        tagged = ((tag or {}).get("metadata") or {}).get("labels", {}).get(REVISION_LABEL) if tag else None
        why += (f"; namespace {lab.namespace} is labelled {REVISION_LABEL}={label}"
                + (f" (a tag: revision {tagged})" if tagged else "")
                + " (the webhook's choice; kubectl inject does not read it)")
    return ("" if revision == "default" else revision), why


@pytest.fixture(scope="session")
def lab_state() -> dict:
    """What one step hands to the next (parsed files, the proxy image)."""
    return {}
