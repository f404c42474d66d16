"""The one exception type the command line turns into a one-line error and exit code 1, the
escaping of what goes to the terminal, and the one bounded reader of what comes from outside
(input files, stdin, the kubeconfig and the files it names, credential plugins' output): every
size cap is checked here, and its error is one InjectError naming what was too large.

(The reader lives here, in a module every run imports anyway, so that reading the input costs a
plain run no module of its own: start-up time.)"""
import functools
import os
import re
import stat

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


MiB = 2**20


def size_text(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit >= MiB and limit % MiB == 0 else f"{limit} bytes"


def read_bounded(handle, limit: int, what: str) -> bytearray:
    """Every byte of the binary file object `handle` (a file, a pipe, a device), at most `limit`
    of them: beyond that, InjectError '<what> is larger than <limit>' at once (an endless source,
    /dev/zero or a runaway pipe, costs at most `limit` bytes of memory). OSError passes through.
    A regular file's size is looked at first, so a large one is refused before it is read."""
    size = 2**16
    try:
        st = os.fstat(handle.fileno())
    except (OSError, AttributeError, ValueError):  # no descriptor (a test's BytesIO)
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):
        if st.st_size > limit:
            raise too_large(what, limit)
        size = st.st_size + 1  # one read for the whole file, one more to see its end
    data = bytearray()
    while True:
        block = handle.read(max(1, min(size, limit + 1 - len(data))))
        if not block:
            return data
        data += block
        if len(data) > limit:
            raise too_large(what, limit)
        size = MiB


def too_large(what: str, limit: int) -> InjectError:
    return InjectError(f"{what} is larger than {size_text(limit)} (kubectl inject reads at most "
                       f"{size_text(limit)} there)")
