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

import dis
import linecache
import os
import re
import sys
import sysconfig
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import (
    ForeignTraceError,
    SourceLocation,
    TracedValueLeakError,
    UnsupportedOperationError,
    display_path,
    user_location,
)
from ..formula import operand
from .registry import REPLACEMENTS

if TYPE_CHECKING:
    from .var import Var

_CALLEE = re.compile(r"[A-Za-z_][\w.]*")

NUMPY_EQUIVALENT = {
    f"math.{name}": f"np.{name}"
    for name in ("exp", "log", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan",
                 "tanh", "sinh", "cosh", "expm1", "floor", "ceil", "asin", "acos", "atan",
                 "asinh", "acosh", "atanh", "erf", "gamma", "lgamma", "hypot", "atan2")
}
NUMPY_EQUIVALENT.update({"round": "np.round", "math.trunc": "np.trunc", "math.fabs": "np.abs", "math.pow": "np.power", "math.asin": "np.arcsin",
                         "math.acos": "np.arccos", "math.atan": "np.arctan",
                         "math.asinh": "np.arcsinh", "math.acosh": "np.arccosh",
                         "math.atanh": "np.arctanh", "math.atan2": "np.arctan2",
                         "math.erf": "scipy.special.erf", "math.gamma": "scipy.special.gamma",
                         "math.lgamma": "scipy.special.gammaln"})


def call_parts(expression: str) -> tuple[str, str]:
    """``("math.exp", "w * x")`` for ``"math.exp(w * x)"``; ``("", "")`` when not a call.

    Example:
        >>> call_parts("w * x"), call_parts("np.array(a).astype(b)")
        (('', ''), ('', ''))
    """
    head, paren, rest = expression.partition("(")
    if not paren or not rest.endswith(")") or not _CALLEE.fullmatch(head.strip()):
        return "", ""
    depth = 1
    for char in rest[:-1]:  # the first "(" must close at the end: f(a).g(b) is no call of f
        depth += (char in "([{") - (char in ")]}")
        if depth == 0:
            return "", ""
    return head.strip(), rest[:-1].strip()


_TRACEGRAPH = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_INSTALLED = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")
_STANDARD_LIBRARY = tuple({os.path.join(sysconfig.get_path(kind), "") for kind in
                           ("stdlib", "platstdlib")})

# Library functions that cannot take traced numbers, and what to write instead.
LIBRARY_REPLACEMENTS = {
    "statistics.mean": "np.mean(...)", "statistics.fmean": "np.mean(...)",
    "statistics.median": "np.median(...)", "statistics.pstdev": "np.std(...)",
    "statistics.stdev": "np.std(..., ddof=1)", "statistics.pvariance": "np.var(...)",
    "statistics.variance": "np.var(..., ddof=1)", "statistics.geometric_mean":
    "np.exp(np.mean(np.log(...)))", "statistics.harmonic_mean": "1 / np.mean(1 / ...)",
    **{f"scipy.linalg.{name}": f"np.linalg.{name}(...)"
       for name in ("inv", "solve", "det", "pinv", "eigh", "eigvalsh", "svd", "norm", "qr")},
    "scipy.linalg.cholesky": "np.linalg.cholesky(...) (the lower factor; scipy's default is "
    "the upper one, its transpose)",
    # np.r_["r", ...] / np.c_["c", ...] build an np.matrix from the joined traced array
    **{f"np.{kind}_[...]": f"np.{kind}_[...] without the 'r'/'c' directive (an np.matrix "
       "holds plain numbers)" for kind in "rc"},
}
"""Library functions that cannot take traced values (standard-library ones rebuild
numbers exactly; scipy.linalg's convert their arguments), and what to write instead."""


def library_call() -> tuple[str, SourceLocation] | None:
    """When a traced value is converted inside a library function the user called
    (``scipy.stats.norm.pdf(x)`` calls ``np.asarray(x)``): that function's public name
    and the user's line that called it.  None when the user's own line converts it.

    Example:
        >>> library_call() is None
        True
    """
    frame = sys._getframe(1)
    library: list[Any] = []  # the library's frames, innermost first
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(_TRACEGRAPH) or filename.startswith("<frozen"):
            frame = frame.f_back
            continue
        if not any(part in filename for part in _INSTALLED) \
                and not filename.startswith(_STANDARD_LIBRARY):
            break
        library.append(frame)
        frame = frame.f_back
    if not library or frame is None:
        return None
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return _entry_name(library), SourceLocation(display_path(frame.f_code.co_filename),
                                                frame.f_lineno, line)


_DECORATOR_NAMES = frozenset({"wrapper", "wrapped", "inner", "decorated", "<lambda>"})


def _entry_name(library: list[Any]) -> str:
    """The public name of the library function the user called, from its frames
    (innermost first): the outermost one, unless it is a decorator's wrapper
    (scipy.linalg.solve_triangular converts its arguments inside ``wrapper``), whose
    wrapped function is in its closure."""
    entry = library[-1]
    if entry.f_code.co_name not in _DECORATOR_NAMES:
        return public_name(entry)
    for variable in entry.f_code.co_freevars:
        wrapped = entry.f_locals.get(variable)
        name = getattr(wrapped, "__name__", "_")
        if callable(wrapped) and _called_by_users(name):
            module = getattr(wrapped, "__module__", None) or ""
            public = ".".join(part for part in module.split(".") if not part.startswith("_"))
            return f"{public}.{name}" if public else name
    named = [frame for frame in library if _called_by_users(frame.f_code.co_name)]
    return public_name(named[-1] if named else entry)


def _called_by_users(function: str) -> bool:
    """Whether a library function of this name is one a user calls by it: not private,
    not a decorator's wrapper (scipy.linalg.solve_triangular runs inside ``wrapper``)."""
    return not function.startswith("_") and function not in _DECORATOR_NAMES


def scipy_is_converting() -> bool:
    """True when the conversion of a traced value happens inside a scipy function.

    Example:
        >>> scipy_is_converting()
        False
    """
    if "scipy" not in sys.modules:
        return False
    entry = library_call()
    return entry is not None and entry[0].startswith("scipy.")


def public_name(frame: Any) -> str:
    """How the user writes the function a stack frame runs: ``scipy.stats.norm.pdf``,
    ``scipy.stats.norm(...).pdf`` (a frozen distribution), ``scipy.special.logsumexp``.

    Example:
        >>> def logpdf():
        ...     return public_name(sys._getframe())
        >>> logpdf().rsplit(".", 1)[-1]
        'logpdf'
    """
    module = frame.f_globals.get("__name__", "")
    parts = module.split(".")
    public = ".".join(part for part in parts if not part.startswith("_"))
    if parts[0] == "numpy":  # np.linalg.eig, else np.<name> (numpy._core.* is internal)
        public = "np" + "".join(f".{sub}" for sub in ("linalg", "fft", "random", "polynomial")
                                if sub in parts[1:2])
    code = frame.f_code
    qualname = getattr(code, "co_qualname", code.co_name)
    function = qualname.rsplit(".", 1)[-1]
    owner = frame.f_locals.get("self") if "." in qualname else None
    if owner is None:
        return f"{public}.{function}"
    if function == "__getitem__" and (owner is np.r_ or owner is np.c_):
        return f"np.{'r' if owner is np.r_ else 'c'}_[...]"
    frozen = getattr(owner, "dist", None) or getattr(owner, "_dist", None)
    source = frozen if frozen is not None else owner
    name = getattr(source, "name", None) or type(source).__name__.removesuffix("_gen")
    return f"{public}.{name}{'(...)' if frozen is not None else ''}.{function}"


def _replacement_hint(function: str) -> str | None:
    if function in LIBRARY_REPLACEMENTS:
        return f"use {LIBRARY_REPLACEMENTS[function]}, which tracegraph traces"
    replacement = REPLACEMENTS.get(function.replace("(...)", ""))
    if replacement is None:
        return None
    if "(...)" in function:
        head, _, method = replacement.rpartition(".")
        replacement = f"{head}(...).{method}"
    return (f"use {replacement} (same arguments), which computes with scipy and records "
            "the derivative rule")


def _library_leak(var: Var, entry: tuple[str, SourceLocation],
                  into: str) -> TracedValueLeakError:
    function, location = entry
    hint = _replacement_hint(function) or (
        f"{function} does not work on traced values: compute it with numpy operations, "
        "or register a rule for it (docs/extending.md)")
    return TracedValueLeakError(
        f"{function} converts {_described(var)} to {into}, "
        "which would drop it from the trace and make every gradient through it silently "
        "wrong", location=location, node=var.label, hint=hint)


def unsupported_error(name: str) -> UnsupportedOperationError:
    """The error for a numpy callable without a rule, named as the user called it: the
    library function they called when the callable runs inside one (``scipy.special.zeta``
    calls the ufunc ``_zeta``).

    Example:
        >>> unsupported_error("np.spacing").operation
        'np.spacing'
    """
    entry = library_call()
    if entry is None:
        return UnsupportedOperationError(name)
    function, location = entry
    return UnsupportedOperationError(
        function, location=location,
        reason=f"it calls {name} on the traced value, and {name} has no derivative rule")


def _described(var: Var) -> str:
    """``the traced value 'mu'``, or for an unnamed intermediate (the library computed it)
    ``a traced value computed from 'mu'``, naming the inputs it depends on."""
    if var.name is not None:
        return f"the traced value {var.name!r}"
    tape = var.tape
    leaves = [tape.equations[i].name for i in tape.ancestors(var.index)
              if tape.equations[i].primitive is None and tape.equations[i].name]
    if not leaves:
        return f"the traced value {var.label!r}"
    return "a traced value computed from " + ", ".join(repr(name) for name in leaves)


def _traced_argument(argument: str, var: Var) -> str:
    """The argument of a call that is the traced value (``x`` in ``round(x, 2)``): the one
    written as the value's name, else the first."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(argument):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(argument[start:i].strip())
            start = i + 1
    parts.append(argument[start:].strip())
    parts = [p for p in parts if p]
    if var.name in parts:
        return var.name
    return parts[0] if parts else ""


def leak_error(kind: str, var: Var) -> TracedValueLeakError:
    """The error for ``float(x)``, ``math.exp(x)``, ``x.item()`` ... on a traced value.

    The message quotes the user's expression, read from their line.

    Example:
        >>> import math, tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     w = tr.input("w", 2.0)
        ...     try:
        ...         math.exp(w)
        ...     except tg.TracedValueLeakError as err:
        ...         print(err.message); print(err.hint)   # doctest: +NORMALIZE_WHITESPACE
        math.exp(w) turns the traced value 'w' into a plain Python number, which would drop
        it from the trace and make every gradient through it silently wrong
        use np.exp(w), which tracegraph traces; if you only need the number (to print it),
        use w.value
    """
    entry = library_call()
    if entry is not None:
        return _library_leak(var, entry, "a plain Python number")
    location = user_location()
    expression = location.expression if location else ""
    what = expression or f"{kind}(...)"
    function, argument = call_parts(what)
    known = argument if argument != "..." else ""  # no source line to read it from
    subject = (_traced_argument(known, var) if known else "") or var.name or var.expression()
    numpy_name = NUMPY_EQUIVALENT.get(function)
    hint = (f"use {numpy_name}({argument or '...'}), which tracegraph traces" if numpy_name
            else "keep the computation in numpy operations, which tracegraph traces")
    shown = operand(subject)
    printable = (f"{function}({subject})" if function in ("float", "int")
                 else f"{function}()" if function.endswith((".item", ".tolist")) else "")
    if printable:  # inside print(...) the conversion is Python's own
        hint += (f"; to show the number, print({printable}) works as written, "
                 f"or use {shown}.value")
    else:
        hint += f"; if you only need the number (to print it), use {shown}.value"
    return TracedValueLeakError(
        f"{what} turns the traced value {subject!r} into a plain Python number, "
        "which would drop it from the trace and make every gradient through it "
        "silently wrong",
        location=location, node=var.label, hint=hint,
    )


def array_leak_error(var: Var, dtype: object = None) -> TracedValueLeakError:
    """The error for converting a traced array to a plain numpy array.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     X = tr.input("X", np.ones(2))
        ...     try:
        ...         np.asarray(X, dtype=float)
        ...     except tg.TracedValueLeakError as err:
        ...         print(err.message)   # doctest: +NORMALIZE_WHITESPACE
        np.asarray(...) converts the traced value 'X' to a plain numpy array of dtype float64,
        which would drop it from the trace
    """
    location = user_location()
    expression = location.expression if location else ""
    entry = library_call()
    if entry is not None:
        return _library_leak(var, entry, "a plain numpy array")
    function, argument = call_parts(expression)
    via = f"{function}(...)" if function else "np.array / np.asarray"
    target = f" of dtype {dtype}" if dtype is not None else ""
    hint = ("build arrays of traced values with np.stack([...]) or np.concatenate([...]) "
            "(np.array([a, b]) works for traced numbers); use .value if you only need the "
            "numbers")
    if np.ndim(var.value) > 0 and argument.isidentifier():
        # np.array(w) of a traced array: the user wants a copy or a view, not new values.
        hint = (f"{argument} is already a traced array: use {argument} itself, "
                f"{argument}.copy() for a copy, or {argument}.astype(...) for another "
                "float dtype")
    elif dtype is not None and np.ndim(var.value) == 0:
        hint = ("leave out dtype=: np.array([a, b]) of traced numbers becomes one traced "
                "array (use .astype on it if you need another float dtype)")
    return TracedValueLeakError(
        f"{via} converts the traced value {var.label!r} to a plain numpy array{target}, "
        "which would drop it from the trace",
        location=location, node=var.label, hint=hint,
    )


_STORE_SUBSCR = dis.opmap["STORE_SUBSCR"]


def storing_item(frame: Any) -> bool:
    """True when ``frame`` is executing an item assignment ``target[key] = value``: numpy
    asks the value for an array while it stores it into a plain array.

    Example:
        >>> import sys
        >>> class Probe:
        ...     def __setitem__(self, key, value):
        ...         print(storing_item(sys._getframe(1)))
        >>> p = Probe(); p[0] = 1.0
        True
        >>> storing_item(sys._getframe())
        False
    """
    code, position = frame.f_code.co_code, frame.f_lasti
    return 0 <= position < len(code) and code[position] == _STORE_SUBSCR


_ASSIGNED = re.compile(r"\s*(.+?)\s*(?:\*\*|//|>>|<<|[-+*/%@&|^])?=(?!=)")
_NUMPY_MASK = "setting an array element with a sequence"
_refusals = threading.local()


def item_assignment_error(var: Var) -> TracedValueLeakError:
    """The error for ``v[i] = traced`` where ``v`` is a plain numpy array: numpy would keep
    only the number, so every gradient through it would be silently wrong.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     X = tr.input("X", np.ones(2))
        ...     v = np.zeros((2, 2))
        ...     try:
        ...         v[0] = X
        ...     except tg.TracedValueLeakError as err:
        ...         print(err.message)
        v[0] = ... stores the traced value 'X' into a plain numpy array, which keeps only its numbers and would drop it from the trace
    """
    location = user_location()
    assigned = _ASSIGNED.match(location.line) if location and location.line else None
    target = assigned.group(1) if assigned else "v[i]"
    numbers = "number" if np.ndim(var.value) == 0 else "numbers"
    stored = repr(var.label)
    if var.name is None and assigned:  # an unnamed value ('multiply#2') by its source text
        stored = location.line[assigned.end():].strip() or stored
    return TracedValueLeakError(
        f"{target} = ... stores the traced value {stored} into a plain numpy array, "
        f"which keeps only its {numbers} and would drop it from the trace",
        location=location, node=var.label,
        hint="build the array from the traced values instead of filling a preallocated one: "
             "v = np.array([a * b, a + b]) for numbers, np.stack([...]) for arrays; to change "
             "one element, np.where(np.arange(len(v)) == i, new_value, v)")


def float_leak(var: Var) -> TracedValueLeakError:
    """The error for ``float(traced)``; numpy asks for it when ``v[i] = traced`` stores
    into a plain array, and replaces any error with its own "setting an array element
    with a sequence", so that case is remembered for :func:`explained` to restore.

    Example:
        >>> import tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     a = tr.input("a", 2.0)
        ...     try:
        ...         float(a)
        ...     except tg.TracedValueLeakError as err:
        ...         print(err.message[:40])
        float(a) turns the traced value 'a' into
    """
    frame = sys._getframe(2)  # 1 is Var.__float__; numpy's C code adds no frame
    # numpy converting an array of traced numbers (.astype) masks this error too
    error = item_assignment_error(var) if storing_item(frame) else leak_error("float", var)
    _refusals.last = (error, frame.f_code.co_filename, frame.f_lineno)
    return error


def explained(exc: BaseException | None) -> TracedValueLeakError | None:
    """The error numpy's "setting an array element with a sequence" stands for, when it
    was raised by storing a traced value into a plain array on the line that raised it.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     a = tr.input("a", 2.0)
        ...     v = np.zeros(2)
        ...     try:
        ...         v[0] = a
        ...     except ValueError as err:
        ...         print(err); print(explained(err).message[:41])
        setting an array element with a sequence.
        v[0] = ... stores the traced value 'a' in
    """
    last = getattr(_refusals, "last", None)
    if last is None or not isinstance(exc, ValueError) or _NUMPY_MASK not in str(exc):
        return None
    error, filename, lineno = last
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None or (tb.tb_frame.f_code.co_filename, tb.tb_lineno) != (filename, lineno):
        return None
    _refusals.last = None
    return error


def foreign_error(var: Var) -> ForeignTraceError:
    """The error for combining values of two unrelated traces.

    Example:
        >>> import tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     b = tr.input("b", 1.0)
        >>> err = foreign_error(b)
        >>> print(err.message)   # doctest: +NORMALIZE_WHITESPACE
        the traced value 'b' belongs to a different trace than the other operand, and values
        of two traces cannot be combined
        >>> err.node, isinstance(err, tg.ForeignTraceError)
        ('b', True)
    """
    return ForeignTraceError(
        f"the traced value {var.label!r} belongs to a different trace than the other "
        "operand, and values of two traces cannot be combined",
        location=user_location(), node=var.label,
        hint="compute everything inside one tracegraph.trace call (or one Tracer block); "
        "pass values between traces as plain numbers via .value, or use tg.grad for "
        "derivatives of derivatives",
    )


def finished_error() -> ForeignTraceError:
    """The error for recording on a trace that has already finished.

    Example:
        >>> print(finished_error().message)   # doctest: +NORMALIZE_WHITESPACE
        this value belongs to a trace that has already finished, so new operations on it
        cannot be recorded
    """
    return ForeignTraceError(
        "this value belongs to a trace that has already finished, so new "
        "operations on it cannot be recorded",
        location=user_location(),
        hint="do all the computation inside the traced function (or the "
        "Tracer block); use `.value` for the plain number",
    )


def complex_error(value: object) -> UnsupportedOperationError:
    """The error for a complex number meeting a traced value: refused, never silently real.

    Example:
        >>> import numpy as np
        >>> complex_error(1j).operation
        'complex arithmetic'
        >>> print(complex_error(np.ones(2, dtype=complex)).message)
        ... # doctest: +NORMALIZE_WHITESPACE
        complex arithmetic is not supported on traced values: a complex array of shape (2,)
        meets a traced value; tracegraph differentiates real values only, and mixing in
        complex ones would give wrong gradients
    """
    shape = getattr(value, "shape", ())
    what = f"a complex array of shape {shape}" if shape else f"the complex number {value!r}"
    return UnsupportedOperationError(
        "complex arithmetic", reason=f"{what} meets a traced value; tracegraph differentiates "
        "real values only, and mixing in complex ones would give wrong gradients",
        hint="split it into real and imaginary parts (two real inputs) and write the "
        "arithmetic out")


def in_place_error(tape: Any, old: Var) -> UnsupportedOperationError:
    """The error for using an array after it was changed in place through another name.

    ``p -= lr * g`` changes the array ``p`` and every name sharing it (``W`` after
    ``for p in [W, b]``); tracegraph's values are immutable, so only ``p`` follows, and
    ``W`` would silently keep its old value.
    """
    changed_at = tape.superseded[id(old)]
    where = f" at {changed_at}" if changed_at is not None else ""
    if changed_at is not None and changed_at.line:
        where += f" ({changed_at.line.strip()})"
    shown = repr(old.name) if old.name else "an array"
    return UnsupportedOperationError(
        f"using {shown} after it was changed in place{where}",
        reason=("an in-place operator (+=, -=, *=, ...) or a view of the array (x[0:2], "
                "x.T, a row) changed memory another name shares; numpy changes it for every "
                "name, tracegraph's traced arrays only for the name on the left, so this "
                "would use the old value"),
        hint=("rebind the names instead of changing the array: W = W - step, and for a "
              "list of arrays build a new list: params = [p - lr * g for p, g in "
              "zip(params, grads)]"),
        node=old.label)


_BINARY_OP = dis.opmap.get("BINARY_OP")
_PERCENT = {i for i, (name, _) in enumerate(getattr(dis, "_nb_ops", ()))
            if name in ("NB_REMAINDER", "NB_INPLACE_REMAINDER")}


def formatting_with_percent(frame: Any) -> bool:
    """True when ``frame`` is executing ``text % value``: ``"%.3f" % y`` asks a traced
    number for ``float`` to format it (a ``%`` on a traced number would have called its
    own ``__mod__``), which makes text, not a number that leaves the trace.

    Example:
        >>> import sys
        >>> class Probe:
        ...     def __float__(self):
        ...         print(formatting_with_percent(sys._getframe(1))); return 1.0
        >>> _ = "%.1f" % Probe()
        True
    """
    code, position = frame.f_code.co_code, frame.f_lasti
    return (0 <= position < len(code) - 1 and code[position] == _BINARY_OP
            and code[position + 1] in _PERCENT)


def complex_power_error(base: float, exponent: float) -> UnsupportedOperationError:
    return UnsupportedOperationError(
        f"{base!r} ** {exponent!r}",
        reason="in Python a negative float to a fractional power is a complex number, and "
               "tracegraph differentiates real values only",
        hint="use np.power (numpy gives nan there) or make the base positive (abs(...))")
