"""The parse tree: text/template/parse/node.go.

Each node keeps its position (an index into the template text) and its tree, from which error
messages compute ``NAME:LINE:COL``; str() of a node is Go's String(), the text error messages
quote (``executing "t" at <.A.B>``).
"""
from __future__ import annotations

from ..gostd.strconv import quote

__all__ = [
    "Tree", "Node", "ListNode", "TextNode", "PipeNode", "ActionNode", "CommandNode",
    "IdentifierNode", "VariableNode", "DotNode", "NilNode", "FieldNode", "ChainNode", "BoolNode",
    "NumberNode", "StringNode", "EndNode", "ElseNode", "BranchNode", "BreakNode", "ContinueNode",
    "TemplateNode", "single_command",
]


class Tree:
    """One parsed template: name, the name of the text it came from, the text, the root."""

    __slots__ = ("name", "parse_name", "text", "root")

    def __init__(self, name, parse_name, text):
        self.name = name
        self.parse_name = parse_name
        self.text = text
        self.root = None

    def location(self, pos: int) -> str:
        """Tree.ErrorContext's location: PARSENAME:LINE:COL of the position."""
        text = self.text
        last_nl = text.rfind("\n", 0, pos)
        col = pos if last_nl < 0 else pos - (last_nl + 1)
        line = 1 + text.count("\n", 0, pos)
        return "%s:%d:%d" % (self.parse_name, line, col)


class Node:
    __slots__ = ("pos", "tree")


class _Marker(Node):
    """A node that prints as fixed text; line is Go's Line where the node type has one."""

    __slots__ = ("line",)
    TEXT = ""

    def __init__(self, pos, tree, line=0):
        self.pos, self.tree, self.line = pos, tree, line

    def __str__(self):
        return self.TEXT


def _marker(name: str, text: str) -> type:
    return type(name, (_Marker,), {"__slots__": (), "TEXT": text, "__module__": __name__})


DotNode = _marker("DotNode", ".")
NilNode = _marker("NilNode", "nil")
EndNode = _marker("EndNode", "{{end}}")
ElseNode = _marker("ElseNode", "{{else}}")
BreakNode = _marker("BreakNode", "{{break}}")
ContinueNode = _marker("ContinueNode", "{{continue}}")


class ListNode(Node):
    __slots__ = ("nodes",)

    def __init__(self, pos, tree):
        self.pos, self.tree, self.nodes = pos, tree, []

    def __str__(self):
        return "".join(str(n) for n in self.nodes)


class TextNode(Node):
    __slots__ = ("text",)

    def __init__(self, pos, tree, text):
        self.pos, self.tree, self.text = pos, tree, text

    def __str__(self):
        return self.text  # Go's textFormat is "%s"


class PipeNode(Node):
    __slots__ = ("line", "is_assign", "decl", "cmds")

    def __init__(self, pos, tree, line):
        self.pos, self.tree, self.line = pos, tree, line
        self.is_assign = False
        self.decl = []
        self.cmds = []

    def __str__(self):
        s = ""
        if self.decl:
            s = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return s + " | ".join(str(c) for c in self.cmds)


def _operand_text(node) -> str:
    # a pipeline used as an operand prints inside parentheses
    return "(" + str(node) + ")" if isinstance(node, PipeNode) else str(node)


class ActionNode(Node):
    __slots__ = ("line", "pipe")

    def __init__(self, pos, tree, line, pipe):
        self.pos, self.tree, self.line, self.pipe = pos, tree, line, pipe

    def __str__(self):
        return "{{" + str(self.pipe) + "}}"


class CommandNode(Node):
    __slots__ = ("args",)

    def __init__(self, pos, tree):
        self.pos, self.tree, self.args = pos, tree, []

    def __str__(self):
        return " ".join(_operand_text(a) for a in self.args)


class IdentifierNode(Node):
    __slots__ = ("ident",)

    def __init__(self, pos, tree, ident):
        self.pos, self.tree, self.ident = pos, tree, ident

    def __str__(self):
        return self.ident


class VariableNode(Node):
    """``$x.Field``: ident is ["$x", "Field"]."""

    __slots__ = ("ident",)

    def __init__(self, pos, tree, text):
        self.pos, self.tree, self.ident = pos, tree, text.split(".")

    def __str__(self):
        return ".".join(self.ident)


class FieldNode(Node):
    """``.A.B``: ident is ["A", "B"]."""

    __slots__ = ("ident",)

    def __init__(self, pos, tree, text):
        self.pos, self.tree = pos, tree
        self.ident = text[1:].split(".")

    def __str__(self):
        return "." + ".".join(self.ident)


class ChainNode(Node):
    """A term followed by fields: ``(pipeline).A.B``."""

    __slots__ = ("node", "field")

    def __init__(self, pos, tree, node):
        self.pos, self.tree, self.node, self.field = pos, tree, node, []

    def add(self, field):
        if not field or field[0] != ".":
            raise ValueError("no dot in field")
        field = field[1:]
        if not field:
            raise ValueError("empty field")
        self.field.append(field)

    def __str__(self):
        return _operand_text(self.node) + "".join("." + f for f in self.field)


class BoolNode(Node):
    __slots__ = ("value",)

    def __init__(self, pos, tree, value):
        self.pos, self.tree, self.value = pos, tree, value

    def __str__(self):
        return "true" if self.value else "false"


class NumberNode(Node):
    """A number or character constant; the parser sets which Go types can hold it."""

    __slots__ = ("text", "is_int", "is_uint", "is_float", "is_complex", "int_val", "float_val")

    def __init__(self, pos, tree, text):
        self.pos, self.tree, self.text = pos, tree, text
        self.is_int = self.is_uint = self.is_float = self.is_complex = False
        self.int_val = 0
        self.float_val = 0.0

    def __str__(self):
        return self.text


class StringNode(Node):
    __slots__ = ("quoted", "text")

    def __init__(self, pos, tree, quoted, text):
        self.pos, self.tree, self.quoted, self.text = pos, tree, quoted, text

    def __str__(self):
        return self.quoted


class BranchNode(Node):
    """if, range and with (kind names which)."""

    __slots__ = ("kind", "line", "pipe", "list", "else_list")

    def __init__(self, kind, pos, tree, line, pipe, lst, else_list):
        self.kind, self.pos, self.tree, self.line = kind, pos, tree, line
        self.pipe, self.list, self.else_list = pipe, lst, else_list

    def __str__(self):
        s = "{{" + self.kind + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            s += "{{else}}" + str(self.else_list)
        return s + "{{end}}"


class TemplateNode(Node):
    __slots__ = ("line", "name", "pipe")

    def __init__(self, pos, tree, line, name, pipe):
        self.pos, self.tree, self.line, self.name, self.pipe = pos, tree, line, name, pipe

    def __str__(self):
        if self.pipe is None:
            return "{{template %s}}" % quote(self.name)
        return "{{template %s %s}}" % (quote(self.name), self.pipe)


def single_command(node) -> CommandNode:
    """A command whose only argument is node (how Go evaluates an operand as a command)."""
    c = CommandNode(node.pos, node.tree)
    c.args.append(node)
    return c
