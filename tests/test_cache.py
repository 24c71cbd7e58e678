"""Compilation and the on-disk cache (numba_act._jit), each case in fresh
Python processes: importing compiles nothing, a second process loads what a
first one compiled instead of compiling it again, two processes can fill
one empty cache at once, a read-only install works, and a cache written by
another version is not used.  No timings:
compilation is observed through Numba's compile events and dispatcher
statistics.
"""

import json
import os
import pathlib
import shutil
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from test_threads import start_python

import numba_act

PACKAGE_DIR = pathlib.Path(numba_act.__file__).parent

# Run in the child: records every compilation of a numba_act function, and
# ``report()`` prints what happened as JSON on the last line of stdout.
_PRELUDE = """
import gc, json, sys
from numba.core import event
from numba.core.dispatcher import Dispatcher

compiled = []

class _Listener(event.Listener):
    def on_start(self, ev):
        func = ev.data["dispatcher"].py_func
        if (func.__module__ or "").startswith("numba_act"):
            compiled.append(f"{func.__module__}.{func.__qualname__}{ev.data['args']}")

    def on_end(self, ev):
        pass

event.register("numba:compile", _Listener())

def dispatchers():
    return [o for o in gc.get_objects()
            if isinstance(o, Dispatcher) and (getattr(o.py_func, "__module__", "") or "").startswith("numba_act")]

def report(**extra):
    ds = dispatchers()
    print(json.dumps(dict(
        compiled=compiled,
        dispatchers=len(ds),
        with_signatures=[d.py_func.__qualname__ for d in ds if d.signatures],
        cache_hits=sum(sum(d.stats.cache_hits.values()) for d in ds),
        cache_misses=sum(sum(d.stats.cache_misses.values()) for d in ds),
        **extra,
    )))
"""

# The calls a cache round trip is checked on: (function, dtype).
CALLS = [("sigmoid", "float32"), ("softmax", "float32")]

_CALL = """
import numpy as np
import numba_act
x = np.linspace(-30, 30, 64, dtype="{dtype}").reshape(8, 8)
result = numba_act.{name}(x)
report(result=result.tobytes().hex(), file=numba_act.__file__)
"""


def _run(code, env_changes, cwd):
    """Run ``code`` after the prelude in a fresh interpreter; return its JSON report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(env_changes)
    proc = subprocess.run(
        [sys.executable, "-c", _PRELUDE + textwrap.dedent(code)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"child failed:\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _files(directory):
    return sorted(str(p.relative_to(directory)) for p in pathlib.Path(directory).rglob("*") if p.is_file())


def test_import_compiles_nothing(tmp_path):
    report = _run(
        """
        import numba_act
        at_import = dict(compiled=list(compiled), dispatchers=len(dispatchers()),
                         with_signatures=[d.py_func.__qualname__ for d in dispatchers() if d.signatures])
        import numpy as np
        numba_act.sigmoid(np.ones(3, np.float32))
        numba_act.softmax(np.ones((2, 3), np.float32))
        report(at_import=at_import)
        """,
        {"NUMBA_CACHE_DIR": str(tmp_path)},
        tmp_path,
    )
    at_import = report["at_import"]
    # the kernels exist, as lazy dispatchers with nothing compiled
    assert at_import["dispatchers"] >= len(numba_act.REGISTRY)
    assert at_import["compiled"] == []
    assert at_import["with_signatures"] == []
    # and the instruments do see the first call compile (with an empty cache)
    assert report["compiled"] and report["with_signatures"]
    # a C-contiguous input goes to the loop itself, or the row kernel, its
    # result allocated in Python: neither into, with its checks of a given
    # out, nor new, with its allocation and its handling of other layouts,
    # is compiled
    compiled = report["with_signatures"]
    assert any(name.startswith("sigmoid_flat") for name in compiled), compiled
    assert any(name.startswith("_softmax_rows_f32") for name in compiled), compiled
    ops = ("sigmoid_into", "sigmoid_new", "softmax_into", "softmax_new")
    assert not any(name.startswith(ops) for name in compiled), compiled


@pytest.mark.parametrize("name, dtype", CALLS)
def test_second_process_loads_from_cache(tmp_path, name, dtype):
    cache = tmp_path / "cache"
    env = {"NUMBA_CACHE_DIR": str(cache)}
    first = _run(_CALL.format(name=name, dtype=dtype), env, tmp_path)
    assert first["compiled"], "the first process should compile"
    files_after_first = _files(cache)
    assert files_after_first, "nothing was written to NUMBA_CACHE_DIR"

    second = _run(_CALL.format(name=name, dtype=dtype), env, tmp_path)
    assert second["result"] == first["result"]
    expected = getattr(numba_act, name)(np.linspace(-30, 30, 64, dtype=dtype).reshape(8, 8))
    assert second["result"] == expected.tobytes().hex()
    assert second["compiled"] == [], f"the second process compiled again: {second['compiled']}"
    assert second["cache_misses"] == 0 and second["cache_hits"] > 0
    # a cache hit writes nothing new
    assert _files(cache) == files_after_first


_BY_NAME = """
import numba
import numpy as np
from numba_act import activation_backward, activation_forward

@numba.njit
def step(z, a, g, d):
    activation_forward(z, "tanh", out=a)
    activation_backward(z, a, "tanh", grad=g, out=d)

z = np.linspace(-3, 3, 12).reshape(3, 4)
a, g, d = np.empty_like(z), np.full_like(z, 2.0), np.empty_like(z)
step(z, a, g, d)
report(result=d.tobytes().hex())
"""


def test_by_name_calls_in_user_njit_code_load_the_entrys_part_from_the_cache(tmp_path):
    # The user's function is not cached; what numba_act compiles for its
    # by-name calls (the entry's call chain) is, once.
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    first = _run(_BY_NAME, env, tmp_path)
    second = _run(_BY_NAME, env, tmp_path)
    by_name = [c for c in first["compiled"] if "_by_name" in c]
    assert len(by_name) == 2, first["compiled"]  # forward and vjp
    assert not [c for c in second["compiled"] if "_by_name" in c or "tanh" in c], second["compiled"]
    assert second["result"] == first["result"]
    z = np.linspace(-3, 3, 12).reshape(3, 4)
    result = np.frombuffer(bytes.fromhex(second["result"])).reshape(z.shape)
    np.testing.assert_allclose(result, 2.0 * (1 - np.tanh(z) ** 2), rtol=1e-13)


def _read_only_copy(tmp_path):
    """A copy of the package that nobody can write to, not even root: its
    ``__pycache__`` is a file, so no directory can be made there."""
    site = tmp_path / "site"
    target = site / "numba_act"
    shutil.copytree(PACKAGE_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "__pycache__").write_text("")
    for path in [*target.rglob("*"), target]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return site, target


def _make_writable(root):
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


READ_ONLY_CALLS = """
import numpy as np
import numba_act
x = np.linspace(-30, 30, 64).reshape(8, 8)
results = {f"{name}-{dtype}": getattr(numba_act, name)(x.astype(dtype)).tobytes().hex()
           for name in ("sigmoid", "softmax") for dtype in ("float32", "float64")}
report(results=results, file=numba_act.__file__)
"""


def _expected_read_only_results():
    x = np.linspace(-30, 30, 64).reshape(8, 8)
    return {
        f"{name}-{dtype}": getattr(numba_act, name)(x.astype(dtype)).tobytes().hex()
        for name in ("sigmoid", "softmax")
        for dtype in ("float32", "float64")
    }


def test_read_only_install_with_numba_cache_dir(tmp_path):
    site, target = _read_only_copy(tmp_path)
    before = _files(target)
    cache = tmp_path / "cache"
    try:
        report = _run(READ_ONLY_CALLS, {"PYTHONPATH": str(site), "NUMBA_CACHE_DIR": str(cache)}, tmp_path)
        assert pathlib.Path(report["file"]).parent == target  # the copy, not the repository
        assert report["results"] == _expected_read_only_results()
        assert _files(target) == before
        assert _files(cache), "nothing was cached in NUMBA_CACHE_DIR"
    finally:
        _make_writable(site)


def test_read_only_install_without_a_writable_cache_dir(tmp_path):
    # No NUMBA_CACHE_DIR and no writable user cache directory either: caching
    # is impossible, but importing and computing must still work.
    site, target = _read_only_copy(tmp_path)
    not_a_dir = tmp_path / "not_a_dir"
    not_a_dir.write_text("")
    try:
        report = _run(
            READ_ONLY_CALLS,
            {"PYTHONPATH": str(site), "HOME": str(not_a_dir), "XDG_CACHE_HOME": str(not_a_dir)},
            tmp_path,
        )
        assert pathlib.Path(report["file"]).parent == target
        assert report["results"] == _expected_read_only_results()
    finally:
        _make_writable(site)


def test_a_cache_from_another_version_is_not_used(tmp_path):
    """Cached kernels are keyed on a hash of the package's sources: after the
    math changes in one module, kernels in other modules that inline it are
    compiled again rather than loaded stale."""
    package = tmp_path / "site" / "numba_act"
    shutil.copytree(PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    code = textwrap.dedent(
        """
        import numpy as np, numba_act
        print(numba_act.relu(np.array([2.0, -1.0]))[0])
        """
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "NUMBA_CACHE_DIR": str(tmp_path / "cache")}

    def run():
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert run() == "2.0"
    scalar = package / "scalar.py"
    source = scalar.read_text()
    relu_line = "    return type(x)(0.0) if x <= 0 else x\n"
    changed = source.replace(relu_line, relu_line.replace("else x", "else x + x"))
    assert changed != source
    scalar.write_text(changed)
    assert run() == "4.0"


def test_two_processes_filling_one_empty_cache_at_once(tmp_path):
    code = """
        import numpy as np, numba_act
        x = np.linspace(-5, 5, 7).astype(np.float32)
        print(numba_act.sigmoid(x).tobytes().hex(), numba_act.softmax(x).tobytes().hex())
    """
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    first, second = start_python(code, env), start_python(code, env)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert first.returncode == 0, outs[0][1]
    assert second.returncode == 0, outs[1][1]
    assert outs[0][0] == outs[1][0]
    # and a third process loads what they wrote
    third = start_python(code, env)
    out, err = third.communicate(timeout=300)
    assert third.returncode == 0, err
    assert out == outs[0][0]


def _built_inside(x):
    return x + 1


def _built_meanwhile(x):
    return x + 2


def test_uncached_holds_in_its_own_thread_only():
    # A registered activation compiled in one thread while another builds a
    # built-in kernel: the first must stay off the disk cache, the second on it.
    import threading

    from numba.core.caching import NullCache

    from numba_act import _jit

    inside, release, built = threading.Event(), threading.Event(), {}

    def register_meanwhile():
        with _jit.uncached():
            built["inside"] = _jit.kernel(_built_inside)
            inside.set()
            release.wait(30)
            built["inside, later"] = _jit.kernel(_built_inside_later)

    thread = threading.Thread(target=register_meanwhile)
    thread.start()
    assert inside.wait(30)
    built["meanwhile"] = _jit.kernel(_built_meanwhile)
    release.set()
    thread.join(30)
    assert isinstance(built["inside"]._cache, NullCache)
    assert isinstance(built["inside, later"]._cache, NullCache)
    assert not isinstance(built["meanwhile"]._cache, NullCache)
    assert built["meanwhile"](1) == 3 and built["inside"](1) == 2


def _built_inside_later(x):
    return x + 3
