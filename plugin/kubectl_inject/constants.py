"""Names Istio gives things in a Pod (its pkg/config/constants, annotation and label packages):
the containers injection adds, and the annotations and labels the pipeline reads or writes in
more than one place. A name that one module alone uses stays in that module."""
from __future__ import annotations

# containers
PROXY_CONTAINER = "istio-proxy"
INIT_CONTAINER = "istio-init"
VALIDATION_CONTAINER = "istio-validation"        # istio-init's stand-in under the CNI plugin

# annotations and labels
STATUS_ANNOTATION = "sidecar.istio.io/status"    # what injection added: read back to re-inject
NETWORK_LABEL = "topology.istio.io/network"
