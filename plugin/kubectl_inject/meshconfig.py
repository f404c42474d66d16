"""Istio MeshConfig / ProxyConfig semantics, as istioctl kube-inject (Istio 1.22.0) applies them.

Messages are held as protojson-shaped dicts (lowerCamel keys, enums by name, durations as
their JSON text "45s", wrappers as plain values, int64 as Python int) holding only what
Go would treat as *set*: proto3 scalars equal to their zero value are dropped, because Go
cannot tell them from unset; messages, wrappers, oneof members and optional fields keep
presence. The message layouts come from the Go type schema (gotypes/schema/mesh.json,
reflected from istio.io/api), so field order, JSON names and kinds are Istio's own.

What is reproduced, and from where in Istio 1.22.0:
- pkg/util/protomarshal ApplyYAML: sigs.k8s.io/yaml YAMLToJSON, then the legacy
  github.com/golang/protobuf jsonpb Unmarshaler *merging into* an existing message: each
  field present replaces that field wholesale (no deep merge), null leaves it alone, both
  proto and JSON field names are accepted, unknown fields are tolerated (ApplyJSON retries
  with AllowUnknownFields), and type errors carry Go's encoding/json wording.
- pkg/config/mesh ApplyMeshConfig: the mesh file replaces top-level fields, but
  defaultConfig is merged field by field into the defaults (proxyMetadata key by key),
  defaultProviders likewise, extensionProviders by name, trustDomainAliases as a sorted
  union; then validation (pkg/config/validation/agent ValidateMeshConfig).
- ApplyProxyConfig for the pod's proxy.istio.io/config annotation (same field-wise merge).
- protoToJSON of the injection template: cleanProxyConfig (drop fields equal to
  DefaultProxyConfig: that is why a mesh file that sets defaultConfig.discoveryAddress to
  the default istiod address still prints PROXY_CONFIG as {}), then jsonpb Marshaler output
  (declaration order, zero values omitted, int64 quoted, durations "23s", map keys sorted,
  Go's HTML-safe string escaping).

Differences between Istio releases live in VersionProfile, so a later release's defaults
and quirks can be added beside 1.22's.
"""
from __future__ import annotations

import base64
import copy
import dataclasses
import ipaddress
import json
import math
import os
import re
import struct
from typing import Callable

import yaml as _pyyaml

from .gotypes.typed import json_kind as _json_kind
from .errors import InjectError

try:  # helper "yaml": go-yaml v2 / sigs.k8s.io/yaml semantics with Go's error texts
    from . import goyaml as _goyaml
except ImportError:  # pragma: no cover - fall back to the YAML 1.1 loader below
    _goyaml = None

_SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gotypes", "schema", "mesh.json")
_PKG = "istio.io/api/mesh/v1alpha1."
MESH_TYPE = _PKG + "MeshConfig"
PROXY_TYPE = _PKG + "ProxyConfig"
PROXY_CONFIG_ANNOTATION = "proxy.istio.io/config"

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


class MeshConfigError(InjectError):
    """A mesh config or proxy config Istio refuses (an InjectError, so the command line
    reports a bad proxy.istio.io/config annotation met mid-run like any refused input).

    str() is one line; `go_error` is the exact text Go's error value prints (hashicorp
    multierror lists are multi-line there), for byte-exact `Error: ...` output.
    """

    def __init__(self, go_error: str):
        self.go_error = go_error
        super().__init__(_one_line(go_error))


def _one_line(text: str) -> str:
    items = re.findall(r"^\t\* (.*)$", text, flags=re.M)
    if re.match(r"^\d+ errors? occurred:", text) and items:
        return "; ".join(items)
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip())


class _GoError(Exception):
    """An error value inside the Go code paths we mirror: message is Go's Error() text."""


# --------------------------------------------------------------------------------------
# hashicorp/go-multierror: Append flattens, Prefix wraps each member, Error() lists them.

class _Multi:
    def __init__(self, errors: list):
        self.errors = errors

    def __str__(self) -> str:
        if len(self.errors) == 1:
            return f"1 error occurred:\n\t* {self.errors[0]}\n\n"
        points = "\n\t".join(f"* {e}" for e in self.errors)
        return f"{len(self.errors)} errors occurred:\n\t{points}\n\n"


def _append(err, *more):
    """multierror.Append(err, more...): always a *multierror.Error; nil members dropped."""
    errors = list(err.errors) if isinstance(err, _Multi) else ([] if err is None else [err])
    for e in more:
        if e is None:
            continue
        errors.extend(e.errors if isinstance(e, _Multi) else [e])
    return _Multi(errors)


def _prefix(err, prefix: str):
    """multierror.Prefix(err, prefix): "prefix err" for each member."""
    if err is None:
        return None
    if isinstance(err, _Multi):
        return _Multi([f"{prefix} {e}" for e in err.errors])
    return f"{prefix} {err}"


def _append_validation(err, *more):
    """agent.AppendValidation/AppendErrors: a single error stays as it is."""
    for e in more:
        if e is None:
            continue
        err = e if err is None else _append(err, e)
    return err


# --------------------------------------------------------------------------------------
# Schema

class _Schema:
    def __init__(self, path: str):
        with open(path) as handle:
            self.types = json.load(handle)["types"]
        self._messages: dict = {}

    def message(self, name: str) -> "_Message":
        found = self._messages.get(name)
        if found is None:
            info = self.types.get(name)
            if info is None or info.get("kind") != "struct":
                raise KeyError(f"no protobuf message {name} in {_SCHEMA_PATH}")
            found = self._messages[name] = _Message(name, info)
        return found

    def enum(self, name: str) -> dict | None:
        info = self.types.get(name)
        return info if info and info.get("kind") == "enum" else None


class _Message:
    def __init__(self, name: str, info: dict):
        self.name = name
        self.full_name = info.get("proto", name)
        self.fields = [f for f in info.get("fields") or [] if f.get("json")]
        self.by_json = {f["json"]: f for f in self.fields}
        self.by_go = {f["go"]: f for f in self.fields}
        self.oneof_members: dict = {}
        for f in self.fields:
            if f.get("oneof"):
                self.oneof_members.setdefault(f["oneof"], []).append(f["json"])


_schema_cache: _Schema | None = None


def _schema() -> _Schema:
    global _schema_cache
    if _schema_cache is None:
        _schema_cache = _Schema(_SCHEMA_PATH)
    return _schema_cache


def _strip_ptr(ref: str) -> tuple:
    return (True, ref[1:]) if ref.startswith("*") else (False, ref)


# --------------------------------------------------------------------------------------
# YAML -> JSON values, as sigs.k8s.io/yaml's YAMLToJSON (go-yaml v2, YAML 1.1 scalars).

class _Yaml11Loader(_pyyaml.SafeLoader):
    """Fallback when goyaml is unavailable. YAML 1.1 like go-yaml v2: yes/no/on/off are booleans; timestamps stay strings
    (v2 only makes time.Time when the target is one, and YAMLToJSON decodes into any)."""


_Yaml11Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in _pyyaml.SafeLoader.yaml_implicit_resolvers.items()
}
# go-yaml v2 also reads exponent floats without a dot ("1e3"), which PyYAML leaves as text.
_Yaml11Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$"), list("-+0123456789"))


def _yaml_to_json_value(text: str):
    """sigs.k8s.io/yaml YAMLToJSON, read back as JSON values (first document only)."""
    if _goyaml is not None:
        try:
            return _goyaml.load(text)
        except _goyaml.YAMLError as err:
            raise _GoError(str(err)) from None
    try:
        # go-yaml v2's Unmarshal reads the first document only.
        value = next(iter(_pyyaml.load_all(text, Loader=_Yaml11Loader)), None)
    except _pyyaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise _GoError(f"error converting YAML to JSON: yaml: {where}{problem}") from None
    return _jsonable(value)


def _jsonable(value):
    """Map keys become strings, as YAMLToJSON writes them."""
    if isinstance(value, dict):
        return {_key_text(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    return value


def _key_text(key) -> str:
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return _go_float(key, 64)
    return str(key)


# --------------------------------------------------------------------------------------
# Go number/string formatting

def _go_float(value: float, bits: int) -> str:
    """encoding/json float formatting ('f' in [1e-6, 1e21), else 'e'), shortest digits."""
    if bits == 32:
        value = _f32(value)
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    magnitude = abs(value)
    digits, exponent = _shortest_digits(value, bits)
    sign = "-" if value < 0 else ""
    if magnitude < 1e-6 or magnitude >= 1e21:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exp = exponent - 1
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):d}"
    # fixed notation: digits * 10**(exponent - len(digits))
    point = exponent
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _f32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def _shortest_digits(value: float, bits: int) -> tuple:
    """Shortest decimal digits d1d2...dn and exponent e with value == 0.d1..dn * 10**e."""
    magnitude = abs(value)
    if bits == 64:
        text = repr(magnitude)
    else:
        text = None
        for precision in range(1, 10):
            candidate = f"{magnitude:.{precision}g}"
            if _f32(float(candidate)) == magnitude:
                text = candidate
                break
        text = text or repr(magnitude)
    mantissa, _, exp = text.lower().partition("e")
    exp = int(exp) if exp else 0
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    leading = len(whole + frac) - len((whole + frac).lstrip("0"))
    exponent = len(whole) - leading + exp
    digits = digits.rstrip("0") or "0"
    return digits, exponent


_GO_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
               "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _go_string(text: str) -> str:
    """encoding/json string: HTML-safe escapes, control characters as \\u00XX."""
    out = ['"']
    for ch in text:
        esc = _GO_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _number_text(value) -> str:
    """How a YAML number appears in YAMLToJSON's JSON text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _go_float(value, 64)


# --------------------------------------------------------------------------------------
# Durations (time.ParseDuration, and the jsonpb text form)

_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([a-zµμ]*)")


def _parse_go_duration(text: str) -> int:
    """time.ParseDuration, in nanoseconds; errors with Go's wording."""
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    s = text
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise _GoError(f"time: invalid duration {quoted}")
    total = 0
    while s:
        match = _DURATION_PART.match(s)
        number, unit = match.group(1), match.group(2)
        if number in ("", "."):
            raise _GoError(f"time: invalid duration {quoted}")
        if not unit:
            raise _GoError(f"time: missing unit in duration {quoted}")
        if unit not in _UNITS:
            unit_quoted = '"' + unit + '"'
            raise _GoError(f"time: unknown unit {unit_quoted} in duration {quoted}")
        whole, _, frac = number.partition(".")
        scale = _UNITS[unit]
        value = int(whole or "0") * scale
        if frac:
            value += int(frac) * scale // (10 ** len(frac))
        total += value
        if total > 2**63 - 1:
            raise _GoError(f"time: invalid duration {quoted}")
        s = s[match.end():]
    return -total if neg else total


def _format_duration(nanos: int) -> str:
    """jsonpb's Duration text: seconds with 0, 3, 6 or 9 fractional digits."""
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    text = f"{sign}{nanos // 10**9}.{nanos % 10**9:09d}"
    for suffix in ("000", "000", ".000"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text + "s"


def duration_nanos(text: str | None) -> int | None:
    """Nanoseconds of a stored Duration ("45s", "1.500s"), None when unset."""
    if text is None:
        return None
    body = text[:-1]
    sign = -1 if body.startswith("-") else 1
    whole, _, frac = body.lstrip("-").partition(".")
    return sign * (int(whole) * 10**9 + int((frac + "000000000")[:9]))


def go_duration_string(nanos: int) -> str:
    """time.Duration.String(): "45s", "1m30s", "1.5s", "0s" (formatDuration in templates)."""
    from .gotypes.views import format_go_duration
    return format_go_duration(nanos)


# --------------------------------------------------------------------------------------
# jsonpb (github.com/golang/protobuf v1.5) Unmarshal, merging into an existing message

def _apply_json(type_name: str, msg: dict, value) -> None:
    """Unmarshaler.Unmarshal(value) into msg (a stored message dict), in place."""
    if value is None:
        return  # a top-level null is a no-op
    _unmarshal_message(type_name, msg, value)


def _unmarshal_message(type_name: str, msg: dict, raw) -> None:
    if not isinstance(raw, dict):
        raise _GoError(f"json: cannot unmarshal {_json_kind(raw)} into Go value of type map[string]json.RawMessage")
    schema = _schema()
    desc = schema.message(type_name)
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
    # Unknown names are left over here; protomarshal.ApplyJSON retries with
    # AllowUnknownFields, so they are dropped rather than refused.


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


def _is_zero(type_ref: str, value) -> bool:
    """proto3 implicit presence: a scalar equal to its zero value counts as unset."""
    if value is None:
        return True
    if type_ref.startswith("[]") and type_ref != "[]byte" or type_ref.startswith("map["):
        return len(value) == 0
    if type_ref == "[]byte":
        return len(value) == 0
    if isinstance(value, bool):
        return value is False
    if isinstance(value, float):
        return value == 0 and math.copysign(1.0, value) > 0
    if isinstance(value, int):
        return value == 0
    if isinstance(value, str):
        enum = _schema().enum(type_ref)
        if enum is not None:
            return enum.get("values", {}).get("0") == value
        return value == ""
    return False


def _unmarshal_field(field: dict, raw):
    type_ref = field["type"]
    _, base = _strip_ptr(type_ref)
    if base.startswith("[]") and base != "[]byte":
        if not isinstance(raw, list):
            raise _GoError(f"json: cannot unmarshal {_json_kind(raw)} into Go value of type []json.RawMessage")
        return [_unmarshal_singular(base[2:], item) for item in raw]
    if base.startswith("map["):
        if not isinstance(raw, dict):
            raise _GoError(f"json: cannot unmarshal {_json_kind(raw)} into Go value of type map[string]json.RawMessage")
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
            return _format_duration(_parse_go_duration(text))
        except _GoError as err:
            raise _GoError(f"bad Duration: {err}") from None
    if base in _WRAPPERS:
        return _unmarshal_scalar(_WRAPPERS[base], raw)
    if base == _STRUCT:
        if not isinstance(raw, dict):
            raise _GoError("bad StructValue: json: cannot unmarshal "
                           f"{_json_kind(raw)} into Go value of type map[string]json.RawMessage")
        return {k: _struct_value(v) for k, v in raw.items()}
    if base == _VALUE:
        return _struct_value(raw)
    if base == _LIST_VALUE:
        if not isinstance(raw, list):
            raise _GoError(f"bad ListValue: json: cannot unmarshal {_json_kind(raw)} into Go value of type []json.RawMessage")
        return [_struct_value(v) for v in raw]
    if base == _TIMESTAMP:
        text = _unquote_string(raw)
        if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", text):
            raise _GoError(f'bad Timestamp: parsing time "{text}" as "2006-01-02T15:04:05.999999999Z07:00": cannot parse')
        return text
    schema = _schema()
    info = schema.types.get(base)
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
    raise _GoError(f"json: cannot unmarshal {_json_kind(raw)} into Go value of type string")


def _unmarshal_enum(name: str, info: dict, raw):
    values = info.get("values", {})
    if isinstance(raw, str):
        if raw in values.values():
            return raw
        quoted = _go_string(raw)
        escaped = '"' + quoted.replace("\\", "\\\\").replace('"', '\\"') + '"'
        raise _GoError(f"unknown value {escaped} for enum {info.get('proto', name)}")
    number = _json_int(raw, "protoreflect.EnumNumber", _INT_RANGES["int32"])
    return values.get(str(number), number)


def _json_int(raw, go_type: str, bounds: tuple) -> int:
    """encoding/json into an integer type (after jsonpb's trimQuote)."""
    if raw is None:
        return 0
    if isinstance(raw, bool) or isinstance(raw, (list, dict)):
        raise _GoError(f"json: cannot unmarshal {_json_kind(raw)} into Go value of type {go_type}")
    if isinstance(raw, _RawText):
        return _json_int(_parse_json_text(raw), go_type, bounds)
    if isinstance(raw, str):
        raise _GoError(f"json: cannot unmarshal string into Go value of type {go_type}")
    text = _number_text(raw)
    if isinstance(raw, float) and not re.fullmatch(r"-?\d+", text):
        raise _GoError(f"json: cannot unmarshal number {text} into Go value of type {go_type}")
    number = int(text)
    if not bounds[0] <= number <= bounds[1]:
        raise _GoError(f"json: cannot unmarshal number {text} into Go value of type {go_type}")
    return number


def _parse_json_text(text: str):
    """The JSON value inside a quoted number ("5" -> 5) with Go's syntax errors."""
    stripped = text.strip(" \t\r\n")
    if not stripped:
        raise _GoError("unexpected end of JSON input")
    try:
        return json.loads(stripped, parse_constant=_reject_constant)
    except ValueError:
        first = stripped[0]
        if first not in '-0123456789"tfn[{':
            raise _GoError(f"invalid character {_go_char(first)} looking for beginning of value") from None
        raise _GoError(f"invalid character {_go_char(stripped[-1])} after top-level value") from None


def _reject_constant(name: str):
    raise ValueError(name)  # NaN/Infinity are not JSON to Go


def _go_char(ch: str) -> str:
    return "'\\''" if ch == "'" else f"'{ch}'"


def _unmarshal_scalar(kind: str, raw):
    if kind in _INT_RANGES:
        if isinstance(raw, str) and not isinstance(raw, _RawText):
            raw = _RawText(_go_string(raw)[1:-1])  # jsonpb trims the quotes and reads the rest as JSON
        return _json_int(raw, kind, _INT_RANGES[kind])
    if kind in ("float32", "float64"):
        bits = 32 if kind == "float32" else 64
        if isinstance(raw, str) and raw in ("NaN", "Infinity", "-Infinity"):
            return float(raw.replace("Infinity", "inf"))
        if isinstance(raw, str):
            raw = _parse_json_text(_go_string(raw)[1:-1])
        if raw is None:
            return 0.0
        if isinstance(raw, (bool, str, list, dict)):
            raise _GoError(f"json: cannot unmarshal {_json_kind(raw)} into Go value of type {kind}")
        value = float(raw)
        if bits == 32:
            if abs(value) > 3.4028234663852886e38:
                raise _GoError(f"json: cannot unmarshal number {_number_text(raw)} into Go value of type float32")
            value = _f32(value)
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
        raise _GoError(f"json: cannot unmarshal {_json_kind(raw)} into Go value of type bool")
    if kind == "[]byte":
        if raw is None:
            return b""
        if not isinstance(raw, str):
            raise _GoError(f"json: cannot unmarshal {_json_kind(raw)} into Go value of type []uint8")
        try:
            return base64.b64decode(raw, validate=True)
        except ValueError:
            raise _GoError("illegal base64 data at input byte 0") from None
    raise _GoError(f"unsupported field type {kind}")


# --------------------------------------------------------------------------------------
# jsonpb Marshal (protomarshal.ToJSON)

def _marshal_message(type_name: str, msg: dict, out: list) -> None:
    desc = _schema().message(type_name)
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
        out.append(_go_string(key))
        out.append(":")
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
            out.append(_go_string(("true" if key else "false") if isinstance(key, bool) else str(key)))
            out.append(":")
            _marshal_singular(value_type, value[key], out)
        out.append("}")
        return
    _marshal_singular(type_ref, value, out)


def _marshal_singular(type_ref: str, value, out: list) -> None:
    _, base = _strip_ptr(type_ref)
    if base == _DURATION or base == _TIMESTAMP:
        out.append(_go_string(value))
        return
    if base in _WRAPPERS:
        _marshal_scalar(_WRAPPERS[base], value, out)
        return
    if base in (_STRUCT, _VALUE, _LIST_VALUE):
        out.append(_struct_json(value))
        return
    info = _schema().types.get(base)
    if info is not None and info.get("kind") == "struct":
        _marshal_message(base, value, out)
        return
    if info is not None and info.get("kind") == "enum":
        out.append(_go_string(value) if isinstance(value, str) else str(value))
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
            out.append(_go_float(value, 32 if kind == "float32" else 64))
    elif kind == "bool":
        out.append("true" if value else "false")
    elif kind == "string":
        out.append(_go_string(value))
    elif kind == "[]byte":
        out.append(_go_string(base64.b64encode(value).decode()))
    else:
        raise _GoError(f"unsupported field type {kind}")


def _struct_json(value) -> str:
    """google.protobuf.Struct/Value: map keys sorted, numbers as float64."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            raise _GoError(f"json: unsupported value: {value}")
        return _go_float(value, 64)
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, list):
        return "[" + ",".join(_struct_json(v) for v in value) + "]"
    return "{" + ",".join(_go_string(k) + ":" + _struct_json(value[k]) for k in sorted(value)) + "}"


def marshal(type_name: str, msg: dict) -> str:
    """protomarshal.ToJSON: jsonpb's compact JSON for a stored message."""
    out: list = []
    _marshal_message(type_name, msg, out)
    return "".join(out)


# --------------------------------------------------------------------------------------
# Release-specific behaviour

@dataclasses.dataclass(frozen=True)
class VersionProfile:
    """What differs between Istio releases: defaults, cleanProxyConfig, merge quirks."""

    version: str
    default_proxy_config: Callable[[], dict]
    default_mesh_config: Callable[[dict], dict]
    # ProxyConfig fields that cleanProxyConfig drops when equal to the default.
    clean_fields: tuple
    # Newer releases keep unset proxyHeaders sub-fields from the mesh (correctProxyHeaders).
    merge_proxy_headers: bool = False


def _default_proxy_config_1_22() -> dict:
    # pkg/config/mesh DefaultProxyConfig, Istio 1.22: no Concurrency default (1.18 dropped
    # it, concurrency follows the CPU limit), no ParentShutdownDuration (removed in 1.17),
    # the Zipkin tracer still configured.
    return {
        "configPath": "./etc/istio/proxy",
        "binaryPath": "/usr/local/bin/envoy",
        "serviceCluster": "istio-proxy",
        "drainDuration": "45s",
        "discoveryAddress": "istiod.istio-system.svc:15012",
        "proxyAdminPort": 15000,
        "controlPlaneAuthPolicy": "MUTUAL_TLS",
        "statNameLength": 189,
        "tracing": {"zipkin": {"address": "zipkin.istio-system:9411"}},
        "statusPort": 15020,
        "terminationDrainDuration": "5s",
    }


def _default_mesh_config_1_22(proxy_config: dict) -> dict:
    # pkg/config/mesh DefaultMeshConfig, Istio 1.22 (zero values such as accessLogFile ""
    # are left out: they are unset in Go terms too).
    return {
        "enableTracing": True,
        "accessLogEncoding": "TEXT",
        "protocolDetectionTimeout": "0s",
        "ingressService": "istio-ingressgateway",
        "ingressControllerMode": "STRICT",
        "ingressClass": "istio",
        "trustDomain": "cluster.local",
        "enableAutoMtls": True,
        "outboundTrafficPolicy": {"mode": "ALLOW_ANY"},
        "inboundTrafficPolicy": {},  # mode PASSTHROUGH is the zero value
        "localityLbSetting": {"enabled": True},
        "defaultConfig": proxy_config,
        "rootNamespace": "istio-system",
        "proxyListenPort": 15001,
        "proxyInboundListenPort": 15006,
        "connectTimeout": "10s",
        "defaultServiceExportTo": ["*"],
        "defaultVirtualServiceExportTo": ["*"],
        "defaultDestinationRuleExportTo": ["*"],
        "dnsRefreshRate": "60s",
        "enablePrometheusMerge": True,
        "defaultProviders": {},
        "extensionProviders": [
            {"name": "prometheus", "prometheus": {}},
            {"name": "stackdriver", "stackdriver": {}},
            {"name": "envoy", "envoyFileAccessLog": {"path": "/dev/stdout"}},
        ],
    }


PROFILES = {
    "1.22": VersionProfile(
        version="1.22",
        default_proxy_config=_default_proxy_config_1_22,
        default_mesh_config=_default_mesh_config_1_22,
        clean_fields=("configPath", "binaryPath", "controlPlaneAuthPolicy", "serviceCluster",
                      "drainDuration", "terminationDrainDuration", "discoveryAddress",
                      "envoyMetricsService", "envoyAccessLogService", "tracing", "proxyAdminPort",
                      "statNameLength", "statusPort", "concurrency", "proxyMetadata"),
    ),
}
DEFAULT_PROFILE = "1.22"


def _profile(version: str | None) -> VersionProfile:
    key = version or DEFAULT_PROFILE
    key = ".".join(key.split(".")[:2])
    if key not in PROFILES:
        raise ValueError(f"no mesh config profile for Istio {version}; have {', '.join(PROFILES)}")
    return PROFILES[key]


# --------------------------------------------------------------------------------------
# The Go functions

def _apply_yaml(type_name: str, msg: dict, text: str) -> None:
    _apply_json(type_name, msg, _yaml_to_json_value(text))


def _yaml_field(raw, key: str):
    """extractYamlField: the field's value re-marshalled to YAML, None when absent/null."""
    if not isinstance(raw, dict) or raw.get(key) is None:
        return None
    return raw[key]


def _apply_proxy_config_value(value, proxy_config: dict, profile: VersionProfile) -> dict:
    """mesh.applyProxyConfig: field-wise merge, proxyMetadata merged key by key."""
    orig_metadata = proxy_config.get("proxyMetadata")
    orig_headers = proxy_config.get("proxyHeaders")
    try:
        _apply_json(PROXY_TYPE, proxy_config, value)
    except _GoError as err:
        raise _GoError(f"could not parse proxy config: {err}") from None
    new_metadata = proxy_config.get("proxyMetadata")
    if orig_metadata is not None or new_metadata is not None:
        merged = dict(orig_metadata or {})
        merged.update(new_metadata or {})
        if merged:
            proxy_config["proxyMetadata"] = merged
        else:
            proxy_config.pop("proxyMetadata", None)
    if profile.merge_proxy_headers and orig_headers is not None and "proxyHeaders" in proxy_config:
        for name, old in orig_headers.items():
            proxy_config["proxyHeaders"].setdefault(name, old)
    return proxy_config


def apply_mesh_config(text: str, profile: VersionProfile) -> dict:
    """mesh.ApplyMeshConfigDefaults(text) as a stored MeshConfig dict, or _GoError."""
    mesh = profile.default_mesh_config(profile.default_proxy_config())
    prev_proxy = mesh.get("defaultConfig")
    prev_providers = mesh.get("defaultProviders")
    prev_extension = mesh.get("extensionProviders", [])
    prev_aliases = mesh.get("trustDomainAliases", [])

    mesh["defaultConfig"] = profile.default_proxy_config()
    try:
        raw = _yaml_to_json_value(text)
        _apply_json(MESH_TYPE, mesh, raw)
    except _GoError as err:
        raise _GoError(f"failed to convert to proto. {err}") from None
    if prev_proxy is None:
        mesh.pop("defaultConfig", None)
    else:
        mesh["defaultConfig"] = prev_proxy

    proxy_value = _yaml_field(raw, "defaultConfig")
    if proxy_value is not None:
        mesh["defaultConfig"] = _apply_proxy_config_value(proxy_value, mesh.setdefault("defaultConfig", {}), profile)

    if prev_providers is None:
        mesh.pop("defaultProviders", None)
    else:
        mesh["defaultProviders"] = prev_providers
    providers_value = _yaml_field(raw, "defaultProviders")
    if providers_value is not None:
        try:
            _apply_json(_PKG + "MeshConfig_DefaultProviders", mesh.setdefault("defaultProviders", {}), providers_value)
        except _GoError as err:
            raise _GoError(f"could not parse default providers: {err}") from None

    new_extension = mesh.get("extensionProviders", [])
    merged_extension = [dict(p) for p in prev_extension]
    for provider in new_extension:
        for existing in merged_extension:
            if existing.get("name", "") == provider.get("name", ""):
                # Only the provider (the oneof) is taken over; the name stays.
                for key in list(existing):
                    if key != "name":
                        del existing[key]
                existing.update({k: v for k, v in provider.items() if k != "name"})
                break
        else:
            merged_extension.append(provider)
    if merged_extension:
        mesh["extensionProviders"] = merged_extension
    else:
        mesh.pop("extensionProviders", None)

    aliases = sorted(set(mesh.get("trustDomainAliases", [])) | set(prev_aliases))
    if aliases:
        mesh["trustDomainAliases"] = aliases
    else:
        mesh.pop("trustDomainAliases", None)

    err = validate_mesh_config(mesh)
    if err is not None:
        raise _GoError(str(err))
    return mesh


def clean_proxy_config(proxy_config: dict, profile: VersionProfile) -> dict:
    """inject.cleanProxyConfig: drop fields that equal DefaultProxyConfig's."""
    pc = copy.deepcopy(proxy_config)
    defaults = profile.default_proxy_config()
    for key in profile.clean_fields:
        if key == "proxyMetadata":
            if not pc.get(key):
                pc.pop(key, None)
            continue
        if key == "serviceCluster":
            # Only a serviceCluster oneof equal to the default's is dropped.
            if "serviceCluster" in pc and pc["serviceCluster"] == defaults.get("serviceCluster"):
                del pc["serviceCluster"]
            continue
        if pc.get(key) == defaults.get(key):
            pc.pop(key, None)
    return pc


# --------------------------------------------------------------------------------------
# Validation (pkg/config/validation/agent, Istio 1.22)

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_WILDCARD_LABEL = re.compile(r"^(\*|(\*|\*-)?[a-z0-9]([-a-z0-9]*[a-z0-9])?)$")


def _is_dns1123_label(value: str) -> bool:
    return len(value) <= 63 and bool(_DNS1123_LABEL.match(value))


def _validate_port(port: int):
    if 1 <= port <= 65535:
        return None
    return f"port number {port} must be in the range 1..65535"


def _validate_dns1123_labels(domain: str):
    parts = domain.split(".")
    top = parts[-1]
    if re.fullmatch(r"[+-]?\d+", top):
        return f"domain name {_go_quote(domain)} invalid (top level domain {_go_quote(top)} cannot be all-numeric)"
    for index, label in enumerate(parts):
        if index == len(parts) - 1 and label == "":
            return None
        if not _is_dns1123_label(label):
            return f"domain name {_go_quote(domain)} invalid (label {_go_quote(label)} invalid)"
    return None


def _go_quote(text: str) -> str:
    """fmt's %q for ordinary text."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _validate_fqdn(fqdn: str):
    if len(fqdn) > 255:
        return f"domain name {_go_quote(fqdn)} too long (max 255)"
    if not fqdn:
        return "empty domain name not allowed"
    return _validate_dns1123_labels(fqdn)


def _split_host_port(hostport: str):
    """net.SplitHostPort, raising _GoError with its message."""
    def fail(why):
        raise _GoError(f"address {hostport}: {why}")
    i = hostport.rfind(":")
    if i < 0:
        fail("missing port in address")
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            fail("missing ']' in address")
        if end + 1 == len(hostport):
            fail("missing port in address")
        if end + 1 != i:
            if hostport[end + 1] == ":":
                fail("too many colons in address")
            fail("missing port in address")
        host = hostport[1:end]
        if "[" in hostport[1:] or "]" in hostport[end + 1:]:
            fail("unexpected '[' in address" if "[" in hostport[1:] else "unexpected ']' in address")
    else:
        host = hostport[:i]
        if ":" in host:
            fail("too many colons in address")
        if "[" in host:
            fail("unexpected '[' in address")
        if "]" in host:
            fail("unexpected ']' in address")
    return host, hostport[i + 1:]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _validate_proxy_address(host_addr: str):
    try:
        host, port = _split_host_port(host_addr)
    except _GoError as err:
        return f"unable to split {_go_quote(host_addr)}: {err}"
    if not re.fullmatch(r"[+-]?\d+", port):
        return f"port ({port}) is not a number: strconv.Atoi: parsing {_go_quote(port)}: invalid syntax"
    err = _validate_port(int(port))
    if err:
        return err
    if _validate_fqdn(host) and not _is_ip(host):
        return f"{_go_quote(host)} is not a valid hostname or an IP address"
    return None


def _duration_error(text: str | None):
    nanos = duration_nanos(text) or 0
    if nanos < 10**6:
        return "duration must be greater than 1ms"
    if nanos % 10**6:
        return "only durations to ms precision are supported"
    return None


def _validate_drain_duration(text: str | None):
    errs = None
    err = _duration_error(text)
    if err:
        errs = _append(errs, _prefix(err, "invalid drain duration:"))
        return errs
    if (duration_nanos(text) or 0) % 10**9:
        errs = _append(errs, "drain time only supports durations to seconds precision")
    return errs


def _validate_tls(settings: dict):
    errs = None
    mode = settings.get("mode", "DISABLE")
    credential = settings.get("credentialName", "")
    if settings.get("insecureSkipVerify"):
        if mode == "SIMPLE" and (settings.get("caCertificates") or credential or "subjectAltNames" in settings):
            errs = _append_validation(errs, "cannot specify CaCertificates or CredentialName or SubjectAltNames "
                                            "when InsecureSkipVerify is set true")
        if mode == "MUTUAL" and (settings.get("caCertificates") or "subjectAltNames" in settings):
            errs = _append_validation(errs, "cannot specify CaCertificates or SubjectAltNames when "
                                            "InsecureSkipVerify is set true")
    if mode in ("SIMPLE", "MUTUAL") and credential:
        if settings.get("clientCertificate") or settings.get("caCertificates") or settings.get("privateKey") \
                or settings.get("caCrl"):
            errs = _append_validation(errs, "cannot specify client certificates or CA certificate or CA CRL "
                                            "If credentialName is set")
        return errs
    if mode == "MUTUAL":
        if not settings.get("clientCertificate"):
            errs = _append_validation(errs, "client certificate required for mutual tls")
        if not settings.get("privateKey"):
            errs = _append_validation(errs, "private key required for mutual tls")
    return errs


def _validate_private_key_provider(pkp: dict):
    errs = None
    if "cryptomb" in pkp:
        delay = pkp["cryptomb"].get("pollDelay")
        if delay is None:
            errs = _append(errs, "pollDelay is required")
        elif duration_nanos(delay) == 0:
            errs = _append(errs, "pollDelay must be non zero")
    elif "qat" in pkp:
        delay = pkp["qat"].get("pollDelay")
        if delay is None:
            errs = _append(errs, "pollDelay is required")
        elif duration_nanos(delay) == 0:
            errs = _append(errs, "pollDelay must be non zero")
    else:
        errs = _append(errs, "private key provider configuration is required")
        errs = _append(errs, "unknown private key provider")
    return errs


def validate_proxy_config(pc: dict):
    """agent.ValidateMeshConfigProxyConfig: None or a Go error value (str or _Multi)."""
    errs = None
    if not pc.get("configPath"):
        errs = _append(errs, "config path must be set")
    if not pc.get("binaryPath"):
        errs = _append(errs, "binary path must be set")
    if "serviceCluster" in pc:
        if not pc["serviceCluster"]:
            errs = _append(errs, "service cluster must be specified")
    elif "tracingServiceName" not in pc:
        errs = _append(errs, "oneof service cluster or tracing service name must be specified")
    drain = _validate_drain_duration(pc.get("drainDuration"))
    if drain is not None:
        errs = _append(errs, drain)
    address = pc.get("discoveryAddress", "")
    if not address:
        errs = _append(errs, "discovery address must be set to the proxy discovery service")
    else:
        err = _validate_proxy_address(address)
        if err:
            errs = _append(errs, _prefix(err, "invalid discovery address:"))
    tracing = pc.get("tracing") or {}
    if "lightstep" in tracing:
        ls = tracing["lightstep"]
        lerrs = None
        if not ls.get("address"):
            lerrs = _append(lerrs, "address is required")
        err = _validate_proxy_address(ls.get("address", ""))
        if err:
            lerrs = _append(lerrs, _prefix(err, "invalid lightstep address:"))
        if not ls.get("accessToken"):
            lerrs = _append(lerrs, "access token is required")
        if lerrs is not None:
            errs = _append(errs, _prefix(lerrs, "invalid lightstep config:"))
    if "zipkin" in tracing:
        err = _validate_proxy_address(tracing["zipkin"].get("address", "").replace("$(HOST_IP)", "127.0.0.1", 1))
        if err:
            errs = _append(errs, _prefix(err, "invalid zipkin config:"))
    if "datadog" in tracing:
        err = _validate_proxy_address(tracing["datadog"].get("address", "").replace("$(HOST_IP)", "127.0.0.1", 1))
        if err:
            errs = _append(errs, _prefix(err, "invalid datadog config:"))
    if "tlsSettings" in tracing:
        err = _validate_tls(tracing["tlsSettings"])
        if err is not None:
            errs = _append(errs, _prefix(err, "invalid tracing TLS config:"))
    statsd = pc.get("statsdUdpAddress", "")
    if statsd:
        err = _validate_proxy_address(statsd)
        if err:
            errs = _append(errs, _prefix(err, f"invalid statsd udp address {_go_quote(statsd)}:"))
    ems_address = pc.get("envoyMetricsServiceAddress", "")
    if ems_address:
        err = _validate_proxy_address(ems_address)
        if err:
            errs = _append(errs, _prefix(err, f"invalid envoy metrics service address {_go_quote(ems_address)}:"))
    for key, what in (("envoyMetricsService", "envoy metrics service"), ("envoyAccessLogService", "envoy access log service")):
        service_address = (pc.get(key) or {}).get("address", "")
        if service_address:
            err = _validate_proxy_address(service_address)
            if err:
                errs = _append(errs, _prefix(err, f"invalid {what} address {_go_quote(service_address)}:"))
    err = _validate_port(pc.get("proxyAdminPort", 0))
    if err:
        errs = _append(errs, _prefix(err, "invalid proxy admin port:"))
    policy = pc.get("controlPlaneAuthPolicy", "NONE")
    if policy not in ("NONE", "MUTUAL_TLS"):
        errs = _append(errs, _prefix(f"unrecognized control plane auth policy {_go_quote(str(policy))}",
                                     "invalid authentication policy:"))
    err = _validate_port(pc.get("statusPort", 0))
    if err:
        errs = _append(errs, _prefix(err, "invalid status port:"))
    if "privateKeyProvider" in pc:
        err = _validate_private_key_provider(pc["privateKeyProvider"])
        if err is not None:
            errs = _append(errs, _prefix(err, "invalid private key provider configuration:"))
    return errs


def _validate_localities(localities: list):
    seen: dict = {}
    for locality in localities:
        stars = locality.count("*")
        if stars and (stars > 1 or not locality.endswith("*")):
            return f"locality {locality} wildcard '*' number can not exceed 1 and must be in the end"
        if "*" in seen:
            return f"locality {locality} overlap with previous specified ones"
        items = locality.split("/", 2)
        if any(item == "" for item in items):
            return f"locality {locality} must not contain empty region/zone/subzone info"
        region = items[0]
        zone = items[1] if len(items) > 1 else ""
        sub = items[2] if len(items) > 2 else ""
        overlap = f"locality {locality} overlap with previous specified ones"
        if len(items) == 1:
            if region in seen:
                return overlap
            seen[region] = {"*": {"*": True}}
        elif len(items) == 2:
            zones = seen.get(region)
            if zones is not None:
                if "*" in zones or zone in zones:
                    return overlap
                zones[zone] = {"*": True}
            else:
                seen[region] = {zone: {"*": True}}
        else:
            zones = seen.get(region)
            if zones is not None:
                if "*" in zones:
                    return overlap
                if zone in zones:
                    if zones[zone].get("*") or zones[zone].get(sub):
                        return overlap
                    zones[zone][sub] = True
                else:
                    zones[zone] = {sub: True}
            else:
                seen[region] = {zone: {sub: True}}
    return None


def _validate_locality_lb(lb: dict | None):
    if not lb:
        return None
    errs = None
    distribute = lb.get("distribute", [])
    failover = lb.get("failover", [])
    if distribute and failover:
        return "can not simultaneously specify 'distribute' and 'failover'"
    if failover and lb.get("failoverPriority"):
        for label in lb["failoverPriority"]:
            if label in ("topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone"):
                return f"can not simultaneously set 'failover' and topology label '{label}' in 'failover_priority'"
    sources = []
    for item in distribute:
        sources.append(item.get("from", ""))
        total = 0
        for weight in (item.get("to") or {}).values():
            if weight <= 0 or weight > 100:
                return _append_validation(errs, "locality weight must be in range [1, 100]")
            total += weight
        if total != 100:
            return _append_validation(errs, f"total locality weight {total} != 100")
        errs = _append_validation(errs, _validate_localities(list((item.get("to") or {}).keys())))
    errs = _append_validation(errs, _validate_localities(sources))
    for item in failover:
        src, dst = item.get("from", ""), item.get("to", "")
        if src == dst:
            errs = _append_validation(errs, "locality lb failover settings must specify different regions")
        if "/" in src or "/" in dst:
            errs = _append_validation(errs, "locality lb failover only specify region")
        if "*" in src or "*" in dst:
            errs = _append_validation(errs, "locality lb failover region should not contain '*' wildcard")
    return errs


def _validate_wildcard_domain(domain: str):
    if len(domain) > 255:
        return f"domain name {_go_quote(domain)} too long (max 255)"
    if not domain:
        return "empty domain name not allowed"
    first, _, rest = domain.partition(".")
    if not (len(first) <= 63 and _WILDCARD_LABEL.match(first)):
        return f"domain name {_go_quote(domain)} invalid (label {_go_quote(first)} invalid)"
    if "." in domain:
        return _validate_dns1123_labels(rest)
    return None


def _validate_trust_domain(domain: str):
    if not domain:
        return "empty domain name not allowed"
    parts = domain.split(".")
    for index, label in enumerate(parts):
        if index == len(parts) - 1 and label == "":
            return None
        if not _is_dns1123_label(label):
            return f"trust domain name {_go_quote(domain)} invalid"
    return None


def validate_mesh_config(mesh: dict):
    """agent.ValidateMeshConfig: None or the Go error value (warnings are not errors)."""
    v = None
    err = _validate_port(mesh.get("proxyListenPort", 0))
    if err:
        v = _append_validation(v, _prefix(err, "invalid proxy listen port:"))
    timeout = mesh.get("connectTimeout")
    err = _duration_error(timeout)
    if err is None:
        nanos = duration_nanos(timeout) or 0
        if nanos > 3600 * 10**9 or nanos < 10**6:
            err = (f"time {go_duration_string(nanos)} must be >1ms and <1h0m0s")
    if err:
        v = _append_validation(v, _prefix(err, "invalid connect timeout:"))
    detection = duration_nanos(mesh.get("protocolDetectionTimeout")) or 0
    if detection and detection % 10**6:
        v = _append_validation(v, _prefix("only durations to ms precision are supported",
                                          "invalid protocol detection timeout:"))
    if mesh.get("defaultConfig") is None:
        v = _append_validation(v, "missing default config")
    else:
        v = _append_validation(v, validate_proxy_config(mesh["defaultConfig"]))
    v = _append_validation(v, _validate_locality_lb(mesh.get("localityLbSetting")))
    service_errs = None
    for index, setting in enumerate(mesh.get("serviceSettings", [])):
        for host in setting.get("hosts", []):
            err = _validate_wildcard_domain(host)
            if err:
                service_errs = _append(service_errs, f"serviceSettings[{index}], host `{host}`: {err}")
    v = _append_validation(v, service_errs)
    trust_errs = None
    err = _validate_trust_domain(mesh.get("trustDomain", ""))
    if err:
        trust_errs = _append(trust_errs, f"trustDomain: {err}")
    for index, alias in enumerate(mesh.get("trustDomainAliases", [])):
        err = _validate_trust_domain(alias)
        if err:
            trust_errs = _append(trust_errs, f"trustDomainAliases[{index}], domain `{alias}` : {err}")
    v = _append_validation(v, trust_errs)
    if "ecdhCurves" in (mesh.get("meshMTLS") or {}):
        v = _append_validation(v, _append(None, "mesh TLS does not support ECDH curves configuration"))
    return v


# --------------------------------------------------------------------------------------
# Public objects

class _StoredMessage:
    """A protobuf message stored as a protojson-shaped dict, for the templates and the pipeline."""

    go_type = ""

    def __init__(self, data: dict, profile: VersionProfile | None = None):
        self.data = data
        self.profile = profile or _profile(None)

    def to_dict(self) -> dict:
        return copy.deepcopy(self.data)

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    def __proto_json__(self) -> str:
        return marshal(self.go_type.lstrip("*"), self.data)

    def template_view(self):
        """Go field/method access (gotypes views); protoToJSON prints __proto_json__."""
        from .gotypes import views
        return views.view(self.data, self.go_type, proto_json=self.__proto_json__)


class ProxyConfig(_StoredMessage):
    """A ProxyConfig with the accessors injection needs."""

    go_type = "*" + PROXY_TYPE

    def __proto_json__(self) -> str:
        """protoToJSON .ProxyConfig: cleanProxyConfig, then jsonpb."""
        return marshal(PROXY_TYPE, clean_proxy_config(self.data, self.profile))

    # Getters as Go's generated ones (zero values when unset).
    def interception_mode(self) -> str:
        return self.data.get("interceptionMode", "REDIRECT")

    def hold_application_until_proxy_starts(self) -> bool:
        return bool(self.data.get("holdApplicationUntilProxyStarts", False))

    def image_type(self) -> str:
        return (self.data.get("image") or {}).get("imageType", "")

    def proxy_metadata(self) -> dict:
        return dict(self.data.get("proxyMetadata") or {})

    def status_port(self) -> int:
        return self.data.get("statusPort", 0)

    def concurrency(self) -> int | None:
        return self.data.get("concurrency")

    def drain_duration(self) -> str:
        """formatDuration .ProxyConfig.DrainDuration (time.Duration.String)."""
        return go_duration_string(duration_nanos(self.data.get("drainDuration")) or 0)

    def __repr__(self) -> str:
        return f"ProxyConfig({self.data!r})"


class MeshConfig(_StoredMessage):
    """A MeshConfig after Istio's defaults and the mesh file were applied."""

    go_type = "*" + MESH_TYPE

    def default_config(self) -> ProxyConfig:
        return ProxyConfig(self.data.get("defaultConfig") or {}, self.profile)

    def with_proxy_config_annotation(self, value: str) -> "MeshConfig":
        """mesh.ApplyProxyConfig(annotation, mesh): a new MeshConfig, this one untouched."""
        data = copy.deepcopy(self.data)
        try:
            parsed = _yaml_to_json_value(value)
            data["defaultConfig"] = _apply_proxy_config_value(parsed, data.setdefault("defaultConfig", {}),
                                                              self.profile)
        except _GoError as err:
            message = str(err)
            if not message.startswith("could not parse proxy config: "):
                message = f"could not parse proxy config: {message}"
            raise MeshConfigError(message) from None
        return MeshConfig(data, self.profile)

    def with_overrides(self, overrides: dict) -> "MeshConfig":
        """Apply a golden case's meshOverrides (Go test code setting proto fields directly):
        recursive merge where any value that is not a non-empty map replaces."""
        return load_mesh_config(_dump_yaml(_merge_overrides(self.to_dict(), overrides)),
                                version=self.profile.version)

    # Getters injection uses.
    def trust_domain(self) -> str:
        return self.data.get("trustDomain", "")

    def status_port(self) -> int:
        return (self.data.get("defaultConfig") or {}).get("statusPort", 0)

    def prometheus_merge(self) -> bool | None:
        """GetEnablePrometheusMerge(): None when unset (Istio then defaults to on)."""
        return self.data.get("enablePrometheusMerge")

    def inbound_traffic_policy_mode(self) -> str:
        """SidecarTemplateData.InboundTrafficPolicyMode: the mode's name, lower-cased."""
        return (self.data.get("inboundTrafficPolicy") or {}).get("mode", "PASSTHROUGH").lower()

    def proxy_listen_port(self) -> int:
        return self.data.get("proxyListenPort", 0)

    def proxy_inbound_listen_port(self) -> int:
        return self.data.get("proxyInboundListenPort", 0)

    def __repr__(self) -> str:
        return f"MeshConfig({self.data!r})"


def _merge_overrides(base: dict, over: dict) -> dict:
    for key, value in over.items():
        if isinstance(value, dict) and value and isinstance(base.get(key), dict):
            _merge_overrides(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _dump_yaml(data: dict) -> str:
    return json.dumps(data)  # JSON is YAML; keeps every value's type exactly


def load_mesh_config(text: str | None, version: str | None = None) -> MeshConfig:
    """Istio's defaults with the mesh file applied (None: the defaults alone)."""
    profile = _profile(version)
    try:
        data = apply_mesh_config(text if text is not None else "", profile)
    except _GoError as err:
        raise MeshConfigError(str(err)) from None
    return MeshConfig(data, profile)


def default_mesh_config(version: str | None = None) -> MeshConfig:
    profile = _profile(version)
    return MeshConfig(profile.default_mesh_config(profile.default_proxy_config()), profile)


def default_proxy_config(version: str | None = None) -> ProxyConfig:
    profile = _profile(version)
    return ProxyConfig(profile.default_proxy_config(), profile)


def proxy_config_for_pod(mesh: MeshConfig, annotations: dict | None) -> ProxyConfig:
    """The ProxyConfig the injection template sees for a pod: mesh.defaultConfig with the
    proxy.istio.io/config annotation merged in (istioctl has no ProxyConfig resources)."""
    annotations = annotations or {}
    if PROXY_CONFIG_ANNOTATION in annotations:
        mesh = mesh.with_proxy_config_annotation(annotations[PROXY_CONFIG_ANNOTATION])
    return mesh.default_config()


def validate_proxy_config_annotation(value: str, version: str | None = None) -> str | None:
    """inject's validateProxyConfig for the annotation: None when valid, else the error text
    that goes into "invalid value '...' for annotation 'proxy.istio.io/config': <text>"."""
    profile = _profile(version)
    pc = profile.default_proxy_config()
    try:
        _apply_yaml(PROXY_TYPE, pc, value)
    except _GoError as err:
        return f"failed to convert to apply proxy config: {err}"
    err = validate_proxy_config(pc)
    return None if err is None else str(err)


def proto_json(msg) -> str:
    """protoToJSON's text for a MeshConfig or ProxyConfig (ProxyConfig is cleaned first)."""
    return msg.__proto_json__()


def proto_json_for(value: dict | None, go_type: str, version: str | None = None) -> str:
    """protoToJSON for a stored dict of the given Go type (e.g. from a template view)."""
    if value is None:
        return "{}"
    base = go_type.lstrip("*")
    profile = _profile(version)
    try:
        if base == PROXY_TYPE:
            return marshal(PROXY_TYPE, clean_proxy_config(value, profile))
        return marshal(base, value)
    except _GoError:
        return "{}"  # protoToJSON logs the marshal error and prints {}
