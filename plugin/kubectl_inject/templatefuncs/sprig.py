"""sprig v3's TxtFuncMap (Masterminds/sprig functions.go), its deterministic part.

The map is assembled from :mod:`.sprig_strings`, :mod:`.sprig_lists` and :mod:`.sprig_numeric`;
this module holds the rest: defaults.go (default, empty, coalesce, ternary, the JSON
functions, fail), reflect.go (typeOf, kindOf, kindIs, typeIs) and env.
"""
from __future__ import annotations

import os

from ..gostd import json as gojson
from ..gostd.values import go_type_name
from ..gotemplate import signature
from .conv import GoFuncError, iface, is_empty, strval
from .sprig_lists import LIST_FUNCS
from .sprig_numeric import NUMERIC_FUNCS
from .sprig_strings import STRING_FUNCS

__all__ = ["sprig_funcs"]


def _default(d, *given):
    if not given or is_empty(given[0]):
        return iface(d)
    return given[0]


def _coalesce(*v):
    for x in v:
        if not is_empty(x):
            return x
    return None


@signature("interface {}", "interface {}", "bool")
def _ternary(vt, vf, v):
    return vt if v else vf


def _fail(msg):
    raise GoFuncError(strval(msg))


def _json_func(**options):
    """sprig's toJson/toPrettyJson/toRawJson: encoding/json's text, "" when Go fails."""
    def to_json(v):
        try:
            return gojson.marshal(iface(v), **options)
        except gojson.MarshalError:
            return ""
    return to_json


@signature("string")
def _from_json(s):
    try:
        return gojson.unmarshal_any(s)
    except ValueError:
        return {}


def _type_of(v):
    return go_type_name(iface(v))


_KINDS = {"bool": "bool", "int": "int", "float64": "float64", "string": "string"}


def _kind_of(v):
    v = iface(v)
    if v is None:
        return "invalid"
    t = go_type_name(v)
    if t in _KINDS:
        return _KINDS[t]
    if isinstance(v, dict) or t.startswith("map["):
        return "map"
    if isinstance(v, (list, tuple)) or t.startswith("[]"):
        return "slice"
    if t.startswith("*"):
        return "ptr"
    return "struct"


def _kind_is(target, v):
    return target == _kind_of(v)


def _type_is(target, v):
    return target == _type_of(v)


@signature("string")
def _env(key):
    return os.environ.get(key, "")


def sprig_funcs() -> dict:
    """The deterministic part of sprig v3's TxtFuncMap (random, date and crypto-key
    functions are left out: Istio's templates don't use them and output must be stable)."""
    funcs = {
        "default": _default, "empty": is_empty, "coalesce": _coalesce, "ternary": _ternary,
        "fail": _fail, "toJson": _json_func(), "toPrettyJson": _json_func(indent="  "),
        "toRawJson": _json_func(escape_html=False), "fromJson": _from_json,
        "typeOf": _type_of, "kindOf": _kind_of, "kindIs": _kind_is,
        "typeIs": _type_is, "typeIsLike": _type_is,
        # env (Istio replaces this with its two-argument form)
        "env": _env,
    }
    funcs.update(STRING_FUNCS)
    funcs.update(LIST_FUNCS)
    funcs.update(NUMERIC_FUNCS)
    return funcs
