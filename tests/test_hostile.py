"""Hostile input, as a matrix: every public function that takes arrays, with
every kind of bad argument in every array position, with and without an
``out``.

Each call must raise the documented exception with a message that says what
is wrong (and names the argument), before anything is written: ``out``
keeps its sentinel values and the other inputs are untouched.
test_bad_input.py holds the per-rule tests; this file sweeps the whole
cross product, including the helpers of numba_act.api and the layers.
"""

import re
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import assert_unchanged, snapshot
from numpy.lib.stride_tricks import as_strided

import numba_act
from numba_act import NAMES, REGISTRY, activation_backward, activation_forward
from numba_act.layers import LAYERS, activation_layer

SHAPE = (2, 3)
SENTINEL = -12345.0


@dataclass(frozen=True)
class Target:
    """A public function, as ``call(*arrays, **keywords)`` with its array arguments named as its messages name them."""

    id: str
    call: object
    names: tuple
    rowwise: bool = False
    # Positions where None is valid: z of the row-wise backward passes, which
    # do not use it, and the grad of activation_backward (None: no grad).
    none_ok: tuple = ()


def _targets():
    targets = []
    for name, entry in REGISTRY.items():
        rw = entry.rowwise
        z = (0,) if rw else ()
        targets += [
            Target(f"{name}.forward", lambda x, _e=entry, **k: _e.forward(x, **k), ("x",), rw),
            Target(f"{name}.derivative", lambda z, a, _e=entry, **k: _e.derivative(z, a, **k), ("z", "a"), False, z),
            Target(f"{name}.vjp", lambda z, a, g, _e=entry, **k: _e.vjp(z, a, g, **k), ("z", "a", "grad"), rw, z),
            Target(f"activation_forward[{name}]", lambda x, _n=name, **k: activation_forward(x, _n, **k), ("x",), rw),
            Target(
                f"activation_backward[{name}]",
                lambda z, a, _n=name, **k: activation_backward(z, a, _n, **k),
                ("z", "a"),
                False,
                z,
            ),
            Target(
                f"activation_backward_with_grad[{name}]",
                lambda z, a, g, _n=name, **k: activation_backward(z, a, _n, g, **k),
                ("z", "a", "grad"),
                rw,
                (*z, 2),
            ),
        ]
    targets += [
        Target("gelu", lambda x, **k: numba_act.gelu(x, **k), ("x",)),
        Target("gelu[tanh]", lambda x, **k: numba_act.gelu(x, approximate="tanh", **k), ("x",)),
        Target("sigmoid_derivative_from_activation", numba_act.sigmoid_derivative_from_activation, ("a",)),
        Target("relu_derivative_from_pre_activation", numba_act.relu_derivative_from_pre_activation, ("z",)),
    ]
    return targets


TARGETS = _targets()
ROWWISE_TARGETS = [t for t in TARGETS if t.rowwise]
every_target = pytest.mark.parametrize("target", [pytest.param(t, id=t.id) for t in TARGETS])
rowwise_target = pytest.mark.parametrize("target", [pytest.param(t, id=t.id) for t in ROWWISE_TARGETS])

_ACCEPTS = re.escape("numba_act accepts float16, float32, float64, integer or bool input")

# Each bad argument: (maker, exception, the message after the argument's name).
BAD_INPUTS = {
    "complex": (lambda: np.ones(SHAPE, complex), TypeError, "has dtype complex128; " + _ACCEPTS),
    "complex_list": (lambda: [[1j, 0.0, 1.0], [0.0, 1.0, 2.0]], TypeError, "has dtype complex128"),
    "complex_scalar": (lambda: 1 + 2j, TypeError, "has dtype complex128"),
    "object": (lambda: np.ones(SHAPE, object), TypeError, "has dtype object; " + _ACCEPTS),
    "list_holding_none": (lambda: [[None, 1.0, 2.0], [0.0, 1.0, 2.0]], TypeError, "has dtype object"),
    "str": (lambda: "1.0", TypeError, "must be an array or a number, not str; " + _ACCEPTS),
    "bytes": (lambda: b"1.0", TypeError, "must be an array or a number, not bytes"),
    "str_array": (lambda: np.full(SHAPE, "1.0"), TypeError, "has dtype <U3; " + _ACCEPTS),
    "None": (lambda: None, TypeError, "must be an array or a number, not NoneType"),
    "datetime": (lambda: np.zeros(SHAPE, "datetime64[s]"), TypeError, r"has dtype datetime64\[s\]"),
    "longdouble": (lambda: np.zeros(SHAPE, np.longdouble), TypeError, "has dtype float(96|128); " + _ACCEPTS),
    "ragged": (lambda: [[1.0, 2.0, 3.0], [4.0, 5.0]], ValueError, "is not a rectangular array"),
    "ragged_deep": (lambda: [[[1.0], [2.0]], [[3.0], [4.0, 5.0]]], ValueError, "is not a rectangular array"),
}
bad_input = pytest.mark.parametrize("case", list(BAD_INPUTS))


def _valid(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2, 2, SHAPE) for _ in range(n)]


def _sentinel_out(dtype=np.float64, shape=SHAPE):
    return np.full(shape, SENTINEL, dtype)


def _raises(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    return info.value


# ---------------------------------------------------------------- coverage


def test_every_public_function_is_in_the_matrix():
    covered = {t.call for t in TARGETS} | {entry.forward for entry in REGISTRY.values()}
    covered |= {activation_forward, activation_backward, numba_act.gelu}
    covered.add(numba_act.register)  # not an array function; its refusals are in test_register.py
    for name in numba_act.__all__:
        value = getattr(numba_act, name)
        if callable(value):
            assert value in covered, name
    for name in NAMES:
        assert any(t.id == f"{name}.vjp" for t in TARGETS)


# ------------------------------------------------------------ bad inputs


@every_target
@bad_input
def test_bad_input_in_each_position(target, case):
    make, error, message = BAD_INPUTS[case]
    for position, arg in enumerate(target.names):
        if case == "None" and position in target.none_ok:
            continue
        for out in (None, _sentinel_out()):
            args = _valid(len(target.names))
            args[position] = make()
            kept = snapshot(*args)
            _raises(lambda: target.call(*args, out=out), error, f"^{arg} {message}")  # noqa: B023
            assert_unchanged(kept)
            if out is not None:
                np.testing.assert_array_equal(out, _sentinel_out(), err_msg="out was written")


@every_target
def test_a_valid_call_fills_out(target):
    # The matrix's valid arguments are valid: each failure above is the bad argument's.
    args = _valid(len(target.names))
    out = _sentinel_out()
    assert target.call(*args, out=out) is out
    assert not (out == SENTINEL).any()


# ------------------------------------------------------------------ out=


def _overlapping(buf, shift):
    return buf[: buf.size - 1].reshape(SHAPE) if shift == 0 else buf[1:].reshape(SHAPE)


BAD_OUTS = {
    "wrong_shape": (
        lambda: _sentinel_out(shape=(3, 2)),
        ValueError,
        re.escape("out has shape (3, 2), expected (2, 3)"),
    ),
    "fewer_dims": (lambda: _sentinel_out(shape=(6,)), ValueError, "out has shape"),
    "more_dims": (lambda: _sentinel_out(shape=(1, 2, 3)), ValueError, "out has shape"),
    "empty": (lambda: _sentinel_out(shape=(0,)), ValueError, "out has shape"),
    "float32": (lambda: _sentinel_out(np.float32), TypeError, "out has dtype float32, expected float64"),
    "float16": (lambda: _sentinel_out(np.float16), TypeError, "out has dtype float16, expected float64"),
    "int64": (lambda: _sentinel_out(np.int64), TypeError, "out has dtype int64, expected float64"),
    "complex": (lambda: _sentinel_out(complex), TypeError, "out has dtype complex128, expected float64"),
    "zero_stride": (
        lambda: as_strided(_sentinel_out(shape=(3,)), SHAPE, (0, 8)),
        ValueError,
        re.escape("out has elements that share memory"),
    ),
    "overlapping_rows": (
        lambda: as_strided(_sentinel_out(shape=(4,)), SHAPE, (8, 8)),
        ValueError,
        re.escape("out has elements that share memory"),
    ),
    "list": (lambda: _sentinel_out().tolist(), TypeError, "out must be a numpy.ndarray, not list"),
    "scalar": (lambda: np.float64(SENTINEL), TypeError, "out must be a numpy.ndarray, not float64"),
}


@every_target
@pytest.mark.parametrize("case", list(BAD_OUTS))
def test_bad_out(target, case):
    make, error, message = BAD_OUTS[case]
    args = _valid(len(target.names))
    kept = snapshot(*args)
    out = make()
    before = np.array(out, copy=True)
    _raises(lambda: target.call(*args, out=out), error, f"^{message}")
    np.testing.assert_array_equal(out, before, strict=True)
    assert_unchanged(kept)


@every_target
@pytest.mark.parametrize("layout", ["C", "strided", "F"])
def test_read_only_out(target, layout):
    args = _valid(len(target.names))
    kept = snapshot(*args)
    out = {
        "C": _sentinel_out(),
        "strided": _sentinel_out(shape=(2, 6))[:, ::2],
        "F": np.asfortranarray(_sentinel_out()),
    }[layout]
    out.flags.writeable = False
    _raises(lambda: target.call(*args, out=out), ValueError, "^out is read-only")
    assert (out == SENTINEL).all()
    assert_unchanged(kept)


@every_target
@pytest.mark.parametrize("shift", [0, 1], ids=["out_after_input", "out_before_input"])
def test_out_partly_overlapping_each_input(target, shift):
    # As NumPy's ufuncs do: the result is that of the inputs copied first.
    for position in range(len(target.names)):
        args = _valid(len(target.names))
        buf = np.linspace(-1, 1, 7)
        args[position] = _overlapping(buf, shift)
        expected = target.call(*[a.copy() for a in args])
        out = _overlapping(buf, 1 - shift)
        assert target.call(*args, out=out) is out
        np.testing.assert_array_equal(out, expected, err_msg=f"position {position}")


@every_target
def test_out_interleaved_with_the_inputs_is_not_an_overlap(target):
    # Views that share bounds but no element (buf[0::2] and buf[1::2]) are separate arrays.
    n = len(target.names)
    buf = np.zeros((2, 3 * (n + 1)))
    args = _valid(n)
    for i, arg in enumerate(args):
        buf[:, i :: n + 1] = arg
    views = [buf[:, i :: n + 1] for i in range(n)]
    out = buf[:, n :: n + 1]
    out[...] = SENTINEL
    expected = target.call(*args)
    assert target.call(*views, out=out) is out
    np.testing.assert_array_equal(out, expected)
    for view, arg in zip(views, args, strict=True):
        np.testing.assert_array_equal(view, arg)


@every_target
def test_out_that_is_an_input_is_in_place(target):
    # The input itself (the very array) may be out: that is not a partial overlap.
    for position in range(len(target.names)):
        args = _valid(len(target.names))
        expected = target.call(*[a.copy() for a in args])
        assert target.call(*args, out=args[position]) is args[position]
        np.testing.assert_array_equal(args[position], expected)


@every_target
def test_out_of_an_inputs_very_elements_is_in_place(target):
    # Another view of the same elements, whose stride differs on an axis of
    # length one, where a stride steps nowhere: in-place work, not an overlap.
    for position in range(len(target.names)):
        args = [a.reshape(2, 1, 3) for a in _valid(len(target.names))]
        expected = target.call(*[a.copy() for a in args])
        x = args[position]
        out = as_strided(x, x.shape, (x.strides[0], 8, x.strides[2]))
        assert target.call(*args, out=out) is out
        np.testing.assert_array_equal(x, expected)


# ------------------------------------------------------------------ axis


def _axis_calls(target, args, out, axis):
    return lambda: target.call(*args, out=out, axis=axis)


@rowwise_target
@pytest.mark.parametrize("axis", [2, -3, 100, -100, np.int64(2)])
@pytest.mark.parametrize("with_out", [False, True], ids=["no_out", "out"])
def test_axis_out_of_range(target, axis, with_out):
    args = _valid(len(target.names))
    kept = snapshot(*args)
    out = _sentinel_out() if with_out else None
    _raises(_axis_calls(target, args, out, axis), np.exceptions.AxisError, f"axis {int(axis)} is out of bounds")
    assert_unchanged(kept)
    if with_out:
        assert (out == SENTINEL).all()


@rowwise_target
@pytest.mark.parametrize("axis", [1.0, "1", None, (1,), True, np.bool_(False), np.float64(1.0)], ids=repr)
def test_axis_not_an_integer(target, axis):
    args = _valid(len(target.names))
    out = _sentinel_out()
    _raises(_axis_calls(target, args, out, axis), TypeError, "^axis must be an integer")
    assert (out == SENTINEL).all()


# ------------------------------------------------------------------ names

DISPATCH = {
    "activation_forward": lambda x, name, out: activation_forward(x, name, out),
    "activation_backward": lambda x, name, out: activation_backward(x, x, name, out=out),
    "activation_backward_with_grad": lambda x, name, out: activation_backward(x, x, name, x, out=out),
    "activation_layer": lambda x, name, out: activation_layer(name),
}
BAD_NAMES = {
    "unknown": ("swish2", ValueError, "^unknown activation 'swish2'; valid names: " + ", ".join(NAMES)),
    "empty": ("", ValueError, "^unknown activation ''"),
    "upper_case": ("RELU", ValueError, "^unknown activation 'RELU'"),
    "trailing_space": ("relu ", ValueError, "^unknown activation 'relu '"),
    "None": (None, TypeError, "^activation name must be a str, not NoneType"),
    "int": (1, TypeError, "^activation name must be a str, not int"),
    "bytes": (b"relu", TypeError, "^activation name must be a str, not bytes"),
    "list": (["relu"], TypeError, "^activation name must be a str, not list"),
    "array": (np.array(["relu"]), TypeError, "^activation name must be a str, not ndarray"),
    "function": (numba_act.relu, TypeError, "^activation name must be a str, not function"),
}


@pytest.mark.parametrize("dispatch", list(DISPATCH))
@pytest.mark.parametrize("case", list(BAD_NAMES))
def test_bad_name(dispatch, case):
    name, error, message = BAD_NAMES[case]
    x = _valid(1)[0]
    kept = snapshot(x)
    out = _sentinel_out()
    _raises(lambda: DISPATCH[dispatch](x, name, out), error, message)
    assert (out == SENTINEL).all()
    assert_unchanged(kept)


@pytest.mark.parametrize(
    "approximate",
    ["bogus", "", "TANH", None, 1, 1.5, np.array(["tanh"]), np.array(["none", "tanh"]), ["tanh"]],
    ids=repr,
)
def test_gelu_bad_approximate(approximate):
    out = _sentinel_out()
    _raises(lambda: numba_act.gelu(_valid(1)[0], approximate, out), ValueError, "^approximate must be 'none' or 'tanh'")
    assert (out == SENTINEL).all()


# ------------------------------------------------------------------ layers

every_layer = pytest.mark.parametrize("name", NAMES)


@every_layer
@bad_input
def test_layer_forward_bad_input(name, case):
    make, error, message = BAD_INPUTS[case]
    layer = LAYERS[name]()
    x = _valid(1)[0]
    first = layer.forward(x)
    kept = snapshot(x, first)
    _raises(lambda: layer.forward(make()), error, f"^X_input {message}")
    # the layer still holds the last good forward pass, unchanged
    assert layer.output is first
    assert_unchanged(kept)
    fresh = LAYERS[name]()
    fresh.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones(SHAPE)), fresh.backward(np.ones(SHAPE)))


@every_layer
@bad_input
def test_layer_backward_bad_grad(name, case):
    make, error, message = BAD_INPUTS[case]
    layer = LAYERS[name]()
    x = _valid(1)[0]
    out = layer.forward(x)
    grad = layer.backward(np.ones(SHAPE))
    kept = snapshot(x, out, grad)
    _raises(lambda: layer.backward(make()), error, f"^grad_next {message}")
    assert_unchanged(kept)
