"""dask arrays through the public functions: lazy, chunk-preserving, exact.

Every block runs the NumPy path, so results must equal it bit for bit,
including the softmax family along an axis that spans several chunks.
"""

import os
import sys
import textwrap

import numpy as np
import pytest
from conftest import ELEMENTWISE, PEAK_BYTES_SOURCE, ROWWISE, TABLE, Case, entry_params, run_python

import numba_act
from numba_act.registry import REGISTRY

da = pytest.importorskip("dask.array")


def _logits(shape=(60, 45), chunks=(25, 20), dtype=np.float32, seed=0):
    values = np.random.default_rng(seed).normal(0, 4, shape).astype(dtype)
    return values, da.from_array(values, chunks=chunks)


def _lazy_counter():
    """A dask array whose blocks count how often they are computed."""
    calls = []

    def block(b):
        calls.append(b.shape)
        return b

    values, x = _logits()
    return values, x.map_blocks(block, dtype=x.dtype, meta=np.empty((0, 0), x.dtype)), calls


@pytest.mark.parametrize("entry", entry_params(ELEMENTWISE, sample=True))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_forward_derivative_vjp_are_lazy_and_equal_numpy(entry, dtype):
    # entry: a conftest Case, with its parameters' first values in the table (the defaults; threshold's given)
    values, x = _logits(dtype=dtype)
    g_values, g = _logits(dtype=dtype, seed=1)
    a_values = entry.forward(values)
    a = entry.forward(x)
    cases = [
        (a, a_values),
        (entry.derivative(x, a), entry.derivative(values, a_values)),
        (entry.vjp(x, a, g), entry.vjp(values, a_values, g_values)),
        (numba_act.activation_backward(x, a, entry.name, g, **entry.named), entry.vjp(values, a_values, g_values)),
    ]
    for lazy, expected in cases:
        assert isinstance(lazy, da.Array)
        assert lazy.chunks == x.chunks and lazy.dtype == dtype
        computed = lazy.compute()
        assert computed.dtype == dtype
        np.testing.assert_array_equal(computed, expected)


# leaky_relu by default, every other entry with parameters under -m slow:
# with the table's second parameter tuple, not the defaults.
_WITH_PARAMS = [
    pytest.param(Case(e, TABLE[e.name].params[1]), id=e.name, marks=() if e.name == "leaky_relu" else pytest.mark.slow)
    for e in REGISTRY.values()
    if e.params and not e.rowwise
]


@pytest.mark.parametrize("case", _WITH_PARAMS)
def test_parameters_in_order_and_by_name_stay_lazy(case):
    entry, params, named = case.entry, case.values, case.named
    values, x = _logits(dtype=np.float64)
    g_values, g = _logits(dtype=np.float64, seed=1)
    a_values = entry.forward(values, *params)
    derivative_values = entry.derivative(values, a_values, *params)
    vjp_values = entry.vjp(values, a_values, g_values, *params)
    a = entry.forward(x, *params)
    lazy = [
        (a, a_values),
        (entry.forward(x, **named), a_values),
        (numba_act.activation_forward(x, entry.name, **named), a_values),
        (entry.derivative(x, a, *params), derivative_values),
        (numba_act.activation_backward(x, a, entry.name, **named), derivative_values),
        (entry.vjp(x, a, g, *params), vjp_values),
        (entry.vjp(x, a, g, **named), vjp_values),
        (numba_act.activation_backward(x, a, entry.name, g, **named), vjp_values),
    ]
    lazy += [(numba_act.activation_forward(x, alias, **named), a_values) for alias in entry.aliases]
    for result, expected in lazy:
        assert isinstance(result, da.Array) and result.chunks == x.chunks
        np.testing.assert_array_equal(result.compute(), expected)


def test_parameters_are_part_of_the_graph():
    """Calls with other parameter values build other tasks; equal values, the same ones."""
    values, x = _logits(dtype=np.float64)
    slopes = (0.2, 0.3, 0.2)
    results = [numba_act.leaky_relu(x, s) for s in slopes]
    assert results[0].name == results[2].name != results[1].name
    for result, slope in zip(da.compute(*results), slopes, strict=True):
        np.testing.assert_array_equal(result, numba_act.leaky_relu(values, slope))


def test_bad_parameters_raise_at_call_time_and_compute_nothing():
    values, x, calls = _lazy_counter()
    with pytest.raises(TypeError, match="negative_slope must be a real number"):
        numba_act.leaky_relu(x, "0.2")
    with pytest.raises(TypeError, match="leaky_relu has no parameter 'slope'"):
        numba_act.activation_backward(x, x, "leaky_relu", x, slope=0.2)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        numba_act.REGISTRY["hardtanh"].vjp(x, x, x, 1.0, -1.0)
    with pytest.raises(TypeError, match="missing the parameter value"):
        numba_act.activation_forward(x, "threshold", threshold=0.0)
    assert calls == []


def _bound_graph():
    """(lazy results whose graphs hold ops with bound parameters, their expected values)."""
    values, x = _logits(dtype=np.float64)
    g_values, g = _logits(dtype=np.float64, seed=1)
    entry = numba_act.REGISTRY["leaky_relu"]
    a = numba_act.leaky_relu(x, 0.2)
    a_values = numba_act.leaky_relu(values, 0.2)
    results = [a, entry.vjp(x, a, g, 0.2), numba_act.sigmoid(x)]
    expected = [a_values, entry.vjp(values, a_values, g_values, 0.2), numba_act.sigmoid(values)]
    return results, expected


def test_graphs_with_parameters_pickle_with_cloudpickle():
    import pickle

    cloudpickle = pytest.importorskip("cloudpickle")
    from numba_act._jit import BoundOp

    results, expected = _bound_graph()
    for result, want in zip(results, expected, strict=True):
        payload = cloudpickle.dumps(result)
        assert (b"BoundOp" in payload) == (result is not results[2])  # sigmoid has no parameters
        clone = pickle.loads(payload)
        np.testing.assert_array_equal(clone.compute(scheduler="threads"), want)
    op = numba_act.REGISTRY["leaky_relu"].ops.forward.bind((0.2,))
    clone = pickle.loads(cloudpickle.dumps(op))
    assert isinstance(clone, BoundOp) and clone.op is op.op and clone.params == (0.2,)
    np.testing.assert_array_equal(clone.new(np.array([-1.0, 2.0])), [-0.2, 2.0])


@pytest.mark.slow
def test_graphs_with_parameters_compute_with_the_processes_scheduler():
    """Every task pickled to another process (cloudpickle), plain ops and ops with bound parameters alike."""
    results, expected = _bound_graph()
    for result, want in zip(da.compute(*results, scheduler="processes", num_workers=2), expected, strict=True):
        np.testing.assert_array_equal(result, want)


@pytest.mark.parametrize("entry", entry_params(ROWWISE, sample=True))
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rowwise_across_chunks_is_exact(entry, axis, dtype):
    values, x = _logits(dtype=dtype)
    g_values, g = _logits(dtype=dtype, seed=1, chunks=(7, 45))  # other chunks than x
    assert x.numblocks[axis] > 1
    a = entry.forward(x, axis)
    assert isinstance(a, da.Array) and a.dtype == dtype
    a_values = entry.forward(values, axis)
    np.testing.assert_array_equal(a.compute(), a_values)
    vjp = numba_act.activation_backward(None, a, entry.name, g, axis=axis)
    np.testing.assert_array_equal(vjp.compute(), entry.vjp(None, a_values, g_values, axis))
    ones = entry.derivative(x, a)
    assert isinstance(ones, da.Array)
    np.testing.assert_array_equal(ones.compute(), np.ones_like(values))


def test_softmax_rows_sum_to_one_on_a_three_dimensional_array():
    values, x = _logits(shape=(6, 40, 5), chunks=(2, 9, 3))
    probs = numba_act.softmax(x, axis=1).compute()
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(probs, numba_act.softmax(values, axis=1))


def test_calls_build_graphs_and_compute_nothing():
    values, x, calls = _lazy_counter()
    results = [
        numba_act.sigmoid(x),
        numba_act.softmax(x, axis=0),
        numba_act.activation_forward(x, "log_softmax"),
        numba_act.activation_backward(x, x, "silu", x),
        numba_act.gelu(x, approximate="tanh"),
    ]
    assert calls == []
    np.testing.assert_array_equal(results[0].compute(), numba_act.sigmoid(values))
    assert calls


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(np.float16, np.float16), (np.int32, np.float64), (np.bool_, np.float64)],
)
def test_dtype_rules_hold(dtype, expected):
    values = (np.arange(24).reshape(4, 6) % 3).astype(dtype)
    x = da.from_array(values, chunks=(2, 3))
    for lazy, eager in [
        (numba_act.tanh(x), numba_act.tanh(values)),
        (numba_act.softmax(x), numba_act.softmax(values)),
    ]:
        assert lazy.dtype == expected
        computed = lazy.compute()
        assert computed.dtype == expected
        np.testing.assert_array_equal(computed, eager)


def test_zero_dimensional():
    x = da.from_array(np.array(3.0))
    assert float(numba_act.sigmoid(x).compute()) == numba_act.sigmoid(3.0)
    assert float(numba_act.softmax(x).compute()) == 1.0


def test_mixed_dask_and_numpy_inputs():
    values, x = _logits()
    a_values = numba_act.sigmoid(values)
    got = numba_act.activation_backward(x, a_values, "sigmoid", values)
    assert isinstance(got, da.Array)
    np.testing.assert_array_equal(got.compute(), numba_act.activation_backward(values, a_values, "sigmoid", values))


def test_bad_input_fails_at_call_time_with_the_numpy_errors():
    values, x = _logits()
    with pytest.raises(TypeError, match="out= is not supported for dask input"):
        numba_act.sigmoid(x, out=np.empty_like(values))
    with pytest.raises(TypeError, match="out= is not supported for dask input"):
        numba_act.softmax(x, out=np.empty_like(values))
    with pytest.raises(TypeError, match="accepts float16, float32"):
        numba_act.relu(x.astype(np.complex64))
    with pytest.raises(ValueError, match="grad has shape"):
        numba_act.activation_backward(x, x, "tanh", x[:, :3])
    with pytest.raises(np.exceptions.AxisError):
        numba_act.log_softmax(x, axis=2)
    with pytest.raises(ValueError, match="unknown activation"):
        numba_act.activation_forward(x, "swish2")


def test_distributed_local_cluster():
    distributed = pytest.importorskip("dask.distributed")
    values, x = _logits(shape=(80, 50), chunks=(30, 20))
    g_values, g = _logits(shape=(80, 50), chunks=(30, 20), seed=1)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None, protocol="tcp", host="127.0.0.1"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        probs, silu, vjp, leaky = client.compute(
            [
                numba_act.softmax(x, axis=0),
                numba_act.silu(x),
                numba_act.activation_backward(None, numba_act.log_softmax(x), "log_softmax", g),
                numba_act.REGISTRY["leaky_relu"].vjp(x, x, g, 0.2),
            ],
            sync=True,
        )
    np.testing.assert_array_equal(probs, numba_act.softmax(values, axis=0))
    np.testing.assert_array_equal(silu, numba_act.silu(values))
    np.testing.assert_array_equal(leaky, numba_act.REGISTRY["leaky_relu"].vjp(values, values, g_values, 0.2))
    expected_vjp = numba_act.REGISTRY["log_softmax"].vjp(None, numba_act.log_softmax(values), g_values)
    np.testing.assert_array_equal(vjp, expected_vjp)


def _run(code):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return run_python(code, env)


def test_importing_and_using_numba_act_imports_neither_dask_nor_xarray():
    out = _run(
        """
        import sys
        import numpy as np
        import numba_act
        numba_act.softmax(np.ones((2, 3)))
        numba_act.sigmoid([1.0, 2.0])
        print(sorted(m for m in ("dask", "xarray", "distributed") if m in sys.modules))
        """
    )
    assert out.strip() == "[]"


def test_four_gigabytes_lazily_in_bounded_memory():
    # 2**30 float32 values (4 GiB) that never exist at once: sigmoid over a
    # symmetric range sums to n / 2, since sigmoid(x) + sigmoid(-x) = 1.
    out = _run(
        PEAK_BYTES_SOURCE
        + textwrap.dedent(
            """
            import numpy as np
            import dask.array as da
            import numba_act
            n = 2**30
            x = da.linspace(-20, 20, n, chunks=2**24, dtype=np.float32)
            total = numba_act.sigmoid(x).sum(dtype=np.float64).compute()
            print(total / n, peak_bytes() / 2**30)
            """
        )
    )
    mean, peak_gib = map(float, out.split())
    assert abs(mean - 0.5) < 1e-6
    assert peak_gib < 1.5, f"peak resident memory {peak_gib:.2f} GiB for a 4 GiB array"


def _unknown_along(axis, shape=(60, 45), chunks=(25, 20), seeds=(0, 1)):
    """(values, dask array) pairs keeping the same entries of ``axis`` by a lazy mask: sizes there are nan."""
    keep = np.random.default_rng(9).random(shape[axis]) < 0.6
    before = (slice(None),) * axis
    pairs = []
    for seed in seeds:
        values, x = _logits(shape, chunks, seed=seed)
        lazy = x[(*before, da.from_array(keep, chunks=chunks[axis]))]
        assert np.isnan(lazy.shape[axis]) and lazy.numblocks[axis] == x.numblocks[axis]
        pairs.append((values[(*before, keep)], lazy))
    return pairs


@pytest.mark.parametrize("entry", entry_params(ELEMENTWISE, sample=True))
def test_elementwise_on_unknown_chunk_sizes(entry):
    (values, x), (g_values, g) = _unknown_along(0)
    a_values = entry.forward(values)
    a = entry.forward(x)
    for lazy, expected in [
        (a, a_values),
        (entry.derivative(x, a), entry.derivative(values, a_values)),
        (numba_act.activation_backward(x, a, entry.name, g, **entry.named), entry.vjp(values, a_values, g_values)),
    ]:
        assert np.isnan(lazy.shape[0]) and len(lazy.chunks[0]) == 3 and lazy.chunks[1] == x.chunks[1]
        np.testing.assert_array_equal(lazy.compute(), expected)


@pytest.mark.parametrize("entry", entry_params(ROWWISE, sample=True))
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_rowwise_along_every_axis_of_an_array_with_unknown_chunk_sizes(entry, axis):
    """Along the known axes the rows are merged into one chunk; the unknown axis (1) is never rechunked."""
    shape, chunks = (6, 40, 10), (2, 15, 4)
    (values, x), (g_values, g) = _unknown_along(1, shape, chunks)
    if axis == 1:  # unknown sizes over several chunks cannot be merged without their sizes
        with pytest.raises(ValueError, match=r"unknown chunk sizes \(nan\) along axis 1.*compute_chunk_sizes\(\)"):
            entry.forward(x, axis)
        with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
            numba_act.activation_backward(None, x, entry.name, g, axis=axis)
        # ... which is all it takes
        x, g = x.compute_chunk_sizes(), g.compute_chunk_sizes()
    g = g.rechunk({0: 3}) if axis != 1 else g  # other chunks than x's along a known axis
    a = entry.forward(x, axis)
    assert len(a.chunks[1]) == (3 if axis != 1 else 1) and a.numblocks[axis] == 1
    a_values = entry.forward(values, axis)
    np.testing.assert_array_equal(a.compute(), a_values)
    vjp = numba_act.activation_backward(None, a, entry.name, g, axis=axis)
    np.testing.assert_array_equal(vjp.compute(), entry.vjp(None, a_values, g_values, axis))
    np.testing.assert_array_equal(entry.derivative(x, a).compute(), np.ones_like(values))


def test_rowwise_along_an_unknown_axis_in_one_chunk():
    (values, x), (g_values, g) = _unknown_along(0, chunks=(60, 20))
    assert np.isnan(x.shape[0]) and x.numblocks[0] == 1
    for name in ("softmax", "log_softmax"):
        entry = numba_act.REGISTRY[name]
        a = entry.forward(x, 0)
        a_values = entry.forward(values, 0)
        np.testing.assert_array_equal(a.compute(), a_values)
        vjp = numba_act.activation_backward(None, a, name, g, axis=0)
        np.testing.assert_array_equal(vjp.compute(), entry.vjp(None, a_values, g_values, 0))


def test_unknown_chunk_sizes_that_cannot_be_lined_up_raise():
    (values, x), (_, g) = _unknown_along(0)
    with pytest.raises(ValueError, match=r"z has unknown chunk sizes \(nan\) along axis 0, where a's size is known"):
        numba_act.activation_backward(x, values, "silu", values)
    with pytest.raises(ValueError, match=r"grad has unknown .* call compute_chunk_sizes\(\) on grad first"):
        numba_act.activation_backward(None, da.from_array(values), "softmax", g)
    ((_, two_chunks),) = _unknown_along(0, chunks=(30, 20), seeds=(2,))
    with pytest.raises(ValueError, match="in 3 and 2 chunks, which cannot be lined up"):
        numba_act.activation_backward(x, x, "silu", two_chunks)
