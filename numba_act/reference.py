"""Plain NumPy formulas for every activation: the baseline that benchmarks
compare against, and, evaluated in float64, the reference that tests check
the kernels against.

``sigmoid``, ``relu``, ``softmax`` and the two seed derivatives follow the
familiar NumPy module formulas (clip to [-500, 500]; max-shifted softmax
divided by ``sum + EPS``).  Nothing here is compiled.
"""

import math

import numpy as np

from numba_act.scalar import SELU_ALPHA, SELU_SCALE

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


def softmin(x, axis=-1):
    return softmax(-x, axis=axis)


def log_softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def tanh(x):
    return np.tanh(x)


def leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, negative_slope * x)


def elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def gelu(x):
    return 0.5 * x * (1 + _erf(x / np.sqrt(2).astype(x.dtype)))


def gelu_tanh(x):
    c = np.sqrt(2 / np.pi).astype(x.dtype)
    return 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x**3)))


def silu(x):
    return x * _stable_sigmoid(x)


def softplus(x, beta=1.0, threshold=None):
    f = np.logaddexp(0, beta * x) / beta
    return f if threshold is None else np.where(beta * x > threshold, x, f)


# Local derivatives, as functions of (z, a) like the registry's kernels.


def sigmoid_grad(z, a):
    return a * (1 - a)


def relu_grad(z, a):
    return (z > 0).astype(z.dtype)


def tanh_grad(z, a):
    return 1 - a**2


def leaky_relu_grad(z, a, negative_slope=0.01):
    return np.where(z > 0, 1, negative_slope).astype(z.dtype)


def elu_grad(z, a, alpha=1.0):
    # from a for the default alpha, as the kernel; from z otherwise
    tail = a + 1 if alpha == 1 else alpha * np.exp(np.minimum(z, 0))
    return np.where(z > 0, 1, tail).astype(z.dtype)


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


def softplus_grad(z, a, beta=1.0, threshold=None):
    # sigmoid(beta z), read from a as the kernel does: 1 - exp(-beta a)
    d = -np.expm1(-beta * a)
    return d if threshold is None else np.where(beta * z > threshold, 1, d).astype(z.dtype)


def softmax_grad(z, a):
    return np.ones_like(a)


log_softmax_grad = softmin_grad = softmax_grad


def softmax_vjp(z, a, g, axis=-1):
    return a * (g - np.sum(a * g, axis=axis, keepdims=True))


def softmin_vjp(z, a, g, axis=-1):
    return -softmax_vjp(z, a, g, axis)


def log_softmax_vjp(z, a, g, axis=-1):
    return g - np.exp(a) * np.sum(g, axis=axis, keepdims=True)


# Piecewise activations, with torch's (or jax.nn's) parameter defaults.


def relu6(x):
    return np.minimum(np.maximum(x, 0), 6)


def relu6_grad(z, a):
    return ((z > 0) & (z < 6)).astype(z.dtype)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.minimum(np.maximum(x, min_val), max_val)


def hardtanh_grad(z, a, min_val=-1.0, max_val=1.0):
    return ((z > min_val) & (z < max_val)).astype(z.dtype)


def hardsigmoid(x):
    return np.minimum(np.maximum(x + 3, 0), 6) / 6


def hardsigmoid_grad(z, a):
    return np.where((z > -3) & (z < 3), 1 / 6, 0).astype(z.dtype)


def hardswish(x):
    return np.where(x <= -3, 0, x * np.minimum(x + 3, 6) / 6).astype(x.dtype)


def hardswish_grad(z, a):
    return np.where(z <= -3, 0, np.where(z >= 3, 1, (2 * z + 3) / 6)).astype(z.dtype)


def softshrink(x, lambd=0.5):
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0)).astype(x.dtype)


def softshrink_grad(z, a, lambd=0.5):
    return (np.abs(z) > lambd).astype(z.dtype)


def hardshrink(x, lambd=0.5):
    return np.where(np.abs(x) > lambd, x, 0).astype(x.dtype)


hardshrink_grad = softshrink_grad


def threshold(x, threshold, value):
    return np.where(x > threshold, x, value).astype(x.dtype)


def threshold_grad(z, a, threshold, value):
    return (z > threshold).astype(z.dtype)


def _squareplus_tail(x, b):
    """b / (2 (sqrt(x**2 + b) + |x|)): squareplus(x) - max(x, 0), without cancellation."""
    d = 2 * (np.sqrt(x * x + b) + np.abs(x))
    return b / np.where(d > 0, d, 1)


def squareplus(x, b=4.0):
    return np.maximum(x, 0) + _squareplus_tail(x, b).astype(x.dtype)


def squareplus_grad(z, a, b=4.0):
    h = np.sqrt(z * z + b)
    m = _squareplus_tail(z, b) / np.where(h > 0, h, 1)
    return np.where(z > 0, 1 - m, m).astype(z.dtype)


def sparse_plus(x):
    return np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)).astype(x.dtype)


def sparse_plus_grad(z, a):
    return np.where(z <= -1, 0, np.where(z >= 1, 1, (z + 1) / 2)).astype(z.dtype)


def sparse_sigmoid(x):
    return np.minimum(np.maximum(x + 1, 0), 2) / 2


def sparse_sigmoid_grad(z, a):
    return np.where((z > -1) & (z < 1), 0.5, 0).astype(z.dtype)


def softsign(x):
    return x / (1 + np.abs(x))


def softsign_grad(z, a):
    return 1 / (1 + np.abs(z)) ** 2


# Smooth activations built on exp, with torch's parameter defaults.


def celu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha))


def celu_grad(z, a, alpha=1.0):
    return np.where(z > 0, 1, np.exp(np.minimum(z, 0) / alpha)).astype(z.dtype)


def selu(x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))


def selu_grad(z, a):
    return np.where(z > 0, SELU_SCALE, SELU_SCALE * SELU_ALPHA * np.exp(np.minimum(z, 0))).astype(z.dtype)


def mish(x):
    return x * np.tanh(np.logaddexp(0, x))


def mish_grad(z, a):
    g = np.tanh(np.logaddexp(0, z))
    s = _stable_sigmoid(z)
    # where g underflows, z s keeps the sign of e**z (1 + z)
    return np.where(g == 0, z * s, g + z * s * (1 - g * g))


def log_sigmoid(x):
    return -np.logaddexp(0, -x)


def log_sigmoid_grad(z, a):
    return _stable_sigmoid(-z)


def tanhshrink(x):
    return x - np.tanh(x)


def tanhshrink_grad(z, a):
    return np.tanh(z) ** 2
