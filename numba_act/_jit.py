"""Compiler options for every kernel, declared once.

``error_model="numpy"`` drops the ZeroDivisionError check that would stop
LLVM from vectorizing ``1 / (1 + e)``.  The math kernels use no fast-math
flag at all: fused multiply-adds are written out (``scalar.fma``) where they
matter, so a kernel inlined into user ``@njit`` code, which compiles with
the user's flags, gives bit for bit the same results.  ``reassoc`` would
also let LLVM fold the two-constant range reduction of ``exp`` into one
product, and ``nnan``/``ninf`` would break the NaN and -inf rules that
softmax relies on; only plain sums get ``reassoc``, so that they vectorize.
CompiledOp are cached on disk (see the README for ``NUMBA_CACHE_DIR``); nothing
is compiled at import time.

Two things keep that cache honest.  Numba keys a cached function on its own
source file only, so a kernel whose callee changed in another module would
load stale code: every kernel's cache name carries a hash of the package's
sources, so a changed or older install never reuses another's entries.  And
a closure over a jitted function can never hit the cache (its key pickles a
per-process id), so per-activation kernels are copies of one template with
the activation bound as a global (:func:`specialize`), not closures.
"""

import contextlib
import hashlib
import pathlib
import threading
import types as pytypes
import warnings

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba import types
from numba.extending import intrinsic, overload

from numba_act import _parallel


def _source_hash():
    digest = hashlib.sha256()
    for path in sorted(pathlib.Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


SOURCE_HASH = _source_hash()

EXACT = frozenset()
# Only for plain sums, where any order is as good as the serial one.
REDUCE = frozenset({"reassoc"})

OPTIONS = {"error_model": "numpy", "nogil": True}


_caching = True  # False once no directory could take the cache
_uncached = threading.local()  # .depth > 0 within uncached(), in this thread only


def _njit(fn, **options):
    """``numba.njit(cache=True)``, or without the cache where no directory can take it."""
    global _caching
    fn.__qualname__ = f"{unversioned(fn.__qualname__)}_v{SOURCE_HASH}"  # once, if fn is compiled twice
    if _caching and not getattr(_uncached, "depth", 0):
        try:
            return numba.njit(cache=True, **options)(fn)
        except RuntimeError as err:  # read-only install and no NUMBA_CACHE_DIR
            if "no locator available" not in str(err):
                raise
            _caching = False
            warnings.warn(
                "numba_act: no writable directory for the compiled-kernel cache, so kernels "
                "compile again in every process; set NUMBA_CACHE_DIR to a writable directory",
                RuntimeWarning,
                stacklevel=3,
            )
    return numba.njit(cache=False, **options)(fn)


def unversioned(qualname):
    """A kernel's qualified name without the source hash that :func:`_njit` adds."""
    return qualname.removesuffix(f"_v{SOURCE_HASH}")


@contextlib.contextmanager
def uncached():
    """Compile what is built within this block, in this thread, without the
    disk cache: the cache is keyed on numba_act's own sources, which a
    user's registered functions are not part of, so an edited one would load
    stale code.  Per thread, so that another thread building a built-in
    kernel meanwhile neither loses the cache nor lends it to this one."""
    _uncached.depth = getattr(_uncached, "depth", 0) + 1
    try:
        yield
    finally:
        _uncached.depth -= 1


def kernel(fn=None, *, fastmath=EXACT, **options):
    """``numba.njit`` with the project's options; usable bare or with arguments."""

    def decorate(fn):
        return _njit(fn, fastmath=set(fastmath), **OPTIONS, **options)

    return decorate if fn is None else decorate(fn)


def scalar(fn):
    """A scalar math kernel, inlined into every loop that calls it."""
    return _njit(fn, fastmath=set(EXACT), inline="always", **OPTIONS)


def overload_kernel(fn, inline=False, **options):
    """``numba.extending.overload`` with the kernels' options: for a
    function whose code is chosen by its argument types (``inline`` to
    inline it into its callers)."""
    return overload(fn, jit_options=OPTIONS, inline="always" if inline else "never", **options)


def per_float_type(float32, float64, doc, name=None, inline=True):
    """A kernel with one implementation for float32 arguments and one for
    float64 (plain functions of the same arguments), chosen by the first
    argument's type, or its dtype for an array: for kernels whose float32
    form computes differently, in float64 say.  The kernel is called from
    ``@njit`` code only.  With ``inline`` (scalar kernels, so that the loops
    calling them vectorize) each implementation is compiled where the
    kernel is called, inlined there.  Without (a whole row kernel of two
    arguments, whose code each caller would type and compile again) each is
    a compiled kernel of its own, ``kernel.compiled[dtype]``, which Python
    code may call: the kernel's calls from ``@njit`` code go to the same
    compiled kernels, so either way each is compiled once.
    """
    name = name or float64.__name__.removeprefix("_").removesuffix("_f64")
    implementations = {types.float32: float32, types.float64: float64}

    def kernel(*args):
        raise TypeError(f"{name} is only callable from @njit code")

    kernel.__name__ = kernel.__qualname__ = name
    kernel.__module__, kernel.__doc__ = float64.__module__, doc
    kernel.implementations, kernel.inline = implementations, inline  # for numba_act._tiers
    compiled = {} if inline else {t: _njit(f, fastmath=set(EXACT), **OPTIONS) for t, f in implementations.items()}
    if compiled:
        kernel.compiled = {np.dtype(t.name): c for t, c in compiled.items()}

    def implementation(*args):
        t = args[0].dtype if isinstance(args[0], types.Array) else args[0]
        if t not in compiled:
            return implementations.get(t)
        target = compiled[t]
        # Numba compiles an overload's implementation from a plain function.
        return lambda a, b: target(a, b)

    overload_kernel(kernel, inline=True, strict=False)(implementation)
    return kernel


_TEMPLATE_CACHE = {}


def templates(source, namespace, params):
    """``{name: function}`` of the template ``source``, with ``{p}`` standing
    for ``params`` float arguments (", p0, p1" for two, nothing for none),
    defined in ``namespace`` (the template module's globals, whose file the
    compile cache is keyed on).  Each is a template for :func:`specialize`."""
    key = (source, namespace["__name__"], params)
    if key not in _TEMPLATE_CACHE:
        code = compile(source.format(p="".join(f", p{i}" for i in range(params))), namespace["__file__"], "exec")
        defined = {}
        exec(code, namespace, defined)
        _TEMPLATE_CACHE[key] = defined
    return _TEMPLATE_CACHE[key]


def rebound(fn, namespace, name=None, module=None):
    """A copy of the plain function ``fn`` that reads its globals from
    ``namespace``, called ``name`` (its qualified name too; default: fn's),
    as a function of ``module`` (default: fn's)."""
    copy = pytypes.FunctionType(fn.__code__, namespace, name or fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = name or unversioned(fn.__qualname__)
    copy.__module__, copy.__doc__ = module or fn.__module__, fn.__doc__
    copy.__kwdefaults__, copy.__annotations__ = fn.__kwdefaults__, fn.__annotations__
    return copy


def specialize(template, name, inline=False, **bindings):
    """Compile a copy of ``template`` called ``name``, with ``bindings`` as globals.

    The template refers to its per-activation parts (the scalar kernel, the
    loop to call) by global names that the module leaves unset.  ``inline``
    inlines it into its compiled callers.
    """
    fn = rebound(template, {**template.__globals__, **bindings}, name)
    return kernel(fn, inline="always") if inline else kernel(fn)


@kernel(inline="always")
def copy(source, target):
    """target[i] = source[i] over 1-D arrays of one size, as a loop that LLVM vectorizes.

    Slice assignment's shape-mismatch error message alone takes Numba about
    1.7 s to compile, and its general broadcasting copy ran 5x slower.
    """
    for i in range(source.size):
        target[i] = source[i]


@intrinsic
def wide_vectors(typingctx):
    """Let LLVM vectorize the calling kernel's loops with 512-bit registers,
    two independent vectors to a step.

    On CPUs with AVX-512, LLVM's default is to prefer 256-bit vectors; the
    exp-based kernels here are instruction-bound and run about 1.4x faster
    at full width.  And LLVM takes one vector per step of a loop whose body
    is long, one chain of dependent instructions, which leaves much of the
    core idle while each instruction waits on the last; two vectors to a
    step, their instructions interleaved, give it independent work (see
    :func:`_interleave_loops`).  This marks only the function that calls it
    (and what is inlined into it); on other CPUs the width attributes change
    nothing.
    """

    def codegen(context, builder, signature, args):
        # llvmlite validates only named attributes; string attributes go in as is.
        attributes = builder.function.attributes
        set.add(attributes, '"prefer-vector-width"="512"')
        set.add(attributes, '"min-legal-vector-width"="512"')
        _interleave_loops(context.active_code_library, builder.function)
        return context.get_dummy_value()

    return types.void(), codegen


def _interleave_loops(library, function):
    """Mark each loop of ``function`` (which ``library`` is lowering) whose
    body is long with LLVM's ``llvm.loop.interleave.count`` of 2, once the
    function is complete.

    The loops exist in full only when Numba hands the lowered module to the
    library (``add_ir_module``), so the marking happens there: the library's
    method is wrapped for that one call.
    """
    marked = library.__dict__.get("_numba_act_interleaved")
    if marked is None:
        marked = library._numba_act_interleaved = set()

        def add_ir_module(ir_module):
            del library.add_ir_module, library._numba_act_interleaved
            for fn in ir_module.functions:
                if fn.name in marked:
                    _mark_loops(fn)
            library.add_ir_module(ir_module)

        library.add_ir_module = add_ir_module
    marked.add(function.name)


def _successors(block):
    term = block.terminator
    if isinstance(term, llvm_ir.Branch):
        return [term.operands[0]]
    if isinstance(term, llvm_ir.ConditionalBranch):
        return list(term.operands[1:])
    if isinstance(term, llvm_ir.SwitchInstr):
        return [term.default] + [target for _, target in term.cases]
    return []


def _back_edges(function):
    """(latch, header) for each back edge of ``function``'s control flow
    graph: a branch to a block still on the depth-first search's path."""
    entry = function.blocks[0]
    on_path, done = {entry}, set()
    stack = [(entry, iter(_successors(entry)))]
    while stack:
        block, successors = stack[-1]
        for successor in successors:
            if successor in on_path:
                yield block, successor
            elif successor not in done:
                on_path.add(successor)
                stack.append((successor, iter(_successors(successor))))
                break
        else:
            stack.pop()
            on_path.discard(block)
            done.add(block)


# A loop body's cost, in floating-point operations, from which it is
# interleaved; a call (exp, say, compiled apart and inlined by LLVM) counts
# as many.  LLVM interleaves shorter bodies itself, up to four vectors to a
# step, which a count of 2 would cut back.
_LONG_BODY = 8
_FLOAT_OPS = frozenset({"fadd", "fsub", "fmul", "fdiv", "frem", "fneg"})


def _cost(instr):
    if instr.opname in _FLOAT_OPS:
        return 1
    if instr.opname == "call":
        callee = getattr(instr.callee, "name", "")
        return 1 if callee.startswith("llvm.fma") else 0 if callee.startswith("llvm.") else _LONG_BODY
    return 0


def _body_cost(latch, header, predecessors):
    """The cost of the loop of the back edge latch -> header: its blocks are
    those that reach the latch without passing through the header."""
    body, todo = {header}, []
    if latch is not header:
        body.add(latch)
        todo.append(latch)
    while todo:
        for block in predecessors.get(todo.pop(), ()):
            if block not in body:
                body.add(block)
                todo.append(block)
    return sum(_cost(instr) for block in body for instr in block.instructions)


def _mark_loops(function):
    """Give each loop of ``function`` with a long body a loop ID with an interleave count of 2."""
    module = function.module
    option = [llvm_ir.MetaDataString(module, "llvm.loop.interleave.count"), llvm_ir.Constant(llvm_ir.IntType(32), 2)]
    count = module.add_metadata(option)
    predecessors = {}
    for block in function.blocks:
        for successor in _successors(block):
            predecessors.setdefault(successor, []).append(block)
    loop_ids = {}  # by loop header: LLVM ignores a loop whose back edges carry different IDs
    for latch, header in list(_back_edges(function)):
        if _body_cost(latch, header, predecessors) < _LONG_BODY:
            continue
        if header not in loop_ids:
            # A loop ID refers to itself first, as LLVM requires of one.
            loop_id = llvm_ir.values.MDValue(module, [count], name=str(len(module.metadata)))
            loop_id.operands = (loop_id, count)
            loop_ids[header] = loop_id
        latch.terminator.set_metadata("llvm.loop", loop_ids[header])


def check_shapes(*shapes):
    """ValueError unless all the shapes are equal (kernels never broadcast)."""
    if any(shape != shapes[0] for shape in shapes):
        raise ValueError("numba_act: the arrays must all have the same shape")


@overload_kernel(check_shapes)
def _check_shapes_overload(*shapes):
    if len({len(shape) for shape in shapes}) > 1:

        def differ(*shapes):
            raise ValueError("numba_act: the arrays must all have the same shape")

        return differ

    def compare(*shapes):
        for shape in shapes:
            if shape != shapes[0]:
                raise ValueError("numba_act: the arrays must all have the same shape")

    return compare


class GeneralPath(Exception):
    """Raised by ``CompiledOp.try_into`` for a call that the Python general path must take."""


# How an out stands to an input, the one rule both the Python and the compiled
# paths follow: memory bounds that do not meet, the very same elements in the
# same order, or bounds that meet otherwise.  An out may be an input itself or
# overlap one: the result is always as if the inputs were copied first, as
# NumPy's ufuncs do.
DISJOINT, SAME_VIEW, MAY_OVERLAP = 0, 1, 2


def _out_alias(a, out):
    """DISJOINT, SAME_VIEW or MAY_OVERLAP: how ``out`` stands to the input ``a``.

    SAME_VIEW when both start at one address with one shape and the same
    strides (a stride on an axis of length one steps nowhere, and may
    differ); DISJOINT when their memory bounds do not meet; MAY_OVERLAP
    otherwise, including every ``a`` of another shape (whose call fails on
    the shapes anyway).  Interleaved views such as x[::2] and x[1::2] share
    bounds but no element: they count as MAY_OVERLAP, which costs them a
    copy of the input and nothing else.

    Plain Python on ``ndarray`` attributes, so that the same definition runs
    in Python (``out_alias.py_func``) and compiled (``out_alias``); written
    with plain loops, as a tuple comparison or max() compiles a function of
    its own on a first call.
    """
    if a.ndim != out.ndim:
        return MAY_OVERLAP
    same = a.ctypes.data == out.ctypes.data
    a_lo = a_hi = a.ctypes.data
    out_lo = out_hi = out.ctypes.data
    for d in range(a.ndim):
        if a.shape[d] != out.shape[d]:
            return MAY_OVERLAP
        same = same and (a.shape[d] == 1 or a.strides[d] == out.strides[d])
        a_span, out_span = (a.shape[d] - 1) * a.strides[d], (out.shape[d] - 1) * out.strides[d]
        if a_span < 0:
            a_lo += a_span
        else:
            a_hi += a_span
        if out_span < 0:
            out_lo += out_span
        else:
            out_hi += out_span
    if same and a.itemsize == out.itemsize:
        return SAME_VIEW
    if a.size == 0:
        return DISJOINT
    return MAY_OVERLAP if a_lo < out_hi + out.itemsize and out_lo < a_hi + a.itemsize else DISJOINT


out_alias = kernel(_out_alias, inline="always")


@kernel(inline="always")
def detached(a, out):
    """``a`` as a C-contiguous array that writing ``out`` cannot change:
    ``a`` itself, or a copy where their memory may meet."""
    if out_alias(a, out) == DISJOINT:
        return np.ascontiguousarray(a)
    return a.copy()


@kernel(inline="always")
def _worst(r, s):
    """The worse of two relations (DISJOINT < SAME_VIEW < MAY_OVERLAP), without max()."""
    return r if r > s else s


# Bound per CompiledOp by specialize(); unset in the templates themselves.
into = min_parallel = None

# try_into(*inputs, out, *params): ``into`` for the Python entry point, on calls of fewer
# than min_parallel elements (GeneralPath otherwise), with the dtypes and out's
# layout checked there (see numba_act._entry.entry_point).  It returns True, having
# written nothing, where out is one of the inputs and overlaps no other: the
# caller then runs the in-place kernel (calling it from here would compile it
# with every try_into).  Answering that in compiled code costs a few ns,
# where np.may_share_memory in Python costs more than a small call's kernel.
# One template per number of inputs, as a dispatcher taking *args costs more
# a call; ``{p}`` stands for the parameters, as in numba_act.elementwise.
_TRY_INTO = """
def try_into1(x, out{p}):
    if x.size >= min_parallel:
        raise GeneralPath()
    if out_alias(x, out) == SAME_VIEW:
        return True
    into(x, out{p})
    return False


def try_into2(z, a, out{p}):
    if z.size >= min_parallel:
        raise GeneralPath()
    if _worst(out_alias(z, out), out_alias(a, out)) == SAME_VIEW:
        return True
    into(z, a, out{p})
    return False


def try_into3(z, a, g, out{p}):
    if z.size >= min_parallel:
        raise GeneralPath()
    if _worst(_worst(out_alias(z, out), out_alias(a, out)), out_alias(g, out)) == SAME_VIEW:
        return True
    into(z, a, g, out{p})
    return False
"""


COMPILED_OPS = {}


class CompiledOp:
    """The compiled functions of one array operation, called ``name``.

    ``into(*inputs, out)`` writes into a C-contiguous ``out`` of the inputs'
    shape (inputs of any layout, which ``out`` may be or overlap: see
    :func:`_out_alias`) and returns it; ``new(*inputs)`` allocates
    the result.  ``flat`` is the underlying 1-D loop, where there is one, and
    ``blocks`` runs it for an ``out`` that is one of the inputs; ``rows``,
    for a row-wise operation, its 2-D row kernel by dtype, ``{dtype:
    kernel(*inputs, out)}``.  ``min_parallel`` is the size from which a
    call is split over threads (see :mod:`numba_act._parallel`).
    ``try_into(*inputs, out)`` is ``into`` for the Python entry point: it refuses, with :class:`GeneralPath`, calls
    of ``min_parallel`` elements or more, and returns True without writing
    for an ``out`` that is one of the inputs, which ``blocks`` then takes
    (``into`` where there is no ``blocks``).  ``inputs`` is how many inputs the kernels take;
    ``params`` how many float parameters each kernel takes after its arrays
    (see :meth:`bind`); ``masked_fill`` the input that leaves a masked element
    out of a row-wise forward pass (None: masked input is refused).  Pickled by name, so that task graphs (dask) can
    carry them to workers.
    """

    def __init__(
        self,
        into,
        new,
        flat=None,
        *,
        name,
        blocks=None,
        rows=None,
        min_parallel=_parallel.MIN_SIZE,
        params=0,
        masked_fill=None,
    ):
        self.into, self.new, self.flat, self.blocks, self.rows, self.name = into, new, flat, blocks, rows, name
        self.min_parallel, self.params, self.masked_fill = min_parallel, params, masked_fill
        self.inputs = into.py_func.__code__.co_argcount - 1 - params
        template = templates(_TRY_INTO, globals(), params)[f"try_into{self.inputs}"]
        self.try_into = specialize(template, f"{name}_try_into", into=into, min_parallel=min_parallel)
        COMPILED_OPS[name] = self

    def bind(self, params):
        """This op with its parameters' values bound: the kernels as the
        general path calls them, ``into(*inputs, out)`` and so on."""
        return self if not params else BoundOp(self, tuple(params))

    def __reduce__(self):
        return _op_named, (self.name,)

    def __repr__(self):
        return f"<numba_act compiled op {self.name}>"


class BoundOp:
    """A :class:`CompiledOp` with the values of its parameters bound."""

    def __init__(self, op, params):
        self.op, self.params = op, params
        self.name, self.inputs, self.min_parallel = op.name, op.inputs, op.min_parallel
        self.into, self.new, self.flat = self._bound(op.into), self._bound(op.new), self._bound(op.flat)
        self.blocks, self.try_into = self._bound(op.blocks), self._bound(op.try_into)

    def _bound(self, kernel):
        params = self.params
        return None if kernel is None else lambda *arrays: kernel(*arrays, *params)

    def __reduce__(self):
        return BoundOp, (self.op, self.params)

    def __repr__(self):
        return f"<numba_act compiled op {self.name} with parameters {self.params}>"


def _op_named(name):
    import numba_act  # noqa: F401  (builds every CompiledOp of the package)

    if name not in COMPILED_OPS and "@" in name:  # another tier's ("sigmoid@fast_vjp"), built on first use
        from numba_act import _tiers, registry

        tier = _tiers.TIERS[name.split("@")[1].split("_")[0]]
        for entry in list(registry.REGISTRY.values()):
            tier.entry(entry)
    return COMPILED_OPS[name]
