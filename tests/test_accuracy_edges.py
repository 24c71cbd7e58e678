"""Dense sweeps of the edge regions, for every activation and both float types.

Where test_elementwise.py and test_rowwise.py sample the whole range and a
few dozen edge values, these tests walk densely through each special
region: zeros of both signs, the subnormals, the smallest normal number,
the exp overflow and underflow thresholds of each float type, the cut-offs
and branch points of each kernel in numba_act/scalar.py, the points where a
result saturates (rounds to 1 or to x), huge magnitudes, +-inf and NaN.
Every point is checked against mpmath with the same ulp measurement and the
same bounds as the other tests; the softmax family gets rows built from the
same values.

The mpmath references are computed once per activation and dtype (module
caches), a few thousand points each.
"""

import functools

import numpy as np
import pytest
from conftest import (
    CASES,
    FAST_CASES,
    FLOATS,
    ROWWISE_BOTH_TIERS,
    TABLE,
    Case,
    Exact,
    assert_derivative_close,
    assert_ulp_close,
    forward_ulp,
    mp_derivative,
    mp_forward,
    mp_rows,
    row_ulp,
    ulp_distance,
)

# test_elementwise.py's forward bounds; the derivatives' are in conftest's TABLE.
from test_elementwise import FORWARD_ULP

from numba_act import REGISTRY

# Each entry's defaults by default, its other parameter values under -m slow.
elementwise = pytest.mark.parametrize(
    "entry",
    [
        pytest.param(c, id=c.id, marks=pytest.mark.slow if c.id.removeprefix("fast-") != c.name else ())
        for c in CASES + FAST_CASES
    ],
)
rowwise = pytest.mark.parametrize("entry", ROWWISE_BOTH_TIERS)

# |x| where exp(x) overflows, where exp(-x) becomes subnormal, and where it
# rounds to 0 (float32: 88.72, 87.33, 103.97; float64: 709.78, 708.40, 745.13).
EXP_LIMITS = {
    np.dtype(np.float32): (88.72284, 87.33654, 103.97208),
    np.dtype(np.float64): (709.782712893384, 708.3964185322641, 745.1332191019412),
}
# Where exp_unscaled clamps its argument (_math._exp_unscaled_for).
EXP_CLAMPS = {np.dtype(np.float32): (120.0, 89.0), np.dtype(np.float64): (770.0, 710.0)}


# Inputs where searches wider than these sweeps found each kernel's largest
# errors, with the error in ulp that each gives (docs/accuracy.md):
# edge_points walks 100 floats each way around every one, and
# test_errors_found_by_search checks that the sweeps measure these figures.
FOUND_BY_SEARCH = {
    # every float32 with |x| in [2**-30, 128], against float64
    ("sigmoid", np.dtype(np.float32)): {"-0x1.1bffccp+6": 1.06, "-0x1.763ebep+2": 1.05},
    # tanh's far branch just above the series bound 0.55
    ("tanh", np.dtype(np.float64)): {"0x1.19b9fbfbd7c10p-1": 1.36, "0x1.1b2cfa66998ccp-1": 1.35},
    ("elu", np.dtype(np.float64)): {"-0x1.62e4ec9564935p-2": 1.14, "-0x1.677148a686546p-2": 1.14},
    ("silu", np.dtype(np.float64)): {"-0x1.6205150d80c0ap+9": 1.82},
    # exp(x) just above the smallest normal number
    ("softplus", np.dtype(np.float64)): {"-0x1.61fccb947d679p+9": 1.59},
    # x Phi(x) in the tail, with the asymptotic series and without
    ("gelu", np.dtype(np.float64)): {"-0x1.d67e76fed781ep+4": 1.61, "-0x1.1f3316843d78ep+5": 1.56},
    # where exp's low parts go subnormal
    ("gelu_tanh", np.dtype(np.float64)): {"-0x1.5244c83df2858p+4": 2.27},
}


def _found_by_search(name, dtype):
    """The inputs of :data:`FOUND_BY_SEARCH` for ``name`` and ``dtype``, and their errors in ulp."""
    found = FOUND_BY_SEARCH.get((name, np.dtype(dtype)), {})
    return np.array([float.fromhex(v) for v in found], dtype), np.array(list(found.values()))


# Points of each linspace around every cut and limit, and through every
# tail, and the consecutive floats walked each way from every cut and limit.
# The slow sweep takes 20, 32 and 3 times as many.
DENSE, TAIL, WALK = 101, 251, 32


def _walk(center, dtype, n):
    """The 2n + 1 consecutive floats of ``dtype`` centred on ``center`` (finite ones)."""
    int_type = np.int32 if np.dtype(dtype) == np.float32 else np.int64
    bits = np.array([center], dtype).view(int_type)[0]
    return np.arange(bits - n, bits + n + 1, dtype=int_type).view(dtype)


def _around(center, dtype, walk=WALK, dense=DENSE):
    """A walk of ``walk`` ulps each way and a linspace of ``dense`` points over center +- 0.5."""
    width = max(0.5, abs(center) * 1e-3)
    return np.concatenate(
        [_walk(center, dtype, walk).astype(np.float64), np.linspace(center - width, center + width, dense)]
    )


def edge_points(name, dtype, dense=DENSE, tail=TAIL, walk=WALK):
    """The sorted edge sweep for activation ``name``: both signs of every magnitude, +-0, +-inf,
    NaN, and the table's tails."""
    dtype = np.dtype(dtype)
    info = np.finfo(dtype)
    sub, tiny, big = float(info.smallest_subnormal), float(info.tiny), float(info.max)
    other = np.dtype(np.float64 if dtype == np.float32 else np.float32)
    magnitudes = [
        np.arange(1, 33) * sub,  # the smallest subnormals
        np.geomspace(sub, tiny, 128),  # the subnormal range
        _walk(tiny, dtype, 32),  # the smallest normal numbers
        np.geomspace(tiny, 1e4 * tiny, 32),  # leaky_relu's 0.01 x turns subnormal
        np.linspace(0, 20, 401),  # the ordinary range
        np.geomspace(10, big / 2, 128),  # huge magnitudes
        _walk(big, dtype, 16)[:17],  # the largest finite numbers
        np.array([1e30]),
    ]
    magnitudes += [_around(limit, dtype, walk, dense) for limit in EXP_LIMITS[dtype] + EXP_CLAMPS[dtype]]
    magnitudes += [np.linspace(limit - 0.5, limit + 0.5, 21) for limit in EXP_LIMITS[other]]
    magnitudes += [_around(cut, dtype, walk, dense) for cut in TABLE[name].cuts(dtype)]
    with np.errstate(over="ignore"):
        m = np.concatenate(magnitudes).astype(dtype)
    m = np.unique(m[np.isfinite(m) & (m > 0)])
    tails = np.concatenate([np.linspace(lo, hi, tail) for lo, hi in TABLE[name].tails(dtype)]).astype(dtype)
    found = [_walk(v, dtype, 100) for v in _found_by_search(name, dtype)[0]]
    signed = np.unique(np.concatenate([-m, m, tails, *found]))
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], dtype)
    return np.concatenate([signed[signed < 0], specials, signed[signed > 0]])


class _Sweep:
    """One activation's edge sweep in one dtype: inputs, results and exact values (float64)."""

    def __init__(self, entry, dtype, dense=DENSE, tail=TAIL, walk=WALK):
        self.x = edge_points(entry.name, dtype, dense, tail, walk)
        self.got = entry.forward(self.x)
        self.exact = mp_forward(entry, self.x)
        # The derivative reference takes the kernel's a, as in test_elementwise.py.
        self.derivative = entry.derivative(self.x, self.got)
        self.exact_derivative = mp_derivative(entry, self.x, self.got)
        self.g = np.random.default_rng(17).normal(size=self.x.shape).astype(dtype)
        self.vjp = entry.vjp(self.x, self.got, self.g)
        self.exact_vjp = mp_derivative(entry, self.x, self.got, self.g)


@functools.cache
def _sweep(which, dtype):
    """The sweep of a :class:`Case`, or of a name's defaults."""
    return _Sweep(Case(REGISTRY[which]) if isinstance(which, str) else which, np.dtype(dtype))


# ------------------------------------------------------------- elementwise


def test_edge_points_cover_every_region():
    for dtype in FLOATS:
        info = np.finfo(dtype)
        x = edge_points("gelu_tanh", dtype)
        assert x.dtype == dtype and 3000 < x.size < 20_000
        for v in (0, info.smallest_subnormal, info.tiny, info.max, np.inf):
            assert (x == v).any() and (x == -v).any(), v
        assert np.isnan(x).sum() == 1 and np.signbit(x[x == 0]).sum() == 1
        for limit in EXP_LIMITS[np.dtype(dtype)]:  # every float within WALK ulps of each limit
            near = np.abs(x.astype(np.float64) - limit) <= WALK * np.spacing(dtype(limit))
            assert near.sum() >= 2 * WALK


@elementwise
def test_forward_at_edge_points(entry, dtype):
    sweep = _sweep(entry, dtype)
    assert sweep.got.dtype == dtype
    assert_ulp_close(sweep.got, sweep.exact, dtype, forward_ulp(entry, dtype), sweep.x)


@pytest.mark.parametrize("name, dtype", [pytest.param(*key, id=f"{key[0]}-{key[1]}") for key in FOUND_BY_SEARCH])
def test_errors_found_by_search(name, dtype):
    """Each input found by a wider search gives its recorded error, and the worst of the sweep
    is the worst of them: the figures docs/accuracy.md gives."""
    sweep = _sweep(name, dtype)
    x, figures = _found_by_search(name, dtype)
    at = [np.flatnonzero(sweep.x == v)[0] for v in x]
    distance = ulp_distance(sweep.got, sweep.exact, dtype)
    np.testing.assert_array_equal(np.round(distance[at], 2), figures)
    assert round(float(distance.max()), 2) == figures.max(), sweep.x[distance.argmax()]


@elementwise
def test_derivative_at_edge_points(entry, dtype):
    sweep = _sweep(entry, dtype)
    assert sweep.derivative.dtype == dtype
    assert_derivative_close(entry.name, sweep.derivative, sweep.exact_derivative, dtype, sweep.x)


@elementwise
def test_vjp_at_edge_points(entry, dtype):
    sweep = _sweep(entry, dtype)
    assert_derivative_close(entry.name, sweep.vjp, sweep.exact_vjp, dtype, sweep.x, g=sweep.g)


@pytest.mark.slow
@pytest.mark.parametrize("entry", [pytest.param(c, id=c.id) for c in CASES if c.id == c.name])  # the defaults
def test_dense_sweep_of_cuts_and_tails(entry, dtype):
    """The sweeps above, five times as dense around every cut and eight times through every tail."""
    sweep = _Sweep(entry, np.dtype(dtype), dense=20 * DENSE, tail=32 * TAIL, walk=3 * WALK)
    assert_ulp_close(sweep.got, sweep.exact, dtype, FORWARD_ULP[np.dtype(dtype)], sweep.x)
    assert_derivative_close(entry.name, sweep.derivative, sweep.exact_derivative, dtype, sweep.x)


@elementwise
def test_edge_rules_at_edge_points(entry, dtype):
    """The documented rules: exact limits at +-inf (derivatives too), NaN in gives NaN out."""
    sweep = _sweep(entry, dtype)
    infinite, nan = np.isinf(sweep.x), np.isnan(sweep.x)
    assert_ulp_close(sweep.got[infinite], sweep.exact[infinite], dtype, 0.5, sweep.x[infinite])  # correctly rounded
    assert_ulp_close(sweep.derivative[infinite], sweep.exact_derivative[infinite], dtype, 0.5, sweep.x[infinite])
    for result in (sweep.got, sweep.derivative, sweep.vjp):
        assert np.isnan(result[nan]).all()
        assert not np.isnan(result[~nan]).any(), sweep.x[~nan][np.isnan(result[~nan])]


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu"])
def test_minus_inf_gives_negative_zero(name, dtype):
    sweep = _sweep(name, dtype)
    at, plus = sweep.x == -np.inf, sweep.x == np.inf
    assert sweep.got[at] == 0 and np.signbit(sweep.got[at]).all()
    assert sweep.got[plus] == np.inf
    # and their derivatives 0 and 1
    assert sweep.derivative[at] == 0 and sweep.derivative[plus] == 1


def test_tanh_keeps_the_sign_everywhere(dtype):
    # odd: tanh(-0.0) = -0.0, and tanh(x) has the sign of x, subnormal x included
    sweep = _sweep("tanh", dtype)
    keep = ~np.isnan(sweep.x)
    np.testing.assert_array_equal(np.signbit(sweep.got[keep]), np.signbit(sweep.x[keep]))


def test_relu_of_negative_zero_is_positive_zero(dtype):
    sweep = _sweep("relu", dtype)
    zeros = sweep.got[sweep.x <= 0]
    assert (zeros == 0).all() and not np.signbit(zeros).any()


def test_sigmoid_and_softplus_stay_in_range(dtype):
    # sigmoid in [0, 1] and softplus >= 0, at every edge point
    s, sp = _sweep("sigmoid", dtype), _sweep("softplus", dtype)
    keep = ~np.isnan(s.x)
    assert ((s.got[keep] >= 0) & (s.got[keep] <= 1)).all()
    assert (sp.got[~np.isnan(sp.x)] >= 0).all()


# ------------------------------------------------------------- row-wise


def _edge_rows(dtype):
    """Rows built from the edge values: {id: 1-d array of dtype}."""
    dtype = np.dtype(dtype)
    info = np.finfo(dtype)
    sub, tiny, big, eps = (float(v) for v in (info.smallest_subnormal, info.tiny, info.max, info.eps))
    overflow, subnormal, zero = EXP_LIMITS[dtype]
    rng = np.random.default_rng(23)
    below = np.concatenate([-_walk(limit, dtype, 24).astype(np.float64) for limit in (subnormal, zero, overflow)])
    across = np.linspace(-(zero + 2), -(subnormal - 2), 201)  # exp(x - max) subnormal, then 0
    long_normal = rng.normal(size=2000) * 6
    long_minus_inf = long_normal.copy()
    long_minus_inf[::7] = -np.inf
    rows = {
        # rows of one element
        "one_zero": [0.0],
        "one_negative_zero": [-0.0],
        "one_subnormal": [sub],
        "one_max": [big],
        "one_negative_max": [-big],
        "one_1e30": [1e30],
        # ties at the maximum
        "tie_of_three": [3.0, 3.0, 3.0],
        "tie_with_others": [5.0, -1.0, 5.0, 2.0, 5.0],
        "tie_at_max": [big, big, 0.0],
        "tie_at_negative_max": [-big, -big, -big],
        "tie_of_zeros_of_both_signs": [0.0, -0.0, -1.0],
        # -inf entries
        "minus_inf_entries": [-np.inf, 0.0, 1.0, -np.inf],
        "minus_inf_and_max": [-np.inf, big, 0.0],
        "minus_inf_and_tie": [-np.inf, 2.0, 2.0],
        "minus_inf_and_one_finite": [-np.inf, -np.inf, -big],
        # huge spreads
        "max_and_minus_max": [big, -big],
        "max_and_zero": [big, 0.0, 1.0],
        "zero_and_minus_max": [0.0, -big, -1.0],
        "plus_minus_1e30": [1e30, 0.0, -1e30],
        "largest_floats": _walk(big, dtype, 8)[:9],
        "around_1e30": _walk(1e30, dtype, 8),
        # differences of a few subnormals or ulps
        "subnormal_differences": [0.0, sub, 2 * sub, -sub, 3 * sub],
        "smallest_normal_differences": [tiny, tiny + sub, tiny - sub, 0.0],
        "ulp_differences_at_1": [1.0, 1.0 + eps, 1.0 - eps / 2, 1.0 + 2 * eps],
        # exp(x - max) around its limits: subnormal results, and zeros
        "exp_limits_below_zero": [0.0, *below],
        "exp_limits_below_1000": [1000.0, *(below + 1000.0)],
        "across_the_underflow": [0.0, *across],
        "exp_limits_and_a_tie": [0.0, 0.0, *below],
        # long rows
        "long_normal": long_normal,
        "long_tie": np.full(2000, 1.5),
        "long_with_minus_inf": long_minus_inf,
        "long_spread_to_underflow": np.linspace(0.0, -(zero + 2), 2000),
    }
    return {key: np.asarray(row, np.float64).astype(dtype) for key, row in rows.items()}


# Rows whose result is NaN throughout (the documented rule): NaN, +inf, or only -inf.
NAN_ROWS = {
    "one_nan": [np.nan],
    "one_plus_inf": [np.inf],
    "one_minus_inf": [-np.inf],
    "all_minus_inf": [-np.inf] * 5,
    "max_and_plus_inf": [np.finfo(np.float32).max, np.inf],
    "nan_and_minus_inf": [-np.inf, np.nan],
    "long_with_one_nan": [*np.linspace(-5, 5, 999), np.nan],
}


def _exact_row(name, row):
    """The exact row-wise activation of a finite or -inf-holding row, as float64."""
    finite = np.isfinite(row)
    out = np.full(row.shape, 0.0 if name == "softmax" else -np.inf)
    lo = np.zeros(row.shape)
    exact = mp_rows(TABLE[name].forward, row[finite].astype(np.float64))
    out[finite], lo[finite] = exact.hi, exact.lo
    return Exact(out, lo)


def _as_softmax(entry, row):
    """(the name whose exact values to take, the row to run): softmin runs on -row, as softmax."""
    return ("softmax", -row) if entry.name == "softmin" else (entry.name, row)


@functools.cache
def _row_references(name, dtype):
    return {key: _exact_row(name, row) for key, row in _edge_rows(dtype).items()}


ROW_IDS = list(_edge_rows(np.float64))


@rowwise
@pytest.mark.parametrize("row_id", ROW_IDS)
def test_rows_of_edge_values(entry, dtype, row_id):
    # softmin(-x) is softmax(x): it runs on the negated rows, against softmax's exact values
    name, row = _as_softmax(entry, _edge_rows(dtype)[row_id])
    got = entry.forward(row)
    assert got.dtype == dtype and got.shape == row.shape
    expected = _row_references(name, np.dtype(dtype))[row_id]
    # No rule gives the sign of an exact 0 of log_softmax (it gives -0.0 where
    # the row's only finite element is its maximum): magnitudes only.
    assert_ulp_close(got, expected, dtype, row_ulp(entry, dtype), row, signed_zeros=False)
    # the same row inside a 2-d batch, along either axis, gives the same bits
    batch = np.stack([row, row[::-1]])
    np.testing.assert_array_equal(entry.forward(batch)[0], got)
    np.testing.assert_array_equal(entry.forward(batch.T.copy(), axis=0)[:, 0], got)


@rowwise
@pytest.mark.parametrize("row_id", list(NAN_ROWS))
def test_nan_rows_of_edge_values(entry, dtype, row_id):
    _, row = _as_softmax(entry, np.array(NAN_ROWS[row_id], dtype))
    assert np.isnan(entry.forward(row)).all()
