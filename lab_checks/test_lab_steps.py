"""The sidecar-injection lab, step by step, run for real on a cluster with Istio.

Each test is one step of the lab (`lab_step(N)`: number, name, the lab's commands and the steps it
depends on are in steps.STEPS, and the test runs those commands verbatim); its docstring says what
the step is for and its assertions are what the student should see. `make verify-lab` runs them (see
README, "The lab suite"); lab_plugin.py orders them and reports a step whose prerequisite failed as
"not run".
"""
from __future__ import annotations

import json
import re
import shlex

import pytest
import yaml
from deepdiff import DeepDiff

from lab_checks.expectations import LAB_IPTABLES_ARGS, check_sidecar, sidecar_process_problems
from lab_checks.lab_drift import classify
from lab_checks.lab_plugin import StepFailed, record_statements
from lab_checks.labkit import diagnose_pod, last_line, wait_for
from lab_checks.pod_status import pod_is_ready, pod_summary, stuck_reason
from lab_checks.steps import POD

pytestmark = pytest.mark.lab


def must(res, what):
    if not res.ok:
        raise StepFailed(f"{what} failed (exit {res.returncode}): {last_line(res.stderr) or last_line(res.stdout)}",
                         res.describe())
    return res


def load_pod(path, what):
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except (OSError, yaml.YAMLError) as exc:
        raise StepFailed(f"{what} is not readable YAML: {exc}")
    pods = [d for d in docs if isinstance(d, dict) and d.get("kind") == "Pod"]
    if len(docs) != 1 or len(pods) != 1:
        kinds = [d.get("kind") if isinstance(d, dict) else type(d).__name__ for d in docs]
        raise StepFailed(f"{what} should hold one Pod, holds {kinds}", path.read_text()[:2000])
    return pods[0]


def judge(request, lab_step, observed, evidence=""):
    """Classifies the step's lab text statements (lab_text.py) on what it observed, for the reports.
    A drifted statement is a note; a broken one fails the step (after the step's own checks, which
    raise first with their more specific reason)."""
    broken = record_statements(request.node, classify(lab_step.number, observed))

    def fail_if_broken():
        if broken:
            raise StepFailed("lab text does not hold: " + "; ".join(f"{v.key}: {v.seen}" for v in broken),
                             evidence)
    return fail_if_broken


# --------------------------------------------------------------------------------------------

@pytest.mark.lab_step(1)
def test_1_generate_pod_manifest_with_kubectl_run(lab, lab_step, lab_state, request):
    """Generate the Pod manifest the lab transforms, without creating the Pod (client-side dry run)."""
    must(lab.sh(lab_step.command), "kubectl run")
    pod = load_pod(lab.workdir / "nginx-pod.yaml", "nginx-pod.yaml")
    statements_hold = judge(request, lab_step, pod)
    meta = pod.get("metadata", {})
    containers = pod.get("spec", {}).get("containers") or []
    problems = []
    if meta.get("name") != POD:
        problems.append(f"name is {meta.get('name')!r}, not {POD!r}")
    if meta.get("labels") != {"run": POD}:
        problems.append(f"labels are {meta.get('labels')}, not {{'run': 'mywebserver'}}")
    if [(c.get("name"), c.get("image")) for c in containers] != [(POD, "nginx")]:
        problems.append(f"containers are {[(c.get('name'), c.get('image')) for c in containers]}, "
                        f"not one container mywebserver with image nginx")
    if problems:
        raise StepFailed("nginx-pod.yaml: " + "; ".join(problems), (lab.workdir / "nginx-pod.yaml").read_text())
    statements_hold()
    lab_state["nginx_pod"] = pod


@pytest.mark.lab_step(2)
def test_2_kubectl_inject_help_shows_filename_and_output_flags(lab_shell, lab_step):
    """Show the plugin's usage: it lists -f/--filename and -o/--output."""
    res = must(lab_shell.sh(lab_step.command), "kubectl inject --help")
    missing = [flags for flags, pattern in (("-f/--filename", r"(?m)^\s*-f\b[^\n]*--filename\b"),
                                             ("-o/--output", r"(?m)^\s*-o\b[^\n]*--output\b"))
               if not re.search(pattern, res.stdout)]
    if missing:
        raise StepFailed(f"kubectl inject --help does not show {', '.join(missing)}", res.stdout)


@pytest.mark.lab_step(3)
def test_3_transform_with_the_cluster_istio_configuration(lab, lab_step, istio, lab_state, request):
    """Inject the sidecar into the manifest with the cluster's Istio configuration."""
    must(lab.sh(lab_step.command), "kubectl inject")
    text = (lab.workdir / "transformed.yaml").read_text()
    pod = load_pod(lab.workdir / "transformed.yaml", "transformed.yaml")
    original = lab_state["nginx_pod"]
    containers = pod.get("spec", {}).get("containers") or []
    statements_hold = judge(request, lab_step, pod, text[:4000])
    found = check_sidecar(pod, istio)
    if found.wrong_shape:
        raise StepFailed(f"transformed.yaml {found.problems[0]}", text[:3000])
    # A native sidecar (found.note) is reported as the sidecar-container statement's drift.
    lab_state["native_sidecar"] = found.native
    problems = list(found.problems)

    # Injection only adds: the original Pod, and its container above all, must be unchanged.
    diff = DeepDiff(original, pod, ignore_order=False, verbose_level=2, threshold_to_diff_deeper=0)
    not_added = {k: v for k, v in diff.items() if k not in ("dictionary_item_added", "iterable_item_added")}
    if not_added:
        problems.append(f"deepdiff against nginx-pod.yaml shows more than additions: {list(not_added)}")
    if containers[:1] != original["spec"]["containers"]:
        problems.append("the mywebserver container was changed")
    if problems:
        raise StepFailed("transformed.yaml: " + "; ".join(problems),
                         f"deepdiff (non-additions): {not_added}\n\n{text[:4000]}")
    statements_hold()
    lab_state["proxy_image"] = found.image
    lab_state["transformed"] = pod


@pytest.mark.lab_step(4)
def test_4_proxyv2_image_entrypoint_is_pilot_agent(lab, lab_step, lab_state, request):
    """Look at the proxyv2 image's configuration on the node: its entrypoint is pilot-agent."""
    image = lab_state["proxy_image"]
    if lab.node_container:
        where = f"node {lab.node_container}"
        inspecti = shlex.split(lab_step.command.format(image=image))
        inspect = lab.run("docker", "exec", lab.node_container, *inspecti)
        if not inspect.ok:
            # Not pulled yet: the node fetches it as it would for the Pod (through the cluster's mirror).
            pulled = lab.run("docker", "exec", lab.node_container, "crictl", "pull", image, timeout=600)
            if not pulled.ok:
                raise StepFailed(f"image {image} is not on {where} and the node cannot pull it: "
                                 f"{last_line(pulled.stderr)}", inspect.describe() + "\n" + pulled.describe())
            inspect = must(lab.run("docker", "exec", lab.node_container, *inspecti), f"crictl inspecti {image}")
        data = json.loads(inspect.stdout)
        config = (((data.get("info") or {}).get("imageSpec") or {}).get("config")) or {}
    else:
        where = "the local container engine"
        inspect = lab.run("docker", "image", "inspect", image)
        if not inspect.ok:
            raise StepFailed(f"cannot read the configuration of {image}: no kind node, and {where} says "
                             f"{last_line(inspect.stderr)}", inspect.describe())
        config = (json.loads(inspect.stdout)[0].get("Config")) or {}
    entrypoint = config.get("Entrypoint") or []
    statements_hold = judge(request, lab_step, entrypoint, f"image config: {config}")
    if not entrypoint or entrypoint[0].rsplit("/", 1)[-1] != "pilot-agent":
        raise StepFailed(f"{image} entrypoint is {entrypoint} (from {where}), not pilot-agent",
                         f"image config: {config}")
    statements_hold()


@pytest.mark.lab_step(5)
def test_5_apply_the_transformed_pod(lab, lab_step):
    """Create the Pod with its sidecar from the transformed manifest."""
    lab.pod_applied = True   # from here on cleanup must account for the Pod
    res = must(lab.sh(lab_step.command), "kubectl apply")
    if f"pod/{POD} created" not in res.stdout:
        raise StepFailed(f"kubectl apply did not create pod/{POD}: {last_line(res.stdout)}", res.describe())


@pytest.mark.lab_step(6)
def test_6_pod_is_running_with_2_of_2_ready(lab, lab_step, pytestconfig, request):
    """Wait until the Pod is Running with READY 2/2 (bounded by --lab-ready-timeout, default 120 s)."""
    timeout = pytestconfig.getoption("lab_ready_timeout")
    seen = {"stuck": 0, "table": ""}

    def check():
        pod = lab.get_json("pod", POD)
        if pod is None:
            return False, "Pod not found", True
        stuck = stuck_reason(pod)
        # Two polls in a row: a pull back-off or crash loop is not a passing hiccup.
        seen["stuck"] = seen["stuck"] + 1 if stuck else 0
        if not pod_is_ready(pod):
            return False, pod_summary(pod), seen["stuck"] >= 2
        # What the student looks at: kubectl's own READY and STATUS columns (below the header line).
        table = lab.sh(lab_step.command)
        seen["table"] = table.stdout
        cols = (table.stdout.splitlines()[1:] or [""])[0].split()
        state = f"READY {cols[1]} STATUS {cols[2]}" if len(cols) > 2 else last_line(table.stderr)
        return table.ok and cols[1:3] == ["2/2", "Running"], state, False

    ready, state, waited = wait_for(f"Pod {POD} Running 2/2", check, timeout, lab.progress)
    if not ready:
        reason, details = diagnose_pod(lab, POD, waited, "Running 2/2")
        raise StepFailed(reason, details)
    judge(request, lab_step, seen["table"], seen["table"])()


@pytest.mark.lab_step(7)
def test_7_sidecar_runs_pilot_agent_and_envoy(lab, lab_step, request):
    """List the sidecar's processes: pilot-agent as PID 1, Envoy as its child."""
    res = lab.sh(lab_step.command)
    if not res.ok:
        reason, details = diagnose_pod(lab, POD, 0, "Running 2/2")
        raise StepFailed(f"kubectl exec failed: {last_line(res.stderr)}; {reason}", res.describe() + "\n" + details)
    statements_hold = judge(request, lab_step, res.stdout, res.stdout)
    problems = sidecar_process_problems(res.stdout)
    if problems:
        raise StepFailed("ps -ef in istio-proxy: " + "; ".join(problems), res.stdout)
    statements_hold()


@pytest.mark.lab_step(8)
def test_8_pilot_agent_help_inside_the_sidecar(lab, lab_step, request):
    """Read pilot-agent's help inside the sidecar, and that of its istio-iptables command."""
    agent_help, iptables_help = lab_step.commands
    agent = lab.sh(agent_help)
    if not agent.ok:
        raise StepFailed(f"pilot-agent --help failed (exit {agent.returncode}): {last_line(agent.stderr)}",
                         agent.describe())
    problems = []
    commands = re.search(r"Available Commands:\n((?:[ \t]+\S.*\n)+)", agent.stdout)
    listed = [ln.split()[0] for ln in commands.group(1).splitlines()] if commands else []
    for sub in ("proxy", "istio-iptables"):
        if sub not in listed:
            problems.append(f"pilot-agent --help lists no {sub} command (lists {listed})")
    ipt = lab.sh(iptables_help)
    if not ipt.ok:
        raise StepFailed(f"pilot-agent istio-iptables --help failed (exit {ipt.returncode}): {last_line(ipt.stderr)}",
                         ipt.describe())
    statements_hold = judge(request, lab_step, ipt.stdout, ipt.stdout)
    # Every flag istio-init is started with (step 3) must be one istio-iptables documents.
    flags = sorted({a for a in LAB_IPTABLES_ARGS if re.fullmatch(r"-[a-z]", a)})
    undocumented = [f for f in flags if not re.search(rf"(?m)^\s*{f}, --", ipt.stdout)]
    if undocumented:
        problems.append(f"istio-iptables --help does not document {undocumented}")
    if problems:
        raise StepFailed("; ".join(problems), agent.stdout + "\n" + ipt.stdout)
    statements_hold()


@pytest.mark.lab_step(9)
def test_9_delete_the_pod(lab, lab_step, pytestconfig, request):
    """Clean up: the Pod is gone within --lab-delete-timeout."""
    timeout = pytestconfig.getoption("lab_delete_timeout")
    res = lab.sh(lab_step.command, timeout=timeout)
    if not res.ok:
        if "NotFound" in res.stderr and lab.get_json("pod", POD) is None:
            # The lab's command errs only because the Pod is already gone: the outcome holds.
            request.node.user_properties.append(("note", "Pod was already gone before cleanup (kubectl delete: NotFound)"))
            return
        raise StepFailed(f"kubectl delete failed: {last_line(res.stderr)}", res.describe())

    def check():
        pod = lab.get_json("pod", POD)
        return pod is None, ("gone" if pod is None else pod_summary(pod)), False

    gone, state, waited = wait_for(f"Pod {POD} to disappear", check, timeout, lab.progress)
    if not gone:
        reason, details = diagnose_pod(lab, POD, waited, "deleted")
        raise StepFailed(f"Pod still there {waited:.0f}s after kubectl delete: {reason}", details)
