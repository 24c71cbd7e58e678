"""Elementwise activations (numba_act.elementwise over numba_act.scalar), for
every elementwise registry entry and both float types: accuracy against
higher precision, derivatives and vector-Jacobian products against the
reference and against central finite differences, and the documented edge
rules (NaN, +-inf, signed zero, sigmoid's range and monotonicity).
"""

import math
import warnings

import mpmath
import numpy as np
import pytest
from conftest import (
    CASES,
    DERIVATIVE_ROOT_WIDTH,
    ELEMENTWISE,
    FAST_CASES,
    FLOATS,
    TABLE,
    assert_derivative_close,
    assert_ulp_close,
    edge_values,
    entry_params,
    forward_ulp,
    moderate_samples,
    mp_derivative,
    mp_evaluate,
    mp_forward,
    reference_derivative,
    reference_forward,
    ulp,
    ulp_distance,
    wide_samples,
)
from numba import njit

from numba_act import REGISTRY
from numba_act import elementwise as elementwise_kernels
from numba_act._tiers import DEFAULT

# The bounds promised for the forward pass: within 2 ulp in float32 and 3 in
# float64 (better than the 2.5 and 3.5 ulp JAX documents for its logistic).
FORWARD_ULP = {np.dtype(name): bound for name, bound in DEFAULT.ulp.items()}

# Every case, and those of the fast tier against its own bounds.
elementwise = pytest.mark.parametrize("entry", entry_params(CASES + FAST_CASES))


def _finite_inputs(dtype):
    """Wide random samples plus the finite edge values, as one ``dtype`` array."""
    rng = np.random.default_rng(7)
    x = np.concatenate([wide_samples(dtype, rng), edge_values(dtype)])
    return x[np.isfinite(x)]


def _split_by_result(expected, dtype):
    """Masks of the inputs whose exact result is a normal number or zero, and a subnormal."""
    mag = np.abs(expected)
    subnormal = (mag > 0) & (mag < np.finfo(dtype).tiny)
    return ~subnormal, subnormal


# ------------------------------------------------------------ the references


def test_the_reference_table_has_a_row_for_every_entry():
    assert set(TABLE) == set(REGISTRY)
    for name, entry in REGISTRY.items():
        assert (TABLE[name].derivative is None) == entry.rowwise, name


@elementwise
def test_mpmath_formulas_restate_the_registry_reference(entry):
    # Where the float64 reference is well conditioned the two must agree, so
    # the mpmath table is the registry's math and not some other function's.
    x = np.linspace(-4, 4, 81)
    row, values = TABLE[entry.name], entry.values
    np.testing.assert_allclose(
        mp_evaluate(lambda v: row.forward(v, *values), x), entry.reference(x), rtol=1e-10, atol=1e-14
    )
    a = entry.reference(x)
    np.testing.assert_allclose(
        mp_evaluate(lambda z, a: row.derivative(z, a, *values), x, a),
        entry.reference_derivative(x, a),
        rtol=1e-10,
        atol=1e-14,
    )


# ------------------------------------------------------------------ forward


@elementwise
def test_forward_within_a_few_ulp(entry, dtype):
    x = _finite_inputs(dtype)
    got = entry.forward(x)
    assert got.dtype == dtype
    expected = reference_forward(entry, x, dtype)
    normal, _ = _split_by_result(expected, dtype)
    assert_ulp_close(got[normal], expected[normal], dtype, forward_ulp(entry, dtype), x[normal])


# Inputs once found over the bound by wider sweeps than the tests' samples.
FOUND_OVER_THE_BOUND = [
    # Both were float32 kernels then; computed in float64 they are within 0.6 ulp there.
    ("gelu_tanh", np.float32, -7.143646717071533),  # 2.06 ulp: x * sigmoid(t) rounded twice
    ("silu", np.float32, -89.05999755859375),  # 1.53 ulp: exp's low part dropped in the tail
]


@pytest.mark.parametrize(("name", "dtype", "value"), FOUND_OVER_THE_BOUND)
def test_forward_where_a_sweep_once_found_it_over_the_bound(name, dtype, value):
    # Neighbours too: the same rounding path runs through a whole region.
    x = np.array([np.nextafter(dtype(value), dtype(-np.inf) if k < 0 else dtype(np.inf)) for k in (-1, 1)], dtype)
    x = np.concatenate([x, np.linspace(value * 0.9, value * 1.1, 2001).astype(dtype), [dtype(value)]])
    entry = REGISTRY[name]
    got = entry.forward(x)
    assert_ulp_close(got, reference_forward(entry, x, dtype), dtype, 1.7, x)


@elementwise
def test_forward_within_a_few_ulp_where_the_result_is_subnormal(entry, dtype):
    # Kept apart from the test above: results below the smallest normal number
    # have fewer bits, and a product like x * sigmoid(x) rounds twice there.
    rng = np.random.default_rng(11)
    info = np.finfo(dtype)
    # Inputs that reach subnormal results: subnormal x, and the exp underflow regions.
    x = np.concatenate(
        [
            rng.uniform(-1, 1, 200) * float(info.tiny),
            -rng.uniform(80, 110, 200) if dtype == np.float32 else -rng.uniform(700, 750, 200),
            -rng.uniform(8, 40, 200),
        ]
    ).astype(dtype)
    got = entry.forward(x)
    expected = reference_forward(entry, x, dtype)
    _, subnormal = _split_by_result(expected, dtype)
    assert_ulp_close(got[subnormal], expected[subnormal], dtype, forward_ulp(entry, dtype), x[subnormal])


@elementwise
def test_forward_at_infinities_is_the_limit(entry, dtype):
    x = np.array([-np.inf, np.inf], dtype)
    # the limit, correctly rounded (a parameter's, such as hardtanh's max_val, may not be a float32)
    assert_ulp_close(entry.forward(x), mp_forward(entry, x), dtype, 0.5, x)


@elementwise
def test_forward_nan_propagates(entry, dtype):
    x = np.array([1.0, np.nan, -2.0, np.nan, 0.0, np.inf], dtype)
    got = entry.forward(x)
    assert np.isnan(got[[1, 3]]).all()
    # and leaves its neighbours alone
    np.testing.assert_array_equal(got[[0, 2, 4]], entry.forward(x[[0, 2, 4]]))
    assert math.isnan(entry.forward(dtype(np.nan)))


def _njit_forwards(entries):
    """One ``@njit`` function returning every entry's forward of a scalar, as a tuple."""
    namespace = {f"forward_{k}": case.entry.forward for k, case in enumerate(entries)}
    namespace |= {f"values_{k}": case.values for k, case in enumerate(entries)}
    calls = ", ".join(
        f"forward_{k}(x{''.join(f', values_{k}[{i}]' for i in range(len(case.values)))})"
        for k, case in enumerate(entries)
    )
    exec(f"def forwards(x):\n    return ({calls},)\n", namespace)
    return njit(namespace["forwards"])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda t: t.__name__)
def test_signed_zeros_on_every_path(dtype):
    """f(-0.0) and f(0.0) on every path into the scalar kernels: arrays (over
    a block boundary too), 0-d arrays, scalars, and scalar calls in @njit
    code.  -0.0 gives -0.0 wherever f(0) = 0, but for relu."""
    zeros = np.array([-0.0, 0.0])
    n = 2 * elementwise_kernels._BLOCK + 3
    long = np.ones(n, dtype)
    places = [0, elementwise_kernels._BLOCK - 1, elementwise_kernels._BLOCK, n - 1]
    long[places] = [-0.0, 0.0, -0.0, -0.0]
    forwards = _njit_forwards(ELEMENTWISE) if dtype != np.float16 else None
    njit_results = [forwards(dtype(z)) for z in zeros] if forwards else None
    for k, entry in enumerate(ELEMENTWISE):
        exact = mp_forward(entry, zeros)
        bound = FORWARD_ULP.get(np.dtype(dtype), 1)  # float16 is rounded once from float32
        paths = {
            "array": entry.forward(zeros.astype(dtype)),
            "0-d": np.array([entry.forward(np.array(z, dtype))[()] for z in zeros]),
            "scalar": np.array([entry.forward(dtype(z)) for z in zeros]),
            "long array": entry.forward(long)[places][[0, 1]],
        }
        if njit_results:  # @njit returns a float32 result as a Python float, exactly
            paths["@njit scalar"] = np.array([result[k] for result in njit_results], dtype)
        for path, got in paths.items():
            assert got.dtype == dtype, (entry.name, path)
            distance = ulp_distance(got, exact, dtype)
            assert (distance <= bound).all(), (entry.name, path, got)
        if not TABLE[entry.name].positive_zero and exact.hi[0] == 0:
            assert np.signbit(entry.forward(long)[places]).tolist() == [True, False, True, True], entry.name


# -------------------------------------------------------- local derivative


@elementwise
def test_derivative_matches_reference(entry, dtype):
    z = _finite_inputs(dtype)
    a = entry.forward(z)
    got = entry.derivative(z, a)
    assert got.dtype == dtype
    expected = reference_derivative(entry, z, a, dtype)
    assert_derivative_close(entry.name, got, expected, dtype, z)


# The derivative from z alone (a=None): within 4 ulp of the exact derivative,
# or within 4 ulp of 0.25 absolutely next to a root of it, for every entry,
# those whose own derivative reads a (sigmoid's a (1 - a)) included.
FROM_Z_ULP = 4


@elementwise
def test_derivative_from_z_alone(entry, dtype):
    z = np.concatenate([_finite_inputs(dtype), moderate_samples(dtype, np.random.default_rng(8), n=400, scale=40)])
    got = entry.derivative(z, None)
    assert got.dtype == dtype
    row, values = TABLE[entry.name], entry.values
    if row.derivative_of_z is not None:
        exact = mp_evaluate(lambda v: row.derivative_of_z(v, *values), z)
    else:
        exact = mp_evaluate(lambda v: row.derivative(v, row.forward(v, *values), *values), z)
    distance = ulp_distance(got, exact, dtype, signed_zeros=False)
    near = np.zeros(z.shape, bool)
    for root in row.roots:
        near |= np.abs(z.astype(np.float64) - root) <= DERIVATIVE_ROOT_WIDTH
    absolute = np.abs(got.astype(np.float64) - exact.hi)
    distance = np.where(near & (absolute <= FROM_Z_ULP * float(ulp(0.25, dtype))), 0.0, distance)
    keep = ~(distance <= FROM_Z_ULP)
    assert_ulp_close(got[keep], exact[keep], dtype, FROM_Z_ULP, z[keep], signed_zeros=False)
    g = np.cos(z.astype(np.float64)).astype(dtype)
    np.testing.assert_array_equal(entry.vjp(z, None, g), g * got)


@elementwise
def test_derivative_at_infinities_is_the_limit(entry, dtype):
    z = np.array([-np.inf, np.inf], dtype)
    a = entry.forward(z)
    expected = mp_derivative(entry, z, mp_forward(entry, z).hi)
    # correctly rounded (leaky_relu's float32 slope is 0.01 rounded)
    assert_ulp_close(entry.derivative(z, a), expected, dtype, 0.5, z)


@elementwise
def test_derivative_nan_propagates(entry, dtype):
    z = np.array([np.nan, 1.0, np.nan], dtype)
    got = entry.derivative(z, entry.forward(z))
    assert np.isnan(got[[0, 2]]).all()
    assert not np.isnan(got[1])


@elementwise
def test_derivative_matches_central_differences(entry):
    z = moderate_samples(np.float64, np.random.default_rng(3), scale=10.0)
    h = 1e-6 * np.maximum(1.0, np.abs(z))
    step = (z + h) - (z - h)  # the step actually taken, after rounding
    numeric = (entry.forward(z + h) - entry.forward(z - h)) / step
    np.testing.assert_allclose(entry.derivative(z, entry.forward(z)), numeric, rtol=1e-6, atol=1e-8)


# ------------------------------------------------- vector-Jacobian product


@elementwise
def test_vjp_matches_reference(entry, dtype):
    z = _finite_inputs(dtype)
    a = entry.forward(z)
    g = np.random.default_rng(5).normal(size=z.shape).astype(dtype)
    got = entry.vjp(z, a, g)
    assert got.dtype == dtype
    expected = reference_derivative(entry, z, a, dtype, g=g)
    assert_derivative_close(entry.name, got, expected, dtype, z, g=g)
    with np.errstate(all="ignore"):
        registry_reference = entry.reference_vjp(z.astype(np.float64), a.astype(np.float64), g.astype(np.float64))
    finite = np.isfinite(registry_reference)
    np.testing.assert_allclose(got[finite], registry_reference[finite], rtol=1e-3, atol=1e-6)


@elementwise
def test_vjp_matches_central_differences(entry):
    # d/dz_i of L(z) = sum(g * f(z)), all coordinates at once since f acts elementwise.
    rng = np.random.default_rng(4)
    z = moderate_samples(np.float64, rng, scale=10.0)
    g = rng.normal(size=z.shape)
    h = 1e-6 * np.maximum(1.0, np.abs(z))
    step = (z + h) - (z - h)
    numeric = (g * entry.forward(z + h) - g * entry.forward(z - h)) / step
    np.testing.assert_allclose(entry.vjp(z, entry.forward(z), g), numeric, rtol=1e-6, atol=1e-8)


@elementwise
def test_vjp_nan_propagates(entry, dtype):
    z = np.array([np.nan, 1.0, 0.5], dtype)
    g = np.array([1.0, np.nan, 1.0], dtype)
    got = entry.vjp(z, entry.forward(z), g)
    assert np.isnan(got[:2]).all()
    assert not np.isnan(got[2])


# -------------------------------------------------------------- relu rules


def test_relu_nan_and_signed_zero():
    relu = REGISTRY["relu"]
    for dtype in FLOATS:
        z = np.array([np.nan, -0.0, 0.0, -1.0, 2.0], dtype)
        a = relu.forward(z)
        assert np.isnan(a[0])
        assert a[1] == 0 and not np.signbit(a[1])  # relu(-0.0) is 0.0
        np.testing.assert_array_equal(a[2:], np.array([0.0, 0.0, 2.0], dtype))
        d = relu.derivative(z, a)
        assert np.isnan(d[0])
        np.testing.assert_array_equal(d[1:], np.array([0.0, 0.0, 0.0, 1.0], dtype))  # relu'(0) = 0


# ----------------------------------------------------------- sigmoid rules


def _dense_grid(dtype):
    """A sorted grid: a sweep over the whole interesting range, plus runs of
    consecutive floats where rounding could break monotonicity."""
    info = np.finfo(dtype)
    int_type = np.int32 if dtype == np.float32 else np.int64
    limit = 110.0 if dtype == np.float32 else 760.0
    parts = [np.linspace(-limit, limit, 400_001).astype(dtype), np.array([-np.inf, np.inf, info.max, -info.max], dtype)]
    starts = [-limit, -88.7, -36.0, -17.0, -1.0, -1e-3, 0.0, 1e-3, 0.5, 1.0, 8.0, 16.7, 17.0, 36.7, 88.7]
    for start in starts:
        bits = np.array([start], dtype).view(int_type)[0]
        step = -1 if start < 0 else 1  # walk upwards in value
        parts.append(np.arange(bits, bits + step * 20_000, step, dtype=int_type).view(dtype))
    return np.unique(np.concatenate(parts))


def test_sigmoid_is_stable_bounded_and_monotone(dtype):
    sigmoid = REGISTRY["sigmoid"].forward
    x = _dense_grid(dtype)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        s = sigmoid(x)
    assert s.dtype == dtype
    assert not np.isnan(s).any()
    assert (s >= 0).all() and (s <= 1).all()
    bad = np.flatnonzero(np.diff(s) < 0)[:4]
    pairs = [f"sigmoid({x[i]!r}) = {s[i]!r} > sigmoid({x[i + 1]!r}) = {s[i + 1]!r}" for i in bad]
    assert not pairs, "sigmoid is not monotone:\n" + "\n".join(pairs)
    assert s[0] == 0 and s[-1] == 1  # sigmoid(-inf) = 0, sigmoid(inf) = 1


def test_sigmoid_symmetry(dtype):
    # sigmoid(-x) = 1 - sigmoid(x): each half within the bound of the exact
    # value, in its own ulps, so that an error in the smaller half shows too.
    x = np.abs(_finite_inputs(dtype))
    sigmoid = REGISTRY["sigmoid"].forward
    larger = mp_evaluate(lambda v: 1 / (1 + mpmath.exp(-v)), x)
    smaller = mp_evaluate(lambda v: 1 / (1 + mpmath.exp(v)), x)
    assert_ulp_close(sigmoid(x), larger, dtype, FORWARD_ULP[np.dtype(dtype)], x)
    assert_ulp_close(sigmoid(-x), smaller, dtype, FORWARD_ULP[np.dtype(dtype)], -x)


# -------------------------------------------------------------- tanh rules


def test_tanh_is_odd_and_keeps_negative_zero(dtype):
    tanh = REGISTRY["tanh"].forward
    x = np.abs(np.concatenate([_finite_inputs(dtype), np.array([np.inf], dtype)]))
    np.testing.assert_array_equal(tanh(-x), -tanh(x))
    zero = tanh(np.array([-0.0, 0.0], dtype))
    assert zero[0] == 0 and np.signbit(zero[0])
    assert zero[1] == 0 and not np.signbit(zero[1])
    assert np.signbit(tanh(dtype(-0.0)))
    np.testing.assert_array_equal(tanh(np.array([-np.inf, np.inf], dtype)), np.array([-1.0, 1.0], dtype))


# --------------------------------------------------------- gelu_tanh rules


def test_gelu_tanh_where_only_its_inner_argument_overflows():
    # 2 sqrt(2/pi) (x + 0.044715 x**3) overflows float32 while x**3 does not:
    # the result is still x, not inf - inf.
    x = np.array([1.8e13, 1.9218288e13, 2.0e13, -1.9218288e13], np.float32)
    got = REGISTRY["gelu_tanh"].forward(x)
    np.testing.assert_array_equal(got, np.array([1.8e13, 1.9218288e13, 2.0e13, -0.0], np.float32))
