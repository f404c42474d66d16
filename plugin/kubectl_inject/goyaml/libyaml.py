"""PyYAML, loaded for one thing: libyaml's event parser (CParser) and the classes of its events
and errors, which decode.py reads documents with.

Importing PyYAML runs its pure-Python reader, resolver and constructor modules, which compile
about twenty regular expressions at import time; Python compiles a character class with long
ranges (the reader's NON_PRINTABLE) code point by code point. Together that is about a quarter
of the instructions of a one-Pod `kubectl inject` run, for patterns we never use: libyaml reads
the text and goyaml resolves the scalars itself (resolve.py, with go-yaml's rules). So while
PyYAML's own modules load, their patterns are made compile-on-first-use: unused, they cost
nothing; used (by any other code in the process calling yaml.safe_load, say), they compile then
and behave exactly as before. Nothing else is changed, and only PyYAML's modules get them.
"""
from __future__ import annotations

import re
import sys

from .. import lazy_regex

__all__ = ["pyyaml", "CParser"]


_real_compile = re.compile


def _compile_for_pyyaml(pattern, flags=0):
    caller = sys._getframe(1).f_globals.get("__name__", "")
    if caller == "yaml" or caller.startswith("yaml."):
        return lazy_regex.compile(pattern, flags)
    return _real_compile(pattern, flags)  # any other module imported meanwhile: as usual


def _load_pyyaml():
    if "yaml" in sys.modules:  # already loaded by someone else: take it as it is
        return sys.modules["yaml"]
    re.compile = _compile_for_pyyaml
    try:
        import yaml
    finally:
        re.compile = _real_compile
    return yaml


pyyaml = _load_pyyaml()
from yaml._yaml import CParser  # noqa: E402  (libyaml; after PyYAML is loaded as above)
