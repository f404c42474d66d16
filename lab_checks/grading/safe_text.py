"""Text from students' clusters and rosters, made safe for where it is shown.

Pod status messages, events, image names, kubectl's errors and roster fields are the student's
(or the student's cluster's) text. Raw, a control character in them acts on the instructor's
terminal (ESC starts colour, title and cursor sequences; 0x9b is a one-byte CSI; a line break
forges a table row) and makes the JUnit report invalid XML (XML 1.0 has no C0 controls but
tab, line feed and carriage return, no lone surrogates, no U+FFFE/U+FFFF). Each is written as a
visible escape (\\x1b, \\u202e), so the reader sees that it was there.
"""
from __future__ import annotations

import re

# The terminal: C0 controls (line breaks and tabs too: one reason is one line of the table), DEL,
# C1 controls, the bidirectional marks and overrides that reorder what is shown, line and paragraph
# separators, and lone surrogates (JSON's "\ud800" decodes to one; no encoder can write it).
_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
# XML 1.0's Char production, negated: what may not appear in a document at all, not even as &#..;
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text) -> str:
    return _TERMINAL.sub(_escape, str(text))


def xml(text) -> str:
    return _NOT_XML.sub(_escape, str(text))


def encodable(text) -> str:
    """For files written as UTF-8 (CSV): only lone surrogates escaped, the rest is data."""
    return _SURROGATE.sub(_escape, str(text))
