"""Go's encoding/json: Marshal (and MarshalIndent), its string and float spellings, and
Unmarshal into interface{} (every number a float64); which Go release's error paths are in
force (names_embedded_structs).

Values follow the model of :mod:`.values`; an object that defines ``__go_json__()`` (or
``__proto_json__()``, preferred when ``proto=True``: what protojson would write) is marshalled
as the value that hook returns, already in Go's key order.
"""
from __future__ import annotations

import base64
import contextvars
import json as _pyjson
import math
from collections.abc import Mapping

from .fmt import format_value
from .strconv import format_float, to_float32
from .values import MISSING, go_type_name

__all__ = ["MarshalError", "marshal", "quote_string", "float_text", "unmarshal_any",
           "names_embedded_structs", "naming_embedded_structs"]

# encoding/json of Go 1.24 and later puts the Go names of the embedded structs a promoted field
# is reached through in UnmarshalTypeError.Field ("spec.volumes.VolumeSource.fc.lun"); Go 1.22's
# does not ("spec.volumes.fc.lun"). Whoever knows the Go release puts it in force (inject: the
# Istio release's switch json_errors_name_embedded_structs); gotypes.typed reads it.
_EMBEDDED_IN_ERRORS: contextvars.ContextVar = contextvars.ContextVar("json_errors_name_embedded",
                                                                     default=False)


def names_embedded_structs() -> bool:
    return _EMBEDDED_IN_ERRORS.get()


class naming_embedded_structs:
    """``with naming_embedded_structs(True):`` Go 1.24+'s error field paths inside."""

    __slots__ = ("on", "_token")

    def __init__(self, on: bool):
        self.on = bool(on)

    def __enter__(self):
        self._token = _EMBEDDED_IN_ERRORS.set(self.on)
        return self

    def __exit__(self, *exc) -> None:
        _EMBEDDED_IN_ERRORS.reset(self._token)


class MarshalError(ValueError):
    """json.UnsupportedValueError / UnsupportedTypeError; str() is Go's message."""


def quote_string(s: str, escape_html: bool = True) -> str:
    """A JSON string as encoding/json writes it: short escapes for the usual control
    characters, \\u00XX for the others, <, > and & escaped unless escape_html is off,
    U+2028/U+2029 escaped, invalid UTF-8 (lone surrogates here) as U+FFFD."""
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


def float_text(f: float, bits: int = 64) -> str:
    """How encoding/json writes a float: shortest digits, %f for magnitudes in [1e-6, 1e21),
    else %e with a one-digit negative exponent cleaned up (e-07 -> e-7)."""
    if bits == 32:
        f = to_float32(f)
    if f != f or math.isinf(f):
        raise MarshalError("json: unsupported value: %s" % format_float(f, "g", -1, bits))
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        s = format_float(f, "e", -1, bits)
        if len(s) >= 4 and s[-4] == "e" and s[-3] == "-" and s[-2] == "0":
            s = s[:-2] + s[-1]
        return s
    return format_float(f, "f", -1, bits)



def _json_key(k) -> str:
    if isinstance(k, str):
        return k
    if k is True or k is False:
        raise MarshalError("json: unsupported type: map[bool]")
    if isinstance(k, int):
        return str(k)
    return format_value(k)


def _write_sequence(opener: str, closer: str, entries, write_entry, out: list, indent: str,
                    prefix: str) -> None:
    # an object's members or an array's elements: commas between, one per line when indenting
    out.append(opener)
    inner = prefix + indent
    for i, entry in enumerate(entries):
        if i:
            out.append(",")
        if indent:
            out.append("\n" + inner)
        write_entry(entry, inner)
    if indent:
        out.append("\n" + prefix)
    out.append(closer)


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
        out.append(quote_string(v, html))
        return
    if t is int:
        out.append(str(v))
        return
    if t is float:
        out.append(float_text(v))
        return
    hook = getattr(v, "__proto_json__" if proto else "__go_json__", None)
    if hook is None and proto:
        hook = getattr(v, "__go_json__", None)
    if hook is not None:
        # the producer already put keys in Go's order
        _encode(hook(), out, False, html, proto, indent, prefix)
        return
    if isinstance(v, str):
        out.append(quote_string(str(v), html))
        return
    if isinstance(v, int):
        out.append(str(int(v)))
        return
    if isinstance(v, float):
        out.append(float_text(float(v)))
        return
    if isinstance(v, Mapping):
        if not v:
            out.append("{}")
            return
        items = [(_json_key(k), val) for k, val in v.items()]
        if sort:
            items.sort(key=lambda kv: kv[0])

        def member(item, inner):
            out.append(quote_string(item[0], html))
            out.append(": " if indent else ":")
            _encode(item[1], out, sort, html, proto, indent, inner)
        _write_sequence("{", "}", items, member, out, indent, prefix)
        return
    if isinstance(v, (list, tuple)):
        if not v:
            out.append("[]")
            return
        _write_sequence("[", "]", v, lambda val, inner: _encode(val, out, sort, html, proto, indent, inner),
                        out, indent, prefix)
        return
    if isinstance(v, (bytes, bytearray)):
        out.append('"' + base64.b64encode(bytes(v)).decode() + '"')
        return
    raise MarshalError("json: unsupported type: %s" % go_type_name(v))


def marshal(value, *, indent: str = "", escape_html: bool = True, proto: bool = False,
            sort_keys: bool = True) -> str:
    """encoding/json.Marshal (or MarshalIndent with prefix "" and ``indent``) of a Go value.

    ``proto=True`` prefers ``__proto_json__`` (jsonpb output) over ``__go_json__``;
    ``sort_keys=False`` writes dicts in insertion order (already Go-ordered values)."""
    out: list[str] = []
    _encode(value, out, sort_keys, escape_html, proto, indent, "")
    return "".join(out)


def unmarshal_any(text: str):
    """json.Unmarshal into interface{}: objects, arrays, strings, bools, nil; every number a
    float64. Raises ValueError on invalid JSON."""
    def as_float(s):
        return float(s)

    def refuse(constant):
        raise ValueError("invalid character in JSON: " + constant)
    return _pyjson.loads(text, parse_int=as_float, parse_float=as_float, parse_constant=refuse)
