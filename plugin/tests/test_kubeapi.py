"""kubeapi: the kubeconfig as kubectl reads it (merging, relative paths, the context), the
credentials (token, tokenFile, basic auth, exec plugins, client certificates) and the GETs, against
loopback servers (plain HTTP, and HTTPS with a CA and client certificates made by openssl)."""
from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import sys

import pytest

from inject_testkit import JsonApiHandler, loopback_server
from kubectl_inject import kubeapi


class _Recorder(JsonApiHandler):
    seen: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).seen.append((self.path, dict(self.headers)))
        self.reply_json(404 if "missing" in self.path else 200, {"kind": "ConfigMap", "data": {"path": self.path}})


@pytest.fixture
def server():
    class Handler(_Recorder):
        seen = []
    with loopback_server(Handler) as httpd:
        yield httpd, Handler.seen


def _write(path, config: dict) -> str:
    path.write_text(json.dumps(config))  # JSON is YAML
    return str(path)


def _config(server_url, user, name="lab", current=True, cluster_extra=None):
    config = {"apiVersion": "v1", "kind": "Config",
              "clusters": [{"name": name, "cluster": dict({"server": server_url}, **(cluster_extra or {}))}],
              "users": [{"name": name, "user": user}],
              "contexts": [{"name": name, "context": {"cluster": name, "user": name}}]}
    if current:
        config["current-context"] = name
    return config


def test_token_and_path_prefix(server, tmp_path):
    httpd, seen = server
    path = _write(tmp_path / "config", _config(f"http://127.0.0.1:{httpd.server_port}/prefix/", {"token": "abc"}))
    session = kubeapi.Session([path], None, 5)
    assert session.get("/api/v1/namespaces/x/configmaps/y")["data"]["path"] == "/prefix/api/v1/namespaces/x/configmaps/y"
    assert seen[-1][1]["Authorization"] == "Bearer abc"
    with pytest.raises(kubeapi.ApiError) as err:
        session.get("/api/v1/missing")
    assert err.value.status == 404


def test_a_socket_wait_that_ends_at_the_deadline_is_the_lookup_timeout(tmp_path):
    """A server that accepts and never answers: with a deadline, the socket's wait ends there and
    get() says so as LookupTimeout (each caller used to turn TimeoutError into it); without one,
    the socket's own timeout stays a TimeoutError."""
    import socket
    import time
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        path = _write(tmp_path / "config", _config(f"http://127.0.0.1:{listener.getsockname()[1]}", {"token": "t"}))
        session = kubeapi.Session([path], None, 0.5)
        with pytest.raises(kubeapi.LookupTimeout):
            session.get("/api/v1/namespaces/x/configmaps/y", time.monotonic() + 0.3)
        with pytest.raises(TimeoutError):
            session.get("/api/v1/namespaces/x/configmaps/y")


def test_token_file_relative_to_its_kubeconfig_and_basic_auth(server, tmp_path):
    httpd, seen = server
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "token").write_text("from-file\n")
    url = f"http://127.0.0.1:{httpd.server_port}"
    path = _write(tmp_path / "sub" / "config", _config(url, {"tokenFile": "token"}))
    kubeapi.Session([path], None, 5).get("/x")
    assert seen[-1][1]["Authorization"] == "Bearer from-file"
    path = _write(tmp_path / "basic", _config(url, {"username": "u", "password": "p"}))
    kubeapi.Session([path], None, 5).get("/x")
    assert seen[-1][1]["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()


def test_merged_files_first_wins(server, tmp_path):
    httpd, seen = server
    url = f"http://127.0.0.1:{httpd.server_port}"
    first = _config(url, {"token": "first"}, name="a", current=False)
    second = _config("http://127.0.0.1:1", {"token": "second"}, name="a")
    second["contexts"].append({"name": "b", "context": {"cluster": "a", "user": "a"}})
    paths = [_write(tmp_path / "one", first), _write(tmp_path / "two", second)]
    config = kubeapi.Kubeconfig(paths)
    assert config.current_context == "a" and set(config.contexts) == {"a", "b"}
    kubeapi.Session(paths, "b", 5).get("/x")  # cluster and user "a" of the first file
    assert seen[-1][1]["Authorization"] == "Bearer first"
    with pytest.raises(kubeapi.KubeconfigError, match="context 'c' not found"):
        kubeapi.Session(paths, "c", 5)


def _plugin(tmp_path, output: dict, code=0) -> str:
    script = tmp_path / "plugin.py"
    script.write_text("import json, os, sys\n"
                      "info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
                      "open(os.path.join(os.path.dirname(__file__), 'info.json'), 'w').write(json.dumps(info))\n"
                      f"print(json.dumps({output!r}))\n"
                      f"sys.stderr.write('plugin says no')\nsys.exit({code})\n")
    return str(script)


def test_exec_plugin_token_with_cluster_info(server, tmp_path):
    httpd, seen = server
    url = f"http://127.0.0.1:{httpd.server_port}"
    api = "client.authentication.k8s.io/v1beta1"
    script = _plugin(tmp_path, {"apiVersion": api, "kind": "ExecCredential", "status": {"token": "exec-token"}})
    user = {"exec": {"apiVersion": api, "command": sys.executable, "args": [script],
                     "env": [{"name": "X", "value": "1"}], "provideClusterInfo": True}}
    kubeapi.Session([_write(tmp_path / "config", _config(url, user))], None, 5).get("/x")
    assert seen[-1][1]["Authorization"] == "Bearer exec-token"
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["kind"] == "ExecCredential" and info["spec"]["cluster"]["server"] == url


@pytest.mark.parametrize("output, code, message", [
    ({}, 3, "exec: process returned 3. plugin says no"),
    ({"apiVersion": "v1", "kind": "ExecCredential", "status": {"token": "t"}}, 0,
     "exec: plugin api version v1 does not match client.authentication.k8s.io/v1beta1"),
    ({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "status": {}}, 0,
     "exec: missing token or clientCertificateData field in plugin output"),
])
def test_exec_plugin_failures(tmp_path, output, code, message):
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable,
                     "args": [_plugin(tmp_path, output, code)]}}
    with pytest.raises(kubeapi.CredentialError) as err:
        kubeapi.Session([_write(tmp_path / "config", _config("https://127.0.0.1:1", user))], None, 5)
    assert str(err.value) == message


def test_http_proxy_gets_the_absolute_url(server, tmp_path):
    httpd, seen = server
    path = _write(tmp_path / "config", _config("http://kube.invalid:8080", {"token": "t"},
                                               cluster_extra={"proxy-url": f"http://127.0.0.1:{httpd.server_port}"}))
    kubeapi.Session([path], None, 5).get("/api/v1/x")
    assert seen[-1][0] == "http://kube.invalid:8080/api/v1/x"
    socks = _write(tmp_path / "socks", _config("https://k:1", {}, cluster_extra={"proxy-url": "socks5://p:1"}))
    with pytest.raises(kubeapi.KubeconfigError, match="only http:// proxies"):
        kubeapi.Session([socks], None, 5)


# --- HTTPS: a CA, a server certificate for kube.test, client certificates ----------------------

def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("no openssl")
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "2", "-subj", "/CN=test-ca", cwd=d)
    for name, subject, ext in (("server", "/CN=kube.test", "subjectAltName=DNS:kube.test"),
                               ("client", "/CN=student", "extendedKeyUsage=clientAuth")):
        (d / f"{name}.ext").write_text(ext + "\n")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", subject, cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return d


@pytest.fixture
def tls_server(pki):
    class Handler(_Recorder):
        seen = []

        def do_GET(self):  # noqa: N802
            type(self).seen.append(("client", self.connection.getpeercert()["subject"]))
            _Recorder.do_GET(self)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.crt", pki / "server.key")
    context.load_verify_locations(pki / "ca.crt")
    context.verify_mode = ssl.CERT_REQUIRED
    with loopback_server(Handler, tls=context) as httpd:
        yield httpd, Handler.seen


def _b64(path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def test_client_certificate_data_and_tls_server_name(tls_server, pki, tmp_path):
    httpd, seen = tls_server
    user = {"client-certificate-data": _b64(pki / "client.crt"), "client-key-data": _b64(pki / "client.key")}
    cluster = {"certificate-authority-data": _b64(pki / "ca.crt"), "tls-server-name": "kube.test"}
    path = _write(tmp_path / "config", _config(f"https://127.0.0.1:{httpd.server_port}", user, cluster_extra=cluster))
    assert kubeapi.Session([path], None, 5).get("/x")["kind"] == "ConfigMap"
    assert ((("commonName", "student"),),) == seen[0][1]
    # the same files by (relative) path
    for name in ("ca.crt", "client.crt", "client.key"):
        shutil.copy(pki / name, tmp_path / name)
    user = {"client-certificate": "client.crt", "client-key": "client.key"}
    cluster = {"certificate-authority": "ca.crt", "tls-server-name": "kube.test"}
    path = _write(tmp_path / "config2", _config(f"https://127.0.0.1:{httpd.server_port}", user, cluster_extra=cluster))
    assert kubeapi.Session([path], None, 5).get("/x")["kind"] == "ConfigMap"


def test_certificate_checked_against_the_server_name(tls_server, pki, tmp_path):
    httpd, _ = tls_server
    user = {"client-certificate-data": _b64(pki / "client.crt"), "client-key-data": _b64(pki / "client.key")}
    wrong = _write(tmp_path / "config", _config(f"https://127.0.0.1:{httpd.server_port}", user,
                                                cluster_extra={"certificate-authority-data": _b64(pki / "ca.crt")}))
    with pytest.raises(ssl.SSLCertVerificationError):
        kubeapi.Session([wrong], None, 5).get("/x")
    skip = _write(tmp_path / "skip", _config(f"https://127.0.0.1:{httpd.server_port}", user,
                                             cluster_extra={"insecure-skip-tls-verify": True}))
    assert kubeapi.Session([skip], None, 5).get("/x")["kind"] == "ConfigMap"


def test_exec_plugin_client_certificate(tls_server, pki, tmp_path):
    httpd, seen = tls_server
    api = "client.authentication.k8s.io/v1"
    status = {"clientCertificateData": (pki / "client.crt").read_text(), "clientKeyData": (pki / "client.key").read_text()}
    script = _plugin(tmp_path, {"apiVersion": api, "kind": "ExecCredential", "status": status})
    user = {"exec": {"apiVersion": api, "command": sys.executable, "args": [script]}}
    cluster = {"certificate-authority-data": _b64(pki / "ca.crt"), "tls-server-name": "kube.test"}
    path = _write(tmp_path / "config", _config(f"https://127.0.0.1:{httpd.server_port}", user, cluster_extra=cluster))
    assert kubeapi.Session([path], None, 5).get("/x")["kind"] == "ConfigMap"
    assert ((("commonName", "student"),),) == seen[0][1]
    assert not any(name.startswith("kubectl-inject") for name in os.listdir("/tmp")), "no key left on disk"


def test_auth_provider_goes_through_the_kubernetes_package(server, tmp_path):
    """oidc with an id-token valid until 2100: the package's loader gives the header."""
    httpd, seen = server
    token = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln"
    user = {"auth-provider": {"name": "oidc", "config": {"client-id": "x", "id-token": token}}}
    path = _write(tmp_path / "config", _config(f"http://127.0.0.1:{httpd.server_port}", user))
    kubeapi.Session([path], None, 5).get("/x")
    assert seen[-1][1]["Authorization"] == f"Bearer {token}"


@pytest.mark.parametrize("env_value, kubelets, expected", [
    ("true", [], True), ("false", ["v1.34.1"], False),
    ("auto", ["v1.34.1", "v1.33.0"], True), ("auto", ["v1.34.1", "v1.32.9"], False),
])
def test_native_sidecars_from_istiod_and_the_nodes(tmp_path, env_value, kubelets, expected):
    from kubectl_inject.cluster_config import ClusterTarget, native_sidecars
    from kubectl_inject.releases import profile_for

    class Handler(_Recorder):
        def do_GET(self):  # noqa: N802
            if self.path == "/apis/apps/v1/namespaces/istio-system/deployments/istiod":
                body = {"spec": {"template": {"spec": {"containers": [
                    {"name": "discovery", "env": [{"name": "ENABLE_NATIVE_SIDECARS", "value": env_value}]}]}}}}
            elif self.path == "/api/v1/nodes":
                body = {"items": [{"status": {"nodeInfo": {"kubeletVersion": v}}} for v in kubelets]}
            else:
                body = None
            self.reply_json(200 if body else 404, body or {})

    with loopback_server(Handler) as httpd:
        path = _write(tmp_path / "config", _config(f"http://127.0.0.1:{httpd.server_port}", {"token": "t"}))
        assert native_sidecars(ClusterTarget(kubeconfig=path, timeout=5), profile_for((1, 30, 4))) is expected
