"""numba_act.fast: the same activations, faster, within looser bounds.

Every name of :mod:`numba_act` is here, with the same arguments, dtype and
``out=`` rules, from Python and from ``@njit`` code, by name
(``activation_forward(z, "sigmoid")``) or directly (``sigmoid(z)``).  The
results are within 4 ulp of the exact ones elementwise (float32 and
float64) and 8 ulp for the softmax family, where :mod:`numba_act` keeps 2
(float32) and 3 (float64), and 4 and 8; NaN, infinities and the sign of
zero follow the same rules, but a monotone function's results may step
back by an ulp or two between neighbouring inputs (sigmoid's do).

The activations are not written twice: each is built from the same scalar
kernels with cheaper primitives swapped in (see :mod:`numba_act._tiers`);
one whose kernels call none of them is the very function of
:mod:`numba_act`, and so are activations added by :func:`register`, which
appear here as soon as they are registered, and glu and glu_vjp.

Example:
    >>> import numpy as np
    >>> import numba_act.fast as fast
    >>> fast.sigmoid(np.array([-2.0, 0.0, 1.5], np.float32))
    array([0.11920292, 0.5       , 0.8175745 ], dtype=float32)
"""

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numba_act
from numba_act import api, registry
from numba_act._tiers import FAST
from numba_act.registry import EPS, NAMES, Activation  # noqa: F401  (the same as numba_act's)

if TYPE_CHECKING:  # the same signatures as numba_act's
    from numba_act.api import activation_backward, activation_forward, gelu
else:
    activation_forward, activation_backward, gelu = api._tiered(FAST)
glu, glu_vjp, register = api.glu, api.glu_vjp, api.register
relu_derivative_from_pre_activation = api.relu_derivative_from_pre_activation
sigmoid_derivative_from_activation = api.sigmoid_derivative_from_activation


class _Entries(Mapping):
    """The registry in this tier: ``entries[name]`` (or ``entries.name``) is
    ``REGISTRY[name]`` built from the fast primitives, for every registered
    name, aliases excluded."""

    def __getitem__(self, name: str) -> Activation:
        return FAST.entry(registry.REGISTRY[name])

    def __getattr__(self, name: str) -> Activation:  # as pickle finds an entry's functions
        if name not in registry.REGISTRY:
            raise AttributeError(name)
        return self[name]

    def __iter__(self) -> Iterator[str]:
        return iter(registry.REGISTRY)

    def __len__(self) -> int:
        return len(registry.REGISTRY)

    def __repr__(self) -> str:
        return f"<numba_act.fast entries of {len(self)} activations>"


entries = REGISTRY = _Entries()


class _Activations(Mapping):
    """``{name: {"forward": f, "backward": df}}`` of this tier, as ``numba_act.ACTIVATIONS``."""

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        entry = entries[name]
        return {"forward": entry.forward, "backward": entry.derivative}

    def __iter__(self) -> Iterator[str]:
        return iter(registry.REGISTRY)

    def __len__(self) -> int:
        return len(registry.REGISTRY)


ACTIVATIONS = _Activations()


def __getattr__(name: str) -> Any:
    """``numba_act.fast.<name>``: the built-in activation ``name`` (or an alias) in this tier."""
    if name not in registry.public_functions():
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    function = entries[registry.ALIASES.get(name, name)].forward
    globals()[name] = function
    return function


def __dir__() -> list[str]:
    return sorted({*globals(), *numba_act.__all__})


__all__ = [*numba_act.__all__, "entries"]
