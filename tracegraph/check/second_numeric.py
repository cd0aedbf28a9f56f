"""Second derivatives against finite differences of the gradient: ``numeric_check(order=2)``.

The Hessian comes from differentiating the replayed record twice
(:mod:`.second`: the rules' VJPs run on traced values); each of its
columns is compared with central differences of the gradient, which only
uses the first-order rules (already checked by ``order=1``).  With
``edges=True`` every equation's rule is checked on its own: the derivative
of its VJP (its second derivative) against differences of the VJP, so a
rule whose second derivative is wrong is named.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> t = tg.trace(lambda x, y: np.sin(x) * y ** 2, x=0.5, y=2.0)
    >>> report = second_order_check(t)
    >>> [(r.where, r.verdict) for r in report.results]
    [('∂²/∂y∂x', 'ok'), ('∂²/∂x∂y', 'ok')]
"""

from __future__ import annotations

import math
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import autodiff
from ..core import Tape, Var, activate, plain_value, shape_of
from ..verdicts import NOT_DIFFERENTIABLE, OK, WRONG
from .differences import EPS, Replay, classify, moved_number, probe, relative, sample_elements
from .report import NumericReport
from .results import NumericResult
from .second import nested_gradient, plain_gradient, replay
from .subject import Traced

SECOND_ORDER_RTOL = 1e-4
"""Default relative tolerance of ``order=2``: a difference of the gradient carries the
truncation error of one more derivative than a difference of the function."""
SECOND_ORDER_ATOL = 1e-6


def second_order_check(trace: Traced, *, edges: bool = False, seed: Any = None,
                       step: float | None = None, rtol: float = SECOND_ORDER_RTOL,
                       atol: float = SECOND_ORDER_ATOL, max_elements: int = 200
                       ) -> NumericReport:
    """Compare the engine's second derivatives with central differences of its gradient.

    For every checked element xⱼ of every input, the Hessian column ∂(∇f)/∂xⱼ
    is compared with ``(∇f(x + h·eⱼ) − ∇f(x − h·eⱼ)) / 2h``, element by
    element (the result reports the worst element).  The tolerance is
    ``atol + rtol·|value|`` plus the difference's rounding noise and its
    truncation error (estimated from a second step 2h).  Inputs with more
    than ``max_elements`` elements are checked on a fixed sample of columns.
    With ``edges=True`` each equation's rule is checked too (see the module).

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda x, y: np.sin(x) * y * y, x=0.5, y=2.0)
        >>> report = second_order_check(t)
        >>> report.ok, [(r.where, r.verdict) for r in report.results]
        (True, [('∂²/∂y∂x', 'ok'), ('∂²/∂x∂y', 'ok')])
    """
    tape = trace.tape
    output = tape.output
    relative_step = (EPS ** (1.0 / 3.0)) if step is None else float(step)
    if output is None:
        return NumericReport([], relative_step, ["the output is a constant: nothing to check"])
    seed = autodiff.checked_seed(seed, shape_of(tape.equations[output].value),
                                 node=tape.output_name, how="pass seed=")
    names = list(tape.inputs)
    leaves = [tape.inputs[name] for name in names]
    point = [plain_value(tape.equations[i].value) for i in leaves]
    function = _weighted(replay(tape, output, leaves), seed)
    nested = nested_gradient(function, point)
    notes: list[str] = []
    results: list[NumericResult] = []
    kinks = Replay(trace, seed)
    for k, name in enumerate(names):
        results.extend(_columns(nested, function, point, names, k, kinks, leaves[k],
                                relative_step, rtol, atol, max_elements, notes))
    if edges:
        results.extend(_rule_checks(tape, trace, relative_step, rtol, atol))
    return NumericReport(results, relative_step, notes)


def _weighted(function: Any, seed: Any) -> Any:
    if not np.ndim(seed) and seed == 1.0:
        return function
    return lambda *xs: np.sum(function(*xs) * seed)


def _labels(name: str, shape: tuple[int, ...]) -> list[str]:
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, index))}]" for index in np.ndindex(*shape)]


def _columns(nested: Any, function: Any, point: list[Any], names: list[str], k: int,
             kinks: Replay, leaf: int, relative_step: float, rtol: float, atol: float,
             limit: int, notes: list[str]) -> Iterator[NumericResult]:
    shape = shape_of(point[k])
    size = math.prod(shape)
    gradient = nested.gradients[k]
    first = np.broadcast_to(np.asarray(plain_value(gradient) if gradient is not None else 0.0,
                                       dtype=float), shape)
    columns = sample_elements(shape, first, limit)
    if len(columns) < size:
        notes.append(f"{names[k]}: checked {len(columns):,} of {size:,} Hessian columns")
    row_labels = [label for name, value in zip(names, point)
                  for label in _labels(name, shape_of(value))]
    downstream = kinks.downstream(leaf)
    base = np.asarray(point[k], dtype=float)
    for column in columns:
        seed: Any = 1.0
        if shape:
            seed = np.zeros(shape)
            seed[column] = 1.0
        analytic = np.concatenate([np.ravel(np.asarray(row, dtype=float))
                                   for row in nested.derivatives_of_gradient(k, seed)])
        h = relative_step * max(1.0, abs(float(base[column])))
        shifted: dict[int, np.ndarray] = {}
        crossed: dict[int, str | None] = {}
        for shift in (-2, -1, 1, 2):
            moved = list(point)
            if shape:
                moved[k] = base.copy()
                moved[k][column] += shift * h
            else:
                moved[k] = moved_number(point[k], float(base) + shift * h)
            with np.errstate(all="ignore"):
                shifted[shift] = np.concatenate([np.ravel(np.asarray(g, dtype=float))
                                                 for g in plain_gradient(function, moved)])
            crossed[shift] = kinks.run(leaf, moved[k], downstream)[1]
        yield _compare_column(analytic, shifted, crossed, h, rtol, atol, names[k],
                              row_labels, _labels(names[k], shape)[
                                  int(np.ravel_multi_index(column, shape)) if shape else 0],
                              column if shape else None)


def _compare_column(analytic: np.ndarray, shifted: dict[int, np.ndarray],
                    crossed: dict[int, str | None], h: float, rtol: float, atol: float,
                    name: str, row_labels: list[str], column_label: str,
                    index: tuple[int, ...] | None) -> NumericResult:
    central = (shifted[1] - shifted[-1]) / (2.0 * h)
    wide = (shifted[2] - shifted[-2]) / (4.0 * h)
    with np.errstate(all="ignore"):
        truncation = np.where(np.isfinite(wide - central), np.abs(central - wide) / 3.0, 0.0)
        rounding = 16.0 * EPS * max(float(np.max(np.abs(v), initial=0.0))
                                    for v in shifted.values()) / h
        diff = np.abs(analytic - central)
        tolerance = (atol + rtol * np.maximum(np.abs(analytic), np.abs(central)) + rounding
                     + 2.0 * truncation)
        badness = np.where(np.isfinite(diff), diff / tolerance, np.inf)
    worst = int(np.argmax(badness)) if badness.size else 0
    kink = crossed[-1] or crossed[1] or crossed[-2] or crossed[2]
    value_a = float(analytic[worst]) if analytic.size else 0.0
    value_n = float(central[worst]) if central.size else 0.0
    abs_diff = float(diff[worst]) if diff.size else 0.0
    finite = all(np.all(np.isfinite(v)) for v in shifted.values())
    agrees = bool(np.all(diff <= tolerance)) and finite
    verdict, note = (OK if agrees else WRONG), ""
    if not finite:
        verdict, note = NOT_DIFFERENTIABLE, ("differences of the gradient gave NaN/inf (the step "
                                             "leaves the function's domain?)")
    elif kink is not None and not agrees:
        verdict = NOT_DIFFERENTIABLE
        note = f"the step crosses a point where {kink!r} is not differentiable"
    row = row_labels[worst] if row_labels else name
    return NumericResult("second", name, row, None, index, value_a, value_n, abs_diff,
                         relative(abs_diff, value_a, value_n), verdict, note,
                         (row, column_label))


# --------------------------------------------------------------------------- one rule


def _rule_checks(tape: Tape, trace: Traced, relative_step: float, rtol: float, atol: float
                 ) -> Iterator[NumericResult]:
    kinks = Replay(trace, 1.0)
    for index in kinks.relevant:
        eq = tape.equations[index]
        if eq.primitive is None or index not in kinks.ids:
            continue
        positions = [p for p, x in enumerate(eq.inputs) if type(x) is Var
                     and eq.primitive.vjp(p) is not None]
        if positions:
            yield _rule_check(eq, positions, kinks, relative_step, rtol, atol)


def _rule_check(eq: Var, positions: list[int], kinks: Replay, relative_step: float,
                rtol: float, atol: float) -> NumericResult:
    """F(inputs) = Σₚ ⟨vjpₚ(u, f(inputs), inputs), wₚ⟩ for fixed random u, w: its traced
    gradient (the VJPs differentiated) against differences along a random direction."""
    prim = eq.primitive
    params = eq.params or {}
    values = [plain_value(v) for v in autodiff.input_values(eq)]
    rng = np.random.default_rng([eq.index, 2])
    out_shape = shape_of(plain_value(eq.value))
    upstream = rng.normal(size=out_shape) if out_shape else 1.0
    weights = {p: rng.normal(size=shape_of(values[p])) if shape_of(values[p]) else 1.0
               for p in positions}
    directions = {p: rng.normal(size=shape_of(values[p])) if shape_of(values[p]) else 1.0
                  for p in positions}

    def functional(*xs: Any) -> Any:
        args = list(values)
        for p, x in zip(positions, xs):
            args[p] = x
        out = prim(*args, **params)
        fake = types.SimpleNamespace(primitive=prim, params=eq.params, value=out)
        total = 0.0
        for p in positions:
            contribution = autodiff.edge_contribution(fake, p, upstream, args)
            if contribution is not None:
                total = total + np.sum(contribution * weights[p])
        return total

    point = [values[p] for p in positions]
    tape = Tape()
    with activate(tape):
        leaves = [tape.leaf(f"a{p}", _as_float(v)) for p, v in zip(positions, point)]
        result = functional(*leaves)
    analytic = 0.0
    if type(result) is Var and result.tape is tape:
        adjoints = autodiff.backward(tape.equations, result.index, 1.0)
        for leaf, p in zip(leaves, positions):
            grad = adjoints[leaf.index] if leaf.index < len(adjoints) else None
            if grad is not None:
                analytic += float(np.sum(np.asarray(grad, dtype=float) * directions[p]))
    scale = max([1.0] + [float(np.max(np.abs(v), initial=0.0)) for v in point])
    h = relative_step * scale
    distance = math.inf if prim.kink is None else prim.kink(*values, **params)

    def evaluate(shift: int) -> tuple[float, str | None]:
        moved = [_as_float(np.asarray(v, dtype=float) + shift * h * directions[p])
                 for p, v in zip(positions, point)]
        with np.errstate(all="ignore"):
            value = float(np.sum(np.asarray(functional(*moved), dtype=float)))
        reach = abs(shift) * h * max(float(np.max(np.abs(directions[p]), initial=0.0))
                                     for p in positions)
        return value, (kinks.ids[eq.index] if distance <= reach else None)

    with np.errstate(all="ignore"):
        centre = float(np.sum(np.asarray(functional(*point), dtype=float)))
    probed = probe(evaluate, centre, h)
    verdict, numeric, abs_diff, note = classify(analytic, probed, rtol, atol)
    child = kinks.ids[eq.index]
    note = "; ".join(filter(None, [note, "the derivative of its VJP, projected on random "
                                   "directions"]))
    return NumericResult("rule", child, None, None, None, analytic, numeric, abs_diff,
                         relative(abs_diff, analytic, numeric), verdict, note,
                         (kinks.graph.nodes[child]["label"], prim.name))


def _as_float(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.astype(float) if value.dtype.kind != "f" else value
    return float(value)
