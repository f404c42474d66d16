"""The template API: text/template/template.go and helper.go's parsing entry points.

A :class:`Template` is a name plus the template set it shares with its associated templates
(``{{define}}``/``{{block}}``, :meth:`Template.new`): the function map, the missingkey option,
the parsed trees and their compiled closures (compiled on first execution, dropped when the
set changes). :func:`parse_cached` parses a given text once per process.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing's names for annotations only: importing it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable

from ..gostd.strconv import quote
from ..gostd.values import MISSING
from .errors import ExecError
from .exec import Compiler, State
from .funcs import BUILTINS
from .nodes import Tree

__all__ = ["Template", "parse_cached"]


class _Common:
    """template.go's common: what associated templates share."""

    def __init__(self, funcs, missingkey):
        self.funcs = dict(funcs or {})
        self.missingkey = missingkey
        self.trees: dict[str, Tree] = {}
        self.compiled: dict[str, Callable] = {}

    def compile(self, name):
        fn = self.compiled.get(name)
        if fn is None:
            tree = self.trees[name]
            fn = Compiler(self).list(tree.root)
            self.compiled[name] = fn
        return fn


# Option("missingkey=..."): "invalid" is another name for "default"
_MISSINGKEY = {"default": "default", "invalid": "default", "zero": "zero", "error": "error"}


class Template:
    """A named Go template plus the set of templates associated with it (define/block)."""

    def __init__(self, name: str, funcs: dict | None = None, missingkey: str = "default",
                 _common: _Common | None = None):
        if missingkey not in _MISSINGKEY:
            raise ValueError("unrecognized option: missingkey=%s" % missingkey)
        self.name = name
        self._common = _common or _Common(funcs, _MISSINGKEY[missingkey])
        if _common is not None and funcs:
            self._common.funcs.update(funcs)

    # configuration, Go style
    def funcs(self, funcs: dict) -> "Template":
        self._common.funcs.update(funcs)
        self._common.compiled.clear()
        return self

    def option(self, *opts: str) -> "Template":
        for opt in opts:
            key, _, val = opt.partition("=")
            if key != "missingkey" or val not in _MISSINGKEY:
                raise ValueError("unrecognized option: %s" % opt)
            self._common.missingkey = _MISSINGKEY[val]
            self._common.compiled.clear()
        return self

    @property
    def missingkey(self) -> str:
        return self._common.missingkey

    def new(self, name: str) -> "Template":
        return Template(name, _common=self._common)

    def parse(self, text: str) -> "Template":
        """Parse text as the body of this template; {{define}}s join the template set."""
        # A run whose templates come from template_cache never parses: the lexer and parser are
        # loaded only here.
        from .parse import is_empty_tree, parse  # lazy: start-up time of cached runs
        common = self._common
        trees = parse(self.name, text, common.funcs, BUILTINS)
        for name, tree in trees.items():
            old = common.trees.get(name)
            if old is not None and is_empty_tree(tree.root) and old.root is not None:
                continue  # Go keeps an existing template over an empty redefinition
            common.trees[name] = tree
        common.compiled.clear()
        return self

    def parse_trees(self) -> dict:
        """The set's parse trees by name (what a later run may reuse, see add_parse_trees)."""
        return dict(self._common.trees)

    def add_parse_trees(self, trees: dict) -> "Template":
        """Adopt trees parsed before with the same function names (Go's AddParseTree, for a
        whole set): the same as parsing their text again."""
        self._common.trees.update(trees)
        self._common.compiled.clear()
        return self

    def lookup(self, name: str) -> "Template | None":
        if name in self._common.trees:
            return Template(name, _common=self._common)
        return None

    def templates(self) -> list[str]:
        return sorted(self._common.trees)

    def defined_templates(self) -> str:
        names = [n for n, t in self._common.trees.items() if t.root is not None]
        if not names:
            return ""
        return "; defined templates are: " + ", ".join(quote(n) for n in names)

    def execute(self, data: Any = None) -> str:
        """Execute with data as dot and $; return the output (raise ExecError on failure)."""
        common = self._common
        name = self.name
        fn = common.compiled.get(name)
        if fn is None:
            tree = common.trees.get(name)
            if tree is None or tree.root is None:
                raise ExecError('template: %s: %s is an incomplete or empty template'
                                % (name, quote(name)), name)
            fn = common.compile(name)
        out: list[str] = []
        if data is None:
            data = MISSING  # reflect.ValueOf(nil) is the invalid Value
        try:
            fn(State(name, out, [["$", data]], 0, common), data)
        except RecursionError:
            raise ExecError("template: %s: exceeded maximum template depth" % name, name) from None
        return "".join(out)

    def execute_template(self, name: str, data: Any = None) -> str:
        if name not in self._common.trees:
            raise ExecError("template: no template %s associated with template %s"
                            % (quote(name), quote(self.name)), name)
        return Template(name, _common=self._common).execute(data)


_CACHE: dict = {}


def parse_cached(name: str, text: str, funcs: dict | None = None,
                 missingkey: str = "default") -> Template:
    """Parse once per (name, text, funcs identity, missingkey); later calls reuse the result."""
    key = (name, text, id(funcs), missingkey)
    t = _CACHE.get(key)
    if t is None:
        t = Template(name, funcs=funcs, missingkey=missingkey).parse(text)
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = t
        t._funcs_ref = funcs  # keep funcs alive so id() stays unique while cached
    return t
