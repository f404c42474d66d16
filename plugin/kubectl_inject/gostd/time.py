"""Go's time package: Duration.String and parsing RFC 3339 times."""
from __future__ import annotations

import datetime as _dt

from .. import lazy_regex

__all__ = ["format_duration", "parse_duration", "parse_rfc3339", "ParseError"]


class ParseError(ValueError):
    """time.ParseError; str() is Go's message."""


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


_RFC3339_RE = lazy_regex.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z"
)


def parse_rfc3339(s: str) -> _dt.datetime:
    """time.Parse(time.RFC3339, s), in UTC, to the microsecond (Kubernetes' metav1.Time and
    MicroTime keep no more); ParseError carries Go's message."""
    m = _RFC3339_RE.match(s)
    err = ParseError(f'parsing time "{s}" as "2006-01-02T15:04:05Z07:00": cannot parse "{s}" as "2006"')
    if not m:
        raise err
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    tz = m.group(8)
    try:
        micro = int((frac[1:] + "000000")[:6]) if frac else 0
        nanos_extra = frac[7:] if len(frac) > 7 else ""
        dt = _dt.datetime(y, mo, d, h, mi, sec, micro, tzinfo=_dt.timezone.utc)
    except ValueError:
        raise ParseError(f'parsing time "{s}": day out of range') from None
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        hh, mm = int(tz[1:3]), int(tz[4:6])
        if hh > 23 or mm > 59:
            raise ParseError(f'parsing time "{s}": time zone offset out of range')
        dt = dt - sign * _dt.timedelta(hours=hh, minutes=mm)
    del nanos_extra
    return dt


_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_DURATION_PART = lazy_regex.compile(r"([0-9]*(?:\.[0-9]*)?)([a-zµμ]*)")


def parse_duration(text: str) -> int:
    """time.ParseDuration, in nanoseconds, with Go's error wording."""
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    s = text
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ParseError(f"time: invalid duration {quoted}")
    total = 0
    while s:
        match = _DURATION_PART.match(s)
        number, unit = match.group(1), match.group(2)
        if number in ("", "."):
            raise ParseError(f"time: invalid duration {quoted}")
        if not unit:
            raise ParseError(f"time: missing unit in duration {quoted}")
        if unit not in _UNITS:
            unit_quoted = '"' + unit + '"'
            raise ParseError(f"time: unknown unit {unit_quoted} in duration {quoted}")
        whole, _, frac = number.partition(".")
        scale = _UNITS[unit]
        value = int(whole or "0") * scale
        if frac:
            value += int(frac) * scale // (10 ** len(frac))
        total += value
        if total > 2**63 - 1:
            raise ParseError(f"time: invalid duration {quoted}")
        s = s[match.end():]
    return -total if neg else total
