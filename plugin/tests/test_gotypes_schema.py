"""The generated Go type schema and its lookups."""
from kubectl_inject.gotypes import schema

CONTAINER = "k8s.io/api/core/v1.Container"
POD = "k8s.io/api/core/v1.Pod"


def test_modules_are_istio_1_22_pins():
    m = schema.modules()
    assert m["k8s.io/api"] == "v0.30.0"
    assert m["k8s.io/apimachinery"] == "v0.30.0"
    assert m["istio.io/api"] == "v1.22.0"


def test_kinds_cover_the_injector_scheme():
    assert set(schema.kinds()) == {
        "v1/Pod", "v1/ReplicationController", "v1/List", "apps/v1/Deployment", "apps/v1/DaemonSet",
        "apps/v1/ReplicaSet", "apps/v1/StatefulSet", "batch/v1/Job", "batch/v1/CronJob",
        "apps.openshift.io/v1/DeploymentConfig",
    }


def test_field_info_patch_tags():
    f = schema.field_info(CONTAINER, "ports")
    assert (f.go, f.type, f.patch_strategy, f.patch_merge_key) == (
        "Ports", "[]k8s.io/api/core/v1.ContainerPort", "merge", "containerPort")
    f = schema.field_info("*k8s.io/api/core/v1.PodSpec", "containers")
    assert (f.patch_strategy, f.patch_merge_key, f.omitempty) == ("merge", "name", False)
    assert schema.field_info(CONTAINER, "nope") is None
    assert schema.field_info("string", "x") is None


def test_inline_fields_are_promoted():
    f = schema.field_info(POD, "apiVersion")
    assert f.path == ("TypeMeta", "APIVersion") and f.type == "string"
    assert [x.json for x in schema.struct_fields(POD)] == ["kind", "apiVersion", "metadata", "spec", "status"]
    assert schema.field_by_go_name(POD, "Kind").json == "kind"


def test_go_names_and_resolution():
    assert schema.field_by_go_name(CONTAINER, "ReadinessProbe").type == "*k8s.io/api/core/v1.Probe"
    r = schema.resolve("map[string]k8s.io/api/core/v1.Protocol")
    assert r.kind == "map" and r.elem.kind == "basic" and r.elem.underlying == "string"
    assert schema.unwrap("k8s.io/api/core/v1.ResourceList") == \
        "map[string]k8s.io/apimachinery/pkg/api/resource.Quantity"
    assert schema.resolve("k8s.io/apimachinery/pkg/api/resource.Quantity").kind == "special"


def test_proto_schema():
    pc = "istio.io/api/mesh/v1alpha1.ProxyConfig"
    f = schema.field_by_go_name(pc, "ServiceCluster")
    assert (f.json, f.oneof, f.proto) == ("serviceCluster", "ClusterName", "service_cluster")
    e = schema.type_info("istio.io/api/mesh/v1alpha1.ProxyConfig_InboundInterceptionMode")
    assert e["kind"] == "enum" and e["values"] == {"0": "REDIRECT", "1": "TPROXY", "2": "NONE"}
    assert schema.field_info(pc, "concurrency").type == "*google.golang.org/protobuf/types/known/wrapperspb.Int32Value"


def test_go_type_string():
    assert schema.go_type_string("[]k8s.io/api/core/v1.Container") == "[]v1.Container"
    assert schema.go_type_string("*k8s.io/api/core/v1.Probe") == "*v1.Probe"
    assert schema.go_type_string("[]byte") == "[]uint8"
    assert schema.go_type_string("interface{}") == "interface {}"
