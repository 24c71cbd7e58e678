"""The fast tier, numba_act.fast: every name of numba_act, by name and
inside @njit, registered activations in both tiers, pickling.  Its accuracy
is tested with the default tier's, against its own bounds (FAST_CASES in
test_elementwise.py and test_accuracy_edges.py, the exhaustive float32
checks in test_accuracy.py)."""

import pickle

import numpy as np
import pytest
from conftest import FAST_CASES
from numba import njit, prange
from test_elementwise import _dense_grid

import numba_act
import numba_act.fast as fast
from numba_act import REGISTRY, _math
from numba_act._tiers import FAST


def test_every_public_name_is_in_the_fast_tier():
    for name in numba_act.__all__:
        assert hasattr(fast, name), name
    assert set(numba_act.__all__) <= set(fast.__all__)
    assert numba_act.fast is fast
    with pytest.raises(AttributeError):
        fast.no_such_activation  # noqa: B018


def test_only_entries_built_on_a_swapped_primitive_are_rebuilt():
    rebuilt = {case.name for case in FAST_CASES}
    assert {"sigmoid", "silu", "gelu_tanh"} <= rebuilt
    for name, entry in REGISTRY.items():
        tiered = fast.entries[name]
        if name in rebuilt:
            assert tiered is not entry and tiered.tier is FAST
            assert (tiered.name, tiered.params, tiered.rowwise) == (entry.name, entry.params, entry.rowwise)
            assert getattr(fast, name) is tiered.forward if entry.public else True
        else:  # the very entry, compiled code and all
            assert tiered is entry
    assert fast.swish is fast.silu and fast.relu is numba_act.relu
    assert len(fast.REGISTRY) == len(REGISTRY) and list(fast.ACTIVATIONS) == list(REGISTRY)


def test_the_swap_takes_effect():
    assert FAST.swaps == {_math.ratio_of_one_plus: _math.ratio_of_one_plus_fast}
    x = np.linspace(-30, 30, 10_001)
    assert (fast.sigmoid(x) != numba_act.sigmoid(x)).sum() > 100  # the dropped correction
    np.testing.assert_array_equal(fast.relu(x), numba_act.relu(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_by_name_from_python_and_njit(dtype):
    z = np.linspace(-8, 8, 101).astype(dtype)
    g = np.cos(z).astype(dtype)

    @njit
    def step(z, g):
        a = fast.activation_forward(z, "silu")
        out = np.empty_like(z)
        fast.activation_backward(z, a, "silu", grad=g, out=out)
        return a, out, fast.activation_forward(z, "softplus", beta=2.0), fast.gelu(z, approximate="tanh")

    a, dz, sp, gt = step(z, g)
    np.testing.assert_array_equal(a, fast.silu(z))
    np.testing.assert_array_equal(a, fast.activation_forward(z, "swish"))
    np.testing.assert_array_equal(dz, fast.entries["silu"].vjp(z, a, g))
    np.testing.assert_array_equal(dz, fast.activation_backward(z, a, "silu", grad=g))
    np.testing.assert_array_equal(sp, fast.softplus(z, beta=2.0))
    np.testing.assert_array_equal(gt, fast.gelu_tanh(z))
    assert a.dtype == dz.dtype == sp.dtype == dtype
    with pytest.raises(ValueError, match="unknown activation"):
        fast.activation_forward(z, "no_such")


def test_scalars_in_a_prange_loop():
    @njit(parallel=True)
    def each(x):
        out = np.empty_like(x)
        for i in prange(x.size):
            out[i] = fast.sigmoid(x[i])
        return out

    x = np.linspace(-20, 20, 1001).astype(np.float32)
    np.testing.assert_array_equal(each(x), fast.sigmoid(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_bounded_and_steps_back_within_its_bound(dtype):
    # Not monotone to the last ulp (the documented difference from numba_act's),
    # but in [0, 1] and never stepping back by more than the tier's bound allows.
    x = _dense_grid(dtype)  # walks of consecutive floats, and +-inf
    s = fast.sigmoid(x)
    assert (s >= 0).all() and (s <= 1).all() and s[0] == 0 and s[-1] == 1
    back = np.diff(s) < 0
    assert back.any()  # what the docs warn of
    steps = -np.diff(s)[back] / np.spacing(s[1:][back])
    assert steps.max() <= 2 * FAST.ulp[np.dtype(dtype).name]


def test_the_rules_of_every_call_hold():
    x = np.array([-np.inf, -1.0, -0.0, 0.0, np.nan, np.inf], np.float32)
    out = np.empty_like(x)
    assert fast.sigmoid(x, out=out) is out
    np.testing.assert_array_equal(out, numba_act.sigmoid(x))  # the special values are the default tier's
    y = x.copy()
    fast.silu(y, out=y)
    np.testing.assert_array_equal(y, fast.silu(x))
    assert np.signbit(fast.silu(np.float32(-0.0)))
    assert fast.sigmoid([1, 2]).dtype == np.float64
    with pytest.raises(ValueError):
        fast.sigmoid(x, out=np.empty(3, np.float32))


def test_registered_activations_are_in_both_tiers():
    @njit(inline="always")
    def square(x):
        return x * x

    @njit(inline="always")
    def square_derivative(z, a):
        return type(z)(2.0) * z

    f = numba_act.register("fast_tier_square", square, square_derivative)
    assert fast.entries["fast_tier_square"] is REGISTRY["fast_tier_square"]
    z = np.array([1.0, -3.0])
    np.testing.assert_array_equal(fast.activation_forward(z, "fast_tier_square"), f(z))

    @njit
    def by_name(z):
        return fast.activation_backward(z, None, "fast_tier_square", grad=np.ones_like(z))

    np.testing.assert_array_equal(by_name(z), 2 * z)


def test_fast_functions_pickle_by_reference():
    for function in (fast.sigmoid, fast.entries["silu"].vjp, fast.activation_forward, fast.gelu):
        assert pickle.loads(pickle.dumps(function)) is function
    op = fast.entries["sigmoid"].ops.forward
    assert pickle.loads(pickle.dumps(op)) is op
    assert fast.sigmoid.__module__ == "numba_act.fast" and "4 ulp" in fast.sigmoid.__doc__
