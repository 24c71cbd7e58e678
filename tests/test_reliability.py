"""Threads, processes and memory: the conditions of long training runs."""

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import PEAK_BYTES_SOURCE, SPLIT_SIZE

import numba_act


def _work(x, g):
    """Every activation forward and backward on shared inputs."""
    results = []
    for name in numba_act.NAMES:
        a = numba_act.activation_forward(x, name)
        results += [a, numba_act.activation_backward(x, a, name, g)]
    return results


@pytest.mark.parametrize("size", [1000, SPLIT_SIZE], ids=["small", "split"])
def test_eight_threads_get_the_serial_results(size):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((size // 100, 100)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    x_before, g_before = x.copy(), g.copy()
    expected = _work(x, g)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: _work(x, g), range(8)))
    for got in outcomes:
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(g, g_before)


def _run(code, env):
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_filling_one_empty_cache_at_once(tmp_path):
    code = """
        import numpy as np, numba_act
        x = np.linspace(-5, 5, 7).astype(np.float32)
        print(numba_act.sigmoid(x).tobytes().hex(), numba_act.softmax(x).tobytes().hex())
    """
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    first, second = _run(code, env), _run(code, env)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert first.returncode == 0, outs[0][1]
    assert second.returncode == 0, outs[1][1]
    assert outs[0][0] == outs[1][0]
    # and a third process loads what they wrote
    third = _run(code, env)
    out, err = third.communicate(timeout=300)
    assert third.returncode == 0, err
    assert out == outs[0][0]


FORKED_CHILDREN_SOURCE = """
import multiprocessing, sys, threading
import numpy as np, numba_act

N = 1 << 22  # split over the pool's threads


def child(_):
    return float(numba_act.sigmoid(np.zeros(N, np.float32)).sum())


if __name__ == "__main__":
    numba_act.sigmoid(np.zeros(N, np.float32))  # the parent's pool threads start
    stop = threading.Event()

    def busy():  # another parent thread in the middle of split calls when the children fork
        x = np.zeros(N, np.float32)
        while not stop.is_set():
            numba_act.sigmoid(x)

    thread = threading.Thread(target=busy)
    thread.start()
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            print(pool.map_async(child, range(6)).get(timeout=60))
    except multiprocessing.TimeoutError:
        print("children hung", file=sys.stderr)
        sys.exit(1)
    finally:
        stop.set()
        thread.join()
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_forked_children_run_large_calls_after_the_parent_did():
    """A child forked after the parent used its thread pool builds its own."""
    process = _run(FORKED_CHILDREN_SOURCE, {"NUMBA_NUM_THREADS": "4"})
    try:
        out, err = process.communicate(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert out.strip() == str([float(1 << 21)] * 6)


@pytest.mark.parametrize(
    "call, shape",
    [("numba_act.sigmoid(x)", (1 << 25,)), ("numba_act.softmax(x)", (1 << 12, 1 << 13))],
    ids=["sigmoid", "softmax"],
)
def test_a_large_call_allocates_only_its_output(call, shape, tmp_path):
    """Peak resident memory grows by the output (128 MiB here), not by temporaries."""
    code = PEAK_BYTES_SOURCE + textwrap.dedent(f"""
        import numpy as np, numba_act
        small = np.ones((4, 4), np.float32)
        {call.replace("(x)", "(small)")}  # compile and warm up first
        x = np.ones({shape}, np.float32)
        x += 0  # touch every page
        before = peak_bytes()
        y = {call}
        after = peak_bytes()
        print((after - before) / y.nbytes)
    """)
    process = _run(code, {"NUMBA_CACHE_DIR": str(tmp_path / "cache")})
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    growth = float(out)
    assert growth < 1.15, f"peak memory grew by {growth:.2f}x the output"
