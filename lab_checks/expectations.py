"""What the sidecar-injection lab expects to see, as pure functions on what the cluster returns.

One source of truth for "correct": the lab suite (test_lab_steps.py, conftest.py, labkit.py)
asserts its steps with these, and the grader (lab_checks.grading) scores student clusters with the same
functions. Each returns problems as short sentences (empty when all is as the lab teaches), so a
step's reason and a grade's reason are the same words.
"""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

import yaml

# The lab's values (arguments, commands) are lab_text.py's: the drift report quotes the same ones.
from lab_checks.lab_text import ENVOY_CMD, LAB_IPTABLES_ARGS, LAB_PROXY_ARGS, PILOT_AGENT_CMD  # noqa: F401
from lab_checks.pod_status import pod_summary
from lab_checks.steps import POD

# Written by Istio's injector (kubectl inject, istioctl kube-inject, the webhook) on every injected Pod.
SIDECAR_STATUS_ANNOTATION = "sidecar.istio.io/status"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
NATIVE_SIDECAR_NOTE = ("istio-proxy is a native sidecar (initContainers, restartPolicy: Always), "
                       "not a second container as the lab text says")


def by_name(items, name):
    for item in items or []:
        if item.get("name") == name:
            return item
    return None


# --------------------------------------------------------------------------------------------
# Istio's configuration in the cluster
# --------------------------------------------------------------------------------------------

# Istio's control plane by revision (issue 24): a revision REV has istio-sidecar-injector-REV,
# istio-REV and istiod-REV; the default revision tag is the MutatingWebhookConfiguration below,
# whose istio.io/rev label names the revision (as istioctl and Istio's default-revision watcher
# read it).
REVISION_LABEL = "istio.io/rev"
DEFAULT_TAG_WEBHOOK = "istio-revision-tag-default"


def control_plane_names(revision: str) -> tuple[str, str, str]:
    """(injector ConfigMap, mesh ConfigMap, istiod Deployment) of a revision ("" the unrevisioned one)."""
    suffix = f"-{revision}" if revision else ""
    return f"istio-sidecar-injector{suffix}", f"istio{suffix}", f"istiod{suffix}"


class UnreadableConfig(ValueError):
    """Istio's ConfigMaps hold something the injector could not read either (one line saying where)."""


def istio_config(injector_configmap: dict, mesh_configmap: dict) -> dict:
    """The injector's values and templates and the mesh config, from the two ConfigMaps Istio
    installs (istio-sidecar-injector, istio): {values, injector_config, templates, mesh}.
    Raises UnreadableConfig when a piece is not the JSON/YAML mapping Istio writes there."""
    def piece(configmap: dict, key: str, parse):
        name = (configmap.get("metadata") or {}).get("name", "?")
        text = (configmap.get("data") or {}).get(key) or "{}"
        try:
            value = parse(text) or {}
        except (ValueError, yaml.YAMLError) as err:
            first = " ".join(str(err).split())[:160]
            raise UnreadableConfig(f"ConfigMap {name} key '{key}' is not readable: {first}") from None
        if not isinstance(value, dict):
            raise UnreadableConfig(f"ConfigMap {name} key '{key}' is a {type(value).__name__}, not a mapping")
        return value
    values = piece(injector_configmap, "values", json.loads)
    injector = piece(injector_configmap, "config", yaml.safe_load)
    mesh = piece(mesh_configmap, "mesh", yaml.safe_load)
    return {"values": values, "injector_config": injector, "templates": injector.get("templates") or {},
            "mesh": mesh}


def proxy_image(values: dict) -> str:
    """The sidecar image the cluster's injector values name, as Istio's injector composes it:
    global.proxy.image itself when it holds a '/', else <hub>/<image>:<tag>[-<variant>]."""
    g = values.get("global", {})
    image = (g.get("proxy") or {}).get("image") or "proxyv2"
    if "/" in image:
        return image
    tag = str(g.get("tag", ""))
    variant = g.get("variant") or ""
    return f"{g.get('hub')}/{image}:{tag}{'-' + variant if variant and variant != 'default' else ''}"


def istiod_readiness(deployment: dict | None, pods: list[dict], namespace: str,
                     name: str = "istiod") -> tuple[bool, str]:
    """(ready, description) of istiod (istiod-REV for a revision) from its Deployment (and its
    Pods, when the caller read them)."""
    if deployment is None:
        return False, f"no Deployment {name} in namespace {namespace} (Istio not installed?)"
    spec = deployment.get("spec", {}).get("replicas", 1)
    ready = deployment.get("status", {}).get("readyReplicas", 0) or 0
    text = f"{name} {ready}/{spec} replicas ready"
    if spec == 0:
        text += " (scaled to zero)"
    for p in pods:
        text += f"; pod {p['metadata']['name']} {pod_summary(p)}"
    return (ready >= 1 and ready >= spec), text


# --------------------------------------------------------------------------------------------
# The injected Pod (step 3's transformed.yaml, or the Pod a student applied)
# --------------------------------------------------------------------------------------------

@dataclass
class SidecarCheck:
    """What check_sidecar found. `wrong_shape`: the containers are not the lab's (the one problem
    then), `no_sidecar` when istio-proxy is nowhere; `native`: istio-proxy is a native sidecar,
    which the lab accepts with `note`."""
    problems: list[str] = field(default_factory=list)
    wrong_shape: bool = False
    no_sidecar: bool = False
    native: bool = False
    note: str = ""
    image: str = ""


def check_sidecar(pod: dict, istio: dict) -> SidecarCheck:
    """The sidecar as the lab teaches it: istio-proxy second container (or a native sidecar) and
    istio-init, both on the cluster's proxyv2 image, with the lab's arguments and the flags the
    cluster's sidecar template adds."""
    spec = pod.get("spec", {})
    containers = spec.get("containers") or []
    image = proxy_image(istio["values"])
    found = SidecarCheck(image=image)
    problems = found.problems

    names = [c.get("name") for c in containers]
    inits = spec.get("initContainers") or []
    init_names = [c.get("name") for c in inits]
    native = by_name(inits, "istio-proxy")
    if native is not None and native.get("restartPolicy") == "Always" and names == [POD]:
        # Istio >= 1.27 with Kubernetes >= 1.33 injects a native sidecar: the same istio-proxy, as an
        # init container that keeps running (restartPolicy: Always). kubectl still shows READY 2/2
        # and `kubectl exec -c istio-proxy` works, so the lab's later steps hold; its text differs.
        proxy = native
        found.native, found.note = True, NATIVE_SIDECAR_NOTE
        if init_names[:2] != ["istio-init", "istio-proxy"]:
            problems.append(f"init containers are {init_names}, expected istio-init then istio-proxy")
    elif names != [POD, "istio-proxy"]:
        found.no_sidecar = "istio-proxy" not in names + init_names
        problems.append(f"containers are {names}, not [mywebserver, istio-proxy]"
                        + (": no sidecar was injected" if found.no_sidecar else ""))
        # Nothing else can be checked without the sidecar where the lab puts it.
        found.wrong_shape = True
        return found
    else:
        proxy = containers[1]
    if proxy.get("image") != image:
        problems.append(f"istio-proxy image is {proxy.get('image')}, the cluster's proxyv2 image is {image}")
    args = [str(a) for a in proxy.get("args") or []]
    if args[:4] != LAB_PROXY_ARGS:
        problems.append(f"istio-proxy args begin {args[:4]}, not {LAB_PROXY_ARGS}")

    # The flags the cluster's sidecar template asks for, with the values of the cluster's config.
    g = istio["values"].get("global", {})
    template = str(istio["templates"].get("sidecar", ""))
    wanted = {"--proxyLogLevel": (g.get("proxy") or {}).get("logLevel"),
              "--proxyComponentLogLevel": (g.get("proxy") or {}).get("componentLogLevel"),
              "--log_output_level": (g.get("logging") or {}).get("level")}
    for flag, value in wanted.items():
        if flag in template and f"{flag}={value}" not in args:
            problems.append(f"istio-proxy args lack {flag}={value} (injector values)")
    if "--concurrency" in template:
        conc = ((istio["mesh"].get("defaultConfig") or {}).get("concurrency"))
        conc = 2 if conc is None else conc   # Istio's default ProxyConfig
        if conc and ["--concurrency", str(conc)] not in [args[i:i + 2] for i in range(len(args))]:
            problems.append(f"istio-proxy args lack --concurrency {conc} (mesh defaultConfig)")
    elif "--concurrency" in args:
        problems.append("istio-proxy args carry --concurrency although the cluster's template has none")

    init = by_name(inits, "istio-init")
    if init is None:
        problems.append(f"no init container istio-init (init containers: {init_names})")
    else:
        if init.get("image") != image:
            problems.append(f"istio-init image is {init.get('image')}, not {image}")
        iargs = [str(a) for a in init.get("args") or []]
        if iargs[:len(LAB_IPTABLES_ARGS)] != LAB_IPTABLES_ARGS:
            problems.append(f"istio-init args are {shlex.join(iargs)}, the lab shows "
                            f"{shlex.join(LAB_IPTABLES_ARGS)} ...")
    return found


def has_sidecar(pod: dict) -> bool:
    """istio-proxy anywhere in the Pod (container or native sidecar)."""
    spec = pod.get("spec", {})
    return by_name((spec.get("containers") or []) + (spec.get("initContainers") or []), "istio-proxy") is not None


def injection_by_hand_problem(pod: dict) -> str:
    """Empty when the Pod was injected by hand and applied with `kubectl apply`, as the lab teaches:
    the configuration kubectl apply recorded (last-applied-configuration) already holds the sidecar.
    A Pod the webhook injected records the plain manifest it was given."""
    annotations = pod.get("metadata", {}).get("annotations") or {}
    recorded = annotations.get(LAST_APPLIED_ANNOTATION)
    if recorded is None:
        return "not created with kubectl apply (no last-applied-configuration: kubectl create or run?)"
    try:
        applied = json.loads(recorded)
    except ValueError:
        return "its last-applied-configuration is not JSON"
    if has_sidecar(applied) and SIDECAR_STATUS_ANNOTATION in ((applied.get("metadata") or {}).get("annotations") or {}):
        return ""
    if has_sidecar(pod):
        return ("the sidecar was added by Istio's webhook (namespace label istio-injection=enabled), "
                "not by kubectl inject: apply transformed.yaml")
    return "kubectl apply was given a Pod without a sidecar (nginx-pod.yaml?): apply transformed.yaml"


# --------------------------------------------------------------------------------------------
# Inside the sidecar and around the Pod
# --------------------------------------------------------------------------------------------

def sidecar_process_problems(ps_output: str) -> list[str]:
    """`ps -ef` in istio-proxy: pilot-agent is PID 1 and Envoy its child."""
    procs = []
    for line in ps_output.strip().splitlines()[1:]:   # UID PID PPID C STIME TTY TIME CMD
        parts = line.split(None, 7)
        if len(parts) == 8 and parts[1].isdigit():
            procs.append({"pid": int(parts[1]), "ppid": int(parts[2]), "cmd": parts[7]})
    problems = []
    pid1 = next((p for p in procs if p["pid"] == 1), None)
    if pid1 is None or not pid1["cmd"].startswith(PILOT_AGENT_CMD):
        problems.append(f"PID 1 is {pid1['cmd'] if pid1 else 'missing'!r}, not {PILOT_AGENT_CMD} ...")
    envoy = [p for p in procs if p["cmd"].startswith(ENVOY_CMD)]
    if not envoy:
        problems.append(f"no process {ENVOY_CMD} ...")
    elif envoy[0]["ppid"] != 1:
        problems.append(f"envoy's parent is PID {envoy[0]['ppid']}, not 1 (pilot-agent)")
    return problems


def started_containers(events: list[dict]) -> set[str]:
    """Containers the kubelet reported started in a Pod's events (`Started`, field path
    spec.containers{name} or spec.initContainers{name}): the Pod's life, which outlasts the Pod."""
    names = set()
    for e in events:
        path = (e.get("involvedObject") or {}).get("fieldPath") or ""
        if e.get("reason") == "Started" and "{" in path:
            names.add(path[path.index("{") + 1:path.rindex("}")])
    return names
