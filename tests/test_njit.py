"""The public names called from user ``@njit`` code (numba_act.api's
overloads) give what they give from Python: array calls, scalar calls in
``prange`` loops, by-name dispatch with literal names, ``gelu``'s
``approximate`` and ``out=``.
"""

import numba
import numpy as np
import pytest
from conftest import ELEMENTWISE, case, entry_params, sampled
from numba import njit, prange

import numba_act
from numba_act import REGISTRY

# Every public function of one array argument.
PUBLIC = [entry.name for entry in REGISTRY.values()]
PUBLIC += ["sigmoid_derivative_from_activation", "relu_derivative_from_pre_activation"]


def _x(dtype):
    return np.linspace(-9.0, 7.0, 24).reshape(4, 6).astype(dtype)


@pytest.mark.parametrize("name", [sampled(name, name) if name in REGISTRY else name for name in PUBLIC])
def test_array_call(name, dtype):
    f = getattr(numba_act, name)
    values = case(name).values if name in REGISTRY and not REGISTRY[name].rowwise else ()
    call = njit(_with_values("lambda x: f(x{})", values, f=f))
    x = _x(dtype)
    got = call(x)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, f(x, *values))


def _with_values(source, values, **namespace):
    """``eval(source)`` with the parameter values written in where ``{}`` stands (", v[0], v[1]")."""
    return eval(source.format("".join(f", v[{i}]" for i in range(len(values)))), {**namespace, "v": values})


def _prange_loop(entries):
    """An ``@njit(parallel=True)`` function whose ``prange`` loop calls every
    entry's forward, derivative and vjp on scalars.  Generated from the
    registry so that it compiles once per dtype rather than once per entry
    (each parallel compilation costs seconds)."""
    namespace = {"prange": prange}
    body = []
    for k, bound in enumerate(entries):
        entry = bound.entry
        namespace.update({f"forward_{k}": entry.forward, f"derivative_{k}": entry.derivative, f"vjp_{k}": entry.vjp})
        namespace[f"values_{k}"] = bound.values
        p = "".join(f", values_{k}[{i}]" for i in range(len(bound.values)))
        body += [
            f"        a = forward_{k}(z[i]{p})",
            f"        out[{k}, 0, i] = a",
            f"        out[{k}, 1, i] = derivative_{k}(z[i], a{p})",
            f"        out[{k}, 2, i] = vjp_{k}(z[i], a, g[i]{p})",
        ]
    source = "def loop(z, g, out):\n    for i in prange(z.size):\n" + "\n".join(body) + "\n    return out\n"
    exec(source, namespace)
    return njit(parallel=True)(namespace["loop"])


@pytest.fixture(scope="module")
def prange_loop():
    return _prange_loop(ELEMENTWISE)


def test_scalar_calls_in_prange(prange_loop, dtype):
    z = np.concatenate([_x(dtype).ravel(), np.array([0.0, -0.0, 0.5, -1.5, 30.0, np.inf, -np.inf, np.nan], dtype)])
    g = np.linspace(-1, 1, z.size).astype(dtype)
    out = prange_loop(z, g, np.full((len(ELEMENTWISE), 3, z.size), 7, dtype))
    mismatches = []
    for k, entry in enumerate(ELEMENTWISE):
        a = entry.forward(z)
        for what, got, expected in (
            ("forward", out[k, 0], a),
            ("derivative", out[k, 1], entry.derivative(z, a)),
            ("vjp", out[k, 2], entry.vjp(z, a, g)),
        ):
            differ = ~((got == expected) | (np.isnan(got) & np.isnan(expected)))
            if differ.any():
                i = np.flatnonzero(differ)[0]
                mismatches.append(
                    f"{entry.name} {what}: {differ.sum()} of {z.size} differ, e.g. at z={z[i]!r}: "
                    f"{got[i]!r} in prange, {expected[i]!r} from Python"
                )
    assert not mismatches, "\n".join(mismatches)


def test_scalar_call_types():
    sigmoid = numba_act.sigmoid
    call = njit(lambda v: sigmoid(v))
    assert call(np.float32(0.5)) == sigmoid(np.float32(0.5))
    assert isinstance(call(np.float32(0.5)), float)  # Numba returns Python floats; the value is float32's
    assert call(np.float32(0.5)) == float(np.float32(sigmoid(np.float32(0.5))))
    assert call(2) == sigmoid(2.0)  # an integer is computed in float64
    assert call(2.5) == sigmoid(2.5)


def test_activation_forward_with_a_literal_name():
    @njit
    def forward(x):
        return numba_act.activation_forward(x, "relu"), numba_act.activation_forward(x, "softmax")

    for dtype in (np.float32, np.float64):
        x = _x(dtype)
        relu, softmax = forward(x)
        np.testing.assert_array_equal(relu, numba_act.relu(x))
        np.testing.assert_array_equal(softmax, numba_act.softmax(x))


def test_activation_backward_with_a_literal_name():
    @njit
    def backward(z, a, g):
        return (
            numba_act.activation_backward(z, a, "sigmoid", g),
            numba_act.activation_backward(z, a, "sigmoid"),
            numba_act.activation_backward(z, a, "softmax"),
        )

    z = _x(np.float64)
    a = numba_act.sigmoid(z)
    g = np.cos(z)
    vjp, local, ones = backward(z, a, g)
    np.testing.assert_array_equal(vjp, numba_act.activation_backward(z, a, "sigmoid", g))
    np.testing.assert_array_equal(local, numba_act.activation_backward(z, a, "sigmoid"))
    np.testing.assert_array_equal(ones, np.ones_like(a))


def test_softmax_vjp_by_name():
    @njit
    def backward(z, a, g):
        return numba_act.activation_backward(z, a, "softmax", g)

    z = _x(np.float32)
    a = numba_act.softmax(z)
    g = np.sin(z)
    np.testing.assert_array_equal(backward(z, a, g), numba_act.activation_backward(z, a, "softmax", g))


def test_gelu_approximate_literal():
    @njit
    def both(x):
        return numba_act.gelu(x, "tanh"), numba_act.gelu(x, approximate="none")

    x = _x(np.float64)
    tanh_form, exact = both(x)
    np.testing.assert_array_equal(tanh_form, numba_act.gelu(x, approximate="tanh"))
    np.testing.assert_array_equal(exact, numba_act.gelu(x))


def test_gelu_default_approximate():
    @njit
    def default(x):
        return numba_act.gelu(x)

    x = _x(np.float64)
    np.testing.assert_array_equal(default(x), numba_act.gelu(x))
    assert default(x[0, 0]) == numba_act.gelu(x[0, 0])


def test_out_from_njit():
    sigmoid, softmax = numba_act.sigmoid, numba_act.softmax

    @njit
    def into(x, out1, out2):
        r1 = sigmoid(x, out1)
        r2 = softmax(x, out=out2)
        return r1, r2

    x = _x(np.float64)
    out1, out2 = np.full_like(x, 7), np.full_like(x, 7)
    r1, r2 = into(x, out1, out2)
    np.testing.assert_array_equal(out1, sigmoid(x))
    np.testing.assert_array_equal(out2, softmax(x))
    np.testing.assert_array_equal(r1, out1)
    np.testing.assert_array_equal(r2, out2)
    out1[0, 0] = -1.0  # the returned arrays are out themselves, not copies
    out2[0, 0] = -1.0
    assert r1[0, 0] == -1.0 and r2[0, 0] == -1.0


def test_out_wrong_shape_from_njit_raises():
    sigmoid = numba_act.sigmoid
    call = njit(lambda x, out: sigmoid(x, out))
    x = _x(np.float64)
    out = np.full((3, 6), 7.0)
    with pytest.raises(ValueError):
        call(x, out)
    assert (out == 7).all()


def test_rowwise_other_axis_from_njit_raises():
    softmax = numba_act.softmax
    call = njit(lambda x: softmax(x, 0))
    with pytest.raises(ValueError, match="last axis"):
        call(_x(np.float64))


@pytest.mark.parametrize("entry", entry_params([case(name) for name in REGISTRY], sample=True))
def test_out_overlapping_an_input_from_njit(entry):
    """An out that partly overlaps an input, or is one, gets the result of the
    inputs copied first, as from Python (one rule: numba_act._jit.out_alias)."""
    values = getattr(entry, "values", ())
    forward = njit(_with_values("lambda x, out: f(x{}, out=out)", values, f=REGISTRY[entry.name].forward))
    vjp = njit(_with_values("lambda z, a, g, out: f(z, a, g{}, out=out)", values, f=REGISTRY[entry.name].vjp))

    @njit
    def calls(buf, shift):
        n = (buf.size - shift) // 6 * 6
        x, out = buf[:n].reshape(-1, 6), buf[shift : shift + n].reshape(-1, 6)
        forward(x, out)
        g = buf[shift : shift + n].reshape(-1, 6)
        vjp(x, x, g, g)  # out is g itself and partly overlaps z and a
        return buf

    for shift in (1, 6, 0):  # by one element, by one row, the very input
        buf = np.linspace(-3.0, 4.0, 25)
        n = (buf.size - shift) // 6 * 6
        x = buf[:n].reshape(-1, 6).copy()
        expected = buf.copy()
        expected[shift : shift + n] = entry.forward(x).reshape(-1)
        g = expected[shift : shift + n].reshape(-1, 6).copy()
        expected[shift : shift + n] = entry.vjp(
            expected[:n].reshape(-1, 6).copy(), expected[:n].reshape(-1, 6).copy(), g
        ).reshape(-1)
        np.testing.assert_array_equal(calls(buf, shift), expected, err_msg=f"shift {shift}")


def _typing_error(function, *args):
    from numba.core.errors import TypingError

    with pytest.raises(TypingError) as caught:
        function(*args)
    return str(caught.value)


def test_njit_takes_the_dtypes_python_takes():
    # Integer input is computed in float64 and mixed float dtypes promote, as from Python.
    forward = njit(lambda x: numba_act.activation_forward(x, "relu"))
    x = np.arange(-3, 3)
    np.testing.assert_array_equal(forward(x), numba_act.activation_forward(x, "relu"))
    backward = njit(lambda z, a, g: numba_act.activation_backward(z, a, "sigmoid", grad=g))
    z = np.linspace(-2, 2, 5).astype(np.float32)
    got = backward(z, numba_act.sigmoid(z), np.ones(5))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(
        got, numba_act.activation_backward(z, numba_act.sigmoid(z), "sigmoid", grad=np.ones(5))
    )


def test_njit_errors_say_what_python_says():
    message = _typing_error(njit(lambda x: numba_act.sigmoid(x)), np.ones(3, np.complex128))
    assert "x has dtype complex128; numba_act accepts float16, float32, float64, integer or bool input" in message
    message = _typing_error(njit(lambda x: numba_act.activation_forward(x, "nope")), np.ones(3))
    assert "unknown activation 'nope'; valid names: sigmoid" in message
    call = njit(lambda z, a, g: numba_act.activation_backward(z, a, "sigmoid", grad=g))
    with pytest.raises(ValueError, match=r"^numba_act: grad has shape \(4,\), expected \(3,\) \(the shape of z\)$"):
        call(np.ones(3), np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match=r"^numba_act: out has shape \(2, 2\), expected \(4,\) \(the shape of x\)$"):
        njit(lambda x, out: numba_act.softmax(x, out=out))(np.ones(4), np.ones((2, 2)))


def test_njit_name_known_only_at_run_time():
    message = _typing_error(njit(lambda x, names: numba_act.activation_forward(x, names[0])), np.ones(3), ["relu"])
    assert "the activation name must be a compile-time constant: a literal such as 'relu'" in message
    assert "numba.literally" in message
    assert "Cannot request literal type" not in message

    @njit
    def by_argument(x, name):
        return numba_act.activation_forward(x, numba.literally(name))

    x = np.linspace(-2, 2, 6)
    np.testing.assert_array_equal(by_argument(x, "softmax"), numba_act.softmax(x))


def test_njit_refuses_float16_among_the_inputs():
    vjp = REGISTRY["sigmoid"].vjp
    call = njit(lambda z, a, g: vjp(z, a, g))
    one = np.ones(3, np.float32)
    assert "not float16" in _typing_error(call, one, one.astype(np.float16), one)
