"""The template parser: text/template/parse/parse.go.

:func:`parse` lexes and parses one template text into trees: the main template and each
``{{define}}``/``{{block}}``, with Go's checks (functions must exist when parsed, variables
must be declared, break/continue only inside range) and Go's error messages
``template: NAME:LINE: ...``.
"""
from __future__ import annotations

import math

from ..gostd.strconv import ErrSyntax, parse_float, parse_int, quote, unquote, unquote_char
from .errors import ParseError
from .lex import (T_ASSIGN, T_BLOCK, T_BOOL, T_BREAK, T_CHAR, T_CHARCONST, T_CONTINUE,
                  T_DECLARE, T_DEFINE, T_DOT, T_ELSE, T_END, T_EOF, T_ERROR, T_FIELD, T_IDENT,
                  T_IF, T_LDELIM, T_LPAREN, T_NIL, T_NUMBER, T_PIPE, T_RANGE, T_RAWSTRING,
                  T_RDELIM, T_RPAREN, T_SPACE, T_STRING, T_TEMPLATE, T_TEXT, T_VARIABLE, T_WITH,
                  Lexer, Token)
from .nodes import (ActionNode, BoolNode, BranchNode, BreakNode, ChainNode, CommandNode,
                    ContinueNode, DotNode, ElseNode, EndNode, FieldNode,
                    IdentifierNode, ListNode, NilNode, NumberNode, PipeNode, StringNode,
                    TemplateNode, TextNode, Tree, VariableNode)

__all__ = ["parse", "is_empty_tree"]

_MAX_PIPELINE_CMDS = 100000
_MAX_STACK_DEPTH = 10000


def parse(name: str, text: str, *funcs) -> dict[str, Tree]:
    """parse.Parse: the trees defined by text (the main one under name), keyed by name. funcs
    are the maps of function names known at parse time (the template's and the builtins)."""
    lexer = Lexer(text, break_ok=not any("break" in f for f in funcs),
                  continue_ok=not any("continue" in f for f in funcs))
    trees: dict[str, Tree] = {}
    _Parser(name, name, text, lexer.run(), funcs, trees).parse()
    return trees


def is_empty_tree(n) -> bool:
    """parse.IsEmptyTree: only space and comments."""
    if n is None:
        return True
    if isinstance(n, ListNode):
        return all(is_empty_tree(x) for x in n.nodes)
    if isinstance(n, TextNode):
        return n.text.strip(" \t\r\n\v\f") == ""
    return False


class _Parser:
    def __init__(self, name, parse_name, text, tokens, funcs, tree_set):
        self.tokens = tokens
        self.i = 0
        self.furthest = 0
        self.funcs = funcs
        self.tree_set = tree_set
        self.tree = Tree(name, parse_name, text)
        self.vars = ["$"]
        self.action_line = 0
        self.range_depth = 0
        self.stack_depth = 0

    def sub_parser(self, name) -> "_Parser":
        """A parser for a define/block body, continuing from this one's position."""
        sub = _Parser(name, self.tree.parse_name, self.tree.text, self.tokens, self.funcs,
                      self.tree_set)
        sub.i = self.i
        sub.furthest = self.furthest
        return sub

    def resume_after(self, sub: "_Parser"):
        self.i = sub.i
        self.furthest = max(self.furthest, sub.furthest)

    # token stream -------------------------------------------------------------------------
    def next(self) -> Token:
        i = self.i
        toks = self.tokens
        tok = toks[i] if i < len(toks) else toks[-1]
        if i > self.furthest:
            self.furthest = i
        self.i = i + 1
        return tok

    def backup(self, n=1):
        self.i -= n

    def peek(self) -> Token:
        i = self.i
        toks = self.tokens
        if i > self.furthest:
            self.furthest = i
        return toks[i] if i < len(toks) else toks[-1]

    def next_non_space(self) -> Token:
        while True:
            tok = self.next()
            if tok.typ != T_SPACE:
                return tok

    def peek_non_space(self) -> Token:
        j = self.i
        toks = self.tokens
        last = len(toks) - 1
        while j < last and toks[j].typ == T_SPACE:
            j += 1
        if j > self.furthest:
            self.furthest = j
        self.i = j  # like Go, peeking consumes the spaces before the token
        return toks[min(j, last)]

    # errors -------------------------------------------------------------------------------
    def errorf(self, msg: str):
        idx = min(self.furthest, len(self.tokens) - 1)
        line = self.tokens[idx].line
        raise ParseError("template: %s:%d: %s" % (self.tree.parse_name, line, msg))

    def expect(self, typ, context) -> Token:
        tok = self.next_non_space()
        if tok.typ != typ:
            self.unexpected(tok, context)
        return tok

    def expect_one_of(self, t1, t2, context) -> Token:
        tok = self.next_non_space()
        if tok.typ != t1 and tok.typ != t2:
            self.unexpected(tok, context)
        return tok

    def unexpected(self, tok: Token, context: str):
        if tok.typ == T_ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != tok.line:
                extra = " in action started at %s:%d" % (self.tree.parse_name, self.action_line)
                if tok.val.endswith(" action"):
                    extra = extra[len(" in action"):]
            raise ParseError("template: %s:%d: %s%s" % (self.tree.parse_name, tok.line, tok.val, extra))
        self.errorf("unexpected %s in %s" % (tok, context))

    def has_function(self, name):
        return any(name in f for f in self.funcs)

    def unquote(self, text: str) -> str:
        try:
            return unquote(text)
        except ErrSyntax as e:
            self.errorf(str(e))

    # grammar ------------------------------------------------------------------------------
    def parse(self):
        tree = self.tree
        root = ListNode(self.peek().pos, tree)
        tree.root = root
        while self.peek().typ != T_EOF:
            if self.peek().typ == T_LDELIM:
                delim_i = self.i
                self.next()
                if self.next_non_space().typ == T_DEFINE:
                    sub = self.sub_parser("definition")
                    sub.parse_definition()
                    self.resume_after(sub)
                    continue
                self.i = delim_i
            n = self.text_or_action()
            if isinstance(n, (EndNode, ElseNode)):
                self.errorf("unexpected %s" % n)
            root.nodes.append(n)
        self.add()
        return tree

    def add(self):
        t = self.tree
        old = self.tree_set.get(t.name)
        if old is None or is_empty_tree(old.root):
            self.tree_set[t.name] = t
            return
        if not is_empty_tree(t.root):
            self.errorf("template: multiple definition of template %s" % quote(t.name))

    def parse_definition(self):
        context = "define clause"
        tok = self.expect_one_of(T_STRING, T_RAWSTRING, context)
        self.tree.name = self.unquote(tok.val)
        self.expect(T_RDELIM, context)
        self.end_of_definition(context, self)

    def end_of_definition(self, context, reporter: "_Parser"):
        """The body of a define or block up to its {{end}}; the tree joins the set. A body
        ending otherwise is reported by reporter: Go reports a define against its own tree's
        position, a block against the enclosing tree's."""
        root, end = self.item_list()
        self.tree.root = root
        if not isinstance(end, EndNode):
            reporter.errorf("unexpected %s in %s" % (end, context))
        self.add()

    def item_list(self):
        lst = ListNode(self.peek_non_space().pos, self.tree)
        while self.peek_non_space().typ != T_EOF:
            n = self.text_or_action()
            if isinstance(n, (EndNode, ElseNode)):
                return lst, n
            lst.nodes.append(n)
        self.errorf("unexpected EOF")

    def text_or_action(self):
        tok = self.next_non_space()
        if tok.typ == T_TEXT:
            return TextNode(tok.pos, self.tree, tok.val)
        if tok.typ == T_LDELIM:
            self.action_line = tok.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        self.unexpected(tok, "input")

    def action(self):
        tok = self.next_non_space()
        typ = tok.typ
        if typ == T_BLOCK:
            return self.block_control()
        if typ == T_BREAK:
            return self.loop_control(BreakNode, tok)
        if typ == T_CONTINUE:
            return self.loop_control(ContinueNode, tok)
        if typ == T_ELSE:
            return self.else_control()
        if typ == T_END:
            return EndNode(self.expect(T_RDELIM, "end").pos, self.tree)
        if typ == T_IF:
            return self.parse_control("if")
        if typ == T_RANGE:
            return self.parse_control("range")
        if typ == T_TEMPLATE:
            return self.template_control()
        if typ == T_WITH:
            return self.parse_control("with")
        self.backup()
        tok = self.peek()
        return ActionNode(tok.pos, self.tree, tok.line, self.pipeline("command", T_RDELIM))

    def loop_control(self, node_class, keyword: Token):
        """{{break}} and {{continue}}: only inside a range."""
        text = node_class.TEXT
        tok = self.next_non_space()
        if tok.typ != T_RDELIM:
            self.unexpected(tok, text)
        if self.range_depth == 0:
            self.errorf("%s outside {{range}}" % text)
        return node_class(keyword.pos, self.tree, keyword.line)

    def declare(self, pipe, v: Token):
        pipe.decl.append(VariableNode(v.pos, self.tree, v.val))
        self.vars.append(v.val)

    def pipeline(self, context, end):
        tok = self.peek_non_space()
        pipe = PipeNode(tok.pos, self.tree, tok.line)
        while True:  # decls (loops only for the second variable of a range)
            v = self.peek_non_space()
            if v.typ != T_VARIABLE:
                break
            save = self.i
            self.next_non_space()
            nxt = self.peek_non_space()
            if nxt.typ in (T_ASSIGN, T_DECLARE):
                pipe.is_assign = nxt.typ == T_ASSIGN
                self.next_non_space()
                self.declare(pipe, v)
                break
            if nxt.typ == T_CHAR and nxt.val == ",":
                self.next_non_space()
                self.declare(pipe, v)
                if context == "range" and len(pipe.decl) < 2:
                    p = self.peek_non_space().typ
                    if p in (T_VARIABLE, T_RDELIM, T_RPAREN):
                        continue
                    self.errorf("range can only initialize variables")
                self.errorf("too many declarations in %s" % context)
            self.i = save
            break
        while True:
            tok = self.next_non_space()
            if tok.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.typ in (T_BOOL, T_CHARCONST, T_DOT, T_FIELD, T_IDENT, T_NUMBER, T_NIL,
                           T_RAWSTRING, T_STRING, T_VARIABLE, T_LPAREN):
                self.backup()
                pipe.cmds.append(self.command())
                if len(pipe.cmds) > _MAX_PIPELINE_CMDS:
                    self.errorf("pipeline too long")
            else:
                self.unexpected(tok, context)

    def check_pipeline(self, pipe, context):
        if not pipe.cmds:
            self.errorf("missing value for %s" % context)
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], (BoolNode, DotNode, NilNode, NumberNode, StringNode)):
                self.errorf("non executable command in pipeline stage %d" % (i + 2))

    def parse_control(self, context):
        nvars = len(self.vars)
        try:
            pipe = self.pipeline(context, T_RDELIM)
            if context == "range":
                self.range_depth += 1
            lst, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list = None
            if isinstance(nxt, ElseNode):
                # "else if" and "else with" chain: the rest is one nested node
                if context in ("if", "with") and self.peek().typ == (T_IF if context == "if" else T_WITH):
                    self.next()
                    else_list = ListNode(nxt.pos, self.tree)
                    else_list.nodes.append(self.parse_control(context))
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, EndNode):
                        self.errorf("expected end; found %s" % nxt)
            return BranchNode(context, pipe.pos, self.tree, pipe.line, pipe, lst, else_list)
        finally:
            del self.vars[nvars:]

    def else_control(self):
        peek = self.peek_non_space()
        if peek.typ in (T_IF, T_WITH):
            return ElseNode(peek.pos, self.tree, peek.line)
        tok = self.expect(T_RDELIM, "else")
        return ElseNode(tok.pos, self.tree, tok.line)

    def parse_template_name(self, tok, context):
        if tok.typ in (T_STRING, T_RAWSTRING):
            return self.unquote(tok.val)
        self.unexpected(tok, context)

    def block_control(self):
        context = "block clause"
        tok = self.next_non_space()
        name = self.parse_template_name(tok, context)
        pipe = self.pipeline(context, T_RDELIM)
        sub = self.sub_parser(name)
        sub.end_of_definition(context, self)
        self.resume_after(sub)
        return TemplateNode(tok.pos, self.tree, tok.line, name, pipe)

    def template_control(self):
        context = "template clause"
        tok = self.next_non_space()
        name = self.parse_template_name(tok, context)
        pipe = None
        if self.next_non_space().typ != T_RDELIM:
            self.backup()
            pipe = self.pipeline(context, T_RDELIM)
        return TemplateNode(tok.pos, self.tree, tok.line, name, pipe)

    def command(self):
        cmd = CommandNode(self.peek_non_space().pos, self.tree)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.typ == T_SPACE:
                continue
            if tok.typ in (T_RDELIM, T_RPAREN):
                self.backup()
            elif tok.typ != T_PIPE:
                self.unexpected(tok, "operand")
            break
        if not cmd.args:
            self.errorf("empty command")
        return cmd

    def operand(self):
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == T_FIELD:
            chain = ChainNode(self.peek().pos, self.tree, node)
            while self.peek().typ == T_FIELD:
                chain.add(self.next().val)
            if isinstance(node, FieldNode):
                node = FieldNode(chain.pos, self.tree, str(chain))
            elif isinstance(node, VariableNode):
                node = VariableNode(chain.pos, self.tree, str(chain))
            elif isinstance(node, (BoolNode, StringNode, NumberNode, NilNode, DotNode)):
                self.errorf("unexpected . after term %s" % quote(str(node)))
            else:
                node = chain
        return node

    def term(self):
        tok = self.next_non_space()
        typ = tok.typ
        if typ == T_IDENT:
            if not self.has_function(tok.val):
                self.errorf("function %s not defined" % quote(tok.val))
            return IdentifierNode(tok.pos, self.tree, tok.val)
        if typ == T_DOT:
            return DotNode(tok.pos, self.tree)
        if typ == T_NIL:
            return NilNode(tok.pos, self.tree)
        if typ == T_VARIABLE:
            return self.use_var(tok.pos, tok.val)
        if typ == T_FIELD:
            return FieldNode(tok.pos, self.tree, tok.val)
        if typ == T_BOOL:
            return BoolNode(tok.pos, self.tree, tok.val == "true")
        if typ in (T_CHARCONST, T_NUMBER):
            return self.new_number(tok)
        if typ == T_LPAREN:
            if self.stack_depth >= _MAX_STACK_DEPTH:
                self.errorf("max expression depth exceeded")
            self.stack_depth += 1
            try:
                return self.pipeline("parenthesized pipeline", T_RPAREN)
            finally:
                self.stack_depth -= 1
        if typ in (T_STRING, T_RAWSTRING):
            return StringNode(tok.pos, self.tree, tok.val, self.unquote(tok.val))
        self.backup()
        return None

    def use_var(self, pos, name):
        v = VariableNode(pos, self.tree, name)
        if v.ident[0] in self.vars:
            return v
        self.errorf("undefined variable %s" % quote(v.ident[0]))

    def new_number(self, tok):
        """parse.newNumber: which Go types (int, uint, float, complex) the constant fits."""
        text = tok.val
        n = NumberNode(tok.pos, self.tree, text)
        if tok.typ == T_CHARCONST:
            try:
                ch, i = unquote_char(text, 1, "'")
            except (ErrSyntax, IndexError):
                self.errorf("invalid syntax")
            if text[i:] != "'":
                self.errorf("malformed character constant: %s" % text)
            n.is_int = n.is_uint = n.is_float = True
            n.int_val = ord(ch)
            n.float_val = float(ord(ch))
            return n
        if text.endswith("i"):
            f = parse_float(text[:-1])
            if f is not None:
                n.is_complex = True
                if f == 0:
                    n.is_int = n.is_uint = n.is_float = True
                return n
        iv = parse_int(text)
        if iv is not None:
            _set_integer(n, iv)
        if n.is_int or n.is_uint:
            n.is_float = True
            n.float_val = float(iv)
        else:
            f = parse_float(text)
            if f is not None:
                if not any(c in text for c in ".eEpP"):
                    self.errorf("integer overflow: %s" % quote(text))
                n.is_float = True
                n.float_val = f
                if math.isfinite(f) and f == int(f):
                    _set_integer(n, int(f))
        if not (n.is_int or n.is_uint or n.is_float):
            self.errorf("illegal number syntax: %s" % quote(text))
        return n


def _set_integer(n: NumberNode, iv: int):
    # the integer value fits int64 and/or uint64
    if -(1 << 63) <= iv < (1 << 63):
        n.is_int = True
        n.int_val = iv
    if 0 <= iv < (1 << 64):
        n.is_uint = True
        n.int_val = iv
