"""``tg.compare``: several optimisers (and scipy's Nelder–Mead) from the same start, one table.

Every method starts from the inputs' values and may evaluate f at most
``budget`` times; a value-and-gradient evaluation counts as one (the table
shows the gradient evaluations separately so that a reader can weigh them).
``evals_to_99`` is the number of evaluations a method needed to reach 99 % of
the improvement f(start) − (best loss found by any method in the
comparison), counting every evaluation (Armijo trials and Nelder–Mead's
simplex points included); None when it never got there.

Example:
    >>> import tracegraph as tg
    >>> def bowl(x, y):                     # at lr 0.1 plain gd bounces across y = -2
    ...     return (x - 1.0) ** 2 + 10.0 * (y + 2.0) ** 2
    >>> table = tg.compare(bowl, methods=["gd", "armijo", "nelder-mead"], budget=300, lr=0.1,
    ...                    x=0.0, y=0.0)
    >>> for row in table.rows[:2]:
    ...     print(row["method"], row["steps"], row["evaluations"], row["gradient_evaluations"],
    ...           f"{row['loss']:.3g}", row["evals_to_99"])
    gd 299 300 300 40 None
    armijo 164 300 165 4.93e-32 10
    >>> simplex = table.rows[2]              # scipy's counts, which its releases may change
    >>> simplex["gradient_evaluations"], simplex["loss"] < 1e-6, simplex["evaluations"] < 300
    (0, True, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import TracegraphError
from ..numbers import format_number
from .objective import Objective, function_objective
from .optimizers import RULES, Settings, check_settings
from .optional import require
from .run import Descent, minimise

NELDER_MEAD = "nelder-mead"
NELDER_MEAD_ADAPTIVE = "nelder-mead-adaptive"
METHODS = (*RULES, NELDER_MEAD, NELDER_MEAD_ADAPTIVE)
"""The methods :func:`compare` accepts."""
ROW_KEYS = ("method", "steps", "evaluations", "gradient_evaluations", "loss", "evals_to_99",
            "seconds")
"""The keys of every row of :attr:`Comparison.rows`, in table order."""
HEADINGS = ("method", "steps", "evaluations", "gradient evaluations", "final loss",
            "evaluations to 99 %", "seconds")


@dataclass
class MethodRun:
    """What one method of a comparison did: its evaluations' losses, in order, and its result.

    Example:
        >>> import tracegraph as tg
        >>> table = tg.compare(lambda x: (x - 1.0) ** 2, methods=["armijo"], budget=5, lr=1.0,
        ...                    x=0.0)
        >>> run = table.runs[0]             # the trial at s = 1 overshoots to x = 2: loss 1
        >>> run.method, run.steps, run.evaluations, run.history.tolist(), run.stopped
        ('armijo', 3, 5, [1.0, 1.0, 0.0, 0.0, 0.0], 'evaluation budget used')
    """

    method: str
    steps: int
    evaluations: int
    gradient_evaluations: int
    loss: float
    seconds: float
    history: np.ndarray
    descent: Descent | None = None
    stopped: str = ""


@dataclass
class Comparison:
    """The result of :func:`compare`: ``rows`` (dicts with :data:`ROW_KEYS`) and the runs.

    ``str(comparison)`` is the table; ``comparison.runs[i].descent`` is the
    :class:`~.run.Descent` of a gradient method (None for Nelder–Mead);
    ``comparison.plot(path)`` draws the best loss so far against evaluations.

    Example:
        >>> import tracegraph as tg
        >>> table = tg.compare(lambda x: (x - 1.0) ** 2, methods=["gd", "armijo"], budget=10,
        ...                    lr=1.0, x=0.0)   # gd at lr 1 bounces between x = 0 and x = 2
        >>> [(row["method"], row["loss"], row["evals_to_99"]) for row in table.rows]
        [('gd', 1.0, None), ('armijo', 0.0, 3)]
        >>> print(str(table).splitlines()[-1])
        99 % of the improvement: loss 1 -> 0.01 (best found 0)
    """

    runs: list[MethodRun]
    target: float
    start_loss: float
    best_loss: float
    rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows = [{"method": run.method, "steps": run.steps, "evaluations": run.evaluations,
                      "gradient_evaluations": run.gradient_evaluations, "loss": run.loss,
                      "evals_to_99": first_reaching(run.history, self.target),
                      "seconds": run.seconds} for run in self.runs]

    def __str__(self) -> str:
        cells = [[_cell(row[key], key) for key in ROW_KEYS] for row in self.rows]
        diverged = [f"{run.method}: {run.stopped}" for run in self.runs
                    if run.stopped.startswith("diverged")]
        return format_table(list(HEADINGS), cells) + (
            f"\n99 % of the improvement: loss {format_number(self.start_loss)} -> "
            f"{format_number(self.target)} (best found {format_number(self.best_loss)})") + (
            "".join(f"\n{line} (its final loss is where it stopped)" for line in diverged))

    def plot(self, path: Any, *, title: str | None = None) -> Any:
        """Save the best loss so far of every method against evaluations of f (PNG/SVG/PDF)."""
        from .plots import plot_comparison

        return plot_comparison(self, path, title=title)


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "—"
    if key == "seconds":
        return f"{value:.3f}"
    if key == "loss":
        return format_number(value, 6)
    return str(value)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain text columns: the first left-aligned, the others right-aligned.

    Example:
        >>> print(format_table(["method", "steps"], [["gd", "10"], ["armijo", "7"]]))
        method  steps
        gd         10
        armijo      7
    """
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def first_reaching(history: np.ndarray, target: float) -> int | None:
    """The 1-based number of the first evaluation with loss ≤ ``target`` (None if none).

    Example:
        >>> first_reaching(np.array([5.0, 3.0, 0.5, 0.1]), 1.0), first_reaching(np.ones(2), 0.0)
        (3, None)
    """
    reached = np.flatnonzero(history <= target)
    return int(reached[0]) + 1 if reached.size else None


# --------------------------------------------------------------------------- running


def compare(fn: Callable[..., Any], methods: Iterable[str] = ("gd", "adam", "armijo",
                                                                 NELDER_MEAD),
            budget: int = 1000, lr: float | Iterable[float] = 0.01, **inputs: Any
            ) -> Comparison:
    """Run each method on ``fn(**inputs)`` from the same start and tabulate them.

    ``methods``: any of ``gd, momentum, nesterov, rmsprop, adam, armijo`` (with
    the defaults of :func:`tracegraph.descend`), ``nelder-mead``
    (``scipy.optimize.minimize(method="Nelder-Mead")``; needs scipy) and
    ``nelder-mead-adaptive`` (the same with ``adaptive=True``).  Every
    float input that is not :func:`tracegraph.constant` is optimised.
    ``budget`` caps each method's evaluations of f.  ``lr`` may be a list (a
    learning-rate sweep): each gradient method then runs once per rate, named
    ``"gd, lr 0.1"``.

    Example:
        >>> import tracegraph as tg
        >>> sweep = tg.compare(lambda x: x ** 4, methods=["gd"], budget=300, lr=[0.01, 0.6], x=2.0)
        >>> [(row["method"], row["steps"]) for row in sweep.rows]
        [('gd, lr 0.01', 299), ('gd, lr 0.6', 2)]
    """
    names = list(inputs)

    def fresh() -> Objective:
        return function_objective(fn, {name: inputs[name] for name in names})

    return run_comparison(fresh, methods, budget=budget, lr=lr)


def run_comparison(fresh: Callable[[], Objective], methods: Iterable[str], *, budget: int,
                   lr: float | Iterable[float], settings: Settings | None = None) -> Comparison:
    """:func:`compare` on objectives made by ``fresh()`` (one per method, so counts are
    separate); ``settings`` gives the other hyper-parameters.

    Example:
        >>> fresh = lambda: function_objective(lambda x: x * x, {"x": 1.0})
        >>> table = run_comparison(fresh, ["gd", "momentum"], budget=10, lr=[0.1, 0.5],
        ...                        settings=Settings(momentum=0.5))
        >>> [(row["method"], row["evaluations"], round(row["loss"], 4)) for row in table.rows]
        [('gd, lr 0.1', 10, 0.018), ('gd, lr 0.5', 10, 0.0),
         ('momentum, lr 0.1', 10, 0.0025), ('momentum, lr 0.5', 10, 0.0001)]
    """
    methods = [m.strip().lower() for m in ([methods] if isinstance(methods, str) else methods)]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise TracegraphError(f"unknown method {unknown[0]!r}" if unknown else "no method given",
                              hint="choose from " + ", ".join(METHODS))
    if not isinstance(budget, (int, np.integer)) or budget < 1:
        raise TracegraphError(f"budget must be a positive integer, got {budget!r}")
    rates = [float(r) for r in ([lr] if isinstance(lr, (int, float)) else lr)]
    base = settings or Settings()
    runs = []
    for method in methods:
        if method in (NELDER_MEAD, NELDER_MEAD_ADAPTIVE):
            runs.append(nelder_mead(fresh(), budget, adaptive=method == NELDER_MEAD_ADAPTIVE))
            continue
        for rate in rates:
            chosen = Settings(lr=rate, momentum=base.momentum, betas=base.betas, eps=base.eps,
                              alpha=base.alpha)
            check_settings(chosen)
            name = method if len(rates) == 1 else f"{method}, lr {rate:g}"
            runs.append(_gradient_method(fresh(), method, name, chosen, budget))
    start = runs[0].history[0]
    finite = np.concatenate([run.history[np.isfinite(run.history)] for run in runs])
    best = float(finite.min()) if finite.size else math.nan
    target = start - 0.99 * (start - best)
    return Comparison(runs, target, float(start), best)


def _gradient_method(objective: Objective, method: str, name: str, settings: Settings,
                     budget: int) -> MethodRun:
    began = time.perf_counter()
    run = minimise(objective, method, settings, steps=int(budget), budget=int(budget))
    seconds = time.perf_counter() - began
    return MethodRun(name, run.steps, run.evaluations, run.gradient_evaluations, run.loss,
                     seconds, run.history, descent=run, stopped=run.stopped)


class _BudgetUsed(Exception):
    """Raised inside scipy's loop when the evaluation budget is spent."""


def nelder_mead(objective: Objective, budget: int, *, adaptive: bool = False) -> MethodRun:
    """scipy.optimize.minimize(method="Nelder-Mead") with a counting wrapper: at most
    ``budget`` evaluations (values only, by replay); ``steps`` is its iteration count and
    ``loss`` the best value it evaluated.  ``adaptive`` is scipy's option of that name
    (coefficients scaled with the dimension, for many variables).

    Example:
        >>> f = function_objective(lambda x, y: (x - 1.0) ** 2 + y * y, {"x": 0.0, "y": 0.0})
        >>> run = nelder_mead(f, budget=200)
        >>> run.method, run.gradient_evaluations, round(run.loss, 6), run.stopped
        ('nelder-mead', 0, 0.0, 'Optimization terminated successfully.')
        >>> run.evaluations <= 200, run.evaluations == f.evaluations
        (True, True)
    """
    optimize = require("scipy.optimize", "scipy", "Nelder-Mead")
    iterations = 0

    def f(theta: np.ndarray) -> float:
        if objective.evaluations >= budget:
            raise _BudgetUsed
        return objective.evaluate(np.array(theta, dtype=float))

    def count(*_: Any) -> None:
        nonlocal iterations
        iterations += 1

    stopped = "budget"
    began = time.perf_counter()
    with np.errstate(all="ignore"):
        try:
            result = optimize.minimize(f, objective.start, method="Nelder-Mead", callback=count,
                                       options={"maxfev": budget, "maxiter": 100 * budget,
                                                "adaptive": adaptive})
            stopped = str(result.message)
            iterations = int(getattr(result, "nit", iterations))  # scipy's own count
        except _BudgetUsed:
            pass
    seconds = time.perf_counter() - began
    history = np.array(objective.history, dtype=float)
    finite = history[np.isfinite(history)]
    loss = float(finite.min()) if finite.size else math.nan
    return MethodRun(NELDER_MEAD_ADAPTIVE if adaptive else NELDER_MEAD, iterations,
                     objective.evaluations, 0, loss, seconds, history, stopped=stopped)
