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
from numba import types
from numba.extending import intrinsic

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


@intrinsic
def wide_vectors(typingctx):
    """Let LLVM vectorize the calling kernel with 512-bit registers.

    On CPUs with AVX-512, LLVM's default is to prefer 256-bit vectors; the
    exp-based kernels here are instruction-bound and run about 1.4x faster
    at full width.  This marks only the function that calls it (and what is
    inlined into it); on other CPUs the attributes change nothing.
    """

    def codegen(context, builder, signature, args):
        # llvmlite validates only named attributes; string attributes go in as is.
        attributes = builder.function.attributes
        set.add(attributes, '"prefer-vector-width"="512"')
        set.add(attributes, '"min-legal-vector-width"="512"')
        return context.get_dummy_value()

    return types.void(), codegen


@kernel
def check_shapes(first, *others):
    """ValueError unless all the shapes are equal (kernels never broadcast)."""
    for shape in others:
        if shape != first:
            raise ValueError("numba_act: the arrays must all have the same shape")


class Kernels:
    """The compiled entry points of one array operation.

    ``into(*inputs, out)`` writes into a C-contiguous ``out`` of the inputs'
    shape (inputs of any layout) and returns it; ``new(*inputs)`` allocates
    the result.  ``flat`` is the underlying 1-D loop, where there is one.
    """

    def __init__(self, into, new, flat=None):
        self.into, self.new, self.flat = into, new, flat
