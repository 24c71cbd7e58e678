"""Elementwise array kernels, built from the scalar kernels.

Every loop runs over flat, contiguous arrays of one float type; the door in
:mod:`numba_act._arrays` makes any input fit that shape.  Written as plain
index loops over inlined scalar kernels so that LLVM vectorizes them.
"""

from numba_act._jit import kernel


def forward_loop(f):
    """out[i] = f(x[i])."""

    @kernel
    def loop(x, out):
        for i in range(x.size):
            out[i] = f(x[i])

    return loop


def derivative_loop(df):
    """out[i] = df(z[i], a[i]): the local derivative."""

    @kernel
    def loop(z, a, out):
        for i in range(z.size):
            out[i] = df(z[i], a[i])

    return loop


def vjp_loop(df):
    """out[i] = g[i] * df(z[i], a[i]): the vector-Jacobian product."""

    @kernel
    def loop(z, a, g, out):
        for i in range(z.size):
            out[i] = g[i] * df(z[i], a[i])

    return loop
