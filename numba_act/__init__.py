"""numba_act: Numba JIT-compiled activation functions.

Elementwise activations, the softmax family, their derivatives and
vector-Jacobian products, callable from Python and from ``@njit`` code,
by name or directly.  Importing compiles nothing: each kernel compiles on
its first call for a dtype and is cached on disk.

The activations' own functions, ``numba_act.sigmoid`` and the rest, are
those of the registry (:data:`REGISTRY`): every built-in entry is a name of
this module (see :func:`__getattr__`).
"""

from numba_act import _overloads  # noqa: F401  (the @njit forms of every entry's functions)
from numba_act.api import (
    activation_backward,
    activation_forward,
    gelu,
    glu,
    glu_vjp,
    register,
    relu_derivative_from_pre_activation,
    sigmoid_derivative_from_activation,
)
from numba_act.registry import ACTIVATIONS, EPS, NAMES, REGISTRY, ActivationFunction, public_functions

__version__ = "0.1.0"

# help() and pickle name each public function after the package, not the
# module that defines it: numba_act.gelu is found where users import it.
for _function in (
    gelu,
    glu,
    glu_vjp,
    relu_derivative_from_pre_activation,
    sigmoid_derivative_from_activation,
    activation_forward,
    activation_backward,
    register,
):
    _function.__module__ = __name__
del _function

_ACTIVATION_FUNCTIONS = public_functions()


def __getattr__(name: str) -> ActivationFunction:
    """``numba_act.<name>``: the function of the built-in activation ``name``.

    Looked up here once (PEP 562) and then bound as a module attribute, so
    that later lookups cost what any attribute does.
    """
    if name == "fast":  # the fast tier, imported on first use
        import importlib

        return importlib.import_module("numba_act.fast")
    function = _ACTIVATION_FUNCTIONS.get(name)
    if function is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = function
    return function


def __dir__() -> list[str]:
    return sorted({*globals(), *_ACTIVATION_FUNCTIONS})


__all__ = [
    "ACTIVATIONS",
    "EPS",
    "NAMES",
    "REGISTRY",
    "activation_backward",
    "activation_forward",
    "gelu",
    "glu",
    "glu_vjp",
    "register",
    "relu_derivative_from_pre_activation",
    "sigmoid_derivative_from_activation",
]
__all__ += sorted(_ACTIVATION_FUNCTIONS)
