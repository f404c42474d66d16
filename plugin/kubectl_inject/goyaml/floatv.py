"""How go-yaml v2 spells a float (encode.go, encoder.floatv): strconv.FormatFloat(f, 'g', -1,
bits) with YAML's .inf, -.inf and .nan for strconv's +Inf, -Inf and NaN.

sigs.k8s.io/yaml's convertToJSONableObject copies that code, at 32 bits, to turn float map
keys (and floats bound for Go string fields) into text.
"""
from __future__ import annotations

from ..gostd.strconv import format_float

__all__ = ["go_float_g", "go_float32_g"]

_YAML_SPECIALS = {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}


def _floatv(f, bits):
    s = format_float(f, "g", -1, bits)
    return _YAML_SPECIALS.get(s, s)


def go_float_g(f):
    """strconv.FormatFloat(f, 'g', -1, 64) with go-yaml's .inf/.nan spellings."""
    return _floatv(f, 64)


def go_float32_g(f):
    """strconv.FormatFloat(f, 'g', -1, 32) with go-yaml's .inf/.nan spellings: how
    sigs.k8s.io/yaml turns float map keys (and floats bound for Go string fields) into text."""
    return _floatv(f, 32)
