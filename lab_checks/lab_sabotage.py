"""pytest plugin for the lab self-tests (test_lab_selftests.py): breaks the cluster in the middle of a
lab run, between two steps, the way a student or a flaky cluster could.

Loaded only by the self-tests: `pytest -p lab_sabotage` with lab_checks/ on PYTHONPATH and
LAB_SABOTAGE=delete-pod-before:<step number>, which deletes the lab Pod (and waits until it is gone)
just before that step starts.
"""
import os

import pytest

from lab_plugin import lab_run, step_of
from steps import POD


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    what = os.environ.get("LAB_SABOTAGE", "")
    if not what.startswith("delete-pod-before:"):
        return
    step = step_of(item)
    if step is None or str(step.number) != what.split(":", 1)[1]:
        return
    lab = lab_run(item.config).shell
    if lab is None:
        return
    res = lab.kubectl("delete", "pod", POD, "--wait=true", "--timeout=90s", timeout=120)
    # Not part of the step: keep the step's own command log clean.
    lab.log.clear()
    if not res.ok:
        raise RuntimeError(f"sabotage could not delete the Pod: {res.stderr}")
