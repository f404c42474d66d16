"""The MeshConfig and ProxyConfig messages (istio.io/api mesh/v1alpha1) as injection sees
them: stored protojson-shaped dicts (see gotypes.protojson) with Go's getters, Go field access
for the templates (gotypes views), and inject's protoToJSON text."""
from __future__ import annotations

import copy

from ..gostd.time import format_duration
from ..gotypes import views
from ..gotypes.protojson import ProtoJSONError, duration_nanos, marshal
from .defaults import MESH_TYPE, PROXY_TYPE, VersionProfile, clean_proxy_config, profile_for


class _StoredMessage:
    """A protobuf message stored as a protojson-shaped dict, for the templates and the pipeline."""

    go_type = ""

    def __init__(self, data: dict, profile: VersionProfile | None = None):
        self.data = data
        self.profile = profile or profile_for(None)

    def to_dict(self) -> dict:
        return copy.deepcopy(self.data)

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    def __proto_json__(self) -> str:
        return marshal(self.go_type.lstrip("*"), self.data)

    def template_view(self):
        """Go field/method access (gotypes views); protoToJSON prints __proto_json__."""
        return views.view(self.data, self.go_type, proto_json=self.__proto_json__)


class ProxyConfig(_StoredMessage):
    """A ProxyConfig with the accessors injection needs."""

    go_type = "*" + PROXY_TYPE

    def __proto_json__(self) -> str:
        """protoToJSON .ProxyConfig: cleanProxyConfig, then jsonpb."""
        return marshal(PROXY_TYPE, clean_proxy_config(self.data, self.profile))

    # Getters as Go's generated ones (zero values when unset).
    def interception_mode(self) -> str:
        return self.data.get("interceptionMode", "REDIRECT")

    def hold_application_until_proxy_starts(self) -> bool:
        return bool(self.data.get("holdApplicationUntilProxyStarts", False))

    def image_type(self) -> str | None:
        """ProxyConfig.image.imageType; None when there is no `image` (Go: a nil *ProxyImage,
        which lets global.variant choose the image type)."""
        image = self.data.get("image")
        return None if image is None else (image or {}).get("imageType", "")

    def proxy_metadata(self) -> dict:
        return dict(self.data.get("proxyMetadata") or {})

    def status_port(self) -> int:
        return self.data.get("statusPort", 0)

    def concurrency(self) -> int | None:
        return self.data.get("concurrency")

    def drain_duration(self) -> str:
        """formatDuration .ProxyConfig.DrainDuration (time.Duration.String)."""
        return format_duration(duration_nanos(self.data.get("drainDuration")) or 0)

    def __repr__(self) -> str:
        return f"ProxyConfig({self.data!r})"


class MeshConfig(_StoredMessage):
    """A MeshConfig after Istio's defaults and the mesh file were applied."""

    go_type = "*" + MESH_TYPE

    def default_config(self) -> ProxyConfig:
        return ProxyConfig(self.data.get("defaultConfig") or {}, self.profile)

    # Getters injection uses.
    def trust_domain(self) -> str:
        return self.data.get("trustDomain", "")

    def status_port(self) -> int:
        return (self.data.get("defaultConfig") or {}).get("statusPort", 0)

    def prometheus_merge(self) -> bool | None:
        """GetEnablePrometheusMerge(): None when unset (Istio then defaults to on)."""
        return self.data.get("enablePrometheusMerge")

    def inbound_traffic_policy_mode(self) -> str:
        """SidecarTemplateData.InboundTrafficPolicyMode: the mode's name, lower-cased."""
        return (self.data.get("inboundTrafficPolicy") or {}).get("mode", "PASSTHROUGH").lower()

    def proxy_listen_port(self) -> int:
        return self.data.get("proxyListenPort", 0)

    def proxy_inbound_listen_port(self) -> int:
        return self.data.get("proxyInboundListenPort", 0)

    def __repr__(self) -> str:
        return f"MeshConfig({self.data!r})"


def proto_json(msg) -> str:
    """protoToJSON's text for a MeshConfig or ProxyConfig (ProxyConfig is cleaned first)."""
    return msg.__proto_json__()


def proto_json_for(value: dict | None, go_type: str, version: str | None = None) -> str:
    """protoToJSON for a stored dict of the given Go type (e.g. from a template view)."""
    if value is None:
        return "{}"
    base = go_type.lstrip("*")
    try:
        if base == PROXY_TYPE:
            return marshal(PROXY_TYPE, clean_proxy_config(value, profile_for(version)))
        return marshal(base, value)
    except ProtoJSONError:
        return "{}"  # protoToJSON logs the marshal error and prints {}
