"""Activations with parameters: torch's signatures, every way in (positional,
by keyword, by name, @njit, layers, the model), the checks on bad values,
and the jax aliases; then glu, whose result is half its input."""

import inspect
import math

import mpmath
import numpy as np
import pytest
from conftest import CASES, TABLE, assert_ulp_close, mp_evaluate, numeric_vjp
from numba import njit, prange
from numba.core.errors import TypingError

import numba_act as na
from numba_act import REGISTRY, layers
from numba_act.model import NeuralNetworkModel
from numba_act.registry import ALIASES, REQUIRED

PARAMETERIZED = [entry for entry in REGISTRY.values() if entry.params]

# torch.nn.functional's signatures (the parameters after the input, with
# their defaults), and jax.nn's for the activations torch does not have.
TORCH_SIGNATURES = {
    "leaky_relu": [("negative_slope", 0.01)],
    "elu": [("alpha", 1.0)],
    "celu": [("alpha", 1.0)],
    "softplus": [("beta", 1.0), ("threshold", None)],
    "hardtanh": [("min_val", -1.0), ("max_val", 1.0)],
    "softshrink": [("lambd", 0.5)],
    "hardshrink": [("lambd", 0.5)],
    "threshold": [("threshold", REQUIRED), ("value", REQUIRED)],
    "squareplus": [("b", 4.0)],
}
# Invalid values, each with the ValueError it gives.
INVALID = {
    "celu": ({"alpha": 0.0}, "alpha"),
    "hardtanh": ({"min_val": 2.0, "max_val": 1.0}, "min_val"),
    "softshrink": ({"lambd": -0.5}, "lambd"),
    "squareplus": ({"b": -1.0}, "b"),
}
# The aliases jax.nn (and torch) spell differently.
EXPECTED_ALIASES = {
    "swish": "silu",
    "hard_tanh": "hardtanh",
    "hard_sigmoid": "hardsigmoid",
    "hard_swish": "hardswish",
    "hard_silu": "hardswish",
    "logsigmoid": "log_sigmoid",
    "soft_sign": "softsign",
}


def _values(entry):
    """A parameter tuple of the table other than the defaults, where there is one."""
    params = TABLE[entry.name].params
    return params[1] if len(params) > 1 else params[0]


def _x(dtype=np.float64):
    return np.linspace(-8, 8, 161).astype(dtype)


# ---------------------------------------------------------------- signatures


@pytest.mark.parametrize("name", list(TORCH_SIGNATURES))
def test_signatures_are_torchs(name):
    entry = REGISTRY[name]
    assert [(p.name, p.default) for p in entry.params] == TORCH_SIGNATURES[name]
    signature = inspect.signature(getattr(na, name))
    listed = [
        (p.name, p.default if p.default is not inspect.Parameter.empty else REQUIRED)
        for p in signature.parameters.values()
    ]
    assert listed == [("x", REQUIRED), *TORCH_SIGNATURES[name], ("out", None)]
    for what in ("derivative", "vjp"):
        assert list(inspect.signature(getattr(entry, what)).parameters)[-len(entry.params) - 1 : -1] == [
            p for p, _ in TORCH_SIGNATURES[name]
        ]


def test_every_entry_with_parameters_is_listed_here():
    assert {e.name for e in PARAMETERIZED} == set(TORCH_SIGNATURES)


@pytest.mark.parametrize("entry", PARAMETERIZED, ids=lambda e: e.name)
def test_positional_keyword_and_by_name_agree(entry):
    x = _x()
    values = _values(entry)
    named = {p.name: v for p, v in zip(entry.params, values, strict=True)}
    expected = entry.reference(x, *values)
    got = getattr(na, entry.name)(x, *values)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-300)
    np.testing.assert_array_equal(getattr(na, entry.name)(x, **named), got)
    np.testing.assert_array_equal(na.activation_forward(x, entry.name, **named), got)
    out = np.empty_like(x)
    assert getattr(na, entry.name)(x, *values, out=out) is out
    np.testing.assert_array_equal(out, got)
    g = np.cos(x)
    np.testing.assert_array_equal(
        na.activation_backward(x, got, entry.name, grad=g, **named), entry.vjp(x, got, g, *values)
    )
    np.testing.assert_array_equal(
        na.activation_backward(x, got, entry.name, **named), entry.derivative(x, got, *values)
    )


@pytest.mark.parametrize(
    "entry", [e for e in PARAMETERIZED if REQUIRED not in [p.default for p in e.params]], ids=lambda e: e.name
)
def test_the_defaults_are_used_when_not_given(entry):
    x = _x(np.float32)
    defaults = tuple(math.inf if p.default is None else p.default for p in entry.params)
    np.testing.assert_array_equal(getattr(na, entry.name)(x), entry.call(x, None, -1, defaults))
    np.testing.assert_array_equal(na.activation_forward(x, entry.name), getattr(na, entry.name)(x))


def test_parameters_are_run_time_values():
    """A new value of a parameter compiles nothing: one signature per dtype."""
    op = REGISTRY["leaky_relu"].ops.forward
    x = _x(np.float32)
    na.leaky_relu(x, 0.5)
    compiled = len(op.new.signatures)
    for slope in np.linspace(-1, 1, 25):
        np.testing.assert_allclose(na.leaky_relu(x, float(slope)), np.where(x >= 0, x, slope * x), rtol=1e-6)
    na.leaky_relu(x, 2)  # an int too
    assert len(op.new.signatures) == compiled, op.new.signatures


# ---------------------------------------------------------------- bad values


BAD_TYPES = ["0.2", [0.2], np.array([0.2]), 1j, True, object()]


@pytest.mark.parametrize("bad", BAD_TYPES, ids=lambda b: type(b).__name__)
@pytest.mark.parametrize("entry", PARAMETERIZED, ids=lambda e: e.name)
def test_a_parameter_of_the_wrong_type_is_a_type_error_before_anything_is_written(entry, bad):
    x = _x()
    out = np.full_like(x, 7.0)
    first = entry.params[0].name
    values = dict(zip([p.name for p in entry.params], _values(entry), strict=True))
    values[first] = bad
    with pytest.raises(TypeError, match=f"{entry.name}: {first} must be a real number"):
        getattr(na, entry.name)(x, **values, out=out)
    with pytest.raises(TypeError, match=f"{first} must be a real number"):
        na.activation_forward(x, entry.name, out=out, **values)
    with pytest.raises(TypeError, match=f"{first} must be a real number"):
        na.activation_backward(x, x, entry.name, grad=x, out=out, **values)
    assert (out == 7.0).all()


@pytest.mark.parametrize("name", list(INVALID))
def test_an_invalid_value_is_a_value_error_before_anything_is_written(name):
    values, which = INVALID[name]
    x = _x()
    out = np.full_like(x, 7.0)
    with pytest.raises(ValueError, match=which):
        getattr(na, name)(x, **values, out=out)
    with pytest.raises(ValueError, match=which):
        na.activation_forward(x, name, out=out, **values)
    with pytest.raises(ValueError, match=which):
        layers.activation_layer(name, **values)
    assert (out == 7.0).all()


def test_unknown_missing_and_repeated_parameters_are_type_errors():
    x = _x()
    with pytest.raises(TypeError, match="leaky_relu has no parameter 'alpha'"):
        na.activation_forward(x, "leaky_relu", alpha=0.2)
    with pytest.raises(TypeError, match="sigmoid has no parameter 'alpha'"):
        na.activation_forward(x, "sigmoid", alpha=0.2)
    with pytest.raises(TypeError, match="softmax has no parameter 'beta'"):
        na.activation_backward(x, x, "softmax", grad=x, beta=2.0)
    with pytest.raises(TypeError, match="threshold: missing the parameter threshold"):
        na.activation_forward(x, "threshold")
    with pytest.raises(TypeError):
        na.threshold(x)
    with pytest.raises(TypeError):
        na.leaky_relu(x, 0.2, negative_slope=0.3)
    with pytest.raises(TypeError):
        na.leaky_relu(x, 0.2, 0.3, out=None, extra=1)


def test_none_stands_for_infinity_only_where_documented():
    x = _x()
    np.testing.assert_array_equal(na.softplus(x, 1.0, None), na.softplus(x, 1.0, math.inf))
    with pytest.raises(TypeError, match="leaky_relu: negative_slope must be a real number, not NoneType"):
        na.leaky_relu(x, None)


# ---------------------------------------------------------------- @njit


def test_parameters_inside_njit_by_name_and_direct():
    @njit
    def by_name(z, g):
        a = na.activation_forward(z, "leaky_relu", negative_slope=0.2)
        return a, na.activation_backward(z, a, "leaky_relu", grad=g, negative_slope=0.2)

    @njit
    def defaults_by_name(z):  # softplus's threshold defaults to None, infinity
        return na.activation_forward(z, "softplus", beta=2.0), na.activation_forward(z, "hardtanh", max_val=3.0)

    @njit
    def direct(z):
        return na.elu(z, 0.5), na.elu(z, alpha=0.25), na.hardtanh(z, -2.0, max_val=3)

    @njit(parallel=True)
    def scalars(z):
        out = np.empty_like(z)
        for i in prange(z.size):
            out[i] = na.elu(z[i], 0.5) + na.leaky_relu(z[i], 0.2)
        return out

    z, g = _x(np.float32), np.cos(_x(np.float32))
    a, d = by_name(z, g)
    np.testing.assert_array_equal(a, na.leaky_relu(z, 0.2))
    np.testing.assert_array_equal(d, REGISTRY["leaky_relu"].vjp(z, a, g, 0.2))
    softplus, hardtanh = defaults_by_name(z)
    np.testing.assert_array_equal(softplus, na.softplus(z, 2.0))
    np.testing.assert_array_equal(hardtanh, na.hardtanh(z, max_val=3.0))
    for got, expected in zip(direct(z), (na.elu(z, 0.5), na.elu(z, 0.25), na.hardtanh(z, -2.0, 3.0)), strict=True):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(scalars(z), na.elu(z, 0.5) + na.leaky_relu(z, 0.2))


def test_bad_parameters_inside_njit():
    @njit
    def wrong_type(z):
        return na.activation_forward(z, "leaky_relu", negative_slope="0.2")

    @njit
    def unknown(z):
        return na.activation_forward(z, "leaky_relu", alpha=0.2)

    @njit
    def invalid(z, alpha):
        return na.celu(z, alpha)

    z = _x()
    with pytest.raises(TypingError, match="negative_slope must be a real number"):
        wrong_type(z)
    with pytest.raises(TypingError, match="leaky_relu has no parameter 'alpha'"):
        unknown(z)
    with pytest.raises(ValueError, match="alpha"):
        invalid(z, 0.0)
    np.testing.assert_array_equal(invalid(z, 2.0), na.celu(z, 2.0))


# ---------------------------------------------------------------- layers, model


def test_layers_take_parameters_as_torch_nn_does():
    x = _x(np.float32)
    g = np.cos(x)
    for layer, name, values in [
        (layers.LeakyReLU(negative_slope=0.2), "leaky_relu", (0.2,)),
        (layers.activation_layer("elu", alpha=0.5), "elu", (0.5,)),
        (layers.Threshold(0.1, 20.0), "threshold", (0.1, 20.0)),
        (layers.Hardtanh(-2.0, max_val=3.0), "hardtanh", (-2.0, 3.0)),
    ]:
        assert layer.params == values
        a = layer.forward(x)
        np.testing.assert_array_equal(a, getattr(na, name)(x, *values))
        np.testing.assert_array_equal(layer.backward(g), REGISTRY[name].vjp(x, a, g, *values))
        # the NumPy formulas in float64: in float32 they compare x with the parameter rounded
        reference = layers.activation_layer(name, *values, backend="numpy")
        np.testing.assert_allclose(reference.forward(x.astype(np.float64)), a, rtol=2e-6, atol=1e-30)
    assert repr(layers.LeakyReLU(negative_slope=0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(layers.LeakyReLU()) == "LeakyReLU()"


def test_the_model_takes_name_and_parameter_pairs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 12))
    y = rng.integers(0, 3, 32)
    model = NeuralNetworkModel([12, 8, 3], [("leaky_relu", {"negative_slope": 0.2}), "softmax"], seed=0)
    assert model.layers[0].params == (0.2,)
    assert model.activations == ("leaky_relu", "softmax")
    assert "LeakyReLU(negative_slope=0.2)" in repr(model)
    losses = [model.train_step(X, y) for _ in range(30)]
    assert losses[-1] < losses[0]
    with pytest.raises(TypeError, match="leaky_relu has no parameter 'alpha'"):
        NeuralNetworkModel([12, 8, 3], [("leaky_relu", {"alpha": 0.2}), "softmax"])
    with pytest.raises(TypeError, match=r"\(name, dict\) pair"):
        NeuralNetworkModel([12, 8, 3], [("leaky_relu", 0.2, 0.3), "softmax"])


# ---------------------------------------------------------------- aliases


@pytest.mark.parametrize("alias", list(EXPECTED_ALIASES))
def test_aliases(alias):
    name = EXPECTED_ALIASES[alias]
    assert ALIASES[alias] == name
    assert getattr(na, alias) is getattr(na, name)
    assert alias in na.__all__ and alias not in na.NAMES
    x = _x(np.float32)
    np.testing.assert_array_equal(na.activation_forward(x, alias), getattr(na, name)(x))
    assert type(layers.activation_layer(alias)) is layers.LAYERS[name]


# ---------------------------------------------------------------- glu


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_glu_halves_its_input_along_the_axis(dtype):
    rng = np.random.default_rng(3)
    x = rng.normal(scale=6, size=(40, 6, 30)).astype(dtype)
    for axis in (-1, 0, 1):
        got = na.glu(x, axis)
        a, b = np.split(x.astype(np.float64), 2, axis=axis)
        exact = mp_evaluate(lambda u, v: u / (1 + mpmath.exp(-v)), a, b)
        assert got.dtype == dtype and got.shape == a.shape
        assert_ulp_close(got, exact, dtype, 1)
    out = np.empty((40, 6, 15), dtype)
    assert na.glu(x, out=out) is out
    with pytest.raises(ValueError, match="odd"):
        na.glu(x[..., :29])
    with pytest.raises(ValueError, match="0-d"):
        na.glu(np.float64(1.0))


def test_glu_vjp_matches_central_differences():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 8))
    g = rng.normal(size=(3, 4))
    np.testing.assert_allclose(na.glu_vjp(x, g), numeric_vjp(na.glu, x, g), rtol=1e-6, atol=1e-8)
    assert na.glu_vjp(x.astype(np.float32), g.astype(np.float32)).dtype == np.float32


def test_glu_inside_njit():
    @njit
    def f(x):
        return na.glu(x)

    x = np.random.default_rng(5).normal(size=(4, 10)).astype(np.float32)
    np.testing.assert_array_equal(f(x), na.glu(x))
    with pytest.raises(ValueError, match="odd"):
        f(x[:, :9])


# The accuracy of every parameter tuple of the table is in test_elementwise.py;
# here, that the table runs more than the defaults where there are parameters.
def test_the_accuracy_tests_run_several_values_of_each_parameter():
    for entry in PARAMETERIZED:
        tested = [case.values for case in CASES if case.name == entry.name]
        assert len(tested) >= 3, entry.name
        for i in range(len(entry.params)):
            assert len({values[i] for values in tested}) >= 2, (entry.name, entry.params[i].name)
