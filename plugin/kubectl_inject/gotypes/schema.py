"""The Go type schema: what Go's typed Kubernetes and Istio objects look like.

The data comes from plugin/tools/gotypes-schema (a Go program that reflects
over the real types; see its README) and lives in schema/k8s.json and
schema/mesh.json. Both files are loaded together, lazily, once per process.

Type references are strings: basic Go types ("string", "bool", "int32",
"int64", "float64", "[]byte", "interface{}", ...), "*T", "[]T",
"map[string]T", or a named type "pkgpath.Name" with an entry in "types".
Named type entries have a "kind":
  struct   "fields": list of fields in Go declaration order; each has "go",
           "json", "omitempty", "inline" (embedded struct whose fields are
           promoted), "type", "patchStrategy", "patchMergeKey", and for
           protobuf messages "proto" (field name) and maybe "oneof" (Go name
           of the oneof group); protobuf structs also carry "proto" (message
           full name) and use the protobuf JSON (lowerCamel) name as "json".
  basic    named basic type; "underlying" is the basic type ("string", ...).
  enum     protobuf enum; "underlying" "int32", "values" {number: name}.
  named    named map/slice type; "underlying" is the equivalent type ref.
  special  JSON form is hand-written Go code (Quantity, IntOrString, Time,
           MicroTime, RawExtension, FieldsV1, durationpb, timestamppb,
           wrapperspb.*, structpb.*); see typed.py and views.py.
Every named type may list "methods": exported no-argument methods of *T.

API for strategic merge (helper "smp") and everyone else:

  field_info(type_ref, json_name) -> FieldInfo | None
      The field of the struct type_ref (pointers and named types are looked
      through; inline embedded fields are searched too) whose JSON name is
      json_name, exactly as encoding/json chooses it. FieldInfo has .go,
      .json, .type (a type ref), .patch_strategy, .patch_merge_key,
      .omitempty, .oneof, .proto. None when the struct has no such field.
  field_by_go_name(type_ref, go_name) -> FieldInfo | None   (same, by Go name)
  resolve(type_ref) -> TypeRef     the reference decoded: .kind is one of
      "basic", "pointer", "slice", "map", "bytes", "interface", "struct",
      "enum", "special", "named"; .elem (TypeRef) for pointer/slice/map;
      .name and .info (the "types" entry) for named types; .underlying.
  unwrap(type_ref) -> str          follows named map/slice types to the
      underlying ref ("k8s.io/api/core/v1.ResourceList" ->
      "map[string]k8s.io/apimachinery/pkg/api/resource.Quantity").
  type_info(name) -> dict          the raw "types" entry (KeyError if none).
  struct_fields(type_ref) -> list[FieldInfo]   flattened JSON-visible fields.
  kinds() -> dict                  {"apiVersion/Kind": type name}.
  modules() -> dict                module versions the schema describes.
  go_type_string(type_ref) -> str  how reflect prints the type ("[]v1.Container").
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
import functools
import json
import os
import threading

__all__ = [
    "FieldInfo",
    "TypeRef",
    "field_info",
    "field_by_go_name",
    "resolve",
    "unwrap",
    "type_info",
    "has_type",
    "struct_fields",
    "kinds",
    "modules",
    "go_type_string",
    "BASIC_TYPES",
]

_SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema")
_FILES = ("k8s.json", "mesh.json")

BASIC_TYPES = frozenset(
    {
        "string", "bool", "int", "int8", "int16", "int32", "int64",
        "uint", "uint8", "uint16", "uint32", "uint64", "uintptr",
        "float32", "float64",
    }
)

_lock = threading.Lock()
_data: dict | None = None


def _load() -> dict:
    global _data
    if _data is None:
        with _lock:
            if _data is None:
                merged = {"types": {}, "kinds": {}, "modules": {}}
                for name in _FILES:
                    with open(os.path.join(_SCHEMA_DIR, name), encoding="utf-8") as f:
                        d = json.load(f)
                    merged["types"].update(d.get("types", {}))
                    merged["kinds"].update(d.get("kinds", {}))
                    merged["modules"].update(d.get("modules", {}))
                _data = merged
    return _data


def kinds() -> dict:
    return _load()["kinds"]


def modules() -> dict:
    return _load()["modules"]


def type_info(name: str) -> dict:
    return _load()["types"][name]


def has_type(name: str) -> bool:
    return name in _load()["types"]


@dataclass(frozen=True)
class FieldInfo:
    go: str
    json: str
    type: str
    omitempty: bool = False
    inline: bool = False
    patch_strategy: str = ""
    patch_merge_key: str = ""
    oneof: str = ""
    proto: str = ""
    # Go names from the outer struct down to this field (more than one
    # element when the field is promoted from an embedded struct).
    path: tuple = dc_field(default=())
    tagged: bool = True


@dataclass(frozen=True)
class TypeRef:
    ref: str
    kind: str
    elem: "TypeRef | None" = None
    name: str = ""
    info: dict | None = None
    underlying: str = ""


@functools.lru_cache(maxsize=None)
def resolve(type_ref: str) -> TypeRef:
    if type_ref.startswith("*"):
        return TypeRef(type_ref, "pointer", elem=resolve(type_ref[1:]))
    if type_ref == "[]byte":
        return TypeRef(type_ref, "bytes")
    if type_ref.startswith("[]"):
        return TypeRef(type_ref, "slice", elem=resolve(type_ref[2:]))
    if type_ref.startswith("map[string]"):
        return TypeRef(type_ref, "map", elem=resolve(type_ref[len("map[string]"):]))
    if type_ref in ("interface{}", "any"):
        return TypeRef(type_ref, "interface")
    if type_ref in BASIC_TYPES:
        return TypeRef(type_ref, "basic", underlying=type_ref)
    info = type_info(type_ref)
    return TypeRef(type_ref, info["kind"], name=type_ref, info=info, underlying=info.get("underlying", ""))


def unwrap(type_ref: str) -> str:
    """Follow named map/slice types to their underlying type ref."""
    seen = 0
    while True:
        r = resolve(type_ref)
        if r.kind != "named":
            return type_ref
        type_ref = r.underlying
        seen += 1
        if seen > 20:
            raise ValueError("named type cycle at " + type_ref)


def _struct_name(type_ref: str) -> str | None:
    """The struct type behind type_ref, looking through pointers."""
    while type_ref.startswith("*"):
        type_ref = type_ref[1:]
    r = resolve(type_ref)
    if r.kind == "struct":
        return r.name
    return None


@functools.lru_cache(maxsize=None)
def _flattened(struct_name: str) -> tuple:
    """encoding/json's typeFields: the visible fields with embedded ones promoted.

    Fields of embedded structs are promoted unless a shallower field has the
    same JSON name; at equal depth a tagged field beats an untagged one, and
    a remaining tie hides all of them.
    """
    candidates = []  # (depth, index_path, FieldInfo)

    def walk(name: str, depth: int, prefix: tuple, index_prefix: tuple, visited: frozenset):
        info = type_info(name)
        for i, f in enumerate(info.get("fields", [])):
            if f.get("inline"):
                inner = _struct_name(f["type"])
                if inner is not None and inner not in visited:
                    walk(inner, depth + 1, prefix + (f["go"],), index_prefix + (i,), visited | {inner})
                continue
            fi = FieldInfo(
                go=f["go"],
                json=f["json"],
                type=f["type"],
                omitempty=bool(f.get("omitempty")),
                inline=False,
                patch_strategy=f.get("patchStrategy", ""),
                patch_merge_key=f.get("patchMergeKey", ""),
                oneof=f.get("oneof", ""),
                proto=f.get("proto", ""),
                path=prefix + (f["go"],),
                tagged=f["json"] != f["go"] or bool(f.get("proto")),
            )
            candidates.append((depth, index_prefix + (i,), fi))

    walk(struct_name, 0, (), (), frozenset({struct_name}))
    by_name: dict[str, list] = {}
    for c in candidates:
        by_name.setdefault(c[2].json, []).append(c)
    chosen = []
    for name, cs in by_name.items():
        mind = min(c[0] for c in cs)
        top = [c for c in cs if c[0] == mind]
        if len(top) > 1:
            tagged = [c for c in top if c[2].tagged]
            if len(tagged) != 1:
                continue
            top = tagged
        chosen.append(top[0])
    chosen.sort(key=lambda c: c[1])
    return tuple(c[2] for c in chosen)


def struct_fields(type_ref: str) -> list:
    name = _struct_name(type_ref)
    if name is None:
        raise ValueError(f"{type_ref} is not a struct type")
    return list(_flattened(name))


@functools.lru_cache(maxsize=None)
def _by_json(struct_name: str) -> dict:
    return {f.json: f for f in _flattened(struct_name)}


@functools.lru_cache(maxsize=None)
def _by_go(struct_name: str) -> dict:
    out = {}
    # Go field access in templates: a field of the struct itself first,
    # then promoted ones (shallowest first).
    for f in type_info(struct_name).get("fields", []):
        out.setdefault(f["go"], None)
    for f in sorted(_all_fields(struct_name), key=lambda f: len(f.path)):
        if out.get(f.go) is None:
            out[f.go] = f
    return out


def _all_fields(struct_name: str) -> list:
    res = []

    def walk(name, prefix, visited):
        for f in type_info(name).get("fields", []):
            fi = FieldInfo(
                go=f["go"], json=f["json"], type=f["type"], omitempty=bool(f.get("omitempty")),
                inline=bool(f.get("inline")), patch_strategy=f.get("patchStrategy", ""),
                patch_merge_key=f.get("patchMergeKey", ""), oneof=f.get("oneof", ""),
                proto=f.get("proto", ""), path=prefix + (f["go"],),
            )
            res.append(fi)
            if f.get("inline"):
                inner = _struct_name(f["type"])
                if inner is not None and inner not in visited:
                    walk(inner, prefix + (f["go"],), visited | {inner})

    walk(struct_name, (), frozenset({struct_name}))
    return res


def field_info(type_ref: str, json_name: str) -> FieldInfo | None:
    """The field of struct type_ref that encoding/json maps json_name to (exact name)."""
    name = _struct_name(type_ref)
    if name is None:
        return None
    return _by_json(name).get(json_name)


def field_by_go_name(type_ref: str, go_name: str) -> FieldInfo | None:
    name = _struct_name(type_ref)
    if name is None:
        return None
    return _by_go(name).get(go_name)


def lookup_json_key(struct_name: str, key: str) -> FieldInfo | None:
    """encoding/json's key matching: exact JSON name first, else case-insensitive."""
    exact = _by_json(struct_name).get(key)
    if exact is not None:
        return exact
    return _by_fold(struct_name).get(_fold(key))


def _fold(s: str) -> str:
    # encoding/json folds ASCII case plus the Kelvin sign and long s
    return s.replace("\u212a", "k").replace("\u017f", "s").lower()


@functools.lru_cache(maxsize=None)
def _by_fold(struct_name: str) -> dict:
    out = {}
    for f in _flattened(struct_name):
        out.setdefault(_fold(f.json), f)
    return out


@functools.lru_cache(maxsize=None)
def go_type_string(type_ref: str) -> str:
    """reflect.Type.String() for the type: package *name* (last path element) and type name."""
    r = resolve(type_ref)
    if r.kind == "pointer":
        return "*" + go_type_string(type_ref[1:])
    if r.kind == "bytes":
        return "[]uint8"
    if r.kind == "slice":
        return "[]" + go_type_string(type_ref[2:])
    if r.kind == "map":
        return "map[string]" + go_type_string(type_ref[len("map[string]"):])
    if r.kind == "interface":
        return "interface {}"
    if r.kind == "basic" and not r.name:
        return type_ref
    pkg, _, tname = type_ref.rpartition(".")
    return pkg.rsplit("/", 1)[-1] + "." + tname


def short_name(type_ref: str) -> str:
    """reflect.Type.Name(): the bare type name of a named type."""
    return type_ref.rpartition(".")[2]
