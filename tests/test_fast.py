"""The fast tier, numba_act.fast: every name of numba_act, by name and
inside @njit, registered activations in both tiers, pickling.  Its accuracy
is tested with the default tier's, against its own bounds (FAST_CASES in
test_elementwise.py and test_accuracy_edges.py, the exhaustive float32
checks in test_accuracy.py)."""

import pickle
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import FAST_CASES, assert_ulp_close, run_python
from numba import njit, prange
from test_elementwise import _dense_grid

import numba_act
import numba_act.fast as fast
from numba_act import REGISTRY, _math, _normal
from numba_act._tiers import FAST, Tier


def test_every_public_name_is_in_the_fast_tier():
    for name in numba_act.__all__:
        assert hasattr(fast, name), name
    assert set(numba_act.__all__) <= set(fast.__all__)
    assert numba_act.fast is fast
    with pytest.raises(AttributeError):
        fast.no_such_activation  # noqa: B018


# The entries whose kernels call a swapped primitive, however deep:
# ratio_of_one_plus (sigmoid's own, x_sigmoid: silu and gelu_tanh in
# float64, the logistic parts of tanh's, softplus's and log_sigmoid's),
# x_sigmoid_for_f32 and gelu_tanh_t_for_f32 (silu and gelu_tanh in
# float32), x_normal_tail_for_f32 (gelu in float32) and exp_prescaled (celu's derivative in float64, the softmax
# family's exps).
REBUILT_ELEMENTWISE = {"sigmoid", "tanh", "silu", "softplus", "gelu", "gelu_tanh", "log_sigmoid", "celu"}
REBUILT = REBUILT_ELEMENTWISE | {"softmax", "log_softmax", "softmin"}


def test_exactly_the_entries_built_on_a_swapped_primitive_are_rebuilt():
    assert {case.name for case in FAST_CASES} == REBUILT_ELEMENTWISE
    for name, entry in REGISTRY.items():
        tiered = fast.entries[name]
        if name in REBUILT:
            assert tiered is not entry and tiered.tier is FAST and FAST.entry(tiered) is tiered
            assert (tiered.name, tiered.params, tiered.rowwise) == (entry.name, entry.params, entry.rowwise)
            assert tiered.ops.forward.name == f"{name}@fast"
        else:  # the very entry, compiled code and all
            assert tiered is entry
    assert fast.swish is fast.silu and fast.relu is numba_act.relu and fast.sigmoid is fast.entries["sigmoid"].forward
    assert len(fast.REGISTRY) == len(REGISTRY) and list(fast.ACTIVATIONS) == list(REGISTRY)
    for name in ("ActivationFunction", "public_functions", "fast", "no_such_activation"):
        assert not hasattr(fast, name)


def test_the_swaps_reach_every_rebuilt_entry():
    # Each rebuilt entry computes something differently somewhere: its
    # forward pass or its derivative from z, in float32 or float64.
    x = np.linspace(-30, 30, 60_001)
    rng = np.random.default_rng(1)
    for name in REBUILT:
        default, tiered = REGISTRY[name], fast.entries[name]
        differ = False
        # celu's derivative differs only where z / alpha is inexact
        params = {"params": (0.7,)} if name == "celu" else {}
        for z in (x.astype(np.float32), x):
            # log_softmax differs only by exp's low part in log(sum), seen where it is small: short rows.
            z = rng.permutation(z[:60_000]).reshape(-1, 3) / 10 if default.rowwise else z
            differ |= not np.array_equal(default.forward(z), tiered.forward(z))
            derivatives = (e.call_derivative(z, None, **params) for e in (default, tiered))
            differ |= not np.array_equal(*derivatives)
        assert differ, name
    assert FAST.swaps == {
        _math.ratio_of_one_plus: _math.ratio_of_one_plus_fast,
        _math.x_sigmoid_for_f32: _math.x_sigmoid_for_f32_fast,
        _math.gelu_tanh_t_for_f32: _math.gelu_tanh_t_for_f32_fast,
        _math.exp_prescaled: _math.exp_prescaled_fast,
        _normal.x_normal_tail_for_f32: _normal.x_normal_tail_for_f32_fast,
    }
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


@pytest.mark.parametrize("name", sorted(REBUILT_ELEMENTWISE))
def test_float32_within_the_bound_on_a_dense_sweep(name):
    # Every 601st float32 in [-20, 20] (3.7 million inputs, a finer net than
    # the shared tests' samples) against numba_act's float64 results, whose
    # errors lie far below a float32 ulp (the slow step takes every input of
    # those on test_accuracy.py's exhaustive list).
    x = np.arange(0, 0x41A00000, 601, dtype=np.int32).view(np.float32)
    x = np.concatenate([-x, x])
    expected = REGISTRY[name].forward(x.astype(np.float64))
    assert_ulp_close(fast.entries[name].forward(x), expected, np.float32, FAST.ulp["float32"], x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sigmoid", "silu"])
def test_monotone_functions_step_back_at_most_two_ulp(name, dtype):
    # Not monotone to the last ulp, the documented difference from numba_act's
    # sigmoid (and silu beyond its minimum): an ulp or two at most.
    x = _dense_grid(dtype)  # walks of consecutive floats, and +-inf
    x = x[x > -1.2784645427610738] if name == "silu" else x  # silu rises from its minimum
    s = getattr(fast, name)(x)
    if name == "sigmoid":
        assert (s >= 0).all() and (s <= 1).all() and s[0] == 0 and s[-1] == 1
    back = np.diff(s) < 0
    steps = -np.diff(s)[back] / np.spacing(np.abs(s[1:][back]))
    assert steps.size == 0 or steps.max() <= 2


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


@pytest.mark.parametrize("tier", [numba_act, fast], ids=["default", "fast"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_signs_of_zero(tier, dtype):
    # 0.0 for a row of one element, whose exact value is 0; -0.0 where a
    # negative value rounds to 0 (float32 beside a term of e**-200).  Beside
    # -inf entries no rule gives the sign (tests/test_accuracy_edges.py).
    got = tier.log_softmax(np.array([[5.0]], dtype))
    assert got == 0 and not np.signbit(got)
    got = tier.log_softmax(np.array([0.0, -200.0], dtype))
    assert got[1] == -200 and np.signbit(got[0]) and -1e-86 < float(got[0]) <= 0, got
    # A sum of the other terms near e**-745: float64's result is the smallest subnormal, negative.
    for row in ([0.0, -744.4], [745.0, 0.0], [746.0, 0.0, 0.0, 0.0, 0.0]):
        got = tier.log_softmax(np.array(row, dtype))
        expected = -5e-324 if np.dtype(dtype) == np.float64 else 0.0
        assert got[0] == expected and np.signbit(got[0]), (row, got)
    # Other terms whose sum underflows in both types (short rows and long): still -0.0.
    for row in ([0.0, -1000.0], [5.0, -1000.0, -2000.0], [-3.0] + [-800.0] * 199):
        got = tier.log_softmax(np.array(row, dtype))
        assert got[0] == 0 and np.signbit(got[0]), (row, got)
    got = tier.log_softmax(np.array([-np.inf, 3.0, -np.inf], dtype))
    np.testing.assert_array_equal(got, [-np.inf, 0.0, -np.inf])


# Registering changes the registry for the rest of the process (as in
# test_register.py): these tests run their scripts in a fresh interpreter.
_REGISTERING = """
import pickle
import numpy as np
from numba import njit
import numba_act
import numba_act.fast as fast
from numba_act import REGISTRY
"""


def _in_a_fresh_process(body):
    run_python(_REGISTERING + textwrap.dedent(body))


def test_registered_activations_are_in_both_tiers():
    _in_a_fresh_process(
        """
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
        """
    )


def test_fast_functions_pickle_by_reference():
    for function in (fast.sigmoid, fast.entries["silu"].vjp, fast.activation_forward, fast.gelu):
        assert pickle.loads(pickle.dumps(function)) is function
    op = fast.entries["sigmoid"].ops.forward
    assert pickle.loads(pickle.dumps(op)) is op
    assert pickle.loads(pickle.dumps(REGISTRY["sigmoid"])).tier is REGISTRY["sigmoid"].tier
    assert fast.sigmoid.__module__ == "numba_act.fast" and "4 ulp" in fast.sigmoid.__doc__


def test_fast_functions_and_ops_unpickle_in_a_fresh_process():
    # A process that has built nothing of the fast tier (a dask worker, say).
    x = np.linspace(-5, 5, 11)
    sent = pickle.dumps((fast.sigmoid, fast.entries["silu"].ops.vjp, fast.entries["tanh"].vjp, x))
    code = (
        "import pickle, sys\n"
        "f, op, vjp, x = pickle.loads(sys.stdin.buffer.read())\n"
        "sys.stdout.buffer.write(pickle.dumps((f(x), op.new(x, x, x), vjp(x, x, x))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], input=sent, capture_output=True, check=True)
    got = pickle.loads(done.stdout)
    np.testing.assert_array_equal(got[0], fast.sigmoid(x))
    np.testing.assert_array_equal(got[1], fast.entries["silu"].ops.vjp.new(x, x, x))
    np.testing.assert_array_equal(got[2], fast.entries["tanh"].vjp(x, x, x))


def test_one_entry_per_name_whatever_the_threads():
    tier = Tier("threaded", FAST.swaps, "numba_act.fast", FAST.ulp, FAST.row_ulp)  # nothing built yet
    names = sorted(REBUILT)
    start = threading.Barrier(6)

    def look_up(_):
        start.wait()
        return [tier.entry(REGISTRY[name]) for name in names]

    with ThreadPoolExecutor(6) as pool:
        seen = list(pool.map(look_up, range(6)))
    for k in range(len(names)):
        assert len({id(found[k]) for found in seen}) == 1, names[k]


def test_a_registered_name_never_meets_a_tier_operation():
    # The fast tier's operations are "<name>@fast": no registered name can be one.
    _in_a_fresh_process(
        """
        @njit(inline="always")
        def cube(x):
            return x * x * x

        @njit(inline="always")
        def cube_derivative(z, a):
            return type(z)(3.0) * z * z

        f = numba_act.register("tanh_fast", cube, cube_derivative)
        list(fast.entries.values())  # the whole tier built
        op = REGISTRY["tanh_fast"].ops.forward
        assert pickle.loads(pickle.dumps(op)) is op
        np.testing.assert_array_equal(f(np.array([2.0])), [8.0])
        np.testing.assert_array_equal(fast.tanh(np.array([0.0])), [0.0])
        """
    )
