"""Second derivatives of a record: what second-order claims and ``numeric_check(order=2)`` use.

A trace records first-order equations only.  To differentiate twice, the
part of the record between the chosen values and the result is *replayed*
(:func:`replay`) on a trace nested in another one (:func:`nested_gradient`):
the inner trace's values are themselves traced by the outer one, so its
backward pass - the rules' VJPs running on traced values - is recorded on
the outer trace, whose own backward pass gives the second derivatives.  No
finite differences are involved; control flow stays as recorded.

Example:
    >>> import tracegraph as tg
    >>> t = tg.trace(lambda x: x ** 3, x=2.0)
    >>> SecondDerivatives(t.tape).true_value(t.tape.output, (0, 0), (), ("y", "x", "x"))
    (12.0, 'second derivative')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import autodiff
from ..core import Tape, Var, activate, plain_value, shape_of
from .derivatives import (
    MAX_JACOBIAN_ROWS,
    Derivatives,
    ShapeProblem,
    compatible_shapes,
    shape_words,
)
from .names import derivative_text


def replay(tape: Tape, of: int, sources: Sequence[int]) -> Callable[..., Any]:
    """A function of new values for equations ``sources`` that recomputes equation ``of``.

    Only the equations on a path from a source to ``of`` are recomputed (with
    each primitive, so on traced values they are traced); everything else
    keeps its recorded value.  A source computed from another source is cut
    from it (the two are independent variables).

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x, y: x * y + y, x=2.0, y=3.0)
        >>> replay(t.tape, t.tape.output, [0])(10.0)
        33.0
    """
    equations = tape.equations
    on_path: set[int] = set()
    for source in sources:
        on_path.update(tape.between(source, of))
    path = sorted(on_path - set(sources))

    def recompute(*values: Any) -> Any:
        computed = dict(zip(sources, values))
        for index in path:
            eq = equations[index]
            args = [computed.get(x.index, plain_value(x.value)) if type(x) is Var else x
                    for x in eq.inputs]
            computed[index] = eq.primitive(*args, **(eq.params or {}))
        return computed.get(of, plain_value(equations[of].value))

    return recompute


@dataclass
class NestedGradient:
    """∂f/∂xₖ at a point, traced: ``gradients[k]`` is a value of ``outer`` (or a plain
    number when it does not depend on the point) and ``leaves[k]`` the outer input xₖ.

    Example:
        >>> g = nested_gradient(lambda x, y: x * x * y, [3.0, 2.0])   # ∇f = (2xy, x²)
        >>> g.value, [grad.value for grad in g.gradients]
        (18.0, [12.0, 9.0])
        >>> g.block(0, 0).tolist(), g.block(0, 1).tolist(), g.block(1, 1).tolist()
        (4.0, 6.0, 0.0)
    """

    outer: Tape
    leaves: list[Var]
    gradients: list[Any]
    value: Any

    def derivatives_of_gradient(self, k: int, seed: Any) -> list[Any]:
        """d(seed·∂f/∂xₖ)/dxⱼ for every j (one reverse pass), each shaped like xⱼ."""
        gradient = self.gradients[k]
        if type(gradient) is not Var or gradient.tape is not self.outer:
            return [autodiff.as_derivative(None, leaf.value) for leaf in self.leaves]
        adjoint = autodiff.backward(self.outer.equations, gradient.index, seed)
        return [autodiff.as_derivative(adjoint[leaf.index] if leaf.index < len(adjoint)
                                       else None, leaf.value) for leaf in self.leaves]

    def derivative_of_gradient(self, k: int, j: int, seed: Any) -> Any:
        """d(seed·∂f/∂xₖ)/dxⱼ, shaped like xⱼ."""
        return self.derivatives_of_gradient(k, seed)[j]

    def block(self, k: int, j: int) -> np.ndarray:
        """∂²f/∂xₖ∂xⱼ, shape ``xₖ.shape + xⱼ.shape``."""
        shape_k = shape_of(self.leaves[k].value)
        shape_j = shape_of(self.leaves[j].value)
        out = np.zeros(shape_k + shape_j)
        for row in np.ndindex(*shape_k):
            seed: Any = 1.0
            if shape_k:
                seed = np.zeros(shape_k)
                seed[row] = 1.0
            out[row] = np.asarray(self.derivative_of_gradient(k, j, seed), dtype=float)
        return out


def nested_gradient(fn: Callable[..., Any], point: Sequence[Any], seed: Any = None
                    ) -> NestedGradient:
    """Trace ``fn(*point)`` on a trace nested in another and differentiate it there.

    ``seed`` weights an array result (default 1 for a scalar, ones for an array).

    Example:
        >>> g = nested_gradient(lambda x: x * x * x, [2.0])
        >>> g.gradients[0].value, g.block(0, 0).tolist()
        (12.0, 12.0)
    """
    outer = Tape()
    with activate(outer):
        leaves = [outer.leaf(f"x{k}", _leaf_value(v)) for k, v in enumerate(point)]
        for leaf in leaves:
            outer.declare_input(leaf.name, leaf)
        inner = Tape(parent=outer)
        with activate(inner):
            inner_leaves = [inner.leaf(f"x{k}", leaf) for k, leaf in enumerate(leaves)]
            out = fn(*inner_leaves)
        if type(out) is not Var or out.tape is not inner:
            return NestedGradient(outer, leaves, [None] * len(leaves), plain_value(out))
        shape = shape_of(plain_value(out.value))
        if seed is None:
            seed = 1.0 if not shape else np.ones(shape)
        adjoints = autodiff.backward(inner.equations, out.index, seed)
    gradients = [adjoints[leaf.index] if leaf.index < len(adjoints) else None
                 for leaf in inner_leaves]
    return NestedGradient(outer, leaves, gradients, plain_value(out.value))


def plain_gradient(fn: Callable[..., Any], point: Sequence[Any], seed: Any = None
                   ) -> list[Any]:
    """∂(seed·fn)/∂xₖ at a point, as plain numbers (one trace, first-order rules only).

    Example:
        >>> plain_gradient(lambda x, y: x * y, [2.0, 5.0])
        [5.0, 2.0]
    """
    tape = Tape()
    with activate(tape):
        leaves = [tape.leaf(f"x{k}", _leaf_value(v)) for k, v in enumerate(point)]
        out = fn(*leaves)
    if type(out) is not Var or out.tape is not tape:
        return [autodiff.as_derivative(None, leaf.value) for leaf in leaves]
    shape = shape_of(out.value)
    if seed is None:
        seed = 1.0 if not shape else np.ones(shape)
    with np.errstate(all="ignore"):
        adjoints = autodiff.backward(tape.equations, out.index, seed)
    return [autodiff.as_derivative(adjoints[leaf.index] if leaf.index < len(adjoints) else None,
                                   leaf.value) for leaf in leaves]


def _leaf_value(value: Any) -> Any:
    value = plain_value(value)
    if isinstance(value, np.ndarray):
        return value.astype(float) if value.dtype.kind != "f" else value
    if isinstance(value, np.floating):
        # a moved number in float64 (differences.moved_number): a Python float next to
        # the float32 values of the file would compute in float32 again
        return np.float64(value)
    return float(value)


class SecondDerivatives:
    """True second derivatives between values of one record: ∂²Y/∂X² and ∂²Y/∂X∂Z.

    X and Z are treated as independent variables: the record between them and
    Y is replayed with their values as inputs (if one is computed from the
    other, that path is cut), everything else held at its recorded value.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda w: np.sum(w ** 3), w=np.array([1.0, 2.0]))
        >>> SecondDerivatives(t.tape).true_value(t.tape.output, (0, 0), (2,), ("L", "w", "w"))
        (array([ 6., 12.]), 'diagonal')
    """

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.nodes = tape.equations
        self.first = Derivatives(tape)

    def _shape(self, index: int) -> tuple[int, ...]:
        return shape_of(plain_value(self.nodes[index].value))

    def true_value(self, of: int, wrt: tuple[int, int], claim_shape: tuple[int, ...],
                   names: tuple[str, str, str]) -> tuple[Any, str]:
        """The second derivative the claim should equal and its form (``second
        derivative``, ``diagonal``, ``hessian``, ``elementwise`` or ``tensor``);
        raises :class:`ShapeProblem` for a shape that cannot be it."""
        x, z = wrt
        of_shape, x_shape, z_shape = self._shape(of), self._shape(x), self._shape(z)
        text = _text(names)
        if not of_shape:
            return self._of_scalar(of, x, z, claim_shape, text, names[1])
        if x == z and of_shape == x_shape and (claim_shape in ((), x_shape)
                                             or compatible_shapes(claim_shape, x_shape)):
            self.first.diagonal(of, x, (names[0], names[1]))  # raises if not elementwise
            return self._elementwise(of, x), "elementwise"
        tensor_shape = of_shape + x_shape + z_shape
        if claim_shape in ((), tensor_shape) or compatible_shapes(claim_shape, tensor_shape):
            return self._tensor(of, x, z), "tensor"
        expected = (f"shape {x_shape} (elementwise) or {tensor_shape}" if of_shape == x_shape
                    and x == z else f"shape {tensor_shape}")
        raise ShapeProblem(f"{text} should have {expected}, but the claim has shape "
                           f"{claim_shape}")

    def _of_scalar(self, of: int, x: int, z: int, claim_shape: tuple[int, ...], text: str,
                   x_name: str) -> tuple[Any, str]:
        x_shape = self._shape(x)
        block_shape = x_shape + self._shape(z)
        full = self._scalar_block(of, x, z)
        if not block_shape:
            if claim_shape == () or compatible_shapes(claim_shape, ()):
                return float(full), "second derivative"
        elif x == z and claim_shape != block_shape and (
                claim_shape in ((), x_shape) or compatible_shapes(claim_shape, x_shape)):
            diagonal = _diagonal(full, x_shape)
            if diagonal is not None:
                return diagonal, "diagonal"
            if claim_shape != ():
                raise ShapeProblem(
                    f"{text} is not diagonal (it mixes elements of {x_name}), so claim the "
                    f"full Hessian, shape {block_shape}")
        if block_shape and (claim_shape in ((), block_shape)
                            or compatible_shapes(claim_shape, block_shape)):
            return full, "hessian"
        raise ShapeProblem(f"{text} has shape {block_shape} ({shape_words(block_shape)}), "
                           f"but the claim has shape {claim_shape}")

    def _sources(self, x: int, z: int) -> list[int]:
        return [x] if x == z else [x, z]

    def _nested(self, of: int, x: int, z: int, seed: Any = None) -> NestedGradient:
        sources = self._sources(x, z)
        _check_size(math.prod(self._shape(x)) * math.prod(self._shape(z)))
        fn = replay(self.tape, of, sources)
        with np.errstate(all="ignore"):
            return nested_gradient(fn, [self.nodes[i].value for i in sources], seed)

    def _scalar_block(self, of: int, x: int, z: int) -> np.ndarray:
        nested = self._nested(of, x, z)
        k_x, k_z = 0, (0 if x == z else 1)
        # ∂/∂X of ∂Y/∂Z: rows follow Z, columns X; swap into X.shape + Z.shape.
        block = nested.block(k_z, k_x)
        z_ndim = len(self._shape(z))
        axes = list(range(z_ndim, block.ndim)) + list(range(z_ndim))
        return np.transpose(block, axes) if block.ndim else block

    def _elementwise(self, of: int, x: int) -> np.ndarray:
        nested = self._nested(of, x, x)
        seed = np.ones(self._shape(x))
        return np.asarray(nested.derivative_of_gradient(0, 0, seed), dtype=float)

    def _tensor(self, of: int, x: int, z: int) -> np.ndarray:
        of_shape = self._shape(of)
        _check_size(math.prod(of_shape) * math.prod(self._shape(x)) * math.prod(self._shape(z)))
        tensor = np.zeros(of_shape + self._shape(x) + self._shape(z))
        for row in np.ndindex(*of_shape):
            seed = np.zeros(of_shape)
            seed[row] = 1.0
            nested = self._nested(of, x, z, seed)
            k_x, k_z = 0, (0 if x == z else 1)
            block = nested.block(k_z, k_x)
            z_ndim = len(self._shape(z))
            tensor[row] = np.transpose(block, list(range(z_ndim, block.ndim))
                                       + list(range(z_ndim)))
        return tensor


def _check_size(entries: int) -> None:
    if entries > MAX_JACOBIAN_ROWS * 16:
        raise ShapeProblem(f"the second derivative has {entries:,} entries, too many to "
                           "compute; claim it for a scalar of fewer elements")


def _diagonal(full: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """The diagonal of a Hessian block of shape ``shape + shape`` if it is diagonal."""
    size = math.prod(shape)
    matrix = full.reshape(size, size)
    diagonal = np.diag(matrix).copy()
    off = matrix - np.diag(diagonal)
    scale = 1e-12 * (1.0 + float(np.max(np.abs(diagonal), initial=0.0)))
    if np.all(np.abs(off) <= scale):
        return diagonal.reshape(shape)
    return None


def _text(names: tuple[str, str, str]) -> str:
    return derivative_text(names[0], names[1:])
