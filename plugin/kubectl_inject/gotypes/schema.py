"""The Go type schema: what Go's typed Kubernetes and Istio objects look like.

The data comes from plugin/tools/gotypes-schema (a Go program that reflects
over the real types; see its README) and lives in schema/k8s.json and
schema/mesh.json. This module is the one reader of those files: they are loaded
together, lazily, once per process, into the default :class:`TypeSchema`; a
TypeSchema can also be built from a dict in the same format (tests use tiny
hand-written ones). The module-level functions below act on the default.

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

API (methods of TypeSchema, and module functions on the default schema):

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
    "TypeSchema", "default", "FieldInfo", "TypeRef", "BASIC_TYPES",
    "field_info", "field_by_go_name", "lookup_json_key", "resolve", "unwrap", "type_info",
    "has_type", "struct_fields", "kinds", "modules", "go_type_string", "short_name",
]

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema")
SCHEMA_FILES = ("k8s.json", "mesh.json")

BASIC_TYPES = frozenset(
    {
        "string", "bool", "int", "int8", "int16", "int32", "int64",
        "uint", "uint8", "uint16", "uint32", "uint64", "uintptr",
        "float32", "float64",
    }
)


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


def _field(f: dict, path: tuple, inline: bool) -> FieldInfo:
    return FieldInfo(
        go=f["go"], json=f["json"], type=f["type"], omitempty=bool(f.get("omitempty")),
        inline=inline, patch_strategy=f.get("patchStrategy", ""),
        patch_merge_key=f.get("patchMergeKey", ""), oneof=f.get("oneof", ""),
        proto=f.get("proto", ""), path=path,
        tagged=f["json"] != f["go"] or bool(f.get("proto")),
    )


def _fold(s: str) -> str:
    # encoding/json folds ASCII case plus the Kelvin sign and long s
    return s.replace("\u212a", "k").replace("\u017f", "s").lower()


class TypeSchema:
    """Go types in the gotypes format: ``{"types": {...}, "kinds": {...}, "modules": {...}}``."""

    def __init__(self, data: dict):
        self._types: dict = dict(data.get("types") or {})
        self._kinds: dict = dict(data.get("kinds") or {})
        self._modules: dict = dict(data.get("modules") or {})
        # The schema never changes: memoize the hot one-argument look-ups per instance
        # (functools' C cache; the typed round trip calls resolve for every value).
        for name in ("resolve", "flattened", "_by_json", "_by_go", "_by_fold", "go_type_string"):
            setattr(self, name, functools.lru_cache(maxsize=None)(getattr(self, name)))

    @classmethod
    def from_files(cls, paths) -> "TypeSchema":
        merged = {"types": {}, "kinds": {}, "modules": {}}
        for path in paths:
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
            for key in merged:
                merged[key].update(d.get(key, {}))
        return cls(merged)

    def kinds(self) -> dict:
        return self._kinds

    def modules(self) -> dict:
        return self._modules

    def type_info(self, name: str) -> dict:
        return self._types[name]

    def has_type(self, name: str) -> bool:
        return name in self._types

    def resolve(self, type_ref: str) -> TypeRef:
        if type_ref.startswith("*"):
            return TypeRef(type_ref, "pointer", elem=self.resolve(type_ref[1:]))
        if type_ref == "[]byte":
            return TypeRef(type_ref, "bytes")
        if type_ref.startswith("[]"):
            return TypeRef(type_ref, "slice", elem=self.resolve(type_ref[2:]))
        if type_ref.startswith("map[string]"):
            return TypeRef(type_ref, "map", elem=self.resolve(type_ref[len("map[string]"):]))
        if type_ref in ("interface{}", "any"):
            return TypeRef(type_ref, "interface")
        if type_ref in BASIC_TYPES:
            return TypeRef(type_ref, "basic", underlying=type_ref)
        info = self.type_info(type_ref)
        return TypeRef(type_ref, info["kind"], name=type_ref, info=info,
                       underlying=info.get("underlying", ""))

    def unwrap(self, type_ref: str) -> str:
        """Follow named map/slice types to their underlying type ref."""
        seen = 0
        while True:
            r = self.resolve(type_ref)
            if r.kind != "named":
                return type_ref
            type_ref = r.underlying
            seen += 1
            if seen > 20:
                raise ValueError("named type cycle at " + type_ref)

    def struct_name(self, type_ref: str) -> str | None:
        """The struct type behind type_ref, looking through pointers."""
        while type_ref.startswith("*"):
            type_ref = type_ref[1:]
        r = self.resolve(type_ref)
        if r.kind == "struct":
            return r.name
        return None

    def flattened(self, struct_name: str) -> tuple:
        """encoding/json's typeFields: the visible fields with embedded ones promoted.

        Fields of embedded structs are promoted unless a shallower field has the
        same JSON name; at equal depth a tagged field beats an untagged one, and
        a remaining tie hides all of them.
        """
        candidates = []  # (depth, index_path, FieldInfo)

        def walk(name: str, depth: int, prefix: tuple, index_prefix: tuple, visited: frozenset):
            for i, f in enumerate(self.type_info(name).get("fields", [])):
                if f.get("inline"):
                    inner = self.struct_name(f["type"])
                    if inner is not None and inner not in visited:
                        walk(inner, depth + 1, prefix + (f["go"],), index_prefix + (i,),
                             visited | {inner})
                    continue
                candidates.append((depth, index_prefix + (i,), _field(f, prefix + (f["go"],), False)))

        walk(struct_name, 0, (), (), frozenset({struct_name}))
        by_name: dict[str, list] = {}
        for c in candidates:
            by_name.setdefault(c[2].json, []).append(c)
        chosen = []
        for cs in by_name.values():
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

    def struct_fields(self, type_ref: str) -> list:
        name = self.struct_name(type_ref)
        if name is None:
            raise ValueError(f"{type_ref} is not a struct type")
        return list(self.flattened(name))

    def _by_json(self, struct_name: str) -> dict:
        return {f.json: f for f in self.flattened(struct_name)}

    def _by_go(self, struct_name: str) -> dict:
        out = {}
        # Go field access in templates: a field of the struct itself first,
        # then promoted ones (shallowest first).
        for f in self.type_info(struct_name).get("fields", []):
            out.setdefault(f["go"], None)
        for f in sorted(self._all_fields(struct_name), key=lambda f: len(f.path)):
            if out.get(f.go) is None:
                out[f.go] = f
        return out

    def _by_fold(self, struct_name: str) -> dict:
        out = {}
        for f in self.flattened(struct_name):
            out.setdefault(_fold(f.json), f)
        return out

    def _all_fields(self, struct_name: str) -> list:
        res = []

        def walk(name, prefix, visited):
            for f in self.type_info(name).get("fields", []):
                res.append(_field(f, prefix + (f["go"],), bool(f.get("inline"))))
                if f.get("inline"):
                    inner = self.struct_name(f["type"])
                    if inner is not None and inner not in visited:
                        walk(inner, prefix + (f["go"],), visited | {inner})

        walk(struct_name, (), frozenset({struct_name}))
        return res

    def field_info(self, type_ref: str, json_name: str) -> FieldInfo | None:
        """The field of struct type_ref that encoding/json maps json_name to (exact name)."""
        name = self.struct_name(type_ref)
        if name is None:
            return None
        return self._by_json(name).get(json_name)

    def field_by_go_name(self, type_ref: str, go_name: str) -> FieldInfo | None:
        name = self.struct_name(type_ref)
        if name is None:
            return None
        return self._by_go(name).get(go_name)

    def lookup_json_key(self, struct_name: str, key: str) -> FieldInfo | None:
        """encoding/json's key matching: exact JSON name first, else case-insensitive."""
        exact = self._by_json(struct_name).get(key)
        if exact is not None:
            return exact
        return self._by_fold(struct_name).get(_fold(key))

    def go_type_string(self, type_ref: str) -> str:
        """reflect.Type.String(): package *name* (last path element) and type name."""
        r = self.resolve(type_ref)
        if r.kind == "pointer":
            return "*" + self.go_type_string(type_ref[1:])
        if r.kind == "bytes":
            return "[]uint8"
        if r.kind == "slice":
            return "[]" + self.go_type_string(type_ref[2:])
        if r.kind == "map":
            return "map[string]" + self.go_type_string(type_ref[len("map[string]"):])
        if r.kind == "interface":
            return "interface {}"
        if r.kind == "basic" and not r.name:
            return type_ref
        pkg, _, tname = type_ref.rpartition(".")
        return pkg.rsplit("/", 1)[-1] + "." + tname


def short_name(type_ref: str) -> str:
    """reflect.Type.Name(): the bare type name of a named type."""
    return type_ref.rpartition(".")[2]


_lock = threading.Lock()
_default: TypeSchema | None = None


def default() -> TypeSchema:
    """The committed schema (schema/*.json), read once per process on first use."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = TypeSchema.from_files(os.path.join(SCHEMA_DIR, n) for n in SCHEMA_FILES)
    return _default


# The default schema's methods as module functions: most callers have one schema.
def kinds() -> dict:
    return (_default or default()).kinds()


def modules() -> dict:
    return (_default or default()).modules()


def type_info(name: str) -> dict:
    return (_default or default()).type_info(name)


def has_type(name: str) -> bool:
    return (_default or default()).has_type(name)


def resolve(type_ref: str) -> TypeRef:
    return (_default or default()).resolve(type_ref)


def unwrap(type_ref: str) -> str:
    return (_default or default()).unwrap(type_ref)


def struct_fields(type_ref: str) -> list:
    return (_default or default()).struct_fields(type_ref)


def field_info(type_ref: str, json_name: str) -> FieldInfo | None:
    return (_default or default()).field_info(type_ref, json_name)


def field_by_go_name(type_ref: str, go_name: str) -> FieldInfo | None:
    return (_default or default()).field_by_go_name(type_ref, go_name)


def lookup_json_key(struct_name: str, key: str) -> FieldInfo | None:
    return (_default or default()).lookup_json_key(struct_name, key)


def go_type_string(type_ref: str) -> str:
    return (_default or default()).go_type_string(type_ref)
