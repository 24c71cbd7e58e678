"""numba_act on xarray objects, with dimensions named rather than numbered.

Every activation of the registry is here under its own name (and its
aliases: ``swish`` for silu) and takes an xarray ``DataArray`` or
``Dataset`` (every data variable), then its parameters as
:mod:`numba_act`'s function of the same name takes them, in order or by
name (``nax.leaky_relu(x, 0.2)``, ``nax.hardtanh(x, max_val=2.0)``); the
softmax family takes ``dim``, the name of the dimension to normalize over
(default: the last dimension of a DataArray; required for a Dataset).
Parameters are checked before anything is computed.  Results keep
the input's dimensions, their order and the coordinates; dask-backed input
stays lazy (see docs/design.md), also with unknown chunk
sizes (nan) along dimensions other than ``dim``.  Inputs of several
arguments must carry the same coordinates (``join="exact"``): a mismatch
raises ValueError rather than aligning silently.

The dtype rules, NaN rules and errors are those of the NumPy functions of
the same names (float32 stays float32, float64 stays float64); ``out=``
does not exist here.  Importing this module imports xarray.

Example:
    >>> import numpy as np
    >>> import xarray as xr
    >>> import numba_act.xarray as nax
    >>> logits = xr.DataArray(np.zeros((2, 2), np.float32), dims=("class", "sample"))
    >>> probs = nax.softmax(logits, dim="class")
    >>> probs.dims, probs.dtype
    (('class', 'sample'), dtype('float32'))
    >>> probs.values
    array([[0.5, 0.5],
           [0.5, 0.5]], dtype=float32)
    >>> nax.relu(xr.DataArray(np.array([-1.0, 2.0]), dims="unit")).values
    array([0., 2.])
"""

from collections.abc import Callable, Hashable

import xarray as xr

from numba_act import _dask_xarray
from numba_act.api import _gelu_name
from numba_act.registry import ALIASES, NAMES, REGISTRY, REQUIRED, lookup

__all__ = [*NAMES, *ALIASES, "activation_forward", "activation_backward"]

Labelled = xr.DataArray | xr.Dataset  # what every function here takes and returns


def _labelled(value, name):
    if not isinstance(value, (xr.DataArray, xr.Dataset)):
        raise TypeError(f"{name} must be an xarray DataArray or Dataset, not {type(value).__name__}")
    return value


def _dim(x, dim):
    """The dimension to reduce over: ``dim``, checked, or the last one of a DataArray."""
    if dim is None:
        if isinstance(x, xr.Dataset):
            raise TypeError("dim is required for a Dataset: name the dimension to normalize over")
        return x.dims[-1] if x.dims else None
    if dim not in x.dims:
        raise ValueError(f"dim {dim!r} is not a dimension of the input; its dimensions: {tuple(x.dims)}")
    return dim


def activation_forward(x: Labelled, name: str, *, dim: Hashable | None = None, **params: float | None) -> Labelled:
    """Apply the activation called ``name`` to an xarray object.

    Args:
        x (xarray.DataArray | xarray.Dataset): the input; a Dataset has
            every data variable transformed.
        name (str): a registry name, one of :data:`numba_act.NAMES`, or
            an alias of one (``"swish"``).
        dim (Hashable | None, keyword-only): for the softmax family,
            the dimension to normalize over; default None, the last
            dimension of a DataArray (a Dataset needs it named).  Ignored by
            the elementwise activations.
        params (float | None, keyword-only): the activation's parameters by
            name, as :func:`numba_act.activation_forward` takes them
            (``negative_slope=0.2`` for leaky_relu); the defaults for the rest.

    Returns:
        xarray.DataArray | xarray.Dataset: the type of ``x``, with its
        dimensions, their order and its coordinates; dask-backed input
        stays lazy.  float32 and float64 keep their dtype, float16 stays
        float16, integer and bool give float64.

    Raises:
        TypeError: for an ``x`` that is not a DataArray or Dataset, a
            ``name`` that is not a str, a Dataset without ``dim`` for the
            softmax family, a parameter the activation does not have, a
            missing required one or one that is not a real number.
        ValueError: for an unknown ``name``, a ``dim`` that is not a
            dimension of ``x``, or an invalid parameter value.

    Example:
        >>> import numpy as np
        >>> import xarray as xr
        >>> import numba_act.xarray as nax
        >>> x = xr.DataArray(np.array([[-1.0, 0.0, 2.0]], np.float32), dims=("sample", "unit"))
        >>> nax.activation_forward(x, "relu").values
        array([[0., 0., 2.]], dtype=float32)
        >>> nax.activation_forward(x, "leaky_relu", negative_slope=0.5).values
        array([[-0.5,  0. ,  2. ]], dtype=float32)
        >>> logits = xr.DataArray(np.zeros((2, 2)), dims=("class", "sample"))
        >>> nax.activation_forward(logits, "softmax", dim="class").values
        array([[0.5, 0.5],
               [0.5, 0.5]])
    """
    entry = lookup(name)
    x = _labelled(x, "x")
    values = entry.param_values(params) if params or entry.params else ()
    if entry.rowwise:
        return _dask_xarray.labelled_rows(entry.ops.forward, [x], _dim(x, dim), ("x",))
    return entry.call(x, None, -1, values)


def activation_backward(
    z: Labelled | None,
    a: Labelled,
    name: str,
    grad: Labelled | None = None,
    *,
    dim: Hashable | None = None,
    **params: float | None,
) -> Labelled:
    """Compute the backward pass of the activation ``name`` on xarray objects.

    As :func:`numba_act.activation_backward`.  Without ``grad``, the local derivative ``f'(z)`` (ones in ``a``'s result
    dtype for the softmax family).  With ``grad``, the vector-Jacobian
    product, for the softmax family along ``dim``::

        elementwise:  grad * f'(z)
        softmax:      a * (grad - sum(a * grad))
        log_softmax:  grad - exp(a) * sum(grad)

    Args:
        z (xarray.DataArray | xarray.Dataset | None): the pre-activation;
            not used by the softmax family, where it may be None.
        a (xarray.DataArray | xarray.Dataset): the activation ``f(z)``.
        name (str): a registry name, one of :data:`numba_act.NAMES`, or an alias.
        grad (xarray.DataArray | xarray.Dataset | None): dL/da; default None.
        dim (Hashable | None, keyword-only): the softmax family's dimension,
            as in :func:`activation_forward`; default None.
        params (float | None, keyword-only): the activation's parameters by
            name, as in :func:`activation_forward`.

    Returns:
        xarray.DataArray | xarray.Dataset: the type of ``a``, with its
        dimensions and coordinates, in the promotion of the inputs' dtypes
        (float32 throughout stays float32; integer and bool count as
        float64).  Dask-backed input stays lazy.

    Raises:
        TypeError: for an input that is not a DataArray or Dataset (z only
            where it is used, grad only where given), a ``name`` that is
            not a str, or parameters as in :func:`activation_forward`.
        ValueError: for an unknown ``name``, a ``dim`` that is not a
            dimension, inputs whose coordinates differ (``join="exact"``),
            or an invalid parameter value.

    Example:
        >>> import numpy as np
        >>> import xarray as xr
        >>> import numba_act.xarray as nax
        >>> z = xr.DataArray(np.array([-1.0, 2.0]), dims="unit")
        >>> a = nax.relu(z)
        >>> nax.activation_backward(z, a, "relu").values
        array([0., 1.])
        >>> g = xr.DataArray(np.array([0.5, 0.5]), dims="unit")
        >>> nax.activation_backward(z, a, "relu", grad=g).values
        array([0. , 0.5])
        >>> p = nax.softmax(xr.DataArray(np.zeros(2), dims="class"))
        >>> g = xr.DataArray(np.array([1.0, 0.0]), dims="class")
        >>> nax.activation_backward(None, p, "softmax", grad=g).values
        array([ 0.25, -0.25])
    """
    entry = lookup(name)
    a = _labelled(a, "a")
    values = entry.param_values(params) if params or entry.params else ()
    if entry.rowwise:
        if grad is None:
            return entry.derivative(None, a)
        return _dask_xarray.labelled_rows(entry.ops.vjp, [a, _labelled(grad, "grad")], _dim(a, dim), ("a", "grad"))
    z = _labelled(z, "z")
    if grad is None:
        return entry.call_derivative(z, a, None, values)
    return entry.call_vjp(z, a, _labelled(grad, "grad"), None, -1, values)


def _forward_of(entry):
    name = entry.name
    example = f"""

    Args:
        x: a DataArray, or a Dataset (every data variable).{{dim}}{{params}}

    Returns:
        The type of ``x``, with its dimensions and coordinates; the dtype
        rules of :func:`numba_act.{name}`.

    Example:
        >>> import numpy as np
        >>> import xarray as xr
        >>> import numba_act.xarray as nax
        >>> x = xr.DataArray(np.zeros((2, 3), np.float32), dims=("sample", "unit"))
        >>> y = nax.{name}(x{{call}})
        >>> y.dims, y.dtype
        (('sample', 'unit'), dtype('float32'))
"""
    if entry.rowwise:

        def forward(x: Labelled, dim: Hashable | None = None) -> Labelled:
            return activation_forward(x, name, dim=dim)

        forward.__doc__ = f"{name} = {entry.formula}, along the dimension ``dim``." + example.format(
            dim="\n        dim: the dimension to normalize over (default: the last of a DataArray).",
            params="",
            call=', dim="unit"',
        )
    elif entry.params:
        forward = _with_params(entry)
        signature = "".join(f", {p.name}" + ("" if p.default is REQUIRED else f"={p.default!r}") for p in entry.params)
        forward.__doc__ = f"{name}(x{signature}) = {entry.formula}, elementwise." + example.format(
            dim="",
            params="".join(f"\n        {p.name}: {_param_doc(p)}" for p in entry.params),
            # the required parameters (threshold's) given, as every example must run
            call="".join(", 0.0" for p in entry.params if p.default is REQUIRED),
        )
    else:

        def forward(x: Labelled) -> Labelled:
            return activation_forward(x, name)

        forward.__doc__ = f"{name}(x) = {entry.formula}, elementwise." + example.format(dim="", params="", call="")
    forward.__name__ = forward.__qualname__ = name
    return forward


def _param_doc(param):
    default = "required" if param.default is REQUIRED else f"default {param.default!r}"
    none = f"; None stands for {param.if_none!r}" if param.if_none is not None else ""
    return f"a real number ({default}{none})."


def _with_params(entry):
    """``<name>(x, <parameters with their defaults>)``, the signature of
    ``numba_act.<name>`` less ``out``: written out as source, so that help()
    and inspect see it and Python itself parses the arguments.  The
    parameters are converted and checked (``entry.param_values``) before
    anything is computed."""

    def call(x, positional):
        x = _labelled(x, "x")
        return entry.call(x, None, -1, entry.param_values(None, positional))

    params = entry.params
    namespace = {"_call": call, "__name__": __name__}
    listed = []
    for i, p in enumerate(params):
        if p.default is REQUIRED:
            listed.append(p.name)
        else:
            namespace[f"_default{i}"] = p.default
            listed.append(f"{p.name}=_default{i}")
    names = "".join(f"{p.name}, " for p in params)
    exec(f"def {entry.name}(x, {', '.join(listed)}):\n    return _call(x, ({names}))\n", namespace)
    return namespace[entry.name]


def __getattr__(name: str) -> Callable[..., Labelled]:
    """``numba_act.xarray.<name>``: the activation ``name`` of the registry on
    xarray objects (PEP 562), or the one of the entry an alias names; one
    function per entry, bound here on first use."""
    entry = REGISTRY.get(ALIASES.get(name, name))
    if entry is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    forward = globals().get(entry.name)  # an alias's function is its entry's
    if forward is None:
        globals()[entry.name] = forward = _forward_of(entry)
    globals()[name] = forward
    return forward


def __dir__() -> list[str]:
    return sorted({*globals(), *NAMES, *ALIASES})


# gelu also takes torch's ``approximate``, so it is defined here rather than by the registry.
def gelu(x: Labelled, approximate: str | bool = "none") -> Labelled:
    """Apply gelu elementwise to an xarray object.

    Computes ``gelu(x) = x * Phi(x) = x/2 * (1 + erf(x / sqrt(2)))``, or with
    ``approximate="tanh"`` the ``gelu_tanh`` activation
    ``x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x**3)))``, as in torch.

    Args:
        x (xarray.DataArray | xarray.Dataset): the input.
        approximate (str | bool): ``"none"`` (default) or ``"tanh"``; False
            and True stand for them.

    Returns:
        xarray.DataArray | xarray.Dataset: the type of ``x``, with its
        dimensions and coordinates; the dtype rules of :func:`activation_forward`.

    Raises:
        ValueError: for any other ``approximate``.
        TypeError: for an ``x`` that is not a DataArray or Dataset.

    Example:
        >>> import numpy as np
        >>> import xarray as xr
        >>> import numba_act.xarray as nax
        >>> x = xr.DataArray(np.array([0.0, 1.0]), dims="unit")
        >>> np.round(nax.gelu(x).values, 4)
        array([0.    , 0.8413])
        >>> np.round(nax.gelu(x, approximate="tanh").values, 4)
        array([0.    , 0.8412])
    """
    return activation_forward(x, _gelu_name(approximate))
