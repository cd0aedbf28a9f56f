"""Grading claims: is a hand-derived derivative right?

A claim (``dS/dG = S·(1 − S)``) is resolved to two nodes of the trace,
compared with the true derivative read off the record by reverse passes
(:func:`tracegraph.autodiff.derivative`: the total derivative through every
path, other inputs held fixed) and given a verdict; a wrong end-to-end claim
is then explained along the chain rule (:mod:`.chain`).

Example:
    >>> import tracegraph as tg
    >>> t = tg.trace(lambda x: tg.name(x * x, "y"), x=3.0)
    >>> [(r.name, r.verdict) for r in check(t, {"dy_dx": 6.0, "dx/dy": 1.0}).results]
    [('dy_dx', 'exact'), ('dx/dy', 'no path')]
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from .. import autodiff
from ..core import Var, shape_of
from ..errors import display_path
from ..numbers import format_number, value_summary
from ..verdicts import (
    CLOSE,
    EXACT,
    NO_PATH,
    NOT_A_NUMBER,
    NOT_DIFFERENTIABLE,
    SHAPE_MISMATCH,
    UNKNOWN_NAME,
    WRONG,
)
from .chain import ChainAnalyst
from .report import CheckReport
from .results import ClaimResult
from .subject import Traced, edge_formula, node_ids

_EPS = float(np.finfo(float).eps)
_EXACT_ULPS = 4
_MIN_ROUNDED_DIGITS = 3
_MAX_ROUNDED_DIGITS = 12
_MAX_JACOBIAN_ROWS = 4096


# --------------------------------------------------------------------------- names


def claim_pairs(key: Any) -> list[tuple[str, str]]:
    """Every (of, wrt) reading of a claim key: ``"dS/dG"``, ``"dS_dG"`` or ``("S", "G")``.

    Underscores make ``d<of>_d<wrt>`` ambiguous (``dx_dy_dz``), so every
    split is returned; the caller keeps those naming real nodes.

    Example:
        >>> claim_pairs("dx_dy_dz")
        [('x', 'y_dz'), ('x_dy', 'z')]
        >>> claim_pairs("∂S/∂G"), claim_pairs(("S", "G"))
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
    pairs = claim_pairs(key)
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


def _significant_digits(value: float) -> int:
    """How many significant digits the shortest repr of ``value`` has (``0.2445`` → 4)."""
    mantissa = repr(abs(value)).split("e")[0].replace(".", "")
    return len(mantissa.strip("0"))


def agrees_to_written_digits(claimed: float, expected: float) -> bool:
    """True when a short decimal claim (``0.2445``) is the true value rounded or truncated.

    Hand-computed numbers are written with a few digits; a claim with at
    least three significant digits that is within one unit of its last digit
    is right to the precision it was written with.

    Example:
        >>> agrees_to_written_digits(0.2445, 0.244458), agrees_to_written_digits(0.2, 0.24)
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
            if not close[index] and not agrees_to_written_digits(float(c[index]),
                                                                 float(e[index])):
                break
        else:
            close = np.ones(e.shape, dtype=bool)
            rounded_digits = min(_significant_digits(float(v)) for v in np.unique(c))
    verdict = EXACT if exact.all() else CLOSE if close.all() else WRONG
    worst = None
    if e.ndim:
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(badness)), e.shape))
    return _Comparison(verdict, float(diff.max(initial=0.0)), float(rel.max(initial=0.0)),
                       worst, rounded_digits)


# --------------------------------------------------------------------------- true derivatives


class _ShapeProblem(Exception):
    """The claim's shape cannot be a derivative of ``of`` with respect to ``wrt``."""


class Derivatives:
    """True derivatives between nodes of one record, by reverse passes over it.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: x * x * x, x=2.0)
        >>> Derivatives(t.tape).scalar(t.tape.output, 0)
        12.0
    """

    def __init__(self, tape: Any) -> None:
        self.nodes = tape.equations
        # One unit-seed pass per `of` serves every claim d of/d anything.
        self._unit_adjoints: dict[int, list[Any]] = {}

    def scalar(self, of: int, wrt: int) -> Any:
        """d of / d wrt for a scalar ``of``, shaped like ``wrt`` (a float for a scalar)."""
        adjoint = None
        if wrt <= of:
            if of not in self._unit_adjoints:
                self._unit_adjoints[of] = autodiff.backward(self.nodes, of, 1.0)
            adjoint = self._unit_adjoints[of][wrt]
        return self._plain(autodiff.as_derivative(adjoint, self.nodes[wrt].value), wrt)

    def seeded(self, of: int, wrt: int, seed: np.ndarray) -> Any:
        """d(seed·of)/d wrt, shaped like ``wrt``."""
        return self._plain(autodiff.derivative(self.nodes, of, wrt, seed), wrt)

    def _plain(self, derivative: Any, wrt: int) -> Any:
        # Claims are graded in plain floats, whatever the node's own type (np.float64 ...).
        if not shape_of(self.nodes[wrt].value):
            return float(np.asarray(derivative).reshape(()))
        return np.asarray(derivative, dtype=float)

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
            return self.scalar(of, wrt), "gradient"
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
            jacobian[row] = self.seeded(of, wrt, seed)
        return jacobian

    def diagonal(self, of: int, wrt: int, names: tuple[str, str]) -> np.ndarray:
        """dof[i]/dwrt[i] for an elementwise relation (diagonal Jacobian).

        One pass with a seed of ones gives the column sums; a second pass with
        a random seed v tells a diagonal Jacobian (J^T v = (J^T 1)·v) from a
        full one.
        """
        shape = shape_of(self.nodes[of].value)
        sums = self.seeded(of, wrt, np.ones(shape))
        probe = np.random.default_rng(0).uniform(0.5, 1.5, size=shape)
        mixed = self.seeded(of, wrt, probe)
        if not np.allclose(mixed, sums * probe, rtol=1e-9, atol=1e-12 * (1 + np.abs(sums).max())):
            raise _ShapeProblem(
                f"{names[0]} is not an elementwise function of {names[1]} (an element depends "
                f"on several elements of {names[1]}); claim the full Jacobian, shape "
                f"{shape + shape}")
        return sums


def _shape_words(shape: tuple[int, ...]) -> str:
    return "a number" if not shape else f"shape {shape}"


# --------------------------------------------------------------------------- grading


class Grader:
    """Grades claims against one trace; shares passes and lookups between them.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: tg.name(x * x, "y"), x=3.0)
        >>> Grader(t, 1e-6, 1e-9, True).grade("dy_dx", "dy_dx", 6.0, None).verdict
        'exact'
    """

    def __init__(self, trace: Traced, rtol: float, atol: float, accept_rounded: bool) -> None:
        self.tape = trace.tape
        self.graph = trace.graph
        self.nodes = self.tape.equations
        self.derivatives = Derivatives(self.tape)
        self.rtol, self.atol, self.accept_rounded = rtol, atol, accept_rounded
        self.ids = node_ids(self.graph)
        self._ancestors: dict[int, frozenset[int]] = {}

    def index(self, node: str) -> int | None:
        """The tape position of a graph node (``None`` for a constant)."""
        return self.graph.nodes[node]["index"]

    def influences(self, of: str, wrt: str) -> bool:
        """True when ``wrt`` lies on some path to ``of`` (read off the record)."""
        of_index = self.index(of)
        if of_index not in self._ancestors:  # one walk per `of` serves all its claims
            self._ancestors[of_index] = frozenset(self.tape.ancestors(of_index))
        return self.index(wrt) in self._ancestors[of_index]

    def formula(self, of: str, wrt: str) -> str | None:
        """The local derivative's formula when ``wrt`` feeds ``of`` directly."""
        return edge_formula(self.graph, of, wrt)

    def grade(self, name: str, key: Any, value: Any, lineno: int | None) -> ClaimResult:
        """The verdict on one claim ``key`` (``"dS/dG"``, ``("S", "G")``) of ``value``."""
        pair, problem = _resolve(key, self.graph)
        claimed = _claim_value(value)
        raw = value.value if type(value) is Var else value
        if pair is None:
            return ClaimResult(name, None, None, raw if claimed is None else claimed, None,
                               UNKNOWN_NAME, False, lineno=lineno, note=problem)
        of, wrt = pair
        indices = (self.index(of), self.index(wrt))
        base = dict(name=name, of=of, wrt=wrt, lineno=lineno, formula=self.formula(of, wrt))
        for node, index in zip(pair, indices):
            if index is None:
                return ClaimResult(**base, claimed=raw, expected=None, verdict=UNKNOWN_NAME,
                                   holds=False, note=f"{node!r} is a constant in this trace, so "
                                   "it has no derivative; make it an input to check this claim")
        of_index, wrt_index = indices
        order = (-wrt_index, of_index)
        if claimed is None:
            return ClaimResult(**base, claimed=raw, expected=None, verdict=NOT_A_NUMBER,
                               holds=False, order=order,
                               note=f"the claim is a {type(raw).__name__}, not a number or array")
        if not self.influences(of, wrt):
            return self._no_path(base, claimed, order)
        try:
            expected, form = self.derivatives.true_value(of_index, wrt_index, shape_of(claimed),
                                                         pair)
        except _ShapeProblem as problem:
            return ClaimResult(**base, claimed=claimed, expected=None, verdict=SHAPE_MISMATCH,
                               holds=False, order=order, note=str(problem))
        comparison = _compare(claimed, expected, self.rtol, self.atol, self.accept_rounded)
        verdict, note = comparison.verdict, self._note(comparison, form)
        if verdict == WRONG:
            kink = self._kink_between(wrt_index, of_index)
            if kink is not None:
                verdict = NOT_DIFFERENTIABLE
                note = (f"{kink!r} sits exactly at a point where it is not differentiable, so "
                        f"d{of}/d{wrt} is not defined here (tracegraph's convention gives "
                        f"{value_summary(expected)})")
        return ClaimResult(
            **base, claimed=claimed, expected=expected, verdict=verdict,
            holds=verdict != WRONG, max_abs_diff=comparison.max_abs_diff,
            max_rel_diff=comparison.max_rel_diff, worst_index=comparison.worst_index,
            note=note, form=form, order=order)

    def _no_path(self, base: dict, claimed: Any, order: tuple[int, int]) -> ClaimResult:
        zero = not np.any(np.asarray(claimed))
        of, wrt = base["of"], base["wrt"]
        note = f"{wrt} does not influence {of} (no path from {wrt} to {of}), so d{of}/d{wrt} = 0"
        if not zero:
            note += f", not {value_summary(claimed)}"
        return ClaimResult(**base, claimed=claimed, expected=0.0, verdict=NO_PATH, holds=zero,
                           max_abs_diff=float(np.max(np.abs(claimed))), order=order, note=note)

    def _note(self, comparison: _Comparison, form: str) -> str:
        parts = []
        if comparison.verdict == CLOSE and comparison.rounded_digits is not None:
            parts.append(f"agrees to the {comparison.rounded_digits} significant digits written")
        elif comparison.verdict != EXACT:
            parts.append(f"abs diff {format_number(comparison.max_abs_diff, 3)}, "
                         f"rel diff {format_number(comparison.max_rel_diff, 3)}")
        if comparison.worst_index is not None and comparison.verdict == WRONG:
            parts.append(f"worst element {list(comparison.worst_index)}")
        if form == "elementwise":
            parts.append("elementwise")
        return "; ".join(parts)

    def _kink_between(self, wrt: int, of: int) -> str | None:
        """A node on a path wrt → of evaluated exactly at a non-differentiable point.

        ``wrt`` itself is left out: its kink concerns its own inputs, which are
        not on the path.
        """
        for index in self.tape.between(wrt, of)[1:]:
            node = self.nodes[index]
            prim = node.primitive
            if prim is None or prim.kink is None:
                continue
            if prim.kink(*autodiff.input_values(node), **(node.params or {})) <= 0.0:
                return self.ids.get(index, node.label)
        return None


# --------------------------------------------------------------------------- entry points


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
    grader = Grader(trace, rtol, atol, accept_rounded)
    results = [grader.grade(name, key, value, lineno) for name, key, value, lineno in items]
    analyst = ChainAnalyst(grader, results)
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


def _is_claim_source(value: Any) -> bool:
    return hasattr(value, "lineno") and hasattr(value, "value") and type(value) is not Var


def _subject(subject: Any, claims: Mapping[Any, Any] | None
             ) -> tuple[Traced, list[tuple[str, Any, Any, int | None]], str | None]:
    # Duck-typed: a Trace has .tape and .graph; a loaded script has .trace and .claims.
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


def _with_chain(result: ClaimResult, analyst: ChainAnalyst) -> ClaimResult:
    if result.verdict != WRONG:
        return result
    chain = analyst.analyse(result)
    if chain is None:
        return result
    return dataclasses.replace(result, chain=chain)
