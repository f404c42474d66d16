"""Kubernetes resource.Quantity, as k8s.io/apimachinery v0.30.0 parses and prints it.

istioctl decodes manifests into typed objects and prints them back, so every
resource quantity goes through ParseQuantity and Quantity.MarshalJSON. This
module reproduces both, including their quirks:

* the original string is kept (and printed back verbatim) when the fast int64
  parse path judges it canonical: "100m", "+1", "0100m", "1500e-3", "3Mi";
* otherwise the value is printed canonically: the mantissa with every factor
  of ten moved into an exponent that is a multiple of three, with an SI suffix
  ("0.1" -> "100m", "1000m" -> "1", "1000" -> "1k"), or, for binary values of
  at least 1024 that are whole numbers, a power-of-1024 suffix ("1024Mi" ->
  "1Gi"); small or fractional binary values fall back to decimal SI;
* values finer than a nano unit are rounded up (away from zero) to 1n;
* exponents that have no SI suffix lose it (apimachinery prints "1" for
  "1000E"), which we reproduce rather than fix.

Values are exact: an integer mantissa and a power-of-ten exponent.

Public API:
    parse_quantity(text) -> Quantity            (raises QuantityError)
    Quantity.string()                           what Quantity.String() returns
    quantity_from_json(value) -> Quantity       what UnmarshalJSON does with a
                                                JSON value (str, int, float, None)
    normalize_quantity(value) -> str            parse + MarshalJSON in one go
"""

from __future__ import annotations

from ..gostd.json import float_text

__all__ = [
    "Quantity",
    "QuantityError",
    "ERR_FORMAT_WRONG",
    "ERR_NUMERIC",
    "ERR_SUFFIX",
    "parse_quantity",
    "quantity_from_json",
    "normalize_quantity",
]

SPLIT_RE_STRING = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG = "quantities must match the regular expression '" + SPLIT_RE_STRING + "'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

DECIMAL_EXPONENT = "DecimalExponent"
BINARY_SI = "BinarySI"
DECIMAL_SI = "DecimalSI"

# apimachinery checks at most this many digits before leaving the int64 path.
_MAX_INT64_FACTORS = 18
_NANO = -9
_MAX_ALLOWED = (1 << 63) - 1

_DEC_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DEC_SUFFIX_BY_EXP = {v: k for k, v in _DEC_SUFFIXES.items()}
_BIN_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_BIN_SUFFIX_BY_EXP = {v: k for k, v in _BIN_SUFFIXES.items()}
_SUFFIX_CHARS = set("eEinumkKMGTP")
_DIGITS = set("0123456789")


class QuantityError(ValueError):
    """A quantity apimachinery refuses; str() is apimachinery's error text."""


class Quantity:
    """An exact quantity: mantissa * 10**exp, with a Format and maybe a cached string."""

    __slots__ = ("mantissa", "exp", "format", "cached")

    def __init__(self, mantissa: int = 0, exp: int = 0, fmt: str = DECIMAL_SI, cached: str | None = None):
        self.mantissa = mantissa
        self.exp = exp
        self.format = fmt
        self.cached = cached

    def __repr__(self) -> str:
        return f"Quantity({self.string()!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.string() == other.string()

    def __hash__(self) -> int:
        return hash(self.string())

    def is_zero(self) -> bool:
        return self.mantissa == 0

    def string(self) -> str:
        """Quantity.String(): the cached original text, else the canonical form."""
        if self.cached:
            return self.cached
        return self.canonical()

    __str__ = string

    def canonical(self) -> str:
        m, e = self.mantissa, self.exp
        if m == 0:
            return "0"
        fmt = self.format
        if fmt == BINARY_SI:
            if _cmp(m, e, -1024) > 0 and _cmp(m, e, 1024) < 0:
                fmt = DECIMAL_SI
            elif e < 0 and m % (10 ** -e) != 0:
                # not a whole number: printing it in base 1024 would round
                fmt = DECIMAL_SI
        elif fmt not in (DECIMAL_SI, DECIMAL_EXPONENT):
            fmt = DECIMAL_EXPONENT
        if fmt == BINARY_SI:
            value = m * 10 ** e if e >= 0 else m // 10 ** -e
            value, times = _remove_factors(value, 1024)
            return str(value) + _BIN_SUFFIX_BY_EXP.get(times * 10, "")
        m, times = _remove_factors(m, 10)
        e += times
        while e % 3 != 0:
            m *= 10
            e -= 1
        if fmt == DECIMAL_SI:
            suffix = _DEC_SUFFIX_BY_EXP.get(e, "")
        else:
            suffix = "" if e == 0 else "e" + str(e)
        return str(m) + suffix

    def value_fraction(self):
        from fractions import Fraction

        return Fraction(self.mantissa) * Fraction(10) ** self.exp


def _cmp(m: int, e: int, y: int) -> int:
    """Compare m*10**e with the integer y."""
    if e >= 0:
        lhs, rhs = m * 10 ** e, y
    else:
        lhs, rhs = m, y * 10 ** -e
    return (lhs > rhs) - (lhs < rhs)


def _remove_factors(value: int, base: int) -> tuple[int, int]:
    times = 0
    neg = value < 0
    if neg:
        value = -value
    while value >= base and value % base == 0:
        value //= base
        times += 1
    return (-value if neg else value), times


def _scan(text: str):
    """parseQuantityString: split into sign, numeric text, numerator, denominator, suffix."""
    positive = True
    pos = 0
    end = len(text)
    if pos < end and text[0] in "+-":
        positive = text[0] == "+"
        pos += 1
    # leading zeros
    while True:
        if pos >= end:
            return positive, "0", "0", "", ""
        if text[pos] == "0":
            pos += 1
        else:
            break
    i = pos
    while i < end and text[i] in _DIGITS:
        i += 1
    if i >= end:
        return positive, text, text[pos:end] or "0", "", ""
    num = text[pos:i] or "0"
    pos = i
    denom = ""
    if text[pos] == ".":
        pos += 1
        i = pos
        while i < end and text[i] in _DIGITS:
            i += 1
        if i >= end:
            return positive, text, num, text[pos:end], ""
        denom = text[pos:i]
        pos = i
    value = text[:pos]
    suffix_start = pos
    i = pos
    while i < end and text[i] in _SUFFIX_CHARS:
        i += 1
    if i >= end:
        return positive, value, num, denom, text[suffix_start:]
    pos = i
    if text[pos] in "+-":
        pos += 1
    i = pos
    while i < end and text[i] in _DIGITS:
        i += 1
    if i >= end:
        return positive, value, num, denom, text[suffix_start:]
    raise QuantityError(ERR_FORMAT_WRONG)


def _interpret_suffix(suffix: str):
    if suffix in _DEC_SUFFIXES:
        return 10, _DEC_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BIN_SUFFIXES:
        return 2, _BIN_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[:1] in ("+", "-") else digits
        if not body or not body.isdigit() or not body.isascii():
            raise QuantityError(ERR_SUFFIX)
        n = int(digits)
        if n > (1 << 63) - 1 or n < -(1 << 63):
            raise QuantityError(ERR_SUFFIX)
        # apimachinery keeps it in an int32
        n = (n + (1 << 31)) % (1 << 32) - (1 << 31)
        return 10, n, DECIMAL_EXPONENT
    raise QuantityError(ERR_SUFFIX)


def _parse_decimal_text(value: str) -> tuple[int, int]:
    """inf.Dec.SetString on the numeric text (sign, digits, optional fraction)."""
    s = value
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if "." in s:
        whole, frac = s.split(".", 1)
    else:
        whole, frac = s, ""
    if not (whole or frac) or not (whole + frac).isdigit():
        raise QuantityError(ERR_NUMERIC)
    return sign * int(whole + frac or "0"), -len(frac)


def parse_quantity(text: str) -> Quantity:
    """resource.ParseQuantity."""
    if not isinstance(text, str):
        raise TypeError("quantity text must be a str")
    if text == "":
        raise QuantityError(ERR_FORMAT_WRONG)
    if text == "0":
        return Quantity(0, 0, DECIMAL_SI, text)
    positive, value, num, denom, suffix = _scan(text)
    base, exponent, fmt = _interpret_suffix(suffix)

    precision = 0
    scale = 0
    mantissa = 1
    if fmt in (DECIMAL_EXPONENT, DECIMAL_SI):
        scale = exponent
        precision = _MAX_INT64_FACTORS - (len(num) + len(denom))
    else:
        if exponent >= 0 and len(denom) == 0:
            mantissa = 1 << exponent
            # Go computes float32(exponent)*3/10 and truncates toward zero
            precision = 15 - len(num) - int(float(exponent) * 3 / 10) - 1
        else:
            precision = -1

    if precision >= 0:
        scale -= len(denom)
        if scale >= _NANO:
            shifted = num + denom
            v = int(shifted)
            result = v * mantissa
            if -(1 << 63) <= result < (1 << 63):
                if not positive:
                    result = -result
                cached = None
                if fmt == BINARY_SI:
                    if exponent % 10 == 0 and (v & 0x07) != 0:
                        cached = text
                else:
                    if scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0":
                        cached = text
                return Quantity(result, scale, fmt, cached)

    m, e = _parse_decimal_text(value)
    if base == 10:
        e += exponent
    else:
        m *= 1 << exponent
    negative = m < 0
    m = abs(m)
    if m != 0 and e < _NANO:
        # round up (away from zero) to whole nano units
        div = 10 ** (_NANO - e)
        m = -(-m // div)
        e = _NANO
    if fmt == BINARY_SI and _cmp(m, e, _MAX_ALLOWED) > 0:
        m, e = _MAX_ALLOWED, 0
    if fmt == BINARY_SI and _cmp(m, e, 1) < 0 and m > 0:
        fmt = DECIMAL_SI
    if negative:
        m = -m
    return Quantity(m, e, fmt, None)


def quantity_from_json(value) -> Quantity:
    """Quantity.UnmarshalJSON applied to a decoded JSON value.

    null gives the zero quantity; strings lose surrounding whitespace; numbers
    are parsed from the text encoding/json would have produced for them.
    """
    if value is None:
        return Quantity(0, 0, "", None)
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = float_text(value)
    elif isinstance(value, str):
        text = value.strip(" \t\n\r\v\f\u0085\u00a0")
    else:
        # objects and arrays reach UnmarshalJSON as raw JSON text, which
        # always fails the numeric scan
        raise QuantityError(ERR_FORMAT_WRONG)
    return parse_quantity(text)


def normalize_quantity(value) -> str:
    """Unmarshal then marshal a Quantity: the string Go prints."""
    return quantity_from_json(value).string()
