"""SIGINT and SIGTERM as exceptions in the main thread, so that every exit path runs its cleanup
(children killed, temporary report files removed), and held() for the few steps a signal must
not cut in two (a temporary file created but not yet recorded for removal; a rename).

Why a flag and not pthread_sigmask (as plugin/kubectl_inject/output.py does): the grader has
threads. A signal blocked in the main thread is delivered to another thread, and CPython runs the
Python-level handler in the main thread anyway, at its next bytecode: the mask does not hold it.
"""
from __future__ import annotations

import contextlib
import signal
import threading


class Terminated(BaseException):
    """SIGTERM (a BaseException, as KeyboardInterrupt: `except Exception` must not swallow it)."""


_held = 0
_pending: int | None = None


def _raise(signum: int):
    raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated()


def _handler(signum, frame):
    global _pending
    if _held:
        _pending = signum
        return
    _raise(signum)


def install():
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _handler)
        signal.signal(signal.SIGTERM, _handler)


@contextlib.contextmanager
def held():
    """A signal arriving inside the block is raised when the block ends (main thread only)."""
    global _held, _pending
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        if not _held and _pending is not None:
            signum, _pending = _pending, None
            _raise(signum)
