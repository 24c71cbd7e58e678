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

Unknown chunk sizes (dask's nan, as boolean indexing ``x[x[:, 0] > 0]``
makes) are kept as they are: no axis of unknown sizes is ever rechunked,
so elementwise functions, their derivatives and VJPs, and the softmax
family along an axis of known sizes work on them, dask-backed xarray
objects included.  Inputs combined in one call must then have unknown
sizes along the same axes, in the same number of chunks.  The softmax
family along an axis of unknown sizes works while that axis is one chunk;
over several chunks it would have to merge them, which needs their sizes,
and raises ValueError asking for ``compute_chunk_sizes()``; so does a
NumPy array combined with a dask array of unknown sizes.

Neither library is imported unless such an object is passed in; the
checks here look at the type's module name only.
"""

import functools
import math

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


def any_dask_or_xarray(arrays):
    return any(type(a) is not np.ndarray and kind(a) is not None for a in arrays)


def _no_out(out, what):
    if out is not None:
        raise TypeError(f"out= is not supported for {what} input: the result is a new {what} object")


def _array(result):
    # The NumPy path unwraps 0-d results to scalars; a block must stay an array.
    return np.asarray(result) if isinstance(result, np.generic) else result


# The functions that xarray's apply_ufunc and dask's map_blocks call: on the
# NumPy blocks of a dask array, or on the data of an xarray object, which is
# a dask array itself where the object is dask-backed (and stays lazy).


def _elementwise_of(op, names, *arrays):
    if any_dask_or_xarray(arrays):
        return elementwise(op, arrays, None, names)
    return _array(_arrays.elementwise(op, arrays, None, names))


def _rows_of(op, names, axis, *arrays):
    if any_dask_or_xarray(arrays):
        return rows(op, arrays, axis, None, names)
    return _array(_arrays.rows(op, arrays, axis, None, names))


def _one_thread(fn, *blocks):
    # dask spreads the blocks over its own threads: each block is one thread's work.
    with _parallel.serial():
        return fn(*blocks)


def _unknown(chunks):
    """Whether the chunk sizes along one axis are unknown (dask's nan)."""
    return any(math.isnan(c) for c in chunks)


def _same_chunks(a, b):
    """Equal chunks, where unknown sizes match unknown sizes in the same number of chunks."""
    return len(a) == len(b) and all(
        len(x) == len(y) and (x == y or (_unknown(x) and _unknown(y))) for x, y in zip(a, b, strict=True)
    )


def _check_shapes(converted, names):
    """Shapes as the NumPy path checks them; an axis of unknown sizes (nan) matches only one like it."""
    first, first_name = converted[0], names[0]
    for a, name in zip(converted[1:], names[1:], strict=True):
        if len(a.shape) != len(first.shape):
            _arrays.same_shape(name, a, first_name, first)  # raises the shape rule's error
        for axis, (m, n) in enumerate(zip(a.shape, first.shape, strict=True)):
            if not (math.isnan(m) or math.isnan(n)):
                if m != n:
                    _arrays.same_shape(name, a, first_name, first)
            elif not (math.isnan(m) and math.isnan(n)):
                unknown, known = (name, first_name) if math.isnan(m) else (first_name, name)
                raise ValueError(
                    f"{unknown} has unknown chunk sizes (nan) along axis {axis}, where {known}'s size is known: "
                    f"call compute_chunk_sizes() on {unknown} first"
                )
            elif len(a.chunks[axis]) != len(first.chunks[axis]):
                raise ValueError(
                    f"{first_name} and {name} have unknown chunk sizes (nan) along axis {axis}, in "
                    f"{len(first.chunks[axis])} and {len(a.chunks[axis])} chunks, which cannot be lined up: "
                    f"call compute_chunk_sizes() on them first"
                )


def _as_dask(arrays, names):
    """Every input as a dask array, after the dtype and shape checks that can run now."""
    import dask.array as da

    converted = [a if kind(a) == "dask" else _arrays.as_array(a, n) for a, n in zip(arrays, names, strict=True)]
    result = _arrays.result_dtype_of([a.dtype for a in converted], names)  # as the NumPy path: dtype first
    _check_shapes(converted, names)
    like = next(a for a in converted if kind(a) == "dask")
    return [a if kind(a) == "dask" else da.from_array(a, chunks=like.chunks) for a in converted], result


def _map_blocks(fn, arrays, dtype):
    import dask.array as da

    meta = np.empty((0,) * arrays[0].ndim, dtype)
    return da.map_blocks(functools.partial(_one_thread, fn), *arrays, dtype=dtype, meta=meta)


def _labelled(fn, arrays, core_dim=None):
    """``fn`` over the data of xarray ``arrays``; ``core_dim`` (if any) moved last, and back after."""
    import xarray as xr

    # A dimension of unknown size (dask-backed, chunks of nan) fails
    # apply_ufunc's size checks, as nan never equals nan: such dimensions
    # are passed as core dimensions excluded from those checks (they carry
    # no coordinate to align), and the input's order is restored after.
    unknown = [d for a in arrays for d, n in a.sizes.items() if d != core_dim and math.isnan(n)]
    core = list(dict.fromkeys(unknown)) + ([core_dim] if core_dim is not None else [])
    result = xr.apply_ufunc(
        fn,
        *arrays,
        input_core_dims=[core for _ in arrays],
        output_core_dims=[core],
        exclude_dims=set(unknown),
        dask="allowed",
        join="exact",
    )
    if not core:
        return result
    # apply_ufunc moves the core dimensions last; give back the input's order.
    first = arrays[0]
    if hasattr(result, "data_vars"):
        return result.map(lambda v: v.transpose(*first[v.name].dims))
    return result.transpose(*first.dims)


def elementwise(op, arrays, out, names):
    """The elementwise ``op`` over dask or xarray inputs (see the module docstring)."""
    block_fn = functools.partial(_elementwise_of, op, names)
    if any(kind(a) == "xarray" for a in arrays):
        _no_out(out, "xarray")
        return _labelled(block_fn, arrays)
    _no_out(out, "dask")
    arrays, dtype = _as_dask(arrays, names)
    return _map_blocks(block_fn, arrays, dtype)


def rows(op, arrays, axis, out, names):
    """The row-wise ``op`` along ``axis`` of dask or xarray inputs."""
    if any(kind(a) == "xarray" for a in arrays):
        _no_out(out, "xarray")
        first = arrays[0]
        if not hasattr(first, "get_axis_num"):
            raise TypeError(
                f"{names[0]} must be an xarray DataArray to be reduced along an axis number; "
                "for a Dataset, name the dimension with numba_act.xarray"
            )
        dim = first.dims[_arrays.normalize_axis(axis, first.ndim)] if first.ndim else None
        return labelled_rows(op, arrays, dim, names)
    _no_out(out, "dask")
    arrays, dtype = _as_dask(arrays, names)
    axis = _arrays.normalize_axis(axis, arrays[0].ndim) if arrays[0].ndim else 0
    first = arrays[0]
    if first.ndim and first.numblocks[axis] > 1:
        if _unknown(first.chunks[axis]):
            raise ValueError(
                f"{names[0]} has unknown chunk sizes (nan) along axis {axis}, the axis reduced over, whose "
                f"{first.numblocks[axis]} chunks must be merged into one: call compute_chunk_sizes() on "
                f"{names[0]} first"
            )
        first = _whole_rows(first, axis)
    # Every input in the same blocks (dask's own alignment could split rows).
    arrays = [first] + [a if _same_chunks(a.chunks, first.chunks) else _rechunk_like(a, first) for a in arrays[1:]]
    return _map_blocks(functools.partial(_rows_of, op, names, axis), arrays, dtype)


def _whole_rows(x, axis):
    """``x`` rechunked so that ``axis`` is one chunk.

    The other axes of known sizes are cut down so that a block holds no more
    than the input's largest block did (or one row); axes of unknown sizes
    keep their chunks, so that a block's extent along them, whatever it is,
    does not grow either.
    """
    from dask.array.core import normalize_chunks

    known = [i for i in range(x.ndim) if not _unknown(x.chunks[i])]
    largest = max(math.prod(max(x.chunks[i]) for i in known), x.shape[axis])
    limit = largest * x.dtype.itemsize
    cut = normalize_chunks(
        tuple(-1 if i == axis else "auto" for i in known),
        tuple(x.shape[i] for i in known),
        limit=limit,
        dtype=x.dtype,
        previous_chunks=tuple(x.chunks[i] for i in known),
    )
    chunks = list(x.chunks)
    for i, c in zip(known, cut, strict=True):
        chunks[i] = c
    return x.rechunk(tuple(chunks), block_size_limit=limit)


def _rechunk_like(a, like):
    # Axes of unknown sizes stay as they are: they were checked to be in as
    # many chunks as like's, and dask can only keep them, never move them.
    return a.rechunk(tuple(own if _unknown(own) else new for own, new in zip(a.chunks, like.chunks, strict=True)))


def labelled_rows(op, arrays, dim, names):
    """The row-wise ``op`` along the dimension ``dim`` of xarray inputs (None: 0-d)."""
    for a, name in zip(arrays, names, strict=True):
        chunks = a.chunksizes.get(dim, ()) if dim is not None else ()
        if len(chunks) > 1 and _unknown(chunks):  # said here by name, not as the axis apply_ufunc moves it to
            raise ValueError(
                f"{name} has unknown chunk sizes (nan) along dimension {dim!r}, the dimension reduced over, "
                f"whose {len(chunks)} chunks must be merged into one: call compute_chunk_sizes() on its "
                "dask array (.data) first"
            )
    return _labelled(functools.partial(_rows_of, op, names, -1), arrays, dim)


def _ones_block(dtype, block):
    return np.ones(block.shape, dtype)


def _ones_of(data):
    rule = _arrays.dtype_rule(np.dtype(data.dtype), "a")[1]
    if kind(data) == "dask":
        import dask.array as da

        if any(_unknown(c) for c in data.chunks):  # the sizes come from data's blocks, once computed
            meta = np.empty((0,) * data.ndim, rule)
            return data.map_blocks(functools.partial(_ones_block, rule), dtype=rule, meta=meta)
        return da.ones(data.shape, dtype=rule, chunks=data.chunks)
    return np.ones(_arrays.as_array(data, "a").shape, rule)


def ones(a, out):
    """ones_like(a) in a's result dtype, lazily: the row-wise local derivative."""
    if kind(a) == "xarray":
        _no_out(out, "xarray")
        return _labelled(_ones_of, [a])
    _no_out(out, "dask")
    return _ones_of(a)
