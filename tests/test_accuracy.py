"""Accuracy proven beyond samples, and properties that hold for any input.

The exhaustive checks run under ``-m slow`` (a step of CI of their own):
every float32 input of sigmoid, tanh, elu, silu, softplus, gelu and
gelu_tanh, and every
float16 input of every elementwise function.  The property tests draw
shapes, strides, dtypes, sizes across block boundaries and values out to
the extremes with hypothesis.
"""

import math

import numpy as np
import pytest
from conftest import (
    SAMPLE,
    TABLE,
    assert_ulp_close,
    case,
    forward_ulp,
    mp_forward,
    mp_rows,
    numeric_vjp,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numba import njit, prange
from test_elementwise import FORWARD_ULP
from test_rowwise import ROW_ULP_BY_DTYPE

import numba_act
from numba_act import REGISTRY, _parallel
from numba_act import elementwise as elementwise_kernels
from numba_act._tiers import FAST

ELEMENTWISE = [name for name, entry in REGISTRY.items() if not entry.rowwise]
ROWWISE = [name for name, entry in REGISTRY.items() if entry.rowwise]

# ------------------------------------------------------------ exhaustive

# float64 formulas for the exhaustive checks, from libm: their errors lie
# far below a float32 ulp (gelu_tanh's t and gelu's x/sqrt(2) carry a
# rounding that the tail amplifies by |t| or x**2, below 1e-12 relatively
# wherever a float32 result is not 0).
_ROOT_HALF, _C, _K = math.sqrt(0.5), math.sqrt(2 / math.pi), 0.044715


@njit
def _sigmoid64(x):
    e = math.exp(-abs(x))
    return 1 / (1 + e) if x >= 0 else e / (1 + e)


@njit
def _exact64(which, x):
    if which == 0:
        return _sigmoid64(x)
    if which == 1:
        return math.tanh(x)
    if which == 2:
        return x if x >= 0 else math.expm1(x)
    if which == 3:
        return x * _sigmoid64(x) if x > -math.inf else -0.0
    if which == 4:
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
    if which == 5:
        return x * 0.5 * math.erfc(-x * _ROOT_HALF) if x > -math.inf else -0.0
    if which == 6:
        return x * _sigmoid64(2 * _C * (x + _K * x * x * x)) if abs(x) < 1e100 else max(x, -0.0)
    if which == 7:
        return x if x > 0 else 0.0
    return x if x >= 0 else x * 0.01


_WHICH = {
    name: k
    for k, name in enumerate(["sigmoid", "tanh", "elu", "silu", "softplus", "gelu", "gelu_tanh", "relu", "leaky_relu"])
}


@njit(parallel=True)
def _worst_ulp(which, x, got, smallest_subnormal, tiny, mant_bits):
    """(largest ulp distance, its index) of ``got`` from the float64 formula at ``x``;
    NaN must give NaN, and a zero the sign of the exact value."""
    blocks = 64
    size = (x.size + blocks - 1) // blocks
    worst = np.zeros(blocks)
    where = np.zeros(blocks, np.int64)
    for b in prange(blocks):
        for i in range(b * size, min(x.size, (b + 1) * size)):
            v = np.float64(x[i])
            g = np.float64(got[i])
            if v != v:
                d = 0.0 if g != g else math.inf
            else:
                exact = _exact64(which, v)
                if g == exact:
                    d = 0.0 if math.copysign(1.0, g) == math.copysign(1.0, exact) else math.inf
                elif not (abs(g) < math.inf and abs(exact) < math.inf):
                    d = math.inf
                elif g == 0 and math.copysign(1.0, g) != math.copysign(1.0, exact):
                    d = math.inf
                else:
                    mag = abs(exact)
                    if mag < tiny:
                        step = smallest_subnormal
                    else:
                        step = math.ldexp(1.0, math.frexp(mag)[1] - mant_bits - 1)
                    d = abs(g - exact) / step
            if not d <= worst[b]:
                worst[b] = d
                where[b] = i
    k = np.argmax(worst)
    return worst[k], where[k]


_EXHAUSTIVE = ["sigmoid", "tanh", "elu", "silu", "softplus", "gelu", "gelu_tanh"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "entry",
    [pytest.param(REGISTRY[name], id=name) for name in _EXHAUSTIVE]
    + [
        pytest.param(FAST.entry(REGISTRY[name]), id=f"fast-{name}")
        for name in _EXHAUSTIVE
        if FAST.entry(REGISTRY[name]) is not REGISTRY[name]
    ],
)
def test_float32_on_every_bit_pattern(entry):
    """All 2**32 float32 inputs within the bound of the float64 formula
    (the tier's), NaN for NaN."""
    name = entry.name
    info = np.finfo(np.float32)
    args = (float(info.smallest_subnormal), float(info.tiny), info.nmant)
    chunk = 1 << 24
    base = np.arange(chunk, dtype=np.uint32)
    bits = np.empty(chunk, np.uint32)
    out = np.empty(chunk, np.float32)
    forward = entry.forward
    worst, at = 0.0, 0.0
    for start in range(0, 1 << 32, chunk):
        np.add(base, np.uint32(start), out=bits)
        x = bits.view(np.float32)
        forward(x, out=out)
        distance, i = _worst_ulp(_WHICH[name], x, out, *args)
        if distance > worst:
            worst, at = distance, float(x[i])
    print(f"{entry.tier.name} {name} float32: worst {worst:.3f} ulp at x = {at!r}")
    assert worst <= forward_ulp(entry, np.float32), (worst, at)


_FLOAT16_ALL = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in ELEMENTWISE if name in _WHICH])
def test_float16_on_every_bit_pattern(name):
    """Every float16 input: computed in float32 and rounded once more, so
    within half a float16 ulp and the float32 error (2**-12 ulp) besides."""
    info = np.finfo(np.float16)
    got = getattr(numba_act, name)(_FLOAT16_ALL)
    assert got.dtype == np.float16
    # as float32 for the check, exactly: Numba has no float16 scalars
    x32, got32 = _FLOAT16_ALL.astype(np.float32), got.astype(np.float32)
    distance, i = _worst_ulp(_WHICH[name], x32, got32, float(info.smallest_subnormal), float(info.tiny), info.nmant)
    print(f"{name} float16: worst {distance:.4f} ulp at x = {_FLOAT16_ALL[i]!r}")
    assert distance <= 0.5 + 2**-11, (distance, _FLOAT16_ALL[i])


# ------------------------------------------------------------------ properties

_dtypes = st.sampled_from([np.float16, np.float32, np.float64, np.int32, np.bool_])
# 1-d sizes across the elementwise blocks, and where calls split over threads.
_B = elementwise_kernels._BLOCK
_LONG_SIZES = [k * _B + d for k in (1, 2, 3) for d in (-1, 0, 1)] + [_parallel.MIN_SIZE + d for d in (-1, 0, 1)]


def _values(dtype, finite=False):
    """Any value of ``dtype``: subnormals, the largest numbers, +-0, and unless ``finite`` +-inf and NaN."""
    if np.dtype(dtype).kind == "f":
        return st.floats(width=np.dtype(dtype).itemsize * 8, allow_nan=not finite, allow_infinity=not finite)
    if dtype is np.bool_:
        return st.booleans()
    return st.integers(np.iinfo(dtype).min, np.iinfo(dtype).max)


@st.composite
def _arrays(draw, min_dims=1, finite=False, long_sizes=_LONG_SIZES):
    """An array of any float/int/bool dtype, shape and layout (slices, reversal,
    transposition), or a long 1-d one across block boundaries, whose values
    reach the extremes."""
    dtype = draw(_dtypes)
    elements = _values(dtype, finite)
    if long_sizes and draw(st.integers(0, 4)) == 0:
        shape = draw(st.sampled_from(long_sizes))
    else:
        shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, max_side=7))
    base = draw(hnp.arrays(dtype, shape, elements=elements, fill=elements))
    view = base
    if view.ndim and draw(st.booleans()):
        view = view[::-1]
    if view.ndim > 1 and draw(st.booleans()):
        view = view.T
    if view.ndim and view.shape[0] > 1 and draw(st.booleans()):
        view = view[::2]
    return view


_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# float16 is computed in float32 and rounded once more: half a float16 ulp,
# and the float32 error, 2**-12 float16 ulp at most.
_BOUND_16 = 0.5 + 2**-11


def _result_dtype(dtype):
    return np.float64 if np.dtype(dtype).kind in "biu" else np.dtype(dtype)


# The layouts and dtypes exercise code every entry shares: the sample's entries
# by default, the others under -m slow.
def _sample_then_the_rest(names):
    sample = [name for name in names if name in SAMPLE]
    rest = [name for name in names if name not in SAMPLE]
    return pytest.mark.parametrize(
        "names", [pytest.param(sample, id="sample"), pytest.param(rest, id="rest", marks=pytest.mark.slow)]
    )


@_sample_then_the_rest(ELEMENTWISE)
@_settings
@given(x=_arrays(), data=st.data())
def test_elementwise_matches_the_reference_for_any_layout(names, x, data):
    name = data.draw(st.sampled_from(names))
    entry = case(name)
    before = x.copy()
    with np.errstate(over="ignore"):  # int32 and bool arrays to float64: exact
        got = entry.forward(x)
    np.testing.assert_array_equal(x, before)
    assert got.dtype == _result_dtype(x.dtype) and got.shape == x.shape
    exact = mp_forward(entry, x.astype(np.float64))
    bound = FORWARD_ULP.get(got.dtype, _BOUND_16)
    assert_ulp_close(got, exact, got.dtype, bound, x.astype(np.float64))
    np.testing.assert_array_equal(got, entry.forward(np.ascontiguousarray(x)))


@_sample_then_the_rest(ROWWISE)
@_settings
@given(x=_arrays(finite=True, long_sizes=[511, 512, 513, 1025]), data=st.data())
def test_softmax_family_along_any_axis(names, x, data):
    name = data.draw(st.sampled_from(names))
    entry = REGISTRY[name]
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    before = x.copy()
    got = entry.forward(x, axis)
    np.testing.assert_array_equal(x, before)
    assert got.dtype == _result_dtype(x.dtype) and got.shape == x.shape
    probabilities = np.exp(got.astype(np.float64)) if name == "log_softmax" else got.astype(np.float64)
    tolerance = 2e-3 if got.dtype == np.float16 else 4 * np.finfo(got.dtype).eps
    np.testing.assert_allclose(probabilities.sum(axis=axis), 1, rtol=tolerance * x.shape[axis])
    exact = mp_rows(TABLE[name].forward, x.astype(np.float64), axis)
    bound = ROW_ULP_BY_DTYPE.get(got.dtype, _BOUND_16)
    # No rule gives the sign of an exact 0 of log_softmax: magnitudes only.
    assert_ulp_close(got, exact, got.dtype, bound, signed_zeros=False)


@_settings
@given(
    x=hnp.arrays(np.float64, st.integers(2, 50), elements=st.floats(-1e6, 1e6)),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_sigmoid_is_monotone_and_in_the_unit_interval(x, dtype):
    x = np.sort(x.astype(dtype))
    s = numba_act.sigmoid(x)
    assert ((s >= 0) & (s <= 1)).all()
    assert (np.diff(s.astype(np.float64)) >= 0).all()


@_sample_then_the_rest(list(REGISTRY))  # each entry with its defaults
@_settings
@given(
    z=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=6), elements=st.floats(-4, 4)),
    data=st.data(),
)
def test_vjp_matches_central_differences(names, z, data):
    name = data.draw(st.sampled_from(names))
    entry = case(name)
    g = data.draw(hnp.arrays(np.float64, z.shape, elements=st.floats(-2, 2)))
    # Keep away from the kinks, where the difference quotient straddles two slopes.
    kinks = np.array(TABLE[name].cuts(np.float64) + [0.0] if not entry.rowwise else [0.0])
    near = (np.abs(np.abs(z)[..., None] - kinks) < 1e-3).any(axis=-1)
    z = np.where(near, 0.25, z)
    a = entry.forward(z)
    got = numba_act.activation_backward(z, a, name, g, **getattr(entry, "named", {}))
    np.testing.assert_allclose(got, numeric_vjp(entry.forward, z, g), rtol=1e-5, atol=1e-7)
