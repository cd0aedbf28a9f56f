"""The chain rule as a sum over paths, on any graph size: count, sum, rank and list the
paths between two nodes of an annotated graph (:mod:`tracegraph.graph`) without
enumerating them.

Along a path the local derivatives multiply (that path's *share*); the shares
of all paths add up to the derivative.  The number of paths grows
exponentially with depth (``x = x * x`` forty times: 2⁴⁰), so everything here
is dynamic programming over the nodes between the two ends, in topological
order, on plain lists built in one walk (a 300,000-node graph takes about a
second).  :class:`PathsBetween` does the walk once for all the questions.

Example:
    >>> import tracegraph as tg
    >>> def f(x):
    ...     for _ in range(40):
    ...         x = x * x
    ...     return x
    >>> paths = PathsBetween(tg.trace(f, x=1.0).graph, "x")
    >>> paths.count(), paths.total() == 2.0 ** 40, len(paths.strongest(3))
    (1099511627776, True, 3)
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from .bulk import collector_paused

Edge = tuple[str, str, int]


class PathsBetween:
    """The part of ``graph`` on paths from ``source`` to ``target`` (default: the output).

    ``nodes`` are the nodes on some path, in topological order; ``out`` gives each
    one's out-edges to them as ``(child, key, local derivative)``.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: tg.name(x * 3.0, "a") + tg.name(x * 0.5, "b"), x=1.0)
        >>> paths = PathsBetween(t.graph, "x")
        >>> paths.nodes, paths.count(), paths.total()
        (['x', 'a', 'b', 'output'], 2, 3.5)
    """

    def __init__(self, graph: nx.MultiDiGraph, source: str, target: str | None = None) -> None:
        self.graph = graph
        self.source = source
        self.target = target if target is not None else graph.graph["output"]
        with collector_paused():
            self.nodes, self.out = _between(graph, source, self.target)

    @collector_paused()
    def count(self) -> int:
        """How many paths (0 when the source does not lead to the target).

        Example:
            >>> import tracegraph as tg
            >>> PathsBetween(tg.trace(lambda x: x * x, x=3.0).graph, "x").count()
            2
        """
        if self.source == self.target:
            return 1 if self.nodes else 0
        paths = dict.fromkeys(self.nodes, 0)
        if not self.nodes:
            return 0
        paths[self.source] = 1
        for node in self.nodes:
            for child, _, _ in self.out[node]:
                paths[child] += paths[node]
        return paths[self.target]

    @collector_paused()
    def total(self) -> float | None:
        """Σ over the paths of the product of their local derivatives (forward accumulation):
        d target / d source, independently of the backward pass.  ``None`` when a local
        derivative on the way is not a number (an array edge: its share is a Jacobian).

        Example:
            >>> import numpy as np, tracegraph as tg
            >>> PathsBetween(tg.trace(lambda x: x * x, x=3.0).graph, "x").total()
            6.0
            >>> print(PathsBetween(tg.trace(lambda w: np.sum(w * 2.0), w=np.ones(2)).graph,
            ...                    "w").total())
            None
        """
        if not self.nodes:
            return 0.0
        total = dict.fromkeys(self.nodes, 0.0)
        total[self.source] = 1.0
        for node in self.nodes:
            for child, _, local in self.out[node]:
                if local is None:
                    return None
                total[child] += total[node] * local
        return total[self.target]

    @collector_paused()
    def strongest(self, k: int = 20) -> list[tuple[list[Edge], float]]:
        """The ``k`` paths with the largest shares |Π local derivatives|, largest first, as
        ``(edges, share)``: the k best per node, by dynamic programming.  ``[]`` when a
        local derivative on the way is not a number.

        Example:
            >>> import tracegraph as tg
            >>> t = tg.trace(lambda x: tg.name(x * 3.0, "a") + tg.name(x * 0.5, "b"), x=1.0)
            >>> [(edges[0][1], share) for edges, share in PathsBetween(t.graph, "x").strongest()]
            [('a', 3.0), ('b', 0.5)]
        """
        if not self.nodes or self.source == self.target:
            return []
        rank = {node: i for i, node in enumerate(self.nodes)}
        incoming: dict[str, list[tuple[str, int, Any]]] = {node: [] for node in self.nodes}
        for node in self.nodes:
            for child, key, local in self.out[node]:
                if local is None:
                    return []
                incoming[child].append((node, key, local))
        # best[node]: up to k entries (|share|, share, predecessor, edge key, its entry)
        best: dict[str, list[tuple[float, float, str | None, int, int]]] = {
            self.source: [(1.0, 1.0, None, -1, -1)]}
        for node in self.nodes[1:]:
            candidates = []
            for parent, key, local in incoming[node]:
                for entry, (_, share, _, _, _) in enumerate(best[parent]):
                    product = share * float(local)
                    candidates.append((abs(product), product, parent, key, entry))
            if len(candidates) > 1:
                candidates.sort(key=lambda c: (-c[0], rank[c[2]], c[3], c[4]))
            best[node] = candidates[:k]
        found = []
        for _, share, parent, key, entry in best[self.target]:
            edges = []
            node = self.target
            while parent is not None:
                edges.append((parent, node, key))
                node, (_, _, parent, key, entry) = parent, best[parent][entry]
            found.append((edges[::-1], share))
        return found

    @collector_paused()
    def first(self, limit: int = 1000) -> list[list[Edge]]:
        """At most ``limit`` paths (edge lists) in depth-first order; the walk never enters
        a node that does not lead to the target, so they come at once on any graph.

        Example:
            >>> import tracegraph as tg
            >>> t = tg.trace(lambda x: x * x, x=3.0)
            >>> [[key for _, _, key in path] for path in PathsBetween(t.graph, "x").first()]
            [[0], [1]]
        """
        if self.source == self.target or not self.nodes:
            return []
        paths: list[list[Edge]] = []
        path: list[Edge] = []
        pending = [iter(self.out[self.source])]
        while pending and len(paths) < limit:
            step = next(pending[-1], None)
            if step is None:
                pending.pop()
                if path:
                    path.pop()
                continue
            child, key, _ = step
            parent = path[-1][1] if path else self.source
            if child == self.target:
                paths.append([*path, (parent, child, key)])
                continue
            path.append((parent, child, key))
            pending.append(iter(self.out[child]))
        return paths


def _between(graph: nx.MultiDiGraph, source: str, target: str
             ) -> tuple[list[str], dict[str, list[tuple[str, int, Any]]]]:
    """Out-edges of every node in one pass (nodes are stored in tape order, which is
    topological), then the nodes reached from the source that also lead to the target."""
    out: dict[str, list[tuple[str, int, Any]]] = {
        node: [(child, key, data.get("local"))
               for child, keyed in children.items() for key, data in keyed.items()]
        for node, children in graph.adjacency()}
    order = list(out)
    start = order.index(source) if source in out else len(order)
    reached = {source}
    for node in order[start:]:
        if node in reached:
            reached.update(child for child, _, _ in out[node])
    keep: set[str] = set()
    if target in reached:
        keep.add(target)
        for node in reversed(order[start:]):
            if node in reached and node not in keep:
                for child, _, _ in out[node]:
                    if child in keep:
                        keep.add(node)
                        break
    nodes = [node for node in order[start:] if node in keep]
    return nodes, {node: [edge for edge in out[node] if edge[0] in keep] for node in nodes}


def chain_paths(graph: nx.MultiDiGraph, source: str, target: str | None = None,
                limit: int = 1000) -> list[list[Edge]]:
    """Chain-rule paths (as edge lists) from ``source`` to ``target`` (default: the
    output), at most ``limit`` of them, in depth-first order (:meth:`PathsBetween.first`).

    Along a path the product of the edges' local derivatives is that path's
    share of d target / d source; the shares sum to the gradient.  The number
    of paths can grow exponentially with depth: :func:`count_paths` counts
    them without listing, :func:`strongest_paths` lists the largest shares.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: x * x, x=3.0)
        >>> [[k for _, _, k in p] for p in chain_paths(t.graph, "x")]
        [[0], [1]]
    """
    return PathsBetween(graph, source, target).first(limit)


def count_paths(graph: nx.MultiDiGraph, source: str, target: str | None = None) -> int:
    """How many chain-rule paths lead from ``source`` to ``target``, by dynamic
    programming over the DAG (never by listing them).

    Example:
        >>> import tracegraph as tg
        >>> def f(x):
        ...     for _ in range(40):
        ...         x = x * x          # two edges per step: 2⁴⁰ paths
        ...     return x
        >>> count_paths(tg.trace(f, x=1.0).graph, "x")
        1099511627776
    """
    return PathsBetween(graph, source, target).count()


def sum_over_paths(graph: nx.MultiDiGraph, source: str, target: str | None = None
                   ) -> float | None:
    """Σ over every chain-rule path from ``source`` to ``target`` of the product of its
    local derivatives, by dynamic programming (:meth:`PathsBetween.total`).

    Example:
        >>> import tracegraph as tg
        >>> def f(x):
        ...     for _ in range(40):
        ...         x = x * x          # 2⁴⁰ paths, each of share 2⁴⁰·x^(2⁴⁰ − 1)
        ...     return x
        >>> sum_over_paths(tg.trace(f, x=1.0).graph, "x") == 2.0 ** 40
        True
    """
    return PathsBetween(graph, source, target).total()


def strongest_paths(graph: nx.MultiDiGraph, source: str, target: str | None = None,
                    k: int = 20) -> list[tuple[list[Edge], float]]:
    """The ``k`` chain-rule paths with the largest shares |Π local derivatives|,
    largest first, as ``(edges, share)`` (:meth:`PathsBetween.strongest`).

    Every local derivative on the way must be a number (scalar edges); returns
    ``[]`` when one is not (an array edge: shares are products of Jacobians).

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: tg.name(x * 3.0, "a") + tg.name(x * 0.5, "b"), x=1.0)
        >>> [(p[0][1], share) for p, share in strongest_paths(t.graph, "x")]
        [('a', 3.0), ('b', 0.5)]
    """
    return PathsBetween(graph, source, target).strongest(k)
