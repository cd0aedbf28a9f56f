"""Checking derivatives: grade hand-derived claims, verify rules by finite differences.

Two questions, two tools:

* **Is my derivation right, and if not, which step is wrong?**
  :func:`check` grades *claims* - hand-derived derivatives such as
  ``dS/dG = S·(1 − S)`` - against the true derivative read off the trace
  (the total derivative through every path, other inputs held fixed).  Each
  claim gets a verdict (``exact``, ``close``, ``wrong``, ``shape mismatch``,
  ``no path``, ``unknown name``, ``not differentiable here``, ``not a
  number``); a wrong end-to-end claim such as ``dLoss/dw1`` is traced back
  along the chain rule to the first step the user got wrong.
  :meth:`CheckReport.marks` feeds the diagram, so that step is highlighted.
* **Are the derivative rules right?**  :func:`numeric_check` compares every
  input's gradient (and optionally every edge's local derivative) with
  central finite differences, by *replaying the tape*: each recorded
  operation is recomputed on perturbed values, so it works for any trace,
  including user primitives, without the user's function.  Points where the
  function is not differentiable (``abs`` at 0, ``relu`` at 0, ties in
  ``max``) are reported as such, not as errors.

Example:
    >>> import tracegraph as tg
    >>> from tracegraph.check import check
    >>> with tg.Tracer() as tr:
    ...     G = tr.input("G", 0.5)
    ...     S = tg.name(tg.sigmoid(G), "S")
    ...     t = tr.finish(tg.name((1.0 - S) ** 2, "Loss"))
    >>> s = t["S"].value
    >>> report = check(t, {"dS/dG": s * (1 - s), "dLoss/dS": 2 * (1 - s)})
    >>> [(r.name, r.verdict) for r in report.results]
    [('dS/dG', 'exact'), ('dLoss/dS', 'wrong')]
    >>> report.exit_code
    1
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import numbers
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from . import autodiff
from .core import REGISTRY, Primitive, Var, apply, shape_of
from .errors import NotDifferentiatedError, TracegraphError, display_path
from .numbers import format_number

if TYPE_CHECKING:
    from .trace import Trace

__all__ = [
    "Chain", "ChainPath", "ChainStep", "CheckReport", "ClaimResult", "NumericReport",
    "NumericResult", "VERDICTS", "check", "check_script", "merge_marks", "numeric_check",
    "numeric_check_primitive",
]

VERDICTS = ("exact", "close", "wrong", "shape mismatch", "no path", "unknown name",
            "not differentiable here", "not a number")
"""Every verdict a claim can get, from best to worst-understood."""

EXIT_OK, EXIT_FAILED, EXIT_NOTHING_CHECKED = 0, 1, 2

_EPS = float(np.finfo(float).eps)
_EXACT_ULPS = 4
_MIN_ROUNDED_DIGITS = 3
_MAX_ROUNDED_DIGITS = 12
_MAX_JACOBIAN_ROWS = 4096
_MAX_CHAIN_PATHS = 20
_MAX_RAW_PATHS = 2000

# Mark statuses understood by tracegraph.diagram (DiagramOptions.marks), by severity.
_STATUS_RANK = {"unchecked": 0, "correct": 1, "close": 2, "nondiff": 3, "inherited": 4, "wrong": 5}


# =========================================================================== claims


@dataclass(frozen=True)
class ChainStep:
    """One factor of the chain rule along a path: d ``of`` / d ``wrt``.

    ``claim`` is the name of the user's claim for this factor (``None`` when
    it was not claimed) and ``verdict`` its verdict (``"not claimed"``
    otherwise); ``expected`` is the true value when both ends are scalars
    (for chains of more than 8 factors, only for claimed steps);
    ``formula`` the local derivative's formula when the two nodes are joined
    by edges of the graph.  ``factor`` is False for a partial result that
    spans several factors (``dLoss/dG`` on the path w1 → A → G → S → Loss).

    Example:
        >>> step = ChainStep("S", "G", "dS_dG", "wrong", 0.1966, "S·(1 − S)", 19)
        >>> step.claimed, step.factor
        (True, True)
    """

    of: str
    wrt: str
    claim: str | None
    verdict: str
    expected: float | None
    formula: str | None
    lineno: int | None = None
    factor: bool = True

    @property
    def claimed(self) -> bool:
        """True when the user claimed this factor."""
        return self.claim is not None


@dataclass(frozen=True)
class ChainPath:
    """One chain-rule path from ``wrt`` to ``of``, through named (or claimed) nodes.

    ``nodes`` runs from ``wrt`` to ``of``; ``steps`` are the factors and the
    user's partial results on it, in derivation order (from the output back).

    Example:
        >>> ChainPath(("w1", "A", "Loss"), ()).nodes[-1]
        'Loss'
    """

    nodes: tuple[str, ...]
    steps: tuple[ChainStep, ...]


@dataclass(frozen=True)
class Chain:
    """Why an end-to-end claim is wrong: its chain-rule paths and the first broken step.

    Example:
        >>> Chain((), None, False, "every factor is right").explanation
        'every factor is right'
    """

    paths: tuple[ChainPath, ...]
    first_broken: ChainStep | None
    truncated: bool
    explanation: str


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on one claimed derivative d ``of`` / d ``wrt``.

    Attributes:
        name: the claim as written (``"dS_dG"``, ``"dS/dG"``).
        of, wrt: the node ids it was resolved to (``None`` when it could not be).
        claimed: the claimed value (float or ndarray; the raw object if not a number).
        expected: the true derivative (``None`` when it could not be computed).
        verdict: one of :data:`VERDICTS`.
        holds: whether the claim counts as right (``exact``, ``close``, a zero
            claim with ``no path``, ``not differentiable here``).
        max_abs_diff, max_rel_diff: largest differences over the elements.
        worst_index: the element with the largest difference (arrays only).
        lineno: the claim's line when it comes from a file.
        note: one sentence explaining the verdict.
        form: how the true derivative was read: ``"gradient"`` (scalar ``of``),
            ``"elementwise"`` (same shapes, diagonal Jacobian) or ``"jacobian"``.
        formula: the local-derivative formula when ``wrt`` feeds ``of`` directly.
        chain: for a wrong claim spanning several steps, the chain analysis.
        order: the claim's place in derivation order (a sort key; see
            :attr:`CheckReport.first_wrong`).

    Example:
        >>> r = ClaimResult("dS_dG", "S", "G", 1.03, 0.1966, "wrong", False)
        >>> r.status, r.short_note()
        ('wrong', 'dS_dG = 1.03, true 0.1966')
    """

    name: str
    of: str | None
    wrt: str | None
    claimed: Any
    expected: Any
    verdict: str
    holds: bool
    max_abs_diff: float | None = None
    max_rel_diff: float | None = None
    worst_index: tuple[int, ...] | None = None
    lineno: int | None = None
    note: str = ""
    form: str = ""
    formula: str | None = None
    chain: Chain | None = None
    order: tuple[int, int] = field(default=(0, 0), repr=False, compare=False)

    @property
    def status(self) -> str:
        """The diagram mark status: ``correct``, ``close``, ``wrong`` or ``nondiff``."""
        if self.verdict == "not differentiable here":
            return "nondiff"
        if not self.holds:
            return "wrong"
        return "close" if self.verdict == "close" else "correct"

    @property
    def where(self) -> str:
        """``dS_dG (line 19)`` or just ``dS_dG``."""
        return f"{self.name} (line {self.lineno})" if self.lineno is not None else self.name

    def claimed_text(self) -> str:
        """The claimed value, short."""
        return _value_text(self.claimed)

    def expected_text(self) -> str:
        """The true value, short."""
        if self.expected is None:
            return "—"
        return _value_text(self.expected)

    def versus(self) -> str:
        """``claimed 0.9044, true dS/dG = S·(1 − S) = 0.2445`` (for arrays, at the worst
        element), or the note when there is no true value to show."""
        if self.expected is None:
            return self.note
        claimed, expected, at = self.claimed, self.expected, ""
        if self.worst_index is not None and np.ndim(expected):
            claimed = np.broadcast_to(claimed, np.shape(expected))[self.worst_index]
            expected = expected[self.worst_index]
            at = f"[{', '.join(map(str, self.worst_index))}]"
        true = f"d{self.of}/d{self.wrt}{at}"
        if self.formula:
            true += f" = {self.formula}"
        return f"claimed {_value_text(_claim_value(claimed))}, true {true} = " + _value_text(
            _claim_value(expected))

    def short_note(self) -> str:
        """One line for a diagram mark (which shows the status itself):
        ``dS_dG = 1.03, true 0.1966``."""
        if self.verdict == "exact":
            return f"{self.name} = {self.expected_text()}"
        if self.verdict == "close":
            return f"{self.name} = {self.claimed_text()} ≈ {self.expected_text()}"
        if self.verdict in ("wrong", "no path") and self.expected is not None:
            return f"{self.name} = {self.claimed_text()}, true {self.expected_text()}"
        return f"{self.name}: {self.verdict}"


# --------------------------------------------------------------------------- names


def _claim_pairs(key: Any) -> list[tuple[str, str]]:
    """Every (of, wrt) reading of a claim key: ``"dS/dG"``, ``"dS_dG"`` or ``("S", "G")``.

    Underscores make ``d<of>_d<wrt>`` ambiguous (``dx_dy_dz``), so every
    split is returned; the caller keeps those naming real nodes.

    Example:
        >>> _claim_pairs("dx_dy_dz")
        [('x', 'y_dz'), ('x_dy', 'z')]
        >>> _claim_pairs("∂S/∂G"), _claim_pairs(("S", "G"))
        ([('S', 'G')], [('S', 'G')])
    """
    if isinstance(key, tuple):
        if len(key) != 2 or not all(isinstance(part, str) for part in key):
            raise TypeError(f"a claim key tuple must be (of, wrt) node names, got {key!r}")
        return [key]
    if not isinstance(key, str):
        raise TypeError(f"a claim key must be 'dY/dX', 'dY_dX' or ('Y', 'X'), got {key!r}")
    text = key.strip()
    pairs = []
    for match in re.finditer("/", text):
        top, bottom = text[: match.start()].strip(), text[match.end():].strip()
        if len(top) > 1 and len(bottom) > 1 and top[0] in "d∂" and bottom[0] in "d∂":
            pairs.append((top[1:], bottom[1:]))
    if text.startswith("d"):
        for match in re.finditer("_d", text):
            of, wrt = text[1: match.start()], text[match.end():]
            if of and wrt:
                pairs.append((of, wrt))
    return pairs


def _resolve(key: Any, graph: nx.MultiDiGraph) -> tuple[tuple[str, str] | None, str]:
    """The (of, wrt) node ids a claim key names, or ``None`` and why not."""
    pairs = _claim_pairs(key)
    if not pairs:
        return None, (f"{key!r} does not name a derivative: write dY_dX, 'dY/dX' or "
                      "('Y', 'X') with Y and X node names")
    found = list(dict.fromkeys(p for p in pairs if p[0] in graph and p[1] in graph))
    if len(found) == 1:
        return found[0], ""
    if len(found) > 1:
        readings = " or ".join(f"d{of}/d{wrt}" for of, wrt in found)
        return None, (f"{key!r} is ambiguous: it reads as {readings}; "
                      f"pass the pair instead, e.g. {found[0]!r}")
    return None, _unknown_names(pairs, graph)


def _unknown_names(pairs: list[tuple[str, str]], graph: nx.MultiDiGraph) -> str:
    # Prefer the reading where one side exists: it says which name is misspelt.
    partial = [p for p in pairs if p[0] in graph or p[1] in graph]
    of, wrt = (partial or pairs)[0]
    named = sorted(str(n) for n, data in graph.nodes(data=True) if data["name"] is not None)
    problems = []
    for name in (of, wrt):
        if name in graph:
            continue
        close = difflib.get_close_matches(name, named, n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        problems.append(f"no node named {name!r}{hint}")
    listing = ", ".join(named[:15]) + (", ..." if len(named) > 15 else "")
    return "; ".join(problems) + (f". Named nodes: {listing}" if named else "")


# --------------------------------------------------------------------------- values


def _claim_value(value: Any) -> Any:
    """A claim as a float or float ndarray, or ``None`` when it is not a number."""
    if type(value) is Var:
        value = value.value
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return None
    if array.dtype.kind not in "fiu":
        return None
    array = array.astype(float)
    return float(array) if array.ndim == 0 else array


def _value_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        if value.size <= 4:
            return "[" + ", ".join(format_number(v) for v in value.ravel()) + "]"
        return f"array{value.shape}"
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _significant_digits(value: float) -> int:
    """How many significant digits the shortest repr of ``value`` has (``0.2445`` → 4)."""
    mantissa = repr(abs(value)).split("e")[0].replace(".", "")
    return len(mantissa.strip("0"))


def _agrees_to_written_digits(claimed: float, expected: float) -> bool:
    """True when a short decimal claim (``0.2445``) is the true value rounded or truncated.

    Hand-computed numbers are written with a few digits; a claim with at
    least three significant digits that is within one unit of its last digit
    is right to the precision it was written with.

    Example:
        >>> _agrees_to_written_digits(0.2445, 0.244458), _agrees_to_written_digits(0.2, 0.24)
        (True, False)
    """
    if not (math.isfinite(claimed) and math.isfinite(expected)) or claimed == 0.0:
        return False
    digits = _significant_digits(claimed)
    if not _MIN_ROUNDED_DIGITS <= digits <= _MAX_ROUNDED_DIGITS:
        return False
    unit = 10.0 ** (math.floor(math.log10(abs(claimed))) - digits + 1)
    return abs(claimed - expected) <= unit * (1 + 1e-9)


@dataclass(frozen=True)
class _Comparison:
    verdict: str
    max_abs_diff: float
    max_rel_diff: float
    worst_index: tuple[int, ...] | None
    rounded_digits: int | None


def _compare(claimed: Any, expected: Any, rtol: float, atol: float,
             accept_rounded: bool) -> _Comparison:
    """Grade ``claimed`` (already broadcast-compatible) against ``expected``."""
    e = np.asarray(expected, dtype=float)
    c = np.broadcast_to(np.asarray(claimed, dtype=float), e.shape)
    both_nan = np.isnan(c) & np.isnan(e)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(both_nan | (c == e), 0.0, np.abs(c - e))
        diff = np.where(np.isnan(diff), np.inf, diff)
        magnitude = np.abs(e)
        rel = np.where(diff == 0.0, 0.0,
                       np.divide(diff, magnitude, out=np.full(e.shape, np.inf),
                                 where=magnitude > 0))
        exact = np.asarray(diff <= _EXACT_ULPS * _EPS * np.maximum(np.abs(c), magnitude))
        tolerance = atol + rtol * magnitude
        close = np.asarray(exact | (diff <= tolerance))
        badness = diff / np.where(tolerance > 0, tolerance, 1.0)
    rounded_digits = None
    if accept_rounded and not close.all():
        for index in np.ndindex(*e.shape):
            if not close[index] and not _agrees_to_written_digits(float(c[index]),
                                                                  float(e[index])):
                break
        else:
            close = np.ones(e.shape, dtype=bool)
            rounded_digits = min(_significant_digits(float(v)) for v in np.unique(c))
    verdict = "exact" if exact.all() else "close" if close.all() else "wrong"
    worst = None
    if e.ndim:
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(badness)), e.shape))
    return _Comparison(verdict, float(diff.max(initial=0.0)), float(rel.max(initial=0.0)),
                       worst, rounded_digits)


# --------------------------------------------------------------------------- true derivatives


class _ShapeProblem(Exception):
    """The claim's shape cannot be a derivative of ``of`` with respect to ``wrt``."""


class _Derivatives:
    """True derivatives between nodes of one trace, by reverse passes over its tape."""

    def __init__(self, trace: Trace) -> None:
        self.nodes = trace.tape.equations
        self._scalar_adjoints: dict[int, list[Any]] = {}

    def adjoint(self, of: int, wrt: int, seed: Any = None) -> Any:
        """d(seed·of)/d wrt, shaped like ``wrt`` (zeros when there is no path)."""
        if wrt > of:
            adjoint = None
        elif seed is None:
            if of not in self._scalar_adjoints:
                self._scalar_adjoints[of] = autodiff.backward(self.nodes, of, 1.0)
            adjoint = self._scalar_adjoints[of][wrt]
        else:
            adjoint = autodiff.backward(self.nodes, of, seed)[wrt]
        wrt_value = self.nodes[wrt].value
        if adjoint is None:
            return 0.0 if not shape_of(wrt_value) else np.zeros(shape_of(wrt_value))
        return float(np.asarray(adjoint).reshape(())) if not shape_of(wrt_value) else \
            np.asarray(adjoint, dtype=float)

    def true_value(self, of: int, wrt: int, claim_shape: tuple[int, ...],
                   names: tuple[str, str]) -> tuple[Any, str]:
        """The derivative the claim should equal, and its form; raises :class:`_ShapeProblem`."""
        of_shape = shape_of(self.nodes[of].value)
        wrt_shape = shape_of(self.nodes[wrt].value)
        of_name, wrt_name = names
        if not of_shape:
            if claim_shape not in ((), wrt_shape):
                raise _ShapeProblem(
                    f"d{of_name}/d{wrt_name} has the shape of {wrt_name} "
                    f"({_shape_words(wrt_shape)}), but the claim has shape {claim_shape}")
            return self.adjoint(of, wrt), "gradient"
        jacobian_shape = of_shape + wrt_shape
        if claim_shape == jacobian_shape:
            return self.jacobian(of, wrt), "jacobian"
        if of_shape == wrt_shape and claim_shape in ((), wrt_shape):
            return self.diagonal(of, wrt, names), "elementwise"
        if claim_shape == ():
            return self.jacobian(of, wrt), "jacobian"
        expected = (f"shape {wrt_shape} (elementwise) or {jacobian_shape} (the full Jacobian)"
                    if of_shape == wrt_shape else f"the Jacobian's shape {jacobian_shape}")
        raise _ShapeProblem(f"d{of_name}/d{wrt_name} should have {expected}, but the claim "
                            f"has shape {claim_shape}")

    def jacobian(self, of: int, wrt: int) -> np.ndarray:
        """The full Jacobian d of / d wrt, shape ``of.shape + wrt.shape``."""
        of_shape = shape_of(self.nodes[of].value)
        wrt_shape = shape_of(self.nodes[wrt].value)
        rows = math.prod(of_shape)
        if rows > _MAX_JACOBIAN_ROWS:
            raise _ShapeProblem(
                f"the Jacobian has {rows:,} rows, too many to compute; claim an elementwise "
                "derivative or the gradient of a scalar instead")
        jacobian = np.empty(of_shape + wrt_shape)
        for row in np.ndindex(*of_shape):
            seed = np.zeros(of_shape)
            seed[row] = 1.0
            jacobian[row] = self.adjoint(of, wrt, seed)
        return jacobian

    def diagonal(self, of: int, wrt: int, names: tuple[str, str]) -> np.ndarray:
        """dof[i]/dwrt[i] for an elementwise relation (diagonal Jacobian).

        One pass with a seed of ones gives the column sums; a second pass with
        a random seed v tells a diagonal Jacobian (J^T v = (J^T 1)·v) from a
        full one.
        """
        shape = shape_of(self.nodes[of].value)
        sums = self.adjoint(of, wrt, np.ones(shape))
        probe = np.random.default_rng(0).uniform(0.5, 1.5, size=shape)
        mixed = self.adjoint(of, wrt, probe)
        if not np.allclose(mixed, sums * probe, rtol=1e-9, atol=1e-12 * (1 + np.abs(sums).max())):
            raise _ShapeProblem(
                f"{names[0]} is not an elementwise function of {names[1]} (an element depends "
                f"on several elements of {names[1]}); claim the full Jacobian, shape "
                f"{shape + shape}")
        return sums


def _shape_words(shape: tuple[int, ...]) -> str:
    return "a number" if not shape else f"shape {shape}"


# --------------------------------------------------------------------------- grading


class _Grader:
    """Grades claims against one trace; shares passes and lookups between them."""

    def __init__(self, trace: Trace, rtol: float, atol: float, accept_rounded: bool) -> None:
        self.trace = trace
        self.graph = trace.graph
        self.nodes = trace.tape.equations
        self.derivatives = _Derivatives(trace)
        self.rtol, self.atol, self.accept_rounded = rtol, atol, accept_rounded
        self.ids = {data["index"]: node for node, data in self.graph.nodes(data=True)
                    if data["index"] is not None}

    def grade(self, name: str, key: Any, value: Any, lineno: int | None) -> ClaimResult:
        pair, problem = _resolve(key, self.graph)
        claimed = _claim_value(value)
        raw = value.value if type(value) is Var else value
        if pair is None:
            return ClaimResult(name, None, None, raw if claimed is None else claimed, None,
                               "unknown name", False, lineno=lineno, note=problem)
        of, wrt = pair
        indices = (self.graph.nodes[of]["index"], self.graph.nodes[wrt]["index"])
        base = dict(name=name, of=of, wrt=wrt, lineno=lineno, formula=self._formula(of, wrt))
        for node, index in zip(pair, indices):
            if index is None:
                return ClaimResult(**base, claimed=raw, expected=None, verdict="unknown name",
                                   holds=False, note=f"{node!r} is a constant in this trace, so "
                                   "it has no derivative; make it an input to check this claim")
        of_index, wrt_index = indices
        order = (-wrt_index, of_index)
        if claimed is None:
            return ClaimResult(**base, claimed=raw, expected=None, verdict="not a number",
                               holds=False, order=order,
                               note=f"the claim is a {type(raw).__name__}, not a number or array")
        if not self.trace.influences(of, wrt):
            return self._no_path(base, claimed, order)
        try:
            expected, form = self.derivatives.true_value(of_index, wrt_index, shape_of(claimed),
                                                         pair)
        except _ShapeProblem as problem:
            return ClaimResult(**base, claimed=claimed, expected=None, verdict="shape mismatch",
                               holds=False, order=order, note=str(problem))
        comparison = _compare(claimed, expected, self.rtol, self.atol, self.accept_rounded)
        verdict, note = comparison.verdict, self._note(comparison, form)
        if verdict == "wrong":
            kink = self._kink_between(wrt_index, of_index)
            if kink is not None:
                verdict = "not differentiable here"
                note = (f"{kink!r} sits exactly at a point where it is not differentiable, so "
                        f"d{of}/d{wrt} is not defined here (tracegraph's convention gives "
                        f"{_value_text(expected)})")
        return ClaimResult(
            **base, claimed=claimed, expected=expected, verdict=verdict,
            holds=verdict != "wrong", max_abs_diff=comparison.max_abs_diff,
            max_rel_diff=comparison.max_rel_diff, worst_index=comparison.worst_index,
            note=note, form=form, order=order)

    def _no_path(self, base: dict, claimed: Any, order: tuple[int, int]) -> ClaimResult:
        zero = not np.any(np.asarray(claimed))
        of, wrt = base["of"], base["wrt"]
        note = f"{wrt} does not influence {of} (no path from {wrt} to {of}), so d{of}/d{wrt} = 0"
        if not zero:
            note += f", not {_value_text(claimed)}"
        return ClaimResult(**base, claimed=claimed, expected=0.0, verdict="no path", holds=zero,
                           max_abs_diff=float(np.max(np.abs(claimed))), order=order, note=note)

    def _note(self, comparison: _Comparison, form: str) -> str:
        parts = []
        if comparison.verdict == "close" and comparison.rounded_digits is not None:
            parts.append(f"agrees to the {comparison.rounded_digits} significant digits written")
        elif comparison.verdict != "exact":
            parts.append(f"abs diff {format_number(comparison.max_abs_diff, 3)}, "
                         f"rel diff {format_number(comparison.max_rel_diff, 3)}")
        if comparison.worst_index is not None and comparison.verdict == "wrong":
            parts.append(f"worst element {list(comparison.worst_index)}")
        if form == "elementwise":
            parts.append("elementwise")
        return "; ".join(parts)

    def _formula(self, of: str, wrt: str) -> str | None:
        edges = self.graph.get_edge_data(wrt, of)
        if not edges:
            return None
        return " + ".join(data["formula"] for _, data in sorted(edges.items()))

    def _kink_between(self, wrt: int, of: int) -> str | None:
        """A node on a path wrt → of evaluated exactly at a non-differentiable point.

        ``wrt`` itself is left out: its kink concerns its own inputs, which are
        not on the path.
        """
        for index in self.trace.tape.between(wrt, of)[1:]:
            node = self.nodes[index]
            prim = node.primitive
            if prim is None or prim.kink is None:
                continue
            if prim.kink(*autodiff.input_values(node), **(node.params or {})) <= 0.0:
                return self.ids.get(index, node.label)
        return None


# --------------------------------------------------------------------------- chain analysis


class _ChainAnalyst:
    """Explains a wrong multi-step claim through the user's other claims."""

    def __init__(self, grader: _Grader, results: Sequence[ClaimResult]) -> None:
        self.grader = grader
        self.graph = grader.graph
        self.by_pair = {(r.of, r.wrt): r for r in results if r.of is not None}
        self.claimed_of: dict[str, list[str]] = {}
        for of, wrt in self.by_pair:
            self.claimed_of.setdefault(wrt, []).append(of)
        claimed_nodes = {n for pair in self.by_pair for n in pair}
        self.stations = {node for node, data in self.graph.nodes(data=True)
                         if data["name"] is not None or node in claimed_nodes}

    def analyse(self, result: ClaimResult) -> Chain | None:
        paths, truncated = self._station_paths(result.wrt, result.of)
        if not paths or all(len(path) == 2 for path in paths):
            return None
        chain_paths = tuple(ChainPath(path, tuple(self._steps(path))) for path in paths)
        broken = [step for path in chain_paths for step in path.steps
                  if step.claimed and not self.by_pair[(step.of, step.wrt)].holds]
        first = min(broken, key=self._order) if broken else None
        return Chain(chain_paths, first, truncated, self._explain(result, chain_paths, first))

    def _station_paths(self, source: str, target: str) -> tuple[list[tuple[str, ...]], bool]:
        found: dict[tuple[str, ...], None] = {}
        truncated = False
        # Only nodes between the two can be on a path; without them the search never
        # wanders into branches that cannot reach the target.
        between = (nx.descendants(self.graph, source) & nx.ancestors(self.graph, target)) | {
            source, target}
        paths = nx.all_simple_paths(self.graph.subgraph(between), source, target)
        for count, path in enumerate(paths):
            if count >= _MAX_RAW_PATHS or len(found) >= _MAX_CHAIN_PATHS:
                truncated = True
                break
            found[tuple(n for n in path if n in self.stations or n in (source, target))] = None
        return list(found), truncated

    def _steps(self, path: tuple[str, ...]) -> Iterator[ChainStep]:
        """The factors of ``path`` and the user's partial results on it, output first."""
        last = len(path) - 1
        position = {node: i for i, node in enumerate(path)}
        # Values of unclaimed factors are shown only for short chains; each costs a pass.
        with_values = last <= _LONG_CHAIN
        for low in range(last - 1, -1, -1):
            yield self._step(path[low + 1], path[low], True, with_values)
            partials = sorted((position[of], of) for of in self.claimed_of.get(path[low], ())
                              if position.get(of, -1) > low + 1 and (low, position[of]) != (0, last))
            for _, of in partials:
                yield self._step(of, path[low], False, with_values)

    def _step(self, of: str, wrt: str, factor: bool, with_values: bool) -> ChainStep:
        claim = self.by_pair.get((of, wrt))
        if claim is not None and claim.expected is not None and not np.ndim(claim.expected):
            expected = float(claim.expected)
        else:
            expected = self._scalar_derivative(of, wrt) if with_values else None
        return ChainStep(of, wrt, claim.name if claim else None,
                         claim.verdict if claim else "not claimed", expected,
                         self.grader._formula(of, wrt), claim.lineno if claim else None, factor)

    def _scalar_derivative(self, of: str, wrt: str) -> float | None:
        of_index = self.graph.nodes[of]["index"]
        wrt_index = self.graph.nodes[wrt]["index"]
        nodes = self.grader.nodes
        if shape_of(nodes[of_index].value) or shape_of(nodes[wrt_index].value):
            return None
        edges = self.graph.get_edge_data(wrt, of)
        if edges and all(data["local"] is not None for data in edges.values()):
            # Adjacent nodes: the graph already holds the local derivatives (one per edge).
            return float(sum(data["local"] for data in edges.values()))
        return self.grader.derivatives.adjoint(of_index, wrt_index)

    def _order(self, step: ChainStep) -> tuple[int, int]:
        return self.by_pair[(step.of, step.wrt)].order

    def _explain(self, result: ClaimResult, paths: tuple[ChainPath, ...],
                 first: ChainStep | None) -> str:
        target = f"d{result.of}/d{result.wrt}"
        if first is not None:
            return self._explain_break(target, first)
        factors = [step for path in paths for step in path.steps if step.factor]
        missing = list(dict.fromkeys(f"d{s.of}/d{s.wrt}" for s in factors if not s.claimed))
        if missing:
            listed = ", ".join(missing[:_LONG_CHAIN]) + (
                f" and {len(missing) - _LONG_CHAIN:,} more" if len(missing) > _LONG_CHAIN else "")
            return (f"no claimed step along the chain is wrong, but {listed} "
                    f"{'is' if len(missing) == 1 else 'are'} not claimed: claim "
                    f"{'it' if len(missing) == 1 else 'them'} to find the wrong step")
        if len(paths) > 1:
            return (f"every factor is right, and {target} is the sum over {len(paths)} paths "
                    "(a node feeds several others): a path is missing or the sum is wrong")
        return f"every factor is right, so the product of the factors of {target} is wrong"

    def _explain_break(self, target: str, first: ChainStep) -> str:
        claim = self.by_pair[(first.of, first.wrt)]
        if first.factor:
            return (f"{target} inherits the error of {claim.where}, the first wrong step "
                    "on this chain")
        text = (f"the first wrong step on this chain is {claim.where}: claimed "
                f"{claim.claimed_text()}, true d{first.of}/d{first.wrt} = "
                f"{claim.expected_text()}")
        inner = self._last_right_partial(first)
        if inner is not None:
            text += (f"; d{first.of}/d{inner} is right, so the error is in the step from "
                     f"{inner} to {first.wrt}")
        return text

    def _last_right_partial(self, step: ChainStep) -> str | None:
        """The node nearest ``step.wrt`` whose partial result d of/d node holds."""
        best, best_index = None, -1
        for (of, wrt), claim in self.by_pair.items():
            if of == step.of and wrt != step.wrt and claim.holds and claim.verdict != "no path":
                index = -claim.order[0]
                if index > best_index and self.grader.trace.influences(wrt, step.wrt):
                    best, best_index = wrt, index
        return best


# --------------------------------------------------------------------------- report


class CheckReport:
    """The graded claims of one trace (or expression file).

    Attributes:
        results: one :class:`ClaimResult` per claim, in the order given (file order).
        source: the file the claims came from, if any.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: tg.name(x * x, "y"), x=3.0)
        >>> report = check(t, {"dy_dx": 6.0})
        >>> report.ok, report.exit_code, report.results[0].verdict
        (True, 0, 'exact')
    """

    def __init__(self, results: Sequence[ClaimResult], graph: nx.MultiDiGraph,
                 source: str | None = None) -> None:
        self.results = tuple(results)
        self.source = source
        self._graph = graph

    def __repr__(self) -> str:
        return f"<CheckReport {self.summary()}>"

    @property
    def failed(self) -> tuple[ClaimResult, ...]:
        """The claims that do not hold (wrong, unresolved, wrong shape ...)."""
        return tuple(r for r in self.results if not r.holds)

    @property
    def ok(self) -> bool:
        """True when there is at least one claim and every claim holds."""
        return bool(self.results) and not self.failed

    @property
    def exit_code(self) -> int:
        """0 when every claim holds, 1 when any does not, 2 when there was nothing to check."""
        if not self.results:
            return EXIT_NOTHING_CHECKED
        return EXIT_OK if self.ok else EXIT_FAILED

    @property
    def first_wrong(self) -> ClaimResult | None:
        """The root of the errors: the first wrong claim in derivation order.

        Derivation order runs from the output back to the inputs, the way the
        chain rule is applied (dLoss/dS, then dS/dG, then dLoss/dG ...), so a
        claim comes after every claim it is built on and the first wrong one
        is an error of its own, not one inherited from an earlier step.
        """
        wrong = [r for r in self.failed if r.of is not None and r.verdict != "not a number"]
        return min(wrong, key=lambda r: r.order) if wrong else None

    def counts(self) -> dict[str, int]:
        """How many claims got each verdict (only verdicts that occur)."""
        counts = {verdict: 0 for verdict in VERDICTS}
        for result in self.results:
            counts[result.verdict] += 1
        return {verdict: n for verdict, n in counts.items() if n}

    def summary(self) -> str:
        """One line, e.g. ``14 claims: 10 exact, 4 wrong; first wrong step: dS_dG (line 19):
        claimed 0.9044, true dS/dG = S·(1 − S) = 0.2445``."""
        if not self.results:
            return ("no claims to check: name a variable dY_dX (dS_dG = S * (1 - S)) "
                    "or pass {'dS/dG': value}")
        counts = ", ".join(f"{n} {verdict}" for verdict, n in self.counts().items())
        plural = "s" if len(self.results) != 1 else ""
        text = f"{len(self.results)} claim{plural}: {counts}"
        first = self.first_wrong
        if first is not None:
            text += f"; first wrong step: {first.where}: {first.versus()}"
        elif self.failed:
            text += f"; {len(self.failed)} could not be checked"
        return text

    def rows(self) -> list[dict[str, str]]:
        """The table of claims for the command line: one dict per claim.

        Keys: ``line``, ``claim``, ``derivative``, ``verdict``, ``claimed``,
        ``expected``, ``note``.

        Example:
            >>> import tracegraph as tg
            >>> t = tg.trace(lambda x: tg.name(x * x, "y"), x=3.0)
            >>> check(t, {"dy_dx": 5.0}).rows()[0]["verdict"]
            'wrong'
        """
        rows = []
        first = self.first_wrong
        for result in self.results:
            note = result.note
            if result is first:
                note = "first wrong step" + (f"; {note}" if note else "")
            elif result.chain is not None and result.chain.first_broken is not None:
                note = f"inherits the error of {result.chain.first_broken.claim}"
            derivative = f"d{result.of}/d{result.wrt}" if result.of is not None else ""
            if result.formula and result.of is not None:
                derivative += f" = {result.formula}"
            rows.append({
                "line": "" if result.lineno is None else str(result.lineno),
                "claim": result.name,
                "derivative": derivative,
                "verdict": result.verdict,
                "claimed": result.claimed_text(),
                "expected": result.expected_text(),
                "note": note,
            })
        return rows

    def inheriting(self, root: ClaimResult) -> tuple[ClaimResult, ...]:
        """The wrong claims whose first broken step is ``root`` (they inherit its error)."""
        return tuple(r for r in self.failed if r.chain is not None and r.chain.first_broken
                     is not None and (r.chain.first_broken.of, r.chain.first_broken.wrt)
                     == (root.of, root.wrt))

    def explain(self, *, inherited: bool = True) -> str:
        """The failing claims in detail; for end-to-end ones, the factors of the chain
        rule with their verdicts and the first wrong step.

        With ``inherited=False`` a claim that only inherits another claim's
        error is not repeated: it is listed under the claim it is built on.
        """
        lines = []
        first = self.first_wrong
        for result in self.failed:
            inherits = result.chain is not None and result.chain.first_broken is not None
            if inherits and not inherited:
                continue
            lines.append(f"{result.where}: {result.verdict}"
                         + (", the first wrong step" if result is first else ""))
            if result.verdict in ("wrong", "no path"):
                lines.extend(_claimed_vs_true(result))
            elif result.note:
                lines.append(f"  {result.note}")
            heirs = self.inheriting(result)
            if heirs:
                lines.append("  built on it, so also wrong: " + ", ".join(h.name for h in heirs))
            if result.chain is not None:
                lines.extend(_chain_lines(result))
        return "\n".join(lines)

    def marks(self) -> dict[Any, dict[str, str]]:
        """Diagram marks (``DiagramOptions(marks=...)``) for every graded claim.

        A claim about two adjacent nodes marks the edge(s) between them; an
        end-to-end claim (``dLoss/dw1``) marks the node it is taken with
        respect to.  Statuses: ``correct``, ``close``, ``wrong``, ``nondiff``,
        and ``inherited`` for a wrong claim whose only error is an earlier wrong
        step it is built on; the first wrong step's note starts with ``first
        wrong step``.  Edges on
        the chain of a wrong claim that nobody claimed are ``unchecked``.

        Example:
            >>> import tracegraph as tg
            >>> t = tg.trace(lambda x: tg.name(x * x, "y"), x=3.0)
            >>> check(t, {"dy_dx": 5.0}).marks()[("x", "y", 0)]["status"]
            'wrong'
        """
        marks: dict[Any, dict[str, str]] = {}
        first = self.first_wrong
        for result in self.results:
            if result.of is None:
                continue
            note = result.short_note()
            status = result.status
            if result is first:
                note = "first wrong step: " + note
            elif result.chain is not None and result.chain.first_broken is not None:
                note += f" (inherits {result.chain.first_broken.claim})"
                status = "inherited"
            for target in self._targets(result.of, result.wrt):
                _put_mark(marks, target, status, note)
        for result in self.failed:
            if result.chain is not None:
                self._mark_unclaimed(marks, result.chain)
        return marks

    def _targets(self, of: str, wrt: str) -> list[Any]:
        edges = self._graph.get_edge_data(wrt, of)
        if edges:
            return [(wrt, of, key) for key in sorted(edges)]
        return [wrt]

    def _mark_unclaimed(self, marks: dict[Any, dict[str, str]], chain: Chain) -> None:
        for path in chain.paths:
            for step in path.steps:
                if step.claimed:
                    continue
                for target in self._targets(step.of, step.wrt):
                    if isinstance(target, tuple) and target not in marks:
                        _put_mark(marks, target, "unchecked", f"d{step.of}/d{step.wrt} not claimed")

    def table(self) -> str:
        """The claims as a plain-text table (the columns of :meth:`rows`)."""
        return _format_table(self.rows(), _TABLE_COLUMNS)

    def __str__(self) -> str:
        title = f"checking {self.source}" if self.source else "checking claims"
        parts = [title, self.table(), self.summary()]
        details = self.explain()
        if details:
            parts.append(details)
        return "\n".join(parts)


_TABLE_COLUMNS = (("line", "line"), ("claim", "claim"), ("derivative", "derivative"),
                  ("verdict", "verdict"),
                  ("claimed", "claimed"), ("expected", "true value"), ("note", "note"))


def _claimed_vs_true(result: ClaimResult) -> list[str]:
    true = _full_text(result.expected)
    if result.formula and "\n" not in true:
        true = f"d{result.of}/d{result.wrt} = {result.formula} = {true}"
    detail = f" ({result.note})" if result.note else ""
    if "\n" in true or "\n" in _full_text(result.claimed):
        return [f"  claimed {_full_text(result.claimed)}", f"  true    {true}{detail}"]
    return [f"  claimed {_full_text(result.claimed)}, true {true}{detail}"]


def _chain_lines(result: ClaimResult) -> list[str]:
    chain = result.chain
    lines = []
    for path in chain.paths:
        factors = [step for step in path.steps if step.factor]
        partials = [step for step in path.steps if not step.factor and step.claimed]
        lines.append(f"  d{result.of}/d{result.wrt} = {_product_text(factors)}   "
                     f"(path {_abbreviated(path.nodes[::-1], ' ← ')})")
        shown = factors if len(factors) <= _LONG_CHAIN else [s for s in factors if s.claimed]
        listing = [f"d{s.of}/d{s.wrt} {s.verdict}" for s in shown]
        if len(shown) < len(factors):
            listing.append(f"{len(factors) - len(shown):,} not claimed")
        lines.append("    factors: " + ", ".join(listing))
        if partials:
            lines.append("    partial results: " + ", ".join(
                f"d{s.of}/d{s.wrt} {s.verdict}" for s in partials))
    if chain.truncated:
        lines.append(f"    (only the first {len(chain.paths)} paths are shown)")
    lines.append(f"  {chain.explanation}")
    return lines


_LONG_CHAIN = 8


def _product_text(factors: Sequence[ChainStep]) -> str:
    if len(factors) <= _LONG_CHAIN:
        return " · ".join(f"d{s.of}/d{s.wrt}" for s in factors)
    return f"the product of {len(factors):,} factors"


def _abbreviated(items: Sequence[str], separator: str) -> str:
    """Items joined, with the middle of a long list elided."""
    if len(items) <= _LONG_CHAIN:
        return separator.join(items)
    return separator.join([*items[:3], "…", *items[-2:]])


def _full_text(value: Any) -> str:
    if isinstance(value, np.ndarray) and value.size > 4:
        with np.printoptions(precision=4, threshold=40, linewidth=88):
            return np.array2string(value, prefix="          ")
    return _value_text(value)


def _format_table(rows: list[dict[str, str]], columns: Sequence[tuple[str, str]]) -> str:
    """Plain aligned text columns, dropping columns that are empty in every row."""
    used = [(key, title) for key, title in columns if any(row[key] for row in rows)]
    widths = [max([len(title)] + [len(row[key]) for row in rows]) for key, title in used]
    lines = ["  ".join(title.ljust(w) for (_, title), w in zip(used, widths)).rstrip()]
    for row in rows:
        lines.append("  ".join(row[key].ljust(w) for (key, _), w in zip(used, widths)).rstrip())
    return "\n".join(lines)


def _put_mark(marks: dict[Any, dict[str, str]], target: Any, status: str, note: str) -> None:
    current = marks.get(target)
    if current is None:
        marks[target] = {"status": status, "note": note}
        return
    worse = max(current["status"], status, key=_STATUS_RANK.__getitem__)
    notes = current["note"] if note in current["note"].split("; ") else (
        f"{current['note']}; {note}")
    marks[target] = {"status": worse, "note": notes}


def merge_marks(*mark_sets: Mapping[Any, Mapping[str, str]]) -> dict[Any, dict[str, str]]:
    """Combine diagram marks (e.g. a claims report and a numeric report): the worse
    status wins and the notes are joined.

    Example:
        >>> merge_marks({"G": {"status": "correct", "note": "a"}},
        ...             {"G": {"status": "wrong", "note": "b"}})
        {'G': {'status': 'wrong', 'note': 'a; b'}}
    """
    merged: dict[Any, dict[str, str]] = {}
    for marks in mark_sets:
        for target, mark in marks.items():
            _put_mark(merged, target, mark["status"], mark["note"])
    return merged


# --------------------------------------------------------------------------- entry points


def _is_claim_source(value: Any) -> bool:
    return hasattr(value, "lineno") and hasattr(value, "value") and type(value) is not Var


def check(subject: Any, claims: Mapping[Any, Any] | None = None, *, rtol: float = 1e-6,
          atol: float = 1e-9, accept_rounded: bool = True) -> CheckReport:
    """Grade hand-derived derivatives against a trace.

    ``subject`` is a :class:`~tracegraph.Trace`, or what
    :func:`tracegraph.script.load_script` returned (its claims are graded,
    plus any given here).  ``claims`` maps ``"dS/dG"``, ``"dS_dG"`` or
    ``("S", "G")`` to the claimed value: a number, an array shaped like the
    node it is taken with respect to (or like the full Jacobian), or a traced
    value.

    A claim is ``exact`` when it equals the true derivative up to rounding,
    ``close`` within ``atol + rtol·|true|`` - or, with ``accept_rounded``,
    when a number written with 3 or more significant digits is the true value
    rounded or truncated to those digits - and ``wrong`` otherwise.

    Example:
        >>> import tracegraph as tg
        >>> def neuron(w, x):
        ...     G = tg.name(w * x, "G")
        ...     S = tg.name(tg.sigmoid(G), "S")
        ...     return tg.name((1.0 - S) ** 2, "Loss")
        >>> t = tg.trace(neuron, w=0.5, x=2.0)
        >>> r = check(t, {"dS_dG": 0.1966, "dG/dw": 2.0, ("Loss", "x"): 1.0}).results
        >>> [(c.name, c.verdict) for c in r]
        [('dS_dG', 'close'), ('dG/dw', 'exact'), ('dLoss/dx', 'wrong')]
    """
    trace, items, source = _subject(subject, claims)
    grader = _Grader(trace, rtol, atol, accept_rounded)
    results = [grader.grade(name, key, value, lineno) for name, key, value, lineno in items]
    analyst = _ChainAnalyst(grader, results)
    results = [_with_chain(result, analyst) for result in results]
    return CheckReport(results, grader.graph, source)


def check_script(script: Any, *, rtol: float = 1e-6, atol: float = 1e-9,
                 accept_rounded: bool = True) -> CheckReport:
    """Grade the claims of a loaded expression file (:func:`tracegraph.script.load_script`).

    Every assignment ``dY_dX = ...`` in the file is a claim of dY/dX; the
    results carry the line numbers and appear in file order.

    Example:
        >>> import pathlib, tempfile
        >>> from tracegraph.script import load_script
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "square.py"
        >>> _ = path.write_text("x = 3.0\\ny = x * x\\ndy_dx = 2 * x\\n")
        >>> report = check_script(load_script(path))
        >>> report.results[0].where, report.results[0].verdict
        ('dy_dx (line 3)', 'exact')
    """
    return check(script, rtol=rtol, atol=atol, accept_rounded=accept_rounded)


def _subject(subject: Any, claims: Mapping[Any, Any] | None
             ) -> tuple[Trace, list[tuple[str, Any, Any, int | None]], str | None]:
    items: list[tuple[str, Any, Any, int | None]] = []
    source = None
    trace = subject
    if hasattr(subject, "trace") and hasattr(subject, "claims"):
        trace = subject.trace
        source = _display_path(getattr(subject, "path", None))
        for name, claim in sorted(subject.claims.items(), key=lambda kv: kv[1].lineno):
            items.append((name, name, claim.value, claim.lineno))
    if not hasattr(trace, "tape") or not hasattr(trace, "graph"):
        raise TypeError(f"check() needs a Trace or a loaded script, got {type(subject).__name__}")
    for key, value in (claims or {}).items():
        name = key if isinstance(key, str) else f"d{key[0]}/d{key[1]}" if isinstance(
            key, tuple) and len(key) == 2 else repr(key)
        if _is_claim_source(value):
            items.append((name, key, value.value, value.lineno))
        else:
            items.append((name, key, value, None))
    return trace, items, source


def _display_path(path: Any) -> str | None:
    """The file as the user typed it; outside the working directory just its name,
    so reports carry no absolute paths."""
    if path is None:
        return None
    shown = display_path(path)
    return os.path.basename(shown) if os.path.isabs(shown) else shown


def _with_chain(result: ClaimResult, analyst: _ChainAnalyst) -> ClaimResult:
    if result.verdict != "wrong":
        return result
    chain = analyst.analyse(result)
    if chain is None:
        return result
    return dataclasses.replace(result, chain=chain)


# =========================================================================== numeric


_DEFAULT_STEP = _EPS ** (1.0 / 3.0)  # balances truncation (h²) against rounding (eps/h)


@dataclass(frozen=True)
class NumericResult:
    """One finite-difference comparison.

    ``kind`` is ``"gradient"`` (an element of an input's gradient: ``node``
    is the input, ``index`` the element) or ``"local"`` (an edge's local
    derivative ``∂node/∂wrt``; for arrays it is projected on random
    directions, so ``analytic`` and ``numeric`` are uᵀ·J·v).  ``verdict`` is
    ``"ok"``, ``"wrong"`` or ``"not differentiable here"``.  ``node`` and
    ``wrt`` are graph ids; ``labels`` the (child, parent) labels for display.

    Example:
        >>> NumericResult("gradient", "w", None, None, (1,), 0.5, 0.5, 0.0, 0.0, "ok").where
        'w[1]'
    """

    kind: str
    node: str
    wrt: str | None
    key: int | None
    index: tuple[int, ...] | None
    analytic: float
    numeric: float
    abs_diff: float
    rel_diff: float
    verdict: str
    note: str = ""
    labels: tuple[str, str] | None = None

    @property
    def where(self) -> str:
        """``w1``, ``W[0, 2]`` or ``∂S/∂G`` (with the nodes' labels)."""
        if self.kind == "local":
            child, parent = self.labels or (self.node, self.wrt)
            return f"∂{child}/∂{parent}"
        if self.index:
            return f"{self.node}[{', '.join(map(str, self.index))}]"
        return self.node

    @property
    def status(self) -> str:
        """The diagram mark status."""
        return {"ok": "correct", "wrong": "wrong"}.get(self.verdict, "nondiff")


class NumericReport:
    """Gradients and local derivatives compared with central finite differences.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> report = numeric_check(tg.trace(lambda x: np.sum(np.tanh(x)), x=np.ones(3)))
        >>> report.ok, len(report.results), report.exit_code
        (True, 3, 0)
    """

    def __init__(self, results: Sequence[NumericResult], step: float,
                 notes: Sequence[str] = ()) -> None:
        self.results = tuple(results)
        self.step = step
        self.notes = tuple(notes)

    def __repr__(self) -> str:
        return f"<NumericReport {self.summary()}>"

    @property
    def wrong(self) -> tuple[NumericResult, ...]:
        """The comparisons that disagree (away from any non-differentiable point)."""
        return tuple(r for r in self.results if r.verdict == "wrong")

    @property
    def nondifferentiable(self) -> tuple[NumericResult, ...]:
        """The comparisons made at (or across) a non-differentiable point."""
        return tuple(r for r in self.results if r.verdict == "not differentiable here")

    @property
    def ok(self) -> bool:
        """True when nothing disagrees (non-differentiable points do not count)."""
        return not self.wrong

    @property
    def exit_code(self) -> int:
        """0 when ok, 1 when a derivative disagrees with finite differences."""
        return EXIT_OK if self.ok else EXIT_FAILED

    def worst(self, count: int = 10) -> list[NumericResult]:
        """The worst offenders: disagreements by relative difference, then kinks."""
        ranked = sorted(self.wrong, key=lambda r: (-r.rel_diff, -r.abs_diff)) + list(
            self.nondifferentiable)
        return ranked[:count]

    def summary(self) -> str:
        """``7 gradient elements and 11 local derivatives: 17 ok, 1 wrong (worst: ∂y/∂z)``."""
        gradients = sum(r.kind == "gradient" for r in self.results)
        checked = f"{gradients:,} gradient element{'s' if gradients != 1 else ''}"
        local = len(self.results) - gradients
        if local:
            checked += f" and {local:,} local derivative{'s' if local != 1 else ''}"
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.verdict] = counts.get(result.verdict, 0) + 1
        text = f"{checked}: " + (", ".join(f"{n:,} {verdict}" for verdict, n in counts.items())
                                 or "nothing to check")
        if self.wrong:
            text += f" (worst: {self.worst(1)[0].where})"
        return text

    def rows(self) -> list[dict[str, str]]:
        """One row per input (its worst element) and per edge that is not ok."""
        rows = []
        for result in self._per_subject():
            rows.append({
                "check": "gradient" if result.kind == "gradient" else "local",
                "where": result.where,
                "verdict": result.verdict,
                "analytic": format_number(result.analytic, 6),
                "numeric": format_number(result.numeric, 6),
                "rel_diff": format_number(result.rel_diff, 2),
                "note": result.note,
            })
        return rows

    def _per_subject(self) -> list[NumericResult]:
        """The worst result per input, then every edge result that is not ok."""
        worst: dict[str, NumericResult] = {}
        for result in self.results:
            if result.kind != "gradient":
                continue
            current = worst.get(result.node)
            if current is None or _severity(result) > _severity(current):
                worst[result.node] = result
        edges = [r for r in self.results if r.kind == "local" and r.verdict != "ok"]
        return list(worst.values()) + edges

    def marks(self) -> dict[Any, dict[str, str]]:
        """Diagram marks for the inputs and edges that disagree or sit on a kink."""
        marks: dict[Any, dict[str, str]] = {}
        for result in self.results:
            if result.verdict == "ok":
                continue
            target = (result.wrt, result.node, result.key) if result.kind == "local" else (
                result.node)
            if result.kind == "local" and result.key is None:
                continue
            note = (f"{result.where}: engine {format_number(result.analytic)}, finite "
                    f"differences {format_number(result.numeric)}")
            _put_mark(marks, target, result.status, note)
        return marks

    def __str__(self) -> str:
        lines = [f"finite differences (central, relative step {format_number(self.step, 3)})",
                 _format_table(self.rows(), _NUMERIC_COLUMNS), self.summary()]
        lines.extend(self.notes)
        return "\n".join(lines)


_NUMERIC_COLUMNS = (("check", "check"), ("where", "where"), ("verdict", "verdict"),
                    ("analytic", "engine"), ("numeric", "finite diff"),
                    ("rel_diff", "rel diff"), ("note", "note"))


def _severity(result: NumericResult) -> tuple[int, float]:
    rank = {"ok": 0, "not differentiable here": 1, "wrong": 2}[result.verdict]
    return rank, result.rel_diff


_SHIFTS = (-2, -1, 1, 2)


@dataclass(frozen=True)
class _Probe:
    """A function around a point: f(x + k·h) for k = −2, −1, 0, 1, 2, and the node
    whose non-differentiable point the ±h steps (``kink``) or the ±2h steps
    (``far_kink``) crossed."""

    values: dict[int, float]
    step: float
    kink: str | None
    far_kink: str | None

    def central(self, scale: int = 1) -> float:
        return (self.values[scale] - self.values[-scale]) / (2.0 * scale * self.step)

    def one_sided(self) -> tuple[float, float]:
        return ((self.values[1] - self.values[0]) / self.step,
                (self.values[0] - self.values[-1]) / self.step)

    def truncation(self) -> float:
        """Richardson's estimate of the error of the central difference: |D(h) − D(2h)|/3.

        Large only where the function curves sharply on the scale of the step
        (sqrt near 0); a wrong rule does not change it.
        """
        if self.far_kink is not None:
            return 0.0
        error = abs(self.central(1) - self.central(2)) / 3.0
        return error if math.isfinite(error) else 0.0


def _probe(evaluate: Callable[[int], tuple[float, str | None]], centre: float,
           step: float) -> _Probe:
    """Evaluate ``f(x + k·h)`` (with the kink crossed, if any) at every shift."""
    values, kinks = {0: centre}, {}
    for shift in _SHIFTS:
        values[shift], kinks[shift] = evaluate(shift)
    near = kinks[-1] or kinks[1]
    return _Probe(values, step, near, near or kinks[-2] or kinks[2])


def _classify(analytic: float, probe: _Probe, rtol: float, atol: float
              ) -> tuple[str, float, float, str]:
    """Verdict, numeric value, abs diff, and a note."""
    numeric = probe.central()
    if not (math.isfinite(probe.values[-1]) and math.isfinite(probe.values[1])):
        return ("not differentiable here", numeric, math.nan,
                "finite differences gave NaN/inf (the step leaves the function's domain?)")
    abs_diff = abs(analytic - numeric) if math.isfinite(analytic) else math.inf
    rounding = 16.0 * _EPS * max(abs(v) for v in probe.values.values() if math.isfinite(v)) / (
        probe.step)
    tolerance = (atol + rtol * max(abs(analytic), abs(numeric)) + rounding
                 + 2.0 * probe.truncation())
    agrees = abs_diff <= tolerance
    if probe.kink is not None:
        forward, backward = probe.one_sided()
        jump = abs(forward - backward) > 0.1 * max(abs(forward), abs(backward)) + tolerance
        if jump or not agrees:
            return ("not differentiable here", numeric, abs_diff,
                    f"the step crosses a point where {probe.kink!r} is not differentiable "
                    f"(one-sided slopes {format_number(forward)} and {format_number(backward)})")
    return ("ok" if agrees else "wrong"), numeric, abs_diff, ""


def _relative(abs_diff: float, analytic: float, numeric: float) -> float:
    scale = max(abs(analytic), abs(numeric))
    if abs_diff == 0.0:
        return 0.0
    return abs_diff / scale if scale > 0 else math.inf


class _Replay:
    """Recompute a trace's recorded operations on perturbed input values."""

    def __init__(self, trace: Trace, seed: Any) -> None:
        self.nodes = trace.tape.equations
        self.output = trace.tape.output
        self.seed = seed
        self.relevant = trace.tape.ancestors(self.output)
        self.trace = trace
        self._kink_distance: dict[int, float] = {}

    # The graph only names nodes (edges, kinks): gradient checks of inputs do not need it.
    @functools.cached_property
    def graph(self) -> nx.MultiDiGraph:
        return self.trace.graph

    @functools.cached_property
    def ids(self) -> dict[int, str]:
        return {data["index"]: node for node, data in self.graph.nodes(data=True)
                if data["index"] is not None}

    def edge_key(self, node: Var, position: int) -> int | None:
        """The graph key of the edge into ``node`` from its input ``position``.

        Keys are argument positions, except where partial sums were folded
        into an n-ary ``+`` node; there the one edge between the two nodes is it.
        """
        child = self.ids[node.index]
        edges = self.graph.get_edge_data(self.ids[node.inputs[position].index], child) or {}
        if self.graph.in_degree(child) == len(node.inputs) and position in edges:
            return position
        return next(iter(edges)) if len(edges) == 1 else None

    def weighted(self, value: Any) -> float:
        if self.seed is None:
            return float(np.asarray(value, dtype=float).reshape(()))
        return float(np.sum(self.seed * np.asarray(value, dtype=float)))

    def downstream(self, leaf: int) -> list[int]:
        """Relevant op nodes that depend on ``leaf``, in tape order."""
        reached = {leaf}
        order = []
        for index in self.relevant:
            node = self.nodes[index]
            if node.primitive is not None and any(
                    type(x) is Var and x.index in reached for x in node.inputs):
                reached.add(index)
                order.append(index)
        return order

    def run(self, leaf: int, value: Any, downstream: Sequence[int]) -> tuple[float, str | None]:
        """The weighted output with ``leaf`` set to ``value``, and a kink crossed, if any."""
        values = {leaf: value}
        kink = None
        with np.errstate(all="ignore"):
            for index in downstream:
                node = self.nodes[index]
                args = [values.get(x.index, x.value) if type(x) is Var else x
                        for x in node.inputs]
                if kink is None and node.primitive.kink is not None:
                    kink = self._crossed_kink(index, node, args)
                values[index] = node.primitive.impl(*args, **(node.params or {}))
        if self.output == leaf:
            return self.weighted(value), None
        return self.weighted(values[self.output]), kink

    def _crossed_kink(self, index: int, node: Var, args: list[Any]) -> str | None:
        moved = max((_max_abs_change(new, x.value) for new, x in zip(args, node.inputs)
                     if type(x) is Var), default=0.0)
        if moved == 0.0:
            return None
        if index not in self._kink_distance:
            original = autodiff.input_values(node)
            self._kink_distance[index] = float(node.primitive.kink(*original,
                                                               **(node.params or {})))
        if self._kink_distance[index] <= moved:
            return self.ids.get(index, node.label)
        return None


def _max_abs_change(new: Any, old: Any) -> float:
    with np.errstate(all="ignore"):
        change = np.abs(np.asarray(new, dtype=float) - np.asarray(old, dtype=float))
    return float(np.max(change, initial=0.0)) if np.all(np.isfinite(change)) else math.inf


def numeric_check(trace: Trace, *, edges: bool = False, seed: Any = None,
                  step: float | None = None, rtol: float = 1e-5, atol: float = 1e-8,
                  max_elements: int = 1000) -> NumericReport:
    """Compare the engine's derivatives with central finite differences.

    Every element of every input's gradient d(output)/d(input) is compared
    with ``(f(x + h) − f(x − h)) / 2h``, where f is computed by replaying the
    trace's recorded operations (so no function is needed, and user
    primitives are checked through their ``impl``).  The step is
    ``h = step · max(1, |x|)`` with ``step`` = ∛eps ≈ 6e-6 by default, which
    balances truncation and rounding errors for float64; the tolerance
    ``atol + rtol·|value|`` is widened by the finite difference's own error
    (rounding noise, and truncation estimated from a second step 2h).  Inputs larger than
    ``max_elements`` are checked on a fixed sample of elements (always
    including the largest gradient).

    With ``edges=True`` every edge's local derivative (the VJP of its
    primitive) is also compared with finite differences of the primitive's
    ``impl`` alone - projected on fixed random directions for arrays - so a
    wrong rule is pinned to its edge.

    A comparison whose step crosses a point where some operation on the way
    is not differentiable (``abs`` at 0, ``relu`` at 0, ties in ``max``; read
    from each primitive's ``kink``) is reported as ``"not differentiable
    here"``, not as wrong.  For an array output pass ``seed`` (the output's
    shape): the check is then on d(seed·output)/d(input).

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda x, y: np.abs(x) * y, x=0.0, y=2.0)
        >>> report = numeric_check(t, edges=True)
        >>> [(r.where, r.verdict) for r in report.results]   # doctest: +NORMALIZE_WHITESPACE
        [('x', 'not differentiable here'), ('y', 'ok'),
         ('∂|x|/∂x', 'not differentiable here'), ('∂output/∂|x|', 'ok'), ('∂output/∂y', 'ok')]
    """
    output = trace.tape.output
    relative_step = _DEFAULT_STEP if step is None else float(step)
    if output is None:
        return NumericReport([], relative_step, ["the output is a constant: nothing to check"])
    seed = _output_seed(trace, seed)
    replay = _Replay(trace, seed)
    adjoints = autodiff.backward(replay.nodes, output, 1.0 if seed is None else seed)
    results: list[NumericResult] = []
    notes: list[str] = []
    for name, leaf in trace.tape.inputs.items():
        results.extend(_input_checks(replay, name, leaf, adjoints, relative_step, rtol, atol,
                                     max_elements, notes))
    if edges:
        results.extend(_edge_checks(replay, relative_step, rtol, atol))
    return NumericReport(results, relative_step, notes)


def _output_seed(trace: Trace, seed: Any) -> Any:
    shape = shape_of(trace.tape.equations[trace.tape.output].value)
    if seed is None:
        if shape:
            raise NotDifferentiatedError(
                f"the output has shape {shape}, so there is no single gradient to check",
                node=trace.output_name,
                hint=f"pass seed= with shape {shape} (np.ones({shape}) checks the gradient of "
                "the sum), or reduce the output to a scalar loss")
        return None
    if shape_of(seed) != shape:
        raise NotDifferentiatedError(
            f"seed has shape {shape_of(seed)} but the output has shape {shape}",
            node=trace.output_name, hint=f"pass a seed of shape {shape}")
    return np.asarray(seed, dtype=float) if shape else float(seed)


def _sample_elements(shape: tuple[int, ...], gradient: np.ndarray, limit: int
                     ) -> list[tuple[int, ...]]:
    size = math.prod(shape)
    if size <= limit:
        return list(np.ndindex(*shape)) if shape else [()]
    flat = np.random.default_rng(0).choice(size, size=limit - 1, replace=False).tolist()
    flat.append(int(np.argmax(np.abs(gradient))))
    return [tuple(int(i) for i in np.unravel_index(f, shape)) for f in sorted(set(flat))]


def _input_checks(replay: _Replay, name: str, leaf: int, adjoints: list[Any],
                  relative_step: float, rtol: float, atol: float, max_elements: int,
                  notes: list[str]) -> Iterator[NumericResult]:
    value = replay.nodes[leaf].value
    shape = shape_of(value)
    gradient = adjoints[leaf] if leaf < len(adjoints) and adjoints[leaf] is not None else 0.0
    gradient = np.broadcast_to(np.asarray(gradient, dtype=float), shape)
    downstream = replay.downstream(leaf)
    centre = replay.weighted(replay.nodes[replay.output].value)
    elements = _sample_elements(shape, gradient, max_elements)
    if len(elements) < math.prod(shape):
        notes.append(f"{name}: checked {len(elements):,} of {math.prod(shape):,} elements")
    base = np.asarray(value, dtype=float)
    for index in elements:
        h = relative_step * max(1.0, abs(float(base[index])))

        def evaluate(shift: int) -> tuple[float, str | None]:
            if not shape:
                return replay.run(leaf, float(value) + shift * h, downstream)
            moved = base.copy()
            moved[index] += shift * h
            return replay.run(leaf, moved, downstream)

        probe = _probe(evaluate, centre, h)
        analytic = float(gradient[index])
        verdict, numeric, abs_diff, note = _classify(analytic, probe, rtol, atol)
        yield NumericResult("gradient", name, None, None, index if shape else None, analytic,
                            numeric, abs_diff, _relative(abs_diff, analytic, numeric),
                            verdict, note)


def _edge_checks(replay: _Replay, relative_step: float, rtol: float, atol: float
                 ) -> Iterator[NumericResult]:
    for index in replay.relevant:
        node = replay.nodes[index]
        if node.primitive is None or index not in replay.ids:
            continue
        values = autodiff.input_values(node)
        for position, x in enumerate(node.inputs):
            if type(x) is not Var or x.index not in replay.ids:
                continue
            if node.primitive.vjp(position) is None:
                continue
            yield _edge_check(replay, node, position, values, replay.edge_key(node, position),
                              relative_step, rtol, atol)


def _edge_check(replay: _Replay, node: Var, position: int, values: list[Any], key: int | None,
                relative_step: float, rtol: float, atol: float) -> NumericResult:
    prim = node.primitive
    params = node.params or {}
    x = values[position]
    rng = np.random.default_rng([node.index, position])
    upstream = rng.normal(size=shape_of(node.value)) if shape_of(node.value) else 1.0
    direction = rng.normal(size=shape_of(x)) if shape_of(x) else 1.0
    # Each element moves in proportion to its own size, so small elements get small
    # steps; for a number this is the step of an input (direction 1).
    scale = max(1.0, float(np.max(np.abs(x), initial=0.0)))
    direction = direction * np.maximum(1.0, np.abs(x)) / scale
    contribution = autodiff.edge_contribution(node, position, upstream, values)
    analytic = float(np.sum(np.asarray(contribution, dtype=float) * direction))
    h = relative_step * scale
    distance = math.inf if prim.kink is None else prim.kink(*values, **params)
    reach = h * float(np.max(np.abs(direction), initial=0.0))

    def evaluate(shift: int) -> tuple[float, str | None]:
        args = list(values)
        args[position] = np.asarray(x, dtype=float) + shift * h * direction
        if not shape_of(x):
            args[position] = float(args[position])
        with np.errstate(all="ignore"):
            out = np.asarray(prim.impl(*args, **params), dtype=float)
        crossed = replay.ids[node.index] if distance <= abs(shift) * reach else None
        return float(np.sum(upstream * out)), crossed

    probe = _probe(evaluate, float(np.sum(upstream * np.asarray(node.value, dtype=float))), h)
    verdict, numeric, abs_diff, note = _classify(analytic, probe, rtol, atol)
    if shape_of(x) or shape_of(node.value):
        note = "; ".join(filter(None, [note, "projected on random directions uᵀ·J·v"]))
    child, parent = replay.ids[node.index], replay.ids[node.inputs[position].index]
    labels = (replay.graph.nodes[child]["label"], replay.graph.nodes[parent]["label"])
    return NumericResult("local", child, parent, key, None, analytic, numeric, abs_diff,
                         _relative(abs_diff, analytic, numeric), verdict, note, labels)


# --------------------------------------------------------------------------- user primitives


_DEFAULT_DOMAIN = (-2.0, 2.0)
_KINK_MARGIN = 1e-3
_SAMPLE_ATTEMPTS = 20


def numeric_check_primitive(primitive: Any, *, trials: int = 20, seed: int = 0,
                            shapes: Sequence[tuple[int, ...]] = ((), (3,), (2, 3)),
                            rtol: float = 1e-5, atol: float = 1e-8) -> NumericReport:
    """Check a primitive's derivative rule against finite differences, like a built-in.

    ``primitive`` is a :class:`~tracegraph.core.Primitive`, a function made
    by :func:`tracegraph.primitive`, or a registered name.  Each trial draws
    inputs from the primitive's ``sample(rng)`` or, without one, uniformly
    from its ``domain`` (default ``(-2, 2)``) with each shape in ``shapes``
    in turn, skips points within 1e-3 of a kink, traces one call and runs
    :func:`numeric_check` on it with a random output weighting.  Results are
    named ``trial <k>: <argument>``.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> @tg.primitive(grads={"x": (lambda g, out, x: g * 2 * x, "2·{x}")},
        ...               name="doc_square_rule")
        ... def square(x):
        ...     return x * x
        >>> numeric_check_primitive(square, trials=3).ok
        True
        >>> tg.unregister("doc_square_rule")
    """
    from .trace import Tracer

    prim = _as_primitive(primitive)
    rng = np.random.default_rng(seed)
    results: list[NumericResult] = []
    skipped = 0
    for trial in range(trials):
        case = _trial_case(prim, rng, shapes[trial % len(shapes)] if shapes else ())
        if case is None:
            skipped += 1
            continue
        args, params = case
        tracer = Tracer()
        with tracer:
            names = _argument_names(prim, len(args))
            traced = [tracer.input(name, arg) for name, arg in zip(names, args)]
            trace = tracer.finish(apply(prim, *traced, **params), name=prim.name)
        out_shape = shape_of(trace.value)
        weights = rng.normal(size=out_shape) if out_shape else None
        report = numeric_check(trace, seed=weights, rtol=rtol, atol=atol)
        for result in report.results:
            results.append(dataclasses.replace(result, node=f"trial {trial}: {result.node}"))
    notes = [f"{prim.name}: {trials - skipped} trials"]
    if skipped:
        notes.append(f"{skipped} trials skipped: no sample away from a kink")
    if not results:
        raise TracegraphError(
            f"primitive {prim.name!r}: no trial had a differentiable float input to check",
            hint="give it sample=... returning float arrays for the differentiated arguments")
    return NumericReport(results, _DEFAULT_STEP, notes)


def _as_primitive(primitive: Any) -> Primitive:
    if isinstance(primitive, Primitive):
        return primitive
    attached = getattr(primitive, "primitive", None)
    if isinstance(attached, Primitive):
        return attached
    if isinstance(primitive, str):
        if primitive in REGISTRY:
            return REGISTRY[primitive]
        close = difflib.get_close_matches(primitive, list(REGISTRY), n=3)
        raise TracegraphError(f"no primitive named {primitive!r}",
                              hint=f"did you mean {', '.join(close)}?" if close else
                              "`tracegraph rules` lists the registered primitives")
    raise TypeError(f"expected a primitive, a function made by tracegraph.primitive, or a "
                    f"registered name; got {primitive!r}")


def _argument_names(prim: Primitive, count: int) -> list[str]:
    if prim.variadic:
        return [f"{prim.argnames[0]}{k}" for k in range(count)]
    return list(prim.argnames)


def _trial_case(prim: Primitive, rng: np.random.Generator, shape: tuple[int, ...]
                ) -> tuple[tuple, dict] | None:
    """Arguments for one trial, away from kinks, or ``None`` if none were found."""
    for _ in range(_SAMPLE_ATTEMPTS):
        if prim.sample is not None:
            args, params = prim.sample(rng)
        else:
            args, params = tuple(_uniform(prim, name, shape, rng) for name in prim.argnames), {}
        if prim.kink is None or prim.kink(*args, **params) > _KINK_MARGIN:
            _evaluate(prim, args, params)
            return tuple(args), dict(params)
    return None


def _uniform(prim: Primitive, name: str, shape: tuple[int, ...],
             rng: np.random.Generator) -> Any:
    low, high = prim.domain.get(name, _DEFAULT_DOMAIN)
    if not shape:
        return float(rng.uniform(low, high))
    return rng.uniform(low, high, size=shape)


def _evaluate(prim: Primitive, args: tuple, params: dict) -> None:
    try:
        prim.impl(*args, **params)
    except Exception as err:  # noqa: BLE001 - any failure of user code is explained
        shapes = ", ".join(str(shape_of(a)) for a in args)
        raise TracegraphError(
            f"primitive {prim.name!r} failed on generated inputs of shapes {shapes}: "
            f"{type(err).__name__}: {err}",
            hint="give the primitive sample=lambda rng: (args, params) with valid inputs, or "
            "pass shapes=[()] if it only works on numbers") from err
