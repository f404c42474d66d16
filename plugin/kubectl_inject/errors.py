"""The one exception type the command line turns into a one-line error and exit code 1, and
the escaping of what goes to the terminal."""
import functools
import re

# What a terminal would act on rather than show: C0 controls (ESC starts colour, title and cursor
# sequences), DEL, C1 controls (0x9b is a one-byte CSI), and the bidirectional overrides that
# reorder what is shown. Input values reach error messages; these are printed escaped.
_UNSAFE_CLASS = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"


@functools.lru_cache(maxsize=1)
def _unsafe():
    """The pattern, compiled on first use: a class with characters beyond Latin-1 takes
    milliseconds to compile, and most runs print nothing on stderr."""
    return re.compile(_UNSAFE_CLASS)


def _escape(match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """text with every character a terminal would interpret written as an escape (\\x1b)."""
    return _unsafe().sub(_escape, text)


class InjectError(Exception):
    """A user-facing failure: bad input, bad configuration, or a refused injection.

    The message is printed as is, on one line, prefixed with "Error: " as istioctl does.
    """

    def one_line(self) -> str:
        return terminal_safe(" ".join(str(self).split()))
