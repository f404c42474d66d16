"""The template engine's errors. Go's text/template returns plain errors whose text is the whole
message (``template: NAME:LINE: ...``); here they are exceptions whose str() is that text."""
from __future__ import annotations

__all__ = ["TemplateError", "ParseError", "ExecError"]


class TemplateError(Exception):
    """Any error raised by parsing or executing a template; str() is Go's message."""


class ParseError(TemplateError):
    """A syntax error found by the lexer or parser (text/template/parse)."""


class ExecError(TemplateError):
    """An error while executing (text/template's ExecError); name is the template's name."""

    def __init__(self, message: str, name: str = ""):
        super().__init__(message)
        self.name = name
