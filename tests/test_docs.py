"""The documentation's promises: every public function and class of numba_act
has a docstring with an example, and every example runs as written.

The examples run in one fresh process (``register``'s example adds an
activation, which must not leak into the other tests), each docstring as
a doctest with nothing in its namespace but what it imports itself.
"""

import inspect
import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

import numba_act
import numba_act.fast
import numba_act.layers
import numba_act.model

try:  # the xarray extra
    import numba_act.xarray as xarray_module
except ImportError:
    xarray_module = None

# Module attributes that are data, not callables to document.
_DATA = {"ACTIVATIONS", "EPS", "NAMES", "REGISTRY", "LAYERS", "BACKENDS", "OPTIMIZERS"}


def public_objects():
    """``{dotted name: object}``: the package's public callables, the
    functions of every registry entry, and the layer and model classes
    with their public methods."""
    found = {f"numba_act.{name}": getattr(numba_act, name) for name in numba_act.__all__ if name not in _DATA}
    for name, entry in numba_act.REGISTRY.items():
        found[f"REGISTRY[{name!r}].derivative"] = entry.derivative
        found[f"REGISTRY[{name!r}].vjp"] = entry.vjp
    # numba_act.fast: the module, its by-name functions and the entries it rebuilds
    found["numba_act.fast"] = numba_act.fast
    for name in ("activation_forward", "activation_backward", "gelu"):
        found[f"numba_act.fast.{name}"] = getattr(numba_act.fast, name)
    for name, entry in numba_act.fast.entries.items():
        if entry is not numba_act.REGISTRY[name]:
            if entry.public:  # gelu's is numba_act.fast.gelu, above
                found[f"numba_act.fast.entries[{name!r}].forward"] = entry.forward
            found[f"numba_act.fast.entries[{name!r}].vjp"] = entry.vjp
    for module in (numba_act.layers, numba_act.model, xarray_module):
        if module is None:
            continue
        for name in module.__all__:
            obj = getattr(module, name)
            if name in _DATA or not callable(obj):
                continue
            found[f"{module.__name__}.{name}"] = obj
            if inspect.isclass(obj):
                for method, member in vars(obj).items():
                    if not method.startswith("_") and callable(member):
                        found[f"{module.__name__}.{name}.{method}"] = member
    return found


@pytest.mark.parametrize("name", sorted(public_objects()))
def test_public_docstrings_give_an_example(name):
    doc = public_objects()[name].__doc__ or ""
    if name.startswith("numba_act.layers.") and name.count(".") == 3:
        # The generated layer classes share the methods of ActivationLayer.
        doc = doc or getattr(numba_act.layers.ActivationLayer, name.rsplit(".", 1)[1]).__doc__
    assert ">>> " in doc, f"{name} has no example in its docstring"


_RUN_EXAMPLES = textwrap.dedent(
    """
    import doctest, json, sys
    sys.path.insert(0, {tests!r})
    from test_docs import public_objects

    results = {{}}
    finder, runner = doctest.DocTestFinder(recurse=False), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for name, obj in sorted(public_objects().items()):
        for test in finder.find(obj, name, globs={{}}):
            before = runner.failures
            runner.run(test, out=lambda text: results.setdefault(name, []).append(text))
            results.setdefault(name, [])
            if runner.failures == before:
                results[name] = "ok" if test.examples else results[name]
    print(json.dumps(results))
    """
)


def test_every_example_runs_as_written():
    tests = str(pathlib.Path(__file__).parent)
    done = subprocess.run(
        [sys.executable, "-c", _RUN_EXAMPLES.format(tests=tests)], capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    failed = {name: "".join(text) for name, text in results.items() if text != "ok" and text}
    assert not failed, "\n".join(f"{name}:\n{text}" for name, text in failed.items())
    assert sum(text == "ok" for text in results.values()) >= len(numba_act.__all__) - len(_DATA)
