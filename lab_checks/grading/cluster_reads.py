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
import time
from dataclasses import dataclass, field


from lab_checks.expectations import DEFAULT_TAG_WEBHOOK, REVISION_LABEL, control_plane_names
from lab_checks.steps import POD

from lab_checks.grading import children
from lab_checks.grading.roster import Target

# The largest API answer read (bytes, after decompression). etcd keeps objects under 1.5 MiB and a
# ConfigMap under 1 MiB; the largest read here, the injector ConfigMap, is about 100 KB as JSON.
RESPONSE_LIMIT = 4 << 20


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
    # The control plane graded against: "" the unrevisioned one; why (control_plane()).
    revision: str = ""
    revision_source: str = ""

    def names(self) -> tuple[str, str, str]:
        """The injector ConfigMap, the mesh ConfigMap and istiod's Deployment of the revision."""
        return control_plane_names(self.revision)


class Connection:
    """An API client for one target; the namespace is the target's, else its context's, else default."""

    def __init__(self, target: Target, deadline: Deadline):
        # Imported here: the client is the slowest import of the grader and `lab-grade --help`,
        # `lab-grade rbac` and roster errors do not need it. Call inside kubeclient.credential_scope().
        from kubernetes import config as kconfig

        from lab_checks.grading.kubeclient import KubeconfigProblem, new_client

        self.target, self.deadline = target, deadline
        try:
            self.api, chosen = new_client(target.kubeconfig, target.context)
        except KubeconfigProblem as exc:
            raise TargetUnusable(str(exc)) from None
        except kconfig.ConfigException as exc:
            # The client's own messages name keys and contexts, never their values.
            raise TargetUnusable(f"kubeconfig {target.kubeconfig.name} is not usable: {_first_line(exc)}") from None
        except Exception as exc:
            raise TargetUnusable(f"kubeconfig {target.kubeconfig.name} is not usable ({type(exc).__name__})") from None
        # One attempt per read: urllib3 would retry a refused connection, and a stalled one per timeout.
        self.api.configuration.retries = 0
        self.server = self.api.configuration.host
        context = chosen.get("context")
        namespace = context.get("namespace") if isinstance(context, dict) else None
        self.namespace = target.namespace or (namespace if isinstance(namespace, str) and namespace else "default")

    def get(self, path: str, what: str, query: list | None = None):
        """GET an API path as JSON; None when it does not exist; PermissionError when refused."""
        left = self.deadline.remaining(f"reading {what}")
        try:
            method, url, headers, _, _ = self.api.param_serialize(
                "GET", path, query_params=query or [], header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"])
            # The REST client asks urllib3 not to preload the body; it is read here, capped.
            response = self.api.call_api(method, url, header_params=headers, _request_timeout=(min(5.0, left), left))
        except Exception as exc:
            raise TargetUnusable(f"cluster unreachable at {self.server}: {connection_problem(exc)}") from None
        body = self._read_body(response.response, what)
        if response.status == 404:
            return None
        if response.status == 403:
            raise PermissionError(f"the grader may not read {what} (403 Forbidden): apply the grading RBAC")
        if response.status == 401:
            raise TargetUnusable("credentials rejected (401 Unauthorized): expired or revoked token?")
        if response.status >= 300:
            raise TargetUnusable(f"API server answered {response.status} reading {what}")
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):   # RecursionError: JSON nested thousands deep
            raise TargetUnusable(f"API server at {self.server} answered {what} with something not JSON") from None
        if not isinstance(value, dict):
            raise TargetUnusable(f"API server at {self.server} answered {what} with JSON that is not an object")
        return value

    def _read_body(self, raw, what: str) -> bytes:
        """The response body, at most RESPONSE_LIMIT bytes (after decompression) and within the
        budget: one student's endless or huge answer costs that student, never the grader's memory.
        read1 returns what has arrived (read(n) would wait for n bytes), so a server that drips
        is checked against the deadline between pieces."""
        read = getattr(raw, "read1", None) or raw.read
        chunks, size, complete = [], 0, False
        try:
            while True:
                self.deadline.remaining(f"the end of its answer for {what}")
                block = read(1 << 16)
                if not block:
                    complete = True
                    break
                size += len(block)
                if size > RESPONSE_LIMIT:
                    raise TargetUnusable(f"API server at {self.server} answered {what} with more than "
                                         f"{RESPONSE_LIMIT >> 20} MiB (the grader reads at most that)")
                chunks.append(block)
        except TargetUnusable:
            raise
        except Exception as exc:
            raise TargetUnusable(f"cluster unreachable at {self.server}: {connection_problem(exc)}") from None
        finally:
            if complete:
                raw.release_conn()
            else:   # a half-read connection cannot be reused
                raw.close()
        return b"".join(chunks)

    def close(self):
        try:
            self.api.close()
        except Exception:   # closing pooled connections: nothing the grade depends on
            pass


def read_snapshot(conn: Connection, istio_namespace: str) -> Snapshot:
    """Everything the rubric scores except the sidecar's processes (see read_processes): the Pod
    and its events first, then the control plane the Pod belongs to (control_plane)."""
    snap = Snapshot(namespace=conn.namespace, istio_namespace=istio_namespace)
    ns, ins = conn.namespace, istio_namespace
    _read_into(conn, snap, [
        ("pod", f"/api/v1/namespaces/{ns}/pods/{POD}", None, f"Pod {ns}/{POD}"),
        ("events", f"/api/v1/namespaces/{ns}/events",
         [("fieldSelector", f"involvedObject.kind=Pod,involvedObject.name={POD}")], f"events in {ns}"),
    ])
    snap.revision, snap.revision_source = control_plane(conn, snap.pod)
    injector, mesh, istiod = snap.names()
    _read_into(conn, snap, [
        ("injector_configmap", f"/api/v1/namespaces/{ins}/configmaps/{injector}", None, f"ConfigMap {ins}/{injector}"),
        ("mesh_configmap", f"/api/v1/namespaces/{ins}/configmaps/{mesh}", None, f"ConfigMap {ins}/{mesh}"),
        ("istiod", f"/apis/apps/v1/namespaces/{ins}/deployments/{istiod}", None, f"Deployment {ins}/{istiod}"),
    ])
    if snap.revision:   # the RBAC names each revision's objects: say which command grants them
        for attr in ("injector_configmap", "mesh_configmap", "istiod"):
            if attr in snap.denied:
                snap.denied[attr] += f" (lab-grade rbac --revision {snap.revision})"
    return snap


def _read_into(conn: Connection, snap: Snapshot, reads: list) -> None:
    for attr, path, query, what in reads:
        try:
            value = conn.get(path, what, query)
        except PermissionError as exc:
            snap.denied[attr] = str(exc)
            continue
        setattr(snap, attr, (value or {}).get("items", []) if attr == "events" else value)


# A revision names objects (istiod-REV): a DNS label. Anything else (an odd answer) is not one.
_REVISION = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _revision(value) -> str | None:
    """A revision label's value as a revision ("" for `default`); None when it is none."""
    if not isinstance(value, str) or not _REVISION.fullmatch(value):
        return None
    return "" if value == "default" else value


def control_plane(conn: Connection, pod: dict | None) -> tuple[str, str]:
    """(revision, why) of the control plane a student's work belongs to: the Pod's istio.io/rev
    annotation (the injector writes it, `default` for the unrevisioned control plane), else its
    istio.io/rev label (which webhook injects a Pod; may name a tag), else the
    revision the default tag points at (one GET by name; absent or not readable: none), else the
    unrevisioned one. "" is the unrevisioned control plane."""
    metadata = pod.get("metadata") if isinstance(pod, dict) else None
    metadata = metadata if isinstance(metadata, dict) else {}
    for kind in ("annotations", "labels"):
        found = metadata.get(kind)
        value = found.get(REVISION_LABEL) if isinstance(found, dict) else None
        revision = _revision(value)
        if revision is not None:
            return revision, f"the Pod's {kind[:-1]} {REVISION_LABEL}={value}"
    try:
        tag = conn.get(f"/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/{DEFAULT_TAG_WEBHOOK}",
                       f"MutatingWebhookConfiguration {DEFAULT_TAG_WEBHOOK}")
    except PermissionError:
        return "", "no revision on the Pod; the default revision tag not readable (lab-grade rbac --revision grants it)"
    if tag is None:
        return "", "no revision on the Pod and no default revision tag"
    metadata = tag.get("metadata")
    labels = (metadata.get("labels") if isinstance(metadata, dict) else None) or {}
    revision = _revision(labels.get(REVISION_LABEL) if isinstance(labels, dict) else None)
    if not revision:
        return "", "no revision on the Pod; the default revision tag names the unrevisioned control plane"
    return revision, f"the default revision tag ({REVISION_LABEL}={revision})"


def read_processes(conn: Connection, kubectl: str) -> ProcessList:
    """`kubectl exec mywebserver -c istio-proxy -- ps -ef`, the lab's step 7, bounded by the budget."""
    t = conn.target
    left = conn.deadline.remaining("kubectl exec")
    argv = [kubectl, "--kubeconfig", str(t.kubeconfig), *(["--context", t.context] if t.context else []),
            "-n", conn.namespace, f"--request-timeout={max(1, int(left))}s",
            "exec", POD, "-c", "istio-proxy", "--", "ps", "-ef"]
    try:
        proc = children.run(argv, timeout=left)
    except OSError as exc:
        return ProcessList(False, "", f"cannot run kubectl: {exc.strerror or exc}")
    if proc.timed_out:
        raise TargetUnusable(f"time budget of {conn.deadline.seconds:g}s used up during kubectl exec")
    if proc.too_long:
        return ProcessList(False, "", f"kubectl exec printed more than {children.OUTPUT_LIMIT >> 20} MiB (stopped)")
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
