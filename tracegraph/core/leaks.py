"""Errors for values that would silently leave the trace, or mix traces.

``math.exp(x)``, ``float(x)`` and ``np.asarray(x, dtype=float)`` on a traced
value would give a plain number, so every gradient through it would be
silently wrong; these builders make the message that refuses instead,
naming the value as the user wrote it.

Example:
    >>> call_parts("math.exp(w * x)")
    ('math.exp', 'w * x')
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from ..errors import (
    ForeignTraceError,
    TracedValueLeakError,
    UnsupportedOperationError,
    user_location,
)
from ..formula import operand

if TYPE_CHECKING:
    from .var import Var

_CALLEE = re.compile(r"[A-Za-z_][\w.]*")

NUMPY_EQUIVALENT = {
    f"math.{name}": f"np.{name}"
    for name in ("exp", "log", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan",
                 "tanh", "sinh", "cosh", "expm1", "floor", "ceil", "asin", "acos", "atan",
                 "asinh", "acosh", "atanh", "erf", "gamma", "lgamma", "hypot", "atan2")
}
NUMPY_EQUIVALENT.update({"math.fabs": "np.abs", "math.pow": "np.power", "math.asin": "np.arcsin",
                         "math.acos": "np.arccos", "math.atan": "np.arctan",
                         "math.asinh": "np.arcsinh", "math.acosh": "np.arccosh",
                         "math.atanh": "np.arctanh", "math.atan2": "np.arctan2",
                         "math.erf": "scipy.special.erf", "math.gamma": "scipy.special.gamma",
                         "math.lgamma": "scipy.special.gammaln"})


def call_parts(expression: str) -> tuple[str, str]:
    """``("math.exp", "w * x")`` for ``"math.exp(w * x)"``; ``("", "")`` when not a call.

    Example:
        >>> call_parts("w * x")
        ('', '')
    """
    head, paren, rest = expression.partition("(")
    if not paren or not rest.endswith(")") or not _CALLEE.fullmatch(head.strip()):
        return "", ""
    return head.strip(), rest[:-1].strip()


def leak_error(kind: str, var: Var) -> TracedValueLeakError:
    """The error for ``float(x)``, ``math.exp(x)``, ``x.item()`` ... on a traced value."""
    location = user_location()
    expression = location.expression if location else ""
    what = expression or f"{kind}(...)"
    function, argument = call_parts(what)
    subject = argument or var.name or var.expression()
    numpy_name = NUMPY_EQUIVALENT.get(function)
    hint = (f"use {numpy_name}({argument or '...'}), which tracegraph traces" if numpy_name
            else "keep the computation in numpy operations, which tracegraph traces")
    hint += f"; if you only need the number (to print it), use {operand(subject)}.value"
    return TracedValueLeakError(
        f"{what} turns the traced value {subject!r} into a plain Python number, "
        "which would drop it from the trace and make every gradient through it "
        "silently wrong",
        location=location, node=var.label, hint=hint,
    )


def array_leak_error(var: Var, dtype: object = None) -> TracedValueLeakError:
    """The error for converting a traced array to a plain numpy array."""
    location = user_location()
    expression = location.expression if location else ""
    function, _ = call_parts(expression)
    via = f"{function}(...)" if function else "np.array / np.asarray"
    target = f" of dtype {dtype}" if dtype is not None else ""
    hint = ("build arrays of traced values with np.stack([...]) or np.concatenate([...]) "
            "(np.array([a, b]) works for traced numbers); use .value if you only need the "
            "numbers")
    index_trick = next((name for name in ("r_", "c_") if f"{name}[" in expression), None)
    if index_trick:
        # np.r_[...] converts each piece with np.array before joining: numpy gives a
        # traced array no way in.
        via = f"np.{index_trick}[...]"
        hint = (f"use {'np.concatenate([...])' if index_trick == 'r_' else 'np.column_stack([...])'}"
                f" for traced arrays (np.{index_trick}[a, b] of traced numbers works)")
    elif dtype is not None and np.ndim(var.value) == 0:
        hint = ("leave out dtype=: np.array([a, b]) of traced numbers becomes one traced "
                "array (use .astype on it if you need another float dtype)")
    return TracedValueLeakError(
        f"{via} converts the traced value {var.label!r} to a plain numpy array{target}, "
        "which would drop it from the trace",
        location=location, node=var.label, hint=hint,
    )


def foreign_error(var: Var) -> ForeignTraceError:
    """The error for combining values of two unrelated traces."""
    return ForeignTraceError(
        f"the traced value {var.label!r} belongs to a different trace than the other "
        "operand, and values of two traces cannot be combined",
        location=user_location(), node=var.label,
        hint="compute everything inside one tracegraph.trace call (or one Tracer block); "
        "pass values between traces as plain numbers via .value, or use tg.grad for "
        "derivatives of derivatives",
    )


def finished_error() -> ForeignTraceError:
    """The error for recording on a trace that has already finished."""
    return ForeignTraceError(
        "this value belongs to a trace that has already finished, so new "
        "operations on it cannot be recorded",
        location=user_location(),
        hint="do all the computation inside the traced function (or the "
        "Tracer block); use `.value` for the plain number",
    )


def complex_error(value: object) -> UnsupportedOperationError:
    """The error for a complex number meeting a traced value: refused, never silently real."""
    shape = getattr(value, "shape", ())
    what = f"a complex array of shape {shape}" if shape else f"the complex number {value!r}"
    return UnsupportedOperationError(
        "complex numbers", reason=f"{what} meets a traced value; tracegraph differentiates "
        "real values only, and mixing in complex ones would give wrong gradients",
        hint="split it into real and imaginary parts (two real inputs) and write the "
        "arithmetic out")
