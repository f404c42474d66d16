"""Template functions: text/template/funcs.go, and how Go types their parameters.

* The builtins (and, or, not, len, index, slice, print, printf, println, html, js, urlquery,
  call, eq, ne, lt, le, gt, ge) with Go's errors, and :data:`BUILTINS`, their Go signatures.
* Truth: :func:`is_true` (exec.go's IsTrue) and :func:`truth` (what and/or/not/if test).
* Function signatures: Go checks each argument against the function's parameter types by
  reflection. A Python callable may declare them with :func:`signature`;
  :func:`func_signature` reads them (or infers a loose one), and :func:`can_be_nil`,
  :func:`is_interface` and :func:`assignable` say which values a Go type name accepts.

Builtins get the raw values: MISSING stays MISSING where Go's parameter is a reflect.Value.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing's names for annotations only: importing it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable

from ..gostd.fmt import format_value, sprint, sprintf, sprintln
from ..gostd.strconv import is_print
from ..gostd.values import MISSING, go_type_name

__all__ = ["signature", "func_signature", "REFLECT_VALUE", "can_be_nil", "is_interface",
           "assignable", "is_true", "truth", "BUILTINS"]

REFLECT_VALUE = "reflect.Value"


def signature(*params: str, variadic: str | None = None):
    """Decorator: declare the Go parameter types of a template function, e.g.
    ``@signature("string", "int")`` or ``@signature(variadic="interface {}")``."""

    def wrap(fn):
        fn.__go_signature__ = (tuple(params), variadic)
        return fn

    return wrap


_FUNCTION = type(lambda: None)
_CO_VARARGS = 0x04  # inspect.CO_VARARGS: the code object takes *args


def func_signature(fn) -> tuple[tuple, Any]:
    """(fixed parameter types, variadic element type): the element type is False when fn is
    not variadic and None for ``...interface{}``; a parameter type None is interface{}.

    Declared through :func:`signature` (``__go_signature__``), else inferred from the Python
    signature: positional parameters are interface{}, defaults or *args make it variadic."""
    sig = getattr(fn, "__go_signature__", None)
    if sig is not None:
        params, variadic = sig
        return tuple(params), (False if variadic is None and not getattr(fn, "__go_variadic_iface__", False)
                               else variadic)
    if type(fn) is _FUNCTION and not hasattr(fn, "__wrapped__") and not hasattr(fn, "__signature__"):
        # A plain function: read its code object, as inspect.signature would, without building
        # Signature objects (a hundred of them cost milliseconds of every run).
        code = fn.__code__
        defaults = len(fn.__defaults__ or ())
        fixed = (None,) * (code.co_argcount - defaults)
        return fixed, (None if defaults or code.co_flags & _CO_VARARGS else False)
    import inspect  # lazy: only callables that are not plain functions get here, and inspect costs start-up time
    try:
        s = inspect.signature(fn)
    except (TypeError, ValueError):
        return (), None  # unknown: accept anything
    fixed = []
    variadic = False
    for p in s.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            if p.default is not p.empty:
                variadic = None
                continue
            fixed.append(None)
        elif p.kind == p.VAR_POSITIONAL:
            variadic = None
    return tuple(fixed), variadic


# Which values a Go type (by name) accepts --------------------------------------------------

_NILABLE_PREFIXES = ("*", "[]", "map[", "func", "chan", "interface")


def can_be_nil(typ: str | None) -> bool:
    """exec.go's canBeNil: pointers, slices, maps, funcs, channels and interfaces."""
    if typ is None:
        return True
    return typ.startswith(_NILABLE_PREFIXES) or typ in ("any", "error", REFLECT_VALUE)


def is_interface(typ: str | None) -> bool:
    """An empty interface (or reflect.Value) parameter: any value passes unchanged."""
    return typ is None or typ in ("interface {}", "any", REFLECT_VALUE)


def assignable(value, typ: str) -> bool:
    """reflect's AssignableTo for the value's Go type and the parameter type typ."""
    if is_interface(typ):
        return True
    if typ == "string":
        return isinstance(value, str)
    if typ == "bool":
        return value is True or value is False
    if typ.startswith(("int", "uint")):
        return isinstance(value, int) and not isinstance(value, bool)
    if typ.startswith("float"):
        return isinstance(value, float)
    if typ.startswith("map["):
        if isinstance(value, dict):
            vt = getattr(value, "__go_type__", None)
            if vt is None:
                return typ == "map[string]interface {}"
            return vt == typ
        return getattr(value, "__go_type__", None) == typ
    if typ.startswith("[]"):
        if isinstance(value, (list, tuple)):
            vt = getattr(value, "__go_type__", None)
            if vt is None:
                return typ == "[]interface {}" or all(assignable(x, typ[2:]) for x in value)
            return vt == typ
        return getattr(value, "__go_type__", None) == typ
    vt = getattr(value, "__go_type__", None)
    return vt is None or vt == typ or vt.lstrip("*") == typ.lstrip("*")


# Truth ------------------------------------------------------------------------------------

def is_true(value) -> tuple[bool, bool]:
    """exec.go's IsTrue: (truth, ok). Zero values, empty containers and nil are false."""
    if value is None or value is MISSING:
        return False, True
    if value is True:
        return True, True
    if value is False:
        return False, True
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) > 0, True
    if isinstance(value, (int, float)):
        return value != 0, True
    test = getattr(value, "__go_truth__", None)
    if test is not None:
        return bool(test()), True
    ln = getattr(value, "__go_len__", None)
    if ln is not None:
        return ln() > 0, True
    return True, True


def truth(value) -> bool:
    """funcs.go's truth: the first half of IsTrue, with the common cases first (hot path)."""
    if value is True:
        return True
    if value is False or value is None or value is MISSING:
        return False
    return is_true(value)[0]


# The builtins -----------------------------------------------------------------------------


class _GoFuncError(Exception):
    """An error a builtin returns; exec reports it as ``error calling NAME: MESSAGE``."""


def _basic_kind(v):
    if v is None or v is MISSING:
        return "invalid"
    if v is True or v is False:
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "other"


def _unwrap_basic(v):
    # Go types with a basic underlying kind (enums are int32) expose it via __go_basic__.
    b = getattr(v, "__go_basic__", None)
    if b is not None:
        return b()
    return v


def _is_false_pointer(v) -> bool:
    # a value whose __go_truth__ says false: a typed nil pointer, or an empty container
    t = getattr(v, "__go_truth__", None)
    return t is not None and not t()


def _is_nil_pointer(v) -> bool:
    # only typed nil pointers (NilPtr-like) count as nil here, not empty maps or lists
    return not hasattr(v, "__go_len__") and _is_false_pointer(v)


def _eq(arg1, *arg2):
    arg1 = _unwrap_basic(arg1)
    if not arg2:
        raise _GoFuncError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in arg2:
        arg = _unwrap_basic(arg)
        k2 = _basic_kind(arg)
        equal = False
        if k1 != k2:
            if k1 != "invalid" and k2 != "invalid":
                raise _GoFuncError("incompatible types for comparison")
        elif k1 in ("bool", "int", "float", "string"):
            equal = arg1 == arg
        else:
            nil1 = arg1 is None or arg1 is MISSING or _is_nil_pointer(arg1)
            nil2 = arg is None or arg is MISSING or _is_nil_pointer(arg)
            if nil1 or nil2:
                equal = nil1 == nil2
            else:
                if isinstance(arg, (dict, list)) or isinstance(arg1, (dict, list)):
                    raise _GoFuncError("non-comparable type %s: %s" % (format_value(arg), go_type_name(arg)))
                equal = arg1 == arg
        if equal:
            return True
    return False


def _ne(a, b):
    return not _eq(a, b)


def _lt(a, b):
    a = _unwrap_basic(a)
    b = _unwrap_basic(b)
    k1 = _basic_kind(a)
    k2 = _basic_kind(b)
    if k1 not in ("int", "float", "string"):
        raise _GoFuncError("invalid type for comparison")
    if k1 != k2:
        if k2 not in ("int", "float", "string"):
            raise _GoFuncError("invalid type for comparison")
        raise _GoFuncError("incompatible types for comparison")
    return a < b


def _le(a, b):
    return _lt(a, b) or _eq(a, b)


def _gt(a, b):
    return not _le(a, b)


def _ge(a, b):
    return not _lt(a, b)


def _not(a):
    return not truth(a)


def _len(item):
    if item is None:
        raise _GoFuncError("len of nil pointer")
    if item is MISSING:
        raise _GoFuncError("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(item, str):
        return len(item.encode("utf-8"))
    if isinstance(item, (list, tuple, dict)):
        return len(item)
    ln = getattr(item, "__go_len__", None)
    if ln is not None:
        return ln()
    if _is_false_pointer(item):
        raise _GoFuncError("len of nil pointer")
    raise _GoFuncError("len of type %s" % go_type_name(item))


def _index_arg(index, cap):
    """funcs.go's indexArg: an int in [0, cap]."""
    if index is None or index is MISSING:
        raise _GoFuncError("cannot index slice/array with nil")
    if isinstance(index, bool) or not isinstance(index, int):
        raise _GoFuncError("cannot index slice/array with type %s" % go_type_name(index))
    if index < 0 or index > cap:
        raise _GoFuncError("index out of range: %d" % index)
    return index


def _element_index(index, length, kind):
    # indexArg allows the length itself; reflect.Value.Index then panics, and text/template
    # reports the recovered panic as the function's error
    x = _index_arg(index, length)
    if x == length:
        raise _GoFuncError("reflect: %s index out of range" % kind)
    return x


def _index(item, *indexes):
    if item is MISSING or item is None:
        raise _GoFuncError("index of untyped nil")
    for index in indexes:
        if isinstance(item, (list, tuple)):
            item = item[_element_index(index, len(item), "slice")]
        elif isinstance(item, str):
            b = item.encode("utf-8")
            item = b[_element_index(index, len(b), "string")]
        elif isinstance(item, dict):
            if index is None or index is MISSING:
                index = ""
            if not isinstance(index, str) and getattr(item, "__go_type__", "map[string").startswith("map[string"):
                raise _GoFuncError("value has type %s; should be string" % go_type_name(index))
            try:
                item = item[index]
            except KeyError:
                item = getattr(item, "__go_zero__", None)
        elif hasattr(item, "__go_index__"):
            v = item.__go_index__(index)
            item = getattr(item, "__go_zero__", None) if v is MISSING else v
        else:
            if _is_false_pointer(item):
                raise _GoFuncError("index of nil pointer")
            raise _GoFuncError("can't index item of type %s" % go_type_name(item))
    return item


def _slice(item, *indexes):
    if item is MISSING or item is None:
        raise _GoFuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise _GoFuncError("too many slice indexes: %d" % len(indexes))
    if isinstance(item, str):
        if len(indexes) == 3:
            raise _GoFuncError("cannot 3-index slice a string")
        seq = item.encode("utf-8")
    elif isinstance(item, (list, tuple)):
        seq = item
    else:
        raise _GoFuncError("can't slice item of type %s" % go_type_name(item))
    idx = [0, len(seq)]
    for i, index in enumerate(indexes):
        index = _index_arg(index, len(seq))
        if i < 2:
            idx[i] = index
    if idx[0] > idx[1]:
        raise _GoFuncError("invalid slice index: %d > %d" % (idx[0], idx[1]))
    if len(indexes) == 3 and indexes[1] > indexes[2]:
        raise _GoFuncError("invalid slice index: %d > %d" % (indexes[1], indexes[2]))
    res = seq[idx[0]:idx[1]]
    if isinstance(item, str):
        return res.decode("utf-8", errors="replace")
    return list(res)


def _iface(args):
    # MISSING passed as an interface{} argument is nil
    return [None if a is MISSING else a for a in args]


def _print(*args):
    return sprint(*_iface(args))


def _println(*args):
    return sprintln(*_iface(args))


def _printf(fmt, *args):
    return sprintf(fmt, *_iface(args))


def _eval_args(args) -> str:
    # funcs.go's evalArgs: the one string argument itself, else fmt.Sprint of them all
    args = _iface(args)
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(*args)


# HTMLEscapeString: five characters become entities, NUL the replacement character
_HTML_ESCAPES = str.maketrans({'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;",
                               ">": "&gt;", "\0": "\ufffd"})

_JS_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E",
               "&": "\\u0026", "=": "\\u003D"}


def _js_escape(s: str) -> str:
    """JSEscapeString: quotes, backslash and <>&= escaped; control characters and
    non-printable non-ASCII runes as fmt's \\u%04X (five or six hex digits beyond U+FFFF);
    DEL is not special to Go's jsIsSpecial and stays as it is."""
    out = []
    for c in s:
        e = _JS_ESCAPES.get(c)
        if e is not None:
            out.append(e)
        elif c < " " or (c >= "\x80" and not is_print(c)):
            out.append("\\u%04X" % ord(c))
        else:
            out.append(c)
    return "".join(out)


def _query_escape(s: str) -> str:
    """net/url's QueryEscape: unreserved bytes kept, space as +, the rest as %XX."""
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-_.~"):
            out.append(c)
        elif c == " ":
            out.append("+")
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def _html(*args):
    return _eval_args(args).translate(_HTML_ESCAPES)


def _js(*args):
    return _js_escape(_eval_args(args))


def _urlquery(*args):
    return _query_escape(_eval_args(args))


def _call(fn, *args):
    if fn is None or fn is MISSING:
        raise _GoFuncError("call of nil")
    if not callable(fn):
        raise _GoFuncError("non-function of type %s" % go_type_name(fn))
    return fn(*_iface(args))


_RV = REFLECT_VALUE

# name: (function, fixed parameter types, variadic element type: False when not variadic,
# None for ...interface{}). and/or have no function: exec compiles them to short-circuit.
BUILTINS: dict[str, tuple[Callable | None, tuple, Any]] = {
    "and": (None, (_RV,), _RV), "or": (None, (_RV,), _RV), "call": (_call, (_RV,), _RV),
    "html": (_html, (), None), "index": (_index, (_RV,), _RV), "slice": (_slice, (_RV,), _RV),
    "js": (_js, (), None), "len": (_len, (_RV,), False), "not": (_not, (_RV,), False),
    "print": (_print, (), None), "printf": (_printf, ("string",), None),
    "println": (_println, (), None), "urlquery": (_urlquery, (), None),
    "eq": (_eq, (_RV,), _RV), "ge": (_ge, (_RV, _RV), False), "gt": (_gt, (_RV, _RV), False),
    "le": (_le, (_RV, _RV), False), "lt": (_lt, (_RV, _RV), False),
    "ne": (_ne, (_RV, _RV), False),
}
