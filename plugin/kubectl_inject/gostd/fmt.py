"""Go's fmt: %v printing of values, Sprint, Sprintln and Sprintf (verbs, flags, width,
precision, argument indexes and fmt's %!verb(...) error annotations)."""
from __future__ import annotations

from .strconv import format_float, is_print, quote, quote_rune
from .values import MISSING, go_type_name

__all__ = ["format_value", "sorted_keys", "sprint", "sprintln", "sprintf"]


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
        return _pad(quote_rune(v), sp)
    elif verb == "U":
        s = "U+%04X" % v
        if sp.sharp and 0 <= v <= 0x10FFFF and is_print(chr(v)):
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
        return _pad(quote(s, ascii_only=sp.plus), sp)
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


def _parse_num(fmt: str, i: int, n: int) -> tuple:
    """fmt's parsenum: (number or None, index after its ASCII digits)."""
    j = i
    while j < n and "0" <= fmt[j] <= "9":
        j += 1
    if j == i:
        return None, i
    num = int(fmt[i:j])
    return (num, j) if num <= 1_000_000 else (None, n)    # tooLarge: a crazy long number


def _arg_number(fmt: str, i: int, n: int, argi: int, nargs: int) -> tuple:
    """fmt's argNumber for an explicit index "[n]" at i: (argument index, index after it,
    whether a well-formed index was read, whether it names an argument). Any "[" there makes
    the call "reordered" (no %!(EXTRA ...) check)."""
    if i >= n or fmt[i] != "[":
        return argi, i, False, True
    close = fmt.find("]", i + 1)
    if close < 0:                                # parseArgNumber finds no bracket: skips "["
        return argi, i + 1, False, False
    num, end = _parse_num(fmt, i + 1, close)
    if num is None or end != close:
        return argi, close + 1, False, False
    if 0 <= num - 1 < nargs:
        return num - 1, close + 1, True, True
    return argi, close + 1, True, False


def _int_from_arg(args: tuple, argi: int) -> tuple:
    """fmt's intFromArg: (the int argument or None, next argument index)."""
    if argi >= len(args):
        return None, argi
    arg = args[argi]
    if isinstance(arg, int) and not isinstance(arg, bool) and -1_000_000 <= arg <= 1_000_000:
        return arg, argi + 1
    return None, argi + 1


def sprintf(fmt: str, *args) -> str:
    """fmt.Sprintf with Go's verbs, flags, width/precision, argument indexes and error
    annotations, parsed as fmt's doPrintf parses them."""
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
        good_arg = True
        sp = _Spec()
        while i < n:                                  # flags
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
        reordered = reordered or fmt.startswith("[", i)
        argi, i, after_index, ok = _arg_number(fmt, i, n, argi, nargs)
        good_arg = good_arg and ok
        if i < n and fmt[i] == "*":                   # width from an argument
            i += 1
            sp.width, argi = _int_from_arg(args, argi)
            if sp.width is None:
                out.append("%!(BADWIDTH)")
            elif sp.width < 0:
                sp.minus, sp.zero, sp.width = True, False, -sp.width
            after_index = False
        else:
            sp.width, i = _parse_num(fmt, i, n)
            if after_index and sp.width is not None:  # "%[3]2d"
                good_arg = False
        if i + 1 < n and fmt[i] == ".":               # precision
            i += 1
            if after_index:                           # "%[3].2d"
                good_arg = False
            reordered = reordered or fmt.startswith("[", i)
            argi, i, after_index, ok = _arg_number(fmt, i, n, argi, nargs)
            good_arg = good_arg and ok
            if i < n and fmt[i] == "*":
                i += 1
                sp.prec, argi = _int_from_arg(args, argi)
                if sp.prec is not None and sp.prec < 0:
                    sp.prec = None                    # a negative precision makes no sense
                if sp.prec is None:
                    out.append("%!(BADPREC)")
                after_index = False
            else:
                sp.prec, i = _parse_num(fmt, i, n)
                if sp.prec is None:
                    sp.prec = 0
        if not after_index:
            reordered = reordered or fmt.startswith("[", i)
            argi, i, after_index, ok = _arg_number(fmt, i, n, argi, nargs)
            good_arg = good_arg and ok
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
        elif not good_arg:
            out.append("%!" + verb + "(BADINDEX)")
        elif argi >= nargs:
            out.append("%!" + verb + "(MISSING)")
        else:
            arg = args[argi]
            argi += 1
            if verb == "v" and sp.sharp:
                out.append(_pad(quote(arg) if isinstance(arg, str) else format_value(arg), sp))
            else:
                out.append(_fmt_arg(arg, verb, sp))
    if not reordered and argi < nargs:
        extra = ", ".join(
            ("<nil>" if a is None else go_type_name(a) + "=" + format_value(a)) for a in args[argi:])
        out.append("%!(EXTRA " + extra + ")")
    return "".join(out)
