"""lazy_regex: patterns compiled when first used (start-up time, issue 12), and the ASCII-only
classes goyaml.scalar uses beside its full Unicode ones, which must decide exactly alike."""
from __future__ import annotations

import re

import pytest

from kubectl_inject import lazy_regex
from kubectl_inject.goyaml import scalar


def test_a_lazy_pattern_compiles_on_first_use_and_then_matches_as_re_does():
    pattern = lazy_regex.compile(r"([-+]?)(0[xX][0-9a-f]+|[0-9]+)\Z", re.I)
    assert "match" not in vars(pattern)  # nothing compiled yet
    compiled = re.compile(r"([-+]?)(0[xX][0-9a-f]+|[0-9]+)\Z", re.I)
    for text in ["0x1F", "-12", "+0XaB", "12a", "", "0x"]:
        got, want = pattern.match(text), compiled.match(text)
        assert (got and got.groups()) == (want and want.groups()), text
    assert "match" in vars(pattern)  # kept: later calls are one attribute lookup
    assert pattern.sub("n", "-12") == compiled.sub("n", "-12")
    assert pattern.pattern == compiled.pattern and pattern.flags == compiled.flags


def test_a_lazy_pattern_reports_a_bad_pattern_when_used():
    pattern = lazy_regex.compile("[unclosed")
    with pytest.raises(re.error):
        pattern.search("x")


def test_dunder_lookups_are_not_forwarded():
    with pytest.raises(AttributeError):
        lazy_regex.compile("x").__deepcopy__  # noqa: B018  (the lookup is the test)


ASCII = [chr(c) for c in range(0x80)]


def _styles_and_escapes():
    texts = ["a" + c + "b" for c in ASCII] + [c for c in ASCII] + [" " + c for c in ASCII]
    return ([scalar._choose_style(t) for t in texts],
            [scalar.escape_pattern(c).match(c) is not None for c in ASCII],
            [scalar._double_quoted_body(t) for t in texts])


def test_ascii_classes_decide_as_the_full_unicode_ones(monkeypatch):
    fast = _styles_and_escapes()
    monkeypatch.setattr(scalar, "_NOT_PRINTABLE_ASCII", scalar._NOT_PRINTABLE)
    monkeypatch.setattr(scalar, "_ESCAPED_ASCII", scalar._ESCAPED)
    full = _styles_and_escapes()
    assert fast == full
    assert fast[1].count(True) == 0x20 + 3  # the C0 controls, '"', '\\' and DEL
