"""JSON text exactly as Go's encoding/json.Marshal writes it.

Compact, keys in the order given (callers build dicts in Go struct field order, or sort map
keys as Go does), and Go's HTML-safe escaping of <, > and & plus U+2028/U+2029.
"""
from __future__ import annotations

import json

_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _go_escape(text: str) -> str:
    for raw, escaped in _ESCAPES.items():
        if raw in text:
            text = text.replace(raw, escaped)
    return text


def go_float(value: float) -> str:
    """encoding/json float64 format: plain digits in [1e-6, 1e21), else exponent like 1e+21, 1e-7."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"json: unsupported value: {value}")
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        if value == int(value):
            return str(int(value))
        text = repr(value)
        return text if "e" not in text else format(value, "f").rstrip("0")
    exp_value = int(format(value, "e").split("e")[1])
    mantissa = _shortest_mantissa(value)
    return f"{mantissa}e{'-' if exp_value < 0 else '+'}{abs(exp_value)}"


def _shortest_mantissa(value: float) -> str:
    text = repr(value)
    mantissa = text.split("e")[0] if "e" in text else text
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    return mantissa


def _encode(value, out: list, sort_keys: bool) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(go_float(value))
    elif isinstance(value, str):
        out.append(_go_escape(json.dumps(value, ensure_ascii=False)))
    elif isinstance(value, dict):
        out.append("{")
        keys = sorted(value) if sort_keys else value
        for index, key in enumerate(keys):
            if index:
                out.append(",")
            out.append(_go_escape(json.dumps(str(key), ensure_ascii=False)))
            out.append(":")
            _encode(value[key], out, sort_keys)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out, sort_keys)
        out.append("]")
    else:
        raise TypeError(f"json: unsupported type: {type(value).__name__}")


def dumps(value, sort_keys: bool = False) -> str:
    out: list = []
    _encode(value, out, sort_keys)
    return "".join(out)
