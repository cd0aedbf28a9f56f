"""``tracegraph rules``: the derivative table, listed from the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..core import Primitive
from ..formula import Label, Symbols
from ..extend import numpy_routes, primitives
from ._common import CommandError, DebugOption, load, markdown_table, reporting, stdout_console

NAME = "rules"
EPILOG = (
    "[bold]Examples[/]\n\n"
    "  tracegraph rules\n\n"
    "  tracegraph rules sigmoid\n\n"
    "  tracegraph rules --markdown > rules.md\n\n"
    "  tracegraph rules cbrt --file my_rules.py   [dim]# rules registered by a file[/]"
)
HEADER = ("op", "category", "called as", "local derivatives", "description")


def formula_text(prim: Primitive) -> list[str]:
    """The local derivative for each input, written with the argument names.

    Example:
        >>> from tracegraph.core import REGISTRY
        >>> formula_text(REGISTRY["sigmoid"])
        ['∂out/∂x = out·(1 − out)']
        >>> formula_text(REGISTRY["multiply"])
        ['∂out/∂x = y', '∂out/∂y = x']
    """
    names = {arg: Label(arg) for arg in prim.argnames}
    names["out"] = Label("out")
    lines = []
    for position, arg in enumerate(prim.argnames):
        template = prim.formula(position)
        if template is None:
            lines.append(f"∂out/∂{arg}: no gradient")
            continue
        symbols = Symbols(names, _Placeholders(), {}, position)
        try:
            text = symbols.render(template)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            text = "(depends on the arguments; see the diagram)"
        lines.append(f"∂out/∂{arg} = {text}")
    return lines


class _Placeholders(dict):
    """Params shown by name (``{axis}`` -> ``axis``) where a formula mentions one."""

    def __missing__(self, key: str) -> str:
        return key


def command(
    pattern: Annotated[str | None, typer.Argument(
        metavar="[NAME]", show_default=False,
        help="Only rules whose name (or numpy name) contains this text.")] = None,
    markdown: Annotated[bool, typer.Option(
        "--markdown", "-m", help="Print a GitHub markdown table.")] = False,
    file: Annotated[Path | None, typer.Option(
        "--file", metavar="FILE", show_default=False,
        help="Run this expression file first, so the rules it registers are listed too.")]
    = None,
    debug: DebugOption = False,
) -> None:
    """List the derivative table: every operation tracegraph can differentiate.

    One row per primitive: the numpy functions that dispatch to it and its
    local derivative with respect to each input ("out" is the result).
    Register your own with @tracegraph.primitive (docs/extending.md); it is
    listed here too.

    Example:
        >>> from typer.testing import CliRunner
        >>> from tracegraph.cli import app
        >>> print(CliRunner().invoke(app, ["rules", "tanh", "--markdown"]).stdout)
        | op | category | called as | local derivatives | description |
        |---|---|---|---|---|
        | tanh | elementwise | np.tanh | ∂out/∂x = 1 − out² | np.tanh(x) |
        <BLANKLINE>
    """
    with reporting(debug):
        if file is not None:
            load(file)
        chosen = [p for p in primitives() if _matches(p, pattern)]
        if not chosen:
            raise CommandError(
                f"no rule matches {pattern!r}",
                hint="run `tracegraph rules` to list every rule; rules a file registers with "
                "@tracegraph.primitive are listed with --file FILE")
        rows = [(p.name, p.category, _called_as(p), "\n".join(formula_text(p)), p.doc)
                for p in chosen]
        if markdown:
            print(markdown_table(HEADER, rows))
            return
        table = Table(title=Text(f"{len(rows)} derivative rules"), title_justify="left",
                      show_lines=True)
        for title in HEADER:
            table.add_column(Text(title))
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        stdout_console().print(table)


def _called_as(prim: Primitive) -> str:
    """``np.tanh`` for numpy's, ``tracegraph.sigmoid`` for tracegraph's own functions."""
    import tracegraph

    names = numpy_routes(prim)
    if prim.category != "user" and callable(getattr(tracegraph, prim.name, None)):
        names.append(f"tracegraph.{prim.name}")
    return ", ".join(names) or "—"


def _matches(prim: Primitive, pattern: str | None) -> bool:
    if not pattern:
        return True
    needle = pattern.lower()
    return needle in prim.name.lower() or any(needle in n.lower() for n in numpy_routes(prim))
