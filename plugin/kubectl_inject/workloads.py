"""Where each kind of workload keeps its Pod template, as istioctl kube-inject sees it.

istioctl decodes only a fixed set of kinds (and matches them by kind alone, whatever the
apiVersion, because its scheme registers them as "unversioned"); everything else passes
through untouched.
"""
from __future__ import annotations

from . import lazy_regex
from .errors import InjectError

# kind -> Go type of the decoded object (names from the generated Go type schema)
INJECTABLE_KINDS = {
    "Pod": "k8s.io/api/core/v1.Pod",
    "ReplicationController": "k8s.io/api/core/v1.ReplicationController",
    "Deployment": "k8s.io/api/apps/v1.Deployment",
    "DaemonSet": "k8s.io/api/apps/v1.DaemonSet",
    "ReplicaSet": "k8s.io/api/apps/v1.ReplicaSet",
    "StatefulSet": "k8s.io/api/apps/v1.StatefulSet",
    "Job": "k8s.io/api/batch/v1.Job",
    "CronJob": "k8s.io/api/batch/v1.CronJob",
    "DeploymentConfig": "github.com/openshift/api/apps/v1.DeploymentConfig",
    "List": "k8s.io/api/core/v1.List",
}


class PodTemplate:
    """Handles on the metadata and spec that injection reads and replaces inside an object.

    The metadata lives in `meta_holder["metadata"]` and the spec in `spec_holder["spec"]`
    (the same dict except for CronJobs). `owner_meta` is the object's own metadata
    (Istio's "DeploymentMeta"), and `type_meta` its apiVersion/kind.
    """

    def __init__(self, meta_holder: dict, spec_holder: dict, owner_meta: dict, type_meta: dict):
        self._meta_holder = meta_holder
        self._spec_holder = spec_holder
        self.owner_meta = owner_meta
        self.type_meta = type_meta

    @property
    def metadata(self) -> dict:
        return self._meta_holder.get("metadata") or {}

    @property
    def spec(self) -> dict:
        return self._spec_holder.get("spec") or {}

    def replace(self, metadata: dict, spec: dict) -> None:
        self._meta_holder["metadata"] = metadata
        self._spec_holder["spec"] = spec


def pod_template(obj: dict) -> PodTemplate:
    """Locate the Pod template of a decoded workload object (not a List)."""
    kind = obj.get("kind", "")
    type_meta = {"apiVersion": obj.get("apiVersion", ""), "kind": kind}
    own_meta = obj.get("metadata") or {}
    if kind == "Pod":
        deploy_meta, type_meta = deploy_meta_from_pod(obj)
        return PodTemplate(obj, obj, deploy_meta, type_meta)
    spec = obj.setdefault("spec", {})
    if kind == "CronJob":
        # Istio reads the *job* template's metadata (not the pod template's) for CronJobs:
        # labels and annotations it adds land on spec.jobTemplate.metadata.
        job_template = spec.setdefault("jobTemplate", {})
        pod_tmpl = job_template.setdefault("spec", {}).setdefault("template", {})
        return PodTemplate(job_template, pod_tmpl, own_meta, type_meta)
    template = spec.get("template")
    if template is None:
        if kind in ("ReplicationController", "DeploymentConfig"):
            # These kinds have a pointer template; Istio refuses a missing one.
            raise InjectError("spec.template is required value")
        template = spec.setdefault("template", {})
    return PodTemplate(template, template, own_meta, type_meta)


_CRONJOB_JOB_NAME = lazy_regex.compile(r"^(.+)-\d{8,10}$")


def deploy_meta_from_pod(pod: dict) -> tuple[dict, dict]:
    """Guess the owning workload of a bare Pod, as Istio's webhook does.

    A Pod with a generateName and a controller ownerReference is attributed to its
    controller (ReplicaSet -> Deployment by pod-template-hash, ReplicationController ->
    DeploymentConfig, Job -> CronJob by the timestamp suffix).
    """
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    deploy = {"name": meta.get("name", ""), "namespace": meta.get("namespace", "")}
    type_meta = {"apiVersion": "v1", "kind": "Pod"}
    if not meta.get("generateName"):
        return deploy, type_meta
    controller = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
    if controller is None:
        return deploy, type_meta
    type_meta = {"apiVersion": controller.get("apiVersion", ""), "kind": controller.get("kind", "")}
    deploy["name"] = controller.get("name", "")
    kind = type_meta["kind"]
    template_hash = labels.get("pod-template-hash", "")
    if kind == "ReplicaSet" and template_hash and deploy["name"].endswith(template_hash):
        deploy["name"] = deploy["name"][: -len(template_hash) - 1]
        type_meta["kind"] = "Deployment"
    elif kind == "ReplicationController" and labels.get("deploymentconfig"):
        deploy["name"] = labels["deploymentconfig"]
        type_meta["kind"] = "DeploymentConfig"
    elif kind == "Job":
        match = _CRONJOB_JOB_NAME.match(deploy["name"])
        if match:
            deploy["name"] = match.group(1)
            type_meta = {"apiVersion": "batch/v1", "kind": "CronJob"}
    return deploy, type_meta
