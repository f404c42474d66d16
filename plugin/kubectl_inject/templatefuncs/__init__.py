"""The function map Istio gives its injection templates.

Istio (pkg/kube/inject) parses every injection template with
``template.New("inject").Funcs(sprig.TxtFuncMap()).Funcs(InjectionFuncmap)``: all of sprig's
text functions, then Istio's own functions on top (Istio's win on a name clash: indent,
contains, toYaml, omit, env, ...). :func:`istio_template_funcs` builds the same map for
:mod:`..gotemplate`. Each function mirrors the Go implementation's behaviour and output,
including Go's quirks (sprig's ``indent`` vs Istio's ``indent``, ``valueOrDefault`` only
checking for "" and nil, ``fromJSON`` returning ``"{}"`` on bad input, ...).

- :mod:`.sprig` (with :mod:`.sprig_strings`, :mod:`.sprig_lists`, :mod:`.sprig_numeric`):
  sprig v3's TxtFuncMap.
- :mod:`.istio`: Istio's InjectionFuncmap, and sigs.k8s.io/yaml.Marshal for toYaml.
- :mod:`.conv`: how both read their interface{} arguments, and the error they raise.
  Go's standard library (fmt, strconv, encoding/json, time) comes from :mod:`..gostd`.

Protocols for objects from other modules
----------------------------------------
* ``__go_json__()`` -> the JSON-compatible Python value Go's encoding/json would produce for
  the object (dicts are written in their insertion order, so a struct's dict must already be
  in Go field order and its maps' keys sorted; nested objects may again implement the
  protocol). Used by toJSON, structToJSON, toJsonMap, toJson, toYaml.
* ``__proto_json__()`` -> the text Istio's protomarshal.ToJSON (jsonpb: proto field order,
  camelCase names, int64 as strings, defaults omitted) would produce, or a JSON-compatible
  value that is then written compactly in insertion order. Used by protoToJSON.
  ``__proto_clean__()`` (optional) returns the object with Istio's cleanProxyConfig applied
  (fields equal to the mesh defaults cleared); protoToJSON calls it first.
* Struct-like objects are read through :class:`..gostd.values.GoStruct` (``__go_field__``);
  plain dicts with Kubernetes JSON names work too (``containerPort``, ``annotations``...).
* Plain dicts/lists/str/int/float/bool/None are handled directly; dict keys are sorted like
  Go map keys.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing's names for annotations only: importing it costs start-up time
if TYPE_CHECKING:
    from typing import Mapping

from .istio import istio_funcs, to_yaml
from .sprig import sprig_funcs

__all__ = ["istio_template_funcs", "sprig_funcs", "istio_funcs", "to_yaml"]


def istio_template_funcs(env: Mapping | None = None) -> dict:
    """sprig's TxtFuncMap overlaid with Istio's InjectionFuncmap; env backs ``env``
    (default: os.environ at call time)."""
    funcs = sprig_funcs()
    funcs.update(istio_funcs(env))
    return funcs
