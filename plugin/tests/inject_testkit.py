"""Shared constants and helpers of the injector's tests (imported by name, not through conftest,
so that test directories elsewhere in the repository with their own conftest do not shadow them)."""
from __future__ import annotations

import contextlib
import http.server
import io
import json
import os
import sys
import threading
from contextlib import redirect_stderr, redirect_stdout

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")

# The lab's Pod, exactly as `kubectl run mywebserver --image nginx --dry-run=client -oyaml`
# prints it: the input of the sidecar-injection lab (bench/bench_inject.py reads it from here).
NGINX_POD = """\
apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    run: mywebserver
  name: mywebserver
spec:
  containers:
  - image: nginx
    name: mywebserver
    resources: {}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
status: {}
"""


def kubectl_inject_command() -> list:
    """The installed console script when there is one, else the checkout's launcher."""
    exe = os.path.join(VENV_BIN, "kubectl-inject")
    if os.path.exists(exe):
        return [exe]
    return [sys.executable, os.path.join(ROOT, "kubectl-inject")]


# The lab cache, as the hermetic build defines it (lab_checks/hermetic/hermetic_env.py, the one
# Python definition; lib.sh is the shell one).
sys.path.insert(0, os.path.join(ROOT, "lab_checks", "hermetic"))
from hermetic_env import CACHE  # noqa: E402

LAB_CACHE = str(CACHE)


def run_cli(argv, env, monkeypatch):
    """Run the command line in this process (fast), with env set; (exit code, stdout, stderr)."""
    from kubectl_inject import cli
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


class JsonApiHandler(http.server.BaseHTTPRequestHandler):
    """Base of the loopback API servers of the plugin's own cluster-mode tests (its error paths
    and its client; never a stand-in for the lab's cluster): JSON answers, no request log."""

    def reply_json(self, status: int, obj) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def loopback_server(handler, tls=None):
    """`handler` served on 127.0.0.1 (a free port) from a thread, over TLS when an
    ssl.SSLContext is given; shut down and closed on exit."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
