"""The registry of activations: one entry per name, the source of everything else.

``REGISTRY`` maps each name to an :class:`Activation` holding its public
functions (forward, local derivative, vector-Jacobian product), its
compiled operations, its scalar kernels and its NumPy references.  The
public namespace (``numba_act.<name>``), ``__all__``, the ``@njit``
overloads, the layers, the benchmarks and the tests all iterate over it, so
a built-in activation is one entry in :data:`REGISTRY` below, and
:func:`numba_act.register` adds one at run time through the same builder.

Every entry has one shape: ``call(x, out, axis)`` and
``call_vjp(z, a, grad, out, axis)`` take the same arguments whatever the
activation (``axis`` is used by the row-wise ones, the softmax family, only),
so that dispatch by name never asks what kind an entry is.
"""

import functools
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import ArrayLike

from numba_act import _arrays, _dask_xarray, _entry, elementwise, reference, rowwise, scalar
from numba_act._jit import kernel
from numba_act._tiers import DEFAULT

EPS = reference.EPS


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()


@dataclass(frozen=True)
class Param:
    """A parameter of an activation, as torch.nn.functional names it: a float
    with a ``default`` (:data:`REQUIRED` for none).  ``if_none`` is the value
    None stands for (softplus's ``threshold=None``, meaning infinity);
    without it, None is a TypeError."""

    name: str
    default: Any = REQUIRED
    if_none: float | None = None


def _param_value(activation, param, value):
    """``value`` of ``param`` as the float the kernels take; TypeError for anything but a real number."""
    if type(value) is float:
        return value
    if value is None and param.if_none is not None:
        return param.if_none
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    raise TypeError(f"{activation}: {param.name} must be a real number, not {type(value).__name__}")


class ActivationFunction(Protocol):
    """The type of an activation's function: ``f(x, *params, out=None)``,
    where the softmax family's one parameter is ``axis``.  (For type
    checkers: ``out`` is given by keyword.)"""

    def __call__(self, x: ArrayLike, /, *params: float, out: np.ndarray | None = None, **named: float) -> Any: ...


class EntryOps(NamedTuple):
    """The compiled operations of one activation (:class:`numba_act._jit.CompiledOp`
    each): the forward pass, the local derivative (None for the row-wise
    activations) and the vector-Jacobian product; and the last two from z
    alone, where the derivative is read from a (None otherwise)."""

    forward: Any
    derivative: Any
    vjp: Any
    derivative_from_z: Any = None
    vjp_from_z: Any = None


@dataclass(frozen=True)
class Activation:
    """One activation and everything derived from its math.

    ``forward``, ``derivative(z, a, out=None)`` and ``vjp`` are the public
    Python functions: ``forward(x, out=None)`` and
    ``vjp(z, a, grad, out=None)`` elementwise, ``forward(x, axis=-1, out=None)``
    and ``vjp(z, a, grad, axis=-1, out=None)`` for the ``rowwise`` ones (the
    softmax family).  ``call(x, out, axis)`` and
    ``call_vjp(z, a, grad, out, axis)`` are the same functions with one
    signature for every entry, for dispatch by name.  ``ops`` holds the
    compiled operations (:class:`EntryOps`); ``scalar`` and
    ``scalar_derivative`` are the ``@njit`` scalar kernels of an elementwise
    activation; ``reference``, ``reference_derivative`` and ``reference_vjp``
    are the NumPy formulas of :mod:`numba_act.reference` (None for an
    activation added by :func:`numba_act.register`).  ``public``: the
    forward function is ``numba_act.<name>``.  ``weight_init``: how
    :class:`numba_act.model.NeuralNetworkModel` initializes the weights of a
    layer that this activation follows: ``"he"`` (variance 2 / fan_in, for
    relu-like units that pass about half of their input) or ``"glorot"``
    (2 / (fan_in + fan_out)).
    """

    name: str
    formula: str
    rowwise: bool
    forward: Callable
    derivative: Callable
    vjp: Callable
    call: Callable
    call_derivative: Callable
    call_vjp: Callable
    ops: EntryOps
    reference: Callable | None
    reference_derivative: Callable | None
    reference_vjp: Callable | None
    scalar: Callable | None = None
    scalar_derivative: Callable | None = None
    public: bool = False
    weight_init: str = "glorot"
    params: tuple = ()
    check_params: Callable | None = None
    aliases: tuple = ()
    derivative_from_z: Callable | None = None
    vjp_from_z: Callable | None = None
    scalar_derivative_from_z: Callable | None = None
    tier: Any = DEFAULT
    rebuild: Callable | None = None

    def param_values(self, named=None, positional=()):
        """The float values of this activation's parameters (a tuple, in
        :attr:`params` order) from ``positional`` and ``named`` values, with
        the defaults for the rest.  TypeError for an unknown, repeated or
        missing parameter or a value that is not a real number; ValueError
        (from ``check_params``) for an invalid one."""
        return _param_values(self.name, self.params, self.check_params, positional, named)


def _param_values(activation, params, check_params, positional, named=None):
    """See :meth:`Activation.param_values`."""
    if named is None and len(positional) == len(params) and all(type(v) is float for v in positional):
        values = tuple(positional)  # the common call: every value given, as floats
    else:
        if len(positional) > len(params):
            raise TypeError(f"{activation} takes {len(params)} parameters, got {len(positional)}")
        named = dict(named or {})
        unknown = set(named) - {p.name for p in params}
        if unknown:
            valid = ", ".join(p.name for p in params) or "none"
            raise TypeError(f"{activation} has no parameter {min(unknown)!r} (its parameters: {valid})")
        values = []
        for i, param in enumerate(params):
            if i < len(positional):
                if param.name in named:
                    raise TypeError(f"{activation}: {param.name} given twice")
                value = positional[i]
            elif param.name in named:
                value = named.pop(param.name)
            elif param.default is REQUIRED:
                raise TypeError(f"{activation}: missing the parameter {param.name}")
            else:
                value = param.default
            values.append(_param_value(activation, param, value))
        values = tuple(values)
    if check_params is not None:
        check_params.py_func(*values)
    return values


def signature(arrays, params):
    """(source, defaults): the argument list of an activation's function,
    ``arrays``, then ``params`` with their defaults (torch's order), then
    ``out=None``, as source; and the defaults it names, ``{"_default0":
    0.01, ...}``, for the namespace the source runs in (a default's repr may
    not be source)."""
    defaults = {f"_default{i}": p.default for i, p in enumerate(params) if p.default is not REQUIRED}
    listed = [p.name if p.default is REQUIRED else f"{p.name}=_default{i}" for i, p in enumerate(params)]
    return ", ".join([*arrays, *listed, "out=None"]), defaults


def _with_params(name, arrays, params, call, values):
    """``name(*arrays, <params>, out=None)``, torch's signature: it returns
    ``call(*arrays, out, values(params))``.  Written out as source, as
    dataclasses does, so that help(), inspect and ``@njit`` (which folds
    arguments by name) see the real signature, and a call parses its
    arguments at the cost of a plain Python call."""
    arguments, defaults = signature(arrays, params)
    listed = ", ".join(arrays)
    source = (
        f"def {name}({arguments}):\n    return _call({listed}, out, _values(({', '.join(p.name for p in params)},)))\n"
    )
    namespace = {"_call": call, "_values": values, **defaults}
    exec(source, namespace)
    return namespace[name]


def _named(fn, activation, doc, part=None, tier=DEFAULT):
    """``fn`` as the public ``numba_act.<activation>`` (``part`` None) or as
    ``<part>`` of the entry ``activation``, named so that pickle finds it by
    reference: ``numba_act.registry.<activation>.<part>`` is the entry's field
    (see :func:`__getattr__`), so that every function of an entry pickles to
    the very same object, as task graphs and process pools need.  In another
    ``tier``: ``numba_act.<tier>.<activation>`` and
    ``numba_act.<tier>.entries.<activation>.<part>``."""
    if part is None:
        fn.__module__, fn.__name__, fn.__qualname__ = tier.module, activation, activation
    else:
        module, path = (__name__, "") if tier is DEFAULT else (tier.module, "entries.")
        fn.__module__, fn.__name__, fn.__qualname__ = module, f"{activation}_{part}", f"{path}{activation}.{part}"
    doc = tier.docs(doc)  # its examples call this tier's functions
    fn.__doc__ = doc if tier is DEFAULT or part is not None else f"{doc}\n    {tier.doc}\n"
    return fn


def __getattr__(name):
    # The entries by name, as pickle looks up their functions (see _named).
    entry = REGISTRY.get(name)
    if entry is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return entry


# ------------------------------------------------------------- docstrings

_RULES = """dtype: float32 in, float32 out (some steps evaluated in float64,
    then rounded once); float64 likewise; float16 is computed in float32
    and returned as float16; integer and bool give float64; inputs of
    different float dtypes promote; any other dtype raises TypeError.  A
    Python scalar or 0-d input gives a NumPy scalar.

    out: if given, it must have exactly the result's shape and dtype
    (ValueError, TypeError), be writeable and have no elements that share
    memory with each other (ValueError); it is checked before anything is
    written.  It may be an input itself or overlap one: the result is as if
    the inputs were copied first, as NumPy's ufuncs do.  Inputs are never
    modified otherwise."""


def _wrapped(text):
    """``text`` in lines of a docstring's width, indented as its paragraphs."""
    return textwrap.fill(text, 76, subsequent_indent="    ", break_on_hyphens=False)


_AXIS_ARG = "axis: the axis the activation is computed along (default -1, the last).\n        "


def _params_signature(params):
    return "".join(f", {p.name}" + ("" if p.default is REQUIRED else f"={p.default!r}") for p in params)


def _params_args(params):
    """The Args lines of ``params``."""
    lines = []
    for p in params:
        default = "required" if p.default is REQUIRED else f"default {p.default!r}"
        none = f"; None stands for {p.if_none!r}" if p.if_none is not None else ""
        lines.append(f"{p.name}: a real number ({default}{none}).\n        ")
    return "".join(lines)


def _required_args(params):
    """Values for the required parameters, for the examples that hold for every entry."""
    return "".join(", 0.0" for p in params if p.default is REQUIRED)


def _forward_doc(name, formula, edge_cases, example, rowwise, params=()):
    where, axis = ("along ``axis``", _AXIS_ARG) if rowwise else ("elementwise", "")
    signature = f"{name}(x, axis=-1, out=None)" if rowwise else f"{name}(x{_params_signature(params)}, out=None)"
    text = f"""{signature}: {formula}, {where}.

    Args:
        x: array-like or scalar input.
        {axis}{_params_args(params)}out: optional array to write the result into.

    Returns:
        An array of x's shape and the result dtype below.

    {_wrapped("Edge cases: " + edge_cases)}

    {_RULES}
"""
    if example:
        call, result = example
        text += f"""
    Example:
        >>> import numpy as np
        >>> import numba_act as na
        >>> na.{name}({call})
        {result}
"""
    return text


def _backward_example(name, call):
    """An example that holds for every entry: the dtype rule on a backward call."""
    return f"""
    Example:
        >>> import numpy as np
        >>> import numba_act as na
        >>> z = np.array([[-1.0, 0.5, 2.0]], np.float32)
        >>> entry = na.REGISTRY[{name!r}]
        >>> entry.{call}.dtype
        dtype('float32')
"""


def _derivative_doc(name, derivative_formula, params=()):
    required = _required_args(params)
    return f"""Local derivative of {name}: {derivative_formula}.

    Args:
        z: the pre-activation, array-like.
        a: the activation {name}(z), of z's shape.
        {_params_args(params)}out: optional array to write the result into.

    Returns:
        An array of z's shape.

    {_RULES}
{_backward_example(name, f"derivative(z, entry.forward(z{required}){required})")}"""


def _vjp_doc(name, vjp_formula, rowwise, params=()):
    required = _required_args(params)
    axis = _AXIS_ARG if rowwise else ""
    uses = f"\n    a is the output of {name}; z is not read." if rowwise else ""
    return f"""Vector-Jacobian product of {name}: {vjp_formula}.{uses}

    Args:
        z: the pre-activation, array-like.
        a: the activation {name}(z), of z's shape.
        grad: dL/da, of z's shape.
        {axis}{_params_args(params)}out: optional array to write the result into.

    Returns:
        dL/dz, an array of z's shape.

    {_RULES}
{_backward_example(name, f"vjp(z, entry.forward(z{required}), np.ones_like(z){required})")}"""


# ---------------------------------------------------------------- entries


def _reference_vjp(name, reference_derivative):
    def vjp(z, a, g, *params):
        return g * reference_derivative(z, a, *params)

    return _named(vjp, name, f"grad * {reference_derivative.__name__}(z, a), in NumPy.", "reference_vjp")


def elementwise_entry(
    name,
    f,
    df,
    formula,
    derivative_formula,
    edge_cases,
    *,
    params=(),
    check_params=None,
    aliases=(),
    from_z=None,
    example=None,
    memory_bound=(),
    builtin=True,
    public=True,
    weight_init="glorot",
    tier=DEFAULT,
):
    """The entry of an elementwise activation with scalar kernels ``f(x, *params)`` and
    ``df(z, a, *params)``; ``from_z``: the derivative kernel that reads z
    alone, where ``df`` reads a (see :class:`Activation`); ``memory_bound`` names the passes ("forward", "backward")
    whose kernels are a few arithmetic operations; ``example`` is the
    docstring's ``(arguments, result)``; ``params``, ``check_params``,
    ``aliases`` and ``weight_init`` as in :class:`Activation`.  A built-in one has its NumPy
    references in :mod:`numba_act.reference` and its forward function is
    ``numba_act.<name>`` unless not ``public`` (gelu's, which ``numba_act.gelu``
    wraps); a registered one has neither (see :func:`numba_act.register`).
    ``tier``: the entry built from that tier's primitives (see
    :mod:`numba_act._tiers`); None where its kernels call none of them."""
    built_with = {k: v for k, v in locals().items() if k != "tier"}
    if tier is not DEFAULT:
        kernels = (f, df, from_z)
        f, df, from_z = (tier.kernel(k) for k in kernels)
        if (f, df, from_z) == kernels:
            return None
    light, n, op_name = "backward" in memory_bound, len(params), f"{name}{tier.op_suffix}"
    built = [
        elementwise.forward_op(op_name, f, "forward" in memory_bound, n),
        elementwise.derivative_op(op_name, df, light, n),
        elementwise.vjp_op(op_name, df, light, n),
    ]
    if from_z is not None:
        built += [
            elementwise.derivative_op(f"{op_name}_from_z", from_z, light, n),
            elementwise.vjp_op(f"{op_name}_from_z", from_z, light, n),
        ]
    ops = EntryOps(*built)
    # The argument names of each op's functions (a is unused by the two from z alone).
    arguments = (("x",), ("z", "a"), ("z", "a", "grad"), ("z", "a"), ("z", "a", "grad"))[: len(built)]
    fast = [_entry.entry_point(op, names) for op, names in zip(built, arguments, strict=True)]
    forward_fast, derivative_fast, vjp_fast, *from_z_fast = fast
    derivative_z_fast, vjp_z_fast = from_z_fast or (derivative_fast, vjp_fast)
    if check_params is not None:
        check_params = kernel(check_params)
    if n:
        # the kernels' values of the defaults: None stands for if_none (softplus's threshold)
        defaults = tuple(p.if_none if p.default is None else p.default for p in params)

        def values(positional):
            return _param_values(name, params, check_params, positional)

        functions = [
            _with_params(name, names, params, call, values) for call, names in zip(fast, arguments, strict=True)
        ]

        def call(x, out=None, axis=-1, params=defaults):
            return forward_fast(x, out, params)

        def call_derivative(z, a, out=None, params=defaults):
            if a is None:
                return derivative_z_fast(z, z, out, params)
            return derivative_fast(z, a, out, params)

        def call_vjp(z, a, grad, out=None, axis=-1, params=defaults):
            if a is None:
                return vjp_z_fast(z, z, grad, out, params)
            return vjp_fast(z, a, grad, out, params)

    else:
        functions = fast

        def call(x, out=None, axis=-1, params=()):
            return forward_fast(x, out)

        def call_derivative(z, a, out=None, params=()):
            if a is None:
                return derivative_z_fast(z, z, out)
            return derivative_fast(z, a, out)

        def call_vjp(z, a, grad, out=None, axis=-1, params=()):
            if a is None:
                return vjp_z_fast(z, z, grad, out)
            return vjp_fast(z, a, grad, out)

    forward, derivative, vjp, *from_z_functions = functions

    def named(fn, doc, part=None):
        return _named(fn, name, doc, part, tier)

    builtin_reference = getattr(reference, name) if builtin else None
    reference_derivative = getattr(reference, f"{name}_grad") if builtin else None
    public = builtin and public
    return Activation(
        name=name,
        formula=formula,
        rowwise=False,
        forward=named(
            forward, _forward_doc(name, formula, edge_cases, example, False, params), None if public else "forward"
        ),
        derivative=named(derivative, _derivative_doc(name, derivative_formula, params), "derivative"),
        vjp=named(vjp, _vjp_doc(name, f"grad * ({derivative_formula})", False, params), "vjp"),
        call=named(call, "forward(x, out, *params), with the axis of every entry's call (unused).", "call"),
        call_derivative=named(call_derivative, "derivative(z, a, out, *params).", "call_derivative"),
        call_vjp=named(call_vjp, "vjp(z, a, grad, out, *params), with every entry's axis (unused).", "call_vjp"),
        ops=ops,
        reference=builtin_reference,
        reference_derivative=reference_derivative,
        reference_vjp=_reference_vjp(name, reference_derivative) if builtin else None,
        scalar=f,
        scalar_derivative=df,
        public=public,
        weight_init=weight_init,
        params=tuple(params),
        check_params=check_params,
        aliases=tuple(aliases),
        derivative_from_z=from_z and named(from_z_functions[0], f"{name}'(z), a not read.", "derivative_from_z"),
        vjp_from_z=from_z and named(from_z_functions[1], f"grad * {name}'(z), a not read.", "vjp_from_z"),
        scalar_derivative_from_z=from_z,
        tier=tier,
        rebuild=functools.partial(elementwise_entry, **built_with) if builtin else None,
    )


def _check_unused_z(z, a):
    """The row-wise backward passes need only a; a z that is given must still be
    an accepted input (TypeError otherwise) of a's shape (ValueError).  It is
    never read, so an ``out`` that overlaps it is no concern."""
    if z is None or (type(z) is type(a) is np.ndarray and z.dtype in _arrays.NATIVE and z.shape == a.shape):
        return  # the common case, on every training step
    if _dask_xarray.any_dask_or_xarray((z, a)):  # dask or xarray: never converted here
        _arrays.same_shape("z", z, "a", a)
        return
    z = _arrays.as_array(z, "z")
    _arrays.dtype_rule(z.dtype, "z")
    if type(a) is np.ndarray and z.shape == a.shape:
        return
    a = _arrays.as_array(a, "a")
    _arrays.dtype_rule(a.dtype, "a")  # a wrong dtype is the error to report, rather than its shape
    _arrays.same_shape("z", z, "a", a)


def _ones_derivative(z, a, out=None):
    # ones_like(a), by the dtype rule, with out= and the checks of every function.
    if _dask_xarray.any_dask_or_xarray((z, a)):
        return _dask_xarray.ones(a, out)
    if isinstance(a, np.ma.MaskedArray) and out is None:  # masked where a is, as ones_like(a)
        return np.ma.masked_array(_ones_derivative(z, np.ma.getdata(a)), mask=np.ma.getmaskarray(a))
    a = _arrays.as_array(a, "a")
    _, result = _arrays.dtype_rule(a.dtype, "a")
    _check_unused_z(z, a)
    if out is None:
        return np.ones(a.shape, result)
    _arrays.check_out(out, a.shape, result)
    out.fill(1)
    return out


def rowwise_entry(name, forward_op, vjp_op, formula, vjp_formula, edge_cases, *, example, tier=DEFAULT):
    """The entry of a row-wise activation (the softmax family), computed along
    an axis by the row kernels of ``forward_op`` and ``vjp_op``
    (:mod:`numba_act.rowwise`); ``tier`` as in :func:`elementwise_entry`."""
    built_with = {k: v for k, v in locals().items() if k != "tier"}
    if tier is not DEFAULT:
        ops = (forward_op, vjp_op)
        forward_op, vjp_op = (rowwise.in_tier(op, tier) for op in ops)
        if (forward_op, vjp_op) == ops:
            return None
    # Along the last axis the entry point takes the call; the row kernels
    # handle an out that is an input themselves.
    forward_last = _entry.entry_point(forward_op, ("x",), by_rows=True)
    vjp_last = _entry.entry_point(vjp_op, ("a", "grad"), by_rows=True)

    def forward(x, axis=-1, out=None):
        if axis == -1 and type(axis) is int:
            return forward_last(x, out)
        return _entry.rows(forward_op, (x,), axis, out, ("x",))

    def vjp(z, a, grad, axis=-1, out=None):
        _check_unused_z(z, a)
        if axis == -1 and type(axis) is int:
            return vjp_last(a, grad, out)
        return _entry.rows(vjp_op, (a, grad), axis, out, ("a", "grad"))

    def call(x, out=None, axis=-1, params=()):
        return forward(x, axis, out)

    # From z alone (a None): the activation is computed first.
    def call_derivative(z, a, out=None, params=()):
        return derivative(z, a, out) if a is not None else derivative(None, z, out)

    def call_vjp(z, a, grad, out=None, axis=-1, params=()):
        return vjp(z, a if a is not None else forward(z, axis), grad, axis, out)

    def named(fn, doc, part=None):
        return _named(fn, name, doc, part, tier)

    derivative = named(
        lambda z, a, out=None: _ones_derivative(z, a, out),
        f"""ones_like(a): the convention for {name} as the last layer.

    It pairs with a cross-entropy loss whose gradient with respect to the
    logits is already p - y.  For the exact backward pass give ``grad`` to
    activation_backward (or call REGISTRY[{name!r}].vjp).  z is not read, but
    must be None or an accepted input of a's shape.

    Args:
        z: the pre-activation, or None.
        a: the activation.
        out: optional array to fill with ones.

    Returns:
        ones of a's shape, float32 for float32 a.
{_backward_example(name, "derivative(None, entry.forward(z))")}""",
        "derivative",
    )
    return Activation(
        name=name,
        formula=formula,
        rowwise=True,
        forward=named(forward, _forward_doc(name, formula, edge_cases, example, True)),
        derivative=derivative,
        vjp=named(vjp, _vjp_doc(name, f"{vjp_formula}, along ``axis``", True), "vjp"),
        call=named(call, "forward(x, axis, out), in the order of every entry's call.", "call"),
        call_derivative=named(call_derivative, "derivative(z, a, out).", "call_derivative"),
        call_vjp=named(call_vjp, "vjp(z, a, grad, axis, out), in every entry's order.", "call_vjp"),
        ops=EntryOps(forward_op, None, vjp_op),
        reference=getattr(reference, name),
        reference_derivative=getattr(reference, f"{name}_grad"),
        reference_vjp=getattr(reference, f"{name}_vjp"),
        public=True,
        tier=tier,
        rebuild=functools.partial(rowwise_entry, **built_with),
    )


_NAN_RULE = "NaN propagates; "

REGISTRY = {
    entry.name: entry
    for entry in (
        elementwise_entry(
            "sigmoid",
            scalar.sigmoid,
            scalar.sigmoid_grad,
            "1 / (1 + exp(-x))",
            "a * (1 - a)",
            _NAN_RULE + "stable for every input with no overflow warning: sigmoid(-inf) = 0, "
            "sigmoid(inf) = 1, results lie in [0, 1] and are monotone.",
            from_z=scalar.sigmoid_grad_from_z,
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([0.11920292, 0.5       , 0.8175745 ], dtype=float32)",
            ),
            memory_bound=("backward",),
        ),
        elementwise_entry(
            "relu",
            scalar.relu,
            scalar.relu_grad,
            "max(x, 0)",
            "1 where z > 0, else 0 (0 at z == 0)",
            _NAN_RULE + "relu(nan) is nan; relu(-0.0) is 0.0.",
            example=("np.array([-2.0, 0.0, 1.5], np.float32)", "array([0. , 0. , 1.5], dtype=float32)"),
            memory_bound=("forward", "backward"),
            weight_init="he",
        ),
        rowwise_entry(
            "softmax",
            rowwise.SOFTMAX,
            rowwise.SOFTMAX_VJP,
            "exp(x - max(x)) / sum(exp(x - max(x)))",
            "a * (grad - sum(a * grad))",
            "rows sum to 1 within a few ulp and the result is shift-invariant; "
            "a row holding NaN, +inf, or only -inf gives NaN throughout; "
            "the softmax of a 0-d value is 1.0.",
            example=(
                "np.array([[1.0, 2.0, 3.0]], np.float32)",
                "array([[0.09003057, 0.24472848, 0.66524094]], dtype=float32)",
            ),
        ),
        rowwise_entry(
            "softmin",
            rowwise.SOFTMIN,
            rowwise.SOFTMIN_VJP,
            "softmax(-x) = exp(min(x) - x) / sum(exp(min(x) - x))",
            "-a * (grad - sum(a * grad))",
            "as softmax(-x): rows sum to 1 within a few ulp; "
            "a row holding NaN, -inf, or only +inf gives NaN throughout; "
            "the softmin of a 0-d value is 1.0.",
            example=(
                "np.array([[1.0, 2.0, 3.0]], np.float32)",
                "array([[0.66524094, 0.24472848, 0.09003057]], dtype=float32)",
            ),
        ),
        elementwise_entry(
            "tanh",
            scalar.tanh,
            scalar.tanh_grad,
            "(exp(x) - exp(-x)) / (exp(x) + exp(-x))",
            "1 - a**2",
            _NAN_RULE + "tanh(+-inf) = +-1; odd, so tanh(-0.0) = -0.0.",
            from_z=scalar.tanh_grad_from_z,
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([-0.9640276 ,  0.        ,  0.90514827], dtype=float32)",
            ),
            memory_bound=("backward",),
        ),
        elementwise_entry(
            "leaky_relu",
            scalar.leaky_relu,
            scalar.leaky_relu_grad,
            "x if x >= 0 else negative_slope * x",
            "1 where z > 0, else negative_slope",
            _NAN_RULE + "negative_slope defaults to 0.01, as in torch; negative slopes and slopes over 1 are "
            "allowed; the product is correctly rounded (in float32 too); leaky_relu(-0.0) = -0.0.",
            params=(Param("negative_slope", 0.01),),
            example=("np.array([-2.0, 0.0, 1.5], np.float32)", "array([-0.02,  0.  ,  1.5 ], dtype=float32)"),
            memory_bound=("forward", "backward"),
            weight_init="he",
        ),
        elementwise_entry(
            "elu",
            scalar.elu,
            scalar.elu_grad,
            "x if x > 0 else alpha * (exp(x) - 1)",
            "1 where z > 0, else alpha * exp(z): a + 1 for alpha = 1 (read from a alone), from z otherwise",
            _NAN_RULE + "alpha defaults to 1.0, as in torch, and may be any real number (negative too); "
            "elu(-inf) = -alpha; elu(-0.0) = -0.0; the product with alpha is rounded once, in float32 too.",
            params=(Param("alpha", 1.0),),
            from_z=scalar.elu_grad_from_z,
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([-0.86466473,  0.        ,  1.5       ], dtype=float32)",
            ),
            weight_init="he",
            memory_bound=("backward",),
        ),
        elementwise_entry(
            "gelu",
            scalar.gelu,
            scalar.gelu_grad,
            "x * Phi(x) = x/2 * (1 + erf(x / sqrt(2)))",
            "Phi(z) + z * phi(z)",
            _NAN_RULE + "the exact erf form; gelu(-inf) = -0.0, gelu(inf) = inf; gelu(-0.0) = -0.0.",
            public=False,
            weight_init="he",
        ),
        elementwise_entry(
            "gelu_tanh",
            scalar.gelu_tanh,
            scalar.gelu_tanh_grad,
            "x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x**3)))",
            "s + 2 z s (1 - s) u' with s = sigmoid(2u)",
            _NAN_RULE + "the tanh approximation of gelu, with 0.044715 as a float64 (as torch and jax); "
            "gelu_tanh(-0.0) = -0.0.",
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([-0.04540231,  0.        ,  1.3995715 ], dtype=float32)",
            ),
            weight_init="he",
        ),
        elementwise_entry(
            "silu",
            scalar.silu,
            scalar.silu_grad,
            "x * sigmoid(x)",
            "s * (1 + z * (1 - s)), s = sigmoid(z)",
            _NAN_RULE + "also called swish; silu(-inf) = -0.0.",
            aliases=("swish",),
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([-0.23840584,  0.        ,  1.2263618 ], dtype=float32)",
            ),
            weight_init="he",
        ),
        elementwise_entry(
            "softplus",
            scalar.softplus,
            scalar.softplus_grad,
            "log(1 + exp(beta * x)) / beta, or x where beta * x > threshold",
            "sigmoid(beta * z), computed as 1 - exp(-beta * a); 1 where beta * z > threshold",
            _NAN_RULE + "beta defaults to 1.0 and threshold to None, no threshold: exact everywhere (torch's "
            "default is 20; pass threshold=20.0 for its results); beta = 0 is a ValueError, a negative beta "
            "is allowed; computed as max(x, 0) + log1p(exp(-|beta x|)) / beta, so it never overflows; "
            "beta * x > threshold is decided on the exact product.",
            params=(Param("beta", 1.0), Param("threshold", None, if_none=float("inf"))),
            check_params=scalar.check_softplus,
            from_z=scalar.softplus_grad_from_z,
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([0.12692802, 0.6931472 , 1.7014133 ], dtype=float32)",
            ),
        ),
        rowwise_entry(
            "log_softmax",
            rowwise.LOG_SOFTMAX,
            rowwise.LOG_SOFTMAX_VJP,
            "x - max(x) - log(sum(exp(x - max(x))))",
            "grad - exp(a) * sum(grad)",
            "a row holding NaN, +inf, or only -inf gives NaN throughout; the log_softmax of a 0-d value is 0.0.",
            example=(
                "np.array([[1.0, 2.0, 3.0]], np.float32)",
                "array([[-2.407606  , -1.407606  , -0.40760598]], dtype=float32)",
            ),
        ),
        elementwise_entry(
            "relu6",
            scalar.relu6,
            scalar.relu6_grad,
            "min(max(x, 0), 6)",
            "1 where 0 < z < 6, else 0",
            _NAN_RULE + "relu6(-0.0) is 0.0, as relu.",
            example=("np.array([-2.0, 0.0, 1.5, 7.0], np.float32)", "array([0. , 0. , 1.5, 6. ], dtype=float32)"),
            memory_bound=("forward", "backward"),
            weight_init="he",
        ),
        elementwise_entry(
            "hardtanh",
            scalar.hardtanh,
            scalar.hardtanh_grad,
            "x clipped to [min_val, max_val]",
            "1 where min_val < z < max_val, else 0",
            _NAN_RULE + "min_val > max_val is a ValueError; hardtanh(-0.0) = -0.0 between the bounds.  "
            "A bound that the dtype cannot hold (0.1 in float32) is rounded to the nearest value of the "
            "dtype, so that the result is the exact clip rounded; the derivative compares z with the exact bounds.",
            params=(Param("min_val", -1.0), Param("max_val", 1.0)),
            check_params=scalar.check_hardtanh,
            aliases=("hard_tanh",),
            example=(
                "np.array([-2.0, 0.0, 0.5, 1.5], np.float32)",
                "array([-1. ,  0. ,  0.5,  1. ], dtype=float32)",
            ),
            memory_bound=("forward", "backward"),
        ),
        elementwise_entry(
            "hardsigmoid",
            scalar.hardsigmoid,
            scalar.hardsigmoid_grad,
            "relu6(x + 3) / 6",
            "1/6 where -3 < z < 3, else 0",
            _NAN_RULE + "0.0 for x <= -3 and 1 for x >= 3.",
            aliases=("hard_sigmoid",),
            example=("np.array([-4.0, 0.0, 1.5], np.float32)", "array([0.  , 0.5 , 0.75], dtype=float32)"),
            memory_bound=("forward", "backward"),
        ),
        elementwise_entry(
            "hardswish",
            scalar.hardswish,
            scalar.hardswish_grad,
            "x * relu6(x + 3) / 6",
            "0 where z <= -3, (2 z + 3) / 6 where -3 < z < 3, 1 where z >= 3",
            _NAN_RULE + "0.0 for x <= -3 and x for x >= 3; hardswish(-0.0) = -0.0; the derivative at -3 and 3 "
            "as torch's hardswish_backward (0 and 1).",
            aliases=("hard_swish", "hard_silu"),
            example=(
                "np.array([-4.0, -1.0, 0.0, 1.5], np.float32)",
                "array([ 0.        , -0.33333334,  0.        ,  1.125     ], dtype=float32)",
            ),
            memory_bound=("forward", "backward"),
            weight_init="he",
        ),
        elementwise_entry(
            "softshrink",
            scalar.softshrink,
            scalar.softshrink_grad,
            "x - lambd where x > lambd, x + lambd where x < -lambd, else 0",
            "1 where |z| > lambd, else 0",
            _NAN_RULE + "lambd < 0 is a ValueError; 0.0 throughout [-lambd, lambd], -0.0 included (as torch); "
            "x - lambd is correctly rounded, exact next to lambd, even for a lambd the dtype cannot hold.",
            params=(Param("lambd", 0.5),),
            check_params=scalar.check_softshrink,
            example=("np.array([-2.0, 0.25, 1.5], np.float32)", "array([-1.5,  0. ,  1. ], dtype=float32)"),
            memory_bound=("forward", "backward"),
        ),
        elementwise_entry(
            "hardshrink",
            scalar.hardshrink,
            scalar.hardshrink_grad,
            "x where |x| > lambd, else 0",
            "1 where |z| > lambd, else 0",
            _NAN_RULE + "0.0 throughout [-lambd, lambd], -0.0 included (as torch).",
            params=(Param("lambd", 0.5),),
            example=("np.array([-2.0, 0.25, 1.5], np.float32)", "array([-2. ,  0. ,  1.5], dtype=float32)"),
            memory_bound=("forward", "backward"),
        ),
        elementwise_entry(
            "threshold",
            scalar.threshold,
            scalar.threshold_grad,
            "x where x > threshold, else value",
            "1 where z > threshold, else 0",
            _NAN_RULE + "both parameters are required, as in torch; value is rounded to the dtype.",
            params=(Param("threshold"), Param("value")),
            example=("np.array([-2.0, 0.5, 1.5], np.float32), 1.0, 0.0", "array([0. , 0. , 1.5], dtype=float32)"),
            memory_bound=("forward", "backward"),
            weight_init="he",
        ),
        elementwise_entry(
            "squareplus",
            scalar.squareplus,
            scalar.squareplus_grad,
            "(x + sqrt(x**2 + b)) / 2",
            "(1 + z / sqrt(z**2 + b)) / 2",
            _NAN_RULE + "b < 0 is a ValueError; computed as max(x, 0) + b / (2 (sqrt(x**2 + b) + |x|)), "
            "accurate in the negative tail, and x**2 never overflows; squareplus(-inf) = 0.0, "
            "squareplus(inf) = inf; with b = 0 it is relu, with relu's derivative.",
            params=(Param("b", 4.0),),
            check_params=scalar.check_squareplus,
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([0.41421357, 1.        , 2.        ], dtype=float32)",
            ),
        ),
        elementwise_entry(
            "sparse_plus",
            scalar.sparse_plus,
            scalar.sparse_plus_grad,
            "0 for x <= -1, (x + 1)**2 / 4 for -1 < x < 1, x for x >= 1",
            "0 where z <= -1, (z + 1) / 2 where -1 < z < 1, 1 where z >= 1",
            _NAN_RULE + "as jax.nn.sparse_plus; 0.0 for x <= -1.",
            example=(
                "np.array([-2.0, 0.0, 0.5, 1.5], np.float32)",
                "array([0.    , 0.25  , 0.5625, 1.5   ], dtype=float32)",
            ),
            memory_bound=("forward", "backward"),
        ),
        elementwise_entry(
            "sparse_sigmoid",
            scalar.sparse_sigmoid,
            scalar.sparse_sigmoid_grad,
            "clip(x + 1, 0, 2) / 2",
            "1/2 where -1 < z < 1, else 0",
            _NAN_RULE + "as jax.nn.sparse_sigmoid; 0.0 for x <= -1 and 1 for x >= 1.",
            example=(
                "np.array([-2.0, 0.0, 0.5, 1.5], np.float32)",
                "array([0.  , 0.5 , 0.75, 1.  ], dtype=float32)",
            ),
            memory_bound=("forward", "backward"),
        ),
        elementwise_entry(
            "softsign",
            scalar.softsign,
            scalar.softsign_grad,
            "x / (1 + |x|)",
            "1 / (1 + |z|)**2",
            _NAN_RULE + "softsign(+-inf) = +-1; odd, so softsign(-0.0) = -0.0; accurate near 0 and for huge |x|.",
            aliases=("soft_sign",),
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([-0.6666667,  0.       ,  0.6      ], dtype=float32)",
            ),
        ),
        elementwise_entry(
            "celu",
            scalar.celu,
            scalar.celu_grad,
            "max(0, x) + min(0, alpha * (exp(x / alpha) - 1))",
            "1 where z > 0, else exp(z / alpha)",
            _NAN_RULE + "alpha defaults to 1.0 and must be greater than 0 (ValueError otherwise: torch refuses "
            "0 too; a negative alpha is not supported); celu(-inf) = -alpha; celu(-0.0) = -0.0; x / alpha is "
            "carried to twice working precision, so that the result stays accurate for small negative x and "
            "in the tail.",
            params=(Param("alpha", 1.0),),
            check_params=scalar.check_celu,
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([-0.86466473,  0.        ,  1.5       ], dtype=float32)",
            ),
            weight_init="he",
        ),
        elementwise_entry(
            "selu",
            scalar.selu,
            scalar.selu_grad,
            "scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))",
            "scale where z > 0, else scale * alpha * exp(z)",
            _NAN_RULE + "torch's constants alpha = 1.6732632423543772848170429916717 and "
            "scale = 1.0507009873554804934193349852946, multiplied in as double-word constants; "
            "selu(-inf) = -scale * alpha; selu(-0.0) = -0.0.",
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([-1.5201665,  0.       ,  1.5760515], dtype=float32)",
            ),
            weight_init="he",
        ),
        elementwise_entry(
            "mish",
            scalar.mish,
            scalar.mish_grad,
            "x * tanh(softplus(x))",
            "g + z * sigmoid(z) * (1 - g**2), g = tanh(softplus(z))",
            _NAN_RULE + "mish(-inf) = -0.0, mish(inf) = inf, mish(-0.0) = -0.0; accurate in both tails: "
            "tanh(softplus(x)) is computed as e (e + 2) / (e (e + 2) + 2), e = exp(x), which never cancels.",
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([-0.2525015,  0.       ,  1.4033782], dtype=float32)",
            ),
            weight_init="he",
        ),
        elementwise_entry(
            "log_sigmoid",
            scalar.log_sigmoid,
            scalar.log_sigmoid_grad,
            "log(sigmoid(x)) = -softplus(-x)",
            "sigmoid(-z) = 1 - sigmoid(z)",
            _NAN_RULE + "computed as min(x, 0) - log1p(exp(-|x|)): accurate in both tails and never "
            "overflows; log_sigmoid(-inf) = -inf, log_sigmoid(inf) = -0.0.",
            aliases=("logsigmoid",),
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([-2.126928  , -0.6931472 , -0.20141327], dtype=float32)",
            ),
        ),
        elementwise_entry(
            "tanhshrink",
            scalar.tanhshrink,
            scalar.tanhshrink_grad,
            "x - tanh(x)",
            "tanh(z)**2",
            _NAN_RULE + "odd: tanhshrink(-0.0) = -0.0, tanhshrink(+-inf) = +-inf; accurate near 0, where it "
            "is x**3/3 - ... (a fitted series rather than the cancelling difference).",
            example=(
                "np.array([-2.0, 0.0, 1.5], np.float32)",
                "array([-1.0359725 ,  0.        ,  0.59485173], dtype=float32)",
            ),
        ),
    )
}


class _Names(Sequence):
    """The registered names, in registration order: a read-only sequence that
    follows :func:`numba_act.register`."""

    def __getitem__(self, index):
        return tuple(REGISTRY)[index]

    def __len__(self):
        return len(REGISTRY)

    def __contains__(self, name):
        return name in REGISTRY

    def __eq__(self, other):
        return tuple(self) == (tuple(other) if isinstance(other, (_Names, tuple, list)) else other)

    def __hash__(self):
        return hash(tuple(self))

    def __repr__(self):
        return repr(tuple(REGISTRY))


NAMES = _Names()

_ACTIVATIONS: dict[str, MappingProxyType[str, Callable]] = {}
ACTIVATIONS = MappingProxyType(_ACTIVATIONS)
# Other names of the entries (jax.nn's spellings): {alias: name}.
ALIASES: dict[str, str] = {}


def add(entry):
    """Put ``entry`` in ``REGISTRY``, ``NAMES``, ``ACTIVATIONS`` and its aliases in ``ALIASES``."""
    REGISTRY[entry.name] = entry
    _ACTIVATIONS[entry.name] = MappingProxyType({"forward": entry.forward, "backward": entry.derivative})
    for alias in entry.aliases:
        ALIASES[alias] = entry.name


for _builtin in list(REGISTRY.values()):
    add(_builtin)


def public_functions():
    """``{name: function}`` of the built-in activations that are ``numba_act.<name>``, aliases included."""
    functions = {name: entry.forward for name, entry in REGISTRY.items() if entry.public}
    return functions | {alias: functions[name] for alias, name in ALIASES.items() if name in functions}


def lookup(name: str) -> Activation:
    """The registry entry for ``name`` or an alias of it; TypeError for a non-str, ValueError for an unknown name."""
    entry = REGISTRY.get(name) if type(name) is str else None
    if entry is not None:
        return entry
    if not isinstance(name, str):
        raise TypeError(f"activation name must be a str, not {type(name).__name__}")
    name = ALIASES.get(name, name)
    if name in REGISTRY:  # an alias, or a str subclass
        return REGISTRY[str(name)]
    raise ValueError(f"unknown activation {name!r}; valid names: {', '.join(NAMES)}")
