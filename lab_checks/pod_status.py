"""A Pod's status read as kubectl reads it (STATUS and READY columns, why a container waits).

Pure functions on a Pod as the API returns it (`kubectl get pod -o json`). The lab suite
(labkit, test_lab_steps.py) and the grader (lab_checks.grading) both read Pods through these, so a
student and the lab see the same words for the same state.
"""
from __future__ import annotations


def container_state(status: dict) -> tuple[str, str]:
    """(short state, reason/message) of one containerStatuses entry."""
    state = status.get("state") or {}
    if "waiting" in state:
        w = state["waiting"]
        return "waiting", f"{w.get('reason', '')}{': ' + w['message'] if w.get('message') else ''}"
    if "terminated" in state:
        t = state["terminated"]
        return "terminated", (f"{t.get('reason', '')} exit {t.get('exitCode')}"
                              f"{': ' + t['message'] if t.get('message') else ''}")
    if "running" in state:
        return "running", "ready" if status.get("ready") else "not ready"
    return "unknown", ""


def sidecar_names(pod: dict) -> set:
    """Native sidecars: init containers that keep running (restartPolicy: Always)."""
    return {c["name"] for c in pod.get("spec", {}).get("initContainers") or [] if c.get("restartPolicy") == "Always"}


def ready_count(pod: dict) -> tuple[int, int]:
    """(ready, total) as kubectl's READY column counts them: containers plus native sidecars."""
    st = pod.get("status", {})
    sidecars = sidecar_names(pod)
    total = len(pod.get("spec", {}).get("containers", [])) + len(sidecars)
    ready = sum(1 for c in st.get("containerStatuses") or [] if c.get("ready"))
    ready += sum(1 for c in st.get("initContainerStatuses") or [] if c["name"] in sidecars and c.get("ready"))
    return ready, total


def pod_summary(pod: dict) -> str:
    """Like kubectl get pod's STATUS and READY columns: 'Running 1/2'."""
    st = pod.get("status", {})
    cs = st.get("containerStatuses") or []
    ready, total = ready_count(pod)
    phase = st.get("phase", "?")
    for c in (st.get("initContainerStatuses") or []):
        if c["name"] in sidecar_names(pod) and c.get("started"):
            continue
        s, why = container_state(c)
        if s == "waiting" and why:
            phase = f"Init:{why.split(':')[0]}"
        elif s == "terminated" and not why.startswith("Completed"):
            phase = f"Init:{why.split(':')[0]}"
    for c in cs:
        s, why = container_state(c)
        if s == "waiting" and why and not why.startswith("PodInitializing"):
            phase = why.split(":")[0]
    return f"{phase} {ready}/{total}"


def pod_is_ready(pod: dict) -> bool:
    ready, total = ready_count(pod)
    return pod.get("status", {}).get("phase") == "Running" and total > 0 and ready == total


# Waiting reasons that do not go away by themselves: the Pod will not become ready without a change.
STUCK_REASONS = {"ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError",
                 "CreateContainerError", "CrashLoopBackOff", "RunContainerError"}
# Of those, the ones that mean "this image cannot be had": the node alternates between the two pull
# reasons, so a reason meant to be stable names the image instead of the current one.
IMAGE_PULL_REASONS = {"ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName"}


def stuck_reason(pod: dict) -> str | None:
    st = pod.get("status", {})
    for c in (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or []):
        w = (c.get("state") or {}).get("waiting") or {}
        if w.get("reason") in STUCK_REASONS:
            return f"{c['name']}: {w['reason']}{': ' + w['message'] if w.get('message') else ''}"
    return None


def unpullable_images(pod: dict) -> list[tuple[str, str]]:
    """(container, image) of every container the node cannot pull the image of, in Pod order."""
    st = pod.get("status", {})
    found = []
    for c in (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or []):
        w = (c.get("state") or {}).get("waiting") or {}
        if w.get("reason") in IMAGE_PULL_REASONS:
            found.append((c["name"], c.get("image", "?")))
    return found
