"""What sigs.k8s.io/yaml.Marshal's detour through JSON does to a value before go-yaml emits it.

Marshal runs encoding/json, then JSONToYAML reads that JSON text back with go-yaml v2 (JSON
being YAML) and emits the result.  So numbers come back as go-yaml's resolver reads
encoding/json's spelling, a NEL (U+0085, left raw by encoding/json) is a line break to go-yaml's
scanner, some raw control characters make go-yaml's reader refuse the text, and an over-long
or multi-line key is no "simple key" to go-yaml's scanner.
"""
from __future__ import annotations

from .. import lazy_regex
from ..gostd.json import MarshalError, float_text, quote_string
from .errors import YAMLError
from .floatv import go_float_g
from .resolve import INT64_MIN, UINT64_MAX

__all__ = ["number_text", "reread_string", "key_fails", "key_error"]

# encoding/json leaves these characters raw, and go-yaml's reader refuses them.
_JSON_RAW_CONTROL = lazy_regex.compile("[\x7f-\x84\x86-\x9f\ufffe\uffff]")
_CONTROL_ERROR = "yaml: control characters are not allowed"


def number_text(v):
    """The plain scalar go-yaml writes for a number: encoding/json's text, read back by
    go-yaml's resolver (an int within int64/uint64, else a float64), written by encode.go."""
    if isinstance(v, float):
        try:
            text = float_text(v)
        except MarshalError as err:
            raise YAMLError("error marshaling into JSON: " + str(err)) from None
        if "." in text or "e" in text:
            return go_float_g(v)  # read back as the same float64
        n = int(text)
    else:
        n = v
    if INT64_MIN <= n <= UINT64_MAX:
        return str(n)
    # Outside int64/uint64: go-yaml reads the JSON digits back as a float64.
    return go_float_g(float(n))


def reread_string(s):
    """The string go-yaml reads back from encoding/json's quoting of s (s itself unless it
    holds a NEL); YAMLError where go-yaml's reader refuses the text."""
    if s.isascii():  # (DEL is the class's one ASCII character: no pattern to compile)
        if "\x7f" in s:
            raise YAMLError(_CONTROL_ERROR)
        return s
    if _JSON_RAW_CONTROL.search(s):
        raise YAMLError(_CONTROL_ERROR)
    return _fold_nel(s) if "\x85" in s else s


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


def key_fails(k):
    """True if go-yaml cannot read key k back from the JSON: a simple key may not span lines
    (NEL is a line break to it) nor be longer than 1024 characters."""
    return "\x85" in k or (len(k) > 200 and len(quote_string(k)) > 1024)


def key_error(root):
    """go-yaml's error for the first bad key of root in JSON order; its line is the number of
    NEL line breaks the JSON text holds up to that key's ':'."""
    nel = [0]

    def walk(v):
        if isinstance(v, dict):
            for k in sorted(v):
                nel[0] += k.count("\x85")
                if key_fails(k):
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
        return YAMLError(_CONTROL_ERROR)
    walk(root)
    where = "line %d: " % nel[0] if nel[0] else ""
    return YAMLError("yaml: " + where + "did not find expected ',' or '}'")
