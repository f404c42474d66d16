"""Prometheus scrape annotations, as Istio's metrics merging reads them.

Prometheus treats prometheus.io/scrape, prometheus.io.scrape and prometheus-io/scrape alike (it
maps every character outside [a-zA-Z0-9_] to "_"), and so does Istio: injection may point the
scrape annotations at the agent (postprocess), and re-injection removes what it pointed there
(inject's stripPod)."""
from __future__ import annotations

from . import lazy_regex


FIELDS = ("scrape", "port", "path")
_SANITIZED = tuple("prometheus_io_" + field for field in FIELDS)
_NOT_LABEL_CHAR = lazy_regex.compile(r"[^a-zA-Z0-9_]")


def sanitize(name: str) -> str:
    return _NOT_LABEL_CHAR.sub("_", name)


def find(annotations: dict, field: str):
    """(key, value) of the first annotation that means prometheus.io/FIELD, or None."""
    for key, value in annotations.items():
        if sanitize(key) == "prometheus_io_" + field:
            return key, value
    return None


def scrape_configuration(annotations: dict) -> dict:
    """Istio's getPrometheusScrapeConfiguration: the scrape, path and port annotations' values
    ("" when absent), in the field order of pilot-agent's PrometheusScrapeConfiguration, which
    json.Marshal keeps."""
    config = {"scrape": "", "path": "", "port": ""}
    for key, value in annotations.items():
        name = sanitize(key)
        if name in _SANITIZED:
            config[name[len("prometheus_io_"):]] = value
    return config


def remove_all(annotations: dict) -> None:
    """Delete every spelling of the scrape, port and path annotations."""
    for key in [k for k in annotations if sanitize(k) in _SANITIZED]:
        del annotations[key]
