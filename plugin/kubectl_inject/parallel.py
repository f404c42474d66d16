"""Several cores for a long manifest: the documents injected in several processes, the output
written in document order, exactly as one process writes it.

istioctl, in Go, spreads a long manifest's work over the machine's cores (its garbage collector
and YAML work run beside the injection); one Python process cannot. From a few documents on
(inject.PARALLEL_MIN_DOCUMENTS), when the process may run on two CPUs or more, `run` forks
workers after the first document (so they inherit everything the first one loaded: templates,
schema look-ups, and the Go types in force, `gotypes.schema.using`), and this process is one of
the workers besides giving out the work and writing the results in order.

Work goes out in batches of consecutive documents (a few kilobytes of input each). A worker
records what the per-document step gives `write`, `warn` and `notice` (and the error that stops
it, if any), and sends the batch's record back through a pipe; this process replays each record
in document order, so output, notices, warnings and the first error are those of one process,
and nothing after a failing document is replayed. At most DEPTH batches per process are out
and not yet replayed at a time (a worker holds at most DEPTH of them; a worker's finished
record waits in its pipe, this process's own in memory), so memory does not grow with the
input.

Signals and failures: SIGINT and SIGTERM end a worker at once, quietly (the default action);
this process gets them as usual (KeyboardInterrupt, or cli's Terminated) and, on its way out,
kills and reaps every worker (with the signals held, so that a second Ctrl-C cannot leave one
running). A worker ended by SIGINT or SIGTERM (alone, or with the process group) ends the run as
that signal would; a worker that dies otherwise (the OOM killer's SIGKILL, say) is a one-line
InjectError. A worker whose parent is gone finds its pipes closed and leaves.

KUBECTL_INJECT_JOBS=N: at most N processes (1: inject in this process only, as small inputs do).
KUBECTL_INJECT_DEBUG_WORKERS=1 (tests): each worker prints its pid on stderr as it starts.
"""
from __future__ import annotations

import marshal
import os
import select
import signal
import struct
import threading
from collections import deque

try:
    import fcntl
except ImportError:  # (no os.fork either there: jobs() is 1)
    fcntl = None

from .errors import InjectError

JOBS_ENV = "KUBECTL_INJECT_JOBS"
# Processes used when KUBECTL_INJECT_JOBS does not say: one per usable CPU, at most this many
# (the goal, and all that was measured, is a 2-core machine; more is KUBECTL_INJECT_JOBS's call).
MAX_JOBS = 2

# A batch ends after the document that brings it to BATCH_CHARS characters of input, or at
# BATCH_DOCUMENTS documents, fewer for a short input (run: several batches per process, so that
# the work is shared evenly): a typical Deployment (under 1 KB) costs ~10 ms to inject, the
# bookkeeping of a batch (record, marshal, pipe, replay) well under 0.1 ms.
BATCH_CHARS = 2048
BATCH_DOCUMENTS = 64
# Batches given to each worker and not yet received back (one being injected, the others done
# or waiting). Two left the worker idle ~15% of a run (this process, which also writes all the
# output, came back for its results late); three keeps it busy. Also this process's own share.
DEPTH = 3
PIPE_SIZE = 2**20  # results pipe capacity asked for (Linux caps it at /proc/sys/fs/pipe-max-size)

_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_HEADER = struct.Struct("<Q")
_TASK = struct.Struct("<QQ")


def jobs() -> int:
    """How many processes to inject with: KUBECTL_INJECT_JOBS if it is a positive number, else
    one per CPU this process may run on (at most MAX_JOBS). One where os.fork is missing, or when
    the process has other threads (a cluster look-up that timed out leaves one): forking then
    could copy a lock that thread holds."""
    if not hasattr(os, "fork"):
        return 1
    configured = os.environ.get(JOBS_ENV, "").strip()
    if configured:
        try:
            wanted = int(configured)
        except ValueError:
            raise InjectError(f"{JOBS_ENV}={configured!r}: not a number of processes (1 for one)") from None
        if wanted < 1:
            raise InjectError(f"{JOBS_ENV}={configured!r}: not a number of processes (1 for one)")
    else:
        try:
            wanted = min(len(os.sched_getaffinity(0)), MAX_JOBS)
        except (AttributeError, OSError):
            wanted = min(os.cpu_count() or 1, MAX_JOBS)
    if wanted > 1 and threading.active_count() > 1:
        return 1
    return wanted


def run(documents, count: int, work, outputs, jobs: int) -> None:
    """work(number, raw, write, warn, notice) for every (number, raw) of `documents` (`count` of
    them), on `jobs` processes, with what it gives write, warn and notice (outputs) given to them
    in document order; the first exception (in document order) raised after what came before it."""
    first = next(documents, None)
    if first is None:
        return
    # The first document here, before any fork: what it loads lazily, the workers inherit.
    work(*first, *outputs)
    # a few batches per process at least, so that a short input is shared evenly
    batches = _batches(documents, max(1, min(BATCH_DOCUMENTS, count // (4 * DEPTH * jobs))))
    workers: list = []
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        try:
            for _ in range(jobs - 1):
                workers.append(_Worker.start(documents, work, workers))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        _coordinate(batches, work, outputs, workers)
        for worker in workers:
            worker.finish()
    finally:
        # with the signals held: a second Ctrl-C must not leave a worker running
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            for worker in workers:
                worker.stop()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _batches(documents, most: int):
    """Lists of consecutive (number, raw): BATCH_CHARS of input or `most` documents."""
    batch, chars = [], 0
    for document in documents:
        batch.append(document)
        chars += len(document[1])
        if chars >= BATCH_CHARS or len(batch) >= most:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


class _Slot:
    """One batch given out, in document order: its record once it is known."""

    __slots__ = ("worker", "record")

    def __init__(self, worker, record=None):
        self.worker = worker  # None: injected here
        self.record = record  # (events, error) once known


def _coordinate(batches, work, outputs, workers) -> None:
    window = DEPTH * (len(workers) + 1)
    slots: deque = deque()  # batches given out and not yet replayed, in document order
    more = True
    while True:
        # keep every worker's queue full, within the window
        while more and len(slots) < window:
            worker = next((w for w in workers if w.queued < DEPTH), None)
            if worker is None:
                break
            batch = next(batches, None)
            if batch is None:
                more = False
                break
            worker.give(batch)
            slots.append(_Slot(worker))
        while slots and slots[0].record is not None:
            _replay(slots.popleft().record, outputs)
        if not slots:
            if not more:
                return
            continue
        head = slots[0]
        if head.worker.readable():
            head.record = head.worker.receive()
        elif more and len(slots) < window:  # nothing to write yet: inject a batch here
            batch = next(batches, None)
            if batch is None:
                more = False
                continue
            record = _inject(batch, work)
            slots.append(_Slot(None, record))
            if record[1] is not None:
                more = False  # nothing after a failing document is needed
        else:
            head.record = head.worker.receive()


def _replay(record, outputs) -> None:
    events, error = record
    for channel, text in events:
        outputs[channel](text)
    if error is not None:
        raise _exception(error)


def _inject(batch, work):
    """A batch's record: the (channel, text) events work gave the outputs, and its error."""
    events: list = []
    record = events.append

    def write(text):
        record((0, text))

    def warn(text):
        record((1, text))

    def notice(text):
        record((2, text))

    try:
        for number, raw in batch:
            work(number, raw, write, warn, notice)
    except Exception as err:  # in document order, after what came before it
        return events, _error(err)
    return events, None


def _error(err: Exception) -> tuple:
    """An exception as it can travel between processes: what cli prints of it is kept."""
    return (isinstance(err, InjectError), type(err).__name__, str(err))


def _exception(error: tuple) -> Exception:
    inject_error, name, message = error
    if inject_error:
        return InjectError(message)
    # a bug of ours in a worker: cli prints the type's name and the message, as from this process
    return type(name, (Exception,), {})(message)


class _Worker:
    """A forked worker: batches go to it as document number ranges through one pipe, their
    records (marshal) come back through another."""

    def __init__(self, pid: int, tasks: int, results: int):
        self.pid, self.tasks, self.results = pid, tasks, results
        self.queued = 0
        self.status = None  # wait status once reaped
        self._poll = select.poll()
        self._poll.register(results, select.POLLIN)

    @classmethod
    def start(cls, documents, work, others) -> "_Worker":
        tasks_r, tasks_w = os.pipe()
        results_r, results_w = os.pipe()
        try:
            fcntl.fcntl(results_w, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        except (AttributeError, OSError):  # (no fcntl, or no F_SETPIPE_SZ: Linux only)
            pass  # a smaller pipe only makes the worker wait for this process more often
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            code = 70
            try:
                for fd in (tasks_w, results_r, *(fd for w in others for fd in (w.tasks, w.results))):
                    os.close(fd)
                for signum in _SIGNALS:
                    signal.signal(signum, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
                if os.environ.get("KUBECTL_INJECT_DEBUG_WORKERS"):  # tests: which processes run
                    os.write(2, f"kubectl inject: worker {os.getpid()}\n".encode())
                _serve(documents, work, tasks_r, results_w)
                code = 0
            finally:
                os._exit(code)
        os.close(tasks_r)
        os.close(results_w)
        return cls(pid, tasks_w, results_r)

    def give(self, batch) -> None:
        message = _TASK.pack(batch[0][0], batch[-1][0])
        try:
            os.write(self.tasks, message)  # 16 bytes: one atomic write
        except BrokenPipeError:
            pass  # the worker is gone: receive() says how
        self.queued += 1

    def readable(self) -> bool:
        """Whether receive() would find something at once (a record, or the end of the pipe)."""
        return bool(self._poll.poll(0))

    def receive(self):
        """The record of the oldest batch given and not yet received (waits for it)."""
        header = _read(self.results, _HEADER.size)
        size = _HEADER.unpack(header)[0] if len(header) == _HEADER.size else 0
        payload = _read(self.results, size) if size else b""
        if not size or len(payload) < size:  # the pipe ended early: the worker is gone
            self._died()
        self.queued -= 1
        return marshal.loads(payload)

    def _died(self):
        os.close(self.tasks)
        self.tasks = -1
        self.status = os.waitpid(self.pid, 0)[1]
        if os.WIFSIGNALED(self.status):
            signum = os.WTERMSIG(self.status)
            if signum in _SIGNALS:
                signal.raise_signal(signum)  # a Ctrl-C or SIGTERM that reached the worker ends the run
            try:
                name = signal.Signals(signum).name
            except ValueError:
                name = f"signal {signum}"
            how = f"was killed by {name}" + (" (out of memory?)" if signum == signal.SIGKILL else "")
        else:
            how = f"ended unexpectedly (exit status {os.waitstatus_to_exitcode(self.status)})"
        raise InjectError(f"a worker process (pid {self.pid}) {how}; "
                          f"{JOBS_ENV}=1 injects in one process")

    def finish(self) -> None:
        """All batches are done: the worker sees its queue closed and leaves."""
        if self.tasks >= 0:
            os.close(self.tasks)
            self.tasks = -1
        if self.status is None:
            self.status = os.waitpid(self.pid, 0)[1]

    def stop(self) -> None:
        """Ended and reaped, whatever it was doing (cleanup: also after finish, harmless)."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.status = os.waitpid(self.pid, 0)[1]
        for fd in (self.tasks, self.results):
            if fd >= 0:
                os.close(fd)
        self.tasks = self.results = -1


def _read(fd: int, size: int) -> bytes:
    """size bytes, or fewer at end of file."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, PIPE_SIZE))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _serve(documents, work, tasks: int, results: int) -> None:
    """The worker's loop: inject each batch given, send its record; leave at end of the queue,
    after a failing batch, or when this process's parent is gone (a closed pipe)."""
    while True:
        task = _read(tasks, _TASK.size)
        if len(task) < _TASK.size:
            return
        start, end = _TASK.unpack(task)
        batch = []
        for number, raw in documents:  # this process's copy of the parent's iterator
            if number >= start:
                batch.append((number, raw))
                if number == end:
                    break
        events, error = _inject(batch, work)
        payload = marshal.dumps((events, error))
        del events
        try:
            _write(results, _HEADER.pack(len(payload)) + payload)
        except BrokenPipeError:
            return
        if error is not None:
            return


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
