"""Accuracy tiers: the same activations built from other primitives.

A tier is a table of swaps, ``{primitive: replacement}``, over the math
library of :mod:`numba_act._math` and :mod:`numba_act._normal`.  An
activation's kernels are written once;
:meth:`Tier.kernel` gives a copy of a kernel in which every swapped
primitive is replaced, however deep in the kernels it calls
(``@scalar`` and ``@kernel`` functions and the implementations of a
:func:`numba_act._jit.per_float_type` kernel are copied with their globals
rebound, so a primitive is found where a kernel names it as a global, not
as ``module.attribute``; an ``@overload`` primitive is swapped whole or not
at all).  A kernel that calls no swapped primitive is returned as it is, so an
activation whose math the tier does not touch is the very same entry, with
the same compiled code, in both tiers.

:data:`DEFAULT` swaps nothing.  :data:`FAST` (``numba_act.fast``) trades the
room below its looser bounds (4 ulp elementwise, 8 for the softmax family)
for speed: each replacement, defined beside its primitive (its name ends
in ``_fast``), says what it drops.
"""

import re
import threading
import types as pytypes

from numba.core.registry import CPUDispatcher

from numba_act import _jit, _math, _normal


class Tier:
    """A set of primitive swaps, called ``name`` (a suffix of every kernel
    and compiled operation built in it), whose functions are those of
    ``module``; ``ulp`` and ``row_ulp``: the documented bounds of its
    elementwise and row-wise results, by dtype name; ``doc``: the line its
    functions' docstrings add."""

    def __init__(self, name, swaps, module, ulp, row_ulp, doc=""):
        self.name, self.swaps, self.module, self.ulp, self.row_ulp = name, dict(swaps), module, ulp, row_ulp
        # Kernel copies end in "_<name>"; compiled operations in "@<name>",
        # which no registered activation's can (register takes identifiers).
        self.suffix, self.op_suffix = (f"_{name}", f"@{name}") if swaps else ("", "")
        self.doc = doc
        self._copies, self._entries = {}, {}
        self._lock = threading.RLock()  # one build of each entry, whichever thread asks first

    def entry(self, entry):
        """The registry entry ``entry`` in this tier: rebuilt from this
        tier's kernels, with its own ``@njit`` forms, or ``entry`` itself
        where its math calls none of the swapped primitives (relu's, say,
        and those of :func:`numba_act.register`, which keep the user's
        kernels)."""
        if not self.swaps or entry.rebuild is None or entry.tier is self:
            return entry
        built = self._entries.get(entry.name)
        if built is None or built[0] is not entry:
            from numba_act._overloads import register_entry  # imports the registry, built on this module

            with self._lock:
                built = self._entries.get(entry.name)
                if built is None or built[0] is not entry:
                    tiered = entry.rebuild(tier=self)
                    if tiered is None:
                        tiered = entry
                    else:
                        register_entry(tiered)
                    built = self._entries[entry.name] = (entry, tiered)
        return built[1]

    def kernel(self, fn):
        """``fn`` with this tier's primitives, or ``fn`` itself if it calls none of them."""
        if fn is None or not self.swaps:
            return fn
        key = id(fn)
        if key not in self._copies:
            self._copies[key] = (fn, self._retarget(fn))  # fn kept alive, so that its id stays its own
        return self._copies[key][1]

    def _retarget(self, fn):
        if fn in self.swaps:
            return self.swaps[fn]
        if isinstance(fn, CPUDispatcher):
            copy = self._rebound(fn.py_func)
            if copy is fn.py_func:
                return fn
            options = {k: v for k, v in fn.targetoptions.items() if k not in ("cache", "nopython")}
            return _jit._njit(copy, **options)
        implementations = getattr(fn, "implementations", None)
        if implementations is not None:  # a per_float_type kernel
            copies = {t: self._rebound(f) for t, f in implementations.items()}
            if all(copies[t] is f for t, f in implementations.items()):
                return fn
            return _jit.per_float_type(*copies.values(), fn.__doc__, f"{fn.__name__}{self.suffix}", fn.inline)
        if isinstance(fn, pytypes.FunctionType):
            return self._rebound(fn)
        return fn

    def _rebound(self, fn):
        """A copy of the plain function ``fn`` whose globals are swapped, or ``fn``."""
        changed = {}
        for name in _global_names(fn.__code__):
            value = fn.__globals__.get(name)
            if callable(value):
                new = self.kernel(value)
                if new is not value:
                    changed[name] = new
        if not changed:
            return fn
        name = f"{_jit.unversioned(fn.__qualname__)}{self.suffix}"
        return _jit.rebound(fn, {**fn.__globals__, **changed}, name)

    def docs(self, doc):
        """``doc`` with its examples importing this tier's module, their
        results shown to six digits (the rest elided, as the looser bounds
        allow other last digits)."""
        if self is DEFAULT:
            return doc
        lines, result = doc.replace("import numba_act as na", f"import {self.module} as na").split("\n"), False
        for i, line in enumerate(lines):
            text = line.strip()
            if text.startswith((">>>", "... ")) or not text:
                result = bool(text)  # a result follows its example's code, up to a blank line
            elif result:
                lines[i] = re.sub(r"\d[\d.]*", _six_digits, line)
        return "\n".join(lines)

    def __reduce__(self):  # entries carry their tier: it unpickles as the very tier
        return _tier_named, (self.name,)

    def __repr__(self):
        return f"<numba_act tier {self.name!r}>"


def _six_digits(match):
    """A number's digits past its sixth significant one, as doctest's "..."."""
    text, seen = match.group(), 0
    for k, char in enumerate(text):
        seen += char.isdigit() and (seen > 0 or char != "0")
        if seen == 6:
            return text if k + 1 == len(text) else f"{text[: k + 1]}..."
    return text


def _global_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, pytypes.CodeType):
            names |= _global_names(const)
    return names


DEFAULT = Tier("default", {}, "numba_act", ulp={"float32": 2, "float64": 3}, row_ulp={"float32": 4, "float64": 8})
FAST = Tier(
    "fast",
    {
        _math.ratio_of_one_plus: _math.ratio_of_one_plus_fast,
        _math.x_sigmoid_for_f32: _math.x_sigmoid_for_f32_fast,
        _math.gelu_tanh_t_for_f32: _math.gelu_tanh_t_for_f32_fast,
        _math.exp_prescaled: _math.exp_prescaled_fast,
        _normal.x_normal_tail_for_f32: _normal.x_normal_tail_for_f32_fast,
    },
    "numba_act.fast",
    ulp={"float32": 4, "float64": 4},
    row_ulp={"float32": 8, "float64": 8},
    doc="Fast tier (numba_act.fast): within 4 ulp of the exact result (8 for the softmax family); "
    "results need not be monotone to the last ulp.",
)
TIERS = {tier.name: tier for tier in (DEFAULT, FAST)}


def _tier_named(name):
    return TIERS[name]
