"""Template execution: text/template/exec.go.

Go walks the parse tree on every execution; here :class:`Compiler` turns each tree once into
nested closures ``f(state, dot)`` (statements, values) and ``f(state, dot, final)``
(commands; final is the value piped in, or NOFINAL), which execute with Go's semantics: value
rules, truth, variables, range, template calls, function and method calls with Go's argument
checks, missingkey, and Go's error messages ``template: NAME:LINE:COL: executing "NAME" at
<NODE>: ...``. The closures are the engine's hot path: common shapes (``.Field`` on a map, a
function of one or two arguments) get their own closure.

Size: over 600 lines because the compiler is one recursive algorithm (commands, arguments,
fields and calls compile one another), as exec.go is one file; split, its halves would call
back and forth across modules.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing's names for annotations only: importing it costs start-up time
if TYPE_CHECKING:
    from typing import Callable

from ..gostd.fmt import format_value, sorted_keys
from ..gostd.strconv import format_float, quote
from ..gostd.values import MISSING, NilPointer, NoSuchField, go_type_name
from .errors import ExecError, TemplateError
from .funcs import BUILTINS, REFLECT_VALUE, assignable, can_be_nil, func_signature, is_interface, truth
from .nodes import (ActionNode, BoolNode, BranchNode, BreakNode, ChainNode, ContinueNode, DotNode,
                    FieldNode, IdentifierNode, ListNode, NilNode, NumberNode, PipeNode, StringNode,
                    TemplateNode, TextNode, VariableNode, single_command)

__all__ = ["State", "Compiler", "MAX_EXEC_DEPTH"]

MAX_EXEC_DEPTH = 100000


class _NoFinal:
    """Marks 'no value piped in' (Go's missingVal), distinct from an invalid value."""

    __slots__ = ()

    def __repr__(self):
        return "NOFINAL"


_NOFINAL = _NoFinal()


class _BreakLoop(Exception):
    """{{break}}: ends the innermost range."""


class _ContinueLoop(Exception):
    """{{continue}}: ends this iteration of the innermost range."""


class State:
    """exec.go's state: the template being run, the output, the variable stack, the depth."""

    __slots__ = ("name", "out", "vars", "depth", "common")

    def __init__(self, name, out, vars_, depth, common):
        self.name = name
        self.out = out
        self.vars = vars_
        self.depth = depth
        self.common = common


def _fail(st: State, node, msg: str):
    name = st.name
    if node is None:
        raise ExecError("template: %s: %s" % (name, msg), name)
    loc = node.tree.location(node.pos)
    raise ExecError('template: %s: executing %s at <%s>: %s' % (loc, quote(name), node, msg), name)


def _failing(node, msg: str):
    """A compiled node that fails when run: Go reports these errors at execution time."""

    def fail_when_run(st, *_):
        _fail(st, node, msg)
    return fail_when_run


def _call_failed(st, node, name, e: Exception):
    """A function's error (or a recovered panic) is "error calling NAME: ERR"; the error of a
    nested template execution passes through as it is."""
    if isinstance(e, ExecError):
        raise e
    _fail(st, node, "error calling %s: %s" % (name, _err_text(e)))


def _err_text(e: BaseException) -> str:
    if isinstance(e, KeyError) and e.args:
        return str(e.args[0])
    s = str(e)
    return s if s else type(e).__name__


def _var_value(st, node, name):
    vs = st.vars
    for i in range(len(vs) - 1, -1, -1):
        if vs[i][0] == name:
            return vs[i][1]
    _fail(st, node, "undefined variable: %s" % name)


def _set_var(st, node, name, value):
    vs = st.vars
    for i in range(len(vs) - 1, -1, -1):
        if vs[i][0] == name:
            vs[i][1] = value
            return
    _fail(st, node, "undefined variable: %s" % name)


def _print_value(st, node, v) -> str:
    """printValue: how an action prints its value (``<no value>`` for an invalid one)."""
    if v is MISSING or v is None:
        return "<no value>"
    t = type(v)
    if t is str:
        return v
    if v is True:
        return "true"
    if v is False:
        return "false"
    if t is int:
        return str(v)
    if t is float:
        return format_float(v, "g", -1)
    if callable(v) and not hasattr(v, "__go_str__") and not isinstance(v, (dict, list, tuple)) \
            and not hasattr(v, "__go_field__"):
        _fail(st, node, "can't print %s of type %s" % (node, go_type_name(v)))
    return format_value(v)


def _validate(st, node, value, typ):
    """validateType: value passed as a parameter of Go type typ (None = interface{})."""
    if value is MISSING:
        if typ == REFLECT_VALUE:
            return MISSING
        if can_be_nil(typ):
            return None
        _fail(st, node, "invalid value; expected %s" % typ)
    if typ is None or typ == REFLECT_VALUE or typ == "interface {}" or typ == "any":
        return value
    if value is None:
        if can_be_nil(typ):
            return None
        _fail(st, node, "wrong type for value; expected %s; got interface {}" % typ)
    if not assignable(value, typ):
        _fail(st, node, "wrong type for value; expected %s; got %s" % (typ, go_type_name(value)))
    return value


def _map_entry(st, node, recv, name, missingkey):
    """A map's entry under missingkey (evalField on a map)."""
    try:
        return recv[name]
    except KeyError:
        if missingkey == "default":
            return MISSING
        if missingkey == "zero":
            return getattr(recv, "__go_zero__", None)
        _fail(st, node, "map has no entry for key %s" % quote(name))


def _typed_constant(n, typ):
    """evalArg of a constant node for a parameter of Go type typ: (value, None), or (None,
    what Go expected) when the constant does not fit, or (None, None) when Go has no rule."""
    if typ == "string":
        return (n.text, None) if isinstance(n, StringNode) else (None, "string")
    if typ == "bool":
        return (n.value, None) if isinstance(n, BoolNode) else (None, "bool")
    if typ.startswith("int"):
        return (n.int_val, None) if isinstance(n, NumberNode) and n.is_int else (None, "integer")
    if typ.startswith("uint"):
        if isinstance(n, NumberNode) and n.is_uint:
            return n.int_val, None
        return None, "unsigned integer"
    if typ.startswith("float"):
        return (n.float_val, None) if isinstance(n, NumberNode) and n.is_float else (None, "float")
    return None, None


class Compiler:
    """Compiles the trees of one template set (common: funcs, missingkey, the trees)."""

    def __init__(self, common):
        self.common = common
        self.missingkey = common.missingkey

    # statements ---------------------------------------------------------------------------
    def list(self, lst) -> Callable:
        fns = [self.node(n) for n in lst.nodes]
        if len(fns) == 1:
            return fns[0]

        def run_list(st, dot):
            for f in fns:
                f(st, dot)
        return run_list

    def node(self, n):
        if isinstance(n, TextNode):
            text = n.text

            def text_node(st, dot):
                st.out.append(text)
            return text_node
        if isinstance(n, ActionNode):
            pipe = self.pipe(n.pipe)
            if n.pipe.decl:
                def decl_action(st, dot):
                    pipe(st, dot)
                return decl_action

            def action(st, dot):
                v = pipe(st, dot)
                if type(v) is str:
                    st.out.append(v)
                else:
                    st.out.append(_print_value(st, n, v))
            return action
        if isinstance(n, BranchNode):
            if n.kind == "range":
                return self.range(n)
            return self.if_with(n)
        if isinstance(n, TemplateNode):
            return self.template(n)
        if isinstance(n, BreakNode):
            def brk(st, dot):
                raise _BreakLoop()
            return brk
        if isinstance(n, ContinueNode):
            def cont(st, dot):
                raise _ContinueLoop()
            return cont
        if isinstance(n, ListNode):
            return self.list(n)
        raise TemplateError("unknown node: %s" % n)

    def branch_parts(self, n):
        return (self.pipe(n.pipe), self.on_first_run(n.list),
                self.on_first_run(n.else_list) if n.else_list is not None else None)

    def on_first_run(self, lst):
        """The list compiled when it first runs. One execution takes few of a template's
        branches (Istio's sidecar template has hundreds, most for settings not in use), and
        compiling a branch costs about as much as running it; so a branch never taken is never
        compiled. Compiling raises no template errors (those come from parsing or running), so
        when it happens changes nothing but the time."""
        compiled = None

        def run(st, dot):
            nonlocal compiled
            if compiled is None:
                compiled = self.list(lst)
            compiled(st, dot)
        return run

    def if_with(self, n):
        pipe, body, else_body = self.branch_parts(n)
        is_with = n.kind == "with"

        def if_node(st, dot):
            vs = st.vars
            mark = len(vs)
            v = pipe(st, dot)
            if v is True or (v is not False and truth(v)):
                if is_with:
                    body(st, v)
                else:
                    body(st, dot)
            elif else_body is not None:
                else_body(st, dot)
            del vs[mark:]
        return if_node

    def range(self, n):
        pipe, body, else_body = self.branch_parts(n)
        ndecl = len(n.pipe.decl)

        def range_node(st, dot):
            vs = st.vars
            mark0 = len(vs)
            val = pipe(st, dot)
            mark = len(vs)

            def one(index, elem):
                if ndecl > 0:
                    vs[mark - 1][1] = elem
                if ndecl > 1:
                    vs[mark - 2][1] = index
                try:
                    body(st, elem)
                except _ContinueLoop:
                    pass
                finally:
                    del vs[mark:]

            ran = False
            rng = getattr(val, "__go_range__", None)
            if rng is not None:
                val = rng()
            try:
                if isinstance(val, (list, tuple)):
                    for i, e in enumerate(val):
                        ran = True
                        one(i, e)
                elif isinstance(val, dict):
                    for k in sorted_keys(val):
                        ran = True
                        one(k, val[k])
                elif val is None or val is MISSING:
                    pass
                elif isinstance(val, int) and not isinstance(val, bool):
                    if ndecl > 1:
                        _fail(st, n, "can't use %s to iterate over more than one variable" % val)
                    for i in range(val):
                        ran = True
                        one(i, i)
                elif getattr(val, "__go_truth__", None) is not None and not val.__go_truth__():
                    pass
                else:
                    _fail(st, n, "range can't iterate over %s" % format_value(val))
            except _BreakLoop:
                pass
            if not ran and else_body is not None:
                else_body(st, dot)
            del vs[mark0:]
        return range_node

    def template(self, n):
        pipe = self.pipe(n.pipe) if n.pipe is not None else None
        name = n.name
        common = self.common

        def template_node(st, dot):
            tmpl = common.compiled.get(name)
            if tmpl is None:
                tree = common.trees.get(name)
                if tree is None or tree.root is None:
                    _fail(st, n, "template %s not defined" % quote(name))
                tmpl = common.compile(name)
            if st.depth >= MAX_EXEC_DEPTH:
                _fail(st, n, "exceeded maximum template depth (%d)" % MAX_EXEC_DEPTH)
            newdot = pipe(st, dot) if pipe is not None else MISSING
            sub = State(name, st.out, [["$", newdot]], st.depth + 1, st.common)
            tmpl(sub, newdot)
        return template_node

    # expressions --------------------------------------------------------------------------
    def pipe(self, p):
        cmds = [self.command(c) for c in p.cmds]
        decl = [v.ident[0] for v in p.decl]
        is_assign = p.is_assign
        decl_nodes = p.decl

        if len(cmds) == 1 and not decl:
            c0 = cmds[0]

            def pipe1(st, dot):
                v = c0(st, dot, _NOFINAL)
                if v is None:
                    return MISSING
                return v
            return pipe1

        def pipe_n(st, dot):
            v = _NOFINAL
            for c in cmds:
                v = c(st, dot, v)
                if v is None:
                    v = MISSING
            for name, vn in zip(decl, decl_nodes):
                if is_assign:
                    _set_var(st, vn, name, v)
                else:
                    st.vars.append([name, v])
            return v
        return pipe_n

    def command(self, cmd):
        first = cmd.args[0]
        args = cmd.args
        if isinstance(first, FieldNode):
            return self.field_chain_cmd(first, None, first.ident, args)
        if isinstance(first, ChainNode):
            recv = self.arg_value(first.node)
            return self.field_chain_cmd(first, recv, first.field, args)
        if isinstance(first, IdentifierNode):
            return self.function(first, cmd, args)
        # an operand that is not a function: no arguments, nothing piped in
        check = self.not_a_function(args)
        if isinstance(first, VariableNode):
            name = first.ident[0]
            if len(first.ident) > 1:
                def var_recv(st, dot):
                    return _var_value(st, first, name)
                return self.field_chain_cmd(first, var_recv, first.ident[1:], args)

            def var_cmd(st, dot, final):
                v = _var_value(st, first, name)  # Go evaluates the variable first
                check(st, final)
                return v
            return var_cmd
        value = self.pipe(first) if isinstance(first, PipeNode) else self.literal(first)

        def operand_cmd(st, dot, final):
            check(st, final)
            return value(st, dot)
        return operand_cmd

    @staticmethod
    def not_a_function(args):
        many = len(args) > 1
        operand = args[0]

        def check(st, final):
            if many or final is not _NOFINAL:
                _fail(st, operand, "can't give argument to non-function %s" % operand)
        return check

    def literal(self, n):
        if isinstance(n, BoolNode):
            v = n.value
            return lambda st, dot: v
        if isinstance(n, DotNode):
            return lambda st, dot: dot
        if isinstance(n, StringNode):
            s = n.text
            return lambda st, dot: s
        if isinstance(n, NumberNode):
            return self.ideal_constant(n)
        if isinstance(n, NilNode):
            return _failing(n, "nil is not a command")
        return _failing(n, "can't evaluate command %s" % quote(str(n)))

    def ideal_constant(self, n):
        if n.is_complex:
            return _failing(n, "complex constants are not supported")
        text = n.text
        is_hex_int = len(text) > 2 and text[0] == "0" and text[1] in "xX" and not any(c in text for c in "pP")
        if n.is_float and not is_hex_int and not text.startswith("'") and any(c in text for c in ".eEpP"):
            f = n.float_val
            return lambda st, dot: f
        if n.is_int:
            i = n.int_val
            return lambda st, dot: i
        if n.is_uint:
            return _failing(n, "%s overflows int" % text)
        return lambda st, dot: MISSING

    def arg_value(self, n):
        """Evaluate a node as an untyped argument (evalArg with typ == nil): MISSING kept."""
        if isinstance(n, DotNode):
            return lambda st, dot: dot
        if isinstance(n, NilNode):
            return lambda st, dot: None
        if isinstance(n, PipeNode):
            return self.pipe(n)
        if isinstance(n, VariableNode) and len(n.ident) == 1:
            name = n.ident[0]
            return lambda st, dot: _var_value(st, n, name)
        if isinstance(n, (FieldNode, VariableNode, IdentifierNode, ChainNode)):
            c = self.command(single_command(n))
            return lambda st, dot: c(st, dot, _NOFINAL)
        return self.literal(n)

    def typed_arg(self, n, typ):
        """evalArg(dot, typ, n): returns f(st, dot) -> value checked against typ."""
        if isinstance(n, (DotNode, FieldNode, VariableNode, PipeNode, IdentifierNode, ChainNode)):
            getv = self.arg_value(n)
            if typ is None:
                def iface_arg(st, dot):
                    v = getv(st, dot)
                    return None if v is MISSING else v
                return iface_arg
            if typ == REFLECT_VALUE:
                return getv

            def checked_arg(st, dot):
                return _validate(st, n, getv(st, dot), typ)
            return checked_arg
        if isinstance(n, NilNode):
            if can_be_nil(typ):
                nil = MISSING if typ == REFLECT_VALUE else None
                return lambda st, dot: nil
            return _failing(n, "cannot assign nil to %s" % typ)
        if is_interface(typ):
            return self.literal(n)
        value, expected = _typed_constant(n, typ)
        if expected is not None:
            return _failing(n, "expected %s; found %s" % (expected, n))
        if value is None:
            return _failing(n, "can't handle %s for arg of type %s" % (n, typ))
        return lambda st, dot: value

    def function(self, ident, cmd_node, args):
        name = ident.ident
        if name == "and" or name == "or":
            return self.and_or(ident, args, name == "and")
        fn = self.common.funcs.get(name)
        if fn is not None:
            params, variadic = func_signature(fn)
            return self.call(fn, ident, cmd_node, name, args[1:], params, variadic, False)
        builtin = BUILTINS.get(name)
        if builtin is None:
            return _failing(ident, "%s is not a defined function" % quote(name))
        fn, params, variadic = builtin
        return self.call(fn, ident, cmd_node, name, args[1:], params, variadic, True)

    def call(self, fn, at_node, err_node, name, argnodes, params, variadic, builtin):
        """Compile evalCall: argnodes are the explicit args; final value appended at runtime."""
        nfixed = len(params)
        nargs = len(argnodes)
        is_variadic = variadic is not False
        arg_fns = []
        for i, a in enumerate(argnodes):
            if i < nfixed:
                typ = params[i]
            elif is_variadic:
                typ = variadic
            else:
                typ = None
            arg_fns.append(self.typed_arg(a, typ))
        last_node = argnodes[-1] if argnodes else at_node

        if is_variadic:
            final_fixed_type = params[nargs] if nargs < nfixed else variadic
        else:
            final_fixed_type = params[-1] if params else None

        def do_call(st, dot, final):
            num_in = nargs + (0 if final is _NOFINAL else 1)
            if is_variadic:
                if num_in < nfixed:
                    _fail(st, at_node, "wrong number of args for %s: want at least %d got %d"
                          % (name, nfixed, nargs))
            elif num_in != nfixed:
                _fail(st, at_node, "wrong number of args for %s: want %d got %d" % (name, nfixed, num_in))
            argv = [f(st, dot) for f in arg_fns]
            if final is not _NOFINAL:
                argv.append(_validate(st, last_node, final, final_fixed_type))
            try:
                return fn(*argv)
            except Exception as e:
                _call_failed(st, err_node, name, e)

        if builtin or is_variadic or nfixed != nargs or nargs > 2:
            return do_call
        # the common fixed-arity function with no piped value, without building a list
        if nargs == 1:
            f0 = arg_fns[0]

            def call1(st, dot, final):
                if final is not _NOFINAL:
                    return do_call(st, dot, final)
                a0 = f0(st, dot)
                try:
                    return fn(a0)
                except Exception as e:
                    _call_failed(st, err_node, name, e)
            return call1
        if nargs == 2:
            f0, f1 = arg_fns

            def call2(st, dot, final):
                if final is not _NOFINAL:
                    return do_call(st, dot, final)
                a0 = f0(st, dot)
                a1 = f1(st, dot)
                try:
                    return fn(a0, a1)
                except Exception as e:
                    _call_failed(st, err_node, name, e)
            return call2
        return do_call

    def and_or(self, ident, args, is_and):
        arg_fns = [self.arg_value(a) for a in args[1:]]
        name = ident.ident

        def and_or(st, dot, final):
            if not arg_fns and final is _NOFINAL:
                _fail(st, ident, "wrong number of args for %s: want at least 1 got 0" % name)
            v = MISSING
            for f in arg_fns:
                v = f(st, dot)
                if truth(v) != is_and:
                    return v
            if final is not _NOFINAL:
                v = final
            return v
        return and_or

    def field_chain_cmd(self, node, recv_fn, idents, args):
        """evalFieldChain: recv_fn None means the receiver is dot."""
        idents = list(idents)
        last = idents[-1]
        prefix = idents[:-1]
        missingkey = self.missingkey
        argnodes = args[1:]
        has_args_static = len(args) > 1
        arg_fns = None

        def method_call(st, dot, m, final):
            nonlocal arg_fns
            if arg_fns is None:
                arg_fns = [self.typed_arg(a, None) for a in argnodes]
            params, variadic = func_signature(m)
            nfixed = len(params)
            num_in = len(argnodes) + (0 if final is _NOFINAL else 1)
            if variadic is False and num_in != nfixed:
                _fail(st, node, "wrong number of args for %s: want %d got %d" % (last, nfixed, num_in))
            if variadic is not False and num_in < nfixed:
                _fail(st, node, "wrong number of args for %s: want at least %d got %d"
                      % (last, nfixed, len(argnodes)))
            argv = [f(st, dot) for f in arg_fns]
            if final is not _NOFINAL:
                argv.append(None if final is MISSING else final)
            try:
                return m(*argv)
            except Exception as e:
                _call_failed(st, node, last, e)

        def method_call_noargs(st, m, name):
            try:
                return m()
            except TypeError as e:
                _fail(st, node, "wrong number of args for %s: %s" % (name, e))
            except Exception as e:
                _call_failed(st, node, name, e)

        def step(st, dot, recv, name, has_args, final, is_last):
            # evalField
            if recv is MISSING:
                if missingkey == "error":
                    _fail(st, node, "nil data; no entry for key %s" % quote(name))
                return MISSING
            if type(recv) is dict or (isinstance(recv, dict) and not hasattr(recv, "__go_method__")):
                if has_args:
                    _fail(st, node, "%s is not a method but has arguments" % name)
                return _map_entry(st, node, recv, name, missingkey)
            if recv is None:
                _fail(st, node, "nil pointer evaluating interface {}.%s" % name)
            gm = getattr(recv, "__go_method__", None)
            if gm is None:
                _fail(st, node, "can't evaluate field %s in type %s" % (name, go_type_name(recv)))
            m = gm(name)
            if m is not None:
                if is_last:
                    return method_call(st, dot, m, final)
                return method_call_noargs(st, m, name)
            try:
                v = recv.__go_field__(name)
            except NoSuchField:
                _fail(st, node, "can't evaluate field %s in type %s" % (name, go_type_name(recv)))
            except NilPointer:
                _fail(st, node, "nil pointer evaluating %s.%s" % (go_type_name(recv), name))
            if has_args:
                _fail(st, node, "%s has arguments but cannot be invoked as function" % name)
            return v

        if recv_fn is None and not prefix and not has_args_static:
            # .Field: the most common shape
            def field1(st, dot, final):
                if type(dot) is dict and final is _NOFINAL:
                    try:
                        return dot[last]
                    except KeyError:
                        pass
                return step(st, dot, dot, last, final is not _NOFINAL, final, True)
            return field1

        def chain(st, dot, final):
            recv = dot if recv_fn is None else recv_fn(st, dot)
            for name in prefix:
                if type(recv) is dict:
                    try:
                        recv = recv[name]
                        continue
                    except KeyError:
                        pass
                recv = step(st, dot, recv, name, False, _NOFINAL, False)
            has_args = has_args_static or final is not _NOFINAL
            if not has_args and type(recv) is dict:
                try:
                    return recv[last]
                except KeyError:
                    pass
            return step(st, dot, recv, last, has_args, final, True)
        return chain
