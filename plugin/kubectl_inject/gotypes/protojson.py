"""Go's protobuf JSON for messages stored as dicts: the legacy github.com/golang/protobuf v1.5
jsonpb Unmarshaler (merging into an existing message) and Marshaler, which Istio's
pkg/util/protomarshal uses (mirrors jsonpb/decode.go and jsonpb/encode.go).

A stored message is a protojson-shaped dict: lowerCamel keys, enums by name (unknown numbers
as ints), durations as their JSON text ("45s"), wrappers as plain values, int64 as a Python
int, Struct/Value/ListValue as plain JSON values. It holds only what Go treats as *set*:
proto3 scalars equal to their zero value are dropped, because Go cannot tell them from unset;
messages, wrappers, oneof members and optional fields keep presence. Message layouts (field
order, JSON and proto names, kinds, oneofs) come from the Go type schema (schema.py), which
reflected them from the generated Go types.

jsonpb writes strings, map keys, bytes and floats with encoding/json, and reads scalars with
it, so those spellings come from gostd.json.
"""
from __future__ import annotations

import base64
import json
import math
import re

from ..gostd.fmt import sprint
from ..gostd.json import float_text, quote_string
from ..gostd.strconv import quote, quote_rune, to_float32
from ..gostd.time import ParseError as TimeParseError
from ..gostd.time import parse_duration
from . import schema
from .typed import json_kind

__all__ = ["ProtoJSONError", "unmarshal_into", "marshal", "duration_nanos"]

_WKT = "google.golang.org/protobuf/types/known/"
_DURATION = _WKT + "durationpb.Duration"
_TIMESTAMP = _WKT + "timestamppb.Timestamp"
_STRUCT = _WKT + "structpb.Struct"
_VALUE = _WKT + "structpb.Value"
_LIST_VALUE = _WKT + "structpb.ListValue"
# Go kind of each wrapper's single "value" field.
_WRAPPERS = {
    _WKT + "wrapperspb.BoolValue": "bool", _WKT + "wrapperspb.StringValue": "string",
    _WKT + "wrapperspb.BytesValue": "[]byte", _WKT + "wrapperspb.Int32Value": "int32",
    _WKT + "wrapperspb.UInt32Value": "uint32", _WKT + "wrapperspb.Int64Value": "int64",
    _WKT + "wrapperspb.UInt64Value": "uint64", _WKT + "wrapperspb.FloatValue": "float32",
    _WKT + "wrapperspb.DoubleValue": "float64",
}
_INT_RANGES = {"int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1),
               "uint32": (0, 2**32 - 1), "uint64": (0, 2**64 - 1)}
_MAX_FLOAT32 = 3.4028234663852886e38


class ProtoJSONError(ValueError):
    """An error jsonpb returns; str() is Go's Error() text."""


# --------------------------------------------------------------------------------------
# Message layouts

class _Message:
    """A message's JSON-visible fields in declaration order, and its oneof groups."""

    def __init__(self, info: dict):
        self.fields = [f for f in info.get("fields") or [] if f.get("json")]
        self.oneof_members: dict = {}
        for f in self.fields:
            if f.get("oneof"):
                self.oneof_members.setdefault(f["oneof"], []).append(f["json"])


def _type_info(name: str) -> dict | None:
    return schema.type_info(name) if schema.has_type(name) else None


def _message(name: str) -> _Message:
    # kept with the schema in force: releases read different istio.io/api mesh types
    cache = schema.current().derived.setdefault("protojson messages", {})
    message = cache.get(name)
    if message is None:
        info = _type_info(name)
        if info is None or info.get("kind") != "struct":
            raise KeyError(f"no protobuf message {name} in the Go type schema")
        message = cache[name] = _Message(info)
    return message


def _strip_ptr(ref: str) -> tuple:
    return (True, ref[1:]) if ref.startswith("*") else (False, ref)


def _is_zero(type_ref: str, value) -> bool:
    """proto3 implicit presence: a scalar equal to its zero value counts as unset."""
    if value is None:
        return True
    if type_ref.startswith("[]") or type_ref.startswith("map["):
        return len(value) == 0
    if isinstance(value, bool):
        return value is False
    if isinstance(value, float):
        return value == 0 and math.copysign(1.0, value) > 0
    if isinstance(value, int):
        return value == 0
    if isinstance(value, str):
        enum = _type_info(type_ref)
        if enum is not None and enum.get("kind") == "enum":
            return enum.get("values", {}).get("0") == value
        return value == ""
    return False


# --------------------------------------------------------------------------------------
# Durations as stored: jsonpb's text form

def duration_nanos(text: str | None) -> int | None:
    """Nanoseconds of a stored Duration ("45s", "1.500s"), None when unset."""
    if text is None:
        return None
    body = text[:-1]
    sign = -1 if body.startswith("-") else 1
    whole, _, frac = body.lstrip("-").partition(".")
    return sign * (int(whole) * 10**9 + int((frac + "000000000")[:9]))


def _duration_text(nanos: int) -> str:
    """jsonpb's Duration text: seconds with 0, 3, 6 or 9 fractional digits."""
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    text = f"{sign}{nanos // 10**9}.{nanos % 10**9:09d}"
    for suffix in ("000", "000", ".000"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text + "s"


# --------------------------------------------------------------------------------------
# Unmarshal (jsonpb/decode.go), merging into an existing message

def unmarshal_into(type_name: str, msg: dict, value) -> None:
    """Unmarshaler{AllowUnknownFields: true}.Unmarshal of a decoded JSON value into msg (a
    stored message of Go type type_name), in place: each field present replaces that field
    wholesale, null leaves it alone, proto and JSON names are both accepted, unknown names
    are dropped. A top-level null is a no-op."""
    if value is None:
        return
    _unmarshal_message(type_name, msg, value)


def _unmarshal_message(type_name: str, msg: dict, raw) -> None:
    if not isinstance(raw, dict):
        raise ProtoJSONError(f"json: cannot unmarshal {json_kind(raw)} into Go value of type map[string]json.RawMessage")
    desc = _message(type_name)
    remaining = dict(raw)
    for field in desc.fields:
        # The proto name and then the JSON name; the later one wins when both are given.
        found = False
        value = None
        for name in (field.get("proto"), field["json"]):
            if name and name in remaining:
                value = remaining.pop(name)
                found = True
        if not found:
            continue
        if value is None and _strip_ptr(field["type"])[1] != _VALUE:
            continue
        _set_field(desc, msg, field, _unmarshal_field(field, value))


def _set_field(desc: _Message, msg: dict, field: dict, value) -> None:
    key = field["json"]
    group = field.get("oneof")
    if group:
        for other in desc.oneof_members[group]:
            msg.pop(other, None)
        msg[key] = value  # a oneof member is set even when it holds a zero value
        return
    is_ptr, _ = _strip_ptr(field["type"])
    if is_ptr or not _is_zero(field["type"], value):
        msg[key] = value
    else:
        msg.pop(key, None)


def _unmarshal_field(field: dict, raw):
    type_ref = field["type"]
    _, base = _strip_ptr(type_ref)
    if base.startswith("[]") and base != "[]byte":
        if not isinstance(raw, list):
            raise ProtoJSONError(f"json: cannot unmarshal {json_kind(raw)} into Go value of type []json.RawMessage")
        return [_unmarshal_singular(base[2:], item) for item in raw]
    if base.startswith("map["):
        if not isinstance(raw, dict):
            raise ProtoJSONError(f"json: cannot unmarshal {json_kind(raw)} into Go value of type map[string]json.RawMessage")
        key_type, value_type = base[4:].split("]", 1)
        out = {}
        for key, item in raw.items():
            if key_type != "string":
                key = _unmarshal_scalar(key_type, _json_from_text(key))
            out[key] = _unmarshal_singular(value_type, item)
        return out
    return _unmarshal_singular(type_ref, raw)


def _json_from_text(text: str):
    """A map key's text, read as JSON the way jsonpb reads non-string keys."""
    try:
        return json.loads(text)
    except ValueError:
        return _RawText(text)


class _RawText(str):
    """Text that is not valid JSON (kept to report Go's syntax error)."""


def _unmarshal_singular(type_ref: str, raw):
    _, base = _strip_ptr(type_ref)
    if base == _DURATION:
        text = _unquote_string(raw)
        try:
            return _duration_text(parse_duration(text))
        except (ProtoJSONError, TimeParseError) as err:
            raise ProtoJSONError(f"bad Duration: {err}") from None
    if base in _WRAPPERS:
        return _unmarshal_scalar(_WRAPPERS[base], raw)
    if base == _STRUCT:
        if not isinstance(raw, dict):
            raise ProtoJSONError("bad StructValue: json: cannot unmarshal "
                                 f"{json_kind(raw)} into Go value of type map[string]json.RawMessage")
        return {k: _struct_value(v) for k, v in raw.items()}
    if base == _VALUE:
        return _struct_value(raw)
    if base == _LIST_VALUE:
        if not isinstance(raw, list):
            raise ProtoJSONError(f"bad ListValue: json: cannot unmarshal {json_kind(raw)} "
                                 "into Go value of type []json.RawMessage")
        return [_struct_value(v) for v in raw]
    if base == _TIMESTAMP:
        text = _unquote_string(raw)
        if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", text):
            raise ProtoJSONError(f'bad Timestamp: parsing time "{text}" as '
                                 '"2006-01-02T15:04:05.999999999Z07:00": cannot parse')
        return text
    info = _type_info(base)
    if info is not None and info.get("kind") == "struct":
        msg: dict = {}
        if raw is not None:
            _unmarshal_message(base, msg, raw)
        return msg
    if info is not None and info.get("kind") == "enum":
        return _unmarshal_enum(base, info, raw)
    return _unmarshal_scalar(base, raw)


def _struct_value(raw):
    if isinstance(raw, dict):
        return {k: _struct_value(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_struct_value(v) for v in raw]
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    return raw


def _unquote_string(raw) -> str:
    if raw is None:
        return ""  # json null into a Go string leaves it empty
    if isinstance(raw, str):
        return raw
    raise ProtoJSONError(f"json: cannot unmarshal {json_kind(raw)} into Go value of type string")


def _unmarshal_enum(name: str, info: dict, raw):
    values = info.get("values", {})
    if isinstance(raw, str):
        if raw in values.values():
            return raw
        # fmt's %q of the field's raw JSON bytes, which encoding/json wrote
        raise ProtoJSONError(f"unknown value {quote(quote_string(raw))} for enum {info.get('proto', name)}")
    number = _json_int(raw, "protoreflect.EnumNumber", _INT_RANGES["int32"])
    return values.get(str(number), number)


def _number_text(value) -> str:
    """How a number appears in the JSON text sigs.k8s.io/yaml's YAMLToJSON wrote."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return float_text(value, 64)


def _json_int(raw, go_type: str, bounds: tuple) -> int:
    """encoding/json into an integer type (after jsonpb's trimQuote)."""
    if raw is None:
        return 0
    if isinstance(raw, bool) or isinstance(raw, (list, dict)):
        raise ProtoJSONError(f"json: cannot unmarshal {json_kind(raw)} into Go value of type {go_type}")
    if isinstance(raw, _RawText):
        literal = raw.strip(" \t\r\n")
        if literal.lstrip("-").isdigit() and literal.isascii() and len(literal.lstrip("-")) > 20:
            # beyond every 64-bit range: Go's ParseInt fails (never converted here: Python's
            # int/str limit, and a cost that grows with the square of the length)
            raise ProtoJSONError(f"json: cannot unmarshal number {literal} into Go value of type {go_type}")
        parsed = _parse_json_text(raw)
        if isinstance(parsed, float) and not math.isfinite(parsed):  # 1e400: Go names the literal
            raise ProtoJSONError(f"json: cannot unmarshal number {literal} into Go value of type {go_type}")
        return _json_int(parsed, go_type, bounds)
    if isinstance(raw, str):
        raise ProtoJSONError(f"json: cannot unmarshal string into Go value of type {go_type}")
    text = _number_text(raw)
    if isinstance(raw, float) and not re.fullmatch(r"-?\d+", text):
        raise ProtoJSONError(f"json: cannot unmarshal number {text} into Go value of type {go_type}")
    number = int(text)
    if not bounds[0] <= number <= bounds[1]:
        raise ProtoJSONError(f"json: cannot unmarshal number {text} into Go value of type {go_type}")
    return number


def _parse_json_text(text: str):
    """The JSON value inside a quoted number ("5" -> 5) with Go's syntax errors."""
    stripped = text.strip(" \t\r\n")
    if not stripped:
        raise ProtoJSONError("unexpected end of JSON input")
    try:
        return json.loads(stripped, parse_constant=_reject_constant)
    except ValueError:
        first = stripped[0]
        if first not in '-0123456789"tfn[{':
            raise ProtoJSONError(f"invalid character {_quote_char(first)} looking for beginning of value") from None
        raise ProtoJSONError(f"invalid character {_quote_char(stripped[-1])} after top-level value") from None


def _reject_constant(name: str):
    raise ValueError(name)  # NaN/Infinity are not JSON to Go


def _quote_char(ch: str) -> str:
    """encoding/json's quoteChar: the offending byte (the first of a multi-byte character)
    as a Go character literal."""
    return quote_rune(ch.encode("utf-8", "surrogatepass")[0])


def _unmarshal_scalar(kind: str, raw):
    if kind in _INT_RANGES:
        if isinstance(raw, str) and not isinstance(raw, _RawText):
            raw = _RawText(quote_string(raw)[1:-1])  # trimQuote: the rest is read as JSON
        return _json_int(raw, kind, _INT_RANGES[kind])
    if kind in ("float32", "float64"):
        if isinstance(raw, str) and raw in ("NaN", "Infinity", "-Infinity"):
            return float(raw.replace("Infinity", "inf"))
        if isinstance(raw, str):
            raw = _parse_json_text(quote_string(raw)[1:-1])
        if raw is None:
            return 0.0
        if isinstance(raw, (bool, str, list, dict)):
            raise ProtoJSONError(f"json: cannot unmarshal {json_kind(raw)} into Go value of type {kind}")
        value = float(raw)
        if kind == "float32":
            if abs(value) > _MAX_FLOAT32:
                raise ProtoJSONError(f"json: cannot unmarshal number {_number_text(raw)} into Go value of type float32")
            value = to_float32(value)
        return value
    if kind == "string":
        if raw is None:
            return ""
        return _unquote_string(raw)
    if kind == "bool":
        if raw is None:
            return False
        if isinstance(raw, bool):
            return raw
        raise ProtoJSONError(f"json: cannot unmarshal {json_kind(raw)} into Go value of type bool")
    if kind == "[]byte":
        if raw is None:
            return b""
        if not isinstance(raw, str):
            raise ProtoJSONError(f"json: cannot unmarshal {json_kind(raw)} into Go value of type []uint8")
        try:
            return base64.b64decode(raw, validate=True)
        except ValueError:
            raise ProtoJSONError("illegal base64 data at input byte 0") from None
    raise ProtoJSONError(f"unsupported field type {kind}")


# --------------------------------------------------------------------------------------
# Marshal (jsonpb/encode.go): compact, declaration order, zero values omitted

def marshal(type_name: str, msg: dict) -> str:
    """Marshaler{}.MarshalToString of a stored message of Go type type_name."""
    out: list = []
    _marshal_message(type_name, msg, out)
    return "".join(out)


def _marshal_message(type_name: str, msg: dict, out: list) -> None:
    desc = _message(type_name)
    out.append("{")
    first = True
    for field in desc.fields:
        key = field["json"]
        if key not in msg:
            continue
        value = msg[key]
        if not field.get("oneof") and not _strip_ptr(field["type"])[0] and _is_zero(field["type"], value):
            continue
        if not first:
            out.append(",")
        first = False
        out.append(f'"{key}":')  # jsonpb writes the JSON name as it is
        _marshal_field(field["type"], value, out)
    out.append("}")


def _marshal_field(type_ref: str, value, out: list) -> None:
    _, base = _strip_ptr(type_ref)
    if base.startswith("[]") and base != "[]byte":
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _marshal_singular(base[2:], item, out)
        out.append("]")
        return
    if base.startswith("map["):
        key_type, value_type = base[4:].split("]", 1)
        keys = sorted(value, key=(lambda k: (k is True, k)) if key_type == "bool" else None)
        out.append("{")
        for index, key in enumerate(keys):
            if index:
                out.append(",")
            out.append(quote_string(sprint(key)))  # json.Marshal(fmt.Sprint(key))
            out.append(":")
            _marshal_singular(value_type, value[key], out)
        out.append("}")
        return
    _marshal_singular(type_ref, value, out)


def _marshal_singular(type_ref: str, value, out: list) -> None:
    _, base = _strip_ptr(type_ref)
    if base == _DURATION or base == _TIMESTAMP:
        out.append(f'"{value}"')  # stored in jsonpb's text form already
        return
    if base in _WRAPPERS:
        _marshal_scalar(_WRAPPERS[base], value, out)
        return
    if base in (_STRUCT, _VALUE, _LIST_VALUE):
        _marshal_struct_value(value, out)
        return
    info = _type_info(base)
    if info is not None and info.get("kind") == "struct":
        _marshal_message(base, value, out)
        return
    if info is not None and info.get("kind") == "enum":
        out.append(f'"{value}"' if isinstance(value, str) else str(value))
        return
    _marshal_scalar(base, value, out)


def _marshal_scalar(kind: str, value, out: list) -> None:
    if kind in ("int64", "uint64"):
        out.append(f'"{value}"')
    elif kind in ("int32", "uint32"):
        out.append(str(value))
    elif kind in ("float32", "float64"):
        if math.isnan(value):
            out.append('"NaN"')
        elif math.isinf(value):
            out.append('"Infinity"' if value > 0 else '"-Infinity"')
        else:
            out.append(float_text(value, 32 if kind == "float32" else 64))
    elif kind == "bool":
        out.append("true" if value else "false")
    elif kind == "string":
        out.append(quote_string(value))
    elif kind == "[]byte":
        out.append(quote_string(base64.b64encode(value).decode()))
    else:
        raise ProtoJSONError(f"unsupported field type {kind}")


def _marshal_struct_value(value, out: list) -> None:
    """google.protobuf.Struct/Value/ListValue: map keys sorted, every number a double."""
    if value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, (int, float)):
        _marshal_scalar("float64", float(value), out)
    elif isinstance(value, str):
        out.append(quote_string(value))
    elif isinstance(value, list):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _marshal_struct_value(item, out)
        out.append("]")
    else:
        out.append("{")
        for index, key in enumerate(sorted(value)):
            if index:
                out.append(",")
            out.append(quote_string(key) + ":")
            _marshal_struct_value(value[key], out)
        out.append("}")
