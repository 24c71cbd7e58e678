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

import math
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import NamedTuple

import numpy as np

from numba_act import _profile, _training
from numba_act._optimizers import Adam, Momentum
from numba_act._profile import StepProfile
from numba_act.layers import BACKENDS, ActivationLayer, activation_layer
from numba_act.registry import REGISTRY

OPTIMIZERS = ("adam", "momentum")
_LEARNING_RATES = {"adam": 1e-3, "momentum": 0.05}


class Evaluation(NamedTuple):
    """Mean loss and accuracy, as returned by :meth:`NeuralNetworkModel.evaluate`.

    Attributes:
        loss (float): the mean loss over the samples.
        accuracy (float): the fraction of samples whose output's argmax is
            the true class (nan for no samples).

    Example:
        >>> from numba_act.model import Evaluation
        >>> Evaluation(loss=0.25, accuracy=1.0).accuracy
        1.0
    """

    loss: float
    accuracy: float


def _parameterized_layer(pair, backend):
    """The layer of a (name, {parameter: value}) pair of ``activations``."""
    if len(pair) != 2 or not isinstance(pair[1], dict):
        raise TypeError(f"an activation with parameters is a (name, dict) pair, not {pair!r}")
    name, params = pair
    return activation_layer(name, backend=backend, **params)


def _check_batch_size(batch_size):
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")


class NeuralNetworkModel:
    """A fully connected network trained with mini-batch Adam or SGD with momentum.

    Layer i computes ``a_i = f_i(a_{i-1} @ W_i + b_i)``, with ``a_0`` the
    input and ``f_i`` the activation layer named ``activations[i]``.

    Args:
        layer_sizes (Sequence[int]): widths from the input to the output,
            e.g. ``[784, 128, 64, 10]``; at least two, all positive.
        activations (Sequence[str | tuple[str, dict]]): one activation per
            weight layer (``len(layer_sizes) - 1`` of them): a registry name,
            e.g. ``["relu", "relu", "softmax"]``, or a (name, parameters)
            pair, e.g. ``("leaky_relu", {"negative_slope": 0.2})``.
        seed (int | numpy.random.Generator | None, keyword-only): seed or
            generator for the initial weights and the shuffling in
            :meth:`fit`; the same seed gives the same model and the same
            training run.  Default None (fresh entropy).
        dtype (float32 or float64, keyword-only): for parameters and all
            computation; inputs are converted to it.  Default
            ``numpy.float32``.
        activation_backend (str, keyword-only): ``"numba"`` (the compiled
            kernels, default) or ``"numpy"`` (the NumPy formulas of
            :mod:`numba_act.reference`).
        optimizer (str, keyword-only): ``"adam"`` (default) or ``"momentum"``.
        learning_rate (float | None, keyword-only): default None, meaning
            1e-3 for Adam and 0.05 for momentum.
        momentum (float, keyword-only): the momentum coefficient of
            ``"momentum"``; default 0.9.
        compiled (bool, keyword-only): train with the compiled path
            (:meth:`train_step`, :meth:`train_epoch` and :meth:`fit` run
            forward, loss, backward and the optimizer of every mini-batch in
            one ``@njit`` function per architecture, compiled on first use and
            cached on disk); default False, the Python path (one call per
            layer and pass).  Both make the same updates from the same state,
            to rounding (they call different BLAS builds).  Needs the
            ``"numba"`` activation backend and SciPy (Numba's BLAS).

    Weights are drawn in float64 and then cast, so a float32 and a float64
    model with the same seed start from the same values: He-normal for
    layers followed by a relu-like activation (its registry entry's
    ``weight_init`` is ``"he"``), Glorot-uniform
    otherwise; biases start at zero.

    Attributes:
        weights, biases: per-layer parameters, shapes (n_in, n_out) and
            (n_out,), views into one flat array.
        weight_grads, bias_grads: their gradients from the last
            :meth:`backward` or :meth:`train_step`.
        layers: the activation layers, ``layers[i].index == i``.
        loss_name: ``"cross_entropy"`` (softmax or log_softmax output) or
            ``"mse"`` (any other output activation).

    Arrays returned by :meth:`forward` and :meth:`backward` are buffers of
    the model, overwritten by the next call with the same batch size.

    Raises:
        ValueError: for bad ``layer_sizes``, a wrong number of
            ``activations`` (or a single str), an unknown activation name,
            backend or optimizer, an invalid parameter value, or
            ``compiled=True`` with the ``"numpy"`` backend.
        ImportError: for ``compiled=True`` without SciPy.
        TypeError: for a ``dtype`` other than float32 or float64, an
            activation name that is not a str, or a parameter the activation
            does not take (or of a type it does not take).

    Example:
        >>> import numpy as np
        >>> from numba_act.model import NeuralNetworkModel
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(8, 3))
        >>> y = (X[:, 0] > 0).astype(np.int64)
        >>> model = NeuralNetworkModel([3, 4, 2], ["relu", "softmax"], seed=0)
        >>> model
        NeuralNetworkModel(3 inputs: 4->ReLU, 2->Softmax; float32, adam)
        >>> model.loss_name
        'cross_entropy'
        >>> loss = model.train_step(X, y)
        >>> model.predict(X).shape
        (8,)
        >>> fast = NeuralNetworkModel([3, 4, 2], ["relu", "softmax"], seed=0, compiled=True)
        >>> bool(np.allclose(fast.train_step(X, y), loss)), bool(np.allclose(fast.params, model.params))
        (True, True)
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activations: Sequence[str | tuple[str, dict]],
        *,
        seed: int | np.random.Generator | None = None,
        dtype: type | np.dtype = np.float32,
        activation_backend: str = "numba",
        optimizer: str = "adam",
        learning_rate: float | None = None,
        momentum: float = 0.9,
        compiled: bool = False,
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
        self.compiled = compiled
        self.layers: list[ActivationLayer] = [
            _parameterized_layer(name, activation_backend)
            if isinstance(name, tuple)
            else activation_layer(name, backend=activation_backend)
            for name in activations
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
            if REGISTRY[name].weight_init == "he":
                W[...] = self.rng.normal(0.0, math.sqrt(2.0 / n_in), W.shape)
            else:
                limit = math.sqrt(6.0 / (n_in + n_out))
                W[...] = self.rng.uniform(-limit, limit, W.shape)
            b[...] = 0

        self.optimizer = optimizer
        rate = _LEARNING_RATES[optimizer] if learning_rate is None else float(learning_rate)
        if optimizer == "adam":
            self._optimizer = Adam(size, self.dtype, rate)
        else:
            self._optimizer = Momentum(size, self.dtype, rate, momentum)

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
        self._work: tuple | None = None  # the compiled path's buffers, grown to the largest batch

    def __getstate__(self):
        # Copies of views are not views: a copy (or unpickled model) rebuilds the
        # parameter views over its own flat arrays and starts with fresh buffers.
        skip = {"weights", "biases", "weight_grads", "bias_grads", "_x", "_z", "_da", "_deltas", "_work"}
        return {key: value for key, value in self.__dict__.items() if key not in skip}

    def __setstate__(self, state):
        compiled = state.pop("_compiled", False)  # absent from models pickled before compiled= existed
        self.__dict__.update(state)
        self.compiled = compiled  # checked again: SciPy may be missing where it is unpickled
        self._make_views()
        self._reset_buffers()

    @property
    def compiled(self) -> bool:
        """Whether training runs the compiled path (see ``compiled`` above); settable, with the same checks."""
        return self._compiled

    @compiled.setter
    def compiled(self, value: bool) -> None:
        if value:
            if self.activation_backend != "numba":
                raise ValueError("compiled=True needs activation_backend='numba'")
            try:
                import scipy  # noqa: F401  (Numba's np.dot calls SciPy's BLAS)
            except ImportError:
                raise ImportError("compiled=True needs SciPy for its matrix products: pip install scipy") from None
        self._compiled = bool(value)

    # The one place matrix products happen, so that profile_step can time them.
    _matmul = staticmethod(np.matmul)

    def __repr__(self) -> str:
        layers = ", ".join(
            f"{n}->{layer.layer_name if not layer.params else repr(layer)}"
            for n, layer in zip(self.layer_sizes[1:], self.layers, strict=True)
        )
        compiled = ", compiled" if self.compiled else ""
        return f"NeuralNetworkModel({self.layer_sizes[0]} inputs: {layers}; {self.dtype}, {self.optimizer}{compiled})"

    # ------------------------------------------------------------ passes

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Return the network's output for a batch ``X``.

        Caches what :meth:`backward` needs.

        Args:
            X (array_like): shape (n, layer_sizes[0]); converted to the
                model's dtype.

        Returns:
            numpy.ndarray: shape (n, layer_sizes[-1]), in the model's dtype
            (probabilities for a softmax output, log-probabilities for
            log_softmax).  It is the output layer's buffer, overwritten by
            the next forward with the same n.

        Raises:
            ValueError: for an ``X`` that is not 2-d with layer_sizes[0] columns.

        Example:
            >>> import numpy as np
            >>> from numba_act.model import NeuralNetworkModel
            >>> model = NeuralNetworkModel([3, 4, 2], ["relu", "softmax"], seed=0)
            >>> model.forward(np.zeros((2, 3)))  # zero biases: equal logits
            array([[0.5, 0.5],
                   [0.5, 0.5]], dtype=float32)
        """
        X = self._input(X)
        a = X
        for i, (W, b, layer) in enumerate(zip(self.weights, self.biases, self.layers, strict=True)):
            z = self._buffer(self._z, i, (X.shape[0], W.shape[1]))
            self._matmul(a, W, out=z)
            z += b
            a = layer.forward(z)
        self._x = X
        return a

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """Return the mean loss of the batch ``X`` for targets ``y``.

        Cross-entropy ``-mean(sum(y * log(p)))`` for a softmax or
        log_softmax output (a softmax's p is clipped below at the smallest
        normal float, so the log stays finite); otherwise the mean squared
        error ``mean(0.5 * sum((a - y)**2))``, the sums over the outputs.
        Runs :meth:`forward`, so its buffers are overwritten.

        Args:
            X (array_like): shape (n, layer_sizes[0]).
            y (array_like): integer class labels of shape (n,), or targets
                of the output's shape (see :meth:`backward`).

        Returns:
            float: the mean loss, summed in float64.

        Raises:
            ValueError: for a ``y`` of another length or shape, or labels
                outside [0, layer_sizes[-1]).

        Example:
            >>> import numpy as np
            >>> from numba_act.model import NeuralNetworkModel
            >>> model = NeuralNetworkModel([3, 4, 2], ["relu", "softmax"], seed=0)
            >>> model.loss(np.zeros((2, 3)), np.array([0, 1]))  # -log(0.5)
            0.6931471805599453
        """
        return self._loss_and_delta(self.forward(X), y, want_delta=False)

    def backward(self, y: np.ndarray) -> np.ndarray:
        """Compute the gradients of the mean loss for targets ``y``, at the last forward's batch.

        The output layer's dL/dz is ``(p - y) / n`` for cross-entropy and
        ``f'(z) * (a - y) / n`` for the mean squared error; then, layer by
        layer, ``dW = a_prev.T @ dz``, ``db = sum(dz, axis=0)`` and
        ``da_prev = dz @ W.T``.

        Args:
            y (array_like): integer class labels of shape (n,), or targets
                of the output's shape (one-hot or probabilities for
                cross-entropy).

        Returns:
            numpy.ndarray: dL/dX, shape (n, layer_sizes[0]) in the model's
            dtype (a buffer).  ``weight_grads`` and ``bias_grads`` are filled.

        Raises:
            RuntimeError: if :meth:`forward` was never called.
            ValueError: for a ``y`` of another length or shape, or labels
                outside [0, layer_sizes[-1]).

        Example:
            >>> import numpy as np
            >>> from numba_act.model import NeuralNetworkModel
            >>> model = NeuralNetworkModel([3, 4, 2], ["relu", "softmax"], seed=0)
            >>> p = model.forward(np.zeros((2, 3)))  # 0.5 everywhere
            >>> model.backward(np.array([0, 0])).shape
            (2, 3)
            >>> model.bias_grads[1]  # sum over the batch of (p - y) / 2
            array([-0.5,  0.5], dtype=float32)
        """
        self._require_forward()
        self._loss_and_delta(self.layers[-1].output, y)
        return self._backward(input_grad=True)

    def train_step(self, X: np.ndarray, y: np.ndarray) -> float:
        """Make one optimizer update on the batch (X, y).

        Runs :meth:`forward`, the backward pass and one Adam or momentum
        step on all parameters, in the model's dtype; a compiled model
        (``compiled=True``) runs them in one call of its compiled function,
        which leaves the layers without this forward pass (a
        :meth:`backward` that follows raises RuntimeError).

        Args:
            X (array_like): shape (n, layer_sizes[0]).
            y (array_like): labels or targets, as in :meth:`backward`.

        Returns:
            float: the batch's mean loss before the update.

        Raises:
            ValueError: as :meth:`forward` and :meth:`loss`; for no samples.

        Example:
            >>> import numpy as np
            >>> from numba_act.model import NeuralNetworkModel
            >>> model = NeuralNetworkModel([3, 4, 2], ["relu", "softmax"], seed=0)
            >>> model.train_step(np.zeros((2, 3)), np.array([0, 0]))
            0.6931471805599453
            >>> np.round(model.biases[1], 4)  # Adam's first step: about 1e-3 each
            array([ 0.001, -0.001], dtype=float32)
        """
        X = self._input(X)
        if not len(X):
            raise ValueError("a training step needs at least one sample")
        if self.compiled:
            return self._train_compiled(X, y, np.arange(len(X)), len(X))
        loss = self._loss_and_delta(self.forward(X), y)
        self._backward(input_grad=False)
        self._optimizer.step(self.params, self.grads)
        return loss

    def _input(self, X):
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"X must have shape (n, {self.layer_sizes[0]}), got {X.shape}")
        return X

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
        n = out.shape[0]
        y, labels = self._targets(y, n)
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

    def _targets(self, y, n):
        """(y as an array, whether it holds labels), checked against a batch of ``n`` samples."""
        k = self.layer_sizes[-1]
        y = np.asarray(y)
        labels = y.ndim == 1 and y.dtype.kind in "iu"
        if labels:
            if y.shape[0] != n:
                raise ValueError(f"y has {y.shape[0]} labels for a batch of {n}")
            if n and (y.min() < 0 or y.max() >= k):
                raise ValueError(f"labels must lie in [0, {k}), got [{y.min()}, {y.max()}]")
        elif y.shape != (n, k):
            raise ValueError(f"y must hold {n} integer labels or have the output's shape {(n, k)}, got {y.shape}")
        return y, labels

    def _train_compiled(self, X, y, order, batch_size):
        """Train on the rows of (X, y) in ``order``, in batches of ``batch_size``, with the compiled path.

        Labels go in as integers (intp), targets as float64 rows, as the
        Python path computes with them; the mean loss is returned.
        """
        X = np.ascontiguousarray(self._input(X))
        y, labels = self._targets(y, X.shape[0])
        y = np.ascontiguousarray(y, dtype=np.intp if labels else np.float64)
        batch_size = min(batch_size, X.shape[0])
        if self._work is None or len(self._work[0]) < batch_size:
            self._work = _training.buffers(self.layer_sizes, batch_size, self.dtype)
        epoch = _training.epoch_function(
            tuple(REGISTRY[name] for name in self.activations),
            self.loss_name,
            self.activations[-1] == "log_softmax",
            labels,
            self._optimizer.update,
        )
        parts = (tuple(self.weights), tuple(self.biases), tuple(self.weight_grads), tuple(self.bias_grads))
        values = tuple(v for layer in self.layers for v in layer.params)
        optimizer, tiny = self._optimizer, np.finfo(self.dtype).tiny
        loss, optimizer.t = epoch(
            X,
            y,
            order,
            batch_size,
            *parts,
            self.params,
            self.grads,
            optimizer.t,
            optimizer.args,
            tiny,
            values,
            *self._work,
        )
        self._x = None  # the layers hold no forward pass of this batch
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

        Each epoch is :meth:`train_epoch`; the shuffling uses the model's
        generator, so the same ``seed`` gives the same training run.

        Args:
            X (array_like): shape (n, layer_sizes[0]).
            y (array_like): labels or targets, as in :meth:`backward`.
            epochs (int, keyword-only): passes over the data; default 10.
            batch_size (int, keyword-only): samples per step; default 32 (the
                last batch of an epoch may be smaller).
            on_epoch (callable | None, keyword-only): called as
                ``on_epoch(epoch, mean_loss, seconds)`` after each epoch
                (epochs count from 1; seconds is that epoch's training
                time); default None.

        Returns:
            list[float]: the mean loss of every epoch.

        Raises:
            ValueError: if X and y hold different numbers of samples, X
                holds none, or ``batch_size`` < 1.

        Example:
            >>> import numpy as np
            >>> from numba_act.model import NeuralNetworkModel
            >>> rng = np.random.default_rng(0)
            >>> X = rng.normal(size=(16, 3))
            >>> y = (X[:, 0] > 0).astype(np.int64)
            >>> model = NeuralNetworkModel([3, 4, 2], ["relu", "softmax"], seed=0)
            >>> epochs = []
            >>> losses = model.fit(X, y, epochs=2, batch_size=8, on_epoch=lambda e, loss, s: epochs.append(e))
            >>> len(losses), epochs
            (2, [1, 2])
        """
        X = np.asarray(X, dtype=self.dtype)
        y = np.asarray(y)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}")
        _check_batch_size(batch_size)
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
        """Make one shuffled pass over (X, y), one :meth:`train_step` per mini-batch.

        A compiled model (``compiled=True``) runs the whole pass in one call
        of its compiled function.  Unlike :meth:`fit`, it checks only what
        :meth:`train_step` checks.

        Args:
            X (array_like): shape (n, layer_sizes[0]).
            y (array_like): labels or targets, as in :meth:`backward`.
            batch_size (int): samples per step; default 32 (the last batch
                may be smaller).

        Returns:
            float: the mean of the batch losses (each before its update),
            weighted by batch size.

        Raises:
            ValueError: if ``batch_size`` < 1 or there are no samples; as :meth:`train_step`.

        Example:
            >>> import numpy as np
            >>> from numba_act.model import NeuralNetworkModel
            >>> rng = np.random.default_rng(0)
            >>> X = rng.normal(size=(8, 3))
            >>> y = (X[:, 0] > 0).astype(np.int64)
            >>> model = NeuralNetworkModel([3, 4, 2], ["relu", "softmax"], seed=0)
            >>> loss = model.train_epoch(X, y, batch_size=4)
            >>> isinstance(loss, float)
            True
        """
        _check_batch_size(batch_size)
        X = np.asarray(X, dtype=self.dtype)
        y = np.asarray(y)
        n = X.shape[0]
        if not n:
            raise ValueError("an epoch needs at least one sample")
        order = self.rng.permutation(n)
        if self.compiled:
            return self._train_compiled(X, y, order, batch_size)
        total = 0.0
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            total += self.train_step(X[batch], y[batch]) * len(batch)
        return total / n

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Return the predicted class of each row of ``X``, the argmax of the output.

        Runs :meth:`forward`; ties go to the lowest index.

        Args:
            X (array_like): shape (n, layer_sizes[0]).

        Returns:
            numpy.ndarray: integer class indices, shape (n,).

        Example:
            >>> import numpy as np
            >>> from numba_act.model import NeuralNetworkModel
            >>> model = NeuralNetworkModel([3, 4, 2], ["relu", "softmax"], seed=0)
            >>> model.predict(np.zeros((2, 3)))  # a tie: the first class
            array([0, 0])
        """
        return np.argmax(self.forward(X), axis=1)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> Evaluation:
        """Return the mean loss and the accuracy on (X, y).

        The loss is that of :meth:`loss`; a sample counts as correct when
        the output's argmax equals its label (for 2-d targets, the argmax of
        its target row).  Runs :meth:`forward`.

        Args:
            X (array_like): shape (n, layer_sizes[0]).
            y (array_like): labels or targets, as in :meth:`backward`.

        Returns:
            Evaluation: ``(loss, accuracy)``, both floats (nan for n = 0).

        Raises:
            ValueError: as :meth:`loss`.

        Example:
            >>> import numpy as np
            >>> from numba_act.model import NeuralNetworkModel
            >>> model = NeuralNetworkModel([3, 4, 2], ["relu", "softmax"], seed=0)
            >>> model.evaluate(np.zeros((2, 3)), np.array([0, 1]))
            Evaluation(loss=0.6931471805599453, accuracy=0.5)
        """
        out = self.forward(X)
        loss = self._loss_and_delta(out, y, want_delta=False)
        y = np.asarray(y)
        truth = y if y.ndim == 1 else np.argmax(y, axis=1)
        accuracy = float(np.mean(np.argmax(out, axis=1) == truth)) if len(truth) else math.nan
        return Evaluation(loss, accuracy)

    def profile_step(self, X: np.ndarray, y: np.ndarray, batch_size: int = 32, steps: int = 200) -> StepProfile:
        """Time a training step and the parts spent in activations and matrix products.

        Runs ``steps`` steps on a copy of the model, over consecutive full
        batches of (X, y) (cycling when needed), so this model is left as it
        was.  Two untimed steps come first, so that loading or compiling the
        kernels on their first use in a process is not counted.  The timers
        add well under a microsecond to every timed call.

        Args:
            X (array_like): shape (n, layer_sizes[0]).
            y (array_like): labels or targets, as in :meth:`backward`.
            batch_size (int): samples per step; default 32.  Samples after
                the last full batch are not used.
            steps (int): timed steps; default 200.

        Returns:
            StepProfile: mean seconds per step in all, in the activation
            layers (forward and backward) and in matrix products (nan for
            a compiled model, whose step is one call).

        Raises:
            ValueError: if X holds fewer than ``batch_size`` samples.

        Example:
            >>> import numpy as np
            >>> from numba_act.model import NeuralNetworkModel
            >>> rng = np.random.default_rng(0)
            >>> X = rng.normal(size=(8, 3))
            >>> y = (X[:, 0] > 0).astype(np.int64)
            >>> model = NeuralNetworkModel([3, 4, 2], ["relu", "softmax"], seed=0)
            >>> profile = model.profile_step(X, y, batch_size=4, steps=2)
            >>> profile.total > 0
            True
        """
        return _profile.step(self, X, y, batch_size, steps)


__all__ = ["OPTIMIZERS", "Evaluation", "NeuralNetworkModel", "StepProfile"]
