"""Read the injector configuration from a live cluster, as istioctl kube-inject does.

Source of truth: the ConfigMaps Istio installs in its namespace, `istio-sidecar-injector`
(keys `config` and `values`) and `istio` (key `mesh`), or `istio-sidecar-injector-REV` and
`istio-REV` for a revision. (istioctl may instead ask istiod's webhook over a port-forward;
we read the ConfigMaps, which give the same templates without a port-forward, work with
read-only RBAC, and can be saved with `kubectl inject config pull`.)
"""
from __future__ import annotations

import logging
import os
import threading
import warnings
from dataclasses import dataclass

from .errors import InjectError
from .releases import ReleaseProfile

DEFAULT_NAMESPACE = "istio-system"


@dataclass
class ClusterTarget:
    kubeconfig: str | None = None   # --kubeconfig
    context: str | None = None      # --context
    namespace: str = DEFAULT_NAMESPACE  # -i/--istioNamespace
    revision: str = ""
    timeout: float = 10.0

    @property
    def explicit(self) -> bool:
        """Did the user point at a cluster themselves (so a failure is an error, not a fallback)?"""
        return bool(self.kubeconfig or self.context)

    def injector_configmap(self) -> str:
        return f"istio-sidecar-injector-{self.revision}" if self.revision else "istio-sidecar-injector"

    def mesh_configmap(self) -> str:
        return f"istio-{self.revision}" if self.revision else "istio"


class NoKubeconfig(InjectError):
    """No kubeconfig to read the cluster's configuration from."""


class ClusterUnreachable(InjectError):
    """The API server did not answer within the timeout."""


def kubeconfig_paths(target: ClusterTarget) -> list:
    if target.kubeconfig:
        return [target.kubeconfig]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [p for p in env.split(os.pathsep) if p]
    return [os.path.join(os.path.expanduser("~"), ".kube", "config")]


def describe_context(target: ClusterTarget) -> str:
    """Human description of which cluster: context name and server."""
    try:
        from kubernetes import config as kconfig
        contexts, active = kconfig.list_kube_config_contexts(config_file=_first_existing(target))
        name = target.context or (active or {}).get("name", "?")
        return f"context {name!r}"
    except Exception:  # descriptive only
        return "the current context"


def _first_existing(target: ClusterTarget):
    for path in kubeconfig_paths(target):
        if os.path.exists(path):
            return path
    return None


def read_cluster_config(target: ClusterTarget) -> dict:
    """{'config': ..., 'values': ..., 'mesh': ...} texts from the cluster's ConfigMaps."""
    path = _first_existing(target)
    if path is None:
        raise NoKubeconfig(
            "no injector configuration: no kubeconfig found (" + ", ".join(kubeconfig_paths(target)) + "); "
            "provide config in one of three ways: a cluster with Istio (--kubeconfig/--context or KUBECONFIG), "
            "files (--injectConfigFile, --valuesFile, --meshConfigFile), or the built-in default (--offline)")
    injector = _read_configmap(target, path, target.injector_configmap())
    mesh = _read_configmap(target, path, target.mesh_configmap())
    texts = {}
    for key, source, name in (("config", injector, target.injector_configmap()),
                              ("values", injector, target.injector_configmap()),
                              ("mesh", mesh, target.mesh_configmap())):
        if key not in source:
            raise InjectError(f"ConfigMap {name!r} in namespace {target.namespace!r} has no key {key!r}")
        texts[key] = source[key]
    return texts


class _Collect(logging.Filter):
    """Takes the records the Kubernetes client logs on the root logger (it logs a failed
    credential plugin there and carries on without credentials) instead of printing them."""

    def __init__(self):
        super().__init__()
        self.messages: list = []

    def filter(self, record) -> bool:
        self.messages.append(" ".join(record.getMessage().split()))
        return False


# Only the one error line is ours to print: urllib3's retry warnings and its FutureWarning for a
# server URL without a scheme would add lines that do not name the cause.
logging.getLogger("urllib3").setLevel(logging.ERROR)
warnings.filterwarnings("ignore", category=FutureWarning, module=r"urllib3\.")


def _api(target: ClusterTarget, path: str):
    from kubernetes import config as kconfig
    collect = _Collect()
    root = logging.getLogger()
    root.addFilter(collect)
    try:
        api_client = kconfig.new_client_from_config(config_file=path, context=target.context)
    finally:
        root.removeFilter(collect)
    if collect.messages:
        # without this, the request goes out without credentials and the error blames the server
        raise InjectError(f"cannot get credentials for {describe_context(target)}: the kubeconfig's "
                          f"credential plugin (user.exec) failed: {collect.messages[0]}")
    api_client.configuration.retries = 0
    return api_client


def native_sidecars(target: ClusterTarget, release: ReleaseProfile) -> bool:
    """Whether this control plane injects native sidecars, decided as Istio decides.

    In cluster mode istioctl sends the Pod to istiod's injection webhook, so istiod's own
    ENABLE_NATIVE_SIDECARS governs (not the caller's environment): we read it from the istiod
    Deployment. "auto" (the default of the releases whose native_sidecars_auto_by_default is
    set) means: when every node's kubelet is 1.33 or newer.
    """
    path = _first_existing(target)
    mode = _istiod_env(target, path, "ENABLE_NATIVE_SIDECARS") if path is not None else None
    if mode is None:
        mode = "auto" if release.native_sidecars_auto_by_default else "false"
    if mode != "auto":
        return mode == "true"
    if path is None:
        return False
    return _all_nodes_at_least(target, path, 33)


def _bounded(target: ClusterTarget, call, default):
    """Run one API call with the same wall-clock bound; any failure gives `default`."""
    result = {"value": default}

    def run():
        try:
            result["value"] = call()
        except Exception:  # RBAC, connection: a missing hint, not an error
            pass

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(target.timeout)
    return result["value"]


def _istiod_env(target: ClusterTarget, path: str, name: str):
    def call():
        from kubernetes import client
        deployment = f"istiod-{target.revision}" if target.revision else "istiod"
        apps = client.AppsV1Api(_api(target, path))
        spec = apps.read_namespaced_deployment(deployment, target.namespace,
                                               _request_timeout=(target.timeout, target.timeout)).spec
        for container in spec.template.spec.containers or []:
            for var in container.env or []:
                if var.name == name and var.value is not None:
                    return var.value
        return None
    return _bounded(target, call, None)


def _all_nodes_at_least(target: ClusterTarget, path: str, minor: int) -> bool:
    import re

    def call():
        from kubernetes import client
        nodes = client.CoreV1Api(_api(target, path)).list_node(
            _request_timeout=(target.timeout, target.timeout)).items
        for node in nodes:
            match = re.match(r"v?\d+\.(\d+)", node.status.node_info.kubelet_version or "")
            if not match or int(match.group(1)) < minor:
                return False
        return True
    return _bounded(target, call, False)


def _read_configmap(target: ClusterTarget, path: str, name: str) -> dict:
    """One ConfigMap's data, with a hard wall-clock bound on the whole call."""
    result: dict = {}

    def fetch():
        try:
            from kubernetes import client
            from kubernetes.client.rest import ApiException
            api = client.CoreV1Api(_api(target, path))
            try:
                cm = api.read_namespaced_config_map(
                    name, target.namespace, _request_timeout=(target.timeout, target.timeout))
                result["data"] = cm.data or {}
            except ApiException as err:
                if err.status == 404:
                    result["error"] = InjectError(
                        f"Istio is not installed for this request: ConfigMap {name!r} not found in namespace "
                        f"{target.namespace!r} ({describe_context(target)}); install Istio, pass -i/--istioNamespace "
                        f"or -r/--revision, or give config files")
                else:
                    result["error"] = InjectError(f"reading ConfigMap {target.namespace}/{name}: "
                                                  f"{err.status} {err.reason}")
        except InjectError as err:
            result["error"] = err
        except Exception as err:  # connection refused, DNS, TLS, bad kubeconfig...
            result["error"] = ClusterUnreachable(
                f"cannot reach the Kubernetes API server ({describe_context(target)}): {_short(err)}"
                f"{_scheme_hint(path, target)}")

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    worker.join(target.timeout)
    if worker.is_alive():
        raise ClusterUnreachable(f"the Kubernetes API server ({describe_context(target)}) did not answer "
                                 f"within {target.timeout:g} s (see --timeout)")
    if "error" in result:
        raise result["error"]
    return result["data"]


def _scheme_hint(path: str, target: ClusterTarget) -> str:
    """A note when the context's server URL has no scheme (the client then tries plain http)."""
    try:
        import yaml
        with open(path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
        context_name = target.context or config.get("current-context")
        context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
        server = next(c["cluster"]["server"] for c in config["clusters"] if c["name"] == context["cluster"])
    except Exception:  # a hint only: any surprise in the file means no hint
        return ""
    if isinstance(server, str) and "://" not in server:
        return f" (the kubeconfig's server {server!r} has no https:// in front)"
    return ""


def _short(err: Exception) -> str:
    text = " ".join(str(err).split())
    if "Max retries exceeded" in text or "NewConnectionError" in text:
        reason = text.split("Caused by ")[-1]
        return reason[:200]
    return text[:200]
