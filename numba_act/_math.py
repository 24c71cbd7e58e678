"""The math library under the activations: scalar kernels that vectorize.

Each kernel takes a float32 or float64 scalar and computes in that type:
constants are built from the argument's type (``T(0.5)``), never from bare
Python float literals, which Numba would promote to float64.  Every kernel
is inlined where it is called, so the array loops that call it vectorize.

``exp`` is written out rather than taken from libm: without SVML, Numba's
``np.exp`` is a scalar library call that LLVM cannot vectorize.  It returns
the result as an unevaluated sum ``hi + lo`` so that sigmoid, elu's expm1
and softmax can keep the bits a plain ``exp`` would round away.  Most
callers take exp of a number <= 0 only (of -|x|, of x - max), where
:func:`exp_parts_nonpositive` needs one scaling product instead of two.

Also here: ``log1p`` on [0, 1] (:func:`log1p_unit`) and of any y >= 0
(:func:`log1p_nonnegative`), the double-word steps
that carry a value as ``hi + lo`` (:func:`ratio_of_one_plus`,
:func:`x_sigmoid`, :func:`split_constant`), and the float64 forms used for
float32 results (``*_for_f32``: float64 arithmetic with float32-accurate
polynomials, rounded once by the caller; the fast tier's ``*_for_f32_fast``
compute in float32).  The normal distribution's tail
is in :mod:`numba_act._normal`.
"""

import math

import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import intrinsic

from numba_act._jit import overload_kernel, scalar

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


@overload_kernel(smallest_normal)
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
    """The float64 fit at r: its highest nine terms in pairs (Estrin's scheme),
    a tree four steps deep where Horner's rule chains ten fmas and the core
    sits waiting on each; the last two steps, which carry most of the
    result, by Horner's rule: paired as well, they rounded more, and left
    elu and log_sigmoid further off."""
    T, c = type(r), _EXPM1_F64
    r2 = r * r
    r4 = r2 * r2
    low = fma(r2, fma(T(c[5]), r, T(c[6])), fma(T(c[7]), r, T(c[8])))
    high = fma(r2, fma(T(c[1]), r, T(c[2])), fma(T(c[3]), r, T(c[4])))
    p = fma(r4, fma(r4, T(c[0]), high), low)
    return fma(fma(p, r, T(c[9])), r, T(c[10]))


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


@overload_kernel(_exp_reduce)
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
        prescale = prescale_exponent(x) if nonpositive else None
        return _exp_unscaled_impl(T, Int, T(lo), T(hi), bias, mbits, prescale)

    return exp_unscaled_overload


overload_kernel(exp_unscaled)(_exp_unscaled_for(False))
overload_kernel(exp_unscaled_nonpositive)(_exp_unscaled_for(True))


def prescale_exponent(x):
    """K of :func:`exp_prescaled` for float type x: it keeps 2**(n + K)
    normal for every n that exp's lower clamp can give (one more than the
    least such K for float32)."""
    _, _, bias, _ = _LAYOUT[x]
    return 1 - bias - math.floor(_EXP_CLAMPS[x][0] / math.log(2.0))


def exp_prescale(x):
    """2**K of :func:`exp_prescaled` for x's float type, as a float64 (``@njit`` code only)."""
    raise TypeError("exp_prescale is only callable from @njit code")


@overload_kernel(exp_prescale)
def _exp_prescale_overload(x):
    if x in _LAYOUT:
        factor = 2.0 ** prescale_exponent(x)
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


def exp_split_for_f32(y, lo, hi):
    """:func:`exp_split` for float64 y with the float32 polynomial: e**y within
    about 1e-8 relatively (8.1e-9 measured), for float32 results computed in
    float64 (``@njit`` code only)."""
    raise TypeError("exp_split_for_f32 is only callable from @njit code")


def _exp_reduce_for_f32(x):
    """_exp_reduce for float64 x with the float32 polynomial (``@njit`` code only)."""
    raise TypeError("_exp_reduce_for_f32 is only callable from @njit code")


@overload_kernel(_exp_reduce_for_f32)
def _exp_reduce_for_f32_overload(x):
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


overload_kernel(exp_split)(_exp_split_for(_exp_reduce, tuple(_LAYOUT)))
overload_kernel(exp_split_for_f32)(_exp_split_for(_exp_reduce_for_f32, (types.float64,)))


@scalar
def exp_parts(x):
    """exp(x) as ``(hi, lo)``: hi is :func:`exp`'s result (within about 1 ulp,
    not always the nearest float) and lo, at most half an ulp of hi, the
    rounding of 1 + p (:func:`exp_unscaled`), so that hi + lo is within
    about half an ulp of e**x."""
    e_hi, e_lo, s1, s2 = exp_unscaled(x)
    return (e_hi * s1) * s2, (e_lo * s1) * s2


@scalar
def exp_parts_nonpositive(y):
    """:func:`exp_parts` for y <= 0 (or NaN) only.

    e**y is at most 1 there, so the power of two is one product, s1 s2 of
    :func:`exp_unscaled_nonpositive`: 2**n exactly down to the smallest
    subnormal, 0 below it; hi and lo are each rounded once.  So within
    ln(2)/2 of exp's underflow (y from about -103.97 to -103.63 in float32,
    -745.13 to -744.79 in float64) hi is 0 where :func:`exp_parts` gives the
    smallest subnormal, still within 1 ulp.  -inf gives 0.
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
    -inf gives the value at exp's lower clamp times 2**K, itself about the
    smallest normal number; NaN gives NaN.
    """
    e_hi, e_lo, s1, _ = exp_unscaled_nonpositive(y)
    return (e_hi + fma(e_hi, lo, e_lo)) * s1


@scalar
def exp_prescaled_fast(y, lo):
    """:func:`exp_prescaled` of the fast tier: exp's low part (the rounding
    of 1 + p) dropped, within about 1 ulp where it keeps half of one; the
    rounding of y, lo, still fed back, as exp amplifies it by |y|."""
    e_hi, _, s1, _ = exp_unscaled_nonpositive(y)
    return fma(e_hi, lo, e_hi) * s1


@scalar
def exp(x):
    """e**x, within about 1 ulp (1.06 ulp at worst in float32, 0.98 in float64)."""
    e_hi, e_lo = exp_parts(x)
    return e_hi + e_lo


@scalar
def ratio_of_one_plus(e_hi, e_lo):
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
def ratio_of_one_plus_fast(e_hi, e_lo):
    """:func:`ratio_of_one_plus` of the fast tier: e_hi / (1 + e_hi), one
    division and no correction (the low parts of e and 1 + e are dropped,
    within 2.3 ulp where the correction keeps 0.75).  The low part returned
    is -0.0, which a caller's ``q + c`` folds away."""
    return e_hi / (type(e_hi)(1.0) + e_hi), type(e_hi)(-0.0)


@scalar
def split_constant(hi64, lo64, T):
    """A float64 constant (hi64 + lo64) as a hi + lo pair of type T; folded at compile time."""
    hi = T(hi64)
    return hi, T((np.float64(hi64) - np.float64(hi)) + np.float64(lo64))


@scalar
def limit_zero(t):
    """t, or 0 where t is inf * 0: a vanishing term of a derivative at +-inf."""
    return t if t == t else type(t)(0.0)


def _atanh_series(s2):
    """(atanh(s) - s) / s**3 as a polynomial in s2 = s**2, |s| <= 3 - 2 sqrt(2)
    (``@njit`` code only); float32 stops at s**9, float64 at s**21."""
    raise TypeError("_atanh_series is only callable from @njit code")


@overload_kernel(_atanh_series)
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
def log1p_unit(y_hi, y_lo):
    """log(1 + y) for y = y_hi + y_lo in [0, 1], vectorizable.

    1 + y is carried as u + u_lo; u is halved (exactly) above sqrt(2), and
    log(u) = k ln 2 + 2 atanh(s) with s = (u - 1) / (u + 1), |s| < 0.172
    (:func:`_atanh_parts`).
    """
    T = type(y_hi)
    one = T(1.0)
    u = one + y_hi
    u_lo = ((one - u) + y_hi) + y_lo
    big = u > T(1.4142135623730951)
    half = T(0.5) if big else one
    s, s_lo, s3, series = _atanh_parts(u * half, u_lo * half)
    log_u = fma(s3, series, T(2.0) * s) + T(2.0) * s_lo
    k = one - half - half + one  # 1 above sqrt(2), else 0
    return fma(k, T(_LN2_HI), fma(k, T(_LN2_LO), log_u))


@scalar
def log1p_nonnegative(y_hi, y_lo):
    """log(1 + y) for float64 y = y_hi + y_lo >= 0 (below 2**1000; NaN gives
    NaN), vectorizable, within 1 ulp: 1 + y = 2**k (u + u_lo) with u near 1,
    k from the exponent of 1 + y, and log(1 + y) = k ln 2 + 2 atanh(s)
    (:func:`_atanh_parts`), its two large terms added exactly.  Below
    2**-54, where log(1 + y) rounds to y, y itself (s would go subnormal)."""
    u = 1.0 + y_hi
    u_lo = ((max(1.0, y_hi) - u) + min(1.0, y_hi)) + y_lo  # two-sum: y may exceed 1
    n = ((np.float64(u * 0.7071067811865476).view(np.int64) >> 52) & 0x7FF) - 1022  # u / 2**n in [0.7, 1.42]
    scale = np.int64((1023 - n) << 52).view(np.float64)
    s, s_lo, s3, series = _atanh_parts(u * scale, u_lo * scale)
    k = np.float64(n)
    k_ln2 = k * _LN2_HI  # exact: _LN2_HI's low bits are zero
    hi = k_ln2 + 2.0 * s
    hi_part = hi - k_ln2
    hi_lo = (k_ln2 - (hi - hi_part)) + (2.0 * s - hi_part)  # two-sum
    log = hi + (fma(s3, series, 2.0 * s_lo) + fma(k, _LN2_LO, hi_lo))
    return log if y_hi >= 2.0**-54 else y_hi + y_lo


@scalar
def _atanh_parts(u, u_lo):
    """(s, s_lo, s3, series) with log(u + u_lo) = 2 (s + s_lo) + s3 series,
    for u in about [sqrt(1/2), sqrt(2)]: s + s_lo = (u + u_lo - 1) /
    (u + u_lo + 1) to twice working precision, |s| < 0.172, and 2 atanh(s)
    = 2 s + s**3 series."""
    T = type(u)
    one = T(1.0)
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
    return s, s_lo, s * s2, T(2.0) * _atanh_series(s2)


@scalar
def x_sigmoid(x, t, t_lo):
    """x * sigmoid(t + t_lo) for |x| <= |t| (as silu and gelu_tanh call it),
    with sigmoid(t + d) = s + s (1 - s) d; -inf gives -0.0.

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
    q, c = ratio_of_one_plus(e_hi, e_lo)  # the smaller of s and 1 - s
    if t < 0:
        s_hi, s_lo = q, c
    else:
        s_hi = T(1.0) - q
        s_lo = ((T(1.0) - s_hi) - q) - c
    ds = (s_hi * (T(1.0) - s_hi)) * t_lo
    return fma(x, s_hi, limit_zero(x * (s_lo + ds)))


def sigmoid_one_plus(w, w_lo, t, e_hi, e_lo, s1, s2):
    """s (1 + (w + w_lo)(1 - s)) for s = sigmoid(t) (``@njit`` code only): the
    derivative of x sigmoid(t(x)) with w = x t'(x), as silu and gelu_tanh need it.

    e**-|t| = (e_hi + e_lo) s1 s2 as :func:`exp_unscaled_nonpositive` gives
    it (a caller may fold t's low part into e_lo); w_lo may be None, for an
    exact w, which must be finite (a NaN comes through e).

    1 + w (1 - s) cancels where w (1 - s) is near -1, and there the relative
    error of 1 - s is amplified by |w (1 - s)| / |1 + w (1 - s)|.  So
    r = 1 / (1 + e) is carried as r + r_lo (one division and one correction
    step), 1 - s (r for t < 0, e r otherwise) enters an exact product w (1 - s),
    and 1 + p keeps its rounding: exact wherever p is in [-2, 1], the only
    place it cancels.  s (e r for t < 0, r otherwise) is rounded once, and
    the result once more.  For t < 0, s is formed from e unscaled and the
    result scaled last, so that a normal result keeps its bits where e**-|t|
    is subnormal.
    """
    raise TypeError("sigmoid_one_plus is only callable from @njit code")


@overload_kernel(sigmoid_one_plus, inline=True)
def _sigmoid_one_plus_overload(w, w_lo, t, e_hi, e_lo, s1, s2):
    if w not in _LAYOUT or w_lo not in (w, types.none):
        return None
    has_lo = w_lo != types.none

    def impl(w, w_lo, t, e_hi, e_lo, s1, s2):
        T = type(w)
        one = T(1.0)
        scale = s1 * s2  # 2**n exactly, or 0 far below the smallest subnormal
        e = e_hi * scale
        e_lo_scaled = e_lo * scale
        d = one + e
        d_lo = ((one - d) + e) + e_lo_scaled  # 1 + e = d + d_lo, as e <= 1
        r = one / d
        r_lo = r * (fma(-r, d, one) - r * d_lo)  # 1 / (1 + e) = r + r_lo
        negative = t < 0
        s_negative = fma(e_hi, r, fma(e_lo, r, e_hi * r_lo))  # e r, unscaled
        s = s_negative if negative else r
        m = r if negative else e * r  # 1 - s: m + m_lo
        m_lo = r_lo if negative else T(0.0)
        k1 = s1 if negative else one
        k2 = s2 if negative else one
        p = w * m
        p_lo = fma(w, m, -p) + w * m_lo
        if has_lo:
            p_lo = p_lo + w_lo * m
        f = one + p
        f_lo = ((one - f) + p) + p_lo
        return (fma(s, f, s * f_lo) * k1) * k2

    return impl


# Below it every float32 x * sigmoid(t) of these activations is -0.0 or 0.0,
# and float64's exp stays normal.
F32_FLOOR = -120.0


@scalar
def x_sigmoid_for_f32(x, t):
    """x * sigmoid(t) in float64 for float32 results, within about 1e-8 relatively.

    x and t are float32 or float64 values, t exact or nearly so; both are
    taken to float64 and -|t| is clamped at F32_FLOOR, x too (a NaN passes
    both).  With e = e**-|t| from the float32 polynomial: x e / (1 + e)
    for t < 0, x / (1 + e) otherwise.  Rounded once to
    float32 by the caller, the result is within about half an ulp,
    subnormal ones included: float64's range holds them.
    """
    x = to_float64_floored(x)
    t = np.float64(t)
    p, s = exp_split_for_f32(-abs(t), F32_FLOOR, None)
    e = fma(s, p, s)
    return (x * e if t < 0 else x) / (1.0 + e)


def x_sigmoid_for_f32_fast(x, t):
    """:func:`x_sigmoid_for_f32` of the fast tier (``@njit`` code only), for
    float32 x and t, or t a float32 pair (t_hi, t_lo) as
    :func:`gelu_tanh_t_for_f32_fast` gives it: computed in float32, within
    3.39 ulp over every float32 input of silu, 3.79 of gelu_tanh (exp's
    low part dropped in both; kept for gelu_tanh, one operation more, 3.20).

    With e = e**-|t| = u s1 s2 (u = 1 + p) from :func:`exp_unscaled_nonpositive`:
    (x u s1) / (1 + e) s2 for t < 0, where s2 comes last so that a normal
    result keeps its bits while e is subnormal, and x / (1 + e) otherwise;
    x is clamped at F32_FLOOR, below which the result is -0.0.  For t < 0,
    t_lo enters as e**(t_hi + t_lo) ~ u s1 s2 (1 + t_lo): there the
    result's relative error is t's absolute one, which |t| amplifies.  For
    t >= 0 the result moves by only (1 - sigmoid(t)) t_lo relatively, up to
    about an ulp (0.77 sampled; the pair is not renormalized), and t_lo is
    dropped: the check of every float32 input holds the whole.
    """
    raise TypeError("x_sigmoid_for_f32_fast is only callable from @njit code")


@overload_kernel(x_sigmoid_for_f32_fast)
def _x_sigmoid_for_f32_fast_overload(x, t):
    if x != types.float32 or t not in (types.float32, types.UniTuple(types.float32, 2)):
        return lambda x, t: x_sigmoid_for_f32(x, t)
    pair = t != types.float32

    def impl(x, t):
        t_hi, t_lo = t if pair else (t, t)  # pair is a constant: one branch is compiled
        x = np.float32(F32_FLOOR) if x < np.float32(F32_FLOOR) else x  # a NaN passes
        u, _, s1, s2 = exp_unscaled_nonpositive(-abs(t_hi))
        negative = t_hi < 0
        if pair and negative:
            u = fma(u, t_lo, u)
        e_scaled = u * s1  # e 2**K, normal down to F32_FLOOR
        y = (x * e_scaled if negative else x) / (np.float32(1.0) + e_scaled * s2)
        return y * s2 if negative else y

    return impl


# gelu_tanh's t = 2u = 2 sqrt(2/pi) x (1 + k x**2), with 2 sqrt(2/pi) as a
# hi + lo pair and k = 0.044715 (the float64 value, as torch and jax use
# it): in the far negative tail x sigmoid(t) amplifies the rounding of t by
# |t|, so t is formed to twice working precision or in float64.
GELU_TANH_2C = 1.5957691216057308  # 2 sqrt(2/pi)
GELU_TANH_2C_LO = -9.96930880911092e-17
GELU_TANH_K = 0.044715


@scalar
def gelu_tanh_t(xc):
    """gelu_tanh's t in float64 for a float32 value xc >= F32_FLOOR (or
    NaN): its rounding, amplified by |t| <= 2e5 in the tail, stays far below
    a float32 ulp."""
    return GELU_TANH_2C * (xc * fma(GELU_TANH_K, xc * xc, 1.0))


@scalar
def gelu_tanh_t_for_f32(x):
    """:func:`gelu_tanh_t` of float32 x, clamped at F32_FLOOR."""
    return gelu_tanh_t(to_float64_floored(x))


@scalar
def gelu_tanh_t_for_f32_fast(x):
    """:func:`gelu_tanh_t_for_f32` of the fast tier: (t_hi, t_lo) in float32
    with t_hi + t_lo within about 2**-45 |t| of t, for
    :func:`x_sigmoid_for_f32_fast`.  x**2 is exact as w + w_lo; 1 + k w,
    x (1 + k w) and 2 sqrt(2/pi) times it each keep their rounding error to
    float32 precision (fma residuals; 1 - v is exact for 1 <= v < 2**24,
    which covers every x where t_lo is used).  The pair is not renormalized:
    |t_lo| can reach a few ulp of t_hi.  An x = -inf or beyond F32_FLOOR
    gives t at the clamp; t past float32's range (x above about 1.7e13, or
    +inf) gives t_hi = inf and a t_lo that is not used."""
    T = np.float32
    k_hi, k_lo = split_constant(GELU_TANH_K, 0.0, T)
    c_hi, c_lo = split_constant(GELU_TANH_2C, GELU_TANH_2C_LO, T)
    x = T(F32_FLOOR) if x < T(F32_FLOOR) else x  # a NaN passes
    w = x * x
    w_lo = fma(x, x, -w)
    v = fma(k_hi, w, T(1.0))
    v_lo = fma(k_hi, w, T(1.0) - v) + fma(k_hi, w_lo, k_lo * w)
    h = x * v
    h_lo = fma(x, v, -h) + x * v_lo
    t = c_hi * h
    return t, fma(c_hi, h, -t) + fma(c_hi, h_lo, c_lo * h)


@scalar
def to_float64_floored(x):
    """float32 x as float64, clamped below at F32_FLOOR; a NaN passes."""
    xc = np.float64(x)
    return F32_FLOOR if xc < F32_FLOOR else xc
