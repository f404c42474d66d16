"""Scalar resolution as go-yaml v2's resolve.go does it (built with Go >= 1.13 strconv): what a
plain scalar means (null, bool, int, float, timestamp or string) under YAML 1.1 rules, and what
an explicitly tagged scalar becomes.

The number parsing is strconv's (gostd.strconv); the texts strconv accepts are checked here
first, because Python's int()/float() accept more than Go does ("+-1", "0x0x1", " 1", "1_0"
anywhere).
"""
from __future__ import annotations

import math

from .. import lazy_regex
from ..gostd.strconv import parse_float, parse_int
from .errors import YAMLError

__all__ = ["INT64_MIN", "INT64_MAX", "UINT64_MAX", "MERGE_TAG", "BINARY_TAG", "resolve_plain",
           "resolve_tagged", "resolves_to_non_string"]

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1

MERGE_TAG = "tag:yaml.org,2002:merge"
BINARY_TAG = "tag:yaml.org,2002:binary"

_NULL = object()  # resolved "null"; distinct from a Python None key/value

_RESOLVE_MAP = {}
for _v, _words in (
    (True, ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")),
    (False, ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")),
    (_NULL, ("", "~", "null", "Null", "NULL")),
    (math.nan, (".nan", ".NaN", ".NAN")),
    (math.inf, (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")),
    (-math.inf, ("-.inf", "-.Inf", "-.INF")),
):
    for _w in _words:
        _RESOLVE_MAP[_w] = _v

_YAML_STYLE_FLOAT = lazy_regex.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_BASE60 = lazy_regex.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")
# The characters those two patterns and _GO_INT below are made of: a text with any other cannot
# match, and is told so without compiling them (quantities such as "100m", "2Gi" and versions
# such as "1.30.4", with two dots, are common).
_FLOAT_CHARS = "0123456789.eE+-"
_BASE60_CHARS = "0123456789_:.+-"
_INT_CHARS = "0123456789+-bBoOxXabcdefABCDEF"


def _made_of(text, chars):
    """Whether every character of text is one of chars (the pre-check before a pattern)."""
    return not text.strip(chars)


def _could_be_float(text):
    return _made_of(text, _FLOAT_CHARS) and text.count(".") < 2


# The texts strconv.ParseInt(s, 0, 64) takes once resolve.go has removed every "_": a base
# prefix needs at least one digit after it ("0x" alone is octal "x", a syntax error), a
# leading 0 means octal. ParseUint takes the same without the sign.
_GO_INT = lazy_regex.compile(r"([-+]?)(?:0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")
# strconv.ParseInt(s, 2, 64): no prefix, digits 0 and 1.
_GO_BINARY = lazy_regex.compile(r"([-+]?)[01]+\Z")
# strconv.ParseFloat's syntax for a text starting with ".": digits, an optional exponent, and
# underscores only between digits (strconv's underscoreOK).
_DOT_FLOAT = lazy_regex.compile(r"\.[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+(?:_[0-9]+)*)?\Z")


def _in_range(v, signed):
    # ParseInt's int64 range; without a sign ParseUint is tried next, up to uint64's.
    return INT64_MIN <= v <= (INT64_MAX if signed else UINT64_MAX)


def _parse_int(plain):
    """strconv.ParseInt(plain, 0, 64), else strconv.ParseUint(plain, 0, 64); None if both fail."""
    if plain.isdigit() and plain.isascii() and (plain[0] != "0" or len(plain) == 1):
        # a plain decimal (ports, counts, UIDs: most numbers), without compiling _GO_INT
        if len(plain) > 20:  # beyond uint64 (and never converted: Python's int/str limit)
            return None
        v = int(plain)
        return v if v <= UINT64_MAX else None
    if not _made_of(plain, _INT_CHARS):
        return None
    m = _GO_INT.match(plain)
    if m is None:
        return None
    v = parse_int(plain)
    return v if _in_range(v, m.group(1)) else None


def _parse_binary(digits):
    """strconv.ParseInt(digits, 2, 64), else ParseUint(digits, 2, 64); None if both fail."""
    m = _GO_BINARY.match(digits)
    if m is None:
        return None
    if len(digits.lstrip("+-").lstrip("0")) > 64:  # beyond uint64, not converted
        return None
    v = int(digits, 2)
    return v if _in_range(v, m.group(1)) else None


def _parse_finite_float(text):
    # strconv.ParseFloat(text, 64) of an already checked text: ±Inf means ErrRange, a failure.
    f = parse_float(text)
    return None if math.isinf(f) else f


_TS_RE = lazy_regex.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:([Tt ])([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]+))?"
    r"(Z|[-+][0-9]{2}:[0-9]{2})?)?\Z"
)


def _days_in(month, year):
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _is_timestamp(s):
    """go-yaml v2 parseTimestamp via Go's time.Parse with its four layouts."""
    if len(s) < 5 or s[4] != "-" or not s[:4].isdigit():
        return False
    m = _TS_RE.match(s)
    if not m:
        return False
    year, month, day, sep, hh, mm, ss, _frac, zone = m.groups()
    if sep is not None:
        if sep in "Tt":
            if zone is None:  # the T layouts require a zone
                return False
        elif zone is not None:  # the space layout has no zone
            return False
        if int(hh) >= 24 or int(mm) >= 60 or int(ss) >= 60:
            return False
        if zone is not None and zone != "Z":
            if int(zone[1:3]) > 24 or int(zone[4:6]) > 60:
                return False
    month = int(month)
    if not 1 <= month <= 12:
        return False
    day = int(day)
    return 1 <= day <= _days_in(month, int(year))


def resolve_plain(s):
    """Value of an untagged plain scalar as go-yaml v2 decodes it into interface{}.

    Returns (kind, value); kind is one of "str", "null", "bool", "int",
    "float", "timestamp".  Timestamps stay strings (go-yaml v2 keeps
    them as text when decoding into interface{}).
    """
    if s == "":
        return "null", None
    c = s[0]
    if c in "yYnNtTfFoO~":
        v = _RESOLVE_MAP.get(s, s)
        if v is s:
            return "str", s
        if v is _NULL:
            return "null", None
        return "bool", v
    if c == ".":
        if s in _RESOLVE_MAP:
            return "float", _RESOLVE_MAP[s]
        if _DOT_FLOAT.match(s):
            f = _parse_finite_float(s)
            if f is not None:
                return "float", f
        return "str", s
    if c in "+-0123456789":
        if s in _RESOLVE_MAP:
            return "float", _RESOLVE_MAP[s]
        if _is_timestamp(s):
            return "timestamp", s
        plain = s.replace("_", "") if "_" in s else s
        v = _parse_int(plain)
        if v is not None:
            return "int", v
        if _could_be_float(plain) and _YAML_STYLE_FLOAT.match(plain):
            f = _parse_finite_float(plain)
            if f is not None:
                return "float", f
        if plain.startswith("0b"):
            v = _parse_binary(plain[2:])
        elif plain.startswith("-0b"):
            v = _parse_binary("-" + plain[3:])
        if v is not None:
            return "int", v
        return "str", s
    return "str", s


def resolves_to_non_string(s):
    """True if go-yaml v2's encoder must quote s so it reads back as a string.

    That is: s would resolve to null/bool/int/float/timestamp when plain, or
    it looks like a YAML 1.1 base-60 number (quoted for other parsers' sake).
    """
    if resolve_plain(s)[0] != "str":
        return True
    c = s[:1]
    if c and (c in "+-" or "0" <= c <= "9") and ":" in s and _made_of(s, _BASE60_CHARS):
        return bool(_BASE60.match(s))
    return False


_RESOLVABLE = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "timestamp",
}


def _short_tag(tag):
    if tag.startswith("tag:yaml.org,2002:"):
        return "!!" + tag[len("tag:yaml.org,2002:"):]
    return tag


def resolve_tagged(tag, value):
    """go-yaml v2 resolve(tag, value) for an explicitly tagged scalar: the value as that tag
    reads it; tags resolve.go does not know (!!binary among them) keep the text."""
    kind = _RESOLVABLE.get(tag)
    if kind is None:
        return value
    if kind == "str":
        return value
    rkind, rv = resolve_plain(value)
    if rkind == kind:
        return None if rkind == "null" else rv
    if kind == "float" and rkind == "int":
        return float(rv)
    raise YAMLError("yaml: cannot decode !!%s `%s` as a %s" % (rkind, value, _short_tag(tag)))
