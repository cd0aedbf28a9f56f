"""``tg.descend``: run an optimiser on a traced function, and the :class:`Descent` it returns.

Conventions (docs/descent.md):

- ``params[name][k]`` is the value after k updates (k = 0 is the start) and
  ``losses[k] = f(params[k])``; ``grad_norms[k]`` is the 2-norm of the gradient
  at ``params[k]`` over all optimised inputs together.
- Each recorded step k evaluates f and its gradient at ``params[k]``, then
  checks, in this order: divergence (NaN/inf, or a loss above
  10⁶·(|losses[0]| + 1)), ``tol`` (losses[k] < tol), ``gtol``
  (grad_norms[k] < gtol), ``patience`` (N steps in a row without a loss
  strictly below the best so far), ``callback(k, params, loss)`` returning
  True, and ``k == steps``; the first that holds stops the run with
  ``.steps = k``.  Otherwise the optimiser makes update k + 1.
- With ``batch``, losses[k] is the loss on the batch used at step k.

Example:
    >>> import tracegraph as tg
    >>> run = tg.descend(lambda x: (x - 3.0) ** 2, x=0.0, lr=0.25, steps=3)
    >>> run.losses.tolist(), run.params["x"].tolist(), run.stopped
    ([9.0, 2.25, 0.5625, 0.140625], [0.0, 1.5, 2.25, 2.625], 'max steps')
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NonFiniteWarning, TracegraphError
from .objective import Layout, Objective, function_objective
from .optimizers import Armijo, Settings, make_rule

DIVERGENCE_FACTOR = 1e6
"""A loss above ``DIVERGENCE_FACTOR · (|losses[0]| + 1)`` counts as diverged."""


class Descent:
    """One optimisation run: the loss, gradient norm and parameters at every recorded step.

    Attributes:
        losses: ndarray of ``steps + 1`` losses, ``losses[k] = f(params[k])``.
        params: ``{name: ndarray of shape (steps + 1, *shape)}``; ``params[name][k]``
            is the value after k updates.
        grad_norms: ndarray, the gradient's 2-norm at each ``params[k]``.
        final: ``{name: value}`` at the last recorded step (a float for a scalar).
        loss: the last loss, ``losses[-1]``.
        steps: how many updates were made.
        stopped: why the run ended, one sentence: ``"max steps"``, ``"loss below tol"``,
            ``"gradient norm below gtol"``, ``"no improvement for N steps"``,
            ``"diverged at step k"``, ``"stopped by callback"``, ``"line search failed at
            step k"`` (armijo) or ``"evaluation budget used"`` (:func:`tracegraph.compare`).
        evaluations: evaluations of f (value, value and gradient, and Armijo trials alike).
        gradient_evaluations: evaluations of the gradient.
        retraces: evaluations that ran the Python code (the first, and those where a guard
            flipped or a batch had another size); the others replayed the record.
        history: the loss of every evaluation of f, in order (Armijo trials included).
        optimizer, lr: what made the run.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> run = tg.descend(lambda w: np.sum((w - 1.0) ** 2), w=np.zeros(2), lr=0.5,
        ...                  steps=10, tol=1e-12)
        >>> run.steps, run.stopped, run.final["w"].tolist(), run.params["w"].shape
        (1, 'loss below tol', [1.0, 1.0], (2, 2))
    """

    def __init__(self, *, layout: Layout, thetas: list[np.ndarray], losses: list[float],
                 grad_norms: list[float], stopped: str, objective: Objective, optimizer: str,
                 lr: float, history: list[float]) -> None:
        self.layout = layout
        self.losses = np.array(losses, dtype=float)
        self.grad_norms = np.array(grad_norms, dtype=float)
        self._thetas = thetas
        self.final = layout.copied(thetas[-1])
        self.loss = float(self.losses[-1])
        self.steps = len(losses) - 1
        self.stopped = stopped
        self.evaluations = objective.evaluations
        self.gradient_evaluations = objective.gradient_evaluations
        self.retraces = objective.retraces
        self.optimizer = optimizer
        self.lr = lr
        self.history = np.array(history, dtype=float)
        self.objective = objective

    @functools.cached_property
    def params(self) -> dict[str, np.ndarray]:
        """``{name: ndarray of shape (steps + 1, *shape)}``, stacked when first read (a run
        that only needs ``final`` and the losses, like a comparison, never copies them)."""
        params = self.layout.stack(self._thetas)
        self._thetas = []
        return params

    @property
    def label(self) -> str:
        """``"adam, lr 0.01"``: how plots and tables name this run."""
        return f"{self.optimizer}, lr {self.lr:g}"

    def __repr__(self) -> str:
        return (f"<Descent {self.optimizer}: loss {self.losses[0]:.6g} -> {self.loss:.6g} in "
                f"{self.steps} steps ({self.stopped}), {self.evaluations} evaluations>")

    # -- tables -----------------------------------------------------------------------
    def history_header(self) -> list[str]:
        """``step, loss, grad_norm`` then one column per scalar parameter (``X[0,1]``).

        Example:
            >>> import numpy as np, tracegraph as tg
            >>> tg.descend(lambda b, W: b * np.sum(W), b=1.0, W=np.ones((1, 2)),
            ...            steps=0).history_header()
            ['step', 'loss', 'grad_norm', 'b', 'W[0,0]', 'W[0,1]']
        """
        return ["step", "loss", "grad_norm", *self.layout.element_names()]

    def history_rows(self) -> Iterator[list[Any]]:
        """One row per recorded step (``steps + 1`` rows), matching :meth:`history_header`."""
        flat = np.concatenate([values.reshape(len(self.losses), -1)
                               for values in self.params.values()], axis=1)
        for k in range(len(self.losses)):
            yield [k, float(self.losses[k]), float(self.grad_norms[k]),
                   *(float(v) for v in flat[k])]

    def to_csv(self, path: Any) -> None:
        """Write :meth:`history_rows` as CSV (numbers in full precision, ``repr``).

        Example:
            >>> import pathlib, tempfile, tracegraph as tg
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     path = pathlib.Path(folder) / "run.csv"
            ...     tg.descend(lambda x: x * x, x=1.0, lr=0.25, steps=1).to_csv(path)
            ...     print(path.read_text().strip())
            step,loss,grad_norm,x
            0,1.0,2.0,1.0
            1,0.25,1.0,0.5
        """
        import csv
        import io

        from ..diagram.output import write_atomically

        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(self.history_header())
        writer.writerows([row[0], *(repr(v) for v in row[1:])] for row in self.history_rows())
        write_atomically(Path(path), text.getvalue().encode("utf-8"))

    # -- pictures (matplotlib and Pillow are imported here, when used) -------------------
    def plot(self, path: Any, *, labels: Iterable[str] | None = None, title: str | None = None
             ) -> Any:
        """Save a picture of the run (PNG, SVG or PDF by extension): the loss curve, and
        beside it the loss's contour plot with the path (two scalar parameters) or the
        points on the plane (one (n, 2) parameter, labelled with ``labels``).

        Example:
            >>> import pathlib, tempfile, tracegraph as tg
            >>> run = tg.descend(lambda x, y: x * x + 4 * y * y, x=1.0, y=1.0, lr=0.1, steps=20)
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     run.plot(pathlib.Path(folder) / "run.png").stat().st_size > 1000
            True
        """
        from .plots import plot_run

        return plot_run(self, path, labels=labels, title=title)

    def animate(self, path: Any, *, labels: Iterable[str] | None = None, frames: int = 200,
                seconds: float = 8.0, title: str | None = None) -> Any:
        """Write an animation of the run: ``.gif`` (Pillow) or ``.html`` (one self-contained
        page: no network, no CDN).  At most ``frames`` frames, spread evenly over the steps.

        Example:
            >>> import pathlib, tempfile, tracegraph as tg
            >>> run = tg.descend(lambda x, y: x * x + 4 * y * y, x=1.0, y=1.0, lr=0.1, steps=20)
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     "<canvas" in run.animate(pathlib.Path(folder) / "run.html").read_text()
            True
        """
        from .animation import animate_run

        return animate_run(self, path, labels=labels, frames=frames, seconds=seconds,
                           title=title)


# --------------------------------------------------------------------------- batches


class BatchSampler:
    """Rows of the batched inputs for each step: every epoch a fresh permutation from
    ``np.random.default_rng(seed)``, cut into batches of ``batch_size`` (the last one of an
    epoch may be smaller); ``batch_size=None`` uses all rows every step.

    Example:
        >>> import numpy as np
        >>> sampler = BatchSampler({"X": np.arange(5.0)}, batch_size=2, seed=0)
        >>> [sampler.next()["X"].tolist() for _ in range(4)]
        [[2.0, 4.0], [3.0, 0.0], [1.0], [4.0, 1.0]]
    """

    def __init__(self, data: Mapping[str, np.ndarray], batch_size: int | None, seed: int
                 ) -> None:
        self.data = dict(data)
        lengths = {name: (len(value) if np.ndim(value) else None)
                   for name, value in self.data.items()}
        if None in lengths.values():
            name = next(n for n, length in lengths.items() if length is None)
            raise TracegraphError(f"batch: {name!r} is a scalar; batches take rows of arrays")
        if len(set(lengths.values())) > 1:
            raise TracegraphError(
                "batch: the inputs have different numbers of rows: " +
                ", ".join(f"{n} {length}" for n, length in lengths.items()),
                hint="every batched input needs one row per example (axis 0)")
        self.rows = next(iter(lengths.values()))
        if batch_size is not None and not (isinstance(batch_size, (int, np.integer))
                                           and batch_size >= 1):
            raise TracegraphError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = None if batch_size is None else min(int(batch_size), self.rows)
        self.rng = np.random.default_rng(seed)
        self.order: np.ndarray = np.arange(0)
        self.position = 0

    def next(self) -> dict[str, np.ndarray]:
        if self.batch_size is None:
            return self.data
        if self.position >= len(self.order):
            self.order = self.rng.permutation(self.rows)
            self.position = 0
        chosen = self.order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        return {name: value[chosen] for name, value in self.data.items()}


# --------------------------------------------------------------------------- the loop


def descend(fn: Callable[..., Any], *, optimizer: str = "gd", lr: float = 0.01,
            steps: int = 1000, wrt: str | Iterable[str] | None = None, tol: float | None = None,
            gtol: float | None = None, patience: int | None = None, momentum: float = 0.9,
            betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, alpha: float = 0.99,
            seed: int = 0, batch: str | Iterable[str] | None = None,
            batch_size: int | None = None,
            callback: Callable[[int, dict[str, Any], float], Any] | None = None,
            **inputs: Any) -> Descent:
    """Minimise ``fn(**inputs)`` over the inputs named by ``wrt`` and return the :class:`Descent`.

    ``optimizer`` is ``"gd"``, ``"momentum"``, ``"nesterov"``, ``"rmsprop"``, ``"adam"``
    or ``"armijo"``, with torch.optim's update rules in float64 (formulas in
    docs/descent.md).  ``wrt``: names (a list or ``"a,b"``); None means every
    float input that is not :func:`tracegraph.constant`.  Stopping rules: ``steps``
    updates at most, ``tol`` (loss), ``gtol`` (gradient norm), ``patience``,
    divergence (never an exception), ``callback(step, params, loss)`` returning
    True.  ``batch`` names data inputs sampled by rows (``batch_size=1``:
    stochastic; None: all rows every step), shuffled each epoch with
    ``np.random.default_rng(seed)``.

    The function runs once; every later step replays its record with new
    values (and traces again only when a comparison that steered the code would
    now come out differently), giving the same numbers as tracing every step.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> def rosenbrock(x, y):
        ...     return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2
        >>> run = tg.descend(rosenbrock, x=-1.0, y=1.0, optimizer="adam", lr=0.05, steps=3000,
        ...                  gtol=1e-6)
        >>> run.stopped, round(run.final["x"], 4), round(run.final["y"], 4)
        ('gradient norm below gtol', 1.0, 1.0)
    """
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 0:
        raise TracegraphError(f"steps must be a non-negative integer, got {steps!r}")
    batch_names = _batch_names(batch)
    if batch_size is not None and not batch_names:
        raise TracegraphError("batch_size needs batch=: the names of the data inputs to sample",
                              hint="e.g. batch='X,y', batch_size=32")
    objective = function_objective(fn, inputs, wrt, batch_names)
    sampler = BatchSampler(objective.batch_data, batch_size, seed) if batch_names else None
    settings = Settings(lr=lr, momentum=momentum, eps=eps, alpha=alpha,
                        betas=tuple(betas) if isinstance(betas, (tuple, list)) else betas)
    return minimise(objective, optimizer, settings, steps=int(steps), tol=tol, gtol=gtol,
                    patience=patience, callback=callback, sampler=sampler)


def _batch_names(batch: str | Iterable[str] | None) -> list[str]:
    if batch is None:
        return []
    names = batch.split(",") if isinstance(batch, str) else list(batch)
    return [name.strip() for name in names if name.strip()]


def minimise(objective: Objective, optimizer: str, settings: Settings, *, steps: int,
             tol: float | None = None, gtol: float | None = None, patience: int | None = None,
             callback: Callable[..., Any] | None = None, sampler: BatchSampler | None = None,
             budget: int | None = None) -> Descent:
    """The descent loop on an :class:`~.objective.Objective` (see the module docstring).

    ``budget`` caps the evaluations of f (:func:`tracegraph.compare`): the run
    stops with ``"evaluation budget used"`` rather than evaluate once more.

    Example:
        >>> from tracegraph.descent.objective import function_objective
        >>> f = function_objective(lambda x: x * x, {"x": 1.0})
        >>> run = minimise(f, "gd", Settings(lr=0.25), steps=100, budget=3)
        >>> run.losses.tolist(), run.stopped
        ([1.0, 0.25, 0.0625], 'evaluation budget used')
    """
    if patience is not None and not (isinstance(patience, (int, np.integer)) and
                                     not isinstance(patience, bool) and patience >= 1):
        raise TracegraphError(f"patience must be a positive integer, got {patience!r}")
    for label, threshold in (("tol", tol), ("gtol", gtol)):
        if threshold is not None and not (isinstance(threshold, (int, float, np.number))
                                          and not isinstance(threshold, bool)
                                          and not np.isnan(threshold)):
            raise TracegraphError(f"{label} must be a number, got {threshold!r}",
                                  hint=f"leave {label} out (None) to not stop on it")
    rule = make_rule(optimizer, settings)
    loop = _Loop(objective, rule, tol=tol, gtol=gtol, patience=patience, callback=callback,
                 sampler=sampler, budget=budget)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # Divergence is reported in .stopped; NaN warnings from every step would drown it.
        warnings.simplefilter("ignore", NonFiniteWarning)
        stopped = loop.run(steps)
    return Descent(layout=objective.layout, thetas=loop.thetas, losses=loop.losses,
                   grad_norms=loop.grad_norms, stopped=stopped, objective=objective,
                   optimizer=optimizer, lr=settings.lr, history=objective.history)


class _Loop:
    """The state of one run: the recorded steps and the stopping rules."""

    def __init__(self, objective: Objective, rule: Any, *, tol: float | None,
                 gtol: float | None, patience: int | None, callback: Callable[..., Any] | None,
                 sampler: BatchSampler | None, budget: int | None) -> None:
        self.objective = objective
        self.rule = rule
        self.tol, self.gtol, self.patience = tol, gtol, patience
        self.callback = callback
        self.sampler = sampler
        self.budget = budget
        self.thetas: list[np.ndarray] = []
        self.losses: list[float] = []
        self.grad_norms: list[float] = []
        self.best = math.inf
        self.since_best = 0
        self.batch: Mapping[str, Any] | None = None

    def out_of_budget(self) -> bool:
        return self.budget is not None and self.objective.evaluations >= self.budget

    def trial(self, theta: np.ndarray) -> float | None:
        """An Armijo trial point's loss (on the step's batch), or None past the budget."""
        if self.out_of_budget():
            return None
        return self.objective.evaluate(theta, self.batch)

    def run(self, steps: int) -> str:
        objective = self.objective
        theta = objective.start
        known_loss: float | None = None  # the accepted Armijo trial was evaluated already
        # One gradient vector for the whole run: no rule keeps g past its step (momentum
        # copies it), and new memory each step costs page faults on a large model.
        gradient_buffer = np.empty(objective.layout.size)
        for k in range(steps + 1):
            if known_loss is None:
                if self.out_of_budget():
                    return "evaluation budget used"
                self.batch = self.sampler.next() if self.sampler is not None else None
                loss = objective.evaluate(theta, self.batch)
            else:
                loss = known_loss
            grad = objective.gradient(out=gradient_buffer)
            self.thetas.append(theta)
            self.losses.append(loss)
            self.grad_norms.append(float(np.sqrt(grad @ grad)))
            reason = self.stop_reason(k, theta, loss)
            if reason is not None:
                return reason
            if k == steps:
                return "max steps"
            if isinstance(self.rule, Armijo):
                found = self.rule.search(theta, grad, loss, self.trial)
                if found is None:
                    return ("evaluation budget used" if self.out_of_budget()
                            else f"line search failed at step {k}")
                theta, known_loss = found
                if self.sampler is not None and self.sampler.batch_size is not None:
                    known_loss = None  # the next step is on a new batch
            else:
                theta = self.rule.update(theta, grad)
        return "max steps"  # steps + 1 entries recorded; unreachable for steps >= 0

    def stop_reason(self, k: int, theta: np.ndarray, loss: float) -> str | None:
        first = self.losses[0]
        if not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * (abs(first) + 1):
            return f"diverged at step {k}"
        if self.tol is not None and loss < self.tol:
            return "loss below tol"
        if self.gtol is not None and self.grad_norms[-1] < self.gtol:
            return "gradient norm below gtol"
        if self.patience is not None:
            if loss < self.best:
                self.best, self.since_best = loss, 0
            else:
                self.since_best += 1
                if self.since_best >= self.patience:
                    return f"no improvement for {self.patience} steps"
        if self.callback is not None:
            if self.callback(k, self.objective.layout.copied(theta), loss):
                return "stopped by callback"
        return None
