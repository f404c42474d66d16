"""Istio MeshConfig / ProxyConfig semantics, as istioctl kube-inject (Istio 1.22.0) applies them.

- :mod:`.model`: the MeshConfig and ProxyConfig messages and their getters (stored as
  protojson-shaped dicts, see gotypes.protojson), protoToJSON's text.
- :mod:`.defaults`: Istio's DefaultMeshConfig / DefaultProxyConfig per release, and
  cleanProxyConfig.
- :mod:`.loading`: the mesh file applied to the defaults (mesh.ApplyMeshConfigDefaults), the
  Pod's proxy.istio.io/config annotation applied to the mesh (mesh.ApplyProxyConfig).
- :mod:`.validation`: pkg/config/validation/agent's mesh and proxy config validation, and
  inject's validateProxyConfig for the annotation.
- :mod:`.protomarshal`: pkg/util/protomarshal ApplyYAML / ApplyJSON.
- :mod:`.errors`: MeshConfigError and go-multierror's error lists.
"""
from .errors import MeshConfigError
from .loading import load_mesh_config, mesh_for_pod
from .model import MeshConfig, ProxyConfig, proto_json, proto_json_for
from .validation import validate_proxy_config_annotation

__all__ = [
    "MeshConfigError", "load_mesh_config", "mesh_for_pod", "MeshConfig", "ProxyConfig",
    "proto_json", "proto_json_for", "validate_proxy_config_annotation",
]
