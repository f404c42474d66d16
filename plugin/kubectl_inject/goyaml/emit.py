"""Writing a JSON-compatible value as sigs.k8s.io/yaml.Marshal does: go-yaml v2's emitter
(emitterc.go) for the node shapes JSON can produce: block mappings with keys in sorter.go's
order, compact block sequences, "{}"/"[]" for empty ones, 2-space indent, and scalars in the
style scalar.py chooses, folded at 80 columns."""
from __future__ import annotations

from .jsontoyaml import key_error, key_fails, number_text
from .scalar import BREAKS, LITERAL, PLAIN, SINGLE, escape, escape_pattern, string_style
from .sorter import sorted_keys

__all__ = ["dump"]

_BEST_WIDTH = 80


class _Emitter:
    """go-yaml v2's emitter state: the output, its column, and emitterc.go's whitespace (ws)
    and indention (ind) flags."""

    __slots__ = ("out", "col", "ws", "ind", "indent", "root")

    def __init__(self, root):
        self.root = root
        self.out = []
        self.col = 0
        self.ws = True
        self.ind = True
        self.indent = -1

    # -- primitives -------------------------------------------------------------

    def write_indent(self, indent):
        """yaml_emitter_write_indent."""
        if indent < 0:
            indent = 0
        col = self.col
        if not self.ind or col > indent or (col == indent and not self.ws):
            self.out.append("\n")
            col = 0
        if col < indent:
            self.out.append(" " * (indent - col))
            col = indent
        self.col = col
        self.ws = True
        self.ind = True

    def write(self, text, need_space, keeps_indention=False):
        """yaml_emitter_write_indicator, and the plain scalars that start the same way: a
        space first unless the last thing written was whitespace."""
        if need_space and not self.ws:
            self.out.append(" ")
            self.col += 1
        self.out.append(text)
        self.col += len(text)
        self.ws = False
        if not keeps_indention:
            self.ind = False

    # -- nodes ------------------------------------------------------------------

    def node(self, v, mapping_ctx):
        t = type(v)
        if t is str:
            self.string(v)
        elif t is dict:
            if v:
                self.block_mapping(v)
            else:
                self.write("{}", True)
        elif t is list or t is tuple:
            if v:
                self.block_sequence(v, mapping_ctx)
            else:
                self.write("[]", True)
        elif v is None:
            self.write("null", True)
        elif t is bool:
            self.write("true" if v else "false", True)
        elif isinstance(v, (int, float)):
            self.write(number_text(v), True)
        elif isinstance(v, str):
            self.string(str(v))
        elif isinstance(v, dict):
            self.node(dict(v), mapping_ctx)
        elif isinstance(v, (list, tuple)):
            self.node(list(v), mapping_ctx)
        else:
            raise TypeError("goyaml.dump: cannot encode %s" % type(v).__name__)

    def block_mapping(self, d):
        saved = self.indent
        indent = 0 if saved < 0 else saved + 2
        self.indent = indent
        out = self.out
        for k in sorted_keys(d):
            if ("\x85" in k or len(k) > 200) and key_fails(k):
                raise key_error(self.root)
            self.write_indent(indent)
            _style, rendered, _last, multiline, _src = string_style(k)
            # yaml_emitter_check_simple_key: one line, at most 128 bytes of UTF-8 (up to 4 a
            # character, so only keys of 33 to 128 characters need encoding to tell).
            n = len(k)
            if not multiline and (n <= 32 or (n <= 128 and len(k.encode("utf-8")) <= 128)):
                # Simple key: "key:" on the current line, never folded (written here rather
                # than by write(): this is the emitter's hottest line).
                out.append(rendered + ":")
                self.col += len(rendered) + 1
                self.ws = False
                self.ind = False
            else:
                # Complex key: "? key" then ": value" on its own line.
                self.write("?", True, keeps_indention=True)
                self.string(k)
                self.write_indent(indent)
                self.write(":", True, keeps_indention=True)
            self.node(d[k], True)
        self.indent = saved

    def block_sequence(self, seq, mapping_ctx):
        saved = self.indent
        if saved < 0:
            indent = 0
        elif mapping_ctx and not self.ind:
            indent = saved  # compact: "- " level with the parent key
        else:
            indent = saved + 2
        self.indent = indent
        out = self.out
        for item in seq:
            self.write_indent(indent)
            out.append("-")  # after write_indent: no space needed, indention kept
            self.col += 1
            self.ws = False
            self.node(item, False)
        self.indent = saved

    def string(self, s):
        style, rendered, last_space, multiline, s = string_style(s)
        scalar_indent = 2 if self.indent < 0 else self.indent + 2
        if style == LITERAL:
            self.literal(s, scalar_indent)
        elif style == SINGLE and multiline:
            self.folded_single(s, scalar_indent)
        elif last_space < 0 or self.col + (0 if self.ws else 1) + last_space <= _BEST_WIDTH:
            self.write(rendered, True)  # nothing to fold
        elif style == PLAIN:
            self.folded_plain(s, scalar_indent)
        elif style == SINGLE:
            self.folded_single(s, scalar_indent)
        else:
            self.folded_double(s, scalar_indent)

    # -- folding writers (only when a line may exceed 80 columns) ---------------

    def line_break(self, ch):
        """A line break character of a scalar (write_break): the next line starts in
        indention."""
        self.out.append(ch)
        self.col = 0
        self.ind = True

    def space(self, fold, indent):
        """A space of a flow scalar, or where it folds (fold) a line break and indentation."""
        if fold:
            self.write_indent(indent)
        else:
            self.out.append(" ")
            self.col += 1

    def folded_plain(self, s, indent):
        """yaml_emitter_write_plain_scalar."""
        out = self.out
        if not self.ws:
            out.append(" ")
            self.col += 1
        spaces = False
        n = len(s)
        for i, ch in enumerate(s):
            if ch == " ":
                fold = not spaces and self.col > _BEST_WIDTH and (i + 1 >= n or s[i + 1] != " ")
                self.space(fold, indent)
                spaces = True
            else:
                out.append(ch)
                self.col += 1
                self.ind = False
                spaces = False
        self.ws = False
        self.ind = False

    def folded_single(self, s, indent):
        """yaml_emitter_write_single_quoted_scalar."""
        out = self.out
        self.write("'", True)
        spaces = False
        breaks = False
        n = len(s)
        for i, ch in enumerate(s):
            if ch == " ":
                fold = not spaces and self.col > _BEST_WIDTH and 0 < i < n - 1 and s[i + 1] != " "
                self.space(fold, indent)
                spaces = True
            elif ch in BREAKS:
                if not breaks and ch == "\n":
                    out.append("\n")  # a lone line break would read back as a space
                self.line_break(ch)
                breaks = True
            else:
                if breaks:
                    self.write_indent(indent)
                text = "''" if ch == "'" else ch
                out.append(text)
                self.col += len(text)
                self.ind = False
                spaces = False
                breaks = False
        self.write("'", False)

    def folded_double(self, s, indent):
        """yaml_emitter_write_double_quoted_scalar."""
        out = self.out
        self.write('"', True)
        spaces = False
        bom = s.startswith("\ufeff")
        needs_escape = escape_pattern(s).match
        n = len(s)
        for i, ch in enumerate(s):
            if bom or needs_escape(ch):
                e = escape(ch)
                out.append(e)
                self.col += len(e)
                spaces = False
            elif ch == " ":
                fold = not spaces and self.col > _BEST_WIDTH and 0 < i < n - 1
                self.space(fold, indent)
                if fold and s[i + 1] == " ":
                    out.append("\\")  # a continuation line's leading space must be escaped
                    self.col += 1
                spaces = True
            else:
                out.append(ch)
                self.col += 1
                spaces = False
        self.write('"', False)

    def literal(self, s, indent):
        """yaml_emitter_write_literal_scalar, with its block scalar hints."""
        out = self.out
        hints = "|"
        if s[0] == " " or s[0] in BREAKS:
            hints += "2"
        last = s[-1]
        if last not in BREAKS:
            hints += "-"
        elif len(s) == 1 or s[-2] in BREAKS:
            hints += "+"
        self.write(hints, True)
        self.line_break("\n")
        if "\r" not in s and "\x85" not in s and "\u2028" not in s and "\u2029" not in s:
            # only "\n" breaks: whole lines at once
            pad = " " * indent
            lines = s.split("\n")
            out.append("\n".join([pad + ln if ln else "" for ln in lines]))
            tail = lines[-1]
            if tail:
                self.col = indent + len(tail)
                self.ind = False
        else:
            breaks = True
            for ch in s:
                if ch in BREAKS:
                    self.line_break(ch)
                    breaks = True
                else:
                    if breaks:
                        self.write_indent(indent)
                    out.append(ch)
                    self.col += 1
                    self.ind = False
                    breaks = False
        # go-yaml sets "whitespace" when the block starts and never clears it.
        self.ws = True


def dump(value):
    """sigs.k8s.io/yaml.Marshal output for a JSON-compatible value."""
    e = _Emitter(value)
    e.node(value, False)
    # Document end: go-yaml's write_indent at indent 0.
    e.write_indent(0)
    return "".join(e.out)
