"""True derivatives between two values of a record: what a first-order claim should equal.

:class:`Derivatives` reads them off the record by reverse passes
(:func:`tracegraph.autodiff.derivative`): the total derivative through every
path, other inputs held fixed; the claim's shape says which form is meant
(gradient, elementwise, full Jacobian).

Example:
    >>> import tracegraph as tg
    >>> t = tg.trace(lambda x: x * x * x, x=2.0)
    >>> Derivatives(t.tape).scalar(t.tape.output, 0)
    12.0
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import autodiff
from ..core import shape_of
from .compare import precision_of

MAX_JACOBIAN_ROWS = 4096
"""Jacobians (and second-derivative tensors) with more rows are not computed."""


class ShapeProblem(Exception):
    """The claim's shape cannot be this derivative's (the message says which shapes fit).

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda x: np.sum(x * x), x=np.ones(3))
        >>> try:
        ...     Derivatives(t.tape).true_value(t.tape.output, 0, (2,), ("L", "x"))
        ... except ShapeProblem as problem:
        ...     print(problem)
        dL/dx has the shape of x (shape (3,)), but the claim has shape (2,)
    """


class Derivatives:
    """True derivatives between nodes of one record, by reverse passes over it.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: x * x * x, x=2.0)
        >>> Derivatives(t.tape).scalar(t.tape.output, 0)
        12.0
    """

    def __init__(self, tape: Any) -> None:
        self.nodes = tape.equations
        # One unit-seed pass per `of` serves every claim d of/d anything.
        self._unit_adjoints: dict[int, list[Any]] = {}
        self._strong_adjoints: dict[int, list[Any]] = {}

    def scalar(self, of: int, wrt: int) -> Any:
        """d of / d wrt for a scalar ``of``, shaped like ``wrt`` (a float for a scalar)."""
        adjoint = None
        if wrt <= of:
            if of not in self._unit_adjoints:
                self._unit_adjoints[of] = autodiff.backward(self.nodes, of, 1.0)
            adjoint = self._unit_adjoints[of][wrt]
            if adjoint is not None and not autodiff.is_finite(adjoint):
                # NaN/inf that only met a zero upstream gradient is not in the derivative
                # (see autodiff.backward's strong_zero), as the Trace's gradients say
                if of not in self._strong_adjoints:
                    self._strong_adjoints[of] = autodiff.backward(self.nodes, of, 1.0,
                                                                  strong_zero=True)
                adjoint = self._strong_adjoints[of][wrt]
        return self._plain(autodiff.as_derivative(adjoint, self.nodes[wrt].value), wrt)

    def seeded(self, of: int, wrt: int, seed: np.ndarray) -> Any:
        """d(seed·of)/d wrt, shaped like ``wrt``."""
        return self._plain(autodiff.derivative(self.nodes, of, wrt, seed), wrt)

    def _plain(self, derivative: Any, wrt: int) -> Any:
        # Claims are graded in plain floats, whatever the node's own type (np.float64 ...).
        if not shape_of(self.nodes[wrt].value):
            return float(np.asarray(derivative).reshape(()))
        return np.asarray(derivative, dtype=float)

    def true_value(self, of: int, wrt: int, claim_shape: tuple[int, ...],
                   names: tuple[str, str]) -> tuple[Any, str]:
        """The derivative the claim should equal, and its form; raises :class:`ShapeProblem`."""
        of_shape = shape_of(self.nodes[of].value)
        wrt_shape = shape_of(self.nodes[wrt].value)
        of_name, wrt_name = names
        # A claim in a different shape that holds the same values (compatible_shapes) is
        # compared in the derivative's shape; the grader then calls it a shape problem.
        if not of_shape:
            if claim_shape not in ((), wrt_shape) and not compatible_shapes(claim_shape,
                                                                            wrt_shape):
                raise ShapeProblem(
                    f"d{of_name}/d{wrt_name} has the shape of {wrt_name} "
                    f"({shape_words(wrt_shape)}), but the claim has shape {claim_shape}")
            return self.scalar(of, wrt), "gradient"
        jacobian_shape = of_shape + wrt_shape
        if claim_shape == jacobian_shape:
            return self.jacobian(of, wrt), "jacobian"
        if of_shape == wrt_shape and (claim_shape in ((), wrt_shape)
                                      or compatible_shapes(claim_shape, wrt_shape)):
            return self.diagonal(of, wrt, names), "elementwise"
        if claim_shape == () or compatible_shapes(claim_shape, jacobian_shape):
            return self.jacobian(of, wrt), "jacobian"
        expected = (f"shape {wrt_shape} (elementwise) or {jacobian_shape} (the full Jacobian)"
                    if of_shape == wrt_shape else f"the Jacobian's shape {jacobian_shape}")
        raise ShapeProblem(f"d{of_name}/d{wrt_name} should have {expected}, but the claim "
                           f"has shape {claim_shape}")

    def jacobian(self, of: int, wrt: int) -> np.ndarray:
        """The full Jacobian d of / d wrt, shape ``of.shape + wrt.shape``."""
        of_shape = shape_of(self.nodes[of].value)
        wrt_shape = shape_of(self.nodes[wrt].value)
        rows = math.prod(of_shape)
        if rows > MAX_JACOBIAN_ROWS:
            raise ShapeProblem(
                f"the Jacobian has {rows:,} rows, too many to compute; claim an elementwise "
                "derivative or the gradient of a scalar instead")
        jacobian = np.empty(of_shape + wrt_shape)
        for row in np.ndindex(*of_shape):
            seed = np.zeros(of_shape)
            seed[row] = 1.0
            jacobian[row] = self.seeded(of, wrt, seed)
        return jacobian

    def diagonal(self, of: int, wrt: int, names: tuple[str, str]) -> np.ndarray:
        """dof[i]/dwrt[i] for an elementwise relation (diagonal Jacobian).

        One pass with a seed of ones gives the column sums; a second pass with
        a random seed v tells a diagonal Jacobian (J^T v = (J^T 1)·v) from a
        full one.
        """
        shape = shape_of(self.nodes[of].value)
        sums = self.seeded(of, wrt, np.ones(shape))
        probe = np.random.default_rng(0).uniform(0.5, 1.5, size=shape)
        mixed = self.seeded(of, wrt, probe)
        if not np.allclose(mixed, sums * probe, rtol=1e-9, atol=1e-12 * (1 + np.abs(sums).max())):
            raise ShapeProblem(
                f"{names[0]} is not an elementwise function of {names[1]} (an element depends "
                f"on several elements of {names[1]}); claim the full Jacobian, shape "
                f"{shape + shape}")
        return sums


@contextlib.contextmanager
def in_float64(tape: Any) -> Iterator[Derivatives | None]:
    """The record recomputed from its float32/float16 inputs widened to float64, read as
    :class:`Derivatives` inside the block (``None`` when no input is of low precision, or
    the widened run would take another branch); the record's own values come back after.

    A rule's float32 derivative can lose every digit (``1 − tanh(x)²`` at x = 9 cancels to
    one unit of float32), so a claim computed more carefully than the rule is not wrong
    for differing from it: the grader compares it with this one too.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda x: np.tanh(x), x=np.float32(9.0))
        >>> float(Derivatives(t.tape).scalar(t.tape.output, 0))            # float32's
        1.1920928955078125e-07
        >>> with in_float64(t.tape) as wide:
        ...     print(f"{wide.scalar(t.tape.output, 0):.4g}")
        6.092e-08
        >>> float(t.tape.equations[t.tape.output].value) == float(np.tanh(np.float32(9.0)))
        True
    """
    equations = tape.equations
    widened = {eq.index: np.asarray(eq.value, dtype=np.float64) if np.ndim(eq.value)
               else np.float64(eq.value) for eq in equations
               if eq.primitive is None and precision_of(eq.value) != "float64"}
    if not widened:
        yield None
        return
    saved = [eq.value for eq in equations]
    try:
        same_branches = tape.replay(widened)
        yield Derivatives(tape) if same_branches else None
    finally:
        for eq, value in zip(equations, saved):
            eq.value = value


def compatible_shapes(claim: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    """True for a *different* shape that can hold the same values: size-1 axes added or
    dropped (``(6,)`` for ``(1, 6)``), or one that broadcasts to ``expected``.  A
    number (shape ``()``) is not counted: it stands for every element.

    Example:
        >>> compatible_shapes((6,), (1, 6)), compatible_shapes((3,), (2, 3))
        (True, True)
        >>> compatible_shapes((2,), (3,)), compatible_shapes((), (3,))
        (False, False)
    """
    if claim == expected or claim == ():
        return False
    if tuple(n for n in claim if n != 1) == tuple(n for n in expected if n != 1):
        return True
    try:
        return np.broadcast_shapes(claim, expected) == expected
    except ValueError:
        return False


def shape_words(shape: tuple[int, ...]) -> str:
    """A shape as the words of a message: ``()`` is "a number".

    Example:
        >>> shape_words(()), shape_words((2, 3))
        ('a number', 'shape (2, 3)')
    """
    return "a number" if not shape else f"shape {shape}"
