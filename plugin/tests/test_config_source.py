"""Where the injector config comes from when files are not all given (issue 5)."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from inject_testkit import NGINX_POD
from kubectl_inject.config_source import DEFAULT_ISTIO_VERSION, builtin_versions


def one_line_error(result):
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_no_cluster_no_files_uses_the_builtin_default(run_inject, tmp_path):
    pod = tmp_path / "nginx-pod.yaml"
    pod.write_text(NGINX_POD)
    result = run_inject("-f", str(pod))
    assert result.returncode == 0, result.stderr
    notice = result.stderr.strip().splitlines()
    assert len(notice) == 1 and f"built-in injector config of Istio {DEFAULT_ISTIO_VERSION}" in notice[0]
    for way in ("--kubeconfig", "--injectConfigFile", "--valuesFile", "--meshConfigFile"):
        assert way in notice[0], "the notice names the other ways to provide config"
    assert f"image: docker.io/istio/proxyv2:{DEFAULT_ISTIO_VERSION}" in result.stdout
    assert "- istio-iptables" in result.stdout and "name: istio-proxy" in result.stdout


def test_every_builtin_version_injects(run_inject):
    versions = builtin_versions()
    assert DEFAULT_ISTIO_VERSION in versions and len(versions) >= 2, versions
    for version in versions:
        result = run_inject("-f", "-", "--istio-version", version, stdin=NGINX_POD)
        assert result.returncode == 0, result.stderr
        assert f"docker.io/istio/proxyv2:{version}" in result.stdout


def test_unknown_builtin_version(run_inject):
    line = one_line_error(run_inject("-f", "-", "--istio-version", "0.0.1", stdin=NGINX_POD))
    assert "0.0.1" in line and DEFAULT_ISTIO_VERSION in line


def test_explicit_kubeconfig_that_does_not_exist(run_inject, tmp_path):
    line = one_line_error(run_inject("-f", "-", "--kubeconfig", str(tmp_path / "nope"), stdin=NGINX_POD))
    for way in ("--kubeconfig", "--injectConfigFile", "--offline"):
        assert way in line


def _kubeconfig(tmp_path, server):
    path = tmp_path / "kubeconfig"
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- cluster: {{server: "{server}", insecure-skip-tls-verify: true}}
  name: lab
contexts:
- context: {{cluster: lab, user: lab}}
  name: lab
current-context: lab
users:
- name: lab
  user: {{token: test}}
""")
    return str(path)


def test_refused_connection_is_an_error(run_inject, tmp_path):
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    kubeconfig = _kubeconfig(tmp_path, f"https://127.0.0.1:{port}")
    line = one_line_error(run_inject("-f", "-", "--kubeconfig", kubeconfig, stdin=NGINX_POD))
    assert "cannot reach the Kubernetes API server" in line


def test_silent_api_server_fails_within_the_timeout(run_inject, tmp_path):
    """A server that accepts connections but never answers must not hang the command."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        kubeconfig = _kubeconfig(tmp_path, f"https://127.0.0.1:{listener.getsockname()[1]}")
        start = time.monotonic()
        result = run_inject("-f", "-", "--kubeconfig", kubeconfig, "--timeout", "2", stdin=NGINX_POD)
        elapsed = time.monotonic() - start
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()
    line = one_line_error(result)
    assert "2 s" in line or "timed out" in line.lower() or "timeout" in line.lower(), line
    assert elapsed < 15, f"took {elapsed:.1f} s with --timeout 2"


def test_config_show_names_the_sources(run_inject, golden_config):
    result = run_inject("config", "show", "--valuesFile", golden_config[3])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("config") and "built-in default for Istio" in lines[0]
    assert lines[1].startswith("values") and golden_config[3] in lines[1]
    assert lines[2].startswith("mesh") and "built-in" in lines[2]
