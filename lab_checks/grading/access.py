"""What an instructor sets up so the grader can read a student's cluster: the RBAC manifest
(rbac.yaml, placed in the student's namespace) and a kubeconfig for its ServiceAccount.

The kubeconfig holds a token from the TokenRequest API (bounded lifetime, nothing stored in the
cluster) and the admin kubeconfig's server and CA; it is written with mode 0600 and never logged.
"""
from __future__ import annotations

import base64
import contextlib
import os
import re
import tempfile
from pathlib import Path

import yaml

from lab_checks.expectations import DEFAULT_TAG_WEBHOOK

RBAC_FILE = Path(__file__).resolve().parent / "rbac.yaml"
SERVICE_ACCOUNT = "lab-grader"
SHIPPED_NAMESPACE = "default"
SHIPPED_ISTIO_NAMESPACE = "istio-system"


class AccessError(RuntimeError):
    """Set-up failed; one line for the user."""


# A revision names objects (istiod-REV): a DNS label.
REVISION_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def rbac_manifest(namespace: str = SHIPPED_NAMESPACE, istio_namespace: str = SHIPPED_ISTIO_NAMESPACE,
                  revisions: tuple = ()) -> str:
    """rbac.yaml for a student namespace: the shipped file itself for `default`, else re-namespaced.

    revisions (lab-grade rbac --revision REV, repeatable; `default` is the unrevisioned control
    plane, always granted): each adds, by name, get/watch on istio-sidecar-injector-REV, istio-REV
    and istiod-REV, and the set gains get on the one MutatingWebhookConfiguration
    istio-revision-tag-default (which revision the default tag points at). RBAC cannot grant
    "every revision's ConfigMaps" without granting every ConfigMap of Istio's namespace, so the
    instructor names the revisions; nothing else is widened."""
    for revision in revisions:
        if not REVISION_PATTERN.fullmatch(revision):
            raise AccessError(f"--revision {revision!r} is not a revision name (lowercase letters, digits and '-')")
    named = list(dict.fromkeys(r for r in revisions if r != "default"))
    text = RBAC_FILE.read_text()
    if namespace == SHIPPED_NAMESPACE and istio_namespace == SHIPPED_ISTIO_NAMESPACE and not revisions:
        return text
    docs = [d for d in yaml.safe_load_all(text) if d]
    if revisions:
        _grant_revisions(docs, named)
    for doc in docs:
        meta = doc["metadata"]
        if "namespace" not in meta:                        # cluster-scoped
            if doc["kind"] == "ClusterRoleBinding":
                meta["name"] = f"{SERVICE_ACCOUNT}-{namespace}"
        elif meta["namespace"] == SHIPPED_ISTIO_NAMESPACE:
            meta["namespace"] = istio_namespace
            if doc["kind"] == "RoleBinding":
                meta["name"] = f"{SERVICE_ACCOUNT}-{namespace}"
        else:
            meta["namespace"] = namespace
        for subject in doc.get("subjects", []):
            subject["namespace"] = namespace
    control_planes = ", ".join(["the unrevisioned control plane"] + [f"revision {r}" for r in named])
    header = (f"# lab-grade RBAC for namespace {namespace} (Istio in {istio_namespace}"
              + (f"; {control_planes}, the default revision tag" if revisions else "")
              + f"); see {RBAC_FILE.name}\n")
    return header + yaml.safe_dump_all(docs, sort_keys=False)


def _grant_revisions(docs: list, revisions: list) -> None:
    """The Role in Istio's namespace names each revision's objects; the ClusterRole reads the
    default revision tag."""
    for doc in docs:
        if doc["kind"] == "Role" and doc["metadata"]["namespace"] == SHIPPED_ISTIO_NAMESPACE:
            for rule in doc["rules"]:   # the shipped names: the unrevisioned control plane's
                shipped = list(rule["resourceNames"])
                rule["resourceNames"] = shipped + [f"{name}-{r}" for r in revisions for name in shipped]
        elif doc["kind"] == "ClusterRole":
            doc["rules"].append({"apiGroups": ["admissionregistration.k8s.io"],
                                 "resources": ["mutatingwebhookconfigurations"],
                                 "resourceNames": [DEFAULT_TAG_WEBHOOK], "verbs": ["get"]})


def grader_kubeconfig(admin_kubeconfig: str | None, context: str | None, namespace: str,
                      seconds: int, service_account: str = SERVICE_ACCOUNT) -> str:
    """A kubeconfig for the grading ServiceAccount, made with the admin's kubeconfig."""
    from lab_checks.grading import kubeclient

    path = admin_kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or str(Path.home() / ".kube/config")
    try:
        kubeconfig = Path(path).expanduser()
    except RuntimeError:   # ~user that does not resolve
        raise AccessError(f"admin kubeconfig {path}: no such file") from None
    if not kubeconfig.is_file():
        raise AccessError(f"admin kubeconfig {path}: no such file")
    # The admin's client key goes to a memory file (kubeclient), released when this is done.
    with kubeclient.credential_scope():
        try:
            raw = kubeclient.load_kubeconfig(kubeconfig)
            chosen = kubeclient.context_entry(raw, context, kubeconfig)
            cluster_name = chosen["context"]["cluster"]
            cluster = next(c["cluster"] for c in raw.get("clusters", []) if c["name"] == cluster_name)
            api, _ = kubeclient.new_client(kubeconfig, chosen["name"])
        except kubeclient.KubeconfigProblem as exc:
            raise AccessError(f"admin {exc}") from None
        except Exception as exc:
            raise AccessError(f"admin kubeconfig {kubeconfig.name} is not usable ({type(exc).__name__})") from None
        return _token_kubeconfig(api, chosen, cluster_name, cluster, namespace, seconds, service_account)


def _token_kubeconfig(api, chosen, cluster_name, cluster, namespace, seconds, service_account) -> str:
    from kubernetes import client

    api.configuration.retries = 0
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=seconds))
    try:
        token = client.CoreV1Api(api).create_namespaced_service_account_token(
            service_account, namespace, request, _request_timeout=(5, 20)).status.token
    except client.exceptions.ApiException as exc:
        hint = " (apply the RBAC first: lab-grade rbac --namespace NS | kubectl apply -f -)" if exc.status == 404 else ""
        raise AccessError(f"cannot get a token for ServiceAccount {namespace}/{service_account}: "
                          f"{exc.status} {exc.reason}{hint}") from None
    except Exception as exc:
        raise AccessError(f"cannot reach the cluster of context {chosen['name']} ({type(exc).__name__})") from None

    entry = {"server": cluster["server"]}
    if cluster.get("certificate-authority-data"):
        entry["certificate-authority-data"] = cluster["certificate-authority-data"]
    elif cluster.get("certificate-authority"):
        ca = Path(cluster["certificate-authority"]).expanduser()
        entry["certificate-authority-data"] = base64.b64encode(ca.read_bytes()).decode()
    if cluster.get("insecure-skip-tls-verify"):
        entry["insecure-skip-tls-verify"] = True
    if cluster.get("tls-server-name"):
        entry["tls-server-name"] = cluster["tls-server-name"]
    name = f"{service_account}@{cluster_name}/{namespace}"
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": name,
        "clusters": [{"name": cluster_name, "cluster": entry}],
        "users": [{"name": f"{service_account}/{namespace}", "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": cluster_name, "user": f"{service_account}/{namespace}",
                                                "namespace": namespace}}],
    }, sort_keys=False)


def write_private(path: str, text: str):
    """Write a credential file readable by its owner only, created so from the start; the
    temporary file is removed on any failure, SIGINT and SIGTERM included."""
    from lab_checks.grading import signals

    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    created = False
    try:
        with signals.held():   # created and recorded as one step; mkstemp makes it 0600
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            tmp, created = Path(name), True
        with os.fdopen(fd, "w") as f:
            f.write(text)
        with signals.held():
            tmp.replace(target)
            created = False
    finally:
        if created:
            with contextlib.suppress(OSError):
                tmp.unlink()
