"""Plain NumPy formulas for every activation: the baseline that benchmarks
compare against, and, evaluated in float64, the reference that tests check
the kernels against.

``sigmoid``, ``relu``, ``softmax`` and the two seed derivatives follow the
familiar NumPy module formulas (clip to [-500, 500]; max-shifted softmax
divided by ``sum + EPS``).  Nothing here is compiled.
"""

import math

import numpy as np

from numba_act.scalar import ELU_ALPHA, LEAKY_RELU_SLOPE

EPS = 1e-12


def _erf(x):
    try:
        from scipy.special import erf
    except ImportError:  # scipy is optional; this is only slower
        erf = np.vectorize(math.erf, otypes=[x.dtype])
    return erf(x).astype(x.dtype, copy=False)


def sigmoid(x):
    x = np.clip(x, -500, 500)
    return 1 / (1 + np.exp(-x))


def _stable_sigmoid(x):
    """sigmoid without the seed formula's clipping, for the formulas built on it."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def relu(x):
    return np.maximum(0, x)


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / (np.sum(e, axis=axis, keepdims=True) + EPS)


def log_softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def tanh(x):
    return np.tanh(x)


def leaky_relu(x):
    return np.where(x > 0, x, LEAKY_RELU_SLOPE * x)


def elu(x):
    return np.where(x > 0, x, ELU_ALPHA * np.expm1(np.minimum(x, 0)))


def gelu(x):
    return 0.5 * x * (1 + _erf(x / np.sqrt(2).astype(x.dtype)))


def gelu_tanh(x):
    c = np.sqrt(2 / np.pi).astype(x.dtype)
    return 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x**3)))


def silu(x):
    return x * _stable_sigmoid(x)


def softplus(x):
    return np.logaddexp(0, x)


# Local derivatives, as functions of (z, a) like the registry's kernels.


def sigmoid_grad(z, a):
    return a * (1 - a)


def relu_grad(z, a):
    return (z > 0).astype(z.dtype)


def tanh_grad(z, a):
    return 1 - a**2


def leaky_relu_grad(z, a):
    return np.where(z > 0, 1, LEAKY_RELU_SLOPE).astype(z.dtype)


def elu_grad(z, a):
    return np.where(z > 0, 1, a + ELU_ALPHA).astype(z.dtype)


def gelu_grad(z, a):
    cdf = 0.5 * (1 + _erf(z / np.sqrt(2).astype(z.dtype)))
    return cdf + z * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi).astype(z.dtype)


def gelu_tanh_grad(z, a):
    c = np.sqrt(2 / np.pi).astype(z.dtype)
    t = np.tanh(c * (z + 0.044715 * z**3))
    return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * c * (1 + 3 * 0.044715 * z * z)


def silu_grad(z, a):
    s = _stable_sigmoid(z)
    return s * (1 + z * _stable_sigmoid(-z))


def softplus_grad(z, a):
    return _stable_sigmoid(z)


def softmax_grad(z, a):
    return np.ones_like(a)


log_softmax_grad = softmax_grad


def softmax_vjp(z, a, g, axis=-1):
    return a * (g - np.sum(a * g, axis=axis, keepdims=True))


def log_softmax_vjp(z, a, g, axis=-1):
    return g - np.exp(a) * np.sum(g, axis=axis, keepdims=True)
