"""``python -m numba_act.bench``: the timing loop runs over the registry, and the
alternatives it times numba_act against compute the same thing."""

import io
import os
import threading

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


def test_entries_with_parameters_run_with_the_table_or_their_defaults():
    assert bench.bench_params("sigmoid") == {}
    assert bench.bench_params("leaky_relu") == {"negative_slope": 0.01}
    assert bench.bench_params("threshold") == bench.BENCH_PARAMS["threshold"]  # no defaults: from the table
    for name, entry in REGISTRY.items():
        values = bench.bench_params(name)
        assert list(values) == [p.name for p in entry.params]
        assert all(type(v) is float for v in values.values())  # as numba_act takes them (None: its float)
    rows = bench.run(
        names=["threshold", "hardtanh"],
        dtypes=("float64",),
        sizes=(100,),
        thread_modes=("one",),
        budget=0.001,
        stream=io.StringIO(),
    )
    assert {(r["name"], r["direction"]) for r in rows if r["impl"] == "numba_act"} == {
        (n, d) for n in ("threshold", "hardtanh") for d in ("forward", "backward")
    }
    assert {tuple(r["params"].items()) for r in rows if r["name"] == "hardtanh"} == {
        (("min_val", -1.0), ("max_val", 1.0))
    }


def test_other_libraries_get_the_parameters_or_no_column(monkeypatch):
    def takes_none(x):
        return x

    def takes_min_val(x, min_val):
        return (x, min_val)

    assert bench._with_params(takes_none, "hardtanh") is takes_none  # the defaults: nothing to pass
    assert bench._with_params(takes_min_val, "hardtanh")(1.0) == (1.0, -1.0)
    monkeypatch.setitem(bench.BENCH_PARAMS, "hardtanh", {"min_val": -2.0})
    assert bench._with_params(takes_none, "hardtanh") is None  # it would compute something else
    assert bench._with_params(takes_min_val, "hardtanh")(1.0) == (1.0, -2.0)
    assert bench._with_params(takes_min_val, "threshold") is None  # no value for a required parameter


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


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="threads are pinned with sched_setaffinity")
def test_one_thread_mode_holds_every_thread_to_one_core(monkeypatch):
    import numba

    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true --xla_dump_to=nowhere")
    affinity_before = os.sched_getaffinity(0)
    stop = threading.Event()
    waiting = threading.Thread(target=stop.wait)  # a library's pool thread, started before the run
    waiting.start()
    seen = []

    def probe(name, direction):
        def call(x, a, g):
            started = threading.Thread(target=lambda: seen.append(("started", os.sched_getaffinity(0))))
            started.start()
            started.join()
            seen.append(("caller", os.sched_getaffinity(0)))
            seen.append(("waiting", os.sched_getaffinity(waiting.native_id)))
            seen.append(("XLA_FLAGS", os.environ["XLA_FLAGS"]))
            seen.append(("numba", numba.get_num_threads()))

        return call

    monkeypatch.setattr(bench, "IMPLEMENTATIONS", {"numba_act": bench._numba_act, "probe": probe})
    try:
        bench.run(
            names=["relu"],
            dtypes=("float32",),
            sizes=(100,),
            directions=("forward",),
            thread_modes=("one",),
            budget=0.001,
            stream=io.StringIO(),
        )
    finally:
        stop.set()
        waiting.join()
    values = {key: {str(v) for k, v in seen if k == key} for key, _ in seen}
    core = {str({min(affinity_before)})}
    assert values["caller"] == values["waiting"] == values["started"] == core
    assert values["XLA_FLAGS"] == {"--xla_dump_to=nowhere " + " ".join(bench.ONE_THREAD_XLA_FLAGS)}
    assert values["numba"] == {"1"}
    # and all is as it was after the run
    assert os.sched_getaffinity(0) == affinity_before
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_multi_thread_eigen=true --xla_dump_to=nowhere"


@pytest.mark.parametrize("direction", ["forward", "backward"])  # backward: the VJP
@pytest.mark.parametrize("library", ["jax", "torch"])
@pytest.mark.parametrize("name", list(REGISTRY))
def test_other_libraries_compute_the_same_thing_from_the_same_inputs(library, name, direction):
    pytest.importorskip(library)
    rng = np.random.default_rng(0)
    x, a, g = bench._inputs(name, (8, 16), np.float64, rng)
    theirs = bench.IMPLEMENTATIONS[library](name, direction)
    if theirs is None:
        pytest.skip(f"{library} has no {name}")
    got = np.asarray(theirs(*bench._convert(library, [x, a, g])))
    np.testing.assert_allclose(got, bench._numba_act(name, direction)(x, a, g), rtol=1e-6, atol=1e-9)
    if direction == "backward" and name in ("sigmoid", "tanh", "softmax", "log_softmax"):
        # Their VJP is a function of a: handed another a, it must use it, as
        # numba_act and torch do, rather than compute the forward pass again.
        other = np.abs(bench._inputs(name, (8, 16), np.float64, rng)[1])
        args = bench._convert(library, [x, other, g])
        expected = bench._numba_act(name, "backward")(x, other, g)
        np.testing.assert_allclose(np.asarray(theirs(*args)), expected, rtol=1e-6, atol=1e-9)


def test_the_fast_tier_is_timed_where_it_differs():
    rows = bench.run(
        names=["sigmoid", "relu"],
        dtypes=("float32",),
        sizes=(100,),
        thread_modes=("one",),
        budget=0.001,
        stream=io.StringIO(),
    )
    timed = {(r["name"], r["impl"]) for r in rows}
    assert ("sigmoid", "fast") in timed  # rebuilt from the fast primitives
    assert ("relu", "fast") not in timed  # the very function timed as numba_act


def test_goals_time_every_case_for_both_tiers(monkeypatch):
    monkeypatch.setattr(bench, "GOALS", {k: v for k, v in bench.GOALS.items() if k[2] != (10**5,)})
    stream = io.StringIO()
    results = bench.goals(budget=0.001, stream=stream)
    assert set(results) == set(bench.GOALS)
    for times in results.values():
        assert {"numba_act", "fast", "numpy"} <= set(times) and min(times.values()) > 0
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 + 2 * len(bench.GOALS) and "numpy/na" in lines[2]  # torch and jax: when installed


def test_the_floor_and_the_first_calls_are_measured(monkeypatch):
    floor = bench.empty_call_floor(budget=0.001)
    assert all(v > 0 for v in floor.values()) and len(floor) == 4
    monkeypatch.setattr(bench, "FIRST_CALLS", (("relu", "float32", ".fast"),))
    ((label, seconds),) = bench.first_calls().items()
    assert label == "numba_act.fast.relu float32" and 0 < seconds < 60
