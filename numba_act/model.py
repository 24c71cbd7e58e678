"""A small fully connected network whose activations come from the registry.

Each layer computes z = a_prev @ W + b and then an activation layer of
:mod:`numba_act.layers`, resolved by name.  The model owns its parameters,
their gradients and the optimizer state as views into three flat arrays, so
one optimizer update is a handful of whole-array operations, and every
buffer of a training step is reused while the batch shape stays the same.

Losses: a softmax or log_softmax output is trained with cross-entropy, using
that its gradient with respect to the logits is p - y (the output layer's
backward pass is skipped); any other output with the mean squared error
0.5 * sum((a - y)**2) per sample, back-propagated through the output layer.
Both are averaged over the batch.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import NamedTuple

import numpy as np

from numba_act._jit import kernel
from numba_act.layers import BACKENDS, ActivationLayer, activation_layer

# Activations after which a layer's weights get He initialization (variance
# 2 / fan_in, for units that pass about half of their input); every other
# activation gets Glorot's variance 2 / (fan_in + fan_out).
HE_INIT = frozenset({"relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "silu"})

OPTIMIZERS = ("adam", "momentum")
_LEARNING_RATES = {"adam": 1e-3, "momentum": 0.05}


class Evaluation(NamedTuple):
    """Mean loss and fraction of correctly classified samples."""

    loss: float
    accuracy: float


class StepProfile(NamedTuple):
    """Mean seconds per training step and the parts spent in activations and matrix products."""

    total: float
    activations: float
    matmul: float

    @property
    def other(self) -> float:
        """Bias additions, loss, optimizer update and Python overhead."""
        return self.total - self.activations - self.matmul


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


class _Adam:
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


class _Momentum:
    """SGD with heavy-ball momentum: v = mu v - lr g; p += v."""

    def __init__(self, size, dtype, learning_rate, momentum=0.9):
        self.learning_rate, self.momentum = learning_rate, momentum
        self._type = dtype.type
        self._tiny = np.finfo(dtype).tiny
        self.velocity = np.zeros(size, dtype)

    def step(self, params, grads):
        T = self._type
        _momentum_update(params, grads, self.velocity, T(self.momentum), T(self.learning_rate), self._tiny)


class NeuralNetworkModel:
    """A fully connected network trained with mini-batch Adam or SGD with momentum.

    Args:
        layer_sizes: widths from the input to the output, e.g. ``[784, 128, 64, 10]``.
        activations: one registry name per weight layer, e.g.
            ``["relu", "relu", "softmax"]`` (``len(layer_sizes) - 1`` names).
        seed: seed or ``numpy.random.Generator`` for the initial weights and
            the shuffling in :meth:`fit`; the same seed gives the same model
            and the same training run.
        dtype: float32 (default) or float64, for parameters and all
            computation; inputs are converted to it.
        activation_backend: ``"numba"`` (the compiled kernels) or
            ``"numpy"`` (the NumPy formulas of :mod:`numba_act.reference`).
        optimizer: ``"adam"`` (default) or ``"momentum"``.
        learning_rate: default 1e-3 for Adam, 0.05 for momentum.
        momentum: the momentum coefficient of ``"momentum"``.

    Weights are drawn in float64 and then cast, so a float32 and a float64
    model with the same seed start from the same values: He-normal for
    layers followed by a relu-like activation (``HE_INIT``), Glorot-uniform
    otherwise; biases start at zero.

    Attributes:
        weights, biases: per-layer parameters, shapes (n_in, n_out) and
            (n_out,), views into one flat array.
        weight_grads, bias_grads: their gradients from the last
            :meth:`backward` or :meth:`train_step`.
        layers: the activation layers, ``layers[i].index == i``.
        loss_name: ``"cross_entropy"`` or ``"mse"``, chosen from the output activation.

    Arrays returned by :meth:`forward` and :meth:`backward` are buffers of
    the model, overwritten by the next call with the same batch size.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activations: Sequence[str],
        *,
        seed: int | np.random.Generator | None = None,
        dtype: type | np.dtype = np.float32,
        activation_backend: str = "numba",
        optimizer: str = "adam",
        learning_rate: float | None = None,
        momentum: float = 0.9,
    ) -> None:
        sizes = tuple(int(n) for n in layer_sizes)
        if len(sizes) < 2 or any(n < 1 for n in sizes):
            raise ValueError(f"layer_sizes needs at least two positive widths, got {list(layer_sizes)}")
        if isinstance(activations, str) or len(activations) != len(sizes) - 1:
            raise ValueError(f"activations needs one name per weight layer ({len(sizes) - 1}), got {activations!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"dtype must be float32 or float64, not {self.dtype}")
        if activation_backend not in BACKENDS:
            raise ValueError(f"activation_backend must be one of {BACKENDS}, not {activation_backend!r}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {optimizer!r}")

        self.layer_sizes = sizes
        self.activation_backend = activation_backend
        self.layers: list[ActivationLayer] = [
            activation_layer(name, backend=activation_backend) for name in activations
        ]
        for index, layer in enumerate(self.layers):
            layer.index = index
        self.activations = tuple(layer.activation for layer in self.layers)
        self.loss_name = "cross_entropy" if self.activations[-1] in ("softmax", "log_softmax") else "mse"
        self.rng = np.random.default_rng(seed)

        size = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))
        self.params = np.empty(size, self.dtype)
        self.grads = np.zeros(size, self.dtype)
        self._make_views()
        for W, b, name in zip(self.weights, self.biases, self.activations, strict=True):
            n_in, n_out = W.shape
            if name in HE_INIT:
                W[...] = self.rng.normal(0.0, math.sqrt(2.0 / n_in), W.shape)
            else:
                limit = math.sqrt(6.0 / (n_in + n_out))
                W[...] = self.rng.uniform(-limit, limit, W.shape)
            b[...] = 0

        self.optimizer = optimizer
        rate = _LEARNING_RATES[optimizer] if learning_rate is None else float(learning_rate)
        if optimizer == "adam":
            self._optimizer = _Adam(size, self.dtype, rate)
        else:
            self._optimizer = _Momentum(size, self.dtype, rate, momentum)

        self._reset_buffers()

    def _make_views(self):
        """weights, biases and their gradients as views into the flat ``params`` and ``grads``."""
        self.weights, self.biases, self.weight_grads, self.bias_grads = [], [], [], []
        start = 0
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True):
            stop = start + n_in * n_out
            self.weights.append(self.params[start:stop].reshape(n_in, n_out))
            self.weight_grads.append(self.grads[start:stop].reshape(n_in, n_out))
            start, stop = stop, stop + n_out
            self.biases.append(self.params[start:stop])
            self.bias_grads.append(self.grads[start:stop])
            start = stop

    def _reset_buffers(self):
        n = len(self.layers)
        self._x: np.ndarray | None = None  # the input of the last forward
        self._z: list[np.ndarray | None] = [None] * n  # pre-activations
        self._da: list[np.ndarray | None] = [None] * n  # dL/d(input of layer i)
        self._deltas: list[np.ndarray | None] = [None]  # dL/dz of the output layer

    def __getstate__(self):
        # Copies of views are not views: a copy (or unpickled model) rebuilds the
        # parameter views over its own flat arrays and starts with fresh buffers.
        skip = {"weights", "biases", "weight_grads", "bias_grads", "_x", "_z", "_da", "_deltas"}
        return {key: value for key, value in self.__dict__.items() if key not in skip}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._make_views()
        self._reset_buffers()

    # The one place matrix products happen, so that profile_step can time them.
    _matmul = staticmethod(np.matmul)

    def __repr__(self) -> str:
        layers = ", ".join(
            f"{n}->{layer.layer_name}" for n, layer in zip(self.layer_sizes[1:], self.layers, strict=True)
        )
        return f"NeuralNetworkModel({self.layer_sizes[0]} inputs: {layers}; {self.dtype}, {self.optimizer})"

    # ------------------------------------------------------------ passes

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The output for a batch ``X`` of shape (n, layer_sizes[0]), shape (n, layer_sizes[-1]).

        Caches what :meth:`backward` needs.  The result is the output
        layer's buffer, overwritten by the next forward with the same n.
        """
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"X must have shape (n, {self.layer_sizes[0]}), got {X.shape}")
        a = X
        for i, (W, b, layer) in enumerate(zip(self.weights, self.biases, self.layers, strict=True)):
            z = self._buffer(self._z, i, (X.shape[0], W.shape[1]))
            self._matmul(a, W, out=z)
            z += b
            a = layer.forward(z)
        self._x = X
        return a

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """The mean loss of the batch ``X`` for targets ``y`` (see :meth:`backward`)."""
        return self._loss_and_delta(self.forward(X), y, want_delta=False)

    def backward(self, y: np.ndarray) -> np.ndarray:
        """Gradients of the mean loss for targets ``y``, at the last forward's batch.

        ``y`` holds integer class labels of shape (n,) or targets of the
        output's shape (one-hot or probabilities for cross-entropy).  Fills
        ``weight_grads`` and ``bias_grads`` and returns dL/dX (a buffer).
        """
        self._require_forward()
        self._loss_and_delta(self.layers[-1].output, y)
        return self._backward(input_grad=True)

    def train_step(self, X: np.ndarray, y: np.ndarray) -> float:
        """One optimizer update on the batch (X, y); returns the batch's loss before the update."""
        loss = self._loss_and_delta(self.forward(X), y)
        self._backward(input_grad=False)
        self._optimizer.step(self.params, self.grads)
        return loss

    def _require_forward(self):
        if self._x is None:
            raise RuntimeError("backward needs a forward pass first")

    def _buffer(self, buffers, i, shape):
        buf = buffers[i]
        if buf is None or buf.shape != shape:
            buf = buffers[i] = np.empty(shape, self.dtype)
        return buf

    def _loss_and_delta(self, out, y, want_delta=True):
        """The mean loss; with ``want_delta`` also dL/dz of the output layer, kept in ``self._deltas[0]``."""
        n, k = out.shape
        y = np.asarray(y)
        labels = y.ndim == 1 and y.dtype.kind in "iu"
        if labels:
            if y.shape[0] != n:
                raise ValueError(f"y has {y.shape[0]} labels for a batch of {n}")
            if n and (y.min() < 0 or y.max() >= k):
                raise ValueError(f"labels must lie in [0, {k}), got [{y.min()}, {y.max()}]")
        elif y.shape != out.shape:
            raise ValueError(f"y must hold {n} integer labels or have the output's shape {out.shape}, got {y.shape}")
        delta = self._buffer(self._deltas, 0, out.shape) if want_delta else np.empty(out.shape, self.dtype)

        if self.loss_name == "cross_entropy":
            log_output = self.activations[-1] == "log_softmax"
            tiny = np.finfo(self.dtype).tiny  # keeps log(0) finite when a probability underflows
            if labels:
                picked = out[np.arange(n), y].astype(np.float64)
                loss = -np.mean(picked if log_output else np.log(np.maximum(picked, tiny)))
            else:
                log_p = out if log_output else np.log(np.maximum(out, tiny))
                loss = -np.sum(y * log_p, dtype=np.float64) / n
            if want_delta:
                # Cross-entropy after softmax: dL/dlogits = (p - y) / n, so the
                # softmax layer's own backward pass is not needed.
                if log_output:
                    np.exp(out, out=delta)
                else:
                    np.copyto(delta, out)
                self._subtract_targets(delta, y, labels, n)
                delta *= 1 / n
        else:
            np.copyto(delta, out)
            self._subtract_targets(delta, y, labels, n)
            loss = 0.5 * np.sum(np.square(delta, dtype=np.float64)) / n
            if want_delta:
                delta *= 1 / n
                np.copyto(delta, self.layers[-1].backward(delta))
        return float(loss)

    @staticmethod
    def _subtract_targets(arr, y, labels, n):
        if labels:
            arr[np.arange(n), y] -= 1
        else:
            arr -= y

    def _backward(self, input_grad):
        delta = self._deltas[0]
        last = len(self.layers) - 1
        for i in range(last, -1, -1):
            dz = delta if i == last else self.layers[i].backward(self._da[i + 1])
            a_prev = self._x if i == 0 else self.layers[i - 1].output
            self._matmul(a_prev.T, dz, out=self.weight_grads[i])
            np.sum(dz, axis=0, out=self.bias_grads[i])
            if i or input_grad:
                da = self._buffer(self._da, i, (dz.shape[0], self.layer_sizes[i]))
                self._matmul(dz, self.weights[i].T, out=da)
        return self._da[0] if input_grad else None

    # ------------------------------------------------------------ training and use

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int = 10,
        batch_size: int = 32,
        on_epoch: Callable[[int, float, float], object] | None = None,
    ) -> list[float]:
        """Train for ``epochs`` passes over (X, y) in shuffled mini-batches.

        Calls ``on_epoch(epoch, mean_loss, seconds)`` after each epoch (epochs
        count from 1; seconds is the training time of that epoch) and returns
        the mean loss of every epoch.
        """
        X = np.asarray(X, dtype=self.dtype)
        y = np.asarray(y)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        losses = []
        for epoch in range(1, epochs + 1):
            start = perf_counter()
            loss = self.train_epoch(X, y, batch_size)
            seconds = perf_counter() - start
            losses.append(loss)
            if on_epoch is not None:
                on_epoch(epoch, loss, seconds)
        return losses

    def train_epoch(self, X: np.ndarray, y: np.ndarray, batch_size: int = 32) -> float:
        """One shuffled pass over (X, y); returns the mean of the batch losses, weighted by batch size."""
        X = np.asarray(X, dtype=self.dtype)
        y = np.asarray(y)
        n = X.shape[0]
        order = self.rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            total += self.train_step(X[batch], y[batch]) * len(batch)
        return total / n

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class indices, the argmax of the output for each row of ``X``."""
        return np.argmax(self.forward(X), axis=1)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> Evaluation:
        """Mean loss and accuracy on (X, y); ``y`` as in :meth:`backward`."""
        out = self.forward(X)
        loss = self._loss_and_delta(out, y, want_delta=False)
        y = np.asarray(y)
        truth = y if y.ndim == 1 else np.argmax(y, axis=1)
        accuracy = float(np.mean(np.argmax(out, axis=1) == truth)) if len(truth) else math.nan
        return Evaluation(loss, accuracy)

    def profile_step(self, X: np.ndarray, y: np.ndarray, batch_size: int = 32, steps: int = 200) -> StepProfile:
        """Mean time of a training step, and the parts spent in the activation
        layers (forward and backward) and in matrix products.

        Runs ``steps`` steps on a copy of the model, over consecutive full
        batches of (X, y) (cycling when needed), so this model is left as it
        was.  Two untimed steps come first, so that loading or compiling the
        kernels on their first use in a process is not counted.  The timers
        add well under a microsecond to every timed call.
        """
        X = np.asarray(X, dtype=self.dtype)
        y = np.asarray(y)
        starts = range(0, X.shape[0] - batch_size + 1, batch_size)
        if not starts:
            raise ValueError(f"profile_step needs at least one full batch of {batch_size} samples")
        clone = copy.deepcopy(self)
        spent = {"activations": 0.0, "matmul": 0.0}

        def timed(fn, part):
            def call(*args, **kwargs):
                start = perf_counter()
                result = fn(*args, **kwargs)
                spent[part] += perf_counter() - start
                return result

            return call

        for layer in clone.layers:
            layer.forward = timed(layer.forward, "activations")
            layer.backward = timed(layer.backward, "activations")
        clone._matmul = timed(np.matmul, "matmul")
        batches = [(X[i : i + batch_size], y[i : i + batch_size]) for i in starts]
        # Warm-up, untimed: the first step allocates the buffers and runs the
        # kernels that return new arrays; only the second writes into those
        # buffers, through the out= kernels that every timed step uses, which
        # a process loads (or compiles) on their first call.
        for _ in range(2):
            clone.train_step(*batches[0])
        spent.update(activations=0.0, matmul=0.0)
        start = perf_counter()
        for step in range(steps):
            clone.train_step(*batches[step % len(batches)])
        total = perf_counter() - start
        return StepProfile(total / steps, spent["activations"] / steps, spent["matmul"] / steps)
