"""Values kept on disk between runs, so that a fresh process need not compute them again: the
parse trees of Istio's templates (template_cache) and the Go type schema (gotypes.schema).

A one-Pod run is mostly start-up, and these are its largest repeatable pieces. Each value is
stored under a key its owner derives from everything the value depends on (a digest), so a
change of any input gives a new key and old entries are simply never read again.

Best effort by design: a cache that cannot be read or written (no home directory, read-only
disk, a damaged file) is the same as no cache. Location: $KUBECTL_INJECT_CACHE_DIR, else
$XDG_CACHE_HOME/kubectl-inject, else ~/.cache/kubectl-inject; KUBECTL_INJECT_CACHE_DIR=off turns
it off. Each kind of value has a subdirectory of its own; entries are pickles with a checksum,
written atomically in the user's own cache directory (as Python's own __pycache__ is).
"""
from __future__ import annotations

import io  # (loaded by every Python start: importing it costs nothing)
import os
import zlib
# _pickle, pickle's C implementation (what pickle.load/dump run anyway): pickle.py's own module
# code costs every run start-up time
import _pickle as pickle

# SHA-256 from CPython's own module where it exists: `hashlib` first loads OpenSSL, several
# milliseconds of every run's start-up (the same digest either way).
try:
    from _sha2 import sha256  # Python 3.12+
except ImportError:
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:
        from hashlib import sha256

__all__ = ["CACHE_ENV", "sha256", "files_key", "directory", "entry_path", "load", "store", "pack",
           "unpack"]

CACHE_ENV = "KUBECTL_INJECT_CACHE_DIR"


def files_key(label: bytes, paths) -> str | None:
    """A key that changes when any of these files does: a digest of label and each file's path,
    size and modification time (what Python's own bytecode cache checks; no need to read them).
    None when one cannot be looked at: then the caller reads the files, and fails, as usual."""
    digest = sha256(label + b"\0")
    try:
        for path in paths:
            st = os.stat(path)
            stamp = f"{os.path.abspath(path)}\0{st.st_size}\0{st.st_mtime_ns}\0"
            digest.update(stamp.encode("utf-8", "surrogatepass"))
    except OSError:
        return None
    return digest.hexdigest()


def directory() -> str | None:
    """The cache's root directory, or None when the cache is off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured in ("", "off") else configured
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kubectl-inject")


def entry_path(kind: str, key: str) -> str | None:
    """Where the entry `key` of this kind lives (whether or not it exists), or None."""
    root = directory()
    return None if root is None else os.path.join(root, kind, key + ".pickle")


# An entry is this magic, the CRC-32 of the pickle that follows, and the pickle. The check
# matters because entries hold parts unpacked later (pack/unpack): damage inside one of them
# would otherwise pass the load and fail in the middle of a run, every run, until the cache was
# deleted. With it, any damaged byte makes the whole entry computed again.
_MAGIC = b"kubectl-inject cache 1\n"


def load(kind: str, key: str):
    """The value stored under key, or None (absent, unreadable or damaged: compute it instead)."""
    path = entry_path(kind, key)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
        pickled = memoryview(data)[len(_MAGIC) + 4:]
        if not data.startswith(_MAGIC) or \
                int.from_bytes(data[len(_MAGIC):len(_MAGIC) + 4], "big") != zlib.crc32(pickled):
            return None
        return pickle.loads(pickled)
    except Exception:
        return None


def store(kind: str, key: str, value) -> None:
    """Keep value under key: written to a temporary file, then renamed into place, so a reader
    sees a whole entry or none; any failure leaves the cache as it was."""
    path = entry_path(kind, key)
    if path is None:
        return
    try:
        import tempfile  # lazy: only a run that computed something writes, and start-up time counts
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=".pickle")
        try:
            data = pickle.dumps(value, protocol=5)  # pickle.HIGHEST_PROTOCOL since Python 3.8
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC + zlib.crc32(data).to_bytes(4, "big"))
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except Exception:  # a cache we cannot write is no cache
        return


class _Packer(pickle.Pickler):
    def __init__(self, file, shared):
        super().__init__(file, protocol=5)
        self.shared = shared

    def persistent_id(self, obj):
        return 0 if obj is self.shared else None  # 0: "the shared object", not copied


class _Unpacker(pickle.Unpickler):
    def __init__(self, file, shared):
        super().__init__(file)
        self.shared = shared

    def persistent_load(self, pid):
        return self.shared


def pack(value, shared=None) -> bytes:
    """value as bytes, for an entry whose parts are read one at a time (unpack): a run then
    pays only for the parts it uses. References to `shared` (an object the parts have in
    common, such as the parse tree their nodes point to) are kept as references: unpack puts
    the object it is given in their place."""
    if shared is None:
        return pickle.dumps(value, protocol=5)
    buffer = io.BytesIO()
    _Packer(buffer, shared).dump(value)
    return buffer.getvalue()


def unpack(data: bytes, shared=None):
    """A part made by pack (with the same kind of shared object, if it had one)."""
    if shared is None:
        return pickle.loads(data)
    return _Unpacker(io.BytesIO(data), shared).load()
