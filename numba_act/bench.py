"""Side-by-side speed of numba_act and the other ways to compute the same thing.

Run ``python -m numba_act.bench`` (``--help`` for options).  In one process it
times every registered activation, forward and backward (the vector-Jacobian
product), float32 and float64, against:

- ``numpy``: the plain NumPy formulas of :mod:`numba_act.reference` (the baseline),
- ``scipy``: ``scipy.special.expit``, ``softmax`` and ``log_softmax``, where they exist,
- ``torch`` and ``jax`` (``jax.jit``), when they are installed; skipped otherwise.

Every library gets the same inputs: x, a = f(x) and the gradient g, and the
same parameters: those of :data:`BENCH_PARAMS` (threshold's, which has no
defaults), otherwise the activation's defaults.  torch is timed with
``torch.nn.functional.<name>`` and its backward operator, where it has both
(an activation torch lacks, or one whose backward torch composes of several
operators, has no torch column); jax with ``jax.nn.<name>`` where jax.nn
has it and takes the parameters (``jax.nn.hard_tanh`` only for the default
bounds).  A backward pass is computed from what its derivative needs, a where that is a
function of a (sigmoid, relu, tanh, the softmax family), otherwise x, as
torch's own backward operators take them; jax's are written from jax.nn's
derivative rules given the same arrays, not as ``jax.vjp(f, x)``, which
would run the forward pass again inside every timed call.

Threads: ``--threads one`` (and the first half of ``both``) holds every
library to one core: the whole process, every thread it has and every
thread it starts, is pinned to one core with ``os.sched_setaffinity``
(Linux), numba_act, torch and the BLAS of NumPy and SciPy (with
threadpoolctl) are set to one thread, and ``XLA_FLAGS`` is
set for one thread before jax is imported (jax sizes its pool at import,
and even with those flags it kept more than one core busy).  ``--threads
all`` lets numba_act and torch use every core the process may; numpy,
scipy and jax are timed in the one-thread mode only.  Results are
nanoseconds per element (best of several repeats) and ratios measured in the
same run; a table is printed and a PNG plot written (needs matplotlib).

Last, one training step of the digits network of ``python -m numba_act``
at batch 32 and 256, one thread (``--training`` for that table alone): the
compiled step, the Python path with numba_act's and with NumPy's
activations, and PyTorch's eager and a ``jax.jit`` step when installed (see
:mod:`numba_act._step_bench`); the data are random pixels, so scikit-learn
is not needed.
"""

import argparse
import contextlib
import functools
import inspect
import os
import platform
import sys
import threading
import time

import numpy as np

ELEMENTWISE_SIZES = (10**3, 10**5, 10**7)
ROW_SHAPES = ((32, 10), (256, 1000), (64, 50257))
DTYPES = ("float32", "float64")


# The parameters the benchmark runs each activation with, by name, where not
# its defaults; every library gets the same.  An activation with a required
# parameter that is not listed here gets 0.0 for it.
BENCH_PARAMS = {
    "threshold": {"threshold": 0.0, "value": 0.0},
}


def _params_text(named):
    return ", ".join(f"{k}={v:g}" for k, v in named.items())


def bench_params(name):
    """``{parameter: float}`` of ``name``'s parameters as the benchmark runs
    them: :data:`BENCH_PARAMS`, else the defaults (0.0 for a required one),
    converted and checked as numba_act takes them (None for its float)."""
    from numba_act import REGISTRY
    from numba_act.registry import REQUIRED

    entry = REGISTRY[name]
    given = BENCH_PARAMS.get(name, {})
    named = {p.name: given.get(p.name, 0.0 if p.default is REQUIRED else p.default) for p in entry.params}
    return dict(zip(named, entry.param_values(named), strict=True))


def _defaults(name):
    """``{parameter: float}`` of ``name``'s defaults (None for what it stands for); required ones left out."""
    from numba_act import REGISTRY
    from numba_act.registry import REQUIRED

    return {
        p.name: p.if_none if p.default is None else float(p.default)
        for p in REGISTRY[name].params
        if p.default is not REQUIRED
    }


def _with_params(fn, name):
    """``fn`` with the benchmark's parameters of ``name`` bound by keyword, as
    far as it takes them (by the names of its signature); None where it
    lacks one whose value is not the default, as it computes something
    else then."""
    params = bench_params(name)
    if fn is None or not params:
        return fn
    takes = inspect.signature(fn).parameters
    defaults, bound = _defaults(name), {}
    for param, value in params.items():
        if param in takes:
            bound[param] = value
        elif param not in defaults or value != defaults[param]:
            return None
    return functools.partial(fn, **bound) if bound else fn


def _best_time(fn, budget=0.2, repeats=5):
    """Best seconds per call of ``fn()``, calls batched to fill ``budget``."""
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(budget / repeats / once))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


# ------------------------------------------------------------------ implementations


def _numba_act(name, direction, fast=False):
    import numba_act
    import numba_act.fast

    tier = numba_act.fast if fast else numba_act
    entry = tier.REGISTRY[name]
    if entry.params:  # the public functions, with the parameters in order as floats
        values = tuple(bench_params(name).values())
        forward, vjp = entry.forward, entry.vjp
        if direction == "forward":
            return lambda x, a, g: forward(x, *values)
        return lambda x, a, g: vjp(x, a, g, *values)
    if direction == "forward":
        return lambda x, a, g: entry.forward(x)
    return lambda x, a, g: tier.activation_backward(x, a, name, g)


def _numpy(name, direction):
    from numba_act import REGISTRY

    entry = REGISTRY[name]
    values = tuple(bench_params(name).values())
    if direction == "forward":
        return lambda x, a, g: entry.reference(x, *values)
    return lambda x, a, g: entry.reference_vjp(x, a, g, *values)


def _scipy(name, direction):
    try:
        import scipy.special as sc
    except ImportError:
        return None
    forward = {
        "sigmoid": sc.expit,
        "softmax": lambda x: sc.softmax(x, axis=-1),
        "log_softmax": lambda x: sc.log_softmax(x, axis=-1),
    }
    if direction != "forward" or name not in forward:
        return None
    f = forward[name]
    return lambda x, a, g: f(x)


# selu's constants, as torch and jax write them.
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _torch(name, direction):
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    aten = torch.ops.aten
    # Each takes the activation's parameters by numba_act's names (see _with_params).
    forward = {
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "softmax": lambda x: torch.softmax(x, -1),
        "softmin": lambda x: F.softmin(x, -1),
        "log_softmax": lambda x: torch.log_softmax(x, -1),
        "tanh": torch.tanh,
        "leaky_relu": lambda x, negative_slope=0.01: F.leaky_relu(x, negative_slope),
        "elu": lambda x, alpha=1.0: F.elu(x, alpha),
        "celu": lambda x, alpha=1.0: F.celu(x, alpha),
        "selu": F.selu,
        "gelu": F.gelu,
        "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "silu": F.silu,
        "mish": F.mish,
        "softplus": lambda x, beta=1.0, threshold=20.0: F.softplus(x, beta, threshold),
        "relu6": F.relu6,
        "hardtanh": lambda x, min_val=-1.0, max_val=1.0: F.hardtanh(x, min_val, max_val),
        "hardsigmoid": F.hardsigmoid,
        "hardswish": F.hardswish,
        "softshrink": lambda x, lambd=0.5: F.softshrink(x, lambd),
        "hardshrink": lambda x, lambd=0.5: F.hardshrink(x, lambd),
        "threshold": lambda x, threshold, value: F.threshold(x, threshold, value),
        "log_sigmoid": F.logsigmoid,
        "softsign": F.softsign,
        "tanhshrink": F.tanhshrink,
    }
    # torch's backward operators, as autograd calls them; none for the
    # activations whose backward torch composes of several operators.
    backward = {
        "sigmoid": lambda x, a, g: aten.sigmoid_backward(g, a),
        "relu": lambda x, a, g: aten.threshold_backward(g, a, 0),
        "softmax": lambda x, a, g: aten._softmax_backward_data(g, a, -1, a.dtype),
        # softmin is softmax(-x): its backward, negated
        "softmin": lambda x, a, g: torch.neg(aten._softmax_backward_data(g, a, -1, a.dtype)),
        "log_softmax": lambda x, a, g: aten._log_softmax_backward_data(g, a, -1, a.dtype),
        "tanh": lambda x, a, g: aten.tanh_backward(g, a),
        "leaky_relu": lambda x, a, g, negative_slope=0.01: aten.leaky_relu_backward(g, x, negative_slope, False),
        "elu": lambda x, a, g, alpha=1.0: aten.elu_backward(g, alpha, 1.0, 1.0, False, x),
        "celu": lambda x, a, g, alpha=1.0: aten.elu_backward(g, alpha, 1.0, 1.0 / alpha, False, x),
        "selu": lambda x, a, g: aten.elu_backward(g, _SELU_ALPHA, _SELU_SCALE, 1.0, False, x),
        "gelu": lambda x, a, g: aten.gelu_backward(g, x),
        "gelu_tanh": lambda x, a, g: aten.gelu_backward(g, x, approximate="tanh"),
        "silu": lambda x, a, g: aten.silu_backward(g, x),
        "mish": lambda x, a, g: aten.mish_backward(g, x),
        "softplus": lambda x, a, g, beta=1.0, threshold=20.0: aten.softplus_backward(g, x, beta, threshold),
        "relu6": lambda x, a, g: aten.hardtanh_backward(g, x, 0.0, 6.0),
        "hardtanh": lambda x, a, g, min_val=-1.0, max_val=1.0: aten.hardtanh_backward(g, x, min_val, max_val),
        "hardsigmoid": lambda x, a, g: aten.hardsigmoid_backward(g, x),
        "hardswish": lambda x, a, g: aten.hardswish_backward(g, x),
        "softshrink": lambda x, a, g, lambd=0.5: aten.softshrink_backward(g, x, lambd),
        "hardshrink": lambda x, a, g, lambd=0.5: aten.hardshrink_backward(g, x, lambd),
        # value does not enter the gradient, but is a parameter of the call
        "threshold": lambda x, a, g, threshold, value: aten.threshold_backward(g, x, threshold),
        "log_sigmoid": _torch_log_sigmoid_backward(aten),
    }
    if direction == "forward":
        f = _with_params(forward.get(name), name)
        return None if f is None else lambda x, a, g: f(x)
    return _with_params(backward.get(name), name)


def _torch_log_sigmoid_backward(aten):
    """torch's log_sigmoid backward reads a buffer (exp(-|x|)) that its
    forward pass saves for it, as autograd does: made here once per x."""
    saved = [None, None]

    def backward(x, a, g):
        if saved[0] is not x:
            saved[:] = x, aten.log_sigmoid_forward(x)[1]
        return aten.log_sigmoid_backward(g, x, saved[1])

    return backward


def _jax(name, direction):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    nn = jax.nn
    # jax.nn's own functions, where it has them; they take the parameters
    # they have by numba_act's names (negative_slope, alpha, b).
    forward = {
        "sigmoid": nn.sigmoid,
        "relu": nn.relu,
        "softmax": nn.softmax,
        "log_softmax": nn.log_softmax,
        "tanh": jnp.tanh,
        "leaky_relu": nn.leaky_relu,
        "elu": nn.elu,
        "celu": getattr(nn, "celu", None),
        "selu": getattr(nn, "selu", None),
        "gelu": lambda x: nn.gelu(x, approximate=False),
        "gelu_tanh": lambda x: nn.gelu(x, approximate=True),
        "silu": nn.silu,
        "mish": getattr(nn, "mish", None),
        "softplus": nn.softplus,  # exact everywhere: numba_act's threshold=None, beta=1
        "relu6": getattr(nn, "relu6", None),
        "hardtanh": getattr(nn, "hard_tanh", None),  # [-1, 1] only
        "hardsigmoid": getattr(nn, "hard_sigmoid", None),
        "hardswish": getattr(nn, "hard_swish", None),
        "log_sigmoid": getattr(nn, "log_sigmoid", None),
        "softsign": getattr(nn, "soft_sign", None),
        "squareplus": getattr(nn, "squareplus", None),
        "sparse_plus": getattr(nn, "sparse_plus", None),
        "sparse_sigmoid": getattr(nn, "sparse_sigmoid", None),
    }
    f = _with_params(forward.get(name), name)
    if f is None:
        return None
    if direction == "forward":
        compiled = jax.jit(f)
        return lambda x, a, g: compiled(x).block_until_ready()
    # From a, as torch is given it: jax.nn's own rules for these, written
    # with the forward result instead of recomputing it.
    from_a = {
        "sigmoid": lambda a, g: g * a * (1 - a),
        "relu": lambda a, g: jnp.where(a > 0, g, 0),
        "tanh": lambda a, g: g * (1 - a * a),
        "softmax": lambda a, g: a * (g - jnp.sum(a * g, axis=-1, keepdims=True)),
        "log_softmax": lambda a, g: g - jnp.exp(a) * jnp.sum(g, axis=-1, keepdims=True),
    }
    if name in from_a:
        compiled = jax.jit(from_a[name])
        return lambda x, a, g: compiled(a, g).block_until_ready()
    # From x, as torch is given it: the derivative needs the forward's parts
    # anyway, and the unused forward result is dropped from the compiled code.
    compiled = jax.jit(lambda x, g: jax.vjp(f, x)[1](g)[0])
    return lambda x, a, g: compiled(x, g).block_until_ready()


# "fast": numba_act.fast, timed where its entry differs from numba_act's.
IMPLEMENTATIONS = {
    "numba_act": _numba_act,
    "fast": functools.partial(_numba_act, fast=True),
    "numpy": _numpy,
    "scipy": _scipy,
    "torch": _torch,
    "jax": _jax,
}


def _rebuilt_in_fast_tier(name):
    import numba_act.fast

    return numba_act.fast.entries[name] is not numba_act.REGISTRY[name]


def _convert(impl, arrays):
    if impl == "torch":
        import torch

        return [torch.from_numpy(a) for a in arrays]
    if impl == "jax":
        import jax.numpy as jnp

        return [jnp.asarray(a) for a in arrays]
    return arrays


def _inputs(name, shape, dtype, rng):
    from numba_act import REGISTRY

    # Pre-activations of a trained network are about N(0, 1); much wider
    # inputs time the CPU's subnormal-number assists more than the kernels.
    x = rng.standard_normal(shape).astype(dtype)
    a = np.asarray(REGISTRY[name].forward(x, *bench_params(name).values()))
    g = rng.standard_normal(shape).astype(dtype)
    return x, a, g


# ------------------------------------------------------------------ the run


# XLA_FLAGS of the one-thread mode, replacing any of the same names.
ONE_THREAD_XLA_FLAGS = ("--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1")


def _flag_name(flag):
    return flag.lstrip("-").split("=", 1)[0]


def _one_thread_xla_flags(flags):
    ours = {_flag_name(f) for f in ONE_THREAD_XLA_FLAGS}
    return " ".join([f for f in flags.split() if _flag_name(f) not in ours] + list(ONE_THREAD_XLA_FLAGS))


def _thread_ids():
    try:
        return [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return [threading.get_native_id()]


@contextlib.contextmanager
def _one_core():
    """Every thread of this process, and every thread started meanwhile, on one core; yields that core.

    Thread pools that a library sizes or starts on its own (jax's, fixed at
    import) are held to the core with the rest.  Without
    ``os.sched_setaffinity`` (not Linux) nothing is pinned and None is yielded.
    """
    if not hasattr(os, "sched_setaffinity"):
        yield None
        return
    before = {}
    for tid in _thread_ids():
        with contextlib.suppress(OSError):  # a thread that has just ended
            before[tid] = os.sched_getaffinity(tid)
    own = os.sched_getaffinity(0)
    core = min(own)
    try:
        for tid in _thread_ids():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(tid, {core})
        yield core
    finally:
        for tid in _thread_ids():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(tid, before.get(tid, own))


def _set_threads(count):
    import numba

    numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
    try:
        import torch

        torch.set_num_threads(count)
    except ImportError:
        pass


def _blas_threads(count):
    """The BLAS libraries loaded (NumPy's, SciPy's) held to ``count`` threads,
    with threadpoolctl where it is installed (it comes with scikit-learn and
    the bench extra): threads of a BLAS started before the pinning would
    otherwise spin against each other on the one core."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    with contextlib.suppress(ImportError):  # SciPy's BLAS, the one Numba's np.dot calls, loaded to be limited too
        import scipy.linalg  # noqa: F401
    return threadpool_limits(count, user_api="blas")


@contextlib.contextmanager
def _thread_mode(threads):
    """The libraries held to one thread on one core (``"one"``), or free on every core (``"all"``)."""
    if threads == "all":
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        _set_threads(cores)
        yield
        return
    xla_flags = os.environ.get("XLA_FLAGS")
    os.environ["XLA_FLAGS"] = _one_thread_xla_flags(xla_flags or "")
    try:
        with _one_core(), _blas_threads(1):  # before torch or jax is imported, so that their pools start on that core
            _set_threads(1)
            yield
    finally:
        if xla_flags is None:
            os.environ.pop("XLA_FLAGS", None)
        else:
            os.environ["XLA_FLAGS"] = xla_flags


def run(
    names=None,
    dtypes=DTYPES,
    sizes=ELEMENTWISE_SIZES,
    shapes=ROW_SHAPES,
    directions=("forward", "backward"),
    thread_modes=("one", "all"),
    budget=0.2,
    stream=sys.stdout,
):
    """Time every case; returns a list of dicts (one per case and implementation)."""
    from numba_act import REGISTRY

    rng = np.random.default_rng(0)
    names = names or list(REGISTRY)
    rows = []
    for threads in thread_modes:
        with _thread_mode(threads):
            for name in names:
                shapes_for = [(s,) for s in sizes] if not REGISTRY[name].rowwise else list(shapes)
                for direction in directions:
                    for dtype_name in dtypes:
                        for shape in shapes_for:
                            arrays = _inputs(name, shape, np.dtype(dtype_name).type, rng)
                            rows += _time_case(name, direction, dtype_name, arrays, threads, budget)
                            _print_case(rows, stream)
    return rows


def _time_case(name, direction, dtype_name, arrays, threads, budget):
    rows = []
    for impl, make in IMPLEMENTATIONS.items():
        if threads == "all" and impl in ("numpy", "scipy", "jax"):
            continue  # timed on one thread only: the one-thread figure stands
        if impl == "fast" and not _rebuilt_in_fast_tier(name):
            continue  # the very function timed as numba_act
        fn = make(name, direction)
        if fn is None:
            continue
        args = _convert(impl, arrays)
        seconds = _best_time(lambda fn=fn, args=args: fn(*args), budget)
        size = arrays[0].size
        rows.append(
            dict(
                name=name,
                direction=direction,
                dtype=dtype_name,
                shape=arrays[0].shape,
                size=size,
                threads=threads,
                params=bench_params(name),
                impl=impl,
                seconds=seconds,
                ns_per_element=seconds / size * 1e9,
            )
        )
    return rows


def _case_key(row):
    return (row["threads"], row["name"], row["direction"], row["dtype"], row["shape"])


def _print_case(rows, stream):
    key = _case_key(rows[-1])
    case = {r["impl"]: r for r in rows if _case_key(r) == key}
    ours = case["numba_act"]["seconds"]
    shape = "x".join(map(str, key[4]))
    cells = []
    for impl in IMPLEMENTATIONS:
        if impl in case:
            r = case[impl]
            ratio = "" if impl == "numba_act" else f" ({r['seconds'] / ours:4.1f}x)"
            cells.append(f"{impl} {r['ns_per_element']:8.3f}{ratio}")
    print(f"{key[0]:>3} {key[1]:<11} {key[2]:<8} {key[3]:<7} {shape:>10}  " + "  ".join(cells), file=stream, flush=True)


def targets(budget=0.3):
    """The ratios of the performance targets, measured side by side now."""
    import numba

    import numba_act

    rng = np.random.default_rng(1)
    out = {}
    numba.set_num_threads(1)
    x = rng.standard_normal(10**5).astype(np.float32)
    o = np.empty_like(x)
    out["relu 1e5 out= vs np.copyto (time ratio, lower is better)"] = _best_time(
        lambda: numba_act.relu(x, out=o), budget
    ) / _best_time(lambda: np.copyto(o, x), budget)
    a, g = numba_act.sigmoid(x), rng.standard_normal(10**5).astype(np.float32)
    mult = _best_time(lambda: np.multiply(a, g), budget)
    for name, entry in numba_act.REGISTRY.items():
        if not entry.rowwise:
            values = tuple(bench_params(name).values())
            aa = entry.forward(x, *values)
            out[f"{name} vjp 1e5 vs np.multiply(a, g)"] = (
                _best_time(lambda entry=entry, aa=aa, values=values: entry.vjp(x, aa, g, *values), budget) / mult
            )
    z = rng.standard_normal((32, 10)).astype(np.float32)
    out["activation_forward(z, 'relu') (32, 10) vs relu(z)"] = _best_time(
        lambda: numba_act.activation_forward(z, "relu"), budget
    ) / _best_time(lambda: numba_act.relu(z), budget)
    for n in (10**6, 10**7):
        x = rng.standard_normal(n).astype(np.float32)
        o = np.empty_like(x)

        def call(x=x, o=o):
            numba_act.sigmoid(x, out=o)

        numba.set_num_threads(1)
        one = _best_time(call, budget)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        every = _best_time(call, budget)
        copy = _best_time(lambda x=x, o=o: np.copyto(o, x), budget)
        out[f"sigmoid {n:.0e} one thread / all threads (speedup)"] = one / every
        out[f"sigmoid {n:.0e} all threads vs np.copyto (time ratio)"] = every / copy
    numba.set_num_threads(1)
    return out


# The cases of the performance goals (docs/performance.md), with what each
# asks of the default tier and of numba_act.fast, as "impl>=N" where
# N = impl's time / the tier's (numpy: the NumPy formula).
GOALS = {
    ("sigmoid", "float32", (10**5,)): ("numpy>=3 torch>=1", "torch>=1.3 jax>=1.2"),
    ("sigmoid", "float64", (10**5,)): ("numpy>=2 torch>=1", ""),
    ("silu", "float32", (10**5,)): ("torch>=1", "torch>=1.3 jax>=1.2"),
    ("gelu", "float32", (10**5,)): ("torch>=1", "torch>=1.3 jax>=1.2"),
    ("gelu_tanh", "float32", (10**5,)): ("", "torch>=1.3 jax>=1.2"),
    ("tanh", "float32", (10**5,)): ("", "torch>=1.3 jax>=1.2"),
    ("softmax", "float32", (256, 1000)): ("numpy>=3 torch>=1 jax>=1.2", "torch>=1.3 jax>=1.2"),
    ("log_softmax", "float32", (256, 1000)): ("torch>=1", "torch>=1.3 jax>=1.2"),
    ("softmax", "float32", (256, 128)): ("torch>=1", ""),
    ("softmax", "float32", (32, 10)): ("torch>=5", ""),
}


def goals(budget=0.3, stream=sys.stdout, rounds=5):
    """Each goal case timed for numba_act, numba_act.fast, the NumPy formula,
    torch and jax side by side, in ``rounds`` alternating rounds (call inside
    ``_thread_mode``); prints each library's time and every ratio with
    whether its goal holds.  Returns ``{case: {impl: seconds}}``."""
    rng = np.random.default_rng(2)
    results = {}
    print("ns per element ((32, 10): us per call); then each ratio and its goal", file=stream)
    for (name, dtype, shape), asks in GOALS.items():
        arrays = _inputs(name, shape, np.dtype(dtype).type, rng)
        calls = {}
        for impl in ("numba_act", "fast", "numpy", "torch", "jax"):
            fn = IMPLEMENTATIONS[impl](name, "forward")
            if fn is not None:
                calls[impl] = functools.partial(fn, *_convert(impl, arrays))
        # Rounds that alternate between the libraries, the best of each kept:
        # a slow spell of a shared machine then costs every library alike.
        times = dict.fromkeys(calls, float("inf"))
        for _ in range(rounds):
            for impl, call in calls.items():
                times[impl] = min(times[impl], _best_time(call, budget / rounds))
        results[(name, dtype, shape)] = times
        per = 1e6 if shape == (32, 10) else 1e9 / arrays[0].size
        cells = []
        for tier, ask in zip(("numba_act", "fast"), asks, strict=True):
            for other in ("numpy", "torch", "jax"):
                if other in times and not (tier == "fast" and other == "numpy"):
                    ratio = times[other] / times[tier]
                    goal = next((float(a.split(">=")[1]) for a in ask.split() if a.startswith(other + ">=")), None)
                    mark = "" if goal is None else (" ok" if ratio >= goal else f" <{goal:g}")
                    cells.append(f"{other}/{'fast' if tier == 'fast' else 'na'} {ratio:4.2f}{mark}")
        label = f"{name} {dtype} {'x'.join(map(str, shape))}"
        measured = "  ".join(f"{impl} {t * per:.3g}" for impl, t in times.items())
        print(f"  {label:<28} {measured}\n  {'':<28} " + "  ".join(cells), file=stream, flush=True)
    return results


def empty_call_floor(budget=0.3):
    """What a compiled call costs with nothing to do, beside a small numba_act call: {label: us}."""
    import numba

    import numba_act

    z = np.zeros((32, 10), np.float32)
    nothing, passing = numba.njit(lambda: None), numba.njit(lambda x: x)
    nothing(), passing(z), numba_act.softmax(z)
    return {
        "@njit function, no arguments": _best_time(nothing, budget) * 1e6,
        "@njit function passing one (32, 10) array": _best_time(lambda: passing(z), budget) * 1e6,
        "numba_act.softmax on (32, 10) float32": _best_time(lambda: numba_act.softmax(z), budget) * 1e6,
        "numba_act.sigmoid on (32, 10) float32": _best_time(lambda: numba_act.sigmoid(z), budget) * 1e6,
    }


_FIRST_CALL = """
import time, numpy as np
import numba_act{tier}
x = np.linspace(-3, 3, 40, dtype=np.{dtype}).reshape(4, 10)
start = time.perf_counter()
numba_act{tier}.{name}(x)
print(time.perf_counter() - start)
"""

FIRST_CALLS = (
    ("softmax", "float32", ""),
    ("softmax", "float64", ""),
    ("sigmoid", "float32", ""),
    ("silu", "float32", ""),
    ("gelu", "float32", ""),
    ("sigmoid", "float32", ".fast"),
)


def first_calls():
    """Seconds of each first call in a fresh process with an empty compile cache: {label: s}."""
    import subprocess
    import tempfile

    out = {}
    for name, dtype, tier in FIRST_CALLS:
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            code = _FIRST_CALL.format(name=name, dtype=dtype, tier=tier)
            done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        out[f"numba_act{tier}.{name} {dtype}"] = float(done.stdout.split()[-1])
    return out


DASK_SHAPE, DASK_CHUNKS = (8192, 8192), (512, 2048)


def dask_throughput(shape=DASK_SHAPE, chunks=DASK_CHUNKS, budget=1.0):
    """ns per element of numba_act and of dask's own formulas on one dask array.

    float32, in memory (so that nothing upstream is timed), chunked on both
    axes so that softmax rows span several chunks; each result is stored into
    a preallocated NumPy array with dask's default (threaded) scheduler.
    """
    import dask.array as da

    import numba_act

    values = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x = da.from_array(values, chunks=chunks)
    target = np.empty_like(values)

    def dask_softmax(x):
        e = da.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    cases = {
        "sigmoid vs 1 / (1 + da.exp(-x))": (numba_act.sigmoid, lambda x: 1 / (1 + da.exp(-x))),
        "softmax (4 chunks) vs da.exp(x - max) / sum": (numba_act.softmax, dask_softmax),
        "softmax (4 chunks) vs exact two-stage": (numba_act.softmax, _two_stage_softmax),
    }
    out = {}
    for label, (ours, theirs) in cases.items():
        times = [
            _best_time(lambda fn=fn: da.store(fn(x), target, lock=False), budget, repeats=3) / values.size * 1e9
            for fn in (ours, theirs)
        ]
        out[label] = times
    return out


def _two_stage_softmax(x):
    """Exact softmax along the last axis of a 2-D dask array without rechunking.

    Stage one takes, per block and row, the max m and the float64 sum s of
    exp(x - m); they are combined across chunks into the row's M and
    S = sum(s exp(m - M)); stage two recomputes exp(x - M) / S block by
    block.  The alternative to numba_act's rechunking, timed beside it.
    """
    import dask.array as da

    stats, scale = _two_stage_kernels()
    parts = x.map_blocks(stats, chunks=(x.chunks[0], (2,) * x.numblocks[1]), dtype=np.float64)
    m, s = parts[:, 0::2], parts[:, 1::2]
    row_max = m.max(axis=1, keepdims=True)
    total = (s * da.exp(m - row_max)).sum(axis=1, keepdims=True)
    return da.map_blocks(scale, x, row_max, 1.0 / total, dtype=x.dtype)


@functools.cache
def _two_stage_kernels():
    """The compiled blocks of :func:`_two_stage_softmax`, made once."""
    import numba

    # numba_act's own row pieces: the vectorized max, exp(x - m) with the
    # rounding of x - m kept, and the compensated float64 sum.
    from numba_act.rowwise import _exp_shifted, _max, _sum

    @numba.njit(nogil=True, error_model="numpy")
    def stats(x):
        x = np.ascontiguousarray(x)
        out, e = np.empty((x.shape[0], 2)), np.empty(x.shape[1], x.dtype)
        for r in range(x.shape[0]):
            m = _max(x[r])
            _exp_shifted(x[r], m, e)
            out[r, 0], out[r, 1] = m, _sum(e)
        return out

    @numba.njit(nogil=True, error_model="numpy")
    def scale(x, m, inverse):
        x = np.ascontiguousarray(x)
        out = np.empty_like(x)
        for r in range(x.shape[0]):
            _exp_shifted(x[r], x.dtype.type(m[r, 0]), out[r])
            f = inverse[r, 0]
            for i in range(x.shape[1]):
                out[r, i] = np.float64(out[r, i]) * f
        return out

    return stats, scale


def plot(rows, path):
    """A PNG of ns/element per implementation for the main cases (one thread)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(n, d) for n in ("sigmoid", "softmax") for d in ("forward", "backward")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4), squeeze=False)
    for ax, (name, direction) in zip(axes[0], panels, strict=True):
        sel = [r for r in rows if r["name"] == name and r["direction"] == direction and r["threads"] == "one"]
        cases = sorted({(r["dtype"], r["shape"]) for r in sel}, key=lambda c: (c[0], np.prod(c[1])))
        labels = [f"f{d[5:]} {'x'.join(map(str, s))}" for d, s in cases]
        impls = [i for i in IMPLEMENTATIONS if any(r["impl"] == i for r in sel)]
        width = 0.8 / max(len(impls), 1)
        for k, impl in enumerate(impls):
            color = f"C{list(IMPLEMENTATIONS).index(impl)}"  # one color per library in every panel
            values = [
                next((r["ns_per_element"] for r in sel if (r["dtype"], r["shape"]) == c and r["impl"] == impl), np.nan)
                for c in cases
            ]
            ax.bar(np.arange(len(cases)) + k * width, values, width, label=impl, color=color)
        ax.set_xticks(np.arange(len(cases)) + 0.4 - width / 2, labels, rotation=45, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("ns per element (lower is better)")
        ax.set_title(f"{name} {direction}, one thread")
    for ax in axes[0]:
        ax.legend(fontsize=7)
    fig.suptitle(machine(), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def machine():
    """One line naming this machine and the library versions."""
    import numba

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = f"Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}"
    return f"{cpu}, {os.cpu_count()} cores; {versions}"


TRAINING_BATCHES = (32, 256)


def training(batches=TRAINING_BATCHES, steps=40, rounds=5, stream=sys.stdout):
    """Print and return ``{batch size: {kind: seconds per step}}`` of the training-step benchmark."""
    from numba_act import _step_bench

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (2048, _step_bench.SIZES[0])).astype(np.float32)
    y = rng.integers(0, _step_bench.SIZES[-1], len(X))
    network = " -> ".join(map(str, _step_bench.SIZES))
    print(f"\ntraining step, network {network} (relu, relu, softmax), Adam, float32, one thread", file=stream)
    print(f"  {'':<32}" + "".join(f"{f'batch {b}':>18}" for b in batches), file=stream)
    results = {}
    with _thread_mode("one"):
        for batch in batches:
            results[batch] = _step_bench.step_times(X, y, batch, max(steps * 32 // batch, 4), rounds)
    for kind, label in _step_bench.LABELS.items():
        cells = []
        for batch in batches:
            seconds, compiled = results[batch][kind], results[batch]["compiled"]
            ratio = f" ({seconds / compiled:.1f}x)" if seconds and compiled else ""  # compiled needs SciPy
            cells.append("not installed" if seconds is None else f"{seconds * 1e6:.0f} us{ratio}")
        print(f"  {label:<32}" + "".join(f"{cell:>18}" for cell in cells), file=stream)
    return results


def _print_goals(budget, compile_times=True):
    print("\nthe goals, one thread; ratios are the other's time / numba_act's (na) or numba_act.fast's:")
    with _thread_mode("one"):
        goals(budget)
        print("\nwhat a call costs with nothing to do, one thread (us):")
        for label, value in empty_call_floor(budget).items():
            print(f"  {label:<60} {value:6.3f}")
    if not compile_times:  # each is a fresh process compiling from an empty cache
        return
    print("\nfirst call in a fresh process, empty compile cache (s):")
    for label, value in first_calls().items():
        print(f"  {label:<60} {value:6.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m numba_act.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--names",
        nargs="*",
        help="activations to time (default: all registered); those with parameters run with their defaults, "
        f"except {', '.join(f'{n}({_params_text(p)})' for n, p in BENCH_PARAMS.items())}",
    )
    parser.add_argument(
        "--quick", action="store_true", help="sizes 1e3 and 1e5, shapes (32, 10) and (256, 1000), shorter timing"
    )
    parser.add_argument(
        "--threads",
        choices=("one", "all", "both"),
        default="both",
        help="one: every library on one thread, the process pinned to one core; all: numba_act and torch on every core",
    )
    parser.add_argument("--plot", default="numba_act_bench.png", help="where to write the PNG (empty: none)")
    parser.add_argument("--no-targets", action="store_true", help="skip the performance-target ratios")
    parser.add_argument("--training", action="store_true", help="only the training-step table")
    parser.add_argument(
        "--goals", action="store_true", help="only the goal ratios, the empty call's cost and the first calls' times"
    )
    parser.add_argument(
        "--dask", action="store_true", help="only the dask throughput table (needs the dask extra); threads: dask's"
    )
    args = parser.parse_args(argv)
    if args.dask:
        print(machine())
        print(f"dask array, float32 {DASK_SHAPE} in {DASK_CHUNKS} chunks, stored into NumPy; ns per element")
        for label, (ours, theirs) in dask_throughput().items():
            print(f"  {label:<44} numba_act {ours:6.2f}   other {theirs:6.2f}   ({theirs / ours:.1f}x)")
        return

    if args.training:
        print(machine())
        training(steps=10 if args.quick else 40, rounds=2 if args.quick else 5)
        return

    print(machine())
    if args.goals:
        _print_goals(0.05 if args.quick else 0.3)
        return
    print("ns per element, best of 5; (Nx) = that implementation's time / numba_act's (above 1: numba_act is faster)")
    kwargs = dict(thread_modes=("one", "all") if args.threads == "both" else (args.threads,))
    if args.quick:
        kwargs.update(sizes=ELEMENTWISE_SIZES[:2], shapes=ROW_SHAPES[:2], budget=0.05)
    rows = run(names=args.names, **kwargs)
    if not args.no_targets:
        _print_goals(0.05 if args.quick else 0.3, compile_times=not args.quick)
        print("\nperformance targets, measured now:")
        for label, value in targets(budget=0.05 if args.quick else 0.3).items():
            print(f"  {label:<60} {value:6.2f}")
    if args.plot:
        try:
            plot(rows, args.plot)
            print(f"\nplot written to {args.plot}")
        except ImportError:
            print("\nno plot: matplotlib is not installed (pip install 'numba_act[bench]')")
    training(steps=10 if args.quick else 40, rounds=2 if args.quick else 5)


if __name__ == "__main__":
    main()
