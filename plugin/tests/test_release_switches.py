"""Release switches of later Istio lines (issue 23): what Istio does, and both sides of each switch.

Each switch is one ReleaseProfile field (releases.py), set on the release line that introduced
the behaviour; these tests state the behaviour from Istio's sources (cited per test) and check
the code on both sides. The whole pipeline is checked by Istio 1.30.3's own golden data
(test_golden, ../shared/istio-golden/1.30.3) and side by side with istioctl 1.30.4 (make parity).
"""
from __future__ import annotations

import json

import pytest

from kubectl_inject import releases
from kubectl_inject.gostd.json import naming_embedded_structs
from kubectl_inject.gotypes import schema
from kubectl_inject.gotypes.typed import TypeError as GoTypeError
from kubectl_inject.gotypes.typed import normalize
from kubectl_inject.meshconfig import defaults as mesh_defaults
from kubectl_inject.meshconfig import load_mesh_config
from kubectl_inject.postprocess import post_process
from kubectl_inject.templatefuncs import istio_funcs

POD = "k8s.io/api/core/v1.Pod"


def profile(text: str):
    return releases.profile_for(releases.parse_release(text))


# --- appendMultusNetwork: the JSON form splits "namespace/name" ---------------------------------
# istio/istio#55000 (pkg/kube/inject/template.go appendMultusNetwork: kstrings.SplitQualifiedName,
# then {"name": N, "namespace": NS}, an existing entry matching by name and namespace): Istio
# 1.26.0, and the patch releases 1.24.4 and 1.25.1 (cherry-picks). Before, the whole network text
# was the name: `{"name": "default/istio-cni"}`. Golden: 1.30.3 hello-existing-cncf-networks-json.

@pytest.mark.parametrize("release, splits", [
    ("1.22.0", False), ("1.23.6", False), ("1.24.3", False), ("1.24.4", True), ("1.24", False),
    ("1.25.0", False), ("1.25.1", True), ("1.26.0", True), ("1.28.10", True), ("1.30.3", True),
    ("1.31.0", True),
])
def test_multus_switch_by_release_and_patch(release, splits):
    assert profile(release).multus_json_namespace is splits


def append(existing: str, network: str, release: str) -> str:
    with releases.using(profile(release)):
        return istio_funcs({})["appendMultusNetwork"](existing, network)


EXISTING = '[{"name": "alt_cni"}, {"name": "more_cni", "namespace": "kube-system"}]'


def test_multus_json_form_before_the_switch():
    assert append(EXISTING, "default/istio-cni", "1.25.0") == \
        EXISTING[:-1] + ', {"name": "default/istio-cni"}]'
    assert append('[{"name": "default/istio-cni"}]', "default/istio-cni", "1.22.0") == \
        '[{"name": "default/istio-cni"}]'


def test_multus_json_form_after_the_switch():
    assert append(EXISTING, "default/istio-cni", "1.30.3") == \
        EXISTING[:-1] + ', {"name": "istio-cni", "namespace": "default"}]'
    assert append(EXISTING, "istio-cni", "1.26.0") == EXISTING[:-1] + ', {"name": "istio-cni"}]'
    # present already: by name and namespace (a missing namespace is "")
    same = '[{"name": "istio-cni", "namespace": "default"}]'
    assert append(same, "default/istio-cni", "1.26.0") == same
    assert append('[{"name": "istio-cni"}]', "istio-cni", "1.26.0") == '[{"name": "istio-cni"}]'
    other_ns = '[{"name": "istio-cni", "namespace": "kube-system"}]'
    assert append(other_ns, "default/istio-cni", "1.26.0") == \
        other_ns[:-1] + ', {"name": "istio-cni", "namespace": "default"}]'
    # SplitQualifiedName keeps the first two parts
    assert append("[]", "a/b/c", "1.26.0") == '[, {"name": "b", "namespace": "a"}]'


@pytest.mark.parametrize("release", ["1.22.0", "1.30.3"])
def test_multus_text_form_and_invalid_json_do_not_depend_on_the_release(release):
    assert append("", "default/istio-cni", release) == "default/istio-cni"
    assert append("macvlan", "default/istio-cni", release) == "macvlan, default/istio-cni"
    assert append("a, default/istio-cni", "default/istio-cni", release) == "a, default/istio-cni"
    assert append("[not json]", "default/istio-cni", release) == "[not json]"
    assert append('["a"]', "default/istio-cni", release) == '["a"]'  # not a list of objects
    # json.Unmarshal into []map[string]any: a null element is a nil map, not an error
    assert append('[null]', "istio-cni", release) == '[null, {"name": "istio-cni"}]'


# --- lifecycle hooks through the agent -------------------------------------------------------
# istio/istio#53654 (Istio 1.25; pkg/kube/inject/app_probe.go convertAppLifecycleHandler and
# DumpAppProbers): with probe rewriting on, a postStart/preStop httpGet or tcpSocket becomes an
# httpGet of /app-lifecycle/CONTAINER/{poststartz,prestopz} on the status port, and the original
# goes into ISTIO_KUBE_APP_PROBERS (without a timeout; exec and sleep hooks stay). Golden: 1.30.3
# hello-probes, hello-probes.proxyHoldsApplication.

@pytest.mark.parametrize("release, rewrites", [
    ("1.22.0", False), ("1.24.6", False), ("1.25.0", True), ("1.30.3", True),
])
def test_lifecycle_switch_by_release(release, rewrites):
    assert profile(release).rewrite_lifecycle_hooks is rewrites


def hooked_pod():
    return {"metadata": {"annotations": {}},
            "spec": {"containers": [
                {"name": "app", "ports": [{"name": "http", "containerPort": 8080}],
                 "lifecycle": {"postStart": {"tcpSocket": {"port": 93}},
                               "preStop": {"httpGet": {"path": "/stop", "port": "http", "scheme": "HTTPS"}}},
                 "readinessProbe": {"httpGet": {"port": 3333}}},
                {"name": "batch", "lifecycle": {"preStop": {"exec": {"command": ["true"]}}}},
                {"name": "istio-proxy", "env": []}]}}


def run_post_process(pod, rewrite_lifecycle_hooks, rewrite_probes=True):
    post_process(pod, {"spec": {"containers": [{"name": "istio-proxy"}]}}, proxy_envs={}, revision="",
                 injected_annotations={}, status_port=15020, prometheus_merge=False,
                 rewrite_probes_default=rewrite_probes, hold_application=False,
                 rewrite_lifecycle_hooks=rewrite_lifecycle_hooks)
    app, batch, proxy = pod["spec"]["containers"][0], pod["spec"]["containers"][1], pod["spec"]["containers"][2]
    probers = {e["name"]: e["value"] for e in proxy["env"]}.get("ISTIO_KUBE_APP_PROBERS")
    return app, batch, probers


def test_lifecycle_hooks_rewritten_from_1_25():
    app, batch, probers = run_post_process(hooked_pod(), True)
    assert app["lifecycle"] == {
        "postStart": {"httpGet": {"port": 15020, "path": "/app-lifecycle/app/poststartz"}},
        "preStop": {"httpGet": {"path": "/app-lifecycle/app/prestopz", "port": 15020, "scheme": "HTTP"}}}
    assert batch["lifecycle"] == {"preStop": {"exec": {"command": ["true"]}}}
    assert probers == ('{"/app-health/app/readyz":{"httpGet":{"port":3333}},'
                       '"/app-lifecycle/app/poststartz":{"tcpSocket":{"port":93}},'
                       '"/app-lifecycle/app/prestopz":{"httpGet":{"path":"/stop","port":8080,"scheme":"HTTPS"}}}')


def test_lifecycle_hooks_left_alone_before_1_25_or_without_probe_rewriting():
    app, _, probers = run_post_process(hooked_pod(), False)
    assert app["lifecycle"] == hooked_pod()["spec"]["containers"][0]["lifecycle"]
    assert probers == '{"/app-health/app/readyz":{"httpGet":{"port":3333}}}'
    app, _, probers = run_post_process(hooked_pod(), True, rewrite_probes=False)
    assert app["lifecycle"] == hooked_pod()["spec"]["containers"][0]["lifecycle"]
    assert probers is None


# --- the mesh types of the release's istio.io/api ------------------------------------------
# Istio 1.30's go.mod: istio.io/api v1.30 (gotypes/schema/mesh-v1.30.json, generated by
# gotypes-schema's gen-mesh.sh), whose OpenTelemetry provider has serviceAttributeEnrichment: the
# 1.30 sidecar template's otelResourceAttributes reads it (golden: 1.30.3 hello-otel-semconv).
# istioctl 1.22 (istio.io/api v1.22) drops the unknown field (protomarshal's AllowUnknownFields).

OTEL_MESH = """extensionProviders:
- name: otel
  opentelemetry:
    service: otel-collector.observability.svc.cluster.local
    port: 4317
    serviceAttributeEnrichment: OTEL_SEMANTIC_CONVENTIONS
"""


def otel_provider(mesh):
    return next(p for p in mesh.data["extensionProviders"] if p["name"] == "otel")["opentelemetry"]


def test_mesh_types_follow_the_release():
    for release in releases.PROFILES.values():
        assert mesh_defaults.profile_for(release.mesh_defaults).istio_api == release.istio_api
        assert schema.for_k8s_api(release.k8s_api, release.istio_api).lines[1] == release.istio_api
    assert profile("1.30.3").istio_api == "v1.30" and profile("1.22.0").istio_api == "v1.22"


def test_mesh_1_30_keeps_service_attribute_enrichment():
    mesh = load_mesh_config(OTEL_MESH, profile("1.30.3").mesh_defaults)
    assert otel_provider(mesh)["serviceAttributeEnrichment"] == "OTEL_SEMANTIC_CONVENTIONS"


def test_mesh_1_22_drops_it():
    mesh = load_mesh_config(OTEL_MESH, profile("1.22.0").mesh_defaults)
    assert "serviceAttributeEnrichment" not in otel_provider(mesh)


def test_correct_proxy_headers_in_1_30():
    # pkg/config/mesh MergeProxyConfig's correctProxyHeaders (release-1.30): five proxyHeaders
    # fields a Pod's proxy config leaves empty keep the mesh's; the others are replaced
    from kubectl_inject.meshconfig import mesh_for_pod
    text = "defaultConfig:\n  proxyHeaders:\n    server: {disabled: true}\n    preserveHttp1HeaderCase: true\n"
    annotation = {"proxy.istio.io/config": "proxyHeaders: {attemptCount: {disabled: true}}"}
    mesh = mesh_for_pod(load_mesh_config(text, "1.30"), annotation)
    assert mesh.data["defaultConfig"]["proxyHeaders"] == {"attemptCount": {"disabled": True},
                                                          "server": {"disabled": True}}


# --- encoding/json error paths: Go 1.24+ names embedded structs -------------------------------
# Go 1.24's encoding/json puts the Go names of the embedded structs on the way in
# UnmarshalTypeError.Field (decode.go, errorContext.FieldStack); istioctl 1.30.4 says
# "...Go struct field FCVolumeSource.spec.volumes.VolumeSource.fc.lun of type int32"; istioctl
# 1.22 (Go 1.22) "...spec.volumes.fc.lun". Istio 1.26 is the first line built with Go 1.24.

FC_POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fc"},
          "spec": {"containers": [{"name": "a", "image": "x"}],
                   "volumes": [{"name": "v", "fc": {"lun": "2", "fsType": "ext4"}}]}}


@pytest.mark.parametrize("release, named", [("1.22.0", False), ("1.25.3", False), ("1.26.0", True),
                                            ("1.30.3", True)])
def test_json_error_switch_by_release(release, named):
    assert profile(release).json_errors_name_embedded_structs is named


@pytest.mark.parametrize("on, path", [(False, "spec.volumes.fc.lun"), (True, "spec.volumes.VolumeSource.fc.lun")])
def test_json_error_paths(on, path):
    with naming_embedded_structs(on), pytest.raises(GoTypeError) as err:
        normalize(json.loads(json.dumps(FC_POD)), POD)
    assert str(err.value) == f"json: cannot unmarshal string into Go struct field FCVolumeSource.{path} of type int32"
