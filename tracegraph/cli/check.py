"""``tracegraph check FILE``: grade hand-derived derivatives and point at the first wrong step."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..check import (
    CLAIM_COLUMNS,
    NUMERIC_COLUMNS,
    CheckReport,
    NumericReport,
    check_script,
    merge_marks,
    numeric_check,
)
from ..diagram.options import IMAGE_FORMATS
from ..errors import GraphvizNotFoundError
from ..script import ScriptResult, require_gradients
from ..verdicts import (
    CLOSE,
    EXACT,
    NO_PATH,
    NOT_A_NUMBER,
    NOT_DIFFERENTIABLE,
    OK,
    SHAPE,
    SHAPE_MISMATCH,
    UNKNOWN_NAME,
    WRONG,
)
from . import exit_codes
from ._common import (
    CommandError,
    DebugOption,
    FileArgument,
    FunctionOption,
    OutputNodeOption,
    SetOption,
    check_output_path,
    choices,
    load,
    markdown_table,
    note,
    progress,
    reporting,
    say,
    stdout_console,
    suffix_table,
)

NAME = "check"
EPILOG = (
    "[bold]Examples[/]\n\n"
    "  tracegraph check examples/neuron_homework.py          [dim]# exit 0: every step holds[/]\n\n"
    "  tracegraph check examples/neuron_homework_wrong.py    [dim]# exit 1, names dS_dG[/]\n\n"
    "  tracegraph check examples/neuron_homework_wrong.py --render wrong.svg\n\n"
    "  tracegraph check examples/mlp.py --numeric            [dim]# engine vs finite "
    "differences[/]\n\n"
    "  tracegraph check examples/mlp.py --numeric --order 2  [dim]# second derivatives[/]"
)
RenderFormat = choices("RenderFormat", IMAGE_FORMATS + ("dot",),
                       "What --render draws: an image (needs Graphviz) or DOT text.")
RENDER_SUFFIXES = suffix_table(RenderFormat)
VERDICT_STYLE = {EXACT: "green", CLOSE: "green", OK: "green", NOT_DIFFERENTIABLE: "yellow",
                 UNKNOWN_NAME: "red", NOT_A_NUMBER: "red", WRONG: "bold red", SHAPE: "red",
                 SHAPE_MISMATCH: "bold red", NO_PATH: "bold red"}

NumericOption = Annotated[bool, typer.Option(
    "--numeric", help="Also compare the engine's gradients with central finite differences.")]
OrderOption = Annotated[int, typer.Option(
    "--order", min=1, max=2,
    help="With --numeric: 1 compares gradients, 2 compares second derivatives (the Hessian) "
    "with differences of the gradient and names a rule whose second derivative is wrong.")]
EdgesOption = Annotated[bool, typer.Option(
    "--edges/--no-edges",
    help="With --numeric, also check every edge's local derivative [dim](default: yes)[/].")]
RenderOption = Annotated[Path | None, typer.Option(
    "--render", metavar="OUT", show_default=False,
    help="Draw the diagram with wrong claims marked red and correct ones green "
    "(.svg/.png/.pdf need Graphviz; .dot does not).")]
MarkdownOption = Annotated[bool, typer.Option(
    "--markdown", "-m", help="Print the tables as GitHub markdown.")]
VerboseOption = Annotated[bool, typer.Option(
    "--verbose", "-v",
    help="Explain every wrong claim, also those that only inherit an earlier wrong step.")]
MaxEvaluationsOption = Annotated[int, typer.Option(
    "--max-evaluations", min=0, metavar="N",
    help="With --numeric, at most about N replayed operations: on big traces the inputs with "
    "the largest gradients and a sample of edges covering every rule are checked; 0 checks "
    "everything [dim](default 2,000,000: a few seconds)[/].")]
DEFAULT_MAX_EVALUATIONS = 2_000_000
RtolOption = Annotated[float, typer.Option(
    "--rtol", min=0.0, help="Relative tolerance of a correct claim (float32 values get at "
    "least 128 units in the last place).")]
AtolOption = Annotated[float, typer.Option(
    "--atol", min=0.0, help="Absolute tolerance of a correct claim.")]


def command(
    file: FileArgument,
    numeric: NumericOption = False,
    order: OrderOption = 1,
    edges: EdgesOption = True,
    max_evaluations: MaxEvaluationsOption = DEFAULT_MAX_EVALUATIONS,
    render: RenderOption = None,
    markdown: MarkdownOption = False,
    verbose: VerboseOption = False,
    rtol: RtolOption = 1e-6,
    atol: AtolOption = 1e-12,
    sets: SetOption = None,
    output: OutputNodeOption = None,
    function: FunctionOption = None,
    debug: DebugOption = False,
) -> None:
    """Grade the file's hand-derived derivatives: every name dY_dX is a claim of dY/dX.

    Y and X are the values the names hold at the claim's line; d2Y_dX2 and
    d2Y_dX_dZ claim second derivatives.  Each claim is compared with the true
    derivative through every path (exact / close / wrong, with the worst
    element for arrays); a wrong end-to-end claim is traced back to the first
    wrong step of its chain.  Exit code 0 when every claim holds, 1 when any
    is wrong, so a course can use it as an autograder.  --numeric checks the
    engine itself against finite differences (--order 2: second derivatives).

    Example:
        >>> import pathlib, tempfile
        >>> from typer.testing import CliRunner
        >>> from tracegraph.cli import app
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "square.py"
        >>> _ = path.write_text("x = 3.0\\ny = x * x\\ndy_dx = 3 * x\\n")
        >>> result = CliRunner().invoke(app, ["check", str(path)])
        >>> result.exit_code, "first wrong step: dy_dx (line 3)" in result.stdout
        (1, True)
    """
    with reporting(debug):
        if render is not None:
            _check_render_target(render, file)
        result = load(file, sets=sets, output=output, function=function)
        if order != 1 and not numeric:
            raise CommandError("--order 2 compares second derivatives with finite differences "
                               "of the gradient", hint="add --numeric: "
                               f"tracegraph check {file} --numeric --order 2")
        if not result.claims and not numeric:
            for line in result.not_claims.values():
                note(f"note: {line.describe()}")
            raise CommandError(
                f"{file} has no claims to check",
                hint="a claim is an assignment to a name dY_dX, e.g. dS_dG = S * (1 - S) or "
                "dLoss_dw1 = 0.21, where Y and X are traced values at that line (d2Y_dX2 for "
                "a second derivative); or pass --numeric to check the engine's gradients "
                "with finite differences")
        exit_code = exit_codes.SUCCESS
        marks: list[dict] = []
        if result.claims:
            with progress(f"Checking {len(result.claims)} claims"):
                report = check_script(result, rtol=rtol, atol=atol)
            _print_claims(report, markdown, verbose)
            exit_code = max(exit_code, exit_codes.for_outcome(report.outcome))
            marks.append(report.marks())
        if numeric:
            require_gradients(result)
            with progress("Comparing with finite differences"):
                numeric_report = numeric_check(result.trace, edges=edges, order=order,
                                               max_evaluations=max_evaluations or None)
            _print_numeric(numeric_report, markdown)
            exit_code = max(exit_code, exit_codes.for_outcome(numeric_report.outcome))
            marks.append(numeric_report.marks())
        if render is not None:
            _draw(result, render, merge_marks(*marks))
    if exit_code != exit_codes.SUCCESS:
        raise typer.Exit(exit_code)


def _check_render_target(render: Path, file: Path) -> None:
    check_output_path(render, file, "--render")
    suffix = render.suffix.lower()
    fmt = RENDER_SUFFIXES.get(suffix)
    if fmt is None:
        raise CommandError(
            f"--render {render}: cannot tell the format from {suffix or 'a name with no extension'}",
            hint="end the name with .svg, .png, .pdf or .dot")
    if fmt.value in IMAGE_FORMATS and shutil.which("dot") is None:
        raise GraphvizNotFoundError(what=f"a {fmt.value.upper()} image")


def _print_claims(report: CheckReport, markdown: bool, verbose: bool) -> None:
    title = f"claims in {report.source}" if report.source else "claims"
    _print_table(title, CLAIM_COLUMNS, report.rows(), report.summary(),
                 failed=report.first_wrong is not None or bool(report.failed),
                 markdown=markdown)
    details = "" if markdown else report.explain(inherited=verbose)
    if details:
        stdout_console().print(Text(details), soft_wrap=True)
    elif markdown:
        for line in report.notes:
            print(f"note: {line}")


def _print_numeric(report: NumericReport, markdown: bool) -> None:
    _print_table("engine vs central finite differences", NUMERIC_COLUMNS, report.rows(),
                 report.summary(), failed=bool(report.wrong), markdown=markdown)
    for line in report.notes:
        note(line)


def _print_table(title: str, columns: tuple[tuple[str, str], ...], rows: list[dict[str, str]],
                 summary: str, *, failed: bool, markdown: bool) -> None:
    """A table of verdicts (rich, or GitHub markdown) followed by its one-line summary."""
    if markdown:
        print(markdown_table([heading for _, heading in columns],
                             [[row[key] for key, _ in columns] for row in rows]))
        print()
        print(summary)
        return
    table = Table(title=Text(title), title_justify="left")
    for _, heading in columns:
        table.add_column(heading, overflow="fold")
    for row in rows:
        style = VERDICT_STYLE.get(row["verdict"], "")
        table.add_row(*[Text(row[key], style=style if key == "verdict" else "")
                        for key, _ in columns])
    console = stdout_console()
    console.print(table)
    console.print(Text(summary, style="bold red" if failed else "bold green"), soft_wrap=True)


def _draw(result: ScriptResult, target: Path, marks: dict) -> None:
    from ..diagram import build_diagram, render

    with progress(f"Drawing {target}"):
        diagram = build_diagram(result.trace, marks=marks)
        render(diagram, target, format=RENDER_SUFFIXES[target.suffix.lower()].value)
    say(f"wrote {target}: wrong steps marked red, correct ones green")
    for line in diagram.notes:
        note(f"note: {line}")
