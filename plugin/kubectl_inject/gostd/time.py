"""Go's time package: Duration.String."""
from __future__ import annotations

__all__ = ["format_duration"]


def format_duration(d: int) -> str:
    """time.Duration(d).String() for d nanoseconds: "1h2m3.5s", "1.5ms", "0s"."""
    if d == 0:
        return "0s"
    neg = d < 0
    u = -d if neg else d
    if u < 1_000_000_000:
        if u < 1_000:
            s = f"{u}ns"
        elif u < 1_000_000:
            s = _frac(u, 3) + "µs"
        else:
            s = _frac(u, 6) + "ms"
    else:
        secs_text = _frac(u % 60_000_000_000, 9) + "s"
        mins = u // 60_000_000_000
        if mins == 0:
            s = secs_text
        else:
            hours, mins = divmod(mins, 60)
            s = (f"{hours}h" if hours else "") + f"{mins}m" + secs_text
    return ("-" if neg else "") + s


def _frac(v: int, prec: int) -> str:
    # v / 10**prec with the fraction's trailing zeros (and a bare point) dropped
    whole, frac = divmod(v, 10 ** prec)
    ftxt = str(frac).rjust(prec, "0").rstrip("0")
    return str(whole) + ("." + ftxt if ftxt else "")
