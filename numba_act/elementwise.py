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
  order (Fortran-ordered inputs give a Fortran-ordered result, uncopied).

The Python entry point calls ``new``, or ``into`` by way of ``try_into``
(:class:`numba_act._jit.CompiledOp`), and ``blocks``, with the user's arrays as
they are, so that a call costs one dispatch or two; code inside ``@njit``
calls ``new`` and ``into``.  Each is a copy of a template below with the activation's kernel
bound in (see :func:`numba_act._jit.specialize`).
"""

import numpy as np
from numba import types

from numba_act import _parallel
from numba_act._jit import CompiledOp, check_shapes, copy, detached, overload_kernel, specialize, wide_vectors

# Bound per activation by specialize(); unset in the templates themselves.
f = df = flat = into = None

# Elements per block of an in-place call: the block and its buffer stay in L1.
_BLOCK = 2048


def _forward_flat(x, out):
    wide_vectors()
    for i in range(x.size):
        out[i] = f(x[i])


def _derivative_flat(z, a, out):
    wide_vectors()
    for i in range(z.size):
        out[i] = df(z[i], a[i])


def _vjp_flat(z, a, g, out):
    wide_vectors()
    for i in range(z.size):
        out[i] = g[i] * df(z[i], a[i])


# Each block is copied back over a view of out: indexing out[lo + i] would keep
# Numba's negative-index wraparound in the loop, which then ran 9x slower.


def _blocks1(x, out):
    x, out = np.ascontiguousarray(x).reshape(-1), out.reshape(-1)
    buf = np.empty(min(out.size, _BLOCK), out.dtype)
    for lo in range(0, out.size, _BLOCK):
        part = buf[: min(_BLOCK, out.size - lo)]
        flat(x[lo : lo + _BLOCK], part)
        copy(part, out[lo : lo + part.size])


def _blocks2(z, a, out):
    z, a, out = np.ascontiguousarray(z).reshape(-1), np.ascontiguousarray(a).reshape(-1), out.reshape(-1)
    buf = np.empty(min(out.size, _BLOCK), out.dtype)
    for lo in range(0, out.size, _BLOCK):
        part = buf[: min(_BLOCK, out.size - lo)]
        flat(z[lo : lo + _BLOCK], a[lo : lo + _BLOCK], part)
        copy(part, out[lo : lo + part.size])


def _blocks3(z, a, g, out):
    z, a, g, out = (
        np.ascontiguousarray(z).reshape(-1),
        np.ascontiguousarray(a).reshape(-1),
        np.ascontiguousarray(g).reshape(-1),
        out.reshape(-1),
    )
    buf = np.empty(min(out.size, _BLOCK), out.dtype)
    for lo in range(0, out.size, _BLOCK):
        part = buf[: min(_BLOCK, out.size - lo)]
        flat(z[lo : lo + _BLOCK], a[lo : lo + _BLOCK], g[lo : lo + _BLOCK], part)
        copy(part, out[lo : lo + part.size])


def _into1(x, out):
    check_shapes(x.shape, out.shape)
    flat(detached(x, out).reshape(-1), out.reshape(-1))
    return out


def _into2(z, a, out):
    check_shapes(z.shape, a.shape, out.shape)
    flat(detached(z, out).reshape(-1), detached(a, out).reshape(-1), out.reshape(-1))
    return out


def _into3(z, a, g, out):
    check_shapes(z.shape, a.shape, g.shape, out.shape)
    flat(detached(z, out).reshape(-1), detached(a, out).reshape(-1), detached(g, out).reshape(-1), out.reshape(-1))
    return out


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


def _new1(x):
    return restore_order(into(*memory_order(x)), x)


def _new2(z, a):
    return restore_order(into(*memory_order(z, a)), z, a)


def _new3(z, a, g):
    return restore_order(into(*memory_order(z, a, g)), z, a, g)


def _op(name, templates, memory_bound, **bindings):
    flat_template, into_template, new_template, blocks_template = templates
    flat_kernel = specialize(flat_template, f"{name}_flat", **bindings)
    into_kernel = specialize(into_template, f"{name}_into", flat=flat_kernel)
    new_kernel = specialize(new_template, f"{name}_new", into=into_kernel)
    blocks_kernel = specialize(blocks_template, f"{name}_blocks", flat=flat_kernel)
    min_parallel = _parallel.MIN_SIZE_MEMORY_BOUND if memory_bound else _parallel.MIN_SIZE
    return CompiledOp(into_kernel, new_kernel, flat_kernel, name=name, blocks=blocks_kernel, min_parallel=min_parallel)


# memory_bound: the scalar kernel is a few arithmetic operations, so that the
# loop runs at memory speed and is split over threads only on larger calls.


def forward_op(name, scalar_kernel, memory_bound=False):
    """CompiledOp for out[i] = f(x[i])."""
    return _op(name, (_forward_flat, _into1, _new1, _blocks1), memory_bound, f=scalar_kernel)


def derivative_op(name, scalar_derivative, memory_bound=False):
    """CompiledOp for out[i] = df(z[i], a[i]), the local derivative."""
    templates = (_derivative_flat, _into2, _new2, _blocks2)
    return _op(f"{name}_derivative", templates, memory_bound, df=scalar_derivative)


def vjp_op(name, scalar_derivative, memory_bound=False):
    """CompiledOp for out[i] = g[i] * df(z[i], a[i]), the vector-Jacobian product."""
    templates = (_vjp_flat, _into3, _new3, _blocks3)
    return _op(f"{name}_vjp", templates, memory_bound, df=scalar_derivative)
