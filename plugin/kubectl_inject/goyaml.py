"""Read and write YAML exactly the way Istio's Go code does.

istioctl kube-inject goes through three Go libraries, and each leaves a mark
on the bytes it produces:

* k8s.io/apimachinery's YAMLReader splits the input stream on ``---`` lines
  (``split_documents``);
* sigs.k8s.io/yaml (v1.4.0, which vendors a fork of gopkg.in/yaml.v2 v2.4.0)
  turns each document into JSON: go-yaml v2 resolves plain scalars with YAML
  1.1 rules, then encoding/json runs over the result (``load``);
* sigs.k8s.io/yaml.Marshal writes objects by encoding/json, then re-reading
  that JSON with go-yaml v2 and emitting it with go-yaml v2's emitter: keys in
  its "natural" order, 2-space indent, compact sequences, lines folded at 80
  columns, and its own choice of plain/single/double/literal style (``dump``).

Loading uses PyYAML's libyaml event parser (the C scanner go-yaml v2 was
ported from) and resolves scalars with go-yaml v2's rules.  Dumping is a
purpose-written emitter that mirrors go-yaml v2's emitter state machine for
the node shapes JSON can produce.
"""

from __future__ import annotations

import copy
import functools
import math
import re
import struct
import unicodedata

import yaml as _pyyaml

try:  # libyaml's parser; the pure-Python parser differs in error texts.
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - the venv ships the C extension
    _CParser = None

__all__ = [
    "YAMLError",
    "load",
    "load_all",
    "split_documents",
    "dump",
    "go_float_g",
    "go_float32_g",
    "json_target_string",
    "resolves_to_non_string",
]


class YAMLError(ValueError):
    """A document Go would refuse; str() is Go's one-line error text."""


# ---------------------------------------------------------------------------
# Document splitting: k8s.io/apimachinery/pkg/util/yaml YAMLReader (v0.30).

_SEP_ERROR = "invalid Yaml document separator: %s"


def split_documents(text):
    """Split a stream into raw documents the way k8s's YAMLReader does.

    Every line is read with bufio.ReadLine and re-terminated with "\\n", so
    CRLF endings become LF and the last line always ends in "\\n".  A line
    that starts with ``---`` ends the current document and is dropped; but
    when nothing is buffered yet (start of input, or right after another
    separator) the separator line is kept as the first line of the next
    document.  Only blanks or a ``#`` comment may follow the dashes, anything
    else is Go's "invalid Yaml document separator" error.  A chunk holding
    only blank lines, comments or a separator is returned as is: istioctl
    passes such chunks through unchanged.
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "surrogateescape")
    docs = []
    buf = []
    lines = text.split("\n")
    # The text after the last "\n" is an unterminated final line (or nothing).
    last = lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    if last:
        lines.append(last)
    for line in lines:
        if line.startswith("---"):
            trimmed = _go_trim_space(line[3:])
            if trimmed and trimmed[0] != "#":
                raise YAMLError(_SEP_ERROR % trimmed)
            if buf:
                docs.append("".join(buf))
                buf = []
                continue
            # With nothing buffered Go keeps the separator line as the start
            # of the next document (so "---" first in a file stays there).
        buf.append(line + "\n")
    if buf:
        docs.append("".join(buf))
    return docs


_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _go_trim_space(s):
    return s.strip(_GO_SPACE)


# ---------------------------------------------------------------------------
# Scalar resolution (go-yaml v2 resolve.go, as built with Go >= 1.13 strconv).

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
_MERGE = "<<"

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1

_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")
_DIGITS = {
    2: frozenset("01"),
    8: frozenset("01234567"),
    10: frozenset("0123456789"),
    16: frozenset("0123456789abcdefABCDEF"),
}


def _go_parse_uint_body(s, base):
    """strconv.ParseUint(s, base, 64) without a sign; None on error.

    Returns ("range", None) on overflow to mirror ErrRange."""
    if base == 0:
        base = 10
        if s[:1] == "0":
            low = s[1:2].lower()
            if len(s) >= 3 and low == "x":
                base, s = 16, s[2:]
            elif len(s) >= 3 and low == "o":
                base, s = 8, s[2:]
            elif len(s) >= 3 and low == "b":
                base, s = 2, s[2:]
            else:
                base, s = 8, s[1:]
                if s == "":
                    return 0
    if s == "":
        return None
    allowed = _DIGITS[base]
    for ch in s:
        if ch not in allowed:
            return None
    return int(s, base)


def _go_parse_int(s, base=0):
    """strconv.ParseInt(s, base, 64): int, or None on syntax/range error."""
    if s == "":
        return None
    neg = False
    body = s
    if s[0] in "+-":
        neg = s[0] == "-"
        body = s[1:]
    v = _go_parse_uint_body(body, base)
    if v is None:
        return None
    if neg:
        v = -v
        return v if v >= _INT64_MIN else None
    return v if v <= _INT64_MAX else None


def _go_parse_uint(s, base=0):
    if s == "":
        return None
    v = _go_parse_uint_body(s, base)
    if v is None or v > _UINT64_MAX:
        return None
    return v


def _underscore_ok(s):
    # strconv.underscoreOK: "_" only between digits (or after a base prefix).
    saw = "^"
    i = 0
    if s[:1] in ("-", "+"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i = 2
        saw = "0"
        hexa = s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (hexa and "a" <= c.lower() <= "f"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


_DOT_FLOAT = re.compile(r"\.[0-9_]+(?:[eE][-+]?[0-9_]+)?\Z")


def _go_parse_dot_float(s):
    """strconv.ParseFloat for strings starting with '.' (the resolver's '.' hint)."""
    if not _DOT_FLOAT.match(s):
        return None
    if "_" in s:
        if not _underscore_ok(s):
            return None
        s = s.replace("_", "")
    mant = s[1:].split("e")[0].split("E")[0]
    if not mant:
        return None
    try:
        f = float(s)
    except ValueError:
        return None
    if math.isinf(f):
        return None
    return f


_TS_RE = re.compile(
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


def _resolve_plain(s):
    """Value of an untagged plain scalar as go-yaml v2 decodes it into interface{}.

    Returns (kind, value); kind is one of "str", "null", "bool", "int",
    "float", "timestamp", "merge".  Timestamps stay strings (go-yaml v2 keeps
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
        f = _go_parse_dot_float(s)
        if f is not None:
            return "float", f
        return "str", s
    if c in "+-0123456789":
        if s in _RESOLVE_MAP:
            return "float", _RESOLVE_MAP[s]
        if _is_timestamp(s):
            return "timestamp", s
        plain = s.replace("_", "") if "_" in s else s
        v = _go_parse_int(plain)
        if v is not None:
            return "int", v
        v = _go_parse_uint(plain)
        if v is not None:
            return "int", v
        if _YAML_STYLE_FLOAT.match(plain):
            f = float(plain)
            if not math.isinf(f):
                return "float", f
        if plain.startswith("0b"):
            v = _go_parse_int(plain[2:], 2)
            if v is None:
                v = _go_parse_uint(plain[2:], 2)
            if v is not None:
                return "int", v
        elif plain.startswith("-0b"):
            v = _go_parse_int("-" + plain[3:], 2)
            if v is not None:
                return "int", v
        return "str", s
    return "str", s


def resolves_to_non_string(s):
    """True if go-yaml v2's encoder must quote s so it reads back as a string.

    That is: s would resolve to null/bool/int/float/timestamp when plain, or
    it looks like a YAML 1.1 base-60 number (quoted for other parsers' sake).
    """
    kind = _resolve_plain(s)[0]
    if kind != "str":
        return True
    c = s[:1]
    if c and (c in "+-" or "0" <= c <= "9") and ":" in s:
        return bool(_BASE60.match(s))
    return False


# ---------------------------------------------------------------------------
# Go number formatting.


def _shortest_digits(f):
    """Shortest round-trip decimal digits of abs(f) > 0 and the decimal point
    position dp, so that abs(f) == 0.DIGITS * 10**dp."""
    r = repr(abs(f))
    if "e" in r:
        mant, exp = r.split("e")
        exp = int(exp)
    else:
        mant, exp = r, 0
    if "." in mant:
        ip, fp = mant.split(".")
    else:
        ip, fp = mant, ""
    digits = ip + fp
    stripped = digits.lstrip("0")
    lead = len(digits) - len(stripped)
    dp = len(ip) + exp - lead
    digits = stripped.rstrip("0") or "0"
    return digits, dp


def _fmt_e(neg, digits, dp):
    exp = dp - 1
    m = digits[0]
    if len(digits) > 1:
        m += "." + digits[1:]
    sign = "-" if exp < 0 else "+"
    e = abs(exp)
    return ("-" if neg else "") + m + "e" + sign + ("%02d" % e)


def _fmt_f(neg, digits, dp):
    nd = len(digits)
    if dp <= 0:
        s = "0." + "0" * (-dp) + digits
    elif dp >= nd:
        s = digits + "0" * (dp - nd)
    else:
        s = digits[:dp] + "." + digits[dp:]
    return ("-" if neg else "") + s


def _go_special(f):
    # strconv's spelling of the values encoding/json refuses.
    if f != f:
        return "NaN"
    return "+Inf" if f > 0 else "-Inf"


def go_float_g(f):
    """strconv.FormatFloat(f, 'g', -1, 64) with go-yaml's .inf/.nan spellings."""
    if f != f:
        return ".nan"
    if math.isinf(f):
        return ".inf" if f > 0 else "-.inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    digits, dp = _shortest_digits(f)
    exp = dp - 1
    if exp < -4 or exp >= 6:  # shortest formatting decides with precision 6
        return _fmt_e(f < 0, digits, dp)
    return _fmt_f(f < 0, digits, dp)


def go_float32_g(f):
    """strconv.FormatFloat(f, 'g', -1, 32): how sigs.k8s.io/yaml turns float
    map keys (and floats bound for Go string fields) into text."""
    if f != f:
        return ".nan"
    if math.isinf(f):
        return ".inf" if f > 0 else "-.inf"
    try:
        f32 = struct.unpack("<f", struct.pack("<f", f))[0]
    except OverflowError:
        return ".inf" if f > 0 else "-.inf"
    if f32 == 0:
        return "-0" if math.copysign(1.0, f32) < 0 else "0"
    neg = f32 < 0
    a = abs(f32)
    for p in range(1, 10):
        s = "%.*e" % (p - 1, a)
        if struct.unpack("<f", struct.pack("<f", float(s)))[0] == a:
            break
    mant, exp = s.split("e")
    digits = mant.replace(".", "").rstrip("0") or "0"
    dp = int(exp) + 1
    e = dp - 1
    if e < -4 or e >= 6:
        return _fmt_e(neg, digits, dp)
    return _fmt_f(neg, digits, dp)


def json_target_string(value):
    """The string sigs.k8s.io/yaml substitutes when a YAML number or bool is
    bound for a Go string field (convertToJSONableObject); None if it keeps
    the value as is."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        s = go_float32_g(value)
        return s or None
    return None


def _number_scalar(v):
    """YAML text go-yaml v2 writes for a number that went through Go's
    encoding/json and back through go-yaml's resolver."""
    if isinstance(v, int):
        text = None
        n = v
    else:
        if v != v or math.isinf(v):
            raise YAMLError("error marshaling into JSON: json: unsupported value: %s" % _go_special(v))
        if v == 0:
            return "0"
        a = abs(v)
        if a < 1e-6 or a >= 1e21 or v != int(v):
            return go_float_g(v)
        digits, dp = _shortest_digits(v)
        n = int(digits) * 10 ** (dp - len(digits))
        if v < 0:
            n = -n
        text = True
    if _INT64_MIN <= n <= _UINT64_MAX:
        return str(n)
    # Outside int64/uint64: go-yaml reads the JSON digits back as a float64.
    return go_float_g(float(n) if text is None else v)


# ---------------------------------------------------------------------------
# Loading.

_STR_TAG = "tag:yaml.org,2002:str"
_BINARY_TAG = "tag:yaml.org,2002:binary"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_RESOLVABLE = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "timestamp",
}


def _go_short_tag(tag):
    if tag.startswith("tag:yaml.org,2002:"):
        return "!!" + tag[len("tag:yaml.org,2002:"):]
    return tag


def _go_base64_decode(s):
    import base64
    import binascii

    try:
        return base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        # Go's StdEncoding skips \r and \n but nothing else.
        try:
            return base64.b64decode(s.replace("\n", "").replace("\r", "").encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise YAMLError("error converting YAML to JSON: yaml: !!binary value contains invalid base64 data")


def _go_bytes_to_json_string(b):
    # encoding/json writes each invalid UTF-8 byte as U+FFFD.
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        out = []
        i = 0
        n = len(b)
        while i < n:
            for w in (1, 2, 3, 4):
                try:
                    out.append(b[i:i + w].decode("utf-8"))
                    i += w
                    break
                except UnicodeDecodeError:
                    continue
            else:
                out.append("\ufffd")
                i += 1
        return "".join(out)


def _tagged_scalar(tag, value):
    """go-yaml v2 resolve(tag, value) for an explicitly tagged scalar."""
    kind = _RESOLVABLE.get(tag)
    if kind is None:
        if tag == _BINARY_TAG:
            return _go_bytes_to_json_string(_go_base64_decode(value))
        return value  # unknown tags keep the text
    if kind == "str":
        return value
    rkind, rv = _resolve_plain(value)
    if rkind == kind or (kind == "timestamp" and rkind == "timestamp"):
        return None if rkind == "null" else rv
    if kind == "float" and rkind == "int":
        return float(rv)
    rtag = {"str": "!!str", "null": "!!null", "bool": "!!bool", "int": "!!int",
            "float": "!!float", "timestamp": "!!timestamp"}[rkind]
    raise YAMLError(
        "error converting YAML to JSON: yaml: cannot decode %s `%s` as a %s" % (rtag, value, _go_short_tag(tag))
    )


_BAD_ESCAPE = re.compile(r"\\(.)", re.S)


def _check_go_escapes(raw):
    """libyaml accepts "\\/" in double-quoted scalars, go-yaml v2 does not."""
    for m in _BAD_ESCAPE.finditer(raw):
        if m.group(1) == "/":
            return m.start()
    return -1


def _go_error_from_pyyaml(exc, prefix="error converting YAML to JSON: "):
    problem = getattr(exc, "problem", None)
    if isinstance(exc, _pyyaml.reader.ReaderError):
        return YAMLError(prefix + "yaml: " + exc.reason)
    pm = getattr(exc, "problem_mark", None)
    cm = getattr(exc, "context_mark", None)
    line = 0
    if pm is not None and pm.line != 0:
        line = pm.line
        if isinstance(exc, _pyyaml.scanner.ScannerError):
            line += 1
    elif cm is not None and cm.line != 0:
        line = cm.line
    where = "line %d: " % line if line else ""
    msg = problem or "unknown problem parsing YAML content"
    return YAMLError(prefix + "yaml: " + where + msg)


class _Special:
    """A resolved float that encoding/json will refuse (NaN or +-Inf)."""

    __slots__ = ("f",)

    def __init__(self, f):
        self.f = f


_plain_cache = {}


def _plain_value(s):
    """Cached value of an untagged plain scalar (results are immutable)."""
    try:
        return _plain_cache[s]
    except KeyError:
        pass
    kind, v = _resolve_plain(s)
    if kind == "null":
        v = None
    elif type(v) is float and (v != v or v in (math.inf, -math.inf)):
        v = _Special(v)
    if len(_plain_cache) > 50000:
        _plain_cache.clear()
    _plain_cache[s] = v
    return v


def _event_scalar(ev):
    """go-yaml v2 decoder.scalar() into interface{}."""
    tag = ev.tag
    if tag is None:
        if ev.implicit[0]:
            return _plain_value(ev.value)
        return ev.value  # quoted or block scalar: always a string
    if tag == "!":
        return ev.value
    try:
        v = _tagged_scalar(tag, ev.value)
    except YAMLError as err:
        raise _DecodeError(err) from None
    if type(v) is float and (v != v or v in (math.inf, -math.inf)):
        return _Special(v)
    return v


# Map keys: strings as themselves, other scalars wrapped so that true, 1 and
# 1.0 stay distinct keys as they are in Go's map[interface{}]interface{}.
def _wrap_key(k):
    if isinstance(k, _Special):
        return ("float", k.f)
    return (type(k).__name__, k)


class _DecodeError(Exception):
    """A go-yaml decode-phase error; Go only reports it if the whole
    document parses (parse errors come first)."""

    def __init__(self, err):
        self.err = err


_IN_PROGRESS = object()
_MERGE_KEY = object()
_NO_KEY = object()
_ScalarEvent = _pyyaml.ScalarEvent
_MappingStartEvent = _pyyaml.MappingStartEvent
_SequenceStartEvent = _pyyaml.SequenceStartEvent
_MappingEndEvent = _pyyaml.MappingEndEvent
_SequenceEndEvent = _pyyaml.SequenceEndEvent
_AliasEvent = _pyyaml.AliasEvent


def _merge_into(out, v):
    def fail():
        raise _DecodeError(YAMLError(
            "error converting YAML to JSON: yaml: map merge requires map or sequence of maps as the value"))

    if type(v) is dict:
        out.update(v)
    elif type(v) is list:
        for m in v:
            if type(m) is not dict:
                fail()
        # Earlier entries take precedence, so apply them last.
        for m in reversed(v):
            out.update(m)
    else:
        fail()


class _Builder:
    __slots__ = ("text", "odd_keys", "specials", "anchors", "check_escapes")

    def __init__(self, text):
        self.text = text
        self.odd_keys = False  # some map key is not a string
        self.specials = False  # some value may be NaN/Inf
        self.anchors = {}
        self.check_escapes = "\\/" in text

    def escape_check(self, ev):
        # libyaml accepts "\/" in double-quoted scalars, go-yaml v2 does not.
        text = self.text
        raw = text[ev.start_mark.index:ev.end_mark.index]
        pos = _check_go_escapes(raw)
        if pos >= 0:
            line = text.count("\n", 0, ev.start_mark.index + pos)
            where = "line %d: " % (line + 1) if line else ""
            raise YAMLError("error converting YAML to JSON: yaml: " + where + "found unknown escape character")

    def alias(self, ev):
        v = self.anchors.get(ev.anchor)
        if v is None:
            raise YAMLError("error converting YAML to JSON: yaml: unknown anchor '%s' referenced" % ev.anchor)
        if v is _IN_PROGRESS:
            raise _DecodeError(YAMLError(
                "error converting YAML to JSON: yaml: anchor '%s' value contains itself" % ev.anchor))
        v = v[0]
        # go-yaml decodes the anchored node again: every alias is a copy.
        if type(v) is dict or type(v) is list:
            return copy.deepcopy(v)
        return v

    def run(self, get):
        """Build the first document from parser events (go-yaml's parser and
        decoder in one pass)."""
        stack = []  # frames: [container, is_map, pending_key, anchor]
        anchors = self.anchors
        while True:
            ev = get()
            cls = type(ev)
            if cls is _ScalarEvent:
                if self.check_escapes and ev.style == '"':
                    self.escape_check(ev)
                if stack:
                    top = stack[-1]
                    if top[1] and top[2] is _NO_KEY:
                        # A mapping key.
                        s = ev.value
                        if s == "<<" and (ev.implicit[0] or ev.tag == _MERGE_TAG):
                            top[2] = _MERGE_KEY
                            if ev.anchor is not None:
                                anchors[ev.anchor] = (s,)
                            continue
                        v = _event_scalar(ev)
                        if ev.anchor is not None:
                            anchors[ev.anchor] = (v,)
                        if type(v) is not str:
                            self.odd_keys = True
                            v = _wrap_key(v)
                        top[2] = v
                        continue
                if stack and stack[-1][2] is _MERGE_KEY:
                    # go-yaml rejects a scalar merge value before decoding it.
                    _merge_into(None, ev)
                v = _event_scalar(ev)
                if type(v) is _Special:
                    self.specials = True
                if ev.anchor is not None:
                    anchors[ev.anchor] = (v,)
            elif cls is _MappingStartEvent or cls is _SequenceStartEvent:
                if ev.anchor is not None:
                    anchors[ev.anchor] = _IN_PROGRESS
                if cls is _MappingStartEvent:
                    stack.append([{}, True, _NO_KEY, ev.anchor])
                else:
                    stack.append([[], False, None, ev.anchor])
                continue
            elif cls is _MappingEndEvent or cls is _SequenceEndEvent:
                frame = stack.pop()
                v = frame[0]
                if frame[3] is not None:
                    anchors[frame[3]] = (v,)
            elif cls is _AliasEvent:
                v = self.alias(ev)
                if type(v) is _Special:
                    self.specials = True
            else:  # DocumentEnd cannot come before the root is complete
                raise YAMLError("error converting YAML to JSON: yaml: unexpected event %r" % (ev,))
            # Attach the completed value v to its parent.
            if not stack:
                return v
            top = stack[-1]
            if not top[1]:
                top[0].append(v)
                continue
            key = top[2]
            if key is _NO_KEY:
                # A collection (or alias) used as a key.
                if type(v) is dict or type(v) is list:
                    raise _DecodeError(YAMLError(
                        "error converting YAML to JSON: yaml: invalid map key: %s" % _go_repr(v)))
                if type(v) is not str:
                    self.odd_keys = True
                    v = _wrap_key(v)
                top[2] = v
                continue
            if key is _MERGE_KEY:
                _merge_into(top[0], v)
            else:
                top[0][key] = v
            top[2] = _NO_KEY


def _first_document(text):
    """Parse and decode the first YAML document; None if there is none.

    Returns (value, builder)."""
    if _CParser is None:  # pragma: no cover
        raise RuntimeError("goyaml needs PyYAML built with libyaml")
    parser = _CParser(text)
    try:
        get = parser.get_event
        get()  # StreamStart
        ev = get()
        if type(ev) is _pyyaml.StreamEndEvent:
            return None, None
        b = _Builder(text)
        try:
            v = b.run(get)
        except _DecodeError as de:
            # Go parses the whole document before decoding it: a parse error
            # anywhere in it wins over this decode error.
            _drain_document(get, b)
            raise de.err from None
        get()  # DocumentEnd
        return v, b
    except _pyyaml.YAMLError as exc:
        raise _go_error_from_pyyaml(exc) from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()


def _drain_document(get, b):
    anchors = b.anchors
    while True:
        ev = get()
        cls = type(ev)
        if cls is _pyyaml.DocumentEndEvent or cls is _pyyaml.StreamEndEvent:
            return
        if cls is _AliasEvent:
            if ev.anchor not in anchors:
                raise YAMLError("error converting YAML to JSON: yaml: unknown anchor '%s' referenced" % ev.anchor)
        else:
            if cls is _ScalarEvent and b.check_escapes and ev.style == '"':
                b.escape_check(ev)
            anchor = getattr(ev, "anchor", None)
            if anchor is not None:
                anchors[anchor] = (None,)



def _convert_keys(v):
    """sigs.k8s.io/yaml convertToJSONableObject: map keys become strings."""
    if type(v) is dict:
        out = {}
        for k, x in v.items():
            if type(k) is tuple:
                t, kv = k
                if t == "bool":
                    k = "true" if kv else "false"
                elif t == "int":
                    if kv > _INT64_MAX:
                        raise YAMLError("error converting YAML to JSON: unsupported map key of type: uint64, "
                                        "key: 0x%x, value: %s" % (kv, _go_value_repr(x)))
                    k = str(kv)
                elif t == "float":
                    k = go_float32_g(kv)
                elif t == "f":
                    k = go_float32_g(kv)
                else:  # null
                    raise YAMLError("error converting YAML to JSON: unsupported map key of type: %!s(<nil>), "
                                    "key: <nil>, value: " + _go_value_repr(x))
            out[k] = _convert_keys(x)
        return out
    if type(v) is list:
        return [_convert_keys(x) for x in v]
    return v


def _first_special(v):
    """encoding/json meets values in sorted-key order; the first NaN/Inf wins."""
    if type(v) is dict:
        for k in sorted(v):
            r = _first_special(v[k])
            if r is not None:
                return r
    elif type(v) is list:
        for x in v:
            r = _first_special(x)
            if r is not None:
                return r
    elif type(v) is _Special:
        return v.f
    return None


def _go_repr(v):
    if isinstance(v, dict):
        items = []
        # fmt prints map entries sorted by key (internal/fmtsort).
        def order(kv):
            k = kv[0]
            raw = k[1] if type(k) is tuple else k
            return (type(raw).__name__, raw if isinstance(raw, (str, int, float)) else 0)
        for k, x in sorted(v.items(), key=order):
            if type(k) is tuple:
                k = k[1]
            items.append("%s:%s" % (_go_repr(k), _go_repr(x)))
        return "map[interface {}]interface {}{%s}" % ", ".join(items)
    if isinstance(v, list):
        return "[]interface {}{%s}" % ", ".join(_go_repr(x) for x in v)
    if isinstance(v, str):
        return _go_quote(v)
    if isinstance(v, int) and v > _INT64_MAX:
        return "0x%x" % v  # uint64 under %#v
    if isinstance(v, _Special):
        return go_float_g(v.f).replace(".inf", "+Inf").replace("-.inf", "-Inf").replace(".nan", "NaN").replace("-+Inf", "-Inf")
    if v is None:
        return "interface {}(nil)"
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, float):
        return go_float_g(v).replace(".inf", "+Inf").replace("-+Inf", "-Inf").replace(".nan", "NaN")
    return str(v)



def load(text):
    """One document -> JSON-compatible value, as sigs.k8s.io/yaml.YAMLToJSON
    (then a plain JSON decode) would give it.

    Only the first YAML document in text is read, as go-yaml v2's Unmarshal
    does.  Mappings become dicts (keys converted to strings the way
    sigs.k8s.io/yaml does), integers stay ints, other numbers are floats,
    timestamps and unknown-tag scalars stay strings, !!binary is decoded.
    Errors raise YAMLError carrying Go's message.
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]  # the reader drops a leading byte order mark
    placeholder = None
    if "\ufeff" in text:
        # libyaml skips a BOM at the start of any line; go-yaml keeps it as
        # content.  Parse with a stand-in character libyaml treats as text.
        for cp in range(0xF8FF, 0xE000, -1):
            if chr(cp) not in text:
                placeholder = chr(cp)
                break
        text = text.replace("\ufeff", placeholder)
    v, dec = _first_document(text)
    if dec is None:
        return None
    if dec.odd_keys:
        v = _convert_keys(v)
    if dec.specials:
        f = _first_special(v)
        if f is not None:
            raise YAMLError("error converting YAML to JSON: json: unsupported value: %s" % _go_special(f))
    if placeholder is not None:
        v = _swap_char(v, placeholder, "\ufeff")
    return v


def _swap_char(v, old, new):
    if type(v) is str:
        return v.replace(old, new)
    if type(v) is dict:
        return {k.replace(old, new): _swap_char(x, old, new) for k, x in v.items()}
    if type(v) is list:
        return [_swap_char(x, old, new) for x in v]
    return v


def load_all(text):
    """Split text like k8s's YAMLReader, then load() each raw document."""
    return [load(doc) for doc in split_documents(text)]


# ---------------------------------------------------------------------------
# Key order: go-yaml v2 sorter.go keyList.Less for string keys.


def _is_letter(c):
    return c.isalpha()


def _is_digit(c):
    return "0" <= c <= "9" or (c > "\x7f" and unicodedata.category(c) == "Nd")


def _wrap_int64(n):
    n &= (1 << 64) - 1
    return n - (1 << 64) if n >= (1 << 63) else n


def _key_less(a, b):
    la, lb = len(a), len(b)
    i = 0
    n = min(la, lb)
    while i < n:
        ca, cb = a[i], b[i]
        if ca == cb:
            i += 1
            continue
        al = ca.isalpha()
        bl = cb.isalpha()
        if al and bl:
            return ca < cb
        if al or bl:
            return bl
        an = bn = 0
        if ca == "0" or cb == "0":
            j = i - 1
            while j >= 0 and _is_digit(a[j]):
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < la and _is_digit(a[ai]):
            an = _wrap_int64(an * 10 + (ord(a[ai]) - 48))
            ai += 1
        bi = i
        while bi < lb and _is_digit(b[bi]):
            bn = _wrap_int64(bn * 10 + (ord(b[bi]) - 48))
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ca < cb
    return la < lb


def _key_cmp(a, b):
    if _key_less(a, b):
        return -1
    if _key_less(b, a):
        return 1
    return 0


_cmp_key = functools.cmp_to_key(_key_cmp)
# Keys that are ASCII without digits compare like strings in which every
# letter ranks above every non-letter; this translation makes that a plain
# string comparison.
_LETTER_UP = {c: c + 128 for c in range(65, 91)}
_LETTER_UP.update({c: c + 128 for c in range(97, 123)})
_FAST_KEY = re.compile(r"[\x00-\x2f\x3a-\x7f]*\Z")
_order_cache = {}


def _sorted_keys(d):
    keys = tuple(d)
    order = _order_cache.get(keys)
    if order is not None:
        return order
    for k in keys:
        if type(k) is not str:
            raise TypeError("goyaml.dump: mapping keys must be strings, got %r" % (k,))
    if all(_FAST_KEY.match(k) for k in keys):
        order = sorted(keys, key=lambda k: k.translate(_LETTER_UP))
    else:
        order = sorted(keys, key=_cmp_key)
    if len(_order_cache) > 20000:
        _order_cache.clear()
    _order_cache[keys] = order
    return order


# ---------------------------------------------------------------------------
# Scalar analysis and style choice (encode.go stringv + emitterc.go).

_PLAIN, _SINGLE, _DOUBLE, _LITERAL = range(4)
_BEST_WIDTH = 80
_BREAKS = "\r\n\x85\u2028\u2029"
_NOT_PRINTABLE = re.compile("[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]")
_HAS_BREAK = re.compile("[\r\n\x85\u2028\u2029]")
_BREAK_SPACE = re.compile("[\r\n\x85\u2028\u2029] ")
_SPACE_BREAK = re.compile(" [\r\n\x85\u2028\u2029]")
_BLOCK_IND_INNER = re.compile(":(?:[ \t]|\\Z)|[ \t\r\n\x85\u2028\u2029\x00]#")
_SAFE_PLAIN = re.compile(r"[A-Za-z_/$(][A-Za-z0-9_./=+$()-]*\Z")


def _analyze(s):
    """emitterc.go yaml_emitter_analyze_scalar for block context.

    Returns (multiline, block_plain_allowed, single_quoted_allowed, block_allowed).
    """
    if not s:
        return False, True, True, False
    special = _NOT_PRINTABLE.search(s) is not None
    line_breaks = _HAS_BREAK.search(s) is not None
    block_ind = False
    c0 = s[0]
    if s.startswith("---") or s.startswith("..."):
        block_ind = True
    elif c0 in "#,[]{}&*!|>'\"%@`":
        block_ind = True
    elif c0 in "?:-" and (len(s) == 1 or s[1] in " \t"):
        block_ind = True
    if not block_ind and _BLOCK_IND_INNER.search(s):
        block_ind = True
    leading_space = c0 == " "
    leading_break = c0 in _BREAKS
    trailing_space = s[-1] == " "
    trailing_break = s[-1] in _BREAKS
    break_space = line_breaks and _BREAK_SPACE.search(s) is not None
    space_break = line_breaks and _SPACE_BREAK.search(s) is not None
    block_plain = not (leading_space or leading_break or trailing_space or trailing_break
                       or break_space or space_break or special or line_breaks or block_ind)
    single_ok = not (break_space or space_break or special)
    block_ok = not (trailing_space or space_break or special)
    return line_breaks, block_plain, single_ok, block_ok


def _double_escape(s):
    out = []
    bom = s.startswith("\ufeff")
    for ch in s:
        o = ord(ch)
        if bom or ch == '"' or ch == "\\" or ch in _BREAKS or _NOT_PRINTABLE.match(ch):
            e = _ESC.get(o)
            if e is None:
                if o <= 0xFF:
                    e = "\\x%02X" % o
                elif o <= 0xFFFF:
                    e = "\\u%04X" % o
                else:
                    e = "\\U%08X" % o
            out.append(e)
        else:
            out.append(ch)
    return out


_ESC = {
    0x00: "\\0", 0x07: "\\a", 0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0B: "\\v",
    0x0C: "\\f", 0x0D: "\\r", 0x1B: "\\e", 0x22: '\\"', 0x5C: "\\\\", 0x85: "\\N",
    0xA0: "\\_", 0x2028: "\\L", 0x2029: "\\P",
}

_style_cache = {}
_JSON_RAW_CONTROL = re.compile("[\x7f-\x84\x86-\x9f\ufffe\uffff]")


def _string_style(s):
    """(style, rendered, last_space, multiline, source) for a string value.

    rendered is the scalar's text when no line folding happens (without the
    leading separator space); last_space is the offset in rendered of the
    last space that could be folded, or -1; source is the text go-yaml
    actually emits (s, unless NEL folding changed it).
    """
    info = _style_cache.get(s)
    if info is not None:
        return info
    if _JSON_RAW_CONTROL.search(s):
        # encoding/json leaves these characters raw, and go-yaml's reader
        # then refuses the JSON text it is asked to convert.
        raise YAMLError("yaml: control characters are not allowed")
    if "\x85" in s:
        info = _string_style(_fold_nel(s))
        _style_cache[s] = info
        return info
    if _SAFE_PLAIN.match(s) and not resolves_to_non_string(s):
        info = (_PLAIN, s, s.rfind(" "), False, s)
    else:
        multiline, block_plain, single_ok, block_ok = _analyze(s)
        if "\n" in s:
            style = _LITERAL
        elif resolves_to_non_string(s):
            style = _DOUBLE
        else:
            style = _PLAIN
        if style == _PLAIN and not block_plain:
            style = _SINGLE
        if style == _SINGLE and not single_ok:
            style = _DOUBLE
        if style == _LITERAL and not block_ok:
            style = _DOUBLE
        if style == _PLAIN:
            info = (_PLAIN, s, s.rfind(" "), multiline, s)
        elif style == _SINGLE:
            r = "'" + s.replace("'", "''") + "'"
            info = (_SINGLE, r, r.rfind(" ") if " " in s else -1, multiline, s)
        elif style == _DOUBLE:
            r = '"' + "".join(_double_escape(s)) + '"'
            info = (_DOUBLE, r, r.rfind(" ") if " " in s else -1, multiline, s)
        else:
            info = (_LITERAL, s, -1, True, s)
    if len(_style_cache) > 50000:
        _style_cache.clear()
    _style_cache[s] = info
    return info


def _fold_nel(s):
    """What a string containing U+0085 becomes on its way through Marshal.

    encoding/json leaves NEL raw, and go-yaml's scanner then treats it as a
    line break inside the double-quoted JSON string and folds it: spaces
    before it are dropped, spaces after it skipped, a single break becomes a
    space and n consecutive breaks become n-1 newlines.
    """
    out = []
    n = len(s)
    i = 0
    col0 = False
    while True:
        if col0 and s[i:i + 3] in ("---", "...") and i + 3 < n and s[i + 3] in " \x85":
            raise YAMLError("yaml: found unexpected document indicator")
        j = i
        while j < n and s[j] != " " and s[j] != "\x85":
            j += 1
        out.append(s[i:j])
        i = j
        if i >= n:
            break
        leading = False
        spaces = []
        trailing = 0
        col0 = False
        while i < n and (s[i] == " " or s[i] == "\x85"):
            if s[i] == " ":
                if not leading:
                    spaces.append(" ")
                col0 = False
            else:
                if not leading:
                    spaces = []
                    leading = True
                else:
                    trailing += 1
                col0 = True
            i += 1
        if leading:
            out.append("\n" * trailing if trailing else " ")
        else:
            out.append("".join(spaces))
    return "".join(out)


def _go_json_len(s):
    """Length in characters of encoding/json's quoted form of s."""
    n = len(s) + 2
    for ch in s:
        if ch in '"\\\n\r\t\b\f':
            n += 1
        elif ch < " " or ch in "<>&\u2028\u2029":
            n += 5
    return n


def _bad_key(k):
    # go-yaml re-reads the JSON; a key is a "simple key" there, which may not
    # span lines (NEL is a line break to it) nor be longer than 1024 chars.
    return "\x85" in k or (len(k) > 200 and _go_json_len(k) > 1024)


def _key_error(root):
    """go-yaml's error for the first bad key in JSON order; its line is the
    number of NEL line breaks the JSON text holds up to that key's ':'."""
    nel = [0]

    def walk(v):
        if isinstance(v, dict):
            for k in sorted(v):
                nel[0] += k.count("\x85")
                if _bad_key(k):
                    return True
                if walk(v[k]):
                    return True
        elif isinstance(v, (list, tuple)):
            for x in v:
                if walk(x):
                    return True
        elif isinstance(v, str):
            nel[0] += v.count("\x85")
        return False

    def has_control(v):
        if isinstance(v, dict):
            return any(_JSON_RAW_CONTROL.search(k) or has_control(x) for k, x in v.items())
        if isinstance(v, (list, tuple)):
            return any(has_control(x) for x in v)
        return isinstance(v, str) and _JSON_RAW_CONTROL.search(v) is not None

    # go-yaml's reader decodes input ahead of the parser, so a control
    # character usually wins over a parse error (exactly so for short JSON).
    if has_control(root):
        return YAMLError("yaml: control characters are not allowed")
    walk(root)
    where = "line %d: " % nel[0] if nel[0] else ""
    return YAMLError("yaml: " + where + "did not find expected ',' or '}'")


# ---------------------------------------------------------------------------
# The emitter.


class _Emitter:
    """go-yaml v2's emitter, restricted to what JSON values produce: block
    mappings and sequences, "{}"/"[]" for empty ones, and scalars."""

    __slots__ = ("out", "col", "ws", "ind", "indent", "root")

    def __init__(self, root=None):
        self.root = root
        self.out = []
        self.col = 0
        self.ws = True
        self.ind = True
        self.indent = -1

    # -- primitives ---------------------------------------------------------

    def write_indent(self, indent):
        if indent < 0:
            indent = 0
        col = self.col
        if not self.ind or col > indent or (col == indent and not self.ws):
            self.out.append("\n")
            col = 0
        if col < indent:
            self.out.append(" " * (indent - col))
            col = indent
        self.col = col
        self.ws = True
        self.ind = True

    # -- nodes ----------------------------------------------------------------

    def node(self, v, mapping_ctx):
        t = type(v)
        if t is str:
            self.string(v, False)
        elif t is dict:
            if v:
                self.block_mapping(v)
            else:
                self.flow_empty("{}")
        elif t is list or t is tuple:
            if v:
                self.block_sequence(v, mapping_ctx)
            else:
                self.flow_empty("[]")
        elif v is None:
            self.plain_atom("null")
        elif t is bool:
            self.plain_atom("true" if v else "false")
        elif t is int or t is float:
            self.plain_atom(_number_scalar(v))
        elif isinstance(v, bool):
            self.plain_atom("true" if v else "false")
        elif isinstance(v, (int, float)):
            self.plain_atom(_number_scalar(v))
        elif isinstance(v, str):
            self.string(str(v), False)
        elif isinstance(v, dict):
            self.node(dict(v), mapping_ctx)
        elif isinstance(v, (list, tuple)):
            self.node(list(v), mapping_ctx)
        else:
            raise TypeError("goyaml.dump: cannot encode %s" % type(v).__name__)

    def flow_empty(self, text):
        if not self.ws:
            self.out.append(" ")
            self.col += 1
        self.out.append(text)
        self.col += 2
        self.ws = False
        self.ind = False

    def plain_atom(self, text):
        # Numbers, booleans and null: plain, no spaces, nothing to fold.
        if not self.ws:
            self.out.append(" ")
            self.col += 1
        self.out.append(text)
        self.col += len(text)
        self.ws = False
        self.ind = False

    def block_mapping(self, d):
        saved = self.indent
        indent = 0 if saved < 0 else saved + 2
        self.indent = indent
        out = self.out
        for k in _sorted_keys(d):
            if "\x85" in k or len(k) > 200:
                if _bad_key(k):
                    raise _key_error(self.root)
            self.write_indent(indent)
            style, rendered, _last, multiline, _src = _string_style(k)
            if not multiline and len(k) <= 128 and (len(k) * 4 <= 128 or len(k.encode("utf-8")) <= 128):
                # Simple key: "key:" on the current line, never folded.
                if style == _LITERAL:  # unreachable: literal keys are multiline
                    style = _DOUBLE
                if style == _PLAIN:
                    out.append(rendered)
                    self.col += len(rendered)
                else:
                    out.append(rendered)
                    self.col += _col_width(rendered)
                out.append(":")
                self.col += 1
                self.ws = False
                self.ind = False
            else:
                # Complex key: "? key" then ": value" on its own line.
                out.append("?")
                self.col += 1
                self.ws = False
                self.string(k, False)
                self.write_indent(indent)
                out.append(":")
                self.col += 1
                self.ws = False
            self.node(d[k], True)
        self.indent = saved

    def block_sequence(self, seq, mapping_ctx):
        saved = self.indent
        if saved < 0:
            indent = 0
        elif mapping_ctx and not self.ind:
            indent = saved  # compact: "- " level with the parent key
        else:
            indent = saved + 2
        self.indent = indent
        out = self.out
        for item in seq:
            self.write_indent(indent)
            if not self.ws:
                out.append(" ")
                self.col += 1
            out.append("-")
            self.col += 1
            self.ws = False
            self.node(item, False)
        self.indent = saved

    def string(self, s, simple_key):
        style, rendered, last_space, _multiline, s = _string_style(s)
        scalar_indent = 2 if self.indent < 0 else self.indent + 2
        if style == _LITERAL:
            self.literal(s, scalar_indent)
            return
        if not self.ws:
            self.out.append(" ")
            self.col += 1
        col = self.col
        if style == _SINGLE and _multiline:
            self.folded_single(s, scalar_indent)
            return
        if simple_key or last_space < 0 or col + last_space <= _BEST_WIDTH:
            self.out.append(rendered)
            self.col = col + (len(rendered) if style == _PLAIN else _col_width(rendered))
            self.ws = False
            self.ind = False
            return
        if style == _PLAIN:
            self.folded_plain(s, scalar_indent)
        elif style == _SINGLE:
            self.folded_single(s, scalar_indent)
        else:
            self.folded_double(s, scalar_indent)

    # -- folding writers (only when a line may exceed 80 columns) -------------

    def folded_plain(self, s, indent):
        out = self.out
        spaces = False
        n = len(s)
        i = 0
        while i < n:
            ch = s[i]
            if ch == " ":
                if not spaces and self.col > _BEST_WIDTH and (i + 1 >= n or s[i + 1] != " "):
                    self.write_indent(indent)
                else:
                    out.append(" ")
                    self.col += 1
                spaces = True
            else:
                out.append(ch)
                self.col += 1
                self.ind = False
                spaces = False
            i += 1
        self.ws = False
        self.ind = False

    def folded_single(self, s, indent):
        out = self.out
        out.append("'")
        self.col += 1
        self.ws = False
        self.ind = False
        spaces = False
        breaks = False
        n = len(s)
        i = 0
        while i < n:
            ch = s[i]
            if ch == " ":
                if (not spaces and self.col > _BEST_WIDTH and i > 0 and i < n - 1
                        and s[i + 1] != " "):
                    self.write_indent(indent)
                else:
                    out.append(" ")
                    self.col += 1
                spaces = True
            elif ch in _BREAKS:
                if not breaks and ch == "\n":
                    out.append("\n")
                    self.col = 0
                if ch == "\n":
                    out.append("\n")
                else:
                    out.append(ch)
                self.col = 0
                self.ind = True
                breaks = True
            else:
                if breaks:
                    self.write_indent(indent)
                if ch == "'":
                    out.append("'")
                    self.col += 1
                out.append(ch)
                self.col += 1
                self.ind = False
                spaces = False
                breaks = False
            i += 1
        out.append("'")
        self.col += 1
        self.ws = False
        self.ind = False

    def folded_double(self, s, indent):
        out = self.out
        out.append('"')
        self.col += 1
        self.ws = False
        self.ind = False
        spaces = False
        bom = s.startswith("\ufeff")
        n = len(s)
        i = 0
        while i < n:
            ch = s[i]
            if bom or ch == '"' or ch == "\\" or ch in _BREAKS or _NOT_PRINTABLE.match(ch):
                e = "".join(_double_escape(ch)) if not bom else _bom_escape(ch)
                out.append(e)
                self.col += len(e)
                spaces = False
            elif ch == " ":
                if not spaces and self.col > _BEST_WIDTH and i > 0 and i < n - 1:
                    self.write_indent(indent)
                    if s[i + 1] == " ":
                        out.append("\\")
                        self.col += 1
                else:
                    out.append(" ")
                    self.col += 1
                spaces = True
            else:
                out.append(ch)
                self.col += 1
                spaces = False
            i += 1
        out.append('"')
        self.col += 1
        self.ws = False
        self.ind = False

    def literal(self, s, indent):
        out = self.out
        if not self.ws:
            out.append(" ")
            self.col += 1
        hints = "|"
        if s[0] == " " or s[0] in _BREAKS:
            hints += "2"
        last = s[-1]
        if last not in _BREAKS:
            hints += "-"
        elif len(s) == 1 or s[-2] in _BREAKS:
            hints += "+"
        out.append(hints)
        out.append("\n")
        pad = " " * indent
        if "\r" not in s and "\x85" not in s and "\u2028" not in s and "\u2029" not in s:
            lines = s.split("\n")
            out.append("\n".join([pad + ln if ln else "" for ln in lines]))
            tail = lines[-1]
            if tail:
                self.col = indent + len(tail)
                self.ind = False
            else:
                self.col = 0
                self.ind = True
        else:
            self.col = 0
            self.ind = True
            breaks = True
            for ch in s:
                if ch in _BREAKS:
                    out.append(ch)
                    self.col = 0
                    self.ind = True
                    breaks = True
                else:
                    if breaks:
                        self.write_indent(indent)
                    out.append(ch)
                    self.col += 1
                    self.ind = False
                    breaks = False
        # go-yaml sets "whitespace" when the block starts and never clears it.
        self.ws = True


def _bom_escape(ch):
    o = ord(ch)
    e = _ESC.get(o)
    if e is not None:
        return e
    if o <= 0xFF:
        return "\\x%02X" % o
    if o <= 0xFFFF:
        return "\\u%04X" % o
    return "\\U%08X" % o


def _col_width(rendered):
    # The emitter counts columns in characters; a quoted rendering never
    # contains a raw line break when it takes this path.
    return len(rendered)


def dump(value):
    """sigs.k8s.io/yaml.Marshal output for a JSON-compatible value."""
    e = _Emitter(value)
    e.node(value, False)
    # Document end: go-yaml's write_indent at indent 0.
    e.write_indent(0)
    return "".join(e.out)


def _go_quote(s):
    # strconv.Quote, as %#v prints strings.
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif ch.isprintable():
            out.append(ch)
        elif o < 0x80:
            out.append("\\x%02x" % o)
        elif o <= 0xFFFF:
            out.append("\\u%04x" % o)
        else:
            out.append("\\U%08x" % o)
    out.append('"')
    return "".join(out)


def _go_value_repr(v):
    # Go's %+#v of a decoded value, for the rare unsupported-key message.
    if isinstance(v, str):
        return _go_quote(v)
    if v is None:
        return "<nil>"
    if v is True or v is False:
        return "true" if v else "false"
    return _go_repr(v)
