"""Read the injector configuration from a live cluster, as istioctl kube-inject does.

Source of truth: the ConfigMaps Istio installs in its namespace, `istio-sidecar-injector`
(keys `config` and `values`) and `istio` (key `mesh`), or `istio-sidecar-injector-REV` and
`istio-REV` for a revision. (istioctl may instead ask istiod's webhook over a port-forward;
we read the ConfigMaps, which give the same templates without a port-forward, work with
read-only RBAC, and can be saved with `kubectl inject config pull`.)

--timeout bounds the whole look-up, from opening the kubeconfig to the last byte of the last
answer (ClusterTarget.deadline, started by the first call): the work runs in a daemon thread and
this thread waits for it only until the deadline, taking no lock the worker may hold, so a read
that blocks for ever (a kubeconfig that is a FIFO, a stale network mount, a server that never
answers or drips its answer) ends the command at the deadline with one line. Credential plugins
still running then are killed (credential_plugin.stop_children, also called when the command
ends).
"""
from __future__ import annotations

import os
import sys

from .errors import InjectError
from .releases import ReleaseProfile

DEFAULT_NAMESPACE = "istio-system"
# The default revision tag: `istioctl tag set default --revision REV` makes this
# MutatingWebhookConfiguration, labelled istio.io/rev=REV (istio.io/tag=default); istioctl 1.28+
# kube-inject without -r injects with REV's config (pkg/revisions/default_watcher.go watches it
# by this name). "default" as a revision is the unrevisioned control plane.
DEFAULT_TAG_WEBHOOK = "istio-revision-tag-default"
REVISION_LABEL = "istio.io/rev"
DEFAULT_REVISION = "default"


def _api():
    """The kubeapi module, loaded on first use: only cluster mode talks to an API server, and
    kubeapi's imports (json, base64, threading) would cost every offline run start-up time."""
    from . import kubeapi  # lazy: see the docstring
    return kubeapi


class ClusterTarget:
    """The cluster and control plane the cluster flags name."""

    def __init__(self, kubeconfig: str | None = None, context: str | None = None,
                 namespace: str = DEFAULT_NAMESPACE, revision: str = "", timeout: float = 10.0,
                 revision_flag: str | None = None):
        self.kubeconfig = kubeconfig    # --kubeconfig
        self.context = context          # --context
        self.namespace = namespace      # -i/--istioNamespace
        self.revision = revision        # "" for the unrevisioned control plane ("default")
        self.timeout = timeout
        # -r/--revision as given ("" when not; None: not known, read from `revision`). Without it
        # a release that resolves the default revision asks the cluster (read_cluster_config's
        # follow_default_tag).
        given = revision if revision_flag is None else revision_flag
        self.revision_given = bool(given)
        self.revision_source = (f"-r/--revision {given}" if given else
                                "no -r/--revision; the default revision tag not looked up")
        self.from_default_tag = False   # revision is the default tag's (set by the look-up)
        self._deadline = None           # time.monotonic() at which the look-up must be over
        # What the look-up read about the control plane, for the release evidence: the injector
        # ConfigMap's labels, and istiod's Deployment once it was asked for (None: not yet).
        self.injector_labels: dict = {}
        self._istiod = None

    def deadline(self) -> float:
        """When the cluster look-up must be over: --timeout after its first step."""
        if self._deadline is None:
            import time  # (built into the interpreter)
            self._deadline = time.monotonic() + self.timeout
        return self._deadline

    @property
    def explicit(self) -> bool:
        """Did the user point at a cluster themselves (so a failure is an error, not a fallback)?"""
        return bool(self.kubeconfig or self.context)

    @property
    def revision_name(self) -> str:
        return self.revision or DEFAULT_REVISION

    def use_revision(self, revision: str, source: str, from_tag: bool = False) -> None:
        """Read the control plane `revision` from now on ("" or "default": the unrevisioned one);
        what was read about another (istiod's Deployment) is forgotten."""
        revision = "" if revision == DEFAULT_REVISION else revision
        if revision != self.revision:
            self._istiod = None
            self.injector_labels = {}
        self.revision, self.revision_source, self.from_default_tag = revision, source, from_tag

    def injector_configmap(self) -> str:
        return f"istio-sidecar-injector-{self.revision}" if self.revision else "istio-sidecar-injector"

    def mesh_configmap(self) -> str:
        return f"istio-{self.revision}" if self.revision else "istio"

    def istiod_deployment(self) -> str:
        return f"istiod-{self.revision}" if self.revision else "istiod"


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
    """Human description of which cluster: the context's name. Never reads the kubeconfig (it is
    known once the look-up has read it): a read may be blocked, and this names the cluster in
    the message that says so."""
    name = target.context
    api = sys.modules.get(__package__ + ".kubeapi")
    if api is not None and not name:
        config = api.loaded_kubeconfig(_existing(target))
        name = config.context_name(None) if config is not None else None
    return f"context {name!r}" if name else "the current context"


def stop_children() -> None:
    """Kill the credential plugins still running (the command ends); nothing to do, and nothing
    imported, when no cluster was looked up."""
    plugins = sys.modules.get(__package__ + ".credential_plugin")
    if plugins is not None:
        plugins.stop_children()


def _within_deadline(target: ClusterTarget, call):
    """call() in a daemon thread; its value or its exception, or ClusterUnreachable once the
    look-up's deadline has passed (the thread is left where it is blocked: it holds nothing this
    thread needs, and cli.entry's exit does not wait for a daemon thread)."""
    import threading  # lazy: cluster mode only; offline runs are mostly start-up time
    import time  # (built into the interpreter)
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as err:  # noqa: BLE001 - handed to the waiting thread
            outcome["error"] = err

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    deadline = target.deadline()
    while worker.is_alive():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        worker.join(min(left, _api().MAX_WAIT))
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, _api().LookupTimeout):
            worker.join(0.001)
            outcome.pop("error")
        else:
            raise error
    if "value" in outcome:
        return outcome["value"]
    stop_children()
    raise ClusterUnreachable(f"the Kubernetes API server ({describe_context(target)}) did not answer "
                             f"within {target.timeout:g} s (see --timeout)")


def read_cluster_config(target: ClusterTarget, follow_default_tag: bool = False) -> dict:
    """{'config': ..., 'values': ..., 'mesh': ...} texts from the cluster's ConfigMaps.

    With follow_default_tag (and no -r/--revision), first the default revision tag, as
    istioctl 1.28+ does (one more GET within the same deadline): the ConfigMaps read are then those of the
    revision it points at (the caller decides, once the release is known, whether that release
    follows the tag: config_source.cluster_texts)."""
    paths = _existing(target)
    if not paths:
        raise NoKubeconfig(
            "no injector configuration: no kubeconfig found (" + ", ".join(kubeconfig_paths(target)) + "); "
            "provide config in one of three ways: a cluster with Istio (--kubeconfig/--context or KUBECONFIG), "
            "files (--injectConfigFile, --valuesFile, --meshConfigFile), or the built-in default (--offline)")
    def read():
        if follow_default_tag:
            _follow_default_tag(target, paths)
        return (_read_configmap(target, paths, target.injector_configmap()),
                _read_configmap(target, paths, target.mesh_configmap()))
    injector, mesh = _within_deadline(target, read)
    texts = {}
    for key, source, name in (("config", injector, target.injector_configmap()),
                              ("values", injector, target.injector_configmap()),
                              ("mesh", mesh, target.mesh_configmap())):
        if key not in source:
            raise InjectError(f"ConfigMap {name!r} in namespace {target.namespace!r} has no key {key!r}")
        texts[key] = source[key]
    return texts


def _follow_default_tag(target: ClusterTarget, paths: list) -> None:
    """Point the target at the revision the default tag names (istioctl's RevisionOrDefault: the
    istio.io/rev label of MutatingWebhookConfiguration istio-revision-tag-default; none, or no
    label: "default"). One GET by name, read-only. A tag that cannot be read (RBAC, an odd answer)
    counts as none, with the reason in revision_source: istioctl's watcher would wait for ever."""
    if target.revision_given:
        return
    api = _api()
    where = f"MutatingWebhookConfiguration {DEFAULT_TAG_WEBHOOK}"
    try:
        found = _session(target, paths).get(
            f"/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/{DEFAULT_TAG_WEBHOOK}",
            target.deadline())
    except api.ResponseError as err:  # too large, not JSON: a tag we cannot read
        target.revision_source = f"no -r/--revision; the default revision tag could not be read ({err})"
        return
    except (InjectError, api.LookupTimeout):  # the kubeconfig, its credentials; the deadline
        raise
    except api.ApiError as err:
        why = (f"no default revision tag ({where} not found)" if err.status == 404 else
               f"the default revision tag could not be read ({where}: {err.status} {err.reason})")
        target.revision_source = f"no -r/--revision; {why}"
        return
    except Exception as err:  # noqa: BLE001 - connection trouble: the ConfigMap read next reports it
        target.revision_source = ("no -r/--revision; the default revision tag could not be read ("
                                  + " ".join(str(err).split())[:200] + ")")
        return
    labels = _field(_field(found, "metadata", dict), "labels", dict)
    revision = labels.get(REVISION_LABEL)
    if not isinstance(revision, str) or not revision:
        target.revision_source = f"no -r/--revision; the default revision tag ({where}) names no {REVISION_LABEL}"
        return
    target.use_revision(revision, f"no -r/--revision; the default revision tag ({where}, label "
                                  f"{REVISION_LABEL}={revision})", from_tag=revision != DEFAULT_REVISION)


def _session(target: ClusterTarget, paths: list) -> "kubeapi.Session":
    """The API session of the target's context (kubeconfig read, credential plugin run, once)."""
    try:
        return _api().session(paths, target.context, target.timeout, target.deadline())
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
    if not paths:
        return False

    def look_up():
        mode = _istiod_env(target, paths, "ENABLE_NATIVE_SIDECARS")
        if mode is None:
            mode = "auto" if release.native_sidecars_auto_by_default else "false"
        if mode != "auto":
            return mode == "true"
        return _all_nodes_at_least(target, paths, 33)
    # within the same deadline as the ConfigMaps: past it, an error, not a silent default
    return _within_deadline(target, look_up)


def _bounded(target: ClusterTarget, call, default):
    """One API call of the look-up; a failure (RBAC, connection, an odd answer) gives `default`:
    a missing hint, not an error. Not the deadline: that ends the whole look-up."""
    try:
        return call()
    except _api().LookupTimeout:
        raise
    except Exception:  # noqa: BLE001 - see the docstring
        return default


def _istiod_containers(target: ClusterTarget, paths: list) -> list:
    """The containers of istiod's Deployment (istiod-REV for a revision), read once per run (the
    release evidence and the native-sidecar setting both ask); [] when it cannot be read."""
    if target._istiod is None:
        def call():
            found = _session(target, paths).get(
                f"/apis/apps/v1/namespaces/{_segment(target.namespace)}/deployments/"
                f"{_segment(target.istiod_deployment())}",
                target.deadline())
            spec = _field(_field(_field(found, "spec", dict), "template", dict), "spec", dict)
            return [c for c in _field(spec, "containers", list) if isinstance(c, dict)]
        target._istiod = _bounded(target, call, [])
    return target._istiod


def _istiod_env(target: ClusterTarget, paths: list, name: str):
    for container in _istiod_containers(target, paths):
        for var in _field(container, "env", list):
            if isinstance(var, dict) and var.get("name") == name and isinstance(var.get("value"), str):
                return var["value"]
    return None


def istiod_image(target: ClusterTarget) -> str:
    """The image of istiod's first container ("" when istiod cannot be read), within the
    look-up's deadline: evidence of the release when the ConfigMaps' labels state none."""
    paths = _existing(target)
    if not paths:
        return ""
    containers = _within_deadline(target, lambda: _istiod_containers(target, paths))
    return _field(containers[0], "image", str) if containers else ""


def _all_nodes_at_least(target: ClusterTarget, paths: list, minor: int) -> bool:
    import re

    def call():
        nodes = _session(target, paths).get("/api/v1/nodes", target.deadline()).get("items") or []
        for node in nodes:
            version = _field(_field(_field(node, "status", dict), "nodeInfo", dict), "kubeletVersion", str) or ""
            match = re.match(r"v?\d+\.(\d{1,9})", version)
            if not match or int(match.group(1)) < minor:
                return False
        return True
    return _bounded(target, call, False)


def _field(obj, key: str, kind: type):
    """obj[key] when obj is a mapping and the value of that type; else an empty value of it (an
    answer of another shape is read as a missing field, as Go's typed decoding reads null)."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, kind) else kind()


def _segment(name: str) -> str:
    """A name as one URL path segment (names from flags reach the URL)."""
    from urllib.parse import quote
    return quote(name, safe="")


def _read_configmap(target: ClusterTarget, paths: list, name: str) -> dict:
    """One ConfigMap's data (called within _within_deadline's bound)."""
    api = _api()
    try:
        session = _session(target, paths)
        try:
            found = session.get(f"/api/v1/namespaces/{_segment(target.namespace)}/configmaps/{_segment(name)}",
                                target.deadline())
        except api.ApiError as err:
            if err.status == 404:
                raise InjectError(
                    f"Istio is not installed for this request: ConfigMap {name!r} not found in namespace "
                    f"{target.namespace!r} ({describe_context(target)}); install Istio, pass -i/--istioNamespace "
                    f"or -r/--revision, or give config files") from None
            raise InjectError(f"reading ConfigMap {target.namespace}/{name}: {err.status} {err.reason}") from None
    except (InjectError, api.LookupTimeout):  # LookupTimeout: a socket's wait ended at the deadline
        raise
    except Exception as err:  # connection refused, DNS, TLS, bad kubeconfig...
        raise ClusterUnreachable(
            f"cannot reach the Kubernetes API server ({describe_context(target)}): {_short(err, target, paths)}"
            f"{_scheme_hint(target, paths)}") from None
    if name == target.injector_configmap():
        labels = _field(_field(found, "metadata", dict), "labels", dict)
        target.injector_labels = {k: v for k, v in labels.items() if isinstance(v, str)}
    return configmap_data(found, target, name)


_GO_JSON_KINDS = ((bool, "bool"), (str, "string"), ((int, float), "number"), (list, "array"), (dict, "object"))


def _go_json_kind(value) -> str:
    return next(kind for types, kind in _GO_JSON_KINDS if isinstance(value, types))


def configmap_data(found: dict, target: ClusterTarget, name: str) -> dict:
    """The ConfigMap's `data`, checked as client-go's typed decoding checks it (a map of strings;
    null is empty), with encoding/json's words for another shape."""
    data = found.get("data")
    if data is None:
        return {}
    where = f"reading ConfigMap {target.namespace}/{name}: json: cannot unmarshal"
    if not isinstance(data, dict):
        raise InjectError(f"{where} {_go_json_kind(data)} into Go struct field ConfigMap.data of type "
                          f"map[string]string")
    for key, value in data.items():
        if value is not None and not isinstance(value, str):
            raise InjectError(f"{where} {_go_json_kind(value)} into Go struct field ConfigMap.data of type string "
                              f"(key {key!r})")
    return {key: value or "" for key, value in data.items()}


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
