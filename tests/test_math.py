"""The math library under the activations, kernel by kernel: numba_act._math
(fma, exp and its parts, the prescaled and split forms of exp, log1p on
[0, 1] and of any y >= 0, the double-word steps, x * sigmoid and the float64 forms for
float32 results) and numba_act._normal (the normal distribution's tail).

Each test checks what the kernel's docstring promises against exact values:
mpmath at 60 digits, or float64 arithmetic where that is exact.  Errors are
in ulp of the result's type at the exact value (conftest's ``ulp_distance``),
and a pair hi + lo is summed in mpmath before it is measured.  Where a
docstring gives no bound, the measured worst (with a small margin) is the
bound, so that a new fault still shows.

The kernels are callable from ``@njit`` code only: each is called through a
small loop below, compiled once per dtype.  ``-m slow`` runs sweeps of
millions of inputs against long double references.
"""

import math

import mpmath
import numba
import numpy as np
import pytest
from conftest import FLOATS, mp_evaluate, ulp, ulp_distance
from numba import types
from numba.core.errors import TypingError

from numba_act import _math, _normal

MP_DPS = 60
LN2 = math.log(2)
NUMBA_TYPES = {np.dtype(np.float32): types.float32, np.dtype(np.float64): types.float64}
# exp's argument clamps (below the lower one every result is 0, above the upper one inf).
CLAMPS = {np.dtype(t): _math._EXP_CLAMPS[NUMBA_TYPES[np.dtype(t)]] for t in FLOATS}
# Where e**x overflows, turns subnormal and rounds to 0.
EXP_LIMITS = {
    np.dtype(np.float32): (88.72284, -87.33654, -103.97208),
    np.dtype(np.float64): (709.782712893384, -708.3964185322641, -745.1332191019412),
}
A_MAX = _normal._PHI_F64[1]  # normal_tail's clamp
A_MAX_F32 = _normal._PHI_F32[1]  # normal_tail_for_f32's

floats = pytest.mark.parametrize("dtype", FLOATS, ids=lambda t: t.__name__)
long_double = pytest.mark.skipif(
    np.finfo(np.longdouble).nmant < 63, reason="the reference needs a long double of 64 mantissa bits"
)


# ------------------------------------------------------------------ loops
# One compiled loop per kernel (or family of kernels), compiled once per dtype.


@numba.njit
def _exp_loop(x):
    """Rows: exp; exp_parts hi, lo; exp_unscaled hi, lo, s1, s2."""
    out = np.empty((7, x.size), x.dtype)
    for i in range(x.size):
        out[0, i] = _math.exp(x[i])
        hi, lo = _math.exp_parts(x[i])
        out[1, i], out[2, i] = hi, lo
        hi, lo, s1, s2 = _math.exp_unscaled(x[i])
        out[3, i], out[4, i], out[5, i], out[6, i] = hi, lo, s1, s2
    return out


@numba.njit
def _exp_nonpositive_loop(y, y_lo):
    """Rows: exp_parts_nonpositive hi, lo; exp_unscaled_nonpositive hi, lo, s1, s2; exp_prescaled(y, y_lo)."""
    out = np.empty((7, y.size), y.dtype)
    for i in range(y.size):
        hi, lo = _math.exp_parts_nonpositive(y[i])
        out[0, i], out[1, i] = hi, lo
        hi, lo, s1, s2 = _math.exp_unscaled_nonpositive(y[i])
        out[2, i], out[3, i], out[4, i], out[5, i] = hi, lo, s1, s2
        out[6, i] = _math.exp_prescaled(y[i], y_lo[i])
    return out


@numba.njit
def _exp_split_loop(y, lo, hi):
    """Rows: exp_split(y, None, None) p, s; exp_split(y, lo, hi) p, s."""
    out = np.empty((4, y.size), y.dtype)
    for i in range(y.size):
        p, s = _math.exp_split(y[i], None, None)
        out[0, i], out[1, i] = p, s
        p, s = _math.exp_split(y[i], lo, hi)
        out[2, i], out[3, i] = p, s
    return out


@numba.njit
def _exp_split_for_f32_loop(y):
    out = np.empty((2, y.size), np.float64)
    for i in range(y.size):
        p, s = _math.exp_split_for_f32(y[i], None, None)
        out[0, i], out[1, i] = p, s
    return out


@numba.njit
def _fma_loop(a, b, c):
    out = np.empty_like(a)
    for i in range(a.size):
        out[i] = _math.fma(a[i], b[i], c[i])
    return out


@numba.njit
def _small_kernels_loop(x):
    """Rows: smallest_normal(x), exp_prescale(x), limit_zero(x)."""
    out = np.empty((3, x.size), x.dtype)
    scale = np.empty(x.size, np.float64)
    for i in range(x.size):
        out[0, i] = _math.smallest_normal(x[i])
        scale[i] = _math.exp_prescale(x[i])
        out[2, i] = _math.limit_zero(x[i])
    return out, scale


@numba.njit
def _split_constant_loop(hi64, lo64, like):
    out = np.empty((2, hi64.size), like.dtype)
    for i in range(hi64.size):
        hi, lo = _math.split_constant(hi64[i], lo64[i], type(like[0]))
        out[0, i], out[1, i] = hi, lo
    return out


@numba.njit
def _to_float64_floored_loop(x):
    out = np.empty(x.size, np.float64)
    for i in range(x.size):
        out[i] = _math.to_float64_floored(x[i])
    return out


@numba.njit
def _log1p_loop(log1p, y_hi, y_lo):
    """log1p (log1p_unit or log1p_nonnegative) of each y_hi + y_lo."""
    out = np.empty_like(y_hi)
    for i in range(y_hi.size):
        out[i] = log1p(y_hi[i], y_lo[i])
    return out


@numba.njit
def _ratio_loop(e_hi, e_lo):
    out = np.empty((2, e_hi.size), e_hi.dtype)
    for i in range(e_hi.size):
        q, c = _math.ratio_of_one_plus(e_hi[i], e_lo[i])
        out[0, i], out[1, i] = q, c
    return out


@numba.njit
def _x_sigmoid_loop(x, t, t_lo):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = _math.x_sigmoid(x[i], t[i], t_lo[i])
    return out


@numba.njit
def _x_sigmoid_for_f32_loop(x, t):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = _math.x_sigmoid_for_f32(x[i], t[i])
    return out


@numba.njit
def _normal_tail_loop(x):
    """Rows: xc, h, h_lo, p_hi, p_lo, s1, s2."""
    out = np.empty((7, x.size), np.float64)
    for i in range(x.size):
        xc, h, h_lo, p_hi, p_lo, s1, s2 = _normal.normal_tail(x[i])
        out[0, i], out[1, i], out[2, i], out[3, i] = xc, h, h_lo, p_hi
        out[4, i], out[5, i], out[6, i] = p_lo, s1, s2
    return out


@numba.njit
def _normal_tail_for_f32_loop(x):
    """Rows: xc, a, h, e."""
    out = np.empty((4, x.size), np.float64)
    for i in range(x.size):
        xc, a, h, e = _normal.normal_tail_for_f32(x[i])
        out[0, i], out[1, i], out[2, i], out[3, i] = xc, a, h, e
    return out


# ------------------------------------------------------------------ helpers


def _mp(value):
    return value if isinstance(value, mpmath.mpf) else mpmath.mpf(float(value))


def _exact(fn, *arrays):
    """fn applied elementwise in mpmath at MP_DPS digits: a list of mpf."""
    with mpmath.workdps(MP_DPS):
        return [fn(*(_mp(v) for v in args)) for args in zip(*arrays, strict=True)]


def _sum_ulps(parts, exact, dtype):
    """|sum of parts - exact| in ulp of ``dtype`` at each exact value (an mpf), the parts
    summed exactly; below the smallest normal number the ulp is the smallest subnormal."""
    errors = np.empty(len(exact))
    with mpmath.workdps(MP_DPS):
        for i, value in enumerate(exact):
            got = mpmath.fsum(_mp(part[i]) for part in parts)
            errors[i] = float(abs(got - value) / _mp(ulp(float(value), dtype)))
    return errors


def _relative(got, exact):
    """|got / exact - 1| of float results against nonzero mpf exact values."""
    with mpmath.workdps(MP_DPS):
        return np.array([float(abs(_mp(g) / e - 1)) for g, e in zip(got, exact, strict=True)])


def _walk(center, dtype, n):
    """The 2n + 1 consecutive floats of ``dtype`` centred on ``center``."""
    int_type = np.int32 if np.dtype(dtype) == np.float32 else np.int64
    bits = np.array([center], dtype).view(int_type)[0]
    return np.arange(bits - n, bits + n + 1, dtype=int_type).view(dtype)


def _low_part(y, rng):
    """A random lo with |lo| <= ulp(y) / 2 (0 where that is below the smallest subnormal)."""
    dtype = y.dtype
    lo = (rng.uniform(-0.5, 0.5, y.size) * np.spacing(np.abs(y)).astype(np.float64)).astype(dtype)
    return np.where(np.abs(lo) <= np.spacing(np.abs(y)) / 2, lo, dtype.type(0))


def _is_power_of_two(s):
    mantissa, _ = np.frexp(np.asarray(s, np.float64))
    return bool(np.all(mantissa == 0.5))


def _exp_inputs(dtype, rng, n=800):
    """Finite x over exp's whole range: uniform, small magnitudes, subnormal results,
    x / ln 2 halfway between integers, the clamps and beyond, and consecutive floats
    at the overflow and underflow thresholds."""
    overflow, subnormal, zero = EXP_LIMITS[np.dtype(dtype)]
    lo, hi = CLAMPS[np.dtype(dtype)]
    tiny_power = -40 if dtype == np.float32 else -300
    halves = (np.arange(math.floor(zero / LN2), math.ceil(overflow / LN2), 7) + 0.5) * LN2
    parts = [
        rng.uniform(zero - 1, overflow + 1, n),
        rng.uniform(zero, subnormal, n // 4),
        rng.uniform(-1, 1, n // 4),
        rng.choice([-1.0, 1.0], n // 4) * 10.0 ** rng.uniform(tiny_power, 0, n // 4),
        halves,
        [0.0, -0.0, lo, hi, lo - 1, hi + 1, 2 * lo, 2 * hi],
    ]
    x = np.concatenate([np.asarray(p, np.float64) for p in parts]).astype(dtype)
    return np.concatenate([x, *(_walk(limit, dtype, 20) for limit in EXP_LIMITS[np.dtype(dtype)])])


def _nonpositive_inputs(dtype, rng, n=800):
    """y <= 0 within exp's lower clamp: uniform, subnormal results, small magnitudes,
    and consecutive floats at the thresholds."""
    _, subnormal, zero = EXP_LIMITS[np.dtype(dtype)]
    lo, _ = CLAMPS[np.dtype(dtype)]
    tiny_power = -40 if dtype == np.float32 else -300
    parts = [
        rng.uniform(lo, 0, n),
        rng.uniform(zero - 0.5, subnormal, n // 4),
        -(10.0 ** rng.uniform(tiny_power, 0, n // 4)),
        [0.0, -0.0, lo],
    ]
    y = np.concatenate([np.asarray(p, np.float64) for p in parts]).astype(dtype)
    return np.concatenate([y, _walk(subnormal, dtype, 20), _walk(zero, dtype, 20)])


# ------------------------------------------------------------------ fma


@floats
def test_fma_rounds_once(dtype, rng):
    """a * b + c within half an ulp of the exact value, where the rounded product is not."""
    a = rng.uniform(-4, 4, 500).astype(dtype)
    b = rng.uniform(-4, 4, 500).astype(dtype)
    c = (-(a * b) * (1 + rng.uniform(-1e-3, 1e-3, 500))).astype(dtype)  # cancellation shows the product's low bits
    exact = mp_evaluate(lambda a, b, c: a * b + c, a, b, c)
    assert ulp_distance(_fma_loop(a, b, c), exact, dtype).max() <= 0.5
    assert ulp_distance(a * b + c, exact, dtype).max() > 1  # these inputs tell the two apart

    # (1 + h)**2 = 1 + 2h + h**2 with h**2 below half an ulp of 1: unfused, h**2 is lost
    e = (np.finfo(dtype).nmant + 2) // 2
    one_plus_h, one_plus_2h = dtype(1 + 2.0**-e), dtype(1 + 2.0 ** (1 - e))
    assert one_plus_h * one_plus_h - one_plus_2h == 0
    got = _fma_loop(*(np.array([v], dtype) for v in (one_plus_h, one_plus_h, -one_plus_2h)))
    assert got[0] == 2.0 ** (-2 * e)


def test_fma_refuses_mixed_types():
    call = numba.njit(lambda a, b, c: _math.fma(a, b, c))
    for args in [(np.float32(1), 1.0, 1.0), (1, 2, 3)]:
        with pytest.raises(TypingError, match="fma needs three arguments of one float type"):
            call(*args)


# ------------------------------------------------------------------ exp

# exp's documented worst: 1.06 ulp in float32, 0.98 in float64.
EXP_ULP = {np.dtype(np.float32): 1.07, np.dtype(np.float64): 1.0}
# hi + lo of exp_parts and exp_unscaled (measured): the low part holds the
# rounding of 1 + expm1(r), not that of r or of expm1(r), so the pair is
# within these bounds rather than far below an ulp.
EXP_PAIR_ULP = {np.dtype(np.float32): 0.6, np.dtype(np.float64): 0.5}


@floats
def test_exp_within_bound(dtype, rng):
    x = _exp_inputs(dtype, rng)
    got = _exp_loop(x)[0]
    distance = ulp_distance(got, mp_evaluate(mpmath.exp, x), dtype)
    assert distance.max() <= EXP_ULP[np.dtype(dtype)], x[distance.argmax()]
    # inf beyond the overflow threshold, 0 below the underflow one, subnormal results between
    overflow, _, zero = EXP_LIMITS[np.dtype(dtype)]
    assert np.isinf(got[x > overflow]).all() and np.isfinite(got[x < overflow]).all()
    assert (got[x < zero] == 0).all() and (got[x > zero] > 0).all()
    assert ((got > 0) & (got < np.finfo(dtype).tiny)).sum() > 100


@floats
def test_exp_special_values(dtype):
    info = np.finfo(dtype)
    x = np.array([np.nan, -np.inf, np.inf, 0.0, -0.0, -info.max, info.max, -1e30, 1e30], dtype)
    out = _exp_loop(x)
    e, hi, lo = out[:3]
    assert np.isnan(e[0]) and np.isnan(hi[0]) and np.isnan(lo[0])
    assert e[1] == 0 and not np.signbit(e[1]) and hi[1] == 0 and lo[1] == 0
    assert e[2] == np.inf and hi[2] == np.inf
    np.testing.assert_array_equal(e[3:], [1, 1, 0, np.inf, 0, np.inf])
    # exp_unscaled: NaN in both parts; the product of the parts is 0 at -inf and inf at inf
    u_hi, u_lo, s1, s2 = out[3:]
    assert np.isnan(u_hi[0]) and np.isnan(u_lo[0])
    with np.errstate(over="ignore"):
        assert (u_hi[1] * s1[1]) * s2[1] == 0
        assert (u_hi[2] * s1[2]) * s2[2] == np.inf


@floats
def test_exp_unscaled_parts(dtype, rng):
    """(hi + lo) s1 s2 = e**x, hi + lo in [0.7, 1.5), lo the rounding error of hi, and s1, s2
    normal powers of two; beyond the clamps, the clamp's parts."""
    x = _exp_inputs(dtype, rng)
    hi, lo, s1, s2 = _exp_loop(x)[3:]
    pair = hi.astype(np.float64) + lo
    assert (pair >= 0.7).all() and (pair < 1.5).all()
    assert (hi + lo == hi).all()  # lo is at most half an ulp of hi
    assert _is_power_of_two(s1) and _is_power_of_two(s2)
    assert (s1 >= np.finfo(dtype).tiny).all() and (s2 >= np.finfo(dtype).tiny).all()
    lo_clamp, hi_clamp = CLAMPS[np.dtype(dtype)]
    at_clamps = _exp_loop(np.array([lo_clamp, hi_clamp], dtype))[3:]
    for side, beyond in enumerate([x < lo_clamp, x > hi_clamp]):
        assert beyond.any()
        parts = np.stack([hi, lo, s1, s2])[:, beyond]
        np.testing.assert_array_equal(parts, np.broadcast_to(at_clamps[:, side : side + 1], parts.shape))
    inside = (x >= lo_clamp) & (x <= hi_clamp)
    exact = _exact(lambda x, s1, s2: mpmath.exp(x) / (s1 * s2), x[inside], s1[inside], s2[inside])
    errors = _sum_ulps([hi[inside], lo[inside]], exact, dtype)
    assert errors.max() <= EXP_PAIR_ULP[np.dtype(dtype)], x[inside][errors.argmax()]


@floats
def test_exp_parts(dtype, rng):
    """hi is exp(x), |lo| <= ulp(hi) / 2, and hi + lo within EXP_PAIR_ULP of e**x (plus half
    the smallest subnormal, the spacing lo is rounded to), closer than hi alone."""
    x = _exp_inputs(dtype, rng)
    e, hi, lo = _exp_loop(x)[:3]
    np.testing.assert_array_equal(hi, e)
    finite = np.isfinite(hi) & (hi > 0)
    x, hi, lo = x[finite], hi[finite], lo[finite]
    assert (np.abs(lo) <= ulp(hi, dtype) / 2).all()
    errors = _sum_ulps([hi, lo], _exact(mpmath.exp, x), dtype)
    allowed = EXP_PAIR_ULP[np.dtype(dtype)] + 0.5 * (float(np.finfo(dtype).smallest_subnormal) / ulp(hi, dtype))
    assert (errors <= allowed).all(), x[np.argmax(errors - allowed)]
    assert errors.max() < ulp_distance(hi, mp_evaluate(mpmath.exp, x), dtype).max()


@floats
def test_exp_parts_nonpositive(dtype, rng):
    """exp_parts for y <= 0, bit for bit, except that where 2**n is below the smallest
    subnormal it gives 0 (as documented): within 1 ulp of e**y still; 0 at -inf and
    NaN for NaN."""
    y = _nonpositive_inputs(dtype, rng)
    hi, lo = _exp_nonpositive_loop(y, np.zeros_like(y))[:2]
    parts_hi, parts_lo = _exp_loop(y)[1:3]
    np.testing.assert_array_equal(lo, parts_lo)
    differ = hi != parts_hi
    assert (hi[differ] == 0).all() and (parts_hi[differ] == np.finfo(dtype).smallest_subnormal).all()
    assert ulp_distance(hi, mp_evaluate(mpmath.exp, y), dtype).max() <= EXP_ULP[np.dtype(dtype)]
    specials = _exp_nonpositive_loop(np.array([-np.inf, np.nan], dtype), np.zeros(2, dtype))
    assert specials[0, 0] == 0 and specials[1, 0] == 0 and not np.signbit(specials[0, 0])
    assert np.isnan(specials[0, 1]) and np.isnan(specials[1, 1])


@floats
def test_exp_unscaled_nonpositive(dtype, rng):
    """exp_unscaled's hi, lo and s1 s2 for y <= 0, with s2 = 2**-K and s1 = 2**(n + K) normal;
    -inf gives the clamp's parts, which s2 scales to 0."""
    y = _nonpositive_inputs(dtype, rng)
    hi, lo, s1, s2 = _exp_nonpositive_loop(y, np.zeros_like(y))[2:6]
    u_hi, u_lo, u_s1, u_s2 = _exp_loop(y)[3:]
    np.testing.assert_array_equal(hi, u_hi)
    np.testing.assert_array_equal(lo, u_lo)
    k = _math.prescale_exponent(NUMBA_TYPES[np.dtype(dtype)])
    assert (s2 == 2.0**-k).all()
    assert _is_power_of_two(s1) and (s1 >= np.finfo(dtype).tiny).all()
    # s1 s2 = 2**n exactly: compare exponents, since the product may underflow
    np.testing.assert_array_equal(np.frexp(s1)[1] - k, np.frexp(u_s1)[1] + np.frexp(u_s2)[1] - 1)
    lo_clamp = CLAMPS[np.dtype(dtype)][0]
    at = _exp_nonpositive_loop(np.array([-np.inf, lo_clamp, np.nan], dtype), np.zeros(3, dtype))[2:6]
    np.testing.assert_array_equal(at[:, 0], at[:, 1])
    assert (at[0, 0] * at[2, 0]) * at[3, 0] == 0
    assert np.isnan(at[0, 2]) and np.isnan(at[1, 2])


# exp_prescaled's measured worst (its docstring gives no bound): the pair's error and a rounding.
PRESCALED_ULP = {np.dtype(np.float32): 1.1, np.dtype(np.float64): 1.15}


@floats
def test_exp_prescaled(dtype, rng):
    """e**(y + lo) 2**K for y <= 0 and |lo| <= ulp(y) / 2, normal down to exp's clamp."""
    y = _nonpositive_inputs(dtype, rng)
    y_lo = _low_part(y, rng)
    got = _exp_nonpositive_loop(y, y_lo)[6]
    k = _math.prescale_exponent(NUMBA_TYPES[np.dtype(dtype)])
    exact = mp_evaluate(lambda y, lo: mpmath.exp(y + lo) * mpmath.mpf(2) ** k, y, y_lo)
    distance = ulp_distance(got, exact, dtype)
    assert distance.max() <= PRESCALED_ULP[np.dtype(dtype)], y[distance.argmax()]
    assert (got >= np.finfo(dtype).tiny).all()


@floats
def test_exp_prescaled_special_values(dtype):
    """-inf gives the value at exp's lower clamp (a normal number), NaN gives NaN."""
    lo_clamp = CLAMPS[np.dtype(dtype)][0]
    y = np.array([-np.inf, lo_clamp, np.nan, -1e30], dtype)
    got = _exp_nonpositive_loop(y, np.zeros_like(y))[6]
    assert got[0] == got[1] == got[3]
    assert np.finfo(dtype).tiny <= got[0] < 2 * np.finfo(dtype).tiny
    assert np.isnan(got[2])


@floats
def test_prescale_exponent(dtype):
    """K keeps 2**(n + K) normal for the n of exp's lower clamp; exp_prescale is 2**K, and
    K is the docstring's 48 (float32) or 89 (float64)."""
    k = _math.prescale_exponent(NUMBA_TYPES[np.dtype(dtype)])
    assert k == {np.dtype(np.float32): 48, np.dtype(np.float64): 89}[np.dtype(dtype)]
    n = round(CLAMPS[np.dtype(dtype)][0] / LN2)  # the n that the reduction picks at the clamp
    assert 2.0 ** (n + k) >= np.finfo(dtype).tiny
    _, scale = _small_kernels_loop(np.ones(1, dtype))
    assert scale[0] == 2.0**k


def _split_range(dtype):
    """The y of exp_split whose power of two is normal for both the nearest n and the next."""
    info = np.finfo(dtype)
    return (info.minexp + 1) * LN2, (info.maxexp - 2) * LN2


# exp_split's measured worst relative error, in units of the type's epsilon (no documented bound).
SPLIT_EPS = {np.dtype(np.float32): 0.45, np.dtype(np.float64): 0.4}


@floats
def test_exp_split(dtype, rng):
    """e**y = s (1 + p), s a normal power of two and |p| <= sqrt(2) - 1; with clamps, the
    clamps' results beyond them; NaN gives NaN in p."""
    lo, hi = _split_range(dtype)
    y = np.concatenate([rng.uniform(lo, hi, 1000), rng.uniform(-1, 1, 200), [lo, hi, 0.0, -0.0]]).astype(dtype)
    p, s, p_clamped, s_clamped = _exp_split_loop(y, dtype(-10.0), dtype(10.0))
    assert _is_power_of_two(s) and (s >= np.finfo(dtype).tiny).all() and np.isfinite(s).all()
    assert (np.abs(p) <= math.sqrt(2) - 1).all()
    exact = _exact(mpmath.exp, y)
    with mpmath.workdps(MP_DPS):
        got = [_mp(si) * (1 + _mp(pi)) for pi, si in zip(p, s, strict=True)]
    errors = _relative(got, exact) / np.finfo(dtype).eps
    assert errors.max() <= SPLIT_EPS[np.dtype(dtype)], y[errors.argmax()]
    inside = (y >= -10) & (y <= 10)
    np.testing.assert_array_equal(p_clamped[inside], p[inside])
    np.testing.assert_array_equal(s_clamped[inside], s[inside])
    at = _exp_split_loop(np.array([-10.0, 10.0], dtype), dtype(-10.0), dtype(10.0))
    for side, beyond in enumerate([y < -10, y > 10]):
        assert beyond.any()
        assert (p_clamped[beyond] == at[0, side]).all() and (s_clamped[beyond] == at[1, side]).all()
    nan = _exp_split_loop(np.array([np.nan], dtype), dtype(-10.0), dtype(10.0))
    assert np.isnan(nan[0, 0]) and np.isnan(nan[2, 0])


# exp_split_for_f32's measured worst (its docstring: about 1e-8).
SPLIT_FOR_F32_RELATIVE = 8.2e-9


def test_exp_split_for_f32(rng):
    """e**y = s (1 + p) in float64 to float32 accuracy, s a normal power of two."""
    lo, hi = _split_range(np.float64)
    y = np.concatenate([rng.uniform(lo, hi, 1500), rng.uniform(-1, 1, 200), [0.0]])
    p, s = _exp_split_for_f32_loop(y)
    assert _is_power_of_two(s) and (s >= np.finfo(np.float64).tiny).all()
    with mpmath.workdps(MP_DPS):
        got = [_mp(si) * (1 + _mp(pi)) for pi, si in zip(p, s, strict=True)]
    errors = _relative(got, _exact(mpmath.exp, y))
    assert errors.max() <= SPLIT_FOR_F32_RELATIVE, y[errors.argmax()]
    assert np.isnan(_exp_split_for_f32_loop(np.array([np.nan]))[0, 0])


# ------------------------------------------------------------------ small kernels


@floats
def test_smallest_normal_and_limit_zero(dtype):
    """smallest_normal is finfo.tiny; limit_zero keeps every number (-0.0, +-inf included) and
    makes a NaN (inf * 0) 0.0."""
    with np.errstate(invalid="ignore"):
        inf_times_zero = np.array([np.inf], dtype) * 0
    t = np.concatenate([inf_times_zero, np.array([1.5, -0.0, 0.0, np.inf, -np.inf, -3e-39], dtype)])
    out, _ = _small_kernels_loop(t)
    assert (out[0] == np.finfo(dtype).tiny).all()
    expected = np.concatenate([np.zeros(1, dtype), t[1:]])
    np.testing.assert_array_equal(out[2], expected, strict=True)
    np.testing.assert_array_equal(np.signbit(out[2]), np.signbit(expected))


_CONSTANTS = {
    "pi": lambda: +mpmath.pi,
    "e": lambda: +mpmath.e,
    "sqrt(2/pi)": lambda: mpmath.sqrt(2 / mpmath.pi),
    "ln 2": lambda: +mpmath.ln2,
    "1/3": lambda: mpmath.mpf(1) / 3,
    "0.044715": lambda: mpmath.mpf(0.044715),
    "-1e-20": lambda: -mpmath.mpf("1e-20"),
}


@floats
def test_split_constant(dtype):
    """hi + lo of type T carries a float64 pair hi64 + lo64: exactly for float64, and to within
    2**-47 relatively for float32 (two roundings to 24 bits); hi is hi64 rounded."""
    with mpmath.workdps(MP_DPS):
        values = [c() for c in _CONSTANTS.values()]
        hi64 = np.array([float(v) for v in values])
        lo64 = np.array([float(v - mpmath.mpf(h)) for v, h in zip(values, hi64, strict=True)])
        pairs = [_mp(h) + _mp(lo) for h, lo in zip(hi64, lo64, strict=True)]
    hi, lo = _split_constant_loop(hi64, lo64, np.zeros(1, dtype))
    np.testing.assert_array_equal(hi, hi64.astype(dtype))
    with mpmath.workdps(MP_DPS):
        errors = np.array([float(abs((_mp(h) + _mp(lo)) / p - 1)) for h, lo, p in zip(hi, lo, pairs, strict=True)])
    assert errors.max() <= (0 if dtype == np.float64 else 2.0**-47)
    assert (np.abs(lo) <= ulp(hi, dtype)).all()


def test_to_float64_floored():
    """float32 x as float64, exactly, floored at F32_FLOOR; NaN, inf and -0.0 pass."""
    info = np.finfo(np.float32)
    x = np.array(
        [np.nan, -np.inf, -info.max, -1e30, -120.5, _math.F32_FLOOR, -119.99, -1.0, -0.0, 0.0, 1e-45, 3.5, np.inf],
        np.float32,
    )
    got = _to_float64_floored_loop(x)
    x64 = x.astype(np.float64)
    with np.errstate(invalid="ignore"):
        expected = np.where(x64 < _math.F32_FLOOR, _math.F32_FLOOR, x64)
    np.testing.assert_array_equal(got, expected, strict=True)
    assert np.signbit(got[8]) and not np.signbit(got[9])


def test_f32_floor():
    """Below F32_FLOOR, x sigmoid(t) with |x| <= |t| rounds to 0 in float32, and float64's exp
    is normal there."""
    with mpmath.workdps(MP_DPS):
        t = mpmath.mpf(_math.F32_FLOOR)
        largest = -t / (1 + mpmath.exp(-t))  # the largest |x sigmoid(t)| for t <= F32_FLOOR, |x| <= |t|
        assert largest < mpmath.mpf(float(np.finfo(np.float32).smallest_subnormal)) / 2
        assert mpmath.exp(t) > mpmath.mpf(float(np.finfo(np.float64).tiny))


def test_inv_sqrt_2pi():
    """INV_SQRT_2PI is 1/sqrt(2 pi) rounded to float64, and INV_SQRT_2PI_LO the rest."""
    with mpmath.workdps(MP_DPS):
        exact = 1 / mpmath.sqrt(2 * mpmath.pi)
        assert _normal.INV_SQRT_2PI == float(exact)
        assert _normal.INV_SQRT_2PI_LO == float(exact - mpmath.mpf(_normal.INV_SQRT_2PI))


# ------------------------------------------------------------------ log1p_unit and ratio_of_one_plus


def _unit_inputs(dtype, rng, n=1000):
    """(hi, lo) with hi + lo in [0, 1] and |lo| <= ulp(hi) / 2: uniform, log-uniform down to
    the smallest normal number, subnormal, around sqrt(2) - 1, and 0 and 1."""
    info = np.finfo(dtype)
    hi = np.concatenate(
        [
            rng.uniform(0, 1, n),
            10.0 ** rng.uniform(np.log10(float(info.tiny)), 0, n // 2),
            rng.uniform(0, float(info.tiny), 20),
            _walk(math.sqrt(2) - 1, dtype, 50).astype(np.float64),
            [0.0, 1.0, float(info.smallest_subnormal)],
        ]
    ).astype(dtype)
    lo = _low_part(hi, rng)
    lo[hi == 1] = -np.abs(lo[hi == 1])
    lo[hi == 0] = 0
    return hi, lo


# log1p_unit's measured worst (its docstring gives no bound).
LOG1P_ULP = {np.dtype(np.float32): 1.15, np.dtype(np.float64): 1.55}


@floats
def test_log1p_unit(dtype, rng):
    """log(1 + y) for y = hi + lo in [0, 1]: 0 at 0, and within LOG1P_ULP."""
    y_hi, y_lo = _unit_inputs(dtype, rng)
    got = _log1p_loop(_math.log1p_unit, y_hi, y_lo)
    distance = ulp_distance(got, mp_evaluate(lambda hi, lo: mpmath.log1p(hi + lo), y_hi, y_lo), dtype)
    assert distance.max() <= LOG1P_ULP[np.dtype(dtype)], y_hi[distance.argmax()]
    assert got[y_hi == 0][0] == 0


def _nonnegative_inputs(rng, n=1000):
    """float64 (hi, lo) with hi + lo >= 0 and |lo| <= ulp(hi) / 2: those of
    _unit_inputs, log-uniform up to 1e300, whole numbers with a small rest
    (log_softmax's count of maxima less one, plus the other terms), and
    consecutive floats where 1 + y crosses sqrt(2) 2**k (the scaling's edges)."""
    hi = np.concatenate(
        [
            _unit_inputs(np.float64, rng, n)[0],
            10.0 ** rng.uniform(0, 300, n),
            rng.integers(1, 5000, n) + 10.0 ** rng.uniform(-300, 0, n),
            *(_walk(math.sqrt(2) * 2.0**k - 1, np.float64, 20) for k in range(0, 64, 3)),
        ]
    )
    return hi, _low_part(hi, rng)


# log1p_nonnegative's measured worst (0.94 ulp, y near 1e-16), with a margin.
LOG1P_NONNEGATIVE_ULP = 1.0


def test_log1p_nonnegative(rng):
    """log(1 + y) for float64 y = hi + lo >= 0: 0 at 0, within LOG1P_NONNEGATIVE_ULP, NaN for NaN."""
    y_hi, y_lo = _nonnegative_inputs(rng)
    got = _log1p_loop(_math.log1p_nonnegative, y_hi, y_lo)
    distance = ulp_distance(got, mp_evaluate(lambda hi, lo: mpmath.log1p(hi + lo), y_hi, y_lo), np.float64)
    assert distance.max() <= LOG1P_NONNEGATIVE_ULP, y_hi[distance.argmax()]
    assert got[y_hi == 0][0] == 0
    assert np.isnan(_log1p_loop(_math.log1p_nonnegative, np.array([np.nan]), np.array([0.0]))[0])
    # Below 2**-54 log1p(y) rounds to y, subnormal y included.
    tiny = np.array([5e-324, 1.5e-323, 1e-310, 2.5e-308, 1e-200, 2.0**-55])
    np.testing.assert_array_equal(_log1p_loop(_math.log1p_nonnegative, tiny, np.zeros_like(tiny)), tiny)


# q + c of ratio_of_one_plus, in ulp of the result (measured): twice working precision less a few bits.
RATIO_PAIR_ULP = {np.dtype(np.float32): 2.0**-20, np.dtype(np.float64): 2.0**-49}


@floats
def test_ratio_of_one_plus(dtype, rng):
    """q + c = e / (1 + e) for e = hi + lo in [0, 1], to about twice working precision."""
    e_hi, e_lo = _unit_inputs(dtype, rng)
    q, c = _ratio_loop(e_hi, e_lo)
    exact = _exact(lambda hi, lo: (hi + lo) / (1 + hi + lo), e_hi, e_lo)
    errors = _sum_ulps([q, c], exact, dtype)
    # where c is subnormal it is rounded to the smallest subnormal's spacing
    allowed = RATIO_PAIR_ULP[np.dtype(dtype)] + 0.5 * (float(np.finfo(dtype).smallest_subnormal) / ulp(q, dtype))
    assert (errors <= allowed).all(), e_hi[np.argmax(errors - allowed)]
    assert q[e_hi == 0][0] == 0 and c[e_hi == 0][0] == 0


# ------------------------------------------------------------------ x_sigmoid

# x_sigmoid's measured worst (its docstring gives no bound): 1.15 ulp, and
# 2.25 where e**-|t| is normal but its low part is not, which loses bits.
X_SIGMOID_ULP = {np.dtype(np.float32): 1.2, np.dtype(np.float64): 1.2}
X_SIGMOID_ULP_LOW_PART_SUBNORMAL = {np.dtype(np.float32): 2.5, np.dtype(np.float64): 2.5}


def _x_sigmoid_inputs(dtype, rng, n=600):
    """(x, t, t_lo) with |x| <= |t|: silu's x = t, and x a random fraction of t with a low part,
    over t's whole range, through exp's thresholds to F32_FLOOR and -800."""
    _, subnormal, zero = EXP_LIMITS[np.dtype(dtype)]
    tiny_power = -40 if dtype == np.float32 else -300
    t = np.concatenate(
        [
            rng.uniform(-40, 40, n),
            rng.uniform(-800, 0, n // 2),
            rng.uniform(zero - 2, subnormal + 1, n // 2),
            rng.choice([-1.0, 1.0], n // 2) * 10.0 ** rng.uniform(tiny_power, 3, n // 2),
        ]
    ).astype(dtype)
    x = np.concatenate([t, (t * rng.uniform(-1, 1, t.size)).astype(dtype)])
    t_lo = np.concatenate([np.zeros_like(t), _low_part(t, rng)])
    return x, np.concatenate([t, t]), t_lo


def _x_sigmoid_bound(t, dtype):
    """X_SIGMOID_ULP, or X_SIGMOID_ULP_LOW_PART_SUBNORMAL where e**-|t| is below 2**p times the
    smallest normal number (p the type's precision), so that its low part is subnormal."""
    info = np.finfo(dtype)
    low_part_subnormal = np.exp(-np.abs(t.astype(np.float64))) < float(info.tiny) * 2.0 ** (info.nmant + 1)
    return np.where(
        low_part_subnormal, X_SIGMOID_ULP_LOW_PART_SUBNORMAL[np.dtype(dtype)], X_SIGMOID_ULP[np.dtype(dtype)]
    )


@floats
def test_x_sigmoid(dtype, rng):
    """x sigmoid(t + t_lo) for |x| <= |t| (silu's x = t, and x a fraction of t with a low part)
    within X_SIGMOID_ULP."""
    x, t, t_lo = _x_sigmoid_inputs(dtype, rng)
    got = _x_sigmoid_loop(x, t, t_lo)
    exact = mp_evaluate(lambda x, t, lo: x / (1 + mpmath.exp(-(t + lo))), x, t, t_lo)
    distance = ulp_distance(got, exact, dtype)
    bound = _x_sigmoid_bound(t, dtype)
    assert (distance <= bound).all(), (x[np.argmax(distance - bound)], t[np.argmax(distance - bound)])


@floats
def test_x_sigmoid_special_values(dtype):
    """-inf gives -0.0, inf gives inf, NaN gives NaN, a zero keeps its sign; where e**t is
    subnormal a normal result keeps its bits."""
    x = np.array([-np.inf, np.inf, np.nan, 1.0, -0.0, 0.0], dtype)
    t = np.array([-np.inf, np.inf, 1.0, np.nan, -0.0, 0.0], dtype)
    got = _x_sigmoid_loop(x, t, np.zeros_like(x))
    assert got[0] == 0 and np.signbit(got[0]) and got[1] == np.inf
    assert np.isnan(got[2]) and np.isnan(got[3])
    assert got[4] == 0 and np.signbit(got[4]) and got[5] == 0 and not np.signbit(got[5])
    # x = t where e**t is subnormal and x e**t is not
    _, subnormal, _ = EXP_LIMITS[np.dtype(dtype)]
    t = np.linspace(subnormal - math.log(-subnormal) + 0.5, subnormal, 200).astype(dtype)
    got = _x_sigmoid_loop(t, t, np.zeros_like(t))
    assert (np.abs(got) >= np.finfo(dtype).tiny).all()
    assert ulp_distance(got, mp_evaluate(lambda t: t / (1 + mpmath.exp(-t)), t), dtype).max() <= 1


# x_sigmoid_for_f32: "within about 1e-8 relatively", and "within about half an ulp" once
# rounded: a float64 within 1e-8 of the exact value rounds to within 0.5 + 1e-8 / 2**-24 ulp
# of float32 (measured: 8.1e-9 and 0.62).
X_SIGMOID_F32_RELATIVE = 1e-8
X_SIGMOID_F32_ROUNDED_ULP = 0.5 + X_SIGMOID_F32_RELATIVE * 2**24


def test_x_sigmoid_for_f32(rng):
    """x sigmoid(t) in float64 within 1e-8 relatively, and within about half an ulp once rounded
    to float32, subnormal results included, for silu's x = t and gelu_tanh's t = 2u."""
    x32 = np.concatenate(
        [
            rng.uniform(-130, 40, 1500),
            rng.uniform(-104, -87, 300),  # subnormal float32 results
            rng.choice([-1.0, 1.0], 300) * 10.0 ** rng.uniform(-45, 2, 300),
            [0.0, -0.0, np.inf, -np.inf],
        ]
    ).astype(np.float32)
    x = _to_float64_floored_loop(x32)
    c = math.sqrt(2 / math.pi)
    with np.errstate(over="ignore"):
        t_gelu = np.maximum(2 * c * x * (1 + 0.044715 * x * x), _math.F32_FLOOR)
    for t, exact_fn in [
        (x, lambda x: x / (1 + mpmath.exp(-x))),
        (t_gelu, lambda x: x / (1 + mpmath.exp(-2 * c * x * (1 + 0.044715 * x * x)))),
    ]:
        got = _x_sigmoid_for_f32_loop(x, t)
        finite = np.isfinite(x32) & (x32 != 0) & (x32 > _math.F32_FLOOR)
        exact_t = _exact(lambda x, t: x / (1 + mpmath.exp(-t)), x[finite], t[finite])
        errors = _relative(got[finite], exact_t)
        assert errors.max() <= X_SIGMOID_F32_RELATIVE, x[finite][errors.argmax()]
        rounded = got.astype(np.float32)
        nonzero = x32 != 0  # mpmath's zero has no sign
        distance = ulp_distance(rounded[nonzero], mp_evaluate(exact_fn, x32[nonzero]), np.float32)
        assert distance.max() <= X_SIGMOID_F32_ROUNDED_ULP, x32[nonzero][distance.argmax()]
        np.testing.assert_array_equal(rounded[~nonzero], x32[~nonzero] * 0.5, strict=True)
        assert (np.signbit(rounded[~nonzero]) == np.signbit(x32[~nonzero])).all()
    assert np.isnan(_x_sigmoid_for_f32_loop(np.array([np.nan]), np.array([np.nan]))[0])


# ------------------------------------------------------------------ normal_tail


def _mp_tail(a):
    """exp(a**2/2) Phi(-a)."""
    return mpmath.exp(a * a / 2) * mpmath.erfc(a / mpmath.sqrt(2)) / 2


# normal_tail's h + h_lo (measured): "about half an ulp of h" holds below a = 13,
# where t is exact; above, up to 0.96 (both documented).
NORMAL_TAIL_ULP = 0.5
NORMAL_TAIL_ULP_ABOVE_13 = 1.0
# exp(-a**2/2) as its parts give it, relatively, in float64 epsilons (measured: 0.31).
NORMAL_TAIL_EXP_EPS = 0.4


def _normal_tail_exp_eps(a, p_hi, p_lo, s1, s2):
    """|(p_hi + p_lo) s1 s2 / exp(-a**2/2) - 1| in float64 epsilons."""
    with mpmath.workdps(MP_DPS):
        got = [(_mp(p) + _mp(q)) * _mp(u) * _mp(v) for p, q, u, v in zip(p_hi, p_lo, s1, s2, strict=True)]
    return _relative(got, _exact(lambda a: mpmath.exp(-a * a / 2), a)) / np.finfo(np.float64).eps


def test_normal_tail(rng):
    """xc = x clamped to [-A_MAX, A_MAX]; h + h_lo = exp(a**2/2) Phi(-a) for a = |xc|; the exp
    parts give exp(-a**2/2) wherever that is within exp's clamp, and beyond it x Phi(-a)
    from the parts rounds to 0, as it does exactly."""
    x = np.concatenate(
        [
            rng.uniform(-45, 45, 800),
            rng.uniform(-2, 2, 200),
            rng.choice([-1.0, 1.0], 100) * 10.0 ** rng.uniform(-300, 0, 100),
            _walk(13.0, np.float64, 20),
            _walk(A_MAX, np.float64, 20),
            [0.0, -0.0, A_MAX, -A_MAX],
        ]
    )
    xc, h, h_lo, p_hi, p_lo, s1, s2 = _normal_tail_loop(x)
    np.testing.assert_array_equal(xc, np.clip(x, -A_MAX, A_MAX))
    a = np.abs(xc)
    errors = _sum_ulps([h, h_lo], _exact(_mp_tail, a), np.float64)
    bound = np.where(a < 13, NORMAL_TAIL_ULP, NORMAL_TAIL_ULP_ABOVE_13)
    assert (errors <= bound).all(), x[np.argmax(errors - bound)]

    inside = a * a / 2 <= -CLAMPS[np.dtype(np.float64)][0]
    errors = _normal_tail_exp_eps(a[inside], p_hi[inside], p_lo[inside], s1[inside], s2[inside])
    assert errors.max() <= NORMAL_TAIL_EXP_EPS, x[inside][errors.argmax()]
    outside = ~inside
    assert outside.any()
    b = (((xc * h) * p_hi) * s1) * s2
    assert (b[outside] == 0).all()
    assert all(
        float(xx * mpmath.erfc(_mp(aa) / mpmath.sqrt(2)) / 2) == 0
        for xx, aa in zip(xc[outside], a[outside], strict=True)
    )


def test_normal_tail_special_values():
    xc, h, h_lo, p_hi, p_lo, s1, s2 = _normal_tail_loop(np.array([np.nan, np.inf, -np.inf]))
    assert np.isnan(xc[0]) and np.isnan(h[0]) and np.isnan(h_lo[0]) and np.isnan(p_hi[0])
    np.testing.assert_array_equal(xc[1:], [A_MAX, -A_MAX])
    assert np.isfinite(h[1:]).all() and (h[1:] > 0).all()


# normal_tail_for_f32's e: exp_split_for_f32's error.
NORMAL_TAIL_F32_RELATIVE = {"h": 1e-9, "e": SPLIT_FOR_F32_RELATIVE}


def test_normal_tail_for_f32(rng):
    """xc = x clamped to [-A_MAX, A_MAX], a = |xc| exactly; h = exp(a**2/2) Phi(-a) and
    e = exp(-a**2/2) relatively within NORMAL_TAIL_F32_RELATIVE; NaN gives NaN."""
    x = np.concatenate(
        [
            rng.uniform(-20, 20, 1000),
            rng.choice([-1.0, 1.0], 100) * 10.0 ** rng.uniform(-45, 0, 100),
            _walk(A_MAX_F32, np.float32, 10).astype(np.float64),
            [0.0, -0.0, np.inf, -np.inf],
        ]
    ).astype(np.float32)
    xc, a, h, e = _normal_tail_for_f32_loop(x)
    np.testing.assert_array_equal(xc, np.clip(x.astype(np.float64), -A_MAX_F32, A_MAX_F32))
    np.testing.assert_array_equal(a, np.abs(xc))
    errors_h = _relative(h, _exact(_mp_tail, a))
    errors_e = _relative(e, _exact(lambda a: mpmath.exp(-a * a / 2), a))
    assert errors_h.max() <= NORMAL_TAIL_F32_RELATIVE["h"], x[errors_h.argmax()]
    assert errors_e.max() <= NORMAL_TAIL_F32_RELATIVE["e"], x[errors_e.argmax()]
    assert np.isnan(_normal_tail_for_f32_loop(np.array([np.nan], np.float32))).all()


# ------------------------------------------------------------------ slow sweeps
# Millions of inputs against long double references: 11 more bits than float64,
# so that the measured errors are good to about 1/2000 ulp of float64.


def _chunks(x, size=1 << 21):
    for start in range(0, x.size, size):
        yield x[start : start + size]


def _report(name, dtype, worst, at):
    print(f"{name} {np.dtype(dtype)}: worst {worst:.4g} at {at!r}")


@pytest.mark.slow
@long_double
@floats
def test_exp_sweep(dtype):
    """exp within EXP_ULP and exp_parts' hi + lo within EXP_PAIR_ULP (where lo is normal), and
    exp_split within SPLIT_EPS, over millions of inputs."""
    rng = np.random.default_rng(1)
    overflow, _, zero = EXP_LIMITS[np.dtype(dtype)]
    info = np.finfo(dtype)
    x = rng.uniform(zero - 1, overflow + 1, 20_000_000 if dtype == np.float32 else 8_000_000).astype(dtype)
    worst = {"exp": (0.0, None), "pair": (0.0, None), "split": (0.0, None)}
    split_lo, split_hi = _split_range(dtype)
    for chunk in _chunks(x):
        e, hi, lo = _exp_loop(chunk)[:3]
        ref = np.exp(chunk.astype(np.longdouble))
        with np.errstate(over="ignore"):
            distance = ulp_distance(e, ref, dtype)
        normal_lo = np.isfinite(hi) & (hi >= info.tiny * 2.0 ** (info.nmant + 1))
        with np.errstate(over="ignore", invalid="ignore"):
            pair = np.abs(hi.astype(np.longdouble) + lo - ref) / ulp(ref, dtype)
        pair = np.where(normal_lo, pair, 0).astype(np.float64)
        inside = (chunk >= split_lo) & (chunk <= split_hi)
        p, s = _exp_split_loop(chunk[inside], dtype(-1.0), dtype(1.0))[:2]
        split = (np.abs(s.astype(np.longdouble) * (1 + p.astype(np.longdouble)) / ref[inside] - 1) / info.eps).astype(
            np.float64
        )
        for name, errors, inputs in [("exp", distance, chunk), ("pair", pair, chunk), ("split", split, chunk[inside])]:
            if errors.max() > worst[name][0]:
                worst[name] = (float(errors.max()), inputs[errors.argmax()])
    for name, (w, at) in worst.items():
        _report(name, dtype, w, at)
    assert worst["exp"][0] <= EXP_ULP[np.dtype(dtype)]
    assert worst["pair"][0] <= EXP_PAIR_ULP[np.dtype(dtype)]
    assert worst["split"][0] <= SPLIT_EPS[np.dtype(dtype)]


@pytest.mark.slow
@long_double
@floats
def test_exp_prescaled_sweep(dtype):
    rng = np.random.default_rng(2)
    lo_clamp = CLAMPS[np.dtype(dtype)][0]
    k = _math.prescale_exponent(NUMBA_TYPES[np.dtype(dtype)])
    y = rng.uniform(lo_clamp, 0, 8_000_000).astype(dtype)
    worst, at = 0.0, None
    for chunk in _chunks(y):
        lo = _low_part(chunk, rng)
        got = _exp_nonpositive_loop(chunk, lo)[6]
        distance = ulp_distance(got, np.exp(chunk.astype(np.longdouble) + lo) * np.longdouble(2.0) ** k, dtype)
        if distance.max() > worst:
            worst, at = float(distance.max()), chunk[distance.argmax()]
    _report("exp_prescaled", dtype, worst, at)
    assert worst <= PRESCALED_ULP[np.dtype(dtype)]


@pytest.mark.slow
@long_double
def test_log1p_nonnegative_sweep():
    rng = np.random.default_rng(4)
    worst, at = 0.0, None
    for _ in range(4):
        hi, lo = _nonnegative_inputs(rng, 500_000)
        got = _log1p_loop(_math.log1p_nonnegative, hi, lo)
        distance = ulp_distance(got, np.log1p(hi.astype(np.longdouble) + lo), np.float64)
        if distance.max() > worst:
            worst, at = float(distance.max()), hi[distance.argmax()]
    _report("log1p_nonnegative", np.float64, worst, at)
    assert worst <= LOG1P_NONNEGATIVE_ULP


@pytest.mark.slow
@long_double
@floats
def test_log1p_unit_sweep(dtype):
    rng = np.random.default_rng(3)
    worst, at = 0.0, None
    for _ in range(4):
        hi, lo = _unit_inputs(dtype, rng, 2_000_000)
        got = _log1p_loop(_math.log1p_unit, hi, lo)
        distance = ulp_distance(got, np.log1p(hi.astype(np.longdouble) + lo), dtype)
        if distance.max() > worst:
            worst, at = float(distance.max()), hi[distance.argmax()]
    _report("log1p_unit", dtype, worst, at)
    assert worst <= LOG1P_ULP[np.dtype(dtype)]


@pytest.mark.slow
@long_double
@floats
def test_x_sigmoid_sweep(dtype):
    rng = np.random.default_rng(4)
    worst = {"bulk": (0.0, None), "low part subnormal": (0.0, None)}
    for _ in range(6):
        x, t, t_lo = _x_sigmoid_inputs(dtype, rng, 1_000_000)
        got = _x_sigmoid_loop(x, t, t_lo)
        with np.errstate(over="ignore"):
            ref = x.astype(np.longdouble) / (1 + np.exp(-(t.astype(np.longdouble) + t_lo)))
        distance = ulp_distance(got, ref, dtype)
        band = _x_sigmoid_bound(t, dtype) > X_SIGMOID_ULP[np.dtype(dtype)]
        for name, part in [("bulk", ~band), ("low part subnormal", band)]:
            d = np.where(part, distance, 0)
            if d.max() > worst[name][0]:
                worst[name] = (float(d.max()), (x[d.argmax()], t[d.argmax()]))
    for name, (w, at) in worst.items():
        _report(f"x_sigmoid {name}", dtype, w, at)
    assert worst["bulk"][0] <= X_SIGMOID_ULP[np.dtype(dtype)]
    assert worst["low part subnormal"][0] <= X_SIGMOID_ULP_LOW_PART_SUBNORMAL[np.dtype(dtype)]


@pytest.mark.slow
@long_double
def test_float64_forms_for_f32_sweep():
    """exp_split_for_f32 and x_sigmoid_for_f32 (silu's x = t) relatively, over millions of inputs."""
    rng = np.random.default_rng(5)
    lo, hi = _split_range(np.float64)
    y = rng.uniform(lo, hi, 8_000_000)
    p, s = _exp_split_for_f32_loop(y)
    split = np.abs(s.astype(np.longdouble) * (1 + p.astype(np.longdouble)) / np.exp(y.astype(np.longdouble)) - 1)
    _report("exp_split_for_f32", np.float64, float(split.max()), y[split.argmax()])
    x = _to_float64_floored_loop(rng.uniform(-130, 40, 8_000_000).astype(np.float32))
    x = x[x > _math.F32_FLOOR]
    got = _x_sigmoid_for_f32_loop(x, x)
    ref = x.astype(np.longdouble) / (1 + np.exp(-x.astype(np.longdouble)))
    silu = np.abs(got / ref - 1)
    _report("x_sigmoid_for_f32", np.float64, float(silu.max()), x[silu.argmax()])
    rounded = ulp_distance(got.astype(np.float32), ref, np.float32)
    _report("x_sigmoid_for_f32 rounded to float32 (ulp)", np.float32, float(rounded.max()), x[rounded.argmax()])
    assert split.max() <= SPLIT_FOR_F32_RELATIVE and silu.max() <= X_SIGMOID_F32_RELATIVE
    assert rounded.max() <= X_SIGMOID_F32_ROUNDED_ULP


@pytest.mark.slow
@floats
def test_ratio_of_one_plus_sweep(dtype):
    rng = np.random.default_rng(6)
    e_hi, e_lo = _unit_inputs(dtype, rng, 40_000)
    q, c = _ratio_loop(e_hi, e_lo)
    errors = _sum_ulps([q, c], _exact(lambda hi, lo: (hi + lo) / (1 + hi + lo), e_hi, e_lo), dtype)
    errors -= 0.5 * (float(np.finfo(dtype).smallest_subnormal) / ulp(q, dtype))
    _report("ratio_of_one_plus (q + c)", dtype, float(errors.max()), e_hi[errors.argmax()])
    assert errors.max() <= RATIO_PAIR_ULP[np.dtype(dtype)]


@pytest.mark.slow
def test_normal_tail_sweep():
    rng = np.random.default_rng(7)
    x = rng.uniform(0, A_MAX, 60_000)
    xc, h, h_lo, p_hi, p_lo, s1, s2 = _normal_tail_loop(x)
    errors = _sum_ulps([h, h_lo], _exact(_mp_tail, xc), np.float64)
    below = x < 13
    _report("normal_tail below 13", np.float64, float(errors[below].max()), x[below][errors[below].argmax()])
    _report("normal_tail above 13", np.float64, float(errors[~below].max()), x[~below][errors[~below].argmax()])
    inside = x * x / 2 <= -CLAMPS[np.dtype(np.float64)][0]
    exp_errors = _normal_tail_exp_eps(x[inside], p_hi[inside], p_lo[inside], s1[inside], s2[inside])
    _report("normal_tail exp parts (eps)", np.float64, float(exp_errors.max()), x[inside][exp_errors.argmax()])
    assert errors[below].max() <= NORMAL_TAIL_ULP and errors.max() <= NORMAL_TAIL_ULP_ABOVE_13
    assert exp_errors.max() <= NORMAL_TAIL_EXP_EPS
