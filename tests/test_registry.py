"""The registry and by-name dispatch (numba_act.registry): activation_forward
and activation_backward for every name, and their errors.
"""

import numpy as np
import pytest
from conftest import ELEMENTWISE, assert_unchanged, case, entry_params, snapshot

import numba_act
from numba_act import NAMES, REGISTRY, activation_backward, activation_forward

every_entry = pytest.mark.parametrize("entry", entry_params([case(name) for name in REGISTRY], sample=True))


def _inputs(dtype, seed=0):
    rng = np.random.default_rng(seed)
    z = (rng.normal(size=(3, 5)) * 3).astype(dtype)
    return z, rng.normal(size=z.shape).astype(dtype)


def test_registry_shape():
    assert tuple(REGISTRY) == NAMES
    for name, entry in REGISTRY.items():
        assert entry.name == name
        for attr in ("forward", "derivative", "vjp", "reference", "reference_derivative", "reference_vjp"):
            assert callable(getattr(entry, attr)), (name, attr)
        if entry.rowwise:
            assert entry.scalar is None and entry.scalar_derivative is None
        else:
            assert callable(entry.scalar) and callable(entry.scalar_derivative)


@every_entry
def test_forward_by_name_is_the_function(entry, dtype):
    p = getattr(entry, "named", {})  # threshold's parameters are required
    z, _ = _inputs(dtype)
    expected = getattr(numba_act, entry.name)(z, **p)
    np.testing.assert_array_equal(activation_forward(z, entry.name, **p), expected, strict=True)
    np.testing.assert_array_equal(entry.forward(z), expected, strict=True)


@every_entry
def test_backward_by_name(entry, dtype):
    p = getattr(entry, "named", {})  # threshold's parameters are required
    z, g = _inputs(dtype)
    a = activation_forward(z, entry.name, **p)
    inputs = snapshot(z, a, g)
    local = activation_backward(z, a, entry.name, **p)
    if entry.rowwise:
        np.testing.assert_array_equal(local, np.ones_like(a), strict=True)
    else:
        np.testing.assert_array_equal(local, entry.derivative(z, a), strict=True)
    with_grad = activation_backward(z, a, entry.name, g, **p)
    np.testing.assert_array_equal(with_grad, entry.vjp(z, a, g), strict=True)
    np.testing.assert_array_equal(activation_backward(z, a, entry.name, grad=g, **p), with_grad, strict=True)
    assert_unchanged(inputs)


@pytest.mark.parametrize("entry", entry_params(ELEMENTWISE, sample=True))
def test_backward_with_grad_is_grad_times_local_derivative(entry):
    p = getattr(entry, "named", {})  # threshold's parameters are required
    z, g = _inputs(np.float64, seed=1)
    a = activation_forward(z, entry.name, **p)
    np.testing.assert_allclose(
        activation_backward(z, a, entry.name, g, **p),
        g * activation_backward(z, a, entry.name, **p),
        rtol=4e-16,
        atol=0,
    )


@every_entry
def test_backward_out(entry):
    p = getattr(entry, "named", {})  # threshold's parameters are required
    z, g = _inputs(np.float64, seed=2)
    a = activation_forward(z, entry.name, **p)
    for grad in (None, g):
        expected = activation_backward(z, a, entry.name, grad, **p)
        out = np.full(z.shape, 7.0)
        assert activation_backward(z, a, entry.name, grad, out=out, **p) is out
        np.testing.assert_array_equal(out, expected)
    # in place, over the incoming gradient
    expected = activation_backward(z, a, entry.name, g, **p)
    g_copy = g.copy()
    assert activation_backward(z, a, entry.name, g_copy, out=g_copy, **p) is g_copy
    np.testing.assert_array_equal(g_copy, expected)


@every_entry
def test_forward_out_by_name(entry):
    p = getattr(entry, "named", {})  # threshold's parameters are required
    z, _ = _inputs(np.float64, seed=3)
    out = np.full(z.shape, 7.0)
    assert activation_forward(z, entry.name, out, **p) is out
    np.testing.assert_array_equal(out, activation_forward(z, entry.name, **p))


def test_axis_reaches_the_rowwise_functions():
    z = np.random.default_rng(4).normal(size=(3, 4, 5))
    g = np.random.default_rng(5).normal(size=z.shape)
    for entry in REGISTRY.values():
        for axis in (0, 1, -1, -3):
            if entry.rowwise:
                a = entry.forward(z, axis=axis)
                np.testing.assert_array_equal(activation_forward(z, entry.name, axis=axis), a)
                np.testing.assert_array_equal(
                    activation_backward(z, a, entry.name, g, axis=axis), entry.vjp(z, a, g, axis=axis)
                )
            else:  # ignored by the elementwise ones
                bound = case(entry.name)
                np.testing.assert_array_equal(
                    activation_forward(z, entry.name, axis=axis, **bound.named), bound.forward(z)
                )
    # axis 0 really is a different reduction from the last axis
    assert not np.allclose(activation_forward(z, "softmax", axis=0), activation_forward(z, "softmax"))
    np.testing.assert_allclose(activation_forward(z, "softmax", axis=0).sum(axis=0), 1.0, rtol=1e-15)


@pytest.mark.parametrize("name", ["nope", "Sigmoid", "", "relu ", "soft_max"])
def test_unknown_name_raises_value_error_listing_the_names(name):
    z = np.zeros(3)
    for call in (lambda: activation_forward(z, name), lambda: activation_backward(z, z, name)):
        with pytest.raises(ValueError) as info:
            call()
        message = str(info.value)
        assert repr(name) in message
        for valid in NAMES:
            assert valid in message


@pytest.mark.parametrize("name", [None, 1, b"relu", ["relu"], np.str_("relu").encode()])
def test_non_str_name_raises_type_error(name):
    z = np.zeros(3)
    with pytest.raises(TypeError):
        activation_forward(z, name)
    with pytest.raises(TypeError):
        activation_backward(z, z, name)


def test_str_subclass_name_works():
    class Name(str):
        pass

    z = np.linspace(-1, 1, 5)
    np.testing.assert_array_equal(activation_forward(z, Name("relu")), activation_forward(z, "relu"))
    np.testing.assert_array_equal(activation_forward(z, np.str_("softmax")), activation_forward(z, "softmax"))
