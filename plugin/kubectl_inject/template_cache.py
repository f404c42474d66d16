"""Parsed injection templates kept on disk between runs (in disk_cache, kind "templates").

A single Pod's run spends about a third of its time parsing Istio's templates (text/template
parsing, done again by every fresh process). The parse trees depend only on the template text,
the names of the functions the template may call (parsing checks them) and our parser's code, so
they are cached under a key made of exactly those: any change to the text, the function map or
gotemplate's source gives a new key, and old entries are simply never read again.

Within an entry, the bodies of the templates' branches are packed on their own (DeferredList)
and unpacked when a branch first runs: a Pod takes few of the sidecar template's branches.
"""
from __future__ import annotations

import functools
import os

from . import disk_cache, gotemplate
from .disk_cache import CACHE_ENV, sha256
from .gotemplate.nodes import BranchNode, ListNode

__all__ = ["CACHE_ENV", "key", "stored", "load", "store", "DeferredList"]

KIND = "templates"
FORMAT = b"kubectl-inject template trees 3"
# A branch body smaller than this (pickled) stays in its parent: unpacking has a cost of its own.
DEFER_AT_BYTES = 256


class DeferredList(ListNode):
    """A branch's body ({{if}}, {{range}}, {{with}}, {{else}}) as the cache keeps it: packed,
    and unpacked the first time its nodes are looked at. A Pod's run takes few of a template's
    branches (gotemplate compiles a branch when it first runs), so most bodies are never
    unpacked. Otherwise a ListNode like any other (str(), .nodes)."""

    __slots__ = ("packed",)

    def __getattr__(self, name):  # only for an attribute not set: .nodes before the first look
        if name != "nodes":
            raise AttributeError(name)
        self.nodes = disk_cache.unpack(self.packed, shared=self.tree)
        return self.nodes

    def __reduce__(self):  # (pickle's default would look at .nodes, and so unpack them)
        return _deferred_list, (self.pos, self.tree, self.packed)


def _deferred_list(pos, tree, packed) -> DeferredList:
    deferred = DeferredList(pos, tree)
    del deferred.nodes  # (set by ListNode's constructor)
    deferred.packed = packed
    return deferred


def _defer_branch_bodies(lst: ListNode) -> None:
    """In place: the bodies of the branches under lst deferred, innermost first."""
    for node in lst.nodes:
        if isinstance(node, BranchNode):
            node.list = _deferred(node.list)
            node.else_list = _deferred(node.else_list)
        elif isinstance(node, ListNode):
            _defer_branch_bodies(node)


def _deferred(lst: ListNode | None) -> ListNode | None:
    """lst with its branches' bodies deferred, itself deferred too when it is large enough."""
    if lst is None:
        return None
    _defer_branch_bodies(lst)
    packed = disk_cache.pack(lst.nodes, shared=lst.tree)
    if len(packed) < DEFER_AT_BYTES:
        return lst
    return _deferred_list(lst.pos, lst.tree, packed)


def _with_deferred_branches(trees: dict) -> dict:
    """A copy of the trees (the caller's stay as they are) whose branch bodies are deferred."""
    copies = disk_cache.unpack(disk_cache.pack(trees))
    for tree in copies.values():
        if tree.root is not None:
            _defer_branch_bodies(tree.root)
    return copies


@functools.lru_cache(maxsize=1)
def _parser_fingerprint() -> bytes | None:
    """What identifies gotemplate's source and the way entries are packed (the files' paths,
    sizes and modification times of gotemplate, this module and disk_cache): a changed parser
    never reads trees of the old one, nor a changed DeferredList bodies packed by the old one.
    None (no caching) where they cannot be looked at."""
    package = os.path.dirname(os.path.abspath(gotemplate.__file__))
    try:
        names = sorted(os.listdir(package))
    except OSError:
        return None
    files = [os.path.join(package, n) for n in names if n.endswith(".py")]
    key = disk_cache.files_key(FORMAT, files + [__file__, disk_cache.__file__])
    return key.encode() if key else None


def key(name: str, text: str, funcs: dict) -> str | None:
    """The entry's key, computed once per template by the caller (a digest of the whole text);
    None (nothing to look up, nothing to pack) when the cache is off."""
    if disk_cache.directory() is None:
        return None
    fingerprint = _parser_fingerprint()
    if fingerprint is None:
        return None
    digest = sha256(fingerprint)
    for part in (name, text, "\0".join(sorted(funcs))):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0\1")
    return digest.hexdigest()


def stored(key: str | None) -> bool:
    """Whether the cache holds trees under this key. Entries are written only after a
    successful parse of exactly this text with these functions, so a stored template is known
    to parse without reading it."""
    path = key and disk_cache.entry_path(KIND, key)
    return bool(path) and os.path.isfile(path)


def load(key: str | None) -> dict | None:
    """The parse trees stored under this key, or None."""
    trees = key and disk_cache.load(KIND, key)
    return trees if isinstance(trees, dict) else None


def store(key: str | None, trees: dict) -> None:
    if key:
        disk_cache.store(KIND, key, _with_deferred_branches(trees))
