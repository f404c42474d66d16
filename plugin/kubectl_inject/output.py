"""Writing results to files without losing or half-writing anything.

What is at the path decides how it is written:

* a regular file, or nothing yet: atomically, through a temporary file in the same directory that
  is renamed over it (a reader never sees half a file, a failure or a signal changes nothing, the
  input may be the output), keeping the file's mode and owner;
* a symbolic link: the same, at the file the link points to, so the link stays a link;
* a regular file with other hard links, or one whose owner we cannot give to a new file:
  rewritten in place (a rename would split the links or change the owner), not atomically;
* standard output itself (`-o /dev/stdout`), a device, a FIFO: written straight through (a rename
  would replace the device node or FIFO with a regular file).

Temporary files are removed on any failure, SIGINT and SIGTERM included (cli turns both into
exceptions); signals are held back while a temporary file is created and while the results are
renamed into place, so none can leave one behind or stop a set of renames half way.
"""
from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import tempfile

from .errors import InjectError

_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def signals_held():
    """SIGINT and SIGTERM wait (pending) until the block ends; then cli's handlers raise."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _Target:
    """Where and how one output is written: 'stdout', 'through', 'replace' or 'rewrite'."""

    def __init__(self, path: str):
        self.path = path
        try:
            st = os.stat(path)  # follows symbolic links
        except FileNotFoundError:
            st = None
        except OSError as err:
            raise InjectError(f"cannot write {path!r}: {err.strerror}") from None
        self.stat = st
        # a symbolic link is written at its target, so that it stays a link
        self.real = os.path.realpath(path) if os.path.islink(path) else path
        if st is not None and _is_stream(st, 1):
            self.how = "stdout"
        elif st is not None and not stat.S_ISREG(st.st_mode):
            self.how = "through"
        elif st is not None and (st.st_nlink > 1 or not _can_own(st)):
            self.how = "rewrite"
        else:
            self.how = "replace"


def _is_stream(st, fd: int) -> bool:
    try:
        other = os.fstat(fd)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (other.st_dev, other.st_ino)


def _can_own(st) -> bool:
    """Whether a new file of ours can get this file's owner (root can; others only their own)."""
    return os.geteuid() == 0 or (st.st_uid == os.geteuid() and st.st_gid in (os.getegid(), *os.getgroups()))


def _error(path: str, err: OSError, suffix: str = "") -> InjectError:
    return InjectError(f"cannot write {path!r}: {err.strerror or err}{suffix}")


def _stage(target: _Target, text: str, staged: list) -> None:
    """Write text into a new temporary file beside target.real, with its mode and owner; the
    file's name goes into `staged` (under held signals) before anything can interrupt."""
    directory = os.path.dirname(os.path.abspath(target.real))
    with signals_held():
        fd, tmp = tempfile.mkstemp(prefix=".kubectl-inject-", dir=directory)
        staged.append(tmp)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    st = target.stat
    if st is not None:
        if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
            os.chown(tmp, st.st_uid, st.st_gid)
        os.chmod(tmp, st.st_mode & 0o7777)
    else:
        os.chmod(tmp, 0o666 & ~_umask())


def _write_through(target: _Target, text: str) -> None:
    if target.how == "stdout":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    # no O_TRUNC for a device or FIFO; a hard-linked or foreign-owned file is emptied first
    flags = os.O_WRONLY | (os.O_TRUNC if target.how == "rewrite" else 0)
    fd = os.open(target.path, flags)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _remove(staged: list) -> None:
    for tmp in staged:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    staged.clear()


def write_atomically(path: str, text: str) -> None:
    """-o: write text to path as described in the module's docstring."""
    target = _Target(path)
    if target.how != "replace":
        try:
            _write_through(target, text)
        except BrokenPipeError:
            raise  # a closed pipe is cli's quiet exit
        except OSError as err:
            raise _error(path, err) from None
        return
    staged: list = []
    try:
        _stage(target, text, staged)
        with signals_held():
            os.replace(staged[0], target.real)
            staged.clear()
    except OSError as err:
        raise _error(path, err) from None
    finally:
        _remove(staged)


def write_all_atomically(outputs) -> None:
    """--in-place: stage every file first, then rename them all; a failure while staging
    leaves every original untouched. Files that must be rewritten in place (hard links, an
    owner we cannot give) are written after every other file is staged."""
    targets = [(_Target(path), text) for path, text in outputs]
    staged: list = []
    renames = []
    path = ""
    changed = False
    try:
        for target, text in targets:
            path = target.path
            if target.how == "replace":
                _stage(target, text, staged)
                renames.append((staged[-1], target.real))
        for target, text in targets:
            path = target.path
            if target.how != "replace":
                changed = True
                _write_through(target, text)
        changed = True
        with signals_held():
            for tmp, real in renames:
                path = real
                os.replace(tmp, real)
                staged.remove(tmp)
    except OSError as err:
        raise _error(path, err, "" if changed else "; no file was changed") from None
    finally:
        _remove(staged)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
