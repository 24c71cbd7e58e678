"""``python -m numba_act``: train a small network on scikit-learn's digits.

Trains a 64-128-64-10 network (relu, relu, softmax) with the compiled
training step (``NeuralNetworkModel(compiled=True)``: forward, loss,
backward and Adam of every mini-batch in one ``@njit`` function that calls
numba_act's activations by name), then times one training step side by
side: compiled, the Python path with numba_act's activations, the Python
path with the NumPy reference activations, and PyTorch and ``jax.jit``
when they are installed.  Needs scikit-learn (``pip install
"numba_act[examples]"``); the digits ship with it, nothing is downloaded.
"""

from __future__ import annotations

import argparse
import sys
from time import perf_counter

_STARTED = perf_counter()


from numba_act import _step_bench  # noqa: E402
from numba_act.model import NeuralNetworkModel  # noqa: E402

ACTIVATIONS = _step_bench.ACTIVATIONS
TARGET = 0.96


def _parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m numba_act",
        description="Train a small network on scikit-learn's digits with numba_act's compiled training step, "
        "then time one step beside the Python path, NumPy activations, PyTorch and jax.jit.",
    )
    parser.add_argument("--epochs", type=int, default=20, help="training epochs (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the split, the weights and the shuffling")
    parser.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default 32)")
    parser.add_argument("--quick", action="store_true", help="3 epochs and short timings: a smoke test")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be positive")
    if args.quick:
        args.epochs = min(args.epochs, 3)
    return args


def _split(X, y, seed):
    """80/20, stratified by class."""
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)


def _symbols():
    """µ and friends where the terminal can print them, ASCII otherwise."""
    try:
        "µ→·".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "u", "->", "|"
    return "µ", "→", "·"


MU, ARROW, DOT = _symbols()


def _ms(seconds):
    return f"{seconds * 1e3:.1f} ms"


def _us(seconds):
    return f"{seconds * 1e6:.0f} {MU}s"


def _train(data, args):
    """Train the compiled model, printing each epoch; returns (model, test accuracy, seconds training)."""
    X_train, X_test, y_train, y_test = data
    model = NeuralNetworkModel(_step_bench.SIZES, ACTIVATIONS, seed=args.seed, compiled=True)
    seconds = [0.0]

    def report(epoch, loss, epoch_seconds):
        seconds[0] += epoch_seconds
        train, test = model.evaluate(X_train, y_train).accuracy, model.evaluate(X_test, y_test).accuracy
        print(f"{epoch:5d}  {loss:6.3f}  {train:6.1%}  {test:6.1%}  {_ms(epoch_seconds):>8}")

    print(f"{'epoch':>5}  {'loss':>6}  {'train':>6}  {'test':>6}  {'time':>8}")
    model.fit(X_train, y_train, epochs=args.epochs, batch_size=args.batch_size, on_epoch=report)
    return model, model.evaluate(X_test, y_test).accuracy, seconds[0]


def _step_table(X, y, args):
    """Time one training step of each implementation, one thread, and print them side by side."""
    from numba_act.bench import _thread_mode

    rounds, steps = (2, 10) if args.quick else (7, 40)
    with _thread_mode("one"):
        times = _step_bench.step_times(X, y, args.batch_size, steps, rounds, seed=args.seed)
        python = NeuralNetworkModel(_step_bench.SIZES, ACTIVATIONS, seed=args.seed)
        profile = min((python.profile_step(X, y, args.batch_size, steps) for _ in range(rounds)), key=lambda p: p.total)
    compiled = times["compiled"]
    print(f"\none training step, batch {args.batch_size}, one thread (fastest of {rounds} rounds of {steps} steps):")
    for kind, label in _step_bench.LABELS.items():
        seconds = times[kind]
        if seconds is None:  # torch or jax (the compiled step's SciPy is checked before training)
            print(f"  {label:<32} skipped: {kind} is not installed (pip install {kind} to compare)")
        else:
            print(f"  {label:<32} {_us(seconds):>7}  {seconds / compiled:5.1f}x")
    print("  (Nx: that step's time / the compiled step's)")
    parts = (
        ("activations", profile.activations),
        ("matrix products", profile.matmul),
        ("bias, loss, Adam, Python", profile.other),
    )
    shares = ", ".join(f"{label} {_us(part)} ({part / profile.total:.0%})" for label, part in parts)
    print(f"  the Python path's step, {_us(profile.total)}: {shares}")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        X, y = _step_bench.digits()
        data = _split(X, y, args.seed)
        import scipy  # noqa: F401  (the compiled step's BLAS; scikit-learn needs it too)
    except ImportError:
        print(
            'The numba_act demo needs scikit-learn (its digits) and SciPy:\n    pip install "numba_act[examples]"',
            file=sys.stderr,
        )
        return 2
    X_train, X_test, y_train, _ = data
    sizes = _step_bench.SIZES
    layout = f" {ARROW} ".join(
        [str(sizes[0])] + [f"{n} {name}" for n, name in zip(sizes[1:], ACTIVATIONS, strict=True)]
    )
    print(f"digits (scikit-learn): {len(X_train)} train / {len(X_test)} test images of 8x8 pixels")
    print(f"network {layout} {DOT} float32 {DOT} Adam lr 0.001 {DOT} batch {args.batch_size} {DOT} seed {args.seed}")

    start = perf_counter()
    for options in ({"compiled": True}, {}, {"activation_backend": "numpy"}):
        warm_up = NeuralNetworkModel(sizes, ACTIVATIONS, **options)
        warm_up.train_epoch(X_train[: 2 * args.batch_size], y_train[: 2 * args.batch_size], args.batch_size)
    print(f"compiled training step and kernels compiled or loaded from the cache in {perf_counter() - start:.2f} s\n")

    model, accuracy, seconds = _train(data, args)
    reached = "reached" if accuracy >= TARGET else "did NOT reach"
    print(
        f"\ntest accuracy {accuracy:.1%} ({reached} {TARGET:.0%}) after {args.epochs} epochs: "
        f"{seconds:.2f} s training, {perf_counter() - _STARTED:.1f} s since the demo started"
    )
    _step_table(X_train, y_train, args)
    print(f"\ndone in {perf_counter() - _STARTED:.1f} s")
    return 0 if accuracy >= TARGET or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
