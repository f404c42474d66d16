"""Scale (issue 14, item 8): the pipeline handles one document at a time, so what it holds does
not grow with the number of documents; the output waits in output.Spool, whose memory is bounded.

No test here times anything (bench/bench_scale.py measures time and peak RSS against input size);
they measure what is held, with tracemalloc, which counts allocations, not seconds.
"""
from __future__ import annotations

import io
import tempfile
import tracemalloc
from contextlib import redirect_stderr, redirect_stdout

import pytest

from inject_testkit import peak_while_injecting
from kubectl_inject import cli, goyaml
from kubectl_inject.inject import inject_stream, inject_text
from kubectl_inject.output import Spool

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: scale
spec:
  replicas: 2
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
      containers:
      - name: app
        image: registry.example/app:1
        ports:
        - containerPort: 8080
---
"""


@pytest.fixture(scope="module")
def settings():
    args = cli.build_parser().parse_args(["-f", "-", "--offline"])
    return cli.load_settings(args)[0]


def test_memory_held_does_not_grow_with_the_number_of_documents(settings):
    """8 and 40 Deployments: the peak while injecting is the same within a fraction of what the
    32 more documents add to the output (before the stream, the whole list of documents and the
    whole output were held: the peak grew by more than that output)."""
    inject_text(DEPLOYMENT * 2, settings)  # warm: templates parsed, schema caches filled
    small_peak, small_out = peak_while_injecting(DEPLOYMENT * 8, settings)
    large_peak, large_out = peak_while_injecting(DEPLOYMENT * 40, settings)
    assert large_out == 5 * small_out
    growth = large_peak - small_peak
    assert growth < (large_out - small_out) // 4, (small_peak, large_peak, large_out - small_out)


def test_the_stream_gives_what_inject_text_gives(settings):
    text = DEPLOYMENT * 3 + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
    pieces: list = []
    inject_stream(text, settings, pieces.append)
    assert "".join(pieces) == inject_text(text, settings)
    assert len(pieces) == 8  # a document, then its `---`, one at a time


def test_documents_are_split_as_they_are_asked_for():
    """The splitter is lazy: the first document comes before a bad separator further on is read."""
    documents = goyaml.iter_documents("a: 1\n---\n" + "b: 2\n" * 1000 + "--- x\n")
    assert next(documents) == "a: 1\n"
    with pytest.raises(goyaml.YAMLError, match="invalid Yaml document separator: x"):
        next(documents)


PIECES = ["apiVersion: v1\n", "é€𝄞", "\udc80 lone surrogates \ud800", "x" * 5000, "", "---\n"] * 7


def test_spool_gives_back_what_was_written_from_memory_and_from_its_file():
    for limit in (1, 100, 10**9):
        with Spool(limit=limit) as spool:
            for piece in PIECES:
                spool.write(piece)
            for size in (1, 7, 2**20):
                assert "".join(spool.chunks(size)) == "".join(PIECES)


def test_spool_keeps_at_most_its_limit_in_memory():
    piece = "y" * 10_000
    tracemalloc.start()
    try:
        with Spool(limit=50_000) as spool:
            start = tracemalloc.get_traced_memory()[0]
            for _ in range(500):  # 5 MB written
                spool.write(piece)
            held = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert held < 500_000, held


def test_spool_without_a_temporary_file_keeps_everything_in_memory(monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_space)
    with Spool(limit=10) as spool:
        for piece in PIECES:
            spool.write(piece)
        assert "".join(spool.chunks()) == "".join(PIECES)


def test_spool_whose_file_fills_up_reads_it_back(monkeypatch):
    """Short writes, then a full disk: what the file holds is read back, the rest kept in memory."""
    real = tempfile.TemporaryFile
    calls = []

    class FillingUp:
        def __init__(self, *args, **kwargs):
            self.file = real(*args, **kwargs)

        def write(self, data):
            calls.append(len(data))
            if len(calls) == 3:
                raise OSError(28, "No space left on device")
            return self.file.write(data[:1000])

        def fileno(self):
            return self.file.fileno()

        def close(self):
            self.file.close()

    monkeypatch.setattr(tempfile, "TemporaryFile", FillingUp)
    with Spool(limit=3000) as spool:
        for piece in PIECES:
            spool.write(piece)
        assert len(calls) >= 3
        assert "".join(spool.chunks(5)) == "".join(PIECES)


def _main(argv, stdin=""):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def test_output_through_a_spilled_spool_is_the_same_and_still_all_or_nothing(tmp_path, monkeypatch):
    """With a spool limit of 1 KiB every run goes through the temporary file: stdout and -o get
    the same bytes as from memory; a failure in the last document still writes nothing."""
    manifest = tmp_path / "in.yaml"
    manifest.write_text(DEPLOYMENT * 5)
    code, in_memory, _ = _main(["-f", str(manifest), "--offline"])
    assert code == 0
    monkeypatch.setattr(Spool, "LIMIT", 1024)
    code, spilled, _ = _main(["-f", str(manifest), "--offline"])
    assert (code, spilled) == (0, in_memory)
    target = tmp_path / "out.yaml"
    assert _main(["-f", str(manifest), "--offline", "-o", str(target)])[0] == 0
    assert target.read_text() == in_memory

    manifest.write_text(DEPLOYMENT * 5 + "kind: Pod\nmetadata: [\n")
    target.write_text("before\n")
    for extra in ([], ["-o", str(target)]):
        code, stdout, stderr = _main(["-f", str(manifest), "--offline", *extra])
        assert code == 1 and stdout == "" and stderr.startswith("Error: error converting YAML to JSON")
    assert target.read_text() == "before\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kubectl-inject-")] == []
