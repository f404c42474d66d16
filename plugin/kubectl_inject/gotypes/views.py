"""Template views: typed Go values as Istio's injection templates see them.

Istio executes its templates on SidecarTemplateData, whose fields are Go
structs (metav1.ObjectMeta, corev1.PodSpec, *meshconfig.ProxyConfig, ...), so
the templates say `.ObjectMeta.Annotations`, `$c.Ports`,
`.ProxyConfig.Concurrency.GetValue`, `.ProxyConfig.InterceptionMode.String`.
`view(value, type_ref)` wraps a JSON-shaped value (Kubernetes objects in
encoding/json form as typed.normalize gives them; protobuf messages in
protojson form, as meshconfig keeps them: lowerCamel keys, enums by name,
durations as "45s", wrappers as plain values) in objects that implement the
value protocol of gostd.values (see gostd.values.GoStruct).

Go semantics reproduced:
* fields by Go name (promoted fields of embedded structs included); a field
  the type lacks raises gostd.values.NoSuchField; oneof members are reached
  only through their GetX getters or the oneof group field;
* a nil pointer field is a typed nil (gostd.values.NilPtr): false, prints
  <nil>, field access fails; protobuf getters on it are nil-safe and return
  zero values (`.ProxyConfig.GetTracing.GetTlsSettings` on an unset tracing);
* a non-pointer struct field that is absent is a view of the zero struct;
* nil maps and slices are empty and false; map[string]string is a
  gostd.values.StringMap, other maps are dicts whose missing keys read as the
  element's zero value;
* integers stay Python ints (int32, int64, ...), float fields are floats;
* protobuf enums are ints that print by name and have String();
* wrappers (BoolValue, Int32Value, ...) have Value and GetValue; durations
  have Seconds, Nanos, GetSeconds, GetNanos, AsDuration and
  `__go_duration__()` (nanoseconds, for the formatDuration template function);
* IntOrString, Quantity and Time print with their String() methods, which
  text/template finds because the fields are addressable.
Every view also has `__go_json__()` (the JSON value encoding/json writes,
keys in Go's field order) and `__proto_json__()` (protomarshal's text for
protobuf messages).
"""

from __future__ import annotations

import datetime as _dt

from .. import lazy_regex
from ..gostd.time import format_duration
from . import protojson, schema
from . import typed as _typed
from .quantity import Quantity, quantity_from_json, QuantityError

# the template engine owns the protocol's exceptions and typed nil
from ..gostd.values import NilPointer, NilPtr, NoSuchField, StringMap


__all__ = ["view", "StructView", "NilView", "EnumValue", "GoDuration", "NoSuchField"]

_WKT = "google.golang.org/protobuf/types/known/"
_DURATIONPB = _WKT + "durationpb.Duration"
_TIMESTAMPPB = _WKT + "timestamppb.Timestamp"
_WRAPPER_PREFIX = _WKT + "wrapperspb."
_STRUCTPB = (_WKT + "structpb.Struct", _WKT + "structpb.Value", _WKT + "structpb.ListValue")
_WRAPPER_KIND = {
    "BoolValue": "bool", "StringValue": "string", "BytesValue": "[]byte", "Int32Value": "int32",
    "UInt32Value": "uint32", "Int64Value": "int64", "UInt64Value": "uint64",
    "FloatValue": "float32", "DoubleValue": "float64",
}
_QUANTITY = "k8s.io/apimachinery/pkg/api/resource.Quantity"
_INTORSTR = "k8s.io/apimachinery/pkg/util/intstr.IntOrString"
_TIME = "k8s.io/apimachinery/pkg/apis/meta/v1.Time"
_MICROTIME = "k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime"

_MISSING = object()


# ------------------------------------------------------------------ durations


class GoDuration(int):
    """A time.Duration (nanoseconds) that prints as Go's Duration.String()."""

    __go_type__ = "time.Duration"

    def __go_str__(self) -> str:
        return format_duration(int(self))

    def __go_duration__(self) -> int:
        return int(self)

    def __go_method__(self, name):
        if name == "String":
            return self.__go_str__
        if name == "Seconds":
            return lambda: int(self) / 1e9
        return None


_PB_DURATION_RE = lazy_regex.compile(r"(-)?(\d+)(?:\.(\d{1,9}))?s\Z")


def parse_pb_duration(value) -> tuple[int, int]:
    """(seconds, nanos) of a durationpb in protojson text ("1.5s") or dict form."""
    if value is None:
        return 0, 0
    if isinstance(value, dict):
        return int(value.get("seconds", 0) or 0), int(value.get("nanos", 0) or 0)
    if isinstance(value, (int, float)):
        nanos = int(round(value * 1e9))
        return int(nanos / 1e9), nanos - int(nanos / 1e9) * 1_000_000_000
    m = _PB_DURATION_RE.match(str(value))
    if not m:
        raise ValueError(f"invalid google.protobuf.Duration value {value!r}")
    secs = int(m.group(2))
    nanos = int((m.group(3) or "").ljust(9, "0") or 0)
    if m.group(1):
        secs, nanos = -secs, -nanos
    return secs, nanos


# ------------------------------------------------------------------ enum


class EnumValue(int):
    """A protobuf enum value: an int32 that prints by name."""

    def __new__(cls, number: int, name: str, type_name: str):
        obj = int.__new__(cls, number)
        obj._name = name
        obj.__go_type__ = type_name
        return obj

    def __go_str__(self) -> str:
        return self._name

    def __go_method__(self, name):
        if name == "String":
            return lambda: self._name
        if name == "Number":
            return lambda: int(self)
        return None

    def __go_field__(self, name):
        raise NoSuchField(name)

    def __go_truth__(self) -> bool:
        return int(self) != 0

    def __go_json__(self):
        return int(self)

    def __proto_json__(self):
        return '"' + self._name + '"'

    def __repr__(self) -> str:
        return f"EnumValue({int(self)}, {self._name!r})"


def _enum(value, tref: str) -> EnumValue:
    info = schema.type_info(tref)
    values = info.get("values", {})
    if isinstance(value, str):
        for num, name in values.items():
            if name == value:
                return EnumValue(int(num), name, schema.go_type_string(tref))
        number = 0
    else:
        number = int(value or 0)
    return EnumValue(number, values.get(str(number), str(number)), schema.go_type_string(tref))


# ------------------------------------------------------------------ maps


class GoMap(dict):
    """A Go map other than map[string]string: missing keys read as the element's zero value."""

    def __init__(self, data, type_name: str, zero):
        super().__init__(data)
        self.__go_type__ = type_name
        self.__go_zero__ = zero


# ------------------------------------------------------------------ views


def _is_proto(tref: str) -> bool:
    info = schema.type_info(tref)
    return bool(info.get("proto")) or tref.startswith(_WKT)


def _zero_value(tref: str):
    """The zero value of tref as stored data (before viewing)."""
    r = schema.resolve(tref)
    if r.kind == "struct":
        return {}
    return None


class StructView:
    """A Go struct value, or a non-nil pointer to one (pointer=True)."""

    __slots__ = ("_data", "_ref", "_pointer", "_proto_json", "__go_type__")

    def __init__(self, data, type_ref: str, pointer: bool = False, proto_json=None):
        self._data = data if isinstance(data, dict) else {}
        self._ref = type_ref
        self._pointer = pointer
        self._proto_json = proto_json
        self.__go_type__ = ("*" if pointer else "") + schema.go_type_string(type_ref)

    # -- protocol
    def __go_field__(self, name: str):
        info = schema.type_info(self._ref)
        fi = schema.field_by_go_name(self._ref, name)
        if fi is not None and not fi.oneof:
            return _field_view(self._data, fi)
        # a oneof group field (interface holding a wrapper struct)
        members = [f for f in info.get("fields", []) if f.get("oneof") == name]
        if members:
            for f in members:
                if f["json"] in self._data and self._data[f["json"]] is not None:
                    return _OneofWrapper(self._ref, f, self._data[f["json"]])
            return None
        raise NoSuchField(name)

    def __go_method__(self, name: str):
        if name.startswith("Get") and len(name) > 3:
            target = name[3:]
            fi = schema.field_by_go_name(self._ref, target)
            methods = schema.type_info(self._ref).get("methods") or []
            if fi is not None and (name in methods or _is_proto(self._ref)):
                if fi.oneof:
                    return lambda: _oneof_get(self._data, fi)
                return lambda: _field_view(self._data, fi)
        return None

    def __go_truth__(self) -> bool:
        return True

    def __go_str__(self) -> str:
        body = " ".join(_str_of(_field_view(self._data, f)) for f in _plain_fields(self._ref))
        return ("&{" if self._pointer else "{") + body + "}"

    def __go_json__(self):
        if _is_proto(self._ref):
            return self._data
        return _typed.go_ordered(self._data, self._ref)

    def __proto_json__(self):
        if self._proto_json is not None:
            return self._proto_json()
        return protojson.marshal(self._ref, self._data)

    def __repr__(self) -> str:
        return f"StructView({self.__go_type__}, {self._data!r})"

    # -- helpers for Python callers
    @property
    def data(self):
        return self._data

    @property
    def type_ref(self) -> str:
        return self._ref


def _plain_fields(tref: str):
    return [f for f in schema.struct_fields(tref) if not f.oneof]


def _str_of(v) -> str:
    if v is None:
        return "<nil>"
    if v is True:
        return "true"
    if v is False:
        return "false"
    gs = getattr(v, "__go_str__", None)
    if gs is not None:
        return gs()
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_str_of(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(_str_of(x) for x in v) + "]"
    return str(v)


def _field_view(data: dict, fi):
    raw = data.get(fi.json, _MISSING) if data else _MISSING
    if raw is _MISSING:
        raw = None
    return view(raw, fi.type)


def _oneof_get(data: dict, fi):
    raw = data.get(fi.json, _MISSING) if data else _MISSING
    return view(None if raw is _MISSING else raw, fi.type)


class _OneofWrapper(StructView):
    """The *Msg_Member wrapper a oneof interface field holds."""

    __slots__ = ("_member",)

    def __init__(self, msg_ref: str, member: dict, raw):
        StructView.__init__(self, {member["json"]: raw}, msg_ref, pointer=True)
        self._member = member
        self.__go_type__ = "*" + schema.go_type_string(msg_ref) + "_" + member["go"]

    def __go_field__(self, name: str):
        if name == self._member["go"]:
            return view(self._data[self._member["json"]], self._member["type"])
        raise NoSuchField(name)

    def __go_method__(self, name: str):
        return None

    def __go_str__(self) -> str:
        return "&{" + _str_of(self.__go_field__(self._member["go"])) + "}"


class NilView(NilPtr):
    """A typed nil pointer; protobuf getters on it return zero values, as Go's do."""

    __slots__ = ("_ref",)

    def __init__(self, elem_ref: str):
        NilPtr.__init__(self, "*" + schema.go_type_string(elem_ref))
        self._ref = elem_ref

    def __go_method__(self, name: str):
        ref = self._ref
        r = schema.resolve(ref)
        if r.kind == "special":
            if ref.startswith(_WRAPPER_PREFIX) and name == "GetValue":
                kind = _WRAPPER_KIND[ref[len(_WRAPPER_PREFIX):]]
                return lambda: view(None, kind)
            if ref == _DURATIONPB:
                if name in ("GetSeconds", "GetNanos"):
                    return lambda: 0
                if name == "AsDuration":
                    return lambda: GoDuration(0)
            return None
        if r.kind == "struct" and _is_proto(ref) and name.startswith("Get"):
            fi = schema.field_by_go_name(ref, name[3:])
            if fi is not None:
                return lambda: view(None, fi.type)
        return None

    def __go_duration__(self) -> int:
        return 0


class _SpecialView:
    __slots__ = ("_raw", "_ref", "__go_type__", "_pointer")

    def __init__(self, raw, tref: str, pointer: bool):
        self._raw = raw
        self._ref = tref
        self._pointer = pointer
        self.__go_type__ = ("*" if pointer else "") + schema.go_type_string(tref)

    def __go_truth__(self) -> bool:
        return True

    def __go_field__(self, name):
        raise NoSuchField(name)

    def __go_method__(self, name):
        return None

    def __go_json__(self):
        return self._raw

    def __proto_json__(self):
        return protojson.marshal(self._ref, self._raw) if _is_proto(self._ref) else None

    def __repr__(self):
        return f"{type(self).__name__}({self._raw!r})"


class QuantityView(_SpecialView):
    __slots__ = ("_q",)

    def __init__(self, raw, tref, pointer):
        _SpecialView.__init__(self, raw, tref, pointer)
        try:
            self._q = raw if isinstance(raw, Quantity) else quantity_from_json(raw)
        except QuantityError:
            self._q = Quantity(0, 0, "", None)

    def __go_str__(self):
        return self._q.string()

    def __go_method__(self, name):
        q = self._q
        if name == "String":
            return q.string
        if name == "IsZero":
            return q.is_zero
        if name == "Value":
            return lambda: _ceil(q.value_fraction())
        if name == "MilliValue":
            return lambda: _ceil(q.value_fraction() * 1000)
        if name == "AsApproximateFloat64":
            return lambda: float(q.value_fraction())
        return None

    def __go_json__(self):
        return self._q.string()


def _ceil(fr) -> int:
    return -((-fr.numerator) // fr.denominator)


class IntOrStringView(_SpecialView):
    __slots__ = ()

    def _is_str(self) -> bool:
        return isinstance(self._raw, str)

    def __go_field__(self, name):
        if name == "Type":
            return 1 if self._is_str() else 0
        if name == "IntVal":
            return 0 if self._is_str() else int(self._raw or 0)
        if name == "StrVal":
            return self._raw if self._is_str() else ""
        raise NoSuchField(name)

    def __go_str__(self):
        return self._raw if self._is_str() else str(int(self._raw or 0))

    def __go_method__(self, name):
        if name == "String":
            return self.__go_str__
        if name == "IntValue":
            def int_value():
                if self._is_str():
                    try:
                        return int(self._raw)
                    except ValueError:
                        return 0
                return int(self._raw or 0)
            return int_value
        return None


class TimeView(_SpecialView):
    __slots__ = ()

    def _dt(self):
        if not self._raw:
            return _dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc)
        return _dt.datetime.strptime(self._raw[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=_dt.timezone.utc)

    def __go_str__(self):
        # time.Time.String() in UTC (Go converts to the local zone; CI runs in UTC)
        d = self._dt()
        return (f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"
                " +0000 UTC")

    def __go_method__(self, name):
        if name == "String":
            return self.__go_str__
        if name == "IsZero":
            return lambda: not self._raw
        if name == "Unix":
            return lambda: int((self._dt() - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)).total_seconds())
        return None


class DurationPbView(_SpecialView):
    __slots__ = ()

    def _parts(self):
        return parse_pb_duration(self._raw)

    def __go_field__(self, name):
        s, n = self._parts()
        if name == "Seconds":
            return s
        if name == "Nanos":
            return n
        raise NoSuchField(name)

    def __go_method__(self, name):
        s, n = self._parts()
        if name == "GetSeconds":
            return lambda: s
        if name == "GetNanos":
            return lambda: n
        if name == "AsDuration":
            return lambda: GoDuration(s * 1_000_000_000 + n)
        if name == "String":
            return self.__go_str__
        return None

    def __go_duration__(self) -> int:
        s, n = self._parts()
        return s * 1_000_000_000 + n

    def __go_str__(self):
        s, n = self._parts()
        parts = []
        if s:
            parts.append(f"seconds:{s}")
        if n:
            parts.append(f"nanos:{n}")
        return " ".join(parts)


class WrapperView(_SpecialView):
    __slots__ = ()

    def _kind(self) -> str:
        return _WRAPPER_KIND[self._ref[len(_WRAPPER_PREFIX):]]

    def _value(self):
        return view(self._raw, self._kind())

    def __go_field__(self, name):
        if name == "Value":
            return self._value()
        raise NoSuchField(name)

    def __go_method__(self, name):
        if name == "GetValue":
            return self._value
        if name == "String":
            return self.__go_str__
        return None

    def __go_str__(self):
        v = self._value()
        if v is False or v == "" or v == b"" or (not isinstance(v, bool) and isinstance(v, (int, float)) and v == 0):
            return ""  # prototext omits a zero scalar
        if isinstance(v, bool):
            return "value:" + ("true" if v else "false")
        if isinstance(v, str):
            return "value:" + _typed_quote(v)
        return "value:" + str(v)


def _typed_quote(s: str) -> str:
    import json

    return json.dumps(s, ensure_ascii=False)


def _special(raw, tref: str, pointer: bool):
    if tref == _QUANTITY:
        return QuantityView(raw, tref, pointer)
    if tref == _INTORSTR:
        return IntOrStringView(raw, tref, pointer)
    if tref in (_TIME, _MICROTIME):
        return TimeView(raw, tref, pointer)
    if tref == _DURATIONPB:
        return DurationPbView(raw, tref, pointer)
    if tref.startswith(_WRAPPER_PREFIX):
        return WrapperView(raw, tref, pointer)
    # structpb, RawExtension, FieldsV1, timestamps: their JSON value as is
    return raw


def view(value, type_ref: str, *, proto_json=None):
    """A template view of value (JSON-shaped data) typed as type_ref."""
    r = schema.resolve(type_ref)
    k = r.kind
    if k == "pointer":
        elem = r.elem
        if value is None:
            return NilView(type_ref[1:])
        if elem.kind == "struct":
            return StructView(value, type_ref[1:], pointer=True, proto_json=proto_json)
        if elem.kind == "special":
            return _special(value, type_ref[1:], True)
        # text/template prints the pointee of a pointer to a basic value
        return view(value, type_ref[1:])
    if k == "struct":
        return StructView(value if value is not None else {}, type_ref, proto_json=proto_json)
    if k == "special":
        return _special(value, type_ref, False)
    if k == "enum":
        return _enum(value, type_ref)
    if k == "named":
        under = schema.resolve(r.underlying)
        if under.kind == "map":
            return _map_view(value, r.underlying, schema.go_type_string(type_ref))
        return view(value, r.underlying)
    if k == "map":
        return _map_view(value, type_ref, schema.go_type_string(type_ref))
    if k == "slice":
        elem = type_ref[2:]
        return [view(x, elem) for x in (value or [])]
    if k == "bytes":
        if value is None:
            return b""
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        import base64

        return base64.b64decode(value)
    if k == "interface":
        return value
    # basic, named or not
    basic = r.underlying or type_ref
    if value is None:
        if basic == "string":
            return ""
        if basic == "bool":
            return False
        if basic in ("float32", "float64"):
            return 0.0
        return 0
    if basic in ("float32", "float64"):
        return float(value)
    if basic != "string" and basic != "bool" and isinstance(value, str):
        # protojson writes 64-bit integers as strings
        try:
            return int(value)
        except ValueError:
            return value
    return value


def _map_view(value, map_ref: str, type_name: str):
    elem = map_ref[len("map[string]"):]
    data = value or {}
    if elem == "string" and type_name == "map[string]string":
        return StringMap({k: ("" if v is None else v) for k, v in data.items()})
    viewed = {k: view(v, elem) for k, v in data.items()}
    return GoMap(viewed, type_name, view(_zero_value(elem), elem))
