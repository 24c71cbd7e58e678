"""The public API surface of numba_act: the names in ``__all__``, the seed's
examples, EPS, the ACTIVATIONS table, the seed's two derivative helpers,
gelu's ``approximate``, Python scalars giving NumPy scalars, pickling,
help() and a spawned pool.

The helpers below (every public function of one array argument, and a call
that checks its input was left alone) are shared with test_out.py,
test_dtypes_and_layouts.py and test_threads.py.
"""

import functools
from collections.abc import Mapping

import numpy as np
import pytest
from conftest import assert_unchanged, case, sampled, snapshot

import numba_act
from numba_act import REGISTRY, reference
from numba_act.registry import REQUIRED


def _required(name):
    return any(p.default is REQUIRED for p in REGISTRY[name].params)


# Every public function of one array argument: the registry's names (one with
# required parameters, threshold, with the test table's values bound), plus
# the seed's two derivative helpers.
UNARY = {
    name: functools.partial(getattr(numba_act, name), **case(name).named)
    if _required(name)
    else getattr(numba_act, name)
    for name in REGISTRY
}
UNARY["sigmoid_derivative_from_activation"] = numba_act.sigmoid_derivative_from_activation
UNARY["relu_derivative_from_pre_activation"] = numba_act.relu_derivative_from_pre_activation


def unary_param(name, *values, id=None):
    """``pytest.param(name, *values)``: an activation outside conftest's SAMPLE runs under
    ``-m slow``; the derivative helpers always run."""
    if name in REGISTRY:
        return sampled(name, name, *values, id=id)
    return pytest.param(name, *values, id=id or name)


unary = pytest.mark.parametrize("name", [unary_param(name) for name in UNARY])


def base_array(dtype):
    """A (4, 6) C-contiguous array with values across the interesting range."""
    return np.linspace(-7.5, 6.0, 24).reshape(4, 6).astype(dtype)


def call_checked(name, x, **kwargs):
    """Call a public function and check that it left its input alone."""
    before = snapshot(x)
    result = UNARY[name](x, **kwargs)
    assert_unchanged(before)
    return result


# ------------------------------------------------------------ names, seed


PUBLIC_NAMES = (
    "sigmoid relu softmax tanh leaky_relu elu gelu gelu_tanh silu softplus log_softmax "
    "sigmoid_derivative_from_activation relu_derivative_from_pre_activation "
    "activation_forward activation_backward EPS ACTIVATIONS"
).split()


def test_public_names():
    for name in PUBLIC_NAMES:
        assert name in numba_act.__all__
        assert getattr(numba_act, name) is not None
    for entry in REGISTRY.values():
        assert callable(getattr(numba_act, entry.name))


def test_seed_examples():
    np.testing.assert_allclose(numba_act.sigmoid(np.array([[1.0, -2.0, 3.0]])), [[0.731, 0.119, 0.953]], atol=5e-4)
    np.testing.assert_array_equal(numba_act.relu(np.array([[-1.0, 0.0, 2.0]])), [[0.0, 0.0, 2.0]])
    probs = numba_act.softmax(np.array([[2.0, 1.0, 0.1]]))
    np.testing.assert_allclose(probs, [[0.659, 0.242, 0.099]], atol=5e-4)
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=0, atol=4e-16)
    z = np.array([[1.0, -1.0, 2.0]])
    a = numba_act.activation_forward(z, "relu")
    np.testing.assert_array_equal(a, [[1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(numba_act.activation_backward(z, a, "relu"), [[1.0, 0.0, 1.0]])
    x = np.random.default_rng(0).normal(size=(32, 10)).astype(np.float32)
    out = numba_act.activation_forward(x, "softmax")
    assert out.shape == (32, 10) and out.dtype == np.float32
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=0, atol=4 * np.finfo(np.float32).eps)


def test_eps():
    assert isinstance(numba_act.EPS, float)
    assert numba_act.EPS == reference.EPS
    assert 0 < numba_act.EPS < 1e-6


def test_activations_table():
    table = numba_act.ACTIVATIONS
    assert isinstance(table, Mapping)
    assert list(table) == list(REGISTRY)
    assert {"sigmoid", "relu", "softmax"} <= set(table)
    z = np.linspace(-3, 3, 13).reshape(1, 13)
    for name, pair in table.items():
        assert set(pair) == {"forward", "backward"}
        if _required(name):  # as the seed's dict calls it, with no parameters
            with pytest.raises(TypeError, match="missing"):
                pair["forward"](z)
            continue
        a = pair["forward"](z)
        np.testing.assert_array_equal(a, UNARY[name](z))
        np.testing.assert_array_equal(pair["backward"](z, a), numba_act.activation_backward(z, a, name))
    # the seed's three backward rules
    a = table["sigmoid"]["forward"](z)
    np.testing.assert_allclose(table["sigmoid"]["backward"](z, a), a * (1 - a), rtol=2e-16, atol=0)
    np.testing.assert_array_equal(table["relu"]["backward"](z, table["relu"]["forward"](z)), (z > 0).astype(float))
    a = table["softmax"]["forward"](z)
    np.testing.assert_array_equal(table["softmax"]["backward"](z, a), np.ones_like(a))


def test_sigmoid_derivative_from_activation(dtype):
    a = np.array([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0, np.nan], dtype)
    got = numba_act.sigmoid_derivative_from_activation(a)
    assert got.dtype == dtype
    expected = a.astype(np.float64) * (1 - a.astype(np.float64))
    np.testing.assert_allclose(got, expected, rtol=2 * np.finfo(dtype).eps, atol=0)


def test_relu_derivative_from_pre_activation(dtype):
    z = np.array([-np.inf, -1.0, -1e-30, -0.0, 0.0, 1e-30, 2.0, np.inf, np.nan], dtype)
    got = numba_act.relu_derivative_from_pre_activation(z)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.array([0, 0, 0, 0, 0, 1, 1, 1, np.nan], dtype))


def test_gelu_approximate(dtype):
    x = base_array(dtype)
    exact, tanh_form = REGISTRY["gelu"].forward(x), REGISTRY["gelu_tanh"].forward(x)
    assert not np.array_equal(exact, tanh_form)
    np.testing.assert_array_equal(numba_act.gelu(x), exact)
    np.testing.assert_array_equal(numba_act.gelu(x, approximate="none"), exact)
    np.testing.assert_array_equal(numba_act.gelu(x, "none"), exact)
    np.testing.assert_array_equal(numba_act.gelu(x, approximate="tanh"), tanh_form)
    np.testing.assert_array_equal(numba_act.gelu(x, "tanh"), tanh_form)
    np.testing.assert_array_equal(numba_act.gelu_tanh(x), tanh_form)
    out = np.empty_like(x)
    assert numba_act.gelu(x, approximate="tanh", out=out) is out
    np.testing.assert_array_equal(out, tanh_form)


# ------------------------------------------------------------ scalars


@unary
def test_python_scalars_give_numpy_scalars(name, dtype):
    for value, result_dtype in ((1.5, np.float64), (-2, np.float64), (True, np.float64), (dtype(0.75), dtype)):
        result = call_checked(name, value)
        assert isinstance(result, np.generic) and result.dtype == result_dtype, (value, type(result))
        assert result == call_checked(name, np.array([value], result_dtype))[0]


# ---------------------------------------------- pickling, help, processes


def _public_callables():
    """Every public callable: the package's functions, the ACTIVATIONS
    entries and every function of every registry entry."""
    found = {name: getattr(numba_act, name) for name in numba_act.__all__ if callable(getattr(numba_act, name))}
    for name, entry in REGISTRY.items():
        for part in ("forward", "derivative", "vjp", "reference", "reference_derivative", "reference_vjp"):
            found[f"REGISTRY[{name!r}].{part}"] = getattr(entry, part)
        for part, kernels in entry.ops._asdict().items():
            if kernels is not None:
                found[f"REGISTRY[{name!r}].ops.{part}"] = kernels
        for pass_, function in numba_act.ACTIVATIONS[name].items():
            found[f"ACTIVATIONS[{name!r}][{pass_!r}]"] = function
    return found


PUBLIC_CALLABLES = _public_callables()


@pytest.mark.parametrize("name", list(PUBLIC_CALLABLES))
def test_public_callables_pickle_by_reference(name):
    import pickle

    function = PUBLIC_CALLABLES[name]
    assert pickle.loads(pickle.dumps(function)) is function


@pytest.mark.parametrize("name", [n for n in numba_act.__all__ if callable(getattr(numba_act, n))])
def test_help_names_the_package(name):
    import pydoc

    function = getattr(numba_act, name)
    assert function.__module__ == "numba_act"
    assert pydoc.render_doc(function).splitlines()[0].endswith(" in module numba_act")


def test_a_spawned_pool_maps_a_public_function():
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(numba_act.sigmoid, [0.0, 1.0])
    assert results == [numba_act.sigmoid(0.0), numba_act.sigmoid(1.0)]
