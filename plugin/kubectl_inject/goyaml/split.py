"""Splitting a stream into documents as k8s.io/apimachinery/pkg/util/yaml's YAMLReader (v0.30)
does: the reader istioctl feeds its input through before any YAML is parsed."""
from __future__ import annotations

import re

from .. import lazy_regex
from .errors import YAMLError

__all__ = ["iter_documents", "split_documents"]

_SEP_ERROR = "invalid Yaml document separator: %s"

# unicode.IsSpace: what strings.TrimSpace strips (str.strip() would also strip \x1c-\x1f).
_GO_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
             "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

# A line that starts with "---" (lines end at "\n" only, as bufio.ReadLine's do; re's "^" in
# MULTILINE mode starts a line after "\n" and nowhere else).
_SEPARATOR = lazy_regex.compile(r"^---", re.MULTILINE)


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
    return list(iter_documents(text))


def iter_documents(text):
    """split_documents one document at a time: the documents are made as they are asked for,
    so a caller that handles one at a time holds one (plus the input), never the whole list.

    Only the separator lines are visited one by one (a regular expression finds them); the
    text between two of them is one slice, re-terminated line by line only when it holds a
    "\\r" or lacks its final "\\n"."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "surrogateescape")
    end = len(text)
    start = 0  # text[start:at] is what is buffered (whole lines) when a separator is met at `at`
    for match in _SEPARATOR.finditer(text):
        at = match.start()
        newline = text.find("\n", at)
        line = text[at:end if newline < 0 else newline]
        # A "\r" before the "\n" is no part of the line; TrimSpace would drop it anyway.
        trimmed = line[3:].strip(_GO_SPACE)
        if trimmed and trimmed[0] != "#":
            raise YAMLError(_SEP_ERROR % trimmed)
        if at > start:
            yield _terminated_lines(text[start:at])
            start = end if newline < 0 else newline + 1
        # With nothing buffered Go keeps the separator line as the start of the next
        # document (so "---" first in a file stays there): start stays where it is.
    if start < end:
        yield _terminated_lines(text[start:])


def _terminated_lines(chunk: str) -> str:
    """Whole lines as bufio.ReadLine gives them, each ended by "\\n" (a "\\r" before a "\\n" is
    dropped; the input's last line, unterminated, keeps a "\\r" it ends with)."""
    if "\r" not in chunk:
        return chunk if chunk.endswith("\n") else chunk + "\n"
    lines = chunk.split("\n")
    last = lines.pop()  # the text after the last "\n": an unterminated final line, or nothing
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    if last:
        lines.append(last)
    return "".join(ln + "\n" for ln in lines)
