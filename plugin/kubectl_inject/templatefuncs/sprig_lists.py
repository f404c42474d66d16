"""sprig v3's list and dict functions: Masterminds/sprig list.go and dict.go (and deepEqual
from reflect.DeepEqual, as sprig's list functions compare elements with it)."""
from __future__ import annotations

import copy

from ..gostd.values import MISSING
from .conv import GoFuncError, as_list, iface, is_empty, strval

__all__ = ["LIST_FUNCS"]


def _deep_equal(a, b) -> bool:
    """reflect.DeepEqual of two interface{} values: same dynamic type and equal contents."""
    if a is MISSING:
        a = None
    if b is MISSING:
        b = None
    if type(a) is not type(b) and not (isinstance(a, dict) and isinstance(b, dict)):
        return False
    return a == b


# --- lists ------------------------------------------------------------------------------------

def _list(*v):
    return list(v)


def _push(lst, v):
    return as_list(lst, "push") + [v]


def _prepend(lst, v):
    return [v] + as_list(lst, "prepend")


def _concat(*lists):
    out = []
    for lst in lists:
        out.extend(as_list(lst, "concat"))
    return out


def _first(lst):
    lst = as_list(lst, "find first")
    return lst[0] if lst else None


def _last(lst):
    lst = as_list(lst, "find last")
    return lst[-1] if lst else None


def _rest(lst):
    lst = as_list(lst, "find rest")
    return lst[1:] if lst else None


def _initial(lst):
    lst = as_list(lst, "find initial")
    return lst[:-1] if lst else None


def _reverse(lst):
    return list(reversed(as_list(lst, "find reverse")))


def _uniq(lst):
    out = []
    for x in as_list(lst, "uniq"):
        if not any(_deep_equal(x, y) for y in out):
            out.append(x)
    return out


def _compact(lst):
    return [x for x in as_list(lst, "compact") if not is_empty(x)]


def _without(lst, *omit):
    return [x for x in as_list(lst, "find without") if not any(_deep_equal(x, o) for o in omit)]


def _has(needle, haystack):
    haystack = iface(haystack)
    if haystack is None:
        return False
    return any(_deep_equal(needle, x) for x in as_list(haystack, "find has"))


# --- dicts ------------------------------------------------------------------------------------

def _dict(*v):
    d = {}
    n = len(v)
    for i in range(0, n, 2):
        key = strval(v[i])
        d[key] = iface(v[i + 1]) if i + 1 < n else ""
    return d


def _get(d, key):
    d = iface(d) or {}
    return d.get(key, "")


def _set(d, key, value):
    d[key] = value
    return d


def _unset(d, key):
    d.pop(key, None)
    return d


def _has_key(d, key):
    d = iface(d)
    return d is not None and key in d


def _keys(*dicts):
    out = []
    for d in dicts:
        out.extend(list(iface(d) or {}))
    return out


def _values(d):
    return list((iface(d) or {}).values())


def _pick(d, *keys):
    d = iface(d) or {}
    return {k: d[k] for k in keys if k in d}


def _omit(d, *keys):
    d = iface(d) or {}
    return {k: v for k, v in d.items() if k not in keys}


def _pluck(name, *dicts):
    return [d[name] for d in dicts if isinstance(d, dict) and name in d]


def _merge_into(dst, src, overwrite):
    # mergo.Merge (WithOverride): nested maps merge, other values fill empty slots
    for k, v in src.items():
        if k in dst and isinstance(dst[k], dict) and isinstance(v, dict):
            _merge_into(dst[k], v, overwrite)
        elif k not in dst or overwrite or is_empty(dst[k]):
            dst[k] = v


def _merger(overwrite: bool):
    def merge(dst, *srcs):
        for s in srcs:
            _merge_into(dst, iface(s) or {}, overwrite)
        return dst
    return merge


def _deep_copy(v):
    return copy.deepcopy(v)


def _dig(*args):
    if len(args) < 3:
        raise GoFuncError("dig needs at least three arguments")
    d = args[-1]
    default = args[-2]
    keys = args[:-2]
    cur = d
    for k in keys:
        if isinstance(cur, dict) and k in cur:
            cur = cur[k]
        else:
            return default
    return cur


LIST_FUNCS = {
    "list": _list, "tuple": _list, "append": _push, "push": _push, "prepend": _prepend,
    "concat": _concat, "first": _first, "last": _last, "rest": _rest, "initial": _initial,
    "reverse": _reverse, "uniq": _uniq, "compact": _compact, "without": _without,
    "has": _has,
    "dict": _dict, "get": _get, "set": _set, "unset": _unset, "hasKey": _has_key,
    "keys": _keys, "values": _values, "pick": _pick, "omit": _omit,
    "pluck": _pluck, "merge": _merger(False), "mergeOverwrite": _merger(True),
    "deepCopy": _deep_copy, "dig": _dig, "deepEqual": _deep_equal,
}
