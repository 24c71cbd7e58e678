"""Activation layers: one class per registered activation, with a forward
pass that caches what the backward pass needs.

Every layer follows the same small protocol: ``forward(X_input)`` returns the
activation and keeps it in ``output``; ``backward(grad_next)`` takes dL/da
and returns dL/dz, the exact vector-Jacobian product of the registry (for
softmax a * (g - sum(a * g)) along the last axis, not the ``ones_like``
shortcut).  An activation's parameters (leaky_relu's negative_slope, ...)
are fixed when the layer is made; nothing is trained, so ``trainable`` is None.

The classes are generated from :data:`numba_act.registry.REGISTRY`:
``sigmoid`` gives ``Sigmoid``, ``relu`` gives ``ReLU``, ``leaky_relu``
gives ``LeakyReLU``, ``gelu_tanh`` gives ``GELUTanh`` and so on, so a new
registry entry gets its layer with no edit here.  :data:`LAYERS` maps each
registry name to its class, :func:`activation_layer` builds one by name and
:data:`BACKENDS` lists the accepted ``backend`` values.  Each generated class
is an :class:`ActivationLayer` whose docstring gives its formula.

Buffers: once the input's shape and dtype settle, ``forward`` and
``backward`` write into the arrays they returned on the previous call
instead of allocating new ones.  An array returned by a layer is therefore
only valid until the next call of the same method; copy it to keep it.
The layer also keeps a reference to ``X_input`` (not a copy) for the
backward pass, so the input must not be modified between the two calls.

Example:
    >>> import numpy as np
    >>> from numba_act import layers
    >>> layers.LAYERS["leaky_relu"] is layers.LeakyReLU
    True
    >>> layer = layers.Sigmoid()
    >>> layer.forward(np.zeros(2, np.float32))
    array([0.5, 0.5], dtype=float32)
    >>> layer.backward(np.ones(2, np.float32))  # sigmoid'(0) = 0.25
    array([0.25, 0.25], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from numba_act import _arrays
from numba_act.registry import NAMES, REGISTRY, REQUIRED, lookup

BACKENDS = ("numba", "numpy")

# Parts of registry names that torch.nn spells as acronyms in its class names.
_ACRONYMS = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "prelu": "PReLU",
    "rrelu": "RReLU",
    "elu": "ELU",
    "celu": "CELU",
    "selu": "SELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "glu": "GLU",
}


def class_name(name: str) -> str:
    """Return the layer class name for a registry name.

    Each underscore-separated part is capitalized, except that ``relu``,
    ``elu``, ``gelu`` and ``silu`` become ``ReLU``, ``ELU``, ``GELU`` and
    ``SiLU``.  The name is not checked against the registry.

    Args:
        name (str): a registry name, e.g. ``"leaky_relu"``.

    Returns:
        str: the class name, e.g. ``"LeakyReLU"``.

    Example:
        >>> from numba_act import layers
        >>> layers.class_name("leaky_relu")
        'LeakyReLU'
        >>> layers.class_name("gelu_tanh")
        'GELUTanh'
    """
    return "".join(_ACRONYMS.get(part, part.capitalize()) for part in name.split("_"))


class BaseActivation:
    """Base class of the activation layers.

    Activations have nothing to train, so they expose no weights and
    ``trainable`` is None.

    Example:
        >>> from numba_act import layers
        >>> layers.BaseActivation().trainable is None
        True
    """

    @property
    def trainable(self) -> None:
        """None: an activation has no trainable parameters."""
        return None


class ActivationLayer(BaseActivation):
    """An activation layer backed by the registry entry ``activation``.

    Subclasses set the class attribute ``activation`` to a registry name;
    the classes in :data:`LAYERS` are made that way.  Elementwise
    activations apply to every element; row-wise ones (softmax,
    log_softmax) to the last axis, one sample per row.

    Args:
        *params, **named: the activation's parameters, positional in its
            order or by name, as torch.nn's classes take them
            (``LeakyReLU(negative_slope=0.2)``, ``Threshold(0.1, 20.0)``);
            the defaults for the rest.
        backend (str, keyword-only): ``"numba"`` (the compiled kernels,
            default) or ``"numpy"`` (the plain formulas of
            :mod:`numba_act.reference`, a baseline that allocates on every call).

    Attributes:
        output (numpy.ndarray): the activation from the last ``forward`` (an
            empty array before the first call).
        layer_name (str): short name of the layer type, the class name.
        index (int): position of the layer within a model (0 by default).
        backend (str): the ``backend`` argument.
        params (tuple): the parameters' values, as floats, in the activation's order.

    dtype: float32 stays float32 and float64 stays float64; float16 comes
    back as float16, integer and bool input as float64.  ``backward``
    returns the promotion of the input and ``grad_next`` dtypes (integer
    and bool counting as float64).

    Raises:
        TypeError: on ``ActivationLayer`` itself, which names no activation;
            for a parameter the activation does not have, a missing required
            one, or a value that is not a real number.
        ValueError: for a ``backend`` other than ``"numba"`` or ``"numpy"``,
            an ``activation`` that is not registered, or an invalid parameter value.

    Example:
        >>> import numpy as np
        >>> from numba_act import layers
        >>> layer = layers.ReLU()
        >>> layer
        ReLU()
        >>> layer.forward(np.array([[-1.0, 0.0, 2.0]], np.float32))
        array([[0., 0., 2.]], dtype=float32)
        >>> layer.backward(np.ones((1, 3), np.float32))
        array([[0., 0., 1.]], dtype=float32)
        >>> layer.trainable is None
        True
    """

    activation: str = ""

    def __init__(self, *params: float | None, backend: str = "numba", **named: float | None) -> None:
        if not self.activation:
            raise TypeError("ActivationLayer needs a registry name; use LAYERS[name] or activation_layer(name)")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        entry = lookup(self.activation)  # fails here for a name that is not registered
        # The parameters' float values, checked here once (TypeError, ValueError).
        self.params: tuple = entry.param_values(named, params)
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
        parts = [
            f"{p.name}={v!r}"
            for p, v in zip(self._entry.params, self.params, strict=True)
            if v != (p.if_none if p.default is None else p.default)
        ]
        if self.backend != "numba":
            parts.append(f"backend={self.backend!r}")
        return f"{self.layer_name}({', '.join(parts)})"

    def forward(self, X_input: np.ndarray) -> np.ndarray:
        """Apply the activation to ``X_input`` and cache it with the result.

        Computes ``a = f(X_input)``, elementwise or (softmax family) along
        the last axis, and keeps a reference to ``X_input`` for
        :meth:`backward`.

        Args:
            X_input (array_like): the pre-activation, any shape; float,
                integer or bool.

        Returns:
            numpy.ndarray: ``output``, which is overwritten by the next
            ``forward`` call with an input of the same shape and dtype.
            float32 and float64 keep their dtype, float16 stays float16,
            integer and bool give float64.  A Python scalar or 0-d input
            gives a NumPy scalar.

        Raises:
            TypeError: for None, str and dtypes other than float, integer or
                bool; the layer is left as it was.
            ValueError: for a ragged nested list; the layer is left as it was.

        Example:
            >>> import numpy as np
            >>> from numba_act import layers
            >>> layers.Softmax().forward(np.array([[0.0, 0.0], [1.0, 1.0]]))
            array([[0.5, 0.5],
                   [0.5, 0.5]])
            >>> layers.Sigmoid().forward(np.array([0, 1])).dtype
            dtype('float64')
        """
        x = _arrays.as_array(X_input, "X_input")
        _arrays.dtype_rule(x.dtype, "X_input")
        entry = self._entry
        if self.backend == "numpy":
            out = entry.reference(x if x.dtype.kind == "f" else x.astype(np.float64), *self.params)
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
        out = entry.call(x, target, -1, self.params)
        self._input, self.output = x, out
        return out

    def backward(self, grad_next: np.ndarray) -> np.ndarray:
        """Return dL/dz from ``grad_next`` = dL/da, for the input of the last ``forward``.

        The exact vector-Jacobian product, with ``g = grad_next``, ``z`` the
        last input and ``a`` the last output (sums over the last axis)::

            elementwise:  g * f'(z)
            softmax:      a * (g - sum(a * g))
            log_softmax:  g - exp(a) * sum(g)

        Args:
            grad_next (array_like): dL/da, of the last input's shape.

        Returns:
            numpy.ndarray: dL/dz, in the promotion of the input's and
            ``grad_next``'s dtypes (float32 with float32 stays float32).  It
            is overwritten by the next ``backward`` call with the same shapes
            and dtypes.

        Raises:
            RuntimeError: if ``forward`` was never called.
            ValueError: for a ``grad_next`` of another shape.
            TypeError: for a ``grad_next`` of a rejected type or dtype.

        Example:
            >>> import numpy as np
            >>> from numba_act import layers
            >>> layer = layers.Softmax()
            >>> layer.forward(np.array([[0.0, 0.0]]))
            array([[0.5, 0.5]])
            >>> layer.backward(np.array([[1.0, 0.0]]))
            array([[ 0.25, -0.25]])
        """
        z, a = self._input, self.output
        if z is None:
            raise RuntimeError(f"{self.layer_name}.backward called before forward")
        g = _arrays.as_array(grad_next, "grad_next")
        _arrays.dtype_rule(g.dtype, "grad_next")
        _arrays.same_shape("grad_next", g, "the last input", z)
        entry = self._entry
        if self.backend == "numpy":
            self._grad = entry.reference_vjp(z, a, g, *self.params)
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
        out = entry.call_vjp(z, a, g, target, -1, self.params)
        self._grad, self._grad_key = out, key
        return out


def _layer_class(name: str) -> type[ActivationLayer]:
    entry = REGISTRY[name]
    where = "along the last axis" if entry.rowwise else "elementwise"
    required = ", ".join("0.0" for p in entry.params if p.default is REQUIRED)
    doc = (
        f"{class_name(name)} activation layer: {entry.formula}, {where}.\n\n"
        f"    Forward and backward use the registry entry {name!r}; see\n"
        "    :class:`ActivationLayer` for the attributes, buffers and dtype rules.\n\n"
        "    Example:\n"
        "        >>> import numpy as np\n"
        "        >>> from numba_act import layers\n"
        f"        >>> layer = layers.{class_name(name)}({required})\n"
        "        >>> layer.forward(np.zeros((2, 3), np.float32)).shape, layer.output.dtype\n"
        "        ((2, 3), dtype('float32'))\n"
    )
    return type(class_name(name), (ActivationLayer,), {"activation": name, "__doc__": doc, "__module__": __name__})


LAYERS: dict[str, type[ActivationLayer]] = {name: _layer_class(name) for name in NAMES}


def __getattr__(name: str) -> type[ActivationLayer]:
    """``layers.Sigmoid`` and the rest: the class of each layer in :data:`LAYERS`, by class name (PEP 562)."""
    for cls in LAYERS.values():
        if cls.__name__ == name:
            return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *(cls.__name__ for cls in LAYERS.values())})


def activation_layer(
    name: str, *params: float | None, backend: str = "numba", **named: float | None
) -> ActivationLayer:
    """Create a new layer for the activation called ``name``.

    An activation registered after import (:func:`numba_act.register`) gets
    its class made here and added to :data:`LAYERS`.

    Args:
        name (str): a registry name, one of :data:`numba_act.NAMES`, or an alias.
        *params, **named: the activation's parameters, as the layer class takes them.
        backend (str, keyword-only): ``"numba"`` (default) or ``"numpy"``;
            see :class:`ActivationLayer`.

    Returns:
        ActivationLayer: a new instance of ``LAYERS[name]``.

    Raises:
        ValueError: for an unknown name or backend.
        TypeError: for a name that is not a str.

    Example:
        >>> import numpy as np
        >>> from numba_act import layers
        >>> layer = layers.activation_layer("leaky_relu")
        >>> layer
        LeakyReLU()
        >>> layer.forward(np.array([-100.0, 1.0]))
        array([-1.,  1.])
        >>> layers.activation_layer("relu", backend="numpy")
        ReLU(backend='numpy')
        >>> layers.activation_layer("elu", alpha=0.5)
        ELU(alpha=0.5)
    """
    name = lookup(name).name
    if name not in LAYERS:  # registered after import (numba_act.register)
        LAYERS[name] = _layer_class(name)
    return LAYERS[name](*params, backend=backend, **named)


__all__ = ["BACKENDS", "LAYERS", "ActivationLayer", "BaseActivation", "activation_layer", "class_name"]
__all__ += [cls.__name__ for cls in LAYERS.values()]
