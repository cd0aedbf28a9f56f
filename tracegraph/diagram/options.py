"""What a diagram shows: :class:`DiagramOptions` and how overrides are applied.

Example:
    >>> from tracegraph.diagram.options import DiagramOptions, resolve_options
    >>> resolve_options(None, {"show": "grads", "expand": ["layer1"]}).expand
    frozenset({'layer1'})
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import TracegraphError, mention
from ..verdicts import MARK_STATUSES

SHOW_MODES = ("all", "values", "grads", "local", "flow", "tangent")
"""What a diagram can show (:attr:`DiagramOptions.show`)."""
RANKDIRS = ("LR", "TB")
"""Graphviz rank directions: left to right, top to bottom."""
MIN_BUDGET = 5
"""The smallest node budget (:attr:`DiagramOptions.max_nodes`)."""
IMAGE_FORMATS = ("svg", "png", "pdf")
"""Formats drawn by Graphviz's ``dot`` program."""
FORMATS = ("dot", "json") + IMAGE_FORMATS
"""What :func:`tracegraph.diagram.render` writes."""
DATA_FORMATS = ("json", "graphml", "dot")
"""The annotated graph as data: node-link JSON, GraphML, or the whole diagram as DOT."""
SUFFIX_ALIASES = {"gv": "dot"}
"""File suffixes that stand for a format of another name."""


class DiagramOptionError(TracegraphError, ValueError):
    """A diagram option has a value it cannot take (or names a node that does not exist).

    Example:
        >>> try:
        ...     DiagramOptions(show="everything")
        ... except DiagramOptionError as err:
        ...     print(err.message)
        show='everything' is not a display mode
    """


@dataclass(frozen=True)
class DiagramOptions:
    """Everything that decides what a chain-rule diagram shows.

    ``show``: ``"all"`` (values, gradients, local derivatives and what flows
    back along each edge), ``"values"`` (forward values only), ``"grads"``
    (dLoss/dnode only), ``"local"`` (local derivatives on the edges only) or
    ``"flow"`` (gradients on the nodes; local derivative and upstream × local
    = contribution on the edges) or ``"tangent"`` (forward mode: values and
    tangents on the nodes, local derivative and local × the parent's tangent
    on the edges; the graph needs tangents, see
    :func:`tracegraph.calculus.tangent_graph`).  ``"all"`` also shows
    tangents when the graph has them.

    ``max_nodes`` is the node budget: past it scopes collapse into boxes,
    repeated structure is summarised and the rest is cut into tape segments
    (``None`` draws every node).  ``focus`` keeps one node and its ancestors;
    ``path=(a, b)`` keeps the nodes on paths from ``a`` to ``b``.  ``expand``
    names scopes to keep open when over budget (``"layer1"`` or a nested path
    ``"model/layer1"``).  ``marks`` maps a node id or an ``(u, v, key)`` edge
    to ``{"status": "wrong" | "inherited" | "correct" | "close" | "nondiff" | "unchecked",
    "note": str}``.

    Example:
        >>> opts = DiagramOptions(show="flow", rankdir="TB", precision=3)
        >>> opts.show, opts.max_nodes
        ('flow', 200)
    """

    show: str = "all"
    rankdir: str = "LR"
    precision: int = 4
    max_nodes: int | None = 200
    focus: str | None = None
    path: tuple[str, str] | None = None
    expand: frozenset[str] = frozenset()
    show_constants: bool = True
    legend: bool = True
    title: str | None = None
    marks: Mapping[Any, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False)

    def __post_init__(self) -> None:
        if self.show not in SHOW_MODES:
            raise DiagramOptionError(
                f"show={self.show!r} is not a display mode",
                hint=f"use one of {', '.join(map(repr, SHOW_MODES))}")
        if self.rankdir not in RANKDIRS:
            raise DiagramOptionError(
                f"rankdir={self.rankdir!r} is not a direction",
                hint="use 'LR' (left to right) or 'TB' (top to bottom)")
        if not _is_int(self.precision) or not 1 <= self.precision <= 17:
            raise DiagramOptionError(
                f"precision={self.precision!r} must be a whole number of significant digits",
                hint="use an integer from 1 to 17 (the default is 4)")
        if self.max_nodes is not None and (not _is_int(self.max_nodes)
                                           or self.max_nodes < MIN_BUDGET):
            raise DiagramOptionError(
                f"max_nodes={self.max_nodes!r} is not a usable node budget",
                hint=f"use an integer of at least {MIN_BUDGET}, or None to draw every node")
        for flag in ("show_constants", "legend"):
            if not isinstance(getattr(self, flag), bool):
                raise DiagramOptionError(f"{flag}={getattr(self, flag)!r} must be True or False")
        if self.focus is not None and not isinstance(self.focus, str):
            raise DiagramOptionError(f"focus={self.focus!r} must be a node id (a string)")
        self._normalise_path()
        if self.focus is not None and self.path is not None:
            raise DiagramOptionError(
                f"{mention('focus', self.focus)} and {mention('path', *self.path)} "
                "cannot be combined: each picks the nodes to draw",
                hint="focus keeps a node and everything it is computed from; path keeps the "
                "nodes between two; choose one")
        self._normalise_expand()
        if self.title is not None and not isinstance(self.title, str):
            raise DiagramOptionError(f"title={self.title!r} must be a string or None")
        object.__setattr__(self, "marks", _normalise_marks(self.marks))

    def _normalise_path(self) -> None:
        if self.path is None:
            return
        if (isinstance(self.path, str) or len(tuple(self.path)) != 2
                or not all(isinstance(end, str) for end in self.path)):
            raise DiagramOptionError(
                f"path={self.path!r} must be a pair of node ids",
                hint="pass path=('x1', 'Loss') to keep only the nodes between x1 and Loss")
        object.__setattr__(self, "path", tuple(self.path))

    def _normalise_expand(self) -> None:
        expand = self.expand
        if isinstance(expand, str):
            expand = (expand,)
        try:
            names = frozenset(expand)
        except TypeError:
            names = None
        if names is None or not all(isinstance(n, str) and n for n in names):
            raise DiagramOptionError(
                f"expand={self.expand!r} must be a set of scope names",
                hint="pass expand={'layer1'} (or a nested path such as 'model/layer1')")
        object.__setattr__(self, "expand", names)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _normalise_marks(marks: Any) -> Mapping[Any, Mapping[str, str]]:
    if not isinstance(marks, Mapping):
        raise DiagramOptionError(
            f"marks must be a mapping, got {type(marks).__name__}",
            hint="pass marks={'S': {'status': 'wrong', 'note': '...'}}")
    checked: dict[Any, Mapping[str, str]] = {}
    for key, mark in marks.items():
        key = _mark_key(key)
        if not isinstance(mark, Mapping) or mark.get("status") not in MARK_STATUSES:
            raise DiagramOptionError(
                f"mark for {key!r} needs a status, got {mark!r}",
                hint=f"use {{'status': one of {', '.join(MARK_STATUSES)}, 'note': '...'}}")
        note = mark.get("note", "")
        if not isinstance(note, str):
            raise DiagramOptionError(f"the note of the mark for {key!r} must be a string")
        checked[key] = MappingProxyType({"status": mark["status"], "note": note})
    return MappingProxyType(checked)


def _mark_key(key: Any) -> Any:
    if isinstance(key, str):
        return key
    if (isinstance(key, tuple) and len(key) == 3 and isinstance(key[0], str)
            and isinstance(key[1], str) and _is_int(key[2])):
        return key
    raise DiagramOptionError(
        f"marks key {key!r} is neither a node id nor an (u, v, key) edge",
        hint="use a node id such as 'S' or an edge such as ('G', 'S', 0)")


def resolve_options(options: DiagramOptions | None, overrides: Mapping[str, Any]) -> DiagramOptions:
    """``options`` (default :class:`DiagramOptions`) with ``overrides`` applied.

    Example:
        >>> resolve_options(DiagramOptions(show="grads"), {"precision": 2}).show
        'grads'
    """
    base = options if options is not None else DiagramOptions()
    if not isinstance(base, DiagramOptions):
        raise DiagramOptionError(
            f"options must be a DiagramOptions, got {type(base).__name__}",
            hint="pass DiagramOptions(...) or give the options as keywords")
    if not overrides:
        return base
    names = {f.name for f in dataclasses.fields(DiagramOptions)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise DiagramOptionError(
            f"unknown diagram option{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            hint=f"the options are {', '.join(sorted(names))}")
    return dataclasses.replace(base, **overrides)
