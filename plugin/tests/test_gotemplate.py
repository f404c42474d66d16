"""Go text/template semantics of kubectl_inject.gotemplate (expected values are Go's output)."""
from __future__ import annotations

import glob
import os

import pytest
import yaml

from kubectl_inject import gotemplate as gt
from kubectl_inject.gostd.strconv import format_float
from kubectl_inject.gostd.values import MISSING, NilPointer, NilPtr, NoSuchField, StringMap
from kubectl_inject.gotemplate import ExecError, ParseError, Template, TemplateError

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared")
GOLDEN_INPUTS = os.path.join(SHARED, "istio-golden", "1.22.0", "inputs")


def run(text, data=None, funcs=None, name="t", missingkey="default"):
    return Template(name, funcs=funcs, missingkey=missingkey).parse(text).execute(data)


def err(text, data=None, funcs=None, name="t", missingkey="default"):
    with pytest.raises(TemplateError) as info:
        run(text, data, funcs, name, missingkey)
    return str(info.value)


class FakeStruct:
    """A small Go struct for the GoStruct protocol: fields A (int) and Inner (*FakeStruct)."""

    __go_type__ = "*main.T"

    def __init__(self, a=1, inner=None, tags=None):
        self._fields = {"A": a, "Inner": inner if inner is not None else NilPtr("*main.T"),
                        "Tags": StringMap(tags or {})}

    def __go_field__(self, name):
        try:
            return self._fields[name]
        except KeyError:
            raise NoSuchField(name) from None

    def __go_method__(self, name):
        if name == "Double":
            return lambda: self._fields["A"] * 2
        if name == "Add":
            return lambda x, y: self._fields["A"] + x + y
        if name == "GetInner":
            return lambda: self._fields["Inner"]
        if name == "Fail":
            def fail():
                raise ValueError("boom")
            return fail
        return None

    def __go_str__(self):
        return "{%d}" % self._fields["A"]


# --- text, trimming, comments ---------------------------------------------------------------

def test_plain_text_and_trim_markers():
    assert run("a  {{- 1 -}}  b") == "a1b"
    assert run("a \n\t{{- 1 }} \n b") == "a1 \n b"
    assert run("a {{ 1 -}}\n\n  b") == "a 1b"
    # "-" without a following space is a negative number, not a trim marker
    assert run("a {{-3}} b") == "a -3 b"


def test_comments():
    assert run("a{{/* comment */}}b") == "ab"
    assert run("a {{- /* trimmed */ -}} b") == "ab"
    assert run("x{{/* multi\nline */}}y") == "xy"
    assert err("{{/* open") == "template: t:1: unclosed comment"


def test_literals():
    assert run("{{ `raw\\n` }}|{{ \"a\\tb\\u00e9\" }}|{{ 'a' }}|{{ 0x1F }}|{{ 017 }}|{{ 0o17 }}") \
        == "raw\\n|a\tbé|97|31|15|15"
    assert run("{{ 1_000 }} {{ 0b101 }} {{ 1e3 }} {{ -2.5 }} {{ true }} {{ false }}") \
        == "1000 5 1000 -2.5 true false"


def test_float_printing_matches_go_percent_v():
    assert run("{{ .A }} {{ .B }} {{ .C }} {{ .D }} {{ .E }} {{ .F }}",
               {"A": 15020.0, "B": 1e6, "C": 0.5, "D": 123456789.0, "E": 1e-5, "F": 100000.0}) \
        == "15020 1e+06 0.5 1.23456789e+08 1e-05 100000"
    assert format_float(1e21) == "1e+21"
    assert format_float(-0.0001) == "-0.0001"


def test_value_printing():
    data = {"M": {"b": 2, "a": [1, "x"]}, "L": ["a", "b"], "N": None, "T": True, "E": {}}
    assert run("{{ .M }}|{{ .L }}|{{ .N }}|{{ .T }}|{{ .E }}|{{ .Missing }}", data) \
        == "map[a:[1 x] b:2]|[a b]|<no value>|true|map[]|<no value>"
    # a missing value passed to a function is a nil interface
    assert run("{{ print nil }}|{{ print .M.a }}|{{ print .L }}", {"L": []}) == "<nil>|<nil>|[]"


# --- pipelines, variables ---------------------------------------------------------------------

def test_pipelines_and_parentheses():
    assert run('{{ "x" | printf "%s-%s" "a" }}') == "a-x"
    assert run('{{ (printf "%d" 5) | len }}') == "1"
    assert run("{{ (index .L 1).Name }}", {"L": [{"Name": "a"}, {"Name": "b"}]}) == "b"


def test_variables_and_scoping():
    assert run("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}") == "2"
    assert run("{{ $x := 1 }}{{ if true }}{{ $x := 3 }}{{ $x }}{{ end }}{{ $x }}") == "31"
    assert run("{{ $.A }}{{ with .B }}{{ $.A }}{{ . }}{{ end }}", {"A": "r", "B": "b"}) == "rrb"
    assert err("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}") == 'template: t:1: undefined variable "$y"'
    assert err("{{ $a, $b := 1 }}") == "template: t:1: too many declarations in command"


def test_fields_on_maps_and_missingkey_options():
    data = {"A": {"B": {"C": "deep"}}, "S": StringMap({"k": "v"})}
    assert run("{{ .A.B.C }}", data) == "deep"
    assert run("{{ .A.X.Y }}", data) == "<no value>"
    assert run("{{ .A.X }}", data, missingkey="zero") == "<no value>"  # interface{} zero is nil
    assert run("{{ .S.nope }}|{{ .S.k }}", data, missingkey="zero") == "|v"
    assert err("{{ .A.X }}", data, missingkey="error") == \
        'template: t:1:5: executing "t" at <.A.X>: map has no entry for key "X"'
    assert err("{{ .A.X.Y }}", data, missingkey="error") == \
        'template: t:1:5: executing "t" at <.A.X.Y>: map has no entry for key "X"'


def test_nil_values_in_field_chains():
    assert err("{{ .A.B }}", {"A": None}) == \
        'template: t:1:5: executing "t" at <.A.B>: nil pointer evaluating interface {}.B'
    # a whole nil data root behaves like a missing key
    assert run("{{ .A.B }}", None) == "<no value>"


# --- control structures ----------------------------------------------------------------------

def test_if_else_if_else():
    tpl = "{{ if eq .A 1 }}one{{ else if eq .A 2 }}two{{ else }}many{{ end }}"
    assert [run(tpl, {"A": a}) for a in (1, 2, 3)] == ["one", "two", "many"]
    assert run("{{ if .L }}y{{ else }}n{{ end }}", {"L": []}) == "n"
    assert run("{{ if 0.0 }}y{{ else }}n{{ end }}{{ if \"\" }}y{{ else }}n{{ end }}") == "nn"


def test_with_else_with():
    tpl = "{{ with .X }}x{{ . }}{{ else with .Y }}y{{ . }}{{ else }}none{{ end }}"
    assert run(tpl, {"X": 1}) == "x1"
    assert run(tpl, {"Y": 2}) == "y2"
    assert run(tpl, {}) == "none"


def test_range_forms():
    assert run("{{ range .L }}<{{ . }}>{{ end }}", {"L": ["a", "b"]}) == "<a><b>"
    assert run("{{ range $i, $v := .L }}{{ $i }}={{ $v }};{{ end }}", {"L": ["a", "b"]}) == "0=a;1=b;"
    assert run("{{ range $v := .L }}{{ $v }}{{ end }}", {"L": [3, 4]}) == "34"
    assert run("{{ range $k, $v := .M }}{{ $k }}:{{ $v }},{{ end }}", {"M": {"b": 2, "a": 1, "c": 3}}) \
        == "a:1,b:2,c:3,"
    assert run("{{ range .L }}x{{ else }}empty{{ end }}", {"L": []}) == "empty"
    assert run("{{ range .Missing }}x{{ else }}empty{{ end }}", {}) == "empty"
    assert run("{{ range 3 }}{{ . }}{{ end }}") == "012"
    assert run("{{ range $i := 2 }}{{ $i }}{{ end }}") == "01"


def test_range_break_continue():
    tpl = ("{{ range $i, $e := .L }}{{ if eq $i 1 }}{{ continue }}{{ end }}"
           "{{ if eq $i 3 }}{{ break }}{{ end }}{{ $e }}{{ end }}")
    assert run(tpl, {"L": ["a", "b", "c", "d", "e"]}) == "ac"
    assert err("{{ break }}") == "template: t:1: {{break}} outside {{range}}"


def test_range_resets_variables_each_iteration():
    tpl = "{{ $n := 0 }}{{ range .L }}{{ $n = . }}{{ end }}{{ $n }}"
    assert run(tpl, {"L": [1, 2, 3]}) == "3"


def test_define_template_block():
    tpl = '{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" 5 }}{{ template "x" }}{{ block "b" .A }}B{{ . }}{{ end }}'
    assert run(tpl, {"A": "a"}) == "[5][<no value>]Ba"
    t = Template("main").parse('{{ define "a" }}A{{ . }}{{ end }}main')
    assert t.execute_template("a", 1) == "A1"
    assert t.lookup("a") is not None and t.lookup("zzz") is None
    assert err('{{ template "nope" }}') == \
        'template: t:1:12: executing "t" at <{{template "nope"}}>: template "nope" not defined'


def test_defined_template_errors_name_the_callee():
    text = '{{ define "inner" }}\n  {{ .X.Y }}{{ end }}{{ template "inner" .A }}'
    assert err(text, {"A": {"X": None}}, name="outer") == \
        'template: outer:2:7: executing "inner" at <.X.Y>: nil pointer evaluating interface {}.Y'


# --- builtins ----------------------------------------------------------------------------------

def test_and_or_short_circuit():
    calls = []

    def boom():
        calls.append(1)
        raise RuntimeError("must not be called")

    funcs = {"boom": boom}
    assert run("{{ or 1 boom }}|{{ and 0 boom }}", funcs=funcs) == "1|0"
    assert calls == []
    assert run('{{ or 0 "" "x" }}|{{ and 1 "y" }}|{{ or .A .B }}', {"B": "b"}) == "x|y|b"


def test_not_len_index_slice():
    data = {"L": [1, 2, 3], "M": {"k": "v"}, "S": StringMap({"a": "b"})}
    assert run("{{ not 0 }} {{ not .L }} {{ len .L }} {{ len \"héllo\" }}", data) == "true false 3 6"
    assert run('{{ index .L 1 }} {{ index .M "k" }} {{ index .M "x" }}|{{ index .S "x" }}|', data) \
        == "2 v <no value>||"  # map[string]string: missing key reads as ""
    assert run("{{ slice .L 1 }} {{ slice .L 1 2 }} {{ slice \"hello\" 1 3 }}", data) == "[2 3] [2] el"
    assert err("{{ index .L 5 }}", data) == \
        'template: t:1:3: executing "t" at <index .L 5>: error calling index: index out of range: 5'
    assert err("{{ index .Nope 1 }}", data) == \
        'template: t:1:3: executing "t" at <index .Nope 1>: error calling index: index of untyped nil'
    # indexArg lets the length itself through; reflect's Index panics and Go reports the panic
    assert err("{{ index .L 3 }}", data) == \
        'template: t:1:3: executing "t" at <index .L 3>: error calling index: reflect: slice index out of range'
    assert err('{{ index "abc" 3 }}') == \
        'template: t:1:3: executing "t" at <index "abc" 3>: error calling index: reflect: string index out of range'


def test_comparisons():
    assert run("{{ eq 1 2 3 1 }} {{ eq \"a\" \"b\" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} "
               "{{ gt \"b\" \"a\" }} {{ ge 1.5 2.5 }}") == "true false true true true true false"
    # a missing value compares unequal to anything without error
    assert run('{{ eq .Missing "x" }} {{ ne "" .Missing }}', {}) == "false true"
    assert err("{{ eq 1 \"1\" }}") == \
        'template: t:1:3: executing "t" at <eq 1 "1">: error calling eq: incompatible types for comparison'
    assert err("{{ lt 1 1.5 }}").endswith("error calling lt: incompatible types for comparison")


def test_print_family_and_escapers():
    assert run('{{ print "a" 1 2 "b" }}|{{ println 1 "x" }}|') == "a1 2b|1 x\n|"
    assert run('{{ html "<a href=\'x\'>&" }}') == "&lt;a href=&#39;x&#39;&gt;&amp;"
    assert run('{{ js "it\'s <b>" }}') == "it\\'s \\u003Cb\\u003E"
    # JSEscape: DEL is not special; a non-printable rune beyond U+FFFF is fmt's \\u%04X
    assert run("{{ js .S }}", {"S": "a\x7fb\U000E0001c\x01"}) == "a\x7fb\\uE0001c\\u0001"
    assert run('{{ urlquery "a b&c/d" }}') == "a+b%26c%2Fd"


def test_printf_verbs():
    assert run('{{ printf "%s|%d|%q|%v|%t|%x|%X|%o|%b|%c" "s" 42 "q\\n" 1.5 true 255 255 8 5 65 }}') \
        == 's|42|"q\\n"|1.5|true|ff|FF|10|101|A'
    assert run('{{ printf "%5.2f|%-4d|%04d|%e|%g|%.3s|%6s|%-6s|%+d" 3.14159 7 7 1234.5678 0.000012 "abcdef" "ab" "ab" 5 }}') \
        == " 3.14|7   |0007|1.234568e+03|1.2e-05|abc|    ab|ab    |+5"
    assert run('{{ printf "%d %s" "x" 1 }}') == "%!d(string=x) %!s(int=1)"
    assert run('{{ printf "%d" }}|{{ printf "x" 1 }}|{{ printf "%%" }}') == "%!d(MISSING)|x%!(EXTRA int=1)|%"
    assert run('{{ printf "%v %v" .M .L }}', {"M": {"b": 1, "a": 2}, "L": [1, "x"]}) == "map[a:2 b:1] [1 x]"
    assert run('{{ printf "%q" .L }}', {"L": ["a", "b"]}) == '["a" "b"]'


def test_call_builtin():
    assert run("{{ call .F 2 3 }}", {"F": lambda a, b: a * b}) == "6"


# --- functions and methods -------------------------------------------------------------------

def test_user_functions_errors_and_arity():
    def fails(x):
        raise ValueError("bad input %s" % x)

    funcs = {"fails": fails, "two": lambda a, b: a + b, "any": lambda *a: len(a)}
    assert run("{{ two 1 2 }} {{ 2 | two 1 }} {{ any }} {{ any 1 2 3 }}", funcs=funcs) == "3 3 0 3"
    assert err("x\n  {{ fails 7 }}", funcs=funcs) == \
        'template: t:2:5: executing "t" at <fails 7>: error calling fails: bad input 7'
    assert err("{{ two 1 }}", funcs=funcs) == \
        'template: t:1:3: executing "t" at <two>: wrong number of args for two: want 2 got 1'
    assert err("{{ 3 | two 1 2 }}", funcs=funcs) == \
        'template: t:1:7: executing "t" at <two>: wrong number of args for two: want 2 got 3'


def test_missing_values_reach_functions_as_nil():
    seen = []
    funcs = {"probe": lambda v: seen.append(v) or "ok"}
    assert run("{{ probe .Nope }}", {}, funcs=funcs) == "ok"
    assert seen == [None]


def test_declared_go_signatures_are_checked():
    @gt.signature("string", "int")
    def rep(s, n):
        return s * n

    funcs = {"rep": rep}
    assert run('{{ rep "ab" 2 }}', funcs=funcs) == "abab"
    assert err('{{ rep 1 2 }}', funcs=funcs) == \
        'template: t:1:7: executing "t" at <1>: expected string; found 1'
    assert err('{{ rep .S 2 }}', {"S": 1.5}, funcs=funcs) == \
        'template: t:1:7: executing "t" at <.S>: wrong type for value; expected string; got float64'
    assert err('{{ rep .Missing 2 }}', {}, funcs=funcs) == \
        'template: t:1:7: executing "t" at <.Missing>: invalid value; expected string'


def test_struct_protocol_fields_methods_and_errors():
    data = {"T": FakeStruct(a=4, inner=FakeStruct(a=7), tags={"x": "y"})}
    assert run("{{ .T.A }} {{ .T.Double }} {{ .T.Add 1 2 }} {{ .T.Inner.A }} {{ .T.GetInner.Double }}",
               data) == "4 8 7 7 14"
    assert run("{{ .T }} {{ printf \"%v\" .T.Inner }} {{ index .T.Tags \"x\" }}", data) == "{4} {7} y"
    assert err("{{ .T.Nope }}", data) == \
        'template: t:1:5: executing "t" at <.T.Nope>: can\'t evaluate field Nope in type *main.T'
    assert err("{{ .T.Fail }}", data) == \
        'template: t:1:5: executing "t" at <.T.Fail>: error calling Fail: boom'
    nil_inner = {"T": FakeStruct()}
    assert run("{{ if .T.Inner }}set{{ else }}nil{{ end }}", nil_inner) == "nil"
    assert err("{{ .T.Inner.A }}", nil_inner) == \
        'template: t:1:5: executing "t" at <.T.Inner.A>: nil pointer evaluating *main.T.A'
    assert err("{{ .T.A 1 }}", data) == \
        'template: t:1:5: executing "t" at <.T.A>: A has arguments but cannot be invoked as function'


def test_nilptr_prints_like_go():
    assert run("{{ print .P }}|{{ if .P }}t{{ else }}f{{ end }}", {"P": NilPtr("*x.Y")}) == "<nil>|f"


# --- error messages ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("{{ nope }}", 'template: t:1: function "nope" not defined'),
    ("a\n{{ if }}", "template: t:2: missing value for if"),
    ("{{ end }}", "template: t:1: unexpected {{end}}"),
    ("{{ if 1 }}", "template: t:1: unexpected EOF"),
    ("{{ .A", "template: t:1: unclosed action"),
    ("{{ .A\n\n", "template: t:3: unclosed action started at t:1"),
    ("{{ (1 }}", "template: t:1: unclosed left paren"),
    ("{{ 1) }}", "template: t:1: unexpected right paren"),
    ('{{ "abc }}', "template: t:1: unterminated quoted string"),
    ("{{ .A | 3 }}", "template: t:1: non executable command in pipeline stage 2"),
    ("{{ $x }}", 'template: t:1: undefined variable "$x"'),
    ("{{ 3.A }}", "template: t:1: bad number syntax: \"3.A\""),
    ("{{ else }}", "template: t:1: unexpected {{else}}"),
    ("{{ if 1 }}{{ else }}{{ else }}{{ end }}", "template: t:1: expected end; found {{else}}"),
    ('{{ define "a" }}x', "template: t:1: unexpected EOF"),
    ("{{ # }}", "template: t:1: unexpected \"#\" in command"),
    # unicode.IsDigit is category Nd only: a superscript two ends an identifier
    ("{{ a\u00b2 }}", "template: t:1: bad character U+00B2 '\u00b2'"),
    # item.String's len(i.val) > 10 counts bytes: seven runes, twelve bytes get the ellipsis
    ('{{ else "\u00e9\u00e9\u00e9\u00e9\u00e9" }}',
     'template: t:1: unexpected "\\"\u00e9\u00e9\u00e9\u00e9\u00e9\\""... in else'),
])
def test_parse_errors(text, message):
    with pytest.raises(ParseError) as info:
        Template("t").parse(text)
    assert str(info.value) == message


def test_exec_error_location_and_template_name():
    # Go positions a multi-part field at its second part (the parser's chain node)
    text = "line one\nline two {{ .Foo.Bar }}"
    assert err(text, {"Foo": 3}, name="sidecar") == \
        'template: sidecar:2:16: executing "sidecar" at <.Foo.Bar>: can\'t evaluate field Bar in type int'
    assert err("{{ nil }}") == 'template: t:1:3: executing "t" at <nil>: nil is not a command'
    assert err("{{ .A 1 }}", {"A": {}}) == \
        'template: t:1:3: executing "t" at <.A>: A is not a method but has arguments'
    assert err("{{ 1 2 }}") == \
        'template: t:1:3: executing "t" at <1>: can\'t give argument to non-function 1'
    assert isinstance(pytest.raises(ExecError, run, "{{ .A.B }}", {"A": None}).value, TemplateError)


def test_funcs_are_checked_at_parse_time_and_template_sets_are_shared():
    t = Template("a", funcs={"f": lambda: "F"})
    t.parse('{{ define "d" }}{{ f }}{{ end }}{{ template "d" }}')
    assert t.execute() == "F"
    assert t.new("b").parse('{{ template "d" }}!').execute() == "F!"


def test_parse_cached_reuses_templates():
    funcs = {"f": lambda: 1}
    a = gt.parse_cached("x", "{{ f }}", funcs)
    assert gt.parse_cached("x", "{{ f }}", funcs) is a
    assert a.execute() == "1"


def test_missing_sentinel_is_falsy():
    assert not MISSING
    assert gt.is_true(MISSING) == (False, True)
    with pytest.raises(NilPointer):
        NilPtr("*x").__go_field__("A")


# --- Istio's templates -----------------------------------------------------------------------

def _golden_templates():
    out = []
    for path in sorted(glob.glob(os.path.join(GOLDEN_INPUTS, "*.template.gen.yaml"))):
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        for name, text in (doc.get("templates") or {}).items():
            out.append((os.path.basename(path), name, text))
    return out


@pytest.mark.skipif(not os.path.isdir(GOLDEN_INPUTS),
                    reason="Istio golden data absent: expected <repo>/../shared/istio-golden/1.22.0")
def test_every_istio_golden_template_parses():
    from kubectl_inject.templatefuncs import istio_template_funcs
    funcs = istio_template_funcs(env={})
    templates = _golden_templates()
    assert len(templates) > 50
    for fname, name, text in templates:
        Template(name, funcs=funcs).parse(text)  # raises on any syntax error
