"""numba_act.xarray: dimensions by name, coordinates kept, dask-backed stays lazy."""

import numpy as np
import pytest
from conftest import ELEMENTWISE, ROWWISE, entry_params

import numba_act

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
    assert set(numba_act.NAMES) | {"activation_forward", "activation_backward"} == set(nax.__all__)
    for name in nax.__all__:
        assert callable(getattr(nax, name))


@pytest.mark.parametrize("entry", entry_params(ELEMENTWISE, sample=True))
def test_elementwise_keeps_labels_and_values(entry):
    x = _logits()
    g = x * 0.5 + 1
    a = getattr(nax, entry.name)(x)
    _same_labels(a, x)
    np.testing.assert_array_equal(a.values, entry.forward(x.values))
    vjp = nax.activation_backward(x, a, entry.name, grad=g)
    _same_labels(vjp, x)
    np.testing.assert_array_equal(vjp.values, entry.vjp(x.values, a.values, g.values))
    np.testing.assert_array_equal(
        nax.activation_backward(x, a, entry.name).values, entry.derivative(x.values, a.values)
    )


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
