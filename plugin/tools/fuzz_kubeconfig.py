#!/usr/bin/env python3
"""Byte-level mutation fuzzer for what kubectl inject reads in cluster mode (issue 22): the
kubeconfig (with the files it names) and the API server's answers.

Each input is a seed kubeconfig with a few random byte mutations (flip, insert, delete, duplicate
a span, splice in YAML punctuation, wrong-shaped values, odd numbers, control characters). It
goes through everything cluster mode does with a kubeconfig before the first request:
kubeapi.Kubeconfig (read with its size cap, YAML, merge), Kubeconfig.resolve (the context, its
cluster and user) and kubeapi.Session (server URL, proxy, credentials: token, tokenFile, basic
auth, exec plugin output, client certificates, the TLS context). Every third input is instead a
mutated ConfigMap answer, through kubeapi.decode_answer and cluster_config.configmap_data.

Nothing here leaves the process: no request is made (Session only prepares one), credential
plugins are not run (kubeapi's runner is replaced by one that answers with the seed's
ExecCredential, mutated too), auth-provider users do not load the `kubernetes` package.

The contract checked for every input, as `cluster_config` turns failures into its one error line:

* the only exceptions are InjectError (kubeapi's KubeconfigError, CredentialError, ResponseError)
  and the connection-level ones cluster_config words as "cannot reach the Kubernetes API server"
  (OSError, ssl.SSLError); anything else (TypeError, AttributeError, KeyError, ValueError...)
  would be a wrong-shape value reaching code that assumed a shape;
* an error message is one line once printed and has no raw control character;
* no input takes longer than --slow seconds, and the process never holds more than --memory MiB.

    .venv/bin/python plugin/tools/fuzz_kubeconfig.py --seconds 300 --seed 1

Exit code 1 when there is any violation; --replay SEED:INDEX prints one input and its result.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import ssl
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "plugin"))

from kubectl_inject import cluster_config, credential_plugin, kubeapi  # noqa: E402
from kubectl_inject.errors import InjectError, terminal_safe  # noqa: E402

# A self-signed certificate and key (EC P-256, made for this fuzzer; no secret protects anything)
# so that the TLS paths get real PEM to mutate.
CERT = b"""-----BEGIN CERTIFICATE-----
MIIBfTCCASOgAwIBAgIUGwS3g8Xg4ro1vvrAgHpoF7NhAiwwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJZnV6ei10ZXN0MB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEwMTAw
MDAwMFowFDESMBAGA1UEAwwJZnV6ei10ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAE6hQqWUj3kG8lKfMKJv0oB2Q9xk1cKj1o7G5y0kHkZb9rjv3B6Wl0m8pT
7yG2HqV4h6gYx3cY3m1vQmDq0Yb3xaNTMFEwHQYDVR0OBBYEFF1pZzZ1c0Z1enp6
enp6enp6enp6MB8GA1UdIwQYMBaAFF1pZzZ1c0Z1enp6enp6enp6enp6MA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAK0fRq1o8Zk3P1cQ1W9x7y2u
3nqvGmJc8x0g5w0wHn7rAiBq1l8m9o0sZ0b3c5m4k2Qn3w8m2zY3cJ0f3eY0bF1wPw==
-----END CERTIFICATE-----
"""
KEY = b"""-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIBkYt3dQ3dK7mG0v1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3oAoGCCqG
SM49AwEHoUQDQgAE6hQqWUj3kG8lKfMKJv0oB2Q9xk1cKj1o7G5y0kHkZb9rjv3B
6Wl0m8pT7yG2HqV4h6gYx3cY3m1vQmDq0Yb3xQ==
-----END EC PRIVATE KEY-----
"""
B64_CERT = base64.b64encode(CERT).decode()
B64_KEY = base64.b64encode(KEY).decode()


def kubeconfig_seeds(files: str) -> list:
    """Kubeconfigs with every kind of user and cluster entry; `files` holds the files they name."""
    head = "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
    contexts = "contexts:\n- name: lab\n  context: {cluster: c, user: u, namespace: ns}\n" \
               "- name: other\n  context:\n    cluster: c\n    user: nobody\n"
    clusters = [
        "- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n    certificate-authority-data: " + B64_CERT + "\n",
        f"- name: c\n  cluster:\n    server: https://127.0.0.1:6443/prefix\n    certificate-authority: {files}/ca.pem\n"
        "    tls-server-name: kubernetes\n",
        "- name: c\n  cluster: {server: 'http://127.0.0.1:8080', proxy-url: 'http://127.0.0.1:3128'}\n",
        "- name: c\n  cluster: {server: '127.0.0.1:6443', insecure-skip-tls-verify: true}\n",
        "- name: c\n  cluster:\n    server: https://[::1]:6443\n    insecure-skip-tls-verify: true\n"
        "    extensions:\n    - name: client.authentication.k8s.io/exec\n      extension: {audience: x}\n",
    ]
    users = [
        "- name: u\n  user: {token: abc}\n",
        f"- name: u\n  user: {{tokenFile: {files}/token}}\n",
        "- name: u\n  user: {username: admin, password: s3cr\u00e9t}\n",
        f"- name: u\n  user:\n    client-certificate: {files}/cert.pem\n    client-key: {files}/key.pem\n",
        "- name: u\n  user:\n    client-certificate-data: " + B64_CERT + "\n    client-key-data: " + B64_KEY + "\n",
        "- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
        "      command: kubelogin\n      args: [get-token, --server-id, '6dae42f8']\n"
        "      env: [{name: A, value: b}]\n      provideClusterInfo: true\n",
        "- name: u\n  user:\n    auth-provider:\n      name: oidc\n      config: {id-token: x}\n",
    ]
    return [(head + contexts + "clusters:\n" + cluster + "users:\n" + user).encode()
            for cluster in clusters for user in users]


EXEC_OUTPUTS = [
    b'{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "status": {"token": "t"}}',
    b'{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "status": '
    b'{"clientCertificateData": ' + json.dumps(CERT.decode()).encode() + b', "clientKeyData": '
    + json.dumps(KEY.decode()).encode() + b'}}',
]

ANSWER_SEEDS = [
    json.dumps({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "istio"},
                "data": {"mesh": "defaultConfig:\n  discoveryAddress: istiod:15012\n"}}).encode(),
    json.dumps({"kind": "ConfigMap", "apiVersion": "v1", "data": {"config": "policy: enabled\n", "values": "{}"}}).encode(),
    json.dumps({"kind": "Status", "code": 404}).encode(),
]

TOKENS = [b": ", b"- ", b"{", b"}", b"[", b"]", b"'", b'"', b"|", b"&a ", b"*a", b"<<: ", b"!!binary ",
          b"~", b"null", b"true", b"5", b"1e400", b"9" * 5000, b"-1", b"0x10", b"[]", b"{}", b"[1]",
          b"\x00", b"\x1b[31m", b"\xc2\x9b", b"\xff", b"\xef\xbb\xbf", b"\r\n", b"\n", b"\n  ", b"\t",
          b"name: ", b"user: ", b"cluster: ", b"context: ", b"exec: ", b"server: ", b"token: ",
          b"command: ", b"args: ", b"env: ", b"status: ", b"data: ", b"\\u0000", b"\\ud800",
          b"/dev/zero", b"/dev/null", b"/nonexistent", b"://", b"http://", b"https://", b"[::1]",
          b":99999", b":-1", b"%", b"@", b"=="]


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 5))):
        op = rng.randrange(6)
        pos = rng.randrange(len(buf) + 1) if buf else 0
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:
            buf[pos:pos] = rng.choice(TOKENS)
        elif op == 2 and buf:
            del buf[pos:pos + rng.randrange(1, 24)]
        elif op == 3 and buf:
            start = rng.randrange(len(buf))
            buf[pos:pos] = bytes(buf[start:start + rng.randrange(1, 64)])
        elif op == 4:
            line_start = buf.rfind(b"\n", 0, pos) + 1
            buf[line_start:line_start] = b" " * rng.randrange(1, 4)
        else:
            buf[pos:pos] = bytes(rng.randrange(32, 127) for _ in range(rng.randrange(1, 6)))
    return bytes(buf)


class Harness:
    """The files the seeds name, and kubeapi with no process started and no request made."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fuzz-kubeconfig-")
        for name, data in (("ca.pem", CERT), ("cert.pem", CERT), ("key.pem", KEY), ("token", b"from-file\n")):
            with open(os.path.join(self.dir, name), "wb") as handle:
                handle.write(data)
        self.path = os.path.join(self.dir, "config")
        self.exec_output = EXEC_OUTPUTS[0]
        # the credential plugin's runner answers with the (mutated) ExecCredential of the input
        credential_plugin._run_plugin = lambda argv, base, env, interactive, deadline: (0, self.exec_output.decode(
            "utf-8", "replace"), "")
        kubeapi._auth_provider_token = lambda paths, context: "Bearer from-auth-provider"

    def kubeconfig(self, data: bytes, context: str | None):
        with open(self.path, "wb") as handle:
            handle.write(data)
        kubeapi._LOADED.clear()
        kubeapi._SESSIONS.clear()
        config = kubeapi.load_kubeconfig([self.path])
        config.resolve(context)
        session = kubeapi.Session([self.path], context, 5.0, time.monotonic() + 5)
        # what the message of a failed look-up says about this kubeconfig
        target = cluster_config.ClusterTarget(kubeconfig=self.path, context=context)
        cluster_config.describe_context(target)
        return session

    @staticmethod
    def answer(data: bytes):
        found = kubeapi.decode_answer(data, "/api/v1/namespaces/istio-system/configmaps/istio")
        cluster_config.configmap_data(found, cluster_config.ClusterTarget(), "istio")


def check(harness: Harness, kind: str, data: bytes, context, slow: float):
    """None, or a description of the violation."""
    started = time.monotonic()
    message = None
    try:
        if kind == "answer":
            harness.answer(data)
        else:
            harness.kubeconfig(data, context)
    except InjectError as err:
        message = err.one_line()
    except (OSError, ssl.SSLError) as err:  # cluster_config: "cannot reach the Kubernetes API server (...): ..."
        message = InjectError(" ".join(str(err).split())).one_line()
    except RecursionError:
        return "RecursionError"
    except Exception as err:  # the violation this fuzzer looks for
        return f"{type(err).__name__}: {' '.join(str(err).split())[:200]}"
    elapsed = time.monotonic() - started
    if elapsed > slow:
        return f"slow: {elapsed:.2f} s"
    if message is not None and ("\n" in message or terminal_safe(message) != message):
        return f"message not one safe line: {message[:200]!r}"
    return None


def inputs(rng: random.Random, corpus: list):
    """(kind, bytes, context, exec output) forever."""
    while True:
        roll = rng.randrange(3)
        if roll == 0:
            yield "answer", mutate(rng, rng.choice(ANSWER_SEEDS)), None, EXEC_OUTPUTS[0]
        else:
            exec_output = rng.choice(EXEC_OUTPUTS)
            if rng.randrange(4) == 0:
                exec_output = mutate(rng, exec_output)
            context = rng.choice((None, None, "lab", "other", "missing"))
            yield "kubeconfig", mutate(rng, rng.choice(corpus)), context, exec_output


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max", type=int, default=0, help="stop after this many inputs (0: no limit)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slow", type=float, default=1.0, help="seconds one input may take")
    parser.add_argument("--memory", type=int, default=1024, help="MiB of address space the process may use")
    parser.add_argument("--replay", help="SEED:INDEX: print that input (repr) and its result")
    args = parser.parse_args(argv)
    resource.setrlimit(resource.RLIMIT_AS, (args.memory * 2**20, args.memory * 2**20))
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    sys.set_int_max_str_digits(0)  # as cli.main does
    harness = Harness()
    corpus = kubeconfig_seeds(harness.dir)
    rng = random.Random(args.seed)
    stream = inputs(rng, corpus)
    if args.replay:
        seed, index = (int(x) for x in args.replay.split(":"))
        stream = inputs(random.Random(seed), corpus)
        for _ in range(index + 1):
            kind, data, context, harness.exec_output = next(stream)
        print(kind, context, repr(data), repr(harness.exec_output))
        print(check(harness, kind, data, context, args.slow))
        return 0
    deadline = time.monotonic() + args.seconds
    tried, violations = 0, []
    while time.monotonic() < deadline and (not args.max or tried < args.max):
        kind, data, context, harness.exec_output = next(stream)
        problem = check(harness, kind, data, context, args.slow)
        if problem:
            violations.append(f"{args.seed}:{tried}")
            print(f"violation {args.seed}:{tried}: {problem}", flush=True)
        tried += 1
    print(f"fuzz_kubeconfig: {tried} inputs tried, {len(violations)} violations (seed {args.seed}, "
          f"{len(corpus)} seed kubeconfigs, {len(ANSWER_SEEDS)} seed answers)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
