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
import math
from collections.abc import Iterator, Sequence
from typing import Any

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
from .differences import (
    DEFAULT_STEP,
    Replay,
    classify,
    moved_number,
    probe,
    relative,
    sample_elements,
)
from .report import NumericReport
from .results import NumericResult
from .second_numeric import SECOND_ORDER_ATOL, SECOND_ORDER_RTOL, second_order_check
from .subject import Recorded, Traced


def numeric_check(trace: Traced, *, edges: bool = False, seed: Any = None,
                  step: float | None = None, rtol: float | None = None,
                  atol: float | None = None, max_elements: int | None = None,
                  order: int = 1, max_evaluations: int | None = None) -> NumericReport:
    """Compare the engine's derivatives with central finite differences.

    ``order=2`` checks second derivatives instead: every Hessian column
    against central differences of the gradient, with tolerances for their
    larger truncation error (defaults ``rtol=1e-4``, ``atol=1e-6``, 200
    columns per input), and with ``edges=True`` each rule's own second
    derivative, so a wrong one is named (:mod:`.second_numeric`).

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

    ``max_evaluations`` bounds the work on big traces (first order): each
    input's check replays the operations after it (four times per element),
    each edge check costs about :data:`EDGE_COST` operations.  Past the budget
    the inputs with the largest gradients are checked (at least one) and a
    sample of the edges in which every rule appears; the report's notes say
    what was left out.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda x, y: np.abs(x) * y, x=0.0, y=2.0)
        >>> report = numeric_check(t, edges=True)
        >>> [(r.where, r.verdict) for r in report.results]   # doctest: +NORMALIZE_WHITESPACE
        [('x', 'not differentiable here'), ('y', 'ok'),
         ('∂(|x|)/∂x', 'not differentiable here'), ('∂output/∂(|x|)', 'ok'), ('∂output/∂y', 'ok')]
    """
    if order == 2:
        return second_order_check(
            trace, edges=edges, seed=seed, step=step,
            rtol=SECOND_ORDER_RTOL if rtol is None else rtol,
            atol=SECOND_ORDER_ATOL if atol is None else atol,
            max_elements=200 if max_elements is None else max_elements)
    if order != 1:
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    rtol = 1e-5 if rtol is None else rtol
    atol = 1e-8 if atol is None else atol
    max_elements = 1000 if max_elements is None else max_elements
    tape = trace.tape
    output = tape.output
    relative_step = DEFAULT_STEP if step is None else float(step)
    if output is None:
        return NumericReport([], relative_step, ["the output is a constant: nothing to check"])
    seed = autodiff.checked_seed(seed, shape_of(tape.equations[output].value),
                                 node=tape.output_name, how="pass seed=")
    replay = Replay(trace, seed)
    # as the trace's gradients: a NaN that only met a zero is not in the derivative
    adjoints, _ = autodiff.gradients(replay.nodes, output, seed, watch=tape.inputs.values())
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


def _input_checks(replay: Replay, name: str, leaf: int, adjoints: list[Any],
                  relative_step: float, rtol: float, atol: float, max_elements: int,
                  notes: list[str]) -> Iterator[NumericResult]:
    value = replay.nodes[leaf].value
    shape = shape_of(value)
    gradient = adjoints[leaf] if leaf < len(adjoints) and adjoints[leaf] is not None else 0.0
    gradient = np.broadcast_to(np.asarray(gradient, dtype=float), shape)
    downstream = replay.downstream(leaf)
    centre = replay.weighted(replay.nodes[replay.output].value)
    elements = sample_elements(shape, gradient, max_elements)
    if len(elements) < math.prod(shape):
        notes.append(f"{name}: checked {len(elements):,} of {math.prod(shape):,} elements")
    base = np.asarray(value, dtype=float)
    for index in elements:
        h = relative_step * max(1.0, abs(float(base[index])))

        def evaluate(shift: int) -> tuple[float, str | None]:
            if not shape:
                return replay.run(leaf, moved_number(value, float(value) + shift * h),
                                  downstream)
            moved = base.copy()
            moved[index] += shift * h
            return replay.run(leaf, moved, downstream)

        probed = probe(evaluate, centre, h)
        analytic = float(gradient[index])
        verdict, numeric, abs_diff, note = classify(analytic, probed, rtol, atol)
        yield NumericResult("gradient", name, None, None, index if shape else None, analytic,
                            numeric, abs_diff, relative(abs_diff, analytic, numeric),
                            verdict, note)


def _edge_checks(replay: Replay, relative_step: float, rtol: float, atol: float,
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
            if not node.primitive.has_gradient(position):
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


def _edge_check(replay: Replay, node: Var, position: int, values: list[Any], key: int | None,
                relative_step: float, rtol: float, atol: float) -> NumericResult:
    prim = node.primitive
    params = node.params or {}
    x = values[position]
    rng = np.random.default_rng([node.index, position])
    upstream = rng.normal(size=shape_of(node.value)) if shape_of(node.value) else 1.0
    direction = rng.normal(size=shape_of(x)) if shape_of(x) else 1.0
    # Each element moves in proportion to its own size, so small elements get small
    # steps; for a number this is the step of an input (direction 1).
    # (a NaN/inf input value, the branch a np.where discards, moves by the plain step)
    magnitude = np.abs(np.nan_to_num(np.asarray(x, dtype=float), nan=0.0, posinf=0.0,
                                     neginf=0.0))
    scale = max(1.0, float(np.max(magnitude, initial=0.0)))
    direction = direction * np.maximum(1.0, magnitude) / scale
    contribution = autodiff.edge_contribution(node, position, upstream, values)
    analytic = float(np.sum(np.asarray(contribution, dtype=float) * direction))
    h = relative_step * scale
    distance = math.inf if prim.kink is None else prim.kink(*values, **params)
    reach = h * float(np.max(np.abs(direction), initial=0.0))

    def evaluate(shift: int) -> tuple[float, str | None]:
        args = list(values)
        args[position] = np.asarray(x, dtype=float) + shift * h * direction
        if not shape_of(x):
            args[position] = moved_number(x, float(args[position]))
        with np.errstate(all="ignore"):
            out = np.asarray(prim.impl(*args, **params), dtype=float)
        crossed = replay.ids[node.index] if distance <= abs(shift) * reach else None
        return float(np.sum(upstream * out)), crossed

    probed = probe(evaluate, float(np.sum(upstream * np.asarray(node.value, dtype=float))), h)
    verdict, numeric, abs_diff, note = classify(analytic, probed, rtol, atol)
    if shape_of(x) or shape_of(node.value):
        note = "; ".join(filter(None, [note, "projected on random directions uᵀ·J·v"]))
    child, parent = replay.ids[node.index], replay.ids[node.inputs[position].index]
    labels = (replay.graph.nodes[child]["label"], replay.graph.nodes[parent]["label"])
    return NumericResult("local", child, parent, key, None, analytic, numeric, abs_diff,
                         relative(abs_diff, analytic, numeric), verdict, note, labels)


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
