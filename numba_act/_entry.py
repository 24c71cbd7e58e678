"""The Python entry point of every compiled operation, and the general path
it falls back on.

:func:`entry_point` builds a public function's fast path: plain native
arrays go straight to the compiled operation.  Everything else takes the
general path, :func:`elementwise` or :func:`rows`: dask arrays and xarray
objects to :mod:`numba_act._dask_xarray`, everything else to
:mod:`numba_act._arrays`, which converts by the dtype rules and checks
every argument before anything is written.
"""

import numpy as np

from numba_act import _arrays, _dask_xarray
from numba_act._jit import GeneralPath


def elementwise(op, arrays, out, names):
    """The general path of the elementwise compiled ``op`` (see :func:`numba_act._arrays.elementwise`)."""
    if _dask_xarray.any_dask_or_xarray(arrays):
        return _dask_xarray.elementwise(op, arrays, out, names)
    return _arrays.elementwise(op, arrays, out, names)


def rows(op, arrays, axis, out, names):
    """The general path of the row-wise compiled ``op`` along ``axis`` (see :func:`numba_act._arrays.rows`)."""
    if _dask_xarray.any_dask_or_xarray(arrays):
        return _dask_xarray.rows(op, arrays, axis, out, names)
    return _arrays.rows(op, arrays, axis, out, names)


# Bound once: the checks below run on every call, where a module attribute
# lookup costs about as much as a check.
_ndarray, _empty = np.ndarray, np.empty
NATIVE = _arrays.NATIVE
# What the compiled kernels raise, before writing anything, for a call they leave to the general path.
_REFUSALS = (GeneralPath, ValueError)


def entry_point(op, names, by_rows=False):
    """``call(*inputs, out=None)``, the Python entry point of ``op``: one, two or
    three inputs, as ``op`` takes them, called ``names`` in errors;
    ``by_rows`` for the row-wise kernels, along the last axis.  An ``op``
    with parameters gives ``call(*inputs, out, params)`` instead, ``params``
    the tuple of their float values.

    ndarrays of one native float dtype, the first of ndim >= 1, go straight
    to the compiled kernels.  Below the size from which calls are split
    over threads, the C-contiguous input of a forward pass goes to its
    ``flat`` loop, or its row kernel (``op.rows``), with the result
    allocated here, so that a first call compiles the loop alone and not
    ``new`` around it, with its allocation and its handling of other
    layouts; everything else goes to ``new`` (flattening two or three
    inputs here would cost more per call than ``new`` does).  An ``out`` of their
    dtype that is C-contiguous, aligned and writeable goes to ``try_into``
    (then the in-place kernel, for an ``out`` that is one of the inputs),
    which checks the sizes, shapes and overlaps itself.  Everything else,
    and what the kernels refuse (with GeneralPath, or ValueError for shapes
    that differ), goes to the general path (:func:`elementwise` or
    :func:`rows`), which converts and checks it all again and raises the
    documented errors; nothing is written before a refusal.

    Written out for each number of inputs: a Python call more, or
    ``*inputs``, would cost more than these checks.  ``in`` compares dtypes by identity first, as NumPy
    shares one object per builtin dtype, and by value after: arrays
    returned from compiled code carry equal copies of it.
    """
    new, try_into, limit, flat, by_dtype = op.new, op.try_into, op.min_parallel, op.flat, op.rows

    def general_path(arrays, out, params=()):
        if by_rows:
            return rows(op, arrays, -1, out, names)
        return elementwise(op.bind(params), arrays, out, names)

    in_place = op.blocks or op.into  # the row kernels handle an out that is an input themselves
    if op.params:
        return _entry_point_with_params(op, general_path, in_place)
    if op.inputs == 1:

        def call(x, out=None):
            if type(x) is _ndarray and x.dtype in NATIVE and x.ndim != 0:
                try:
                    if out is None:
                        if x.size < limit:
                            if x.flags.c_contiguous:
                                result = _empty(x.shape, x.dtype)
                                if flat is not None:
                                    flat(x.ravel(), result.ravel())
                                elif x.size:  # a row-wise op: its row kernel, on the rows
                                    row_kernel = by_dtype[x.dtype]
                                    if x.ndim == 2:
                                        row_kernel(x, result)
                                    else:
                                        n = x.shape[-1]
                                        row_kernel(x.reshape(-1, n), result.reshape(-1, n))
                                return result
                            return new(x)
                    elif type(out) is _ndarray and out.dtype == x.dtype and out.flags.carray:
                        if out is x and x.size < limit:  # nothing else to check: one dispatch saved
                            in_place(x, out)
                        elif try_into(x, out):
                            in_place(x, out)
                        return out
                except _REFUSALS:
                    pass
            return general_path((x,), out)

    elif op.inputs == 2:

        def call(z, a, out=None):
            if type(z) is _ndarray and type(a) is _ndarray and z.dtype in NATIVE and a.dtype == z.dtype and z.ndim != 0:
                try:
                    if out is None:
                        if z.size < limit:
                            return new(z, a)
                    elif type(out) is _ndarray and out.dtype == z.dtype and out.flags.carray:
                        if try_into(z, a, out):
                            in_place(z, a, out)
                        return out
                except _REFUSALS:
                    pass
            return general_path((z, a), out)

    else:

        def call(z, a, grad, out=None):
            if (
                type(z) is _ndarray
                and type(a) is _ndarray
                and type(grad) is _ndarray
                and z.dtype in NATIVE
                and a.dtype == z.dtype
                and grad.dtype == z.dtype
                and z.ndim != 0
            ):
                try:
                    if out is None:
                        if z.size < limit:
                            return new(z, a, grad)
                    elif type(out) is _ndarray and out.dtype == z.dtype and out.flags.carray:
                        if try_into(z, a, grad, out):
                            in_place(z, a, grad, out)
                        return out
                except _REFUSALS:
                    pass
            return general_path((z, a, grad), out)

    return call


def _entry_point_with_params(op, general_path, in_place):
    """``call(*inputs, out, params)`` for an ``op`` whose kernels take
    parameters after their arrays: :func:`entry_point`'s checks, on any
    number of inputs."""
    new, try_into, limit, flat = op.new, op.try_into, op.min_parallel, op.flat
    direct = flat is not None and op.inputs == 1

    def call(*arrays_out_params):
        *arrays, out, params = arrays_out_params
        first = arrays[0]
        if type(first) is _ndarray and first.dtype in NATIVE and first.ndim != 0:
            if all(type(a) is _ndarray and a.dtype == first.dtype for a in arrays):
                try:
                    if out is None:
                        if first.size < limit:
                            if direct and first.flags.c_contiguous:
                                result = _empty(first.shape, first.dtype)
                                flat(first.ravel(), result.ravel(), *params)
                                return result
                            return new(*arrays, *params)
                    elif type(out) is _ndarray and out.dtype == first.dtype and out.flags.carray:
                        if try_into(*arrays, out, *params):
                            in_place(*arrays, out, *params)
                        return out
                except _REFUSALS:
                    pass
        return general_path(arrays, out, params)

    return call
