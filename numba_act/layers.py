"""Activation layers: one class per registered activation, with a forward
pass that caches what the backward pass needs.

Every layer follows the same small protocol: ``forward(X_input)`` returns the
activation and keeps it in ``output``; ``backward(grad_next)`` takes dL/da
and returns dL/dz, the exact vector-Jacobian product of the registry (for
softmax a * (g - sum(a * g)) along the last axis, not the ``ones_like``
shortcut).  Activations have no parameters, so ``trainable`` is None.

The classes are generated from :data:`numba_act.registry.REGISTRY`:
``sigmoid`` gives ``Sigmoid``, ``relu`` gives ``ReLU``, ``leaky_relu``
gives ``LeakyReLU``, ``gelu_tanh`` gives ``GELUTanh`` and so on, so a new
registry entry gets its layer with no edit here.  :data:`LAYERS` maps each
registry name to its class and :func:`activation_layer` builds one by name.

Buffers: once the input's shape and dtype settle, ``forward`` and
``backward`` write into the arrays they returned on the previous call
instead of allocating new ones.  An array returned by a layer is therefore
only valid until the next call of the same method; copy it to keep it.
The layer also keeps a reference to ``X_input`` (not a copy) for the
backward pass, so the input must not be modified between the two calls.
"""

from __future__ import annotations

import numpy as np

from numba_act import _arrays
from numba_act.registry import NAMES, REGISTRY, lookup

BACKENDS = ("numba", "numpy")

# Registry names whose class name is not plain title case.
_ACRONYMS = {"relu": "ReLU", "elu": "ELU", "gelu": "GELU", "silu": "SiLU"}


def class_name(name: str) -> str:
    """The layer class name for a registry name: ``leaky_relu`` -> ``LeakyReLU``."""
    return "".join(_ACRONYMS.get(part, part.capitalize()) for part in name.split("_"))


class BaseActivation:
    """Template for activation layers.

    Activations have nothing to train, so they expose no weights and
    ``trainable`` is None.
    """

    @property
    def trainable(self) -> None:
        return None


class ActivationLayer(BaseActivation):
    """An activation layer backed by the registry entry ``activation``.

    Subclasses set ``activation`` to a registry name; the classes in
    :data:`LAYERS` are made that way.  Elementwise activations apply to every
    element; row-wise ones (softmax, log_softmax) to the last axis, one
    sample per row.

    Args:
        backend: ``"numba"`` (the compiled kernels, default) or ``"numpy"``
            (the plain formulas of :mod:`numba_act.reference`, a baseline that
            allocates on every call).

    Attributes:
        output: the activation from the last ``forward`` (an empty array
            before the first call).
        layer_name: short name of the layer type, the class name.
        index: position of the layer within a model (0 by default).

    dtype: float32 stays float32 and float64 stays float64; float16 comes
    back as float16, integer and bool input as float64.  ``backward``
    returns the promotion of the input and ``grad_next`` dtypes.
    """

    activation: str = ""

    def __init__(self, *, backend: str = "numba") -> None:
        if not self.activation:
            raise TypeError("ActivationLayer needs a registry name; use LAYERS[name] or activation_layer(name)")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        self._rowwise = lookup(self.activation).rowwise  # fails here for a name that is not registered
        self.backend = backend
        self.output: np.ndarray = np.zeros(0)
        self.layer_name: str = type(self).__name__
        self.index: int = 0
        self._input: np.ndarray | None = None
        self._grad: np.ndarray | None = None
        self._grad_key: tuple = ()

    @property
    def _entry(self):
        # Looked up, not stored, so that copying or pickling a layer never copies compiled functions.
        return REGISTRY[self.activation]

    def __repr__(self) -> str:
        backend = "" if self.backend == "numba" else f"backend={self.backend!r}"
        return f"{self.layer_name}({backend})"

    def forward(self, X_input: np.ndarray) -> np.ndarray:
        """Apply the activation to ``X_input`` and cache it with the result.

        Returns ``output``, which is overwritten by the next ``forward`` call
        with an input of the same shape and dtype.  Input the activation
        functions reject raises as they do (TypeError for None, str and
        dtypes other than float, integer or bool; ValueError for a ragged
        nested list), and leaves the layer as it was.
        """
        x = _arrays.as_array(X_input, "X_input")
        _arrays.dtype_rule(x.dtype, "X_input")
        entry = self._entry
        if self.backend == "numpy":
            out = entry.reference(x if x.dtype.kind == "f" else x.astype(np.float64))
            self._input, self.output = x, out
            return out
        out, previous = self.output, self._input
        # An input that lies in the previous output would be overwritten while
        # it is read (and backward needs it intact), so it gets a fresh array.
        reuse = (
            previous is not None
            and type(out) is np.ndarray
            and x.shape == out.shape
            and x.dtype == previous.dtype
            and not np.may_share_memory(x, out)
        )
        target = out if reuse else None
        out = entry.forward(x, -1, target) if self._rowwise else entry.forward(x, target)
        self._input, self.output = x, out
        return out

    def backward(self, grad_next: np.ndarray) -> np.ndarray:
        """dL/dz from ``grad_next`` = dL/da, for the input of the last ``forward``.

        The exact vector-Jacobian product: elementwise g * f'(z), softmax
        a * (g - sum(a * g)), log_softmax g - exp(a) * sum(g), the sums over
        the last axis.  The returned array is overwritten by the next
        ``backward`` call with the same shapes and dtypes.  A ``grad_next``
        of another shape raises ValueError; one of a rejected type or dtype,
        TypeError.
        """
        z, a = self._input, self.output
        if z is None:
            raise RuntimeError(f"{self.layer_name}.backward called before forward")
        g = _arrays.as_array(grad_next, "grad_next")
        _arrays.dtype_rule(g.dtype, "grad_next")
        if g.shape != z.shape:
            raise ValueError(f"grad_next has shape {g.shape}, expected {z.shape} (the shape of the last input)")
        entry = self._entry
        if self.backend == "numpy":
            self._grad = entry.reference_vjp(z, a, g)
            return self._grad
        out = self._grad
        key = (z.dtype, g.dtype)  # with a's dtype following z's, these fix the result's dtype
        reuse = (
            type(out) is np.ndarray
            and out.shape == z.shape
            and key == self._grad_key
            and not np.may_share_memory(g, out)
            and not np.may_share_memory(z, out)
        )
        target = out if reuse else None
        out = entry.vjp(z, a, g, -1, target) if self._rowwise else entry.vjp(z, a, g, target)
        self._grad, self._grad_key = out, key
        return out


def _layer_class(name: str) -> type[ActivationLayer]:
    entry = REGISTRY[name]
    where = "along the last axis" if entry.rowwise else "elementwise"
    doc = (
        f"{class_name(name)} activation layer: {entry.formula}, {where}.\n\n"
        f"    Forward and backward use the registry entry {name!r}; see\n"
        "    :class:`ActivationLayer` for the attributes, buffers and dtype rules.\n"
    )
    return type(class_name(name), (ActivationLayer,), {"activation": name, "__doc__": doc, "__module__": __name__})


LAYERS: dict[str, type[ActivationLayer]] = {name: _layer_class(name) for name in NAMES}
globals().update({cls.__name__: cls for cls in LAYERS.values()})


def activation_layer(name: str, *, backend: str = "numba") -> ActivationLayer:
    """A new layer for the activation called ``name`` (one of ``NAMES``).

    Raises ValueError for an unknown name and TypeError for a name that is
    not a str, like :func:`numba_act.activation_forward`.
    """
    name = lookup(name).name
    if name not in LAYERS:  # registered after import (numba_act.register)
        LAYERS[name] = _layer_class(name)
    return LAYERS[name](backend=backend)


__all__ = ["BACKENDS", "LAYERS", "ActivationLayer", "BaseActivation", "activation_layer", "class_name"]
__all__ += [cls.__name__ for cls in LAYERS.values()]
