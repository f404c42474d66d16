"""Istio's pkg/util/protomarshal for the mesh messages: ApplyYAML and ApplyJSON.

ApplyYAML converts with sigs.k8s.io/yaml's YAMLToJSON (go-yaml v2, YAML 1.1 scalars, first
document only), then ApplyJSON unmarshals with the legacy jsonpb Unmarshaler *into the
existing message*; it retries with AllowUnknownFields, so unknown names are dropped rather
than refused (gotypes.protojson.unmarshal_into). Errors are GoError with Go's text.
"""
from __future__ import annotations

from .. import goyaml
from ..gotypes.protojson import ProtoJSONError, unmarshal_into
from .errors import GoError


# What goyaml's errors start with: sigs.k8s.io/yaml.Unmarshal's wrapper. YAMLToJSON, which
# ApplyYAML calls, returns the error bare ("yaml: line 1: ..."; sigs.k8s.io/yaml v1.4.0 and
# v1.6.0, the versions of Istio 1.22 and 1.30: istioctl 1.30.4 prints "could not parse proxy
# config: yaml: line 1: did not find expected ',' or ']'").
_UNMARSHAL_PREFIX = "error converting YAML to JSON: "


def yaml_to_json(text: str):
    """sigs.k8s.io/yaml YAMLToJSON, read back as JSON values; GoError with its bare error."""
    try:
        return goyaml.load(text)
    except goyaml.YAMLError as err:
        message = str(err)
        if message.startswith(_UNMARSHAL_PREFIX):
            message = message[len(_UNMARSHAL_PREFIX):]
        raise GoError(message) from None


def apply_json(type_name: str, msg: dict, value) -> None:
    """ApplyJSON of an already decoded JSON value into msg, in place."""
    try:
        unmarshal_into(type_name, msg, value)
    except ProtoJSONError as err:
        raise GoError(str(err)) from None


def apply_yaml(type_name: str, msg: dict, text: str) -> None:
    """ApplyYAML(text, msg), in place."""
    apply_json(type_name, msg, yaml_to_json(text))
