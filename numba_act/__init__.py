"""numba_act: Numba JIT-compiled activation functions.

Elementwise activations, the softmax family, their derivatives and
vector-Jacobian products, callable from Python and from ``@njit`` code,
by name or directly.  Importing compiles nothing: each kernel compiles on
its first call for a dtype and is cached on disk.
"""

from numba_act.api import (
    ACTIVATIONS,
    EPS,
    NAMES,
    REGISTRY,
    activation_backward,
    activation_forward,
    elu,
    gelu,
    gelu_tanh,
    leaky_relu,
    log_softmax,
    register,
    relu,
    relu_derivative_from_pre_activation,
    sigmoid,
    sigmoid_derivative_from_activation,
    silu,
    softmax,
    softplus,
    tanh,
)

__version__ = "0.1.0"

# help() and pickle name each public function after the package, not the
# module that defines it: numba_act.gelu is found where users import it.
for _function in (
    gelu,
    relu_derivative_from_pre_activation,
    sigmoid_derivative_from_activation,
    activation_forward,
    activation_backward,
    register,
):
    _function.__module__ = __name__
del _function

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
