"""What the public functions take and give: the dtype rules (float32 and
float64 kept, float16 computed in float32, integers and bool giving
float64), every layout (strided, Fortran, negative strides, byte-swapped,
0-d, empty, lists, scalars), ndarray subclasses (masked arrays, np.matrix),
and how calls reach the compiled ops: small native arrays straight, what
those cannot take the general path.

The dtypes that raise are in test_bad_input.py; ``out=`` is in test_out.py.
"""

import numpy as np
import pytest
from conftest import ELEMENTWISE, LAYOUTS, ROWWISE, SPLIT_SIZE, case, plain_copy, sampled
from test_api import UNARY, base_array, call_checked, unary, unary_param

import numba_act
from numba_act import REGISTRY, _arrays

# ----------------------------------------------------------------- dtypes


@unary
def test_float_dtypes_are_kept(name, dtype):
    result = call_checked(name, base_array(dtype))
    assert result.dtype == dtype


@unary
def test_float16_is_computed_in_float32(name):
    x = base_array(np.float16)
    result = call_checked(name, x)
    assert result.dtype == np.float16
    np.testing.assert_array_equal(result, call_checked(name, x.astype(np.float32)).astype(np.float16))


@unary
@pytest.mark.parametrize("int_dtype", [np.bool_, np.int8, np.uint16, np.int32, np.int64])
def test_integer_and_bool_give_float64(name, int_dtype):
    x = np.arange(-6, 6).reshape(3, 4).astype(int_dtype)
    result = call_checked(name, x)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, call_checked(name, x.astype(np.float64)))


# ------------------------------------------------------- shapes and layouts

# Layouts the entry point converts to a plain array before any kernel sees them;
# the others reach the compiled code as they are, so each is a compilation:
# they are checked on one function of each kind of kernel (all functions of
# a kind are built by the same factory), in both dtypes for the first.
CONVERTED_LAYOUTS = ["C", "byte_swapped", "1d", "0d", "empty", "empty_rows", "list", "scalar"]
DIRECT_LAYOUTS = [name for name in LAYOUTS if name not in CONVERTED_LAYOUTS]
REPRESENTATIVES = [
    unary_param(ELEMENTWISE[0].name, np.float32, id=f"{ELEMENTWISE[0].name}-float32"),
    unary_param(ELEMENTWISE[0].name, np.float64, id=f"{ELEMENTWISE[0].name}-float64"),
    unary_param(ROWWISE[0].name, np.float64, id=f"{ROWWISE[0].name}-float64"),
    unary_param("relu_derivative_from_pre_activation", np.float64, id="relu_derivative_from_pre_activation-float64"),
]


def _check_layout(name, x):
    plain = plain_copy(x)
    result = call_checked(name, x)
    expected = call_checked(name, plain)
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
    _check_layout(name, LAYOUTS[layout](base_array(dtype)))


@pytest.mark.parametrize("name, dtype", REPRESENTATIVES)
@pytest.mark.parametrize("layout", DIRECT_LAYOUTS)
def test_strided_layout_gives_the_plain_result(name, dtype, layout):
    _check_layout(name, LAYOUTS[layout](base_array(dtype)))


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


# ---------------------------------------------------------- ndarray subclasses


@unary
def test_masked_input_keeps_its_mask(name):
    data = np.array([[1.0, 1000.0, 2.0, -3.0], [0.5, -2.0, 40.0, 1.0]])
    mask = np.array([[0, 1, 0, 0], [1, 0, 0, 1]], bool)
    got = UNARY[name](np.ma.array(data, mask=mask))
    assert isinstance(got, np.ma.MaskedArray)
    np.testing.assert_array_equal(np.ma.getmaskarray(got), mask)
    if name in REGISTRY and REGISTRY[name].rowwise:  # masked elements are left out of each row
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


def test_masked_zero_d_as_ufuncs_give():
    assert numba_act.sigmoid(np.ma.masked_array(1.0, mask=True)) is np.ma.masked
    got = numba_act.sigmoid(np.ma.masked_array(1.0, mask=False))
    assert isinstance(got, np.ma.MaskedArray) and got.ndim == 0 and got == numba_act.sigmoid(1.0)


# ---------------------------------------------------------- the compiled ops

# Small native arrays of the layouts the compiled ops take as they are.
FAST_PATH_LAYOUTS = ["C", "F", "non_contiguous", "negative_stride", "read_only", "1d", "3d", "empty"]


def _general_path(entry, kind, arrays, out=None):
    """The result of the general path itself, for ``kind`` "forward", "derivative" or "vjp"."""
    op = getattr(entry.ops, kind).bind(getattr(entry, "values", ()))
    if entry.rowwise:
        arrays = arrays[-2:] if kind == "vjp" else arrays
        return _arrays.rows(op, arrays, -1, out, ("x", "y")[: len(arrays)])
    return _arrays.elementwise(op, arrays, out, ("x", "y", "z")[: len(arrays)])


# Every activation on C-contiguous arrays, and every layout on one elementwise
# and one row-wise activation (each layout is another compilation of each
# kernel): by default sigmoid in every layout and softmax in two, the row
# kernels being the slowest to compile; the rest under -m slow.
_SOFTMAX_BY_DEFAULT = ("F", "non_contiguous")
FAST_PATH_CASES = (
    [sampled(name, case(name), "C", id=f"{name}-C") for name in REGISTRY]
    + [
        sampled(name, case(name), layout, id=f"{name}-{layout}")
        for name in ("sigmoid", "relu")
        for layout in FAST_PATH_LAYOUTS[1:]
    ]
    + [
        pytest.param(
            REGISTRY["softmax"],
            layout,
            id=f"softmax-{layout}",
            marks=() if layout in _SOFTMAX_BY_DEFAULT else pytest.mark.slow,
        )
        for layout in FAST_PATH_LAYOUTS[1:]
    ]
)


@pytest.mark.parametrize("entry, layout", FAST_PATH_CASES)
def test_small_calls_go_straight_to_the_compiled_ops(entry, layout, dtype, monkeypatch):
    """Small native arrays, with or without ``out=`` (a separate array, or an
    input for in-place work), are checked in compiled code and never reach
    the general path's conversions, which cost several times the kernel on such
    calls.  The results are the general path's."""
    z = LAYOUTS[layout](np.linspace(-3, 3, 40).reshape(8, 5).astype(dtype))
    g = LAYOUTS[layout](np.linspace(1, 2, 40).reshape(8, 5).astype(dtype))
    a = _general_path(entry, "forward", (z,))
    expected = {"forward": a, "vjp": _general_path(entry, "vjp", (z, a, g))}
    if not entry.rowwise:
        expected["derivative"] = _general_path(entry, "derivative", (z, a))

    def refused(*args, **kwargs):
        raise AssertionError("the general path was taken")

    for general_path in ("elementwise", "rows", "_prepare", "_run"):
        monkeypatch.setattr(_arrays, general_path, refused)
    np.testing.assert_array_equal(entry.forward(z), expected["forward"])
    named = getattr(entry, "named", {})
    np.testing.assert_array_equal(numba_act.activation_forward(z, entry.name, **named), expected["forward"])
    np.testing.assert_array_equal(entry.vjp(z, a, g), expected["vjp"])
    np.testing.assert_array_equal(numba_act.activation_backward(z, a, entry.name, g, **named), expected["vjp"])
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
