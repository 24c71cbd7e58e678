"""Accuracy, tracked like speed: the largest error in units in the last
place (ulp) of each activation's forward pass on a fixed set of inputs.

The reference is mpmath at 40 significant digits.  For an activation with
no mpmath formula below yet (or without mpmath) it is the NumPy formula of
numba_act.reference evaluated in float64 for float32 results and in
np.longdouble for float64 results; beware that those formulas cancel in some
tails (gelu below -8), where they are worse than the kernels.  The error of
a result r against the reference R is |r - R| / spacing(R) in r's dtype.
An activation's parameters are ``common.BENCH_PARAMS`` or its defaults.
"""

import os

import numpy as np

from .common import ALL, attr, entry, in_tier, params

# Elementwise inputs: a fine grid where the functions bend, some wider
# points, and values near zero.
_GRID = np.concatenate(
    [
        np.linspace(-20.0, 20.0, 4001),
        np.array([-700.0, -100.0, -50.0, -30.0, 30.0, 50.0, 100.0, 700.0]),
        np.geomspace(1e-12, 1.0, 60),
        -np.geomspace(1e-12, 1.0, 60),
        [0.0],
    ]
)
_ROWS = 4.0 * np.random.default_rng(0).standard_normal((32, 257))


# selu's constants, as float64 (as torch's and numba_act's kernels take them)
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _mp_table(mp):
    """{name: f(x, *params)} in mpmath, the parameters as mpf, in the registry's order."""
    half = mp.mpf(1) / 2
    c = mp.sqrt(2 / mp.pi)
    zero = mp.mpf(0)

    def sigmoid(x):
        return 1 / (1 + mp.exp(-x))

    def clip(x, lo, hi):
        return min(max(x, lo), hi)

    def softplus(x, beta=1, threshold=mp.inf):
        return x if beta * x > threshold else mp.log1p(mp.exp(beta * x)) / beta

    return {
        "sigmoid": sigmoid,
        "relu": lambda x: x if x > 0 else zero,
        "tanh": mp.tanh,
        "leaky_relu": lambda x, negative_slope=0.01: x if x >= 0 else negative_slope * x,
        "elu": lambda x, alpha=1: x if x > 0 else alpha * mp.expm1(x),
        "gelu": lambda x: half * x * mp.erfc(-x / mp.sqrt(2)),
        # 1 + tanh(u) = 2 sigmoid(2u), which stays exact for large negative u.
        "gelu_tanh": lambda x: x * sigmoid(2 * c * (x + mp.mpf(0.044715) * x**3)),
        "silu": lambda x: x * sigmoid(x),
        "softplus": softplus,
        "relu6": lambda x: clip(x, zero, 6) if x > 0 else zero,
        "hardtanh": lambda x, min_val=-1, max_val=1: clip(x, min_val, max_val),
        "hardsigmoid": lambda x: clip(x + 3, zero, 6) / 6,
        "hardswish": lambda x: x * clip(x + 3, zero, 6) / 6,
        "softshrink": lambda x, lambd=half: x - lambd if x > lambd else (x + lambd if x < -lambd else zero),
        "hardshrink": lambda x, lambd=half: x if abs(x) > lambd else zero,
        "threshold": lambda x, threshold, value: x if x > threshold else value,
        "squareplus": lambda x, b=4: (x + mp.sqrt(x * x + b)) / 2,
        "sparse_plus": lambda x: zero if x <= -1 else (x if x >= 1 else (x + 1) ** 2 / 4),
        "sparse_sigmoid": lambda x: clip(x + 1, zero, 2) / 2,
        "softsign": lambda x: x / (1 + abs(x)),
        "celu": lambda x, alpha=1: x if x > 0 else alpha * mp.expm1(x / alpha),
        "selu": lambda x: mp.mpf(_SELU_SCALE) * (x if x > 0 else mp.mpf(_SELU_ALPHA) * mp.expm1(x)),
        "mish": lambda x: x * mp.tanh(mp.log1p(mp.exp(x))),
        "log_sigmoid": lambda x: -mp.log1p(mp.exp(-x)),
        "tanhshrink": lambda x: x - mp.tanh(x),
    }


_MP_ROWS = ("softmax", "softmin", "log_softmax")


def _mp_rows(mp, name, rows):
    out = []
    sign = -1 if name == "softmin" else 1  # softmin(x) = softmax(-x)
    for row in rows:
        xs = [sign * mp.mpf(float(v)) for v in row]
        m = max(xs)
        s = mp.fsum(mp.exp(v - m) for v in xs)
        if name != "log_softmax":
            out.append([mp.exp(v - m) / s for v in xs])
        else:
            out.append([v - m - mp.log(s) for v in xs])
    return out


def _wide(mp, values):
    """Nested lists of mpmath values as np.longdouble, so that errors are
    resolved below one ulp (values beyond its range become 0 or inf)."""
    tiny = mp.mpf("1e-4900")

    def one(v):
        return np.longdouble(0) if abs(v) < tiny else np.longdouble(mp.nstr(v, 25, strip_zeros=False))

    return np.array(
        [[one(v) for v in row] if isinstance(row, list) else one(row) for row in values], dtype=np.longdouble
    )


def _reference(name, found, x, values=()):
    """Reference values of ``found``'s forward pass at ``x`` (with the parameters ``values``), as np.longdouble."""
    try:
        from mpmath import mp
    except ImportError:
        mp = None
    if mp is not None:
        mp.dps = 40
        if found.rowwise and name in _MP_ROWS:
            return _wide(mp, _mp_rows(mp, name, x))
        table = _mp_table(mp)
        if not found.rowwise and name in table:
            p = [mp.mpf(v) for v in values]
            return _wide(mp, [table[name](mp.mpf(float(v)), *p) for v in x])
    # No mpmath formula: the NumPy formula in a wider type.
    wide = np.float64 if x.dtype == np.float32 else np.longdouble
    if np.finfo(wide).nmant <= np.finfo(x.dtype).nmant:
        raise NotImplementedError(f"no type wider than {x.dtype} for a reference")
    try:
        with np.errstate(all="ignore"):
            return np.asarray(attr(found, "reference")(x.astype(wide), *values), dtype=np.longdouble)
    except (TypeError, ValueError) as err:
        raise NotImplementedError(f"no float64 reference for {name}: {err}") from None


def _bound(found, dtype):
    """The documented bound of ``found``'s forward pass in ``dtype`` (its
    tier's), or None for a commit that does not declare them."""
    tier = getattr(found, "tier", None)
    if tier is None:
        return None
    return (tier.row_ulp if found.rowwise else tier.ulp)[dtype]


class Accuracy:
    """The largest error in ulp, by tier (numba_act and numba_act.fast).  With
    NUMBA_ACT_ASV_STRICT set (CI's quick pass), an error over the tier's
    documented bound fails the benchmark; otherwise it is recorded."""

    params = [["numba_act", "numba_act_fast"], ALL, ["float32", "float64"]]
    param_names = ["impl", "name", "dtype"]
    unit = "ulp"

    def setup(self, impl, name, dtype):
        found = in_tier(entry(name), impl)
        x64 = _ROWS if found.rowwise else _GRID
        x = x64.astype(dtype)
        values = () if found.rowwise else params(found)
        reference = _reference(name, found, x, values)
        result = np.asarray(found.forward(x, *values)).astype(np.longdouble)
        ulp = np.spacing(np.abs(reference).astype(dtype)).astype(np.longdouble)
        with np.errstate(invalid="ignore", over="ignore"):
            error = np.abs(result - reference) / ulp
        # Equal infinities and NaN for NaN are exact; NaN for a number is not.
        same = (result == reference) | (np.isnan(result) & np.isnan(reference))
        error = np.where(same, 0.0, np.where(np.isnan(error), np.inf, error))
        self.max_ulp = float(np.max(error))
        bound = _bound(found, dtype)
        if os.environ.get("NUMBA_ACT_ASV_STRICT") and bound is not None and not self.max_ulp <= bound:
            raise AssertionError(f"{impl} {name} {dtype}: {self.max_ulp:.3f} ulp, over the bound of {bound}")

    def track_max_ulp(self, impl, name, dtype):
        return self.max_ulp
