"""Whether a Pod gets a sidecar: Istio's injectRequired.

istioctl kube-inject always evaluates it with policy "enabled" and no selectors (the
per-object label/annotation still decides); the webhook uses the injector config's policy
and never/always selectors. Both go through `injection_required`.
"""
from __future__ import annotations

INJECT_KEY = "sidecar.istio.io/inject"
# Istio never injects into these namespaces.
IGNORED_NAMESPACES = ("kube-system", "kube-public")

_TRUE_WORDS = ("y", "yes", "true", "on")


def injection_required(pod_spec: dict, metadata: dict, policy: str = "enabled",
                       never_selectors=(), always_selectors=(), warn=lambda msg: None) -> bool:
    if pod_spec.get("hostNetwork"):
        return False
    if metadata.get("namespace", "") in IGNORED_NAMESPACES:
        return False
    annotations = metadata.get("annotations") or {}
    labels = metadata.get("labels") or {}
    # The label is the newer API and wins over the annotation when both are present.
    selector_value = labels[INJECT_KEY] if INJECT_KEY in labels else annotations.get(INJECT_KEY, "")
    value = selector_value.lower()
    inject = value in _TRUE_WORDS
    use_default = value == ""

    if use_default:
        for selector in never_selectors:
            if _selector_matches(selector, labels, warn):
                inject, use_default = False, False
                break
    if use_default:
        for selector in always_selectors:
            if _selector_matches(selector, labels, warn):
                inject, use_default = True, False
                break

    if policy == "disabled":
        return False if use_default else inject
    if policy == "enabled":
        return True if use_default else inject
    warn(f"Illegal value for autoInject:{policy}, must be one of [disabled,enabled]. "
         "Auto injection disabled!")
    return False


def _selector_matches(selector: dict, labels: dict, warn) -> bool:
    """metav1.LabelSelector semantics; an empty selector matches nothing here (Istio skips it)."""
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return False
    for key, value in match_labels.items():
        if labels.get(key) != value:
            return False
    for expr in expressions:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
        if op == "In":
            ok = key in labels and labels[key] in values
        elif op == "NotIn":
            ok = key not in labels or labels[key] not in values
        elif op == "Exists":
            ok = key in labels
        elif op == "DoesNotExist":
            ok = key not in labels
        else:
            warn(f"Invalid selector: unknown operator {op!r}")
            return False
        if not ok:
            return False
    return True
