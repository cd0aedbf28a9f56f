"""Tracing entry points: :func:`trace` for functions, :class:`Tracer` for scripts,
and the :class:`Trace` they return.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> def loss(w, b, X, y):
    ...     pred = np.tanh(X @ w + b)
    ...     return np.mean((pred - y) ** 2)
    >>> X = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 1.0]]); y = np.array([0.5, -0.5])
    >>> t = tg.trace(loss, w=np.zeros(3), b=0.5, X=X, y=y)
    >>> round(t.value, 4), t.grads["w"].shape, type(t.grads["b"]).__name__
    (0.4636, (3,), 'float')
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np

from . import autodiff
from .bulk import collections_spaced
from .core import (
    Tape,
    Var,
    as_python_scalar,
    is_constant,
    plain_value,
    read_only_copy,
    shape_of,
    unwrap_constant,
)
from .core.leaks import explained
from .core.scope import activate, active_tape
from .diagram import mimebundle, render, to_dot
from .errors import ForeignTraceError, NonFiniteWarning, TracegraphError
from .graph import build_graph, to_json
from .numbers import counted


@dataclass(frozen=True)
class Node:
    """One node of a trace, as returned by ``trace["S"]``.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: tg.name(x * 3.0, "y") + 1.0, x=2.0)
        >>> t["y"].value, t["y"].grad, t["y"].kind
        (6.0, 1.0, 'op')
    """

    id: str
    label: str
    op: str
    kind: str
    value: Any
    grad: Any
    shape: tuple[int, ...]
    expr: str


SPACED = collections_spaced()


class Tracer:
    """Trace a script-style computation without wrapping it in a function.

    Example:
        >>> import tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     w1 = tr.input("w1", 0.5)
        ...     x1 = tr.input("x1", 2.0)
        ...     A = tg.name(w1 * x1, "A")
        ...     t = tr.finish(tg.name(A * A, "Loss"))
        >>> t.value, t.grads
        (1.0, {'w1': 4.0, 'x1': 1.0})
    """

    def __init__(self, *, nested: bool = False) -> None:
        # A nested tracer (tg.grad inside a trace) records on a child of the active
        # trace, so values of the enclosing trace can be used inside it.
        self.tape = Tape(parent=active_tape() if nested else None)
        self._blocks: list[Any] = []
        self._spaced = False

    def __enter__(self) -> Tracer:
        block = activate(self.tape)
        block.__enter__()
        self._blocks.append(block)
        self.tape.growth_hook = self._space_collections
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._blocks.pop().__exit__(*exc_info)
        if not self._blocks:
            self.tape.growth_hook = None
            if self._spaced:
                self._spaced = False
                SPACED.__exit__(*exc_info)
        refusal = explained(exc_info[1])  # numpy's words for v[i] = traced; ours are clearer
        if refusal is not None:
            raise refusal from exc_info[1]

    def _space_collections(self, count: int) -> None:
        # a long trace: the collector's walks over its record would cost more than the
        # work (see tracegraph.bulk); a short one does not pay for changing the thresholds
        if not self._spaced:
            self._spaced = True
            SPACED.__enter__()

    def input(self, name: str, value: Any) -> Any:
        """Declare a named input and return the value to compute with.

        Numbers and float arrays become traced leaves (differentiated); a
        Python int is traced as a float but still works as a count or index
        (``range(n)``).  Integer/bool arrays, :func:`tracegraph.constant`
        values and other Python objects are returned as they are (constants).
        A value of an enclosing trace makes this trace nested in it, so its
        gradients are themselves traced (derivatives of derivatives).
        """
        tape = self.tape
        if not isinstance(name, str) or not name:
            raise ValueError("an input name must be a non-empty string")
        if name in tape.inputs or name in tape.constants:
            raise ValueError(f"input {name!r} is declared twice")
        tape.check_open()
        kind = type(value)
        if kind is float or (kind is np.ndarray and value.dtype.kind == "f"):
            # the common inputs first; a copy of an array: the caller may change theirs in
            # place later (w -= lr * g)
            leaf = tape.leaf(name, value if kind is float else read_only_copy(value))
            tape.declare_input(name, leaf)
            return leaf
        if is_constant(value):
            return self.constant(name, value)
        if isinstance(value, (complex, np.complexfloating)) or (
                isinstance(value, np.ndarray) and value.dtype.kind == "c"):
            raise TracegraphError(
                f"input {name!r} is complex ({value!r}); tracegraph differentiates real "
                "values only" if not isinstance(value, np.ndarray) else
                f"input {name!r} is a complex array; tracegraph differentiates real values only",
                hint="pass the real and imaginary parts as separate float inputs")
        if type(value) is Var:
            leaf = self._nested_leaf(name, value)
        elif kind is np.float64:
            # np.sqrt(3.0): numpy's float64, which (unlike a Python float) makes
            # float32 arrays it meets float64, as in Python
            leaf = tape.leaf(name, value)
        elif isinstance(value, np.floating) and value.dtype != np.float64:
            # np.float32(0.1): computed in float32, as Python computes it; kept a numpy
            # scalar (immutable, nothing to copy), as a 0-d array would take the ufunc's
            # path where Python takes the scalar's (a ** 3 is an ulp apart)
            leaf = tape.leaf(name, value)
        elif _is_traceable_number(value):
            integer = isinstance(value, (int, np.integer))
            leaf = tape.leaf(name, float(value), integer=integer)
        elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
            # A copy: the caller may change theirs in place later (w -= lr * g).
            leaf = tape.leaf(name, read_only_copy(value))
        else:
            return self.constant(name, value)
        tape.declare_input(name, leaf)
        return leaf

    def _nested_leaf(self, name: str, value: Var) -> Var:
        tape = self.tape
        outer = value.tape
        if tape.parent is None and not tape.equations:
            tape.parent = outer
        if not (outer is tape.parent or outer.encloses(tape)):
            raise ForeignTraceError(
                f"input {name!r} is a traced value of a trace this one is not nested in",
                node=value.label,
                hint="start the inner trace while the outer one runs (tg.grad does), or pass "
                "the plain value (x.value) to start an independent trace")
        return tape.leaf(name, value)

    def constant(self, name: str, value: Any) -> Any:
        """Declare a named constant: shown in the graph under ``name``, never differentiated."""
        value = unwrap_constant(value)
        self.tape.constants[name] = value
        if isinstance(value, np.ndarray):
            self.tape.name_constant(name, value)
        return value

    def finish(self, output: Any, *, name: str | None = None) -> Trace:
        """End the trace at ``output`` and differentiate it if it is a scalar.

        ``name`` names the output node when it has no name yet.
        """
        tape = self.tape
        tape.check_open()
        output_index: int | None = None
        if type(output) is Var and output.tape is tape:
            if output.name is None:
                output.name = name or "output"
            output_index = output.index
            name = output.name
        elif type(output) is Var and not output.tape.encloses(tape):
            raise ForeignTraceError(
                "the output belongs to a different trace",
                hint="return a value computed from this trace's inputs")
        elif type(output) is not Var:
            _check_plain_output(output)
        tape.finish(output_index, name, None if output_index is not None else output)
        result = Trace(tape)
        result._report_forward_nonfinite()
        if not shape_of(result.value):
            result.backward()
        return result


def _check_plain_output(output: Any) -> None:
    """A result that is not a traced value: fine if it is a real number or float array
    (a constant); a bool, int, complex or other object is refused, because differentiating
    it would silently give zeros."""
    dtype = np.result_type(output) if isinstance(output, (np.ndarray, np.generic)) else None
    kind = dtype.kind if dtype is not None else None
    if isinstance(output, (bool, np.bool_)) or kind == "b":
        what, hint = "a bool", ("a comparison or np.allclose has no derivative; return the "
                                "number you compare instead")
    elif isinstance(output, (int, np.integer)) or kind in ("i", "u"):
        what, hint = "an int", "return a float computed from the inputs"
    elif isinstance(output, (complex, np.complexfloating)) or kind == "c":
        what, hint = "a complex number", "return a real value (e.g. the squared modulus)"
    elif isinstance(output, (float, np.floating)) or kind == "f":
        return
    else:
        what, hint = type(output).__name__, "return one value (the loss); compute other " \
            "results separately"
    raise TracegraphError(
        f"the traced computation returned {what} ({output!r}), not a value computed from "
        "the inputs, so it has no gradient", hint=hint)


def _is_traceable_number(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, (int, float, np.integer, np.floating))


def trace(fn: Callable[..., Any], /, **inputs: Any) -> Trace:
    """Run ``fn(**inputs)`` with traced stand-ins and return the annotated :class:`Trace`.

    Every keyword input that is a number or float array becomes a named leaf
    and gets a gradient; integer/bool arrays, :func:`tracegraph.constant`
    values and other objects are passed through unchanged.  A scalar output
    is differentiated at once; for an array output call
    ``t.backward(seed)``.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda x, y: x * y + np.sin(x), x=0.0, y=2.0)
        >>> t.value, t.grads
        (0.0, {'x': 3.0, 'y': 0.0})
    """
    if not callable(fn):
        raise TypeError(f"trace() needs a function as its first argument, got {fn!r}")
    tracer = Tracer()
    with tracer:
        arguments = {name: tracer.input(name, value) for name, value in inputs.items()}
        output = fn(**arguments)
        fn_name = getattr(fn, "__name__", None)
        return tracer.finish(output, name=None if fn_name == "<lambda>" else fn_name)


class Trace:
    """The result of tracing: forward value, gradients and the annotated graph.

    A facade over the record (:attr:`tape`): the graph is built from it on
    first use and the diagrams from the graph.

    Attributes:
        value: the output's value (a float for a scalar output).
        grads: ``{input name: d output / d input}``, each shaped like its input
            (a float for a scalar input).
        graph: the annotated ``networkx.MultiDiGraph`` (see :mod:`tracegraph.graph`).
        tape: the record of the computation (:class:`tracegraph.core.Tape`).
        output_name: the output node's name.
        inputs: ``{input name: value}`` of the differentiated inputs.
        constants: ``{name: value}`` of the named constants.
        nonfinite: where NaN/inf appeared (:class:`tracegraph.autodiff.NonFinite`).

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda a, b: a * b, a=3.0, b=4.0)
        >>> t.value, t.grads["a"], t.graph.number_of_nodes()
        (12.0, 4.0, 3)
    """

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self._adjoints: list[Any] | None = None
        self._full_adjoints: list[Any] | None = None
        self._seed: Any = None
        self._strong_zero = False
        self.value = _read_only(as_python_scalar(tape.result))
        self.nonfinite: list[autodiff.NonFinite] = []
        self._grads: dict[str, Any] | None = None

    @property
    def output_name(self) -> str | None:
        return self.tape.output_name

    @property
    def constants(self) -> dict[str, Any]:
        return self.tape.constants

    @property
    def output_index(self) -> int | None:
        """The output's position on the tape (None when the output is a constant)."""
        return self.tape.output

    # -- gradients --------------------------------------------------------------------
    def backward(self, seed: Any = None) -> Trace:
        """Differentiate ``seed · output`` (``seed`` defaults to 1 for a scalar output).

        For an array output, ``seed`` must have the output's shape:
        ``t.backward(np.ones(shape))`` gives the gradient of the sum.

        Example:
            >>> import numpy as np, tracegraph as tg
            >>> t = tg.trace(lambda x: x * x, x=np.array([1.0, 2.0]))
            >>> t.backward(np.ones(2)).grads["x"].tolist()
            [2.0, 4.0]
        """
        self.tape.check_unchanged()
        self._seed = autodiff.checked_seed(seed, shape_of(self.value), node=self.output_name,
                                           how="call t.backward(seed)")
        tape = self.tape
        checked = False  # whether the inputs' gradients are known to be finite
        if tape.output is None:
            self._adjoints = []
        elif tape.parent is not None:
            # A nested trace: its adjoints are values of the enclosing trace, which holds
            # them anyway, so all are kept (a second pass would record the backward pass
            # on the enclosing trace twice).
            self._adjoints = autodiff.backward(tape.equations, tape.output, self._seed)
        else:
            # Only the inputs' adjoints are kept: intermediate ones are released as soon
            # as they are used, so peak memory stays near the forward pass's.  The graph
            # recomputes them all when it is built (see adjoints()).
            # NaN/inf that only met a zero upstream gradient (the branch a np.where
            # discards) is not in the derivative: autodiff.gradients runs again without it.
            self._adjoints, self._strong_zero = autodiff.gradients(
                tape.equations, tape.output, self._seed, keep=tape.inputs.values())
            checked = not self._strong_zero  # gradients() found the first pass finite
        self._full_adjoints = self._adjoints if tape.parent is not None else None
        self._grads = None
        self.__dict__.pop("graph", None)
        if not checked:
            self._report_backward_nonfinite()
        return self

    def adjoints(self) -> list[Any] | None:
        """d output / d node for every equation (None before differentiation); computed once."""
        if self._adjoints is None:
            return None
        if self._full_adjoints is None:
            tape = self.tape
            self._full_adjoints = ([] if tape.output is None else autodiff.backward(
                tape.equations, tape.output, self._seed, strong_zero=self._strong_zero))
        return self._full_adjoints

    @property
    def differentiated(self) -> bool:
        """True once gradients are available."""
        return self._adjoints is not None

    @property
    def grads(self) -> dict[str, Any]:
        """``{input name: gradient}`` - d output / d input for every traced input."""
        if self._adjoints is None:
            self.backward()  # raises the explanatory error for array outputs
        if self._grads is None:
            self._grads = self._collect_grads()
        return self._grads

    def _collect_grads(self) -> dict[str, Any]:
        grads: dict[str, Any] = {}
        seen: set[int] = set()
        equations = self.tape.equations
        adjoints = self._adjoints or []
        for name, index in self.tape.inputs.items():
            value = plain_value(equations[index].value)
            grad = adjoints[index] if index < len(adjoints) else None
            if type(grad) is Var:  # a nested trace: the gradient is itself traced
                grads[name] = grad
                continue
            if type(value) is float:
                grads[name] = 0.0 if grad is None else (
                    grad if type(grad) is float else _as_float(grad))
                continue
            grad = np.zeros(np.shape(value)) if grad is None else np.asarray(grad)
            if not grad.shape and isinstance(value, (np.ndarray, np.floating)):
                # a numpy scalar input (np.float32(0.1), np.sqrt(3.0)): a scalar of its type
                grads[name] = grad.astype(value.dtype)[()]
                continue
            # Hand out arrays the user may modify without touching another gradient.
            if not grad.flags.writeable or id(grad) in seen or grad.base is not None:
                grad = grad.copy()
            seen.add(id(grad))
            grads[name] = grad
        return grads

    # NaN/inf are reported when they reach the result (the output or an input's
    # gradient), naming the node where they first appeared; a NaN that is masked
    # away (np.where) changes nothing and is only flagged on its node in the graph.
    def _report_forward_nonfinite(self) -> None:
        tape = self.tape
        if tape.output is None or autodiff.is_finite(self.value):
            return
        equations = tape.equations[: tape.output + 1]
        found = autodiff.find_nonfinite(equations, [eq.value for eq in equations], "forward",
                                        limit=1)
        self._warn(found, "forward")

    def _inputs_finite(self) -> bool:
        adjoints = self._adjoints or []
        return autodiff.all_finite(adjoints[i] for i in self.tape.inputs.values()
                                   if i < len(adjoints))

    def _report_backward_nonfinite(self) -> None:
        if self._inputs_finite():
            return
        adjoints = self.adjoints()
        found = autodiff.find_nonfinite(self.tape.equations, adjoints, "backward")
        if found:
            # The gradient flows from the output down: the last one on the tape is the origin.
            found = [found[-1]]
        self._warn(found, "backward", self._culprit(found[0].index, adjoints) if found else None)

    def _culprit(self, index: int, adjoints: list[Any]) -> Var | None:
        """The consumer of equation ``index`` whose local derivative made its gradient
        NaN/inf (its own gradient being finite): the rule to look at."""
        equations = self.tape.equations
        for child, position in self.tape.children(len(adjoints) - 1)[index]:
            upstream = adjoints[child]
            if upstream is None or not autodiff.is_finite(upstream):
                continue
            with np.errstate(all="ignore"):
                sent = autodiff.edge_contribution(equations[child], position, upstream)
            if sent is not None and not autodiff.is_finite(sent):
                return equations[child]
        return None

    def _warn(self, found: list[autodiff.NonFinite], phase: str,
              culprit: Var | None = None) -> None:
        self.nonfinite = [n for n in self.nonfinite if n.phase != phase] + found
        for item in found:
            origin = "first appears" if phase == "forward" else "starts"
            if culprit is None:
                where, suspect = f"this is where it {origin} in the {phase} pass", item.label
            else:  # a rule sent it: that rule's inputs are where to look
                computes = culprit.expression()
                shown = culprit.label + (f" = {computes}" if computes != culprit.label else "")
                where = (f"it starts in the backward pass at {shown}, whose local "
                         "derivative is not finite at these values")
                suspect = culprit.label
            warnings.warn(
                f"{item.describe()}: {where}. The diagram marks the node; check the inputs "
                f"of {suspect!r} (log/sqrt/division of zero or negatives, overflow of exp).",
                NonFiniteWarning, stacklevel=4,
            )

    # -- derivatives between any two nodes -----------------------------------------
    def node_index(self, node_id: str) -> int:
        """The tape position of a node given its graph id or name (``"S"``)."""
        graph = self.graph
        if node_id not in graph:
            names = ", ".join(sorted(str(n) for n in graph.nodes)[:20])
            raise KeyError(f"no node {node_id!r} in this trace; nodes: {names}")
        index = graph.nodes[node_id]["index"]
        if index is None:
            raise KeyError(f"{node_id!r} is a constant; it has no derivative")
        return index

    def influences(self, of: str, wrt: str) -> bool:
        """True when ``wrt`` lies on some path to ``of`` (so d of / d wrt can be non-zero).

        Example:
            >>> import tracegraph as tg
            >>> t = tg.trace(lambda x, y: tg.name(x * 2.0, "a") + y, x=1.0, y=2.0)
            >>> t.influences("a", "x"), t.influences("a", "y")
            (True, False)
        """
        return of == wrt or nx.has_path(self.graph, wrt, of)

    def derivative(self, of: str, wrt: str, seed: Any = None) -> Any:
        """The total derivative d(of)/d(wrt) through every path, other inputs held fixed.

        ``of`` and ``wrt`` are node ids or names (``"S"``, ``"G"``).  For an
        array ``of`` pass ``seed`` (same shape) to get d(seed·of)/d(wrt).
        The result has the shape of ``wrt`` (a float for a scalar).

        Example:
            >>> import tracegraph as tg
            >>> def f(G):
            ...     S = tg.name(tg.sigmoid(G), "S")
            ...     return (1.0 - S) ** 2
            >>> t = tg.trace(f, G=0.0)
            >>> t.derivative("S", "G")     # S·(1 − S) at S = 0.5
            0.25
        """
        of_index = self.node_index(of)
        wrt_index = self.node_index(wrt)
        equations = self.tape.equations
        seed = autodiff.checked_seed(seed, shape_of(equations[of_index].value), node=of,
                                     how="call t.derivative(of, wrt, seed)")
        return autodiff.derivative(equations, of_index, wrt_index, seed)

    # -- diagrams (tracegraph.diagram; graphviz is imported only to write images) -------
    def to_dot(self, **options: Any) -> str:
        """The chain-rule diagram as DOT text (see :func:`tracegraph.to_dot`)."""
        return to_dot(self, **options)

    def render(self, path: Any, **options: Any) -> Any:
        """Write the diagram to ``path`` (.svg/.png/.pdf/.dot/.json); see
        :func:`tracegraph.render`."""
        return render(self, path, **options)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return mimebundle(self)

    # For tools that ask for one format (sphinx-gallery ignores _repr_mimebundle_).
    def _repr_html_(self) -> str | None:
        """The diagram as inline SVG in HTML that follows the page's light or dark theme
        and scrolls rather than crops (None without Graphviz)."""
        return mimebundle(self).get("text/html")

    def _repr_svg_(self) -> str | None:
        """The diagram as SVG, scaled to the width when wider (None without Graphviz)."""
        return mimebundle(self).get("image/svg+xml")

    # -- graph ------------------------------------------------------------------------
    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The annotated ``networkx.MultiDiGraph`` (built on first use, then cached)."""
        self.tape.check_unchanged()
        return build_graph(self.tape, self.adjoints())

    @property
    def inputs(self) -> dict[str, Any]:
        """``{name: value}`` of the traced (differentiated) inputs."""
        equations = self.tape.equations
        return {name: equations[i].value for name, i in self.tape.inputs.items()}

    def __getitem__(self, node_id: str) -> Node:
        """Look a node up by id / name (``t["S"]``, ``t["y#2"]``)."""
        graph = self.graph
        if node_id not in graph:
            names = ", ".join(sorted(str(n) for n in graph.nodes)[:20])
            raise KeyError(f"no node {node_id!r} in this trace; nodes: {names}")
        data = graph.nodes[node_id]
        return Node(node_id, data["label"], data["op"], data["kind"], _read_only(data["value"]),
                    _read_only(data["grad"]), data["shape"], data["expr"])

    def __iter__(self) -> Iterator[Node]:
        """The nodes of the graph in tape order (constants first)."""
        for node_id in self.graph.nodes:
            yield self[node_id]

    def __len__(self) -> int:
        return self.graph.number_of_nodes()

    def __repr__(self) -> str:
        shape = shape_of(self.value)
        value = f"{self.value:.6g}" if type(self.value) is float else f"array{shape}"
        return (f"<Trace {self.output_name or 'output'} = {value}, "
                f"{counted(len(self.tape.inputs), 'input')}, "
                f"{counted(len(self.tape), 'recorded node')}>")

    def to_json(self, *, indent: int | None = 1) -> str:
        """The graph as node-link JSON (see :func:`tracegraph.graph.to_json`)."""
        return to_json(self.graph, indent=indent)


def _as_float(value: Any) -> float:
    if type(value) is np.float64:  # the usual case (numpy's scalar rules): no array trip
        return float(value)
    return float(np.asarray(value).reshape(()))


def _read_only(value: Any) -> Any:
    """An array of the record as handed to the user: a read-only view (changing it in place
    would change what the graph, the diagram and later backward passes report)."""
    if type(value) is not np.ndarray or not value.flags.writeable:
        return value
    view = value.view()
    view.flags.writeable = False
    return view
