"""Building the MeshConfig injection uses, as Istio's pkg/config/mesh (mesh.go) does:
ApplyMeshConfigDefaults for the mesh file, then ApplyProxyConfig for a Pod's
proxy.istio.io/config annotation.

The mesh file replaces top-level fields, but defaultConfig is merged field by field into the
defaults (proxyMetadata key by key), defaultProviders likewise, extensionProviders by name,
trustDomainAliases as a sorted union; then agent.ValidateMeshConfig. Each merge step is
protomarshal.ApplyJSON: a field present replaces that field wholesale (no deep merge), null
leaves it alone.
"""
from __future__ import annotations

import copy

from ..gotypes import schema as gotypes_schema
from .defaults import MESH_TYPE, PKG, PROXY_TYPE, VersionProfile, profile_for
from .errors import GoError, MeshConfigError
from .model import MeshConfig
from .protomarshal import apply_json, yaml_to_json
from .validation import validate_mesh_config

PROXY_CONFIG_ANNOTATION = "proxy.istio.io/config"


def load_mesh_config(text: str | None, version: str | None = None) -> MeshConfig:
    """Istio's defaults with the mesh file applied (None: the defaults alone), read with the
    mesh types of the release's istio.io/api (the Kubernetes types in force are kept)."""
    profile = profile_for(version)
    try:
        with gotypes_schema.using(gotypes_schema.with_istio_api(profile.istio_api)):
            data = _apply_mesh_config(text if text is not None else "", profile)
    except GoError as err:
        raise MeshConfigError(str(err)) from None
    return MeshConfig(data, profile)


def mesh_for_pod(mesh: MeshConfig, annotations: dict) -> MeshConfig:
    """The MeshConfig a Pod is injected with: mesh.ApplyProxyConfig of its
    proxy.istio.io/config annotation when it has one (istioctl has no ProxyConfig
    resources), else the mesh itself; the given mesh is left untouched."""
    if PROXY_CONFIG_ANNOTATION not in annotations:
        return mesh
    data = copy.deepcopy(mesh.data)
    try:
        parsed = yaml_to_json(annotations[PROXY_CONFIG_ANNOTATION])
        with gotypes_schema.using(gotypes_schema.with_istio_api(mesh.profile.istio_api)):
            data["defaultConfig"] = _apply_proxy_config(parsed, data.setdefault("defaultConfig", {}),
                                                        mesh.profile)
    except GoError as err:
        message = str(err)
        if not message.startswith("could not parse proxy config: "):
            message = f"could not parse proxy config: {message}"
        raise MeshConfigError(message) from None
    return MeshConfig(data, mesh.profile)


def _store(msg: dict, key: str, value) -> None:
    """msg.key = value in Go: None (nil) leaves the field unset."""
    if value is None:
        msg.pop(key, None)
    else:
        msg[key] = value


def _yaml_field(raw, key: str):
    """extractYamlField: the field's value re-marshalled to YAML, None when absent/null."""
    if not isinstance(raw, dict) or raw.get(key) is None:
        return None
    return raw[key]


def _apply_proxy_config(value, proxy_config: dict, profile: VersionProfile) -> dict:
    """mesh.applyProxyConfig: field-wise merge, proxyMetadata merged key by key."""
    orig_metadata = proxy_config.get("proxyMetadata")
    orig_headers = proxy_config.get("proxyHeaders")
    try:
        apply_json(PROXY_TYPE, proxy_config, value)
    except GoError as err:
        raise GoError(f"could not parse proxy config: {err}") from None
    new_metadata = proxy_config.get("proxyMetadata")
    if orig_metadata is not None or new_metadata is not None:
        merged = dict(orig_metadata or {})
        merged.update(new_metadata or {})
        _store(proxy_config, "proxyMetadata", merged or None)  # an empty map is unset in Go
    if profile.merge_proxy_headers and orig_headers is not None and "proxyHeaders" in proxy_config:
        # correctProxyHeaders: these five, when empty (nil; the enum's zero), keep the mesh's
        headers = proxy_config["proxyHeaders"]
        for name in _CORRECTED_PROXY_HEADERS:
            if headers.get(name) in (None, "UNDEFINED", 0) and name in orig_headers:
                headers[name] = orig_headers[name]
    return proxy_config


_CORRECTED_PROXY_HEADERS = ("forwardedClientCert", "requestId", "attemptCount", "server",
                            "envoyDebugHeaders")


def _apply_mesh_config(text: str, profile: VersionProfile) -> dict:
    """mesh.ApplyMeshConfigDefaults(text) as a stored MeshConfig dict, or GoError."""
    mesh = profile.default_mesh_config(profile.default_proxy_config())
    prev_proxy = mesh.get("defaultConfig")
    prev_providers = mesh.get("defaultProviders")
    prev_extension = mesh.get("extensionProviders", [])
    prev_aliases = mesh.get("trustDomainAliases", [])

    mesh["defaultConfig"] = profile.default_proxy_config()
    try:
        raw = yaml_to_json(text)
        apply_json(MESH_TYPE, mesh, raw)
    except GoError as err:
        raise GoError(f"failed to convert to proto. {err}") from None
    _store(mesh, "defaultConfig", prev_proxy)

    proxy_value = _yaml_field(raw, "defaultConfig")
    if proxy_value is not None:
        mesh["defaultConfig"] = _apply_proxy_config(proxy_value, mesh.setdefault("defaultConfig", {}), profile)

    _store(mesh, "defaultProviders", prev_providers)
    providers_value = _yaml_field(raw, "defaultProviders")
    if providers_value is not None:
        try:
            apply_json(PKG + "MeshConfig_DefaultProviders", mesh.setdefault("defaultProviders", {}), providers_value)
        except GoError as err:
            raise GoError(f"could not parse default providers: {err}") from None

    merged_extension = _merge_extension_providers(prev_extension, mesh.get("extensionProviders", []))
    _store(mesh, "extensionProviders", merged_extension or None)
    aliases = sorted(set(mesh.get("trustDomainAliases", [])) | set(prev_aliases))
    _store(mesh, "trustDomainAliases", aliases or None)

    err = validate_mesh_config(mesh)
    if err is not None:
        raise GoError(str(err))
    return mesh


def _merge_extension_providers(previous: list, new: list) -> list:
    """The defaults' extension providers, each replaced by the mesh file's of the same name;
    the file's other providers appended."""
    merged = [dict(p) for p in previous]
    for provider in new:
        for existing in merged:
            if existing.get("name", "") == provider.get("name", ""):
                # Only the provider (the oneof) is taken over; the name stays.
                for key in list(existing):
                    if key != "name":
                        del existing[key]
                existing.update({k: v for k, v in provider.items() if k != "name"})
                break
        else:
            merged.append(provider)
    return merged
