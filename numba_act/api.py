"""The public functions, for Python callers and for ``@njit`` callers.

Every name here is a thin Python door from :mod:`numba_act.registry`, and
each also has an ``@overload`` so that the same name works inside user
``@njit`` code: on float or integer scalars (calling the inlined scalar
kernel, so it fits ``prange`` loops) and on float32/float64 arrays.  Inside
``@njit``, ``out`` must be a C-contiguous array of the input's dtype and
shape, the row-wise functions work along the last axis only, and the
activation name given to ``activation_forward``/``activation_backward``
must be a compile-time constant (a literal string).
"""

import numpy as np
from numba import literally, njit, types
from numba.core.errors import TypingError
from numba.extending import overload

from numba_act.registry import (
    ACTIVATIONS,
    EPS,
    NAMES,
    REGISTRY,
    activation_backward,
    activation_forward,
    lookup,
)

sigmoid = REGISTRY["sigmoid"].forward
relu = REGISTRY["relu"].forward
softmax = REGISTRY["softmax"].forward
log_softmax = REGISTRY["log_softmax"].forward
tanh = REGISTRY["tanh"].forward
leaky_relu = REGISTRY["leaky_relu"].forward
elu = REGISTRY["elu"].forward
silu = REGISTRY["silu"].forward
softplus = REGISTRY["softplus"].forward
gelu_tanh = REGISTRY["gelu_tanh"].forward


def gelu(x, approximate="none", out=None):
    """gelu(x) = x * Phi(x) = x/2 * (1 + erf(x / sqrt(2))), elementwise.

    ``approximate="tanh"`` selects x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))
    (the ``gelu_tanh`` activation), as in ``torch.nn.functional.gelu``.
    NaN propagates; same dtype and ``out`` rules as :func:`sigmoid`.
    """
    return REGISTRY[_gelu_name(approximate)].forward(x, out)


def _gelu_name(approximate):
    if approximate == "none" or approximate is False:
        return "gelu"
    if approximate == "tanh" or approximate is True:
        return "gelu_tanh"
    raise ValueError(f"approximate must be 'none' or 'tanh', not {approximate!r}")


def sigmoid_derivative_from_activation(a, out=None):
    """a * (1 - a), the derivative of sigmoid from its output a = sigmoid(z).

    NaN propagates; same dtype and ``out`` rules as :func:`sigmoid`.
    """
    return REGISTRY["sigmoid"].derivative(a, a, out)


def relu_derivative_from_pre_activation(z, out=None):
    """1 where z > 0, else 0 (0 at z == 0); NaN stays NaN.

    Same dtype and ``out`` rules as :func:`relu`.
    """
    return REGISTRY["relu"].derivative(z, z, out)


# ---------------------------------------------------------------- @njit side

_FLOATS = (types.float32, types.float64)


def _is_none(ty):
    return ty is None or isinstance(ty, (types.NoneType, types.Omitted))


@njit(inline="always")
def _as_is(v):
    return v


@njit(inline="always")
def _to_float64(v):
    return np.float64(v)


def _scalar_arg(ty):
    """How to turn a scalar argument into a float, or None if it is not a scalar."""
    if ty in _FLOATS:
        return _as_is
    if isinstance(ty, (types.Integer, types.Boolean)):
        return _to_float64
    return None


def _float_array(ty, what):
    if not isinstance(ty, types.Array) or ty.dtype not in _FLOATS:
        raise TypingError(f"numba_act: {what} must be a float32 or float64 array or a number inside @njit, got {ty}")


def _check_out(out, like):
    if not (isinstance(out, types.Array) and out.dtype == like.dtype and out.layout == "C" and out.mutable):
        raise TypingError(f"numba_act: out must be a writeable C-contiguous {like.dtype} array inside @njit, got {out}")


def _register_elementwise(entry):
    forward_loop, derivative_loop, vjp_loop = entry.loops
    f, df = entry.scalar, entry.scalar_derivative

    @overload(entry.forward)
    def _forward(x, out=None):
        as_float = _scalar_arg(x)
        if as_float is not None:
            return lambda x, out=None: f(as_float(x))
        _float_array(x, "x")
        if _is_none(out):
            return lambda x, out=None: _new(forward_loop, (x,))
        _check_out(out, x)
        return lambda x, out=None: _into(forward_loop, (x,), out)

    @overload(entry.derivative)
    def _derivative(z, a, out=None):
        if _scalar_arg(z) is not None and _scalar_arg(a) is not None:
            cz, ca = _scalar_arg(z), _scalar_arg(a)
            return lambda z, a, out=None: df(cz(z), ca(a))
        _float_array(z, "z")
        _float_array(a, "a")
        if _is_none(out):
            return lambda z, a, out=None: _new(derivative_loop, (z, a))
        _check_out(out, z)
        return lambda z, a, out=None: _into(derivative_loop, (z, a), out)

    @overload(entry.vjp)
    def _vjp(z, a, grad, out=None):
        if all(_scalar_arg(t) is not None for t in (z, a, grad)):
            cz, ca, cg = _scalar_arg(z), _scalar_arg(a), _scalar_arg(grad)
            return lambda z, a, grad, out=None: cg(grad) * df(cz(z), ca(a))
        for ty, what in ((z, "z"), (a, "a"), (grad, "grad")):
            _float_array(ty, what)
        if _is_none(out):
            return lambda z, a, grad, out=None: _new(vjp_loop, (z, a, grad))
        _check_out(out, z)
        return lambda z, a, grad, out=None: _into(vjp_loop, (z, a, grad), out)


def _register_rowwise(entry):
    forward_kernel, vjp_kernel = entry.row_kernels

    @overload(entry.forward)
    def _forward(x, axis=-1, out=None):
        _float_array(x, "x")
        if _is_none(out):
            return lambda x, axis=-1, out=None: _rows_new(forward_kernel, (x,), axis)
        _check_out(out, x)
        return lambda x, axis=-1, out=None: _rows_into(forward_kernel, (x,), axis, out)

    @overload(entry.derivative)
    def _derivative(z, a, out=None):
        _float_array(a, "a")
        if _is_none(out):
            return lambda z, a, out=None: np.ones(a.shape, a.dtype)
        _check_out(out, a)

        def impl(z, a, out=None):
            _same_shape(out, a)
            out[...] = 1
            return out

        return impl

    @overload(entry.vjp)
    def _vjp(z, a, grad, axis=-1, out=None):
        _float_array(a, "a")
        _float_array(grad, "grad")
        if _is_none(out):
            return lambda z, a, grad, axis=-1, out=None: _rows_new(vjp_kernel, (a, grad), axis)
        _check_out(out, a)
        return lambda z, a, grad, axis=-1, out=None: _rows_into(vjp_kernel, (a, grad), axis, out)


def _same_shape(x, y):
    pass


@overload(_same_shape)
def _same_shape_overload(x, y):
    def impl(x, y):
        if x.shape != y.shape:
            raise ValueError("numba_act: arrays must have the same shape")

    return impl


def _new(loop, inputs):
    pass


def _into(loop, inputs, out):
    pass


@overload(_new)
def _new_overload(loop, inputs):
    def impl(loop, inputs):
        out = np.empty(inputs[0].shape, inputs[0].dtype)
        return _into(loop, inputs, out)

    return impl


@overload(_into)
def _into_overload(loop, inputs, out):
    n = len(inputs)
    if n == 1:

        def impl(loop, inputs, out):
            _same_shape(inputs[0], out)
            loop(np.ascontiguousarray(inputs[0]).reshape(-1), out.reshape(-1))
            return out

    elif n == 2:

        def impl(loop, inputs, out):
            _same_shape(inputs[0], out)
            _same_shape(inputs[1], out)
            a, b = inputs
            loop(np.ascontiguousarray(a).reshape(-1), np.ascontiguousarray(b).reshape(-1), out.reshape(-1))
            return out

    else:

        def impl(loop, inputs, out):
            _same_shape(inputs[0], out)
            _same_shape(inputs[1], out)
            _same_shape(inputs[2], out)
            a, b, c = inputs
            loop(
                np.ascontiguousarray(a).reshape(-1),
                np.ascontiguousarray(b).reshape(-1),
                np.ascontiguousarray(c).reshape(-1),
                out.reshape(-1),
            )
            return out

    return impl


def _rows_new(kernel, inputs, axis):
    pass


def _rows_into(kernel, inputs, axis, out):
    pass


@overload(_rows_new)
def _rows_new_overload(kernel, inputs, axis):
    def impl(kernel, inputs, axis):
        out = np.empty(inputs[0].shape, inputs[0].dtype)
        return _rows_into(kernel, inputs, axis, out)

    return impl


@overload(_rows_into)
def _rows_into_overload(kernel, inputs, axis, out):
    def impl(kernel, inputs, axis, out):
        x = inputs[0]
        if axis != -1 and axis != x.ndim - 1:
            raise ValueError("numba_act: inside @njit, softmax-family functions work along the last axis only")
        for arr in inputs:
            _same_shape(arr, out)
        n = x.shape[-1] if x.ndim else 1
        rows = x.size // n if n else 0
        _row_call(kernel, inputs, out, rows, n)
        return out

    return impl


def _row_call(kernel, inputs, out, rows, n):
    pass


@overload(_row_call)
def _row_call_overload(kernel, inputs, out, rows, n):
    if len(inputs) == 1:

        def impl(kernel, inputs, out, rows, n):
            kernel(np.ascontiguousarray(inputs[0]).reshape(rows, n), out.reshape(rows, n))

    else:

        def impl(kernel, inputs, out, rows, n):
            a, b = inputs
            kernel(
                np.ascontiguousarray(a).reshape(rows, n),
                np.ascontiguousarray(b).reshape(rows, n),
                out.reshape(rows, n),
            )

    return impl


for _entry in REGISTRY.values():
    (_register_rowwise if _entry.rowwise else _register_elementwise)(_entry)


@overload(gelu)
def _gelu_overload(x, approximate="none", out=None):
    if _is_none(approximate):
        name = "gelu"
    elif isinstance(approximate, types.StringLiteral):
        name = _gelu_name(approximate.literal_value)
    elif isinstance(approximate, types.BooleanLiteral):
        name = _gelu_name(approximate.literal_value)
    else:
        return lambda x, approximate="none", out=None: literally(approximate)
    forward = REGISTRY[name].forward
    return lambda x, approximate="none", out=None: forward(x, out)


@overload(sigmoid_derivative_from_activation)
def _sigmoid_derivative_overload(a, out=None):
    derivative = REGISTRY["sigmoid"].derivative
    return lambda a, out=None: derivative(a, a, out)


@overload(relu_derivative_from_pre_activation)
def _relu_derivative_overload(z, out=None):
    derivative = REGISTRY["relu"].derivative
    return lambda z, out=None: derivative(z, z, out)


def _literal_entry(name):
    if isinstance(name, types.StringLiteral):
        return lookup(name.literal_value)
    if isinstance(name, types.UnicodeType):
        return None  # ask Numba to retry with the literal value
    raise TypingError(f"numba_act: the activation name must be a str, got {name}")


@overload(activation_forward)
def _activation_forward_overload(x, name, out=None, axis=-1):
    entry = _literal_entry(name)
    if entry is None:
        return lambda x, name, out=None, axis=-1: literally(name)
    forward = entry.forward
    if entry.rowwise:
        return lambda x, name, out=None, axis=-1: forward(x, axis, out)
    return lambda x, name, out=None, axis=-1: forward(x, out)


@overload(activation_backward)
def _activation_backward_overload(z, a, name, grad=None, out=None, axis=-1):
    entry = _literal_entry(name)
    if entry is None:
        return lambda z, a, name, grad=None, out=None, axis=-1: literally(name)
    derivative, vjp = entry.derivative, entry.vjp
    if _is_none(grad):
        return lambda z, a, name, grad=None, out=None, axis=-1: derivative(z, a, out)
    if entry.rowwise:
        return lambda z, a, name, grad=None, out=None, axis=-1: vjp(z, a, grad, axis, out)
    return lambda z, a, name, grad=None, out=None, axis=-1: vjp(z, a, grad, out)


__all__ = [
    "ACTIVATIONS",
    "EPS",
    "NAMES",
    "REGISTRY",
    "activation_backward",
    "activation_forward",
    "elu",
    "gelu",
    "gelu_tanh",
    "leaky_relu",
    "log_softmax",
    "relu",
    "relu_derivative_from_pre_activation",
    "sigmoid",
    "sigmoid_derivative_from_activation",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]
