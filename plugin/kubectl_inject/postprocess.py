"""What Istio does to the merged Pod after the templates (its postProcessPod).

Cluster/network env vars, Prometheus metrics merging, HTTP/TCP/gRPC app probes (and, in
releases that do, HTTP/TCP lifecycle hooks) rewritten to go through the agent, the status
annotation, and container ordering.
"""
from __future__ import annotations

import copy

from .gostd import json as gojson
from . import prometheus
from .constants import (INIT_CONTAINER, NETWORK_LABEL, PROXY_CONTAINER, STATUS_ANNOTATION,
                        VALIDATION_CONTAINER)
from .merge import find_container, find_in_pod

PROBERS_ENV = "ISTIO_KUBE_APP_PROBERS"
PROMETHEUS_ENV = "ISTIO_PROMETHEUS_ANNOTATIONS"
REWRITE_PROBES_ANNOTATION = "sidecar.istio.io/rewriteAppHTTPProbers"
STATUS_PORT_ANNOTATION = "status.sidecar.istio.io/port"
MERGE_METRICS_ANNOTATION = "prometheus.istio.io/merge-metrics"
CORE_DUMP_CONTAINER = "enable-core-dump"


def post_process(pod: dict, template_pod: dict, *, proxy_envs: dict, revision: str,
                 injected_annotations: dict, status_port: int, prometheus_merge: bool | None,
                 rewrite_probes_default: bool, hold_application: bool,
                 rewrite_lifecycle_hooks: bool = False) -> None:
    """rewrite_lifecycle_hooks: the release's switch of that name (releases.py)."""
    meta = pod.setdefault("metadata", {})
    if not meta.get("annotations"):
        meta["annotations"] = {}
    if not meta.get("labels"):
        meta["labels"] = {}
    _overwrite_cluster_info(pod, proxy_envs)
    _apply_prometheus_merge(pod, status_port, prometheus_merge)
    _apply_probe_rewrite(pod, status_port, rewrite_probes_default, rewrite_lifecycle_hooks)
    _apply_metadata(pod, template_pod, proxy_envs, revision, injected_annotations)
    _reorder(pod, hold_application)


def _overwrite_cluster_info(pod: dict, proxy_envs: dict) -> None:
    sidecar = find_in_pod(PROXY_CONTAINER, pod)
    if sidecar is None or not proxy_envs:
        return
    env = [e for e in sidecar.get("env") or [] if e.get("name") not in proxy_envs]
    env.extend({"name": key, "value": proxy_envs[key]} for key in sorted(proxy_envs))
    sidecar["env"] = env


def _parse_go_bool(value: str):
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def _apply_prometheus_merge(pod: dict, status_port: int, mesh_setting: bool | None) -> None:
    annotations = pod["metadata"]["annotations"]
    scrape = prometheus.find(annotations, "scrape")
    if scrape is not None and _parse_go_bool(scrape[1]) is False:
        return
    enabled = True
    if MERGE_METRICS_ANNOTATION in annotations and _parse_go_bool(annotations[MERGE_METRICS_ANNOTATION]) is not None:
        enabled = _parse_go_bool(annotations[MERGE_METRICS_ANNOTATION])
    elif mesh_setting is not None:
        enabled = mesh_setting
    if not enabled:
        return
    target_port = str(status_port)
    port = prometheus.find(annotations, "port")
    if port is not None and port[1] == target_port:
        return  # already pointing at the agent: the user or an earlier injection did it
    config = prometheus.scrape_configuration(annotations)
    sidecar = find_in_pod(PROXY_CONTAINER, pod)
    if sidecar is not None and any(config.values()):
        sidecar.setdefault("env", []).append({"name": PROMETHEUS_ENV, "value": gojson.marshal(config, sort_keys=False)})
    prometheus.remove_all(annotations)
    annotations["prometheus.io/port"] = target_port
    annotations["prometheus.io/path"] = "/stats/prometheus"
    annotations["prometheus.io/scrape"] = "true"


def _agent_checks(container: dict, lifecycle_hooks: bool) -> list:
    """(holder, field, agent URL) of each probe the agent can take over (status.FormatProberURL),
    and with lifecycle_hooks of each lifecycle hook (app_probe.go convertProbe: preStop, then
    postStart): holder[field] is the probe or the hook's handler."""
    name = container.get("name", "")
    checks = [(container, "readinessProbe", f"/app-health/{name}/readyz"),
              (container, "livenessProbe", f"/app-health/{name}/livez"),
              (container, "startupProbe", f"/app-health/{name}/startupz")]
    lifecycle = container.get("lifecycle") if lifecycle_hooks else None
    if lifecycle:
        checks += [(lifecycle, "preStop", f"/app-lifecycle/{name}/prestopz"),
                   (lifecycle, "postStart", f"/app-lifecycle/{name}/poststartz")]
    return checks


def _app_containers(pod: dict) -> list:
    spec = pod.get("spec") or {}
    return [c for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])
            if c.get("name") != PROXY_CONTAINER]


def _prober(probe: dict | None, port_names: dict, status_port: int):
    """Istio's internal Prober for a probe (or a lifecycle handler, which has neither gRPC nor a
    timeout), with named ports resolved; None if not rewritable."""
    if not probe:
        return None
    timeout = probe.get("timeoutSeconds")
    if probe.get("grpc") is not None:
        prober = {"grpc": copy.deepcopy(probe["grpc"])}
    elif probe.get("httpGet") is not None or probe.get("tcpSocket") is not None:
        action = "httpGet" if probe.get("httpGet") is not None else "tcpSocket"
        handler = copy.deepcopy(probe[action])
        port = handler.get("port")
        if isinstance(port, str):
            if port not in port_names:
                return None
            handler["port"] = port_names[port]
        elif port == status_port:
            return None  # already rewritten by an earlier injection
        prober = {action: handler}
    else:
        return None
    if timeout:
        prober["timeoutSeconds"] = timeout
    return prober


def dump_app_probers(pod: dict, status_port: int, lifecycle_hooks: bool = False) -> str:
    probers = {}
    for container in _app_containers(pod):
        port_names = {p["name"]: p.get("containerPort", 0) for p in container.get("ports") or [] if p.get("name")}
        for holder, field, url in _agent_checks(container, lifecycle_hooks):
            prober = _prober(holder.get(field), port_names, status_port)
            if prober is not None:
                probers[url] = _prober_go_order(prober)
    if not probers:
        return ""
    return gojson.marshal(dict(sorted(probers.items())), sort_keys=False)


def _prober_go_order(prober: dict) -> dict:
    """Field order of Istio's Prober and of corev1 actions, as encoding/json writes them."""
    order = {"httpGet": ("path", "port", "host", "scheme", "httpHeaders"),
             "tcpSocket": ("port", "host"), "grpc": ("port", "service")}
    out = {}
    for action in ("httpGet", "tcpSocket", "grpc"):
        if action in prober:
            handler = prober[action]
            out[action] = {k: handler[k] for k in order[action] if k in handler}
    if "timeoutSeconds" in prober:
        out["timeoutSeconds"] = prober["timeoutSeconds"]
    return out


def _should_rewrite(annotations: dict, default: bool) -> bool:
    if REWRITE_PROBES_ANNOTATION in annotations:
        parsed = _parse_go_bool(annotations[REWRITE_PROBES_ANNOTATION])
        if parsed is not None:
            return parsed
    return default


def _apply_probe_rewrite(pod: dict, status_port: int, default: bool, lifecycle_hooks: bool) -> None:
    sidecar = find_in_pod(PROXY_CONTAINER, pod)
    annotations = pod["metadata"]["annotations"]
    if sidecar is None or not _should_rewrite(annotations, default):
        return
    probers = dump_app_probers(pod, status_port, lifecycle_hooks)
    if probers:
        env = sidecar.setdefault("env", [])
        if STATUS_ANNOTATION in annotations:
            _merge_probers_env(env, probers)
        else:
            env.append({"name": PROBERS_ENV, "value": probers})
    port = status_port
    if STATUS_PORT_ANNOTATION in annotations:
        try:
            port = int(annotations[STATUS_PORT_ANNOTATION])
        except ValueError:
            port = 0
    for container in _app_containers(pod):
        for holder, field, url in _agent_checks(container, lifecycle_hooks):
            probe = holder.get(field)
            if not probe:
                continue
            action = next((a for a in ("httpGet", "tcpSocket", "grpc") if probe.get(a) is not None), None)
            if action is None:
                continue
            http_get = dict(probe["httpGet"]) if action == "httpGet" else {}
            http_get["port"] = port
            http_get["path"] = url
            if http_get.get("scheme") == "HTTPS":
                http_get["scheme"] = "HTTP"
            probe.pop("tcpSocket", None)
            probe.pop("grpc", None)
            probe["httpGet"] = http_get


def _merge_probers_env(env: list, probers: str) -> None:
    import json
    for index, var in enumerate(env):
        if var.get("name") == PROBERS_ENV:
            try:
                existing = json.loads(var.get("value", ""))
                fresh = json.loads(probers)
            except ValueError:
                return
            fresh.update(existing)
            env[index] = {"name": PROBERS_ENV,
                          "value": gojson.marshal({k: _prober_go_order(v) for k, v in sorted(fresh.items())}, sort_keys=False)}
            return
    env.append({"name": PROBERS_ENV, "value": probers})


def injection_status(template_pod: dict, revision: str) -> str:
    spec = template_pod.get("spec") or {}

    def names(key):
        items = spec.get(key) or []
        return [item.get("name", "") for item in items] if items else None

    return gojson.marshal({"initContainers": names("initContainers"), "containers": names("containers"),
                           "volumes": names("volumes"), "imagePullSecrets": names("imagePullSecrets"),
                           "revision": revision or "default"}, sort_keys=False)


def _apply_metadata(pod: dict, template_pod: dict, proxy_envs: dict, revision: str,
                    injected_annotations: dict) -> None:
    if "ISTIO_META_NETWORK" in proxy_envs:
        pod["metadata"]["labels"][NETWORK_LABEL] = proxy_envs["ISTIO_META_NETWORK"]
    pod["metadata"]["annotations"][STATUS_ANNOTATION] = injection_status(template_pod, revision)
    for key, value in (injected_annotations or {}).items():
        pod["metadata"]["annotations"][key] = value


def _move(containers: list, name: str, where: str) -> list:
    match = find_container(name, containers)
    if match is None:
        return containers
    rest = [c for c in containers if c.get("name") != name]
    return [match] + rest if where == "first" else rest + [match]


def _reorder(pod: dict, hold_application: bool) -> None:
    """istio-proxy last (so kubectl exec defaults to the app), or first when the app must wait
    for the proxy; istio-init last among init containers so it does not black-hole the others,
    or, with native sidecars, init -> proxy -> rest."""
    spec = pod.setdefault("spec", {})
    # Istio's modifyContainers always returns a fresh, non-nil slice: a Pod left with no
    # containers (its proxy a native sidecar) prints `containers: []`, not null
    spec["containers"] = _move(spec.get("containers") or [], PROXY_CONTAINER,
                               "first" if hold_application else "last")
    init = spec.get("initContainers")
    if not init:
        return
    if find_container(PROXY_CONTAINER, init) is not None:
        for name in (CORE_DUMP_CONTAINER, PROXY_CONTAINER, VALIDATION_CONTAINER, INIT_CONTAINER):
            init = _move(init, name, "first")
    else:
        init = _move(init, VALIDATION_CONTAINER, "first")
        init = _move(init, INIT_CONTAINER, "last")
        init = _move(init, CORE_DUMP_CONTAINER, "last")
    spec["initContainers"] = init
