"""Go's time package: Duration.String, ParseDuration, and time.Parse(RFC3339) with its
ParseError messages."""
from __future__ import annotations

import datetime as _dt

from .. import lazy_regex

__all__ = ["format_duration", "parse_duration", "parse_rfc3339", "parse_time_rfc3339", "GoTime",
           "ParseError", "RFC3339"]


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


RFC3339 = "2006-01-02T15:04:05Z07:00"
# time.Parse's layout RFC3339 as its nextStdChunk splits it: (literal prefix, layout element)
_RFC3339_CHUNKS = (("", "2006"), ("-", "01"), ("-", "02"), ("T", "15"), (":", "04"), (":", "05"),
                   ("", "Z07:00"))
_LOWER_HEX = "0123456789abcdef"


def _quote(s: str) -> str:
    """time's own quote (format.go), not strconv's: '"' and '\\' escaped, every byte of a
    non-ASCII or control character as \\xNN."""
    out = ['"']
    for c in s:
        if c >= "\x80" or c < " ":
            out.extend("\\x" + _LOWER_HEX[b >> 4] + _LOWER_HEX[b & 0xF]
                       for b in c.encode("utf-8", "surrogatepass"))
        else:
            if c in '"\\':
                out.append("\\")
            out.append(c)
    out.append('"')
    return "".join(out)


def _parse_error(layout: str, value: str, layout_elem: str, value_elem: str, message: str = "") -> ParseError:
    # time.ParseError.Error()
    if message == "":
        return ParseError(f"parsing time {_quote(value)} as {_quote(layout)}: cannot parse "
                          f"{_quote(value_elem)} as {_quote(layout_elem)}")
    return ParseError(f"parsing time {_quote(value)}{message}")


def _digit(s: str, i: int) -> bool:
    return i < len(s) and "0" <= s[i] <= "9"


def _getnum(s: str, fixed: bool):
    # format.go getnum: one or two digits (fixed: exactly two); None on error
    if not _digit(s, 0):
        return None, s
    if not _digit(s, 1):
        return (None, s) if fixed else (int(s[0]), s[1:])
    return int(s[:2]), s[2:]


def _skip(value: str, prefix: str):
    # format.go skip, for prefixes without spaces (RFC 3339 has none): None when it does not match
    return value[len(prefix):] if value.startswith(prefix) else None


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(y: int, m: int, d: int) -> int:
    # days since 1970-01-01 of a proleptic Gregorian date, any year (Go's time has year 0 and
    # 10000, datetime has neither)
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _civil_from_days(z: int) -> tuple:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


_ZERO_UNIX = _days_from_civil(1, 1, 1) * 86400


class GoTime(tuple):
    """An instant as Go's time.Time holds it: seconds since the Unix epoch (any year) and
    nanoseconds."""

    __slots__ = ()

    def __new__(cls, unix: int, nsec: int):
        return tuple.__new__(cls, (unix, nsec))

    @property
    def unix(self) -> int:
        return self[0]

    @property
    def nsec(self) -> int:
        return self[1]

    @classmethod
    def from_datetime(cls, dt: _dt.datetime) -> "GoTime":
        """The instant of a datetime (naive: UTC)."""
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=_dt.timezone.utc)
        delta = dt - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        return cls(delta.days * 86400 + delta.seconds, delta.microseconds * 1000)

    def is_zero(self) -> bool:
        """Time.IsZero: January 1, year 1, 00:00:00 UTC."""
        return self[0] == _ZERO_UNIX and self[1] == 0

    def format_utc(self, frac_digits: int = 0) -> str:
        """t.UTC().Format(RFC3339) ("2006-01-02T15:04:05Z"); frac_digits 6: RFC3339Micro."""
        days, secs = divmod(self[0], 86400)
        y, m, d = _civil_from_days(days)
        year = f"-{-y:04d}" if y < 0 else f"{y:04d}"
        hms = f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
        frac = "." + f"{self[1]:09d}"[:frac_digits] if frac_digits else ""
        return f"{year}-{m:02d}-{d:02d}T{hms}{frac}Z"


def parse_time_rfc3339(value: str) -> GoTime:
    """time.Parse(time.RFC3339, value): format.go's parse over RFC3339's layout elements (its
    fast path, parseRFC3339, accepts a subset of the same values), with time.ParseError's
    messages; ParseError otherwise."""
    layout, rest = RFC3339, value
    fields = {}
    nsec = 0
    offset = 0
    for prefix, elem in _RFC3339_CHUNKS:
        skipped = _skip(rest, prefix)
        if skipped is None:
            raise _parse_error(layout, value, prefix, rest)
        rest = hold = skipped
        bad = False
        range_err = ""
        if elem == "2006":
            if len(rest) < 4 or not _digit(rest, 0) or not rest[1:4].isascii() or not rest[1:4].isdigit():
                bad = True
            else:
                fields[elem], rest = int(rest[:4]), rest[4:]
        elif elem == "Z07:00":
            if rest[:1] == "Z":
                rest = rest[1:]
            elif len(rest) < 6 or rest[3] != ":":
                bad = True
            else:
                sign, hh, mm, rest = rest[0], rest[1:3], rest[4:6], rest[6:]
                hr, _ = _getnum(hh, True)
                mn = None
                if hr is not None:
                    mn, _ = _getnum(mm, True)
                bad = hr is None or mn is None
                hr, mn = hr or 0, mn or 0
                if hr > 24:
                    range_err = "time zone offset hour"
                if mn > 60:
                    range_err = "time zone offset minute"
                offset = (hr * 60 + mn) * 60
                if sign == "-":
                    offset = -offset
                elif sign != "+":
                    bad = True
        else:
            num, rest = _getnum(rest, elem != "15")
            bad = num is None
            num = num or 0
            fields[elem] = num
            if elem == "01" and not bad and not 1 <= num <= 12:
                range_err = "month"
            elif elem == "15" and num >= 24:
                range_err = "hour"
            elif elem == "04" and num >= 60:
                range_err = "minute"
            elif elem == "05" and not bad:
                if num >= 60:
                    range_err = "second"
                elif len(rest) >= 2 and rest[0] in ".," and _digit(rest, 1):
                    # a fractional second the layout does not have: every digit is read,
                    # nanoseconds from the first nine
                    n = 2
                    while _digit(rest, n):
                        n += 1
                    nsec = int(rest[1:min(n, 10)].ljust(9, "0"))
                    rest = rest[n:]
        if range_err:
            raise _parse_error(layout, value, elem, rest, f": {range_err} out of range")
        if bad:
            raise _parse_error(layout, value, elem, hold)
    if rest:
        raise _parse_error(layout, value, "", rest, ": extra text: " + _quote(rest))
    year, month, day = fields["2006"], fields["01"], fields["02"]
    if day < 1 or day > _days_in(month, year):
        raise _parse_error(layout, value, "", rest, ": day out of range")
    unix = _days_from_civil(year, month, day) * 86400 + fields["15"] * 3600 + fields["04"] * 60 + fields["05"]
    return GoTime(unix - offset, nsec)


def parse_rfc3339(s: str) -> _dt.datetime:
    """time.Parse(time.RFC3339, s) as a datetime in UTC, to the microsecond (years 1 to 9999:
    datetime's; parse_time_rfc3339 has Go's whole range); ParseError carries Go's message."""
    t = parse_time_rfc3339(s)
    epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return epoch + _dt.timedelta(seconds=t.unix, microseconds=t.nsec // 1000)


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
        if len(whole.lstrip("0")) > 19:  # Go's leadingInt overflows (never converted here)
            raise ParseError(f"time: invalid duration {quoted}")
        value = int(whole or "0") * scale
        if len(frac) > 18:
            value += _long_fraction(frac, scale)
        elif frac:
            value += int(frac) * scale // (10 ** len(frac))
        total += value
        if total > 2**63 - 1:
            raise ParseError(f"time: invalid duration {quoted}")
        s = s[match.end():]
    return -total if neg else total


def _long_fraction(frac: str, unit: int) -> int:
    """Go's leadingFraction and the float step after it, for a fraction of more digits than an
    int64 holds: digits past the overflow point are skipped, not an error (and a long fraction
    is never converted whole)."""
    x, scale = 0, 1.0
    for digit in frac:
        if x > (2**63 - 1) // 10:
            break
        y = x * 10 + ord(digit) - 48
        if y > 2**63:
            break
        x, scale = y, scale * 10
    return int(float(x) * (float(unit) / scale))
