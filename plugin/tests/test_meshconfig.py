"""MeshConfig / ProxyConfig semantics of Istio 1.22.0 (kubectl_inject.meshconfig)."""
from __future__ import annotations

import os

import pytest
import yaml

from golden_cases import GOLDEN, SKIP_REASON, available, load_cases, merge
from kubectl_inject import meshconfig as m
from kubectl_inject.gostd.time import format_duration
from kubectl_inject.meshconfig import MeshConfigError, load_mesh_config, mesh_for_pod, proto_json


DEFAULT_PROXY = {
    "configPath": "./etc/istio/proxy",
    "binaryPath": "/usr/local/bin/envoy",
    "serviceCluster": "istio-proxy",
    "drainDuration": "45s",
    "discoveryAddress": "istiod.istio-system.svc:15012",
    "proxyAdminPort": 15000,
    "controlPlaneAuthPolicy": "MUTUAL_TLS",
    "statNameLength": 189,
    "statusPort": 15020,
    "terminationDrainDuration": "5s",
}


def pod_proxy_config(mesh, annotations):
    """The ProxyConfig the injection template sees for a Pod, computed as inject_pod does."""
    return mesh_for_pod(mesh, annotations or {}).default_config()


def annotated(mesh, text):
    return pod_proxy_config(mesh, {"proxy.istio.io/config": text})


# ---- defaults --------------------------------------------------------------------------

def test_defaults_without_a_file():
    mesh = load_mesh_config(None)
    assert mesh.default_config().to_dict() == DEFAULT_PROXY
    assert mesh.trust_domain() == "cluster.local"
    assert (mesh.proxy_listen_port(), mesh.proxy_inbound_listen_port()) == (15001, 15006)
    assert mesh.inbound_traffic_policy_mode() == "passthrough"
    assert mesh.prometheus_merge() is True
    assert mesh.status_port() == 15020
    assert [p["name"] for p in mesh.get("extensionProviders")] == ["prometheus", "stackdriver", "envoy"]
    pc = mesh.default_config()
    # no ProxyConfig image: None, so that global.variant picks the image type
    assert (pc.interception_mode(), pc.hold_application_until_proxy_starts(), pc.image_type()) == ("REDIRECT", False, None)
    assert pc.concurrency() is None  # Istio 1.18+ has no concurrency default
    assert pc.drain_duration() == "45s"


def test_empty_and_null_files_are_the_defaults():
    assert load_mesh_config("").to_dict() == load_mesh_config(None).to_dict()
    assert load_mesh_config("# nothing\n").to_dict() == load_mesh_config(None).to_dict()
    assert load_mesh_config("null").to_dict() == load_mesh_config(None).to_dict()


def test_default_proxy_config_prints_as_empty_object():
    # cleanProxyConfig drops every field equal to DefaultProxyConfig.
    assert proto_json(load_mesh_config(None).default_config()) == "{}"


def test_default_mesh_config_json_follows_proto_declaration_order():
    text = proto_json(load_mesh_config(None))
    assert text.startswith('{"proxyListenPort":15001,"proxyInboundListenPort":15006,"connectTimeout":"10s",'
                           '"protocolDetectionTimeout":"0s","ingressClass":"istio",')
    assert '"inboundTrafficPolicy":{}' in text  # set, with the zero mode PASSTHROUGH
    assert '"accessLogFile"' not in text


# ---- the mesh file ---------------------------------------------------------------------

def test_discovery_address_equal_to_default_is_cleaned_from_proxy_config():
    # Why the golden default case prints PROXY_CONFIG as {} although its mesh file sets
    # defaultConfig.discoveryAddress: it is the default address, and cleanProxyConfig drops it.
    mesh = load_mesh_config("defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n")
    assert mesh.default_config().get("discoveryAddress") == "istiod.istio-system.svc:15012"
    assert proto_json(mesh.default_config()) == "{}"
    other = load_mesh_config("defaultConfig:\n  discoveryAddress: istiod.other.svc:15012\n")
    assert proto_json(other.default_config()) == '{"discoveryAddress":"istiod.other.svc:15012"}'


def test_default_config_is_merged_field_by_field_into_the_defaults():
    mesh = load_mesh_config("defaultConfig:\n  drainDuration: 23s\n  proxyMetadata: {A: '1'}\n")
    pc = mesh.default_config().to_dict()
    assert pc["drainDuration"] == "23s"
    assert pc["statusPort"] == 15020 and "tracing" not in pc   # no default tracer since 1.22
    assert pc["proxyMetadata"] == {"A": "1"}
    assert proto_json(mesh.default_config()) == '{"drainDuration":"23s","proxyMetadata":{"A":"1"}}'
    assert mesh.default_config().drain_duration() == "23s"


def test_a_message_field_is_replaced_wholesale_not_deep_merged():
    mesh = load_mesh_config("defaultConfig:\n  tracing:\n    sampling: 50\n")
    assert mesh.default_config().get("tracing") == {"sampling": 50.0}
    assert proto_json(mesh.default_config()) == '{"tracing":{"sampling":50}}'
    disabled = load_mesh_config("defaultConfig:\n  tracing: {}\n")
    assert proto_json(disabled.default_config()) == '{"tracing":{}}'


def test_top_level_fields_replace_and_null_leaves_the_default():
    mesh = load_mesh_config("trustDomain: example.org\nproxyListenPort: null\n"
                            "defaultServiceExportTo: ['.']\ninboundTrafficPolicy: {mode: LOCALHOST}\n")
    assert mesh.trust_domain() == "example.org"
    assert mesh.proxy_listen_port() == 15001
    assert mesh.get("defaultServiceExportTo") == ["."]
    assert mesh.inbound_traffic_policy_mode() == "localhost"
    assert load_mesh_config("enablePrometheusMerge: false").prometheus_merge() is False


def test_proto_field_names_are_accepted_too():
    mesh = load_mesh_config("trust_domain: a.example\ndefault_config:\n  discovery_address: x.example:15012\n")
    assert mesh.trust_domain() == "a.example"
    # ...but ApplyMeshConfig only merges a key spelled "defaultConfig": the proto spelling
    # is parsed, then thrown away with the temporary proxy config.
    assert mesh.default_config().get("discoveryAddress") == "istiod.istio-system.svc:15012"
    pc = annotated(mesh, "discovery_address: x.example:15012\n")
    assert pc.get("discoveryAddress") == "x.example:15012"


def test_unknown_fields_are_tolerated_like_protomarshal_apply_json():
    mesh = load_mesh_config("noSuchField: 1\ndefaultConfig:\n  alsoUnknown: true\n  statusPort: 15021\n")
    assert mesh.default_config().status_port() == 15021
    assert "noSuchField" not in mesh.to_dict()


def test_extension_providers_merge_by_name_and_aliases_are_a_sorted_union():
    mesh = load_mesh_config(
        "extensionProviders:\n"
        "- name: envoy\n  envoyFileAccessLog: {path: /dev/stderr}\n"
        "- name: otel\n  opentelemetry: {service: otel.example, port: 4317}\n"
        "trustDomainAliases: [b.example, a.example, b.example]\n")
    providers = mesh.get("extensionProviders")
    assert [p["name"] for p in providers] == ["prometheus", "stackdriver", "envoy", "otel"]
    assert providers[2] == {"name": "envoy", "envoyFileAccessLog": {"path": "/dev/stderr"}}
    assert providers[3]["opentelemetry"] == {"service": "otel.example", "port": 4317}
    assert mesh.get("trustDomainAliases") == ["a.example", "b.example"]


def test_default_providers_merge_field_by_field():
    mesh = load_mesh_config("defaultProviders:\n  metrics: [prometheus]\n  accessLogging: [envoy]\n")
    assert mesh.get("defaultProviders") == {"metrics": ["prometheus"], "accessLogging": ["envoy"]}


def test_yaml_1_1_scalars_and_quoted_numbers_as_go_yaml_v2_and_jsonpb_read_them():
    mesh = load_mesh_config("defaultConfig:\n  holdApplicationUntilProxyStarts: yes\n"
                            "  statusPort: '15021'\n  concurrency: 2.0\n")
    pc = mesh.default_config()
    assert pc.hold_application_until_proxy_starts() is True
    assert pc.status_port() == 15021  # jsonpb reads a quoted integer
    assert pc.concurrency() == 2  # 2.0 is written as 2 in the JSON go-yaml makes


# ---- errors, as Istio words them --------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("defaultConfig:\n  concurrency: abc\n",
     "failed to convert to proto. invalid character 'a' looking for beginning of value"),
    ("defaultConfig:\n  statusPort: 1.5\n",
     "failed to convert to proto. json: cannot unmarshal number 1.5 into Go value of type int32"),
    ("defaultConfig:\n  discoveryAddress: 5\n",
     "failed to convert to proto. json: cannot unmarshal number into Go value of type string"),
    ("defaultConfig:\n  holdApplicationUntilProxyStarts: 'true'\n",
     "failed to convert to proto. json: cannot unmarshal string into Go value of type bool"),
    ("defaultConfig:\n  interceptionMode: FOO\n",
     'failed to convert to proto. unknown value "\\"FOO\\"" for enum '
     "istio.mesh.v1alpha1.ProxyConfig.InboundInterceptionMode"),
    ("defaultConfig:\n  drainDuration: 1x\n",
     'failed to convert to proto. bad Duration: time: unknown unit "x" in duration "1x"'),
    ("defaultConfig: [1]\n",
     "failed to convert to proto. json: cannot unmarshal array into Go value of type map[string]json.RawMessage"),
    ("- a\n", "failed to convert to proto. json: cannot unmarshal array into Go value of type "
              "map[string]json.RawMessage"),
    ("proxyListenPort: 0\n", "invalid proxy listen port: port number 0 must be in the range 1..65535"),
    ("connectTimeout: 2h\n", "invalid connect timeout: time 2h0m0s must be >1ms and <1h0m0s"),
    ("trustDomain: Not_Valid\n", '1 error occurred:\n\t* trustDomain: trust domain name "Not_Valid" invalid\n\n'),
    ("defaultConfig:\n  discoveryAddress: nope\n",
     '1 error occurred:\n\t* invalid discovery address: unable to split "nope": '
     "address nope: missing port in address\n\n"),
    ("defaultConfig:\n  configPath: ''\n  statusPort: 0\n",
     "2 errors occurred:\n\t* config path must be set\n\t* invalid status port: "
     "port number 0 must be in the range 1..65535\n\n"),
    # Go's "$" does not match before a final line break (Python's does): istioctl 1.30.4 refuses
    # both of these, in these words
    ('defaultConfig:\n  discoveryAddress: "istiod.istio-system.svc\\n:15012"\n',
     '1 error occurred:\n\t* invalid discovery address: "istiod.istio-system.svc\\n" is not a valid '
     "hostname or an IP address\n\n"),
    ('serviceSettings:\n- hosts: ["foo\\n"]\n',
     '1 error occurred:\n\t* serviceSettings[0], host `foo\n`: domain name "foo\\n" invalid '
     '(label "foo\\n" invalid)\n\n'),
])
def test_refused_mesh_configs(text, message):
    with pytest.raises(MeshConfigError) as err:
        load_mesh_config(text)
    assert err.value.go_error == message
    assert "\n" not in str(err.value)  # str() is the one-line form


def test_bad_yaml_is_refused():
    # ApplyYAML's sigs.k8s.io/yaml.YAMLToJSON returns go-yaml's error bare (istioctl 1.30.4:
    # "failed to convert to proto. yaml: line 1: did not find expected ',' or ']'")
    with pytest.raises(MeshConfigError) as err:
        load_mesh_config("a: [\n")
    assert str(err.value).startswith("failed to convert to proto. yaml: ")


def test_multi_error_one_line_form():
    with pytest.raises(MeshConfigError) as err:
        load_mesh_config("defaultConfig:\n  configPath: ''\n  statusPort: 0\n")
    assert str(err.value) == "config path must be set; invalid status port: port number 0 must be in the range 1..65535"


def test_one_line_form_keeps_a_member_that_holds_a_line_break():
    with pytest.raises(MeshConfigError) as err:
        load_mesh_config('serviceSettings:\n- hosts: ["foo\\n"]\n')
    assert str(err.value) == ('serviceSettings[0], host `foo `: domain name "foo\\n" invalid '
                              '(label "foo\\n" invalid)')


# ---- the proxy.istio.io/config annotation ---------------------------------------------

def test_annotation_merges_into_mesh_default_config():
    mesh = load_mesh_config("defaultConfig:\n  proxyMetadata:\n    KEEP: mesh\n    OVERRIDE: mesh\n"
                            "  statusPort: 15021\n")
    pc = annotated(mesh, "proxyMetadata:\n  OVERRIDE: pod\n  NEW: pod\nconcurrency: 0\n")
    assert pc.proxy_metadata() == {"KEEP": "mesh", "OVERRIDE": "pod", "NEW": "pod"}
    assert pc.status_port() == 15021 and pc.concurrency() == 0
    # the mesh itself is untouched
    assert mesh.default_config().proxy_metadata() == {"KEEP": "mesh", "OVERRIDE": "mesh"}
    assert mesh.default_config().concurrency() is None


def test_annotation_json_and_hold_application():
    mesh = load_mesh_config(None)
    assert proto_json(annotated(mesh, '{ "holdApplicationUntilProxyStarts": true }')) == \
        '{"holdApplicationUntilProxyStarts":true}'
    pc = annotated(mesh, '{ "holdApplicationUntilProxyStarts": false }')
    assert pc.hold_application_until_proxy_starts() is False
    assert proto_json(pc) == '{"holdApplicationUntilProxyStarts":false}'  # a set wrapper prints


def test_no_annotation_gives_the_mesh_default_config():
    mesh = load_mesh_config("defaultConfig:\n  interceptionMode: TPROXY\n")
    assert pod_proxy_config(mesh, {}).interception_mode() == "TPROXY"
    assert proto_json(pod_proxy_config(mesh, None)) == '{"interceptionMode":"TPROXY"}'


def test_annotation_oneof_replaces_the_other_member():
    pc = annotated(load_mesh_config(None), "tracingServiceName: CANONICAL_NAME_ONLY\n")
    assert "serviceCluster" not in pc.to_dict()
    assert proto_json(pc) == '{"tracingServiceName":"CANONICAL_NAME_ONLY"}'


@pytest.mark.parametrize("text, message", [
    ("concurrency: x", "could not parse proxy config: invalid character 'x' looking for beginning of value"),
    ("[", "could not parse proxy config: yaml: "),  # YAMLToJSON's bare error, as istioctl 1.30.4
    ("image: 5", "could not parse proxy config: json: cannot unmarshal number into Go value of type "
                 "map[string]json.RawMessage"),
])
def test_bad_annotations(text, message):
    with pytest.raises(MeshConfigError) as err:
        annotated(load_mesh_config(None), text)
    assert err.value.go_error.startswith(message)


def test_annotation_validation_for_validate_annotations():
    assert m.validate_proxy_config_annotation("concurrency: 2") is None
    assert m.validate_proxy_config_annotation("statusPort: 70000") == \
        "1 error occurred:\n\t* invalid status port: port number 70000 must be in the range 1..65535\n\n"
    assert m.validate_proxy_config_annotation("concurrency: x") == \
        "failed to convert to apply proxy config: invalid character 'x' looking for beginning of value"


# ---- protoToJSON details -----------------------------------------------------------------

def test_proto_json_value_forms():
    pc = annotated(load_mesh_config(None),
                   "drainDuration: 1.5s\nterminationDrainDuration: 1500ms\n"
                   "proxyMetadata: {b: '<&>', a: x}\nimage: {imageType: distroless}\n"
                   "tracing: {sampling: 0.5, customTags: {z: {literal: {value: v}}}}\n"
                   "interceptionMode: 1\n")
    assert proto_json(pc) == (
        '{"drainDuration":"1.500s","interceptionMode":"TPROXY",'
        '"tracing":{"customTags":{"z":{"literal":{"value":"v"}}},"sampling":0.5},'
        '"proxyMetadata":{"a":"x","b":"\\u003c\\u0026\\u003e"},"terminationDrainDuration":"1.500s",'
        '"image":{"imageType":"distroless"}}')
    assert pc.image_type() == "distroless"


def test_proto_json_for_stored_dicts():
    assert m.proto_json_for(DEFAULT_PROXY, "*istio.io/api/mesh/v1alpha1.ProxyConfig") == "{}"
    assert m.proto_json_for(None, "*istio.io/api/mesh/v1alpha1.ProxyConfig") == "{}"
    assert m.proto_json_for({"mode": "ALLOW_ANY"}, "istio.io/api/mesh/v1alpha1.MeshConfig_OutboundTrafficPolicy") \
        == '{"mode":"ALLOW_ANY"}'


def test_unknown_enum_numbers_are_kept_as_numbers():
    pc = annotated(load_mesh_config(None), "interceptionMode: 7\n")
    assert proto_json(pc) == '{"interceptionMode":7}'


def test_go_duration_string():
    assert [format_duration(n) for n in (0, 1500 * 10**6, 90 * 10**9, 3600 * 10**9, 1500)] == \
        ["0s", "1.5s", "1m30s", "1h0m0s", "1.5µs"]


# ---- Istio's golden cases ----------------------------------------------------------------

def _pod_templates(node, out):
    """Pod metadata+spec pairs in document order (Pods, workload templates, List items)."""
    if isinstance(node, dict):
        spec = node.get("spec")
        if isinstance(spec, dict) and "containers" in spec:
            out.append(node)
            return
        for value in node.values():
            _pod_templates(value, out)
    elif isinstance(node, list):
        for item in node:
            _pod_templates(item, out)


def _proxy_config_values(node, out):
    if isinstance(node, dict):
        if node.get("name") == "PROXY_CONFIG" and "value" in node:
            out.append(node["value"].strip())
        for value in node.values():
            _proxy_config_values(value, out)
    elif isinstance(node, list):
        for item in node:
            _proxy_config_values(item, out)


def _is_subsequence(needles, haystack) -> bool:
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needles)


@pytest.mark.skipif(not available(), reason=SKIP_REASON)
@pytest.mark.parametrize("case", [c for c in load_cases() if c.get("want")], ids=lambda c: f"{c['index']:02d}-{c['want']}")
def test_golden_proxy_config(case):
    with open(os.path.join(GOLDEN, "inputs", f"{case['settings']}.mesh.gen.yaml")) as handle:
        text = handle.read()
    if case.get("meshOverrides"):  # applied to the mesh file, as the golden runs do
        text = yaml.safe_dump(merge(yaml.safe_load(text) or {}, case["meshOverrides"]))
    mesh = load_mesh_config(text)
    with open(os.path.join(GOLDEN, "inject", case["in"])) as handle:
        pods: list = []
        _pod_templates(list(yaml.safe_load_all(handle)), pods)
    computed = [proto_json(pod_proxy_config(mesh, (p.get("metadata") or {}).get("annotations") or {}))
                for p in pods]
    with open(os.path.join(GOLDEN, "inject", case["want"])) as handle:
        expected: list = []
        _proxy_config_values(list(yaml.safe_load_all(handle)), expected)
    if not expected:
        pytest.skip("the expected output prints no PROXY_CONFIG (not injected, or a template without it)")
    assert _is_subsequence(expected, computed), (expected, computed)


# ---- template views (gotypes views over our dicts) ------------------------------------

def test_template_views_give_go_access():
    views = pytest.importorskip("kubectl_inject.gotypes.views")
    mesh = load_mesh_config("defaultConfig:\n  proxyMetadata: {A: b}\n  drainDuration: 23s\n")
    pc = annotated(mesh, "concurrency: 0\nholdApplicationUntilProxyStarts: true\n")
    view = pc.template_view()
    assert view.__proto_json__() == proto_json(pc)
    assert view.__proto_json__() == ('{"drainDuration":"23s","concurrency":0,"proxyMetadata":{"A":"b"},'
                                     '"holdApplicationUntilProxyStarts":true}')
    assert dict(view.__go_field__("ProxyMetadata")) == {"A": "b"}
    assert view.__go_field__("InterceptionMode").__go_str__() == "REDIRECT"
    assert view.__go_field__("Concurrency").__go_method__("GetValue")() == 0
    assert view.__go_field__("HoldApplicationUntilProxyStarts").__go_method__("GetValue")() is True
    mesh_view = mesh.template_view()
    assert mesh_view.__go_field__("TrustDomain") == "cluster.local"
    assert mesh_view.__go_field__("ProxyListenPort") == 15001
    assert mesh_view.__go_field__("DefaultConfig").__go_field__("DiscoveryAddress") == "istiod.istio-system.svc:15012"
    assert mesh_view.__proto_json__() == proto_json(mesh)
    assert views is not None
