"""One training step of a fully connected network, timed side by side.

The network of ``python -m numba_act`` (64-128-64-10, relu, relu, softmax,
cross-entropy, Adam with learning rate 1e-3, float32) trained in
mini-batches by:

- ``numba_act, compiled``: ``NeuralNetworkModel(compiled=True)``, the whole
  step in one ``@njit`` function;
- ``numba_act, Python path``: ``NeuralNetworkModel()``, one call per layer and pass;
- ``NumPy activations, Python path``: the same with ``activation_backend="numpy"``;
- ``PyTorch, eager``: ``nn.Sequential`` of ``Linear`` and ``ReLU``,
  ``CrossEntropyLoss`` and ``torch.optim.Adam``, when torch is installed;
- ``JAX, jax.jit``: the same network, loss and Adam as one ``jax.jit``
  step function, when jax is installed.

Each numba_act model runs :meth:`~numba_act.model.NeuralNetworkModel.train_epoch`
over ``steps`` batches (as ``fit`` does: the batch gathered from shuffled
rows, then the step); torch and jax step over the same batches, sliced in
advance.  Every library runs on one thread, the process pinned to one core
(see :mod:`numba_act.bench`); rounds alternate between the libraries, and
each keeps its fastest round, so that a busy machine slows all alike.
"""

from __future__ import annotations

from time import perf_counter

import numpy as np

SIZES = (64, 128, 64, 10)
ACTIVATIONS = ("relu", "relu", "softmax")
LEARNING_RATE = 1e-3

LABELS = {
    "compiled": "numba_act, compiled",
    "python": "numba_act, Python path",
    "numpy": "NumPy activations, Python path",
    "torch": "PyTorch, eager",
    "jax": "JAX, jax.jit",
}


def _numba_act(kind, X, y, batch_size, steps, seed):
    from numba_act.model import NeuralNetworkModel

    model = NeuralNetworkModel(
        SIZES,
        ACTIVATIONS,
        seed=seed,
        compiled=kind == "compiled",
        activation_backend="numpy" if kind == "numpy" else "numba",
    )
    model.train_epoch(X[: 2 * batch_size], y[: 2 * batch_size], batch_size)  # compile or load, allocate

    def run():
        model.train_epoch(X, y, batch_size)

    return run


def _torch(X, y, batch_size, steps, seed):
    import torch

    torch.manual_seed(seed)
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    batches = [
        (torch.from_numpy(X[i : i + batch_size]), torch.from_numpy(y[i : i + batch_size].astype(np.int64)))
        for i in range(0, steps * batch_size, batch_size)
    ]

    def run():
        for xb, yb in batches:
            optimizer.zero_grad()
            loss_fn(net(xb), yb).backward()
            optimizer.step()

    run()
    return run


def _jax(X, y, batch_size, steps, seed):
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(seed)
    params = [
        (jnp.asarray(rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out)), jnp.float32), jnp.zeros(n_out, jnp.float32))
        for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True)
    ]
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def loss(params, xb, yb):
        a = xb
        for W, b in params[:-1]:
            a = jax.nn.relu(a @ W + b)
        W, b = params[-1]
        log_p = jax.nn.log_softmax(a @ W + b)
        return -jnp.mean(jnp.take_along_axis(log_p, yb[:, None], axis=1))

    @jax.jit
    def step(params, m, v, t, xb, yb):
        grads = jax.grad(loss)(params, xb, yb)
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, g: beta1 * m + (1 - beta1) * g, m, grads)
        v = jax.tree_util.tree_map(lambda v, g: beta2 * v + (1 - beta2) * g * g, v, grads)
        size = LEARNING_RATE * jnp.sqrt(1 - beta2**t) / (1 - beta1**t)
        params = jax.tree_util.tree_map(lambda p, m, v: p - size * m / (jnp.sqrt(v) + eps), params, m, v)
        return params, m, v, t

    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    state = [params, zeros, zeros, jnp.float32(0)]
    batches = [
        (jnp.asarray(X[i : i + batch_size]), jnp.asarray(y[i : i + batch_size].astype(np.int32)))
        for i in range(0, steps * batch_size, batch_size)
    ]

    def run():
        for xb, yb in batches:
            state[:] = step(*state, xb, yb)
        jax.block_until_ready(state)

    run()
    return run


def _make(kind, X, y, batch_size, steps, seed):
    """The run() of one implementation, or None where its library is not installed."""
    try:
        if kind in ("compiled", "python", "numpy"):
            return _numba_act(kind, X, y, batch_size, steps, seed)
        return (_torch if kind == "torch" else _jax)(X, y, batch_size, steps, seed)
    except ImportError:
        return None


def step_times(X, y, batch_size=32, steps=40, rounds=5, kinds=tuple(LABELS), seed=0):
    """Seconds per training step of each implementation, timed side by side.

    Args:
        X, y: float32 samples of 64 features and their labels in [0, 10);
            rows are reused in order when there are fewer than
            ``batch_size * steps``.
        batch_size: samples per step.
        steps: steps per timed round.
        rounds: timed rounds, alternating between the implementations.
        kinds: keys of :data:`LABELS` to time.
        seed: for the initial weights.

    Returns:
        dict: ``{kind: seconds per step}`` (the fastest round's mean), with
        None for an implementation whose library is not installed.

    Call it within ``numba_act.bench._thread_mode("one")`` to hold every
    library to one thread on one core.
    """
    rows = np.arange(batch_size * steps) % len(X)
    X, y = np.ascontiguousarray(X[rows], dtype=np.float32), np.asarray(y)[rows]
    runs = {kind: _make(kind, X, y, batch_size, steps, seed) for kind in kinds}
    best = {kind: None if run is None else np.inf for kind, run in runs.items()}
    for _ in range(rounds):
        for kind, run in runs.items():
            if run is not None:
                start = perf_counter()
                run()
                best[kind] = min(best[kind], (perf_counter() - start) / steps)
    return best


def digits():
    """scikit-learn's digits as (float32 pixels scaled to [0, 1], labels); ImportError without scikit-learn."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.data / 16.0).astype(np.float32), data.target
