"""``tracegraph descend FILE``: minimise the file's output by gradient descent, and show how."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from ..descent.compare import METHODS, run_comparison
from ..descent.objective import choose_parameters, script_objective
from ..descent.optimizers import RULES, Settings
from ..descent.optional import MissingExtraError
from ..descent.run import Descent, minimise
from ..errors import TracegraphError
from ..numbers import format_number, value_summary
from ._common import (
    CommandError,
    DebugOption,
    FileArgument,
    FunctionOption,
    OutputError,
    OutputNodeOption,
    SetOption,
    check_output_path,
    load_with_gradients,
    note,
    parse_override,
    parse_wrt,
    progress,
    reporting,
    say,
    stderr_console,
    stdout_console,
)

NAME = "descend"
EPILOG = (
    "[bold]Examples[/]\n\n"
    "  tracegraph descend examples/linear_regression.py --wrt param --lr 0.001 --steps 5 "
    "--every 1\n\n"
    "  tracegraph descend examples/mds_cities.py --wrt X --optimizer armijo --lr 0.05 "
    "-o mds.gif\n\n"
    "  tracegraph descend examples/rosenbrock.py --optimizer adam --lr 0.01 --steps 5000 "
    "--history run.csv\n\n"
    "  tracegraph descend examples/rosenbrock.py --lr 0.0001,0.001,0.004 -o sweep.png\n\n"
    "  tracegraph descend examples/mds_cities.py --wrt X --compare gd,armijo,nelder-mead "
    "--budget 5000"
)
PICTURES = (".png", ".svg", ".pdf")
ANIMATIONS = (".gif", ".html", ".htm")
LONG_RUN = 200
"""Runs of more steps than this show a progress bar (when stderr is a terminal)."""


def parse_rates(text: str) -> list[float]:
    """``--lr 0.001,0.01`` as numbers, each positive.

    Example:
        >>> parse_rates("0.001, 0.01,1e-1")
        [0.001, 0.01, 0.1]
    """
    rates = []
    for part in text.split(","):
        try:
            rate = float(part)
        except ValueError:
            raise CommandError(f"--lr {text}: {part.strip()!r} is not a number",
                               hint="e.g. --lr 0.01 or --lr 0.001,0.01,0.1") from None
        if not (rate > 0 and math.isfinite(rate)):
            raise CommandError(f"--lr {text}: a learning rate must be positive, got {part}")
        rates.append(rate)
    return rates


def parse_methods(text: str) -> list[str]:
    """``--compare gd,adam,nelder-mead`` as method names (checked).

    Example:
        >>> parse_methods("gd, Adam,nelder-mead")
        ['gd', 'adam', 'nelder-mead']
    """
    methods = [part.strip().lower() for part in text.split(",") if part.strip()]
    for method in methods:
        if method not in METHODS:
            raise CommandError(f"--compare: unknown method {method!r}",
                               hint="choose from " + ", ".join(METHODS))
    if not methods:
        raise CommandError("--compare needs method names, e.g. --compare gd,adam,nelder-mead")
    return methods


@contextlib.contextmanager
def progress_bar(total: int, what: str) -> Iterator[Any]:
    """A rich progress bar on stderr for a long run: yields the run's ``callback`` that moves
    it, or None when stderr is not a terminal or the run is short."""
    console = stderr_console()
    if not console.is_terminal or total <= LONG_RUN:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task(what, total=total + 1)

        def callback(step: int, params: Any, loss: float) -> bool:
            bar.update(task, completed=step + 1, description=f"{what}: loss {loss:.6g}")
            return False

        yield callback


DEFAULT_STEPS = 1000


def command(
    file: FileArgument,
    optimizer: Annotated[str | None, typer.Option(
        "--optimizer", metavar="NAME", show_default=False,
        help="gd, momentum, nesterov, rmsprop, adam or armijo (torch.optim's rules) "
        "[dim](default: gd)[/].")] = None,
    lr: Annotated[str, typer.Option(
        "--lr", metavar="X[,X...]",
        help="Learning rate; several (--lr 0.001,0.01,0.1) run side by side.")] = "0.01",
    steps: Annotated[int | None, typer.Option(
        "--steps", min=0, show_default=False,
        help=f"Updates at most [dim](default: {DEFAULT_STEPS})[/].")] = None,
    wrt: Annotated[str | None, typer.Option(
        "--wrt", metavar="NAMES", show_default=False,
        help="The inputs to optimise (comma-separated); default: every float input.")] = None,
    tol: Annotated[float | None, typer.Option(
        "--tol", metavar="X", show_default=False, help="Stop once the loss is below X.")] = None,
    gtol: Annotated[float | None, typer.Option(
        "--gtol", metavar="X", show_default=False,
        help="Stop once the gradient's norm is below X.")] = None,
    patience: Annotated[int | None, typer.Option(
        "--patience", metavar="N", min=1, show_default=False,
        help="Stop after N steps in a row without a new best loss.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="PATH", show_default=False,
        help="Write a picture (.png .svg .pdf) or an animation (.gif, .html).")] = None,
    history: Annotated[Path | None, typer.Option(
        "--history", metavar="PATH", show_default=False,
        help="Write every step (loss, gradient norm, parameters) as CSV.")] = None,
    compare: Annotated[str | None, typer.Option(
        "--compare", metavar="METHODS", show_default=False,
        help="Compare methods from the same start: gd,adam,armijo,nelder-mead ...")] = None,
    budget: Annotated[int, typer.Option(
        "--budget", min=1, help="With --compare: evaluations of the loss per method.")] = 1000,
    every: Annotated[int | None, typer.Option(
        "--every", metavar="N", min=1, show_default=False,
        help="Print a table row every N steps.")] = None,
    sets: SetOption = None,
    output: OutputNodeOption = None,
    function: FunctionOption = None,
    debug: DebugOption = False,
) -> None:
    """Minimise the file's output by gradient descent and report how it went.

    The file is traced once; every step replays the record with new values
    (and runs the file again only when a comparison that steered it would now
    come out differently).  Prints the start and final loss, the steps taken
    and why the run stopped; -o draws the run, --history saves every step,
    --compare runs several methods (Nelder-Mead needs scipy) from the same start.
    """
    with reporting(debug):
        rates = parse_rates(lr)
        if compare is not None:
            _check_compare_options(optimizer=optimizer, steps=steps, tol=tol, gtol=gtol,
                                   patience=patience, every=every)
        optimizer = optimizer or "gd"
        steps = DEFAULT_STEPS if steps is None else steps
        if optimizer not in RULES:
            raise CommandError(f"--optimizer {optimizer}: unknown optimiser",
                               hint="choose from " + ", ".join(RULES))
        for path, flag, suffix in ((out, "-o", ".png"), (history, "--history", ".csv")):
            if path is not None:
                check_output_path(path, file, flag, suffix)
        _check_combination(out, history, compare, rates)
        result = load_with_gradients(file, sets=sets, output=output, function=function)
        overrides = dict(parse_override(text) for text in sets or ())
        names = parse_wrt(result, wrt)
        chosen = ", ".join(choose_parameters(result.inputs, names))
        note(f"optimising {chosen}" + ("" if wrt else
                                       " (every float input of the file; --wrt picks some)"))

        def fresh() -> Any:
            return script_objective(result, names, overrides=overrides, output=output,
                                    function=function)

        if compare is not None:
            _compare(file, fresh, parse_methods(compare), budget, rates, out)
            return
        runs = []
        for rate in rates:
            with progress_bar(steps, f"{optimizer}, lr {rate:g}") as callback:
                runs.append(minimise(fresh(), optimizer, Settings(lr=rate), steps=steps,
                                     tol=tol, gtol=gtol, patience=patience, callback=callback))
        if every is not None:
            for run in runs:
                _print_steps(run, every)
        _print_runs(file, runs)
        if history is not None:
            runs[0].to_csv(history)
            say(f"wrote {history}: {runs[0].steps + 1} rows")
        if out is not None:
            _draw(runs, out)


def _check_compare_options(**given: Any) -> None:
    """--compare runs every method on the same evaluation budget: the options of a single
    run would be silently dropped, so they are refused by name."""
    ignored = [f"--{name}" for name, value in given.items() if value is not None]
    if ignored:
        raise CommandError(
            f"{', '.join(ignored)} {'does' if len(ignored) == 1 else 'do'} not apply with "
            "--compare, which runs every method on the same budget of evaluations",
            hint="list the optimisers in --compare (gd,adam,armijo,nelder-mead) and give "
            "--budget N for the evaluations per method; drop "
            + ("it" if len(ignored) == 1 else "them"))


def _check_combination(out: Path | None, history: Path | None, compare: str | None,
                       rates: list[float]) -> None:
    if out is not None and out.suffix.lower() not in PICTURES + ANIMATIONS:
        raise CommandError(f"-o {out}: cannot tell what to write from {out.suffix or 'no'} "
                           "extension", hint="use .png, .svg, .pdf, .gif or .html")
    several = compare is not None or len(rates) > 1
    if several and out is not None and out.suffix.lower() not in PICTURES:
        raise CommandError(f"-o {out}: several runs are drawn as one picture, not animated",
                           hint="use -o runs.png (or .svg, .pdf)")
    if several and history is not None:
        raise CommandError("--history writes one run: give a single --lr and no --compare")


def _print_steps(run: Descent, every: int) -> None:
    header = run.history_header()
    rows = [row for row in run.history_rows() if row[0] % every == 0 or row[0] == run.steps]
    table = Table(title=Text(f"{run.label}: every {every} step(s)"), title_justify="left")
    shown = header[:3 + min(6, len(header) - 3)]
    for title in shown:
        table.add_column(Text(title), justify="right")
    for row in rows:
        table.add_row(*(Text(str(row[0])),
                        *(Text(format_number(v, 6)) for v in row[1:len(shown)])))
    stdout_console().print(table)


def _print_runs(file: Path, runs: list[Descent]) -> None:
    table = Table(title=Text(f"{file}: {runs[0].optimizer}"), title_justify="left")
    for title in ("lr", "start loss", "final loss", "steps", "evaluations", "stopped"):
        table.add_column(Text(title), justify="left" if title == "stopped" else "right")
    for run in runs:
        table.add_row(Text(f"{run.lr:g}"), Text(format_number(run.losses[0], 6)),
                      Text(format_number(run.loss, 6)), Text(str(run.steps)),
                      Text(str(run.evaluations)), Text(run.stopped))
    console = stdout_console()
    console.print(table)
    if len(runs) == 1:
        for name, value in runs[0].final.items():
            say(f"  {name} = {value_summary(value, 6)}")


def _compare(file: Path, fresh: Any, methods: list[str], budget: int, rates: list[float],
             out: Path | None) -> None:
    began = time.perf_counter()
    try:
        with progress(f"Comparing {', '.join(methods)}"):
            comparison = run_comparison(fresh, methods, budget=budget, lr=rates)
    except MissingExtraError as err:
        raise OutputError(str(err)) from None
    say(f"{file}: {len(comparison.rows)} runs from the same start, at most {budget:,} "
        f"evaluations each ({time.perf_counter() - began:.1f} s)")
    say(str(comparison))
    if out is not None:
        _picture(lambda: comparison.plot(out), out)


def _draw(runs: list[Descent], out: Path) -> None:
    suffix = out.suffix.lower()
    if len(runs) > 1:
        from ..descent.plots import plot_runs

        _picture(lambda: plot_runs(runs, out), out)
    elif suffix in ANIMATIONS:
        _picture(lambda: runs[0].animate(out), out)
    else:
        _picture(lambda: runs[0].plot(out), out)


def _picture(draw: Any, out: Path) -> None:
    try:
        draw()
    except MissingExtraError as err:
        raise OutputError(str(err)) from None
    except (OSError, TracegraphError) as err:
        if isinstance(err, CommandError):
            raise
        raise OutputError(f"-o {out}: {err}") from None
    say(f"wrote {out}")

