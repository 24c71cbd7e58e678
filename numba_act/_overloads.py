"""The ``@njit`` forms of every registry entry's functions.

Each public function of an entry has an ``@overload``, so that the same
name works inside user ``@njit`` code: on float or integer scalars (calling
the inlined scalar kernel, so it fits ``prange`` loops) and on arrays, with
the Python path's dtype rules (:func:`numba_act._arrays.result_dtype_of`)
and error messages.  Inside ``@njit``, ``out`` must be a C-contiguous array
of the result's dtype and shape, and the row-wise functions work along the
last axis only.  :func:`register_entry` is called for every entry, the
built-in ones below and those of :func:`numba_act.register`.
"""

import numpy as np
from numba import types
from numba.core.errors import NumbaNotImplementedError, TypingError
from numba.np import numpy_support

from numba_act import _arrays
from numba_act._arrays import check_shape
from numba_act._jit import kernel, overload_kernel
from numba_act.registry import REGISTRY

_FLOATS = (types.float32, types.float64)


def is_none(ty):
    """Whether the argument type ``ty`` is None or an omitted optional argument."""
    return ty is None or isinstance(ty, (types.NoneType, types.Omitted))


@kernel(inline="always")
def _as_is(v):
    return v


@kernel(inline="always")
def _to_float64(v):
    return np.float64(v)


def _scalar_arg(ty):
    """How to turn a scalar argument into a float, or None if it is not a scalar."""
    if ty in _FLOATS:
        return _as_is
    if isinstance(ty, (types.Integer, types.Boolean)):
        return _to_float64
    return None


@kernel(inline="always")
def _array_to_float64(a):
    return a.astype(np.float64)


@kernel(inline="always")
def _array_to_float32(a):
    return a.astype(np.float32)


def _array_args(*named):
    """``(result type, converters)`` for array arguments, by the dtype rules
    of the Python path (:func:`numba_act._arrays.result_dtype_of`): integer
    and bool arrays are computed as float64 and mixed float dtypes promote.
    TypingError with the Python path's message for what it refuses; float16,
    which the Python path computes in float32, is refused here."""
    dtypes = []
    for what, ty in named:
        if not isinstance(ty, types.Array):
            raise TypingError(f"numba_act: {what} must be an array or a number, got {ty}")
        try:
            dtypes.append(numpy_support.as_dtype(ty.dtype))
        except NumbaNotImplementedError:
            raise TypingError(
                f"numba_act: {what} has dtype {ty.dtype}; numba_act accepts {_arrays.ACCEPTED} input"
            ) from None
    if np.dtype(np.float16) in dtypes:
        raise TypingError("numba_act: inside @njit, arrays must be float32, float64, integer or bool, not float16")
    try:
        result = _arrays.result_dtype_of(dtypes, [what for what, _ in named])
    except TypeError as err:
        raise TypingError(f"numba_act: {err}") from None
    result = numpy_support.from_dtype(result)
    to_result = _array_to_float64 if result == types.float64 else _array_to_float32
    return result, [_as_is if ty.dtype == result else to_result for _, ty in named]


def _check_out(out, dtype):
    if not (isinstance(out, types.Array) and out.dtype == dtype and out.layout == "C" and out.mutable):
        raise TypingError(f"numba_act: out must be a writeable C-contiguous {dtype} array inside @njit, got {out}")


def _register_elementwise(entry):
    # Plain names: the implementations below are compiled, and a compiled
    # function can call a dispatcher but not look up an attribute of ours.
    forward_new, forward_into = entry.ops.forward.new, entry.ops.forward.into
    derivative_new, derivative_into = entry.ops.derivative.new, entry.ops.derivative.into
    vjp_new, vjp_into = entry.ops.vjp.new, entry.ops.vjp.into
    f, df = entry.scalar, entry.scalar_derivative

    @overload_kernel(entry.forward)
    def _forward(x, out=None):
        to_float = _scalar_arg(x)
        if to_float is not None:
            return lambda x, out=None: f(to_float(x))
        result, (cx,) = _array_args(("x", x))
        if is_none(out):
            return lambda x, out=None: forward_new(cx(x))
        _check_out(out, result)

        def forward_out(x, out=None):
            check_shape("out", out, "x", x)
            return forward_into(cx(x), out)

        return forward_out

    @overload_kernel(entry.derivative)
    def _derivative(z, a, out=None):
        cz, ca = _scalar_arg(z), _scalar_arg(a)
        if cz is not None and ca is not None:
            return lambda z, a, out=None: df(cz(z), ca(a))
        result, (cz, ca) = _array_args(("z", z), ("a", a))
        if is_none(out):

            def derivative(z, a, out=None):
                check_shape("a", a, "z", z)
                return derivative_new(cz(z), ca(a))

            return derivative
        _check_out(out, result)

        def derivative_out(z, a, out=None):
            check_shape("a", a, "z", z)
            check_shape("out", out, "z", z)
            return derivative_into(cz(z), ca(a), out)

        return derivative_out

    @overload_kernel(entry.vjp)
    def _vjp(z, a, grad, out=None):
        cz, ca, cg = _scalar_arg(z), _scalar_arg(a), _scalar_arg(grad)
        if cz is not None and ca is not None and cg is not None:
            return lambda z, a, grad, out=None: cg(grad) * df(cz(z), ca(a))
        result, (cz, ca, cg) = _array_args(("z", z), ("a", a), ("grad", grad))
        if is_none(out):

            def vjp(z, a, grad, out=None):
                check_shape("a", a, "z", z)
                check_shape("grad", grad, "z", z)
                return vjp_new(cz(z), ca(a), cg(grad))

            return vjp
        _check_out(out, result)

        def vjp_out(z, a, grad, out=None):
            check_shape("a", a, "z", z)
            check_shape("grad", grad, "z", z)
            check_shape("out", out, "z", z)
            return vjp_into(cz(z), ca(a), cg(grad), out)

        return vjp_out

    # One signature for every entry, for activation_forward and activation_backward.
    entry_forward, entry_vjp = entry.forward, entry.vjp

    @overload_kernel(entry.call)
    def _call(x, out=None, axis=-1):
        return lambda x, out=None, axis=-1: entry_forward(x, out)

    @overload_kernel(entry.call_vjp)
    def _call_vjp(z, a, grad, out=None, axis=-1):
        return lambda z, a, grad, out=None, axis=-1: entry_vjp(z, a, grad, out)


@kernel
def _last_axis_only(axis, ndim):
    if axis != -1 and axis != ndim - 1:
        raise ValueError("numba_act: inside @njit the softmax family works along the last axis only")


def _register_rowwise(entry):
    forward_new, forward_into = entry.ops.forward.new, entry.ops.forward.into
    vjp_new, vjp_into = entry.ops.vjp.new, entry.ops.vjp.into

    @overload_kernel(entry.forward)
    def _forward(x, axis=-1, out=None):
        result, (cx,) = _array_args(("x", x))
        if x.ndim == 0:
            raise TypingError("numba_act: inside @njit the softmax family needs an array of 1 or more dimensions")
        if is_none(out):

            def impl(x, axis=-1, out=None):
                _last_axis_only(axis, x.ndim)
                return forward_new(cx(x))

            return impl
        _check_out(out, result)

        def impl_out(x, axis=-1, out=None):
            _last_axis_only(axis, x.ndim)
            check_shape("out", out, "x", x)
            return forward_into(cx(x), out)

        return impl_out

    @overload_kernel(entry.derivative)
    def _derivative(z, a, out=None):
        result, (ca,) = _array_args(("a", a))
        if is_none(out):
            return lambda z, a, out=None: np.ones_like(ca(a))
        _check_out(out, result)

        def impl(z, a, out=None):
            check_shape("out", out, "a", a)
            out[...] = 1
            return out

        return impl

    @overload_kernel(entry.vjp)
    def _vjp(z, a, grad, axis=-1, out=None):
        result, (ca, cg) = _array_args(("a", a), ("grad", grad))
        if is_none(out):

            def impl(z, a, grad, axis=-1, out=None):
                _last_axis_only(axis, a.ndim)
                check_shape("grad", grad, "a", a)
                return vjp_new(ca(a), cg(grad))

            return impl
        _check_out(out, result)

        def impl_out(z, a, grad, axis=-1, out=None):
            _last_axis_only(axis, a.ndim)
            check_shape("grad", grad, "a", a)
            check_shape("out", out, "a", a)
            return vjp_into(ca(a), cg(grad), out)

        return impl_out

    # One signature for every entry, for activation_forward and activation_backward.
    entry_forward, entry_vjp = entry.forward, entry.vjp

    @overload_kernel(entry.call)
    def _call(x, out=None, axis=-1):
        return lambda x, out=None, axis=-1: entry_forward(x, axis, out)

    @overload_kernel(entry.call_vjp)
    def _call_vjp(z, a, grad, out=None, axis=-1):
        return lambda z, a, grad, out=None, axis=-1: entry_vjp(z, a, grad, axis, out)


def register_entry(entry):
    """Give each function of ``entry`` its ``@njit`` form."""
    (_register_rowwise if entry.rowwise else _register_elementwise)(entry)


for _entry in REGISTRY.values():
    register_entry(_entry)
