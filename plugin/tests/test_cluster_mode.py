"""Cluster mode on the live lab cluster with Istio installed (issue 5).

These need `make cluster-up` (kind + Istio); they skip with the reason otherwise.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import uuid

import pytest
import yaml

from inject_testkit import NGINX_POD, kubectl_inject_command

pytestmark = pytest.mark.cluster

ISTIO_NAMESPACE = "istio-system"


@pytest.fixture
def k(kubectl, cluster_kubeconfig):
    """kubectl against the lab cluster; returns stdout, raises with stderr on failure."""
    def run(*args, stdin=None, check=True):
        result = subprocess.run([kubectl, "--kubeconfig", cluster_kubeconfig, *args], input=stdin,
                                capture_output=True, text=True, timeout=180)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout
    run.kubeconfig = cluster_kubeconfig
    return run


@pytest.fixture
def istio_installed(k):
    if "istio-sidecar-injector" not in k("-n", ISTIO_NAMESPACE, "get", "configmap", "-o", "name", check=False):
        pytest.skip("Istio is not installed in the lab cluster (run `make cluster-up`)")


def inject(k, *args, stdin=NGINX_POD, env=None):
    result = subprocess.run(kubectl_inject_command() + ["--kubeconfig", k.kubeconfig, *args], input=stdin,
                            capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})
    return result


def test_cluster_mode_uses_the_installed_control_plane(k, istio_installed):
    result = inject(k, "-f", "-")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", "no built-in notice in cluster mode"
    values = json.loads(k("-n", ISTIO_NAMESPACE, "get", "configmap", "istio-sidecar-injector",
                          "-o", "jsonpath={.data.values}"))
    hub, tag = values["global"]["hub"], values["global"]["tag"]
    assert f"image: {hub}/proxyv2:{tag}" in result.stdout


def test_cluster_mode_matches_istioctl(k, istio_installed):
    """Side by side with the istioctl built for the cluster, reading the same cluster."""
    istioctl = subprocess.run(["make", "-s", "istioctl-path"], capture_output=True, text=True,
                              cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    path = istioctl.stdout.strip().splitlines()[-1] if istioctl.returncode == 0 and istioctl.stdout.strip() else ""
    if not path or not os.path.exists(path):
        pytest.skip("the built istioctl is not available (make istio-images)")
    # Both follow the control plane's native-sidecar setting (istioctl by asking istiod's
    # webhook, we by reading istiod's environment), whatever the caller's environment says.
    for native in ("true", "false"):
        env = {"ENABLE_NATIVE_SIDECARS": native}
        ours = inject(k, "-f", "-", env=env)
        theirs = subprocess.run([path, "kube-inject", "--kubeconfig", k.kubeconfig, "-f", "-"], input=NGINX_POD,
                                capture_output=True, text=True, timeout=120, env={**os.environ, **env})
        assert theirs.returncode == 0, theirs.stderr
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == theirs.stdout, f"caller's ENABLE_NATIVE_SIDECARS={native}"


def test_missing_namespace_names_the_configmap(k, istio_installed):
    result = inject(k, "-f", "-", "-i", "no-istio-here")
    assert result.returncode == 1
    line = result.stderr.strip()
    assert "'istio-sidecar-injector' not found in namespace 'no-istio-here'" in line
    assert len(line.splitlines()) == 1


def test_second_revision(k, istio_installed):
    """-r REV reads istio-sidecar-injector-REV and istio-REV: a copy of the default revision's
    ConfigMaps with another image tag stands in for a second control plane's config."""
    revision = "lab-canary"
    injector = json.loads(k("-n", ISTIO_NAMESPACE, "get", "configmap", "istio-sidecar-injector", "-o", "json"))
    mesh = json.loads(k("-n", ISTIO_NAMESPACE, "get", "configmap", "istio", "-o", "json"))
    values = json.loads(injector["data"]["values"])
    values["global"]["tag"] = "canary-tag"
    values["revision"] = revision
    injector["data"]["values"] = json.dumps(values)
    created = []
    try:
        for cm, name in ((injector, f"istio-sidecar-injector-{revision}"), (mesh, f"istio-{revision}")):
            manifest = {"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": name, "namespace": ISTIO_NAMESPACE}, "data": cm["data"]}
            k("apply", "-f", "-", stdin=json.dumps(manifest))
            created.append(name)
        result = inject(k, "-f", "-", "-r", revision)
        assert result.returncode == 0, result.stderr
        assert f"/proxyv2:canary-tag" in result.stdout
        assert f'"revision":"{revision}"' in result.stdout
        default = inject(k, "-f", "-")
        assert "canary-tag" not in default.stdout
    finally:
        for name in created:
            k("-n", ISTIO_NAMESPACE, "delete", "configmap", name, "--ignore-not-found")


def test_config_pull_round_trips(k, istio_installed, tmp_path):
    pulled = subprocess.run(kubectl_inject_command() + ["config", "pull", "--kubeconfig", k.kubeconfig,
                                                        "-o", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert pulled.returncode == 0, pulled.stderr
    # The files cannot carry istiod's native-sidecar setting; `config pull` says which to use.
    setting = re.search(r"ENABLE_NATIVE_SIDECARS=(true|false)", pulled.stdout)
    assert setting, pulled.stdout
    env = {"ENABLE_NATIVE_SIDECARS": setting.group(1)}
    from_cluster = inject(k, "-f", "-")
    from_files = inject(k, "-f", "-", "--injectConfigFile", str(tmp_path / "inject-config.yaml"),
                        "--valuesFile", str(tmp_path / "values.yaml"), "--meshConfigFile", str(tmp_path / "mesh.yaml"),
                        env=env)
    assert from_cluster.returncode == 0 and from_files.returncode == 0, from_files.stderr
    assert from_files.stdout == from_cluster.stdout


# Fields the API server (not the injector) fills in or that differ per object.
SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation")


def _comparable(pod: dict) -> dict:
    pod = json.loads(json.dumps(pod))
    for field in SERVER_FIELDS:
        pod["metadata"].pop(field, None)
    pod.pop("status", None)
    spec = pod["spec"]
    for field in ("nodeName",):
        spec.pop(field, None)
    # the service-account token volume gets a random suffix (kube-api-access-xxxxx)
    token = [v["name"] for v in spec.get("volumes", []) if v["name"].startswith("kube-api-access-")]
    spec["volumes"] = [v for v in spec.get("volumes", []) if v["name"] not in token]
    for container in spec.get("containers", []) + spec.get("initContainers", []):
        container["volumeMounts"] = [m for m in container.get("volumeMounts", []) if m["name"] not in token]
    return pod


def test_equals_what_the_webhook_injects(k, istio_installed):
    namespace = f"inject-compare-{uuid.uuid4().hex[:6]}"
    k("create", "namespace", namespace)
    try:
        k("label", "namespace", namespace, "istio-injection=enabled")
        pod = yaml.safe_load(NGINX_POD)
        pod["metadata"]["namespace"] = namespace
        # 1. the mesh injects it: a real Pod through the webhook
        webhook_pod = dict(pod, metadata=dict(pod["metadata"], name="by-webhook"))
        webhook_pod["metadata"]["labels"] = {"run": "by-webhook"}
        k("create", "-f", "-", stdin=yaml.safe_dump(webhook_pod))
        live = json.loads(k("-n", namespace, "get", "pod", "by-webhook", "-o", "json"))
        # 2. we inject the same Pod, and let the API server default it without the webhook
        ours_in = dict(webhook_pod)
        ours = inject(k, "-f", "-", stdin=yaml.safe_dump(ours_in))
        assert ours.returncode == 0, ours.stderr
        # same name, so delete the live Pod first; switch the webhook off for this namespace
        k("-n", namespace, "delete", "pod", "by-webhook", "--wait=true", "--timeout=120s")
        k("label", "namespace", namespace, "istio-injection=disabled", "--overwrite")
        defaulted = json.loads(k("create", "--dry-run=server", "-o", "json", "-f", "-", stdin=ours.stdout))
        assert _comparable(defaulted) == _comparable(live)
    finally:
        k("delete", "namespace", namespace, "--wait=false")


def test_config_show_names_the_release_and_its_source(k, istio_installed):
    """The hermetic cluster's injector ConfigMap states its release in the operator's label (its
    Helm labels carry the chart's placeholder 1.0.0, which states nothing)."""
    labels = json.loads(k("-n", ISTIO_NAMESPACE, "get", "configmap", "istio-sidecar-injector",
                          "-o", "jsonpath={.metadata.labels}"))
    result = subprocess.run(kubectl_inject_command() + ["config", "show", "--kubeconfig", k.kubeconfig],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    release = [line for line in result.stdout.splitlines() if line.startswith("release ")]
    assert release == [f"release istioctl {labels['operator.istio.io/version']}, from the injector ConfigMap's "
                       "label operator.istio.io/version"]
    explained = inject(k, "-f", "-", "--explain")
    assert explained.stdout.splitlines()[0].startswith(f"as istioctl {labels['operator.istio.io/version']} kube-inject")
