"""Regular expressions compiled when first used, not when their module is imported.

A one-Pod run is mostly start-up, and Python compiles every module-level `re.compile` as the
module loads: about forty patterns, several milliseconds, for a run that uses a few of them
(which ones depends on the input: timestamps, octal numbers, non-ASCII text...). `compile`
returns a stand-in that compiles on its first attribute lookup (`.match`, `.sub`, `.pattern`...)
and then keeps what it looked up as its own attribute, so later calls cost one attribute lookup,
as on a compiled pattern.
"""
from __future__ import annotations

import re

__all__ = ["compile"]


class LazyPattern:
    """Stands for re.compile(pattern, flags); see the module's docstring."""

    def __init__(self, pattern, flags=0):
        self._args = (pattern, flags)

    def __getattr__(self, name):  # only for names not set yet: the first use of each
        if name.startswith("__"):
            raise AttributeError(name)  # (copy, pickle and the like probing for hooks)
        value = getattr(re.compile(*self._args), name)
        setattr(self, name, value)
        return value

    def __repr__(self):
        return f"lazy_regex.compile{self._args!r}"


def compile(pattern, flags=0):  # noqa: A001  (the name re users expect)
    return LazyPattern(pattern, flags)
