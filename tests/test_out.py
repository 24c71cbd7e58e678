"""``out=``, for every public function that takes arrays: a valid ``out``
is filled and returned (in any memory order, float16, a memmap, byte-swapped);
a wrong one (shape, dtype, not an array, read-only, elements that share
memory) raises before anything is written; an input given as ``out`` (over
many blocks too), or another view of an input's very elements, is worked on
in place; an ``out`` that partly overlaps an input gets the result of a
copied input; and views interleaved in one buffer are no overlap.

The targets are test_bad_input.py's, whose matrix also checks that a bad
input leaves ``out`` unwritten.
"""

import re

import numpy as np
import pytest
from conftest import ELEMENTWISE, assert_unchanged, sampled, snapshot
from numpy.lib.stride_tricks import as_strided
from test_api import UNARY, base_array, call_checked, unary
from test_bad_input import SENTINEL, SHAPE, assert_raises, every_out_target, sentinel_out, valid_arrays

from numba_act import REGISTRY, _parallel
from numba_act import elementwise as elementwise_kernels

# ------------------------------------------------------------ a valid out


@every_out_target
def test_a_valid_call_fills_out(target):
    # The valid arguments of the matrices are valid: each failure in them is the bad argument's.
    args = valid_arrays(len(target.names))
    out = sentinel_out()
    assert target.call(*args, out=out) is out
    assert not (out == SENTINEL).any()


@unary
def test_out_is_filled_and_returned(name, dtype):
    x = base_array(dtype)
    expected = call_checked(name, x)
    for out in (np.full(x.shape, 7, dtype), np.full(x.shape, 7, dtype, order="F"), np.full((4, 12), 7, dtype)[:, ::2]):
        result = call_checked(name, x, out=out)
        assert result is out
        np.testing.assert_array_equal(out, expected)


@unary
def test_out_float16(name):
    x = base_array(np.float16)
    out = np.zeros(x.shape, np.float16)
    assert call_checked(name, x, out=out) is out
    np.testing.assert_array_equal(out, call_checked(name, x))


@pytest.mark.parametrize("name", ["sigmoid", "softmax"])
def test_memmap_in_and_out(name, tmp_path):
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    out = np.memmap(tmp_path / "out.dat", dtype=np.float32, mode="w+", shape=x.shape)
    assert UNARY[name](x, out=out) is out
    out.flush()
    np.testing.assert_array_equal(np.fromfile(tmp_path / "out.dat", np.float32).reshape(x.shape), UNARY[name](x))
    assert type(UNARY[name](out)) is np.ndarray  # a result of memmap input, as np.exp gives


@pytest.mark.parametrize("name", ["sigmoid", "softmax"])
def test_byte_swapped_out(name):
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    out = np.zeros(x.shape, ">f8")
    assert UNARY[name](x, out=out) is out
    np.testing.assert_array_equal(out, UNARY[name](x))


# ------------------------------------------------------------ a wrong out


BAD_OUTS = {
    "wrong_shape": (
        lambda: sentinel_out(shape=(3, 2)),
        ValueError,
        re.escape("out has shape (3, 2), expected (2, 3)"),
    ),
    "fewer_dims": (lambda: sentinel_out(shape=(6,)), ValueError, "out has shape"),
    "more_dims": (lambda: sentinel_out(shape=(1, 2, 3)), ValueError, "out has shape"),
    "empty": (lambda: sentinel_out(shape=(0,)), ValueError, "out has shape"),
    "float32": (lambda: sentinel_out(np.float32), TypeError, "out has dtype float32, expected float64"),
    "float16": (lambda: sentinel_out(np.float16), TypeError, "out has dtype float16, expected float64"),
    "int64": (lambda: sentinel_out(np.int64), TypeError, "out has dtype int64, expected float64"),
    "complex": (lambda: sentinel_out(complex), TypeError, "out has dtype complex128, expected float64"),
    "zero_stride": (
        lambda: as_strided(sentinel_out(shape=(3,)), SHAPE, (0, 8)),
        ValueError,
        re.escape("out has elements that share memory"),
    ),
    "overlapping_rows": (
        lambda: as_strided(sentinel_out(shape=(4,)), SHAPE, (8, 8)),
        ValueError,
        re.escape("out has elements that share memory"),
    ),
    "list": (lambda: sentinel_out().tolist(), TypeError, "out must be a numpy.ndarray, not list"),
    "scalar": (lambda: np.float64(SENTINEL), TypeError, "out must be a numpy.ndarray, not float64"),
}


@every_out_target
@pytest.mark.parametrize("case", list(BAD_OUTS))
def test_bad_out(target, case):
    make, error, message = BAD_OUTS[case]
    args = valid_arrays(len(target.names))
    kept = snapshot(*args)
    out = make()
    before = np.array(out, copy=True)
    assert_raises(lambda: target.call(*args, out=out), error, f"^{message}")
    np.testing.assert_array_equal(out, before, strict=True)
    assert_unchanged(kept)


@every_out_target
@pytest.mark.parametrize("layout", ["C", "strided", "F"])
def test_read_only_out(target, layout):
    args = valid_arrays(len(target.names))
    kept = snapshot(*args)
    out = {
        "C": sentinel_out(),
        "strided": sentinel_out(shape=(2, 6))[:, ::2],
        "F": np.asfortranarray(sentinel_out()),
    }[layout]
    out.flags.writeable = False
    assert_raises(lambda: target.call(*args, out=out), ValueError, "^out is read-only")
    assert (out == SENTINEL).all()
    assert_unchanged(kept)


@unary
@pytest.mark.parametrize(
    "make_out, error",
    [
        pytest.param(lambda x: np.full((4, 5), 7, x.dtype), ValueError, id="shape"),
        pytest.param(lambda x: np.full(x.T.shape, 7, x.dtype), ValueError, id="transposed_shape"),
        pytest.param(
            lambda x: np.full(x.shape, 7, np.float32 if x.dtype == np.float64 else np.float64), TypeError, id="dtype"
        ),
        pytest.param(lambda x: np.full(x.shape, 7, np.int64), TypeError, id="int_dtype"),
        pytest.param(lambda x: np.full(x.shape, 7, np.complex128), TypeError, id="complex_dtype"),
    ],
)
def test_wrong_out_raises_before_writing(name, dtype, make_out, error):
    x = base_array(dtype)
    out = make_out(x)
    before = out.copy()
    with pytest.raises(error):
        call_checked(name, x, out=out)
    np.testing.assert_array_equal(out, before)


# ------------------------------------------------------------ in place


@every_out_target
def test_out_that_is_an_input_is_in_place(target):
    # The input itself (the very array) may be out: that is not a partial overlap.
    for position in range(len(target.names)):
        args = valid_arrays(len(target.names))
        expected = target.call(*[a.copy() for a in args])
        assert target.call(*args, out=args[position]) is args[position]
        np.testing.assert_array_equal(args[position], expected)


@unary
@pytest.mark.parametrize("size", ["small", "large"])
def test_in_place(name, dtype, size):
    x = base_array(dtype) if size == "small" else np.random.default_rng(1).normal(size=(1 << 16, 5)).astype(dtype)
    expected = UNARY[name](x)
    y = x.copy()
    assert UNARY[name](y, out=y) is y
    np.testing.assert_array_equal(y, expected)


# Every entry over several blocks and a partial last one; silu also over threaded chunks.
_MANY_BLOCKS = [sampled(e.name, e, 2 * elementwise_kernels._BLOCK + 3) for e in ELEMENTWISE] + [
    sampled("silu", REGISTRY["silu"], _parallel.MIN_SIZE + 5, id="silu-threaded")
]


@pytest.mark.parametrize(("entry", "size"), _MANY_BLOCKS)
def test_out_that_is_an_input_over_many_blocks(entry, dtype, size):
    """An input given as ``out`` runs block by block through a buffer: every
    block, the last partial one and the threaded chunks are written."""
    rng = np.random.default_rng(6)
    z = rng.normal(scale=4, size=size).astype(dtype)
    a = entry.forward(z)
    g = rng.normal(size=size).astype(dtype)
    expected = (entry.forward(z), entry.derivative(z, a), entry.vjp(z, a, g))
    calls = [(entry.forward, (z,)), (entry.derivative, (z, a)), (entry.vjp, (z, a, g))]
    for (call, args), want in zip(calls, expected, strict=True):
        for position in range(len(args)):
            args_copy = [arg.copy() for arg in args]
            assert call(*args_copy, out=args_copy[position]) is args_copy[position]
            np.testing.assert_array_equal(args_copy[position], want)


@every_out_target
def test_out_of_an_inputs_very_elements_is_in_place(target):
    # Another view of the same elements, whose stride differs on an axis of
    # length one, where a stride steps nowhere: in-place work, not an overlap.
    for position in range(len(target.names)):
        args = [a.reshape(2, 1, 3) for a in valid_arrays(len(target.names))]
        expected = target.call(*[a.copy() for a in args])
        x = args[position]
        out = as_strided(x, x.shape, (x.strides[0], 8, x.strides[2]))
        assert target.call(*args, out=out) is out
        np.testing.assert_array_equal(x, expected)


# ------------------------------------------------------------ overlaps


def _overlapping(buf, shift):
    return buf[: buf.size - 1].reshape(SHAPE) if shift == 0 else buf[1:].reshape(SHAPE)


@every_out_target
@pytest.mark.parametrize("shift", [0, 1], ids=["out_after_input", "out_before_input"])
def test_out_partly_overlapping_each_input(target, shift):
    # As NumPy's ufuncs do: the result is that of the inputs copied first.
    for position in range(len(target.names)):
        args = valid_arrays(len(target.names))
        buf = np.linspace(-1, 1, 7)
        args[position] = _overlapping(buf, shift)
        expected = target.call(*[a.copy() for a in args])
        out = _overlapping(buf, 1 - shift)
        assert target.call(*args, out=out) is out
        np.testing.assert_array_equal(out, expected, err_msg=f"position {position}")


@unary
@pytest.mark.parametrize(
    "views",
    [
        pytest.param(lambda buf: (buf[:-1], buf[1:]), id="shifted_by_one"),
        pytest.param(lambda buf: (buf[:4].reshape(2, 2), buf[:4].reshape(2, 2).T), id="transposed"),
        pytest.param(lambda buf: (buf[::2][:4], buf[:4]), id="interleaved"),
    ],
)
def test_partly_overlapping_out_gets_the_result_of_a_copied_input(name, views):
    buf = np.linspace(-2, 3, 10)
    x, out = views(buf)
    expected = UNARY[name](x.copy())
    assert UNARY[name](x, out=out) is out
    np.testing.assert_array_equal(out, expected)


@every_out_target
def test_out_interleaved_with_the_inputs_is_not_an_overlap(target):
    # Views that share bounds but no element (buf[0::2] and buf[1::2]) are separate arrays.
    n = len(target.names)
    buf = np.zeros((2, 3 * (n + 1)))
    args = valid_arrays(n)
    for i, arg in enumerate(args):
        buf[:, i :: n + 1] = arg
    views = [buf[:, i :: n + 1] for i in range(n)]
    out = buf[:, n :: n + 1]
    out[...] = SENTINEL
    expected = target.call(*args)
    assert target.call(*views, out=out) is out
    np.testing.assert_array_equal(out, expected)
    for view, arg in zip(views, args, strict=True):
        np.testing.assert_array_equal(view, arg)
