"""The benchmarks under bench/ are not tests (they time things), but they must keep working:
each one starts and explains its options. `make bench` and `make bench-scale` run them for real."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from inject_testkit import ROOT


@pytest.mark.parametrize("script", ["bench_inject.py", "bench_scale.py", "bench_versions.py"])
def test_a_benchmark_starts_and_shows_its_options(script):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "bench", script), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--istioctl" in result.stdout


def test_bench_scale_keeps_the_notes_written_by_hand(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(os.path.join(ROOT, "bench"))
    import bench_scale
    doc = tmp_path / "scale.md"
    assert bench_scale.kept_notes(str(doc)) == ""  # no file yet
    doc.write_text("# tables\n| a | b |\n")
    assert bench_scale.kept_notes(str(doc)) == ""  # no notes
    notes = bench_scale.NOTES_MARKER + "\n### Reading\n- a finding\n"
    doc.write_text("# old tables\n| a | b |\n\n" + notes)
    assert bench_scale.kept_notes(str(doc)) == "\n" + notes
