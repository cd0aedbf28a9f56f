"""``tracegraph explain FILE``: the chain-rule table of the lecture notes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import networkx as nx
import typer
from rich.table import Table
from rich.text import Text

from ..formula import partial
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
CAPTION = ("local derivatives: ∂node/∂input, the formula from the derivative table and its "
           "value. ∂{out}/∂node: the chain rule, summed over the node's uses of "
           "∂{out}/∂use × ∂use/∂node.")
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
    graph = result.trace.graph
    keep = _on_paths(graph, wrt, result.output) if wrt else None
    return [node for node, kind in graph.nodes(data="kind")
            if kind != "constant" and (keep is None or node in keep)]


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
    graph = result.trace.graph
    names = display_names(graph)
    rows = []
    for node in table_nodes(result, wrt=wrt) if nodes is None else nodes:
        data = graph.nodes[node]
        computes = "input" if data["kind"] == "input" else data["expr"]
        local = tuple(_local_derivative(names, parent, node, edge, precision)
                      for parent, _, edge in sorted(graph.in_edges(node, data=True),
                                                    key=lambda e: e[2]["position"])
                      if graph.nodes[parent]["kind"] != "constant")
        rows.append(Row(names[node], computes, value_summary(data["value"], precision),
                        local, value_summary(data["grad"], precision)))
    return rows


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


def _on_paths(graph: nx.MultiDiGraph, sources: list[str], target: str) -> set[str]:
    upstream = nx.ancestors(graph, target) | {target}
    keep: set[str] = set()
    for source in sources:
        keep |= (nx.descendants(graph, source) | {source}) & upstream
    return keep


def _local_derivative(names: dict[str, str], parent: str, child: str, edge: dict[str, Any],
                      precision: int) -> str:
    """``∂A/∂w1 = x1 = 1`` for scalars; for arrays the formula and what the edge sends back:
    ``∂h/∂W = … (sends back 3×5, ‖·‖ = 0.8)``."""
    name = partial(names[child], names[parent])
    formula = edge["formula"]
    if edge["local"] is not None:
        number = value_summary(edge["local"], precision)
        same = formula.replace("−", "-") == number
        return f"{name} = {formula}" if same else f"{name} = {formula} = {number}"
    sent = value_summary(edge["contribution"], precision)
    return f"{name} = {formula} (sends back {sent})"


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
