"""``tracegraph explain FILE``: the chain-rule table of the lecture notes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..formula import partial
from .. import table
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
    note,
    parse_wrt,
    reporting,
    stdout_console,
)

NAME = "explain"
CAPTION = table.CAPTION
EPILOG = (
    "[bold]Examples[/]\n\n"
    "  tracegraph explain examples/neuron.py\n\n"
    "  tracegraph explain examples/neuron.py --markdown > table.md\n\n"
    "  tracegraph explain examples/neuron.py --wrt w1,x1 --set w1=0.1\n\n"
    "  tracegraph explain long_loop.py --rows 20      [dim]# the first 10 and last 10 rows[/]"
)
DEFAULT_ROWS = 60


@dataclass(frozen=True)
class Row:
    """One line of the chain-rule table (all cells as text).

    Example:
        >>> Row("A", "w·x", "6", ("∂A/∂w = x = 3", "∂A/∂x = w = 2"), "1").local[0]
        '∂A/∂w = x = 3'
    """

    node: str
    computes: str
    value: str
    local: tuple[str, ...]
    grad: str


def table_nodes(result: ScriptResult, *, wrt: list[str] | None = None) -> list[str]:
    """The nodes the table has a row for, in forward (tape) order, constants left out.

    With ``wrt``, only the nodes on a path from those inputs to the output.

    Example:
        >>> import pathlib, tempfile
        >>> from tracegraph.script import load_script
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "f.py"
        >>> _ = path.write_text("w = 2.0\\nx = 3.0\\nA = w * x\\n")
        >>> table_nodes(load_script(path)), table_nodes(load_script(path), wrt=["w"])
        (['w', 'x', 'A'], ['w', 'A'])
    """
    return table.table_nodes(result.trace.graph, result.output, wrt or ())


def chain_rule_rows(result: ScriptResult, *, wrt: list[str] | None = None,
                    precision: int = 4, nodes: Sequence[str] | None = None) -> list[Row]:
    """The table's rows in forward (tape) order, constants left out.

    With ``wrt``, only the nodes on a path from those inputs to the output;
    with ``nodes``, only those (from :func:`table_nodes`).

    Example:
        >>> import pathlib, tempfile
        >>> from tracegraph.script import load_script
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "f.py"
        >>> _ = path.write_text("w = 2.0\\nx = 3.0\\nA = w * x\\n")
        >>> for row in chain_rule_rows(load_script(path), wrt=["w"]):
        ...     print(row.node, row.computes, row.value, row.local, row.grad)
        w input 2 () 3
        A w·x 6 ('∂A/∂w = x = 3', '∂A/∂x = w = 2') 1
    """
    chosen = table_nodes(result, wrt=wrt) if nodes is None else nodes
    return [Row(*cells) for cells in table.table_rows(result.trace.graph, chosen, precision)]


def budget(nodes: Sequence[str], rows: int | None) -> tuple[list[str], list[str]]:
    """The rows a table of at most ``rows`` rows shows: its first and its last ones
    (where the inputs and the output are), or everything (``rows=None``).

    Example:
        >>> budget(list("abcdefg"), 4), budget(list("abc"), 4), budget(list("abc"), None)
        ((['a', 'b'], ['f', 'g']), (['a', 'b', 'c'], []), (['a', 'b', 'c'], []))
    """
    if rows is None or len(nodes) <= rows:
        return list(nodes), []
    head = (rows + 1) // 2
    return list(nodes[:head]), list(nodes[len(nodes) - (rows - head):])


def command(
    file: FileArgument,
    markdown: Annotated[bool, typer.Option(
        "--markdown", "-m", help="Print a GitHub markdown table to paste into docs.")] = False,
    wrt: Annotated[str | None, typer.Option(
        "--wrt", metavar="NAMES", show_default=False,
        help="Only the rows between these inputs and the output (comma-separated: w1,w2).")]
    = None,
    rows: Annotated[int, typer.Option(
        "--rows", "-n", min=2, metavar="N",
        help="At most N rows: the first and the last ones, the others summarised in one line.")]
    = DEFAULT_ROWS,
    every_row: Annotated[bool, typer.Option(
        "--all", help="Every row, however many (overrides --rows).")] = False,
    sets: SetOption = None,
    output: OutputNodeOption = None,
    function: FunctionOption = None,
    precision: PrecisionOption = None,
    debug: DebugOption = False,
) -> None:
    """Print the chain-rule table: each node's value, local derivatives and dOutput/dnode.

    One row per node in forward order: what it computes, its value, the
    derivative with respect to each of its inputs (the formula from the
    derivative table, then its number) and the gradient of the output with
    respect to the node - the sum over its outgoing edges of upstream x local.
    A longer table shows its first and last rows (--rows), or all of them (--all).

    Example:
        >>> import pathlib, tempfile
        >>> from typer.testing import CliRunner
        >>> from tracegraph.cli import app
        >>> square = pathlib.Path(tempfile.mkdtemp()) / "square.py"
        >>> _ = square.write_text("x = 3.0\\ny = x * x\\n")
        >>> print(CliRunner().invoke(app, ["explain", str(square), "--markdown"]).stdout)
        | node | computes | value | local derivatives | ∂y/∂node |
        |---|---|---|---|---|
        | x | input | 3 | — | 6 |
        | y | x·x | 9 | ∂y/∂x = x = 3<br>∂y/∂x = x = 3 | 1 |
        <BLANKLINE>
    """
    with reporting(debug):
        result = load_with_gradients(file, sets=sets, output=output, function=function, wrt=wrt)
        names = parse_wrt(result, wrt)
        digits = precision or 4
        nodes = table_nodes(result, wrt=names)
        head, tail = budget(nodes, None if every_row else rows)
        left_out = len(nodes) - len(head) - len(tail)
        head_rows = chain_rule_rows(result, precision=digits, nodes=head)
        tail_rows = chain_rule_rows(result, precision=digits, nodes=tail)
        gap = (f"… {left_out:,} rows not shown (rows {len(head) + 1:,} to "
               f"{len(nodes) - len(tail):,} of {len(nodes):,}) …")
        out_label = display_names(result.trace.graph)[result.output]
        header = ["node", "computes", "value", "local derivatives", partial(out_label, "node")]
        cells = [_cells(row) for row in head_rows]
        if left_out:
            cells.append(("…", gap, "", "", ""))
        cells += [_cells(row) for row in tail_rows]
        if markdown:
            print(markdown_table(header, cells))
        else:
            table = Table(title=Text(f"{file}: {out_label} = "
                                     f"{value_summary(result.trace.value, digits)}"),
                          title_justify="left")
            for title in header:
                table.add_column(Text(title))
            for row in cells:
                table.add_row(*(Text(cell, style="dim" if row[1] == gap else "")
                                for cell in row))
            console = stdout_console()
            console.print(table)
            console.print(Text(CAPTION.format(out=out_label), style="dim"))
        if left_out:
            note(f"note: showing {len(head) + len(tail):,} of {len(nodes):,} rows; --all prints "
                 "every row, --rows N sets how many, --wrt NAMES keeps the rows between some "
                 "inputs and the output")


def _cells(row: Row) -> tuple[str, str, str, str, str]:
    return (row.node, row.computes, row.value, "\n".join(row.local) or "—", row.grad)
