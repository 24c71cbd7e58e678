"""Row kernels for the softmax family: softmax, log_softmax and their
vector-Jacobian products, over the last axis of a C-contiguous 2-D array.

Accuracy: each element's x_i - max is split exactly into hi + lo (two-sum),
and exp(hi + lo) is taken as exp(hi) (1 + lo), so an element far below the
row maximum keeps its relative accuracy.  Sums are accumulated in float64,
also for float32 rows, pairwise over blocks; float32 rows are scaled by
1/sum in float32.  Plain sums are compiled with
``reassoc`` so they vectorize; the exp itself never is.

Each row takes three passes over memory (max; exp, stored; sum and scale),
all vectorized; short rows share one vectorized exp pass over the array,
and long float64 rows take a blocked online softmax, which reads each
element once (see ``_online_softmax_rows``).  log_softmax takes its rows in
blocks, each step over a whole block, so that the logs of the row sums
are taken in one vectorized loop.
"""

import numpy as np
from numba import types

from numba_act import _math
from numba_act._jit import (
    REDUCE,
    CompiledOp,
    check_shapes,
    detached,
    kernel,
    overload_kernel,
    per_float_type,
    specialize,
    wide_vectors,
)
from numba_act._math import exp_prescaled

_BLOCK = 512  # float64 sums are pairwise over blocks of this many terms


def _max(row):
    """max(row) of a non-empty row: a NaN in the row may or may not be the
    result, and reaches the row's result through the sum either way.

    Taken over integer keys that order as the floats do (the sign bit
    kept, the other bits flipped for negative numbers), because LLVM
    vectorizes an integer maximum as a reduction but a float one only under
    fast-math flags that would break the NaN rules: 2.7x faster than eight
    float running maxima for float32 rows, 1.6x for float64.  The keys
    order -0.0 below 0.0 and put a NaN with the sign bit clear above +inf,
    one with it set below -inf.
    """
    raise NotImplementedError("compiled code only")


@overload_kernel(_max)
def _max_overload(row):
    if row.dtype not in (types.float32, types.float64):
        return None
    T, Int = (np.float32, np.int32) if row.dtype == types.float32 else (np.float64, np.int64)
    top = Int(8 * np.dtype(T).itemsize - 1)
    low_bits = Int(np.iinfo(Int).max)  # all bits but the sign

    def impl(row):
        wide_vectors()
        k = T(row[0]).view(Int)
        k = Int(k ^ ((k >> top) & low_bits))
        for i in range(1, row.size):
            b = T(row[i]).view(Int)
            b = Int(b ^ ((b >> top) & low_bits))
            k = b if b > k else k
        return Int(k ^ ((k >> top) & low_bits)).view(T)  # the same map turns a key back

    return impl


@kernel(inline="always")
def _two_difference(x, m):
    """(d, lo) with d + lo == x - m exactly (Knuth's two-sum) wherever its
    steps do not overflow: x = -inf gives d = -inf and lo = NaN, and so can
    a finite d near the largest float."""
    d = x - m
    m_part = d - x
    x_part = d - m_part
    return d, (x - x_part) - (m + m_part)


@kernel(inline="always")
def _shifted(x, m):
    """:func:`_two_difference` with lo = 0 where it is NaN (a NaN d stays NaN anyway)."""
    d, lo = _two_difference(x, m)
    return d, lo if lo == lo else type(lo)(0.0)


@kernel(inline="always")
def _exp_difference_pair(a, b):
    """exp(a - b) for a <= b as an unevaluated pair (hi, lo), with the rounding
    of a - b fed back: exp(d + lo) = exp(d) (1 + lo)."""
    d, lo = _shifted(a, b)
    e_hi, e_lo = _math.exp_parts_nonpositive(d)
    return e_hi, _math.fma(e_hi, lo, e_lo)


@kernel(inline="always")
def _exp_of_difference(x, m):
    """exp(x - m), rounded once."""
    hi, lo = _exp_difference_pair(x, m)
    return hi + lo


@kernel
def _exp_shifted(x, m, out):
    """out[i] = exp(x[i] - m)."""
    wide_vectors()
    for i in range(x.size):
        out[i] = _exp_of_difference(x[i], m)


# The three-pass kernels store their exps times a power of two, 2**K of
# _math.exp_prescaled, which keeps them normal where exp(x - m) would be
# subnormal: one scaling product for exp's two, about 1.2x faster.


@kernel(inline="always")
def _prescaled_exp_of_difference(x, m):
    """exp(x - m) * 2**K, with the rounding of x - m fed back."""
    d, lo = _two_difference(x, m)
    # Below exp's lower clamp the result is the value at the clamp, whatever
    # d is; lo, up to half an ulp of d, can be of any size there (1e31 for
    # x - m = -2e38 in float32), and its product with that value had turned
    # such terms negative and large.  The same test drops the NaN lo of
    # x = -inf (and a NaN d stays NaN).
    return exp_prescaled(d, lo if d > -1024.0 else type(lo)(0.0))


@kernel
def _prescaled_exp_shifted(x, m, out):
    """out[i] = exp(x[i] - m) * 2**K."""
    wide_vectors()
    for i in range(x.size):
        out[i] = _prescaled_exp_of_difference(x[i], m)


@kernel
def _prescaled_exp_minus_out(x, out):
    """out[i] = exp(x[i] - out[i]) * 2**K: each element's own maximum, preset in out."""
    wide_vectors()
    for i in range(x.size):
        out[i] = _prescaled_exp_of_difference(x[i], out[i])


@kernel(fastmath=REDUCE)
def _block_sum(v):
    wide_vectors()
    s = 0.0
    for i in range(v.size):
        s += np.float64(v[i])
    return s


@kernel(fastmath=REDUCE)
def _block_rest(e, x, m):
    """(sum of e where x < m, count of x == m), both as float64."""
    wide_vectors()
    rest = 0.0
    count = 0.0
    for i in range(e.size):
        # e[i] is read on every path: read only below the max, it became a
        # masked load, 2.5x slower on AMD's cores.
        term = np.float64(e[i])
        at_max = x[i] == m
        rest += 0.0 if at_max else term
        count += 1.0 if at_max else 0.0
    return rest, count


@kernel(inline="always")
def _two_sum(s, c, v):
    """(s + v, c + its exact rounding error): Knuth's two-sum, compensated in c."""
    t = s + v
    v_part = t - s
    s_part = t - v_part
    return t, c + ((s - s_part) + (v - v_part))


@kernel(inline="always")
def _sum(v):
    # Compensated across blocks: plain running sums of millions of terms
    # drift by several ulp.
    s = c = 0.0
    for start in range(0, v.size, _BLOCK):
        s, c = _two_sum(s, c, _block_sum(v[start : start + _BLOCK]))
    return s + c


# A rest below 2**(K - 8) of the terms at the maximum is summed again.
_SMALL_REST = 2.0 ** (_math.prescale_exponent(types.float64) - 8)
_EXPONENT_BITS = np.int64(0x7FF0000000000000)


def _sum_exp(e, x, m):
    """sum(e) for e = exp(x - m) * 2**K, as (terms below the max, what that
    sum rounded away, count at the max).

    The terms at the maximum are exactly 2**K; keeping them apart lets
    log_softmax take log1p of a small rest without losing its bits.  A +inf
    maximum makes its own terms NaN, and the whole row NaN, as in the NumPy
    formula.
    """
    raise NotImplementedError("compiled code only")


@overload_kernel(_sum_exp, inline=True)
def _sum_exp_overload(e, x, m):
    if e.dtype == types.float32:
        # Summed in float64: its roundings are far below a float32 ulp.
        def single(e, x, m):
            rest = compensation = count = 0.0
            for start in range(0, e.size, _BLOCK):
                part, n = _block_rest(e[start : start + _BLOCK], x[start : start + _BLOCK], m)
                rest, compensation = _two_sum(rest, compensation, part)  # as in _sum
                count += n
            if m == np.inf:
                return np.nan, 0.0, count
            return rest + compensation, 0.0, count

        return single

    def double(e, x, m):
        # On the grid of _grid_sum: a plain float64 sum of the rest left
        # log_softmax elements at the maximum 5 ulp off.
        rest, compensation, count = _grid_rest(e, x, m, _GRID)
        if rest < _SMALL_REST:
            # Then the rest is mostly in the lo parts, summed plainly (3 ulp
            # off at rests of 1e-14); once more, on a grid fitted to it: a
            # power of two above the rest bounds every term.
            bound = np.float64(rest * 2.0).view(np.int64) & _EXPONENT_BITS
            rest, compensation, count = _grid_rest(e, x, m, 1.5 * 2.0**22 * np.int64(bound).view(np.float64))
        if m == np.inf:
            return np.nan, 0.0, count
        return rest, compensation, count

    return double


# Rows shorter than this many bytes (float32 rows of fewer than 128
# elements, float64 of fewer than 64) spend much of each vector loop in its
# entry and scalar remainder; their exps go through one vector loop over
# many rows instead.  Longer rows gain less than they lose on arrays that
# outgrow the cache, which that loop reads and writes once more.
_SHORT_ROW_BYTES = 512


@kernel(inline="always")
def _exps_of_short_rows(x, out, maxima):
    """maxima[r] = max(x[r]), and out = exp(x - max) * 2**K in one vectorized
    pass over all the rows (each max preset in out)."""
    n_rows, n = x.shape
    for r in range(n_rows):
        m = maxima[r] = _max(x[r])
        o = out[r]
        for i in range(n):
            o[i] = m
    _prescaled_exp_minus_out(x.reshape(-1), out.reshape(-1))


# A float64 row's exps, times 2**K, are summed as hi + lo, with hi each exp
# rounded to a multiple of 2**(K - 30): a sum of such multiples below
# 2**(K + 23) is exact in any order, so it vectorizes with no error, and the
# lo parts, each below 2**(K - 31), round away nothing of weight.  A plain
# float64 sum rounds once per term, which left softmax elements up to 10 ulp
# off on rows of a few hundred elements; eight two-sum lanes held it too,
# but do not vectorize (a float sum vectorizes only under ``reassoc``,
# which would fold their error terms away), 1.8x slower in all.
_GRID = 1.5 * 2.0 ** (22 + _math.prescale_exponent(types.float64))  # its ulp is 2**(K - 30)


@kernel
def _on_grid(e, grid):
    """(hi, lo): e rounded to a multiple of ulp(grid), and the exact rest.

    A kernel of its own, compiled without ``reassoc``, which would cancel
    the two grids: LLVM inlines it into the sum's loop with the flags of
    each of its operations kept.
    """
    hi = (e + grid) - grid
    return hi, e - hi


@kernel(fastmath=REDUCE)
def _grid_sum(v):
    """The sum of float64 v, terms from 0 to 2**K and fewer than 2**23 of
    them, as an unevaluated pair (s, c): s is the sum rounded, c what s
    leaves out, good to far below one ulp of s."""
    wide_vectors()
    on_grid = rest = 0.0
    for i in range(v.size):
        hi, lo = _on_grid(v[i], _GRID)
        on_grid += hi
        rest += lo
    return _two_sum(on_grid, 0.0, rest)


@kernel(fastmath=REDUCE)
def _grid_rest(e, x, m, grid):
    """As _grid_sum, with ``grid`` for _GRID, of the e where x < m; and the count of x == m."""
    wide_vectors()
    on_grid = rest = count = 0.0
    for i in range(e.size):
        hi, lo = _on_grid(e[i], grid)  # read on every path, as in _block_rest
        at_max = x[i] == m
        on_grid += 0.0 if at_max else hi
        rest += 0.0 if at_max else lo
        count += 1.0 if at_max else 0.0
    s, c = _two_sum(on_grid, 0.0, rest)
    return s, c, count


def _scale_by_sum(o):
    """o /= sum(o), as o times 1/sum, the sum good to far below an ulp: two
    roundings from each stored value.  A float32 row takes 1/sum rounded to
    float32 and its products in float32: half an ulp more than in float64,
    within the bound, on twice the lanes."""
    raise NotImplementedError("compiled code only")


@overload_kernel(_scale_by_sum, inline=True)
def _scale_by_sum_overload(o):
    if o.dtype == types.float32:
        # Summed in float64: its roundings are far below a float32 ulp.
        def single(o):
            factor = np.float32(1.0 / _sum(o))
            wide_vectors()
            for i in range(o.size):
                o[i] = o[i] * factor

        return single

    def double(o):
        # The sum to far below one ulp, then two roundings: 1/sum, and the product.
        total, total_lo = _grid_sum(o)
        factor = 1.0 / (total + total_lo)
        wide_vectors()
        for i in range(o.size):
            o[i] = o[i] * factor

    return double


@kernel(inline="always")
def _softmax_finish(row, m, o):
    # The exps' common factor 2**K cancels here; a +inf maximum makes its
    # own terms, and so the sum, NaN.
    _scale_by_sum(o)


@kernel(inline="always")
def _log_softmax_element(x, m, log_sum):
    """x - m - log_sum in x's type, for the row maximum m and log_sum in float64.

    Computed as -((m - x) + log_sum): two terms of one sign, so within 1.5
    ulp, and negated last, so that a result rounded to 0 is -0.0 as the
    exact value is negative (also where the other terms' sum underflows in
    log_sum).  Rows of one element, whose exact value is 0, do not come here.
    """
    return -((m - x) + type(x)(log_sum))


@kernel(inline="always")
def _log_sum_parts(row, m, o):
    """(a, b): a + b = (sum of the row's exps) / exp(max) - 1, from o, the
    exps times 2**K: log1p(a + b) is the row's log-sum-exp less its
    maximum."""
    rest, rest_lo, count = _sum_exp(o, row, m)
    # rest carries the factor 2**K, count does not.
    unscale = 1.0 / _math.exp_prescale(row[0])
    return _two_sum(rest * unscale, rest_lo * unscale, count - 1.0)


# log_softmax takes its rows in blocks of about this many elements: a block
# and its output (16 KB in float64) stay in L1 across the passes.
_LOG_SOFTMAX_BLOCK = 1024


@kernel
def log_softmax_rows(x, out):
    """out = log_softmax of each row of x (2-D, C-contiguous), a block of
    rows at a time: their maxima and exps (as _three_pass_softmax_rows
    takes them), the sum of each row, the logs of the sums in one loop,
    which vectorizes, and each row's elements."""
    n_rows, n = x.shape
    if n == 0:
        return
    if n == 1:  # x - x: 0.0, NaN for an infinity or NaN
        for r in range(n_rows):
            out[r, 0] = x[r, 0] - x[r, 0]
        return
    block = max(1, _LOG_SOFTMAX_BLOCK // n)
    maxima = np.empty(min(block, n_rows), x.dtype)
    parts = np.empty((3, min(block, n_rows)))  # each row's (a, b) of _log_sum_parts, and its log
    for start in range(0, n_rows, block):
        xb, ob = x[start : start + block], out[start : start + block]
        if n * x.itemsize < _SHORT_ROW_BYTES:
            _exps_of_short_rows(xb, ob, maxima)
        else:
            for r in range(xb.shape[0]):
                maxima[r] = _max(xb[r])
                _prescaled_exp_shifted(xb[r], maxima[r], ob[r])
        for r in range(xb.shape[0]):
            parts[0, r], parts[1, r] = _log_sum_parts(xb[r], maxima[r], ob[r])
        for r in range(xb.shape[0]):
            parts[2, r] = _math.log1p_nonnegative(parts[0, r], parts[1, r])
        for r in range(xb.shape[0]):
            row, o, m, log_sum = xb[r], ob[r], maxima[r], parts[2, r]
            wide_vectors()
            for i in range(o.size):
                o[i] = _log_softmax_element(row[i], m, log_sum)


@kernel(inline="always")
def _three_pass_softmax_rows(x, out):
    """e = exp(x - max) * 2**K per row into out, then _softmax_finish."""
    n_rows, n = x.shape
    if n == 0:
        return
    short = n * x.itemsize < _SHORT_ROW_BYTES
    maxima = np.empty(n_rows if short else 0, x.dtype)
    if short:
        _exps_of_short_rows(x, out, maxima)
    # One finish call site: it is inlined, and compiled, once.
    for r in range(n_rows):
        if short:
            m = maxima[r]
        else:
            # One row at a time, so that it stays in cache across the passes.
            m = _max(x[r])
            _prescaled_exp_shifted(x[r], m, out[r])
        _softmax_finish(x[r], m, out[r])


# Long float64 rows: online softmax (Milakov and Gimelshein, 2018), blocked.
# Each block's max, exp and sum are taken while the block is in L1, against
# the running max; when a later block raises the max, the running sum is
# rescaled by exp(m_old - m_new), and a last pass scales each block by
# exp(m_block - m) / sum.  One read of x instead of two: measured 12-24%
# faster than three passes for float64 rows of 50,000 to 200,000 elements,
# which outgrow L1 and L2; no faster for float32 (exp-bound) or shorter rows,
# which keep the three-pass kernel.  The rescale factors are carried as
# float64 pairs and the block sums are compensated, so every element stays
# within the same ulp bounds.
_ONLINE_BLOCK = 2048
_ONLINE_ROW = 32768


@kernel
def _scale_by_pair(o, hi, lo):
    """o *= hi + lo, rounded once."""
    wide_vectors()
    for i in range(o.size):
        o[i] = _math.fma(o[i], hi, o[i] * lo)


@kernel
def _online_softmax_rows(x, out):
    n_rows, n = x.shape
    blocks = -(-n // _ONLINE_BLOCK)
    shifts = np.empty(blocks, x.dtype)  # the max each block's exp was taken against
    for r in range(n_rows):
        row, o = x[r], out[r]
        m = -np.inf
        rest = compensation = count = 0.0
        for b in range(blocks):
            xb = row[b * _ONLINE_BLOCK : (b + 1) * _ONLINE_BLOCK]
            ob = o[b * _ONLINE_BLOCK : (b + 1) * _ONLINE_BLOCK]
            block_max = _max(xb)
            if not block_max <= m:  # a larger max, or NaN (which then spreads)
                if m != -np.inf:
                    f_hi, f_lo = _exp_difference_pair(m, block_max)
                    t = (rest + compensation) + count
                    rest, compensation, count = _math.fma(t, f_hi, t * f_lo), 0.0, 0.0
                m = block_max
            shifts[b] = m
            if m == -np.inf:  # nothing but -inf so far: zeros, unless the whole row is
                ob[:] = 0.0
                continue
            _exp_shifted(xb, m, ob)
            part, at_max = _block_rest(ob, xb, m)
            rest, compensation = _two_sum(rest, compensation, part)
            count += at_max
        rest += compensation
        if m == np.inf:
            rest = np.nan
        total = rest + count  # 0 for a row of -inf only: its 0 * inf below is NaN, as documented
        inverse = 1.0 / total
        inverse_lo = _math.fma(-total, inverse, 1.0) / total
        for b in range(blocks):
            hi, lo = inverse, inverse_lo
            if shifts[b] != m:
                f_hi, f_lo = _exp_difference_pair(shifts[b], m)
                hi = f_hi * inverse
                lo = _math.fma(f_hi, inverse, -hi) + (f_hi * inverse_lo + f_lo * inverse)
            _scale_by_pair(o[b * _ONLINE_BLOCK : (b + 1) * _ONLINE_BLOCK], hi, lo)


def _softmax_rows_f32(x, out):
    _three_pass_softmax_rows(x, out)


def _softmax_rows_f64(x, out):
    if x.shape[1] >= _ONLINE_ROW:
        _online_softmax_rows(x, out)
    else:
        _three_pass_softmax_rows(x, out)


# Chosen at compile time, rather than a kernel calling one, with the
# three-pass kernel inlined into it: each compiled layer re-optimizes all
# the code linked below it.  Not inlined into its callers, which would type
# and compile it again: a first softmax call compiles in 0.75 of the time.
softmax_rows = per_float_type(
    _softmax_rows_f32,
    _softmax_rows_f64,
    """out = softmax of each row of x (2-D, C-contiguous), by the row kernel
    that measured fastest for x's dtype and row length.""",
    name="softmax_rows",
    inline=False,
)


@kernel(fastmath=REDUCE)
def _dot(a, b):
    wide_vectors()
    s = 0.0
    for i in range(a.size):
        s += np.float64(a[i]) * np.float64(b[i])
    return s


@kernel
def softmax_vjp_rows(a, g, out):
    """out = a * (g - sum(a * g)), row by row; a is the softmax output."""
    for r in range(a.shape[0]):
        _softmax_vjp_row(a[r], g[r], out[r])


@kernel(inline="always")
def _softmax_vjp_row(a, g, o):
    wide_vectors()
    # The dot product is summed in float64; the rest is in a's type: float32
    # rows ran 1.7x faster than in float64, and within 1.2 eps times the
    # size of the terms instead of 0.5 (g - s and its product with a each
    # round once more).
    s = type(a[0])(_dot(a, g))
    for i in range(o.size):
        o[i] = a[i] * (g[i] - s)


@kernel
def log_softmax_vjp_rows(a, g, out):
    """out = g - exp(a) * sum(g), row by row; a is the log_softmax output."""
    _exp_all(a.reshape(-1), out.reshape(-1))
    for r in range(a.shape[0]):
        _log_softmax_vjp_row(g[r], out[r])


@kernel
def _exp_all(a, out):
    wide_vectors()
    for i in range(a.size):
        out[i] = _math.exp(a[i])


@kernel(inline="always")
def _log_softmax_vjp_row(g, o):
    """o = g - o * sum(g), with o = exp(a) on entry."""
    wide_vectors()
    # In g's type, as in _softmax_vjp_row: float32 rows 1.27x faster, within
    # 1.3 eps times the size of the terms instead of 0.85.
    s = type(g[0])(_sum(g))
    for i in range(o.size):
        o[i] = g[i] - o[i] * s


@kernel
def softmin_rows(x, out):
    """out = softmin of each row of x: softmax(-x), exactly, as -x is exact."""
    softmax_rows(-x, out)


@kernel
def softmin_vjp_rows(a, g, out):
    """out = -a * (g - sum(a * g)), row by row: the softmax VJP, negated (exactly)."""
    softmax_vjp_rows(a, g, out)
    flat = out.reshape(-1)
    for i in range(flat.size):
        flat[i] = -flat[i]


# Bound per kernel by specialize(); unset in the templates themselves.
row_kernel = into = None

# The row kernels read their inputs again after writing out, so an input
# that out is, or may overlap, is copied first (numba_act._jit.detached).


def _into1(x, out):
    check_shapes(x.shape, out.shape)
    if x.size:
        n = x.shape[-1]
        row_kernel(detached(x, out).reshape(x.size // n, n), out.reshape(x.size // n, n))
    return out


def _into2(a, g, out):
    check_shapes(a.shape, g.shape, out.shape)
    if a.size:
        n = a.shape[-1]
        rows = a.size // n
        row_kernel(detached(a, out).reshape(rows, n), detached(g, out).reshape(rows, n), out.reshape(rows, n))
    return out


# new runs the row kernel itself, as the elementwise new does: a fresh out
# needs none of into's checks.
def _new1(x):
    out = np.empty(x.shape, x.dtype)
    if x.size:
        n = x.shape[-1]
        row_kernel(np.ascontiguousarray(x).reshape(x.size // n, n), out.reshape(x.size // n, n))
    return out


def _new2(a, g):
    check_shapes(a.shape, g.shape)
    out = np.empty(a.shape, a.dtype)
    if a.size:
        n = a.shape[-1]
        rows = a.size // n
        row_kernel(
            np.ascontiguousarray(a).reshape(rows, n), np.ascontiguousarray(g).reshape(rows, n), out.reshape(rows, n)
        )
    return out


def _over_last_axis(name, kernel_2d, into_template, new_template, masked_fill=None):
    """CompiledOp applying a row kernel along the last axis of any shape;
    ``masked_fill``: the input that leaves an element out of its row."""
    into_kernel = specialize(into_template, f"{name}_into", inline=True, row_kernel=kernel_2d)
    new_kernel = specialize(new_template, f"{name}_new", row_kernel=kernel_2d)
    # The row kernel as Python calls it, by dtype: a compiled kernel, or
    # one of each type for a per_float_type kernel.
    by_dtype = getattr(kernel_2d, "compiled", None) or {np.dtype(t): kernel_2d for t in ("float32", "float64")}
    op = CompiledOp(into_kernel, new_kernel, name=name, masked_fill=masked_fill, rows=by_dtype)
    op.row_kernel, op.templates = kernel_2d, (into_template, new_template)
    return op


def in_tier(op, tier):
    """The row-wise ``op`` built from ``tier``'s primitives (see
    :mod:`numba_act._tiers`), or ``op`` itself where its row kernel calls none."""
    kernel_2d = tier.kernel(op.row_kernel)
    if kernel_2d is op.row_kernel:
        return op
    return _over_last_axis(f"{op.name}{tier.op_suffix}", kernel_2d, *op.templates, op.masked_fill)


SOFTMAX = _over_last_axis("softmax", softmax_rows, _into1, _new1, -np.inf)
LOG_SOFTMAX = _over_last_axis("log_softmax", log_softmax_rows, _into1, _new1, -np.inf)
SOFTMAX_VJP = _over_last_axis("softmax_vjp", softmax_vjp_rows, _into2, _new2)
LOG_SOFTMAX_VJP = _over_last_axis("log_softmax_vjp", log_softmax_vjp_rows, _into2, _new2)
SOFTMIN = _over_last_axis("softmin", softmin_rows, _into1, _new1, np.inf)
SOFTMIN_VJP = _over_last_axis("softmin_vjp", softmin_vjp_rows, _into2, _new2)
