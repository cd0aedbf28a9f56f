"""Finite differences: probing a function around a point, and replaying a record.

The machinery :mod:`.numeric` (first derivatives) and :mod:`.second_numeric`
(second derivatives) share: :class:`Replay` recomputes a trace's equations
on perturbed inputs, :func:`probe` evaluates a function at x + k·h, and
:func:`classify` compares an analytic derivative with the central
difference, widening the tolerance by the difference's own error.

Example:
    >>> found = probe(lambda k: ((1.0 + k * 1e-3) ** 2, None), 1.0, 1e-3)
    >>> round(found.central(), 9), classify(2.0, found, 1e-5, 1e-8)[0]
    (2.0, 'ok')
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from .. import autodiff
from ..core import Var
from ..numbers import format_number
from ..verdicts import NOT_DIFFERENTIABLE, OK, WRONG
from .subject import Traced, node_ids

EPS = float(np.finfo(float).eps)
DEFAULT_STEP = EPS ** (1.0 / 3.0)
"""The relative step: ∛eps balances truncation (h²) against rounding (eps/h) for float64."""

_SHIFTS = (-2, -1, 1, 2)


def moved_number(value: Any, moved: float) -> Any:
    """A number moved by a step, as the replay should see it: a numpy number (a float32
    input is held as ``np.float32``) stays a numpy number, in float64, because a Python
    float next to float32 values computes in float32 (NEP 50) and its rounding would swamp
    the difference.

    Example:
        >>> type(moved_number(np.float32(0.3), 0.3001)), type(moved_number(0.3, 0.3001))
        (<class 'numpy.float64'>, <class 'float'>)
    """
    dtype = getattr(value, "dtype", None)
    return np.float64(moved) if dtype is not None and dtype.kind == "f" else float(moved)


@dataclass(frozen=True)
class Probe:
    """A function around a point: f(x + k·h) for k = −2, −1, 0, 1, 2, and the node
    whose non-differentiable point the ±h steps (``kink``) or the ±2h steps
    (``far_kink``) crossed.

    Example:
        >>> p = probe(lambda k: (abs(k * 1e-3), "abs" if k else None), 0.0, 1e-3)
        >>> p.central(), p.one_sided(), p.kink
        (0.0, (1.0, -1.0), 'abs')
    """

    values: dict[int, float]
    step: float
    kink: str | None
    far_kink: str | None

    def central(self, scale: int = 1) -> float:
        return (self.values[scale] - self.values[-scale]) / (2.0 * scale * self.step)

    def one_sided(self) -> tuple[float, float]:
        return ((self.values[1] - self.values[0]) / self.step,
                (self.values[0] - self.values[-1]) / self.step)

    def truncation(self) -> float:
        """Richardson's estimate of the error of the central difference: |D(h) − D(2h)|/3.

        Large only where the function curves sharply on the scale of the step
        (sqrt near 0); a wrong rule does not change it.
        """
        if self.far_kink is not None:
            return 0.0
        error = abs(self.central(1) - self.central(2)) / 3.0
        return error if math.isfinite(error) else 0.0


def probe(evaluate: Callable[[int], tuple[float, str | None]], centre: float,
          step: float) -> Probe:
    """Evaluate ``f(x + k·h)`` (with the kink crossed, if any) at every shift.

    Example:
        >>> p = probe(lambda k: ((1.0 + k * 0.5) ** 2, None), 1.0, 0.5)   # x² around 1
        >>> p.values
        {0: 1.0, -2: 0.0, -1: 0.25, 1: 2.25, 2: 4.0}
        >>> p.central(), p.central(2), p.kink
        (2.0, 2.0, None)
    """
    values, kinks = {0: centre}, {}
    for shift in _SHIFTS:
        values[shift], kinks[shift] = evaluate(shift)
    near = kinks[-1] or kinks[1]
    return Probe(values, step, near, near or kinks[-2] or kinks[2])


def classify(analytic: float, probe: Probe, rtol: float, atol: float
             ) -> tuple[str, float, float, str]:
    """Verdict, numeric value, abs diff, and a note, for an analytic derivative and the
    function probed around the point (tolerance widened by the probe's own error).

    Example:
        >>> square = probe(lambda k: ((1.0 + k * 1e-3) ** 2, None), 1.0, 1e-3)
        >>> classify(2.0, square, 1e-5, 1e-8)[0], classify(2.5, square, 1e-5, 1e-8)[0]
        ('ok', 'wrong')
        >>> kinked = probe(lambda k: (abs(k * 1e-3), "abs" if k else None), 0.0, 1e-3)
        >>> verdict, numeric, abs_diff, note = classify(1.0, kinked, 1e-5, 1e-8)
        >>> verdict
        'not differentiable here'
        >>> print(note)
        the step crosses a point where 'abs' is not differentiable (one-sided slopes 1 and -1)
    """
    numeric = probe.central()
    if not (math.isfinite(probe.values[-1]) and math.isfinite(probe.values[1])):
        return (NOT_DIFFERENTIABLE, numeric, math.nan,
                "finite differences gave NaN/inf (the step leaves the function's domain?)")
    abs_diff = abs(analytic - numeric) if math.isfinite(analytic) else math.inf
    rounding = 16.0 * EPS * max(abs(v) for v in probe.values.values() if math.isfinite(v)) / (
        probe.step)
    tolerance = (atol + rtol * max(abs(analytic), abs(numeric)) + rounding
                 + 2.0 * probe.truncation())
    agrees = abs_diff <= tolerance
    if probe.kink is not None:
        forward, backward = probe.one_sided()
        jump = abs(forward - backward) > 0.1 * max(abs(forward), abs(backward)) + tolerance
        if jump or not agrees:
            return (NOT_DIFFERENTIABLE, numeric, abs_diff,
                    f"the step crosses a point where {probe.kink!r} is not differentiable "
                    f"(one-sided slopes {format_number(forward)} and {format_number(backward)})")
    return (OK if agrees else WRONG), numeric, abs_diff, ""


def relative(abs_diff: float, analytic: float, numeric: float) -> float:
    """The difference relative to the larger of the two values (0 when equal).

    Example:
        >>> relative(0.5, 2.5, 2.0), relative(0.0, 0.0, 0.0), relative(1.0, 0.0, 0.0)
        (0.2, 0.0, inf)
    """
    scale = max(abs(analytic), abs(numeric))
    if abs_diff == 0.0:
        return 0.0
    return abs_diff / scale if scale > 0 else math.inf


class Replay:
    """Recompute a trace's recorded equations on perturbed input values (with ``impl``),
    noting the non-differentiable points a perturbation crosses.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda x, y: np.abs(x) * y, x=0.0, y=3.0)
        >>> replay = Replay(t, seed=1.0)
        >>> replay.run(1, 4.0, replay.downstream(1))     # y = 4: |0|·4, no kink crossed
        (0.0, None)
        >>> replay.run(0, 1e-3, replay.downstream(0))    # x moved across abs's kink at 0
        (0.003, 'n2')
    """

    def __init__(self, trace: Traced, seed: Any) -> None:
        self.tape = trace.tape
        self.nodes = self.tape.equations
        self.output = self.tape.output
        self.seed = seed
        self.relevant = self.tape.ancestors(self.output)
        self.trace = trace
        self._kink_distance: dict[int, float] = {}

    # The graph only names nodes (edges, kinks): gradient checks of inputs do not need it.
    @functools.cached_property
    def graph(self) -> nx.MultiDiGraph:
        return self.trace.graph

    @functools.cached_property
    def ids(self) -> dict[int, str]:
        return node_ids(self.graph)

    def edge_key(self, node: Var, position: int) -> int | None:
        """The graph key of the edge into ``node`` from its input ``position``.

        Keys are argument positions, except where partial sums were folded
        into an n-ary ``+`` node; there the one edge between the two nodes is it.
        """
        child = self.ids[node.index]
        edges = self.graph.get_edge_data(self.ids[node.inputs[position].index], child) or {}
        if self.graph.in_degree(child) == len(node.inputs) and position in edges:
            return position
        return next(iter(edges)) if len(edges) == 1 else None

    def weighted(self, value: Any) -> float:
        return float(np.sum(self.seed * np.asarray(value, dtype=float)))

    def downstream(self, leaf: int) -> list[int]:
        """The equations on a path from ``leaf`` to the output, in tape order
        (``tape.between(leaf, output)``, with the output's ancestors walked once)."""
        if leaf > self.output:
            return []
        return [i for i in self.tape.descendants(leaf, self.output)[1:]
                if i in self._relevant_set]

    @functools.cached_property
    def _relevant_set(self) -> frozenset[int]:
        return frozenset(self.relevant)

    def run(self, leaf: int, value: Any, downstream: Sequence[int]) -> tuple[float, str | None]:
        """The weighted output with ``leaf`` set to ``value``, and a kink crossed, if any."""
        values = {leaf: value}
        kink = None
        with np.errstate(all="ignore"):
            for index in downstream:
                node = self.nodes[index]
                args = [values.get(x.index, x.value) if type(x) is Var else x
                        for x in node.inputs]
                if kink is None and node.primitive.kink is not None:
                    kink = self._crossed_kink(index, node, args)
                values[index] = node.primitive.impl(*args, **(node.params or {}))
        if self.output == leaf:
            return self.weighted(value), None
        if self.output not in values:  # the leaf does not reach the output
            return self.weighted(self.nodes[self.output].value), None
        return self.weighted(values[self.output]), kink

    def _crossed_kink(self, index: int, node: Var, args: list[Any]) -> str | None:
        moved = max((_max_abs_change(new, x.value) for new, x in zip(args, node.inputs)
                     if type(x) is Var), default=0.0)
        if moved == 0.0:
            return None
        if index not in self._kink_distance:
            original = autodiff.input_values(node)
            self._kink_distance[index] = float(node.primitive.kink(*original,
                                                               **(node.params or {})))
        if self._kink_distance[index] <= moved:
            return self.ids.get(index, node.label)
        return None


def _max_abs_change(new: Any, old: Any) -> float:
    with np.errstate(all="ignore"):
        change = np.abs(np.asarray(new, dtype=float) - np.asarray(old, dtype=float))
    return float(np.max(change, initial=0.0)) if np.all(np.isfinite(change)) else math.inf


def sample_elements(shape: tuple[int, ...], gradient: np.ndarray, limit: int
                    ) -> list[tuple[int, ...]]:
    """Every element index of ``shape``, or a fixed sample of ``limit`` of them that
    always includes the largest |gradient|.

    Example:
        >>> import numpy as np
        >>> sample_elements((2, 2), np.zeros((2, 2)), limit=10)
        [(0, 0), (0, 1), (1, 0), (1, 1)]
        >>> gradient = np.zeros(100); gradient[42] = 5.0
        >>> (42,) in sample_elements((100,), gradient, limit=4)
        True
    """
    size = math.prod(shape)
    if size <= limit:
        return list(np.ndindex(*shape)) if shape else [()]
    flat = np.random.default_rng(0).choice(size, size=limit - 1, replace=False).tolist()
    flat.append(int(np.argmax(np.abs(gradient))))
    return [tuple(int(i) for i in np.unravel_index(f, shape)) for f in sorted(set(flat))]
