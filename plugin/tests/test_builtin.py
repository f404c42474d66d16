"""The built-in injector configs (plugin/kubectl_inject/builtin/<version>/).

For Istio 1.22.0 every golden case that Istio ran with its default settings is run again
with our own built-in template, values and mesh config instead of Istio's, and must give
Istio's expected output, except that images come from docker.io/istio at tag 1.22.0 rather
than gcr.io/istio-testing at tag latest. For the newer built-in release, for which there is
no golden data, the lab's nginx Pod must get the expected init and proxy containers.
"""
from __future__ import annotations

import os
import re

import pytest
import yaml

from golden_cases import GOLDEN, SKIP_REASON, available, case_id, comparable, expected_output, load_cases, merge
from inject_testkit import LAB_CACHE, run_cli
from kubectl_inject.config_source import BUILTIN_DIR, builtin_versions

LAB_VERSION = "1.22.0"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VERSIONS_ENV = os.path.join(ROOT, "lab_checks", "hermetic", "istio", "versions.env")
# The stable release built in besides the lab's (see docs/builtin-config.md).
STABLE_VERSION = "1.30.4"

# Istio's golden files were produced with hub gcr.io/istio-testing and tag latest.
GOLDEN_IMAGE = re.compile(r"gcr\.io/istio-testing/([A-Za-z0-9._-]+):latest")

NGINX_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
    - containerPort: 80
"""


def builtin_file(version: str, name: str) -> str:
    return os.path.join(BUILTIN_DIR, version, name)


def default_cases() -> list:
    return [c for c in load_cases() if c["settings"] == "default"]


def builtin_mesh_for(case: dict, tmp_path) -> str:
    """Our built-in mesh config with the case's meshOverrides merged in (the README's rule)."""
    path = builtin_file(LAB_VERSION, "mesh.yaml")
    if not case.get("meshOverrides"):
        return path
    with open(path) as handle:
        mesh = yaml.safe_load(handle) or {}
    merged = tmp_path / f"mesh-{case['index']}.yaml"
    merged.write_text(yaml.safe_dump(merge(mesh, case["meshOverrides"])))
    return str(merged)


@pytest.mark.skipif(not available(), reason=SKIP_REASON)
@pytest.mark.parametrize("case", default_cases(), ids=case_id)
def test_builtin_1_22_matches_golden(case, tmp_path, monkeypatch):
    argv = ["--injectConfigFile", builtin_file(LAB_VERSION, "template.yaml"),
            "--valuesFile", builtin_file(LAB_VERSION, "values.yaml"),
            "--meshConfigFile", builtin_mesh_for(case, tmp_path),
            "-f", os.path.join(GOLDEN, "inject", case["in"])]
    code, out, err = run_cli(argv, case.get("env", {}), monkeypatch)
    if case.get("expectedError"):
        assert code == 1, f"expected a failure, got exit {code}"
        assert case["expectedError"].lower() in err.lower()
        return
    assert code == 0, err
    want = GOLDEN_IMAGE.sub(rf"docker.io/istio/\1:{LAB_VERSION}", expected_output(case))
    assert comparable(out) == comparable(want)
    if case.get("expectedLog"):
        assert case["expectedLog"] in err


def test_default_cases_found():
    if not available():
        pytest.skip(SKIP_REASON)
    # Istio 1.22.0's table has 76 runnable cases with default settings; fewer means the data changed.
    assert len(default_cases()) == 76


def test_versions_present():
    versions = builtin_versions()
    assert LAB_VERSION in versions
    assert STABLE_VERSION in versions
    for version in versions:
        for name in ("template.yaml", "values.yaml", "mesh.yaml"):
            assert os.path.isfile(builtin_file(version, name)), f"{version}/{name} missing"


def pinned_istio_version():
    with open(VERSIONS_ENV) as handle:
        for line in handle:
            if line.startswith("ISTIO_VERSION="):
                return line.split("=", 1)[1].strip().strip('"').strip("'")
    return None


def test_stable_matches_versions_env():
    """The stable built-in is the release the lab's Istio build pins."""
    if not os.path.isfile(VERSIONS_ENV):
        pytest.skip(f"{VERSIONS_ENV} not written yet (helper 'istio')")
    assert pinned_istio_version() == STABLE_VERSION


def values_of(version: str) -> dict:
    with open(builtin_file(version, "values.yaml")) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("version", [LAB_VERSION, STABLE_VERSION])
def test_values_name_release_images(version):
    glob = values_of(version)["global"]
    assert glob["hub"] == "docker.io/istio"
    assert str(glob["tag"]) == version


def pod_of(output: str) -> dict:
    docs = [d for d in yaml.safe_load_all(output) if d]
    assert len(docs) == 1
    return docs[0]


@pytest.mark.parametrize("version", [LAB_VERSION, STABLE_VERSION])
def test_nginx_pod_offline(version, tmp_path, monkeypatch):
    """No cluster and no config files: the built-in config of the chosen release injects."""
    source = tmp_path / "nginx-pod.yaml"
    source.write_text(NGINX_POD)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.delenv("ENABLE_NATIVE_SIDECARS", raising=False)
    code, out, err = run_cli(["--istio-version", version, "-f", str(source)], {}, monkeypatch)
    assert code == 0, err
    spec = pod_of(out)["spec"]
    image = f"docker.io/istio/proxyv2:{version}"

    (init,) = spec["initContainers"]
    assert init["name"] == "istio-init"
    assert init["image"] == image
    assert init["args"][:17] == ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337",
                                 "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*",
                                 "-d", "15090,15021,15020"]
    assert init["securityContext"]["capabilities"]["add"] == ["NET_ADMIN", "NET_RAW"]

    names = [c["name"] for c in spec["containers"]]
    assert names == ["nginx", "istio-proxy"]
    proxy = spec["containers"][1]
    assert proxy["image"] == image
    assert proxy["args"][:4] == ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local"]
    env = {e["name"]: e.get("value") for e in proxy["env"]}
    assert env["CA_ADDR"] == "istiod.istio-system.svc:15012"
    assert env["ISTIO_META_APP_CONTAINERS"] == "nginx"
    assert env["ISTIO_META_POD_PORTS"] == '[\n    {"containerPort":80}\n]'
    assert proxy["readinessProbe"]["httpGet"] == {"path": "/healthz/ready", "port": 15021}
    assert proxy["securityContext"]["runAsUser"] == 1337
    volumes = [v["name"] for v in spec["volumes"]]
    expected = ["workload-socket", "credential-socket", "workload-certs", "istio-envoy",
                "istio-data", "istio-podinfo", "istio-token", "istiod-ca-cert"]
    if version != LAB_VERSION:
        expected.append("istio-ca-crl")  # optional CRL ConfigMap, new since 1.22
    assert volumes == expected


@pytest.mark.parametrize("version", [LAB_VERSION, STABLE_VERSION])
def test_nginx_pod_native_sidecar(version, tmp_path, monkeypatch):
    """With ENABLE_NATIVE_SIDECARS=true the proxy becomes a restartable init container."""
    source = tmp_path / "nginx-pod.yaml"
    source.write_text(NGINX_POD)
    code, out, err = run_cli(["--istio-version", version, "-f", str(source)],
                             {"ENABLE_NATIVE_SIDECARS": "true"}, monkeypatch)
    assert code == 0, err
    spec = pod_of(out)["spec"]
    assert [c["name"] for c in spec["initContainers"]] == ["istio-init", "istio-proxy"]
    assert spec["initContainers"][1]["restartPolicy"] == "Always"
    assert [c["name"] for c in spec["containers"]] == ["nginx"]


# ---------------------------------------------------------------------------------------
# Differential checks: Istio's own template and ours, through the same pipeline, with the
# same values, must give the same result (exit status and output) on every input.
# ---------------------------------------------------------------------------------------

def set_path(tree: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    for key in keys[:-1]:
        tree = tree.setdefault(key, {})
    tree[keys[-1]] = value


def golden_inputs() -> list:
    folder = os.path.join(GOLDEN, "inject")
    return sorted(os.path.join(folder, name) for name in os.listdir(folder) if not name.endswith(".injected"))


def run_both(ours: str, theirs: str, values: str, mesh: str, inputs: list, env: dict, monkeypatch) -> list:
    """Inputs on which the two templates disagree, with a short reason each."""
    differences = []
    for path in inputs:
        results = []
        for template in (theirs, ours):
            code, out, _ = run_cli(["--injectConfigFile", template, "--valuesFile", values,
                                    "--meshConfigFile", mesh, "-f", path], env, monkeypatch)
            results.append((code, out))
        if results[0] != results[1]:
            differences.append(f"{os.path.basename(path)}: exit {results[0][0]} vs {results[1][0]}")
    return differences


# Three value sets that between them switch on most branches of the 1.22.0 templates.
VARIANTS_1_22 = {
    "cni-certs-secrets": {"istio_cni.enabled": True, "istio_cni.provider": "multus",
                          "global.mountMtlsCerts": True, "global.pilotCertProvider": "kubernetes",
                          "global.imagePullSecrets": ["s1", "s2"], "global.imagePullPolicy": "Always"},
    "proxy-knobs": {"global.logAsJson": True, "global.sts.servicePort": 15463,
                    "global.proxy.holdApplicationUntilProxyStarts": True, "global.network": "net1",
                    "global.meshID": "mesh1", "global.multiCluster.clusterName": "c1",
                    "global.caAddress": "ca:1", "revision": "canary",
                    "global.proxy.includeOutboundPorts": "80,81", "global.proxy.excludeOutboundPorts": "90",
                    "global.proxy.excludeInboundPorts": "7", "global.proxy.statusPort": 0,
                    "global.proxy.tracer": "datadog", "global.proxy.capNetBindService": True,
                    "global.proxy.enableCoreDump": True},
    "images-gke": {"global.proxy.image": "my.reg/proxy:9", "global.proxy_init.image": "my.reg/init:9",
                   "global.caName": "GkeWorkloadCertificate", "global.proxy.resources": {},
                   "global.proxy.privileged": True,
                   "global.proxy.lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}}},
}


@pytest.mark.skipif(not available(), reason=SKIP_REASON)
@pytest.mark.parametrize("variant", sorted(VARIANTS_1_22))
def test_differential_1_22(variant, tmp_path, monkeypatch):
    values = values_of(LAB_VERSION)
    for dotted, value in VARIANTS_1_22[variant].items():
        set_path(values, dotted, value)
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    monkeypatch.delenv("ENABLE_NATIVE_SIDECARS", raising=False)
    differences = run_both(builtin_file(LAB_VERSION, "template.yaml"),
                           os.path.join(GOLDEN, "inputs", "default.template.gen.yaml"),
                           str(values_file), builtin_file(LAB_VERSION, "mesh.yaml"),
                           golden_inputs(), {}, monkeypatch)
    assert differences == []


# ---------------------------------------------------------------------------------------
# 1.30.4 against the lab's own istioctl 1.30.4 build (helper "istio"), when it exists.
# ---------------------------------------------------------------------------------------

ISTIOCTL = os.path.join(LAB_CACHE, "istio", STABLE_VERSION, "bin", "istioctl")
needs_istioctl = pytest.mark.skipif(not os.access(ISTIOCTL, os.X_OK),
                                    reason=f"istioctl {STABLE_VERSION} not built at {ISTIOCTL} (make istio-build)")


@pytest.fixture(scope="module")
def real_config(tmp_path_factory):
    """The config/values/mesh a default install of the stable release writes, from its istioctl."""
    import subprocess
    manifest = subprocess.run([ISTIOCTL, "manifest", "generate"], capture_output=True, text=True,
                              timeout=300, check=True, env=dict(os.environ, KUBECONFIG=os.devnull)).stdout
    found = {}
    for doc in yaml.safe_load_all(manifest):
        if doc and doc.get("kind") == "ConfigMap":
            name, data = doc["metadata"]["name"], doc.get("data") or {}
            if name == "istio-sidecar-injector":
                found["config"], found["values"] = data["config"], data["values"]
            elif name == "istio":
                found["mesh"] = data["mesh"]
    folder = tmp_path_factory.mktemp("real")
    files = {}
    for piece, text in found.items():
        files[piece] = folder / f"{piece}.yaml"
        files[piece].write_text(text)
    return files


@needs_istioctl
def test_stable_values_and_mesh_are_the_default_install(real_config):
    import json
    assert yaml.safe_load(real_config["values"].read_text()) == values_of(STABLE_VERSION)
    with open(builtin_file(STABLE_VERSION, "mesh.yaml")) as handle:
        assert yaml.safe_load(real_config["mesh"].read_text()) == yaml.safe_load(handle)
    assert json.loads(real_config["values"].read_text())["global"]["tag"] == STABLE_VERSION


@needs_istioctl
def test_stable_nginx_matches_istioctl(real_config, tmp_path, monkeypatch):
    import subprocess
    source = tmp_path / "nginx-pod.yaml"
    source.write_text(NGINX_POD)
    env = dict(os.environ, KUBECONFIG=os.devnull)
    env.pop("ENABLE_NATIVE_SIDECARS", None)
    # -r default: otherwise istioctl waits for a cluster to look up the default revision.
    real = subprocess.run([ISTIOCTL, "kube-inject", "-r", "default",
                           "--injectConfigFile", str(real_config["config"]),
                           "--valuesFile", str(real_config["values"]),
                           "--meshConfigFile", str(real_config["mesh"]), "-f", str(source)],
                          capture_output=True, text=True, timeout=120, check=True, env=env).stdout
    monkeypatch.delenv("ENABLE_NATIVE_SIDECARS", raising=False)
    code, ours, err = run_cli(["--istio-version", STABLE_VERSION, "-f", str(source)], {}, monkeypatch)
    assert code == 0, err
    assert ours == real


def real_template_for_our_engine(text: str) -> str:
    """1.30.4's real config, changed only where our engine cannot follow it: .NativeSidecars
    (not in our template data) becomes the env rule kube-inject applies without a cluster, and
    the OTEL_RESOURCE_ATTRIBUTES block (a Go function we lack) goes."""
    text = text.replace('(printf "%t" .NativeSidecars)',
                        '(printf "%t" (eq (env "ENABLE_NATIVE_SIDECARS" "auto") "true"))')
    return re.sub(r"\n[ ]*\{\{- \$otelResAttrs := otelResourceAttributes[^\n]*\n[ ]*\{\{- if \$otelResAttrs \}\}"
                  r"\n[^\n]*OTEL_RESOURCE_ATTRIBUTES\n[^\n]*\n[ ]*\{\{- end \}\}", "", text)


@needs_istioctl
@pytest.mark.skipif(not available(), reason=SKIP_REASON)
@pytest.mark.parametrize("native", ["false", "true"])
def test_differential_stable(real_config, native, tmp_path, monkeypatch):
    real = tmp_path / "real-template.yaml"
    text = real_template_for_our_engine(real_config["config"].read_text())
    assert "otelResourceAttributes" not in text and ".NativeSidecars" not in text
    real.write_text(text)
    differences = run_both(builtin_file(STABLE_VERSION, "template.yaml"), str(real),
                           builtin_file(STABLE_VERSION, "values.yaml"), builtin_file(STABLE_VERSION, "mesh.yaml"),
                           golden_inputs(), {"ENABLE_NATIVE_SIDECARS": native}, monkeypatch)
    assert differences == []
