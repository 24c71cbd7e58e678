"""Typical calls of numba_act's public API, checked by mypy in CI.

The ``type: ignore`` comments mark calls that must not type-check: run with
``--warn-unused-ignores``, mypy fails if the API's types stop catching them.
"""

import numba
import numpy as np

import numba_act as na
import numba_act.fast as fast
from numba_act import layers

x = np.linspace(-3.0, 3.0, 12, dtype=np.float32).reshape(3, 4)
out = np.empty_like(x)

a = na.sigmoid(x)
na.relu(x, out=out)
na.softmax(x, axis=0)
na.log_softmax(x, -1, out=out)
na.gelu(x, approximate="tanh")
fast.activation_forward(x, "silu", out=out)
fast.gelu(x, approximate="tanh")
na.sigmoid_derivative_from_activation(a)
na.relu_derivative_from_pre_activation(x, out=out)
na.activation_forward(x, "relu")
na.activation_backward(x, a, "sigmoid", grad=np.ones_like(x), out=out)
na.activation_forward([1.0, 2.0], "softmax", axis=0)
names: tuple[str, ...] = tuple(na.NAMES)
backward = na.ACTIVATIONS["relu"]["backward"]
entry = na.REGISTRY["tanh"]
print(entry.formula.upper(), entry.rowwise and names)


@numba.njit(inline="always")
def cube(v):
    return v * v * v


@numba.njit(inline="always")
def cube_derivative(z, a):
    return 3 * z * z


cube_array = na.register("cube", cube, cube_derivative, formula="x**3")
cube_array(x, out=out)
layer = layers.activation_layer("relu")
layer.forward(x)

na.sigmoid(x, out="no")  # type: ignore[arg-type]
na.softmax(x, 0, out, 1)  # type: ignore[arg-type]
na.activation_forward(x, 3)  # type: ignore[arg-type]
fast.activation_backward(x, x, 3)  # type: ignore[arg-type]
na.register("f", cube)  # type: ignore[call-arg]
