"""One thread against all of numba's threads (numba.set_num_threads), for
the forward pass of every activation on 1e6 float64 elements (row-wise:
(64, 50257)).  Equal times mean the kernels run on one thread.  An
activation's parameters (``common.BENCH_PARAMS`` or its defaults) are passed
in order before ``out``."""

import numpy as np

from .common import ALL, Timing, cached, data, entry, params


def _call(name):
    found = entry(name)
    x = data((64, 50257) if found.rowwise else 10**6, "float64")
    out = np.empty_like(x)
    args = (x, -1, out) if found.rowwise else (x, *params(found), out)
    found.forward(*args)
    return found.forward, args


class Threads(Timing):
    params = [ALL, ["1", "all"]]
    param_names = ["name", "threads"]

    def setup(self, name, threads):
        import numba

        self.fn, self.args = cached(("threads", name), lambda: _call(name))
        numba.set_num_threads(1 if threads == "1" else numba.config.NUMBA_NUM_THREADS)

    def teardown(self, name, threads):
        import numba

        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)

    def time_forward(self, name, threads):
        self.fn(*self.args)
