"""Still pictures of descent runs, drawn with matplotlib (imported when a picture is asked for).

- the loss curve, on a log scale when it spans decades;
- two scalar parameters: the loss's contour plot with the path taken;
- one (n, 2) parameter: the points on the plane, where they started and
  where they went (labelled, e.g. the seed-003 cities);
- several runs (:func:`plot_runs`) or methods (:meth:`Comparison.plot`) on one figure.

matplotlib is used through ``Figure`` (no pyplot): no window, no global state.

Example:
    >>> import pathlib, tempfile, tracegraph as tg
    >>> from tracegraph.descent.plots import plot_runs
    >>> runs = [tg.descend(lambda x: x ** 4, x=1.0, lr=lr, steps=50) for lr in (0.01, 0.1)]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     plot_runs(runs, pathlib.Path(folder) / "runs.png").suffix
    '.png'
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..diagram.output import write_atomically
from ..errors import TracegraphError
from .optional import figure_class, require

if TYPE_CHECKING:
    from .compare import Comparison
    from .run import Descent

SPANS_DECADES = 100.0
"""A positive curve whose largest/smallest value exceeds this is drawn on a log scale."""
LINE_STYLES = ("-", "--", ":", "-.")
"""One style per run or method, in turn: two that coincide (gd and an Armijo search that
always accepts lr, third in ``tg.compare``'s default list) both stay visible."""
GRID = 80
"""Grid points per axis of a contour plot (GRID² evaluations of f, by replay)."""


def view_of(run: Descent) -> str:
    """Which picture suits the run's parameters: ``"contour"`` (two scalars), ``"plane"``
    (one (n, 2) array) or ``"curve"`` (anything else: the loss curve only).

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> view_of(tg.descend(lambda X: np.sum(X * X), X=np.ones((3, 2)), steps=1))
        'plane'
    """
    shapes = run.layout.shapes
    if shapes == ((), ()):
        return "contour"
    if len(shapes) == 1 and len(shapes[0]) == 2 and shapes[0][1] == 2:
        return "plane"
    return "curve"


def wants_log(values: np.ndarray) -> bool:
    """True when every value is positive and finite and they span more than two decades.

    Example:
        >>> wants_log(np.array([1000.0, 1.0])), wants_log(np.array([2.0, 1.0]))
        (True, False)
    """
    finite = values[np.isfinite(values)]
    return bool(finite.size and finite.min() > 0 and finite.max() / finite.min() > SPANS_DECADES)


def finite_losses(run: Descent) -> tuple[np.ndarray, np.ndarray]:
    """Steps and losses with the non-finite tail of a diverged run left out.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> run = tg.descend(lambda x: np.sqrt(x), x=1.0, lr=4.0, steps=3)   # x: 1 − 4·0.5 = −1
        >>> run.losses.tolist(), run.stopped, [a.tolist() for a in finite_losses(run)]
        ([1.0, nan], 'diverged at step 1', [[0], [1.0]])
    """
    steps = np.arange(len(run.losses))
    keep = np.isfinite(run.losses)
    return steps[keep], run.losses[keep]


def draw_loss_curve(ax: Any, runs: Sequence[Descent], *, labels: bool = False) -> None:
    """The loss against the step for each run, log-scaled when the curves span decades.

    Example:
        >>> import tracegraph as tg
        >>> runs = [tg.descend(lambda x: x ** 4, x=1.0, lr=lr, steps=20) for lr in (0.01, 0.2)]
        >>> ax = figure_class()().subplots()
        >>> draw_loss_curve(ax, runs, labels=True)
        >>> len(ax.get_lines()), ax.get_yscale(), [t.get_text() for t in ax.get_legend().texts]
        (2, 'log', ['gd, lr 0.01', 'gd, lr 0.2'])
    """
    everything = np.concatenate([finite_losses(run)[1] for run in runs])
    for i, run in enumerate(runs):
        steps, losses = finite_losses(run)
        # A style of its own for each run (LINE_STYLES): coinciding runs stay visible.
        ax.plot(steps, losses, lw=1.6, ls=LINE_STYLES[i % len(LINE_STYLES)],
                label=(f"{run.label} ({run.stopped})" if run.stopped.startswith("diverged")
                       else run.label) if labels else None)
    if wants_log(everything):
        ax.set_yscale("log")
    ticker = require("matplotlib.ticker", "matplotlib", "plots")
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))  # no step 0.25 on short runs
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    if labels:
        ax.legend(fontsize=8)


def path_of(run: Descent) -> np.ndarray:
    """The (steps + 1, 2) path of a two-parameter run, non-finite points left out.

    Example:
        >>> import tracegraph as tg
        >>> run = tg.descend(lambda x, y: x * x + y * y, x=1.0, y=2.0, lr=0.25, steps=2)
        >>> path_of(run).tolist()
        [[1.0, 2.0], [0.5, 1.0], [0.25, 0.5]]
    """
    path = np.column_stack([run.params[name] for name in run.layout.names])
    return path[np.all(np.isfinite(path), axis=1)]


def contour_grid(run: Descent, margin: float = 0.25, points: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The loss on a grid around the run's path (or ``points``), evaluated by replay.

    Example:
        >>> import tracegraph as tg
        >>> run = tg.descend(lambda x, y: x * x + y * y, x=1.0, y=2.0, lr=0.25, steps=2)
        >>> xs, ys, zs = contour_grid(run)    # x went 1 → 0.25: a quarter of 0.75 more each side
        >>> zs.shape, [round(float(v), 4) for v in (xs[0], xs[-1], zs[0, 0])]
        ((80, 80), [0.0625, 1.1875, 0.0195])
    """
    path = _some_finite(path_of(run) if points is None else points)
    low, high = path.min(axis=0), path.max(axis=0)
    span = np.maximum(high - low, 1e-3 * np.maximum(1.0, np.abs(high)))
    low, high = low - margin * span, high + margin * span
    xs = np.linspace(low[0], high[0], GRID)
    ys = np.linspace(low[1], high[1], GRID)
    objective = run.objective
    with np.errstate(all="ignore"):
        zs = np.array([[objective.peek(np.array([x, y])) for x in xs] for y in ys])
    return xs, ys, zs


def contour_levels(zs: np.ndarray, count: int = 25) -> np.ndarray:
    """Contour levels: log-spaced when the loss spans decades over the grid, else linear.

    Example:
        >>> contour_levels(np.array([[1.0, 2.0], [3.0, 5.0]]), count=5).tolist()
        [1.0, 2.0, 3.0, 4.0, 5.0]
        >>> contour_levels(np.array([[0.01, 100.0]]), count=3).round(6).tolist()
        [0.01, 1.0, 100.0]
    """
    finite = zs[np.isfinite(zs)]
    low, high = float(finite.min()), float(finite.max())
    if low > 0 and high / low > SPANS_DECADES:
        return np.geomspace(low, high, count)
    if high - low <= 0:
        return np.array([low - 1.0, low + 1.0])
    return np.linspace(low, high, count)


def draw_contour(ax: Any, run: Descent, *, path: bool = True,
                 points: np.ndarray | None = None) -> None:
    """The loss's contours around the path (or ``points``), the path (start ○, end ●) and
    axis names.

    Example:
        >>> import tracegraph as tg
        >>> run = tg.descend(lambda x, y: x * x + y * y, x=1.0, y=2.0, lr=0.25, steps=2)
        >>> ax = figure_class()().subplots()
        >>> draw_contour(ax, run)
        >>> ax.get_xlabel(), ax.get_ylabel(), len(ax.get_lines())   # path, end, start
        ('x', 'y', 3)
    """
    xs, ys, zs = contour_grid(run, points=points)
    zs = np.where(np.isfinite(zs), zs, np.nanmax(np.where(np.isfinite(zs), zs, np.nan)))
    ax.contourf(xs, ys, zs, levels=contour_levels(zs), cmap="viridis", alpha=0.85)
    ax.contour(xs, ys, zs, levels=contour_levels(zs), colors="white", linewidths=0.4, alpha=0.5)
    a, b = (run.params[name] for name in run.layout.names)
    if path:
        ax.plot(a, b, "-", color="#d62728", lw=1.3)
        ax.plot(a[-1:], b[-1:], "o", color="#d62728", ms=6)
    ax.plot(a[:1], b[:1], "o", mfc="white", mec="#d62728", ms=7)
    ax.set_xlabel(run.layout.names[0])
    ax.set_ylabel(run.layout.names[1])
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])


def _some_finite(points: np.ndarray) -> np.ndarray:
    if not len(points):
        raise TracegraphError(
            "nothing to draw on the plane: every point of the run is NaN or infinite",
            hint="start from finite values (the run stopped at its first step)")
    return points


def plane_limits(points: np.ndarray, margin: float = 0.08) -> tuple[tuple[float, float], ...]:
    """Square axis limits holding every finite point of every frame.

    Example:
        >>> frames = np.array([[[0.0, 0.0], [2.0, 1.0]], [[np.nan, 5.0], [1.0, 1.0]]])
        >>> np.round(plane_limits(frames), 3).tolist()     # 2 wide, 8 % more, centred
        [[-0.08, 2.08], [-0.58, 1.58]]
    """
    flat = points.reshape(-1, 2)
    flat = _some_finite(flat[np.all(np.isfinite(flat), axis=1)])
    low, high = flat.min(axis=0), flat.max(axis=0)
    centre, half = (low + high) / 2, max(float(np.max(high - low)) / 2, 1e-9) * (1 + margin)
    return (centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half)


def draw_plane(ax: Any, run: Descent, labels: Sequence[str] | None) -> None:
    """Each point's path on the plane, its start (○) and end (●), labelled.

    Example:
        >>> import tracegraph as tg
        >>> run = tg.descend(lambda X: np.sum(X * X), X=np.eye(3, 2), lr=0.1, steps=5)
        >>> ax = figure_class()().subplots()
        >>> draw_plane(ax, run, ["a", "b", "c"])
        >>> ax.get_title(), [text.get_text() for text in ax.texts]
        ('X on the plane: start ○, after 5 steps ●', ['a', 'b', 'c'])
    """
    points = run.params[run.layout.names[0]]
    for i in range(points.shape[1]):
        ax.plot(points[:, i, 0], points[:, i, 1], "-", color="#1f77b4", lw=0.6, alpha=0.35)
    ax.plot(points[0, :, 0], points[0, :, 1], "o", mfc="none", mec="#999999", ms=4)
    ax.plot(points[-1, :, 0], points[-1, :, 1], "o", color="#1f77b4", ms=5)
    for i, text in enumerate(labels or ()):
        ax.annotate(text, points[-1, i], xytext=(3, 3), textcoords="offset points", fontsize=7)
    xlim, ylim = plane_limits(points)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_title(f"{run.layout.names[0]} on the plane: start ○, after {run.steps} steps ●",
                 fontsize=9)


def run_title(run: Descent) -> str:
    """The title of a run's picture: its label, first and last loss, steps and why it stopped.

    Example:
        >>> import tracegraph as tg
        >>> run_title(tg.descend(lambda x: (x - 3.0) ** 2, x=0.0, lr=0.25, steps=3))
        'gd, lr 0.25: loss 9 → 0.1406 in 3 steps (max steps)'
    """
    return (f"{run.label}: loss {run.losses[0]:.4g} → {run.loss:.4g} in {run.steps} steps "
            f"({run.stopped})")


def plot_run(run: Descent, path: Any, *, labels: Iterable[str] | None = None,
             title: str | None = None) -> Path:
    """:meth:`Descent.plot`: the loss curve, with the contour or plane view beside it.

    Example:
        >>> import pathlib, tempfile, tracegraph as tg
        >>> from PIL import Image
        >>> run = tg.descend(lambda x, y: x * x + 4 * y * y, x=1.0, y=1.0, lr=0.1, steps=20)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     with Image.open(plot_run(run, pathlib.Path(folder) / "run.png")) as image:
        ...         image.size                   # two panels, 11 × 4.8 inches at 110 dpi
        (1210, 528)
    """
    view = view_of(run)
    Figure = figure_class()
    wide = view != "curve"
    fig = Figure(figsize=(11, 4.8) if wide else (6.5, 4.2), layout="constrained")
    axes = fig.subplots(1, 2 if wide else 1, squeeze=False)[0]
    draw_loss_curve(axes[0], [run])
    if view == "contour":
        draw_contour(axes[1], run)
    elif view == "plane":
        draw_plane(axes[1], run, list(labels) if labels is not None else None)
    fig.suptitle(title or run_title(run), fontsize=10)
    return _save(fig, path)


def plot_runs(runs: Sequence[Descent], path: Any, *, title: str | None = None) -> Path:
    """Several runs on one figure (a learning-rate sweep, several optimisers): their loss
    curves, and beside them, when every run has the same two scalar parameters, all their
    paths on one contour plot of the loss.

    Example:
        >>> import pathlib, tempfile, tracegraph as tg
        >>> from PIL import Image
        >>> runs = [tg.descend(lambda x, y: x * x + 4 * y * y, x=1.0, y=1.0, lr=lr, steps=20)
        ...         for lr in (0.05, 0.2)]
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     with Image.open(plot_runs(runs, pathlib.Path(folder) / "runs.png")) as image:
        ...         image.size                   # curves and contour plot: 12 × 5 inches
        (1320, 550)
    """
    runs = list(runs)
    Figure = figure_class()
    together = all(view_of(run) == "contour" and run.layout.names == runs[0].layout.names
                   for run in runs)
    fig = Figure(figsize=(12, 5) if together else (7, 4.5), layout="constrained")
    axes = fig.subplots(1, 2 if together else 1, squeeze=False)[0]
    draw_loss_curve(axes[0], runs, labels=True)
    if together:
        finite = [run for run in runs if not run.stopped.startswith("diverged")] or runs
        draw_contour(axes[1], runs[0], path=False,
                     points=np.concatenate([path_of(run) for run in finite]))
        for run, line in zip(runs, axes[0].get_lines()):
            if run in finite:  # a diverged path would only cross the picture
                a, b = path_of(run).T
                axes[1].plot(a, b, color=line.get_color(), ls=line.get_linestyle(), lw=1.4)
                axes[1].plot(a[-1:], b[-1:], "o", color=line.get_color(), ms=5)
    fig.suptitle(title or "loss against step", fontsize=10)
    return _save(fig, path)


def plot_comparison(comparison: Comparison, path: Any, *, title: str | None = None) -> Path:
    """The best loss so far against evaluations of f, one line per method.

    Example:
        >>> import pathlib, tempfile, tracegraph as tg
        >>> table = tg.compare(lambda x: (x - 1.0) ** 2, methods=["gd", "armijo"], budget=10,
        ...                    lr=1.0, x=0.0)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     plot_comparison(table, pathlib.Path(folder) / "c.svg").stat().st_size > 1000
        True
    """
    Figure = figure_class()
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    curves = []
    for i, run in enumerate(comparison.runs):
        history = np.where(np.isfinite(run.history), run.history, np.inf)
        best = np.minimum.accumulate(history)
        keep = np.isfinite(best)
        curves.append(best[keep])
        # a style of its own for each method, as in plot_runs: coinciding ones stay visible
        ax.plot(np.arange(1, len(best) + 1)[keep], best[keep], lw=1.6,
                ls=LINE_STYLES[i % len(LINE_STYLES)], label=_method_label(run))
    ax.axhline(comparison.target, color="#777777", ls="--", lw=0.8,
               label="99 % of the improvement")
    everything = np.concatenate(curves + [np.array([comparison.target])])
    if wants_log(everything):
        ax.set_yscale("log")
    if max(len(run.history) for run in comparison.runs) > 200:
        ax.set_xscale("log")
    ax.set_xlabel("evaluations of f")
    ax.set_ylabel("best loss so far")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "methods compared from the same start", fontsize=10)
    return _save(fig, path)


def _method_label(run: Any) -> str:
    return f"{run.method} ({run.stopped})" if run.stopped.startswith("diverged") else run.method


NO_DATE = {".svg": {"Date": None}, ".pdf": {"CreationDate": None}}
"""savefig's metadata that leaves the time of writing out of SVG and PDF files."""


def _save(fig: Any, path: Any) -> Path:
    path = Path(path)
    matplotlib = require("matplotlib", "matplotlib", "plots")
    buffer = io.BytesIO()
    # The same run gives the same bytes, as the diagrams do: without these an SVG carried
    # the time and ids salted with a random uuid, a PDF its creation date.
    with matplotlib.rc_context({"svg.hashsalt": "tracegraph"}):
        fig.savefig(buffer, format=path.suffix[1:].lower() or None, dpi=110,
                    metadata=NO_DATE.get(path.suffix.lower()))
    # Drawn in memory first: a failure half-way never leaves an existing file truncated.
    write_atomically(path, buffer.getvalue())
    return path
