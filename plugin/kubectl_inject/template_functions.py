"""The function map Istio gives its injection templates.

Istio (pkg/kube/inject) parses every injection template with
``template.New("inject").Funcs(sprig.TxtFuncMap()).Funcs(InjectionFuncmap)``: all of sprig's
text functions, then Istio's own functions on top (Istio's win on a name clash: indent,
contains, toYaml, omit, env, ...). :func:`istio_template_funcs` builds the same map for
:mod:`gotemplate`. Each function mirrors the Go implementation's behaviour and output,
including Go's quirks (sprig's ``indent`` vs Istio's ``indent``, ``valueOrDefault`` only
checking for "" and nil, ``fromJSON`` returning ``"{}"`` on bad input, ...).

Protocols for objects from other modules
----------------------------------------
* ``__go_json__()`` -> the JSON-compatible Python value Go's encoding/json would produce for
  the object (dicts are written in their insertion order, so a struct's dict must already be
  in Go field order and its maps' keys sorted; nested objects may again implement the
  protocol). Used by toJSON, structToJSON, toJsonMap, toJson, toYaml.
* ``__proto_json__()`` -> the text Istio's protomarshal.ToJSON (jsonpb: proto field order,
  camelCase names, int64 as strings, defaults omitted) would produce, or a JSON-compatible
  value that is then written compactly in insertion order. Used by protoToJSON.
  ``__proto_clean__()`` (optional) returns the object with Istio's cleanProxyConfig applied
  (fields equal to the mesh defaults cleared); protoToJSON calls it first.
* Struct-like objects are read through :class:`gotemplate.GoStruct` (``__go_field__``);
  plain dicts with Kubernetes JSON names work too (``containerPort``, ``annotations``...).
* Plain dicts/lists/str/int/float/bool/None are handled directly; dict keys are sorted like
  Go map keys.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import posixpath
import re
import zlib
from typing import Any, Mapping

from .gotemplate import (MISSING, StringMap, format_float, format_value, go_quote, go_type_name,
                         signature, sprintf)

__all__ = ["istio_template_funcs", "sprig_funcs", "istio_funcs", "go_json", "to_yaml",
           "GoFuncError"]


class GoFuncError(Exception):
    """A function error, reported by the engine as ``error calling NAME: MESSAGE``."""


# ---------------------------------------------------------------------------------------------
# encoding/json


def _json_string(s: str, escape_html: bool = True) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20:
            if ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\t":
                out.append("\\t")
            elif ch == "\b":
                out.append("\\b")
            elif ch == "\f":
                out.append("\\f")
            else:
                out.append("\\u00%02x" % o)
        elif escape_html and ch in "<>&":
            out.append("\\u00%02x" % o)
        elif o == 0x2028 or o == 0x2029:
            out.append("\\u%04x" % o)
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _json_float(f: float) -> str:
    if f != f or f in (math.inf, -math.inf):
        raise GoFuncError("json: unsupported value: %s" % format_float(f))
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        s = format_float(f, "e", -1)
        # Go cleans e-09 to e-9
        if len(s) >= 4 and s[-4] == "e" and s[-3] == "-" and s[-2] == "0":
            s = s[:-2] + s[-1]
        return s
    return format_float(f, "f", -1)


def _json_key(k) -> str:
    if isinstance(k, str):
        return k
    if k is True or k is False:
        raise GoFuncError("json: unsupported type: map[bool]")
    if isinstance(k, int):
        return str(k)
    return format_value(k)


def _encode(v, out: list, sort: bool, html: bool, proto: bool, indent: str, prefix: str):
    if v is None or v is MISSING:
        out.append("null")
        return
    if v is True:
        out.append("true")
        return
    if v is False:
        out.append("false")
        return
    t = type(v)
    if t is str:
        out.append(_json_string(v, html))
        return
    if t is int:
        out.append(str(v))
        return
    if t is float:
        out.append(_json_float(v))
        return
    hook = getattr(v, "__proto_json__" if proto else "__go_json__", None)
    if hook is None and proto:
        hook = getattr(v, "__go_json__", None)
    if hook is not None:
        # the producer already put keys in Go's order
        _encode(hook(), out, False, html, proto, indent, prefix)
        return
    if isinstance(v, str):
        out.append(_json_string(str(v), html))
        return
    if isinstance(v, int):
        out.append(str(int(v)))
        return
    if isinstance(v, float):
        out.append(_json_float(float(v)))
        return
    if isinstance(v, Mapping):
        if not v:
            out.append("{}")
            return
        items = [(_json_key(k), val) for k, val in v.items()]
        if sort:
            items.sort(key=lambda kv: kv[0])
        out.append("{")
        inner = prefix + indent
        for i, (k, val) in enumerate(items):
            if i:
                out.append(",")
            if indent:
                out.append("\n" + inner)
            out.append(_json_string(k, html))
            out.append(": " if indent else ":")
            _encode(val, out, sort, html, proto, indent, inner)
        if indent:
            out.append("\n" + prefix)
        out.append("}")
        return
    if isinstance(v, (list, tuple)):
        if not v:
            out.append("[]")
            return
        out.append("[")
        inner = prefix + indent
        for i, val in enumerate(v):
            if i:
                out.append(",")
            if indent:
                out.append("\n" + inner)
            _encode(val, out, sort, html, proto, indent, inner)
        if indent:
            out.append("\n" + prefix)
        out.append("]")
        return
    if isinstance(v, (bytes, bytearray)):
        out.append('"' + base64.b64encode(bytes(v)).decode() + '"')
        return
    raise GoFuncError("json: unsupported type: %s" % go_type_name(v))


def go_json(value, *, indent: str = "", escape_html: bool = True, proto: bool = False,
            sort_keys: bool = True) -> str:
    """encoding/json.Marshal (or MarshalIndent with prefix "" and ``indent``) of a Go value.

    ``proto=True`` prefers ``__proto_json__`` (jsonpb output) over ``__go_json__``;
    ``sort_keys=False`` writes dicts in insertion order (already Go-ordered values)."""
    out: list[str] = []
    _encode(value, out, sort_keys, escape_html, proto, indent, "")
    return "".join(out)


def _go_json_decode(text: str):
    """json.Unmarshal into interface{}: every number is a float64."""
    def as_float(s):
        return float(s)
    return json.loads(text, parse_int=as_float, parse_float=as_float,
                      parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def _to_json_compatible(value):
    """The JSON value encoding/json writes for value, re-read with ints kept as ints (as
    sigs.k8s.io/yaml's JSON-to-YAML step sees it)."""
    return json.loads(go_json(value))


# ---------------------------------------------------------------------------------------------
# YAML (sigs.k8s.io/yaml.Marshal)


def to_yaml(value) -> str:
    """sigs.k8s.io/yaml.Marshal: encoding/json first, then go-yaml v2 over the JSON."""
    from . import goyaml  # imported on first use: templates rarely call toYaml
    return goyaml.dump(_to_json_compatible(value))


# ---------------------------------------------------------------------------------------------
# Go value helpers


def _iface(v):
    return None if v is MISSING else v


def _strval(v) -> str:
    """sprig strval: strings as is, Stringers via String(), else fmt %v."""
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
    return format_value(_iface(v))


def _empty(v) -> bool:
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


def _get_field(obj, go_name: str, json_name: str | None = None, default=None):
    """Read a Go struct field from a GoStruct or a Kubernetes-JSON dict."""
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


def _to_int64(v) -> int:
    """spf13/cast.ToInt64 as sprig uses it (errors become 0)."""
    v = _iface(v)
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
        from .gotemplate import _parse_go_int
        r = _parse_go_int(s) if s else None
        return r if r is not None else 0
    return 0


def _to_float64(v) -> float:
    v = _iface(v)
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


def _as_list(v, fn: str) -> list:
    v = _iface(v)
    if isinstance(v, (list, tuple)):
        return list(v)
    rng = getattr(v, "__go_range__", None)
    if rng is not None:
        r = rng()
        if isinstance(r, (list, tuple)):
            return list(r)
    raise GoFuncError("Cannot %s on type %s" % (fn, go_type_name(v)))


def _strslice(v) -> list[str]:
    v = _iface(v)
    if isinstance(v, (list, tuple)):
        return [_strval(x) for x in v if x is not None and x is not MISSING]
    if v is None:
        return []
    return [_strval(v)]


# ---------------------------------------------------------------------------------------------
# sprig (Masterminds/sprig v3 TxtFuncMap), deterministic functions


def _sprig_indent(spaces: int, v: str) -> str:
    pad = " " * spaces
    return pad + v.replace("\n", "\n" + pad)


@signature("int", "string")
def _nindent(spaces, v):
    return "\n" + _sprig_indent(spaces, v)


def _default(d, *given):
    if not given or _empty(given[0]):
        return _iface(d)
    return given[0]


def _coalesce(*v):
    for x in v:
        if not _empty(x):
            return x
    return None


@signature("interface {}", "interface {}", "bool")
def _ternary(vt, vf, v):
    return vt if v else vf


def _quote(*args):
    return " ".join(go_quote(_strval(a)) for a in args if a is not None and a is not MISSING)


def _squote(*args):
    return " ".join("'" + _strval(a) + "'" for a in args if a is not None and a is not MISSING)


def _cat(*args):
    vals = [a for a in args if a is not None and a is not MISSING]
    return sprintf(" ".join(["%v"] * len(vals)), *vals)


@signature("int", "string")
def _trunc(c, s):
    b = s.encode("utf-8")
    if c < 0 and len(b) + c > 0:
        return b[len(b) + c:].decode("utf-8", errors="replace")
    if c >= 0 and len(b) > c:
        return b[:c].decode("utf-8", errors="replace")
    return s


@signature("int", "int", "string")
def _substr(start, end, s):
    b = s.encode("utf-8")
    if start < 0:
        r = b[:end]
    elif end < 0 or end > len(b):
        r = b[start:]
    else:
        r = b[start:end]
    return r.decode("utf-8", errors="replace")


@signature("string", "string")
def _trim_all(a, b):
    return b.strip(a) if a else b


@signature("string", "string")
def _trim_prefix(a, b):
    return b[len(a):] if a and b.startswith(a) else b


@signature("string", "string")
def _trim_suffix(a, b):
    return b[:-len(a)] if a and b.endswith(a) else b


@signature("string", "string")
def _has_prefix(substr, s):
    return s.startswith(substr)


@signature("string", "string")
def _has_suffix(substr, s):
    return s.endswith(substr)


@signature("string", "string")
def _contains(needle, haystack):
    return needle in haystack


@signature("string", "string", "string")
def _replace(old, new, src):
    if old == "":
        # strings.Replace with empty old inserts new between every rune
        return new + new.join(src) + new if src else new
    return src.replace(old, new)


@signature("int", "string")
def _repeat(count, s):
    if count < 0:
        raise GoFuncError("strings: negative Repeat count")
    return s * count


_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
            "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


@signature("string")
def _trim(s):
    return s.strip(_GO_SPACE)


@signature("string")
def _nospace(s):
    return "".join(c for c in s if c not in _GO_SPACE)


@signature("string")
def _lower(s):
    return s.lower()


@signature("string")
def _upper(s):
    return s.upper()


@signature("string")
def _title(s):
    out = []
    prev = " "
    for c in s:
        out.append(c.upper() if (prev in _GO_SPACE or not (prev.isalnum() or prev == "_")) and
                   not (prev.isalnum() or prev == "_") else c)
        prev = c
    return "".join(out)


@signature("string")
def _untitle(s):
    out = []
    prev = " "
    for c in s:
        out.append(c.lower() if prev in _GO_SPACE else c)
        prev = c
    return "".join(out)


@signature("string", "string")
def _split_list(sep, orig):
    if sep == "":
        return list(orig)
    return orig.split(sep)


@signature("string", "string")
def _split(sep, orig):
    parts = list(orig) if sep == "" else orig.split(sep)
    return {"_%d" % i: p for i, p in enumerate(parts)}


@signature("string", "int", "string")
def _splitn(sep, n, orig):
    if n == 0:
        return {}
    parts = orig.split(sep, n - 1) if n > 0 else orig.split(sep)
    return {"_%d" % i: p for i, p in enumerate(parts)}


@signature("string", "interface {}")
def _join(sep, v):
    return sep.join(_strslice(v))


def _sort_alpha(lst):
    lst = _iface(lst)
    if isinstance(lst, (list, tuple)):
        return sorted(_strslice(lst))
    return [_strval(lst)]


def _list(*v):
    return list(v)


def _push(lst, v):
    return _as_list(lst, "push") + [v]


def _prepend(lst, v):
    return [v] + _as_list(lst, "prepend")


def _concat(*lists):
    out = []
    for lst in lists:
        out.extend(_as_list(lst, "concat"))
    return out


def _first(lst):
    lst = _as_list(lst, "find first")
    return lst[0] if lst else None


def _last(lst):
    lst = _as_list(lst, "find last")
    return lst[-1] if lst else None


def _rest(lst):
    lst = _as_list(lst, "find rest")
    return lst[1:] if lst else None


def _initial(lst):
    lst = _as_list(lst, "find initial")
    return lst[:-1] if lst else None


def _reverse(lst):
    return list(reversed(_as_list(lst, "find reverse")))


def _deep_equal(a, b) -> bool:
    if a is MISSING:
        a = None
    if b is MISSING:
        b = None
    if type(a) is not type(b) and not (isinstance(a, dict) and isinstance(b, dict)):
        return False
    return a == b


def _uniq(lst):
    out = []
    for x in _as_list(lst, "uniq"):
        if not any(_deep_equal(x, y) for y in out):
            out.append(x)
    return out


def _compact(lst):
    return [x for x in _as_list(lst, "compact") if not _empty(x)]


def _without(lst, *omit):
    return [x for x in _as_list(lst, "find without") if not any(_deep_equal(x, o) for o in omit)]


def _has(needle, haystack):
    haystack = _iface(haystack)
    if haystack is None:
        return False
    return any(_deep_equal(needle, x) for x in _as_list(haystack, "find has"))


def _dict(*v):
    d = {}
    n = len(v)
    for i in range(0, n, 2):
        key = _strval(v[i])
        d[key] = _iface(v[i + 1]) if i + 1 < n else ""
    return d


def _get(d, key):
    d = _iface(d) or {}
    return d.get(key, "")


def _set(d, key, value):
    d[key] = value
    return d


def _unset(d, key):
    d.pop(key, None)
    return d


def _has_key(d, key):
    d = _iface(d)
    return d is not None and key in d


def _keys(*dicts):
    out = []
    for d in dicts:
        out.extend(list(_iface(d) or {}))
    return out


def _values(d):
    return list((_iface(d) or {}).values())


def _pick(d, *keys):
    d = _iface(d) or {}
    return {k: d[k] for k in keys if k in d}


def _sprig_omit(d, *keys):
    d = _iface(d) or {}
    return {k: v for k, v in d.items() if k not in keys}


def _pluck(name, *dicts):
    return [d[name] for d in dicts if isinstance(d, dict) and name in d]


def _merge_into(dst, src, overwrite):
    for k, v in src.items():
        if k in dst and isinstance(dst[k], dict) and isinstance(v, dict):
            _merge_into(dst[k], v, overwrite)
        elif k not in dst or overwrite or _empty(dst[k]):
            dst[k] = v


def _merge(dst, *srcs):
    for s in srcs:
        _merge_into(dst, _iface(s) or {}, False)
    return dst


def _merge_overwrite(dst, *srcs):
    for s in srcs:
        _merge_into(dst, _iface(s) or {}, True)
    return dst


def _deep_copy(v):
    import copy
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


def _add(*v):
    return sum(_to_int64(x) for x in v)


def _add1(v):
    return _to_int64(v) + 1


def _sub(a, b):
    return _to_int64(a) - _to_int64(b)


def _mul(a, *v):
    r = _to_int64(a)
    for x in v:
        r *= _to_int64(x)
    return r


def _go_div(a: int, b: int) -> int:
    if b == 0:
        raise GoFuncError("runtime error: integer divide by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _div(a, b):
    return _go_div(_to_int64(a), _to_int64(b))


def _mod(a, b):
    a, b = _to_int64(a), _to_int64(b)
    return a - b * _go_div(a, b)


def _max(a, *i):
    r = _to_int64(a)
    for x in i:
        r = max(r, _to_int64(x))
    return r


def _min(a, *i):
    r = _to_int64(a)
    for x in i:
        r = min(r, _to_int64(x))
    return r


def _addf(*v):
    return float(sum(_to_float64(x) for x in v))


def _subf(a, *v):
    r = _to_float64(a)
    for x in v:
        r -= _to_float64(x)
    return r


def _mulf(a, *v):
    r = _to_float64(a)
    for x in v:
        r *= _to_float64(x)
    return r


def _divf(a, *v):
    r = _to_float64(a)
    for x in v:
        d = _to_float64(x)
        if d == 0:
            raise GoFuncError("division by zero")
        r /= d
    return r


def _floor(a):
    return float(math.floor(_to_float64(a)))


def _ceil(a):
    return float(math.ceil(_to_float64(a)))


def _round(a, p, *r_opt):
    roundon = _to_float64(r_opt[0]) if r_opt else 0.5
    val = _to_float64(a)
    places = _to_float64(p)
    pow_ = math.pow(10, places)
    digit = pow_ * val
    div, _ = math.modf(digit)  # Go's Modf returns (int, frac); Python's (frac, int)
    if div >= roundon:
        rnd = math.ceil(digit)
    else:
        rnd = math.floor(digit)
    return rnd / pow_


@signature("string")
def _atoi(s):
    # strconv.Atoi: optional sign and decimal digits only; errors give 0
    if re.fullmatch(r"[+-]?[0-9]+", s):
        v = int(s, 10)
        if -(1 << 63) <= v < (1 << 63):
            return v
    return 0


def _int(v):
    return _to_int64(v)


def _until(count):
    c = _to_int64(count)
    step = 1 if c >= 0 else -1
    return list(range(0, c, step))


def _until_step(start, stop, step):
    start, stop, step = _to_int64(start), _to_int64(stop), _to_int64(step)
    if step == 0 or (step > 0 and start >= stop) or (step < 0 and start <= stop):
        return []
    return list(range(start, stop, step))


def _seq(*params):
    p = [_to_int64(x) for x in params]
    if len(p) == 0:
        return ""
    if len(p) == 1:
        start, end, step = 1, p[0], 1
        if end < start:
            step = -1
    elif len(p) == 2:
        start, end = p
        step = 1 if end >= start else -1
    elif len(p) == 3:
        start, step, end = p
        if end == start or step == 0:
            return str(start) if end == start else ""
        if (end > start) != (step > 0):
            return ""
    else:
        return ""
    out = []
    i = start
    while (step > 0 and i <= end) or (step < 0 and i >= end):
        out.append(str(i))
        i += step
    return " ".join(out)


@signature("string")
def _b64enc(s):
    return base64.b64encode(s.encode("utf-8")).decode()


@signature("string")
def _b64dec(s):
    try:
        return base64.b64decode(s.encode(), validate=True).decode("utf-8", errors="replace")
    except Exception as e:  # sprig returns the error text
        return str(e)


@signature("string")
def _b32enc(s):
    return base64.b32encode(s.encode("utf-8")).decode()


@signature("string")
def _b32dec(s):
    try:
        return base64.b32decode(s.encode()).decode("utf-8", errors="replace")
    except Exception as e:
        return str(e)


@signature("string")
def _sha256sum(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


@signature("string")
def _sha1sum(s):
    return hashlib.sha1(s.encode("utf-8")).hexdigest()


@signature("string")
def _adler32sum(s):
    return str(zlib.adler32(s.encode("utf-8")))


@signature("string")
def _path_base(p):
    if p == "":
        return "."
    p = p.rstrip("/")
    if p == "":
        return "/"
    return p.rsplit("/", 1)[-1]


@signature("string")
def _path_dir(p):
    d, _ = _path_split(p)
    return _path_clean(d)


def _path_split(p):
    i = p.rfind("/")
    return p[:i + 1], p[i + 1:]


def _path_clean(p):
    if p == "":
        return "."
    c = posixpath.normpath(p)
    if c.startswith("//"):
        c = "/" + c.lstrip("/")
    return c


@signature("string")
def _path_ext(p):
    i = len(p) - 1
    while i >= 0 and p[i] != "/":
        if p[i] == ".":
            return p[i:]
        i -= 1
    return ""


@signature("string")
def _path_is_abs(p):
    return p.startswith("/")


def _go_regex(rx: str) -> str:
    # RE2 and Python agree on the syntax templates use; named groups differ: (?P<n>) is fine.
    return rx


@signature("string", "string")
def _regex_match(rx, s):
    return re.search(_go_regex(rx), s) is not None


@signature("string", "string", "int")
def _regex_find_all(rx, s, n):
    found = [m.group(0) for m in re.finditer(_go_regex(rx), s)]
    return found if n < 0 else found[:n]


@signature("string", "string")
def _regex_find(rx, s):
    m = re.search(_go_regex(rx), s)
    return m.group(0) if m else ""


def _expand_repl(repl: str) -> str:
    # Go's $1 / ${1} / ${name} expansion -> Python's \g<...>
    out = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c == "\\":
            out.append("\\\\")
            i += 1
            continue
        if c == "$" and i + 1 < len(repl):
            if repl[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            m = re.match(r"\{(\w+)\}|(\w+)", repl[i + 1:])
            if m:
                out.append("\\g<" + (m.group(1) or m.group(2)) + ">")
                i += 1 + m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


@signature("string", "string", "string")
def _regex_replace_all(rx, s, repl):
    try:
        return re.sub(_go_regex(rx), _expand_repl(repl), s)
    except (re.error, IndexError):
        return re.sub(_go_regex(rx), "", s)


@signature("string", "string", "string")
def _regex_replace_all_literal(rx, s, repl):
    return re.sub(_go_regex(rx), lambda m: repl, s)


@signature("string", "string", "int")
def _regex_split(rx, s, n):
    if n == 0:
        return []
    parts = re.split(_go_regex(rx), s)
    if n > 0 and len(parts) > n:
        # keep the remainder unsplit, as Go's Split(s, n)
        ms = list(re.finditer(_go_regex(rx), s))
        parts = parts[:n - 1] + [s[ms[n - 2].end():]]
    return parts


def _type_of(v):
    return go_type_name(_iface(v)) if v is not None and v is not MISSING else "<nil>"


_KINDS = {"bool": "bool", "int": "int", "float64": "float64", "string": "string"}


def _kind_of(v):
    v = _iface(v)
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


def _fail(msg):
    raise GoFuncError(_strval(msg))


@signature("string", "string", "int")
def _plural(one, many, count):
    return one if count == 1 else many


@signature("int", "string")
def _abbrev(width, s):
    if width < 4 or len(s) <= width:
        return s
    return s[:width - 3] + "..."


@signature("string")
def _initials(s):
    return "".join(w[0] for w in s.split() if w)


def _sprig_to_json(v):
    try:
        return go_json(_iface(v))
    except GoFuncError:
        return ""


def _sprig_to_pretty_json(v):
    try:
        return go_json(_iface(v), indent="  ")
    except GoFuncError:
        return ""


def _sprig_to_raw_json(v):
    try:
        return go_json(_iface(v), escape_html=False)
    except GoFuncError:
        return ""


@signature("string")
def _sprig_from_json(s):
    try:
        return _go_json_decode(s)
    except ValueError:
        return {}


def _sprig_to_strings(v):
    return _strslice(v)


def _float64(v):
    return _to_float64(v)


def sprig_funcs() -> dict:
    """The deterministic part of sprig v3's TxtFuncMap (random, date and crypto-key
    functions are left out: Istio's templates don't use them and output must be stable)."""
    return {
        # defaults / flow
        "default": _default, "empty": _empty, "coalesce": _coalesce, "ternary": _ternary,
        "fail": _fail, "toJson": _sprig_to_json, "toPrettyJson": _sprig_to_pretty_json,
        "toRawJson": _sprig_to_raw_json, "fromJson": _sprig_from_json,
        "deepEqual": _deep_equal, "typeOf": _type_of, "kindOf": _kind_of, "kindIs": _kind_is,
        "typeIs": _type_is, "typeIsLike": _type_is,
        # strings
        "quote": _quote, "squote": _squote, "cat": _cat, "trunc": _trunc, "substr": _substr,
        "trim": _trim, "trimAll": _trim_all, "trimall": _trim_all, "trimPrefix": _trim_prefix,
        "trimSuffix": _trim_suffix, "hasPrefix": _has_prefix, "hasSuffix": _has_suffix,
        "contains": _contains, "replace": _replace, "repeat": _repeat, "nospace": _nospace,
        "lower": _lower, "upper": _upper, "title": _title, "untitle": _untitle,
        "splitList": _split_list, "split": _split, "splitn": _splitn, "join": _join,
        "sortAlpha": _sort_alpha, "toString": _strval, "toStrings": _sprig_to_strings,
        "indent": _sprig_indent_sig, "nindent": _nindent, "plural": _plural, "abbrev": _abbrev,
        "initials": _initials, "b64enc": _b64enc, "b64dec": _b64dec, "b32enc": _b32enc,
        "b32dec": _b32dec, "sha256sum": _sha256sum, "sha1sum": _sha1sum,
        "adler32sum": _adler32sum,
        "regexMatch": _regex_match, "regexFindAll": _regex_find_all, "regexFind": _regex_find,
        "regexReplaceAll": _regex_replace_all,
        "regexReplaceAllLiteral": _regex_replace_all_literal, "regexSplit": _regex_split,
        # lists
        "list": _list, "tuple": _list, "append": _push, "push": _push, "prepend": _prepend,
        "concat": _concat, "first": _first, "last": _last, "rest": _rest, "initial": _initial,
        "reverse": _reverse, "uniq": _uniq, "compact": _compact, "without": _without,
        "has": _has, "until": _until, "untilStep": _until_step, "seq": _seq,
        # dicts
        "dict": _dict, "get": _get, "set": _set, "unset": _unset, "hasKey": _has_key,
        "keys": _keys, "values": _values, "pick": _pick, "omit": _sprig_omit,
        "pluck": _pluck, "merge": _merge, "mergeOverwrite": _merge_overwrite,
        "deepCopy": _deep_copy, "dig": _dig,
        # math
        "add": _add, "add1": _add1, "sub": _sub, "mul": _mul, "div": _div, "mod": _mod,
        "max": _max, "min": _min, "addf": _addf, "subf": _subf, "mulf": _mulf,
        "divf": _divf, "floor": _floor, "ceil": _ceil, "round": _round, "atoi": _atoi,
        "int": _int, "int64": _int, "float64": _float64, "toDecimal": _int,
        # paths
        "base": _path_base, "dir": _path_dir, "clean": signature("string")(_path_clean),
        "ext": _path_ext, "isAbs": _path_is_abs,
        # env (Istio replaces this with its two-argument form)
        "env": signature("string")(lambda k: os.environ.get(k, "")),
    }


@signature("int", "string")
def _sprig_indent_sig(spaces, v):
    return _sprig_indent(spaces, v)


# ---------------------------------------------------------------------------------------------
# Istio's InjectionFuncmap (pkg/kube/inject/template.go)


def _go_call(obj, method: str):
    """obj.Method() on a template view, or None when the type has no such method."""
    get = getattr(obj, "__go_method__", None)
    fn = get(method) if get else None
    return fn() if fn else None


def _image_tag_digest(image: str) -> tuple:
    digest = ""
    if "@" in image:
        image, digest = image.split("@", 1)
    last = image.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else ""
    return tag, digest


def _otel_resource_attributes(mesh, annotations, labels, namespace, containers) -> str:
    """Istio 1.30's OTEL_RESOURCE_ATTRIBUTES value: only when an OpenTelemetry tracing provider
    asks for OTEL_SEMANTIC_CONVENTIONS enrichment; else "" (the template then omits the var)."""
    providers = _go_call(mesh, "GetExtensionProviders") or []
    wanted = False
    for provider in providers:
        otel = _go_call(provider, "GetOpentelemetry")
        enrichment = _go_call(otel, "GetServiceAttributeEnrichment") if otel is not None else None
        name = enrichment.__go_str__() if hasattr(enrichment, "__go_str__") else str(enrichment or "")
        if name == "OTEL_SEMANTIC_CONVENTIONS":
            wanted = True
            break
    if not wanted:
        return ""
    annotations, labels = dict(annotations or {}), dict(labels or {})
    containers = list(containers or [])
    attrs = []
    if annotations.get("resource.opentelemetry.io/service.namespace"):
        attrs.append("service.namespace=" + annotations["resource.opentelemetry.io/service.namespace"])
    elif namespace:
        attrs.append("service.namespace=" + namespace)
    if annotations.get("resource.opentelemetry.io/service.version"):
        attrs.append("service.version=" + annotations["resource.opentelemetry.io/service.version"])
    elif labels.get("app.kubernetes.io/version"):
        attrs.append("service.version=" + labels["app.kubernetes.io/version"])
    elif len(containers) == 1:
        tag, digest = _image_tag_digest(str(_field(containers[0], "Image") or ""))
        version = f"{tag}@{digest}" if tag and digest else (digest or tag)
        if version:
            attrs.append("service.version=" + version)
    if annotations.get("resource.opentelemetry.io/service.instance.id"):
        attrs.append("service.instance.id=" + annotations["resource.opentelemetry.io/service.instance.id"])
    elif containers:
        attrs.append(f"service.instance.id={namespace}.$(POD_NAME).{_field(containers[0], 'Name')}")
    return ",".join(attrs)


def _field(obj, name):
    get = getattr(obj, "__go_field__", None)
    return get(name) if get else (obj.get(name[0].lower() + name[1:]) if isinstance(obj, dict) else None)


def _go_duration_string(seconds: int, nanos: int) -> str:
    """time.Duration.String() for seconds+nanos."""
    from .gotypes.views import format_go_duration
    return format_go_duration(seconds * 1_000_000_000 + nanos)


def _format_duration(d):
    d = _iface(d)
    if d is None:
        return "0s"
    if isinstance(d, (int, float)) and not hasattr(d, "__go_duration__"):
        return _go_duration_string(int(d), int(round((d - int(d)) * 1e9)))
    if isinstance(d, str):  # already a protojson duration such as "5s"
        return d
    dn = getattr(d, "__go_duration__", None)
    if dn is not None:  # nanoseconds
        n = int(dn())
        return _go_duration_string(n // 1_000_000_000 if n >= 0 else -((-n) // 1_000_000_000),
                                   n - (n // 1_000_000_000 if n >= 0 else -((-n) // 1_000_000_000))
                                   * 1_000_000_000)
    secs = nanos = 0
    m = getattr(d, "__go_method__", None)
    if m is not None:
        gs, gn = m("GetSeconds"), m("GetNanos")
        if gs is not None:
            secs = gs() or 0
        if gn is not None:
            nanos = gn() or 0
    elif isinstance(d, Mapping):
        secs = int(d.get("seconds", 0) or 0)
        nanos = int(d.get("nanos", 0) or 0)
    return _go_duration_string(int(secs), int(nanos))


def _isset(m, key):
    m = _iface(m)
    if m is None:
        return False
    if isinstance(m, Mapping):
        return key in m
    idx = getattr(m, "__go_index__", None)
    if idx is not None:
        return idx(key) is not MISSING
    raise GoFuncError("wrong type for value; expected map[string]string; got %s" % go_type_name(m))


@signature("string")
def _directory(filepath):
    return _path_split(filepath)[0]


@signature("interface {}", "string")
def _exclude_inbound_port(port, excluded):
    port_str = format_value(_iface(port)).strip(_GO_SPACE)
    if port_str == "" or port_str == "0":
        return excluded
    out = []
    for p in excluded.split(","):
        if p == port_str:
            return excluded
        p = p.strip(_GO_SPACE)
        if p:
            out.append(p)
    out.append(port_str)
    return ",".join(out)


def _container_ports(containers, include) -> str:
    parts = []
    for c in _iface(containers) or []:
        if not include(c):
            continue
        for p in _get_field(c, "Ports", "ports", []) or []:
            proto = _get_field(p, "Protocol", "protocol", "") or ""
            proto = format_value(proto) if not isinstance(proto, str) else proto
            if proto in ("UDP", "SCTP"):
                continue
            parts.append(str(int(_get_field(p, "ContainerPort", "containerPort", 0) or 0)))
    return ",".join(parts)


def _application_ports(containers):
    return _container_ports(containers, lambda c: _get_field(c, "Name", "name", "") != "istio-proxy")


def _include_inbound_ports(containers):
    return _container_ports(containers, lambda c: True)


@signature("string")
def _identity(s):
    return s


def _value_or_default(value, default):
    value = _iface(value)
    if value is None or (isinstance(value, str) and value == ""):
        return _iface(default)
    return value


def _to_json_map_string(m):
    m = _iface(m)
    if m is None:
        return "{}"
    try:
        return go_json(m)
    except GoFuncError:
        return "{}"


def _from_json(j):
    if not isinstance(j, str):
        raise GoFuncError("wrong type for value; expected string; got %s" % go_type_name(j))
    try:
        return _go_json_decode(j)
    except ValueError:
        return "{}"


def _struct_to_json(v):
    v = _iface(v)
    if v is None:
        return "{}"
    try:
        return go_json(v)
    except GoFuncError:
        return "{}"


def _proto_to_json(v):
    v = _iface(v)
    clean = getattr(v, "__proto_clean__", None)
    if clean is not None:
        v = clean()
    if v is None or getattr(v, "__go_truth__", lambda: True)() is False:
        return "{}"
    hook = getattr(v, "__proto_json__", None)
    try:
        if hook is not None:
            out = hook()
            if isinstance(out, str):  # the producer already wrote protomarshal's text
                return out
            return go_json(out, proto=True, sort_keys=False)
        return go_json(v, proto=True)
    except GoFuncError:
        return "{}"


def _istio_to_yaml(value):
    try:
        return to_yaml(_iface(value))
    except GoFuncError:
        return ""


@signature("int", "string")
def _istio_indent(spaces, source):
    # Istio's own indent: pads every line except the first (sprig pads the first too)
    lines = source.split("\n")
    pad = " " * spaces
    return "\n".join(lines[:1] + [pad + line for line in lines[1:]])


def _annotation(meta, name, default):
    annotations = _get_field(meta, "Annotations", "annotations", None)
    if annotations is not None and annotations is not MISSING and name in annotations:
        return annotations[name]
    return format_value(_iface(default))


@signature("string", "string")
def _append_multus_network(existing, istio_cni_network):
    if existing == "":
        return istio_cni_network
    i = existing.rfind("]")
    if i != -1:
        try:
            networks = json.loads(existing)
            if not isinstance(networks, list) or not all(isinstance(n, dict) for n in networks):
                raise ValueError("not a list of objects")
        except ValueError:
            return existing
        for net in networks:
            if net.get("name") == istio_cni_network:
                return existing
        return existing[:i] + ', {"name": "%s"}' % istio_cni_network + existing[i:]
    for net in existing.split(","):
        if net.strip(_GO_SPACE) == istio_cni_network:
            return existing
    return existing + ", " + istio_cni_network


def _make_env(env: Mapping | None):
    @signature("string", "string")
    def env_fn(key, default):
        source = os.environ if env is None else env
        val = source.get(key, "")
        return default if val == "" else val
    return env_fn


def _istio_omit(d, *keys):
    d = _iface(d)
    res = StringMap()
    if d is None:
        return res
    for k, v in d.items():
        if k not in keys:
            res[k] = v
    return res


@signature(variadic="string")
def _strdict(*v):
    d = StringMap()
    n = len(v)
    for i in range(0, n, 2):
        d[v[i]] = v[i + 1] if i + 1 < n else ""
    return d


def _merge_maps(*maps):
    if not maps:
        return None
    res = StringMap()
    for m in maps:
        for k, v in (_iface(m) or {}).items():
            res[k] = v
    return res


def _to_json_map(*maps):
    try:
        return go_json(_merge_maps(*maps))
    except GoFuncError:
        return ""


def _omit_nil(v):
    v = _iface(v)
    if isinstance(v, dict):
        return {k: _omit_nil(x) for k, x in v.items() if x is not None and x is not MISSING}
    if isinstance(v, list):
        return [_omit_nil(x) for x in v]
    return v


@signature("string")
def _to_lower(s):
    return s.lower()


def istio_funcs(env: Mapping | None = None) -> dict:
    """Istio's InjectionFuncmap (1.22 and later releases)."""
    return {
        "formatDuration": _format_duration,
        "isset": _isset,
        "excludeInboundPort": _exclude_inbound_port,
        "includeInboundPorts": _include_inbound_ports,
        "kubevirtInterfaces": _identity,
        "excludeInterfaces": _identity,
        "applicationPorts": _application_ports,
        "annotation": _annotation,
        "valueOrDefault": _value_or_default,
        "toJSON": _to_json_map_string,
        "fromJSON": _from_json,
        "structToJSON": _struct_to_json,
        "protoToJSON": _proto_to_json,
        "toYaml": _istio_to_yaml,
        "indent": _istio_indent,
        "directory": _directory,
        "contains": _contains,
        "toLower": _to_lower,
        "appendMultusNetwork": _append_multus_network,
        "env": _make_env(env),
        "omit": _istio_omit,
        "strdict": _strdict,
        "toJsonMap": _to_json_map,
        "mergeMaps": _merge_maps,
        "omitNil": _omit_nil,
        "otelResourceAttributes": _otel_resource_attributes,
    }


def istio_template_funcs(env: Mapping | None = None) -> dict:
    """sprig's TxtFuncMap overlaid with Istio's InjectionFuncmap; env backs ``env``
    (default: os.environ at call time)."""
    funcs = sprig_funcs()
    funcs.update(istio_funcs(env))
    return funcs


def describe(value: Any) -> str:  # small debugging aid
    return "%s(%s)" % (go_type_name(value), format_value(value))
