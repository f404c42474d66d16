"""Tests for kubectl_inject.gotypes.strategicpatch (apimachinery's strategic merge patch).

Two kinds of cases:
- semantics, on a tiny hand-written schema in the gotypes format (so each
  patchStrategy / patchMergeKey combination is exercised on purpose), in the
  spirit of apimachinery's patch_test.go tables;
- realistic Pod merges like Istio's sidecar injection, on the committed
  k8s.json schema (skipped when that file is absent).

Expected element orders were worked out by hand from patch.go's
mergeSlice / normalizeElementOrder / mergeSortedSlice; the comments say why.
"""
from __future__ import annotations

import copy
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from kubectl_inject.gostd.slices import decoded_cap  # noqa: E402
from kubectl_inject.gotypes import schema as gotypes_schema  # noqa: E402
from kubectl_inject.gotypes.strategicpatch import PatchError, PatchMeta, strategic_merge_patch  # noqa: E402
from kubectl_inject.gotypes.strategicpatch.values import fmt_s, fmt_v  # noqa: E402


def F(json, type_, strategy="", key="", inline=False, go=None):
    return {"go": go or (json[:1].upper() + json[1:] if json else type_.rsplit(".", 1)[-1]),
            "json": json, "omitempty": True, "inline": inline, "type": type_,
            "patchStrategy": strategy, "patchMergeKey": key}


P = "example.com/t."
TINY = {
    "kinds": {"t/Root": P + "Root"},
    "types": {
        P + "Root": {"kind": "struct", "fields": [
            F("", P + "Base", inline=True),
            F("meta", "map[string]string"),
            F("items", "[]" + P + "Item", "merge", "name"),
            F("tags", "[]string", "merge"),
            F("args", "[]string"),
            F("conf", "*" + P + "Conf"),
            F("opaque", P + "Conf", "replace"),
            F("byId", "[]" + P + "ById", "merge", "id"),
            F("choices", "[]" + P + "Choice", "merge,retainKeys", "name"),
            F("plain", "[]" + P + "Item"),
            F("keyless", "[]" + P + "Item", "merge"),
            F("nested", "map[string]" + P + "Conf"),
            F("bad", P + "Conf", "merge,retainKeys,replace"),
            F("when", P + "Time"),
            F("kinds", P + "KindList"),
        ]},
        P + "Base": {"kind": "struct", "fields": [
            F("kind", "string"), F("apiVersion", "string")]},
        P + "Item": {"kind": "struct", "fields": [
            F("name", "string"), F("value", "string"),
            F("list", "[]string"),
            F("env", "[]" + P + "Item", "merge", "name"),
            F("conf", "*" + P + "Conf")]},
        P + "Conf": {"kind": "struct", "fields": [
            F("a", "string"), F("b", "string"), F("c", "string"),
            F("deep", "*" + P + "Conf")]},
        P + "ById": {"kind": "struct", "fields": [F("id", "float64"), F("label", "string")]},
        P + "Choice": {"kind": "struct", "fields": [
            F("name", "string"), F("x", "*" + P + "Conf"), F("y", "*" + P + "Conf"), F("z", "string")]},
        P + "Time": {"kind": "special"},
        P + "KindList": {"kind": "named", "underlying": "[]" + P + "Item"},
    },
}
ROOT = P + "Root"


def smp(original, patch, type_ref=ROOT, **kw):
    kw.setdefault("schema", TINY)
    return strategic_merge_patch(original, patch, type_ref, **kw)


def names(items):
    return [i["name"] for i in items]


# --- maps -------------------------------------------------------------------

def test_maps_merge_recursively_and_null_deletes():
    orig = {"conf": {"a": "1", "b": "2", "deep": {"a": "x", "b": "y"}}, "meta": {"k": "v", "gone": "z"}}
    patch = {"conf": {"b": "20", "c": "30", "deep": {"a": None}}, "meta": {"gone": None, "new": "n"}}
    assert smp(orig, patch) == {
        "conf": {"a": "1", "b": "20", "c": "30", "deep": {"b": "y"}},
        "meta": {"k": "v", "new": "n"},
    }


def test_null_for_absent_key_is_dropped_and_nulls_inside_new_values_are_discarded():
    # IgnoreUnmatchedNulls: an unmatched null does not appear; a new value has
    # its nested nulls removed (discardNullValuesFromPatch), lists included.
    out = smp({}, {"kind": None, "conf": {"a": "1", "b": None, "deep": {"c": None}},
                   "items": [{"name": "i", "value": None}]})
    assert out == {"conf": {"a": "1", "deep": {}}, "items": [{"name": "i"}]}


def test_nulls_inside_items_appended_to_an_existing_list_are_kept():
    # Only values placed by mergeMap for an absent key are cleaned; an item
    # appended by mergeSliceWithoutSpecialElements is taken verbatim.
    out = smp({"items": [{"name": "a"}]}, {"items": [{"name": "b", "value": None}]})
    assert out["items"] == [{"name": "b", "value": None}, {"name": "a"}]


def test_nulls_already_in_the_original_are_kept():
    out = smp({"kind": None, "meta": {"k": None}}, {"conf": {"a": "1"}})
    assert out == {"conf": {"a": "1"}, "kind": None, "meta": {"k": None}}


def test_value_of_other_type_replaces():
    assert smp({"conf": {"a": "1"}}, {"conf": "flat"}) == {"conf": "flat"}
    assert smp({"args": ["x"]}, {"args": {"a": "b"}}) == {"args": {"a": "b"}}
    assert smp({"kind": "A"}, {"kind": 3}) == {"kind": 3}


def test_inputs_are_not_mutated():
    orig = {"items": [{"name": "a", "env": [{"name": "x"}]}], "tags": ["t"], "meta": {"k": None}}
    patch = {"items": [{"name": "a", "env": [{"name": "y", "value": None}]}, {"name": "b"}],
             "tags": ["u"], "meta": {"k": "v"}, "$retainKeys": ["items", "tags", "meta"]}
    o, p = copy.deepcopy(orig), copy.deepcopy(patch)
    smp(orig, patch)
    assert orig == o and patch == p


def test_result_keys_are_sorted_like_json_marshal():
    out = smp({"meta": {"z": "1", "a": "2"}, "kind": "K"}, {"conf": {"c": "1", "a": "2"}})
    assert list(out) == ["conf", "kind", "meta"]
    assert list(out["meta"]) == ["a", "z"] and list(out["conf"]) == ["a", "c"]


def test_inline_struct_fields_and_case_insensitive_lookup():
    # kind/apiVersion come from the inlined Base; "ITEMS" finds "items" the way
    # encoding/json's case-insensitive match does, so it merges by name.
    out = smp({"ITEMS": [{"name": "a", "value": "1"}]}, {"ITEMS": [{"name": "a", "value": "2"}]})
    assert out == {"ITEMS": [{"name": "a", "value": "2"}]}


def test_replace_strategy_on_a_struct_field():
    assert smp({"opaque": {"a": "1", "b": "2"}}, {"opaque": {"c": "3"}}) == {"opaque": {"c": "3"}}


# --- $patch on maps ---------------------------------------------------------

def test_patch_replace_on_a_map():
    out = smp({"conf": {"a": "1", "b": "2"}}, {"conf": {"$patch": "replace", "c": "3"}})
    assert out == {"conf": {"c": "3"}}


def test_patch_delete_on_a_map_leaves_an_empty_map():
    assert smp({"conf": {"a": "1"}, "kind": "K"}, {"conf": {"$patch": "delete"}}) == {"conf": {}, "kind": "K"}
    assert smp({"conf": {"a": "1"}}, {"$patch": "delete"}) == {}


def test_patch_merge_on_a_map_is_an_unknown_patch_type():
    with pytest.raises(PatchError) as e:
        smp({"conf": {"a": "1"}}, {"conf": {"$patch": "merge", "c": "3"}})
    assert str(e.value) == "unknown patch type: merge in map: map[$patch:merge c:3]"


# --- lists of maps with a merge key -----------------------------------------

def test_merge_by_key_updates_in_place_and_keeps_order():
    orig = {"items": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}
    out = smp(orig, {"items": [{"name": "b", "value": "20"}]})
    assert out["items"] == [{"name": "a", "value": "1"}, {"name": "b", "value": "20"}]


def test_new_items_go_before_server_only_items():
    # mergeSortedSlice only lets a server-only item go first when both items
    # are in the live list; a new patch item is not, so it is emitted first.
    orig = {"items": [{"name": "a"}, {"name": "b"}]}
    assert names(smp(orig, {"items": [{"name": "c"}]})["items"]) == ["c", "a", "b"]


def test_patch_order_wins_for_patch_items_server_items_interleave():
    orig = {"items": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}
    # patch items sorted by patch order (c, x, a); b is live-before c -> first
    assert names(smp(orig, {"items": [{"name": "c"}, {"name": "x"}, {"name": "a"}]})["items"]) \
        == ["b", "c", "x", "a"]
    # a precedes b in the live list; c does not precede b; x is new
    assert names(smp(orig, {"items": [{"name": "b"}, {"name": "x"}]})["items"]) == ["a", "b", "x", "c"]


def test_nested_merge_lists():
    orig = {"items": [{"name": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]}
    patch = {"items": [{"name": "a", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]}
    assert smp(orig, patch)["items"][0]["env"] == [
        {"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]


def test_list_without_strategy_is_replaced():
    orig = {"args": ["a", "b"], "plain": [{"name": "a", "value": "1"}]}
    out = smp(orig, {"args": ["c"], "plain": [{"name": "a", "value": "2"}, {"name": "b"}]})
    assert out == {"args": ["c"], "plain": [{"name": "a", "value": "2"}, {"name": "b"}]}
    # a named slice type without strategy is replaced as well
    assert smp({"kinds": [{"name": "a"}]}, {"kinds": [{"name": "b"}]}) == {"kinds": [{"name": "b"}]}


def test_empty_patch_list_keeps_original_and_empty_original_takes_patch():
    assert smp({"items": [{"name": "a"}]}, {"items": []}) == {"items": [{"name": "a"}]}
    assert smp({"items": []}, {"items": [{"name": "a"}]}) == {"items": [{"name": "a"}]}
    assert smp({"items": []}, {"items": []}) == {"items": []}


def test_patch_delete_element_in_list():
    orig = {"items": [{"name": "a"}, {"name": "b"}, {"name": "a", "value": "dup"}]}
    out = smp(orig, {"items": [{"name": "a", "$patch": "delete"}]})
    assert out == {"items": [{"name": "b"}]}


def test_patch_replace_element_in_list_replaces_whole_list():
    orig = {"items": [{"name": "a", "value": "1"}, {"name": "b"}]}
    out = smp(orig, {"items": [{"name": "c"}, {"$patch": "replace"}, {"name": "a", "value": "9"}]})
    assert out == {"items": [{"name": "c"}, {"name": "a", "value": "9"}]}


def test_patch_merge_element_and_unknown_directive_in_list_are_errors():
    with pytest.raises(PatchError, match="^merging lists cannot yet be specified in the patch$"):
        smp({"items": [{"name": "a"}]}, {"items": [{"$patch": "merge"}]})
    with pytest.raises(PatchError) as e:
        smp({"items": [{"name": "a"}]}, {"items": [{"$patch": "frob", "name": "a"}]})
    assert str(e.value) == "unknown patch type: frob in map: map[$patch:frob name:a]"


def test_delete_directive_without_merge_key():
    with pytest.raises(PatchError) as e:
        smp({"items": [{"name": "a"}]}, {"items": [{"$patch": "delete"}]})
    assert str(e.value) == "map: map[$patch:delete] does not contain declared merge key: name"


def test_patch_item_without_merge_key():
    with pytest.raises(PatchError) as e:
        smp({"items": [{"name": "a"}]}, {"items": [{"value": "x"}]})
    assert str(e.value) == "map: map[value:x] does not contain declared merge key: name"


def test_original_item_without_merge_key():
    # normalizeSliceOrder validates the live list against the merge key too
    with pytest.raises(PatchError) as e:
        smp({"items": [{"value": "a"}]}, {"items": [{"name": "b"}]})
    assert str(e.value) == "map: map[value:a] does not contain declared merge key: name"


def test_merge_strategy_without_merge_key_on_maps():
    with pytest.raises(PatchError, match="^cannot merge lists without merge key for struct$"):
        smp({"keyless": [{"name": "a"}]}, {"keyless": [{"name": "b"}]})


def test_merge_key_equality_is_go_interface_equality():
    # 80 and 80.0 are the same float64; true is never equal to 1
    out = smp({"byId": [{"id": 80, "label": "a"}]}, {"byId": [{"id": 80.0, "label": "b"}]})
    assert out == {"byId": [{"id": 80, "label": "b"}]}
    out = smp({"byId": [{"id": 1, "label": "a"}]}, {"byId": [{"id": True, "label": "b"}]})
    assert out == {"byId": [{"id": True, "label": "b"}, {"id": 1, "label": "a"}]}


def test_comparing_map_merge_keys_panics_in_go():
    with pytest.raises(PatchError) as e:
        smp({"byId": [{"id": {"x": 1}}]}, {"byId": [{"id": {"x": 1}}]})
    assert e.value.go_panic
    assert str(e.value) == "runtime error: comparing uncomparable type map[string]interface {}"


def test_mixed_element_types_and_lists_of_lists():
    with pytest.raises(PatchError) as e:
        smp({"tags": ["a"]}, {"tags": [1]})
    assert str(e.value) == "list element types are not identical: [[a] [1]]"
    with pytest.raises(PatchError, match="^lists of lists are not supported$"):
        smp({"tags": [["a"]]}, {"tags": [["b"]]})


# --- lists of primitives with merge strategy ------------------------------

def test_primitive_merge_list_union_without_duplicates():
    assert smp({"tags": ["a", "b"]}, {"tags": ["b", "c"]}) == {"tags": ["a", "b", "c"]}
    # new values first, as for maps
    assert smp({"tags": ["x", "y"]}, {"tags": ["a"]}) == {"tags": ["a", "x", "y"]}


def test_primitive_merge_list_sees_go_slice_aliasing():
    # original [a a b] is decoded with capacity 4, so append(original, "c")
    # writes into the same array and the in-place de-duplication rewrites the
    # live list to [a c b]; "c" is then found in the "server order" and lands
    # after "a".  Without the aliasing it would be first: [c a b].
    assert smp({"tags": ["a", "a", "b"]}, {"tags": ["c"]}) == {"tags": ["a", "c", "b"]}
    # with capacity 2 (two elements) the append reallocates: no aliasing
    assert smp({"tags": ["a", "a"]}, {"tags": ["c"]}) == {"tags": ["c", "a"]}


def test_delete_from_primitive_list():
    out = smp({"tags": ["a", "b", "c", "b"]}, {"$deleteFromPrimitiveList/tags": ["b", "zz"]})
    assert out == {"tags": ["a", "c"]}
    # absent list: nothing to delete, nothing added
    assert smp({}, {"$deleteFromPrimitiveList/tags": ["b"]}) == {}
    # a null deletion list removes the field itself
    assert smp({"tags": ["a"]}, {"$deleteFromPrimitiveList/tags": None}) == {}


def test_delete_from_primitive_list_on_non_merge_list_takes_the_list():
    # mergeSliceHandler returns the "patch" for non-merge lists, and for a
    # deletion list that patch is the list of values to delete.
    assert smp({"args": ["a", "b"]}, {"$deleteFromPrimitiveList/args": ["b"]}) == {"args": ["b"]}


def test_delete_from_primitive_list_bad_key():
    with pytest.raises(PatchError, match="^invalid patch format of primitive list$"):
        smp({"tags": ["a"]}, {"$deleteFromPrimitiveListX": ["a"]})


# --- $retainKeys ------------------------------------------------------------

def test_retain_keys_clears_other_fields():
    orig = {"choices": [{"name": "c", "x": {"a": "1"}, "z": "old"}]}
    patch = {"choices": [{"name": "c", "$retainKeys": ["name", "y"], "y": {"b": "2"}}]}
    assert smp(orig, patch) == {"choices": [{"name": "c", "y": {"b": "2"}}]}


def test_retain_keys_must_list_every_patched_field():
    with pytest.raises(PatchError, match="^invalid patch format of retainKeys$"):
        smp({"conf": {"a": "1"}}, {"conf": {"$retainKeys": ["a"], "b": "2"}})
    with pytest.raises(PatchError, match="^invalid patch format of retainKeys$"):
        smp({"conf": {"a": "1"}}, {"conf": {"$retainKeys": "a"}})
    # null values and parallel lists need not be listed
    assert smp({"conf": {"a": "1", "b": "2"}}, {"conf": {"$retainKeys": ["a"], "b": None}}) == {"conf": {"a": "1"}}


def test_bad_patch_strategy_count():
    with pytest.raises(PatchError) as e:
        smp({"bad": {"a": "1"}}, {"bad": {"b": "2"}})
    assert str(e.value) == "unexpected patch strategy: [merge retainKeys replace]"


# --- $setElementOrder -------------------------------------------------------

def test_set_element_order_reorders_maps_without_content_change():
    orig = {"items": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}
    patch = {"$setElementOrder/items": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}
    assert names(smp(orig, patch)["items"]) == ["c", "a", "b"]


def test_set_element_order_with_server_only_item():
    orig = {"items": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}
    patch = {"$setElementOrder/items": [{"name": "c"}, {"name": "a"}],
             "items": [{"name": "a", "value": "new"}]}
    out = smp(orig, patch)["items"]
    # patch items in $setElementOrder order (c, a); b precedes c in the live list
    assert out == [{"name": "b"}, {"name": "c"}, {"name": "a", "value": "new"}]


def test_set_element_order_adds_and_deletes():
    orig = {"items": [{"name": "a"}, {"name": "b"}]}
    patch = {"$setElementOrder/items": [{"name": "x"}, {"name": "a"}],
             "items": [{"name": "x"}, {"name": "b", "$patch": "delete"}]}
    assert names(smp(orig, patch)["items"]) == ["x", "a"]


def test_set_element_order_for_primitives():
    orig = {"tags": ["a", "b", "c"]}
    assert smp(orig, {"$setElementOrder/tags": ["c", "b", "a"]}) == {"tags": ["c", "b", "a"]}
    out = smp(orig, {"$setElementOrder/tags": ["d", "a", "c", "b"], "tags": ["d"]})
    assert out == {"tags": ["d", "a", "c", "b"]}


def test_set_element_order_longer_than_a_sort_block():
    # > 20 items exercises Go's SymMerge phase of sort.SliceStable
    n = 45
    orig = {"items": [{"name": f"i{k:02d}"} for k in range(n)]}
    order = [{"name": f"i{k:02d}"} for k in reversed(range(n))]
    out = smp(orig, {"$setElementOrder/items": order})
    assert names(out["items"]) == [f"i{k:02d}" for k in reversed(range(n))]


def test_set_element_order_mismatch():
    with pytest.raises(PatchError) as e:
        smp({"items": [{"name": "a"}]},
            {"$setElementOrder/items": [{"name": "y"}], "items": [{"name": "x"}]})
    assert str(e.value) == ("The order in patch list:\n[map[name:x]]\n doesn't match "
                            "$setElementOrder list:\n[map[name:y]]\n")


def test_set_element_order_bad_forms():
    with pytest.raises(PatchError, match="^invalid patch format of setElementOrder list$"):
        smp({}, {"$setElementOrderitems": [{"name": "a"}]})
    with pytest.raises(PatchError) as e:
        smp({}, {"$setElementOrder/items": "a"})
    assert str(e.value) == "expected a []interface {}, but received a string"
    # both lists empty: apimachinery cannot determine an element type
    with pytest.raises(PatchError, match="^no elements in any of the given slices$"):
        smp({"items": []}, {"$setElementOrder/items": [], "items": []})


# --- schema-driven errors ---------------------------------------------------

def test_unknown_field_is_an_error_like_patch_meta_from_struct():
    with pytest.raises(PatchError) as e:
        smp({"extra": {"a": 1}}, {"extra": {"b": 2}})
    assert str(e.value) == 'unable to find api field in struct Root for the json field "extra"'
    # scalars and one-sided fields need no lookup
    assert smp({"extra": "a"}, {"extra": "b", "more": {"x": [1]}}) == {"extra": "b", "more": {"x": [1]}}


def test_unknown_fields_merge_mode_treats_them_as_plain_json():
    out = smp({"extra": {"a": 1, "l": [1, 2]}}, {"extra": {"b": 2, "l": [3]}}, unknown_fields="merge")
    assert out == {"extra": {"a": 1, "b": 2, "l": [3]}}


def test_map_of_maps_and_special_types_cannot_be_descended():
    with pytest.raises(PatchError) as e:
        smp({"nested": {"k": {"a": "1"}}}, {"nested": {"k": {"b": "2"}}})
    assert str(e.value) == "merging an object in json but data type is not struct, instead is: map"
    with pytest.raises(PatchError) as e:
        smp({"when": {"x": {}}}, {"when": {"x": {"y": 1}}})
    assert str(e.value) == 'unable to find api field in struct Time for the json field "x"'
    # values that are not maps or lists in a map field merge fine
    assert smp({"nested": {"k": {"a": "1"}}}, {"nested": {"j": None, "k": "s"}}) == {"nested": {"k": "s"}}


def test_list_value_for_non_list_field():
    with pytest.raises(PatchError) as e:
        smp({"opaque": [1]}, {"opaque": [2]})
    assert str(e.value) == "expected slice or array type, but got: struct"
    # a pointer field is accepted by LookupPatchMetadataForSlice (the pointee
    # becomes the "element"); with no strategy the list is replaced
    assert smp({"conf": [1]}, {"conf": [2]}) == {"conf": [2]}


def test_bad_documents_and_types():
    with pytest.raises(PatchError, match="^invalid JSON document$"):
        smp([], {})
    with pytest.raises(PatchError, match="^expected a struct, but received a map$"):
        smp({}, {}, type_ref="map[string]string")
    assert smp(None, None) == {}
    assert smp({"kind": "K"}, {}, type_ref="t/Root") == {"kind": "K"}


def test_go_value_formatting_helpers():
    assert fmt_v({"b": [1.5, None, True], "a": 1000000}) == "map[a:1e+06 b:[1.5 <nil> true]]"
    assert fmt_s(2) == "%!s(float64=2)"
    assert fmt_s({"a": [True, "x"]}) == "map[a:[%!s(bool=true) x]]"
    assert [decoded_cap(n) for n in (0, 1, 3, 5, 17)] == [0, 1, 4, 8, 32]


# --- realistic Pod merges (Istio sidecar injection) ------------------------

SCHEMA_FILE = os.path.join(gotypes_schema.SCHEMA_DIR, "k8s.json")
needs_k8s_schema = pytest.mark.skipif(not os.path.exists(SCHEMA_FILE),
                                      reason="gotypes schema k8s.json not generated")
POD = "k8s.io/api/core/v1.Pod"


def user_pod():
    return {
        "metadata": {"name": "hello", "labels": {"app": "hello"},
                     "annotations": {"team": "a"}},
        "spec": {
            "containers": [{"name": "hello", "image": "hello:1.0",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "env": [{"name": "A", "value": "1"}],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
            "volumes": [{"name": "data", "emptyDir": {}}],
            "imagePullSecrets": [{"name": "user-secret"}],
            "tolerations": [{"key": "k", "operator": "Exists"}],
        },
    }


def sidecar_template():
    return {
        "metadata": {
            "labels": {"security.istio.io/tlsMode": "istio",
                       "service.istio.io/canonical-name": "hello"},
            "annotations": {"sidecar.istio.io/status": '{"containers":["istio-proxy"]}',
                            "kubectl.kubernetes.io/default-container": "hello"},
        },
        "spec": {
            "initContainers": [{"name": "istio-init", "image": "proxyv2:1.22.0",
                                "args": ["istio-iptables", "-p", "15001"]}],
            "containers": [{
                "name": "istio-proxy", "image": "proxyv2:1.22.0",
                "args": ["proxy", "sidecar"],
                "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
                "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        {"name": "ISTIO_META_APP_CONTAINERS", "value": "hello"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                              "limits": {"cpu": "2", "memory": "1Gi"}},
                "volumeMounts": [{"name": "istio-envoy", "mountPath": "/etc/istio/proxy"},
                                 {"name": "istiod-ca-cert", "mountPath": "/var/run/secrets/istio"}],
            }],
            "volumes": [{"name": "istio-envoy", "emptyDir": {"medium": "Memory"}},
                        {"name": "istiod-ca-cert", "configMap": {"name": "istio-ca-root-cert"}}],
            "imagePullSecrets": [{"name": "istio-secret"}],
            "tolerations": [{"key": "istio", "operator": "Exists"}],
        },
    }


@needs_k8s_schema
def test_istio_template_onto_user_pod():
    out = strategic_merge_patch(user_pod(), sidecar_template(), POD)
    spec = out["spec"]
    # new containers come first (Istio moves istio-proxy last afterwards)
    assert names(spec["containers"]) == ["istio-proxy", "hello"]
    assert names(spec["initContainers"]) == ["istio-init"]
    assert names(spec["volumes"]) == ["istio-envoy", "istiod-ca-cert", "data"]
    assert spec["volumes"][2] == {"emptyDir": {}, "name": "data"}
    assert names(spec["imagePullSecrets"]) == ["istio-secret", "user-secret"]
    # tolerations have no patch strategy: replaced
    assert spec["tolerations"] == [{"key": "istio", "operator": "Exists"}]
    assert out["metadata"]["labels"] == {"app": "hello", "security.istio.io/tlsMode": "istio",
                                         "service.istio.io/canonical-name": "hello"}
    assert out["metadata"]["annotations"]["team"] == "a"
    assert out["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] == "hello"
    assert spec["containers"][1] == user_pod()["spec"]["containers"][0]


@needs_k8s_schema
def test_istio_template_onto_pod_with_its_own_istio_proxy():
    pod = user_pod()
    pod["spec"]["containers"].append({
        "name": "istio-proxy", "image": "custom/proxy:dev",
        "resources": {"limits": {"cpu": "3"}, "requests": {"cpu": "123m"}},
        "env": [{"name": "USER_ENV", "value": "u"},
                {"name": "ISTIO_META_APP_CONTAINERS", "value": "mine"}],
        "volumeMounts": [{"name": "certs", "mountPath": "/etc/certs"}],
    })
    pod["spec"]["volumes"].append({"name": "certs", "secret": {"secretName": "istio-certs"}})
    out = strategic_merge_patch(pod, sidecar_template(), POD)
    spec = out["spec"]
    # the existing istio-proxy is merged in place; hello stays ahead of it
    assert names(spec["containers"]) == ["hello", "istio-proxy"]
    proxy = spec["containers"][1]
    assert proxy["image"] == "proxyv2:1.22.0"   # template value wins in this direction
    assert proxy["args"] == ["proxy", "sidecar"]
    # resource maps merge key by key
    assert proxy["resources"] == {"limits": {"cpu": "2", "memory": "1Gi"},
                                  "requests": {"cpu": "100m", "memory": "128Mi"}}
    # env merged by name.  Patch items keep template order (POD_NAME, then
    # ISTIO_META_APP_CONTAINERS); USER_ENV is live-before ISTIO_META_... so it
    # is interleaved ahead of it, but POD_NAME is new so it goes first.
    assert proxy["env"] == [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "USER_ENV", "value": "u"},
        {"name": "ISTIO_META_APP_CONTAINERS", "value": "hello"},
    ]
    assert [m["mountPath"] for m in proxy["volumeMounts"]] == \
        ["/etc/istio/proxy", "/var/run/secrets/istio", "/etc/certs"]
    assert names(spec["volumes"]) == ["istio-envoy", "istiod-ca-cert", "data", "certs"]


@needs_k8s_schema
def test_user_istio_proxy_overrides_onto_injected_pod():
    # The reverse direction: the user's own istio-proxy container applied on
    # top of the injected Pod, so the user's image and resources win.
    injected = strategic_merge_patch(user_pod(), sidecar_template(), POD)
    override = {"spec": {"containers": [{
        "name": "istio-proxy", "image": "custom/proxy:dev",
        "resources": {"limits": {"cpu": "3000m"}},
        "env": [{"name": "POD_NAME", "value": "fixed"}],
        "ports": [{"containerPort": 15090, "name": "prom"}, {"containerPort": 9999}],
        "securityContext": {"runAsUser": 1234},
    }]}}
    out = strategic_merge_patch(injected, override, "v1/Pod")
    assert names(out["spec"]["containers"]) == ["istio-proxy", "hello"]
    proxy = out["spec"]["containers"][0]
    assert proxy["image"] == "custom/proxy:dev"
    assert proxy["resources"]["limits"] == {"cpu": "3000m", "memory": "1Gi"}
    # a value replaces valueFrom only for that key; valueFrom remains (Go maps merge)
    assert proxy["env"][0] == {"name": "POD_NAME", "value": "fixed",
                               "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    assert proxy["ports"] == [{"containerPort": 15090, "name": "prom", "protocol": "TCP"},
                              {"containerPort": 9999}]
    assert proxy["securityContext"] == {"runAsUser": 1234}


@needs_k8s_schema
def test_pod_host_aliases_merge_by_ip_and_finalizers_by_value():
    pod = {"metadata": {"finalizers": ["a", "b"]},
           "spec": {"hostAliases": [{"ip": "10.0.0.1", "hostnames": ["x"]}]}}
    patch = {"metadata": {"finalizers": ["b", "c"]},
             "spec": {"hostAliases": [{"ip": "10.0.0.1", "hostnames": ["y"]},
                                      {"ip": "10.0.0.2", "hostnames": ["z"]}]}}
    out = strategic_merge_patch(pod, patch, POD)
    assert out["metadata"]["finalizers"] == ["a", "b", "c"]
    # hostnames has no strategy: replaced within the matched alias
    assert out["spec"]["hostAliases"] == [{"hostnames": ["y"], "ip": "10.0.0.1"},
                                          {"hostnames": ["z"], "ip": "10.0.0.2"}]


@needs_k8s_schema
def test_pod_volume_retain_keys_and_delete():
    pod = {"spec": {"volumes": [{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]}}
    patch = {"spec": {"volumes": [
        {"name": "v", "$retainKeys": ["name", "secret"], "secret": {"secretName": "s"}},
        {"name": "w", "$patch": "delete"}]}}
    out = strategic_merge_patch(pod, patch, POD)
    assert out["spec"]["volumes"] == [{"name": "v", "secret": {"secretName": "s"}}]


@needs_k8s_schema
def test_pod_unknown_and_typed_lookup_errors():
    with pytest.raises(PatchError) as e:
        strategic_merge_patch({"spec": {"foo": {"a": 1}}}, {"spec": {"foo": {"b": 2}}}, POD)
    assert str(e.value) == 'unable to find api field in struct PodSpec for the json field "foo"'
    # metadata.labels is map[string]string: nested maps cannot be looked up
    with pytest.raises(PatchError) as e:
        strategic_merge_patch({"metadata": {"labels": {"a": {"x": 1}}}},
                              {"metadata": {"labels": {"a": {"y": 1}}}}, POD)
    assert "data type is not struct, instead is: map" in str(e.value)


@needs_k8s_schema
def test_default_schema_loads_kinds():
    sch = PatchMeta(gotypes_schema.default())
    assert sch.resolve_top("v1/Pod") == POD
    assert sch.kind("k8s.io/api/core/v1.ResourceList") == "map"


@needs_k8s_schema
def test_case_insensitive_key_is_not_a_merge_key_match():
    # encoding/json finds the field for "Containers", but the patch's key differs from the
    # original's "containers", so the lists are not merged: the patch's list is taken as is
    pod, template = user_pod(), sidecar_template()
    template["spec"]["Containers"] = template["spec"].pop("containers")
    a = strategic_merge_patch(pod, template, POD)
    assert a == strategic_merge_patch(pod, template, POD, schema=PatchMeta(gotypes_schema.default()))
    assert names(a["spec"]["Containers"]) == ["istio-proxy"]  # different key: no merge
