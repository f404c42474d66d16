"""`kubectl inject --explain`: what injection adds to each workload, and what decided it.

For the lab's "study the sidecar" steps: each added container with its image and the command
line it runs (the image's entrypoint, pilot-agent, plus the args; for istio-init also the
long option names), the volumes, labels and annotations added, and the source (annotation,
values, mesh config, environment) of every choice that is not Istio's default.
"""
from __future__ import annotations

import copy
import shlex

from . import goyaml
from .config_source import DEFAULT_ISTIO_VERSION, builtin_texts
from .inject import Settings, decode, inject_object
from .load_config import parse_values
from .meshconfig import load_mesh_config
from .workloads import pod_template

# proxyv2's ENTRYPOINT; Istio's template gives only args, so the command line starts here.
PROXY_ENTRYPOINT = "pilot-agent"

# istio-iptables short options and their long names (pilot-agent istio-iptables --help).
IPTABLES_LONG = {
    "-p": "--envoy-port", "-z": "--inbound-capture-port", "-e": "--inbound-tunnel-port",
    "-u": "--proxy-uid", "-g": "--proxy-gid", "-m": "--istio-inbound-interception-mode",
    "-t": "--istio-inbound-tproxy-mark", "-r": "--istio-inbound-tproxy-route-table",
    "-b": "--istio-inbound-ports", "-d": "--istio-local-exclude-ports",
    "-o": "--istio-local-outbound-ports-exclude", "-q": "--istio-outbound-ports",
    "-i": "--istio-service-cidr", "-x": "--istio-service-exclude-cidr",
    "-k": "--kube-virt-interfaces", "-c": "--exclude-interfaces", "-n": "--dry-run",
}

# knob: (annotation, values path, mesh defaultConfig field, environment variable)
CHOICES = [
    ("inject templates", "inject.istio.io/templates", None, None, None),
    ("interception mode (-m)", "sidecar.istio.io/interceptionMode", None, "interceptionMode", None),
    ("outbound IP ranges captured (-i)", "traffic.sidecar.istio.io/includeOutboundIPRanges", ("global", "proxy", "includeIPRanges"), None, None),
    ("outbound IP ranges excluded (-x)", "traffic.sidecar.istio.io/excludeOutboundIPRanges", ("global", "proxy", "excludeIPRanges"), None, None),
    ("inbound ports captured (-b)", "traffic.sidecar.istio.io/includeInboundPorts", ("global", "proxy", "includeInboundPorts"), None, None),
    ("inbound ports excluded (-d)", "traffic.sidecar.istio.io/excludeInboundPorts", ("global", "proxy", "excludeInboundPorts"), None, None),
    ("outbound ports excluded (-o)", "traffic.sidecar.istio.io/excludeOutboundPorts", ("global", "proxy", "excludeOutboundPorts"), None, None),
    ("outbound ports captured (-q)", "traffic.sidecar.istio.io/includeOutboundPorts", ("global", "proxy", "includeOutboundPorts"), None, None),
    ("Envoy log level", "sidecar.istio.io/logLevel", ("global", "proxy", "logLevel"), None, None),
    ("Envoy component log level", "sidecar.istio.io/componentLogLevel", ("global", "proxy", "componentLogLevel"), None, None),
    ("agent log level", "sidecar.istio.io/agentLogLevel", ("global", "logging", "level"), None, None),
    ("proxy image", "sidecar.istio.io/proxyImage", ("global", "proxy", "image"), None, None),
    ("image hub", None, ("global", "hub"), None, None),
    ("image tag", None, ("global", "tag"), None, None),
    ("proxy CPU request", "sidecar.istio.io/proxyCPU", ("global", "proxy", "resources", "requests", "cpu"), None, None),
    ("proxy memory request", "sidecar.istio.io/proxyMemory", ("global", "proxy", "resources", "requests", "memory"), None, None),
    ("proxy CPU limit", "sidecar.istio.io/proxyCPULimit", ("global", "proxy", "resources", "limits", "cpu"), None, None),
    ("proxy memory limit", "sidecar.istio.io/proxyMemoryLimit", ("global", "proxy", "resources", "limits", "memory"), None, None),
    ("status port", "status.sidecar.istio.io/port", ("global", "proxy", "statusPort"), "statusPort", None),
    ("proxy config overrides", "proxy.istio.io/config", None, None, None),
    ("hold app until proxy starts", None, ("global", "proxy", "holdApplicationUntilProxyStarts"), "holdApplicationUntilProxyStarts", None),
    ("app probe rewrite", "sidecar.istio.io/rewriteAppHTTPProbers", ("sidecarInjectorWebhook", "rewriteAppHTTPProbe"), None, None),
    ("Prometheus metrics merge", "prometheus.istio.io/merge-metrics", None, None, None),
    ("CNI instead of istio-init", None, ("istio_cni", "enabled"), None, None),
    ("native sidecars", None, None, None, "ENABLE_NATIVE_SIDECARS"),
]


def command_line(container: dict) -> str:
    """What the container runs: its command, or the proxy image's entrypoint, plus args."""
    command = list(container.get("command") or [])
    if not command:
        command = [PROXY_ENTRYPOINT]
    return " ".join(_quote(part) for part in command + list(container.get("args") or []))


def _quote(arg: str) -> str:
    if arg == "":
        return '""'
    if arg in ("*",) or any(ch in arg for ch in " '\"*?[]{}"):
        return shlex.quote(arg)
    return arg


def iptables_long_form(container: dict) -> str:
    """istio-init's args with the long option names, numbers and lists quoted as the lab shows."""
    args = list(container.get("args") or [])
    out = [PROXY_ENTRYPOINT]
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in IPTABLES_LONG and index + 1 < len(args) and arg != "-n":
            value = args[index + 1]
            out.append(IPTABLES_LONG[arg])
            if value == "":
                out.append('""')
            elif value.replace(",", "").isdigit():
                out.append(f'"{value}"')
            else:
                out.append(_quote(value))
            index += 2
            continue
        out.append(IPTABLES_LONG.get(arg, _quote(arg)))
        index += 1
    return " ".join(out)


def _volume_kind(volume: dict) -> str:
    kinds = [k for k in volume if k != "name"]
    # Istio's template leaves some volumes without a source; the API server makes them emptyDir.
    return kinds[0] if kinds else "emptyDir by default"


def _added(before: list, after: list) -> list:
    names = {item.get("name") for item in before or []}
    return [item for item in after or [] if item.get("name") not in names]


def _changed_map(before: dict, after: dict) -> list:
    return [(k, v) for k, v in sorted((after or {}).items()) if (before or {}).get(k) != v]


class _Defaults:
    """Istio's own defaults, to tell a deliberate choice from a default one: the built-in
    values of the lab's Istio release and the mesh defaults with no mesh file."""

    def __init__(self):
        try:
            self.values = parse_values(builtin_texts(DEFAULT_ISTIO_VERSION)["values"])
        except Exception:  # no built-in: every set value counts as a choice
            self.values = parse_values("{}")
        self.proxy = load_mesh_config(None).default_config()


def _source(settings: Settings, defaults: _Defaults, annotations: dict, knob) -> str | None:
    label, annotation, values_path, mesh_field, env_name = knob
    if annotation and annotation in annotations:
        return f"{label}: {annotations[annotation]!s}  <- annotation {annotation}"
    if env_name and settings.env.get(env_name):
        return f"{label}: {settings.env[env_name]}  <- environment {env_name}"
    if values_path:
        value = settings.values.get(*values_path, default=None)
        if value != defaults.values.get(*values_path, default=None) and value not in (None, "", [], {}):
            return f"{label}: {_show(value)}  <- values {'.'.join(values_path)}"
    if mesh_field:
        value = settings.mesh.default_config().get(mesh_field)
        if value != defaults.proxy.get(mesh_field):
            return f"{label}: {_show(value)}  <- mesh config defaultConfig.{mesh_field}"
    return None


def _show(value) -> str:
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def explain(text: str, settings: Settings, source: str = "-") -> str:
    lines = []
    if settings.evidence is not None:  # which istioctl this explains, and why that one
        lines.append(f"as istioctl {settings.evidence.name} kube-inject does; the release: from {settings.evidence.source}")
    for raw in goyaml.split_documents(text):
        obj = decode(raw)
        if obj is None:
            continue
        if obj.get("kind") == "List":
            for item in obj.get("items") or []:
                typed = decode(goyaml.dump(item)) if isinstance(item, dict) else None
                if typed is not None and typed.get("kind") != "List":
                    lines.extend(_explain_object(typed, settings, source))
        else:
            lines.extend(_explain_object(obj, settings, source))
    return "\n".join(lines) + ("\n" if lines else "")


def _explain_object(obj: dict, settings: Settings, source: str) -> list:
    warnings = []
    before = pod_template(copy.deepcopy(obj))
    after_obj = inject_object(obj, settings, warnings.append)
    after = pod_template(after_obj)
    meta = obj.get("metadata") or {}
    name = f"{meta.get('namespace')}/{meta.get('name')}" if meta.get("namespace") else meta.get("name", "?")
    lines = [f"{obj.get('kind')} {name} ({source})"]
    if warnings:
        lines += ["  " + w.strip().lstrip("=> ") for w in warnings]
        return lines + [""]
    spec_b, spec_a = before.spec, after.spec
    for key, title in (("initContainers", "init container"), ("containers", "container")):
        for container in _added(spec_b.get(key), spec_a.get(key)):
            lines.append(f"  {title} {container['name']}: image {container.get('image', '?')}")
            lines.append(f"    runs: {command_line(container)}")
            if (container.get("args") or [""])[0] == "istio-iptables":
                lines.append(f"    long form: {iptables_long_form(container)}")
            for port in container.get("ports") or []:
                lines.append(f"    port {port.get('containerPort')}/{port.get('protocol', 'TCP')} {port.get('name', '')}".rstrip())
            probe = (container.get("readinessProbe") or {}).get("httpGet")
            if probe:
                lines.append(f"    readiness probe: GET :{probe.get('port')}{probe.get('path', '')}")
    volumes = _added(spec_b.get("volumes"), spec_a.get("volumes"))
    if volumes:
        lines.append("  volumes added: " + ", ".join(f"{v['name']} ({_volume_kind(v)})" for v in volumes))
    for title, key in (("labels", "labels"), ("annotations", "annotations")):
        changed = _changed_map(before.metadata.get(key), after.metadata.get(key))
        if changed:
            lines.append(f"  {title} added or changed:")
            lines.extend(f"    {k}: {v}" for k, v in changed)
    annotations = before.metadata.get("annotations") or {}
    defaults = _Defaults()
    decided = [s for s in (_source(settings, defaults, annotations, knob) for knob in CHOICES) if s]
    lines.append("  choices that are not Istio's defaults:" if decided else
                 "  every choice is Istio's default (no annotation, value or mesh setting changed one)")
    lines.extend(f"    {line}" for line in decided)
    lines.append("")
    return lines
