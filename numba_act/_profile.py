"""How a training step's time divides: :class:`StepProfile` and the timing
behind :meth:`numba_act.model.NeuralNetworkModel.profile_step`."""

import copy
import math
from time import perf_counter
from typing import NamedTuple

import numpy as np


class StepProfile(NamedTuple):
    """Mean seconds per training step, as returned by :meth:`NeuralNetworkModel.profile_step`.

    Attributes:
        total (float): seconds per training step.
        activations (float): the part spent in the activation layers'
            forward and backward passes.
        matmul (float): the part spent in matrix products.

    Example:
        >>> from numba_act.model import StepProfile
        >>> StepProfile(total=3.0, activations=1.0, matmul=0.5).other
        1.5
    """

    total: float
    activations: float
    matmul: float

    @property
    def other(self) -> float:
        """Seconds per step in the rest: bias additions, loss, optimizer update and Python overhead.

        ``other = total - activations - matmul``.
        """
        return self.total - self.activations - self.matmul


def step(model, X, y, batch_size, steps):
    """:meth:`NeuralNetworkModel.profile_step` of ``model`` (see there)."""
    X = np.asarray(X, dtype=model.dtype)
    y = np.asarray(y)
    starts = range(0, X.shape[0] - batch_size + 1, batch_size)
    if not starts:
        raise ValueError(f"profile_step needs at least one full batch of {batch_size} samples")
    clone = copy.deepcopy(model)
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
    for i in range(steps):
        clone.train_step(*batches[i % len(batches)])
    total = perf_counter() - start
    if model.compiled:  # one compiled call: its parts are not timed apart
        return StepProfile(total / steps, math.nan, math.nan)
    return StepProfile(total / steps, spent["activations"] / steps, spent["matmul"] / steps)
