"""The template lexer: text/template/parse/lex.go.

Turns template text into a token list: text, delimiters (with Go's trim markers ``{{- `` and
`` -}}``), comments, and the items inside actions. Errors become an error token followed by EOF,
as Go's lexer emits them; the parser turns them into messages. Only Go's default delimiters
``{{``/``}}`` are supported (Istio never changes them).
"""
from __future__ import annotations

import bisect

from ..gostd.fmt import sprintf

__all__ = ["Token", "Lexer"]

T_ERROR, T_BOOL, T_CHAR, T_CHARCONST, T_COMMENT, T_ASSIGN, T_DECLARE, T_EOF, T_FIELD, \
    T_IDENT, T_LDELIM, T_LPAREN, T_NUMBER, T_PIPE, T_RAWSTRING, T_RDELIM, T_RPAREN, T_SPACE, \
    T_STRING, T_TEXT, T_VARIABLE, T_KEYWORD, T_BLOCK, T_BREAK, T_CONTINUE, T_DOT, T_DEFINE, \
    T_ELSE, T_END, T_IF, T_NIL, T_RANGE, T_TEMPLATE, T_WITH = range(34)

_KEYWORDS = {
    ".": T_DOT, "block": T_BLOCK, "break": T_BREAK, "continue": T_CONTINUE, "define": T_DEFINE,
    "else": T_ELSE, "end": T_END, "if": T_IF, "range": T_RANGE, "nil": T_NIL,
    "template": T_TEMPLATE, "with": T_WITH,
}

_SPACE = " \t\r\n"


class Token:
    """lex.go's item: type, text, byte position (here: character index) and line."""

    __slots__ = ("typ", "val", "pos", "line")

    def __init__(self, typ, val, pos, line):
        self.typ = typ
        self.val = val
        self.pos = pos
        self.line = line

    def __str__(self):
        # item.String; len(i.val) there counts bytes
        if self.typ == T_EOF:
            return "EOF"
        if self.typ == T_ERROR:
            return self.val
        if self.typ > T_KEYWORD:
            return "<" + self.val + ">"
        if len(self.val.encode("utf-8")) > 10:
            return sprintf("%.10q...", self.val)
        return sprintf("%q", self.val)


def _is_alnum(c: str) -> bool:
    # lex.go's isAlphaNumeric: '_', unicode.IsLetter (categories L), unicode.IsDigit (Nd only:
    # not str.isdigit, which also takes superscripts and other No digits)
    return c == "_" or c.isalpha() or c.isdecimal()


class Lexer:
    """Lex one template text; break_ok/continue_ok are false when a function of that name
    exists (Go then lexes the word as an identifier)."""

    def __init__(self, text: str, break_ok: bool = True, continue_ok: bool = True):
        self.text = text
        self.tokens: list[Token] = []
        self.nl = [i for i, c in enumerate(text) if c == "\n"]
        self.break_ok = break_ok
        self.continue_ok = continue_ok

    def line_of(self, pos: int) -> int:
        return 1 + bisect.bisect_left(self.nl, pos)

    def emit(self, typ, start, end):
        self.tokens.append(Token(typ, self.text[start:end], start, self.line_of(start)))

    def error(self, msg, start):
        self.tokens.append(Token(T_ERROR, msg, start, self.line_of(start)))
        self.tokens.append(Token(T_EOF, "", len(self.text), self.line_of(len(self.text))))
        return self.tokens

    def at_right_delim(self, pos):
        """(a right delimiter starts at pos, it carries the trim marker)."""
        t = self.text
        if t.startswith(" -}}", pos) or t.startswith("\t-}}", pos) or t.startswith("\r-}}", pos) \
                or t.startswith("\n-}}", pos):
            return True, True
        if t.startswith("}}", pos):
            return True, False
        return False, False

    def at_terminator(self, pos):
        t = self.text
        if pos >= len(t):
            return True
        c = t[pos]
        if c in _SPACE or c in ".,|:()":
            return True
        return t.startswith("}}", pos)

    def run(self) -> list[Token]:
        t = self.text
        n = len(t)
        pos = 0
        while True:
            # lexText
            x = t.find("{{", pos)
            if x < 0:
                if pos < n:
                    self.emit(T_TEXT, pos, n)
                self.tokens.append(Token(T_EOF, "", n, self.line_of(n)))
                return self.tokens
            after = x + 2
            trim_left = after + 1 < n and t[after] == "-" and t[after + 1] in _SPACE
            end_text = x
            if trim_left:
                end_text = len(t[pos:x].rstrip(_SPACE)) + pos
            if end_text > pos:
                self.emit(T_TEXT, pos, end_text)
            # lexLeftDelim
            pos = after
            after_marker = 2 if trim_left else 0
            if t.startswith("/*", pos + after_marker):
                # lexComment
                cstart = pos + after_marker
                k = t.find("*/", cstart + 2)
                if k < 0:
                    return self.error("unclosed comment", x)
                pos = k + 2
                delim, trim = self.at_right_delim(pos)
                if not delim:
                    return self.error("comment ends before closing delimiter", x)
                if trim:
                    pos += 2
                pos += 2
                if trim:
                    pos = n - len(t[pos:].lstrip(_SPACE))
                continue
            self.emit(T_LDELIM, x, x + 2)
            pos += after_marker
            r = self.lex_inside(pos)
            if r is None:
                return self.tokens
            pos = r

    @staticmethod
    def _closing_quote(t: str, pos: int, quote: str):
        """Index of the quote closing the literal opened at pos, or None when a newline or the
        end of the text comes first (escapes skip the next character)."""
        n = len(t)
        k = pos + 1
        while k < n and t[k] != "\n":
            if t[k] == "\\":
                if k + 1 >= n or t[k + 1] == "\n":
                    return None
                k += 2
                continue
            if t[k] == quote:
                return k
            k += 1
        return None

    def lex_inside(self, pos):
        """Lex one action; return the position after the right delimiter, or None on error."""
        t = self.text
        n = len(t)
        paren = 0
        while True:
            delim, trim = self.at_right_delim(pos)
            if delim:
                if paren != 0:
                    self.error("unclosed left paren", pos)
                    return None
                if trim:
                    pos += 2
                self.emit(T_RDELIM, pos, pos + 2)
                pos += 2
                if trim:
                    pos = n - len(t[pos:].lstrip(_SPACE))
                return pos
            if pos >= n:
                self.error("unclosed action", pos)
                return None
            c = t[pos]
            start = pos
            if c in _SPACE:
                k = pos
                while k < n and t[k] in _SPACE:
                    k += 1
                # a trim-marked closing delimiter starts with one space: don't eat it
                if t.startswith("-}}", k) and k - 1 >= pos:
                    if k - pos == 1:
                        pos = k - 1  # the space belongs to the trim marker: loop top takes it
                        continue
                    k -= 1
                self.emit(T_SPACE, pos, k)
                pos = k
                continue
            if c == "=":
                self.emit(T_ASSIGN, pos, pos + 1)
                pos += 1
            elif c == ":":
                if pos + 1 >= n or t[pos + 1] != "=":
                    self.error("expected :=", pos)
                    return None
                self.emit(T_DECLARE, pos, pos + 2)
                pos += 2
            elif c == "|":
                self.emit(T_PIPE, pos, pos + 1)
                pos += 1
            elif c == '"' or c == "'":
                kind, what = (T_STRING, "quoted string") if c == '"' else (T_CHARCONST, "character constant")
                k = self._closing_quote(t, pos, c)
                if k is None:
                    self.error(f"unterminated {what}", start)
                    return None
                self.emit(kind, pos, k + 1)
                pos = k + 1
            elif c == "`":
                k = t.find("`", pos + 1)
                if k < 0:
                    self.error("unterminated raw quoted string", start)
                    return None
                self.emit(T_RAWSTRING, pos, k + 1)
                pos = k + 1
            elif c == "$":
                pos = self.lex_field_or_var(pos, T_VARIABLE)
                if pos is None:
                    return None
            elif c == "." and not (pos + 1 < n and "0" <= t[pos + 1] <= "9"):
                pos = self.lex_field_or_var(pos, T_FIELD)
                if pos is None:
                    return None
            elif c in "+-.0123456789":
                pos = self.lex_number(pos)
                if pos is None:
                    return None
            elif _is_alnum(c):
                k = pos
                while k < n and _is_alnum(t[k]):
                    k += 1
                word = t[pos:k]
                if not self.at_terminator(k):
                    self.error(sprintf("bad character %#U", ord(t[k])), start)
                    return None
                kw = _KEYWORDS.get(word)
                if kw is not None and kw > T_KEYWORD:
                    if (kw == T_BREAK and not self.break_ok) or (kw == T_CONTINUE and not self.continue_ok):
                        self.emit(T_IDENT, pos, k)
                    else:
                        self.emit(kw, pos, k)
                elif word in ("true", "false"):
                    self.emit(T_BOOL, pos, k)
                else:
                    self.emit(T_IDENT, pos, k)
                pos = k
            elif c == "(":
                paren += 1
                self.emit(T_LPAREN, pos, pos + 1)
                pos += 1
            elif c == ")":
                paren -= 1
                if paren < 0:
                    self.error("unexpected right paren", pos)
                    return None
                self.emit(T_RPAREN, pos, pos + 1)
                pos += 1
            elif ord(c) < 0x80 and c.isprintable():
                self.emit(T_CHAR, pos, pos + 1)
                pos += 1
            else:
                self.error(sprintf("unrecognized character in action: %#U", ord(c)), start)
                return None

    def lex_field_or_var(self, pos, typ):
        t = self.text
        k = pos + 1
        if self.at_terminator(k):
            if typ == T_VARIABLE:
                self.emit(T_VARIABLE, pos, k)
            else:
                self.emit(T_DOT, pos, k)
            return k
        n = len(t)
        while k < n and _is_alnum(t[k]):
            k += 1
        if not self.at_terminator(k):
            self.error(sprintf("bad character %#U", ord(t[k])), pos)
            return None
        self.emit(typ, pos, k)
        return k

    def lex_number(self, pos):
        t = self.text
        n = len(t)
        k = pos

        def accept(chars):
            nonlocal k
            if k < n and t[k] in chars:
                k += 1
                return True
            return False

        def accept_run(chars):
            nonlocal k
            while k < n and t[k] in chars:
                k += 1

        accept("+-")
        digits = "0123456789_"
        if accept("0"):
            if accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif accept("oO"):
                digits = "01234567_"
            elif accept("bB"):
                digits = "01_"
        accept_run(digits)
        if accept("."):
            accept_run(digits)
        if len(digits) == 11 and accept("eE"):
            accept("+-")
            accept_run("0123456789_")
        if len(digits) == 23 and accept("pP"):
            accept("+-")
            accept_run("0123456789_")
        accept("i")
        if k < n and _is_alnum(t[k]):
            k += 1
            self.error(sprintf("bad number syntax: %q", t[pos:k]), pos)
            return None
        self.emit(T_NUMBER, pos, k)
        return k
