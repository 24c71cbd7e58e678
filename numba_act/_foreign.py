"""dask arrays and xarray objects through the same public functions.

A ``dask.array.Array`` gives a lazy dask array of the same shape, chunks and
dtype rules: every block goes through the NumPy path when the graph runs.
The softmax family needs whole rows, so where the reduced axis spans
several chunks it is first rechunked into one (the other axes are cut down
so that no block outgrows the input's largest); the result is exact, never
a per-chunk softmax.  An xarray ``DataArray`` or ``Dataset`` gives the
same type back, with its dimensions and coordinates, through
``xarray.apply_ufunc``; a dask-backed one stays lazy.  ``out=`` cannot be
honoured for either (results are new lazy or labelled objects) and raises
TypeError.

Neither library is imported unless such an object is passed in; the
checks here look at the type's module name only.
"""

import functools

import numpy as np

from numba_act import _arrays, _parallel


def kind(x):
    """'dask' for a dask array, 'xarray' for an xarray object, else None."""
    module = type(x).__module__
    if module.startswith("dask.") and hasattr(x, "__dask_graph__") and hasattr(x, "chunks"):
        return "dask"
    if module.startswith("xarray."):
        return "xarray"
    return None


def any_foreign(arrays):
    return any(type(a) is not np.ndarray and kind(a) is not None for a in arrays)


def _no_out(out, what):
    if out is not None:
        raise TypeError(f"out= is not supported for {what} input: the result is a new {what} object")


def _array(result):
    # The NumPy path unwraps 0-d results to scalars; a block must stay an array.
    return np.asarray(result) if isinstance(result, np.generic) else result


def _elementwise_of(kernels, names, *arrays):
    return _array(_arrays.elementwise(kernels, arrays, None, names))


def _rows_of(kernels, names, axis, *arrays):
    return _array(_arrays.rows(kernels, arrays, axis, None, names))


def _one_thread(fn, *blocks):
    # dask spreads the blocks over its own threads: each block is one thread's work.
    with _parallel.serial():
        return fn(*blocks)


def _as_dask(arrays, names):
    """Every input as a dask array, after the dtype and shape checks that can run now."""
    import dask.array as da

    converted = [a if kind(a) == "dask" else _arrays.as_array(a, n) for a, n in zip(arrays, names, strict=True)]
    result = _arrays.result_dtype_of([a.dtype for a in converted], names)  # as the NumPy path: dtype first
    shape = converted[0].shape
    for a, name in zip(converted[1:], names[1:], strict=True):
        if a.shape != shape:
            raise ValueError(f"{name} has shape {a.shape}, expected {shape} (the shape of {names[0]})")
    like = next(a for a in converted if kind(a) == "dask")
    return [a if kind(a) == "dask" else da.from_array(a, chunks=like.chunks) for a in converted], result


def _map_blocks(fn, arrays, dtype):
    import dask.array as da

    meta = np.empty((0,) * arrays[0].ndim, dtype)
    return da.map_blocks(functools.partial(_one_thread, fn), *arrays, dtype=dtype, meta=meta)


def _labelled(fn, arrays, core_dim=None):
    import xarray as xr

    core = [[core_dim] if core_dim is not None else [] for _ in arrays]
    return xr.apply_ufunc(
        fn,
        *arrays,
        input_core_dims=core,
        output_core_dims=[core[0]],
        dask="allowed",
        join="exact",
    )


def elementwise(kernels, arrays, out, names):
    """The elementwise ``kernels`` over dask or xarray inputs (see the module docstring)."""
    block_fn = functools.partial(_elementwise_of, kernels, names)
    if any(kind(a) == "xarray" for a in arrays):
        _no_out(out, "xarray")
        return _labelled(block_fn, arrays)
    _no_out(out, "dask")
    arrays, dtype = _as_dask(arrays, names)
    return _map_blocks(block_fn, arrays, dtype)


def rows(kernels, arrays, axis, out, names):
    """The row-wise ``kernels`` along ``axis`` of dask or xarray inputs."""
    if any(kind(a) == "xarray" for a in arrays):
        _no_out(out, "xarray")
        first = arrays[0]
        if not hasattr(first, "get_axis_num"):
            raise TypeError(
                f"{names[0]} must be an xarray DataArray to be reduced along an axis number; "
                "for a Dataset, name the dimension with numba_act.xarray"
            )
        dim = first.dims[_arrays.normalize_axis(axis, first.ndim)] if first.ndim else None
        return labelled_rows(kernels, arrays, dim, names)
    _no_out(out, "dask")
    arrays, dtype = _as_dask(arrays, names)
    axis = _arrays.normalize_axis(axis, arrays[0].ndim) if arrays[0].ndim else 0
    first = arrays[0]
    if first.ndim and first.numblocks[axis] > 1:
        # Whole rows per block: the axis in one chunk, the others cut down
        # so that a block holds no more than the input's largest block did
        # (or one row).
        chunks = {i: "auto" for i in range(first.ndim)}
        chunks[axis] = -1
        largest = max(int(np.prod([max(c) for c in first.chunks])), first.shape[axis])
        first = first.rechunk(chunks, block_size_limit=largest * first.dtype.itemsize)
    # Every input in the same blocks (dask's own alignment could split rows).
    arrays = [first] + [a if a.chunks == first.chunks else a.rechunk(first.chunks) for a in arrays[1:]]
    return _map_blocks(functools.partial(_rows_of, kernels, names, axis), arrays, dtype)


def labelled_rows(kernels, arrays, dim, names):
    """The row-wise ``kernels`` along the dimension ``dim`` of xarray inputs (None: 0-d)."""
    result = _labelled(functools.partial(_rows_of, kernels, names, -1), arrays, dim)
    # apply_ufunc moves the core dimension last; give back the input's order.
    first = arrays[0]
    if hasattr(result, "data_vars"):
        return result.map(lambda v: v.transpose(*first[v.name].dims))
    return result.transpose(*first.dims)


def _ones_of(data):
    rule = _arrays.dtype_rule(np.dtype(data.dtype), "a")[1]
    if kind(data) == "dask":
        import dask.array as da

        return da.ones(data.shape, dtype=rule, chunks=data.chunks)
    return np.ones(_arrays.as_array(data, "a").shape, rule)


def ones(a, out):
    """ones_like(a) in a's result dtype, lazily: the row-wise local derivative."""
    if kind(a) == "xarray":
        _no_out(out, "xarray")
        return _labelled(_ones_of, [a])
    _no_out(out, "dask")
    return _ones_of(a)
