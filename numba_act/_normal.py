"""The standard normal distribution's lower tail, Phi(-|x|), for gelu and
its derivative: exp(a**2/2) Phi(-a) as a fitted polynomial times
1/(a + M), and exp(-a**2/2) from :mod:`numba_act._math`, kept apart so that
a caller scales last.  Derivation and fitting notes beside the coefficients.
"""

import numpy as np
from numba import types

from numba_act._jit import overload_kernel, scalar
from numba_act._math import exp_split_for_f32, exp_unscaled_nonpositive, fma

INV_SQRT_2PI = 0.3989422804014327  # 1/sqrt(2 pi), the normal density at 0
INV_SQRT_2PI_LO = -2.49232720227773e-17  # 1/sqrt(2 pi) - INV_SQRT_2PI

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


def _map(m, a_max):
    """(M, A_MAX, alpha, K) of the map t = alpha - K / (a + M) above."""
    alpha = 1.0 + 2.0 * m / a_max
    return m, a_max, alpha, m * (1.0 + alpha)


_PHI_F64 = _map(5.0, 40.0)  # alpha = 1.25, K = 11.25
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
_PHI_F32 = _map(4.0, 16.0)  # alpha = 1.5, K = 10
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
    u = t * t
    v = u * u
    # The highest fifteen terms in pairs, then pairs of pairs (Estrin's
    # scheme, as in _phi_g_f32); the last eight, which carry g where |t| is
    # near 1, by Horner's rule.
    d0 = fma(u, fma(c[11], t, c[12]), fma(c[13], t, c[14]))
    d1 = fma(u, fma(c[7], t, c[8]), fma(c[9], t, c[10]))
    d2 = fma(u, fma(c[3], t, c[4]), fma(c[5], t, c[6]))
    d3 = fma(u, c[0], fma(c[1], t, c[2]))
    q = fma(v * v, fma(v, d3, d2), fma(v, d1, d0))
    q = fma(fma(fma(fma(q, t, c[15]), t, c[16]), t, c[17]), t, c[18])
    return fma(fma(fma(fma(q, t, c[19]), t, c[20]), t, c[21]), t, c[22])


@scalar
def _phi_g_f32(t):
    """g(t) for float32 results, in t's type: the highest eight terms in
    pairs (Estrin's scheme), as _math's float64 exp takes its fit, and the
    last four, which carry most of g, by Horner's rule."""
    T, c = type(t), _PHI_G_F32
    t2 = t * t
    high = fma(t2, fma(T(c[0]), t, T(c[1])), fma(T(c[2]), t, T(c[3])))
    low = fma(t2, fma(T(c[4]), t, T(c[5])), fma(T(c[6]), t, T(c[7])))
    q = fma(t2 * t2, high, low)
    return fma(fma(fma(fma(q, t, T(c[8])), t, T(c[9])), t, T(c[10])), t, T(c[11]))


@scalar
def _clamped(x, a_max):
    """x clamped to [-a_max, a_max]; comparisons with NaN are false, so a NaN passes."""
    x = -a_max if x < -a_max else x
    return a_max if x > a_max else x


@scalar
def _horner_step(q, q_lo, t, c, c_lo):
    """(c + c_lo) + (q + q_lo) t, as an unevaluated sum with one rounding error left."""
    p = q * t
    p_lo = fma(q, t, -p) + q_lo * t
    s = c + p
    part = s - c
    return s, ((c - (s - part)) + (p - part)) + (p_lo + c_lo)


def normal_tail(x):
    """The parts of Phi(-|x|) for float64 x (``@njit`` code only).

    Returns (xc, h, h_lo, p_hi, p_lo, s1, s2): xc is x clamped to
    [-A_MAX, A_MAX], a = |xc|, h + h_lo = exp(a**2/2) Phi(-a), within about
    half an ulp of h below a = 13 and one ulp above, and exp(-a**2/2) =
    (p_hi + p_lo) s1 s2 as :func:`exp_unscaled_nonpositive` gives it, so
    that a caller scales last and a subnormal result rounds once (past
    a = 39.2 exp's clamp stops it at e**-770, where every x Phi(-a)
    already rounds to 0).  a**2 is carried as w + w_lo, since
    exp(-a**2/2) amplifies its rounding by a**2/2.  NaN gives NaN.
    """
    raise TypeError("normal_tail is only callable from @njit code")


@overload_kernel(normal_tail, inline=True)
def _normal_tail_overload(x):
    if x != types.float64:
        return None
    (m, a_max, alpha, k), coeffs, (c1_lo, c0_lo), poly = _PHI_F64, _PHI_G_F64, _PHI_G_LO_F64, _phi_g_f64
    c1, c0 = coeffs[-2:]
    inv_k = 1.0 / k

    def tail(x):
        xc = _clamped(np.float64(x), a_max)
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
        slope = d * fma(fma(a, h, -INV_SQRT_2PI), d, h)
        h_lo = fma(g, r, -h) + ((g * r_lo + g_lo * r) - slope * (kr_lo * inv_k))
        return xc, h, h_lo, p_hi, p_lo, s1, s2

    return tail


@scalar
def normal_tail_for_f32(x):
    """(xc, a, h, e) in float64 for float32 x, which is all that float32
    results need: xc is x clamped to [-A_MAX, A_MAX], a = |xc|,
    h = exp(a**2/2) Phi(-a) within about 1e-9 relatively and e = exp(-a**2/2)
    within about 1e-8 (:func:`exp_split_for_f32`).

    The float32 counterpart of :func:`normal_tail`, with no low parts: a**2
    is exact (a has 24 bits), and e stays normal in float64 down to A_MAX,
    past which every float32 result underflows.  NaN gives NaN.
    """
    m, a_max, alpha, k = _PHI_F32
    xc = _clamped(np.float64(x), a_max)
    a = abs(xc)
    p, s = exp_split_for_f32(-0.5 * (a * a), None, None)
    r = 1.0 / (a + m)
    t = alpha - k * r
    return xc, a, _phi_g_f32(t) * r, fma(s, p, s)


@scalar
def x_normal_tail_for_f32(x):
    """x Phi(-|x|) in float64 for float32 x (gelu's part that is not x or 0),
    within about 1e-8 relatively, from :func:`normal_tail_for_f32`."""
    xc, _, h, e = normal_tail_for_f32(x)
    return (xc * h) * e  # -0.0 gives -0.0


def x_normal_tail_for_f32_fast(x):
    """:func:`x_normal_tail_for_f32` of the fast tier (``@njit`` code only):
    for float32 x, computed in float32, within 3.25 ulp of x Phi(-|x|)
    (every float32 input of gelu); float64 x keeps the float64 form.

    The steps of :func:`normal_tail_for_f32` in float32, with the low parts
    that would otherwise cost several ulp: of a**2 (exp(-a**2/2) amplifies
    its rounding by a**2/2) and of exp itself, of a + M and 1/(a + M) (g
    changes by 1.3 dt near a = 0), and of x/(a + M).  The result is scaled
    last (s1 s2 of :func:`exp_unscaled_nonpositive`), so that a subnormal
    result of a normal x rounds once; a zero x is its own result.
    """
    raise TypeError("x_normal_tail_for_f32_fast is only callable from @njit code")


@overload_kernel(x_normal_tail_for_f32_fast, inline=True)
def _x_normal_tail_for_f32_fast_overload(x):
    if x != types.float32:
        return lambda x: x_normal_tail_for_f32(x)
    T = np.float32
    m, a_max, alpha, k = (T(v) for v in _PHI_F32)
    half = T(0.5)

    def impl(x):
        xc = _clamped(x, a_max)
        a = abs(xc)
        w = a * a
        w_lo = fma(a, a, -w)
        p_hi, p_lo, s1, s2 = exp_unscaled_nonpositive(-half * w)
        p_lo = fma(p_hi, -half * w_lo, p_lo)  # exp(-(w + w_lo)/2) = p (1 - w_lo/2)
        d = a + m
        d_lo = (max(a, m) - d) + min(a, m)  # the exact rounding error of a + M
        r = T(1.0) / d
        eps = fma(-r, d, T(1.0)) - r * d_lo  # 1/(a + M) = r (1 + eps)
        kr = k * r
        # t = alpha - K/(a + M) to about an ulp, and x/(a + M) = y + y_lo.
        t = (alpha - kr) - fma(kr, eps, fma(k, r, -kr))
        y = xc * r
        y_lo = fma(y, eps, fma(xc, r, -y))
        g = _phi_g_f32(t)
        v = fma(y, g, y_lo * g)
        b = (fma(v, p_hi, v * p_lo) * s1) * s2
        return x if x == 0 else b  # a zero x is its own result, -0.0 included

    return impl
