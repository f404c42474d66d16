"""The generated Go type schema and its lookups."""
import pytest

from kubectl_inject import disk_cache
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


# The Kubernetes types of the k8s.io/api versions Istio releases build with (releases.py).
VOLUME_SOURCE = "k8s.io/api/core/v1.VolumeSource"
POD_SPEC = "k8s.io/api/core/v1.PodSpec"


@pytest.mark.parametrize("line", sorted(schema.K8S_SCHEMA_FILES))
def test_every_k8s_api_schema_loads(line):
    s = schema.for_k8s_api(line)
    assert s is schema.for_k8s_api(line + ".0"), "read once"
    assert s.modules()["k8s.io/api"].startswith(line + ".")
    assert s.modules()["k8s.io/apimachinery"].startswith(line + ".")
    assert s.kinds()["v1/Pod"] == POD and s.kinds() == schema.kinds()
    assert s.field_info(POD, "spec").type == POD_SPEC
    assert s.has_type("istio.io/api/mesh/v1alpha1.ProxyConfig"), "with the mesh types"


def test_v0_30_is_the_default_schema():
    assert schema.for_k8s_api("v0.30.0") is schema.default()
    with pytest.raises(ValueError):
        schema.for_k8s_api("v0.29.0")


@pytest.mark.parametrize("line,struct,json_name", [
    ("v0.31", VOLUME_SOURCE, "image"),                         # ImageVolumeSource
    ("v0.32", POD_SPEC, "resources"),                          # Pod-level resources (alpha)
    ("v0.31", "k8s.io/api/core/v1.PodSecurityContext", "supplementalGroupsPolicy"),
])
def test_newer_k8s_api_knows_fields_v0_30_lacks(line, struct, json_name):
    assert schema.field_info(struct, json_name) is None
    for newer in (l for l in schema.K8S_SCHEMA_FILES if tuple(map(int, l[1:].split("."))) >=
                  tuple(map(int, line[1:].split(".")))):
        assert schema.for_k8s_api(newer).field_info(struct, json_name) is not None, newer


def test_omitzero_is_recorded_from_apimachinery_v0_34():
    def omitzero(line):
        fields = schema.for_k8s_api(line).type_info("k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta")["fields"]
        return next(f for f in fields if f["json"] == "creationTimestamp").get("omitzero", False)
    assert [omitzero(l) for l in ("v0.30", "v0.33", "v0.34", "v0.35")] == [False, False, True, True]


# ---------------------------------------------------------------- the schema kept in disk_cache

def _schema_files(tmp_path):
    paths = []
    for name in schema.SCHEMA_FILES:
        with open(f"{schema.SCHEMA_DIR}/{name}", encoding="utf-8") as f:
            text = f.read()
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / name))
    return paths


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(disk_cache.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _entries(cache):
    kind = cache / schema.CACHE_KIND
    return sorted(kind.iterdir()) if kind.exists() else []


def test_a_second_process_reads_the_schema_from_the_cache(tmp_path, cache, monkeypatch):
    paths = _schema_files(tmp_path)
    first = schema.TypeSchema.from_files(paths)
    assert len(_entries(cache)) == 1

    def no_json(path):
        raise AssertionError(f"read {path} although the cache has the schema")
    monkeypatch.setattr(schema, "_read_json", no_json)
    second = schema.TypeSchema.from_files(paths)
    assert second.kinds() == first.kinds() and second.modules() == first.modules()
    assert second.field_info(CONTAINER, "ports") == first.field_info(CONTAINER, "ports")


def test_a_cached_schema_unpacks_only_the_types_looked_up(tmp_path, cache):
    paths = _schema_files(tmp_path)
    first = schema.TypeSchema.from_files(paths)
    second = schema.TypeSchema.from_files(paths)
    assert second.field_info(CONTAINER, "ports") is not None
    unpacked = set(second._types)
    assert CONTAINER in unpacked and len(unpacked) < len(second._packed) // 10
    # every type reads back as the JSON gave it, and unknown names are still unknown
    names = list(first._types)
    assert all(second.has_type(n) and second.type_info(n) == first.type_info(n) for n in names)
    assert not second.has_type("example.com/none.Such")
    with pytest.raises(KeyError):
        second.type_info("example.com/none.Such")


def test_an_edited_schema_file_or_a_damaged_entry_is_read_again(tmp_path, cache):
    paths = _schema_files(tmp_path)
    schema.TypeSchema.from_files(paths)
    # a changed file: a new key, and the change shows
    text = open(paths[0], encoding="utf-8").read()
    edited = text.replace('"v0.30.0"', '"v0.30.9"', 1)
    assert edited != text
    open(paths[0], "w", encoding="utf-8").write(edited)
    assert schema.TypeSchema.from_files(paths).modules()["k8s.io/api"] == "v0.30.9"
    assert len(_entries(cache)) == 2
    # a damaged entry: the files are read instead
    for entry in _entries(cache):
        entry.write_bytes(b"not a pickle")
    assert schema.TypeSchema.from_files(paths).modules()["k8s.io/api"] == "v0.30.9"


def test_with_the_cache_off_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv(disk_cache.CACHE_ENV, "off")
    paths = _schema_files(tmp_path)
    assert schema.TypeSchema.from_files(paths).modules()["k8s.io/api"] == "v0.30.0"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(schema.SCHEMA_FILES)
