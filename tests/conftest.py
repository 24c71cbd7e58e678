"""Shared test machinery: the registry split by kind, references in float64
and mpmath, ulp distances, and the input layouts every public function must
accept.

The registry is the only list of activations the tests use; the mpmath
formulas below restate its math at high precision and are checked against
``Activation.reference`` in test_elementwise.py, so they cannot drift apart.
"""

import dataclasses
import math
import subprocess
import sys
import textwrap
from collections.abc import Callable

import mpmath
import numpy as np
import pytest

from numba_act import REGISTRY, _parallel
from numba_act._tiers import FAST

FLOATS = (np.float32, np.float64)
# A size from which every kernel's calls are split over threads.
SPLIT_SIZE = max(_parallel.MIN_SIZE, _parallel.MIN_SIZE_MEMORY_BOUND)
ROWWISE = [entry for entry in REGISTRY.values() if entry.rowwise]


# The activations that the matrices (every layout, dtype, bad argument and
# out= case) run on by default: one elementwise and one row-wise, since the
# code those matrices exercise is shared by every entry of a kind.  The
# other entries run them under ``-m slow``, which CI runs too; every entry
# still gets its accuracy, special values, @njit and layer tests by default.
SAMPLE = ("sigmoid", "softmax")


def run_python(code, env=None):
    """Run ``code`` (dedented) in a fresh interpreter, for what must not touch
    this process (registering an activation, a cold compile cache); its
    stdout, after asserting that it exited cleanly."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def sampled(name, *values, id=None):
    """``pytest.param(*values)``, marked slow unless ``name`` is in :data:`SAMPLE`."""
    return pytest.param(*values, id=id or name, marks=() if name in SAMPLE else pytest.mark.slow)


def entry_params(entries, sample=False):
    """Parameters for ``entries`` (or cases); with ``sample``, those outside :data:`SAMPLE` run under ``-m slow``."""
    if sample:
        return [sampled(entry.name, entry, id=getattr(entry, "id", entry.name)) for entry in entries]
    return [pytest.param(entry, id=getattr(entry, "id", entry.name)) for entry in entries]


@pytest.fixture(params=FLOATS, ids=lambda t: t.__name__)
def dtype(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(20240917)


# ------------------------------------------------------------------ mpmath

MP_DPS = 50


def _mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _mp_gelu_tanh_inner(x):
    return mpmath.sqrt(2 / mpmath.pi) * (x + mpmath.mpf(0.044715) * x**3)


def _mp_normal_cdf(x):
    # mpmath's erfc overflows a float internally beyond about 1e150, and its
    # exp(-x**2/2) has no correct digit once x**2 outgrows the working
    # precision.  Every float result is 0 or 1 long before; what matters
    # there is the sign of Phi(x) + x phi(x), which the asymptotic series
    # phi(x) / |x| (1 - 1/x**2 + 3/x**4 - ...) keeps, computed with the same
    # exp as phi(x).
    if x < -100_000:
        w = 1 / x**2
        return mpmath.exp(-(x**2) / 2) / (-x * mpmath.sqrt(2 * mpmath.pi)) * (1 - w + 3 * w**2 - 15 * w**3)
    if x > 100_000:
        return mpmath.mpf(1)
    return mpmath.erfc(-x / mpmath.sqrt(2)) / 2


def _mp_gelu_tanh_grad(z, a):
    s = _mp_sigmoid(2 * _mp_gelu_tanh_inner(z))
    du = mpmath.sqrt(2 / mpmath.pi) * (1 + 3 * mpmath.mpf(0.044715) * z**2)
    return s + 2 * z * s * (1 - s) * du


def _mp_log_softmax_row(row):
    m = max(row)
    # log(sum) as log1p(sum - 1): the terms at the maximum are exactly 1, and
    # the rest may be far below what any working precision adds to 1.
    rest = mpmath.fsum(mpmath.exp(v - m) for v in row if v != m) + (sum(v == m for v in row) - 1)
    log_sum = mpmath.log1p(rest)
    return [(v - m) - log_sum for v in row]


# torch's selu constants, as decimal strings: made mpf at the working precision
_SELU_ALPHA = "1.6732632423543772848170429916717"
_SELU_SCALE = "1.0507009873554804934193349852946"


def _mp_selu(x):
    scale = mpmath.mpf(_SELU_SCALE)
    return scale * x if x > 0 else scale * mpmath.mpf(_SELU_ALPHA) * mpmath.expm1(x)


def _mp_selu_grad(z, a):
    scale = mpmath.mpf(_SELU_SCALE)
    return scale if z > 0 else scale * mpmath.mpf(_SELU_ALPHA) * mpmath.exp(z)


_CELU_PARAMS = ((1.0,), (0.5,), (0.1,), (2.0,), (1 / 3,), (10.0,))
# (beta, threshold): the defaults (threshold None is inf), torch's threshold
# 20, and beta small, large, not a float32 and negative
_SOFTPLUS_PARAMS = (
    (1.0, math.inf),
    (0.5, math.inf),
    (2.0, 20.0),
    (0.1, math.inf),
    (10.0, math.inf),
    (1.0, 20.0),
    (1 / 3, 1.0),
    (-1.0, math.inf),
    (-0.5, 1.0),
)


def _mp_softplus(x, beta=1.0, threshold=math.inf):
    bx = mpmath.mpf(beta) * x
    return x if bx > threshold else mpmath.log1p(mpmath.exp(bx)) / mpmath.mpf(beta)


def _mp_softplus_grad_of_z(z, beta=1.0, threshold=math.inf):
    bz = mpmath.mpf(beta) * z
    return mpmath.mpf(1) if bz > threshold else _mp_sigmoid(bz)


def _mp_softplus_grad(z, a, beta=1.0, threshold=math.inf):
    # sigmoid(beta z), read from a as the kernel does
    return mpmath.mpf(1) if mpmath.mpf(beta) * z > threshold else -mpmath.expm1(-mpmath.mpf(beta) * a)


def _mp_tanh_softplus(x):
    return mpmath.tanh(mpmath.log1p(mpmath.exp(x)))


def _mp_mish_grad(z, a):
    g = _mp_tanh_softplus(z)
    return g + z * _mp_sigmoid(z) * (1 - g * g)


def _mp_tanhshrink(x):
    if abs(x) > 1e10:
        return x - mpmath.sign(x)
    if x == 0:
        return x
    # x - tanh(x) = x**3/3 - ...: the difference loses 2 log10(1/|x|) digits
    with mpmath.extradps(int(2 * max(0, -mpmath.log10(abs(x)))) + 5):
        return +(x - mpmath.tanh(x))


LN2 = math.log(2)


def _precision(dtype):
    """Bits of precision of ``dtype``: 24 or 53."""
    return np.finfo(dtype).nmant + 1


def _one_rounds(dtype):
    """|x| past which exp(-|x|) is below a quarter ulp of 1: 1 - exp(-|x|) rounds to 1."""
    return (_precision(dtype) + 1) * LN2


def _f32(dtype):
    return np.dtype(dtype) == np.float32


def _exp_tail(dtype):
    """Where exp(x) turns subnormal, then 0: every exp-based kernel switches paths there."""
    return (-106.0, -80.0) if _f32(dtype) else (-746.0, -700.0)


@dataclasses.dataclass(frozen=True)
class ReferenceRow:
    """One activation's row of the test reference table: its math restated in
    mpmath, and what the accuracy tests need to know of its kernel.

    forward: the exact value at an mpf x (elementwise), or the exact values
        of a row, a list of finite mpf (row-wise).
    derivative: the exact local derivative at (z, a), the registry's
        convention: one written through a uses the given a.  None for row-wise.
    derivative_bounds: (float32, float64, at a root) bounds in ulp: the
        forward bounds 2 and 3 unless the kernel is measured worse, and then
        its measured worst, so that any new fault still shows; the third is
        an absolute allowance, in ulp of 0.25, within DERIVATIVE_ROOT_WIDTH of
        a zero in ``roots``, where the derivative's terms cancel.
    cuts: ``cuts(dtype)``, |x| of the kernel's branch and saturation points,
        which the edge sweeps walk densely (rounded values are fine).
    tails: ``tails(dtype)``, x ranges where the result or its exp turns
        subnormal and then 0.
    cancels: the registry's float64 formula loses the tails to cancellation,
        so that even float32 results need mpmath.
    positive_zero: f(-0.0) is 0.0 by the activation's rule (relu); every
        other f with f(0) = 0 keeps x's sign, as x g(x) does in IEEE
        arithmetic (and as torch and jax do).
    params: the parameter values the accuracy tests run, each a tuple in
        the entry's parameter order (the first: its defaults; ``((),)`` for
        an activation without parameters).  ``forward(x, *params)`` and
        ``derivative(z, a, *params)`` take them after their arguments, as
        the kernels do.
    derivative_of_z: the exact derivative from z alone, ``(z, *params)``,
        where ``derivative`` reads a (at 50 digits a rounds to 1 long before
        1 - a, the derivative, underflows a float64); otherwise the tests
        evaluate ``derivative(z, forward(z))``.
    """

    forward: Callable
    derivative: Callable | None = None
    derivative_bounds: tuple = (2, 3, 0)
    roots: tuple = ()
    cuts: Callable = lambda dtype: []
    tails: Callable = lambda dtype: [_exp_tail(dtype)]
    cancels: bool = False
    positive_zero: bool = False
    params: tuple = ((),)
    derivative_of_z: Callable | None = None


# 1 + tanh(u) is written 2 sigmoid(2u) and 1 + erf(t) as erfc(-t) so that the
# tails keep their relative accuracy.
TABLE = {
    "sigmoid": ReferenceRow(
        _mp_sigmoid,
        lambda z, a: a * (1 - a),
        derivative_of_z=lambda z: _mp_sigmoid(z) * _mp_sigmoid(-z),
        cuts=lambda d: [_one_rounds(d)],
        tails=lambda d: [_exp_tail(d), (-20.0, 20.0)],
    ),
    "relu": ReferenceRow(
        lambda x: x if x > 0 else mpmath.mpf(0),
        lambda z, a: mpmath.mpf(1 if z > 0 else 0),
        derivative_bounds=(0, 0, 0),
        positive_zero=True,
    ),
    "softmax": ReferenceRow(lambda row: [mpmath.exp(v) for v in _mp_log_softmax_row(row)]),
    "softmin": ReferenceRow(lambda row: [mpmath.exp(v) for v in _mp_log_softmax_row([-v for v in row])]),
    "tanh": ReferenceRow(
        mpmath.tanh,
        lambda z, a: 1 - a * a,
        derivative_of_z=lambda z: 1 / mpmath.cosh(z) ** 2,
        cuts=lambda d: [(_precision(d) + 2) * LN2 / 2],  # 1 - 2 exp(-2x) rounds to 1
        tails=lambda d: [_exp_tail(d), (-10.0, 10.0)],
    ),
    "leaky_relu": ReferenceRow(
        lambda x, negative_slope=0.01: x if x >= 0 else mpmath.mpf(negative_slope) * x,
        lambda z, a, negative_slope=0.01: mpmath.mpf(1) if z > 0 else mpmath.mpf(negative_slope),
        derivative_bounds=(0.5, 0, 0),  # the slope rounded to float32
        params=((0.01,), (0.2,), (1 / 3,), (-0.5,), (3.0,)),
    ),
    "elu": ReferenceRow(
        lambda x, alpha=1.0: x if x > 0 else mpmath.mpf(alpha) * mpmath.expm1(x),
        # from a for alpha = 1, as the kernel; alpha e**z from z otherwise
        lambda z, a, alpha=1.0: mpmath.mpf(1) if z > 0 else (a + 1 if alpha == 1 else alpha * mpmath.exp(z)),
        derivative_of_z=lambda z, alpha=1.0: mpmath.mpf(1) if z > 0 else mpmath.mpf(alpha) * mpmath.exp(z),
        derivative_bounds=(1, 2, 0),  # measured 0.5 from a; 0.62 and 0.99 from z
        cuts=lambda d: [_one_rounds(d), 40.0],  # expm1(x) rounds to -1; exp's clamp
        tails=lambda d: [_exp_tail(d), (-40.5, -15.0)],  # expm1(x) within a few ulp of -1
        params=((1.0,), (0.5,), (0.1,), (2.0,), (1 / 3,), (-0.7,)),
    ),
    "gelu": ReferenceRow(
        lambda x: x * _mp_normal_cdf(x),
        lambda z, a: _mp_normal_cdf(z) + z * mpmath.exp(-(z**2) / 2) / mpmath.sqrt(2 * mpmath.pi),
        derivative_bounds=(2, 3, 4),
        roots=(-0.7517915246935645,),
        cuts=lambda d: [
            37.0,  # the asymptotic series below -37
            40.0,  # the tail drops the low part of x**2 beyond |x| = 40
            5.42 if _f32(d) else 8.29,  # Phi(x) rounds to 1
            *((13.2, 14.1) if _f32(d) else (37.5, 38.6)),  # gelu(-x) turns subnormal, then 0
        ],
        tails=lambda d: [_exp_tail(d), (-14.2, -12.9) if _f32(d) else (-38.7, -37.0)],  # x Phi(x) subnormal, then 0
        cancels=True,
    ),
    "gelu_tanh": ReferenceRow(
        lambda x: x * _mp_sigmoid(2 * _mp_gelu_tanh_inner(x)),
        _mp_gelu_tanh_grad,
        derivative_bounds=(4, 4, 4),
        roots=(-0.7524614220710163,),
        cuts=lambda d: [
            # x where t = 2 sqrt(2/pi) (x + 0.044715 x**3) reaches the exp limits and the clamp
            # (-800; -120 for float32, computed in float64, whose x and z are clamped at -+120)
            *((10.06, 10.0, 10.68, 11.27, 120.0) if _f32(d) else (21.16, 21.15, 21.52, 21.76)),
            22.05,
            1.6832e13 if _f32(d) else 1.3607e103,  # t overflows
            1.9667e13 if _f32(d) else 1.5899e103,  # x (1 + 0.044715 x**2) overflows
            1.8447e19 if _f32(d) else 1.3408e154,  # x**2 overflows
        ],
        # t from -700 to past exp's zero
        tails=lambda d: [_exp_tail(d), (-11.4, -9.9) if _f32(d) else (-22.2, -20.9)],
        cancels=True,
    ),
    "silu": ReferenceRow(
        lambda x: x * _mp_sigmoid(x),
        lambda z, a: _mp_sigmoid(z) * (1 + z * (1 - _mp_sigmoid(z))),
        derivative_bounds=(4, 4, 4),
        roots=(-1.2784645427610738,),
        # float64: x_sigmoid clamps its tail at -800; float32 computes in float64, clamped at -120
        cuts=lambda d: [_one_rounds(d), 120.0 if _f32(d) else 800.0],
    ),
    "softplus": ReferenceRow(
        _mp_softplus,
        _mp_softplus_grad,
        derivative_of_z=_mp_softplus_grad_of_z,
        derivative_bounds=(1, 2, 0),  # measured 0.5 and 1.42
        cuts=lambda d: [
            c / abs(beta)
            for beta, threshold in _SOFTPLUS_PARAMS
            for c in (
                math.log(1 / (math.sqrt(2) - 1)),  # log1p_unit halves 1 + exp(-|t|) above sqrt(2)
                14.56 if _f32(d) else 33.27,  # log1p(exp(-t)) drops below half an ulp of t
                40.0,  # float64: the tail, e**t / beta
                800.0,  # float64: t's low part dropped
                *((threshold,) if threshold < math.inf else ()),
            )
        ],
        params=_SOFTPLUS_PARAMS,
    ),
    "log_softmax": ReferenceRow(_mp_log_softmax_row, cancels=True),
    "relu6": ReferenceRow(
        lambda x: mpmath.mpf(0) if x <= 0 else min(x, mpmath.mpf(6)),
        lambda z, a: mpmath.mpf(1 if 0 < z < 6 else 0),
        derivative_bounds=(0, 0, 0),
        cuts=lambda d: [6.0],
        positive_zero=True,
    ),
    "hardtanh": ReferenceRow(
        lambda x, lo=-1.0, hi=1.0: min(max(x, mpmath.mpf(lo)), mpmath.mpf(hi)),
        lambda z, a, lo=-1.0, hi=1.0: mpmath.mpf(1 if lo < z < hi else 0),
        derivative_bounds=(0, 0, 0),  # compared with the exact bounds, in float64
        cuts=lambda d: [1.0, 0.1, 0.3, 1 / 3, 2.5, 2.0, 0.5, 6.0, 0.7],  # every tested bound
        params=((-1.0, 1.0), (0.1, 0.3), (-1 / 3, 2.5), (-2.0, -0.5), (0.0, 6.0), (0.7, 0.7)),
    ),
    "hardsigmoid": ReferenceRow(
        lambda x: min(max(x + 3, mpmath.mpf(0)), mpmath.mpf(6)) / 6,
        lambda z, a: mpmath.mpf(1) / 6 if -3 < z < 3 else mpmath.mpf(0),
        derivative_bounds=(0.5, 0.5, 0),  # 1/6 rounded
        cuts=lambda d: [3.0],
        positive_zero=True,
    ),
    "hardswish": ReferenceRow(
        lambda x: x * min(max(x + 3, mpmath.mpf(0)), mpmath.mpf(6)) / 6,
        # torch's hardswish_backward: 0 at -3, 1 at 3
        lambda z, a: mpmath.mpf(0) if z <= -3 else (mpmath.mpf(1) if z >= 3 else (2 * z + 3) / 6),
        derivative_bounds=(1, 1, 1),  # measured 0.5: one rounding, the root included
        roots=(-1.5,),
        cuts=lambda d: [3.0, 1.5],
    ),
    "softshrink": ReferenceRow(
        lambda x, lambd=0.5: x - lambd if x > lambd else (x + lambd if x < -lambd else mpmath.mpf(0)),
        lambda z, a, lambd=0.5: mpmath.mpf(1 if abs(z) > lambd else 0),
        derivative_bounds=(0, 0, 0),
        cuts=lambda d: [0.5, 0.1, 1 / 3, 2.0],
        positive_zero=True,  # 0.0 throughout [-lambd, lambd], as torch
        params=((0.5,), (0.1,), (1 / 3,), (0.0,), (2.0,), (1e-30,)),
    ),
    "hardshrink": ReferenceRow(
        lambda x, lambd=0.5: x if abs(x) > lambd else mpmath.mpf(0),
        lambda z, a, lambd=0.5: mpmath.mpf(1 if abs(z) > lambd else 0),
        derivative_bounds=(0, 0, 0),
        cuts=lambda d: [0.5, 0.1, 1 / 3, 2.0],
        positive_zero=True,
        params=((0.5,), (0.1,), (1 / 3,), (0.0,), (2.0,), (1e-30,)),
    ),
    "threshold": ReferenceRow(
        lambda x, threshold, value: x if x > threshold else mpmath.mpf(value),
        lambda z, a, threshold, value: mpmath.mpf(1 if z > threshold else 0),
        derivative_bounds=(0, 0, 0),
        cuts=lambda d: [0.1, 1.0, 1 / 3, 0.5],
        # value at -0.0 for a threshold >= 0 (only those are tested: for a
        # negative one, threshold(-0.0) is x itself, -0.0)
        positive_zero=True,
        params=((0.0, 0.0), (0.1, 20.0), (1.0, -1 / 3), (1 / 3, 0.1), (0.5, 1e300)),
    ),
    "squareplus": ReferenceRow(
        # b / (2 (sqrt(x**2 + b) - x)) for x < 0, and its limit 0 at -inf (below the largest float)
        lambda x, b=4.0: (
            (x + mpmath.sqrt(x * x + b)) / 2
            if x >= 0
            else (b / (2 * (mpmath.sqrt(x * x + b) - x)) if x > mpmath.mpf("-1e309") else mpmath.mpf(0))
        ),
        lambda z, a, b=4.0: (
            (1 + z / mpmath.sqrt(z * z + b)) / 2
            if z > 0
            else (b / (2 * mpmath.sqrt(z * z + b) * (mpmath.sqrt(z * z + b) - z)) if b > 0 else mpmath.mpf(0))
        ),
        derivative_bounds=(1, 2, 0),  # measured 0.5 and 1.01
        cuts=lambda d: [2.0, 1.0, 0.1**0.5, 3**-0.5, 1e-4, 10.0, *(() if _f32(d) else (2.0**500,))],
        # b / (4 |x|) turns subnormal
        tails=lambda d: [(-3.4e38, -1e37) if _f32(d) else (-1.79e308, -1e307)],
        positive_zero=True,  # squareplus(-0.0, b=0) = 0.0, as relu
        params=((4.0,), (0.0,), (1.0,), (0.1,), (1 / 3,), (1e-8,), (100.0,)),
    ),
    "sparse_plus": ReferenceRow(
        lambda x: mpmath.mpf(0) if x <= -1 else (x if x >= 1 else (x + 1) ** 2 / 4),
        lambda z, a: mpmath.mpf(0) if z <= -1 else (mpmath.mpf(1) if z >= 1 else (z + 1) / 2),
        derivative_bounds=(0.5, 0.5, 0),
        cuts=lambda d: [1.0],
        positive_zero=True,
    ),
    "sparse_sigmoid": ReferenceRow(
        lambda x: mpmath.mpf(0) if x <= -1 else (mpmath.mpf(1) if x >= 1 else (x + 1) / 2),
        lambda z, a: mpmath.mpf(0.5) if -1 < z < 1 else mpmath.mpf(0),
        derivative_bounds=(0, 0, 0),
        cuts=lambda d: [1.0],
        positive_zero=True,
    ),
    "softsign": ReferenceRow(
        lambda x: x / (1 + abs(x)),
        lambda z, a: 1 / (1 + abs(z)) ** 2,
        derivative_bounds=(1, 2, 0),  # measured 0.5 and 0.93 (a subnormal result)
        # 1 / (1 + |x|) below a quarter ulp of 1; the clamps; the derivative turns subnormal, then 0
        cuts=lambda d: [2.0**25, 2.0**53, 2.0**60, *(() if _f32(d) else (2.0**511, 2.0**538, 2.0**600))],
    ),
    "celu": ReferenceRow(
        lambda x, alpha=1.0: x if x > 0 else mpmath.mpf(alpha) * mpmath.expm1(x / mpmath.mpf(alpha)),
        lambda z, a, alpha=1.0: mpmath.mpf(1) if z > 0 else mpmath.exp(z / mpmath.mpf(alpha)),
        derivative_bounds=(1, 2, 0),  # measured 0.6 and 0.92
        cuts=lambda d: [
            alpha * c
            for (alpha,) in _CELU_PARAMS
            # expm1 rounds to -1; exp's clamps (the derivative's too); x / alpha below 2**-60
            for c in (_one_rounds(d), 40.0, 120.0 if _f32(d) else 745.0, 2.0**-60)
        ],
        tails=lambda d: [_exp_tail(d), (-4.5, -1.5), (-40.5, -15.0), (-405.0, -150.0)],
        params=_CELU_PARAMS,
    ),
    "selu": ReferenceRow(
        _mp_selu,
        _mp_selu_grad,
        derivative_bounds=(1, 2, 0),  # measured 0.58 and 1.58
        cuts=lambda d: [_one_rounds(d), 40.0, 120.0],  # expm1(x) rounds to -1; exp's clamps
        tails=lambda d: [_exp_tail(d), (-40.5, -15.0)],
    ),
    "mish": ReferenceRow(
        lambda x: x * _mp_tanh_softplus(x),
        _mp_mish_grad,
        derivative_bounds=(1, 2, 1),  # measured 0.5 and 1.41; near the root 0.06 ulp of 0.25
        roots=(-1.1924312145154952,),
        # float64: x e**x below -40, the clamps at 800; float32: computed in float64, clamped at 120
        cuts=lambda d: [40.0, 800.0, 120.0, 1.1924312145154952],
        tails=lambda d: [_exp_tail(d), (-2.5, 0.0)],
    ),
    "log_sigmoid": ReferenceRow(
        lambda x: -mpmath.log1p(mpmath.exp(-x)),
        lambda z, a: _mp_sigmoid(-z),
        derivative_bounds=(2, 2, 0),  # measured 0.94 and 0.89
        cuts=lambda d: [math.log(1 / (math.sqrt(2) - 1)), 14.56 if _f32(d) else 33.27],  # softplus(-x)'s
        # -exp(-x) subnormal, then 0; and the other side
        tails=lambda d: [_exp_tail(d), (80.0, 106.0) if _f32(d) else (700.0, 746.0)],
    ),
    "tanhshrink": ReferenceRow(
        _mp_tanhshrink,
        lambda z, a: mpmath.tanh(z) ** 2,
        derivative_bounds=(1, 2, 0),  # measured 0.5 and 1.13
        cuts=lambda d: [0.65, 20.0],  # the series' bound; 2|x| past exp's clamp
        tails=lambda d: [(-1.0, 1.0)],  # the series, and where the difference cancels beyond it
        cancels=True,  # x - tanh(x) near 0
    ),
}
DERIVATIVE_ROOT_WIDTH = 0.05


class Case:
    """An elementwise entry with values of its parameters bound: the entry's
    functions and references of one argument list, as the tests of every
    entry call them (``case.forward(x)``), and its other fields as they are.
    ``values`` are the parameters' values; ``named`` the same by name."""

    def __init__(self, entry, values=None):
        self.entry = entry
        self.values = TABLE[entry.name].params[0] if values is None else tuple(values)
        self.named = {p.name: v for p, v in zip(entry.params, self.values, strict=True)}
        tier = f"{entry.tier.name}-" if entry.tier.swaps else ""
        self.id = tier + entry.name + "".join(f"-{v:g}" for v in self.values if values is not None)

    def __getattr__(self, field):
        return getattr(self.entry, field)

    def forward(self, x, out=None):
        return self.entry.call(x, out, -1, self.values)

    def derivative(self, z, a, out=None):
        return self.entry.call_derivative(z, a, out, self.values)

    def vjp(self, z, a, grad, out=None):
        return self.entry.call_vjp(z, a, grad, out, -1, self.values)

    def reference(self, x):
        return self.entry.reference(x, *self.values)

    def reference_derivative(self, z, a):
        return self.entry.reference_derivative(z, a, *self.values)

    def reference_vjp(self, z, a, g):
        return self.entry.reference_vjp(z, a, g, *self.values)

    def __repr__(self):
        return f"Case({self.id})"


# Every elementwise entry with its first parameter values (its defaults),
# for the tests of every entry; CASES: with every parameter tuple of the
# table, for the accuracy tests.
ELEMENTWISE = [Case(entry) for entry in REGISTRY.values() if not entry.rowwise]
CASES = [
    Case(case.entry, values) if i else case for case in ELEMENTWISE for i, values in enumerate(TABLE[case.name].params)
]


# The same cases in the fast tier, for those of its entries that it rebuilds
# from its own primitives (the others are the default tier's very entries).
FAST_CASES = [
    Case(FAST.entry(c.entry), None if c.id == c.name else c.values) for c in CASES if FAST.entry(c.entry) is not c.entry
]


# The row-wise entries of both tiers: the fast tier rebuilds the forward
# passes of the softmax family (their VJPs are the default tier's).
ROWWISE_BOTH_TIERS = [pytest.param(entry, id=entry.name) for entry in ROWWISE] + [
    pytest.param(FAST.entry(entry), id=f"fast-{entry.name}") for entry in ROWWISE if FAST.entry(entry) is not entry
]


def row_ulp(entry, dtype):
    """The bound of the row-wise ``entry`` in ``dtype``: its tier's (4 ulp in
    float32 and 8 in float64 by default, 8 in the fast tier)."""
    return entry.tier.row_ulp[np.dtype(dtype).name]


def forward_ulp(entry, dtype):
    """The bound of ``entry``'s forward pass in ``dtype``: its tier's (2 ulp
    in float32 and 3 in float64 by default, 4 in the fast tier)."""
    return entry.tier.ulp[np.dtype(dtype).name]


def case(name):
    """The :class:`Case` of the elementwise entry ``name`` with its defaults, or the row-wise entry itself."""
    entry = REGISTRY[name]
    return entry if entry.rowwise else Case(entry)


def _name_and_values(which):
    """(name, parameter values) of a name, an entry or a :class:`Case`."""
    if isinstance(which, str):
        return which, ()
    return which.name, getattr(which, "values", ())


# An infinite argument is evaluated at this huge finite value, which gives
# the limit (silu(-inf) = -0.0, not -inf * 0).
_MP_HUGE = mpmath.mpf("1e400")


def _mp_arg(v):
    v = float(v)
    if math.isinf(v):
        return _MP_HUGE if v > 0 else -_MP_HUGE
    return mpmath.mpf(v)


class Exact:
    """Exact values, unrounded: hi = the float64 nearest each, and lo = the
    rest in units of float64's spacing at hi (|lo| <= 1/2), so that a bound
    of 3 ulp admits 3 ulp, not 3.5, and subnormal values keep their rest.

    Indexing selects elements of both parts; NumPy functions see hi.  A zero
    hi carries the sign the exact value has (or, for an exact zero, the sign
    the documented rules give it).
    """

    def __init__(self, hi, lo=None):
        self.hi = np.asarray(hi, np.float64)
        self.lo = np.zeros(self.hi.shape) if lo is None else np.asarray(lo, np.float64)

    def __getitem__(self, key):
        return Exact(self.hi[key], self.lo[key])

    def __array__(self, dtype=None, copy=None):
        return self.hi if dtype is None else self.hi.astype(dtype)

    def __len__(self):
        return len(self.hi)

    @property
    def shape(self):
        return self.hi.shape

    @property
    def size(self):
        return self.hi.size

    def ravel(self):
        return Exact(self.hi.ravel(), self.lo.ravel())

    def __repr__(self):
        return f"Exact({self.hi!r} + {self.lo!r} ulp)"


def _float64_spacing(hi):
    """float64's spacing at |hi|, 2**-1074 at zero and among the subnormals."""
    info = np.finfo(np.float64)
    mag = np.abs(hi)
    with np.errstate(invalid="ignore"):
        exponent = np.frexp(np.where(np.isfinite(mag), mag, 1.0))[1]
    return np.where(mag < info.tiny, float(info.smallest_subnormal), np.ldexp(1.0, exponent - 53))


def _mp_split(value):
    """(hi, lo) of an mpf as in :class:`Exact`."""
    hi = float(value)
    if math.isinf(hi) or value == 0:
        return hi, 0.0
    spacing = float(_float64_spacing(np.float64(hi)))
    return hi, float((value - mpmath.mpf(hi)) / spacing)


def as_exact(values):
    """``values`` as :class:`Exact`: an Exact unchanged; a float array exact as it is, a long
    double one split into hi and lo."""
    if isinstance(values, Exact):
        return values
    values = np.asarray(values)
    hi = values.astype(np.float64)
    if values.dtype.itemsize <= 8 or values.dtype.kind != "f":
        return Exact(hi)
    with np.errstate(invalid="ignore"):
        rest = np.where(np.isfinite(hi), values - hi.astype(values.dtype), 0)
    return Exact(hi, (rest / _float64_spacing(hi).astype(values.dtype)).astype(np.float64))


def mp_evaluate(fn, *arrays):
    """:class:`Exact` of ``fn`` applied elementwise in mpmath; NaN anywhere in gives NaN.

    Equal argument tuples are evaluated once.
    """
    arrays = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in arrays))
    shape = arrays[0].shape
    flat = np.stack([a.ravel() for a in arrays], axis=1) if arrays[0].size else np.empty((0, len(arrays)))
    # Unique by bit pattern, so that -0.0 and 0.0 stay apart.
    keys, inverse = np.unique(flat.view(np.int64), axis=0, return_inverse=True)
    hi, lo = np.empty(len(keys)), np.zeros(len(keys))
    with mpmath.workdps(MP_DPS):
        for i, key in enumerate(keys.view(np.float64)):
            values = [float(v) for v in key]
            if any(math.isnan(v) for v in values):
                hi[i] = math.nan
            else:
                hi[i], lo[i] = _mp_split(fn(*(_mp_arg(v) for v in values)))
    inverse = inverse.ravel()
    return Exact(hi[inverse].reshape(shape), lo[inverse].reshape(shape))


def mp_forward(which, x):
    """:class:`Exact` of the elementwise activation ``which`` (a name, or a
    :class:`Case` with its parameters) at ``x``, signed zeros included."""
    name, values = _name_and_values(which)
    x = np.asarray(x, np.float64)
    exact = mp_evaluate(lambda v: TABLE[name].forward(v, *values), x)
    zero = (x == 0) & (exact.hi == 0)
    exact.hi[zero] = 0.0 if TABLE[name].positive_zero else x[zero]
    return exact


def mp_derivative(name, z, a, g=None):
    """:class:`Exact` of the local derivative ``name`` at (z, a), or of the vjp g f'(z, a).

    An exact zero vjp has the sign of g (the derivatives' exact zeros are 0.0).
    """
    name, values = _name_and_values(name)
    derivative = TABLE[name].derivative

    def d(z, a):
        return derivative(z, a, *values)

    if g is None:
        return mp_evaluate(d, z, a)

    def vjp(z, a, g):
        value = d(z, a)
        return g * value if value != 0 else math.copysign(0.0, g)

    return mp_evaluate(vjp, z, a, g)


def mp_rows(fn, x, axis=-1):
    """:class:`Exact` of the row function ``fn`` applied in mpmath along ``axis`` of finite ``x``."""
    moved = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    hi, lo = np.empty(moved.shape, np.float64), np.zeros(moved.shape, np.float64)
    with mpmath.workdps(MP_DPS):
        for index in np.ndindex(moved.shape[:-1]):
            parts = [_mp_split(v) for v in fn([mpmath.mpf(float(v)) for v in moved[index]])]
            hi[index] = [p[0] for p in parts]
            lo[index] = [p[1] for p in parts]
    return Exact(np.moveaxis(hi, -1, axis), np.moveaxis(lo, -1, axis))


def reference_forward(entry, x, dtype, axis=-1):
    """The exact value of ``entry`` at ``x`` (:class:`Exact`), good to well below one ulp of ``dtype``.

    The registry's float64 reference where that is accurate enough for
    ``dtype`` (float32 results), mpmath otherwise.  Row-wise entries work
    along ``axis`` on finite input.
    """
    x64 = np.asarray(x, np.float64)
    if entry.rowwise:
        if np.dtype(dtype) == np.float32 and not TABLE[entry.name].cancels:
            # The reference divides by sum + EPS: 1e-12 relative, far below a float32 ulp.
            return Exact(entry.reference(x64, axis=axis))
        return mp_rows(TABLE[entry.name].forward, x64, axis)
    if np.dtype(dtype) == np.float32 and not TABLE[entry.name].cancels:
        with np.errstate(all="ignore"):
            expected = np.array(entry.reference(x64), np.float64)
        # The formulas' limits at +-inf are not always what float64 gives
        # (silu(-inf) is -inf * 0), nor their signs of zero.
        special = np.isinf(x64) | (x64 == 0)
        if special.any():
            expected[special] = mp_forward(entry, x64[special]).hi
        return Exact(expected)
    return mp_forward(entry, x64)


def reference_derivative(entry, z, a, dtype, g=None):
    """The exact local derivative at (z, a), or the vjp with ``g``; see :func:`reference_forward`."""
    z64, a64 = np.asarray(z, np.float64), np.asarray(a, np.float64)
    if np.dtype(dtype) == np.float32 and not TABLE[entry.name].cancels:
        with np.errstate(all="ignore"):
            if g is None:
                expected = np.asarray(entry.reference_derivative(z64, a64), np.float64)
            else:
                expected = np.asarray(entry.reference_vjp(z64, a64, np.asarray(g, np.float64)), np.float64)
        # The documented NaN rule, which (z > 0) style formulas do not follow.
        expected = np.where(np.isnan(z64) | np.isnan(a64), np.nan, expected)
        return Exact(expected)
    return mp_derivative(entry, z64, a64, g)


def numeric_vjp(f, x, g, h=1e-6):
    """d/dx sum(g * f(x)) by central differences, one element of float64 ``x`` at a time."""
    grad = np.empty_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        grad[index] = np.sum(g * (f(x + step) - f(x - step))) / (2 * h)
    return grad


# ------------------------------------------------------------------ ulps


def ulp(value, dtype):
    """One unit in the last place of ``dtype`` at |value| (float64 array)."""
    info = np.finfo(dtype)
    mag = np.abs(np.asarray(value, np.float64))
    with np.errstate(invalid="ignore"):
        exponent = np.frexp(np.where(np.isfinite(mag), mag, 1.0))[1]
    return np.where(mag < info.tiny, float(info.smallest_subnormal), np.ldexp(1.0, exponent - info.nmant - 1))


def ulp_distance(actual, expected, dtype, signed_zeros=True):
    """|actual - expected| in units of ``dtype``'s spacing at the exact ``expected``.

    ``expected`` is exact, unrounded: an :class:`Exact`, a long double array,
    or float64 values taken as exact.  An exact value that rounds to +-inf
    in ``dtype`` expects that inf.  Equal values (infinities included) and
    NaN against NaN are 0 apart; NaN or an infinity against anything else is
    infinitely far, and so is a zero of the wrong sign: a zero result must
    have the sign of the exact value (or of the exact zero), unless
    ``signed_zeros`` is false.
    """
    exact = as_exact(expected)
    hi, lo = np.broadcast_arrays(exact.hi, exact.lo)
    actual = np.broadcast_to(np.asarray(actual, np.float64), hi.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = hi.astype(dtype).astype(np.float64)
        # The spacing in the exact value's binade: one below hi's where hi is
        # a power of two and the rest takes the exact value under it.
        mantissa, _ = np.frexp(np.where(np.isfinite(hi), hi, 1.0))
        below = (np.abs(mantissa) == 0.5) & (lo * np.sign(hi) < 0) & (np.abs(hi) > np.finfo(dtype).tiny)
        spacing = ulp(hi, dtype) / np.where(below, 2.0, 1.0)
        step = _float64_spacing(hi)
        # actual - hi is exact wherever the distance is small (Sterbenz).
        distance = np.abs((actual - hi) / step - lo) * (step / spacing)
    same = ((actual == hi) & (lo == 0)) | (np.isnan(actual) & np.isnan(hi))
    same |= np.isinf(rounded) & (actual == rounded)
    finite = np.isfinite(actual) & np.isfinite(rounded)
    wrong_zero = (actual == 0) & (np.signbit(actual) != np.signbit(hi)) & signed_zeros
    return np.where(wrong_zero, np.inf, np.where(same, 0.0, np.where(finite, distance, np.inf)))


def assert_ulp_close(actual, expected, dtype, max_ulp, inputs=None, signed_zeros=True):
    """Assert every element is within ``max_ulp`` (a number, or an array like ``actual``) and report the worst."""
    expected = as_exact(expected)
    distance = ulp_distance(actual, expected, dtype, signed_zeros)
    max_ulp = np.broadcast_to(np.asarray(max_ulp, np.float64), distance.shape)
    bad = np.flatnonzero(~(distance <= max_ulp))
    if bad.size:
        worst = bad[np.argsort(-distance.ravel()[bad])][:8]
        lines = []
        for i in worst:
            where = f"x={np.ravel(inputs)[i]!r}: " if inputs is not None else f"[{i}]: "
            lines.append(
                f"  {where}got {np.ravel(actual)[i]!r}, expected {expected.hi.ravel()[i]!r} "
                f"({distance.ravel()[i]:.3g} ulp, bound {max_ulp.ravel()[i]:.3g})"
            )
        header = f"{bad.size} of {distance.size} elements over the bound in ulp of {np.dtype(dtype)}:"
        pytest.fail("\n".join([header, *lines]))


# A vjp (g f') is rounded once more, and the product can move the result's
# exponent, so it gets twice the derivative's bound plus one.


def derivative_bound(name, dtype, z, g=None):
    """Per-element bounds in ulp for ``name``'s derivative (or vjp, with ``g``) at ``z``, and
    the absolute allowance next to a root (0 elsewhere)."""
    f32, f64, at_root = TABLE[name].derivative_bounds
    bound = f32 if np.dtype(dtype) == np.float32 else f64
    if g is not None:
        bound = 2 * bound + 1
    z = np.asarray(z, np.float64)
    near = np.zeros(z.shape, bool)
    for root in TABLE[name].roots:
        near |= np.abs(z - root) <= DERIVATIVE_ROOT_WIDTH
    scale = 1.0 if g is None else np.abs(np.asarray(g, np.float64))
    allowance = np.where(near, at_root * float(ulp(0.25, dtype)) * scale, 0.0)
    return np.full(z.shape, float(bound)), allowance


def derivative_distance(name, got, exact, dtype, z, g=None):
    """Each derivative's distance in ulp, where it is over the root allowance; and the bounds."""
    exact = as_exact(exact)
    bound, allowance = derivative_bound(name, dtype, z, g)
    distance = ulp_distance(got, exact, dtype)
    with np.errstate(invalid="ignore"):
        absolute = np.abs(np.asarray(got, np.float64) - exact.hi)
    distance = np.where((allowance > 0) & (absolute <= allowance), 0.0, distance)
    return distance, bound


def assert_derivative_close(name, got, exact, dtype, z, g=None):
    """Within the table's ``derivative_bounds``; ``g`` given: the vjp g f'."""
    exact = as_exact(exact)
    distance, bound = derivative_distance(name, got, exact, dtype, z, g)
    keep = ~(distance <= bound)
    assert_ulp_close(np.asarray(got)[keep], exact[keep], dtype, bound[keep], np.asarray(z)[keep])


def max_ulp(actual, expected, dtype):
    """The largest ulp distance, 0 for no elements."""
    distance = ulp_distance(actual, expected, dtype)
    return float(distance.max()) if distance.size else 0.0


# ------------------------------------------------------------------ inputs


def edge_values(dtype):
    """Zeros, the smallest numbers, the exp overflow/underflow regions of both
    float types that ``dtype`` can hold, the largest numbers, +-inf and NaN."""
    info = np.finfo(dtype)
    # fmt: off
    magnitudes = [
        float(info.smallest_subnormal), 3 * float(info.smallest_subnormal), float(info.tiny) / 3, float(info.tiny),
        1e-30, 1e-8, 0.5, 1.0, 2.0, 10.0, 20.0, 40.0,
        87.3, 88.0, 88.72, 88.7228, 88.73, 89.0, 103.2, 103.3, 104.0, 110.0,  # float32's exp limits
        708.3, 708.4, 709.7, 709.78, 709.8, 710.0, 744.4, 745.1, 745.2, 750.0,  # float64's
        1e4, 1e30,
    ]
    # fmt: on
    values = [0.0, -0.0, math.inf, -math.inf, math.nan, float(info.max), -float(info.max)]
    values += [m for m in magnitudes if m <= info.max] + [-m for m in magnitudes if m <= info.max]
    return np.array(values, dtype)


def wide_samples(dtype, rng, n=600):
    """Log-uniform magnitudes from the smallest subnormal to the overflow region, both signs,
    plus a uniform sweep of the interesting [-20, 20]."""
    info = np.finfo(dtype)
    lo, hi = np.log10(float(info.smallest_subnormal)), np.log10(float(info.max)) * 0.999
    magnitudes = 10.0 ** rng.uniform(lo, hi, n)
    signs = rng.choice([-1.0, 1.0], n)
    return np.concatenate([signs * magnitudes, rng.uniform(-20, 20, n)]).astype(dtype)


def moderate_samples(dtype, rng, n=200, scale=6.0, kink_gap=1e-3):
    """Uniform on [-scale, scale], kept away from the kink at 0 that relu, leaky_relu and elu have."""
    x = rng.uniform(-scale, scale, 4 * n)
    x = x[np.abs(x) > kink_gap][:n]
    return x.astype(dtype)


def _non_contiguous(base):
    wide = np.full((base.shape[0], 2 * base.shape[1]), np.nan, base.dtype)
    wide[:, ::2] = base
    return wide[:, ::2]


def _negative_stride(base):
    return base[::-1, ::-1].copy()[::-1, ::-1]


def _read_only(base):
    view = base.copy()
    view.flags.writeable = False
    return view


# Each maker turns a C-contiguous 2-D float array into the same values laid
# out differently (or, for the last ones, a related input of another kind).
LAYOUTS = {
    "C": lambda b: b.copy(),
    "F": np.asfortranarray,
    "non_contiguous": _non_contiguous,
    "negative_stride": _negative_stride,
    "read_only": _read_only,
    "byte_swapped": lambda b: b.astype(b.dtype.newbyteorder()),
    "1d": lambda b: b.ravel(),
    "3d": lambda b: b.reshape(2, -1, b.shape[1]),
    "0d": lambda b: np.asarray(b.flat[0]),
    "empty": lambda b: b[:0],
    "empty_rows": lambda b: b[:, :0],
    "list": lambda b: b.tolist(),
    "scalar": lambda b: float(b.flat[0]),
}


def plain_copy(value):
    """``value`` as a fresh native-endian C-contiguous array: what every layout must match."""
    arr = np.asarray(value)
    return np.array(arr, dtype=arr.dtype.newbyteorder("="), order="C")


def snapshot(*values):
    """Copies of the array arguments, to check later that a call left them alone."""
    return [(v, np.array(v, copy=True)) for v in values if isinstance(v, np.ndarray)]


def assert_unchanged(snapshots):
    for value, before in snapshots:
        np.testing.assert_array_equal(value, before, strict=True, err_msg="an input was modified")


# Source of peak_bytes(), for the code that memory tests run in a fresh process.
# On Linux a child's ru_maxrss carries its parent's peak across fork and exec,
# so after a memory-hungry test the child reported pytest's own peak (1.6 GiB,
# a failure, or a growth of 0, a pass that could not fail); VmHWM is the
# child's own.
PEAK_BYTES_SOURCE = """
def peak_bytes():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource, sys
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
"""
