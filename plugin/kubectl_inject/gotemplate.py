"""A Go text/template engine in pure Python (stdlib only).

It follows Go's text/template semantics (as of Go 1.22/1.23) closely enough to render Istio's
injection templates byte for byte: the lexer and parser mirror Go's grammar (trim markers,
comments, raw strings, pipelines, parenthesised pipelines, variables, if/else if/else,
range with else/break/continue and over ints, with/else with, define/template/block), and
execution reproduces Go's value rules, printing (fmt %v), the built-in functions and Go's
error messages, including `template: NAME:LINE:COL: executing "NAME" at <NODE>: ...`.

Go value model in Python
------------------------
* ``None`` is a nil interface value; ``MISSING`` is Go's "invalid" reflect.Value (what a
  missing map key yields under missingkey=default; it prints as ``<no value>``).
* ``bool``, ``int`` (Go int), ``float`` (float64), ``str``.
* ``list``/``tuple`` are slices, ``dict`` is ``map[string]interface{}`` (missing keys give
  nil). A dict subclass may set ``__go_zero__`` (value for missing keys in ``index`` and under
  missingkey=zero) and ``__go_type__`` (type name for error messages); :class:`StringMap` is
  the ready-made ``map[string]string``.
* Struct-like objects implement :class:`GoStruct` (see there).
* Functions in a func map are plain Python callables. They receive Go values (``MISSING``
  becomes ``None``, as Go passes a nil interface) and report errors by raising; the message
  becomes ``error calling NAME: MESSAGE``. A callable may carry ``__go_signature__`` =
  ``(param_types, variadic_type_or_None)`` with Go type names ("string", "int", "bool",
  "float64", "interface {}", ...) so that arguments are checked the way Go's reflection does.

Public API: :class:`Template` (``Template(name, funcs=..., missingkey=...)``, ``parse``,
``execute``, ``execute_template``, ``lookup``), :func:`parse_cached`, the error classes, and
the formatting helpers :func:`sprint`, :func:`sprintf`, :func:`format_value`,
:func:`format_float`, :func:`go_quote`.
"""
from __future__ import annotations

import bisect
import inspect
import math
import unicodedata
from typing import Any, Callable, Protocol, runtime_checkable

__all__ = [
    "Template", "TemplateError", "ParseError", "ExecError", "NoSuchField", "NilPointer",
    "MISSING", "StringMap", "NilPtr", "GoStruct", "parse_cached", "sprint", "sprintln",
    "sprintf", "format_value", "format_float", "go_quote", "go_type_name", "is_true",
    "signature", "BUILTIN_NAMES",
]


# ---------------------------------------------------------------------------------------------
# Value model


class _Missing:
    """Go's invalid reflect.Value: the result of a missing map key or a nil data root."""

    __slots__ = ()

    def __repr__(self):
        return "MISSING"

    def __bool__(self):
        return False


MISSING = _Missing()


class _NoFinal:
    """Marks 'no value piped in' (Go's missingVal), distinct from an invalid value."""

    __slots__ = ()

    def __repr__(self):
        return "NOFINAL"


_NOFINAL = _NoFinal()


class TemplateError(Exception):
    """Any error raised by parsing or executing a template; str() is Go's message."""


class ParseError(TemplateError):
    pass


class ExecError(TemplateError):
    def __init__(self, message: str, name: str = ""):
        super().__init__(message)
        self.name = name


class NoSuchField(Exception):
    """Raised by ``__go_field__`` when the Go type has no field of that name."""


class NilPointer(Exception):
    """Raised by ``__go_field__`` when the receiver is a nil pointer (Go reports
    ``nil pointer evaluating TYPE.FIELD``)."""


class _BreakLoop(Exception):
    pass


class _ContinueLoop(Exception):
    pass


@runtime_checkable
class GoStruct(Protocol):
    """The protocol for Go struct (or pointer-to-struct) values supplied by other modules.

    Required:
      ``__go_field__(name) -> value``: the exported field ``name``; raise :class:`NoSuchField`
      if the type has no such field, :class:`NilPointer` if the receiver is a nil pointer.
      ``__go_method__(name) -> callable | None``: a bound method (e.g. GetValue, String,
      GetSeconds) or None. Methods are looked up before fields, as in Go; a method may be
      called on a nil pointer receiver (protobuf getters rely on that).
    Optional:
      ``__go_truth__() -> bool`` (default True: struct values are always true; a nil pointer
      returns False), ``__go_str__() -> str`` (how fmt %v prints it),
      ``__go_len__() -> int``, ``__go_index__(key) -> value | MISSING`` (map-like types),
      ``__go_type__`` (attribute: Go type name for error messages, e.g. "*v1.Container"),
      ``__go_range__() -> list | dict`` (what ``range`` iterates over).
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


def signature(*params: str, variadic: str | None = None):
    """Decorator: declare Go parameter types of a template function (see module doc)."""

    def wrap(fn):
        fn.__go_signature__ = (tuple(params), variadic)
        return fn

    return wrap


def go_type_name(value) -> str:
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


def is_true(value) -> tuple[bool, bool]:
    """Go's template truth: (truth, ok). Zero values, empty containers and nil are false."""
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
    truth = getattr(value, "__go_truth__", None)
    if truth is not None:
        return bool(truth()), True
    ln = getattr(value, "__go_len__", None)
    if ln is not None:
        return ln() > 0, True
    return True, True


def _truth(value) -> bool:
    if value is True:
        return True
    if value is False or value is None or value is MISSING:
        return False
    return is_true(value)[0]


# ---------------------------------------------------------------------------------------------
# fmt: Go's %v printing, floats, quoting and Sprintf


def _shortest_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of abs(f) and the decimal point position
    (value = 0.DIGITS * 10**dp), as strconv computes them. Python's repr is also shortest."""
    r = repr(abs(f))
    mant, _, exp = r.partition("e")
    e = int(exp) if exp else 0
    ip, _, fp = mant.partition(".")
    digits = (ip + fp).lstrip("0")
    lead_zeros = len(ip + fp) - len((ip + fp).lstrip("0"))
    dp = len(ip) + e - lead_zeros
    digits = digits.rstrip("0")
    if not digits:
        return "0", 1
    return digits, dp


def _fmt_e(neg: bool, digits: str, dp: int, prec: int, ch: str) -> str:
    # d.ddddde±XX with at least two exponent digits, as Go's strconv fmtE.
    out = "-" if neg else ""
    out += digits[0]
    if prec > 0:
        frac = digits[1:1 + prec]
        frac += "0" * (prec - len(frac))
        out += "." + frac
    exp = dp - 1 if digits != "0" else 0
    sign = "-" if exp < 0 else "+"
    exp = abs(exp)
    out += ch + sign + (f"{exp:02d}")
    return out


def _fmt_f(neg: bool, digits: str, dp: int, prec: int) -> str:
    out = "-" if neg else ""
    if dp > 0:
        ip = digits[:dp]
        ip += "0" * (dp - len(ip))
    else:
        ip = "0"
    out += ip
    if prec > 0:
        frac = ""
        for i in range(prec):
            j = dp + i
            frac += digits[j] if 0 <= j < len(digits) else "0"
        out += "." + frac
    return out


def format_float(f: float, verb: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat(f, verb, prec, 64) for verbs e, E, f, g, G."""
    if f != f:
        return "NaN"
    if f == math.inf:
        return "+Inf"
    if f == -math.inf:
        return "-Inf"
    neg = math.copysign(1.0, f) < 0
    if prec < 0:
        digits, dp = _shortest_digits(f)
        if f == 0:
            digits, dp = "0", 1
        shortest = True
    else:
        shortest = False
        if verb in "eE":
            s = "%.*e" % (prec, abs(f))
        elif verb in "fF":
            s = "%.*f" % (prec, abs(f))
        else:
            s = "%.*e" % (max(prec, 1) - 1, abs(f))
        if verb in "fF":
            return ("-" if neg else "") + s
        mant, _, exp = s.partition("e")
        digits = mant.replace(".", "")
        dp = int(exp) + 1
        if f == 0:
            dp = 1
        if verb in "eE":
            return ("-" if neg else "") + mant + verb + exp[0] + exp[1:].rjust(2, "0")
        digits = digits.rstrip("0") or "0"
    if verb in "eE":
        return _fmt_e(neg, digits, dp, len(digits) - 1, verb)
    if verb in "fF":
        return _fmt_f(neg, digits, dp, max(len(digits) - dp, 0))
    # %g
    nd = len(digits)
    eprec = prec if not shortest else nd
    if not shortest and eprec > nd and nd >= dp:
        eprec = nd
    if shortest:
        eprec = 6
    exp = dp - 1
    p = nd if shortest else prec
    if exp < -4 or exp >= eprec:
        if p > nd:
            p = nd
        return _fmt_e(neg, digits, dp, p - 1, "e" if verb == "g" else "E")
    if p > dp:
        p = nd
    return _fmt_f(neg, digits, dp, max(p - dp, 0))


def _is_go_print(ch: str) -> bool:
    if ch == " ":
        return True
    cat = unicodedata.category(ch)
    return cat[0] in "LMNPS"


def go_quote(s: str, ascii_only: bool = False) -> str:
    """strconv.Quote: a double-quoted Go string literal."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0x20 <= o < 0x7F:
            out.append(ch)
        elif o >= 0x80 and not ascii_only and _is_go_print(ch):
            out.append(ch)
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\v":
            out.append("\\v")
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")
        elif o < 0x10000:
            out.append("\\u%04x" % o)
        else:
            out.append("\\U%08x" % o)
    out.append('"')
    return "".join(out)


def _quote_rune(r: int) -> str:
    if r > 0x10FFFF or 0xD800 <= r <= 0xDFFF:
        r = 0xFFFD
    ch = chr(r)
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    body = go_quote(ch)[1:-1]
    return "'" + body + "'"


def _sort_key(k):
    # fmtsort ordering for the key types we model: numbers, strings, bools; nil first.
    if k is None:
        return (0, 0)
    if isinstance(k, bool):
        return (1, k)
    if isinstance(k, (int, float)):
        return (2, k)
    if isinstance(k, str):
        return (3, k)
    return (4, str(k))


def sorted_keys(d) -> list:
    try:
        return sorted(d)
    except TypeError:
        return sorted(d, key=_sort_key)


def format_value(v, verb: str = "v", plus: bool = False) -> str:
    """fmt's %v (and %s element formatting) of a Go value."""
    if v is None or v is MISSING:
        return "<nil>"
    if v is True:
        return "true"
    if v is False:
        return "false"
    t = type(v)
    if t is str:
        return v
    if t is int:
        return str(v)
    if t is float:
        return format_float(v, "g", -1)
    gs = getattr(v, "__go_str__", None)
    if gs is not None:
        return gs()
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, int):
        return int.__repr__(v)
    if isinstance(v, float):
        return format_float(float(v))
    if isinstance(v, dict):
        return "map[" + " ".join(
            format_value(k, verb) + ":" + format_value(v[k], verb) for k in sorted_keys(v)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(format_value(x, verb) for x in v) + "]"
    if isinstance(v, (bytes, bytearray)):
        return "[" + " ".join(str(b) for b in v) + "]"
    rng = getattr(v, "__go_range__", None)
    if rng is not None:
        return format_value(rng(), verb)
    if callable(v):
        return "0x0"
    return str(v)


def sprint(*args) -> str:
    """fmt.Sprint: spaces between operands when neither side is a string."""
    out = []
    prev_string = False
    for i, a in enumerate(args):
        is_string = isinstance(a, str) and a is not None
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(format_value(a))
        prev_string = is_string
    return "".join(out)


def sprintln(*args) -> str:
    return " ".join(format_value(a) for a in args) + "\n"


def _bad_verb(verb: str, arg) -> str:
    if arg is None or arg is MISSING:
        return "%!" + verb + "(<nil>)"
    return "%!" + verb + "(" + go_type_name(arg) + "=" + format_value(arg) + ")"


class _Spec:
    __slots__ = ("minus", "plus", "sharp", "space", "zero", "width", "prec")

    def __init__(self):
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.width = None
        self.prec = None


def _pad(s: str, sp: _Spec, numeric: bool = False) -> str:
    if sp.width is None or len(s) >= sp.width:
        return s
    n = sp.width - len(s)
    if sp.minus:
        return s + " " * n
    if sp.zero and numeric:
        if s and s[0] in "+- ":
            return s[0] + "0" * n + s[1:]
        return "0" * n + s
    if sp.zero and not numeric:
        return "0" * n + s
    return " " * n + s


def _fmt_int(v: int, verb: str, sp: _Spec) -> str:
    neg = v < 0
    a = -v if neg else v
    if verb in "dv":
        body = str(a)
    elif verb == "x":
        body = format(a, "x")
    elif verb == "X":
        body = format(a, "X")
    elif verb == "o" or verb == "O":
        body = format(a, "o")
    elif verb == "b":
        body = format(a, "b")
    elif verb == "c":
        return _pad(chr(v) if 0 <= v <= 0x10FFFF else "\ufffd", sp)
    elif verb == "q":
        return _pad(_quote_rune(v), sp)
    elif verb == "U":
        s = "U+%04X" % v
        if sp.sharp and 0 <= v <= 0x10FFFF and _is_go_print(chr(v)):
            s += " '" + chr(v) + "'"
        return _pad(s, sp)
    else:
        return _bad_verb(verb, v)
    if sp.prec is not None:
        body = body.rjust(sp.prec, "0")
        if sp.prec == 0 and v == 0:
            body = ""
    if sp.sharp:
        if verb == "x":
            body = "0x" + body
        elif verb == "X":
            body = "0X" + body
        elif verb == "o" and not body.startswith("0"):
            body = "0" + body
        elif verb == "b":
            body = "0b" + body
    if verb == "O":
        body = "0o" + body
    sign = "-" if neg else ("+" if sp.plus else (" " if sp.space else ""))
    s = sign + body
    if sp.zero and not sp.minus and sp.prec is None and sp.width is not None:
        return _pad(s, sp, numeric=True)
    saved = sp.zero
    sp.zero = False
    out = _pad(s, sp)
    sp.zero = saved
    return out


def _fmt_float_verb(v: float, verb: str, sp: _Spec) -> str:
    if verb == "v":
        s = format_float(v, "g", -1 if sp.prec is None else sp.prec)
    elif verb in "eEfF":
        s = format_float(v, verb, 6 if sp.prec is None else sp.prec)
    elif verb in "gG":
        s = format_float(v, verb, -1 if sp.prec is None else sp.prec)
    elif verb in "xX":
        s = float.hex(v)
    else:
        return _bad_verb(verb, v)
    if sp.plus and not s.startswith("-") and not s.startswith("+"):
        s = "+" + s
    elif sp.space and not s.startswith("-") and not s.startswith("+"):
        s = " " + s
    if s in ("+Inf", "-Inf", "NaN", "+NaN"):
        if s == "+Inf" and not sp.plus:
            s = "+Inf" if sp.plus else ("Inf" if not sp.space else " Inf")
        saved = sp.zero
        sp.zero = False
        out = _pad(s, sp)
        sp.zero = saved
        return out
    if sp.zero and not sp.minus:
        return _pad(s, sp, numeric=True)
    return _pad(s, sp)


def _fmt_str(s: str, verb: str, sp: _Spec) -> str:
    if sp.prec is not None:
        s = s[:sp.prec]
    if verb in "sv":
        return _pad(s, sp)
    if verb == "q":
        if sp.sharp and "`" not in s and all(c == "\t" or (" " <= c and c != "\x7f") for c in s):
            return _pad("`" + s + "`", sp)
        return _pad(go_quote(s, ascii_only=sp.plus), sp)
    if verb in "xX":
        data = s.encode("utf-8")
        h = data.hex()
        if verb == "X":
            h = h.upper()
        if sp.space:
            pre = ("0x" if verb == "x" else "0X") if sp.sharp else ""
            h = " ".join(pre + data[i:i + 1].hex() if verb == "x" else pre + data[i:i + 1].hex().upper()
                         for i in range(len(data)))
        elif sp.sharp and h:
            h = ("0x" if verb == "x" else "0X") + h
        return _pad(h, sp)
    return _bad_verb(verb, s)


def _fmt_arg(arg, verb: str, sp: _Spec) -> str:
    if verb == "T":
        return _pad(go_type_name(arg) if arg is not None else "<nil>", sp)
    if arg is None or arg is MISSING:
        if verb == "v":
            return _pad("<nil>", sp)
        return _bad_verb(verb, None)
    if arg is True or arg is False:
        if verb in "tv":
            return _pad("true" if arg else "false", sp)
        return _bad_verb(verb, arg)
    if isinstance(arg, int):
        return _fmt_int(int(arg), verb, sp)
    if isinstance(arg, float):
        return _fmt_float_verb(float(arg), verb, sp)
    if isinstance(arg, str):
        return _fmt_str(str(arg), verb, sp)
    gs = getattr(arg, "__go_str__", None)
    if gs is not None:
        if verb in "vsq" or verb in "xX":
            return _fmt_str(gs(), verb, sp)
        return _bad_verb(verb, arg)
    if isinstance(arg, dict):
        parts = [_fmt_arg(k, verb, _Spec()) + ":" + _fmt_arg(arg[k], verb, _Spec())
                 for k in sorted_keys(arg)]
        return _pad("map[" + " ".join(parts) + "]", sp)
    if isinstance(arg, (list, tuple)):
        return _pad("[" + " ".join(_fmt_arg(x, verb, _Spec()) for x in arg) + "]", sp)
    if verb in "vs":
        return _pad(format_value(arg), sp)
    return _bad_verb(verb, arg)


def sprintf(fmt: str, *args) -> str:
    """fmt.Sprintf with Go's verbs, flags, width/precision and error annotations."""
    out = []
    n = len(fmt)
    i = 0
    argi = 0
    reordered = False
    nargs = len(args)
    while i < n:
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        if j > i:
            out.append(fmt[i:j])
        i = j + 1
        if i >= n:
            out.append("%!(NOVERB)")
            break
        sp = _Spec()
        # flags
        while i < n:
            c = fmt[i]
            if c == "-":
                sp.minus = True
                sp.zero = False
            elif c == "+":
                sp.plus = True
            elif c == "#":
                sp.sharp = True
            elif c == " ":
                sp.space = True
            elif c == "0":
                sp.zero = not sp.minus
            else:
                break
            i += 1
        # argument index [n]
        if i < n and fmt[i] == "[":
            k = fmt.find("]", i)
            try:
                argi = int(fmt[i + 1:k]) - 1
                reordered = True
            except ValueError:
                out.append("%!(BADINDEX)")
                i = k + 1 if k > 0 else n
                continue
            i = k + 1
        # width
        if i < n and fmt[i] == "*":
            i += 1
            if argi < nargs and isinstance(args[argi], int) and not isinstance(args[argi], bool):
                sp.width = args[argi]
                if sp.width < 0:
                    sp.minus = True
                    sp.width = -sp.width
            else:
                out.append("%!(BADWIDTH)")
            argi += 1
        else:
            st = i
            while i < n and fmt[i].isdigit():
                i += 1
            if i > st:
                sp.width = int(fmt[st:i])
        # precision
        if i < n and fmt[i] == ".":
            i += 1
            if i < n and fmt[i] == "*":
                i += 1
                if argi < nargs and isinstance(args[argi], int) and not isinstance(args[argi], bool):
                    sp.prec = args[argi]
                    if sp.prec < 0:
                        sp.prec = None
                else:
                    out.append("%!(BADPREC)")
                argi += 1
            else:
                st = i
                while i < n and fmt[i].isdigit():
                    i += 1
                sp.prec = int(fmt[st:i]) if i > st else 0
        if i < n and fmt[i] == "[":
            k = fmt.find("]", i)
            try:
                argi = int(fmt[i + 1:k]) - 1
                reordered = True
            except ValueError:
                out.append("%!(BADINDEX)")
                i = k + 1 if k > 0 else n
                continue
            i = k + 1
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if argi >= nargs or argi < 0:
            out.append("%!" + verb + "(MISSING)")
            continue
        arg = args[argi]
        argi += 1
        if verb == "v" and sp.sharp:
            out.append(_pad(go_quote(arg) if isinstance(arg, str) else format_value(arg), sp))
            continue
        out.append(_fmt_arg(arg, verb, sp))
    if not reordered and argi < nargs:
        extra = ", ".join(
            ("<nil>" if a is None else go_type_name(a) + "=" + format_value(a)) for a in args[argi:])
        out.append("%!(EXTRA " + extra + ")")
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Lexer (mirrors text/template/parse/lex.go)

T_ERROR, T_BOOL, T_CHAR, T_CHARCONST, T_COMMENT, T_ASSIGN, T_DECLARE, T_EOF, T_FIELD, \
    T_IDENT, T_LDELIM, T_LPAREN, T_NUMBER, T_PIPE, T_RAWSTRING, T_RDELIM, T_RPAREN, T_SPACE, \
    T_STRING, T_TEXT, T_VARIABLE, T_KEYWORD, T_BLOCK, T_BREAK, T_CONTINUE, T_DOT, T_DEFINE, \
    T_ELSE, T_END, T_IF, T_NIL, T_RANGE, T_TEMPLATE, T_WITH = range(34)

_KEYWORDS = {
    ".": T_DOT, "block": T_BLOCK, "break": T_BREAK, "continue": T_CONTINUE, "define": T_DEFINE,
    "else": T_ELSE, "end": T_END, "if": T_IF, "range": T_RANGE, "nil": T_NIL,
    "template": T_TEMPLATE, "with": T_WITH,
}

_SPACE = " \t\r\n"


class _Token:
    __slots__ = ("typ", "val", "pos", "line")

    def __init__(self, typ, val, pos, line):
        self.typ = typ
        self.val = val
        self.pos = pos
        self.line = line

    def __str__(self):
        if self.typ == T_EOF:
            return "EOF"
        if self.typ == T_ERROR:
            return self.val
        if self.typ > T_KEYWORD:
            return "<" + self.val + ">"
        if len(self.val) > 10:
            # %.10q: quote the first ten characters, then an ellipsis
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def _is_alnum(c: str) -> bool:
    return c == "_" or c.isalpha() or c.isdigit() or unicodedata.category(c) == "Nd"


class _Lexer:
    def __init__(self, text: str, break_ok: bool = True, continue_ok: bool = True):
        self.text = text
        self.tokens: list[_Token] = []
        self.nl = [i for i, c in enumerate(text) if c == "\n"]
        self.break_ok = break_ok
        self.continue_ok = continue_ok

    def line_of(self, pos: int) -> int:
        return 1 + bisect.bisect_left(self.nl, pos)

    def emit(self, typ, start, end):
        self.tokens.append(_Token(typ, self.text[start:end], start, self.line_of(start)))

    def error(self, msg, start):
        self.tokens.append(_Token(T_ERROR, msg, start, self.line_of(start)))
        self.tokens.append(_Token(T_EOF, "", len(self.text), self.line_of(len(self.text))))
        return self.tokens

    def at_right_delim(self, pos):
        t = self.text
        if t.startswith(" -}}", pos) or t.startswith("\t-}}", pos) or t.startswith("\r-}}", pos) \
                or t.startswith("\n-}}", pos):
            return True, True
        if t.startswith("}}", pos):
            return True, False
        return False, False

    def at_terminator(self, pos):
        t = self.text
        if pos >= len(t):
            return True
        c = t[pos]
        if c in _SPACE or c in ".,|:()":
            return True
        return t.startswith("}}", pos)

    def run(self) -> list[_Token]:
        t = self.text
        n = len(t)
        pos = 0
        while True:
            # lexText
            x = t.find("{{", pos)
            if x < 0:
                if pos < n:
                    self.emit(T_TEXT, pos, n)
                self.tokens.append(_Token(T_EOF, "", n, self.line_of(n)))
                return self.tokens
            after = x + 2
            trim_left = after + 1 < n and t[after] == "-" and t[after + 1] in _SPACE
            end_text = x
            if trim_left:
                end_text = len(t[pos:x].rstrip(_SPACE)) + pos
            if end_text > pos:
                self.emit(T_TEXT, pos, end_text)
            # lexLeftDelim
            pos = after
            after_marker = 2 if trim_left else 0
            if t.startswith("/*", pos + after_marker):
                # lexComment
                cstart = pos + after_marker
                k = t.find("*/", cstart + 2)
                if k < 0:
                    return self.error("unclosed comment", x)
                pos = k + 2
                delim, trim = self.at_right_delim(pos)
                if not delim:
                    return self.error("comment ends before closing delimiter", x)
                if trim:
                    pos += 2
                pos += 2
                if trim:
                    pos = n - len(t[pos:].lstrip(_SPACE))
                continue
            self.emit(T_LDELIM, x, x + 2)
            pos += after_marker
            r = self.lex_inside(pos)
            if r is None:
                return self.tokens
            pos = r

    @staticmethod
    def _closing_quote(t: str, pos: int, quote: str):
        """Index of the quote closing the literal opened at pos, or None when a newline or the
        end of the text comes first (escapes skip the next character)."""
        n = len(t)
        k = pos + 1
        while k < n and t[k] != "\n":
            if t[k] == "\\":
                if k + 1 >= n or t[k + 1] == "\n":
                    return None
                k += 2
                continue
            if t[k] == quote:
                return k
            k += 1
        return None

    def lex_inside(self, pos):
        """Lex one action; return the position after the right delimiter, or None on error."""
        t = self.text
        n = len(t)
        paren = 0
        while True:
            delim, trim = self.at_right_delim(pos)
            if delim:
                if paren != 0:
                    self.error("unclosed left paren", pos)
                    return None
                if trim:
                    pos += 2
                self.emit(T_RDELIM, pos, pos + 2)
                pos += 2
                if trim:
                    pos = n - len(t[pos:].lstrip(_SPACE))
                return pos
            if pos >= n:
                self.error("unclosed action", pos)
                return None
            c = t[pos]
            start = pos
            if c in _SPACE:
                k = pos
                while k < n and t[k] in _SPACE:
                    k += 1
                # a trim-marked closing delimiter starts with one space: don't eat it
                if t.startswith("-}}", k) and k - 1 >= pos:
                    if k - pos == 1:
                        pos = k - 1
                        # space is part of the trim marker; handled at loop top
                        delim, trim = self.at_right_delim(pos)
                        continue
                    k -= 1
                self.emit(T_SPACE, pos, k)
                pos = k
                continue
            if c == "=":
                self.emit(T_ASSIGN, pos, pos + 1)
                pos += 1
            elif c == ":":
                if pos + 1 >= n or t[pos + 1] != "=":
                    self.error("expected :=", pos)
                    return None
                self.emit(T_DECLARE, pos, pos + 2)
                pos += 2
            elif c == "|":
                self.emit(T_PIPE, pos, pos + 1)
                pos += 1
            elif c == '"' or c == "'":
                kind, what = (T_STRING, "quoted string") if c == '"' else (T_CHARCONST, "character constant")
                k = self._closing_quote(t, pos, c)
                if k is None:
                    self.error(f"unterminated {what}", start)
                    return None
                self.emit(kind, pos, k + 1)
                pos = k + 1
            elif c == "`":
                k = t.find("`", pos + 1)
                if k < 0:
                    self.error("unterminated raw quoted string", start)
                    return None
                self.emit(T_RAWSTRING, pos, k + 1)
                pos = k + 1
            elif c == "$":
                pos = self.lex_field_or_var(pos, T_VARIABLE)
                if pos is None:
                    return None
            elif c == "." and not (pos + 1 < n and "0" <= t[pos + 1] <= "9"):
                pos = self.lex_field_or_var(pos, T_FIELD)
                if pos is None:
                    return None
            elif c in "+-.0123456789":
                pos = self.lex_number(pos)
                if pos is None:
                    return None
            elif _is_alnum(c):
                k = pos
                while k < n and _is_alnum(t[k]):
                    k += 1
                word = t[pos:k]
                if not self.at_terminator(k):
                    self.error("bad character %s" % _pound_u(t[k]), start)
                    return None
                kw = _KEYWORDS.get(word)
                if kw is not None and kw > T_KEYWORD:
                    if (kw == T_BREAK and not self.break_ok) or (kw == T_CONTINUE and not self.continue_ok):
                        self.emit(T_IDENT, pos, k)
                    else:
                        self.emit(kw, pos, k)
                elif word in ("true", "false"):
                    self.emit(T_BOOL, pos, k)
                else:
                    self.emit(T_IDENT, pos, k)
                pos = k
            elif c == "(":
                paren += 1
                self.emit(T_LPAREN, pos, pos + 1)
                pos += 1
            elif c == ")":
                paren -= 1
                if paren < 0:
                    self.error("unexpected right paren", pos)
                    return None
                self.emit(T_RPAREN, pos, pos + 1)
                pos += 1
            elif ord(c) < 0x80 and c.isprintable():
                self.emit(T_CHAR, pos, pos + 1)
                pos += 1
            else:
                self.error("unrecognized character in action: %s" % _pound_u(c), start)
                return None

    def lex_field_or_var(self, pos, typ):
        t = self.text
        k = pos + 1
        if self.at_terminator(k):
            if typ == T_VARIABLE:
                self.emit(T_VARIABLE, pos, k)
            else:
                self.emit(T_DOT, pos, k)
            return k
        n = len(t)
        while k < n and _is_alnum(t[k]):
            k += 1
        if not self.at_terminator(k):
            self.error("bad character %s" % _pound_u(t[k]), pos)
            return None
        self.emit(typ, pos, k)
        return k

    def lex_number(self, pos):
        t = self.text
        n = len(t)
        k = pos

        def accept(chars):
            nonlocal k
            if k < n and t[k] in chars:
                k += 1
                return True
            return False

        def accept_run(chars):
            nonlocal k
            while k < n and t[k] in chars:
                k += 1

        accept("+-")
        digits = "0123456789_"
        if accept("0"):
            if accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif accept("oO"):
                digits = "01234567_"
            elif accept("bB"):
                digits = "01_"
        accept_run(digits)
        if accept("."):
            accept_run(digits)
        if len(digits) == 11 and accept("eE"):
            accept("+-")
            accept_run("0123456789_")
        if len(digits) == 23 and accept("pP"):
            accept("+-")
            accept_run("0123456789_")
        accept("i")
        if k < n and _is_alnum(t[k]):
            k += 1
            self.error("bad number syntax: %s" % go_quote(t[pos:k]), pos)
            return None
        self.emit(T_NUMBER, pos, k)
        return k


def _pound_u(c: str) -> str:
    # fmt %#U: U+0023 '#'
    s = "U+%04X" % ord(c)
    if _is_go_print(c):
        s += " '" + c + "'"
    return s


# ---------------------------------------------------------------------------------------------
# Parse tree (mirrors text/template/parse/node.go)


class _Tree:
    __slots__ = ("name", "parse_name", "text", "root", "_nl")

    def __init__(self, name, parse_name, text):
        self.name = name
        self.parse_name = parse_name
        self.text = text
        self.root = None
        self._nl = None

    def location(self, pos: int) -> str:
        text = self.text
        last_nl = text.rfind("\n", 0, pos)
        col = pos if last_nl < 0 else pos - (last_nl + 1)
        line = 1 + text.count("\n", 0, pos)
        return "%s:%d:%d" % (self.parse_name, line, col)


class _Node:
    __slots__ = ("pos", "tree")


class _ListNode(_Node):
    __slots__ = ("nodes",)

    def __init__(self, pos, tree):
        self.pos, self.tree, self.nodes = pos, tree, []

    def __str__(self):
        return "".join(str(n) for n in self.nodes)


class _TextNode(_Node):
    __slots__ = ("text",)

    def __init__(self, pos, tree, text):
        self.pos, self.tree, self.text = pos, tree, text

    def __str__(self):
        return self.text  # Go's textFormat is "%s"


class _CommentNode(_Node):
    __slots__ = ("text",)

    def __init__(self, pos, tree, text):
        self.pos, self.tree, self.text = pos, tree, text

    def __str__(self):
        return "{{" + self.text + "}}"


class _PipeNode(_Node):
    __slots__ = ("line", "is_assign", "decl", "cmds")

    def __init__(self, pos, tree, line):
        self.pos, self.tree, self.line = pos, tree, line
        self.is_assign = False
        self.decl = []
        self.cmds = []

    def __str__(self):
        s = ""
        if self.decl:
            s = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return s + " | ".join(str(c) for c in self.cmds)


class _ActionNode(_Node):
    __slots__ = ("line", "pipe")

    def __init__(self, pos, tree, line, pipe):
        self.pos, self.tree, self.line, self.pipe = pos, tree, line, pipe

    def __str__(self):
        return "{{" + str(self.pipe) + "}}"


class _CommandNode(_Node):
    __slots__ = ("args",)

    def __init__(self, pos, tree):
        self.pos, self.tree, self.args = pos, tree, []

    def __str__(self):
        parts = []
        for a in self.args:
            if isinstance(a, _PipeNode):
                parts.append("(" + str(a) + ")")
            else:
                parts.append(str(a))
        return " ".join(parts)


class _IdentifierNode(_Node):
    __slots__ = ("ident",)

    def __init__(self, pos, tree, ident):
        self.pos, self.tree, self.ident = pos, tree, ident

    def __str__(self):
        return self.ident


class _VariableNode(_Node):
    __slots__ = ("ident",)

    def __init__(self, pos, tree, text):
        self.pos, self.tree, self.ident = pos, tree, text.split(".")

    def __str__(self):
        return ".".join(self.ident)


class _DotNode(_Node):
    __slots__ = ()

    def __init__(self, pos, tree):
        self.pos, self.tree = pos, tree

    def __str__(self):
        return "."


class _NilNode(_Node):
    __slots__ = ()

    def __init__(self, pos, tree):
        self.pos, self.tree = pos, tree

    def __str__(self):
        return "nil"


class _FieldNode(_Node):
    __slots__ = ("ident",)

    def __init__(self, pos, tree, text):
        self.pos, self.tree = pos, tree
        self.ident = text[1:].split(".")

    def __str__(self):
        return "." + ".".join(self.ident)


class _ChainNode(_Node):
    __slots__ = ("node", "field")

    def __init__(self, pos, tree, node):
        self.pos, self.tree, self.node, self.field = pos, tree, node, []

    def add(self, field):
        if not field or field[0] != ".":
            raise ValueError("no dot in field")
        field = field[1:]
        if not field:
            raise ValueError("empty field")
        self.field.append(field)

    def __str__(self):
        if isinstance(self.node, _PipeNode):
            s = "(" + str(self.node) + ")"
        else:
            s = str(self.node)
        for f in self.field:
            s += "." + f
        return s


class _BoolNode(_Node):
    __slots__ = ("value",)

    def __init__(self, pos, tree, value):
        self.pos, self.tree, self.value = pos, tree, value

    def __str__(self):
        return "true" if self.value else "false"


class _NumberNode(_Node):
    __slots__ = ("text", "is_int", "is_uint", "is_float", "is_complex", "int_val", "float_val")

    def __init__(self, pos, tree, text):
        self.pos, self.tree, self.text = pos, tree, text
        self.is_int = self.is_uint = self.is_float = self.is_complex = False
        self.int_val = 0
        self.float_val = 0.0

    def __str__(self):
        return self.text


class _StringNode(_Node):
    __slots__ = ("quoted", "text")

    def __init__(self, pos, tree, quoted, text):
        self.pos, self.tree, self.quoted, self.text = pos, tree, quoted, text

    def __str__(self):
        return self.quoted


class _EndNode(_Node):
    __slots__ = ()

    def __init__(self, pos, tree):
        self.pos, self.tree = pos, tree

    def __str__(self):
        return "{{end}}"


class _ElseNode(_Node):
    __slots__ = ("line",)

    def __init__(self, pos, tree, line):
        self.pos, self.tree, self.line = pos, tree, line

    def __str__(self):
        return "{{else}}"


class _BranchNode(_Node):
    __slots__ = ("kind", "line", "pipe", "list", "else_list")

    def __init__(self, kind, pos, tree, line, pipe, lst, else_list):
        self.kind, self.pos, self.tree, self.line = kind, pos, tree, line
        self.pipe, self.list, self.else_list = pipe, lst, else_list

    def __str__(self):
        s = "{{" + self.kind + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            s += "{{else}}" + str(self.else_list)
        return s + "{{end}}"


class _BreakNode(_Node):
    __slots__ = ("line",)

    def __init__(self, pos, tree, line):
        self.pos, self.tree, self.line = pos, tree, line

    def __str__(self):
        return "{{break}}"


class _ContinueNode(_Node):
    __slots__ = ("line",)

    def __init__(self, pos, tree, line):
        self.pos, self.tree, self.line = pos, tree, line

    def __str__(self):
        return "{{continue}}"


class _TemplateNode(_Node):
    __slots__ = ("line", "name", "pipe")

    def __init__(self, pos, tree, line, name, pipe):
        self.pos, self.tree, self.line, self.name, self.pipe = pos, tree, line, name, pipe

    def __str__(self):
        if self.pipe is None:
            return "{{template %s}}" % go_quote(self.name)
        return "{{template %s %s}}" % (go_quote(self.name), self.pipe)


# ---------------------------------------------------------------------------------------------
# Go literal decoding (strconv.Unquote, ParseInt with base 0)


class _SyntaxError(Exception):
    pass


_SIMPLE_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
               "\\": "\\"}


def _unquote_char(s: str, i: int, quote: str) -> tuple[str, int]:
    c = s[i]
    if c != "\\":
        return c, i + 1
    i += 1
    if i >= len(s):
        raise _SyntaxError("invalid syntax")
    c = s[i]
    if c in _SIMPLE_ESC:
        return _SIMPLE_ESC[c], i + 1
    if c in "xuU":
        size = {"x": 2, "u": 4, "U": 8}[c]
        hexd = s[i + 1:i + 1 + size]
        if len(hexd) != size or any(h not in "0123456789abcdefABCDEF" for h in hexd):
            raise _SyntaxError("invalid syntax")
        v = int(hexd, 16)
        if c != "x" and (v > 0x10FFFF or 0xD800 <= v <= 0xDFFF):
            raise _SyntaxError("invalid syntax")
        return chr(v), i + 1 + size
    if c in "01234567":
        octd = s[i:i + 3]
        if len(octd) != 3 or any(o not in "01234567" for o in octd):
            raise _SyntaxError("invalid syntax")
        v = int(octd, 8)
        if v > 255:
            raise _SyntaxError("invalid syntax")
        return chr(v), i + 3
    if c == quote and c in "'\"":
        return c, i + 1
    raise _SyntaxError("invalid syntax")


def _unquote(s: str) -> str:
    if len(s) < 2:
        raise _SyntaxError("invalid syntax")
    q = s[0]
    if q != s[-1]:
        raise _SyntaxError("invalid syntax")
    body = s[1:-1]
    if q == "`":
        if "`" in body:
            raise _SyntaxError("invalid syntax")
        return body.replace("\r", "")
    if q != '"':
        raise _SyntaxError("invalid syntax")
    if "\\" not in body:
        if '"' in body or "\n" in body:
            raise _SyntaxError("invalid syntax")
        return body
    out = []
    i = 0
    while i < len(body):
        if body[i] == '"' or body[i] == "\n":
            raise _SyntaxError("invalid syntax")
        ch, i = _unquote_char(body, i, '"')
        out.append(ch)
    return "".join(out)


def _parse_go_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64)-like: base prefixes, underscores only after a prefix."""
    s = text
    neg = False
    if s[:1] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if not s:
        return None
    base = 10
    body = s
    low = s.lower()
    if low.startswith("0x"):
        base, body = 16, s[2:]
    elif low.startswith("0o"):
        base, body = 8, s[2:]
    elif low.startswith("0b"):
        base, body = 2, s[2:]
    elif len(s) > 1 and s[0] == "0":
        base, body = 8, s[1:]
    if "_" in body:
        # Go syntax: '_' only between digits, or right after a base prefix
        prefixed = base != 10 and not (base == 8 and not low.startswith("0o"))
        if (body.startswith("_") and not prefixed) or body.endswith("_") or "__" in body:
            return None
        body = body.replace("_", "")
    if not body:
        return None
    try:
        v = int(body, base)
    except ValueError:
        return None
    return -v if neg else v


def _parse_go_float(text: str) -> float | None:
    s = text.replace("_", "")
    try:
        if s.lower().lstrip("+-").startswith("0x"):
            return float.fromhex(s)
        if any(c in s for c in "xXoObB"):
            return None
        return float(s)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Parser (mirrors text/template/parse/parse.go)

_MAX_PIPELINE_CMDS = 100000
_MAX_STACK_DEPTH = 10000


class _Parser:
    def __init__(self, name, parse_name, text, tokens, funcs, tree_set):
        self.tokens = tokens
        self.i = 0
        self.furthest = 0
        self.funcs = funcs
        self.tree_set = tree_set
        self.tree = _Tree(name, parse_name, text)
        self.vars = ["$"]
        self.action_line = 0
        self.range_depth = 0
        self.stack_depth = 0

    # token stream -------------------------------------------------------------------------
    def next(self) -> _Token:
        i = self.i
        toks = self.tokens
        tok = toks[i] if i < len(toks) else toks[-1]
        if i > self.furthest:
            self.furthest = i
        self.i = i + 1
        return tok

    def backup(self, n=1):
        self.i -= n

    def peek(self) -> _Token:
        i = self.i
        toks = self.tokens
        if i > self.furthest:
            self.furthest = i
        return toks[i] if i < len(toks) else toks[-1]

    def next_non_space(self) -> _Token:
        while True:
            tok = self.next()
            if tok.typ != T_SPACE:
                return tok

    def peek_non_space(self) -> _Token:
        j = self.i
        toks = self.tokens
        last = len(toks) - 1
        while j < last and toks[j].typ == T_SPACE:
            j += 1
        if j > self.furthest:
            self.furthest = j
        self.i = j  # like Go, peeking consumes the spaces before the token
        return toks[min(j, last)]

    # errors -------------------------------------------------------------------------------
    def errorf(self, msg: str):
        idx = min(self.furthest, len(self.tokens) - 1)
        line = self.tokens[idx].line
        raise ParseError("template: %s:%d: %s" % (self.tree.parse_name, line, msg))

    def expect(self, typ, context) -> _Token:
        tok = self.next_non_space()
        if tok.typ != typ:
            self.unexpected(tok, context)
        return tok

    def expect_one_of(self, t1, t2, context) -> _Token:
        tok = self.next_non_space()
        if tok.typ != t1 and tok.typ != t2:
            self.unexpected(tok, context)
        return tok

    def unexpected(self, tok: _Token, context: str):
        if tok.typ == T_ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != tok.line:
                extra = " in action started at %s:%d" % (self.tree.parse_name, self.action_line)
                if tok.val.endswith(" action"):
                    extra = extra[len(" in action"):]
            raise ParseError("template: %s:%d: %s%s" % (self.tree.parse_name, tok.line, tok.val, extra))
        self.errorf("unexpected %s in %s" % (tok, context))

    def has_function(self, name):
        return name in self.funcs or name in _BUILTINS

    # grammar ------------------------------------------------------------------------------
    def parse(self):
        tree = self.tree
        root = _ListNode(self.peek().pos, tree)
        tree.root = root
        while self.peek().typ != T_EOF:
            if self.peek().typ == T_LDELIM:
                delim_i = self.i
                self.next()
                if self.next_non_space().typ == T_DEFINE:
                    sub = _Parser("definition", tree.parse_name, tree.text, self.tokens,
                                  self.funcs, self.tree_set)
                    sub.i = self.i
                    sub.furthest = self.furthest
                    sub.parse_definition()
                    self.i = sub.i
                    self.furthest = max(self.furthest, sub.furthest)
                    continue
                self.i = delim_i
            n = self.text_or_action()
            if isinstance(n, (_EndNode, _ElseNode)):
                self.errorf("unexpected %s" % n)
            root.nodes.append(n)
        self.add()
        return tree

    def add(self):
        t = self.tree
        old = self.tree_set.get(t.name)
        if old is None or _is_empty_tree(old.root):
            self.tree_set[t.name] = t
            return
        if not _is_empty_tree(t.root):
            self.errorf("template: multiple definition of template %s" % go_quote(t.name))

    def parse_definition(self):
        context = "define clause"
        tok = self.expect_one_of(T_STRING, T_RAWSTRING, context)
        try:
            self.tree.name = _unquote(tok.val)
        except _SyntaxError as e:
            self.errorf(str(e))
        self.expect(T_RDELIM, context)
        root, end = self.item_list()
        self.tree.root = root
        if not isinstance(end, _EndNode):
            self.errorf("unexpected %s in %s" % (end, context))
        self.add()

    def item_list(self):
        lst = _ListNode(self.peek_non_space().pos, self.tree)
        while self.peek_non_space().typ != T_EOF:
            n = self.text_or_action()
            if isinstance(n, (_EndNode, _ElseNode)):
                return lst, n
            lst.nodes.append(n)
        self.errorf("unexpected EOF")

    def text_or_action(self):
        tok = self.next_non_space()
        if tok.typ == T_TEXT:
            return _TextNode(tok.pos, self.tree, tok.val)
        if tok.typ == T_LDELIM:
            self.action_line = tok.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if tok.typ == T_COMMENT:
            return _CommentNode(tok.pos, self.tree, tok.val)
        self.unexpected(tok, "input")

    def action(self):
        tok = self.next_non_space()
        typ = tok.typ
        if typ == T_BLOCK:
            return self.block_control()
        if typ == T_BREAK:
            return self.break_control(tok.pos, tok.line)
        if typ == T_CONTINUE:
            return self.continue_control(tok.pos, tok.line)
        if typ == T_ELSE:
            return self.else_control()
        if typ == T_END:
            return _EndNode(self.expect(T_RDELIM, "end").pos, self.tree)
        if typ == T_IF:
            return self.parse_control("if")
        if typ == T_RANGE:
            return self.parse_control("range")
        if typ == T_TEMPLATE:
            return self.template_control()
        if typ == T_WITH:
            return self.parse_control("with")
        self.backup()
        tok = self.peek()
        return _ActionNode(tok.pos, self.tree, tok.line, self.pipeline("command", T_RDELIM))

    def break_control(self, pos, line):
        tok = self.next_non_space()
        if tok.typ != T_RDELIM:
            self.unexpected(tok, "{{break}}")
        if self.range_depth == 0:
            self.errorf("{{break}} outside {{range}}")
        return _BreakNode(pos, self.tree, line)

    def continue_control(self, pos, line):
        tok = self.next_non_space()
        if tok.typ != T_RDELIM:
            self.unexpected(tok, "{{continue}}")
        if self.range_depth == 0:
            self.errorf("{{continue}} outside {{range}}")
        return _ContinueNode(pos, self.tree, line)

    def pipeline(self, context, end):
        tok = self.peek_non_space()
        pipe = _PipeNode(tok.pos, self.tree, tok.line)
        while True:  # decls (loops only for the second variable of a range)
            v = self.peek_non_space()
            if v.typ != T_VARIABLE:
                break
            save = self.i
            self.next_non_space()
            token_after = self.peek()
            nxt = self.peek_non_space()
            if nxt.typ in (T_ASSIGN, T_DECLARE):
                pipe.is_assign = nxt.typ == T_ASSIGN
                self.next_non_space()
                pipe.decl.append(_VariableNode(v.pos, self.tree, v.val))
                self.vars.append(v.val)
                break
            if nxt.typ == T_CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(_VariableNode(v.pos, self.tree, v.val))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    p = self.peek_non_space().typ
                    if p in (T_VARIABLE, T_RDELIM, T_RPAREN):
                        continue
                    self.errorf("range can only initialize variables")
                self.errorf("too many declarations in %s" % context)
            self.i = save
            _ = token_after
            break
        while True:
            tok = self.next_non_space()
            if tok.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.typ in (T_BOOL, T_CHARCONST, T_DOT, T_FIELD, T_IDENT, T_NUMBER, T_NIL,
                           T_RAWSTRING, T_STRING, T_VARIABLE, T_LPAREN):
                self.backup()
                pipe.cmds.append(self.command())
                if len(pipe.cmds) > _MAX_PIPELINE_CMDS:
                    self.errorf("pipeline too long")
            else:
                self.unexpected(tok, context)

    def check_pipeline(self, pipe, context):
        if not pipe.cmds:
            self.errorf("missing value for %s" % context)
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], (_BoolNode, _DotNode, _NilNode, _NumberNode, _StringNode)):
                self.errorf("non executable command in pipeline stage %d" % (i + 2))

    def parse_control(self, context):
        nvars = len(self.vars)
        try:
            pipe = self.pipeline(context, T_RDELIM)
            if context == "range":
                self.range_depth += 1
            lst, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list = None
            if isinstance(nxt, _ElseNode):
                if context == "if" and self.peek().typ == T_IF:
                    self.next()
                    else_list = _ListNode(nxt.pos, self.tree)
                    else_list.nodes.append(self.parse_control("if"))
                elif context == "with" and self.peek().typ == T_WITH:
                    self.next()
                    else_list = _ListNode(nxt.pos, self.tree)
                    else_list.nodes.append(self.parse_control("with"))
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, _EndNode):
                        self.errorf("expected end; found %s" % nxt)
            return _BranchNode(context, pipe.pos, self.tree, pipe.line, pipe, lst, else_list)
        finally:
            del self.vars[nvars:]

    def else_control(self):
        peek = self.peek_non_space()
        if peek.typ in (T_IF, T_WITH):
            return _ElseNode(peek.pos, self.tree, peek.line)
        tok = self.expect(T_RDELIM, "else")
        return _ElseNode(tok.pos, self.tree, tok.line)

    def parse_template_name(self, tok, context):
        if tok.typ in (T_STRING, T_RAWSTRING):
            try:
                return _unquote(tok.val)
            except _SyntaxError as e:
                self.errorf(str(e))
        self.unexpected(tok, context)

    def block_control(self):
        context = "block clause"
        tok = self.next_non_space()
        name = self.parse_template_name(tok, context)
        pipe = self.pipeline(context, T_RDELIM)
        sub = _Parser(name, self.tree.parse_name, self.tree.text, self.tokens, self.funcs,
                      self.tree_set)
        sub.i = self.i
        sub.furthest = self.furthest
        root, end = sub.item_list()
        sub.tree.root = root
        if not isinstance(end, _EndNode):
            self.errorf("unexpected %s in %s" % (end, context))
        sub.add()
        self.i = sub.i
        self.furthest = max(self.furthest, sub.furthest)
        return _TemplateNode(tok.pos, self.tree, tok.line, name, pipe)

    def template_control(self):
        context = "template clause"
        tok = self.next_non_space()
        name = self.parse_template_name(tok, context)
        pipe = None
        if self.next_non_space().typ != T_RDELIM:
            self.backup()
            pipe = self.pipeline(context, T_RDELIM)
        return _TemplateNode(tok.pos, self.tree, tok.line, name, pipe)

    def command(self):
        cmd = _CommandNode(self.peek_non_space().pos, self.tree)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.typ == T_SPACE:
                continue
            if tok.typ in (T_RDELIM, T_RPAREN):
                self.backup()
            elif tok.typ == T_PIPE:
                pass
            else:
                self.unexpected(tok, "operand")
            break
        if not cmd.args:
            self.errorf("empty command")
        return cmd

    def operand(self):
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == T_FIELD:
            chain = _ChainNode(self.peek().pos, self.tree, node)
            while self.peek().typ == T_FIELD:
                chain.add(self.next().val)
            if isinstance(node, _FieldNode):
                node = _FieldNode(chain.pos, self.tree, str(chain))
            elif isinstance(node, _VariableNode):
                node = _VariableNode(chain.pos, self.tree, str(chain))
            elif isinstance(node, (_BoolNode, _StringNode, _NumberNode, _NilNode, _DotNode)):
                self.errorf("unexpected . after term %s" % go_quote(str(node)))
            else:
                node = chain
        return node

    def term(self):
        tok = self.next_non_space()
        typ = tok.typ
        if typ == T_IDENT:
            if not self.has_function(tok.val):
                self.errorf("function %s not defined" % go_quote(tok.val))
            return _IdentifierNode(tok.pos, self.tree, tok.val)
        if typ == T_DOT:
            return _DotNode(tok.pos, self.tree)
        if typ == T_NIL:
            return _NilNode(tok.pos, self.tree)
        if typ == T_VARIABLE:
            return self.use_var(tok.pos, tok.val)
        if typ == T_FIELD:
            return _FieldNode(tok.pos, self.tree, tok.val)
        if typ == T_BOOL:
            return _BoolNode(tok.pos, self.tree, tok.val == "true")
        if typ in (T_CHARCONST, T_NUMBER):
            return self.new_number(tok)
        if typ == T_LPAREN:
            if self.stack_depth >= _MAX_STACK_DEPTH:
                self.errorf("max expression depth exceeded")
            self.stack_depth += 1
            try:
                return self.pipeline("parenthesized pipeline", T_RPAREN)
            finally:
                self.stack_depth -= 1
        if typ in (T_STRING, T_RAWSTRING):
            try:
                s = _unquote(tok.val)
            except _SyntaxError as e:
                self.errorf(str(e))
            return _StringNode(tok.pos, self.tree, tok.val, s)
        self.backup()
        return None

    def use_var(self, pos, name):
        v = _VariableNode(pos, self.tree, name)
        if v.ident[0] in self.vars:
            return v
        self.errorf("undefined variable %s" % go_quote(v.ident[0]))

    def new_number(self, tok):
        text = tok.val
        n = _NumberNode(tok.pos, self.tree, text)
        if tok.typ == T_CHARCONST:
            try:
                ch, i = _unquote_char(text, 1, "'")
            except (_SyntaxError, IndexError):
                self.errorf("invalid syntax")
            if text[i:] != "'":
                self.errorf("malformed character constant: %s" % text)
            n.is_int = n.is_uint = n.is_float = True
            n.int_val = ord(ch)
            n.float_val = float(ord(ch))
            return n
        if text.endswith("i"):
            f = _parse_go_float(text[:-1])
            if f is not None:
                n.is_complex = True
                if f == 0:
                    n.is_int = n.is_uint = n.is_float = True
                return n
        iv = _parse_go_int(text)
        if iv is not None:
            if -(1 << 63) <= iv < (1 << 63):
                n.is_int = True
                n.int_val = iv
            if 0 <= iv < (1 << 64):
                n.is_uint = True
                n.int_val = iv
        if n.is_int or n.is_uint:
            n.is_float = True
            n.float_val = float(iv)
        else:
            f = _parse_go_float(text)
            if f is not None:
                if not any(c in text for c in ".eEpP"):
                    self.errorf("integer overflow: %s" % go_quote(text))
                n.is_float = True
                n.float_val = f
                if math.isfinite(f) and f == int(f):
                    iv = int(f)
                    if -(1 << 63) <= iv < (1 << 63):
                        n.is_int = True
                        n.int_val = iv
                    if 0 <= iv < (1 << 64):
                        n.is_uint = True
                        n.int_val = iv
        if not (n.is_int or n.is_uint or n.is_float):
            self.errorf("illegal number syntax: %s" % go_quote(text))
        return n


def _is_empty_tree(n) -> bool:
    if n is None:
        return True
    if isinstance(n, _ListNode):
        return all(_is_empty_tree(x) for x in n.nodes)
    if isinstance(n, _CommentNode):
        return True
    if isinstance(n, _TextNode):
        return n.text.strip(" \t\r\n\v\f") == ""
    return False


# ---------------------------------------------------------------------------------------------
# Execution state

class _State:
    __slots__ = ("name", "out", "vars", "depth", "common")

    def __init__(self, name, out, vars_, depth, common):
        self.name = name
        self.out = out
        self.vars = vars_
        self.depth = depth
        self.common = common


_MAX_EXEC_DEPTH = 100000


def _fail(st: _State, node, msg: str):
    name = st.name
    if node is None:
        raise ExecError("template: %s: %s" % (name, msg), name)
    loc = node.tree.location(node.pos)
    raise ExecError('template: %s: executing %s at <%s>: %s' % (loc, go_quote(name), node, msg), name)


def _var_value(st, node, name):
    vs = st.vars
    for i in range(len(vs) - 1, -1, -1):
        if vs[i][0] == name:
            return vs[i][1]
    _fail(st, node, "undefined variable: %s" % name)


def _set_var(st, node, name, value):
    vs = st.vars
    for i in range(len(vs) - 1, -1, -1):
        if vs[i][0] == name:
            vs[i][1] = value
            return
    _fail(st, node, "undefined variable: %s" % name)


def _print_value(st, node, v) -> str:
    if v is MISSING or v is None:
        return "<no value>"
    t = type(v)
    if t is str:
        return v
    if v is True:
        return "true"
    if v is False:
        return "false"
    if t is int:
        return str(v)
    if t is float:
        return format_float(v, "g", -1)
    if callable(v) and not hasattr(v, "__go_str__") and not isinstance(v, (dict, list, tuple)) \
            and not hasattr(v, "__go_field__"):
        _fail(st, node, "can't print %s of type %s" % (node, go_type_name(v)))
    return format_value(v)


# Go type checking of function arguments ------------------------------------------------------

_NILABLE_PREFIXES = ("*", "[]", "map[", "func", "chan", "interface")


def _can_be_nil(typ: str | None) -> bool:
    if typ is None:
        return True
    return typ.startswith(_NILABLE_PREFIXES) or typ in ("any", "error", "reflect.Value")


def _is_iface(typ: str | None) -> bool:
    return typ is None or typ in ("interface {}", "any", "reflect.Value")


def _assignable(value, typ: str) -> bool:
    if _is_iface(typ):
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
                return typ == "[]interface {}" or all(_assignable(x, typ[2:]) for x in value)
            return vt == typ
        return getattr(value, "__go_type__", None) == typ
    vt = getattr(value, "__go_type__", None)
    return vt is None or vt == typ or vt.lstrip("*") == typ.lstrip("*")


def _validate(st, node, value, typ):
    """Go's state.validateType for a function argument of type typ (None = interface{})."""
    if value is MISSING:
        if typ == "reflect.Value":
            return MISSING
        if _can_be_nil(typ):
            return None
        _fail(st, node, "invalid value; expected %s" % typ)
    if typ is None or typ == "reflect.Value" or typ == "interface {}" or typ == "any":
        return value
    if value is None:
        if _can_be_nil(typ):
            return None
        _fail(st, node, "wrong type for value; expected %s; got interface {}" % typ)
    if not _assignable(value, typ):
        _fail(st, node, "wrong type for value; expected %s; got %s" % (typ, go_type_name(value)))
    return value


# ---------------------------------------------------------------------------------------------
# Built-in functions. Each builtin gets raw values (MISSING kept: Go passes reflect.Values).


class _GoFuncError(Exception):
    pass


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


def _builtin_eq(arg1, *arg2):
    arg1 = _unwrap_basic(arg1)
    if not arg2:
        raise _GoFuncError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in arg2:
        arg = _unwrap_basic(arg)
        k2 = _basic_kind(arg)
        truth = False
        if k1 != k2:
            if k1 != "invalid" and k2 != "invalid":
                raise _GoFuncError("incompatible types for comparison")
        elif k1 in ("bool", "int", "float", "string"):
            truth = arg1 == arg
        else:
            nil1 = arg1 is None or arg1 is MISSING or not _truth_nilptr(arg1)
            nil2 = arg is None or arg is MISSING or not _truth_nilptr(arg)
            if nil1 or nil2:
                truth = nil1 == nil2
            else:
                if isinstance(arg, (dict, list)) or isinstance(arg1, (dict, list)):
                    raise _GoFuncError("non-comparable type %s: %s" % (format_value(arg), go_type_name(arg)))
                truth = arg1 == arg
        if truth:
            return True
    return False


def _truth_nilptr(v) -> bool:
    # only typed nil pointers (NilPtr-like) count as nil here
    t = getattr(v, "__go_truth__", None)
    if t is not None and not hasattr(v, "__go_len__"):
        return bool(t())
    return True


def _builtin_ne(a, b):
    return not _builtin_eq(a, b)


def _builtin_lt(a, b):
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


def _builtin_le(a, b):
    if _builtin_lt(a, b):
        return True
    return _builtin_eq(a, b)


def _builtin_gt(a, b):
    return not _builtin_le(a, b)


def _builtin_ge(a, b):
    return not _builtin_lt(a, b)


def _builtin_not(a):
    return not _truth(a)


def _builtin_len(item):
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
    t = getattr(item, "__go_truth__", None)
    if t is not None and not t():
        raise _GoFuncError("len of nil pointer")
    raise _GoFuncError("len of type %s" % go_type_name(item))


def _index_arg(index, cap):
    if index is None or index is MISSING:
        raise _GoFuncError("cannot index slice/array with nil")
    if isinstance(index, bool) or not isinstance(index, int):
        raise _GoFuncError("cannot index slice/array with type %s" % go_type_name(index))
    if index < 0 or index >= cap:
        raise _GoFuncError("index out of range: %d" % index)
    return index


def _builtin_index(item, *indexes):
    if item is MISSING or item is None:
        raise _GoFuncError("index of untyped nil")
    for index in indexes:
        if isinstance(item, (list, tuple)):
            item = item[_index_arg(index, len(item))]
        elif isinstance(item, str):
            b = item.encode("utf-8")
            item = b[_index_arg(index, len(b))]
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
            t = getattr(item, "__go_truth__", None)
            if t is not None and not t():
                raise _GoFuncError("index of nil pointer")
            raise _GoFuncError("can't index item of type %s" % go_type_name(item))
    return item


def _builtin_slice(item, *indexes):
    if item is MISSING or item is None:
        raise _GoFuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise _GoFuncError("too many slice indexes: %d" % len(indexes))
    if isinstance(item, str):
        if len(indexes) == 3:
            raise _GoFuncError("cannot 3-index slice a string")
        seq = item.encode("utf-8")
        cap = len(seq)
    elif isinstance(item, (list, tuple)):
        seq = item
        cap = len(item)
    else:
        raise _GoFuncError("can't slice item of type %s" % go_type_name(item))
    idx = [0, len(seq)]
    for i, index in enumerate(indexes):
        if index is None or index is MISSING:
            raise _GoFuncError("cannot index slice/array with nil")
        if isinstance(index, bool) or not isinstance(index, int):
            raise _GoFuncError("cannot index slice/array with type %s" % go_type_name(index))
        if index < 0 or index > cap:
            raise _GoFuncError("index out of range: %d" % index)
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
    return [None if a is MISSING else a for a in args]


def _builtin_print(*args):
    return sprint(*_iface(args))


def _builtin_println(*args):
    return sprintln(*_iface(args))


def _builtin_printf(fmt, *args):
    return sprintf(fmt, *_iface(args))


def _eval_args_string(args):
    args = _iface(args)
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(*args)


def _html_escape(s: str) -> str:
    out = []
    for c in s:
        if c == '"':
            out.append("&#34;")
        elif c == "'":
            out.append("&#39;")
        elif c == "&":
            out.append("&amp;")
        elif c == "<":
            out.append("&lt;")
        elif c == ">":
            out.append("&gt;")
        elif c == "\0":
            out.append("\ufffd")
        else:
            out.append(c)
    return "".join(out)


def _js_escape(s: str) -> str:
    out = []
    for c in s:
        o = ord(c)
        if c == "\\":
            out.append("\\\\")
        elif c == "'":
            out.append("\\'")
        elif c == '"':
            out.append('\\"')
        elif c == "<":
            out.append("\\u003C")
        elif c == ">":
            out.append("\\u003E")
        elif c == "&":
            out.append("\\u0026")
        elif c == "=":
            out.append("\\u003D")
        elif o < 0x80:
            if c.isprintable():
                out.append(c)
            else:
                out.append("\\u%04X" % o)
        elif _is_go_print(c):
            out.append(c)
        else:
            out.append("\\u%04X" % o if o < 0x10000 else "\\U%08X" % o)
    return "".join(out)


def _url_query_escape(s: str) -> str:
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


def _builtin_html(*args):
    return _html_escape(_eval_args_string(args))


def _builtin_js(*args):
    return _js_escape(_eval_args_string(args))


def _builtin_urlquery(*args):
    return _url_query_escape(_eval_args_string(args))


def _builtin_call(fn, *args):
    if fn is None or fn is MISSING:
        raise _GoFuncError("call of nil")
    if not callable(fn):
        raise _GoFuncError("non-function of type %s" % go_type_name(fn))
    return fn(*_iface(args))


_BUILTINS: dict[str, Callable] = {
    "and": None, "or": None,  # short-circuit: compiled specially
    "call": _builtin_call, "html": _builtin_html, "index": _builtin_index, "slice": _builtin_slice,
    "js": _builtin_js, "len": _builtin_len, "not": _builtin_not, "print": _builtin_print,
    "printf": _builtin_printf, "println": _builtin_println, "urlquery": _builtin_urlquery,
    "eq": _builtin_eq, "ge": _builtin_ge, "gt": _builtin_gt, "le": _builtin_le,
    "lt": _builtin_lt, "ne": _builtin_ne,
}
BUILTIN_NAMES = frozenset(_BUILTINS)

# (fixed parameter types, variadic element type) with reflect.Value for "keep MISSING"
_RV = "reflect.Value"
_BUILTIN_SIGS = {
    "and": ((_RV,), _RV), "or": ((_RV,), _RV), "call": ((_RV,), _RV), "html": ((), None),
    "index": ((_RV,), _RV), "slice": ((_RV,), _RV), "js": ((), None), "len": ((_RV,), False),
    "not": ((_RV,), False), "print": ((), None), "printf": (("string",), None),
    "println": ((), None), "urlquery": ((), None), "eq": ((_RV,), _RV), "ge": ((_RV, _RV), False),
    "gt": ((_RV, _RV), False), "le": ((_RV, _RV), False), "lt": ((_RV, _RV), False),
    "ne": ((_RV, _RV), False),
}


def _func_signature(fn) -> tuple[tuple, Any]:
    """(param types, variadic elem type | None-for-interface | False-for-not-variadic).

    Types are None (interface{}) unless declared through __go_signature__."""
    sig = getattr(fn, "__go_signature__", None)
    if sig is not None:
        params, variadic = sig
        return tuple(params), (False if variadic is None and not getattr(fn, "__go_variadic_iface__", False)
                               else variadic)
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


# ---------------------------------------------------------------------------------------------
# Compiler: parse tree -> closures.


class _Compiler:
    def __init__(self, common):
        self.common = common
        self.missingkey = common.missingkey

    # statements ---------------------------------------------------------------------------
    def list(self, lst):
        fns = [self.node(n) for n in lst.nodes]
        fns = [f for f in fns if f is not None]
        if len(fns) == 1:
            return fns[0]

        def run_list(st, dot):
            for f in fns:
                f(st, dot)
        return run_list

    def node(self, n):
        if isinstance(n, _TextNode):
            text = n.text

            def text_node(st, dot):
                st.out.append(text)
            return text_node
        if isinstance(n, _CommentNode):
            return None
        if isinstance(n, _ActionNode):
            pipe = self.pipe(n.pipe)
            if n.pipe.decl:
                def decl_action(st, dot):
                    pipe(st, dot)
                return decl_action

            def action(st, dot):
                v = pipe(st, dot)
                t = type(v)
                if t is str:
                    st.out.append(v)
                else:
                    st.out.append(_print_value(st, n, v))
            return action
        if isinstance(n, _BranchNode):
            if n.kind == "range":
                return self.range(n)
            return self.if_with(n)
        if isinstance(n, _TemplateNode):
            return self.template(n)
        if isinstance(n, _BreakNode):
            def brk(st, dot):
                raise _BreakLoop()
            return brk
        if isinstance(n, _ContinueNode):
            def cont(st, dot):
                raise _ContinueLoop()
            return cont
        if isinstance(n, _ListNode):
            return self.list(n)
        raise TemplateError("unknown node: %s" % n)

    def if_with(self, n):
        pipe = self.pipe(n.pipe)
        body = self.list(n.list)
        else_body = self.list(n.else_list) if n.else_list is not None else None
        is_with = n.kind == "with"

        def if_node(st, dot):
            vs = st.vars
            mark = len(vs)
            v = pipe(st, dot)
            if v is True or (v is not False and _truth(v)):
                if is_with:
                    body(st, v)
                else:
                    body(st, dot)
            elif else_body is not None:
                else_body(st, dot)
            del vs[mark:]
        return if_node

    def range(self, n):
        pipe = self.pipe(n.pipe)
        body = self.list(n.list)
        else_body = self.list(n.else_list) if n.else_list is not None else None
        ndecl = len(n.pipe.decl)

        def range_node(st, dot):
            vs = st.vars
            mark0 = len(vs)
            val = pipe(st, dot)
            mark = len(vs)

            def one(index, elem):
                if ndecl > 0:
                    vs[mark - 1][1] = elem
                if ndecl > 1:
                    vs[mark - 2][1] = index
                try:
                    body(st, elem)
                except _ContinueLoop:
                    pass
                finally:
                    del vs[mark:]

            ran = False
            rng = getattr(val, "__go_range__", None)
            if rng is not None:
                val = rng()
            try:
                if isinstance(val, (list, tuple)):
                    for i, e in enumerate(val):
                        ran = True
                        one(i, e)
                elif isinstance(val, dict):
                    for k in sorted_keys(val):
                        ran = True
                        one(k, val[k])
                elif val is None or val is MISSING:
                    pass
                elif isinstance(val, int) and not isinstance(val, bool):
                    if ndecl > 1:
                        _fail(st, n, "can't use %s to iterate over more than one variable" % val)
                    for i in range(val):
                        ran = True
                        one(i, i)
                elif getattr(val, "__go_truth__", None) is not None and not val.__go_truth__():
                    pass
                else:
                    _fail(st, n, "range can't iterate over %s" % format_value(val))
            except _BreakLoop:
                pass
            if not ran and else_body is not None:
                else_body(st, dot)
            del vs[mark0:]
        return range_node

    def template(self, n):
        pipe = self.pipe(n.pipe) if n.pipe is not None else None
        name = n.name
        common = self.common

        def template_node(st, dot):
            tmpl = common.compiled.get(name)
            if tmpl is None:
                tree = common.trees.get(name)
                if tree is None or tree.root is None:
                    _fail(st, n, "template %s not defined" % go_quote(name))
                tmpl = common.compile(name)
            if st.depth >= _MAX_EXEC_DEPTH:
                _fail(st, n, "exceeded maximum template depth (%d)" % _MAX_EXEC_DEPTH)
            newdot = pipe(st, dot) if pipe is not None else MISSING
            sub = _State(name, st.out, [["$", newdot]], st.depth + 1, st.common)
            tmpl(sub, newdot)
        return template_node

    # expressions --------------------------------------------------------------------------
    def pipe(self, p):
        cmds = [self.command(c) for c in p.cmds]
        decl = [v.ident[0] for v in p.decl]
        is_assign = p.is_assign
        decl_nodes = p.decl

        if len(cmds) == 1 and not decl:
            c0 = cmds[0]

            def pipe1(st, dot):
                v = c0(st, dot, _NOFINAL)
                if v is None:
                    return MISSING
                return v
            return pipe1

        def pipe_n(st, dot):
            v = _NOFINAL
            for c in cmds:
                v = c(st, dot, v)
                if v is None:
                    v = MISSING
            for name, vn in zip(decl, decl_nodes):
                if is_assign:
                    _set_var(st, vn, name, v)
                else:
                    st.vars.append([name, v])
            return v
        return pipe_n

    def command(self, cmd):
        first = cmd.args[0]
        args = cmd.args
        if isinstance(first, _FieldNode):
            return self.field_chain_cmd(first, None, first.ident, args)
        if isinstance(first, _ChainNode):
            recv = self.arg_value(first.node)
            return self.field_chain_cmd(first, recv, first.field, args)
        if isinstance(first, _IdentifierNode):
            return self.function(first, cmd, args)
        if isinstance(first, _PipeNode):
            inner = self.pipe(first)
            check = self.not_a_function(args)

            def paren_cmd(st, dot, final):
                check(st, final)
                return inner(st, dot)
            return paren_cmd
        if isinstance(first, _VariableNode):
            name = first.ident[0]
            if len(first.ident) == 1:
                check = self.not_a_function(args)

                def var_cmd(st, dot, final):
                    v = _var_value(st, first, name)
                    check(st, final)
                    return v
                return var_cmd

            def var_recv(st, dot):
                return _var_value(st, first, name)
            return self.field_chain_cmd(first, var_recv, first.ident[1:], args)
        check = self.not_a_function(args, first)
        const = self.literal(first)

        def literal_cmd(st, dot, final):
            check(st, final)
            return const(st, dot)
        return literal_cmd

    def not_a_function(self, args, at=None):
        many = len(args) > 1
        node0 = args[0]

        def check(st, final):
            if many or final is not _NOFINAL:
                _fail(st, at if at is not None else node0,
                      "can't give argument to non-function %s" % node0)
        return check

    def literal(self, n):
        if isinstance(n, _BoolNode):
            v = n.value
            return lambda st, dot: v
        if isinstance(n, _DotNode):
            return lambda st, dot: dot
        if isinstance(n, _StringNode):
            s = n.text
            return lambda st, dot: s
        if isinstance(n, _NumberNode):
            return self.ideal_constant(n)
        if isinstance(n, _NilNode):
            def nil_cmd(st, dot):
                _fail(st, n, "nil is not a command")
            return nil_cmd

        def bad(st, dot):
            _fail(st, n, "can't evaluate command %s" % go_quote(str(n)))
        return bad

    def ideal_constant(self, n):
        if n.is_complex:
            def cplx(st, dot):
                _fail(st, n, "complex constants are not supported")
            return cplx
        text = n.text
        is_hex_int = len(text) > 2 and text[0] == "0" and text[1] in "xX" and not any(c in text for c in "pP")
        if n.is_float and not is_hex_int and not text.startswith("'") and any(c in text for c in ".eEpP"):
            f = n.float_val
            return lambda st, dot: f
        if n.is_int:
            i = n.int_val
            return lambda st, dot: i
        if n.is_uint:
            def overflow(st, dot):
                _fail(st, n, "%s overflows int" % text)
            return overflow
        return lambda st, dot: MISSING

    def arg_value(self, n):
        """Evaluate a node as an untyped argument (evalArg with typ == nil): MISSING kept."""
        if isinstance(n, _DotNode):
            return lambda st, dot: dot
        if isinstance(n, _NilNode):
            return lambda st, dot: None
        if isinstance(n, _FieldNode):
            c = self.field_chain_cmd(n, None, n.ident, [n])
            return lambda st, dot: c(st, dot, _NOFINAL)
        if isinstance(n, _VariableNode):
            c = self.command(_single_cmd(n))
            return lambda st, dot: c(st, dot, _NOFINAL)
        if isinstance(n, _PipeNode):
            return self.pipe(n)
        if isinstance(n, _IdentifierNode):
            c = self.function(n, n, [n])
            return lambda st, dot: c(st, dot, _NOFINAL)
        if isinstance(n, _ChainNode):
            c = self.command(_single_cmd(n))
            return lambda st, dot: c(st, dot, _NOFINAL)
        return self.literal(n)

    def typed_arg(self, n, typ):
        """evalArg(dot, typ, n): returns f(st, dot) -> value checked against typ."""
        if isinstance(n, (_DotNode, _FieldNode, _VariableNode, _PipeNode, _IdentifierNode, _ChainNode)):
            getv = self.arg_value(n)
            if typ is None:
                def iface_arg(st, dot):
                    v = getv(st, dot)
                    return None if v is MISSING else v
                return iface_arg
            if typ == _RV:
                return getv

            def checked_arg(st, dot):
                return _validate(st, n, getv(st, dot), typ)
            return checked_arg
        if isinstance(n, _NilNode):
            if _can_be_nil(typ):
                return lambda st, dot: None if typ != _RV else MISSING

            def nil_arg(st, dot):
                _fail(st, n, "cannot assign nil to %s" % typ)
            return nil_arg
        if _is_iface(typ):
            return self.literal(n)
        if typ == "string":
            if isinstance(n, _StringNode):
                s = n.text
                return lambda st, dot: s
            return self._expected(n, "string")
        if typ == "bool":
            if isinstance(n, _BoolNode):
                b = n.value
                return lambda st, dot: b
            return self._expected(n, "bool")
        if typ.startswith("int"):
            if isinstance(n, _NumberNode) and n.is_int:
                i = n.int_val
                return lambda st, dot: i
            return self._expected(n, "integer")
        if typ.startswith("uint"):
            if isinstance(n, _NumberNode) and n.is_uint:
                i = n.int_val
                return lambda st, dot: i
            return self._expected(n, "unsigned integer")
        if typ.startswith("float"):
            if isinstance(n, _NumberNode) and n.is_float:
                f = n.float_val
                return lambda st, dot: f
            return self._expected(n, "float")

        def cant(st, dot):
            _fail(st, n, "can't handle %s for arg of type %s" % (n, typ))
        return cant

    def _expected(self, n, what):
        def exp(st, dot):
            _fail(st, n, "expected %s; found %s" % (what, n))
        return exp

    def function(self, ident, cmd_node, args):
        name = ident.ident
        if name == "and" or name == "or":
            return self.and_or(ident, cmd_node, args, name == "and")
        fn = self.common.funcs.get(name)
        if fn is None:
            fn = _BUILTINS.get(name)
            if fn is None:
                def undefined(st, dot, final):
                    _fail(st, ident, "%s is not a defined function" % go_quote(name))
                return undefined
            params, variadic = _BUILTIN_SIGS[name]
            builtin = True
        else:
            params, variadic = _func_signature(fn)
            builtin = False
        return self.call(fn, ident, cmd_node, name, args[1:], params, variadic, builtin)

    def call(self, fn, at_node, err_node, name, argnodes, params, variadic, builtin):
        """Compile evalCall: argnodes are the explicit args; final value appended at runtime."""
        nfixed = len(params)
        nargs = len(argnodes)
        is_variadic = variadic is not False
        arg_fns = []
        for i, a in enumerate(argnodes):
            if i < nfixed:
                typ = params[i]
            elif is_variadic:
                typ = variadic
            else:
                typ = None
            arg_fns.append((self.typed_arg(a, typ)))
        last_node = argnodes[-1] if argnodes else at_node

        if is_variadic:
            final_fixed_type = params[nargs] if nargs < nfixed else variadic
        else:
            final_fixed_type = params[-1] if params else None

        def do_call(st, dot, final):
            num_in = nargs + (0 if final is _NOFINAL else 1)
            if is_variadic:
                if num_in < nfixed:
                    _fail(st, at_node, "wrong number of args for %s: want at least %d got %d"
                          % (name, nfixed, nargs))
            elif num_in != nfixed:
                _fail(st, at_node, "wrong number of args for %s: want %d got %d" % (name, nfixed, num_in))
            argv = [f(st, dot) for f in arg_fns]
            if final is not _NOFINAL:
                argv.append(_validate(st, last_node, final, final_fixed_type))
            try:
                return fn(*argv)
            except ExecError:
                raise
            except (_BreakLoop, _ContinueLoop):
                raise
            except Exception as e:  # Go: "error calling X: <err>" (also for recovered panics)
                _fail(st, err_node, "error calling %s: %s" % (name, _err_text(e)))

        if not is_variadic and nfixed == nargs and not builtin:
            # fast path for the common fixed-arity function with no piped value
            if nargs == 1:
                f0 = arg_fns[0]

                def call1(st, dot, final):
                    if final is not _NOFINAL:
                        return do_call(st, dot, final)
                    a0 = f0(st, dot)
                    try:
                        return fn(a0)
                    except ExecError:
                        raise
                    except Exception as e:
                        _fail(st, err_node, "error calling %s: %s" % (name, _err_text(e)))
                return call1
            if nargs == 2:
                f0, f1 = arg_fns

                def call2(st, dot, final):
                    if final is not _NOFINAL:
                        return do_call(st, dot, final)
                    a0 = f0(st, dot)
                    a1 = f1(st, dot)
                    try:
                        return fn(a0, a1)
                    except ExecError:
                        raise
                    except Exception as e:
                        _fail(st, err_node, "error calling %s: %s" % (name, _err_text(e)))
                return call2
        return do_call

    def and_or(self, ident, cmd_node, args, is_and):
        argnodes = args[1:]
        arg_fns = [self.arg_value(a) for a in argnodes]
        name = ident.ident

        def and_or(st, dot, final):
            if not arg_fns and final is _NOFINAL:
                _fail(st, ident, "wrong number of args for %s: want at least 1 got 0" % name)
            v = MISSING
            for f in arg_fns:
                v = f(st, dot)
                t = _truth(v)
                if is_and and not t:
                    return v
                if not is_and and t:
                    return v
            if final is not _NOFINAL:
                v = final
            return v
        return and_or

    def field_chain_cmd(self, node, recv_fn, idents, args):
        """evalFieldChain: recv_fn None means the receiver is dot."""
        idents = list(idents)
        last = idents[-1]
        prefix = idents[:-1]
        missingkey = self.missingkey
        argnodes = args[1:]
        has_args_static = len(args) > 1
        arg_fns = None

        def method_call(st, dot, m, final):
            nonlocal arg_fns
            if arg_fns is None:
                arg_fns = [self.typed_arg(a, None) for a in argnodes]
            params, variadic = _func_signature(m)
            nfixed = len(params)
            num_in = len(argnodes) + (0 if final is _NOFINAL else 1)
            if variadic is False and num_in != nfixed:
                _fail(st, node, "wrong number of args for %s: want %d got %d" % (last, nfixed, num_in))
            if variadic is not False and num_in < nfixed:
                _fail(st, node, "wrong number of args for %s: want at least %d got %d"
                      % (last, nfixed, len(argnodes)))
            argv = [f(st, dot) for f in arg_fns]
            if final is not _NOFINAL:
                argv.append(None if final is MISSING else final)
            try:
                return m(*argv)
            except ExecError:
                raise
            except Exception as e:
                _fail(st, node, "error calling %s: %s" % (last, _err_text(e)))

        def step(st, dot, recv, name, has_args, final, is_last, first_step):
            # evalField
            if recv is MISSING:
                if missingkey == "error":
                    _fail(st, node, "nil data; no entry for key %s" % go_quote(name))
                return MISSING
            t = type(recv)
            if t is dict or (isinstance(recv, dict) and not hasattr(recv, "__go_method__")):
                if has_args:
                    _fail(st, node, "%s is not a method but has arguments" % name)
                try:
                    return recv[name]
                except KeyError:
                    if missingkey == "default":
                        return MISSING
                    if missingkey == "zero":
                        return getattr(recv, "__go_zero__", None)
                    _fail(st, node, "map has no entry for key %s" % go_quote(name))
            if recv is None:
                _fail(st, node, "nil pointer evaluating interface {}.%s" % name)
            gm = getattr(recv, "__go_method__", None)
            if gm is not None:
                m = gm(name)
                if m is not None:
                    if is_last:
                        return method_call(st, dot, m, final)
                    return method_call_noargs(st, m, name)
                try:
                    v = recv.__go_field__(name)
                except NoSuchField:
                    _fail(st, node, "can't evaluate field %s in type %s" % (name, go_type_name(recv)))
                except NilPointer:
                    _fail(st, node, "nil pointer evaluating %s.%s" % (go_type_name(recv), name))
                if has_args:
                    _fail(st, node, "%s has arguments but cannot be invoked as function" % name)
                return v
            if isinstance(recv, dict):
                try:
                    return recv[name]
                except KeyError:
                    if missingkey == "default":
                        return MISSING
                    if missingkey == "zero":
                        return getattr(recv, "__go_zero__", None)
                    _fail(st, node, "map has no entry for key %s" % go_quote(name))
            _fail(st, node, "can't evaluate field %s in type %s" % (name, go_type_name(recv)))

        def method_call_noargs(st, m, name):
            try:
                return m()
            except ExecError:
                raise
            except TypeError as e:
                _fail(st, node, "wrong number of args for %s: %s" % (name, e))
            except Exception as e:
                _fail(st, node, "error calling %s: %s" % (name, _err_text(e)))

        if recv_fn is None and not prefix and not has_args_static:
            # .Field: the most common shape
            def field1(st, dot, final):
                if type(dot) is dict and final is _NOFINAL:
                    try:
                        return dot[last]
                    except KeyError:
                        pass
                return step(st, dot, dot, last, final is not _NOFINAL, final, True, True)
            return field1

        def chain(st, dot, final):
            recv = dot if recv_fn is None else recv_fn(st, dot)
            first_step = True
            for name in prefix:
                if type(recv) is dict:
                    try:
                        recv = recv[name]
                        first_step = False
                        continue
                    except KeyError:
                        pass
                recv = step(st, dot, recv, name, False, _NOFINAL, False, first_step)
                first_step = False
            has_args = has_args_static or final is not _NOFINAL
            if not has_args and type(recv) is dict:
                try:
                    return recv[last]
                except KeyError:
                    pass
            return step(st, dot, recv, last, has_args, final, True, first_step)
        return chain


def _single_cmd(n):
    c = _CommandNode(n.pos, n.tree)
    c.args.append(n)
    return c


def _err_text(e: BaseException) -> str:
    if isinstance(e, KeyError) and e.args:
        return str(e.args[0])
    s = str(e)
    return s if s else type(e).__name__


# ---------------------------------------------------------------------------------------------
# Template API


class _Common:
    def __init__(self, funcs, missingkey):
        self.funcs = dict(funcs or {})
        self.missingkey = missingkey
        self.trees: dict[str, _Tree] = {}
        self.compiled: dict[str, Callable] = {}

    def compile(self, name):
        fn = self.compiled.get(name)
        if fn is None:
            tree = self.trees[name]
            fn = _Compiler(self).list(tree.root)
            self.compiled[name] = fn
        return fn


_MISSINGKEY = {"default": "default", "invalid": "default", "zero": "zero", "error": "error"}


class Template:
    """A named Go template plus the set of templates associated with it (define/block)."""

    def __init__(self, name: str, funcs: dict | None = None, missingkey: str = "default",
                 _common: _Common | None = None):
        if missingkey not in _MISSINGKEY:
            raise ValueError("unrecognized option: missingkey=%s" % missingkey)
        self.name = name
        self._common = _common or _Common(funcs, _MISSINGKEY[missingkey])
        if _common is not None and funcs:
            self._common.funcs.update(funcs)

    # configuration, Go style
    def funcs(self, funcs: dict) -> "Template":
        self._common.funcs.update(funcs)
        self._common.compiled.clear()
        return self

    def option(self, *opts: str) -> "Template":
        for opt in opts:
            key, _, val = opt.partition("=")
            if key != "missingkey" or val not in _MISSINGKEY:
                raise ValueError("unrecognized option: %s" % opt)
            self._common.missingkey = _MISSINGKEY[val]
            self._common.compiled.clear()
        return self

    @property
    def missingkey(self) -> str:
        return self._common.missingkey

    def new(self, name: str) -> "Template":
        return Template(name, _common=self._common)

    def parse(self, text: str) -> "Template":
        """Parse text as the body of this template; {{define}}s join the template set."""
        funcs = self._common.funcs
        lexer = _Lexer(text, break_ok="break" not in funcs, continue_ok="continue" not in funcs)
        tokens = lexer.run()
        trees: dict[str, _Tree] = {}
        parser = _Parser(self.name, self.name, text, tokens, funcs, trees)
        parser.parse()
        common = self._common
        for name, tree in trees.items():
            old = common.trees.get(name)
            if old is not None and _is_empty_tree(tree.root) and old.root is not None:
                continue  # Go keeps an existing template over an empty redefinition
            common.trees[name] = tree
        common.compiled.clear()
        return self

    def lookup(self, name: str) -> "Template | None":
        if name in self._common.trees:
            return Template(name, _common=self._common)
        return None

    def templates(self) -> list[str]:
        return sorted(self._common.trees)

    def defined_templates(self) -> str:
        names = [n for n, t in self._common.trees.items() if t.root is not None]
        if not names:
            return ""
        return "; defined templates are: " + ", ".join(go_quote(n) for n in names)

    def execute(self, data: Any = None) -> str:
        """Execute with data as dot and $; return the output (raise ExecError on failure)."""
        common = self._common
        name = self.name
        fn = common.compiled.get(name)
        if fn is None:
            tree = common.trees.get(name)
            if tree is None or tree.root is None:
                raise ExecError('template: %s: %s is an incomplete or empty template'
                                % (name, go_quote(name)), name)
            fn = common.compile(name)
        out: list[str] = []
        if data is None:
            data = MISSING  # reflect.ValueOf(nil) is the invalid Value
        st = _State(name, out, [["$", data]], 0, common)
        try:
            fn(st, data)
        except (_BreakLoop, _ContinueLoop):  # pragma: no cover - parser forbids this
            raise ExecError("template: %s: break/continue outside range" % name, name) from None
        except RecursionError:
            raise ExecError("template: %s: exceeded maximum template depth" % name, name) from None
        return "".join(out)

    def execute_template(self, name: str, data: Any = None) -> str:
        if name not in self._common.trees:
            raise ExecError("template: no template %s associated with template %s"
                            % (go_quote(name), go_quote(self.name)), name)
        return Template(name, _common=self._common).execute(data)


_CACHE: dict = {}


def parse_cached(name: str, text: str, funcs: dict | None = None,
                 missingkey: str = "default") -> Template:
    """Parse once per (name, text, funcs identity, missingkey); later calls reuse the result."""
    key = (name, text, id(funcs), missingkey)
    t = _CACHE.get(key)
    if t is None:
        t = Template(name, funcs=funcs, missingkey=missingkey).parse(text)
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = t
        t._funcs_ref = funcs  # keep funcs alive so id() stays unique while cached
    return t
