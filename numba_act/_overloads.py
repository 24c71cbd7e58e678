"""The ``@njit`` forms of every registry entry's functions.

Each public function of an entry has an ``@overload``, so that the same
name works inside user ``@njit`` code: on float or integer scalars (calling
the inlined scalar kernel, so it fits ``prange`` loops) and on arrays, with
the Python path's dtype rules (:func:`numba_act._arrays.result_dtype_of`)
and error messages.  Inside ``@njit``, ``out`` must be a C-contiguous array
of the result's dtype and shape, and the row-wise functions work along the
last axis only.  :func:`register_entry` is called for every entry, the
built-in ones below and those of :func:`numba_act.register`.
"""

import numpy as np
from numba import types
from numba.core.errors import NumbaNotImplementedError, TypingError
from numba.np import numpy_support

from numba_act import _arrays
from numba_act._arrays import check_shape
from numba_act._jit import kernel, overload_kernel
from numba_act.registry import REGISTRY, signature

_FLOATS = (types.float32, types.float64)


def is_none(ty):
    """Whether the argument type ``ty`` is None or an omitted optional argument."""
    return ty is None or isinstance(ty, (types.NoneType, types.Omitted))


@kernel(inline="always")
def _as_is(v):
    return v


@kernel(inline="always")
def _to_float64(v):
    return np.float64(v)


def _scalar_arg(ty):
    """How to turn a scalar argument into a float, or None if it is not a scalar."""
    if ty in _FLOATS:
        return _as_is
    if isinstance(ty, (types.Integer, types.Boolean)):
        return _to_float64
    return None


@kernel(inline="always")
def _array_to_float64(a):
    return a.astype(np.float64)


@kernel(inline="always")
def _array_to_float32(a):
    return a.astype(np.float32)


def _array_args(*named):
    """``(result type, converters)`` for array arguments, by the dtype rules
    of the Python path (:func:`numba_act._arrays.result_dtype_of`): integer
    and bool arrays are computed as float64 and mixed float dtypes promote.
    TypingError with the Python path's message for what it refuses; float16,
    which the Python path computes in float32, is refused here."""
    dtypes = []
    for what, ty in named:
        if not isinstance(ty, types.Array):
            raise TypingError(f"numba_act: {what} must be an array or a number, got {ty}")
        try:
            dtypes.append(numpy_support.as_dtype(ty.dtype))
        except NumbaNotImplementedError:
            raise TypingError(
                f"numba_act: {what} has dtype {ty.dtype}; numba_act accepts {_arrays.ACCEPTED} input"
            ) from None
    if np.dtype(np.float16) in dtypes:
        raise TypingError("numba_act: inside @njit, arrays must be float32, float64, integer or bool, not float16")
    try:
        result = _arrays.result_dtype_of(dtypes, [what for what, _ in named])
    except TypeError as err:
        raise TypingError(f"numba_act: {err}") from None
    result = numpy_support.from_dtype(result)
    to_result = _array_to_float64 if result == types.float64 else _array_to_float32
    return result, [_as_is if ty.dtype == result else to_result for _, ty in named]


def _check_out(out, dtype):
    if not (isinstance(out, types.Array) and out.dtype == dtype and out.layout == "C" and out.mutable):
        raise TypingError(f"numba_act: out must be a writeable C-contiguous {dtype} array inside @njit, got {out}")


@kernel(inline="always")
def _infinity(v):
    return np.inf


def param_arg(entry, param, ty):
    """How to turn the argument of ``param`` (type ``ty``) into the kernels' float64."""
    if not isinstance(ty, types.Type):  # an omitted argument's default, as typing passes it
        ty = types.none if ty is None else types.float64
    if isinstance(ty, types.Omitted):
        ty = types.none if ty.value is None else types.float64
    if isinstance(ty, (types.Float, types.Integer)) and not isinstance(ty, types.Boolean):
        return _to_float64
    if isinstance(ty, types.NoneType) and param.if_none is not None:
        return _infinity if param.if_none == np.inf else None
    raise TypingError(f"numba_act: {entry.name}: {param.name} must be a real number, got {ty}")


def _compiled(arrays, params, body, namespace):
    """A function of ``registry.signature(arrays, params)`` that converts each
    parameter to ``p0``, ``p1``, ... with the converters ``_c0``, ``_c1``,
    ... of ``namespace``, checks them with its ``_check`` where it has one,
    then runs the source lines ``body``: the implementations below are
    written once for any number of parameters (see numba_act.elementwise)."""
    arguments, defaults = signature(arrays, params)
    namespace.update(defaults)
    lines = [f"def impl({arguments}):"]
    lines += [f"    p{i} = _c{i}({p.name})" for i, p in enumerate(params)]
    if params and namespace.get("_check") is not None:
        lines.append(f"    _check({', '.join(f'p{i}' for i in range(len(params)))})")
    lines += [f"    {line}" for line in body]
    exec("\n".join(lines), namespace)
    return namespace["impl"]


def _register_elementwise(entry):
    # Plain names: the implementations below are compiled, and a compiled
    # function can call a dispatcher but not look up an attribute of ours.
    params = entry.params
    p = "".join(f", p{i}" for i in range(len(params)))
    common = {"check_shape": check_shape, "_check": entry.check_params}

    def implementation(names, arrays, args, out, body_scalar, body_new, body_out):
        """The implementation for ``args`` (the types of ``arrays``, then of the parameters)."""
        namespace = dict(names)
        for i, (param, ty) in enumerate(zip(params, args[len(arrays) :], strict=True)):
            namespace[f"_c{i}"] = param_arg(entry, param, ty)
        scalars = [_scalar_arg(ty) for ty in args[: len(arrays)]]
        if all(c is not None for c in scalars):
            namespace.update((f"c{name}", c) for name, c in zip(arrays, scalars, strict=True))
            return _compiled(arrays, params, body_scalar, namespace)
        result, converters = _array_args(*zip(arrays, args[: len(arrays)], strict=True))
        namespace.update((f"c{name}", c) for name, c in zip(arrays, converters, strict=True))
        if is_none(out):
            return _compiled(arrays, params, body_new, namespace)
        _check_out(out, result)
        return _compiled(arrays, params, body_out, namespace)

    def typing(arrays, build):
        """The ``@overload`` typing function of arguments ``arrays``, the parameters and out."""
        listed = ", ".join(arrays + tuple(q.name for q in params))
        arguments, defaults = signature(arrays, params)
        namespace = {"_build": build, **defaults}
        exec(f"def typing({arguments}):\n    return _build(({listed},), out)\n", namespace)
        return namespace["typing"]

    def forward(f, op):
        names = {**common, "f": f, "new": op.new, "into": op.into}
        return lambda args, out: implementation(
            names,
            ("x",),
            args,
            out,
            [f"return f(cx(x){p})"],
            [f"return new(cx(x){p})"],
            ['check_shape("out", out, "x", x)', f"return into(cx(x), out{p})"],
        )

    def derivative(df, op):
        names = {**common, "df": df, "new": op.new, "into": op.into}
        check = ['check_shape("a", a, "z", z)']
        return lambda args, out: implementation(
            names,
            ("z", "a"),
            args,
            out,
            [f"return df(cz(z), ca(a){p})"],
            [*check, f"return new(cz(z), ca(a){p})"],
            [*check, 'check_shape("out", out, "z", z)', f"return into(cz(z), ca(a), out{p})"],
        )

    def vjp(df, op):
        names = {**common, "df": df, "new": op.new, "into": op.into}
        check = ['check_shape("a", a, "z", z)', 'check_shape("grad", grad, "z", z)']
        return lambda args, out: implementation(
            names,
            ("z", "a", "grad"),
            args,
            out,
            [f"return cgrad(grad) * df(cz(z), ca(a){p})"],
            [*check, f"return new(cz(z), ca(a), cgrad(grad){p})"],
            [*check, 'check_shape("out", out, "z", z)', f"return into(cz(z), ca(a), cgrad(grad), out{p})"],
        )

    ops = entry.ops
    overload_kernel(entry.forward)(typing(("x",), forward(entry.scalar, ops.forward)))
    overload_kernel(entry.derivative)(typing(("z", "a"), derivative(entry.scalar_derivative, ops.derivative)))
    overload_kernel(entry.vjp)(typing(("z", "a", "grad"), vjp(entry.scalar_derivative, ops.vjp)))
    entry_derivative_z, entry_vjp_z = entry.derivative, entry.vjp
    if entry.derivative_from_z is not None:  # the same forms, on the kernels that read z alone
        dz = entry.scalar_derivative_from_z
        overload_kernel(entry.derivative_from_z)(typing(("z", "a"), derivative(dz, ops.derivative_from_z)))
        overload_kernel(entry.vjp_from_z)(typing(("z", "a", "grad"), vjp(dz, ops.vjp_from_z)))
        entry_derivative_z, entry_vjp_z = entry.derivative_from_z, entry.vjp_from_z

    # One signature for every entry, for activation_forward and activation_backward:
    # the parameters as a tuple of floats, already converted and checked; a
    # None for a, the derivative from z alone.
    given = "".join(f", params[{i}]" for i in range(len(params)))
    namespace = {
        "entry_forward": entry.forward,
        "entry_derivative": entry.derivative,
        "entry_vjp": entry.vjp,
        "entry_derivative_z": entry_derivative_z,
        "entry_vjp_z": entry_vjp_z,
    }
    calls = {
        "call(x, out=None, axis=-1, params=())": f"entry_forward(x{given}, out=out)",
        "call_derivative(z, a, out=None, params=())": f"entry_derivative(z, a{given}, out=out)",
        "call_vjp(z, a, grad, out=None, axis=-1, params=())": f"entry_vjp(z, a, grad{given}, out=out)",
        "call_derivative_z(z, a, out=None, params=())": f"entry_derivative_z(z, z{given}, out=out)",
        "call_vjp_z(z, a, grad, out=None, axis=-1, params=())": f"entry_vjp_z(z, z, grad{given}, out=out)",
    }
    exec("".join(f"def {signature}:\n    return {body}\n" for signature, body in calls.items()), namespace)

    @overload_kernel(entry.call)
    def _call(x, out=None, axis=-1, params=()):
        return namespace["call"]

    @overload_kernel(entry.call_derivative)
    def _call_derivative(z, a, out=None, params=()):
        return namespace["call_derivative_z" if is_none(a) else "call_derivative"]

    @overload_kernel(entry.call_vjp)
    def _call_vjp(z, a, grad, out=None, axis=-1, params=()):
        return namespace["call_vjp_z" if is_none(a) else "call_vjp"]


@kernel
def _last_axis_only(axis, ndim):
    if axis != -1 and axis != ndim - 1:
        raise ValueError("numba_act: inside @njit the softmax family works along the last axis only")


def _register_rowwise(entry):
    forward_new, forward_into = entry.ops.forward.new, entry.ops.forward.into
    vjp_new, vjp_into = entry.ops.vjp.new, entry.ops.vjp.into

    @overload_kernel(entry.forward)
    def _forward(x, axis=-1, out=None):
        result, (cx,) = _array_args(("x", x))
        if x.ndim == 0:
            raise TypingError("numba_act: inside @njit the softmax family needs an array of 1 or more dimensions")
        if is_none(out):

            def impl(x, axis=-1, out=None):
                _last_axis_only(axis, x.ndim)
                return forward_new(cx(x))

            return impl
        _check_out(out, result)

        def impl_out(x, axis=-1, out=None):
            _last_axis_only(axis, x.ndim)
            check_shape("out", out, "x", x)
            return forward_into(cx(x), out)

        return impl_out

    @overload_kernel(entry.derivative)
    def _derivative(z, a, out=None):
        result, (ca,) = _array_args(("a", a))
        if is_none(out):
            return lambda z, a, out=None: np.ones_like(ca(a))
        _check_out(out, result)

        def impl(z, a, out=None):
            check_shape("out", out, "a", a)
            out[...] = 1
            return out

        return impl

    @overload_kernel(entry.vjp)
    def _vjp(z, a, grad, axis=-1, out=None):
        result, (ca, cg) = _array_args(("a", a), ("grad", grad))
        if is_none(out):

            def impl(z, a, grad, axis=-1, out=None):
                _last_axis_only(axis, a.ndim)
                check_shape("grad", grad, "a", a)
                return vjp_new(ca(a), cg(grad))

            return impl
        _check_out(out, result)

        def impl_out(z, a, grad, axis=-1, out=None):
            _last_axis_only(axis, a.ndim)
            check_shape("grad", grad, "a", a)
            check_shape("out", out, "a", a)
            return vjp_into(ca(a), cg(grad), out)

        return impl_out

    # One signature for every entry, for activation_forward and activation_backward.
    entry_forward, entry_vjp = entry.forward, entry.vjp

    entry_derivative = entry.derivative

    @overload_kernel(entry.call)
    def _call(x, out=None, axis=-1, params=()):
        return lambda x, out=None, axis=-1, params=(): entry_forward(x, axis, out)

    @overload_kernel(entry.call_derivative)
    def _call_derivative(z, a, out=None, params=()):
        return lambda z, a, out=None, params=(): entry_derivative(z, a, out)

    @overload_kernel(entry.call_vjp)
    def _call_vjp(z, a, grad, out=None, axis=-1, params=()):
        return lambda z, a, grad, out=None, axis=-1, params=(): entry_vjp(z, a, grad, axis, out)


def register_entry(entry):
    """Give each function of ``entry`` its ``@njit`` form."""
    (_register_rowwise if entry.rowwise else _register_elementwise)(entry)


for _entry in REGISTRY.values():
    register_entry(_entry)
