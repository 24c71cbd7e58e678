"""Row kernels for the softmax family: softmax, log_softmax and their
vector-Jacobian products, over the last axis of a C-contiguous 2-D array.

Accuracy: each element's x_i - max is split exactly into hi + lo (two-sum),
and exp(hi + lo) is taken as exp(hi) (1 + lo), so an element far below the
row maximum keeps its relative accuracy.  Sums are accumulated in float64,
also for float32 rows.  Plain sums are compiled with ``reassoc`` so they
vectorize; the exp itself never is.
"""

import numpy as np

from numba_act import scalar
from numba_act._jit import REDUCE, kernel

_BLOCK = 1024  # float64 sums are pairwise over blocks of this many terms


@kernel(fastmath=REDUCE)
def _max(row):
    m = row[0]
    for i in range(1, row.size):
        v = row[i]
        m = v if v > m else m
    return m


@kernel(fastmath=REDUCE)
def _block_sum(v):
    s = 0.0
    for i in range(v.size):
        s += np.float64(v[i])
    return s


@kernel
def _sum(v):
    s = 0.0
    for start in range(0, v.size, _BLOCK):
        s += _block_sum(v[start : start + _BLOCK])
    return s


@kernel(fastmath=REDUCE)
def _dot(a, b):
    s = 0.0
    for i in range(a.size):
        s += np.float64(a[i]) * np.float64(b[i])
    return s


@kernel(inline="always")
def _shifted(x, m):
    """(d, lo) with d + lo == x - m exactly (Knuth's two-sum)."""
    d = x - m
    m_part = d - x
    x_part = d - m_part
    return d, (x - x_part) - (m + m_part)


@kernel
def _exp_shifted(x, m, out):
    """out[i] = exp(x[i] - m), with the rounding of x[i] - m fed back."""
    for i in range(x.size):
        d, lo = _shifted(x[i], m)
        e_hi, e_lo = scalar.exp_parts(d)
        out[i] = e_hi + (e_lo + e_hi * lo)


@kernel(fastmath=REDUCE)
def _block_sum_below(e, x, m):
    s = 0.0
    count = 0
    for i in range(e.size):
        at_max = x[i] == m
        # At the maximum e is exactly 1 and adds 0 here, unless the maximum
        # is +inf: then e is NaN, and so is the whole row, as in the seed formula.
        s += np.float64(e[i]) - (1.0 if at_max else 0.0)
        count += at_max
    return s, count


@kernel
def _sum_exp(e, x, m):
    """sum(e) where e = exp(x - m), as (sum of the terms with x < m) + (count of x == m).

    The terms at the maximum are exactly 1; keeping them apart lets
    log_softmax take log1p of the small rest.
    """
    s = 0.0
    count = 0
    for start in range(0, e.size, _BLOCK):
        stop = start + _BLOCK
        part, n = _block_sum_below(e[start:stop], x[start:stop], m)
        s += part
        count += n
    return s, count


@kernel
def softmax_rows(x, out):
    """out = exp(x - max) / sum(exp(x - max)), row by row."""
    for r in range(x.shape[0]):
        row, o = x[r], out[r]
        if row.size == 0:
            continue
        m = _max(row)
        _exp_shifted(row, m, o)
        rest, count = _sum_exp(o, row, m)
        inv = 1.0 / (rest + count)
        for i in range(o.size):
            o[i] = np.float64(o[i]) * inv


@kernel
def log_softmax_rows(x, out):
    """out = (x - max) - log(sum(exp(x - max))), row by row."""
    for r in range(x.shape[0]):
        row, o = x[r], out[r]
        if row.size == 0:
            continue
        m = _max(row)
        _exp_shifted(row, m, o)
        rest, count = _sum_exp(o, row, m)
        log_sum = np.log1p(rest + (count - 1))  # the log of the whole sum
        for i in range(o.size):
            d, lo = _shifted(row[i], m)
            o[i] = (np.float64(d) - log_sum) + np.float64(lo)


@kernel
def softmax_vjp_rows(a, g, out):
    """out = a * (g - sum(a * g)), row by row; a is the softmax output."""
    for r in range(a.shape[0]):
        ar, gr, o = a[r], g[r], out[r]
        s = _dot(ar, gr)
        for i in range(o.size):
            o[i] = np.float64(ar[i]) * (np.float64(gr[i]) - s)


@kernel
def log_softmax_vjp_rows(a, g, out):
    """out = g - exp(a) * sum(g), row by row; a is the log_softmax output."""
    for r in range(a.shape[0]):
        ar, gr, o = a[r], g[r], out[r]
        s = _sum(gr)
        for i in range(o.size):
            o[i] = np.float64(gr[i]) - np.float64(scalar.exp(ar[i])) * s
