"""Scalar math kernels: the one definition of every activation's math.

Each kernel takes a float32 or float64 scalar and computes in that type:
constants are built from the argument's type (``T(0.5)``), never from bare
Python float literals, which Numba would promote to float64.  The kernels are
inlined into the array loops of :mod:`numba_act.elementwise` and
:mod:`numba_act.rowwise` and into user code that calls the public functions
on scalars inside ``@njit``.

``exp`` is written out rather than taken from libm: without SVML, Numba's
``np.exp`` is a scalar library call that LLVM cannot vectorize.  It returns
the result as an unevaluated sum ``hi + lo`` so that sigmoid, elu's expm1
and softmax can keep the bits a plain ``exp`` would round away.  Most
callers take exp of a number <= 0 only (of -|x|, of x - max), where
:func:`exp_parts_nonpositive` needs one scaling product instead of two:
1.1-1.25x faster kernels.
"""

import math

import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import intrinsic, overload

from numba_act._jit import EXACT, scalar

# The compiler options of the math overloads, as the scalar kernels have them.
_MATH_OPTIONS = {"fastmath": set(EXACT), "error_model": "numpy"}

# Chebyshev fits of (expm1(r) - r) / r**2 on |r| <= ln(2)/2, highest power
# first; they leave |error| < 2**-27 (float32) and < 2**-62 (float64) in expm1(r),
# small beside the rounding of 1 + expm1(r) that the low part of exp keeps.
_EXPM1_F32 = (
    0.0013926926614021906481,
    0.0083637738744055734988,
    0.041666550110305124444,
    0.16666573381900846023,
    0.5,
)
_EXPM1_F64 = (
    2.0915442297780115217e-9,
    2.5106274733573294688e-8,
    2.7557271810219799569e-7,
    2.7557252833516909748e-6,
    0.000024801587327007186731,
    0.00019841269876864354929,
    0.0013888888888883326674,
    0.0083333333333255446996,
    0.041666666666666670074,
    0.16666666666666671438,
    0.5,
)


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c with one rounding (llvm.fma): the exact residuals below, and
    the polynomials, which are faster and more accurate fused.

    Written out rather than left to the ``contract`` fast-math flag, so that
    results do not depend on the flags of the code a kernel is inlined into.
    """
    if not (a == b == c and a in (types.float32, types.float64)):
        raise TypingError(f"fma needs three arguments of one float type, got {a}, {b}, {c}")

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


# ln 2 = _LN2_HI + _LN2_LO, the high part with trailing zeros so that n * _LN2_HI is exact.
_LN2_HI = 0.693145751953125
_LN2_LO = 1.42860682030941723212e-6


def exp_unscaled(x):
    """exp(x) = (hi + lo) * s1 * s2, with hi + lo in [0.7, 1.5) and s1, s2 powers of two.

    Callable from ``@njit`` code only.  Kept apart so that a caller can
    multiply before scaling, and a result that is normal keeps its bits even
    where exp(x) itself is subnormal.  s1 and s2 are normal numbers, so that
    a subnormal result is rounded once, in the last product.  NaN gives NaN,
    -inf gives 0 and +inf gives inf.
    """
    raise TypeError("exp_unscaled is only callable from @njit code")


def smallest_normal(x):
    """The smallest normal number of x's float type (``@njit`` code only)."""
    raise TypeError("smallest_normal is only callable from @njit code")


@overload(smallest_normal)
def _smallest_normal_overload(x):
    if x in (types.float32, types.float64):
        tiny = np.finfo(str(x)).tiny
        return lambda x: tiny
    return None


@scalar
def _expm1_poly_f32(r):
    T, c = type(r), _EXPM1_F32
    p = fma(fma(T(c[0]), r, T(c[1])), r, T(c[2]))
    return fma(fma(p, r, T(c[3])), r, T(c[4]))


@scalar
def _expm1_poly_f64(r):
    T, c = type(r), _EXPM1_F64
    p = fma(fma(fma(T(c[0]), r, T(c[1])), r, T(c[2])), r, T(c[3]))
    p = fma(fma(fma(p, r, T(c[4])), r, T(c[5])), r, T(c[6]))
    return fma(fma(fma(fma(p, r, T(c[7])), r, T(c[8])), r, T(c[9])), r, T(c[10]))


def _exp_reduce(x):
    """(p, n) with e**x = 2**n (1 + p), p = expm1(r) for |r| <= ln(2)/2 and n an
    integer of x's width, for x within exp's clamps (``@njit`` code only)."""
    raise TypeError("_exp_reduce is only callable from @njit code")


def _exp_reduce_impl(T, Int, shifter, ln2_hi, ln2_lo, poly):
    """_exp_reduce for float type T with same-width integer type Int."""
    log2e = T(1.4426950408889634)
    shifter_bits = np.array(shifter).view(Int)[()]

    def impl(x):
        # Adding the shifter rounds x/ln2 to an integer n, which lands in the
        # low mantissa bits of t: no float-to-int conversion needed.
        t = fma(x, log2e, shifter)
        n = t - shifter
        r = fma(-n, ln2_lo, fma(-n, ln2_hi, x))  # the first step is exact
        p = fma(r * r, poly(r), r)  # expm1(r)
        return p, Int(T(t).view(Int) - shifter_bits)

    return impl


@overload(_exp_reduce, jit_options=_MATH_OPTIONS)
def _exp_reduce_overload(x):
    if x == types.float32:
        f = np.float32
        return _exp_reduce_impl(f, np.int32, f(12582912.0), f(0.693359375), f(-2.12194440e-4), _expm1_poly_f32)
    if x == types.float64:
        f = np.float64
        return _exp_reduce_impl(f, np.int64, f(6755399441055744.0), f(_LN2_HI), f(_LN2_LO), _expm1_poly_f64)
    return None


# For each float type: the integer type of its width, its exponent bias and mantissa bits.
_LAYOUT = {types.float32: (np.float32, np.int32, 127, 23), types.float64: (np.float64, np.int64, 1023, 52)}


# exp's input clamps: below lo, e**x is far below the smallest subnormal.
_EXP_CLAMPS = {types.float32: (-120.0, 89.0), types.float64: (-770.0, 710.0)}


def _exp_unscaled_impl(T, Int, lo, hi, bias, mbits, prescale=None):
    """exp_unscaled for float type T with same-width integer type Int; with
    ``prescale`` (K), exp_unscaled_nonpositive: no upper clamp, and s1, s2 =
    2**(n + K), 2**-K."""
    one = T(1.0)
    bias, mbits = Int(bias), Int(mbits)
    unscale = T(2.0 ** -(prescale or 0))
    offset = Int(bias + (prescale or 0))

    def impl(x):
        # Comparisons with NaN are false, so a NaN passes both clamps and
        # flows through every step below into both parts.
        xc = lo if x < lo else x
        if prescale is None:
            xc = hi if xc > hi else xc
        p, ni = _exp_reduce(xc)
        e_hi = one + p
        e_lo = (one - e_hi) + p  # the exact rounding error of 1 + p
        if prescale is not None:
            return e_hi, e_lo, Int((ni + offset) << mbits).view(T), unscale
        # 2**n in two normal factors
        n1 = Int(ni >> 1)
        s1 = Int((n1 + bias) << mbits).view(T)
        s2 = Int((ni - n1 + bias) << mbits).view(T)
        return e_hi, e_lo, s1, s2

    return impl


def exp_unscaled_nonpositive(x):
    """:func:`exp_unscaled` for x <= 0 (or NaN) only (``@njit`` code only):
    s1 = 2**(n + K) and s2 = 2**-K (K of :func:`exp_prescaled`), four
    integer operations and a clamp fewer.  -inf gives the value at the
    clamp, which s2 scales to 0."""
    raise TypeError("exp_unscaled_nonpositive is only callable from @njit code")


def _exp_unscaled_for(nonpositive):
    """The overload of exp_unscaled, or with ``nonpositive`` of exp_unscaled_nonpositive."""

    def exp_unscaled_overload(x):
        if x not in _LAYOUT:
            return None
        T, Int, bias, mbits = _LAYOUT[x]
        lo, hi = _EXP_CLAMPS[x]
        prescale = _prescale_exponent(x) if nonpositive else None
        return _exp_unscaled_impl(T, Int, T(lo), T(hi), bias, mbits, prescale)

    return exp_unscaled_overload


overload(exp_unscaled, jit_options=_MATH_OPTIONS)(_exp_unscaled_for(False))
overload(exp_unscaled_nonpositive, jit_options=_MATH_OPTIONS)(_exp_unscaled_for(True))


def _prescale_exponent(x):
    """K of :func:`exp_prescaled` for float type x: the least that keeps
    2**(n + K) normal for every n that exp's lower clamp can give."""
    _, _, bias, _ = _LAYOUT[x]
    return 1 - bias - math.floor(_EXP_CLAMPS[x][0] / math.log(2.0))


def exp_prescale(x):
    """2**K of :func:`exp_prescaled` for x's float type, as a float64 (``@njit`` code only)."""
    raise TypeError("exp_prescale is only callable from @njit code")


@overload(exp_prescale)
def _exp_prescale_overload(x):
    if x in _LAYOUT:
        factor = 2.0 ** _prescale_exponent(x)
        return lambda x: factor
    return None


def exp_split(y, lo, hi):
    """(p, s) with e**y = s (1 + p), s a power of two, for y clamped to [lo, hi]
    (``@njit`` code only).  exp without the low part and the two-factor
    scaling of :func:`exp_unscaled`, for callers that need neither: lo and hi
    (constants; None for no clamp on that side) must keep s normal.  NaN
    gives NaN in p.
    """
    raise TypeError("exp_split is only callable from @njit code")


def exp_split_short(y, lo, hi):
    """:func:`exp_split` for float64 y with the float32 polynomial: e**y within
    2**-27 relatively, for float32 results computed in float64 (``@njit``
    code only)."""
    raise TypeError("exp_split_short is only callable from @njit code")


def _exp_reduce_short(x):
    """_exp_reduce for float64 x with the float32 polynomial (``@njit`` code only)."""
    raise TypeError("_exp_reduce_short is only callable from @njit code")


@overload(_exp_reduce_short, jit_options=_MATH_OPTIONS)
def _exp_reduce_short_overload(x):
    if x == types.float64:
        f = np.float64
        return _exp_reduce_impl(f, np.int64, f(6755399441055744.0), f(_LN2_HI), f(_LN2_LO), _expm1_poly_f32)
    return None


def _exp_split_for(reduce, accepted):
    """The overload of an exp_split on ``accepted`` float types, by way of ``reduce``."""

    def exp_split_overload(y, lo, hi):
        if y not in accepted or any(b not in (y, types.none) for b in (lo, hi)):
            return None
        T, Int, bias, mbits = _LAYOUT[y]
        bias, mbits = Int(bias), Int(mbits)
        clamp_lo, clamp_hi = lo != types.none, hi != types.none

        def impl(y, lo, hi):
            # Comparisons with NaN are false, so a NaN passes the clamps.
            if clamp_lo:
                y = lo if y < lo else y
            if clamp_hi:
                y = hi if y > hi else y
            p, ni = reduce(y)
            return p, Int((ni + bias) << mbits).view(T)

        return impl

    return exp_split_overload


overload(exp_split, jit_options=_MATH_OPTIONS)(_exp_split_for(_exp_reduce, tuple(_LAYOUT)))
overload(exp_split_short, jit_options=_MATH_OPTIONS)(_exp_split_for(_exp_reduce_short, (types.float64,)))


@scalar
def exp_parts(x):
    """exp(x) as ``(hi, lo)`` with hi = fl(exp(x)) and |lo| < ulp(hi)."""
    e_hi, e_lo, s1, s2 = exp_unscaled(x)
    return (e_hi * s1) * s2, (e_lo * s1) * s2


@scalar
def exp_parts_nonpositive(y):
    """:func:`exp_parts` for y <= 0 (or NaN) only.

    e**y is at most 1 there, so the power of two is one product, s1 s2 of
    :func:`exp_unscaled_nonpositive`: 2**n exactly down to the smallest
    subnormal, 0 below it; hi and lo are each rounded once.  -inf gives 0.
    """
    e_hi, e_lo, s1, s2 = exp_unscaled_nonpositive(y)
    scale = s1 * s2
    return e_hi * scale, e_lo * scale


@scalar
def exp_prescaled(y, lo):
    """e**(y + lo) * 2**K, for y <= 0 (or NaN) and |lo| <= ulp(y) / 2, with
    K = 48 for float32 and 89 for float64.

    s1 of :func:`exp_unscaled_nonpositive` alone: the factor 2**K keeps the
    result normal wherever e**y itself would be subnormal, and a caller
    that only takes ratios of such values (softmax) never undoes it.  lo is
    the rounding error of y (from a two-sum), fed back as e**y (1 + lo).
    -inf gives the value at exp's lower clamp, about 2**-126 times the
    value at 0; NaN gives NaN.
    """
    e_hi, e_lo, s1, _ = exp_unscaled_nonpositive(y)
    return (e_hi + fma(e_hi, lo, e_lo)) * s1


@scalar
def exp(x):
    """e**x, within 1 ulp."""
    e_hi, e_lo = exp_parts(x)
    return e_hi + e_lo


@scalar
def _ratio_of_one_plus(e_hi, e_lo):
    """(q, c) with e/(1 + e) = q + c for e = e_hi + e_lo <= 1.

    One division, then one correction step using 1/(1 + e) = 1 - q, so the
    result carries the low bits of both e and 1 + e.
    """
    one = type(e_hi)(1.0)
    d_hi = one + e_hi
    d_lo = ((one - d_hi) + e_hi) + e_lo
    q = e_hi / d_hi
    residual = (fma(-q, d_hi, e_hi) + e_lo) - q * d_lo
    return q, residual * (one - q)


@scalar
def sigmoid(x):
    """1 / (1 + e**-x), evaluated on -|x| so that exp never overflows.

    The smaller of sigmoid(x) and sigmoid(-x) = 1 - sigmoid(x) is formed by
    :func:`_ratio_of_one_plus`, within about half an ulp; the larger is
    1 minus it, rounded once more: within 0.75 ulp, as it lies in [0.5, 1],
    where an ulp is at least twice the smaller one's.
    """
    e_hi, e_lo = exp_parts_nonpositive(-abs(x))
    q, c = _ratio_of_one_plus(e_hi, e_lo)
    small = q + c
    return small if x < 0 else type(x)(1.0) - small


@scalar
def relu(x):
    """max(x, 0); NaN propagates."""
    return type(x)(0.0) if x <= 0 else x


LEAKY_RELU_SLOPE = 0.01
ELU_ALPHA = 1.0


@scalar
def leaky_relu(x):
    """x if x >= 0 else 0.01 * x; NaN propagates."""
    return x * type(x)(LEAKY_RELU_SLOPE) if x < 0 else x


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


@overload(_tanh_series, jit_options=_MATH_OPTIONS)
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
def elu(x):
    """x if x >= 0 else alpha * (e**x - 1), alpha = 1; NaN propagates, -0.0 gives -0.0.

    e**x - 1 = s (1 + p) - 1 = s p + (s - 1), with e**x = s (1 + p) of
    :func:`exp_split`: one fused multiply-add, rounded once where s - 1 is
    exact (s >= 2**-24 in float32, 2**-53 in float64), so that near 0 the
    result is p itself; below that the result is within an ulp of -1 either
    way.  x is clamped at -40, where e**x is below half an ulp of 1.
    """
    T = type(x)
    if x >= 0:  # a zero x is its own result: elu(-0.0) = -0.0
        return x
    # min(x, 0): both branches are computed in a vector loop, and this exp
    # takes no positive input.
    p, s = exp_split(x if x < 0 else T(0.0), T(-40.0), None)
    return T(ELU_ALPHA) * fma(s, p, s - T(1.0)) if x == x else x


@scalar
def _x_sigmoid(x, t, t_lo):
    """x * sigmoid(t + t_lo), with sigmoid(t + d) = s + s (1 - s) d; -inf gives -0.0.

    Where exp(t) is subnormal, 1 + exp(t) rounds to 1 and the result is
    x exp(t), which may well be normal: it is formed before the final
    scaling, so that it keeps its bits.
    """
    T = type(x)
    p_hi, p_lo, s1, s2 = exp_unscaled_nonpositive(-abs(t))
    e_hi, e_lo = (p_hi * s1) * s2, (p_lo * s1) * s2
    if t < 0 and e_hi < smallest_normal(x):
        # Below exp's clamp the product must vanish (to -0.0 at x = -inf),
        # and t's low part no longer matters.  No separate test for -inf: on
        # AVX2 one more branch tips LLVM's cost model against vectorizing
        # silu in float64.
        x_tail = x if x > T(-800.0) else T(-800.0)
        t_lo = t_lo if t > T(-800.0) else T(0.0)
        return (fma(x_tail, p_hi, x_tail * fma(p_hi, t_lo, p_lo)) * s1) * s2
    # s = sigmoid(t + t_lo) as an unevaluated s_hi + s_lo, so that x s rounds once.
    q, c = _ratio_of_one_plus(e_hi, e_lo)  # the smaller of s and 1 - s
    if t < 0:
        s_hi, s_lo = q, c
    else:
        s_hi = T(1.0) - q
        s_lo = ((T(1.0) - s_hi) - q) - c
    ds = (s_hi * (T(1.0) - s_hi)) * t_lo
    return fma(x, s_hi, _limit_zero(x * (s_lo + ds)))


# Below it every float32 x * sigmoid(t) of these activations is -0.0 or 0.0,
# and float64's exp stays normal.
_SHORT_FLOOR = -120.0


@scalar
def _x_sigmoid_short(x, t):
    """x * sigmoid(t) in float64 for float32 results, within about 1e-8 relatively.

    x and t are float64 and t is exact or nearly so; -|t| is clamped at
    _SHORT_FLOOR, so x must be too (a NaN passes both).  With e = e**-|t|
    from the float32 polynomial and r = 1 / (1 + e): x e r for t < 0, x r
    otherwise.  Rounded once to float32 by the caller, the result is within
    about half an ulp, subnormal ones included: float64's range holds them.
    """
    p, s = exp_split_short(-abs(t), _SHORT_FLOOR, None)
    e = fma(s, p, s)
    r = 1.0 / (1.0 + e)
    return x * (e * r if t < 0 else r)


@scalar
def _widened(x):
    """float32 x as float64, clamped below at _SHORT_FLOOR; a NaN passes."""
    xc = np.float64(x)
    return _SHORT_FLOOR if xc < _SHORT_FLOOR else xc


def _silu(x):
    """silu for float32 or float64 x (``@njit`` code only); see :func:`silu`."""
    raise TypeError("_silu is only callable from @njit code")


def _silu_f32(x):
    xc = _widened(x)
    return np.float32(_x_sigmoid_short(xc, xc))


def _silu_f64(x):
    return _x_sigmoid(x, x, 0.0)


@overload(_silu, inline="always", jit_options=_MATH_OPTIONS)
def _silu_overload(x):
    return {types.float32: _silu_f32, types.float64: _silu_f64}.get(x)


@scalar
def silu(x):
    """x * sigmoid(x) (also called swish); silu(-inf) = -0.0, its limit.

    float64 input: :func:`_x_sigmoid`, to twice working precision.  float32
    input computes in float64 (:func:`_x_sigmoid_short`) and rounds once,
    within about half an ulp: on AVX2 that is faster than the float32
    double-word path, and more accurate in the subnormal tail.
    """
    return _silu(x)


def _atanh_series(s2):
    """(atanh(s) - s) / s**3 as a polynomial in s2 = s**2, |s| <= 3 - 2 sqrt(2)
    (``@njit`` code only); float32 stops at s**9, float64 at s**21."""
    raise TypeError("_atanh_series is only callable from @njit code")


@overload(_atanh_series, jit_options={"error_model": "numpy"})
def _atanh_series_overload(s2):
    if s2 not in (types.float32, types.float64):
        return None
    T = np.float32 if s2 == types.float32 else np.float64
    terms = 4 if s2 == types.float32 else 10
    coeffs = tuple(T(1.0 / (2 * k + 1)) for k in range(terms, 0, -1))  # 1/21 ... 1/3

    def series(s2):
        p = coeffs[0]
        for c in coeffs[1:]:
            p = fma(p, s2, c)
        return p

    return series


@scalar
def _log1p_unit(y_hi, y_lo):
    """log(1 + y) for y = y_hi + y_lo in [0, 1], vectorizable.

    1 + y is carried as u + u_lo; u is halved (exactly) above sqrt(2), and
    log(u) = k ln 2 + 2 atanh(s) with s = (u - 1) / (u + 1), |s| < 0.172.
    """
    T = type(y_hi)
    one = T(1.0)
    u = one + y_hi
    u_lo = ((one - u) + y_hi) + y_lo
    big = u > T(1.4142135623730951)
    half = T(0.5) if big else one
    u, u_lo = u * half, u_lo * half
    n_hi = (u - one) + u_lo  # u - 1 is exact, and at least |u_lo| unless 0
    n_lo = ((u - one) - n_hi) + u_lo
    a = u + one  # two-sum: u + 1 need not be exact
    one_part = a - u
    a_lo = (u - (a - one_part)) + (one - one_part)
    d_hi = a + u_lo
    d_lo = ((a - d_hi) + u_lo) + a_lo
    s = n_hi / d_hi
    # One correction step, with 1 / (u + 1) = (1 - s) / 2.
    residual = (fma(-s, d_hi, n_hi) + n_lo) - s * d_lo
    s_lo = residual * ((one - s) * T(0.5))
    s2 = s * s
    log_u = fma(s * s2, T(2.0) * _atanh_series(s2), T(2.0) * s) + T(2.0) * s_lo
    k = one - half - half + one  # 1 above sqrt(2), else 0
    return fma(k, T(_LN2_HI), fma(k, T(_LN2_LO), log_u))


@scalar
def softplus(x):
    """log(1 + e**x) = max(x, 0) + log1p(e**-|x|); never overflows."""
    e_hi, e_lo = exp_parts_nonpositive(-abs(x))
    return (x if x > 0 else type(x)(0.0)) + _log1p_unit(e_hi, e_lo)


@scalar
def _limit_zero(t):
    """t, or 0 where t is inf * 0: a vanishing term of a derivative at +-inf."""
    return t if t == t else type(t)(0.0)


_INV_SQRT_2PI = 0.3989422804014327  # 1/sqrt(2 pi), the normal density at 0
_INV_SQRT_2PI_LO = -2.49232720227773e-17  # 1/sqrt(2 pi) - _INV_SQRT_2PI

# Phi(-a) = exp(-a**2/2) g(t) / (a + M) for a >= 0, with t = alpha - K / (a + M),
# alpha = 1 + 2M / A_MAX and K = M (1 + alpha): the map sends a = 0 to t = -1
# and a = A_MAX to t = 1.  exp(a**2/2) Phi(-a) is entire and falls like 1/a,
# and 1/(a + M) takes that decay out, so g is smooth and lies in [0.4, 2.5].
# Its only singularity, at a = inf, maps to t = alpha, outside [-1, 1], so
# the coefficients of its Chebyshev interpolant in powers of t shrink and
# Horner's rule is stable.  Fitted with mpmath, highest power first: each
# coefficient was rounded to float64 before the lower ones were fitted again
# to what was left, and those of t and 1 keep a low part, so the polynomial
# as stored is within 1.3e-17 of g, relatively (float64, degree 24), and
# 5e-10 (for float32 results, degree 11).  Past A_MAX every result
# underflows.  M and A_MAX make alpha and K exact.
_PHI_F64 = (5.0, 40.0)  # M, A_MAX: alpha = 1.25, K = 11.25
_PHI_G_F64 = (
    -1.0186122277353592e-12,
    -2.4587817313770563e-11,
    -7.684887440077642e-12,
    3.212014017458249e-10,
    2.8982770055264796e-10,
    -2.639882255601264e-09,
    -3.8008752811536505e-09,
    1.996497823604288e-08,
    3.7395351201457e-08,
    -1.660643881749417e-07,
    -3.142189685328783e-07,
    1.6318511438335534e-06,
    1.9814460701823343e-06,
    -1.8309592118525784e-05,
    4.026922219183022e-06,
    0.00019836152035552894,
    -0.0005313521415439669,
    -0.0008922360020769791,
    0.011238259242258554,
    -0.04643984847085298,
    0.12948165075059523,
    -0.27811948195867997,
    0.48437498414282826,
    -0.7004649271683128,
    0.8496957717177205,
)
_PHI_G_LO_F64 = (-5.0532353818184816e-17, -4.222841738722534e-17)  # of the t and 1 coefficients
_PHI_F32 = (4.0, 16.0)  # alpha = 1.5, K = 10
_PHI_G_F32 = (
    1.3239851642257566e-06,
    -5.1826939564224645e-06,
    -2.0774683926517394e-05,
    8.232412067827429e-05,
    0.00023138273474955834,
    -0.0014313466732295455,
    -0.0006880130579129542,
    0.026794334372002633,
    -0.12145190179750712,
    0.32899507878887924,
    -0.6296958752923,
    0.8939409337085201,
)


@scalar
def _phi_g_f64(t):
    """g(t) for float64 results down to the t**2 term: (g(t) - c0 - c1 t) / t**2."""
    c = _PHI_G_F64
    q = fma(fma(fma(c[0], t, c[1]), t, c[2]), t, c[3])
    q = fma(fma(fma(fma(q, t, c[4]), t, c[5]), t, c[6]), t, c[7])
    q = fma(fma(fma(fma(q, t, c[8]), t, c[9]), t, c[10]), t, c[11])
    q = fma(fma(fma(fma(q, t, c[12]), t, c[13]), t, c[14]), t, c[15])
    q = fma(fma(fma(fma(q, t, c[16]), t, c[17]), t, c[18]), t, c[19])
    return fma(fma(fma(q, t, c[20]), t, c[21]), t, c[22])


@scalar
def _phi_g_f32(t):
    """g(t) for float32 results down to the t**2 term: (g(t) - c0 - c1 t) / t**2."""
    c = _PHI_G_F32
    q = fma(fma(fma(c[0], t, c[1]), t, c[2]), t, c[3])
    q = fma(fma(fma(fma(q, t, c[4]), t, c[5]), t, c[6]), t, c[7])
    return fma(fma(q, t, c[8]), t, c[9])


@scalar
def _horner_step(q, q_lo, t, c, c_lo):
    """(c + c_lo) + (q + q_lo) t, as an unevaluated sum with one rounding error left."""
    p = q * t
    p_lo = fma(q, t, -p) + q_lo * t
    s = c + p
    part = s - c
    return s, ((c - (s - part)) + (p - part)) + (p_lo + c_lo)


def _normal_tail(x):
    """The parts of Phi(-|x|) for float64 x (``@njit`` code only).

    Returns (xc, h, h_lo, p_hi, p_lo, s1, s2): xc is x clamped to
    [-A_MAX, A_MAX], a = |xc|, h + h_lo = exp(a**2/2) Phi(-a), within about
    half an ulp of h, and exp(-a**2/2) = (p_hi + p_lo) s1 s2 as
    :func:`exp_unscaled_nonpositive` gives it, so that a caller scales last
    and a subnormal result rounds once.  a**2 is carried as w + w_lo, since
    exp(-a**2/2) amplifies its rounding by a**2/2.  NaN gives NaN.
    """
    raise TypeError("_normal_tail is only callable from @njit code")


@overload(_normal_tail, inline="always", jit_options=_MATH_OPTIONS)
def _normal_tail_overload(x):
    if x != types.float64:
        return None
    (m, a_max), coeffs, (c1_lo, c0_lo), poly = _PHI_F64, _PHI_G_F64, _PHI_G_LO_F64, _phi_g_f64
    c1, c0 = coeffs[-2:]
    alpha = 1.0 + 2.0 * m / a_max
    k = m * (1.0 + alpha)
    inv_k = 1.0 / k

    def tail(x):
        xc = np.float64(x)
        # Comparisons with NaN are false, so a NaN passes both clamps.
        xc = -a_max if xc < -a_max else xc
        xc = a_max if xc > a_max else xc
        a = abs(xc)
        w = a * a
        w_lo = fma(a, a, -w)
        p_hi, p_lo, s1, s2 = exp_unscaled_nonpositive(-0.5 * w)
        p_lo = fma(p_hi, -0.5 * w_lo, p_lo)  # exp(-(w + w_lo)/2) = p (1 - w_lo/2)
        d = a + m
        d_lo = (max(a, m) - d) + min(a, m)  # the exact rounding error of a + M
        r = 1.0 / d
        r_lo = (fma(-r, d, 1.0) - r * d_lo) * r  # 1/(a + M) = r + r_lo
        kr = k * r
        kr_lo = fma(k, r, -kr) + k * r_lo  # K/(a + M) = kr + kr_lo
        # Exact below a = 13 (Sterbenz), where g is most sensitive to t:
        # g(t) changes by 1.3 dt near a = 0.  The low part of t is -kr_lo.
        t = alpha - kr
        # The last two steps to twice working precision: near t = +-1 the
        # rounding of every partial sum would reach g undamped.
        q, q_lo = _horner_step(poly(t), 0.0, t, c1, c1_lo)
        g, g_lo = _horner_step(q, q_lo, t, c0, c0_lo)
        h = g * r
        # t's low part -kr_lo moves H by -(d H' + H) d kr_lo / K (from g = d H,
        # t = alpha - K/d with d = a + M, and H' = a H - 1/sqrt(2 pi)); the
        # term is tiny, so h stands in for H in it.
        slope = d * fma(fma(a, h, -_INV_SQRT_2PI), d, h)
        h_lo = fma(g, r, -h) + ((g * r_lo + g_lo * r) - slope * (kr_lo * inv_k))
        return xc, h, h_lo, p_hi, p_lo, s1, s2

    return tail


@scalar
def _normal_tail_short(x):
    """(xc, a, h, e) in float64 for float32 x, each within about 1e-9 relatively,
    which is all that float32 results need: xc is x clamped to [-A_MAX, A_MAX],
    a = |xc|, h = exp(a**2/2) Phi(-a) and e = exp(-a**2/2).

    The float32 counterpart of :func:`_normal_tail`, with no low parts: a**2
    is exact (a has 24 bits), and e stays normal in float64 down to A_MAX,
    past which every float32 result underflows.  NaN gives NaN.
    """
    m, a_max = _PHI_F32
    alpha = 1.0 + 2.0 * m / a_max
    k = m * (1.0 + alpha)
    c = _PHI_G_F32
    xc = np.float64(x)
    # Comparisons with NaN are false, so a NaN passes both clamps.
    xc = -a_max if xc < -a_max else xc
    xc = a_max if xc > a_max else xc
    a = abs(xc)
    p, s = exp_split_short(-0.5 * (a * a), None, None)
    r = 1.0 / (a + m)
    t = alpha - k * r
    g = fma(fma(_phi_g_f32(t), t, c[10]), t, c[11])
    return xc, a, g * r, fma(s, p, s)


def _gelu(x):
    """gelu for float32 or float64 x (``@njit`` code only); see :func:`gelu`."""
    raise TypeError("_gelu is only callable from @njit code")


def _gelu_f32(x):
    xc, a, h, e = _normal_tail_short(x)
    b = (xc * h) * e  # -0.0 gives -0.0
    return np.float32(x - b if x > 0 else b)


def _gelu_f64(x):
    xc, h, h_lo, p_hi, p_lo, s1, s2 = _normal_tail(x)
    m = xc * h
    m_lo = fma(xc, h, -m) + xc * h_lo
    b = (fma(m, p_hi, fma(m_lo, p_hi, m * p_lo)) * s1) * s2
    # The sum of the parts turns -0.0 into 0.0: a zero x is its own result.
    return x - b if x > 0 else (x if x == 0 else b)


@overload(_gelu, inline="always", jit_options=_MATH_OPTIONS)
def _gelu_overload(x):
    return {types.float32: _gelu_f32, types.float64: _gelu_f64}.get(x)


@scalar
def gelu(x):
    """x * Phi(x), the exact (erf) form; gelu(-inf) = -0.0, gelu(inf) = inf.

    b = x Phi(-|x|), then gelu(x) = b for x < 0 and x - b otherwise
    (Phi(x) = 1 - Phi(-x)), where b < x/2 so its error does not grow.
    -0.0 gives -0.0, as x Phi(x) does in IEEE arithmetic.  Both types compute in float64: float64 input carries
    low parts through :func:`_normal_tail` and scales last, so that a
    subnormal b rounds once; float32 input takes the short path of
    :func:`_normal_tail_short`, whose errors lie far below a float32 ulp,
    and rounds once at the end.  In float32 the same accuracy would take
    twice-working-precision steps all the way through.
    """
    return _gelu(x)


# sqrt(2/pi) and 0.044715 (the float64 value, as torch and jax use it) in
# hi + lo pairs: in the far negative tail the sigmoid amplifies the rounding
# of its argument t = 2u by |t|, so t is formed to twice working precision.
_GELU_TANH_2C = 1.5957691216057308  # 2 sqrt(2/pi)
_GELU_TANH_2C_LO = -9.96930880911092e-17
_GELU_TANH_K = 0.044715


@scalar
def _gelu_tanh_t_short(xc):
    """t = 2 sqrt(2/pi) x (1 + k x**2) in float64 for float32 x: its rounding,
    amplified by |t| <= 2e5 in the tail, stays far below a float32 ulp."""
    return _GELU_TANH_2C * (xc * fma(_GELU_TANH_K, xc * xc, 1.0))


@scalar
def _split_constant(hi64, lo64, T):
    """A float64 constant (hi64 + lo64) as a hi + lo pair of type T; folded at compile time."""
    hi = T(hi64)
    return hi, T((np.float64(hi64) - np.float64(hi)) + np.float64(lo64))


@scalar
def _gelu_tanh_arg(x):
    """(t_hi, t_lo) with t_hi + t_lo = 2 sqrt(2/pi) x (1 + k x**2), k = 0.044715."""
    T = type(x)
    one = T(1.0)
    k_hi, k_lo = _split_constant(_GELU_TANH_K, 0.0, T)
    c_hi, c_lo = _split_constant(_GELU_TANH_2C, _GELU_TANH_2C_LO, T)
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
    return t, _limit_zero((t_hi - t) + t_lo)


def _gelu_tanh(x):
    """gelu_tanh for float32 or float64 x (``@njit`` code only); see :func:`gelu_tanh`."""
    raise TypeError("_gelu_tanh is only callable from @njit code")


def _gelu_tanh_f32(x):
    xc = _widened(x)
    t = _gelu_tanh_t_short(xc)
    return np.float32(_x_sigmoid_short(xc, t))


def _gelu_tanh_f64(x):
    t, t_lo = _gelu_tanh_arg(x)
    return _x_sigmoid(x, t, t_lo)


@overload(_gelu_tanh, inline="always", jit_options=_MATH_OPTIONS)
def _gelu_tanh_overload(x):
    return {types.float32: _gelu_tanh_f32, types.float64: _gelu_tanh_f64}.get(x)


@scalar
def gelu_tanh(x):
    """x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))) = x sigmoid(2u); -inf gives -0.0.

    float64 input forms t = 2u to twice working precision (:func:`_gelu_tanh_arg`);
    float32 input computes in float64, as :func:`silu` does, and rounds once.
    """
    return _gelu_tanh(x)


# Local derivatives, each as a function of the pre-activation z and the
# activation a = f(z), using whichever of the two is exact and cheaper.


@scalar
def sigmoid_grad(z, a):
    """a (1 - a)."""
    return a * (type(a)(1.0) - a)


@scalar
def relu_grad(z, a):
    """1 where z > 0, else 0 (0 at z == 0); NaN stays NaN."""
    T = type(z)
    if z > 0:
        return T(1.0)
    return T(0.0) if z == z else z


@scalar
def leaky_relu_grad(z, a):
    """1 where z > 0, else the slope; NaN stays NaN."""
    T = type(z)
    if z > 0:
        return T(1.0)
    return T(LEAKY_RELU_SLOPE) if z == z else z


@scalar
def tanh_grad(z, a):
    """1 - a**2, as (1 - a)(1 + a) to keep it accurate near |a| = 1."""
    one = type(a)(1.0)
    return (one - a) * (one + a)


@scalar
def elu_grad(z, a):
    """1 where a > 0 (z > 0), else a + alpha (= alpha e**z); NaN stays NaN.

    Read from a alone, so the VJP loop never loads z.
    """
    return type(a)(1.0) if a > 0 else a + type(a)(ELU_ALPHA)


_SILU_FLOOR = -800.0  # below it exp_unscaled's scale factors make silu' vanish


@scalar
def silu_grad(z, a):
    """s + z s (1 - s), s = sigmoid(z), from e = e**-|z| and r = 1 / (1 + e).

    s (1 - s) = e r**2 on both sides of 0, so z >= 0 gives r + z e r**2 and
    z < 0 gives e r (1 + z r), formed before exp's last scaling so that a
    subnormal result rounds once.  0 at -inf, 1 at inf.
    """
    T = type(z)
    one = T(1.0)
    e_hi, e_lo, s1, s2 = exp_unscaled_nonpositive(-abs(z))
    e = (e_hi * s1) * s2
    r = one / (one + e)
    if z < 0:
        z_tail = z if z > T(_SILU_FLOOR) else T(_SILU_FLOOR)  # no -inf * 0
        return (((e_hi * r) * fma(z_tail, r, one)) * s1) * s2
    return r + _limit_zero(z * e * r * r)


@scalar
def softplus_grad(z, a):
    """sigmoid(z) = 1 - e**-a, read from a = softplus(z) alone.

    1 - e**-a = (1 - s) - s p rounded once, with e**-a = s (1 + p); the
    rounding of a passes to the result damped by (1 - s') a / s' <= 1.
    """
    one = type(a)(1.0)
    p, s = exp_split(-a, type(a)(-40.0), None)  # e**-40 is below half an ulp of 1
    return fma(-s, p, one - s)


def _gelu_grad(z):
    """gelu's derivative for float32 or float64 z (``@njit`` code only); see :func:`gelu_grad`."""
    raise TypeError("_gelu_grad is only callable from @njit code")


def _gelu_grad_f32(z):
    zc, u, h, e = _normal_tail_short(z)
    d = e * (h - u * _INV_SQRT_2PI)
    return np.float32(d if z < 0 else 1.0 - d)


def _gelu_grad_f64(z):
    zc, h, h_lo, p_hi, p_lo, s1, s2 = _normal_tail(z)
    u = abs(zc)
    # v + v_lo = h + h_lo - u/sqrt(2 pi): for large u the last term is most of it.
    uc = u * _INV_SQRT_2PI
    uc_lo = fma(u, _INV_SQRT_2PI, -uc) + u * _INV_SQRT_2PI_LO
    v = h - uc
    part = v - h
    v_lo = ((h - (v - part)) - (uc + part)) + (h_lo - uc_lo)
    d = (fma(v, p_hi, fma(v_lo, p_hi, v * p_lo)) * s1) * s2
    return d if z < 0 else 1.0 - d


@overload(_gelu_grad, inline="always", jit_options=_MATH_OPTIONS)
def _gelu_grad_overload(z):
    return {types.float32: _gelu_grad_f32, types.float64: _gelu_grad_f64}.get(z)


@scalar
def gelu_grad(z, a):
    """Phi(z) + z phi(z), phi the standard normal density; in float64 like gelu.

    With u = |z|: Phi(-u) - u phi(u) = exp(-u**2/2) (h - u / sqrt(2 pi)) for
    z < 0, and 1 minus that for z >= 0; +-inf give the limits 1 and 0.
    """
    return _gelu_grad(z)


def _gelu_tanh_grad(z):
    """gelu_tanh's derivative for float32 or float64 z (``@njit`` code only); see :func:`gelu_tanh_grad`."""
    raise TypeError("_gelu_tanh_grad is only callable from @njit code")


def _gelu_tanh_grad_f32(z):
    # In float64, as the forward pass; z clamped to [-120, 120] (NaN passes),
    # past which the float32 result is 0 or 1 and z t' e could overflow.
    zc = _widened(z)
    zc = -_SHORT_FLOOR if zc > -_SHORT_FLOOR else zc
    t = _gelu_tanh_t_short(zc)
    zdt = zc * (_GELU_TANH_2C * fma(3.0 * _GELU_TANH_K, zc * zc, 1.0))  # z t'
    p, s = exp_split_short(-abs(t), _SHORT_FLOOR, None)
    e = fma(s, p, s)
    r = 1.0 / (1.0 + e)
    # e r (1 + z t' r) for t < 0 and r + z t' e r**2 otherwise, in one form
    return np.float32(r * fma(zdt * e, r, e if t < 0 else 1.0))


def _gelu_tanh_grad_f64(z):
    T = type(z)
    one = T(1.0)
    t, t_lo = _gelu_tanh_arg(z)
    # Past z = -40 the result is 0; the clamp keeps z t' (about
    # z**3) finite against exp's clamped, unscaled u below.  t has z's sign,
    # so z >= 0 is untouched, and a NaN z makes r NaN.
    zc = z if z > T(-40.0) else T(-40.0)
    zdt = zc * (T(_GELU_TANH_2C) * fma(T(3.0 * _GELU_TANH_K), zc * zc, one))  # z t'
    e_hi, e_lo, s1, s2 = exp_unscaled_nonpositive(-abs(t))
    # e**-|t + t_lo| = e (1 -+ t_lo), kept unscaled until the last product so
    # that a small derivative does not inherit a subnormal e's lost bits.
    # Past |t| = 800, exp's input is clamped and t_lo is no longer small.
    lo = T(0.0) if abs(t) > T(800.0) else (t_lo if t < 0 else -t_lo)
    u = fma(e_hi, lo, e_hi + e_lo)
    e = (u * s1) * s2
    r = one / (one + e)
    if t < 0:
        return (((u * r) * fma(zdt, r, one)) * s1) * s2
    return r + _limit_zero(zdt * e * r * r)


@overload(_gelu_tanh_grad, inline="always", jit_options=_MATH_OPTIONS)
def _gelu_tanh_grad_overload(z):
    return {types.float32: _gelu_tanh_grad_f32, types.float64: _gelu_tanh_grad_f64}.get(z)


@scalar
def gelu_tanh_grad(z, a):
    """d/dz [z sigmoid(t)] = s + z s (1 - s) t', t = 2 sqrt(2/pi) (z + k z**3), k = 0.044715.

    With e = e**-|t| and r = 1 / (1 + e), s (1 - s) = e r**2: t >= 0 gives
    r + z t' e r**2, t < 0 gives e r (1 + z t' r).  0 at -inf, 1 at inf.

    For float64 input t is carried as t + t_lo, as in the forward pass, and
    e corrected by the low part: in the negative tail, where the derivative is small, the
    rounding of t alone would move it by about |t| ulp relative.

    float32 input computes in float64 and rounds once, as the forward pass.
    """
    return _gelu_tanh_grad(z)
