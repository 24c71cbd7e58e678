"""What every benchmark module shares: the parameter lists, input data,
registry lookups and the setup cache.

Parameter lists never depend on the commit being benchmarked.  asv discovers
the suite once and then asks each commit's process for "parameter
combination number k", so a list that changed from one commit to the next
would silently give results to the wrong combination.  The activation names
therefore come from the registry of the source tree this suite lives in (the
suite itself always comes from there too); a commit whose registry lacks a
name skips it by raising NotImplementedError in ``setup``.

With asv_runner 0.3 and later, ``setup`` runs again before every timed call,
so setups here build their state once per process (``cached``) and are cheap
to repeat.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

DTYPES = ["float32", "float64"]
SIZES = [10**3, 10**5, 10**6]
SHAPES = [(32, 10), (256, 1000), (64, 50257)]

# "numba_act": the public call, allocating its result (what users call);
# "numpy": the NumPy seed formulas of numba_act.reference; "numba_act_fast":
# the public call of numba_act.fast; "numba_act_out": numba_act with a
# preallocated out=, which times the kernel; "scipy": scipy.special.  The
# first in the benchmarks' parameters, in this order: asv's graph of a
# benchmark then shows numba_act beside the NumPy formula and the others by
# default (up to 8 lines: every impl, for the first activation).
IMPLS = ["numba_act", "numpy", "numba_act_fast", "numba_act_out", "scipy"]
BACKWARD_IMPLS = ["numba_act", "numpy", "numba_act_fast", "numba_act_out"]

ROOT = Path(__file__).resolve().parents[2]

_NAMES_CODE = (
    "import json; from numba_act.registry import REGISTRY; "
    "print(json.dumps([[n, bool(e.rowwise)] for n, e in REGISTRY.items()]))"
)


def _installed_registry():
    try:
        from numba_act import registry
    except ImportError:
        return None
    return registry


def _names():
    """[(name, rowwise)] from the registry of this source tree."""
    registry = _installed_registry()
    if registry is not None and Path(registry.__file__).resolve().parents[1] == ROOT:
        return [(n, bool(e.rowwise)) for n, e in registry.REGISTRY.items()]
    if (ROOT / "numba_act" / "registry.py").is_file():
        # The installed package is some commit's build: read the tree's registry
        # in a child process, which imports the tree's package (nothing compiles).
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = subprocess.run([sys.executable, "-c", _NAMES_CODE], cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode == 0:
            return [tuple(item) for item in json.loads(proc.stdout.strip().splitlines()[-1])]
        print(f"numba_act benchmarks: cannot read the tree's registry:\n{proc.stderr}", file=sys.stderr)
    if registry is None:
        return []
    return [(n, bool(e.rowwise)) for n, e in registry.REGISTRY.items()]


NAMES = _names()
ALL = [n for n, _ in NAMES]
ELEMENTWISE = [n for n, rowwise in NAMES if not rowwise]
ROWWISE = [n for n, rowwise in NAMES if rowwise]


def _start_compiler():
    # numba initializes LLVM on its first compilation (about half a second).
    # Under asv's forkserver launch method this module is imported once in the
    # server and every benchmark process is forked from it, so doing it here
    # leaves each process to compile only the kernels its setup warms up.
    try:
        import numba
    except ImportError:
        return
    numba.njit(lambda: 0)()


_start_compiler()


def entry(name, rowwise=None):
    """The installed commit's registry entry, or NotImplementedError (asv: skip)."""
    registry = _installed_registry()
    if registry is None or name not in getattr(registry, "REGISTRY", {}):
        raise NotImplementedError(f"{name} is not in this commit's registry")
    found = registry.REGISTRY[name]
    if rowwise is not None and bool(found.rowwise) != rowwise:
        raise NotImplementedError(f"{name} changed kind in this commit")
    return found


def in_tier(found, impl):
    """``found``, or for "numba_act_fast" its entry in numba_act.fast
    (NotImplementedError for a commit without it, and where it is the very
    entry of numba_act, already timed)."""
    if impl != "numba_act_fast":
        return found
    try:
        from numba_act.fast import entries
    except ImportError:
        raise NotImplementedError("this commit has no numba_act.fast") from None
    if entries[found.name] is found:
        raise NotImplementedError(f"numba_act.fast.{found.name} is numba_act's")
    return entries[found.name]


def one_thread():
    """numba_act held to one thread, as the NumPy formulas and scipy run, and
    the BLAS of NumPy and SciPy too (with threadpoolctl, of the bench extra):
    every timing but ``threads.Threads`` (which shows the scaling) compares
    on one thread, whatever the machine's core count, as
    ``python -m numba_act.bench`` does."""
    import numba

    numba.set_num_threads(1)
    try:
        import scipy.linalg  # noqa: F401  (SciPy's BLAS, the one numba's np.dot calls, loaded to be limited)
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1, user_api="blas")


# The parameters the suite runs an activation with where not its defaults,
# by name: threshold's have none.  An activation with a required parameter
# not listed here gets 0.0 for it.
BENCH_PARAMS = {
    "threshold": {"threshold": 0.0, "value": 0.0},
}


def named_params(found):
    """``{parameter: value}`` of ``found``'s parameters as the suite passes
    them by name: :data:`BENCH_PARAMS`, else the defaults (None where that
    is the default).  Empty for an entry without parameters, and for an
    older commit's, whose entries have none."""
    required = getattr(_installed_registry(), "REQUIRED", None)
    given = BENCH_PARAMS.get(found.name, {})
    named = {}
    for p in getattr(found, "params", ()):
        if p.name in given:
            named[p.name] = given[p.name]
        else:
            named[p.name] = 0.0 if p.default is required else p.default
    return named


def params(found):
    """The values of ``found``'s parameters in order, as floats, as its
    functions take them after their arrays (``()`` for none)."""
    named = named_params(found)
    return tuple(found.param_values(named)) if named else ()


def literal(value):
    """Source for ``value`` (a float or None) that gives it back exactly, infinities included."""
    return "None" if value is None else f"float({str(float(value))!r})"


def attr(obj, name):
    """getattr that turns a missing attribute of an older commit into a skip."""
    try:
        return getattr(obj, name)
    except AttributeError:
        raise NotImplementedError(f"this commit has no {name}") from None


def data(shape, dtype, seed=0, scale=4.0):
    """Deterministic normal inputs: most of them where the activations bend.

    Beyond 1e6 elements a random block is repeated, which is as good for
    memory measurements and much quicker to make."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    block = min(size, 10**6)
    values = (scale * rng.standard_normal(block)).astype(dtype)
    if block < size:
        values = np.resize(values, size)
    return values.reshape(shape)


def scipy_function(name):
    """scipy.special's version of ``name``, or NotImplementedError."""
    import scipy.special as sc

    table = {"sigmoid": sc.expit, "softmax": sc.softmax, "log_softmax": sc.log_softmax}
    if name not in table:
        raise NotImplementedError(f"scipy has no {name}")
    fn = table[name]
    if name in ("softmax", "log_softmax"):
        return lambda x: fn(x, axis=-1)
    return fn


_LAST = [None, None]


def cached(key, build):
    """``build()`` once per process for consecutive setups with the same key.

    asv runs one parameter combination per process, so one slot is enough and
    large inputs of earlier combinations are not kept alive.
    """
    if _LAST[0] != key:
        _LAST[0], _LAST[1] = None, None
        _LAST[1] = build()
        _LAST[0] = key
    return _LAST[1]


def reset_peak_rss():
    """Restart the kernel's peak-RSS count (Linux), so that asv's peakmem_
    measures the process with its inputs plus what the call needs, not the
    compiler's peak during setup.  A no-op where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


class Timing:
    """Timing attributes shared by the time_ classes: many one-call samples
    for the fast cases, at most a third of a second of them for the slow."""

    repeat = (10, 200, 0.3)
    warmup_time = 0.05
    rounds = 2
