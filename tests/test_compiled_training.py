"""NeuralNetworkModel(compiled=True): the compiled training path makes the
updates of the Python path, keeps its checks, compiles once per
architecture (not per parameter value) and loads from the disk cache in a
new process."""

import copy
import os
import pickle
import sys

import numpy as np
import pytest
from conftest import run_python

from numba_act import _training
from numba_act.model import NeuralNetworkModel

pytest.importorskip("scipy")  # Numba's BLAS

LEAKY = ("leaky_relu", {"negative_slope": 0.2})

# (activations, targets, optimizer, dtype): every loss, target kind, optimizer
# and dtype, and activations with parameters.
CONFIGS = [
    pytest.param(("relu", "relu", "softmax"), "labels", "adam", np.float32, id="relu-relu-softmax"),
    pytest.param(("relu", "relu", "softmax"), "labels", "momentum", np.float64, id="momentum-float64"),
    pytest.param(
        (LEAKY, ("elu", {"alpha": 0.5}), "log_softmax"), "labels", "adam", np.float32, id="params-log_softmax"
    ),
    pytest.param(("gelu", "softmax"), "probabilities", "adam", np.float32, id="soft-targets"),
    pytest.param(("tanh", "sigmoid"), "probabilities", "adam", np.float64, id="mse"),
    pytest.param(("mish", "softplus"), "labels", "momentum", np.float32, id="mse-labels"),
]


def _problem(n_out, targets, n=45, n_in=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_in)).astype(np.float32)
    if targets == "labels":
        return X, rng.integers(0, n_out, n)
    y = rng.uniform(0, 1, (n, n_out))
    return X, y / y.sum(axis=1, keepdims=True)


def _pair(activations, optimizer="adam", dtype=np.float32, seed=0):
    sizes = [6, 9, 7, 4][: len(activations) + 1]
    kwargs = dict(seed=seed, optimizer=optimizer, dtype=dtype)
    return NeuralNetworkModel(sizes, activations, **kwargs), NeuralNetworkModel(
        sizes, activations, compiled=True, **kwargs
    )


def _assert_same(python, compiled, dtype):
    # The same updates, to rounding: the two paths call different BLAS builds.
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(compiled.params, python.params, rtol=tol, atol=tol * np.abs(python.params).max())
    np.testing.assert_allclose(compiled.grads, python.grads, rtol=1e-3, atol=tol * np.abs(python.grads).max())
    assert compiled._optimizer.t == python._optimizer.t


@pytest.mark.parametrize(("activations", "targets", "optimizer", "dtype"), CONFIGS)
def test_fit_makes_the_python_paths_updates(activations, targets, optimizer, dtype):
    python, compiled = _pair(activations, optimizer, dtype)
    X, y = _problem(python.layer_sizes[-1], targets)
    # 45 samples in batches of 8: five full batches and a last one of 5.
    losses = python.fit(X, y, epochs=3, batch_size=8)
    compiled_losses = compiled.fit(X, y, epochs=3, batch_size=8)
    np.testing.assert_allclose(compiled_losses, losses, rtol=1e-5)
    _assert_same(python, compiled, dtype)
    assert losses[-1] < losses[0]
    # one step, and the model it leaves, as the Python path's
    loss = python.train_step(X[:11], y[:11])
    assert compiled.train_step(X[:11], y[:11]) == pytest.approx(loss, rel=1e-5)
    _assert_same(python, compiled, dtype)
    np.testing.assert_allclose(compiled.forward(X), python.forward(X), rtol=1e-4, atol=1e-6)


def test_a_parameter_value_is_an_argument_not_a_new_function():
    first = NeuralNetworkModel([6, 5, 3], [LEAKY, "softmax"], seed=0, compiled=True)
    other = NeuralNetworkModel([6, 5, 3], [("leaky_relu", {"negative_slope": 0.01}), "softmax"], seed=0, compiled=True)
    X, y = _problem(3, "labels")
    before = len(_training._FUNCTIONS)
    first.train_step(X, y)
    other.train_step(X, y)
    assert len(_training._FUNCTIONS) <= before + 1
    assert not np.array_equal(first.params, other.params)  # the slope did reach the kernels
    python = NeuralNetworkModel([6, 5, 3], [LEAKY, "softmax"], seed=0)
    python.train_step(X, y)
    _assert_same(python, first, np.float32)


def test_buffers_are_made_once_and_grow_to_the_largest_batch():
    model = NeuralNetworkModel([6, 5, 3], ["relu", "softmax"], seed=0, compiled=True)
    X, y = _problem(3, "labels")
    model.fit(X, y, epochs=2, batch_size=8)
    work = model._work
    model.fit(X, y, epochs=1, batch_size=8)
    model.train_step(X[:5], y[:5])  # fewer rows: the same buffers
    assert model._work is work and len(work[0]) == 8
    model.train_step(X[:12], y[:12])
    assert len(model._work[0]) == 12


def test_checks_before_anything_changes():
    model = NeuralNetworkModel([6, 5, 3], ["relu", "softmax"], seed=0, compiled=True)
    X, y = _problem(3, "labels")
    params = model.params.copy()
    with pytest.raises(ValueError, match="shape"):
        model.train_step(X[:, :5], y)
    with pytest.raises(ValueError, match="labels must lie"):
        model.train_step(X, np.full(len(X), 3))
    with pytest.raises(ValueError, match="output's shape"):
        model.fit(X, np.ones((len(X), 4)), epochs=1)
    with pytest.raises(ValueError, match="samples"):
        model.fit(X, y[:-1], epochs=1)
    with pytest.raises(ValueError, match="at least one sample"):
        model.train_step(X[:0], y[:0])
    with pytest.raises(ValueError, match="at least one sample"):
        model.train_epoch(X[:0], y[:0])
    with pytest.raises(ValueError, match="batch_size"):
        model.train_epoch(X, y, 0)
    np.testing.assert_array_equal(model.params, params)
    assert model._optimizer.t == 0
    model.train_step(X, y)
    with pytest.raises(RuntimeError, match="forward"):  # the layers hold no forward pass of the compiled step
        model.backward(y)


def test_needs_the_numba_backend():
    with pytest.raises(ValueError, match="compiled=True needs activation_backend='numba'"):
        NeuralNetworkModel([4, 3], ["relu"], activation_backend="numpy", compiled=True)
    model = NeuralNetworkModel([4, 3], ["relu"], activation_backend="numpy")
    with pytest.raises(ValueError, match="compiled=True needs activation_backend='numba'"):
        model.compiled = True
    assert model.compiled is False


def test_without_scipy(monkeypatch):
    pickled = pickle.dumps(NeuralNetworkModel([4, 3], ["relu"], compiled=True))
    monkeypatch.setitem(sys.modules, "scipy", None)  # makes the import fail
    with pytest.raises(ImportError, match="pip install scipy"):
        NeuralNetworkModel([4, 3], ["relu"], compiled=True)
    with pytest.raises(ImportError, match="pip install scipy"):
        pickle.loads(pickled)


@pytest.mark.parametrize(
    "make_copy", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))], ids=["deepcopy", "pickle"]
)
def test_copies_train_like_the_original(make_copy):
    model = NeuralNetworkModel([6, 5, 3], ["tanh", "softmax"], seed=0, compiled=True)
    X, y = _problem(3, "labels")
    model.fit(X, y, epochs=1, batch_size=8)
    clone = make_copy(model)
    assert clone.compiled and repr(clone) == repr(model) and "compiled" in repr(model)
    model.fit(X, y, epochs=2, batch_size=8)
    clone.fit(X, y, epochs=2, batch_size=8)
    np.testing.assert_array_equal(clone.params, model.params)


def test_a_registered_activation_trains_compiled():
    # Registering changes the registry for the rest of the process (as in
    # test_register.py): the script runs in a fresh interpreter.
    code = f"""
        import sys
        import numba
        import numpy as np
        import numba_act as na
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        from test_compiled_training import _assert_same, _pair, _problem
        na.register(
            "cubic_for_compiled_training",
            numba.njit(lambda x: x * x * x / 3),
            numba.njit(lambda z, a: z * z),
            formula="x^3 / 3",
        )
        python, compiled = _pair(("cubic_for_compiled_training", "softmax"))
        X, y = _problem(7, "labels")
        python.fit(X, y, epochs=1, batch_size=8)
        compiled.fit(X, y, epochs=1, batch_size=8)
        _assert_same(python, compiled, np.float32)
    """
    run_python(code)


def test_a_new_process_loads_the_compiled_epoch_from_the_cache(tmp_path):
    code = """
        import numpy as np
        from numba_act import _training
        from numba_act.model import NeuralNetworkModel
        model = NeuralNetworkModel([6, 5, 3], ["relu", "softmax"], seed=0, compiled=True)
        model.fit(np.ones((10, 6)), np.zeros(10, np.int64), epochs=1, batch_size=4)
        (epoch,) = _training._FUNCTIONS.values()
        print(sum(epoch.stats.cache_hits.values()), sum(epoch.stats.cache_misses.values()))
    """
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = []
    for _ in range(2):
        runs.append(tuple(map(int, run_python(code, env).split())))
    assert runs == [(0, 1), (1, 0)]


def test_a_model_pickled_before_compiled_existed_unpickles_as_the_python_path():
    model = NeuralNetworkModel([6, 5, 3], ["tanh", "softmax"], seed=0)
    state = pickle.loads(pickle.dumps(model.__getstate__()))  # its own arrays
    del state["_compiled"]
    old = NeuralNetworkModel.__new__(NeuralNetworkModel)
    old.__setstate__(state)
    assert old.compiled is False
    X, y = _problem(3, "labels")
    assert old.train_step(X, y) == model.train_step(X, y)
