"""The annotated trace as a networkx ``MultiDiGraph`` - tracegraph's main artefact.

Schema
======

Graph attributes (``G.graph``):
    ``output`` (node id of the output), ``inputs`` (ids of the inputs, in
    the order given), ``differentiated`` (whether ``grad`` attributes hold
    gradients), ``tracegraph`` (format version).

Node ids are deterministic strings: the user's name (``"G"``; a name used
again gets ``"G#2"``, ``"G#3"`` ...), ``"n<k>"`` for an unnamed operation
(k = its position on the tape) and ``"c<k>"`` for an unnamed constant.

Node attributes:
    ``kind``      ``"input"``, ``"constant"``, ``"op"`` or ``"output"``
    ``op``        the primitive's name (``"sigmoid"``), or ``"input"`` / ``"constant"``
    ``label``     the user's name, or for an unnamed node its expression when short
                  (``"gold − S"``), else ``"<op>#<k>"``
    ``name``      the user's name or ``None``
    ``expr``      what the node computes in terms of its inputs' labels (``"A + B + C"``)
    ``value``     forward value (float for scalars, ndarray otherwise)
    ``grad``      d(output)/d(node), same shape as ``value``; ``None`` for constants
                  or before differentiation; zeros where the node does not
                  influence the output
    ``shape``, ``dtype``, ``index`` (position on the tape), ``scope`` (tuple of scope names)
    ``value_nonfinite`` / ``grad_nonfinite``  True when NaN or inf is present

Edges go parent → child, keyed by the argument position (``x * x`` has keys
0 and 1), with attributes:
    ``position``      the argument position (same as the key)
    ``formula``       the local derivative ∂child/∂parent as text with names
                      filled in (``"S·(1 − S)"``); for arrays, the VJP in words
    ``local``         the local derivative as a number when both ends are
                      scalars, else ``None``
    ``contribution``  upstream × local: what flows back along this edge
                      (shape of the parent); the parent's ``grad`` is the sum
                      of its out-edges' contributions.  ``None`` for constants.

n-ary sums: an unnamed ``a + b`` whose only use is another ``+`` is merged
into it, so ``G = A + B + C`` is one node with three inputs, as in the
lecture notes.  (``build_graph(..., fold_sums=False)`` keeps Python's
binary additions.)

Example:
    >>> import tracegraph as tg
    >>> def neuron(w1, x1, w2, x2, w3, x3, gold):
    ...     A = tg.name(w1 * x1, "A"); B = tg.name(w2 * x2, "B"); C = tg.name(w3 * x3, "C")
    ...     G = tg.name(A + B + C, "G")
    ...     S = tg.name(tg.sigmoid(G), "S")
    ...     return (gold - S) ** 2
    >>> t = tg.trace(neuron, w1=0.5, x1=1.0, w2=-0.3, x2=2.0, w3=0.8, x3=0.5, gold=1.0)
    >>> g = t.graph
    >>> g.nodes["G"]["expr"], sorted(k for _, _, k in g.in_edges("G", keys=True))
    ('A + B + C', [0, 1, 2])
    >>> g.edges["G", "S", 0]["formula"]
    'S·(1 − S)'
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from .autodiff import edge_contribution, is_finite
from .core import ADD_NAME, Label, Symbols, Var, shape_of, symbols_for

if TYPE_CHECKING:
    from .trace import Trace

FORMAT_VERSION = 1
MAX_EXPRESSION_LABEL = 32


def format_number(value: Any, precision: int = 4) -> str:
    """A scalar as short text: ``0.1966``, ``2``, ``1.2e-08``, ``nan``.

    Example:
        >>> format_number(0.19661193), format_number(2.0), format_number(1.5e-9)
        ('0.1966', '2', '1.5e-09')
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "−inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{precision}g}"


def _constant_label(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return format_number(value)
    array = np.asarray(value)
    if array.dtype == object:
        return type(value).__name__
    if array.ndim == 0:
        return format_number(array)
    if array.size <= 3 and array.dtype.kind in "fiub":
        return "[" + ", ".join(format_number(v) for v in array.ravel()) + "]"
    return f"{array.dtype.name}[{'×'.join(map(str, array.shape))}]"


def _shape_of(value: Any) -> tuple[int, ...]:
    return tuple(shape_of(value))


def _dtype_of(value: Any) -> str:
    if type(value) is float:
        return "float64"
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        return dtype.name
    try:
        return np.result_type(value).name
    except TypeError:
        return type(value).__name__


def _size_is_one(value: Any) -> bool:
    return type(value) is float or np.size(value) == 1


def _zeros_like(value: Any) -> Any:
    return 0.0 if type(value) is float else np.zeros(np.shape(value))


def relevant_indices(nodes: Sequence[Var], output_index: int | None,
                     input_indices: Iterable[int]) -> list[int]:
    """Tape positions of the output's ancestors plus every input, in tape order.

    One reversed sweep (the tape is topologically ordered), so nodes computed
    after the output - or that do not feed it - are left out.
    """
    keep = [False] * len(nodes)
    for index in input_indices:
        keep[index] = True
    if output_index is not None:
        keep[output_index] = True
        for i in range(output_index, -1, -1):
            if keep[i]:
                for x in nodes[i]._inputs:
                    if type(x) is Var:
                        keep[x._index] = True
    return [i for i, kept in enumerate(keep) if kept]


class _GraphBuilder:
    def __init__(self, trace: Trace, fold_sums: bool) -> None:
        self.trace = trace
        self.nodes = trace._tape.nodes
        self.adjoints = trace._all_adjoints()
        self.fold_sums = fold_sums
        self.graph = nx.MultiDiGraph()
        self.ids: dict[int, str] = {}
        self.labels: dict[int, str] = {}
        self.constant_ids: dict[int, str] = {}
        self.constant_count = 0
        self.used_ids: set[str] = set()
        self.next_suffix: dict[str, int] = {}

    # -- ids ----------------------------------------------------------------------------
    def _unique(self, base: str) -> str:
        """``base``, or ``base#2``, ``base#3`` ... when taken (next suffix remembered per base)."""
        if base not in self.used_ids:
            self.used_ids.add(base)
            return base
        n = self.next_suffix.get(base, 2)
        while f"{base}#{n}" in self.used_ids:
            n += 1
        self.next_suffix[base] = n + 1
        candidate = f"{base}#{n}"
        self.used_ids.add(candidate)
        return candidate

    def _assign_ids(self, order: list[int]) -> None:
        # Names first, so a generated id can never take a user's name.
        for i in order:
            name = self.nodes[i]._name
            if name is not None:
                self.ids[i] = self._unique(name)
        for i in order:
            if i not in self.ids:
                self.ids[i] = self._unique(f"n{i}")

    # -- operands, with n-ary sums folded -----------------------------------------------
    def _operands(self, order: list[int]) -> dict[int, list[tuple[Any, Var | None, int]]]:
        """For each op node: [(source, via_node, via_position)] in argument order.

        ``source`` is a Var or a constant; ``via_node``/``via_position`` say which
        recorded operation actually consumed it (differs from the node itself
        when a partial sum was folded in).
        """
        consumers = [0] * len(self.nodes)
        for i in order:
            for x in self.nodes[i]._inputs:
                if type(x) is Var:
                    consumers[x._index] += 1
        output_index = self.trace._output_index
        folded: set[int] = set()
        operands: dict[int, list] = {}
        for i in order:
            node = self.nodes[i]
            if node._prim is None:
                continue
            items: list[tuple[Any, Var | None, int]] = []
            for position, x in enumerate(node._inputs):
                if (self.fold_sums and node._prim.name == ADD_NAME and type(x) is Var
                        and x._index in operands and x._prim.name == ADD_NAME
                        and x._name is None and consumers[x._index] == 1
                        and x._index != output_index
                        and self._scope_of(x._index) == self._scope_of(i)):
                    items.extend(operands[x._index])
                    folded.add(x._index)
                else:
                    items.append((x, node, position))
            operands[i] = items
        for index in folded:
            del operands[index]
        self.folded = folded
        return operands

    def _scope_of(self, index: int) -> tuple[str, ...]:
        return self.scopes.get(index, ())

    def _scope_table(self) -> dict[int, tuple[str, ...]]:
        """Innermost scope path of every node recorded inside a scope."""
        table: dict[int, tuple[str, ...]] = {}
        # Outer spans first, so inner (deeper) paths overwrite them.
        for span in sorted(self.trace._tape.scope_spans, key=lambda s: len(s.path)):
            for index in range(span.start, span.stop):
                table[index] = span.path
        return table

    # -- constants ------------------------------------------------------------------------
    def _constant_node(self, value: Any) -> str:
        named = self.trace._tape.constant_names.get(id(value))
        if named is not None and named[1] is value:
            key = id(value)
            if key not in self.constant_ids:
                self.constant_ids[key] = self._add_constant(named[0], value, named[0])
            return self.constant_ids[key]
        if isinstance(value, np.ndarray):
            key = id(value)
            if key not in self.constant_ids:
                self.constant_ids[key] = self._add_constant(None, value, _constant_label(value))
            return self.constant_ids[key]
        return self._add_constant(None, value, _constant_label(value))

    def _add_constant(self, name: str | None, value: Any, label: str) -> str:
        node_id = self._unique(name) if name else self._unique(f"c{self.constant_count}")
        self.constant_count += 1
        self.node_rows.append((node_id, dict(
            kind="constant", op="constant", label=label, name=name, expr=label,
            value=value, grad=None, shape=_shape_of(value), dtype=_dtype_of(value),
            index=None, scope=(), value_nonfinite=not _finite_or_object(value),
            grad_nonfinite=False,
        )))
        self.constant_labels[node_id] = label
        return node_id

    # -- build -----------------------------------------------------------------------------
    def build(self) -> nx.MultiDiGraph:
        trace = self.trace
        order = relevant_indices(self.nodes, trace._output_index, trace._input_indices.values())
        self.scopes = self._scope_table()
        operands = self._operands(order)
        kept = [i for i in order if i not in self.folded]
        self._assign_ids(kept)
        self.node_rows: list[tuple[str, dict]] = []
        self.edge_rows: list[tuple[str, str, int, dict]] = []
        self.constant_labels: dict[str, str] = {}
        for i in kept:
            self._add_node_and_edges(i, operands.get(i, ()))
        graph = self.graph
        graph.graph.update(
            tracegraph=FORMAT_VERSION,
            inputs=[self.ids[i] for i in trace._input_indices.values()],
            differentiated=self.adjoints is not None,
        )
        if trace._output_index is None:
            self._add_constant_output()
        graph.add_nodes_from(self.node_rows)
        graph.add_edges_from(self.edge_rows)
        graph.graph["output"] = (self.ids[trace._output_index]
                                 if trace._output_index is not None else self.node_rows[-1][0])
        return graph

    def _add_node_and_edges(self, i: int, operands: Sequence) -> None:
        node = self.nodes[i]
        prim = node._prim
        parent_ids: list[str] = []
        labels: list[Label] = []
        for source, _, _ in operands:
            if type(source) is Var:
                parent_ids.append(self.ids[source._index])
                labels.append(self.labels[source._index])
            else:
                constant_id = self._constant_node(source)
                parent_ids.append(constant_id)
                labels.append(Label(self.constant_labels[constant_id]))
        if prim is None:
            label = node._name or self.ids[i]
            self.labels[i] = Label(label)
            self._add_node(i, node, label, label)
            return
        symbols = self._symbols(node, labels)
        folded_sum = prim.name == ADD_NAME and len(operands) != 2
        expr = " + ".join(labels) if folded_sum else symbols.render(prim.display)
        label = self._label(node, expr)
        self.labels[i] = Label(label)
        symbols.names["out"] = self.labels[i]
        self._add_node(i, node, label, expr)
        child_value = node.value
        upstream = None
        if self.adjoints is not None and i < len(self.adjoints):
            upstream = self.adjoints[i]
        for position, (source, via, via_position) in enumerate(operands):
            if folded_sum or via is not node:
                formula = "1"
            else:
                formula = self._formula(prim, symbols, position)
            local = contribution = None
            if type(source) is Var:
                values = [x.value if type(x) is Var else x for x in via._inputs]
                if _size_is_one(source.value) and _size_is_one(child_value):
                    unit = 1.0 if not shape_of(child_value) else np.ones(shape_of(child_value))
                    local = _scalar(edge_contribution(via, via_position, unit, values))
                if self.adjoints is not None:
                    contribution = (_zeros_like(source.value) if upstream is None else
                                    edge_contribution(via, via_position, upstream, values))
            self.edge_rows.append((parent_ids[position], self.ids[i], position, dict(
                position=position, formula=formula, local=local, contribution=contribution)))

    def _add_constant_output(self) -> None:
        value = self.trace.value
        node_id = self._unique(self.trace.output_name or "output")
        self.node_rows.append((node_id, dict(
            kind="output", op="constant", label=node_id, name=self.trace.output_name,
            expr=_constant_label(value), value=value,
            grad=1.0 if np.ndim(value) == 0 else np.ones(np.shape(value)),
            shape=_shape_of(value), dtype=_dtype_of(value), index=None, scope=(),
            value_nonfinite=not _finite_or_object(value), grad_nonfinite=False,
        )))

    def _symbols(self, node: Var, labels: list[Label]) -> Symbols:
        return symbols_for(node, labels, Label(""))

    def _label(self, node: Var, expr: str) -> str:
        if node._name is not None:
            return node._name
        if len(expr) <= MAX_EXPRESSION_LABEL:
            return expr
        return f"{node.op}#{node._index}"

    def _add_node(self, i: int, node: Var, label: str, expr: str) -> None:
        trace = self.trace
        if i == trace._output_index:
            kind = "output"
        elif node._prim is None:
            kind = "input"
        else:
            kind = "op"
        grad = None
        if self.adjoints is not None:
            grad = self.adjoints[i] if i < len(self.adjoints) else None
            if grad is None:
                grad = _zeros_like(node.value)
        value = node.value
        self.node_rows.append((self.ids[i], dict(
            kind=kind, op=node.op, label=label, name=node._name, expr=expr,
            value=value, grad=grad, shape=_shape_of(value), dtype=_dtype_of(value),
            index=i, scope=self._scope_of(i), value_nonfinite=not is_finite(value),
            grad_nonfinite=grad is not None and not is_finite(grad),
        )))

    def _formula(self, prim, symbols: Symbols, position: int) -> str:
        template = prim.formula(position)
        if template is None:
            return "no gradient"
        if prim.variadic:
            symbols = dataclasses.replace(symbols, position=position)
        return symbols.render(template)


def _scalar(value: Any) -> float:
    return float(np.asarray(value).reshape(()))


def _finite_or_object(value: Any) -> bool:
    try:
        return is_finite(value)
    except TypeError:
        return True


def build_graph(trace: Trace, *, fold_sums: bool = True) -> nx.MultiDiGraph:
    """The annotated graph of a trace (see the module docstring for the schema).

    Usually reached as ``trace.graph`` (cached).

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda x: np.sum(x * x), x=np.arange(3.0))
        >>> g = build_graph(t)
        >>> g.nodes["x"]["grad"].tolist()
        [0.0, 2.0, 4.0]
    """
    # Contributions are recomputed here; any NaN/inf they hold was already
    # reported by the backward pass, so numpy's warnings would only repeat it.
    with np.errstate(all="ignore"):
        return _GraphBuilder(trace, fold_sums).build()


# --------------------------------------------------------------------------- queries


def chain_paths(graph: nx.MultiDiGraph, source: str, target: str | None = None,
                limit: int = 1000) -> list[list[tuple[str, str, int]]]:
    """Every chain-rule path (as edge lists) from ``source`` to ``target``
    (default: the output), at most ``limit`` of them.

    Along a path the product of the edges' local derivatives is that path's
    share of d target / d source; the shares sum to the gradient.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: x * x, x=3.0)
        >>> [[k for _, _, k in p] for p in chain_paths(t.graph, "x")]
        [[0], [1]]
    """
    target = target if target is not None else graph.graph["output"]
    paths = []
    for path in nx.all_simple_edge_paths(graph, source, target):
        paths.append(path)
        if len(paths) >= limit:
            break
    return paths


# --------------------------------------------------------------------------- export


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return repr(value)
        return [_jsonable(v) for v in value.tolist()] if value.ndim else _jsonable(value[()])
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def to_node_link(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """The graph as a JSON-ready node-link dict (arrays become nested lists;
    NaN and infinities become the strings ``"NaN"``, ``"Infinity"``).

    Example:
        >>> import tracegraph as tg
        >>> data = to_node_link(tg.trace(lambda x: x * 2.0, x=1.0).graph)
        >>> sorted(data)[:3], data["graph"]["output"]
        (['directed', 'edges', 'graph'], 'output')
    """
    data = nx.node_link_data(graph, edges="edges")
    return _jsonable(data)


def to_json(graph: nx.MultiDiGraph, *, indent: int | None = 1) -> str:
    """The graph as deterministic node-link JSON text (no pickle).

    Example:
        >>> import json, tracegraph as tg
        >>> json.loads(to_json(tg.trace(lambda x: x + 1.0, x=1.0).graph))["directed"]
        True
    """
    return json.dumps(to_node_link(graph), indent=indent, ensure_ascii=False, sort_keys=False)


def from_json(text: str) -> nx.MultiDiGraph:
    """Read a graph written by :func:`to_json` (values come back as lists/floats).

    Example:
        >>> import tracegraph as tg
        >>> g = from_json(to_json(tg.trace(lambda x: x * x, x=3.0).graph))
        >>> g.nodes["x"]["grad"]
        6.0
    """
    data = json.loads(text)
    return nx.node_link_graph(data, edges="edges", multigraph=True, directed=True)


def to_graphml(graph: nx.MultiDiGraph) -> str:
    """The graph as GraphML text, for Gephi, yEd or Cytoscape.

    GraphML holds scalars and strings only, so the schema's names are kept
    but arrays become short summaries (``"array[4×3], norm 3.464"``), tuples
    and lists become comma-separated text (``shape`` ``"4, 3"``) and ``None``
    values are left out.

    Example:
        >>> import tracegraph as tg
        >>> text = to_graphml(tg.trace(lambda x: x * x, x=3.0).graph)
        >>> '<node id="x">' in text, 'attr.name="grad"' in text
        (True, True)
    """
    import io

    export = nx.MultiDiGraph()
    export.graph.update(_graphml_attributes(graph.graph))
    export.add_nodes_from((node, _graphml_attributes(data)) for node, data in graph.nodes(data=True))
    export.add_edges_from((parent, child, key, _graphml_attributes(data))
                          for parent, child, key, data in graph.edges(keys=True, data=True))
    buffer = io.BytesIO()
    nx.write_graphml_xml(export, buffer, encoding="utf-8", prettyprint=True,
                         infer_numeric_types=True)
    return buffer.getvalue().decode("utf-8")


def _graphml_attributes(data: dict[str, Any]) -> dict[str, Any]:
    """Attribute values GraphML can hold: bool, int, float or str (``None`` dropped)."""
    converted = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, (bool, np.bool_)):
            converted[key] = bool(value)
        elif isinstance(value, (int, np.integer)):
            converted[key] = int(value)
        elif isinstance(value, (float, np.floating)):
            converted[key] = float(value)
        elif isinstance(value, str):
            converted[key] = value
        elif isinstance(value, (tuple, list)):
            converted[key] = ", ".join(str(item) for item in value)
        elif isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu":
            converted[key] = float(value)
        elif isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
            norm = format_number(np.linalg.norm(value.astype(float).ravel()))
            converted[key] = f"array[{'×'.join(map(str, value.shape))}], norm {norm}"
        else:
            converted[key] = repr(value)
    return converted
