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

from .core import Var, shape_of, unbroadcast

_ndarray = np.ndarray


def _fit(contribution: Any, parent_value: Any) -> Any:
    """Give a contribution its parent's shape (undo broadcasting)."""
    if type(contribution) is float and type(parent_value) is float:
        return contribution
    parent_shape = shape_of(parent_value)
    shape = shape_of(contribution)
    if shape != parent_shape:
        return unbroadcast(contribution, parent_shape)
    return contribution


def input_values(node: Var) -> list[Any]:
    """The plain values of a node's inputs (traced or constant), in argument order."""
    return [x.value if type(x) is Var else x for x in node._inputs]


def edge_contribution(node: Var, position: int, upstream: Any, values: Sequence[Any]) -> Any:
    """upstream × local for input ``position`` of ``node``, shaped like that input.

    Example:
        >>> import tracegraph as tg
        >>> from tracegraph.core import Tape
        >>> tape = Tape(); x = tape.leaf("x", 3.0); y = x * x
        >>> edge_contribution(y, 0, 1.0, [3.0, 3.0])
        3.0
    """
    try:
        return _call_vjp(node, position, upstream, node.value, values)
    except (ZeroDivisionError, OverflowError):
        # Python floats raise where numpy gives inf/nan (sqrt'(0) = 1/(2·0)); numpy
        # scalars make the result a flagged inf/nan instead of a crash.
        return _call_vjp(node, position, _as_numpy(upstream), _as_numpy(node.value),
                         [_as_numpy(v) for v in values])


def _call_vjp(node: Var, position: int, upstream: Any, out: Any, values: Sequence[Any]) -> Any:
    prim = node._prim
    vjp = prim.vjp(position)
    params = node._params
    if prim.variadic:
        contribution = vjp(upstream, out, *values, position=position, **(params or {}))
    elif params:
        contribution = vjp(upstream, out, *values, **params)
    else:
        contribution = vjp(upstream, out, *values)
    return _fit(contribution, values[position])


def backward(nodes: Sequence[Var], output_index: int, seed: Any,
             keep: Iterable[int] | None = None) -> list[Any]:
    """Adjoints d(output)/d(node) for every node up to ``output_index``.

    ``seed`` is the gradient of the final quantity with respect to the
    output (1.0 for a scalar loss).  Entries stay ``None`` for nodes that do
    not influence the output.  With ``keep`` (tape positions, usually the
    inputs), every other operation's adjoint is released once it has been
    passed on to its inputs, so intermediate gradients do not pile up.

    Example:
        >>> from tracegraph.core import Tape
        >>> tape = Tape(); x = tape.leaf("x", 2.0); y = x * 3.0
        >>> backward(tape.nodes, y._index, 1.0)
        [3.0, 1.0]
    """
    adjoints: list[Any] = [None] * (output_index + 1)
    adjoints[output_index] = seed
    kept = None if keep is None else frozenset(keep)
    for i in range(output_index, -1, -1):
        g = adjoints[i]
        if g is None:
            continue
        node = nodes[i]
        prim = node._prim
        if prim is None:
            continue
        if kept is not None and i not in kept:
            # Every consumer of node i comes later on the tape and has been processed.
            adjoints[i] = None
        inputs = node._inputs
        out = node.value
        params = node._params
        try:
            if len(inputs) == 1 and not prim.variadic:
                # Fast path: one traced input (the scalar chains of the benchmarks).
                x = inputs[0]
                xv = x.value
                vjp = prim.vjps[0]
                c = vjp(g, out, xv, **params) if params else vjp(g, out, xv)
                if type(c) is not float or type(xv) is not float:
                    c = _fit(c, xv)
                j = x._index
                a = adjoints[j]
                adjoints[j] = c if a is None else a + c
                continue
            if len(inputs) == 2 and params is None and not prim.variadic:
                # Fast path: binary operators without params.  Both contributions are
                # computed before either is added, so a failure leaves nothing half done.
                a, b = inputs
                a_traced = type(a) is Var
                b_traced = type(b) is Var
                av = a.value if a_traced else a
                bv = b.value if b_traced else b
                vjp_a, vjp_b = prim.vjps
                ca = vjp_a(g, out, av, bv) if a_traced and vjp_a is not None else None
                cb = vjp_b(g, out, av, bv) if b_traced and vjp_b is not None else None
                if ca is not None:
                    if type(ca) is not float or type(av) is not float:
                        ca = _fit(ca, av)
                    j = a._index
                    acc = adjoints[j]
                    adjoints[j] = ca if acc is None else acc + ca
                if cb is not None:
                    if type(cb) is not float or type(bv) is not float:
                        cb = _fit(cb, bv)
                    j = b._index
                    acc = adjoints[j]
                    adjoints[j] = cb if acc is None else acc + cb
                continue
            contributions = _contributions(node, g, _input_values(node))
        except (ZeroDivisionError, OverflowError):
            # See edge_contribution: redo this node with numpy scalars (inf/nan, flagged).
            contributions = _contributions(node, g, _input_values(node))
        for j, c in contributions:
            a = adjoints[j]
            adjoints[j] = c if a is None else a + c
    return adjoints


def _as_numpy(value: Any) -> Any:
    return np.float64(value) if type(value) is float else value


def _input_values(node: Var) -> list[Any]:
    return [x.value if type(x) is Var else x for x in node._inputs]


def _contributions(node: Var, g: Any, values: list[Any]) -> list[tuple[int, Any]]:
    """(tape index, upstream × local) for every traced input of ``node``."""
    prim = node._prim
    found = []
    for position, x in enumerate(node._inputs):
        if type(x) is Var and prim.vjp(position) is not None:
            found.append((x._index, edge_contribution(node, position, g, values)))
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
    if type(value) is float:
        return math.isfinite(value)
    array = np.asarray(value)
    if array.dtype.kind not in "fc":
        return True
    # A sum is NaN/inf whenever an element is; only an overflowing sum of huge
    # finite values needs the exact (slower) elementwise check.
    if math.isfinite(np.add.reduce(array, axis=None)):
        return True
    return bool(np.isfinite(array).all())


def all_finite(values: Iterable[Any]) -> bool:
    """True when none of ``values`` (numbers, arrays or None) holds NaN or inf.

    Example:
        >>> all_finite([1.0, None, 2.0]), all_finite([1.0, float("nan")])
        (True, False)
    """
    scalars = []
    for value in values:
        if type(value) is float:
            scalars.append(value)
        elif value is not None and not is_finite(value):
            return False
    # One C-level sum for the scalars (a scalar program has thousands of inputs):
    # NaN and inf propagate through it, and an overflow to inf is rechecked exactly.
    total = sum(scalars)
    return total - total == 0.0 or all(math.isfinite(v) for v in scalars)


def _kind(value: Any) -> str:
    array = np.asarray(value)
    has_nan = bool(np.isnan(array).any())
    has_inf = bool(np.isinf(array).any())
    return " and ".join(k for k, present in (("NaN", has_nan), ("inf", has_inf)) if present)


def find_nonfinite(nodes: Sequence[Var], values: Sequence[Any], phase: str,
                   limit: int | None = None) -> list[NonFinite]:
    """Nodes whose entry in ``values`` is not finite, in tape order.

    For the forward pass the first one is where NaN/inf was *produced*
    (later ones usually just inherit it).
    """
    found: list[NonFinite] = []
    for index, value in enumerate(values):
        if type(value) is float:
            if value - value == 0.0:  # false exactly for NaN and ±inf
                continue
        elif value is None or is_finite(value):
            continue
        node = nodes[index]
        found.append(NonFinite(phase, index, node.label, node.op, _kind(value),
                               node.expression()))
        if limit is not None and len(found) >= limit:
            break
    return found
