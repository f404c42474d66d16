"""Fake Kubernetes API servers for the grader's hardening tests, on 127.0.0.1 only.

* FakeApi: plain HTTP; answers each GET from a function of (path, headers) -> (status, body);
  `endless` paths stream a chunked body that never ends (as fast as the client reads).
* stalled(): a TLS-less TCP port that accepts connections and never says a word, and reports
  when a client has connected (so a test can signal the grader mid-grade, not before).
* client_certificate(): a throwaway key and self-signed certificate (openssl), PEM.
"""
from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

NOT_FOUND = (404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404})


class FakeApi:
    def __init__(self, answer=None, endless=()):
        self.answer = answer or (lambda path, headers: NOT_FOUND)
        self.endless = endless
        self.requests: list[tuple[str, dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.requests.append((self.path, dict(self.headers)))
                if any(self.path.startswith(p) for p in fake.endless):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    chunk = b"%x\r\n%s\r\n" % (1 << 16, b" " * (1 << 16))
                    try:
                        self.wfile.write(b"1\r\n[\r\n")
                        while True:   # until the client hangs up
                            self.wfile.write(chunk)
                    except OSError:
                        return
                status, body = fake.answer(self.path.split("?")[0], self.headers)   # case-insensitive get
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Stalled:
    """Accepts connections and never answers; `connected` is set at the first one."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"https://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connected = threading.Event()
        self.held: list[socket.socket] = []

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            self.connected.set()

    def __enter__(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.sock.close()
        for conn in self.held:
            conn.close()


def client_certificate(tmp: Path) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM), made by openssl in tmp (removed after)."""
    openssl = shutil.which("openssl")
    if not openssl:
        import pytest
        pytest.skip("needs openssl to make a client certificate")
    work = tmp / "pki"
    work.mkdir()
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=student",
                    "-keyout", str(work / "key.pem"), "-out", str(work / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    cert, key = (work / "cert.pem").read_bytes(), (work / "key.pem").read_bytes()
    shutil.rmtree(work)
    return cert, key


def kubeconfig(path: Path, server: str, namespace: str = "default", user: dict | None = None) -> Path:
    cluster = {"server": server}
    if server.startswith("https"):
        cluster["insecure-skip-tls-verify"] = True
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user or {}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": namespace}}]}))
    return path


def with_key(cert: bytes, key: bytes) -> dict:
    return {"client-certificate-data": base64.b64encode(cert).decode(),
            "client-key-data": base64.b64encode(key).decode()}
