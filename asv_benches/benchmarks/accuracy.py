"""Accuracy, tracked like speed: the largest error in units in the last
place (ulp) of each activation's forward pass on a fixed set of inputs.

The reference is mpmath at 40 significant digits.  For an activation with
no mpmath formula below yet (or without mpmath) it is the NumPy formula of
numba_act.reference evaluated in float64 for float32 results and in
np.longdouble for float64 results; beware that those formulas cancel in some
tails (gelu below -8), where they are worse than the kernels.  The error of
a result r against the reference R is |r - R| / spacing(R) in r's dtype.
"""

import numpy as np

from .common import ALL, attr, entry

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


def _mp_table(mp):
    half = mp.mpf(1) / 2
    c = mp.sqrt(2 / mp.pi)

    def sigmoid(x):
        return 1 / (1 + mp.exp(-x))

    return {
        "sigmoid": sigmoid,
        "relu": lambda x: x if x > 0 else mp.mpf(0),
        "tanh": mp.tanh,
        "leaky_relu": lambda x: x if x >= 0 else mp.mpf(0.01) * x,
        "elu": lambda x: x if x > 0 else mp.expm1(x),
        "gelu": lambda x: half * x * mp.erfc(-x / mp.sqrt(2)),
        # 1 + tanh(u) = 2 sigmoid(2u), which stays exact for large negative u.
        "gelu_tanh": lambda x: x * sigmoid(2 * c * (x + mp.mpf(0.044715) * x**3)),
        "silu": lambda x: x * sigmoid(x),
        "softplus": lambda x: mp.log1p(mp.exp(x)),
    }


def _mp_rows(mp, name, rows):
    out = []
    for row in rows:
        xs = [mp.mpf(float(v)) for v in row]
        m = max(xs)
        s = mp.fsum(mp.exp(v - m) for v in xs)
        if name == "softmax":
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


def _reference(name, found, x):
    """Reference values of ``found``'s forward pass at ``x``, as np.longdouble."""
    try:
        from mpmath import mp
    except ImportError:
        mp = None
    if mp is not None:
        mp.dps = 40
        if found.rowwise and name in ("softmax", "log_softmax"):
            return _wide(mp, _mp_rows(mp, name, x))
        table = _mp_table(mp)
        if not found.rowwise and name in table:
            return _wide(mp, [table[name](mp.mpf(float(v))) for v in x])
    # No mpmath formula: the NumPy formula in a wider type.
    wide = np.float64 if x.dtype == np.float32 else np.longdouble
    if np.finfo(wide).nmant <= np.finfo(x.dtype).nmant:
        raise NotImplementedError(f"no type wider than {x.dtype} for a reference")
    try:
        with np.errstate(all="ignore"):
            return np.asarray(attr(found, "reference")(x.astype(wide)), dtype=np.longdouble)
    except (TypeError, ValueError) as err:
        raise NotImplementedError(f"no float64 reference for {name}: {err}") from None


class Accuracy:
    params = [ALL, ["float32", "float64"]]
    param_names = ["name", "dtype"]
    unit = "ulp"

    def setup(self, name, dtype):
        found = entry(name)
        x64 = _ROWS if found.rowwise else _GRID
        x = x64.astype(dtype)
        reference = _reference(name, found, x)
        result = np.asarray(found.forward(x)).astype(np.longdouble)
        ulp = np.spacing(np.abs(reference).astype(dtype)).astype(np.longdouble)
        with np.errstate(invalid="ignore", over="ignore"):
            error = np.abs(result - reference) / ulp
        # Equal infinities and NaN for NaN are exact; NaN for a number is not.
        same = (result == reference) | (np.isnan(result) & np.isnan(reference))
        error = np.where(same, 0.0, np.where(np.isnan(error), np.inf, error))
        self.max_ulp = float(np.max(error))

    def track_max_ulp(self, name, dtype):
        return self.max_ulp
