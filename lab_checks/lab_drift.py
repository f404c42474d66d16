"""Classifies the lab text's statements (lab_text.STATEMENTS) against what a step really shows.

  holds    students see what the text says;
  drifted  the lab still works, but students see something else (`seen` says what);
  broken   the step's outcome is wrong: the suite fails that step.

Each step hands in its one observation (step 1 and 3: the Pod manifest; 4: the image entrypoint;
6: `kubectl get pod` output; 7: `ps -ef` output; 8: `pilot-agent istio-iptables --help` output).
The verify-lab steps, the offline report (lab_drift_report.py) and the tests share this code, so
"drifted" means the same everywhere. Where the suite already has a check (expectations.py), broken
here is decided by that same check.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import asdict, dataclass

from lab_checks.expectations import by_name, sidecar_process_problems
from lab_checks.lab_text import (BY_KEY, LAB_CONCURRENCY_ARGS, LAB_ENTRYPOINT, LAB_IPTABLES_ARGS, LAB_IPTABLES_LOG_ARGS,
                      LAB_IPTABLES_LONG_FLAGS, LAB_PROXY_ARGS, LAB_PROXY_LOG_ARGS, LAB_READY_ROW, PILOT_AGENT_CMD,
                      PROXY_REPOSITORY, of_step)
from lab_checks.steps import POD

HOLDS, DRIFTED, BROKEN = "holds", "drifted", "broken"


@dataclass(frozen=True)
class Verdict:
    key: str
    step: int
    text: str
    status: str
    seen: str = ""     # what students see instead (drifted) or what is wrong (broken)

    def as_dict(self) -> dict:
        return asdict(self)


def classify(step: int, observed) -> list[Verdict]:
    """The verdict on each statement of `step` from what the step observed."""
    out = []
    for s in of_step(step):
        status, seen = _CLASSIFIERS[s.key](observed)
        out.append(Verdict(s.key, s.step, s.text, status, seen))
    return out


def unchecked(step: int, why: str) -> list[Verdict]:
    """The step ended before it could look (the step failed): its statements are broken, saying why."""
    return [Verdict(s.key, s.step, s.text, BROKEN, why) for s in of_step(step)]


# --------------------------------------------------------------------------------------------
# The Pod manifests (steps 1 and 3)
# --------------------------------------------------------------------------------------------

def _generated_pod(pod):
    meta = pod.get("metadata", {})
    containers = [(c.get("name"), c.get("image")) for c in pod.get("spec", {}).get("containers") or []]
    problems = []
    if meta.get("name") != POD:
        problems.append(f"name is {meta.get('name')!r}")
    if meta.get("labels") != {"run": POD}:
        problems.append(f"labels are {meta.get('labels')}")
    if containers != [(POD, "nginx")]:
        problems.append(f"containers are {containers}")
    return (BROKEN, "; ".join(problems)) if problems else (HOLDS, "")


def _proxy(pod):
    """(istio-proxy container, where it is: 'container' | 'native' | None)."""
    spec = pod.get("spec", {})
    containers = spec.get("containers") or []
    if [c.get("name") for c in containers][1:2] == ["istio-proxy"]:
        return containers[1], "container"
    native = by_name(spec.get("initContainers"), "istio-proxy")
    if native is not None and native.get("restartPolicy") == "Always":
        return native, "native"
    return by_name(containers, "istio-proxy"), None


def _sidecar_container(pod):
    proxy, where = _proxy(pod)
    if where == "container":
        return HOLDS, ""
    if where == "native":
        inits = [c.get("name") for c in pod["spec"].get("initContainers") or []]
        return DRIFTED, (f"istio-proxy is a native sidecar: an init container with restartPolicy: Always "
                         f"(initContainers {inits}), the Pod has one container; READY still counts 2/2")
    names = [c.get("name") for c in pod.get("spec", {}).get("containers") or []]
    return BROKEN, f"no istio-proxy sidecar where the lab puts it (containers {names})"


def _repository(image: str) -> str:
    """istio/proxyv2 from docker.io/istio/proxyv2:1.22.0 or localhost:5001/istio/proxyv2:1.30.4-x."""
    path = image.split("@", 1)[0]
    if ":" in path.rsplit("/", 1)[-1]:
        path = path.rsplit(":", 1)[0]
    return "/".join(path.split("/")[-2:])


def _proxy_image(pod):
    proxy, _ = _proxy(pod)
    if proxy is None:
        return BROKEN, "no istio-proxy container"
    image = proxy.get("image") or ""
    if _repository(image) == PROXY_REPOSITORY:
        return HOLDS, ""
    return DRIFTED, f"image {image}"


def _args(container) -> list[str]:
    return [str(a) for a in (container or {}).get("args") or []]


def _proxy_args(pod):
    proxy, _ = _proxy(pod)
    if proxy is None:
        return BROKEN, "no istio-proxy container"
    args = _args(proxy)
    if args[:4] != LAB_PROXY_ARGS:
        return BROKEN, f"args begin {shlex.join(args[:4])}"
    if args[4:4 + len(LAB_PROXY_LOG_ARGS)] == LAB_PROXY_LOG_ARGS:
        return HOLDS, ""
    tail = [a for a in args[4:] if a.startswith("--") and not a.startswith("--concurrency")]
    return DRIFTED, "args " + shlex.join(LAB_PROXY_ARGS + tail)


def _proxy_concurrency(pod):
    proxy, _ = _proxy(pod)
    if proxy is None:
        return BROKEN, "no istio-proxy container"
    args = _args(proxy)
    pairs = [args[i:i + 2] for i in range(len(args))]
    if LAB_CONCURRENCY_ARGS in pairs:
        return HOLDS, ""
    given = next((p for p in pairs if p[0] == "--concurrency" or p[0].startswith("--concurrency=")), None)
    if given:
        return DRIFTED, f"{shlex.join(given)} instead"
    return DRIFTED, f"absent: no --concurrency in the args, which end with {shlex.join(args[-1:])}"


def _init_container(pod):
    init = by_name(pod.get("spec", {}).get("initContainers"), "istio-init")
    names = [c.get("name") for c in pod.get("spec", {}).get("initContainers") or []]
    if init is None:
        return BROKEN, f"no init container istio-init (init containers: {names})"
    proxy, _ = _proxy(pod)
    if proxy is not None and init.get("image") != proxy.get("image"):
        return BROKEN, f"istio-init runs {init.get('image')}, istio-proxy {proxy.get('image')}"
    return HOLDS, ""


def _iptables_args(pod):
    init = by_name(pod.get("spec", {}).get("initContainers"), "istio-init")
    if init is None:
        return BROKEN, "no init container istio-init"
    args = _args(init)
    if args[:len(LAB_IPTABLES_ARGS)] != LAB_IPTABLES_ARGS:
        return BROKEN, f"args {shlex.join(args)}"
    if args[len(LAB_IPTABLES_ARGS):] == LAB_IPTABLES_LOG_ARGS:
        return HOLDS, ""
    return DRIFTED, f"args {shlex.join(args)}"


# --------------------------------------------------------------------------------------------
# The image and the running sidecar (steps 4, 6, 7, 8)
# --------------------------------------------------------------------------------------------

def _entrypoint(entrypoint):
    entrypoint = list(entrypoint or [])
    if entrypoint == LAB_ENTRYPOINT:
        return HOLDS, ""
    if entrypoint and entrypoint[0].rsplit("/", 1)[-1] == "pilot-agent":
        return DRIFTED, f"entrypoint {entrypoint}"
    return BROKEN, f"entrypoint {entrypoint}"


def _ready(table: str):
    rows = (table or "").splitlines()[1:]
    cols = rows[0].split() if rows else []
    if cols[:3] == LAB_READY_ROW:
        return HOLDS, ""
    return BROKEN, f"kubectl get pod shows {' '.join(cols[:3]) or 'no row'}"


def _processes(ps_output: str):
    problems = sidecar_process_problems(ps_output or "")
    if problems:
        return BROKEN, "; ".join(problems)
    pid1 = next((ln.split(None, 7)[7] for ln in ps_output.splitlines()[1:]
                 if len(ln.split(None, 7)) == 8 and ln.split()[1] == "1"), "")
    if not pid1.startswith(PILOT_AGENT_CMD + " --domain"):
        return DRIFTED, f"PID 1 is {pid1}"
    return HOLDS, ""


def documented_long_flags(help_text: str) -> dict[str, str]:
    """{short: long} of the `-p, --envoy-port ...` lines of a cobra --help."""
    return dict(re.findall(r"(?m)^\s*(-[A-Za-z]), (--[\w-]+)", help_text or ""))


def _iptables_long_flags(help_text: str):
    documented = documented_long_flags(help_text)
    missing = [s for s in LAB_IPTABLES_LONG_FLAGS if s not in documented]
    if missing:
        return BROKEN, f"istio-iptables --help does not document {missing}"
    renamed = [f"{s}, {documented[s]} (not {long})" for s, long in LAB_IPTABLES_LONG_FLAGS.items()
               if documented[s] != long]
    return (DRIFTED, "; ".join(renamed)) if renamed else (HOLDS, "")


_CLASSIFIERS = {
    "generated-pod": _generated_pod,
    "sidecar-container": _sidecar_container,
    "proxy-image": _proxy_image,
    "proxy-args": _proxy_args,
    "proxy-concurrency": _proxy_concurrency,
    "init-container": _init_container,
    "iptables-args": _iptables_args,
    "entrypoint": _entrypoint,
    "ready": _ready,
    "processes": _processes,
    "iptables-long-flags": _iptables_long_flags,
}
assert set(_CLASSIFIERS) == set(BY_KEY), "every lab_text statement needs a classifier"


# --------------------------------------------------------------------------------------------
# The "Lab text drift" Markdown section
# --------------------------------------------------------------------------------------------

NOT_CHECKED = "not checked"   # a statement of a step that did not run (lab_plugin)
_MARK = {HOLDS: "holds", DRIFTED: "**drifted**", BROKEN: "**BROKEN**", NOT_CHECKED: "not checked"}


def markdown(sections: list[tuple[str, list[dict]]]) -> str:
    """'## Lab text drift' with one table per (heading, verdicts as dicts), pasteable as is."""
    lines = ["## Lab text drift", ""]
    for heading, verdicts in sections:
        drifted = sum(v["status"] == DRIFTED for v in verdicts)
        broken = sum(v["status"] == BROKEN for v in verdicts)
        unchecked = sum(v["status"] == NOT_CHECKED for v in verdicts)
        lines += [f"### {heading}", "",
                  f"{len(verdicts)} statements: {len(verdicts) - drifted - broken - unchecked} hold, {drifted} drifted, "
                  f"{broken} broken" + (f", {unchecked} not checked (their step did not run)." if unchecked else "."), "",
                  "| step | the lab text says | status | students see instead |", "| --- | --- | --- | --- |"]
        for v in verdicts:
            seen = v["seen"].replace("|", "\\|") if v["status"] != HOLDS else ""
            text = v["text"].replace("|", "\\|")
            lines.append(f"| {v['step']} | {text} | {_MARK[v['status']]} | {seen} |")
        lines.append("")
    return "\n".join(lines)
