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
