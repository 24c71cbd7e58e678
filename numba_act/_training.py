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


@kernel
def _cross_entropy(out, targets, rows, delta, log_output, tiny):
    """The batch's mean cross-entropy -sum(y log p) / m (in float64), and
    delta = (p - y) / m, dL/dlogits of a softmax (or log_softmax) output.

    ``targets`` holds every sample's target row (one-hot for labels);
    ``rows`` picks the batch's.  A p below ``tiny`` counts as tiny in the
    loss, so that log(0) stays finite.
    """
    m, k = out.shape
    scale = type(tiny)(1 / m)
    loss = 0.0
    for r in range(m):
        for j in range(k):
            y = targets[rows[r], j]
            p = np.exp(out[r, j]) if log_output else out[r, j]
            if y != 0:  # one log per sample for labels, as one-hot rows
                loss -= y * (float(out[r, j]) if log_output else np.log(max(float(p), float(tiny))))
            delta[r, j] = type(tiny)(p - y) * scale
    return loss / m


@kernel
def _squared_error(out, targets, rows, delta, tiny):
    """The batch's mean of 0.5 * sum((a - y)**2) (in float64), and delta = (a - y) / m, dL/da."""
    m, k = out.shape
    scale = type(tiny)(1 / m)
    loss = 0.0
    for r in range(m):
        for j in range(k):
            d = type(tiny)(out[r, j] - targets[rows[r], j])
            loss += float(d) * float(d)
            delta[r, j] = d * scale
    return 0.5 * loss / m


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
        f"def {name}(X, targets, order, batch_size, W, b, gW, gb, params, grads, t, opt, p, xb, z, a, g, dz):",
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
        lines.append(f"        total += m * _cross_entropy(a{last}, targets, rows, dz{last}, {log_output}, opt[-1])")
    else:
        lines += [
            f"        g{last} = g[{last}][:m]",
            f"        total += m * _squared_error(a{last}, targets, rows, g{last}, opt[-1])",
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


def epoch_function(entries, loss, log_output, update):
    """The compiled epoch of an architecture, made on first use.

    Args:
        entries: the registry entries of the layers' activations, in order.
        loss: ``"cross_entropy"`` or ``"mse"``.
        log_output: whether a cross-entropy output is log-probabilities (log_softmax).
        update: the optimizer's update kernel (see :mod:`numba_act._optimizers`).

    Returns:
        A ``@njit`` function ``epoch(X, targets, order, batch_size, W, b,
        gW, gb, params, grads, t, opt, p, *buffers) -> (mean loss, t)``:
        training over the rows of X (and of ``targets``) in ``order``, in
        batches of ``batch_size`` rows, each followed by the update
        ``update(params, grads, t, *opt)`` (``opt[-1]`` is the smallest
        normal float of the dtype); W, b, gW and gb are the layers'
        parameters and gradients (views into ``params`` and ``grads``) as
        tuples, ``p`` the activations' parameter values in layer order, and
        the buffers those of :func:`buffers`.  It returns the mean loss over
        the epoch (each batch's before its update, weighted by its size) and
        the step count after the last update.
    """
    key = (tuple(entries), loss, log_output, update)
    if key not in _FUNCTIONS:
        draft = _source("epoch", entries, loss, log_output)
        name = f"epoch_{hashlib.sha256(f'{draft}{update.__name__}'.encode()).hexdigest()[:16]}"
        source = _source(name, entries, loss, log_output)
        namespace = {**globals(), "update": update}
        exec(compile(source, __file__, "exec"), namespace)
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
