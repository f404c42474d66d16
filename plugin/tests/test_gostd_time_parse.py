"""gostd.time.parse_time_rfc3339: Go's time.Parse(time.RFC3339, s), pinned with Go's own outputs.

Each row: the input, then what this Go program printed for it (go1.26.8): "error" and
err.Error(), "zero" when t.IsZero() (metav1.Time prints null), else "ok" and
t.UTC().Format(time.RFC3339), what metav1.Time.MarshalJSON prints. istioctl 1.30.4 prints the
first row's text after "error unmarshaling JSON: while decoding JSON: " (checked side by side).

    t, err := time.Parse(time.RFC3339, s)
    if err != nil { out = {"error", err.Error()} } else if t.IsZero() { out = {"zero", ""} }
    else { out = {"ok", t.UTC().Format(time.RFC3339)} }
"""
from __future__ import annotations

import pytest

from kubectl_inject.gostd import time as gotime

GO_OUTPUTS = [
    ("2018-07-18 04:40:44+00:00", "error",
     "parsing time \"2018-07-18 04:40:44+00:00\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \" 04:40:44+00:00\" as \"T\""),
    ("2018-07-18T04:40:44+00:00", "ok",
     "2018-07-18T04:40:44Z"),
    ("yesterday", "error",
     "parsing time \"yesterday\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"yesterday\" as \"2006\""),
    ("", "error",
     "parsing time \"\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"2006\""),
    ("2023-02-29T00:00:00Z", "error",
     "parsing time \"2023-02-29T00:00:00Z\": day out of range"),
    ("2024-02-29T23:30:00.1234567+01:30", "ok",
     "2024-02-29T22:00:00Z"),
    ("2018-7-18T04:40:44Z", "error",
     "parsing time \"2018-7-18T04:40:44Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"7-18T04:40:44Z\" as \"01\""),
    ("2018-07-18T4:40:44Z", "ok",
     "2018-07-18T04:40:44Z"),
    ("2018-07-18T04:4:44Z", "error",
     "parsing time \"2018-07-18T04:4:44Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"4:44Z\" as \"04\""),
    ("2018-07-18T04:40:4Z", "error",
     "parsing time \"2018-07-18T04:40:4Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"4Z\" as \"05\""),
    ("2018-07-18T24:00:00Z", "error",
     "parsing time \"2018-07-18T24:00:00Z\": hour out of range"),
    ("2018-07-18T23:60:00Z", "error",
     "parsing time \"2018-07-18T23:60:00Z\": minute out of range"),
    ("2018-07-18T23:59:60Z", "error",
     "parsing time \"2018-07-18T23:59:60Z\": second out of range"),
    ("2018-13-01T00:00:00Z", "error",
     "parsing time \"2018-13-01T00:00:00Z\": month out of range"),
    ("2018-00-01T00:00:00Z", "error",
     "parsing time \"2018-00-01T00:00:00Z\": month out of range"),
    ("2018-01-00T00:00:00Z", "error",
     "parsing time \"2018-01-00T00:00:00Z\": day out of range"),
    ("2018-01-32T00:00:00Z", "error",
     "parsing time \"2018-01-32T00:00:00Z\": day out of range"),
    ("2018-04-31T00:00:00Z", "error",
     "parsing time \"2018-04-31T00:00:00Z\": day out of range"),
    ("2018-07-18T04:40:44", "error",
     "parsing time \"2018-07-18T04:40:44\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"Z07:00\""),
    ("2018-07-18T04:40:44Zjunk", "error",
     "parsing time \"2018-07-18T04:40:44Zjunk\": extra text: \"junk\""),
    ("2018-07-18T04:40:44+0000", "error",
     "parsing time \"2018-07-18T04:40:44+0000\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"+0000\" as \"Z07:00\""),
    ("2018-07-18T04:40:44+24:00", "ok",
     "2018-07-17T04:40:44Z"),
    ("2018-07-18T04:40:44+25:00", "error",
     "parsing time \"2018-07-18T04:40:44+25:00\": time zone offset hour out of range"),
    ("2018-07-18T04:40:44+01:61", "error",
     "parsing time \"2018-07-18T04:40:44+01:61\": time zone offset minute out of range"),
    ("2018-07-18T04:40:44+01:60", "ok",
     "2018-07-18T02:40:44Z"),
    ("2018-07-18T04:40:44*01:00", "error",
     "parsing time \"2018-07-18T04:40:44*01:00\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"*01:00\" as \"Z07:00\""),
    ("2018-07-18T04:40:44,5Z", "ok",
     "2018-07-18T04:40:44Z"),
    ("2018-07-18T04:40:44.Z", "error",
     "parsing time \"2018-07-18T04:40:44.Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \".Z\" as \"Z07:00\""),
    ("2018-07-18T04:40:44.123456789123Z", "ok",
     "2018-07-18T04:40:44Z"),
    ("0000-01-01T00:00:00Z", "ok",
     "0000-01-01T00:00:00Z"),
    ("0000-01-01T00:00:00+01:00", "ok",
     "-0001-12-31T23:00:00Z"),
    ("9999-12-31T23:00:00-02:00", "ok",
     "10000-01-01T01:00:00Z"),
    ("0001-01-01T00:00:00Z", "zero",
     ""),
    ("0001-01-01T00:00:00.000000001Z", "ok",
     "0001-01-01T00:00:00Z"),
    ("0001-01-01T01:00:00+01:00", "zero",
     ""),
    ("20a8-07-18T04:40:44Z", "error",
     "parsing time \"20a8-07-18T04:40:44Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"20a8-07-18T04:40:44Z\" as \"2006\""),
    ("+018-07-18T04:40:44Z", "error",
     "parsing time \"+018-07-18T04:40:44Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"+018-07-18T04:40:44Z\" as \"2006\""),
    ("2018-07-18T04:40:44z", "error",
     "parsing time \"2018-07-18T04:40:44z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"z\" as \"Z07:00\""),
    ("2018-07-18t04:40:44Z", "error",
     "parsing time \"2018-07-18t04:40:44Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"t04:40:44Z\" as \"T\""),
    ("2018-07-18T04:40:44+01", "error",
     "parsing time \"2018-07-18T04:40:44+01\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"+01\" as \"Z07:00\""),
    ("2018-07-18T04:40:44+1:00", "error",
     "parsing time \"2018-07-18T04:40:44+1:00\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"+1:00\" as \"Z07:00\""),
    ("2018-07-18T04:40:44+01:0a", "error",
     "parsing time \"2018-07-18T04:40:44+01:0a\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"+01:0a\" as \"Z07:00\""),
    ("2018/07/18", "error",
     "parsing time \"2018/07/18\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"/07/18\" as \"-\""),
    ("2018", "error",
     "parsing time \"2018\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"-\""),
    ("201", "error",
     "parsing time \"201\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"201\" as \"2006\""),
    ("2018-", "error",
     "parsing time \"2018-\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"01\""),
    ("2018-07-18T", "error",
     "parsing time \"2018-07-18T\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"15\""),
    ("2018-07-18T04:40:44 ", "error",
     "parsing time \"2018-07-18T04:40:44 \" as \"2006-01-02T15:04:05Z07:00\": cannot parse \" \" as \"Z07:00\""),
    ("\u00e92018-07-18", "error",
     "parsing time \"\\xc3\\xa92018-07-18\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\\xc3\\xa92018-07-18\" as \"2006\""),
    ("2018-07-18T04:40:44\"q\\", "error",
     "parsing time \"2018-07-18T04:40:44\\\"q\\\\\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\\\"q\\\\\" as \"Z07:00\""),
    ("2018-07-18T04:40:44Z\u00e9", "error",
     "parsing time \"2018-07-18T04:40:44Z\\xc3\\xa9\": extra text: \"\\xc3\\xa9\""),
    ("2018-07-18T04:40:44Z\ufffd", "error",
     "parsing time \"2018-07-18T04:40:44Z\\xef\\xbf\\xbd\": extra text: \"\\xef\\xbf\\xbd\""),
    ("\ufffdx", "error",
     "parsing time \"\\xef\\xbf\\xbdx\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\\xef\\xbf\\xbdx\" as \"2006\""),
    ("\u0001\t", "error",
     "parsing time \"\\x01\\x09\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\\x01\\x09\" as \"2006\""),
    ("2018-07-18T04:40:44.5+01:00", "ok",
     "2018-07-18T03:40:44Z"),
    ("2016-02-29T12:00:00Z", "ok",
     "2016-02-29T12:00:00Z"),
    ("1900-02-29T00:00:00Z", "error",
     "parsing time \"1900-02-29T00:00:00Z\": day out of range"),
    ("2000-02-29T00:00:00Z", "ok",
     "2000-02-29T00:00:00Z"),
    ("2018-07-18T04:40:44-00:00", "ok",
     "2018-07-18T04:40:44Z"),
    ("2018-07-18T04:40:44.000Z", "ok",
     "2018-07-18T04:40:44Z"),
    ("2018-07-18T04:40:44.-1Z", "error",
     "parsing time \"2018-07-18T04:40:44.-1Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \".-1Z\" as \"Z07:00\""),
    ("2018-07-18T04:40:44+-1:00", "error",
     "parsing time \"2018-07-18T04:40:44+-1:00\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"+-1:00\" as \"Z07:00\""),
    ("2018-07-18T4:4:4Z", "error",
     "parsing time \"2018-07-18T4:4:4Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"4:4Z\" as \"04\""),
    ("2018-07-18T04:40:44.999999999+23:59", "ok",
     "2018-07-17T04:41:44Z"),
    ("1970-01-01T00:00:00Z", "ok",
     "1970-01-01T00:00:00Z"),
    ("2018-07-18T04:40:44Z ", "error",
     "parsing time \"2018-07-18T04:40:44Z \": extra text: \" \""),
]


@pytest.mark.parametrize("text, kind, want", GO_OUTPUTS)
def test_time_parse_rfc3339_as_go(text, kind, want):
    try:
        t = gotime.parse_time_rfc3339(text)
    except gotime.ParseError as err:
        got = ("error", str(err))
    else:
        got = ("zero", "") if t.is_zero() else ("ok", t.format_utc())
    assert got == (kind, want)


def test_micro_format_and_datetimes():
    t = gotime.parse_time_rfc3339("2018-07-18T04:40:44.1234567+01:00")
    assert t.format_utc(6) == "2018-07-18T03:40:44.123456Z"
    import datetime as dt
    assert gotime.GoTime.from_datetime(dt.datetime(2018, 7, 18, 3, 40, 44, 5)) == (1531885244, 5000)
    assert gotime.parse_rfc3339("2018-07-18T04:40:44+01:00") == \
        dt.datetime(2018, 7, 18, 3, 40, 44, tzinfo=dt.timezone.utc)
