"""What a fresh process pays: ``import numba_act``, the first call of each
activation with an empty numba cache (compilation), and the first call when
numba's cache already holds the kernels (numba's default cache, or
NUMBA_CACHE_DIR if set, as the suite runs).  Each sample is a new
interpreter; only the statement is timed, not the interpreter start nor the
setup code.  An activation's parameters (``common.BENCH_PARAMS`` or its
defaults) are passed by name."""

from .common import ALL, entry, literal, named_params

_EMPTY_CACHE = """
import atexit, os, shutil, tempfile
cache = tempfile.mkdtemp(prefix="numba-act-cache-")
atexit.register(shutil.rmtree, cache, True)
os.environ["NUMBA_CACHE_DIR"] = cache  # read when numba is imported, below
"""

_SETUP = """
import numpy as np
import numba_act
x = np.linspace(-4.0, 4.0, 1000){reshape}
forward = numba_act.REGISTRY[{name!r}].forward
params = {params}
"""


def _input(name):
    import numpy as np

    x = np.linspace(-4.0, 4.0, 1000)
    return x.reshape(10, 100) if entry(name).rowwise else x


def _setup_code(name):
    found = entry(name)
    reshape = ".reshape(10, 100)" if found.rowwise else ""
    params = "{" + ", ".join(f"{k!r}: {literal(v)}" for k, v in named_params(found).items()) + "}"
    return _SETUP.format(name=name, reshape=reshape, params=params)


class Startup:
    # Every sample starts an interpreter: no warm-up sample, few samples.
    repeat = (3, 5, 3.0)
    warmup_time = 0
    rounds = 1

    def timeraw_import(self):
        return "import numba_act"


class Compile:
    """First call with an empty NUMBA_CACHE_DIR: the kernel compiles."""

    repeat = (3, 5, 3.0)
    warmup_time = 0
    rounds = 1
    params = [ALL]
    param_names = ["name"]

    def setup(self, name):
        self.setup_code = _EMPTY_CACHE + _setup_code(name)

    def timeraw_first_call(self, name):
        return "forward(x, **params)", self.setup_code


class Cached:
    """First call in a fresh process, numba's cache holding the kernel."""

    repeat = (3, 5, 3.0)
    warmup_time = 0
    rounds = 1
    params = [ALL]
    param_names = ["name"]

    def setup(self, name):
        # The same call here fills the cache that the timed process reads.
        found = entry(name)
        found.forward(_input(name), **named_params(found))
        self.setup_code = _setup_code(name)

    def timeraw_first_call(self, name):
        return "forward(x, **params)", self.setup_code
