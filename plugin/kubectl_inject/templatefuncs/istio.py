"""Istio's InjectionFuncmap (istio/pkg/kube/inject/template.go), the functions Istio adds on
top of sprig for its injection templates, and sigs.k8s.io/yaml.Marshal for toYaml.

Istio's functions win over sprig's on a name clash: its ``indent`` leaves the first line alone,
its ``omit`` and ``strdict`` make map[string]string values, its ``env`` takes a default, and
``toJSON``/``structToJSON``/``protoToJSON``/``fromJSON`` return ``"{}"`` where Go fails.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping

from .. import goyaml, releases
from ..constants import PROXY_CONTAINER
from ..gostd import json as gojson
from ..gostd.fmt import format_value, sprint
from ..gostd.time import format_duration
from ..gostd.values import MISSING, StringMap, go_type_name
from ..gotemplate import signature
from .conv import GO_SPACE, GoFuncError, iface, path_split, struct_field

__all__ = ["istio_funcs", "to_yaml"]


# --- sigs.k8s.io/yaml.Marshal -----------------------------------------------------------------

def _json_roundtrip(value):
    """The value as sigs.k8s.io/yaml sees it: encoding/json's text, read back by go-yaml, which
    keeps integers as integers (unlike json.Unmarshal into interface{})."""
    return json.loads(gojson.marshal(value))


def to_yaml(value) -> str:
    """sigs.k8s.io/yaml.Marshal: encoding/json first, then go-yaml v2 over the JSON."""
    return goyaml.dump(_json_roundtrip(value))


def _to_yaml(value):
    try:
        return to_yaml(iface(value))
    except gojson.MarshalError:
        return ""


# --- JSON -------------------------------------------------------------------------------------

def _struct_to_json(v):
    # Istio's toJSON (of a map[string]string) and structToJSON: "{}" for nil or on error
    v = iface(v)
    if v is None:
        return "{}"
    try:
        return gojson.marshal(v)
    except gojson.MarshalError:
        return "{}"


def _from_json(j):
    if not isinstance(j, str):
        raise GoFuncError("wrong type for value; expected string; got %s" % go_type_name(j))
    try:
        return gojson.unmarshal_any(j)
    except ValueError:
        return "{}"


def _proto_to_json(v):
    v = iface(v)
    clean = getattr(v, "__proto_clean__", None)
    if clean is not None:
        v = clean()
    if v is None or getattr(v, "__go_truth__", lambda: True)() is False:
        return "{}"
    hook = getattr(v, "__proto_json__", None)
    try:
        if hook is not None:
            out = hook()
            if isinstance(out, str):  # the producer already wrote protomarshal's text
                return out
            return gojson.marshal(out, proto=True, sort_keys=False)
        return gojson.marshal(v, proto=True)
    except gojson.MarshalError:
        return "{}"


def _merge_maps(*maps):
    if not maps:
        return None
    res = StringMap()
    for m in maps:
        for k, v in (iface(m) or {}).items():
            res[k] = v
    return res


def _to_json_map(*maps):
    try:
        return gojson.marshal(_merge_maps(*maps))
    except gojson.MarshalError:
        return ""


# --- ports ------------------------------------------------------------------------------------

@signature("interface {}", "string")
def _exclude_inbound_port(port, excluded):
    port_str = sprint(port).strip(GO_SPACE)
    if port_str == "" or port_str == "0":
        return excluded
    out = []
    for p in excluded.split(","):
        if p == port_str:
            return excluded
        p = p.strip(GO_SPACE)
        if p:
            out.append(p)
    out.append(port_str)
    return ",".join(out)


def _container_ports(containers, include) -> str:
    parts = []
    for c in iface(containers) or []:
        if not include(c):
            continue
        for p in struct_field(c, "Ports", "ports", []) or []:
            proto = struct_field(p, "Protocol", "protocol", "") or ""
            proto = format_value(proto) if not isinstance(proto, str) else proto
            if proto in ("UDP", "SCTP"):
                continue
            parts.append(str(int(struct_field(p, "ContainerPort", "containerPort", 0) or 0)))
    return ",".join(parts)


def _application_ports(containers):
    return _container_ports(containers, lambda c: struct_field(c, "Name", "name", "") != PROXY_CONTAINER)


def _include_inbound_ports(containers):
    return _container_ports(containers, lambda c: True)


# --- maps and strings -------------------------------------------------------------------------

def _isset(m, key):
    m = iface(m)
    if m is None:
        return False
    if isinstance(m, Mapping):
        return key in m
    idx = getattr(m, "__go_index__", None)
    if idx is not None:
        return idx(key) is not MISSING
    raise GoFuncError("wrong type for value; expected map[string]string; got %s" % go_type_name(m))


def _annotation(meta, name, default):
    annotations = struct_field(meta, "Annotations", "annotations", None)
    if annotations is not None and annotations is not MISSING and name in annotations:
        return annotations[name]
    return sprint(default)


def _value_or_default(value, default):
    value = iface(value)
    if value is None or (isinstance(value, str) and value == ""):
        return iface(default)
    return value


def _omit(d, *keys):
    d = iface(d)
    res = StringMap()
    if d is None:
        return res
    for k, v in d.items():
        if k not in keys:
            res[k] = v
    return res


@signature(variadic="string")
def _strdict(*v):
    d = StringMap()
    n = len(v)
    for i in range(0, n, 2):
        d[v[i]] = v[i + 1] if i + 1 < n else ""
    return d


def _omit_nil(v):
    v = iface(v)
    if isinstance(v, dict):
        return {k: _omit_nil(x) for k, x in v.items() if x is not None and x is not MISSING}
    if isinstance(v, list):
        return [_omit_nil(x) for x in v]
    return v


@signature("int", "string")
def _indent(spaces, source):
    # Istio's own indent: pads every line except the first (sprig pads the first too)
    lines = source.split("\n")
    pad = " " * spaces
    return "\n".join(lines[:1] + [pad + line for line in lines[1:]])


@signature("string")
def _directory(filepath):
    return path_split(filepath)[0]


@signature("string", "string")
def _flipped_contains(needle, haystack):
    return needle in haystack


@signature("string")
def _to_lower(s):
    return s.lower()


@signature("string")
def _identity(s):
    return s


def _split_qualified_name(text: str) -> tuple:
    """k8s.io/utils/strings.SplitQualifiedName: ("", text) without a "/", else the first two
    parts ("a/b/c" -> ("a", "b"))."""
    parts = text.split("/")
    return ("", text) if len(parts) < 2 else (parts[0], parts[1])


@signature("string", "string")
def _append_multus_network(existing, istio_cni_network):
    # pkg/kube/inject/template.go appendMultusNetwork; the JSON form splits "namespace/name"
    # since istio/istio#55000 (releases: multus_json_namespace)
    if existing == "":
        return istio_cni_network
    i = existing.rfind("]")
    if i != -1:
        try:
            # json.Unmarshal into []map[string]any: null is a nil slice, a null element a nil map
            networks = gojson.unmarshal_any(existing)
            if networks is not None and (not isinstance(networks, list) or
                                         not all(n is None or isinstance(n, dict) for n in networks)):
                raise ValueError("not a list of objects")
        except ValueError:
            return existing
        networks = [n or {} for n in networks or ()]
        if not releases.in_force().multus_json_namespace:
            for net in networks:
                if net.get("name") == istio_cni_network:
                    return existing
            return existing[:i] + ', {"name": "%s"}' % istio_cni_network + existing[i:]
        namespace, name = _split_qualified_name(istio_cni_network)
        for net in networks:
            # Go compares interface values: only an equal string matches; a nil namespace is ""
            net_namespace = net.get("namespace")
            if net.get("name") == name and ("" if net_namespace is None else net_namespace) == namespace:
                return existing
        if namespace == "":
            addition = ', {"name": "%s"}' % name
        else:
            addition = ', {"name": "%s", "namespace": "%s"}' % (name, namespace)
        return existing[:i] + addition + existing[i:]
    for net in existing.split(","):
        if net.strip(GO_SPACE) == istio_cni_network:
            return existing
    return existing + ", " + istio_cni_network


def _make_env(env: Mapping | None):
    @signature("string", "string")
    def env_fn(key, default):
        source = os.environ if env is None else env
        val = source.get(key, "")
        return default if val == "" else val
    return env_fn


# --- durations and OpenTelemetry --------------------------------------------------------------

def _duration_text(seconds: int, nanos: int) -> str:
    # durationpb.Duration.AsDuration().String()
    return format_duration(seconds * 1_000_000_000 + nanos)


def _format_duration(d):
    d = iface(d)
    if d is None:
        return "0s"
    if isinstance(d, (int, float)) and not hasattr(d, "__go_duration__"):
        return _duration_text(int(d), int(round((d - int(d)) * 1e9)))
    if isinstance(d, str):  # already a protojson duration such as "5s"
        return d
    dn = getattr(d, "__go_duration__", None)
    if dn is not None:  # nanoseconds
        return format_duration(int(dn()))
    secs = nanos = 0
    m = getattr(d, "__go_method__", None)
    if m is not None:
        gs, gn = m("GetSeconds"), m("GetNanos")
        if gs is not None:
            secs = gs() or 0
        if gn is not None:
            nanos = gn() or 0
    elif isinstance(d, Mapping):
        secs = int(d.get("seconds", 0) or 0)
        nanos = int(d.get("nanos", 0) or 0)
    return _duration_text(int(secs), int(nanos))


def _go_call(obj, method: str):
    """obj.Method() on a template view, or None when the type has no such method."""
    get = getattr(obj, "__go_method__", None)
    fn = get(method) if get else None
    return fn() if fn else None


def _image_tag_digest(image: str) -> tuple:
    digest = ""
    if "@" in image:
        image, digest = image.split("@", 1)
    last = image.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else ""
    return tag, digest


def _otel_resource_attributes(mesh, annotations, labels, namespace, containers) -> str:
    """Istio 1.30's OTEL_RESOURCE_ATTRIBUTES value: only when an OpenTelemetry tracing provider
    asks for OTEL_SEMANTIC_CONVENTIONS enrichment; else "" (the template then omits the var)."""
    providers = _go_call(mesh, "GetExtensionProviders") or []
    wanted = False
    for provider in providers:
        otel = _go_call(provider, "GetOpentelemetry")
        enrichment = _go_call(otel, "GetServiceAttributeEnrichment") if otel is not None else None
        name = enrichment.__go_str__() if hasattr(enrichment, "__go_str__") else str(enrichment or "")
        if name == "OTEL_SEMANTIC_CONVENTIONS":
            wanted = True
            break
    if not wanted:
        return ""
    annotations, labels = dict(annotations or {}), dict(labels or {})
    containers = list(containers or [])
    attrs = []
    if annotations.get("resource.opentelemetry.io/service.namespace"):
        attrs.append("service.namespace=" + annotations["resource.opentelemetry.io/service.namespace"])
    elif namespace:
        attrs.append("service.namespace=" + namespace)
    if annotations.get("resource.opentelemetry.io/service.version"):
        attrs.append("service.version=" + annotations["resource.opentelemetry.io/service.version"])
    elif labels.get("app.kubernetes.io/version"):
        attrs.append("service.version=" + labels["app.kubernetes.io/version"])
    elif len(containers) == 1:
        tag, digest = _image_tag_digest(str(struct_field(containers[0], "Image", "image") or ""))
        version = f"{tag}@{digest}" if tag and digest else (digest or tag)
        if version:
            attrs.append("service.version=" + version)
    if annotations.get("resource.opentelemetry.io/service.instance.id"):
        attrs.append("service.instance.id=" + annotations["resource.opentelemetry.io/service.instance.id"])
    elif containers:
        name = struct_field(containers[0], "Name", "name")
        attrs.append(f"service.instance.id={namespace}.$(POD_NAME).{name}")
    return ",".join(attrs)


def istio_funcs(env: Mapping | None = None) -> dict:
    """Istio's InjectionFuncmap (1.22 and later releases); env backs ``env`` (default:
    os.environ at call time)."""
    return {
        "formatDuration": _format_duration,
        "isset": _isset,
        "excludeInboundPort": _exclude_inbound_port,
        "includeInboundPorts": _include_inbound_ports,
        "kubevirtInterfaces": _identity,
        "excludeInterfaces": _identity,
        "applicationPorts": _application_ports,
        "annotation": _annotation,
        "valueOrDefault": _value_or_default,
        "toJSON": _struct_to_json,
        "fromJSON": _from_json,
        "structToJSON": _struct_to_json,
        "protoToJSON": _proto_to_json,
        "toYaml": _to_yaml,
        "indent": _indent,
        "directory": _directory,
        "contains": _flipped_contains,
        "toLower": _to_lower,
        "appendMultusNetwork": _append_multus_network,
        "env": _make_env(env),
        "omit": _omit,
        "strdict": _strdict,
        "toJsonMap": _to_json_map,
        "mergeMaps": _merge_maps,
        "omitNil": _omit_nil,
        "otelResourceAttributes": _otel_resource_attributes,
    }
