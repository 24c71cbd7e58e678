"""Compiler options for every kernel, declared once.

``error_model="numpy"`` drops the ZeroDivisionError check that would stop
LLVM from vectorizing ``1 / (1 + e)``.  The only fast-math flag is
``contract`` (fused multiply-add): ``reassoc`` would let LLVM fold the
two-constant range reduction of ``exp`` into one product, and
``nnan``/``ninf`` would break the NaN and -inf rules that softmax relies on.
Kernels are cached on disk (see the README for ``NUMBA_CACHE_DIR``); nothing
is compiled at import time.
"""

import numba

EXACT = frozenset({"contract"})
# Only for plain sums, where any order is as good as the serial one.
REDUCE = frozenset({"contract", "reassoc"})

_OPTIONS = {"error_model": "numpy", "cache": True, "nogil": True}


def kernel(fn=None, *, fastmath=EXACT, **options):
    """``numba.njit`` with the project's options; usable bare or with arguments."""
    decorate = numba.njit(fastmath=set(fastmath), **_OPTIONS, **options)
    return decorate if fn is None else decorate(fn)


def scalar(fn):
    """A scalar math kernel, inlined into every loop that calls it."""
    return numba.njit(fastmath=set(EXACT), inline="always", **_OPTIONS)(fn)
