"""Istio's mesh defaults, per release: pkg/config/mesh DefaultProxyConfig and
DefaultMeshConfig, and inject's cleanProxyConfig, which drops the ProxyConfig fields equal to
those defaults before printing PROXY_CONFIG.

Differences between Istio releases live in VersionProfile, so a later release's defaults and
quirks can be added beside 1.22's.
"""
from __future__ import annotations

import copy
from collections import namedtuple

PKG = "istio.io/api/mesh/v1alpha1."
MESH_TYPE = PKG + "MeshConfig"
PROXY_TYPE = PKG + "ProxyConfig"


class VersionProfile(namedtuple("VersionProfile", "version default_proxy_config default_mesh_config "
                                                  "clean_fields merge_proxy_headers istio_api",
                                 defaults=(False, "v1.22"))):
    """What differs between Istio releases: defaults, cleanProxyConfig, merge quirks.

    default_proxy_config() -> dict and default_mesh_config(proxy_config) -> dict build the
    defaults; clean_fields: the ProxyConfig fields cleanProxyConfig drops when equal to the
    default; merge_proxy_headers: newer releases keep unset proxyHeaders sub-fields from the mesh
    (correctProxyHeaders); istio_api: the istio.io/api line whose mesh types the release reads
    (gotypes.schema.MESH_SCHEMA_FILES: a field that line does not have is dropped, as
    protomarshal's AllowUnknownFields retry drops it). (A named tuple, not a dataclass: start-up
    time.)"""

    __slots__ = ()


def _default_proxy_config_1_22() -> dict:
    # pkg/config/mesh DefaultProxyConfig, Istio 1.22: no Concurrency default (1.18 dropped
    # it, concurrency follows the CPU limit), no ParentShutdownDuration (removed in 1.17), no
    # tracer (the default Zipkin one went in 1.22, istio/istio#49615; checked against istioctl
    # 1.30.4, where a mesh that names that same Zipkin tracer keeps it in PROXY_CONFIG).
    return {
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


def _default_mesh_config_1_22(proxy_config: dict) -> dict:
    # pkg/config/mesh DefaultMeshConfig, Istio 1.22 (zero values such as accessLogFile ""
    # are left out: they are unset in Go terms too).
    return {
        "enableTracing": True,
        "accessLogEncoding": "TEXT",
        "protocolDetectionTimeout": "0s",
        "ingressService": "istio-ingressgateway",
        "ingressControllerMode": "STRICT",
        "ingressClass": "istio",
        "trustDomain": "cluster.local",
        "enableAutoMtls": True,
        "outboundTrafficPolicy": {"mode": "ALLOW_ANY"},
        "inboundTrafficPolicy": {},  # mode PASSTHROUGH is the zero value
        "localityLbSetting": {"enabled": True},
        "defaultConfig": proxy_config,
        "rootNamespace": "istio-system",
        "proxyListenPort": 15001,
        "proxyInboundListenPort": 15006,
        "connectTimeout": "10s",
        "defaultServiceExportTo": ["*"],
        "defaultVirtualServiceExportTo": ["*"],
        "defaultDestinationRuleExportTo": ["*"],
        "dnsRefreshRate": "60s",
        "enablePrometheusMerge": True,
        "defaultProviders": {},
        "extensionProviders": [
            {"name": "prometheus", "prometheus": {}},
            {"name": "stackdriver", "stackdriver": {}},
            {"name": "envoy", "envoyFileAccessLog": {"path": "/dev/stdout"}},
        ],
    }


_PROFILE_1_22 = VersionProfile(
    version="1.22",
    default_proxy_config=_default_proxy_config_1_22,
    default_mesh_config=_default_mesh_config_1_22,
    clean_fields=("configPath", "binaryPath", "controlPlaneAuthPolicy", "serviceCluster",
                  "drainDuration", "terminationDrainDuration", "discoveryAddress",
                  "envoyMetricsService", "envoyAccessLogService", "tracing", "proxyAdminPort",
                  "statNameLength", "statusPort", "concurrency", "proxyMetadata"),
)
PROFILES = {
    "1.22": _PROFILE_1_22,
    # Istio 1.30 (release-1.30's pkg/config/mesh/mesh.go): DefaultProxyConfig and
    # DefaultMeshConfig as 1.22's; MergeProxyConfig's correctProxyHeaders; the mesh messages of
    # istio.io/api v1.30 (its go.mod), among them ExtensionProvider.OpenTelemetry's
    # serviceAttributeEnrichment, which the 1.30 sidecar template reads (otelResourceAttributes).
    "1.30": _PROFILE_1_22._replace(version="1.30", istio_api="v1.30", merge_proxy_headers=True),
}
DEFAULT_PROFILE = "1.22"


def profile_for(version: str | None) -> VersionProfile:
    """The profile of an Istio release ("1.22", "1.22.0"); None: the lab's release."""
    key = version or DEFAULT_PROFILE
    key = ".".join(key.split(".")[:2])
    if key not in PROFILES:
        raise ValueError(f"no mesh config profile for Istio {version}; have {', '.join(PROFILES)}")
    return PROFILES[key]


def clean_proxy_config(proxy_config: dict, profile: VersionProfile) -> dict:
    """inject.cleanProxyConfig: drop fields that equal DefaultProxyConfig's."""
    pc = copy.deepcopy(proxy_config)
    defaults = profile.default_proxy_config()
    for key in profile.clean_fields:
        if key == "proxyMetadata":
            if not pc.get(key):
                pc.pop(key, None)
        elif pc.get(key) == defaults.get(key):
            # (for the serviceCluster oneof: only when it is that member, with the default's value)
            pc.pop(key, None)
    return pc
