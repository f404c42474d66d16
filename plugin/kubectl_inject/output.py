"""Writing results to files: atomically (temporary file in the same directory, then rename), so a
reader never sees half a file and a failure changes nothing."""
from __future__ import annotations

import os
import tempfile

from .errors import InjectError


def write_atomically(path: str, text: str) -> None:
    """Write via a temporary file in the same directory and rename it over the target, so a
    reader never sees half a file and the input may be the output (istioctl would empty it)."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".kubectl-inject-", dir=directory)
    except OSError as err:
        raise InjectError(f"cannot write {path!r}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as err:
        os.unlink(tmp)
        raise InjectError(f"cannot write {path!r}: {err.strerror}") from None


def write_all_atomically(outputs) -> None:
    """--in-place: stage every file first, then rename them all; a failure while staging
    leaves every original untouched."""
    staged = []
    try:
        for path, text in outputs:
            directory = os.path.dirname(os.path.abspath(path))
            fd, tmp = tempfile.mkstemp(prefix=".kubectl-inject-", dir=directory)
            staged.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
    except OSError as err:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise InjectError(f"cannot write {path!r}: {err.strerror}; no file was changed") from None
    for tmp, path in staged:
        os.replace(tmp, path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
