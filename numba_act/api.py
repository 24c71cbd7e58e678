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

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, types
from numba.core.dispatcher import Dispatcher
from numba.core.errors import NumbaNotImplementedError, TypingError
from numba.extending import overload
from numba.np import numpy_support
from numpy.typing import ArrayLike

from numba_act import _arrays, _jit, registry
from numba_act.registry import (
    ACTIVATIONS,
    EPS,
    NAMES,
    REGISTRY,
    ElementwiseFunction,
    RowwiseFunction,
    activation_backward,
    activation_forward,
    lookup,
)

sigmoid: ElementwiseFunction = REGISTRY["sigmoid"].forward
relu: ElementwiseFunction = REGISTRY["relu"].forward
softmax: RowwiseFunction = REGISTRY["softmax"].forward
log_softmax: RowwiseFunction = REGISTRY["log_softmax"].forward
tanh: ElementwiseFunction = REGISTRY["tanh"].forward
leaky_relu: ElementwiseFunction = REGISTRY["leaky_relu"].forward
elu: ElementwiseFunction = REGISTRY["elu"].forward
silu: ElementwiseFunction = REGISTRY["silu"].forward
softplus: ElementwiseFunction = REGISTRY["softplus"].forward
gelu_tanh: ElementwiseFunction = REGISTRY["gelu_tanh"].forward


def gelu(x: ArrayLike, approximate: str | bool = "none", out: np.ndarray | None = None) -> Any:
    """gelu(x) = x * Phi(x) = x/2 * (1 + erf(x / sqrt(2))), elementwise.

    ``approximate="tanh"`` selects x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))
    (the ``gelu_tanh`` activation), as in ``torch.nn.functional.gelu``
    (True and False stand for "tanh" and "none"; anything else raises
    ValueError).  NaN propagates; same dtype and ``out`` rules as :func:`sigmoid`.
    """
    return REGISTRY[_gelu_name(approximate)].forward(x, out)


def _gelu_name(approximate):
    if isinstance(approximate, (str, bool)):
        if approximate == "none" or approximate is False:
            return "gelu"
        if approximate == "tanh" or approximate is True:
            return "gelu_tanh"
    raise ValueError(f"approximate must be 'none' or 'tanh', not {approximate!r}")


# REGISTRY["sigmoid"].derivative, with errors that name the argument a
_sigmoid_derivative = _arrays.door(REGISTRY["sigmoid"].kernels.derivative, ("a", "a"))


def sigmoid_derivative_from_activation(a: ArrayLike, out: np.ndarray | None = None) -> Any:
    """a * (1 - a), the derivative of sigmoid from its output a = sigmoid(z).

    NaN propagates; same dtype and ``out`` rules as :func:`sigmoid`.
    """
    return _sigmoid_derivative(a, a, out)


def relu_derivative_from_pre_activation(z: ArrayLike, out: np.ndarray | None = None) -> Any:
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


@njit(inline="always")
def _array_to_float64(a):
    return a.astype(np.float64)


@njit(inline="always")
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


def _shape_text(shape):
    """str(shape), inside @njit."""
    raise TypeError("_shape_text is only callable from @njit code")


@overload(_shape_text)
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
    """shape != other, inside @njit, also for tuples of other lengths."""
    raise TypeError("_differ is only callable from @njit code")


@overload(_differ)
def _differ_overload(shape, other):
    if len(shape) != len(other):
        return lambda shape, other: True
    return lambda shape, other: shape != other


@njit
def _same_shape(what, array, like, expected):
    """ValueError with the Python path's message unless ``array`` has the shape of ``expected``."""
    if _differ(array.shape, expected.shape):
        raise ValueError(
            "numba_act: "
            + what
            + " has shape "
            + _shape_text(array.shape)
            + ", expected "
            + _shape_text(expected.shape)
            + " (the shape of "
            + like
            + ")"
        )


def _check_out(out, dtype):
    if not (isinstance(out, types.Array) and out.dtype == dtype and out.layout == "C" and out.mutable):
        raise TypingError(f"numba_act: out must be a writeable C-contiguous {dtype} array inside @njit, got {out}")


def _register_elementwise(entry):
    # Plain names: the implementations below are compiled, and a compiled
    # function can call a dispatcher but not look up an attribute of ours.
    forward_new, forward_into = entry.kernels.forward.new, entry.kernels.forward.into
    derivative_new, derivative_into = entry.kernels.derivative.new, entry.kernels.derivative.into
    vjp_new, vjp_into = entry.kernels.vjp.new, entry.kernels.vjp.into
    f, df = entry.scalar, entry.scalar_derivative

    @overload(entry.forward)
    def _forward(x, out=None):
        to_float = _scalar_arg(x)
        if to_float is not None:
            return lambda x, out=None: f(to_float(x))
        result, (cx,) = _array_args(("x", x))
        if _is_none(out):
            return lambda x, out=None: forward_new(cx(x))
        _check_out(out, result)

        def forward_out(x, out=None):
            _same_shape("out", out, "x", x)
            return forward_into(cx(x), out)

        return forward_out

    @overload(entry.derivative)
    def _derivative(z, a, out=None):
        cz, ca = _scalar_arg(z), _scalar_arg(a)
        if cz is not None and ca is not None:
            return lambda z, a, out=None: df(cz(z), ca(a))
        result, (cz, ca) = _array_args(("z", z), ("a", a))
        if _is_none(out):

            def derivative(z, a, out=None):
                _same_shape("a", a, "z", z)
                return derivative_new(cz(z), ca(a))

            return derivative
        _check_out(out, result)

        def derivative_out(z, a, out=None):
            _same_shape("a", a, "z", z)
            _same_shape("out", out, "z", z)
            return derivative_into(cz(z), ca(a), out)

        return derivative_out

    @overload(entry.vjp)
    def _vjp(z, a, grad, out=None):
        cz, ca, cg = _scalar_arg(z), _scalar_arg(a), _scalar_arg(grad)
        if cz is not None and ca is not None and cg is not None:
            return lambda z, a, grad, out=None: cg(grad) * df(cz(z), ca(a))
        result, (cz, ca, cg) = _array_args(("z", z), ("a", a), ("grad", grad))
        if _is_none(out):

            def vjp(z, a, grad, out=None):
                _same_shape("a", a, "z", z)
                _same_shape("grad", grad, "z", z)
                return vjp_new(cz(z), ca(a), cg(grad))

            return vjp
        _check_out(out, result)

        def vjp_out(z, a, grad, out=None):
            _same_shape("a", a, "z", z)
            _same_shape("grad", grad, "z", z)
            _same_shape("out", out, "z", z)
            return vjp_into(cz(z), ca(a), cg(grad), out)

        return vjp_out


@njit
def _last_axis_only(axis, ndim):
    if axis != -1 and axis != ndim - 1:
        raise ValueError("numba_act: inside @njit the softmax family works along the last axis only")


def _register_rowwise(entry):
    forward_new, forward_into = entry.kernels.forward.new, entry.kernels.forward.into
    vjp_new, vjp_into = entry.kernels.vjp.new, entry.kernels.vjp.into

    @overload(entry.forward)
    def _forward(x, axis=-1, out=None):
        result, (cx,) = _array_args(("x", x))
        if x.ndim == 0:
            raise TypingError("numba_act: inside @njit the softmax family needs an array of 1 or more dimensions")
        if _is_none(out):

            def impl(x, axis=-1, out=None):
                _last_axis_only(axis, x.ndim)
                return forward_new(cx(x))

            return impl
        _check_out(out, result)

        def impl_out(x, axis=-1, out=None):
            _last_axis_only(axis, x.ndim)
            _same_shape("out", out, "x", x)
            return forward_into(cx(x), out)

        return impl_out

    @overload(entry.derivative)
    def _derivative(z, a, out=None):
        result, (ca,) = _array_args(("a", a))
        if _is_none(out):
            return lambda z, a, out=None: np.ones_like(ca(a))
        _check_out(out, result)

        def impl(z, a, out=None):
            _same_shape("out", out, "a", a)
            out[...] = 1
            return out

        return impl

    @overload(entry.vjp)
    def _vjp(z, a, grad, axis=-1, out=None):
        result, (ca, cg) = _array_args(("a", a), ("grad", grad))
        if _is_none(out):

            def impl(z, a, grad, axis=-1, out=None):
                _last_axis_only(axis, a.ndim)
                _same_shape("grad", grad, "a", a)
                return vjp_new(ca(a), cg(grad))

            return impl
        _check_out(out, result)

        def impl_out(z, a, grad, axis=-1, out=None):
            _last_axis_only(axis, a.ndim)
            _same_shape("grad", grad, "a", a)
            _same_shape("out", out, "a", a)
            return vjp_into(ca(a), cg(grad), out)

        return impl_out


for _entry in REGISTRY.values():
    (_register_rowwise if _entry.rowwise else _register_elementwise)(_entry)


def register(
    name: str,
    forward: Callable,
    derivative: Callable,
    *,
    formula: str | None = None,
    derivative_formula: str | None = None,
) -> ElementwiseFunction:
    """Register an elementwise activation built from two ``@njit`` scalar functions.

    ``forward(x)`` gives the activation of one float; ``derivative(z, a)``
    its local derivative from the pre-activation ``z`` and the activation
    ``a = forward(z)``.  Each is called with float32 or float64 scalars and
    should return a value of that type (build constants with ``type(x)(c)``
    to keep float32 math in float32); ``@njit(inline="always")`` lets the
    array loops vectorize.

    The activation then has everything a built-in one has: the array
    function ``REGISTRY[name].forward`` (returned) with every dtype, layout
    and ``out=`` rule, ``REGISTRY[name].derivative`` and ``.vjp``, the
    thread pool on large arrays, ``activation_forward(x, name)`` and
    ``activation_backward(z, a, name, grad=g)`` from Python and, with a
    literal name, from ``@njit`` code, entries in ``NAMES`` and
    ``ACTIVATIONS``, and a layer from ``layers.activation_layer(name)``.
    ``formula`` and ``derivative_formula`` go into the docstrings.

    Its kernels are not cached on disk (they compile in each process), and a
    process that unpickles it must have registered it too.  Raises
    ValueError for a name already taken or not an identifier, TypeError for
    functions that are not ``@njit`` ones.

    Example::

        >>> import numpy as np, numba, numba_act as na
        >>> @numba.njit(inline="always")
        ... def cube(x):
        ...     return x * x * x
        >>> @numba.njit(inline="always")
        ... def cube_derivative(z, a):
        ...     return type(z)(3.0) * z * z
        >>> f = na.register("cube", cube, cube_derivative, formula="x**3")
        >>> f(np.array([1.0, 2.0], np.float32))
        array([1., 8.], dtype=float32)
        >>> z = np.array([2.0])
        >>> na.activation_backward(z, f(z), "cube", grad=np.array([0.5]))
        array([6.])
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}")
    taken = name in REGISTRY or any(k in _jit.KERNELS for k in (name, f"{name}_derivative", f"{name}_vjp"))
    if not name.isidentifier() or taken or hasattr(registry, name):
        raise ValueError(f"{name!r} cannot be registered: it is taken or not an identifier")
    for what, function in (("forward", forward), ("derivative", derivative)):
        if not isinstance(function, Dispatcher):
            raise TypeError(f"{what} must be an @njit function, not {type(function).__name__}")
    with _jit.uncached():
        entry = registry.elementwise_entry(
            name,
            forward,
            derivative,
            formula or f"{forward.__name__}(x)",
            derivative_formula or f"{derivative.__name__}(z, a)",
            "A registered activation.",
            builtin=False,
        )
    registry.add(entry)
    _register_elementwise(entry)
    return entry.forward


@overload(gelu, prefer_literal=True)
def _gelu_overload(x, approximate="none", out=None):
    if _is_none(approximate):
        name = "gelu"
    elif isinstance(approximate, (str, bool)):  # the default, passed as a value
        name = _gelu_name(approximate)
    else:
        name = _gelu_name(_literal(approximate, "approximate", "'tanh'"))
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


def _literal(value, what, example):
    """The compile-time value of a literal argument; TypingError that says so
    for a value known only at run time.  (Numba's ``literally`` is not used:
    where it cannot be met it hides every other error of the call.)"""
    if isinstance(value, types.Literal):
        return value.literal_value
    if isinstance(value, (types.UnicodeType, types.Boolean)):
        raise TypingError(
            f"numba_act: inside @njit, {what} must be a compile-time constant: a literal such as {example}, "
            f"or numba.literally(arg) for an argument of your function; got {value}, known only at run time"
        )
    raise TypingError(f"numba_act: {what} must be a str, got {value}")


def _literal_entry(name):
    try:
        return lookup(_literal(name, "the activation name", "'relu'"))
    except (TypeError, ValueError) as err:  # from lookup: not a str, or unknown
        raise TypingError(f"numba_act: {err}") from None


@overload(activation_forward, prefer_literal=True)
def _activation_forward_overload(x, name, out=None, axis=-1):
    entry = _literal_entry(name)
    forward = entry.forward
    if entry.rowwise:
        return lambda x, name, out=None, axis=-1: forward(x, axis, out)
    return lambda x, name, out=None, axis=-1: forward(x, out)


@overload(activation_backward, prefer_literal=True)
def _activation_backward_overload(z, a, name, grad=None, out=None, axis=-1):
    entry = _literal_entry(name)
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
    "register",
    "relu",
    "relu_derivative_from_pre_activation",
    "sigmoid",
    "sigmoid_derivative_from_activation",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]
