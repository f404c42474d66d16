"""Merging rendered templates onto the user's Pod, as Istio does.

Every merge is a Kubernetes strategic merge patch against the corev1.Pod type followed by
Go's typed round trip, so containers merge by name, ports by containerPort, volumes by name,
and the result holds only what a corev1.Pod can hold.
"""
from __future__ import annotations

import copy
import json

from . import goyaml
from .constants import INIT_CONTAINER, PROXY_CONTAINER, STATUS_ANNOTATION, VALIDATION_CONTAINER
from .errors import InjectError
from .gostd import json as gojson
from .gotypes.strategicpatch import PatchError, strategic_merge_patch
from .gotypes.typed import TypeError as GoTypeError
from .gotypes.typed import go_ordered, normalize

POD = "k8s.io/api/core/v1.Pod"
CONTAINER = "k8s.io/api/core/v1.Container"
OVERRIDES_ANNOTATION = "proxy.istio.io/overrides"
# A user-defined istio-proxy container may say image "auto": keep the injected image.
AUTO_IMAGE = "auto"


def typed_pod(pod: dict) -> dict:
    return normalize(pod, POD)


_EMPTY_POD = None


def empty_pod() -> dict:
    """json.Marshal(corev1.Pod{}): the start of the template-only Pod."""
    global _EMPTY_POD
    if _EMPTY_POD is None:
        _EMPTY_POD = typed_pod({})
    return copy.deepcopy(_EMPTY_POD)


# What istioctl 1.30.4 puts in front of applyOverlayYAML's error, by the step that failed
# (RunTemplate applies the template Pod first, then the merged one; injectPod adds the first part).
OVERLAY_TEMPLATE = "failed to run injection template: failed applying injection overlay"
OVERLAY_MERGED = ("failed to run injection template: failed parsing generated injected YAML (check Istio sidecar "
                  "injector configuration)")


def apply_overlay(target: dict, patch: dict, step: str = OVERLAY_TEMPLATE) -> dict:
    """Istio's applyOverlayYAML: the strategic merge of the rendered template (decoded without
    types, as yaml.Unmarshal into a map decodes it) onto target, then json.Unmarshal of the result
    into a Pod: plain encoding/json, so a number where the Pod has a string (a userVolume whose
    name is a number) is refused, as istioctl refuses it."""
    try:
        merged = strategic_merge_patch(target, patch, POD)
    except PatchError as err:
        raise InjectError(f"strategic merge: {err}") from None
    try:
        return normalize(merged, POD, from_json=True)
    except GoTypeError as err:  # a rendered value the Pod's Go types refuse (istioctl's words)
        raise InjectError(f"{step}: unmarshal patched pod: {err}") from None


def load_overlay(overlay_text: str, template_name: str) -> dict:
    """The partial Pod a rendered template describes (parsed once, applied twice)."""
    try:
        patch = goyaml.load(overlay_text)
    except goyaml.YAMLError as err:
        raise InjectError(f"failed parsing generated injected YAML of template {template_name!r} "
                          f"(check Istio sidecar injector configuration): {err}") from None
    if patch is None:
        return {}
    if not isinstance(patch, dict):
        raise InjectError(f"failed parsing generated injected YAML of template {template_name!r}: "
                          "not a map (check Istio sidecar injector configuration)")
    return patch


def find_container(name: str, containers) -> dict | None:
    for container in containers or []:
        if container.get("name") == name:
            return container
    return None


def find_in_pod(name: str, pod: dict) -> dict | None:
    spec = pod.get("spec") or {}
    return find_container(name, spec.get("containers")) or find_container(name, spec.get("initContainers"))


def parse_status(status: str) -> dict:
    """Container names recorded in a previous injection's status annotation."""
    try:
        parsed = json.loads(status)
    except ValueError:
        return {"containers": [], "initContainers": []}
    if not isinstance(parsed, dict):
        return {"containers": [], "initContainers": []}
    return {key: [{"name": name} for name in parsed.get(key) or []]
            for key in ("containers", "initContainers")}


def _overrides_from(pod: dict) -> dict:
    text = (pod.get("metadata", {}).get("annotations") or {}).get(OVERRIDES_ANNOTATION)
    if text is None:
        return {"containers": [], "initContainers": []}
    try:
        parsed = json.loads(text)
    except ValueError as err:
        raise InjectError(f"invalid {OVERRIDES_ANNOTATION} annotation: {err}") from None
    # encoding/json into Istio's podOverrides struct: null is no overrides, another shape its
    # error (this used to be an AttributeError, an "internal error")
    if parsed is None:
        parsed = {}
    if not isinstance(parsed, dict):
        raise InjectError(f"invalid {OVERRIDES_ANNOTATION} annotation: json: cannot unmarshal "
                          f"{_json_kind(parsed)} into Go value of type inject.podOverrides")
    found = {}
    for key in ("containers", "initContainers"):
        items = parsed.get(key)
        if items is not None and not isinstance(items, list):
            raise InjectError(f"invalid {OVERRIDES_ANNOTATION} annotation: json: cannot unmarshal "
                              f"{_json_kind(items)} into Go struct field podOverrides.{key} of type []v1.Container")
        for item in items or []:
            if item is not None and not isinstance(item, dict):
                raise InjectError(f"invalid {OVERRIDES_ANNOTATION} annotation: json: cannot unmarshal "
                                  f"{_json_kind(item)} into Go struct field podOverrides.{key} of type v1.Container")
        found[key] = [normalize(c or {}, CONTAINER) for c in items or []]
    return found


def _json_kind(value) -> str:
    """encoding/json's name for a decoded value's kind."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "value")


def reinsert_overrides(pod: dict) -> dict:
    """Put back containers saved in the overrides annotation by an earlier injection, so a
    re-injection sees the same Pod the first one saw."""
    overrides = _overrides_from(pod)
    pod = copy.deepcopy(pod)
    spec = pod.setdefault("spec", {})
    for key in ("containers", "initContainers"):
        for container in overrides[key]:
            if find_container(container["name"], spec.get(key)) is None:
                spec[key] = (spec.get(key) or []) + [container]
    return pod


def reapply_user_containers(final_pod: dict, original_pod: dict, template_pod: dict,
                            interception_mode: str, adjust_init_user: bool = True) -> dict:
    """A container the user defined with the same name as an injected one (typically their own
    `istio-proxy`) wins over the template: merge it back on top (Istio's
    reapplyOverwrittenContainers), and remember it in the overrides annotation. With
    `adjust_init_user` (the releases that have it), the init container follows that istio-proxy's
    user."""
    annotations = original_pod.get("metadata", {}).get("annotations") or {}
    already_injected = STATUS_ANNOTATION in annotations
    injected = parse_status(annotations[STATUS_ANNOTATION]) if already_injected else \
        {"containers": [], "initContainers": []}
    existing = _overrides_from(original_pod)
    saved = {"containers": [], "initContainers": []}
    template_spec = template_pod.get("spec") or {}

    for key in ("containers", "initContainers"):
        for container in template_spec.get(key) or []:
            name = container.get("name")
            if find_container(name, injected[key]):
                continue  # re-injection: the fresh template wins
            match = find_container(name, existing[key])
            if match is None:
                if key == "containers":
                    match = find_container(name, (original_pod.get("spec") or {}).get("containers"))
                else:
                    match = find_in_pod(name, original_pod)
            if match is None:
                continue
            overlay = normalize(copy.deepcopy(match), CONTAINER)
            if overlay.get("image") == AUTO_IMAGE:
                overlay.pop("image")
            saved[key].append(overlay)
            patch_spec = {key: [overlay]}
            if key == "initContainers":
                # Go marshals an empty, non-nil slice so the patch does not wipe containers.
                patch_spec["containers"] = []
            final_pod = apply_overlay(final_pod, {"metadata": {"creationTimestamp": None},
                                                  "spec": patch_spec, "status": {}})

    if not already_injected and (saved["containers"] or saved["initContainers"]):
        record = {key: [go_ordered(c, CONTAINER) for c in saved[key]]
                  for key in ("containers", "initContainers") if saved[key]}
        final_pod["metadata"].setdefault("annotations", {})
        final_pod["metadata"]["annotations"] = dict(final_pod["metadata"]["annotations"] or {})
        final_pod["metadata"]["annotations"][OVERRIDES_ANNOTATION] = gojson.marshal(record, sort_keys=False)

    if adjust_init_user:
        _adjust_init_container_user(final_pod, original_pod, interception_mode)
    return final_pod


def _adjust_init_container_user(final_pod: dict, original_pod: dict, interception_mode: str) -> None:
    """When the user's istio-proxy sets runAsUser/runAsGroup, the iptables rules (`-u UID`)
    and the validation container must follow it (Istio's adjustInitContainerUser)."""
    user_proxy = find_in_pod(PROXY_CONTAINER, original_pod)
    if user_proxy is None:
        return
    security = user_proxy.get("securityContext") or {}
    run_as_user, run_as_group = security.get("runAsUser"), security.get("runAsGroup")
    if run_as_user is None and run_as_group is None:
        return
    init_containers = (final_pod.get("spec") or {}).get("initContainers") or []
    init = find_container(INIT_CONTAINER, init_containers) or find_container(VALIDATION_CONTAINER, init_containers)
    if init is None:
        return
    annotations = final_pod.get("metadata", {}).get("annotations") or {}
    tproxy = interception_mode == "TPROXY" or annotations.get("sidecar.istio.io/interceptionMode") == "TPROXY"
    if tproxy and run_as_user is not None:
        sidecar = find_in_pod(PROXY_CONTAINER, final_pod)
        if sidecar is not None:
            sidecar.setdefault("securityContext", {})["runAsUser"] = 0
    if not tproxy and init.get("name") == "istio-validation":
        context = init.setdefault("securityContext", {})
        if run_as_user is not None:
            context["runAsUser"] = run_as_user
        if run_as_group is not None:
            context["runAsGroup"] = run_as_group
    if not run_as_user:
        return
    args = init.get("args") or []
    for index, arg in enumerate(args):
        if arg == "-u" and index + 1 < len(args):
            args[index + 1] = str(run_as_user)
            return
