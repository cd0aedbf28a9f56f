"""The binder: what every assignment in a traced file reports to.

The transformed file (:func:`.source.compile_tree`) calls a :class:`Binder`
at each assignment with the name, the value, the line, whether it is at the
top level and the names its right-hand side reads.  It declares inputs,
names nodes after the variables they are bound to, records every *version*
of a name (each assignment is a new one), resolves hand-derived claims
(``dS_dG = ...``) to the values their names have at the claim's line,
remembers the candidates for the output, and applies overrides.

Example:
    >>> import tracegraph as tg
    >>> tracer = tg.Tracer(); binder = Binder(tracer, {})
    >>> with tracer:
    ...     w = binder("w", 0.5, 1, True)
    ...     loss = binder("loss", w * w, 2, True)
    ...     binder.namespace.update(w=w, loss=loss)
    ...     claim = binder("dloss_dw", 2 * w, 3, True)
    >>> binder.inputs, loss.name, binder.claims["dloss_dw"].value
    ({'w': 0.5}, 'loss', 1.0)
"""

from __future__ import annotations

import difflib
import operator
import re
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..check.names import Reading, claim_readings, is_claim_name
from ..core import (
    Var,
    as_python_scalar,
    deep_value_of,
    is_constant,
    pack_values,
    plain_value,
    shape_of,
)
from ..core import name as name_value
from ..core.constants import IntBinding
from ..core.leaks import in_place_error
from ..numbers import shape_text
from ..trace import Trace, Tracer
from .overrides import all_numbers, apply_override, unknown_override

CLAIM_NAME = re.compile(r"^d\w+_d\w+$")
"""Names shaped like hand-derived derivative claims: ``dS_dG``, ``dLoss_dw1``, ``dθ_dt``
(:func:`tracegraph.check.names.is_claim_name` is the exact test, second order included)."""

OUTPUT_DECLARATIONS = ("output", "OUTPUT")
"""Top-level names that declare the output when bound to a string: ``output = "f"``."""

CONSTANT = -1
"""A claim's side that names a constant of the trace (it has no derivative)."""


@dataclass(frozen=True)
class ClaimSource:
    """A hand-derived derivative written in the file, e.g. ``dS_dG = 0.2445`` on line 9.

    ``value`` is plain (a float or ndarray), even when the claim was computed
    from traced values (``dS_dG = S * (1 - S)``).  In script mode the claim is
    resolved where it is written: ``reading`` says which derivative its name
    stands for and ``nodes`` the tape positions of the values its names hold
    at that line (:data:`CONSTANT` for a constant); ``nodes`` is ``None`` when
    it is resolved later, by node names (function mode), and ``problem``
    says why it could not be resolved (an ambiguous name).

    Example:
        >>> ClaimSource("dS_dG", 0.2445, 9).name
        'dS_dG'
    """

    name: str
    value: Any
    lineno: int
    reading: Reading | None = field(default=None, compare=False)
    nodes: tuple[int, ...] | None = field(default=None, compare=False)
    problem: str = field(default="", compare=False)
    dtype: str = field(default="float64", compare=False)
    written: tuple[str, ...] | None = field(default=None, compare=False)
    """The numbers as the file wrote them (``("0.2500",)``), ``()`` for a claim computed
    by an expression, ``None`` when not known: only written numbers are judged by their
    digits."""


@dataclass(frozen=True)
class NotAClaim:
    """A name shaped like a claim whose names are not traced values where it is written
    (``dx_dt`` with no traced ``t``): an ordinary value of the file, and a note.

    Example:
        >>> NotAClaim("dx_dt", 4, "no traced value named 't'").describe()
        "dx_dt (line 4) is not a claim: no traced value named 't'"
    """

    name: str
    lineno: int
    reason: str

    def describe(self) -> str:
        return f"{self.name} (line {self.lineno}) is not a claim: {self.reason}"


@dataclass(frozen=True)
class Binding:
    """A traced value assigned to a top-level name: a possible output (``output=``).

    ``alias`` is True when the value was already bound to another name
    (``loss = y``); ``reads`` are the names the assignment's right-hand side
    reads, and ``from_claims`` says whether one of them is a claim or a value
    computed from claims (``w_new = w - 0.1 * dLoss_dw``).

    Example:
        >>> Binding("Loss", 12, ()).describe()
        'Loss (line 12, scalar)'
    """

    name: str
    lineno: int
    shape: tuple[int, ...]
    alias: bool = field(default=False, compare=False)
    reads: tuple[str, ...] = field(default=(), compare=False)
    from_claims: bool = field(default=False, compare=False)

    def describe(self) -> str:
        """``name (line N, scalar)`` or ``name (line N, shape 4×3)``."""
        size = "scalar" if not self.shape else "shape " + shape_text(self.shape)
        return f"{self.name} (line {self.lineno}, {size})"


@dataclass(frozen=True, slots=True)
class Version:
    """One value bound to a name: the ``count``-th time line ``lineno`` bound ``name``.

    Each assignment is a new version (``h = np.tanh(W @ h)`` in a loop makes
    one per iteration); ``h@12`` names the last value line 12 bound to ``h``.
    ``index`` is the value's position on the tape.

    Example:
        >>> Version("h", 12, 3, 7, True).ref
        'h@12'
    """

    name: str
    lineno: int
    count: int
    index: int
    top_level: bool

    @property
    def ref(self) -> str:
        """``name@line``: how ``output=`` and claims refer to this version."""
        return f"{self.name}@{self.lineno}"


def _plain(value: Any) -> Any:
    """A claim's value as a plain float / ndarray (``np.array([a, b])`` of traced numbers
    holds them as objects: their values are the claim)."""
    value = value.value if type(value) is Var else value
    if isinstance(value, np.ndarray) and value.dtype == object:
        plain = deep_value_of(value)
        try:
            return np.asarray(plain, dtype=float)
        except (TypeError, ValueError):
            return value
    if isinstance(value, (list, tuple)) and all_numbers(value):
        return np.asarray(value, dtype=float)
    return as_python_scalar(value)


def _plain_binding(value: Any) -> Any:
    """A value of the file as plain Python has it: traced values by their values, a
    file's int by the int."""
    kind = type(value)
    if kind is Var:
        return plain_value(value)
    if kind is IntBinding:
        return int(value)
    if kind in (list, tuple) or (kind is np.ndarray and value.dtype == object):
        return deep_value_of(value)
    return value


def _packed(value: Any) -> Any:
    """``np.array([w1 * 2.0, w2 ** 2])`` of traced numbers, as one traced array: in Python
    it is a float array (a claim can name it, ``v.dtype`` is float64), here numpy would
    keep an object array of traced numbers."""
    if type(value) is not np.ndarray or value.dtype != object or not value.size:
        return value
    traced = [item for item in value.flat if type(item) is Var]
    numbers = all(type(item) is Var or isinstance(item, (int, float, np.number))
                  and not isinstance(item, (bool, np.bool_)) for item in value.flat)
    if traced and numbers and not traced[0].tape.closed:
        return pack_values(value, traced[0].tape)
    return value  # [w1, None]: an object array in Python too


def _dtype_name(value: Any) -> str:
    value = value.value if type(value) is Var else value
    dtype = getattr(value, "dtype", None)
    return dtype.name if dtype is not None else "float64"


def _is_float_input(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (float, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


class Binder:
    """Called by the transformed code at every assignment; names, declares inputs, records.

    With a ``tracer`` (script mode) the first top-level binding of a name to a
    float or float array declares an input; an int (``n = 5``) stays the int
    it is until it meets a traced value in arithmetic, then it is an input
    (:class:`~tracegraph.core.constants.IntBinding`); names in ``wrt`` are
    inputs from the start.  Integer arrays, float arrays the file changes in
    place (``changed_in_place``: ``onehot[i, y] = 1.0``) and
    ``tracegraph.constant(...)`` values become named constants.  Without a
    tracer, top-level numbers are only replaced by their ``--set`` overrides.

    Example:
        >>> import tracegraph as tg
        >>> binder = Binder(tg.Tracer(), {"w": 2})   # w overridden by 2
        >>> with binder.tracer:
        ...     w, n = binder("w", 0.5, 1, True), binder("n", 3, 2, True)
        >>> binder.inputs, binder.settable, type(n).__name__
        ({'w': 2.0}, ['w', 'n'], 'IntBinding')
    """

    def __init__(self, tracer: Tracer | None, overrides: Mapping[str, Any],
                 wrt: Iterable[str] = (), changed_in_place: Iterable[str] = ()) -> None:
        self.tracer = tracer
        self.overrides = dict(overrides)
        self.wrt = set(wrt)
        self.changed_in_place = set(changed_in_place) - self.wrt
        self.used_overrides: set[str] = set()
        self.seen: set[str] = set()
        self.first_lines: dict[str, int] = {}
        self.rebound: dict[str, int] = {}  # input name → a later line binding a plain number
        self.inputs: dict[str, Any] = {}
        self.settable: list[str] = []
        self.claims: dict[str, ClaimSource] = {}
        self.not_claims: dict[str, NotAClaim] = {}
        self.latest: dict[str, Var] = {}
        self.bindings: list[tuple[Binding, Var]] = []
        self.versions: list[Version] = []
        self.traces: list[tuple[str, Trace]] = []
        self.namespace: dict[str, Any] = {}
        self.declared_output: tuple[str, int] | None = None
        self.claim_indices: set[int] = set()
        self.claim_derived: set[str] = set()
        self.int_lines: dict[str, int] = {}
        self._line_counts: dict[tuple[str, int], int] = {}
        self._named_at_top: dict[int, Var] = {}
        self._auto_named: dict[int, Var] = {}
        self._in_claim = False
        self._accumulating: set[tuple[str, int]] = set()  # claim lines that add to the name
        self._written: dict[tuple[str, int], tuple[str, ...]] = {}  # claim -> its numbers

    def __call__(self, name: str, value: Any, lineno: int, top_level: bool,
                 reads: tuple[str, ...] = ()) -> Any:
        # Every run of the assignment counts, traced or not: Version.count is the how-many-th
        # time this line bound the name, as Python ran it.
        key = (name, lineno)
        self._line_counts[key] = self._line_counts.get(key, 0) + 1
        value = _packed(value)
        if type(value) is IntBinding and value.depth and name in reads:
            value = int(value)  # k += 1: a counter counts, it is not a formula of its start
        if top_level:
            if name in OUTPUT_DECLARATIONS and isinstance(value, str):
                self.declared_output = (value, lineno)
                return value
            if is_claim_name(name) and self._claim(name, value, lineno):
                return value
            if self.claims:
                from_claims = any(r in self.claims or r in self.claim_derived for r in reads)
                (self.claim_derived.add if from_claims else self.claim_derived.discard)(name)
        if top_level and name not in self.seen:
            self.seen.add(name)
            self.first_lines[name] = lineno
            value = self._declare(name, value, lineno)
        elif top_level and name in self.inputs and type(value) is not Var and _is_float_input(value):
            # x = 1.0 ... x = 2.0: the later lines compute from a plain number, not the input
            self.rebound.setdefault(name, lineno)
        if isinstance(value, Trace) and top_level:
            self.traces.append((name, value))
        if type(value) is not Var:
            return value
        self.latest[name] = value
        self._version(name, value, lineno, top_level)
        if top_level:
            self._name_at_top_level(name, value, lineno, reads)
        elif value.name is None:
            name_value(value, name)
            self._auto_named[id(value)] = value
        return value

    # -- inputs -----------------------------------------------------------------------
    def _declare(self, name: str, value: Any, lineno: int) -> Any:
        if is_constant(value):
            return self.tracer.constant(name, value) if self.tracer else value
        if self.tracer is not None and self._stepped(value):
            # r = round(x, 2): a number computed from the inputs (a step, slope 0, guarded
            # for replays), not a new input to set or optimise
            return self.tracer.constant(name, value)
        if name in self.claim_derived and _is_float_input(value):
            return value  # kept = dloss_dw: a number computed from claims, not an input
        if type(value) is int or _is_float_input(value):
            value = self._overridden(name, value)
        if self.tracer is None:
            return value
        if type(value) is Var and name in self.used_overrides:
            # Overridden by a value of an enclosing trace (second derivatives of the file).
            return self._input(name, value)
        if type(value) is int:
            if name in self.wrt:
                return self._input(name, value)
            self.int_lines[name] = lineno
            return IntBinding(value, name, self._promote)
        if _is_float_input(value) and not (name in self.changed_in_place
                                           and isinstance(value, np.ndarray)):
            return self._input(name, value)
        if isinstance(value, np.ndarray) and value.dtype.kind in "iubf":
            # Integer arrays, and float arrays the file fills in place, are data.
            return self.tracer.constant(name, value)
        return value

    def _stepped(self, value: Any) -> bool:
        """True for a float that a guarded step of a traced value just returned
        (``round(x, 2)``), identified by the object itself."""
        if not _is_float_input(value):
            return False
        return any(guard.result is value for guard in self.tracer.tape.guards[-4:])

    def _overridden(self, name: str, value: Any) -> Any:
        self.settable.append(name)
        if name in self.overrides:
            value = apply_override(name, value, self.overrides[name])
            self.used_overrides.add(name)
        return value

    def _input(self, name: str, value: Any) -> Var:
        self.inputs[name] = value
        return self.tracer.input(name, value)

    def claim(self, name: str, compute: Callable[[], Any], lineno: int,
              written: tuple[str, ...] | None = None, accumulates: bool = False) -> Any:
        """The value of a top-level assignment to a claim-shaped name, ``compute()``.

        A claim (its names are traced values here) is computed on the plain values
        its names hold - as ``python FILE`` computes it, never traced, so it needs no
        derivative rule (``np.diag``) and makes no int an input; an ordinary value
        (``dx_dt`` with no traced ``t``) is computed as any other.  ``accumulates``: the
        line adds to the name's own value (``dloss_dw += ...``), so what the name held
        before was a partial sum, not a claim of its own.
        """
        self._written[(name, lineno)] = () if written is None else written
        if accumulates:
            self._accumulating.add((name, lineno))
        if self.tracer is None or not any(
                self._resolve_names(r.names) is not None
                for r in claim_readings(name, strict=True)):
            return compute()
        for read in compute.__code__.co_names:  # numpy changed it through another name
            value = self.namespace.get(read)
            if type(value) is Var and id(value) in value.tape.superseded:
                raise in_place_error(value.tape, value)
        plain = {key: _plain_binding(value) for key, value in self.namespace.items()}
        self._in_claim = True
        try:
            return types.FunctionType(compute.__code__, plain, compute.__name__)()
        finally:
            self._in_claim = False

    def _promote(self, binding: IntBinding) -> Var | None:
        """An int of the file met a traced value in arithmetic: it is an input from now on."""
        tracer = self.tracer
        if tracer is None or tracer.tape.closed or self._in_claim:
            return None
        leaf = self._input(binding.name, int(binding))
        # The int's first binding is the version it stands for.
        self._version(binding.name, leaf, self.int_lines.get(binding.name, 0), True, count=1)
        return leaf

    # -- versions and names -------------------------------------------------------------
    def _version(self, name: str, value: Var, lineno: int, top_level: bool,
                 count: int | None = None) -> None:
        if count is None:
            count = self._line_counts.get((name, lineno), 1)
        self.versions.append(Version(name, lineno, count, value.index, top_level))

    def _name_at_top_level(self, name: str, value: Var, lineno: int,
                           reads: tuple[str, ...]) -> None:
        # Top-level names win over names given automatically inside functions
        # (h1 = layer(x) renames layer's `out`), but an alias (S2 = S) never renames,
        # nor does it override a name the user gave with tracegraph.name().
        key = id(value)
        alias = key in self._named_at_top
        if not alias and (value.name is None or key in self._auto_named):
            name_value(value, name, replace=True)
            self._auto_named.pop(key, None)
        self._named_at_top[key] = value
        if value.primitive is not None:
            self.bindings.append((Binding(name, lineno, shape_of(value.value), alias,
                                          tuple(reads), name in self.claim_derived), value))

    # -- claims -------------------------------------------------------------------------
    def _claim(self, name: str, value: Any, lineno: int) -> bool:
        """Record ``name = value`` as a claim if its names are traced values here;
        False (with a note when it looks meant) when it is an ordinary value."""
        dtype = _dtype_name(value)
        written = self._written.pop((name, lineno), None)
        if self.tracer is None:  # function mode: resolved later, by node names
            self._record_claim(ClaimSource(name, _plain(value), lineno, dtype=dtype,
                                           written=written))
            return True
        readings = claim_readings(name, strict=True)
        resolved = [(r, nodes) for r in readings
                    if (nodes := self._resolve_names(r.names)) is not None]
        if resolved and type(value) is Var and id(value) not in self._named_at_top:
            # Computed for the claim (dS_dG = S * (1 - S)), not a value of the file (dA_dw1 = x1).
            self.claim_indices.add(value.index)
        if len(resolved) == 1:
            reading, nodes = resolved[0]
            self._record_claim(ClaimSource(name, _plain(value), lineno, reading, nodes,
                                           dtype=dtype, written=written))
            return True
        if len(resolved) > 1:
            texts = " or ".join(r.text() for r, _ in resolved)
            self._record_claim(ClaimSource(
                name, _plain(value), lineno, None, None, dtype=dtype,
                problem=f"{name!r} is ambiguous: it reads as {texts}; rename a value so that "
                "only one reading names traced values"))
            return True
        reason = self._why_not_a_claim(readings)
        if reason:
            self.not_claims[name] = NotAClaim(name, lineno, reason)
        return False

    def _record_claim(self, claim: ClaimSource) -> None:
        """Keep one claim per line: ``claims[name]`` is the last line claiming ``name`` (in a
        loop, its last run); an earlier line's claim of the same name is ``name@line``.
        A line that accumulates into the name (``dloss_dw = 0.0`` then ``dloss_dw += ...``)
        absorbs the claim it adds to: a partial sum is no derivative to grade."""
        # In a loop, this line's earlier run may be kept as name@line: this run replaces it.
        self.claims.pop(f"{claim.name}@{claim.lineno}", None)
        earlier = self.claims.get(claim.name)
        if (earlier is not None and earlier.lineno != claim.lineno
                and (claim.name, claim.lineno) not in self._accumulating):
            self.claims[f"{claim.name}@{earlier.lineno}"] = earlier
        self.claims[claim.name] = claim

    @staticmethod
    def packed(value: Any) -> Any:
        """``np.array([a, b])`` of traced numbers inside an expression, one traced array as
        at an assignment: numpy would keep an object array, whose arithmetic runs number by
        number in each number's own type (a float32 one rounds in float32, ``np.cos`` of
        the numbers can differ from numpy's array loop in the last bit)."""
        return _packed(value)

    @staticmethod
    def augmented(operation: str, target: Any, value: Any) -> Any:
        """``target op= value`` as an expression (``operation`` is ``"iadd"`` ...): a claim
        summed term by term is computed in place, as Python does it."""
        return getattr(operator, operation)(target, value)

    def _resolve_names(self, names: tuple[str, ...]) -> tuple[int, ...] | None:
        nodes = []
        for name in names:
            node = self._node_of(name)
            if node is None:
                return None
            nodes.append(node)
        of = nodes[0]
        for position, name in enumerate(names[1:], 1):
            if name not in self.namespace and of != CONSTANT:
                nodes[position] = self._local_version_before(name, of, nodes[position])
        return tuple(nodes)

    def _local_version_before(self, name: str, of: int, latest: int) -> int:
        """For a name given inside a function called several times (``z`` in a
        ``layer()`` used twice), the latest of its values that ``of`` depends on: the
        file has no single meaning for the name, and only such a value makes the claim
        a derivative at all."""
        found = sorted((v.index for v in self.versions if v.name == name and not v.top_level),
                       reverse=True)
        if len(found) < 2:
            return latest
        upstream = set(self.tracer.tape.ancestors(of))
        return next((index for index in found if index in upstream), latest)

    def _node_of(self, name: str) -> int | None:
        """The tape position of the value ``name`` holds now (Python's meaning of the
        name at this line), :data:`CONSTANT` for a constant, None if not traced."""
        tape = self.tracer.tape
        if name in self.namespace:
            value = self.namespace[name]
            if type(value) is IntBinding:
                value = value.leaf if value.leaf is not None else None
                if value is None:
                    return CONSTANT
            if type(value) is Var:
                return value.index if value.tape is tape else None
            if name in tape.constants and tape.constants[name] is value:
                return CONSTANT
            return None
        # Not a top-level name: a name given inside a function of the file.
        value = self.latest.get(name)
        return value.index if value is not None and value.tape is tape else None

    def _why_not_a_claim(self, readings: list[Reading]) -> str:
        """Why no reading names traced values; empty when no part of the name is a value
        of the file at all (``data_dir``), which is then not worth a note."""
        for reading in readings:
            if not any(self._node_of(n) is not None for n in reading.names):
                continue
            missing = next(n for n in reading.names if self._node_of(n) is None)
            reason = f"no traced value named {missing!r}"
            if missing in self.namespace:
                kind = type(self.namespace[missing]).__name__
                article = "an" if kind[:1] in "aeiou" else "a"
                reason += f" ({missing} is {article} {kind} here)"
            else:
                reason += f" ({missing} is not assigned before this line)"
            close = difflib.get_close_matches(missing, self._traced_names(), n=1)
            return reason + (f"; did you mean {close[0]}?" if close else "")
        return ""

    def _traced_names(self) -> list[str]:
        names = [n for n, v in self.namespace.items() if type(v) is Var] + list(self.latest)
        return list(dict.fromkeys(names))

    # -- after the run ------------------------------------------------------------------
    def check_overrides(self, path: Path) -> None:
        unused = [name for name in self.overrides if name not in self.used_overrides]
        if unused:
            raise unknown_override(unused[0], path, self.settable)
