"""Strategic merge's vocabulary: directives, apimachinery's error messages, and Go's view of
the decoded JSON values it merges (dynamic type, ==, map hashing, fmt's %v and %s).

Numbers are float64 in Go here (both documents went through encoding/json into interface{}),
so ints and floats are one numeric type.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing's names for annotations only: importing it costs start-up time
if TYPE_CHECKING:
    from typing import Any

from ...gostd.fmt import format_value, sprintf
from ...gostd.slices import Slice

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


SLICE_TYPE = "[]interface {}"
MAP_TYPE = "map[string]interface {}"


def go_type(v: Any) -> str | None:
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
        return MAP_TYPE
    if isinstance(v, Slice):
        return SLICE_TYPE
    raise PatchError(f"unsupported value of Python type {type(v).__name__}")


GO_KIND_OF_TYPE = {
    "bool": "bool",
    "string": "string",
    "float64": "float64",
    MAP_TYPE: "map",
    SLICE_TYPE: "slice",
}


def go_eq(a: Any, b: Any) -> bool:
    """Go's == on two interface{} values."""
    ta, tb = go_type(a), go_type(b)
    if ta != tb:
        return False
    if ta in (MAP_TYPE, SLICE_TYPE):
        raise PatchError(f"runtime error: comparing uncomparable type {ta}", go_panic=True)
    return a == b


def hkey(v: Any) -> tuple:
    """Key for a Go map[interface{}]...: dynamic type plus value."""
    t = go_type(v)
    if t in (MAP_TYPE, SLICE_TYPE):
        raise PatchError(f"runtime error: hash of unhashable type {t}", go_panic=True)
    if t == "float64":
        return (t, float(v))
    return (t, v)


def as_go_value(v: Any) -> Any:
    """The value as gostd.fmt sees Go's: numbers float64, slices as lists."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):
        return {k: as_go_value(x) for k, x in v.items()}
    if isinstance(v, (Slice, list)):
        return [as_go_value(x) for x in v]
    return v


def fmt_v(v: Any) -> str:
    """fmt's %v of a decoded JSON value."""
    return format_value(as_go_value(v))


def fmt_s(v: Any) -> str:
    """fmt's %s of an interface{} value."""
    return sprintf("%s", as_go_value(v))


def type_str(v: Any) -> str:
    """%s of reflect.TypeOf(v)."""
    t = go_type(v)
    return "%!s(<nil>)" if t is None else t


# mergepatch error constructors ------------------------------------------------

def err_no_merge_key(m: dict, k: str) -> PatchError:
    return PatchError(f"map: {fmt_v(m)} does not contain declared merge key: {k}")


def err_bad_arg_type(expected: str, actual: Any) -> PatchError:
    return PatchError(f"expected a {expected}, but received a {type_str(actual)}")


def err_bad_patch_type(t: Any, m: dict) -> PatchError:
    return PatchError(f"unknown patch type: {fmt_s(t)} in map: {fmt_v(m)}")
