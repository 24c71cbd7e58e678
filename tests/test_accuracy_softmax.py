"""Every element of softmax and log_softmax within its ulp bound, on many
rows of every regime: lengths 1 to 5,000, scales 0.1 to 30, a small rest
beside one maximum, -inf entries, spreads past exp's thresholds, values
near the largest finite number, and subnormal rows.

The worst element is rare (one in ten thousand on ordinary float64 rows
once drifted past 8 ulp), so these tests take hundreds of thousands of
elements per case; their exact values come from long double arithmetic,
which is checked against mpmath here.  ``-m slow`` runs a sweep ten times
larger.
"""

import math

import mpmath
import numpy as np
import pytest

from numba_act import REGISTRY

SOFTMAX, LOG_SOFTMAX = REGISTRY["softmax"], REGISTRY["log_softmax"]
# Every element within 4 ulp in float32 and 8 in float64 of the exact value.
BOUND = {np.dtype(np.float32): 4.0, np.dtype(np.float64): 8.0}
DTYPES = [np.float32, np.float64]
FUNCTIONS = ["softmax", "log_softmax"]

LENGTHS = [1, 2, 3, 5, 7, 10, 16, 31, 50, 63, 64, 65, 100, 127, 128, 300, 500, 1000, 5000]
SCALES = [0.1, 1.0, 6.0, 30.0]

pytestmark = pytest.mark.skipif(
    np.finfo(np.longdouble).nmant < 63, reason="the exact values need a long double of 64 mantissa bits"
)


# ------------------------------------------------------------ the reference


def exact(name, x):
    """softmax or log_softmax of float rows x in long double: about 2000
    times finer than a float64 ulp for the differences these rows hold."""
    wide = np.asarray(x).astype(np.longdouble)
    m = wide.max(axis=-1, keepdims=True)
    e = np.exp(wide - m)
    if name == "softmax":
        return e / e.sum(axis=-1, keepdims=True)
    at_max = wide == m
    rest = np.where(at_max, 0, e).sum(axis=-1, keepdims=True)
    return (wide - m) - np.log1p(rest + (at_max.sum(axis=-1, keepdims=True) - 1))


def ulps(got, expected, dtype):
    """|got - expected| in ulp of ``dtype`` at expected rounded to dtype;
    0 where got is that rounding (infinities included)."""
    info = np.finfo(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = expected.astype(dtype)
        magnitude = np.abs(rounded.astype(np.float64))
        exponent = np.frexp(np.where(np.isfinite(magnitude), magnitude, 1.0))[1]
        unit = np.where(magnitude < info.tiny, float(info.smallest_subnormal), np.ldexp(1.0, exponent - info.nmant - 1))
        distance = (np.abs(got.astype(np.longdouble) - expected) / unit).astype(np.float64)
    return np.where(got == rounded, 0.0, np.where(np.isnan(distance), np.inf, distance))


def _mp_row(name, row):
    with mpmath.workdps(50):
        r = [mpmath.mpf(float(v)) for v in row]
        m = max(r)
        # log1p of the terms but one at the maximum: at 50 digits, log(1 + 1e-90) would be 0.
        others = r[: r.index(m)] + r[r.index(m) + 1 :]
        log_sum = mpmath.log1p(mpmath.fsum(mpmath.exp(v - m) for v in others))
        return [float(mpmath.exp(v - m - log_sum) if name == "softmax" else (v - m) - log_sum) for v in r]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_long_double_reference_agrees_with_mpmath(name):
    rng = np.random.default_rng(11)
    rows = [rng.normal(size=n) * s for n, s in [(3, 0.1), (10, 6.0), (50, 30.0), (200, 6.0), (7, 300.0)]]
    rows.append(np.array([0.0, -1e-300, -5e-324, -740.0, -36.0]))
    for row in rows:
        error = ulps(np.array(_mp_row(name, row)), exact(name, row), np.float64)
        assert error.max() <= 0.01, (row, error)


# ---------------------------------------------------------------- the rows


def normal_rows(rng, dtype, n, scale, elements):
    return (rng.normal(size=(max(1, elements // n), n)) * scale).astype(dtype)


def small_rest_rows(rng, dtype, n, elements):
    """One maximum, the other terms 0.5 to 36 below it: the rest beside the
    maximum, whose log1p log_softmax takes, runs from about 0.5 down to 1e-16."""
    rows = max(1, elements // n)
    x = rng.normal(size=(rows, n)) * rng.uniform(0.1, 3.0, (rows, 1))
    x -= x.max(axis=1, keepdims=True) + 10.0 ** rng.uniform(-0.3, 1.56, (rows, 1))
    x[np.arange(rows), rng.integers(0, n, rows)] = 0.0
    return (x + rng.normal(size=(rows, 1)) * 4).astype(dtype)


def minus_inf_rows(rng, dtype, n, elements):
    x = normal_rows(rng, dtype, n, 6.0, elements)
    x[rng.random(x.shape) < 0.3] = -np.inf
    x[:, 0] = np.where(np.isinf(x[:, 0]), 0.0, x[:, 0])  # one finite entry a row
    return x


def wide_rows(rng, dtype, n, elements):
    """Spreads past exp's underflow threshold: subnormal and zero results."""
    span = 110.0 if dtype == np.float32 else 760.0
    rows = max(1, elements // n)
    return (rng.uniform(-span, 0.0, (rows, n)) + rng.normal(size=(rows, 1)) * 10).astype(dtype)


def huge_rows(rng, dtype, n, elements):
    """Values up to the largest finite number: differences x - max far
    beyond exp's range, and rounded by whole powers of ten."""
    rows = max(1, elements // n)
    top = float(np.finfo(dtype).max)
    return (rng.uniform(-1, 1, (rows, n)) * top * 10.0 ** rng.uniform(-30, 0, (rows, n))).astype(dtype)


def subnormal_rows(rng, dtype, n, elements):
    tiny = np.asarray(np.finfo(dtype).smallest_subnormal, dtype)
    return (rng.integers(-(2**20), 2**20, (max(1, elements // n), n)) * tiny).astype(dtype)


REGIMES = {
    "small rest": small_rest_rows,
    "-inf": minus_inf_rows,
    "wide": wide_rows,
    "huge": huge_rows,
    "subnormal": subnormal_rows,
}


def worst(name, dtype, x):
    """(largest error in ulp, its row, its index) of ``name`` on rows x."""
    got = (SOFTMAX if name == "softmax" else LOG_SOFTMAX).forward(x)
    assert got.dtype == dtype and got.shape == x.shape
    error = ulps(got, exact(name, x), dtype)
    r, i = np.unravel_index(np.argmax(error), error.shape)
    return float(error[r, i]), x[r], int(i)


def assert_within_bound(name, dtype, cases, bound=None):
    """``cases``: (label, rows); fail naming every case over the bound (the contract's unless given)."""
    bound = bound or BOUND[np.dtype(dtype)]
    over = []
    for label, x in cases:
        error, row, i = worst(name, dtype, x)
        if not error <= bound:
            shown = [float(v).hex() for v in row] if row.size <= 8 else f"{row.size} elements"
            over.append(f"{label}: {error:.3g} ulp at element {i} of row {shown}")
    assert not over, f"{name} {np.dtype(dtype)} over {bound} ulp:\n" + "\n".join(over)


# ---------------------------------------------------------------- the tests


def length_and_scale_cases(dtype):
    rng = np.random.default_rng(2024)
    cases = [(f"n={n} scale={s}", normal_rows(rng, dtype, n, s, 50_000)) for n in LENGTHS for s in SCALES]
    # The sum's drift reached one row in 500 of these: 3,000 rows each.
    return cases + [(f"n=500 scale={s}", normal_rows(rng, dtype, 500, s, 1_500_000)) for s in (6.0, 10.0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_rows_of_every_length_and_scale(name, dtype):
    assert_within_bound(name, dtype, length_and_scale_cases(dtype))


def test_float64_softmax_rounds_three_times_only():
    # Once the sum is exact to far below an ulp, an element's error is the
    # rounding of its exp, of 1/sum and of the product: 3 half-ulps of
    # relative error, at most 3 ulp of a result just below a power of two.
    # A plain sum of the exps put 1.8% of such elements over 4 ulp.
    assert_within_bound("softmax", np.float64, length_and_scale_cases(np.float64), bound=3.5)


@pytest.mark.parametrize("regime", list(REGIMES))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_rows_of_every_regime(name, dtype, regime):
    rng = np.random.default_rng(99)
    cases = [(f"{regime} n={n}", REGIMES[regime](rng, dtype, n, 40_000)) for n in LENGTHS[1:]]
    assert_within_bound(name, dtype, cases)


def test_float64_log_softmax_of_a_small_rest_rounds_twice():
    # At the maximum log_softmax is -log1p(rest): the exps' roundings and
    # log1p's own, within 2.2 ulp, once the rest is summed on a grid that
    # fits it.  Summed plainly below 2**-30, such rests were 3.2 ulp off.
    rng = np.random.default_rng(5)
    cases = [(f"small rest n={n}", small_rest_rows(rng, np.float64, n, 200_000)) for n in LENGTHS[1:12]]
    assert_within_bound("log_softmax", np.float64, cases, bound=2.5)


def test_float64_softmax_of_wide_normal_rows():
    # A plain float64 sum of the exps put element 47 of row 14 12 ulp off,
    # and 302 elements over 8 ulp.
    x = np.random.default_rng(42).normal(size=(2000, 500)) * 6
    assert_within_bound("softmax", np.float64, [("N(0, 36)", x)])


def test_log_softmax_at_the_maximum_of_a_short_row():
    # log_softmax(x)[2] = -log1p(rest), rest about 0.127: once 2.7 ulp off.
    hexes = "0x1.a09de31746e89p-1 0x1.179308da42e4fp-2 0x1.c9b8fad13b688p+1 -0x1.f718bcf33c59ap-5"
    row = np.array([float.fromhex(h) for h in (hexes + " -0x1.e6fd51ff6d13fp+1 -0x1.13a7c783220fep+2").split()])
    error = ulps(LOG_SOFTMAX.forward(row), np.array(_mp_row("log_softmax", row), np.longdouble), np.float64)
    assert error.max() <= 1.0, error


@pytest.mark.parametrize("dtype", DTYPES)
def test_huge_differences_give_zero_not_their_rounding(dtype):
    # x - max rounds by up to half an ulp of itself, 1e31 here: that
    # rounding must not reach the exp of a difference beyond its range.
    top = np.finfo(dtype).max
    x = np.array([top * 0.58, dtype(-5e15), -top * 0.09], dtype)
    np.testing.assert_array_equal(SOFTMAX.forward(x), np.array([1, 0, 0], dtype))
    log = LOG_SOFTMAX.forward(x)
    assert log[0] == 0 and math.isclose(log[2], float(x[2]) - float(x[0]), rel_tol=2 * float(np.finfo(dtype).eps))


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_sweep_every_length_scale_and_regime(name, dtype):
    rng = np.random.default_rng(7)
    lengths = sorted({*LENGTHS, 4, 6, 8, 13, 24, 40, 128, 200, 2000, 4999})
    cases = [(f"n={n} scale={s}", normal_rows(rng, dtype, n, s, 200_000)) for n in lengths for s in [0.3, 3.0, 10.0]]
    cases += [(f"{r} n={n}", REGIMES[r](rng, dtype, n, 200_000)) for r in REGIMES for n in lengths if n > 1]
    assert_within_bound(name, dtype, cases)
