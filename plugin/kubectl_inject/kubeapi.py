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
removed at once.
"""
from __future__ import annotations

import base64
import json
import os
import sys
import threading

# http.client and ssl are imported where a request is made: offline runs import this module too,
# and those two cost tens of milliseconds of start-up.

from .errors import InjectError

USER_AGENT = "kubectl-inject"


class KubeconfigError(InjectError):
    """The kubeconfig cannot be used as it is (a missing context, a file it names is absent...)."""


class CredentialError(InjectError):
    """The credential plugin (user.exec) failed; the message is the plugin's failure."""


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
                with open(path, encoding="utf-8") as handle:
                    config = _yaml_load(handle.read())
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
                for item in config.get(key) or []:
                    if not isinstance(item, dict) or "name" not in item:
                        raise KubeconfigError(f"invalid kubeconfig {path!r}: an entry of {key} has no name")
                    into.setdefault(item["name"], (item, base))
            if not self.current_context and config.get("current-context"):
                self.current_context = config["current-context"]

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
        context = self.contexts[name][0].get("context") or {}
        cluster_name = context.get("cluster")
        if cluster_name not in self.clusters:
            raise KubeconfigError(f"context {name!r} names cluster {cluster_name!r}, which the kubeconfig "
                                  f"({where}) does not define")
        cluster, cluster_base = self.clusters[cluster_name]
        user, user_base = {}, cluster_base
        if context.get("user") and context["user"] in self.users:
            user, user_base = self.users[context["user"]]
        return name, cluster.get("cluster") or {}, cluster_base, user.get("user") or {}, user_base


_LOADED: dict = {}
_LOCK = threading.Lock()


def load_kubeconfig(paths: list) -> Kubeconfig:
    """The merged kubeconfig of these (existing) files, read once per process."""
    key = tuple(paths)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = Kubeconfig(list(paths))
        return _LOADED[key]


# --- credentials ---------------------------------------------------------------------------------

def _file_or_data(entry: dict, key: str, base: str, decode: bool = True):
    """(pem bytes or None, path or None) of `key` / `key-data` (data wins, as in the client)."""
    data = entry.get(f"{key}-data")
    if data:
        return (base64.b64decode(data) if decode else data.encode()), None
    if entry.get(key):
        path = os.path.normpath(os.path.join(base, os.path.expanduser(entry[key])))
        if not os.path.isfile(path):
            raise KubeconfigError(f"the kubeconfig's {key} file does not exist: {path}")
        return None, path
    return None, None


def run_exec_plugin(spec: dict, base: str, cluster: dict) -> dict:
    """Run a user.exec credential plugin; its ExecCredential status. CredentialError on failure,
    with the `kubernetes` client's words for each failure."""
    import subprocess  # lazy: only kubeconfigs with a credential plugin need it
    for key in ("command", "apiVersion"):
        if key not in spec:
            raise CredentialError(f"exec: malformed request. missing key {key!r}")
    argv = [spec["command"], *(spec.get("args") or [])]
    env = dict(os.environ)
    for item in spec.get("env") or []:
        env[item["name"]] = item["value"]
    interactive = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
    info = {"apiVersion": spec["apiVersion"], "kind": "ExecCredential", "spec": {"interactive": interactive}}
    if spec.get("provideClusterInfo"):
        info["spec"]["cluster"] = dict(cluster)
        for extension in cluster.get("extensions") or []:
            if extension.get("name") == "client.authentication.k8s.io/exec":
                info["spec"]["cluster"]["config"] = extension.get("extension")
                break
    env["KUBERNETES_EXEC_INFO"] = json.dumps(info)
    try:
        process = subprocess.run(argv, stdout=subprocess.PIPE, stderr=None if interactive else subprocess.PIPE,
                                 stdin=None if interactive else subprocess.DEVNULL, cwd=base or None,
                                 env=env, text=True)
    except OSError as err:
        raise CredentialError(str(err)) from None
    if process.returncode != 0:
        message = f"exec: process returned {process.returncode}"
        if (process.stderr or "").strip():
            message += f". {process.stderr.strip()}"
        raise CredentialError(message)
    try:
        data = json.loads(process.stdout)
    except ValueError as err:
        raise CredentialError(f"exec: failed to decode process output: {err}") from None
    if not isinstance(data, dict):
        raise CredentialError("exec: malformed response: not an ExecCredential object")
    for key in ("apiVersion", "kind", "status"):
        if key not in data:
            raise CredentialError(f"exec: malformed response. missing key {key!r}")
    if data["apiVersion"] != spec["apiVersion"]:
        raise CredentialError(f"exec: plugin api version {data['apiVersion']} does not match {spec['apiVersion']}")
    status = data["status"] or {}
    if "token" not in status and "clientCertificateData" not in status:
        raise CredentialError("exec: missing token or clientCertificateData field in plugin output")
    if "token" not in status and "clientKeyData" not in status:
        raise CredentialError("exec: missing clientKeyData field in plugin output")
    return status


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

    def __init__(self, paths: list, context: str | None, timeout: float):
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

        authorization, cert_key = self._credentials(paths, context, cluster, cluster_base, user, user_base)
        if authorization:
            self.headers["Authorization"] = authorization
        self.ssl_context = None
        if self.scheme == "https":
            self.ssl_context = self._tls(cluster, cluster_base, user, user_base, cert_key)
        self._idle: list = []
        self._lock = threading.Lock()

    def _credentials(self, paths, context, cluster, cluster_base, user, user_base):
        """(Authorization header or None, client cert and key from a credential plugin or None)."""
        if user.get("auth-provider"):
            return _auth_provider_token(paths, context), None
        token_data, token_path = user.get("token"), None
        if not token_data and user.get("tokenFile"):
            token_path = os.path.normpath(os.path.join(user_base, os.path.expanduser(user["tokenFile"])))
        if token_data:
            return f"Bearer {token_data}", None
        if token_path:
            with open(token_path, encoding="utf-8") as handle:
                token = handle.read().strip()  # as kubectl (client-go) reads it
            if token:
                return f"Bearer {token}", None
        if user.get("exec"):
            status = run_exec_plugin(user["exec"], cluster_base, cluster)
            if "token" in status:
                return f"Bearer {status['token']}", None
            return None, ((status["clientCertificateData"].encode(), None), (status["clientKeyData"].encode(), None))
        if "username" in user and "password" in user:
            pair = f"{user['username']}:{user['password']}".encode("latin-1")
            return "Basic " + base64.b64encode(pair).decode("ascii"), None
        return None, None

    def _tls(self, cluster, cluster_base, user, user_base, cert_key):
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if cluster.get("insecure-skip-tls-verify"):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            data, path = _file_or_data(cluster, "certificate-authority", cluster_base)
            if data is not None:
                context.load_verify_locations(cadata=data.decode("ascii", "replace"))
            elif path is not None:
                context.load_verify_locations(cafile=path)
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
            _load_cert_chain(context, *cert_key)
        return context

    def _connection(self):
        import http.client
        with self._lock:
            if self._idle:
                return self._idle.pop()
        if self.proxy is not None:
            proxy_host, proxy_port = self.proxy
            if self.scheme == "https":
                conn = _https()(proxy_host, proxy_port, timeout=self.timeout, context=self.ssl_context,
                              server_name=self.server_name or self.host)
                conn.set_tunnel(self.host, self.port)
            else:
                conn = http.client.HTTPConnection(proxy_host, proxy_port, timeout=self.timeout)
        elif self.scheme == "https":
            conn = _https()(self.host, self.port, timeout=self.timeout, context=self.ssl_context,
                          server_name=self.server_name or self.host)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return conn

    def get(self, path: str):
        """The decoded JSON of GET path; ApiError for an error status; OSError and
        http.client's exceptions for the connection."""
        conn = self._connection()
        url = self.prefix + path
        if self.proxy is not None and self.scheme != "https":
            url = f"{self.scheme}://{_join_hostport(self.host, self.port)}{url}"
        try:
            conn.request("GET", url, headers=self.headers)
            response = conn.getresponse()
            body = response.read()
        except BaseException:
            conn.close()
            raise
        if response.will_close:
            conn.close()
        else:
            with self._lock:
                self._idle.append(conn)
        if response.status != 200:
            raise ApiError(response.status, response.reason)
        return json.loads(body)


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


def session(paths: list, context: str | None, timeout: float) -> Session:
    """The session for this kubeconfig and context, made once per process (the credential
    plugin runs once)."""
    key = (tuple(paths), context, timeout)
    with _LOCK:
        found = _SESSIONS.get(key)
    if found is None:
        found = Session(paths, context, timeout)
        with _LOCK:
            found = _SESSIONS.setdefault(key, found)
    return found
