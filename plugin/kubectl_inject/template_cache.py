"""Parsed injection templates kept on disk between runs (in disk_cache, kind "templates").

A single Pod's run spends about a third of its time parsing Istio's templates (text/template
parsing, done again by every fresh process). The parse trees depend only on the template text,
the names of the functions the template may call (parsing checks them) and our parser's code, so
they are cached under a key made of exactly those: any change to the text, the function map or
gotemplate's source gives a new key, and old entries are simply never read again.
"""
from __future__ import annotations

import functools
import os

from . import disk_cache, gotemplate
from .disk_cache import CACHE_ENV, sha256

__all__ = ["CACHE_ENV", "stored", "load", "store"]

KIND = "templates"
FORMAT = b"kubectl-inject template trees 2"


@functools.lru_cache(maxsize=1)
def _parser_fingerprint() -> bytes | None:
    """What identifies gotemplate's source (its files' paths, sizes and modification times): a
    changed parser never reads trees of the old one. None (no caching) where they cannot be
    looked at."""
    package = os.path.dirname(os.path.abspath(gotemplate.__file__))
    try:
        names = sorted(os.listdir(package))
    except OSError:
        return None
    key = disk_cache.files_key(FORMAT, [os.path.join(package, n) for n in names if n.endswith(".py")])
    return key.encode() if key else None


def _key(name: str, text: str, funcs: dict) -> str | None:
    fingerprint = _parser_fingerprint()
    if fingerprint is None:
        return None
    digest = sha256(fingerprint)
    for part in (name, text, "\0".join(sorted(funcs))):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0\1")
    return digest.hexdigest()


def stored(name: str, text: str, funcs: dict) -> bool:
    """Whether the cache holds trees for this template. Entries are written only after a
    successful parse of exactly this text with these functions, so a stored template is known
    to parse without reading it."""
    key = _key(name, text, funcs)
    path = key and disk_cache.entry_path(KIND, key)
    return bool(path) and os.path.isfile(path)


def load(name: str, text: str, funcs: dict) -> dict | None:
    """The parse trees stored for this template, or None."""
    key = _key(name, text, funcs)
    trees = key and disk_cache.load(KIND, key)
    return trees if isinstance(trees, dict) else None


def store(name: str, text: str, funcs: dict, trees: dict) -> None:
    key = _key(name, text, funcs)
    if key:
        disk_cache.store(KIND, key, trees)
