"""The public functions that are not one activation's own: dispatch by name,
gelu with torch's ``approximate``, the seed module's two derivative helpers,
and :func:`register`.  Each has its ``@njit`` form beside it.

The activations' own functions (``numba_act.sigmoid``, ...) are the
registry entries' (:mod:`numba_act.registry`); their ``@njit`` forms are
in :mod:`numba_act._overloads`.
"""

import contextlib
from collections.abc import Callable
from typing import Any, SupportsIndex

import numpy as np
from numba import types
from numba.core.dispatcher import Dispatcher
from numba.core.errors import TypingError
from numpy.typing import ArrayLike

from numba_act import _arrays, _dask_xarray, _entry, _jit, _overloads, elementwise, registry, scalar
from numba_act._jit import overload_kernel
from numba_act._overloads import is_none
from numba_act._tiers import DEFAULT
from numba_act.registry import REGISTRY, REQUIRED, ActivationFunction, lookup


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


def _literal_entry(name, tier):
    try:
        return tier.entry(lookup(_literal(name, "the activation name", "'relu'")))
    except (TypeError, ValueError) as err:  # from lookup: not a str, or unknown
        raise TypingError(f"numba_act: {err}") from None


# Every parameter name of the built-in activations: the @njit forms of
# activation_forward and activation_backward take each by keyword.
_PARAM_NAMES = tuple(dict.fromkeys(p.name for entry in REGISTRY.values() for p in entry.params))
_KEYWORDS = "".join(f", {name}=None" for name in _PARAM_NAMES)


def _param_tuple(entry, given):
    """The source of ``entry``'s parameter tuple from the keyword arguments
    ``given`` ({name: type}) of a by-name call inside ``@njit``, with the
    defaults for those not given (TypingError for any other name, or a
    required one missing); the source of the check of their values; and the
    names those sources use ({name: converter or value})."""
    given = {name: ty for name, ty in given.items() if not is_none(ty)}
    for name in given:
        if name not in {p.name for p in entry.params}:
            raise TypingError(f"numba_act: {entry.name} has no parameter {name!r}")
    values, names = [], {}
    for i, param in enumerate(entry.params):
        if param.name in given:
            values.append(f"_value{i}({param.name})")
            names[f"_value{i}"] = _overloads.param_arg(entry, param, given[param.name])
        elif param.default is REQUIRED:
            raise TypingError(f"numba_act: {entry.name}: missing the parameter {param.name}")
        else:  # a global of the implementation: its repr may not be source (inf)
            values.append(f"_default{i}")
            names[f"_default{i}"] = float(param.if_none if param.default is None else param.default)
    source = f"({', '.join(values)},)" if values else "()"
    check = ""
    if entry.check_params is not None and values:
        names["_check_params"] = entry.check_params
        check = f"_check_params({', '.join(f'params[{i}]' for i in range(len(values)))})\n    "
    return source, check, names


def _by_name_overload(arguments, body):
    """An implementation of ``arguments`` (source) running ``body`` (source)
    with ``params`` set to the entry's parameter tuple."""

    def build(entry, given, namespace):
        params, check, names = _param_tuple(entry, given)
        namespace = {**namespace, **names}
        exec(f"def impl({arguments}{_KEYWORDS}):\n    params = {params}\n    {check}return {body}\n", namespace)
        return namespace["impl"]

    return build


_forward_impl = _by_name_overload("x, name, out=None, axis=-1", "call(x, out, axis, params)")
_derivative_impl = _by_name_overload("z, a, name, grad=None, out=None, axis=-1", "call_derivative(z, a, out, params)")
_vjp_impl = _by_name_overload("z, a, name, grad=None, out=None, axis=-1", "call_vjp(z, a, grad, out, axis, params)")


def _typing(arguments, build):
    """The typing function of arguments ``arguments`` (source) and every parameter name."""
    given = ", ".join(f"{name!r}: {name}" for name in _PARAM_NAMES)
    names = ", ".join(a.split("=")[0].strip() for a in arguments.split(","))
    namespace = {"_build": build}
    exec(f"def typing({arguments}{_KEYWORDS}):\n    return _build({names}, {{{given}}})\n", namespace)
    return namespace["typing"]


# The by-name calls inside @njit go through one disk-cached function per entry
# and direction, made from these templates: Numba compiles an @overload's
# implementation again in every process, and each level of compiled calls
# optimizes and generates code again for everything below it, so the
# entry's own call chain, compiled once and loaded from the cache, leaves a
# user's function that calls by name only the thin level above it to compile.
def _forward_template(x, out, axis, params):
    return call(x, out, axis, params)  # noqa: F821 (bound per entry)


def _derivative_template(z, a, out, params):
    return call_derivative(z, a, out, params)  # noqa: F821


def _vjp_template(z, a, grad, out, axis, params):
    return call_vjp(z, a, grad, out, axis, params)  # noqa: F821


_TEMPLATES = {"call": _forward_template, "call_derivative": _derivative_template, "call_vjp": _vjp_template}
_CACHED_CALLS: dict = {}


def _cached_call(entry, part):
    """``entry.<part>`` (call, call_derivative or call_vjp) as a disk-cached
    @njit function; not cached on disk for a registered activation, whose
    code is not numba_act's (see _jit.uncached)."""
    key = (entry.name, entry.tier.name, part)
    if key not in _CACHED_CALLS:
        with _jit.uncached() if entry.reference is None else contextlib.nullcontext():
            name = f"{entry.name}{entry.tier.suffix}_{part}_by_name"
            _CACHED_CALLS[key] = _jit.specialize(_TEMPLATES[part], name, **{part: getattr(entry, part)})
    return {part: _CACHED_CALLS[key]}


def _gelu_name(approximate):
    if isinstance(approximate, (str, bool)):
        if approximate == "none" or approximate is False:
            return "gelu"
        if approximate == "tanh" or approximate is True:
            return "gelu_tanh"
    raise ValueError(f"approximate must be 'none' or 'tanh', not {approximate!r}")


_by_name, _TIER = REGISTRY.get, DEFAULT  # another tier's copies rebind both (see _tiered)


def activation_forward(
    x: ArrayLike, name: str, out: np.ndarray | None = None, *, axis: SupportsIndex = -1, **params: float | None
) -> Any:
    """Apply the activation called ``name`` to ``x``.

    Args:
        x: array-like or scalar input.
        name: one of ``NAMES`` or an alias (``"swish"``); inside ``@njit``, a compile-time constant.
        out: optional array to write the result into.
        axis: the axis of the row-wise activations (softmax, log_softmax); unused by the others.
        params: the activation's parameters by name, as its own function
            takes them (``negative_slope=0.2`` for leaky_relu); the defaults
            for the rest.  Inside ``@njit`` too, as run-time values.

    Returns:
        What ``REGISTRY[name].forward`` returns: same dtype and ``out`` rules.

    Raises:
        ValueError for an unknown name, TypeError for a name that is not a str;
        TypeError for a parameter the activation does not have, a missing
        required one or one that is not a number; ValueError for an invalid value.

    Example:
        >>> import numpy as np
        >>> import numba_act as na
        >>> na.activation_forward(np.array([-1.0, 2.0]), "relu")
        array([0., 2.])
        >>> na.activation_forward(np.array([-1.0, 2.0]), "leaky_relu", negative_slope=0.2)
        array([-0.2,  2. ])
    """
    entry = _by_name(name) if type(name) is str else None  # lookup(), less a call on every step
    if entry is None:
        entry = _TIER.entry(lookup(name))
    if params or entry.params:
        return entry.call(x, out, axis, entry.param_values(params))
    return entry.call(x, out, axis)


def activation_backward(
    z: ArrayLike | None,
    a: ArrayLike,
    name: str,
    grad: ArrayLike | None = None,
    *,
    out: np.ndarray | None = None,
    axis: SupportsIndex = -1,
    **params: float | None,
) -> Any:
    """Backward pass of the activation called ``name``.

    Without ``grad``: the local derivative, as the seed convention defines
    it: sigmoid a (1 - a), relu 1 where z > 0 else 0, and ``ones_like(a)`` for
    softmax and log_softmax (meant to pair with a cross-entropy loss whose
    gradient with respect to the logits is already p - y).

    Derivatives read from a (sigmoid, tanh, elu, softplus: torch's
    convention, and the cheaper one in training) have a relative error that
    grows like e**|z| in the tails, because a itself is rounded (sigmoid'
    from a float32 a is 0 from z = 17.3 on).  ``a=None`` asks for the
    derivative from z alone, within 4 ulp of the exact one everywhere (the
    row-wise activations compute a first).  With ``grad``
    (dL/da): the exact vector-Jacobian product dL/dz, e.g. sigmoid
    grad * a * (1 - a), relu grad * (z > 0), softmax a * (grad - sum(a * grad))
    along ``axis``.

    Args:
        z: the pre-activation (the row-wise activations do not read it; None is accepted there).
        a: the activation, ``activation_forward(z, name)``; or None for the derivative from z alone.
        name: one of ``NAMES``; inside ``@njit``, a compile-time constant.
        grad: optional dL/da, of z's shape.
        out: optional array to write the result into.
        axis: the axis of the row-wise activations; unused by the others.
        params: the activation's parameters by name, as in :func:`activation_forward`.

    Returns:
        An array of z's shape, by the dtype rules of the forward pass.

    Raises:
        As :func:`activation_forward`.

    Example:
        >>> import numpy as np
        >>> import numba_act as na
        >>> z = np.array([-1.0, 2.0])
        >>> na.activation_backward(z, na.relu(z), "relu", grad=np.array([5.0, 5.0]))
        array([0., 5.])
    """
    entry = _by_name(name) if type(name) is str else None
    if entry is None:
        entry = _TIER.entry(lookup(name))
    if params or entry.params:
        values = entry.param_values(params)
        if grad is None:
            return entry.call_derivative(z, a, out, values)
        return entry.call_vjp(z, a, grad, out, axis, values)
    if grad is None:
        return entry.derivative(z, a, out) if a is not None else entry.call_derivative(z, a, out)
    return entry.call_vjp(z, a, grad, out, axis)


def gelu(x: ArrayLike, approximate: str | bool = "none", out: np.ndarray | None = None) -> Any:
    """gelu(x) = x * Phi(x) = x/2 * (1 + erf(x / sqrt(2))), elementwise.

    Args:
        x: array-like or scalar input.
        approximate: ``"none"`` (the exact erf form, default) or ``"tanh"``,
            x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))), the
            ``gelu_tanh`` activation, as in ``torch.nn.functional.gelu``;
            True and False stand for "tanh" and "none".  Inside ``@njit``, a
            compile-time constant.
        out: optional array to write the result into.

    Returns:
        An array of x's shape: the dtype and ``out`` rules of :func:`sigmoid`.

    Edge cases: NaN propagates; gelu(-inf) = -0.0, gelu(inf) = inf,
    gelu(-0.0) = -0.0.  Any other ``approximate`` raises ValueError.

    Example:
        >>> import numpy as np
        >>> import numba_act as na
        >>> na.gelu(np.array([-2.0, 0.0, 1.5], np.float32))
        array([-0.04550026,  0.        ,  1.3997892 ], dtype=float32)
        >>> na.gelu(np.array([-2.0, 0.0, 1.5], np.float32), approximate="tanh")
        array([-0.04540231,  0.        ,  1.3995715 ], dtype=float32)
    """
    return _TIER.entry(REGISTRY[_gelu_name(approximate)]).forward(x, out)


def _tiered(tier):
    """activation_forward, activation_backward and gelu of ``tier`` (see
    :mod:`numba_act._tiers`), with their ``@njit`` forms: the functions above
    for the default tier, copies of them that look entries up in ``tier``
    for another (``numba_act.fast``)."""
    functions = activation_forward, activation_backward, gelu
    if tier is not DEFAULT:

        def by_name(name):
            entry = REGISTRY.get(name)
            return entry if entry is None else tier.entry(entry)

        bound = {**globals(), "_by_name": by_name, "_TIER": tier}
        functions = tuple(_jit.rebound(f, bound, module=tier.module) for f in functions)
        for copy in functions:
            copy.__doc__ = tier.docs(copy.__doc__)
    forward, backward, gelu_ = functions

    def forward_overload(x, name, out, axis, given):
        entry = _literal_entry(name, tier)
        return _forward_impl(entry, given, _cached_call(entry, "call"))

    def backward_overload(z, a, name, grad, out, axis, given):
        entry = _literal_entry(name, tier)
        if is_none(grad):
            return _derivative_impl(entry, given, _cached_call(entry, "call_derivative"))
        return _vjp_impl(entry, given, _cached_call(entry, "call_vjp"))

    overload_kernel(forward, prefer_literal=True)(_typing("x, name, out=None, axis=-1", forward_overload))
    overload_kernel(backward, prefer_literal=True)(
        _typing("z, a, name, grad=None, out=None, axis=-1", backward_overload)
    )

    @overload_kernel(gelu_, prefer_literal=True)
    def _gelu_overload(x, approximate="none", out=None):
        if is_none(approximate):
            name = "gelu"
        elif isinstance(approximate, (str, bool)):  # the default, passed as a value
            name = _gelu_name(approximate)
        else:
            name = _gelu_name(_literal(approximate, "approximate", "'tanh'"))
        forward = tier.entry(REGISTRY[name]).forward
        return lambda x, approximate="none", out=None: forward(x, out)

    return functions


_tiered(DEFAULT)


_GLU = elementwise.binary_op("glu", scalar.glu)
_glu_halves = _entry.entry_point(_GLU, ("the first half of x", "the second half of x"))


def _halves(x, axis, name="x"):
    """(x, the first half, the second half, axis) of ``x`` split along ``axis``; ValueError for an odd length."""
    if not _dask_xarray.any_dask_or_xarray((x,)):
        x = _arrays.as_array(x, name)
        _arrays.dtype_rule(x.dtype, name)
    if np.ndim(x) == 0:
        raise ValueError(f"glu needs an array of 1 or more dimensions, got a 0-d {name}")
    axis = _arrays.normalize_axis(axis, np.ndim(x))
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"glu halves {name} along axis {axis}, whose length {n} is odd")
    before = (slice(None),) * axis
    return x, x[(*before, slice(0, n // 2))], x[(*before, slice(n // 2, n))], axis


def glu(x: ArrayLike, axis: SupportsIndex = -1, out: np.ndarray | None = None) -> Any:
    """glu(x) = a * sigmoid(b), with a and b the first and second halves of x along ``axis``.

    As ``torch.nn.functional.glu(x, dim)`` and ``jax.nn.glu(x, axis)``: the
    gated linear unit, whose result is half as long as x along ``axis``.

    Args:
        x: array-like input of 1 or more dimensions, of even length along ``axis``.
        axis: the axis to split (default -1, the last).
        out: optional array of the result's shape to write it into.

    Returns:
        An array of x's shape with ``axis`` halved: the dtype and ``out``
        rules of :func:`sigmoid`; within about half an ulp of the exact value.

    Raises:
        ValueError: for an odd length along ``axis`` or a 0-d x.

    Edge cases: NaN propagates; a = +-inf with sigmoid(b) = 0 (b = -inf)
    gives NaN, as inf * 0.

    Example:
        >>> import numpy as np
        >>> import numba_act as na
        >>> na.glu(np.array([[1.0, -2.0, 0.0, 3.0]], np.float32))
        array([[ 0.5      , -1.9051483]], dtype=float32)
    """
    _, a, b, _ = _halves(x, axis)
    return _glu_halves(a, b, out)


def glu_vjp(x: ArrayLike, grad: ArrayLike, axis: SupportsIndex = -1, out: np.ndarray | None = None) -> Any:
    """The vector-Jacobian product of :func:`glu`: dL/dx from grad = dL/d glu(x).

    With a, b the halves of x and s = sigmoid(b): dL/da = grad * s and
    dL/db = grad * a * s * (1 - s), the two halves of the result along ``axis``.
    1 - s is computed as sigmoid(-b), so that it keeps its accuracy where s
    rounds to 1.

    Args:
        x: the input of glu.
        grad: dL/d glu(x), of glu(x)'s shape.
        axis: the axis glu split.
        out: optional array of x's shape to write the result into.

    Returns:
        An array of x's shape, by the dtype rules of :func:`glu`.

    Example:
        >>> import numpy as np
        >>> import numba_act as na
        >>> na.glu_vjp(np.array([1.0, 0.0]), np.array([1.0]))
        array([0.5 , 0.25])
    """
    x_array, a, b, axis = _halves(x, axis)
    g = _arrays.as_array(grad, "grad")
    dtype = _arrays.result_dtype_of([x_array.dtype, g.dtype], ["x", "grad"])
    _arrays.same_shape("grad", g, "glu(x)", a)
    if out is not None:
        _arrays.check_out(out, x_array.shape, dtype)
    sigmoid = REGISTRY["sigmoid"].forward
    a, b, g = (np.asarray(v, dtype) for v in (a, b, g))
    s = sigmoid(b)
    result = np.concatenate([g * s, g * a * (s * sigmoid(-b))], axis=axis)
    if out is None:
        return result
    out[...] = result
    return out


@overload_kernel(glu)
def _glu_overload(x, axis=-1, out=None):
    if not isinstance(x, types.Array) or x.ndim == 0:
        raise TypingError(f"numba_act: glu needs an array of 1 or more dimensions inside @njit, got {x}")
    new, into = _GLU.new, _GLU.into

    def impl(x, axis=-1, out=None):
        _glu_check(x, axis)
        h = x.shape[-1] // 2
        return new(x[..., :h], x[..., h:])

    def impl_out(x, axis=-1, out=None):
        _glu_check(x, axis)
        h = x.shape[-1] // 2
        return into(x[..., :h], x[..., h:], out)

    return impl if is_none(out) else impl_out


@_jit.kernel
def _glu_check(x, axis):
    if axis != -1 and axis != x.ndim - 1:
        raise ValueError("numba_act: inside @njit glu splits the last axis only")
    if x.shape[-1] % 2:
        raise ValueError("numba_act: glu halves the last axis, whose length is odd")


# REGISTRY["sigmoid"].derivative, with errors that name the argument a
_sigmoid_derivative = _entry.entry_point(REGISTRY["sigmoid"].ops.derivative, ("a", "a"))


def sigmoid_derivative_from_activation(a: ArrayLike, out: np.ndarray | None = None) -> Any:
    """a * (1 - a), the derivative of sigmoid from its output a = sigmoid(z).

    Args:
        a: the activation sigmoid(z), array-like.
        out: optional array to write the result into.

    Returns:
        An array of a's shape: the dtype and ``out`` rules of :func:`sigmoid`;
        NaN propagates.

    Example:
        >>> import numpy as np
        >>> import numba_act as na
        >>> na.sigmoid_derivative_from_activation(np.array([0.5, 0.75]))
        array([0.25  , 0.1875])
    """
    return _sigmoid_derivative(a, a, out)


def relu_derivative_from_pre_activation(z: ArrayLike, out: np.ndarray | None = None) -> Any:
    """The derivative of relu from its input z: 1 where z > 0, else 0 (0 at z == 0).

    Args:
        z: the pre-activation, array-like.
        out: optional array to write the result into.

    Returns:
        An array of z's shape: the dtype and ``out`` rules of :func:`relu`;
        NaN stays NaN.

    Example:
        >>> import numpy as np
        >>> import numba_act as na
        >>> na.relu_derivative_from_pre_activation(np.array([-1.0, 0.0, 3.0]))
        array([0., 0., 1.])
    """
    return REGISTRY["relu"].derivative(z, z, out)


@overload_kernel(sigmoid_derivative_from_activation)
def _sigmoid_derivative_overload(a, out=None):
    derivative = REGISTRY["sigmoid"].derivative
    return lambda a, out=None: derivative(a, a, out)


@overload_kernel(relu_derivative_from_pre_activation)
def _relu_derivative_overload(z, out=None):
    derivative = REGISTRY["relu"].derivative
    return lambda z, out=None: derivative(z, z, out)


def register(
    name: str,
    forward: Callable,
    derivative: Callable,
    *,
    formula: str | None = None,
    derivative_formula: str | None = None,
    weight_init: str = "glorot",
) -> ActivationFunction:
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
    process that unpickles it must have registered it too.

    Args:
        name: a Python identifier that no activation has.
        forward: the ``@njit`` scalar function ``forward(x)``.
        derivative: the ``@njit`` scalar function ``derivative(z, a)``.
        formula, derivative_formula: text for the docstrings.
        weight_init: ``"glorot"`` (default) or ``"he"``: how
            :class:`numba_act.model.NeuralNetworkModel` initializes the
            weights of a layer that this activation follows.

    Returns:
        The array function of the new activation.

    Raises:
        ValueError for a name already taken or not an identifier, or another
        ``weight_init``; TypeError for functions that are not ``@njit`` ones.

    Example:
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
    taken = name in REGISTRY or any(k in _jit.COMPILED_OPS for k in (name, f"{name}_derivative", f"{name}_vjp"))
    if not name.isidentifier() or taken or hasattr(registry, name):
        raise ValueError(f"{name!r} cannot be registered: it is taken or not an identifier")
    if weight_init not in ("glorot", "he"):
        raise ValueError(f"weight_init must be 'glorot' or 'he', not {weight_init!r}")
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
            weight_init=weight_init,
        )
    registry.add(entry)
    _overloads.register_entry(entry)
    return entry.forward


__all__ = [
    "activation_backward",
    "activation_forward",
    "gelu",
    "register",
    "relu_derivative_from_pre_activation",
    "sigmoid_derivative_from_activation",
]
