"""Which boxes a diagram draws: filters, then the node budget.

The filters keep what was asked for: ``focus`` (a node and its ancestors),
``path`` (the nodes between two nodes), constants or not.  Scalar literal
constants (the ``2`` of ``x ** 2``) are never boxes: the expression of the
node using them already shows them.

Past the node budget the graph is summarised, in this order, until it fits:

1. named scopes collapse into one box each, largest first (``expand`` keeps
   a scope open; its inner scopes then become candidates);
2. repeated structure (a run of steps with the same operations wired the
   same way, such as the layers of a deep chain) becomes one box, with the
   first step drawn in full so the reader sees what repeats;
3. the remaining operations are cut into segments of the tape.

After each stage, inputs and constants used only inside one box are drawn
inside it.  The output, the focus, the path's ends and marked nodes always
stay visible.  Every stage is a linear pass (periodicity is found with numpy
over interned signatures), so a 100,000-node trace summarises in about a
second, and nothing recurses.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> from tracegraph.diagram.options import DiagramOptions
    >>> def chain(x):
    ...     for _ in range(60):
    ...         x = np.tanh(x * 0.9 + 0.1)
    ...     return x
    >>> view = select(tg.trace(chain, x=0.5).graph, DiagramOptions(max_nodes=20))
    >>> [group.kind for group in view.groups], len(view.nodes)
    (['repeat'], 7)
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from ..errors import mention
from .options import DiagramOptionError, DiagramOptions
from .text import count, shorten, visible

MAX_PERIOD = 12  # longest step (in operations) that repeated-structure detection looks for
MAX_OFFSET = 2 * MAX_PERIOD  # operands further back than this count as "far"
MIN_REPEATS = 4  # a run must repeat at least this often to be summarised
LEAF_KINDS = ("input", "constant")
EdgeKey = tuple[str, str, int]


@dataclass
class Group:
    """One box standing for many nodes of the graph.

    ``kind`` is ``"scope"``, ``"repeat"``, ``"segment"`` or ``"leaves"``;
    ``members`` are graph node ids in tape order; ``cluster`` is the scope
    path of the cluster the box is drawn in.

    Example:
        >>> Group("~g0", "scope", "layer1", ["n4", "n5"], ()).size
        2
    """

    id: str
    kind: str
    title: str
    members: list[str]
    cluster: tuple[str, ...]
    lines: list[str] = field(default_factory=list)
    absorbed: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def size(self) -> int:
        """How many graph nodes the box stands for."""
        return len(self.members) + len(self.absorbed)


@dataclass
class ViewEdge:
    """One drawn edge: ``tail``/``head`` are node or group ids, ``members``
    the graph edges it stands for.

    Example:
        >>> ViewEdge("x", "y", [("x", "y", 0)]).single
        True
    """

    tail: str
    head: str
    members: list[EdgeKey]

    @property
    def single(self) -> bool:
        """True when the edge stands for exactly one graph edge."""
        return len(self.members) == 1


@dataclass
class View:
    """What to draw: visible graph nodes, boxes, edges between them, and notes.

    ``items`` lists node and group ids in tape order (a group where its first
    member is); ``clusters`` gives each item's scope path.

    Example:
        >>> import tracegraph as tg
        >>> from tracegraph.diagram.options import DiagramOptions
        >>> view = select(tg.trace(lambda x: x * x, x=3.0).graph, DiagramOptions())
        >>> view.nodes, [(e.tail, e.head, len(e.members)) for e in view.edges]
        (['x', 'output'], [('x', 'output', 1), ('x', 'output', 1)])
    """

    graph: nx.MultiDiGraph
    nodes: list[str]
    groups: list[Group]
    owner: dict[str, str]
    edges: list[ViewEdge]
    notes: list[str]
    items: list[str]
    clusters: dict[str, tuple[str, ...]]


def select(graph: nx.MultiDiGraph, options: DiagramOptions) -> View:
    """Apply the filters and the node budget of ``options`` to ``graph``.

    Example:
        >>> import tracegraph as tg
        >>> from tracegraph.diagram.options import DiagramOptions
        >>> t = tg.trace(lambda x, y: tg.name(x * 2.0, "a") + y, x=1.0, y=2.0)
        >>> select(t.graph, DiagramOptions(focus="a")).nodes
        ['x', 'a']
    """
    notes: list[str] = []
    omitted = graph.graph.get("omitted_contributions")
    if omitted:
        size = graph.graph.get("omitted_bytes", 0) / 2 ** 20
        notes.append(f"{count(omitted, 'indexing edge')} from big arrays show no 'back' value "
                     f"(as full arrays they would take {size:,.0f} MiB more); the nodes' "
                     "gradients are complete")
    kept = _filtered(graph, options, notes)
    pinned = _pinned(graph, options, set(kept), notes)
    collapser = _Collapser(graph, kept, pinned, options, notes)
    if options.max_nodes is not None and len(kept) > options.max_nodes:
        collapser.fit(options.max_nodes)
    elif options.expand:
        _note_unknown_expand(graph, kept, options.expand, notes)
    return collapser.view()


# --------------------------------------------------------------------------- filters


def _filtered(graph: nx.MultiDiGraph, options: DiagramOptions, notes: list[str]) -> list[str]:
    total = graph.number_of_nodes()
    allowed: set[str] | None = None
    if options.focus is not None:
        _require_node(graph, options.focus, "focus")
        allowed = nx.ancestors(graph, options.focus) | {options.focus}
        notes.append(f"focus on {visible(options.focus)!r}: {count(len(allowed), 'node')} of "
                     f"{total:,} (it and everything it is computed from); drop focus to see all")
    if options.path is not None:
        allowed = _between(graph, *options.path, allowed, notes, total)
    hidden_constants = 0
    kept = []
    for node, data in graph.nodes(data=True):
        if allowed is not None and node not in allowed:
            continue
        if data.get("kind") == "constant":
            if is_literal(data):
                continue
            if not options.show_constants:
                hidden_constants += 1
                continue
        kept.append(node)
    if hidden_constants:
        notes.append(f"{count(hidden_constants, 'constant')} not drawn "
                     f"({mention('draw constants')} draws them)")
    return kept


def _between(graph: nx.MultiDiGraph, source: str, target: str, allowed: set[str] | None,
             notes: list[str], total: int) -> set[str]:
    _require_node(graph, source, "path")
    _require_node(graph, target, "path")
    if source == target:
        between = {source}
    else:
        descendants = nx.descendants(graph, source)
        if target not in descendants:
            raise DiagramOptionError(
                f"{mention('path', source, target)}: {target!r} does not depend on "
                f"{source!r}",
                node=target,
                hint="the path runs from an input towards the output; swap the ends or pick "
                     "nodes that are connected")
        between = (descendants & nx.ancestors(graph, target)) | {source, target}
    if allowed is not None:
        between &= allowed
    notes.append(f"only the {count(len(between), 'node')} on paths from {visible(source)!r} "
                 f"to {visible(target)!r} (of {total:,}); drop path to see all")
    return between


def _require_node(graph: nx.MultiDiGraph, node: str, option: str) -> None:
    if node in graph:
        return
    names = [str(n) for n in graph.nodes]
    by_lower = {name.lower(): name for name in reversed(names)}
    close = [by_lower[match] for match in
             difflib.get_close_matches(str(node).lower(), list(by_lower), n=3)]
    def quoted(names: list[str]) -> str:
        return ", ".join(repr(shorten(visible(name), 40)) for name in names)

    hint = f"did you mean {quoted(close)}?" if close else f"node ids look like {quoted(names[:6])}"
    raise DiagramOptionError(f"{option}: there is no node {shorten(visible(node), 80)!r} in "
                             "this graph", node=node, hint=hint)


def is_literal(data: dict[str, Any]) -> bool:
    """A graph node that is an unnamed scalar constant such as the 2 of ``x ** 2``: it is
    written into its consumer's formula, never drawn as a box of its own.

    Example:
        >>> is_literal({"kind": "constant", "name": None, "shape": ()})
        True
        >>> is_literal({"kind": "constant", "name": "gold", "shape": ()})
        False
    """
    return data.get("kind") == "constant" and not data.get("name") and \
        math.prod(data.get("shape") or ()) <= 1


def drawable_count(graph: nx.MultiDiGraph) -> int:
    """How many of the graph's nodes a diagram can draw (all but :func:`is_literal` ones).

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: x ** 2 + 1.0, x=3.0)
        >>> t.graph.number_of_nodes(), drawable_count(t.graph)
        (5, 3)
    """
    return sum(1 for _, data in graph.nodes(data=True) if not is_literal(data))


def _pinned(graph: nx.MultiDiGraph, options: DiagramOptions, kept: set[str],
            notes: list[str]) -> set[str]:
    """Nodes that never disappear into a box."""
    wanted = {graph.graph.get("output"), options.focus}
    if options.path is not None:
        wanted.update(options.path)
    for key in options.marks:
        if isinstance(key, tuple):
            if not graph.has_edge(*key):
                raise DiagramOptionError(
                    f"marks: there is no edge {key!r} in this graph",
                    hint="edges are (parent, child, argument position), e.g. ('G', 'S', 0)")
            ends = key[:2]
        else:
            _require_node(graph, key, "marks")
            ends = (key,)
        if not all(end in kept for end in ends):
            notes.append(f"the mark on {visible(key)!r} is not drawn: it is filtered out")
        wanted.update(ends)
    return {node for node in wanted if node in kept}


def _note_unknown_expand(graph: nx.MultiDiGraph, kept: Iterable[str],
                         expand: frozenset[str], notes: list[str]) -> None:
    if not expand:
        return
    known: set[str] = set()
    for node in kept:
        scope = tuple(graph.nodes[node].get("scope") or ())
        for depth in range(1, len(scope) + 1):
            known.add(scope[depth - 1])
            known.add("/".join(scope[:depth]))
    for name in sorted(expand - known):
        notes.append(f"expand: no scope named {visible(name)!r} in the diagram")


# --------------------------------------------------------------------------- budget


class _Collapser:
    """Groups nodes into boxes until the diagram fits its budget."""

    def __init__(self, graph: nx.MultiDiGraph, kept: list[str], pinned: set[str],
                 options: DiagramOptions, notes: list[str]) -> None:
        self.graph = graph
        self.nodes = dict(graph.nodes(data=True))  # plain dict lookups: this runs per node
        self.parents = _parents(graph)
        self.kept = kept
        self.kept_set = set(kept)
        self.pinned = pinned
        self.options = options
        self.notes = notes
        self.position = {node: i for i, node in enumerate(kept)}
        self.owner: dict[str, str] = {}
        self.groups: dict[str, Group] = {}
        self.absorbed_upto = 0  # groups before this index have had their leaves absorbed

    # -- bookkeeping --------------------------------------------------------------------
    def visible_count(self) -> int:
        return len(self.kept) - len(self.owner) + len(self.groups)

    def _free(self, node: str) -> bool:
        return node not in self.owner and node not in self.pinned

    def _kind(self, node: str) -> str:
        return self.nodes[node].get("kind", "op")

    def _scope(self, node: str) -> tuple[str, ...]:
        return tuple(self.nodes[node].get("scope") or ())

    def _new_group(self, kind: str, title: str, members: list[str],
                   cluster: tuple[str, ...]) -> Group:
        group = Group(f"~g{len(self.groups)}", kind, title, members, cluster)
        self.groups[group.id] = group
        for node in members:
            self.owner[node] = group.id
        return group

    # -- the stages -----------------------------------------------------------------------
    def fit(self, budget: int) -> None:
        start = len(self.kept)
        stages = (self._collapse_scopes, self._collapse_repeats, self._collapse_segments)
        for stage in stages:
            stage(budget)
            if self.visible_count() > budget:
                self._absorb_leaves()
            if self.visible_count() <= budget:
                break
        if self.visible_count() > budget:
            self._gather_leaves()
        self.notes.append(f"{count(start, 'node')} is over the budget "
                          f"{mention('node budget', str(budget))}: "
                          f"the diagram draws {count(self.visible_count(), 'box', 'boxes')}")
        self.notes.extend(self._describe_groups())
        if self.visible_count() > budget:
            self.notes.append(f"still {self.visible_count():,} boxes: the output, the focus "
                              "and marked nodes are always drawn")
        self.notes.append(f"{mention('every node')} draws every node (Graphviz gets slow "
                          "past a few thousand)")

    def _collapse_scopes(self, budget: int) -> None:
        sizes: Counter[tuple[str, ...]] = Counter()
        first: dict[tuple[str, ...], int] = {}
        for position, node in enumerate(self.kept):
            scope = self._scope(node)
            for depth in range(1, len(scope) + 1):
                prefix = scope[:depth]
                sizes[prefix] += 1
                first.setdefault(prefix, position)
        _note_unknown_expand(self.graph, self.kept, self.options.expand, self.notes)
        candidates = [p for p in self._scope_frontier(sizes, first) if sizes[p] > 1]
        if not candidates:
            return
        members = self._members_by_candidate(set(candidates))
        for scope in sorted(candidates, key=lambda p: (-sizes[p], first[p])):
            if self.visible_count() > budget:
                self._absorb_leaves()  # cheaper for the reader than collapsing one more scope
            if self.visible_count() <= budget:
                break
            nodes = members.get(scope, [])
            if len(nodes) < 2:
                continue
            self._new_group("scope", "/".join(scope), nodes, scope[:-1])

    def _scope_frontier(self, sizes: Counter, first: dict) -> list[tuple[str, ...]]:
        """Outermost scopes that are not expanded (inner scopes of expanded ones)."""
        children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for prefix in sorted(sizes, key=first.__getitem__):
            children.setdefault(prefix[:-1], []).append(prefix)
        frontier = []
        stack = list(reversed(children.get((), [])))
        while stack:
            scope = stack.pop()
            if scope[-1] in self.options.expand or "/".join(scope) in self.options.expand:
                stack.extend(reversed(children.get(scope, [])))
            else:
                frontier.append(scope)
        return frontier

    def _members_by_candidate(self, candidates: set[tuple[str, ...]]) -> dict:
        members: dict[tuple[str, ...], list[str]] = {}
        for node in self.kept:
            if not self._free(node):
                continue
            scope = self._scope(node)
            for depth in range(1, len(scope) + 1):
                if scope[:depth] in candidates:
                    members.setdefault(scope[:depth], []).append(node)
                    break
        return members

    def _collapse_repeats(self, budget: int) -> None:
        sequence = [n for n in self.kept if self._free(n) and self._kind(n) == "op"]
        signatures = self._signatures(sequence)
        for start, period, repeats in _repeated_runs(signatures):
            if self.visible_count() <= budget:
                break
            # The first step stays drawn in full, so the reader sees what repeats.
            members = sequence[start + period: start + period * repeats]
            step = [self.nodes[n].get("op", "?") for n in sequence[start: start + period]]
            group = self._new_group("repeat", f"×{repeats - 1:,} repeated steps", members,
                                    _common_prefix(self._scope(n) for n in members))
            group.detail = " → ".join(step)
            group.lines.append(f"each step: {group.detail}")

    def _signatures(self, sequence: list[str]) -> list[tuple]:
        """Per operation: (op, shape, where each operand comes from), position-free."""
        position = {node: i for i, node in enumerate(sequence)}
        signatures = []
        for i, node in enumerate(sequence):
            operands = []
            incoming = [(key, parent) for parent, keys in self.parents[node].items()
                        for key in keys]
            for _, parent in sorted(incoming):
                j = position.get(parent)
                if j is None:
                    operands.append(self._kind(parent))
                else:
                    operands.append(i - j if i - j <= MAX_OFFSET else "far")
            data = self.nodes[node]
            signatures.append((data.get("op"), tuple(data.get("shape") or ()), tuple(operands)))
        return signatures

    def _collapse_segments(self, budget: int) -> None:
        operations = [n for n in self.kept if self._free(n) and self._kind(n) == "op"]
        if len(operations) < 2:
            return
        owner, groups, notes = dict(self.owner), dict(self.groups), list(self.notes)
        absorbed = {gid: list(g.absorbed) for gid, g in groups.items()}
        absorbed_upto = self.absorbed_upto
        size = max(2, math.ceil(len(operations) / max(1, budget // 2)))
        while True:
            for i in range(0, len(operations), size):
                chunk = operations[i: i + size]
                self._new_group("segment", f"operations {_span(chunk)}", chunk,
                                _common_prefix(self._scope(n) for n in chunk))
            self._absorb_leaves()
            if self.visible_count() <= budget or size >= len(operations):
                break
            self.owner, self.groups, self.notes = dict(owner), dict(groups), list(notes)
            for gid, leaves in absorbed.items():
                self.groups[gid].absorbed = list(leaves)
            self.absorbed_upto = absorbed_upto
            size *= 2

    def _absorb_leaves(self) -> None:
        """Draw inputs/constants used only inside one box inside that box.

        Only the boxes made since the last call are looked at, through their
        members' parents, so calling this after every new box stays linear.
        """
        for group_id in list(self.groups)[self.absorbed_upto:]:
            group = self.groups[group_id]
            for leaf in self._leaves_only_used_by(group):
                group.absorbed.append(leaf)
                self.owner[leaf] = group.id
        self.absorbed_upto = len(self.groups)

    def _leaves_only_used_by(self, group: Group) -> list[str]:
        found: dict[str, None] = {}
        for member in group.members:
            for parent in self.parents[member]:
                if (parent in found or parent not in self.kept_set or not self._free(parent)
                        or self._kind(parent) not in LEAF_KINDS):
                    continue
                if all(self.owner.get(child) == group.id for child in self.graph.succ[parent]
                       if child in self.kept_set):
                    found[parent] = None
        return sorted(found, key=self.position.__getitem__)

    def _gather_leaves(self) -> None:
        leaves = [n for n in self.kept if self._free(n) and self._kind(n) in LEAF_KINDS]
        if len(leaves) < 2:
            return
        self._new_group("leaves", count(len(leaves), "input"), leaves, ())

    def _describe_groups(self) -> list[str]:
        """One note per collapsed scope or repeated run, one for all segments."""
        notes = []
        segments = [g for g in self.groups.values() if g.kind == "segment"]
        for group in self.groups.values():
            inside = count(group.size, "node")
            if group.kind == "scope":
                name = visible(group.title)
                notes.append(f"scope {name!r} ({inside}) collapsed; "
                             f"{mention('expand', repr(name))} draws it")
            elif group.kind == "repeat":
                notes.append(f"{group.title[1:]} of {group.detail} ({inside}, "
                             f"{_span(group.members)}) drawn as one box after the first step; "
                             f"{mention('focus or path')} or {mention('every node')} draw "
                             "them")
            elif group.kind == "leaves":
                notes.append(f"{count(group.size, 'input or constant', 'inputs or constants')} "
                             "feeding several boxes drawn as one box")
        if segments:
            operations = sum(len(g.members) for g in segments)
            notes.append(
                f"{count(operations, 'operation')} without scopes or repeated structure cut into "
                f"{count(len(segments), 'segment')} of the tape; use "
                f"{mention('focus or path')}, tracegraph.scope(...) in the code, or "
                f"{mention('every node')} to see them")
        return notes

    # -- result -----------------------------------------------------------------------------
    def view(self) -> View:
        items: list[str] = []
        clusters: dict[str, tuple[str, ...]] = {}
        for node in self.kept:
            item = self.owner.get(node, node)
            if item in clusters:
                continue
            items.append(item)
            group = self.groups.get(item)
            clusters[item] = group.cluster if group is not None else self._scope(node)
        nodes = [item for item in items if item not in self.groups]
        return View(self.graph, nodes, list(self.groups.values()), self.owner,
                    self._edges(), self.notes, items, clusters)

    def _edges(self) -> list[ViewEdge]:
        edges: dict[tuple[str, str], ViewEdge] = {}
        singles: list[ViewEdge] = []
        kept, owner = self.kept_set, self.owner
        for tail, head, key in self.graph.edges(keys=True):
            if tail not in kept or head not in kept:
                continue
            drawn_tail, drawn_head = owner.get(tail, tail), owner.get(head, head)
            if drawn_tail == drawn_head:
                continue
            if drawn_tail == tail and drawn_head == head:
                singles.append(ViewEdge(tail, head, [(tail, head, key)]))
                continue
            merged = edges.get((drawn_tail, drawn_head))
            if merged is None:
                merged = edges[drawn_tail, drawn_head] = ViewEdge(drawn_tail, drawn_head, [])
                singles.append(merged)
            merged.members.append((tail, head, key))
        return singles


def _parents(graph: nx.MultiDiGraph) -> dict[str, dict[str, list[int]]]:
    """Each node's parents and the keys of the edges from them, as plain dicts (built in
    one pass: this runs per node on graphs of 100,000 nodes, where views cost)."""
    parents: dict[str, dict[str, list[int]]] = {node: {} for node in graph}
    for parent, children in graph.adjacency():
        for child, keyed in children.items():
            parents[child][parent] = list(keyed)
    return parents


def _repeated_runs(signatures: list[tuple]) -> list[tuple[int, int, int]]:
    """Non-overlapping periodic runs as (start, period, repeats), longest first.

    A run with period p is a stretch where each signature equals the one p
    places later.  The run is then extended backwards over a first step that
    takes its operands from outside (the chain's input) where later steps
    take them from the step before.
    """
    if len(signatures) < MIN_REPEATS:
        return []
    interned: dict[tuple, int] = {}
    ids = np.array([interned.setdefault(s, len(interned)) for s in signatures])
    candidates = []
    for period in range(1, MAX_PERIOD + 1):
        if len(ids) < period * MIN_REPEATS:
            break
        same = np.concatenate(([False], ids[:-period] == ids[period:], [False]))
        steps = np.diff(same.astype(np.int8))
        starts, ends = np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)
        long_enough = (ends - starts + period) >= period * MIN_REPEATS
        for start, end in zip(starts[long_enough], ends[long_enough]):
            repeats = (end - start + period) // period
            candidates.append((repeats * period, period, int(start)))
    taken = np.zeros(len(ids), dtype=bool)
    runs = []
    for covered, period, start in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        end = start + covered
        if taken[start:end].any():
            continue
        while (start > 0 and end - start < covered + period and not taken[start - 1]
               and _same_step(signatures, start - 1, start - 1 + period)):
            start -= 1
        repeats = (end - start) // period
        taken[start: start + repeats * period] = True
        runs.append((start, period, repeats))
    return runs


def _same_step(signatures: list[tuple], j: int, k: int) -> bool:
    """Whether operation j does what operation k does, allowing j to take from
    outside what k takes from inside the run."""
    (op_j, shape_j, from_j), (op_k, shape_k, from_k) = signatures[j], signatures[k]
    if op_j != op_k or shape_j != shape_k or len(from_j) != len(from_k):
        return False
    return all(a == b or (not isinstance(a, int) and isinstance(b, int) and k - b >= j)
               for a, b in zip(from_j, from_k))


def _common_prefix(scopes: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    prefix: tuple[str, ...] | None = None
    for scope in scopes:
        if prefix is None:
            prefix = scope
            continue
        length = 0
        for a, b in zip(prefix, scope):
            if a != b:
                break
            length += 1
        prefix = prefix[:length]
        if not prefix:
            break
    return prefix or ()


def _span(nodes: list[str]) -> str:
    return f"{visible(nodes[0])} … {visible(nodes[-1])}" if len(nodes) > 1 else visible(nodes[0])
