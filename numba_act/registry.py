"""The registry of activations and the by-name dispatch.

``REGISTRY`` is the single source of truth: one :class:`Activation` per
name with its forward function, local derivative, vector-Jacobian product,
scalar kernels and NumPy reference.  Dispatch, ``ACTIVATIONS``, the
``@njit`` overloads, the tests and the benchmarks all iterate over it, so a
new activation is one entry here.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol, SupportsIndex

import numpy as np
from numpy.typing import ArrayLike

from numba_act import _arrays, _foreign, elementwise, reference, rowwise, scalar

EPS = reference.EPS


class ElementwiseFunction(Protocol):
    """The type of an elementwise activation: ``f(x, out=None)``."""

    def __call__(self, x: ArrayLike, /, out: np.ndarray | None = None) -> Any: ...


class RowwiseFunction(Protocol):
    """The type of a row-wise activation (the softmax family): ``f(x, axis=-1, out=None)``."""

    def __call__(self, x: ArrayLike, /, axis: SupportsIndex = -1, out: np.ndarray | None = None) -> Any: ...


class EntryKernels(NamedTuple):
    """The compiled operations of one activation
    (:class:`numba_act._jit.Kernels` each): the forward pass, the local
    derivative (None for row-wise activations) and the vector-Jacobian product."""

    forward: Any
    derivative: Any
    vjp: Any


@dataclass(frozen=True)
class Activation:
    """One activation and everything derived from its math.

    ``forward(x, out=None)`` (row-wise: ``forward(x, axis=-1, out=None)``),
    ``derivative(z, a, out=None)`` and ``vjp(z, a, grad, out=None)`` (row-wise
    with ``axis=-1`` before ``out``) are the public Python functions.
    ``scalar`` and ``scalar_derivative`` are the ``@njit`` scalar kernels of an
    elementwise activation.  ``kernels`` holds the compiled array entry
    points by name (:class:`EntryKernels`).  ``reference``,
    ``reference_derivative`` and ``reference_vjp`` are the NumPy formulas of
    :mod:`numba_act.reference`.
    """

    name: str
    formula: str
    rowwise: bool
    forward: Callable
    derivative: Callable
    vjp: Callable
    reference: Callable | None
    reference_derivative: Callable | None
    reference_vjp: Callable | None
    kernels: EntryKernels
    scalar: Callable | None = None
    scalar_derivative: Callable | None = None


def _named(fn, activation, doc, part=None):
    """``fn`` as the public ``numba_act.<activation>`` (``part`` None) or as
    ``<part>`` of the entry ``activation``, named so that pickle finds it by
    reference: ``numba_act.registry.<activation>.<part>`` is the entry's field
    (see :func:`__getattr__`), so that every function of an entry pickles to
    the very same object, as task graphs and process pools need (its scalar
    kernels are Numba dispatchers, which pickle as Numba's own do)."""
    if part is None:
        fn.__module__, fn.__name__, fn.__qualname__ = "numba_act", activation, activation
    else:
        fn.__module__, fn.__name__, fn.__qualname__ = __name__, f"{activation}_{part}", f"{activation}.{part}"
    fn.__doc__ = doc
    return fn


def __getattr__(name):
    # The entries by name, as pickle looks up their functions (see _named).
    entry = REGISTRY.get(name)
    if entry is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return entry


_DTYPES_DOC = """
    dtype: float32 in, float32 out (computed in float32); float64 likewise;
    float16 is computed in float32 and returned as float16; integer and bool
    give float64; any other dtype raises TypeError.  A Python scalar or 0-d
    input gives a NumPy scalar.  ``out``, if given, must have exactly the
    result's shape and dtype, be writeable, and have no elements that share
    memory with each other (ValueError).  It may be an input itself or
    overlap one: the result is as if the inputs were copied first, as NumPy's
    ufuncs do.  Inputs are never modified otherwise."""


def _reference_vjp(name, reference_derivative):
    def vjp(z, a, g):
        return g * reference_derivative(z, a)

    return _named(vjp, name, f"grad * {reference_derivative.__name__}(z, a), in NumPy.", "reference_vjp")


def elementwise_entry(name, f, df, formula, derivative_formula, edge_cases, memory_bound=(), builtin=True, public=True):
    """The entry of an elementwise activation; ``memory_bound`` names the passes
    ("forward", "backward") whose kernels are a few arithmetic operations.  A
    built-in one has its NumPy references in :mod:`numba_act.reference` and
    its forward function is ``numba_act.<name>`` unless not ``public``
    (gelu's, which ``numba_act.gelu`` wraps); a registered one has neither
    (see :func:`numba_act.register`)."""
    light = "backward" in memory_bound
    kernels = EntryKernels(
        elementwise.forward(name, f, "forward" in memory_bound),
        elementwise.derivative(name, df, light),
        elementwise.vjp(name, df, light),
    )
    forward_kernels, derivative_kernels, vjp_kernels = kernels

    forward = _arrays.door(forward_kernels, ("x",))
    derivative = _arrays.door(derivative_kernels, ("z", "a"))
    vjp = _arrays.door(vjp_kernels, ("z", "a", "grad"))

    return Activation(
        name=name,
        formula=formula,
        rowwise=False,
        forward=_named(
            forward,
            name,
            f"{name}(x) = {formula}, elementwise.\n\n    {edge_cases}\n{_DTYPES_DOC}\n",
            None if builtin and public else "forward",
        ),
        derivative=_named(
            derivative,
            name,
            f"Local derivative of {name}: {derivative_formula}, from the pre-activation z\n"
            f"    and the activation a = {name}(z) (pass both, same shape).\n{_DTYPES_DOC}\n",
            "derivative",
        ),
        vjp=_named(
            vjp,
            name,
            f"Vector-Jacobian product of {name}: grad * ({derivative_formula}).\n{_DTYPES_DOC}\n",
            "vjp",
        ),
        reference=getattr(reference, name) if builtin else None,
        reference_derivative=getattr(reference, f"{name}_grad") if builtin else None,
        reference_vjp=_reference_vjp(name, getattr(reference, f"{name}_grad")) if builtin else None,
        kernels=kernels,
        scalar=f,
        scalar_derivative=df,
    )


def _check_unused_z(z, a):
    """The row-wise backward passes need only a; a z that is given must still be
    an accepted input (TypeError otherwise) of a's shape (ValueError).  It is
    never read, so an ``out`` that overlaps it is no concern."""
    if z is None or (type(z) is type(a) is np.ndarray and z.dtype in _arrays.NATIVE and z.shape == a.shape):
        return  # the common case, on every training step
    if _foreign.any_foreign((z, a)):  # dask or xarray: never converted here
        if getattr(z, "shape", None) != getattr(a, "shape", None):
            raise ValueError(f"z has shape {z.shape}, expected {a.shape} (the shape of a)")
        return
    z = _arrays.as_array(z, "z")
    _arrays.dtype_rule(z.dtype, "z")
    if type(a) is np.ndarray and z.shape == a.shape:
        return
    a = _arrays.as_array(a, "a")
    _arrays.dtype_rule(a.dtype, "a")  # a wrong dtype is the error to report, rather than its shape
    if z.shape != a.shape:
        raise ValueError(f"z has shape {z.shape}, expected {a.shape} (the shape of a)")


def _rowwise(name, forward_kernels, vjp_kernels, formula, vjp_formula, edge_cases):
    # The door for the last axis; the row kernels handle out is x themselves.
    forward_door = _arrays.door(forward_kernels, ("x",), by_rows=True)
    vjp_door = _arrays.door(vjp_kernels, ("a", "grad"), by_rows=True)

    def forward(x, axis=-1, out=None):
        if axis == -1 and type(axis) is int:
            return forward_door(x, out)
        return _arrays.rows(forward_kernels, (x,), axis, out, ("x",))

    def derivative(z, a, out=None):
        if _foreign.any_foreign((z, a)):
            return _foreign.ones(a, out)
        if isinstance(a, np.ma.MaskedArray) and out is None:  # masked where a is, as ones_like(a)
            return np.ma.masked_array(derivative(z, np.ma.getdata(a)), mask=np.ma.getmaskarray(a))
        a = _arrays.as_array(a, "a")
        compute, result = _arrays.dtype_rule(a.dtype, "a")
        _check_unused_z(z, a)
        if out is None:
            return np.ones(a.shape, result)
        _arrays.check_out(out, a.shape, result)
        out.fill(1)
        return out

    def vjp(z, a, grad, axis=-1, out=None):
        _check_unused_z(z, a)
        if axis == -1 and type(axis) is int:
            return vjp_door(a, grad, out)
        return _arrays.rows(vjp_kernels, (a, grad), axis, out, ("a", "grad"))

    return Activation(
        name=name,
        formula=formula,
        rowwise=True,
        forward=_named(
            forward,
            name,
            f"{name}(x, axis) = {formula}, along ``axis``.\n\n    {edge_cases}\n{_DTYPES_DOC}\n",
        ),
        derivative=_named(
            derivative,
            name,
            f"ones_like(a): the convention for {name} as the last layer, paired with a\n"
            "    cross-entropy loss whose gradient with respect to the logits is already\n"
            "    p - y.  For the exact backward pass give ``grad`` to activation_backward\n"
            f"    (or call {name}_vjp).\n",
            "derivative",
        ),
        vjp=_named(
            vjp,
            name,
            f"Vector-Jacobian product of {name}: {vjp_formula}, along ``axis``; a is the\n"
            f"    output of {name}, z is not used.\n{_DTYPES_DOC}\n",
            "vjp",
        ),
        reference=getattr(reference, name),
        reference_derivative=getattr(reference, f"{name}_grad"),
        reference_vjp=getattr(reference, f"{name}_vjp"),
        kernels=EntryKernels(forward_kernels, None, vjp_kernels),
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
            memory_bound=("backward",),
        ),
        elementwise_entry(
            "relu",
            scalar.relu,
            scalar.relu_grad,
            "max(x, 0)",
            "1 where z > 0, else 0 (0 at z == 0)",
            _NAN_RULE + "relu(nan) is nan; relu(-0.0) is 0.0.",
            memory_bound=("forward", "backward"),
        ),
        _rowwise(
            "softmax",
            rowwise.SOFTMAX,
            rowwise.SOFTMAX_VJP,
            "exp(x - max(x)) / sum(exp(x - max(x)))",
            "a * (grad - sum(a * grad))",
            "Rows sum to 1 within a few ulp and the result is shift-invariant; "
            "a row holding NaN, +inf, or only -inf gives NaN throughout; "
            "the softmax of a 0-d value is 1.0.",
        ),
        elementwise_entry(
            "tanh",
            scalar.tanh,
            scalar.tanh_grad,
            "(exp(x) - exp(-x)) / (exp(x) + exp(-x))",
            "1 - a**2",
            _NAN_RULE + "tanh(+-inf) = +-1; odd, so tanh(-0.0) = -0.0.",
            memory_bound=("backward",),
        ),
        elementwise_entry(
            "leaky_relu",
            scalar.leaky_relu,
            scalar.leaky_relu_grad,
            f"x if x >= 0 else {scalar.LEAKY_RELU_SLOPE} * x",
            f"1 where z > 0, else {scalar.LEAKY_RELU_SLOPE}",
            _NAN_RULE + "slope 0.01, as in torch.",
            memory_bound=("forward", "backward"),
        ),
        elementwise_entry(
            "elu",
            scalar.elu,
            scalar.elu_grad,
            "x if x > 0 else exp(x) - 1",
            "1 where a > 0 (that is, z > 0), else a + 1",
            _NAN_RULE + "alpha = 1; elu(-inf) = -1; elu(-0.0) = -0.0.",
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
        ),
        elementwise_entry(
            "gelu_tanh",
            scalar.gelu_tanh,
            scalar.gelu_tanh_grad,
            "x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x**3)))",
            "s + 2 z s (1 - s) u' with s = sigmoid(2u)",
            _NAN_RULE + "the tanh approximation of gelu, with 0.044715 as a float64 (as torch and jax); "
            "gelu_tanh(-0.0) = -0.0.",
        ),
        elementwise_entry(
            "silu",
            scalar.silu,
            scalar.silu_grad,
            "x * sigmoid(x)",
            "s * (1 + z * (1 - s)), s = sigmoid(z)",
            _NAN_RULE + "also called swish; silu(-inf) = -0.0.",
        ),
        elementwise_entry(
            "softplus",
            scalar.softplus,
            scalar.softplus_grad,
            "log(1 + exp(x))",
            "sigmoid(z), computed as 1 - exp(-a)",
            _NAN_RULE + "computed as max(x, 0) + log1p(exp(-|x|)), so it never overflows.",
        ),
        _rowwise(
            "log_softmax",
            rowwise.LOG_SOFTMAX,
            rowwise.LOG_SOFTMAX_VJP,
            "x - max(x) - log(sum(exp(x - max(x))))",
            "grad - exp(a) * sum(grad)",
            "A row holding NaN, +inf, or only -inf gives NaN throughout; the log_softmax of a 0-d value is 0.0.",
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


def add(entry):
    """Put ``entry`` in ``REGISTRY``, ``NAMES`` and ``ACTIVATIONS``."""
    REGISTRY[entry.name] = entry
    _ACTIVATIONS[entry.name] = MappingProxyType({"forward": entry.forward, "backward": entry.derivative})


for _entry in list(REGISTRY.values()):
    add(_entry)


_by_name = REGISTRY.get


def lookup(name: str) -> Activation:
    """The registry entry for ``name``; TypeError for a non-str, ValueError for an unknown name."""
    entry = REGISTRY.get(name) if type(name) is str else None
    if entry is not None:
        return entry
    if not isinstance(name, str):
        raise TypeError(f"activation name must be a str, not {type(name).__name__}")
    if name in REGISTRY:  # a str subclass
        return REGISTRY[name]
    raise ValueError(f"unknown activation {name!r}; valid names: {', '.join(NAMES)}")


def activation_forward(x: ArrayLike, name: str, out: np.ndarray | None = None, *, axis: SupportsIndex = -1) -> Any:
    """Apply the activation called ``name`` to ``x``.

    ``name`` is one of ``NAMES``; ``axis`` is used by the row-wise
    activations (softmax, log_softmax) only.  Same dtype and ``out`` rules as
    the named functions.  Raises ValueError for an unknown name and
    TypeError for a name that is not a str.
    """
    entry = _by_name(name) if type(name) is str else None  # lookup(), less a call on every step
    if entry is None:
        entry = lookup(name)
    if entry.rowwise:
        return entry.forward(x, axis, out)
    return entry.forward(x, out)


def activation_backward(
    z: ArrayLike | None,
    a: ArrayLike,
    name: str,
    grad: ArrayLike | None = None,
    *,
    out: np.ndarray | None = None,
    axis: SupportsIndex = -1,
) -> Any:
    """Backward pass of the activation called ``name``.

    Without ``grad``: the local derivative, as the seed convention defines
    it: sigmoid a(1 - a), relu 1 where z > 0 else 0, and ``ones_like(a)`` for
    softmax and log_softmax (meant to pair with a cross-entropy loss whose
    gradient with respect to the logits is already p - y).

    With ``grad`` (dL/da): the exact vector-Jacobian product dL/dz, e.g.
    sigmoid grad * a * (1 - a), relu grad * (z > 0), softmax
    a * (grad - sum(a * grad)) along ``axis``.
    """
    entry = _by_name(name) if type(name) is str else None
    if entry is None:
        entry = lookup(name)
    if grad is None:
        return entry.derivative(z, a, out)
    if entry.rowwise:
        return entry.vjp(z, a, grad, axis, out)
    return entry.vjp(z, a, grad, out)
