"""Tests for kubectl_inject.goyaml against go-yaml v2 / sigs.k8s.io/yaml behaviour.

DUMP_CASES and LOAD_CASES were produced by running sigs.k8s.io/yaml v1.4.0
(Marshal, and YAMLToJSON) with Go on each input; the golden test re-creates
istioctl's own outputs byte for byte.
"""

import json
import math
import pathlib

import pytest

from kubectl_inject import goyaml

GOLDEN = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "istio-golden" / "1.22.0"

DUMP_CASES = [
    ({'k': 'true'}, 'k: "true"\n'),
    ({'k': 'on'}, 'k: "on"\n'),
    ({'k': 'yes'}, 'k: "yes"\n'),
    ({'k': 'y'}, 'k: "y"\n'),
    ({'k': 'Y'}, 'k: "Y"\n'),
    ({'k': 'n'}, 'k: "n"\n'),
    ({'k': 'No'}, 'k: "No"\n'),
    ({'k': 'off'}, 'k: "off"\n'),
    ({'k': 'OFF'}, 'k: "OFF"\n'),
    ({'k': 'null'}, 'k: "null"\n'),
    ({'k': 'Null'}, 'k: "Null"\n'),
    ({'k': '~'}, 'k: "~"\n'),
    ({'k': ''}, 'k: ""\n'),
    ({'k': '-'}, "k: '-'\n"),
    ({'k': '- a'}, "k: '- a'\n"),
    ({'k': '-a'}, 'k: -a\n'),
    ({'k': '? a'}, "k: '? a'\n"),
    ({'k': '?a'}, 'k: ?a\n'),
    ({'k': ':'}, "k: ':'\n"),
    ({'k': 'a:'}, "k: 'a:'\n"),
    ({'k': 'a: b'}, "k: 'a: b'\n"),
    ({'k': 'a:b'}, 'k: a:b\n'),
    ({'k': 'a #b'}, "k: 'a #b'\n"),
    ({'k': 'a#b'}, 'k: a#b\n'),
    ({'k': '#a'}, "k: '#a'\n"),
    ({'k': '15020'}, 'k: "15020"\n'),
    ({'k': '1e3'}, 'k: "1e3"\n'),
    ({'k': '0x1F'}, 'k: "0x1F"\n'),
    ({'k': '0o17'}, 'k: "0o17"\n'),
    ({'k': '0b101'}, 'k: "0b101"\n'),
    ({'k': '.5'}, 'k: ".5"\n'),
    ({'k': '+1'}, 'k: "+1"\n'),
    ({'k': '-1'}, 'k: "-1"\n'),
    ({'k': '1_000'}, 'k: "1_000"\n'),
    ({'k': '1:20'}, 'k: "1:20"\n'),
    ({'k': '1:20:30.5'}, 'k: "1:20:30.5"\n'),
    ({'k': '2001-12-14'}, 'k: "2001-12-14"\n'),
    ({'k': '2001-12-14T21:59:43Z'}, 'k: "2001-12-14T21:59:43Z"\n'),
    ({'k': '2001-12-14T21:59:43'}, 'k: 2001-12-14T21:59:43\n'),
    ({'k': '.inf'}, 'k: ".inf"\n'),
    ({'k': '-.Inf'}, 'k: "-.Inf"\n'),
    ({'k': '.nan'}, 'k: ".nan"\n'),
    ({'k': '1.'}, 'k: "1."\n'),
    ({'k': '08'}, 'k: "08"\n'),
    ({'k': '007'}, 'k: "007"\n'),
    ({'k': ' a'}, "k: ' a'\n"),
    ({'k': 'a '}, "k: 'a '\n"),
    ({'k': "it's"}, "k: it's\n"),
    ({'k': "'q'"}, "k: '''q'''\n"),
    ({'k': '"dq"'}, 'k: \'"dq"\'\n'),
    ({'k': 'a\\b'}, 'k: a\\b\n'),
    ({'k': 'a\tb'}, 'k: "a\\tb"\n'),
    ({'k': 'é'}, 'k: é\n'),
    ({'k': '\u2028'}, "k: '\u2028'\n"),
    ({'k': '\ufeffab'}, 'k: "\\uFEFF\\x61\\x62"\n'),
    ({'k': '😀'}, 'k: "\\U0001F600"\n'),
    ({'k': 'a\nb'}, 'k: |-\n  a\n  b\n'),
    ({'k': 'a\n'}, 'k: |\n  a\n'),
    ({'k': 'a\n\n'}, 'k: |+\n  a\n\n'),
    ({'k': '\n'}, 'k: |2+\n\n'),
    ({'k': ' \na'}, 'k: " \\na"\n'),
    ({'k': 'a \nb'}, 'k: "a \\nb"\n'),
    ({'k': 'a\n b'}, 'k: |-\n  a\n   b\n'),
    ({'k': 'a\r\nb'}, 'k: "a\\r\\nb"\n'),
    ({'k': '<<'}, 'k: <<\n'),
    ({'k': '*a'}, "k: '*a'\n"),
    ({'k': '&a'}, "k: '&a'\n"),
    ({'k': '!a'}, "k: '!a'\n"),
    ({'k': '%a'}, "k: '%a'\n"),
    ({'k': '@a'}, "k: '@a'\n"),
    ({'k': '`a'}, "k: '`a'\n"),
    ({'k': '|'}, "k: '|'\n"),
    ({'k': '{a}'}, "k: '{a}'\n"),
    ({'k': '[a]'}, "k: '[a]'\n"),
    ({'k': 'a,b'}, 'k: a,b\n'),
    ({'k': '---'}, "k: '---'\n"),
    ({'k': '...'}, "k: '...'\n"),
    ({'k': '--- x'}, "k: '--- x'\n"),
    ({'k': '='}, 'k: =\n'),
    ({'k': '--proxyComponentLogLevel=misc:error'}, 'k: --proxyComponentLogLevel=misc:error\n'),
    ({'k': '$(POD_NAMESPACE).svc.cluster.local'}, 'k: $(POD_NAMESPACE).svc.cluster.local\n'),
    ({'k': 'kubernetes://apis/apps/v1/namespaces/default/deployments/hello'}, 'k: kubernetes://apis/apps/v1/namespaces/default/deployments/hello\n'),
    ({'k': 'Yes'}, 'k: "Yes"\n'),
    ({'k': 'yES'}, 'k: yES\n'),
    ({'long': 'sysctl -w kernel.core_pattern=/var/lib/istio/data/core.proxy && ulimit -c unlimited'}, 'long: sysctl -w kernel.core_pattern=/var/lib/istio/data/core.proxy && ulimit -c unlimited\n'),
    ({'a': {'b': {'c': 'word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word '}}}, "a:\n  b:\n    c: 'word word word word word word word word word word word word word word word\n      word word word word word word word word word word word word word word word '\n"),
    ({'q': "it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's "}, "q: 'it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s\n  it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s '\n"),
    ({'d': 'tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t tab\t '}, 'd: "tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t\n  tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t "\n'),
    ({'n': [1, -1, 0, 9223372036854775807, 18446744073709551615, 18446744073709551616, 0.5, 1.5e-07, 1e+21, 1e+20, 1e+18, 123456.7, 1234567.8, -0.0, 3.0, 0.0001]}, '"n":\n- 1\n- -1\n- 0\n- 9223372036854775807\n- 18446744073709551615\n- 1.8446744073709552e+19\n- 0.5\n- 1.5e-07\n- 1e+21\n- 1e+20\n- 1000000000000000000\n- 123456.7\n- 1.2345678e+06\n- 0\n- 3\n- 0.0001\n'),
    ({}, '{}\n'),
    ([], '[]\n'),
    ({'e': {}, 'l': [], 'z': None, 't': True, 'f': False}, 'e: {}\nf: false\nl: []\nt: true\nz: null\n'),
    ([[1, [2, 3]], {'a': [{'b': 1}]}], '- - 1\n  - - 2\n    - 3\n- a:\n  - b: 1\n'),
    ({'b': 1, 'a': 2, 'B': 3, '_': 4, '-': 5, 'a1': 6, 'a10': 7, 'a2': 8, 'a01': 9, 'http2': 10, 'é': 11, 'Z': 12}, "'-': 5\n_: 4\nB: 3\nZ: 12\na: 2\na1: 6\na01: 9\na2: 8\na10: 7\nb: 1\nhttp2: 10\né: 11\n"),
    ({'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx': 1}, '? xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n: 1\n'),
    ({'a\nb': 1}, '? |-\n  a\n  b\n: 1\n'),
    ('top', 'top\n'),
    ('two\nlines\n', '|\n  two\n  lines\n'),
    (None, 'null\n'),
    (5, '5\n'),
]

LOAD_CASES = [
    ('a: yes', '{"a":true}'),
    ('a: on', '{"a":true}'),
    ('a: y', '{"a":true}'),
    ('a: NO', '{"a":false}'),
    ('a: ~', '{"a":null}'),
    ('a:', '{"a":null}'),
    ('a: 0x1F', '{"a":31}'),
    ('a: 0o17', '{"a":15}'),
    ('a: 0b101', '{"a":5}'),
    ('a: 010', '{"a":8}'),
    ('a: 08', '{"a":8}'),
    ('a: +1', '{"a":1}'),
    ('a: 1_000', '{"a":1000}'),
    ('a: 1e3', '{"a":1000}'),
    ('a: .5', '{"a":0.5}'),
    ('a: 1.', '{"a":1}'),
    ('a: 1:20', '{"a":"1:20"}'),
    ('a: 2001-12-14', '{"a":"2001-12-14"}'),
    ('a: 9223372036854775808', '{"a":9223372036854775808}'),
    ('a: 18446744073709551616', '{"a":18446744073709552000}'),
    ("a: '15020'", '{"a":"15020"}'),
    ('a: "x\\ty"', '{"a":"x\\ty"}'),
    ('a: !!str 1', '{"a":"1"}'),
    ('a: !!float 1', '{"a":1}'),
    ('a: !!binary aGVsbG8=', '{"a":"hello"}'),
    ('a: ! 5', '{"a":"5"}'),
    ('1: a\ntrue: b\n1.5: c\n~x: d', '{"1":"a","1.5":"c","true":"b","~x":"d"}'),
    ('a: &x {b: 1}\nc: *x', '{"a":{"b":1},"c":{"b":1}}'),
    ('base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3', '{"base":{"true":2,"x":1},"m":{"true":3,"x":1}}'),
    ('m:\n  <<: [{a: 1}, {a: 2, b: 2}]', '{"m":{"a":1,"b":2}}'),
    ('a: 1\na: 2', '{"a":2}'),
    ('a: |\n  x\n  y\n', '{"a":"x\\ny\\n"}'),
    ('a: >\n  x\n  y\n', '{"a":"x y\\n"}'),
    ('{"json": [1, 2.5, "s", null, true]}', '{"json":[1,2.5,"s",null,true]}'),
    ('- a\n- b: c', '["a",{"b":"c"}]'),
    ('', 'null'),
    ('# only a comment\n', 'null'),
    ('---\na: 1\n---\nb: 2\n', '{"a":1}'),
    ('a: b: c', 'ERR yaml: mapping values are not allowed in this context'),
    ('a:\n- b\n c: d', 'ERR yaml: line 3: mapping values are not allowed in this context'),
    ('key: [1, 2', "ERR yaml: line 1: did not find expected ',' or ']'"),
    ("a: 'x", 'ERR yaml: found unexpected end of stream'),
    ('\ta: 1', 'ERR yaml: found character that cannot start any token'),
    ('a: *nope', "ERR yaml: unknown anchor 'nope' referenced"),
    ('[1]: x', 'ERR yaml: invalid map key: []interface {}{1}'),
    ('a: !!int x', 'ERR yaml: cannot decode !!str `x` as a !!int'),
    ('a: .nan', 'ERR json: unsupported value: NaN'),
    ('null: 1', 'ERR unsupported map key of type: %!s(<nil>), key: <nil>, value: 1'),
    ('a: "\\/"', 'ERR yaml: found unknown escape character'),
    ('<<: 5', 'ERR yaml: map merge requires map or sequence of maps as the value'),
    ('a: @x', 'ERR yaml: found character that cannot start any token'),
]


@pytest.mark.parametrize("value,expected", DUMP_CASES, ids=[repr(c[0])[:40] for c in DUMP_CASES])
def test_dump_matches_go(value, expected):
    if expected.startswith("ERR "):
        with pytest.raises(goyaml.YAMLError) as info:
            goyaml.dump(value)
        assert str(info.value) == expected[4:]
    else:
        assert goyaml.dump(value) == expected


def _norm(x):
    # Go writes float64 1000 as 1000; compare numbers by value.
    if isinstance(x, dict):
        return {k: _norm(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_norm(v) for v in x]
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    return x


@pytest.mark.parametrize("text,expected", LOAD_CASES, ids=[repr(c[0])[:40] for c in LOAD_CASES])
def test_load_matches_go(text, expected):
    if expected.startswith("ERR "):
        with pytest.raises(goyaml.YAMLError) as info:
            goyaml.load(text)
        # istioctl reaches YAMLToJSON through yaml.Unmarshal, which adds this prefix.
        assert str(info.value) == "error converting YAML to JSON: " + expected[4:]
    else:
        got = goyaml.load(text)
        assert _norm(got) == _norm(json.loads(expected))


def test_load_keeps_int_and_float_types():
    v = goyaml.load("i: 15020\nf: 1.5\ne: 1e3\nh: 0x10\nb: yes\nt: 2001-12-14\n")
    assert v == {"i": 15020, "f": 1.5, "e": 1000.0, "h": 16, "b": True, "t": "2001-12-14"}
    assert type(v["i"]) is int and type(v["e"]) is float and type(v["h"]) is int


def test_load_alias_is_a_copy():
    v = goyaml.load("a: &x {b: [1]}\nc: *x\n")
    v["c"]["b"].append(2)
    assert v["a"] == {"b": [1]}


def test_merge_order_follows_go():
    # go-yaml v2 merges into the map in document order: a later "<<" overrides
    # keys set before it, later explicit keys override merged ones.
    assert goyaml.load("a: 1\n<<: {a: 2, b: 2}\nb: 3\n") == {"a": 2, "b": 3}
    assert goyaml.load("<<: [{a: 1}, {a: 2, c: 2}]\n") == {"a": 1, "c": 2}


def test_non_string_keys_become_strings():
    assert goyaml.load("1: a\ntrue: b\n1.5: c\n0.1: d\n") == {"1": "a", "true": "b", "1.5": "c", "0.1": "d"}


def test_error_line_numbers_follow_go():
    with pytest.raises(goyaml.YAMLError) as info:
        goyaml.load("a: 1\nb: 2\nc:\n- d\n e: f\n")
    assert str(info.value) == "error converting YAML to JSON: yaml: line 5: mapping values are not allowed in this context"


def test_only_first_document_is_read():
    assert goyaml.load("a: 1\n---\nb: [\n") == {"a": 1}


def test_mid_stream_bom_is_content():
    assert goyaml.load("a: 1\n\ufeffb: 2\n") == {"a": 1, "\ufeffb": 2}


# -- splitting (k8s.io/apimachinery YAMLReader) --------------------------------

@pytest.mark.parametrize("text,docs", [
    ("a: 1\n---\nb: 2\n", ["a: 1\n", "b: 2\n"]),
    ("a: 1\r\n---\r\nb: 2", ["a: 1\n", "b: 2\n"]),  # CRLF dropped, last line terminated
    ("---\na: 1\n", ["---\na: 1\n"]),  # nothing buffered: the separator stays
    ("a\n---\n---\nb\n", ["a\n", "---\nb\n"]),
    ("a\n--- # comment\nb\n", ["a\n", "b\n"]),
    ("# only\n---\nx: 1\n", ["# only\n", "x: 1\n"]),
    ("a\n---\n", ["a\n"]),
    (" ---\na\n", [" ---\na\n"]),
    ("", []),
])
def test_split_documents(text, docs):
    assert goyaml.split_documents(text) == docs


def test_split_rejects_text_after_separator():
    with pytest.raises(goyaml.YAMLError) as info:
        goyaml.split_documents("a\n--- b\n")
    assert str(info.value) == "invalid Yaml document separator: b"
    with pytest.raises(goyaml.YAMLError):
        goyaml.split_documents("----\n")


# -- individual rules ---------------------------------------------------------

@pytest.mark.parametrize("s", ["true", "yes", "Y", "n", "off", "ON", "null", "~", "", "15020", "1e3", "0x1F", "0o17",
                               "0b101", ".5", "+1", "-1", "1_000", "08", "1.", ".inf", "-.Inf", "+.INF", ".NaN",
                               "2001-12-14", "2001-12-14T21:59:43Z", "2001-12-14 21:59:43.1", "1:20", "-1:20:30.5",
                               "9223372036854775808", "18446744073709551616"])
def test_strings_that_need_quotes(s):
    assert goyaml.resolves_to_non_string(s)
    assert goyaml.dump(s).startswith('"')


@pytest.mark.parametrize("s", ["yEs", "nO", "truE", "2001-12-14T21:59:43", "2001-13-01", "1e400", "0x", "_1", "1:60",
                               "<<", "=", "a", "1.2.3", "+.nan", ".5.", "0b2"])
def test_strings_that_stay_plain(s):
    assert not goyaml.resolves_to_non_string(s)
    assert goyaml.dump(s) == s + "\n"


def test_key_order_is_go_yaml_natural_order():
    keys = ["b", "a10", "a2", "A", "_x", "-y", "a", "a1", "B", "a01", "é"]
    out = goyaml.dump({k: 0 for k in keys})
    assert [line.split(":")[0] for line in out.splitlines()] == ["-y", "_x", "A", "B", "a", "a1", "a01", "a2", "a10", "b", "é"]


def test_long_plain_scalars_fold_at_80_columns():
    cmd = "sysctl -w kernel.core_pattern=/var/lib/istio/data/core.proxy && ulimit -c unlimited"
    # A space is only turned into a line break once the column passes 80.
    assert goyaml.dump({"command": [cmd]}) == "command:\n- " + cmd + "\n"
    out = goyaml.dump({"a": {"b": {"c": {"d": {"command": [cmd]}}}}})
    assert out == ("a:\n  b:\n    c:\n      d:\n        command:\n"
                   "        - sysctl -w kernel.core_pattern=/var/lib/istio/data/core.proxy && ulimit -c\n"
                   "          unlimited\n")
    assert goyaml.load(out)["a"]["b"]["c"]["d"]["command"][0] == cmd


def test_literal_block_chomping():
    assert goyaml.dump({"a": "x\ny"}) == "a: |-\n  x\n  y\n"
    assert goyaml.dump({"a": "x\ny\n"}) == "a: |\n  x\n  y\n"
    assert goyaml.dump({"a": "x\n\n"}) == "a: |+\n  x\n\n"
    assert goyaml.dump({"a": " x\ny"}) == "a: |2-\n   x\n  y\n"
    assert goyaml.dump({"a": "x \ny"}) == 'a: "x \\ny"\n'  # trailing space forbids block style


def test_numbers_follow_encoding_json_then_go_yaml():
    assert goyaml.dump([2.0, 0.5, 1e21, 1e20, 1e18, 1234567.5, 1.5e-7, -0.0, 2 ** 64 - 1, 2 ** 64]) == (
        "- 2\n- 0.5\n- 1e+21\n- 1e+20\n- 1000000000000000000\n- 1.2345675e+06\n- 1.5e-07\n- 0\n"
        "- 18446744073709551615\n- 1.8446744073709552e+19\n")
    with pytest.raises(goyaml.YAMLError):
        goyaml.dump({"a": math.nan})


def test_go_float_formatting():
    assert goyaml.go_float_g(0.0001) == "0.0001"
    assert goyaml.go_float_g(0.00001) == "1e-05"
    assert goyaml.go_float_g(100000.5) == "100000.5"
    assert goyaml.go_float32_g(0.1) == "0.1"
    assert goyaml.go_float32_g(3.14159265358979) == "3.1415927"
    assert goyaml.json_target_string(1.0) == "1"
    assert goyaml.json_target_string(15020) == "15020"
    assert goyaml.json_target_string(True) == "true"
    assert goyaml.json_target_string("x") is None


def test_float32_formatting_near_the_float32_maximum():
    # Go prints math.MaxFloat32 as 3.4028235e+38; shorter roundings of it (3.403e+38) are beyond
    # float32's range, which must not stop the search for the shortest digits.
    assert goyaml.go_float32_g(3.4028235e38) == "3.4028235e+38"
    assert goyaml.load("3.4028235e+38: x\n") == {"3.4028235e+38": "x"}


def test_dump_is_stable_for_loaded_values():
    text = "b: 'yes'\na:\n- x: \"1\"\n  'y': ''\n  y: 0\n"
    # An unquoted y key is YAML 1.1's true, and comes back as "true".
    assert goyaml.dump(goyaml.load(text)) == 'a:\n- "true": 0\n  x: "1"\n  "y": ""\nb: "yes"\n'


# -- istioctl's own outputs ---------------------------------------------------

def _golden_dir():
    d = GOLDEN / "inject"
    if not d.is_dir():
        pytest.skip("golden data not found at %s (needs <repo>/../shared/istio-golden/1.22.0)" % GOLDEN)
    return d


def test_golden_outputs_round_trip_byte_for_byte():
    d = _golden_dir()
    # Documents istioctl did not re-marshal are echoed from its input verbatim.
    passthrough = set()
    for f in sorted(d.glob("*.yaml")):
        try:
            passthrough.update(goyaml.split_documents(f.read_text()))
        except goyaml.YAMLError:
            pass
    identical = echoed = 0
    failures = []
    for f in sorted(d.glob("*.injected")):
        for doc in goyaml.split_documents(f.read_text()):
            if goyaml.dump(goyaml.load(doc)) == doc:
                identical += 1
            elif doc in passthrough:
                echoed += 1
            else:
                failures.append(f.name)
    assert not failures
    assert identical >= 90, (identical, echoed)


# The scalar analysis and the resolver answer some questions with substring tests and character
# checks instead of regular expressions (start-up time, issue 12). These are the patterns they
# stand for, spelled out; both must decide alike on every text made of the characters that matter.
_REFERENCE_PATTERNS = {
    "_has_break": r"[\r\n\x85\u2028\u2029]",
    "_has_inner_indicator": ":(?:[ \t]|\\Z)|[ \t\r\n\x85\u2028\u2029\x00]#",
    "break_space": "[\r\n\x85\u2028\u2029] ",
    "space_break": " [\r\n\x85\u2028\u2029]",
}
_INTERESTING = ["a", " ", "\t", ":", "#", "\r", "\n", "\x85", "\u2028", "\u2029", "\x00", "0", "1",
                "9", ".", "_", "-", "+", "e", "x", "\u00e9"]


def _texts(max_len=3):
    import itertools
    for n in range(1, max_len + 1):
        for chars in itertools.product(_INTERESTING, repeat=n):
            yield "".join(chars)


def test_scalar_substring_tests_decide_as_their_patterns():
    import re
    from kubectl_inject.goyaml import scalar
    patterns = {name: re.compile(p) for name, p in _REFERENCE_PATTERNS.items()}
    checked = 0
    for s in _texts():
        want = {name: p.search(s) is not None for name, p in patterns.items()}
        assert scalar._has_break(s) == want["_has_break"], repr(s)
        assert scalar._has_inner_indicator(s) == want["_has_inner_indicator"], repr(s)
        assert scalar._contains_any(s, scalar._BREAK_SPACE) == want["break_space"], repr(s)
        assert scalar._contains_any(s, scalar._SPACE_BREAK) == want["space_break"], repr(s)
        checked += 1
    assert checked == sum(len(_INTERESTING) ** n for n in (1, 2, 3))


def test_resolver_shortcuts_decide_as_its_patterns():
    """The plain-decimal shortcut of _parse_int and the character pre-checks in front of the
    float and base-60 patterns give what the patterns alone give."""
    from kubectl_inject.goyaml import resolve

    def parse_int_by_pattern(text):
        m = resolve._GO_INT.match(text)
        if m is None:
            return None
        v = resolve.parse_int(text)
        return v if resolve._in_range(v, m.group(1)) else None

    numbers = ["0", "1", "7", "8", "9", "00", "07", "08", "10", "080", "18446744073709551615",
               "18446744073709551616", "9223372036854775807", "9223372036854775808", "\u0661",
               "0x1F", "-0x1f", "0b101", "0o17", "+12", "-9223372036854775808", "1.30.4", "1e3"]
    for text in numbers:
        assert resolve._parse_int(text) == parse_int_by_pattern(text), text
    for s in _texts(3):
        for text in (s, "1" + s, "1:" + s, "0x" + s):
            assert resolve._parse_int(text) == parse_int_by_pattern(text), text
            assert resolve._could_be_float(text) or not resolve._YAML_STYLE_FLOAT.match(text), text
            if not resolve._made_of(text, resolve._BASE60_CHARS):
                assert not resolve._BASE60.match(text), text
