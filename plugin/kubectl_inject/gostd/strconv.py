"""Go's strconv: FormatFloat, Quote, QuoteRune, Unquote, ParseInt (base 0) and ParseFloat.

Floats: Python's repr gives the shortest decimal that round-trips a float64, which is exactly
the digit string Go's shortest formatting (Ryu) chooses; float32 shortest digits are searched
by precision, as float32 round trips are cheap to test. Everything else is Go's layout rules.
"""
from __future__ import annotations

import math
import struct
import unicodedata

__all__ = ["ErrSyntax", "shortest_digits", "to_float32", "format_float", "quote", "quote_rune",
           "is_print", "unquote", "unquote_char", "parse_int", "parse_float", "OUT_OF_RANGE",
           "too_long_for_64_bits"]


class ErrSyntax(ValueError):
    """strconv.ErrSyntax: the text is not a valid literal."""

    def __init__(self, message: str = "invalid syntax"):
        super().__init__(message)


def to_float32(f: float) -> float:
    """float32(f) as Go converts: rounded to nearest; beyond float32's range, ±Inf."""
    try:
        return struct.unpack("<f", struct.pack("<f", f))[0]
    except OverflowError:
        return math.copysign(math.inf, f)


def shortest_digits(f: float, bits: int = 64) -> tuple[str, int]:
    """The shortest decimal digits that read back as abs(f) at this bit size, and the decimal
    point position dp, so that abs(f) == 0.DIGITS * 10**dp. Zero gives ("0", 1)."""
    a = abs(f)
    if a == 0:
        return "0", 1
    if bits == 64:
        text = repr(a)
    else:
        for prec in range(1, 10):
            text = "%.*e" % (prec - 1, a)
            if to_float32(float(text)) == a:
                break
    mant, _, exp = text.partition("e")
    e = int(exp) if exp else 0
    ip, _, fp = mant.partition(".")
    all_digits = ip + fp
    stripped = all_digits.lstrip("0")
    dp = len(ip) + e - (len(all_digits) - len(stripped))
    return stripped.rstrip("0") or "0", dp


def _fmt_e(neg: bool, digits: str, dp: int, prec: int, ch: str) -> str:
    # d.dddde±XX, at least two exponent digits (strconv's fmtE)
    out = ("-" if neg else "") + digits[0]
    if prec > 0:
        frac = digits[1:1 + prec]
        out += "." + frac + "0" * (prec - len(frac))
    exp = dp - 1 if digits != "0" else 0
    return out + ch + ("-" if exp < 0 else "+") + f"{abs(exp):02d}"


def _fmt_f(neg: bool, digits: str, dp: int, prec: int) -> str:
    # ddd.dddd (strconv's fmtF)
    ip = (digits[:dp] + "0" * (dp - len(digits))) if dp > 0 else "0"
    out = ("-" if neg else "") + ip
    if prec > 0:
        out += "." + "".join(digits[dp + i] if 0 <= dp + i < len(digits) else "0"
                             for i in range(prec))
    return out


def format_float(f: float, fmt: str = "g", prec: int = -1, bits: int = 64) -> str:
    """strconv.FormatFloat(f, fmt, prec, bits) for the formats e, E, f, g, G."""
    if bits == 32:
        f = to_float32(f)
    if f != f:
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    neg = math.copysign(1.0, f) < 0
    shortest = prec < 0
    if shortest:
        digits, dp = shortest_digits(f, bits)
    else:
        # correctly rounded to the precision: Python's %-formatting rounds exactly as Go does
        if fmt in "fF":
            return ("-" if neg else "") + "%.*f" % (prec, abs(f))
        if fmt in "eE":
            mant, _, exp = ("%.*e" % (prec, abs(f))).partition("e")
            return ("-" if neg else "") + mant + fmt + exp[0] + exp[1:].rjust(2, "0")
        mant, _, exp = ("%.*e" % (max(prec, 1) - 1, abs(f))).partition("e")
        digits = mant.replace(".", "").rstrip("0") or "0"
        dp = int(exp) + 1 if f != 0 else 1
    if fmt in "eE":
        return _fmt_e(neg, digits, dp, len(digits) - 1, fmt)
    if fmt in "fF":
        return _fmt_f(neg, digits, dp, max(len(digits) - dp, 0))
    # %g: %e for large and small exponents, else %f
    nd = len(digits)
    eprec = 6 if shortest else (nd if prec > nd and nd >= dp else prec)
    p = nd if shortest else prec
    exp = dp - 1
    if exp < -4 or exp >= eprec:
        return _fmt_e(neg, digits, dp, min(p, nd) - 1, "e" if fmt == "g" else "E")
    if p > dp:
        p = nd
    return _fmt_f(neg, digits, dp, max(p - dp, 0))


def is_print(ch: str) -> bool:
    """strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space."""
    return ch == " " or unicodedata.category(ch)[0] in "LMNPS"


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\v": "\\v"}


def quote(s: str, ascii_only: bool = False) -> str:
    """strconv.Quote (QuoteToASCII with ascii_only): a double-quoted Go string literal."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0x20 <= o < 0x7F:
            out.append(ch)
        elif o >= 0x80 and not ascii_only and is_print(ch):
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
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


def quote_rune(r: int) -> str:
    """strconv.QuoteRune: a single-quoted Go character literal."""
    if r > 0x10FFFF or 0xD800 <= r <= 0xDFFF:
        r = 0xFFFD
    ch = chr(r)
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return "'" + quote(ch)[1:-1] + "'"


_SIMPLE_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
               "\\": "\\"}


def unquote_char(s: str, i: int, quote_char: str) -> tuple[str, int]:
    """strconv.UnquoteChar: the character at s[i] (an escape sequence or itself) and the index
    after it; quote_char is the literal's quote, which may be escaped."""
    c = s[i]
    if c != "\\":
        return c, i + 1
    i += 1
    if i >= len(s):
        raise ErrSyntax()
    c = s[i]
    if c in _SIMPLE_ESC:
        return _SIMPLE_ESC[c], i + 1
    if c in "xuU":
        size = {"x": 2, "u": 4, "U": 8}[c]
        hexd = s[i + 1:i + 1 + size]
        if len(hexd) != size or any(h not in "0123456789abcdefABCDEF" for h in hexd):
            raise ErrSyntax()
        v = int(hexd, 16)
        if c != "x" and (v > 0x10FFFF or 0xD800 <= v <= 0xDFFF):
            raise ErrSyntax()
        return chr(v), i + 1 + size
    if c in "01234567":
        octd = s[i:i + 3]
        if len(octd) != 3 or any(o not in "01234567" for o in octd):
            raise ErrSyntax()
        v = int(octd, 8)
        if v > 255:
            raise ErrSyntax()
        return chr(v), i + 3
    if c == quote_char and c in "'\"":
        return c, i + 1
    raise ErrSyntax()


def unquote(s: str) -> str:
    """strconv.Unquote of a double-quoted or raw (back-quoted) string literal."""
    if len(s) < 2 or s[0] != s[-1]:
        raise ErrSyntax()
    q, body = s[0], s[1:-1]
    if q == "`":
        if "`" in body:
            raise ErrSyntax()
        return body.replace("\r", "")
    if q != '"':
        raise ErrSyntax()
    if "\\" not in body:
        if '"' in body or "\n" in body:
            raise ErrSyntax()
        return body
    out = []
    i = 0
    while i < len(body):
        if body[i] == '"' or body[i] == "\n":
            raise ErrSyntax()
        ch, i = unquote_char(body, i, '"')
        out.append(ch)
    return "".join(out)


_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


def _underscore_ok(s: str) -> bool:
    """strconv's underscoreOK: underscores only between digits, or between a base prefix and a
    digit."""
    saw = "^"                   # ^ start, 0 digit (or prefix), _ underscore, ! anything else
    i = 0
    if s[:1] in "+-":
        s = s[1:]
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i, saw = 2, "0"
    for c in s[i:]:
        if "0" <= c <= "9" or ("a" <= c.lower() <= "f" and s[1:2].lower() == "x"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
    return saw != "_"


def parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64) without the range check: a sign, base prefixes (0x, 0o, 0b,
    a leading 0 for octal), ASCII digits of the base, underscores as Go allows them; None when
    the text is not an integer literal."""
    s = text[1:] if text[:1] in ("+", "-") else text
    base, body, low = 10, s, s.lower()
    if low.startswith("0x"):
        base, body = 16, s[2:]
    elif low.startswith("0o"):
        base, body = 8, s[2:]
    elif low.startswith("0b"):
        base, body = 2, s[2:]
    elif len(s) > 1 and s[0] == "0":
        base, body = 8, s[1:]
    digits = body.replace("_", "")
    if not digits or any(c not in _DIGITS[base] for c in digits):
        return None
    if "_" in body and not _underscore_ok(s):
        return None
    if len(digits) - len(digits.lstrip("0")) < len(digits) - _FITS_64[base]:
        # more significant digits than 64 bits hold: out of every range Go parses into (its
        # ErrRange), and never converted (Python refuses int() of over 4,300 digits, and its
        # cost grows with the square of the length)
        return -OUT_OF_RANGE if text[:1] == "-" else OUT_OF_RANGE
    v = int(digits, base)
    return -v if text[:1] == "-" else v


# Significant digits of the largest uint64 in each base; OUT_OF_RANGE stands for any integer
# literal beyond that (beyond int64 and uint64 both, as Go's ParseInt/ParseUint see it).
_FITS_64 = {2: 64, 8: 22, 10: 20, 16: 16}
OUT_OF_RANGE = 1 << 64


def too_long_for_64_bits(digits: str) -> bool:
    """Whether a decimal digit string holds more significant digits than any 64-bit integer
    (so it is out of range without being converted)."""
    return len(digits) > 20 and len(digits.lstrip("0")) > 20


def parse_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64): decimal or hexadecimal, underscores as Go allows them, and
    the words inf, infinity and nan; None when the text is not a float."""
    if not text.isascii() or text != text.strip() or ("_" in text and not _underscore_ok(text)):
        return None
    s = text.replace("_", "")
    try:
        if s.lower().lstrip("+-").startswith("0x"):
            return float.fromhex(s)
        if any(c in s for c in "xXoObB"):
            return None
        return float(s)
    except ValueError:
        return None
