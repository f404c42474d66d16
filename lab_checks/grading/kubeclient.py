"""A Kubernetes API client for one kubeconfig: bounded reads, nothing written to disk, the
kubeconfig read as client-go reads it.

Why not `kubernetes.config.new_client_from_config` as it is:

* It writes inline certificates and keys (certificate-authority-data, client-certificate-data,
  client-key-data, an exec plugin's clientKeyData) to files in $TMPDIR
  (kube_config._create_temp_file_with_content) and removes them only from an atexit hook: a
  SIGTERM or SIGKILL leaves a student's client private key behind. Here that function is
  replaced: each content goes to an anonymous memory file (memfd, Linux) that OpenSSL opens as
  /proc/self/fd/N, closed when the target's grading ends. Where memfd does not exist, a file in a
  private directory (mode 0700) that is removed when the target is done and on every exit of the
  command (cli turns SIGINT and SIGTERM into exceptions; only SIGKILL is beyond reach).
* It reads the kubeconfig whole, whatever its size, and blocks on a FIFO: here regular files only,
  at most KUBECONFIG_LIMIT bytes.
* It sends a tokenFile's content as is; client-go (kubectl) trims surrounding white space, so a
  token file written with `echo` (a final newline) works with kubectl and must work here.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

KUBECONFIG_LIMIT = 1 << 20     # bytes; a kind kubeconfig is about 6 KB
TOKEN_FILE_LIMIT = 64 << 10    # bytes; a ServiceAccount token is about 1 KB


class KubeconfigProblem(Exception):
    """The kubeconfig cannot be used; str() is one line that never quotes a credential."""


def read_capped(path: Path, limit: int, what: str) -> bytes:
    """A regular file's bytes, at most `limit` of them. O_NONBLOCK: opening a FIFO must not
    wait for a writer (a read that never returns would hold a grading thread for ever)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise KubeconfigProblem(f"{what} cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise KubeconfigProblem(f"{what} is not a regular file")
        chunks, size = [], 0
        while size <= limit:
            block = os.read(fd, min(1 << 16, limit + 1 - size))
            if not block:
                break
            chunks.append(block)
            size += len(block)
    except OSError as exc:
        raise KubeconfigProblem(f"{what} cannot be read ({exc.strerror or type(exc).__name__})") from None
    finally:
        os.close(fd)
    if size > limit:
        raise KubeconfigProblem(f"{what} is larger than {limit >> 10} KiB")
    return b"".join(chunks)


# ------------------------------------------------------------------ credentials kept in memory

_scope = threading.local()   # .releases: what the current grading thread must close at the end
_orphans: list = []          # memory files made outside any scope: kept until the process ends
_fallback_dir: str | None = None
_fallback_lock = threading.Lock()


def _memory_file(content, temp_file_path=None, force_recreate=False) -> str:
    """Replaces kube_config._create_temp_file_with_content (same signature). No cache keyed by
    content, unlike the original: a cached /proc/self/fd/N could outlive its descriptor, and the
    number be reused by another file."""
    data = content.encode() if isinstance(content, str) else bytes(content)
    releases = getattr(_scope, "releases", None)
    if releases is None:
        releases = _orphans
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("lab-grade-credential", os.MFD_CLOEXEC)
        releases.append(lambda: os.close(fd))
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        return f"/proc/self/fd/{fd}"
    fd, path = tempfile.mkstemp(dir=_private_dir())      # mode 0600 inside a 0700 directory
    releases.append(lambda: _unlink(path))
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def _private_dir() -> str:
    global _fallback_dir
    with _fallback_lock:
        if _fallback_dir is None:
            _fallback_dir = tempfile.mkdtemp(prefix="lab-grade-")
        return _fallback_dir


def _unlink(path: str):
    with contextlib.suppress(OSError):
        os.unlink(path)


def remove_all():
    """Every credential file of the process (the fallback directory): cli calls it on every exit."""
    global _fallback_dir
    with _fallback_lock:
        if _fallback_dir is not None:
            shutil.rmtree(_fallback_dir, ignore_errors=True)
            _fallback_dir = None


@contextlib.contextmanager
def credential_scope():
    """Memory files made by this thread inside the block are released when it ends."""
    previous = getattr(_scope, "releases", None)
    _scope.releases = []
    try:
        yield
    finally:
        releases, _scope.releases = _scope.releases, previous
        for release in releases:
            with contextlib.suppress(OSError):
                release()


def _install():
    from kubernetes.config import kube_config
    # Fail loudly rather than write keys to disk if a client release renames the function.
    if not callable(getattr(kube_config, "_create_temp_file_with_content", None)):
        raise RuntimeError("kubernetes.config.kube_config._create_temp_file_with_content is gone: "
                           "lab-grade cannot keep credentials off disk with this client release")
    kube_config._create_temp_file_with_content = _memory_file


# ------------------------------------------------------------------ the kubeconfig

def load_kubeconfig(path: Path) -> dict:
    import yaml
    text = read_capped(path, KUBECONFIG_LIMIT, f"kubeconfig {path.name}")
    try:
        config = yaml.safe_load(text.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise KubeconfigProblem(f"kubeconfig {path.name} is not UTF-8 text") from None
    except yaml.YAMLError:
        raise KubeconfigProblem(f"kubeconfig {path.name} is not usable (not valid YAML)") from None
    except RecursionError:
        raise KubeconfigProblem(f"kubeconfig {path.name} is not usable (nested too deeply)") from None
    except Exception as exc:   # a constructor's ValueError (a date, a 5,000-digit number, ...)
        raise KubeconfigProblem(f"kubeconfig {path.name} is not usable ({type(exc).__name__})") from None
    if not isinstance(config, dict):
        raise KubeconfigProblem(f"kubeconfig {path.name} is not usable (not a mapping)")
    return config


def _named(config: dict, section: str, name) -> dict | None:
    entries = config.get(section)
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return None


def context_entry(config: dict, context: str | None, path: Path) -> dict:
    name = context or config.get("current-context")
    entry = _named(config, "contexts", name) if name else None
    if entry is None:
        if context:
            raise KubeconfigProblem(f"kubeconfig {path.name} has no context {context!r}")
        raise KubeconfigProblem(f"kubeconfig {path.name} is not usable: "
                                + ("no current-context" if not name else f"no context {name!r}"))
    return entry


def _read_token_file(config: dict, entry: dict, path: Path):
    """The context's user's tokenFile, read as client-go reads it: surrounding white space
    trimmed, and the file wins over an inline token when both are given (client-go's transport
    re-reads the file for every request). Put inline, so the Python client sends it as is."""
    ctx = entry.get("context")
    user = _named(config, "users", ctx.get("user")) if isinstance(ctx, dict) else None
    fields = user.get("user") if isinstance(user, dict) else None
    if not isinstance(fields, dict) or not isinstance(fields.get("tokenFile"), str) or not fields["tokenFile"]:
        return
    token_path = Path(os.path.expanduser(fields["tokenFile"]))
    if not token_path.is_absolute():
        token_path = path.parent / token_path
    try:
        token = read_capped(token_path, TOKEN_FILE_LIMIT, f"kubeconfig {path.name}: its tokenFile")
        fields["token"] = token.decode("utf-8").strip()
    except (KubeconfigProblem, UnicodeDecodeError) as exc:
        if not fields.get("token"):
            raise KubeconfigProblem(str(exc) if isinstance(exc, KubeconfigProblem)
                                    else f"kubeconfig {path.name}: its tokenFile is not UTF-8 text") from None
    del fields["tokenFile"]


def new_client(path: Path, context: str | None):
    """(kubernetes ApiClient, the chosen context's entry). Call inside credential_scope() so
    that the memory files holding its certificates are released with it."""
    from kubernetes import client
    from kubernetes.config.kube_config import KubeConfigLoader

    _install()
    config = load_kubeconfig(path)
    entry = context_entry(config, context, path)
    _read_token_file(config, entry, path)
    configuration = type.__call__(client.Configuration)   # as the client does: not a copy of its default
    # config_base_path: relative file names in the kubeconfig are relative to its folder, as in kubectl
    loader = KubeConfigLoader(config_dict=config, active_context=entry["name"], config_base_path=str(path.parent))
    loader.load_and_set(configuration)
    return client.ApiClient(configuration=configuration), entry
