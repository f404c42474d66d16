"""Refuse Pods whose traffic and sidecar annotations Istio would refuse (validateAnnotations).

Messages follow Istio's wording so that users can search for them; several problems are
joined on one line.
"""
from __future__ import annotations

import json

from .errors import InjectError
from .gotypes.quantity import parse_quantity
from .meshconfig import validate_proxy_config_annotation


def _parse_uint(text: str, bits: int) -> int:
    if not text.isdigit() or not text.isascii():
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    if len(text.lstrip("0")) > 20:  # beyond any uint64: not converted (Python's int/str limit)
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    value = int(text)
    if value >= 1 << bits:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return value


def parse_ports(ports: str) -> list:
    ports = ports.strip()
    parsed = []
    if ports:
        for item in ports.split(","):
            try:
                parsed.append(_parse_uint(item.strip(), 16))
            except ValueError as err:
                raise ValueError(f"failed parsing port '{item}': {err}") from None
    return parsed


def _port_list(parameter: str):
    def check(value: str):
        try:
            parse_ports(value)
        except ValueError as err:
            raise ValueError(f"{parameter} invalid: {err}") from None
    return check


def _cidr_list(parameter: str, allow_star: bool):
    def check(value: str):
        if allow_star and value == "*":
            return
        if not value:
            return
        for cidr in value.split(","):
            import ipaddress  # lazy: only this check needs it (start-up time)
            try:
                if "/" not in cidr:
                    raise ValueError("no '/'")
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as err:
                raise ValueError(f"{parameter} invalid: failed parsing cidr '{cidr}': {err}") from None
    return check


def _star_or(check):
    def wrapped(value: str):
        if value != "*":
            check(value)
    return wrapped


def _interception_mode(value: str):
    if value not in ("REDIRECT", "TPROXY", "NONE"):
        raise ValueError(f"interceptionMode invalid, use REDIRECT,TPROXY,NONE: {value}")


def _status_port(value: str):
    try:
        _parse_uint(value.strip(), 16)
    except ValueError as err:
        raise ValueError(f"excludeInboundPorts invalid: {err}") from None


def _uint32(value: str):
    _parse_uint(value, 32)


def _bool(value: str):
    if value not in ("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"):
        raise ValueError(f'strconv.ParseBool: parsing "{value}": invalid syntax')


def _histogram_buckets(value: str):
    try:
        buckets = json.loads(value)
    except ValueError as err:
        raise ValueError(f"statsHistogramBuckets invalid: {err}") from None
    if not isinstance(buckets, dict) or not all(
            isinstance(v, list) and all(isinstance(x, (int, float)) and x >= 0 for x in v)
            for v in buckets.values()):
        raise ValueError("statsHistogramBuckets invalid: want a map of prefix to non-negative numbers")


def _proxy_config(value: str):
    problem = validate_proxy_config_annotation(value)
    if problem:
        raise ValueError(problem)


def _resource_quantity(value: str):
    # Istio's validateResourceQuantity: Go's unicode.IsControl (C0, DEL and C1), then
    # resource.ParseQuantity (whose QuantityError is a ValueError)
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in value):
        raise ValueError("value contains control characters")
    parse_quantity(value)


VALIDATORS = {
    "proxy.istio.io/config": _proxy_config,
    "sidecar.istio.io/interceptionMode": _interception_mode,
    "status.sidecar.istio.io/port": _status_port,
    "readiness.status.sidecar.istio.io/initialDelaySeconds": _uint32,
    "readiness.status.sidecar.istio.io/periodSeconds": _uint32,
    "readiness.status.sidecar.istio.io/failureThreshold": _uint32,
    "traffic.sidecar.istio.io/includeOutboundIPRanges": _cidr_list("includeIPRanges", allow_star=True),
    "traffic.sidecar.istio.io/excludeOutboundIPRanges": _cidr_list("excludeIPRanges", allow_star=False),
    "traffic.sidecar.istio.io/includeInboundPorts": _star_or(_port_list("includeInboundPorts")),
    "traffic.sidecar.istio.io/excludeInboundPorts": _port_list("excludeInboundPorts"),
    "traffic.sidecar.istio.io/excludeOutboundPorts": _port_list("excludeOutboundPorts"),
    "prometheus.istio.io/merge-metrics": _bool,
    "sidecar.istio.io/statsHistogramBuckets": _histogram_buckets,
    # Istio 1.30 checks the proxy's resource annotations here; without the check a bad value
    # failed later, in the typed round trip of the rendered template
    "sidecar.istio.io/proxyCPU": _resource_quantity,
    "sidecar.istio.io/proxyMemory": _resource_quantity,
    "sidecar.istio.io/proxyCPULimit": _resource_quantity,
    "sidecar.istio.io/proxyMemoryLimit": _resource_quantity,
}


def validate_annotations(annotations: dict) -> None:
    problems = []
    for name in sorted(annotations):
        check = VALIDATORS.get(name)
        if check is None:
            continue
        value = annotations[name]
        try:
            check(value)
        except ValueError as err:
            problems.append(f"invalid value '{value}' for annotation '{name}': {err}")
    if problems:
        raise InjectError("failed to run injection template: " + "; ".join(problems))
