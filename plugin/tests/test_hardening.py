"""Hostile and mistaken input, and outputs that are not plain files (issue 14).

The promise under test: only YAML on stdout; any failure is one line on stderr, exit code 1, no
traceback, nothing partial, nothing lost. Where istioctl refuses an input, the error is its error
(the expected texts here were printed by istioctl 1.30.4 kube-inject)."""
from __future__ import annotations

import os
import resource
import subprocess
import time

import pytest

from inject_testkit import NGINX_POD, JsonApiHandler, kubectl_inject_command, loopback_server
from kubectl_inject import goyaml
from kubectl_inject.inject import MAX_DOCUMENT_CHARS

OFFLINE = ["--offline"]


def run(*args, stdin=None, env=None, timeout=60):
    full_env = dict(os.environ, HOME="/nonexistent")
    full_env.pop("KUBECONFIG", None)
    full_env.update(env or {})
    return subprocess.run(kubectl_inject_command() + list(args), input=stdin, text=True,
                          capture_output=True, env=full_env, timeout=timeout)


def error_line(result) -> str:
    """The one error line of a failed run (asserting the promise)."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stdout == "", "no partial output on error"
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "internal error" not in lines[0], lines[0]
    return lines[0]


def configmap(data_yaml: str) -> str:
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n" + data_yaml


# --- item 2: alias bombs, nesting, document size ---------------------------------------------

def billion_laughs(levels=9, fan_out=9) -> str:
    lines = ["  a: &a [" + ", ".join(['"lol"'] * fan_out) + "]"]
    previous = "a"
    for index in range(1, levels):
        name = f"l{index}"
        lines.append(f"  {name}: &{name} [" + ", ".join([f"*{previous}"] * fan_out) + "]")
        previous = name
    return configmap("\n".join(lines) + "\n")


def test_alias_bomb_is_refused_at_once_with_go_yamls_error():
    bomb = billion_laughs()
    assert len(bomb) < 600
    started = time.monotonic()
    line = error_line(run("-f", "-", *OFFLINE, stdin=bomb))
    assert time.monotonic() - started < 5  # the process start dominates; the refusal is instant
    assert line == "Error: error converting YAML to JSON: yaml: document contains excessive aliasing"


def test_alias_bomb_refused_in_process_before_any_expansion():
    """In-process: under a second and no memory growth to speak of (the 9^9 expansion would need
    tens of GB)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(goyaml.YAMLError, match="excessive aliasing"):
        goyaml.load(billion_laughs(levels=12, fan_out=12))
    assert time.monotonic() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB


def _aliased_list(item_count: int, aliases: int, padding: int) -> str:
    return configmap("  a: &a [" + ",".join(["1"] * item_count) + "]\n"
                     "  m: &m {x: 1, y: 2}\n  mm: {<<: [*m, {z: 3}], w: 1}\n"
                     "  c: [" + ",".join(["*a"] * aliases) + "]\n"
                     "  d: [" + ",".join(["2"] * padding) + "]\n")


@pytest.mark.parametrize("item_count, padding, last_accepted", [
    # the largest alias count go-yaml v2 (istioctl 1.30.4) still accepts, found by bisecting
    # against it: one more alias and it says "document contains excessive aliasing"
    (100, 10, 3925),
    (50, 7, 8422),
])
def test_alias_budget_matches_go_yaml_at_its_edge(item_count, padding, last_accepted):
    goyaml.load(_aliased_list(item_count, last_accepted, padding))
    with pytest.raises(goyaml.YAMLError, match="excessive aliasing"):
        goyaml.load(_aliased_list(item_count, last_accepted + 1, padding))


def test_moderate_aliasing_is_still_read():
    text = configmap('  a: &a "1"\n  b: *a\n  c: &c {x: [1, 2]}\n  d: {<<: *c, w: 3}\n')
    assert goyaml.load(text)["data"] == {"a": "1", "b": "1", "c": {"x": [1, 2]}, "d": {"x": [1, 2], "w": 3}}


def test_deep_nesting_up_to_the_parsers_limit_is_processed():
    """libyaml reads 1000 levels; the later stages recurse per level and must not fail below that."""
    depth = 990
    deep = "[" * depth + "]" * depth
    items = ("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
             f"  metadata: {{name: x}}\n  data:\n    a: {deep}\n    1: {{b: {deep}}}\n")
    result = run("-f", "-", *OFFLINE, stdin=items)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("- ") == 1 + 2 * (depth - 1)  # the item, then each level but the last


def test_nesting_beyond_the_limit_is_one_clear_line():
    depth = 3000
    line = error_line(run("-f", "-", *OFFLINE, stdin=configmap(f"  a: {'[' * depth}{']' * depth}\n")))
    assert "exceeded maximum nesting depth" in line and "1000" in line


def test_oversized_document_is_refused_before_parsing():
    big = configmap("  a: " + "x" * (MAX_DOCUMENT_CHARS + 10) + "\n")
    started = time.monotonic()
    line = error_line(run("-f", "-", *OFFLINE, stdin=NGINX_POD + "---\n" + big))
    assert time.monotonic() - started < 10
    assert "document 2" in line and "32 MiB" in line


# --- item 6: input mistakes are input errors, worded as istioctl words them -------------------

POD_WITH_ANNOTATION = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    sidecar.istio.io/proxyCPU: "lots"
spec:
  containers:
  - image: nginx
    name: web
"""

LIST_HEAD = "apiVersion: v1\nkind: List\nitems:\n"


@pytest.mark.parametrize("stdin, expected", [
    (POD_WITH_ANNOTATION,
     "Error: failed to run injection template: invalid value 'lots' for annotation "
     "'sidecar.istio.io/proxyCPU': quantities must match the regular expression "
     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    (NGINX_POD + "--- x\n" + NGINX_POD, "Error: invalid Yaml document separator: x"),
    (LIST_HEAD + "- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec:\n"
                 "    containers: [{name: a, image: b}]\n    hostNetwork: maybe\n",
     "Error: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct "
     "field PodSpec.spec.hostNetwork of type bool"),
    (LIST_HEAD + "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: a}\n  spec: 5\n",
     "Error: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct "
     "field Deployment.spec of type v1.DeploymentSpec"),
    (LIST_HEAD + "- 5\n",
     "Error: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go value "
     "of type v1.TypeMeta"),
    (LIST_HEAD.replace("items:\n", "items: 5\n"),
     "Error: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct "
     "field List.items of type []runtime.RawExtension"),
])
def test_input_mistakes_get_istioctls_error(stdin, expected):
    assert error_line(run("-f", "-", *OFFLINE, "--istio-version", "1.30.4", stdin=stdin)) == expected


def test_bad_resource_annotations_never_reach_the_template():
    for value in ("1x", "  ", "\x1b[31m"):
        pod = POD_WITH_ANNOTATION.replace('"lots"', '"' + value.replace("\x1b", "\\e") + '"')
        assert "sidecar.istio.io/proxyCPU" in error_line(run("-f", "-", *OFFLINE, stdin=pod))


def test_null_list_items_are_skipped_as_istioctl_does():
    result = run("-f", "-", *OFFLINE, stdin=LIST_HEAD + "- null\n- apiVersion: v1\n  kind: Pod\n"
                                                        "  metadata: {name: a}\n  spec:\n"
                                                        "    containers: [{name: a, image: b}]\n")
    assert result.returncode == 0, result.stderr
    assert "name: istio-proxy" in result.stdout


@pytest.mark.parametrize("timeout", ["nan", "inf", "-1", "0", "soon", "1e400"])
def test_timeout_must_be_a_positive_number(timeout):
    line = error_line(run("-f", "-", "--timeout", timeout, *OFFLINE, stdin=NGINX_POD))
    assert "--timeout" in line and "positive number of seconds" in line


# --- item 7: text after a complete document inside one `---` chunk ----------------------------

@pytest.mark.parametrize("chunk, fate", [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n...\n  bad: [unclosed\n", "copied to the output unchecked"),
    ("{apiVersion: v1, kind: ConfigMap, metadata: {name: x}}\n  bad: 1\n", "copied to the output unchecked"),
    ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers: [{name: a, image: b}]\n...\n"
     "kind: Secret\n", "not in the output"),
])
def test_text_after_the_first_document_of_a_chunk_is_named_on_stderr(chunk, fate):
    """istioctl (go-yaml's Unmarshal) reads only the first YAML document of a `---` chunk and prints
    exit 0 with the rest copied or dropped; stdout stays istioctl's, and stderr says so."""
    result = run("-f", "-", *OFFLINE, stdin=chunk)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "follows a complete YAML document" in line]
    assert len(warnings) == 1 and fate in warnings[0], result.stderr
    assert "document 1 of the input" in warnings[0]


def test_a_clean_chunk_gets_no_such_warning():
    result = run("-f", "-", *OFFLINE, stdin=NGINX_POD + "...\n# a comment\n")
    assert result.returncode == 0
    assert "follows a complete YAML document" not in result.stderr


# --- item 9: terminal escape sequences from the input are shown, not obeyed --------------------

@pytest.mark.parametrize("stdin", [
    NGINX_POD + "--- \x1b]0;pwned\x07\x1b[2J\n" + NGINX_POD,
    POD_WITH_ANNOTATION.replace('"lots"', '"\\e[31mred\\x9b"'),
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"\\e[2J\\u202e\"\nspec:\n  containers: 5\n",
])
def test_control_characters_in_errors_are_escaped(stdin):
    line = error_line(run("-f", "-", *OFFLINE, stdin=stdin))
    assert not any(ch in line for ch in "\x1b\x07\x9b\u202e"), repr(line)
    assert "\\x1b" in line or "\\x9b" in line or "containers" in line


def test_escaping_keeps_plain_text():
    from kubectl_inject.errors import terminal_safe
    assert terminal_safe("a\x1b[31mb\x9b\u202ec é ü 日本") == "a\\x1b[31mb\\x9b\\u202ec é ü 日本"


# --- item 3: -o and --in-place on what is not a plain file ------------------------------------

@pytest.fixture
def injected():
    result = run("-f", "-", *OFFLINE, stdin=NGINX_POD)
    assert result.returncode == 0
    return result.stdout


def test_output_to_a_symlink_writes_its_target(tmp_path, injected):
    (tmp_path / "target.yaml").write_text("old\n")
    (tmp_path / "link.yaml").symlink_to("target.yaml")
    result = run("-f", "-", *OFFLINE, "-o", str(tmp_path / "link.yaml"), stdin=NGINX_POD)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "link.yaml").is_symlink()
    assert (tmp_path / "target.yaml").read_text() == injected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.yaml", "target.yaml"]


def test_output_to_a_fifo_writes_through(tmp_path, injected):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(kubectl_inject_command() + ["-f", "-", *OFFLINE, "-o", str(fifo)],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdin.write(NGINX_POD)
    proc.stdin.close()
    with open(fifo, encoding="utf-8") as reader:
        assert reader.read() == injected
    assert proc.wait(timeout=60) == 0
    assert fifo.is_fifo()
    assert [p.name for p in tmp_path.iterdir()] == ["fifo"]


def test_output_to_dev_null_and_dev_stdout(injected):
    assert run("-f", "-", *OFFLINE, "-o", "/dev/null", stdin=NGINX_POD).returncode == 0
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    result = run("-f", "-", *OFFLINE, "-o", "/dev/stdout", stdin=NGINX_POD)
    assert result.returncode == 0 and result.stdout == injected


def test_output_to_a_full_device_is_one_line():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    line = error_line(run("-f", "-", *OFFLINE, "-o", "/dev/full", stdin=NGINX_POD))
    assert "/dev/full" in line and "No space left" in line


def test_output_to_a_regular_file_keeps_its_mode(tmp_path, injected):
    out = tmp_path / "out.yaml"
    out.write_text("old\n")
    out.chmod(0o640)
    assert run("-f", "-", *OFFLINE, "-o", str(out), stdin=NGINX_POD).returncode == 0
    assert out.read_text() == injected
    assert out.stat().st_mode & 0o7777 == 0o640


def test_in_place_keeps_symlinks_hard_links_and_mode(tmp_path, injected):
    real = tmp_path / "real.yaml"
    real.write_text(NGINX_POD)
    real.chmod(0o600)
    os.link(real, tmp_path / "hard.yaml")
    (tmp_path / "link.yaml").symlink_to("real.yaml")
    other = tmp_path / "other.yaml"
    other.write_text(NGINX_POD)
    result = run("--in-place", "-f", str(tmp_path / "link.yaml"), "-f", str(other), *OFFLINE)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "link.yaml").is_symlink()
    assert real.read_text() == injected and (tmp_path / "hard.yaml").read_text() == injected
    assert real.stat().st_nlink == 2 and real.stat().st_mode & 0o7777 == 0o600
    assert other.read_text() == injected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.yaml", "link.yaml", "other.yaml", "real.yaml"]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_in_place_keeps_the_owner(tmp_path, injected):
    pod = tmp_path / "pod.yaml"
    pod.write_text(NGINX_POD)
    os.chown(pod, 12345, 23456)
    assert run("--in-place", "-f", str(pod), *OFFLINE).returncode == 0
    assert (pod.stat().st_uid, pod.stat().st_gid) == (12345, 23456)
    assert pod.read_text() == injected


# --- item 4: signals, closed pipes, write errors on stdout ------------------------------------

def _many_pods(count=300) -> str:
    return "---\n".join(NGINX_POD.replace("mywebserver", f"web{i}") for i in range(count))


@pytest.mark.parametrize("signum, code", [(2, 130), (15, 143)])
def test_signal_at_any_moment_leaves_nothing_behind(tmp_path, signum, code):
    """Signals from the first moments to the end of writing a large -o: no temporary file, no
    traceback, exit 128+N (or killed by the signal itself before Python runs any of our code)."""
    source = tmp_path / "in.yaml"
    source.write_text(_many_pods())
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for delay in (0.0, 0.05, 0.15, 0.3, 0.6, 1.0, 1.5, 2.5):
        for leftover in out_dir.iterdir():
            leftover.unlink()
        proc = subprocess.Popen(kubectl_inject_command() + ["-f", str(source), *OFFLINE, "-o", str(out_dir / "out.yaml")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
        assert [p.name for p in out_dir.iterdir()] in ([], ["out.yaml"]), delay
        if _in_interpreter_start_up(stderr):
            continue
        assert proc.returncode in (0, code, -signum), (delay, proc.returncode, stderr)
        if proc.returncode != -signum:
            assert "Traceback" not in stderr and len(stderr.splitlines()) <= 2, (delay, stderr)


def _in_interpreter_start_up(stderr: str) -> bool:
    """SIGINT while Python itself starts (its site module, the console script's own imports),
    before the first line of ours (launch.py) runs: Python's default handling, not ours."""
    ours = stderr.replace("kubectl_inject/launch.py", "")  # its imports, before its first line
    return "KeyboardInterrupt" in stderr and "kubectl_inject/" not in ours


def test_closed_stdout_pipe_is_a_quiet_exit_1(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.Popen(kubectl_inject_command() + ["-f", "-", *OFFLINE], stdin=subprocess.PIPE,
                            stdout=write_end, stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    _, stderr = proc.communicate(_many_pods(50), timeout=60)
    assert proc.returncode == 1
    assert stderr == ""


def test_full_stdout_is_one_line():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        proc = subprocess.run(kubectl_inject_command() + ["-f", "-", *OFFLINE], input=NGINX_POD,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["Error: cannot write to standard output: No space left on device"]


# --- item 5: kubeconfig problems are one line naming the cause --------------------------------

KUBECONFIG_WITH_EXEC = """\
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "SERVER"}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: COMMAND
contexts:
- name: lab
  context: {cluster: c, user: u}
current-context: lab
"""


@pytest.mark.parametrize("command, cause", [
    ("/nonexistent/kubelogin", "No such file or directory: '/nonexistent/kubelogin'"),
    ("/bin/false", "exec: process returned 1"),
])
def test_failing_credential_plugin_is_named(tmp_path, command, cause):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(KUBECONFIG_WITH_EXEC.replace("SERVER", "https://127.0.0.1:1").replace("COMMAND", command))
    line = error_line(run("-f", "-", "--kubeconfig", str(kubeconfig), "--timeout", "20", stdin=NGINX_POD))
    assert "credential plugin" in line and cause in line and "context 'lab'" in line


def test_server_without_scheme_is_one_line_that_says_so(tmp_path):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(KUBECONFIG_WITH_EXEC.replace("SERVER", "127.0.0.1:1")
                          .replace("    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
                                   "      command: COMMAND\n", "    token: abc\n"))
    line = error_line(run("-f", "-", "--kubeconfig", str(kubeconfig), "--timeout", "20", stdin=NGINX_POD))
    assert "cannot reach the Kubernetes API server" in line and "has no https:// in front" in line


def test_a_character_go_yamls_writer_refuses_is_istioctls_error():
    """Found by the property tests: encoding/json lets DEL through, go-yaml (which sigs.k8s.io/yaml
    re-reads the JSON with) refuses it; istioctl 1.30.4 prints exactly this."""
    pod = NGINX_POD.replace("    resources: {}\n", '    env: [{name: a, value: "\\x7f"}]\n')
    assert error_line(run("-f", "-", *OFFLINE, stdin=pod)) == "Error: yaml: control characters are not allowed"


# --- a fake API server on loopback for the cluster paths --------------------------------------

@pytest.fixture
def fake_api_server(tmp_path):
    """A loopback HTTP server answering the two ConfigMap reads with the built-in 1.30.4 config;
    yields a kubeconfig that points at it."""
    builtin = os.path.join(os.path.dirname(goyaml.__file__), "..", "builtin", "1.30.4")
    texts = {name: open(os.path.join(builtin, f"{name}.yaml"), encoding="utf-8").read()
             for name in ("template", "values", "mesh")}
    maps = {"istio-sidecar-injector": {"config": texts["template"], "values": texts["values"]},
            "istio": {"mesh": texts["mesh"]}}

    class Handler(JsonApiHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            name = self.path.split("?")[0].rsplit("/", 1)[-1]
            data = maps.get(name)
            self.reply_json(200 if data else 404,
                            {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name}, "data": data}
                            if data else {"kind": "Status", "code": 404})

    with loopback_server(Handler) as server:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(KUBECONFIG_WITH_EXEC.replace("SERVER", f"http://127.0.0.1:{server.server_port}")
                              .replace("    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
                                       "      command: COMMAND\n", "    token: abc\n"))
        yield str(kubeconfig)


def test_fake_cluster_serves_the_config(fake_api_server):
    result = run("-f", "-", "--kubeconfig", fake_api_server, "--timeout", "20", stdin=NGINX_POD)
    assert result.returncode == 0, result.stderr
    assert "name: istio-proxy" in result.stdout


def test_config_pull_into_a_path_that_cannot_be_a_directory(fake_api_server, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = error_line(run("config", "pull", "-o", str(blocker / "dir"), "--kubeconfig", fake_api_server,
                          "--timeout", "20"))
    assert "cannot create directory" in line and "Not a directory" in line


def test_signal_during_in_place_leaves_each_file_whole(tmp_path):
    """SIGTERM at several moments of an --in-place run over three files: no temporary file, and
    every file is either its original or its complete injected version."""
    original = _many_pods(100)
    expected = run("-f", "-", *OFFLINE, stdin=original).stdout
    for delay in (0.3, 0.8, 1.5, 2.5):
        paths = [tmp_path / f"f{i}.yaml" for i in range(3)]
        for path in paths:
            path.write_text(original)
        proc = subprocess.Popen(kubectl_inject_command() + ["--in-place", *OFFLINE]
                                + [arg for path in paths for arg in ("-f", str(path))],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(15)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode in (0, 143, -15), stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["f0.yaml", "f1.yaml", "f2.yaml"], delay
        contents = {p.read_text() for p in paths}
        assert contents <= {original, expected} and len(contents) == 1, delay  # all or none renamed
