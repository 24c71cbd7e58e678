"""numba_act against torch.nn.functional, and jax.nn where it is installed.

Every activation of numba_act that torch.nn.functional has, with its
defaults and other parameter values: the values agree within 1e-12
relative in float64, and the vector-Jacobian products
(``activation_backward(z, a, name, grad=g, **params)``, ``glu_vjp``) with
torch.autograd's within 1e-10, on inputs kept 1e-6 away from the kinks of
the piecewise ones.  Where torch's own float64 formula cancels or overflows
(x - tanh(x) near 0, 1 + erf and 1 + tanh in gelu's negative tail, softplus
without a threshold past exp's overflow) the reference there is mpmath
instead, and so it is for the two VJPs where torch rounds a constant to
float32 (hardsigmoid's 1/6, celu's alpha).

In float32, in the regions where torch's formulas are prone to lose
accuracy (tanhshrink and softsign near 0, log_sigmoid and mish in the
tails, selu and celu for small negative x), numba_act's results stay within
2 ulp of mpmath's; torch's worst there is measured alongside and printed
(``-s``), not asserted, since it depends on torch's version.

jax.nn, where installed: squareplus, sparse_plus, sparse_sigmoid and the
names numba_act shares with it (its aliases swish, hard_tanh, ...) agree
within 1e-12 in float64.

torch and jax are not dependencies of numba_act: without torch this module
skips, and without jax its jax tests do.
"""

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from conftest import REGISTRY, TABLE, Case, mp_derivative, mp_evaluate, mp_forward, ulp_distance  # noqa: E402

import numba_act as na  # noqa: E402

VALUE_RTOL = 1e-12
# Results in the subnormal range: torch's sigmoid(-727) is 0 (1 / (1 + inf)), the exact value 3.4e-316.
VALUE_ATOL = float(np.finfo(np.float64).tiny)
VJP_RTOL = 1e-10
KINK_GAP = 1e-6
# An absolute allowance, times |g|, for two kinds of VJP whose error is a
# few ulp of 1 rather than of the result: next to a root of the derivative
# (silu's, mish's, gelu's), a difference of terms of size about 1; and the
# derivatives that numba_act reads from a (sigmoid a (1 - a), tanh 1 - a**2,
# elu a + alpha, softplus), which carry a's rounding into the tails, as
# documented (``activation_backward(z, None, ...)`` is exact there, and is
# compared without it in test_vjp_from_z_float64).
VJP_ATOL = 1e-14
ROOT_WIDTH = 0.01
FROM_A = {name for name, entry in REGISTRY.items() if entry.derivative_from_z is not None}


@dataclasses.dataclass(frozen=True)
class Pair:
    """One elementwise activation with parameter values, on both sides.

    ``name``: numba_act's registry name; ``params``: numba_act's parameters
    by name; ``torch_fn``: the same activation on a float64 tensor; ``kinks``:
    where it is piecewise, the inputs within :data:`KINK_GAP` of which are
    left out; ``torch_off``: the inputs (a mask of a float64 array) where
    torch's own float64 formula cancels or overflows, compared with mpmath
    instead.
    ``public``: numba_act's function for the values, taking ``params`` by
    name (default ``numba_act.<name>``).  ``torch_vjp_rtol``: set where
    torch's float64 backward is itself only that accurate (it rounds a
    constant to float32); the VJPs are then compared with mpmath within
    :data:`VJP_RTOL`, and with torch within this."""

    id: str
    name: str
    params: dict
    torch_fn: Callable
    kinks: tuple = ()
    torch_off: Callable | None = None
    public: Callable | None = None
    torch_vjp_rtol: float | None = None

    def forward(self, x):
        if self.public is not None:
            return self.public(x, **self.params)
        return getattr(na, self.name)(x, **self.params)

    def case(self):
        """The test table's :class:`Case`, for the mpmath references."""
        entry = REGISTRY[self.name]
        values = (self.params.get(p.name, p.default) for p in entry.params)
        return Case(entry, tuple(p.if_none if v is None else v for p, v in zip(entry.params, values, strict=True)))


def _pairs():
    pairs = [
        Pair("sigmoid", "sigmoid", {}, torch.sigmoid),
        Pair("tanh", "tanh", {}, torch.tanh),
        Pair("relu", "relu", {}, F.relu, kinks=(0.0,)),
        Pair("relu6", "relu6", {}, F.relu6, kinks=(0.0, 6.0)),
        Pair("selu", "selu", {}, F.selu, kinks=(0.0,)),
        Pair("silu", "silu", {}, F.silu),
        Pair("mish", "mish", {}, F.mish),
        Pair("log_sigmoid", "log_sigmoid", {}, F.logsigmoid),
        Pair("softsign", "softsign", {}, F.softsign),
        # x - tanh(x) loses 2 log10(1/|x|) digits: torch's float64 is 1e-14 off at 0.1, 5e-11 at 0.001
        Pair("tanhshrink", "tanhshrink", {}, F.tanhshrink, torch_off=lambda x: np.abs(x) < 0.1),
        # torch's float64 hardsigmoid backward multiplies by 1/6 rounded to float32 (1.0f / 6.0f):
        # g * 0.1666666716337204, 3e-8 off
        Pair("hardsigmoid", "hardsigmoid", {}, F.hardsigmoid, kinks=(-3.0, 3.0), torch_vjp_rtol=5e-8),
        Pair("hardswish", "hardswish", {}, F.hardswish, kinks=(-3.0, 3.0)),
        # 1 + erf(x/sqrt(2)) and 1 + tanh(u) cancel in the negative tail: torch's float64 gelu is
        # 4e-11 off at x = -5 and 0 below -8.3; its tanh form 1e-12 off at -4 and 0 below -7
        Pair("gelu", "gelu", {}, F.gelu, torch_off=lambda x: x < -4.0, public=na.gelu),
        Pair(
            "gelu-tanh",
            "gelu_tanh",
            {},
            lambda t: F.gelu(t, approximate="tanh"),
            torch_off=lambda x: x < -3.0,
            public=lambda x: na.gelu(x, approximate="tanh"),
        ),
    ]
    for slope in (0.01, 0.2, 1 / 3, -0.5, 3.0):
        pairs.append(
            Pair(
                f"leaky_relu-{slope:g}",
                "leaky_relu",
                {} if slope == 0.01 else {"negative_slope": slope},
                lambda t, s=slope: F.leaky_relu(t, s),
                kinks=(0.0,),
            )
        )
    for alpha in (1.0, 0.5, 2.0, 1 / 3, -0.7):
        pairs.append(
            Pair(
                f"elu-{alpha:g}",
                "elu",
                {} if alpha == 1.0 else {"alpha": alpha},
                lambda t, a=alpha: F.elu(t, a),
                kinks=(0.0,),
            )
        )
    for alpha in (1.0, 0.5, 2.0, 1 / 3, 10.0):
        pairs.append(
            Pair(
                f"celu-{alpha:g}",
                "celu",
                {} if alpha == 1.0 else {"alpha": alpha},
                lambda t, a=alpha: F.celu(t, a),
                kinks=(0.0,),
                # torch's celu backward takes alpha as a float32 (1.0 / alpha.toFloat()): for an alpha
                # that float32 does not hold, e**(z/alpha) is off by |z| |1/alpha - 1/float32(alpha)|,
                # 5e-7 relative at z = -5.9 for alpha = 1/3, 2e-5 at z = -229
                torch_vjp_rtol=None if float(np.float32(alpha)) == alpha else 1e-4,
            )
        )
    # softplus: numba_act's threshold None (the default) is no threshold, torch's default is 20;
    # the same function is threshold=20.0 on numba_act's side and threshold=inf on torch's
    for beta, threshold in ((1.0, 20.0), (2.0, 20.0), (0.5, 5.0), (1 / 3, 1.0), (10.0, 20.0), (-0.5, 1.0)):
        pairs.append(
            Pair(
                f"softplus-{beta:g}-{threshold:g}",
                "softplus",
                {"threshold": threshold} if beta == 1.0 else {"beta": beta, "threshold": threshold},
                (lambda t: F.softplus(t)) if beta == 1.0 else (lambda t, b=beta, h=threshold: F.softplus(t, b, h)),
                kinks=(threshold / beta,),
            )
        )
    for beta in (1.0, 0.5):
        pairs.append(
            Pair(
                f"softplus-{beta:g}-None",
                "softplus",
                {} if beta == 1.0 else {"beta": beta},
                lambda t, b=beta: F.softplus(t, b, math.inf),
                # torch's log1p(exp(beta x)) overflows past beta x = 709.8 (inf, and a NaN gradient)
                torch_off=lambda x, b=beta: b * x > 700.0,
            )
        )
    for bounds in ((-1.0, 1.0), (0.1, 0.3), (-1 / 3, 2.5), (-2.0, -0.5), (0.0, 6.0)):
        pairs.append(
            Pair(
                "hardtanh-{:g}-{:g}".format(*bounds),
                "hardtanh",
                {} if bounds == (-1.0, 1.0) else {"min_val": bounds[0], "max_val": bounds[1]},
                lambda t, b=bounds: F.hardtanh(t, *b),
                kinks=bounds,
            )
        )
    for lambd in (0.5, 0.1, 1 / 3, 2.0, 0.0):
        for name, torch_fn in (("softshrink", F.softshrink), ("hardshrink", F.hardshrink)):
            pairs.append(
                Pair(
                    f"{name}-{lambd:g}",
                    name,
                    {} if lambd == 0.5 else {"lambd": lambd},
                    lambda t, f=torch_fn, lam=lambd: f(t, lam),
                    kinks=(-lambd, lambd),
                )
            )
    for threshold, value in ((0.0, 0.0), (0.1, 20.0), (1.0, -1 / 3), (-0.5, 2.0)):
        pairs.append(
            Pair(
                f"threshold-{threshold:g}-{value:g}",
                "threshold",
                {"threshold": threshold, "value": value},
                lambda t, h=threshold, v=value: F.threshold(t, h, v),
                kinks=(threshold,),
            )
        )
    return pairs


PAIRS = _pairs()


def test_every_torch_activation_is_paired():
    """Every built-in activation that torch.nn.functional has is compared here."""
    torch_names = {"log_sigmoid": "logsigmoid", "gelu_tanh": "gelu"}
    expected = {
        name for name, entry in REGISTRY.items() if hasattr(F, torch_names.get(name, name)) and not entry.rowwise
    }
    assert {pair.name for pair in PAIRS} == expected
    assert set(ROW_FUNCTIONS) == {name for name, entry in REGISTRY.items() if entry.rowwise}


def _inputs(pair, seed=0):
    """float64 inputs: a uniform sweep of [-12, 12], magnitudes from 1e-12 to 1e3 of both signs,
    and points just outside the kinks; none within KINK_GAP of a kink."""
    rng = np.random.default_rng(seed)
    magnitudes = 10.0 ** rng.uniform(-12, 3, 600)
    x = [rng.uniform(-12, 12, 3000), magnitudes, -magnitudes]
    for kink in pair.kinks:
        x.append(kink + np.array([-1e-3, -1e-5, -2e-6, 2e-6, 1e-5, 1e-3]))
        x.append(kink + rng.uniform(-0.1, 0.1, 200))
    x = np.concatenate(x)
    for kink in pair.kinks:
        x = x[np.abs(x - kink) >= KINK_GAP]
    return x


def _torch_value_and_vjp(fn, x, g):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = fn(t)
    y.backward(torch.from_numpy(g))
    return y.detach().numpy(), t.grad.numpy()


def _split(pair, x):
    """(inputs compared with torch, inputs compared with mpmath)."""
    if pair.torch_off is None:
        return np.ones(x.shape, bool), np.zeros(x.shape, bool)
    off = pair.torch_off(x)
    return ~off, off


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_values_float64(pair):
    x = _inputs(pair)
    ours = pair.forward(x)
    assert ours.dtype == np.float64
    # by name too, with the same parameters
    np.testing.assert_array_equal(na.activation_forward(x, pair.name, **pair.params), ours)
    with torch.no_grad():
        theirs = pair.torch_fn(torch.from_numpy(x)).numpy()
    with_torch, with_mpmath = _split(pair, x)
    np.testing.assert_allclose(ours[with_torch], theirs[with_torch], rtol=VALUE_RTOL, atol=VALUE_ATOL, err_msg=pair.id)
    if with_mpmath.any():
        exact = mp_forward(pair.case(), x[with_mpmath]).hi
        np.testing.assert_allclose(ours[with_mpmath], exact, rtol=VALUE_RTOL, atol=VALUE_ATOL, err_msg=pair.id)


def _vjp_atol(pair, z, g):
    """The absolute allowance of each VJP: see :data:`VJP_ATOL`."""
    near = np.full(z.shape, pair.name in FROM_A)
    for root in TABLE[pair.name].roots:
        near |= np.abs(z - root) < ROOT_WIDTH
    return np.where(near, VJP_ATOL * np.abs(g), 0.0) + VALUE_ATOL


def _assert_vjp_close(what, z, g, ours, reference, rtol, atol):
    bad = ~(np.abs(ours - reference) <= rtol * np.abs(reference) + atol)
    assert not bad.any(), _report(what, z[bad], g[bad], ours[bad], reference[bad])


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_vjp_float64(pair):
    z = _inputs(pair, seed=1)
    g = np.random.default_rng(2).normal(size=z.shape)
    a = pair.forward(z)
    ours = na.activation_backward(z, a, pair.name, grad=g, **pair.params)
    assert ours.dtype == np.float64
    _, theirs = _torch_value_and_vjp(pair.torch_fn, z, g)
    with_torch, with_mpmath = _split(pair, z)
    atol, rtol = _vjp_atol(pair, z, g), VJP_RTOL
    if pair.torch_vjp_rtol is not None:
        with_mpmath, rtol = with_mpmath | with_torch, pair.torch_vjp_rtol
    t = with_torch
    _assert_vjp_close(pair.id, z[t], g[t], ours[t], theirs[t], rtol, atol[t])
    if with_mpmath.any():
        m = with_mpmath
        exact = mp_derivative(pair.case(), z[m], a[m], g[m]).hi
        _assert_vjp_close(pair.id + " (mpmath)", z[m], g[m], ours[m], exact, VJP_RTOL, atol[m])


# torch's sigmoid and tanh backward read the output too: 1e-10 relative is
# lost from z = 13.8 (1 - a) and |z| = 7 (1 - a**2) on; mpmath beyond.
TORCH_FROM_A = {"sigmoid": lambda z: z > 12.0, "tanh": lambda z: np.abs(z) > 6.0}


@pytest.mark.parametrize("pair", [p for p in PAIRS if p.name in FROM_A], ids=lambda p: p.id)
def test_vjp_from_z_float64(pair):
    """``a=None``: the derivative from z alone, exact in the tails too, without the allowance."""
    z = _inputs(pair, seed=1)
    g = np.random.default_rng(2).normal(size=z.shape)
    ours = na.activation_backward(z, None, pair.name, grad=g, **pair.params)
    _, theirs = _torch_value_and_vjp(pair.torch_fn, z, g)
    with_torch, with_mpmath = _split(pair, z)
    if pair.name in TORCH_FROM_A:
        with_mpmath |= TORCH_FROM_A[pair.name](z)
        with_torch &= ~with_mpmath
    t, m = with_torch, with_mpmath
    _assert_vjp_close(pair.id, z[t], g[t], ours[t], theirs[t], VJP_RTOL, VALUE_ATOL)
    if m.any():
        case = pair.case()
        derivative = TABLE[pair.name].derivative_of_z
        exact = mp_evaluate(lambda z, g: g * derivative(z, *case.values), z[m], g[m]).hi
        _assert_vjp_close(pair.id + " (mpmath)", z[m], g[m], ours[m], exact, VJP_RTOL, VALUE_ATOL)


def _report(what, z, g, ours, theirs):
    lines = [f"{what}: {z.size} VJPs apart"]
    for i in np.argsort(-np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300))[:6]:
        lines.append(f"  z={z[i]!r} g={g[i]!r}: numba_act {ours[i]!r}, reference {theirs[i]!r}")
    return "\n".join(lines)


# ----------------------------------------------------------- row-wise and glu

ROW_FUNCTIONS = {
    "softmax": lambda t, dim: F.softmax(t, dim=dim),
    "softmin": lambda t, dim: F.softmin(t, dim=dim),
    "log_softmax": lambda t, dim: F.log_softmax(t, dim=dim),
}
SHAPES_AND_AXES = [((7, 13), -1), ((7, 13), 0), ((7, 13), 1), ((3, 4, 5), 1), ((3, 4, 5), -3), ((16,), 0)]


def _rows(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=4.0, size=shape)
    x.flat[::5] *= 10.0  # dominant entries: probabilities far below 1e-12 next to ones near 1
    return x


@pytest.mark.parametrize("name", ROW_FUNCTIONS)
@pytest.mark.parametrize(("shape", "axis"), SHAPES_AND_AXES, ids=lambda v: str(v))
def test_rowwise_float64(name, shape, axis):
    x = _rows(shape, 3)
    g = np.random.default_rng(4).normal(size=shape)
    ours = getattr(na, name)(x, axis=axis)
    theirs, theirs_vjp = _torch_value_and_vjp(lambda t: ROW_FUNCTIONS[name](t, axis), x, g)
    # log_softmax next to 0 (a dominant entry: -sum of the others' exp) is an absolute quantity in torch's
    # x - max - log(sum), which rounds log(1 + tiny); numba_act keeps it relative
    atol = 1e-15 if name == "log_softmax" else 0.0
    np.testing.assert_allclose(ours, theirs, rtol=VALUE_RTOL, atol=atol)
    ours_vjp = na.activation_backward(x, ours, name, grad=g, axis=axis)
    # each VJP is a sum over the row, whose error is absolute
    scale = np.max(np.abs(g)) * x.shape[axis]
    np.testing.assert_allclose(ours_vjp, theirs_vjp, rtol=VJP_RTOL, atol=VJP_ATOL * scale)


@pytest.mark.parametrize(("shape", "axis"), [((6, 10), -1), ((6, 10), 0), ((4, 6, 8), 1), ((12,), 0)], ids=str)
def test_glu_float64(shape, axis):
    x = np.random.default_rng(5).normal(scale=5.0, size=shape)
    out_shape = list(shape)
    out_shape[axis] //= 2
    g = np.random.default_rng(6).normal(size=out_shape)
    theirs, theirs_vjp = _torch_value_and_vjp(lambda t: F.glu(t, dim=axis), x, g)
    np.testing.assert_allclose(na.glu(x, axis=axis), theirs, rtol=VALUE_RTOL, atol=VALUE_ATOL)
    np.testing.assert_allclose(na.glu_vjp(x, g, axis=axis), theirs_vjp, rtol=VJP_RTOL, atol=VALUE_ATOL)


# -------------------------------------------------------------------- float32


def _tails(*ranges, n=400):
    """Log-spaced float32 inputs over each (lo, hi) magnitude range, with its sign."""
    parts = []
    for sign, lo, hi in ranges:
        parts.append(sign * np.geomspace(lo, hi, n))
    return np.unique(np.concatenate(parts).astype(np.float32))


# Where torch's float32 formulas are prone to lose accuracy: (pair id, inputs)
FLOAT32_REGIONS = [
    ("tanhshrink", _tails((1, 1e-6, 1.0), (-1, 1e-6, 1.0))),  # x - tanh(x) cancels
    ("softsign", _tails((1, 1e-30, 1e-2), (-1, 1e-30, 1e-2))),
    ("log_sigmoid", _tails((1, 10.0, 100.0), (-1, 10.0, 100.0))),
    ("mish", _tails((1, 5.0, 100.0), (-1, 5.0, 100.0))),
    ("selu", _tails((-1, 1e-9, 0.5))),  # exp(x) - 1 cancels
    ("celu-1", _tails((-1, 1e-9, 0.5))),
    ("celu-0.5", _tails((-1, 1e-9, 0.5))),
    ("celu-2", _tails((-1, 1e-9, 0.5))),
]
PAIRS_BY_ID = {pair.id: pair for pair in PAIRS}


@pytest.mark.parametrize(("pair_id", "x"), FLOAT32_REGIONS, ids=[r[0] for r in FLOAT32_REGIONS])
def test_float32_accuracy_next_to_torch(pair_id, x):
    pair = PAIRS_BY_ID[pair_id]
    ours = pair.forward(x)
    assert ours.dtype == np.float32
    with torch.no_grad():
        theirs = pair.torch_fn(torch.from_numpy(x)).numpy()
    assert theirs.dtype == np.float32
    exact = mp_forward(pair.case(), x)
    ours_ulp = ulp_distance(ours, exact, np.float32)
    theirs_ulp = ulp_distance(theirs, exact, np.float32)
    # torch's worst, and its worst where the exact result is a normal float32 (in the subnormal
    # range an ulp is a larger part of the value)
    normal = np.abs(exact.hi) >= np.finfo(np.float32).tiny
    worst = int(np.argmax(theirs_ulp))
    worst_normal = int(np.flatnonzero(normal)[np.argmax(theirs_ulp[normal])])
    print(
        f"\n{pair_id} float32 on [{x.min():.3g}, {x.max():.3g}]: numba_act max {ours_ulp.max():.3g} ulp; "
        f"torch max {theirs_ulp.max():.3g} ulp at x={x[worst]!r} ({theirs[worst]!r}, exact {exact.hi[worst]!r}), "
        f"{theirs_ulp[normal].max():.3g} ulp where normal (x={x[worst_normal]!r}), over 2 ulp at "
        f"{np.count_nonzero(theirs_ulp > 2)} of {x.size}"
    )
    bad = ours_ulp > 2
    assert not bad.any(), f"{pair_id}: numba_act {ours_ulp.max():.3g} ulp at x={x[bad][:5]!r}"


# ------------------------------------------------------------------------ jax


@pytest.fixture(scope="module")
def jnn():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax.nn


def _jax_inputs(kinks=(), seed=7):
    rng = np.random.default_rng(seed)
    magnitudes = 10.0 ** rng.uniform(-12, 2, 400)
    x = np.concatenate([rng.uniform(-20, 20, 2000), magnitudes, -magnitudes])
    for kink in kinks:
        x = np.concatenate([x, kink + rng.uniform(-0.1, 0.1, 200)])
    for kink in kinks:
        x = x[np.abs(x - kink) >= KINK_GAP]
    return x


def _jax_float64(fn, x):
    out = np.asarray(fn(x))
    assert out.dtype == np.float64
    return out


@pytest.mark.parametrize("b", [4.0, 1.0, 0.1, 1 / 3, 100.0, 0.0])
def test_jax_squareplus(jnn, b):
    x = _jax_inputs((0.0,) if b == 0 else ())
    ours = na.squareplus(x) if b == 4.0 else na.squareplus(x, b=b)
    theirs = _jax_float64(lambda v: jnn.squareplus(v, b), x)
    # jax's (x + sqrt(x**2 + b)) / 2 cancels for negative x, 4e-16 x**2 / b relative: 1e-12 is
    # lost from x**2 / b = 2e3 on; numba_act is compared with mpmath from 1e3
    far = (x < 0) & (x * x > 1e3 * b)
    np.testing.assert_allclose(ours[~far], theirs[~far], rtol=VALUE_RTOL, atol=VALUE_ATOL)
    if far.any():
        exact = mp_forward(Case(REGISTRY["squareplus"], (b,)), x[far]).hi
        np.testing.assert_allclose(ours[far], exact, rtol=VALUE_RTOL, atol=VALUE_ATOL)


@pytest.mark.parametrize("name", ["sparse_plus", "sparse_sigmoid"])
def test_jax_sparse(jnn, name):
    x = _jax_inputs((-1.0, 1.0))
    np.testing.assert_allclose(
        getattr(na, name)(x), _jax_float64(getattr(jnn, name), x), rtol=VALUE_RTOL, atol=VALUE_ATOL
    )


# jax.nn's spellings (numba_act's aliases) and the names both have: (jax.nn name, numba_act call, kinks).
JAX_NAMES = [
    ("swish", na.swish, ()),
    ("silu", na.silu, ()),
    ("hard_tanh", na.hard_tanh, (-1.0, 1.0)),
    ("hard_sigmoid", na.hard_sigmoid, (-3.0, 3.0)),
    ("hard_swish", na.hard_swish, (-3.0, 3.0)),
    ("hard_silu", na.hard_silu, (-3.0, 3.0)),
    ("soft_sign", na.soft_sign, ()),
    ("log_sigmoid", na.log_sigmoid, ()),
    ("sigmoid", na.sigmoid, ()),
    ("tanh", na.tanh, ()),
    ("relu", na.relu, (0.0,)),
    ("relu6", na.relu6, (0.0, 6.0)),
    ("elu", na.elu, (0.0,)),
    ("celu", na.celu, (0.0,)),
    ("selu", na.selu, (0.0,)),
    ("leaky_relu", na.leaky_relu, (0.0,)),
    ("mish", na.mish, ()),
    ("softplus", na.softplus, ()),  # jax's has no threshold: numba_act's default
    ("gelu-erf", lambda x: na.gelu(x), ()),
]


@pytest.mark.parametrize(("jax_name", "ours", "kinks"), JAX_NAMES, ids=[n[0] for n in JAX_NAMES])
def test_jax_names(jnn, jax_name, ours, kinks):
    x = _jax_inputs(kinks)
    if jax_name == "gelu-erf":
        theirs_fn = lambda v: jnn.gelu(v, approximate=False)  # noqa: E731  (jax's default is the tanh form)
        x = x[x > -4.0]  # 1 + erf cancels below, as torch's (see test_values_float64)
    else:
        theirs_fn = getattr(jnn, jax_name)
    np.testing.assert_allclose(ours(x), _jax_float64(theirs_fn, x), rtol=VALUE_RTOL, atol=VALUE_ATOL, err_msg=jax_name)


def test_jax_gelu_default_is_the_tanh_form(jnn):
    """jax.nn.gelu's default is approximate=True, numba_act's gelu(approximate="tanh")."""
    x = _jax_inputs()
    x = x[x > -3.0]  # 1 + tanh(u) cancels below, as torch's
    np.testing.assert_allclose(
        na.gelu(x, approximate="tanh"), _jax_float64(jnn.gelu, x), rtol=VALUE_RTOL, atol=VALUE_ATOL
    )


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize(("shape", "axis"), SHAPES_AND_AXES, ids=lambda v: str(v))
def test_jax_rowwise(jnn, name, shape, axis):
    x = _rows(shape, 8)
    atol = 1e-15 if name == "log_softmax" else 0.0
    np.testing.assert_allclose(
        getattr(na, name)(x, axis=axis),
        _jax_float64(lambda v: getattr(jnn, name)(v, axis=axis), x),
        rtol=VALUE_RTOL,
        atol=atol,
    )


@pytest.mark.parametrize("axis", [-1, 0])
def test_jax_glu(jnn, axis):
    x = np.random.default_rng(9).normal(scale=5.0, size=(6, 10))
    theirs = _jax_float64(lambda v: jnn.glu(v, axis=axis), x)
    np.testing.assert_allclose(na.glu(x, axis=axis), theirs, rtol=VALUE_RTOL, atol=VALUE_ATOL)
