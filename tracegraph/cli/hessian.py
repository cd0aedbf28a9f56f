"""``tracegraph hessian FILE``: second derivatives, eigenvalues and the kind of point.

The file is differentiated twice: it is traced again with its inputs replaced
by traced values, so its own backward pass is recorded and differentiated
(:func:`tracegraph.hessian`; the file's trace stands in for the function).
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table
from rich.text import Text

from ..calculus import Hessian, hessian
from ..graph import display_names
from ..numbers import value_summary
from ..script import ScriptResult
from ._common import (
    DebugOption,
    FileArgument,
    FunctionOption,
    OutputNodeOption,
    PrecisionOption,
    SetOption,
    load_with_gradients,
    markdown_table,
    parse_wrt,
    progress,
    reporting,
    say,
    stdout_console,
    traced_file,
)

NAME = "hessian"
EPILOG = (
    "[bold]Examples[/]\n\n"
    "  tracegraph hessian examples/critical_points.py                  [dim]# a saddle[/]\n\n"
    "  tracegraph hessian examples/critical_points.py --function monkey_saddle\n\n"
    "  tracegraph hessian examples/critical_points.py --function bowl --set x=1\n\n"
    "  tracegraph hessian examples/neuron.py --wrt w1,w2,w3 --markdown"
)
WHY = {
    "not a critical point": "the gradient is not zero: its norm is above --tol {tol:g}",
    "minimum": "the gradient is zero and every eigenvalue is positive",
    "maximum": "the gradient is zero and every eigenvalue is negative",
    "saddle point": "the gradient is zero and there are eigenvalues of both signs",
    "inconclusive": "the gradient is zero, but an eigenvalue is zero and none has the other "
                    "sign: the second-derivative test decides nothing here",
}
"""Why each classification of :meth:`tracegraph.Hessian.classify` holds."""
MAX_SHOWN = 12
"""A bigger Hessian is summarised (its eigenvalues and largest entries) unless --all."""


def command(
    file: FileArgument,
    wrt: Annotated[str | None, typer.Option(
        "--wrt", metavar="NAMES", show_default=False,
        help="The inputs to differentiate with respect to (comma-separated: w1,w2) "
        "[dim](default: every input)[/].")] = None,
    markdown: Annotated[bool, typer.Option(
        "--markdown", "-m", help="Print GitHub markdown (tables) to paste into docs.")] = False,
    tol: Annotated[float, typer.Option(
        "--tol", min=0.0, help="Tolerance of the classification: a gradient norm above it is "
        "not a critical point; eigenvalues within tol·max(1, max|λ|) of 0 count as zero.")]
    = 1e-8,
    every_entry: Annotated[bool, typer.Option(
        "--all", help=f"Print the whole matrix even when it is bigger than "
        f"{MAX_SHOWN}×{MAX_SHOWN}.")] = False,
    sets: SetOption = None,
    output: OutputNodeOption = None,
    function: FunctionOption = None,
    precision: PrecisionOption = None,
    debug: DebugOption = False,
) -> None:
    """Print the Hessian (the matrix of second derivatives), its eigenvalues and the kind of point.

    The kind of point the inputs are: minimum, maximum, saddle point,
    inconclusive or not a critical point.

    Rows and columns are the inputs in the file's order, arrays element by
    element (w[0], W[1,2]).  At a critical point (gradient 0) the eigenvalues
    decide: all positive, a minimum; all negative, a maximum; both signs, a
    saddle point; a zero eigenvalue without a sign change decides nothing.

    Example:
        >>> import pathlib, tempfile
        >>> from typer.testing import CliRunner
        >>> from tracegraph.cli import app
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "bowl.py"
        >>> _ = path.write_text("x = 0.0\\ny = 0.0\\nf = x ** 2 + 3 * y ** 2\\n")
        >>> print(CliRunner().invoke(app, ["hessian", str(path), "--markdown"]).stdout)
        Hessian of f at x = 0, y = 0 (f = 0)
        <BLANKLINE>
        |  | x | y |
        |---|---|---|
        | x | 2 | 0 |
        | y | 0 | 6 |
        <BLANKLINE>
        eigenvalues: 2, 6
        gradient norm: ‖∇f‖ = 0
        classification: minimum (the gradient is zero and every eigenvalue is positive)
        <BLANKLINE>
    """
    with reporting(debug):
        result = load_with_gradients(file, sets=sets, output=output, function=function,
                                     wrt=wrt)
        names = parse_wrt(result, wrt)
        digits = precision or 4
        with progress("Differentiating the backward pass", runs_user_code=True):
            found = hessian(traced_file(file, output=output, function=function, wrt=wrt),
                            wrt=names, **result.inputs)
        _print(result, found, digits, tol, markdown, every_entry)


def _print(result: ScriptResult, found: Hessian, precision: int, tol: float, markdown: bool,
           every_entry: bool) -> None:
    out_label = display_names(result.trace.graph)[result.output]

    def number(value: Any) -> str:
        return value_summary(float(value) + 0.0, precision)  # + 0.0: no "-0"

    point = ", ".join(f"{name} = {value_summary(value, precision)}"
                      for name, value in result.inputs.items() if name in found.names)
    say(f"Hessian of {out_label} at {point} ({out_label} = {number(found.value)})")
    say("")
    size = len(found.labels)
    if size <= MAX_SHOWN or every_entry:
        rows = [[label] + [number(v) for v in row]
                for label, row in zip(found.labels, found.matrix)]
        if markdown:
            print(markdown_table([""] + found.labels, rows))
        else:
            table = Table(show_header=True, header_style="bold")
            table.add_column("")
            for label in found.labels:
                table.add_column(Text(label), justify="right")
            for row in rows:
                table.add_row(Text(row[0], style="bold"), *(Text(cell) for cell in row[1:]))
            stdout_console().print(table)
    else:
        say(f"{size}×{size}: too big to print (--all prints it; --wrt NAMES picks some "
            f"inputs). Largest entries: {_largest(found, number)}")
    say("")
    eigenvalues = found.eigenvalues
    shown = [number(v) for v in eigenvalues]
    if len(shown) > 2 * MAX_SHOWN and not every_entry:
        shown = shown[:MAX_SHOWN] + [f"… {len(shown) - 2 * MAX_SHOWN} more …"] + \
            shown[-MAX_SHOWN:]
    say(f"eigenvalues: {', '.join(shown)}")
    say(f"gradient norm: ‖∇{out_label}‖ = {number(np.linalg.norm(found.gradient))}")
    kind = found.classify(tol)
    say(f"classification: {kind} ({WHY[kind].format(tol=tol)})")


def _largest(found: Hessian, number: Any, count: int = 5) -> str:
    flat = np.abs(found.matrix).ravel()
    order = np.argsort(-flat, kind="stable")[:count]
    size = len(found.labels)
    return ", ".join(f"∂²/∂{found.labels[i // size]}∂{found.labels[i % size]} = "
                     f"{number(found.matrix.ravel()[i])}" for i in order)
