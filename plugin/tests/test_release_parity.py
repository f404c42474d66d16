"""Differences from istioctl found on real-world manifests (issue 10), each pinned by what
Istio's code does."""
from __future__ import annotations

import json
import os

import yaml

from inject_testkit import NGINX_POD, run_cli

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


# ---------------------------------------------------------------------------------------------
# Each release with its own Kubernetes types and switches (releases.ReleaseProfile)
# ---------------------------------------------------------------------------------------------

PARITY_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "parity")
NEWER_FIELDS = os.path.join(PARITY_DATA, "pod-k8s-1.31-1.35-fields.yaml")
# Pod fields of k8s.io/api v0.31-v0.35 in that manifest, as Go's errors spell paths.
NEWER_FIELD_PATHS = [
    "spec.containers.lifecycle.stopSignal", "spec.hostnameOverride",
    "spec.initContainers.restartPolicyRules", "spec.resourceClaims.resourceClaimTemplateName",
    "spec.resources", "spec.securityContext.seLinuxChangePolicy",
    "spec.securityContext.supplementalGroupsPolicy", "spec.volumes.image",
    "spec.volumes.projected.sources.podCertificate",
]


def _inject(monkeypatch, path, version, env=None, extra=()):
    code, out, err = run_cli(["--istio-version", version, *extra, "-f", str(path)], env or {}, monkeypatch)
    assert code == 0, err
    return next(yaml.safe_load_all(out)), err


def test_fields_of_newer_kubernetes_survive_with_the_release_that_knows_them(monkeypatch):
    # istioctl 1.30 is built with k8s.io/api v0.35: its typed round trip keeps these fields
    pod, err = _inject(monkeypatch, NEWER_FIELDS, "1.30.4")
    spec = pod["spec"]
    assert spec["resources"] == {"limits": {"cpu": "1", "memory": "512Mi"}}
    assert spec["securityContext"] == {"seLinuxChangePolicy": "MountOption", "supplementalGroupsPolicy": "Strict"}
    assert spec["hostnameOverride"] == "custom-host"
    assert spec["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": "gpu-template"}]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["model"]["image"] == {"pullPolicy": "IfNotPresent", "reference": "quay.io/example/model:v1"}
    assert volumes["certs"]["projected"]["sources"][0]["podCertificate"]["signerName"] == "example.com/signer"
    setup = next(c for c in spec["initContainers"] if c["name"] == "setup")
    assert setup["restartPolicyRules"] == [{"action": "Restart", "exitCodes": {"operator": "In", "values": [42]}}]
    assert "warning" not in err


def test_fields_a_release_does_not_know_are_dropped_as_its_istioctl_does_and_named(monkeypatch):
    # istioctl 1.22 (k8s.io/api v0.30) drops them silently; we drop them too, and say so
    pod, err = _inject(monkeypatch, NEWER_FIELDS, "1.22.0")
    spec = pod["spec"]
    assert "resources" not in spec and "hostnameOverride" not in spec and spec["securityContext"] == {}
    # v0.30's ResourceClaim has a `source` struct (not omitempty): the old shape comes back
    assert spec["resourceClaims"] == [{"name": "gpu", "source": {}}]
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert [w.split(": field ")[1].split(" ")[0] for w in warnings] == NEWER_FIELD_PATHS
    assert all(w.startswith('kubectl inject: warning: Pod "newer-fields": ') and
               "istioctl 1.22" in w and "k8s.io/api v0.30.0" in w for w in warnings)


def test_empty_pointer_fields_are_omitted_as_the_newer_types_do(monkeypatch):
    # PodFailurePolicyRule.OnExitCodes: a plain pointer in v0.30 (printed as null), omitempty later
    job = os.path.join(PARITY_DATA, "job-pod-failure-policy.yaml")
    old, _ = _inject(monkeypatch, job, "1.22.0")
    new, _ = _inject(monkeypatch, job, "1.30.4")
    assert old["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"] is None
    assert "onExitCodes" not in new["spec"]["podFailurePolicy"]["rules"][0]
    assert new["spec"]["successPolicy"] == {"rules": [{"succeededIndexes": "0"}]}


def _builtin_with(tmp_path, version, values_change=None, mesh_text=None):
    """Flags naming the built-in config files of `version`, the values (and mesh) changed."""
    from kubectl_inject.config_source import builtin_texts
    texts = builtin_texts(version)
    values = tmp_path / "values.yaml"
    values.write_text(values_change(texts["values"]) if values_change else texts["values"])
    template = tmp_path / "template.yaml"
    template.write_text(texts["config"])
    mesh = tmp_path / "mesh.yaml"
    mesh.write_text(texts["mesh"] if mesh_text is None else mesh_text)
    return ["--injectConfigFile", str(template), "--valuesFile", str(values), "--meshConfigFile", str(mesh)]


def _proxy_images(out):
    spec = next(yaml.safe_load_all(out))["spec"]
    return sorted({c["image"] for c in spec["containers"] + spec.get("initContainers", [])
                   if c["name"] in ("istio-proxy", "istio-init")})


def test_global_variant_picks_the_proxy_image_type(tmp_path, monkeypatch):
    # inject.ProxyImage: imageType starts as values.global.variant; a ProxyConfig image (even an
    # empty one) replaces it, the proxyImageType annotation wins over both
    files = _builtin_with(tmp_path, "1.30.4", lambda v: v.replace('variant: ""', "variant: distroless"))
    pod = tmp_path / "pod.yaml"
    pod.write_text(NGINX_POD)
    code, out, err = run_cli([*files, "-f", str(pod)], {}, monkeypatch)
    assert code == 0, err
    assert _proxy_images(out) == ["docker.io/istio/proxyv2:1.30.4-distroless"]
    for annotation, image in (("proxy.istio.io/config: '{\"image\": {}}'", "docker.io/istio/proxyv2:1.30.4"),
                              ("proxy.istio.io/config: '{\"image\": {\"imageType\": \"debug\"}}'",
                               "docker.io/istio/proxyv2:1.30.4-debug"),
                              ("sidecar.istio.io/proxyImageType: default", "docker.io/istio/proxyv2:1.30.4")):
        pod.write_text(NGINX_POD.replace("  name: mywebserver\n", f"  name: mywebserver\n  annotations:\n    {annotation}\n"))
        code, out, err = run_cli([*files, "-f", str(pod)], {}, monkeypatch)
        assert code == 0, err
        assert _proxy_images(out) == [image], annotation


def test_mesh_defaults_have_no_zipkin_tracer(tmp_path, monkeypatch):
    # DefaultProxyConfig lost its Zipkin tracer in 1.22 (istio/istio#49615): a mesh that names
    # that tracer differs from the defaults, so cleanProxyConfig keeps it in PROXY_CONFIG
    mesh = "defaultConfig:\n  tracing:\n    zipkin:\n      address: zipkin.istio-system:9411\n"
    for version in ("1.22.0", "1.30.4"):
        files = _builtin_with(tmp_path, version, mesh_text=mesh)
        pod = tmp_path / "pod.yaml"
        pod.write_text(NGINX_POD)
        code, out, err = run_cli([*files, "-f", str(pod)], {}, monkeypatch)
        assert code == 0, err
        proxy = next(c for c in next(yaml.safe_load_all(out))["spec"]["containers"] if c["name"] == "istio-proxy")
        value = next(e["value"] for e in proxy["env"] if e["name"] == "PROXY_CONFIG")
        assert json.loads(value) == {"tracing": {"zipkin": {"address": "zipkin.istio-system:9411"}}}, version


NATIVE_ANNOTATED_POD = NGINX_POD.replace("  name: mywebserver\n",
                                         "  name: mywebserver\n  annotations:\n    sidecar.istio.io/nativeSidecar: \"true\"\n")


def test_native_sidecar_annotation_is_a_1_24_feature(tmp_path, monkeypatch):
    # istio/istio#53490 (1.24): the annotation overrides ENABLE_NATIVE_SIDECARS; 1.22 ignores it
    pod = tmp_path / "pod.yaml"
    pod.write_text(NATIVE_ANNOTATED_POD)
    where = {}
    for version in ("1.22.0", "1.30.4"):
        out, _ = _inject(monkeypatch, pod, version, {"ENABLE_NATIVE_SIDECARS": "false"})
        where[version] = "initContainers" if any(c["name"] == "istio-proxy"
                                                 for c in out["spec"].get("initContainers", [])) else "containers"
    assert where == {"1.22.0": "containers", "1.30.4": "initContainers"}


USER_PROXY_POD = NGINX_POD.replace("    name: mywebserver\n", """\
    name: mywebserver
  - name: istio-proxy
    image: auto
    securityContext:
      runAsUser: 1234
""")


def test_init_container_follows_a_custom_proxy_user_from_1_22_1(tmp_path, monkeypatch):
    # adjustInitContainerUser (istio/istio#51012) is in 1.23.0 and, cherry-picked, in 1.22.1
    pod = tmp_path / "pod.yaml"
    pod.write_text(USER_PROXY_POD)
    uid = {}
    for tag in ("1.22.0", "1.22.1", "1.30.4"):
        base = "1.22.0" if tag.startswith("1.22") else tag
        files = _builtin_with(tmp_path, base, lambda v: v.replace(f"tag: {base}", f"tag: {tag}"))
        code, out, err = run_cli([*files, "-f", str(pod)], {}, monkeypatch)
        assert code == 0, err
        init = next(c for c in next(yaml.safe_load_all(out))["spec"]["initContainers"] if c["name"] == "istio-init")
        uid[tag] = init["args"][init["args"].index("-u") + 1]
    assert uid == {"1.22.0": "1337", "1.22.1": "1234", "1.30.4": "1234"}


def test_istio_version_names_the_release_even_with_config_files(tmp_path, monkeypatch):
    # the config files are 1.30.4's, --istio-version 1.22.0 asks for istioctl 1.22's behaviour
    files = _builtin_with(tmp_path, "1.30.4")
    code, out, err = run_cli(["--istio-version", "1.22.0", *files, "-f", NEWER_FIELDS], {}, monkeypatch)
    assert code == 0, err
    assert "hostnameOverride" not in out and "field spec.hostnameOverride is not in the output" in err
    code, out, err = run_cli(["--istio-version", "latest", *files, "-f", NEWER_FIELDS], {}, monkeypatch)
    assert (code, out) == (1, "")
    assert err == "Error: --istio-version 'latest' is not an Istio release (such as 1.30.4)\n"
