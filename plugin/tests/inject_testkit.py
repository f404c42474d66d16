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
import tracemalloc
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


def deployment(i: int) -> str:
    """Deployment i of make bench's bulk input (also the parallel tests'): every few a variation the
    injector must handle. No document separator: a stream is these joined by "---\n"."""
    annotations = ""
    if i % 3 == 0:
        annotations = ('      annotations:\n        prometheus.io/scrape: "true"\n'
                       '        prometheus.io/port: "9090"\n')
    elif i % 3 == 1:
        annotations = ('      annotations:\n        sidecar.istio.io/proxyCPU: 200m\n'
                       '        traffic.sidecar.istio.io/excludeOutboundPorts: "5432"\n')
    sidecar = ""
    if i % 2 == 0:
        sidecar = (f"      - name: worker\n        image: registry.example/worker:{i}\n"
                   "        args: [--queue, jobs]\n        resources:\n          requests: {cpu: 50m, memory: 64Mi}\n")
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: bench
spec:
  replicas: 2
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
{annotations}      labels:
        app: app-{i}
        version: v{i % 4}
    spec:
      containers:
      - name: app
        image: registry.example/app:{i}
        ports:
        - containerPort: 8080
          name: http
        readinessProbe:
          httpGet:
            path: /ready
            port: 8080
        livenessProbe:
          tcpSocket:
            port: 8080
{sidecar}"""


def peak_while_injecting(text: str, settings) -> tuple[int, int]:
    """(peak traced bytes above the start, output characters) of inject_stream over text, its
    output counted and dropped. The input is made before tracing starts: it is not counted."""
    from kubectl_inject.inject import inject_stream  # here: bench/ imports this module without the plugin
    written = [0]

    def write(piece):
        written[0] += len(piece)

    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        inject_stream(text, settings, write)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - start, written[0]


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
