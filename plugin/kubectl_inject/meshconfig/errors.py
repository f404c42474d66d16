"""The errors of mesh and proxy config handling: MeshConfigError (what callers catch), GoError
(an error value inside the Go code paths mirrored) and hashicorp/go-multierror's Append,
Prefix and Error() text, which Istio's validation returns."""
from __future__ import annotations

import re

from ..errors import InjectError


class MeshConfigError(InjectError):
    """A mesh config or proxy config Istio refuses (an InjectError, so the command line
    reports a bad proxy.istio.io/config annotation met mid-run like any refused input).

    str() is one line; `go_error` is the exact text Go's error value prints (hashicorp
    multierror lists are multi-line there), for byte-exact `Error: ...` output.
    """

    def __init__(self, go_error: str):
        self.go_error = go_error
        super().__init__(_one_line(go_error))


def _one_line(text: str) -> str:
    """A multierror's members joined by "; ", else the text's lines joined by spaces. Members
    are split where Multi joins them ("\n\t* "): one may hold a line break of its own (a host
    name quoted from the config, say), which becomes a space like any other."""
    heading = re.match(r"\d+ errors? occurred:\n\t\* ", text)
    if heading:
        items = text[heading.end():].rstrip("\n").split("\n\t* ")
        return "; ".join(" ".join(item.split()) for item in items)
    return " ".join(text.split())


class GoError(Exception):
    """An error value inside the Go code paths mirrored: str() is Go's Error() text."""


# hashicorp/go-multierror: an error is None, a str, or a Multi.

class Multi:
    """*multierror.Error: its Error() text lists the members."""

    def __init__(self, errors: list):
        self.errors = errors

    def __str__(self) -> str:
        if len(self.errors) == 1:
            return f"1 error occurred:\n\t* {self.errors[0]}\n\n"
        points = "\n\t".join(f"* {e}" for e in self.errors)
        return f"{len(self.errors)} errors occurred:\n\t{points}\n\n"


def append(err, *more):
    """multierror.Append(err, more...): always a Multi; nil members dropped."""
    errors = list(err.errors) if isinstance(err, Multi) else ([] if err is None else [err])
    for e in more:
        if e is None:
            continue
        errors.extend(e.errors if isinstance(e, Multi) else [e])
    return Multi(errors)


def prefix(err, text: str):
    """multierror.Prefix(err, text): "text err" for each member."""
    if err is None:
        return None
    if isinstance(err, Multi):
        return Multi([f"{text} {e}" for e in err.errors])
    return f"{text} {err}"


def append_validation(err, *more):
    """Istio's agent.AppendValidation/AppendErrors: a single error stays as it is."""
    for e in more:
        if e is None:
            continue
        err = e if err is None else append(err, e)
    return err
