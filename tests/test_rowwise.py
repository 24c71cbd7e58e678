"""The softmax family (numba_act.rowwise), for every row-wise registry entry:
accuracy against higher precision along every axis, the sum-to-one and
shift-invariance properties, the NaN/+-inf/-inf row rules, 0-d and empty
input, and the vector-Jacobian product against its formula and against
central finite differences.
"""

import math

import numpy as np
import pytest
from conftest import ROWWISE_BOTH_TIERS, TABLE, assert_ulp_close, mp_rows, reference_forward, row_ulp

from numba_act import REGISTRY, _jit, activation_backward
from numba_act import rowwise as row_kernels
from numba_act._tiers import DEFAULT, FAST

SOFTMAX, LOG_SOFTMAX = REGISTRY["softmax"], REGISTRY["log_softmax"]
# Every element within 4 ulp in float32 and 8 in float64 of the exact softmax of the given input.
ROW_ULP_BY_DTYPE = {np.dtype(name): bound for name, bound in DEFAULT.row_ulp.items()}
VJP_EPS = 8  # vjp error bound, in eps times the size of the terms

rowwise = pytest.mark.parametrize("entry", ROWWISE_BOTH_TIERS)


def _probabilities(entry, out):
    """The softmax probabilities an entry's output stands for."""
    return np.exp(out.astype(np.float64)) if entry.name == "log_softmax" else out.astype(np.float64)


def _logits(dtype, rows, n, scale, seed=0):
    return (np.random.default_rng(seed).normal(size=(rows, n)) * scale).astype(dtype)


# ------------------------------------------------------------ the reference


@rowwise
def test_mpmath_formula_restates_the_registry_reference(entry):
    x = _logits(np.float64, 4, 7, 3.0, seed=9)
    np.testing.assert_allclose(mp_rows(TABLE[entry.name].forward, x), entry.reference(x), rtol=1e-10, atol=1e-14)


# ------------------------------------------------------------------ values


@rowwise
@pytest.mark.parametrize("n", [1, 2, 7, 100, 3000])
@pytest.mark.parametrize("scale", [1.0, 30.0, 300.0])
def test_rows_sum_to_one(entry, dtype, n, scale):
    x = _logits(dtype, 4, n, scale)
    out = entry.forward(x)
    assert out.dtype == dtype and out.shape == x.shape
    sums = np.array([math.fsum(row) for row in _probabilities(entry, out)])
    assert np.abs(sums - 1).max() <= 4 * np.finfo(dtype).eps, sums


@rowwise
@pytest.mark.parametrize("scale", [1.0, 30.0, 300.0])
def test_matches_reference_within_a_few_ulp(entry, dtype, scale):
    x = _logits(dtype, 6, 40, scale, seed=1)
    assert_ulp_close(entry.forward(x), reference_forward(entry, x, dtype), dtype, row_ulp(entry, dtype))


def _exact_softmax(x):
    wide = x.astype(np.longdouble)  # exact enough for float64 rows of these spreads
    e = np.exp(wide - wide.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("entry", [SOFTMAX, FAST.entry(SOFTMAX)], ids=["softmax", "fast-softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [7, 300], ids=["short", "long"])
def test_softmax_outputs_down_to_the_subnormals_keep_their_bits(entry, dtype, n):
    # The exps are stored times a power of two, so that those below the
    # smallest normal number are not rounded twice, or flushed to zero.
    low, high = (80.0, 106.0) if dtype == np.float32 else (700.0, 746.0)
    x = np.zeros((2, n), dtype)
    x[:, 1:] = -np.linspace(low, high, n - 1)
    x[1] += dtype(3.25)
    got = entry.forward(x)
    exact = _exact_softmax(x)
    info = np.finfo(dtype)
    assert (exact[:, 1] >= info.tiny).all() and (exact[:, -1] < np.longdouble(info.smallest_subnormal) / 2).all()
    assert_ulp_close(got, exact, dtype, row_ulp(entry, dtype))


@pytest.mark.parametrize("kind", ["normal", "ascending", "wide ascending", "ramp"])
def test_long_float64_rows_take_the_online_kernel_within_the_bound(kind):
    # Rows from row_kernels._ONLINE_ROW elements on go through the blocked online
    # kernel; ascending rows raise the running max in every block.
    rng = np.random.default_rng(7)
    n = row_kernels._ONLINE_ROW + 1000
    x = {
        "normal": lambda: rng.normal(0, 6, (3, n)),
        "ascending": lambda: np.sort(rng.normal(0, 6, (3, n)), axis=1),
        "wide ascending": lambda: np.sort(rng.normal(0, 300, (3, n)), axis=1),
        "ramp": lambda: np.sort(rng.uniform(-720, 0, (3, n)), axis=1),
    }[kind]()
    got = REGISTRY["softmax"].forward(x)
    exact = _exact_softmax(x)
    error = np.abs(got - exact) / np.spacing(np.maximum(exact.astype(np.float64), np.finfo(np.float64).tiny))
    assert float(error.max()) <= ROW_ULP_BY_DTYPE[np.dtype(np.float64)]


def test_long_float64_rows_follow_the_special_value_rules():
    n = row_kernels._ONLINE_ROW + 100
    x = np.random.default_rng(8).normal(0, 3, (5, n))
    x[0, : row_kernels._ONLINE_BLOCK + 7] = -np.inf  # whole blocks of -inf before the max
    x[1] = -np.inf
    x[2, n // 2] = np.inf
    x[3, 5] = np.nan
    got = REGISTRY["softmax"].forward(x)
    assert np.all(got[0, : row_kernels._ONLINE_BLOCK + 7] == 0)
    np.testing.assert_allclose(got[0].sum(), 1, rtol=1e-13)
    assert np.isnan(got[1:4]).all()
    np.testing.assert_allclose(got[4].sum(), 1, rtol=1e-13)


def _short_and_special_rows(dtype, n, seed):
    """Rows of n elements: N(0, s**2) at two scales, ties at the maximum, one
    maximum far above a small rest, -inf entries, and a NaN."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(0, 1, (50, n)), rng.normal(0, 30, (50, n)), rng.integers(-2, 2, (50, n)) * 1.0])
    x[100:110, 0] += 40.0  # a rest near exp(-40) beside the maximum
    x[110:120, n // 2] = -np.inf
    x[120, n - 1] = np.nan
    return x.astype(dtype)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_short_rows_match_the_per_row_path_bit_for_bit(name, dtype):
    # Rows below _SHORT_ROW_BYTES take one exp pass over many rows at once;
    # built with _SHORT_ROW_BYTES = 1, the same kernel takes them one row at
    # a time, as long rows.  The two must agree to the bit, signs of zero
    # and NaN included.
    kernel = row_kernels._three_pass_softmax_rows if name == "softmax" else row_kernels.log_softmax_rows
    fn = kernel.py_func
    per_row = _jit.kernel(_jit.rebound(fn, {**fn.__globals__, "_SHORT_ROW_BYTES": 1}, f"{fn.__name__}_per_row"))
    longest_short = row_kernels._SHORT_ROW_BYTES // np.dtype(dtype).itemsize - 1
    for n in [n for n in [1, 2, 3, 5, 10, 17, 31, 64, 100] if n < longest_short] + [longest_short]:
        x = _short_and_special_rows(dtype, n, seed=n)
        short, by_row = np.full_like(x, 7.0), np.full_like(x, -7.0)  # no element left unwritten
        kernel(x, short)
        per_row(x, by_row)
        int_type = np.int32 if np.dtype(dtype) == np.float32 else np.int64
        np.testing.assert_array_equal(short.view(int_type), by_row.view(int_type), err_msg=f"rows of {n}")


def test_softmax_of_rows_of_millions_stays_within_the_bound():
    # Block sums added one after another drifted to 12 ulp on such rows;
    # they are compensated now.  Long double is exact enough here.
    x = np.random.default_rng(4).normal(0, 6, (2, 4_000_000))
    got = REGISTRY["softmax"].forward(x)
    wide = x.astype(np.longdouble)
    e = np.exp(wide - wide.max(axis=1, keepdims=True))
    exact = e / e.sum(axis=1, keepdims=True)
    error = np.abs(got - exact) / np.spacing(exact.astype(np.float64))
    assert float(error.max()) <= ROW_ULP_BY_DTYPE[np.dtype(np.float64)]


@rowwise
def test_every_axis(entry, dtype):
    x = _logits(dtype, 12, 5, 3.0, seed=2).reshape(3, 4, 5)
    for axis in range(-3, 3):
        got = entry.forward(x, axis=axis)
        assert got.shape == x.shape and got.dtype == dtype
        along_last = np.moveaxis(entry.forward(np.moveaxis(x, axis, -1).copy()), -1, axis)
        np.testing.assert_array_equal(got, along_last, err_msg=f"axis={axis}")
        assert_ulp_close(got, reference_forward(entry, x, dtype, axis=axis), dtype, row_ulp(entry, dtype))
        # positionally too
        np.testing.assert_array_equal(entry.forward(x, axis), got)


@rowwise
def test_shift_invariant(entry, dtype):
    # Multiples of 1/8 plus a power of two: every x + c and every difference is exact,
    # so the shifted input must give the same result to the bit.
    x = (np.random.default_rng(3).integers(-160, 160, size=(5, 9)) / 8).astype(dtype)
    for shift in (1024.0, -4096.0):
        np.testing.assert_array_equal(entry.forward(x + dtype(shift)), entry.forward(x))


def test_one_dominant_logit():
    for dtype in (np.float32, np.float64):
        x = np.array([1000.0, 0.0, 0.0, 0.0], dtype)
        np.testing.assert_array_equal(SOFTMAX.forward(x), np.array([1.0, 0.0, 0.0, 0.0], dtype))
        np.testing.assert_array_equal(LOG_SOFTMAX.forward(x), np.array([0.0, -1000.0, -1000.0, -1000.0], dtype))


def test_seed_example():
    # From the seed module's usage example.
    probs = SOFTMAX.forward(np.array([[2.0, 1.0, 0.1]]))
    np.testing.assert_allclose(probs, [[0.659, 0.242, 0.099]], atol=5e-4)
    assert abs(probs.sum() - 1.0) <= 2 * np.finfo(np.float64).eps


# ------------------------------------------------------------ special rows


@rowwise
@pytest.mark.parametrize(
    "special",
    [
        pytest.param([-np.inf, -np.inf, -np.inf], id="all_minus_inf"),
        pytest.param([0.0, np.inf, 1.0], id="plus_inf"),
        pytest.param([np.inf, np.inf, np.inf], id="all_plus_inf"),
        pytest.param([0.0, np.nan, 1.0], id="nan"),
        pytest.param([np.nan, -np.inf, np.inf], id="nan_and_infs"),
    ],
)
def test_special_row_is_nan(entry, dtype, special):
    ordinary = [0.5, -1.0, 2.0]
    x = np.array([ordinary, _oriented(entry, np.array(special)), ordinary], dtype)
    got = entry.forward(x)
    assert np.isnan(got[1]).all(), got[1]
    # the other rows are untouched by it
    expected = entry.forward(np.array([ordinary], dtype))[0]
    np.testing.assert_array_equal(got[0], expected)
    np.testing.assert_array_equal(got[2], expected)


@rowwise
@pytest.mark.parametrize("n", [3, 100, row_kernels._SHORT_ROW_BYTES // 4 + 37, row_kernels._ONLINE_ROW + 100])
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["nan", "nan_with_sign_bit"])
def test_a_nan_anywhere_in_a_row_of_any_length_makes_it_nan(entry, dtype, n, sign):
    # The row maximum orders a NaN above +inf or below -inf by its sign bit:
    # either way the NaN must reach the whole row.
    x = _logits(dtype, 3, n, 2.0, seed=n)
    nan = np.copysign(np.nan, sign).astype(dtype)
    x[1, n // 2] = nan
    assert np.signbit(x[1, n // 2]) == (sign < 0)
    got = entry.forward(x)
    assert np.isnan(got[1]).all()
    assert not np.isnan(got[[0, 2]]).any()


@rowwise
def test_minus_inf_logits_get_zero_probability(entry, dtype):
    x = _oriented(entry, np.array([[-np.inf, 0.0, -np.inf, 0.0]], dtype))
    got = entry.forward(x)
    # exp of log(0.5) rounded to float32 is not exactly 0.5: allow that rounding, no more.
    np.testing.assert_allclose(_probabilities(entry, got), [[0.0, 0.5, 0.0, 0.5]], rtol=np.finfo(dtype).eps, atol=0)


@rowwise
def test_zero_d_input_is_a_row_of_one(entry, dtype):
    expected = 0.0 if entry.name == "log_softmax" else 1.0
    got = entry.forward(np.array(3.5, dtype))
    assert isinstance(got, np.generic) and got.dtype == dtype and got == expected
    assert entry.forward(-7.25) == expected
    assert entry.forward(np.array([[1e30]], dtype))[0, 0] == expected  # a row of one element


@rowwise
@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4), (2, 0, 3)])
def test_empty_input(entry, dtype, shape):
    x = np.zeros(shape, dtype)
    for axis in range(-len(shape), len(shape)):
        got = entry.forward(x, axis=axis)
        assert got.shape == shape and got.dtype == dtype


# ----------------------------------------------------------------- the VJP


def _oriented(entry, x):
    """x, or -x for softmin: the special rows of softmax are those of softmin negated."""
    return -x if entry.name == "softmin" else x


def _reference_vjp(entry, a, g, axis=-1):
    """(exact vjp, size of its terms) in float64 with exactly rounded sums."""
    a, g = a.astype(np.float64), g.astype(np.float64)
    if entry.name == "softmin":  # softmax's VJP, negated
        value, size = _reference_vjp(REGISTRY["softmax"], a, g, axis)
        return -value, size
    a_m, g_m = np.moveaxis(a, axis, -1), np.moveaxis(g, axis, -1)
    if entry.name == "softmax":
        s = np.apply_along_axis(math.fsum, -1, a_m * g_m)[..., None]
        value, size = a_m * (g_m - s), np.abs(a_m) * (np.abs(g_m) + np.sum(np.abs(a_m * g_m), -1, keepdims=True))
    else:
        s = np.apply_along_axis(math.fsum, -1, g_m)[..., None]
        p = np.exp(a_m)
        value, size = g_m - p * s, np.abs(g_m) + p * np.sum(np.abs(g_m), -1, keepdims=True)
    return np.moveaxis(value, -1, axis), np.moveaxis(size, -1, axis)


@rowwise
def test_vjp_matches_formula_on_every_axis(entry, dtype):
    rng = np.random.default_rng(4)
    z = (rng.normal(size=(3, 4, 6)) * 4).astype(dtype)
    g = rng.normal(size=z.shape).astype(dtype)
    for axis in range(-3, 3):
        a = entry.forward(z, axis=axis)
        got = entry.vjp(z, a, g, axis=axis)
        assert got.shape == z.shape and got.dtype == dtype
        expected, size = _reference_vjp(entry, a, g, axis)
        err = np.abs(got - expected)
        assert (err <= VJP_EPS * np.finfo(dtype).eps * size).all(), f"axis={axis}: max error {err.max()}"
        with np.errstate(all="ignore"):
            registry_reference = entry.reference_vjp(z, a.astype(np.float64), g.astype(np.float64), axis=axis)
        np.testing.assert_allclose(got, registry_reference, rtol=1e-4, atol=1e-5 if dtype == np.float32 else 1e-12)
        # activation_backward with grad is the same product
        np.testing.assert_array_equal(activation_backward(z, a, entry.name, g, axis=axis), got)


@rowwise
def test_vjp_matches_central_differences(entry):
    rng = np.random.default_rng(5)
    rows, n = 3, 6
    x = rng.normal(size=(rows, n)) * 3
    g = rng.normal(size=(rows, n))
    numeric = np.empty_like(x)
    for i in range(n):  # perturb coordinate i of every row at once: rows are independent
        h = 1e-6 * np.maximum(1.0, np.abs(x[:, i]))
        plus, minus = x.copy(), x.copy()
        plus[:, i] += h
        minus[:, i] -= h
        step = plus[:, i] - minus[:, i]
        numeric[:, i] = ((g * entry.forward(plus)).sum(-1) - (g * entry.forward(minus)).sum(-1)) / step
    got = entry.vjp(x, entry.forward(x), g)
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-8)


@rowwise
def test_backward_without_grad_is_ones(entry, dtype):
    z = _logits(dtype, 3, 4, 2.0)
    a = entry.forward(z)
    for got in (entry.derivative(z, a), activation_backward(z, a, entry.name)):
        assert got.dtype == dtype and got.shape == a.shape
        np.testing.assert_array_equal(got, np.ones_like(a))
