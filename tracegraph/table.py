"""The chain-rule table of the lecture notes as data: ``tracegraph explain``'s rows, and the
table under an embedded diagram.

One row per node in forward order, constants left out: the node, what it
computes, its value, its local derivatives (formula, then number) and
d output / d node - the columns and cells of ``tracegraph explain``.  The
table is plain data (:class:`ChainRuleTable`), written as HTML here and
turned into a docutils table by the Sphinx extension.

Example:
    >>> import tracegraph as tg
    >>> t = tg.trace(lambda w, x: tg.name(w * x, "A"), w=2.0, x=3.0)
    >>> table = chain_rule_table(t.graph, "A")
    >>> table.header
    ('node', 'computes', 'value', 'local derivatives', '∂A/∂node')
    >>> table.rows[2]
    ('A', 'w·x', '6', ('∂A/∂w = x = 3', '∂A/∂x = w = 2'), '1')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import networkx as nx

from .formula import partial
from .graph import display_names
from .numbers import value_summary

CAPTION = ("local derivatives: ∂node/∂input, the formula from the derivative table and its "
           "value. ∂{out}/∂node: the chain rule, summed over the node's uses of "
           "∂{out}/∂use × ∂use/∂node.")

Row = tuple[str, str, str, tuple[str, ...], str]


@dataclass(frozen=True)
class ChainRuleTable:
    """The header, the rows ``(node, computes, value, local derivatives, gradient)``
    and the caption explaining the columns.

    Example:
        >>> t = ChainRuleTable(("node",), (), "")
        >>> t.rows, ChainRuleTable.from_json(t.to_json()) == t
        ((), True)
    """

    header: tuple[str, ...]
    rows: tuple[Row, ...]
    caption: str

    def to_json(self) -> dict[str, Any]:
        return {"header": list(self.header), "rows": [list(r[:3]) + [list(r[3]), r[4]]
                                                      for r in self.rows],
                "caption": self.caption}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChainRuleTable:
        rows = tuple((r[0], r[1], r[2], tuple(r[3]), r[4]) for r in data["rows"])
        return cls(tuple(data["header"]), rows, data["caption"])

    def html(self) -> str:
        """The table as an HTML ``<table>`` (local derivatives one per line).

        Example:
            >>> row = ("x", "input", "1", (), "2")
        >>> markup = ChainRuleTable(("node", "value"), (row,), "").html()
        >>> markup.startswith('<table class="tracegraph-table"><thead><tr><th>node</th>')
        True
        >>> "<td>x</td><td>input</td><td>1</td><td>—</td><td>2</td>" in markup
        True
        """
        head = "".join(f"<th>{escape(cell)}</th>" for cell in self.header)
        body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in _html_cells(row))
                       + "</tr>" for row in self.rows)
        return (f'<table class="tracegraph-table"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")


def _html_cells(row: Row) -> list[str]:
    node, computes, value, local, grad = row
    return [escape(node), escape(computes), escape(value),
            "<br>".join(escape(line) for line in local) or "—", escape(grad)]


def table_nodes(graph: nx.MultiDiGraph, output: str, wrt: Sequence[str] = ()) -> list[str]:
    """The nodes the table has a row for, in forward (tape) order, constants left out;
    with ``wrt``, only those on a path from these inputs to ``output``.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda w, x: tg.name(w * x, "A"), w=2.0, x=3.0)
        >>> table_nodes(t.graph, "A"), table_nodes(t.graph, "A", ["w"])
        (['w', 'x', 'A'], ['w', 'A'])
    """
    keep = _on_paths(graph, wrt, output) if wrt else None
    return [node for node, kind in graph.nodes(data="kind")
            if kind != "constant" and (keep is None or node in keep)]


def table_rows(graph: nx.MultiDiGraph, nodes: Iterable[str], precision: int = 4) -> list[Row]:
    """``(node, computes, value, local derivatives, gradient)`` as text, one per node.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda w, x: tg.name(w * x, "A"), w=2.0, x=3.0)
        >>> table_rows(t.graph, ["A"])
        [('A', 'w·x', '6', ('∂A/∂w = x = 3', '∂A/∂x = w = 2'), '1')]
    """
    names = display_names(graph)
    rows = []
    for node in nodes:
        data = graph.nodes[node]
        computes = "input" if data["kind"] == "input" else data["expr"]
        local = tuple(_local_derivative(names, parent, node, edge, precision)
                      for parent, _, edge in sorted(graph.in_edges(node, data=True),
                                                    key=lambda e: e[2]["position"])
                      if graph.nodes[parent]["kind"] != "constant")
        rows.append((names[node], computes, value_summary(data["value"], precision), local,
                     value_summary(data["grad"], precision)))
    return rows


def chain_rule_table(graph: nx.MultiDiGraph, output: str, *, wrt: Sequence[str] = (),
                     precision: int = 4) -> ChainRuleTable:
    """The table of ``graph`` (a differentiated trace's), for the output node ``output``.

    With ``wrt``, only the nodes on a path from those inputs to the output.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda w, x: tg.name(w * x, "A"), w=2.0, x=3.0)
        >>> [row[0] for row in chain_rule_table(t.graph, "A", wrt=["w"]).rows]
        ['w', 'A']
    """
    rows = table_rows(graph, table_nodes(graph, output, wrt), precision)
    out = display_names(graph)[output]
    header = ("node", "computes", "value", "local derivatives", partial(out, "node"))
    return ChainRuleTable(header, tuple(rows), CAPTION.format(out=out))


def _on_paths(graph: nx.MultiDiGraph, sources: Iterable[str], target: str) -> set[str]:
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
