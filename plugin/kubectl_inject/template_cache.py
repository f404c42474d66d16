"""Parsed injection templates kept on disk between runs.

A single Pod's run spends about a third of its time parsing Istio's templates (text/template
parsing, done again by every fresh process). The parse trees depend only on the template text,
the names of the functions the template may call (parsing checks them) and our parser's code, so
they are cached under a key made of exactly those: any change to the text, the function map or
gotemplate's source gives a new key, and old entries are simply never read again.

Best effort by design: a cache that cannot be read or written (no home directory, read-only
disk, a damaged file) is the same as no cache. Location: $KUBECTL_INJECT_CACHE_DIR, else
$XDG_CACHE_HOME/kubectl-inject, else ~/.cache/kubectl-inject; KUBECTL_INJECT_CACHE_DIR=off
turns it off. Entries are pickles written atomically in the user's own cache directory (as
Python's own __pycache__ is).
"""
from __future__ import annotations

import functools
import os
# _pickle, pickle's C implementation (what pickle.load/dump run anyway): pickle.py's own module
# code costs every run start-up time
import _pickle as pickle

from . import gotemplate

# SHA-256 from CPython's own module where it exists: `hashlib` first loads OpenSSL, several
# milliseconds of every run's start-up (the same digest either way).
try:
    from _sha2 import sha256  # Python 3.12+
except ImportError:
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:
        from hashlib import sha256

CACHE_ENV = "KUBECTL_INJECT_CACHE_DIR"
FORMAT = b"kubectl-inject template trees 1\0"


def cache_dir() -> str | None:
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured in ("", "off") else configured
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kubectl-inject")


@functools.lru_cache(maxsize=1)
def _parser_fingerprint() -> bytes:
    """sha256 over gotemplate's source: a changed parser never reads trees of the old one."""
    digest = sha256(FORMAT)
    package = os.path.dirname(os.path.abspath(gotemplate.__file__))
    for name in sorted(os.listdir(package)):
        if name.endswith(".py"):
            with open(os.path.join(package, name), "rb") as f:
                digest.update(name.encode() + b"\0" + f.read())
    return digest.digest()


def _path(directory: str, name: str, text: str, funcs: dict) -> str:
    digest = sha256(_parser_fingerprint())
    for part in (name, text, "\0".join(sorted(funcs))):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0\1")
    return os.path.join(directory, digest.hexdigest() + ".pickle")


def stored(name: str, text: str, funcs: dict) -> bool:
    """Whether the cache holds trees for this template. Entries are written only after a
    successful parse of exactly this text with these functions, so a stored template is known
    to parse without reading it."""
    directory = cache_dir()
    return directory is not None and os.path.isfile(_path(directory, name, text, funcs))


def load(name: str, text: str, funcs: dict) -> dict | None:
    """The parse trees stored for this template, or None."""
    directory = cache_dir()
    if directory is None:
        return None
    try:
        with open(_path(directory, name, text, funcs), "rb") as f:
            trees = pickle.load(f)
    except Exception:  # absent, unreadable or damaged: parse instead
        return None
    return trees if isinstance(trees, dict) else None


def store(name: str, text: str, funcs: dict, trees: dict) -> None:
    directory = cache_dir()
    if directory is None:
        return
    try:
        import tempfile  # lazy: only a run that parsed a template writes, and start-up time counts
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(trees, f, protocol=5)  # pickle.HIGHEST_PROTOCOL since Python 3.8
            os.replace(tmp, _path(directory, name, text, funcs))
        except BaseException:
            os.unlink(tmp)
            raise
    except Exception:  # a cache we cannot write is no cache
        return
