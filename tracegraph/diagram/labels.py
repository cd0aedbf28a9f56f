"""Label formatting, all in one place: what each box and each edge says.

A node's box (an HTML-like table) has a title row (its name and op), the
expression it computes (``G = A + B + C``), its value and its gradient
``∂Loss/∂G``; where the node feeds several others, a row shows its
gradient as the sum of what flows back along each outgoing edge.  An edge
says ``∂S/∂G = S·(1 − S) = 0.2445`` (the local derivative, as formula and
number) and ``back: −0.8511 × 0.2445 = −0.2081`` (upstream × local = the
contribution to the parent's gradient).  Arrays show shape and dtype, their
values in full when small and min/mean/max and norm otherwise; tooltips list
the values.

Example:
    >>> import tracegraph as tg
    >>> from tracegraph.diagram.options import DiagramOptions
    >>> t = tg.trace(lambda G: tg.name(tg.sigmoid(G), "S"), G=0.0)
    >>> labels = Labels(t.graph, DiagramOptions())
    >>> labels.edge_lines(("G", "S", 0))
    ['∂S/∂G = S·(1 − S) = 0.25', 'back: 1 × 0.25 = 0.25']
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx
import numpy as np

from ..formula import UPSTREAM, operand, partial
from ..numbers import pretty_number, shape_text
from . import style
from .options import DiagramOptions
from .text import (
    as_array,
    attribute,
    cell,
    count,
    full_listing,
    magnitude,
    norm,
    shorten,
    styled,
    summary,
    visible,
)
from .view import Group

EXPRESSION_LIMIT = 60  # longer expressions are cut (the tooltip has them in full)
FORMULA_LIMIT = 60
PARTIAL_LIMIT = 12  # labels longer than this are not spelled out in ∂child/∂parent
MAX_SUM_TERMS = 4  # fan-out sums with more terms are summarised
OUTPUT_LABEL_LIMIT = 24  # the output's label appears in every ∂output/∂node
TAG_LIMIT = 24


class Labels:
    """Builds the HTML labels and tooltips of one graph's boxes and edges.

    Example:
        >>> import tracegraph as tg
        >>> from tracegraph.diagram.options import DiagramOptions
        >>> t = tg.trace(lambda x: tg.name(x * 3.0, "y"), x=2.0)
        >>> Labels(t.graph, DiagramOptions()).node_lines("y")
        [('y = x·3', ''), ('value', '6'), ('∂y/∂y', '1')]
    """

    def __init__(self, graph: nx.MultiDiGraph, options: DiagramOptions) -> None:
        self.graph = graph
        self.nodes = graph.nodes
        self.options = options
        self.precision = options.precision
        output = graph.graph.get("output")
        self.output_label = shorten(self._label(output), OUTPUT_LABEL_LIMIT) if output in graph \
            else "output"
        self.show_values = options.show in ("all", "values", "tangent")
        self.show_grads = options.show in ("all", "grads", "flow")
        self.show_local = options.show in ("all", "local", "flow", "tangent")
        self.show_back = options.show in ("all", "flow")
        # Forward mode: tangents where the graph has them (calculus.tangent_graph).
        self.seed = graph.graph.get("tangent_seed")
        self.show_tangent = self.seed is not None and options.show in ("all", "tangent")
        self.show_forward = self.seed is not None and options.show == "tangent"

    # -- shared pieces ----------------------------------------------------------------
    def _label(self, node: str) -> str:
        return visible(self.nodes[node].get("label") or node)

    def _num(self, value: Any) -> str:
        return pretty_number(value, self.precision)

    def grad_name(self, node: str) -> str:
        """``∂Loss/∂G`` (or ``∂Loss/∂node`` when the node's label is long).

        Example:
            >>> import tracegraph as tg
            >>> from tracegraph.diagram.options import DiagramOptions
            >>> t = tg.trace(lambda x: tg.name(x - 1.0, "Loss"), x=2.0)
            >>> Labels(t.graph, DiagramOptions()).grad_name("x")
            '∂Loss/∂x'
        """
        label = self._label(node)
        if len(label) > PARTIAL_LIMIT + 6:
            return f"∂{operand(self.output_label)}/∂node"
        return partial(self.output_label, label)

    def _partial(self, child: str, parent: str) -> str | None:
        child_label, parent_label = self._label(child), self._label(parent)
        if max(len(child_label), len(parent_label)) > PARTIAL_LIMIT:
            return None
        return partial(child_label, parent_label)

    def value_text(self, value: Any) -> list[str]:
        """A value (scalar, array or anything else) as one or two short lines.

        Example:
            >>> import numpy as np, tracegraph as tg
            >>> from tracegraph.diagram.options import DiagramOptions
            >>> labels = Labels(tg.trace(lambda x: -x, x=1.0).graph, DiagramOptions(precision=2))
            >>> labels.value_text(2 / 3), labels.value_text(np.arange(8.0))
            (['0.67'], ['min 0 · max 7', 'mean 3.5 · ‖·‖ 12'])
        """
        if type(value) is float:  # most nodes: skip the array machinery
            return [self._num(value)]
        array = as_array(value)
        if array is None:
            return [shorten(visible(value), 40)] if value is not None else ["—"]
        return summary(array, self.precision)

    def gradient_fill(self, grad: Any) -> style.Fill:
        """The box colour for a gradient (by its largest |element|).

        Example:
            >>> import numpy as np, tracegraph as tg
            >>> from tracegraph.diagram.options import DiagramOptions
            >>> labels = Labels(tg.trace(lambda x: -x, x=1.0).graph, DiagramOptions())
            >>> labels.gradient_fill(np.array([0.0, -1e-9])) == style.gradient_colour(1e-9)
            True
        """
        if type(grad) is float:
            return style.gradient_colour(abs(grad))
        array = as_array(grad)
        if array is None:
            return style.NO_GRADIENT
        if not np.isfinite(array).all():
            return style.NONFINITE
        return style.gradient_colour(magnitude(array) if array.size else None)

    # -- nodes ---------------------------------------------------------------------------------
    def node_lines(self, node: str) -> list[tuple[str, str]]:
        """The rows under a node's title as (key, value) text pairs (plain text, unescaped)."""
        data = self.nodes[node]
        rows: list[tuple[str, str]] = []
        expression = self._expression(node)
        if expression:
            rows.append((expression, ""))
        shape = tuple(data.get("shape") or ())
        if shape and (self.show_values or self.show_grads):
            dtype = shorten(visible(data.get("dtype") or ""), TAG_LIMIT)
            rows.append((shorten(f"{shape_text(shape)} {dtype}".strip(), EXPRESSION_LIMIT), ""))
        if self.show_values:
            rows.extend(self._keyed("value", self.value_text(data.get("value"))))
        if self.show_grads and data.get("grad") is not None:
            rows.extend(self._keyed(self.grad_name(node), self.value_text(data.get("grad"))))
            fan_out = self._fan_out(node)
            if fan_out:
                rows.append((fan_out, ""))
        if self.show_tangent and data.get("tangent") is not None:
            rows.extend(self._keyed(self.tangent_name(node),
                                    self.value_text(data.get("tangent"))))
        return rows

    def tangent_name(self, node: str) -> str:
        """``∂G/∂w1`` when the tangents are pushed from one input with tangent 1 (the
        derivative of every node with respect to it), else ``tangent``.

        Example:
            >>> import tracegraph as tg
            >>> from tracegraph.calculus import tangent_graph
            >>> from tracegraph.diagram.options import DiagramOptions
            >>> t = tg.trace(lambda w, x: tg.name(w * x, "G"), w=0.5, x=2.0)
            >>> labels = Labels(tangent_graph(t, {"w": 1.0}), DiagramOptions(show="tangent"))
            >>> labels.tangent_name("G"), labels.node_lines("G")
            ('∂G/∂w', [('G = w·x', ''), ('value', '1'), ('∂G/∂w', '2')])
        """
        seed = self.seed or {}
        if len(seed) == 1:
            (name, value), = seed.items()
            if np.ndim(value) == 0 and float(value) == 1.0:
                label = self._label(node)
                return partial(label, name) if len(label) <= PARTIAL_LIMIT + 6 else \
                    f"∂node/∂{operand(name)}"
        return "tangent"

    def seed_text(self) -> str:
        """The direction the tangents are along: ``w1 = 1, x1 = 0.5`` (others 0)."""
        return ", ".join(f"{name} = {self.value_text(value)[0]}"
                         for name, value in (self.seed or {}).items())

    @staticmethod
    def _keyed(key: str, lines: list[str]) -> list[tuple[str, str]]:
        return [(key if i == 0 else "", line) for i, line in enumerate(lines)]

    def _expression(self, node: str) -> str:
        data = self.nodes[node]
        if data.get("kind") not in ("op", "output") or data.get("op") == "constant":
            return ""
        label, expr = self._label(node), visible(data.get("expr") or "")
        if not expr or expr == label:
            return ""
        text = f"{label} = {expr}" if data.get("name") else f"= {expr}"
        return shorten(text, EXPRESSION_LIMIT)

    def _fan_out(self, node: str) -> str:
        """``Σ back: 3 + 3 = 6`` when the gradient sums contributions of several edges."""
        contributions = [c for _, _, c in self.graph.out_edges(node, data="contribution")
                         if c is not None]
        if len(contributions) < 2:
            return ""
        if len(contributions) > MAX_SUM_TERMS:  # not spelled out: no need to look at them
            return f"Σ back over {len(contributions):,} edges (sum of their contributions)"
        arrays = [as_array(c) for c in contributions]
        total = self.nodes[node].get("grad")
        if (len(arrays) <= MAX_SUM_TERMS and all(a is not None and a.size == 1 for a in arrays)
                and as_array(total) is not None):
            terms = " + ".join(_operand(self._num(a.reshape(()))) for a in arrays)
            return f"Σ back over {len(arrays)} edges: {terms} = {self._num(as_array(total))}"
        return f"Σ back over {len(arrays)} edges (sum of their contributions)"

    def node_tooltip(self, node: str) -> str:
        """The tooltip: id, expression and full values."""
        data = self.nodes[node]
        lines = [f"{visible(node)} ({visible(data.get('kind', 'op'))}, op {visible(data.get('op'))})"]
        expr = data.get("expr")
        if expr and data.get("kind") in ("op", "output"):
            lines.append(f"{self._label(node)} = {visible(expr)}")
        tangent = (self.tangent_name(node), data.get("tangent")) if self.seed is not None \
            else ("tangent", None)
        for key, value in (("value", data.get("value")), (self.grad_name(node), data.get("grad")),
                           tangent):
            if value is None:
                continue
            array = as_array(value)
            listing = full_listing(array, self.precision) if array is not None else [visible(value)]
            lines.append(f"{key}:")
            lines.extend("  " + line for line in listing)
        return attribute(lines)

    def node_html(self, node: str, mark: dict | None) -> str:
        """The full HTML-like label of a node's box."""
        data = self.nodes[node]
        kind = data.get("kind", "op")
        kind_style = style.KIND_STYLES.get(kind, style.KIND_STYLES["op"])
        if self.show_forward:  # forward mode: coloured by how much the node moves
            fill = self.gradient_fill(data.get("tangent"))
        elif self.show_grads:
            fill = self.gradient_fill(data.get("grad"))
        else:
            fill = style.NO_GRADIENT
        border, width = kind_style.border, kind_style.border_width
        if data.get("value_nonfinite") or data.get("grad_nonfinite"):
            border, width = style.NONFINITE.fill, max(width, 3)
        rows = [self._title_row(node, kind_style, fill)]
        if mark is not None:
            mark_style = style.MARK_STYLES[mark["status"]]
            border, width = mark_style.colour, mark_style.width
            rows.append(_mark_row(mark_style, mark.get("note", "")))
        for key, value in self.node_lines(node):
            rows.append(self._body_row(key, value, data, fill))
        return _table(rows, border=border, width=width, fill=fill.fill,
                      table_style=kind_style.table_style)

    def _title_row(self, node: str, kind_style: style.KindStyle, fill: style.Fill) -> str:
        data = self.nodes[node]
        header = kind_style.header or style.OP_HEADER.get(data.get("op", ""), "")
        colour = "black" if header else fill.text
        tag = shorten(kind_style.tag or visible(data.get("op") or ""), TAG_LIMIT)
        title = styled(shorten(self._label(node), EXPRESSION_LIMIT), colour=colour,
                       size=style.TITLE_FONT_SIZE, bold=True)
        return ("<TR>" + cell(title, fill=header or None)
                + cell(styled(tag, colour=colour, size=style.SMALL_FONT_SIZE), align="RIGHT",
                       fill=header or None) + "</TR>")

    def _body_row(self, key: str, value: str, data: dict, fill: style.Fill) -> str:
        alert = ((key == "value" and data.get("value_nonfinite"))
                 or (key.startswith("∂") and data.get("grad_nonfinite")))
        if not value:
            return "<TR>" + cell(styled(key, colour=fill.text), colspan=2) + "</TR>"
        if alert:
            value = f"⚠ {value}"
        value_fill = style.NONFINITE if alert else fill
        return ("<TR>" + cell(styled(key, colour=fill.text))
                + cell(styled(value, colour=value_fill.text), align="RIGHT",
                       fill=value_fill.fill if alert else None) + "</TR>")

    # -- groups ---------------------------------------------------------------------------------
    def group_html(self, group: Group) -> str:
        """The label of a box standing for many nodes."""
        kind_style = style.KIND_STYLES["group"]
        title = shorten(f"scope {group.title}" if group.kind == "scope" else group.title,
                        EXPRESSION_LIMIT)
        rows = ["<TR>" + cell(styled(title, size=style.TITLE_FONT_SIZE, bold=True),
                              fill=kind_style.header)
                + cell(styled("collapsed", size=style.SMALL_FONT_SIZE), align="RIGHT",
                       fill=kind_style.header) + "</TR>"]
        lines = list(group.lines)
        lines.append(f"{count(len(group.members), 'node')}: {_op_counts(self.nodes, group.members)}")
        if group.absorbed:
            names = ", ".join(visible(n) for n in group.absorbed[:3])
            more = ", …" if len(group.absorbed) > 3 else ""
            lines.append(f"+ {count(len(group.absorbed), 'input')} used only here ({names}{more})")
        rows.extend("<TR>" + cell(styled(shorten(line, 80)), colspan=2) + "</TR>" for line in lines)
        rows.extend(self._group_ranges(group))
        return _table(rows, border=kind_style.border, width=kind_style.border_width,
                      fill=style.GROUP.fill, table_style=kind_style.table_style)

    def _group_ranges(self, group: Group) -> list[str]:
        values, grads = _Range(), _Range()
        for node in group.members:
            data = self.nodes[node]
            values.add_values(data.get("value"))
            grads.add_magnitude(data.get("grad"))
        low_value, high_value = values.low, values.high
        low_grad, high_grad = grads.low, grads.high
        nonfinite = values.nonfinite or grads.nonfinite
        rows = []
        if self.show_values and low_value is not None:
            rows.append("<TR>" + cell(styled("values")) + cell(
                styled(f"{self._num(low_value)} … {self._num(high_value)}"), align="RIGHT")
                + "</TR>")
        if self.show_grads and low_grad is not None:
            low, high = style.gradient_colour(low_grad), style.gradient_colour(high_grad)
            scale = ('<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="2"><TR>'
                     + cell(styled(self._num(low_grad), colour=low.text), fill=low.fill)
                     + cell(" … ")
                     + cell(styled(self._num(high_grad), colour=high.text), fill=high.fill)
                     + "</TR></TABLE>")
            rows.append("<TR>" + cell(styled(f"largest |{self.output_label} gradient|"))
                        + cell(scale, align="RIGHT") + "</TR>")
        if nonfinite:
            rows.append("<TR>" + cell(styled("⚠ NaN/inf inside", colour=style.NONFINITE.text),
                                      colspan=2, fill=style.NONFINITE.fill) + "</TR>")
        return rows

    def group_tooltip(self, group: Group) -> str:
        """The tooltip of a box: what it stands for."""
        lines = [group.title] + group.lines
        lines.append("nodes: " + ", ".join(visible(n) for n in group.members[:40])
                     + (", …" if len(group.members) > 40 else ""))
        return attribute(lines)

    # -- edges ---------------------------------------------------------------------------------
    def edge_lines(self, edge: tuple[str, str, int]) -> list[str]:
        """The label lines of one graph edge for the current display mode."""
        parent, child, key = edge
        data = self.graph.edges[parent, child, key]
        if data.get("contribution") is None and self.nodes[parent].get("kind") == "constant":
            return []
        lines = []
        if self.show_local:
            lines.append(self._local_line(parent, child, key, data))
        if self.show_back and data.get("contribution") is not None:
            lines.append(self._back_line(child, data))
        if self.show_forward:
            forward = self._forward_line(parent, data)
            if forward:
                lines.append(forward)
        return lines

    def _forward_line(self, parent: str, data: dict) -> str:
        """``fwd: 0.5 × 1 = 0.5``: local × the parent's tangent, its share of the child's."""
        tangent, local = self.nodes[parent].get("tangent"), data.get("local")
        if local is None or tangent is None:
            return ""
        array = as_array(tangent)
        if array is None or array.size != 1:
            return ""
        value = float(array.reshape(()))
        return f"fwd: {self._num(local)} × {_operand(self._num(value))} = {self._num(local * value)}"

    def _local_line(self, parent: str, child: str, key: int, data: dict) -> str:
        formula = shorten(visible(data.get("formula") or "?"), FORMULA_LIMIT)
        local = data.get("local")
        if UPSTREAM in formula:
            return f"back = {formula}"
        parts = [self._partial(child, parent) or ""]
        uses = self.graph.number_of_edges(parent, child)
        if uses > 1:  # x·x: each use of x gets its own edge and its own share
            parts[0] = f"{parts[0]} ({sorted(self.graph[parent][child]).index(key) + 1} of {uses})"
        parts.append(formula)
        if local is not None and formula != self._num(local):
            parts.append(self._num(local))
        return " = ".join(part.strip() for part in parts if part.strip())

    def _back_line(self, child: str, data: dict) -> str:
        contribution = as_array(data.get("contribution"))
        upstream = as_array(self.nodes[child].get("grad"))
        local = data.get("local")
        if contribution is None:
            return f"back: {shorten(visible(data.get('contribution')), FORMULA_LIMIT)}"
        if contribution.size == 1 and local is not None and upstream is not None \
                and upstream.size == 1:
            return (f"back: {self._num(upstream.reshape(()))} × {_operand(self._num(local))} = "
                    f"{self._num(contribution.reshape(()))}")
        if contribution.size == 1:
            return f"back: {self._num(contribution.reshape(()))}"
        return f"back: {norm(contribution, self.precision)}"

    def edge_is_nonfinite(self, edge: tuple[str, str, int]) -> bool:
        """Whether the local derivative or the contribution holds NaN/inf.

        Example:
            >>> import numpy as np, warnings, tracegraph as tg
            >>> from tracegraph.diagram.options import DiagramOptions
            >>> with np.errstate(divide="ignore"), warnings.catch_warnings():
            ...     warnings.simplefilter("ignore")  # the NonFiniteWarning
            ...     t = tg.trace(lambda x: np.sum(np.sqrt(x)), x=np.zeros(2))  # 1/(2√x) at 0
            >>> Labels(t.graph, DiagramOptions()).edge_is_nonfinite(("x", "n1", 0))
            True
        """
        data = self.graph.get_edge_data(*edge)  # no view objects: called per merged member
        for value in (data.get("local"), data.get("contribution")):
            if type(value) is float:
                if not math.isfinite(value):
                    return True
                continue
            array = as_array(value)
            if array is not None and not np.isfinite(array).all():
                return True
        return False

    def edge_tooltip(self, edges: Sequence[tuple[str, str, int]]) -> str:
        """Full formula, local derivative and contribution of the edges drawn as one."""
        lines = []
        for parent, child, key in edges[:20]:
            data = self.graph.edges[parent, child, key]
            lines.append(f"{visible(parent)} → {visible(child)} (argument {key})")
            lines.append(f"  local {partial(self._label(child), self._label(parent))}: "
                         f"{visible(data.get('formula'))}")
            if data.get("local") is not None:
                lines.append(f"  = {self._num(data['local'])}")
            contribution = as_array(data.get("contribution"))
            if contribution is not None:
                lines.append("  back (upstream × local):")
                lines.extend("    " + line for line in full_listing(contribution, self.precision))
        if len(edges) > 20:
            lines.append(f"… and {len(edges) - 20:,} more edges")
        return attribute(lines)

    def merged_edge_lines(self, edges: Sequence[tuple[str, str, int]]) -> list[str]:
        """The label of several graph edges drawn as one.

        Example:
            >>> import tracegraph as tg
            >>> from tracegraph.diagram.options import DiagramOptions
            >>> t = tg.trace(lambda x: x * x, x=3.0)
            >>> Labels(t.graph, DiagramOptions()).merged_edge_lines(
            ...     [("x", "output", 0), ("x", "output", 1)])
            ['×2 edges', 'back, summed: 6']
        """
        lines = [f"×{len(edges):,} edges"]
        if not self.show_back:
            return lines
        parents = {e[0] for e in edges}
        if len(parents) != 1:
            return lines
        contributions = [self.graph.get_edge_data(*e).get("contribution") for e in edges]
        if all(type(c) is float for c in contributions):  # the common case, kept cheap
            lines.append(f"back, summed: {self._num(math.fsum(contributions))}")
            return lines
        arrays = [as_array(c) for c in contributions]
        if all(a is not None and a.size == 1 for a in arrays):
            total = math.fsum(float(a.reshape(())) for a in arrays)
            lines.append(f"back, summed: {self._num(total)}")
        return lines


class _Range:
    """Smallest and largest of many node values (or gradient magnitudes), NaN/inf noted."""

    def __init__(self) -> None:
        self.low: float | None = None
        self.high: float | None = None
        self.nonfinite = False

    def _take(self, low: float, high: float) -> None:
        self.low = low if self.low is None or low < self.low else self.low
        self.high = high if self.high is None or high > self.high else self.high

    def add_values(self, value: Any) -> None:
        if type(value) is float:  # the common case, kept cheap for 100,000-node graphs
            if math.isfinite(value):
                self._take(value, value)
            else:
                self.nonfinite = True
            return
        array = as_array(value)
        if array is None or not array.size:
            return
        finite = array[np.isfinite(array)]
        self.nonfinite |= finite.size != array.size
        if finite.size:
            self._take(float(finite.min()), float(finite.max()))

    def add_magnitude(self, grad: Any) -> None:
        if type(grad) is float:
            self.add_values(abs(grad))
            return
        array = as_array(grad)
        if array is None or not array.size:
            return
        self.nonfinite |= not np.isfinite(array).all()
        largest = magnitude(array)
        if largest is not None:
            self._take(largest, largest)


def _operand(text: str) -> str:
    return f"({text})" if text.startswith("−") else text


def _op_counts(nodes: Any, members: Iterable[str], top: int = 4) -> str:
    counts = Counter(nodes[n].get("op", "?") for n in members)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    text = " · ".join(f"{visible(op)} {n:,}" for op, n in ranked[:top])
    return text + (" · …" if len(ranked) > top else "")


def _mark_row(mark_style: style.MarkStyle, note: str) -> str:
    text = f"{mark_style.symbol} {mark_style.word}" + (f": {visible(note)}" if note else "")
    return ("<TR>" + cell(styled(shorten(text, 80), colour=mark_style.text, bold=True),
                          colspan=2, fill=mark_style.colour) + "</TR>")


def _table(rows: list[str], *, border: str, width: int, fill: str, table_style: str) -> str:
    style_attr = f' STYLE="{table_style}"' if table_style else ""
    return (f'<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
            f'COLOR="{border}" BGCOLOR="{fill}"{style_attr}>' + "".join(rows) + "</TABLE>")
