"""The record of a computation: a :class:`Tape` of equations, in the order they ran.

Every layer above the core reads this and nothing private: the backward
pass walks it in reverse, the graph is built from it, checks replay it, and
descent replays it with new parameter values.

An equation is a :class:`~tracegraph.core.var.Var` (see its docstring)::

    tape.equations[i].primitive(*tape.equations[i].inputs, **params) -> value

An equation with ``primitive is None`` is a leaf: an input (``tape.inputs``
maps names to positions), or a constant lifted from an enclosing trace.
Beside the equations the tape holds the named constants, the output, scope
spans, source lines, and *guards*: results of gradient-free operations
(comparisons, ``np.argmax``) that steered the Python code, so a replay can
tell when it would have run differently.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> def neuron(x, w):
    ...     return np.tanh(x * w)
    >>> t = tg.trace(neuron, x=0.5, w=2.0)
    >>> print(t.tape)
    x = input                                   # 0.5
    w = input                                   # 2
    multiply#2 = multiply(x, w)                 # 1
    neuron = tanh(multiply#2)                   # 0.7616
    >>> t.tape.parents(3), t.tape.ancestors(3), t.tape.between(0, 3)
    ([2], [0, 1, 2, 3], [0, 2, 3])
"""

from __future__ import annotations

import bisect
import math
import os
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConstantChangedError, TracegraphError, UnsupportedOperationError, user_location
from ..numbers import format_number, shape_text
from .leaks import finished_error
from .arrays import read_only_copy
from .var import Var, apply, deep_value_of, in_place_error, plain_value, record_equation


@dataclass(frozen=True)
class ScopeSpan:
    """A named region of the tape: equations ``start <= index < stop`` were recorded in it.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> def f(x):
        ...     with tg.scope("layer"):
        ...         h = np.tanh(x * 2.0)
        ...     return h * h
        >>> tg.trace(f, x=0.5).tape.scope_spans
        [ScopeSpan(path=('layer',), start=1, stop=3)]
    """

    path: tuple[str, ...]
    start: int
    stop: int


@dataclass(frozen=True)
class Guard:
    """A gradient-free result the computation depended on: ``func(*args) == result``.

    ``args`` may hold Vars of the tape; ``after`` is how many equations existed
    when the guard was taken.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda x: x[np.argmax(x)], x=np.array([1.0, 3.0]))
        >>> guard = t.tape.guards[0]
        >>> guard.func.__name__, int(guard.result), guard.holds()
        ('argmax', 1, True)
        >>> t.tape.replay({0: np.array([4.0, 3.0])}), guard.holds()   # argmax is now 0
        (False, False)
    """

    func: Callable[..., Any]
    args: tuple
    kwargs: Mapping[str, Any]
    result: Any
    after: int

    def holds(self) -> bool:
        """Whether ``func`` still gives ``result`` with the Vars' current values."""
        try:
            with np.errstate(all="ignore"):
                now = self.func(*deep_value_of(self.args), **deep_value_of(dict(self.kwargs)))
            return bool(np.array_equal(now, self.result))
        except Exception:  # noqa: BLE001 - a guard that cannot be evaluated has flipped
            return False


WATCH_BYTES = 1 << 16
"""Constant arrays this large are fingerprinted instead of copied (see :meth:`Tape.frozen`)."""

_WEIGHTS: dict[int, np.ndarray] = {}


_SNAPSHOTS: dict[int, tuple[weakref.ref, np.ndarray, bytes]] = {}


def _snapshot(value: np.ndarray) -> np.ndarray:
    """A read-only copy of ``value``'s contents now, the same copy for as long as the
    array lives unchanged, across traces too.

    A descent loop or a benchmark traces with the same index arrays every time; the
    same copy keeps what the rules learned about it (the scatter bins of an index,
    see ``rules.shape``) instead of starting again on each trace.
    """
    owner = _whole_array(value)
    key = id(owner)
    kept = _SNAPSHOTS.get(key)
    if kept is not None and kept[0]() is owner:
        snapshot = kept[1]
        if snapshot.shape == value.shape and snapshot.dtype == value.dtype and \
                value.tobytes() == kept[2]:  # bytes: NaN equals itself
            return snapshot
    snapshot = read_only_copy(value)
    _SNAPSHOTS[key] = (weakref.ref(owner, lambda _, key=key, kept=_SNAPSHOTS: kept.pop(key, None)),
                       snapshot, snapshot.tobytes())
    return snapshot


def _whole_array(value: np.ndarray) -> np.ndarray:
    """The array ``value`` is all of: its base when it is a view of the whole of it with
    the same layout (``tg.constant(I)`` hands the rules a new such view on every trace),
    else itself."""
    base = value.base
    if type(base) is np.ndarray and base.shape == value.shape and \
            base.strides == value.strides and base.dtype == value.dtype and (
                # the same extent of memory, so the same start (unless nothing is spanned)
                (value.size and 0 not in value.strides)
                or base.__array_interface__["data"] == value.__array_interface__["data"]):
        return base
    return value


def fingerprint(array: np.ndarray) -> float:
    """A number that changes when any element of ``array`` does: the dot product with
    fixed, distinct weights (so swapping two elements changes it too); NaN when the
    array holds NaN or inf, which :meth:`Tape.frozen` then copies instead.

    Example:
        >>> a = np.arange(4.0); before = fingerprint(a)
        >>> a[[0, 1]] = a[[1, 0]]; fingerprint(a) == before
        False
    """
    flat = array.reshape(-1) if array.flags.c_contiguous else array.ravel(order="K")
    weights = _WEIGHTS.get(flat.size)
    if weights is None:
        if len(_WEIGHTS) > 16:
            _WEIGHTS.clear()
        weights = _WEIGHTS[flat.size] = 1.0 + np.sqrt(np.arange(flat.size, dtype=float))
    return float(np.dot(flat if flat.dtype == np.float64 else flat.astype(float), weights))


MAX_OPERATIONS = int(os.environ.get("TRACEGRAPH_MAX_OPERATIONS", "10000000"))
"""A trace stops with an error past this many operations (about 5 GB of record): a file in
an endless loop would otherwise fill the memory.  The environment variable of the same
name raises it."""


def too_many_operations(count: int) -> TracegraphError:
    return TracegraphError(
        f"the trace has recorded {count:,} operations (about {count * 470 / 1e9:.0f} GB): "
        "is the code in an endless loop?", location=user_location(),
        hint="if it really computes this much, set TRACEGRAPH_MAX_OPERATIONS to a larger "
        "number; for a diagram or a check, a smaller problem (fewer steps) reads better")


class Tape:
    """The record of one trace: equations in the order they were computed.

    Attributes:
        equations: the recorded :class:`~tracegraph.core.var.Var` in order (also ``tape[i]``).
        inputs: ``{name: index}`` of the differentiated inputs, in declaration order.
        constants: ``{name: value}`` of named constants.
        output: index of the output equation, or ``None`` (not finished, or constant).
        output_name: the output's name.
        result: the output's value (also when it is a constant).
        closed: True once finished; recording on a closed tape is an error.
        parent: the enclosing tape of a nested trace (``tg.grad`` inside a trace).
        guards: gradient-free results the code depended on (see :class:`Guard`).
        growth_hook: ``None`` or a function called with the number of equations each
            time another 4,096 have been recorded (the trace facade spaces out the
            garbage collector's walks once a trace is long).

    Example:
        >>> tape = Tape()
        >>> x = tape.leaf("x", 3.0)
        >>> y = x * x
        >>> len(tape), tape[1].primitive.name, tape.children()[0]
        (2, 'multiply', [(1, 0), (1, 1)])
    """

    __slots__ = ("equations", "inputs", "constants", "output", "output_name", "result", "closed",
                 "parent", "guards", "scope_path", "scope_spans", "_scope_starts",
                 "constant_names", "integer_leaves", "_lifted", "lifted", "_lines",
                 "superseded", "zero_d_arrays", "_roots", "_rooted", "_copies",
                 "_line_mark", "_watched", "growth_hook", "__weakref__")

    def __init__(self, parent: Tape | None = None) -> None:
        self.equations: list[Var] = []
        self.inputs: dict[str, int] = {}
        self.constants: dict[str, Any] = {}
        self.output: int | None = None
        self.output_name: str | None = None
        self.result: Any = None
        self.closed = False
        self.parent = parent
        self.guards: list[Guard] = []
        self.scope_path: tuple[str, ...] = ()
        self.scope_spans: list[ScopeSpan] = []
        self._scope_starts: list[int] = []
        self.constant_names: dict[int, tuple[str, Any]] = {}
        self.integer_leaves: set[int] = set()
        self._lifted: dict[int, Var] = {}
        self.lifted: set[int] = set()
        self._lines: list[tuple[int, int]] = []
        self._line_mark = 0
        self._watched: dict[int, tuple[np.ndarray, float]] = {}
        # arrays changed in place (y += 1): id of the old Var (and of the views numpy
        # would change with it) -> where (SourceLocation or None)
        self.superseded: dict[int, Any] = {}
        # Vars whose value numpy gave as a scalar for a 0-d array changed in place
        # (a = np.array(2.0); a += 1): later in-place operators change it for every name
        self.zero_d_arrays: set[int] = set()
        self._roots: dict[int, list[int]] = {}  # id of an array's memory -> equations
        self._rooted = 0  # equations indexed in _roots so far
        # handles of x.copy() hold memory no equation has, and a view of it (y[0]) changed
        # in place must supersede them too; kept alive so their ids are not reused
        self._copies: dict[int, list[Var]] = {}
        self.growth_hook: Callable[[int], None] | None = None

    def grown(self, count: int) -> None:
        """Called by the recording every 4,096 equations: refuses a trace past
        :data:`MAX_OPERATIONS` and calls :attr:`growth_hook`."""
        if count >= MAX_OPERATIONS:
            raise too_many_operations(count)
        if self.growth_hook is not None:
            self.growth_hook(count)

    # -- sequence of equations ----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.equations)

    def __getitem__(self, index: int) -> Var:
        return self.equations[index]

    def __iter__(self) -> Iterator[Var]:
        return iter(self.equations)

    def __repr__(self) -> str:
        return f"<Tape: {len(self.equations)} equations, {len(self.inputs)} inputs>"

    def __str__(self) -> str:
        return self.pretty()

    # -- recording ------------------------------------------------------------------------
    def leaf(self, name: str | None, value: Any, *, integer: bool = False) -> Var:
        """Record an input: a named leaf with no producing primitive.

        An ``integer`` leaf (an input given as a Python int) is traced as a
        float but still works where Python needs an int (``range(n)``,
        ``x[:n]``, ``np.zeros(n)``); those uses are piecewise constant in
        ``n``, so they contribute no gradient, exactly as in calculus.
        """
        self.check_open()
        var = record_equation(self, None, (), value, None)
        var.name = name
        if integer:
            self.integer_leaves.add(var.index)
        return var

    def declare_input(self, name: str, var: Var) -> None:
        """Make the leaf ``var`` the differentiated input ``name``."""
        self.inputs[name] = var.index

    def lift(self, outer: Var) -> Var:
        """A constant leaf of this (nested) tape standing for a value of an enclosing trace.

        The same outer value is always the same leaf; its value *is* the outer
        Var, so what this trace computes from it is traced by the outer one.
        """
        key = id(outer)
        leaf = self._lifted.get(key)
        if leaf is None:
            leaf = record_equation(self, None, (), outer, None)
            leaf.name = outer.name
            self._lifted[key] = leaf
            self.lifted.add(leaf.index)
        return leaf

    # -- constants an equation keeps ----------------------------------------------------
    def frozen(self, value: Any) -> Any:
        """What an equation records for a constant input: ``value`` itself, or for a numpy
        array its owner could still change in place, a read-only copy of its contents now.

        ``v = np.ones(3); s = np.sum(v * a); v[0] = 5.0`` must leave the gradient of
        ``s`` as Python computed it; a recorded reference would see the 5.  One array
        used again unchanged gets the same copy (one node in the graph, under its name).

        Example:
            >>> import numpy as np
            >>> tape = Tape(); v = np.ones(2)
            >>> kept = tape.frozen(v); v[0] = 5.0
            >>> kept.tolist(), kept.flags.writeable, tape.frozen(v).tolist()
            ([1.0, 1.0], False, [5.0, 1.0])
            >>> tape.frozen(v) is tape.frozen(v), tape.frozen(2.0)
            (True, 2.0)
        """
        # type() first: isinstance() of a Var asks its __class__, which looks at the caller
        if type(value) is Var or not isinstance(value, np.ndarray) or (
                value.base is None and not value.flags.writeable):
            return value
        key = id(value)
        if value.nbytes >= WATCH_BYTES and value.dtype.kind in "fiu":
            # Copying a data matrix on every trace costs more than the rules on it: keep
            # it, with a fingerprint that :meth:`check_unchanged` compares later.
            stamp = fingerprint(value)
            if math.isfinite(stamp):
                self._watched[key] = (value, stamp)
                return value
        snapshot = _snapshot(value)
        named = self.constant_names.get(key)
        if named is not None and named[1] is value:
            self.constant_names[id(snapshot)] = (named[0], snapshot)
        return snapshot

    def check_unchanged(self) -> None:
        """Raise :class:`~tracegraph.errors.ConstantChangedError` when a large constant
        array the record reads (see :meth:`frozen`) has been changed in place since.

        Example:
            >>> import numpy as np
            >>> tape = Tape(); X = np.ones(10_000)
            >>> tape.frozen(X) is X                   # large: kept, not copied
            True
            >>> tape.check_unchanged(); X[123] = 2.0
            >>> try:
            ...     tape.check_unchanged()
            ... except ConstantChangedError as err:
            ...     print(err.message)
            the constant array of shape (10000,) was changed in place after the trace read it
        """
        for value, stamp in self._watched.values():
            if fingerprint(value) != stamp:
                name = self.constant_name(value)
                which = f"{name!r} " if name else ""
                raise ConstantChangedError(
                    f"the constant array {which}of shape {value.shape} was changed in place "
                    "after the trace read it",
                    hint="change a copy instead (X = X.copy() before changing it), or trace "
                         "again after the change; the trace's values and gradients are for "
                         "the values it read")

    def frozen_all(self, values: tuple) -> tuple:
        """``values`` with every constant array :meth:`frozen` (the tuple itself when none is)."""
        for value in values:
            if type(value) is not Var and isinstance(value, np.ndarray):  # tg.constant's too
                return tuple(self.frozen(v) for v in values)
        return values

    def frozen_params(self, params: dict | None) -> dict | None:
        """An equation's params with the arrays in them (index arrays, masks) :meth:`frozen`;
        ``None`` for no params."""
        if not params:
            return None
        for key, value in params.items():
            kind = type(value)
            if kind is Var:
                raise traced_parameter_error(key, value)
            if kind is np.ndarray or kind is list or (kind is tuple and any(
                    type(part) is np.ndarray or type(part) is list for part in value)):
                break
        else:
            return params
        return {key: self._frozen_param(value) for key, value in params.items()}

    def _frozen_param(self, value: Any) -> Any:
        kind = type(value)
        if kind is tuple:
            return tuple(self._frozen_param(part) for part in value)
        if kind is list:
            return [self._frozen_param(part) for part in value]
        return self.frozen(value)

    def encloses(self, other: Tape) -> bool:
        """True when ``other`` is nested (at any depth) inside this tape's trace."""
        current = other.parent
        while current is not None:
            if current is self:
                return True
            current = current.parent
        return False

    def name_constant(self, name: str, value: Any) -> None:
        """Remember that a constant object passed by the user has a name (for the graph)."""
        # Keyed by identity so that one named array used in many places is one node;
        # the object itself is kept alive by this entry, so the identity stays valid.
        self.constant_names[id(value)] = (name, value)

    def constant_name(self, value: Any) -> str | None:
        """The user's name for this constant object, if it was declared with one."""
        named = self.constant_names.get(id(value))
        return named[0] if named is not None and named[1] is value else None

    def is_integer_input(self, var: Var) -> bool:
        """True for a leaf declared from a Python int (usable as an index or count)."""
        return var.primitive is None and var.index in self.integer_leaves

    def guard(self, func: Callable[..., Any], args: tuple, kwargs: Mapping[str, Any],
              result: Any) -> None:
        """Remember that ``func(*args, **kwargs)`` gave ``result`` (see :class:`Guard`)."""
        self.guards.append(Guard(func, tuple(args), dict(kwargs), result, len(self.equations)))

    def check_open(self) -> None:
        """Raise when the tape is finished."""
        if self.closed:
            raise finished_error()

    def sharing(self, array: np.ndarray) -> list[Var]:
        """The equations whose values share memory with ``array`` (views of one buffer:
        ``x[0:2]``, ``x.T``), which numpy changes together in place.

        Example:
            >>> import numpy as np
            >>> tape = Tape(); x = tape.leaf("x", np.arange(4.0))
            >>> [v.label for v in tape.sharing(x[1:3].value)]
            ['x', 'getitem#1']
        """
        equations = self.equations
        for index in range(self._rooted, len(equations)):
            value = equations[index].value
            if type(value) is np.ndarray:
                self._roots.setdefault(id(_memory_of(value)), []).append(index)
        self._rooted = len(equations)
        memory = id(_memory_of(array))
        return [equations[i] for i in self._roots.get(memory, ())
                if np.may_share_memory(equations[i].value, array)] + [
            handle for handle in self._copies.get(memory, ())
            if np.may_share_memory(handle.value, array)]

    def note_copy(self, handle: Var) -> None:
        """``handle`` (from ``x.copy()``) owns an array of its own: :meth:`sharing` finds it."""
        self._copies.setdefault(id(_memory_of(handle.value)), []).append(handle)

    def finish(self, output: int | None, name: str | None, result: Any = None) -> None:
        """Close the tape at equation ``output``; for a result that is not an equation
        of this tape (a constant), ``output`` is None and ``result`` holds it."""
        if output is not None and id(self.equations[output]) in self.superseded:
            raise in_place_error(self, self.equations[output])
        self.output = output
        self.output_name = name
        self.result = self.equations[output].value if output is not None else result
        self.closed = True

    def push_scope(self, name: str) -> None:
        self._scope_starts.append(len(self.equations))
        self.scope_path = self.scope_path + (name,)

    def pop_scope(self) -> None:
        start = self._scope_starts.pop()
        self.scope_spans.append(ScopeSpan(self.scope_path, start, len(self.equations)))
        self.scope_path = self.scope_path[:-1]

    def note_line(self, lineno: int) -> None:
        """Equations recorded since the previous note come from source line ``lineno``."""
        end = len(self.equations)
        if end > self._line_mark:
            self._lines.append((end, lineno))
            self._line_mark = end

    # -- reading ------------------------------------------------------------------------
    def scope_of(self, index: int) -> tuple[str, ...]:
        """The innermost scope path equation ``index`` was recorded in."""
        best: tuple[str, ...] = ()
        for span in self.scope_spans:
            if span.start <= index < span.stop and len(span.path) > len(best):
                best = span.path
        return best

    def scope_table(self) -> dict[int, tuple[str, ...]]:
        """Innermost scope path of every equation recorded inside a scope (one pass)."""
        table: dict[int, tuple[str, ...]] = {}
        for span in sorted(self.scope_spans, key=lambda s: len(s.path)):
            for index in range(span.start, span.stop):
                table[index] = span.path
        return table

    def line_of(self, index: int) -> int | None:
        """The source line equation ``index`` comes from (expression files), if known."""
        position = bisect.bisect_right(self._lines, (index, 1 << 62))
        if position < len(self._lines):
            return self._lines[position][1]
        return None

    def is_lifted(self, index: int) -> bool:
        """True for a leaf standing for a value of an enclosing trace (a constant here)."""
        return index in self.lifted

    # -- walks ----------------------------------------------------------------------------
    def parents(self, index: int) -> list[int]:
        """Indices of the traced inputs of equation ``index``, in argument order."""
        return [x.index for x in self.equations[index].inputs if type(x) is Var]

    def children(self, upto: int | None = None) -> list[list[tuple[int, int]]]:
        """For every equation, its consumers as ``(child index, argument position)``."""
        stop = len(self.equations) if upto is None else upto + 1
        consumers: list[list[tuple[int, int]]] = [[] for _ in range(stop)]
        for i in range(stop):
            for position, x in enumerate(self.equations[i].inputs):
                if type(x) is Var:
                    consumers[x.index].append((i, position))
        return consumers

    def ancestors(self, index: int, include: Iterable[int] = ()) -> list[int]:
        """Indices that ``index`` depends on (itself included), plus ``include``, in order.

        One reversed sweep: record order is topological.
        """
        keep = [False] * (index + 1)
        keep[index] = True
        equations = self.equations
        for i in range(index, -1, -1):
            if keep[i]:
                for x in equations[i].inputs:
                    if type(x) is Var:
                        keep[x.index] = True
        extra = [i for i in include if i > index]
        for i in include:
            if i <= index:
                keep[i] = True
        return [i for i, kept in enumerate(keep) if kept] + sorted(set(extra))

    def descendants(self, index: int, upto: int | None = None) -> list[int]:
        """Indices that depend on ``index`` (itself included), up to ``upto``, in order."""
        stop = len(self.equations) if upto is None else upto + 1
        reached = [False] * stop
        reached[index] = True
        equations = self.equations
        for i in range(index + 1, stop):
            for x in equations[i].inputs:
                if type(x) is Var and reached[x.index]:
                    reached[i] = True
                    break
        return [i for i in range(index, stop) if reached[i]]

    def between(self, source: int, target: int) -> list[int]:
        """Indices on some path ``source`` → ``target`` (both included), in order; [] if none."""
        if source > target:
            return []
        downstream = set(self.descendants(source, target))
        if target not in downstream:
            return []
        return [i for i in self.ancestors(target) if i in downstream]

    def relevant(self) -> list[int]:
        """The output's ancestors plus every input, in order (what the graph shows)."""
        inputs = list(self.inputs.values())
        if self.output is None:
            return sorted(inputs)
        return self.ancestors(self.output, include=inputs)

    # -- replay ---------------------------------------------------------------------------
    def replay(self, values: Mapping[int, Any]) -> bool:
        """Recompute every equation with new leaf values (``{index: value}``), in place.

        Returns False when a guard no longer holds: the Python code would have
        taken another branch, so the result must come from a fresh trace
        instead.  Used by :func:`tracegraph.descend` to step without
        re-running the user's code.
        """
        self.check_unchanged()
        equations = self.equations
        for index, value in values.items():
            equations[index].value = value
        with np.errstate(all="ignore"):
            for eq in equations:
                prim = eq.primitive
                if prim is None:
                    continue
                args = [x.value if type(x) is Var else x for x in eq.inputs]
                params = eq.params
                eq.value = prim.impl(*args, **params) if params else prim.impl(*args)
        return all(guard.holds() for guard in self.guards)

    # -- text -----------------------------------------------------------------------------
    def pretty(self, limit: int = 200) -> str:
        """The record as text, one equation per line (like a jaxpr), values as comments."""
        lines = []
        for eq in self.equations[:limit]:
            if eq.primitive is None:
                rhs = "lifted" if eq.index in self.lifted else "input"
            else:
                args = ", ".join(_operand_text(x) for x in eq.inputs)
                params = "".join(f", {k}={v!r}" for k, v in (eq.params or {}).items()
                                 if k != "index")
                rhs = f"{eq.primitive.name}({args}{params})"
            lines.append(f"{eq.label + ' = ' + rhs:<43} # {_value_text(eq.value)}")
        if len(self.equations) > limit:
            lines.append(f"... {len(self.equations) - limit:,} more equations")
        return "\n".join(lines)


def _operand_text(x: Any) -> str:
    if type(x) is Var:
        return x.label
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        return format_number(x)
    if isinstance(x, np.ndarray):
        return f"array[{shape_text(x.shape)}]"
    return type(x).__name__


def _value_text(value: Any) -> str:
    value = plain_value(value)
    if np.ndim(value) == 0:
        try:
            return format_number(value)
        except (TypeError, ValueError):
            return type(value).__name__
    return f"array[{shape_text(np.shape(value))}]"


def _memory_of(array: np.ndarray) -> Any:
    """The object that owns an array's memory (the end of its chain of bases)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array if array.base is None else array.base


def traced_parameter_error(key: str, value: Var) -> UnsupportedOperationError:
    """A rule's parameter (``ord=``, ``ddof=``, ``decimals=``) given a traced value: the rule
    does not differentiate it, so its derivative would silently be 0."""
    return UnsupportedOperationError(
        f"a traced {key}= ({value.label!r})",
        reason=f"the rule treats {key}= as a fixed setting, so its derivative with respect "
               f"to it would silently be 0", node=value.label,
        hint=f"pass {key}= as a plain number (or tg.constant(...))")


def apply_with_value(prim: Any, value: Any, *args: Any) -> Any:
    """Record ``prim(*args)`` with a ``value`` the caller computed, when an argument is traced.

    The file's ``math.exp(x)`` is ``math``'s number, which can differ from numpy's
    ``np.exp`` in the last bit; the equation (and its derivative rule) is the same.
    On values of a nested trace the primitive runs as :func:`apply` does.

    Example:
        >>> import math
        >>> from tracegraph.core import REGISTRY, Tape
        >>> x = Tape().leaf("x", 0.7)
        >>> y = apply_with_value(REGISTRY["tanh"], math.tanh(0.7), x)
        >>> y.value == math.tanh(0.7), y.primitive.name
        (True, 'tanh')
    """
    tapes = {a.tape for a in args if type(a) is Var}
    if not tapes:
        return value
    if len(tapes) > 1 or any(type(a) is Var and type(a.value) is Var for a in args):
        return apply(prim, *args)  # values of several (nested) traces
    tape = tapes.pop()
    tape.check_open()
    return record_equation(tape, prim, tape.frozen_all(args), value, None)
