"""gostd: Go's standard library behaviour, pinned by outputs Go itself gives (go1.22+)."""
from __future__ import annotations

import math

import pytest

from kubectl_inject.gostd import fmt, json, strconv, time, values


@pytest.mark.parametrize("value, fmt_, prec, bits, want", [
    (1e21, "g", -1, 64, "1e+21"),
    (123456789.0, "g", -1, 64, "1.23456789e+08"),
    (123456.0, "g", -1, 64, "123456"),
    (0.000001, "g", -1, 64, "1e-06"),
    (0.0001, "g", -1, 64, "0.0001"),
    (-0.0, "g", -1, 64, "-0"),
    (0.1, "g", -1, 32, "0.1"),
    (float(strconv.to_float32(0.1)), "g", -1, 64, "0.10000000149011612"),
    (3.0e38 * 10, "g", -1, 32, "+Inf"),
    (math.nan, "g", -1, 64, "NaN"),
    (-math.inf, "f", 2, 64, "-Inf"),
    (3.14159, "f", 2, 64, "3.14"),
    (2.5, "f", 0, 64, "2"),          # round half to even, as Go
    (1234.5678, "e", 3, 64, "1.235e+03"),
    (1234.5678, "E", -1, 64, "1.2345678E+03"),
    (1234.5678, "g", 3, 64, "1.23e+03"),
    (0.00001234, "G", 2, 64, "1.2E-05"),
    (100.0, "g", 5, 64, "100"),
])
def test_format_float(value, fmt_, prec, bits, want):
    assert strconv.format_float(value, fmt_, prec, bits) == want


@pytest.mark.parametrize("value, bits, want", [
    (1e-7, 64, "1e-7"), (1e21, 64, "1e+21"), (1e20, 64, "100000000000000000000"),
    (0.000001, 64, "0.000001"), (1.5, 64, "1.5"), (-0.0, 64, "-0"), (0.1, 32, "0.1"),
    (123456789.0, 32, "123456790"),
])
def test_json_float(value, bits, want):
    assert json.float_text(value, bits) == want


def test_json_refuses_nan_and_inf_with_gos_message():
    with pytest.raises(json.MarshalError, match=r"^json: unsupported value: \+Inf$"):
        json.marshal(math.inf)
    with pytest.raises(json.MarshalError, match="^json: unsupported value: NaN$"):
        json.float_text(math.nan)


def test_marshal_sorts_keys_and_escapes_html():
    assert json.marshal({"b": 1, "a": "<x>&", "c": [True, None, 2.5]}) == \
        '{"a":"\\u003cx\\u003e\\u0026","b":1,"c":[true,null,2.5]}'
    assert json.marshal({"a": "<"}, escape_html=False) == '{"a":"<"}'
    assert json.marshal({"a": [1]}, indent="  ") == '{\n  "a": [\n    1\n  ]\n}'
    assert json.marshal({}) == "{}" and json.marshal([]) == "[]"
    assert json.marshal(b"hi") == '"aGk="'
    assert json.quote_string("\x01\b\u2028") == '"\\u0001\\b\\u2028"'


def test_marshal_uses_the_values_own_json():
    class Thing:
        def __go_json__(self):
            return {"z": 1, "a": 2}

        def __proto_json__(self):
            return "proto"
    assert json.marshal([Thing()], sort_keys=False) == '[{"z":1,"a":2}]'
    assert json.marshal(Thing(), proto=True) == '"proto"'
    assert json.marshal(values.NilPtr("*T")) == "null"
    with pytest.raises(json.MarshalError, match="unsupported type: func"):
        json.marshal(lambda: 0)


def test_unmarshal_any_reads_every_number_as_float64():
    assert json.unmarshal_any('{"a": [1, 2.5]}') == {"a": [1.0, 2.5]}
    assert isinstance(json.unmarshal_any("3"), float)
    with pytest.raises(ValueError):
        json.unmarshal_any("NaN")


@pytest.mark.parametrize("text, ascii_only, want", [
    ('a"b\\', False, '"a\\"b\\\\"'),
    ("héllo\n\x00\x7f", False, '"héllo\\n\\x00\\x7f"'),
    ("héllo", True, '"h\\u00e9llo"'),
    ("\U0001F600", True, '"\\U0001f600"'),
    ("\u200b", False, '"\\u200b"'),           # a format character is not printable
])
def test_quote(text, ascii_only, want):
    assert strconv.quote(text, ascii_only) == want


def test_quote_rune_and_unquote_round_trip():
    assert strconv.quote_rune(ord("'")) == "'\\''"
    assert strconv.quote_rune(0xD800) == "'�'"
    for text in ["plain", 'q"uote', "tab\there", "nl\n", "é\u2028", "\x00\x01"]:
        assert strconv.unquote(strconv.quote(text)) == text
    assert strconv.unquote("`raw\\n\r`") == "raw\\n"
    for bad in ['"unterminated', "'x'", '"bad \\q"', '"\\400"', '"\\ud800"']:
        with pytest.raises(strconv.ErrSyntax):
            strconv.unquote(bad)


@pytest.mark.parametrize("text, want", [
    ("42", 42), ("-0x1F", -31), ("0o17", 15), ("017", 15), ("0b101", 5), ("1_000", 1000),
    ("0x_1f", 31), ("_1", None), ("1__0", None), ("1_", None), ("", None), ("0x", None),
    ("12a", None), ("+-5", None), ("0x0x1F", None), ("0x 1f", None), ("١٢", None), (" 1", None),
    ("0b_1", 1), ("0_7", 7),
])
def test_parse_int(text, want):
    assert strconv.parse_int(text) == want


def test_parse_float():
    assert strconv.parse_float("1_000.5") == 1000.5
    assert strconv.parse_float("0x1p-2") == 0.25
    assert strconv.parse_float("0b1") is None and strconv.parse_float("x") is None
    for bad in ("._5", ".5_", "1__0.5", " 1.5", "١.5", "1_.5"):
        assert strconv.parse_float(bad) is None, bad


@pytest.mark.parametrize("fmt_, args, want", [
    ("%5.2f|%-4d|%q|%x", (3.14159, 7, 'a"b', 255), ' 3.14|7   |"a\\"b"|ff'),
    ("%v %v %v", (None, [1, "a"], {"b": 2, "a": 1}), "<nil> [1 a] map[a:1 b:2]"),
    ("%d", (), "%!d(MISSING)"),
    ("%d", ("x",), "%!d(string=x)"),
    ("%s", ("a", 1), "a%!(EXTRA int=1)"),
    ("%[2]d %[1]d", (1, 2), "2 1"),
    ("%08.3f", (-3.5,), "-003.500"),
    ("%+d % d", (5, 5), "+5  5"),
    ("%#x %#o %b", (255, 8, 5), "0xff 010 101"),
    ("%t %T", (True, 1.5), "true float64"),
    ("%c%U", (65, 0x1F600), "AU+1F600"),
    ("%6.2s|", ("hello",), "    he|"),
    ("%!", (), "%!!(MISSING)"),
    ("abc%", (), "abc%!(NOVERB)"),
    # argument indexes, as in fmt's documentation and doPrintf
    ("%[3]*.[2]*[1]f", (12.0, 2, 6), " 12.00"),
    ("%d %d %#[1]x %#x", (16, 17), "16 17 0x10 0x11"),
    ("%[5]d", (1,), "%!d(BADINDEX)"),
    ("%[1d", (5,), "%!d(BADINDEX)"),
    ("%[x]d", (5,), "%!d(BADINDEX)"),
    ("%[2]2d", (1, 2), "%!d(BADINDEX)"),
    ("%*d", ("x", 5), "%!(BADWIDTH)5"),
    ("%.*d", (-1, 5), "%!(BADPREC)5"),
    ("%-*d|", (-3, 5), "5  |"),
    ("%*d", (), "%!(BADWIDTH)%!d(MISSING)"),
])
def test_sprintf(fmt_, args, want):
    assert fmt.sprintf(fmt_, *args) == want


def test_sprint_spaces_only_between_non_strings():
    assert fmt.sprint("a", 1, 2, "b") == "a1 2b"
    assert fmt.sprintln("a", 1) == "a 1\n"
    assert fmt.format_value(1e21) == "1e+21"
    assert fmt.format_value(values.MISSING) == "<nil>"


@pytest.mark.parametrize("nanos, want", [
    (0, "0s"), (1, "1ns"), (1500, "1.5µs"), (1_500_000, "1.5ms"), (90 * 10**9, "1m30s"),
    (3_723_500_000_000, "1h2m3.5s"), (-2 * 10**9, "-2s"), (3600 * 10**9, "1h0m0s"),
])
def test_format_duration(nanos, want):
    assert time.format_duration(nanos) == want


def test_type_names():
    assert [values.go_type_name(v) for v in (None, True, 1, 1.0, "s", {}, [], values.StringMap())] == \
        ["<nil>", "bool", "int", "float64", "string", "map[string]interface {}", "[]interface {}",
         "map[string]string"]


def test_slice_stable_matches_a_stable_sort_for_a_proper_order():
    import random
    from kubectl_inject.gostd.sort import slice_stable
    rng = random.Random(7)
    for n in (0, 1, 19, 20, 21, 45, 200):
        data = [(rng.randrange(5), i) for i in range(n)]
        got = list(data)
        slice_stable(got, lambda a, b: a[0] < b[0])
        assert got == sorted(data, key=lambda x: x[0])


def test_slices_share_their_backing_array_like_go():
    from kubectl_inject.gostd.slices import Slice, decoded_cap, grow_cap
    s = Slice.make([1, 2, 3], cap=4)
    t = s.reslice(0, 2).append(9)          # fits in the capacity: overwrites s[2]
    assert s.items() == [1, 2, 9] and t.items() == [1, 2, 9]
    u = s.append(4, 5)                      # over capacity: a new array
    u[0] = 0
    assert s[0] == 1 and u.items() == [0, 2, 9, 4, 5]
    assert grow_cap(4, 4, 5) == 8
    # past 256 elements growth is 1.25x + 192; 832 elements = 13,312 bytes, plus Go 1.22's
    # 8-byte malloc header, fit the 13,568-byte size class: (13,568 - 8) / 16 = 847
    assert grow_cap(300, 512, 513) == 847
    # appending one at a time: ... 64 -> 128 elements, 2,048 + 8 bytes -> class 2,304 -> 143
    assert decoded_cap(100) == 143


def test_parse_rfc3339():
    import datetime as dt
    got = time.parse_rfc3339("2024-02-29T23:30:00.1234567+01:30")
    assert got == dt.datetime(2024, 2, 29, 22, 0, 0, 123456, tzinfo=dt.timezone.utc)
    with pytest.raises(time.ParseError, match=r'^parsing time "yesterday" as "2006-01-02T15:04:05Z07:00"'):
        time.parse_rfc3339("yesterday")
    with pytest.raises(time.ParseError, match="day out of range"):
        time.parse_rfc3339("2023-02-29T00:00:00Z")


@pytest.mark.parametrize("text, nanos", [
    ("0", 0), ("1.5s", 1_500_000_000), ("-2m3s", -123_000_000_000), ("1h", 3600 * 10**9),
    ("300ms", 300_000_000), ("1µs", 1000), ("1us2ns", 1002), (".5s", 500_000_000),
])
def test_parse_duration(text, nanos):
    assert time.parse_duration(text) == nanos


@pytest.mark.parametrize("text, message", [
    ("", 'time: invalid duration ""'), ("5", 'time: missing unit in duration "5"'),
    ("3d", 'time: unknown unit "d" in duration "3d"'), (".s", 'time: invalid duration ".s"'),
])
def test_parse_duration_errors(text, message):
    with pytest.raises(time.ParseError) as err:
        time.parse_duration(text)
    assert str(err.value) == message
