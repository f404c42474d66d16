"""pytest plugin for the lab self-tests (test_lab_selftests.py): breaks the cluster in the middle of a
lab run, between two steps, the way a student or a flaky cluster could, or stops the run at a known
point so that the self-test can break something there.

Loaded only by the self-tests: `pytest -p lab_checks.lab_sabotage` with
LAB_SABOTAGE set to one of

  delete-pod-before:<N>   deletes the lab Pod (and waits until it is gone) just before step N starts;
  pause-before:<N>        pauses at the start of step N, before its first command;
  pause-in:<N>            pauses inside step N, right after its first command returned (step 5: the
                          Pod has just been applied; step 9: its deletion has just been asked for).

A pause writes the step's number to $LAB_SABOTAGE_DIR/paused and waits until
$LAB_SABOTAGE_DIR/resume exists (at most LAB_SABOTAGE_WAIT seconds, default 300, then the step
errs). While it waits the self-test does its part: cuts the API server off, or sends SIGINT; the
run is then deterministic, whatever the machine's speed. The pause is in the step's own call (its
fixtures are set up), so an interrupt there is an interrupt of that step.
"""
import os
import time
from pathlib import Path

import pytest

from lab_checks.lab_plugin import lab_run, step_of
from lab_checks.steps import POD


def _what(item):
    """(action, step number) of LAB_SABOTAGE when it concerns this item's step, else None."""
    spec = os.environ.get("LAB_SABOTAGE", "")
    action, _, number = spec.partition(":")
    step = step_of(item)
    if step is None or not number or str(step.number) != number:
        return None
    return action


def pause(step_number: int):
    where = Path(os.environ["LAB_SABOTAGE_DIR"])
    marker = where / "paused"
    tmp = where / "paused.tmp"
    tmp.write_text(f"{step_number}\n")
    tmp.replace(marker)
    deadline = time.monotonic() + float(os.environ.get("LAB_SABOTAGE_WAIT", "300"))
    while not (where / "resume").exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"sabotage: paused at step {step_number}, nobody resumed")
        time.sleep(0.05)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if _what(item) != "delete-pod-before":
        return
    lab = lab_run(item.config).shell
    if lab is None:
        return
    res = lab.kubectl("delete", "pod", POD, "--wait=true", "--timeout=90s", timeout=120)
    # Not part of the step: keep the step's own command log clean.
    lab.log.clear()
    if not res.ok:
        raise RuntimeError(f"sabotage could not delete the Pod: {res.stderr}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    action = _what(item)
    number = step_of(item).number if action else None
    if action == "pause-before":
        pause(number)
    lab = lab_run(item.config).shell
    if action != "pause-in" or lab is None:
        return (yield)
    # The step's first command goes through Lab._sh, whichever helper runs it (sh, run, kubectl,
    # get_json); pause once it has returned.
    original = lab._sh
    state = {"paused": False}

    def _sh_then_pause(command, timeout):
        res = original(command, timeout)
        if not state["paused"]:
            state["paused"] = True
            pause(number)
        return res
    lab._sh = _sh_then_pause
    try:
        return (yield)
    finally:
        del lab._sh
