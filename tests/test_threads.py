"""The thread pool (numba_act._parallel): how large calls are split, that
the split never shows in the results, that many caller threads and forked
children work, and that a large call allocates only its output."""

import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pytest
from conftest import PEAK_BYTES_SOURCE, SPLIT_SIZE, case
from test_api import UNARY, call_checked

import numba_act
from numba_act import NAMES, REGISTRY, _parallel, activation_backward, activation_forward


def _work(x, g):
    """Every activation forward and backward on shared inputs."""
    results = []
    for name in numba_act.NAMES:
        named = getattr(case(name), "named", {})
        a = numba_act.activation_forward(x, name, **named)
        results += [a, numba_act.activation_backward(x, a, name, g, **named)]
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


def start_python(code, env):
    """A fresh interpreter running ``code`` with ``env`` added to the environment, its output captured."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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
    process = start_python(FORKED_CHILDREN_SOURCE, {"NUMBA_NUM_THREADS": "4"})
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
    process = start_python(code, {"NUMBA_CACHE_DIR": str(tmp_path / "cache")})
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    growth = float(out)
    assert growth < 1.15, f"peak memory grew by {growth:.2f}x the output"


def test_threads_for_follows_the_size_and_the_serial_block(monkeypatch):
    monkeypatch.setattr(_parallel.numba, "get_num_threads", lambda: 4)
    assert _parallel.threads_for(_parallel.MIN_SIZE - 1) == 1
    assert _parallel.threads_for(_parallel.MIN_SIZE) == 2
    assert _parallel.threads_for(100 * _parallel.MIN_SIZE) == 4
    assert _parallel.threads_for(_parallel.MIN_SIZE_MEMORY_BOUND - 1, _parallel.MIN_SIZE_MEMORY_BOUND) == 1
    with _parallel.serial():
        assert _parallel.threads_for(100 * _parallel.MIN_SIZE) == 1
        with _parallel.serial():
            pass
        assert _parallel.threads_for(100 * _parallel.MIN_SIZE) == 1  # nested blocks restore their own state
    assert _parallel.threads_for(100 * _parallel.MIN_SIZE) == 4


@pytest.mark.parametrize("n, threads", [(1000, 3), (64 * 7 + 5, 4), (10, 4), (5000, 1)])
def test_split_covers_every_element_once_in_aligned_chunks(n, threads):
    seen = np.zeros(n, int)
    starts = []
    lock = threading.Lock()

    def kernel(part, marks):
        with lock:
            starts.append(marks[0] if marks.size else None)
        part += 1

    _parallel.split(kernel, [seen, np.arange(n)], n, threads)
    np.testing.assert_array_equal(seen, np.ones(n, int))
    if threads > 1:
        assert all(s % 64 == 0 for s in starts if s is not None)  # chunks start on whole cache lines


def test_split_raises_what_a_chunk_raised_after_every_chunk_ran():
    done = []

    def kernel(part):
        done.append(part.size)
        if part[0] == 0:
            raise ValueError("first chunk")

    with pytest.raises(ValueError, match="first chunk"):
        _parallel.split(kernel, [np.arange(4096)], 4096, 4)
    assert sum(done) == 4096


@pytest.mark.parametrize("name", list(NAMES))
def test_large_backward_gives_the_same_result_as_in_pieces(name):
    # Large calls are split over threads: the pieces must not show.
    rng = np.random.default_rng(6)
    z = rng.normal(scale=4, size=(SPLIT_SIZE // 5 + 3, 5))
    g = rng.normal(size=z.shape)
    assert z.size >= SPLIT_SIZE
    named = getattr(case(name), "named", {})
    a = activation_forward(z, name, **named)
    parts = list(zip(np.array_split(z, 40), np.array_split(a, 40), np.array_split(g, 40), strict=True))
    for grad in (None, g):
        got = activation_backward(z, a, name, grad, **named)
        expected = np.concatenate(
            [activation_backward(zp, ap, name, None if grad is None else gp, **named) for zp, ap, gp in parts]
        )
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", list(UNARY))
def test_large_arrays_split_over_threads_give_the_same_result(name):
    # Large calls are split over threads: the pieces must not show.
    x = np.random.default_rng(0).normal(scale=5, size=(SPLIT_SIZE // 5 + 3, 5))
    assert x.size >= SPLIT_SIZE
    expected = np.concatenate([call_checked(name, part) for part in np.array_split(x, 40)])
    np.testing.assert_array_equal(call_checked(name, x), expected)
    out = np.full_like(x, 7)
    assert call_checked(name, x, out=out) is out
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(call_checked(name, np.asfortranarray(x)), expected)


@pytest.mark.parametrize("entry", [pytest.param(case(name), id=name) for name in REGISTRY])
def test_calls_split_over_threads_from_each_kernels_own_size(entry, monkeypatch):
    """Memory-bound kernels (relu, the backward passes computed from a) are
    split from a larger size than those that take an exp; below its own
    size, a call never touches a thread."""
    splits = []
    split = _parallel.split

    def recorded(kernel, arrays, n, threads, **options):
        splits.append(threads)
        return split(kernel, arrays, n, threads, **options)

    monkeypatch.setattr(_parallel, "split", recorded)
    split_in = [2] if numba.get_num_threads() >= 2 else []
    forward_kernels, vjp_kernels = entry.ops.forward, entry.ops.vjp
    assert {forward_kernels.min_parallel, vjp_kernels.min_parallel} <= {
        _parallel.MIN_SIZE,
        _parallel.MIN_SIZE_MEMORY_BOUND,
    }
    for kernels in (forward_kernels, vjp_kernels):
        for size, expected in ((kernels.min_parallel - 8, []), (kernels.min_parallel, split_in)):
            x = np.linspace(-3, 3, size).reshape(-1, 8)
            splits.clear()
            if kernels is forward_kernels:
                entry.forward(x)
            else:
                entry.vjp(x, x, x)
            assert splits == expected, (kernels, size)
