"""``python -m numba_act.bench``: the timing loop runs over the registry, and the
alternatives it times numba_act against compute the same thing."""

import io

import numpy as np
import pytest

from numba_act import REGISTRY, bench


def test_run_times_every_implementation_that_is_installed():
    stream = io.StringIO()
    rows = bench.run(
        names=["sigmoid", "softmax"],
        dtypes=("float32",),
        sizes=(100,),
        shapes=((4, 25),),
        thread_modes=("one",),
        budget=0.001,
        stream=stream,
    )
    cases = {(r["name"], r["direction"], r["impl"]) for r in rows}
    for name in ("sigmoid", "softmax"):
        for direction in ("forward", "backward"):
            assert (name, direction, "numba_act") in cases
            assert (name, direction, "numpy") in cases
    assert all(r["ns_per_element"] > 0 for r in rows)
    assert len(stream.getvalue().splitlines()) == 4  # a line per case


@pytest.mark.parametrize("name", list(REGISTRY))
def test_the_numpy_baseline_matches_numba_act(name):
    rng = np.random.default_rng(0)
    x, a, g = bench._inputs(name, (8, 16), np.float64, rng)
    for direction in ("forward", "backward"):
        ours = bench._numba_act(name, direction)(x, a, g)
        theirs = bench._numpy(name, direction)(x, a, g)
        np.testing.assert_allclose(theirs, ours, rtol=1e-6, atol=1e-9)


def test_two_stage_dask_softmax_is_exact():
    da = pytest.importorskip("dask.array")
    values = np.random.default_rng(0).normal(scale=6, size=(64, 300)).astype(np.float32)
    x = da.from_array(values, chunks=(16, 70))
    got = bench._two_stage_softmax(x).compute()
    expected = REGISTRY["softmax"].forward(values)
    np.testing.assert_allclose(got, expected, rtol=4 * np.finfo(np.float32).eps, atol=0)


def test_dask_throughput_reports_each_case():
    pytest.importorskip("dask.array")
    result = bench.dask_throughput(shape=(64, 256), chunks=(16, 64), budget=0.001)
    assert len(result) == 3
    assert all(ours > 0 and theirs > 0 for ours, theirs in result.values())
