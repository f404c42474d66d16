"""Istio 1.22.0's own kube-inject golden cases, one test each, through our command line."""
from __future__ import annotations

import os

import pytest

from golden_cases import (GOLDEN, SKIP_REASON, available, case_id, comparable, config_files,
                          expected_output, load_cases)
from inject_testkit import run_cli

pytestmark = [pytest.mark.golden, pytest.mark.skipif(not available(), reason=SKIP_REASON)]


@pytest.mark.parametrize("case", load_cases(), ids=case_id)
def test_golden_case(case, tmp_path, monkeypatch):
    files = config_files(case, tmp_path)
    argv = ["--injectConfigFile", files["template"], "--valuesFile", files["values"],
            "--meshConfigFile", files["mesh"], "-f", os.path.join(GOLDEN, "inject", case["in"])]
    code, out, err = run_cli(argv, case.get("env", {}), monkeypatch)
    if case.get("expectedError"):
        assert code == 1, f"expected a failure, got exit {code}"
        assert case["expectedError"].lower() in err.lower()
        assert out == "", "a failed run must print no partial output"
        assert len(err.strip().splitlines()) == 1, "errors are one line"
        return
    assert code == 0, err
    assert comparable(out) == comparable(expected_output(case))
    if case.get("expectedLog"):
        assert case["expectedLog"] in err
