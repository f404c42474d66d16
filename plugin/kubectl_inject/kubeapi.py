"""A small Kubernetes API client: the kubeconfig, credentials and the few GETs cluster mode needs.

Why not the `kubernetes` package: importing it loads every generated model and API class, over
half a second of CPU before the first request (more than istioctl's whole run); cluster mode
needs two ConfigMaps, a Deployment and maybe the node list. This module reads the kubeconfig as
kubectl does and sends plain HTTPS GETs with `http.client` and `ssl` from the standard library.

What it honours (as kubectl and the `kubernetes` client do):
- files: --kubeconfig alone, else every existing file of $KUBECONFIG merged (the first file that
  names a cluster, user or context, or sets current-context, wins), else ~/.kube/config; relative
  paths in an entry are relative to the file that holds it;
- the context: --context, else current-context;
- the cluster: server (an optional path prefix kept), certificate-authority(-data),
  insecure-skip-tls-verify, tls-server-name, proxy-url (http:// proxies; CONNECT for https);
- the user, in the `kubernetes` client's order: auth-provider (gcp, oidc, azure: handed to the
  `kubernetes` package, its one use here, loaded only then), token / tokenFile, exec credential
  plugins (args, env, provideClusterInfo, KUBERNETES_EXEC_INFO, interactive when stdout is a
  terminal; a token or a client certificate back), username/password, client-certificate(-data)
  and client-key(-data).
Inline certificates and keys are handed to OpenSSL through an anonymous in-memory file
(memfd), never written to disk; where memfd does not exist, through a private temporary file
removed at once. Files the kubeconfig names are read here too (OpenSSL is never given a path),
so that each is read with a size cap.

Bounds (docs/hardening.md): every file is read with a size cap (MAX_KUBECONFIG_BYTES), a
credential plugin's output too (MAX_CREDENTIAL_OUTPUT_BYTES), an API response too
(MAX_RESPONSE_BYTES, counted as its body arrives, chunked or not). Each wait (a socket, a
credential plugin) ends at the caller's deadline, a time.monotonic() value for the whole look-up,
not a timeout per request. Credential plugins are run by credential_plugin (their own process
group, killed at that deadline and when the command ends).
"""
from __future__ import annotations

import base64
import json
import os
import sys
import threading

# http.client and ssl are imported where a request is made: offline runs import this module too,
# and those two cost tens of milliseconds of start-up.

from .credential_plugin import (MAX_WAIT, CredentialError, LookupTimeout, remaining,  # noqa: F401 - also
                                run_exec_plugin, stop_children)  # cluster_config's, through this module
from .errors import MiB, InjectError, read_bounded, size_text

USER_AGENT = "kubectl-inject"

# A kubeconfig, and each file it names (CA bundle, client certificate and key, token), is a few
# KiB; client-go sets no cap, we refuse beyond this (an endless /dev/zero, a runaway file).
MAX_KUBECONFIG_BYTES = 16 * MiB
# One API response: a ConfigMap is at most 1 MiB (etcd's object limit), a Deployment less; the
# node list of a 5,000-node cluster is tens of MiB.
MAX_RESPONSE_BYTES = 64 * MiB


class KubeconfigError(InjectError):
    """The kubeconfig cannot be used as it is (a missing context, a file it names is absent...)."""


class ResponseError(InjectError):
    """The API server's answer is not what a GET of a Kubernetes object gives (too large, not a
    JSON object)."""


def read_capped_file(path: str, what: str, limit: int = MAX_KUBECONFIG_BYTES) -> bytes:
    """A file the kubeconfig names (or the kubeconfig itself), at most `limit` bytes."""
    with open(path, "rb", buffering=0) as handle:
        return bytes(read_bounded(handle, limit, f"{what} {path!r}"))


class ApiError(Exception):
    """The API server answered with an error status."""

    def __init__(self, status: int, reason: str):
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


def _yaml_load(text: str):
    import yaml  # PyYAML: the package's dependency (goyaml's libyaml parser comes with it)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader


# --- the kubeconfig -----------------------------------------------------------------------------

class Kubeconfig:
    """The merged kubeconfig: entries by name, each with the directory of the file it came from."""

    def __init__(self, paths: list):
        self.paths = paths
        self.clusters: dict = {}
        self.users: dict = {}
        self.contexts: dict = {}
        self.current_context = None
        for path in paths:
            try:
                config = _yaml_load(read_capped_file(path, "kubeconfig").decode("utf-8"))
            except InjectError:
                raise
            except OSError as err:
                raise KubeconfigError(f"cannot read kubeconfig {path!r}: {err.strerror or err}") from None
            except UnicodeDecodeError:
                raise KubeconfigError(f"cannot read kubeconfig {path!r}: not UTF-8 text") from None
            except Exception as err:  # PyYAML's errors: the file is not YAML
                raise KubeconfigError(f"invalid kubeconfig {path!r}: {' '.join(str(err).split())}") from None
            if config is None:
                raise KubeconfigError(f"invalid kubeconfig {path!r}: the file is empty")
            if not isinstance(config, dict):
                raise KubeconfigError(f"invalid kubeconfig {path!r}: not a mapping")
            base = os.path.dirname(os.path.abspath(path))
            for key, into in (("clusters", self.clusters), ("users", self.users), ("contexts", self.contexts)):
                items = config.get(key) or []
                if not isinstance(items, list):
                    raise KubeconfigError(f"invalid kubeconfig {path!r}: {key} is not a list")
                for item in items:
                    if not isinstance(item, dict) or "name" not in item:
                        raise KubeconfigError(f"invalid kubeconfig {path!r}: an entry of {key} has no name")
                    if not isinstance(item["name"], str):
                        raise KubeconfigError(f"invalid kubeconfig {path!r}: an entry of {key} has a name "
                                              f"that is not a string: {item['name']!r}")
                    into.setdefault(item["name"], (item, base))
            current = config.get("current-context")
            if current is not None and not isinstance(current, str):
                raise KubeconfigError(f"invalid kubeconfig {path!r}: current-context is not a string")
            if not self.current_context and current:
                self.current_context = current

    def context_name(self, wanted: str | None) -> str | None:
        return wanted or self.current_context

    def resolve(self, wanted: str | None):
        """(context name, cluster entry, its directory, user entry, its directory) of the context."""
        name = self.context_name(wanted)
        where = ", ".join(self.paths)
        if not name:
            raise KubeconfigError(f"the kubeconfig ({where}) has no current-context; pass --context")
        if name not in self.contexts:
            raise KubeconfigError(f"context {name!r} not found in the kubeconfig ({where})")
        context = _mapping(self.contexts[name][0].get("context"), f"context {name!r}", where)
        cluster_name = context.get("cluster")
        if not isinstance(cluster_name, str) or cluster_name not in self.clusters:
            raise KubeconfigError(f"context {name!r} names cluster {cluster_name!r}, which the kubeconfig "
                                  f"({where}) does not define")
        cluster, cluster_base = self.clusters[cluster_name]
        user, user_base = {}, cluster_base
        if isinstance(context.get("user"), str) and context["user"] in self.users:
            user, user_base = self.users[context["user"]]
        return (name, _mapping(cluster.get("cluster"), f"cluster {cluster_name!r}", where), cluster_base,
                _mapping(user.get("user"), f"user {context.get('user')!r}", where), user_base)


def _mapping(value, what: str, where: str) -> dict:
    """A kubeconfig entry's body: a mapping (null is an empty one), else a one-line error."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise KubeconfigError(f"invalid kubeconfig ({where}): {what} is not a mapping")
    return value


_LOADED: dict = {}
_LOCK = threading.Lock()


def load_kubeconfig(paths: list) -> Kubeconfig:
    """The merged kubeconfig of these (existing) files, read once per process. The files are read
    outside the lock: a read that blocks (a FIFO, a stale network mount) holds no lock that
    another thread, or the error message about the timeout, would wait for."""
    key = tuple(paths)
    found = _LOADED.get(key)
    if found is None:
        found = Kubeconfig(list(paths))
        with _LOCK:
            found = _LOADED.setdefault(key, found)
    return found


def loaded_kubeconfig(paths: list) -> Kubeconfig | None:
    """The kubeconfig of these files if it has been read already, else None (never reads, never
    waits: for messages written while a read may be blocked)."""
    return _LOADED.get(tuple(paths))


# --- credentials ---------------------------------------------------------------------------------

def _file_or_data(entry: dict, key: str, base: str, decode: bool = True):
    """(pem bytes or None, path or None) of `key` / `key-data` (data wins, as in the client)."""
    data = entry.get(f"{key}-data")
    if data:
        if not isinstance(data, str):
            raise KubeconfigError(f"the kubeconfig's {key}-data is not a string")
        if not decode:
            return data.encode("utf-8", "surrogateescape"), None
        try:
            return base64.b64decode(data, validate=False), None
        except ValueError as err:
            raise KubeconfigError(f"the kubeconfig's {key}-data is not base64: {err}") from None
    if entry.get(key):
        if not isinstance(entry[key], str):
            raise KubeconfigError(f"the kubeconfig's {key} is not a file name: {entry[key]!r}")
        path = os.path.normpath(os.path.join(base, os.path.expanduser(entry[key])))
        if not os.path.exists(path):
            raise KubeconfigError(f"the kubeconfig's {key} file does not exist: {path}")
        try:  # read here, capped, rather than by OpenSSL (which would read any size)
            return read_capped_file(path, f"the kubeconfig's {key} file"), None
        except OSError as err:
            raise KubeconfigError(f"cannot read the kubeconfig's {key} file {path!r}: "
                                  f"{err.strerror or err}") from None
    return None, None


def _auth_provider_token(paths: list, context: str | None) -> str | None:
    """The Authorization header value the `kubernetes` client computes for a user.auth-provider
    (gcp, oidc, azure: refreshes and all). Its one use in the plugin, loaded only here."""
    from kubernetes.client import Configuration  # lazy: half a second, only for auth-provider users
    from kubernetes.config import load_kube_config
    configuration = Configuration()
    # the package splits the list as it splits $KUBECONFIG, and merges the files itself
    load_kube_config(config_file=os.pathsep.join(paths), context=context, client_configuration=configuration)
    return configuration.api_key.get("BearerToken")  # "Bearer ..." already


def _pem_file(data: bytes):
    """A path OpenSSL can read `data` from, and a function that releases it."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("kubectl-inject-pem", 0)
        os.write(fd, data)
        return f"/proc/self/fd/{fd}", lambda: os.close(fd)
    import tempfile  # lazy: only without memfd
    fd, path = tempfile.mkstemp(prefix="kubectl-inject-", suffix=".pem")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path, lambda: os.unlink(path)


def _load_cert_chain(context: ssl.SSLContext, cert, key) -> None:
    """cert, key: (pem bytes or None, path or None) each."""
    releases = []
    try:
        paths = []
        for data, path in (cert, key):
            if data is not None:
                path, release = _pem_file(data)
                releases.append(release)
            paths.append(path)
        context.load_cert_chain(paths[0], paths[1] or None)
    finally:
        for release in releases:
            release()


# --- the session -----------------------------------------------------------------------------------

class Session:
    """One context's server, TLS settings and credentials; GETs over kept-alive connections."""

    def __init__(self, paths: list, context: str | None, timeout: float, deadline: float | None = None):
        config = load_kubeconfig(paths)
        self.context, cluster, cluster_base, user, user_base = config.resolve(context)
        self.timeout = timeout
        server = str(cluster.get("server") or "")
        if not server:
            raise KubeconfigError(f"context {self.context!r}: its cluster has no server")
        self.server = server.rstrip("/")
        # Without a scheme the `kubernetes` client (urllib3) used plain http: so do we, and the
        # caller adds a hint to the connection error.
        scheme, _, rest = self.server.partition("://") if "://" in self.server else ("http", "", self.server)
        self.scheme = scheme.lower()
        hostport, slash, prefix = rest.partition("/")
        self.prefix = (slash + prefix).rstrip("/")
        self.host, self.port = _split_hostport(hostport, 443 if self.scheme == "https" else 80)
        self.headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        self.proxy = _proxy(cluster.get("proxy-url"))
        self.server_name = cluster.get("tls-server-name") or None

        authorization, cert_key = self._credentials(paths, context, cluster, cluster_base, user, user_base,
                                                    deadline)
        if authorization:
            # the value's UTF-8 bytes, as Go sends them (http.client would refuse what is not
            # Latin-1); a control character is refused here, so that no error quotes the secret
            if any(c < " " and c != "\t" or c == "\x7f" for c in authorization):
                raise KubeconfigError(f"context {self.context!r}: its credentials hold a control character "
                                      "(a line break?), which no HTTP header may carry")
            self.headers["Authorization"] = authorization.encode("utf-8", "surrogatepass")
        self.ssl_context = None
        if self.scheme == "https":
            self.ssl_context = self._tls(cluster, cluster_base, user, user_base, cert_key)
        self._idle: list = []
        self._lock = threading.Lock()

    def _credentials(self, paths, context, cluster, cluster_base, user, user_base, deadline):
        """(Authorization header or None, client cert and key from a credential plugin or None)."""
        if user.get("auth-provider"):
            return _auth_provider_token(paths, context), None
        token_data, token_path = user.get("token"), None
        if not token_data and user.get("tokenFile"):
            token_path = os.path.normpath(os.path.join(user_base, os.path.expanduser(user["tokenFile"])))
        if token_data:
            return f"Bearer {token_data}", None
        if token_path:
            try:
                token = read_capped_file(token_path, "the kubeconfig's tokenFile")
            except OSError as err:
                raise KubeconfigError(f"cannot read the kubeconfig's tokenFile {token_path!r}: "
                                      f"{err.strerror or err}") from None
            token = token.decode("utf-8", "replace").strip()  # as kubectl (client-go) reads it
            if token:
                return f"Bearer {token}", None
        if user.get("exec"):
            status = run_exec_plugin(user["exec"], cluster_base, cluster, deadline)
            if "token" in status:
                return f"Bearer {status['token']}", None
            return None, ((status["clientCertificateData"].encode("utf-8", "surrogatepass"), None),
                          (status["clientKeyData"].encode("utf-8", "surrogatepass"), None))
        if "username" in user and "password" in user:
            # the string's bytes, as Go's basic auth sends them
            pair = f"{user['username']}:{user['password']}".encode("utf-8", "surrogateescape")
            return "Basic " + base64.b64encode(pair).decode("ascii"), None
        return None, None

    def _tls(self, cluster, cluster_base, user, user_base, cert_key):
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if cluster.get("insecure-skip-tls-verify"):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            data, _ = _file_or_data(cluster, "certificate-authority", cluster_base)
            if data is not None:
                try:
                    context.load_verify_locations(cadata=data.decode("ascii"))
                except (UnicodeDecodeError, ssl.SSLError) as err:  # not PEM certificates
                    raise KubeconfigError(f"the kubeconfig's certificate-authority is not usable: "
                                          f"{_reason(err)}") from None
            else:  # no CA in the kubeconfig: the `kubernetes` client's default, certifi's bundle
                try:
                    import certifi  # lazy: only servers with a public certificate need it
                    context.load_verify_locations(cafile=certifi.where())
                except ImportError:
                    context.load_default_certs()
        if cert_key is None:  # the client certificate of user, read only for https (as the client)
            cert_key = (_file_or_data(user, "client-certificate", user_base),
                        _file_or_data(user, "client-key", user_base))
        if cert_key[0] != (None, None):  # the key may be in the certificate's file
            try:
                _load_cert_chain(context, *cert_key)
            except ssl.SSLError as err:
                raise KubeconfigError(f"the client certificate and key are not usable: {_reason(err)}") from None
        return context

    def _connection(self, deadline: float | None):
        import http.client
        timeout = self.timeout if deadline is None else min(self.timeout, remaining(deadline))
        with self._lock:
            if self._idle:
                conn = self._idle.pop()
                conn.timeout = timeout
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                return conn
        if self.proxy is not None:
            proxy_host, proxy_port = self.proxy
            if self.scheme == "https":
                conn = _https()(proxy_host, proxy_port, timeout=timeout, context=self.ssl_context,
                              server_name=self.server_name or self.host)
                conn.set_tunnel(self.host, self.port)
            else:
                conn = http.client.HTTPConnection(proxy_host, proxy_port, timeout=timeout)
        elif self.scheme == "https":
            conn = _https()(self.host, self.port, timeout=timeout, context=self.ssl_context,
                          server_name=self.server_name or self.host)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        return conn

    def get(self, path: str, deadline: float | None = None):
        """The decoded JSON object of GET path; ApiError for an error status; ResponseError for an
        answer that is too large or not a JSON object; OSError (LookupTimeout at the deadline)
        and http.client's exceptions for the connection.

        With a deadline every socket wait is bounded by it (_connection, _read_body), so a socket
        timeout is that deadline passing: LookupTimeout, here once rather than in each caller."""
        conn = self._connection(deadline)
        url = self.prefix + path
        if self.proxy is not None and self.scheme != "https":
            url = f"{self.scheme}://{_join_hostport(self.host, self.port)}{url}"
        try:
            conn.request("GET", url, headers=self.headers)
            response = conn.getresponse()
            body = _read_body(conn, response, deadline, path) if response.status == 200 else b""
        except TimeoutError:
            conn.close()
            if deadline is None:
                raise
            raise LookupTimeout("the look-up's deadline (--timeout) has passed") from None
        except BaseException:
            conn.close()
            raise
        if response.status != 200 or response.will_close:
            conn.close()  # (an error's body is not read: the connection cannot be reused)
        else:
            with self._lock:
                self._idle.append(conn)
        if response.status != 200:
            raise ApiError(response.status, response.reason)
        return decode_answer(body, path)


def decode_answer(body, path: str) -> dict:
    """The JSON object an API server answered GET path with; ResponseError for anything else."""
    try:
        found = json.loads(body)
    except (ValueError, RecursionError) as err:  # (ValueError: also UnicodeDecodeError)
        raise ResponseError(f"the API server's answer to GET {path} is not JSON: "
                            f"{' '.join(str(err).split())[:200]}") from None
    if not isinstance(found, dict):
        raise ResponseError(f"the API server's answer to GET {path} is not a JSON object")
    return found


def _read_body(conn, response, deadline, path) -> bytearray:
    """The body as it arrives (chunked or not), at most MAX_RESPONSE_BYTES; each wait for more
    ends at the deadline, however slowly the server drips it."""
    length = response.getheader("Content-Length")
    if length and length.strip().isdigit() and int(length.strip()[:30]) > MAX_RESPONSE_BYTES:
        raise ResponseError(f"the API server's answer to GET {path} is larger than {size_text(MAX_RESPONSE_BYTES)} "
                            f"(kubectl inject reads at most that much)")
    body = bytearray()
    while True:
        if deadline is not None and conn.sock is not None:
            conn.sock.settimeout(remaining(deadline))
        block = response.read(65536)  # (read, not read1: it closes the response at its end, so
        # the connection can carry the next request)
        if not block:
            return body
        body += block
        if len(body) > MAX_RESPONSE_BYTES:
            raise ResponseError(f"the API server's answer to GET {path} is larger than "
                                f"{size_text(MAX_RESPONSE_BYTES)} (kubectl inject reads at most that much)")


def _reason(err: Exception) -> str:
    """OpenSSL's reason (ssl.SSLError), or the error's text."""
    return getattr(err, "reason", None) or " ".join(str(err).split())[:200]


_HTTPS: list = []


def _https():
    """HTTPSConnection that checks the certificate against tls-server-name when it is set."""
    if not _HTTPS:
        import http.client

        class HTTPS(http.client.HTTPSConnection):
            def __init__(self, host, port, timeout, context, server_name):
                super().__init__(host, port, timeout=timeout, context=context)
                self._server_name = server_name

            def connect(self):
                http.client.HTTPConnection.connect(self)  # TCP, and the proxy's CONNECT when tunnelling
                self.sock = self._context.wrap_socket(self.sock, server_hostname=self._server_name)

        _HTTPS.append(HTTPS)
    return _HTTPS[0]


def _split_hostport(text: str, default_port: int):
    if text.startswith("["):  # [IPv6]:port
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    if port and not port.isdigit():
        raise KubeconfigError(f"the kubeconfig's server has an invalid port: {text!r}")
    return host, int(port) if port else default_port


def _join_hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _proxy(url):
    if not url:
        return None
    scheme, _, rest = str(url).partition("://")
    if scheme.lower() != "http" or not rest:
        raise KubeconfigError(f"the kubeconfig's proxy-url {url!r} is not supported (only http:// proxies)")
    hostport = rest.split("/", 1)[0].rpartition("@")[2]
    return _split_hostport(hostport, 80)


_SESSIONS: dict = {}


def session(paths: list, context: str | None, timeout: float, deadline: float | None = None) -> Session:
    """The session for this kubeconfig and context, made once per process (the credential
    plugin runs once, within the deadline)."""
    key = (tuple(paths), context, timeout)
    with _LOCK:
        found = _SESSIONS.get(key)
    if found is None:
        found = Session(paths, context, timeout, deadline)
        with _LOCK:
            found = _SESSIONS.setdefault(key, found)
    return found
