"""PatchMetaFromStruct: the patch strategy, merge key and Go type of each field, read from the
Go type schema (gotypes.schema), as apimachinery reads them from struct tags."""
from __future__ import annotations

from .. import schema as gotypes_schema
from ...gostd.strconv import quote
from .values import RETAIN_KEYS_STRATEGY, PatchError

_BASIC_KINDS = gotypes_schema.BASIC_TYPES | {"complex64", "complex128"}
_BASIC_ALIASES = {"byte": "uint8", "rune": "int32"}

# Sentinel "type" for values we have no Go type for (unknown_fields="merge").
PLAIN = "<plain json>"

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


class PatchMeta:
    """Type references and struct fields as PatchMetaFromStruct sees them, over a TypeSchema
    (the committed one by default; tests pass small hand-written ones)."""

    def __init__(self, types: gotypes_schema.TypeSchema):
        self.types = types
        self.kinds: dict = types.kinds()

    @classmethod
    def from_dict(cls, data: dict) -> "PatchMeta":
        return cls(gotypes_schema.TypeSchema(data))

    # -- type references -------------------------------------------------

    def resolve_top(self, type_ref: str) -> str:
        """Accept a kind key ('v1/Pod') or a Go type reference."""
        return self.kinds.get(type_ref, type_ref)

    def kind(self, ref: str) -> str:
        """reflect.Kind name of a type reference ('struct', 'ptr', 'map', ...)."""
        if ref == PLAIN:
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
        if ref[:1] in ("*", "[") or ref.startswith("map[") or ref == PLAIN:
            return ""
        tail = ref.rsplit("/", 1)[-1]
        return tail.rsplit(".", 1)[-1] if "." in tail else tail

    def _entry(self, name: str) -> dict | None:
        """The "types" entry of a named type, None when unknown."""
        return self.types.type_info(name) if self.types.has_type(name) else None

    def field(self, ref: str, key: str):
        """encoding/json's choice of struct field for JSON key `key` (exact name, else
        case-folded); None when there is none. Special types (Quantity, Time, ...) have no
        fields."""
        entry = self._entry(ref)
        if entry is None:
            raise PatchError(f"type {ref!r} is not in the Go type schema")
        if entry.get("kind") != "struct":
            return None
        return self.types.lookup_json_key(ref, key)


class Lookup:
    """PatchMetaFromStruct over PatchMeta (plus the unknown-field policy)."""

    def __init__(self, meta: PatchMeta, unknown_fields: str):
        self.schema = meta
        self.lenient = unknown_fields == "merge"

    def name(self, ref: str) -> str:
        # PatchMetaFromStruct.Name(): the Kind's name.
        return self.schema.kind(ref)

    def for_struct(self, ref: str, key: str) -> tuple[str, list[str], str]:
        """(field type, patch strategies, merge key) of JSON field `key`."""
        if ref == PLAIN:
            return PLAIN, [""], ""
        sch = self.schema
        try:
            kind = sch.kind(ref)
        except PatchError:
            if self.lenient:
                return PLAIN, [""], ""
            raise
        if kind == "ptr":
            ref = sch.elem(ref)
            kind = sch.kind(ref)
        if kind != "struct":
            if self.lenient:
                if kind == "map":
                    return sch.elem(ref), [""], ""
                return PLAIN, [""], ""
            raise PatchError(
                f"merging an object in json but data type is not struct, instead is: {kind}")
        chosen = sch.field(ref, key)
        if chosen is None:
            if self.lenient:
                return PLAIN, [""], ""
            raise PatchError(
                f"unable to find api field in struct {sch.name(ref)} for the json field {quote(key)}")
        return chosen.type, chosen.patch_strategy.split(","), chosen.patch_merge_key

    def for_slice(self, ref: str, key: str) -> tuple[str, list[str], str]:
        """Like for_struct, but returns the element type of the list field."""
        t, strategies, merge_key = self.for_struct(ref, key)
        if t == PLAIN:
            return PLAIN, strategies, merge_key
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
            return PLAIN, strategies, merge_key
        raise PatchError(f"expected slice or array type, but got: {self.name(ref)}")


def extract_retain_keys_strategy(strategies: list[str]) -> tuple[bool, str]:
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


