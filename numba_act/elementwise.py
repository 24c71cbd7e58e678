"""Elementwise array kernels, built from the scalar kernels.

For each scalar kernel there are four compiled functions
(:class:`numba_act._jit.CompiledOp`):

- ``flat(*inputs, out)``: the loop itself, over 1-D contiguous arrays.  A
  plain index loop over the inlined scalar kernel, so LLVM vectorizes it.
- ``into(*inputs, out)``: inputs of any layout and the shape of the
  C-contiguous ``out``; non-contiguous inputs, and inputs whose memory
  ``out`` may meet, are copied first (:func:`numba_act._jit.detached`).
- ``blocks(*inputs, out)``: ``flat`` for an ``out`` that is also one of
  the inputs (``sigmoid(x, out=x)``), on arrays as ``into`` takes them
  (it flattens them itself: in Python that cost 0.6 us a call).  There LLVM's run-time overlap check
  sends every element of ``flat`` down the scalar loop that it keeps beside
  the vector one (7x slower, measured), so ``blocks`` runs ``flat`` block by
  block into a small buffer that is copied back.  The Python entry point picks it;
  compiled only once used.
- ``new(*inputs)``: allocates and returns the result, in the inputs' memory
  order (Fortran-ordered inputs give a Fortran-ordered result, uncopied),
  and runs ``flat`` on it: a fresh result needs none of ``into``'s
  checks of an ``out`` (its shape, its overlap with the inputs), so a
  first call without ``out`` does not compile them.

The Python entry point calls ``flat`` (on the C-contiguous input of a
forward pass, raveled, with the result allocated in Python), or ``new``,
``into`` by way of ``try_into`` (:class:`numba_act._jit.CompiledOp`) and
``blocks`` with the user's arrays as they are, so that a call costs one
dispatch or two; code inside ``@njit`` calls ``new`` and ``into``.  Each
is a copy of a template below with the activation's kernel bound in (see
:func:`numba_act._jit.specialize`).
"""

import numpy as np
from numba import types

from numba_act import _parallel
from numba_act._jit import (  # noqa: F401  (check_shapes, copy, detached, wide_vectors: used by the templates)
    CompiledOp,
    check_shapes,
    copy,
    detached,
    overload_kernel,
    specialize,
    templates,
    wide_vectors,
)

# Bound per activation by specialize(); unset in the templates themselves.
f = df = flat = into = None

# Elements per block of an in-place call: the block and its buffer stay in L1.
_BLOCK = 2048

# The templates, as source: ``{p}`` stands for the activation's parameters,
# float64 values passed after the arrays (", p0, p1" for two, nothing for
# none), since a parameterless call pays for every argument it carries (an
# empty tuple or *args costs a dispatch about 0.08 us) and Numba cannot
# forward *args into an inlined kernel.  Each block is copied back over a
# view of out: indexing out[lo + i] would keep Numba's negative-index
# wraparound in the loop, which then ran 9x slower.
_TEMPLATES = """
def forward_flat(x, out{p}):
    wide_vectors()
    for i in range(x.size):
        out[i] = f(x[i]{p})


def derivative_flat(z, a, out{p}):
    wide_vectors()
    for i in range(z.size):
        out[i] = df(z[i], a[i]{p})


def vjp_flat(z, a, g, out{p}):
    wide_vectors()
    for i in range(z.size):
        out[i] = g[i] * df(z[i], a[i]{p})


def blocks1(x, out{p}):
    x, out = np.ascontiguousarray(x).reshape(-1), out.reshape(-1)
    buf = np.empty(min(out.size, _BLOCK), out.dtype)
    for lo in range(0, out.size, _BLOCK):
        part = buf[: min(_BLOCK, out.size - lo)]
        flat(x[lo : lo + _BLOCK], part{p})
        copy(part, out[lo : lo + part.size])


def blocks2(z, a, out{p}):
    z, a, out = np.ascontiguousarray(z).reshape(-1), np.ascontiguousarray(a).reshape(-1), out.reshape(-1)
    buf = np.empty(min(out.size, _BLOCK), out.dtype)
    for lo in range(0, out.size, _BLOCK):
        part = buf[: min(_BLOCK, out.size - lo)]
        flat(z[lo : lo + _BLOCK], a[lo : lo + _BLOCK], part{p})
        copy(part, out[lo : lo + part.size])


def blocks3(z, a, g, out{p}):
    z, a = np.ascontiguousarray(z).reshape(-1), np.ascontiguousarray(a).reshape(-1)
    g, out = np.ascontiguousarray(g).reshape(-1), out.reshape(-1)
    buf = np.empty(min(out.size, _BLOCK), out.dtype)
    for lo in range(0, out.size, _BLOCK):
        part = buf[: min(_BLOCK, out.size - lo)]
        flat(z[lo : lo + _BLOCK], a[lo : lo + _BLOCK], g[lo : lo + _BLOCK], part{p})
        copy(part, out[lo : lo + part.size])


def into1(x, out{p}):
    check_shapes(x.shape, out.shape)
    flat(detached(x, out).reshape(-1), out.reshape(-1){p})
    return out


def into2(z, a, out{p}):
    check_shapes(z.shape, a.shape, out.shape)
    flat(detached(z, out).reshape(-1), detached(a, out).reshape(-1), out.reshape(-1){p})
    return out


def into3(z, a, g, out{p}):
    check_shapes(z.shape, a.shape, g.shape, out.shape)
    flat(detached(z, out).reshape(-1), detached(a, out).reshape(-1), detached(g, out).reshape(-1), out.reshape(-1){p})
    return out


def new1(x{p}):
    x_, out = memory_order(x)
    flat(np.ascontiguousarray(x_).reshape(-1), out.reshape(-1){p})
    return restore_order(out, x)


def new2(z, a{p}):
    check_shapes(z.shape, a.shape)
    z_, a_, out = memory_order(z, a)
    flat(np.ascontiguousarray(z_).reshape(-1), np.ascontiguousarray(a_).reshape(-1), out.reshape(-1){p})
    return restore_order(out, z, a)


def new3(z, a, g{p}):
    check_shapes(z.shape, a.shape, g.shape)
    z_, a_, g_, out = memory_order(z, a, g)
    z_, a_, g_ = np.ascontiguousarray(z_), np.ascontiguousarray(a_), np.ascontiguousarray(g_)
    flat(z_.reshape(-1), a_.reshape(-1), g_.reshape(-1), out.reshape(-1){p})
    return restore_order(out, z, a, g)
"""


def _fortran(arrays):
    return all(isinstance(a, types.Array) and a.layout == "F" for a in arrays)


def memory_order(*arrays):
    """(*views, out): the inputs and a new output to hand to ``into``, in the inputs' memory order.

    Elementwise results do not depend on the order elements are visited in,
    so Fortran-ordered inputs are not gathered into C order (a transposing
    copy, several times slower than the kernel): their transposes, which are
    C-contiguous, go to the kernel with an output of the transposed shape,
    and :func:`restore_order` gives back a Fortran-ordered result, as NumPy's
    ufuncs do.  Any other layout gives a C-ordered result.
    """
    raise NotImplementedError("compiled code only")


def restore_order(out, *arrays):
    """``out`` of :func:`memory_order` (for the same ``arrays``) in the inputs' shape."""
    raise NotImplementedError("compiled code only")


@overload_kernel(memory_order)
def _memory_order_overload(*arrays):
    if not _fortran(arrays):
        return lambda *arrays: arrays + (np.empty(arrays[0].shape, arrays[0].dtype),)
    if len(arrays) == 1:
        return lambda *arrays: (arrays[0].T, np.empty(arrays[0].shape[::-1], arrays[0].dtype))
    if len(arrays) == 2:
        return lambda *arrays: (arrays[0].T, arrays[1].T, np.empty(arrays[0].shape[::-1], arrays[0].dtype))
    return lambda *arrays: (arrays[0].T, arrays[1].T, arrays[2].T, np.empty(arrays[0].shape[::-1], arrays[0].dtype))


@overload_kernel(restore_order)
def _restore_order_overload(out, *arrays):
    if _fortran(arrays):
        return lambda out, *arrays: out.T
    return lambda out, *arrays: out


def _op(name, kind, params, memory_bound, **bindings):
    flat_t, into_t, new_t, blocks_t = (
        templates(_TEMPLATES, globals(), params)[t]
        for t in (f"{kind}_flat", f"into{_INPUTS[kind]}", f"new{_INPUTS[kind]}", f"blocks{_INPUTS[kind]}")
    )
    flat_kernel = specialize(flat_t, f"{name}_flat", **bindings)
    into_kernel = specialize(into_t, f"{name}_into", flat=flat_kernel)
    new_kernel = specialize(new_t, f"{name}_new", flat=flat_kernel)
    blocks_kernel = specialize(blocks_t, f"{name}_blocks", flat=flat_kernel)
    min_parallel = _parallel.MIN_SIZE_MEMORY_BOUND if memory_bound else _parallel.MIN_SIZE
    return CompiledOp(
        into_kernel, new_kernel, flat_kernel, name=name, blocks=blocks_kernel, min_parallel=min_parallel, params=params
    )


_INPUTS = {"forward": 1, "derivative": 2, "vjp": 3}

# memory_bound: the scalar kernel is a few arithmetic operations, so that the
# loop runs at memory speed and is split over threads only on larger calls.
# params: how many float parameters the scalar kernel takes after its arguments.


def forward_op(name, scalar_kernel, memory_bound=False, params=0):
    """CompiledOp for out[i] = f(x[i], *params)."""
    return _op(name, "forward", params, memory_bound, f=scalar_kernel)


def derivative_op(name, scalar_derivative, memory_bound=False, params=0):
    """CompiledOp for out[i] = df(z[i], a[i], *params), the local derivative."""
    return _op(f"{name}_derivative", "derivative", params, memory_bound, df=scalar_derivative)


def binary_op(name, scalar_kernel):
    """CompiledOp for out[i] = f(a[i], b[i]), a function of two arrays (glu's halves)."""
    return _op(name, "derivative", 0, False, df=scalar_kernel)


def vjp_op(name, scalar_derivative, memory_bound=False, params=0):
    """CompiledOp for out[i] = g[i] * df(z[i], a[i], *params), the vector-Jacobian product."""
    return _op(f"{name}_vjp", "vjp", params, memory_bound, df=scalar_derivative)
