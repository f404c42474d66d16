"""The apply half of apimachinery's pkg/util/strategicpatch/patch.go: mergeMap, mergeSlice and
the element-order normalization, with Go's slice aliasing reproduced (gostd.slices)."""
from __future__ import annotations

TYPE_CHECKING = False  # typing's names for annotations only: importing it costs start-up time
if TYPE_CHECKING:
    from typing import Any

from ...gostd.slices import Slice
from ...gostd.sort import slice_stable
from ...gostd.strconv import quote
from .. import schema as gotypes_schema
from .meta import Lookup, PatchMeta, extract_retain_keys_strategy
from .values import (DELETE_DIRECTIVE, DELETE_FROM_PRIMITIVE_LIST_PREFIX, DIRECTIVE_MARKER,
                     ERR_BAD_JSON_DOC, ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST,
                     ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS,
                     ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST, ERR_NO_LIST_OF_LISTS,
                     GO_KIND_OF_TYPE, MAP_TYPE, MERGE_DIRECTIVE, REPLACE_DIRECTIVE,
                     RETAIN_KEYS_DIRECTIVE, SET_ELEMENT_ORDER_PREFIX, SLICE_TYPE, PatchError,
                     err_bad_arg_type, err_bad_patch_type, err_no_merge_key, fmt_v, go_eq,
                     go_type, hkey)

class _Merger:
    def __init__(self, lookup: Lookup):
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
            if go_type(ov) != go_type(pv):
                if not is_delete_list:
                    _discard_nulls(pv)
                    original[k] = pv
                continue
            if isinstance(ov, dict):
                sub, strategies, _ = self.lk.for_struct(t, k)
                _, strategy = extract_retain_keys_strategy(strategies)
                original[k] = pv if strategy == REPLACE_DIRECTIVE else self.merge_map(ov, pv, sub)
            elif isinstance(ov, Slice):
                sub, strategies, merge_key = self.lk.for_slice(t, k)
                _, strategy = extract_retain_keys_strategy(strategies)
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
        raise err_bad_patch_type(directive, patch)

    @staticmethod
    def _apply_retain_keys(original: dict, patch: dict) -> None:
        if RETAIN_KEYS_DIRECTIVE not in patch:
            return
        retain = patch.pop(RETAIN_KEYS_DIRECTIVE)
        if not isinstance(retain, Slice):
            raise PatchError(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
        keep = {hkey(v) for v in retain}
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
            if not isinstance(order, Slice):
                raise err_bad_arg_type(SLICE_TYPE, order)
            okey = _extract_key(key, SET_ELEMENT_ORDER_PREFIX)
            found_orig = okey in original
            found_patch = okey in patch
            orig_val: Slice = Slice.make()
            patch_val: Slice = Slice.make()
            if found_orig:
                if not isinstance(original[okey], Slice):
                    raise err_bad_arg_type(SLICE_TYPE, original[okey])
                orig_val = original[okey]
            if found_patch:
                if not isinstance(patch[okey], Slice):
                    raise err_bad_arg_type(SLICE_TYPE, patch[okey])
                patch_val = patch[okey]
            sub, strategies, merge_key = self.lk.for_slice(t, okey)
            _, strategy = extract_retain_keys_strategy(strategies)
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

    def merge_slice(self, original: Slice, patch: Slice, elem_t: str,
                    merge_key: str, is_delete_list: bool) -> Slice:
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

    def _merge_slice_plain(self, original: Slice, patch: Slice, merge_key: str,
                           elem_t: str) -> Slice:
        for v in patch.items():
            if merge_key not in v:
                raise err_no_merge_key(v, merge_key)
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
        raise PatchError(f"fail to find unknown prefix {quote(prefix)} in {s}\n")
    return parts[1]


def _discard_nulls(v: Any) -> None:
    """discardNullValuesFromPatch: drop null map values, recursively."""
    if isinstance(v, dict):
        for k in list(v):
            if v[k] is None:
                del v[k]
            else:
                _discard_nulls(v[k])
    elif isinstance(v, Slice):
        for x in v.items():
            _discard_nulls(x)


def _slice_elem_kind(*slices: Slice) -> str:
    """sliceElementType(...).Kind(): all elements must share one dynamic type."""
    prev: str | None = None
    seen = False
    for s in slices:
        for v in s.items():
            cur = go_type(v)
            if not seen:
                seen = True
                prev = cur
                if prev is None:
                    # reflect.TypeOf(nil).Kind() dereferences a nil interface.
                    raise PatchError(
                        "runtime error: invalid memory address or nil pointer dereference",
                        go_panic=True)
                if prev == SLICE_TYPE:
                    raise PatchError(ERR_NO_LIST_OF_LISTS)
            elif prev != cur:
                listing = "[" + " ".join(fmt_v(x) for x in slices) + "]"
                raise PatchError(f"list element types are not identical: {listing}")
    if not seen:
        raise PatchError("no elements in any of the given slices")
    return GO_KIND_OF_TYPE[prev]


def _find_map(s: Slice, key: str, value: Any) -> tuple[bool, int]:
    for i, v in enumerate(s.items()):
        if not isinstance(v, dict):
            raise PatchError(f"value for key {i} is not a map")
        if key in v and go_eq(v[key], value):
            return True, i
    return False, 0


def _delete_matching(original: Slice, merge_key: str, value: Any) -> Slice:
    while True:
        found, i = _find_map(original, merge_key, value)
        if not found:
            return original
        # append(original[:i], original[i+1:]...) shifts within the backing array.
        original = original.reslice(0, i).append(*original.reslice(i + 1, len(original)).items())


def _merge_slice_special(original: Slice, patch: Slice, merge_key: str) -> tuple[Slice, Slice]:
    """Apply `$patch` elements of a merging list of maps."""
    plain = Slice.make()
    replace = False
    for v in patch.items():
        if DIRECTIVE_MARKER not in v:
            plain = plain.append(v)
            continue
        directive = v[DIRECTIVE_MARKER]
        is_str = isinstance(directive, str)
        if is_str and directive == DELETE_DIRECTIVE:
            if merge_key not in v:
                raise err_no_merge_key(v, merge_key)
            original = _delete_matching(original, merge_key, v[merge_key])
        elif is_str and directive == REPLACE_DIRECTIVE:
            replace = True  # keep scanning to drop other $patch elements
        elif is_str and directive == MERGE_DIRECTIVE:
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise err_bad_patch_type(directive, v)
    if replace:
        return plain, Slice.make()
    return original, plain


def _delete_from_slice(current: Slice, to_delete: Slice) -> Slice:
    drop = {hkey(v) for v in to_delete}
    kept = [v for v in current if hkey(v) not in drop]
    return Slice.make(kept, len(current))


def _dedupe_scalars(s: Slice) -> Slice:
    """deduplicateScalars: swap-with-last removal, in place on the backing array."""
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if go_eq(s[i], s[j]):
                s[j] = s[length]
                s = s.reslice(0, length)
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def _partition_primitives(items: Slice, by: Slice) -> tuple[list, list]:
    in_by = {hkey(v) for v in by}
    patch_items, server_only = [], []
    for v in items:
        (patch_items if hkey(v) in in_by else server_only).append(v)
    return patch_items, server_only


def _partition_maps(items: Slice, by: Slice, merge_key: str) -> tuple[list, list]:
    patch_items, server_only = [], []
    for v in items:
        if not isinstance(v, dict):
            raise err_bad_arg_type(MAP_TYPE, v)
        if merge_key not in v:
            raise err_no_merge_key(v, merge_key)
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
        if go_eq(target, get(v)):
            return i
    return -1


def _validate_merge_key_in_lists(merge_key: str, *lists) -> None:
    for lst in lists:
        for item in lst:
            if not isinstance(item, dict):
                raise err_bad_arg_type(MAP_TYPE, item)
            if merge_key not in item:
                raise err_no_merge_key(item, merge_key)


def _extract_to_delete_items(lst) -> tuple[list, list]:
    non_delete, to_delete = [], []
    for v in lst:
        if not isinstance(v, dict):
            raise err_bad_arg_type(MAP_TYPE, v)
        d = v.get(DIRECTIVE_MARKER, None)
        if DIRECTIVE_MARKER in v and isinstance(d, str) and d == DELETE_DIRECTIVE:
            to_delete.append(v)
        else:
            non_delete.append(v)
    return non_delete, to_delete


def _normalize_slice_order(to_sort: list, order, merge_key: str, kind: str) -> list:
    to_delete: list = []
    order_items = order.items() if isinstance(order, Slice) else list(order)
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

    slice_stable(to_sort, less)
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
                             server_order, merge_key: str, kind: str) -> Slice:
    patch_items = _normalize_slice_order(patch_items, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    server_items = server_order.items() if isinstance(server_order, Slice) else list(server_order)
    merged = _merge_sorted_slice(server_only, patch_items, server_items, merge_key, kind)
    return Slice.make(merged)


def _validate_patch_with_set_order_list(patch_list: Slice, order: Slice, merge_key: str) -> None:
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
            f"The order in patch list:\n{fmt_v(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER_PREFIX} list:\n{fmt_v(order)}\n")


def _merge_key_value_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return go_eq(left, right)
    if not isinstance(left, dict):
        raise err_bad_arg_type(MAP_TYPE, left)
    if not isinstance(right, dict):
        raise err_bad_arg_type(MAP_TYPE, right)
    if merge_key not in left:
        raise err_no_merge_key(left, merge_key)
    if merge_key not in right:
        raise err_no_merge_key(right, merge_key)
    return go_eq(left[merge_key], right[merge_key])


def _to_go(v: Any) -> Any:
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise PatchError(ERR_BAD_JSON_DOC)
            out[k] = _to_go(x)
        return out
    if isinstance(v, (list, tuple)):
        return Slice.decoded([_to_go(x) for x in v])
    if v is None or isinstance(v, (bool, str, int, float)):
        return v
    raise PatchError(ERR_BAD_JSON_DOC)


def _from_go(v: Any) -> Any:
    if isinstance(v, dict):
        # json.Marshal writes map keys sorted.
        return {k: _from_go(v[k]) for k in sorted(v)}
    if isinstance(v, Slice):
        return [_from_go(x) for x in v.items()]
    return v


_metas: dict = {}


def default_meta() -> PatchMeta:
    """Patch metadata over the Go type schema in force (gotypes.schema.using), one per schema."""
    types = gotypes_schema.current()
    meta = _metas.get(id(types))
    if meta is None:
        # Schemas are made once per process (default(), for_k8s_api), so id() is stable.
        meta = _metas[id(types)] = PatchMeta(types)
    return meta


def strategic_merge_patch(original: dict | None, patch: dict | None, type_ref: str, *,
                          schema: PatchMeta | dict | None = None,
                          unknown_fields: str = "error") -> dict:
    """Apply strategic merge `patch` to `original` for Go type `type_ref`.

    `type_ref` is a Go type reference ("k8s.io/api/core/v1.Pod") or a kind
    key of the schema ("v1/Pod").  `schema` is a PatchMeta, a dict in the
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
        sch = default_meta()
    elif isinstance(schema, PatchMeta):
        sch = schema
    else:
        sch = PatchMeta.from_dict(schema)
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
    merger = _Merger(Lookup(sch, unknown_fields))
    result = merger.merge_map(go_original, go_patch, ref)
    return _from_go(result)
