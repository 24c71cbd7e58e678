"""``python -m numba_act``: the digits demo runs, and says what to install
when scikit-learn is missing."""

import importlib.util
import sys

import pytest

from numba_act.__main__ import main


def test_without_scikit_learn(monkeypatch, capsys):
    for name in ("sklearn", "sklearn.datasets", "sklearn.model_selection"):
        monkeypatch.setitem(sys.modules, name, None)  # makes the import fail
    assert main([]) != 0
    captured = capsys.readouterr()
    assert 'pip install "numba_act[examples]"' in captured.err
    assert captured.out == ""


def test_quick_run(capsys):
    pytest.importorskip("sklearn")
    assert main(["--quick", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert sum(line.split()[:1] in (["1"], ["2"], ["3"]) for line in lines) == 3  # one line per epoch
    for text in ("test accuracy", "numba_act, compiled", "numba_act, Python path", "NumPy activations, Python path"):
        assert text in out
    # torch and jax: timed when installed, a line that says so when not
    for label, package in (("PyTorch, eager", "torch"), ("JAX, jax.jit", "jax")):
        (line,) = [line for line in lines if line.strip().startswith(label)]
        installed = importlib.util.find_spec(package) is not None
        assert ("x" in line.split()[-1]) if installed else (f"{package} is not installed" in line)


def test_bad_arguments(capsys):
    with pytest.raises(SystemExit) as error:
        main(["--epochs", "0"])
    assert error.value.code != 0
    assert "--epochs" in capsys.readouterr().err
