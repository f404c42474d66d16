"""Splitting a stream into documents as k8s.io/apimachinery/pkg/util/yaml's YAMLReader (v0.30)
does: the reader istioctl feeds its input through before any YAML is parsed."""
from __future__ import annotations

from .errors import YAMLError

__all__ = ["split_documents"]

_SEP_ERROR = "invalid Yaml document separator: %s"

# unicode.IsSpace: what strings.TrimSpace strips (str.strip() would also strip \x1c-\x1f).
_GO_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
             "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


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
            trimmed = line[3:].strip(_GO_SPACE)
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
