"""The public functions of numba_act (numba_act.api, numba_act._arrays):
names and seed examples, dtype rules, every shape and layout, 0-d and scalar
input, and ``out=``.
"""

from collections.abc import Mapping

import numba
import numpy as np
import pytest
from conftest import ELEMENTWISE, LAYOUTS, ROWWISE, SPLIT_SIZE, assert_unchanged, plain_copy, snapshot

import numba_act
from numba_act import REGISTRY, _arrays, _parallel, reference

# Every public function of one array argument: the registry's names, plus
# the seed's two derivative helpers.
UNARY = {name: getattr(numba_act, name) for name in REGISTRY}
UNARY["sigmoid_derivative_from_activation"] = numba_act.sigmoid_derivative_from_activation
UNARY["relu_derivative_from_pre_activation"] = numba_act.relu_derivative_from_pre_activation

unary = pytest.mark.parametrize("name", list(UNARY))


def _base(dtype):
    """A (4, 6) C-contiguous array with values across the interesting range."""
    return np.linspace(-7.5, 6.0, 24).reshape(4, 6).astype(dtype)


def _call(name, x, **kwargs):
    """Call a public function and check that it left its input alone."""
    before = snapshot(x)
    result = UNARY[name](x, **kwargs)
    assert_unchanged(before)
    return result


# ------------------------------------------------------------ names, seed


PUBLIC_NAMES = (
    "sigmoid relu softmax tanh leaky_relu elu gelu gelu_tanh silu softplus log_softmax "
    "sigmoid_derivative_from_activation relu_derivative_from_pre_activation "
    "activation_forward activation_backward EPS ACTIVATIONS"
).split()


def test_public_names():
    for name in PUBLIC_NAMES:
        assert name in numba_act.__all__
        assert getattr(numba_act, name) is not None
    for entry in REGISTRY.values():
        assert callable(getattr(numba_act, entry.name))


def test_seed_examples():
    np.testing.assert_allclose(numba_act.sigmoid(np.array([[1.0, -2.0, 3.0]])), [[0.731, 0.119, 0.953]], atol=5e-4)
    np.testing.assert_array_equal(numba_act.relu(np.array([[-1.0, 0.0, 2.0]])), [[0.0, 0.0, 2.0]])
    probs = numba_act.softmax(np.array([[2.0, 1.0, 0.1]]))
    np.testing.assert_allclose(probs, [[0.659, 0.242, 0.099]], atol=5e-4)
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=0, atol=4e-16)
    z = np.array([[1.0, -1.0, 2.0]])
    a = numba_act.activation_forward(z, "relu")
    np.testing.assert_array_equal(a, [[1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(numba_act.activation_backward(z, a, "relu"), [[1.0, 0.0, 1.0]])
    x = np.random.default_rng(0).normal(size=(32, 10)).astype(np.float32)
    out = numba_act.activation_forward(x, "softmax")
    assert out.shape == (32, 10) and out.dtype == np.float32
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=0, atol=4 * np.finfo(np.float32).eps)


def test_eps():
    assert isinstance(numba_act.EPS, float)
    assert numba_act.EPS == reference.EPS
    assert 0 < numba_act.EPS < 1e-6


def test_activations_table():
    table = numba_act.ACTIVATIONS
    assert isinstance(table, Mapping)
    assert list(table) == list(REGISTRY)
    assert {"sigmoid", "relu", "softmax"} <= set(table)
    z = np.linspace(-3, 3, 13).reshape(1, 13)
    for name, pair in table.items():
        assert set(pair) == {"forward", "backward"}
        a = pair["forward"](z)
        np.testing.assert_array_equal(a, UNARY[name](z))
        np.testing.assert_array_equal(pair["backward"](z, a), numba_act.activation_backward(z, a, name))
    # the seed's three backward rules
    a = table["sigmoid"]["forward"](z)
    np.testing.assert_allclose(table["sigmoid"]["backward"](z, a), a * (1 - a), rtol=2e-16, atol=0)
    np.testing.assert_array_equal(table["relu"]["backward"](z, table["relu"]["forward"](z)), (z > 0).astype(float))
    a = table["softmax"]["forward"](z)
    np.testing.assert_array_equal(table["softmax"]["backward"](z, a), np.ones_like(a))


def test_sigmoid_derivative_from_activation(dtype):
    a = np.array([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0, np.nan], dtype)
    got = numba_act.sigmoid_derivative_from_activation(a)
    assert got.dtype == dtype
    expected = a.astype(np.float64) * (1 - a.astype(np.float64))
    np.testing.assert_allclose(got, expected, rtol=2 * np.finfo(dtype).eps, atol=0)


def test_relu_derivative_from_pre_activation(dtype):
    z = np.array([-np.inf, -1.0, -1e-30, -0.0, 0.0, 1e-30, 2.0, np.inf, np.nan], dtype)
    got = numba_act.relu_derivative_from_pre_activation(z)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.array([0, 0, 0, 0, 0, 1, 1, 1, np.nan], dtype))


def test_gelu_approximate(dtype):
    x = _base(dtype)
    exact, tanh_form = REGISTRY["gelu"].forward(x), REGISTRY["gelu_tanh"].forward(x)
    assert not np.array_equal(exact, tanh_form)
    np.testing.assert_array_equal(numba_act.gelu(x), exact)
    np.testing.assert_array_equal(numba_act.gelu(x, approximate="none"), exact)
    np.testing.assert_array_equal(numba_act.gelu(x, "none"), exact)
    np.testing.assert_array_equal(numba_act.gelu(x, approximate="tanh"), tanh_form)
    np.testing.assert_array_equal(numba_act.gelu(x, "tanh"), tanh_form)
    np.testing.assert_array_equal(numba_act.gelu_tanh(x), tanh_form)
    out = np.empty_like(x)
    assert numba_act.gelu(x, approximate="tanh", out=out) is out
    np.testing.assert_array_equal(out, tanh_form)


# ----------------------------------------------------------------- dtypes


@unary
def test_float_dtypes_are_kept(name, dtype):
    result = _call(name, _base(dtype))
    assert result.dtype == dtype


@unary
def test_float16_is_computed_in_float32(name):
    x = _base(np.float16)
    result = _call(name, x)
    assert result.dtype == np.float16
    np.testing.assert_array_equal(result, _call(name, x.astype(np.float32)).astype(np.float16))


@unary
@pytest.mark.parametrize("int_dtype", [np.bool_, np.int8, np.uint16, np.int32, np.int64])
def test_integer_and_bool_give_float64(name, int_dtype):
    x = np.arange(-6, 6).reshape(3, 4).astype(int_dtype)
    result = _call(name, x)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, _call(name, x.astype(np.float64)))


@unary
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(np.array([1 + 2j, 3j]), id="complex"),
        pytest.param(np.array([1.0, 2.0], dtype=object), id="object"),
        pytest.param(np.array(["1.0", "2.0"]), id="str_array"),
        pytest.param(np.array([1, 2], dtype="datetime64[s]"), id="datetime"),
    ],
)
def test_other_dtypes_raise_type_error_naming_the_accepted_ones(name, bad):
    with pytest.raises(TypeError, match="float32") as info:
        _call(name, bad)
    for word in ("float16", "float64", "int", "bool"):
        assert word in str(info.value)


# ------------------------------------------------------- shapes and layouts

# Layouts the entry point converts to a plain array before any kernel sees them;
# the others reach the compiled code as they are, so each is a compilation:
# they are checked on one function of each kind of kernel (all functions of
# a kind are built by the same factory), in both dtypes for the first.
CONVERTED_LAYOUTS = ["C", "byte_swapped", "1d", "0d", "empty", "empty_rows", "list", "scalar"]
DIRECT_LAYOUTS = [name for name in LAYOUTS if name not in CONVERTED_LAYOUTS]
REPRESENTATIVES = [
    pytest.param(ELEMENTWISE[0].name, np.float32, id=f"{ELEMENTWISE[0].name}-float32"),
    pytest.param(ELEMENTWISE[0].name, np.float64, id=f"{ELEMENTWISE[0].name}-float64"),
    pytest.param(ROWWISE[0].name, np.float64, id=f"{ROWWISE[0].name}-float64"),
    pytest.param("relu_derivative_from_pre_activation", np.float64, id="relu_derivative_from_pre_activation-float64"),
]


def _check_layout(name, x):
    plain = plain_copy(x)
    result = _call(name, x)
    expected = _call(name, plain)
    if np.ndim(x) == 0:
        assert isinstance(result, np.generic), f"0-d/scalar input should give a NumPy scalar, not {type(result)}"
    else:
        assert type(result) is np.ndarray
    assert result.dtype == expected.dtype and result.dtype.isnative
    assert np.shape(result) == np.shape(plain)
    np.testing.assert_array_equal(result, expected, strict=True)
    if np.ndim(x) and np.size(x):
        assert not np.shares_memory(result, x)


@unary
@pytest.mark.parametrize("layout", CONVERTED_LAYOUTS)
def test_layout_gives_the_plain_result(name, layout, dtype):
    _check_layout(name, LAYOUTS[layout](_base(dtype)))


@pytest.mark.parametrize("name, dtype", REPRESENTATIVES)
@pytest.mark.parametrize("layout", DIRECT_LAYOUTS)
def test_strided_layout_gives_the_plain_result(name, dtype, layout):
    _check_layout(name, LAYOUTS[layout](_base(dtype)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("size", ["small", "split"])
def test_fortran_input_gives_a_fortran_result_without_a_copy_in(dtype, size):
    # Elementwise results follow the input's memory order, as NumPy's ufuncs do.
    rows = 7 if size == "small" else SPLIT_SIZE // 50
    x = np.asfortranarray(np.random.default_rng(0).normal(0, 3, (rows, 100)).astype(dtype))
    entry = ELEMENTWISE[0]
    a = entry.forward(x)
    results = [a, entry.derivative(x, a), entry.vjp(x, a, x)]
    plain = [entry.forward(plain_copy(x))]
    plain += [entry.derivative(plain_copy(x), plain[0]), entry.vjp(plain_copy(x), plain[0], plain_copy(x))]
    for got, expected in zip(results, plain, strict=True):
        assert got.flags.f_contiguous and got.dtype == dtype
        np.testing.assert_array_equal(got, expected, strict=True)


@unary
def test_python_scalars_give_numpy_scalars(name, dtype):
    for value, result_dtype in ((1.5, np.float64), (-2, np.float64), (True, np.float64), (dtype(0.75), dtype)):
        result = _call(name, value)
        assert isinstance(result, np.generic) and result.dtype == result_dtype, (value, type(result))
        assert result == _call(name, np.array([value], result_dtype))[0]


# --------------------------------------------------------------------- out=


@unary
def test_out_is_filled_and_returned(name, dtype):
    x = _base(dtype)
    expected = _call(name, x)
    for out in (np.full(x.shape, 7, dtype), np.full(x.shape, 7, dtype, order="F"), np.full((4, 12), 7, dtype)[:, ::2]):
        result = _call(name, x, out=out)
        assert result is out
        np.testing.assert_array_equal(out, expected)


@unary
def test_out_float16(name):
    x = _base(np.float16)
    out = np.zeros(x.shape, np.float16)
    assert _call(name, x, out=out) is out
    np.testing.assert_array_equal(out, _call(name, x))


@unary
@pytest.mark.parametrize("size", ["small", "large"])
def test_in_place(name, dtype, size):
    x = _base(dtype) if size == "small" else np.random.default_rng(1).normal(size=(1 << 16, 5)).astype(dtype)
    expected = UNARY[name](x)
    y = x.copy()
    assert UNARY[name](y, out=y) is y
    np.testing.assert_array_equal(y, expected)


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
    x = _base(dtype)
    out = make_out(x)
    before = out.copy()
    with pytest.raises(error):
        _call(name, x, out=out)
    np.testing.assert_array_equal(out, before)


@unary
def test_out_not_an_array_raises_type_error(name):
    x = _base(np.float64)
    with pytest.raises(TypeError):
        _call(name, x, out=np.full(x.shape, 7.0).tolist())


@unary
def test_read_only_out_raises(name):
    x = _base(np.float64)
    out = np.full(x.shape, 7.0)
    out.flags.writeable = False
    with pytest.raises(ValueError):
        _call(name, x, out=out)
    assert (out == 7).all()


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


# ------------------------------------------------------------ large arrays


@unary
def test_large_arrays_split_over_threads_give_the_same_result(name):
    # Large calls are split over threads: the pieces must not show.
    x = np.random.default_rng(0).normal(scale=5, size=(SPLIT_SIZE // 5 + 3, 5))
    assert x.size >= SPLIT_SIZE
    expected = np.concatenate([_call(name, part) for part in np.array_split(x, 40)])
    np.testing.assert_array_equal(_call(name, x), expected)
    out = np.full_like(x, 7)
    assert _call(name, x, out=out) is out
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(_call(name, np.asfortranarray(x)), expected)


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.name) for e in REGISTRY.values()])
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
    forward_kernels, _, vjp_kernels = entry.ops
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


# Small native arrays of the layouts the compiled ops take as they are.
DOOR_LAYOUTS = ["C", "F", "non_contiguous", "negative_stride", "read_only", "1d", "3d", "empty"]


def _long_way(entry, kind, arrays, out=None):
    """The result of the general path itself, for ``kind`` "forward", "derivative" or "vjp"."""
    kernels = getattr(entry.ops, kind)
    if entry.rowwise:
        arrays = arrays[-2:] if kind == "vjp" else arrays
        return _arrays.rows(kernels, arrays, -1, out, ("x", "y")[: len(arrays)])
    return _arrays.elementwise(kernels, arrays, out, ("x", "y", "z")[: len(arrays)])


# Every activation on C-contiguous arrays; every layout on one elementwise and
# one row-wise activation (each layout is another compilation of each kernel).
DOOR_CASES = [pytest.param(e, "C", id=f"{e.name}-C") for e in REGISTRY.values()] + [
    pytest.param(REGISTRY[name], layout, id=f"{name}-{layout}")
    for name in ("relu", "softmax")
    for layout in DOOR_LAYOUTS[1:]
]


@pytest.mark.parametrize("entry, layout", DOOR_CASES)
def test_small_calls_go_straight_to_the_compiled_ops(entry, layout, dtype, monkeypatch):
    """Small native arrays, with or without ``out=`` (a separate array, or an
    input for in-place work), are checked in compiled code and never reach
    the general path's conversions, which cost several times the kernel on such
    calls.  The results are the general path's."""
    z = LAYOUTS[layout](np.linspace(-3, 3, 40).reshape(8, 5).astype(dtype))
    g = LAYOUTS[layout](np.linspace(1, 2, 40).reshape(8, 5).astype(dtype))
    a = _long_way(entry, "forward", (z,))
    expected = {"forward": a, "vjp": _long_way(entry, "vjp", (z, a, g))}
    if not entry.rowwise:
        expected["derivative"] = _long_way(entry, "derivative", (z, a))

    def refused(*args, **kwargs):
        raise AssertionError("the general path was taken")

    for general_path in ("elementwise", "rows", "_prepare", "_run"):
        monkeypatch.setattr(_arrays, general_path, refused)
    np.testing.assert_array_equal(entry.forward(z), expected["forward"])
    np.testing.assert_array_equal(numba_act.activation_forward(z, entry.name), expected["forward"])
    np.testing.assert_array_equal(entry.vjp(z, a, g), expected["vjp"])
    np.testing.assert_array_equal(numba_act.activation_backward(z, a, entry.name, g), expected["vjp"])
    if not entry.rowwise:
        np.testing.assert_array_equal(entry.derivative(z, a), expected["derivative"])
    out = np.full(z.shape, 7, dtype)
    assert entry.forward(z, out=out) is out
    np.testing.assert_array_equal(out, expected["forward"])
    assert entry.vjp(z, a, g, out=out) is out
    np.testing.assert_array_equal(out, expected["vjp"])
    if not (z.flags.c_contiguous and z.flags.writeable):
        return  # only a C-contiguous out is written in place as it is
    y, h = z.copy(), g.copy()
    assert entry.forward(y, out=y) is y
    np.testing.assert_array_equal(y, expected["forward"])
    assert entry.vjp(z, a, h, out=h) is h
    np.testing.assert_array_equal(h, expected["vjp"])


def test_the_compiled_ops_refuse_what_they_cannot_take(monkeypatch):
    """What the compiled ops cannot take as it is (a non-contiguous out,
    mixed dtypes, a 0-d input, a call large enough to split) goes the long
    way, with its results and errors; a partly overlapping out does not."""
    x = np.linspace(-3, 3, 64).astype(np.float32)
    taken = []
    elementwise = _arrays.elementwise
    monkeypatch.setattr(_arrays, "elementwise", lambda *args: taken.append(1) or elementwise(*args))
    relu = numba_act.relu
    shifted = x.copy()
    relu(shifted[1:], out=shifted[:-1])
    np.testing.assert_array_equal(shifted[:-1], np.maximum(x[1:], 0))
    strided = np.zeros(128, np.float32)[::2]
    assert relu(x, out=strided) is strided
    np.testing.assert_array_equal(strided, np.maximum(x, 0))
    interleaved = np.repeat(x, 2)
    relu(interleaved[::2], out=interleaved[1::2])  # shares bounds, not elements
    np.testing.assert_array_equal(interleaved[1::2], np.maximum(x, 0))
    vjp = REGISTRY["relu"].vjp(x, x, x.astype(np.float64))
    assert vjp.dtype == np.float64
    assert relu(np.float32(-2.0) * np.ones((), np.float32)) == 0
    big = np.ones(SPLIT_SIZE, np.float32)
    np.testing.assert_array_equal(relu(big), big)
    assert len(taken) == 5


# ------------------------------------------------------------ pickling


def _public_callables():
    """Every public callable: the package's functions, the ACTIVATIONS
    entries and every function of every registry entry."""
    found = {name: getattr(numba_act, name) for name in numba_act.__all__ if callable(getattr(numba_act, name))}
    for name, entry in REGISTRY.items():
        for part in ("forward", "derivative", "vjp", "reference", "reference_derivative", "reference_vjp"):
            found[f"REGISTRY[{name!r}].{part}"] = getattr(entry, part)
        for part, kernels in entry.ops._asdict().items():
            if kernels is not None:
                found[f"REGISTRY[{name!r}].ops.{part}"] = kernels
        for pass_, function in numba_act.ACTIVATIONS[name].items():
            found[f"ACTIVATIONS[{name!r}][{pass_!r}]"] = function
    return found


PUBLIC_CALLABLES = _public_callables()


@pytest.mark.parametrize("name", list(PUBLIC_CALLABLES))
def test_public_callables_pickle_by_reference(name):
    import pickle

    function = PUBLIC_CALLABLES[name]
    assert pickle.loads(pickle.dumps(function)) is function


@pytest.mark.parametrize("name", [n for n in numba_act.__all__ if callable(getattr(numba_act, n))])
def test_help_names_the_package(name):
    import pydoc

    function = getattr(numba_act, name)
    assert function.__module__ == "numba_act"
    assert pydoc.render_doc(function).splitlines()[0].endswith(" in module numba_act")


def test_a_spawned_pool_maps_a_public_function():
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(numba_act.sigmoid, [0.0, 1.0])
    assert results == [numba_act.sigmoid(0.0), numba_act.sigmoid(1.0)]


# ------------------------------------------------------------ ndarray subclasses


@unary
def test_masked_input_keeps_its_mask(name):
    data = np.array([[1.0, 1000.0, 2.0, -3.0], [0.5, -2.0, 40.0, 1.0]])
    mask = np.array([[0, 1, 0, 0], [1, 0, 0, 1]], bool)
    got = UNARY[name](np.ma.array(data, mask=mask))
    assert isinstance(got, np.ma.MaskedArray)
    np.testing.assert_array_equal(np.ma.getmaskarray(got), mask)
    if name in ("softmax", "log_softmax"):  # masked elements are left out of each row
        for row, values, keep in zip(got, data, ~mask, strict=True):
            np.testing.assert_allclose(row.compressed(), UNARY[name](values[keep]), rtol=1e-15)
    else:
        np.testing.assert_array_equal(got.compressed(), UNARY[name](data)[~mask])


def test_masked_rowwise_vjp_refuses_and_masked_out_refuses():
    a = np.ma.array([0.2, 0.8], mask=[0, 1])
    with pytest.raises(TypeError, match="masked"):
        REGISTRY["softmax"].vjp(None, a, np.ones(2))
    with pytest.raises(TypeError, match="masked"):
        numba_act.sigmoid(a, out=np.empty(2))


def test_masked_elementwise_vjp_masks_where_any_input_is():
    z = np.ma.array([1.0, 2.0, 3.0], mask=[1, 0, 0])
    g = np.ma.array([1.0, 1.0, 1.0], mask=[0, 0, 1])
    got = REGISTRY["sigmoid"].vjp(z, numba_act.sigmoid(z), g)
    np.testing.assert_array_equal(np.ma.getmaskarray(got), [True, False, True])


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("name", ["sigmoid", "softmax"])
def test_matrix_input_gives_a_matrix_as_ufuncs_do(name):
    x = np.matrix([[1.0, 2.0], [3.0, -4.0]])
    got = UNARY[name](x)
    assert type(got) is np.matrix
    np.testing.assert_array_equal(np.asarray(got), UNARY[name](np.asarray(x)))


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


def test_masked_zero_d_as_ufuncs_give():
    assert numba_act.sigmoid(np.ma.masked_array(1.0, mask=True)) is np.ma.masked
    got = numba_act.sigmoid(np.ma.masked_array(1.0, mask=False))
    assert isinstance(got, np.ma.MaskedArray) and got.ndim == 0 and got == numba_act.sigmoid(1.0)
