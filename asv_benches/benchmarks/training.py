"""One training step of the network of ``python -m numba_act`` (64-128-64-10,
relu, relu, softmax, cross-entropy, Adam, float32), at batch 32 and 256:
``compiled`` is ``NeuralNetworkModel(compiled=True)``, the whole step in one
``@njit`` function; ``python`` the Python path with numba_act's activations;
``numpy`` the Python path with the NumPy reference activations.  Each
timed call is ``train_epoch`` over ``STEPS`` batches, as ``fit`` runs them
(the batch gathered from shuffled rows, then the step); divide by ``STEPS``
for one step.  The data are random pixels and labels."""

import numpy as np

from .common import Timing, cached, one_thread

STEPS = 8
SIZES = (64, 128, 64, 10)
ACTIVATIONS = ("relu", "relu", "softmax")


def _model(kind, batch):
    from numba_act.model import NeuralNetworkModel

    options = {"compiled": True} if kind == "compiled" else {}
    if kind == "numpy":
        options["activation_backend"] = "numpy"
    try:
        model = NeuralNetworkModel(SIZES, ACTIVATIONS, seed=0, **options)
    except TypeError:  # a commit before the compiled training step
        raise NotImplementedError from None
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (STEPS * batch, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], len(X))
    model.train_epoch(X, y, batch)  # compile or load from the cache, allocate the buffers
    return model, X, y


class TrainingStep(Timing):
    params = [["compiled", "python", "numpy"], [32, 256]]
    param_names = ["path", "batch"]

    def setup(self, path, batch):
        one_thread()
        self.model, self.X, self.y = cached(("training", path, batch), lambda: _model(path, batch))
        self.batch = batch

    def time_steps(self, path, batch):
        self.model.train_epoch(self.X, self.y, self.batch)
