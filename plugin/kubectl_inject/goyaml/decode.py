"""Reading one YAML document into JSON-compatible values, as sigs.k8s.io/yaml.Unmarshal does:
YAMLToJSON (go-yaml v2's parser and decode.go into interface{}, then convertToJSONableObject
and encoding/json) followed by a plain JSON decode.

Parsing uses PyYAML's libyaml event parser (the C scanner go-yaml v2 was ported from); the
events are decoded here with go-yaml's rules (resolve.go for scalars, decode.go for anchors,
merges and map keys), and libyaml's few departures from go-yaml's scanner are corrected.
"""
from __future__ import annotations

import base64
import binascii
import copy
import functools
import math
import re

from .. import lazy_regex
from ..gostd.json import quote_string, unmarshal_any
from ..gostd.strconv import format_float, quote
from .errors import YAMLError
from .floatv import go_float32_g
from .libyaml import CParser as _CParser  # libyaml: the pure-Python parser's errors differ
from .libyaml import pyyaml as _pyyaml
from .resolve import BINARY_TAG, INT64_MAX, MERGE_TAG, resolve_plain, resolve_tagged
from .split import split_documents

__all__ = ["load", "load_document", "load_all", "json_target_string"]

# sigs.k8s.io/yaml.Unmarshal's prefix for every error YAMLToJSON returns.
_TO_JSON = "error converting YAML to JSON: "


def _binary_text(text):
    """decode.go's !!binary: base64.StdEncoding (which skips \\r and \\n, nothing else), the
    bytes then going through encoding/json, which writes invalid UTF-8 as U+FFFD."""
    try:
        data = base64.b64decode(text.replace("\n", "").replace("\r", "").encode("ascii"),
                                validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise YAMLError("yaml: !!binary value contains invalid base64 data") from None
    # surrogateescape keeps every invalid byte as one lone surrogate, which quote_string
    # writes as \ufffd: byte for byte what encoding/json does with the Go string.
    return unmarshal_any(quote_string(data.decode("utf-8", "surrogateescape")))


_BAD_ESCAPE = lazy_regex.compile(r"\\(.)", re.S)


def _go_escape_error_at(raw):
    """libyaml accepts "\\/" in double-quoted scalars, go-yaml v2 does not: the offset of the
    first one in raw, or -1."""
    for m in _BAD_ESCAPE.finditer(raw):
        if m.group(1) == "/":
            return m.start()
    return -1


def _go_error_from_pyyaml(exc):
    problem = getattr(exc, "problem", None)
    if isinstance(exc, _pyyaml.reader.ReaderError):
        return YAMLError(_TO_JSON + "yaml: " + exc.reason)
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
    if msg == "exceeded maximum nesting depth":
        # libyaml stops at 1000 levels, go-yaml at 10000: say it is our limit
        msg += " (kubectl inject reads at most 1000 nested levels; istioctl 10000)"
    return YAMLError(_TO_JSON + "yaml: " + where + msg)


class _Special:
    """A resolved float that encoding/json will refuse (NaN or +-Inf)."""

    __slots__ = ("f",)

    def __init__(self, f):
        self.f = f


def _refused_by_json(v):
    return type(v) is float and (v != v or v in (math.inf, -math.inf))


@functools.lru_cache(maxsize=50000)
def _plain_value(s):
    """The value of an untagged plain scalar (immutable, so it is cached: documents repeat
    their scalars)."""
    v = resolve_plain(s)[1]
    return _Special(v) if _refused_by_json(v) else v


class _DecodeError(Exception):
    """A go-yaml decode-phase error; Go only reports it if the whole
    document parses (parse errors come first)."""

    def __init__(self, err):
        self.err = err


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
        v = resolve_tagged(tag, ev.value)
        if tag == BINARY_TAG:
            return _binary_text(v)
    except YAMLError as err:
        raise _DecodeError(YAMLError(_TO_JSON + str(err))) from None
    if _refused_by_json(v):
        return _Special(v)
    return v


# Map keys: strings as themselves, other scalars wrapped so that true, 1 and
# 1.0 stay distinct keys as they are in Go's map[interface{}]interface{}.
def _wrap_key(k):
    if isinstance(k, _Special):
        return ("float", k.f)
    return (type(k).__name__, k)


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
            _TO_JSON + "yaml: map merge requires map or sequence of maps as the value"))

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


# go-yaml v2's defence against "billion laughs" documents (decode.go, allowedAliasRatio): it
# counts every node it decodes, and those decoded again through an alias, and refuses the
# document once more than 100 aliased and 1000 in all were decoded and the aliased share passes
# 99% (up to 400,000 decodes), falling linearly to 10% at 4,000,000.
_ALIAS_RATIO_LOW = 400000
_ALIAS_RATIO_HIGH = 4000000
_EXCESSIVE_ALIASING = _TO_JSON + "yaml: document contains excessive aliasing"


def _allowed_alias_ratio(decodes):
    if decodes <= _ALIAS_RATIO_LOW:
        return 0.99
    if decodes >= _ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * ((decodes - _ALIAS_RATIO_LOW) / float(_ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW))


def _excessive_aliasing(aliased, decodes):
    return aliased > 100 and decodes > 1000 and aliased / decodes > _allowed_alias_ratio(decodes)


class _Builder:
    """Builds the first document from parser events, counting decodes as go-yaml does.

    go-yaml decodes an alias by decoding its anchored node again, one node at a time, and checks
    its alias budget at each node. Here each anchor remembers how many decodes its node cost
    (anchors: name -> (value, cost)), so an alias adds that cost at once and the budget is
    checked before anything is copied: a bomb is refused in time and memory linear in its size.
    Within one alias the aliased share only grows and the allowed share only falls, so checking
    at the alias's end refuses exactly the documents go-yaml refuses part way through it.
    (go-yaml walks a merge sequence `<<: [*a, *b]` backwards; counted forwards here, which can
    differ only for a document right at the budget's edge.)"""

    __slots__ = ("text", "odd_keys", "specials", "anchors", "check_escapes", "decodes", "aliased",
                 "rest_line")

    def __init__(self, text):
        self.text = text
        self.odd_keys = False  # some map key is not a string
        self.specials = False  # some value may be NaN/Inf
        self.anchors = {}
        self.check_escapes = "\\/" in text
        self.decodes = 1  # go-yaml's decodeCount: the document node is the first decode
        self.aliased = 0  # its aliasCount: decodes made through an alias
        self.rest_line = 0  # where text after the first document starts (0: none)

    def count(self, n=1, aliased=0):
        self.decodes += n
        self.aliased += aliased
        if self.aliased > 100 and _excessive_aliasing(self.aliased, self.decodes):
            raise _DecodeError(YAMLError(_EXCESSIVE_ALIASING))

    def escape_check(self, ev):
        # libyaml accepts "\/" in double-quoted scalars, go-yaml v2 does not.
        text = self.text
        raw = text[ev.start_mark.index:ev.end_mark.index]
        pos = _go_escape_error_at(raw)
        if pos >= 0:
            line = text.count("\n", 0, ev.start_mark.index + pos)
            where = "line %d: " % (line + 1) if line else ""
            raise YAMLError(_TO_JSON + "yaml: " + where + "found unknown escape character")

    def alias(self, ev):
        v = self.anchors.get(ev.anchor)
        if v is None:
            raise YAMLError(_TO_JSON + "yaml: unknown anchor '%s' referenced" % ev.anchor)
        if v is _IN_PROGRESS:
            raise _DecodeError(YAMLError(
                _TO_JSON + "yaml: anchor '%s' value contains itself" % ev.anchor))
        v, cost = v
        self.count()  # the alias node itself, then its anchored node again, all aliased
        self.count(cost, cost)
        # go-yaml decodes the anchored node again: every alias is a copy.
        if type(v) is dict or type(v) is list:
            return copy.deepcopy(v)
        return v

    def run(self, get):
        """Build the first document from parser events (go-yaml's parser and
        decoder in one pass)."""
        stack = []  # frames: [container, is_map, pending_key, anchor, decodes at its start]
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
                        if s == "<<" and (ev.implicit[0] or ev.tag == MERGE_TAG):
                            top[2] = _MERGE_KEY  # go-yaml does not decode a merge key
                            if ev.anchor is not None:
                                anchors[ev.anchor] = (s, 1)
                            continue
                        self.count()
                        v = _event_scalar(ev)
                        if ev.anchor is not None:
                            anchors[ev.anchor] = (v, 1)
                        if type(v) is not str:
                            self.odd_keys = True
                            v = _wrap_key(v)
                        top[2] = v
                        continue
                if stack and stack[-1][2] is _MERGE_KEY:
                    # go-yaml rejects a scalar merge value before decoding it.
                    _merge_into(None, ev)
                self.count()
                v = _event_scalar(ev)
                if type(v) is _Special:
                    self.specials = True
                if ev.anchor is not None:
                    anchors[ev.anchor] = (v, 1)
            elif cls is _MappingStartEvent or cls is _SequenceStartEvent:
                if ev.anchor is not None:
                    anchors[ev.anchor] = _IN_PROGRESS
                start = self.decodes
                # go-yaml decodes the items of a merge sequence, not the sequence itself
                if not (cls is _SequenceStartEvent and stack and stack[-1][2] is _MERGE_KEY):
                    self.count()
                if cls is _MappingStartEvent:
                    stack.append([{}, True, _NO_KEY, ev.anchor, start])
                else:
                    stack.append([[], False, None, ev.anchor, start])
                continue
            elif cls is _MappingEndEvent or cls is _SequenceEndEvent:
                frame = stack.pop()
                v = frame[0]
                if frame[3] is not None:
                    anchors[frame[3]] = (v, self.decodes - frame[4])
            elif cls is _AliasEvent:
                v = self.alias(ev)
                if type(v) is _Special:
                    self.specials = True
            else:  # DocumentEnd cannot come before the root is complete
                raise YAMLError(_TO_JSON + "yaml: unexpected event %r" % (ev,))
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
                        _TO_JSON + "yaml: invalid map key: %s" % _go_syntax(v)))
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
        b.rest_line = _rest_line(get)
        return v, b
    except _pyyaml.YAMLError as exc:
        raise _go_error_from_pyyaml(exc) from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()


def _rest_line(get):
    """The line (1-based) where text after the first document starts, or 0 when there is none.
    go-yaml's Unmarshal never reads that text, whatever it holds (valid YAML or not)."""
    try:
        ev = get()
    except _pyyaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        return mark.line + 1 if mark is not None else 1
    if type(ev) is _pyyaml.StreamEndEvent:
        return 0
    return ev.start_mark.line + 1


def _drain_document(get, b):
    anchors = b.anchors
    while True:
        ev = get()
        cls = type(ev)
        if cls is _pyyaml.DocumentEndEvent or cls is _pyyaml.StreamEndEvent:
            return
        if cls is _AliasEvent:
            if ev.anchor not in anchors:
                raise YAMLError(_TO_JSON + "yaml: unknown anchor '%s' referenced" % ev.anchor)
        else:
            if cls is _ScalarEvent and b.check_escapes and ev.style == '"':
                b.escape_check(ev)
            anchor = getattr(ev, "anchor", None)
            if anchor is not None:
                anchors[anchor] = (None, 0)


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
                    if kv > INT64_MAX:
                        raise YAMLError(_TO_JSON + "unsupported map key of type: uint64, "
                                        "key: 0x%x, value: %s" % (kv, _go_syntax(x, top=True)))
                    k = str(kv)
                elif t == "float":
                    k = go_float32_g(kv)
                else:  # null
                    raise YAMLError(_TO_JSON + "unsupported map key of type: %!s(<nil>), "
                                    "key: <nil>, value: " + _go_syntax(x, top=True))
            out[k] = _convert_keys(x)
        return out
    if type(v) is list:
        return [_convert_keys(x) for x in v]
    return v


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
        return go_float32_g(value)
    return None


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


def _go_syntax(v, top=False):
    """fmt's %#v of a decoded value (map[interface{}]interface{} and friends), as Go's error
    messages print it; top: the value itself rather than an element, where nil is <nil>."""
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
            items.append("%s:%s" % (_go_syntax(k), _go_syntax(x)))
        return "map[interface {}]interface {}{%s}" % ", ".join(items)
    if isinstance(v, list):
        return "[]interface {}{%s}" % ", ".join(_go_syntax(x) for x in v)
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, int) and v > INT64_MAX:
        return "0x%x" % v  # uint64 under %#v
    if isinstance(v, _Special):
        return format_float(v.f)
    if v is None:
        return "<nil>" if top else "interface {}(nil)"
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, float):
        return format_float(v)
    return str(v)


def load(text):
    """load_document's value."""
    return load_document(text)[0]


def load_document(text):
    """(value, rest_line): load()'s value, and the line where text after the first YAML document
    begins (0 when there is none), which Go never reads.

    One document -> JSON-compatible value, as sigs.k8s.io/yaml.YAMLToJSON
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
        return None, 0
    if dec.odd_keys:
        v = _convert_keys(v)
    if dec.specials:
        f = _first_special(v)
        if f is not None:
            raise YAMLError(_TO_JSON + "json: unsupported value: %s" % format_float(f))
    if placeholder is not None:
        v = _swap_char(v, placeholder, "\ufeff")
    return v, dec.rest_line


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
