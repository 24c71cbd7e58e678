"""The optimizers of :class:`numba_act.model.NeuralNetworkModel`: Adam and
SGD with momentum, each updating the model's one flat parameter array in
a single compiled pass.

Each optimizer is an ``update`` kernel called as ``update(params, grads, t,
*args)``, with ``t`` the step count (from 1) and ``args`` the optimizer's
state arrays and settings: the Python training path calls it once per step,
and the compiled training path (:mod:`numba_act._training`) calls the same
kernel from its ``@njit`` loop, so both make the same update.
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
def adam_update(params, grads, t, m, v, learning_rate, beta1, beta2, eps, tiny):
    """Adam's step ``t``: m, v = the moment updates; params -= step_size * m / (sqrt(v) + eps_t).

    The bias corrections are folded into the step size and eps:
    lr * m_hat / (sqrt(v_hat) + eps) == (lr sqrt(bias2) / bias1) * m / (sqrt(v) + eps sqrt(bias2)),
    computed in float64 and then rounded to the arrays' dtype (that of
    ``tiny``), so float32 is updated in float32.
    """
    bias1 = 1.0 - beta1 ** float(t)
    bias2 = 1.0 - beta2 ** float(t)
    T = type(tiny)
    step_size = T(learning_rate * math.sqrt(bias2) / bias1)
    eps_t = T(eps * math.sqrt(bias2))
    beta1_t, beta2_t = T(beta1), T(beta2)
    one, zero = T(1), T(0)
    for i in range(params.size):
        g = grads[i]
        g = zero if abs(g) < tiny else g  # NaN is kept, so divergence still shows
        m_i = beta1_t * m[i] + (one - beta1_t) * g
        v_i = beta2_t * v[i] + (one - beta2_t) * g * g
        m_i = zero if abs(m_i) < tiny else m_i
        v_i = zero if v_i < tiny else v_i
        m[i] = m_i
        v[i] = v_i
        params[i] -= step_size * m_i / (np.sqrt(v_i) + eps_t)


@kernel
def momentum_update(params, grads, t, velocity, momentum, learning_rate, tiny):
    """velocity = momentum * velocity - learning_rate * grads; params += velocity (``t`` unused)."""
    T = type(tiny)
    momentum_t, rate_t, zero = T(momentum), T(learning_rate), T(0)
    for i in range(params.size):
        g = grads[i]
        g = zero if abs(g) < tiny else g
        v_i = momentum_t * velocity[i] - rate_t * g
        v_i = zero if abs(v_i) < tiny else v_i
        velocity[i] = v_i
        params[i] += v_i


class Adam:
    """Adam (Kingma & Ba 2015), with the bias corrections folded into the step size and eps."""

    update = staticmethod(adam_update)
    t = 0  # the step count; the class's for one pickled before it was kept

    def __init__(self, size, dtype, learning_rate, betas=(0.9, 0.999), eps=1e-8):
        self.learning_rate, self.betas, self.eps = learning_rate, betas, eps
        self._tiny = np.finfo(dtype).tiny
        self.m = np.zeros(size, dtype)
        self.v = np.zeros(size, dtype)
        self.t = 0

    @property
    def args(self):
        """The arguments of :func:`adam_update` after ``params, grads, t``."""
        beta1, beta2 = self.betas
        return self.m, self.v, float(self.learning_rate), float(beta1), float(beta2), float(self.eps), self._tiny

    def step(self, params, grads):
        self.t += 1
        adam_update(params, grads, self.t, *self.args)


class Momentum:
    """SGD with heavy-ball momentum: v = mu v - lr g; p += v."""

    update = staticmethod(momentum_update)
    t = 0

    def __init__(self, size, dtype, learning_rate, momentum=0.9):
        self.learning_rate, self.momentum = learning_rate, momentum
        self._tiny = np.finfo(dtype).tiny
        self.velocity = np.zeros(size, dtype)
        self.t = 0

    @property
    def args(self):
        """The arguments of :func:`momentum_update` after ``params, grads, t``."""
        return self.velocity, float(self.momentum), float(self.learning_rate), self._tiny

    def step(self, params, grads):
        self.t += 1
        momentum_update(params, grads, self.t, *self.args)
