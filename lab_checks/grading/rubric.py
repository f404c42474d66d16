"""The checks a student's cluster is graded on, their points, and a one-line reason for each.

Each check scores a Snapshot (cluster_reads) with the lab suite's own expectations
(expectations.py, pod_status.py): all of its points or none, and a reason whenever points are
lost, written for the student. A check whose prerequisite is missing says "not checked: ..." and
what is missing, as the lab reports a step that could not run.

Checkpoints: `applied` (the Pod is up: the lab's steps 5 to 7) and `finished` (the lab was done
and cleaned up: step 9, seen through the events the Pod left).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import yaml

from lab_checks.expectations import (UnreadableConfig, check_sidecar, has_sidecar, injection_by_hand_problem,
                                    istio_config, istiod_readiness, sidecar_process_problems, started_containers)
from lab_checks.pod_status import pod_is_ready, ready_count, stuck_reason, unpullable_images
from lab_checks.steps import POD

from lab_checks.grading.cluster_reads import Snapshot


@dataclass(frozen=True)
class Outcome:
    passed: bool
    reason: str = ""    # why points were lost (empty when passed)
    note: str = ""      # said even when passed (e.g. a native sidecar)


PASS = Outcome(True)


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    points: int
    score: Callable[[Snapshot], Outcome]


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    points: int
    max_points: int
    reason: str = ""
    note: str = ""
    error: bool = False   # the target could not be graded at all (reason says why)

    @property
    def passed(self) -> bool:
        return self.points == self.max_points


def _fail(reason: str) -> Outcome:
    return Outcome(False, reason)


def _pod_missing(snap: Snapshot) -> str:
    return "not checked: " + ("the grader may not read the Pod" if "pod" in snap.denied else f"no Pod {POD}")


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------

def istio_ready(snap: Snapshot) -> Outcome:
    for attr in ("injector_configmap", "mesh_configmap", "istiod"):
        if attr in snap.denied:
            return _fail(snap.denied[attr])
    injector, mesh, istiod = snap.names()
    which = f" (revision {snap.revision}, from {snap.revision_source})" if snap.revision else ""
    missing = [name for name, cm in ((injector, snap.injector_configmap), (mesh, snap.mesh_configmap))
               if cm is None]
    if missing:
        return _fail(f"Istio is not installed: no ConfigMap {' and no '.join(missing)} in {snap.istio_namespace}{which}")
    ready, text = istiod_readiness(snap.istiod, [], snap.istio_namespace, istiod)
    if not ready:
        return _fail(text + which)
    return Outcome(True, note=f"control plane revision {snap.revision}, from {snap.revision_source}" if which else "")


def pod_running(snap: Snapshot) -> Outcome:
    if "pod" in snap.denied:
        return _fail(snap.denied["pod"])
    pod = snap.pod
    if pod is None:
        where = f"no Pod {POD} in namespace {snap.namespace}"
        if started_containers(snap.events):
            return _fail(f"{where}: its events show it ran and was deleted (grade checkpoint finished?)")
        return _fail(f"{where}: apply transformed.yaml")
    if pod_is_ready(pod) and ready_count(pod)[1] == 2:
        return PASS
    ready, total = ready_count(pod)
    reason = f"Pod {POD} is {pod.get('status', {}).get('phase', '?')} with {ready}/{total} containers ready, not Running 2/2"
    unpullable = unpullable_images(pod)
    stuck = stuck_reason(pod)
    if unpullable:
        name, image = unpullable[0]
        reason += f": {name} cannot pull its image {image}"
    elif not has_sidecar(pod):
        reason += ": it has no istio-proxy sidecar"
    elif stuck:
        reason += f": {stuck[:160]}"
    return _fail(reason)


def _istio(snap: Snapshot) -> tuple[dict | None, str]:
    """(Istio's configuration, "") or (None, why it cannot be used)."""
    if snap.injector_configmap is None or snap.mesh_configmap is None:
        return None, "Istio's injector configuration is missing or unreadable"
    try:
        return istio_config(snap.injector_configmap, snap.mesh_configmap), ""
    except UnreadableConfig as err:
        return None, str(err)


def sidecar_as_taught(snap: Snapshot) -> Outcome:
    if snap.pod is None:
        return _fail(_pod_missing(snap))
    istio, why = _istio(snap)
    if istio is None:
        return _fail(f"not checked: {why}")
    found = check_sidecar(snap.pod, istio)
    if found.wrong_shape:
        hint = ": apply transformed.yaml, not nginx-pod.yaml" if found.no_sidecar else ""
        return _fail(f"Pod {found.problems[0]}{hint}")
    if found.problems:
        return _fail("; ".join(found.problems))
    return Outcome(True, note=found.note)


def injected_by_hand(snap: Snapshot) -> Outcome:
    if snap.pod is None:
        return _fail(_pod_missing(snap))
    problem = injection_by_hand_problem(snap.pod)
    return _fail(problem) if problem else PASS


def processes_prerequisite(snap: Snapshot) -> str:
    """Why `ps -ef` in the sidecar is not worth running ("" when it is): the lab's step 7 follows step 6."""
    if snap.pod is None:
        return _pod_missing(snap)
    if not has_sidecar(snap.pod):
        return "not checked: the Pod has no istio-proxy sidecar"
    if not pod_is_ready(snap.pod):
        return "not checked: the Pod is not Running 2/2"
    return ""


def sidecar_processes(snap: Snapshot) -> Outcome:
    missing = processes_prerequisite(snap)
    if missing:
        return _fail(missing)
    ps = snap.processes
    if ps is None:
        return _fail("not checked: ps -ef was not run")
    if not ps.ok:
        return _fail(f"kubectl exec {POD} -c istio-proxy -- ps -ef failed: {ps.error}")
    problems = sidecar_process_problems(ps.output)
    return _fail("ps -ef in istio-proxy: " + "; ".join(problems)) if problems else PASS


def ran_with_sidecar(snap: Snapshot) -> Outcome:
    if "events" in snap.denied:
        return _fail(snap.denied["events"])
    if not snap.events:
        return _fail(f"no events of Pod {POD} in namespace {snap.namespace}: it did not run here "
                     "(or more than an hour ago: events expire)")
    started = started_containers(snap.events)
    missing = [name for name in (POD, "istio-proxy") if name not in started]
    if missing:
        return _fail(f"the events of Pod {POD} show no {' and no '.join(missing)} container started")
    return PASS


def deleted_after_running(snap: Snapshot) -> Outcome:
    if "pod" in snap.denied:
        return _fail(snap.denied["pod"])
    if snap.pod is not None:
        ready, total = ready_count(snap.pod)
        phase = snap.pod.get("status", {}).get("phase", "?")
        return _fail(f"Pod {POD} still exists ({phase}, {ready}/{total} ready): delete it with "
                     "kubectl delete -f transformed.yaml")
    if not snap.events and "events" not in snap.denied:
        return _fail(f"no Pod {POD} and no trace of one: nothing was cleaned up")
    return PASS


def files_as_injected(snap: Snapshot) -> Outcome:
    sub = snap.submission
    if sub is None:
        return _fail("no files submitted")
    for name, text in (("nginx-pod.yaml", sub.nginx_pod), ("transformed.yaml", sub.transformed)):
        if text is None:
            return _fail(f"no {name} among the submitted files")
    if sub.inject_error:
        return _fail(f"not checked: kubectl inject failed on the submitted nginx-pod.yaml: {sub.inject_error}")
    if sub.transformed == sub.injected or _same_yaml(sub.transformed, sub.injected):
        return PASS
    line = next((n for n, (a, b) in enumerate(zip(sub.transformed.splitlines() + [""], sub.injected.splitlines() + [""]), 1)
                 if a != b), 1)
    return _fail("transformed.yaml is not what kubectl inject makes of the submitted nginx-pod.yaml with this "
                 f"cluster's configuration (first difference at line {line})")


class _NoAliases(yaml.SafeLoader):
    """A manifest from kubectl inject has no aliases; a submitted one with aliases could make the
    comparison below exponential (a "billion laughs" shares nodes that == walks again and again)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases are not compared")
        return super().compose_node(parent, index)


def _same_yaml(a: str, b: str) -> bool:
    """Equal as YAML documents: reformatting by hand is not an error."""
    try:
        return ([d for d in yaml.load_all(a, Loader=_NoAliases) if d is not None]  # noqa: S506 - a safe loader
                == [d for d in yaml.load_all(b, Loader=_NoAliases) if d is not None])  # noqa: S506
    except (yaml.YAMLError, RecursionError, ValueError):   # ValueError: a constructor's (dates, huge ints)
        return False


ISTIO = Check("istio", "Istio installed, istiod ready", 1, istio_ready)
POD_RUNNING = Check("pod", f"Pod {POD} Running 2/2", 2, pod_running)
SIDECAR = Check("sidecar", "istio-proxy and istio-init as the lab injects them", 3, sidecar_as_taught)
BY_HAND = Check("by-hand", "injected by hand, applied with kubectl apply", 2, injected_by_hand)
PROCESSES = Check("processes", "pilot-agent (PID 1) and envoy run in the sidecar", 2, sidecar_processes)
RAN = Check("ran", f"Pod {POD} ran with its sidecar (events)", 2, ran_with_sidecar)
DELETED = Check("deleted", f"Pod {POD} deleted after running", 2, deleted_after_running)

# Only when submitted files are graded (a roster's `files` column, or --files): at either checkpoint.
FILES = Check("files", "transformed.yaml is kubectl inject's output for nginx-pod.yaml", 1, files_as_injected)

CHECKPOINTS: dict[str, tuple[Check, ...]] = {
    "applied": (ISTIO, POD_RUNNING, SIDECAR, BY_HAND, PROCESSES),
    "finished": (ISTIO, RAN, DELETED),
}


def score(checks: tuple[Check, ...], snap: Snapshot) -> list[CheckResult]:
    results = []
    for check in checks:
        outcome = check.score(snap)
        results.append(CheckResult(check.id, check.title, check.points if outcome.passed else 0, check.points,
                                   "" if outcome.passed else outcome.reason, outcome.note))
    return results


def ungradable(checks: tuple[Check, ...], reason: str) -> list[CheckResult]:
    """Every check at 0 with the same reason: the target could not be read."""
    return [CheckResult(c.id, c.title, 0, c.points, reason, error=True) for c in checks]
