"""The annotated trace as a networkx ``MultiDiGraph`` - tracegraph's main artefact.

Schema
======

Graph attributes (``G.graph``):
    ``output`` (node id of the output), ``inputs`` (ids of the inputs, in
    the order given), ``differentiated`` (whether ``grad`` attributes hold
    gradients), ``tracegraph`` (format version); ``omitted_contributions`` and
    ``omitted_bytes`` when edges hold no ``contribution`` to stay within memory (below).

Node ids are deterministic strings: the user's name (``"G"``), ``"n<k>"`` for
an unnamed operation (k = its position on the tape) and ``"c<k>"`` for an
unnamed constant.  A name bound to several values has *versions*, numbered
in record order over the whole tape: version k of ``h`` is ``"h#k"``
(version 1 is ``"h"``), whichever versions the graph shows.

Node attributes:
    ``kind``      ``"input"``, ``"constant"``, ``"op"`` or ``"output"``
    ``op``        the primitive's name (``"sigmoid"``), or ``"input"`` / ``"constant"``
    ``label``     the user's name (with the version as a subscript, ``h₂``, when
                  the name has several versions), or for an unnamed node its
                  expression when short (``"gold − S"``), else ``"<op>#<k>"``
    ``name``      the user's name or ``None``
    ``expr``      what the node computes in terms of its inputs' labels (``"A + B + C"``)
    ``value``     forward value (float for scalars, ndarray otherwise)
    ``grad``      d(output)/d(node), same shape as ``value``; ``None`` for constants
                  or before differentiation; zeros where the node does not
                  influence the output
    ``shape``, ``dtype``, ``index`` (position on the tape), ``scope`` (tuple of scope names)
    ``value_nonfinite`` / ``grad_nonfinite``  True when NaN or inf is present
    ``tangent``   forward mode, only when asked (``build_graph(..., tangents=...)``):
                  d(node)/d(seed direction), same shape as ``value``; the graph's
                  ``tangent_seed`` holds the inputs' tangents (``{"x": 1.0}``)

Edges go parent → child, keyed by the argument position (``x * x`` has keys
0 and 1), with attributes:
    ``position``      the argument position (same as the key)
    ``formula``       the local derivative ∂child/∂parent as text with names
                      filled in (``"S·(1 − S)"``); for arrays, the VJP in words
    ``local``         the local derivative as a number when both ends are
                      scalars, else ``None``
    ``contribution``  upstream × local: what flows back along this edge
                      (shape of the parent); the parent's ``grad`` is the sum
                      of its out-edges' contributions.  ``None`` for constants,
                      and for an edge ``x → x[i]`` selecting under 1/8 of a big
                      array once the graph holds 256 MiB of contributions (a loop
                      over the rows of a traced array would need one full array
                      per row; the graph's ``omitted_contributions`` counts them).

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
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from .autodiff import edge_contribution, is_finite
from .bulk import collector_paused
from .core import SPARSE_FACTOR, Tape, Var, plain_value, shape_of
from .core.pullback import fit
from .core.var import add, getitem
from .formula import Label, Symbols, fill, symbols_for, versioned
from .numbers import format_number
from .paths import (  # noqa: F401 - the path queries, as tracegraph.graph.count_paths ...
    PathsBetween,
    chain_paths,
    count_paths,
    strongest_paths,
    sum_over_paths,
)

FORMAT_VERSION = 1
MAX_EXPRESSION_LABEL = 32


def _constant_label(value: Any) -> str:
    value = plain_value(value)
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


_DTYPE_NAMES: dict[np.dtype, str] = {}  # numpy builds dtype.name anew each time: 1.5 µs


def _dtype_of(value: Any) -> str:
    if type(value) is float:
        return "float64"
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        name = _DTYPE_NAMES.get(dtype)
        if name is None:
            name = _DTYPE_NAMES[dtype] = dtype.name
        return name
    try:
        return np.result_type(value).name
    except TypeError:
        return type(value).__name__


def _size_is_one(value: Any) -> bool:
    return type(value) is float or np.size(value) == 1


def _zeros_like(value: Any) -> Any:
    return 0.0 if type(value) is float else np.zeros(np.shape(value))


def _plain(value: Any) -> Any:
    """A value for the graph: nested traces hold traced values; the graph holds numbers."""
    return plain_value(value) if type(value) is Var else value


CONTRIBUTION_BUDGET = 1 << 28
"""Bytes of per-edge gradient arrays a graph holds before it stops keeping them for
selections of big arrays (see :func:`_omits`)."""


class _GraphBuilder:
    def __init__(self, tape: Tape, adjoints: Sequence[Any] | None, fold_sums: bool,
                 tangents: Sequence[Any] | None = None) -> None:
        self.tape = tape
        self.equations = tape.equations
        self.adjoints = adjoints
        self.tangents = tangents
        self.fold_sums = fold_sums
        self.graph = nx.MultiDiGraph()
        self.ids: dict[int, str] = {}
        self.labels: dict[int, Label] = {}
        self.constant_ids: dict[int, str] = {}
        self.constant_count = 0
        self.used_ids: set[str] = set()
        self.next_suffix: dict[str, int] = {}
        self.node_rows: list[tuple[str, dict]] = []
        self.edge_rows: list[tuple[str, str, int, dict]] = []
        self.constant_labels: dict[str, str] = {}
        self.scopes = tape.scope_table()
        self.folded: set[int] = set()
        self.rendered: dict[tuple, str] = {}
        self.versions: dict[int, int] = {}
        self.version_counts: dict[str, int] = {}
        self.contribution_bytes = 0
        self.omitted = 0
        self.omitted_bytes = 0

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

    def _count_versions(self) -> None:
        """Number the values bound to each name in record order (the k-th ``h`` is
        version k), over the whole tape, so ids and labels follow the file's versions
        whichever of them the graph shows."""
        counts: dict[str, int] = {}
        tape = self.tape
        for eq in self.equations:
            name = eq.name
            if name is not None and not tape.is_lifted(eq.index):
                counts[name] = counts.get(name, 0) + 1
                self.versions[eq.index] = counts[name]
        self.version_counts = counts

    def _assign_ids(self, order: list[int]) -> None:
        # Names first, so a generated id can never take a user's name: version k of
        # the name h is "h#k" (version 1 is "h").
        self._count_versions()
        for i in order:
            name = self.equations[i].name
            if name is not None and not self.tape.is_lifted(i):
                version = self.versions[i]
                wanted = name if version == 1 else f"{name}#{version}"
                self.ids[i] = wanted if wanted not in self.used_ids else self._unique(name)
                self.used_ids.add(self.ids[i])
        for i in order:
            if i not in self.ids and not self.tape.is_lifted(i):
                self.ids[i] = self._unique(f"n{i}")

    def _name_label(self, eq: Var) -> str:
        """A name, with its version as a subscript when the tape binds it more than once."""
        name = eq.name
        if self.version_counts.get(name, 1) > 1:
            return versioned(name, self.versions[eq.index])
        return name

    # -- operands, with n-ary sums folded -----------------------------------------------
    def _operands(self, order: list[int]) -> dict[int, list[tuple[Any, Var, int]]]:
        """For each equation: [(source, via, via_position)] in argument order.

        ``source`` is a Var or a constant; ``via``/``via_position`` say which
        recorded equation actually consumed it (differs from the equation itself
        when a partial sum was folded in).
        """
        equations = self.equations
        consumers = [0] * len(equations)
        for i in order:
            for x in equations[i].inputs:
                if type(x) is Var:
                    consumers[x.index] += 1
        output_index = self.tape.output
        operands: dict[int, list] = {}
        for i in order:
            eq = equations[i]
            if eq.primitive is None:
                continue
            items: list[tuple[Any, Var, int]] = []
            for position, x in enumerate(eq.inputs):
                if (self.fold_sums and eq.primitive is add and type(x) is Var
                        and x.index in operands and x.primitive is add
                        and x.name is None and consumers[x.index] == 1
                        and x.index != output_index
                        and self.scopes.get(x.index, ()) == self.scopes.get(i, ())):
                    items.extend(operands[x.index])
                    self.folded.add(x.index)
                else:
                    items.append((x, eq, position))
            operands[i] = items
        for index in self.folded:
            del operands[index]
        return operands

    # -- constants ------------------------------------------------------------------------
    def _constant_node(self, value: Any) -> str:
        if type(value) is Var:  # a value of an enclosing trace, lifted to a constant leaf
            key = id(value)
            if key not in self.constant_ids:
                self.constant_ids[key] = self._add_constant(value.name, value.value,
                                                            value.name or _constant_label(value))
            return self.constant_ids[key]
        name = self.tape.constant_name(value)
        if name is not None or isinstance(value, np.ndarray):
            key = id(value)
            if key not in self.constant_ids:
                self.constant_ids[key] = self._add_constant(name, value,
                                                            name or _constant_label(value))
            return self.constant_ids[key]
        return self._add_constant(None, value, _constant_label(value))

    def _add_constant(self, name: str | None, value: Any, label: str) -> str:
        node_id = self._unique(name) if name else self._unique(f"c{self.constant_count}")
        self.constant_count += 1
        value = _plain(value)
        self.node_rows.append((node_id, dict(
            kind="constant", op="constant", label=label, name=name, expr=label,
            value=value, grad=None, shape=tuple(shape_of(value)), dtype=_dtype_of(value),
            index=None, scope=(), value_nonfinite=not _finite_or_object(value),
            grad_nonfinite=False,
        )))
        self.constant_labels[node_id] = label
        return node_id

    # -- build -----------------------------------------------------------------------------
    def build(self) -> nx.MultiDiGraph:
        tape = self.tape
        order = tape.relevant()
        operands = self._operands(order)
        kept = [i for i in order if i not in self.folded]
        self._assign_ids(kept)
        for i in kept:
            if tape.is_lifted(i):
                self.ids[i] = self._constant_node(self.equations[i].value)
                self.labels[i] = Label(self.constant_labels[self.ids[i]])
                continue
            self._add_node_and_edges(i, operands.get(i, ()))
        graph = self.graph
        graph.graph.update(
            tracegraph=FORMAT_VERSION,
            inputs=[self.ids[i] for i in tape.inputs.values()],
            differentiated=self.adjoints is not None,
        )
        if tape.output is None:
            self._add_constant_output()
        graph.add_nodes_from(self.node_rows)
        for parent, child, key, data in self.edge_rows:  # faster than add_edges_from
            graph.add_edge(parent, child, key, **data)
        graph.graph["output"] = (self.ids[tape.output] if tape.output is not None
                                 else self.node_rows[-1][0])
        if self.omitted:
            graph.graph["omitted_contributions"] = self.omitted
            graph.graph["omitted_bytes"] = self.omitted_bytes
        return graph

    def _omits(self, eq: Var, source: Var) -> bool:
        """Past :data:`CONTRIBUTION_BUDGET`, an edge ``x → x[i]`` selecting a small part of a
        big array keeps no per-edge contribution: as a full array of x's shape, one per row
        of a loop over x's rows, they would fill the memory (the node's gradient still
        holds all of them)."""
        if self.contribution_bytes <= CONTRIBUTION_BUDGET or eq.primitive is not getitem:
            return False
        value = source.value
        return type(value) is np.ndarray and value.size >= SPARSE_FACTOR * max(
            np.size(eq.value), 1)

    def _add_node_and_edges(self, i: int, operands: Sequence) -> None:
        eq = self.equations[i]
        prim = eq.primitive
        parent_ids: list[str] = []
        labels: list[Label] = []
        for source, _, _ in operands:
            if type(source) is Var:
                parent_ids.append(self.ids[source.index])
                labels.append(self.labels[source.index])
            else:
                constant_id = self._constant_node(source)
                parent_ids.append(constant_id)
                labels.append(Label(self.constant_labels[constant_id]))
        if prim is None:
            label = self._name_label(eq) if eq.name is not None else self.ids[i]
            self.labels[i] = Label(label)
            self._add_node(i, eq, label, label)
            return
        symbols = _LazySymbols(eq, labels)
        folded_sum = prim is add and len(operands) != 2
        expr = " + ".join(labels) if folded_sum else self._render(symbols, prim.display, -1)
        label = self._label(eq, expr)
        self.labels[i] = Label(label)
        symbols.set_output(self.labels[i])
        self._add_node(i, eq, label, expr)
        scalar_child = _size_is_one(eq.value)
        upstream = None
        if self.adjoints is not None and i < len(self.adjoints):
            upstream = self.adjoints[i]
        child_id = self.ids[i]
        values_of: dict[int, list[Any]] = {}  # input values of each recorded equation used
        for position, (source, via, via_position) in enumerate(operands):
            if folded_sum or via is not eq:
                formula = "1"
            else:
                formula = self._formula(prim, symbols, position)
            local = contribution = None
            if type(source) is Var:
                differentiable = via.primitive.has_gradient(via_position)
                values = values_of.get(via.index)
                if values is None:
                    values = values_of[via.index] = [
                        x.value if type(x) is Var else x for x in via.inputs]
                if differentiable and scalar_child and _size_is_one(source.value):
                    unit = 1.0 if type(eq.value) is float or not shape_of(eq.value) \
                        else np.ones(shape_of(eq.value))
                    local = _scalar(_vjp(via, via_position, unit, values))
                if self.adjoints is not None and self._omits(via, source):
                    self.omitted += 1
                    self.omitted_bytes += source.value.nbytes
                elif self.adjoints is not None:
                    contribution = None if upstream is None or not differentiable else \
                        _vjp(via, via_position, upstream, values)
                    contribution = _zeros_like(_plain(source.value)) if contribution is None \
                        else _plain(contribution)
                    if type(contribution) is np.ndarray:
                        self.contribution_bytes += contribution.nbytes
            self.edge_rows.append((parent_ids[position], child_id, position, dict(
                position=position, formula=formula, local=local, contribution=contribution)))

    def _add_constant_output(self) -> None:
        tape = self.tape
        value = _plain(tape.result)
        node_id = self._unique(tape.output_name or "output")
        self.node_rows.append((node_id, dict(
            kind="output", op="constant", label=node_id, name=tape.output_name,
            expr=_constant_label(value), value=value,
            grad=1.0 if np.ndim(value) == 0 else np.ones(np.shape(value)),
            shape=tuple(shape_of(value)), dtype=_dtype_of(value), index=None, scope=(),
            value_nonfinite=not _finite_or_object(value), grad_nonfinite=False,
        )))

    def _label(self, eq: Var, expr: str) -> str:
        if eq.name is not None:
            return self._name_label(eq)
        if len(expr) <= MAX_EXPRESSION_LABEL:
            return expr
        return f"{eq.op}#{eq.index}"

    def _add_node(self, i: int, eq: Var, label: str, expr: str) -> None:
        tape = self.tape
        if i == tape.output:
            kind = "output"
        elif eq.primitive is None:
            kind = "input"
        else:
            kind = "op"
        grad = None
        if self.adjoints is not None:
            grad = self.adjoints[i] if i < len(self.adjoints) else None
            if grad is None:
                grad = _zeros_like(_plain(eq.value))
            grad = _plain(grad)
        value = _plain(eq.value)
        row = dict(
            kind=kind, op=eq.op, label=label, name=eq.name, expr=expr,
            value=value, grad=grad, shape=tuple(shape_of(value)), dtype=_dtype_of(value),
            index=i, scope=self.scopes.get(i, ()), value_nonfinite=not is_finite(value),
            grad_nonfinite=grad is not None and not is_finite(grad),
        )
        if self.tangents is not None:
            tangent = self.tangents[i] if i < len(self.tangents) else None
            row["tangent"] = _zeros_like(value) if tangent is None else _plain(tangent)
        self.node_rows.append((self.ids[i], row))

    def _formula(self, prim: Any, symbols: _LazySymbols, position: int) -> str:
        template = prim.formula(position)
        if template is None:
            return "no gradient"
        return self._render(symbols, template, position if prim.variadic else -1)

    def _render(self, symbols: _LazySymbols, template: Any, position: int) -> str:
        """A display or formula template filled in; a loop renders the same text with the
        same labels over and over, so plain templates are remembered by their fields."""
        key = symbols.key(template, position)
        if key is None:
            return symbols.full(position).render(template)
        text = self.rendered.get(key)
        if text is None:
            text = symbols.fill(template)
            if text is None:
                text = symbols.full(position).render(template)
            self.rendered[key] = text
        return text


class _LazySymbols:
    """The :class:`~tracegraph.formula.Symbols` of one equation, built only when a template
    needs rendering (not when its text is remembered)."""

    __slots__ = ("eq", "labels", "out", "symbols")

    def __init__(self, eq: Var, labels: list[Label]) -> None:
        self.eq, self.labels, self.out = eq, labels, Label("")
        self.symbols: Symbols | None = None

    def set_output(self, label: Label) -> None:
        self.out = label
        if self.symbols is not None:
            self.symbols.names["out"] = label

    def key(self, template: Any, position: int) -> tuple | None:
        """What a plain template's text depends on, or None (a callable, or params)."""
        if type(template) is not str or self.eq.params:
            return None
        return (template, self.eq.primitive.name, position, self.out, *self.labels)

    def fill(self, template: str) -> str | None:
        """The template's text from the labels directly (:func:`~tracegraph.formula.fill`):
        numbered versions make most formulas of a long loop unique, so it is built once
        per node."""
        prim = self.eq.primitive
        return None if prim.variadic else fill(template, prim.argnames, self.labels, self.out)

    def full(self, position: int) -> Symbols:
        if self.symbols is None:
            self.symbols = symbols_for(self.eq, self.labels, self.out)
        if position >= 0:
            return dataclasses.replace(self.symbols, position=position)
        return self.symbols


def _scalar(value: Any) -> float:
    if type(value) is float:
        return value
    return float(np.asarray(_plain(value)).reshape(()))


def _vjp(eq: Var, position: int, upstream: Any, values: list[Any]) -> Any:
    """upstream × local along one edge; between Python floats the rule's VJP is called
    directly (the common case of long scalar chains), else through the general path."""
    prim = eq.primitive
    if type(upstream) is float and type(values[position]) is float and not prim.variadic:
        try:
            found = prim.vjps[position](upstream, eq.value, *values, **(eq.params or {}))
        except (ZeroDivisionError, OverflowError):
            pass  # the general path redoes it with numpy scalars (a flagged inf/nan)
        else:
            return found if found is None or type(found) is float else fit(found, values[position], eq, position)
    return edge_contribution(eq, position, upstream, values)


def _finite_or_object(value: Any) -> bool:
    try:
        return is_finite(value)
    except TypeError:
        return True


def build_graph(tape: Tape, adjoints: Sequence[Any] | None = None, *,
                fold_sums: bool = True, tangents: Sequence[Any] | None = None,
                tangent_seed: Mapping[str, Any] | None = None) -> nx.MultiDiGraph:
    """The annotated graph of a finished tape (see the module docstring for the schema).

    ``adjoints`` are d output / d node for every equation (from
    :func:`tracegraph.autodiff.backward`), or ``None`` for values only.
    ``tangents`` (from :func:`tracegraph.calculus.tangents_of`, forward mode)
    add a ``tangent`` to every node, and ``tangent_seed`` (the inputs'
    tangents they were pushed from) says which direction they are along.
    Usually reached as ``trace.graph`` (cached).

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda x: np.sum(x * x), x=np.arange(3.0))
        >>> g = build_graph(t.tape, t.adjoints())
        >>> g.nodes["x"]["grad"].tolist()
        [0.0, 2.0, 4.0]
    """
    # Contributions are recomputed here; any NaN/inf they hold was already
    # reported by the backward pass, so numpy's warnings would only repeat it.
    with np.errstate(all="ignore"), collector_paused():
        graph = _GraphBuilder(tape, adjoints, fold_sums, tangents).build()
    if tangents is not None:
        graph.graph["tangent_seed"] = {name: _plain(value)
                                       for name, value in (tangent_seed or {}).items()}
    return graph


def display_names(graph: nx.MultiDiGraph) -> dict[str, str]:
    """How tables name each node: its label (versions of a name are ``y₁``, ``y₂``), or its
    id where labels still repeat.

    Example:
        >>> import tracegraph as tg
        >>> def f(x):
        ...     y = tg.name(x * x, "y")
        ...     return tg.name(y * y, "y")
        >>> display_names(tg.trace(f, x=2.0).graph)
        {'x': 'x', 'y': 'y₁', 'y#2': 'y₂'}
    """
    counts = Counter(data["label"] for _, data in graph.nodes(data=True))
    return {node: data["label"] if counts[data["label"]] == 1 else str(node)
            for node, data in graph.nodes(data=True)}


def output_id(tape: Tape) -> str:
    """The id the output will have in :func:`build_graph`'s graph, without building it.

    Ids come from names in tape order, so the output's is known after one pass
    over the names (a constant output, rare, is only named by a full build).

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: tg.name(tg.name(x * 2.0, "y") * 3.0, "y"), x=1.0)
        >>> output_id(t.tape), t.graph.graph["output"]
        ('y#2', 'y#2')
    """
    if tape.output is None or tape.is_lifted(tape.output):
        return build_graph(tape).graph["output"]
    builder = _GraphBuilder(tape, None, fold_sums=True)
    # Folded partial sums are unnamed, and an unnamed node's id depends only on the names.
    builder._assign_ids(tape.relevant())
    return builder.ids[tape.output]


# --------------------------------------------------------------------------- export


ARRAY_SUMMARY = "array summary"
"""The ``summary`` field of an array left out of JSON (see :func:`to_node_link`)."""


class _Encoder:
    """Values as JSON-ready data; arrays over ``max_elements`` elements as a summary."""

    def __init__(self, max_elements: int | None) -> None:
        self.max_elements = max_elements
        self.summarised = 0

    def __call__(self, value: Any) -> Any:
        if type(value) is float:  # most values: skip the other checks
            return value if math.isfinite(value) else self._nonfinite(value)
        if value is None or isinstance(value, (bool, str, int)):
            return value
        if isinstance(value, (float, np.floating)):
            value = float(value)
            return value if math.isfinite(value) else self._nonfinite(value)
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                return repr(value)
            if self.max_elements is not None and value.size > self.max_elements:
                return self._summary(value)
            return [self(v) for v in value.tolist()] if value.ndim else self(value[()])
        if isinstance(value, (list, tuple)):
            return [self(v) for v in value]
        if isinstance(value, dict):
            return {str(k): self(v) for k, v in value.items()}
        return repr(value)

    def attributes(self, data: dict[str, Any]) -> dict[str, Any]:
        """A node's or edge's attributes, encoded (strings and finite floats as they are)."""
        encoded = {}
        for key, value in data.items():
            kind = type(value)
            if kind is str or value is None or kind is bool or kind is int or (
                    kind is float and value - value == 0.0):  # finite: inf − inf is NaN
                encoded[key] = value
            else:
                encoded[key] = self(value)
        return encoded

    @staticmethod
    def _nonfinite(value: float) -> str:
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"

    def _summary(self, array: np.ndarray) -> dict[str, Any]:
        self.summarised += 1
        numbers = array.astype(float, copy=False).ravel() if array.dtype.kind in "fiub" \
            else None
        summary: dict[str, Any] = {"summary": ARRAY_SUMMARY, "shape": list(array.shape),
                                   "dtype": array.dtype.name, "size": int(array.size)}
        if numbers is not None:
            finite = numbers[np.isfinite(numbers)]
            summary.update(
                nonfinite=int(numbers.size - finite.size),
                min=self(finite.min()) if finite.size else None,
                max=self(finite.max()) if finite.size else None,
                mean=self(finite.mean()) if finite.size else None,
                norm=self(np.linalg.norm(finite)),
                first=[self(v) for v in numbers[:5].tolist()])
        return summary


def to_node_link(graph: nx.MultiDiGraph, *, max_elements: int | None = None) -> dict[str, Any]:
    """The graph as a JSON-ready node-link dict (arrays become nested lists;
    NaN and infinities become the strings ``"NaN"``, ``"Infinity"``).

    With ``max_elements``, an array with more elements is written as a summary
    instead (``{"summary": "array summary", "shape", "dtype", "size",
    "nonfinite", "min", "max", "mean", "norm", "first"}``: the first five
    elements in C order), and the graph's ``max_elements`` says so.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> data = to_node_link(tg.trace(lambda x: x * 2.0, x=1.0).graph)
        >>> sorted(data)[:3], data["graph"]["output"]
        (['directed', 'edges', 'graph'], 'output')
        >>> t = tg.trace(lambda x: np.sum(x * 2.0), x=np.arange(8.0))
        >>> summary = to_node_link(t.graph, max_elements=4)["nodes"][0]["value"]
        >>> summary["shape"], summary["max"], summary["first"]
        ([8], 7.0, [0.0, 1.0, 2.0, 3.0, 4.0])
    """
    encode = _Encoder(max_elements)
    # networkx's node_link_data layout (read back by nx.node_link_graph), built directly:
    # encoding while copying halves the time on big graphs.
    with collector_paused():
        data = {
            "directed": True, "multigraph": True, "graph": encode(dict(graph.graph)),
            "nodes": [{**encode.attributes(attrs), "id": encode(node)}
                      for node, attrs in graph.nodes(data=True)],
            "edges": [{**encode.attributes(attrs), "source": encode(parent),
                       "target": encode(child), "key": encode(key)}
                      for parent, child, key, attrs in graph.edges(keys=True, data=True)],
        }
    if max_elements is not None:
        data["graph"]["max_elements"] = max_elements
        data["graph"]["summarised_arrays"] = encode.summarised
    return data


def to_json(graph: nx.MultiDiGraph, *, indent: int | None = 1,
            max_elements: int | None = None) -> str:
    """The graph as deterministic node-link JSON text (no pickle); ``max_elements``
    summarises bigger arrays (see :func:`to_node_link`).

    Example:
        >>> import json, tracegraph as tg
        >>> json.loads(to_json(tg.trace(lambda x: x + 1.0, x=1.0).graph))["directed"]
        True
    """
    return json_text(to_node_link(graph, max_elements=max_elements), indent=indent)


def json_text(data: dict[str, Any], *, indent: int | None = 1) -> str:
    """Node-link data (from :func:`to_node_link`) as JSON text, as :func:`to_json` writes it.

    Example:
        >>> json_text({"directed": True}, indent=None)
        '{"directed": true}'
    """
    return json.dumps(data, indent=indent, ensure_ascii=False, sort_keys=False)


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
    export.add_nodes_from((node, _graphml_attributes(data))
                          for node, data in graph.nodes(data=True))
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
