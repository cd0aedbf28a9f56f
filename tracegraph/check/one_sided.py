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
    >>> t = tg.trace(lambda x: np.abs(x) + 2 * x, x=0.0)
    >>> bounds = OneSided(t.tape).bounds(t.tape.output, t.tape.inputs["x"], "gradient", [()])
    >>> [(round(lo, 6), round(hi, 6)) for lo, hi in bounds.elements]
    [(1.0, 3.0)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core import Tape, Var, plain_value, shape_of

MAX_PROBED = 2_000
"""Elements probed at most; a claim with more elements off the convention is not accepted
on the strength of a sample."""


@dataclass(frozen=True)
class Bounds:
    """``elements[k]``: (low, high) of the one-sided derivatives for the k-th probed
    element; ``together``: the same along all probed elements at once (gradient form
    only, else None)."""

    elements: list[tuple[float, float]]
    together: tuple[float, float] | None


class OneSided:
    """Difference quotients of one node with respect to another, from either side."""

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.nodes = tape.equations

    def bounds(self, of: int, wrt: int, form: str,
               elements: Sequence[tuple[int, ...]]) -> Bounds:
        """Bounds for the claim's ``elements`` (indices into the derivative's shape in
        ``form``: ``gradient``, ``elementwise`` or ``jacobian``)."""
        wrt_shape = shape_of(plain_value(self.nodes[wrt].value))
        of_shape = shape_of(plain_value(self.nodes[of].value))
        between = self.tape.between(wrt, of)[1:]
        found = []
        for element in elements:
            if form == "jacobian":
                row, column = element[: len(of_shape)], element[len(of_shape):]
            elif form == "elementwise":
                row, column = element, element
            else:
                row, column = (), element
            direction = np.zeros(wrt_shape)
            direction[column] = 1.0
            found.append(self._slopes(of, wrt, between, direction, row))
        together = None
        if form == "gradient" and len(elements) > 1:
            direction = np.zeros(wrt_shape)
            for element in elements:
                direction[element] = 1.0
            together = self._slopes(of, wrt, between, direction, ())
        return Bounds(found, together)

    def _slopes(self, of: int, wrt: int, between: list[int], direction: np.ndarray,
                row: tuple[int, ...]) -> tuple[float, float]:
        start = plain_value(self.nodes[wrt].value)
        scale = max(1.0, float(np.max(np.abs(start), initial=0.0)))
        step = 1e-7 * scale
        centre = self._value(of, wrt, between, start, row)
        shifted = np.asarray(start, dtype=float) + 0.0
        right = (self._value(of, wrt, between, _shape_like(shifted + step * direction, start),
                             row) - centre) / step
        left = (centre - self._value(of, wrt, between,
                                     _shape_like(shifted - step * direction, start), row)) / step
        return (min(left, right), max(left, right))

    def _value(self, of: int, wrt: int, between: list[int], value: Any,
               row: tuple[int, ...]) -> float:
        if of == wrt:
            return float(np.asarray(value, dtype=float)[row])
        values = {wrt: value}
        with np.errstate(all="ignore"):
            for index in between:
                node = self.nodes[index]
                args = [values.get(x.index, x.value) if type(x) is Var else x
                        for x in node.inputs]
                values[index] = node.primitive.impl(*args, **(node.params or {}))
        return float(np.asarray(plain_value(values[of]), dtype=float)[row])


def _shape_like(array: np.ndarray, like: Any) -> Any:
    return float(array) if not shape_of(like) else array
