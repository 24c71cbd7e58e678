"""Bad input, as a matrix: every public function that takes arrays, with
every kind of bad argument (the dtypes that raise among them) in every
array position, with and without an ``out``; bad and non-str activation
names; ``axis`` out of range or not an integer; gelu's ``approximate``;
z, a and grad whose shapes differ; and the layers' bad input and bad grad.

Each call must raise the documented exception with a message that says what
is wrong (and names the argument), before anything is written: ``out``
keeps its sentinel values and the other inputs are untouched.  Bad ``out``
arguments are in test_out.py, which sweeps the same targets.
"""

import re
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import ROWWISE, assert_unchanged, case, entry_params, sampled, snapshot

import numba_act
from numba_act import NAMES, REGISTRY, activation_backward, activation_forward
from numba_act.layers import LAYERS, activation_layer


def _layer(name, **options):
    """``LAYERS[name]`` made with the test table's parameters (threshold's are required)."""
    return LAYERS[name](**getattr(case(name), "named", {}), **options)


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
    # do not use it, and the a and grad of activation_backward (None: the
    # derivative from z alone; no grad).
    none_ok: tuple = ()
    # The registry entry whose kernels it reaches; None for the helpers
    # (numba_act.gelu and the seed's two derivative helpers).
    activation: str | None = None


def _targets():
    targets = []
    for name, entry in REGISTRY.items():
        rw = entry.rowwise
        z = (0,) if rw else ()
        p = getattr(case(name), "named", {})  # threshold's required parameters
        targets += [
            Target(
                f"{name}.forward", lambda x, _e=entry, _p=p, **k: _e.forward(x, **_p, **k), ("x",), rw, activation=name
            ),
            Target(
                f"{name}.derivative",
                lambda z, a, _e=entry, _p=p, **k: _e.derivative(z, a, **_p, **k),
                ("z", "a"),
                none_ok=z,
                activation=name,
            ),
            Target(
                f"{name}.vjp",
                lambda z, a, g, _e=entry, _p=p, **k: _e.vjp(z, a, g, **_p, **k),
                ("z", "a", "grad"),
                rw,
                z,
                activation=name,
            ),
            Target(
                f"activation_forward[{name}]",
                lambda x, _n=name, _p=p, **k: activation_forward(x, _n, **_p, **k),
                ("x",),
                rw,
                activation=name,
            ),
            Target(
                f"activation_backward[{name}]",
                lambda z, a, _n=name, _p=p, **k: activation_backward(z, a, _n, **_p, **k),
                ("z", "a"),
                none_ok=(*z, 1),  # a=None: the derivative from z alone
                activation=name,
            ),
            Target(
                f"activation_backward_with_grad[{name}]",
                lambda z, a, g, _n=name, _p=p, **k: activation_backward(z, a, _n, g, **_p, **k),
                ("z", "a", "grad"),
                rw,
                (*z, 1, 2),
                activation=name,
            ),
        ]
    targets += [
        Target("gelu", lambda x, **k: numba_act.gelu(x, **k), ("x",)),
        Target("gelu[tanh]", lambda x, **k: numba_act.gelu(x, approximate="tanh", **k), ("x",)),
        Target("glu", lambda x, **k: numba_act.glu(x, axis=0, **k), ("x",)),
        Target("glu_vjp", lambda x, g, **k: numba_act.glu_vjp(x, g, axis=0, **k), ("x", "grad")),
        Target("sigmoid_derivative_from_activation", numba_act.sigmoid_derivative_from_activation, ("a",)),
        Target("relu_derivative_from_pre_activation", numba_act.relu_derivative_from_pre_activation, ("z",)),
    ]
    return targets


def target_params(targets):
    """Parameters for ``targets``: those of an activation outside conftest's SAMPLE run under ``-m slow``."""
    return [sampled(t.activation, t, id=t.id) if t.activation else pytest.param(t, id=t.id) for t in targets]


TARGETS = _targets()
ROWWISE_TARGETS = [t for t in TARGETS if t.rowwise]
every_target = pytest.mark.parametrize("target", target_params(TARGETS))
# The targets whose result has their inputs' shape, for test_out.py (glu's is half of x).
every_out_target = pytest.mark.parametrize("target", target_params([t for t in TARGETS if not t.id.startswith("glu")]))
rowwise_target = pytest.mark.parametrize("target", target_params(ROWWISE_TARGETS))

_ACCEPTS = re.escape("numba_act accepts float16, float32, float64, integer or bool input")

# Each bad argument: (maker, exception, the message after the argument's name).
# The dtypes that raise (complex, object, str, datetime, longdouble) name the
# accepted ones.
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
    "datetime": (lambda: np.zeros(SHAPE, "datetime64[s]"), TypeError, r"has dtype datetime64\[s\]; " + _ACCEPTS),
    "longdouble": (lambda: np.zeros(SHAPE, np.longdouble), TypeError, "has dtype float(96|128); " + _ACCEPTS),
    "ragged": (lambda: [[1.0, 2.0, 3.0], [4.0, 5.0]], ValueError, "is not a rectangular array"),
    "ragged_deep": (lambda: [[[1.0], [2.0]], [[3.0], [4.0, 5.0]]], ValueError, "is not a rectangular array"),
}
bad_input = pytest.mark.parametrize("case", list(BAD_INPUTS))


def valid_arrays(n, seed=0):
    """``n`` valid float64 arrays of :data:`SHAPE`."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2, 2, SHAPE) for _ in range(n)]


def sentinel_out(dtype=np.float64, shape=SHAPE):
    """An ``out`` full of :data:`SENTINEL`, to show whether anything was written."""
    return np.full(shape, SENTINEL, dtype)


def assert_raises(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    return info.value


# ---------------------------------------------------------------- coverage


def test_every_public_function_is_in_the_matrix():
    covered = {t.call for t in TARGETS} | {entry.forward for entry in REGISTRY.values()}
    covered |= {activation_forward, activation_backward, numba_act.gelu, numba_act.glu, numba_act.glu_vjp}
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
        for out in (None, sentinel_out()):
            args = valid_arrays(len(target.names))
            args[position] = make()
            kept = snapshot(*args)
            assert_raises(lambda: target.call(*args, out=out), error, f"^{arg} {message}")  # noqa: B023
            assert_unchanged(kept)
            if out is not None:
                np.testing.assert_array_equal(out, sentinel_out(), err_msg="out was written")


# ------------------------------------------------------------------ shapes


@pytest.mark.parametrize("entry", entry_params([case(name) for name in REGISTRY], sample=True))
def test_shape_mismatch_between_z_a_and_grad(entry):
    z = np.zeros((2, 3))
    named = getattr(entry, "named", {})
    for a, grad in ((np.zeros((3, 2)), z), (z, np.zeros((2, 4))), (np.zeros(6), np.zeros(6)), (z, np.zeros((1, 3)))):
        if a.shape != z.shape:
            with pytest.raises(ValueError):
                entry.derivative(z, a)
            with pytest.raises(ValueError):
                activation_backward(z, a, entry.name, **named)
        with pytest.raises(ValueError):
            entry.vjp(z, a, grad)
        with pytest.raises(ValueError):
            activation_backward(z, a, entry.name, grad, **named)


# ------------------------------------------------------------------ axis

rowwise_entry = pytest.mark.parametrize("entry", entry_params(ROWWISE, sample=True))


def _axis_calls(target, args, out, axis):
    return lambda: target.call(*args, out=out, axis=axis)


@rowwise_target
@pytest.mark.parametrize("axis", [2, -3, 100, -100, np.int64(2)])
@pytest.mark.parametrize("with_out", [False, True], ids=["no_out", "out"])
def test_axis_out_of_range(target, axis, with_out):
    args = valid_arrays(len(target.names))
    kept = snapshot(*args)
    out = sentinel_out() if with_out else None
    assert_raises(_axis_calls(target, args, out, axis), np.exceptions.AxisError, f"axis {int(axis)} is out of bounds")
    assert_unchanged(kept)
    if with_out:
        assert (out == SENTINEL).all()


@rowwise_entry
def test_axis_out_of_range_for_0d_input(entry):
    # a 0-d input is a row of one: axis 0 and -1 are valid, 1 is not
    assert entry.forward(np.float64(2.0), axis=0) == entry.forward(np.float64(2.0))
    with pytest.raises(np.exceptions.AxisError):
        entry.forward(np.float64(2.0), axis=1)


@rowwise_target
@pytest.mark.parametrize("axis", [1.0, "1", None, (1,), True, np.bool_(False), np.float64(1.0)], ids=repr)
def test_axis_not_an_integer(target, axis):
    args = valid_arrays(len(target.names))
    out = sentinel_out()
    assert_raises(_axis_calls(target, args, out, axis), TypeError, "^axis must be an integer")
    assert (out == SENTINEL).all()


@rowwise_entry
def test_numpy_integer_axis_is_fine(entry):
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    np.testing.assert_array_equal(entry.forward(x, axis=np.int64(0)), entry.forward(x, axis=0))


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
    x = valid_arrays(1)[0]
    kept = snapshot(x)
    out = sentinel_out()
    assert_raises(lambda: DISPATCH[dispatch](x, name, out), error, message)
    assert (out == SENTINEL).all()
    assert_unchanged(kept)


# ------------------------------------------------------------------ gelu


@pytest.mark.parametrize(
    "approximate",
    ["bogus", "", "TANH", None, 1, 1.5, np.array(["tanh"]), np.array(["none", "tanh"]), ["tanh"]],
    ids=repr,
)
def test_gelu_bad_approximate(approximate):
    x = valid_arrays(1)[0]
    out = sentinel_out()
    assert_raises(lambda: numba_act.gelu(x, approximate, out), ValueError, "^approximate must be 'none' or 'tanh'")
    assert (out == SENTINEL).all()


# ------------------------------------------------------------------ layers

every_layer = pytest.mark.parametrize("name", [sampled(name, name) for name in NAMES])


@every_layer
@bad_input
def test_layer_forward_bad_input(name, case):
    make, error, message = BAD_INPUTS[case]
    layer = _layer(name)
    x = valid_arrays(1)[0]
    first = layer.forward(x)
    kept = snapshot(x, first)
    assert_raises(lambda: layer.forward(make()), error, f"^X_input {message}")
    # the layer still holds the last good forward pass, unchanged
    assert layer.output is first
    assert_unchanged(kept)
    fresh = _layer(name)
    fresh.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones(SHAPE)), fresh.backward(np.ones(SHAPE)))


@every_layer
@bad_input
def test_layer_backward_bad_grad(name, case):
    make, error, message = BAD_INPUTS[case]
    layer = _layer(name)
    x = valid_arrays(1)[0]
    out = layer.forward(x)
    grad = layer.backward(np.ones(SHAPE))
    kept = snapshot(x, out, grad)
    assert_raises(lambda: layer.backward(make()), error, f"^grad_next {message}")
    assert_unchanged(kept)
