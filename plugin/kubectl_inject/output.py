"""Writing results to files without losing or half-writing anything.

What is at the path decides how it is written:

* a regular file, or nothing yet: atomically, through a temporary file in the same directory that
  is renamed over it (a reader never sees half a file, a failure or a signal changes nothing, the
  input may be the output), keeping the file's mode and owner;
* a symbolic link: the same, at the file the link points to, so the link stays a link;
* a regular file with other hard links, or one whose owner we cannot give to a new file:
  rewritten in place (a rename would split the links or change the owner), as vim's
  `backupcopy` does: the complete new text is first staged and synced in a temporary file beside
  it (the recovery copy), then copied over the file with SIGINT and SIGTERM held, truncated to
  its length and synced, and only then is the copy removed. A signal therefore waits until the
  file is whole; only SIGKILL or a crash in that copy can leave it cut, and then the complete new
  text is on disk beside it (`.NAME.kubectl-inject-*`), as is an error's message if the copy fails;
* standard output itself (`-o /dev/stdout`), a device, a FIFO: written straight through (a rename
  would replace the device node or FIFO with a regular file).

Temporary files are removed on any failure, SIGINT and SIGTERM included (cli turns both into
exceptions); signals are held back while a temporary file is created and while the results are
renamed into place, so none can leave one behind or stop a set of renames half way.

What is written is a str or a Spool: the output of a run collected document by document while
the run goes on (nothing may be written before the whole input has succeeded), in memory up to
a few MiB and beyond that in an anonymous temporary file, so that memory stays bounded by the
input, not by the output (an injected Deployment is about ten times its input).
"""
from __future__ import annotations

import codecs
import contextlib
import os
# _signal, the signal module's C part: `signal` itself builds its enums at import (start-up time)
import _signal as signal
import stat
import sys

from .errors import InjectError

_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def signals_held():
    """SIGINT and SIGTERM wait until the block ends; then cli's handlers raise.

    Blocking them in this thread is not enough when the process has another thread (a cluster
    look-up's worker, one left by a timeout): the kernel then hands a process-directed signal to
    that thread, and Python runs the handler in the main thread at once, in the middle of the
    block. So the handlers are also swapped, in the main thread, for one that only notes the
    signal; at the end the handlers are put back, the mask lifted (a signal pending on the
    thread arrives now) and each noted signal raised again, to reach its own handler."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    noted = []
    swapped = {}
    try:
        for signum in sorted(_SIGNALS):
            swapped[signum] = signal.signal(signum, lambda number, frame: noted.append(number))
    except ValueError:  # not the main thread: Python runs no handler here, the mask holds
        pass
    try:
        yield
    finally:
        for signum, handler in swapped.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        for signum in dict.fromkeys(noted):
            signal.raise_signal(signum)


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


class Spool:
    """Text written piece by piece and read back once, in order, by chunks().

    Pieces are kept in memory until they add up to `limit` characters; then they go to an
    anonymous temporary file (O_TMPFILE where the system has it: it has no name, so nothing is
    left behind whatever ends the process), and so on for every `limit` characters. The file
    holds the text as UTF-8 with lone surrogates passed through, so what comes back is exactly
    what went in. If the file cannot be made or written (no temporary directory, a full disk),
    what it holds is read back and the rest stays in memory: the run does not fail for it."""

    LIMIT = 4 * 2**20  # characters kept in memory before they go to the file
    _ENCODING = ("utf-8", "surrogatepass")

    def __init__(self, limit: int | None = None):
        self.limit = self.LIMIT if limit is None else limit
        self._pending: list = []
        self._pending_chars = 0
        self._file = None  # the temporary file (unbuffered), once there is one
        self._in_file = 0  # bytes in the file
        self._memory_only = False

    def write(self, text: str) -> None:
        self._pending.append(text)
        self._pending_chars += len(text)
        if self._pending_chars >= self.limit and not self._memory_only:
            self._flush()

    def _flush(self) -> None:
        data = "".join(self._pending).encode(*self._ENCODING)
        try:
            if self._file is None:
                import tempfile  # lazy: with shutil, bz2, lzma and random, ~10 ms of a run that never spills
                with signals_held():  # without O_TMPFILE the file has a name until it is unlinked
                    self._file = tempfile.TemporaryFile(buffering=0)
            view = memoryview(data)
            while view:
                view = view[self._file.write(view):]
        except OSError:
            self._fall_back_to_memory()
            return
        self._in_file += len(data)
        self._pending = []
        self._pending_chars = 0

    def _fall_back_to_memory(self) -> None:
        """Everything in memory from now on: the file's complete part (what earlier flushes
        wrote) is read back in front of what is pending."""
        self._memory_only = True
        if self._file is None:
            return
        kept = bytearray()
        try:
            while len(kept) < self._in_file:
                block = os.pread(self._file.fileno(), min(2**20, self._in_file - len(kept)), len(kept))
                if not block:
                    break
                kept += block
        finally:
            self._close()
        if len(kept) != self._in_file:
            raise OSError("the temporary file holding the output could not be read back")
        self._in_file = 0
        self._pending.insert(0, kept.decode(*self._ENCODING))

    def chunks(self, size: int = 2**20):
        """The text written, in order, in pieces of about `size` characters or fewer."""
        if self._file is not None:
            decoder = codecs.getincrementaldecoder(self._ENCODING[0])(self._ENCODING[1])
            offset = 0
            while offset < self._in_file:
                block = os.pread(self._file.fileno(), min(size, self._in_file - offset), offset)
                if not block:
                    raise OSError("the temporary file holding the output was cut short")
                offset += len(block)
                text = decoder.decode(block)
                if text:
                    yield text
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
        yield from self._pending

    def _close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def close(self) -> None:
        self._close()
        self._pending = []
        self._pending_chars = 0
        self._in_file = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def chunks(content, size: int = 2**20):
    """The pieces of a str or a Spool, in order."""
    if isinstance(content, str):
        for start in range(0, len(content), size):
            yield content[start:start + size]
    else:
        yield from content.chunks(size)


def _stage(target: _Target, text, staged: list) -> None:
    """Write text into a new temporary file beside target.real, with its mode and owner; the
    file's name goes into `staged` (under held signals) before anything can interrupt.

    For a target rewritten in place the file is the recovery copy: it keeps mkstemp's private
    mode (0600) and its name says whose copy it is."""
    import tempfile  # lazy: only -o and --in-place write files (start-up time of the rest)
    directory = os.path.dirname(os.path.abspath(target.real))
    prefix = ".kubectl-inject-"
    if target.how == "rewrite":
        prefix = f".{os.path.basename(target.real)}.kubectl-inject-"
    with signals_held():
        fd, tmp = tempfile.mkstemp(prefix=prefix, dir=directory)
        staged.append(tmp)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for piece in chunks(text):
            handle.write(piece)
        handle.flush()
        os.fsync(handle.fileno())
    if target.how == "rewrite":
        return
    st = target.stat
    if st is not None:
        if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
            os.chown(tmp, st.st_uid, st.st_gid)
        os.chmod(tmp, st.st_mode & 0o7777)
    else:
        os.chmod(tmp, 0o666 & ~_umask())


def _write_through(target: _Target, text) -> None:
    """stdout, a device or a FIFO: the text as it comes (never truncated, never replaced)."""
    if target.how == "stdout":
        write_to_stdout(text)
        return
    fd = os.open(target.path, os.O_WRONLY)  # no O_TRUNC: a device or FIFO
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for piece in chunks(text):
            handle.write(piece)


def write_to_stdout(text) -> None:
    """text (a str or a Spool) on stdout, flushed. (cli.entry makes stdout UTF-8 whatever the
    locale or PYTHONIOENCODING say, as kubectl and istioctl write bytes.) OSError as the write
    gives it; a stdout closed before the process started is EBADF."""
    stream = sys.stdout
    if stream is None:
        raise OSError(9, "Bad file descriptor")
    for piece in chunks(text):
        stream.write(piece)
    stream.flush()


def _rewrite_from(staged_path: str, path: str) -> None:
    """Copy the staged file over path in place (the links and the owner stay), then cut path to
    that length and sync it. The caller holds SIGINT and SIGTERM: no signal stops it half way."""
    source = os.open(staged_path, os.O_RDONLY)
    try:
        fd = os.open(path, os.O_WRONLY)  # no O_TRUNC: never empty before the new text is in
        try:
            written = 0
            while True:
                block = os.read(source, 2**20)
                if not block:
                    break
                view = memoryview(block)
                while view:
                    count = os.pwrite(fd, view, written)
                    view = view[count:]
                    written += count
            os.ftruncate(fd, written)
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        os.close(source)


def _commit_rewrites(rewrites: list, staged: list) -> None:
    """Copy each (staged copy, target path) in place; the caller holds the signals. Each copy is
    removed once its target is whole; when a copy fails (_RewriteFailed), the staged copy of that
    target is kept and named in the error: the file may be cut, its new text is not lost."""
    for tmp, path in rewrites:
        try:
            _rewrite_from(tmp, path)
        except OSError as err:
            staged.remove(tmp)  # kept: the complete new text of a file now cut short
            raise _RewriteFailed(path, tmp, err) from None
        staged.remove(tmp)
        with contextlib.suppress(OSError):
            os.unlink(tmp)


class _RewriteFailed(Exception):
    def __init__(self, path: str, copy: str, err: OSError):
        super().__init__(path)
        self.path, self.copy, self.err = path, copy, err

    def error(self) -> InjectError:
        return _error(self.path, self.err, f"; the file may be incomplete: its complete new content is in "
                                           f"{self.copy!r}")


def _remove(staged: list) -> None:
    for tmp in staged:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    staged.clear()


def write_atomically(path: str, text) -> None:
    """-o: write text (a str or a Spool) to path as described in the module's docstring."""
    target = _Target(path)
    if target.how in ("stdout", "through"):
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
            if target.how == "rewrite":
                _commit_rewrites([(staged[0], target.real)], staged)
            else:
                os.replace(staged[0], target.real)
                staged.clear()
    except _RewriteFailed as failed:
        raise failed.error() from None
    except OSError as err:
        raise _error(path, err) from None
    finally:
        _remove(staged)


def write_all_atomically(outputs) -> None:
    """--in-place: outputs are (path, str or Spool). Every file is staged first (a failure then
    leaves every original untouched); then, with SIGINT and SIGTERM held, the files rewritten in
    place (hard links, an owner we cannot give) are copied over from their staged copies and the
    others renamed into place. Devices and FIFOs are written through before that."""
    targets = [(_Target(path), text) for path, text in outputs]
    staged: list = []
    renames, rewrites = [], []
    path = ""
    changed = False
    try:
        for target, text in targets:
            path = target.path
            if target.how == "replace":
                _stage(target, text, staged)
                renames.append((staged[-1], target.real))
            elif target.how == "rewrite":
                _stage(target, text, staged)
                rewrites.append((staged[-1], target.real))
        for target, text in targets:
            path = target.path
            if target.how in ("stdout", "through"):
                changed = True
                _write_through(target, text)
        with signals_held():
            changed = True
            _commit_rewrites(rewrites, staged)
            for tmp, real in renames:
                path = real
                os.replace(tmp, real)
                staged.remove(tmp)
    except _RewriteFailed as failed:
        raise failed.error() from None
    except OSError as err:
        raise _error(path, err, "" if changed else "; no file was changed") from None
    finally:
        _remove(staged)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
