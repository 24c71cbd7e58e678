"""The Python door in front of every kernel: input conversion, dtype rules
and ``out=`` checks.

Kernels see only native-endian float32 or float64 arrays that are 1-D
(elementwise) or 2-D with the reduced axis last (row-wise), contiguous.
Everything else is converted here, once, and every check that can fail runs
before anything is written.

dtype rules: float32 -> float32 and float64 -> float64, computed in that
type; float16 is computed in float32 and returned as float16; integer and
bool inputs give float64.  Anything else raises TypeError.
"""

import math
import operator

import numpy as np

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
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


def as_array(x, name="x"):
    """``x`` as an ndarray, with a clear error for what cannot be one."""
    if type(x) is np.ndarray:
        return x
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be an array or a number, not {type(x).__name__}; numba_act accepts {ACCEPTED} input")
    try:
        return np.asarray(x)
    except ValueError as err:  # ragged nested sequences
        raise ValueError(f"{name} is not a rectangular array: {err}") from None


def _contiguous_like(arr, dtype):
    """``arr`` as a C- or F-contiguous native array of ``dtype``, copying only if needed."""
    if arr.dtype == dtype and (arr.flags.c_contiguous or arr.flags.f_contiguous):
        return arr
    return np.ascontiguousarray(arr, dtype=dtype)


def flat(arr):
    """1-D view of a C- or F-contiguous array, in memory order."""
    return arr.reshape(-1) if arr.flags.c_contiguous else arr.T.reshape(-1)


def check_out(out, shape, dtype, inputs):
    """Validate a user ``out`` before anything is written to it."""
    if type(out) is not np.ndarray:
        raise TypeError(f"out must be a numpy.ndarray, not {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, expected {shape}")
    if out.dtype != dtype:
        raise TypeError(f"out has dtype {out.dtype}, expected {dtype}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    for arr in inputs:
        if arr is not out and np.may_share_memory(arr, out) and not _same_view(arr, out):
            raise ValueError("out partly overlaps an input; pass the input itself as out for in-place work, or a separate array")


def _same_view(a, b):
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.strides == b.strides
        and a.shape == b.shape
        and a.dtype == b.dtype
    )


def finish(result, out, result_dtype, scalar_input, written=False):
    """Cast to the result dtype, copy into ``out`` unless the kernel ``written``
    there already, and unwrap 0-d results to scalars as NumPy ufuncs do."""
    if out is not None:
        if not written:
            np.copyto(out, result, casting="unsafe")
        return out
    if result.dtype != result_dtype:
        result = result.astype(result_dtype)
    return result[()] if scalar_input else result


def unary(loop, x, out):
    """``elementwise`` for one input, with a fast path for the common case."""
    if out is None and type(x) is np.ndarray and x.ndim and x.flags.c_contiguous and (x.dtype is F32 or x.dtype is F64):
        result = np.empty_like(x)
        loop(x.reshape(-1), result.reshape(-1))
        return result
    return elementwise(loop, (x,), out, ("x",))


def elementwise(loop, arrays, out, names):
    """Run ``loop(*flat_inputs, flat_out)`` over same-shaped inputs.

    Inputs are converted by the dtype rules; the result dtype is the
    promotion of theirs.  The kernel writes straight into ``out`` when it is
    contiguous and of the compute dtype, and into a new array otherwise.
    """
    arrays = [as_array(a, n) for a, n in zip(arrays, names)]
    rules = [dtype_rule(a.dtype, n) for a, n in zip(arrays, names)]
    shape = arrays[0].shape
    for arr, name in zip(arrays[1:], names[1:]):
        if arr.shape != shape:
            raise ValueError(f"{name} has shape {arr.shape}, expected {shape} (the shape of {names[0]})")
    result_dtype = rules[0][1] if len(rules) == 1 else np.result_type(*(r[1] for r in rules))
    compute = F32 if result_dtype == F16 else result_dtype
    if out is not None:
        check_out(out, shape, result_dtype, arrays)

    inputs = [_contiguous_like(a, compute) for a in arrays]
    c_order = inputs[0].flags.c_contiguous
    if not all(a.flags.c_contiguous if c_order else a.flags.f_contiguous for a in inputs):
        inputs = [np.ascontiguousarray(a) for a in inputs]
        c_order = True
    if out is not None and out.dtype == compute and (out.flags.c_contiguous if c_order else out.flags.f_contiguous):
        target = out
    else:
        target = np.empty(shape, compute, order="C" if c_order else "F")
    loop(*[flat(a) for a in inputs], flat(target))
    return finish(target, out, result_dtype, shape == (), written=target is out)


def normalize_axis(axis, ndim):
    """``axis`` as an index in range(ndim); 0-d input is treated as 1-d."""
    try:
        index = operator.index(axis)
    except TypeError:
        raise TypeError(f"axis must be an integer, not {type(axis).__name__}") from None
    ndim = max(ndim, 1)
    if not -ndim <= index < ndim:
        raise np.exceptions.AxisError(index, ndim)
    return index % ndim


def rows(kernel, arrays, axis, out, names):
    """Run ``kernel(*inputs_2d, out_2d)`` with ``axis`` moved last.

    Same conversion and checks as :func:`elementwise`; the kernel sees
    C-contiguous ``(rows, n)`` arrays.  A 0-d input is a row of one.
    """
    arrays = [as_array(a, n) for a, n in zip(arrays, names)]
    rules = [dtype_rule(a.dtype, n) for a, n in zip(arrays, names)]
    shape = arrays[0].shape
    for arr, name in zip(arrays[1:], names[1:]):
        if arr.shape != shape:
            raise ValueError(f"{name} has shape {arr.shape}, expected {shape} (the shape of {names[0]})")
    result_dtype = rules[0][1] if len(rules) == 1 else np.result_type(*(r[1] for r in rules))
    compute = F32 if result_dtype == F16 else result_dtype
    axis = normalize_axis(axis, len(shape))
    if out is not None:
        check_out(out, shape, result_dtype, arrays)

    moved = [np.moveaxis(a.reshape(shape or (1,)), axis, -1) for a in arrays]
    moved_shape = moved[0].shape
    n = moved_shape[-1]
    n_rows = math.prod(moved_shape[:-1])
    inputs = [np.ascontiguousarray(m, dtype=compute).reshape(n_rows, n) for m in moved]
    last = axis == max(len(shape), 1) - 1
    written = last and out is not None and out.dtype == compute and out.flags.c_contiguous
    target = out.reshape(n_rows, n) if written else np.empty((n_rows, n), compute)
    kernel(*inputs, target)
    result = np.moveaxis(target.reshape(moved_shape), -1, axis).reshape(shape)
    return finish(result, out, result_dtype, shape == (), written=written)
