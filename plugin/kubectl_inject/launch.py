"""The console script's entry point: the first of our code a `kubectl inject` process runs.

Loading the package takes a good part of a second (the Kubernetes client, the type schemas). A
Ctrl-C or SIGTERM in that time would print a Python traceback (SIGINT) or end the process without
a word (SIGTERM); here both end it at once with 130 or 143 and nothing else, as no file has been
touched yet. cli.entry then installs the handlers that clean up after themselves. (Before this module runs,
in the interpreter's own start-up, a few tens of milliseconds, Python's defaults still apply.)
"""
from __future__ import annotations

import gc
import os

# _signal, not signal: the signal module builds its enums first, which takes milliseconds
import _signal


def _leave(signum, frame):  # nothing to clean up yet: leave at once, quietly
    os._exit(128 + signum)


GC_YOUNG_THRESHOLD = 50_000


def entry() -> None:
    _signal.signal(_signal.SIGINT, _leave)
    _signal.signal(_signal.SIGTERM, _leave)
    # No cyclic garbage collection while the package loads: everything it creates lives as long
    # as the process, so the collector's passes over it (about 4% of a one-Pod run) find nothing.
    # Then gc.freeze() leaves those objects out of every later collection.
    gc.disable()
    # lazy: the whole package loads only after the handlers are in place
    from .cli import entry as run
    gc.freeze()
    # Then collect young objects every 50,000 allocations rather than Python's 700 (as mypy
    # does): the injection's data is trees that reference counting frees, so a one-Pod run's
    # twenty-odd passes found nothing but cost 2% of its instructions; what can wait between
    # passes is bounded by the threshold (measured: 1,000 Deployments peak at 37 MiB, not 32).
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)
    gc.enable()
    run()
