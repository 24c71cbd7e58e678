"""Scalar math kernels: the one definition of every activation's math.

Each kernel takes a float32 or float64 scalar and computes in that type:
constants are built from the argument's type (``T(0.5)``), never from bare
Python float literals, which Numba would promote to float64.  The kernels are
inlined into the array loops of :mod:`numba_act.elementwise` and
:mod:`numba_act.rowwise` and into user code that calls the public functions
on scalars inside ``@njit``.

``exp`` is written out rather than taken from libm: without SVML, Numba's
``np.exp`` is a scalar library call that LLVM cannot vectorize.  It returns
the result as an unevaluated sum ``hi + lo`` so that sigmoid, tanh, expm1
and softmax can keep the bits a plain ``exp`` would round away.
"""

import math

import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import intrinsic, overload

from numba_act._jit import EXACT, scalar

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
    """a * b + c with one rounding (llvm.fma), for the exact residuals below.

    Written out because ``contract`` only fuses a product that has no other
    use, and these residuals reuse the product they correct.
    """
    if not (a == b == c and a in (types.float32, types.float64)):
        raise TypingError(f"fma needs three arguments of one float type, got {a}, {b}, {c}")

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


def exp_parts(x):
    """exp(x) as ``(hi, lo)`` with hi = fl(exp(x)) and |lo| < ulp(hi).

    Callable from ``@njit`` code only.  NaN gives NaN, -inf gives 0 and +inf
    gives inf; results down to the smallest subnormal are scaled in two steps
    so that they round once.
    """
    raise TypeError("exp_parts is only callable from @njit code")


@scalar
def _expm1_poly_f32(r):
    T, c = type(r), _EXPM1_F32
    return (((T(c[0]) * r + T(c[1])) * r + T(c[2])) * r + T(c[3])) * r + T(c[4])


@scalar
def _expm1_poly_f64(r):
    T, c = type(r), _EXPM1_F64
    p = ((((T(c[0]) * r + T(c[1])) * r + T(c[2])) * r + T(c[3])) * r + T(c[4])) * r + T(c[5])
    return ((((p * r + T(c[6])) * r + T(c[7])) * r + T(c[8])) * r + T(c[9])) * r + T(c[10])


def _exp_parts_impl(T, I, shifter, ln2_hi, ln2_lo, lo, hi, bias, mbits, poly):
    """exp_parts for float type T with same-width integer type I."""
    log2e = T(1.4426950408889634)
    one = T(1.0)
    shifter_bits = np.array(shifter).view(I)[()]

    def impl(x):
        # Comparisons with NaN are false, so a NaN passes both clamps and
        # flows through every step below into both parts.
        xc = lo if x < lo else x
        xc = hi if xc > hi else xc
        # Adding the shifter rounds x/ln2 to an integer n, which lands in the
        # low mantissa bits of t: no float-to-int conversion needed.
        t = xc * log2e + shifter
        n = t - shifter
        r = (xc - n * ln2_hi) - n * ln2_lo  # exact: ln2_hi has trailing zeros
        p = r + (r * r) * poly(r)  # expm1(r)
        e_hi = one + p
        e_lo = (one - e_hi) + p  # the exact rounding error of 1 + p
        # 2**n in two factors, each a normal number, so that a subnormal
        # result is rounded once, in the last product.
        ni = I(T(t).view(I) - shifter_bits)
        n1 = I(ni >> 1)
        s1 = I((n1 + bias) << mbits).view(T)
        s2 = I((ni - n1 + bias) << mbits).view(T)
        return (e_hi * s1) * s2, (e_lo * s1) * s2

    return impl


@overload(exp_parts, jit_options={"fastmath": set(EXACT), "error_model": "numpy"})
def _exp_parts_overload(x):
    if x == types.float32:
        f, i = np.float32, np.int32
        return _exp_parts_impl(
            f, i, f(12582912.0), f(0.693359375), f(-2.12194440e-4),
            f(-104.0), f(89.0), i(127), i(23), _expm1_poly_f32,
        )
    if x == types.float64:
        f, i = np.float64, np.int64
        return _exp_parts_impl(
            f, i, f(6755399441055744.0), f(0.693145751953125), f(1.42860682030941723212e-6),
            f(-746.0), f(710.0), i(1023), i(52), _expm1_poly_f64,
        )
    return None


@scalar
def exp(x):
    """e**x, within 1 ulp."""
    e_hi, e_lo = exp_parts(x)
    return e_hi + e_lo


@scalar
def expm1(x):
    """e**x - 1, accurate near 0 because the low part of exp is kept."""
    e_hi, e_lo = exp_parts(x)
    return (e_hi - type(x)(1.0)) + e_lo


@scalar
def _ratio_of_one_plus(x):
    """(q, c) with e/(1 + e) = q + c for e = exp(x), x <= 0.

    One division, then one correction step using 1/(1 + e) = 1 - q, so the
    result carries the low bits of both e and 1 + e.
    """
    one = type(x)(1.0)
    e_hi, e_lo = exp_parts(x)
    d_hi = one + e_hi
    d_lo = ((one - d_hi) + e_hi) + e_lo
    q = e_hi / d_hi
    residual = (fma(-q, d_hi, e_hi) + e_lo) - q * d_lo
    return q, residual * (one - q)


@scalar
def sigmoid(x):
    """1 / (1 + e**-x), evaluated on -|x| so that exp never overflows."""
    q, c = _ratio_of_one_plus(-abs(x))
    if x < 0:
        return q + c
    return (type(x)(1.0) - q) - c


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


@scalar
def tanh(x):
    """(1 - e) / (1 + e) with e = exp(-2|x|), sign restored; odd, -0 stays -0."""
    T = type(x)
    one = T(1.0)
    e_hi, e_lo = exp_parts(T(-2.0) * abs(x))
    n_hi = one - e_hi
    n_lo = ((one - n_hi) - e_hi) - e_lo
    d_hi = one + e_hi
    d_lo = ((one - d_hi) + e_hi) + e_lo
    q = n_hi / d_hi
    residual = (fma(-q, d_hi, n_hi) + n_lo) - q * d_lo
    # 1 / (1 + e) = (1 + q) / 2
    q = q + residual * ((one + q) * T(0.5))
    return math.copysign(q, x)


@scalar
def elu(x):
    """x if x > 0 else alpha * (e**x - 1), alpha = 1; NaN propagates."""
    if x > 0:
        return x
    return type(x)(ELU_ALPHA) * expm1(x) if x == x else x


@scalar
def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return x * sigmoid(x)


@scalar
def softplus(x):
    """log(1 + e**x) = max(x, 0) + log1p(e**-|x|); never overflows."""
    e = exp(-abs(x))
    return (x if x > 0 else type(x)(0.0)) + np.log1p(e)


_SQRT1_2 = 0.7071067811865476  # 1/sqrt(2) rounded to float64
_SQRT1_2_LO = -4.833646656726457e-17  # 1/sqrt(2) - _SQRT1_2
_TWO_OVER_SQRT_PI = 1.1283791670955126


@scalar
def _normal_cdf(x):
    """Phi(x) = erfc(-x/sqrt(2)) / 2, with -x/sqrt(2) carried as hi + lo.

    erfc amplifies the rounding of its argument by 2z in relative terms, so
    the low part is fed back through erfc'(z) = -2/sqrt(pi) exp(-z**2).
    """
    T = type(x)
    c = T(_SQRT1_2)
    # What c misses of 1/sqrt(2); folded to a constant at compile time.
    c_lo = T((np.float64(_SQRT1_2) - np.float64(c)) + np.float64(_SQRT1_2_LO))
    z_hi = -x * c
    z_lo = fma(-x, c, -z_hi) - x * c_lo
    value = math.erfc(z_hi) - z_lo * T(_TWO_OVER_SQRT_PI) * exp(-z_hi * z_hi)
    return T(0.5) * value


@scalar
def gelu(x):
    """x * Phi(x), the exact (erf) form."""
    return x * _normal_cdf(x)


_GELU_TANH_C = 0.7978845608028654  # sqrt(2/pi)
_GELU_TANH_K = 0.044715


@scalar
def _gelu_tanh_inner(x):
    T = type(x)
    return T(_GELU_TANH_C) * (x + T(_GELU_TANH_K) * x * x * x)


@scalar
def gelu_tanh(x):
    """x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))) = x sigmoid(2u)."""
    return x * sigmoid(type(x)(2.0) * _gelu_tanh_inner(x))


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
    """1 where z > 0, else a + alpha (= alpha e**z)."""
    T = type(z)
    if z > 0:
        return T(1.0)
    return a + T(ELU_ALPHA)


@scalar
def silu_grad(z, a):
    """s (1 + z (1 - s)) with s = sigmoid(z)."""
    s = sigmoid(z)
    return s * (type(z)(1.0) + z * (type(z)(1.0) - s))


@scalar
def softplus_grad(z, a):
    """sigmoid(z)."""
    return sigmoid(z)


@scalar
def gelu_grad(z, a):
    """Phi(z) + z phi(z), phi the standard normal density."""
    T = type(z)
    density = T(0.3989422804014327) * exp(T(-0.5) * z * z)
    return _normal_cdf(z) + z * density


@scalar
def gelu_tanh_grad(z, a):
    """d/dz [z sigmoid(2u)] = s + 2 z s (1 - s) u', u' = sqrt(2/pi)(1 + 3k z**2)."""
    T = type(z)
    s = sigmoid(T(2.0) * _gelu_tanh_inner(z))
    du = T(_GELU_TANH_C) * (T(1.0) + T(3.0 * _GELU_TANH_K) * z * z)
    return s + T(2.0) * z * s * (T(1.0) - s) * du
