"""The one-sided derivatives at a kink: which claims are defensible there.

Where a node on the path sits exactly at a non-differentiable point (``|x|`` at
0, a tie in ``max``), the derivative is not defined, and tracegraph's convention
(ties share) is one defensible value among others: a course may teach relu'(0) = 0
or 1.  But not every value is defensible.  A claimed element is accepted when it
lies between the derivative from the left and from the right of that element
(difference quotients of the recorded equations between the two nodes, recomputed
with each element moved a small step either way), and, for the gradient of a
scalar, when the claim's sum over those elements lies between the one-sided slopes
along all of them at once (two tied maxima moved together stay tied, so their
shares must add up to the whole).

Example:
    >>> import numpy as np, tracegraph as tg
    >>> t = tg.trace(lambda x: np.abs(x) + 2 * x - 500 * x ** 2, x=0.0)
    >>> low, high = OneSided(t.tape, t.tape.output, t.tape.inputs["x"]).bounds("gradient", ())
    >>> round(low, 9), round(high, 9)
    (1.0, 3.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core import Tape, Var, plain_value, shape_of

MAX_PROBED = 2_000
"""Elements probed at most; a claim with more elements off the convention is not accepted
on the strength of a sample."""


class OneSided:
    """Difference quotients of one node with respect to another, from either side.

    Each slope is extrapolated from two steps (Richardson: 2·D(h/2) − D(h)), so the
    curvature of a smooth piece does not widen or shift it; the step follows the size of
    the elements moved, not of the whole array.
    """

    def __init__(self, tape: Tape, of: int, wrt: int) -> None:
        self.tape = tape
        self.nodes = tape.equations
        self.of, self.wrt = of, wrt
        self.start = plain_value(self.nodes[wrt].value)
        self.wrt_shape = shape_of(self.start)
        self.of_shape = shape_of(plain_value(self.nodes[of].value))
        self.between = tape.between(wrt, of)[1:]

    def bounds(self, form: str, element: tuple[int, ...]) -> tuple[float, float]:
        """(low, high) of the derivative from either side for one element of the derivative
        in ``form`` (``gradient``, ``elementwise`` or ``jacobian``)."""
        if form == "jacobian":
            row, column = element[: len(self.of_shape)], element[len(self.of_shape):]
        elif form == "elementwise":
            row, column = element, element
        else:
            row, column = (), element
        direction = np.zeros(self.wrt_shape)
        direction[column] = 1.0
        return self._slopes(direction, row)

    def along(self, elements: Sequence[tuple[int, ...]]) -> tuple[float, float]:
        """(low, high) of the slope of a scalar ``of`` when the ``elements`` of ``wrt`` all
        move together (tied maxima moved together stay tied)."""
        direction = np.zeros(self.wrt_shape)
        for element in elements:
            direction[element] = 1.0
        return self._slopes(direction, ())

    def _slopes(self, direction: np.ndarray, row: tuple[int, ...]) -> tuple[float, float]:
        moved = np.abs(np.asarray(self.start, dtype=float)) * direction
        scale = max(1.0, float(np.max(np.nan_to_num(moved), initial=0.0)))
        step = 1e-6 * scale
        centre = self._value(self.start, row)
        sides = []
        for sign in (1.0, -1.0):
            near, far = (sign * (self._value(self._moved(sign * h * direction), row) - centre)
                         / h for h in (step / 2, step))
            sides.append(2.0 * near - far)
        return (min(sides), max(sides))

    def _moved(self, shift: np.ndarray) -> Any:
        value = np.asarray(self.start, dtype=float) + shift
        return float(value) if not self.wrt_shape else value

    def _value(self, value: Any, row: tuple[int, ...]) -> float:
        if self.of == self.wrt:
            return float(np.asarray(value, dtype=float)[row])
        values = {self.wrt: value}
        with np.errstate(all="ignore"):
            for index in self.between:
                node = self.nodes[index]
                args = [values.get(x.index, x.value) if type(x) is Var else x
                        for x in node.inputs]
                values[index] = node.primitive.impl(*args, **(node.params or {}))
        return float(np.asarray(plain_value(values[self.of]), dtype=float)[row])


def slopes_together(tape: Tape, of: int, inputs: Sequence[int]) -> tuple[float, float]:
    """(low, high) of the slope of the scalar node ``of`` when the scalar nodes ``inputs``
    all move together, from either side (Richardson-extrapolated, as :class:`OneSided`):
    tied numbers claimed one by one must add up to this.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda a, b: 3.0 * max(a, b), a=1.0, b=1.0)
        >>> [round(s, 6) for s in slopes_together(t.tape, t.tape.output, [0, 1])]
        [3.0, 3.0]
    """
    nodes = tape.equations
    start = {i: float(np.asarray(plain_value(nodes[i].value), dtype=float)) for i in inputs}
    between = sorted({k for i in inputs for k in tape.between(i, of)} - set(inputs))
    step = 1e-6 * max(1.0, max(abs(v) for v in start.values()))

    def value(shift: float) -> float:
        values: dict[int, Any] = {i: start[i] + shift for i in inputs}
        with np.errstate(all="ignore"):
            for index in between:
                node = nodes[index]
                args = [values.get(x.index, x.value) if type(x) is Var else x
                        for x in node.inputs]
                values[index] = node.primitive.impl(*args, **(node.params or {}))
        return float(np.asarray(plain_value(values.get(of, nodes[of].value)), dtype=float))

    centre = value(0.0)
    sides = []
    for sign in (1.0, -1.0):
        near, far = (sign * (value(sign * h) - centre) / h for h in (step / 2, step))
        sides.append(2.0 * near - far)
    return (min(sides), max(sides))
