"""Go's text/template in Python.

It follows Go's text/template semantics (as of Go 1.22/1.23) closely enough to render Istio's
injection templates byte for byte: the lexer and parser mirror Go's grammar (trim markers,
comments, raw strings, pipelines, parenthesised pipelines, variables, if/else if/else,
range with else/break/continue and over ints, with/else with, define/template/block), and
execution reproduces Go's value rules, printing (fmt %v), the built-in functions and Go's
error messages, including ``template: NAME:LINE:COL: executing "NAME" at <NODE>: ...``.

Modules, along Go's files: :mod:`.lex` (parse/lex.go), :mod:`.nodes` (parse/node.go),
:mod:`.parse` (parse/parse.go), :mod:`.exec` (exec.go), :mod:`.funcs` (funcs.go),
:mod:`.template` (template.go), :mod:`.errors`.

Values are Go values as :mod:`kubectl_inject.gostd.values` models them (``MISSING`` is the
invalid reflect.Value a missing map key yields; an action prints it as ``<no value>``), and
struct-like objects implement its ``GoStruct`` protocol. A dict subclass may set
``__go_zero__`` (the value of missing keys under ``index`` and missingkey=zero).

Functions in a func map are plain Python callables. They receive Go values (``MISSING``
becomes ``None``, as Go passes a nil interface) and report errors by raising; the message
becomes ``error calling NAME: MESSAGE``. A callable may declare its Go parameter types with
:func:`signature` so that arguments are checked the way Go's reflection does.

Public API: :class:`Template` (``Template(name, funcs=..., missingkey=...)``, ``parse``,
``execute``, ``execute_template``, ``lookup``), :func:`parse_cached`, the error classes,
:func:`signature` and :func:`is_true`.
"""
from .errors import ExecError, ParseError, TemplateError
from .funcs import is_true, signature
from .template import Template, parse_cached

__all__ = ["Template", "TemplateError", "ParseError", "ExecError", "parse_cached", "signature",
           "is_true"]
