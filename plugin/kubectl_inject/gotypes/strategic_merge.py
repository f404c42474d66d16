"""Kubernetes strategic merge patch (apply side), as k8s.io/apimachinery does it.

Istio's injector renders its sidecar template into a partial Pod and applies it
onto the user's Pod with ``strategicpatch.StrategicMergePatch`` (and its YAML
twin ``StrategicMergePatchYAML``) using ``corev1.Pod{}`` as the type that
carries the ``patchStrategy``/``patchMergeKey`` struct tags.  To reproduce
``istioctl kube-inject`` byte for byte we need that function's exact results,
including its element ordering and its quirks, so this module follows the
structure of apimachinery's ``pkg/util/strategicpatch/patch.go`` (apply half:
``mergeMap`` with ``MergeParallelList`` and ``IgnoreUnmatchedNulls`` set).

Public API::

    strategic_merge_patch(original, patch, type_ref, *, schema=None,
                          unknown_fields="error") -> dict
    PatchError
    Schema.from_dict(data) / Schema.load(paths=None)

Values in and out are JSON-compatible Python values (dict, list, str, int,
float, bool, None).  Inputs are never mutated.  The result's dict keys are
sorted at every level, because Go hands the merged ``map[string]interface{}``
to ``json.Marshal`` which writes map keys in sorted order; the returned dict
is therefore what ``json.Unmarshal(StrategicMergePatch(...))`` would give.

Go semantics that matter for results and are emulated on purpose:

* Lists are Go slices.  apimachinery appends to and deletes from slices that
  share a backing array with the slice it later uses as the "server order",
  and the "clever" scalar de-duplication swaps elements in place.  Which of
  those writes are visible depends on slice capacities, so lists are modelled
  as slices with Go's capacities (``encoding/json`` grows decoded arrays by
  ``append``; growth follows Go's ``growslice`` and malloc size classes).
* ``sort.SliceStable`` is called with a "less" function that is not a strict
  weak order (an item missing from the order list is "less" than anything),
  so the result depends on Go's exact stable sort algorithm (insertion sort
  on blocks of 20, then SymMerge); it is reproduced step by step.
* ``==`` on ``interface{}`` values compares dynamic type and value: ``true``
  never equals ``1``; comparing two maps panics in Go, which we raise as a
  ``PatchError`` carrying Go's runtime message.
* Field lookup is that of ``forked/golang/json``: exact JSON name first, then
  the first case-insensitive match; embedded structs are flattened with Go's
  dominance rules.

Numbers: under Istio's YAML path every number is a float64 on both sides, so
ints and floats are treated as one numeric type here (``80 == 80.0``).

Unknown fields: with ``PatchMetaFromStruct`` a JSON key that is not a field
of the Go struct is an error ("unable to find api field in struct ...") as
soon as both documents hold a map or a list under it (values on one side
only, or scalars, need no lookup and are merged as usual).  That is the
default here; ``unknown_fields="merge"`` instead treats such values as
untyped JSON (maps merged key by key, lists replaced).  In Istio's use the
original is a marshalled typed Pod, so it never holds unknown fields.

Slice capacities follow the Go 1.22 runtime (Istio 1.22's toolchain).
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any, Iterable

__all__ = ["PatchError", "Schema", "strategic_merge_patch"]

DIRECTIVE_MARKER = "$patch"
DELETE_DIRECTIVE = "delete"
REPLACE_DIRECTIVE = "replace"
MERGE_DIRECTIVE = "merge"
RETAIN_KEYS_STRATEGY = "retainKeys"
DELETE_FROM_PRIMITIVE_LIST_PREFIX = "$deleteFromPrimitiveList"
RETAIN_KEYS_DIRECTIVE = "$retainKeys"
SET_ELEMENT_ORDER_PREFIX = "$setElementOrder"

# Messages of k8s.io/apimachinery/pkg/util/mergepatch's sentinel errors.
ERR_BAD_JSON_DOC = "invalid JSON document"
ERR_NO_LIST_OF_LISTS = "lists of lists are not supported"
ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST = "invalid patch format of primitive list"
ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS = "invalid patch format of retainKeys"
ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST = "invalid patch format of setElementOrder list"


class PatchError(Exception):
    """An error from the merge; ``str(err)`` is apimachinery's ``err.Error()``.

    Where Go would panic (e.g. comparing two maps with ``==``) the message is
    the Go runtime's panic text and ``go_panic`` is True.
    """

    def __init__(self, message: str, *, go_panic: bool = False):
        super().__init__(message)
        self.go_panic = go_panic


# ---------------------------------------------------------------------------
# Go values: slices with capacity, dynamic types, equality, hashing, fmt %v
# ---------------------------------------------------------------------------

# runtime/sizeclasses.go class sizes (bytes) for small objects.
_SIZE_CLASSES = (
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224,
    240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896,
    1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456,
    4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880,
    12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264,
    28672, 32768,
)
_MAX_SMALL_SIZE = 32768
_MALLOC_HEADER_SIZE = 8
_MIN_SIZE_FOR_MALLOC_HEADER = 512  # goarch.PtrSize * ptrBits
_PAGE_SIZE = 8192
_IFACE_SIZE = 16  # sizeof(interface{}) on 64-bit


def _roundupsize(size: int) -> int:
    """runtime.roundupsize (Go 1.22, pointerful objects carry a malloc header)."""
    req = size
    if req <= _MAX_SMALL_SIZE - _MALLOC_HEADER_SIZE:
        if req > _MIN_SIZE_FOR_MALLOC_HEADER:
            req += _MALLOC_HEADER_SIZE
        for cls in _SIZE_CLASSES:
            if cls >= req:
                return cls - (req - size)
    req = size + _PAGE_SIZE - 1
    return req - (req % _PAGE_SIZE)


def _grow_cap(old_len: int, old_cap: int, new_len: int) -> int:
    """Capacity chosen by runtime.growslice for []interface{}."""
    newcap = old_cap
    doublecap = newcap + newcap
    if new_len > doublecap:
        newcap = new_len
    else:
        threshold = 256
        if old_cap < threshold:
            newcap = doublecap
        else:
            while 0 < newcap < new_len:
                newcap += (newcap + 3 * threshold) >> 2
            if newcap <= 0:
                newcap = new_len
    return _roundupsize(newcap * _IFACE_SIZE) // _IFACE_SIZE


_decoded_cap_cache: dict[int, int] = {0: 0}


def _decoded_cap(n: int) -> int:
    """Capacity of an n-element []interface{} built by encoding/json.

    The decoder starts from make([]any, 0) and appends one element at a time.
    """
    if n in _decoded_cap_cache:
        return _decoded_cap_cache[n]
    length, cap = 0, 0
    while length < n:
        if length + 1 > cap:
            cap = _grow_cap(length, cap, length + 1)
        length += 1
    _decoded_cap_cache[n] = cap
    return cap


class _Slice:
    """A Go slice: a window (off, len, cap) onto a shared backing array."""

    __slots__ = ("arr", "off", "n", "cap")

    def __init__(self, arr: list, off: int, n: int, cap: int):
        self.arr = arr
        self.off = off
        self.n = n
        self.cap = cap

    @classmethod
    def make(cls, items: Iterable[Any] = (), cap: int | None = None) -> "_Slice":
        items = list(items)
        if cap is None or cap < len(items):
            cap = len(items)
        return cls(items + [None] * (cap - len(items)), 0, len(items), cap)

    @classmethod
    def decoded(cls, items: list) -> "_Slice":
        return cls.make(items, _decoded_cap(len(items)))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Any:
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.arr[self.off + i]

    def __setitem__(self, i: int, v: Any) -> None:
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.arr[self.off + i] = v

    def items(self) -> list:
        return self.arr[self.off:self.off + self.n]

    def __iter__(self):
        return iter(self.items())

    def reslice(self, lo: int, hi: int) -> "_Slice":
        if not 0 <= lo <= hi <= self.cap:
            raise IndexError((lo, hi))
        return _Slice(self.arr, self.off + lo, hi - lo, self.cap - lo)

    def append(self, *vals: Any) -> "_Slice":
        # Go's append copies with memmove semantics; `vals` is already a copy.
        new_len = self.n + len(vals)
        if new_len <= self.cap:
            base = self.off + self.n
            for i, v in enumerate(vals):
                self.arr[base + i] = v
            return _Slice(self.arr, self.off, new_len, self.cap)
        new_cap = _grow_cap(self.n, self.cap, new_len)
        return _Slice.make(self.items() + list(vals), new_cap)


_NIL_SLICE_TYPE = "[]interface {}"
_MAP_TYPE = "map[string]interface {}"


def _go_type(v: Any) -> str | None:
    """Name of the dynamic Go type json.Unmarshal would give (None for nil)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (int, float)):
        return "float64"
    if isinstance(v, dict):
        return _MAP_TYPE
    if isinstance(v, _Slice):
        return _NIL_SLICE_TYPE
    raise PatchError(f"unsupported value of Python type {type(v).__name__}")


_GO_KIND_OF_TYPE = {
    "bool": "bool",
    "string": "string",
    "float64": "float64",
    _MAP_TYPE: "map",
    _NIL_SLICE_TYPE: "slice",
}


def _go_eq(a: Any, b: Any) -> bool:
    """Go's == on two interface{} values."""
    ta, tb = _go_type(a), _go_type(b)
    if ta != tb:
        return False
    if ta in (_MAP_TYPE, _NIL_SLICE_TYPE):
        raise PatchError(f"runtime error: comparing uncomparable type {ta}", go_panic=True)
    return a == b


def _hkey(v: Any) -> tuple:
    """Key for a Go map[interface{}]...: dynamic type plus value."""
    t = _go_type(v)
    if t in (_MAP_TYPE, _NIL_SLICE_TYPE):
        raise PatchError(f"runtime error: hash of unhashable type {t}", go_panic=True)
    if t == "float64":
        return (t, float(v))
    return (t, v)


def _fmt_float(f: float) -> str:
    """fmt's %v for a float64: shortest digits; %e form when exp < -4 or >= 6."""
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if str(f).startswith("-") else "0"
    sign, digits, exp10 = Decimal(repr(f)).as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exp10 += 1
    nd = len(digits)
    dp = nd + exp10  # decimal point position after the first `dp` digits
    exp = dp - 1
    s = "-" if sign else ""
    ds = "".join(str(x) for x in digits)
    if exp < -4 or exp >= 6:
        mant = ds[0] + ("." + ds[1:] if nd > 1 else "")
        return f"{s}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if dp <= 0:
        return s + "0." + "0" * (-dp) + ds
    if dp >= nd:
        return s + ds + "0" * (dp - nd)
    return s + ds[:dp] + "." + ds[dp:]


def _fmt_v(v: Any) -> str:
    """fmt's %v for JSON values as Go holds them (map keys printed sorted)."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        # Numbers are float64 in Go here (see the module docstring).
        return _fmt_float(float(v))
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_fmt_v(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, (_Slice, list)):
        return "[" + " ".join(_fmt_v(x) for x in v) + "]"
    return str(v)


def _fmt_s(v: Any) -> str:
    """fmt's %s for an interface{} value."""
    if isinstance(v, str):
        return v
    if v is None:
        return "%!s(<nil>)"
    if isinstance(v, bool):
        return f"%!s(bool={_fmt_v(v)})"
    if isinstance(v, (int, float)):
        return f"%!s(float64={_fmt_v(v)})"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_fmt_s(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, (_Slice, list)):
        return "[" + " ".join(_fmt_s(x) for x in v) + "]"
    return str(v)


def _type_str(v: Any) -> str:
    """%s of reflect.TypeOf(v)."""
    t = _go_type(v)
    return "%!s(<nil>)" if t is None else t


# mergepatch error constructors ------------------------------------------------

def _err_no_merge_key(m: dict, k: str) -> PatchError:
    return PatchError(f"map: {_fmt_v(m)} does not contain declared merge key: {k}")


def _err_bad_arg_type(expected: str, actual: Any) -> PatchError:
    return PatchError(f"expected a {expected}, but received a {_type_str(actual)}")


def _err_bad_patch_type(t: Any, m: dict) -> PatchError:
    return PatchError(f"unknown patch type: {_fmt_s(t)} in map: {_fmt_v(m)}")


# ---------------------------------------------------------------------------
# Go type schema: field metadata lookup (forked/golang/json + PatchMetaFromStruct)
# ---------------------------------------------------------------------------

_BASIC_KINDS = {
    "bool", "string", "int", "int8", "int16", "int32", "int64", "uint", "uint8",
    "uint16", "uint32", "uint64", "uintptr", "float32", "float64", "complex64",
    "complex128",
}
_BASIC_ALIASES = {"byte": "uint8", "rune": "int32"}

# Sentinel "type" for values we have no Go type for (unknown_fields="merge").
_PLAIN = "<plain json>"

_DEFAULT_SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema")


def _split_map_type(ref: str) -> tuple[str, str]:
    """'map[K]V' -> (K, V), honouring nested brackets in K."""
    depth = 0
    for i in range(3, len(ref)):
        c = ref[i]
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return ref[4:i], ref[i + 1:]
    raise PatchError(f"malformed map type reference {ref!r}")


class Schema:
    """Struct field metadata in the shared gotypes schema format.

    ``data`` is ``{"kinds": {...}, "types": {...}}`` as written by
    plugin/tools/gotypes-schema (several files may be merged).
    """

    def __init__(self, data: dict):
        self.kinds: dict = dict(data.get("kinds") or {})
        self.types: dict = dict(data.get("types") or {})
        self._fields_cache: dict[str, list] = {}

    @classmethod
    def from_dict(cls, data: dict) -> "Schema":
        return cls(data)

    @classmethod
    def load(cls, paths: Iterable[str] | None = None) -> "Schema":
        """Merge schema JSON files (default: every *.json in gotypes/schema/)."""
        if paths is None:
            if not os.path.isdir(_DEFAULT_SCHEMA_DIR):
                raise PatchError(f"no Go type schema directory at {_DEFAULT_SCHEMA_DIR}")
            paths = sorted(
                os.path.join(_DEFAULT_SCHEMA_DIR, f)
                for f in os.listdir(_DEFAULT_SCHEMA_DIR) if f.endswith(".json"))
        merged: dict = {"kinds": {}, "types": {}}
        for p in paths:
            with open(p, encoding="utf-8") as fh:
                d = json.load(fh)
            merged["kinds"].update(d.get("kinds") or {})
            merged["types"].update(d.get("types") or {})
        return cls(merged)

    # -- type references -------------------------------------------------

    def resolve_top(self, type_ref: str) -> str:
        """Accept a kind key ('v1/Pod') or a Go type reference."""
        return self.kinds.get(type_ref, type_ref)

    def kind(self, ref: str) -> str:
        """reflect.Kind name of a type reference ('struct', 'ptr', 'map', ...)."""
        if ref == _PLAIN:
            return "interface"
        if ref.startswith("*"):
            return "ptr"
        if ref.startswith("[]"):
            return "slice"
        if ref.startswith("["):
            return "array"
        if ref.startswith("map["):
            return "map"
        if ref in ("interface{}", "any"):
            return "interface"
        ref = _BASIC_ALIASES.get(ref, ref)
        if ref in _BASIC_KINDS:
            return ref
        entry = self._entry(ref)
        if entry is None:
            raise PatchError(f"type {ref!r} is not in the Go type schema")
        k = entry.get("kind")
        if k in ("struct", "special"):
            return "struct"
        if "underlying" in entry:
            return self.kind(entry["underlying"])
        raise PatchError(f"type {ref!r} has no usable kind in the Go type schema")

    def elem(self, ref: str) -> str:
        """reflect.Type.Elem() for pointer, slice, array and map references."""
        if ref.startswith("*"):
            return ref[1:]
        if ref.startswith("[]"):
            return ref[2:]
        if ref.startswith("["):
            return ref[ref.index("]") + 1:]
        if ref.startswith("map["):
            return _split_map_type(ref)[1]
        entry = self._entry(ref)
        if entry and "underlying" in entry:
            return self.elem(entry["underlying"])
        raise PatchError(f"type {ref!r} has no element type")

    @staticmethod
    def name(ref: str) -> str:
        """reflect.Type.Name(): the bare name of a named type, '' otherwise."""
        if ref[:1] in ("*", "[") or ref.startswith("map[") or ref == _PLAIN:
            return ""
        tail = ref.rsplit("/", 1)[-1]
        return tail.rsplit(".", 1)[-1] if "." in tail else tail

    def _entry(self, name: str) -> dict | None:
        """The "types" entry of a named type, None when unknown."""
        return self.types.get(name)

    def _struct_entry(self, ref: str) -> dict:
        entry = self._entry(ref)
        if entry is None:
            raise PatchError(f"type {ref!r} is not in the Go type schema")
        return entry

    def fields(self, ref: str) -> list[tuple[str, dict]]:
        """JSON-visible fields of struct `ref` in Go's byIndex order.

        Embedded ("inline") structs are flattened breadth-first with Go's
        dominance rule (shallowest wins; same-depth duplicates annihilate).
        Special types (Quantity, Time, ...) expose no fields.
        """
        if ref in self._fields_cache:
            return self._fields_cache[ref]
        found: list[tuple[tuple[int, ...], str, dict]] = []
        visited: set[str] = set()
        level: list[tuple[tuple[int, ...], str]] = [((), ref)]
        while level:
            nxt: list[tuple[tuple[int, ...], str]] = []
            for index, tref in level:
                if tref in visited:
                    continue
                visited.add(tref)
                entry = self._struct_entry(tref)
                if entry.get("kind") != "struct":
                    continue
                for i, f in enumerate(entry.get("fields") or []):
                    name = f.get("json")
                    if name == "-":
                        continue
                    if f.get("inline"):
                        ft = f.get("type", "")
                        if ft.startswith("*") and self.name(ft[1:]):
                            ft = ft[1:]
                        if self.kind(ft) == "struct":
                            nxt.append((index + (i,), ft))
                            continue
                    found.append((index + (i,), name or f.get("go", ""), f))
            level = nxt
        by_name: dict[str, list] = {}
        for item in found:
            by_name.setdefault(item[1], []).append(item)
        out = []
        for name, items in by_name.items():
            depth = min(len(it[0]) for it in items)
            top = [it for it in items if len(it[0]) == depth]
            if len(top) == 1:
                out.append(top[0])
        out.sort(key=lambda it: it[0])
        result = [(name, f) for _, name, f in out]
        self._fields_cache[ref] = result
        return result


def _fold(s: str) -> str:
    # Unicode simple case folding, as bytes.EqualFold; the Kelvin sign and
    # long s fold onto ASCII k and s.
    return s.replace("\u212a", "k").replace("\u017f", "s").lower()


class _Lookup:
    """PatchMetaFromStruct over a Schema (plus the unknown-field policy)."""

    def __init__(self, schema: Schema, unknown_fields: str):
        self.schema = schema
        self.lenient = unknown_fields == "merge"

    def name(self, ref: str) -> str:
        # PatchMetaFromStruct.Name(): the Kind's name.
        return self.schema.kind(ref)

    def for_struct(self, ref: str, key: str) -> tuple[str, list[str], str]:
        """(field type, patch strategies, merge key) of JSON field `key`."""
        if ref == _PLAIN:
            return _PLAIN, [""], ""
        sch = self.schema
        try:
            kind = sch.kind(ref)
        except PatchError:
            if self.lenient:
                return _PLAIN, [""], ""
            raise
        if kind == "ptr":
            ref = sch.elem(ref)
            kind = sch.kind(ref)
        if kind != "struct":
            if self.lenient:
                if kind == "map":
                    return sch.elem(ref), [""], ""
                return _PLAIN, [""], ""
            raise PatchError(
                f"merging an object in json but data type is not struct, instead is: {kind}")
        fields = sch.fields(ref)
        chosen = None
        for name, f in fields:
            if name == key:
                chosen = f
                break
        if chosen is None:
            fk = _fold(key)
            for name, f in fields:
                if _fold(name) == fk:
                    chosen = f
                    break
        if chosen is None:
            if self.lenient:
                return _PLAIN, [""], ""
            raise PatchError(
                f"unable to find api field in struct {sch.name(ref)} for the json field {json.dumps(key)}")
        strategies = (chosen.get("patchStrategy") or "").split(",")
        return chosen.get("type", _PLAIN), strategies, chosen.get("patchMergeKey") or ""

    def for_slice(self, ref: str, key: str) -> tuple[str, list[str], str]:
        """Like for_struct, but returns the element type of the list field."""
        t, strategies, merge_key = self.for_struct(ref, key)
        if t == _PLAIN:
            return _PLAIN, strategies, merge_key
        sch = self.schema
        kind = sch.kind(t)
        if kind in ("slice", "array"):
            elem = sch.elem(t)
            if sch.kind(elem) in ("slice", "array"):
                raise PatchError("unexpected slice of slice")
            return elem, strategies, merge_key
        if kind == "ptr":
            t = sch.elem(t)
            if sch.kind(t) in ("slice", "array"):
                t = sch.elem(t)
            return t, strategies, merge_key
        if self.lenient:
            return _PLAIN, strategies, merge_key
        raise PatchError(f"expected slice or array type, but got: {self.name(ref)}")


def _extract_retain_keys_strategy(strategies: list[str]) -> tuple[bool, str]:
    if len(strategies) == 0:
        return False, ""
    if len(strategies) == 1:
        if strategies[0] == RETAIN_KEYS_STRATEGY:
            return True, ""
        return False, strategies[0]
    if len(strategies) == 2:
        if strategies[0] == RETAIN_KEYS_STRATEGY:
            return True, strategies[1]
        if strategies[1] == RETAIN_KEYS_STRATEGY:
            return True, strategies[0]
    raise PatchError(f"unexpected patch strategy: [{' '.join(strategies)}]")


# ---------------------------------------------------------------------------
# Go's sort.SliceStable (insertion sort blocks of 20 + SymMerge)
# ---------------------------------------------------------------------------

def _stable_sort(data: list, less) -> None:
    """In-place sort.SliceStable(data, less(i, j)) with Go's exact steps."""

    def lss(i: int, j: int) -> bool:
        return less(data[i], data[j])

    def swap(i: int, j: int) -> None:
        data[i], data[j] = data[j], data[i]

    def insertion_sort(a: int, b: int) -> None:
        for i in range(a + 1, b):
            j = i
            while j > a and lss(j, j - 1):
                swap(j, j - 1)
                j -= 1

    def swap_range(a: int, b: int, n: int) -> None:
        for i in range(n):
            swap(a + i, b + i)

    def rotate(a: int, m: int, b: int) -> None:
        i = m - a
        j = b - m
        while i != j:
            if i > j:
                swap_range(m - i, m, j)
                i -= j
            else:
                swap_range(m - i, m + j - i, i)
                j -= i
        swap_range(m - i, m, i)

    def sym_merge(a: int, m: int, b: int) -> None:
        if m - a == 1:
            i, j = m, b
            while i < j:
                h = (i + j) >> 1
                if lss(h, a):
                    i = h + 1
                else:
                    j = h
            for k in range(a, i - 1):
                swap(k, k + 1)
            return
        if b - m == 1:
            i, j = a, m
            while i < j:
                h = (i + j) >> 1
                if not lss(m, h):
                    i = h + 1
                else:
                    j = h
            for k in range(m, i, -1):
                swap(k, k - 1)
            return
        mid = (a + b) >> 1
        n = mid + m
        if m > mid:
            start, r = n - b, mid
        else:
            start, r = a, m
        p = n - 1
        while start < r:
            c = (start + r) >> 1
            if not lss(p - c, c):
                start = c + 1
            else:
                r = c
        end = n - start
        if start < m < end:
            rotate(start, m, end)
        if a < start < mid:
            sym_merge(a, start, mid)
        if mid < end < b:
            sym_merge(mid, end, b)

    n = len(data)
    block = 20
    a, b = 0, block
    while b <= n:
        insertion_sort(a, b)
        a = b
        b += block
    insertion_sort(a, n)
    while block < n:
        a, b = 0, 2 * block
        while b <= n:
            sym_merge(a, a + block, b)
            a = b
            b += 2 * block
        m = a + block
        if m < n:
            sym_merge(a, m, n)
        block *= 2


# ---------------------------------------------------------------------------
# The merge (apply half of patch.go)
# ---------------------------------------------------------------------------

class _Merger:
    def __init__(self, lookup: _Lookup):
        self.lk = lookup

    # -- maps ----------------------------------------------------------------

    def merge_map(self, original: dict | None, patch: dict, t: str) -> dict:
        if DIRECTIVE_MARKER in patch:
            return self._directive_in_merge_map(patch[DIRECTIVE_MARKER], patch)
        if original is None:
            original = {}
        self._apply_retain_keys(original, patch)
        self._merge_patch_into_original(original, patch, t)

        for k, pv in list(patch.items()):
            is_delete_list = False
            if k.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX):
                k = _extract_key(k, DELETE_FROM_PRIMITIVE_LIST_PREFIX)
                is_delete_list = True
            if pv is None:
                original.pop(k, None)
                continue
            if k not in original:
                if not is_delete_list:
                    _discard_nulls(pv)
                    original[k] = pv
                continue
            ov = original[k]
            if _go_type(ov) != _go_type(pv):
                if not is_delete_list:
                    _discard_nulls(pv)
                    original[k] = pv
                continue
            if isinstance(ov, dict):
                sub, strategies, _ = self.lk.for_struct(t, k)
                _, strategy = _extract_retain_keys_strategy(strategies)
                original[k] = pv if strategy == REPLACE_DIRECTIVE else self.merge_map(ov, pv, sub)
            elif isinstance(ov, _Slice):
                sub, strategies, merge_key = self.lk.for_slice(t, k)
                _, strategy = _extract_retain_keys_strategy(strategies)
                if strategy == MERGE_DIRECTIVE:
                    original[k] = self.merge_slice(ov, pv, sub, merge_key, is_delete_list)
                else:
                    original[k] = pv
            else:
                original[k] = pv
        return original

    @staticmethod
    def _directive_in_merge_map(directive: Any, patch: dict) -> dict:
        if directive == REPLACE_DIRECTIVE and isinstance(directive, str):
            # The rest of the patch map is taken verbatim (not merged).
            del patch[DIRECTIVE_MARKER]
            return patch
        if directive == DELETE_DIRECTIVE and isinstance(directive, str):
            return {}
        raise _err_bad_patch_type(directive, patch)

    @staticmethod
    def _apply_retain_keys(original: dict, patch: dict) -> None:
        if RETAIN_KEYS_DIRECTIVE not in patch:
            return
        retain = patch.pop(RETAIN_KEYS_DIRECTIVE)
        if not isinstance(retain, _Slice):
            raise PatchError(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
        keep = {_hkey(v) for v in retain}
        for k, v in patch.items():
            if v is None or k.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) \
                    or k.startswith(SET_ELEMENT_ORDER_PREFIX):
                continue
            if ("string", k) not in keep:
                raise PatchError(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
        for k in list(original):
            if ("string", k) not in keep:
                del original[k]

    def _merge_patch_into_original(self, original: dict, patch: dict, t: str) -> None:
        """Handle $setElementOrder/<field> lists together with <field>."""
        for key in list(patch.keys()):
            if key not in patch or not key.startswith(SET_ELEMENT_ORDER_PREFIX):
                continue
            order = patch.pop(key)
            if not isinstance(order, _Slice):
                raise _err_bad_arg_type(_NIL_SLICE_TYPE, order)
            okey = _extract_key(key, SET_ELEMENT_ORDER_PREFIX)
            found_orig = okey in original
            found_patch = okey in patch
            orig_val: _Slice = _Slice.make()
            patch_val: _Slice = _Slice.make()
            if found_orig:
                if not isinstance(original[okey], _Slice):
                    raise _err_bad_arg_type(_NIL_SLICE_TYPE, original[okey])
                orig_val = original[okey]
            if found_patch:
                if not isinstance(patch[okey], _Slice):
                    raise _err_bad_arg_type(_NIL_SLICE_TYPE, patch[okey])
                patch_val = patch[okey]
            sub, strategies, merge_key = self.lk.for_slice(t, okey)
            _, strategy = _extract_retain_keys_strategy(strategies)
            _validate_patch_with_set_order_list(patch_val, order, merge_key)

            if found_orig and not found_patch:
                merged = orig_val
            elif not found_orig and found_patch:
                merged = patch_val
            elif found_orig and found_patch:
                if strategy == MERGE_DIRECTIVE:
                    merged = self.merge_slice(orig_val, patch_val, sub, merge_key, False)
                else:
                    merged = patch_val
            else:
                continue

            if merge_key == "":
                patch_items, server_only = _partition_primitives(merged, order)
            else:
                patch_items, server_only = _partition_maps(merged, order, merge_key)
            kind = _slice_elem_kind(orig_val, patch_val)
            original[okey] = _normalize_element_order(
                patch_items, server_only, order, orig_val, merge_key, kind)
            patch.pop(okey, None)

    # -- lists ---------------------------------------------------------------

    def merge_slice(self, original: _Slice, patch: _Slice, elem_t: str,
                    merge_key: str, is_delete_list: bool) -> _Slice:
        if len(original) == 0 and len(patch) == 0:
            return original
        kind = _slice_elem_kind(original, patch)
        if kind != "map":
            if is_delete_list:
                return _delete_from_slice(original, patch)
            both = original.append(*patch.items())
            merged = _dedupe_scalars(both)
        else:
            if merge_key == "":
                raise PatchError(
                    f"cannot merge lists without merge key for {self.lk.name(elem_t)}")
            original, patch = _merge_slice_special(original, patch, merge_key)
            merged = self._merge_slice_plain(original, patch, merge_key, elem_t)
        if merge_key == "":
            patch_items, server_only = _partition_primitives(merged, patch)
        else:
            patch_items, server_only = _partition_maps(merged, patch, merge_key)
        return _normalize_element_order(patch_items, server_only, patch, original, merge_key, kind)

    def _merge_slice_plain(self, original: _Slice, patch: _Slice, merge_key: str,
                           elem_t: str) -> _Slice:
        for v in patch.items():
            if merge_key not in v:
                raise _err_no_merge_key(v, merge_key)
            found, idx = _find_map(original, merge_key, v[merge_key])
            if found:
                # Merged in place: the slice the caller keeps sees it too.
                original[idx] = self.merge_map(original[idx], v, elem_t)
            else:
                original = original.append(v)
        return original


def _extract_key(s: str, prefix: str) -> str:
    parts = s.split("/", 1)
    if len(parts) <= 1 or parts[0] != prefix:
        if prefix == DELETE_FROM_PRIMITIVE_LIST_PREFIX:
            raise PatchError(ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST)
        if prefix == SET_ELEMENT_ORDER_PREFIX:
            raise PatchError(ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST)
        raise PatchError(f"fail to find unknown prefix {json.dumps(prefix)} in {s}\n")
    return parts[1]


def _discard_nulls(v: Any) -> None:
    """discardNullValuesFromPatch: drop null map values, recursively."""
    if isinstance(v, dict):
        for k in list(v):
            if v[k] is None:
                del v[k]
            else:
                _discard_nulls(v[k])
    elif isinstance(v, _Slice):
        for x in v.items():
            _discard_nulls(x)


def _slice_elem_kind(*slices: _Slice) -> str:
    """sliceElementType(...).Kind(): all elements must share one dynamic type."""
    prev: str | None = None
    seen = False
    for s in slices:
        for v in s.items():
            cur = _go_type(v)
            if not seen:
                seen = True
                prev = cur
                if prev is None:
                    # reflect.TypeOf(nil).Kind() dereferences a nil interface.
                    raise PatchError(
                        "runtime error: invalid memory address or nil pointer dereference",
                        go_panic=True)
                if prev == _NIL_SLICE_TYPE:
                    raise PatchError(ERR_NO_LIST_OF_LISTS)
            elif prev != cur:
                listing = "[" + " ".join(_fmt_v(x) for x in slices) + "]"
                raise PatchError(f"list element types are not identical: {listing}")
    if not seen:
        raise PatchError("no elements in any of the given slices")
    return _GO_KIND_OF_TYPE[prev]


def _find_map(s: _Slice, key: str, value: Any) -> tuple[bool, int]:
    for i, v in enumerate(s.items()):
        if not isinstance(v, dict):
            raise PatchError(f"value for key {i} is not a map")
        if key in v and _go_eq(v[key], value):
            return True, i
    return False, 0


def _delete_matching(original: _Slice, merge_key: str, value: Any) -> _Slice:
    while True:
        found, i = _find_map(original, merge_key, value)
        if not found:
            return original
        # append(original[:i], original[i+1:]...) shifts within the backing array.
        original = original.reslice(0, i).append(*original.reslice(i + 1, len(original)).items())


def _merge_slice_special(original: _Slice, patch: _Slice, merge_key: str) -> tuple[_Slice, _Slice]:
    """Apply `$patch` elements of a merging list of maps."""
    plain = _Slice.make()
    replace = False
    for v in patch.items():
        if DIRECTIVE_MARKER not in v:
            plain = plain.append(v)
            continue
        directive = v[DIRECTIVE_MARKER]
        is_str = isinstance(directive, str)
        if is_str and directive == DELETE_DIRECTIVE:
            if merge_key not in v:
                raise _err_no_merge_key(v, merge_key)
            original = _delete_matching(original, merge_key, v[merge_key])
        elif is_str and directive == REPLACE_DIRECTIVE:
            replace = True  # keep scanning to drop other $patch elements
        elif is_str and directive == MERGE_DIRECTIVE:
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise _err_bad_patch_type(directive, v)
    if replace:
        return plain, _Slice.make()
    return original, plain


def _delete_from_slice(current: _Slice, to_delete: _Slice) -> _Slice:
    drop = {_hkey(v) for v in to_delete}
    kept = [v for v in current if _hkey(v) not in drop]
    return _Slice.make(kept, len(current))


def _dedupe_scalars(s: _Slice) -> _Slice:
    """deduplicateScalars: swap-with-last removal, in place on the backing array."""
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if _go_eq(s[i], s[j]):
                s[j] = s[length]
                s = s.reslice(0, length)
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def _partition_primitives(items: _Slice, by: _Slice) -> tuple[list, list]:
    in_by = {_hkey(v) for v in by}
    patch_items, server_only = [], []
    for v in items:
        (patch_items if _hkey(v) in in_by else server_only).append(v)
    return patch_items, server_only


def _partition_maps(items: _Slice, by: _Slice, merge_key: str) -> tuple[list, list]:
    patch_items, server_only = [], []
    for v in items:
        if not isinstance(v, dict):
            raise _err_bad_arg_type(_MAP_TYPE, v)
        if merge_key not in v:
            raise _err_no_merge_key(v, merge_key)
        found, _ = _find_map(by, merge_key, v[merge_key])
        (patch_items if found else server_only).append(v)
    return patch_items, server_only


def _index(lst, val: Any, merge_key: str, kind: str) -> int:
    if kind == "map":
        def get(item):
            return item.get(merge_key) if isinstance(item, dict) else None
    else:
        def get(item):
            return item
    target = get(val)
    for i, v in enumerate(lst):
        if _go_eq(target, get(v)):
            return i
    return -1


def _validate_merge_key_in_lists(merge_key: str, *lists) -> None:
    for lst in lists:
        for item in lst:
            if not isinstance(item, dict):
                raise _err_bad_arg_type(_MAP_TYPE, item)
            if merge_key not in item:
                raise _err_no_merge_key(item, merge_key)


def _extract_to_delete_items(lst) -> tuple[list, list]:
    non_delete, to_delete = [], []
    for v in lst:
        if not isinstance(v, dict):
            raise _err_bad_arg_type(_MAP_TYPE, v)
        d = v.get(DIRECTIVE_MARKER, None)
        if DIRECTIVE_MARKER in v and isinstance(d, str) and d == DELETE_DIRECTIVE:
            to_delete.append(v)
        else:
            non_delete.append(v)
    return non_delete, to_delete


def _normalize_slice_order(to_sort: list, order, merge_key: str, kind: str) -> list:
    to_delete: list = []
    order_items = order.items() if isinstance(order, _Slice) else list(order)
    if kind == "map":
        _validate_merge_key_in_lists(merge_key, to_sort, order_items)
        to_sort, to_delete = _extract_to_delete_items(to_sort)
    else:
        to_sort = list(to_sort)

    def less(a, b) -> bool:
        ia = _index(order_items, a, merge_key, kind)
        if ia >= 0:
            ib = _index(order_items, b, merge_key, kind)
            if ib >= 0:
                return ia < ib
        return True

    _stable_sort(to_sort, less)
    return to_sort + to_delete


def _merge_sorted_slice(left: list, right: list, server_order: list,
                        merge_key: str, kind: str) -> list:
    """Interleave server-only items (left) into patch items (right)."""

    def less(l, r) -> bool:
        li = _index(server_order, l, merge_key, kind)
        ri = _index(server_order, r, merge_key, kind)
        return li >= 0 and ri >= 0 and li < ri

    out = []
    i = j = 0
    for _ in range(len(left) + len(right)):
        if i >= len(left) and j < len(right):
            out.append(right[j])
            j += 1
        elif j >= len(right) and i < len(left):
            out.append(left[i])
            i += 1
        elif less(left[i], right[j]):
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out


def _normalize_element_order(patch_items: list, server_only: list, patch_order,
                             server_order, merge_key: str, kind: str) -> _Slice:
    patch_items = _normalize_slice_order(patch_items, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    server_items = server_order.items() if isinstance(server_order, _Slice) else list(server_order)
    merged = _merge_sorted_slice(server_only, patch_items, server_items, merge_key, kind)
    return _Slice.make(merged)


def _validate_patch_with_set_order_list(patch_list: _Slice, order: _Slice, merge_key: str) -> None:
    if len(order) == 0 or len(patch_list) == 0:
        return
    if merge_key:
        non_delete, _ = _extract_to_delete_items(patch_list)
    else:
        non_delete = patch_list.items()
    order_items = order.items()
    pi = oi = 0
    while pi < len(non_delete) and oi < len(order_items):
        item = non_delete[pi]
        if isinstance(item, dict) and DIRECTIVE_MARKER in item:
            pi += 1
            continue
        if _merge_key_value_equal(item, order_items[oi], merge_key):
            pi += 1
        oi += 1
    if pi < len(non_delete) and oi >= len(order_items):
        raise PatchError(
            f"The order in patch list:\n{_fmt_v(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER_PREFIX} list:\n{_fmt_v(order)}\n")


def _merge_key_value_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return _go_eq(left, right)
    if not isinstance(left, dict):
        raise _err_bad_arg_type(_MAP_TYPE, left)
    if not isinstance(right, dict):
        raise _err_bad_arg_type(_MAP_TYPE, right)
    if merge_key not in left:
        raise _err_no_merge_key(left, merge_key)
    if merge_key not in right:
        raise _err_no_merge_key(right, merge_key)
    return _go_eq(left[merge_key], right[merge_key])


# ---------------------------------------------------------------------------
# Conversion between plain JSON values and the Go-like model
# ---------------------------------------------------------------------------

def _to_go(v: Any) -> Any:
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise PatchError(ERR_BAD_JSON_DOC)
            out[k] = _to_go(x)
        return out
    if isinstance(v, (list, tuple)):
        return _Slice.decoded([_to_go(x) for x in v])
    if v is None or isinstance(v, (bool, str, int, float)):
        return v
    raise PatchError(ERR_BAD_JSON_DOC)


def _from_go(v: Any) -> Any:
    if isinstance(v, dict):
        # json.Marshal writes map keys sorted.
        return {k: _from_go(v[k]) for k in sorted(v)}
    if isinstance(v, _Slice):
        return [_from_go(x) for x in v.items()]
    return v


class _GotypesSchema(Schema):
    """The committed schema, read through gotypes.schema (helper "gotypes").

    Field flattening (embedded structs, dominance, tagged fields) is taken
    from gotypes.schema.struct_fields so that every module agrees on which
    Go field a JSON key means.
    """

    def __init__(self, gs):
        super().__init__({"kinds": gs.kinds()})
        self._gs = gs

    def _entry(self, name: str) -> dict | None:
        return self._gs.type_info(name) if self._gs.has_type(name) else None

    def fields(self, ref: str) -> list[tuple[str, dict]]:
        if ref in self._fields_cache:
            return self._fields_cache[ref]
        entry = self._struct_entry(ref)
        out: list[tuple[str, dict]] = []
        if entry.get("kind") == "struct":
            for fi in self._gs.struct_fields(ref):
                out.append((fi.json, {"type": fi.type, "patchStrategy": fi.patch_strategy,
                                      "patchMergeKey": fi.patch_merge_key}))
        self._fields_cache[ref] = out
        return out


_default_schema: Schema | None = None


def _get_default_schema() -> Schema:
    global _default_schema
    if _default_schema is None:
        try:
            from . import schema as gotypes_schema
        except ImportError:  # gotypes.schema not available: read the files ourselves
            _default_schema = Schema.load()
        else:
            _default_schema = _GotypesSchema(gotypes_schema)
    return _default_schema


def strategic_merge_patch(original: dict | None, patch: dict | None, type_ref: str, *,
                          schema: Schema | dict | None = None,
                          unknown_fields: str = "error") -> dict:
    """Apply strategic merge `patch` to `original` for Go type `type_ref`.

    `type_ref` is a Go type reference ("k8s.io/api/core/v1.Pod") or a kind
    key of the schema ("v1/Pod").  `schema` is a Schema, a dict in the
    gotypes schema format, or None for the committed schema (through
    gotypes.schema).

    `unknown_fields`: "error" (apimachinery: a JSON field that is not in the
    Go struct is an error when both sides hold a map or list there) or
    "merge" (treat it as untyped JSON: maps merged, lists replaced).

    Raises PatchError with apimachinery's error text.
    """
    if unknown_fields not in ("error", "merge"):
        raise ValueError("unknown_fields must be 'error' or 'merge'")
    if schema is None:
        sch = _get_default_schema()
    elif isinstance(schema, Schema):
        sch = schema
    else:
        sch = Schema.from_dict(schema)
    ref = sch.resolve_top(type_ref)
    kind = sch.kind(ref)
    if kind == "ptr":
        ref = sch.elem(ref)
        kind = sch.kind(ref)
    if kind != "struct":
        raise PatchError(f"expected a struct, but received a {kind}")

    # handleUnmarshal: a nil document is "{}"; anything but an object is invalid.
    if original is None:
        original = {}
    if patch is None:
        patch = {}
    if not isinstance(original, dict) or not isinstance(patch, dict):
        raise PatchError(ERR_BAD_JSON_DOC)
    go_original = _to_go(original)
    go_patch = _to_go(patch)
    merger = _Merger(_Lookup(sch, unknown_fields))
    result = merger.merge_map(go_original, go_patch, ref)
    return _from_go(result)
