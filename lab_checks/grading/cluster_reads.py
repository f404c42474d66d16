"""One target's cluster, read-only and within a time budget: what the rubric scores.

Reads go through the Kubernetes Python client (in-process: a class is graded from threads without
a kubectl process per read), as raw JSON, the same shapes `kubectl get -o json` gives the lab
suite. The one exec, `ps -ef` in the sidecar, goes through kubectl, as the lab runs it.

A missing object is None, a read the RBAC refuses is recorded in `denied`; anything that makes
the target ungradable (bad kubeconfig, unreachable API server, rejected credentials, the budget
used up) raises TargetUnusable with one line that never quotes the kubeconfig.
"""
from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass, field

import yaml

from lab_checks.steps import POD

from lab_checks.grading.roster import Target

INJECTOR_CONFIGMAP = "istio-sidecar-injector"
MESH_CONFIGMAP = "istio"
ISTIOD = "istiod"


class TargetUnusable(Exception):
    """The target cannot be graded at all; str() is the one-line reason every check gets."""


class Deadline:
    """The per-target time budget, shared by every read and the exec."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self, what: str) -> float:
        left = self.end - time.monotonic()
        if left <= 0.05:
            raise TargetUnusable(f"time budget of {self.seconds:g}s used up before {what}")
        return left


@dataclass
class ProcessList:
    """`ps -ef` in istio-proxy: its output, or why kubectl exec failed."""
    ok: bool
    output: str = ""
    error: str = ""


@dataclass
class Snapshot:
    namespace: str
    istio_namespace: str
    injector_configmap: dict | None = None
    mesh_configmap: dict | None = None
    istiod: dict | None = None
    pod: dict | None = None
    events: list[dict] = field(default_factory=list)
    processes: ProcessList | None = None
    submission: object | None = None   # submissions.Submission, when the class's files are graded
    denied: dict[str, str] = field(default_factory=dict)   # what -> the API server's refusal


class Connection:
    """An API client for one target; the namespace is the target's, else its context's, else default."""

    def __init__(self, target: Target, deadline: Deadline):
        # Imported here: the client is the slowest import of the grader and `lab-grade --help`,
        # `lab-grade rbac` and roster errors do not need it.
        from kubernetes import config as kconfig

        self.target, self.deadline = target, deadline
        try:
            contexts, active = kconfig.list_kube_config_contexts(config_file=str(target.kubeconfig))
            chosen = next((c for c in contexts if c["name"] == target.context), None) if target.context else active
            if chosen is None:
                raise TargetUnusable(f"kubeconfig {target.kubeconfig.name} has no context {target.context!r}")
            self.api = kconfig.new_client_from_config(config_file=str(target.kubeconfig), context=target.context,
                                                      persist_config=False)
        except TargetUnusable:
            raise
        except kconfig.ConfigException as exc:
            # The client's own messages name keys and contexts, never their values.
            raise TargetUnusable(f"kubeconfig {target.kubeconfig.name} is not usable: {_first_line(exc)}") from None
        except Exception as exc:
            what = "not valid YAML" if isinstance(exc, yaml.YAMLError) else type(exc).__name__
            raise TargetUnusable(f"kubeconfig {target.kubeconfig.name} is not usable ({what})") from None
        # One attempt per read: urllib3 would retry a refused connection, and a stalled one per timeout.
        self.api.configuration.retries = 0
        self.server = self.api.configuration.host
        self.namespace = target.namespace or (chosen.get("context") or {}).get("namespace") or "default"

    def get(self, path: str, what: str, query: list | None = None):
        """GET an API path as JSON; None when it does not exist; PermissionError when refused."""
        left = self.deadline.remaining(f"reading {what}")
        try:
            method, url, headers, _, _ = self.api.param_serialize(
                "GET", path, query_params=query or [], header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"])
            response = self.api.call_api(method, url, header_params=headers, _request_timeout=(min(5.0, left), left))
            response.read()
        except Exception as exc:
            raise TargetUnusable(f"cluster unreachable at {self.server}: {connection_problem(exc)}") from None
        if response.status == 404:
            return None
        if response.status == 403:
            raise PermissionError(f"the grader may not read {what} (403 Forbidden): apply the grading RBAC")
        if response.status == 401:
            raise TargetUnusable("credentials rejected (401 Unauthorized): expired or revoked token?")
        if response.status >= 300:
            raise TargetUnusable(f"API server answered {response.status} reading {what}")
        try:
            return json.loads(response.data)
        except ValueError:
            raise TargetUnusable(f"API server at {self.server} answered {what} with something not JSON") from None


def read_snapshot(conn: Connection, istio_namespace: str) -> Snapshot:
    """Everything the rubric scores except the sidecar's processes (see read_processes)."""
    snap = Snapshot(namespace=conn.namespace, istio_namespace=istio_namespace)
    ns, ins = conn.namespace, istio_namespace
    reads = [
        ("injector_configmap", f"/api/v1/namespaces/{ins}/configmaps/{INJECTOR_CONFIGMAP}", None,
         f"ConfigMap {ins}/{INJECTOR_CONFIGMAP}"),
        ("mesh_configmap", f"/api/v1/namespaces/{ins}/configmaps/{MESH_CONFIGMAP}", None,
         f"ConfigMap {ins}/{MESH_CONFIGMAP}"),
        ("istiod", f"/apis/apps/v1/namespaces/{ins}/deployments/{ISTIOD}", None, f"Deployment {ins}/{ISTIOD}"),
        ("pod", f"/api/v1/namespaces/{ns}/pods/{POD}", None, f"Pod {ns}/{POD}"),
        ("events", f"/api/v1/namespaces/{ns}/events",
         [("fieldSelector", f"involvedObject.kind=Pod,involvedObject.name={POD}")], f"events in {ns}"),
    ]
    for attr, path, query, what in reads:
        try:
            value = conn.get(path, what, query)
        except PermissionError as exc:
            snap.denied[attr] = str(exc)
            continue
        setattr(snap, attr, (value or {}).get("items", []) if attr == "events" else value)
    return snap


def read_processes(conn: Connection, kubectl: str) -> ProcessList:
    """`kubectl exec mywebserver -c istio-proxy -- ps -ef`, the lab's step 7, bounded by the budget."""
    t = conn.target
    left = conn.deadline.remaining("kubectl exec")
    argv = [kubectl, "--kubeconfig", str(t.kubeconfig), *(["--context", t.context] if t.context else []),
            "-n", conn.namespace, f"--request-timeout={max(1, int(left))}s",
            "exec", POD, "-c", "istio-proxy", "--", "ps", "-ef"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=left, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise TargetUnusable(f"time budget of {conn.deadline.seconds:g}s used up during kubectl exec") from None
    if proc.returncode != 0:
        return ProcessList(False, proc.stdout, _last_line(proc.stderr) or f"exit {proc.returncode}")
    return ProcessList(True, proc.stdout)


def connection_problem(exc: Exception) -> str:
    """What went wrong on the wire, in a few words (urllib3 wraps the cause in long reprs)."""
    text = f"{exc} {getattr(exc, 'reason', '')}"
    errno = re.search(r"\[Errno -?\d+\] ([^'\"()]+)", text)
    if errno:
        return errno.group(1).strip().lower()
    for needle, words in (("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"), ("SSL", "TLS handshake failed"),
                          ("Read timed out", "no answer in time"), ("timed out", "connection timed out")):
        if needle in text:
            return words
    return type(exc).__name__


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:160]


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""
