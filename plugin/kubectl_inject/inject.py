"""The injection pipeline: manifest text in, injected manifest text out.

Mirrors istioctl kube-inject: split the stream into documents; decode the kinds Istio knows
into their Go types (others pass through byte for byte); find each Pod template; decide
whether to inject; render the chosen templates; merge them onto the Pod; post-process; and
write every object back as sigs.k8s.io/yaml would, each followed by `---`.
"""
from __future__ import annotations

import copy
import os

from . import goyaml
from . import prometheus
from . import releases
from .choose_template import choose_templates
from .constants import NETWORK_LABEL, PROXY_CONTAINER, STATUS_ANNOTATION
from .errors import InjectError
from .gostd.json import naming_embedded_structs
from .gostd.strconv import quote
from .gotypes import schema as gotypes_schema
from .gotypes.typed import TypeError as GoTypeError
from .gotypes.typed import json_kind, normalize
from .load_config import InjectorConfig, ValuesConfig
from .merge import (OVERLAY_MERGED, apply_overlay, empty_pod, find_container, load_overlay,
                    reapply_user_containers, reinsert_overrides, typed_pod)
from .meshconfig import mesh_for_pod
from .policy import injection_required
from .postprocess import post_process
from .releases import ReleaseProfile, profile_for
from .render import OBJECT_META, proxy_image, render, template_data
from .validate_annotations import validate_annotations
from .workloads import INJECTABLE_KINDS, pod_template

NATIVE_SIDECAR_ANNOTATION = "sidecar.istio.io/nativeSidecar"


class Settings:
    """Everything one injection run needs besides the manifest."""

    def __init__(self, injector: InjectorConfig, values: ValuesConfig, mesh, revision: str = "",
                 env: dict | None = None, webhook_policy: bool = False,
                 release: ReleaseProfile | None = None, native_sidecars_setting: bool | None = None,
                 evidence=None):
        self.injector = injector
        self.values = values
        self.mesh = mesh  # meshconfig.MeshConfig
        self.revision = revision
        self.env = dict(os.environ) if env is None else env
        # istioctl kube-inject ignores the injector's policy and selectors (only the object's own
        # sidecar.istio.io/inject decides); the webhook applies them. False = istioctl behaviour.
        self.webhook_policy = webhook_policy
        # Which istioctl release to reproduce (releases.profile_for; default: the lab's 1.22).
        self.release = profile_for(None) if release is None else release
        # Native sidecars (istio-proxy as an init container with restartPolicy Always). None:
        # decide as istioctl does without a cluster, from ENABLE_NATIVE_SIDECARS; cluster mode
        # passes the control plane's decision (see cluster_config.native_sidecars).
        self.native_sidecars_setting = native_sidecars_setting
        # Where the release came from (releases.Evidence; None: not asked, as in the tests):
        # --explain names it.
        self.evidence = evidence

    @property
    def native_sidecars(self) -> bool:
        if self.native_sidecars_setting is not None:
            return self.native_sidecars_setting
        return self.env.get("ENABLE_NATIVE_SIDECARS", "false").lower() in ("1", "t", "true")


def inject_text(text: str, settings: Settings, warn=lambda message: None,
                notice=lambda message: None) -> str:
    """istioctl's IntoResourceFile: the whole output, or an InjectError (nothing partial).

    Runs with the Kubernetes Go types of the release's k8s.io/api in force: a field that release
    knows survives the typed round trip, one it does not know is dropped as its istioctl drops it,
    and `notice` gets one line naming it (istioctl says nothing: `warn` gets only what it says)."""
    out: list = []
    inject_stream(text, settings, out.append, warn, notice)
    return "".join(out)


def inject_stream(text: str, settings: Settings, write, warn=lambda message: None,
                  notice=lambda message: None) -> None:
    """inject_text, the output given to `write` piece by piece as each document is done.

    One document at a time is split off, decoded, injected and written, so what the run holds
    is the input and one document (plus what `write` keeps): time and memory grow linearly with
    the input. On an InjectError `write` has had the documents before the failing one; the
    caller decides what becomes of them (cli writes nothing: output.Spool holds them)."""
    release = settings.release
    with releases.using(release), naming_embedded_structs(release.json_errors_name_embedded_structs), \
            gotypes_schema.using(gotypes_schema.for_k8s_api(release.k8s_api, release.istio_api)):
        _inject_documents(text, settings, write, warn, notice)


# The largest document read (characters). The API server takes at most 3 MiB in one request,
# so a larger document could never be applied; the limit is ten times that, and it is checked
# for every document before any is parsed, so an oversized one is refused at once.
MAX_DOCUMENT_CHARS = 32 * 1024 * 1024


def _check_documents(text: str) -> int:
    """The reader's errors and the size limit, for the whole input before any document is
    parsed: a bad `---` line anywhere comes first, then the first oversized document. (A first
    pass over the splitter: each document is made and dropped, none is kept.) Returns the
    number of documents."""
    oversized = None
    number = 0
    try:
        for number, raw in enumerate(goyaml.iter_documents(text), 1):
            if oversized is None and len(raw) > MAX_DOCUMENT_CHARS:
                oversized = number, len(raw)
    except goyaml.YAMLError as err:  # a bad `---` line: the reader's error, as istioctl prints it
        raise InjectError(str(err)) from None
    if oversized is not None:
        number, size = oversized
        raise InjectError(f"document {number} of the input is larger than {MAX_DOCUMENT_CHARS // 2**20} MiB "
                          f"({size} characters), the most kubectl inject reads in one document "
                          "(the API server accepts 3 MiB); split it into several documents")
    return number


# From this many documents on, a run may inject on several cores (parallel.py; below it, and
# for a single Pod, that module is not even imported). Measured on the 2-core machine, whole runs
# of bench/bench_inject.py's Deployments, two processes against one (median of 15): 4 take 1.10x
# as long, 6 0.97x, 8 0.91x, 10 0.86x, 16 0.82x, 24 0.75x (the fork and the memory it copies
# cost ~12 ms of CPU).
PARALLEL_MIN_DOCUMENTS = 8


def _inject_documents(text: str, settings: Settings, write, warn, notice) -> None:
    count = _check_documents(text)
    documents = enumerate(goyaml.iter_documents(text), 1)

    def one(number: int, raw: str, write, warn, notice) -> None:
        _inject_document(number, raw, settings, write, warn, notice)

    if count >= PARALLEL_MIN_DOCUMENTS:
        # lazy: only long inputs may use several processes; a one-Pod run never loads the module
        from . import parallel
        jobs = parallel.jobs()
        if jobs > 1:
            parallel.run(documents, count, one, (write, warn, notice), jobs)
            return
    for number, raw in documents:
        one(number, raw, write, warn, notice)


def _inject_document(number: int, raw: str, settings: Settings, write, warn, notice) -> None:
    """One document of the stream, decoded, injected and written (the one per-document step of
    both the one-process loop and parallel.run's workers)."""
    dropped: list = []
    rest: list = []
    obj = decode(raw, dropped, rest)
    if rest:
        # istioctl reads only the first YAML document of a `---` chunk: what follows it (after
        # a `...` line or a flow collection) is copied unchecked or lost; say so, output as is
        fate = "copied to the output unchecked" if obj is None else "not in the output"
        notice(f"kubectl inject: warning: document {number} of the input: the text from its line "
               f"{rest[0]} on follows a complete YAML document; istioctl reads only the first, so it "
               f"is {fate} (start a new document with a `---` line)")
    if obj is None:
        write(raw)
    else:
        injected = inject_object(obj, settings, warn, dropped)
        for path in dict.fromkeys(dropped):
            notice(dropped_field_notice(obj, path, settings.release))
        del obj  # (the decoded input; `injected` is its copy)
        if _creation_timestamp_omits_zero():
            _drop_zero_creation_timestamps(injected)
        try:
            dumped = goyaml.dump(injected)
        except goyaml.YAMLError as err:
            # sigs.k8s.io/yaml.Marshal re-reads its JSON with go-yaml, which refuses some
            # characters (DEL, say) that JSON lets through: istioctl's error, as it words it
            raise InjectError(str(err)) from None
        del injected
        write(dumped)
    write("---\n")


def _creation_timestamp_omits_zero() -> bool:
    """Whether the types in force tag ObjectMeta.creationTimestamp `omitzero` (apimachinery
    0.34+, Istio 1.28+): then no `creationTimestamp: null` is printed, at any depth."""
    field = gotypes_schema.field_info(OBJECT_META, "creationTimestamp")
    return bool(field and field.omitzero)


def _drop_zero_creation_timestamps(node) -> None:
    if isinstance(node, dict):
        if "creationTimestamp" in node and node["creationTimestamp"] is None:
            del node["creationTimestamp"]
        for value in node.values():
            _drop_zero_creation_timestamps(value)
    elif isinstance(node, list):
        for value in node:
            _drop_zero_creation_timestamps(value)


def dropped_field_notice(obj: dict, path: str, release: ReleaseProfile) -> str:
    meta = obj.get("metadata") or {}
    name = f"{obj.get('kind', 'object')} {quote(meta.get('name') or '')}"
    return (f"kubectl inject: warning: {name}: field {path} is not in the output: istioctl "
            f"{release.name} drops it too (its Kubernetes types, k8s.io/api {release.k8s_api}, "
            "do not have it)")


def decode(raw: str, dropped: list | None = None, rest: list | None = None):
    """The typed object for a document of a kind Istio injects, or None to pass it through.
    Paths of the fields its Go type does not have go into `dropped`; the line where text after
    the chunk's first YAML document starts (never read, as in Go) goes into `rest`."""
    try:
        doc, rest_line = goyaml.load_document(raw)
    except goyaml.YAMLError as err:
        raise InjectError(str(err)) from None
    if rest_line and rest is not None:
        rest.append(rest_line)
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise InjectError(f"{_UNMARSHAL_ERROR}json: cannot unmarshal {json_kind(doc)} "
                          "into Go value of type v1.TypeMeta (the document is not a Kubernetes object)")
    type_ref = INJECTABLE_KINDS.get(_type_meta_kind(doc))
    if type_ref is None:
        return None
    return _typed(doc, type_ref, dropped)


# sigs.k8s.io/yaml.Unmarshal's words around a decoding error of encoding/json
_UNMARSHAL_ERROR = "error unmarshaling JSON: while decoding JSON: "


def _type_meta_kind(doc: dict) -> str:
    """The kind istioctl reads first, with sigs.k8s.io/yaml.Unmarshal into a TypeMeta: a number
    or bool bound for its string fields becomes a string (`kind: 5` is kind "5", passed through
    untouched as any unknown kind), null is no value; a list or a map is refused."""
    for key in ("apiVersion", "kind"):
        value = doc.get(key)
        if isinstance(value, (list, dict)):
            raise InjectError(f"{_UNMARSHAL_ERROR}json: cannot unmarshal {json_kind(value)} "
                              f"into Go struct field TypeMeta.{key} of type string")
    kind = doc.get("kind")
    return kind if isinstance(kind, str) else ""  # (no injectable kind is a number or a bool)


def _typed(doc, type_ref: str, dropped: list | None):
    try:
        return normalize(doc, type_ref, dropped)
    except GoTypeError as err:
        raise InjectError(_UNMARSHAL_ERROR + str(err)) from None


def inject_object(obj: dict, settings: Settings, warn, dropped: list | None = None) -> dict:
    """istioctl's IntoObject for one decoded object (Lists recurse into their items; the paths of
    their fields that the item's Go type does not have go into `dropped`)."""
    obj = copy.deepcopy(obj)
    if obj.get("kind") == "List":
        for index, item in enumerate(obj.get("items") or []):
            if item is None:
                continue  # JSON null decodes into TypeMeta as nothing at all
            if not isinstance(item, dict):
                # istioctl decodes each item's TypeMeta first: an item must be an object
                raise InjectError(f"{_UNMARSHAL_ERROR}json: cannot unmarshal {json_kind(item)} into Go value "
                                  "of type v1.TypeMeta")
            if _type_meta_kind(item) in INJECTABLE_KINDS:
                lost: list = []
                typed = _typed(item, INJECTABLE_KINDS[item["kind"]], lost)
                if dropped is not None:
                    dropped.extend(f"items.{path}" for path in lost)
                obj["items"][index] = inject_object(typed, settings, warn)
        return obj

    template = pod_template(obj)
    metadata, spec = template.metadata, template.spec
    owner = template.owner_meta
    name = metadata.get("name") or owner.get("name", "")
    namespace = metadata.get("namespace") or owner.get("namespace", "")
    full_name = f"{owner['namespace']}/{name}" if owner.get("namespace") else name
    kind = template.type_meta.get("kind", "")
    described = f"{kind} {quote(full_name)}" if kind else quote(full_name)

    if spec.get("hostNetwork"):
        warn(f"===> Skipping injection because {described} has host networking enabled\n")
        return obj

    # corev1.Pod{ObjectMeta, Spec} as Go marshals it; both parts are already typed.
    pod = {"metadata": copy.deepcopy(metadata), "spec": copy.deepcopy(spec), "status": {}}
    # istioctl applies proxy.istio.io/config before it decides whether to inject, so an invalid
    # annotation fails even on a Pod that is not injected
    mesh = mesh_for_pod(settings.mesh, pod["metadata"].get("annotations") or {})
    if not _required(pod, settings, namespace):
        warn(f"===> Skipping injection because {described} has sidecar injection disabled\n")
        return obj

    injected = inject_pod(pod, owner, template.type_meta, settings, mesh)
    template.replace(injected["metadata"], injected["spec"])
    return obj


def _required(pod: dict, settings: Settings, namespace: str) -> bool:
    meta = pod["metadata"]
    if settings.webhook_policy:
        # the webhook sees the Pod in the namespace it is created in
        meta = {**meta, "namespace": meta.get("namespace") or namespace}
        config = settings.injector
        return injection_required(pod["spec"], meta, config.policy or "enabled",
                                  config.never_inject_selector, config.always_inject_selector)
    # kube-inject checks the Pod template's own metadata: a Deployment's template has no
    # namespace, so a workload in kube-system is not an ignored namespace there
    return injection_required(pod["spec"], meta, "enabled")


def inject_pod(pod: dict, deploy_meta: dict, type_meta: dict, settings: Settings, mesh) -> dict:
    """Istio's injectPod: the fully injected Pod (metadata and spec), with the mesh config the
    Pod's proxy.istio.io/config annotation gives (meshconfig.mesh_for_pod)."""
    annotations = pod["metadata"].get("annotations") or {}
    proxy_config = mesh.default_config()

    validate_annotations(annotations)
    proxy_envs = _proxy_envs(pod, settings.values)
    stripped = reinsert_overrides(_strip_previous_injection(pod, mesh.status_port()))

    data = template_data(
        type_meta=type_meta, deploy_meta=deploy_meta, pod=stripped,
        proxy_config=proxy_config, mesh_config=mesh, values=settings.values,
        revision=settings.revision,
        image=proxy_image(settings.values, proxy_config.image_type(), stripped["metadata"].get("annotations") or {}),
        inbound_mode=mesh.inbound_traffic_policy_mode(),
        compliance_policy=settings.env.get("COMPLIANCE_POLICY", ""),
        native_sidecars=settings.native_sidecars,
    )
    # The per-Pod annotation wins over the global setting where the release knows it.
    native = settings.native_sidecars
    if settings.release.native_sidecar_annotation:
        native = {"true": True, "false": False}.get(annotations.get(NATIVE_SIDECAR_ANNOTATION, ""), native)
    defaults = settings.injector.default_templates if settings.webhook_policy else ["sidecar"]
    aliases = settings.injector.aliases if settings.webhook_policy else {}
    merged, template_pod = pod, empty_pod()
    for name in choose_templates(annotations, defaults, aliases):
        template = settings.injector.templates.get(name)
        if template is None:
            known = ", ".join(settings.injector.templates)
            # (Go's %q; the list is a Go map's keys, in random order there)
            raise InjectError(f"failed to run injection template: requested template {quote(name)} not found; have {known}")
        overlay = load_overlay(render(template, data), name)
        template_pod = apply_overlay(template_pod, overlay)
        if native and \
                find_container(PROXY_CONTAINER, template_pod["spec"].get("initContainers")) and \
                find_container(PROXY_CONTAINER, merged["spec"].get("containers")):
            # With native sidecars the proxy is an init container in the template, but a
            # user's customisation of it sits under containers: move it across first.
            merged = copy.deepcopy(merged)
            user_proxy = find_container(PROXY_CONTAINER, merged["spec"]["containers"])
            merged["spec"]["containers"] = [c for c in merged["spec"]["containers"] if c is not user_proxy]
            merged["spec"]["initContainers"] = (merged["spec"].get("initContainers") or []) + [user_proxy]
        merged = apply_overlay(merged, overlay, OVERLAY_MERGED)

    merged = reapply_user_containers(merged, pod, template_pod, proxy_config.interception_mode(),
                                     adjust_init_user=settings.release.adjusts_init_container_user)
    post_process(
        merged, template_pod, proxy_envs=proxy_envs, revision=settings.revision,
        injected_annotations=settings.injector.injected_annotations if settings.webhook_policy else {},
        status_port=mesh.status_port(), prometheus_merge=mesh.prometheus_merge(),
        rewrite_probes_default=bool(settings.values.get("sidecarInjectorWebhook", "rewriteAppHTTPProbe", default=False)),
        hold_application=proxy_config.hold_application_until_proxy_starts() or
        bool(settings.values.get("global", "proxy", "holdApplicationUntilProxyStarts", default=False)),
        rewrite_lifecycle_hooks=settings.release.rewrite_lifecycle_hooks,
    )
    return typed_pod(merged)


def _proxy_envs(pod: dict, values: ValuesConfig) -> dict:
    cluster = values.get("global", "multiCluster", "clusterName", default="")
    network = values.get("global", "network", default="")
    labels = pod["metadata"].get("labels") or {}
    if NETWORK_LABEL in labels:
        network = labels[NETWORK_LABEL]
    envs = {}
    if cluster:
        envs["ISTIO_META_CLUSTER_ID"] = str(cluster)
    if network:
        envs["ISTIO_META_NETWORK"] = str(network)
    return envs


def _strip_previous_injection(pod: dict, status_port: int) -> dict:
    """Istio's stripPod: for re-injection, drop what the previous injection added."""
    annotations = pod["metadata"].get("annotations") or {}
    if STATUS_ANNOTATION not in annotations:
        return pod
    import json
    try:
        status = json.loads(annotations[STATUS_ANNOTATION])
    except ValueError:
        return pod
    if not isinstance(status, dict):
        return pod
    pod = copy.deepcopy(pod)
    spec = pod["spec"]
    for key in ("containers", "initContainers"):
        for name in status.get(key) or []:
            spec[key] = [c for c in spec.get(key) or [] if c.get("name") != name]
    annotations = pod["metadata"]["annotations"]
    port = prometheus.find(annotations, "port")
    if port is not None and port[1] == str(status_port):
        prometheus.remove_all(annotations)
    del annotations[STATUS_ANNOTATION]
    return pod
