"""The softmax family along the last axis: forward, local derivative and
vector-Jacobian product of every row-wise registry entry, beside the NumPy
seed formulas and scipy.special, on a classifier head (32, 10), a
medium batch (256, 1000) and a GPT-2-sized vocabulary (64, 50257)."""

import numpy as np

from .common import (
    BACKWARD_IMPLS,
    DTYPES,
    IMPLS,
    ROWWISE,
    SHAPES,
    Timing,
    attr,
    cached,
    data,
    entry,
    in_tier,
    one_thread,
    reset_peak_rss,
    scipy_function,
)


def _forward_call(name, impl, dtype, shape):
    """(function, arguments) of one forward call along the last axis, warmed up."""
    x = data(shape, dtype)
    if impl == "scipy":
        fn, args = scipy_function(name), (x,)
    else:
        found = in_tier(entry(name, rowwise=True), impl)
        if impl in ("numba_act", "numba_act_fast"):
            fn, args = found.forward, (x,)
        elif impl == "numba_act_out":
            fn, args = found.forward, (x, -1, np.empty_like(x))
        else:
            fn, args = attr(found, "reference"), (x,)
    fn(*args)
    return fn, args


def _backward_calls(name, impl, dtype, shape):
    """{"derivative": (fn, args), "vjp": (fn, args)}, warmed up."""
    found = in_tier(entry(name, rowwise=True), impl)
    z = data(shape, dtype)
    a = np.asarray(found.forward(z))
    g = data(shape, dtype, seed=1, scale=1.0)
    if impl == "numpy":
        calls = {
            "derivative": (attr(found, "reference_derivative"), (z, a)),
            "vjp": (attr(found, "reference_vjp"), (z, a, g)),
        }
    else:
        out = np.empty_like(z) if impl == "numba_act_out" else None
        calls = {
            "derivative": (attr(found, "derivative"), (z, a) if out is None else (z, a, out)),
            "vjp": (attr(found, "vjp"), (z, a, g) if out is None else (z, a, g, -1, out)),
        }
    for fn, args in calls.values():
        fn(*args)
    return calls


class Forward(Timing):
    params = [IMPLS, ROWWISE, DTYPES, SHAPES]
    param_names = ["impl", "name", "dtype", "shape"]

    def setup(self, impl, name, dtype, shape):
        one_thread()
        self.fn, self.args = cached(
            ("rowwise.forward", name, impl, dtype, shape), lambda: _forward_call(name, impl, dtype, shape)
        )

    def time_forward(self, impl, name, dtype, shape):
        self.fn(*self.args)


class Backward(Timing):
    params = [BACKWARD_IMPLS, ROWWISE, DTYPES, SHAPES]
    param_names = ["impl", "name", "dtype", "shape"]

    def setup(self, impl, name, dtype, shape):
        one_thread()
        calls = cached(
            ("rowwise.backward", name, impl, dtype, shape), lambda: _backward_calls(name, impl, dtype, shape)
        )
        self.derivative, self.derivative_args = calls["derivative"]
        self.vjp, self.vjp_args = calls["vjp"]

    def time_derivative(self, impl, name, dtype, shape):
        self.derivative(*self.derivative_args)

    def time_vjp(self, impl, name, dtype, shape):
        self.vjp(*self.vjp_args)


class PeakMem:
    """Peak RSS of one forward call on (64, 50257): numba_act allocates only
    its result, so "numba_act" and "numba_act_out" should match; the NumPy
    formulas' and scipy's temporaries show above them."""

    params = [ROWWISE, ["numba_act", "numba_act_out", "numpy", "scipy"], DTYPES]
    param_names = ["name", "impl", "dtype"]

    def setup(self, name, impl, dtype):
        found = entry(name, rowwise=True)
        x = data((64, 50257), dtype)
        # Every process loads numba_act's kernel, so that the numbers differ
        # only by what the call itself allocates.
        found.forward(x)
        if impl == "numba_act":
            self.fn, self.args = found.forward, (x,)
        elif impl == "numba_act_out":
            self.fn, self.args = found.forward, (x, -1, np.empty_like(x))
        elif impl == "numpy":
            self.fn, self.args = attr(found, "reference"), (x,)
        else:
            self.fn, self.args = scipy_function(name), (x,)
        reset_peak_rss()

    def peakmem_forward(self, name, impl, dtype):
        self.fn(*self.args)
