"""``python -m numba_act``: train a small network on scikit-learn's digits.

Trains a 64-128-64-10 network (relu, relu, softmax) with the compiled
activations, shows where the time of a training step goes, then repeats the
same training with the NumPy reference activations for comparison.
Needs scikit-learn (``pip install "numba_act[examples]"``); the digits ship
with it, nothing is downloaded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from time import perf_counter

_STARTED = perf_counter()

import numpy as np  # noqa: E402

from numba_act.model import NeuralNetworkModel  # noqa: E402

HIDDEN = (128, 64)
ACTIVATIONS = ("relu", "relu", "softmax")
TARGET = 0.96


def _parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m numba_act",
        description="Train a small network on scikit-learn's digits with numba_act activations, "
        "then compare with the NumPy reference activations.",
    )
    parser.add_argument("--epochs", type=int, default=20, help="training epochs (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the split, the weights and the shuffling")
    parser.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default 32)")
    parser.add_argument("--quick", action="store_true", help="3 epochs and a short profile: a smoke test")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be positive")
    if args.quick:
        args.epochs = min(args.epochs, 3)
    return args


def _load_digits(seed):
    """Digits scaled to [0, 1] as float32, split 80/20 stratified by class."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    return train_test_split(X, digits.target, test_size=0.2, stratify=digits.target, random_state=seed)


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


def _train(backend, data, args, verbose):
    """Train one model; returns (model, test accuracy, epoch times)."""
    X_train, X_test, y_train, y_test = data
    sizes = (X_train.shape[1], *HIDDEN, 10)
    model = NeuralNetworkModel(sizes, ACTIVATIONS, seed=args.seed, activation_backend=backend)
    times = []
    accuracy = [0.0]

    def report(epoch, loss, seconds):
        times.append(seconds)
        accuracy[0] = model.evaluate(X_test, y_test).accuracy
        if verbose:
            train = model.evaluate(X_train, y_train).accuracy
            print(f"{epoch:5d}  {loss:6.3f}  {train:6.1%}  {accuracy[0]:6.1%}  {_ms(seconds):>8}")

    if verbose:
        print(f"{'epoch':>5}  {'loss':>6}  {'train':>6}  {'test':>6}  {'time':>8}")
    model.fit(X_train, y_train, epochs=args.epochs, batch_size=args.batch_size, on_epoch=report)
    return model, accuracy[0], times


def _profile_both(model, numpy_model, X, y, batch_size, rounds, steps):
    """Step profiles of both models, timed in alternating rounds so that a busy
    machine slows both alike; each keeps its fastest round."""
    best = [None, None]
    for _ in range(rounds):
        for i, which in enumerate((model, numpy_model)):
            profile = which.profile_step(X, y, batch_size, steps)
            if best[i] is None or profile.total < best[i].total:
                best[i] = profile
    return best


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        data = _load_digits(args.seed)
    except ImportError:
        print(
            'The numba_act demo needs scikit-learn for its digits dataset:\n    pip install "numba_act[examples]"',
            file=sys.stderr,
        )
        return 2
    X_train, X_test, y_train, _ = data
    sizes = (X_train.shape[1], *HIDDEN, 10)
    layout = f" {ARROW} ".join(
        [str(sizes[0])] + [f"{n} {name}" for n, name in zip(sizes[1:], ACTIVATIONS, strict=True)]
    )
    print(f"digits (scikit-learn): {len(X_train)} train / {len(X_test)} test images of 8x8 pixels")
    print(f"network {layout} {DOT} float32 {DOT} Adam lr 0.001 {DOT} batch {args.batch_size} {DOT} seed {args.seed}")

    start = perf_counter()
    for backend in ("numba", "numpy"):  # compile, or load from the cache, every kernel training uses
        warm_up = NeuralNetworkModel(sizes, ACTIVATIONS, activation_backend=backend)
        warm_up.train_step(X_train[: args.batch_size], y_train[: args.batch_size])
    print(f"kernels compiled or loaded from the cache in {perf_counter() - start:.2f} s\n")

    model, accuracy, times = _train("numba", data, args, verbose=True)
    reached = "reached" if accuracy >= TARGET else "did NOT reach"
    print(
        f"\ntest accuracy {accuracy:.1%} ({reached} {TARGET:.0%}) after {args.epochs} epochs: "
        f"{sum(times):.2f} s training, {perf_counter() - _STARTED:.1f} s since the demo started"
    )

    numpy_model, numpy_accuracy, numpy_times = _train("numpy", data, args, verbose=False)
    rounds, steps = (2, 20) if args.quick else (7, 60)
    profile, numpy_profile = _profile_both(model, numpy_model, X_train, y_train, args.batch_size, rounds, steps)

    print(f"\none training step, batch {args.batch_size} (fastest of {rounds} rounds of {steps}): {_us(profile.total)}")
    for label, part in (
        ("activations, forward + backward", profile.activations),
        ("matrix products", profile.matmul),
        ("rest: bias, loss, Adam, Python", profile.other),
    ):
        print(f"  {label:<33} {_us(part):>7}  {part / profile.total:4.0%}")

    print("\nsame training with the NumPy reference activations:")
    print(f"  {'':<22} {'numba':>8} {'numpy':>8}  {'speed-up':>8}")
    for label, ours, theirs, unit in (
        ("activations per step", profile.activations, numpy_profile.activations, _us),
        ("whole step", profile.total, numpy_profile.total, _us),
        ("epoch time, best", min(times), min(numpy_times), _ms),
        ("epoch time, median", statistics.median(times), statistics.median(numpy_times), _ms),
    ):
        print(f"  {label:<22} {unit(ours):>8} {unit(theirs):>8}  {theirs / ours:7.1f}x")
    print(f"  {'test accuracy':<22} {accuracy:>8.1%} {numpy_accuracy:>8.1%}")
    print(f"\ndone in {perf_counter() - _STARTED:.1f} s")
    return 0 if accuracy >= TARGET or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
