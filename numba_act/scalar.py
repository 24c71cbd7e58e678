"""The scalar kernels of the elementwise activations: each activation's
forward function next to its local derivative, the one definition of their
math.

A forward kernel maps a float32 or float64 scalar ``x`` to the activation
in the same type; a derivative kernel takes the pre-activation ``z`` and the
activation ``a = f(z)`` and uses whichever of the two is exact and cheaper.
Both are inlined into the array loops of :mod:`numba_act.elementwise` and
into user ``@njit`` code that calls the public functions on scalars.  The
math they are built from (exp, log1p, double-word steps) is in
:mod:`numba_act._math` and :mod:`numba_act._normal`.
"""

import math

import numpy as np
from numba import types

from numba_act._jit import overload_kernel, per_float_type, scalar
from numba_act._math import (
    F32_FLOOR,
    GELU_TANH_2C,
    GELU_TANH_2C_LO,
    GELU_TANH_K,
    exp,
    exp_parts_nonpositive,
    exp_prescale,
    exp_prescaled,
    exp_split,
    exp_split_for_f32,
    exp_unscaled_nonpositive,
    fma,
    gelu_tanh_t,
    gelu_tanh_t_for_f32,
    limit_zero,
    log1p_unit,
    ratio_of_one_plus,
    sigmoid_one_plus,
    split_constant,
    to_float64_floored,
    x_sigmoid,
    x_sigmoid_for_f32,
)
from numba_act._normal import INV_SQRT_2PI, INV_SQRT_2PI_LO, normal_tail, normal_tail_for_f32, x_normal_tail_for_f32


@scalar
def sigmoid(x):
    """1 / (1 + e**-x), evaluated on -|x| so that exp never overflows.

    The smaller of sigmoid(x) and sigmoid(-x) = 1 - sigmoid(x) is formed by
    :func:`ratio_of_one_plus`, within about half an ulp; the larger is
    1 minus it, rounded once more: within 0.75 ulp, as it lies in [0.5, 1],
    where an ulp is at least twice the smaller one's.
    """
    q, c = _logistic_parts(x)
    small = q + c
    return small if x < 0 else type(x)(1.0) - small


@scalar
def _logistic_parts(y):
    """(q, c) with q + c = sigmoid(-|y|) = e / (1 + e), e = e**-|y|: the
    smaller of sigmoid(y) and sigmoid(-y), to twice working precision."""
    e_hi, e_lo = exp_parts_nonpositive(-abs(y))
    return ratio_of_one_plus(e_hi, e_lo)


@scalar
def sigmoid_grad(z, a):
    """a (1 - a)."""
    return a * (type(a)(1.0) - a)


def _glu_f32(a, b):
    return np.float32(np.float64(a) * sigmoid(np.float64(b)))


def _glu_f64(a, b):
    # sigmoid(b) as hi + lo (the small side from ratio_of_one_plus, the large
    # one as 1 minus it, whose rounding error 1 - hi - q is exact), so that
    # the product is rounded once.
    q, c = _logistic_parts(b)
    hi = 1.0 - q
    lo = ((1.0 - hi) - q) - c
    if b < 0:
        hi, lo = q, c
    return fma(a, hi, a * lo)


glu = per_float_type(
    _glu_f32,
    _glu_f64,
    """a * sigmoid(b), one element of glu's two halves, within about half an
    ulp: float32 computed in float64 and rounded once, float64 with sigmoid(b)
    carried as a double-word.""",
)


@scalar
def relu(x):
    """max(x, 0); NaN propagates."""
    return type(x)(0.0) if x <= 0 else x


@scalar
def _indicator(inside, z, value=1.0):
    """value where ``inside``, else 0, in z's type; NaN stays NaN: the
    derivative of each piecewise-linear activation."""
    T = type(z)
    if inside:
        return T(value)
    return T(0.0) if z == z else z


@scalar
def relu_grad(z, a):
    """1 where z > 0, else 0 (0 at z == 0); NaN stays NaN."""
    return _indicator(z > 0, z)


def _leaky_relu_f32(x, negative_slope):
    # The product in float64, rounded once: float32 cannot hold 0.01.
    y = np.float32(np.float64(x) * negative_slope) if negative_slope != 0 else np.float32(0.0)
    return y if x < 0 else x


def _leaky_relu_f64(x, negative_slope):
    y = x * negative_slope if negative_slope != 0 else 0.0
    return y if x < 0 else x


leaky_relu = per_float_type(
    _leaky_relu_f32,
    _leaky_relu_f64,
    """x if x >= 0 else negative_slope * x, correctly rounded; NaN propagates.

    -0.0 gives -0.0 (x itself, for any slope); a zero slope gives 0.0 for
    x < 0, as relu.  float32 input multiplies by the slope in float64 and
    rounds once, so that a slope float32 cannot hold (0.01) costs nothing.
    """,
)


@scalar
def leaky_relu_grad(z, a, negative_slope):
    """1 where z > 0, else the slope (rounded to z's type); NaN stays NaN."""
    T = type(z)
    if z > 0:
        return T(1.0)
    return T(negative_slope) if z == z else z


# (tanh(x) - x) / x**3 as polynomials in w = x**2 on |x| <= _TANH_SERIES_BOUND,
# highest power first: least-squares fits of tanh's relative error at Chebyshev
# nodes, each coefficient rounded before the next is fitted.  They leave a
# relative error below 2**-29 (float32) and 2**-60 (float64) in tanh.
_TANH_F32 = (
    0.0017285103676840663,
    -0.007642825599759817,
    0.021442750468850136,
    -0.05388997122645378,
    0.13332657516002655,
    -0.3333331346511841,
)
_TANH_F64 = (
    -1.9482223530561022e-05,
    8.32960249764263e-05,
    -0.00023336716608935676,
    0.0005884387766262006,
    -0.0014555414495931898,
    0.0035920918133519448,
    -0.008863232580109766,
    0.02186948838458437,
    -0.05396825396371866,
    0.13333333333326558,
    -0.333333333333333,
)
# Below the bound the series; above it 1 - 2/(1 + e**2|x|), whose rounding
# errors shrink with 1 - tanh(x): the bounds are where that leaves about
# 1 ulp, and float64 takes the shorter series its accuracy allows.
_TANH_SERIES_BOUND = {types.float32: 0.75, types.float64: 0.55}
# 2|x| past which tanh rounds to 1 in both types (|x| > 19.06 in float64).
_TANH_EXP_LIMIT = 40.0


def _tanh_series(x):
    """(x < bound, x + x**3 P(x**2)) for x >= 0: tanh(x) near 0 (``@njit`` code only)."""
    raise TypeError("_tanh_series is only callable from @njit code")


@overload_kernel(_tanh_series)
def _tanh_series_overload(x):
    if x not in _TANH_SERIES_BOUND:
        return None
    T = np.float32 if x == types.float32 else np.float64
    coeffs = tuple(T(c) for c in (_TANH_F32 if x == types.float32 else _TANH_F64))
    bound = T(_TANH_SERIES_BOUND[x])

    def series(x):
        w = x * x
        p = coeffs[0]
        for c in coeffs[1:]:
            p = fma(p, w, c)
        return x < bound, fma(x * w, p, x)

    return series


@scalar
def tanh(x):
    """x + x**3 P(x**2) for small |x|, else 1 - 2 / (1 + e**(2|x|)); sign restored.

    Odd, -0 stays -0, +-inf gives +-1 and NaN propagates.  Both branches are
    computed and one is selected, so the loop stays branch-free.
    """
    T = type(x)
    one = T(1.0)
    ax = abs(x)
    p, s = exp_split(T(2.0) * ax, None, T(_TANH_EXP_LIMIT))
    # 1 + e**(2|x|) = (1 + s) + s p rounded once: 1 + s is exact in float32
    # up to s = 2**23, and beyond it 2 / d no longer reaches tanh's last bit.
    far = one - T(2.0) / fma(s, p, s + one)
    near_zero, near = _tanh_series(ax)
    return math.copysign(near if near_zero else far, x)


@scalar
def tanh_grad(z, a):
    """1 - a**2, as (1 - a)(1 + a) to keep it accurate near |a| = 1."""
    one = type(a)(1.0)
    return (one - a) * (one + a)


# The derivatives of sigmoid and tanh from z alone, for code that needs their
# tails: read from a, as the entries' own derivatives are, their relative
# error grows like e**|z| (a rounds to 1 long before 1 - a is 0).


@scalar
def _logistic_slope(y):
    """sigmoid(y) sigmoid(-y) = e / (1 + e)**2 with e = e**-|y|, in float64:
    the small factor from :func:`ratio_of_one_plus` (within about half an
    ulp), the large one as 1 minus it; within about 1.5 ulp."""
    q, c = _logistic_parts(y)
    return (q + c) * ((1.0 - q) - c)


def _sigmoid_grad_from_z_f32(z, a):
    return np.float32(_logistic_slope(np.float64(z)))


def _sigmoid_grad_from_z_f64(z, a):
    return _logistic_slope(z)


sigmoid_grad_from_z = per_float_type(
    _sigmoid_grad_from_z_f32,
    _sigmoid_grad_from_z_f64,
    """sigmoid'(z) = sigmoid(z) sigmoid(-z) from z alone (a is not read):
    float32 computed in float64 and rounded once, float64 within about 1.5 ulp.""",
)


def _tanh_grad_from_z_f32(z, a):
    return np.float32(4.0 * _logistic_slope(2.0 * np.float64(z)))


def _tanh_grad_from_z_f64(z, a):
    return 4.0 * _logistic_slope(2.0 * z)


tanh_grad_from_z = per_float_type(
    _tanh_grad_from_z_f32,
    _tanh_grad_from_z_f64,
    """tanh'(z) = 1 - tanh(z)**2 = 4 sigmoid(2z) sigmoid(-2z) from z alone (a
    is not read): float32 computed in float64 and rounded once, float64
    within about 1.5 ulp.""",
)


def _elu_grad_from_z_f32(z, a, alpha):
    return np.float32(1.0) if z > 0 else np.float32(alpha * exp(np.float64(z)))


def _elu_grad_from_z_f64(z, a, alpha):
    return 1.0 if z > 0 else alpha * exp(z)


elu_grad_from_z = per_float_type(
    _elu_grad_from_z_f32,
    _elu_grad_from_z_f64,
    """elu'(z) = 1 where z > 0, else alpha e**z, from z alone (a is not read):
    float32 computed in float64 and rounded once, float64 within about 1.5 ulp.""",
)


def _softplus_grad_from_z_f32(z, a, beta, threshold):
    z64 = np.float64(z)
    return np.float32(1.0) if _over_threshold(z64, beta, threshold) else np.float32(sigmoid(beta * z64))


def _softplus_grad_from_z_f64(z, a, beta, threshold):
    t = beta * z
    # t's rounding error, fed back through sigmoid'(t) = sigmoid(t) sigmoid(-t)
    t_lo = fma(beta, z, -t) if abs(t) < 800.0 else 0.0
    s = sigmoid(t) + _logistic_slope(t) * t_lo
    return 1.0 if _over_threshold(z, beta, threshold) else s


softplus_grad_from_z = per_float_type(
    _softplus_grad_from_z_f32,
    _softplus_grad_from_z_f64,
    """softplus'(z) = sigmoid(beta z), 1 where beta z > threshold, from z alone
    (a is not read): float32 computed in float64 and rounded once, float64
    within about an ulp (the rounding of beta z carried).""",
)


@scalar
def _two_sum(a, b):
    """(s, e) with s + e = a + b exactly, s = a + b rounded (Knuth)."""
    s = a + b
    b_part = s - a
    return s, (a - (s - b_part)) + (b - b_part)


@scalar
def _expm1_nonpositive(y):
    """(hi, lo, e) with hi + lo = e**y - 1 and e = e**y (rounded), for y <= 0 or NaN.

    With e**y = s (1 + p) of :func:`exp_split`, s p and s - 1 are exact (y is
    clamped at -40, below which e**y is under half an ulp of 1), so their
    two-sum leaves only the error of p.
    """
    T = type(y)
    p, s = exp_split(y, T(-40.0), None)
    t = s * p
    hi, lo = _two_sum(t, s - T(1.0))
    return hi, lo, s + t


@scalar
def _elu_one(x):
    """elu for alpha = 1: e**x - 1 = s p + (s - 1), with e**x = s (1 + p) of
    :func:`exp_split`, one fused multiply-add, rounded once where s - 1 is
    exact (s >= 2**-24 in float32, 2**-53 in float64), so that near 0 the
    result is p itself; below that the result is within an ulp of -1 either
    way."""
    T = type(x)
    # min(x, 0): both branches are computed in a vector loop, and this exp
    # takes no positive input.
    p, s = exp_split(x if x < 0 else T(0.0), T(-40.0), None)
    return x if x >= 0 else (fma(s, p, s - T(1.0)) if x == x else x)


@scalar
def _elu_any_f32(x, alpha):
    xc = np.float64(x)
    # float64 with float32's polynomial: e**x - 1 within about 1e-9 relatively,
    # times alpha (as given) and rounded once.
    p, s = exp_split_for_f32(0.0 if xc >= 0 else xc, -40.0, None)
    return x if x >= 0 else np.float32(alpha * fma(s, p, s - 1.0))


@scalar
def _elu_any_f64(x, alpha):
    hi, lo, _ = _expm1_nonpositive(0.0 if x >= 0 else x)  # NaN passes
    return x if x >= 0 else fma(alpha, hi, alpha * lo)


# The default alpha = 1 takes the float32 kernel without a product (LLVM
# splits the loop on the test, which does not depend on x).


def _elu_f32(x, alpha):
    return _elu_one(x) if alpha == 1.0 else _elu_any_f32(x, alpha)


def _elu_f64(x, alpha):
    return _elu_one(x) if alpha == 1.0 else _elu_any_f64(x, alpha)


elu = per_float_type(
    _elu_f32,
    _elu_f64,
    """x if x >= 0 else alpha * (e**x - 1); NaN propagates, -0.0 gives -0.0.

    alpha = 1: :func:`_elu_one`.  Otherwise e**x - 1 is carried as hi + lo
    (:func:`_expm1_nonpositive`), so that the product with alpha, the exact
    float64 the caller gave, rounds once; float32 input computes in float64
    with float32's polynomial and rounds once.  x is clamped at -40, where
    e**x is below half an ulp of 1.
    """,
)


def _elu_grad_f32(z, a, alpha):
    if alpha == 1.0:
        return np.float32(1.0) if a > 0 else a + np.float32(1.0)
    zc = np.float64(z)
    p, s = exp_split_for_f32(0.0 if zc > 0 else zc, -120.0, None)
    return np.float32(1.0) if z > 0 else np.float32(alpha * fma(s, p, s))


def _elu_grad_f64(z, a, alpha):
    if alpha == 1.0:
        return 1.0 if a > 0 else a + 1.0
    e_hi, e_lo, s1, s2 = exp_unscaled_nonpositive(0.0 if z > 0 else z)
    # alpha e**z, scaled last so that a subnormal result rounds once
    return 1.0 if z > 0 else (fma(alpha, e_hi, alpha * e_lo) * s1) * s2


elu_grad = per_float_type(
    _elu_grad_f32,
    _elu_grad_f64,
    """1 where z > 0, else alpha e**z; NaN stays NaN.

    alpha = 1: a + 1, read from a alone (a > 0 exactly where z > 0), so that
    the VJP loop never loads z.  Any other alpha: alpha e**z from z, since a
    float32 a rounded past -alpha (0.1, which float32 cannot hold) would
    make a + alpha negative in the tail; float32 computes in float64 and
    rounds once, float64 scales e**z last so that a subnormal result rounds
    once.
    """,
)


def _silu_f32(x):
    return np.float32(x_sigmoid_for_f32(x, x))


def _silu_f64(x):
    return x_sigmoid(x, x, 0.0)


silu = per_float_type(
    _silu_f32,
    _silu_f64,
    """x * sigmoid(x) (also called swish); silu(-inf) = -0.0, its limit.

    float64 input: :func:`x_sigmoid`, to twice working precision.  float32
    input computes in float64 (:func:`x_sigmoid_for_f32`) and rounds once,
    within about half an ulp: on AVX2 that is faster than the float32
    double-word path, and more accurate in the subnormal tail.  The fast
    tier computes float32 input in float32 (:func:`x_sigmoid_for_f32_fast`).
    """,
)


# Past it silu' is 0 in float64 (and 1 past its negative); the clamp keeps
# z (1 - s) finite.
_SILU_CLAMP = 800.0


def _silu_grad_f32(z, a):
    # In float64, as the forward pass, with e = e**-|z| and r = 1 / (1 + e):
    # e r (1 + z r) for z < 0 and r (1 + z e r) otherwise, in one form.  e's
    # error is a common factor of e + z e r, and r's, at most that of e times
    # s, reaches 1 + z r amplified no more than about 5x outside 0.05 of the
    # root (z = -1.2785).  z is clamped to [-120, 120] (NaN passes), past
    # which the float32 result is 0 or 1, so exp needs no clamp of its own.
    zc = to_float64_floored(z)
    zc = -F32_FLOOR if zc > -F32_FLOOR else zc
    p, s = exp_split_for_f32(-abs(zc), None, None)
    e = fma(s, p, s)
    r = 1.0 / (1.0 + e)
    return np.float32(r * fma(zc * e, r, e if zc < 0 else 1.0))


def _silu_grad_f64(z, a):
    T = type(z)
    e_hi, e_lo, s1, s2 = exp_unscaled_nonpositive(-abs(z))
    zc = z if z > T(-_SILU_CLAMP) else T(-_SILU_CLAMP)  # a NaN z makes e NaN
    zc = zc if zc < T(_SILU_CLAMP) else T(_SILU_CLAMP)
    return sigmoid_one_plus(zc, None, z, e_hi, e_lo, s1, s2)


silu_grad = per_float_type(
    _silu_grad_f32,
    _silu_grad_f64,
    """s (1 + z (1 - s)), s = sigmoid(z); 0 at -inf, 1 at inf.

    1 + z (1 - s) cancels near its root z = -1.2785, where a relative error
    of 1 - s is amplified by z (1 - s) / (1 + z (1 - s)).  float64 input
    carries 1 / (1 + e**-|z|) to twice working precision and forms
    1 + z (1 - s) exactly (:func:`sigmoid_one_plus`); float32 input computes
    in float64 and rounds once.
    """,
)


@scalar
def _softplus_unit(x):
    """log(1 + e**x) = max(x, 0) + log1p(e**-|x|); never overflows."""
    e_hi, e_lo = exp_parts_nonpositive(-abs(x))
    return (x if x > 0 else type(x)(0.0)) + log1p_unit(e_hi, e_lo)


@scalar
def _over_threshold(x, beta, threshold):
    """beta x > threshold for float64 x, decided on the exact product."""
    t = beta * x
    return t > threshold or (t == threshold and fma(beta, x, -t) > 0)


# Below it e**t is under 2**-57: log1p(e**t) = e**t to well within an ulp.
_SOFTPLUS_TAIL = -40.0


@scalar
def _softplus_any_f32(x, beta, threshold):
    xc = np.float64(x)
    t = beta * xc  # its rounding, times |t| in the tail, stays far below float32's ulp
    e_hi, e_lo = exp_parts_nonpositive(-abs(t))
    part = log1p_unit(e_hi, e_lo) / beta
    f = xc + part if t > 0 else part  # not 0 + part: -0.0 for beta < 0 stays
    return x if _over_threshold(xc, beta, threshold) else np.float32(f)


@scalar
def _softplus_any_f64(x, beta, threshold):
    t = beta * x
    t_lo = fma(beta, x, -t)
    # 0 past exp's clamp, where it no longer matters (and is inf - inf where
    # beta x overflows)
    t_lo = t_lo if abs(t) < 800.0 else 0.0
    # e**-|t + t_lo| = e**-|t| (1 - sign(t) t_lo), unscaled for the tail
    e_hi, e_lo, s1, s2 = exp_unscaled_nonpositive(-abs(t))
    e_lo = fma(e_hi, t_lo if t < 0 else -t_lo, e_lo)
    # 1 / beta as r + r_lo, so that a product with it rounds once
    r = 1.0 / beta
    r_lo = fma(-r, beta, 1.0) / beta
    if t < _SOFTPLUS_TAIL:  # log1p(e**t) / beta = e**t / beta, scaled last
        return (fma(e_hi, r, fma(e_hi, r_lo, e_lo * r)) * s1) * s2
    scale = s1 * s2
    log1p_e = log1p_unit(e_hi * scale, e_lo * scale)
    part = fma(log1p_e, r, log1p_e * r_lo)
    f = x + part if t > 0 else part
    return x if _over_threshold(x, beta, threshold) else f


# The defaults (beta = 1, no threshold) take the kernel of softplus(x) alone,
# in float32 too (LLVM splits the loop on the test, which does not depend on x).


def _softplus_f32(x, beta, threshold):
    if beta == 1.0 and threshold == math.inf:
        return _softplus_unit(x)
    return _softplus_any_f32(x, beta, threshold)


def _softplus_f64(x, beta, threshold):
    if beta == 1.0 and threshold == math.inf:
        return _softplus_unit(x)
    return _softplus_any_f64(x, beta, threshold)


softplus = per_float_type(
    _softplus_f32,
    _softplus_f64,
    """log(1 + e**(beta x)) / beta, or x where beta x > threshold (torch's rule;
    threshold = inf for none).

    The defaults: :func:`_softplus_unit`.  Otherwise (max(t, 0) +
    log1p(e**-|t|)) / beta with t = beta x, where max(t, 0) / beta is x
    itself; never overflows.  float64 input carries t to twice working
    precision (in the tail its rounding, times |t|, would cost as many ulp),
    multiplies by 1/beta as a double-word number, and scales e**t last in the
    tail, so that a subnormal result rounds once.  float32 input computes in
    float64 and rounds once.  beta x > threshold is decided on the exact
    product.
    """,
)


def _softplus_grad_f32(z, a, beta, threshold):
    # 1 - e**-u, u = beta a = log(1 + e**(beta z)) >= 0, in float64
    u = beta * np.float64(a)
    p, s = exp_split(-u, -40.0, None)
    d = np.float32(fma(-s, p, 1.0 - s))
    return np.float32(1.0) if _over_threshold(np.float64(z), beta, threshold) else d


def _softplus_grad_f64(z, a, beta, threshold):
    u = beta * a
    u_lo = fma(beta, a, -u) if u < 800.0 else 0.0  # past the clamp below, or inf - inf
    p, s = exp_split(-u, -40.0, None)
    # 1 - e**-(u + u_lo) = (1 - s) - s p + e**-u u_lo, e**-u = s (1 + p)
    d = fma(-s, p, fma(fma(s, p, s), u_lo, 1.0 - s))
    return 1.0 if _over_threshold(z, beta, threshold) else d


softplus_grad = per_float_type(
    _softplus_grad_f32,
    _softplus_grad_f64,
    """sigmoid(beta z) = 1 - e**(-beta a), read from a = softplus(z); 1 where
    beta z > threshold.

    1 - e**-u = (1 - s) - s p rounded once, with e**-u = s (1 + p); the
    rounding of a passes to the result damped by u e**-u / (1 - e**-u) <= 1,
    and that of u = beta a is carried (float64) or far below an ulp (float32,
    computed in float64).
    """,
)


# ------------------------------------------------- smooth activations with exp
# celu, selu, mish, log_sigmoid and tanhshrink (softplus and elu above).


@scalar
def _quotient_parts(x, alpha):
    """(y, y_lo) with y + y_lo = x / alpha to twice working precision; y_lo
    is 0 where y < -800 (or -inf), past every exp clamp."""
    y = x / alpha
    y_lo = fma(-y, alpha, x) / alpha  # the remainder x - y alpha is exact
    return y, y_lo if y > type(x)(-800.0) else type(x)(0.0)


def _celu_f32(x, alpha):
    xc = np.float64(x)
    # x / alpha rounded in float64 moves e**y - 1 by at most 2**-53 relatively
    p, s = exp_split_for_f32(0.0 if xc >= 0 else xc / alpha, -40.0, None)
    return x if x >= 0 else np.float32(alpha * fma(s, p, s - 1.0))


def _celu_f64(x, alpha):
    y, y_lo = _quotient_parts(x, alpha)
    hi, lo, e = _expm1_nonpositive(0.0 if x >= 0 else y)
    lo = fma(e, y_lo, lo)  # e**(y + y_lo) - 1 = (e**y - 1) + e**y y_lo
    # Where |y| < 2**-60, alpha (e**y - 1) = x (1 + y/2 + ...) rounds to x,
    # and x / alpha may have underflowed.
    return x if x >= 0 or y > -(2.0**-60) else fma(alpha, hi, alpha * lo)


celu = per_float_type(
    _celu_f32,
    _celu_f64,
    """max(0, x) + min(0, alpha (e**(x/alpha) - 1)), alpha > 0; -0.0 gives -0.0.

    float64 input carries x/alpha to twice working precision (its rounding
    error, times e**(x/alpha), corrects e**(x/alpha) - 1) and rounds the
    product with alpha once; float32 input computes in float64 and rounds
    once.
    """,
)


def _celu_grad_f32(z, a, alpha):
    zc = np.float64(z)
    p, s = exp_split_for_f32(0.0 if zc > 0 else zc / alpha, -120.0, None)
    return np.float32(1.0) if z > 0 else np.float32(fma(s, p, s))


def _celu_grad_f64(z, a, alpha):
    y, y_lo = _quotient_parts(z, alpha)
    # e**(y + y_lo) 2**K, then 2**-K: a subnormal result is rounded once
    e = exp_prescaled(0.0 if z > 0 else y, y_lo) * (1.0 / exp_prescale(z))
    return 1.0 if z > 0 else e


celu_grad = per_float_type(
    _celu_grad_f32,
    _celu_grad_f64,
    """1 where z > 0, else e**(z/alpha), with z/alpha to twice working
    precision in float64 (in the tail its rounding, times |z/alpha|, would
    cost as many ulp); NaN stays NaN.""",
)


# torch's constants (Klambauer et al.), as it writes them; scale and
# scale * alpha of those decimals as hi + lo pairs.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SELU_SCALE_LO = 3.9874847667154144e-17
_SELU_SA = 1.7580993408473768  # alpha * scale
_SELU_SA_LO = 1.41535193800845e-17


def _selu_f32(x):
    xc = np.float64(x)
    p, s = exp_split_for_f32(0.0 if xc >= 0 else xc, -40.0, None)
    return np.float32(SELU_SCALE * xc if x >= 0 else _SELU_SA * fma(s, p, s - 1.0))


def _selu_f64(x):
    hi, lo, _ = _expm1_nonpositive(0.0 if x >= 0 else x)
    if x >= 0:
        return fma(SELU_SCALE, x, _SELU_SCALE_LO * x)
    return fma(_SELU_SA, hi, _SELU_SA * lo + _SELU_SA_LO * hi)


selu = per_float_type(
    _selu_f32,
    _selu_f64,
    """scale (max(0, x) + min(0, alpha (e**x - 1))) with torch's alpha and
    scale; -0.0 gives -0.0.

    float64 input multiplies by scale and by scale * alpha as double-word
    constants, so that each product rounds once; float32 input computes in
    float64 and rounds once.
    """,
)


def _selu_grad_f32(z, a):
    zc = np.float64(z)
    p, s = exp_split_for_f32(0.0 if zc > 0 else zc, -120.0, None)
    return np.float32(SELU_SCALE if z > 0 else _SELU_SA * fma(s, p, s))


def _selu_grad_f64(z, a):
    e_hi, e_lo, s1, s2 = exp_unscaled_nonpositive(0.0 if z > 0 else z)
    # scale alpha e**z, scaled last so that a subnormal result rounds once
    e = (fma(_SELU_SA, e_hi, _SELU_SA * e_lo + _SELU_SA_LO * e_hi) * s1) * s2
    return SELU_SCALE if z > 0 else e


selu_grad = per_float_type(
    _selu_grad_f32,
    _selu_grad_f64,
    """scale where z > 0, else scale alpha e**z; NaN stays NaN.""",
)


def _mish_f32(x):
    xc = to_float64_floored(x)
    p, s = exp_split_for_f32(-abs(xc), F32_FLOOR, None)
    e = fma(s, p, s)  # e**-|x|
    # tanh(softplus(x)) = e (e + 2) / (e (e + 2) + 2) for x <= 0, and
    # (1 + 2e) / (1 + 2e + 2e**2) for x > 0: no cancellation either way
    n = e * (e + 2.0)
    g = n / (n + 2.0) if xc <= 0 else (1.0 + 2.0 * e) / fma(2.0 * e, e, 1.0 + 2.0 * e)
    return np.float32(xc * g)


# Below it mish(x) = x e**x (1 - e**x/2 + ...) rounds to x e**x.
_MISH_TAIL = -40.0


def _mish_f64(x):
    xc = x if x > -800.0 else -800.0  # below it the product vanishes (-0.0 at -inf); NaN passes
    e_hi, e_lo, s1, s2 = exp_unscaled_nonpositive(-abs(x))
    if x < _MISH_TAIL:
        return (fma(xc, e_hi, xc * e_lo) * s1) * s2
    scale = s1 * s2
    e, e_lo = e_hi * scale, e_lo * scale  # e**-|x| = e + e_lo, normal here
    # g = tanh(softplus(x)) = P / Q to twice working precision, with
    # P = e**2 + 2e and Q = P + 2 for x <= 0, P = 1 + 2e and Q = P + 2e**2 for x > 0
    w = e * e
    w_lo = fma(e, e, -w) + 2.0 * e * e_lo
    a, a_lo = (w, w_lo) if x <= 0 else (1.0, 0.0)
    c, c_lo = (2.0, 0.0) if x <= 0 else (2.0 * w, 2.0 * w_lo)
    pp, pp_lo = _two_sum(a, 2.0 * e)
    pp_lo += a_lo + 2.0 * e_lo
    qq, qq_lo = _two_sum(pp, c)
    qq_lo += pp_lo + c_lo
    g = pp / qq
    g_lo = (fma(-g, qq, pp) + pp_lo - g * qq_lo) / qq
    return fma(x, g, limit_zero(x * g_lo))


mish = per_float_type(
    _mish_f32,
    _mish_f64,
    """x tanh(softplus(x)); mish(-inf) = -0.0, -0.0 gives -0.0.

    With e = e**-|x|: tanh(log(1 + e**x)) = e (e + 2) / (e (e + 2) + 2) for
    x <= 0 and (1 + 2e) / (1 + 2e + 2e**2) for x > 0, which cancel nowhere.
    float64 input forms that quotient to twice working precision, and below
    x = -40 takes x e**x, scaled last so that a subnormal result rounds once;
    float32 input computes in float64 and rounds once.
    """,
)


def _mish_grad_f32(z, a):
    zc = to_float64_floored(z)
    zc = -F32_FLOOR if zc > -F32_FLOOR else zc  # past it the result is 1; no inf * 0
    e_hi, e_lo = exp_parts_nonpositive(-abs(zc))
    e = e_hi + e_lo
    # mish' = g + z sigmoid(z) (1 - g**2) = N / Q**2 with, for z <= 0,
    # Q = e**2 + 2e + 2 and N = e (e**3 + 4e**2 + (6 + 4z) e + 4 (1 + z)), and
    # for z > 0 Q = 2e**2 + 2e + 1 and N = (4 + 4z) e**3 + (6 + 4z) e**2 + 4e + 1
    c = 6.0 + 4.0 * zc
    if zc <= 0:
        q = fma(e, e + 2.0, 2.0)
        n = e * fma(fma(e + 4.0, e, c), e, 4.0 * (1.0 + zc))
    else:
        q = fma(2.0 * e, e + 1.0, 1.0)
        n = fma(fma(fma(4.0 + 4.0 * zc, e, c), e, 4.0), e, 1.0)
    return np.float32(n / (q * q))


@scalar
def _dw_mul_add(x, x_lo, e, e_lo, c, c_lo):
    """(x + x_lo) (e + e_lo) + (c + c_lo) as a double-word pair."""
    m = x * e
    m_lo = fma(x, e, -m) + (x * e_lo + x_lo * e)
    s, s_lo = _two_sum(m, c)
    return s, s_lo + (m_lo + c_lo)


def _mish_grad_f64(z, a):
    zc = z if z < 800.0 else 800.0  # past it the result is 1; no inf * 0
    zc = zc if zc > -800.0 else -800.0
    e_hi, e_lo, s1, s2 = exp_unscaled_nonpositive(-abs(z))
    if z < _MISH_TAIL:  # mish' = e**z (1 + z) (1 + O(z e**z))
        one_z, one_z_lo = _two_sum(1.0, zc)
        return (fma(one_z, e_hi, one_z * e_lo + one_z_lo * e_hi) * s1) * s2
    scale = s1 * s2
    e, e_lo = e_hi * scale, e_lo * scale
    # N / Q**2 as in the float32 form, every step to twice working precision:
    # near the root (z = -1.19) N cancels.
    four_z = 4.0 * zc
    c, c_lo = _two_sum(6.0, four_z)
    d, d_lo = _two_sum(4.0, four_z)
    if z <= 0:
        n, n_lo = _two_sum(e, 4.0)
        n_lo += e_lo
        n, n_lo = _dw_mul_add(n, n_lo, e, e_lo, c, c_lo)
        n, n_lo = _dw_mul_add(n, n_lo, e, e_lo, d, d_lo)
        n, n_lo = _dw_mul_add(n, n_lo, e, e_lo, 0.0, 0.0)
        q, q_lo = _two_sum(e, 2.0)
        q_lo += e_lo
        q, q_lo = _dw_mul_add(q, q_lo, e, e_lo, 2.0, 0.0)
    else:
        n, n_lo = _dw_mul_add(d, d_lo, e, e_lo, c, c_lo)
        n, n_lo = _dw_mul_add(n, n_lo, e, e_lo, 4.0, 0.0)
        n, n_lo = _dw_mul_add(n, n_lo, e, e_lo, 1.0, 0.0)
        q, q_lo = _two_sum(2.0 * e, 2.0)
        q_lo += 2.0 * e_lo
        q, q_lo = _dw_mul_add(q, q_lo, e, e_lo, 1.0, 0.0)
    qq, qq_lo = _dw_mul_add(q, q_lo, q, q_lo, 0.0, 0.0)
    r = n / qq
    return r + (fma(-r, qq, n) + n_lo - r * qq_lo) / qq


mish_grad = per_float_type(
    _mish_grad_f32,
    _mish_grad_f64,
    """g + z sigmoid(z) (1 - g**2), g = tanh(softplus(z)): a ratio of
    polynomials in e = e**-|z| (see the float32 form), evaluated to twice
    working precision in float64, where its numerator cancels near the root
    z = -1.19; below z = -40, e**z (1 + z), scaled last.  float32 input
    computes in float64 and rounds once.""",
)


@scalar
def log_sigmoid(x):
    """-softplus(-x) = min(x, 0) - log1p(e**-|x|): accurate in both tails,
    log_sigmoid(inf) = -0.0 and log_sigmoid(-inf) = -inf."""
    return -_softplus_unit(-x)


@scalar
def log_sigmoid_grad(z, a):
    """sigmoid(-z) = 1 - sigmoid(z), within 0.75 ulp (:func:`sigmoid`)."""
    return sigmoid(-z)


# (x - tanh(x)) / x**3 - 1/3 as polynomials in w = x**2 on |x| <= 0.65,
# highest power first: least-squares fits of the relative error at Chebyshev
# nodes, each coefficient rounded to float64 before the next is fitted.  They
# leave a relative error below 2**-31 (float32) and 2**-59 (float64), the
# constant 1/3 carried as a hi + lo pair.
_TANHSHRINK_F32 = (
    0.0008322029449749367,
    -0.00327376727195941,
    0.008778177821723146,
    -0.021857677172494032,
    0.05396748678414549,
    -0.13333331647184693,
)
_TANHSHRINK_F64 = (
    2.2653318640082553e-06,
    -1.1805008826486825e-05,
    3.6668462248941234e-05,
    -9.580015381189405e-05,
    0.00023880049968987734,
    -0.0005899602146062947,
    0.0014558249194811946,
    -0.0035921271414215195,
    0.008863235475691839,
    -0.021869488534218825,
    0.05396825396821898,
    -0.1333333333333331,
)
_TANHSHRINK_C0 = 1.0 / 3.0
_TANHSHRINK_C0_LO = 1.850371707708594e-17
_TANHSHRINK_BOUND = 0.65


@scalar
def _tanhshrink_series(w, coeffs):
    """(S, S_lo) with S + S_lo = (x - tanh(x)) / x**3 for float64 w = x**2 <= 0.65**2,
    to the accuracy of ``coeffs`` (one of the fits above)."""
    p = coeffs[0]
    for c in coeffs[1:]:
        p = fma(p, w, c)
    # 1/3 + w p: w p is under a fifth of the sum, so its rounding shrinks
    s = fma(w, p, _TANHSHRINK_C0)
    return s, fma(w, p, _TANHSHRINK_C0 - s) + _TANHSHRINK_C0_LO  # 1/3 - s is exact (Sterbenz)


@scalar
def _tanhshrink_far(ax):
    """(|x| - 1 + q, q, q_lo) for |x| = ax >= 0.65: x - tanh(x) = |x| - 1 + q
    with q + q_lo = 2 / (1 + e**(2|x|)), to twice working precision."""
    p, s = exp_split(2.0 * ax, None, 40.0)  # past 40, q is far below an ulp of |x| - 1
    # 1 + e**2x = 1 + s + s p: two-sums of exact terms
    d, d_lo = _two_sum(1.0, s)
    d, part = _two_sum(d, s * p)
    d_lo += part
    q = 2.0 / d
    q_lo = (fma(-q, d, 2.0) - q * d_lo) / d
    r, r_lo = _two_sum(ax, -1.0)  # exact for ax in [0.5, 2]
    return r + (q + (q_lo + limit_zero(r_lo))), q, q_lo  # inf - inf at ax = inf


def _tanhshrink_f32(x):
    xc = np.float64(x)
    ax = abs(xc)
    w = xc * xc
    s, _ = _tanhshrink_series(w, _TANHSHRINK_F32)
    far, _, _ = _tanhshrink_far(ax)
    near = (ax * w) * s
    return np.float32(math.copysign(near if ax < _TANHSHRINK_BOUND else far, xc))


def _tanhshrink_f64(x):
    ax = abs(x)
    w = x * x
    w_lo = fma(x, x, -w)
    s, s_lo = _tanhshrink_series(w, _TANHSHRINK_F64)
    # x**3 S: (x S) w to twice working precision, rounded once
    m = ax * s
    m_lo = fma(ax, s, -m) + ax * s_lo
    near = fma(m, w, fma(m, w_lo, m_lo * w))
    far, _, _ = _tanhshrink_far(ax)
    # on |x|, the sign restored last: an underflowing x**3 S keeps x's sign
    return math.copysign(near if ax < _TANHSHRINK_BOUND else far, x)


tanhshrink = per_float_type(
    _tanhshrink_f32,
    _tanhshrink_f64,
    """x - tanh(x); odd, -0.0 gives -0.0, +-inf gives +-inf.

    Below |x| = 0.65, x**3 S(x**2) with a fitted series S (x - tanh(x)
    cancels there: x**3/3 near 0); above it |x| - 1 + 2 / (1 + e**(2|x|)),
    the quotient to twice working precision (where |x| < 1 the sum still
    cancels a little).  float32 input computes in float64 and rounds once.
    """,
)


def _tanhshrink_grad_f32(z, a):
    zc = np.float64(z)
    az = abs(zc)
    w = zc * zc
    s, _ = _tanhshrink_series(w, _TANHSHRINK_F32)
    _, q, _ = _tanhshrink_far(az)
    t = fma(-w, s, 1.0)  # tanh(z) / z = 1 - w S
    near = w * (t * t)
    far = (1.0 - q) * (1.0 - q)
    return np.float32(near if az < _TANHSHRINK_BOUND else far)


def _tanhshrink_grad_f64(z, a):
    az = abs(z)
    w = z * z
    w_lo = fma(z, z, -w)
    s, s_lo = _tanhshrink_series(w, _TANHSHRINK_F64)
    # tanh(z)**2 = w v**2 with v = tanh(z) / z = 1 - w S, v to twice working precision
    v = fma(-w, s, 1.0)
    v_lo = fma(-w, s, 1.0 - v) - (w * s_lo + w_lo * s)
    v2 = v * v
    v2_lo = fma(v, v, -v2) + 2.0 * v * v_lo
    near = fma(w, v2, fma(w, v2_lo, w_lo * v2))
    # (1 - q)**2 = 1 - q (2 - q) for q + q_lo = 2 / (1 + e**(2|z|))
    _, q, q_lo = _tanhshrink_far(az)
    m, m_lo = _two_sum(2.0, -q)
    m_lo -= q_lo
    qm = q * m
    qm_lo = fma(q, m, -qm) + (q * m_lo + q_lo * m)
    far = (1.0 - qm) - qm_lo
    return near if az < _TANHSHRINK_BOUND else far


tanhshrink_grad = per_float_type(
    _tanhshrink_grad_f32,
    _tanhshrink_grad_f64,
    """tanh(z)**2, from z: z**2 (1 - z**2 S)**2 with tanhshrink's series below
    |z| = 0.65, else 1 - q (2 - q) with q = 2 / (1 + e**(2|z|)); both to
    twice working precision in float64, in float64 for float32 input.""",
)


def _gelu_f32(x):
    b = x_normal_tail_for_f32(x)
    return np.float32(x - b if x > 0 else b)


def _gelu_f64(x):
    xc, h, h_lo, p_hi, p_lo, s1, s2 = normal_tail(x)
    m = xc * h
    m_lo = fma(xc, h, -m) + xc * h_lo
    b = (fma(m, p_hi, fma(m_lo, p_hi, m * p_lo)) * s1) * s2
    # The sum of the parts turns -0.0 into 0.0: a zero x is its own result.
    return x - b if x > 0 else (x if x == 0 else b)


gelu = per_float_type(
    _gelu_f32,
    _gelu_f64,
    """x * Phi(x), the exact (erf) form; gelu(-inf) = -0.0, gelu(inf) = inf.

    b = x Phi(-|x|), then gelu(x) = b for x < 0 and x - b otherwise
    (Phi(x) = 1 - Phi(-x)), where b < x/2 so its error does not grow.
    -0.0 gives -0.0, as x Phi(x) does in IEEE arithmetic.  Both types
    compute in float64: float64 input carries low parts through
    :func:`normal_tail` and scales last, so that a subnormal b rounds once;
    float32 input takes the short path of :func:`x_normal_tail_for_f32`,
    whose errors lie far below a float32 ulp, and rounds once at the end.
    The fast tier computes float32 b in float32, with the low parts that
    keep it within its bound (:func:`x_normal_tail_for_f32_fast`).
    """,
)


def _gelu_grad_f32(z, a):
    zc, u, h, e = normal_tail_for_f32(z)
    d = e * (h - u * INV_SQRT_2PI)
    return np.float32(d if z < 0 else 1.0 - d)


def _gelu_grad_f64(z, a):
    zc, h, h_lo, p_hi, p_lo, s1, s2 = normal_tail(z)
    u = abs(zc)
    # v + v_lo = h + h_lo - u/sqrt(2 pi): for large u the last term is most of it.
    uc = u * INV_SQRT_2PI
    uc_lo = fma(u, INV_SQRT_2PI, -uc) + u * INV_SQRT_2PI_LO
    v = h - uc
    part = v - h
    v_lo = ((h - (v - part)) - (uc + part)) + (h_lo - uc_lo)
    d = (fma(v, p_hi, fma(v_lo, p_hi, v * p_lo)) * s1) * s2
    return d if z < 0 else 1.0 - d


gelu_grad = per_float_type(
    _gelu_grad_f32,
    _gelu_grad_f64,
    """Phi(z) + z phi(z), phi the standard normal density; in float64 like gelu.

    With u = |z|: Phi(-u) - u phi(u) = exp(-u**2/2) (h - u / sqrt(2 pi)) for
    z < 0, and 1 minus that for z >= 0; +-inf give the limits 1 and 0.
    """,
)


# 3k = 2k + k exactly, as hi + lo: the rounding of a sum of two floats is a float.
_GELU_TANH_3K = 2.0 * GELU_TANH_K + GELU_TANH_K
_GELU_TANH_3K_LO = (2.0 * GELU_TANH_K - _GELU_TANH_3K) + GELU_TANH_K


@scalar
def _gelu_tanh_arg(x):
    """(t_hi, t_lo) with t_hi + t_lo = 2 sqrt(2/pi) x (1 + k x**2), k = 0.044715."""
    T = type(x)
    one = T(1.0)
    k_hi, k_lo = split_constant(GELU_TANH_K, 0.0, T)
    c_hi, c_lo = split_constant(GELU_TANH_2C, GELU_TANH_2C_LO, T)
    w_hi = x * x
    w_lo = fma(x, x, -w_hi)
    kw_hi = k_hi * w_hi
    kw_lo = fma(k_hi, w_hi, -kw_hi) + (k_hi * w_lo + k_lo * w_hi)
    v_hi = one + kw_hi  # two-sum: kw may exceed 1
    kw_part = v_hi - one
    v_lo = ((one - (v_hi - kw_part)) + (kw_hi - kw_part)) + kw_lo
    h = x * v_hi
    h_lo = fma(x, v_hi, -h) + x * v_lo
    t_hi = c_hi * h
    t_lo = fma(c_hi, h, -t_hi) + (c_hi * h_lo + c_lo * h)
    # 0 once t overflows: inf - inf (x**2 overflowed) or -inf (only c h did)
    t_lo = t_lo if abs(t_hi) < T(math.inf) else T(0.0)
    t = t_hi + t_lo
    return t, limit_zero((t_hi - t) + t_lo)


def _gelu_tanh_f32(x):
    return np.float32(x_sigmoid_for_f32(x, gelu_tanh_t_for_f32(x)))


def _gelu_tanh_f64(x):
    t, t_lo = _gelu_tanh_arg(x)
    return x_sigmoid(x, t, t_lo)


gelu_tanh = per_float_type(
    _gelu_tanh_f32,
    _gelu_tanh_f64,
    """x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))) = x sigmoid(2u); -inf gives -0.0.

    float64 input forms t = 2u to twice working precision (:func:`_gelu_tanh_arg`);
    float32 input computes in float64, as :func:`silu` does, and rounds once.  The
    fast tier computes float32 input in float32, t as a float32 pair
    (:func:`gelu_tanh_t_for_f32_fast`).
    """,
)


def _gelu_tanh_grad_f32(z, a):
    # In float64, as the forward pass; z clamped to [-120, 120] (NaN passes),
    # past which the float32 result is 0 or 1 and z t' e could overflow.
    zc = to_float64_floored(z)
    zc = -F32_FLOOR if zc > -F32_FLOOR else zc
    t = gelu_tanh_t(zc)
    zdt = zc * (GELU_TANH_2C * fma(3.0 * GELU_TANH_K, zc * zc, 1.0))  # z t'
    p, s = exp_split_for_f32(-abs(t), F32_FLOOR, None)
    e = fma(s, p, s)
    r = 1.0 / (1.0 + e)
    # e r (1 + z t' r) for t < 0 and r + z t' e r**2 otherwise, in one form
    return np.float32(r * fma(zdt * e, r, e if t < 0 else 1.0))


@scalar
def _gelu_tanh_slope(z):
    """(d, d_lo) with d + d_lo = z t' = 2 sqrt(2/pi) z (1 + 3k z**2) to twice
    working precision, for finite z: near the root of the derivative its
    rounding would be amplified as that of 1 - s is."""
    T = type(z)
    one = T(1.0)
    k_hi, k_lo = split_constant(_GELU_TANH_3K, _GELU_TANH_3K_LO, T)
    c_hi, c_lo = split_constant(GELU_TANH_2C, GELU_TANH_2C_LO, T)
    w = z * z
    w_lo = fma(z, z, -w)
    kw = k_hi * w
    kw_lo = fma(k_hi, w, -kw) + (k_hi * w_lo + k_lo * w)
    g = one + kw
    g_lo = (kw - (g - one)) + kw_lo  # g - 1 is exact, as g >= 1
    h = z * g
    h_lo = fma(z, g, -h) + z * g_lo
    d = c_hi * h
    return d, fma(c_hi, h, -d) + (c_hi * h_lo + c_lo * h)


def _gelu_tanh_grad_f64(z, a):
    T = type(z)
    t, t_lo = _gelu_tanh_arg(z)
    e_hi, e_lo, s1, s2 = exp_unscaled_nonpositive(-abs(t))
    # e**-|t + t_lo| = e (1 -+ t_lo), the correction in the low part.  Past
    # |t| = 800, exp's input is clamped and t_lo is no longer small.
    lo = T(0.0) if abs(t) > T(800.0) else (t_lo if t < 0 else -t_lo)
    e_lo = fma(e_hi, lo, e_lo)
    # Past |z| = 40 the result is 0 or 1; the clamp keeps z t' (about z**3)
    # finite.  A NaN z makes e NaN.
    zc = z if z > T(-40.0) else T(-40.0)
    zc = zc if zc < T(40.0) else T(40.0)
    zdt, zdt_lo = _gelu_tanh_slope(zc)
    return sigmoid_one_plus(zdt, zdt_lo, t, e_hi, e_lo, s1, s2)


gelu_tanh_grad = per_float_type(
    _gelu_tanh_grad_f32,
    _gelu_tanh_grad_f64,
    """d/dz [z sigmoid(t)] = s + z s (1 - s) t', t = 2 sqrt(2/pi) (z + k z**3), k = 0.044715.

    With e = e**-|t| and r = 1 / (1 + e), s (1 - s) = e r**2: t >= 0 gives
    r + z t' e r**2, t < 0 gives e r (1 + z t' r).  0 at -inf, 1 at inf.

    For float64 input t is carried as t + t_lo, as in the forward pass, and
    e corrected by the low part: in the negative tail, where the derivative is small, the
    rounding of t alone would move it by about |t| ulp relative.  Near the
    root z = -0.7525, 1 + z t' (1 - s) cancels: z t' and 1 / (1 + e) are
    carried to twice working precision and 1 + z t' (1 - s) formed exactly
    (:func:`sigmoid_one_plus`).

    float32 input computes in float64 and rounds once, as the forward pass.
    """,
)


# piecewise activations
#
# Their parameters arrive as float64 scalars, the exact Python floats the
# caller passed.  A float32 kernel compares its argument with a parameter
# in float64, which is exact, and forms any arithmetic with a parameter in
# float64, rounded once at the end: a parameter that float32 cannot hold
# (0.1, 1/3) costs it no accuracy.  Where the function clamps (relu6,
# hardsigmoid, hardswish below -3, the shrinks' dead zone, sparse_plus and
# sparse_sigmoid) a zero result is 0.0, whatever the sign of x.


@scalar
def relu6(x):
    """min(max(x, 0), 6); relu6(-0.0) = 0.0, as relu; NaN propagates."""
    T = type(x)
    return T(0.0) if x <= T(0.0) else (T(6.0) if x > T(6.0) else x)


@scalar
def relu6_grad(z, a):
    """1 where 0 < z < 6, else 0 (0 at both kinks, as torch); NaN stays NaN."""
    T = type(z)
    return _indicator((z > T(0.0)) & (z < T(6.0)), z)


@scalar
def hardtanh(x, min_val, max_val):
    """x clipped to [min_val, max_val]; hardtanh(-0.0) = -0.0 inside the bounds.

    The bounds are rounded to x's type (to nearest): for a float32 x, the
    clip to the rounded bounds is the exact clip rounded, since rounding is
    monotone.  NaN propagates.
    """
    T = type(x)
    lo, hi = T(min_val), T(max_val)
    y = lo if x < lo else x
    return hi if y > hi else y


@scalar
def hardtanh_grad(z, a, min_val, max_val):
    """1 where min_val < z < max_val, else 0 (0 at the bounds, as torch); NaN stays NaN.

    Compared with the exact bounds in float64: for a float32 z, a bound
    such as 0.1 rounded to float32 lies inside the open interval.
    """
    zc = np.float64(z)
    return _indicator((zc > min_val) & (zc < max_val), z)


# 1/6 and 1/3 rounded: products with them are corrected by the exact residual
# that fma gives, so that no loop divides.
_SIXTH = 1.0 / 6.0
_THIRD = 1.0 / 3.0


def _hardsigmoid_f32(x):
    y = np.float32((np.float64(x) + 3.0) * _SIXTH)
    return np.float32(0.0) if x <= np.float32(-3.0) else (np.float32(1.0) if x >= np.float32(3.0) else y)


def _hardsigmoid_f64(x):
    s = x + 3.0
    s_lo = (3.0 - s) + x  # exact for |x| <= 3, where it is used
    q = s * _SIXTH
    y = q + (fma(-q, 6.0, s) + s_lo) * _SIXTH
    return 0.0 if x <= -3.0 else (1.0 if x >= 3.0 else y)


hardsigmoid = per_float_type(
    _hardsigmoid_f32,
    _hardsigmoid_f64,
    """relu6(x + 3) / 6: 0 for x <= -3, 1 for x >= 3; NaN propagates.

    float64 input carries x + 3 and the quotient to twice working precision
    (within about half an ulp); float32 input computes in float64, where
    x + 3 is exact, and rounds once.
    """,
)


@scalar
def hardsigmoid_grad(z, a):
    """1/6 where -3 < z < 3, else 0 (as torch); NaN stays NaN."""
    T = type(z)
    return _indicator((z > T(-3.0)) & (z < T(3.0)), z, 1.0 / 6.0)


def _hardswish_f32(x):
    xc = np.float64(x)
    y = np.float32(xc * (xc + 3.0) * _SIXTH)  # x (x + 3) is exact in float64
    return np.float32(0.0) if x <= np.float32(-3.0) else (x if x >= np.float32(3.0) else y)


def _hardswish_f64(x):
    s = x + 3.0
    s_lo = (3.0 - s) + x  # exact for |x| <= 3, where it is used
    p = x * s
    p_lo = fma(x, s, -p) + x * s_lo
    q = p * _SIXTH
    y = math.copysign(q + (fma(-q, 6.0, p) + p_lo) * _SIXTH, x)  # the sum loses -0.0's sign
    return 0.0 if x <= -3.0 else (x if x >= 3.0 else y)


hardswish = per_float_type(
    _hardswish_f32,
    _hardswish_f64,
    """x relu6(x + 3) / 6: 0.0 for x <= -3, x for x >= 3; -0.0 gives -0.0; NaN propagates.

    float64 input forms x (x + 3) / 6 to twice working precision and rounds
    once (x (x + 3) / 6 in plain arithmetic rounds three times); float32
    input computes in float64, where x (x + 3) is exact, and rounds once.
    """,
)


def _hardswish_grad_f32(z, a):
    zc = np.float64(z)
    y = np.float32((zc + 1.5) * _THIRD)
    return np.float32(0.0) if z <= np.float32(-3.0) else (np.float32(1.0) if z >= np.float32(3.0) else y)


def _hardswish_grad_f64(z, a):
    s = z + 1.5  # two-sum: z may exceed 1.5
    part = s - z
    s_lo = (z - (s - part)) + (1.5 - part)
    q = s * _THIRD
    y = q + (fma(-q, 3.0, s) + s_lo) * _THIRD
    return 0.0 if z <= -3.0 else (1.0 if z >= 3.0 else y)


hardswish_grad = per_float_type(
    _hardswish_grad_f32,
    _hardswish_grad_f64,
    """(2z + 3) / 6 where -3 < z < 3, 0 for z <= -3 and 1 for z >= 3 (torch's
    hardswish_backward); NaN stays NaN.  Formed as (z + 1.5) / 3, within
    about half an ulp, the root z = -1.5 included.
    """,
)


def _softshrink_f32(x, lambd):
    xc = np.float64(x)
    y = np.float32(xc - lambd if xc > lambd else xc + lambd)  # exact next to +-lambd
    return y if abs(xc) > lambd else (np.float32(0.0) if x == x else x)


def _softshrink_f64(x, lambd):
    y = x - lambd if x > lambd else x + lambd
    return y if abs(x) > lambd else (0.0 if x == x else x)


softshrink = per_float_type(
    _softshrink_f32,
    _softshrink_f64,
    """x - lambd for x > lambd, x + lambd for x < -lambd, else 0.0 (-0.0 included,
    as torch's scalar 0); NaN propagates.

    float32 input compares with lambd and subtracts it in float64, then
    rounds once: x - lambd is exact next to lambd, and correctly rounded
    elsewhere, even for a lambd that float32 cannot hold.
    """,
)


@scalar
def softshrink_grad(z, a, lambd):
    """1 where |z| > lambd, else 0 (as torch); NaN stays NaN."""
    return _indicator(abs(np.float64(z)) > lambd, z)


@scalar
def hardshrink(x, lambd):
    """x where |x| > lambd (compared in float64), else 0.0; NaN propagates."""
    if abs(np.float64(x)) > lambd:
        return x
    return type(x)(0.0) if x == x else x


hardshrink_grad = softshrink_grad  # 1 where |z| > lambd, else 0, as torch


@scalar
def threshold(x, threshold, value):
    """x where x > threshold (compared in float64), else value rounded to x's type; NaN propagates."""
    if np.float64(x) > threshold:
        return x
    return type(x)(value) if x == x else x


@scalar
def threshold_grad(z, a, threshold, value):
    """1 where z > threshold, else 0 (as torch); NaN stays NaN."""
    return _indicator(np.float64(z) > threshold, z)


# Past it squareplus takes its asymptotic forms, and x**2 is never formed:
# there b / (4 x**2) is below 2**-100 for any b up to 2**900.
_SQUAREPLUS_BIG = 2.0**500


@scalar
def _squareplus_parts(x, b):
    """(g, g_lo, h, h_lo) for float64 x with |x| <= 2**500: h + h_lo = sqrt(x**2 + b) and
    g + g_lo = b / (2 (h + |x|)), each to about twice working precision."""
    ax = abs(x)
    w = ax * ax
    w_lo = fma(ax, ax, -w)
    t = w + b  # two-sum: b may exceed x**2
    part = t - w
    t_lo = ((w - (t - part)) + (b - part)) + w_lo
    h = math.sqrt(t)
    hs = h if h != 0 else 1.0  # h = 0 only for x = 0 and b = 0
    h_lo = (fma(-h, h, t) + t_lo) / (2.0 * hs)
    d = h + ax  # h >= |x|: fast two-sum
    d_lo = ((h - d) + ax) + h_lo
    ds = d if d != 0 else 1.0
    q = b / ds
    q_lo = (fma(-q, ds, b) - q * d_lo) / ds
    return 0.5 * q, 0.5 * q_lo, hs, h_lo


def _squareplus_f32(x, b):
    xc = np.float64(x)
    d = 2.0 * (math.sqrt(xc * xc + b) + abs(xc))
    g = b / d if d != 0 else 0.0  # d = 0 only for x = 0 and b = 0
    return np.float32(xc + g if xc >= 0 else g)


def _squareplus_f64(x, b):
    ax = abs(x)
    xc = math.copysign(_SQUAREPLUS_BIG, x) if ax > _SQUAREPLUS_BIG else x  # NaN passes
    g, g_lo, h, h_lo = _squareplus_parts(xc, b)
    s = xc + g  # two-sum: g may exceed x
    part = s - xc
    s_lo = ((xc - (s - part)) + (g - part)) + g_lo
    near = s + s_lo if x >= 0 else g + g_lo
    far = x if x > 0 else (b / ax) * 0.25
    return far if ax > _SQUAREPLUS_BIG else near


squareplus = per_float_type(
    _squareplus_f32,
    _squareplus_f64,
    """(x + sqrt(x**2 + b)) / 2 = max(x, 0) + g, g = b / (2 (sqrt(x**2 + b) + |x|)).

    The second form has no cancellation for x < 0, where the result is g
    alone.  float64 input carries x**2 + b, its square root and g to twice
    working precision, and past |x| = 2**500 takes the limits x and
    b / (4 |x|) without forming x**2; float32 input computes in float64 and
    rounds once.  With b = 0 it is relu (squareplus(-0.0, 0) = 0.0);
    squareplus(inf) = inf, squareplus(-inf) = 0.0; NaN propagates.
    """,
)


def _squareplus_grad_f32(z, a, b):
    zc = np.float64(z)
    h = math.sqrt(zc * zc + b)
    d = 2.0 * h * (h + abs(zc))
    m = b / d if d != 0 else 0.0
    return np.float32(1.0 - m if zc > 0 else m)


def _squareplus_grad_f64(z, a, b):
    az = abs(z)
    zc = math.copysign(_SQUAREPLUS_BIG, z) if az > _SQUAREPLUS_BIG else z  # NaN passes
    g, g_lo, h, h_lo = _squareplus_parts(zc, b)
    m = g / h
    m_lo = (fma(-m, h, g) + g_lo - m * h_lo) / h
    near = (1.0 - m) - m_lo if z > 0 else m + m_lo
    far = 1.0 if z > 0 else ((0.25 * b) / az) / az
    return far if az > _SQUAREPLUS_BIG else near


squareplus_grad = per_float_type(
    _squareplus_grad_f32,
    _squareplus_grad_f64,
    """(1 + z / sqrt(z**2 + b)) / 2, from z: m = b / (2 h (h + |z|)) for z <= 0
    and 1 - m for z > 0, h = sqrt(z**2 + b), so the negative tail keeps
    its relative accuracy.  1/2 at z = 0 for b > 0; for b = 0 relu's
    derivative (0 at z = 0).  0 at -inf, 1 at inf; NaN stays NaN.
    """,
)


def _sparse_plus_f32(x):
    s = np.float64(x) + 1.0
    y = np.float32(s * s * 0.25)
    return np.float32(0.0) if x <= np.float32(-1.0) else (x if x >= np.float32(1.0) else y)


def _sparse_plus_f64(x):
    s = x + 1.0
    s_lo = (1.0 - s) + x  # exact for |x| <= 1, where it is used
    p = s * s
    y = (p + (fma(s, s, -p) + 2.0 * s * s_lo)) * 0.25
    return 0.0 if x <= -1.0 else (x if x >= 1.0 else y)


sparse_plus = per_float_type(
    _sparse_plus_f32,
    _sparse_plus_f64,
    """0.0 for x <= -1, (x + 1)**2 / 4 for -1 < x < 1, x for x >= 1 (jax.nn); NaN propagates.

    float64 input squares x + 1 carried to twice working precision;
    float32 input computes in float64 and rounds once.
    """,
)


@scalar
def sparse_plus_grad(z, a):
    """0 for z <= -1, (z + 1) / 2 for -1 < z < 1, 1 for z >= 1; one rounding; NaN stays NaN."""
    T = type(z)
    return T(0.0) if z <= T(-1.0) else (T(1.0) if z >= T(1.0) else (z + T(1.0)) * T(0.5))


@scalar
def sparse_sigmoid(x):
    """0.0 for x <= -1, (x + 1) / 2 for -1 < x < 1, 1 for x >= 1 (jax.nn); one rounding; NaN propagates."""
    T = type(x)
    return T(0.0) if x <= T(-1.0) else (T(1.0) if x >= T(1.0) else (x + T(1.0)) * T(0.5))


@scalar
def sparse_sigmoid_grad(z, a):
    """1/2 where -1 < z < 1, else 0; NaN stays NaN."""
    T = type(z)
    return _indicator((z > T(-1.0)) & (z < T(1.0)), z, 0.5)


# Past it softsign(x) rounds to +-1 in both types (1 / (1 + |x|) is below a
# quarter ulp of 1), and x / (1 + |x|) would be inf / inf at inf.
_SOFTSIGN_CLAMP = 2.0**60


def _softsign_f32(x):
    xc = np.float64(x)
    ax = abs(xc)
    ac = _SOFTSIGN_CLAMP if ax > _SOFTSIGN_CLAMP else ax  # NaN passes
    return np.float32(math.copysign(ac / (1.0 + ac), xc))


def _softsign_f64(x):
    ax = abs(x)
    ac = _SOFTSIGN_CLAMP if ax > _SOFTSIGN_CLAMP else ax  # NaN passes
    d = 1.0 + ac
    big = ac if ac > 1.0 else 1.0
    small = 1.0 if ac > 1.0 else ac
    d_lo = (big - d) + small  # the rounding of 1 + |x|
    q = ac / d
    q = q + (fma(-q, d, ac) - q * d_lo) / d
    return math.copysign(q, x)


softsign = per_float_type(
    _softsign_f32,
    _softsign_f64,
    """x / (1 + |x|), odd (-0.0 gives -0.0); softsign(+-inf) = +-1; NaN propagates.

    float64 input divides by 1 + |x| carried to twice working precision
    (within about half an ulp; the plain quotient rounds twice, and 1 + |x|
    loses |x|'s low bits near 0); float32 input computes in float64 and
    rounds once.
    """,
)


# Past it 1 / (1 + |z|)**2 is below half the smallest float64 subnormal.
_SOFTSIGN_GRAD_CLAMP = 2.0**600


def _softsign_grad_f32(z, a):
    d = 1.0 + abs(np.float64(z))  # at most about 2**128: d**2 is finite
    return np.float32(1.0 / (d * d))


def _softsign_grad_f64(z, a):
    az = abs(z)
    ac = _SOFTSIGN_GRAD_CLAMP if az > _SOFTSIGN_GRAD_CLAMP else az  # NaN passes
    d = 1.0 + ac
    big = ac if ac > 1.0 else 1.0
    small = 1.0 if ac > 1.0 else ac
    d_lo = (big - d) + small  # the rounding of 1 + |z|
    r = 1.0 / d
    e = fma(-r, d, 1.0) - r * d_lo  # 1 - r (1 + |z|): 1 / (1 + |z|) = r (1 + e)
    s = r * r  # r = 1/d, not d**2, so nothing overflows and only s underflows
    return s + (fma(r, r, -s) + 2.0 * s * e)


softsign_grad = per_float_type(
    _softsign_grad_f32,
    _softsign_grad_f64,
    """1 / (1 + |z|)**2, from z; 0 at +-inf; NaN stays NaN.

    float64 input squares 1 / (1 + |z|) with its rounding and that of
    1 + |z| corrected (within about half an ulp), and never forms
    (1 + |z|)**2, which overflows past |z| = 2**512 while the result is
    still a subnormal number; float32 input computes in float64 and rounds
    once.
    """,
)


# Parameter checks (``check_params`` of the registry entries): each raises
# ValueError for invalid values, as torch does (jax.nn for squareplus).


def check_hardtanh(min_val, max_val):
    if min_val > max_val:
        raise ValueError("hardtanh: min_val cannot be greater than max_val")


def check_softshrink(lambd):
    if not lambd >= 0:
        raise ValueError("softshrink: lambd must be greater than or equal to 0")


def check_squareplus(b):
    if not b >= 0:
        raise ValueError("squareplus: b must be greater than or equal to 0")


def check_celu(alpha):
    # torch refuses alpha = 0 too; a negative alpha, which torch takes, makes
    # e**(x/alpha) grow without bound for x < 0 and is not supported here.
    if not alpha > 0:
        raise ValueError("celu: alpha must be greater than 0")


def check_softplus(beta, threshold):
    if beta == 0 or beta != beta:
        raise ValueError("softplus: beta must be a nonzero number")
