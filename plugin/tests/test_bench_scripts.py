"""The benchmarks under bench/ are not tests (they time things), but they must keep working:
each one starts and explains its options. `make bench` and `make bench-scale` run them for real."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from inject_testkit import ROOT


@pytest.mark.parametrize("script", ["bench_inject.py", "bench_scale.py"])
def test_a_benchmark_starts_and_shows_its_options(script):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "bench", script), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--istioctl" in result.stdout
