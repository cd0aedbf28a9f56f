"""Derivatives as functions: ``tg.grad``, ``tg.hessian``, ``tg.hvp`` and ``tg.jvp``.

``tg.grad(f, "x")`` is a function with ``f``'s keyword inputs that returns
∂f/∂x.  It is built from a nested trace: when the inputs are themselves
traced values (``tg.grad`` of a ``tg.grad``, or ``tg.trace`` of a
``tg.grad``), the rules' VJPs run on traced values, so the backward pass is
recorded by the enclosing trace and can be differentiated again, or drawn.

Conventions: ``wrt`` is a name (the bare derivative is returned), a list or
tuple of names (a dict, even for one name), or ``None`` (a dict over every
traced input; ``tg.constant`` values never appear).  Hessian rows follow the
inputs' keyword order whatever the order in ``wrt``, each array flattened in
C order.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> f = lambda x: x ** 3
    >>> tg.grad(f, "x")(x=2.0), tg.grad(tg.grad(f, "x"), "x")(x=2.0)
    (12.0, 12.0)
    >>> h = tg.hessian(lambda x, y: x ** 2 + 3 * x * y - y ** 2, x=0.0, y=0.0)
    >>> h.matrix.tolist(), h.classify()
    ([[2.0, 3.0], [3.0, -2.0]], 'saddle point')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from . import autodiff
from .core import Tape, Var, is_constant, plain_value, shape_of, unwrap_constant
from .errors import NotDifferentiatedError, TracegraphError
from .formula import Label, partial, symbols_for
from .graph import MAX_EXPRESSION_LABEL, build_graph
from .numbers import format_number
from .trace import Trace, Tracer

Wrt = str | Sequence[str] | None

CLASSIFICATIONS = ("minimum", "maximum", "saddle point", "inconclusive", "not a critical point")
"""The words :meth:`Hessian.classify` answers with."""


def _trace_nested(fn: Callable[..., Any], inputs: Mapping[str, Any]) -> Trace:
    """Trace ``fn(**inputs)`` on a tape nested in the running trace (if any).

    A function marked ``traces_itself = True`` (an expression file run with its
    inputs replaced by ``inputs``) returns its own :class:`Trace` instead.
    """
    if getattr(fn, "traces_itself", False):
        return fn(**inputs)
    tracer = Tracer(nested=True)
    with tracer:
        arguments = {name: tracer.input(name, value) for name, value in inputs.items()}
        output = fn(**arguments)
        if shape_of(plain_value(output.value if type(output) is Var else output)):
            raise NotDifferentiatedError(
                f"{_name(fn) or 'the function'} returns an array of shape "
                f"{shape_of(plain_value(output.value if type(output) is Var else output))}; "
                "tg.grad needs a scalar function",
                hint="reduce it to a scalar (np.sum), or use tg.jvp for directional "
                "derivatives of an array function")
        return tracer.finish(output, name=_name(fn))


def _name(fn: Callable[..., Any]) -> str | None:
    name = getattr(fn, "__name__", None)
    return None if name == "<lambda>" else name


def _chosen(wrt: Wrt, available: Sequence[str], what: str,
            inputs: Mapping[str, Any] | None = None) -> tuple[list[str], bool]:
    """The names to differentiate with respect to, and whether a bare result is wanted:
    ``wrt``, or every float input (an int such as ``n=3`` only when named)."""
    if wrt is None:
        return [n for n in available
                if inputs is None or not _is_integer(inputs.get(n))], False
    bare = isinstance(wrt, str)
    names = [wrt] if bare else list(wrt)
    missing = [n for n in names if n not in available]
    if missing:
        hint = "name float inputs of the function (tg.constant values have no derivative)"
        given = [n for n in missing if isinstance((inputs or {}).get(n), (list, tuple))]
        if given:  # a list passes through as a list: x + x would mean concatenation
            hint = (f"{given[0]!r} is a {type(inputs[given[0]]).__name__}, which is passed "
                    "through as it is: give numbers as a float or an array, "
                    f"{given[0]}=np.array([...])")
        raise TracegraphError(
            f"{what}: {', '.join(map(repr, missing))} is not a traced input; traced inputs: "
            f"{', '.join(available) or '(none)'}", hint=hint)
    return names, bare


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def grad(fn: Callable[..., Any], wrt: Wrt = None) -> Callable[..., Any]:
    """The gradient of a scalar function, as a function of the same keyword inputs.

    The result is differentiable again: ``tg.grad(tg.grad(f, "x"), "x")`` is
    f'', and ``tg.trace(tg.grad(f, "x"), x=2.0)`` is a trace of the backward
    pass whose nodes are the upstream × local products and fan-out sums.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> loss = lambda w, b: np.sum((w * 2.0 + b - 1.0) ** 2)
        >>> g = tg.grad(loss)(w=np.array([1.0, 0.0]), b=0.5)
        >>> g["w"].tolist(), g["b"]
        ([6.0, -2.0], 2.0)
    """
    def gradient(**inputs: Any) -> Any:
        traced = _trace_nested(fn, inputs)
        names, bare = _chosen(wrt, list(traced.tape.inputs), "tg.grad wrt", inputs)
        grads = traced.grads
        if bare:
            return grads[names[0]]
        return {name: grads[name] for name in names}

    gradient.__name__ = f"grad_{_name(fn) or 'f'}"
    gradient.__doc__ = f"The gradient of {_name(fn) or 'the function'} (tracegraph.grad)."
    return gradient


def name_backward(traced: Trace) -> Trace:
    """Name what a nested trace recorded on the enclosing one, so its graph reads like the
    chain rule: each forward value by its name here (``S``), each adjoint ``∂Loss/∂S``.

    Adjoints of unnamed nodes are named after their expression when it is short
    (``∂Loss/∂(gold − S)``); a value of the enclosing trace keeps a name it has.
    ``tracegraph render FILE --backward`` uses it to draw the backward pass.

    Example:
        >>> import tracegraph as tg
        >>> def loss(w):
        ...     S = tg.name(tg.sigmoid(w * 2.0), "S")
        ...     return tg.name((1.0 - S) ** 2, "Loss")
        >>> def gradient(w):
        ...     inner = tg.Tracer(nested=True)
        ...     with inner:
        ...         traced = name_backward(inner.finish(loss(inner.input("w", w))))
        ...     return traced.grads["w"]
        >>> t = tg.trace(gradient, w=0.5)
        >>> sorted(n for n, d in t.graph.nodes(data=True) if d["name"] and "∂" in n)
        ['∂Loss/∂(1 − S)', '∂Loss/∂(w·2)', '∂Loss/∂S', '∂Loss/∂w']
    """
    tape = traced.tape
    outer = tape.parent
    if outer is None or tape.output is None or traced.adjoints() is None:
        return traced
    labels = _short_labels(tape)
    of = labels[tape.output] or "output"
    for eq in tape.equations:
        value = eq.value
        if eq.name is not None and type(value) is Var and value.tape is outer \
                and value.name is None:
            value.name = eq.name
    adjoints = traced.adjoints()
    # From the output down: an adjoint passed on unchanged (through a sum) is named after
    # the node nearest the output, where it was formed.
    for index in range(len(adjoints) - 1, -1, -1):
        adjoint = adjoints[index]
        if type(adjoint) is Var and adjoint.tape is outer and adjoint.name is None \
                and labels[index] is not None:
            adjoint.name = partial(of, labels[index])
    return traced


def trace_backward(fn: Callable[..., Any], wrt: Wrt = None, /, **inputs: Any) -> Trace:
    """A :class:`Trace` of ``fn``'s backward pass: the computation of its gradient, recorded,
    with its values named as in the chain rule (:func:`name_backward`).

    Its output is the gradient with respect to ``wrt`` (one name, or a list of
    names; ``None``: every traced input); with several, their elements side
    by side, ``∇Loss``.  Draw ``build_graph(t.tape)`` (values only) to see
    the backward pass with a value on every node.

    Example:
        >>> import tracegraph as tg
        >>> def loss(w, x):
        ...     return tg.name((1.0 - tg.name(w * x, "y")) ** 2, "Loss")
        >>> t = trace_backward(loss, ["w", "x"], w=1.0, x=2.0)
        >>> t.value.tolist(), t.output_name
        ([4.0, 2.0], '∇Loss')
        >>> t = trace_backward(loss, "w", w=0.25, x=2.0)
        >>> t.value, t.output_name
        (-2.0, '∂Loss/∂w')
    """
    of: list[str] = []

    def named(**arguments: Any) -> Trace:
        inner = name_backward(_trace_nested(fn, arguments))
        of.append(inner.tape.output_name or "output")
        return inner

    named.traces_itself = True  # type: ignore[attr-defined]
    gradient = grad(named, wrt)
    tracer = Tracer()
    with tracer:
        arguments = {name: tracer.input(name, value) for name, value in inputs.items()}
        found = gradient(**arguments)
        if isinstance(found, dict) and len(found) == 1:
            found = next(iter(found.values()))
        if isinstance(found, dict):
            values = list(found.values())
            flat = np.stack(values) if not any(shape_of(plain_value(v)) for v in values) \
                else np.concatenate([np.reshape(value, (-1,)) for value in values])
            return tracer.finish(flat, name=f"∇{of[-1]}")
        return tracer.finish(found, name=f"∇{of[-1]}")


def _short_labels(tape: Tape) -> list[str | None]:
    """Each equation's name, or its expression when short and made of named parts."""
    labels: list[str | None] = []
    for eq in tape.equations:
        if eq.name is not None or eq.primitive is None:
            labels.append(eq.name)
            continue
        parts = [labels[x.index] if type(x) is Var else _constant_text(x) for x in eq.inputs]
        if any(part is None for part in parts):
            labels.append(None)
            continue
        expression = symbols_for(eq, [Label(p) for p in parts], Label("")).render(
            eq.primitive.display)
        labels.append(expression if len(expression) <= MAX_EXPRESSION_LABEL else None)
    return labels


def _constant_text(value: Any) -> str | None:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return format_number(value)
    return None


class Hessian:
    """Second derivatives of a scalar function at a point (from :func:`hessian`).

    Attributes:
        matrix: N×N over the chosen inputs, flattened in keyword order, C order.
        labels: one per row (``x``, ``w[0]``, ``W[1,2]``).
        gradient: the gradient, flat (length N).
        names: the inputs, in row order; ``shapes`` their shapes.
        value: the function's value.

    Example:
        >>> import tracegraph as tg
        >>> h = tg.hessian(lambda x, y: x ** 4 + y ** 4, x=0.0, y=0.0)
        >>> h.eigenvalues.tolist(), h.classify()
        ([0.0, 0.0], 'inconclusive')
    """

    def __init__(self, matrix: np.ndarray, gradient: np.ndarray, names: list[str],
                 shapes: list[tuple[int, ...]], value: float) -> None:
        self.matrix = matrix
        self.gradient = gradient
        self.names = names
        self.shapes = shapes
        self.value = value
        self.labels = [label for name, shape in zip(names, shapes)
                       for label in element_labels(name, shape)]

    @property
    def eigenvalues(self) -> np.ndarray:
        """The eigenvalues, ascending (the matrix is symmetric); NaN when an entry is NaN or
        infinite.

        Example:
            >>> import numpy as np, tracegraph as tg
            >>> h = tg.hessian(lambda x, y: np.sqrt(x) + y * y, x=0.0, y=0.0)  # √x: -inf at 0
            >>> h.eigenvalues.tolist()
            [nan, nan]
        """
        if not np.all(np.isfinite(self.matrix)):
            # LAPACK answers anything for such a matrix ([[nan, 0], [0, 2]] gave 0, 0).
            return np.full(len(self.matrix), np.nan)
        return np.linalg.eigvalsh((self.matrix + self.matrix.T) / 2.0)

    def block(self, a: str, b: str) -> np.ndarray:
        """∂²f/∂a∂b with shape ``a.shape + b.shape``.

        Example:
            >>> import numpy as np, tracegraph as tg
            >>> h = tg.hessian(lambda w, c: np.sum(w ** 2) * c, w=np.ones(2), c=3.0)
            >>> h.block("w", "w").tolist(), h.block("w", "c").tolist()
            ([[6.0, 0.0], [0.0, 6.0]], [2.0, 2.0])
        """
        rows, cols = self._span(a), self._span(b)
        shape_a, shape_b = self.shapes[self.names.index(a)], self.shapes[self.names.index(b)]
        return self.matrix[rows, cols].reshape(shape_a + shape_b)

    def _span(self, name: str) -> slice:
        if name not in self.names:
            raise KeyError(f"{name!r} is not a row of this Hessian; rows: {', '.join(self.names)}")
        start = 0
        for other, shape in zip(self.names, self.shapes):
            size = int(np.prod(shape, dtype=np.int64))
            if other == name:
                return slice(start, start + size)
            start += size
        raise AssertionError("unreachable")

    def classify(self, tol: float = 1e-8) -> str:
        """``"minimum"``, ``"maximum"``, ``"saddle point"``, ``"inconclusive"`` or
        ``"not a critical point"``.

        Not a critical point when ‖gradient‖₂ > tol; otherwise eigenvalues with
        |λ| ≤ tol·max(1, max|λ|) count as zero; all positive → minimum, all
        negative → maximum, both signs → saddle point (even with zeros), else
        inconclusive (a singular Hessian decides nothing).  A NaN or infinite gradient, or
        Hessian at a critical point, is an error: the test cannot tell anything there.

        Example:
            >>> import tracegraph as tg
            >>> tg.hessian(lambda x, y: x ** 3 - 3 * x * y ** 2, x=0.0, y=0.0).classify()
            'inconclusive'
        """
        if not (isinstance(tol, (int, float, np.integer, np.floating)) and tol >= 0):
            raise ValueError(f"classify: tol must be a number >= 0, got {tol!r}")
        self._refuse_non_finite(self.gradient, "the gradient", lambda i: f"∂/∂{self.labels[i]}")
        if float(np.linalg.norm(self.gradient)) > tol:
            return "not a critical point"
        size = len(self.labels)
        self._refuse_non_finite(self.matrix.ravel(), "the Hessian", lambda i: (
            f"∂²/∂{self.labels[i // size]}∂{self.labels[i % size]}"))
        eigenvalues = self.eigenvalues
        if eigenvalues.size == 0:
            return "inconclusive"
        zero = tol * max(1.0, float(np.max(np.abs(eigenvalues))))
        positive = bool(np.any(eigenvalues > zero))
        negative = bool(np.any(eigenvalues < -zero))
        if positive and negative:
            return "saddle point"
        if np.all(np.abs(eigenvalues) > zero):
            return "minimum" if positive else "maximum"
        return "inconclusive"

    @staticmethod
    def _refuse_non_finite(values: np.ndarray, what: str, entry: Callable[[int], str]) -> None:
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            # With NaN every comparison is False: the test would call the point critical
            # and "inconclusive", or an infinite slope "not critical", with no basis.
            shown = ", ".join(f"{entry(i)} = {format_number(values[i])}" for i in bad[:3])
            raise TracegraphError(
                f"cannot classify this point: {what} is not finite ({shown}"
                + (", ..." if bad.size > 3 else "") + "), so the second-derivative test "
                "says nothing here",
                hint="the function has no (second) derivative at this point (a sqrt or log "
                "at 0 or below, a division by 0): look at it near the point, or move the point")

    def __repr__(self) -> str:
        return f"<Hessian {len(self.labels)}×{len(self.labels)} over {', '.join(self.names)}>"


def element_labels(name: str, shape: tuple[int, ...]) -> list[str]:
    """Row labels of one input: ``x`` for a scalar, ``w[0]``, ``W[1,2]`` for arrays.

    Example:
        >>> element_labels("W", (2, 2))
        ['W[0,0]', 'W[0,1]', 'W[1,0]', 'W[1,1]']
    """
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, index))}]" for index in np.ndindex(*shape)]


def _gradient_trace(fn: Callable[..., Any], wrt: Wrt, inputs: Mapping[str, Any]
                    ) -> tuple[Trace, list[str], list[Var | Any]]:
    """Trace the gradient of ``fn`` (an outer trace recording the backward pass)."""
    outer = Tracer(nested=True)
    with outer:
        arguments = {name: outer.input(name, value) for name, value in inputs.items()}
        inner = _trace_nested(fn, arguments)
        available = [n for n in inner.tape.inputs if n in outer.tape.inputs]
        if not available:
            raise NotDifferentiatedError(
                f"tg.hessian: nothing to differentiate: none of the inputs "
                f"({', '.join(inputs) or 'none given'}) is a float or float array",
                hint="pass numbers as floats or numpy arrays (np.array([1.0, 2.0]), not a "
                "list); tg.constant values and ints are not differentiated")
        names, _ = _chosen(wrt, available, "wrt", inputs)
        names = [n for n in outer.tape.inputs if n in names]  # keyword order
        grads = inner.grads
        flat = np.concatenate([np.reshape(grads[n], (-1,)) for n in names]) if names \
            else np.zeros(0)
        traced = outer.finish(flat, name="gradient")
    return traced, names, [inner.value]


def hessian(fn: Callable[..., Any], wrt: Wrt = None, **inputs: Any) -> Hessian:
    """The Hessian of a scalar function at ``inputs`` (see :class:`Hessian`).

    One trace of the backward pass, then one reverse pass over it per row
    (N rows for N scalar parameters).

    Example:
        >>> import tracegraph as tg
        >>> h = tg.hessian(lambda x, y: (x - 1) ** 2 + (y + 2) ** 2, x=1.0, y=-2.0)
        >>> h.matrix.tolist(), h.labels, h.classify()
        ([[2.0, 0.0], [0.0, 2.0]], ['x', 'y'], 'minimum')
    """
    traced, names, values = _gradient_trace(fn, wrt, inputs)
    if _enclosing_traced(traced.value, traced.tape) or _enclosing_traced(values[0], traced.tape):
        # The matrix is plain numbers: inside another trace (tg.grad of a function that
        # calls tg.hessian) its dependence on the enclosing trace's values would be lost
        # and its derivative silently 0.
        raise TracegraphError(
            "tg.hessian of values traced by an enclosing trace (tg.grad, tg.trace, "
            "tg.hessian of a function that calls tg.hessian): its matrix is plain numbers, "
            "so its derivative would silently be 0",
            hint="compose tg.grad (tg.grad(tg.grad(f, 'x'), 'x')) or use tg.hvp, whose "
            "results are differentiated through")
    tape = traced.tape
    gradient = np.reshape(np.asarray(plain_value(traced.value), dtype=float), (-1,))
    shapes = [shape_of(plain_value(tape.equations[tape.inputs[n]].value)) for n in names]
    size = gradient.size
    matrix = np.zeros((size, size))
    if tape.output is not None:
        keep = [tape.inputs[n] for n in names]
        for row in range(size):
            seed = np.zeros(size)
            seed[row] = 1.0
            adjoints, _ = autodiff.gradients(tape.equations, tape.output, seed, keep=keep)
            matrix[row] = np.concatenate([
                np.ravel(np.zeros(shape) if adjoints[i] is None else
                         np.asarray(plain_value(adjoints[i]), dtype=float))
                for i, shape in zip(keep, shapes)])
    return Hessian(matrix, gradient, names, shapes, float(np.asarray(plain_value(values[0]))))


def _enclosing_traced(value: Any, tape: Tape) -> bool:
    """Whether ``value`` (of ``tape``, or plain) is traced by a trace enclosing ``tape``."""
    while type(value) is Var and value.tape is tape:
        value = value.value
    return type(value) is Var


def hvp(fn: Callable[..., Any], v: Mapping[str, Any], /, **inputs: Any) -> dict[str, Any]:
    """The Hessian-vector product H·v without forming H (structure like ``t.grads``).

    ``v`` maps input names to directions; names missing from ``v`` are zero
    directions.  The result has an entry for every traced input.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> tg.hvp(lambda x, y: x ** 2 * y, {"x": 1.0}, x=3.0, y=2.0)
        {'x': 4.0, 'y': 6.0}
    """
    directions = checked_directions(v, inputs, "tg.hvp")

    def directional(**arguments: Any) -> Any:
        grads = grad(fn)(**arguments)
        total = 0.0
        for name, direction in directions.items():
            if name not in grads:
                raise TracegraphError(f"tg.hvp: {name!r} is not a traced input of the function",
                                      hint=f"traced inputs: {', '.join(grads)}")
            total = total + np.sum(grads[name] * direction)
        return total

    traced = _trace_outer(directional, inputs)
    return traced.grads


def checked_directions(directions: Any, inputs: Mapping[str, Any], what: str
                       ) -> dict[str, Any]:
    """``directions`` (name → direction, like ``t.grads``) as float arrays shaped like
    their inputs, or a clear error: not a dict, an unknown name, a ``tg.constant`` (never
    differentiated), a complex or mis-shaped direction.

    Example:
        >>> import numpy as np
        >>> checked_directions({"x": 1.0}, {"x": np.zeros(2), "y": 3.0}, "tg.hvp")
        {'x': array([1., 1.])}
    """
    if not isinstance(directions, Mapping):
        raise TracegraphError(
            f"{what}: the directions must be a dict from input name to direction (like "
            f"t.grads), got {type(directions).__name__}",
            hint=f"e.g. {what}(f, {{'x': 1.0}}, x=2.0)")
    checked = {}
    for name, direction in directions.items():
        if name not in inputs:
            raise TracegraphError(
                f"{what}: {name!r} is not an input of the function; inputs: "
                f"{', '.join(inputs) or '(none)'}")
        if is_constant(inputs[name]):
            raise TracegraphError(
                f"{what}: {name!r} is a tg.constant, which is never differentiated, so it "
                "has no direction", hint=f"drop {name!r} from the directions, or pass it "
                "without tg.constant to differentiate it")
        array = np.asarray(plain_value(direction))
        if array.dtype.kind not in "fiub":
            raise TracegraphError(
                f"{what}: the direction for {name!r} must hold real numbers, got "
                f"{array.dtype.name} {direction!r:.60}")
        shape = shape_of(plain_value(unwrap_constant(inputs[name])))
        try:
            if type(direction) is Var:
                # a direction computed by an enclosing trace stays traced: H·v and J·t
                # are differentiated through it
                np.broadcast_to(array, shape)
                checked[name] = direction if array.shape == shape else (
                    np.broadcast_to(direction, shape) if shape else np.reshape(direction, ()))
            else:
                checked[name] = np.broadcast_to(array.astype(float), shape).copy() if shape \
                    else float(array)
        except (ValueError, TypeError):
            raise TracegraphError(
                f"{what}: the direction for {name!r} has shape {array.shape}, but {name!r} "
                f"has shape {shape}", hint="give one number per element of the input "
                "(or one number for all)") from None
    return checked


def _trace_outer(fn: Callable[..., Any], inputs: Mapping[str, Any]) -> Trace:
    tracer = Tracer(nested=True)
    with tracer:
        arguments = {name: tracer.input(name, value) for name, value in inputs.items()}
        return tracer.finish(fn(**arguments), name=_name(fn))


def jvp(fn: Callable[..., Any], tangents: Mapping[str, Any], /, **inputs: Any
        ) -> tuple[Any, Any]:
    """``(value, J·t)``: the function's value and its directional derivative, by forward mode.

    Works for array outputs too.  Each equation's tangent is pushed forward
    from its inputs' tangents (:func:`tangents`), so the per-node tangents can
    be drawn (``show="tangent"``) and compared with reverse mode's adjoints.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> value, slope = tg.jvp(lambda x: np.sin(x) * 2.0, {"x": np.ones(2)}, x=np.zeros(2))
        >>> value.tolist(), slope.tolist()
        ([0.0, 0.0], [2.0, 2.0])
    """
    tangents = checked_directions(tangents, inputs, "tg.jvp")
    traced = _trace_outer(fn, inputs)
    tape = traced.tape
    pushed = tangents_of(tape, tangents)
    if tape.output is None:
        return traced.value, (0.0 if not shape_of(traced.value) else np.zeros(
            shape_of(traced.value)))
    out_tangent = pushed[tape.output]
    if out_tangent is None:
        out_tangent = 0.0 if not shape_of(traced.value) else np.zeros(shape_of(traced.value))
    if type(out_tangent) is Var or shape_of(traced.value):
        return traced.value, out_tangent  # traced: tg.jvp inside a trace (tg.grad of it)
    return traced.value, float(out_tangent)


def tangents_of(tape: Tape, tangents: Mapping[str, Any]) -> list[Any]:
    """Forward mode over a finished tape: the tangent of every equation given the inputs'.

    An equation's tangent is Σᵢ Jᵢ·tᵢ over its traced inputs.  Jᵢ·tᵢ comes
    from the VJP, which is linear in its upstream gradient: it is the
    gradient of ⟨vjpᵢ(u), tᵢ⟩ with respect to u (its transpose), taken by a
    small trace of the VJP.  Inputs without a tangent have tangent None (zero).

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x, y: x * y, x=2.0, y=5.0)
        >>> tangents_of(t.tape, {"x": 1.0})
        [1.0, None, 5.0]
    """
    unknown = [name for name in tangents if name not in tape.inputs]
    if unknown:
        raise TracegraphError(f"tangents for {', '.join(map(repr, unknown))}, which are not "
                              f"traced inputs; traced inputs: {', '.join(tape.inputs)}")
    pushed: list[Any] = [None] * len(tape.equations)
    for name, tangent in tangents.items():
        index = tape.inputs[name]
        shape = shape_of(plain_value(tape.equations[index].value))
        if type(tangent) is Var:
            pushed[index] = tangent if shape_of(tangent) == shape else np.broadcast_to(
                tangent, shape)
        else:
            pushed[index] = float(tangent) if not shape else np.broadcast_to(
                np.asarray(tangent, dtype=float), shape).copy()
    for eq in tape.equations:
        if eq.primitive is None:
            continue
        total = None
        for position, x in enumerate(eq.inputs):
            if type(x) is not Var or pushed[x.index] is None:
                continue
            if not eq.primitive.has_gradient(position):
                continue
            term = _push(eq, position, pushed[x.index])
            total = term if total is None else total + term
        pushed[eq.index] = total
    return pushed


def tangent_graph(traced: Trace, tangents: Mapping[str, Any]) -> nx.MultiDiGraph:
    """The trace's graph with every node's tangent (forward mode, pushed from the inputs'
    ``tangents``) next to its gradient (reverse mode): draw it with ``show="tangent"``.

    With one input's tangent set to 1, each node's tangent is d(node)/d(input):
    forward mode answers "how does every node move when x moves", one input at
    a time; reverse mode answers "how does the output move with every node",
    all inputs at once (seed 001: why backpropagation is the efficient one).

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda w, x: tg.name(w * x, "G") + w, w=0.5, x=2.0)
        >>> g = tangent_graph(t, {"w": 1.0})
        >>> g.nodes["G"]["tangent"], g.nodes["output"]["tangent"], t.grads["w"]
        (2.0, 3.0, 3.0)
    """
    tape = traced.tape
    return build_graph(tape, traced.adjoints(), tangents=tangents_of(tape, tangents),
                       tangent_seed=tangents)


def _push(eq: Var, position: int, tangent: Any) -> Any:
    """Jᵢ·t for input ``position`` of ``eq`` by transposing its VJP (see :func:`tangents_of`)."""
    out_shape = shape_of(plain_value(eq.value))
    # On a nested tape (tg.jvp inside tg.grad) the values are traced by the enclosing
    # trace, and so is the tangent computed from them: forward mode differentiated again.
    values = autodiff.input_values(eq)
    if type(tangent) is float and type(values[position]) is float and not out_shape:
        # Between numbers J is 1×1, its own transpose: J·t is the VJP of t (no probe trace).
        return autodiff.edge_contribution(eq, position, tangent, values)
    probe = Tracer(nested=True)
    with probe:
        u = probe.input("u", 0.0 if not out_shape else np.zeros(out_shape))
        local = autodiff.edge_contribution(eq, position, u, values)
        weighted = np.sum(local * tangent)
        traced = probe.finish(weighted)
    result = traced.grads["u"]
    return result


__all__ = ["CLASSIFICATIONS", "Hessian", "element_labels", "grad", "hessian", "hvp", "jvp",
           "name_backward", "tangent_graph", "tangents_of", "trace_backward"]
