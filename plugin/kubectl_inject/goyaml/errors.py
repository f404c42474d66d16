"""The one error type of the goyaml package (every module of it raises it)."""
from __future__ import annotations

__all__ = ["YAMLError"]


class YAMLError(ValueError):
    """A document Go would refuse; str() is Go's one-line error text."""
