"""Shared test machinery: the registry split by kind, references in float64
and mpmath, ulp distances, and the input layouts every public function must
accept.

The registry is the only list of activations the tests use; the mpmath
formulas below restate its math at high precision and are checked against
``Activation.reference`` in test_elementwise.py, so they cannot drift apart.
"""

import math

import mpmath
import numpy as np
import pytest

from numba_act import REGISTRY, _parallel

FLOATS = (np.float32, np.float64)
# A size from which every kernel's calls are split over threads.
SPLIT_SIZE = max(_parallel.MIN_SIZE, _parallel.MIN_SIZE_MEMORY_BOUND)
ELEMENTWISE = [entry for entry in REGISTRY.values() if not entry.rowwise]
ROWWISE = [entry for entry in REGISTRY.values() if entry.rowwise]


def entry_params(entries):
    return [pytest.param(entry, id=entry.name) for entry in entries]


@pytest.fixture(params=FLOATS, ids=lambda t: t.__name__)
def dtype(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(20240917)


# ------------------------------------------------------------------ mpmath

MP_DPS = 50


def _mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _mp_gelu_tanh_inner(x):
    return mpmath.sqrt(2 / mpmath.pi) * (x + mpmath.mpf(0.044715) * x**3)


def _mp_normal_cdf(x):
    # mpmath's erfc overflows a float internally beyond about 1e150; at 1e100
    # it is already 0 or 2 to far more than any float's precision.
    t = max(min(-x / mpmath.sqrt(2), mpmath.mpf("1e100")), mpmath.mpf("-1e100"))
    return mpmath.erfc(t) / 2


# Each activation's value at x.  1 + tanh(u) is written 2 sigmoid(2u) and
# 1 + erf(t) as erfc(-t) so the tails keep their relative accuracy.
MP_FORWARD = {
    "sigmoid": _mp_sigmoid,
    "relu": lambda x: x if x > 0 else mpmath.mpf(0),
    "tanh": mpmath.tanh,
    "leaky_relu": lambda x: x if x >= 0 else mpmath.mpf(0.01) * x,
    "elu": lambda x: x if x > 0 else mpmath.expm1(x),
    "gelu": lambda x: x * _mp_normal_cdf(x),
    "gelu_tanh": lambda x: x * _mp_sigmoid(2 * _mp_gelu_tanh_inner(x)),
    "silu": lambda x: x * _mp_sigmoid(x),
    "softplus": lambda x: mpmath.log1p(mpmath.exp(x)),
}


def _mp_gelu_tanh_grad(z, a):
    s = _mp_sigmoid(2 * _mp_gelu_tanh_inner(z))
    du = mpmath.sqrt(2 / mpmath.pi) * (1 + 3 * mpmath.mpf(0.044715) * z**2)
    return s + 2 * z * s * (1 - s) * du


# Each local derivative as a function of (z, a), the registry's convention:
# the ones written through a use the given a, not the exact f(z).
MP_DERIVATIVE = {
    "sigmoid": lambda z, a: a * (1 - a),
    "relu": lambda z, a: mpmath.mpf(1 if z > 0 else 0),
    "tanh": lambda z, a: 1 - a * a,
    "leaky_relu": lambda z, a: mpmath.mpf(1) if z > 0 else mpmath.mpf(0.01),
    "elu": lambda z, a: mpmath.mpf(1) if z > 0 else a + 1,
    "gelu": lambda z, a: _mp_normal_cdf(z) + z * mpmath.exp(-(z**2) / 2) / mpmath.sqrt(2 * mpmath.pi),
    "gelu_tanh": _mp_gelu_tanh_grad,
    "silu": lambda z, a: _mp_sigmoid(z) * (1 + z * (1 - _mp_sigmoid(z))),
    "softplus": lambda z, a: _mp_sigmoid(z),
}


def _mp_log_softmax_row(row):
    m = max(row)
    # log(sum) as log1p(sum - 1): the terms at the maximum are exactly 1, and
    # the rest may be far below what any working precision adds to 1.
    rest = mpmath.fsum(mpmath.exp(v - m) for v in row if v != m) + (sum(v == m for v in row) - 1)
    log_sum = mpmath.log1p(rest)
    return [(v - m) - log_sum for v in row]


# Each row-wise activation on one row (a list of finite mpf values).
MP_ROWWISE = {
    "softmax": lambda row: [mpmath.exp(v) for v in _mp_log_softmax_row(row)],
    "log_softmax": _mp_log_softmax_row,
}

# The registry's float64 formulas that lose the tails to cancellation
# (1 + erf(x/sqrt 2) and 1 + tanh(u) for x below about -5; log(1 + tiny) at
# the maximum of a log_softmax row): even for float32 results these need mpmath.
FLOAT64_REFERENCE_CANCELS = {"gelu", "gelu_tanh", "log_softmax"}

# An infinite argument is evaluated at this huge finite value, which gives
# the limit (silu(-inf) = -0.0, not -inf * 0).
_MP_HUGE = mpmath.mpf("1e400")


def _mp_arg(v):
    v = float(v)
    if math.isinf(v):
        return _MP_HUGE if v > 0 else -_MP_HUGE
    return mpmath.mpf(v)


def mp_evaluate(fn, *arrays):
    """float64 array of ``fn`` applied elementwise in mpmath; NaN anywhere in gives NaN."""
    arrays = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in arrays))
    out = np.empty(arrays[0].shape, np.float64)
    with mpmath.workdps(MP_DPS):
        for index in np.ndindex(out.shape):
            values = [a[index] for a in arrays]
            if any(math.isnan(v) for v in values):
                out[index] = math.nan
            else:
                out[index] = float(fn(*(_mp_arg(v) for v in values)))
    return out


def mp_rows(fn, x, axis=-1):
    """float64 array of the row function ``fn`` applied in mpmath along ``axis`` of finite ``x``."""
    moved = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    out = np.empty(moved.shape, np.float64)
    with mpmath.workdps(MP_DPS):
        for index in np.ndindex(moved.shape[:-1]):
            out[index] = [float(v) for v in fn([mpmath.mpf(float(v)) for v in moved[index]])]
    return np.moveaxis(out, -1, axis)


def reference_forward(entry, x, dtype, axis=-1):
    """The exact value of ``entry`` at ``x``, as float64, good to well below one ulp of ``dtype``.

    The registry's float64 reference where that is accurate enough for
    ``dtype`` (float32 results), mpmath otherwise.  Row-wise entries work
    along ``axis`` on finite input.
    """
    x64 = np.asarray(x, np.float64)
    if entry.rowwise:
        if np.dtype(dtype) == np.float32 and entry.name not in FLOAT64_REFERENCE_CANCELS:
            # The reference divides by sum + EPS: 1e-12 relative, far below a float32 ulp.
            return np.asarray(entry.reference(x64, axis=axis), np.float64)
        return mp_rows(MP_ROWWISE[entry.name], x64, axis)
    if np.dtype(dtype) == np.float32 and entry.name not in FLOAT64_REFERENCE_CANCELS:
        with np.errstate(all="ignore"):
            expected = np.asarray(entry.reference(x64), np.float64)
        # The formulas' limits at +-inf are not always what float64 gives (silu(-inf) is -inf * 0).
        infinite = np.isinf(x64)
        if infinite.any():
            expected[infinite] = mp_evaluate(MP_FORWARD[entry.name], x64[infinite])
        return expected
    return mp_evaluate(MP_FORWARD[entry.name], x64)


def reference_derivative(entry, z, a, dtype):
    """The exact local derivative at (z, a), as float64; see :func:`reference_forward`."""
    z64, a64 = np.asarray(z, np.float64), np.asarray(a, np.float64)
    if np.dtype(dtype) == np.float32 and entry.name not in FLOAT64_REFERENCE_CANCELS:
        with np.errstate(all="ignore"):
            expected = np.asarray(entry.reference_derivative(z64, a64), np.float64)
        # The documented NaN rule, which (z > 0) style formulas do not follow.
        return np.where(np.isnan(z64) | np.isnan(a64), np.nan, expected)
    return mp_evaluate(MP_DERIVATIVE[entry.name], z64, a64)


# ------------------------------------------------------------------ ulps


def ulp(value, dtype):
    """One unit in the last place of ``dtype`` at |value| (float64 array)."""
    info = np.finfo(dtype)
    mag = np.abs(np.asarray(value, np.float64))
    with np.errstate(invalid="ignore"):
        exponent = np.frexp(np.where(np.isfinite(mag), mag, 1.0))[1]
    return np.where(mag < info.tiny, float(info.smallest_subnormal), np.ldexp(1.0, exponent - info.nmant - 1))


def ulp_distance(actual, expected, dtype):
    """|actual - expected| in units of ``dtype``'s spacing at ``expected``.

    ``expected`` is the exact value (float64 or better); it is first rounded
    to ``dtype``, so an exact value beyond the largest finite number expects
    inf.  Equal values (infinities included) and NaN against NaN are 0 apart;
    NaN or an infinity against anything else is infinitely far.
    """
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = expected.astype(dtype).astype(np.float64)
        distance = np.abs(actual - expected) / ulp(rounded, dtype)
    same = (actual == rounded) | (np.isnan(actual) & np.isnan(expected))
    finite = np.isfinite(actual) & np.isfinite(rounded)
    return np.where(same, 0.0, np.where(finite, distance, np.inf))


def assert_ulp_close(actual, expected, dtype, max_ulp, inputs=None):
    """Assert every element is within ``max_ulp`` and report the worst ones."""
    distance = ulp_distance(actual, expected, dtype)
    bad = np.flatnonzero(~(distance <= max_ulp))
    if bad.size:
        worst = bad[np.argsort(-distance.ravel()[bad])][:8]
        lines = []
        for i in worst:
            where = f"x={np.ravel(inputs)[i]!r}: " if inputs is not None else f"[{i}]: "
            lines.append(
                f"  {where}got {np.ravel(actual)[i]!r}, expected {np.ravel(expected)[i]!r} "
                f"({distance.ravel()[i]:.3g} ulp)"
            )
        header = f"{bad.size} of {distance.size} elements over {max_ulp} ulp of {np.dtype(dtype)}:"
        pytest.fail("\n".join([header, *lines]))


# ------------------------------------------------------------------ inputs


def edge_values(dtype):
    """Zeros, the smallest numbers, the exp overflow/underflow regions of both
    float types that ``dtype`` can hold, the largest numbers, +-inf and NaN."""
    info = np.finfo(dtype)
    # fmt: off
    magnitudes = [
        float(info.smallest_subnormal), 3 * float(info.smallest_subnormal), float(info.tiny) / 3, float(info.tiny),
        1e-30, 1e-8, 0.5, 1.0, 2.0, 10.0, 20.0, 40.0,
        87.3, 88.0, 88.72, 88.7228, 88.73, 89.0, 103.2, 103.3, 104.0, 110.0,  # float32's exp limits
        708.3, 708.4, 709.7, 709.78, 709.8, 710.0, 744.4, 745.1, 745.2, 750.0,  # float64's
        1e4, 1e30,
    ]
    # fmt: on
    values = [0.0, -0.0, math.inf, -math.inf, math.nan, float(info.max), -float(info.max)]
    values += [m for m in magnitudes if m <= info.max] + [-m for m in magnitudes if m <= info.max]
    return np.array(values, dtype)


def wide_samples(dtype, rng, n=600):
    """Log-uniform magnitudes from the smallest subnormal to the overflow region, both signs,
    plus a uniform sweep of the interesting [-20, 20]."""
    info = np.finfo(dtype)
    lo, hi = np.log10(float(info.smallest_subnormal)), np.log10(float(info.max)) * 0.999
    magnitudes = 10.0 ** rng.uniform(lo, hi, n)
    signs = rng.choice([-1.0, 1.0], n)
    return np.concatenate([signs * magnitudes, rng.uniform(-20, 20, n)]).astype(dtype)


def moderate_samples(dtype, rng, n=200, scale=6.0, kink_gap=1e-3):
    """Uniform on [-scale, scale], kept away from the kink at 0 that relu, leaky_relu and elu have."""
    x = rng.uniform(-scale, scale, 4 * n)
    x = x[np.abs(x) > kink_gap][:n]
    return x.astype(dtype)


def _non_contiguous(base):
    wide = np.full((base.shape[0], 2 * base.shape[1]), np.nan, base.dtype)
    wide[:, ::2] = base
    return wide[:, ::2]


def _negative_stride(base):
    return base[::-1, ::-1].copy()[::-1, ::-1]


def _read_only(base):
    view = base.copy()
    view.flags.writeable = False
    return view


# Each maker turns a C-contiguous 2-D float array into the same values laid
# out differently (or, for the last ones, a related input of another kind).
LAYOUTS = {
    "C": lambda b: b.copy(),
    "F": np.asfortranarray,
    "non_contiguous": _non_contiguous,
    "negative_stride": _negative_stride,
    "read_only": _read_only,
    "byte_swapped": lambda b: b.astype(b.dtype.newbyteorder()),
    "1d": lambda b: b.ravel(),
    "3d": lambda b: b.reshape(2, -1, b.shape[1]),
    "0d": lambda b: np.asarray(b.flat[0]),
    "empty": lambda b: b[:0],
    "empty_rows": lambda b: b[:, :0],
    "list": lambda b: b.tolist(),
    "scalar": lambda b: float(b.flat[0]),
}


def plain_copy(value):
    """``value`` as a fresh native-endian C-contiguous array: what every layout must match."""
    arr = np.asarray(value)
    return np.array(arr, dtype=arr.dtype.newbyteorder("="), order="C")


def snapshot(*values):
    """Copies of the array arguments, to check later that a call left them alone."""
    return [(v, np.array(v, copy=True)) for v in values if isinstance(v, np.ndarray)]


def assert_unchanged(snapshots):
    for value, before in snapshots:
        np.testing.assert_array_equal(value, before, strict=True, err_msg="an input was modified")


# Source of peak_bytes(), for the code that memory tests run in a fresh process.
# On Linux a child's ru_maxrss carries its parent's peak across fork and exec,
# so after a memory-hungry test the child reported pytest's own peak (1.6 GiB,
# a failure, or a growth of 0, a pass that could not fail); VmHWM is the
# child's own.
PEAK_BYTES_SOURCE = """
def peak_bytes():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource, sys
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
"""
