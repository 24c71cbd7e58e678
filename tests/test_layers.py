"""Activation layers (numba_act.layers), one per registry entry: forward and
backward against the NumPy reference formulas and central finite
differences in float64, the exact softmax Jacobian-vector product, buffer
reuse, dtype rules and the layer attributes.
"""

import copy
import pickle

import numpy as np
import pytest
from conftest import case, numeric_vjp, sampled

import numba_act.layers as layers_module
from numba_act import NAMES, REGISTRY
from numba_act.layers import LAYERS, ActivationLayer, BaseActivation, activation_layer, class_name
from numba_act.registry import REQUIRED


def _layer(name, **options):
    """``LAYERS[name]`` made with the test table's parameters (threshold's are required)."""
    return LAYERS[name](**getattr(case(name), "named", {}), **options)


SEED_CLASS_NAMES = {
    "sigmoid": "Sigmoid",
    "relu": "ReLU",
    "softmax": "Softmax",
    "tanh": "Tanh",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "gelu_tanh": "GELUTanh",
    "silu": "SiLU",
    "softplus": "Softplus",
    "log_softmax": "LogSoftmax",
}

# The numerics of every layer are those of its activation, tested per entry
# elsewhere; the layer machinery is shared, so its matrix runs on the sample.
every_layer = pytest.mark.parametrize("name", [sampled(name, name) for name in NAMES])
# For what the layer itself decides (buffers, layouts), whatever the math: one
# layer that needs its input in backward, one that needs only its output, and
# both row-wise ones.  Each extra layout is an extra compilation per kernel.
some_layers = pytest.mark.parametrize("name", ["relu", "sigmoid", "softmax", "log_softmax"])
both_backends = pytest.mark.parametrize("backend", ["numba", "numpy"])


def _samples(rng, shape, dtype=np.float64, scale=4.0, kink_gap=1e-2):
    """Uniform on [-scale, scale], away from the kink at 0 of relu, leaky_relu and elu,
    where a central difference straddling it means nothing."""
    x = rng.uniform(-scale, scale, shape)
    x = np.where(np.abs(x) < kink_gap, kink_gap * 2, x)
    return x.astype(dtype)


def _reference_forward(name, x):
    entry = REGISTRY[name]
    return entry.reference(x, axis=-1) if entry.rowwise else case(name).reference(x)


def _numeric_vjp(name, x, g):
    """d/dx sum(g * f(x)) by central differences, through the layer's forward pass."""
    layer = _layer(name)
    return numeric_vjp(lambda x: layer.forward(x).copy(), x, g)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ------------------------------------------------------------------ classes


def test_every_registry_entry_has_a_layer_class():
    assert list(LAYERS) == list(NAMES)
    for name, cls in LAYERS.items():
        assert cls.activation == name
        assert issubclass(cls, ActivationLayer) and issubclass(cls, BaseActivation)
        assert getattr(layers_module, cls.__name__) is cls
        assert cls.__name__ in layers_module.__all__


@pytest.mark.parametrize(("name", "expected"), SEED_CLASS_NAMES.items())
def test_class_names(name, expected):
    assert class_name(name) == expected
    assert LAYERS[name].__name__ == expected


def test_class_name_of_a_new_activation():
    assert class_name("hard_swish") == "HardSwish"


@pytest.mark.parametrize("name", NAMES)
def test_attributes(name):
    layer = _layer(name)
    assert layer.trainable is None
    assert layer.layer_name == LAYERS[name].__name__
    assert layer.index == 0
    assert isinstance(layer.output, np.ndarray)
    layer.index = 3
    assert layer.index == 3
    # the parameters that differ from their defaults (threshold's have none), then the backend
    shown = [
        f"{p.name}={v!r}" for p, v in zip(REGISTRY[name].params, layer.params, strict=True) if p.default is REQUIRED
    ]
    assert repr(layer) == f"{layer.layer_name}({', '.join(shown)})"
    backend = "backend='numpy'"
    assert repr(_layer(name, backend="numpy")) == f"{layer.layer_name}({', '.join([*shown, backend])})"


def test_base_activation_has_nothing_to_train():
    assert BaseActivation().trainable is None


def test_activation_layer_by_name():
    assert type(activation_layer("relu")) is LAYERS["relu"]
    assert activation_layer("softmax", backend="numpy").backend == "numpy"
    # Unknown and non-str names: test_bad_input.py's test_bad_name.
    with pytest.raises(ValueError, match="backend"):
        activation_layer("relu", backend="torch")
    with pytest.raises(TypeError, match="registry name"):
        ActivationLayer()


# ------------------------------------------------------------------ forward and backward


@every_layer
@both_backends
def test_forward_matches_reference_float64(name, backend, rng):
    x = _samples(rng, (6, 7))
    layer = _layer(name, backend=backend)
    out = layer.forward(x)
    assert out.dtype == np.float64 and out.shape == x.shape
    np.testing.assert_allclose(out, _reference_forward(name, x), rtol=1e-12, atol=1e-14)
    assert layer.output is out


@every_layer
def test_forward_float32_close_to_float64_reference(name, rng):
    x = _samples(rng, (6, 7), np.float32)
    out = _layer(name).forward(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _reference_forward(name, x.astype(np.float64)), rtol=2e-6, atol=2e-7)


@every_layer
@both_backends
def test_backward_matches_reference_vjp(name, backend, rng):
    x = _samples(rng, (5, 6))
    g = rng.standard_normal(x.shape)
    layer = _layer(name, backend=backend)
    a = layer.forward(x).copy()
    grad = layer.backward(g)
    assert grad.dtype == np.float64 and grad.shape == x.shape
    np.testing.assert_allclose(grad, case(name).reference_vjp(x, a, g), rtol=1e-12, atol=1e-14)


@every_layer
def test_backward_matches_finite_differences(name, rng):
    x = _samples(rng, (3, 5))
    g = rng.standard_normal(x.shape)
    layer = _layer(name)
    layer.forward(x)
    grad = layer.backward(g).copy()
    np.testing.assert_allclose(grad, _numeric_vjp(name, x, g), rtol=1e-6, atol=1e-8)


def test_softmax_backward_is_the_full_jacobian_vector_product(rng):
    x = _samples(rng, (4, 6))
    g = rng.standard_normal(x.shape)
    layer = LAYERS["softmax"]()
    a = layer.forward(x).copy()
    grad = layer.backward(g)
    np.testing.assert_allclose(grad, a * (g - np.sum(a * g, axis=1, keepdims=True)), rtol=1e-12, atol=1e-15)
    # Not the ones_like shortcut, and every row sums to 0 (softmax is shift-invariant).
    assert not np.allclose(grad, g)
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-14)


@every_layer
def test_backends_agree_in_float32(name, rng):
    x = _samples(rng, (8, 9), np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    fast, plain = _layer(name), _layer(name, backend="numpy")
    np.testing.assert_allclose(fast.forward(x), plain.forward(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fast.backward(g), plain.backward(g), rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ buffers


@every_layer
def test_steady_state_reuses_buffers(name, rng):
    layer = _layer(name)
    x1, x2 = _samples(rng, (2, 16, 8), np.float32)
    g1, g2 = rng.standard_normal((2, 16, 8)).astype(np.float32)

    out1 = layer.forward(x1)
    grad1 = layer.backward(g1)
    out2 = layer.forward(x2)
    grad2 = layer.backward(g2)

    assert out2 is out1 and grad2 is grad1
    assert out2.ctypes.data == out1.ctypes.data and grad2.ctypes.data == grad1.ctypes.data
    # The earlier results were overwritten in place, and hold the second step's values.
    np.testing.assert_array_equal(out1, _layer(name).forward(x2))
    fresh = _layer(name)
    fresh.forward(x2)
    np.testing.assert_array_equal(grad1, fresh.backward(g2))


@some_layers
def test_new_shape_or_dtype_gets_new_buffers(name, rng):
    layer = _layer(name)
    out = layer.forward(_samples(rng, (4, 8), np.float32))
    grad = layer.backward(np.ones((4, 8), np.float32))
    assert layer.forward(_samples(rng, (5, 8), np.float32)) is not out
    out = layer.output
    wide = layer.forward(_samples(rng, (5, 8)))
    assert wide is not out and wide.dtype == np.float64
    assert layer.backward(np.ones((5, 8))) is not grad


@some_layers
def test_own_output_as_input_is_not_overwritten(name, rng):
    layer = _layer(name)
    x = _samples(rng, (4, 6))
    first = layer.forward(x)
    kept = first.copy()
    second = layer.forward(first)
    assert second is not first
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_allclose(second, _reference_forward(name, kept), rtol=1e-12, atol=1e-14)
    g = rng.standard_normal(x.shape)
    np.testing.assert_allclose(layer.backward(g), case(name).reference_vjp(kept, second, g), rtol=1e-12, atol=1e-14)


def test_gradient_fed_back_is_not_overwritten(rng):
    layer = LAYERS["tanh"]()
    x = _samples(rng, (3, 4))
    a = layer.forward(x).copy()
    g = rng.standard_normal(x.shape)
    first = layer.backward(g)
    kept = first.copy()
    second = layer.backward(first)
    assert second is not first
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_allclose(second, kept * (1 - a**2), rtol=1e-12)


@some_layers
def test_non_contiguous_input(name, rng):
    base = _samples(rng, (6, 10))
    strided, fortran = base[:, ::2], np.asfortranarray(base[:, :5])
    layer = _layer(name)
    for x in (strided, fortran, strided, fortran):  # from the second call on, into the reused buffers
        out = layer.forward(x)
        np.testing.assert_allclose(out, _reference_forward(name, np.ascontiguousarray(x)), rtol=1e-12, atol=1e-14)
        g = rng.standard_normal((5, 6)).T  # F-ordered
        np.testing.assert_allclose(layer.backward(g), case(name).reference_vjp(x, out, g), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ dtypes and errors


@pytest.mark.parametrize(
    ("in_dtype", "out_dtype"),
    [(np.float32, np.float32), (np.float64, np.float64), (np.float16, np.float16), (np.int64, np.float64)],
)
@pytest.mark.parametrize("name", ["relu", "softmax"])
def test_dtype_rules(name, in_dtype, out_dtype):
    x = np.array([[1, -2, 3], [0, 2, -1]], dtype=in_dtype)
    layer = _layer(name)
    for _ in range(2):
        out = layer.forward(x)
        assert out.dtype == out_dtype
        grad = layer.backward(np.ones(x.shape, out_dtype))
        assert grad.dtype == out_dtype
    np.testing.assert_allclose(out, _reference_forward(name, x.astype(np.float64)), rtol=1e-3)


def test_backward_errors():
    layer = LAYERS["relu"]()
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones(3))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        layer.backward(np.ones((3, 2)))


@every_layer
def test_copies_are_independent(name, rng):
    layer = _layer(name)
    x = _samples(rng, (3, 4))
    layer.forward(x)
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert type(clone) is type(layer) and clone.layer_name == layer.layer_name
        out = clone.forward(x + 1)
        assert not np.may_share_memory(out, layer.output)
        np.testing.assert_allclose(out, _reference_forward(name, x + 1), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.output, _reference_forward(name, x), rtol=1e-12, atol=1e-14)
