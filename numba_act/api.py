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

from numba_act import _arrays
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
    (the ``gelu_tanh`` activation), as in ``torch.nn.functional.gelu``
    (True and False stand for "tanh" and "none"; anything else raises
    ValueError).  NaN propagates; same dtype and ``out`` rules as :func:`sigmoid`.
    """
    return REGISTRY[_gelu_name(approximate)].forward(x, out)


# numba_act.gelu is the function above, so the registry's own gelu forward is
# found by pickle where every entry's other functions are (registry._named).
REGISTRY["gelu"].forward.__module__ = "numba_act.registry"
REGISTRY["gelu"].forward.__qualname__ = "gelu.forward"


def _gelu_name(approximate):
    if isinstance(approximate, (str, bool)):
        if approximate == "none" or approximate is False:
            return "gelu"
        if approximate == "tanh" or approximate is True:
            return "gelu_tanh"
    raise ValueError(f"approximate must be 'none' or 'tanh', not {approximate!r}")


# REGISTRY["sigmoid"].derivative, with errors that name the argument a
_sigmoid_derivative = _arrays.door(REGISTRY["sigmoid"].kernels[1], ("a", "a"))


def sigmoid_derivative_from_activation(a, out=None):
    """a * (1 - a), the derivative of sigmoid from its output a = sigmoid(z).

    NaN propagates; same dtype and ``out`` rules as :func:`sigmoid`.
    """
    return _sigmoid_derivative(a, a, out)


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


def _float_arrays(*named):
    """TypingError unless every argument is a float32/float64 array of one dtype."""
    dtypes = set()
    for what, ty in named:
        if not isinstance(ty, types.Array) or ty.dtype not in _FLOATS:
            raise TypingError(
                f"numba_act: {what} must be a float32 or float64 array or a number inside @njit, got {ty}"
            )
        dtypes.add(ty.dtype)
    if len(dtypes) > 1:
        raise TypingError(f"numba_act: inside @njit the arrays must share one dtype, got {sorted(map(str, dtypes))}")


def _check_out(out, like):
    if not (isinstance(out, types.Array) and out.dtype == like.dtype and out.layout == "C" and out.mutable):
        raise TypingError(f"numba_act: out must be a writeable C-contiguous {like.dtype} array inside @njit, got {out}")


def _register_elementwise(entry):
    # Plain names: the implementations below are compiled, and a compiled
    # function can call a dispatcher but not look up an attribute of ours.
    forward_new, forward_into = entry.kernels[0].new, entry.kernels[0].into
    derivative_new, derivative_into = entry.kernels[1].new, entry.kernels[1].into
    vjp_new, vjp_into = entry.kernels[2].new, entry.kernels[2].into
    f, df = entry.scalar, entry.scalar_derivative

    @overload(entry.forward)
    def _forward(x, out=None):
        to_float = _scalar_arg(x)
        if to_float is not None:
            return lambda x, out=None: f(to_float(x))
        _float_arrays(("x", x))
        if _is_none(out):
            return lambda x, out=None: forward_new(x)
        _check_out(out, x)
        return lambda x, out=None: forward_into(x, out)

    @overload(entry.derivative)
    def _derivative(z, a, out=None):
        cz, ca = _scalar_arg(z), _scalar_arg(a)
        if cz is not None and ca is not None:
            return lambda z, a, out=None: df(cz(z), ca(a))
        _float_arrays(("z", z), ("a", a))
        if _is_none(out):
            return lambda z, a, out=None: derivative_new(z, a)
        _check_out(out, z)
        return lambda z, a, out=None: derivative_into(z, a, out)

    @overload(entry.vjp)
    def _vjp(z, a, grad, out=None):
        cz, ca, cg = _scalar_arg(z), _scalar_arg(a), _scalar_arg(grad)
        if cz is not None and ca is not None and cg is not None:
            return lambda z, a, grad, out=None: cg(grad) * df(cz(z), ca(a))
        _float_arrays(("z", z), ("a", a), ("grad", grad))
        if _is_none(out):
            return lambda z, a, grad, out=None: vjp_new(z, a, grad)
        _check_out(out, z)
        return lambda z, a, grad, out=None: vjp_into(z, a, grad, out)


@njit
def _last_axis_only(axis, ndim):
    if axis != -1 and axis != ndim - 1:
        raise ValueError("numba_act: inside @njit the softmax family works along the last axis only")


def _register_rowwise(entry):
    forward_new, forward_into = entry.kernels[0].new, entry.kernels[0].into
    vjp_new, vjp_into = entry.kernels[2].new, entry.kernels[2].into

    @overload(entry.forward)
    def _forward(x, axis=-1, out=None):
        _float_arrays(("x", x))
        if x.ndim == 0:
            raise TypingError("numba_act: inside @njit the softmax family needs an array of 1 or more dimensions")
        if _is_none(out):

            def impl(x, axis=-1, out=None):
                _last_axis_only(axis, x.ndim)
                return forward_new(x)

            return impl
        _check_out(out, x)

        def impl_out(x, axis=-1, out=None):
            _last_axis_only(axis, x.ndim)
            return forward_into(x, out)

        return impl_out

    @overload(entry.derivative)
    def _derivative(z, a, out=None):
        _float_arrays(("a", a))
        if _is_none(out):
            return lambda z, a, out=None: np.ones(a.shape, a.dtype)
        _check_out(out, a)

        def impl(z, a, out=None):
            if out.shape != a.shape:
                raise ValueError("numba_act: out must have the shape of a")
            out[...] = 1
            return out

        return impl

    @overload(entry.vjp)
    def _vjp(z, a, grad, axis=-1, out=None):
        _float_arrays(("a", a), ("grad", grad))
        if _is_none(out):

            def impl(z, a, grad, axis=-1, out=None):
                _last_axis_only(axis, a.ndim)
                return vjp_new(a, grad)

            return impl
        _check_out(out, a)

        def impl_out(z, a, grad, axis=-1, out=None):
            _last_axis_only(axis, a.ndim)
            return vjp_into(a, grad, out)

        return impl_out


for _entry in REGISTRY.values():
    (_register_rowwise if _entry.rowwise else _register_elementwise)(_entry)


@overload(gelu)
def _gelu_overload(x, approximate="none", out=None):
    if _is_none(approximate):
        name = "gelu"
    elif isinstance(approximate, (str, bool)):  # the default, passed as a value
        name = _gelu_name(approximate)
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
