"""Every documented error, for every entry point it applies to: the right
exception type with a useful message, raised before anything is written,
and never a crash.
"""

import numpy as np
import pytest
from conftest import ROWWISE, entry_params

import numba_act
from numba_act import NAMES, REGISTRY, activation_backward, activation_forward

every_entry = pytest.mark.parametrize("entry", entry_params(REGISTRY.values()))
rowwise = pytest.mark.parametrize("entry", entry_params(ROWWISE))


def _entry_points(entry, x):
    """Every way to reach ``entry`` with the bad ``x`` in every array argument."""
    return {
        "forward": lambda: entry.forward(x),
        "by_name": lambda: activation_forward(x, entry.name),
        "public": lambda: getattr(numba_act, entry.name)(x),
        "derivative": lambda: entry.derivative(x, x),
        "vjp": lambda: entry.vjp(x, x, x),
        "backward_by_name": lambda: activation_backward(x, x, entry.name),
        "backward_by_name_with_grad": lambda: activation_backward(x, x, entry.name, x),
    }


def _all_raise(entry, x, error, match=None):
    for where, call in _entry_points(entry, x).items():
        with pytest.raises(error, match=match):
            call()
            pytest.fail(f"{where} accepted {x!r}")


# ---------------------------------------------------------------- the input


@every_entry
def test_complex_input(entry):
    _all_raise(entry, np.array([1 + 1j, 2.0]), TypeError, "float32")


@every_entry
def test_object_input(entry):
    _all_raise(entry, np.array([1.0, 2.0], dtype=object), TypeError, "float32")


@every_entry
@pytest.mark.parametrize("value", ["1.0", b"1.0", np.array(["1.0", "2.0"])], ids=["str", "bytes", "str_array"])
def test_str_input(entry, value):
    _all_raise(entry, value, TypeError)


@every_entry
def test_none_input(entry):
    _all_raise(entry, None, TypeError)


@every_entry
def test_ragged_list(entry):
    _all_raise(entry, [[1.0, 2.0], [3.0]], ValueError, "rectangular")


def test_sigmoid_derivative_and_relu_derivative_reject_the_same():
    for f in (numba_act.sigmoid_derivative_from_activation, numba_act.relu_derivative_from_pre_activation):
        for bad, error in ((np.array([1j]), TypeError), (None, TypeError), ("x", TypeError), ([[1.0], []], ValueError)):
            with pytest.raises(error):
                f(bad)


# -------------------------------------------------------------------- out=


def _out_calls(entry, x, out):
    return [
        lambda: entry.forward(x, out=out),
        lambda: activation_forward(x, entry.name, out),
        lambda: activation_backward(x, x, entry.name, out=out),
        lambda: activation_backward(x, x, entry.name, x, out=out),
    ]


@every_entry
@pytest.mark.parametrize(
    "make_out, error",
    [
        pytest.param(lambda: np.full((2, 3), 7.0), ValueError, id="transposed_shape"),
        pytest.param(lambda: np.full((6,), 7.0), ValueError, id="fewer_dims"),
        pytest.param(lambda: np.full((1, 3, 2), 7.0), ValueError, id="more_dims"),
        pytest.param(lambda: np.full((3, 2), 7.0, np.float32), TypeError, id="float32_for_float64"),
        pytest.param(lambda: np.full((3, 2), 7, np.int64), TypeError, id="int_dtype"),
        pytest.param(lambda: [[7.0] * 2] * 3, TypeError, id="a_list"),
    ],
)
def test_bad_out(entry, make_out, error):
    x = np.linspace(-1, 1, 6).reshape(3, 2)
    for k in range(len(_out_calls(entry, x, None))):
        out = make_out()
        before = np.array(out, copy=True)
        with pytest.raises(error):
            _out_calls(entry, x, out)[k]()
        np.testing.assert_array_equal(out, before)


@every_entry
def test_read_only_out(entry):
    x = np.linspace(-1, 1, 6).reshape(3, 2)
    out = np.full(x.shape, 7.0)
    out.flags.writeable = False
    for call in _out_calls(entry, x, out):
        with pytest.raises(ValueError):
            call()
    assert (out == 7).all()


# -------------------------------------------------------------------- axis


@rowwise
@pytest.mark.parametrize("axis", [2, -3, 10, -100])
def test_axis_out_of_range(entry, axis):
    x = np.zeros((2, 3))
    calls = [
        lambda: entry.forward(x, axis=axis),
        lambda: activation_forward(x, entry.name, axis=axis),
        lambda: entry.vjp(x, x, x, axis=axis),
        lambda: activation_backward(x, x, entry.name, x, axis=axis),
    ]
    for call in calls:
        with pytest.raises(np.exceptions.AxisError):
            call()


@rowwise
def test_axis_out_of_range_for_0d_input(entry):
    # a 0-d input is a row of one: axis 0 and -1 are valid, 1 is not
    assert entry.forward(np.float64(2.0), axis=0) == entry.forward(np.float64(2.0))
    with pytest.raises(np.exceptions.AxisError):
        entry.forward(np.float64(2.0), axis=1)


@rowwise
@pytest.mark.parametrize(
    "axis", [1.0, "0", None, (0,), np.float64(1)], ids=["float", "str", "None", "tuple", "numpy_float"]
)
def test_non_integer_axis(entry, axis):
    x = np.zeros((2, 3))
    for call in (lambda: entry.forward(x, axis=axis), lambda: activation_forward(x, entry.name, axis=axis)):
        with pytest.raises(TypeError, match="axis"):
            call()


@rowwise
def test_numpy_integer_axis_is_fine(entry):
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    np.testing.assert_array_equal(entry.forward(x, axis=np.int64(0)), entry.forward(x, axis=0))


# -------------------------------------------------------------------- names


def test_unknown_name():
    with pytest.raises(ValueError, match="valid names") as info:
        activation_forward(np.zeros(2), "swish2")
    assert all(name in str(info.value) for name in NAMES)
    with pytest.raises(ValueError, match="valid names"):
        activation_backward(np.zeros(2), np.zeros(2), "swish2")


@pytest.mark.parametrize("name", [None, 1, b"relu", ("relu",)])
def test_non_str_name(name):
    with pytest.raises(TypeError, match="str"):
        activation_forward(np.zeros(2), name)
    with pytest.raises(TypeError, match="str"):
        activation_backward(np.zeros(2), np.zeros(2), name)


# ------------------------------------------------------------------ shapes


@every_entry
def test_shape_mismatch_between_z_a_and_grad(entry):
    z = np.zeros((2, 3))
    for a, grad in ((np.zeros((3, 2)), z), (z, np.zeros((2, 4))), (np.zeros(6), np.zeros(6)), (z, np.zeros((1, 3)))):
        if a.shape != z.shape:
            with pytest.raises(ValueError):
                entry.derivative(z, a)
            with pytest.raises(ValueError):
                activation_backward(z, a, entry.name)
        with pytest.raises(ValueError):
            entry.vjp(z, a, grad)
        with pytest.raises(ValueError):
            activation_backward(z, a, entry.name, grad)


# -------------------------------------------------------------------- gelu


@pytest.mark.parametrize("approximate", ["bogus", "Tanh", "", None, 1.5])
def test_gelu_bad_approximate(approximate):
    with pytest.raises(ValueError, match="approximate"):
        numba_act.gelu(np.zeros(3), approximate=approximate)
