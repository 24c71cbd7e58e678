"""The compiled training path of :class:`numba_act.model.NeuralNetworkModel`.

For one architecture -- its activations and the names of their parameters,
the loss and the optimizer -- :func:`epoch_function` writes the source of
one function that runs a whole epoch of mini-batch training: gather each
batch, the forward pass, the loss, the backward pass and the optimizer
update, all in ``@njit`` code.  The activations are called by name, with
literal names, through numba_act's by-name dispatch (``activation_forward(z,
"relu", out=a)``, ``activation_backward(z, a, "relu", grad=g, out=dz)``), so
no Python runs between layers; their parameter values are arguments, so a
new value does not compile again.  One training step is an epoch of one
batch.

The matrix products are ``np.dot`` on C-contiguous arrays, which Numba
hands to BLAS (SciPy's, so SciPy must be installed); a transposed operand
is a transposed view (``a.T``), which BLAS reads in place.  Buffers have
the batch size's rows and are made once per batch size by
:func:`buffers`; the last, smaller batch of an epoch uses their leading
rows.

The generated functions go through the same compile cache as every kernel
(their names carry a hash of their source), so a new process loads them
from disk; an architecture with a registered (user) activation compiles
without the disk cache, as the registered activation itself does.
"""

import contextlib
import hashlib

import numpy as np

from numba_act import _jit
from numba_act._jit import kernel
from numba_act.api import activation_backward, activation_forward  # noqa: F401  (called by the generated source)


@kernel
def _gather(X, rows, out):
    """out[r] = X[rows[r]] for each row of ``out``."""
    for r in range(rows.size):
        for j in range(X.shape[1]):
            out[r, j] = X[rows[r], j]


@kernel
def _add_bias(z, b):
    for r in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[r, j] += b[j]


@kernel
def _sum_rows(d, out):
    """out = d.sum(axis=0), row after row, as NumPy sums along a C array's first axis."""
    out[:] = 0
    for r in range(d.shape[0]):
        for j in range(d.shape[1]):
            out[j] += d[r, j]


@_jit.scalar
def _label(y, row, j):
    """Class j's target for the sample labelled ``y[row]``: 1.0 or 0.0 (one-hot, never stored)."""
    return 1.0 if y[row] == j else 0.0


@_jit.scalar
def _value(y, row, j):
    """Class j's target for the sample whose target row is ``y[row]``."""
    return y[row, j]


def _cross_entropy(out, y, rows, delta, log_output, tiny):
    """The batch's mean cross-entropy -sum(y log p) / m (in float64), and
    delta = (p - y) / m, dL/dlogits of a softmax (or log_softmax) output.

    ``target(y, rows[r], j)`` gives the targets (bound per kind: labels or
    target rows).  A p below ``tiny`` counts as tiny in the loss, so that
    log(0) stays finite; terms whose target is 0 add nothing (one log per
    sample for labels).
    """
    m, k = out.shape
    scale = type(tiny)(1 / m)
    loss = 0.0
    for r in range(m):
        for j in range(k):
            y_j = target(y, rows[r], j)  # noqa: F821
            p = np.exp(out[r, j]) if log_output else out[r, j]
            if y_j != 0:
                loss -= y_j * (float(out[r, j]) if log_output else np.log(max(float(p), float(tiny))))
            delta[r, j] = type(tiny)(p - y_j) * scale
    return loss / m


def _squared_error(out, y, rows, delta, tiny):
    """The batch's mean of 0.5 * sum((a - y)**2) (in float64), and delta = (a - y) / m, dL/da."""
    m, k = out.shape
    scale = type(tiny)(1 / m)
    loss = 0.0
    for r in range(m):
        for j in range(k):
            d = type(tiny)(out[r, j] - target(y, rows[r], j))  # noqa: F821
            loss += float(d) * float(d)
            delta[r, j] = d * scale
    return 0.5 * loss / m


# The loss kernels by (loss, whether y holds labels): copies of the two
# templates with the target function bound (see _jit.specialize).
LOSSES = {
    (loss, labels): _jit.specialize(
        template, f"{template.__name__}_of_{'labels' if labels else 'targets'}", target=_label if labels else _value
    )
    for loss, template in (("cross_entropy", _cross_entropy), ("mse", _squared_error))
    for labels in (True, False)
}


def _call_keywords(entry, first):
    """``, name=p[i], ...``: the by-name keywords of ``entry``'s parameters, the
    first of them at ``p[first]``."""
    return "".join(f", {param.name}=p[{first + i}]" for i, param in enumerate(entry.params))


def _source(name, entries, loss, log_output):
    """The source of the epoch function ``name`` (see :func:`epoch_function`)."""
    last = len(entries) - 1
    keywords, first = [], 0
    for entry in entries:
        keywords.append(_call_keywords(entry, first))
        first += len(entry.params)
    lines = [
        f"def {name}(X, y, order, batch_size, W, b, gW, gb, params, grads, t, opt, tiny, p, xb, z, a, g, dz):",
        "    n = order.size",
        "    total = 0.0",
        "    for start in range(0, n, batch_size):",
        "        m = min(batch_size, n - start)",
        "        rows = order[start:start + m]",
        "        x = xb[:m]",
        "        _gather(X, rows, x)",
    ]
    for i, entry in enumerate(entries):
        previous = "x" if i == 0 else f"a{i - 1}"
        lines += [
            f"        z{i}, a{i}, dz{i} = z[{i}][:m], a[{i}][:m], dz[{i}][:m]",
            f"        np.dot({previous}, W[{i}], z{i})",
            f"        _add_bias(z{i}, b[{i}])",
            f'        activation_forward(z{i}, "{entry.name}", out=a{i}{keywords[i]})',
        ]
    if loss == "cross_entropy":  # dL/dlogits = (p - y) / m: the output layer's backward pass is not needed
        lines.append(f"        total += m * _loss(a{last}, y, rows, dz{last}, {log_output}, tiny)")
    else:
        lines += [
            f"        g{last} = g[{last}][:m]",
            f"        total += m * _loss(a{last}, y, rows, g{last}, tiny)",
            f'        activation_backward(z{last}, a{last}, "{entries[last].name}", grad=g{last}, '
            f"out=dz{last}{keywords[last]})",
        ]
    for i in range(last, -1, -1):
        previous = "x" if i == 0 else f"a{i - 1}"
        if i < last:
            lines.append(
                f'        activation_backward(z{i}, a{i}, "{entries[i].name}", grad=g{i}, out=dz{i}{keywords[i]})'
            )
        lines += [f"        np.dot({previous}.T, dz{i}, gW[{i}])", f"        _sum_rows(dz{i}, gb[{i}])"]
        if i > 0:
            lines += [f"        g{i - 1} = g[{i - 1}][:m]", f"        np.dot(dz{i}, W[{i}].T, g{i - 1})"]
    lines += ["        t += 1", "        update(params, grads, t, *opt)", "    return total / n, t", ""]
    return "\n".join(lines)


_FUNCTIONS = {}


def epoch_function(entries, loss, log_output, labels, update):
    """The compiled epoch of an architecture, made on first use.

    Args:
        entries: the registry entries of the layers' activations, in order.
        loss: ``"cross_entropy"`` or ``"mse"``.
        log_output: whether a cross-entropy output is log-probabilities (log_softmax).
        labels: whether ``y`` holds integer labels (else a target row per sample).
        update: the optimizer's update kernel (see :mod:`numba_act._optimizers`).

    Returns:
        A ``@njit`` function ``epoch(X, y, order, batch_size, W, b, gW, gb,
        params, grads, t, opt, tiny, p, *buffers) -> (mean loss, t)``:
        training over the rows of X (and of y) in ``order``, in batches of
        ``batch_size`` rows, each followed by the update ``update(params,
        grads, t, *opt)``; W, b, gW and gb are the layers' parameters and
        gradients (views into ``params`` and ``grads``) as tuples, ``tiny``
        the smallest normal float of their dtype, ``p`` the activations'
        parameter values in layer order, and the buffers those of
        :func:`buffers`, with at least ``batch_size`` rows.  It returns the
        mean loss over the epoch (each batch's before its update, weighted
        by its size) and the step count after the last update.
    """
    key = (tuple(entries), loss, log_output, labels, update)
    if key not in _FUNCTIONS:
        loss_kernel = LOSSES[loss, labels]
        draft = _source("epoch", entries, loss, log_output)
        digest = hashlib.sha256(f"{draft}{update.__name__}{loss_kernel.__name__}".encode()).hexdigest()
        name = f"epoch_{digest[:16]}"
        namespace = {**globals(), "update": update, "_loss": loss_kernel}
        exec(compile(_source(name, entries, loss, log_output), __file__, "exec"), namespace)
        builtin = all(entry.reference is not None for entry in entries)
        with _jit.uncached() if not builtin else contextlib.nullcontext():
            _FUNCTIONS[key] = kernel(namespace[name])
    return _FUNCTIONS[key]


def buffers(sizes, batch_size, dtype):
    """The work arrays of :func:`epoch_function`'s functions for batches of
    ``batch_size`` rows, ``sizes`` the layer widths: the gathered input, and
    per layer its pre-activation z, activation a, dL/da and dL/dz."""

    def per_layer():
        return tuple(np.empty((batch_size, n), dtype) for n in sizes[1:])

    return (np.empty((batch_size, sizes[0]), dtype), per_layer(), per_layer(), per_layer(), per_layer())
