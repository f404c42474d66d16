"""The grader's child processes (kubectl exec, kubectl inject): bounded in time and in output,
and never left running after lab-grade has ended.

subprocess.run(capture_output=True) keeps everything a child prints: a student's container whose
`ps` prints without end would grow the grader's memory until the time budget ran out (gigabytes).
Here each stream keeps at most `limit` bytes; beyond that the child is killed and the result says
so. Each child runs in its own session (process group), so that it and whatever it started can
be killed as one, at its deadline and by kill_all() when the command ends on a signal.
"""
from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

OUTPUT_LIMIT = 1 << 20   # bytes per stream; `ps -ef` in the sidecar prints well under 1 KB

_running: set = set()
_lock = threading.Lock()


@dataclass
class Finished:
    returncode: int | None   # None: killed (deadline or too much output)
    stdout: str
    stderr: str
    timed_out: bool = False
    too_long: bool = False


def _kill(proc: subprocess.Popen):
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)


def run(argv: list[str], timeout: float, limit: int = OUTPUT_LIMIT) -> Finished:
    """Run argv (stdin empty) for at most `timeout` seconds, keeping at most `limit` bytes of
    each of stdout and stderr. Raises OSError if it cannot be started."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    with _lock:
        _running.add(proc)
    out = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    end = time.monotonic() + timeout
    timed_out = too_long = False
    try:
        with selectors.DefaultSelector() as sel:
            for stream in out:
                sel.register(stream, selectors.EVENT_READ)
            while sel.get_map():
                left = end - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                for key, _ in sel.select(min(left, 1.0)):
                    block = os.read(key.fileobj.fileno(), 1 << 16)
                    if not block:
                        sel.unregister(key.fileobj)
                        continue
                    kept = out[key.fileobj]
                    if len(kept) + len(block) > limit:
                        too_long = True
                        break
                    kept += block
                if too_long:
                    break
        if timed_out or too_long:
            _kill(proc)
            proc.wait()
            returncode = None
        else:
            try:
                returncode = proc.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:   # closed its streams but lingers
                _kill(proc)
                proc.wait()
                returncode, timed_out = None, True
    finally:
        if proc.returncode is None:   # an exception on the way (KeyboardInterrupt, Terminated)
            _kill(proc)
            with contextlib.suppress(Exception):
                proc.wait(1)
        for stream in out:
            stream.close()
        with _lock:
            _running.discard(proc)
    text = {s: bytes(b).decode("utf-8", "replace") for s, b in out.items()}
    return Finished(returncode, text[proc.stdout], text[proc.stderr], timed_out, too_long)


def kill_all():
    """Every child still running (the command is ending, on a signal or an error)."""
    with _lock:
        running = list(_running)
    for proc in running:
        _kill(proc)
