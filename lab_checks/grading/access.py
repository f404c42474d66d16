"""What an instructor sets up so the grader can read a student's cluster: the RBAC manifest
(rbac.yaml, placed in the student's namespace) and a kubeconfig for its ServiceAccount.

The kubeconfig holds a token from the TokenRequest API (bounded lifetime, nothing stored in the
cluster) and the admin kubeconfig's server and CA; it is written with mode 0600 and never logged.
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml

RBAC_FILE = Path(__file__).resolve().parent / "rbac.yaml"
SERVICE_ACCOUNT = "lab-grader"
SHIPPED_NAMESPACE = "default"
SHIPPED_ISTIO_NAMESPACE = "istio-system"


class AccessError(RuntimeError):
    """Set-up failed; one line for the user."""


def rbac_manifest(namespace: str = SHIPPED_NAMESPACE, istio_namespace: str = SHIPPED_ISTIO_NAMESPACE) -> str:
    """rbac.yaml for a student namespace: the shipped file itself for `default`, else re-namespaced."""
    text = RBAC_FILE.read_text()
    if namespace == SHIPPED_NAMESPACE and istio_namespace == SHIPPED_ISTIO_NAMESPACE:
        return text
    docs = [d for d in yaml.safe_load_all(text) if d]
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
    header = f"# lab-grade RBAC for namespace {namespace} (Istio in {istio_namespace}); see {RBAC_FILE.name}\n"
    return header + yaml.safe_dump_all(docs, sort_keys=False)


def grader_kubeconfig(admin_kubeconfig: str | None, context: str | None, namespace: str,
                      seconds: int, service_account: str = SERVICE_ACCOUNT) -> str:
    """A kubeconfig for the grading ServiceAccount, made with the admin's kubeconfig."""
    from kubernetes import client
    from kubernetes import config as kconfig

    path = admin_kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or str(Path.home() / ".kube/config")
    if not Path(path).expanduser().is_file():
        raise AccessError(f"admin kubeconfig {path}: no such file")
    path = str(Path(path).expanduser())
    try:
        contexts, active = kconfig.list_kube_config_contexts(config_file=path)
        chosen = next((c for c in contexts if c["name"] == context), None) if context else active
        if chosen is None:
            raise AccessError(f"admin kubeconfig {Path(path).name} has no context {context!r}")
        raw = yaml.safe_load(Path(path).read_text())
        cluster_name = chosen["context"]["cluster"]
        cluster = next(c["cluster"] for c in raw.get("clusters", []) if c["name"] == cluster_name)
        api = kconfig.new_client_from_config(config_file=path, context=chosen["name"], persist_config=False)
    except AccessError:
        raise
    except Exception as exc:
        raise AccessError(f"admin kubeconfig {Path(path).name} is not usable ({type(exc).__name__})") from None
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
    """Write a credential file readable by its owner only, created so from the start."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    tmp.replace(target)
