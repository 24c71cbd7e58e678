"""numba_act.register: a user's activation from two @njit scalar functions
gets every entry point a built-in elementwise one has.

Registering changes the package's registry for the rest of the process, so
each test runs its script in a fresh interpreter.
"""

import textwrap

from conftest import run_python

_SETUP = """
import pickle
import numpy as np
import numba
import numba_act as na
from numba import njit, prange
from numba_act import _parallel, layers

@njit(inline="always")
def squash(x):
    return x / (type(x)(1.0) + abs(x))

@njit(inline="always")
def squash_derivative(z, a):
    d = type(z)(1.0) + abs(z)
    return type(z)(1.0) / (d * d)

f = na.register("squash", squash, squash_derivative, formula="x / (1 + |x|)")

def exact(x):
    return x / (1 + np.abs(x))

def exact_derivative(z):
    return 1 / (1 + np.abs(z)) ** 2
"""


def _run(body):
    return run_python(textwrap.dedent(_SETUP) + textwrap.dedent(body))


def test_the_array_function_derivative_and_vjp():
    _run(
        """
        entry = na.REGISTRY["squash"]
        assert f is entry.forward and "x / (1 + |x|)" in f.__doc__
        for dtype in (np.float32, np.float64):
            x = np.linspace(-50, 50, 1001).astype(dtype)
            a = f(x)
            assert a.dtype == dtype
            np.testing.assert_allclose(a, exact(x.astype(np.float64)), rtol=4 * np.finfo(dtype).eps)
            d = entry.derivative(x, a)
            assert d.dtype == dtype
            np.testing.assert_allclose(d, exact_derivative(x.astype(np.float64)), rtol=8 * np.finfo(dtype).eps)
            g = np.linspace(1, 2, x.size).astype(dtype)
            np.testing.assert_array_equal(entry.vjp(x, a, g), g * d)
            out = np.empty_like(x)
            assert f(x, out=out) is out and (out == a).all()
            y = x.copy()
            assert f(y, out=y) is y and (y == a).all()  # in place
            np.testing.assert_array_equal(f(x[::-2]), a[::-2])  # any layout
        assert f(np.arange(3)).dtype == np.float64 and f(2) == np.float64(2 / 3)
        big = np.linspace(-5, 5, 2 * _parallel.MIN_SIZE)  # split over threads
        np.testing.assert_array_equal(f(big), exact(big))
        """
    )


def test_by_name_from_python_and_njit_and_in_prange():
    _run(
        """
        assert "squash" in na.NAMES and na.NAMES[-1] == "squash"
        assert na.ACTIVATIONS["squash"]["forward"] is f
        x = np.linspace(-3, 3, 12).reshape(3, 4)
        a = na.activation_forward(x, "squash")
        np.testing.assert_array_equal(a, f(x))
        g = np.ones_like(x)
        vjp = na.REGISTRY["squash"].vjp(x, a, g)
        np.testing.assert_array_equal(na.activation_backward(x, a, "squash", grad=g), vjp)

        @njit
        def step(x, g):
            a = na.activation_forward(x, "squash")
            return a, na.activation_backward(x, a, "squash", grad=g)

        got_a, got_g = step(x, g)
        np.testing.assert_array_equal(got_a, a)
        np.testing.assert_array_equal(got_g, vjp)

        @njit(parallel=True)
        def loop(x, out):
            for i in prange(x.size):
                out[i] = f(x[i])
            return out

        flat = x.ravel()
        np.testing.assert_array_equal(loop(flat, np.empty_like(flat)), f(flat))
        """
    )


def test_layer_pickle_and_refusals():
    _run(
        """
        layer = layers.activation_layer("squash")
        x = np.linspace(-3, 3, 12).reshape(3, 4).astype(np.float32)
        np.testing.assert_array_equal(layer.forward(x), f(x))
        assert layer.backward(np.ones_like(x)).dtype == np.float32
        for function in (f, na.REGISTRY["squash"].derivative, na.REGISTRY["squash"].vjp):
            assert pickle.loads(pickle.dumps(function)) is function
        for name in ("squash", "relu", "sigmoid_derivative", "not a name", "lookup"):
            try:
                na.register(name, squash, squash_derivative)
            except ValueError:
                pass
            else:
                raise AssertionError(name)
        for forward in (lambda x: x, np.tanh):
            try:
                na.register("other", forward, squash_derivative)
            except TypeError:
                pass
            else:
                raise AssertionError(forward)
        assert "other" not in na.REGISTRY
        try:
            na.register("other", squash, squash_derivative, weight_init="lecun")
        except ValueError:
            pass
        else:
            raise AssertionError("weight_init")
        assert na.REGISTRY["squash"].weight_init == "glorot"
        na.register("squash_he", squash, squash_derivative, weight_init="he")
        assert na.REGISTRY["squash_he"].weight_init == "he"
        """
    )
