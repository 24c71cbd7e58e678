"""numba_act.xarray: dimensions by name, coordinates kept, dask-backed stays lazy."""

import numpy as np
import pytest
from conftest import ELEMENTWISE, ROWWISE, TABLE, Case, entry_params

import numba_act
from numba_act.registry import ALIASES, REGISTRY

xr = pytest.importorskip("xarray")
nax = pytest.importorskip("numba_act.xarray")


def _logits(dtype=np.float32):
    values = np.random.default_rng(0).normal(0, 4, (4, 6, 3)).astype(dtype)
    return xr.DataArray(
        values,
        dims=("batch", "class", "time"),
        coords={"class": list("abcdef"), "batch": np.arange(4), "time": [0.0, 0.5, 1.0]},
        name="logits",
    )


def _same_labels(result, like):
    assert result.dims == like.dims
    for name, coord in like.coords.items():
        np.testing.assert_array_equal(result.coords[name].values, coord.values)


def test_every_registered_activation_is_there():
    assert set(numba_act.NAMES) | set(ALIASES) | {"activation_forward", "activation_backward"} == set(nax.__all__)
    for name in nax.__all__:
        assert callable(getattr(nax, name))
    for alias, name in ALIASES.items():
        assert getattr(nax, alias) is getattr(nax, name)
        assert alias in dir(nax)


@pytest.mark.parametrize("entry", [e for e in REGISTRY.values() if e.params and e.public], ids=lambda e: e.name)
def test_signatures_are_those_of_the_package_functions_less_out(entry):
    import inspect

    ours = inspect.signature(getattr(nax, entry.name))
    package = inspect.signature(getattr(numba_act, entry.name))
    assert list(ours.parameters) == [n for n in package.parameters if n != "out"]
    for name, parameter in ours.parameters.items():
        assert parameter.default == package.parameters[name].default


@pytest.mark.parametrize("entry", entry_params(ELEMENTWISE, sample=True))
def test_elementwise_keeps_labels_and_values(entry):
    # entry: a conftest Case, its parameters' first values in the table (the defaults; threshold's given)
    x = _logits()
    g = x * 0.5 + 1
    a = getattr(nax, entry.name)(x, **entry.named)
    _same_labels(a, x)
    np.testing.assert_array_equal(a.values, entry.forward(x.values))
    vjp = nax.activation_backward(x, a, entry.name, grad=g, **entry.named)
    _same_labels(vjp, x)
    np.testing.assert_array_equal(vjp.values, entry.vjp(x.values, a.values, g.values))
    np.testing.assert_array_equal(
        nax.activation_backward(x, a, entry.name, **entry.named).values, entry.derivative(x.values, a.values)
    )


def _other_values(entry):
    """A Case of ``entry`` with the table's second parameter tuple (not the defaults)."""
    return Case(entry, TABLE[entry.name].params[1])


# leaky_relu by default (one parameter with a default), the rest of the entries with parameters under -m slow.
_WITH_PARAMS = [
    pytest.param(e, id=e.name, marks=() if e.name == "leaky_relu" else pytest.mark.slow)
    for e in REGISTRY.values()
    if e.params and not e.rowwise
]


@pytest.mark.parametrize("entry", _WITH_PARAMS)
def test_parameters_in_order_by_name_and_by_alias(entry):
    case = _other_values(entry)
    x = _logits(np.float64)
    g = x * 0.5 + 1
    expected = entry.forward(x.values, *case.values)
    expected_derivative = entry.derivative(x.values, expected, *case.values)
    expected_vjp = entry.vjp(x.values, expected, g.values, *case.values)
    assert not np.array_equal(expected, entry.forward(x.values, **Case(entry).named))  # the values matter
    for name in (entry.name, *entry.aliases):
        function = getattr(nax, name)
        results = [
            function(x, *case.values),
            function(x, **case.named),
            nax.activation_forward(x, name, **case.named),
        ]
        for result in results:
            _same_labels(result, x)
            np.testing.assert_array_equal(result.values, expected)
        a = results[0]
        derivative = nax.activation_backward(x, a, name, **case.named)
        _same_labels(derivative, x)
        np.testing.assert_array_equal(derivative.values, expected_derivative)
        vjp = nax.activation_backward(x, a, name, grad=g, **case.named)
        _same_labels(vjp, x)
        np.testing.assert_array_equal(vjp.values, expected_vjp)
    # a Dataset: every variable with the same parameters
    ds = xr.Dataset({"u": x, "v": x.transpose("time", "class", "batch")})
    result = getattr(nax, entry.name)(ds, *case.values)
    np.testing.assert_array_equal(result["u"].values, expected)
    np.testing.assert_array_equal(result["v"].transpose(*x.dims).values, expected)


@pytest.mark.parametrize(
    ("name", "param"), [(n, p) for n, e in REGISTRY.items() for p in e.params if p.if_none is not None]
)
def test_none_stands_for_its_value(name, param):
    """A parameter that takes None (softplus's threshold) gives what None stands for."""
    x = _logits(np.float64)
    with_none = nax.activation_forward(x, name, **{param.name: None})
    np.testing.assert_array_equal(
        with_none.values, nax.activation_forward(x, name, **{param.name: param.if_none}).values
    )


def test_dask_backed_with_parameters_stays_lazy():
    pytest.importorskip("dask.array")
    x = _logits(np.float64)
    lazy = x.chunk({"class": 2, "batch": 3})
    g = lazy * 0.5 + 1
    a = nax.leaky_relu(lazy, 0.2)
    vjp = nax.activation_backward(lazy, a, "leaky_relu", grad=g, negative_slope=0.2)
    derivative = nax.activation_backward(lazy, a, "leaky_relu", negative_slope=0.2)
    for result in (a, vjp, derivative):
        assert result.chunks == lazy.chunks
    a_values = numba_act.leaky_relu(x.values, 0.2)
    np.testing.assert_array_equal(a.compute().values, a_values)
    np.testing.assert_array_equal(
        vjp.compute().values, numba_act.REGISTRY["leaky_relu"].vjp(x.values, a_values, (x * 0.5 + 1).values, 0.2)
    )
    np.testing.assert_array_equal(derivative.compute().values, np.where(x.values > 0, 1.0, 0.2))
    # two slopes in one graph stay apart
    b = nax.leaky_relu(lazy, 0.3)
    assert a.data.name != b.data.name
    np.testing.assert_array_equal(b.compute().values, numba_act.leaky_relu(x.values, 0.3))


def test_bad_parameters_raise_before_anything_is_computed(monkeypatch):
    x = _logits()
    forward, backward = nax.activation_forward, nax.activation_backward
    cases = [
        (TypeError, "missing 1 required positional argument: 'value'", lambda: nax.threshold(x, 0.0)),
        (TypeError, "threshold: missing the parameter value", lambda: forward(x, "threshold", threshold=0.0)),
        (TypeError, "negative_slope must be a real number, not str", lambda: nax.leaky_relu(x, "0.2")),
        (TypeError, "negative_slope must be a real number, not NoneType", lambda: nax.leaky_relu(x, None)),
        (TypeError, "multiple values for argument 'negative_slope'", lambda: nax.leaky_relu(x, 0.1, negative_slope=0)),
        (TypeError, "takes from 1 to 2 positional arguments but 3 were given", lambda: nax.leaky_relu(x, 0.1, 0.2)),
        (TypeError, "relu has no parameter 'negative_slope'", lambda: forward(x, "relu", negative_slope=0.1)),
        (TypeError, "softmax has no parameter 'alpha'", lambda: forward(x, "softmax", alpha=1.0)),
        (TypeError, "leaky_relu has no parameter 'slope'", lambda: backward(x, x, "leaky_relu", grad=x, slope=0.1)),
        (TypeError, "softmax has no parameter 'alpha'", lambda: backward(None, x, "softmax", grad=x, alpha=1.0)),
        (TypeError, "softmax has no parameter 'alpha'", lambda: backward(None, x, "softmax", alpha=1.0)),
        (ValueError, "min_val cannot be greater than max_val", lambda: nax.hardtanh(x, 1.0, -1.0)),
        (ValueError, "min_val cannot be greater than max_val", lambda: nax.hard_tanh(x, min_val=2.0)),
        (ValueError, "min_val cannot be greater than max_val", lambda: backward(x, x, "hardtanh", grad=x, max_val=-2)),
        (TypeError, "must be an xarray DataArray or Dataset", lambda: nax.leaky_relu(x.values, 0.2)),
    ]

    def refuse(*args, **kwargs):
        raise AssertionError("computed before the arguments were checked")

    monkeypatch.setattr(xr, "apply_ufunc", refuse)  # the way every function here computes
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()


@pytest.mark.parametrize("entry", entry_params(ROWWISE, sample=True))
@pytest.mark.parametrize("dim", ["batch", "class", "time", None])
def test_rowwise_by_dimension_name(entry, dim):
    x = _logits()
    axis = -1 if dim is None else x.get_axis_num(dim)
    a = getattr(nax, entry.name)(x, dim=dim)
    _same_labels(a, x)
    np.testing.assert_array_equal(a.values, entry.forward(x.values, axis))
    # The gradient in another dimension order is matched by name.
    g = (x * 0.25).transpose("time", "class", "batch")
    vjp = nax.activation_backward(None, a, entry.name, grad=g, dim=dim)
    _same_labels(vjp, x)
    expected = entry.vjp(None, a.values, g.transpose(*x.dims).values, axis)
    np.testing.assert_allclose(vjp.values, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(nax.activation_backward(None, a, entry.name).values, np.ones(x.shape))


def test_softmax_by_name_matches_the_axis_form_and_sums_to_one():
    x = _logits(np.float64)
    probs = nax.softmax(x, dim="class")
    np.testing.assert_allclose(probs.sum("class").values, 1, rtol=1e-14)
    np.testing.assert_array_equal(probs.values, numba_act.softmax(x.values, axis=1))
    # The plain functions take a DataArray too, by axis number.
    np.testing.assert_array_equal(numba_act.softmax(x, axis=1).values, probs.values)


def test_gelu_approximate():
    x = _logits()
    np.testing.assert_array_equal(nax.gelu(x, approximate="tanh").values, numba_act.gelu_tanh(x.values))
    np.testing.assert_array_equal(nax.gelu(x).values, numba_act.gelu(x.values))


def test_dataset_maps_over_variables_keeping_each_order():
    x = _logits()
    ds = xr.Dataset({"u": x, "v": x.transpose("time", "class", "batch")})
    probs = nax.softmax(ds, dim="class")
    assert probs["u"].dims == x.dims and probs["v"].dims == ("time", "class", "batch")
    np.testing.assert_array_equal(probs["v"].transpose(*x.dims).values, probs["u"].values)
    np.testing.assert_array_equal(nax.relu(ds)["u"].values, numba_act.relu(x.values))


def test_dask_backed_stays_lazy():
    pytest.importorskip("dask.array")
    x = _logits()
    lazy = x.chunk({"class": 2, "batch": 3})
    probs = nax.log_softmax(lazy, dim="class")
    silu = nax.silu(lazy)
    assert probs.chunks is not None and silu.chunks == lazy.chunks
    np.testing.assert_array_equal(probs.compute().values, nax.log_softmax(x, dim="class").values)
    np.testing.assert_array_equal(silu.compute().values, nax.silu(x).values)


def test_bad_input():
    x = _logits()
    with pytest.raises(ValueError, match="dim 'nope' is not a dimension"):
        nax.softmax(x, dim="nope")
    with pytest.raises(TypeError, match="dim is required for a Dataset"):
        nax.softmax(xr.Dataset({"u": x}))
    with pytest.raises(TypeError, match="must be an xarray DataArray or Dataset"):
        nax.sigmoid(x.values)
    with pytest.raises(ValueError, match="unknown activation"):
        nax.activation_forward(x, "nope")
    with pytest.raises(TypeError, match="out= is not supported for xarray input"):
        numba_act.sigmoid(x, out=np.empty(x.shape, np.float32))
    with pytest.raises(TypeError, match="accepts float16, float32"):
        nax.tanh(x.astype(np.complex64))
    shifted = x.assign_coords(batch=x.batch + 1)
    with pytest.raises(ValueError, match="join='exact'"):
        nax.activation_backward(x, shifted, "silu", grad=x)


def _unknown_batch():
    """The labelled logits, dask-backed, with the batches kept by a lazy mask: 'batch' has size nan."""
    da = pytest.importorskip("dask.array")
    x = _logits()
    keep = np.array([True, False, True, True])
    data = da.from_array(x.values, chunks=(2, 4, 2))[da.from_array(keep, chunks=2)]
    lazy = xr.DataArray(data, dims=x.dims, coords={"class": x["class"], "time": x["time"]}, name=x.name)
    assert np.isnan(lazy.sizes["batch"])
    return x.isel(batch=keep).drop_vars("batch"), lazy


def test_dask_backed_with_unknown_chunk_sizes():
    x, lazy = _unknown_batch()
    # xarray cannot compute() such an object into itself; .values computes its data.
    a = nax.silu(lazy)
    _same_labels(a, lazy)
    np.testing.assert_array_equal(a.values, nax.silu(x).values)
    g = lazy * 0.5
    np.testing.assert_array_equal(
        nax.activation_backward(lazy, a, "silu", grad=g).values,
        nax.activation_backward(x, nax.silu(x), "silu", grad=x * 0.5).values,
    )
    for dim in ("class", "time"):
        for name in ("softmax", "log_softmax"):
            probs = nax.activation_forward(lazy, name, dim=dim)
            _same_labels(probs, lazy)
            expected = nax.activation_forward(x, name, dim=dim)
            np.testing.assert_array_equal(probs.values, expected.values)
            vjp = nax.activation_backward(None, probs, name, grad=g.transpose("time", "batch", "class"), dim=dim)
            _same_labels(vjp, lazy)
            expected_vjp = nax.activation_backward(None, expected, name, grad=x * 0.5, dim=dim)
            np.testing.assert_array_equal(vjp.values, expected_vjp.values)
    np.testing.assert_array_equal(nax.activation_backward(None, probs, "softmax").values, np.ones(x.shape))
    with pytest.raises(ValueError, match=r"along dimension 'batch'.*compute_chunk_sizes\(\)"):
        nax.softmax(lazy, dim="batch")
