"""Trust at the edges, cluster mode (issue 22, classes 1, 2, 3 and 9): --timeout bounds the whole
look-up, everything read from outside has a size cap, an odd answer is one error line, and a
credential plugin never outlives its deadline or the command.

The API servers here are hostile fakes on 127.0.0.1 (a free port; nothing else is addressed):
one answers each request just inside the timeout, one drips its answer, one sends an endless
chunked body, one never answers. Each test failed on the code before issue 22."""
from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import threading
import time

import pytest

from inject_testkit import NGINX_POD, JsonApiHandler, kubectl_inject_command, loopback_server
from kubectl_inject import goyaml

BUILTIN = os.path.join(os.path.dirname(goyaml.__file__), "..", "builtin", "1.30.4")
TEXTS = {name: open(os.path.join(BUILTIN, f"{name}.yaml"), encoding="utf-8").read()
         for name in ("template", "values", "mesh")}
CONFIGMAPS = {"istio-sidecar-injector": {"config": TEXTS["template"], "values": TEXTS["values"]},
              "istio": {"mesh": TEXTS["mesh"]}}


def kubeconfig_text(server: str, user: str = "    token: abc\n") -> str:
    return ("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"" + server + "\"}\n"
            "users:\n- name: u\n  user:\n" + user + "contexts:\n- name: lab\n  context: {cluster: c, user: u}\n"
            "current-context: lab\n")


def run(*args, stdin=NGINX_POD, timeout=60, memory=None, **kwargs):
    """The command in a child process; with `memory`, its address space is capped (bytes)."""
    env = dict(os.environ, HOME="/nonexistent")
    env.pop("KUBECONFIG", None)

    def limit():
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return subprocess.run(kubectl_inject_command() + list(args), input=stdin, text=True, capture_output=True,
                          env=env, timeout=timeout, preexec_fn=limit if memory else None, **kwargs)


def error_line(result) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "internal error" not in lines[0], lines[0]
    return lines[0]


def timed(*args, **kwargs):
    started = time.monotonic()
    result = run(*args, **kwargs)
    return result, time.monotonic() - started


class _Hostile(JsonApiHandler):
    """Serves the built-in config; `behaviour` says how (a class attribute set per server)."""

    behaviour = "normal"
    delay = 0.0
    stop = threading.Event()
    answer = None  # a ConfigMap body to serve instead (odd shapes)

    def do_GET(self):  # noqa: N802 - http.server's name
        name = self.path.split("?")[0].rsplit("/", 1)[-1]
        data = CONFIGMAPS.get(name)
        body = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name}, "data": data} if data \
            else {"kind": "Status", "code": 404}
        status = 200 if data or "/nodes" in self.path or "/deployments/" in self.path else 404
        if "/nodes" in self.path:
            body = {"kind": "NodeList", "items": []}
        if self.answer is not None and data:
            body = self.answer
        if self.behaviour == "slow":  # each answer just inside the timeout
            self.stop.wait(self.delay)
            self.reply_json(status, body)
        elif self.behaviour == "silent":  # accepts, never answers
            self.stop.wait(120)
        elif self.behaviour == "drip":  # headers at once, then one byte every `delay` seconds
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            for index in range(len(raw)):
                if self.stop.wait(self.delay):
                    return
                with contextlib.suppress(OSError):
                    self.wfile.write(raw[index:index + 1])
                    self.wfile.flush()
        elif self.behaviour == "endless":  # a chunked body that never ends
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"%x\r\n" % 65536 + b"[" * 65536 + b"\r\n"
            with contextlib.suppress(OSError):
                while not self.stop.is_set():
                    self.wfile.write(chunk)
        else:
            self.reply_json(status, body)


@contextlib.contextmanager
def hostile_server(tmp_path, behaviour="normal", delay=0.0, answer=None, user="    token: abc\n"):
    """A loopback API server behaving as told; yields a kubeconfig that points at it."""
    stop = threading.Event()
    handler = type("Handler", (_Hostile,), {"behaviour": behaviour, "delay": delay, "stop": stop,
                                            "answer": answer})
    with loopback_server(handler) as server:
        kubeconfig = tmp_path / f"kubeconfig-{behaviour}"
        kubeconfig.write_text(kubeconfig_text(f"http://127.0.0.1:{server.server_port}", user))
        try:
            yield str(kubeconfig)
        finally:
            stop.set()


def test_the_normal_fake_server_serves_the_config(tmp_path):
    with hostile_server(tmp_path) as kubeconfig:
        result = run("-f", "-", "--kubeconfig", kubeconfig, "--timeout", "20")
    assert result.returncode == 0, result.stderr
    assert "name: istio-proxy" in result.stdout


# --- class 1: --timeout bounds the whole look-up ------------------------------------------------

# What a run may take beyond its --timeout: the interpreter's start, the package's load and the
# message, on a loaded 2-core machine (CI runs these beside other work). The runs it bounds took
# longer before (7.6 s) or for ever.
SLACK = 4.0

def test_answers_each_just_inside_the_timeout_still_end_at_the_timeout(tmp_path):
    """Four requests (two ConfigMaps, istiod, nodes) each answered after 1.9 s: --timeout 2 is
    the whole look-up's bound (it took about 7.6 s: the limit applied per request)."""
    with hostile_server(tmp_path, "slow", delay=1.9) as kubeconfig:
        result, took = timed("-f", "-", "--kubeconfig", kubeconfig, "--timeout", "2")
    assert "did not answer within 2 s" in error_line(result)
    assert took < 2 + SLACK, took


def test_a_dripping_server_ends_at_the_timeout(tmp_path):
    """Headers at once, then a byte every 0.2 s: every read is well inside any socket timeout."""
    with hostile_server(tmp_path, "drip", delay=0.2) as kubeconfig:
        result, took = timed("-f", "-", "--kubeconfig", kubeconfig, "--timeout", "2")
    assert "did not answer within 2 s" in error_line(result)
    assert took < 2 + SLACK, took


def test_a_server_that_never_answers_ends_at_the_timeout(tmp_path):
    with hostile_server(tmp_path, "silent") as kubeconfig:
        result, took = timed("-f", "-", "--kubeconfig", kubeconfig, "--timeout", "1.5")
    assert "did not answer within 1.5 s" in error_line(result)
    assert took < 1.5 + SLACK, took


def test_a_kubeconfig_whose_read_blocks_ends_at_the_timeout(tmp_path):
    """A FIFO nobody writes: open() blocks for ever. The message names the context without
    reading the kubeconfig (it used to wait for the lock the blocked reader held: for ever)."""
    fifo = tmp_path / "kubeconfig"
    os.mkfifo(fifo)
    result, took = timed("-f", "-", "--kubeconfig", str(fifo), "--timeout", "1", timeout=30)
    assert error_line(result) == ("Error: the Kubernetes API server (the current context) did not answer "
                                  "within 1 s (see --timeout)")
    assert took < 1 + SLACK, took


def test_config_pull_is_bounded_by_the_same_deadline(tmp_path):
    with hostile_server(tmp_path, "slow", delay=1.2) as kubeconfig:
        result, took = timed("config", "pull", "-o", str(tmp_path / "pulled"), "--kubeconfig", kubeconfig,
                             "--timeout", "2", stdin=None)
    assert "did not answer within 2 s" in error_line(result)
    assert took < 2 + SLACK, took
    assert not (tmp_path / "pulled").exists()


@pytest.mark.parametrize("timeout", ["1e10", "9223372036", "1e300"])
def test_a_huge_timeout_is_no_practical_bound(tmp_path, timeout):
    """--timeout 1e10 was an internal error (OverflowError: timestamp too large)."""
    with hostile_server(tmp_path) as kubeconfig:
        result = run("-f", "-", "--kubeconfig", kubeconfig, "--timeout", timeout)
    assert result.returncode == 0, result.stderr
    assert "name: istio-proxy" in result.stdout


# --- class 2: size caps on what comes from outside ---------------------------------------------

def test_an_endless_chunked_answer_is_refused_at_the_cap(tmp_path):
    """An endless chunked body: refused at 64 MiB, within a 1.5 GiB address space (it grew by
    gigabytes within the timeout)."""
    with hostile_server(tmp_path, "endless") as kubeconfig:
        result, took = timed("-f", "-", "--kubeconfig", kubeconfig, "--timeout", "60", memory=1536 * 2**20)
    line = error_line(result)
    assert "answer to GET /api/v1/namespaces/istio-system/configmaps/istio-sidecar-injector is larger than 64 MiB" \
        in line, line


def test_an_endless_kubeconfig_is_refused_at_the_cap():
    result, took = timed("-f", "-", "--kubeconfig", "/dev/zero", "--timeout", "30", memory=1536 * 2**20)
    assert error_line(result) == ("Error: kubeconfig '/dev/zero' is larger than 16 MiB (kubectl inject reads "
                                  "at most 16 MiB there)")
    assert took < 10, took


def test_an_endless_token_file_is_refused_at_the_cap(tmp_path):
    with hostile_server(tmp_path, user="    tokenFile: /dev/zero\n") as kubeconfig:
        result = run("-f", "-", "--kubeconfig", kubeconfig, "--timeout", "30", memory=1536 * 2**20)
    assert "the kubeconfig's tokenFile '/dev/zero' is larger than 16 MiB" in error_line(result)


def test_endless_credential_plugin_output_is_refused_at_the_cap(tmp_path):
    user = ("    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
            "      command: /bin/cat\n      args: [/dev/zero]\n")
    with hostile_server(tmp_path, user=user) as kubeconfig:
        result = run("-f", "-", "--kubeconfig", kubeconfig, "--timeout", "30", memory=1536 * 2**20)
    assert "the plugin's output is larger than 16 MiB" in error_line(result)


# --- class 3: answers of the wrong shape are one line -------------------------------------------

@pytest.mark.parametrize("answer, expected", [
    ({"kind": "ConfigMap", "data": ["config", "values"]},
     "json: cannot unmarshal array into Go struct field ConfigMap.data of type map[string]string"),
    ({"kind": "ConfigMap", "data": {"config": 1, "values": "{}"}},
     "json: cannot unmarshal number into Go struct field ConfigMap.data of type string"),
    ({"kind": "ConfigMap", "data": "config"},
     "json: cannot unmarshal string into Go struct field ConfigMap.data of type map[string]string"),
    (["not", "an", "object"], "is not a JSON object"),
])
def test_a_configmap_of_the_wrong_shape_is_one_line(tmp_path, answer, expected):
    with hostile_server(tmp_path, answer=answer) as kubeconfig:
        line = error_line(run("-f", "-", "--kubeconfig", kubeconfig, "--timeout", "20"))
    assert expected in line, line


@pytest.mark.parametrize("text, expected", [
    ("clusters: 5\n", "clusters is not a list"),
    ("clusters: [{name: c, cluster: [1]}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n",
     "cluster 'c' is not a mapping"),
    ("contexts: [{name: [1]}]\n", "has a name that is not a string"),
    ("current-context: [1]\n", "current-context is not a string"),
    ("clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', certificate-authority-data: 5}}]\n"
     "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n", "certificate-authority-data is not a string"),
    ("clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]\nusers: [{name: u, user: {exec: "
     "{apiVersion: v1, command: [1]}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
     "command and args must be strings"),
])
def test_a_kubeconfig_of_the_wrong_shape_is_one_line(tmp_path, text, expected):
    path = tmp_path / "kubeconfig"
    path.write_text(text)
    line = error_line(run("-f", "-", "--kubeconfig", str(path), "--timeout", "20"))
    assert expected in line, line


# --- class 9: a credential plugin never outlives its deadline or the command ---------------------

def _hanging_plugin(tmp_path) -> tuple[str, str]:
    """A plugin that records its pid and its child's, then hangs (user entry, pid file)."""
    pids = tmp_path / "pids"
    script = tmp_path / "plugin.sh"
    script.write_text(f"#!/bin/sh\nsleep 300 &\necho $$ $! > {pids}\nwait\n")
    script.chmod(0o755)
    user = f"    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {script}\n"
    return user, str(pids)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _wait_for(path: str, seconds: float = 10) -> list:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if os.path.exists(path) and open(path, encoding="ascii").read().strip():
            return [int(p) for p in open(path, encoding="ascii").read().split()]
        time.sleep(0.05)
    raise AssertionError(f"{path} was not written")


def _assert_gone(pids: list) -> None:
    end = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < end:
        time.sleep(0.05)
    alive = [pid for pid in pids if _alive(pid)]
    for pid in alive:  # (the test's own clean-up)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not alive, f"the plugin's processes {alive} outlived the command"


def test_a_hanging_credential_plugin_is_killed_at_the_deadline(tmp_path):
    user, pids = _hanging_plugin(tmp_path)
    with hostile_server(tmp_path, user=user) as kubeconfig:
        # (4 s: time for the plugin to start and write its pids first, however loaded the machine)
        result, took = timed("-f", "-", "--kubeconfig", kubeconfig, "--timeout", "4")
    assert "did not answer within 4 s" in error_line(result)
    assert took < 4 + SLACK, took
    _assert_gone(_wait_for(pids))


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_a_credential_plugin_kills_it(tmp_path, signum, code):
    user, pids = _hanging_plugin(tmp_path)
    with hostile_server(tmp_path, user=user) as kubeconfig:
        env = dict(os.environ, HOME="/nonexistent")
        proc = subprocess.Popen(kubectl_inject_command() + ["-f", "-", "--kubeconfig", kubeconfig, "--timeout", "60"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        proc.stdin.write(NGINX_POD)
        proc.stdin.close()
        proc.stdin = None  # (communicate would flush it)
        found = _wait_for(pids)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code, stderr
    assert stdout == "" and "Traceback" not in stderr
    _assert_gone(found)


def test_kept_alive_connections_carry_the_next_request(tmp_path):
    """HTTP/1.1 keep-alive (as the real API server answers): the body is read to its end, the
    response closed, the connection reused for the next GET. (Reading the body piece by piece
    once left the response open: the next GET on it failed, and the native-sidecar hint fell
    back to its default silently.)"""
    from kubectl_inject import kubeapi

    class Handler(JsonApiHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 - http.server's name
            if "chunked" in self.path:
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in (b'{"kind": ', b'"ConfigMap"}'):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.reply_json(200, {"kind": "ConfigMap", "data": {"path": self.path}})

    with loopback_server(Handler) as server:
        path = tmp_path / "kubeconfig"
        path.write_text(kubeconfig_text(f"http://127.0.0.1:{server.server_port}"))
        session = kubeapi.Session([str(path)], None, 5)
        deadline = time.monotonic() + 10
        for url in ("/a", "/chunked", "/b", "/chunked", "/c"):
            assert session.get(url, deadline)["kind"] == "ConfigMap"
        assert len(session._idle) == 1  # one connection, reused throughout
