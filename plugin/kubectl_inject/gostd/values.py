"""The Go value model shared by the template engine, the typed views and the encoders.

* ``None`` is a nil interface value; :data:`MISSING` is Go's invalid reflect.Value (a missing
  map key under missingkey=default, a nil data root); it is false and prints as ``<nil>``
  through fmt (text/template prints ``<no value>`` for it itself).
* ``bool``, ``int`` (Go int), ``float`` (float64), ``str``; ``list``/``tuple`` are slices,
  ``dict`` is ``map[string]interface{}``.
* Objects describe themselves to Go-aware code with dunder hooks, so that no layer needs to
  know another's classes: ``__go_type__`` (type name), ``__go_str__()`` (fmt %v),
  ``__go_json__()`` / ``__proto_json__()`` (what encoding/json or protojson marshals instead),
  ``__go_truth__()``, ``__go_len__()``, ``__go_index__(key)``, ``__go_range__()``, and the
  struct protocol :class:`GoStruct`.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing's names for annotations only: importing it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["MISSING", "GoStruct", "NilPtr", "StringMap", "NoSuchField", "NilPointer",
           "go_type_name"]


class _Invalid:
    """Go's invalid (zero) reflect.Value."""

    __slots__ = ()

    def __repr__(self):
        return "MISSING"

    def __bool__(self):
        return False


MISSING = _Invalid()


class NoSuchField(Exception):
    """Raised by ``__go_field__`` when the Go type has no field of that name."""


class NilPointer(Exception):
    """Raised by ``__go_field__`` when the receiver is a nil pointer (Go reports
    ``nil pointer evaluating TYPE.FIELD``)."""


class GoStruct:
    """Go struct (or pointer-to-struct) values: the protocol, written down (objects need not
    inherit from this class; nothing checks isinstance against it).

    Required:
      ``__go_field__(name) -> value``: the exported field ``name``; raise :class:`NoSuchField`
      if the type has no such field, :class:`NilPointer` if the receiver is a nil pointer.
      ``__go_method__(name) -> callable | None``: a bound method (e.g. GetValue, String,
      GetSeconds) or None. Methods are looked up before fields, as in Go; a method may be
      called on a nil pointer receiver (protobuf getters rely on that).
    Optional: the hooks listed in the module documentation.
    """

    def __go_field__(self, name: str) -> Any: ...

    def __go_method__(self, name: str) -> Callable | None: ...


class StringMap(dict):
    """A Go ``map[string]string``: missing keys read as "" through ``index``/missingkey=zero."""

    __slots__ = ()
    __go_zero__ = ""
    __go_type__ = "map[string]string"


class NilPtr:
    """A typed nil pointer (``(*T)(nil)``): false, prints ``<nil>``, fields fail like Go."""

    __slots__ = ("__go_type__",)

    def __init__(self, type_name: str):
        self.__go_type__ = type_name

    def __go_field__(self, name):
        raise NilPointer(name)

    def __go_method__(self, name):
        return None

    def __go_truth__(self):
        return False

    def __go_str__(self):
        return "<nil>"

    def __go_json__(self):
        return None

    def __proto_json__(self):
        return None

    def __repr__(self):
        return f"NilPtr({self.__go_type__!r})"


def go_type_name(value) -> str:
    """The Go type name of a value, as reflect and fmt's %T print it."""
    if value is None or value is MISSING:
        return "<nil>"
    if value is True or value is False:
        return "bool"
    t = getattr(value, "__go_type__", None)
    if isinstance(t, str):
        return t
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    if callable(value):
        return "func"
    return type(value).__name__
