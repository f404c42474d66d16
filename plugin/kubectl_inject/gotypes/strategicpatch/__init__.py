"""Kubernetes strategic merge patch (apply side), as k8s.io/apimachinery does it.

Istio's injector renders its sidecar template into a partial Pod and applies it
onto the user's Pod with ``strategicpatch.StrategicMergePatch`` (and its YAML
twin ``StrategicMergePatchYAML``) using ``corev1.Pod{}`` as the type that
carries the ``patchStrategy``/``patchMergeKey`` struct tags.  To reproduce
``istioctl kube-inject`` byte for byte we need that function's exact results,
including its element ordering and its quirks, so this module follows the
structure of apimachinery's ``pkg/util/strategicpatch/patch.go`` (apply half:
``mergeMap`` with ``MergeParallelList`` and ``IgnoreUnmatchedNulls`` set).

Public API::

    strategic_merge_patch(original, patch, type_ref, *, schema=None,
                          unknown_fields="error") -> dict
    PatchError
    PatchMeta(TypeSchema) / PatchMeta.from_dict(data)

Modules: ``values`` (Go's dynamic types, ==, hashing and fmt over the decoded JSON, the
mergepatch errors), ``meta`` (PatchMetaFromStruct over the Go type schema), ``merge`` (the
apply half of patch.go). Go's slices with capacities and sort.SliceStable are in gostd.

Values in and out are JSON-compatible Python values (dict, list, str, int,
float, bool, None).  Inputs are never mutated.  The result's dict keys are
sorted at every level, because Go hands the merged ``map[string]interface{}``
to ``json.Marshal`` which writes map keys in sorted order; the returned dict
is therefore what ``json.Unmarshal(StrategicMergePatch(...))`` would give.

Go semantics that matter for results and are emulated on purpose:

* Lists are Go slices.  apimachinery appends to and deletes from slices that
  share a backing array with the slice it later uses as the "server order",
  and the "clever" scalar de-duplication swaps elements in place.  Which of
  those writes are visible depends on slice capacities, so lists are modelled
  as slices with Go's capacities (``encoding/json`` grows decoded arrays by
  ``append``; growth follows Go's ``growslice`` and malloc size classes).
* ``sort.SliceStable`` is called with a "less" function that is not a strict
  weak order (an item missing from the order list is "less" than anything),
  so the result depends on Go's exact stable sort algorithm (insertion sort
  on blocks of 20, then SymMerge); it is reproduced step by step.
* ``==`` on ``interface{}`` values compares dynamic type and value: ``true``
  never equals ``1``; comparing two maps panics in Go, which we raise as a
  ``PatchError`` carrying Go's runtime message.
* Field lookup is that of ``forked/golang/json``: exact JSON name first, then
  the first case-insensitive match; embedded structs are flattened with Go's
  dominance rules.

Numbers: under Istio's YAML path every number is a float64 on both sides, so
ints and floats are treated as one numeric type here (``80 == 80.0``).

Unknown fields: with ``PatchMetaFromStruct`` a JSON key that is not a field
of the Go struct is an error ("unable to find api field in struct ...") as
soon as both documents hold a map or a list under it (values on one side
only, or scalars, need no lookup and are merged as usual).  That is the
default here; ``unknown_fields="merge"`` instead treats such values as
untyped JSON (maps merged key by key, lists replaced).  In Istio's use the
original is a marshalled typed Pod, so it never holds unknown fields.

Slice capacities follow the Go 1.22 runtime (Istio 1.22's toolchain).
"""

from __future__ import annotations

from .merge import strategic_merge_patch
from .meta import PatchMeta
from .values import PatchError

__all__ = ["PatchError", "PatchMeta", "strategic_merge_patch"]
