"""The one exception type the command line turns into a one-line error and exit code 1."""


class InjectError(Exception):
    """A user-facing failure: bad input, bad configuration, or a refused injection.

    The message is printed as is, on one line, prefixed with "Error: " as istioctl does.
    """

    def one_line(self) -> str:
        return " ".join(str(self).split())
