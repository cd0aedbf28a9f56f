"""The pure DOT builder: an annotated graph in, DOT text out (no files, no subprocess).

Node ids in the DOT text are the graph's ids when they are plain words of
at most 100 characters (``G``, ``n13``, ``y#2``) and ``~<k>`` (k = the
node's position in the graph) otherwise, so user text never has to be escaped as an id; boxes that
stand for many nodes are ``~g<k>``, the legend is ``~legend``.

Example:
    >>> import tracegraph as tg
    >>> t = tg.trace(lambda x: tg.name(x * x, "y"), x=3.0)
    >>> d = build_diagram(t, legend=False)
    >>> d.node_count, d.edge_count, '"x" -> "y"' in d.dot
    (2, 2, True)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ..bulk import collector_paused
from ..formula import UPSTREAM, operand
from . import style
from .labels import Labels
from .options import DiagramOptionError, DiagramOptions, resolve_options
from .text import TEXT_LIMIT, cell, html, shorten, styled, visible
from .view import View, ViewEdge, select

_PLAIN_ID = re.compile(r"[\w#.\-]+")
MAX_PLAIN_ID = 100
NOTES_IN_LABEL = 8  # at most this many notes are written into the picture itself
TITLE_LIMIT = 120
NAME_LIMIT = 60


@dataclass
class Diagram:
    """A built diagram: its DOT text and what was left out of it.

    ``notes`` are human-readable lines saying what was filtered or collapsed
    and how to see it; ``node_count`` / ``edge_count`` count the drawn boxes
    (legend excluded) and edges.

    Example:
        >>> import tracegraph as tg
        >>> d = build_diagram(tg.trace(lambda x: x * 2.0, x=1.0))
        >>> d.dot.startswith("digraph tracegraph {"), d.notes
        (True, [])
    """

    dot: str
    notes: list[str] = field(default_factory=list)
    node_count: int = 0
    edge_count: int = 0

    def __str__(self) -> str:
        return self.dot


def graph_of(source: Any) -> nx.MultiDiGraph:
    """The annotated graph itself, or the ``.graph`` of a :class:`~tracegraph.Trace`
    (or any object that has one: the diagram layer does not depend on the facade).

    Example:
        >>> import tracegraph as tg
        >>> graph_of(tg.trace(lambda x: x + 1.0, x=1.0)).graph["output"]
        'output'
    """
    if isinstance(source, nx.MultiDiGraph):
        return source
    graph = getattr(source, "graph", None)
    if isinstance(graph, nx.MultiDiGraph):
        return graph
    raise TypeError(
        f"expected a tracegraph Trace or its graph (networkx.MultiDiGraph), "
        f"got {type(source).__name__}; trace a function with tracegraph.trace(fn, ...) first")


def build_diagram(source: Any, options: DiagramOptions | None = None, **overrides: Any) -> Diagram:
    """Build the chain-rule diagram of a trace (or of its graph).

    Example:
        >>> import tracegraph as tg
        >>> def neuron(w, x):
        ...     return tg.name(tg.sigmoid(tg.name(w * x, "G")), "S")
        >>> d = build_diagram(tg.trace(neuron, w=0.5, x=2.0), show="local")
        >>> "∂S/∂G = S·(1 − S) = 0.1966" in d.dot
        True
    """
    options = resolve_options(options, overrides)
    graph = graph_of(source)
    if graph.number_of_nodes() == 0:
        raise DiagramOptionError("the graph has no nodes to draw",
                                 hint="trace a computation that uses its inputs")
    with collector_paused():  # a big graph's walks allocate only (see tracegraph.bulk)
        view = select(graph, options)
    notes = list(view.notes)
    if not graph.graph.get("differentiated", True) and options.show not in ("values", "tangent") \
            and "backward_of" not in graph.graph:  # a backward pass is drawn with values
        notes.append("no gradients yet: the output is an array; call t.backward(seed) "
                     "to get them")
    with collector_paused():
        writer = _DotWriter(view, options, notes)
        text = writer.text()
    return Diagram(text, notes, len(view.items), len(view.edges))


def to_dot(source: Any, options: DiagramOptions | None = None, **overrides: Any) -> str:
    """The diagram as DOT text.  Pure: no files, no subprocess.

    Example:
        >>> import tracegraph as tg
        >>> text = to_dot(tg.trace(lambda x: x * 2.0, x=1.0), rankdir="TB")
        >>> "rankdir=TB" in text
        True
    """
    return build_diagram(source, options, **overrides).dot


class _DotWriter:
    def __init__(self, view: View, options: DiagramOptions, notes: list[str]) -> None:
        self.view = view
        self.options = options
        self.notes = notes
        self.labels = Labels(view.graph, options)
        self.groups = {group.id: group for group in view.groups}
        self.ids = self._dot_ids()

    def _dot_ids(self) -> dict[str, str]:
        ids = {group.id: group.id for group in self.view.groups}
        visible_nodes = set(self.view.nodes)
        for position, node in enumerate(self.view.graph.nodes):
            if node in visible_nodes:
                plain = (isinstance(node, str) and len(node) <= MAX_PLAIN_ID
                         and _PLAIN_ID.fullmatch(node) and node[0] != "~")
                ids[node] = node if plain else f"~{position}"
        return ids

    def text(self) -> str:
        lines = ["digraph tracegraph {"]
        lines.extend("  " + line for line in self._defaults())
        lines.extend(self._items())
        if self.options.legend:
            lines.append(f'  {{ rank=sink; "~legend" [label=<{self._legend()}>]; }}')
        lines.extend("  " + self._edge(edge) for edge in self.view.edges)
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _defaults(self) -> list[str]:
        font = style.FONT
        graph_attrs = (f'rankdir={self.options.rankdir}, fontname="{font}", '
                       f'fontsize={style.FONT_SIZE}, nodesep=0.3, ranksep=0.5, pad=0.25, '
                       'bgcolor="white", ordering=in')
        title = self._title()
        if title:
            graph_attrs += f", labelloc=t, labeljust=l, label=<{title}>"
        return [f"graph [{graph_attrs}];",
                f'node [shape=plain, fontname="{font}", fontsize={style.FONT_SIZE - 1}];',
                f'edge [fontname="{font}", fontsize={style.SMALL_FONT_SIZE}, '
                f'color="{style.EDGE_COLOUR}", arrowsize=0.7, decorate=true];']

    def _title(self) -> str:
        parts = [styled(shorten(visible(self.options.title or ""), TITLE_LIMIT), size=14,
                        bold=True)]
        notes = self.notes[:NOTES_IN_LABEL]
        if len(self.notes) > NOTES_IN_LABEL:
            notes.append(f"… {len(self.notes) - NOTES_IN_LABEL} more notes (Diagram.notes)")
        parts.extend(styled(note, size=style.SMALL_FONT_SIZE, colour=style.MUTED)
                     for note in notes)
        return "".join(part + '<BR ALIGN="LEFT"/>' for part in parts if part)

    # -- boxes and clusters -------------------------------------------------------------------
    def _items(self) -> Iterator[str]:
        """Node statements, nested in one cluster per drawn scope (iteratively)."""
        content: dict[tuple[str, ...], list[tuple[str, Any]]] = {(): []}
        for item in self.view.items:
            path = tuple(self.view.clusters.get(item, ()))
            for depth in range(1, len(path) + 1):
                if path[:depth] not in content:
                    content[path[:depth]] = []
                    content[path[:depth - 1]].append(("cluster", path[:depth]))
            content[path].append(("item", item))
        cluster_ids: dict[tuple[str, ...], int] = {}
        stack = [iter(content[()])]
        while stack:
            entry = next(stack[-1], None)
            indent = "  " * len(stack)
            if entry is None:
                stack.pop()
                if stack:
                    yield indent[:-2] + "}"
                continue
            kind, value = entry
            if kind == "item":
                yield indent + self._box(value)
                continue
            number = cluster_ids.setdefault(value, len(cluster_ids))
            name = styled(shorten(visible(value[-1]), NAME_LIMIT), italic=True)
            yield (f"{indent}subgraph cluster_{number} {{ label=<{name}>; "
                   f'style="rounded,filled"; color="{style.CLUSTER_BORDER}"; '
                   f'fillcolor="{style.CLUSTER_FILL}"; fontsize={style.SMALL_FONT_SIZE + 1};')
            stack.append(iter(content[value]))

    def _box(self, item: str) -> str:
        group = self.groups.get(item)
        if group is not None:
            return (f'"{self.ids[item]}" [label=<{self.labels.group_html(group)}> '
                    f'tooltip="{self.labels.group_tooltip(group)}"];')
        mark = self.options.marks.get(item)
        return (f'"{self.ids[item]}" [label=<{self.labels.node_html(item, mark)}> '
                f'tooltip="{self.labels.node_tooltip(item)}"];')

    # -- edges ------------------------------------------------------------------------------------
    def _edge(self, edge: ViewEdge) -> str:
        attrs: list[str] = []
        members = edge.members
        if edge.single:
            lines = self.labels.edge_lines(members[0])
            parent_kind = self.view.graph.nodes[members[0][0]].get("kind")
            if parent_kind == "constant":
                attrs += ["style=dashed", f'color="{style.CONSTANT_EDGE_COLOUR}"']
        else:
            lines = self.labels.merged_edge_lines(members)
            attrs.append("penwidth=2")
        colour = ink = None
        if any(self.labels.edge_is_nonfinite(member) for member in members):
            marker = style.NONFINITE_EDGE
            lines = [f"{marker.symbol} {marker.word}"] + lines
            colour, ink, width = marker.colour, marker.label_colour, marker.width
        mark = next((self.options.marks[m] for m in members if m in self.options.marks), None)
        if mark is not None:
            mark_style = style.MARK_STYLES[mark["status"]]
            note = f": {shorten(visible(mark['note']), NAME_LIMIT)}" if mark.get("note") else ""
            lines = [f"{mark_style.symbol} {mark_style.word}{note}"] + lines
            colour, ink, width = mark_style.colour, mark_style.label_colour, mark_style.width
        if colour is not None:
            attrs += [f'color="{colour}"', f'fontcolor="{ink}"', f"penwidth={width}"]
        if lines:
            # Top to bottom, Graphviz puts the label's left edge on the edge itself, where a
            # thick (marked) edge would cover the first letter: indent by one space.
            indent = "&#160;" if self.options.rankdir == "TB" else ""
            text = "".join(indent + html(shorten(line, TEXT_LIMIT)) + '<BR ALIGN="LEFT"/>'
                           for line in lines)
            attrs.append(f"label=<{text}>")
        tooltip = self.labels.edge_tooltip(members)
        attrs.append(f'tooltip="{tooltip}"')  # Graphviz uses it for the label too
        return f'"{self.ids[edge.tail]}" -> "{self.ids[edge.head]}" [{", ".join(attrs)}];'

    # -- legend -------------------------------------------------------------------------------------
    def _legend(self) -> str:
        rows = ["<TR>" + cell(styled("How to read this diagram", bold=True), colspan=2) + "</TR>"]
        boxes = "".join(_kind_sample(kind) for kind in ("input", "op", "output", "constant"))
        rows.append("<TR>" + cell(f'<TABLE BORDER="0" CELLSPACING="4"><TR>{boxes}</TR></TABLE>',
                                  colspan=2) + "</TR>")
        # Gradients only where there are some (a backward pass is drawn with its values).
        gradients = self.view.graph.graph.get("differentiated", True)
        if self.options.show in ("all", "grads", "flow") and gradients:
            rows.append(_legend_text(
                f"box colour: largest |∂{self.labels.output_label}/∂node|, log scale"))
            rows.append("<TR>" + cell(_colour_scale(), colspan=2) + "</TR>")
        out = operand(self.labels.output_label)
        if self.options.show in ("all", "local", "flow", "tangent"):
            rows.append(_legend_text("edge: ∂child/∂parent = formula = value (local derivative)"))
            if self._has_vector_jacobian_edges():
                rows.append(_legend_text(f"back = …: what an array edge sends back, "
                                         f"with ḡ = ∂{out}/∂child"))
        if self.labels.show_forward:
            rows.append(_legend_text(f"forward mode, tangents along {self.labels.seed_text()}"
                                     " (other inputs 0); box colour: largest |tangent|"))
            rows.append("<TR>" + cell(_colour_scale(), colspan=2) + "</TR>")
            rows.append(_legend_text("fwd: local × the parent's tangent = its share of the "
                                     "child's tangent (the tangent is their sum)"))
        if self.options.show in ("all", "flow") and gradients:
            rows.append(_legend_text(f"back: ∂{out}/∂child × local = contribution to the "
                                     "parent"))
            rows.append(_legend_text(f"∂{out}/∂node = the sum of the backs on its outgoing "
                                     "edges (Σ back)"))
        if self.options.marks:
            for status in sorted({m["status"] for m in self.options.marks.values()}):
                mark = style.MARK_STYLES[status]
                rows.append("<TR>" + cell(styled(f"{mark.symbol} {mark.word}", colour=mark.text),
                                          colspan=2, fill=mark.colour) + "</TR>")
        return ('<TABLE BORDER="1" COLOR="#bdbdbd" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
                f'BGCOLOR="white"><TR><TD><FONT POINT-SIZE="{style.SMALL_FONT_SIZE}"><TABLE '
                f'BORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE></FONT>'
                "</TD></TR></TABLE>")


    def _has_vector_jacobian_edges(self) -> bool:
        data = self.view.graph.get_edge_data  # no view objects: this looks at every edge
        return any(UPSTREAM in (data(*member).get("formula") or "")
                   for edge in self.view.edges for member in edge.members)


def _kind_sample(kind: str) -> str:
    look = style.KIND_STYLES[kind]
    table_style = f' STYLE="{look.table_style}"' if look.table_style else ""
    header = f' BGCOLOR="{look.header}"' if look.header else ""
    return (f'<TD><TABLE BORDER="{look.border_width}" COLOR="{look.border}" CELLBORDER="0" '
            f'CELLPADDING="2"{table_style}><TR><TD{header}>{kind}</TD></TR></TABLE></TD>')


def _legend_text(text: str) -> str:
    return "<TR>" + cell(styled(text), colspan=2) + "</TR>"


def _colour_scale() -> str:
    samples = [(f"1e{tick}".replace("-", "−"), style.gradient_colour(10.0 ** tick))
               for tick in style.LEGEND_TICKS]
    samples += [("0", style.ZERO), ("NaN/inf", style.NONFINITE)]
    cells = [cell(styled(name, colour=fill.text), fill=fill.fill) for name, fill in samples]
    return f'<TABLE BORDER="0" CELLSPACING="1" CELLPADDING="2"><TR>{"".join(cells)}</TR></TABLE>'

