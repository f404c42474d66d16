"""Trust at the edges (issue 22, kubectl inject's classes 1-9): writes that never lose data, a
closed stdout, input and environment mistakes that are one `Error:` line (never "internal
error"), Go-faithful numbers, -R on an unreadable directory, config pull's all-or-nothing, parity
at the edges. The cluster look-up's deadline, size caps and credential plugins are in
test_edges_cluster.py.

Each test here failed on the code before issue 22 (checked by running it against that tree)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from inject_testkit import NGINX_POD, kubectl_inject_command, run_cli
from kubectl_inject import output

OFFLINE = ["--offline"]


def run(*args, stdin=None, env=None, timeout=120, **kwargs):
    full_env = dict(os.environ, HOME="/nonexistent")
    full_env.pop("KUBECONFIG", None)
    full_env.update(env or {})
    return subprocess.run(kubectl_inject_command() + list(args), input=stdin, capture_output=True,
                          env=full_env, timeout=timeout, **kwargs)


def error_line(result) -> str:
    """The one error line of a failed run (bytes or text), asserting the promise."""
    stdout, stderr = result.stdout, result.stderr
    if isinstance(stderr, bytes):
        stdout, stderr = stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")
    assert result.returncode == 1, (result.returncode, stderr)
    assert stdout == "", "no partial output on error"
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    assert "internal error" not in lines[0], lines[0]
    return lines[0]


def _many_pods(count: int) -> str:
    return "---\n".join(NGINX_POD.replace("mywebserver", f"web{i}") for i in range(count))


# --- class 5: a signal while a hard-linked file is rewritten never leaves it cut ---------------

class _Stop(BaseException):
    pass


@pytest.fixture
def sigterm_raises():
    """SIGTERM raises _Stop in this process (as cli's handler raises Terminated)."""
    def handler(signum, frame):
        raise _Stop()
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _signal_at(monkeypatch, module_attr: str, at: int) -> None:
    """SIGTERM to this process on the `at`-th call of output's `module_attr` (chunks: each piece
    of the text written; pwrite: each block copied in place)."""
    calls = [0]
    if module_attr == "chunks":
        real = output.chunks

        def patched(content, size=2**20):
            for piece in real(content, size):
                calls[0] += 1
                if calls[0] == at:
                    os.kill(os.getpid(), signal.SIGTERM)
                yield piece
        monkeypatch.setattr(output, "chunks", patched)
    else:
        real_pwrite = os.pwrite

        def pwrite(fd, data, offset):
            calls[0] += 1
            if calls[0] == at:
                os.kill(os.getpid(), signal.SIGTERM)
            return real_pwrite(fd, data, offset)
        monkeypatch.setattr(output.os, "pwrite", pwrite)


@pytest.fixture(params=["one thread", "another thread alive"])
def threads(request):
    """The process as it runs the write: its main thread only, or with another thread alive (a
    cluster look-up's worker), to which the kernel may then hand a process-directed signal."""
    if request.param == "one thread":
        yield
        return
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        yield
    finally:
        release.set()
        other.join()


@pytest.mark.parametrize("where, at", [("chunks", 1), ("chunks", 2), ("chunks", 3), ("pwrite", 1), ("pwrite", 2)])
@pytest.mark.parametrize("mode", ["-o", "--in-place"])
def test_signal_while_a_hard_linked_file_is_written_never_cuts_it(tmp_path, monkeypatch, sigterm_raises, threads,
                                                                   where, at, mode):
    """SIGTERM at each piece of the write: the file (and its other link) is its old text or the
    whole new one, never empty or cut; the links stay; no temporary file is left."""
    target = tmp_path / "out.yaml"
    old = "old: text\n" * 300_000           # 3 MB
    new = "new: injected text\n" * 160_000  # 3 MB: three pieces of output.chunks
    target.write_text(old)
    os.link(target, tmp_path / "other-link.yaml")
    stopped = False
    try:
        _signal_at(monkeypatch, where, at)
        if mode == "-o":
            output.write_atomically(str(target), new)
        else:
            output.write_all_atomically([(str(target), new)])
    except _Stop:
        stopped = True
    assert stopped, "the signal was lost, not held"
    assert target.read_text() in (old, new)
    assert target.stat().st_nlink == 2
    assert (tmp_path / "other-link.yaml").read_text() == target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other-link.yaml", "out.yaml"]


def test_a_failing_in_place_copy_keeps_the_new_text_beside_the_file(tmp_path, monkeypatch):
    """If copying over a hard-linked file fails half way (a disk error), the error names the
    recovery copy, which holds the complete new text."""
    target = tmp_path / "out.yaml"
    target.write_text("old\n" * 10)
    os.link(target, tmp_path / "link.yaml")
    new = "x" * (3 * 2**20)
    real_pwrite = os.pwrite

    def failing(fd, data, offset):
        if offset > 0:
            raise OSError(5, "Input/output error")
        return real_pwrite(fd, data, offset)
    monkeypatch.setattr(output.os, "pwrite", failing)
    with pytest.raises(output.InjectError) as caught:
        output.write_atomically(str(target), new)
    message = str(caught.value)
    assert "Input/output error" in message and "complete new content is in" in message
    copies = [p for p in tmp_path.iterdir() if p.name.startswith(".out.yaml.kubectl-inject-")]
    assert len(copies) == 1 and copies[0].read_text() == new and copies[0].name in message


@pytest.mark.parametrize("mode", ["-o", "--in-place"])
def test_sigterm_as_a_hard_linked_file_changes_leaves_it_whole(tmp_path, mode):
    """End to end: a run writing a hard-linked file gets SIGTERM the moment the file starts to
    change (polled): the file is then either untouched or complete."""
    # a Pod and a 20 MB ConfigMap (passed through): the write takes long enough to be hit
    source = NGINX_POD + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n" + \
        "".join(f"  k{i}: {'x' * 1000}\n" for i in range(20000))
    expected = run("-f", "-", *OFFLINE, stdin=source.encode()).stdout
    for attempt in range(3):
        work = tmp_path / str(attempt)
        work.mkdir()
        target = work / "pods.yaml"
        target.write_text(source)
        os.link(target, work / "link.yaml")
        before = target.stat()
        args = ["--in-place", "-f", str(target)] if mode == "--in-place" else \
            ["-f", str(work / "input.yaml"), "-o", str(target)]
        if mode == "-o":
            (work / "input.yaml").write_text(source)
        proc = subprocess.Popen(kubectl_inject_command() + [*args, *OFFLINE], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            now = target.stat()
            if (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                proc.send_signal(signal.SIGTERM)
                break
        proc.communicate(timeout=60)
        assert target.read_bytes() in (source.encode(), expected), attempt
        assert target.stat().st_nlink == 2
        leftovers = sorted(p.name for p in work.iterdir())
        assert leftovers == sorted(["pods.yaml", "link.yaml"] + (["input.yaml"] if mode == "-o" else []))


# --- class 4: a closed stdout (and stdin, stderr) ----------------------------------------------

def _closed(fd: int):
    """preexec_fn closing fd in the child, as the shell's `N>&-` does."""
    def close():
        os.close(fd)
    return close


def test_closed_stdout_is_exit_1_and_one_line_without_a_traceback(tmp_path):
    pod = tmp_path / "pod.yaml"
    pod.write_text(NGINX_POD)
    result = subprocess.run(kubectl_inject_command() + ["-f", str(pod), *OFFLINE], stdout=None,
                            stderr=subprocess.PIPE, text=True, timeout=60, preexec_fn=_closed(1))
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["Error: cannot write to standard output: it is closed (file descriptor 1 "
                                          "was closed when the command started)"]


def test_closed_stdout_with_output_file_writes_it_and_exits_1(tmp_path):
    pod = tmp_path / "pod.yaml"
    pod.write_text(NGINX_POD)
    expected = run("-f", str(pod), *OFFLINE).stdout
    out = tmp_path / "out.yaml"
    result = subprocess.run(kubectl_inject_command() + ["-f", str(pod), *OFFLINE, "-o", str(out)], stdout=None,
                            stderr=subprocess.PIPE, text=True, timeout=60, preexec_fn=_closed(1))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("Error: standard output is closed")
    assert out.read_bytes() == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.yaml", "pod.yaml"]


@pytest.mark.parametrize("args", [["--help"], ["version"]])
def test_closed_stdout_for_help_and_version_is_one_line(args):
    result = subprocess.run(kubectl_inject_command() + args, stdout=None, stderr=subprocess.PIPE, text=True,
                            timeout=60, preexec_fn=_closed(1))
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["Error: cannot write to standard output: it is closed (file descriptor 1 "
                                          "was closed when the command started)"]


def test_closed_stderr_never_sends_errors_to_stdout():
    result = subprocess.run(kubectl_inject_command() + ["-f", "/nonexistent.yaml", *OFFLINE], stdout=subprocess.PIPE,
                            stderr=None, timeout=60, preexec_fn=_closed(2))
    assert result.returncode == 1 and result.stdout == b""


# --- class 3: input and environment mistakes are one line; I/O does not depend on the locale ----

def test_closed_stdin_is_one_line():
    result = subprocess.run(kubectl_inject_command() + ["-f", "-", *OFFLINE], stdin=None, capture_output=True,
                            text=True, timeout=60, preexec_fn=_closed(0))
    assert error_line(result) == "Error: cannot read standard input (-f -): it is closed"


def test_stdin_that_is_not_utf8_is_one_line():
    result = run("-f", "-", *OFFLINE, stdin=b"apiVersion: v1\nkind: \xff\n")
    assert error_line(result) == "Error: cannot read standard input (-f -): not UTF-8 text"


UTF8_CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\u00e9\ndata:\n  a: \u00e9t\u00e9 \u2713\n"


@pytest.mark.parametrize("env", [
    {"LANG": "C", "LC_ALL": "C"},
    {"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"},
    {"PYTHONIOENCODING": "ascii"},
    {"PYTHONIOENCODING": "latin-1", "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"},
])
@pytest.mark.parametrize("source", ["stdin", "file"])
def test_utf8_manifest_under_any_locale_gives_the_same_bytes(tmp_path, env, source):
    (tmp_path / "cm.yaml").write_text(UTF8_CONFIGMAP, encoding="utf-8")
    args = ["-f", "-"] if source == "stdin" else ["-f", str(tmp_path / "cm.yaml")]
    expected = run(*args, *OFFLINE, stdin=UTF8_CONFIGMAP.encode()).stdout
    assert "\u00e9t\u00e9".encode() in expected
    result = run(*args, *OFFLINE, stdin=UTF8_CONFIGMAP.encode(), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected


def test_a_utf8_error_message_is_utf8_under_an_ascii_locale():
    pod = NGINX_POD.replace("  labels:\n", "  annotations:\n    sidecar.istio.io/proxyCPU: \u00e9\n  labels:\n")
    result = run("-f", "-", *OFFLINE, stdin=pod.encode(), env={"PYTHONIOENCODING": "ascii"})
    line = error_line(result)
    assert "invalid value '\u00e9'" in line


def test_an_endless_stdin_is_refused_at_the_cap(monkeypatch):
    """In process, with the cap made small: the same code path as 256 MiB of /dev/zero."""
    from kubectl_inject import config_source
    monkeypatch.setattr(config_source, "MAX_INPUT_BYTES", 1000)
    monkeypatch.setattr(config_source.InputBudget.__init__, "__defaults__", (1000,))
    import io
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a: b\n" * 1000)))
    code, out, err = run_cli(["-f", "-", *OFFLINE], {}, monkeypatch)
    assert (code, out) == (1, "")
    assert err.splitlines() == ["Error: standard input (-f -) is larger than 1000 bytes (kubectl inject reads "
                                "at most 1000 bytes there)"]


@pytest.mark.parametrize("source", ["/dev/zero", "-"])
def test_endless_input_is_refused_with_one_line(source):
    """The real cap (256 MiB) within a 1 GiB address space: /dev/zero as a file, and as stdin."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1024 * 2**20, 1024 * 2**20))
    with open("/dev/zero", "rb") as zero:
        result = subprocess.run(kubectl_inject_command() + ["-f", source, *OFFLINE], stdin=zero,
                                capture_output=True, text=True, timeout=120, preexec_fn=limit)
    name = "standard input (-f -)" if source == "-" else "input file '/dev/zero'"
    assert error_line(result) == (f"Error: {name} is larger than 256 MiB (kubectl inject reads at most "
                                  "256 MiB there)")


def test_the_inputs_together_are_capped(tmp_path, monkeypatch):
    from kubectl_inject import config_source
    monkeypatch.setattr(config_source.InputBudget.__init__, "__defaults__", (3000,))
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("---\n".join([NGINX_POD] * 6))  # 2,000 bytes each
    code, out, err = run_cli(["-f", str(tmp_path / "a.yaml"), "-f", str(tmp_path / "b.yaml"), *OFFLINE], {},
                             monkeypatch)
    assert (code, out) == (1, "")
    assert "the inputs together are larger than 3000 bytes at input file" in err


BIG = "9" * 5000


@pytest.mark.parametrize("value, expected", [
    # out-of-range numbers and wrong-shaped JSON in the annotations Istio reads
    ({"proxy.istio.io/overrides": "1"},
     "invalid proxy.istio.io/overrides annotation: json: cannot unmarshal number into Go value of type "
     "inject.podOverrides"),
    ({"proxy.istio.io/overrides": '{"containers": 5}'},
     "json: cannot unmarshal number into Go struct field podOverrides.containers of type []v1.Container"),
    ({"proxy.istio.io/overrides": '{"containers": [1]}'},
     "json: cannot unmarshal number into Go struct field podOverrides.containers of type v1.Container"),
    ({"proxy.istio.io/config": '{"concurrency": 1e400}'},
     "json: cannot unmarshal number 1e400 into Go value of type int32"),
    ({"proxy.istio.io/config": '{"concurrency": ' + BIG + "}"},
     f"json: cannot unmarshal number {BIG} into Go value of type int32"),
    ({"proxy.istio.io/config": f"terminationDrainDuration: {BIG}s"}, "time: invalid duration"),
    ({"readiness.status.sidecar.istio.io/periodSeconds": BIG},
     f'strconv.ParseUint: parsing "{BIG}": value out of range'),
    ({"status.sidecar.istio.io/port": BIG}, f'strconv.ParseUint: parsing "{BIG}": value out of range'),
    ({"traffic.sidecar.istio.io/excludeInboundPorts": "80," + BIG}, "value out of range"),
])
def test_odd_annotation_values_are_one_line(value, expected):
    annotations = "".join(f"    {key}: '{text}'\n" for key, text in value.items())
    pod = NGINX_POD.replace("  labels:\n", "  annotations:\n" + annotations + "  labels:\n")
    line = error_line(run("-f", "-", "--istio-version", "1.30.4", stdin=pod.encode()))
    assert expected in line, line


def test_null_overrides_annotation_is_no_overrides():
    pod = NGINX_POD.replace("  labels:\n", "  annotations:\n    proxy.istio.io/overrides: 'null'\n  labels:\n")
    assert run("-f", "-", *OFFLINE, stdin=pod.encode()).returncode == 0


@pytest.mark.parametrize("text", [BIG, "-" + BIG, "0x" + "f" * 5000, "0o" + "7" * 5000, "0b" + "1" * 5000,
                                  BIG + ".5", "1e" + BIG, "." + BIG])
def test_integers_longer_than_pythons_limit_pass_through_as_go_reads_them(text):
    """A non-workload document with such a number (go-yaml: beyond int64/uint64 and float64, a
    string, or a float; the JSON step then writes it back): injected, not an internal error."""
    doc = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata: {{a: b}}\nfoo: {text}\n"
    result = run("-f", "-", *OFFLINE, stdin=doc.encode())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"apiVersion: v1\n")


def test_a_pod_with_a_huge_number_is_typed_decodings_error():
    """go-yaml's resolver: ParseInt, ParseUint and ParseFloat (+Inf, ErrRange) all fail, so the
    plain scalar is a string, which the int32 field refuses."""
    pod = NGINX_POD.replace("    resources: {}\n", f"    resources: {{}}\n    ports: [{{containerPort: {BIG}}}]\n")
    line = error_line(run("-f", "-", *OFFLINE, stdin=pod.encode()))
    assert line == ("Error: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go "
                    "struct field ContainerPort.spec.containers.ports.containerPort of type int32")


def test_a_huge_integer_cpu_quantity_is_kept_whole():
    """resource.ParseQuantity keeps any number of digits (inf.Dec): the sidecar gets it whole."""
    pod = NGINX_POD.replace("  labels:\n", f"  annotations:\n    sidecar.istio.io/proxyCPU: '{BIG}'\n  labels:\n")
    result = run("-f", "-", *OFFLINE, stdin=pod.encode())
    assert result.returncode == 0, result.stderr
    assert f"cpu: \"{BIG}\"".encode() in result.stdout or f"cpu: {BIG}".encode() in result.stdout


@pytest.mark.parametrize("timeout", ["1e10", "1e300"])
def test_a_huge_timeout_with_a_missing_kubeconfig_is_the_usual_error(timeout):
    line = error_line(run("-f", "-", "--kubeconfig", "/nonexistent/config", "--timeout", timeout,
                          stdin=NGINX_POD.encode()))
    assert "no kubeconfig found" in line


# --- class 6: a failing config pull writes nothing and prints nothing --------------------------

def test_config_pull_that_fails_late_leaves_nothing(tmp_path, monkeypatch):
    """The ConfigMaps are read, then the native-sidecar look-up fails (the deadline): no
    directory, no file, nothing on stdout (the files used to be written and 'saved ...' printed
    before that look-up)."""
    from kubectl_inject import config_cmd
    texts = {"config": "policy: enabled\ntemplates: {}\n", "values": "{}", "mesh": "{}"}
    monkeypatch.setattr(config_cmd, "cluster_texts", lambda target: texts)

    def fails(target, profile):
        raise config_cmd.InjectError("the Kubernetes API server (context 'lab') did not answer within 1 s")
    monkeypatch.setattr(config_cmd, "native_sidecars", fails)
    for output in (tmp_path / "new" / "deeper", tmp_path):
        code, out, err = run_cli(["config", "pull", "-o", str(output)], {}, monkeypatch)
        assert (code, out) == (1, "")
        assert err.splitlines() == ["Error: the Kubernetes API server (context 'lab') did not answer within 1 s"]
    assert list(tmp_path.iterdir()) == []


def test_config_pull_that_fails_while_writing_leaves_nothing(tmp_path, monkeypatch):
    from kubectl_inject import config_cmd, output as output_module
    texts = {"config": "policy: enabled\ntemplates: {}\n", "values": "{}", "mesh": "{}"}
    monkeypatch.setattr(config_cmd, "cluster_texts", lambda target: texts)
    monkeypatch.setattr(config_cmd, "native_sidecars", lambda target, profile: False)
    real = output_module.write_atomically
    calls = [0]

    def third_fails(path, text):
        calls[0] += 1
        if calls[0] == 3:
            raise output_module.InjectError(f"cannot write {path!r}: No space left on device")
        return real(path, text)
    monkeypatch.setattr(config_cmd, "write_atomically", third_fails)
    code, out, err = run_cli(["config", "pull", "-o", str(tmp_path / "pulled")], {}, monkeypatch)
    assert (code, out) == (1, "") and "No space left on device" in err
    assert list(tmp_path.iterdir()) == []
    # into an existing directory: its files are staged and renamed together; none is changed
    (tmp_path / "pulled").mkdir()
    (tmp_path / "pulled" / "mesh.yaml").write_text("old\n")
    monkeypatch.setattr(output_module, "_stage", _failing_on(output_module._stage, 3))
    code, out, err = run_cli(["config", "pull", "-o", str(tmp_path / "pulled")], {}, monkeypatch)
    assert (code, out) == (1, "")
    assert sorted(p.name for p in (tmp_path / "pulled").iterdir()) == ["mesh.yaml"]
    assert (tmp_path / "pulled" / "mesh.yaml").read_text() == "old\n"


def _failing_on(real, at):
    calls = [0]

    def staged(target, text, staged_list):
        calls[0] += 1
        if calls[0] == at:
            raise OSError(28, "No space left on device")
        return real(target, text, staged_list)
    return staged


def test_config_pull_success_prints_after_writing(tmp_path, monkeypatch):
    from kubectl_inject import config_cmd
    texts = {"config": "policy: enabled\ntemplates: {}\n", "values": "{}", "mesh": "{}"}
    monkeypatch.setattr(config_cmd, "cluster_texts", lambda target: texts)
    monkeypatch.setattr(config_cmd, "native_sidecars", lambda target, profile: True)
    code, out, err = run_cli(["config", "pull", "-o", str(tmp_path / "a" / "pulled")], {}, monkeypatch)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "a" / "pulled").iterdir()) == ["inject-config.yaml", "mesh.yaml",
                                                                             "values.yaml"]
    assert (tmp_path / "a" / "pulled" / "values.yaml").read_text() == "{}"
    assert out.startswith("saved istio-sidecar-injector and istio") and "native sidecars" in out
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["pulled"]


# --- class 7: -R on a directory it cannot read -------------------------------------------------

def test_recursive_input_with_an_unreadable_subdirectory_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "a.yaml").write_text(NGINX_POD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text(NGINX_POD)
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("sub"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)
    monkeypatch.setattr(os, "scandir", scandir)
    code, out, err = run_cli(["-f", str(tmp_path), "-R", *OFFLINE], {}, monkeypatch)
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"Error: cannot read directory {str(tmp_path / 'sub')!r}: Permission denied"]
    # without -R the subdirectory is not read (kubectl skips it too)
    code, out, err = run_cli(["-f", str(tmp_path), *OFFLINE], {}, monkeypatch)
    assert code == 0 and out.count("kind: Pod") == 1


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="runs as nobody through setpriv")
def test_recursive_input_with_an_unreadable_subdirectory_end_to_end():
    """As a user who cannot read the subdirectory (root reads any): exit 1 and one line."""
    import tempfile
    top = tempfile.mkdtemp(prefix="kubectl-inject-edges-")
    try:
        os.chmod(top, 0o755)
        with open(os.path.join(top, "a.yaml"), "w", encoding="utf-8") as handle:
            handle.write(NGINX_POD)
        os.mkdir(os.path.join(top, "secret"), 0o700)
        with open(os.path.join(top, "secret", "b.yaml"), "w", encoding="utf-8") as handle:
            handle.write(NGINX_POD)
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *kubectl_inject_command(),
                   "-f", top, "-R", *OFFLINE]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                env=dict(os.environ, HOME="/nonexistent", KUBECTL_INJECT_CACHE_DIR="off"))
        assert error_line(result) == f"Error: cannot read directory '{top}/secret': Permission denied"
    finally:
        shutil.rmtree(top)


# --- class 8: parity at the edges (texts printed by istioctl 1.30.4 built here) ----------------

ISTIOCTL = os.path.expanduser("~/.cache/kubectl-inject-lab/istio/1.30.4/bin/istioctl")
BUILTIN_1304 = os.path.join(os.path.dirname(output.__file__), "builtin", "1.30.4")
CONFIG_1304 = ["--injectConfigFile", os.path.join(BUILTIN_1304, "template.yaml"),
               "--valuesFile", os.path.join(BUILTIN_1304, "values.yaml"),
               "--meshConfigFile", os.path.join(BUILTIN_1304, "mesh.yaml")]


def _user_volume_pod(value: str) -> str:
    return NGINX_POD.replace("  labels:\n", f"  annotations:\n    sidecar.istio.io/userVolume: '{value}'\n  labels:\n")


@pytest.mark.parametrize("value", ['{"a": {"name": 1, "emptyDir": {}}}', '[{"name": 1, "emptyDir": {}}]'])
def test_a_user_volume_whose_name_is_a_number_is_refused_as_istioctl_refuses_it(value):
    """The rendered volume's name is a number: Istio's applyOverlayYAML decodes the merged Pod
    with encoding/json, which refuses it (the YAML step's number-to-string conversion does not
    happen there). It used to be injected with name "1"."""
    line = error_line(run("-f", "-", *CONFIG_1304, stdin=_user_volume_pod(value).encode()))
    assert line == ("Error: failed to run injection template: failed applying injection overlay: unmarshal "
                    "patched pod: json: cannot unmarshal number into Go struct field Volume.spec.volumes.name of "
                    "type string")


def test_a_user_volume_keyed_by_a_number_is_still_injected():
    result = run("-f", "-", *CONFIG_1304, stdin=_user_volume_pod('{"1": {"emptyDir": {}}}').encode())
    assert result.returncode == 0, result.stderr
    assert b'  - emptyDir: {}\n    name: "1"\n' in result.stdout


@pytest.mark.parametrize("kind", ["5", "true", "null", "1.5", "0x10", "~"])
def test_a_kind_that_is_not_a_string_passes_through_untouched(kind):
    """istioctl reads the TypeMeta with sigs.k8s.io/yaml first, which makes a number or bool a
    string ("5": an unknown kind) and null nothing: the document is copied as it is."""
    doc = f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: x\nspec:\n  containers:\n  - {{name: a, image: nginx}}\n"
    result = run("-f", "-", *CONFIG_1304, stdin=doc.encode())
    assert result.returncode == 0, result.stderr
    assert result.stdout == doc.encode() + b"---\n"


@pytest.mark.parametrize("doc", [
    "apiVersion: v1\nkind: [Pod]\nmetadata: {name: x}\n",
    "apiVersion: {a: 1}\nkind: Pod\nmetadata: {name: x}\n",
    "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: [Pod], metadata: {name: x}}\n",
])
def test_a_kind_that_is_a_list_or_map_is_istioctls_error(doc):
    key = "apiVersion" if doc.startswith("apiVersion: {") else "kind"
    kind = "object" if key == "apiVersion" else "array"
    assert error_line(run("-f", "-", *CONFIG_1304, stdin=doc.encode())) == (
        f"Error: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind} into Go struct field "
        f"TypeMeta.{key} of type string")


@pytest.mark.skipif(not os.path.exists(ISTIOCTL), reason="istioctl 1.30.4 is built by the lab build")
@pytest.mark.parametrize("doc", [
    _user_volume_pod('{"a": {"name": 1, "emptyDir": {}}}'),
    _user_volume_pod('{"1": {"emptyDir": {}}}'),
    "apiVersion: v1\nkind: 5\nmetadata: {name: x}\n",
    "apiVersion: v1\nkind: true\nmetadata: {name: x}\n",
    "apiVersion: v1\nkind: [Pod]\nmetadata: {name: x}\n",
    "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: 5, metadata: {name: y}}\n",
])
def test_edges_side_by_side_with_istioctl(tmp_path, doc):
    path = tmp_path / "in.yaml"
    path.write_text(doc)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent", "KUBECONFIG": "/nonexistent"}
    theirs = subprocess.run([ISTIOCTL, "kube-inject", "-r", "default", "-f", str(path), *CONFIG_1304],
                            capture_output=True, env=env, timeout=60)
    ours = run("-f", str(path), *CONFIG_1304)
    assert ours.returncode == theirs.returncode, (ours.stderr, theirs.stderr)
    if theirs.returncode == 0:
        assert ours.stdout == theirs.stdout
    else:
        assert ours.stderr.splitlines()[-1] == theirs.stderr.splitlines()[-1]
