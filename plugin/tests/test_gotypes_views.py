"""Template views of typed values, through the project's Go template engine."""
import pytest

from kubectl_inject import gotemplate as gt
from kubectl_inject.gostd.values import NoSuchField
from kubectl_inject.gostd.time import format_duration
from kubectl_inject.gotypes import views
from kubectl_inject.gotypes.views import view

PROXY = "*istio.io/api/mesh/v1alpha1.ProxyConfig"
MESH = "*istio.io/api/mesh/v1alpha1.MeshConfig"
META = "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta"
SPEC = "k8s.io/api/core/v1.PodSpec"


def render(src, **data):
    return gt.Template("t").parse(src).execute(data)


POD = {"metadata": {"name": "web", "annotations": {"a": "b"}, "labels": {"app": "x"}},
       "spec": {"containers": [
           {"name": "c", "image": "nginx", "ports": [{"containerPort": 80}, {"containerPort": 81, "name": "m"}],
            "resources": {"limits": {"cpu": "100m"}},
            "readinessProbe": {"httpGet": {"port": "http"}}}],
           "serviceAccountName": "sa"}}


def test_fields_by_go_name():
    out = render("{{ .ObjectMeta.Name }} {{ index .ObjectMeta.Annotations `a` }} {{ .Spec.ServiceAccountName }}"
                 "{{ range $c := .Spec.Containers }} {{ $c.Name }}{{ range $p := $c.Ports }} {{ $p.ContainerPort }}"
                 "{{ end }}{{ end }}",
                 ObjectMeta=view(POD["metadata"], META), Spec=view(POD["spec"], SPEC))
    assert out == "web b sa c 80 81"


def test_missing_field_and_methods():
    md = view(POD["metadata"], META)
    with pytest.raises(NoSuchField):
        md.__go_field__("Nope")
    assert md.__go_method__("GetName")() == "web"
    assert render("{{ .M.GetLabels.app }}", M=md) == "x"


def test_nil_pointer_zero_struct_and_nil_collections():
    c = view(POD["spec"]["containers"][0], "k8s.io/api/core/v1.Container")
    assert render("{{ if .C.SecurityContext }}y{{ else }}n{{ end }} {{ .C.SecurityContext }}", C=c) == "n <nil>"
    # a non-pointer struct field that is absent is the zero struct (true in Go templates)
    assert render("{{ if .C.Lifecycle }}{{ end }}{{ if .C.Resources.Requests }}r{{ else }}empty{{ end }}", C=c) == "empty"
    assert render("{{ len .C.Env }} {{ if .C.Env }}y{{ else }}n{{ end }}", C=c) == "0 n"
    assert render("{{ .C.TerminationMessagePath }}|{{ .C.Stdin }}", C=c) == "|false"


def test_special_types_print_with_string_methods():
    c = view(POD["spec"]["containers"][0], "k8s.io/api/core/v1.Container")
    assert render("{{ .C.ReadinessProbe.HTTPGet.Port }} {{ index .C.Resources.Limits `cpu` }}", C=c) == "http 100m"
    md = view({}, META)
    assert render("{{ .M.CreationTimestamp }}", M=md) == "0001-01-01 00:00:00 +0000 UTC"


def test_proto_enums_wrappers_getters():
    pc = view({"interceptionMode": "TPROXY", "concurrency": 2, "holdApplicationUntilProxyStarts": True,
               "proxyMetadata": {"K": "V"}, "drainDuration": "45s", "statusPort": 15020}, PROXY)
    assert render("{{ .P.InterceptionMode }} {{ .P.InterceptionMode.String }} {{ .P.Concurrency.GetValue }} "
                  "{{ .P.HoldApplicationUntilProxyStarts.GetValue }} {{ .P.ProxyMetadata.K }} {{ .P.StatusPort }}",
                  P=pc) == "TPROXY TPROXY 2 true V 15020"
    assert isinstance(pc.__go_field__("StatusPort"), int)
    assert pc.__go_field__("DrainDuration").__go_duration__() == 45_000_000_000
    assert pc.__go_field__("DrainDuration").__go_method__("AsDuration")().__go_str__() == "45s"


def test_nil_safe_proto_getters():
    pc = view({}, PROXY)
    assert render("{{ .P.GetTracing.GetTlsSettings.GetCaCertificates }}|{{ .P.Concurrency.GetValue }}|"
                  "{{ .P.InterceptionMode }}|{{ if .P.Tracing }}t{{ end }}", P=pc) == "|0|REDIRECT|"
    assert view(None, PROXY).__go_truth__() is False


def test_oneof_members():
    pc = view({"serviceCluster": "svc"}, PROXY)
    with pytest.raises(NoSuchField):
        pc.__go_field__("ServiceCluster")
    assert pc.__go_method__("GetServiceCluster")() == "svc"
    assert pc.__go_field__("ClusterName").__go_field__("ServiceCluster") == "svc"
    assert view({}, PROXY).__go_field__("ClusterName") is None


def test_json_forms():
    c = view({"image": "i", "name": "c"}, "k8s.io/api/core/v1.Container")
    assert list(c.__go_json__()) == ["name", "image", "resources"]
    mc = view({"trustDomain": "cluster.local"}, MESH)
    assert render("{{ .M.TrustDomain }}", M=mc) == "cluster.local"
    pc = view({"concurrency": 2}, PROXY, proto_json=lambda: "{}")
    assert pc.__proto_json__() == "{}"


def test_go_duration_format():
    f = format_duration
    assert [f(0), f(1500), f(2_000_000), f(90 * 10**9), f(3600 * 10**9 + 1), f(-10**9)] == \
        ["0s", "1.5µs", "2ms", "1m30s", "1h0m0.000000001s", "-1s"]
