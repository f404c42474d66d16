"""How the template functions read their arguments: the conversions sprig and Istio's functions
apply to the interface{} values a template passes them.

Mirrors sprig v3's strval/empty/strslice (Masterminds/sprig: strings.go, defaults.go), the
spf13/cast conversions sprig calls (ToInt64, ToFloat64), and the few Go standard-library helpers
the functions need that :mod:`..gostd` does not carry: strings.TrimSpace's notion of white space
and path.Split. Also the error type every function raises.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

from ..gostd.fmt import format_value
from ..gostd.strconv import parse_int
from ..gostd.values import MISSING, go_type_name

__all__ = ["GoFuncError", "GO_SPACE", "iface", "strval", "strslice", "is_empty", "struct_field",
           "to_int64", "to_float64", "as_list", "path_split"]


class GoFuncError(Exception):
    """A function error, reported by the engine as ``error calling NAME: MESSAGE``."""


# unicode.IsSpace: what strings.TrimSpace and strings.Fields strip
GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
           "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def iface(v):
    """The value as a Go function's interface{} parameter receives it: the invalid
    reflect.Value becomes a nil interface."""
    return None if v is MISSING else v


def strval(v) -> str:
    """sprig strval: strings as is, Stringers via String(), errors via Error(), else fmt %v."""
    if isinstance(v, str):
        return v
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", errors="replace")
    m = getattr(v, "__go_method__", None)
    if m is not None:
        s = m("String")
        if s is not None:
            return s()
        e = m("Error")
        if e is not None:
            return e()
    return format_value(iface(v))


def strslice(v) -> list[str]:
    """sprig strslice: a slice's non-nil elements through strval; nil is empty; else [strval]."""
    v = iface(v)
    if isinstance(v, (list, tuple)):
        return [strval(x) for x in v if x is not None and x is not MISSING]
    if v is None:
        return []
    return [strval(v)]


def is_empty(v) -> bool:
    """sprig empty(): nil, zero numbers, false, empty string/slice/map; structs never."""
    if v is None or v is MISSING:
        return True
    if v is True or v is False:
        return not v
    if isinstance(v, (str, list, tuple, dict)):
        return len(v) == 0
    if isinstance(v, (int, float)):
        return v == 0
    ln = getattr(v, "__go_len__", None)
    if ln is not None:
        return ln() == 0
    t = getattr(v, "__go_truth__", None)
    if t is not None:
        return not t()
    return False


def struct_field(obj, go_name: str, json_name: str | None = None, default=None):
    """A Go struct field read from a GoStruct, or from a dict with Go or Kubernetes-JSON names
    (``Ports`` / ``ports``); default when there is no such field or the receiver is nil."""
    if obj is None or obj is MISSING:
        return default
    f = getattr(obj, "__go_field__", None)
    if f is not None:
        try:
            return f(go_name)
        except Exception:
            return default
    if isinstance(obj, Mapping):
        if go_name in obj:
            return obj[go_name]
        if json_name is not None and json_name in obj:
            return obj[json_name]
    return default


def to_int64(v) -> int:
    """spf13/cast.ToInt64 as sprig uses it (errors become 0)."""
    v = iface(v)
    if v is None:
        return 0
    if v is True:
        return 1
    if v is False:
        return 0
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        if v != v or v in (math.inf, -math.inf):
            return -(1 << 63)
        return int(v)
    if isinstance(v, str):
        s = v.strip()
        if "." in s:  # cast trims a zero decimal part: "12.00" -> "12"
            ip, _, fp = s.partition(".")
            if fp.strip("0") == "":
                s = ip
        r = parse_int(s)
        return r if r is not None else 0
    return 0


def to_float64(v) -> float:
    """spf13/cast.ToFloat64 as sprig uses it (errors become 0)."""
    v = iface(v)
    if v is None or v is False:
        return 0.0
    if v is True:
        return 1.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return 0.0
    return 0.0


def as_list(v, fn: str) -> list:
    """A slice argument of sprig's list functions; anything else is sprig's
    ``Cannot FN on type T`` error."""
    v = iface(v)
    if isinstance(v, (list, tuple)):
        return list(v)
    rng = getattr(v, "__go_range__", None)
    if rng is not None:
        r = rng()
        if isinstance(r, (list, tuple)):
            return list(r)
    raise GoFuncError("Cannot %s on type %s" % (fn, go_type_name(v)))


def path_split(p: str) -> tuple[str, str]:
    """path.Split: everything up to and including the last slash, and the rest."""
    i = p.rfind("/")
    return p[:i + 1], p[i + 1:]
