"""sprig v3's string functions: Masterminds/sprig strings.go, regex.go, the hash and base64/32
encodings of crypto.go and strings.go, and the path functions (Go's path package)."""
from __future__ import annotations

import base64
import functools
import posixpath
import re
import zlib

from ..gostd.fmt import sprintf
from ..gostd.strconv import quote
from ..gostd.values import MISSING
from ..gotemplate import signature
from .conv import GO_SPACE, GoFuncError, iface, path_split, strslice, strval

__all__ = ["STRING_FUNCS"]


def _present(args) -> list:
    # sprig drops nil arguments before quoting or joining them
    return [a for a in args if a is not None and a is not MISSING]


def _quote(*args):
    return " ".join(quote(strval(a)) for a in _present(args))


def _squote(*args):
    return " ".join("'" + strval(a) + "'" for a in _present(args))


def _cat(*args):
    vals = _present(args)
    return sprintf(" ".join(["%v"] * len(vals)), *vals)


@signature("int", "string")
def _indent(spaces, v):
    pad = " " * spaces
    return pad + v.replace("\n", "\n" + pad)


@signature("int", "string")
def _nindent(spaces, v):
    return "\n" + _indent(spaces, v)


@signature("int", "string")
def _trunc(c, s):
    b = s.encode("utf-8")
    if c < 0 and len(b) + c > 0:
        return b[len(b) + c:].decode("utf-8", errors="replace")
    if c >= 0 and len(b) > c:
        return b[:c].decode("utf-8", errors="replace")
    return s


@signature("int", "int", "string")
def _substr(start, end, s):
    b = s.encode("utf-8")
    if start < 0:
        r = b[:end]
    elif end < 0 or end > len(b):
        r = b[start:]
    else:
        r = b[start:end]
    return r.decode("utf-8", errors="replace")


@signature("string", "string")
def _trim_all(a, b):
    return b.strip(a) if a else b


@signature("string", "string")
def _trim_prefix(a, b):
    return b[len(a):] if a and b.startswith(a) else b


@signature("string", "string")
def _trim_suffix(a, b):
    return b[:-len(a)] if a and b.endswith(a) else b


@signature("string", "string")
def _has_prefix(substr, s):
    return s.startswith(substr)


@signature("string", "string")
def _has_suffix(substr, s):
    return s.endswith(substr)


@signature("string", "string")
def _contains(needle, haystack):
    return needle in haystack


@signature("string", "string", "string")
def _replace(old, new, src):
    if old == "":
        # strings.Replace with empty old inserts new between every rune
        return new + new.join(src) + new if src else new
    return src.replace(old, new)


@signature("int", "string")
def _repeat(count, s):
    if count < 0:
        raise GoFuncError("strings: negative Repeat count")
    return s * count


@signature("string")
def _trim(s):
    return s.strip(GO_SPACE)


@signature("string")
def _nospace(s):
    return "".join(c for c in s if c not in GO_SPACE)


@signature("string")
def _lower(s):
    return s.lower()


@signature("string")
def _upper(s):
    return s.upper()


@signature("string")
def _title(s):
    out = []
    prev = " "
    for c in s:
        out.append(c.upper() if (prev in GO_SPACE or not (prev.isalnum() or prev == "_")) and
                   not (prev.isalnum() or prev == "_") else c)
        prev = c
    return "".join(out)


@signature("string")
def _untitle(s):
    out = []
    prev = " "
    for c in s:
        out.append(c.lower() if prev in GO_SPACE else c)
        prev = c
    return "".join(out)


@signature("string", "string")
def _split_list(sep, orig):
    if sep == "":
        return list(orig)
    return orig.split(sep)


@signature("string", "string")
def _split(sep, orig):
    parts = list(orig) if sep == "" else orig.split(sep)
    return {"_%d" % i: p for i, p in enumerate(parts)}


@signature("string", "int", "string")
def _splitn(sep, n, orig):
    if n == 0:
        return {}
    parts = orig.split(sep, n - 1) if n > 0 else orig.split(sep)
    return {"_%d" % i: p for i, p in enumerate(parts)}


@signature("string", "interface {}")
def _join(sep, v):
    return sep.join(strslice(v))


def _sort_alpha(lst):
    lst = iface(lst)
    if isinstance(lst, (list, tuple)):
        return sorted(strslice(lst))
    return [strval(lst)]


@signature("string", "string", "int")
def _plural(one, many, count):
    return one if count == 1 else many


@signature("int", "string")
def _abbrev(width, s):
    if width < 4 or len(s) <= width:
        return s
    return s[:width - 3] + "..."


@signature("string")
def _initials(s):
    return "".join(w[0] for w in s.split() if w)


# --- encodings and hashes ---------------------------------------------------------------------

def _encoding(encode, decode):
    """sprig's ENCenc/ENCdec pair over a text: decode errors come back as the error's text."""
    @signature("string")
    def enc(s):
        return encode(s.encode("utf-8")).decode()

    @signature("string")
    def dec(s):
        try:
            return decode(s.encode()).decode("utf-8", errors="replace")
        except Exception as e:  # sprig returns the error text
            return str(e)
    return enc, dec


_b64enc, _b64dec = _encoding(base64.b64encode, functools.partial(base64.b64decode, validate=True))
_b32enc, _b32dec = _encoding(base64.b32encode, base64.b32decode)


def _hex_digest(name: str):
    """sprig's sha256sum/sha1sum: the hex digest of the text's UTF-8 bytes. (hashlib is imported
    on the first call: it loads OpenSSL, milliseconds of start-up that few templates need.)"""
    @signature("string")
    def digest(s):
        import hashlib
        return hashlib.new(name, s.encode("utf-8")).hexdigest()
    return digest


@signature("string")
def _adler32sum(s):
    return str(zlib.adler32(s.encode("utf-8")))


# --- paths (Go's path package) ----------------------------------------------------------------

@signature("string")
def _path_base(p):
    if p == "":
        return "."
    p = p.rstrip("/")
    if p == "":
        return "/"
    return p.rsplit("/", 1)[-1]


@signature("string")
def _path_clean(p):
    if p == "":
        return "."
    c = posixpath.normpath(p)
    if c.startswith("//"):
        c = "/" + c.lstrip("/")
    return c


@signature("string")
def _path_dir(p):
    d, _ = path_split(p)
    return _path_clean(d)


@signature("string")
def _path_ext(p):
    i = len(p) - 1
    while i >= 0 and p[i] != "/":
        if p[i] == ".":
            return p[i:]
        i -= 1
    return ""


@signature("string")
def _path_is_abs(p):
    return p.startswith("/")


# --- regular expressions (RE2 and Python agree on the syntax templates use) -------------------

@signature("string", "string")
def _regex_match(rx, s):
    return re.search(rx, s) is not None


@signature("string", "string", "int")
def _regex_find_all(rx, s, n):
    found = [m.group(0) for m in re.finditer(rx, s)]
    return found if n < 0 else found[:n]


@signature("string", "string")
def _regex_find(rx, s):
    m = re.search(rx, s)
    return m.group(0) if m else ""


def _expand_repl(repl: str) -> str:
    # Go's $1 / ${1} / ${name} expansion -> Python's \g<...>
    out = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c == "\\":
            out.append("\\\\")
            i += 1
            continue
        if c == "$" and i + 1 < len(repl):
            if repl[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            m = re.match(r"\{(\w+)\}|(\w+)", repl[i + 1:])
            if m:
                out.append("\\g<" + (m.group(1) or m.group(2)) + ">")
                i += 1 + m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


@signature("string", "string", "string")
def _regex_replace_all(rx, s, repl):
    try:
        return re.sub(rx, _expand_repl(repl), s)
    except (re.error, IndexError):
        return re.sub(rx, "", s)


@signature("string", "string", "string")
def _regex_replace_all_literal(rx, s, repl):
    return re.sub(rx, lambda m: repl, s)


@signature("string", "string", "int")
def _regex_split(rx, s, n):
    if n == 0:
        return []
    parts = re.split(rx, s)
    if n > 0 and len(parts) > n:
        # keep the remainder unsplit, as Go's Split(s, n)
        ms = list(re.finditer(rx, s))
        parts = parts[:n - 1] + [s[ms[n - 2].end():]]
    return parts


STRING_FUNCS = {
    "quote": _quote, "squote": _squote, "cat": _cat, "trunc": _trunc, "substr": _substr,
    "trim": _trim, "trimAll": _trim_all, "trimall": _trim_all, "trimPrefix": _trim_prefix,
    "trimSuffix": _trim_suffix, "hasPrefix": _has_prefix, "hasSuffix": _has_suffix,
    "contains": _contains, "replace": _replace, "repeat": _repeat, "nospace": _nospace,
    "lower": _lower, "upper": _upper, "title": _title, "untitle": _untitle,
    "splitList": _split_list, "split": _split, "splitn": _splitn, "join": _join,
    "sortAlpha": _sort_alpha, "toString": strval, "toStrings": strslice,
    "indent": _indent, "nindent": _nindent, "plural": _plural, "abbrev": _abbrev,
    "initials": _initials, "b64enc": _b64enc, "b64dec": _b64dec, "b32enc": _b32enc,
    "b32dec": _b32dec, "sha256sum": _hex_digest("sha256"),
    "sha1sum": _hex_digest("sha1"), "adler32sum": _adler32sum,
    "regexMatch": _regex_match, "regexFindAll": _regex_find_all, "regexFind": _regex_find,
    "regexReplaceAll": _regex_replace_all,
    "regexReplaceAllLiteral": _regex_replace_all_literal, "regexSplit": _regex_split,
    "base": _path_base, "dir": _path_dir, "clean": _path_clean, "ext": _path_ext,
    "isAbs": _path_is_abs,
}
