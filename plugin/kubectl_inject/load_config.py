"""Load the injector's three configuration pieces: templates, values and mesh config.

They come from files (istioctl's --injectConfigFile, --valuesFile, --meshConfigFile), from
the cluster's ConfigMaps, or from a built-in default; this module only turns their text into
objects, whatever the source.
"""
from __future__ import annotations

from collections.abc import Mapping

from . import goyaml, template_cache
from .errors import InjectError
from .gotemplate import Template, TemplateError
from .templatefuncs import istio_template_funcs

SIDECAR_TEMPLATE = "sidecar"


class InjectorConfig:
    """Istio's inject.Config: policy, templates and selectors (the `config` ConfigMap key)."""

    def __init__(self, policy: str = "enabled", default_templates: list | None = None,
                 raw_templates: dict | None = None, aliases: dict | None = None,
                 never_inject_selector: list | None = None, always_inject_selector: list | None = None,
                 injected_annotations: dict | None = None, templates: Mapping | None = None):
        self.policy = policy
        self.default_templates = [SIDECAR_TEMPLATE] if default_templates is None else default_templates
        self.raw_templates = {} if raw_templates is None else raw_templates
        self.aliases = {} if aliases is None else aliases
        self.never_inject_selector = [] if never_inject_selector is None else never_inject_selector
        self.always_inject_selector = [] if always_inject_selector is None else always_inject_selector
        self.injected_annotations = {} if injected_annotations is None else injected_annotations
        # name -> parsed Template (ParsedTemplates)
        self.templates = {} if templates is None else templates


def parse_injector_config(text: str, source: str = "injector config",
                          env: dict | None = None) -> InjectorConfig:
    """Parse an injector config the way istioctl reads --injectConfigFile.

    A file that is not an inject.Config with templates is taken as one bare template named
    "sidecar" (istioctl accepts both forms).
    """
    try:
        doc = goyaml.load(text)
    except goyaml.YAMLError:
        doc = None
    if not isinstance(doc, dict) or not doc.get("templates"):
        config = InjectorConfig(raw_templates={SIDECAR_TEMPLATE: text})
    else:
        config = _config_from_dict(doc, source)
    config.templates = parse_templates(config.raw_templates, env=env)
    return config


def _config_from_dict(doc: dict, source: str) -> InjectorConfig:
    def typed(key, kind, default):
        value = doc.get(key)
        if value is None:
            return default
        if not isinstance(value, kind):
            raise InjectError(f"{source}: failed to unmarshal injection template: "
                              f"field {key!r} has the wrong type")
        return value

    templates = typed("templates", dict, {})
    for name, body in templates.items():
        if not isinstance(body, str):
            raise InjectError(f"{source}: template {name!r} is not a string")
    default_templates = typed("defaultTemplates", list, []) or [SIDECAR_TEMPLATE]
    return InjectorConfig(
        policy=str(doc.get("policy") or ""),
        default_templates=[str(t) for t in default_templates],
        raw_templates=templates,
        aliases=typed("aliases", dict, {}),
        never_inject_selector=typed("neverInjectSelector", list, []),
        always_inject_selector=typed("alwaysInjectSelector", list, []),
        injected_annotations=typed("injectedAnnotations", dict, {}),
    )



def sidecar_template(text: str) -> str | None:
    """The raw `sidecar` template of an injector config text, read as parse_injector_config
    reads it but not parsed (the release evidence of `config show`); None when there is none."""
    try:
        doc = goyaml.load(text)
    except goyaml.YAMLError:
        doc = None
    if not isinstance(doc, dict) or not doc.get("templates"):
        return text  # a bare template is the sidecar template
    templates = doc.get("templates")
    template = templates.get(SIDECAR_TEMPLATE) if isinstance(templates, dict) else None
    return template if isinstance(template, str) else None


def parse_templates(raw_templates: dict, env: dict | None = None) -> "ParsedTemplates":
    """Parse every template once (or take its trees from template_cache); a syntax error names
    the template, line and column."""
    return ParsedTemplates(raw_templates, istio_template_funcs(env=env))


def _parse(name: str, text: str, funcs: dict, key: str | None) -> Template:
    """The template parsed, and its trees kept in the cache under key."""
    template = Template(name, funcs=funcs)
    try:
        template.parse(text)
    except TemplateError as err:
        raise InjectError(str(err)) from None
    template_cache.store(key, template.parse_trees())
    return template


class ParsedTemplates(Mapping):
    """Template name -> parsed Template.

    As istioctl, every template is checked when the config is loaded: a syntax error in any of
    them is an error, used or not. A template the cache holds is known to parse (the cache only
    keeps successful parses of the same text), so its trees are read on first use only: a Pod
    that uses one template of four reads one."""

    def __init__(self, raw_templates: dict, funcs: dict):
        self._raw = dict(raw_templates)
        self._funcs = funcs
        # each key once: it is a digest of the whole text
        self._keys = {name: template_cache.key(name, text, funcs) for name, text in self._raw.items()}
        self._parsed: dict = {}
        for name, text in self._raw.items():
            if not template_cache.stored(self._keys[name]):
                self._parsed[name] = _parse(name, text, funcs, self._keys[name])

    def __getitem__(self, name: str) -> Template:
        template = self._parsed.get(name)
        if template is None:
            text = self._raw[name]  # KeyError for a template the config does not have
            trees = template_cache.load(self._keys[name])
            if trees is None:  # gone or damaged since: parse it after all
                template = _parse(name, text, self._funcs, self._keys[name])
            else:
                template = Template(name, funcs=self._funcs)
                template.add_parse_trees(trees)
            self._parsed[name] = template
        return template

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def go_numbers(value):
    """Values reach Istio's templates through encoding/json into map[string]any, so every
    number is a float64; mirror that so printing and comparisons behave as in Go."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: go_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [go_numbers(v) for v in value]
    return value


class ValuesConfig:
    """Helm-style values (the `values` ConfigMap key): a map for templates plus typed getters."""

    def __init__(self, raw: str, as_map: dict):
        self.raw = raw
        self.as_map = as_map

    def get(self, *path, default=None):
        node = self.as_map
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return default if node is None else node


def parse_values(text: str, source: str = "values") -> ValuesConfig:
    try:
        doc = goyaml.load(text) if text.strip() else {}
    except goyaml.YAMLError as err:
        raise InjectError(f"could not parse configuration values ({source}): {err}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise InjectError(f"could not parse configuration values ({source}): not a map")
    return ValuesConfig(raw=text, as_map=go_numbers(doc))
