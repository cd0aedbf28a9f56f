"""Numeric checking: the engine's derivatives against central finite differences.

:func:`numeric_check` compares every input's gradient (and optionally every
edge's local derivative) with finite differences by *replaying the record*:
each recorded equation is recomputed on perturbed values, so it works for
any trace, user primitives included, without the user's function.  Points
where the function is not differentiable (``abs`` at 0, ``relu`` at 0, ties
in ``max``; read from each primitive's ``kink``) are reported as such, not
as errors.  :func:`numeric_check_primitive` checks one rule the way the
built-in rules are checked.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> numeric_check(tg.trace(lambda x: np.sin(x) * x, x=0.5)).ok
    True
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from .. import autodiff
from ..core import (
    REGISTRY,
    Primitive,
    Tape,
    Var,
    activate,
    apply,
    is_constant,
    shape_of,
    unwrap_constant,
)
from ..errors import TracegraphError, mention
from ..numbers import format_number
from ..verdicts import NOT_DIFFERENTIABLE, OK, WRONG
from .report import NumericReport
from .results import NumericResult
from .subject import Recorded, Traced, node_ids

_EPS = float(np.finfo(float).eps)
DEFAULT_STEP = _EPS ** (1.0 / 3.0)
"""The relative step: ∛eps balances truncation (h²) against rounding (eps/h) for float64."""

_SHIFTS = (-2, -1, 1, 2)


@dataclass(frozen=True)
class _Probe:
    """A function around a point: f(x + k·h) for k = −2, −1, 0, 1, 2, and the node
    whose non-differentiable point the ±h steps (``kink``) or the ±2h steps
    (``far_kink``) crossed."""

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


def _probe(evaluate: Callable[[int], tuple[float, str | None]], centre: float,
           step: float) -> _Probe:
    """Evaluate ``f(x + k·h)`` (with the kink crossed, if any) at every shift."""
    values, kinks = {0: centre}, {}
    for shift in _SHIFTS:
        values[shift], kinks[shift] = evaluate(shift)
    near = kinks[-1] or kinks[1]
    return _Probe(values, step, near, near or kinks[-2] or kinks[2])


def _classify(analytic: float, probe: _Probe, rtol: float, atol: float
              ) -> tuple[str, float, float, str]:
    """Verdict, numeric value, abs diff, and a note."""
    numeric = probe.central()
    if not (math.isfinite(probe.values[-1]) and math.isfinite(probe.values[1])):
        return (NOT_DIFFERENTIABLE, numeric, math.nan,
                "finite differences gave NaN/inf (the step leaves the function's domain?)")
    abs_diff = abs(analytic - numeric) if math.isfinite(analytic) else math.inf
    rounding = 16.0 * _EPS * max(abs(v) for v in probe.values.values() if math.isfinite(v)) / (
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


def _relative(abs_diff: float, analytic: float, numeric: float) -> float:
    scale = max(abs(analytic), abs(numeric))
    if abs_diff == 0.0:
        return 0.0
    return abs_diff / scale if scale > 0 else math.inf


class _Replay:
    """Recompute a trace's recorded equations on perturbed input values."""

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


def numeric_check(trace: Traced, *, edges: bool = False, seed: Any = None,
                  step: float | None = None, rtol: float = 1e-5, atol: float = 1e-8,
                  max_elements: int = 1000, max_evaluations: int | None = None
                  ) -> NumericReport:
    """Compare the engine's derivatives with central finite differences.

    Every element of every input's gradient d(output)/d(input) is compared
    with ``(f(x + h) − f(x − h)) / 2h``, where f is computed by replaying the
    trace's recorded operations (so no function is needed, and user
    primitives are checked through their ``impl``).  The step is
    ``h = step · max(1, |x|)`` with ``step`` = ∛eps ≈ 6e-6 by default, which
    balances truncation and rounding errors for float64; the tolerance
    ``atol + rtol·|value|`` is widened by the finite difference's own error
    (rounding noise, and truncation estimated from a second step 2h).  Inputs larger than
    ``max_elements`` are checked on a fixed sample of elements (always
    including the largest gradient).

    With ``edges=True`` every edge's local derivative (the VJP of its
    primitive) is also compared with finite differences of the primitive's
    ``impl`` alone - projected on fixed random directions for arrays - so a
    wrong rule is pinned to its edge.

    A comparison whose step crosses a point where some operation on the way
    is not differentiable (``abs`` at 0, ``relu`` at 0, ties in ``max``; read
    from each primitive's ``kink``) is reported as ``"not differentiable
    here"``, not as wrong.  For an array output pass ``seed`` (the output's
    shape): the check is then on d(seed·output)/d(input).

    ``max_evaluations`` bounds the work on big traces: each input's check
    replays the operations after it (four times per element), each edge check
    costs about :data:`EDGE_COST` operations.  Past the budget the inputs with
    the largest gradients are checked (at least one) and a sample of the edges
    in which every rule appears; the report's notes say what was left out.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda x, y: np.abs(x) * y, x=0.0, y=2.0)
        >>> report = numeric_check(t, edges=True)
        >>> [(r.where, r.verdict) for r in report.results]   # doctest: +NORMALIZE_WHITESPACE
        [('x', 'not differentiable here'), ('y', 'ok'),
         ('∂(|x|)/∂x', 'not differentiable here'), ('∂output/∂(|x|)', 'ok'), ('∂output/∂y', 'ok')]
    """
    tape = trace.tape
    output = tape.output
    relative_step = DEFAULT_STEP if step is None else float(step)
    if output is None:
        return NumericReport([], relative_step, ["the output is a constant: nothing to check"])
    seed = autodiff.checked_seed(seed, shape_of(tape.equations[output].value),
                                 node=tape.output_name, how="pass seed=")
    replay = _Replay(trace, seed)
    adjoints = autodiff.backward(replay.nodes, output, seed)
    results: list[NumericResult] = []
    notes: list[str] = []
    chosen, left = _inputs_within(tape, adjoints, max_elements, max_evaluations, notes)
    for name, leaf in chosen:
        results.extend(_input_checks(replay, name, leaf, adjoints, relative_step, rtol, atol,
                                     max_elements, notes))
    if edges:
        results.extend(_edge_checks(replay, relative_step, rtol, atol, left, notes))
    return NumericReport(results, relative_step, notes)


EDGE_COST = 50
"""What one edge check costs, in replayed operations (it builds random directions, calls
the rule's VJP and its implementation four times): measured, for ``max_evaluations``."""


def _inputs_within(tape: Tape, adjoints: list[Any], max_elements: int,
                   budget: int | None, notes: list[str]
                   ) -> tuple[list[tuple[str, int]], int | None]:
    """The inputs to check (tape order) and what is left of the budget for the edges.

    An input's cost is 4 replays per checked element of at most the operations
    after it; past the budget the largest gradients go first, at least one.
    """
    inputs = list(tape.inputs.items())
    if budget is None:
        return inputs, None
    output = tape.output

    def elements(leaf: int) -> int:
        return min(max(1, math.prod(shape_of(tape.equations[leaf].value))), max_elements)

    def largest(leaf: int) -> float:
        gradient = adjoints[leaf] if leaf < len(adjoints) else None
        if gradient is None:
            return 0.0
        magnitude = np.max(np.abs(np.asarray(gradient, dtype=float)), initial=0.0)
        return float(magnitude) if np.isfinite(magnitude) else math.inf

    cost = {leaf: 4 * elements(leaf) * max(0, output - leaf) for _, leaf in inputs}
    total = sum(cost.values())
    if total <= budget:
        return inputs, budget - total
    chosen: set[int] = set()
    spent = 0
    for _, leaf in sorted(inputs, key=lambda item: (-largest(item[1]), item[1])):
        if not chosen or spent + cost[leaf] <= budget:
            chosen.add(leaf)
            spent += cost[leaf]
    notes.append(f"finite differences: checked {len(chosen):,} of {len(inputs):,} inputs, those "
                 "with the largest gradients (each check replays the operations after the "
                 f"input; {mention('max evaluations', 'N')} sets how many operations)")
    return [(name, leaf) for name, leaf in inputs if leaf in chosen], max(0, budget - spent)


def _sample_elements(shape: tuple[int, ...], gradient: np.ndarray, limit: int
                     ) -> list[tuple[int, ...]]:
    size = math.prod(shape)
    if size <= limit:
        return list(np.ndindex(*shape)) if shape else [()]
    flat = np.random.default_rng(0).choice(size, size=limit - 1, replace=False).tolist()
    flat.append(int(np.argmax(np.abs(gradient))))
    return [tuple(int(i) for i in np.unravel_index(f, shape)) for f in sorted(set(flat))]


def _input_checks(replay: _Replay, name: str, leaf: int, adjoints: list[Any],
                  relative_step: float, rtol: float, atol: float, max_elements: int,
                  notes: list[str]) -> Iterator[NumericResult]:
    value = replay.nodes[leaf].value
    shape = shape_of(value)
    gradient = adjoints[leaf] if leaf < len(adjoints) and adjoints[leaf] is not None else 0.0
    gradient = np.broadcast_to(np.asarray(gradient, dtype=float), shape)
    downstream = replay.downstream(leaf)
    centre = replay.weighted(replay.nodes[replay.output].value)
    elements = _sample_elements(shape, gradient, max_elements)
    if len(elements) < math.prod(shape):
        notes.append(f"{name}: checked {len(elements):,} of {math.prod(shape):,} elements")
    base = np.asarray(value, dtype=float)
    for index in elements:
        h = relative_step * max(1.0, abs(float(base[index])))

        def evaluate(shift: int) -> tuple[float, str | None]:
            if not shape:
                return replay.run(leaf, float(value) + shift * h, downstream)
            moved = base.copy()
            moved[index] += shift * h
            return replay.run(leaf, moved, downstream)

        probe = _probe(evaluate, centre, h)
        analytic = float(gradient[index])
        verdict, numeric, abs_diff, note = _classify(analytic, probe, rtol, atol)
        yield NumericResult("gradient", name, None, None, index if shape else None, analytic,
                            numeric, abs_diff, _relative(abs_diff, analytic, numeric),
                            verdict, note)


def _edge_checks(replay: _Replay, relative_step: float, rtol: float, atol: float,
                 budget: int | None = None, notes: list[str] | None = None
                 ) -> Iterator[NumericResult]:
    candidates = []
    for index in replay.relevant:
        node = replay.nodes[index]
        if node.primitive is None or index not in replay.ids:
            continue
        for position, x in enumerate(node.inputs):
            if type(x) is not Var or x.index not in replay.ids:
                continue
            if node.primitive.vjp(position) is None:
                continue
            candidates.append((node, position))
    chosen = candidates if budget is None else _edge_sample(candidates, budget // EDGE_COST)
    if len(chosen) < len(candidates) and notes is not None:
        notes.append(f"finite differences: checked {len(chosen):,} of {len(candidates):,} "
                     "edges, spread along the tape, every rule among them "
                     f"({mention('max evaluations', 'N')} sets how many operations)")
    for node, position in chosen:
        yield _edge_check(replay, node, position, autodiff.input_values(node),
                          replay.edge_key(node, position), relative_step, rtol, atol)


def _edge_sample(candidates: list[tuple[Var, int]], count: int) -> list[tuple[Var, int]]:
    """At most ``count`` edges (at least one per rule and argument position), spread along
    the tape: the edges of each rule are taken evenly spaced, rules in turn."""
    if len(candidates) <= count:
        return candidates
    by_rule: dict[tuple[str, int], list[tuple[Var, int]]] = {}
    for node, position in candidates:
        by_rule.setdefault((node.primitive.name, position), []).append((node, position))
    per_rule = max(1, count // len(by_rule))
    chosen: dict[tuple[int, int], tuple[Var, int]] = {}
    for edges in by_rule.values():
        take = min(len(edges), per_rule)
        for i in range(take):
            node, position = edges[round(i * (len(edges) - 1) / (take - 1)) if take > 1 else 0]
            chosen[node.index, position] = (node, position)
    return [chosen[key] for key in sorted(chosen)]


def _edge_check(replay: _Replay, node: Var, position: int, values: list[Any], key: int | None,
                relative_step: float, rtol: float, atol: float) -> NumericResult:
    prim = node.primitive
    params = node.params or {}
    x = values[position]
    rng = np.random.default_rng([node.index, position])
    upstream = rng.normal(size=shape_of(node.value)) if shape_of(node.value) else 1.0
    direction = rng.normal(size=shape_of(x)) if shape_of(x) else 1.0
    # Each element moves in proportion to its own size, so small elements get small
    # steps; for a number this is the step of an input (direction 1).
    scale = max(1.0, float(np.max(np.abs(x), initial=0.0)))
    direction = direction * np.maximum(1.0, np.abs(x)) / scale
    contribution = autodiff.edge_contribution(node, position, upstream, values)
    analytic = float(np.sum(np.asarray(contribution, dtype=float) * direction))
    h = relative_step * scale
    distance = math.inf if prim.kink is None else prim.kink(*values, **params)
    reach = h * float(np.max(np.abs(direction), initial=0.0))

    def evaluate(shift: int) -> tuple[float, str | None]:
        args = list(values)
        args[position] = np.asarray(x, dtype=float) + shift * h * direction
        if not shape_of(x):
            args[position] = float(args[position])
        with np.errstate(all="ignore"):
            out = np.asarray(prim.impl(*args, **params), dtype=float)
        crossed = replay.ids[node.index] if distance <= abs(shift) * reach else None
        return float(np.sum(upstream * out)), crossed

    probe = _probe(evaluate, float(np.sum(upstream * np.asarray(node.value, dtype=float))), h)
    verdict, numeric, abs_diff, note = _classify(analytic, probe, rtol, atol)
    if shape_of(x) or shape_of(node.value):
        note = "; ".join(filter(None, [note, "projected on random directions uᵀ·J·v"]))
    child, parent = replay.ids[node.index], replay.ids[node.inputs[position].index]
    labels = (replay.graph.nodes[child]["label"], replay.graph.nodes[parent]["label"])
    return NumericResult("local", child, parent, key, None, analytic, numeric, abs_diff,
                         _relative(abs_diff, analytic, numeric), verdict, note, labels)


# --------------------------------------------------------------------------- one primitive


_DEFAULT_DOMAIN = (-2.0, 2.0)
_KINK_MARGIN = 1e-3
_SAMPLE_ATTEMPTS = 20


def numeric_check_primitive(primitive: Any, *, trials: int = 20, seed: int = 0,
                            shapes: Sequence[tuple[int, ...]] = ((), (3,), (2, 3)),
                            rtol: float = 1e-5, atol: float = 1e-8) -> NumericReport:
    """Check a primitive's derivative rule against finite differences, like a built-in.

    ``primitive`` is a :class:`~tracegraph.core.Primitive`, a function made
    by :func:`tracegraph.primitive`, or a registered name.  Each trial draws
    inputs from the primitive's ``sample(rng)`` or, without one, uniformly
    from its ``domain`` (default ``(-2, 2)``) with each shape in ``shapes``
    in turn, skips points within 1e-3 of a kink, records one call and runs
    :func:`numeric_check` on it with a random output weighting.  Results are
    named ``trial <k>: <argument>``.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> @tg.primitive(grads={"x": (lambda g, out, x: g * 2 * x, "2·{x}")},
        ...               name="doc_square_rule")
        ... def square(x):
        ...     return x * x
        >>> numeric_check_primitive(square, trials=3).ok
        True
        >>> tg.unregister("doc_square_rule")
    """
    prim = _as_primitive(primitive)
    rng = np.random.default_rng(seed)
    results: list[NumericResult] = []
    skipped = 0
    for trial in range(trials):
        case = _trial_case(prim, rng, shapes[trial % len(shapes)] if shapes else ())
        if case is None:
            skipped += 1
            continue
        recorded = _record_call(prim, *case)
        out_shape = shape_of(recorded.tape.result)
        weights = rng.normal(size=out_shape) if out_shape else None
        report = numeric_check(recorded, seed=weights, rtol=rtol, atol=atol)
        for result in report.results:
            results.append(dataclasses.replace(result, node=f"trial {trial}: {result.node}"))
    notes = [f"{prim.name}: {trials - skipped} trials"]
    if skipped:
        notes.append(f"{skipped} trials skipped: no sample away from a kink")
    if not results:
        raise TracegraphError(
            f"primitive {prim.name!r}: no trial had a differentiable float input to check",
            hint="give it sample=... returning float arrays for the differentiated arguments")
    return NumericReport(results, DEFAULT_STEP, notes)


def _record_call(prim: Primitive, args: tuple, params: dict) -> Recorded:
    """One call of ``prim`` on a fresh record: float arguments are its inputs (named as
    the primitive's arguments), the rest constants, as :func:`tracegraph.trace` would."""
    tape = Tape()
    with activate(tape):
        traced = [_argument(tape, name, arg)
                  for name, arg in zip(_argument_names(prim, len(args)), args)]
        out = apply(prim, *traced, **params)
    if type(out) is Var and out.tape is tape:
        if out.name is None:
            out.name = prim.name
        tape.finish(out.index, out.name)
    else:
        tape.finish(None, prim.name, out)
    return Recorded(tape)


def _argument(tape: Tape, name: str, value: Any) -> Any:
    """A call's argument: a float number or array becomes an input, anything else
    (``tg.constant`` values included) a named constant."""
    if is_constant(value):
        value = unwrap_constant(value)
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, (bool, np.bool_)) or isinstance(value, np.ndarray) and value.dtype.kind == "f":
        integer = isinstance(value, (int, np.integer))
        leaf = tape.leaf(name, value if isinstance(value, np.ndarray) else float(value),
                         integer=integer)
        tape.declare_input(name, leaf)
        return leaf
    tape.constants[name] = value
    if isinstance(value, np.ndarray):
        tape.name_constant(name, value)
    return value


def _as_primitive(primitive: Any) -> Primitive:
    if isinstance(primitive, Primitive):
        return primitive
    attached = getattr(primitive, "primitive", None)
    if isinstance(attached, Primitive):
        return attached
    if isinstance(primitive, str):
        if primitive in REGISTRY:
            return REGISTRY[primitive]
        close = difflib.get_close_matches(primitive, list(REGISTRY), n=3)
        raise TracegraphError(f"no primitive named {primitive!r}",
                              hint=f"did you mean {', '.join(close)}?" if close else
                              "`tracegraph rules` lists the registered primitives")
    raise TypeError(f"expected a primitive, a function made by tracegraph.primitive, or a "
                    f"registered name; got {primitive!r}")


def _argument_names(prim: Primitive, count: int) -> list[str]:
    if prim.variadic:
        return [f"{prim.argnames[0]}{k}" for k in range(count)]
    return list(prim.argnames)


def _trial_case(prim: Primitive, rng: np.random.Generator, shape: tuple[int, ...]
                ) -> tuple[tuple, dict] | None:
    """Arguments for one trial, away from kinks, or ``None`` if none were found."""
    for _ in range(_SAMPLE_ATTEMPTS):
        if prim.sample is not None:
            args, params = prim.sample(rng)
        else:
            args, params = tuple(_uniform(prim, name, shape, rng) for name in prim.argnames), {}
        if prim.kink is None or prim.kink(*args, **params) > _KINK_MARGIN:
            _evaluate(prim, args, params)
            return tuple(args), dict(params)
    return None


def _uniform(prim: Primitive, name: str, shape: tuple[int, ...],
             rng: np.random.Generator) -> Any:
    low, high = prim.domain.get(name, _DEFAULT_DOMAIN)
    if not shape:
        return float(rng.uniform(low, high))
    return rng.uniform(low, high, size=shape)


def _evaluate(prim: Primitive, args: tuple, params: dict) -> None:
    try:
        prim.impl(*args, **params)
    except Exception as err:  # noqa: BLE001 - any failure of user code is explained
        shapes = ", ".join(str(shape_of(a)) for a in args)
        raise TracegraphError(
            f"primitive {prim.name!r} failed on generated inputs of shapes {shapes}: "
            f"{type(err).__name__}: {err}",
            hint="give the primitive sample=lambda rng: (args, params) with valid inputs, or "
            "pass shapes=[()] if it only works on numbers") from err
