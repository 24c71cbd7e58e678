"""The optimizers of :class:`numba_act.model.NeuralNetworkModel`: Adam and
SGD with momentum, each updating the model's one flat parameter array in
a single compiled pass.
"""

import math

import numpy as np

from numba_act._jit import kernel

# Both optimizers update the model's one flat parameter array in a single
# compiled pass; as a chain of NumPy operations the update would cost more
# than the rest of a small network's training step.  Values below the
# smallest normal float are flushed to zero: a gradient that fades out (a
# dead unit, a batch already learned) would otherwise leave subnormal
# moments that make every later update many times slower.


@kernel
def _adam_update(params, grads, m, v, beta1, beta2, step_size, eps, tiny):
    """m, v = the moment updates; params -= step_size * m / (sqrt(v) + eps).

    The scalars come in the arrays' dtype, so float32 is computed in float32.
    """
    one, zero = type(beta1)(1), type(beta1)(0)
    for i in range(params.size):
        g = grads[i]
        g = zero if abs(g) < tiny else g  # NaN is kept, so divergence still shows
        m_i = beta1 * m[i] + (one - beta1) * g
        v_i = beta2 * v[i] + (one - beta2) * g * g
        m_i = zero if abs(m_i) < tiny else m_i
        v_i = zero if v_i < tiny else v_i
        m[i] = m_i
        v[i] = v_i
        params[i] -= step_size * m_i / (np.sqrt(v_i) + eps)


@kernel
def _momentum_update(params, grads, velocity, momentum, learning_rate, tiny):
    """velocity = momentum * velocity - learning_rate * grads; params += velocity."""
    zero = type(momentum)(0)
    for i in range(params.size):
        g = grads[i]
        g = zero if abs(g) < tiny else g
        v_i = momentum * velocity[i] - learning_rate * g
        v_i = zero if abs(v_i) < tiny else v_i
        velocity[i] = v_i
        params[i] += v_i


class Adam:
    """Adam (Kingma & Ba 2015), with the bias corrections folded into the step size and eps."""

    def __init__(self, size, dtype, learning_rate, betas=(0.9, 0.999), eps=1e-8):
        self.learning_rate, self.betas, self.eps = learning_rate, betas, eps
        self._type = dtype.type
        self._tiny = np.finfo(dtype).tiny
        self.m = np.zeros(size, dtype)
        self.v = np.zeros(size, dtype)
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        beta1, beta2 = self.betas
        bias1, bias2 = 1 - beta1**self.t, 1 - beta2**self.t
        # lr * m_hat / (sqrt(v_hat) + eps) == (lr sqrt(bias2) / bias1) * m / (sqrt(v) + eps sqrt(bias2))
        T = self._type
        step_size = T(self.learning_rate * math.sqrt(bias2) / bias1)
        eps = T(self.eps * math.sqrt(bias2))
        _adam_update(params, grads, self.m, self.v, T(beta1), T(beta2), step_size, eps, self._tiny)


class Momentum:
    """SGD with heavy-ball momentum: v = mu v - lr g; p += v."""

    def __init__(self, size, dtype, learning_rate, momentum=0.9):
        self.learning_rate, self.momentum = learning_rate, momentum
        self._type = dtype.type
        self._tiny = np.finfo(dtype).tiny
        self.velocity = np.zeros(size, dtype)

    def step(self, params, grads):
        T = self._type
        _momentum_update(params, grads, self.velocity, T(self.momentum), T(self.learning_rate), self._tiny)
