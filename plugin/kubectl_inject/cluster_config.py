"""Read the injector configuration from a live cluster, as istioctl kube-inject does.

Source of truth: the ConfigMaps Istio installs in its namespace, `istio-sidecar-injector`
(keys `config` and `values`) and `istio` (key `mesh`), or `istio-sidecar-injector-REV` and
`istio-REV` for a revision. (istioctl may instead ask istiod's webhook over a port-forward;
we read the ConfigMaps, which give the same templates without a port-forward, work with
read-only RBAC, and can be saved with `kubectl inject config pull`.)
"""
from __future__ import annotations

import os

from .errors import InjectError
from .releases import ReleaseProfile

DEFAULT_NAMESPACE = "istio-system"


def _api():
    """The kubeapi module, loaded on first use: only cluster mode talks to an API server, and
    kubeapi's imports (json, base64, threading) would cost every offline run start-up time."""
    from . import kubeapi  # lazy: see the docstring
    return kubeapi


class ClusterTarget:
    """The cluster and control plane the cluster flags name."""

    def __init__(self, kubeconfig: str | None = None, context: str | None = None,
                 namespace: str = DEFAULT_NAMESPACE, revision: str = "", timeout: float = 10.0):
        self.kubeconfig = kubeconfig    # --kubeconfig
        self.context = context          # --context
        self.namespace = namespace      # -i/--istioNamespace
        self.revision = revision
        self.timeout = timeout

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


def _existing(target: ClusterTarget) -> list:
    """The kubeconfig files to read: --kubeconfig, or every existing file of $KUBECONFIG (merged
    as kubectl merges them), or ~/.kube/config."""
    return [os.path.expanduser(p) for p in kubeconfig_paths(target) if os.path.exists(os.path.expanduser(p))]


def describe_context(target: ClusterTarget) -> str:
    """Human description of which cluster: the context's name."""
    try:
        name = _api().load_kubeconfig(_existing(target)).context_name(target.context)
    except Exception:  # descriptive only
        name = target.context
    return f"context {name!r}" if name else "the current context"


def read_cluster_config(target: ClusterTarget) -> dict:
    """{'config': ..., 'values': ..., 'mesh': ...} texts from the cluster's ConfigMaps."""
    paths = _existing(target)
    if not paths:
        raise NoKubeconfig(
            "no injector configuration: no kubeconfig found (" + ", ".join(kubeconfig_paths(target)) + "); "
            "provide config in one of three ways: a cluster with Istio (--kubeconfig/--context or KUBECONFIG), "
            "files (--injectConfigFile, --valuesFile, --meshConfigFile), or the built-in default (--offline)")
    injector = _read_configmap(target, paths, target.injector_configmap())
    mesh = _read_configmap(target, paths, target.mesh_configmap())
    texts = {}
    for key, source, name in (("config", injector, target.injector_configmap()),
                              ("values", injector, target.injector_configmap()),
                              ("mesh", mesh, target.mesh_configmap())):
        if key not in source:
            raise InjectError(f"ConfigMap {name!r} in namespace {target.namespace!r} has no key {key!r}")
        texts[key] = source[key]
    return texts


def _session(target: ClusterTarget, paths: list) -> "kubeapi.Session":
    """The API session of the target's context (kubeconfig read, credential plugin run, once)."""
    try:
        return _api().session(paths, target.context, target.timeout)
    except _api().CredentialError as err:
        # without this, the request would go out without credentials and the error blame the server
        raise InjectError(f"cannot get credentials for {describe_context(target)}: the kubeconfig's "
                          f"credential plugin (user.exec) failed: {err}") from None


def native_sidecars(target: ClusterTarget, release: ReleaseProfile) -> bool:
    """Whether this control plane injects native sidecars, decided as Istio decides.

    In cluster mode istioctl sends the Pod to istiod's injection webhook, so istiod's own
    ENABLE_NATIVE_SIDECARS governs (not the caller's environment): we read it from the istiod
    Deployment. "auto" (the default of the releases whose native_sidecars_auto_by_default is
    set) means: when every node's kubelet is 1.33 or newer.
    """
    paths = _existing(target)
    mode = _istiod_env(target, paths, "ENABLE_NATIVE_SIDECARS") if paths else None
    if mode is None:
        mode = "auto" if release.native_sidecars_auto_by_default else "false"
    if mode != "auto":
        return mode == "true"
    if not paths:
        return False
    return _all_nodes_at_least(target, paths, 33)


def _bounded(target: ClusterTarget, call, default):
    """Run one API call with the same wall-clock bound; any failure gives `default`."""
    result = {"value": default}

    def run():
        try:
            result["value"] = call()
        except Exception:  # RBAC, connection: a missing hint, not an error
            pass

    import threading  # lazy: cluster mode only; offline runs are mostly start-up time
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(target.timeout)
    return result["value"]


def _istiod_env(target: ClusterTarget, paths: list, name: str):
    def call():
        deployment = f"istiod-{target.revision}" if target.revision else "istiod"
        found = _session(target, paths).get(
            f"/apis/apps/v1/namespaces/{_segment(target.namespace)}/deployments/{_segment(deployment)}")
        for container in (((found.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []:
            for var in container.get("env") or []:
                if var.get("name") == name and var.get("value") is not None:
                    return var["value"]
        return None
    return _bounded(target, call, None)


def _all_nodes_at_least(target: ClusterTarget, paths: list, minor: int) -> bool:
    import re

    def call():
        nodes = _session(target, paths).get("/api/v1/nodes").get("items") or []
        for node in nodes:
            version = ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion") or ""
            match = re.match(r"v?\d+\.(\d+)", version)
            if not match or int(match.group(1)) < minor:
                return False
        return True
    return _bounded(target, call, False)


def _segment(name: str) -> str:
    """A name as one URL path segment (names from flags reach the URL)."""
    from urllib.parse import quote
    return quote(name, safe="")


def _read_configmap(target: ClusterTarget, paths: list, name: str) -> dict:
    """One ConfigMap's data, with a hard wall-clock bound on the whole call."""
    result: dict = {}

    def fetch():
        try:
            api = _session(target, paths)
            try:
                cm = api.get(f"/api/v1/namespaces/{_segment(target.namespace)}/configmaps/{_segment(name)}")
                result["data"] = cm.get("data") or {}
            except _api().ApiError as err:
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
                f"cannot reach the Kubernetes API server ({describe_context(target)}): {_short(err, target, paths)}"
                f"{_scheme_hint(target, paths)}")

    import threading  # lazy: cluster mode only; offline runs are mostly start-up time
    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    worker.join(target.timeout)
    if worker.is_alive():
        raise ClusterUnreachable(f"the Kubernetes API server ({describe_context(target)}) did not answer "
                                 f"within {target.timeout:g} s (see --timeout)")
    if "error" in result:
        raise result["error"]
    return result["data"]


def _server(target: ClusterTarget, paths: list):
    try:
        config = _api().load_kubeconfig(paths)
        return str(config.resolve(target.context)[1].get("server") or "")
    except Exception:  # a hint only
        return None


def _scheme_hint(target: ClusterTarget, paths: list) -> str:
    """A note when the context's server URL has no scheme (the request then went as plain http)."""
    server = _server(target, paths)
    if server and "://" not in server:
        return f" (the kubeconfig's server {server!r} has no https:// in front)"
    return ""


def _short(err: Exception, target: ClusterTarget, paths: list) -> str:
    if isinstance(err, (OSError, EOFError)) or type(err).__module__ == "http.client":
        text = str(err) or type(err).__name__
        server = _server(target, paths)
        if server:
            text = f"{server}: {text}"
    else:
        text = str(err)
    return " ".join(text.split())[:200]
