"""numba_act on xarray objects, with dimensions named rather than numbered.

Every activation of the registry is here under its own name and takes an
xarray ``DataArray`` or ``Dataset`` (every data variable); the softmax
family takes ``dim``, the name of the dimension to normalize over (default:
the last dimension of a DataArray; required for a Dataset).  Results keep
the input's dimensions, their order and the coordinates; dask-backed input
stays lazy (see docs/design.md), also with unknown chunk
sizes (nan) along dimensions other than ``dim``.  Inputs of several
arguments must carry the same coordinates (``join="exact"``): a mismatch
raises ValueError rather than aligning silently.

    >>> import numba_act.xarray as nax
    >>> probs = nax.softmax(logits, dim="class")                # doctest: +SKIP
    >>> grads = nax.activation_backward(z, a, "silu", grad=g)   # doctest: +SKIP

The dtype rules, NaN rules and errors are those of the NumPy functions of
the same names; ``out=`` does not exist here.  Importing this module imports
xarray.
"""

import xarray as xr

from numba_act import _foreign
from numba_act.api import _gelu_name
from numba_act.registry import NAMES, REGISTRY, lookup

__all__ = [*NAMES, "activation_forward", "activation_backward"]


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


def activation_forward(x, name, *, dim=None):
    """The activation called ``name`` applied to ``x``; ``dim`` for softmax and log_softmax."""
    entry = lookup(name)
    x = _labelled(x, "x")
    if entry.rowwise:
        return _foreign.labelled_rows(entry.kernels.forward, [x], _dim(x, dim), ("x",))
    return entry.forward(x)


def activation_backward(z, a, name, grad=None, *, dim=None):
    """The backward pass of ``name``, as :func:`numba_act.activation_backward`.

    Without ``grad`` the local derivative (ones for the softmax family);
    with ``grad`` the vector-Jacobian product, along ``dim`` for the softmax
    family (z is not used there and may be None).
    """
    entry = lookup(name)
    a = _labelled(a, "a")
    if entry.rowwise:
        if grad is None:
            return entry.derivative(None, a)
        return _foreign.labelled_rows(entry.kernels.vjp, [a, _labelled(grad, "grad")], _dim(a, dim), ("a", "grad"))
    z = _labelled(z, "z")
    if grad is None:
        return entry.derivative(z, a)
    return entry.vjp(z, a, _labelled(grad, "grad"))


def _forward_of(entry):
    if entry.rowwise:

        def forward(x, dim=None):
            return activation_forward(x, entry.name, dim=dim)

        forward.__doc__ = f"{entry.name} = {entry.formula}, along the dimension ``dim`` (default: the last)."
    else:

        def forward(x):
            return activation_forward(x, entry.name)

        forward.__doc__ = f"{entry.name}(x) = {entry.formula}, elementwise."
    forward.__name__ = forward.__qualname__ = entry.name
    return forward


globals().update({name: _forward_of(entry) for name, entry in REGISTRY.items()})


# gelu also takes torch's ``approximate``; this replaces the plain entry.
def gelu(x, approximate="none"):
    """gelu of ``x``; ``approximate="tanh"`` selects the tanh form, as in torch."""
    return activation_forward(x, _gelu_name(approximate))
