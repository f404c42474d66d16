"""Fixtures and reporting of the sidecar-injection lab suite (test_lab_steps.py).

Fixtures: the cluster (kind through pytest-kind, created or reused by name; or an existing cluster
with --kubeconfig/--context), Istio (installed on the kind cluster when absent; required and checked
on an existing one), the namespace, and a work directory for the lab's files.

Reporting: every lab step carries a `lab_step` marker (number, title, the lab's command, the steps it
depends on). A step whose dependency did not pass is skipped as "not run" instead of failing again;
a terminal table, a JSON report (--lab-report-json) and pytest's --junitxml describe the run, and the
exit status is 0 only when every collected step passed.

Options are registered in the root conftest.py (pytest's rule for command-line options).
"""
from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from labkit import (LAB_CACHE, REPO, VENV_BIN, Lab, LabKindCluster, Progress, SetupFailed, StepFailed,
                    istiod_status, kubectl_binary, last_line, wait_for)

POD = "mywebserver"
LAB_FILES = ("nginx-pod.yaml", "transformed.yaml")


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def lab_progress(pytestconfig):
    return Progress(pytestconfig)


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
    pytestconfig._lab_shell = lab
    return lab


@pytest.fixture(scope="session")
def lab_cluster(pytestconfig, lab_progress) -> dict:
    """The cluster: kind (created or reused by name) unless --kubeconfig/--context name an existing one.

    Returns {mode, name, kubeconfig, context, node_container, server_version}.
    """
    kubeconfig = pytestconfig.getoption("kubeconfig")   # pytest-kind's option
    context = pytestconfig.getoption("context")
    kubectl = kubectl_binary()
    if kubeconfig or context:
        kubeconfig = str(Path(kubeconfig).resolve()) if kubeconfig else (
            os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config"))
        info = {"mode": "existing", "name": context or "(current context)", "kubeconfig": kubeconfig,
                "context": context, "node_container": None}
    else:
        cluster = LabKindCluster(pytestconfig.getoption("lab_cluster"), lab_progress)
        if pytestconfig.getoption("lab_no_install"):
            cluster.ensure_kind()
            if not (cluster.exists() and cluster.node_running()):
                raise SetupFailed(f"kind cluster {cluster.name} is not running (--lab-no-install): make cluster-up")
        cluster.create()
        info = {"mode": "kind", "name": cluster.name, "kubeconfig": str(cluster.kubeconfig_path),
                "context": f"kind-{cluster.name}", "node_container": cluster.node_container,
                "created": cluster.created, "kind_cluster": cluster}
    base = [kubectl, "--kubeconfig", info["kubeconfig"]] + (["--context", context] if context else [])
    # kubectl's own retries make an unreachable API server slow to report; bound it.
    ver = subprocess.run(base + ["version", "-o", "json", "--request-timeout=15s"],
                         capture_output=True, text=True, timeout=60)
    if ver.returncode != 0:
        raise SetupFailed(f"API server of {info['name']} unreachable: {last_line(ver.stderr)}")
    info["server_version"] = json.loads(ver.stdout).get("serverVersion", {}).get("gitVersion")
    if info["mode"] == "existing" and not info["node_container"]:
        # A kind cluster used through --kubeconfig/--context: its nodes are local containers.
        nodes = subprocess.run(base + ["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"],
                               capture_output=True, text=True, timeout=60).stdout.strip()
        if nodes and shutil.which("docker") and subprocess.run(
                ["docker", "inspect", nodes], capture_output=True).returncode == 0:
            info["node_container"] = nodes
    pytestconfig._lab_cluster = {k: v for k, v in info.items() if k != "kind_cluster"}
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
    pytestconfig._lab_created_namespace = created_ns
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
    config._lab_cleanup = done


@pytest.fixture(scope="session")
def istio(pytestconfig, lab, lab_cluster) -> dict:
    """Istio's injector configuration as the cluster holds it (Istio installed; istiod's readiness is step 6's concern).

    kind mode: installed with `make istio-up` when istiod is absent. Existing cluster: required.
    Returns {values, templates, mesh, injector_config, istiod, istiod_image}.
    """
    dep = lab.get_json("deployment", "istiod", "-n", lab.istio_namespace)
    if dep is None:
        if lab_cluster["mode"] == "kind" and not pytestconfig.getoption("lab_no_install"):
            lab_cluster["kind_cluster"].install_istio()
        else:
            raise SetupFailed(f"Istio is not installed: no Deployment istiod in {lab.istio_namespace}"
                              + (" (make istio-up)" if lab_cluster["mode"] == "kind" else ""))
    # Installed is what the lab needs up to the Apply step (kubectl inject reads ConfigMaps). An istiod
    # that is not Ready is not a set-up error but the lab's problem: the Ready step diagnoses it. Only a
    # rollout in progress is given a moment.
    dep = lab.get_json("deployment", "istiod", "-n", lab.istio_namespace)
    wanted = dep.get("spec", {}).get("replicas", 1)
    ready, state, waited = wait_for("istiod to be Ready", lambda: (*istiod_status(lab), False),
                                    timeout=60 if wanted else 0, progress=lab.progress, interval=3)
    cm = lab.get_json("configmap", "istio-sidecar-injector", "-n", lab.istio_namespace)
    mesh_cm = lab.get_json("configmap", "istio", "-n", lab.istio_namespace)
    if cm is None or mesh_cm is None:
        raise SetupFailed(f"injector ConfigMaps missing in {lab.istio_namespace}: "
                          f"istio-sidecar-injector {'ok' if cm else 'missing'}, istio {'ok' if mesh_cm else 'missing'}")
    values = json.loads(cm["data"].get("values") or "{}")
    injector = yaml.safe_load(cm["data"].get("config") or "{}") or {}
    mesh = yaml.safe_load(mesh_cm["data"].get("mesh") or "{}") or {}
    image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
    pytestconfig._lab_cluster["istiod_image"] = image
    lab.log.clear()
    return {"values": values, "injector_config": injector, "templates": injector.get("templates") or {},
            "mesh": mesh, "istiod": state, "istiod_image": image}


@pytest.fixture(scope="session")
def lab_state() -> dict:
    """What one step hands to the next (parsed files, the proxy image)."""
    return {}


# --------------------------------------------------------------------------------------------
# Steps, dependencies and reports
# --------------------------------------------------------------------------------------------

def _step(item):
    m = item.get_closest_marker("lab_step")
    if m is None:
        return None
    number, title, command = m.args[:3]
    return {"number": number, "title": title, "command": command,
            "depends": tuple(m.kwargs.get("depends", ()))}


def _results(config) -> dict:
    if not hasattr(config, "_lab_results"):
        config._lab_results = {}
    return config._lab_results


def pytest_collection_modifyitems(session, config, items):
    # Steps run in the lab's order whatever order files are given in.
    steps = [i for i in items if _step(i)]
    if steps:
        others = [i for i in items if not _step(i)]
        items[:] = sorted(steps, key=lambda i: _step(i)["number"]) + others
        for i in steps:
            s = _step(i)
            _results(config)[s["number"]] = {**s, "name": i.name, "nodeid": i.nodeid, "outcome": "not run",
                                             "seconds": 0.0, "setup_seconds": 0.0,
                                             "reason": "not reached (run interrupted)", "details": "",
                                             "commands": []}
        config._lab_started = time.time()


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    outcome = yield
    if outcome.excinfo is not None:
        exc = outcome.excinfo[1]
        failed = getattr(request.config, "_lab_failed_fixtures", {})
        failed.setdefault(fixturedef.argname, last_line(str(exc).split("\n")[0]) or type(exc).__name__)
        request.config._lab_failed_fixtures = failed


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    step = _step(item)
    if step is None:
        return
    results = _results(item.config)
    for dep in step["depends"]:
        r = results.get(dep)
        if r is None or r["outcome"] != "passed":
            title = r["title"] if r else f"step {dep}"
            why = {"failed": "failed", "error": "could not be set up", "not run": "was not run"}.get(
                r["outcome"] if r else "", "was not collected")
            pytest.skip(f"not run: depends on step {dep} ({title}), which {why}")
    failed = getattr(item.config, "_lab_failed_fixtures", {})
    for name in item.fixturenames:
        if name in failed:
            pytest.skip(f"not run: set-up `{name}` failed: {failed[name]}")
    lab = getattr(item.config, "_lab_shell", None)
    if lab is not None:
        lab.log.clear()


def _reason_of(excinfo) -> tuple[str, str]:
    exc = excinfo.value
    if isinstance(exc, StepFailed):
        return exc.reason, exc.details
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if not isinstance(exc, (AssertionError, SetupFailed)):
        first = f"{type(exc).__name__}: {first}"
    return first, text


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    step = _step(item)
    if step is None:
        return
    r = _results(item.config)[step["number"]]
    if call.when == "setup":
        r["setup_seconds"] = round(call.duration, 2)
        if report.skipped:
            r["outcome"] = "not run"
            r["reason"] = str(call.excinfo.value.msg if hasattr(call.excinfo.value, "msg") else call.excinfo.value)
        elif report.failed:
            r["outcome"] = "error"
            reason, details = _reason_of(call.excinfo)
            r["reason"], r["details"] = f"set-up failed: {reason}", details
    elif call.when == "call":
        r["seconds"] = round(call.duration, 2)
        if report.passed:
            r["outcome"], r["reason"] = "passed", ""
        elif report.skipped:
            r["outcome"], r["reason"] = "not run", str(getattr(call.excinfo.value, "msg", call.excinfo.value))
        else:
            r["outcome"] = "failed"
            r["reason"], r["details"] = _reason_of(call.excinfo)
            if isinstance(call.excinfo.value, StepFailed):
                # The diagnosis is the useful part; the traceback into the suite's code is not.
                report.longrepr = f"step {step['number']} ({step['title']}): {r['reason']}\n\n{r['details']}"
        lab = getattr(item.config, "_lab_shell", None)
        if lab is not None:
            r["commands"] = [{"command": c.command, "exit": c.returncode, "seconds": round(c.seconds, 2)}
                             for c in lab.log]
        for key, value in item.user_properties:
            if key == "note":
                r["reason"] = r["reason"] or f"note: {value}"
    elif call.when == "teardown" and report.failed and r["outcome"] == "passed":
        r["outcome"] = "error"
        r["reason"], r["details"] = _reason_of(call.excinfo)
    # The one-line reason goes into the JUnit report too.
    if call.when in ("setup", "call") and r["reason"]:
        report.user_properties = list(report.user_properties) + [("lab_reason", r["reason"])]


def _all_passed(results) -> bool:
    return bool(results) and all(r["outcome"] == "passed" for r in results.values())


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    results = _results(config)
    if not results:
        return
    tr = terminalreporter
    tr.section("sidecar-injection lab")
    info = getattr(config, "_lab_cluster", None)
    if info:
        tr.write_line(f"cluster: {info['name']} ({info['mode']}, Kubernetes {info.get('server_version')}); "
                      f"istiod: {info.get('istiod_image', '?')}; namespace: {config.getoption('lab_namespace')}")
    rows = [(f"{r['number']} {r['title']}", r["outcome"].upper() if r["outcome"] != "not run" else "not run",
             f"{r['seconds']:.1f}", r["reason"]) for r in results.values()]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(("step", "result", "seconds"))]
    head = f"{'step':<{widths[0]}}  {'result':<{widths[1]}}  {'seconds':>{widths[2]}}  reason"
    tr.write_line(head)
    tr.write_line("-" * min(len(head) + 40, tr._tw.fullwidth))
    colors = {"PASSED": {"green": True}, "FAILED": {"red": True}, "ERROR": {"red": True}, "not run": {"yellow": True}}
    reason_width = max(110, tr._tw.fullwidth - sum(widths) - 8)
    for row in rows:
        reason = row[3] if len(row[3]) <= reason_width else row[3][:reason_width - 1] + "…"
        tr.write(f"{row[0]:<{widths[0]}}  ")
        tr.write(f"{row[1]:<{widths[1]}}", **colors.get(row[1], {}))
        tr.write_line(f"  {row[2]:>{widths[2]}}  {reason}")
    setup = sum(r["setup_seconds"] for r in results.values())
    total = sum(r["seconds"] for r in results.values())
    verdict = "every step passed" if _all_passed(results) else "the lab does NOT work"
    tr.write_line(f"steps {total:.1f}s, set-up {setup:.1f}s: {verdict}",
                  **({"green": True} if _all_passed(results) else {"red": True, "bold": True}))
    for note in getattr(config, "_lab_cleanup", []) or []:
        tr.write_line(f"cleanup: {note}")
    path = getattr(config, "_lab_report_path", None)
    if path:
        tr.write_line(f"JSON report: {path}")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    results = _results(config)
    if not results:
        return
    opt = config.getoption("lab_report_json")
    path = Path(opt) if opt else (REPO / "build" / "lab-report.json")
    if opt == "":
        path = None
    passed = _all_passed(results)
    if path is not None:
        info = getattr(config, "_lab_cluster", None) or {}
        started = getattr(config, "_lab_started", time.time())
        report = {
            "suite": "sidecar-injection lab",
            "result": "passed" if passed else "failed",
            "started": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.time() - started, 1),
            "interrupted": int(exitstatus) == int(pytest.ExitCode.INTERRUPTED),
            "cluster": info,
            "namespace": config.getoption("lab_namespace"),
            "steps": list(results.values()),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=2) + "\n")
        tmp.replace(path)
        config._lab_report_path = path
    # Exit 0 only when every step passed: a step that did not run is not a working lab.
    if not passed and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config):
    # The JSON report is written before fixtures are torn down; add what cleanup did.
    path = getattr(config, "_lab_report_path", None)
    if path and path.exists() and getattr(config, "_lab_cleanup", None) is not None:
        data = json.loads(path.read_text())
        data["cleanup"] = config._lab_cleanup
        path.write_text(json.dumps(data, indent=2) + "\n")
