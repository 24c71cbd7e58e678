"""Accuracy proven beyond samples, and properties that hold for any input.

The exhaustive check of float32 sigmoid runs under ``-m slow``; the property
tests draw shapes, strides, dtypes and axes with hypothesis.
"""

import numpy as np
import pytest
from conftest import MP_FORWARD, MP_ROWWISE, mp_evaluate, mp_rows, ulp_distance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import numba_act
from numba_act import REGISTRY

ELEMENTWISE = [name for name, entry in REGISTRY.items() if not entry.rowwise]
ROWWISE = [name for name, entry in REGISTRY.items() if entry.rowwise]


def _sigmoid_float64(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@pytest.mark.slow
def test_float32_sigmoid_on_every_bit_pattern():
    """All 2**32 float32 inputs: within 2 ulp of float64 arithmetic (itself
    within 1e-16, far below a float32 ulp), NaN for NaN, in [0, 1]."""
    chunk = 1 << 24
    worst = 0.0
    out = np.empty(chunk, np.float32)
    for start in range(0, 1 << 32, chunk):
        x = np.arange(start, start + chunk, dtype=np.uint64).astype(np.uint32).view(np.float32)
        numba_act.sigmoid(x, out=out)
        nan = np.isnan(x)
        assert np.isnan(out[nan]).all()
        got, xs = out[~nan], x[~nan]
        assert ((got >= 0) & (got <= 1)).all()
        distance = ulp_distance(got, _sigmoid_float64(xs.astype(np.float64)), np.float32)
        worst = max(worst, float(distance.max()))
    assert worst <= 2, worst


# ------------------------------------------------------------------ properties

_dtypes = st.sampled_from([np.float16, np.float32, np.float64, np.int32, np.bool_])


@st.composite
def _arrays(draw, min_dims=1, elements=None):
    """An array of any float/int/bool dtype, shape and layout (slices, reversal, transposition)."""
    dtype = draw(_dtypes)
    if elements is None:
        if np.dtype(dtype).kind == "f":
            elements = st.floats(-60, 60, width=np.dtype(dtype).itemsize * 8)
        elif dtype is np.bool_:
            elements = st.booleans()
        else:
            elements = st.integers(-50, 50)
    base = draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=min_dims, max_dims=3, max_side=7), elements=elements))
    view = base
    if view.ndim and draw(st.booleans()):
        view = view[::-1]
    if view.ndim > 1 and draw(st.booleans()):
        view = view.T
    if view.ndim and view.shape[0] > 1 and draw(st.booleans()):
        view = view[::2]
    return view


_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _result_dtype(dtype):
    return np.float64 if np.dtype(dtype).kind in "biu" else np.dtype(dtype)


@_settings
@given(x=_arrays(), name=st.sampled_from(ELEMENTWISE))
def test_elementwise_matches_the_reference_for_any_layout(x, name):
    entry = REGISTRY[name]
    before = x.copy()
    got = entry.forward(x)
    np.testing.assert_array_equal(x, before)
    assert got.dtype == _result_dtype(x.dtype) and got.shape == x.shape
    exact = mp_evaluate(MP_FORWARD[name], x.astype(np.float64))
    bound = {np.float16: 1, np.float32: 2, np.float64: 3}[got.dtype.type]
    assert (ulp_distance(got, exact, got.dtype) <= bound).all()
    np.testing.assert_array_equal(got, entry.forward(np.ascontiguousarray(x)))


@_settings
@given(x=_arrays(), name=st.sampled_from(ROWWISE), data=st.data())
def test_softmax_family_along_any_axis(x, name, data):
    entry = REGISTRY[name]
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    before = x.copy()
    got = entry.forward(x, axis)
    np.testing.assert_array_equal(x, before)
    assert got.dtype == _result_dtype(x.dtype) and got.shape == x.shape
    probabilities = np.exp(got.astype(np.float64)) if name == "log_softmax" else got.astype(np.float64)
    tolerance = 2e-3 if got.dtype == np.float16 else 8 * np.finfo(got.dtype).eps
    np.testing.assert_allclose(probabilities.sum(axis=axis), 1, rtol=tolerance * x.shape[axis])
    exact = mp_rows(MP_ROWWISE[name], x.astype(np.float64), axis)
    np.testing.assert_allclose(got.astype(np.float64), exact, rtol=tolerance, atol=tolerance * 1e-3)


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


@_settings
@given(
    z=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=6), elements=st.floats(-4, 4)),
    name=st.sampled_from(list(REGISTRY)),
    data=st.data(),
)
def test_vjp_matches_central_differences(z, name, data):
    entry = REGISTRY[name]
    g = data.draw(hnp.arrays(np.float64, z.shape, elements=st.floats(-2, 2)))
    # Keep away from relu-type kinks, where the difference quotient straddles two slopes.
    z = np.where(np.abs(z) < 1e-3, 0.5, z)
    a = entry.forward(z)
    got = numba_act.activation_backward(z, a, name, g)
    h = 1e-6
    numeric = np.empty_like(z)
    for i in np.ndindex(z.shape):
        step = np.zeros_like(z)
        step[i] = h
        numeric[i] = np.sum(g * (entry.forward(z + step) - entry.forward(z - step))) / (2 * h)
    np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-7)
