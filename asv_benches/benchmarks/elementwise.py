"""Elementwise activations: forward, local derivative and vector-Jacobian
product of every elementwise registry entry, beside the NumPy seed formulas
and scipy.special, for float32/float64 and 1e3 to 1e6 elements.  An entry
with parameters runs with those of ``common.BENCH_PARAMS`` or its defaults,
passed in order after the arrays (and before ``out``, as the functions take
them)."""

import numpy as np

from .common import (
    BACKWARD_IMPLS,
    DTYPES,
    ELEMENTWISE,
    IMPLS,
    SIZES,
    Timing,
    attr,
    cached,
    data,
    entry,
    in_tier,
    one_thread,
    params,
    reset_peak_rss,
    scipy_function,
)


def _forward_call(name, impl, dtype, size):
    """(function, arguments) of one forward call, warmed up."""
    x = data(size, dtype)
    if impl == "scipy":
        fn, args = scipy_function(name), (x,)
    else:
        found = in_tier(entry(name, rowwise=False), impl)
        values = params(found)
        if impl in ("numba_act", "numba_act_fast"):
            fn, args = found.forward, (x, *values)
        elif impl == "numba_act_out":
            fn, args = found.forward, (x, *values, np.empty_like(x))
        else:
            fn, args = attr(found, "reference"), (x, *values)
    fn(*args)  # compiles numba_act's kernel for this dtype
    return fn, args


def _backward_calls(name, impl, dtype, size):
    """{"derivative": (fn, args), "vjp": (fn, args)}, warmed up."""
    found = in_tier(entry(name, rowwise=False), impl)
    values = params(found)
    z = data(size, dtype)
    a = np.asarray(found.forward(z, *values))
    g = data(size, dtype, seed=1, scale=1.0)
    if impl == "numpy":
        calls = {
            "derivative": (attr(found, "reference_derivative"), (z, a, *values)),
            "vjp": (attr(found, "reference_vjp"), (z, a, g, *values)),
        }
    else:
        out = (np.empty_like(z),) if impl == "numba_act_out" else ()
        calls = {
            "derivative": (attr(found, "derivative"), (z, a, *values, *out)),
            "vjp": (attr(found, "vjp"), (z, a, g, *values, *out)),
        }
    for fn, args in calls.values():
        fn(*args)
    return calls


class Forward(Timing):
    params = [IMPLS, ELEMENTWISE, DTYPES, SIZES]
    param_names = ["impl", "name", "dtype", "size"]

    def setup(self, impl, name, dtype, size):
        one_thread()
        self.fn, self.args = cached(
            ("elementwise.forward", name, impl, dtype, size), lambda: _forward_call(name, impl, dtype, size)
        )

    def time_forward(self, impl, name, dtype, size):
        self.fn(*self.args)


class Backward(Timing):
    params = [BACKWARD_IMPLS, ELEMENTWISE, DTYPES, SIZES]
    param_names = ["impl", "name", "dtype", "size"]

    def setup(self, impl, name, dtype, size):
        one_thread()
        calls = cached(
            ("elementwise.backward", name, impl, dtype, size), lambda: _backward_calls(name, impl, dtype, size)
        )
        self.derivative, self.derivative_args = calls["derivative"]
        self.vjp, self.vjp_args = calls["vjp"]

    def time_derivative(self, impl, name, dtype, size):
        self.derivative(*self.derivative_args)

    def time_vjp(self, impl, name, dtype, size):
        self.vjp(*self.vjp_args)


class PeakMem:
    """Peak RSS of one forward call on 1e7 elements.  numba_act allocates
    only its result, so "numba_act" and "numba_act_out" (result allocated in
    setup) should match; the NumPy formulas' temporaries show above them."""

    params = [ELEMENTWISE, ["numba_act", "numba_act_out", "numpy"], DTYPES]
    param_names = ["name", "impl", "dtype"]

    def setup(self, name, impl, dtype):
        found = entry(name, rowwise=False)
        values = params(found)
        x = data(10**7, dtype)
        # Every process loads numba_act's kernel, so that the numbers differ
        # only by what the call itself allocates.
        found.forward(x, *values)
        if impl == "numba_act":
            self.fn, self.args = found.forward, (x, *values)
        elif impl == "numba_act_out":
            self.fn, self.args = found.forward, (x, *values, np.empty_like(x))
        else:
            self.fn, self.args = attr(found, "reference"), (x, *values)
        reset_peak_rss()

    def peakmem_forward(self, name, impl, dtype):
        self.fn(*self.args)
