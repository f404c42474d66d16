"""Which injection templates to run for a Pod (Istio's selectTemplates and aliases)."""
from __future__ import annotations

TEMPLATES_ANNOTATION = "inject.istio.io/templates"


def choose_templates(annotations: dict, default_templates: list, aliases: dict) -> list:
    """The `inject.istio.io/templates` annotation (comma-separated) overrides the defaults;
    an alias expands to its list of templates (one level, not recursive)."""
    if TEMPLATES_ANNOTATION in annotations:
        names = [name.strip() for name in annotations[TEMPLATES_ANNOTATION].split(",")]
    else:
        names = list(default_templates)
    chosen = []
    for name in names:
        chosen.extend(aliases.get(name, [name]))
    return chosen
