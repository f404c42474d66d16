"""Which style go-yaml v2 gives a string and how the string reads in it: encode.go's stringv
(literal when multi-line, double-quoted when it would resolve to something else) refined by
emitterc.go's yaml_emitter_analyze_scalar and yaml_emitter_select_scalar_style, and the
escapes of yaml_emitter_write_double_quoted_scalar."""
from __future__ import annotations

import functools

from .. import lazy_regex
from .jsontoyaml import reread_string
from .resolve import resolves_to_non_string

__all__ = ["PLAIN", "SINGLE", "DOUBLE", "LITERAL", "BREAKS", "string_style", "escape_pattern",
           "escape"]

PLAIN, SINGLE, DOUBLE, LITERAL = range(4)
BREAKS = "\r\n\x85\u2028\u2029"
# go-yaml's is_printable, negated: what is not \n, \x20-\x7e, \xa0-\ud7ff, \ue000-\ufefe or
# \uff00-\ufffd. Spelled as the complement's ranges, not as [^...]: Python compiles a class with
# long BMP ranges code point by code point (about 10 ms of every run's start-up), the complement
# in about 1 ms; the two match exactly the same characters.
_NOT_PRINTABLE = lazy_regex.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe-\U0010ffff]")
# The same for ASCII text (most of it), a class that compiles in a few microseconds.
_NOT_PRINTABLE_ASCII = lazy_regex.compile("[\x00-\x09\x0b-\x1f\x7f]")
# The rest of the analysis looks for line breaks and indicators next to other characters:
# substring tests, which need no class of non-ASCII breaks compiled (about 1 ms of a run).
_BREAK_SPACE = tuple(b + " " for b in BREAKS)
_SPACE_BREAK = tuple(" " + b for b in BREAKS)
_BEFORE_COMMENT = tuple(c + "#" for c in " \t" + BREAKS + "\x00")  # "#" after these starts a comment


def _has_break(s):
    return "\n" in s or "\r" in s or (not s.isascii() and ("\x85" in s or "\u2028" in s or "\u2029" in s))


def _contains_any(s, pieces):
    return any(p in s for p in pieces)


def _has_inner_indicator(s):
    """What emitterc.go flags as an indicator inside the text: ": ", ":\t" or a final ":", and a
    "#" after a space, tab, break or NUL."""
    if ":" in s and (": " in s or ":\t" in s or s[-1] == ":"):
        return True
    return "#" in s and _contains_any(s, _BEFORE_COMMENT)


_SAFE_PLAIN = lazy_regex.compile(r"[A-Za-z_/$(][A-Za-z0-9_./=+$()-]*\Z")


def _analyze(s):
    """emitterc.go yaml_emitter_analyze_scalar for block context.

    Returns (multiline, block_plain_allowed, single_quoted_allowed, block_allowed).
    """
    if not s:
        return False, True, True, False
    special = (_NOT_PRINTABLE_ASCII if s.isascii() else _NOT_PRINTABLE).search(s) is not None
    line_breaks = _has_break(s)
    block_ind = False
    c0 = s[0]
    if s.startswith("---") or s.startswith("..."):
        block_ind = True
    elif c0 in "#,[]{}&*!|>'\"%@`":
        block_ind = True
    elif c0 in "?:-" and (len(s) == 1 or s[1] in " \t"):
        block_ind = True
    if not block_ind and _has_inner_indicator(s):
        block_ind = True
    leading_space = c0 == " "
    leading_break = c0 in BREAKS
    trailing_space = s[-1] == " "
    trailing_break = s[-1] in BREAKS
    break_space = line_breaks and _contains_any(s, _BREAK_SPACE)
    space_break = line_breaks and _contains_any(s, _SPACE_BREAK)
    block_plain = not (leading_space or leading_break or trailing_space or trailing_break
                       or break_space or space_break or special or line_breaks or block_ind)
    single_ok = not (break_space or space_break or special)
    block_ok = not (trailing_space or space_break or special)
    return line_breaks, block_plain, single_ok, block_ok


# The characters yaml_emitter_write_double_quoted_scalar escapes: the unprintable ones (its
# is_printable), line breaks, '"' and '\\'.
# (The unprintable ones as the complement's ranges, as _NOT_PRINTABLE.)
_ESCAPED = lazy_regex.compile('[\x00-\x1f"\\\\\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe-\U0010ffff]')
_ESCAPED_ASCII = lazy_regex.compile('[\x00-\x1f"\\\\\x7f]')  # the same for ASCII text


def escape_pattern(s):
    """The class of the characters yaml_emitter_write_double_quoted_scalar escapes, for a string
    s: the ASCII one when s is ASCII (the same decisions; it compiles in microseconds). Chosen
    once per string, then matched character by character or substituted."""
    return _ESCAPED_ASCII if s.isascii() else _ESCAPED


_ESC = {
    0x00: "\\0", 0x07: "\\a", 0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0B: "\\v",
    0x0C: "\\f", 0x0D: "\\r", 0x1B: "\\e", 0x22: '\\"', 0x5C: "\\\\", 0x85: "\\N",
    0xA0: "\\_", 0x2028: "\\L", 0x2029: "\\P",
}


def escape(ch):
    """The escape sequence yaml_emitter_write_double_quoted_scalar writes for ch."""
    o = ord(ch)
    e = _ESC.get(o)
    if e is not None:
        return e
    if o <= 0xFF:
        return "\\x%02X" % o
    if o <= 0xFFFF:
        return "\\u%04X" % o
    return "\\U%08X" % o


def _escape_match(m):
    return escape(m.group())


def _double_quoted_body(s):
    """s inside double quotes, unfolded. A string that starts with a byte order mark has every
    character escaped: go-yaml's is_bom test looks at the start of the string, not at the
    character."""
    if s.startswith("\ufeff"):
        return "".join([escape(ch) for ch in s])
    return escape_pattern(s).sub(_escape_match, s)


@functools.lru_cache(maxsize=50000)
def string_style(s):
    """(style, rendered, last_space, multiline, source) for a string value.

    rendered is the scalar's text when no line folding happens (without the
    leading separator space); last_space is the offset in rendered of the
    last space that could be folded, or -1; source is the text go-yaml
    actually emits (s, unless the JSON detour changed it). Cached: documents
    repeat their keys and values.
    """
    source = reread_string(s)
    if source is not s:
        return string_style(source)
    return _choose_style(s)


def _choose_style(s):
    needs_quotes = resolves_to_non_string(s)
    if _SAFE_PLAIN.match(s) and not needs_quotes:
        return (PLAIN, s, -1, False, s)  # no space, nothing to analyze
    multiline, block_plain, single_ok, block_ok = _analyze(s)
    if "\n" in s:
        style = LITERAL
    elif needs_quotes:
        style = DOUBLE
    else:
        style = PLAIN
    if style == PLAIN and not block_plain:
        style = SINGLE
    if style == SINGLE and not single_ok:
        style = DOUBLE
    if style == LITERAL and not block_ok:
        style = DOUBLE
    if style == PLAIN:
        return (PLAIN, s, s.rfind(" "), multiline, s)
    if style == SINGLE:
        r = "'" + s.replace("'", "''") + "'"
    elif style == DOUBLE:
        r = '"' + _double_quoted_body(s) + '"'
    else:
        return (LITERAL, s, -1, True, s)
    return (style, r, r.rfind(" ") if " " in s else -1, multiline, s)
