"""Go's typed JSON round trip for Kubernetes objects.

istioctl kube-inject reads each manifest with sigs.k8s.io/yaml.Unmarshal into
a typed object (corev1.Pod, appsv1.Deployment, ...) and prints it with
sigs.k8s.io/yaml.Marshal. `normalize(value, type_ref)` gives the JSON value
that round trip produces from a decoded YAML value (dicts, lists, str, int,
float, bool, None): unknown fields vanish, empty omitempty fields vanish,
non-omitempty zero values appear (`creationTimestamp: null`, `resources: {}`,
`containers: null`), quantities become canonical, and scalars bound for
string fields become strings the way sigs.k8s.io/yaml converts them
(`value: 1` -> "1", `1.5` -> "1.5", `true` -> "true").

Steps mirrored, in order:
1. sigs.k8s.io/yaml's YAML-to-JSON conversion: map keys become strings; a
   number or bool whose target is a string kind becomes a string (ints in
   decimal, floats with strconv 'g' at 32-bit precision). Targets behind a
   JSON unmarshaler (Quantity, IntOrString, Time, ...) or interface{} keep
   their JSON type. A field promoted from an embedded struct (apiVersion,
   kind) is not coerced, because the converter looks at the embedded struct.
2. encoding/json decoding (Go 1.22): keys processed in sorted order (the
   converter emits sorted JSON), exact field name first then
   case-insensitive, null leaves non-nullable values unchanged, type
   mismatches are remembered (first one wins) while decoding goes on, errors
   from custom unmarshalers stop decoding at once.
3. encoding/json encoding: omitempty drops false, 0, "", nil and empty
   slices/maps, never structs.

Errors are raised as `TypeError` (this module's, a ValueError) whose str()
is Go's text, e.g.
  json: cannot unmarshal string into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32
(the struct named is the innermost struct holding the field, and the path is
the JSON field names from the document root, without list indexes).
sigs.k8s.io/yaml v1.4.0 wraps it as
"error unmarshaling JSON: while decoding JSON: " + str(err); `TypeError.yaml_message()` gives that form.

Public API:
  normalize(value, type_ref, dropped=None) -> JSON value (unknown fields' paths into dropped)
  go_ordered(value, type_ref) -> the same with struct keys in Go's field order
  object_type(api_version, kind) -> type ref or None
  zero_json(type_ref) -> what json.Marshal prints for the zero value
  TypeError
"""

from __future__ import annotations

import base64
import copy
import binascii
import builtins
import datetime as _dt
import math
import re

from . import schema
from ..gostd.json import float_text, names_embedded_structs
from ..gostd.strconv import format_float, to_float32
from ..gostd.time import ParseError as TimeParseError
from ..gostd.time import GoTime, parse_time_rfc3339
from .quantity import Quantity, QuantityError, quantity_from_json

__all__ = ["normalize", "go_ordered", "object_type", "zero_json", "TypeError"]

_QUANTITY = "k8s.io/apimachinery/pkg/api/resource.Quantity"
_INTORSTR = "k8s.io/apimachinery/pkg/util/intstr.IntOrString"
_TIME = "k8s.io/apimachinery/pkg/apis/meta/v1.Time"
_MICROTIME = "k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime"
_RAWEXT = "k8s.io/apimachinery/pkg/runtime.RawExtension"
_FIELDSV1 = "k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1"
_DURATION = "k8s.io/apimachinery/pkg/apis/meta/v1.Duration"

_INT_RANGES = {
    "int": (-(1 << 63), (1 << 63) - 1),
    "int8": (-(1 << 7), (1 << 7) - 1),
    "int16": (-(1 << 15), (1 << 15) - 1),
    "int32": (-(1 << 31), (1 << 31) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
    "uint": (0, (1 << 64) - 1),
    "uint8": (0, (1 << 8) - 1),
    "uint16": (0, (1 << 16) - 1),
    "uint32": (0, (1 << 32) - 1),
    "uint64": (0, (1 << 64) - 1),
    "uintptr": (0, (1 << 64) - 1),
}
_FLOATS = ("float32", "float64")


class TypeError(ValueError):  # noqa: A001 - the name the callers use
    """A value Go's json decoder rejects; str() is Go's message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def yaml_message(self) -> str:
        return "error unmarshaling JSON: while decoding JSON: " + self.message


class _UnmarshalTypeError(TypeError):
    def __init__(self, value_desc: str, type_str: str, struct: str = "", field: str = ""):
        self.value_desc = value_desc
        self.type_str = type_str
        self.struct = struct
        self.field = field
        super().__init__(self._text())

    def _text(self) -> str:
        if self.struct or self.field:
            return (f"json: cannot unmarshal {self.value_desc} into Go struct field "
                    f"{self.struct}.{self.field} of type {self.type_str}")
        return f"json: cannot unmarshal {self.value_desc} into Go value of type {self.type_str}"

    def with_context(self, struct: str, field: str) -> "_UnmarshalTypeError":
        return _UnmarshalTypeError(self.value_desc, self.type_str, struct, field)


class _Abort(Exception):
    """An error that stops decoding immediately (from a custom unmarshaler)."""

    def __init__(self, err: TypeError):
        self.err = err


_NOCHANGE = object()
_MISSING = object()
_YAML_STEP = [True]  # step 1 happens; normalize(from_json=True) turns it off for its call


class _Ctx:
    __slots__ = ("stack", "struct", "saved", "dropped", "types", "name_embedded", "embedded")

    def __init__(self, dropped: list | None = None):
        # The schema in force, looked up once: the round trip resolves a type for every value.
        self.types = schema.current()
        self.stack: list[str] = []
        self.struct = ""
        self.saved: TypeError | None = None
        # Where to note the paths of fields the types do not have (None: nobody asked).
        self.dropped = dropped
        # Go 1.24+ error paths: index in stack -> "Embedded." names shown before that field
        self.name_embedded, self.embedded = names_embedded_structs(), {}

    def field_path(self) -> str:  # UnmarshalTypeError.Field of the field being decoded
        if not self.embedded:
            return ".".join(self.stack)
        return ".".join(self.embedded.get(i, "") + name for i, name in enumerate(self.stack))

    def type_error(self, value_desc: str, type_str: str):
        if self.saved is None:
            if self.struct or self.stack:
                self.saved = _UnmarshalTypeError(value_desc, type_str, self.struct, self.field_path())
            else:
                self.saved = _UnmarshalTypeError(value_desc, type_str)
        return _NOCHANGE

    def abort(self, err: TypeError):
        if isinstance(err, _UnmarshalTypeError) and (self.struct or self.stack):
            err = err.with_context(self.struct, self.field_path())
        raise _Abort(err)


# ---------------------------------------------------------------- helpers


def _json_kind(v) -> str:
    """How encoding/json names a JSON value in UnmarshalTypeError.Value."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "array"
    if isinstance(v, dict):
        return "object"
    if v is None:
        return "null"
    return "object"


json_kind = _json_kind  # public: the pipeline and meshconfig word their errors the same way


def _number_text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return float_text(v)


def _yaml_key(k) -> str:
    """sigs.k8s.io/yaml: map keys of a YAML document become JSON strings."""
    if isinstance(k, str):
        return k
    if isinstance(k, bool):
        return "true" if k else "false"
    if isinstance(k, int):
        return str(k)
    if isinstance(k, float):
        s = format_float(k, "g", -1, 32)
        return {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}.get(s, s)
    raise TypeError(f"error converting YAML to JSON: unsupported map key of type: {builtins.type(k).__name__}, key: {k!r}")


def _sorted_items(d: dict):
    items = [(_yaml_key(k), v) for k, v in d.items()]
    # json.Marshal of a map sorts keys bytewise; a later duplicate wins
    merged = {}
    for k, v in items:
        merged[k] = v
    return sorted(merged.items(), key=lambda kv: kv[0].encode("utf-8"))


def _coerce_scalar_to_string(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_float(v, "g", -1, 32)
    return v


def _generic(v, keep_ints: bool):
    """A JSON value decoded into interface{} and encoded again.

    keep_ints=False: numbers went through float64 (interface{} targets);
    keep_ints=True: the JSON text was kept verbatim (RawExtension, FieldsV1).
    Either way the YAML printer reads integral numbers back as integers.
    """
    if isinstance(v, dict):
        return {k: _generic(x, keep_ints) for k, x in _sorted_items(v)}
    if isinstance(v, (list, tuple)):
        return [_generic(x, keep_ints) for x in v]
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        if keep_ints or abs(v) <= (1 << 53):
            return v
        v = float(v)
    if isinstance(v, float):
        text = float_text(v)
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        return v
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.isoformat()
    return v


# ---------------------------------------------------------------- time


def _time_from_json(v, micro: bool, ctx: _Ctx):
    if v is None:
        return None
    if isinstance(v, _dt.datetime):  # a YAML timestamp
        t = GoTime.from_datetime(v)
    elif not isinstance(v, str):
        ctx.abort(_UnmarshalTypeError(_json_kind(v), "string"))
    else:
        try:
            t = parse_time_rfc3339(v)
        except TimeParseError as e:
            ctx.abort(TypeError(str(e)))
    # MarshalJSON: null for the zero time, else UTC in RFC 3339 (MicroTime: RFC3339Micro)
    return None if t.is_zero() else t.format_utc(6 if micro else 0)


# ---------------------------------------------------------------- decode


def _decode(v, tref: str, ctx: _Ctx, coerce: bool = True):
    """Decode JSON-ish v into type tref; returns the Go model or _NOCHANGE."""
    r = ctx.types.resolve(tref)
    k = r.kind
    if k == "pointer":
        if v is None:
            return None
        # sigs.k8s.io/yaml looks through pointers for the string coercion
        return _decode(v, tref[1:], ctx, coerce)
    if k == "named":
        under = ctx.types.resolve(r.underlying)
        return _decode_composite(v, r.underlying, under, tref, ctx)
    if k in ("slice", "map", "bytes"):
        return _decode_composite(v, tref, r, tref, ctx)
    if k == "interface":
        return _generic(v, keep_ints=False)
    if k == "special":
        return _decode_special(v, tref, ctx)
    if k == "struct":
        return _decode_struct(v, tref, r, ctx)
    if k == "enum":
        # protobuf enums via encoding/json: plain int32
        return _decode_basic(v, "int32", tref, ctx, coerce)
    # basic (named or not)
    return _decode_basic(v, r.underlying or tref, tref, ctx, coerce)


def _decode_basic(v, basic: str, tref: str, ctx: _Ctx, coerce: bool):
    if v is None:
        return _NOCHANGE
    if basic == "string":
        if isinstance(v, str):
            return v
        if coerce and _YAML_STEP[0] and isinstance(v, (bool, int, float)):
            return _coerce_scalar_to_string(v)
        return ctx.type_error(_json_kind(v), ctx.types.go_type_string(tref))
    if basic == "bool":
        if isinstance(v, bool):
            return v
        return ctx.type_error(_json_kind(v), ctx.types.go_type_string(tref))
    if basic in _INT_RANGES:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return ctx.type_error(_json_kind(v), ctx.types.go_type_string(tref))
        text = _number_text(v)
        lo, hi = _INT_RANGES[basic]
        if not re.fullmatch(r"-?\d+", text) or not (lo <= int(text) <= hi):
            return ctx.type_error("number " + text, ctx.types.go_type_string(tref))
        return int(text)
    if basic in _FLOATS:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return ctx.type_error(_json_kind(v), ctx.types.go_type_string(tref))
        f = float(v)
        if basic == "float32":
            f32 = to_float32(f)
            if math.isinf(f32) and not math.isinf(f):   # out of float32's range
                return ctx.type_error("number " + _number_text(v), ctx.types.go_type_string(tref))
            f = f32
        return f
    raise builtins.TypeError(f"unsupported basic type {basic}")


def _decode_composite(v, uref: str, r, display_ref: str, ctx: _Ctx):
    if v is None:
        return None
    if r.kind == "bytes":
        if isinstance(v, str):
            try:
                raw = base64.b64decode(v.replace("\r", "").replace("\n", ""), validate=True)
            except (binascii.Error, ValueError):
                ctx.abort(TypeError("illegal base64 data at input byte 0"))
            return raw
        if isinstance(v, (list, tuple)):
            out = []
            for x in v:
                d = _decode_basic(x, "uint8", "uint8", ctx, False)
                out.append(0 if d is _NOCHANGE else d)
            return bytes(out)
        return ctx.type_error(_json_kind(v), ctx.types.go_type_string(display_ref))
    if r.kind == "slice":
        if not isinstance(v, (list, tuple)):
            return ctx.type_error(_json_kind(v), ctx.types.go_type_string(display_ref))
        elem = uref[2:]
        out = []
        for x in v:
            d = _decode(x, elem, ctx)
            if d is _NOCHANGE:
                d = _zero_model(elem, ctx.types)
            out.append(d)
        return out
    if r.kind == "map":
        if not isinstance(v, dict):
            return ctx.type_error(_json_kind(v), ctx.types.go_type_string(display_ref))
        elem = uref[len("map[string]"):]
        out = {}
        for key, x in _sorted_items(v):
            d = _decode(x, elem, ctx)
            if d is _NOCHANGE:
                d = _zero_model(elem, ctx.types) if key not in out else out[key]
            out[key] = d
        return out
    raise builtins.TypeError(f"not a composite type: {uref}")


def _decode_struct(v, tref: str, r, ctx: _Ctx):
    if v is None:
        return _NOCHANGE
    if r.info.get("proto"):
        raise NotImplementedError(
            f"{tref} is a protobuf message: its JSON form is protojson, not encoding/json")
    if not isinstance(v, dict):
        return ctx.type_error(_json_kind(v), ctx.types.go_type_string(tref))
    model: dict = {}
    struct_short = schema.short_name(tref)
    for key, x in _sorted_items(v):
        f = ctx.types.lookup_json_key(r.name, key)
        if f is None:
            # encoding/json ignores a field the struct does not have: it is lost on the way out.
            if ctx.dropped is not None:
                ctx.dropped.append(".".join(ctx.stack + [str(key)]))
            continue
        saved_stack, saved_struct = len(ctx.stack), ctx.struct
        ctx.stack.append(f.json)
        ctx.struct = struct_short
        promoted = len(f.path) > 1
        if promoted and ctx.name_embedded:
            ctx.embedded[saved_stack] = ".".join(f.path[:-1]) + "."
        d = _decode(x, f.type, ctx, coerce=not promoted)
        del ctx.stack[saved_stack:]
        if ctx.embedded:
            ctx.embedded.pop(saved_stack, None)
        ctx.struct = saved_struct
        if d is _NOCHANGE:
            continue
        prev = model.get(f.json, _MISSING)
        if isinstance(prev, dict) and isinstance(d, dict) and _is_merging(f.type, ctx.types):
            merged = dict(prev)
            merged.update(d)
            d = merged
        model[f.json] = d
    return model


def _is_merging(tref: str, types) -> bool:
    """Decoding twice into the same struct or map merges (slices are replaced)."""
    while tref.startswith("*"):
        tref = tref[1:]
    r = types.resolve(types.unwrap(tref))
    return r.kind in ("struct", "map")


def _decode_special(v, tref: str, ctx: _Ctx):
    if tref == _QUANTITY:
        try:
            return quantity_from_json(v)
        except QuantityError as e:
            ctx.abort(TypeError(str(e)))
    if tref == _INTORSTR:
        if isinstance(v, str):
            return v
        if v is None:
            return 0
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            ctx.abort(_UnmarshalTypeError(_json_kind(v), "int32"))
        text = _number_text(v)
        if not re.fullmatch(r"-?\d+", text) or not (-(1 << 31) <= int(text) < (1 << 31)):
            ctx.abort(_UnmarshalTypeError("number " + text, "int32"))
        return int(text)
    if tref in (_TIME, _MICROTIME):
        return _time_from_json(v, tref == _MICROTIME, ctx)
    if tref in (_RAWEXT, _FIELDSV1):
        return _generic(v, keep_ints=True)
    if tref == _DURATION:
        if not isinstance(v, str):
            ctx.abort(_UnmarshalTypeError(_json_kind(v), "string"))
        return v
    raise NotImplementedError(f"{tref}: not a type encoding/json handles here")


# ---------------------------------------------------------------- zero and encode


def _zero_model(tref: str, types):
    r = types.resolve(tref)
    k = r.kind
    if k in ("pointer", "slice", "map", "bytes", "interface", "named"):
        return None
    if k == "struct":
        return {}
    if k == "special":
        if tref == _QUANTITY:
            return Quantity(0, 0, "", None)
        if tref == _INTORSTR:
            return 0
        if tref == _DURATION:
            return "0s"
        return None
    if k == "enum":
        return 0
    basic = r.underlying or tref
    if basic == "string":
        return ""
    if basic == "bool":
        return False
    if basic in _FLOATS:
        return 0.0
    return 0


def _is_empty(val, tref: str, types) -> bool:
    r = types.resolve(tref)
    k = r.kind
    if k in ("pointer", "interface"):
        return val is None
    if k in ("slice", "map", "bytes", "named"):
        return val is None or len(val) == 0
    if k in ("struct", "special"):
        return False
    if isinstance(val, bool):
        return val is False
    return val == 0 or val == ""


def _struct_plan(tref: str, types) -> list:
    """Per struct type, computed once: each field with what an absent value encodes to.

    Encoding every absent field's zero value for every object dominated the run time of a
    1,000-Deployment manifest; the zero encodings never change for one schema, so they are
    cached with it (releases differ in their types).
    """
    plans = types.derived.setdefault("typed.struct_plans", {})
    plan = plans.get(tref)
    if plan is None:
        plan = []
        for f in types.struct_fields(tref):
            zero = _zero_model(f.type, types)
            emit_missing = not (f.omitempty and _is_empty(zero, f.type, types))
            plan.append((f.json, f.type, f.omitempty, emit_missing,
                         _encode(zero, f.type, types) if emit_missing else None))
        plans[tref] = plan
    return plan


def _encode(val, tref: str, types):
    r = types.resolve(tref)
    k = r.kind
    if k == "pointer":
        return None if val is None else _encode(val, tref[1:], types)
    if k == "named":
        return _encode(val, r.underlying, types)
    if k == "bytes":
        return None if val is None else base64.b64encode(val).decode("ascii")
    if k == "slice":
        if val is None:
            return None
        elem = tref[2:]
        return [_encode(x, elem, types) for x in val]
    if k == "map":
        if val is None:
            return None
        elem = tref[len("map[string]"):]
        return {key: _encode(x, elem, types) for key, x in val.items()}
    if k == "interface":
        return val
    if k == "special":
        if tref == _QUANTITY:
            return val.string()
        return val
    if k == "struct":
        out = {}
        get = val.get if val else None
        for json_name, ftype, omitempty, emit_missing, zero_json in _struct_plan(tref, types):
            x = get(json_name, _MISSING) if get is not None else _MISSING
            if x is _MISSING:
                if emit_missing:
                    out[json_name] = copy.deepcopy(zero_json) if isinstance(zero_json, (dict, list)) else zero_json
                continue
            if omitempty and _is_empty(x, ftype, types):
                continue
            out[json_name] = _encode(x, ftype, types)
        return out
    if isinstance(val, float):
        # the YAML printer reads an integral float64 back as an integer
        text = float_text(val)
        if re.fullmatch(r"-?\d+", text):
            return int(text)
    return val


# ---------------------------------------------------------------- public


def normalize(value, type_ref: str, dropped: list | None = None, from_json: bool = False):
    """json.Unmarshal(value) into type_ref, then json.Marshal: the JSON value Go prints.

    Raises TypeError (this module's) with Go's message when Go would fail. With `dropped`, the
    JSON paths (field names from the root, no list indexes, as Go's errors name them) of the
    input's fields that type_ref's types do not have are appended to it: Go drops them silently.
    `from_json`: no step 1 (encoding/json alone; a number bound for a string is an error).
    """
    ctx, _YAML_STEP[0] = _Ctx(dropped), not from_json  # (set by every call: no reset needed)
    try:
        model = _decode(value, type_ref, ctx)
    except _Abort as a:
        raise a.err from None
    if ctx.saved is not None:
        raise ctx.saved
    if model is _NOCHANGE:
        model = _zero_model(type_ref, ctx.types)
    return _encode(model, type_ref, ctx.types)


def go_ordered(value, type_ref: str):
    """normalize(), with every struct's keys in Go's field declaration order.

    encoding/json writes struct fields in declaration order and map keys
    sorted; callers that print JSON text (json.dumps without sort_keys) get
    Go's byte order from this.
    """
    return _order(normalize(value, type_ref), type_ref)


def _order(val, tref: str):
    if val is None:
        return None
    r = schema.resolve(tref)
    k = r.kind
    if k == "pointer":
        return _order(val, tref[1:])
    if k == "named":
        return _order(val, r.underlying)
    if k == "slice":
        return [_order(x, tref[2:]) for x in val]
    if k == "map":
        elem = tref[len("map[string]"):]
        return {key: _order(val[key], elem) for key in sorted(val, key=lambda s: s.encode("utf-8"))}
    if k == "interface" or (k == "special" and isinstance(val, dict)):
        return _sort_generic(val)
    if k == "struct" and isinstance(val, dict):
        return {f.json: _order(val[f.json], f.type) for f in schema.struct_fields(tref) if f.json in val}
    return val


def _sort_generic(val):
    if isinstance(val, dict):
        return {k: _sort_generic(val[k]) for k in sorted(val, key=lambda s: s.encode("utf-8"))}
    if isinstance(val, list):
        return [_sort_generic(x) for x in val]
    return val


def zero_json(type_ref: str):
    """What json.Marshal prints for the zero value of type_ref."""
    types = schema.current()
    return _encode(_zero_model(type_ref, types), type_ref, types)


def object_type(api_version: str, kind: str) -> str | None:
    """The Go type istioctl kube-inject decodes an apiVersion/kind into, or None.

    Istio registers its kinds as unversioned types too, so runtime.Scheme.New
    falls back on the kind alone: `batch/v2alpha1 CronJob` decodes into
    batch/v1.CronJob and `v1 DeploymentConfig` into the OpenShift type.
    """
    if not kind:
        return None
    ks = schema.kinds()
    exact = ks.get(f"{api_version}/{kind}")
    if exact:
        return exact
    for key, ref in ks.items():
        if key.rsplit("/", 1)[1] == kind:
            return ref
    return None
