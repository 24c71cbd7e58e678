"""The hot loops compile to SIMD code.

A change that silently de-vectorizes a kernel (a libm call in the loop body,
a stray exception check, a float64 detour) would still pass every accuracy
test, so the compiled LLVM IR is inspected here.  Cached kernels cannot be
inspected, so each loop is compiled afresh from its Python source, with the
same bound globals and options.  Only on x86 CPUs with AVX2 or better.
"""

import platform
import re

import llvmlite.binding as llvm
import numba
import numpy as np
import pytest
from conftest import sampled
from llvmlite import ir

from numba_act import REGISTRY, _jit, rowwise
from numba_act.registry import REQUIRED

_FEATURES = llvm.get_host_cpu_features().flatten()
pytestmark = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64") or "+avx2" not in _FEATURES,
    reason="vector width checked on x86 CPUs with AVX2 or better",
)


def _vector_ir(dispatcher, *args):
    fresh = numba.njit(error_model="numpy", nogil=True)(dispatcher.py_func)
    fresh(*args)
    return fresh.inspect_llvm(fresh.signatures[0])


def _vector_bits(ir, dtype):
    """The widths in bits of the float vectors in ``ir``: of ``dtype``, and of
    float64 for float32 kernels that compute in float64 (gelu)."""
    kinds = {"float": 32, "double": 64} if dtype == np.float32 else {"double": 64}
    return {int(n) * kinds[kind] for n, kind in re.findall(r"<(\d+) x (float|double)>", ir) if kind in kinds}


def _param_args(entry):
    """Float64 values for ``entry``'s parameters, as its kernels take them
    after their arrays: the defaults (what None stands for where that is
    the default), 0.0 for a required one."""
    values = []
    for p in entry.params:
        value = p.if_none if p.default is None else p.default
        values.append(0.0 if value is REQUIRED else float(value))
    return values


# Every compiled operation of every elementwise entry: forward, derivative,
# vjp, and those from z alone where an entry has them.
_OPS = [
    sampled(name, name, kind, id=f"{kind}-{name}")
    for name, entry in REGISTRY.items()
    if not entry.rowwise
    for kind, op in entry.ops._asdict().items()
    if op is not None
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "kind"), _OPS)
def test_elementwise_loops_are_vectorized(name, kind, dtype):
    entry = REGISTRY[name]
    kernels = getattr(entry.ops, kind)
    # flat(*inputs, out, *params): the arrays, then a float64 per parameter
    params = _param_args(entry)
    count = kernels.flat.py_func.__code__.co_argcount - len(params)
    assert count == {"forward": 2, "vjp": 4, "vjp_from_z": 4}.get(kind, 3)
    arrays = [np.ones(64, dtype) for _ in range(count)]
    bits = _vector_bits(_vector_ir(kernels.flat, *arrays, *params), dtype)
    # 256-bit registers at least: 8 floats or 4 doubles per instruction.
    assert bits and max(bits) >= 256, bits


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loop", ["_exp_shifted", "_prescaled_exp_shifted", "_prescaled_exp_minus_out"])
def test_softmax_exp_pass_is_vectorized(loop, dtype):
    dispatcher = getattr(rowwise, loop)
    x = np.ones(64, dtype)
    args = (x, np.empty_like(x)) if loop.endswith("minus_out") else (x, dtype(0), np.empty_like(x))
    bits = _vector_bits(_vector_ir(dispatcher, *args), dtype)
    assert bits and max(bits) >= 256, bits


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_maximum_is_vectorized(dtype):
    row_max = numba.njit(error_model="numpy")(lambda row: rowwise._max(row))
    row_max(np.ones(64, dtype))
    ir = row_max.inspect_llvm(row_max.signatures[0])
    width = np.dtype(dtype).itemsize * 8
    bits = {int(n) * width for n in re.findall(rf"<(\d+) x i{width}>", ir)}
    assert bits and max(bits) >= 256, bits


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_rest_sum_is_vectorized_with_plain_loads(dtype):
    fresh = numba.njit(error_model="numpy", nogil=True, fastmath={"reassoc"})(rowwise._block_rest.py_func)
    x = np.ones(64, dtype)
    fresh(x, x, dtype(1))
    ir = fresh.inspect_llvm(fresh.signatures[0])
    bits = _vector_bits(ir, dtype)
    assert bits and max(bits) >= 256, bits
    # A load taken only below the row maximum turns into a masked load, slow on AMD's cores.
    assert "llvm.masked.load" not in ir


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gelu"])
def test_long_loop_bodies_take_two_vectors_a_step(name, dtype):
    # One division per element: with the interleave count that wide_vectors
    # sets, the vector loop holds two independent vector divisions; LLVM
    # alone takes one vector a step where a body is this long.
    flat = REGISTRY[name].ops.forward.flat
    x = np.ones(64, dtype)
    ir = _vector_ir(flat, x, np.empty_like(x))
    assert len(re.findall(r"fdiv [a-z ]*<\d+ x (?:float|double)>", ir)) >= 2, name


def _two_loops(module, long_ops):
    """A function of two counted loops, one after the other: the first with
    one fadd a step, the second with ``long_ops`` fmuls."""
    double, i64 = ir.DoubleType(), ir.IntType(64)
    fn = ir.Function(module, ir.FunctionType(double, [double, i64]), "two_loops")
    x, n = fn.args
    blocks = [fn.append_basic_block(name) for name in ("entry", "short", "between", "long", "exit")]
    builder = ir.IRBuilder(blocks[0])
    builder.branch(blocks[1])
    latches = []
    for header, after, ops in ((blocks[1], blocks[2], 1), (blocks[3], blocks[4], long_ops)):
        builder.position_at_end(header)
        i = builder.phi(i64)
        v = builder.phi(double)
        w = v
        for _ in range(ops):
            w = builder.fmul(w, x) if ops > 1 else builder.fadd(w, x)
        j = builder.add(i, ir.Constant(i64, 1))
        latches.append(builder.cbranch(builder.icmp_signed("<", j, n), header, after))
        previous = blocks[0] if header is blocks[1] else blocks[2]
        i.add_incoming(ir.Constant(i64, 0), previous)
        i.add_incoming(j, header)
        v.add_incoming(x, previous)
        v.add_incoming(w, header)
        builder.position_at_end(after)
        if after is blocks[2]:
            builder.branch(blocks[3])
        else:
            builder.ret(w)
    return fn, latches


def test_only_long_loops_get_an_interleave_count():
    module = ir.Module()
    fn, (short_latch, long_latch) = _two_loops(module, 12)
    _jit._mark_loops(fn)
    assert "llvm.loop" not in short_latch.metadata
    loop_id = long_latch.metadata["llvm.loop"]
    text = str(module)
    # A loop ID is its own first operand, as LLVM requires; its option the interleave count.
    reference = loop_id.get_reference()
    assert re.search(rf"^{reference} = !{{ {reference}, (!\d+) }}$", text, re.M), text
    assert '!{ !"llvm.loop.interleave.count", i32 2 }' in text
    llvm.parse_assembly(text).verify()


def test_loops_below_the_long_body_are_left_to_llvm():
    module = ir.Module()
    fn, (_, long_latch) = _two_loops(module, _jit._LONG_BODY - 1)
    _jit._mark_loops(fn)
    assert "llvm.loop" not in long_latch.metadata
