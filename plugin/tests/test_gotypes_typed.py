"""Go's typed JSON round trip (sigs.k8s.io/yaml + encoding/json) for Kubernetes objects."""
import os

import pytest

from kubectl_inject.gotypes import typed
from kubectl_inject.gotypes.typed import normalize, object_type

POD = "k8s.io/api/core/v1.Pod"
DEPLOYMENT = "k8s.io/api/apps/v1.Deployment"
CONTAINER = "k8s.io/api/core/v1.Container"


def test_zero_values_and_unknown_fields():
    out = normalize({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "bogus": 1,
                     "spec": {"containers": [{"name": "c", "image": "i", "unknown": "x"}]}}, POD)
    assert out == {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "p", "creationTimestamp": None},
                   "spec": {"containers": [{"name": "c", "image": "i", "resources": {}}]},
                   "status": {}}


def test_deployment_prints_strategy_and_template_zero_structs():
    out = normalize({"kind": "Deployment", "spec": {"template": {"spec": {}}}}, DEPLOYMENT)
    assert out["spec"] == {"selector": None, "strategy": {},
                           "template": {"metadata": {"creationTimestamp": None},
                                        "spec": {"containers": None}}}
    assert out["status"] == {}


def test_omitempty_drops_empty_values_but_not_non_omitempty_ones():
    out = normalize({"name": "", "image": "", "ports": [], "env": None, "stdin": False}, CONTAINER)
    assert out == {"name": "", "resources": {}}
    out = normalize({"name": "c", "command": []}, CONTAINER)
    assert "command" not in out


def test_non_nil_empty_and_nil_slices_without_omitempty():
    spec = "k8s.io/api/core/v1.PodSpec"
    assert normalize({"containers": []}, spec)["containers"] == []
    assert normalize({"containers": None}, spec)["containers"] is None
    assert normalize({}, spec)["containers"] is None


def test_quantities_are_canonical():
    out = normalize({"name": "c", "resources": {"limits": {"cpu": "0.1", "memory": "1024Mi"},
                                                "requests": {"cpu": 1, "memory": 0.5}}}, CONTAINER)
    assert out["resources"] == {"limits": {"cpu": "100m", "memory": "1Gi"},
                                "requests": {"cpu": "1", "memory": "500m"}}


def test_int_or_string_kept_as_given():
    probe = {"httpGet": {"port": "8080"}, "tcpSocket": {"port": 80}}
    out = normalize({"name": "c", "readinessProbe": probe}, CONTAINER)
    assert out["readinessProbe"] == {"httpGet": {"port": "8080"}, "tcpSocket": {"port": 80}}


def test_scalars_bound_for_strings_become_strings():
    out = normalize({"name": "c", "env": [{"name": "A", "value": 1}, {"name": "B", "value": True},
                                          {"name": "C", "value": 1.5}, {"name": 7}],
                     "args": [1, 2.0, False]}, CONTAINER)
    assert out["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "true"},
                          {"name": "C", "value": "1.5"}, {"name": "7"}]
    assert out["args"] == ["1", "2", "false"]
    md = normalize({"labels": {"a": 1, "b": 1e6}, "annotations": {"x": 3.14159265}},
                   "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta")
    assert md["labels"] == {"a": "1", "b": "1e+06"} and md["annotations"] == {"x": "3.1415927"}


def test_case_insensitive_field_names():
    out = normalize({"Name": "c", "IMAGE": "i"}, CONTAINER)
    assert out["name"] == "c" and out["image"] == "i"


def test_time_prints_utc_seconds():
    md = normalize({"creationTimestamp": "2024-01-02T03:04:05.678+01:00"},
                   "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta")
    assert md["creationTimestamp"] == "2024-01-02T02:04:05Z"


def test_type_error_message():
    doc = {"spec": {"template": {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": "80"}]}]}}}}
    with pytest.raises(typed.TypeError) as e:
        normalize(doc, DEPLOYMENT)
    assert str(e.value) == ("json: cannot unmarshal string into Go struct field ContainerPort"
                            ".spec.template.spec.containers.ports.containerPort of type int32")
    assert e.value.yaml_message().startswith("error unmarshaling JSON: while decoding JSON: json: ")


@pytest.mark.parametrize("doc,msg", [
    ({"spec": {"containers": "x"}},
     "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container"),
    ({"spec": {"containers": ["x"]}},
     "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container"),
    ({"spec": {"hostNetwork": "yes"}},
     "json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool"),
    ({"spec": {"priority": 1.5}},
     "json: cannot unmarshal number 1.5 into Go struct field PodSpec.spec.priority of type int32"),
    ({"spec": {"priority": 1 << 40}},
     "json: cannot unmarshal number 1099511627776 into Go struct field PodSpec.spec.priority of type int32"),
    ({"metadata": {"name": {"a": 1}}},
     "json: cannot unmarshal object into Go struct field ObjectMeta.metadata.name of type string"),
    ({"apiVersion": 1},
     "json: cannot unmarshal number into Go struct field Pod.apiVersion of type string"),
    ([1], "json: cannot unmarshal array into Go value of type v1.Pod"),
    ({"spec": {"containers": [{"readinessProbe": {"httpGet": {"port": 1.5}}}]}},
     "json: cannot unmarshal number 1.5 into Go struct field HTTPGetAction.spec.containers."
     "readinessProbe.httpGet.port of type int32"),
    ({"spec": {"containers": [{"resources": {"limits": {"cpu": "lots"}}}]}},
     "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
])
def test_error_forms(doc, msg):
    with pytest.raises(typed.TypeError) as e:
        normalize(doc, POD)
    assert str(e.value) == msg


def test_first_type_error_wins_in_sorted_key_order():
    with pytest.raises(typed.TypeError) as e:
        normalize({"spec": {"priority": "x", "hostNetwork": "y"}}, POD)
    assert "hostNetwork" in str(e.value)


def test_unmarshaler_error_beats_a_saved_type_error():
    doc = {"spec": {"containers": [{"resources": {"limits": {"cpu": "x"}}}], "hostNetwork": "y"}}
    with pytest.raises(typed.TypeError) as e:
        normalize(doc, POD)
    assert str(e.value).startswith("quantities must match")


def test_null_leaves_values_alone():
    out = normalize({"metadata": None, "spec": {"containers": [{"name": None}], "hostNetwork": None}}, POD)
    assert out["metadata"] == {"creationTimestamp": None}
    assert out["spec"]["containers"] == [{"name": "", "resources": {}}]


def test_interface_values_go_through_float64():
    out = normalize({"items": [{"a": 1.0, "b": [1, 2.5]}]}, "k8s.io/api/core/v1.List")
    assert out == {"metadata": {}, "items": [{"a": 1, "b": [1, 2.5]}]}


def test_object_type_falls_back_on_kind():
    assert object_type("v1", "Pod") == POD
    assert object_type("batch/v2alpha1", "CronJob") == "k8s.io/api/batch/v1.CronJob"
    assert object_type("v1", "DeploymentConfig") == "github.com/openshift/api/apps/v1.DeploymentConfig"
    assert object_type("extensions/v1beta1", "Deployment") == DEPLOYMENT
    assert object_type("v1", "Service") is None
    assert object_type("v1", "") is None


def test_go_ordered_uses_declaration_order():
    out = typed.go_ordered({"resources": {}, "image": "i", "name": "c"}, CONTAINER)
    assert list(out) == ["name", "image", "resources"]


def test_zero_json():
    assert typed.zero_json("k8s.io/api/core/v1.ResourceRequirements") == {}
    assert typed.zero_json("k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta") == {"creationTimestamp": None}
