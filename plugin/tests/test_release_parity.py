"""Differences from istioctl found on real-world manifests (issue 10), each pinned by what
Istio's code does."""
from __future__ import annotations

import json

import yaml

from inject_testkit import run_cli

SCRAPED_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: metrics
  annotations:
    prometheus.io/scrape: "true"
    prometheus.io/port: "9090"
    prometheus.io/path: /metrics
spec:
  containers:
  - name: app
    image: app
"""


def test_prometheus_annotations_env_is_in_struct_field_order(tmp_path, monkeypatch):
    # pilot-agent's status.PrometheusScrapeConfiguration declares Scrape, Path, Port, and
    # json.Marshal writes struct fields in declaration order
    pod = tmp_path / "pod.yaml"
    pod.write_text(SCRAPED_POD)
    code, out, err = run_cli(["--offline", "-f", str(pod)], {}, monkeypatch)
    assert code == 0, err
    spec = next(yaml.safe_load_all(out))["spec"]
    proxy = next(c for c in spec["containers"] if c["name"] == "istio-proxy")
    value = next(e["value"] for e in proxy["env"] if e["name"] == "ISTIO_PROMETHEUS_ANNOTATIONS")
    assert value == '{"scrape":"true","path":"/metrics","port":"9090"}'
    assert list(json.loads(value)) == ["scrape", "path", "port"]


def _run(tmp_path, monkeypatch, manifest: str):
    path = tmp_path / "in.yaml"
    path.write_text(manifest)
    return run_cli(["--offline", "-f", str(path)], {}, monkeypatch)


DEPLOYMENT_IN_KUBE_SYSTEM = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent
  namespace: kube-system
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: agent
"""


def test_workload_in_kube_system_is_injected_as_istioctl_does(tmp_path, monkeypatch):
    # kube-inject asks injectRequired about the Pod template's own metadata, whose namespace is
    # empty: the ignored namespaces (kube-system, kube-public) never match a workload's template
    code, out, err = _run(tmp_path, monkeypatch, DEPLOYMENT_IN_KUBE_SYSTEM)
    assert code == 0, err
    containers = next(yaml.safe_load_all(out))["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["agent", "istio-proxy"]


def test_pod_in_kube_system_is_skipped(tmp_path, monkeypatch):
    # a Pod's template is the Pod itself: its own namespace is checked
    pod = SCRAPED_POD.replace("  name: metrics\n", "  name: metrics\n  namespace: kube-system\n")
    code, out, err = _run(tmp_path, monkeypatch, pod)
    assert code == 0, err
    assert "istio-proxy" not in out
    assert "has sidecar injection disabled" in err


def test_invalid_proxy_config_fails_even_when_injection_is_disabled(tmp_path, monkeypatch):
    # istioctl applies proxy.istio.io/config (mesh.ApplyProxyConfig) before injectRequired
    pod = SCRAPED_POD.replace('    prometheus.io/scrape: "true"\n',
                              '    sidecar.istio.io/inject: "false"\n'
                              '    proxy.istio.io/config: "concurrency: [not a number]"\n')
    code, out, err = _run(tmp_path, monkeypatch, pod)
    assert code == 1 and out == ""
    assert err.splitlines()[-1] == ("Error: could not parse proxy config: json: cannot unmarshal "
                                    "array into Go value of type int32")


def test_native_sidecar_pod_without_containers_prints_an_empty_list(tmp_path, monkeypatch):
    # reorderPod assigns modifyContainers' result, a non-nil slice, to pod.Spec.Containers
    path = tmp_path / "in.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  initContainers:\n"
                    "  - name: init\n    image: busybox\n")
    code, out, err = run_cli(["--istio-version", "1.30.4", "-f", str(path)],
                             {"ENABLE_NATIVE_SIDECARS": "true"}, monkeypatch)
    assert code == 0, err
    assert "\n  containers: []\n" in out and "containers: null" not in out.split("spec:")[1]
    assert [c["name"] for c in next(yaml.safe_load_all(out))["spec"]["initContainers"]] == \
        ["istio-init", "istio-proxy", "init"]
