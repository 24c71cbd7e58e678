"""What the Python entry point costs: activation_forward(z, name) and
activation_backward(z, a, name, grad) (``by_name``), and the activation's own
functions without ``out`` (``direct``) and into a preallocated ``out=``
(``out``), on a (32, 10) float64 array, where the entry point is most of the time.
An activation's parameters (``common.BENCH_PARAMS`` or its defaults) are
passed in order to its own functions and by name to the by-name ones."""

import functools

from .common import ALL, Timing, attr, cached, data, entry, named_params, one_thread, params


def _calls(name, call):
    import numba_act

    found = entry(name)
    values, named = params(found), named_params(found)
    z = data((32, 10), "float64")
    a = found.forward(z, *values)
    g = data((32, 10), "float64", seed=1, scale=1.0)
    if call == "direct":
        calls = {"forward": (found.forward, (z, *values)), "backward": (attr(found, "vjp"), (z, a, g, *values))}
    elif call == "out":
        out = z.copy()
        calls = {
            "forward": (functools.partial(found.forward, out=out), (z, *values)),
            "backward": (functools.partial(attr(found, "vjp"), out=out), (z, a, g, *values)),
        }
    else:
        forward, backward = attr(numba_act, "activation_forward"), attr(numba_act, "activation_backward")
        if named:
            forward, backward = functools.partial(forward, **named), functools.partial(backward, **named)
        calls = {"forward": (forward, (z, name)), "backward": (backward, (z, a, name, g))}
    for fn, args in calls.values():
        fn(*args)
    return calls


class Dispatch(Timing):
    params = [ALL, ["direct", "by_name", "out"]]
    param_names = ["name", "call"]

    def setup(self, name, call):
        one_thread()
        calls = cached(("dispatch", name, call), lambda: _calls(name, call))
        self.forward, self.forward_args = calls["forward"]
        self.backward, self.backward_args = calls["backward"]

    def time_forward(self, name, call):
        self.forward(*self.forward_args)

    def time_backward(self, name, call):
        self.backward(*self.backward_args)
