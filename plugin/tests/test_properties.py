"""Property-based tests of the command over generated Pods and workloads (issue 14).

For any manifest: exit code 0 or 1 only; never a traceback or an "internal error"; on failure
exactly one line on stderr and nothing on stdout; on success stdout parses as YAML, and every
document that is not a workload comes out byte for byte as it went in. Injecting the output again
changes nothing for Pods without a user-supplied istio-proxy container (the generator never
writes one). The command runs in-process (as real_world.py runs it) so that hypothesis can try
many manifests quickly.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in the lab extra (make install)")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from inject_testkit import LAB_CACHE  # noqa: E402
from kubectl_inject import cli  # noqa: E402

sys.setrecursionlimit(max(sys.getrecursionlimit(), cli.RECURSION_LIMIT))  # as cli.main sets it

# No shrinking phase: each example is a whole run of the command, and shrinking a failure took
# minutes; the failing example is printed as generated.
PROFILE = settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "60")), deadline=None,
                   phases=[Phase.explicit, Phase.reuse, Phase.generate],
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.function_scoped_fixture])

# Names as Kubernetes allows them, plus some it does not (the injector does not validate names).
names = st.one_of(st.from_regex(r"[a-z]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True),
                  st.text(min_size=1, max_size=12))
scalars = st.one_of(st.text(max_size=20), st.integers(-10**6, 10**6), st.booleans(), st.none(),
                    st.floats(allow_nan=False, allow_infinity=False, width=32))
quantities = st.one_of(st.sampled_from(["100m", "1", "0.5", "128Mi", "1Gi", "2e3", "lots", "", "-1"]),
                       st.text(max_size=6))
ANNOTATIONS = ["sidecar.istio.io/inject", "sidecar.istio.io/proxyCPU", "sidecar.istio.io/proxyMemory",
               "sidecar.istio.io/interceptionMode", "traffic.sidecar.istio.io/includeOutboundIPRanges",
               "traffic.sidecar.istio.io/excludeInboundPorts", "status.sidecar.istio.io/port",
               "proxy.istio.io/config", "prometheus.io/scrape", "prometheus.io/port",
               "sidecar.istio.io/rewriteAppHTTPProbers", "readiness.status.sidecar.istio.io/periodSeconds",
               "example.com/free-text"]
annotation_values = st.one_of(st.sampled_from(["true", "false", "REDIRECT", "TPROXY", "15020", "10.0.0.0/8",
                                               "*", "80,443", "bad,,", "concurrency: 2", "{", "100m"]),
                              st.text(max_size=10))


@st.composite
def containers(draw):
    container = {"name": draw(names), "image": draw(st.sampled_from(["nginx", "busybox:1.36", "x/y@sha256:00"]))}
    if draw(st.booleans()):
        container["ports"] = [{"containerPort": draw(st.integers(1, 65535))}
                              for _ in range(draw(st.integers(0, 3)))]
    if draw(st.booleans()):
        container["env"] = [{"name": draw(names), "value": draw(st.text(max_size=10))}
                            for _ in range(draw(st.integers(0, 3)))]
    if draw(st.booleans()):
        container["resources"] = {"limits": {"cpu": draw(quantities)}, "requests": {"memory": draw(quantities)}}
    if draw(st.booleans()):
        container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": draw(st.integers(1, 65535))}}
    if draw(st.integers(0, 9)) == 0:
        container["args"] = draw(st.lists(scalars, max_size=3))  # non-strings: a type error
    return container


@st.composite
def pod_template(draw):
    metadata = {"name": draw(names)}
    if draw(st.booleans()):
        metadata["labels"] = draw(st.dictionaries(names, st.text(max_size=8), max_size=3))
    if draw(st.booleans()):
        metadata["annotations"] = draw(st.dictionaries(st.sampled_from(ANNOTATIONS), annotation_values, max_size=4))
    spec = {"containers": draw(st.lists(containers(), min_size=0, max_size=3))}
    if draw(st.booleans()):
        spec["initContainers"] = draw(st.lists(containers(), max_size=2))
    if draw(st.integers(0, 5)) == 0:
        spec["hostNetwork"] = draw(st.booleans())
    if draw(st.integers(0, 5)) == 0:
        spec["restartPolicy"] = draw(st.sampled_from(["Always", "Never", "OnFailure"]))
    return {"metadata": metadata, "spec": spec}


@st.composite
def workloads(draw):
    template = draw(pod_template())
    kind = draw(st.sampled_from(["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job",
                                 "CronJob", "ReplicationController"]))
    api = {"Pod": "v1", "ReplicationController": "v1", "Job": "batch/v1", "CronJob": "batch/v1"}.get(kind, "apps/v1")
    if kind == "Pod":
        return {"apiVersion": api, "kind": kind, **template}
    spec = {"template": template}
    if kind == "CronJob":
        spec = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}
    elif kind not in ("Job",):
        spec["selector"] = {"matchLabels": {"app": "x"}}
    return {"apiVersion": api, "kind": kind, "metadata": {"name": draw(names)}, "spec": spec}


other_documents = st.builds(
    lambda kind, name, data: {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, "data": data},
    st.sampled_from(["ConfigMap", "Secret", "Service", "Namespace", "CustomThing"]), names,
    st.dictionaries(names, scalars, max_size=4))


def run(tmp_path, text: str, *extra):
    source = tmp_path / "in.yaml"
    source.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["--offline", "--istio-version", "1.30.4", *extra, "-f", str(source)])
    return code, out.getvalue(), err.getvalue()


def check_promise(code, stdout, stderr):
    assert code in (0, 1), (code, stderr)
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    if code == 1:
        assert stdout == ""
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    else:
        list(yaml.safe_load_all(stdout))


@PROFILE
@given(documents=st.lists(st.one_of(workloads(), other_documents), min_size=1, max_size=4))
def test_any_manifest_keeps_the_promise(tmp_path, monkeypatch, documents):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    texts = [yaml.safe_dump(doc, sort_keys=False) for doc in documents]
    code, stdout, stderr = run(tmp_path, "---\n".join(texts))
    check_promise(code, stdout, stderr)
    if code == 0:
        chunks = stdout.split("---\n")
        for doc, text in zip(documents, texts):
            if doc["kind"] in ("ConfigMap", "Secret", "Service", "Namespace", "CustomThing"):
                assert text in chunks, "a non-workload document changed"


@PROFILE
@given(pod=workloads())
def test_injecting_twice_changes_nothing(tmp_path, monkeypatch, pod):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    code, once, stderr = run(tmp_path, yaml.safe_dump(pod, sort_keys=False))
    check_promise(code, once, stderr)
    if code != 0:
        return
    code, twice, stderr = run(tmp_path, once)
    assert code == 0, stderr
    assert twice == once


# --- differential: the same generated manifests through the istioctl the lab build makes --------

ISTIO_RELEASE = "1.30.4"
ISTIOCTL = os.path.join(LAB_CACHE, "istio", ISTIO_RELEASE, "bin", "istioctl")
BUILTIN = os.path.join(os.path.dirname(cli.__file__), "builtin", ISTIO_RELEASE)
CONFIG_FILES = ["--injectConfigFile", os.path.join(BUILTIN, "template.yaml"),
                "--valuesFile", os.path.join(BUILTIN, "values.yaml"),
                "--meshConfigFile", os.path.join(BUILTIN, "mesh.yaml")]


def istioctl(path: str):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent", "KUBECONFIG": "/nonexistent"}
    proc = subprocess.run([ISTIOCTL, "kube-inject", "-r", "default", *CONFIG_FILES, "-f", path],
                          capture_output=True, text=True, env=env, timeout=60)
    return proc.returncode, proc.stdout


@pytest.mark.skipif(not os.access(ISTIOCTL, os.X_OK), reason=f"no istioctl {ISTIO_RELEASE} built here ({ISTIOCTL})")
@settings(PROFILE, max_examples=int(os.environ.get("HYPOTHESIS_ISTIOCTL_EXAMPLES", "25")))
@given(documents=st.lists(st.one_of(workloads(), other_documents), min_size=1, max_size=3))
def test_generated_manifests_match_istioctl(tmp_path, monkeypatch, documents):
    """Exit status, and stdout byte for byte when istioctl succeeds; again on the injected output
    (re-injection is istioctl's business: whatever it does with its own output, we do)."""
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    monkeypatch.delenv("ENABLE_NATIVE_SIDECARS", raising=False)
    text = "---\n".join(yaml.safe_dump(doc, sort_keys=False) for doc in documents)
    for _ in range(2):
        code, ours, stderr = run(tmp_path, text, *CONFIG_FILES)
        go_code, theirs = istioctl(str(tmp_path / "in.yaml"))
        assert (code != 0) == (go_code != 0), (stderr, theirs[-300:])
        if code != 0:
            return  # istioctl prints the documents before the failing one; we print nothing
        assert ours == theirs
        text = ours
