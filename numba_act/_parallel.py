"""The parallel path: large calls split into contiguous chunks over threads.

The kernels release the GIL (``nogil=True``), so plain Python threads run
them in parallel.  This avoids Numba's ``parallel=True`` threading layers:
no second compiled variant of every kernel, and no abort when several Python
threads call in at once (the default workqueue layer is not thread-safe).

The number of threads is ``numba.get_num_threads()``, so
``numba.set_num_threads`` applies.  Calls below ``MIN_SIZE`` elements
(``MIN_SIZE_MEMORY_BOUND`` for memory-bound kernels) never touch a thread:
at that size a single thread finishes before a handoff to a second one pays
for itself, and calls made inside :func:`serial` (the blocks of a dask
graph, which dask already spreads over threads) never do.

A forked child process starts with no pool: the parent's worker threads do
not exist there (fork copies only the thread that called it), and work
handed to them would never run.  The child builds its own pool on its
first large call, so a child made by ``fork`` (pre-fork servers, data
loader workers, multiprocessing's default start method on Linux before
Python 3.14) works as its parent does, even if another parent thread was
in the middle of a call when it forked.
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba

# Elements per call from which the work is split: handing a chunk to a pool
# thread and collecting it costs tens of microseconds, which a kernel of
# about a nanosecond per element (float32 sigmoid) pays back only from about
# 2**19 elements (the asv threads benchmark measures it).
MIN_SIZE = 1 << 19
# The same for memory-bound kernels, a few arithmetic operations per element
# (relu, the backward passes computed from a), which gain from a second
# thread only from about 2**21 elements.
MIN_SIZE_MEMORY_BOUND = 1 << 21
_ALIGN = 64  # chunk boundaries stay on whole cache lines

_pool = None
_local = threading.local()


def _executor():
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=numba.config.NUMBA_NUM_THREADS, thread_name_prefix="numba_act")
    return _pool


def _forget_pool():
    # Drop the parent's executor without touching it: its threads are gone
    # in the child, and its locks and queue may have been held by them at
    # the moment of the fork.
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):  # POSIX; no fork elsewhere
    os.register_at_fork(after_in_child=_forget_pool)


def threads_for(size, min_size=MIN_SIZE):
    """How many threads a call of ``size`` elements should use: 1 below ``min_size``."""
    if size < min_size or getattr(_local, "serial", False):
        return 1
    return max(1, min(numba.get_num_threads(), size // (min_size // 2)))


def split(kernel, arrays, n, threads, align=_ALIGN):
    """Run ``kernel(*[a[lo:hi] for a in arrays])`` over ``threads`` chunks of range(n).

    All arrays are sliced along their first axis, which has length ``n``.
    The calling thread takes the first chunk itself; one thread runs the
    kernel on the arrays as they are (the chunking costs more than a small call).
    """
    if threads == 1:
        kernel(*arrays)
        return
    step = -(-n // threads)
    step = -(-step // align) * align
    bounds = [(lo, min(lo + step, n)) for lo in range(0, n, step)]
    futures = [_executor().submit(kernel, *[a[lo:hi] for a in arrays]) for lo, hi in bounds[1:]]
    try:
        lo, hi = bounds[0]
        kernel(*[a[lo:hi] for a in arrays])
    finally:
        for future in futures:
            future.result()


@contextlib.contextmanager
def serial():
    """Within this block, calls from the current thread run on that thread alone."""
    before = getattr(_local, "serial", False)
    _local.serial = True
    try:
        yield
    finally:
        _local.serial = before
