"""What checking reads of a trace: its record and its graph, nothing else.

``check`` sits below the :class:`~tracegraph.Trace` facade, so it never
imports it: anything with a ``tape`` (the record) and a ``graph`` (built
from it by :func:`tracegraph.graph.build_graph`) can be checked.

Example:
    >>> import tracegraph as tg
    >>> t = tg.trace(lambda x: tg.name(x * 2.0, "y"), x=1.0)
    >>> isinstance(t, Traced), node_ids(t.graph), edge_formula(t.graph, "y", "x")
    (True, {0: 'x', 1: 'y'}, '2')
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Protocol, runtime_checkable

import networkx as nx

from ..formula import versioned
from ..graph import build_graph


@runtime_checkable
class Traced(Protocol):
    """A finished trace as checking sees it (a :class:`~tracegraph.Trace` is one).

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: x * 2.0, x=1.0)
        >>> isinstance(t, Traced), isinstance(Recorded(t.tape), Traced), isinstance(t.tape, Traced)
        (True, True, False)
    """

    @property
    def tape(self) -> Any: ...

    @property
    def graph(self) -> nx.MultiDiGraph: ...


class Recorded:
    """A finished tape and its graph, built on first use: a :class:`Traced` without a Trace.

    Example:
        >>> from tracegraph.core import Tape
        >>> tape = Tape(); x = tape.leaf("x", 2.0); tape.declare_input("x", x)
        >>> y = x * x; y.name = "y"; tape.finish(y.index, "y")
        >>> sorted(Recorded(tape).graph.nodes)
        ['x', 'y']
    """

    def __init__(self, tape: Any) -> None:
        self.tape = tape

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        return build_graph(self.tape)


def node_ids(graph: nx.MultiDiGraph) -> dict[int, str]:
    """The graph's node id of every tape position it shows (constants have none).

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x, y: tg.name(x * y, "p") + 1.0, x=2.0, y=3.0)
        >>> node_ids(t.graph), list(t.graph.nodes)
        ({0: 'x', 1: 'y', 2: 'p', 3: 'output'}, ['x', 'y', 'p', 'c0', 'output'])
    """
    return {data["index"]: node for node, data in graph.nodes(data=True)
            if data["index"] is not None}


def tape_label(tape: Any, index: int) -> str:
    """How reports name an equation the graph does not show: its name, with its version
    as a subscript when the tape binds the name more than once (as the graph labels it).

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: tg.name(tg.name(x * 2.0, "y") * 3.0, "y"), x=1.0)
        >>> tape_label(t.tape, 1), tape_label(t.tape, 0)
        ('y₁', 'x')
    """
    eq = tape.equations[index]
    if eq.name is None:
        return eq.label
    versions = [e.index for e in tape.equations if e.name == eq.name]
    if len(versions) == 1:
        return eq.name
    return versioned(eq.name, versions.index(index) + 1)


def edge_formula(graph: nx.MultiDiGraph, of: str, wrt: str) -> str | None:
    """The local-derivative formula d ``of`` / d ``wrt`` when ``wrt`` feeds ``of`` directly
    (the sum of the edges' formulas when it feeds it several times).

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x, y: tg.name(tg.name(x * x, "s") * y, "p"), x=2.0, y=3.0)
        >>> edge_formula(t.graph, "s", "x"), edge_formula(t.graph, "p", "s")
        ('x + x', 'y')
        >>> edge_formula(t.graph, "p", "x") is None   # x feeds p only through s
        True
    """
    edges = graph.get_edge_data(wrt, of)
    if not edges:
        return None
    return " + ".join(data["formula"] for _, data in sorted(edges.items()))
