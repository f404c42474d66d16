"""sprig v3's number functions: Masterminds/sprig numeric.go (integer math through cast.ToInt64,
float math through cast.ToFloat64, until/untilStep/seq) and the conversions atoi/int/float64."""
from __future__ import annotations

import math
import re

from ..gotemplate import signature
from .conv import GoFuncError, to_float64, to_int64

__all__ = ["NUMERIC_FUNCS"]


def _add(*v):
    return sum(to_int64(x) for x in v)


def _add1(v):
    return to_int64(v) + 1


def _sub(a, b):
    return to_int64(a) - to_int64(b)


def _go_div(a: int, b: int) -> int:
    # Go's integer division truncates toward zero (Python's // floors)
    if b == 0:
        raise GoFuncError("runtime error: integer divide by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _div(a, b):
    return _go_div(to_int64(a), to_int64(b))


def _mod(a, b):
    a, b = to_int64(a), to_int64(b)
    return a - b * _go_div(a, b)


def _fold(convert, step):
    """sprig's mul/max/min (and subf/mulf/divf): the first argument converted, then step with
    each further one converted."""
    def fn(a, *rest):
        r = convert(a)
        for x in rest:
            r = step(r, convert(x))
        return r
    return fn


def _float_div(r: float, d: float) -> float:
    if d == 0:
        raise GoFuncError("division by zero")
    return r / d


def _addf(*v):
    return float(sum(to_float64(x) for x in v))


def _floor(a):
    return float(math.floor(to_float64(a)))


def _ceil(a):
    return float(math.ceil(to_float64(a)))


def _round(a, p, *r_opt):
    roundon = to_float64(r_opt[0]) if r_opt else 0.5
    val = to_float64(a)
    places = to_float64(p)
    pow_ = math.pow(10, places)
    digit = pow_ * val
    div, _ = math.modf(digit)  # Go's Modf returns (int, frac); Python's (frac, int)
    if div >= roundon:
        rnd = math.ceil(digit)
    else:
        rnd = math.floor(digit)
    return rnd / pow_


@signature("string")
def _atoi(s):
    # strconv.Atoi: optional sign and decimal digits only; errors give 0
    if re.fullmatch(r"[+-]?[0-9]+", s):
        v = int(s, 10)
        if -(1 << 63) <= v < (1 << 63):
            return v
    return 0


def _until(count):
    c = to_int64(count)
    step = 1 if c >= 0 else -1
    return list(range(0, c, step))


def _until_step(start, stop, step):
    start, stop, step = to_int64(start), to_int64(stop), to_int64(step)
    if step == 0 or (step > 0 and start >= stop) or (step < 0 and start <= stop):
        return []
    return list(range(start, stop, step))


def _seq(*params):
    p = [to_int64(x) for x in params]
    if len(p) == 0:
        return ""
    if len(p) == 1:
        start, end, step = 1, p[0], 1
        if end < start:
            step = -1
    elif len(p) == 2:
        start, end = p
        step = 1 if end >= start else -1
    elif len(p) == 3:
        start, step, end = p
        if end == start or step == 0:
            return str(start) if end == start else ""
        if (end > start) != (step > 0):
            return ""
    else:
        return ""
    out = []
    i = start
    while (step > 0 and i <= end) or (step < 0 and i >= end):
        out.append(str(i))
        i += step
    return " ".join(out)


NUMERIC_FUNCS = {
    "add": _add, "add1": _add1, "sub": _sub, "mul": _fold(to_int64, lambda r, x: r * x),
    "div": _div, "mod": _mod, "max": _fold(to_int64, max), "min": _fold(to_int64, min),
    "addf": _addf, "subf": _fold(to_float64, lambda r, x: r - x),
    "mulf": _fold(to_float64, lambda r, x: r * x), "divf": _fold(to_float64, _float_div),
    "floor": _floor, "ceil": _ceil, "round": _round, "atoi": _atoi,
    "int": to_int64, "int64": to_int64, "float64": to_float64, "toDecimal": to_int64,
    "until": _until, "untilStep": _until_step, "seq": _seq,
}
