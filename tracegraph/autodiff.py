"""Reverse mode: one reversed loop over the tape, never recursion.

Record order is topological (a node is recorded after its inputs), so
walking the tape backwards visits every node after all of its consumers:
when we reach node ``i`` its adjoint (d output / d node) is complete.  Each
input receives ``vjp(g, out, *inputs)`` - upstream × local - summed over
every edge it feeds (fan-out), with broadcasting undone by
:func:`tracegraph.core.unbroadcast`.

Example:
    >>> import tracegraph as tg
    >>> t = tg.trace(lambda x: x * x * x + x, x=2.0)   # 3x² + 1 = 13
    >>> t.grads["x"]
    13.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .core import (
    Scattered,
    Var,
    as_python_scalar,
    contribution,
    plain_value,
    shape_of,
    strong_zero_contribution,
    strong_zero_pullback,
)
from .core.arrays import is_plain
from .errors import NotDifferentiatedError, UnsupportedOperationError
from .rules import POINTWISE


def input_values(eq: Var) -> list[Any]:
    """The values of an equation's inputs (traced or constant), in argument order.

    Example:
        >>> import tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     x = tr.input("x", 3.0); y = x * 2.0
        >>> input_values(y)
        [3.0, 2.0]
    """
    return [x.value if type(x) is Var else x for x in eq.inputs]


def backward(equations: Sequence[Var], output_index: int, seed: Any,
             keep: Iterable[int] | None = None, *, strong_zero: bool = False) -> list[Any]:
    """Adjoints d(output)/d(node) for every equation up to ``output_index``.

    ``seed`` is the gradient of the final quantity with respect to the
    output (1.0 for a scalar loss).  Entries stay ``None`` for equations that
    do not influence the output.  With ``keep`` (tape positions, usually the
    inputs), every other equation's adjoint is released once it has been
    passed on to its inputs, so intermediate gradients do not pile up.

    When the values are themselves traced (a nested trace, ``tg.grad``), the
    rules' VJPs record on the enclosing trace: the backward pass is traced.

    With ``strong_zero``, a pointwise rule's zero upstream gradient contributes
    zero even where its local derivative is NaN or inf (the branch a ``np.where``
    discards); the result differs from the plain pass only where that one holds
    NaN/inf, so callers run it when the plain pass's gradients are not finite.

    Example:
        >>> from tracegraph.core import Tape
        >>> tape = Tape(); x = tape.leaf("x", 2.0); y = x * 3.0
        >>> backward(tape.equations, y.index, 1.0)
        [3.0, 1.0]
    """
    adjoints: list[Any] = [None] * (output_index + 1)
    adjoints[output_index] = seed
    kept = None if keep is None else frozenset(keep)
    for i in range(output_index, -1, -1):
        g = adjoints[i]
        if g is None:
            continue
        if type(g) is Scattered:
            g = adjoints[i] = g.dense()  # every consumer has added its part
        eq = equations[i]
        prim = eq.primitive
        if prim is None:
            continue
        if kept is not None and i not in kept:
            # Every consumer of equation i comes later on the tape and has been processed.
            adjoints[i] = None
        if not prim.twice and (type(g) is Var or type(eq.value) is Var):
            raise _not_twice(eq)
        if strong_zero and prim in POINTWISE and is_plain(g):
            strong_zero_pullback(eq, g, adjoints)
        else:
            prim.pullback(eq, g, adjoints)
    return adjoints


def _not_twice(eq: Var) -> UnsupportedOperationError:
    # its VJP would run on plain numbers and the second derivative come out as 0
    return UnsupportedOperationError(
        f"the second derivative of {eq.primitive.name}", node=eq.label,
        reason=(f"its rule is declared with twice=False, so its derivative rule is not "
                f"itself differentiated (node {eq.label!r})"),
        hint=("write the rule's VJPs with traced operations (numpy functions and operators "
              "on their arguments, no float() or np.asarray) and declare it twice=True; "
              "see docs/extending.md"))


def gradients(equations: Sequence[Var], output_index: int, seed: Any,
              keep: Iterable[int] | None = None, *, watch: Iterable[int] | None = None
              ) -> tuple[list[Any], bool]:
    """:func:`backward` (``keep`` as there), run again with ``strong_zero`` when NaN or
    inf reached one of the adjoints ``watch`` (the inputs; ``keep`` by default); the
    adjoints, and whether the second pass was needed.

    Example:
        >>> import numpy as np
        >>> from tracegraph.core import Tape
        >>> tape = Tape(); x = tape.leaf("x", np.array([-1.0, 4.0]))
        >>> with np.errstate(invalid="ignore"):
        ...     y = np.sum(np.where(x > 0, np.sqrt(x), 0.0))
        >>> adjoints, again = gradients(tape.equations, y.index, 1.0, keep=[0])
        >>> adjoints[0].tolist(), again
        ([0.0, 0.25], True)
    """
    keep = None if keep is None else list(keep)
    watched = list(keep if watch is None else watch)
    adjoints = backward(equations, output_index, seed, keep=keep)
    found = [adjoints[i] for i in watched if i < len(adjoints)]
    # a traced adjoint (a nested trace) is left as it is: a second pass would record the
    # backward pass on the enclosing trace twice
    if all_finite(found) or any(type(a) is Var for a in found):
        return adjoints, False
    return backward(equations, output_index, seed, keep=keep, strong_zero=True), True


def checked_seed(seed: Any, shape: tuple[int, ...], *, node: str | None = None,
                 how: str = "pass seed=") -> Any:
    """The seed of a backward pass from an output of ``shape``, checked.

    ``None`` means 1 for a scalar output; an array output needs a seed of its
    shape (d(seed·output)/d(input)), since its derivative is a Jacobian.
    ``how`` says, in the caller's words, how to give one (``"call
    t.backward(seed)"``); ``node`` names the output in the error.

    Example:
        >>> import numpy as np
        >>> checked_seed(None, ()), checked_seed(np.float64(2.0), ())
        (1.0, 2.0)
        >>> try:
        ...     checked_seed(None, (3,), how="pass seed=")
        ... except NotDifferentiatedError as err:
        ...     print(err.message); print(err.hint[:47])
        the output has shape (3,), so d(output)/d(input) is a Jacobian, not a gradient
        pass seed= with an array of shape (3,) (np.ones
    """
    if seed is None:
        if shape:
            raise NotDifferentiatedError(
                f"the output has shape {shape}, so d(output)/d(input) is a Jacobian, "
                "not a gradient", node=node,
                hint=f"{how} with an array of shape {shape} (np.ones({shape}) gives the "
                "gradient of the sum), or reduce the output to a scalar loss")
        return 1.0
    if shape_of(seed) != shape:
        raise NotDifferentiatedError(
            f"the seed has shape {shape_of(seed)} but the output has shape {shape}",
            node=node, hint=f"pass a seed of shape {shape}")
    if type(seed) is Var:
        return seed
    return as_python_scalar(seed) if not shape else np.asarray(seed, dtype=float)


def as_derivative(adjoint: Any, like: Any) -> Any:
    """An adjoint read as the derivative with respect to a node of value ``like``:
    zeros when it is ``None`` (no path), a float when ``like`` is a float.

    Example:
        >>> import numpy as np
        >>> as_derivative(None, 2.0), as_derivative(np.array(3.0), 2.0)
        (0.0, 3.0)
        >>> as_derivative(None, np.ones(2)).tolist()
        [0.0, 0.0]
    """
    if adjoint is None:
        return 0.0 if type(like) is float else np.zeros(shape_of(like))
    return adjoint if shape_of(like) else float(np.asarray(adjoint).reshape(()))


def derivative(equations: Sequence[Var], of: int, wrt: int, seed: Any = 1.0) -> Any:
    """The total derivative d(seed·``of``)/d(``wrt``) between two equations, through
    every path, shaped like ``wrt`` (see :func:`as_derivative`).

    Example:
        >>> from tracegraph.core import Tape
        >>> tape = Tape(); x = tape.leaf("x", 2.0); y = x * x; z = y * 3.0
        >>> derivative(tape.equations, z.index, x.index), derivative(tape.equations, 0, z.index)
        (12.0, 0.0)
    """
    adjoint = gradients(equations, of, seed, watch=[wrt])[0][wrt] if wrt <= of else None
    return as_derivative(adjoint, equations[wrt].value)


def edge_contribution(eq: Var, position: int, upstream: Any,
                      values: Sequence[Any] | None = None) -> Any:
    """upstream × local for input ``position`` of ``eq``, shaped like that input
    (``None`` when the rule gives that input no gradient).

    Example:
        >>> from tracegraph.core import Tape
        >>> tape = Tape(); x = tape.leaf("x", 3.0); y = x * x
        >>> edge_contribution(y, 0, 1.0)
        3.0
    """
    values = [x.value if type(x) is Var else x for x in eq.inputs] if values is None \
        else list(values)
    found = contribution(eq, position, upstream, values)
    if found is not None and type(found) is not Var and not is_finite(found) and \
            eq.primitive in POINTWISE and is_plain(upstream):
        # as the backward pass does once NaN/inf reaches an input (strong_zero)
        return strong_zero_contribution(eq, position, upstream, values)
    return found


# --------------------------------------------------------------------------- NaN / inf


@dataclass(frozen=True)
class NonFinite:
    """A node whose value (``phase="forward"``) or gradient (``"backward"``) holds NaN or inf.

    Example:
        >>> NonFinite("forward", 3, "S", "sigmoid", "NaN").describe()
        "NaN in the forward value of node 'S' (sigmoid)"
    """

    phase: str
    index: int
    label: str
    op: str
    kind: str
    expression: str = ""

    def describe(self) -> str:
        what = "forward value" if self.phase == "forward" else "gradient"
        computes = f" = {self.expression}" if self.expression and self.expression != self.label \
            else ""
        return f"{self.kind} in the {what} of node {self.label!r}{computes} ({self.op})"


def is_finite(value: Any) -> bool:
    """True when a number or array holds no NaN or inf.

    Example:
        >>> import numpy as np
        >>> is_finite(1.0), is_finite(np.array([1.0, np.inf]))
        (True, False)
    """
    if type(value) is float or type(value) is np.float64:
        return math.isfinite(value)
    array = np.asarray(plain_value(value))
    if array.dtype.kind not in "fc":
        return True
    # A sum (of squares) is NaN/inf whenever an element is; only an overflow needs the
    # exact elementwise check.  On small arrays BLAS's dot product is the fastest test,
    # and this runs on every output and gradient; past _BLAS_THREADED elements OpenBLAS
    # hands the dot to its threads, and waking them costs more (0.05–0.3 ms between
    # numpy calls) than numpy's own sum, which reads the array once (a third of the
    # time of np.isfinite(array).all(), which writes a mask first).
    if array.size <= _BLAS_THREADED and array.dtype.kind == "f" and (
            array.flags.c_contiguous or array.flags.f_contiguous):
        if math.isfinite(np.vdot(array, array)):  # vdot would copy any other layout
            return True
    elif math.isfinite(abs(np.add.reduce(array, axis=None))):
        return True
    return bool(np.isfinite(array).all())


_BLAS_THREADED = 10_000  # OpenBLAS threads its dot product above 10,000 elements
"""Above this many elements :func:`is_finite` leaves BLAS alone (see there)."""


def all_finite(values: Iterable[Any]) -> bool:
    """True when none of ``values`` (numbers, arrays or None) holds NaN or inf.

    Example:
        >>> all_finite([1.0, None, 2.0]), all_finite([1.0, float("nan")])
        (True, False)
    """
    scalars = []
    for value in values:
        if type(value) is float or type(value) is np.float64:
            scalars.append(value)
        elif value is not None and not is_finite(value):
            return False
    # One C-level sum for the scalars (a scalar program has thousands of inputs):
    # NaN and inf propagate through it, and an overflow to inf is rechecked exactly.
    total = sum(scalars)
    return total - total == 0.0 or all(math.isfinite(v) for v in scalars)


def _kind(value: Any) -> str:
    array = np.asarray(plain_value(value))
    has_nan = bool(np.isnan(array).any())
    has_inf = bool(np.isinf(array).any())
    return " and ".join(k for k, present in (("NaN", has_nan), ("inf", has_inf)) if present)


def find_nonfinite(equations: Sequence[Var], values: Sequence[Any], phase: str,
                   limit: int | None = None) -> list[NonFinite]:
    """Nodes whose entry in ``values`` is not finite, in tape order.

    For the forward pass the first one is where NaN/inf was *produced*
    (later ones usually just inherit it).

    Example:
        >>> import tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     x = tr.input("x", 1e308); y = x * 10.0; z = y - y
        >>> eqs = tr.tape.equations
        >>> [f.describe() for f in find_nonfinite(eqs, [eq.value for eq in eqs], "forward")]
        ["inf in the forward value of node 'multiply#1' = x·10 (multiply)",
         "NaN in the forward value of node 'subtract#2' = multiply#1 − multiply#1 (subtract)"]
    """
    found: list[NonFinite] = []
    for index, value in enumerate(values):
        if type(value) is float or type(value) is np.float64:
            if value - value == 0.0:  # false exactly for NaN and ±inf
                continue
        elif value is None or is_finite(value):
            continue
        eq = equations[index]
        found.append(NonFinite(phase, index, eq.label, eq.op, _kind(value), eq.expression()))
        if limit is not None and len(found) >= limit:
            break
    return found
