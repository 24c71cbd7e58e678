"""The rules every call follows, and the general path for NumPy arrays:
input conversion, the dtype rules, the shape rule, ``out=`` checks, ndarray
subclasses, and the calls of the compiled operations on one thread or
several.

The common case (a native float32 or float64 array) goes straight from the
entry point (:mod:`numba_act._entry`) to one compiled call.  Everything else
is converted here first: kernels see native float32 or float64 arrays of
one dtype (any layout), with the reduced axis last for the softmax family.
Every check that can fail runs before anything is written.

dtype rules: float32 -> float32 and float64 -> float64, computed in that
type; float16 is computed in float32 and returned as float16; integer and
bool inputs give float64.  Anything else raises TypeError.
"""

import operator

import numpy as np

from numba_act import _parallel
from numba_act._jit import MAY_OVERLAP, SAME_VIEW, kernel, out_alias, overload_kernel

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
NATIVE = (F32, F64)  # the dtypes the compiled operations take
ACCEPTED = "float16, float32, float64, integer or bool"

# dtype -> (dtype computed in, dtype returned), for the dtypes that need no lookup.
_RULES = {F32: (F32, F32), F64: (F64, F64), F16: (F32, F16)}


def dtype_rule(dtype, name="x"):
    """(compute dtype, result dtype) for an input of ``dtype``."""
    rule = _RULES.get(dtype)
    if rule is not None:
        return rule
    if dtype.kind == "f" and dtype.itemsize in (2, 4, 8):  # byte-swapped floats
        return dtype_rule(dtype.newbyteorder("="), name)
    if dtype.kind in "biu":
        return F64, F64
    raise TypeError(f"{name} has dtype {dtype}; numba_act accepts {ACCEPTED} input")


def result_dtype_of(dtypes, names):
    """The dtype a call returns for inputs of ``dtypes``: each one's result dtype, promoted."""
    results = [dtype_rule(np.dtype(d), n)[1] for d, n in zip(dtypes, names, strict=True)]
    return results[0] if len(results) == 1 else np.result_type(*results)


def as_array(x, name="x"):
    """``x`` as an ndarray, with a clear error for what cannot be one."""
    if type(x) is np.ndarray:
        return x
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(
            f"{name} must be an array or a number, not {type(x).__name__}; numba_act accepts {ACCEPTED} input"
        )
    try:
        return np.asarray(x)
    except ValueError as err:  # ragged nested sequences
        raise ValueError(f"{name} is not a rectangular array: {err}") from None


def _shape_text(shape):
    """str(shape), in Python and (by its overload) inside @njit."""
    return str(tuple(shape))


@overload_kernel(_shape_text)
def _shape_text_overload(shape):
    if len(shape) == 0:
        return lambda shape: "()"

    def impl(shape):
        text = ""
        for n in shape:
            text += str(n) + ", "
        return "(" + (text[:-1] if len(shape) == 1 else text[:-2]) + ")"

    return impl


def _differ(shape, other):
    """shape != other, in Python and inside @njit, also for tuples of other lengths."""
    return shape != other


@overload_kernel(_differ)
def _differ_overload(shape, other):
    if len(shape) != len(other):
        return lambda shape, other: True
    return lambda shape, other: shape != other


def _source():
    """How an error starts: as is in Python; with "numba_act: " inside @njit, where the
    traceback does not say where it came from."""
    return ""


@overload_kernel(_source)
def _source_overload():
    return lambda: "numba_act: "


def _check_shape(what, array, like, expected):
    """The shape rule of every function: the arrays of one call have one shape
    (no broadcasting).  ValueError "<what> has shape (4,), expected (3,) (the
    shape of <like>)" unless ``array`` has the shape of ``expected``.

    Plain code on ndarray attributes, so that the same definition runs in
    Python (``check_shape.py_func``) and compiled (``check_shape``, in the
    ``@njit`` forms of :mod:`numba_act._overloads`).
    """
    if _differ(array.shape, expected.shape):
        raise ValueError(
            _source()
            + what
            + " has shape "
            + _shape_text(array.shape)
            + ", expected "
            + _shape_text(expected.shape)
            + " (the shape of "
            + like
            + ")"
        )


check_shape = kernel(_check_shape)
same_shape = check_shape.py_func  # the rule, run in Python


def check_out(out, shape, dtype):
    """Validate a user ``out`` before anything is written to it.

    ``out`` may be an input or overlap one (see :func:`detach`)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, not {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, expected {shape}")
    if out.dtype.newbyteorder("=") != dtype:  # a byte-swapped out is written through a copy
        raise TypeError(f"out has dtype {out.dtype}, expected {dtype}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if _overlaps_itself(out):
        raise ValueError(
            "out has elements that share memory (a zero or overlapping stride), so it cannot hold the result"
        )


def _overlaps_itself(a):
    """Whether two elements of ``a`` share memory, as in some views made by
    ``as_strided``: a zero stride on an axis longer than one, for one.

    Views of nested strides (every slice or transpose of an array), where
    each stride spans the axes of smaller strides, never do; only others
    have their element offsets compared.
    """
    if a.flags.c_contiguous or a.flags.f_contiguous or a.size == 0:
        return False
    span = a.itemsize
    for stride, n in sorted((abs(s), n) for s, n in zip(a.strides, a.shape, strict=True) if n > 1):
        if stride < span:
            steps = (np.arange(length) * step for length, step in zip(a.shape, a.strides, strict=True))
            offsets = np.sort(sum(np.ix_(*steps)), None)
            return bool((np.diff(offsets) < a.itemsize).any())
        span += stride * (n - 1)
    return False


_out_alias = out_alias.py_func  # the compiled paths' own rule, run in Python


def detach(inputs, target):
    """The ``inputs``, each copied where ``target``'s memory may meet it other
    than as the very same view, so that the result is as if every input were
    copied first (as NumPy's ufuncs do); and whether one of them is ``target``
    itself (in-place work)."""
    relations = [_out_alias(a, target) for a in inputs]
    inputs = [a.copy() if relation == MAY_OVERLAP else a for a, relation in zip(inputs, relations, strict=True)]
    return inputs, SAME_VIEW in relations


def normalize_axis(axis, ndim):
    """``axis`` as an index in range(ndim); 0-d input is treated as 1-d."""
    if isinstance(axis, (bool, np.bool_)):  # as NumPy: True is not an axis
        raise TypeError(f"axis must be an integer, not {type(axis).__name__}")
    try:
        index = operator.index(axis)
    except TypeError:
        raise TypeError(f"axis must be an integer, not {type(axis).__name__}") from None
    ndim = max(ndim, 1)
    if not -ndim <= index < ndim:
        raise np.exceptions.AxisError(index, ndim)
    return index % ndim


def _prepare(arrays, out, names):
    """Convert by the dtype rules and check everything.

    Returns (inputs, shape, result dtype, compute dtype).
    """
    arrays = [as_array(a, n) for a, n in zip(arrays, names, strict=True)]
    result_dtype = result_dtype_of([a.dtype for a in arrays], names)  # a wrong dtype is reported first
    shape = arrays[0].shape
    for arr, name in zip(arrays[1:], names[1:], strict=True):
        same_shape(name, arr, names[0], arrays[0])
    compute = F32 if result_dtype == F16 else result_dtype
    if out is not None:
        check_out(out, shape, result_dtype)
    # astype also turns byte-swapped input native; a 0-d input is a 1-element array to the kernels.
    inputs = [(a if a.dtype == compute else a.astype(compute)).reshape(shape or (1,)) for a in arrays]
    return inputs, shape, result_dtype, compute


def _target(out, compute, shape):
    """Where the kernel writes, and whether that is ``out`` itself (when it can be)."""
    if out is not None and out.dtype == compute and out.flags.c_contiguous:
        return out.reshape(shape or (1,)), True
    return np.empty(shape or (1,), compute), False


def _finish(result, out, result_dtype, shape, written=False):
    """Copy into ``out`` unless ``written`` there, cast to the result dtype, and
    unwrap 0-d results to scalars as ufuncs do."""
    if out is not None:
        if not written:
            np.copyto(out, result.reshape(shape), casting="unsafe")
        return out
    result = result.reshape(shape)
    if result.dtype != result_dtype:
        result = result.astype(result_dtype)
    return result[()] if shape == () else result


def _fortran(arrays):
    return arrays[0].ndim > 1 and all(a.flags.f_contiguous and not a.flags.c_contiguous for a in arrays)


def _is_subclass(a):
    return type(a) is not np.ndarray and isinstance(a, np.ndarray)


def _subclassed(arrays, out):
    return any(_is_subclass(a) for a in (*arrays, out))


def _of_subclasses(apply, arrays, out, names, fill=None, masks_allowed=True):
    """``apply(arrays, out)`` where an input or ``out`` is an ndarray subclass,
    as NumPy's ufuncs treat them.

    Masked arrays keep their masks: the result is a masked array, masked
    where any input is, computed on the data (with masked elements set to
    ``fill`` first where given: -inf leaves them out of a softmax row; where
    not ``masks_allowed``, TypeError); ``out=`` cannot take the mask and
    raises TypeError.  Other subclasses (np.matrix, np.memmap) are computed
    as plain arrays and the result is wrapped by the first one's
    ``__array_wrap__``, as a ufunc does (np.matrix stays np.matrix, a memmap
    result is a plain array); an ``out`` of a subclass is written and
    returned as it is.
    """
    if any(isinstance(a, np.ma.MaskedArray) for a in arrays):
        if not masks_allowed:
            raise TypeError(f"masked input is not supported here; pass {names[0]}.filled(...) or its data")
        if out is not None:
            raise TypeError("out= is not supported for masked input: the result is a new masked array")
        masks = [np.ma.getmaskarray(a) for a in arrays]
        data = [np.ma.getdata(a) for a in arrays]
        if fill is not None:
            data = [np.where(mask, fill, values) for mask, values in zip(masks, data, strict=True)]
        result = np.ma.masked_array(apply(data, None), mask=np.logical_or.reduce(masks))
        return np.ma.masked if result.ndim == 0 and result.mask else result  # as a ufunc gives
    plain_out = None if out is None else out.view(np.ndarray)
    result = apply([np.asarray(a) for a in arrays], plain_out)
    if out is not None:
        return out
    like = next(a for a in arrays if _is_subclass(a))
    return like.__array_wrap__(np.asarray(result), None, np.ndim(result) == 0)


def elementwise(op, arrays, out, names):
    """Apply the elementwise compiled ``op`` to same-shaped ``arrays``.

    The result dtype is the promotion of the inputs' result dtypes.
    """
    if _subclassed(arrays, out):
        return _of_subclasses(lambda arrays, out: elementwise(op, arrays, out, names), arrays, out, names)
    inputs, shape, result_dtype, compute = _prepare(arrays, out, names)
    if out is None and _fortran(inputs):
        # In memory order, as the kernels' own new() does (see
        # elementwise.memory_order): the transposes are C-contiguous.
        result = elementwise(op, [a.T for a in inputs], None, names).T
        return result if result.dtype == result_dtype else result.astype(result_dtype)
    target, written = _target(out, compute, shape)
    inputs, in_place = detach(inputs, target)
    _run(op, inputs, target, _parallel.threads_for(target.size, op.min_parallel), in_place)
    return _finish(target, out, result_dtype, shape, written)


def _run(op, inputs, target, threads, in_place):
    """Fill the C-contiguous ``target`` from ``inputs`` on ``threads`` threads.

    A target that is one of the inputs (``in_place``; no other input may
    overlap it, see :func:`detach`) goes to ``op.blocks`` (see
    :mod:`numba_act.elementwise`).
    """
    if threads == 1 and not in_place:
        op.into(*inputs, target)
        return
    flats = [np.ascontiguousarray(a).reshape(-1) for a in inputs] + [target.reshape(-1)]
    _parallel.split(op.blocks if in_place else op.flat, flats, target.size, threads)


def _moved_copy(a, order):
    """A C-contiguous copy of ``a.transpose(order)``, copied in slabs.

    A transposing copy in one go reads with a large stride, and at
    power-of-two shapes those reads collide in the cache (about 6.5 ns per
    element for (1024, 1024) float32); slabs of at most 64 of the last
    axis's columns stay in cache (0.9 ns).
    """
    moved = a.transpose(order)
    n = moved.shape[-1]
    copy = np.empty(moved.shape, moved.dtype)
    step = max(64, -(-n // 64))  # at most 64 slabs: each costs a Python round
    for start in range(0, n, step):
        copy[..., start : start + step] = moved[..., start : start + step]
    return copy


def rows(op, arrays, axis, out, names):
    """Apply the row-wise compiled ``op`` along ``axis`` of same-shaped ``arrays``.

    The kernels reduce over the last axis; another axis is moved there (the
    kernel copies the moved view into a contiguous block) and moved back, so
    the result is then a view with the input's shape.  A 0-d input is a row
    of one.
    """
    if _subclassed(arrays, out):
        # A masked element is left out of its row: filled with the op's neutral
        # input (-inf for softmax, +inf for softmin); the VJPs have none.
        fill = op.masked_fill
        return _of_subclasses(
            lambda arrays, out: rows(op, arrays, axis, out, names), arrays, out, names, fill, fill is not None
        )
    inputs, shape, result_dtype, compute = _prepare(arrays, out, names)
    axis = normalize_axis(axis, len(shape))
    last = axis == inputs[0].ndim - 1
    if not last:
        # The reduced axis last, the others in any order: a permutation,
        # cheaper than np.moveaxis on small calls.
        order = (*range(axis), *range(axis + 1, inputs[0].ndim), axis)
        inputs = [_moved_copy(a, order) for a in inputs]
    target, written = _target(out if last else None, compute, inputs[0].shape)
    inputs, _ = detach(inputs, target)  # the row kernels copy a row block that is out itself
    n = target.shape[-1]
    threads = _parallel.threads_for(target.size, op.min_parallel) if n else 1
    if threads > 1:
        blocks = [np.ascontiguousarray(a).reshape(-1, n) for a in inputs] + [target.reshape(-1, n)]
        _parallel.split(op.into, blocks, blocks[0].shape[0], threads, align=1)
    else:
        op.into(*inputs, target)
    result = target if last else target.transpose(*range(axis), target.ndim - 1, *range(axis, target.ndim - 1))
    return _finish(result, out, result_dtype, shape, written)
