"""Elementwise array kernels, built from the scalar kernels.

For each scalar kernel there are three compiled functions:

- ``flat(*inputs, out)``: the loop itself, over 1-D contiguous arrays.  A
  plain index loop over the inlined scalar kernel, so LLVM vectorizes it.
- ``into(*inputs, out)``: any shape and layout of the same shape as the
  C-contiguous ``out``; non-contiguous inputs are copied first.
- ``new(*inputs)``: allocates and returns the result.

The Python door calls ``new`` or ``into`` with the user's arrays as they
are, so that a call costs one dispatch; code inside ``@njit`` calls the same
functions.
"""

import numpy as np

from numba_act._jit import Kernels, check_shapes, kernel, wide_vectors


def forward(f):
    """out[i] = f(x[i])."""

    @kernel
    def flat(x, out):
        wide_vectors()
        for i in range(x.size):
            out[i] = f(x[i])

    @kernel
    def into(x, out):
        check_shapes(x.shape, out.shape)
        flat(np.ascontiguousarray(x).reshape(-1), out.reshape(-1))
        return out

    @kernel
    def new(x):
        return into(x, np.empty(x.shape, x.dtype))

    return Kernels(into, new, flat)


def derivative(df):
    """out[i] = df(z[i], a[i]): the local derivative."""

    @kernel
    def flat(z, a, out):
        wide_vectors()
        for i in range(z.size):
            out[i] = df(z[i], a[i])

    @kernel
    def into(z, a, out):
        check_shapes(z.shape, a.shape, out.shape)
        flat(np.ascontiguousarray(z).reshape(-1), np.ascontiguousarray(a).reshape(-1), out.reshape(-1))
        return out

    @kernel
    def new(z, a):
        return into(z, a, np.empty(z.shape, z.dtype))

    return Kernels(into, new, flat)


def vjp(df):
    """out[i] = g[i] * df(z[i], a[i]): the vector-Jacobian product."""

    @kernel
    def flat(z, a, g, out):
        wide_vectors()
        for i in range(z.size):
            out[i] = g[i] * df(z[i], a[i])

    @kernel
    def into(z, a, g, out):
        check_shapes(z.shape, a.shape, g.shape, out.shape)
        flat(
            np.ascontiguousarray(z).reshape(-1),
            np.ascontiguousarray(a).reshape(-1),
            np.ascontiguousarray(g).reshape(-1),
            out.reshape(-1),
        )
        return out

    @kernel
    def new(z, a, g):
        return into(z, a, g, np.empty(z.shape, z.dtype))

    return Kernels(into, new, flat)
