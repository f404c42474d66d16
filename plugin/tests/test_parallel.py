"""Injection on several cores (issue 12, parallel.py): the same output, notices, warnings and
first error as one process, in document order; signals and dead workers end the run as the
plugin promises (exit 130/143 or one error line, no traceback, no worker left running).

No test here times anything: bench/bench_inject.py measures the speed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from inject_testkit import deployment, kubectl_inject_command, peak_while_injecting
from kubectl_inject import cli, parallel
from kubectl_inject import inject as inject_module
from kubectl_inject.errors import InjectError
from kubectl_inject.inject import inject_stream

if not hasattr(os, "fork"):
    pytest.skip("no os.fork: one process only", allow_module_level=True)


def document(i: int) -> str:
    """Document i of a varied stream: mostly Deployments, and every kind of output event."""
    kind = i % 12
    if kind == 1:
        return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  k: v{i}\n"
    if kind == 3:  # warn: host networking
        return (f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: host{i}\nspec:\n  hostNetwork: true\n"
                "  containers:\n  - name: a\n    image: b\n")
    if kind == 5:  # warn: injection disabled
        return deployment(i).replace("      labels:\n", '      annotations:\n        sidecar.istio.io/inject: "false"\n'
                                     "      labels:\n", 1) if i % 3 == 2 else deployment(i)
    if kind == 7:  # notice: a field istioctl 1.22 drops
        return (f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: newer{i}\nspec:\n  hostnameOverride: h{i}\n"
                "  containers:\n  - name: a\n    image: b\n")
    if kind == 8:  # notice: text after a complete document
        return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rest{i}\n...\n  bad: [unclosed\n"
    if kind == 10:  # a List of two Deployments
        items = "".join("- " + deployment(i * 10 + k).replace("\n", "\n  ").rstrip() + "\n" for k in range(2))
        return f"apiVersion: v1\nkind: List\nitems:\n{items}"
    if kind == 11:
        return ""  # an empty document
    return deployment(i)


BROKEN = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec:\n  containers: 5\n"


def stream(count: int, broken_at: int | None = None) -> str:
    return "---\n".join(BROKEN if i == broken_at else document(i) for i in range(count))


@pytest.fixture(scope="module")
def settings():
    args = cli.build_parser().parse_args(["-f", "-", "--offline", "--istio-version", "1.22.0"])
    return cli.load_settings(args)[0]


@pytest.fixture
def processes(monkeypatch):
    """run(text, settings, jobs): everything inject_stream gave write, warn and notice, in order,
    and its error (type name and message); with jobs > 1, asserts the parallel path ran."""
    calls = []
    real_run = parallel.run

    def spy(*args):
        calls.append(args[-1])
        return real_run(*args)

    monkeypatch.setattr(parallel, "run", spy)

    def run(text, settings, jobs):
        monkeypatch.setenv(parallel.JOBS_ENV, str(jobs))
        events = []
        error = None
        before = len(calls)
        try:
            inject_stream(text, settings, lambda t: events.append(("write", t)),
                          lambda t: events.append(("warn", t)), lambda t: events.append(("notice", t)))
        except Exception as err:
            error = (type(err).__name__, str(err))
        if jobs > 1:
            if threading.active_count() > 1:
                pytest.skip("another thread runs in this process: parallel.jobs() says one process")
            assert calls[before:] == [jobs], "the parallel path was not taken"
        else:
            assert calls[before:] == []
        return events, error
    return run


def _kinds(events) -> set:
    return {kind for kind, _ in events}


@pytest.mark.parametrize("jobs", [2, 3])
def test_a_long_varied_stream_is_the_same_on_several_processes(settings, processes, jobs):
    text = stream(150)
    one = processes(text, settings, 1)
    assert one[1] is None and _kinds(one[0]) == {"write", "warn", "notice"}
    assert processes(text, settings, jobs) == one


@pytest.mark.parametrize("broken_at", [0, 1, 2, 3, 9, 24, 57, 99])
def test_the_first_failing_document_stops_the_run_as_in_one_process(settings, processes, broken_at):
    """Wherever it is (in this process's first document, its batches or a worker's), the error is
    one process's error, after exactly what came before it."""
    text = stream(100, broken_at=broken_at) + "---\n" + BROKEN.replace("containers: 5", "containers: x")
    one = processes(text, settings, 1)
    assert one[1][0] == "InjectError" and "cannot unmarshal number" in one[1][1]
    assert processes(text, settings, 2) == one


def test_a_bug_in_a_worker_is_the_same_internal_error(settings, processes, monkeypatch):
    real = inject_module.inject_object

    def buggy(obj, *args, **kwargs):
        if (obj.get("metadata") or {}).get("name") == "app-60":
            raise ValueError("a bug")
        return real(obj, *args, **kwargs)

    monkeypatch.setattr(inject_module, "inject_object", buggy)
    text = stream(80)
    one = processes(text, settings, 1)
    assert one[1] == ("ValueError", "a bug")
    assert processes(text, settings, 2) == one


def test_workers_run_with_the_releases_kubernetes_types(processes):
    """The Go types in force (gotypes.schema.using, set by inject_stream) are the workers' too:
    1.30.4 keeps the field 1.22.0 drops, in every document."""
    newer = cli.load_settings(cli.build_parser().parse_args(["-f", "-", "--offline", "--istio-version", "1.30.4"]))[0]
    text = "---\n".join(document(7 + 12 * i) for i in range(40))
    one = processes(text, newer, 1)
    assert one[1] is None and _kinds(one[0]) == {"write"}
    assert sum("hostnameOverride" in t for _, t in one[0]) == 40
    assert processes(text, newer, 2) == one


@pytest.mark.parametrize("count", [1, inject_module.PARALLEL_MIN_DOCUMENTS - 1, inject_module.PARALLEL_MIN_DOCUMENTS])
def test_small_inputs_and_single_pods_do_not_load_the_parallel_machinery(count):
    text = "---\n".join(deployment(i) for i in range(count))
    code = (
        "import sys\n"
        "from kubectl_inject import cli\n"
        "from kubectl_inject.inject import inject_text\n"
        "settings = cli.load_settings(cli.build_parser().parse_args(['-f', '-', '--offline']))[0]\n"
        f"inject_text({text!r}, settings)\n"
        "print(sorted(m for m in ('kubectl_inject.parallel', 'multiprocessing', 'concurrent') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, HOME="/nonexistent", KUBECTL_INJECT_JOBS="2"))
    assert result.returncode == 0, result.stderr
    large = count >= inject_module.PARALLEL_MIN_DOCUMENTS
    assert result.stdout == ("['kubectl_inject.parallel']\n" if large else "[]\n")


def test_memory_held_here_does_not_grow_with_a_slow_worker(settings, monkeypatch):
    """This process does not run ahead of a slow worker: at most parallel.DEPTH batches per
    process are out and not yet replayed. What it holds while 40 or 200 Deployments are injected
    is the same within a fraction of what the 160 more add to the output (traced allocations of
    this process; the output is counted and dropped; each worker sleeps before its first document,
long enough for this process to inject all the rest if nothing held it back)."""
    monkeypatch.setenv(parallel.JOBS_ENV, "2")
    if parallel.jobs() != 2:
        pytest.skip("another thread runs in this process: parallel.jobs() says one process")
    here = os.getpid()
    real = inject_module._inject_document
    started = []  # in the worker's copy: its first document is slow

    def slow_in_the_worker(*args):
        if os.getpid() != here and not started:
            started.append(True)
            time.sleep(3)
        real(*args)

    monkeypatch.setattr(inject_module, "_inject_document", slow_in_the_worker)

    def peak(count):
        return peak_while_injecting("---\n".join(deployment(i) for i in range(count)), settings)

    monkeypatch.setenv(parallel.JOBS_ENV, "1")
    peak(20)  # warm
    monkeypatch.setenv(parallel.JOBS_ENV, "2")
    small_peak, small_out = peak(40)
    large_peak, large_out = peak(200)
    assert large_out > 4 * small_out
    assert large_peak - small_peak < (large_out - small_out) // 4, (small_peak, large_peak)


def test_jobs(monkeypatch):
    monkeypatch.delenv(parallel.JOBS_ENV, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert parallel.jobs() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    if threading.active_count() == 1:
        assert parallel.jobs() == parallel.MAX_JOBS == 2
    monkeypatch.setenv(parallel.JOBS_ENV, "1")
    assert parallel.jobs() == 1
    for wrong in ("0", "-2", "two"):
        monkeypatch.setenv(parallel.JOBS_ENV, wrong)
        with pytest.raises(InjectError, match="KUBECTL_INJECT_JOBS"):
            parallel.jobs()


def test_another_thread_means_one_process(monkeypatch):
    monkeypatch.setenv(parallel.JOBS_ENV, "2")
    release = threading.Event()
    thread = threading.Thread(target=release.wait, daemon=True)
    thread.start()
    try:
        assert parallel.jobs() == 1
    finally:
        release.set()
        thread.join()


def test_a_worker_killed_while_it_sends_a_record_is_one_error_line():
    """Half a record, then the end of the pipe: the worker's death, not a decoding error."""
    tasks_r, tasks_w = os.pipe()
    results_r, results_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(results_w, parallel._HEADER.pack(100) + b"0123456789")
            os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)
    os.close(tasks_r)
    os.close(results_w)
    worker = parallel._Worker(pid, tasks_w, results_r)
    worker.queued = 1
    try:
        with pytest.raises(InjectError, match=rf"^a worker process \(pid {pid}\) was killed by SIGKILL"):
            worker.receive()
    finally:
        worker.stop()
    assert not os.path.exists(f"/proc/{pid}")


# --- the command line: signals, dead workers, a closed pipe ------------------------------------

def _start(tmp_path, count=600, **popen):
    source = tmp_path / "in.yaml"
    source.write_text(stream(count))
    env = dict(os.environ, HOME=str(tmp_path), KUBECTL_INJECT_JOBS="2", KUBECTL_INJECT_DEBUG_WORKERS="1")
    env.pop("KUBECONFIG", None)
    proc = subprocess.Popen(kubectl_inject_command() + ["--offline", "-f", str(source)], env=env,
                            stdout=popen.pop("stdout", subprocess.PIPE), stderr=subprocess.PIPE,
                            text=True, start_new_session=True, **popen)
    line = proc.stderr.readline()
    assert line.startswith("kubectl inject: worker "), line
    return proc, int(line.split()[-1])


def _gone(pid: int, group: int) -> bool:
    """No process `pid` (reaped, not a zombie) and nothing left in the process group."""
    if os.path.exists(f"/proc/{pid}"):
        return False
    if os.path.isdir("/proc/self"):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == group:  # pgrp
                    return False
    return True


def _wait(proc):
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    return out, err


@pytest.mark.parametrize("to_group", [False, True], ids=["parent", "process group"])
@pytest.mark.parametrize("signum, code, line", [(signal.SIGINT, 130, "Error: interrupted"),
                                                (signal.SIGTERM, 143, "Error: terminated")])
def test_a_signal_ends_the_run_and_its_workers(tmp_path, signum, code, line, to_group):
    proc, worker = _start(tmp_path)
    time.sleep(0.3)
    if to_group:
        os.killpg(proc.pid, signum)  # as a terminal's Ctrl-C does
    else:
        proc.send_signal(signum)
    out, err = _wait(proc)
    assert proc.returncode == code, err
    assert out == ""
    assert err.splitlines() == [line]
    assert _gone(worker, proc.pid)


@pytest.mark.parametrize("signum, code, line", [(signal.SIGINT, 130, "Error: interrupted"),
                                                (signal.SIGTERM, 143, "Error: terminated")])
def test_a_signal_to_a_worker_ends_the_run_as_that_signal(tmp_path, signum, code, line):
    proc, worker = _start(tmp_path)
    time.sleep(0.3)
    os.kill(worker, signum)
    out, err = _wait(proc)
    assert (proc.returncode, out, err.splitlines()) == (code, "", [line])
    assert _gone(worker, proc.pid)


def test_a_killed_worker_is_one_error_line(tmp_path):
    """The OOM killer's SIGKILL, say: exit 1, one line, never a hang."""
    proc, worker = _start(tmp_path)
    time.sleep(0.3)
    os.kill(worker, signal.SIGKILL)
    out, err = _wait(proc)
    assert (proc.returncode, out) == (1, "")
    assert err.splitlines() == [f"Error: a worker process (pid {worker}) was killed by SIGKILL (out of memory?); "
                                "KUBECTL_INJECT_JOBS=1 injects in one process"]
    assert _gone(worker, proc.pid)


def test_a_closed_stdout_pipe_is_still_a_quiet_exit_1(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc, worker = _start(tmp_path, count=60, stdout=write_end)
    os.close(write_end)
    _, err = _wait(proc)
    assert (proc.returncode, err) == (1, "")
    assert _gone(worker, proc.pid)


def test_the_command_line_prints_the_same_with_one_process_and_several(tmp_path):
    source = tmp_path / "in.yaml"
    source.write_text(stream(100))
    results = []
    for jobs in ("1", "2"):
        env = dict(os.environ, HOME=str(tmp_path), KUBECTL_INJECT_JOBS=jobs)
        env.pop("KUBECONFIG", None)
        results.append(subprocess.run(kubectl_inject_command() + ["--istio-version", "1.22.0", "-f", str(source)],
                                      env=env, capture_output=True, text=True, timeout=120))
    one, two = results
    assert one.returncode == 0 and "drops it too" in one.stderr and "Skipping injection" in one.stderr
    assert (two.returncode, two.stdout, two.stderr) == (one.returncode, one.stdout, one.stderr)
