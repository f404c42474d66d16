"""Render the injection templates for one Pod (Istio's SidecarTemplateData and RunTemplate)."""
from __future__ import annotations

from .errors import InjectError
from .gostd.values import NoSuchField
from .gotemplate import TemplateError
from .gotypes.views import view

OBJECT_META = "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta"
TYPE_META = "k8s.io/apimachinery/pkg/apis/meta/v1.TypeMeta"
POD_SPEC = "k8s.io/api/core/v1.PodSpec"

DEFAULT_PROXY_UID = 1337
KNOWN_IMAGE_TYPES = ("distroless", "debug")
IMAGE_TYPE_ANNOTATION = "sidecar.istio.io/proxyImageType"


class GoRecord:
    """A small Go struct for the template: fixed field names, no methods."""

    def __init__(self, type_name: str, fields: dict):
        self._type_name = type_name
        self._fields = fields

    def __go_field__(self, name):
        try:
            return self._fields[name]
        except KeyError:
            raise NoSuchField(name) from None

    def __go_method__(self, name):
        return None

    def __go_str__(self):
        return "{" + " ".join(str(v) for v in self._fields.values()) + "}"


def _go_value_string(value) -> str:
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def proxy_image(values, image_type: str | None, annotations: dict) -> str:
    """hub/image:tag with the image type suffix (-distroless, -debug) applied as Istio does.

    The image type: the Pod's sidecar.istio.io/proxyImageType annotation, else ProxyConfig's
    image.imageType (`image_type`; None when ProxyConfig has no image), else global.variant."""
    hub = values.get("global", "hub", default="")
    tag = values.get("global", "tag", default=None)
    tag = "" if tag is None else _go_value_string(tag)
    name = values.get("global", "proxy", "image", default="") or "proxyv2"
    if image_type is None:
        image_type = _go_value_string(values.get("global", "variant", default=None) or "")
    image_type = annotations.get(IMAGE_TYPE_ANNOTATION, image_type)
    if image_type:
        for known in KNOWN_IMAGE_TYPES:
            if tag.endswith("-" + known):
                tag = tag[: -len(known) - 1]
                break
        if image_type != "default":
            tag = f"{tag}-{image_type}"
    return f"{hub}/{name}:{tag}"


def template_data(*, type_meta: dict, deploy_meta: dict, pod: dict, proxy_config, mesh_config,
                  values, revision: str, image: str, inbound_mode: str, compliance_policy: str,
                  native_sidecars: bool):
    return GoRecord("SidecarTemplateData", {
        "TypeMeta": view(type_meta, TYPE_META),
        "DeploymentMeta": GoRecord("NamespacedName", {"Name": deploy_meta.get("name", ""),
                                                      "Namespace": deploy_meta.get("namespace", "")}),
        "ObjectMeta": view(pod.get("metadata") or {}, OBJECT_META),
        "Spec": view(pod.get("spec") or {}, POD_SPEC),
        "ProxyConfig": proxy_config.template_view(),
        "MeshConfig": mesh_config.template_view(),
        "Values": values.as_map,
        "Revision": revision,
        "ProxyImage": image,
        "ProxyUID": DEFAULT_PROXY_UID,
        "ProxyGID": DEFAULT_PROXY_UID,
        "InboundTrafficPolicyMode": inbound_mode,
        "CompliancePolicy": compliance_policy,
        "NativeSidecars": native_sidecars,  # read by the templates of Istio 1.24 and later
    })


def render(template, data) -> str:
    try:
        return template.execute(data)
    except TemplateError as err:
        raise InjectError(f"failed to run injection template: {err}") from None
