"""The order go-yaml v2 writes map keys in (sorter.go, keyList.Less), for string keys: letters
above everything else, runs of digits compared as numbers ("a2" < "a10")."""
from __future__ import annotations

import functools
import unicodedata

from .. import lazy_regex

__all__ = ["sorted_keys"]


def _is_digit(c):
    # unicode.IsDigit
    return "0" <= c <= "9" or (c > "\x7f" and unicodedata.category(c) == "Nd")


def _wrap_int64(n):
    # int64 arithmetic wraps around
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
        al = ca.isalpha()  # unicode.IsLetter
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
_FAST_KEY = lazy_regex.compile(r"[\x00-\x2f\x3a-\x7f]*\Z")


def sorted_keys(d):
    """The keys of the str-keyed mapping d in go-yaml's order."""
    return _order(tuple(d))


@functools.lru_cache(maxsize=20000)
def _order(keys):
    # Cached by key tuple: objects of one kind share their keys.
    for k in keys:
        if type(k) is not str:
            raise TypeError("goyaml.dump: mapping keys must be strings, got %r" % (k,))
    if all(_FAST_KEY.match(k) for k in keys):
        return sorted(keys, key=lambda k: k.translate(_LETTER_UP))
    return sorted(keys, key=_cmp_key)
