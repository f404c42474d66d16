"""Read and write YAML exactly the way Istio's Go code does.

istioctl kube-inject goes through three Go libraries, and each leaves a mark on the bytes it
produces:

* k8s.io/apimachinery's YAMLReader splits the input stream on ``---`` lines
  (:func:`split_documents`, split.py);
* sigs.k8s.io/yaml (v1.4.0, which vendors a fork of gopkg.in/yaml.v2 v2.4.0) turns each
  document into JSON: go-yaml v2 resolves plain scalars with YAML 1.1 rules, then encoding/json
  runs over the result (:func:`load`, decode.py over resolve.py);
* sigs.k8s.io/yaml.Marshal writes objects by encoding/json, then re-reads that JSON with go-yaml
  v2 (jsontoyaml.py) and emits it with go-yaml v2's emitter: keys in its "natural" order
  (sorter.py), 2-space indent, compact sequences, lines folded at 80 columns, and its own choice
  of plain/single/double/literal style (scalar.py) (:func:`dump`, emit.py).

Go's own strconv and encoding/json behaviour comes from kubectl_inject.gostd; this package adds
only what go-yaml and sigs.k8s.io/yaml do on top (floatv.py: go-yaml's .inf/.nan spellings).
"""
from .emit import dump
from .errors import YAMLError
from .floatv import go_float32_g, go_float_g
from .decode import json_target_string, load, load_all, load_document
from .resolve import resolves_to_non_string
from .split import iter_documents, split_documents

__all__ = [
    "YAMLError",
    "load",
    "load_all",
    "load_document",
    "iter_documents",
    "split_documents",
    "dump",
    "go_float_g",
    "go_float32_g",
    "json_target_string",
    "resolves_to_non_string",
]
