"""Istio's injection template functions (sprig + InjectionFuncmap), checked against Go's output."""
from __future__ import annotations

import pytest

from kubectl_inject.gostd.json import marshal as go_json
from kubectl_inject.gostd.values import NilPtr, NoSuchField, StringMap
from kubectl_inject.gotemplate import Template, TemplateError
from kubectl_inject.templatefuncs import istio_funcs, istio_template_funcs, sprig_funcs, to_yaml

FUNCS = istio_template_funcs(env={"ENABLE_NATIVE_SIDECARS": "true", "EMPTY": ""})


def run(text, data=None):
    return Template("t", funcs=FUNCS).parse(text).execute(data)


class Meta:
    """An ObjectMeta-like struct (GoStruct protocol)."""

    __go_type__ = "v1.ObjectMeta"

    def __init__(self, annotations=None, labels=None):
        self.f = {"Annotations": StringMap(annotations or {}), "Labels": StringMap(labels or {})}

    def __go_field__(self, name):
        if name not in self.f:
            raise NoSuchField(name)
        return self.f[name]

    def __go_method__(self, name):
        return None


class Port:
    def __init__(self, name, port, proto="TCP"):
        self.name, self.port, self.proto = name, port, proto

    def __go_field__(self, name):
        return {"Name": self.name, "ContainerPort": self.port, "Protocol": self.proto}[name]

    def __go_method__(self, name):
        return None

    def __go_json__(self):
        # encoding/json of corev1.ContainerPort: field order, omitempty
        out = {}
        if self.name:
            out["name"] = self.name
        out["containerPort"] = self.port
        if self.proto:
            out["protocol"] = self.proto
        return out


# --- JSON -------------------------------------------------------------------------------------

def test_go_json_matches_encoding_json():
    assert go_json({"b": 1, "a": [True, None, 1.5, 15020.0]}) == '{"a":[true,null,1.5,15020],"b":1}'
    assert go_json("<a&b>\u2028") == '"\\u003ca\\u0026b\\u003e\\u2028"'
    assert go_json("tab\t\x01\b\f") == '"tab\\t\\u0001\\b\\f"'
    assert go_json(1e21) == "1e+21"
    assert go_json(1e-7) == "1e-7"
    assert go_json(0.000001) == "0.000001"
    assert go_json({}) == "{}" and go_json([]) == "[]"
    assert go_json({"a": [1]}, indent="  ") == '{\n  "a": [\n    1\n  ]\n}'
    assert go_json("<", escape_html=False) == '"<"'


def test_struct_to_json_uses_go_json_protocol_order():
    assert run("{{ structToJSON .P }}", {"P": Port("http", 80)}) == '{"name":"http","containerPort":80,"protocol":"TCP"}'
    assert run("{{ structToJSON .Nope }}", {}) == "{}"


def test_to_json_and_to_json_map():
    assert run("{{ toJSON .A }}|{{ toJSON .Nope }}", {"A": StringMap({"z": "1", "a": "<"})}) \
        == '{"a":"\\u003c","z":"1"}|{}'
    assert run('{{ toJsonMap (strdict "b" "2" "a" "1") (strdict "b" "3") }}') == '{"a":"1","b":"3"}'
    assert run("{{ toJsonMap }}") == "null"
    assert run('{{ toJson (dict "k" 1.5 "j" (list 1 "x")) }}') == '{"j":[1,"x"],"k":1.5}'


def test_from_json_numbers_are_float64():
    assert run('{{ $m := fromJSON `{"a": 1, "b": [2, "x"]}` }}{{ $m.a }} {{ index $m.b 0 }} {{ $m }}') \
        == "1 2 map[a:1 b:[2 x]]"
    assert run("{{ fromJSON `not json` }}") == "{}"
    m = FUNCS["fromJSON"]('{"n": 3}')
    assert isinstance(m["n"], float)


def test_proto_to_json_takes_text_or_value():
    class TextProto:
        def __proto_json__(self):
            return '{"drainDuration":"23s"}'

    class ValueProto:
        def __proto_json__(self):
            return {"z": "<", "a": 1}  # insertion (proto field) order is kept

    class Cleaned:
        def __proto_clean__(self):
            return None

    assert run("{{ protoToJSON .A }}|{{ protoToJSON .B }}|{{ protoToJSON .C }}|{{ protoToJSON .D }}",
               {"A": TextProto(), "B": ValueProto(), "C": Cleaned(), "D": NilPtr("*x")}) \
        == '{"drainDuration":"23s"}|{"z":"\\u003c","a":1}|{}|{}'


# --- YAML -------------------------------------------------------------------------------------

def test_to_yaml_goes_through_json_like_sigs_yaml():
    res = {"limits": {"memory": "1Gi", "cpu": 2.0}, "requests": {"cpu": "100m"}}
    assert run("{{ toYaml .R }}", {"R": res}) == "limits:\n  cpu: 2\n  memory: 1Gi\nrequests:\n  cpu: 100m\n"
    assert run("{{ toYaml .R | indent 4 }}", {"R": {"a": "b", "c": "d"}}) == "a: b\n    c: d\n    "
    assert run("{{ toYaml .L }}", {"L": [{"name": "x", "port": 1}]}) == "- name: x\n  port: 1\n"


def test_to_yaml_quotes_yaml11_booleans():
    # "true" and "y" are YAML 1.1 booleans for go-yaml v2, so they are quoted
    assert to_yaml({"b": [1, {"x": "v", "y": "y"}], "a": "true"}) == \
        'a: "true"\nb:\n- 1\n- x: v\n  "y": "y"\n'


# --- Istio functions --------------------------------------------------------------------------

def test_annotation_and_isset():
    meta = Meta(annotations={"a": "1"})
    data = {"M": meta, "D": {"annotations": {"a": "2"}}}
    assert run('{{ annotation .M "a" "d" }} {{ annotation .M "x" 15020.0 }} {{ annotation .M "x" true }}', data) \
        == "1 15020 true"
    assert run('{{ annotation .D "a" "d" }}', data) == "2"
    assert run('{{ isset .M.Annotations "a" }} {{ isset .M.Annotations "b" }} {{ isset .Nope "a" }}', data) \
        == "true false false"


def test_value_or_default_only_replaces_empty_string_and_nil():
    assert run('{{ valueOrDefault .A "d" }}|{{ valueOrDefault .B "d" }}|{{ valueOrDefault .C "d" }}|'
               '{{ valueOrDefault .Nope "d" }}', {"A": "", "B": 0, "C": False}) == "d|0|false|d"


def test_exclude_inbound_port():
    assert run('{{ excludeInboundPort 15020 "" }}|{{ excludeInboundPort "15020" "80, 81" }}|'
               '{{ excludeInboundPort 81 "80,81" }}|{{ excludeInboundPort 0 "x" }}|'
               '{{ excludeInboundPort 15020.0 "a,,b" }}') == "15020|80,81,15020|80,81|x|a,b,15020"


def test_container_ports():
    containers = [
        {"name": "app", "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}]},
        {"name": "istio-proxy", "ports": [{"containerPort": 15090, "protocol": "TCP"}]},
    ]
    assert run("{{ includeInboundPorts .C }}|{{ applicationPorts .C }}", {"C": containers}) \
        == "80,15090|80"

    class C:
        def __init__(self, name, ports):
            self.d = {"Name": name, "Ports": ports}

        def __go_field__(self, n):
            return self.d[n]

        def __go_method__(self, n):
            return None

    objs = [C("a", [Port("", 8080), Port("s", 9, "SCTP")])]
    assert run("{{ includeInboundPorts .C }}", {"C": objs}) == "8080"


def test_append_multus_network():
    f = FUNCS["appendMultusNetwork"]
    assert f("", "istio-cni") == "istio-cni"
    assert f("a, b", "istio-cni") == "a, b, istio-cni"
    assert f("a, istio-cni", "istio-cni") == "a, istio-cni"
    assert f('[{"name": "a"}]', "istio-cni") == '[{"name": "a"}, {"name": "istio-cni"}]'
    assert f('[{"name": "istio-cni"}]', "istio-cni") == '[{"name": "istio-cni"}]'
    assert f("[broken]", "istio-cni") == "[broken]"  # has "]" but is not JSON: unchanged
    assert f("[broken", "istio-cni") == "[broken, istio-cni"  # no "]": a plain list


def test_env_uses_the_given_mapping():
    assert run('{{ env "ENABLE_NATIVE_SIDECARS" "false" }} {{ env "EMPTY" "d" }} {{ env "UNSET" "d" }}') \
        == "true d d"


def test_directory_to_lower_contains_kubevirt():
    assert run('{{ directory "/etc/certs/root.pem" }}|{{ directory "file" }}|{{ toLower "ABc" }}|'
               '{{ contains "/" "a/b" }}|{{ kubevirtInterfaces "net1" }}') == "/etc/certs/||abc|true|net1"


def test_omit_strdict_merge_maps():
    data = {"A": StringMap({"a": "1", "b": "2", "c": "3"})}
    assert run('{{ omit .A "b" "zz" }}|{{ strdict "k" "v" "odd" }}|{{ mergeMaps .A (strdict "a" "9") }}',
               data) == "map[a:1 c:3]|map[k:v odd:]|map[a:9 b:2 c:3]"
    # strdict gives map[string]string: a missing key indexes as ""
    assert run('[{{ index (strdict "a" "b") "zz" }}]') == "[]"


def test_omit_nil():
    assert FUNCS["omitNil"]({"a": None, "b": {"c": None, "d": 1}, "e": [None, {"f": None}]}) \
        == {"b": {"d": 1}, "e": [None, {}]}


def test_format_duration():
    class Dur:
        def __go_duration__(self):
            return 90_500_000_000

    class PbDur:
        def __go_method__(self, name):
            return {"GetSeconds": lambda: 5, "GetNanos": lambda: 0}.get(name)

    assert run("{{ formatDuration .A }}|{{ formatDuration .B }}|{{ formatDuration .N }}",
               {"A": Dur(), "B": PbDur()}) == "1m30.5s|5s|0s"
    assert FUNCS["formatDuration"]({"seconds": 0, "nanos": 1500}) == "1.5µs"
    assert FUNCS["formatDuration"]({"seconds": 3 * 3600 + 1, "nanos": 0}) == "3h0m1s"


def test_istio_indent_vs_sprig_nindent():
    assert run('{{ indent 2 "a\\nb" }}|{{ nindent 2 "a\\nb" }}') == "a\n  b|\n  a\n  b"


# --- sprig ------------------------------------------------------------------------------------

def test_default_and_empty():
    assert run('{{ .A | default "x" }}|{{ .B | default "x" }}|{{ .C | default "x" }}|{{ default "x" .D }}|'
               '{{ .Nope | default "x" }}', {"A": "", "B": "b", "C": 0, "D": []}) == "x|b|x|x|x"
    assert run("{{ empty .A }} {{ empty .B }} {{ empty .Nope }}", {"A": {}, "B": " "}) == "true false true"
    assert run('{{ coalesce "" 0 "z" }} {{ ternary "y" "n" true }}') == "z y"


def test_string_functions():
    assert run('{{ quote "a\\"b" 1 .Nope }}|{{ squote "x" }}|{{ "abcdef" | trunc 3 }}|{{ trunc -2 "abcdef" }}|'
               '{{ trimSuffix "-" "name-" }}|{{ trimPrefix "v" "v1" }}|{{ trim "  x \\n" }}|'
               '{{ upper "a" }}{{ lower "B" }}|{{ replace "a" "b" "aXa" }}|{{ hasPrefix "ab" "abc" }}|'
               '{{ hasSuffix "bc" "abc" }}|{{ repeat 2 "ab" }}|{{ nospace "a b\\tc" }}|{{ title "hello world" }}|'
               '{{ substr 1 3 "hello" }}|{{ cat "a" 1 .Nope "b" }}|{{ toString 15020.0 }}',
               {}) == ('"a\\"b" "1"|\'x\'|abc|ef|name|1|x|Ab|bXb|true|true|abab|abc|Hello World|el|a 1 b|15020')


def test_list_functions():
    assert run('{{ $l := list }}{{ $l = append $l "a" }}{{ $l = append $l "b" }}{{ $l | join "," }}|'
               '{{ join "-" (list 1 nil "x") }}|{{ first (list 3 4) }}|{{ last (list 3 4) }}|'
               '{{ rest (list 3 4) }}|{{ initial (list 3 4) }}|{{ reverse (list 1 2) }}|'
               '{{ uniq (list 1 1 2) }}|{{ compact (list "" "a" 0) }}|{{ has 2 (list 1 2) }}|'
               '{{ without (list 1 2 3) 2 }}|{{ splitList "," "a,b" }}|{{ sortAlpha (list "b" "a") }}|'
               '{{ first (list) }}|{{ prepend (list 2) 1 }}|{{ concat (list 1) (list 2) }}|{{ until 3 }}') \
        == "a,b|1-x|3|4|[4]|[3]|[2 1]|[1 2]|[a]|true|[1 3]|[a b]|[a b]|<no value>|[1 2]|[1 2]|[0 1 2]"
    assert run('{{ len (list 1 2) }} {{ $x := list "p" }}{{ ge (len $x) 1 }}') == "2 true"


def test_dict_functions():
    assert run('{{ $d := dict "b" 1 "a" "x" }}{{ $d }}|{{ get $d "a" }}|{{ hasKey $d "b" }}|'
               '{{ keys $d | sortAlpha }}|{{ pick $d "a" }}|{{ $_ := set $d "c" 3 }}{{ $d.c }}|'
               '{{ unset $d "c" }}|{{ dict "odd" }}|{{ dig "x" "y" "dflt" (dict "x" (dict "y" 5)) }}') \
        == "map[a:x b:1]|x|true|[a b]|map[a:x]|3|map[a:x b:1]|map[odd:]|5"
    assert run('{{ merge (dict "a" 1) (dict "a" 2 "b" 3) }}|{{ mergeOverwrite (dict "a" 1) (dict "a" 2) }}') \
        == "map[a:1 b:3]|map[a:2]"


def test_math_and_conversions():
    assert run('{{ add 1 2 3 }} {{ add1 1 }} {{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ div -7 2 }} '
               '{{ mod -7 2 }} {{ max 1 9 3 }} {{ min 4 2 }} {{ add "2" 1.9 }} {{ atoi "42" }} '
               '{{ int "7" }} {{ float64 "1.5" }} {{ addf 1 1.5 }} {{ floor 1.7 }} {{ ceil 1.2 }} '
               '{{ round 1.2345 2 }}') \
        == "6 2 -2 24 3 -3 -1 9 2 3 42 7 1.5 2.5 1 2 1.23"
    with pytest.raises(TemplateError) as info:
        run("{{ div 1 0 }}")
    assert "error calling div: runtime error: integer divide by zero" in str(info.value)


def test_encoding_path_regex_type_functions():
    assert run('{{ b64enc "hi" }} {{ b64dec "aGk=" }} {{ sha256sum "a" | trunc 8 }} {{ adler32sum "a" }} '
               '{{ base "/a/b.txt" }} {{ dir "/a/b.txt" }} {{ ext "b.tar.gz" }} {{ clean "a//b/../c" }} '
               '{{ regexMatch "^a+$" "aaa" }} {{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} '
               '{{ regexFindAll "[0-9]" "a1b2c3" 2 }} {{ typeOf 1.5 }} {{ kindOf (list) }} {{ kindIs "map" (dict) }}') \
        == "aGk= hi ca978112 6422626 b.txt /a .gz a/c true -W-xxW- [1 2] float64 slice true"


def test_fail_and_wrong_types_report_errors():
    with pytest.raises(TemplateError) as info:
        run('{{ fail "stop here" }}')
    assert str(info.value) == 'template: t:1:3: executing "t" at <fail "stop here">: error calling fail: stop here'
    with pytest.raises(TemplateError) as info:
        run("{{ contains \"/\" .Image }}", {})
    assert str(info.value) == \
        'template: t:1:16: executing "t" at <.Image>: invalid value; expected string'


def test_istio_funcs_override_sprig():
    funcs = istio_template_funcs()
    istio_only = istio_funcs()
    assert funcs["indent"] is istio_only["indent"]
    assert funcs["omit"] is istio_only["omit"]
    assert funcs["toYaml"] is istio_only["toYaml"]
    sprig_only = sprig_funcs()
    assert funcs["nindent"] is sprig_only["nindent"]
    assert sprig_only["indent"](2, "a\nb") == "  a\n  b"


@pytest.mark.parametrize("name", [
    "annotation", "valueOrDefault", "isset", "default", "quote", "toJSON", "fromJSON", "toYaml",
    "indent", "nindent", "structToJSON", "protoToJSON", "toJsonMap", "mergeMaps", "omit", "strdict",
    "contains", "hasPrefix", "hasSuffix", "splitList", "join", "list", "dict", "includeInboundPorts",
    "excludeInboundPort", "applicationPorts", "appendMultusNetwork", "env", "trimPrefix", "replace",
    "toString", "empty", "first", "lower", "upper", "trim", "sub", "add", "append", "trunc",
    "trimSuffix", "toLower", "directory", "formatDuration", "kubevirtInterfaces", "omitNil",
    "excludeInterfaces",
])
def test_function_map_has(name):
    assert callable(FUNCS[name])
